"""desurv: survival-driven deconvolution (NMF jointly fitted with an elastic-net Cox model).

Main entry points
-----------------
DeSurv
    scikit-learn style estimator (X samples × genes).
fit_desurv
    functional backend (X genes × samples, arrays in and out).
concordance_index, make_survival_y
    Harrell's C and the scikit-survival style survival target.

Wings (sub-packages, imported on demand; imports only go down this list)
-------------------------------------------------------------------------
desurv._kernels, desurv._reference
    Compiled loops (Numba, Cython) and their plain NumPy twins.
desurv.survival
    Cox partial likelihood, CoxNet (elastic-net Cox), concordance, Breslow baseline.
desurv.decomposition
    The NMF family: NMF (Frobenius and KL, multiplicative updates and coordinate descent),
    batched NNLS.
desurv.deconvolution
    DeSurv itself: functional solver, estimator, model files, NMF + Cox baseline.
desurv.model_selection, desurv.evaluation, desurv.datasets, desurv.benchmark
    Cross-validation and searches; external validation, risk groups, matching and
    consensus; simulations and readers; the variant registry and benchmark runner.
desurv.cli, desurv.reporting
    The command line; figures and HTML reports.

Imports are lazy (PEP 562): ``import desurv`` loads no NumPy, pandas, SciPy or Numba code;
each name below (and each wing, e.g. ``desurv.evaluation``) is imported on first use, so a
command line run or a worker process pays only for what it uses.
"""

from typing import TYPE_CHECKING

from .exceptions import ConvergenceWarning, DataWarning

__version__ = "0.1.0"

# public name -> submodule defining it (imported on first access)
_LAZY_NAMES = {
    "AENMF": "decomposition.aenmf",
    "ConvexNMF": "decomposition.convex",
    "CoxMT": "survival.coxmt",
    "CoxNet": "survival.coxnet",
    "DeSurv": "deconvolution.estimator",
    "DeSurvCV": "model_selection",
    "DeSurvResult": "deconvolution.solver",
    "DeepUnfoldedNMF": "decomposition.unfolded",
    "NMF": "decomposition.nmf",
    "NMFCox": "deconvolution.nmf_cox",
    "ScoreBasedPredictor": "evaluation.score_predictor",
    "concordance_index": "survival.concordance",
    "extract_signatures": "signatures.workflow",
    "fit_desurv": "deconvolution.solver",
    "load_model": "deconvolution.loading",
    "make_survival_y": "_validation",
    "nmf_rank_survey": "model_selection.rank",
    "save_model": "deconvolution.model_file",
    "top_genes": "deconvolution.estimator",
    "validate_cohorts": "evaluation.external",
    "write_to_anndata": "_anndata",
    "StepFunction": "survival.functions",
    "SupervisedNMF": "decomposition.supervised",
}

# public submodules, reachable as attributes (``desurv.evaluation.matching``) without an import
_SUBMODULES = frozenset(
    {
        "benchmark",
        "cli",
        "datasets",
        "decomposition",
        "deconvolution",
        "evaluation",
        "exceptions",
        "model_selection",
        "preprocessing",
        "reporting",
        "signatures",
        "survival",
    }
)

__all__ = [
    "AENMF",
    "ConvergenceWarning",
    "ConvexNMF",
    "CoxMT",
    "CoxNet",
    "DataWarning",
    "DeSurv",
    "DeSurvCV",
    "DeSurvResult",
    "DeepUnfoldedNMF",
    "NMF",
    "NMFCox",
    "ScoreBasedPredictor",
    "concordance_index",
    "extract_signatures",
    "fit_desurv",
    "load_model",
    "make_survival_y",
    "nmf_rank_survey",
    "save_model",
    "top_genes",
    "validate_cohorts",
    "write_to_anndata",
    "StepFunction",
    "SupervisedNMF",
    "__version__",
]

if TYPE_CHECKING:  # static analysers and IDEs see ordinary imports
    from ._anndata import write_to_anndata
    from ._validation import make_survival_y
    from .decomposition.aenmf import AENMF
    from .decomposition.convex import ConvexNMF
    from .decomposition.nmf import NMF
    from .decomposition.supervised import SupervisedNMF
    from .decomposition.unfolded import DeepUnfoldedNMF
    from .deconvolution.estimator import DeSurv, top_genes
    from .deconvolution.loading import load_model
    from .deconvolution.model_file import save_model
    from .deconvolution.nmf_cox import NMFCox
    from .deconvolution.solver import DeSurvResult, fit_desurv
    from .evaluation.external import validate_cohorts
    from .evaluation.score_predictor import ScoreBasedPredictor
    from .model_selection.rank import nmf_rank_survey
    from .model_selection.search import DeSurvCV
    from .signatures.workflow import extract_signatures
    from .survival.concordance import concordance_index
    from .survival.coxmt import CoxMT
    from .survival.coxnet import CoxNet
    from .survival.functions import StepFunction


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
