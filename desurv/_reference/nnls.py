"""Plain NumPy twin of ``desurv._kernels._nnls`` (tests only): Lawson & Hanson on A, b."""

from __future__ import annotations

import numpy as np


def nnls_gram(G, C, max_iter):
    """Twin of ``_nnls.nnls_gram``: Lawson–Hanson in Gram form, one column at a time.

    Written as in Lawson & Hanson (1974), ch. 23, with ``np.linalg.lstsq`` on the passive set.
    Returns (X (k, m), number of columns that hit ``max_iter``).
    """
    G = np.asarray(G, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    k, m = C.shape
    out = np.zeros((k, m))
    bad = 0
    eps = np.finfo(np.float64).eps
    gmax = float(np.max(np.diag(G))) if k else 0.0
    for j in range(m):
        c = C[:, j]
        x = np.zeros(k)
        P = np.zeros(k, dtype=bool)
        it = 0
        while True:
            w = c - G @ x
            tol = 10.0 * k * eps * (np.abs(c).max() + gmax * x.max() * k)
            cand = np.where(~P & (w > tol))[0]
            if cand.size == 0:
                break
            if it >= max_iter:
                bad += 1
                break
            it += 1
            P[cand[np.argmax(w[cand])]] = True
            while True:
                z = np.zeros(k)
                idx = np.where(P)[0]
                z[idx] = np.linalg.lstsq(G[np.ix_(idx, idx)], c[idx], rcond=None)[0]
                if np.all(z[idx] > 0):
                    x = z
                    break
                neg = idx[z[idx] <= 0]
                alpha = np.min(x[neg] / (x[neg] - z[neg]))
                x = x + alpha * (z - x)
                P &= x > eps * max(x.max(), 1.0)
                x[~P] = 0
        out[:, j] = x
    return out, bad
