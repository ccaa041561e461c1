"""Matching extracted signatures to a reference catalogue of signatures (e.g. COSMIC).

Each extracted signature is paired with a **distinct** reference signature so that the total
cosine similarity is largest: the Hungarian method on the cost 1 − cosine, rectangular when
there are fewer extracted signatures than reference ones (k < 86 for COSMIC v3.4 SBS96), as
in the COSMIC validation of Egendal et al. (METHODS.md §B.4). The average of the matched
cosines is the ACS (average cosine similarity) the paper reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from desurv.evaluation.matching import cosine_similarity, linear_sum_assignment

from ._catalogue import as_reference

__all__ = ["MATCH_COLUMNS", "match_signatures"]

#: Columns of the table returned by :func:`match_signatures`.
MATCH_COLUMNS = ("signature", "cosmic", "cosine", "best_cosmic", "best_cosine")


def match_signatures(signatures, reference):
    """Match each signature to a distinct reference signature (Hungarian on 1 − cosine).

    Parameters
    ----------
    signatures : DataFrame of shape (n_channels, k)
        Extracted signatures, one per column (channel labels as index, e.g. from
        :attr:`SignatureResult.signatures`). An ndarray is paired with the reference by
        position.
    reference : DataFrame of shape (n_channels, m), ndarray, or path of a TSV, m >= k
        Reference signatures, e.g. COSMIC v3.4 read with
        :func:`desurv.datasets.read_signatures`. DataFrames are paired by channel label
        (whatever the row order); the channel sets must be equal.

    Returns
    -------
    DataFrame with one row per extracted signature (in its order) and columns
        ``signature``; ``cosmic`` (name of the matched reference signature) and ``cosine``
        (their cosine similarity) from the one-to-one assignment maximising the total
        cosine; ``best_cosmic`` and ``best_cosine``: the most similar reference signature
        without the one-to-one constraint (differs when two signatures resemble the same
        reference). The ACS is ``table["cosine"].mean()``.

    Raises
    ------
    ValueError
        Different channels, non-finite or negative values, or more extracted signatures
        than reference ones.
    """
    if isinstance(signatures, pd.DataFrame):
        sig = signatures
        channels = [str(c) for c in sig.index]
        names = [str(c) for c in sig.columns]
    else:
        arr = np.asarray(signatures, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"signatures must be 2-D (n_channels, k), got shape {arr.shape}")
        channels = [f"c{j + 1}" for j in range(arr.shape[0])]
        names = [f"S{j + 1}" for j in range(arr.shape[1])]
        sig = pd.DataFrame(arr, index=channels, columns=names)
        if not isinstance(reference, pd.DataFrame):
            reference = np.asarray(reference, dtype=np.float64)
        else:
            reference = reference.to_numpy(dtype=np.float64)
    sig = pd.DataFrame(sig.to_numpy(dtype=np.float64), index=channels, columns=names)
    ref = as_reference(reference, channels)
    k, m = sig.shape[1], ref.shape[1]
    if k > m:
        raise ValueError(
            f"{k} signatures cannot be matched one-to-one to {m} reference signatures; "
            "use a larger reference or fewer signatures"
        )
    S = cosine_similarity(sig, ref)  # (k, m), rows paired by channel label
    rows, cols = linear_sum_assignment(1.0 - S)
    best = np.argmax(S, axis=1)
    ref_names = np.asarray(ref.columns, dtype=object)
    return pd.DataFrame(
        {
            "signature": names,
            "cosmic": ref_names[cols],
            "cosine": S[rows, cols],
            "best_cosmic": ref_names[best],
            "best_cosine": S[np.arange(k), best],
        },
        columns=list(MATCH_COLUMNS),
    )
