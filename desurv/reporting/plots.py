"""Figures for DeSurv runs: model selection, survival curves, hazard ratios, gene programs.

matplotlib is an optional dependency (``pip install 'desurv[plot]'``); it is imported only when
a function here is called. Every function takes an optional ``ax=`` (a new figure is created
when it is None), returns the Axes it drew on, labels its axes with units and never calls
``plt.show()``.

Functions
---------
plot_cv_heatmap
    Cross-validated C-index over the grid k × α.
plot_cindex_vs_alpha
    Cross-validated C-index against α, one line per k, with ±1 SE error bars.
plot_kaplan_meier
    Kaplan–Meier curves per group with censoring ticks, numbers at risk and log-rank p.
plot_forest
    Forest plot of hazard ratios with confidence intervals.
plot_gene_programs
    Heatmap of the column-max-scaled gene programs W̃ on each factor's top genes.
plot_loss_history
    Objective and its components per iteration of the solver.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from desurv.exceptions import DataWarning

__all__ = [
    "plot_cindex_vs_alpha",
    "plot_cv_heatmap",
    "plot_forest",
    "plot_gene_programs",
    "plot_kaplan_meier",
    "plot_loss_history",
]

CV_COLUMNS = (
    "n_components",
    "alpha",
    "penalty",
    "l1_ratio",
    "penalty_w",
    "penalty_h",
    "mean_cindex",
    "se_cindex",
    "n_folds",
)
# Hyperparameters besides (k, α) over which a (k, α) cell may take its best value.
_OTHER_PARAMS = {"penalty": "λ", "l1_ratio": "ξ", "penalty_w": "λ_W", "penalty_h": "λ_H"}
_VALUE_LABELS = {
    "mean_cindex": "mean CV C-index",
    "se_cindex": "SE of CV C-index",
}
FOREST_COLUMNS = ("term", "hr", "ci_lower", "ci_upper", "p")
_LOSS_LABELS = {
    "loss": "objective F",
    "nmf_loss": "NMF loss ‖X − WH‖²/(2np)",
    "cox_loss": "Cox loss −ℓ/n_event",
    "enet_beta": "elastic-net term P_ξ(β⊙sd(Z)) (before λ)",
    "sqnorm_w": "‖W‖²/(2pk) (before λ_W)",
    "sqnorm_h": "‖H‖²/(2nk) (before λ_H)",
}


def _pyplot():
    """Import matplotlib.pyplot lazily, with an install hint when it is missing."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "desurv.reporting.plots needs matplotlib, which is not installed: "
            "pip install 'desurv[plot]' (or pip install matplotlib)"
        ) from exc
    return plt


def _new_axes(ax, figsize):
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_frame(df, name, required):
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it needs columns {list(required)} "
            f"(got {list(df.columns)})"
        )
    if len(df) == 0:
        raise ValueError(f"{name} has no rows; nothing to plot")


def format_p(p):
    """Format a p-value for a figure: 3 decimals, scientific below 0.001, '' when missing."""
    if p is None or not np.isfinite(p):
        return ""
    return f"{p:.3f}" if p >= 1e-3 else f"{p:.1e}"


def _fmt_num(x):
    if not np.isfinite(x):
        return "n/a"
    return f"{x:.2f}" if 0.01 <= abs(x) < 1000 else f"{x:.2g}"


# --------------------------------------------------------------------------------------------
# Model selection
# --------------------------------------------------------------------------------------------
def best_per_cell(summary):
    """Best configuration (highest ``mean_cindex``) for each (k, α) of a CV summary.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per hyperparameter configuration with at least the columns of
        :data:`CV_COLUMNS`.

    Returns
    -------
    best : pandas.DataFrame
        One row per (``n_components``, ``alpha``), sorted by both, holding the row of
        ``summary`` with the highest ``mean_cindex`` in that cell (ties: first row).
    varying : list of str
        The other hyperparameters (λ, ξ, λ_W, λ_H columns) that take more than one value,
        i.e. those the best was taken over.
    """
    _check_frame(summary, "summary", CV_COLUMNS)
    varying = [c for c in _OTHER_PARAMS if summary[c].nunique(dropna=False) > 1]
    order = summary.sort_values("mean_cindex", ascending=False, na_position="last", kind="stable")
    best = order.drop_duplicates(["n_components", "alpha"], keep="first")
    best = best.sort_values(["n_components", "alpha"], kind="stable")
    return best, varying


def _selected_rows(summary):
    if "selected" not in summary.columns:
        return summary.iloc[:0]
    sel = summary["selected"]
    if sel.dtype != bool:
        sel = sel.astype(str).str.lower().isin(["true", "1"])
    return summary[sel.to_numpy()]


def _describe_config(row, varying):
    parts = [f"k={int(row['n_components'])}", f"α={row['alpha']:g}"]
    parts += [f"{_OTHER_PARAMS[c]}={row[c]:g}" for c in varying]
    return ", ".join(parts)


def plot_cv_heatmap(summary, *, value="mean_cindex", ax=None):
    """Heatmap of a cross-validation summary over the grid k (rows) × α (columns).

    When other hyperparameters (λ, ξ, λ_W, λ_H) vary, each (k, α) cell shows ``value`` of the
    configuration with the highest mean C-index in that cell, and the title says so. Cells are
    annotated with their value; the selected configuration's cell (column ``selected``) is
    outlined in red.

    Parameters
    ----------
    summary : pandas.DataFrame
        One row per configuration, columns ``n_components``, ``alpha``, ``penalty``,
        ``l1_ratio``, ``penalty_w``, ``penalty_h``, ``mean_cindex``, ``se_cindex``,
        ``n_folds`` and optionally a bool ``selected``.
    value : str, default "mean_cindex"
        Numeric column shown in the cells.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the (n_k × n_α) array shown (NaN where a cell has no run).

    Raises
    ------
    ValueError
        Missing columns, no rows, or a non-numeric ``value`` column.
    """
    best, varying = best_per_cell(summary)
    if value not in summary.columns:
        raise ValueError(
            f"value={value!r} is not a column of summary (got {list(summary.columns)})"
        )
    if not pd.api.types.is_numeric_dtype(summary[value]):
        raise ValueError(f"value={value!r} must name a numeric column of summary")
    grid = best.pivot(index="n_components", columns="alpha", values=value)
    ks, alphas = list(grid.index), list(grid.columns)
    data = grid.to_numpy(dtype=float)

    ax = _new_axes(ax, (max(4.5, 1.0 * len(alphas) + 2.5), max(3.0, 0.6 * len(ks) + 1.8)))
    masked = np.ma.masked_invalid(data)
    im = ax.imshow(masked, cmap="viridis", aspect="auto")
    cbar = ax.figure.colorbar(im, ax=ax)
    cbar.set_label(_VALUE_LABELS.get(value, value))
    # Annotation colour follows the cell's luminance so the text stays readable.
    lo, hi = (np.nanmin(data), np.nanmax(data)) if np.isfinite(data).any() else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    for i in range(len(ks)):
        for j in range(len(alphas)):
            v = data[i, j]
            if np.isfinite(v):
                colour = "white" if (v - lo) / span < 0.6 else "black"
                ax.text(j, i, f"{v:.3f}", ha="center", va="center", color=colour, fontsize=9)
    ax.set_xticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    ax.set_yticks(range(len(ks)), [str(int(k)) for k in ks])
    ax.set_xlabel("α (weight of the Cox term)")
    ax.set_ylabel("k (number of factors)")

    title = f"Cross-validation: {_VALUE_LABELS.get(value, value)}"
    if varying:
        title += f"\n(best over {', '.join(_OTHER_PARAMS[c] for c in varying)} per cell)"
    from matplotlib.patches import Rectangle

    selected = _selected_rows(summary)
    for _, row in selected.iterrows():
        i, j = ks.index(row["n_components"]), alphas.index(row["alpha"])
        ax.add_patch(
            Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=3, zorder=3)
        )
    if len(selected):
        title += "\nselected (red): " + "; ".join(
            _describe_config(r, varying) for _, r in selected.iterrows()
        )
    ax.set_title(title, fontsize=10)
    return ax


def plot_cindex_vs_alpha(summary, *, ax=None, dodge=0.012):
    """Cross-validated C-index against α, one line per k, with ±1 standard-error bars.

    When other hyperparameters vary, each point is the configuration with the highest mean
    C-index at that (k, α) and the title says so. The selected configuration is a red star; a
    dashed line marks C = 0.5 (a random ranking). So that the error bars of different k do
    not hide each other, the lines are shifted sideways by ``dodge`` (a fraction of the α
    range) between neighbouring k; the x ticks mark the true α values.

    Parameters
    ----------
    summary : pandas.DataFrame
        CV summary, see :func:`plot_cv_heatmap`.
    ax : matplotlib Axes, optional
    dodge : float >= 0, default 0.012
        Sideways shift between neighbouring k, as a fraction of the α range (0: none).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers`` holds one errorbar container per k, in increasing k.

    Raises
    ------
    ValueError
        Missing columns, no rows, or a negative ``dodge``.
    """
    best, varying = best_per_cell(summary)
    if not dodge >= 0:
        raise ValueError(f"dodge must be >= 0, got {dodge}")
    alphas = np.sort(best["alpha"].unique().astype(float))
    ks = sorted(best["n_components"].unique())
    span = alphas[-1] - alphas[0] if len(alphas) > 1 else 1.0
    shift = {k: (i - (len(ks) - 1) / 2) * dodge * span for i, k in enumerate(ks)}

    own = ax is None
    ax = _new_axes(ax, (7.5, 4.5))
    for k, rows in best.groupby("n_components", sort=True):
        ax.errorbar(
            rows["alpha"].to_numpy(float) + shift[k],
            rows["mean_cindex"].to_numpy(float),
            yerr=rows["se_cindex"].to_numpy(float),
            marker="o",
            markersize=4,
            capsize=3,
            linewidth=1.5,
            label=f"k = {int(k)}",
        )
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="C = 0.5 (chance)")
    selected = _selected_rows(summary)
    if len(selected):
        ax.plot(
            selected["alpha"].to_numpy(float)
            + np.array([shift.get(k, 0.0) for k in selected["n_components"]]),
            selected["mean_cindex"].to_numpy(float),
            linestyle="none",
            marker="*",
            markersize=16,
            color="red",
            markeredgecolor="black",
            zorder=5,
            label="selected",
        )
    folds = summary["n_folds"].dropna().unique()
    over = f"{int(folds[0])} folds" if len(folds) == 1 else "folds"
    ax.set_xticks(alphas, [f"{a:g}" for a in alphas])
    ax.set_xlabel("α (weight of the Cox term)")
    ax.set_ylabel(f"C-index (mean ± 1 SE over {over})")
    title = "Cross-validated C-index against α"
    if varying:
        title += f"\n(best over {', '.join(_OTHER_PARAMS[c] for c in varying)} at each point)"
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith("k = "))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0,
    )
    if own:  # room for the legend outside the axes
        ax.figure.subplots_adjust(right=0.78)
    return ax


# --------------------------------------------------------------------------------------------
# Survival curves
# --------------------------------------------------------------------------------------------
def _group_order(groups):
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype):
        present = set(groups.dropna().unique())
        return [c for c in groups.cat.categories if c in present]
    uniq = pd.unique(groups)
    try:
        return sorted(uniq)
    except TypeError:  # mixed types: order by their text
        return sorted(uniq, key=str)


def _group_labels(order, labels):
    if labels is None:
        return [str(g) for g in order]
    if isinstance(labels, dict):
        return [str(labels.get(g, g)) for g in order]
    labels = list(labels)
    if len(labels) != len(order):
        raise ValueError(
            f"labels has {len(labels)} entries but groups has {len(order)} distinct values "
            f"{order}; give one label per group (in that order) or a dict group -> label"
        )
    return [str(x) for x in labels]


def plot_kaplan_meier(
    time,
    event,
    groups,
    *,
    labels=None,
    title=None,
    ax=None,
    at_risk=True,
    logrank_p=None,
    time_unit="months",
):
    """Kaplan–Meier survival curves per group, with numbers at risk and the log-rank p-value.

    Curves, pointwise 95% confidence bands and censoring ticks are drawn by lifelines
    (``KaplanMeierFitter.plot_survival_function``); the table of numbers at risk under the
    axis comes from ``lifelines.plotting.add_at_risk_counts`` (subjects still at risk just
    after each time tick).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Follow-up times in ``time_unit``, finite and >= 0.
    event : array-like of shape (n_samples,)
        1/True = event observed, 0/False = censored.
    groups : array-like of shape (n_samples,)
        Group of each sample (e.g. "high"/"low" risk). Groups are drawn in sorted order, or in
        category order for a pandas Categorical.
    labels : sequence of str or dict, optional
        Display names: one per group in drawing order, or a mapping group -> name.
    title : str, optional
    ax : matplotlib Axes, optional
    at_risk : bool, default True
        Add the numbers-at-risk table under the axis (as a twin Axes of ``ax``).
    logrank_p : float, str, False or None, default None
        p-value printed on the plot (``"log-rank p = …"``, formatted by :func:`format_p`).
        None computes the log-rank test across all groups
        (``lifelines.statistics.multivariate_logrank_test``; with two groups this is the usual
        two-sample log-rank test); False prints none. Pass the p-value of the table the figure
        accompanies so that both agree; a string is printed as given (e.g. the p-value exactly
        as that table shows it).
    time_unit : str or None, default "months"
        Unit shown on the x axis label ("Time (months)"); None shows just "Time".

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Mismatched lengths, invalid times or events, missing group values, or labels that do
        not match the groups.
    """
    from desurv._validation import check_time_event

    try:
        from lifelines import KaplanMeierFitter
        from lifelines.plotting import add_at_risk_counts
        from lifelines.statistics import multivariate_logrank_test
    except ImportError as exc:  # pragma: no cover - lifelines is a core dependency
        raise ImportError("plot_kaplan_meier needs lifelines: pip install lifelines") from exc

    time, event = check_time_event(time, event, require_event=False)
    if isinstance(groups, pd.Categorical):  # keep the category order (e.g. low < high)
        groups = pd.Series(groups)
    groups = groups if isinstance(groups, pd.Series) else pd.Series(np.asarray(groups))
    groups = groups.reset_index(drop=True)
    if len(groups) != len(time):
        raise ValueError(f"groups has {len(groups)} values but time has {len(time)}")
    if groups.isna().any():
        bad = np.flatnonzero(groups.isna().to_numpy())[:10].tolist()
        raise ValueError(
            f"groups has missing values (positions {bad}...); drop those samples or assign "
            "them a group"
        )
    order = _group_order(groups)
    names = _group_labels(order, labels)

    n_groups = len(order)
    fig_h = 4.5 + (0.25 * (n_groups + 2) if at_risk else 0)
    own = ax is None
    ax = _new_axes(ax, (7.5, fig_h))
    fitters = []
    for g, name in zip(order, names, strict=True):
        mask = (groups == g).to_numpy()
        n, d = int(mask.sum()), int(event[mask].sum())
        kmf = KaplanMeierFitter(label=name).fit(time[mask], event[mask])
        kmf.plot_survival_function(
            ax=ax,
            show_censors=True,
            censor_styles={"marker": "|", "ms": 7, "mew": 1.2},
            ci_show=True,
            ci_alpha=0.15,
            label=f"{name} (n = {n}, events = {d})",
        )
        fitters.append(kmf)

    ax.set_xlim(0, float(time.max()) * 1.03 if time.max() > 0 else 1.0)
    ax.set_ylim(0, 1.04)
    ax.set_xlabel("Time" if time_unit is None else f"Time ({time_unit})")
    ax.set_ylabel("Survival probability")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    if title is not None:
        ax.set_title(title, fontsize=10)

    if logrank_p is None and n_groups >= 2:
        logrank_p = multivariate_logrank_test(time, groups.to_numpy(), event).p_value
    if logrank_p is not None and logrank_p is not False:
        p_text = logrank_p if isinstance(logrank_p, str) else format_p(float(logrank_p))
        ax.text(
            0.02,
            0.04,
            f"log-rank p = {p_text}",
            transform=ax.transAxes,
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )

    if at_risk:
        add_at_risk_counts(
            *fitters,
            labels=names,
            rows_to_show=["At risk"],
            ax=ax,
            fig=ax.figure,
            fontsize=8,
            fontfamily="monospace",
        )
        if own:  # room below the axis for the table, left of it for the group names
            fig = ax.figure
            need = 0.75 + 0.16 * (n_groups + 1) + 0.15
            fig.subplots_adjust(bottom=min(0.6, need / fig.get_figheight()), left=0.17)
    return ax


# --------------------------------------------------------------------------------------------
# Hazard ratios
# --------------------------------------------------------------------------------------------
def _log_ticks(lo, hi):
    """Readable tick positions for a log axis on [lo, hi] (always including 1 when inside)."""
    if np.log10(hi) - np.log10(lo) > 2.5:  # wide range: powers of ten, at most ~5 of them
        e = np.arange(np.ceil(np.log10(lo)), np.floor(np.log10(hi)) + 1)
        step = int(np.ceil(len(e) / 5))
        return 10.0 ** e[e % step == 0]
    cands = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10, 20, 50, 100])
    inside = cands[(cands >= lo) & (cands <= hi)]
    if len(inside) > 7:  # thin out, keeping 1
        inside = inside[np.isin(inside, (0.01, 0.1, 0.5, 1, 2, 10, 100))]
    return inside


def _tick_label(x):
    e = np.log10(x)
    if abs(e) >= 3 and np.isclose(e, round(e)):
        return f"$10^{{{int(round(e))}}}$"
    return f"{x:g}"


def plot_forest(hazard_ratios, *, ax=None, title=None, ci_label="95% CI"):
    """Forest plot of hazard ratios with confidence intervals, grouped by cohort.

    Each row is a square at the hazard ratio with a horizontal line over its confidence
    interval on a log x axis, with a dashed line at HR = 1; ``HR [CI]`` and the p-value are
    printed to the right of the axis. With a ``cohort`` column, rows are grouped under a bold
    cohort heading (cohorts in order of first appearance, rows in table order).

    Parameters
    ----------
    hazard_ratios : pandas.DataFrame
        Columns ``term``, ``hr``, ``ci_lower``, ``ci_upper``, ``p`` and optionally ``cohort``.
        Hazard ratios and limits must be > 0; a missing (NaN) limit draws no interval and a
        missing HR prints "n/a".
    ax : matplotlib Axes, optional
    title : str, optional
        Default "Hazard ratios".
    ci_label : str, default "95% CI"
        Name of the interval in the column heading.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` holds the markers: x = hazard ratios in display order (top to bottom).

    Raises
    ------
    ValueError
        Missing columns, no rows, or non-positive hazard ratios / limits.

    Warns
    -----
    DataWarning
        When a hazard ratio lies outside its own interval.
    """
    _check_frame(hazard_ratios, "hazard_ratios", FOREST_COLUMNS)
    df = hazard_ratios.reset_index(drop=True)
    vals = df[["hr", "ci_lower", "ci_upper", "p"]].apply(pd.to_numeric, errors="coerce")
    for c in ("hr", "ci_lower", "ci_upper"):
        bad = vals[c].notna() & (vals[c] <= 0)
        if bad.any():
            raise ValueError(
                f"hazard_ratios[{c!r}] must be > 0 for a log axis; rows "
                f"{df.loc[bad, 'term'].tolist()} have {vals.loc[bad, c].tolist()}"
            )
    outside = (vals["hr"] < vals["ci_lower"]) | (vals["hr"] > vals["ci_upper"])
    if outside.any():
        warnings.warn(
            f"hazard_ratios: HR outside its interval for terms {df.loc[outside, 'term'].tolist()}",
            DataWarning,
            stacklevel=2,
        )

    # Display rows top to bottom: optional cohort heading, then its terms.
    rows, headings = [], []  # rows: index into df or None for a heading
    if "cohort" in df.columns:
        for cohort in pd.unique(df["cohort"]):
            headings.append(len(rows))
            rows.append(("heading", str(cohort)))
            idx = (
                df.index[df["cohort"] == cohort]
                if pd.notna(cohort)
                else df.index[df["cohort"].isna()]
            )
            rows += [("term", i) for i in idx]
    else:
        rows = [("term", i) for i in df.index]
    n_rows = len(rows)
    ypos = np.arange(n_rows)[::-1].astype(float)
    term_rows = [(y, i) for (kind, i), y in zip(rows, ypos, strict=True) if kind == "term"]
    ys = np.array([y for y, _ in term_rows])
    order = [i for _, i in term_rows]
    hr = vals.loc[order, "hr"].to_numpy(float)
    lo = vals.loc[order, "ci_lower"].to_numpy(float)
    hi = vals.loc[order, "ci_upper"].to_numpy(float)
    pv = vals.loc[order, "p"].to_numpy(float)

    labels = []
    for kind, item in rows:
        if kind == "heading":
            labels.append(item)
        else:
            prefix = "   " if headings else ""
            labels.append(prefix + str(df.loc[item, "term"]))
    # One monospace string per row keeps the HR [CI] and p columns aligned whatever the widths.
    cis = [
        f"{_fmt_num(h)} [{_fmt_num(a)}, {_fmt_num(b)}]" for h, a, b in zip(hr, lo, hi, strict=True)
    ]
    width = max([len(c) for c in cis] + [len(ci_label) + 5])

    own = ax is None
    if own:  # size the figure so labels, a 4-inch axis and the text columns all fit
        left_in = 0.085 * max(len(lbl) for lbl in labels) + 0.3
        text_in = 0.075 * (width + 9) + 0.3
        fig_w, fig_h = left_in + 4.0 + text_in, max(0.8, 0.38 * n_rows) + 0.6 + 0.7
        ax = _new_axes(None, (fig_w, fig_h))
        ax.figure.subplots_adjust(
            left=left_in / fig_w,
            right=(left_in + 4.0) / fig_w,
            bottom=0.6 / fig_h,  # tick labels and x label
            top=1 - 0.7 / fig_h,  # title and column headings
        )
    ax.plot(hr, ys, linestyle="none", marker="s", markersize=7, color="C0", zorder=3)
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    ax.hlines(ys[has_ci], lo[has_ci], hi[has_ci], color="C0", linewidth=1.8, zorder=2)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1, zorder=1)
    ax.set_xscale("log")
    finite = np.concatenate([x[np.isfinite(x)] for x in (hr, lo, hi)] + [np.array([1.0])])
    xmin, xmax = finite.min() / 1.25, finite.max() * 1.25
    ax.set_xlim(xmin, xmax)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ticks = _log_ticks(xmin, xmax)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _tick_label(x)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(-0.7, n_rows - 0.3)
    ax.set_yticks(ypos, labels)
    for t in (ax.get_yticklabels()[h] for h in headings):
        t.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)

    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(ax.transAxes, ax.transData)
    mono = {"fontsize": 8.5, "family": "monospace", "clip_on": False}
    for y, ci, p in zip(ys, cis, pv, strict=True):
        ax.text(1.03, y, f"{ci:<{width}}  {format_p(p):>7}", transform=trans, va="center", **mono)
    header = f"{'HR [' + ci_label + ']':<{width}}  {'p':>7}"
    ax.text(1.03, 1.01, header, transform=ax.transAxes, fontweight="bold", **mono)
    ax.set_xlabel("Hazard ratio (log scale)")
    ax.set_title(title if title is not None else "Hazard ratios", pad=18)
    ax.grid(True, axis="x", alpha=0.3)
    return ax


# --------------------------------------------------------------------------------------------
# Gene programs and solver history
# --------------------------------------------------------------------------------------------
def scaled_programs(W):
    """W̃: each column of W divided by its maximum (columns with max <= 0 are left as they are).

    Parameters
    ----------
    W : array-like of shape (n_genes, n_components)

    Returns
    -------
    ndarray of float64, shape (n_genes, n_components)
    """
    W = np.asarray(W, dtype=np.float64)
    col_max = W.max(axis=0)
    col_max = np.where(col_max > 0, col_max, 1.0)
    return W / col_max


def plot_gene_programs(W, gene_names=None, *, n_top=10, ax=None):
    """Heatmap of the gene programs on the union of each factor's top genes.

    Shows W̃ (W scaled column-wise by its maximum, values in [0, 1]) for the top ``n_top``
    genes of every factor ranked by the DeSurv paper's specificity score
    s_gf = W̃_gf − max_{r≠f} W̃_gr (:func:`desurv.top_genes`). Genes are grouped by factor
    (factor 1's genes first, best first; a gene already shown is not repeated), with white
    lines between the groups.

    Parameters
    ----------
    W : array-like or pandas.DataFrame of shape (n_genes, n_components)
        Nonnegative gene programs (``DeSurv.W_``). A DataFrame supplies gene names (index) and
        factor names (columns).
    gene_names : sequence of str of length n_genes, optional
        Overrides the DataFrame index; default gene indices.
    n_top : int, default 10
        Top genes per factor (capped at n_genes).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.images[0]`` holds the (n_shown_genes × n_components) array of W̃.

    Raises
    ------
    ValueError
        W not 2-D, empty, non-finite or negative; gene_names of the wrong length; n_top < 1.
    """
    from desurv.deconvolution.estimator import top_genes

    factor_names = None
    if isinstance(W, pd.DataFrame):
        if gene_names is None:
            gene_names = W.index.astype(str).tolist()
        factor_names = W.columns.astype(str).tolist()
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.size == 0:
        raise ValueError(f"W must be a non-empty 2-D array (genes × factors), got shape {W.shape}")
    if not np.all(np.isfinite(W)) or np.any(W < 0):
        raise ValueError("W must be finite and nonnegative (gene programs from NMF)")
    p, k = W.shape
    if gene_names is None:
        gene_names = [str(i) for i in range(p)]
    gene_names = [str(g) for g in gene_names]
    if len(gene_names) != p:
        raise ValueError(f"gene_names has {len(gene_names)} entries but W has {p} rows (genes)")
    if int(n_top) < 1:
        raise ValueError(f"n_top must be >= 1, got {n_top}")
    if factor_names is None:
        factor_names = [f"factor_{f + 1}" for f in range(k)]

    # Indices (not names) so duplicated gene symbols stay unambiguous.
    tops = top_genes(W, int(n_top), np.arange(p))
    shown, group_sizes = [], []
    for f in range(k):
        new = [int(i) for i in tops.iloc[:, f] if int(i) not in shown]
        shown += new
        group_sizes.append(len(new))
    Wt = scaled_programs(W)[shown]

    ax = _new_axes(ax, (2.6 + 0.8 * k, 0.17 * len(shown) + 1.6))
    im = ax.imshow(Wt, cmap="YlGnBu", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.08, pad=0.04)
    cbar.set_label("W̃ (W / column max)")
    for edge in np.cumsum(group_sizes)[:-1]:
        ax.axhline(edge - 0.5, color="white", linewidth=2)
    ax.set_xticks(
        range(k), factor_names, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center"
    )
    fontsize = 8 if len(shown) <= 60 else 6
    ax.set_yticks(range(len(shown)), [gene_names[i] for i in shown], fontsize=fontsize)
    ax.set_xlabel("factor")
    ax.set_ylabel(f"top {int(n_top)} genes per factor (grouped by factor)")
    ax.set_title("Gene programs (top genes by specificity)", fontsize=10)
    return ax


def plot_loss_history(loss_history, *, ax=None, columns=None, relative=True):
    """Objective F and its components per iteration of the solver (``DeSurv.loss_history_``).

    The components live on very different scales and change by a few percent, so by default
    each is shown relative to its value at the first iteration (F_t / F_1): the curves then
    show which terms the optimisation traded against each other. With ``relative=False`` the
    raw values are drawn (log y axis when all are positive).

    Parameters
    ----------
    loss_history : pandas.DataFrame
        One row per iteration; the iteration is the index, or an ``iteration`` column.
    ax : matplotlib Axes, optional
    columns : sequence of str, optional
        Columns to draw, e.g. add ``"enet_beta"``, ``"sqnorm_w"``, ``"sqnorm_h"``;
        requested columns absent from ``loss_history`` are an error. Default: those of
        ``loss``, ``nmf_loss``, ``cox_loss`` that are present.
    relative : bool, default True
        Divide each column by its first finite value (columns whose first value is 0 are
        drawn unscaled, and the legend says so).

    Returns
    -------
    matplotlib.axes.Axes
        One line per column, in the order given.

    Raises
    ------
    ValueError
        Not a DataFrame, no rows, requested columns missing, or (by default) none of
        ``loss``, ``nmf_loss``, ``cox_loss`` present.
    """
    if not isinstance(loss_history, pd.DataFrame):
        raise ValueError(
            f"loss_history must be a pandas DataFrame, got {type(loss_history).__name__}"
        )
    if columns is None:
        columns = [c for c in ("loss", "nmf_loss", "cox_loss") if c in loss_history.columns]
    else:
        columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in loss_history.columns]
    if missing or not columns:
        raise ValueError(
            f"loss_history is missing column(s) {missing or columns}; choose columns from "
            f"{list(loss_history.columns)} (DeSurv.loss_history_ has {list(_LOSS_LABELS)})"
        )
    if len(loss_history) == 0:
        raise ValueError("loss_history has no rows; nothing to plot")
    if "iteration" in loss_history.columns:
        it = loss_history["iteration"].to_numpy(float)
    elif pd.api.types.is_numeric_dtype(loss_history.index):
        it = loss_history.index.to_numpy(float)
    else:
        it = np.arange(1, len(loss_history) + 1, dtype=float)

    ax = _new_axes(ax, (6.5, 4.2))
    values = []
    for c in columns:
        v = pd.to_numeric(loss_history[c], errors="coerce").to_numpy(float)
        label = _LOSS_LABELS.get(c, c)
        if relative:
            first = v[np.isfinite(v)][:1]
            if first.size and first[0] != 0:
                v = v / first[0]
            else:
                label += " (unscaled: first value 0)"
        values.append(v)
        # F is drawn on top, dashed, since it often runs along its largest component.
        style = {"color": "black", "linestyle": "--", "zorder": 3} if c == "loss" else {}
        ax.plot(it, v, label=label, linewidth=1.6, **style)
    ax.set_xlabel("iteration")
    if relative:
        ax.set_ylabel("value relative to iteration 1")
        ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    else:
        allv = np.concatenate(values)
        allv = allv[np.isfinite(allv)]
        logy = allv.size > 0 and bool(np.all(allv > 0))
        if logy:
            ax.set_yscale("log")
        ax.set_ylabel("value (log scale)" if logy else "value")
    ax.set_title("Objective and its components per iteration", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax
