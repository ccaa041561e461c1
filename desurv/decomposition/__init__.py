"""The NMF family: plain NMF and its supervised and constrained variants.

Estimators take X as samples × features (scikit-learn's convention) and share the pieces of
this wing: multiplicative updates, coordinate descent, initialisations and the batched NNLS
that computes exposures of new samples.
"""

from ._nnls import nnls
from .nmf import NMF

__all__ = ["NMF", "nnls"]
