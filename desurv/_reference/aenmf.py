"""Plain NumPy twins of ``desurv._kernels._aenmf`` (tests only): the formulas as written."""

from __future__ import annotations

import numpy as np

FP_ABS, FP_RELU, PG, ABS = 0, 1, 2, 3


def adam_step(W, P, g, m, v, t, lr, beta1, beta2, eps, scheme):
    """Twin of ``_aenmf.adam_step``: chain rule of φ, Adam (bias-corrected), projection, φ.

    With g_W = φ'(W) ⊙ g (φ' = sign for FP_ABS with sign(0) = 0, [W > 0] for FP_RELU, 1 for
    PG and ABS): m <- β₁m + (1 - β₁)g_W, v <- β₂v + (1 - β₂)g_W², m̂ = m / (1 - β₁^t),
    v̂ = v / (1 - β₂^t), W <- W - lr·m̂ / (sqrt(v̂) + eps), then W <- max(W, 0) (PG) or
    |W| (ABS), and P <- φ(W).
    """
    dt = W.dtype
    W64 = W.astype(np.float64)
    g64 = g.astype(np.float64)
    if scheme == FP_ABS:
        g64 = np.sign(W64) * g64
    elif scheme == FP_RELU:
        g64 = np.where(W64 > 0, g64, 0.0)
    m64 = beta1 * m.astype(np.float64) + (1 - beta1) * g64
    v64 = beta2 * v.astype(np.float64) + (1 - beta2) * g64**2
    m_hat = m64 / (1 - beta1**t)
    v_hat = v64 / (1 - beta2**t)
    new = W64 - lr * m_hat / (np.sqrt(v_hat) + eps)
    if scheme == PG:
        new = np.maximum(new, 0.0)
    elif scheme == ABS:
        new = np.abs(new)
    m[...] = m64
    v[...] = v64
    W[...] = new.astype(dt)
    if scheme == FP_ABS:
        P[...] = np.abs(W)
    elif scheme == FP_RELU:
        P[...] = np.maximum(W, 0)
    else:
        P[...] = W


def fro_residual(R, X):
    """Twin of ``_aenmf.fro_residual``: R <- X̂ - X; returns Σ (X̂ - X)² in float64."""
    r = R.astype(np.float64) - X.astype(np.float64)
    R[...] = r
    return float(np.sum(r * r))


def kl_residual(Q, X, eps, scale):
    """Twin of ``_aenmf.kl_residual``: Q <- scale·(1 - X/(X̂ + eps)); returns the generalised
    KL divergence Σ x·log(x/(x̂ + eps))[x > 0] - x + x̂."""
    x = X.astype(np.float64)
    xh = Q.astype(np.float64)
    r = x / (xh + eps)
    pos = x > 0
    d = float(np.sum(x[pos] * np.log(r[pos])) + np.sum(xh - x))
    Q[...] = scale * (1 - r)
    return d
