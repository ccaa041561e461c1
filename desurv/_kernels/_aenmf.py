"""Fused element-wise passes of AE-NMF (Egendal et al.): the Adam step and the residuals.

AE-NMF trains the linear autoencoder V̂ = V·φ(W_enc)·φ(W_dec) by full-batch Adam
(Kingma & Ba 2015). The estimator (``desurv.decomposition.aenmf``) keeps both weight
matrices side by side in one C-contiguous array of shape (n_samples, 2k),
``W = [W_enc | W_decᵀ]``, so that one compiled pass serves both; the products with the data
go to BLAS.

* :func:`adam_step`: one Adam step of every weight, in place, fused with the chain rule of
  the non-negativity scheme φ (from the gradient with respect to φ(W) to the gradient with
  respect to W), the projection of the projected schemes and the new φ(W).
* :func:`fro_residual`: R <- X̂ - X in place, returns Σ R² (float64).
* :func:`kl_residual`: Q <- scale·(1 - X/(X̂ + ε)) in place, returns the generalised
  Kullback-Leibler divergence Σ x·log(x/(x̂ + ε))[x > 0] - x + x̂ (float64).

Arithmetic per entry is float64 (arrays may be float32: they are read and stored in their
dtype); sums accumulate in float64. Twins: ``desurv._reference.aenmf``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

#: φ = |·| in the forward pass (the authors' chosen scheme), d/dw = sign(w), sign(0) = 0
FP_ABS = 0
#: φ = max(·, 0) in the forward pass, d/dw = [w > 0]
FP_RELU = 1
#: φ = identity, W <- max(W, 0) after each step (projected gradient)
PG = 2
#: φ = identity, W <- |W| after each step
ABS = 3


@njit(**_OPTS)
def adam_step(W, P, g, m, v, t, lr, beta1, beta2, eps, scheme):  # pragma: no cover - compiled
    """One Adam step of all weights, fused with the scheme's chain rule and projection.

    Parameters
    ----------
    W : ndarray (n, q), float32 or float64, C-contiguous
        Raw weights, updated in place.
    P : ndarray (n, q), W's dtype
        Output: φ(W_new) (``|W|`` for FP_ABS, ``max(W, 0)`` for FP_RELU, W for PG/ABS).
    g : ndarray (n, q), W's dtype
        Gradient of the loss with respect to φ(W) (read only).
    m, v : ndarray (n, q), W's dtype
        Adam's first and second moments, updated in place.
    t : int >= 1
        Step number (bias correction 1 - β^t).
    lr, beta1, beta2, eps : float
        Adam's step size, decay rates and denominator guard (PyTorch's form:
        w <- w - (lr / (1 - β₁^t))·m / (sqrt(v) / sqrt(1 - β₂^t) + eps)).
    scheme : int
        FP_ABS, FP_RELU, PG or ABS (module constants).

    """
    n, q = W.shape
    c1 = lr / (1.0 - beta1**t)
    c2 = 1.0 / np.sqrt(1.0 - beta2**t)
    for i in range(n):
        for j in range(q):
            w = np.float64(W[i, j])
            gi = np.float64(g[i, j])
            if scheme == FP_ABS:
                if w < 0:
                    gi = -gi
                elif w == 0:
                    gi = 0.0
            elif scheme == FP_RELU:
                if not w > 0:
                    gi = 0.0
            mi = beta1 * np.float64(m[i, j]) + (1.0 - beta1) * gi
            vi = beta2 * np.float64(v[i, j]) + (1.0 - beta2) * gi * gi
            m[i, j] = mi
            v[i, j] = vi
            w = w - c1 * mi / (np.sqrt(vi) * c2 + eps)
            if scheme == PG:
                if w < 0:
                    w = 0.0
            elif scheme == ABS:
                w = abs(w)
            W[i, j] = w
            w = np.float64(W[i, j])  # φ of the stored (possibly float32) value
            if scheme == FP_ABS:
                w = abs(w)
            elif scheme == FP_RELU:
                if w < 0:
                    w = 0.0
            P[i, j] = w


@njit(**_OPTS)
def fro_residual(R, X):  # pragma: no cover - compiled
    """In place R <- R - X (R holds X̂ on entry). Returns Σ (X̂ - X)² in float64.

    R, X : ndarray (n, p) of the same dtype.
    """
    n, p = X.shape
    s = 0.0
    for i in range(n):
        for j in range(p):
            r = np.float64(R[i, j]) - np.float64(X[i, j])
            R[i, j] = r
            s += r * r
    return s


@njit(**_OPTS)
def kl_residual(Q, X, eps, scale):  # pragma: no cover - compiled
    """In place Q <- scale·(1 - X / (X̂ + eps)) (Q holds X̂ >= 0 on entry).

    Returns the generalised Kullback-Leibler divergence
    Σ_{ij} x·log(x / (x̂ + eps))[x > 0] - x + x̂ in float64 (unscaled).
    Q, X : ndarray (n, p) of the same dtype; eps > 0 guards X̂ = 0.
    """
    n, p = X.shape
    s = 0.0
    for i in range(n):
        for j in range(p):
            x = np.float64(X[i, j])
            xh = np.float64(Q[i, j])
            d = xh + eps
            r = x / d
            if x > 0:
                s += x * np.log(r)
            s += xh - x
            Q[i, j] = scale * (1.0 - r)
    return s
