"""desurv: survival-driven deconvolution (NMF jointly fitted with an elastic-net Cox model).

Main entry points
-----------------
DeSurv
    scikit-learn style estimator (X samples × genes).
fit_desurv
    functional backend (X genes × samples, arrays in and out).
concordance_index, make_survival_y
    Harrell's C and the scikit-survival style survival target.
"""

__version__ = "0.1.0"

from ._validation import make_survival_y
from .estimator import DeSurv, top_genes
from .exceptions import ConvergenceWarning, DataWarning
from .io import load_model, save_model
from .metrics import concordance_index
from .solver import DeSurvResult, fit_desurv

__all__ = [
    "ConvergenceWarning",
    "DataWarning",
    "DeSurv",
    "DeSurvResult",
    "concordance_index",
    "fit_desurv",
    "load_model",
    "make_survival_y",
    "save_model",
    "top_genes",
    "__version__",
]
