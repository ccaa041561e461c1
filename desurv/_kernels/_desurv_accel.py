"""The extrapolated point of DeSurv's accelerated W/H step (Numba, nogil).

``acceleration="extrapolation"`` of :func:`desurv.fit_desurv` extends every outer iteration
along its own displacement, W_e = max(W + γ(W − W₀), ε) and H_e = max(H + γ(H − H₀), ε)
(W₀, H₀ the iterate at the start of the iteration), the line-search extrapolation of
alternating least squares (Harshman 1970; Bro 1998) with the adaptive γ and the "accept only
if the objective decreases" safeguard of Ang & Gillis (2019), "Accelerating nonnegative
matrix factorization algorithms using extrapolation", Neural Computation 31(2).

:func:`extrapolate` evaluates everything F needs at that point without a pass over X: by
linearity XᵀW_e = Z + γ(Z − Z₀) wherever the ε-floor is not active, and the genes whose
entries were raised to ε add their rows of X times the raise, so the projections are exact
(up to rounding) and only the rows of those genes are read.

Layouts as in ``desurv._kernels._nmf``: W-shaped arrays transposed, (k, p); the projections
Z = XᵀW (n, k); H (k, n); X (p, n) C-ordered, float64 or float32 (sums in float64). The
NumPy twin is ``desurv._reference.desurv_accel``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
# reductions over genes vectorise only when LLVM may reassociate the sum
_OPTS_SUM = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")


@njit(**_OPTS)
def extrapolate(W, W0, Z, Z0, H, H0, X, gamma, eps, We, Ze, He, WtW, HHt):  # pragma: no cover
    """The (unnormalised) extrapolated point and its small products, in one call.

    Parameters
    ----------
    W, W0 : (k, p) float64
        Factors now and at the start of the iteration (transposed layout).
    Z, Z0 : (n, k) float64
        Their projections XᵀW and XᵀW₀.
    H, H0 : (k, n) float64
        Exposures now and at the start of the iteration.
    X : (p, n) float64 or float32
        The data (samples in solver order).
    gamma, eps : float
        Extrapolation factor γ ≥ 0 and the floor ε.

    Writes ``We`` (k, p) = max((1+γ)W − γW₀, ε), ``Ze`` (n, k) = XᵀWeᵀ (by linearity plus
    the rows of X of the floored genes), ``He`` (k, n) = max((1+γ)H − γH₀, ε), ``WtW`` =
    We Weᵀ and ``HHt`` = He Heᵀ (k, k).

    Returns
    -------
    cross : float
        ⟨Ze, Heᵀ⟩ (the cross term of ‖X − W_e H_e‖²).
    n_rows : int
        Genes with at least one floored entry (rows of X read).
    """
    k, p = W.shape
    n = Z.shape[0]
    a = 1.0 + gamma
    for j in range(n):
        for f in range(k):
            Ze[j, f] = a * Z[j, f] - gamma * Z0[j, f]
    raise_ = np.empty(k)
    n_rows = 0
    for i in range(p):
        floored = False
        for f in range(k):
            v = a * W[f, i] - gamma * W0[f, i]
            if v < eps:
                raise_[f] = eps - v
                v = eps
                floored = True
            else:
                raise_[f] = 0.0
            We[f, i] = v
        if floored:
            n_rows += 1
            for j in range(n):
                x = np.float64(X[i, j])
                for f in range(k):
                    Ze[j, f] += x * raise_[f]
    cross = 0.0
    for j in range(n):
        for f in range(k):
            v = a * H[f, j] - gamma * H0[f, j]
            v = v if v >= eps else eps
            He[f, j] = v
            cross += Ze[j, f] * v
    _gram(We, WtW)
    _gram(He, HHt)
    return cross, n_rows


@njit(**_OPTS_SUM)
def _gram(A, out):  # pragma: no cover - compiled
    """out (k, k) ← A Aᵀ for A (k, m), symmetric."""
    k, m = A.shape
    for f in range(k):
        for g in range(f, k):
            s = 0.0
            for i in range(m):
                s += A[f, i] * A[g, i]
            out[f, g] = s
            out[g, f] = s
