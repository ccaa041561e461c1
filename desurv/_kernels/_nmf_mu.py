"""Fused multiplicative-update passes of plain NMF (Lee & Seung 2001), Numba, nogil.

The products with X (or with the ratio X / WH) are done by BLAS in the caller; these kernels
do the element-wise work around them in one pass each.

Layout: both factors are handled as "row factors" F of shape (m, k) (W itself, and Hᵀ), so one
kernel serves the W and the H half-steps. The arithmetic reproduces scikit-learn's update
order: ``F <- F * (num / den)`` with ``den = (F·G + l1) + l2·F`` and ``den == 0 -> eps``.
Sums that feed the objective accumulate in float64 whatever the input dtype.
Every kernel has a NumPy twin in ``desurv._reference.nmf_mu``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def fro_factor(F, num, G, l1, l2, eps):  # pragma: no cover - compiled
    """Frobenius MU of a row factor, in place: F <- F * num / ((F G + l1) + l2 F).

    F, num : (m, k); G : (k, k) Gram matrix of the other factor. ``den == 0`` becomes eps.
    Returns (FtF, cross, s1, s2): FtF = FᵀF of the new F (k, k, float64), cross = <num, F_new>
    (with num = X Hᵀ this is the cross term of ½‖X - WH‖² at the new point), s1 = sum(F_new)
    and s2 = sum(F_new²).
    """
    m, k = F.shape
    row = np.empty(k, dtype=F.dtype)
    FtF = np.zeros((k, k))
    cross = 0.0
    s1 = 0.0
    s2 = 0.0
    for i in range(m):
        for f in range(k):
            row[f] = F[i, f]
        for f in range(k):
            d = row[0] * G[0, f]
            for g in range(1, k):
                d += row[g] * G[g, f]
            d = (d + l1) + l2 * row[f]
            if d == 0:
                d = eps
            v = row[f] * (num[i, f] / d)
            F[i, f] = v
            cross += np.float64(num[i, f]) * v
            s1 += v
            s2 += np.float64(v) * v
        for f in range(k):
            a = np.float64(F[i, f])
            for g in range(f, k):
                FtF[f, g] += a * F[i, g]
    for f in range(k):
        for g in range(f):
            FtF[f, g] = FtF[g, f]
    return FtF, cross, s1, s2


@njit(**_OPTS)
def div_factor(F, num, den, l1, l2, eps, floor):  # pragma: no cover - compiled
    """Generic MU of a row factor, in place: F <- F * num / ((den + l1) + l2 F).

    F, num : (m, k); den : (m, k) or (1, k) (broadcast over rows, e.g. the column sums of
    the other factor for the KL loss). ``den == 0`` becomes eps; with ``floor > 0`` entries
    below ``floor`` are set to 0 afterwards (scikit-learn's KL rule for H).
    Returns (s1, s2) = (sum(F_new), sum(F_new²)) in float64.
    """
    m, k = F.shape
    bcast = den.shape[0] == 1
    s1 = 0.0
    s2 = 0.0
    for i in range(m):
        r = 0 if bcast else i
        for f in range(k):
            x = F[i, f]
            d = (den[r, f] + l1) + l2 * x
            if d == 0:
                d = eps
            v = x * (num[i, f] / d)
            if v < floor:
                v = 0.0
            F[i, f] = v
            s1 += v
            s2 += v * v
    return s1, s2


@njit(**_OPTS)
def kl_ratio(X, B, eps, want_loss):  # pragma: no cover - compiled
    """In place B <- X / max(B, eps) (B holds WH on entry); optionally the KL log term.

    X, B : (n, p) of the same dtype. Returns (sum_{x > eps} x·log(x / max(WH, eps)),
    sum_{x > eps} x) in float64 when ``want_loss`` (else (0, 0)): with sum(WH) these give
    scikit-learn's generalised KL divergence.
    """
    n, p = X.shape
    lg = 0.0
    sx = 0.0
    for i in range(n):
        # branch-free ratio loop (vectorises); the logs only when the loss is wanted
        for j in range(p):
            wh = B[i, j]
            B[i, j] = X[i, j] / (wh if wh >= eps else eps)
        if want_loss:
            for j in range(p):
                x = X[i, j]
                if x > eps:
                    lg += np.float64(x) * np.log(np.float64(B[i, j]))
                    sx += x
    return lg, sx


@njit(**_OPTS)
def masked_fro_pass(X, M, B):  # pragma: no cover - compiled
    """In place B <- M * B (B holds WH on entry). Returns sum M (X - WH)² in float64.

    X, M, B : (n, p). The weighted Frobenius MU then reads num = (M X) Hᵀ, den = B Hᵀ.
    """
    n, p = X.shape
    loss = 0.0
    for i in range(n):
        for j in range(p):
            m = M[i, j]
            wh = B[i, j]
            r = np.float64(X[i, j]) - wh
            loss += m * r * r
            B[i, j] = m * wh
    return loss


@njit(**_OPTS)
def masked_kl_pass(X, M, B, eps):  # pragma: no cover - compiled
    """In place B <- M * X / max(B, eps) (B holds WH on entry).

    Returns the weighted generalised KL divergence
    sum M (x log(x / max(WH, eps)) [x > eps] - x + WH) in float64.
    """
    n, p = X.shape
    loss = 0.0
    for i in range(n):
        for j in range(p):
            m = M[i, j]
            x = X[i, j]
            wh = B[i, j]
            whs = wh if wh >= eps else eps
            r = x / whs
            if m != 0:
                t = np.float64(wh) - x
                if x > eps:
                    t += np.float64(x) * np.log(np.float64(r))
                loss += m * t
            B[i, j] = m * r
    return loss
