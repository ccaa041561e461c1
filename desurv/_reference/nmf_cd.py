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
