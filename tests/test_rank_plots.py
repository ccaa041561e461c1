"""desurv.reporting.rank_plots: each figure draws what its input says (checked on the artists)."""

import io

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from scipy.cluster.hierarchy import leaves_list, linkage  # noqa: E402
from scipy.spatial.distance import squareform  # noqa: E402

from desurv.model_selection import select_rank_from_errors  # noqa: E402
from desurv.model_selection.rank import connectivity_matrix  # noqa: E402
from desurv.reporting import rank_plots as rp  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def renders(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    return buf.getvalue()[:4] == b"\x89PNG"


def survey_table():
    ks = np.array([2, 3, 4, 5])
    return pd.DataFrame(
        {
            "k": ks,
            "cophenetic": [0.99, 0.98, 0.90, 0.85],
            "dispersion": [0.9, 0.95, 0.7, 0.6],
            "silhouette": [0.8, 0.9, 0.6, 0.5],
            "rss": [100.0, 10.0, 9.0, 8.5],
            "explained_variance": [0.9, 0.99, 0.991, 0.992],
            "sparseness_basis": [0.3, 0.4, 0.45, 0.5],
            "sparseness_coef": [0.2, 0.3, 0.35, 0.4],
            "n_runs": 10,
            "n_converged": 10,
            "stability": [1.0, 0.99, 0.6, 0.4],
            "stability_min": [1.0, 0.98, 0.1, -0.2],
        }
    )


def block_consensus(sizes=(4, 3, 5), seed=0):
    """Block 0/1 consensus of known clusters, samples shuffled, plus the labels."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    perm = np.random.default_rng(seed).permutation(labels.size)
    labels = labels[perm]
    C = connectivity_matrix(labels)
    C = 0.9 * C + 0.05  # not exactly 0/1, still block-structured
    np.fill_diagonal(C, 1.0)
    return C, labels


def bootstrap_result():
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, 10)
    errs = {2: base + 5.0, 3: base, 4: base + rng.normal(0, 0.01, 10), 6: base + 0.02}
    rows = [
        {"k": k, "bootstrap": b, "test_error": float(e), "train_error": float(e) / 2}
        for k, v in errs.items()
        for b, e in enumerate(v)
    ]
    return select_rank_from_errors(pd.DataFrame(rows))


# ------------------------------------------------------------------------------------------
# rank survey
# ------------------------------------------------------------------------------------------
def test_rank_survey_one_panel_per_metric():
    s = survey_table()
    fig = rp.plot_rank_survey(s, selected=3)
    metrics = [m for m in rp.METRIC_LABELS if m in s.columns]
    assert len(fig.axes) == len(metrics) == 9  # n_runs / n_converged are not metrics
    for ax, m in zip(fig.axes, metrics, strict=True):
        line = ax.lines[0]
        assert_array_equal(line.get_xdata(), s["k"])
        assert_allclose(line.get_ydata(), s[m])
        assert ax.get_title() == rp.METRIC_LABELS[m]
        assert ax.lines[1].get_xdata()[0] == 3  # the marked rank
    assert fig.axes[-1].get_xlabel() == "rank k"
    assert renders(fig)


def test_rank_survey_chosen_metrics_and_order():
    s = survey_table().iloc[::-1]  # unsorted input is drawn in increasing k
    fig = rp.plot_rank_survey(s, metrics=["rss", "dispersion"])
    assert [ax.get_title() for ax in fig.axes] == [rp.METRIC_LABELS["rss"], "dispersion"]
    assert_array_equal(fig.axes[0].lines[0].get_xdata(), [2, 3, 4, 5])
    assert_allclose(fig.axes[0].lines[0].get_ydata(), [100.0, 10.0, 9.0, 8.5])
    assert len(fig.axes[0].lines) == 1  # nothing marked
    s2 = survey_table().assign(selected=lambda d: d["k"] == 4, custom=1.0)
    fig2 = rp.plot_rank_survey(s2, metrics="custom")
    assert fig2.axes[0].get_title() == "custom" and fig2.axes[0].lines[1].get_xdata()[0] == 4


@pytest.mark.parametrize(
    ("table", "kwargs", "match"),
    [
        ([1, 2], {}, "DataFrame"),
        (pd.DataFrame({"k": [], "rss": []}), {}, "no rows"),
        (pd.DataFrame({"rss": [1.0]}), {}, "missing column"),
        (pd.DataFrame({"k": [2, 3], "foo": [1.0, 2.0]}), {}, "none of the metric"),
        (pd.DataFrame({"k": [2, 3], "rss": [1.0, 2.0]}), {"metrics": ["x"]}, "missing metric"),
        (pd.DataFrame({"k": [2, 3], "rss": ["a", "b"]}), {}, "numeric"),
        (pd.DataFrame({"k": [2, 2], "rss": [1.0, 2.0]}), {}, "repeated"),
        (pd.DataFrame({"k": [2.5, 3], "rss": [1.0, 2.0]}), {}, "integer"),
        (pd.DataFrame({"k": [2, 3], "rss": [1.0, 2.0]}), {"selected": 7}, "not one of"),
        (pd.DataFrame({"k": [2, 3], "rss": [1.0, 2.0]}), {"ncols": 0}, "ncols"),
        (pd.DataFrame({"k": [2, 3], "rss": [1.0, 2.0]}), {"metrics": []}, "empty"),
    ],
)
def test_rank_survey_bad_input(table, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rp.plot_rank_survey(table, **kwargs)


# ------------------------------------------------------------------------------------------
# consensus map
# ------------------------------------------------------------------------------------------
def test_consensus_order_is_scipy_average_linkage_and_groups_blocks():
    C, labels = block_consensus()
    order = rp.consensus_order(C)
    D = 1.0 - C
    np.fill_diagonal(D, 0.0)
    expected = leaves_list(linkage(squareform(D, checks=False), method="average"))
    assert_array_equal(order, expected)
    # every true cluster is contiguous in the order
    runs = np.flatnonzero(np.diff(labels[order]) != 0)
    assert runs.size == 2


def test_consensus_map_draws_the_reordered_matrix_and_dendrogram():
    C, labels = block_consensus()
    names = [f"s{i}" for i in range(C.shape[0])]
    ax = rp.plot_consensus_map(
        pd.DataFrame(C, index=names, columns=names), labels=[f"g{x}" for x in labels]
    )
    order = rp.consensus_order(C)
    assert_allclose(np.asarray(ax.images[0].get_array()), C[np.ix_(order, order)])
    assert [t.get_text() for t in ax.get_xticklabels()] == [names[i] for i in order]
    # the dendrogram (inset) and the annotation strip (inset)
    assert len(ax.child_axes) == 2
    dendro, strip = ax.child_axes
    assert len(dendro.collections) + len(dendro.lines) > 0
    strip_codes = np.asarray(strip.images[0].get_array()).ravel()
    assert_array_equal(strip_codes, labels[order])  # labels g0, g1, g2 -> codes 0, 1, 2
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["g0", "g1", "g2"]
    assert renders(ax.figure)


def test_consensus_map_plain_array_without_labels():
    C, _ = block_consensus(sizes=(3, 3))
    ax = rp.plot_consensus_map(C, title="k = 2")
    assert ax.get_title() == "k = 2" and len(ax.child_axes) == 1
    assert ax.get_legend() is None


@pytest.mark.parametrize(
    ("C", "labels", "match"),
    [
        (np.ones((3, 2)), None, "square"),
        (np.array([[1.0, 0.2], [0.3, 1.0]]), None, "symmetric"),
        (np.array([[1.0, 1.5], [1.5, 1.0]]), None, r"\[0, 1\]"),
        (np.eye(3), [0, 1], "one entry per sample"),
        (np.eye(25), np.arange(25), "distinct values"),
    ],
)
def test_consensus_map_bad_input(C, labels, match):
    with pytest.raises(ValueError, match=match):
        rp.plot_consensus_map(C, labels=labels)


# ------------------------------------------------------------------------------------------
# stability vs error
# ------------------------------------------------------------------------------------------
def test_stability_vs_error_twin_axes():
    t = survey_table().assign(reconstruction_error=[0.3, 0.01, 0.009, 0.008])
    ax = rp.plot_stability_vs_error(t, selected=3)
    assert_array_equal(ax.lines[0].get_xdata(), t["k"])
    assert_allclose(ax.lines[0].get_ydata(), t["stability"])
    assert_allclose(ax.lines[1].get_ydata(), t["stability_min"])
    twins = [a for a in ax.figure.axes if a is not ax]
    assert len(twins) == 1
    assert_allclose(twins[0].lines[0].get_ydata(), t["reconstruction_error"])
    assert "stability" in ax.get_ylabel() and "error" in twins[0].get_ylabel()
    assert ax.get_xlabel().startswith("rank k")
    marked = [ln for ln in ax.lines if list(ln.get_xdata()) == [3, 3]]
    assert len(marked) == 1
    assert any(tx.get_text() == "k = 3" for tx in ax.texts)
    assert renders(ax.figure)


def test_stability_vs_error_other_error_column_and_no_mark():
    t = survey_table()[["k", "stability", "rss"]]
    ax = rp.plot_stability_vs_error(t, error="rss")
    assert len(ax.lines) == 1 and not ax.texts  # no stability_min, nothing marked
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert_allclose(twin.lines[0].get_ydata(), t["rss"])


@pytest.mark.parametrize(
    ("table", "kwargs", "match"),
    [
        (pd.DataFrame({"k": [2, 3], "stability": [1.0, 0.5]}), {}, "reconstruction_error"),
        (
            pd.DataFrame({"k": [2, 3], "stability": [1.0, 0.5], "reconstruction_error": [1, 2]}),
            {"selected": 5},
            "not one of",
        ),
        (
            pd.DataFrame({"k": [2, 3], "stability": ["a", "b"], "reconstruction_error": [1, 2]}),
            {},
            "numeric",
        ),
        (
            pd.DataFrame(
                {
                    "k": [2, 3],
                    "stability": [1.0, 0.5],
                    "reconstruction_error": [1, 2],
                    "selected": [True, True],
                }
            ),
            {},
            "several",
        ),
    ],
)
def test_stability_vs_error_bad_input(table, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rp.plot_stability_vs_error(table, **kwargs)


# ------------------------------------------------------------------------------------------
# bootstrap rank selection
# ------------------------------------------------------------------------------------------
def test_bootstrap_rank_boxes_mark_and_pvalues():
    res = bootstrap_result()
    assert res.n_components_ == 3
    ax = rp.plot_bootstrap_rank(res)
    ks = res.ks
    assert len(ax.patches) == len(ks) == 4  # one box per k
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(k) for k in ks]
    chosen = ax.patches[ks.index(3)].get_facecolor()
    others = [ax.patches[i].get_facecolor() for i in range(4) if ks[i] != 3]
    assert all(chosen != o for o in others)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 3
    assert texts[0] == f"p={rp.format_p(res.tests['pvalue'].iloc[0])}*"  # significant step
    assert not texts[1].endswith("*")
    # medians drawn are the medians of the test errors per k
    med = res.errors.groupby("k")["test_error"].median().to_numpy()
    drawn = [ln for ln in ax.lines if ln.get_gid() == "median"]
    assert_allclose([ln.get_ydata()[0] for ln in drawn], med)
    assert ax.get_yscale() == "linear"  # errors span less than 100x
    assert ax.get_legend() is not None  # train errors shown
    assert renders(ax.figure)


def test_bootstrap_rank_log_scale_and_no_train():
    res = bootstrap_result()
    ax = rp.plot_bootstrap_rank(res, log=True, show_train=False)
    assert ax.get_yscale() == "log" and ax.get_legend() is None


def test_bootstrap_rank_bad_input():
    with pytest.raises(ValueError, match="BootstrapRankResult"):
        rp.plot_bootstrap_rank(pd.DataFrame({"k": [1]}))
    res = bootstrap_result()
    res.errors = res.errors.assign(test_error=np.nan)
    with pytest.raises(ValueError, match="finite"):
        rp.plot_bootstrap_rank(res)
    res.errors = res.errors.iloc[:0]
    with pytest.raises(ValueError, match="no rows"):
        rp.plot_bootstrap_rank(res)
