"""DeSurv itself: survival-driven deconvolution, X ≈ WH fitted jointly with an elastic-net
Cox model on Z = XᵀW.

- :mod:`desurv.deconvolution.solver`: the functional solver :func:`fit_desurv` (genes ×
  samples arrays in and out) and :class:`DeSurvResult`.
- :mod:`desurv.deconvolution._loop`: the alternating H / W / β loop over compiled kernels.
- :mod:`desurv.deconvolution.estimator`: the scikit-learn style :class:`DeSurv` estimator
  (samples × genes), :func:`top_genes`, :func:`load_model`.
- :mod:`desurv.deconvolution.model_file`: the model file format (:func:`save_model`).
- :mod:`desurv.deconvolution.nmf_cox`: the two-stage baseline :class:`NMFCox` (DeSurv's
  multiplicative updates at α = 0, then the Cox model).
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "DeSurv": "estimator",
    "DeSurvResult": "solver",
    "NMFCox": "nmf_cox",
    "fit_desurv": "solver",
    "load_model": "loading",
    "save_model": "model_file",
    "top_genes": "estimator",
}
__all__ = [
    "DeSurv",
    "DeSurvResult",
    "NMFCox",
    "fit_desurv",
    "load_model",
    "save_model",
    "top_genes",
]

if TYPE_CHECKING:
    from .estimator import DeSurv, top_genes
    from .loading import load_model
    from .model_file import save_model
    from .nmf_cox import NMFCox
    from .solver import DeSurvResult, fit_desurv

__getattr__, __dir__ = lazy_exports(
    __name__, _NAMES, ("estimator", "model_file", "nmf_cox", "solver")
)
