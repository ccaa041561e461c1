"""Plain NumPy twin of ``desurv._kernels._convex`` (tests only): the formula as written."""

from __future__ import annotations

import numpy as np


def sqrt_update(F, num, den, eps):
    """Twin of ``_convex.sqrt_update``: F <- F * sqrt(num / max(den, eps)) in F's dtype."""
    d = np.maximum(den, F.dtype.type(eps))
    F[...] = F * np.sqrt(num / d)
