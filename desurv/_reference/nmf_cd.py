"""Plain NumPy twins of ``desurv._kernels._nmf_cd`` (tests only), column by column."""

from __future__ import annotations

import numpy as np


def hals_sweep(F, num, G, l1, l2):
    """Twin of ``_nmf_cd.hals_sweep`` in scikit-learn's order: for each column t, all rows."""
    k = F.shape[1]
    viol = 0.0
    delta = 0.0
    for t in range(k):
        grad = F @ G[t] - num[:, t] + l1 + l2 * F[:, t]
        x = F[:, t].copy()
        pg = np.where(x == 0, np.minimum(grad, 0), grad)
        viol += float(np.abs(pg).sum())
        hess = G[t, t] + l2
        if hess != 0:
            F[:, t] = np.maximum(x - grad / hess, 0)
            delta += float(((F[:, t].astype(np.float64) - x) ** 2).sum())
    return viol, delta


def hals_update(F, num, G, l1, l2, max_sweeps, inner_tol):
    """Twin of ``_nmf_cd.hals_update`` (accelerated HALS, repeated sweeps)."""
    viol, d0 = hals_sweep(F, num, G, l1, l2)
    done = 1
    while done < max_sweeps:
        _, d = hals_sweep(F, num, G, l1, l2)
        done += 1
        if d <= inner_tol**2 * d0:
            break
    return viol, done


def hals_sweep_t(F, num, G, l1, l2, g):
    """Twin of ``_nmf_cd.hals_sweep_t``: :func:`hals_sweep` of the transposed factor."""
    return hals_sweep(F.T, num.T, G, l1, l2)


def hals_update_t(F, num, G, l1, l2, max_sweeps, inner_tol, g):
    """Twin of ``_nmf_cd.hals_update_t``: :func:`hals_update` of the transposed factor."""
    return hals_update(F.T, num.T, G, l1, l2, max_sweeps, inner_tol)


def cd_loop(X, W, Ht, reg, x2, max_iter, tol, sweeps, inner_tol, hist, block):
    """Twin of ``_nmf_cd.cd_loop``: accelerated HALS in NumPy, W by blocks of rows."""
    l1W, l1H, l2W, l2H = reg
    n = X.shape[0]
    bs = min(max(block, 1), n)
    HHt = Ht.T @ Ht
    v0 = 0.0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        v1 = 0.0
        for i0 in range(0, n, bs):
            rows = slice(i0, min(i0 + bs, n))
            v, _ = hals_update(W[rows], X[rows] @ Ht, HHt, l1W, l2W, sweeps[0], inner_tol)
            v1 += v
        WtW = W.T @ W
        num2 = X.T @ W
        v2, _ = hals_update(Ht, num2, WtW, l1H, l2H, sweeps[1], inner_tol)
        HHt = Ht.T @ Ht
        loss = 0.5 * (x2 - 2.0 * float(np.sum(num2 * Ht)) + float(np.sum(WtW * HHt)))
        W64, H64 = W.astype(np.float64), Ht.astype(np.float64)
        pen = l1W * W64.sum() + 0.5 * l2W * (W64**2).sum() + l1H * H64.sum()
        hist[it] = max(loss, 0.0) + pen + 0.5 * l2H * (H64**2).sum()
        viol = v1 + v2
        if it == 1:
            v0 = viol
        if v0 == 0 or viol / v0 <= tol:
            break
    return n_iter
