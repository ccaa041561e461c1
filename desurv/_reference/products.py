"""Plain NumPy twins of the product kernels in ``desurv._kernels._products`` (tests only)."""

import numpy as np


def x_dot(X, Mt):
    """(m, p) = Mt Xᵀ."""
    return Mt @ X.astype(np.float64).T


def x_dot_rows(X, Mt, out, i0, i1):
    """out[:, i0:i1] = Mt X[i0:i1]ᵀ; the other columns of ``out`` untouched."""
    out[:, i0:i1] = Mt @ X[i0:i1].astype(np.float64).T
    return out


def xt_dot(X, V):
    """(n, k) = Xᵀ Vᵀ for V (k, p)."""
    return X.astype(np.float64).T @ V.T


def xt_acc_rows(X, V, acc, i0, i1):
    """acc (k, n) += V[:, i0:i1] X[i0:i1]."""
    acc += V[:, i0:i1] @ X[i0:i1].astype(np.float64)
    return acc


def w_step(X, H, W, HHt, c_nmf, ridge_w, eps):
    """α = 0 W step: (V, WV, VV, B, ‖G_nmf‖) with XM = H Xᵀ, D = HHᵀᵀ W (both (k, p)),
    V = W ⊙ c·XM / (c·D + ridge_w·W + eps), WV = W Vᵀ, VV = V Vᵀ, B = Xᵀ Vᵀ (n, k) and
    G_nmf = c(D − XM)."""
    XM = H @ X.astype(np.float64).T
    D = HHt.T @ W
    V = W * ((c_nmf * XM) / (c_nmf * D + ridge_w * W + eps))
    B = X.astype(np.float64).T @ V.T
    return V, W @ V.T, V @ V.T, B, float(np.linalg.norm(c_nmf * (D - XM)))
