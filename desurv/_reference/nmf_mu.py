"""Plain NumPy twins of ``desurv._kernels._nmf_mu`` (tests only): the formulas as written."""

from __future__ import annotations

import numpy as np


def fro_factor(F, num, G, l1, l2, eps):
    """Twin of ``_nmf_mu.fro_factor``: in place F <- F * num / ((F G + l1) + l2 F)."""
    F_old = F.copy()
    den = (F_old @ G + l1) + l2 * F_old
    den[den == 0] = eps
    F[...] = F_old * (num / den)
    F64 = F.astype(np.float64)
    cross = float(np.sum(num.astype(np.float64) * F64))
    return F64.T @ F64, cross, float(F64.sum()), float((F64**2).sum())


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


def masked_kl_pass(X, M, B, eps):
    """Twin of ``_nmf_mu.masked_kl_pass``: B <- M X / max(B, eps); weighted KL divergence."""
    WH = B.astype(np.float64)
    X64 = X.astype(np.float64)
    r = X / np.maximum(B, eps)
    t = WH - X64
    sel = X > eps
    t[sel] += X64[sel] * np.log(r[sel].astype(np.float64))
    loss = float(np.sum((M * t)[M != 0]))
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


def fro_loop(X, W, Ht, reg, eps, x2, max_iter, tol, hist):
    """Twin of ``_nmf_mu.fro_loop``: the Frobenius MU loop in NumPy (same stopping rule)."""
    l1W, l1H, l2W, l2H = reg
    HHt = Ht.T @ Ht
    e0 = e_prev = np.sqrt(2.0 * max(hist[0], 0.0))
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        WtW, _, sW1, sW2 = fro_factor(W, X @ Ht, HHt, l1W, l2W, eps)
        HHt64, cross, sH1, sH2 = fro_factor(Ht, X.T @ W, WtW.astype(X.dtype), l1H, l2H, eps)
        HHt = HHt64.astype(X.dtype)
        loss = max(0.5 * (x2 - 2.0 * cross + float(np.sum(WtW * HHt64))), 0.0)
        hist[it] = loss + l1W * sW1 + 0.5 * l2W * sW2 + l1H * sH1 + 0.5 * l2H * sH2
        if tol > 0 and it % 10 == 0:
            e = np.sqrt(2.0 * loss)
            if e0 == 0 or (e_prev - e) / e0 < tol:
                break
            e_prev = e
    return n_iter
