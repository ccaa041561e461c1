"""DeSurvCV: cross-validated choice of k, α, λ, ξ as a scikit-learn estimator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from desurv._validation import (
    check_scale,
    check_values,
    extract_X,
    is_anndata,
    survival_from_y,
    survival_tags,
    survival_with_unlabeled,
)
from desurv.deconvolution.estimator import DeSurv
from desurv.model_selection.cross_validation import (
    _DEFAULT_RULE,
    _RULES,
    _fresh,
    _json,
    cross_validate,
    save_cv_results,
    select_config,
    summarize_cv,
)

# ----------------------------------------------------------------------------- estimator
__all__ = ["DeSurvCV"]


class DeSurvCV(BaseEstimator):
    """Grid-search cross-validation for :class:`~desurv.DeSurv`, then a refit on all data.

    See :func:`cross_validate` for the protocol (stratified folds, several seeds, cold
    random starts for every α by default) and :func:`select_config` for the selection rules
    (``"1se-k"``, the default, ``"max"`` and ``"1se"``).

    Parameters
    ----------
    param_grid : dict, optional
        Grid over ``n_components`` (k), ``alpha`` (α), ``penalty`` (λ), ``l1_ratio`` (ξ),
        ``penalty_w`` (λ_W), ``penalty_h`` (λ_H).
    n_folds, n_seeds, warm_start, n_init, max_iter, tol, ties, loss_convention, balance
        As in :func:`cross_validate`.
    acceleration : {"none", "extrapolation"}, default "none"
        As in :func:`cross_validate`; also used by the refit.
    rule : {"1se-k", "max", "1se"}, default="1se-k"
        Selection rule (see :func:`select_config`). ``"1se-k"``, the DeSurv authors' rule:
        for every k the best (α, λ, ξ, ...) by mean C-index, then the smallest k within one
        standard error of the best. ``"max"``: the best mean. ``"1se"``: the one-SE rule on
        k and then α, which on a CV curve flat in α always returns α = 0 (NMF followed by
        Cox); hence not the default.
    seed_aggregate : {"mean", "best_objective"}, default="mean"
        See :func:`summarize_cv`.
    refit : bool, default=True
        Refit the chosen configuration on all samples (``best_estimator_``).
    refit_n_init : int, default=20
        Random starts of the refit (the DeSurv multi-start).
    preprocessor : desurv.preprocessing.Preprocessor, optional
        Learned inside each fold and, for the refit, on all samples (``preprocessor_``).
    random_state : int or None
        Seeds folds, random starts and the refit.
    n_jobs, backend, progress
        Parallelism and progress bar (results do not depend on ``n_jobs``).

    Attributes
    ----------
    cv_results_ : DataFrame
        Per-fit results (:func:`cross_validate`).
    cv_summary_ : DataFrame
        Per-configuration mean and SE of the validation C-index (:func:`summarize_cv`), with a
        bool column ``selected``.
    best_params_ : dict
        The chosen hyperparameters.
    best_index_ : int
        Row of ``cv_summary_`` that was chosen.
    best_score_ : float
        Its mean validation C-index.
    folds_ : ndarray of int of shape (n_samples,)
        Fold id of each sample; -1 for the unlabelled rows of X (NaN time), which are in
        every training part and never validated on.
    best_estimator_ : DeSurv
        The refitted model (when ``refit``).
    preprocessor_ : Preprocessor or None
        Preprocessing fitted on all samples (when ``preprocessor`` was given).
    n_features_in_ : int
        Number of genes seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Gene names seen in :meth:`fit` (DataFrame columns or AnnData ``var_names``); only
        when X had names.

    Notes
    -----
    A scikit-learn estimator (``clone``, ``get_params``/``set_params`` including the
    preprocessor's ``preprocessor__*`` parameters; NotFittedError before fit). X may be an
    array, a DataFrame or an AnnData object (``layer=``; ``time``/``event`` may name
    ``adata.obs`` columns); ``y`` is survival data with one bool and one float field of any
    names. Bad X (sparse, complex/bool/non-numeric, duplicated gene names) is rejected before
    any fit; without a preprocessor so are NaN/negative values and X on which a fit is
    meaningless (all zero, every gene constant, values whose products overflow/underflow).

    Semi-supervised DeSurv (METHODS.md §F.5): ``fit(X, y, X_unlabeled=X_u)`` and/or NaN
    times in ``y`` mark samples without follow-up. The folds are built on the labelled
    samples, every training part and the final refit get all unlabelled samples (NMF term
    and H only), and the C-index is computed on labelled validation samples only (see
    :func:`cross_validate`). Without unlabelled samples the results are those of plain
    DeSurvCV, bit for bit.
    """

    def __init__(
        self,
        param_grid=None,
        *,
        n_folds=5,
        n_seeds=3,
        rule=_DEFAULT_RULE,
        seed_aggregate="mean",
        refit=True,
        refit_n_init=20,
        preprocessor=None,
        warm_start=False,
        n_init=1,
        max_iter=500,
        tol=1e-6,
        ties="breslow",
        loss_convention="consistent",
        balance="gradient",
        random_state=None,
        n_jobs=None,
        backend=None,
        progress=False,
        acceleration="none",
    ):
        self.param_grid = param_grid
        self.n_folds = n_folds
        self.n_seeds = n_seeds
        self.rule = rule
        self.seed_aggregate = seed_aggregate
        self.refit = refit
        self.refit_n_init = refit_n_init
        self.preprocessor = preprocessor
        self.warm_start = warm_start
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.ties = ties
        self.loss_convention = loss_convention
        self.balance = balance
        self.acceleration = acceleration
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.backend = backend
        self.progress = progress

    def __sklearn_tags__(self):
        """Tags for scikit-learn: survival target required; X >= 0 without a preprocessor."""
        return survival_tags(super().__sklearn_tags__(), positive_only=self.preprocessor is None)

    def fit(self, X, y=None, *, X_unlabeled=None, time=None, event=None, groups=None, layer=None):
        """Run the cross-validation, select a configuration and (optionally) refit it.

        Parameters
        ----------
        X : DataFrame, AnnData or array-like of shape (n_samples, n_genes)
            Expression (nonnegative unless a ``preprocessor`` transforms it).
        y : structured array or DataFrame of shape (n_samples,), optional
            Survival data (one bool and one float field, any names); or ``time=``/``event=``
            (strings name ``adata.obs`` columns for AnnData X). A NaN time marks an
            unlabelled sample (its event 0/False or NaN).
        X_unlabeled : DataFrame, AnnData or array-like of shape (n_unlabeled, n_genes), optional
            Expression of extra samples without follow-up (semi-supervised DeSurv), genes
            matched to X's by name when both have names. In every training part and in the
            refit; the preprocessor (if any) is learned on labelled samples and applied to
            them. AnnData: ``layer`` applies to it too.
        groups : array-like of shape (n_samples,), optional
            Cohort labels of the rows of X (stratification of the labelled rows; per-cohort
            gene filter in the preprocessing).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` instead of ``adata.X``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad X, ``X_unlabeled`` or survival data (see :class:`~desurv.DeSurv`), bad
            grid or options.
        """
        if not isinstance(self.rule, str) or self.rule not in _RULES:
            raise ValueError(
                f"rule must be one of {', '.join(map(repr, _RULES))}; got {self.rule!r}"
            )
        X_in = X
        values, names, samples = extract_X(X, layer=layer)
        obs = X.obs if is_anndata(X) else None
        if values.shape[0] < 2:
            check_scale(values)  # "n_samples=1: at least 2 samples are required"
        # without a NaN time exactly survival_from_y(..., min_events=2)
        time, event = survival_with_unlabeled(y, time, event, n_samples=values.shape[0], obs=obs)
        y = None
        if is_anndata(X_unlabeled):  # genes as DataFrame columns, matched by name downstream
            u_values, u_names, u_samples = extract_X(X_unlabeled, "X_unlabeled", layer=layer)
            X_unlabeled = pd.DataFrame(u_values, index=u_samples, columns=u_names)
        if self.preprocessor is None:
            check_values(values, owner="DeSurvCV")
            check_scale(values)
        if names is None:
            X = values
        elif not isinstance(X, pd.DataFrame):  # AnnData: genes as columns from here on
            X = pd.DataFrame(values, index=samples, columns=names)
        self.cv_results_ = cross_validate(
            X, y, X_unlabeled=X_unlabeled, time=time, event=event,
            param_grid=self.param_grid, n_folds=self.n_folds,
            n_seeds=self.n_seeds, groups=groups, preprocessor=self.preprocessor,
            warm_start=self.warm_start, n_init=self.n_init, max_iter=self.max_iter, tol=self.tol,
            ties=self.ties, loss_convention=self.loss_convention, balance=self.balance,
            random_state=self.random_state, n_jobs=self.n_jobs, backend=self.backend,
            progress=self.progress, acceleration=self.acceleration,
        )  # fmt: skip
        self.folds_ = np.asarray(self.cv_results_.attrs["folds"])
        summary = summarize_cv(self.cv_results_, seed_aggregate=self.seed_aggregate)
        self.best_params_, self.best_index_ = select_config(summary, self.rule)
        summary["selected"] = summary.index == self.best_index_
        self.cv_summary_ = summary
        self.best_score_ = float(summary.at[self.best_index_, "mean_cindex"])
        self.preprocessor_ = None
        if self.refit:
            Xr, Ur = X, X_unlabeled
            if self.preprocessor is not None:
                Xp, gp = X, groups
                labeled = ~np.isnan(time)
                if not labeled.all():  # learned on the labelled samples, as in the folds
                    Xp = X.iloc[labeled] if isinstance(X, pd.DataFrame) else X[labeled]
                    gp = None if groups is None else np.asarray(groups)[labeled]
                self.preprocessor_ = _fresh(self.preprocessor).fit(Xp, groups=gp)
                Xr = self.preprocessor_.transform(X)
                if Ur is not None:  # zero rows: no unlabelled sample
                    Ur = self.preprocessor_.transform(Ur) if np.shape(Ur)[0] else None
            time_, event_ = time, event
            self.best_estimator_ = DeSurv(
                **self.best_params_, n_init=self.refit_n_init, max_iter=self.max_iter,
                tol=self.tol, ties=self.ties, loss_convention=self.loss_convention,
                balance=self.balance, acceleration=self.acceleration,
                random_state=self.random_state, n_threads=1,
            ).fit(Xr, time=time_, event=event_, X_unlabeled=Ur)  # fmt: skip
        self.n_features_in_ = int(values.shape[1])
        self.fit_layer_ = layer if is_anndata(X_in) else None
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def _check_refitted(self):
        check_is_fitted(
            self,
            "best_estimator_",
            msg="DeSurvCV has no refitted model: call fit() (with refit=True) first",
        )

    def _prep(self, X, layer=None):
        if is_anndata(X):  # genes as DataFrame columns, matched by name downstream
            if layer is None:
                layer = getattr(self, "fit_layer_", None)
            values, names, samples = extract_X(X, layer=layer)
            X = pd.DataFrame(values, index=samples, columns=names)
        elif layer is not None:
            raise ValueError(f"layer={layer!r} is only meaningful for AnnData input")
        return X if self.preprocessor_ is None else self.preprocessor_.transform(X)

    def predict(self, X, *, layer=None):
        """Linear predictor η of the refitted model (after the fitted preprocessing).

        Parameters
        ----------
        X : DataFrame, AnnData or array-like of shape (n_samples, n_genes)
            Genes matched by name when the model was fitted with names.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]``.

        Returns
        -------
        eta : ndarray of float64 of shape (n_samples,)
        """
        self._check_refitted()
        return self.best_estimator_.predict(self._prep(X, layer))

    def score(self, X, y=None, *, time=None, event=None, layer=None):
        """Harrell's C of the refitted model on (X, y).

        Parameters
        ----------
        X : DataFrame, AnnData or array-like of shape (n_samples, n_genes)
        y : structured array or DataFrame, optional
            Survival data (or ``time=``/``event=``; strings name ``adata.obs`` columns).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]``.

        Returns
        -------
        float
        """
        self._check_refitted()
        obs = X.obs if is_anndata(X) else None
        time, event = survival_from_y(y, time, event, obs=obs, require_event=False)
        return self.best_estimator_.score(self._prep(X, layer), time=time, event=event)

    # --- delegation to the refitted model ---
    def predict_survival_function(self, X, return_array=False, *, layer=None):
        """Survival functions of the refitted model (after the fitted preprocessing).

        See :meth:`desurv.DeSurv.predict_survival_function`.
        """
        self._check_refitted()
        return self.best_estimator_.predict_survival_function(
            self._prep(X, layer), return_array=return_array
        )

    def predict_cumulative_hazard_function(self, X, return_array=False, *, layer=None):
        """Cumulative hazard functions of the refitted model (after the preprocessing).

        See :meth:`desurv.DeSurv.predict_cumulative_hazard_function`.
        """
        self._check_refitted()
        return self.best_estimator_.predict_cumulative_hazard_function(
            self._prep(X, layer), return_array=return_array
        )

    def summary(self, level=0.95):
        """Coefficient table of the refitted model (see :meth:`desurv.DeSurv.summary`)."""
        self._check_refitted()
        return self.best_estimator_.summary(level=level)

    def print_summary(self, level=0.95, file=None):
        """Print the refitted model's summary (see :meth:`desurv.DeSurv.print_summary`)."""
        self._check_refitted()
        return self.best_estimator_.print_summary(level=level, file=file)

    def top_genes(self, n_top=20):
        """Top genes per factor of the refitted model (see :meth:`desurv.DeSurv.top_genes`)."""
        self._check_refitted()
        return self.best_estimator_.top_genes(n_top)

    def save(self, directory, *, overwrite=False):
        """Write ``cv_results.csv`` (+ ``.json``), ``cv_summary.csv``, ``selected.json`` and,
        when refitted, ``model.npz`` (with the preprocessing) into ``directory``.

        An existing ``model.npz`` is an error unless ``overwrite=True`` (and then only a
        desurv model file is replaced; see :func:`desurv.save_model`); the check happens
        before anything is written."""
        directory = Path(directory)
        model_path = directory / "model.npz"
        if hasattr(self, "best_estimator_"):
            from desurv.deconvolution.model_file import _check_overwrite

            _check_overwrite(model_path, overwrite)
        directory.mkdir(parents=True, exist_ok=True)
        save_cv_results(self.cv_results_, directory / "cv_results.csv")
        self.cv_summary_.to_csv(directory / "cv_summary.csv", index=False, float_format="%.17g")
        sel = {
            "rule": self.rule,
            "seed_aggregate": self.seed_aggregate,
            "best_params": self.best_params_,
            "best_score": self.best_score_,
            "se": float(self.cv_summary_.at[self.best_index_, "se_cindex"]),
            "n_folds": int(self.n_folds),
            "n_seeds": int(self.n_seeds),
            "random_state": self.random_state,
        }
        (directory / "selected.json").write_text(json.dumps(sel, indent=1, default=_json))
        if hasattr(self, "best_estimator_"):
            self.best_estimator_.save(
                model_path, preprocessor=self.preprocessor_, overwrite=overwrite
            )
        return directory
