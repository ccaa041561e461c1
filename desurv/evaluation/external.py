"""External validation of a fitted model on independent cohorts: C-index and hazard ratios.

A fitted model is applied to a new cohort exactly as to its training data: the cohort's genes
are aligned by name to the training genes (a missing gene is an error unless the caller asks
to fill it), the same preprocessing is applied (e.g. the training ``Preprocessor``: gene
filter + within-sample ranks), and the linear predictor η = X·W·β is computed with the
fitted W and β, never refitted.  The tables returned are tidy and plot-ready:

* :func:`validate_cohorts` / :func:`evaluate_cohort`: Harrell's C-index, Cox partial
  log-likelihood of η (Breslow), hazard ratios per standard deviation of η and of each
  factor with 95% confidence intervals and Wald p-values (lifelines ``CoxPHFitter``), and the
  same pooled over cohorts with the cohort as stratum;
* risk groups (:mod:`desurv.evaluation.stratification`): Kaplan–Meier curves of risk
  groups (quantiles of η or a cut point learned in training, optionally the maximally
  selected log-rank statistic) and log-rank tests;
* :class:`~desurv.evaluation.score_predictor.ScoreBasedPredictor`: the authors' score-based
  validation, which needs only each factor's top genes (the s_gf rule) in the new cohort.

Everything here is bookkeeping around well-kept libraries (lifelines for Cox fits,
Kaplan–Meier and log-rank tests) and desurv's own Cox and concordance kernels; nothing is
compiled.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from desurv._validation import survival_from_y
from desurv.evaluation._common import (
    _POOLED,
    _cox_fit,
    _factor_names,
    _fmt_list,
    _nan_rows,
    _zscore,
)
from desurv.evaluation.score_predictor import ScoreBasedPredictor
from desurv.evaluation.stratification import (
    _cuts_text,
    _describe_grouping,
    _group_summary,
    _risk_groups,
    kaplan_meier,
    logrank,
)
from desurv.exceptions import DataWarning
from desurv.preprocessing import align_genes
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import cox_partial_log_likelihood

__all__ = [
    "RiskGroupSurvival",
    "ValidationResult",
    "evaluate_cohort",
    "validate_cohorts",
]


# --------------------------------------------------------------------------------------
# applying a model to a cohort
# --------------------------------------------------------------------------------------
def _resolve_preprocessor(model, preprocessor):
    if isinstance(preprocessor, str):
        if preprocessor != "auto":
            raise ValueError(
                f"preprocessor must be 'auto', None or a fitted Preprocessor, got {preprocessor!r}"
            )
        return getattr(model, "preprocessor_", None)
    if preprocessor is not None and not hasattr(preprocessor, "transform"):
        raise ValueError(
            "preprocessor must be 'auto', None or a fitted desurv.preprocessing.Preprocessor "
            f"(an object with transform()), got {type(preprocessor).__name__}"
        )
    return preprocessor


def _check_missing_genes(X, required, fill_value):
    """Raise when a DataFrame cohort lacks genes the model needs and no fill is asked for."""
    if required is None or fill_value is not None or not isinstance(X, pd.DataFrame):
        return
    required = pd.Index([str(g) for g in required])
    missing = required[~required.isin(X.columns.astype(str))]
    if len(missing):
        raise ValueError(
            f"X lacks {len(missing)} of the {len(required)} genes the model needs (first few: "
            f"{_fmt_list(missing)}); refit on the genes shared with this cohort, align it with "
            "desurv.preprocessing.align_genes(X, genes, fill_value=...), or pass fill_value= "
            "(filled genes are reported with a DataWarning); genes are never dropped silently"
        )


def _project_desurv(model, X, preprocessor, fill_value):
    """Z (n × k) and η of a fitted DeSurv model on a (raw or prepared) cohort."""
    if not (hasattr(model, "W_") and hasattr(model, "coef_") and hasattr(model, "transform")):
        raise ValueError(
            "model must be a fitted desurv.DeSurv (or a fitted ScoreBasedPredictor); "
            f"got {type(model).__name__} without W_/coef_"
        )
    pre = _resolve_preprocessor(model, preprocessor)
    if pre is not None:
        if hasattr(pre, "feature_names_in_"):
            _check_missing_genes(X, pre.genes_, fill_value)
        Xp = pre.transform(X, fill_value=fill_value)
    else:
        names = getattr(model, "feature_names_in_", None)
        Xp = X
        if isinstance(X, pd.DataFrame) and names is not None:
            _check_missing_genes(X, names, fill_value)
            if fill_value is not None:
                Xp = align_genes(
                    X.set_axis(X.columns.astype(str), axis=1), names, fill_value=fill_value
                )
    Z = np.asarray(model.transform(Xp), dtype=np.float64)
    # η centred at the training mean of Z, exactly as DeSurv.predict (risk scores and cut
    # points learned on training scores stay on one scale)
    mean_z = np.asarray(getattr(model, "mean_z_", np.zeros(Z.shape[1])), dtype=np.float64)
    return Z, (Z - mean_z) @ np.asarray(model.coef_, dtype=np.float64)


def _project(model, X, preprocessor, fill_value):
    if isinstance(model, ScoreBasedPredictor):
        if (
            not (isinstance(preprocessor, str) and preprocessor == "auto")
            and preprocessor is not None
        ):
            raise ValueError(
                "a ScoreBasedPredictor applies its own transform (see its transform= parameter); "
                "pass preprocessor='auto' or None"
            )
        if fill_value is not None:
            raise ValueError(
                "fill_value is not used by a ScoreBasedPredictor: it scores each factor on the "
                "top genes present and warns about the missing ones"
            )
        Z, eta, _ = model._project(X)
        return Z, eta
    return _project_desurv(model, X, preprocessor, fill_value)


def _unpack_cohort(name, value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        X, y = value
        return X, y, None, None
    if isinstance(value, (tuple, list)) and len(value) == 3:
        X, time, event = value
        return X, None, time, event
    raise ValueError(
        f"cohort {name!r} must be a tuple (X, y) with y a structured survival array "
        f"(desurv.make_survival_y) or (X, time, event), got {type(value).__name__}"
    )


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
@dataclass
class RiskGroupSurvival:
    """Kaplan–Meier analysis of risk groups, per cohort (see ValidationResult.survival_by_group).

    Attributes
    ----------
    assignments : pandas.DataFrame
        The ``risk`` table of the validation with a ``group`` column (ordered categorical,
        lowest risk first).
    curves : pandas.DataFrame
        Kaplan–Meier curves: ``cohort`` then the columns of :func:`kaplan_meier`.
    logrank : pandas.DataFrame
        One row per cohort: ``cohort``, ``statistic``, ``df``, ``p`` (NaN when the cohort has
        fewer than two non-empty groups).
    groups : pandas.DataFrame
        ``cohort``, ``group``, ``n``, ``n_events``, ``median_survival`` (NaN when the curve
        never falls to 0.5).
    cutpoints : dict
        Cohort -> the cut points (ndarray, on the scale of the grouping variable) that
        formed its groups: the cohort's own quantiles of η, or the given ``cutpoints``.

    The grouping is also recorded in every row of ``logrank`` (columns ``variable``,
    ``grouping`` and ``cutpoints``; see :meth:`ValidationResult.survival_by_group`), so a
    report or figure drawn from the written tables shows the groups the tests used.
    """

    assignments: pd.DataFrame
    curves: pd.DataFrame
    logrank: pd.DataFrame
    groups: pd.DataFrame
    cutpoints: dict = field(default_factory=dict)


@dataclass
class ValidationResult:
    """Validation of a fitted model on one or more cohorts.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per cohort, plus ``"pooled"`` when several cohorts were pooled. Columns:
        ``cohort``, ``n_samples``, ``n_events``, ``cindex`` (Harrell's C of η; pooled: the
        stratified C-index, comparable pairs only within a cohort), ``partial_loglik`` (Cox
        log partial likelihood ℓ(η) at the fitted β, Breslow ties; pooled: the sum over
        cohorts, i.e. the stratified partial likelihood), ``partial_loglik_null`` (ℓ(0), the
        null model), ``hr_per_sd`` (hazard ratio per standard deviation of η), ``ci_lower``,
        ``ci_upper`` (its 95% confidence interval) and ``p`` (Wald p-value).
    hazard_ratios : pandas.DataFrame
        Tidy table, one row per cohort × term × model: ``cohort``, ``term``
        (``"linear_predictor"``, ``"factor_1"``, ...), ``model`` (``"univariable"`` or
        ``"multivariable"``), ``coef`` (log hazard ratio per SD), ``se``, ``hr``,
        ``ci_lower``, ``ci_upper`` (95%), ``z``, ``p`` (Wald), ``n_samples``, ``n_events``.
    risk : pandas.DataFrame
        One row per sample: ``cohort``, ``sample`` (the index of X, or 0..n-1), ``eta``
        (linear predictor), ``eta_std`` (η standardised within its cohort), ``time``,
        ``event``, then the model's covariates ``factor_1``, ... (Z = X·W for a DeSurv
        model; the standardised top-gene scores for a ScoreBasedPredictor).
    factor_names : list of str
    """

    summary: pd.DataFrame
    hazard_ratios: pd.DataFrame
    risk: pd.DataFrame
    factor_names: list = field(default_factory=list)

    def survival_by_group(
        self,
        *,
        n_groups=None,
        quantiles=None,
        cutpoints=None,
        standardized=False,
        labels=None,
        conf_level=0.95,
    ) -> RiskGroupSurvival:
        """Kaplan–Meier curves and log-rank tests of risk groups in each cohort.

        Groups are formed within each cohort from η (or from η standardised within the
        cohort with ``standardized=True``) by :func:`risk_groups`: quantiles of the cohort
        (default: a median split) or fixed ``cutpoints`` learned in training (see
        :func:`learn_cutpoint`; learn them on standardised training η when using
        ``standardized=True``). No pooled curve is drawn: pooling would ignore the cohorts
        as strata.

        Parameters
        ----------
        n_groups, quantiles, cutpoints, labels
            As in :func:`risk_groups` (at most one of the first three).
        standardized : bool, default False
            Group on ``eta_std`` instead of ``eta``.
        conf_level : float, default 0.95
            Level of the pointwise Kaplan–Meier confidence intervals.

        Returns
        -------
        RiskGroupSurvival
            Its ``logrank`` table has, besides ``cohort``, ``statistic``, ``df`` and ``p``,
            the columns ``variable`` (``"eta"`` or ``"eta_std"``), ``grouping`` (how the
            groups were formed, e.g. ``"quantiles 0.5 of the cohort"`` or ``"fixed cut
            points"``) and ``cutpoints`` (the cut values used in that cohort, ``"; "``-joined
            text with full precision), so the tables written from it say which groups the
            tests compare.
        """
        col = "eta_std" if standardized else "eta"
        grouping = _describe_grouping(n_groups, quantiles, cutpoints)
        assigned, curves, tests, groups = [], [], [], []
        cuts_by = {}
        for cohort, part in self.risk.groupby("cohort", sort=False):
            values = part[col].to_numpy(dtype=np.float64)
            if np.isnan(values).any():
                raise ValueError(
                    f"cohort {cohort!r}: {col} is undefined (constant linear predictor); "
                    "group on eta instead (standardized=False)"
                )
            g, cuts = _risk_groups(
                values,
                n_groups=n_groups,
                quantiles=quantiles,
                cutpoints=cutpoints,
                labels=labels,
                stacklevel=3,
            )
            cuts_by[cohort] = cuts
            split = {"variable": col, "grouping": grouping, "cutpoints": _cuts_text(cuts)}
            part = part.copy()
            part["group"] = g
            assigned.append(part)
            t, e = part["time"].to_numpy(), part["event"].to_numpy()
            km = kaplan_meier(t, e, g, conf_level=conf_level)
            km.insert(0, "cohort", cohort)
            curves.append(km)
            if (pd.Series(g).value_counts() > 0).sum() >= 2:
                res = logrank(t, e, g)
                tests.append(
                    {"cohort": cohort, "statistic": res.statistic, "df": res.df, "p": res.p} | split
                )
                gr = res.groups
            else:
                warnings.warn(
                    f"cohort {cohort!r}: fewer than two non-empty risk groups; no log-rank test",
                    DataWarning,
                    stacklevel=2,
                )
                tests.append(
                    {"cohort": cohort, "statistic": np.nan, "df": np.nan, "p": np.nan} | split
                )
                gr = _group_summary(t, e, g)
            gr.insert(0, "cohort", cohort)
            groups.append(gr)
        return RiskGroupSurvival(
            assignments=pd.concat(assigned, ignore_index=True),
            curves=pd.concat(curves, ignore_index=True),
            logrank=pd.DataFrame(tests),
            groups=pd.concat(groups, ignore_index=True),
            cutpoints=cuts_by,
        )


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _hr_rows(cohort, model_kind, table, n, n_events):
    return [
        {
            "cohort": cohort,
            "term": term,
            "model": model_kind,
            **vals,
            "n_samples": n,
            "n_events": n_events,
        }
        for term, vals in table.items()
    ]


def _factor_models(Zstd, time, event, factor_names, univariable, strata, context):
    """Multivariable (and optionally univariable) Cox fits on standardised factor columns.

    ``Zstd`` maps factor name -> standardised column or None (constant: NaN result).
    """
    usable = [f for f in factor_names if Zstd[f] is not None]
    multi = _nan_rows(factor_names)
    if usable:
        cov = pd.DataFrame({f: Zstd[f] for f in usable})
        multi.update(_cox_fit(cov, time, event, strata=strata, context=context))
    out = {"multivariable": {f: multi[f] for f in factor_names}}
    if univariable:
        uni = _nan_rows(factor_names)
        for f in usable:
            cov = pd.DataFrame({f: Zstd[f]})
            uni.update(_cox_fit(cov, time, event, strata=strata, context=context))
        out["univariable"] = uni
    return out


def validate_cohorts(
    model,
    cohorts,
    *,
    preprocessor="auto",
    fill_value=None,
    pooled=True,
    univariable=False,
) -> ValidationResult:
    """Apply a fitted model to independent cohorts and measure its prognostic value.

    For each cohort: the genes are aligned to the model's and the preprocessing is applied
    (see ``preprocessor``), the covariates Z = X·W and the linear predictor η = Z·β are
    computed with the fitted W and β (nothing is refitted), then

    * Harrell's C-index of η (:func:`desurv.concordance_index`);
    * the Cox log partial likelihood ℓ(η) at the fitted β and ℓ(0) of the null model
      (Breslow ties, :func:`desurv.survival.cox.cox_partial_log_likelihood`);
    * the hazard ratio per standard deviation of η: a univariable Cox model on η
      standardised within the cohort (mean 0, SD 1 with ddof=1);
    * hazard ratios per SD of each factor: one multivariable Cox model on all columns of Z,
      each standardised within the cohort (and, with ``univariable=True``, one Cox model per
      factor as well).

    The Cox models are unpenalised maximum partial-likelihood fits by lifelines
    ``CoxPHFitter`` (Efron's handling of tied times, which equals Breslow's when there are
    no ties); standard errors come from the inverse observed information, confidence
    intervals are exp(coef ± 1.96·se) and p-values are two-sided Wald tests. With
    ``pooled=True`` and at least two cohorts the same models are fitted on all cohorts at
    once with the cohort as stratum (separate baseline hazards, common coefficients;
    covariates still standardised within each cohort).

    Parameters
    ----------
    model : DeSurv or ScoreBasedPredictor
        A fitted :class:`desurv.DeSurv` (e.g. from :func:`desurv.load_model`), or a fitted
        :class:`ScoreBasedPredictor`, which needs only each factor's top genes.
    cohorts : mapping of str to tuple
        ``name -> (X, y)`` with X of shape (n_samples, n_genes) (pandas DataFrame with gene
        names as columns, or an array in the model's gene order) and y a structured array
        with fields ``event`` and ``time`` (:func:`desurv.make_survival_y`, or
        :func:`desurv.datasets.load_cohort`); ``name -> (X, time, event)`` also works.
    preprocessor : "auto", None or Preprocessor, default "auto"
        Preprocessing applied to each cohort before projection. ``"auto"``: the model's
        ``preprocessor_`` when it has one (models loaded with :func:`desurv.load_model`),
        otherwise none. ``None``: X is already prepared (aligned and transformed like the
        training data). A fitted :class:`desurv.preprocessing.Preprocessor`: applied to the
        raw cohort (gene alignment by name, then the within-sample transform).
    fill_value : float, optional
        Value for model genes missing from a cohort (a :class:`DataWarning` lists them).
        By default missing genes are a ``ValueError``.
    pooled : bool, default True
        Add the stratified pooled analysis (only with two or more cohorts).
    univariable : bool, default False
        Also fit one Cox model per factor.

    Returns
    -------
    ValidationResult
        ``summary``, ``hazard_ratios`` and ``risk`` tables (see :class:`ValidationResult`).

    Raises
    ------
    ValueError
        ``cohorts`` empty or malformed, a cohort named ``"pooled"`` when pooling, a cohort
        without events, survival data whose length differs from X, missing genes (without
        ``fill_value``), data the preprocessing or model rejects (NaN, negative values for
        an unranked model, ...), or an unfitted model. Messages name the cohort.

    Warns
    -----
    DataWarning
        A covariate or η constant within a cohort (its hazard ratio is NaN), filled genes,
        top genes missing for a ScoreBasedPredictor.
    ConvergenceWarning
        A Cox fit that lifelines could not complete (reported as NaN).
    """
    if not isinstance(cohorts, Mapping) or len(cohorts) == 0:
        raise ValueError(
            "cohorts must be a non-empty mapping name -> (X, y), e.g. {'gse1992': (X, y)}"
        )
    do_pool = bool(pooled) and len(cohorts) >= 2
    if do_pool and _POOLED in [str(c) for c in cohorts]:
        raise ValueError(
            f"a cohort is named {_POOLED!r}, which is reserved for the pooled analysis; "
            "rename it or pass pooled=False"
        )
    summary, hr_rows, risk_frames = [], [], []
    factor_names = None
    pool = {
        "eta": [],
        "Z": [],
        "time": [],
        "event": [],
        "stratum": [],
        "counts": np.zeros(3, dtype=np.int64),
        "ll": 0.0,
        "ll0": 0.0,
    }
    for name, value in cohorts.items():
        name = str(name)
        X, y, time, event = _unpack_cohort(name, value)
        try:
            Z, eta = _project(model, X, preprocessor, fill_value)
            time_, event_ = survival_from_y(y, time, event, n_samples=Z.shape[0])
            cidx, counts = concordance_index(time_, event_, eta, return_counts=True)
        except ValueError as exc:
            raise ValueError(f"cohort {name!r}: {exc}") from None
        k = Z.shape[1]
        if factor_names is None:
            factor_names = _factor_names(k)
        n, n_ev = int(Z.shape[0]), int(event_.sum())
        ll = cox_partial_log_likelihood(eta, time_, event_)
        ll0 = cox_partial_log_likelihood(np.zeros(n), time_, event_)
        eta_std = _zscore(eta)
        if eta_std is None:
            warnings.warn(
                f"cohort {name!r}: the linear predictor is constant (are all coefficients "
                "zero?); its hazard ratio per SD is NaN",
                DataWarning,
                stacklevel=2,
            )
            lp = _nan_rows(["linear_predictor"])
        else:
            lp = _cox_fit(
                pd.DataFrame({"linear_predictor": eta_std}),
                time_,
                event_,
                context=f"cohort {name!r}",
            )
        Zstd = {f: _zscore(Z[:, j]) for j, f in enumerate(factor_names)}
        const = [f for f in factor_names if Zstd[f] is None]
        if const:
            warnings.warn(
                f"cohort {name!r}: {const} constant within the cohort; their hazard ratios are NaN",
                DataWarning,
                stacklevel=2,
            )
        fm = _factor_models(
            Zstd, time_, event_, factor_names, univariable, None, f"cohort {name!r}"
        )
        lpv = lp["linear_predictor"]
        summary.append(
            {
                "cohort": name,
                "n_samples": n,
                "n_events": n_ev,
                "cindex": cidx,
                "partial_loglik": ll,
                "partial_loglik_null": ll0,
                "hr_per_sd": lpv["hr"],
                "ci_lower": lpv["ci_lower"],
                "ci_upper": lpv["ci_upper"],
                "p": lpv["p"],
            }
        )
        hr_rows += _hr_rows(name, "univariable", lp, n, n_ev)
        for kind, table in fm.items():
            hr_rows += _hr_rows(name, kind, table, n, n_ev)
        risk = pd.DataFrame(
            {
                "cohort": name,
                "sample": X.index.to_numpy() if isinstance(X, pd.DataFrame) else np.arange(n),
                "eta": eta,
                "eta_std": np.full(n, np.nan) if eta_std is None else eta_std,
                "time": time_,
                "event": event_,
            }
        )
        for j, f in enumerate(factor_names):
            risk[f] = Z[:, j]
        risk_frames.append(risk)
        # stratified pooling: a covariate constant within a stratum contributes nothing to
        # that stratum's partial likelihood, so it is entered as 0 there (exact, not a fill)
        pool["eta"].append(np.zeros(n) if eta_std is None else eta_std)
        pool["Z"].append(
            np.column_stack([np.zeros(n) if Zstd[f] is None else Zstd[f] for f in factor_names])
        )
        pool["time"].append(time_)
        pool["event"].append(event_)
        pool["stratum"].append(np.full(n, name, dtype=object))
        pool["counts"] += np.array([counts.concordant, counts.tied_risk, counts.comparable])
        pool["ll"] += ll
        pool["ll0"] += ll0
    if do_pool:
        summary.append(_pooled(pool, factor_names, univariable, hr_rows))
    hazard_ratios = pd.DataFrame(hr_rows)
    return ValidationResult(
        summary=pd.DataFrame(summary),
        hazard_ratios=hazard_ratios,
        risk=pd.concat(risk_frames, ignore_index=True),
        factor_names=list(factor_names),
    )


def _pooled(pool, factor_names, univariable, hr_rows):
    """Stratified (cohort = stratum) pooled analysis; appends to ``hr_rows``."""
    time_ = np.concatenate(pool["time"])
    event_ = np.concatenate(pool["event"])
    strata = np.concatenate(pool["stratum"])
    eta = np.concatenate(pool["eta"])
    Z = np.vstack(pool["Z"])
    n, n_ev = int(time_.shape[0]), int(event_.sum())
    context = "pooled analysis"
    if np.all(eta == 0):
        lp = _nan_rows(["linear_predictor"])
    else:
        lp = _cox_fit(
            pd.DataFrame({"linear_predictor": eta}), time_, event_, strata=strata, context=context
        )
    Zstd = {f: (None if np.all(Z[:, j] == 0) else Z[:, j]) for j, f in enumerate(factor_names)}
    fm = _factor_models(Zstd, time_, event_, factor_names, univariable, strata, context)
    hr_rows += _hr_rows(_POOLED, "univariable", lp, n, n_ev)
    for kind, table in fm.items():
        hr_rows += _hr_rows(_POOLED, kind, table, n, n_ev)
    conc, tied, comp = pool["counts"]
    lpv = lp["linear_predictor"]
    return {
        "cohort": _POOLED,
        "n_samples": n,
        "n_events": n_ev,
        "cindex": (conc + tied / 2) / comp,
        "partial_loglik": pool["ll"],
        "partial_loglik_null": pool["ll0"],
        "hr_per_sd": lpv["hr"],
        "ci_lower": lpv["ci_lower"],
        "ci_upper": lpv["ci_upper"],
        "p": lpv["p"],
    }


def evaluate_cohort(
    model,
    X,
    y=None,
    *,
    time=None,
    event=None,
    name="cohort",
    preprocessor="auto",
    fill_value=None,
    univariable=False,
) -> ValidationResult:
    """Validate a fitted model on a single cohort.

    Shorthand for ``validate_cohorts(model, {name: (X, y)}, pooled=False, ...)``; see
    :func:`validate_cohorts` for what is computed, the parameters and the errors.

    Parameters
    ----------
    model : DeSurv or ScoreBasedPredictor
    X : DataFrame or array-like of shape (n_samples, n_genes)
    y : structured array of shape (n_samples,), optional
        Fields ``event`` and ``time``; alternatively pass ``time=`` and ``event=``.
    name : str, default "cohort"
        Cohort label used in the result tables.
    preprocessor, fill_value, univariable
        As in :func:`validate_cohorts`.

    Returns
    -------
    ValidationResult
    """
    value = (X, y) if y is not None or (time is None and event is None) else (X, time, event)
    if y is not None and (time is not None or event is not None):
        raise ValueError("pass either y or time=/event=, not both")
    return validate_cohorts(
        model,
        {name: value},
        preprocessor=preprocessor,
        fill_value=fill_value,
        pooled=False,
        univariable=univariable,
    )
