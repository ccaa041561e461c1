"""External validation of a fitted DeSurv model on independent cohorts.

A fitted model is applied to a new cohort exactly as to its training data: the cohort's genes
are aligned by name to the training genes (a missing gene is an error unless the caller asks
to fill it), the same preprocessing is applied (e.g. the training ``Preprocessor``: gene
filter + within-sample ranks), and the linear predictor η = X·W·β is computed with the
fitted W and β, never refitted.  The tables returned are tidy and plot-ready:

* :func:`validate_cohorts` / :func:`evaluate_cohort`: Harrell's C-index, Cox partial
  log-likelihood of η (Breslow), hazard ratios per standard deviation of η and of each
  factor with 95% confidence intervals and Wald p-values (lifelines ``CoxPHFitter``), and the
  same pooled over cohorts with the cohort as stratum;
* :func:`risk_groups`, :func:`learn_cutpoint`, :func:`kaplan_meier`, :func:`logrank`:
  Kaplan–Meier curves of risk groups (quantiles of η or a cut point learned in training,
  optionally the maximally selected log-rank statistic) and log-rank tests;
* :class:`ScoreBasedPredictor`: the authors' score-based validation, which needs only each
  factor's top genes (the s_gf rule) in the new cohort.

Everything here is bookkeeping around well-kept libraries (lifelines for Cox fits,
Kaplan–Meier and log-rank tests) and desurv's own Cox and concordance kernels; nothing is
compiled.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from desurv._validation import check_time_event, survival_from_y
from desurv.survival.cox import cox_partial_log_likelihood
from desurv.deconvolution.estimator import top_genes
from desurv.exceptions import ConvergenceWarning, DataWarning
from desurv.survival.concordance import concordance_index
from desurv.preprocessing import align_genes

__all__ = [
    "LogRankResult",
    "RiskGroupSurvival",
    "ScoreBasedPredictor",
    "ValidationResult",
    "evaluate_cohort",
    "kaplan_meier",
    "learn_cutpoint",
    "logrank",
    "risk_groups",
    "validate_cohorts",
]

_SD_MIN = 1e-12  # a covariate with sd below this is constant: no hazard ratio per SD
_POOLED = "pooled"
_HR_COLUMNS = ["coef", "se", "hr", "ci_lower", "ci_upper", "z", "p"]


def _fmt_list(items, k=5):
    items = list(items)
    head = ", ".join(repr(i) for i in items[:k])
    return head + (", ..." if len(items) > k else "")


def _factor_names(k):
    return [f"factor_{f + 1}" for f in range(k)]


def _zscore(v):
    """``(v - mean) / sd`` with sd of ddof=1, or None when v is (numerically) constant."""
    if v.shape[0] < 2:
        return None
    sd = v.std(ddof=1)
    if not np.isfinite(sd) or sd <= _SD_MIN * max(1.0, float(np.abs(v).max())):
        return None
    return (v - v.mean()) / sd


# --------------------------------------------------------------------------------------
# Cox fits through lifelines
# --------------------------------------------------------------------------------------
def _nan_rows(terms):
    return {t: dict.fromkeys(_HR_COLUMNS, np.nan) for t in terms}


def _cox_fit(covariates: pd.DataFrame, time, event, *, strata=None, context="") -> dict:
    """Unpenalised Cox fit by lifelines ``CoxPHFitter`` (Efron ties, Wald inference).

    Returns ``{term: {coef, se, hr, ci_lower, ci_upper, z, p}}``; all NaN (with a
    :class:`ConvergenceWarning`) when lifelines cannot fit the model.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from lifelines.exceptions import ConvergenceWarning as LifelinesConvergenceWarning

    terms = list(covariates.columns)
    df = covariates.reset_index(drop=True).copy()
    df["_time"] = np.asarray(time, dtype=np.float64)
    df["_event"] = np.asarray(event, dtype=bool)
    kwargs = {}
    if strata is not None:
        df["_stratum"] = np.asarray(strata)
        kwargs["strata"] = ["_stratum"]
    cph = CoxPHFitter(alpha=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # lifelines' default stop (R's 1e-9 relative change of the log-likelihood)
            # can leave ~1e-5 relative error in the coefficients; stop on the Newton step
            # and decrement instead (quadratic convergence: a few more iterations)
            cph.fit(
                df,
                duration_col="_time",
                event_col="_event",
                fit_options={"precision": 1e-14, "r_precision": 0.0},
                **kwargs,
            )
            failure = None
        except (ConvergenceError, np.linalg.LinAlgError) as exc:
            failure = exc
    for w in caught:  # lifelines' own convergence warnings become desurv's
        if issubclass(w.category, LifelinesConvergenceWarning):
            warnings.warn(f"{context}: {w.message}", ConvergenceWarning, stacklevel=3)
        else:
            warnings.warn(w.message, w.category, stacklevel=3)
    if failure is not None:
        warnings.warn(
            f"{context}: the Cox fit of {terms} failed ({failure}); reported as NaN",
            ConvergenceWarning,
            stacklevel=3,
        )
        return _nan_rows(terms)
    s = cph.summary
    out = {}
    for term in terms:
        row = s.loc[term]
        out[term] = {
            "coef": float(row["coef"]),
            "se": float(row["se(coef)"]),
            "hr": float(row["exp(coef)"]),
            "ci_lower": float(row["exp(coef) lower 95%"]),
            "ci_upper": float(row["exp(coef) upper 95%"]),
            "z": float(row["z"]),
            "p": float(row["p"]),
        }
    return out


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


# --------------------------------------------------------------------------------------
# risk groups, cut points, Kaplan–Meier and log-rank
# --------------------------------------------------------------------------------------
def _check_eta(eta, name="eta"):
    try:
        eta = np.asarray(eta, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric 1-D array: {exc}") from None
    if eta.ndim != 1 or eta.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {eta.shape}")
    if not np.all(np.isfinite(eta)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return eta


def _default_labels(n_groups):
    if n_groups == 2:
        return ["low", "high"]
    if n_groups == 3:
        return ["low", "intermediate", "high"]
    return [f"G{i + 1}" for i in range(n_groups)]


def risk_groups(eta, *, n_groups=None, quantiles=None, cutpoints=None, labels=None):
    """Assign samples to risk groups by quantiles of η or by fixed cut points.

    With cut points c_1 < ... < c_m a sample falls in group j when
    c_{j-1} < η ≤ c_j (c_0 = −∞, c_{m+1} = +∞): a sample exactly at a cut point joins the
    lower-risk group, as in ``maxstat``/``surv_cutpoint`` (see :func:`learn_cutpoint`).
    Quantile cut points are ``numpy.quantile(eta, quantiles)`` (linear interpolation, R's
    type 7) of the given η, so they are cohort-specific; ``cutpoints`` are used as given
    (e.g. learned in training).

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Risk score (higher = higher risk), e.g. the linear predictor.
    n_groups : int >= 2, optional
        Equal-size groups by the quantiles 1/n, ..., (n-1)/n. Default (when none of
        ``n_groups``, ``quantiles``, ``cutpoints`` is given): 2, a median split.
    quantiles : sequence of float in (0, 1), strictly increasing, optional
        Quantile levels of the cut points, e.g. ``(0.5,)`` or ``(1/3, 2/3)``.
    cutpoints : sequence of float, strictly increasing, optional
        Cut points on the scale of ``eta``.
    labels : sequence of str, optional
        One label per group, lowest risk first. Default ``["low", "high"]`` for two groups,
        ``["low", "intermediate", "high"]`` for three, else ``"G1"``, ``"G2"``, ...

    Returns
    -------
    pandas.Categorical of length n_samples
        Ordered categorical of group labels (categories lowest risk first; a category may be
        empty, with a :class:`DataWarning`).

    Raises
    ------
    ValueError
        More than one of ``n_groups``/``quantiles``/``cutpoints``; invalid values; NaN in
        ``eta``; wrong number of labels.
    """
    return _risk_groups(
        eta, n_groups=n_groups, quantiles=quantiles, cutpoints=cutpoints, labels=labels
    )[0]


def _cuts_text(cuts):
    """Cut points as text with full (round-trip) precision, ``"; "``-joined."""
    return "; ".join(repr(float(c)) for c in np.atleast_1d(cuts))


def _describe_grouping(n_groups, quantiles, cutpoints):
    """How :meth:`ValidationResult.survival_by_group` forms groups, in words."""
    if cutpoints is not None:
        return "fixed cut points"
    if quantiles is None:
        n = 2 if n_groups is None else n_groups
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 2:
            return "quantiles of the cohort"  # risk_groups raises on it
        quantiles = np.arange(1, n) / n
    q = ", ".join(f"{float(v):.4g}" for v in np.atleast_1d(np.asarray(quantiles, dtype=float)))
    return f"quantiles {q} of the cohort"


def _risk_groups(eta, *, n_groups=None, quantiles=None, cutpoints=None, labels=None, stacklevel=3):
    """:func:`risk_groups` that also returns the cut points used (ndarray)."""
    eta = _check_eta(eta)
    given = [a is not None for a in (n_groups, quantiles, cutpoints)]
    if sum(given) > 1:
        raise ValueError("pass at most one of n_groups=, quantiles= and cutpoints=")
    if not any(given):
        n_groups = 2
    if n_groups is not None:
        if isinstance(n_groups, bool) or not isinstance(n_groups, Integral) or n_groups < 2:
            raise ValueError(f"n_groups must be an integer >= 2, got {n_groups!r}")
        quantiles = np.arange(1, n_groups) / n_groups
    if quantiles is not None:
        q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
        if q.ndim != 1 or q.size == 0 or np.any(~np.isfinite(q)) or np.any((q <= 0) | (q >= 1)):
            raise ValueError(f"quantiles must be values in (0, 1), got {quantiles!r}")
        if np.any(np.diff(q) <= 0):
            raise ValueError(f"quantiles must be strictly increasing, got {quantiles!r}")
        cuts = np.quantile(eta, q)
    else:
        cuts = np.atleast_1d(np.asarray(cutpoints, dtype=np.float64))
        if cuts.ndim != 1 or cuts.size == 0 or np.any(~np.isfinite(cuts)):
            raise ValueError(f"cutpoints must be finite numbers, got {cutpoints!r}")
        if np.any(np.diff(cuts) <= 0):
            raise ValueError(f"cutpoints must be strictly increasing, got {cutpoints!r}")
    n_out = cuts.size + 1
    if labels is None:
        labels = _default_labels(n_out)
    labels = [str(lab) for lab in labels]
    if len(labels) != n_out or len(set(labels)) != n_out:
        raise ValueError(f"labels must be {n_out} distinct names (one per group), got {labels!r}")
    codes = np.searchsorted(cuts, eta, side="left")
    empty = [labels[j] for j in range(n_out) if not np.any(codes == j)]
    if empty:
        warnings.warn(
            f"risk groups {empty} are empty (cut points {np.round(cuts, 6).tolist()}; tied "
            "risk scores or cut points outside the range of eta)",
            DataWarning,
            stacklevel=stacklevel,
        )
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True), cuts


def _logrank_scan(eta, time, event, min_prop):
    """Two-group log-rank chi-square for every admissible cut point of ``eta``.

    Groups are η ≤ c (low) and η > c (high); c runs over the distinct values of η leaving at
    least ``ceil(min_prop · n)`` samples in each group. Vectorised over cut points: after
    sorting samples by η, the high group of a cut point is a suffix, so its numbers at risk
    and of events at each event time are reverse cumulative sums.
    """
    n = eta.shape[0]
    order = np.argsort(eta, kind="stable")
    e_sorted, t_sorted, d_sorted = eta[order], time[order], event[order]
    ev_times = np.unique(time[event])
    at_risk = t_sorted[:, None] >= ev_times[None, :]  # n × T
    dies = d_sorted[:, None] & (t_sorted[:, None] == ev_times[None, :])
    n_t = at_risk.sum(axis=0).astype(np.float64)
    d_t = dies.sum(axis=0).astype(np.float64)
    # suffix sums: row m = samples at sorted positions m..n-1 (the high group when m are low)
    n1 = np.cumsum(at_risk[::-1], axis=0)[::-1].astype(np.float64)
    d1 = np.cumsum(dies[::-1], axis=0)[::-1].astype(np.float64)
    # candidate cuts: last position of each distinct η value
    last = np.flatnonzero(np.r_[e_sorted[1:] != e_sorted[:-1], True])
    n_low = last + 1
    need = int(np.ceil(min_prop * n - 1e-9))
    ok = (n_low >= need) & (n - n_low >= need) & (n_low < n)
    last, n_low = last[ok], n_low[ok]
    if last.size == 0:
        return None
    N1, D1 = n1[n_low], d1[n_low]  # high group = positions n_low..n-1
    frac = N1 / n_t
    expected = (d_t * frac).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n_t > 1, d_t * frac * (1 - frac) * (n_t - d_t) / (n_t - 1), 0.0)
    var = v.sum(axis=1)
    observed = D1.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.where(var > 0, (observed - expected) ** 2 / var, 0.0)
    return pd.DataFrame(
        {"cutpoint": e_sorted[last], "statistic": stat, "n_low": n_low, "n_high": n - n_low}
    )


def learn_cutpoint(eta, time=None, event=None, *, method="median", min_prop=0.1, return_scan=False):
    """Learn a cut point of a risk score on training data.

    ``method="median"``: the median of ``eta``. ``method="maxstat"``: the maximally selected
    log-rank statistic (Lausen & Schumacher 1992; R ``maxstat``, used by survminer's
    ``surv_cutpoint``): among the distinct values c of η that leave at least
    ``min_prop`` of the samples in each group (η ≤ c vs η > c), the one maximising the
    two-group log-rank chi-square statistic (ties: the smallest such c). Apply the result to
    other cohorts with ``risk_groups(eta_new, cutpoints=[c])``.

    The log-rank p-value at a maximally selected cut point is optimistic (the cut was chosen
    to maximise it); validate it on independent data.

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Training risk scores (higher = higher risk).
    time, event : array-like of shape (n_samples,), optional
        Survival data; required for ``"maxstat"`` (at least one event).
    method : {"median", "maxstat"}, default "median"
    min_prop : float in (0, 0.5], default 0.1
        Smallest fraction of samples allowed in either group (``"maxstat"``).
    return_scan : bool, default False
        Also return the table of candidates (``"maxstat"``: columns ``cutpoint``,
        ``statistic``, ``n_low``, ``n_high``; ``"median"``: None).

    Returns
    -------
    cutpoint : float
    scan : pandas.DataFrame or None
        Only with ``return_scan=True``.

    Raises
    ------
    ValueError
        Unknown method, ``min_prop`` outside (0, 0.5], missing or invalid survival data for
        ``"maxstat"``, or no admissible cut point (too few distinct values of η).
    """
    eta = _check_eta(eta)
    if method not in ("median", "maxstat"):
        raise ValueError(f"method must be 'median' or 'maxstat', got {method!r}")
    if method == "median":
        if time is not None or event is not None:
            check_time_event(time, event, n_samples=eta.shape[0], require_event=False)
        cut = float(np.median(eta))
        return (cut, None) if return_scan else cut
    if isinstance(min_prop, bool) or not (np.ndim(min_prop) == 0 and 0 < float(min_prop) <= 0.5):
        raise ValueError(f"min_prop must be a number in (0, 0.5], got {min_prop!r}")
    if time is None or event is None:
        raise ValueError("method='maxstat' needs time= and event= of the training samples")
    time, event = check_time_event(time, event, n_samples=eta.shape[0])
    scan = _logrank_scan(eta, time, event, float(min_prop))
    if scan is None:
        raise ValueError(
            f"no cut point leaves at least min_prop={min_prop} of the {eta.shape[0]} samples in "
            "each group (too few distinct values of eta); lower min_prop or use method='median'"
        )
    cut = float(scan["cutpoint"].iloc[int(np.argmax(scan["statistic"].to_numpy()))])
    return (cut, scan) if return_scan else cut


def _as_groups(groups, n):
    if groups is None:
        return pd.Categorical(np.full(n, "all", dtype=object))
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype):
        groups = groups.array  # keep the category order (e.g. low < high)
    cat = groups if isinstance(groups, pd.Categorical) else pd.Categorical(np.asarray(groups))
    if len(cat) != n:
        raise ValueError(f"groups has {len(cat)} entries but time/event have {n}")
    if np.any(cat.codes < 0):
        raise ValueError("groups contains missing values (NaN/None); every sample needs a group")
    return cat


def kaplan_meier(time, event, groups=None, *, conf_level=0.95) -> pd.DataFrame:
    """Kaplan–Meier survival curves, one per group, as a tidy plot-ready table.

    Computed by lifelines ``KaplanMeierFitter``: S(t) = Π_{s ≤ t} (1 − d_s / n_s) with
    pointwise confidence intervals from Greenwood's variance on the log(−log S) scale
    (the "exponential Greenwood", ``conf_type="log-log"`` in scikit-survival).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Observed times (event or censoring), finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator (1/True = event).
    groups : array-like of shape (n_samples,), optional
        Group label per sample (e.g. from :func:`risk_groups`); one curve per group, in the
        order of the categories of a ``pandas.Categorical`` (else sorted labels). Default:
        one group ``"all"``.
    conf_level : float in (0, 1), default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per group and time point (time 0, then every distinct observed time of the
        group): ``group`` (categorical, in group order), ``time``, ``n_at_risk`` (at risk just
        before ``time``), ``n_events``, ``n_censored`` (at ``time``), ``survival`` (S(time),
        right-continuous), ``ci_lower``, ``ci_upper``. Empty groups have no rows.

    Raises
    ------
    ValueError
        Invalid survival data, ``groups`` of the wrong length or with missing labels,
        ``conf_level`` outside (0, 1).
    """
    from lifelines import KaplanMeierFitter

    time, event = check_time_event(time, event, require_event=False)
    if not (np.ndim(conf_level) == 0 and 0 < float(conf_level) < 1):
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    cat = _as_groups(groups, time.shape[0])
    frames = []
    for code, label in enumerate(cat.categories):
        sel = cat.codes == code
        if not sel.any():
            continue
        kmf = KaplanMeierFitter(alpha=1 - float(conf_level)).fit(time[sel], event[sel])
        table = kmf.event_table
        sf = kmf.survival_function_.iloc[:, 0].reindex(table.index)
        ci = kmf.confidence_interval_.reindex(table.index)
        frames.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": table.index.to_numpy(dtype=np.float64),
                    "n_at_risk": table["at_risk"].to_numpy(dtype=np.int64),
                    "n_events": table["observed"].to_numpy(dtype=np.int64),
                    "n_censored": table["censored"].to_numpy(dtype=np.int64),
                    "survival": sf.to_numpy(dtype=np.float64),
                    "ci_lower": ci.iloc[:, 0].to_numpy(dtype=np.float64),
                    "ci_upper": ci.iloc[:, 1].to_numpy(dtype=np.float64),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["group"] = pd.Categorical(out["group"], categories=cat.categories, ordered=cat.ordered)
    return out


@dataclass
class LogRankResult:
    """Result of :func:`logrank`.

    Attributes
    ----------
    statistic : float
        Log-rank chi-square statistic.
    df : int
        Degrees of freedom (number of non-empty groups − 1).
    p : float
        p-value from the chi-square distribution with ``df`` degrees of freedom.
    groups : pandas.DataFrame
        Per non-empty group: ``group``, ``n``, ``n_events``, ``median_survival`` (Kaplan–Meier
        median; NaN when the curve never falls to 0.5).
    """

    statistic: float
    df: int
    p: float
    groups: pd.DataFrame


def _group_summary(time, event, cat):
    from lifelines import KaplanMeierFitter

    rows = []
    for code, label in enumerate(cat.categories):
        sel = cat.codes == code
        if not sel.any():
            continue
        med = KaplanMeierFitter().fit(time[sel], event[sel]).median_survival_time_
        rows.append(
            {
                "group": label,
                "n": int(sel.sum()),
                "n_events": int(event[sel].sum()),
                "median_survival": float(med) if np.isfinite(med) else np.nan,
            }
        )
    out = pd.DataFrame(rows)
    out["group"] = pd.Categorical(out["group"], categories=cat.categories, ordered=cat.ordered)
    return out


def logrank(time, event, groups) -> LogRankResult:
    """Log-rank test of equal survival across groups (lifelines ``multivariate_logrank_test``).

    The statistic is (O − E)ᵀ V⁻ (O − E) over the groups' observed (O) and expected (E)
    numbers of events under a common hazard, with the hypergeometric covariance V; for two
    groups it is the usual (O₁ − E₁)² / Var.

    Parameters
    ----------
    time, event : array-like of shape (n_samples,)
        Survival data (finite nonnegative times; 0/1 events).
    groups : array-like of shape (n_samples,)
        Group label per sample (e.g. from :func:`risk_groups`); at least two non-empty groups.

    Returns
    -------
    LogRankResult
        ``statistic``, ``df``, ``p`` and a per-group summary (n, events, median survival).

    Raises
    ------
    ValueError
        Invalid survival data, fewer than two non-empty groups, mismatched lengths.
    """
    from lifelines.statistics import multivariate_logrank_test

    time, event = check_time_event(time, event, require_event=False)
    cat = _as_groups(groups, time.shape[0])
    n_nonempty = int(np.unique(cat.codes).size)
    if n_nonempty < 2:
        raise ValueError(f"logrank needs at least two non-empty groups, got {n_nonempty}")
    res = multivariate_logrank_test(time, cat.codes, event)
    return LogRankResult(
        statistic=float(res.test_statistic),
        df=int(res.degrees_of_freedom),
        p=float(res.p_value),
        groups=_group_summary(time, event, cat),
    )


# --------------------------------------------------------------------------------------
# score-based predictor
# --------------------------------------------------------------------------------------
_WEIGHTS = ("loadings", "binary")
_TRANSFORMS = ("rank", "none")
_COEFS = ("model", "raw", "refit")


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
            sd = S.std(axis=0, ddof=1)
            const = sd <= _SD_MIN * np.maximum(1.0, np.abs(S).max(axis=0))
            if const.any():
                warnings.warn(
                    f"{[factors[j] for j in np.flatnonzero(const)]} have constant scores in the "
                    "training cohort; they are centred but not scaled",
                    DataWarning,
                    stacklevel=2,
                )
                sd = np.where(const, 1.0, sd)
            self.scale_ = sd
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
        sd = S.std(axis=0, ddof=1)
        const = sd <= _SD_MIN * np.maximum(1.0, np.abs(S).max(axis=0))
        if const.any():
            warnings.warn(
                f"{[self.top_genes_.columns[j] for j in np.flatnonzero(const)]} have constant "
                "scores in this cohort; they are centred but not scaled",
                DataWarning,
                stacklevel=3,
            )
        return (S - S.mean(axis=0)) / np.where(const, 1.0, sd)

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
    from desurv._validation import check_time_event
    from desurv.survival.cox import cox_partial_log_likelihood
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
