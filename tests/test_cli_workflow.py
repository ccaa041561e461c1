"""``desurv cv``, ``desurv validate`` and ``desurv report`` on small real subsets."""

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, require

from desurv import load_model
from desurv.cli import main
from desurv.datasets import load_cohort, pool_cohorts


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _cohort(name):
    return [
        "--expression",
        EXPR / f"{name}.expression.tsv.gz",
        "--clinical",
        EXPR / f"{name}.clinical.tsv",
    ]


@pytest.fixture(scope="module")
def cv_run(tmp_path_factory):
    require(EXPR)
    out = tmp_path_factory.mktemp("cli") / "cv"
    argv = [
        "cv",
        *_cohort("gse4335"),
        *_cohort("gse1992"),
        "--intersect-with",
        EXPR / "gse3143.expression.tsv.gz",
        "--genes",
        300,
        "--k",
        2,
        3,
        "--alpha",
        0,
        0.5,
        "--folds",
        3,
        "--seeds",
        1,
        "--max-iter",
        60,
        "--refit-n-init",
        2,
        "--warm-start",
        "descending",
        "--jobs",
        1,
        "--out",
        out,
        "-q",
    ]
    code = main([str(a) for a in argv])
    assert code == 0
    return out


def test_cv_writes_results_selection_model_and_figures(cv_run):
    for name in (
        "cv_results.csv",
        "cv_summary.csv",
        "selected.json",
        "model.npz",
        "risk_scores.csv",
        "top_genes.csv",
        "summary.csv",
        "metadata.json",
        "cv_heatmap.png",
        "cv_cindex_vs_alpha.png",
        "gene_programs.png",
    ):
        assert (cv_run / name).is_file(), name
    res = pd.read_csv(cv_run / "cv_results.csv")
    assert len(res) == 3 * 1 * 2 * 2  # folds x seeds x k x alpha
    # --warm-start descending: the largest alpha starts cold, the smaller ones warm
    assert not res[res["alpha"] == 0.5]["warm_start"].any()
    assert res[res["alpha"] == 0.0]["warm_start"].all()
    summary = pd.read_csv(cv_run / "cv_summary.csv")
    sel = json.loads((cv_run / "selected.json").read_text())
    chosen = summary[summary["selected"]]
    assert len(chosen) == 1 and sel["rule"] == "1se-k"  # the default of --rule
    assert int(chosen["n_components"].iloc[0]) == sel["best_params"]["n_components"]
    best = summary["mean_cindex"].max()
    se = summary.loc[summary["mean_cindex"].idxmax(), "se_cindex"]
    assert chosen["mean_cindex"].iloc[0] >= best - se - 1e-12
    # 1se-k: the chosen row is the best of its k (alpha by the maximum)
    same_k = summary[summary["n_components"] == chosen["n_components"].iloc[0]]
    assert chosen["mean_cindex"].iloc[0] == same_k["mean_cindex"].max()
    model = load_model(cv_run / "model.npz")
    assert model.n_components == sel["best_params"]["n_components"]
    assert model.preprocessor_ is not None
    # folds were stratified by cohort: both cohorts appear in every fold
    risk = pd.read_csv(cv_run / "risk_scores.csv")
    assert set(risk["cohort"]) == {"gse4335", "gse1992"} and len(risk) == 115 + 124
    folds = np.asarray(json.loads((cv_run / "cv_results.csv.json").read_text())["folds"])
    for f in range(3):
        assert set(risk["cohort"][folds == f]) == {"gse4335", "gse1992"}
    # the model genes are shared by the validation cohort (--intersect-with)
    X3, _, _ = load_cohort(EXPR / "gse3143.expression.tsv.gz", EXPR / "gse3143.clinical.tsv")
    assert set(model.feature_names_in_) <= set(X3.columns)


def test_validate_and_report(cv_run, tmp_path, capsys):
    out = tmp_path / "val"
    code, stdout, _ = _run(
        [
            "validate",
            "--model",
            cv_run,
            *_cohort("gse3143"),
            *_cohort("gse1992"),
            "--cutpoint",
            "median",
            "--score-based",
            30,
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, stdout
    summary = pd.read_csv(out / "validation_summary.csv")
    assert list(summary["cohort"]) == ["gse3143", "gse1992", "pooled"]
    assert list(summary["n_events"]) == [50, 35, 85]
    # the C-index written equals the model applied by hand
    model = load_model(cv_run / "model.npz")
    X3, y3, _ = load_cohort(EXPR / "gse3143.expression.tsv.gz", EXPR / "gse3143.clinical.tsv")
    from desurv import concordance_index

    eta = model.predict(model.preprocessor_.transform(X3))
    c = concordance_index(y3["time"], y3["event"], eta)
    assert summary["cindex"].iloc[0] == pytest.approx(c, abs=1e-12)
    # the cut point is the median of the training linear predictor
    train = pd.read_csv(cv_run / "risk_scores.csv")
    cut = json.loads((out / "metadata.json").read_text())["risk_groups"]["cutpoint"]
    assert cut == pytest.approx(np.median(train["linear_predictor"]))
    risk = pd.read_csv(out / "risk_scores.csv")
    assert len(risk) == 158 + 124
    files = [
        "hazard_ratios.csv",
        "logrank.csv",
        "km_summary.csv",
        "km_curves.csv",
        "score_based_summary.csv",
        "km_gse3143.png",
        "km_gse1992.png",
        "forest.png",
    ]
    for name in files:
        assert (out / name).is_file(), name
    assert "gse3143" in stdout and "pooled" in stdout

    code, stdout, _ = _run(["report", out, "--title", "validation <run>"], capsys)
    assert code == 0
    html = (out / "report.html").read_text()

    class Collect(HTMLParser):
        imgs, tables = 0, 0

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                Collect.imgs += 1
                assert dict(attrs)["src"].startswith("data:image/png;base64,")
            if tag == "table":
                Collect.tables += 1

    Collect().feed(html)
    assert Collect.imgs >= 3 and Collect.tables >= 4
    assert "validation &lt;run&gt;" in html


def test_workflow_errors(cv_run, tmp_path, capsys):
    code, _, err = _run(
        [
            "cv",
            "--expression",
            EXPR / "gse4335.expression.tsv.gz",
            *_cohort("gse1992")[2:],
            "--clinical",
            EXPR / "gse4335.clinical.tsv",
            "--out",
            tmp_path / "x",
        ],
        capsys,
    )
    assert code == 2 and "1 --expression but 2 --clinical" in err
    code, _, err = _run(
        [
            "cv",
            *_cohort("gse4335"),
            "--genes",
            100,
            "--k",
            90,
            "--folds",
            3,
            "--out",
            tmp_path / "y",
            "-q",
        ],
        capsys,
    )
    assert code == 2 and "too large" in err
    code, _, err = _run(
        ["cv", *_cohort("gse4335"), "--alpha", 1.0, "--out", tmp_path / "z", "-q"], capsys
    )
    assert code == 2 and "alpha" in err
    code, _, err = _run(
        ["validate", "--model", tmp_path / "nope", *_cohort("gse3143"), "--out", tmp_path / "v"],
        capsys,
    )
    assert code == 2 and "no model" in err
    code, _, err = _run(["report", tmp_path / "missing"], capsys)
    assert code == 2 and "does not exist" in err


def test_pool_cohorts_intersects_genes_and_labels_samples():
    require(EXPR)
    a = load_cohort(EXPR / "gse4335.expression.tsv.gz", EXPR / "gse4335.clinical.tsv")[:2]
    b = load_cohort(EXPR / "gse1992.expression.tsv.gz", EXPR / "gse1992.clinical.tsv")[:2]
    X, y, groups, dropped = pool_cohorts({"a": a, "b": b})
    shared = a[0].columns.intersection(b[0].columns)
    assert list(X.columns) == list(shared)
    assert X.shape == (239, len(shared)) and len(y) == 239
    assert (groups == "a").sum() == 115 and dropped["a"] == a[0].shape[1] - len(shared)
    np.testing.assert_array_equal(X.iloc[:115].to_numpy(), a[0][shared].to_numpy())
    with pytest.raises(ValueError, match="share no gene"):
        pool_cohorts(
            {"a": a, "c": (a[0].set_axis([f"x{i}" for i in range(a[0].shape[1])], axis=1), a[1])}
        )


def test_cv_acceleration_reaches_the_folds_and_the_refit(tmp_path, capsys):
    require(EXPR)
    out = tmp_path / "cv_accel"
    argv = ["cv", *_cohort("gse4335"), "--genes", 200, "--k", 2, "--alpha", 0.5, "--folds", 3]
    argv += ["--seeds", 1, "--max-iter", 40, "--refit-n-init", 2, "--jobs", 1]
    code, _, err = _run([*argv, "--acceleration", "extrapolation", "--out", out, "-q"], capsys)
    assert code == 0, err
    assert load_model(out / "model.npz").acceleration == "extrapolation"
    with pytest.raises(SystemExit) as exc:  # argparse: usage error, exit code 2
        main([str(a) for a in [*argv, "--acceleration", "fast", "--out", tmp_path / "x"]])
    assert exc.value.code == 2 and "--acceleration" in capsys.readouterr().err
