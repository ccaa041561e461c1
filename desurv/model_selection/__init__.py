"""Model selection: folds, cross-validated grid search, optuna search, rank surveys.

- :mod:`desurv.model_selection.cross_validation`: :func:`cross_validate` over k, α, λ, ξ,
  :func:`summarize_cv`, :func:`select_config` ("1se-k", the default, "max", "1se"), saving
  and loading results.
- :mod:`desurv.model_selection.search`: :class:`DeSurvCV`, the same as a scikit-learn estimator.
- :mod:`desurv.model_selection.optuna_search`: :func:`optimize_hyperparameters` with optuna.
- :mod:`desurv.model_selection.rank`: :func:`nmf_rank_survey`, the unsupervised rank survey
  (cophenetic, dispersion, silhouette, RSS, explained variance, sparseness, signature
  stability) of DeSurv's NMF or any NMF-family estimator, and
  :func:`signature_stability_survey` (SigProfiler-style stability and error per k).
- :mod:`desurv.model_selection.bootstrap_rank`: :func:`select_rank_bootstrap`, the bootstrap
  test-error rule of Egendal et al. for the NMF family (paired Wilcoxon steps),
  :func:`select_rank_from_errors` and :func:`combine_ranks`.
- Folds: :func:`stratified_folds` (by event status and cohort; defined in ``desurv._folds``
  because :class:`~desurv.survival.CoxNet`'s internal cross-validation, below this wing, uses
  them too).
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "BootstrapRankResult": "bootstrap_rank",
    "GRID_PARAMS": "cross_validation",
    "DeSurvCV": "search",
    "check_folds_have_events": "desurv._folds",
    "combine_ranks": "bootstrap_rank",
    "cross_validate": "cross_validation",
    "load_cv_results": "cross_validation",
    "make_grid": "cross_validation",
    "nmf_rank_survey": "rank",
    "optimize_hyperparameters": "optuna_search",
    "save_cv_results": "cross_validation",
    "select_config": "cross_validation",
    "select_n_components": "cross_validation",
    "select_rank_bootstrap": "bootstrap_rank",
    "select_rank_from_errors": "bootstrap_rank",
    "signature_stability_survey": "rank",
    "stratified_folds": "desurv._folds",
    "summarize_cv": "cross_validation",
    "trials_summary": "optuna_search",
}
__all__ = [
    "BootstrapRankResult",
    "DeSurvCV",
    "GRID_PARAMS",
    "check_folds_have_events",
    "combine_ranks",
    "cross_validate",
    "load_cv_results",
    "make_grid",
    "nmf_rank_survey",
    "optimize_hyperparameters",
    "save_cv_results",
    "select_config",
    "select_n_components",
    "select_rank_bootstrap",
    "select_rank_from_errors",
    "signature_stability_survey",
    "stratified_folds",
    "summarize_cv",
    "trials_summary",
]

if TYPE_CHECKING:
    from desurv._folds import check_folds_have_events, stratified_folds

    from .bootstrap_rank import (
        BootstrapRankResult,
        combine_ranks,
        select_rank_bootstrap,
        select_rank_from_errors,
    )
    from .cross_validation import (
        GRID_PARAMS,
        cross_validate,
        load_cv_results,
        make_grid,
        save_cv_results,
        select_config,
        select_n_components,
        summarize_cv,
    )
    from .optuna_search import optimize_hyperparameters, trials_summary
    from .rank import nmf_rank_survey, signature_stability_survey
    from .search import DeSurvCV

__getattr__, __dir__ = lazy_exports(
    __name__,
    _NAMES,
    ("bootstrap_rank", "cross_validation", "optuna_search", "rank", "search"),
)
