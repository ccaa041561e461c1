"""Catalogue and reference checks, NNLS refit and per-sample reconstruction (private).

Orientation (scikit-learn's, as :func:`desurv.datasets.read_catalogue` returns it): a
catalogue is **samples × channels** (mutation counts), signatures are **channels ×
signatures** (columns summing to 1) and exposures **samples × signatures** (mutations), so
that ``catalogue ≈ exposures @ signatures.T``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from desurv.datasets.mutational import SBS96_CHANNELS, read_catalogue, read_signatures
from desurv.decomposition import nnls

_SBS_RE = re.compile(r"^[ACGT]\[[CT]>[ACGT]\][ACGT]$")


def _looks_sbs(labels) -> bool:
    return any(("[" in str(x) and ">" in str(x)) for x in labels)


def _list(names, n=5):
    names = list(names)
    shown = ", ".join(repr(str(x)) for x in names[:n])
    return shown + (f", ... ({len(names)} in all)" if len(names) > n else "")


def check_channel_labels(labels, what="catalogue") -> list[str]:
    """SBS channel labels: all well formed, unique, and all 96 present; else ValueError.

    Returns the labels in the canonical COSMIC order (:data:`SBS96_CHANNELS`).
    """
    labels = [str(x) for x in labels]
    bad = [x for x in labels if not _SBS_RE.match(x)]
    if bad:
        raise ValueError(
            f"{what} has unknown channel label(s) {_list(bad)}; SBS96 channels are written "
            "like 'A[C>A]A' (5' base, [reference>alternative] with a C or T reference, 3' base)"
        )
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"{what} lists channel(s) {_list(dup)} more than once")
    missing = [c for c in SBS96_CHANNELS if c not in set(labels)]
    if missing:
        raise ValueError(
            f"{what} lacks {len(missing)} of the 96 SBS channels ({_list(missing)}); a "
            "catalogue needs a count (possibly 0) for every channel"
        )
    return list(SBS96_CHANNELS)


def check_catalogue(catalogue, *, require_sbs96=False, require_counts=False) -> pd.DataFrame:
    """Validated catalogue as a float64 DataFrame (samples × channels).

    Parameters
    ----------
    catalogue : DataFrame (n_samples, n_channels), ndarray, or path of a TSV
        Samples × channels counts. A path is read with :func:`read_catalogue` (file:
        channels × samples). SBS channel labels (``A[C>A]A``) must be all 96, unique and
        well formed; they are put in the canonical COSMIC order. An ndarray with 96 columns
        is taken to be in that order; other arrays get channel names ``c1..cp``.
    require_sbs96 : bool
        Refuse channels that are not the 96 SBS channels.
    require_counts : bool
        Refuse non-integer values (a catalogue of mutation counts).

    Returns
    -------
    DataFrame of shape (n_samples, n_channels), float64
        Index ``sample`` (names as str), columns ``channel`` (SBS96 in COSMIC's order);
        the values are not changed.

    Raises
    ------
    ValueError
        Not 2-D, empty, transposed (channels as rows), non-numeric, NaN/inf or negative
        values, malformed or missing channels, samples without any mutation, non-integer
        counts (with ``require_counts``).
    """
    if isinstance(catalogue, (str, Path)):
        catalogue = read_catalogue(catalogue)
    if isinstance(catalogue, pd.DataFrame):
        df = catalogue
        if _looks_sbs(df.index) and not _looks_sbs(df.columns):
            raise ValueError(
                "catalogue has the SBS channels as rows (the file orientation, channels x "
                "samples); pass catalogue.T, or read the file with desurv.datasets."
                "read_catalogue, which returns samples x channels"
            )
        try:
            values = df.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "catalogue holds non-numeric values; it must hold mutation counts"
            ) from None
        index = pd.Index([str(i) for i in df.index], name="sample")
        columns = [str(c) for c in df.columns]
    else:
        try:
            values = np.asarray(catalogue, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("catalogue must be a numeric (n_samples, n_channels) array") from None
        if values.ndim == 2 and values.shape[0] == 96 and values.shape[1] != 96:
            raise ValueError(
                f"catalogue has shape {values.shape}: 96 rows look like the channels; pass "
                "samples as rows (catalogue.T)"
            )
        if values.ndim == 2 and values.shape[1] == 96:
            columns = list(SBS96_CHANNELS)
        else:
            columns = [f"c{j + 1}" for j in range(values.shape[1] if values.ndim == 2 else 0)]
        index = pd.Index(
            [f"sample{i + 1}" for i in range(values.shape[0] if values.ndim else 0)],
            name="sample",
        )
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(
            f"catalogue must be a non-empty 2-D table (n_samples, n_channels), got shape "
            f"{values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("catalogue contains NaN or infinite values; it must hold counts")
    if np.any(values < 0):
        r, c = np.argwhere(values < 0)[0]
        raise ValueError(
            f"catalogue contains negative counts (e.g. sample {index[r]!r}, channel "
            f"{columns[c]!r} = {values[r, c]:g}); mutation counts are >= 0"
        )
    if require_counts and np.any(values != np.round(values)):
        r, c = np.argwhere(values != np.round(values))[0]
        raise ValueError(
            f"catalogue contains non-integer counts (e.g. sample {index[r]!r}, channel "
            f"{columns[c]!r} = {values[r, c]:g}); a catalogue holds mutation counts"
        )
    if index.duplicated().any():
        raise ValueError(
            f"catalogue has duplicated sample names {_list(index[index.duplicated()])}"
        )
    df = pd.DataFrame(values, index=index, columns=pd.Index(columns, name="channel"))
    if require_sbs96 or _looks_sbs(columns):
        order = check_channel_labels(columns, "catalogue")
        df = df.loc[:, order]
    empty = df.index[df.sum(axis=1).to_numpy() <= 0]
    if len(empty):
        raise ValueError(
            f"catalogue has {len(empty)} sample(s) without any mutation ({_list(empty)}); "
            "remove them (their signature exposures are undefined)"
        )
    return df


as_catalogue = check_catalogue  # the name used inside the wing


def as_reference(reference, channels) -> pd.DataFrame:
    """Reference signatures (channels × signatures) with rows in the order ``channels``.

    A DataFrame is aligned by channel label (its channels must be exactly the catalogue's);
    an ndarray must have one row per channel (paired by position; names ``R1..Rm``); a path
    is read with :func:`read_signatures`.
    """
    if isinstance(reference, (str, Path)):
        reference = read_signatures(reference)
    channels = list(channels)
    if isinstance(reference, pd.DataFrame):
        ref = reference.copy()
        ref.index = [str(i) for i in ref.index]
        ref.columns = [str(c) for c in ref.columns]
        if ref.index.duplicated().any():
            raise ValueError(
                f"reference lists channel(s) {_list(ref.index[ref.index.duplicated()])} "
                "more than once"
            )
        missing = [c for c in channels if c not in set(ref.index)]
        extra = [c for c in ref.index if c not in set(channels)]
        if missing or extra:
            raise ValueError(
                f"reference signatures have other channels than the catalogue: "
                f"{len(missing)} catalogue channel(s) missing ({_list(missing)}), "
                f"{len(extra)} unknown ({_list(extra)}); use a reference of the same "
                "mutation context (e.g. COSMIC SBS96 for an SBS96 catalogue)"
            )
        ref = ref.loc[channels]
        try:
            values = ref.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("reference signatures hold non-numeric values") from None
        names = list(ref.columns)
    else:
        try:
            values = np.asarray(reference, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "reference must be a numeric (n_channels, n_signatures) array"
            ) from None
        if values.ndim != 2 or values.shape[0] != len(channels):
            raise ValueError(
                f"reference must have shape (n_channels={len(channels)}, n_signatures), got "
                f"{values.shape}"
            )
        names = [f"R{j + 1}" for j in range(values.shape[1])]
    if values.shape[1] == 0:
        raise ValueError("reference holds no signature (no columns)")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("reference signatures must be finite and nonnegative")
    if np.any(values.sum(axis=0) <= 0):
        raise ValueError("reference has an all-zero signature; remove it")
    return pd.DataFrame(values, index=pd.Index(channels, name="channel"), columns=names)


def refit_exposures(X, S):
    """NNLS exposures: min_{e >= 0} ‖x_i − S e‖₂ for every sample (row) of X.

    X (n, p) counts, S (p, k) signatures; returns E (n, k) float64 (mutations attributed to
    each signature), exact batched Lawson–Hanson (:func:`desurv.decomposition.nnls`).
    """
    return np.ascontiguousarray(nnls(np.asarray(S, np.float64), np.asarray(X, np.float64).T).T)


def per_sample_fit(X, Xhat):
    """Per-sample cosine similarity and relative error ‖x − x̂‖₂ / ‖x‖₂ (arrays (n,))."""
    X = np.asarray(X, np.float64)
    Xhat = np.asarray(Xhat, np.float64)
    nx = np.linalg.norm(X, axis=1)
    nh = np.linalg.norm(Xhat, axis=1)
    dot = np.einsum("ij,ij->i", X, Xhat)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(nh > 0, dot / (nx * np.where(nh > 0, nh, 1.0)), 0.0)
        rel = np.linalg.norm(X - Xhat, axis=1) / nx
    return cosine, rel


def normalise_rows(H):
    """Rows scaled to sum 1 (all-zero rows stay zero); returns (Hn, sums)."""
    H = np.asarray(H, np.float64)
    s = H.sum(axis=1)
    return H / np.where(s > 0, s, 1.0)[:, None], s
