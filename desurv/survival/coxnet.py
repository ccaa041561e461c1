"""CoxNet baseline: elastic-net Cox regression on genes with cross-validated penalty.

The baseline DeSurv is compared with (DESIGN.md §6): the same elastic-net Cox model, fitted on
all genes instead of on the k DeSurv projections.  For each penalty λ of a decreasing path it
minimises (the scaling of :func:`desurv.survival.cox.coxnet_fit`)::

    f(β) = −ℓ(Xβ) / n_event + λ Σ_j pf_j [ ξ |β_j| + (1 − ξ)/2 · β_j² ]

on the standardised genes (mean 0, sd 1 with ddof = 1), where ℓ is the Cox log partial
likelihood.  The path is fitted by the compiled glmnet-style coordinate descent of
:mod:`desurv._kernels._coxnet_path` (warm starts, strong-rule screening, KKT checks), with
the exact curvature of the partial likelihood in its quadratic model by default.

Relation to scikit-survival's ``CoxnetSurvivalAnalysis``, which minimises
``−ℓ/n + α P(b)``: on the same standardised design, its ``alpha`` equals λ·n_event/n.  With
``normalize=True`` it divides centred columns by their ℓ2 norm (sd·√(n−1) with ddof = 1)
instead of by the sd, which rescales the ℓ1 and ℓ2 parts of the penalty differently (see
``tests/test_coxnet.py`` for the exact map).  It also rescales ``penalty_factor`` to sum to
n_features; we use the factors as given.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from math import lgamma

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from desurv._folds import fold_indices, stratified_folds
from desurv._kernels import _coxnet_path as _K
from desurv._validation import (
    check_scale,
    check_values,
    columns_for_model,
    extract_X,
    is_anndata,
    survival_from_y,
    survival_tags,
)
from desurv.exceptions import ConvergenceWarning
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import SortedSurvival

__all__ = ["CoxNet", "CoxnetPath", "coxnet_path"]

_SD_MIN = 1e-12  # columns with sd <= this are constant: excluded, coefficient 0
_XI_MIN = 1e-3  # λ_max uses max(ξ, 1e-3) so that a ridge path starts somewhere (glmnet)
_SCORINGS = ("deviance", "cindex")
_RULES = ("max", "1se")


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _check_matrix(X, name="X", *, layer=None):
    """Return (finite float64 array (n_samples, n_features), feature names or None).

    Arrays, DataFrames and AnnData (``layer`` selects a layer) are accepted; sparse,
    complex, boolean and non-numeric input, duplicated names and NaN/inf are rejected (see
    :func:`desurv._validation.extract_X`). Values may be negative.
    """
    values, names, samples = extract_X(X, name, layer=layer)
    return check_values(values, name, nonnegative=False, samples=samples, features=names), names


def _check_l1_ratio(l1_ratio):
    if isinstance(l1_ratio, bool) or not np.isscalar(l1_ratio):
        raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}")
    value = float(l1_ratio)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"l1_ratio must be in [0, 1] (1 = lasso, 0 = ridge), got {l1_ratio!r}")
    return value


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(value, name, allow_zero=True):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        what = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {what}, got {value!r}")
    return v


def _check_ties(ties):
    if not isinstance(ties, str) or ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    return ties == "efron"


def _check_hessian(hessian):
    if not isinstance(hessian, str) or hessian not in ("exact", "diagonal"):
        raise ValueError(f"hessian must be 'exact' or 'diagonal', got {hessian!r}")
    return hessian == "exact"


def _check_alphas(alphas):
    try:
        a = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"alphas must be a 1-D array of numbers, got {alphas!r}") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("alphas must be finite and >= 0")
    if np.any(np.diff(a) > 0):
        raise ValueError(
            "alphas must be in decreasing order (the path is fitted from the largest penalty "
            "down, with warm starts); pass np.sort(alphas)[::-1]"
        )
    return a


def _check_penalty_factor(penalty_factor, p):
    if penalty_factor is None:
        return np.ones(p)
    try:
        pf = np.asarray(penalty_factor, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("penalty_factor must be a 1-D array of numbers") from None
    if pf.shape != (p,):
        raise ValueError(
            f"penalty_factor must have one entry per feature ({p}), got shape {pf.shape}"
        )
    if not np.all(np.isfinite(pf)) or np.any(pf < 0):
        raise ValueError("penalty_factor must be finite and >= 0 (0 = unpenalised)")
    return pf


def _check_alpha_min_ratio(alpha_min_ratio, n, p):
    if isinstance(alpha_min_ratio, str):
        if alpha_min_ratio != "auto":
            raise ValueError(
                f"alpha_min_ratio must be 'auto' or a number in (0, 1], got {alpha_min_ratio!r}"
            )
        return 1e-4 if n > p else 1e-2  # glmnet's default
    value = _check_positive(alpha_min_ratio, "alpha_min_ratio", allow_zero=False)
    if value > 1:
        raise ValueError(f"alpha_min_ratio must be in (0, 1], got {alpha_min_ratio!r}")
    return value


# --------------------------------------------------------------------------------------------
# one training set, standardised and sorted by time
# --------------------------------------------------------------------------------------------
class _Design:
    """Standardised, time-sorted design of one training set (the kernel's layout)."""

    def __init__(self, X, time, event, standardize):
        self.surv = SortedSurvival(time, event)
        n, p = X.shape
        self.n_features = p
        self.mean = X.mean(axis=0)
        sd = X.std(axis=0, ddof=1) if n > 1 else np.zeros(p)
        self.keep = np.flatnonzero(sd > _SD_MIN)
        self.scale = sd if standardize else np.ones(p)
        Xk = X[self.surv.order][:, self.keep]
        self.Xs = np.asfortranarray((Xk - self.mean[self.keep]) / self.scale[self.keep])

    def to_original(self, coef_std):
        """Coefficients (n_keep, L) on the standardised scale → (n_features, L) original."""
        out = np.zeros((self.n_features, coef_std.shape[1]))
        out[self.keep] = coef_std / self.scale[self.keep, None]
        return out


def _start(design, l1_ratio, pf, efron, exact, tol, max_iter):
    """Null model (unpenalised features fitted if pf has zeros) and λ_max there.

    λ_max = max_j |x_jᵀ g| / (n_event · max(ξ, 1e-3) · pf_j) over penalised j, the smallest λ
    at which every penalised coefficient is zero (KKT at the null model).
    """
    Xs, surv = design.Xs, design.surv
    n, q = Xs.shape
    beta = np.zeros(q)
    unpen = np.flatnonzero(pf == 0)
    if unpen.size:
        _, ok, _ = _K.coxnet_solve(
            Xs,
            surv.time,
            surv.event,
            efron,
            exact,
            1.0,
            l1_ratio,
            pf,
            beta,
            Xs @ beta,
            unpen.astype(np.int64),
            unpen.size,
            np.empty(q, dtype=np.int64),
            np.zeros(q, dtype=bool),
            0,
            tol,
            max_iter,
        )
        if not ok:
            warnings.warn(
                "the Cox fit of the unpenalised features (penalty_factor = 0) did not converge "
                f"within max_iter={max_iter} sweeps; increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=4,
            )
    grad, w = np.empty(n), np.empty(n)
    _K.cox_diag_stats(np.ascontiguousarray(Xs @ beta), surv.time, surv.event, efron, grad, w)
    c = np.abs(Xs.T @ grad) / surv.n_event
    pen = pf > 0
    lam_max = float(np.max(c[pen] / (max(l1_ratio, _XI_MIN) * pf[pen]))) if pen.any() else 0.0
    return beta, lam_max


def _fit_design(design, alphas, spec, screening=True):
    """Fit a path on one design; ``alphas=None`` builds the default path from its λ_max.

    Returns ``(alphas, coef (n_features, L) on the original scale, n_iter, converged,
    λ_max)``.
    """
    pf = np.ascontiguousarray(spec.pf[design.keep])
    q = design.keep.size
    beta, lam_max = np.zeros(q), 0.0
    if q:
        beta, lam_max = _start(
            design, spec.l1_ratio, pf, spec.efron, spec.exact, spec.tol, spec.max_iter
        )
    if alphas is None:
        alphas = _default_alphas(lam_max, spec.n_alphas, spec.alpha_min_ratio)
    L = alphas.shape[0]
    coef = np.zeros((q, L))
    n_iter = np.zeros(L, dtype=np.int64)
    conv = np.ones(L, dtype=bool)
    if q:
        _K.coxnet_path(
            design.Xs,
            design.surv.time,
            design.surv.event,
            spec.efron,
            spec.exact,
            alphas,
            spec.l1_ratio,
            pf,
            beta,
            max(lam_max, float(alphas[0])),
            spec.tol,
            spec.max_iter,
            bool(screening),
            coef,
            n_iter,
            conv,
        )
    return alphas, design.to_original(coef), n_iter, conv, lam_max


# --------------------------------------------------------------------------------------------
# public path function
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoxnetPath:
    """Result of :func:`coxnet_path`.

    Attributes
    ----------
    alphas : ndarray of float64, shape (n_alphas,)
        Penalties λ, decreasing (scaling of :func:`desurv.survival.cox.coxnet_fit`).
    coef : ndarray of float64, shape (n_features, n_alphas)
        Coefficients on the original scale of X, one column per λ (0 for constant columns).
    mean, scale : ndarray of float64, shape (n_features,)
        Column means and the divisors used for standardisation (sd with ddof = 1, or ones
        with ``standardize=False``).
    alpha_max : float
        λ_max, the smallest λ at which every penalised coefficient is zero (for ξ < 1e-3 the
        λ_max of ξ = 1e-3, as glmnet).
    n_iter : ndarray of int64, shape (n_alphas,)
        Coordinate-descent sweeps used for each λ.
    converged : ndarray of bool, shape (n_alphas,)
        Whether each λ met the tolerance within ``max_iter`` sweeps.
    """

    alphas: np.ndarray
    coef: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    alpha_max: float
    n_iter: np.ndarray
    converged: np.ndarray


def _default_alphas(lam_max, n_alphas, ratio):
    if not lam_max > 0:  # no gradient at the null model: every λ gives β = 0
        lam_max = 1.0
    return np.geomspace(lam_max, lam_max * ratio, n_alphas)


def coxnet_path(
    X,
    time,
    event,
    *,
    l1_ratio=0.5,
    alphas=None,
    n_alphas=100,
    alpha_min_ratio="auto",
    penalty_factor=None,
    standardize=True,
    ties="breslow",
    hessian="exact",
    tol=1e-7,
    max_iter=100_000,
    screening=True,
) -> CoxnetPath:
    """Elastic-net Cox regularisation path by coordinate descent (glmnet style).

    For each λ (decreasing, warm-started from the previous solution) minimises::

        f(β) = −ℓ(X_std β) / n_event + λ Σ_j pf_j [ ξ |β_j| + (1 − ξ)/2 · β_j² ]

    with X_std the columns centred and divided by their sd (ddof = 1; or only centred with
    ``standardize=False``) and ℓ the Cox log partial likelihood (Simon et al. 2011).  The
    default path has ``n_alphas`` values log-spaced from λ_max (the smallest λ with every
    penalised coefficient zero) down to ``alpha_min_ratio · λ_max``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Covariates (e.g. expression of genes), finite; need not be nonnegative.
    time : array-like of shape (n_samples,)
        Observed times, finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator, 0/1 or bool; at least one event.
    l1_ratio : float in [0, 1], default=0.5
        Elastic-net mixing ξ (1 = lasso, 0 = ridge; λ_max then uses ξ = 1e-3, as glmnet).
    alphas : array-like of shape (n_alphas,), optional
        The penalties λ, in decreasing order; default: the log-spaced path described above.
    n_alphas : int, default=100
        Length of the default path.
    alpha_min_ratio : float in (0, 1] or "auto", default="auto"
        λ_min/λ_max of the default path; "auto" is 1e-4 when n_samples > n_features, else
        1e-2 (glmnet).
    penalty_factor : array-like of shape (n_features,), optional
        Nonnegative multipliers of λ per feature (0 = unpenalised); used as given.
    standardize : bool, default=True
        Penalise the coefficients of the standardised columns (sd, ddof = 1).
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied event times.
    hessian : {"exact", "diagonal"}, default="exact"
        Curvature of the quadratic model of −ℓ in each outer iteration.  "diagonal" is
        glmnet's and scikit-survival's IRLS model (weights −∂²ℓ/∂η_i²): linear convergence,
        which crawls at small λ (hundreds of outer iterations per λ near saturation).
        "exact" uses the full −∂²ℓ/∂η² (diagonal plus one rank-one term per event, applied in
        O(n) through risk-set sums), so the outer loop is a proximal Newton method; same
        solution, typically 10-100× fewer sweeps at small λ.
    tol : float, default=1e-7
        Convergence tolerance on ``max_j |Δβ_j| √v_j`` (v_j = x_jᵀ M x_j / n_event with M the
        model's curvature, β on the standardised scale).
    max_iter : int, default=100000
        Maximum coordinate-descent sweeps per λ.
    screening : bool, default=True
        Use the sequential strong rule (with a KKT check afterwards, so the solution does
        not depend on it).

    Returns
    -------
    CoxnetPath

    Raises
    ------
    ValueError
        Invalid X (not 2-D, empty, NaN/inf, wrong number of rows), invalid survival data or
        no event, ``l1_ratio`` outside [0, 1], ``alphas`` not decreasing or negative, bad
        ``penalty_factor``/``alpha_min_ratio``/``ties``/``tol``/``max_iter``/``n_alphas``,
        or fewer than 2 samples.

    Warns
    -----
    ConvergenceWarning
        When some λ did not converge within ``max_iter`` sweeps.
    """
    X, _ = _check_matrix(X)
    check_scale(X, what="feature")
    spec = _PathSpec.build(
        X.shape,
        l1_ratio=l1_ratio,
        alphas=alphas,
        n_alphas=n_alphas,
        alpha_min_ratio=alpha_min_ratio,
        penalty_factor=penalty_factor,
        standardize=standardize,
        ties=ties,
        hessian=hessian,
        tol=tol,
        max_iter=max_iter,
    )
    time_, event_ = survival_from_y(None, time, event, n_samples=X.shape[0])
    res = spec.fit(X, time_, event_, screening=screening)
    _warn_convergence(res.converged, "coxnet_path", spec.max_iter)
    return res


def _warn_convergence(converged, where, max_iter):
    bad = int(np.size(converged) - np.count_nonzero(converged))
    if bad:
        warnings.warn(
            f"{where}: {bad} penalty value(s) did not converge within max_iter={max_iter} "
            "coordinate-descent sweeps; increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class _PathSpec:
    """Validated settings of a path fit (shared by coxnet_path and CoxNet)."""

    l1_ratio: float
    alphas: np.ndarray | None
    n_alphas: int
    alpha_min_ratio: float
    pf: np.ndarray
    standardize: bool
    efron: bool
    exact: bool
    tol: float
    max_iter: int

    @classmethod
    def build(
        cls,
        shape,
        *,
        l1_ratio,
        alphas,
        n_alphas,
        alpha_min_ratio,
        penalty_factor,
        standardize,
        ties,
        hessian,
        tol,
        max_iter,
    ):
        n, p = shape
        if n < 2:
            raise ValueError(f"at least 2 samples are required, got {n}")
        pf = _check_penalty_factor(penalty_factor, p)
        if not np.any(pf > 0):
            raise ValueError(
                "penalty_factor has no positive entry: at least one feature must be penalised "
                "(an unpenalised Cox model needs no path)"
            )
        return cls(
            l1_ratio=_check_l1_ratio(l1_ratio),
            alphas=None if alphas is None else _check_alphas(alphas),
            n_alphas=_check_int(n_alphas, "n_alphas", 1),
            alpha_min_ratio=_check_alpha_min_ratio(alpha_min_ratio, n, p),
            pf=pf,
            standardize=bool(standardize),
            efron=_check_ties(ties),
            exact=_check_hessian(hessian),
            tol=_check_positive(tol, "tol"),
            max_iter=_check_int(max_iter, "max_iter", 1),
        )

    def fit(self, X, time, event, alphas=None, screening=True) -> CoxnetPath:
        """Fit on (X, time, event); ``alphas`` overrides the configured path (CV folds)."""
        design = _Design(X, time, event, self.standardize)
        alphas, coef, n_iter, conv, lam_max = _fit_design(
            design, self.alphas if alphas is None else alphas, self, screening
        )
        return CoxnetPath(
            alphas=np.array(alphas, dtype=np.float64),
            coef=coef,
            mean=design.mean,
            scale=design.scale,
            alpha_max=float(lam_max),
            n_iter=n_iter,
            converged=conv,
        )


# --------------------------------------------------------------------------------------------
# cross-validation scores
# --------------------------------------------------------------------------------------------
def _saturated_loglik(time, event, efron):
    """Supremum of ℓ over η: −Σ_t d_t log d_t (Breslow) or −Σ_t log d_t! (Efron)."""
    _, d = np.unique(np.asarray(time)[np.asarray(event, dtype=bool)], return_counts=True)
    if efron:
        return -float(sum(lgamma(k + 1.0) for k in d))
    return -float(np.sum(d * np.log(d)))


def _logliks(eta, surv, efron):
    """ℓ of every column of ``eta`` (n, L) (input sample order)."""
    E = np.asfortranarray(eta[surv.order])
    out = np.empty(E.shape[1])
    for l in range(E.shape[1]):
        out[l] = _K.cox_loglik(E[:, l], surv.time, surv.event, efron)
    return out


def _fold_scores(X, time, event, train, test, spec, alphas, scoring, surv_full, sat_full):
    """Fit the path on ``train`` and score every λ on ``test``; returns (scores, converged)."""
    path = spec.fit(X[train], time[train], event[train], alphas=alphas)
    n_test_events = int(event[test].sum())
    if scoring == "deviance":
        # Verweij & van Houwelingen (1993): ℓ_full(β_{-k}) − ℓ_{-k}(β_{-k}), as a deviance
        # per test event with the saturated likelihoods of glmnet's "grouped" measure.
        if n_test_events == 0:
            return np.full(alphas.size, np.nan), path.converged
        eta = (X - path.mean) @ path.coef  # centred: ℓ is shift-invariant, rounding is not
        ll_full = _logliks(eta, surv_full, spec.efron)
        surv_tr = SortedSurvival(time[train], event[train])
        ll_train = _logliks(eta[train], surv_tr, spec.efron)
        sat_train = _saturated_loglik(time[train], event[train], spec.efron)
        dev = -2.0 * ((ll_full - ll_train) - (sat_full - sat_train))
        return dev / n_test_events, path.converged
    eta = (X[test] - path.mean) @ path.coef
    scores = np.full(alphas.size, np.nan)
    for l in range(alphas.size):
        try:
            scores[l] = concordance_index(time[test], event[test], eta[:, l])
        except ValueError:  # no comparable pair in this fold: C undefined
            break
    return scores, path.converged


def _weighted_mean_se(scores, weights):
    """glmnet's cvm and cvsd: means weighted by test events, se = sqrt(weighted var/(N−1))."""
    ok = np.isfinite(scores)
    w = np.where(ok, weights[:, None], 0.0)
    s = np.where(ok, scores, 0.0)
    wsum = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w * s).sum(axis=0) / wsum
        var = (w * (s - mean) ** 2).sum(axis=0) / wsum
        n_ok = ok.sum(axis=0)
        se = np.sqrt(var / (n_ok - 1))
    return mean, se


def _select(mean, se, scoring, rule):
    """Index of the chosen λ: best mean ("max") or the largest λ within 1 SE ("1se")."""
    if not np.any(np.isfinite(mean)):
        raise ValueError(
            "no finite cross-validation score: every fold lacks events or comparable pairs; "
            "use fewer folds (cv) or more samples"
        )
    sign = 1.0 if scoring == "cindex" else -1.0  # maximise sign * mean
    m = np.where(np.isfinite(mean), sign * mean, -np.inf)
    best = int(np.argmax(m))  # first = largest λ among ties
    if rule == "max":
        return best
    bound = m[best] - (se[best] if np.isfinite(se[best]) else 0.0)
    return int(np.flatnonzero(m >= bound)[0])


def _resolve_folds(cv, event, groups, random_state):
    """Fold id per sample from ``cv`` (a number of folds, or the fold ids themselves)."""
    if np.ndim(cv) == 0:
        n_folds = _check_int(cv, "cv", 2)
        return stratified_folds(event, n_folds, groups=groups, random_state=random_state), n_folds
    folds = np.asarray(cv)
    n = event.shape[0]
    if folds.shape != (n,) or not np.issubdtype(folds.dtype, np.integer):
        raise ValueError(
            f"cv must be an integer >= 2 or an integer array of fold ids with one entry per "
            f"sample ({n}), got {folds.dtype} array of shape {folds.shape}"
        )
    n_folds = int(folds.max()) + 1
    sizes = np.bincount(folds, minlength=n_folds) if folds.min() >= 0 else None
    if sizes is None or n_folds < 2 or np.any(sizes == 0):
        raise ValueError("cv fold ids must be 0 … K−1 with K >= 2 and every fold non-empty")
    return folds.astype(np.int64), n_folds


# --------------------------------------------------------------------------------------------
# estimator
# --------------------------------------------------------------------------------------------
class CoxNet(BaseEstimator):
    """Elastic-net Cox regression with the penalty chosen by internal cross-validation.

    The CoxNet baseline of the DeSurv paper: a Cox model on all genes, penalised by the
    elastic net (Simon et al. 2011, glmnet), with λ chosen on folds stratified by event (and
    cohort).  Minimises, for each λ of a decreasing path::

        f(β) = −ℓ(X_std β) / n_event + λ Σ_j pf_j [ ξ |β_j| + (1 − ξ)/2 · β_j² ]

    (see :func:`coxnet_path`; scikit-survival's ``alpha`` is λ·n_event/n on the same
    standardised design).

    Parameters
    ----------
    l1_ratio : float in [0, 1], default=0.5
        ξ, elastic-net mixing (1 = lasso, 0 = ridge).
    n_alphas : int, default=100
        Length of the default λ path.
    alpha_min_ratio : float in (0, 1] or "auto", default="auto"
        λ_min/λ_max of the default path ("auto": 1e-4 if n_samples > n_features else 1e-2).
    alphas : array-like, optional
        The λ path, decreasing; default log-spaced from λ_max computed on all samples.
    cv : int or array-like of shape (n_samples,), default=5
        Number of cross-validation folds (≥ 2), stratified by event and by ``groups``
        (:func:`desurv._folds.stratified_folds`); or the fold id (0 … K−1) of every sample,
        e.g. the folds used to tune DeSurv, so that both are validated on the same splits.
    scoring : {"deviance", "cindex"}, default="deviance"
        "deviance": the cross-validated partial likelihood of Verweij & van Houwelingen
        (1993) as glmnet's grouped deviance, per test event (lower is better).  "cindex":
        Harrell's C of the held-out linear predictor (higher is better).
    rule : {"max", "1se"}, default="max"
        "max": the λ with the best mean score; "1se": the largest λ whose mean score is
        within one standard error of the best (a sparser model).
    penalty_factor : array-like of shape (n_features,), optional
        Nonnegative per-feature multipliers of λ (0 = unpenalised), used as given.
    standardize : bool, default=True
        Penalise coefficients of the standardised features (sd with ddof = 1).
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied event times.
    hessian : {"exact", "diagonal"}, default="exact"
        Curvature of the quadratic model: exact (proximal Newton) or glmnet's diagonal (see
        :func:`coxnet_path`).
    tol : float, default=1e-7
        Tolerance on ``max_j |Δβ_j| √v_j`` of the coordinate descent.
    max_iter : int, default=100000
        Maximum coordinate-descent sweeps per λ.
    random_state : int, numpy Generator or None
        Seed of the fold assignment.
    n_jobs : int or None, default=None
        Folds fitted in parallel threads (the compiled kernel releases the GIL); results do
        not depend on it.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
        The λ path (decreasing).
    coef_path_ : ndarray of shape (n_features, n_alphas)
        Coefficients on the original scale of X, fitted on all samples, per λ.
    cv_scores_ : ndarray of shape (cv, n_alphas)
        Score of each fold at each λ (NaN where undefined, e.g. a fold without events).
    cv_mean_, cv_se_ : ndarray of shape (n_alphas,)
        Means weighted by the number of test events per fold, and their standard errors
        ``sqrt(weighted variance / (n_folds − 1))`` (glmnet's cvm and cvsd).
    best_index_ : int
        Position of the chosen λ in ``alphas_``.
    alpha_ : float
        The chosen λ.
    coef_ : ndarray of shape (n_features,)
        Coefficients at ``alpha_`` (original scale).
    alpha_max_ : float
        λ_max on all samples.
    mean_, scale_ : ndarray of shape (n_features,)
        Training means and standardisation divisors (sd, or ones with standardize=False).
    sd_ : ndarray of shape (n_features,)
        Training standard deviations (ddof = 1), for hazard ratios per SD.
    folds_ : ndarray of int64, shape (n_samples,)
        Fold of each training sample.
    n_iter_ : ndarray of shape (n_alphas,)
        Coordinate-descent sweeps per λ of the full-data path.
    converged_ : bool
        Whether every λ of every fit converged.
    n_features_in_ : int
        Number of features seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Feature names seen in :meth:`fit` (DataFrame columns or AnnData ``var_names``); only
        when X had names. New data with names is then aligned by name.

    Notes
    -----
    A scikit-learn estimator (``clone``, ``Pipeline``, ``GridSearchCV``; NotFittedError before
    fit). X may be an array, a DataFrame or an AnnData object (``layer=``; ``time``/``event``
    may name ``adata.obs`` columns); ``y`` is survival data with one bool and one float field
    of any names (see :func:`desurv._validation.survival_from_y`). Sparse, complex, boolean
    and non-numeric X, duplicated names, NaN/inf, and X on which the fit is meaningless (all
    zero, every feature constant, values whose squares overflow or underflow float64) are
    rejected with a ValueError.
    """

    def __init__(
        self,
        l1_ratio=0.5,
        n_alphas=100,
        alpha_min_ratio="auto",
        alphas=None,
        cv=5,
        scoring="deviance",
        rule="max",
        penalty_factor=None,
        standardize=True,
        ties="breslow",
        hessian="exact",
        tol=1e-7,
        max_iter=100_000,
        random_state=None,
        n_jobs=None,
    ):
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring
        self.rule = rule
        self.penalty_factor = penalty_factor
        self.standardize = standardize
        self.ties = ties
        self.hessian = hessian
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    # --- scikit-learn protocol (get_params/set_params/__repr__ come from BaseEstimator) ---
    def __sklearn_tags__(self):
        """Tags for scikit-learn: a survival target is required."""
        return survival_tags(super().__sklearn_tags__())

    # --- fitting ---
    def fit(self, X, y=None, *, time=None, event=None, groups=None, layer=None):
        """Fit the path on all samples and choose λ by cross-validation.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
            Covariates (e.g. rank-transformed expression), finite, any real dtype.
        y : structured array or pandas.DataFrame of shape (n_samples,)
            Survival data: one bool field (event) and one float field (time), whatever their
            names (:func:`desurv.make_survival_y`, ``sksurv.util.Surv``), or a two-column
            DataFrame; or pass ``time=`` and ``event=``.
        time, event : array-like of shape (n_samples,) or str, optional
            Instead of ``y``; with AnnData X a string names a column of ``adata.obs``.
        groups : array-like of shape (n_samples,), optional
            Cohort labels; folds are balanced per cohort and event status.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` instead of ``adata.X``; remembered as
            ``fit_layer_``, the default layer of later AnnData input.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid X (sparse, complex/bool/non-numeric, duplicated names, NaN/inf; all zero,
            every feature constant, or values that overflow/underflow float64 products) or
            survival data, bad parameters (see :func:`coxnet_path`), ``scoring``
            or ``rule`` not recognised, ``cv`` < 2 or > n_samples (or fold ids that are not
            0 … K−1 with every fold used), ``groups`` of the wrong length, or no fold with a
            finite score.

        Warns
        -----
        ConvergenceWarning
            When some λ of some fit did not converge.
        DataWarning
            When a fold has no events (its score is NaN and is left out of the means).
        """
        Xa, names = _check_matrix(X, layer=layer)
        check_scale(Xa, what="feature")
        obs = X.obs if is_anndata(X) else None
        time_, event_ = survival_from_y(
            y, time, event, n_samples=Xa.shape[0], obs=obs, min_events=2
        )
        if self.scoring not in _SCORINGS:
            raise ValueError(f"scoring must be 'deviance' or 'cindex', got {self.scoring!r}")
        if self.rule not in _RULES:
            raise ValueError(f"rule must be 'max' or '1se', got {self.rule!r}")
        spec = _PathSpec.build(
            Xa.shape,
            l1_ratio=self.l1_ratio,
            alphas=self.alphas,
            n_alphas=self.n_alphas,
            alpha_min_ratio=self.alpha_min_ratio,
            penalty_factor=self.penalty_factor,
            standardize=self.standardize,
            ties=self.ties,
            hessian=self.hessian,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        folds, n_folds = _resolve_folds(self.cv, event_, groups, self.random_state)

        path = spec.fit(Xa, time_, event_)
        alphas = path.alphas
        surv_full = SortedSurvival(time_, event_)
        sat_full = _saturated_loglik(time_, event_, spec.efron)
        splits = list(fold_indices(folds, n_folds))

        def one(split):
            train, test = split
            return _fold_scores(
                Xa, time_, event_, train, test, spec, alphas, self.scoring, surv_full, sat_full
            )

        if self.n_jobs in (None, 1):
            results = [one(s) for s in splits]
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(one)(s) for s in splits
            )
        scores = np.vstack([r[0] for r in results])
        conv = np.concatenate([path.converged] + [r[1] for r in results])
        weights = np.array([event_[test].sum() for _, test in splits], dtype=np.float64)
        mean, se = _weighted_mean_se(scores, weights)
        best = _select(mean, se, self.scoring, self.rule)
        _warn_convergence(conv, "CoxNet", spec.max_iter)

        self.alphas_ = alphas
        self.coef_path_ = path.coef
        self.cv_scores_ = scores
        self.cv_mean_ = mean
        self.cv_se_ = se
        self.best_index_ = best
        self.alpha_ = float(alphas[best])
        self.coef_ = path.coef[:, best].copy()
        self.alpha_max_ = path.alpha_max
        self.mean_ = path.mean
        self.scale_ = path.scale
        self.sd_ = Xa.std(axis=0, ddof=1)
        self.folds_ = folds
        self.n_iter_ = path.n_iter
        self.converged_ = bool(conv.all())
        self.n_features_in_ = Xa.shape[1]
        self.fit_layer_ = layer if is_anndata(X) else None
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    # --- prediction ---
    def _check_fitted(self):
        """Raise :class:`sklearn.exceptions.NotFittedError` (a ValueError) before fit."""
        check_is_fitted(self, "coef_", msg="this CoxNet model is not fitted yet: call fit() first")

    def _prepare(self, X, layer=None):
        """New data in the fitted column order; AnnData uses ``fit_layer_`` by default."""
        self._check_fitted()
        if layer is None and is_anndata(X):
            layer = getattr(self, "fit_layer_", None)
        return columns_for_model(self, X, "features", layer=layer, nonnegative=False)

    def predict(self, X, *, layer=None):
        """Linear predictor η = (X − mean_)·coef_ (log relative hazard).

        Centred at the training means, as scikit-survival and lifelines do; the shift changes
        neither the partial likelihood nor the concordance.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
            Features; matched by name (DataFrame columns, AnnData ``var_names``) when the
            model was fitted with names (missing features are an error).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` (default: the layer of the fit,
            ``fit_layer_``).

        Returns
        -------
        eta : ndarray of float64 of shape (n_samples,)
        """
        return (self._prepare(X, layer) - self.mean_) @ self.coef_

    def score(self, X, y=None, *, time=None, event=None, layer=None):
        """Harrell's concordance index of the linear predictor on (X, y).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
            As for :meth:`predict`.
        y : structured array or DataFrame, optional
            Survival data as in :meth:`fit` (or ``time=``/``event=``; strings name columns of
            ``adata.obs``).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` (default: the layer of the fit,
            ``fit_layer_``).

        Returns
        -------
        float
            Harrell's C.
        """
        eta = self.predict(X, layer=layer)
        obs = X.obs if is_anndata(X) else None
        time_, event_ = survival_from_y(
            y, time, event, n_samples=eta.shape[0], obs=obs, require_event=False
        )
        return concordance_index(time_, event_, eta)

    def summary(self):
        """Nonzero coefficients: coef, exp(coef) and the hazard ratio per SD of the feature."""
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = np.array([f"x{j}" for j in range(self.n_features_in_)], dtype=object)
        nz = np.flatnonzero(self.coef_)
        sd = self.sd_
        return pd.DataFrame(
            {
                "coef": self.coef_[nz],
                "exp(coef)": np.exp(self.coef_[nz]),
                "coef_per_sd": self.coef_[nz] * sd[nz],
                "hazard_ratio_per_sd": np.exp(self.coef_[nz] * sd[nz]),
            },
            index=pd.Index(names[nz], name="feature"),
        )
