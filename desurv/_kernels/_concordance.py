"""Numba kernel: Harrell's concordance counts in O(n log n).

The caller (``desurv.metrics.concordance_index``) validates the inputs, sorts the samples by
time (events before censored samples at tied times) and replaces the risk scores by dense
integer ranks ``1..n_ranks``. This kernel only walks the sorted samples once, keeping a
Fenwick (binary indexed) tree of the risk ranks of the events seen so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _fenwick_add(tree, pos, n):
    while pos <= n:
        tree[pos] += 1
        pos += pos & (-pos)


@njit(cache=True, nogil=True)
def _fenwick_prefix(tree, pos):
    total = 0
    while pos > 0:
        total += tree[pos]
        pos -= pos & (-pos)
    return total


@njit(cache=True, nogil=True)
def concordance_counts(time, event, risk_rank, n_ranks):
    """Count comparable, concordant, discordant and risk-tied pairs.

    Parameters
    ----------
    time : float64 array of shape (n,)
        Times sorted in nondecreasing order; within a tied time, events come first.
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
    or ``time[j] == time[i]`` and j is censored. For each time block the events are first
    compared with the events of strictly earlier times (already in the tree), then inserted,
    then the censored samples of the block are compared with all events up to and including
    the block's time.
    """
    n = time.shape[0]
    tree = np.zeros(n_ranks + 1, dtype=np.int64)
    in_tree = 0
    concordant = 0
    tied = 0
    comparable = 0
    start = 0
    while start < n:
        stop = start
        t0 = time[start]
        while stop < n and time[stop] == t0:
            stop += 1
        # end of the events of this block (events precede censored samples)
        ev_stop = start
        while ev_stop < stop and event[ev_stop] != 0:
            ev_stop += 1
        for phase in range(2):
            if phase == 0:
                lo = start
                hi = ev_stop
            else:
                # insert this block's events before comparing its censored samples
                for idx in range(start, ev_stop):
                    _fenwick_add(tree, risk_rank[idx], n_ranks)
                in_tree += ev_stop - start
                lo = ev_stop
                hi = stop
            for idx in range(lo, hi):
                r = risk_rank[idx]
                below_or_equal = _fenwick_prefix(tree, r)
                below = _fenwick_prefix(tree, r - 1)
                # earlier events with a higher risk than this later sample: concordant
                concordant += in_tree - below_or_equal
                tied += below_or_equal - below
                comparable += in_tree
        start = stop
    out = np.empty(4, dtype=np.int64)
    out[0] = concordant
    out[1] = comparable - concordant - tied
    out[2] = tied
    out[3] = comparable
    return out
