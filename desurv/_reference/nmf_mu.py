"""Plain NumPy twins of ``desurv._kernels._nmf_mu`` (tests only): the formulas as written."""

from __future__ import annotations

import numpy as np


def fro_factor(F, num, G, l1, l2, eps):
    """Twin of ``_nmf_mu.fro_factor``: in place F <- F * num / ((F G + l1) + l2 F)."""
    F_old = F.copy()
    cross = float(np.sum(num.astype(np.float64) * F_old))
    den = (F_old @ G + l1) + l2 * F_old
    den[den == 0] = eps
    F[...] = F_old * (num / den)
    F64 = F.astype(np.float64)
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
