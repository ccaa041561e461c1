"""The two products with X of a DeSurv iteration, for a small number of factors (Numba).

An iteration needs X·[Hᵀ | g] and XᵀV (V = W ⊙ R) for k of 2–10. The solver keeps W-shaped
arrays transposed, (k, p), so that its element-wise passes run along contiguous genes; the
kernels take and return that layout.
For such skinny operands OpenBLAS runs far below peak (it blocks for large inner
dimensions); these loops keep one block of X rows in registers/L1 and stream X once per
product, and measured 1.4–2.7x faster than OpenBLAS dgemm on one thread at 2,000 × 100–300,
k = 3–10 (benchmarks/compare.py). Sums always accumulate in float64; X may be float64 or
float32 (then only the storage of X is single precision). ``fastmath`` is limited to
reassociation and contraction, so the reductions vectorise (the summation order differs from a
plain loop, like any BLAS) while NaN/inf semantics stay IEEE; results are deterministic.
NumPy twins: ``desurv._reference.products``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@njit(**_OPTS)
def x_dot(X, Mt, out):  # pragma: no cover - compiled
    """out (m, p) ← (X·Mtᵀ)ᵀ = Mt·Xᵀ for X (p, n) C-ordered and Mt (m, n) C-ordered."""
    p, n = X.shape
    m = Mt.shape[0]
    i = 0
    while i + 4 <= p:  # four rows of X share every load of Mt
        for f in range(m):
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for j in range(n):
                mf = Mt[f, j]
                s0 += X[i, j] * mf
                s1 += X[i + 1, j] * mf
                s2 += X[i + 2, j] * mf
                s3 += X[i + 3, j] * mf
            out[f, i] = s0
            out[f, i + 1] = s1
            out[f, i + 2] = s2
            out[f, i + 3] = s3
        i += 4
    while i < p:
        for f in range(m):
            s = 0.0
            for j in range(n):
                s += X[i, j] * Mt[f, j]
            out[f, i] = s
        i += 1
    return out


@njit(**_OPTS)
def xt_dot(X, V, out):  # pragma: no cover - compiled
    """out (n, k) ← XᵀVᵀ for X (p, n) C-ordered and V (k, p)."""
    p, n = X.shape
    k = V.shape[0]
    acc = np.zeros((k, n))
    i = 0
    while i + 4 <= p:  # four rows of X per update of the accumulator row
        for f in range(k):
            v0 = V[f, i]
            v1 = V[f, i + 1]
            v2 = V[f, i + 2]
            v3 = V[f, i + 3]
            for j in range(n):
                acc[f, j] += v0 * X[i, j] + v1 * X[i + 1, j] + v2 * X[i + 2, j] + v3 * X[i + 3, j]
        i += 4
    while i < p:
        for f in range(k):
            v = V[f, i]
            for j in range(n):
                acc[f, j] += v * X[i, j]
        i += 1
    for j in range(n):
        for f in range(k):
            out[j, f] = acc[f, j]
    return out
