"""Helpers shared by the evaluation modules: Cox fits through lifelines and table formatting."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from desurv.exceptions import ConvergenceWarning

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
