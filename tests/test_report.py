"""desurv.reporting.html.write_report: every known file shows up, escaped, in one page."""

import base64
import html
import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from desurv import __version__
from desurv.exceptions import DataWarning
from desurv.reporting.html import write_report

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

EVIL = "<script>alert(1)</script>"


def _png_bytes(color="blue"):
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0], color=color)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def make_run(root):
    """A run directory with every known file (top level and one subfolder deep)."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    (root / "model").mkdir()
    (root / "validation").mkdir()
    json.dump(
        {"command_line": "desurv select --out run --seed 0", "seed": 0, "cohort": EVIL},
        open(root / "metadata.json", "w"),
    )
    json.dump({"n_components": 3, "alpha": 0.5, "rule": "1se"}, open(root / "selected.json", "w"))
    rows = []
    for k in (2, 3):
        for a in (0.0, 0.5):
            for lam in (0.01, 0.1):
                rows.append(
                    dict(
                        n_components=k,
                        alpha=a,
                        penalty=lam,
                        l1_ratio=0.5,
                        penalty_w=0.0,
                        penalty_h=0.0,
                        mean_cindex=rng.uniform(0.55, 0.7),
                        se_cindex=0.02,
                        n_folds=5,
                        selected=False,
                    )
                )
    cv = pd.DataFrame(rows)
    cv.loc[3, "selected"] = True
    cv.to_csv(root / "cv_summary.csv", index=False)
    fits = cv.drop(columns=["mean_cindex", "se_cindex", "selected"]).merge(
        pd.DataFrame({"fold": np.repeat(np.arange(5), 4), "seed": np.tile(np.arange(4), 5)}),
        how="cross",
    )
    fits["cindex"] = rng.uniform(0.4, 0.8, len(fits))
    fits.to_csv(root / "cv_results.csv", index=False)
    json.dump({"folds": list(range(200)), "n_folds": 5}, open(root / "cv_results.csv.json", "w"))

    k, p = 3, 40
    W = rng.gamma(1.0, 1.0, size=(p, k))
    pd.DataFrame(
        W, index=pd.Index([f"GENE{i}" for i in range(p)], name="gene"), columns=["f1", "f2", "f3"]
    ).to_csv(root / "model" / "gene_programs.tsv", sep="\t")
    it = np.arange(1, 31)
    pd.DataFrame(
        {"loss": 5 + 1 / it, "nmf_loss": 9 + 1 / it, "cox_loss": 2 + 1 / it},
        index=pd.Index(it, name="iteration"),
    ).to_csv(root / "model" / "loss_history.tsv", sep="\t")
    pd.DataFrame(
        {"factor": ["factor_1", "factor_2"], "coef": [0.3, -0.2], "exp(coef)": [1.35, 0.82]}
    ).to_csv(root / "model" / "summary.csv", index=False)
    pd.DataFrame({"factor_1": ["GENE1", "GENE2"], "factor_2": ["GENE5", "GENE6"]}).to_csv(
        root / "model" / "top_genes.csv", index=False
    )
    pd.DataFrame(
        {
            "cohort": ["gse1992", "gse1992"],
            "term": ["risk score", "factor 1"],
            "hr": [1.8, 0.7],
            "ci_lower": [1.3, 0.5],
            "ci_upper": [2.5, 0.95],
            "p": [0.0007, 0.02],
        }
    ).to_csv(root / "validation" / "hazard_ratios.csv", index=False)
    n = 40
    pd.DataFrame(
        {
            "sample": [f"s{i}" for i in range(n)],
            "linear_predictor": rng.normal(size=n),
            "time": rng.exponential(20, n).round(1) + 0.1,
            "event": rng.integers(0, 2, n),
            "group": np.where(np.arange(n) < 20, "high", "low"),
        }
    ).to_csv(root / "validation" / "risk_scores.csv", index=False)
    pd.DataFrame({"cohort": ["gse1992"], "statistic": [11.2], "p": [0.0008]}).to_csv(
        root / "validation" / "logrank.csv", index=False
    )
    pd.DataFrame({"group": ["high", "low"], "median_survival": [30.5, 80.2]}).to_csv(
        root / "validation" / "km_summary.csv", index=False
    )
    pd.DataFrame({"cohort": ["gse1992"], "cindex": [0.655]}).to_csv(
        root / "validation_summary.csv", index=False
    )
    pd.DataFrame({"method": ["DeSurv", "CoxNet"], "cindex": [0.655, 0.612]}).to_csv(
        root / "comparison.csv", index=False
    )
    pd.DataFrame({EVIL: np.arange(120)}).to_csv(root / "extra_<b>.csv", index=False)
    (root / "km_high_vs_low.png").write_bytes(_png_bytes())
    (root / "cv_heatmap.png").write_bytes(_png_bytes(color="red"))
    (root / "model" / "model.npz").write_bytes(b"not reported")
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    run = make_run(tmp_path_factory.mktemp("r") / "run1")
    out = write_report(run, max_rows=50)
    return run, out, out.read_text(encoding="utf-8")


def test_report_written_to_default_path_with_header(report):
    run, out, page = report
    assert out == run / "report.html"
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>desurv report: run1</title>" in page
    assert f"desurv {__version__}" in page
    assert "desurv select --out run --seed 0" in page
    assert re.search(r"Generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", page)


def test_report_shows_every_known_file_in_section_order(report):
    run, out, page = report
    for rel in [
        "metadata.json",
        "selected.json",
        "cv_summary.csv",
        "cv_results.csv",
        "model/gene_programs.tsv",
        "model/loss_history.tsv",
        "model/summary.csv",
        "model/top_genes.csv",
        "validation/hazard_ratios.csv",
        "validation/risk_scores.csv",
        "validation/logrank.csv",
        "validation/km_summary.csv",
        "validation_summary.csv",
        "comparison.csv",
        "km_high_vs_low.png",
    ]:
        assert f"({rel})" in page or f"<code>{rel}</code>" in page, rel
    order = [
        page.index(f">{name}</h2>")
        for name in (
            "Run",
            "Model selection",
            "Fitted model",
            "Validation",
            "Method comparison",
            "Figures",
            "Other tables",
            "Files",
        )
    ]
    assert order == sorted(order)
    # Table contents: values of the small tables are on the page.
    for text in ("1se", "GENE5", "risk score", "0.612", "median_survival", "80.2", "statistic"):
        assert text in page, text


def test_report_embeds_all_figures_and_the_png(report):
    run, out, page = report
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"', page)
    alts = [html.unescape(a) for _, a in imgs]
    # cv heatmap, C-index vs alpha, loss history, gene programs, forest, KM, the PNG file.
    assert len(imgs) == 7, alts
    for b64, _ in imgs:
        assert base64.b64decode(b64).startswith(b"\x89PNG")
    png = base64.b64encode((run / "km_high_vs_low.png").read_bytes()).decode()
    assert any(b64 == png for b64, _ in imgs)
    assert "km high vs low (km_high_vs_low.png)" in alts
    # The run's own cv_heatmap.png replaces the redrawn heatmap, beside its table, once.
    heat = base64.b64encode((run / "cv_heatmap.png").read_bytes()).decode()
    assert page.count(heat) == 1
    assert (
        page.index("<code>cv_summary.csv</code>")
        < page.index(heat)
        < page.index("<code>cv_results.csv</code>")
    )


def test_report_is_self_contained_and_escaped(report):
    run, out, page = report
    assert "<script" not in page.lower()
    assert html.escape(EVIL) in page  # column name and metadata value, escaped
    assert "extra_&lt;b&gt;.csv" in page and "extra_<b>" not in page
    assert not re.search(r"(src|href)=\"(https?:|//)", page)
    assert "@import" not in page and "<link" not in page


def test_report_truncates_long_tables_and_aggregates_cv_results(report):
    run, out, page = report
    assert "showing the first 50 of 120 rows" in page
    section = page[page.index("<code>cv_results.csv</code>") :]
    section = section[: section.index("<h3>")]
    assert section.count("<tr") < 15  # an aggregate, not 160 rows
    assert ">160<" in section  # number of fits (8 configurations x 20)
    assert "distinct configurations" in section and ">8<" in section
    assert "model/model.npz" in page  # listed among the files, not rendered
    # The JSON sidecar of cv_results.csv is shown under model selection, long values cut.
    side = page.index("<code>cv_results.csv.json</code>")
    assert page.index(">Model selection</h2>") < side < page.index(">Fitted model</h2>")
    assert "Cross-validation fits (aggregate): settings" in page
    # The fold id of every sample is summarised, not dumped (issue 9 §6).
    assert "200 values" in page and "list not shown" in page
    assert "[0, 1, 2, 3" not in page and "0, 1, 2, 3, 4, 5" not in page


def test_report_options_and_out_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_csv(run / "whatever.csv", index=False)
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = write_report(run, outdir, title="My <title>")
    assert out == outdir / "report.html"
    page = out.read_text()
    assert "<title>My &lt;title&gt;</title>" in page
    assert "Other tables" in page and "Model selection" not in page
    # Writing into the run folder and again does not report the report itself.
    first = write_report(run)
    write_report(run)
    assert "report.html" not in first.read_text().split("Files</h2>")[1]


def test_report_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        write_report(tmp_path / "nope")
    with pytest.raises(ValueError, match="nothing to report"):
        write_report(tmp_path)
    (tmp_path / "model.npz").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="nothing to report"):
        write_report(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        write_report(tmp_path / "notes.txt")
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(ValueError, match="max_rows"):
        write_report(tmp_path, max_rows=0)


def test_unreadable_files_and_bad_tables_are_reported_not_fatal(tmp_path):
    (tmp_path / "metadata.json").write_text("{not json")
    (tmp_path / "cv_summary.csv").write_text("n_components,alpha\n2,0.5\n")  # too few columns
    with pytest.warns(DataWarning, match="metadata.json"):
        out = write_report(tmp_path)
    page = out.read_text()
    assert "could not read this file" in page
    assert "not drawn" in page and "missing column" in page
    assert "<td>0.5</td>" in page  # the table itself is still shown


def test_report_without_matplotlib_still_has_tables(tmp_path, monkeypatch):
    make_run(tmp_path / "run")
    for mod in ("matplotlib", "matplotlib.figure", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, mod, None)
    page = write_report(tmp_path / "run").read_text()
    assert page.count("matplotlib is not installed") == 1
    assert page.count("<img") == 2  # only the two PNG files
    assert "GENE5" in page


def test_hazard_ratios_per_model_and_risk_scores_per_cohort(tmp_path):
    rng = np.random.default_rng(1)
    hr = pd.DataFrame(
        {
            "cohort": ["c1"] * 4,
            "term": ["linear_predictor", "factor_1"] * 2,
            "model": ["univariable"] * 2 + ["multivariable"] * 2,
            "hr": [1.5, 1.2, 1.4, 1.1],
            "ci_lower": [1.1, 0.9, 1.0, 0.8],
            "ci_upper": [2.0, 1.6, 1.9, 1.5],
            "p": [0.01, 0.2, 0.04, 0.5],
        }
    )
    hr.to_csv(tmp_path / "hazard_ratios.csv", index=False)
    n = 30
    pd.DataFrame(
        {
            "cohort": ["A"] * n + ["B"] * n,
            "eta": rng.normal(size=2 * n),
            "time": rng.exponential(10, 2 * n) + 0.1,
            "event": rng.integers(0, 2, 2 * n),
        }
    ).to_csv(tmp_path / "risk_scores.csv", index=False)
    page = write_report(tmp_path).read_text()
    alts = [html.unescape(a) for a in re.findall(r'<img [^>]*alt="([^"]*)"', page)]
    assert sum(a.startswith("Forest plot") for a in alts) == 2
    assert any("univariable" in a for a in alts) and any("multivariable" in a for a in alts)
    km = [a for a in alts if a.startswith("Kaplan–Meier")]
    assert len(km) == 2 and "cohort A" in km[0] and "cohort B" in km[1]
    assert "median eta" in km[0]


# --------------------------------------------------------------------------------------------
# Issue 9 §6: a report that does not contradict itself
# --------------------------------------------------------------------------------------------
def _validate_folder(root, cut_shift=0.6, seed=3):
    """A folder as 'desurv validate --cutpoint median' writes it, from desurv.evaluation.

    The training cut point is far from the cohort's median, so a median split of the risk
    scores would give other groups (and another log-rank p) than the tables.
    """
    from desurv.evaluation import ValidationResult

    rng = np.random.default_rng(seed)
    n = 120
    eta = rng.normal(size=n)
    time = np.round(rng.exponential(30 * np.exp(-0.8 * eta)), 1) + 0.5
    event = (rng.uniform(size=n) < 0.6).astype(int)
    risk = pd.DataFrame(
        {"cohort": "ext", "sample": [f"s{i}" for i in range(n)], "eta": eta,
         "eta_std": (eta - eta.mean()) / eta.std(ddof=1), "time": time, "event": event}
    )  # fmt: skip
    res = ValidationResult(summary=pd.DataFrame(), hazard_ratios=pd.DataFrame(), risk=risk)
    cut = float(np.median(eta)) + cut_shift
    km = res.survival_by_group(cutpoints=[cut], labels=["low risk", "high risk"])
    root.mkdir(parents=True, exist_ok=True)
    risk.to_csv(root / "risk_scores.csv", index=False)
    km.groups.to_csv(root / "km_summary.csv", index=False)
    km.logrank.to_csv(root / "logrank.csv", index=False)
    km.curves.to_csv(root / "km_curves.csv", index=False)
    meta = {"model": "m/model.npz", "risk_groups": {"method": "median", "cutpoint": cut}}
    (root / "metadata.json").write_text(json.dumps(meta))
    return km, cut


def _capture_km(monkeypatch):
    """Record every Kaplan–Meier figure the report draws (its data and what it prints)."""
    from desurv.reporting import plots as plotting

    calls = []
    original = plotting.plot_kaplan_meier

    def spy(time, event, groups, **kw):
        ax = original(time, event, groups, **kw)
        calls.append(
            {
                "time": np.asarray(time, float),
                "event": np.asarray(event, int),
                "groups": np.asarray(pd.Series(groups).astype(str)),
                "texts": [t.get_text() for t in ax.texts],
                "legend": [t.get_text() for t in ax.get_legend().get_texts()],
                "title": ax.get_title(),
            }
        )
        return ax

    monkeypatch.setattr(plotting, "plot_kaplan_meier", spy)
    return calls


def test_validation_km_figure_uses_the_groups_and_p_of_the_logrank_table(tmp_path, monkeypatch):
    from desurv.evaluation import logrank

    run = tmp_path / "val"
    km, cut = _validate_folder(run)
    calls = _capture_km(monkeypatch)
    page = write_report(run).read_text()
    assert len(calls) == 1, "one Kaplan–Meier figure, of the log-rank table's groups"
    fig = calls[0]
    # the same groups: identical (time, event, group) multisets and group sizes
    a = km.assignments
    want = sorted(zip(a.time, a.event.astype(int), a.group.astype(str), strict=True))
    got = sorted(zip(fig["time"], fig["event"], fig["groups"], strict=True))
    assert got == want
    n_fig = pd.Series(fig["groups"]).value_counts().to_dict()
    assert n_fig == dict(zip(km.groups.group.astype(str), km.groups.n, strict=True))
    # a median split of the cohort would have given other groups: the test is not vacuous
    assert n_fig["low risk"] != n_fig["high risk"]
    # the same p: what the figure prints is the table's p-value, as the table shows it
    p_table = float(pd.read_csv(run / "logrank.csv")["p"].iloc[0])
    p_text = f"{p_table:.4g}"
    assert f"log-rank p = {p_text}" in fig["texts"]
    assert f"<td>{p_text}</td>" in page
    assert logrank(fig["time"], fig["event"], fig["groups"]).p == pytest.approx(p_table)
    # labelled: which cut point, n per group, and the p in the caption
    cut_text = f"{cut:.4g}"
    assert fig["title"] == f"ext: risk groups at the training median of η (cut = {cut_text})"
    assert any(f"η ≤ {cut_text}" in t and f"n = {n_fig['low risk']}" in t for t in fig["legend"])
    alts = [html.unescape(x) for x in re.findall(r'<img [^>]*alt="([^"]*)"', page)]
    km_alt = [x for x in alts if x.startswith("Kaplan–Meier")]
    assert len(km_alt) == 1
    assert f"training median of η (cut = {cut_text})" in km_alt[0]
    assert f"low risk: n = {n_fig['low risk']}" in km_alt[0]
    assert f"log-rank p = {p_text}" in km_alt[0]
    # the figure sits under the log-rank table; the raw curves are not dumped
    assert page.index("<code>logrank.csv</code>") < page.index("<code>km_curves.csv</code>")
    assert "rows of Kaplan–Meier estimates" in page and "n_at_risk" not in page


def test_training_km_is_labelled_in_sample_and_non_convergence_is_flagged(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    run = tmp_path / "fit"
    run.mkdir()
    n = 60
    pd.DataFrame(
        {"sample": [f"s{i}" for i in range(n)], "linear_predictor": rng.normal(size=n),
         "time": rng.exponential(20, n) + 0.1, "event": rng.integers(0, 2, n)}
    ).to_csv(run / "risk_scores.tsv", sep="\t", index=False)  # fmt: skip
    pd.DataFrame({"loss": [3.0, 2.0, 1.5]}).to_csv(run / "loss_history.tsv", sep="\t")
    summary = {"n_iter": 100, "converged": False, "params": {"max_iter": 100, "tol": 1e-6}}
    (run / "summary.json").write_text(json.dumps(summary))
    calls = _capture_km(monkeypatch)
    page = write_report(run).read_text()
    assert [c["title"] for c in calls] == ["training cohort (in-sample, optimistic)"]
    assert "Training cohort (in-sample, optimistic)" in html.unescape(page)
    box = re.search(r'<div class="warnbox"[^>]*>(.*?)</div>', page, flags=re.S)
    assert box is not None
    text = html.unescape(box.group(1))
    assert "did not converge" in text and "n_iter = 100" in text and "max_iter = 100" in text
    assert page.index("warnbox") < page.index("<nav>")  # on top of the page
    # a converged fit has no warning box
    (run / "summary.json").write_text(json.dumps(summary | {"converged": True}))
    assert "warnbox" not in write_report(run).read_text().split("</style>")[1]


def test_cv_non_convergence_is_counted_in_a_warning_box(tmp_path):
    run = make_run(tmp_path / "run")
    fits = pd.read_csv(run / "cv_results.csv")
    fits["converged"] = np.arange(len(fits)) % 4 != 0  # 40 of 160 fits stopped at max_iter
    fits.to_csv(run / "cv_results.csv", index=False)
    page = write_report(run).read_text()
    box = re.search(r'<div class="warnbox"[^>]*>(.*?)</div>', page, flags=re.S)
    assert box is not None
    assert "40 of 160 cross-validation fits did not converge" in html.unescape(box.group(1))
    fits["converged"] = True
    fits.to_csv(run / "cv_results.csv", index=False)
    assert 'class="warnbox"' not in write_report(run).read_text()


def test_every_table_scrolls_in_its_own_container(report):
    run, out, page = report
    n_tables = page.count("<table")
    assert n_tables > 10
    assert page.count('<div class="tblwrap" style="overflow-x:auto"><table') == n_tables
    assert "div.tblwrap { overflow-x: auto" in page


def test_cv_summary_table_moves_constant_columns_to_a_note(report):
    run, out, page = report
    section = page[page.index("<code>cv_summary.csv</code>") :]
    section = section[: section.index("<h3>")]
    assert "the same in every row: l1_ratio = 0.5, penalty_w = 0, penalty_h = 0" in section
    assert "<th>penalty_w</th>" not in section and "<th>mean_cindex</th>" in section


def test_report_file_mode_follows_the_umask(tmp_path):
    import os
    import stat

    run = tmp_path / "run"
    run.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_csv(run / "a.csv", index=False)
    old = os.umask(0o022)
    try:
        out = write_report(run)
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        os.umask(0o077)
        out = write_report(run, tmp_path / "private.html")
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    assert not list(run.glob(".report-*"))  # no temporary file left behind


# --------------------------------------------------------------------------------------------
# Benchmark folders (desurv bench): a Benchmark section, not a fitted model
# --------------------------------------------------------------------------------------------
BENCH_CMD = "desurv bench --methods sklearn-nmf,nmf-frobenius,nmf-kl --data mutsim,synth --out b"


def _bench_results():
    """Tidy results as desurv.benchmark.run_benchmark returns them, with one failed fit."""
    rng = np.random.default_rng(5)
    rows = []
    for ds in ("mutsim", "synth"):
        for method in ("sklearn-nmf", "nmf-frobenius", "nmf-kl"):
            params = json.dumps({"method": method, "max_iter": 50})
            for split in (0, 1):
                for seed in (0, 1):
                    if (ds, method, split, seed) == ("synth", "nmf-kl", 1, 0):
                        rows.append((method, ds, split, seed, "fit", "train", np.nan,
                                     "ValueError: boom <b>", "h" + method, params))  # fmt: skip
                        continue
                    for metric, subset, value in (
                        ("signature_cosine", "train", rng.uniform(0.9, 1)),
                        ("reconstruction_error", "train", rng.uniform(0.05, 0.1)),
                        ("reconstruction_error", "test", rng.uniform(0.05, 0.1)),
                        ("wall_time", "train", rng.uniform(0.01, 0.1)),
                    ):
                        rows.append((method, ds, split, seed, metric, subset, value, None,
                                     "h" + method, params))  # fmt: skip
            rows.append((method, ds, 0, None, "stability", "train", np.nan,
                         "needs two seeds", "h" + method, params))  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["method", "dataset", "split", "seed", "metric", "subset", "value", "error",
                 "params_hash", "params"],
    )  # fmt: skip


def make_bench(root):
    """A benchmark folder written by desurv's own writer (results, summary, plots, manifest)."""
    from desurv.reporting.benchmark import write_benchmark_outputs

    results = _bench_results()
    write_benchmark_outputs(results, root, command=BENCH_CMD)
    return root, results


@pytest.fixture(scope="module")
def bench_report(tmp_path_factory):
    root, results = make_bench(tmp_path_factory.mktemp("b") / "bench1")
    out = write_report(root)
    return root, results, out.read_text(encoding="utf-8")


def _cell(sel):
    v = sel["value"].astype(float)
    return f"{v.median():.4g} ({v.quantile(0.25):.4g}–{v.quantile(0.75):.4g})"


def test_bench_folder_renders_a_median_table_per_data_set(bench_report):
    root, results, page = bench_report
    assert ">Benchmark</h2>" in page
    for wrong in ("Fitted model", "Model coefficients", "Other tables", "showing the first"):
        assert wrong not in page, wrong
    ok = results[results["value"].notna()]
    for ds in ("mutsim", "synth"):
        start = page.index(f"Data set <code>{ds}</code>: median (q25–q75)")
        table = page[start : page.index("</table>", start)]
        for label in ("signature_cosine", "reconstruction_error", "reconstruction_error (test)",
                      "wall_time"):  # fmt: skip
            assert f"<th>{label}</th>" in table, (ds, label)
        rows = re.findall(r"<tr>\s*<td>([^<]+)</td>(.*?)</tr>", table, flags=re.S)
        assert [m for m, _ in rows] == ["sklearn-nmf", "nmf-frobenius", "nmf-kl"]
        for method, cells in rows:
            for metric, subset in (("signature_cosine", "train"), ("reconstruction_error", "test")):
                sel = ok[(ok["dataset"] == ds) & (ok["method"] == method)
                         & (ok["metric"] == metric) & (ok["subset"] == subset)]  # fmt: skip
                assert f"<td>{_cell(sel)}</td>" in cells, (ds, method, metric, subset)
        # train before test, in the order of the metrics
        assert table.index("<th>reconstruction_error</th>") < table.index(
            "<th>reconstruction_error (test)</th>"
        )


def test_bench_failed_cells_plots_settings_and_files(bench_report):
    root, results, page = bench_report
    fails = page[page.index("<h3>Failed cells</h3>") :]
    fails = fails[: fails.index("</table>")]
    assert "ValueError: boom &lt;b&gt;" in fails and "<b>" not in fails
    assert "1 fit(s) failed" in fails
    assert "Metrics not computed" in page and "needs two seeds" in page
    # every plot the bench wrote is embedded, with a caption, in the Benchmark section
    pngs = sorted(p.name for p in root.glob("*.png"))
    assert "metric_signature_cosine.png" in pngs and "time_vs_signature_cosine.png" in pngs
    imgs = re.findall(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"', page)
    assert len(imgs) == len(pngs)
    alts = [html.unescape(a) for _, a in imgs]
    for name in pngs:
        assert sum(f"({name})" in a for a in alts) == 1, name
    assert any(
        a.startswith("reconstruction_error (test: held-out samples) per method") for a in alts
    )
    assert ">Figures</h2>" not in page
    bench = page[page.index(">Benchmark</h2>") : page.index(">Files</h2>")]
    assert bench.count("<img") == len(pngs)
    # the run settings: the command line of the manifest
    assert f"<pre>{html.escape(BENCH_CMD)}</pre>" in bench
    # results.csv is listed and summarised, not rendered in full
    files = page[page.index(">Files</h2>") :]
    assert re.search(r"<td>results.csv</td>\s*<td>\d+</td>\s*<td>summarised</td>", files)
    assert "<code>results.csv</code>" not in page
    assert page.count("<tr") < 60  # results.csv has 99 rows


def test_bench_recognised_from_its_tables_or_its_manifest(tmp_path):
    root, results = make_bench(tmp_path / "b")
    # without the manifest: results.csv + summary.csv with the benchmark columns
    (root / "desurv_run.json").unlink()
    page = write_report(root).read_text()
    assert ">Benchmark</h2>" in page and "Fitted model" not in page
    assert "<th>reconstruction_error (test)</th>" in page
    # a manifest naming bench with results.csv only: the summary is computed from it
    only = tmp_path / "only"
    only.mkdir()
    results.to_csv(only / "results.csv", index=False)
    json.dump({"format": "desurv-run", "command": BENCH_CMD}, open(only / "desurv_run.json", "w"))
    page = write_report(only).read_text()
    assert "summary computed from results.csv" in page
    sel = results[(results["dataset"] == "mutsim") & (results["method"] == "nmf-kl")
                  & (results["metric"] == "signature_cosine")]  # fmt: skip
    assert f"<td>{_cell(sel)}</td>" in page
    # a bench run one folder deep is recognised too
    outer = tmp_path / "outer"
    make_bench(outer / "bench")
    page = write_report(outer).read_text()
    assert "Benchmark in <code>bench</code>" in page and "Fitted model" not in page


def test_fit_and_cv_folders_are_not_benchmarks(tmp_path, report):
    run, out, page = report
    assert ">Benchmark</h2>" not in page and ">Fitted model</h2>" in page
    # a fit folder: summary.csv is the model's coefficients, even beside a results.csv
    fit = tmp_path / "fit"
    fit.mkdir()
    json.dump(
        {"format": "desurv-run", "command": "desurv fit --out fit"},
        open(fit / "desurv_run.json", "w"),
    )
    pd.DataFrame({"factor": ["factor_1"], "coef": [0.3], "exp(coef)": [1.35]}).to_csv(
        fit / "summary.csv", index=False
    )
    pd.DataFrame({"sample": ["s1"], "score": [0.1]}).to_csv(fit / "results.csv", index=False)
    page = write_report(fit).read_text()
    assert ">Fitted model</h2>" in page and "Model coefficients <code>summary.csv</code>" in page
    assert "Benchmark" not in page and "summarised" not in page


# --------------------------------------------------------------------------------------------
# Signature extraction folders (desurv signatures, SignatureResult.save)
# --------------------------------------------------------------------------------------------
def make_signature_run(root, *, max_iter=None, evil_sample=False):
    import warnings as _w

    from desurv.datasets import random_signatures, simulate_catalogues
    from desurv.signatures import extract_signatures

    W = random_signatures(3, random_state=0)
    sim = simulate_catalogues(W, n_samples=30, n_active=2, mean_burden=1500, random_state=0)
    cat = sim.catalogue
    if evil_sample:
        cat = cat.rename(index={cat.index[0]: EVIL})
    ref = W.copy()
    ref.columns = ["SBS_A", "SBS_B", "SBS_C"]
    ref["SBS_D"] = random_signatures(1, random_state=9).iloc[:, 0].to_numpy()
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        res = extract_signatures(
            cat,
            ks=[2, 3],
            rank_rule="stability",
            n_restarts=3,
            reference=ref,
            random_state=0,
            estimator_params=None if max_iter is None else {"max_iter": max_iter},
        )
    res.save(root)
    return res


def test_signature_folder_renders_profiles_matches_exposures_and_rank(tmp_path):
    run = tmp_path / "sig"
    res = make_signature_run(run)
    page = write_report(run).read_text()
    assert ">Mutational signatures</h2>" in page and "Fitted model" not in page
    for head in ("Signature extraction", "Signature profiles", "COSMIC matches",
                 "Signature stability", "Exposures", "Reconstruction per sample",
                 "Rank selection", "Restarts"):  # fmt: skip
        assert f"{head} <code>" in page, head
    # profiles, exposures and the rank figure are drawn from the tables (no PNG in the folder)
    assert page.count("<img") == 3
    assert f"SBS96 profiles of the {res.n_components} signatures" in page
    for name in res.cosmic_matches["cosmic"]:
        assert f"<td>{name}</td>" in page
    acs = res.cosmic_matches["cosine"].mean()
    assert f"ACS (mean matched cosine) = {acs:.4g}" in page
    assert f"selected k = {res.n_components}" in page
    assert "Warning: not converged" not in page
    # the order: the summary first, then the profiles, then the matches
    assert page.index("Signature extraction <code>") < page.index("Signature profiles <code>")
    assert page.index("Signature profiles <code>") < page.index("COSMIC matches <code>")


def test_signature_folder_embeds_its_pngs_and_flags_unconverged_restarts(tmp_path):
    run = tmp_path / "sig"
    make_signature_run(run, max_iter=2, evil_sample=True)
    (run / "signature_profiles.png").write_bytes(_png_bytes("red"))
    page = write_report(run).read_text()
    assert "figure file signature_profiles.png" in page
    assert page.count("signature_profiles.png") >= 1
    assert "Warning: not converged" in page and "restart fits of the signature extraction" in page
    assert EVIL not in page and html.escape(EVIL) in page


def test_signature_file_names_elsewhere_are_ordinary_tables(tmp_path):
    run = tmp_path / "other"
    run.mkdir()
    pd.DataFrame({"x": [1, 2]}).to_csv(run / "stability.csv", index=False)
    pd.DataFrame({"y": [3]}).to_csv(run / "exposures.tsv", sep="\t", index=False)
    page = write_report(run).read_text()
    assert "Mutational signatures" not in page
    assert "<code>stability.csv</code>" in page and "<code>exposures.tsv</code>" in page
