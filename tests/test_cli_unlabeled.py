"""``desurv fit --unlabeled`` and ``desurv cv --unlabeled``: semi-supervised DeSurv from the
command line (METHODS.md §F.5).

Checked here: the fit is the API fit ``DeSurv(...).fit(Xt, y, X_unlabeled=Ut)`` on the
preprocessed data, bit for bit (the gene filter learned on the labelled samples, genes of the
unlabelled file matched by name, its extra genes not used and named in a note); the model
file, risk scores of the unlabelled samples and summary record them; ``cv --unlabeled`` gives
the results of :class:`desurv.model_selection.DeSurvCV` with ``X_unlabeled``; bad unlabelled
files (missing genes, unreadable, non-numeric, NaN, samples also labelled or given twice) are
one line ``desurv: error: ...`` with exit code 2.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import desurv.cli as cli
from desurv import ConvergenceWarning, DeSurv, load_model
from desurv.datasets import load_cohort
from desurv.model_selection import DeSurvCV
from desurv.preprocessing import Preprocessor

FAST = ["-k", "2", "--n-init", "1", "--max-iter", "5", "--genes", "10"]
N_GENES, N_LAB, N_UNL = 14, 12, 8


def _expression(path, values, genes, samples):
    frame = pd.DataFrame(values.T, index=pd.Index(genes, name="gene"), columns=samples)
    frame.to_csv(path, sep="\t")
    return path


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A labelled cohort (expression + clinical) and an unlabelled expression file."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(N_GENES)]
    # 12 decimals (13 significant digits): every reader gives the same doubles (pandas'
    # default parser, used by the reference below, is not correctly rounded beyond ~15)
    X = np.round(rng.uniform(1, 5, size=(N_LAB + N_UNL, N_GENES)), 12)
    lab = [f"S{j}" for j in range(N_LAB)]
    unl = [f"U{j}" for j in range(N_UNL)]
    e = _expression(tmp_path / "c.expression.tsv", X[:N_LAB], genes, lab)
    clin = pd.DataFrame(
        {"sample": lab, "time": np.round(rng.uniform(1, 10, N_LAB), 2), "event": [1, 0] * 6}
    )
    clin.to_csv(tmp_path / "c.clinical.tsv", sep="\t", index=False)
    u = _expression(tmp_path / "u.expression.tsv", X[N_LAB:], genes, unl)
    return {"e": e, "c": tmp_path / "c.clinical.tsv", "u": u, "X": X, "genes": genes, "unl": unl}


def _run(argv, capsys):
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _fit_argv(f, out, *extra):
    return ["fit", "--expression", f["e"], "--clinical", f["c"], *FAST, "--out", out, "-q", *extra]


def _assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    lines = err.splitlines()
    assert lines and lines[-1].startswith("desurv: error:"), err
    assert all(line.startswith(("desurv: warning:", "desurv: note:")) for line in lines[:-1]), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _api_fit(f, U=None):
    """What ``desurv fit`` does, through the API: filter on the labelled samples, then fit."""
    X, y, _ = load_cohort(f["e"], f["c"])
    pre = Preprocessor(transform="rank", n_genes=10)
    Xt = pre.fit_transform(X)
    Ut = None if U is None else pre.transform(U)
    model = DeSurv(n_components=2, alpha=0.5, n_init=1, max_iter=5, random_state=0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(Xt, y, X_unlabeled=Ut), Ut


def test_fit_with_unlabeled_is_the_api_fit(files, capsys):
    f = files
    code, out, err = _run(_fit_argv(f, "run", "--unlabeled", f["u"]), capsys)
    assert code == 0, err
    U = pd.DataFrame(f["X"][N_LAB:], index=pd.Index(f["unl"], name="sample"), columns=f["genes"])
    ref, Ut = _api_fit(f, U)
    model = load_model(Path("run") / "model.npz")
    for name in ("W_", "H_", "H_unlabeled_", "coef_", "mean_z_", "sd_z_"):
        assert_array_equal(getattr(model, name), getattr(ref, name), err_msg=name)
    assert (model.n_labeled_, model.n_unlabeled_) == (N_LAB, N_UNL)
    plain, _ = _api_fit(f)
    assert not np.array_equal(plain.W_, ref.W_)  # the unlabelled samples changed the fit
    risk = pd.read_csv(Path("run") / "risk_scores_unlabeled.tsv", sep="\t")
    assert list(risk["sample"]) == f["unl"]
    assert_allclose(risk["linear_predictor"], ref.predict(Ut), rtol=1e-14, atol=1e-15)  # text
    assert len(pd.read_csv(Path("run") / "risk_scores.tsv", sep="\t")) == N_LAB
    summary = json.loads((Path("run") / "summary.json").read_text())
    assert summary["n_unlabeled"] == N_UNL and summary["n_samples"] == N_LAB
    assert f"{N_UNL} unlabelled samples" in out


def test_fit_without_unlabeled_writes_what_it_wrote_before(files, capsys):
    f = files
    code, out, err = _run(_fit_argv(f, "run"), capsys)
    assert code == 0, err
    ref, _ = _api_fit(f)
    model = load_model(Path("run") / "model.npz")
    assert_array_equal(model.W_, ref.W_)
    assert model.n_unlabeled_ == 0
    assert not (Path("run") / "risk_scores_unlabeled.tsv").exists()
    assert "n_unlabeled" not in json.loads((Path("run") / "summary.json").read_text())
    assert "unlabelled" not in out


def test_unlabeled_genes_are_matched_by_name(files, capsys):
    """Another gene order and two extra genes: the same fit; the extra genes are named."""
    f = files
    genes = f["genes"][::-1] + ["EXTRA1", "EXTRA2"]
    rng = np.random.default_rng(5)
    values = np.hstack([f["X"][N_LAB:, ::-1], rng.uniform(1, 5, size=(N_UNL, 2))])
    u2 = _expression(Path("u2.tsv"), values, genes, f["unl"])
    code, _, err = _run(_fit_argv(f, "a", "--unlabeled", f["u"]), capsys)
    assert code == 0, err
    code, _, err = _run(_fit_argv(f, "b", "--unlabeled", u2), capsys)
    assert code == 0, err
    assert "desurv: note: 2 gene(s) of --unlabeled file u2.tsv are not in" in err
    a, b = load_model(Path("a") / "model.npz"), load_model(Path("b") / "model.npz")
    assert_array_equal(a.W_, b.W_)
    assert_array_equal(a.H_unlabeled_, b.H_unlabeled_)
    # two files: their samples one after the other (the same as one file with both)
    half = N_UNL // 2
    _expression(Path("p1.tsv"), f["X"][N_LAB : N_LAB + half], f["genes"], f["unl"][:half])
    _expression(Path("p2.tsv"), f["X"][N_LAB + half :], f["genes"], f["unl"][half:])
    code, _, err = _run(_fit_argv(f, "c", "--unlabeled", "p1.tsv", "--unlabeled", "p2.tsv"), capsys)
    assert code == 0, err
    assert_array_equal(load_model(Path("c") / "model.npz").W_, a.W_)


def test_bad_unlabeled_files_are_one_line_exit_2(files, capsys):
    f = files
    U = pd.read_csv(f["u"], sep="\t", index_col=0)
    U.iloc[2:].to_csv("fewer.tsv", sep="\t")  # lacks G0 and G1
    code, _, err = _run(_fit_argv(f, "o1", "--unlabeled", "fewer.tsv"), capsys)
    _assert_one_line_error(code, err, "lacks 2 of the 14 genes", "G0, G1", "--intersect-with")
    # ... which --intersect-with resolves
    code, _, err = _run(
        _fit_argv(f, "o2", "--unlabeled", "fewer.tsv", "--intersect-with", "fewer.tsv"), capsys
    )
    assert code == 0, err
    assert load_model(Path("o2") / "model.npz").n_features_in_ == 10
    for name, make, fragment in [
        ("missing.tsv", None, "no such file"),
        ("folder", lambda p: p.mkdir(), "directory"),
        ("text.tsv", lambda p: p.write_text("gene\tU0\nG0\tabc\n"), "non-numeric"),
        ("empty.tsv", lambda p: p.write_text(""), "empty"),
    ]:
        if make is not None:
            make(Path(name))
        code, _, err = _run(_fit_argv(f, "o3", "--unlabeled", name), capsys)
        _assert_one_line_error(code, err, "--unlabeled", name, fragment)
    nan = U.copy()
    nan.iloc[0, 0] = np.nan
    nan.to_csv("nan.tsv", sep="\t")
    code, _, err = _run(_fit_argv(f, "o4", "--unlabeled", "nan.tsv"), capsys)
    _assert_one_line_error(code, err, "--unlabeled", "NaN")
    labelled = pd.read_csv(f["e"], sep="\t", index_col=0)
    labelled.iloc[:, :2].to_csv("overlap.tsv", sep="\t")  # S0, S1 have follow-up
    code, _, err = _run(_fit_argv(f, "o5", "--unlabeled", "overlap.tsv"), capsys)
    _assert_one_line_error(code, err, "2 sample(s) of --unlabeled are also in", "S0, S1")
    code, _, err = _run(_fit_argv(f, "o6", "--unlabeled", f["u"], "--unlabeled", f["u"]), capsys)
    _assert_one_line_error(code, err, f"{N_UNL} sample(s) appear in more than one")
    assert not any(Path(f"o{i}").exists() for i in (1, 3, 4, 5, 6))


def test_cv_with_unlabeled_is_desurvcv_with_x_unlabeled(files, capsys):
    f = files
    argv = ["cv", "--expression", f["e"], "--clinical", f["c"], "--k", "2", "--alpha", "0",
            "0.5", "--folds", "2", "--seeds", "1", "--max-iter", "5", "--refit-n-init", "1",
            "--genes", "10", "--unlabeled", f["u"], "--out", "cvrun", "-q"]  # fmt: skip
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    X, y, _ = load_cohort(f["e"], f["c"])
    U = pd.read_csv(f["u"], sep="\t", index_col=0).T
    pre = Preprocessor(transform="rank", n_genes=10).fit(X)
    grid = {"n_components": [2], "alpha": [0.0, 0.5], "penalty": [0.1], "l1_ratio": [0.5],
            "penalty_w": [0.0], "penalty_h": [0.0]}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = DeSurvCV(grid, n_folds=2, n_seeds=1, max_iter=5, refit_n_init=1, random_state=0).fit(
            pre.transform(X), y, X_unlabeled=pre.transform(U)
        )
    got = pd.read_csv("cvrun/cv_results.csv")
    assert_array_equal(got["objective"], ref.cv_results_["objective"])
    assert_array_equal(got["cindex"], ref.cv_results_["cindex"])
    model = load_model(Path("cvrun") / "model.npz")
    assert_array_equal(model.W_, ref.best_estimator_.W_)
    assert model.n_unlabeled_ == N_UNL
    meta = json.loads(Path("cvrun/metadata.json").read_text())
    assert meta["n_unlabeled"] == N_UNL
    assert len(pd.read_csv("cvrun/risk_scores_unlabeled.csv")) == N_UNL
    # in-fold preprocessing: the unlabelled file reaches every fold's preprocessor
    code, _, err = _run([*argv[:-3], "--in-fold-preprocessing", "--out", "cv2", "-q"], capsys)
    assert code == 0, err
    assert load_model(Path("cv2") / "model.npz").n_unlabeled_ == N_UNL
    code, _, err = _run([*argv[:-3], "--unlabeled", "nope.tsv", "--out", "cv3", "-q"], capsys)
    _assert_one_line_error(code, err, "--unlabeled", "nope.tsv")
