"""Fused multiplicative-update passes for the DeSurv NMF steps (Numba, nogil).

The products with X are done by BLAS in the caller; these kernels do the small, element-wise
work around them in one pass each, so that no p x n temporary is ever formed.
Every kernel has a NumPy twin in ``desurv._reference`` (tests compare them).
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def update_h(H, A, WtW, ridge, eps):  # pragma: no cover - compiled
    """In place: H <- max(H * A / (WtW H + ridge H + eps), eps); returns H Hᵀ of the new H.

    H : (k, n) exposures, A : (k, n) = WᵀX, WtW : (k, k).
    """
    k, n = H.shape
    col = np.empty(k)
    HHt = np.zeros((k, k))
    for j in range(n):
        for f in range(k):
            col[f] = H[f, j]
        for f in range(k):
            den = ridge * col[f] + eps
            for g in range(k):
                den += WtW[f, g] * col[g]
            v = col[f] * A[f, j] / den
            H[f, j] = v if v >= eps else eps
        for f in range(k):
            hf = H[f, j]
            for g in range(f, k):
                HHt[f, g] += hf * H[g, j]
    for f in range(k):
        for g in range(f):
            HHt[f, g] = HHt[g, f]
    return HHt


@njit(**_OPTS)
def w_ratio(W, XHt, Xg, beta, HHt, c_nmf, ridge_w, alpha, clamp, eps, R):  # pragma: no cover
    """Multiplicative ratio of the balanced W step, written into ``R`` (p, k).

    N = c·XHᵀ + s·(Xg)βᵀ,  D = c·W HHᵀ + ridge_w·W,  R = N / (D + eps), with
    s = alpha·min(‖G_nmf‖/‖G_cox‖, clamp), G_nmf = c(W HHᵀ − XHᵀ), G_cox = (Xg)βᵀ.
    Returns (‖G_nmf‖, ‖G_cox‖). ``alpha == 0`` skips the Cox part.
    """
    p, k = W.shape
    whh = np.empty(k)
    gn2 = 0.0
    for i in range(p):
        for f in range(k):
            s = 0.0
            for g in range(k):
                s += W[i, g] * HHt[g, f]
            whh[f] = s
            d = c_nmf * (s - XHt[i, f])
            gn2 += d * d
    gn = np.sqrt(gn2)
    gc = 0.0
    scale = 0.0
    if alpha > 0.0:
        xg2 = 0.0
        for i in range(p):
            xg2 += Xg[i] * Xg[i]
        b2 = 0.0
        for f in range(k):
            b2 += beta[f] * beta[f]
        gc = np.sqrt(xg2 * b2)
        ratio = (gn + 1e-12) / (gc + 1e-12)
        if ratio > clamp:
            ratio = clamp
        scale = alpha * ratio
    for i in range(p):
        for f in range(k):
            s = 0.0
            for g in range(k):
                s += W[i, g] * HHt[g, f]
            num = c_nmf * XHt[i, f] + scale * Xg[i] * beta[f]
            R[i, f] = num / (c_nmf * s + ridge_w * W[i, f] + eps)
    return gn, gc


@njit(**_OPTS)
def w_trial(W, R, theta, eps, Wt, norms, WtW):  # pragma: no cover - compiled
    """Damped trial Wt = max(W·((1−θ) + θR), eps) with its column norms and Gram matrix.

    Writes ``Wt`` (p, k) unnormalised, ``norms`` (k,) the ℓ2 column norms (norms < eps are
    reported as 1, leaving that column unscaled) and ``WtW`` = Wtᵀ Wt (k, k).
    """
    p, k = W.shape
    a = 1.0 - theta
    for f in range(k):
        for g in range(k):
            WtW[f, g] = 0.0
    for i in range(p):
        for f in range(k):
            v = W[i, f] * (a + theta * R[i, f])
            Wt[i, f] = v if v >= eps else eps
        for f in range(k):
            wf = Wt[i, f]
            for g in range(f, k):
                WtW[f, g] += wf * Wt[i, g]
    for f in range(k):
        for g in range(f):
            WtW[f, g] = WtW[g, f]
        nf = np.sqrt(WtW[f, f])
        norms[f] = nf if nf >= eps else 1.0


@njit(**_OPTS)
def trial_projection(A, B, theta, H, beta, Zt, eta):  # pragma: no cover - compiled
    """Projections of the damped trial without touching X.

    By linearity Zt = (1−θ)·A + θ·B with A = WᵀX and B = (W⊙R)ᵀX (both (k, n)); writes Zt,
    the linear predictor ``eta`` = Ztᵀβ (n,), and returns ⟨Zt, H⟩ (the cross term of
    ‖X − WH‖²). Column scaling of the trial cancels in both, so no normalisation is needed.
    """
    k, n = A.shape
    a = 1.0 - theta
    cross = 0.0
    for j in range(n):
        e = 0.0
        for f in range(k):
            z = a * A[f, j] + theta * B[f, j]
            Zt[f, j] = z
            e += z * beta[f]
            cross += z * H[f, j]
        eta[j] = e
    return cross


@njit(**_OPTS)
def row_sd(Z, out):  # pragma: no cover - compiled
    """Sample standard deviation (ddof = 1) of each row of Z (k, n), two-pass for accuracy."""
    k, n = Z.shape
    for f in range(k):
        m = 0.0
        for j in range(n):
            m += Z[f, j]
        m /= n
        s = 0.0
        for j in range(n):
            d = Z[f, j] - m
            s += d * d
        out[f] = np.sqrt(s / (n - 1)) if n > 1 else 0.0
