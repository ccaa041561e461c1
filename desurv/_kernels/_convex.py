"""Fused element-wise pass of convex NMF (Ding, Li, Jordan 2010), Numba, nogil.

Convex NMF's multiplicative updates (for V >= 0, Ding et al. 2010, eqs. 28-29 with the
negative parts of VᵀV equal to zero) multiply a factor F by the square root of a ratio of two
nonnegative matrices formed by BLAS products (``desurv.decomposition.convex``):

    F <- F ⊙ sqrt(num / max(den, eps)).

:func:`sqrt_update` does this in one pass over F (one read of num, den and F, one write of F).
The Kullback-Leibler updates of convex NMF have no square root and reuse
``desurv._kernels._nmf_mu.div_factor`` and ``kl_ratio``.
Twin: ``desurv._reference.convex``.
"""

import numpy as np
from numba import njit

# error_model="numpy": the divisor is floored at eps > 0, so skipping Python's zero-division
# check changes nothing (and lets the loop vectorise)
_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**_OPTS)
def sqrt_update(F, num, den, eps):  # pragma: no cover - compiled
    """In place F <- F * sqrt(num / max(den, eps)), in F's dtype.

    Parameters
    ----------
    F, num, den : ndarray (m, k), one float dtype (float32 or float64), nonnegative
        The factor (W₁ or G = W₂ᵀ of convex NMF), the numerator and the denominator of its
        multiplicative update. Computed in that dtype (float32 stays float32).
    eps : scalar of F's dtype (``F.dtype.type(1e-12)``)
        Floor of the denominator (1e-12 in desurv.decomposition.convex). Pass it in F's
        dtype: a Python float would promote the float32 arithmetic to float64.
    """
    m, k = F.shape
    for i in range(m):
        for f in range(k):
            d = den[i, f]
            if d < eps:
                d = eps
            F[i, f] = F[i, f] * np.sqrt(num[i, f] / d)
