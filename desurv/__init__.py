"""desurv: survival-driven deconvolution (NMF jointly fitted with an elastic-net Cox model).

Main entry points
-----------------
DeSurv
    scikit-learn style estimator (X samples × genes).
fit_desurv
    functional backend (X genes × samples, arrays in and out).
concordance_index, make_survival_y
    Harrell's C and the scikit-survival style survival target.

Workflow modules (imported on demand)
-------------------------------------
desurv.model_selection
    Cross-validation over k, α, λ, ξ (warm starts along α, "max"/"1se" rules, optuna).
desurv.validation
    External cohorts: C-index, hazard ratios per SD, Kaplan–Meier groups, log-rank.
desurv.matching
    Hungarian matching of factors, stability, consensus across fits.
desurv.coxnet, desurv.nmf_baseline
    Baselines: elastic-net Cox on genes, plain NMF (+ rank-selection metrics) + Cox.
desurv.plotting, desurv.report
    Figures (matplotlib, extra "plot") and a self-contained HTML report of a run folder.
"""

__version__ = "0.1.0"

from ._validation import make_survival_y
from .coxnet import CoxNet
from .estimator import DeSurv, top_genes
from .exceptions import ConvergenceWarning, DataWarning
from .io import load_model, save_model
from .metrics import concordance_index
from .model_selection import DeSurvCV
from .nmf_baseline import NMFCox, nmf_rank_survey
from .solver import DeSurvResult, fit_desurv
from .validation import ScoreBasedPredictor, validate_cohorts

__all__ = [
    "ConvergenceWarning",
    "CoxNet",
    "DataWarning",
    "DeSurv",
    "DeSurvCV",
    "DeSurvResult",
    "NMFCox",
    "ScoreBasedPredictor",
    "concordance_index",
    "fit_desurv",
    "load_model",
    "make_survival_y",
    "nmf_rank_survey",
    "save_model",
    "top_genes",
    "validate_cohorts",
    "__version__",
]
