"""Risk groups of a linear predictor, cut points, Kaplan–Meier curves and log-rank tests.

:func:`risk_groups` (quantiles of η, given cut points, or a cut point learned in training by
:func:`learn_cutpoint`, optionally the maximally selected log-rank statistic),
:func:`kaplan_meier` (lifelines) and :func:`logrank` (lifelines' multivariate log-rank test).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd

from desurv._validation import as_float64, check_time_event
from desurv.exceptions import DataWarning

__all__ = [
    "LogRankResult",
    "kaplan_meier",
    "learn_cutpoint",
    "logrank",
    "risk_groups",
]


# --------------------------------------------------------------------------------------
# risk groups, cut points, Kaplan–Meier and log-rank
# --------------------------------------------------------------------------------------
def _check_eta(eta, name="eta"):
    eta = as_float64(eta, name, "1-D array")
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
