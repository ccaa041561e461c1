"""Survival predictions and Wald inference for a Cox model on fixed covariates.

Pieces used by :class:`~desurv.DeSurv` (and any Cox head on a representation Z):

* :class:`StepFunction`: a callable right-continuous step function with the interface of
  scikit-survival's ``sksurv.functions.StepFunction`` (attributes ``x``, ``y``, ``a``, ``b``,
  ``domain``; ``ValueError`` outside the domain), so that desurv's predictions plug into
  ``sksurv.metrics`` (``integrated_brier_score``, ``cumulative_dynamic_auc``, ...) without
  desurv depending on scikit-survival at run time.
* :func:`breslow_baseline`: the Breslow (1972) cumulative baseline hazard on every distinct
  training time (scikit-survival's ``unique_times_`` convention).
* :func:`cumulative_hazard_functions`, :func:`survival_functions`: per-sample
  ``H(t | x) = e^{η(x)} H0(t)`` and ``S(t | x) = exp(−e^{η(x)} H0(t))`` (Cox 1972) as arrays of
  :class:`StepFunction` or as one (n_samples, n_unique_times) array.
* :func:`coef_covariance`, :func:`wald_table`, :func:`format_summary`: Wald standard errors,
  confidence intervals, z and p from the observed information −∂²ℓ/∂β² of the Cox log partial
  likelihood ℓ (not ℓ/n_event), and a readable table like lifelines' ``print_summary``.

References
----------
Cox, D. R. (1972). Regression models and life-tables. JRSS B 34(2): 187–220.
Breslow, N. E. (1972). Discussion of Cox (1972). JRSS B 34(2): 216–217.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from desurv.survival.cox import breslow_baseline_hazard, cox_information

__all__ = [
    "StepFunction",
    "breslow_baseline",
    "coef_covariance",
    "cumulative_hazard_functions",
    "format_summary",
    "survival_functions",
    "wald_table",
]

_SD_MIN = (
    1e-12  # as desurv.survival.cox: columns with sd <= this are constant (coef 0, no inference)
)
_RCOND = 1e-10  # information of standardised Z with eigenvalue ratio below this is singular

INFERENCE_CAVEAT = (
    "Wald inference treats Z = XW as fixed covariates although W was learned from the same "
    "data (with alpha > 0 also from the same survival outcomes): intervals are optimistic "
    "(anti-conservative)."
)
PENALTY_CAVEAT = (
    "With penalty > 0 the coefficients are shrunk towards 0 and the p-values are not valid tests."
)


# --------------------------------------------------------------------------------------------
# step functions
# --------------------------------------------------------------------------------------------
class StepFunction:
    r"""A callable right-continuous step function, compatible with scikit-survival's.

    ``f(z) = a · y_i + b`` for ``x_i ≤ z < x_{i+1}`` (and ``f(z) = a · y_0 + b`` for
    ``domain[0] ≤ z < x_0``, as scikit-survival does: the value at the first point is
    returned, not an extrapolation).  Same constructor, attributes, ``domain``, evaluation,
    ``repr`` and equality as ``sksurv.functions.StepFunction`` (scikit-survival 0.28), so
    code written for scikit-survival's survival functions accepts desurv's.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Points on the x-axis (e.g. times, in the units of the training times), ascending.
    y : ndarray of shape (n_points,)
        Values at ``x``.
    a : float, default=1.0
        Factor applied to ``y`` (e.g. the relative risk ``e^η`` of a cumulative hazard).
    b : float, default=0.0
        Offset added to ``a · y``.
    domain : tuple (lower, upper), default=(0, None)
        Interval of accepted arguments; ``None`` means ``x[0]`` (lower) or ``x[-1]`` (upper).

    Attributes
    ----------
    x, y : ndarray
        As given (not copied).
    a, b : float
        As given.

    Raises
    ------
    ValueError
        If ``x`` and ``y`` have different lengths.
    """

    def __init__(self, x, y, *, a=1.0, b=0.0, domain=(0, None)):
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)} points")
        self.x = x
        self.y = y
        self.a = a
        self.b = b
        lower = self.x[0] if domain[0] is None else domain[0]
        upper = self.x[-1] if domain[1] is None else domain[1]
        self._domain = (float(lower), float(upper))

    @property
    def domain(self):
        """``(lower, upper)``: the closed interval of accepted arguments (floats)."""
        return self._domain

    def __call__(self, x):
        """Evaluate the function.

        Parameters
        ----------
        x : float or array-like of shape (n_values,)
            Arguments, within :attr:`domain`.

        Returns
        -------
        float or ndarray of shape (n_values,)
            ``a · y_i + b`` with ``i`` the last point ``x_i ≤ x`` (the first point for
            arguments before ``x[0]``); a scalar when one value is asked.

        Raises
        ------
        ValueError
            If ``x`` has NaN/inf or values outside :attr:`domain`.
        """
        x = np.atleast_1d(x)
        if not np.isfinite(x).all():
            raise ValueError("x must be finite")
        if np.min(x) < self._domain[0] or np.max(x) > self._domain[1]:
            raise ValueError(f"x must be within [{self._domain[0]:f}; {self._domain[1]:f}]")
        i = np.searchsorted(self.x, x, side="right") - 1
        np.maximum(i, 0, out=i)
        value = self.a * np.asarray(self.y)[i] + self.b
        if value.shape[0] == 1:
            return value[0]
        return value

    def __repr__(self):
        return f"StepFunction(x={self.x!r}, y={self.y!r}, a={self.a!r}, b={self.b!r})"

    def __eq__(self, other):
        if isinstance(other, type(self)):
            return (
                all(self.x == other.x)
                and all(self.y == other.y)
                and self.a == other.a
                and self.b == other.b
            )
        return False


# --------------------------------------------------------------------------------------------
# Breslow baseline and per-sample functions
# --------------------------------------------------------------------------------------------
def breslow_baseline(eta, time, event):
    """Breslow (1972) cumulative baseline hazard on every distinct training time.

    ``H0(t) = Σ_{s ≤ t} d_s / Σ_{j: y_j ≥ s} e^{η_j}`` (s over the distinct event times), the
    hazard of a sample with η = 0: with desurv's centred η that is the average training
    sample (Z = mean of the training Z).  Evaluated at every distinct observed time, events
    and censorings, like scikit-survival's ``BreslowEstimator`` (``unique_times_``); H0 does
    not jump at censoring-only times.

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Training linear predictor, finite.
    time : array-like of shape (n_samples,)
        Training times (event or censoring), finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.

    Returns
    -------
    unique_times : ndarray of float64, shape (n_unique_times,)
        Distinct training times, ascending (units of ``time``).
    cumulative_hazard : ndarray of float64, shape (n_unique_times,)
        H0 at ``unique_times`` (nondecreasing, dimensionless).

    Raises
    ------
    ValueError
        Invalid or mismatched inputs, NaN/inf, negative times, no event
        (see :func:`desurv.survival.cox.breslow_baseline_hazard`).
    """
    return breslow_baseline_hazard(time, event, eta, all_times=True)


def _check_baseline(eta, unique_times, cumulative_hazard):
    eta = np.asarray(eta, dtype=np.float64)
    if eta.ndim != 1:
        raise ValueError(f"eta must be 1-D (n_samples,), got shape {eta.shape}")
    if not np.all(np.isfinite(eta)):
        raise ValueError("eta contains NaN or infinite values")
    times = np.asarray(unique_times, dtype=np.float64)
    h0 = np.asarray(cumulative_hazard, dtype=np.float64)
    if times.ndim != 1 or times.shape != h0.shape or times.size == 0:
        raise ValueError(
            "unique_times and cumulative_hazard must be 1-D of equal, nonzero length, got "
            f"shapes {times.shape} and {h0.shape}"
        )
    return eta, times, h0


def _baseline_and_risk(eta, unique_times, cumulative_hazard):
    """Checked baseline arrays and the relative risks e^η (inf where η overflows)."""
    eta, times, h0 = _check_baseline(eta, unique_times, cumulative_hazard)
    with np.errstate(over="ignore"):
        return times, h0, np.exp(eta)


def _step_functions(times, per_sample):
    """Object array of one :class:`StepFunction` on ``times`` per keyword set."""
    funcs = np.empty(len(per_sample), dtype=object)
    for i, kw in enumerate(per_sample):
        funcs[i] = StepFunction(x=times, **kw)
    return funcs


def _cumhaz(risk, h0):
    """``risk[:, None] * h0`` with 0 (not NaN) where H0 = 0, even for an infinite risk."""
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.multiply.outer(risk, h0)
    out[:, h0 == 0] = 0.0
    return out


def cumulative_hazard_functions(eta, unique_times, cumulative_hazard, return_array=False):
    """Per-sample cumulative hazard ``H(t | x) = e^{η(x)} H0(t)`` (Cox 1972).

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Linear predictor of each sample, on the same centring as the baseline.
    unique_times : ndarray of shape (n_unique_times,)
        Times of the baseline (see :func:`breslow_baseline`).
    cumulative_hazard : ndarray of shape (n_unique_times,)
        H0 at ``unique_times``.
    return_array : bool, default=False
        ``False``: an object array of :class:`StepFunction` (``x = unique_times``,
        ``y = H0``, ``a = e^η``), as scikit-survival.  ``True``: the values at
        ``unique_times``.

    Returns
    -------
    ndarray of StepFunction, shape (n_samples,), or ndarray of float64, shape
    (n_samples, n_unique_times)

    Raises
    ------
    ValueError
        ``eta`` not 1-D or not finite; baseline arrays empty or of different shapes.
    """
    times, h0, risk = _baseline_and_risk(eta, unique_times, cumulative_hazard)
    if return_array:
        return _cumhaz(risk, h0)
    return _step_functions(times, [dict(y=h0, a=float(r)) for r in risk])


def survival_functions(eta, unique_times, cumulative_hazard, return_array=False):
    """Per-sample survival ``S(t | x) = exp(−e^{η(x)} H0(t))`` (Cox 1972).

    Parameters
    ----------
    eta, unique_times, cumulative_hazard
        As for :func:`cumulative_hazard_functions`.
    return_array : bool, default=False
        ``False``: an object array of :class:`StepFunction` (``x = unique_times``,
        ``y = S(unique_times | x)``), as scikit-survival.  ``True``: the values at
        ``unique_times``.

    Returns
    -------
    ndarray of StepFunction, shape (n_samples,), or ndarray of float64, shape
    (n_samples, n_unique_times)
        Probabilities in [0, 1], nonincreasing in time.

    Raises
    ------
    ValueError
        ``eta`` not 1-D or not finite; baseline arrays empty or of different shapes.
    """
    times, h0, risk = _baseline_and_risk(eta, unique_times, cumulative_hazard)
    surv = np.exp(-_cumhaz(risk, h0))
    if return_array:
        return surv
    return _step_functions(times, [dict(y=row) for row in surv])


# --------------------------------------------------------------------------------------------
# Wald inference
# --------------------------------------------------------------------------------------------
def coef_covariance(Z, time, event, coef, ties="breslow"):
    """Covariance of the Cox coefficients from the observed information (Wald).

    ``Cov(β) = I(β)^{-1}`` with ``I = −∂²ℓ/∂β²`` the observed information of the plain Cox log
    partial likelihood ℓ (not the ℓ/n_event of the DeSurv objective) at the given β, treating
    ``Z`` as fixed covariates.  For numerical stability the information is formed on the
    standardised columns ``(z − mean)/sd`` (sd with ddof=1) at ``b = β ⊙ sd`` and mapped back
    (``Cov(β) = D⁻¹ Cov(b) D⁻¹``, D = diag(sd)); the result does not depend on that choice.
    No penalty enters: for a penalised β this is the curvature of ℓ alone at a shrunk point.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Training covariates (DeSurv: Z = XW), finite.
    time : array-like of shape (n_samples,)
        Training times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    coef : array-like of shape (n_features,)
        Fitted coefficients β on the scale of ``Z``.
    ties : {"breslow", "efron"}, default="breslow"
        Tie handling of the likelihood (use the fit's).

    Returns
    -------
    covariance : ndarray of float64, shape (n_features, n_features)
        Covariance of β on the scale of ``Z``.  Rows/columns of constant columns of ``Z``
        are NaN; everything is NaN when the information of the standardised columns is
        singular (smallest/largest eigenvalue ≤ 1e-10, e.g. collinear columns).

    Raises
    ------
    ValueError
        As :func:`desurv.survival.cox.cox_information`.
    """
    Z = np.asarray(Z, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-D (n_samples, n_features), got shape {Z.shape}")
    k = Z.shape[1]
    if coef.shape != (k,):
        raise ValueError(f"coef must have shape ({k},) (one per column of Z), got {coef.shape}")
    sd = Z.std(axis=0, ddof=1) if Z.shape[0] > 1 else np.zeros(k)
    keep = sd > _SD_MIN
    cov = np.full((k, k), np.nan)
    if not keep.any():
        return cov
    s = sd[keep]
    Zs = (Z[:, keep] - Z[:, keep].mean(axis=0)) / s
    _, _, info = cox_information(Zs, time, event, coef[keep] * s, ties=ties)
    evals, evecs = np.linalg.eigh(info)
    if not np.all(np.isfinite(evals)) or evals[0] <= _RCOND * max(evals[-1], 0.0):
        return cov  # singular to working precision (e.g. collinear columns of Z)
    cov_b = (evecs / evals) @ evecs.T
    cov[np.ix_(keep, keep)] = cov_b / np.outer(s, s)
    return cov


def wald_table(coef, covariance, sd_z, *, level=0.95, index=None, mark_zeroed=False):
    """Coefficient table with Wald standard errors, intervals, z and two-sided p.

    Columns: ``coef`` (β, per unit of Z), ``exp(coef)``, ``se`` (of β), ``coef_lower``,
    ``coef_upper`` (β ± z_{1−(1−level)/2}·se), ``z`` (β/se), ``p`` (2·Φ(−|z|)), ``sd_z``,
    ``coef_per_sd`` (β·sd_z), ``se_per_sd``, ``hazard_ratio_per_sd`` (exp(β·sd_z)) and
    ``hazard_ratio_per_sd_lower``/``_upper`` (the exponentiated interval of β·sd_z).
    ``z`` and ``p`` are the same per unit and per SD.  NaN where ``covariance`` is NaN.

    Parameters
    ----------
    coef : ndarray of shape (k,)
    covariance : ndarray of shape (k, k)
        Covariance of ``coef`` (see :func:`coef_covariance`).
    sd_z : ndarray of shape (k,)
        Training standard deviation of each covariate.
    level : float in (0, 1), default=0.95
        Confidence level of the intervals.
    index : pandas.Index, optional
        Row labels.
    mark_zeroed : bool, default=False
        Add a bool column ``zeroed_by_penalty`` (coef exactly 0) and set ``se``, the
        intervals, ``z``, ``p`` and ``se_per_sd`` of those rows to NaN: a coefficient the
        penalty removed from the model gets no Wald inference.

    Returns
    -------
    pandas.DataFrame of shape (k, 13), or (k, 14) with ``mark_zeroed``

    Raises
    ------
    ValueError
        ``level`` not in (0, 1), or shapes that do not match.
    """
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}")
    coef = np.asarray(coef, dtype=np.float64)
    sd = np.asarray(sd_z, dtype=np.float64)
    k = coef.shape[0]
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.shape != (k, k) or sd.shape != (k,):
        raise ValueError(
            f"covariance must be ({k}, {k}) and sd_z ({k},), got {cov.shape} and {sd.shape}"
        )
    q = float(ndtri(0.5 + level / 2.0))
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
        zeroed = coef == 0
        if mark_zeroed:
            se = np.where(zeroed, np.nan, se)
        z = coef / se
    p = 2.0 * ndtr(-np.abs(z))
    b, se_b = coef * sd, se * sd
    table = pd.DataFrame(
        {
            "coef": coef,
            "exp(coef)": np.exp(coef),
            "se": se,
            "coef_lower": coef - q * se,
            "coef_upper": coef + q * se,
            "z": z,
            "p": p,
            "sd_z": sd,
            "coef_per_sd": b,
            "se_per_sd": se_b,
            "hazard_ratio_per_sd": np.exp(b),
            "hazard_ratio_per_sd_lower": np.exp(b - q * se_b),
            "hazard_ratio_per_sd_upper": np.exp(b + q * se_b),
        },
        index=index,
    )
    if mark_zeroed:
        table["zeroed_by_penalty"] = zeroed
    return table


def format_summary(
    table, *, model, n_samples, n_events, ties, alpha=None, penalty=None, level=0.95
):
    """Readable text of a :func:`wald_table` (the body of ``print_summary``).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`wald_table`.
    model : str
        Model description for the header (e.g. ``"DeSurv(k=3, alpha=0.5, ...)"``).
    n_samples : int
        Training samples.
    n_events : int or None
        Observed training events (None: unknown, e.g. a model file without it).
    ties : str
        Tie handling of the fit.
    alpha : float, optional
        α of a DeSurv fit (supervision weight); shown when given.
    penalty : float, optional
        λ of the fit; shown and used to sharpen the caveat.
    level : float, default=0.95
        Confidence level of the intervals in ``table`` (for the column labels).

    Returns
    -------
    str
    """
    pct = f"{100 * level:g}%"
    cols = {
        "coef": "coef",
        "exp(coef)": "exp(coef)",
        "se": "se(coef)",
        "hazard_ratio_per_sd": "HR/SD",
        "hazard_ratio_per_sd_lower": f"HR/SD lower {pct}",
        "hazard_ratio_per_sd_upper": f"HR/SD upper {pct}",
        "z": "z",
        "p": "p",
    }
    shown = table[list(cols)].rename(columns=cols)
    header = [
        f"model = {model}",
        f"number of samples = {int(n_samples)}",
        f"number of events = {'unknown' if n_events is None else int(n_events)}",
        f"ties = {ties}",
    ]
    if alpha is not None:
        header.append(f"alpha (survival weight) = {alpha:g}")
    if penalty is not None:
        header.append(f"penalty (lambda) = {penalty:g}")
    width = max(len(line) for line in header)
    body = shown.to_string(
        float_format=lambda v: f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}"
    )
    if penalty is None:
        caveat = f"{INFERENCE_CAVEAT} {PENALTY_CAVEAT}"
    elif penalty > 0:
        caveat = (
            f"{INFERENCE_CAVEAT} The coefficients are penalised (penalty = {penalty:g}): "
            "they are shrunk towards 0 and the p-values are not valid tests."
        )
    else:
        caveat = f"{INFERENCE_CAVEAT} The Cox fit on Z is unpenalised (penalty = 0)."
    if "zeroed_by_penalty" in table.columns and table["zeroed_by_penalty"].any():
        dropped = ", ".join(map(str, table.index[table["zeroed_by_penalty"].to_numpy()]))
        caveat += (
            f" Zeroed by the penalty (coef = 0, no inference: se, z, p and intervals NaN): "
            f"{dropped}; the other rows use the information of the active factors only."
        )
    rule = "-" * max(width, len(body.splitlines()[0]))
    note = textwrap.fill("Note: " + caveat, width=max(len(rule), 60), break_on_hyphens=False)
    return "\n".join([*header, rule, body, rule, note])
