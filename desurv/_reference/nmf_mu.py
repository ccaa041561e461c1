"""Plain NumPy twins of ``desurv._kernels._nmf_mu`` (tests only): the formulas as written."""

from __future__ import annotations

import numpy as np


def fro_step(X, W, H, HHt, reg, eps, numH, WtW, D, fused):
    """Twin of ``_nmf_mu.fro_step`` (both paths): W then H, scikit-learn's formulas."""
    l1W, l1H, l2W, l2H = reg
    W_old = W.copy()
    den = (W_old @ HHt + l1W) + l2W * W_old
    den[den == 0] = eps
    W[...] = W_old * ((X @ H.T).astype(np.float64) / den)
    W64 = W.astype(np.float64)
    numH[...] = W64.T @ X
    WtW[...] = W64.T @ W64
    H_old = H.copy()
    D[...] = WtW @ H_old
    den = (D + l1H) + l2H * H_old
    den[den == 0] = eps
    H[...] = H_old * (numH / den)
    H64 = H.astype(np.float64)
    HHt[...] = H64 @ H64.T
    cross = float(np.sum(numH * H64))
    quad = float(np.sum(WtW * HHt))
    return cross, quad, W64.sum(), (W64**2).sum(), H64.sum(), (H64**2).sum()


def div_factor(F, num, den, l1, l2, eps, floor):
    """Twin of ``_nmf_mu.div_factor``: in place F <- F * num / ((den + l1) + l2 F), floored."""
    d = (den + l1) + l2 * F
    d[d == 0] = eps
    new = F * (num / d)
    new[new < floor] = 0
    F[...] = new
    F64 = F.astype(np.float64)
    return float(F64.sum()), float((F64**2).sum())


def kl_ratio(X, B, eps, want_loss):
    """Twin of ``_nmf_mu.kl_ratio``: B <- X / max(B, eps); the x·log(x/WH) and x sums."""
    whs = np.maximum(B, eps)
    B[...] = X / whs
    if not want_loss:
        return 0.0, 0.0
    sel = X > eps
    x = X[sel].astype(np.float64)
    return float(np.sum(x * np.log(B[sel].astype(np.float64)))), float(x.sum())


def masked_fro_pass(X, M, B):
    """Twin of ``_nmf_mu.masked_fro_pass``: B <- M * B; returns sum M (X - WH)²."""
    r = X.astype(np.float64) - B
    loss = float(np.sum(M * r * r))
    B *= M
    return loss


def masked_kl_pass(X, M, B, eps, want_loss):
    """Twin of ``_nmf_mu.masked_kl_pass``: B <- M X / max(B, eps); weighted KL divergence."""
    WH = B.astype(np.float64)
    X64 = X.astype(np.float64)
    r = X / np.maximum(B, eps)
    t = WH - X64
    sel = X > eps
    t[sel] += X64[sel] * np.log(r[sel].astype(np.float64))
    loss = float(np.sum((M * t)[M != 0])) if want_loss else 0.0
    B[...] = M * r
    return loss


def kl_w_pass(X, W, H, eps, num, L):
    """Twin of ``_nmf_mu.kl_w_pass``: num = (X / max(WH, eps)) Hᵀ; L = ratio or 1 (x <= eps)."""
    B = W @ H
    kl_ratio(X, B, eps, False)
    num[...] = B @ H.T
    if L.shape[0] > 0:
        L[...] = np.where(X > eps, B, 1.0)


def kl_h_pass(X, W, H, eps, num):
    """Twin of ``_nmf_mu.kl_h_pass``: num = Wᵀ (X / max(WH, eps))."""
    B = W @ H
    kl_ratio(X, B, eps, False)
    num[...] = W.T @ B


def kl_ratio_fill(X, B, eps, L):
    """Twin of ``_nmf_mu.kl_ratio_fill``: B <- X / max(B, eps); L = ratio or 1 (x <= eps)."""
    B[...] = X / np.maximum(B, eps)
    if L.shape[0] > 0:
        L[...] = np.where(X > eps, B, 1.0)


def kl_num_w(X, W, H, eps, numW, L, B, fused):
    """Twin of ``_nmf_mu.kl_num_w`` (both paths): numW = (X / max(WH, eps)) Hᵀ."""
    kl_w_pass(X, W, H, eps, numW, L)
    if not fused:
        B[...] = X / np.maximum(W @ H, eps)


def kl_steps(X, W, H, reg, eps, floor, n_steps, fused, numW, numH, B, L):
    """Twin of ``_nmf_mu.kl_steps``: scikit-learn's KL MU iterations, as written."""
    l1W, l1H, l2W, l2H = reg
    sums = (0.0, 0.0, 0.0, 0.0)
    for s in range(n_steps):
        sW = div_factor(W, numW, H.sum(axis=1)[None, :], l1W, l2W, eps, 0.0)
        kl_h_pass(X, W, H, eps, numH)
        wsum = W.sum(axis=0)
        wsum[wsum == 0] = 1.0
        sH = div_factor(H.T, numH.T, wsum[None, :], l1H, l2H, eps, floor)
        sums = (*sW, *sH)
        kl_num_w(X, W, H, eps, numW, L if s == n_steps - 1 else L[:0, :0], B, fused)
    return sums


def fro_loop(X, W, H, reg, eps, x2, max_iter, tol, hist, fused):
    """Twin of ``_nmf_mu.fro_loop``: the Frobenius MU loop in NumPy (same stopping rule)."""
    l1W, l1H, l2W, l2H = reg
    k, p = H.shape
    H64 = H.astype(np.float64)
    HHt = H64 @ H64.T
    numH, D, WtW = np.empty((k, p)), np.empty((k, p)), np.empty((k, k))
    e0 = e_prev = np.sqrt(2.0 * max(hist[0], 0.0))
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        cross, quad, sW1, sW2, sH1, sH2 = fro_step(X, W, H, HHt, reg, eps, numH, WtW, D, fused)
        loss = max(0.5 * (x2 - 2.0 * cross + quad), 0.0)
        hist[it] = loss + l1W * sW1 + 0.5 * l2W * sW2 + l1H * sH1 + 0.5 * l2H * sH2
        if tol > 0 and it % 10 == 0:
            e = np.sqrt(2.0 * loss)
            if e0 == 0 or (e_prev - e) / e0 < tol:
                break
            e_prev = e
    return n_iter
