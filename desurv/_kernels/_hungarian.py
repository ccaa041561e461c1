"""Numba kernels: rectangular linear assignment (Hungarian) and batched cosine matching.

The solver is the shortest augmenting path method of Jonker & Volgenant (1987) in the
rectangular form described by Crouse (2016), "On implementing 2D rectangular assignment
algorithms", IEEE TAES 52(4) (the method behind ``scipy.optimize.linear_sum_assignment``).
A row reduction first sets u_i = min_j c_ij and gives each row its cheapest column when that
column is still free; every other row is then joined to the matching by a Dijkstra search for
the cheapest alternating path in reduced costs c_ij − u_i − v_j, after which the duals are
updated so reduced costs stay nonnegative and tight on matched edges. With
``n_rows <= n_cols`` every row is assigned and the total cost is minimal. The reduction makes
matching of similar factor sets (nearly diagonal after permutation) almost free; when several
assignments are optimal it may pick a different one than scipy (same total cost).

Everything is ``nogil`` and single-threaded: a batch is one compiled call with no per-pair
Python and work arrays allocated once, and callers may split a batch over threads themselves.
No validation happens here (see ``desurv.matching``): costs must be finite and
``n_rows <= n_cols``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def _solve(cost, col4row, u, v, spc, path, row4col, sr, sc, remaining):  # pragma: no cover
    """Minimum-cost assignment of every row of ``cost`` (nr, nc), nr <= nc, finite.

    Writes ``col4row`` (nr,) and returns 0 (or -1 if no augmenting path exists, which cannot
    happen for finite costs). ``u`` (nr,), ``v``, ``spc``, ``path``, ``row4col``, ``sc``,
    ``remaining`` (nc,) and ``sr`` (nr,) are work arrays; their content on entry is ignored.
    """
    nr, nc = cost.shape
    for i in range(nr):
        u[i] = 0.0
        col4row[i] = -1
    for j in range(nc):
        v[j] = 0.0
        row4col[j] = -1
        path[j] = -1
    # row reduction: u_i = min_j c_ij keeps every reduced cost >= 0 (v = 0); a row whose
    # cheapest column is still free takes it (a tight edge), so only the remaining rows need
    # an augmenting path. Exact, and usually most rows when matching similar factor sets.
    for i in range(nr):
        best = 0
        low = cost[i, 0]
        for j in range(1, nc):
            if cost[i, j] < low:
                low = cost[i, j]
                best = j
        u[i] = low
        if row4col[best] == -1:
            row4col[best] = i
            col4row[i] = best
    for cur in range(nr):
        if col4row[cur] != -1:
            continue
        # --- shortest augmenting path from row `cur` (Dijkstra on reduced costs)
        for j in range(nc):
            remaining[j] = nc - j - 1  # reversed scan order, as scipy
            sc[j] = False
            spc[j] = np.inf
        for i in range(nr):
            sr[i] = False
        n_rem = nc
        min_val = 0.0
        i = cur
        sink = -1
        while sink == -1:
            sr[i] = True
            best = -1
            lowest = np.inf
            base = min_val - u[i]
            for it in range(n_rem):
                j = remaining[it]
                r = base + cost[i, j] - v[j]
                s = spc[j]
                # selects instead of branches: these comparisons are unpredictable
                shorter = r < s
                path[j] = i if shorter else path[j]
                s = r if shorter else s
                spc[j] = s
                better = (s < lowest) | ((s == lowest) & (row4col[j] == -1))
                best = it if better else best
                lowest = s if better else lowest
            min_val = lowest
            if best == -1 or min_val == np.inf:
                return -1
            j = remaining[best]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            sc[j] = True
            n_rem -= 1
            remaining[best] = remaining[n_rem]
        # --- dual update keeps reduced costs >= 0 and tight on the new matching
        u[cur] += min_val
        for i in range(nr):
            if sr[i] and i != cur:
                u[i] += min_val - spc[col4row[i]]
        for j in range(nc):
            if sc[j]:
                v[j] -= min_val - spc[j]
        # --- augment along the path back to `cur`
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            prev = col4row[i]
            col4row[i] = j
            j = prev
            if i == cur:
                break
    return 0


@njit(**_OPTS)
def lsa(cost, col4row):  # pragma: no cover - compiled
    """Solve one assignment problem ``cost`` (nr, nc), nr <= nc; writes ``col4row`` (nr,)."""
    nr, nc = cost.shape
    return _solve(
        cost,
        col4row,
        np.empty(nr),
        np.empty(nc),
        np.empty(nc),
        np.empty(nc, np.int64),
        np.empty(nc, np.int64),
        np.empty(nr, np.bool_),
        np.empty(nc, np.bool_),
        np.empty(nc, np.int64),
    )


@njit(**_OPTS)
def lsa_batched(costs, col4row):  # pragma: no cover - compiled
    """Solve ``costs`` (n, nr, nc), nr <= nc, pair by pair; writes ``col4row`` (n, nr).

    Work arrays are allocated once for the whole batch. Returns the number of failures
    (always 0 for finite costs).
    """
    n, nr, nc = costs.shape
    u = np.empty(nr)
    v = np.empty(nc)
    spc = np.empty(nc)
    path = np.empty(nc, np.int64)
    row4col = np.empty(nc, np.int64)
    sr = np.empty(nr, np.bool_)
    sc = np.empty(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    fails = 0
    for b in range(n):
        if _solve(costs[b], col4row[b], u, v, spc, path, row4col, sr, sc, remaining) != 0:
            fails += 1
    return fails


@njit(**_OPTS)
def match_cosine_batched(A, B, perm, sim, status):  # pragma: no cover - compiled
    """Match the columns of ``A[b]`` to columns of ``B[b]`` by maximal total cosine similarity.

    Parameters
    ----------
    A : float array of shape (nA, p, k)
        Reference factor sets; ``nA`` is either ``n`` (one per pair) or 1 (shared by all).
    B : float array of shape (n, p, kb), kb >= k
        Factor sets to match.
    perm : int64 array of shape (n, k), output
        ``perm[b, f]`` = column of ``B[b]`` matched to column f of ``A[b]``.
    sim : float64 array of shape (n, k), output
        Cosine similarity of each matched pair. A column of zero norm has cosine 0 with
        every column.
    status : int8 array of shape (n,), output
        0 = fine; bit 1 = a squared column norm is not finite (NaN/inf input, or entries
        so large that the sum of squares overflows; the pair is then not solved);
        bit 2 = some column has zero norm.

    Returns the number of pairs with bit 1 set.
    """
    nA, p, k = A.shape
    n = B.shape[0]
    kb = B.shape[2]
    cosm = np.empty((k, kb))
    cost = np.empty((k, kb))
    na = np.empty(k)
    nb = np.empty(kb)
    u = np.empty(k)
    v = np.empty(kb)
    spc = np.empty(kb)
    path = np.empty(kb, np.int64)
    row4col = np.empty(kb, np.int64)
    sr = np.empty(k, np.bool_)
    sc = np.empty(kb, np.bool_)
    remaining = np.empty(kb, np.int64)
    bad = 0
    for b in range(n):
        a_b = A[0] if nA == 1 else A[b]
        b_b = B[b]
        for f in range(k):
            na[f] = 0.0
            for h in range(kb):
                cosm[f, h] = 0.0
        for h in range(kb):
            nb[h] = 0.0
        # one pass over the genes: squared norms and rank-1 updates of the Gram block, with
        # a contiguous inner loop over B's columns (the pass is memory-bound for large p)
        # (float32 inputs are widened, so products and sums are exact-ish float64)
        for g in range(p):
            for h in range(kb):
                x = np.float64(b_b[g, h])
                nb[h] += x * x
            for f in range(k):
                a = np.float64(a_b[g, f])
                na[f] += a * a
                for h in range(kb):
                    cosm[f, h] += a * np.float64(b_b[g, h])
        st = 0
        # NaN/inf anywhere in a column makes its sum of squares non-finite: no extra pass
        for f in range(k):
            if not np.isfinite(na[f]):
                st |= 1
            elif na[f] == 0.0:
                st |= 2
            na[f] = 1.0 / np.sqrt(na[f]) if na[f] > 0.0 else 0.0  # zero column: cosine 0
        for h in range(kb):
            if not np.isfinite(nb[h]):
                st |= 1
            elif nb[h] == 0.0:
                st |= 2
            nb[h] = 1.0 / np.sqrt(nb[h]) if nb[h] > 0.0 else 0.0
        status[b] = st
        if st & 1:
            bad += 1
            for f in range(k):
                perm[b, f] = -1
                sim[b, f] = np.nan
            continue
        for f in range(k):
            for h in range(kb):
                c = cosm[f, h] * na[f] * nb[h]
                cosm[f, h] = c
                cost[f, h] = -c
        _solve(cost, perm[b], u, v, spc, path, row4col, sr, sc, remaining)
        for f in range(k):
            sim[b, f] = cosm[f, perm[b, f]]
    return bad
