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
desurv.evaluation
    External cohorts: C-index, hazard ratios per SD, Kaplan–Meier groups, log-rank.
desurv.evaluation.matching
    Hungarian matching of factors, stability, consensus across fits.
desurv.survival.coxnet, desurv.deconvolution.nmf_cox
    Baselines: elastic-net Cox on genes, plain NMF (+ rank-selection metrics) + Cox.
desurv.reporting.plots, desurv.reporting.html
    Figures (matplotlib, extra "plot") and a self-contained HTML report of a run folder.

Imports are lazy (PEP 562): ``import desurv`` loads no NumPy, pandas, SciPy or Numba code;
each name below (and each submodule, e.g. ``desurv.evaluation.matching``) is imported on first use, so
a command line run or a worker process pays only for what it uses.
"""

from typing import TYPE_CHECKING

from .exceptions import ConvergenceWarning, DataWarning

__version__ = "0.1.0"

# public name -> submodule defining it (imported on first access)
_LAZY_NAMES = {
    "CoxNet": "survival.coxnet",
    "DeSurv": "deconvolution.estimator",
    "DeSurvCV": "model_selection",
    "DeSurvResult": "deconvolution.solver",
    "NMFCox": "deconvolution.nmf_cox",
    "ScoreBasedPredictor": "evaluation.score_predictor",
    "concordance_index": "survival.concordance",
    "fit_desurv": "deconvolution.solver",
    "load_model": "deconvolution.estimator",
    "make_survival_y": "_validation",
    "nmf_rank_survey": "deconvolution.nmf_cox",
    "save_model": "deconvolution.model_file",
    "top_genes": "deconvolution.estimator",
    "validate_cohorts": "evaluation.external",
    "write_to_anndata": "_anndata",
    "StepFunction": "survival.functions",
}

# public submodules, reachable as attributes (``desurv.evaluation.matching``) without an import
_SUBMODULES = frozenset(
    {
        "cli",
        "datasets",
        "deconvolution",
        "exceptions",
        "model_selection",
        "preprocessing",
        "reporting",
        "survival",
        "evaluation",
    }
)

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
    "write_to_anndata",
    "StepFunction",
    "__version__",
]

if TYPE_CHECKING:  # static analysers and IDEs see ordinary imports
    from ._anndata import write_to_anndata
    from ._validation import make_survival_y
    from .coxnet import CoxNet
    from .estimator import DeSurv, top_genes
    from .io import load_model, save_model
    from .metrics import concordance_index
    from .model_selection import DeSurvCV
    from .nmf_baseline import NMFCox, nmf_rank_survey
    from .solver import DeSurvResult, fit_desurv
    from .survival_functions import StepFunction
    from .validation import ScoreBasedPredictor, validate_cohorts


def __getattr__(name):
    """Import a public name or submodule on first access (PEP 562)."""
    from importlib import import_module

    if name in _LAZY_NAMES:
        value = getattr(import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | _SUBMODULES)
