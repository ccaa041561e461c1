"""Numba kernels: rectangular linear assignment (Hungarian) and batched cosine matching.

The solver is the shortest augmenting path method of Jonker & Volgenant (1987) in the
rectangular form described by Crouse (2016), "On implementing 2D rectangular assignment
algorithms", IEEE TAES 52(4) (the method behind ``scipy.optimize.linear_sum_assignment``).
A row reduction first sets u_i = min_j c_ij and gives each row its cheapest column when that
column is still free; square problems then get a column reduction (v_j = min_i c_ij − u_i on
the free columns, again assigning tight free pairs), as in Jonker & Volgenant's
initialisation. Every other row is then joined to the matching by a Dijkstra search for the
cheapest alternating path in reduced costs c_ij − u_i − v_j, after which the duals are
updated so reduced costs stay nonnegative and tight on matched edges. With
``n_rows <= n_cols`` every row is assigned and the total cost is minimal. The reductions make
matching of similar factor sets (nearly diagonal after permutation) almost free and cut the
searches on random 10 × 10 problems by about a quarter; when several assignments are
optimal the solver may pick a different one than scipy (same total cost).

Cosine matrices (``match_cosine_batched``) of C-contiguous float64 pairs come from BLAS
products AᵀB (the ``dgemm`` behind ``np.dot``, called from the compiled loop on the
gene-major rows as they are) over chunks of genes that fit in L1, each followed by a
vectorised pass summing the column norms of the chunk. Other inputs (float32, accumulated in
float64; mixed dtypes; non-contiguous; tiny pairs) are computed block by block over the
genes from transposed copies that stay in the L1 cache. Against a Python loop over scipy
(``benchmarks/compare.py`` target 5c, one BLAS thread, load average 1.5): 2,000 pairs of
2,000 genes × 10 factors 4.6x (the blocked path alone 3.2x), 100,000 pairs of 96 genes 7.6x
(6.3x). At 2,000 genes a pair then costs the read of its 320 KB from memory (about half,
which a single core does not overlap with the arithmetic here) plus the BLAS product
(OpenBLAS runs 10-wide gene-major rows at about a third of its peak) and the norms.

Everything is ``nogil`` and single-threaded: a batch is one compiled call with no per-pair
Python and work arrays allocated once, and callers may split a batch over threads themselves.
No validation happens here (see ``desurv.evaluation.matching``): costs must be finite and
``n_rows <= n_cols``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(inline="always")
def _work(nr, nc):  # pragma: no cover - compiled
    """Work arrays of :func:`_solve` for nr rows and nc columns:
    ``(u, v, spc, path, row4col, sr, sc, remaining)``."""
    return (
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
def _solve(cost, col4row, work):  # pragma: no cover - compiled
    """Minimum-cost assignment of every row of ``cost`` (nr, nc), nr <= nc, finite.

    Writes ``col4row`` (nr,) and returns 0 (or -1 if no augmenting path exists, which cannot
    happen for finite costs). ``work`` comes from :func:`_work` (nr, nc) and may be reused
    between calls: its content on entry is ignored.
    """
    u, v, spc, path, row4col, sr, sc, remaining = work
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
    if nr == nc:
        # square problems also get a column reduction: v_j = min_i (c_ij − u_i) >= 0 on the
        # free columns keeps every reduced cost >= 0 (matched columns keep v_j = 0, tight),
        # brings free columns closer for the searches below, and gives a free row the column
        # when it is the row attaining that minimum (another tight edge). Rectangular
        # problems need v_j = 0 on unmatched columns for optimality, so they skip this.
        for j in range(nc):
            if row4col[j] != -1:
                continue
            low = np.inf
            arg = 0
            for i in range(nr):
                r = cost[i, j] - u[i]
                if r < low:
                    low = r
                    arg = i
            v[j] = low
            if col4row[arg] == -1:
                col4row[arg] = j
                row4col[j] = arg
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
    return _solve(cost, col4row, _work(nr, nc))


@njit(**_OPTS)
def lsa_batched(costs, col4row):  # pragma: no cover - compiled
    """Solve ``costs`` (n, nr, nc), nr <= nc, pair by pair; writes ``col4row`` (n, nr).

    Work arrays are allocated once for the whole batch. Returns the number of failures
    (always 0 for finite costs).
    """
    n, nr, nc = costs.shape
    work = _work(nr, nc)
    fails = 0
    for b in range(n):
        if _solve(costs[b], col4row[b], work) != 0:
            fails += 1
    return fails


# Bytes of one block's working set (the rows of A and B read and their transposed copies)
# aimed at the L1 data cache (32–48 KiB on current x86 cores); measured on Zen 5: blocks
# that overflow it (e.g. 160 genes at k = k' = 10) make a pass at p = 2000 twice as slow.
_BLOCK_BYTES = 32768


@njit(cache=True, nogil=True)
def _block_genes(p, k, kb):  # pragma: no cover - compiled
    """Genes per block: 2·(k + k')·8 bytes per gene within _BLOCK_BYTES, a multiple of 8."""
    c = _BLOCK_BYTES // (16 * (k + kb))
    c = max(16, min(256, c - c % 8))
    return min(p, c)


# The dot products below may be reassociated (vectorised reductions) and use fused
# multiply-add; NaN/inf semantics are kept (no "nnan"/"ninf"), results differ from a
# sequential sum by rounding only and are deterministic on one machine.
_DOT_OPTS = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@njit(cache=True, nogil=True)
def _transpose_block(X, b, g0, m, out):  # pragma: no cover - compiled
    """out[f, g] = X[b, g0 + g, f] for g < m (float64; a float32 X is widened).

    The Gram product then runs over contiguous rows. (Kept free of fastmath and separate so
    the copy compiles to plain loads and stores, not to slow AVX-512 scatters.)
    """
    kx = X.shape[2]
    for g in range(m):
        for f in range(kx):
            out[f, g] = X[b, g0 + g, f]


@njit(**_DOT_OPTS)
def _sq_norms(Xt, m, out, accumulate):  # pragma: no cover - compiled
    """out[f] (+)= sum_g Xt[f, g]**2 over the first m columns of a transposed block."""
    for f in range(Xt.shape[0]):
        s = 0.0
        for g in range(m):
            s += Xt[f, g] * Xt[f, g]
        out[f] = out[f] + s if accumulate else s


@njit(**_DOT_OPTS)
def _gram_block(At, Bt, m, G, accumulate):  # pragma: no cover - compiled
    """G[f, h] (+)= sum_g At[f, g]·Bt[h, g] over the first m columns.

    2 × 2 tiles: each loaded element feeds two products, and the four reductions vectorise
    along the contiguous gene axis.
    """
    k = At.shape[0]
    kb = Bt.shape[0]
    f = 0
    while f < k:
        two = f + 1 < k
        f1 = f + 1 if two else f
        h = 0
        while h < kb:
            h1 = h + 1 if h + 1 < kb else h
            s00 = 0.0
            s01 = 0.0
            s10 = 0.0
            s11 = 0.0
            for g in range(m):
                x0 = At[f, g]
                x1 = At[f1, g]
                y0 = Bt[h, g]
                y1 = Bt[h1, g]
                s00 += x0 * y0
                s01 += x0 * y1
                s10 += x1 * y0
                s11 += x1 * y1
            # at an odd edge the duplicate row/column is computed but not stored twice
            G[f, h] = G[f, h] + s00 if accumulate else s00
            if h1 != h:
                G[f, h1] = G[f, h1] + s01 if accumulate else s01
            if two:
                G[f1, h] = G[f1, h] + s10 if accumulate else s10
                if h1 != h:
                    G[f1, h1] = G[f1, h1] + s11 if accumulate else s11
            h += 2
        f += 2


@njit(**_DOT_OPTS)
def _col_sq_norms(X, acc, out):  # pragma: no cover - compiled
    """out[f] = Σ_g X[g, f]² for a C-contiguous float64 X (p, k); ``acc`` is work (8k,).

    The gene-major rows are summed as one flat stream, so the loop vectorises along
    contiguous memory: acc[j] gathers the flat positions ≡ j (mod 8k), all in column
    j mod k; each step adds two such stretches (8k was the fastest width from k = 3 to 41,
    about 0.3 cycle per entry). The tail of fewer than 8k entries is added one by one.
    """
    p, k = X.shape
    x = X.reshape(p * k)
    P = acc.size
    for j in range(P):
        acc[j] = 0.0
    L = p * k
    step = 2 * P
    n_steps = L // step
    for s in range(n_steps):
        base = s * step
        for j in range(P):
            v0 = x[base + j]
            v1 = x[base + P + j]
            acc[j] += v0 * v0 + v1 * v1
    i = n_steps * step
    if i + P <= L:
        for j in range(P):
            v = x[i + j]
            acc[j] += v * v
        i += P
    for f in range(k):
        out[f] = 0.0
    f = 0  # column of flat position j (no integer division in these short loops)
    for j in range(P):
        out[f] += acc[j]
        f = f + 1 if f + 1 < k else 0
    f = 0  # i is a multiple of P, hence of k
    for q in range(i, L):
        out[f] += x[q] * x[q]
        f = f + 1 if f + 1 < k else 0


@njit(**_OPTS)
def _finish_pair(cosm, na, nb, cost, perm_b, sim_b, work):  # pragma: no cover - compiled
    """Status, cosines and assignment of one pair from its Gram matrix ``cosm`` (k, k').

    ``na`` (k,), ``nb`` (k',) are the squared column norms (``nb`` is overwritten by the
    reciprocal norms; ``na`` is left unchanged so a shared reference keeps its norms).
    ``cosm`` becomes the cosine matrix and ``cost`` its negative; writes ``perm_b`` and
    ``sim_b`` (k,). Returns the status bits of :func:`match_cosine_batched`.
    """
    k, kb = cosm.shape
    st = 0
    # NaN/inf anywhere in a column makes its sum of squares non-finite: no extra pass
    for f in range(k):
        if not np.isfinite(na[f]):
            st |= 1
        elif na[f] == 0.0:
            st |= 2
    for h in range(kb):
        if not np.isfinite(nb[h]):
            st |= 1
        elif nb[h] == 0.0:
            st |= 2
    if st & 1:
        for f in range(k):
            perm_b[f] = -1
            sim_b[f] = np.nan
        return st
    for h in range(kb):
        nb[h] = 1.0 / np.sqrt(nb[h]) if nb[h] > 0.0 else 0.0  # zero column: cosine 0
    for f in range(k):
        ia = 1.0 / np.sqrt(na[f]) if na[f] > 0.0 else 0.0
        for h in range(kb):
            x = cosm[f, h] * ia * nb[h]
            cosm[f, h] = x
            cost[f, h] = -x
    _solve(cost, perm_b, work)
    for f in range(k):
        sim_b[f] = cosm[f, perm_b[f]]
    return st


# Genes per BLAS call of _match_gemm: the chunks of A[b] and B[b] (8·(k + k') bytes per
# gene) fill about 40 KiB, within the L1 data cache (48 KiB on current Intel cores), so the
# column norms summed after each product read the chunk from L1. At 2,000 genes × 10
# factors, chunks of 256 genes made a pair 12% faster than one product over all genes.
_GEMM_CHUNK_BYTES = 40960


@njit(**_OPTS)
def _chunk_genes(p, k, kb):  # pragma: no cover - compiled
    """Genes per chunk of :func:`_match_gemm`: _GEMM_CHUNK_BYTES / (8·(k + k')), >= 32."""
    c = max(32, _GEMM_CHUNK_BYTES // (8 * (k + kb)))
    return min(p, c)


@njit(**_OPTS)
def _gram_norms(a, c, chunk, do_a, cosm, na, nb, tmp, ta, tb, acc_a, acc_b):  # pragma: no cover
    """Gram matrix ``cosm`` = aᵀc (k, k') and squared column norms ``nb`` of c (and ``na`` of
    a when ``do_a``), for C-contiguous float64 a (p, k), c (p, k'), by chunks of ``chunk``
    genes: one BLAS product per chunk, then :func:`_col_sq_norms` on the chunk while it is
    in L1. ``tmp``, ``ta``, ``tb``, ``acc_a``, ``acc_b`` are work arrays. The same chunks
    give the same bits whatever else is computed (``do_a`` only skips a's norms)."""
    p = a.shape[0]
    for g0 in range(0, p, chunk):
        g1 = min(p, g0 + chunk)
        ac = a[g0:g1]
        cc = c[g0:g1]
        if g0 == 0:
            np.dot(ac.T, cc, cosm)
            if do_a:
                _col_sq_norms(ac, acc_a, na)
            _col_sq_norms(cc, acc_b, nb)
        else:
            np.dot(ac.T, cc, tmp)
            cosm += tmp
            if do_a:
                _col_sq_norms(ac, acc_a, ta)
                na += ta
            _col_sq_norms(cc, acc_b, tb)
            nb += tb


@njit(**_OPTS)
def _chunked_sq_norms(a, chunk, na, ta, acc_a):  # pragma: no cover - compiled
    """The norms ``na`` of :func:`_gram_norms` alone (same chunks and sums, same bits)."""
    p = a.shape[0]
    for g0 in range(0, p, chunk):
        ac = a[g0 : min(p, g0 + chunk)]
        if g0 == 0:
            _col_sq_norms(ac, acc_a, na)
        else:
            _col_sq_norms(ac, acc_a, ta)
            na += ta


@njit(**_OPTS)
def _match_gemm(A, B, perm, sim, status):  # pragma: no cover - compiled
    """:func:`match_cosine_batched` for C-contiguous float64 A and B, by BLAS products.

    The Gram matrix of each pair comes from ``np.dot`` (``dgemm`` on the gene-major rows as
    they are, into preallocated arrays) over chunks of genes that fit in L1
    (:func:`_chunk_genes`), each followed by the column norms of the chunk
    (:func:`_gram_norms`). A shared reference (nA = 1) is normed once, with the same
    chunks as an unshared one (so both give the same bits).
    """
    nA, p, k = A.shape
    n = B.shape[0]
    kb = B.shape[2]
    chunk = _chunk_genes(p, k, kb)
    cosm = np.empty((k, kb))
    tmp = np.empty((k, kb))
    cost = np.empty((k, kb))
    na = np.empty(k)
    nb = np.empty(kb)
    ta = np.empty(k)
    tb = np.empty(kb)
    acc_a = np.empty(8 * k)
    acc_b = np.empty(8 * kb)
    work = _work(k, kb)
    shared = nA == 1
    if shared:
        _chunked_sq_norms(A[0], chunk, na, ta, acc_a)
    bad = 0
    for b in range(n):
        a = A[0] if shared else A[b]
        _gram_norms(a, B[b], chunk, not shared, cosm, na, nb, tmp, ta, tb, acc_a, acc_b)
        st = _finish_pair(cosm, na, nb, cost, perm[b], sim[b], work)
        status[b] = st
        if st & 1:
            bad += 1
    return bad


def _gemm_pairs(A, B, perm, sim, status):
    """Run :func:`_match_gemm` when A and B are C-contiguous float64, else return -1.

    In compiled code the choice is made once per signature at compile time (overload
    below), so float32 and non-contiguous inputs never type a BLAS call on their dtype.
    """
    ok = all(x.dtype == np.float64 and x.flags.c_contiguous for x in (A, B))
    return _match_gemm(A, B, perm, sim, status) if ok else -1


@overload(_gemm_pairs)
def _gemm_pairs_overload(A, B, perm, sim, status):  # pragma: no cover - typing only
    if all(
        isinstance(x, types.Array) and x.dtype == types.float64 and x.layout == "C" for x in (A, B)
    ):
        return lambda A, B, perm, sim, status: _match_gemm(A, B, perm, sim, status)
    return lambda A, B, perm, sim, status: -1


@njit(**_OPTS)
def _match_blocked(A, B, perm, sim, status):  # pragma: no cover - compiled
    """:func:`match_cosine_batched` by gene blocks of transposed copies (any float dtype,
    sums in float64): each block of A and B is copied transposed (and widened to float64)
    into small work arrays, then the squared column norms and the k × k' Gram block AᵀB are
    accumulated with vectorised dot products over contiguous rows. A shared reference
    (nA = 1) is normed once, and transposed once when it fits in one block."""
    nA, p, k = A.shape
    n = B.shape[0]
    kb = B.shape[2]
    c = _block_genes(p, k, kb)
    At = np.empty((k, c))
    Bt = np.empty((kb, c))
    cosm = np.empty((k, kb))
    cost = np.empty((k, kb))
    na = np.empty(k)
    nb = np.empty(kb)
    work = _work(k, kb)
    # a shared reference is transposed (when it fits one block) and normed once
    shared = nA == 1
    cached = shared and p <= c
    if shared:
        for g0 in range(0, p, c):
            m = min(c, p - g0)
            _transpose_block(A, 0, g0, m, At)
            _sq_norms(At, m, na, g0 > 0)
    bad = 0
    for b in range(n):
        for g0 in range(0, p, c):
            m = min(c, p - g0)
            acc = g0 > 0
            if not cached:
                _transpose_block(A, 0 if shared else b, g0, m, At)
                if not shared:
                    _sq_norms(At, m, na, acc)
            _transpose_block(B, b, g0, m, Bt)
            _sq_norms(Bt, m, nb, acc)
            _gram_block(At, Bt, m, cosm, acc)
        # _finish_pair written out: as a call (even inlined) it made small pairs ~25 % slower
        st = 0
        # NaN/inf anywhere in a column makes its sum of squares non-finite: no extra pass
        for f in range(k):
            if not np.isfinite(na[f]):
                st |= 1
            elif na[f] == 0.0:
                st |= 2
        for h in range(kb):
            if not np.isfinite(nb[h]):
                st |= 1
            elif nb[h] == 0.0:
                st |= 2
        status[b] = st
        if st & 1:
            bad += 1
            for f in range(k):
                perm[b, f] = -1
                sim[b, f] = np.nan
            continue
        for h in range(kb):
            nb[h] = 1.0 / np.sqrt(nb[h]) if nb[h] > 0.0 else 0.0  # zero column: cosine 0
        for f in range(k):
            ia = 1.0 / np.sqrt(na[f]) if na[f] > 0.0 else 0.0
            for h in range(kb):
                x = cosm[f, h] * ia * nb[h]
                cosm[f, h] = x
                cost[f, h] = -x
        _solve(cost, perm[b], work)
        for f in range(k):
            sim[b, f] = cosm[f, perm[b, f]]
    return bad


# Which path a pair takes depends on its shape only, so a pair gives the same bits in any
# batch. Measured (one thread, k = k' = 3 to 15, p = 50 to 500, shared and per-pair
# references, 1,000 to 100,000 pairs): in cache the blocked path wins below p·(k + k') ≈
# 2,200; once the batch streams from memory (past ~48 MiB here) its transposed copies cost
# more and BLAS wins from ≈ 800 (p = 96, k = 10: 1.2x). 1,500 splits the difference: small
# signature sets (p = 96-100, k <= 5) stay blocked (a threshold of 400, the first choice,
# made them 1.5x slower than before), k >= 8 at 96 channels takes BLAS.
_GEMM_MIN_ENTRIES = 1500


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

    Notes
    -----
    C-contiguous float64 pairs with p·(k + k') >= ``_GEMM_MIN_ENTRIES`` take
    :func:`_match_gemm` (BLAS products over chunks of genes); others (float32, accumulated
    in float64; mixed dtypes; non-contiguous; tiny pairs) take :func:`_match_blocked`. Both
    give the cosine matrix Gram / (‖a_f‖ ‖b_h‖) up to rounding and solve the assignment on its
    negative with :func:`_solve`; within one path the result of a pair does not depend on the
    other pairs of the batch (a batch and a loop over its pairs agree bit for bit).
    """
    p = B.shape[1]
    if p * (A.shape[2] + B.shape[2]) >= _GEMM_MIN_ENTRIES:
        bad = _gemm_pairs(A, B, perm, sim, status)
        if bad >= 0:
            return bad
    return _match_blocked(A, B, perm, sim, status)
