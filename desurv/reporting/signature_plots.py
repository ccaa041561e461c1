"""Figures of mutational signatures: SBS96 profiles, exposures, rank selection.

matplotlib is optional (``pip install 'desurv[plot]'``) and imported only when a function
runs. Functions return the matplotlib Figure (or Axes where stated), label their axes with
units and never call ``plt.show()``.

Functions
---------
plot_signature_profile
    The standard 96-bar SBS profile, one panel per signature: bars coloured by substitution
    class with COSMIC's colours, channels ordered by substitution then 5' and 3' base, the
    matched COSMIC signature and its cosine in each panel's title.
plot_exposures
    Stacked bars of the mutations each signature contributes to each sample (samples sorted
    by total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from desurv.datasets.mutational import SBS96_CHANNELS

__all__ = ["SBS_COLORS", "plot_exposures", "plot_signature_profile"]

#: COSMIC's colours of the six substitution classes.
SBS_COLORS = {
    "C>A": "#1EBFF0",
    "C>G": "#050708",
    "C>T": "#E62725",
    "T>A": "#CBCACB",
    "T>C": "#A1CE63",
    "T>G": "#EDC8C5",
}
_SUBS = tuple(SBS_COLORS)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "desurv.reporting.signature_plots needs matplotlib, which is not installed: "
            "pip install 'desurv[plot]' (or pip install matplotlib)"
        ) from exc
    return plt


def _as_signature_frame(signatures):
    """Channels × signatures DataFrame in the canonical SBS96 order."""
    if isinstance(signatures, pd.Series):
        signatures = signatures.to_frame(name=signatures.name if signatures.name else "S1")
    if not isinstance(signatures, pd.DataFrame):
        arr = np.asarray(signatures, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] != 96:
            raise ValueError(
                "signatures must be a DataFrame indexed by the 96 SBS channels, or an array "
                f"of shape (96, k) in COSMIC's channel order; got shape {arr.shape}"
            )
        signatures = pd.DataFrame(
            arr, index=list(SBS96_CHANNELS), columns=[f"S{j + 1}" for j in range(arr.shape[1])]
        )
    index = [str(i) for i in signatures.index]
    missing = [c for c in SBS96_CHANNELS if c not in set(index)]
    extra = [c for c in index if c not in set(SBS96_CHANNELS)]
    if missing or extra or len(index) != 96:
        raise ValueError(
            "plot_signature_profile needs the 96 SBS channels as the index (e.g. 'A[C>A]A'); "
            f"{len(missing)} missing, {len(extra)} unknown"
            + (f" (e.g. {extra[:3]})" if extra else "")
        )
    df = signatures.copy()
    df.index = index
    df = df.loc[list(SBS96_CHANNELS)].astype(np.float64)
    if df.shape[1] == 0:
        raise ValueError("signatures has no column: nothing to plot")
    values = df.to_numpy()
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("signatures must be finite and nonnegative")
    return df


def _match_lookup(matches):
    """{signature name: (cosmic name, cosine)} from a table or dict."""
    if matches is None:
        return {}
    if isinstance(matches, pd.DataFrame):
        need = {"signature", "cosmic", "cosine"}
        if not need <= set(matches.columns):
            raise ValueError(
                f"matches needs the columns signature, cosmic, cosine (desurv.signatures."
                f"match_signatures); got {list(matches.columns)}"
            )
        return {
            str(r.signature): (str(r.cosmic), float(r.cosine))
            for r in matches.itertuples(index=False)
        }
    return {str(k): (str(v[0]), float(v[1])) for k, v in dict(matches).items()}


def _draw_profile(ax, values, name, match, *, show_xlabels):
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    colors = np.repeat([SBS_COLORS[s] for s in _SUBS], 16)
    x = np.arange(96)
    pct = 100.0 * values / (values.sum() if values.sum() > 0 else 1.0)
    ax.bar(x, pct, width=0.7, color=colors, edgecolor="none")
    ax.set_xlim(-0.7, 95.7)
    top = float(pct.max()) if pct.max() > 0 else 1.0
    ax.set_ylim(0, top * 1.12)
    ax.margins(x=0)
    for edge in range(16, 96, 16):
        ax.axvline(edge - 0.5, color="#dddddd", linewidth=0.6, zorder=0)
    ax.yaxis.grid(True, color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_ylabel("% of SBS", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    # the coloured band of the substitution classes above the bars
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for i, sub in enumerate(_SUBS):
        ax.add_patch(
            Rectangle(
                (16 * i - 0.5, 1.0),
                16,
                0.07,
                transform=trans,
                color=SBS_COLORS[sub],
                clip_on=False,
                linewidth=0,
            )
        )
        ax.text(
            16 * i + 7.5,
            1.085,
            sub,
            transform=trans,
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
        )
    title = name
    if match is not None:
        title = f"{name}: {match[0]} (cosine {match[1]:.2f})"
    ax.text(
        0.005,
        0.95,
        title,
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=9,
        fontweight="bold",
        bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1.5),
    )
    ax.set_xticks(x)
    if show_xlabels:
        labels = [f"{c[0]}{c[2]}{c[6]}" for c in SBS96_CHANNELS]  # 5' base, reference, 3' base
        ax.set_xticklabels(labels, rotation=90, fontsize=5.5, family="monospace")
        ax.set_xlabel("trinucleotide context (5' base, reference base, 3' base)", fontsize=8)
    else:
        ax.set_xticklabels([])
    ax.tick_params(axis="x", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_signature_profile(signatures, matches=None, *, axes=None, panel_height=1.9):
    """The standard SBS96 profile of each signature, one panel per signature.

    Bars are the percentage of the signature's mutations in each of the 96 channels,
    ordered as COSMIC does (substitution class C>A, C>G, C>T, T>A, T>C, T>G; within each
    the 5' base, then the 3' base), coloured with COSMIC's colours (:data:`SBS_COLORS`); a
    coloured band above each panel names the classes, and the bottom panel labels every
    channel by its trinucleotide context (e.g. "ACA" for A[C>A]A).

    Parameters
    ----------
    signatures : DataFrame of shape (96, k), Series, or ndarray (96, k)
        Channels × signatures (any channel order: rows are aligned by SBS label); an array
        must be in COSMIC's order (:data:`desurv.datasets.SBS96_CHANNELS`). Columns are
        scaled to percentages for display.
    matches : DataFrame or dict, optional
        COSMIC matches: a :func:`desurv.signatures.match_signatures` table (columns
        ``signature``, ``cosmic``, ``cosine``) or ``{signature: (name, cosine)}``; shown in
        each panel's title ("S1: SBS3 (cosine 0.95)").
    axes : sequence of k matplotlib Axes, optional
        Panels to draw in; default a new figure of 11 × (``panel_height`` · k + 0.6) inches.
    panel_height : float, default 1.9
        Height of one panel in inches (new figure only).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Not the 96 SBS channels, negative or non-finite values, a ``matches`` table without
        its columns, or a number of axes different from k.
    """
    df = _as_signature_frame(signatures)
    lookup = _match_lookup(matches)
    k = df.shape[1]
    if axes is None:
        plt = _pyplot()
        fig, axes = plt.subplots(
            k, 1, figsize=(11, panel_height * k + 0.6), squeeze=False, sharex=True
        )
        axes = axes[:, 0]
    else:
        axes = list(np.ravel(axes))
        if len(axes) != k:
            raise ValueError(f"got {len(axes)} axes for {k} signatures; pass one Axes each")
        fig = axes[0].figure
    for j, (ax, name) in enumerate(zip(axes, df.columns, strict=True)):
        _draw_profile(
            ax, df[name].to_numpy(), str(name), lookup.get(str(name)), show_xlabels=j == k - 1
        )
    fig.subplots_adjust(hspace=0.35)
    return fig


def _signature_colors(k):
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(j % cmap.N) for j in range(k)]


def plot_exposures(exposures, *, relative=False, ax=None, max_labels=60):
    """Stacked bars of each signature's contribution per sample, samples sorted by total.

    Parameters
    ----------
    exposures : DataFrame of shape (n_samples, k)
        Mutations attributed to each signature (e.g. :attr:`SignatureResult.exposures`),
        sample names as index.
    relative : bool, default False
        Show each sample's proportions (bars of height 1) instead of mutation counts;
        samples are then sorted by their largest signature's share.
    ax : matplotlib Axes, optional
    max_labels : int, default 60
        Sample names are written under the bars when there are at most this many samples.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Not a non-empty 2-D table of finite, nonnegative values.
    """
    if not isinstance(exposures, pd.DataFrame):
        exposures = pd.DataFrame(np.asarray(exposures, dtype=np.float64))
        exposures.columns = [f"S{j + 1}" for j in range(exposures.shape[1])]
    E = exposures.to_numpy(dtype=np.float64)
    if E.ndim != 2 or E.size == 0:
        raise ValueError(f"exposures must be a non-empty (n_samples, k) table, got {E.shape}")
    if not np.all(np.isfinite(E)) or np.any(E < 0):
        raise ValueError("exposures must be finite and nonnegative")
    n, k = E.shape
    total = E.sum(axis=1)
    if relative:
        E = E / np.where(total > 0, total, 1.0)[:, None]
        dominant = np.argmax(E, axis=1)
        order = np.lexsort((-E[np.arange(n), dominant], dominant))
    else:
        order = np.argsort(-total, kind="stable")
    E = E[order]
    names = [str(s) for s in exposures.index[order]]
    if ax is None:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(min(max(6.0, 0.22 * n + 2.5), 16.0), 4.2))
    fig = ax.figure
    colors = _signature_colors(k)
    x = np.arange(n)
    bottom = np.zeros(n)
    width = 0.85 if n <= 200 else 1.0
    for j in range(k):
        ax.bar(
            x,
            E[:, j],
            bottom=bottom,
            width=width,
            color=colors[j],
            label=str(exposures.columns[j]),
            edgecolor="none",
        )
        bottom += E[:, j]
    ax.set_xlim(-0.6, n - 0.4)
    if n <= max_labels:
        ax.set_xticks(x, names, rotation=90, fontsize=7 if n > 25 else 8)
    else:
        ax.set_xticks([])
    what = "sorted by dominant signature" if relative else "sorted by number of mutations"
    ax.set_xlabel(f"samples (n = {n}, {what})")
    ax.set_ylabel("fraction of mutations" if relative else "mutations attributed")
    ax.set_title("Signature exposures per sample", fontsize=10)
    ax.legend(
        title="signature",
        fontsize=8,
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
