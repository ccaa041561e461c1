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

Cosine matrices (``match_cosine_batched``) of C-contiguous float64 pairs with k <= 10 and
k' <= 16 come, on CPUs with AVX-512, from a single pass over the genes (``_match_pass``):
per gene, B's row is loaded as two 8-lane vectors, each entry of A's row is broadcast and
multiplied into its row of the Gram matrix AᵀB, and both rows' squares go into the column
norms, with all sums in vector registers (24 of 32 at k = k' = 10) and a software prefetch
ahead in both streams. The loop is generated as LLVM IR (``_gram_norms_ir``), as Numba's
vectoriser keeps accumulators of run-time count in memory. Other C-contiguous float64 pairs
take BLAS products AᵀB (the ``dgemm`` behind ``np.dot``, called from the compiled loop on
the gene-major rows as they are) over chunks of genes that fit in L1, each followed by a
vectorised pass summing the column norms of the chunk. Other inputs (float32, accumulated in
float64; mixed dtypes; non-contiguous; tiny pairs) are computed block by block over the
genes from transposed copies that stay in the L1 cache. Against a Python loop over scipy
(``benchmarks/compare.py`` target 5c, one BLAS thread, Sapphire Rapids, load average 1.5):
2,000 pairs of 2,000 genes × 10 factors 8.5x (the BLAS path 4.8x, the blocked path 3.2x),
100,000 pairs of 96 genes 14x (BLAS 7.6x). At 2,000 genes the single pass takes the time of
a plain read of the 640 MB (37 ms, ~17 GB/s on one core): its arithmetic (22 ms in cache)
is hidden under the memory traffic, whereas the BLAS path (67 ms) added a product that ran
mostly after the data arrived (OpenBLAS at a third of its peak on 10-wide rows, 23 ms) and
a second pass for the norms (9 ms). Software prefetch did not help the BLAS path (the
product is a black box; prefetches issued between chunks made it 10-50% slower).

Everything is ``nogil`` and single-threaded: a batch is one compiled call with no per-pair
Python and work arrays allocated once, and callers may split a batch over threads themselves.
No validation happens here (see ``desurv.evaluation.matching``): costs must be finite and
``n_rows <= n_cols``.
"""

from __future__ import annotations

import llvmlite.binding as _llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic, overload

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


# ----------------------------------------------------------------- single-pass kernel
# Gram matrix and column norms of a pair in one pass over its genes, with every accumulator
# in a vector register: per gene, B's row (k' <= 16) is loaded as two 8-lane vectors and each
# of A's k <= 10 entries is broadcast and multiplied into its row of the Gram matrix (2k
# fused multiply-adds), and the squares of both rows go into the norms. That is 24 of the 32
# AVX-512 registers at k = k' = 10, so nothing is spilled and each element is read once.
# Numba's loop vectoriser cannot keep accumulators of runtime count in registers (it keeps
# them in memory, several times slower), so the loop is written in LLVM IR below, unrolled
# for each k and vector width. A software prefetch _PREFETCH_BYTES ahead in both streams
# keeps enough cache misses in flight: without it the pass ran at 1.2x the time of a plain
# read of the data, with it at the read's time (both k = k' = 10, p = 2,000; 640 to 1,920
# bytes ahead alike, 5 KB and more 1.15x; hints to L2 only or non-temporal slower). The ~35
# loops add ~1.5 s to the first compilation of match_cosine_batched (then cached).
_PASS_ROWS = 10
_PASS_COLS = 16
_PREFETCH_BYTES = 1280


def _host_has_avx512():
    """True when compiled code targets a CPU with AVX-512F (32 vector registers of 8 doubles).

    Without it (AVX2: 16 registers of 4) the accumulators of the single-pass kernel would be
    spilled to memory, so the BLAS path is used instead. ``NUMBA_CPU_NAME`` (e.g. ``generic``
    for caches shared between machines) is honoured with ``NUMBA_CPU_FEATURES``.
    """
    if config.CPU_NAME:
        return "+avx512f" in (config.CPU_FEATURES or "")
    try:
        return bool(_llvm.get_host_cpu_features().get("avx512f", False))
    except Exception:  # pragma: no cover - feature detection unavailable
        return False


# the pass is LLVM IR: it cannot run as Python (NUMBA_DISABLE_JIT=1, for debugging)
_WIDE_PASS = _host_has_avx512() and not config.DISABLE_JIT


def _cover(n):
    """Vector width w (a power of two <= 8) and count (1 or 2) covering n <= 16 entries.

    The vectors sit at offsets 0 and n − w (one vector when n == w), so every load and
    store stays within the row; entries in both vectors get the same bits in both (the same
    FMAs in the same order), so storing both is harmless.
    """
    w = min(8, 1 << (n.bit_length() - 1))
    return w, 1 if n == w else 2


def _emit_pass(builder, k, wc, nc, A, C, G, NA, NB, m, kb):
    """LLVM IR of the single-pass loop for a compile-time k <= 10 and a run-time k' = kb
    covered by nc vectors of wc doubles (:func:`_cover`)."""
    dbl = ir.DoubleType()
    i64 = ir.IntType(64)
    i32 = ir.IntType(32)
    wa, na_ = _cover(k)
    va, vc = ir.VectorType(dbl, wa), ir.VectorType(dbl, wc)
    offs_a = [i64(0), i64(k - wa)][:na_]
    offs_c = [i64(0), builder.sub(kb, i64(wc))][:nc]
    fma_a = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(va, [va, va, va]), f"llvm.fma.v{wa}f64"
    )
    fma_c = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vc, [vc, vc, vc]), f"llvm.fma.v{wc}f64"
    )
    i8p = ir.IntType(8).as_pointer()
    # the intrinsic is mangled by pointer type: i8* with typed pointers (llvmlite < 0.46)
    pf_name = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 17 else "llvm.prefetch.p0i8"
    prefetch = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), pf_name
    )

    def at(ptr, off, vty):
        return builder.bitcast(builder.gep(ptr, [off]), vty.as_pointer())

    def ahead(row, extra):  # read prefetch into all cache levels
        byte = builder.gep(builder.bitcast(row, i8p), [i64(_PREFETCH_BYTES + extra)])
        builder.call(prefetch, [byte, i32(0), i32(3), i32(1)])

    def fma(fn, x, y, acc):
        builder.store(builder.call(fn, [x, y, builder.load(acc)]), acc)

    # accumulators are allocas of the entry block, promoted to registers by LLVM (SROA)
    zero_a, zero_c = ir.Constant(va, [0.0] * wa), ir.Constant(vc, [0.0] * wc)
    acc_g = [[cgutils.alloca_once(builder, vc) for _ in offs_c] for _ in range(k)]
    acc_a = [cgutils.alloca_once(builder, va) for _ in offs_a]
    acc_c = [cgutils.alloca_once(builder, vc) for _ in offs_c]
    for acc in acc_a:
        builder.store(zero_a, acc)
    for acc in acc_c + [x for row in acc_g for x in row]:
        builder.store(zero_c, acc)
    splat = ir.Constant(ir.VectorType(i32, wc), [0] * wc)
    with cgutils.for_range(builder, m) as loop:
        ra = builder.gep(A.data, [builder.mul(loop.index, i64(k))])
        rc = builder.gep(C.data, [builder.mul(loop.index, kb)])
        ahead(ra, 0)
        ahead(rc, 0)
        if k > 8:
            ahead(ra, 64)
        if wc == 8 and nc == 2:  # rows of more than 64 bytes
            ahead(rc, 64)
        cv = [builder.load(at(rc, o, vc), align=8) for o in offs_c]
        for v, o in enumerate(offs_a):
            av = builder.load(at(ra, o, va), align=8)
            fma(fma_a, av, av, acc_a[v])
        for v in range(nc):
            fma(fma_c, cv[v], cv[v], acc_c[v])
        for f in range(k):
            x = builder.load(builder.gep(ra, [i64(f)]))
            xv = builder.insert_element(ir.Constant(vc, ir.Undefined), x, i32(0))
            xv = builder.shuffle_vector(xv, xv, splat)
            for v in range(nc):
                fma(fma_c, xv, cv[v], acc_g[f][v])
    for f in range(k):
        row = builder.mul(i64(f), kb)
        for v, o in enumerate(offs_c):
            builder.store(builder.load(acc_g[f][v]), at(G.data, builder.add(row, o), vc), align=8)
    for v, o in enumerate(offs_a):
        builder.store(builder.load(acc_a[v]), at(NA.data, o, va), align=8)
    for v, o in enumerate(offs_c):
        builder.store(builder.load(acc_c[v]), at(NB.data, o, vc), align=8)


@intrinsic
def _gram_norms_ir(typingctx, a, c, G, na, nb):  # pragma: no cover - compiled
    """G = aᵀc, na = Σ_g a[g]², nb = Σ_g c[g]² for C-contiguous float64 a (m, k), c (m, k'),
    G (k, k'), na (k,), nb (k',) with 1 <= k <= min(k', 10) and k' <= 16, in one pass.

    One loop per k and vector layout of k' (:func:`_cover`), chosen by a switch on (k, k');
    other sizes do nothing (callers check). Sums run over the genes in order, with fused
    multiply-adds, so the result of a pair does not depend on anything else.
    """
    mats = (a, c, G)
    vecs = (na, nb)
    ok = all(
        isinstance(x, types.Array) and x.dtype == types.float64 and x.layout == "C"
        for x in mats + vecs
    )
    if not ok or any(x.ndim != 2 for x in mats) or any(x.ndim != 1 for x in vecs):
        return None

    def codegen(context, builder, signature, args):
        arrays = zip(signature.args, args, strict=True)
        A, C, Gm, NA, NB = [context.make_array(t)(context, builder, v) for t, v in arrays]
        m, k = cgutils.unpack_tuple(builder, A.shape)
        kb = cgutils.unpack_tuple(builder, C.shape)[1]
        done = builder.append_basic_block("pass.done")
        switch = builder.switch(builder.add(builder.mul(k, k.type(32)), kb), done)
        blocks = {}
        for kk in range(1, _PASS_ROWS + 1):
            for kc in range(kk, _PASS_COLS + 1):
                key = (kk,) + _cover(kc)
                if key not in blocks:
                    blocks[key] = builder.append_basic_block("pass.{}.{}.{}".format(*key))
                switch.add_case(k.type(kk * 32 + kc), blocks[key])
        for (kk, wc, nc), block in blocks.items():
            builder.position_at_end(block)
            _emit_pass(builder, kk, wc, nc, A, C, Gm, NA, NB, m, kb)
            builder.branch(done)
        builder.position_at_end(done)
        return context.get_dummy_value()

    return types.void(a, c, G, na, nb), codegen


@njit(**_OPTS)
def _gram_norms_pass(a, c, G, na, nb):  # pragma: no cover - compiled
    """Checked call of :func:`_gram_norms_ir` (used by the tests): G = aᵀc (k, k') and the
    squared column norms na (k,), nb (k') of C-contiguous float64 a (p, k), c (p, k')."""
    k = a.shape[1]
    kb = c.shape[1]
    if not (1 <= k <= kb <= _PASS_COLS and k <= _PASS_ROWS) or c.shape[0] != a.shape[0]:
        raise ValueError("single pass: needs 1 <= k <= min(k', 10), k' <= 16, same genes")
    if G.shape != (k, kb) or na.size != k or nb.size != kb:
        raise ValueError("single pass: output shapes")
    _gram_norms_ir(a, c, G, na, nb)


@njit(**_OPTS)
def _match_pass(A, B, perm, sim, status):  # pragma: no cover - compiled
    """:func:`match_cosine_batched` for C-contiguous float64 A and B with k <= 10, k' <= 16,
    by :func:`_gram_norms_ir`: one pass over each pair's genes gives its Gram matrix and
    column norms. A shared reference (nA = 1) is read again for every pair (from cache),
    so a pair gives the same bits with a shared or a per-pair reference."""
    nA, p, k = A.shape
    n = B.shape[0]
    kb = B.shape[2]
    cosm = np.empty((k, kb))
    cost = np.empty((k, kb))
    na = np.empty(k)
    nb = np.empty(kb)
    work = _work(k, kb)
    bad = 0
    for b in range(n):
        _gram_norms_ir(A[0] if nA == 1 else A[b], B[b], cosm, na, nb)
        st = _finish_pair(cosm, na, nb, cost, perm[b], sim[b], work)
        status[b] = st
        if st & 1:
            bad += 1
    return bad


def _pass_fits(k, kb):
    """Whether pairs of k and k' factors can take the single-pass kernel (AVX-512 hosts)."""
    return _WIDE_PASS and k <= _PASS_ROWS and kb <= _PASS_COLS


def _fast_pairs(A, B, perm, sim, status):
    """Run :func:`_match_pass` or :func:`_match_gemm` on C-contiguous float64 pairs large
    enough for them (see ``_PASS_MIN_ENTRIES``, ``_GEMM_MIN_ENTRIES``), else return -1.

    In compiled code the choice of dtype and layout is made once per signature at compile
    time (overload below), so float32 and non-contiguous inputs never type a BLAS call on
    their dtype; the shape decides the rest at run time.
    """
    ok = all(x.dtype == np.float64 and x.flags.c_contiguous for x in (A, B))
    k, kb = A.shape[2], B.shape[2]
    entries = B.shape[1] * (k + kb)
    if not ok:
        return -1
    if _pass_fits(k, kb):
        return _match_pass(A, B, perm, sim, status) if entries >= _PASS_MIN_ENTRIES else -1
    return _match_gemm(A, B, perm, sim, status) if entries >= _GEMM_MIN_ENTRIES else -1


@overload(_fast_pairs)
def _fast_pairs_overload(A, B, perm, sim, status):  # pragma: no cover - typing only
    if not all(
        isinstance(x, types.Array) and x.dtype == types.float64 and x.layout == "C" for x in (A, B)
    ):
        return lambda A, B, perm, sim, status: -1
    wide = _WIDE_PASS

    def impl(A, B, perm, sim, status):
        k = A.shape[2]
        kb = B.shape[2]
        entries = B.shape[1] * (k + kb)
        if wide and k <= _PASS_ROWS and kb <= _PASS_COLS:
            if entries >= _PASS_MIN_ENTRIES:
                return _match_pass(A, B, perm, sim, status)
            return -1
        if entries >= _GEMM_MIN_ENTRIES:
            return _match_gemm(A, B, perm, sim, status)
        return -1

    return impl


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

# The single pass (k <= 10, k' <= 16, AVX-512) has no chunks and no BLAS call per pair, so it
# beats both other paths from small pairs on; below ~200 entries the blocked path, which has
# the assignment written out inline, is 10-20% faster. Time of the blocked path / time of the
# pass (one thread, Sapphire Rapids, 5,000 to 100,000 pairs): p·(k + k') = 60: 0.81, 120:
# 0.88, 200: 1.0, 240 (k = 3): 1.3, p = 96 k = 5: 2.0, p = 200 k = 4, k' = 6: 2.6 (BLAS 1.6).
_PASS_MIN_ENTRIES = 200


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
    C-contiguous float64 pairs take :func:`_match_pass` (one pass over the genes with all
    sums in vector registers) when k <= 10, k' <= 16, p·(k + k') >= ``_PASS_MIN_ENTRIES``
    and the CPU has AVX-512, else :func:`_match_gemm` (BLAS products over chunks of genes)
    when p·(k + k') >= ``_GEMM_MIN_ENTRIES``; others (float32, accumulated in float64;
    mixed dtypes; non-contiguous; tiny pairs) take :func:`_match_blocked`. All give the
    cosine matrix Gram / (‖a_f‖ ‖b_h‖) up to rounding and solve the assignment on its
    negative with :func:`_solve`; the path depends on the shapes and dtypes only, and within
    one path the result of a pair does not depend on the other pairs of the batch (a batch
    and a loop over its pairs agree bit for bit).
    """
    bad = _fast_pairs(A, B, perm, sim, status)
    if bad >= 0:
        return bad
    return _match_blocked(A, B, perm, sim, status)
