"""End to end on the real cohorts: API and command line (fit gse4335, predict gse1992)."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, require

from desurv import ConvergenceWarning, DeSurv, concordance_index, load_model
from desurv.cli import main
from desurv.datasets import load_cohort
from desurv.preprocessing import Preprocessor


@pytest.fixture(scope="module")
def cohorts():
    require(EXPR)
    train = load_cohort(EXPR / "gse4335.expression.tsv.gz", EXPR / "gse4335.clinical.tsv")
    valid = load_cohort(EXPR / "gse1992.expression.tsv.gz", EXPR / "gse1992.clinical.tsv")
    return train, valid


def test_api_fit_gse4335_predict_gse1992(cohorts):
    (X, y, _), (X2, y2, _) = cohorts
    X = X.loc[:, X.columns.intersection(X2.columns)]
    pre = Preprocessor(transform="rank", n_genes=2000)
    Xt = pre.fit_transform(X)
    assert Xt.shape == (115, 2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DeSurv(n_components=3, alpha=0.5, n_init=5, max_iter=300, random_state=0)
        model.fit(Xt, y)
    c_train = model.score(Xt, y)
    X2t = pre.transform(X2)
    eta2 = model.predict(X2t)
    c_valid = concordance_index(y2["time"], y2["event"], eta2)
    print(f"\ngse4335 train C-index {c_train:.4f}; gse1992 validation C-index {c_valid:.4f}")
    assert 0.5 < c_train <= 1.0
    assert 0.0 <= c_valid <= 1.0 and np.isfinite(c_valid)
    assert np.all(np.isfinite(eta2)) and eta2.shape == (124,)


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_fit_and_predict(cohorts, tmp_path, capsys):
    out = tmp_path / "fit"
    code, stdout, _ = _run(
        [
            "fit",
            "--expression",
            EXPR / "gse4335.expression.tsv.gz",
            "--clinical",
            EXPR / "gse4335.clinical.tsv",
            "--intersect-with",
            EXPR / "gse1992.expression.tsv.gz",
            "--n-components",
            3,
            "--alpha",
            0.5,
            "--genes",
            2000,
            "--transform",
            "rank",
            "--n-init",
            3,
            "--max-iter",
            200,
            "--seed",
            1,
            "--quiet",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, stdout
    assert "training C-index" in stdout
    for name in (
        "gene_programs.tsv",
        "top_genes.tsv",
        "coefficients.tsv",
        "risk_scores.tsv",
        "loss_history.tsv",
        "summary.json",
        "model.npz",
    ):
        assert (out / name).is_file(), name
    W = pd.read_csv(out / "gene_programs.tsv", sep="\t", index_col=0)
    assert W.shape == (2000, 3)
    risk = pd.read_csv(out / "risk_scores.tsv", sep="\t")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cindex_train"] == pytest.approx(
        concordance_index(risk["time"], risk["event"], risk["linear_predictor"])
    )
    model = load_model(out / "model.npz")
    np.testing.assert_allclose(model.W_, W.to_numpy())
    assert model.preprocessor_ is not None

    out2 = tmp_path / "pred"
    code, stdout, _ = _run(
        [
            "predict",
            "--model",
            out,
            "--expression",
            EXPR / "gse1992.expression.tsv.gz",
            "--clinical",
            EXPR / "gse1992.clinical.tsv",
            "--out",
            out2,
        ],
        capsys,
    )
    assert code == 0
    pred = pd.read_csv(out2 / "risk_scores.tsv", sep="\t")
    c = json.loads((out2 / "summary.json").read_text())["cindex"]
    assert f"validation C-index: {c:.4f}" in stdout
    assert c == pytest.approx(
        concordance_index(pred["time"], pred["event"], pred["linear_predictor"])
    )
    # the same preprocessing + model through the API gives the same scores
    X2, _, _ = load_cohort(EXPR / "gse1992.expression.tsv.gz", EXPR / "gse1992.clinical.tsv")
    np.testing.assert_allclose(
        pred["linear_predictor"], model.predict(model.preprocessor_.transform(X2))
    )

    # predicting a cohort that lacks model genes is one clear error, exit 2, no output
    code, _, err = _run(
        [
            "predict",
            "--model",
            out,
            "--expression",
            EXPR / "gse3143.expression.tsv.gz",
            "--out",
            tmp_path / "p3",
        ],
        capsys,
    )
    assert code == 2 and err.count("\n") == 1 and err.startswith("desurv: error:")
    assert "missing" in err and not (tmp_path / "p3").exists()


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def tiny_files(tmp_path):
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(12)]
    samples = [f"S{j}" for j in range(8)]
    expr = pd.DataFrame(rng.uniform(1, 5, size=(12, 8)), index=genes, columns=samples)
    expr.index.name = "gene"
    e = tmp_path / "e.tsv"
    expr.to_csv(e, sep="\t")
    clin = pd.DataFrame(
        {"sample": samples, "time": rng.uniform(1, 10, 8), "event": [1, 0, 1, 1, 0, 1, 0, 1]}
    )
    c = tmp_path / "c.tsv"
    clin.to_csv(c, sep="\t", index=False)
    return e, c, expr, clin


@pytest.mark.parametrize(
    "case",
    ["no_events", "negative", "mismatch", "k_too_large", "missing_file", "nan", "bad_number"],
)
def test_cli_bad_input_one_line_exit_2(tiny_files, tmp_path, capsys, case):
    e, c, expr, clin = tiny_files
    args = {"--expression": e, "--clinical": c, "--n-components": 2}
    extra = ["--transform", "rank"]
    if case == "no_events":
        clin.assign(event=0).to_csv(c, sep="\t", index=False)
    elif case == "negative":
        (expr - 10).to_csv(e, sep="\t")
        extra = ["--transform", "none"]
    elif case == "mismatch":
        clin.iloc[:-1].to_csv(c, sep="\t", index=False)
    elif case == "k_too_large":
        args["--n-components"] = 50
    elif case == "missing_file":
        args["--expression"] = tmp_path / "nope.tsv"
    elif case == "nan":
        expr.iloc[0, 0] = np.nan
        expr.to_csv(e, sep="\t")
        extra = ["--transform", "none"]
    elif case == "bad_number":
        args["--n-components"] = "three"
    argv = [
        "fit",
        *[str(x) for kv in args.items() for x in kv],
        *extra,
        "--out",
        str(tmp_path / "out"),
        "-q",
    ]
    if case == "bad_number":
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        return
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err.startswith("desurv: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]
    assert leftovers == []


def test_cli_help_on_every_command(capsys):
    for cmd in ([], ["fit"], ["predict"], ["demo"]):
        with pytest.raises(SystemExit) as exc:
            main([*cmd, "--help"])
        assert exc.value.code == 0
        assert "usage: desurv" in capsys.readouterr().out


def test_cli_demo(capsys):
    code, stdout, _ = _run(["demo", "--quiet"], capsys)
    assert code == 0
    assert "scenario R0" in stdout and "split 70/30 stratified by event" in stdout
    assert "held-out C-index on the 60 test samples" in stdout
    table = stdout.split("held-out C-index")[1].splitlines()[2:]  # after the header line
    rows = {}
    for line in table:
        cells = re.split(r"\s{2,}", line.strip())  # model, test C, train C
        rows[cells[0]] = float(cells[1])
    names = {
        "DeSurv (alpha=0.5)",
        "NMF+Cox, MU (paper)",
        "NMF+Cox, converged CD",
        "NMF+Cox, CD, k=4",
        "true linear predictor",
    }
    assert set(rows) == names, stdout
    assert all(0.0 <= c <= 1.0 for c in rows.values()), rows
    assert rows["true linear predictor"] > 0.75, rows
    # the authors' R0 (with the gene baseline), seed 0: supervision helps on the held-out part,
    # against the paper's baseline and against a converged NMF with one factor more
    assert rows["DeSurv (alpha=0.5)"] > rows["NMF+Cox, MU (paper)"], rows
    assert rows["DeSurv (alpha=0.5)"] > rows["NMF+Cox, CD, k=4"], rows


def test_existing_output_folder_is_protected(tiny_files, tmp_path, capsys):
    e, c, _, _ = tiny_files
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    code, _, err = _run(
        [
            "fit",
            "--expression",
            e,
            "--clinical",
            c,
            "-k",
            2,
            "--out",
            out,
            "-q",
            "--n-init",
            1,
            "--max-iter",
            5,
        ],
        capsys,
    )
    assert code == 2 and "exists" in err
    assert (out / "keep.txt").exists()


def test_fit_balance_option_reaches_the_model(tiny_files, tmp_path, capsys):
    e, c, _, _ = tiny_files
    out = tmp_path / "fit_numerator"
    code, _, err = _run(
        [
            "fit",
            "--expression",
            e,
            "--clinical",
            c,
            "-k",
            2,
            "--n-init",
            2,
            "--max-iter",
            20,
            "--balance",
            "numerator",
            "--out",
            out,
            "--quiet",
        ],
        capsys,
    )
    assert code == 0, err
    from desurv import load_model

    assert load_model(out / "model.npz").balance == "numerator"
    with pytest.raises(SystemExit) as exc:  # argparse: usage error, exit code 2
        main(
            [
                "fit",
                "--expression",
                str(e),
                "--clinical",
                str(c),
                "--balance",
                "bogus",
                "--out",
                str(tmp_path / "x"),
            ]
        )
    assert exc.value.code == 2 and "--balance" in capsys.readouterr().err


def test_fit_acceleration_option_reaches_the_model(tiny_files, tmp_path, capsys):
    e, c, _, _ = tiny_files
    out = tmp_path / "fit_accel"
    argv = ["fit", "--expression", e, "--clinical", c, "-k", 2, "--n-init", 2]
    argv += ["--max-iter", 20, "--acceleration", "extrapolation", "--out", out, "--quiet"]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    from desurv import load_model

    assert load_model(out / "model.npz").acceleration == "extrapolation"
    bad = [str(a) for a in argv[:-5]] + ["--acceleration", "fast", "--out", str(tmp_path / "y")]
    with pytest.raises(SystemExit) as exc:
        main(bad)
    assert exc.value.code == 2 and "--acceleration" in capsys.readouterr().err
