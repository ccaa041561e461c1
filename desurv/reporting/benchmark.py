"""Figures and output files of a benchmark (:func:`desurv.benchmark.run_benchmark`).

matplotlib is imported inside the functions (Agg backend when writing files).
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["plot_metric_by_method", "plot_time_vs_accuracy", "write_benchmark_outputs"]

#: Accuracy metrics tried, in this order, by :func:`write_benchmark_outputs`.
ACCURACY_METRICS = ("signature_cosine", "harrell_c", "f1_macro", "reconstruction_error")


def _ok(results, metric):
    sel = results[(results["metric"] == metric) & results["value"].notna()]
    if sel.empty:
        known = sorted(results.loc[results["value"].notna(), "metric"].unique())
        raise ValueError(f"no values of metric {metric!r} in the results; have {known}")
    return sel


def _subset(sel):
    """Prefer held-out values when a metric was measured on both subsets."""
    return sel[sel["subset"] == "test"] if (sel["subset"] == "test").any() else sel


def plot_metric_by_method(results, metric):
    """Box plot with the individual values (strip) per method, one panel per data set.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`desurv.benchmark.run_benchmark`.
    metric : str
        Metric name (``test`` values are shown when the metric has them, else ``train``).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No value of ``metric`` in ``results``.
    """
    import matplotlib.pyplot as plt

    sel = _subset(_ok(results, metric))
    datasets = list(dict.fromkeys(sel["dataset"]))
    methods = list(dict.fromkeys(results["method"]))
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(max(4, 1.2 * len(methods)) * len(datasets), 4), squeeze=False
    )
    rng = np.random.default_rng(0)
    for ax, dname in zip(axes[0], datasets, strict=True):
        d = sel[sel["dataset"] == dname]
        present = [m for m in methods if (d["method"] == m).any()]
        data = [d.loc[d["method"] == m, "value"].to_numpy() for m in present]
        ax.boxplot(data, showfliers=False)
        for i, vals in enumerate(data, start=1):
            ax.plot(i + rng.uniform(-0.12, 0.12, len(vals)), vals, "o", ms=3, alpha=0.7, color="C0")
        ax.set_xticks(range(1, len(present) + 1), present, rotation=30, ha="right")
        ax.set_title(dname)
        ax.set_ylabel(f"{metric} ({d['subset'].iloc[0]})")
    fig.tight_layout()
    return fig


def plot_time_vs_accuracy(results, accuracy_metric):
    """Median wall time against the median of an accuracy metric, one point per method.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`desurv.benchmark.run_benchmark` (needs ``wall_time`` rows).
    accuracy_metric : str
        Metric on the y axis (``test`` values when present).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No ``wall_time`` or no ``accuracy_metric`` values in ``results``.
    """
    import matplotlib.pyplot as plt

    acc = _subset(_ok(results, accuracy_metric))
    wt = _ok(results, "wall_time")
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, dname in enumerate(dict.fromkeys(acc["dataset"])):
        a = acc[acc["dataset"] == dname].groupby("method", sort=False)["value"].median()
        t = wt[wt["dataset"] == dname].groupby("method", sort=False)["value"].median()
        common = [m for m in a.index if m in t.index]
        ax.scatter(t[common], a[common], label=dname, color=f"C{i}")
        for m in common:
            ax.annotate(m, (t[m], a[m]), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("median wall time (s)")
    ax.set_ylabel(f"median {accuracy_metric}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_benchmark_outputs(results, out_dir, *, overwrite=False, command="bench"):
    """Write ``results.csv``, ``summary.csv`` and PNG plots into a new output folder.

    Follows :mod:`desurv._output`: ``out_dir`` must be new or empty (or, with
    ``overwrite``, an earlier desurv result); files are written to a staging folder that
    becomes ``out_dir`` only when complete, with a ``desurv_run.json`` manifest.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`desurv.benchmark.run_benchmark`.
    out_dir : str or Path
    overwrite : bool, default=False
        Replace an earlier desurv result in ``out_dir``.
    command : str, default="bench"
        Recorded in the manifest.

    Returns
    -------
    list of str
        Names of the files written (besides the manifest).

    Raises
    ------
    desurv._output.OutputError
        ``out_dir`` refused (see :mod:`desurv._output`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from desurv._output import staged_output
    from desurv.benchmark import summarize

    written = []
    with staged_output(out_dir, overwrite=overwrite, command=command) as tmp:
        results.to_csv(tmp / "results.csv", index=False)
        summarize(results).to_csv(tmp / "summary.csv", index=False)
        written += ["results.csv", "summary.csv"]
        have = list(dict.fromkeys(results.loc[results["value"].notna(), "metric"]))
        for metric in have:
            fig = plot_metric_by_method(results, metric)
            name = f"metric_{_safe(metric)}.png"
            fig.savefig(tmp / name, dpi=100)
            plt.close(fig)
            written.append(name)
        if "wall_time" in have:
            for metric in ACCURACY_METRICS:
                if metric in have:
                    fig = plot_time_vs_accuracy(results, metric)
                    name = f"time_vs_{_safe(metric)}.png"
                    fig.savefig(tmp / name, dpi=100)
                    plt.close(fig)
                    written.append(name)
                    break
    return written
