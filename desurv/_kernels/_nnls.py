"""Batched active-set NNLS on a shared Gram matrix (Numba, nogil).

Solves, for every column j, min_x ½ xᵀ G x - c_jᵀ x subject to x >= 0, with G = AᵀA (k, k)
and C = AᵀB (k, m) precomputed by BLAS: the Lawson & Hanson (1974) active-set algorithm in
the Gram form of Bro & de Jong (1997). Each passive-set sub-problem G_PP z = c_P is solved by
a small Cholesky factorisation; each column starts from the passive set of its
unconstrained solution (then x_P > 0 is optimal on P, a valid Lawson-Hanson state).
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
def _solve_passive(G, c, idx, npass, L, z, tiny):  # pragma: no cover - compiled
    """z[:npass] <- G[idx, idx]^{-1} c[idx] by Cholesky. Returns the position (in idx) of the
    first pivot below ``tiny`` (numerically dependent column), or -1 on success."""
    for a in range(npass):
        ia = idx[a]
        for b in range(a + 1):
            s = G[ia, idx[b]]
            for q in range(b):
                s -= L[a, q] * L[b, q]
            if a == b:
                if s <= tiny:
                    return a
                L[a, a] = np.sqrt(s)
            else:
                L[a, b] = s / L[b, b]
    for a in range(npass):
        s = c[idx[a]]
        for q in range(a):
            s -= L[a, q] * z[q]
        z[a] = s / L[a, a]
    for a in range(npass - 1, -1, -1):
        s = z[a]
        for q in range(a + 1, npass):
            s -= L[q, a] * z[q]
        z[a] = s / L[a, a]
    return -1


@njit(**_OPTS)
def nnls_gram(G, C, max_iter):  # pragma: no cover - compiled
    """Solve min ½xᵀGx - cᵀx, x >= 0, for every column c of C (k, m). Returns X (k, m) float64.

    ``max_iter`` bounds the outer (add-a-variable) iterations per column.
    Returns (X, n_unconverged): the number of columns that hit ``max_iter``.
    """
    k, m = C.shape
    X = np.zeros((k, m))
    L = np.zeros((k, k))
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
    for j in range(m):
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
        # warm start (passive set of the unconstrained solution): solve on P, drop the
        # variables whose solution is <= 0, repeat; x = the positive solution on the final P
        # is feasible and optimal on P, the state the Lawson-Hanson outer loop expects
        for a in range(k):
            passive[a] = True
        while True:
            npass = _gather(passive, idx)
            if npass == 0:
                break
            fail = _solve_passive(G, c, idx, npass, L, z, tiny)
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
                break
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
                    if x[b] != 0.0:
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
                fail = _solve_passive(G, c, idx, npass, L, z, tiny)
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
