"""Plain NumPy twin of ``desurv._kernels._desurv_accel`` (tests only).

The projections of the extrapolated point are computed by their definition, XᵀW_e, so the
tests check the kernel's linearity argument (and its correction for floored genes) as well.
"""

import numpy as np


def extrapolate(W, W0, Z, Z0, H, H0, X, gamma, eps):
    """Transposed layout: W, W0 (k, p); Z, Z0 (n, k); H, H0 (k, n); X (p, n).

    Returns (We, Ze, He, We Weᵀ, He Heᵀ, ⟨Ze, Heᵀ⟩, number of genes with a floored entry),
    with We = max((1+γ)W − γW₀, ε), He likewise and Ze = XᵀWeᵀ formed from X.
    """
    lin = (1.0 + gamma) * W - gamma * W0
    We = np.maximum(lin, eps)
    Ze = np.asarray(X, dtype=np.float64).T @ We.T
    He = np.maximum((1.0 + gamma) * H - gamma * H0, eps)
    n_rows = int(np.count_nonzero((lin < eps).any(axis=0)))
    return We, Ze, He, We @ We.T, He @ He.T, float(np.sum(Ze * He.T)), n_rows
