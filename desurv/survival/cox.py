"""Cox partial likelihood, its derivatives, elastic-net Cox fits and the Breslow baseline hazard.

Validated NumPy-in/NumPy-out wrappers around the compiled kernels in
:mod:`desurv._kernels._cox`.  Notation follows DESIGN.md §2: ``eta`` is the linear predictor
(η = Zβ), ``time``/``event`` the survival data (y, δ), ℓ(η) the Cox log partial likelihood,
``penalty`` the elastic-net strength λ and ``l1_ratio`` the mixing ξ.

Ties
----
Samples with exactly equal times form a tie group.  With ``ties="breslow"`` every event of a
group sees the full risk set ``{j : y_j >= t}``; with ``ties="efron"`` the r-th of the d tied
events sees the risk-set sum minus ``r/d`` of the tied events' share.

For repeated use on the same samples (the DeSurv solver), sort once with
:class:`SortedSurvival` and call the private ``_*_sorted`` helpers, which skip validation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from desurv._kernels import _cox
from desurv._validation import as_float64, check_time_event
from desurv.exceptions import ConvergenceWarning

__all__ = [
    "CoxnetResult",
    "SortedSurvival",
    "breslow_baseline_hazard",
    "cox_gradient",
    "cox_information",
    "cox_partial_log_likelihood",
    "coxnet_fit",
]

_TIES = ("breslow", "efron")
_SOLVERS = ("newton", "cd")
_SD_MIN = 1e-12  # columns with sd <= this are excluded from the elastic-net fit (coef 0)


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _check_ties(ties) -> bool:
    """Return ``True`` for Efron, ``False`` for Breslow; raise on anything else."""
    if not isinstance(ties, str) or ties.lower() not in _TIES:
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    return ties.lower() == "efron"


def _check_vector(x, name, n, per="sample in time/event") -> np.ndarray:
    """Return ``x`` as a finite 1-D float64 array of length ``n`` (one entry per ``per``)."""
    x = as_float64(x, name, "1-D array")
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
    if x.shape[0] != n:
        raise ValueError(f"{name} must have length {n} (one per {per}), got length {x.shape[0]}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _check_scalar(x, name, what, upper) -> float:
    """Return ``x`` as a float in ``[0, upper]`` (finite), else raise naming ``what``."""
    try:
        value = float(x) if np.ndim(x) == 0 else np.nan
    except (TypeError, ValueError):
        value = np.nan
    if not (np.isfinite(value) and 0.0 <= value <= upper):
        raise ValueError(f"{name} must be {what}, got {x!r}")
    return value


def _check_eta_surv(eta, time, event, ties):
    efron = _check_ties(ties)
    surv = SortedSurvival(time, event)
    eta = _check_vector(eta, "eta", surv.n_samples)
    return eta, surv, efron


# --------------------------------------------------------------------------------------------
# sorted survival data
# --------------------------------------------------------------------------------------------
class SortedSurvival:
    """Survival data sorted once by time, with the permutation to go back and forth.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Observed times (event or censoring), finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool.
    require_event : bool, default=True
        Raise if there is no observed event (the Cox likelihood is then empty).

    Attributes
    ----------
    order : ndarray of int64, shape (n_samples,)
        Stable sort order, ``np.argsort(time, kind="stable")``; ``a_sorted = a[order]``.
    inverse : ndarray of int64, shape (n_samples,)
        Inverse permutation; ``a = a_sorted[inverse]``.
    time : ndarray of float64, shape (n_samples,)
        Sorted times (C-contiguous).
    event : ndarray of float64, shape (n_samples,)
        Sorted event indicators as 0.0/1.0 (C-contiguous).
    n_event : int
        Number of observed events.
    n_samples : int
        Number of samples.

    Raises
    ------
    ValueError
        From :func:`desurv._validation.check_time_event`: non-1-D or mismatched inputs,
        NaN/inf or negative times, event values other than 0/1, no events.
    """

    def __init__(self, time, event, *, require_event: bool = True):
        time, event = check_time_event(time, event, require_event=require_event)
        self.order = np.argsort(time, kind="stable")
        self.inverse = np.empty_like(self.order)
        self.inverse[self.order] = np.arange(self.order.size)
        self.time = np.ascontiguousarray(time[self.order], dtype=np.float64)
        self.event = np.ascontiguousarray(event[self.order], dtype=np.float64)
        self.n_event = int(event.sum())
        self.n_samples = int(time.shape[0])

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        return f"SortedSurvival(n_samples={self.n_samples}, n_event={self.n_event})"

    def sort(self, a, axis: int = 0) -> np.ndarray:
        """Return ``a`` with its samples along ``axis`` put in time order (a copy)."""
        return np.take(np.asarray(a), self.order, axis=axis)

    def unsort(self, a, axis: int = 0) -> np.ndarray:
        """Inverse of :meth:`sort`: put time-ordered samples back in input order (a copy)."""
        return np.take(np.asarray(a), self.inverse, axis=axis)


# --------------------------------------------------------------------------------------------
# partial likelihood and gradient
# --------------------------------------------------------------------------------------------
def _loglik_sorted(eta_sorted, surv: SortedSurvival, efron: bool = False) -> float:
    """ℓ at a time-sorted, C-contiguous float64 ``eta_sorted``; no validation."""
    return _cox.cox_loglik(eta_sorted, surv.time, surv.event, efron)


def _stats_sorted(eta_sorted, surv: SortedSurvival, efron: bool = False, grad=None, weight=None):
    """``(ℓ, grad, weight)`` at a time-sorted ``eta_sorted``, all in sorted order.

    No validation.  ``grad`` and ``weight`` may be preallocated float64 C-contiguous arrays of
    length ``n_samples`` (they are overwritten and returned).
    """
    n = surv.n_samples
    if grad is None:
        grad = np.empty(n, dtype=np.float64)
    if weight is None:
        weight = np.empty(n, dtype=np.float64)
    ll = _cox.cox_stats(eta_sorted, surv.time, surv.event, grad, weight, efron)
    return ll, grad, weight


def cox_partial_log_likelihood(eta, time, event, ties="breslow") -> float:
    """Cox log partial likelihood ℓ(η).

    Breslow::

        ℓ(η) = Σ_t [ Σ_{i ∈ D_t} η_i − d_t · log Σ_{j: y_j ≥ t} exp(η_j) ]

    Efron replaces ``d_t · log S0_t`` by ``Σ_{r=0}^{d_t−1} log(S0_t − (r/d_t) Σ_{i∈D_t} e^{η_i})``.
    Here ``t`` runs over the distinct event times, ``D_t`` is the set of events at ``t`` and
    ``d_t = |D_t|``.  Computed in O(n) after one sort, in shifted (log-sum-exp) form, so
    ``|η|`` up to ~1e3 neither overflows nor loses the result.

    Parameters
    ----------
    eta : array-like of shape (n_samples,)
        Linear predictor η = Zβ, finite, in any sample order.
    time : array-like of shape (n_samples,)
        Observed times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied times.

    Returns
    -------
    loglik : float
        ℓ(η) (≤ 0).

    Raises
    ------
    ValueError
        If ``eta`` has NaN/inf or a length different from ``time``; ``time``/``event`` are
        invalid or contain no event; ``ties`` is not "breslow" or "efron".
    """
    eta, surv, efron = _check_eta_surv(eta, time, event, ties)
    return _loglik_sorted(np.ascontiguousarray(eta[surv.order]), surv, efron)


def cox_gradient(eta, time, event, ties="breslow"):
    """Cox log partial likelihood, its gradient and a diagonal majoriser of its Hessian.

    ``grad_i = ∂ℓ/∂η_i = δ_i − e^{η_i} h_i`` and ``weight_i = e^{η_i} h_i``, where for Breslow
    ``h_i = Σ_{t ≤ y_i} d_t / S0_t`` (cumulative baseline hazard at ``y_i``); for Efron the
    terms of ``h_i`` are the per-term coefficients ``Σ_r a_{t,r,i} / S_{t,r}`` with
    ``a = 1 − r/d_t`` for the tied events themselves.  ``diag(weight) ⪰ −∇²ℓ`` (Loewner
    order), so ``weight`` is the curvature used by coordinate descent (glmnet style).

    Parameters
    ----------
    eta, time, event, ties
        As for :func:`cox_partial_log_likelihood`.

    Returns
    -------
    loglik : float
        ℓ(η).
    grad : ndarray of float64, shape (n_samples,)
        ∂ℓ/∂η in input order; sums to zero.
    weight : ndarray of float64, shape (n_samples,)
        Diagonal majoriser ``e^η ∘ h`` of −∇²ℓ in input order (nonnegative).

    Raises
    ------
    ValueError
        Same conditions as :func:`cox_partial_log_likelihood`.
    """
    eta, surv, efron = _check_eta_surv(eta, time, event, ties)
    ll, g, w = _stats_sorted(np.ascontiguousarray(eta[surv.order]), surv, efron)
    return ll, g[surv.inverse], w[surv.inverse]


# --------------------------------------------------------------------------------------------
# elastic-net Cox: proximal Newton (default) and the reference coordinate descent
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoxnetResult:
    """Result of :func:`coxnet_fit`.

    Attributes
    ----------
    coef : ndarray of float64, shape (n_features,)
        Coefficients on the original scale of ``Z`` (``β_std / scale``; 0 for excluded
        constant columns).  The linear predictor is ``Z @ coef`` (the mean shift does not
        change the partial likelihood).
    mean : ndarray of float64, shape (n_features,)
        Column means of ``Z`` used for standardisation.
    scale : ndarray of float64, shape (n_features,)
        Column standard deviations of ``Z`` (ddof=1) used for standardisation; columns with
        ``scale <= 1e-12`` were excluded from the fit.
    n_iter : int
        Number of iterations done: proximal-Newton steps (``solver="newton"``) or
        coordinate-descent sweeps (``solver="cd"``).
    converged : bool
        Whether the last iteration met the tolerance.
    """

    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    n_iter: int
    converged: bool


def _coxnet_sorted(
    Zs,
    surv: SortedSurvival,
    beta_std,
    lam: float,
    l1_ratio: float,
    tol: float = 1e-6,
    max_iter: int = 500,
    efron: bool = False,
    penalty_factor=None,
    *,
    solver: str = "newton",
):
    """Elastic-net Cox on standardised, time-sorted covariates; no validation.

    Parameters
    ----------
    Zs : ndarray of float64, shape (n_samples, n_features)
        Standardised covariates with rows in ``surv`` (time) order; Fortran order avoids a copy.
    surv : SortedSurvival
    beta_std : ndarray of shape (n_features,)
        Warm start on the standardised scale (not modified).
    lam, l1_ratio, tol, max_iter, efron, penalty_factor, solver
        As in :func:`coxnet_fit` (``penalty_factor=None`` means all ones; ``solver`` must be
        ``"newton"`` or ``"cd"``, not checked).

    Returns
    -------
    beta_std : ndarray of float64, shape (n_features,)
        Solution on the standardised scale (a new array).
    n_iter : int
        Iterations done (Newton steps or coordinate-descent sweeps).
    converged : bool
    """
    Zs = np.asfortranarray(Zs, dtype=np.float64)
    beta = np.array(beta_std, dtype=np.float64, copy=True)
    k = Zs.shape[1]
    if penalty_factor is None:
        pf = np.ones(k, dtype=np.float64)
    else:
        pf = np.ascontiguousarray(penalty_factor, dtype=np.float64)
    kernel = _cox.coxnet_cd if solver == "cd" else _cox.coxnet_newton
    code = kernel(
        Zs,
        surv.time,
        surv.event,
        beta,
        float(lam),
        float(l1_ratio),
        pf,
        float(tol),
        int(max_iter),
        bool(efron),
    )
    return beta, abs(int(code)), code > 0


def coxnet_fit(
    Z,
    time,
    event,
    penalty,
    l1_ratio=0.5,
    *,
    beta_init=None,
    penalty_factor=None,
    ties="breslow",
    tol=1e-6,
    max_iter=500,
    solver="newton",
) -> CoxnetResult:
    """Elastic-net Cox regression (one penalty value).

    The columns of ``Z`` are standardised (``z_std = (z − mean) / sd``, sd with ddof=1, as the
    authors' reference) and the objective minimised over ``b`` (standardised scale) is::

        f(b) = −ℓ(Z_std b) / n_event + λ Σ_j pf_j [ ξ |b_j| + (1 − ξ)/2 · b_j² ]

    with λ = ``penalty`` and ξ = ``l1_ratio``.  Two solvers minimise the same ``f``:

    ``solver="newton"`` (default): proximal Newton, quadratic convergence.  Each iteration
    forms the exact gradient and Hessian of ℓ in ``b`` (O(n k²)), minimises the local
    quadratic model plus the penalty (coordinate descent with soft-thresholding alternated
    with exact active-set steps), then backtracks (step 1, ½, ¼, …) until ``f`` does not
    increase.  It stops when the accepted step has ``max_j |Δb_j| √v_j < tol`` with
    ``v_j = max(H_jj / n_event, 1e-12)`` (H = −∇²ℓ).  A few iterations suffice even when the
    columns of ``Z`` are strongly correlated (the usual case for ``Z = Xᵀ W``).

    ``solver="cd"``: the authors' reference scheme, kept to reproduce their results bit for
    bit.  Each sweep computes the gradient ``g`` and the diagonal majoriser ``w`` (see
    :func:`cox_gradient`) once, then updates every coordinate with that stale model:
    ``v = max(Σ w z_j² / n_event, 1e-12)``, ``u = Σ z_j g / n_event + v b_j``,
    ``b_j ← S(u, λξ pf_j) / (v + λ(1−ξ) pf_j)`` (S = soft-threshold), and stops when
    ``max_j |Δb_j| √v_j < tol``.  It converges linearly and very slowly on collinear ``Z``
    (thousands of sweeps and more).

    Either stops after ``max_iter`` iterations at most (with a
    :class:`~desurv.exceptions.ConvergenceWarning`).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Covariates (e.g. the DeSurv projections Xᵀ W), finite.
    time : array-like of shape (n_samples,)
        Observed times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    penalty : float
        Penalty strength λ ≥ 0 (per ``n_event``-scaled likelihood).
    l1_ratio : float, default=0.5
        Elastic-net mixing ξ ∈ [0, 1] (1 = lasso, 0 = ridge).
    beta_init : array-like of shape (n_features,), optional
        Warm start on the ORIGINAL scale of ``Z`` (converted to ``β · sd``); default zeros.
    penalty_factor : array-like of shape (n_features,), optional
        Nonnegative per-feature multipliers of λ (0 = unpenalised); default ones.
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied times.
    tol : float, default=1e-6
        Convergence tolerance on ``max_j |Δb_j| √v_j`` (≥ 0).
    max_iter : int, default=500
        Maximum number of iterations (≥ 1): Newton steps or coordinate-descent sweeps.
    solver : {"newton", "cd"}, default="newton"
        ``"newton"``: proximal Newton (the default).  ``"cd"``: the authors' reference
        coordinate descent, for reproducing their results exactly.

    Returns
    -------
    CoxnetResult
        ``coef`` on the original scale, the standardisation ``mean`` and ``scale``, ``n_iter``
        and ``converged``.  Columns with ``sd <= 1e-12`` get coefficient 0.

    Raises
    ------
    ValueError
        Invalid ``Z`` (not 2-D, empty, NaN/inf, wrong number of rows), invalid survival data
        or no events, ``penalty`` negative or not finite, ``l1_ratio`` outside [0, 1], bad
        ``ties``, ``tol`` negative, ``max_iter`` < 1, ``solver`` not "newton" or "cd", or
        ``beta_init``/``penalty_factor`` of the wrong length, not finite, or (penalty factor)
        negative.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` iterations end without meeting ``tol``.
    """
    efron = _check_ties(ties)
    if not isinstance(solver, str) or solver not in _SOLVERS:
        raise ValueError(f"solver must be 'newton' or 'cd', got {solver!r}")
    surv = SortedSurvival(time, event)
    Z = as_float64(Z, "Z", "2-D array")
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-D (n_samples, n_features), got shape {Z.shape}")
    n, k = Z.shape
    if k == 0:
        raise ValueError("Z has no columns (n_features = 0)")
    if n != surv.n_samples:
        raise ValueError(f"Z has {n} rows but time/event have length {surv.n_samples}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("Z contains NaN or infinite values")
    penalty = _check_scalar(penalty, "penalty", "a finite number >= 0", np.inf)
    l1_ratio = _check_scalar(l1_ratio, "l1_ratio", "in [0, 1]", 1.0)
    tol = _check_scalar(tol, "tol", "a finite number >= 0", np.inf)
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if penalty_factor is None:
        pf = np.ones(k)
    else:
        pf = _check_vector(penalty_factor, "penalty_factor", k, "column of Z")
        if np.any(pf < 0):
            raise ValueError("penalty_factor must be nonnegative")
    beta0 = (
        np.zeros(k)
        if beta_init is None
        else _check_vector(beta_init, "beta_init", k, "column of Z")
    )

    mean = Z.mean(axis=0)
    scale = Z.std(axis=0, ddof=1) if n > 1 else np.zeros(k)
    keep = scale > _SD_MIN
    coef = np.zeros(k)
    n_iter, converged = 0, True
    if keep.any():
        Zs = np.asfortranarray((Z[surv.order][:, keep] - mean[keep]) / scale[keep])
        beta_std, n_iter, converged = _coxnet_sorted(
            Zs,
            surv,
            beta0[keep] * scale[keep],
            penalty,
            l1_ratio,
            tol,
            max_iter,
            efron,
            pf[keep],
            solver=solver,
        )
        coef[keep] = beta_std / scale[keep]
        if not converged:
            what = "sweeps" if solver == "cd" else "Newton iterations"
            warnings.warn(
                f"coxnet_fit (solver={solver!r}) did not converge in {max_iter} {what} "
                f"(tol={tol}); increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
    return CoxnetResult(coef=coef, mean=mean, scale=scale, n_iter=n_iter, converged=converged)


# --------------------------------------------------------------------------------------------
# baseline hazard
# --------------------------------------------------------------------------------------------
def breslow_baseline_hazard(time, event, eta, *, all_times=False):
    """Breslow (1972) estimator of the cumulative baseline hazard.

    ``H0(t) = Σ_{s ≤ t} d_s / Σ_{j: y_j ≥ s} exp(η_j)`` over the distinct event times ``s``
    (Breslow, N. E. (1972), discussion of Cox (1972), JRSS B 34: 216–217), so that the
    survival of a sample with linear predictor η is ``exp(−H0(t) e^η)``.  The risk-set sums
    are formed in log-sum-exp form.  The baseline refers to η = 0, i.e. to whatever centring
    ``eta`` has (lifelines centres covariates; pass the centred η to match).  Tied events at
    one time all see the full risk set (Breslow's convention, whatever ties the fit used).

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Observed times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    eta : array-like of shape (n_samples,)
        Linear predictor of the fitted model, finite, any sample order.
    all_times : bool, default=False
        ``False``: return the distinct *event* times only.  ``True``: return every distinct
        observed time (events and censorings, as scikit-survival's ``unique_times_``); H0 does
        not jump at a time without events.

    Returns
    -------
    times : ndarray of float64, shape (n_times,)
        Distinct event times (or all distinct times with ``all_times=True``), ascending, in
        the units of ``time``.
    cumulative_baseline_hazard : ndarray of float64, shape (n_times,)
        H0 at each of ``times`` (right-continuous step function; 0 before the first event).

    Raises
    ------
    ValueError
        Same conditions as :func:`cox_partial_log_likelihood` (except ``ties``).
    """
    eta, surv, _ = _check_eta_surv(eta, time, event, "breslow")
    es = eta[surv.order]
    log_s0 = np.logaddexp.accumulate(es[::-1])[::-1]  # log Σ_{j >= i} exp(eta_j)
    t = surv.time
    start = np.ones(t.size, dtype=bool)
    start[1:] = t[1:] != t[:-1]
    starts = np.flatnonzero(start)
    d = np.add.reduceat(surv.event, starts)
    if all_times:
        return t[starts], np.cumsum(d * np.exp(-log_s0[starts]))
    has_event = d > 0
    jumps = d[has_event] * np.exp(-log_s0[starts][has_event])
    return t[starts][has_event], np.cumsum(jumps)


# --------------------------------------------------------------------------------------------
# derivatives in the coefficients (observed information)
# --------------------------------------------------------------------------------------------
def cox_information(Z, time, event, coef, ties="breslow"):
    """Cox log partial likelihood, its score and observed information in the coefficients.

    For η = Z·β (Cox 1972)::

        U(β) = ∂ℓ/∂β = Σ_t Σ_r [ Σ_{i ∈ D_t} z_i / d_t − S1_{t,r} / S0_{t,r} ]
        I(β) = −∂²ℓ/∂β∂βᵀ = Σ_t Σ_r [ S2_{t,r} / S0_{t,r} − (S1/S0)(S1/S0)ᵀ ]

    with ``S0, S1, S2`` the risk-set sums of ``e^η``, ``e^η z`` and ``e^η z zᵀ`` (Breslow: the
    full risk set, counted ``d_t`` times; Efron: the r-th tied event sees the set minus
    ``r/d_t`` of the tied events).  This is the plain ℓ, *not* the ℓ/n_event of the DeSurv
    objective (DESIGN.md §2): ``I`` is the information used for Wald inference, and the
    solver's curvature is ``I / n_event``.  One O(n k²) pass after one sort (compiled
    kernel ``cox_beta_derivatives``, log-sum-exp shifted).

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
        Covariates, finite.
    time : array-like of shape (n_samples,)
        Observed times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    coef : array-like of shape (n_features,)
        Coefficients β at which to evaluate (on the scale of ``Z``).
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied times.

    Returns
    -------
    loglik : float
        ℓ(Zβ).
    score : ndarray of float64, shape (n_features,)
        ∂ℓ/∂β.
    information : ndarray of float64, shape (n_features, n_features)
        Observed information −∂²ℓ/∂β², symmetric positive semidefinite.

    Raises
    ------
    ValueError
        Invalid ``Z`` (not 2-D, no columns, NaN/inf, wrong number of rows), invalid survival
        data or no events, ``coef`` of the wrong length or not finite, bad ``ties``.
    """
    efron = _check_ties(ties)
    surv = SortedSurvival(time, event)
    Z = as_float64(Z, "Z", "2-D array")
    if Z.ndim != 2 or Z.shape[1] == 0:
        raise ValueError(f"Z must be 2-D (n_samples, n_features >= 1), got shape {Z.shape}")
    n, k = Z.shape
    if n != surv.n_samples:
        raise ValueError(f"Z has {n} rows but time/event have length {surv.n_samples}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("Z contains NaN or infinite values")
    coef = _check_vector(coef, "coef", k, "column of Z")
    Zs = np.asfortranarray(Z[surv.order])
    eta = np.ascontiguousarray(Zs @ coef)
    score = np.empty(k, dtype=np.float64)
    info = np.empty((k, k), dtype=np.float64, order="F")
    ll = _cox.cox_beta_derivatives(Zs, surv.time, surv.event, eta, score, info, efron)
    return float(ll), score, np.ascontiguousarray(info)
