"""The NMF family: plain NMF and its supervised and constrained variants.

Estimators take X as samples × features (scikit-learn's convention) and share the pieces of
this wing: multiplicative updates, coordinate descent, initialisations and the batched NNLS
that computes exposures of new samples.

- :mod:`desurv.decomposition.nmf`: :class:`NMF` (Frobenius and Kullback–Leibler losses,
  multiplicative updates and coordinate descent, masks, float32).
- :mod:`desurv.decomposition.convex`: :class:`ConvexNMF` (Ding, Li, Jordan 2010; signatures are
  nonnegative combinations of the samples; Frobenius and Kullback–Leibler).
- :mod:`desurv.decomposition.aenmf`: :class:`AENMF` (Egendal et al.'s autoencoder NMF:
  V̂ = V·φ(W_enc)·φ(W_dec) trained by full-batch Adam; NNLS exposures of new samples).
- :mod:`desurv.decomposition.unfolded`: :class:`DeepUnfoldedNMF` (Nasser, Eldar & Sharan's
  deep-unfolded multiplicative updates; supervised and unsupervised training; exposures of new
  samples by a forward pass).
- :mod:`desurv.decomposition.supervised`: :class:`SupervisedNMF` (S-NMF, SS-NMF, PSS-NMF;
  Tofacchi, Goossens, Gonçalves): signatures with a multinomial logistic head on exposures.
- :mod:`desurv.decomposition._signatures`: signature normalisation and NNLS exposures shared by
  the signature estimators.
- :mod:`desurv.decomposition._solvers`: the solver functions and the one loss helper.
- :mod:`desurv.decomposition._init`: random, NNDSVD, NNDSVDa, NNDSVDar and custom starts.
- :mod:`desurv.decomposition._nnls`: :func:`nnls`, exact batched NNLS on a shared Gram matrix.
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "AENMF": "aenmf",
    "ConvexNMF": "convex",
    "DeepUnfoldedNMF": "unfolded",
    "NMF": "nmf",
    "SupervisedNMF": "supervised",
    "nnls": "_nnls",
}
__all__ = ["AENMF", "ConvexNMF", "DeepUnfoldedNMF", "NMF", "SupervisedNMF", "nnls"]

if TYPE_CHECKING:
    from ._nnls import nnls
    from .aenmf import AENMF
    from .convex import ConvexNMF
    from .nmf import NMF
    from .supervised import SupervisedNMF
    from .unfolded import DeepUnfoldedNMF

__getattr__, __dir__ = lazy_exports(
    __name__, _NAMES, ("nmf", "convex", "aenmf", "unfolded", "supervised")
)
