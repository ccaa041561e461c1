"""desurv.reporting.plots: each figure draws what its inputs say (checked on the Axes' artists)."""

import re
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from desurv.exceptions import DataWarning  # noqa: E402
from desurv.reporting import plots as plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def cv_summary(seed=0, penalties=(0.01, 0.1), missing=None):
    """Grid k ∈ {2, 3, 4} × α ∈ {0, 0.5, 0.9} × λ, random C-indices, one selected row."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in (2, 3, 4):
        for a in (0.0, 0.5, 0.9):
            if (k, a) == missing:
                continue
            for lam in penalties:
                rows.append(
                    dict(
                        n_components=k,
                        alpha=a,
                        penalty=lam,
                        l1_ratio=0.5,
                        penalty_w=0.0,
                        penalty_h=0.0,
                        mean_cindex=rng.uniform(0.5, 0.7),
                        se_cindex=rng.uniform(0.01, 0.05),
                        n_folds=5,
                    )
                )
    df = pd.DataFrame(rows)
    df["selected"] = False
    df.loc[df["mean_cindex"].idxmax(), "selected"] = True
    return df


# ------------------------------------------------------------------------------------------
# CV heatmap
# ------------------------------------------------------------------------------------------
def test_cv_heatmap_shows_best_over_other_parameters():
    df = cv_summary()
    ax = plotting.plot_cv_heatmap(df)
    expected = df.pivot_table(
        index="n_components", columns="alpha", values="mean_cindex", aggfunc="max"
    )
    np.testing.assert_allclose(np.ma.filled(ax.images[0].get_array(), np.nan), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "0.9"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2", "3", "4"]
    assert "best over λ" in ax.get_title()
    assert "α" in ax.get_xlabel() and "k" in ax.get_ylabel()
    # Every cell annotated with its value.
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == sorted(f"{v:.3f}" for v in expected.to_numpy().ravel())
    # The selected cell is outlined.
    sel = df[df["selected"]].iloc[0]
    i = [2, 3, 4].index(sel["n_components"])
    j = [0.0, 0.5, 0.9].index(sel["alpha"])
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(boxes) == 1 and boxes[0].get_xy() == (j - 0.5, i - 0.5)
    assert "selected" in ax.get_title() and f"k={int(sel['n_components'])}" in ax.get_title()


def test_cv_heatmap_other_value_comes_from_best_configuration():
    df = cv_summary(seed=3)
    ax = plotting.plot_cv_heatmap(df, value="se_cindex")
    best = df.loc[df.groupby(["n_components", "alpha"])["mean_cindex"].idxmax()]
    expected = best.pivot(index="n_components", columns="alpha", values="se_cindex")
    np.testing.assert_allclose(np.ma.filled(ax.images[0].get_array(), np.nan), expected)


def test_cv_heatmap_single_config_per_cell_and_missing_cell():
    df = cv_summary(penalties=(0.1,), missing=(3, 0.5)).drop(columns="selected")
    ax = plotting.plot_cv_heatmap(df)
    arr = ax.images[0].get_array()
    assert arr.mask[1, 1] and arr.mask.sum() == 1
    assert "best over" not in ax.get_title() and "selected" not in ax.get_title()
    assert len(ax.texts) == 8
    assert not [p for p in ax.patches if isinstance(p, Rectangle)]


def test_cv_heatmap_uses_given_axes():
    fig, ax = plt.subplots()
    assert plotting.plot_cv_heatmap(cv_summary(), ax=ax) is ax


def test_cv_errors():
    df = cv_summary()
    with pytest.raises(ValueError, match="se_cindex"):
        plotting.plot_cv_heatmap(df.drop(columns="se_cindex"))
    with pytest.raises(ValueError, match="missing column"):
        plotting.plot_cindex_vs_alpha(df.drop(columns="alpha"))
    with pytest.raises(ValueError, match="value='nope'"):
        plotting.plot_cv_heatmap(df, value="nope")
    with pytest.raises(ValueError, match="no rows"):
        plotting.plot_cv_heatmap(df.iloc[:0])
    with pytest.raises(ValueError, match="DataFrame"):
        plotting.plot_cv_heatmap(df.to_numpy())


# ------------------------------------------------------------------------------------------
# C-index against alpha
# ------------------------------------------------------------------------------------------
def test_cindex_vs_alpha_lines_errorbars_and_selection():
    df = cv_summary(seed=1)
    ax = plotting.plot_cindex_vs_alpha(df, dodge=0.0)
    assert len(ax.containers) == 3  # one errorbar per k
    alphas = np.array([0.0, 0.5, 0.9])
    for k, cont in zip((2, 3, 4), ax.containers, strict=True):
        best = (
            df[df.n_components == k]
            .groupby("alpha")
            .apply(lambda g: g.loc[g.mean_cindex.idxmax()], include_groups=False)
        )
        line = cont.lines[0]
        np.testing.assert_allclose(line.get_xdata(), alphas)
        np.testing.assert_allclose(line.get_ydata(), best["mean_cindex"])
        segs = cont.lines[2][0].get_segments()  # vertical bars: mean ± SE
        lo = np.array([s[0][1] for s in segs])
        hi = np.array([s[1][1] for s in segs])
        np.testing.assert_allclose(lo, best["mean_cindex"] - best["se_cindex"])
        np.testing.assert_allclose(hi, best["mean_cindex"] + best["se_cindex"])
        assert cont.get_label() == f"k = {k}"
    chance = [ln for ln in ax.lines if list(ln.get_ydata()) == [0.5, 0.5]]
    assert len(chance) == 1
    sel = df[df["selected"]].iloc[0]
    star = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(star) == 1
    assert star[0].get_xdata()[0] == sel["alpha"]
    assert star[0].get_ydata()[0] == sel["mean_cindex"]
    assert "5 folds" in ax.get_ylabel() and "SE" in ax.get_ylabel()
    assert "best over λ" in ax.get_title()


def test_cindex_vs_alpha_dodge_shifts_lines_by_fraction_of_range():
    df = cv_summary(seed=2)
    ax = plotting.plot_cindex_vs_alpha(df, dodge=0.02)
    xs = [c.lines[0].get_xdata() - np.array([0.0, 0.5, 0.9]) for c in ax.containers]
    shifts = [x[0] for x in xs]
    for x in xs:  # each line moves as a whole
        np.testing.assert_allclose(x, x[0])
    np.testing.assert_allclose(np.diff(shifts), 0.02 * 0.9)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "0.5", "0.9"]
    with pytest.raises(ValueError, match="dodge"):
        plotting.plot_cindex_vs_alpha(df, dodge=-1)


# ------------------------------------------------------------------------------------------
# Kaplan-Meier
# ------------------------------------------------------------------------------------------
def km_data():
    time = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2.5, 3.5, 11, 12, 14, 16, 18, 20], float)
    event = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0])
    groups = np.array(["high"] * 10 + ["low"] * 8)
    return time, event, groups


def _twin(ax):
    others = [a for a in ax.figure.axes if a is not ax]
    assert len(others) == 1
    return others[0]


def test_kaplan_meier_known_curve():
    # One group, hand-computed product-limit estimate.
    time = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    event = np.array([1, 0, 1, 1, 0])
    ax = plotting.plot_kaplan_meier(time, event, ["a"] * 5, at_risk=False)
    line = [ln for ln in ax.lines if ln.get_label().startswith("a (n = 5")][0]
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    s = {0.0: 1.0, 1.0: 0.8, 2.0: 0.8, 3.0: 0.8 * 2 / 3, 4.0: 0.8 * 2 / 3 * 1 / 2, 5.0: 0.8 / 3}
    for t, v in s.items():
        assert y[x == t][0] == pytest.approx(v)
    censor = [ln for ln in ax.lines if ln.get_marker() == "|"]
    np.testing.assert_allclose(censor[0].get_xdata(), [2.0, 5.0])
    assert "events = 3" in line.get_label()
    assert not [t for t in ax.texts if "log-rank" in t.get_text()]  # one group: no test


def test_kaplan_meier_at_risk_table_matches_counts():
    time, event, groups = km_data()
    ax = plotting.plot_kaplan_meier(time, event, groups)
    twin = _twin(ax)
    ticks = twin.get_xticks()
    labels = [t.get_text() for t in twin.get_xticklabels()]
    assert len(ticks) >= 3
    for tick, label in zip(ticks, labels, strict=True):
        numbers = [int(v) for v in re.findall(r"(?<![\w.])(\d+)\s*$", label, flags=re.M)]
        # lifelines counts subjects still at risk just after the tick: time > tick.
        expected = [int(np.sum(time[groups == g] > tick)) for g in ("high", "low")]
        assert numbers == expected, (tick, label)
    assert "At risk" in labels[0] and "high" in labels[0] and "low" in labels[0]
    assert ax.get_xlabel() == "Time (months)"
    assert ax.get_ylabel() == "Survival probability"


def test_kaplan_meier_logrank_p_equals_lifelines():
    from lifelines.statistics import logrank_test

    time, event, groups = km_data()
    ax = plotting.plot_kaplan_meier(time, event, groups, at_risk=False, title="T")
    a, b = groups == "high", groups == "low"
    p = logrank_test(time[a], time[b], event[a], event[b]).p_value
    texts = [t.get_text() for t in ax.texts]
    assert f"log-rank p = {plotting.format_p(p)}" in texts
    assert ax.get_title() == "T"
    ax = plotting.plot_kaplan_meier(time, event, groups, at_risk=False, logrank_p=0.01234)
    assert "log-rank p = 0.012" in [t.get_text() for t in ax.texts]
    ax = plotting.plot_kaplan_meier(time, event, groups, at_risk=False, logrank_p=False)
    assert not ax.texts


def test_kaplan_meier_p_text_and_categorical_order():
    """A p-value given as text is printed as given (the table's own text); a bare Categorical
    keeps its category order (low risk first), as a categorical Series does."""
    time, event, groups = km_data()
    ax = plotting.plot_kaplan_meier(time, event, groups, at_risk=False, logrank_p="0.03512")
    assert "log-rank p = 0.03512" in [t.get_text() for t in ax.texts]
    cat = pd.Categorical(groups, categories=["low", "high"], ordered=True)
    ax = plotting.plot_kaplan_meier(time, event, cat, at_risk=False)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("low") and legend[1].startswith("high")


def test_kaplan_meier_labels_and_category_order():
    time, event, groups = km_data()
    cat = pd.Series(pd.Categorical(groups, categories=["low", "high"]))
    ax = plotting.plot_kaplan_meier(
        time, event, cat, labels={"low": "Low risk"}, at_risk=False, time_unit="days"
    )
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("Low risk (n = 8") and legend[1].startswith("high (n = 10")
    assert ax.get_xlabel() == "Time (days)"


def test_kaplan_meier_errors():
    time, event, groups = km_data()
    with pytest.raises(ValueError, match="labels has 3 entries"):
        plotting.plot_kaplan_meier(time, event, groups, labels=["a", "b", "c"])
    g = groups.astype(object)
    g[3] = None
    with pytest.raises(ValueError, match="missing values"):
        plotting.plot_kaplan_meier(time, event, g)
    with pytest.raises(ValueError, match="groups has 17 values"):
        plotting.plot_kaplan_meier(time, event, groups[:-1])
    with pytest.raises(ValueError, match="negative"):
        plotting.plot_kaplan_meier(-time, event, groups)
    with pytest.raises(ValueError, match="0/1"):
        plotting.plot_kaplan_meier(time, event * 2, groups)


# ------------------------------------------------------------------------------------------
# Forest plot
# ------------------------------------------------------------------------------------------
def hr_table():
    return pd.DataFrame(
        {
            "cohort": ["A", "A", "B", "B", "B"],
            "term": ["factor 1", "factor 2", "factor 1", "factor 2", "risk score"],
            "hr": [1.8, 0.6, 1.4, 0.9, 2.2],
            "ci_lower": [1.2, 0.4, 0.9, 0.5, 1.5],
            "ci_upper": [2.7, 0.9, 2.2, 1.6, 3.2],
            "p": [0.004, 0.02, 0.13, 0.7, 1e-5],
        }
    )


def test_forest_markers_intervals_and_text():
    df = hr_table()
    ax = plotting.plot_forest(df)
    markers = ax.lines[0]
    np.testing.assert_allclose(markers.get_xdata(), df["hr"])
    # Cohort headings take a row each: A at the top, then its 2 terms, B, its 3 terms.
    np.testing.assert_allclose(markers.get_ydata(), [5, 4, 2, 1, 0])
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], df["ci_lower"])
    np.testing.assert_allclose([s[1][0] for s in segs], df["ci_upper"])
    assert ax.get_xscale() == "log"
    assert any(list(ln.get_xdata()) == [1.0, 1.0] for ln in ax.lines)  # HR = 1 reference
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "A" and ticks[3] == "B" and ticks[1].strip() == "factor 1"
    assert ax.get_yticklabels()[0].get_fontweight() == "bold"
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("1.80 [1.20, 2.70]") and t.endswith("0.004") for t in texts)
    assert any(t.startswith("2.20 [1.50, 3.20]") and t.endswith("1.0e-05") for t in texts)
    assert any("HR [95% CI]" in t for t in texts)
    assert "log" in ax.get_xlabel()


def test_forest_without_cohort_and_wide_range():
    df = hr_table().drop(columns="cohort")
    df.loc[0, ["hr", "ci_lower", "ci_upper"]] = [1e6, 1e3, 1e9]
    df.loc[1, ["ci_lower", "ci_upper"]] = np.nan
    ax = plotting.plot_forest(df, title="X")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [4, 3, 2, 1, 0])
    assert len(ax.collections[0].get_segments()) == 4  # no interval for the NaN row
    lo, hi = ax.get_xlim()
    assert lo < 0.5 and hi > 1e9
    assert ax.get_title() == "X"


def test_forest_errors_and_warning():
    df = hr_table()
    with pytest.raises(ValueError, match="ci_upper"):
        plotting.plot_forest(df.drop(columns="ci_upper"))
    bad = df.copy()
    bad.loc[1, "hr"] = 0.0
    with pytest.raises(ValueError, match="must be > 0"):
        plotting.plot_forest(bad)
    bad = df.copy()
    bad.loc[2, "hr"] = 5.0
    with pytest.warns(DataWarning, match="outside its interval"):
        plotting.plot_forest(bad)


# ------------------------------------------------------------------------------------------
# Gene programs and loss history
# ------------------------------------------------------------------------------------------
def test_gene_programs_heatmap_of_scaled_top_genes():
    rng = np.random.default_rng(0)
    p, k = 30, 3
    W = rng.uniform(0, 0.2, size=(p, k))
    # Genes 3f, 3f+1, 3f+2 mark factor f, strongest first.
    for f in range(k):
        W[3 * f : 3 * f + 3, f] = [5.0, 4.0, 3.0]
    names = [f"g{i}" for i in range(p)]
    Wdf = pd.DataFrame(W * [1.0, 10.0, 0.1], index=names, columns=["A", "B", "C"])
    ax = plotting.plot_gene_programs(Wdf, n_top=3)
    order = [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert [t.get_text() for t in ax.get_yticklabels()] == [names[i] for i in order]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "C"]
    Wt = Wdf.to_numpy() / Wdf.to_numpy().max(axis=0)  # column scaling removes the factors
    np.testing.assert_allclose(ax.images[0].get_array(), Wt[order])
    np.testing.assert_allclose(ax.images[0].get_array(), (W / W.max(axis=0))[order])
    assert len(ax.figure.axes) == 2  # colourbar
    # Group separators between the three blocks.
    seps = sorted(ln.get_ydata()[0] for ln in ax.lines)
    assert seps == [2.5, 5.5]


def test_gene_programs_union_does_not_repeat_genes_and_errors():
    W = np.array([[1.0, 1.0], [0.5, 0.1], [0.1, 0.5]])
    ax = plotting.plot_gene_programs(W, ["a", "b", "c"], n_top=3)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == ["a", "b", "c"] and len(labels) == 3
    with pytest.raises(ValueError, match="nonnegative"):
        plotting.plot_gene_programs(-W)
    with pytest.raises(ValueError, match="gene_names has 2"):
        plotting.plot_gene_programs(W, ["a", "b"])
    with pytest.raises(ValueError, match="n_top"):
        plotting.plot_gene_programs(W, n_top=0)


def test_loss_history_relative_and_raw():
    it = np.arange(1, 21)
    hist = pd.DataFrame(
        {"loss": 10 + 1 / it, "nmf_loss": 20 + 2 / it, "cox_loss": 3 - 0.5 / it, "theta": 0.5},
        index=pd.Index(it, name="iteration"),
    )
    ax = plotting.plot_loss_history(hist)
    lines = [ln for ln in ax.lines if ln.get_label() and not ln.get_label().startswith("_")]
    assert len(lines) == 3
    np.testing.assert_allclose(lines[0].get_xdata(), it)
    np.testing.assert_allclose(lines[0].get_ydata(), hist["loss"] / hist["loss"].iloc[0])
    np.testing.assert_allclose(lines[2].get_ydata(), hist["cox_loss"] / hist["cox_loss"].iloc[0])
    assert "relative" in ax.get_ylabel() and ax.get_xlabel() == "iteration"
    ax = plotting.plot_loss_history(hist, relative=False, columns=["loss", "theta"])
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 0.5)
    with pytest.raises(ValueError, match="missing column"):
        plotting.plot_loss_history(hist, columns=["sqnorm_w"])
    with pytest.raises(ValueError, match="no rows"):
        plotting.plot_loss_history(hist.iloc[:0])
    with pytest.raises(ValueError, match="missing column"):
        plotting.plot_loss_history(hist[["theta"]])


def test_every_function_returns_the_given_axes():
    time, event, groups = km_data()
    calls = [
        lambda ax: plotting.plot_cv_heatmap(cv_summary(), ax=ax),
        lambda ax: plotting.plot_cindex_vs_alpha(cv_summary(), ax=ax),
        lambda ax: plotting.plot_kaplan_meier(time, event, groups, ax=ax),
        lambda ax: plotting.plot_forest(hr_table(), ax=ax),
        lambda ax: plotting.plot_gene_programs(np.eye(3) + 0.1, ax=ax),
        lambda ax: plotting.plot_loss_history(pd.DataFrame({"loss": [2.0, 1.0]}), ax=ax),
    ]
    for call in calls:
        fig, ax = plt.subplots()
        assert call(ax) is ax


def test_missing_matplotlib_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'desurv\[plot\]'"):
        plotting.plot_cv_heatmap(cv_summary())
