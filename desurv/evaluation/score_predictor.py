"""The authors' score-based validation: a risk score from each factor's top genes.

:class:`ScoreBasedPredictor` needs only each factor's top genes (the s_gf rule of the DeSurv
paper) in the new cohort; :func:`evaluate_risk_score` scores any risk score on a cohort.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from desurv._validation import check_time_event, survival_from_y
from desurv.deconvolution.estimator import top_genes
from desurv.evaluation._common import (
    _HR_COLUMNS,
    _SD_MIN,
    _cox_fit,
    _factor_names,
    _fmt_list,
    _zscore,
)
from desurv.evaluation.stratification import _check_eta
from desurv.exceptions import DataWarning
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import cox_partial_log_likelihood

# --------------------------------------------------------------------------------------
# score-based predictor
# --------------------------------------------------------------------------------------
_WEIGHTS = ("loadings", "binary")
_TRANSFORMS = ("rank", "none")
_COEFS = ("model", "raw", "refit")


def _scale(S, names, cohort, stacklevel):
    """Column SDs (ddof=1) of scores ``S``, 1 for a constant column (with a DataWarning).

    ``stacklevel`` is that of the caller's warning (this function adds its own frame).
    """
    sd = S.std(axis=0, ddof=1)
    const = sd <= _SD_MIN * np.maximum(1.0, np.abs(S).max(axis=0))
    if const.any():
        warnings.warn(
            f"{[names[j] for j in np.flatnonzero(const)]} have constant scores in {cohort}; "
            "they are centred but not scaled",
            DataWarning,
            stacklevel=stacklevel + 1,
        )
    return np.where(const, 1.0, sd)


__all__ = [
    "ScoreBasedPredictor",
    "evaluate_risk_score",
]


class ScoreBasedPredictor:
    """Score-based DeSurv predictor that needs only each factor's top genes.

    The authors' external validation (DeSurv-paper repository, ``R/compute_scores.R``,
    ``R/predict_validation_scores.R`` and ``prepare_extval_dataset()`` in
    ``R/figure_targets.R``) scores each factor f on its top genes only:

    1. **Top genes.** T_f = the ``n_top`` genes with the largest specificity
       s_gf = W̃_gf − max_{r≠f} W̃_gr, W̃ = W scaled column-wise by its maximum
       (:func:`desurv.top_genes`).
    2. **Transform** (``transform="rank"``, the default): the new cohort is restricted to the
       union of the top genes it has, and genes are ranked within each sample over that
       union, scaled to [0, 1] as (rank − 1)/(m − 1) (m = number of those genes present;
       average ranks for ties). Ranking over the top genes alone is what makes a cohort that
       lacks most genes usable, and the [0, 1] scale keeps scores comparable when cohorts
       have different numbers of the genes. ``transform="none"``: use the values as given
       (e.g. data already preprocessed like the training data).
    3. **Factor score** S_f = Σ_{g ∈ T_f present} x̃_g · w_gf with w_gf = W_gf
       (``weights="loadings"``, the masked loadings W̃ ⊙ W of DESIGN.md) or w_gf = 1
       (``weights="binary"``, the authors' ``score_bin`` option).
    4. **Standardisation** s̃_f = (S_f − m_f) / sd_f with the mean and SD (ddof=1) of the
       scores of the training cohort given to :meth:`fit`; without a training cohort, within
       each cohort scored (as the authors' ``scale()`` in ``compute_scores``).
    5. **Linear predictor.** ``coef="model"`` (default): η = Σ_f β_f·sd(Z_f)·s̃_f, i.e. the
       fitted model's log hazard ratio per SD of factor f applied to the standardised score;
       ``coef="raw"``: η = Σ_f β_f S_f, exactly the authors' ``risk_score`` (fixed β on the
       unstandardised scores); ``coef="refit"``: β re-estimated by an unpenalised Cox model
       (lifelines, Efron ties) on the standardised scores of the training cohort.

    Deviations from the authors' code, on purpose: (a) a factor whose top genes are all
    missing is an error and missing top genes raise a :class:`DataWarning` listing them
    (the R code drops them silently); (b) every factor is scored (the figure code scores
    only the two factors with the largest |β|/sd); (c) the default ``coef="model"`` rescales
    β by sd(Z) because the top-gene scores use fewer genes and another transform than the
    Z on which β was fitted, so raw β would weight the factors on the wrong scales
    (``coef="raw"`` keeps the authors' choice); (d) the ranks are scaled by (m − 1) once
    (the R figure code rescales twice; an affine change with no effect on any result).

    Parameters
    ----------
    model : DeSurv
        A fitted model (``W_``, ``coef_``, ``sd_z_``; gene names from
        ``feature_names_in_`` when it was fitted on a DataFrame).
    n_top : int, default 20
        Top genes per factor.
    weights : {"loadings", "binary"}, default "loadings"
    transform : {"rank", "none"}, default "rank"
    coef : {"model", "raw", "refit"}, default "model"

    Attributes
    ----------
    top_genes_ : pandas.DataFrame of shape (n_top, k)
        Column ``factor_f``: factor f's top genes, best first.
    gene_weights_ : pandas.DataFrame of shape (n_genes_used, k)
        w_gf for the union of the top genes (0 where g is not a top gene of f).
    genes_ : ndarray of object
        The genes a new cohort needs (the union of the top genes).
    mean_, scale_ : ndarray of shape (k,) or None
        Training mean and SD of the factor scores (None without a training cohort).
    standardization_ : {"train", "cohort"}
    coef_ : ndarray of shape (k,)
        Coefficients applied to the standardised scores (to the raw scores with
        ``coef="raw"``).
    refit_summary_ : pandas.DataFrame or None
        Cox fit on the training scores (``coef="refit"`` only): coef, se, hr, CI, z, p.

    Examples
    --------
    >>> sbp = ScoreBasedPredictor(model, n_top=50).fit(X_train_raw)      # doctest: +SKIP
    >>> eta = sbp.predict(X_new_raw[sbp.genes_])                          # doctest: +SKIP
    >>> validate_cohorts(sbp, {"gse1992": (X_new_raw, y_new)})            # doctest: +SKIP
    """

    def __init__(self, model, n_top=20, *, weights="loadings", transform="rank", coef="model"):
        self.model = model
        self.n_top = n_top
        self.weights = weights
        self.transform_method = transform
        self.coef = coef

    def __repr__(self):
        return (
            f"ScoreBasedPredictor(n_top={self.n_top!r}, weights={self.weights!r}, "
            f"transform={self.transform_method!r}, coef={self.coef!r})"
        )

    def _check_params(self):
        if isinstance(self.n_top, bool) or not isinstance(self.n_top, Integral) or self.n_top < 1:
            raise ValueError(f"n_top must be an integer >= 1, got {self.n_top!r}")
        if self.weights not in _WEIGHTS:
            raise ValueError(f"weights must be one of {_WEIGHTS}, got {self.weights!r}")
        if self.transform_method not in _TRANSFORMS:
            raise ValueError(
                f"transform must be one of {_TRANSFORMS}, got {self.transform_method!r}"
            )
        if self.coef not in _COEFS:
            raise ValueError(f"coef must be one of {_COEFS}, got {self.coef!r}")

    def fit(self, X=None, y=None, *, time=None, event=None):
        """Select the top genes and, with a training cohort, the score standardisation.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_genes), optional
            The training cohort, on the same footing as the cohorts to be scored (raw values
            with ``transform="rank"``). Without it scores are standardised within each
            scored cohort.
        y : structured array of shape (n_samples,), optional
            Training survival (fields ``event``, ``time``), or ``time=``/``event=``; used
            only with ``coef="refit"``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad parameters, an unfitted model, ``coef="refit"`` without training survival
            data, missing genes (see :meth:`scores`), or a failed Cox refit.
        """
        self._check_params()
        model = self.model
        if not (hasattr(model, "W_") and hasattr(model, "coef_") and hasattr(model, "sd_z_")):
            raise ValueError("model must be a fitted desurv.DeSurv (W_, coef_, sd_z_); call fit()")
        W = np.asarray(model.W_, dtype=np.float64)
        p, k = W.shape
        names = getattr(model, "feature_names_in_", None)
        self.named_ = names is not None
        ids = [str(g) for g in names] if self.named_ else list(range(p))
        top = top_genes(W, self.n_top, ids if self.named_ else None)
        if not self.named_:
            top = top.apply(lambda c: c.astype(np.int64))
        self.top_genes_ = top
        factors = _factor_names(k)
        pos = {g: i for i, g in enumerate(ids)}
        union = list(dict.fromkeys(top.to_numpy().T.ravel().tolist()))
        row = {g: i for i, g in enumerate(union)}
        weights = np.zeros((len(union), k))
        for f, col in enumerate(factors):
            for g in top[col]:
                weights[row[g], f] = W[pos[g], f] if self.weights == "loadings" else 1.0
        self.gene_weights_ = pd.DataFrame(
            weights, index=pd.Index(union, name="gene"), columns=factors
        )
        self.genes_ = np.asarray(union, dtype=object)
        self.gene_positions_ = np.asarray([pos[g] for g in union], dtype=np.int64)
        self.n_features_in_ = p
        beta = np.asarray(model.coef_, dtype=np.float64)
        self.refit_summary_ = None
        if X is None:
            if self.coef == "refit":
                raise ValueError("coef='refit' needs the training cohort: fit(X_train, y_train)")
            self.mean_ = self.scale_ = None
            self.standardization_ = "cohort"
        else:
            S, _ = self._raw_scores(X)
            if S.shape[0] < 2:
                raise ValueError("the training cohort needs at least 2 samples to standardise")
            self.mean_ = S.mean(axis=0)
            self.scale_ = _scale(S, factors, "the training cohort", stacklevel=2)
            self.standardization_ = "train"
        if self.coef == "model":
            self.coef_ = beta * np.asarray(model.sd_z_, dtype=np.float64)
        elif self.coef == "raw":
            self.coef_ = beta.copy()
        else:
            time_, event_ = survival_from_y(y, time, event, n_samples=S.shape[0])
            Zs = (S - self.mean_) / self.scale_
            table = _cox_fit(
                pd.DataFrame(Zs, columns=factors),
                time_,
                event_,
                context="ScoreBasedPredictor refit",
            )
            self.refit_summary_ = pd.DataFrame.from_dict(table, orient="index")[_HR_COLUMNS]
            coef = self.refit_summary_["coef"].to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(coef)):
                raise ValueError(
                    "the Cox refit on the training scores failed (collinear or separating "
                    "scores?); use coef='model'"
                )
            self.coef_ = coef
        return self

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise ValueError("this ScoreBasedPredictor is not fitted yet: call fit() first")

    def gene_coverage(self, X) -> pd.DataFrame:
        """How many of each factor's top genes a cohort has.

        Returns
        -------
        pandas.DataFrame
            One row per factor: ``factor``, ``n_top``, ``n_present``, ``missing`` (list of
            the missing genes).
        """
        self._check_fitted()
        present = self._present(X)
        rows = []
        for col in self.top_genes_.columns:
            genes = list(self.top_genes_[col])
            miss = [g for g in genes if g not in present]
            rows.append(
                {
                    "factor": col,
                    "n_top": len(genes),
                    "n_present": len(genes) - len(miss),
                    "missing": miss,
                }
            )
        return pd.DataFrame(rows)

    def _present(self, X):
        """Set of model genes (names or positions) available in X."""
        if self.named_ and isinstance(X, pd.DataFrame):
            cols = X.columns.astype(str)
            if cols.duplicated().any():
                dup = pd.unique(cols[cols.duplicated()])
                raise ValueError(
                    f"X has duplicated gene names (first few: {_fmt_list(dup)}); make them unique"
                )
            return set(cols)
        ncol = np.shape(X)[1] if np.ndim(X) == 2 else None
        if ncol != self.n_features_in_:
            hint = " or a DataFrame with gene names as columns" if self.named_ else ""
            raise ValueError(
                f"X must be 2-D with the model's {self.n_features_in_} genes in training order"
                f"{hint}; got shape {np.shape(X)}"
            )
        return set(self.genes_.tolist())  # all present, addressed by position below

    def _raw_scores(self, X):
        """Factor scores S (n × k) on the top genes present, and the sample index."""
        present = self._present(X)
        miss = {}
        for col in self.top_genes_.columns:
            lst = [g for g in self.top_genes_[col] if g not in present]
            if len(lst) == len(self.top_genes_[col]):
                raise ValueError(
                    f"none of the {len(lst)} top genes of {col} is in X (e.g. {_fmt_list(lst)}); "
                    "the factor cannot be scored; check the gene identifiers of the cohort"
                )
            if lst:
                miss[col] = lst
        if miss:
            parts = "; ".join(
                f"{col}: {len(v)} of {len(self.top_genes_[col])} missing ({_fmt_list(v)})"
                for col, v in miss.items()
            )
            warnings.warn(
                f"top genes missing from X, scored on the genes present: {parts}",
                DataWarning,
                stacklevel=3,
            )
        keep = np.array([g in present for g in self.genes_], dtype=bool)
        use = self.genes_[keep].tolist()
        try:
            if self.named_ and isinstance(X, pd.DataFrame):
                index = X.index
                V = X.set_axis(X.columns.astype(str), axis=1)[use].to_numpy(dtype=np.float64)
            else:  # by position in the model's gene order
                index = X.index if isinstance(X, pd.DataFrame) else None
                A = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
                V = A[:, self.gene_positions_[keep]].astype(np.float64)
                if index is None:
                    index = pd.RangeIndex(A.shape[0])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"X must be numeric: {exc}") from None
        if not np.all(np.isfinite(V)):
            raise ValueError(
                "X contains NaN or infinite values in the top genes; impute them first"
            )
        if self.transform_method == "rank":
            m = V.shape[1]
            if m < 2:
                raise ValueError("transform='rank' needs at least 2 top genes present in X")
            V = (rankdata(V, method="average", axis=1) - 1.0) / (m - 1.0)
        Wu = self.gene_weights_.loc[use].to_numpy()
        return V @ Wu, index

    def _standardize(self, S):
        if self.standardization_ == "train":
            return (S - self.mean_) / self.scale_
        if S.shape[0] < 2:
            raise ValueError(
                "scores are standardised within the cohort (no training cohort given to fit), "
                "which needs at least 2 samples; fit(X_train) to score single samples"
            )
        return (S - S.mean(axis=0)) / _scale(
            S, self.top_genes_.columns, "this cohort", stacklevel=3
        )

    def _project(self, X):
        """(standardised scores, linear predictor, sample index), one pass over X."""
        self._check_fitted()
        S, index = self._raw_scores(X)
        Zs = self._standardize(S)
        eta = S @ self.coef_ if self.coef == "raw" else Zs @ self.coef_
        return Zs, eta, index

    def scores(self, X) -> pd.DataFrame:
        """Raw factor scores S_f on the top genes present (before standardisation).

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_genes_x)
            A cohort with gene names as columns (only the top genes are used; extra genes are
            ignored), or an array with the model's genes in training order.

        Returns
        -------
        pandas.DataFrame of shape (n_samples, k)
            Columns ``factor_1``, ...; index of X.

        Raises
        ------
        ValueError
            A factor with none of its top genes in X, NaN in the top genes, duplicated gene
            names, fewer than 2 genes for the rank transform.

        Warns
        -----
        DataWarning
            Top genes missing from X (listed per factor).
        """
        self._check_fitted()
        S, index = self._raw_scores(X)
        return pd.DataFrame(S, index=index, columns=list(self.top_genes_.columns))

    def transform(self, X) -> np.ndarray:
        """Standardised factor scores s̃ (n_samples × k), the covariates of this predictor."""
        return self._project(X)[0]

    def predict(self, X) -> np.ndarray:
        """Linear predictor η (log relative hazard), shape (n_samples,); see the class notes."""
        return self._project(X)[1]

    def score(self, X, y=None, *, time=None, event=None):
        """Harrell's concordance index of :meth:`predict` on (X, y)."""
        eta = self.predict(X)
        time_, event_ = survival_from_y(y, time, event, n_samples=eta.shape[0])
        return concordance_index(time_, event_, eta)


def evaluate_risk_score(eta, time, event, *, name="risk_score"):
    """Prognostic value of any linear predictor (e.g. CoxNet's or a baseline's) on a cohort.

    The same statistics as one row of :attr:`ValidationResult.summary`, for a risk score that
    does not come from a DeSurv model: Harrell's C of η, the Cox log partial likelihood ℓ(η)
    (Breslow ties) and ℓ(0), and the hazard ratio per SD of η (η standardised with ddof = 1;
    unpenalised lifelines ``CoxPHFitter``, Wald 95% CI and p).

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Linear predictor (higher = higher risk).
    time, event : array-like of shape (n_samples,)
        Survival times and event indicators (at least one event).
    name : str
        Label stored in the ``cohort`` field.

    Returns
    -------
    dict
        ``cohort``, ``n_samples``, ``n_events``, ``cindex``, ``partial_loglik``,
        ``partial_loglik_null``, ``hr_per_sd``, ``ci_lower``, ``ci_upper``, ``p``.

    Raises
    ------
    ValueError
        Mismatched lengths, non-finite η, or no events.
    """
    from desurv.survival.concordance import concordance_index

    time, event = check_time_event(time, event)
    eta = _check_eta(eta)
    if eta.shape[0] != time.shape[0]:
        raise ValueError(f"eta has {eta.shape[0]} values but time has {time.shape[0]}")
    z = _zscore(eta)
    if z is None:
        warnings.warn(f"{name}: constant risk score; HR per SD undefined", DataWarning, 2)
        hr = dict.fromkeys(_HR_COLUMNS, np.nan)
    else:
        hr = _cox_fit(pd.DataFrame({"eta": z}), time, event, context=name)["eta"]
    return {
        "cohort": name,
        "n_samples": int(eta.shape[0]),
        "n_events": int(event.sum()),
        "cindex": concordance_index(time, event, eta),
        "partial_loglik": cox_partial_log_likelihood(eta, time, event),
        "partial_loglik_null": cox_partial_log_likelihood(np.zeros_like(eta), time, event),
        "hr_per_sd": hr["hr"],
        "ci_lower": hr["ci_lower"],
        "ci_upper": hr["ci_upper"],
        "p": hr["p"],
    }
