"""Numba kernels: Harrell's concordance counts in O(n log n).

The caller (``desurv.survival.concordance.concordance_index``) validates the inputs, sorts the
samples by time and replaces the risk scores by dense integer ranks ``1..n_ranks``
(:func:`dense_ranks`). :func:`concordance_counts` then walks the sorted samples once,
keeping a Fenwick (binary indexed) tree of the risk ranks of the events seen so far. The
order of samples within a tied time does not matter, so the caller may use NumPy's fast
unstable sort.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _fenwick_add(tree, pos, n):  # pragma: no cover - compiled
    while pos <= n:
        tree[pos] += 1
        pos += pos & (-pos)


@njit(cache=True, nogil=True)
def _fenwick_prefix(tree, pos):  # pragma: no cover - compiled
    total = 0
    while pos > 0:
        total += tree[pos]
        pos -= pos & (-pos)
    return total


@njit(cache=True, nogil=True)
def dense_ranks(values, order, out):  # pragma: no cover - compiled
    """Dense ranks of ``values`` given an ascending ``order``; returns the number of ranks.

    Parameters
    ----------
    values : float64 array of shape (n,)
        No NaN (equal values, including -0.0 and 0.0, share a rank).
    order : int64 array of shape (n,)
        A permutation sorting ``values`` ascending (ties in any order).
    out : int64 array of shape (n,), output
        ``out[i]`` = 1 + number of distinct values smaller than ``values[i]``.
    """
    n = values.shape[0]
    rank = 0
    prev = 0.0
    for i in range(n):
        j = order[i]
        x = values[j]
        if i == 0 or x != prev:
            rank += 1
            prev = x
        out[j] = rank
    return rank


@njit(cache=True, nogil=True)
def concordance_counts(time, event, risk_rank, n_ranks):  # pragma: no cover - compiled
    """Count comparable, concordant, discordant and risk-tied pairs.

    Parameters
    ----------
    time : float64 array of shape (n,)
        Times sorted in nondecreasing order (samples with tied times in any order).
    event : int64 array of shape (n,)
        1 for an observed event, 0 for censored, in the same order.
    risk_rank : int64 array of shape (n,)
        Dense ranks (1..n_ranks) of the risk scores, in the same order.
    n_ranks : int
        Number of distinct risk scores.

    Returns
    -------
    counts : int64 array of shape (4,)
        ``[concordant, discordant, tied_risk, comparable]``.

    Notes
    -----
    A pair (i, j) is comparable when sample i has an event and either ``time[j] > time[i]``,
    or ``time[j] == time[i]`` and j is censored. For each block of tied times the events are
    first compared with the events of strictly earlier times (already in the tree), then
    inserted, then the censored samples of the block are compared with all events up to and
    including the block's time. Each comparison is two O(log n) prefix sums.
    """
    n = time.shape[0]
    tree = np.zeros(n_ranks + 1, dtype=np.int64)
    in_tree = 0
    concordant = 0
    tied = 0
    comparable = 0
    start = 0
    while start < n:
        stop = start + 1
        t0 = time[start]
        while stop < n and time[stop] == t0:
            stop += 1
        n_events = 0
        for phase in range(3):
            for idx in range(start, stop):
                is_event = event[idx] != 0
                if phase == 1:
                    # insert the block's events before its censored samples are compared
                    if is_event:
                        _fenwick_add(tree, risk_rank[idx], n_ranks)
                        n_events += 1
                    continue
                if is_event != (phase == 0):
                    continue
                r = risk_rank[idx]
                below_or_equal = _fenwick_prefix(tree, r)
                below = _fenwick_prefix(tree, r - 1)
                # earlier events with a higher risk than this later sample: concordant
                concordant += in_tree - below_or_equal
                tied += below_or_equal - below
                comparable += in_tree
            if phase == 1:
                in_tree += n_events
        start = stop
    out = np.empty(4, dtype=np.int64)
    out[0] = concordant
    out[1] = comparable - concordant - tied
    out[2] = tied
    out[3] = comparable
    return out
