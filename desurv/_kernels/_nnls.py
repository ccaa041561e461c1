"""Batched active-set NNLS on a shared Gram matrix (Numba, nogil).

Solves, for every column j, min_x ½ xᵀ G x - c_jᵀ x subject to x >= 0, with G = AᵀA (k, k)
and C = AᵀB (k, m) precomputed by BLAS: the Lawson & Hanson (1974) active-set algorithm in
the Gram form of Bro & de Jong (1997). Each passive-set sub-problem G_PP z = c_P is solved by
a small Cholesky factorisation; each column starts from the passive set of its
unconstrained solution (then x_P > 0 is optimal on P, a valid Lawson-Hanson state).

Cost. The unconstrained solutions of all columns share one factor of G: it is computed once
and G⁻¹C is formed by forward and back substitution vectorised across the columns (k²m
multiply-adds, like a BLAS triangular solve), so only the columns with a nonpositive entry
factorise a passive sub-matrix. Those columns are taken in the order of their sign patterns
and a factor is reused while the passive set does not change (columns with the same pattern
mostly walk through the same sets). The factorisations multiply by the stored inverses of
the pivots instead of dividing (a division's latency is ~4 times a multiplication's and sits
on the dependency chain of the short k-loops). What remains per column that needs the
active set is O(k²) (substitutions, the dual c - Gx) plus O(k³) per new passive set, in
short dependent scalar loops: at p = 96 channels and k = 10 about 10 times the BLAS product
C = AᵀB (2pk flops per column at full SIMD speed), within 2 times at 300 features and k = 5;
see ``benchmarks/family_kernels.py``.
Twin: ``desurv._reference.nnls``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(inline="always", **_OPTS)
def _gather(passive, idx):  # pragma: no cover - compiled
    """idx[:npass] ← the indices of the passive set, in order; returns npass."""
    npass = 0
    for a in range(passive.shape[0]):
        if passive[a]:
            idx[npass] = a
            npass += 1
    return npass


@njit(**_OPTS)
def _solve_passive(G, c, idx, npass, L, inv, z, tiny, cache):  # pragma: no cover - compiled
    """z[:npass] <- G[idx, idx]^{-1} c[idx] by Cholesky (L, and inv = 1 / diag(L)). Returns
    the position (in idx) of the first pivot below ``tiny`` (numerically dependent column),
    or -1 on success.

    ``cache[0]`` is the bit mask of the passive set whose factor L currently holds (-1:
    none): the factorisation is skipped when the set is unchanged (the next column with the
    same passive set). Sets of more than 62 variables are never cached.
    """
    key = -1
    if G.shape[0] <= 62:
        key = 0
        for a in range(npass):
            key |= np.int64(1) << idx[a]
    if key < 0 or key != cache[0]:
        cache[0] = -1
        fail = _factor(G, idx, npass, L, inv, tiny)
        if fail >= 0:
            return fail
        cache[0] = key
    _substitute(L, inv, npass, c, idx, z)
    return -1


@njit(**_OPTS)
def _factor(G, idx, npass, L, inv, tiny):  # pragma: no cover - compiled
    """Cholesky G[idx, idx] = L Lᵀ (lower triangle of L, inv[a] = 1 / L[a, a]). Returns the
    position of the first pivot below ``tiny``, or -1."""
    for a in range(npass):
        ia = idx[a]
        for b in range(a + 1):
            s = G[ia, idx[b]]
            for q in range(b):
                s -= L[a, q] * L[b, q]
            if a == b:
                if s <= tiny:
                    return a
                r = np.sqrt(s)
                L[a, a] = r
                inv[a] = 1.0 / r
            else:
                L[a, b] = s * inv[b]
    return -1


@njit(inline="always", **_OPTS)
def _substitute(L, inv, npass, c, idx, z):  # pragma: no cover - compiled
    """z[:npass] <- (L Lᵀ)^{-1} c[idx] by forward and back substitution."""
    for a in range(npass):
        s = c[idx[a]]
        for q in range(a):
            s -= L[a, q] * z[q]
        z[a] = s * inv[a]
    for a in range(npass - 1, -1, -1):
        s = z[a]
        for q in range(a + 1, npass):
            s -= L[q, a] * z[q]
        z[a] = s * inv[a]


@njit(**_OPTS)
def _solve_all(L, inv, C, Z):  # pragma: no cover - compiled
    """Z <- (L Lᵀ)^{-1} C for every column of C (k, m), the loops over the columns innermost
    (contiguous rows: they vectorise). Per column the arithmetic is the order of
    :func:`_substitute` with idx = 0 ... k - 1."""
    k, m = C.shape
    for a in range(k):
        inva = inv[a]
        for j in range(m):
            Z[a, j] = C[a, j]
        for q in range(a):
            laq = L[a, q]
            for j in range(m):
                Z[a, j] -= laq * Z[q, j]
        for j in range(m):
            Z[a, j] *= inva
    for a in range(k - 1, -1, -1):
        inva = inv[a]
        for q in range(a + 1, k):
            lqa = L[q, a]
            for j in range(m):
                Z[a, j] -= lqa * Z[q, j]
        for j in range(m):
            Z[a, j] *= inva


@njit(**_OPTS)
def nnls_gram(G, C, max_iter):  # pragma: no cover - compiled
    """Solve min ½xᵀGx - cᵀx, x >= 0, for every column c of C (k, m). Returns X (k, m) float64.

    ``max_iter`` bounds the outer (add-a-variable) iterations per column.
    Returns (X, n_unconverged): the number of columns that hit ``max_iter``.
    """
    k, m = C.shape
    X = np.zeros((k, m))
    L = np.zeros((k, k))
    inv = np.zeros(k)
    z = np.zeros(k)
    x = np.zeros(k)
    w = np.zeros(k)
    c = np.zeros(k)
    idx = np.zeros(k, dtype=np.int64)
    passive = np.zeros(k, dtype=np.bool_)
    banned = np.zeros(k, dtype=np.bool_)
    gmax = 0.0
    for a in range(k):
        if G[a, a] > gmax:
            gmax = G[a, a]
    eps = np.finfo(np.float64).eps
    tiny = gmax * eps * 10.0 * k
    bad = 0
    # the unconstrained solutions of all columns from one factor of G (the first solve of
    # every column's warm start); a singular G makes every column start cold, as its
    # factorisation would fail for each column at the same pivot
    for a in range(k):
        idx[a] = a
    full = k > 0 and _factor(G, idx, k, L, inv, tiny) < 0
    Z0 = np.empty((k, m) if full else (0, 0))
    cache = np.full(1, -1, dtype=np.int64)
    order = np.arange(m)
    if full:
        _solve_all(L, inv, C, Z0)
        if k <= 62:
            cache[0] = (np.int64(1) << k) - 1
            # the columns with a nonpositive unconstrained entry last, sorted by the sign
            # pattern: columns with the same pattern go through the same passive sets one
            # after the other and reuse the factor (cache); the order changes no result
            key = np.zeros(m, dtype=np.int64)
            for a in range(k):
                for j in range(m):
                    if Z0[a, j] > 0.0:
                        key[j] |= np.int64(1) << a
            nwork = 0
            for j in range(m):
                if key[j] != cache[0]:
                    nwork += 1
            work = np.empty(nwork, dtype=np.int64)
            wkey = np.empty(nwork, dtype=np.int64)
            i0 = 0
            i1 = m - nwork
            for j in range(m):
                if key[j] != cache[0]:
                    work[i0] = j
                    wkey[i0] = key[j]
                    i0 += 1
                else:
                    i1 -= 1
                    order[i1] = j
            srt = np.argsort(wkey)
            for i in range(nwork):
                order[m - nwork + i] = work[srt[i]]
    for jj in range(m):
        j = order[jj]
        cmax = 0.0
        for a in range(k):
            c[a] = C[a, j]
            x[a] = 0.0
            passive[a] = False
            banned[a] = False
            if abs(c[a]) > cmax:
                cmax = abs(c[a])
        npass = 0
        it = 0
        neg = False
        # warm start (passive set of the unconstrained solution): solve on P, drop the
        # variables whose solution is <= 0, repeat; x = the positive solution on the final P
        # is feasible and optimal on P, the state the Lawson-Hanson outer loop expects
        if full:
            for a in range(k):
                if Z0[a, j] <= 0.0:
                    neg = True
                else:
                    passive[a] = True
            if not neg:
                for a in range(k):
                    x[a] = Z0[a, j]
        while full and neg:
            npass = _gather(passive, idx)
            if npass == 0:
                break
            fail = _solve_passive(G, c, idx, npass, L, inv, z, tiny, cache)
            if fail >= 0:
                for a in range(k):
                    passive[a] = False
                npass = 0
                break
            neg = False
            for a in range(npass):
                if z[a] <= 0.0:
                    passive[idx[a]] = False
                    neg = True
            if not neg:
                for a in range(npass):
                    x[idx[a]] = z[a]
        while True:
            # dual w = c - G x and the largest positive entry outside the passive set
            xmax = 0.0
            for a in range(k):
                if x[a] > xmax:
                    xmax = x[a]
            tol = 10.0 * k * eps * (cmax + gmax * xmax * k)
            best = -1
            wbest = tol
            for a in range(k):
                if passive[a] or banned[a]:
                    continue
                s = c[a]
                for b in range(k):
                    s -= G[a, b] * x[b]
                w[a] = s
                if s > wbest:
                    wbest = s
                    best = a
            if best < 0:
                break
            if it >= max_iter:
                bad += 1
                break
            it += 1
            passive[best] = True
            while True:
                npass = _gather(passive, idx)
                fail = _solve_passive(G, c, idx, npass, L, inv, z, tiny, cache)
                if fail >= 0:
                    # dependent column: keep it out for this right-hand side
                    passive[idx[fail]] = False
                    banned[idx[fail]] = True
                    continue
                # feasible?
                alpha = 2.0
                amin = -1
                for a in range(npass):
                    if z[a] <= 0.0:
                        xa = x[idx[a]]
                        t = xa / (xa - z[a]) if xa - z[a] > 0 else 0.0
                        if t < alpha:
                            alpha = t
                            amin = a
                if amin < 0:
                    for a in range(k):
                        x[a] = 0.0
                    for a in range(npass):
                        x[idx[a]] = z[a]
                    break
                # step towards z; the blocking variable (and any that reach 0) leave P
                for a in range(npass):
                    ia = idx[a]
                    x[ia] += alpha * (z[a] - x[ia])
                    if a == amin or x[ia] <= 0.0:
                        x[ia] = 0.0
                        passive[ia] = False
        for a in range(k):
            X[a, j] = x[a]
    return X, bad
