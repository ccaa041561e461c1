"""Plain NumPy twins of the product kernels in ``desurv._kernels._products`` (tests only)."""

import numpy as np


def x_dot(X, Mt):
    """(k+1, p) = Mt Xᵀ."""
    return Mt @ X.astype(np.float64).T


def xt_dot(X, V):
    """(n, k) = Xᵀ Vᵀ for V (k, p)."""
    return X.astype(np.float64).T @ V.T
