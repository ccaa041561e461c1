"""Model selection: folds, cross-validated grid search, optuna search, rank surveys.

- :mod:`desurv.model_selection.cross_validation`: :func:`cross_validate` over k, α, λ, ξ,
  :func:`summarize_cv`, :func:`select_config` ("1se-k", the default, "max", "1se"), saving
  and loading results.
- :mod:`desurv.model_selection.search`: :class:`DeSurvCV`, the same as a scikit-learn estimator.
- :mod:`desurv.model_selection.optuna_search`: :func:`optimize_hyperparameters` with optuna.
- :mod:`desurv.model_selection.rank`: :func:`nmf_rank_survey`, the unsupervised rank survey
  (cophenetic, dispersion, silhouette, RSS, explained variance, sparseness).
- Folds: :func:`stratified_folds` (by event status and cohort; defined in ``desurv._folds``
  because :class:`~desurv.survival.CoxNet`'s internal cross-validation, below this wing, uses
  them too).
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "GRID_PARAMS": "cross_validation",
    "DeSurvCV": "search",
    "check_folds_have_events": "desurv._folds",
    "cross_validate": "cross_validation",
    "load_cv_results": "cross_validation",
    "make_grid": "cross_validation",
    "nmf_rank_survey": "rank",
    "optimize_hyperparameters": "optuna_search",
    "save_cv_results": "cross_validation",
    "select_config": "cross_validation",
    "select_n_components": "cross_validation",
    "stratified_folds": "desurv._folds",
    "summarize_cv": "cross_validation",
    "trials_summary": "optuna_search",
}
__all__ = [
    "DeSurvCV",
    "GRID_PARAMS",
    "check_folds_have_events",
    "cross_validate",
    "load_cv_results",
    "make_grid",
    "nmf_rank_survey",
    "optimize_hyperparameters",
    "save_cv_results",
    "select_config",
    "select_n_components",
    "stratified_folds",
    "summarize_cv",
    "trials_summary",
]

if TYPE_CHECKING:
    from desurv._folds import check_folds_have_events, stratified_folds

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
    from .rank import nmf_rank_survey
    from .search import DeSurvCV

__getattr__, __dir__ = lazy_exports(
    __name__, _NAMES, ("cross_validation", "optuna_search", "rank", "search")
)
