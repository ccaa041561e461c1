"""Figures for choosing the rank k of an NMF-family model.

matplotlib is an optional dependency (``pip install 'desurv[plot]'``), imported only when a
function here is called. Every function takes an optional Axes (or Figure) to draw on, labels
its axes and never calls ``plt.show()``.

Functions
---------
plot_rank_survey
    The metrics of :func:`desurv.model_selection.nmf_rank_survey` against k, one small panel
    per metric (as the R package NMF plots a rank survey).
plot_consensus_map
    A consensus matrix reordered by hierarchical clustering, with its dendrogram.
plot_stability_vs_error
    SigProfilerExtractor-style: signature stability and reconstruction error per k on twin
    axes, the chosen k marked.
plot_bootstrap_rank
    Bootstrap test errors per k as box plots (:func:`desurv.model_selection.
    select_rank_bootstrap`), the chosen k marked and the Wilcoxon p-values annotated.
consensus_order
    The sample order of :func:`plot_consensus_map`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from desurv.reporting.plots import _check_frame, _new_axes, _pyplot, format_p

__all__ = [
    "consensus_order",
    "plot_bootstrap_rank",
    "plot_consensus_map",
    "plot_rank_survey",
    "plot_stability_vs_error",
]

#: Axis labels of the survey metrics (columns of nmf_rank_survey / signature_stability_survey).
METRIC_LABELS = {
    "cophenetic": "cophenetic correlation",
    "dispersion": "dispersion",
    "silhouette": "consensus silhouette",
    "rss": "RSS ‖X − WH‖²",
    "explained_variance": "explained variance",
    "sparseness_basis": "sparseness of W (basis)",
    "sparseness_coef": "sparseness of H (coef.)",
    "stability": "stability (mean silhouette)",
    "stability_min": "min cluster stability",
    "reconstruction_error": "relative error ‖X − WH‖/‖X‖",
}
_SELECTED_COLOUR = "#d62728"


def _check_k_column(df, name):
    k = pd.to_numeric(df["k"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(k)) or np.any(k != np.round(k)):
        raise ValueError(f"{name}['k'] must hold integer ranks")
    if len(np.unique(k)) != len(k):
        raise ValueError(f"{name} has repeated ranks k; give one row per k")
    return k.astype(np.int64)


def _numeric_column(df, col, name):
    if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
        raise ValueError(f"{name}[{col!r}] must be numeric, got dtype {df[col].dtype}")
    return df[col].to_numpy(float)


def _selected_k(table, selected, ks):
    """The k to mark: ``selected`` if given, else the table's True ``selected`` row."""
    if selected is None and "selected" in table.columns:
        sel = table["selected"].astype("boolean").fillna(False).to_numpy(bool)
        if sel.sum() > 1:
            raise ValueError("the table's 'selected' column marks several ranks; mark one")
        selected = int(ks[sel][0]) if sel.any() else None
    if selected is not None:
        if isinstance(selected, bool) or not isinstance(selected, (int, np.integer)):
            raise ValueError(f"selected must be an integer rank, got {selected!r}")
        if int(selected) not in set(ks.tolist()):
            raise ValueError(f"selected={selected} is not one of the ranks {ks.tolist()}")
        selected = int(selected)
    return selected


# --------------------------------------------------------------------------------------------
# rank survey
# --------------------------------------------------------------------------------------------
def plot_rank_survey(survey, metrics=None, *, selected=None, fig=None, ncols=3):
    """Rank-survey metrics against k, one small panel per metric (R NMF's survey plot).

    Parameters
    ----------
    survey : pandas.DataFrame
        One row per k with a ``k`` column and numeric metric columns, e.g. the output of
        :func:`desurv.model_selection.nmf_rank_survey` or
        :func:`desurv.model_selection.signature_stability_survey`.
    metrics : sequence of str, optional
        Columns to draw, one panel each, in this order. Default: those of ``cophenetic``,
        ``dispersion``, ``silhouette``, ``rss``, ``explained_variance``,
        ``sparseness_basis``, ``sparseness_coef``, ``stability``, ``stability_min``,
        ``reconstruction_error`` that are present.
    selected : int, optional
        A rank to mark with a dotted red line on every panel (default: the row of a bool
        ``selected`` column, if any).
    fig : matplotlib Figure, optional
        Figure to draw into (it should be empty); default a new one.
    ncols : int, default 3
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[i]`` is the panel of ``metrics[i]``: its line holds (k, value) and its
        title is the metric's label.

    Raises
    ------
    ValueError
        Not a DataFrame, no rows, no ``k`` column, non-integer or repeated k, a requested
        metric missing or non-numeric, none of the default metrics present, ``selected``
        not a rank of the table, ``ncols`` < 1.
    """
    _check_frame(survey, "survey", ("k",))
    ks = _check_k_column(survey, "survey")
    if metrics is None:
        metrics = [m for m in METRIC_LABELS if m in survey.columns]
        if not metrics:
            raise ValueError(
                f"survey has none of the metric columns {list(METRIC_LABELS)}; pass metrics= "
                f"(got columns {list(survey.columns)})"
            )
    else:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        if not metrics:
            raise ValueError("metrics is empty; give at least one column to draw")
        missing = [m for m in metrics if m not in survey.columns]
        if missing:
            raise ValueError(
                f"survey is missing metric column(s) {missing}; it has {list(survey.columns)}"
            )
    values = {m: _numeric_column(survey, m, "survey") for m in metrics}
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    selected = _selected_k(survey, selected, ks)

    plt = _pyplot()
    ncols = min(int(ncols), len(metrics))
    nrows = int(np.ceil(len(metrics) / ncols))
    if fig is None:
        fig = plt.figure(figsize=(3.3 * ncols, 2.6 * nrows + 0.4))
    order = np.argsort(ks, kind="stable")
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.plot(ks[order], values[m][order], marker="o", color="#1f77b4", linewidth=1.5)
        if selected is not None:
            ax.axvline(selected, color=_SELECTED_COLOUR, linestyle=":", linewidth=1.5)
        ax.set_title(METRIC_LABELS.get(m, m), fontsize=9)
        ax.set_xticks(ks[order])
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        if i // ncols == nrows - 1 or i + ncols >= len(metrics):
            ax.set_xlabel("rank k", fontsize=9)
    title = "Rank survey"
    if selected is not None:
        title += f" (dotted: k = {selected})"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# consensus map
# --------------------------------------------------------------------------------------------
def _consensus_linkage(C, method):
    from scipy.cluster.hierarchy import linkage

    from desurv.model_selection.rank import _check_consensus, _consensus_distances

    C = _check_consensus(C)
    return C, linkage(_consensus_distances(C), method=method)


def consensus_order(consensus, method="average"):
    """Sample order of a consensus map: leaves of the hierarchical clustering of 1 − C.

    Parameters
    ----------
    consensus : array-like or pandas.DataFrame of shape (n_samples, n_samples)
        Symmetric, entries in [0, 1] (a consensus matrix of
        :func:`desurv.model_selection.nmf_rank_survey` with ``return_consensus=True``).
    method : str, default "average"
        Linkage (``scipy.cluster.hierarchy.linkage``); R NMF's consensusmap uses average.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
        ``scipy.cluster.hierarchy.leaves_list`` of the linkage: samples that cluster
        together are adjacent.

    Raises
    ------
    ValueError
        Not a square (n >= 2), symmetric matrix with entries in [0, 1]; unknown ``method``.
    """
    from scipy.cluster.hierarchy import leaves_list

    _, Z = _consensus_linkage(np.asarray(consensus, dtype=np.float64), method)
    return leaves_list(Z).astype(np.int64)


def plot_consensus_map(consensus, labels=None, *, method="average", ax=None, title=None):
    """Consensus matrix reordered by hierarchical clustering, with its dendrogram on top.

    Samples are ordered by :func:`consensus_order` (average-linkage clustering of the
    distances 1 − C, as R NMF's ``consensusmap``), so stable clusters show as blocks of
    1 on the diagonal. The dendrogram is drawn above the map, aligned with its columns.

    Parameters
    ----------
    consensus : array-like or pandas.DataFrame of shape (n_samples, n_samples)
        Symmetric, entries in [0, 1]. A DataFrame's index names the samples (shown as tick
        labels up to 40 samples).
    labels : array-like of shape (n_samples,), optional
        A per-sample annotation (known classes, cluster labels), drawn as a colour strip left
        of the map with a legend (at most 20 distinct values).
    method : str, default "average"
        Linkage method.
    ax : matplotlib Axes, optional
    title : str, optional
        Default "Consensus matrix".

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the reordered matrix C[order][:, order]; the dendrogram and
        the annotation strip are inset Axes of ``ax`` (in ``ax.child_axes``).

    Raises
    ------
    ValueError
        Invalid consensus matrix (see :func:`consensus_order`), labels of the wrong length,
        or more than 20 distinct labels.
    """
    from scipy.cluster.hierarchy import dendrogram

    names = None
    if isinstance(consensus, pd.DataFrame):
        names = [str(i) for i in consensus.index]
    C, Z = _consensus_linkage(np.asarray(consensus, dtype=np.float64), method)
    n = C.shape[0]
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(
                f"labels must have one entry per sample ({n}), got shape {labels.shape}"
            )
        groups = list(pd.unique(labels))
        try:
            groups = sorted(groups)
        except TypeError:  # mixed types: keep the order of appearance
            pass
        if len(groups) > 20:
            raise ValueError(
                f"labels has {len(groups)} distinct values; the annotation strip shows at "
                "most 20 (pass group labels, not sample names)"
            )

    ax = _new_axes(ax, (6.4, 6.0))
    dax = ax.inset_axes([0.0, 1.01, 1.0, 0.16])
    tree = dendrogram(
        Z,
        ax=dax,
        no_labels=True,
        color_threshold=0.0,
        above_threshold_color="0.3",
    )
    order = np.asarray(tree["leaves"], dtype=np.int64)
    dax.set_xlim(0, 10 * n)  # dendrogram leaves sit at 5, 15, ..., 10n − 5
    dax.set_axis_off()
    M = C[np.ix_(order, order)]
    im = ax.imshow(M, cmap="RdYlBu_r", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    cbar.set_label("consensus (fraction of runs clustered together)")
    if names is not None and n <= 40:
        shown = [names[i] for i in order]
        fs = 7 if n <= 30 else 5
        ax.set_xticks(range(n), shown, rotation=90, fontsize=fs)
        ax.set_yticks(range(n), shown, fontsize=fs)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel(f"samples (n = {n}, ordered by {method}-linkage clustering)")
    if labels is not None:
        plt = _pyplot()
        from matplotlib.patches import Patch

        codes = {g: i for i, g in enumerate(groups)}
        cmap = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
        strip = np.array([codes[g] for g in labels[order]], dtype=float)[:, None]
        lax = ax.inset_axes([-0.06, 0.0, 0.035, 1.0], sharey=ax)
        lax.imshow(
            strip,
            cmap=cmap,
            vmin=-0.5,
            vmax=cmap.N - 0.5,
            aspect="auto",
            interpolation="nearest",
        )
        lax.set_axis_off()
        handles = [Patch(color=cmap(codes[g]), label=str(g)) for g in groups]
        ax.legend(
            handles=handles,
            title="labels",
            fontsize=7,
            title_fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.25, 1.0),
            frameon=False,
        )
        if names is not None and n <= 40:
            ax.tick_params(axis="y", pad=22)
    ax.set_title(title if title is not None else "Consensus matrix", pad=60, fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# stability vs error
# --------------------------------------------------------------------------------------------
def plot_stability_vs_error(
    table, *, selected=None, error="reconstruction_error", stability="stability", ax=None
):
    """Signature stability and reconstruction error per k on twin axes (SigProfiler style).

    Stability (left axis, blue; the minimum cluster stability dashed when the table has
    ``stability_min``) usually stays near 1 up to the true rank and drops after it, while
    the reconstruction error (right axis, red) keeps falling: a good rank is the largest k
    that is still stable, beyond which the error no longer falls much.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per k with columns ``k``, ``stability`` and the ``error`` column, e.g.
        :func:`desurv.model_selection.signature_stability_survey` or
        :func:`desurv.model_selection.nmf_rank_survey` (with ``error="rss"``).
    selected : int, optional
        The chosen k, marked by a vertical line and a label (default: the row of a bool
        ``selected`` column, if any; none otherwise).
    error : str, default "reconstruction_error"
        Column of the error.
    stability : str, default "stability"
        Column of the stability.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The stability axes; the error axes is its twin (``ax.figure.axes``, sharing x). The
        first line of ``ax`` is (k, stability); the twin's first line is (k, error).

    Raises
    ------
    ValueError
        Not a DataFrame, no rows, missing or non-numeric columns, non-integer or repeated
        k, ``selected`` not a rank of the table.
    """
    _check_frame(table, "table", ("k", stability, error))
    ks = _check_k_column(table, "table")
    stab = _numeric_column(table, stability, "table")
    err = _numeric_column(table, error, "table")
    stab_min = None
    if stability == "stability" and "stability_min" in table.columns:
        stab_min = _numeric_column(table, "stability_min", "table")
    selected = _selected_k(table, selected, ks)
    order = np.argsort(ks, kind="stable")
    ks, stab, err = ks[order], stab[order], err[order]

    ax = _new_axes(ax, (6.4, 4.0))
    blue, red = "#1f77b4", _SELECTED_COLOUR
    ax.plot(ks, stab, marker="o", color=blue, linewidth=1.8, label=METRIC_LABELS["stability"])
    if stab_min is not None:
        ax.plot(
            ks,
            stab_min[order],
            marker="s",
            markersize=4,
            linestyle="--",
            color=blue,
            alpha=0.7,
            label=METRIC_LABELS["stability_min"],
        )
    ax.set_xlabel("rank k (number of signatures)")
    ax.set_ylabel("stability (silhouette)", color=blue)
    ax.tick_params(axis="y", colors=blue)
    ax.set_xticks(ks)
    lo = np.nanmin(stab if stab_min is None else np.concatenate([stab, stab_min]))
    ax.set_ylim(min(0.0, lo - 0.05) if np.isfinite(lo) else 0.0, 1.05)
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(
        ks, err, marker="D", color="#ff7f0e", linewidth=1.8, label=METRIC_LABELS.get(error, error)
    )
    ax2.set_ylabel(METRIC_LABELS.get(error, error), color="#ff7f0e")
    ax2.tick_params(axis="y", colors="#ff7f0e")
    if selected is not None:
        ax.axvline(selected, color=red, linestyle=":", linewidth=1.8)
        ax.annotate(
            f"k = {selected}",
            xy=(selected, 0.5),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            color=red,
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
        )
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    # on the twin (drawn last) so that no line crosses it
    ax2.legend(h1 + h2, l1 + l2, fontsize=8, loc="best", framealpha=0.9)
    ax.set_title("Signature stability and reconstruction error per k", fontsize=10)
    return ax


# --------------------------------------------------------------------------------------------
# bootstrap rank selection
# --------------------------------------------------------------------------------------------
def plot_bootstrap_rank(result, *, ax=None, log=None, show_train=True):
    """Bootstrap test errors per k as box plots, the chosen k marked, p-values annotated.

    One box per k of the out-of-bag test errors over the replicates; the chosen k's box is
    red and marked by a dotted line. Between consecutive boxes the one-sided Wilcoxon
    p-value of the step is written (``*`` when significant: the error fell consistently).

    Parameters
    ----------
    result : BootstrapRankResult
        From :func:`desurv.model_selection.select_rank_bootstrap` or
        :func:`desurv.model_selection.select_rank_from_errors` (any object with ``errors``,
        ``tests``, ``n_components_`` and ``alpha`` of that form).
    ax : matplotlib Axes, optional
    log : bool or None, default None
        Log y axis; None: when all errors are positive and span more than a factor 100.
    show_train : bool, default True
        Also mark the mean training error per k (grey crosses) when ``errors`` has a
        ``train_error`` column.

    Returns
    -------
    matplotlib.axes.Axes
        One box (a patch in ``ax.patches``) per k, in increasing k; the median lines have
        gid "median"; x tick labels are the ranks; the p-value texts are in ``ax.texts``.

    Raises
    ------
    ValueError
        ``result`` lacks ``errors``/``tests``/``n_components_``, or its errors table has no
        rows, missing columns or non-finite test errors.
    """
    if not all(hasattr(result, a) for a in ("errors", "tests", "n_components_")):
        raise ValueError(
            f"result must be a BootstrapRankResult (errors, tests, n_components_), got "
            f"{type(result).__name__}"
        )
    errors, tests = result.errors, result.tests
    _check_frame(errors, "result.errors", ("k", "bootstrap", "test_error"))
    if not isinstance(tests, pd.DataFrame):
        raise ValueError("result.tests must be a pandas DataFrame")
    te = pd.to_numeric(errors["test_error"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(te)):
        raise ValueError("result.errors['test_error'] must be finite numbers")
    ks = sorted(int(k) for k in errors["k"].unique())
    data = [te[errors["k"].to_numpy() == k] for k in ks]
    chosen = int(result.n_components_)
    if log is None:
        pos = te[te > 0]
        log = bool(pos.size == te.size and pos.max() / pos.min() > 100.0)

    ax = _new_axes(ax, (max(4.8, 0.8 * len(ks) + 2.5), 4.2))
    pos_x = np.arange(1, len(ks) + 1)
    bp = ax.boxplot(
        data,
        positions=pos_x,
        widths=0.55,
        patch_artist=True,
        showfliers=True,
        medianprops={"color": "black", "gid": "median"},
    )
    for k, box in zip(ks, bp["boxes"], strict=True):
        box.set_facecolor(_SELECTED_COLOUR if k == chosen else "#9ecae1")
        box.set_alpha(0.8)
    if chosen in ks:
        ax.axvline(pos_x[ks.index(chosen)], color=_SELECTED_COLOUR, linestyle=":", linewidth=1.2)
    if show_train and "train_error" in errors.columns:
        tr = errors.groupby("k")["train_error"].mean().reindex(ks).to_numpy(float)
        ax.plot(pos_x, tr, linestyle="none", marker="x", color="0.4", label="mean train error")
        ax.legend(fontsize=8, loc="upper right")
    if log:
        ax.set_yscale("log")
    ax.set_xticks(pos_x, [str(k) for k in ks])
    ax.set_xlabel("rank k")
    ax.set_ylabel("test error (MSE, out-of-bag samples)" + (" [log]" if log else ""))
    alpha = getattr(result, "alpha", None)
    for _, row in tests.iterrows():
        k, k_next = int(row["k"]), int(row["k_next"])
        if k not in ks or k_next not in ks:
            continue
        x = (pos_x[ks.index(k)] + pos_x[ks.index(k_next)]) / 2.0
        star = "*" if bool(row["significant"]) else ""
        ax.annotate(
            f"p={format_p(float(row['pvalue']))}{star}",
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    title = f"Bootstrap rank selection: k = {chosen}"
    if alpha is not None:
        title += f" (one-sided Wilcoxon, * p < {alpha:g})"
    ax.set_title(title, fontsize=10, pad=16)
    ax.grid(True, axis="y", alpha=0.3)
    return ax
