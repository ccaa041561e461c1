"""Straightforward NumPy DeSurv fit: the formulas of DESIGN.md §2 as written (tests, benchmarks).

Two uses:

* the **oracle** of the fast solver (``desurv.deconvolution._loop.run_loop``): the same
  algorithm, step for step (column normalisation, damping θ₀ = 0.5 with ρ = 0.5 and at
  most 10 halvings, trial accepted when F ≤ F before the step, β step kept only if F does
  not increase, sd of the trial's own projections in the penalty, final Cox refit,
  ε = 1e-12 floors, ratio clamp 1e6, consistent loss convention), so
  ``tests/test_ref_solver.py`` can compare the two;
* the oracle of the accelerated step (``acceleration="extrapolation"``, issue 16): extra H
  updates and the safeguarded extrapolation of (W, H), with the extrapolated point's F
  formed from X, W and H as written (the fast loop gets it from small products);
* the **baseline** of issue 4, target 3: nothing is fused or carried between steps. Every
  evaluation of F forms ``W·H`` and ``X − WH``, every backtracking trial recomputes
  ``Z = XᵀW`` and ``η = Zβ`` from X, and the NMF gradient is ``c(WH − X)Hᵀ`` from the residual.

The Cox pieces are vectorised NumPy over time-sorted samples (reverse cumulative sums over the
risk sets, Breslow ties); ``ties="efron"`` falls back to the textbook oracle
:mod:`desurv._reference.cox`, which loops over the distinct event times. The β step is a proximal
Newton method on the standardised projections (the minimiser of the same elastic-net Cox
problem that :func:`desurv._kernels._cox.coxnet_newton` solves), its quadratic models solved
by coordinate descent and finished exactly on the active set (checked by the KKT conditions).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from desurv._reference import cox as _ref_cox
from desurv.exceptions import ConvergenceWarning

__all__ = ["fit_desurv_reference", "objective", "SortedSurvival"]

# the history columns of the fast loop (tests check that the two lists agree)
HISTORY_FIELDS = (
    "loss",
    "nmf_loss",
    "cox_loss",
    "enet_beta",
    "sqnorm_w",
    "sqnorm_h",
    "theta",
    "backtracks",
)

EPS = 1e-12
# the safeguarded extrapolation (as desurv.deconvolution._loop): start, growth, shrink, cap
GAMMA_START, GAMMA_GROW, GAMMA_SHRINK, GAMMA_MAX = 0.5, 1.05, 1.5, 1.0


# ----------------------------------------------------------------------------- Cox pieces
class SortedSurvival:
    """Survival data sorted by time, with the risk-set boundaries of every sample.

    Parameters
    ----------
    time : ndarray of shape (n,)
        Times in ascending order (ties adjacent).
    event : ndarray of shape (n,)
        Event indicators (0/1) in the same order.
    efron : bool
        Efron instead of Breslow handling of tied event times.

    Notes
    -----
    ``first[i]`` is the first index with ``time == time[i]``: the risk set of sample i (all j
    with ``y_j ≥ y_i``) is the suffix starting there. ``last[i]`` is the last such index.
    """

    def __init__(self, time, event, efron=False):
        self.time = np.asarray(time, dtype=np.float64)
        self.event = np.asarray(event, dtype=np.float64)
        self.n_event = float(self.event.sum())
        self.efron = bool(efron)
        self.first = np.searchsorted(self.time, self.time, side="left")
        self.last = np.searchsorted(self.time, self.time, side="right") - 1

    def _risk_sums(self, eta):
        """``exp(η − max η)`` and the Breslow risk-set sums S0 of every sample (same shift)."""
        m = float(np.max(eta))
        e = np.exp(eta - m)
        s0 = np.cumsum(e[::-1])[::-1][self.first]
        return m, e, s0

    def loglik(self, eta) -> float:
        """Cox log partial likelihood ℓ(η)."""
        if self.efron:
            return _ref_cox.loglik(eta, self.time, self.event, efron=True)
        m, _, s0 = self._risk_sums(eta)
        return float(np.sum(self.event * (eta - m - np.log(s0))))

    def gradient(self, eta):
        """∂ℓ/∂η: ``δ_j − e^{η_j} Σ_{i: y_i ≤ y_j} δ_i / S0_i`` (Breslow)."""
        if self.efron:
            return _ref_cox.gradient(eta, self.time, self.event, efron=True)
        _, e, s0 = self._risk_sums(eta)
        hazard = np.cumsum(self.event / s0)[self.last]
        return self.event - e * hazard

    def beta_derivatives(self, Z, eta):
        """(ℓ, ∂ℓ/∂β, −∂²ℓ/∂β²) for η = Zβ with Z of shape (n, k), from risk-set sums.

        With S0, S1 = Σ_R e^η z and S2 = Σ_R e^η z zᵀ over each risk set R:
        ∂ℓ/∂β = Σ_i δ_i (z_i − S1_i/S0_i) and −∂²ℓ/∂β² = Σ_i δ_i (S2_i/S0_i − μ_i μ_iᵀ),
        μ_i = S1_i/S0_i.
        """
        if self.efron:
            return _ref_cox.beta_derivatives(Z, self.time, self.event, eta, efron=True)
        m, e, s0 = self._risk_sums(eta)
        ez = e[:, None] * Z
        s1 = np.cumsum(ez[::-1], axis=0)[::-1][self.first]
        s2 = np.cumsum((ez[:, :, None] * Z[:, None, :])[::-1], axis=0)[::-1][self.first]
        mu = s1 / s0[:, None]
        d = self.event
        ll = float(np.sum(d * (eta - m - np.log(s0))))
        grad = Z.T @ d - mu.T @ d
        neg_hess = np.einsum("i,iab->ab", d / s0, s2) - (mu * d[:, None]).T @ mu
        return ll, grad, neg_hess


# ------------------------------------------------------------------- elastic-net Cox (β)
def _enet(b, lam, l1_ratio):
    """λ·P_ξ(b) = λ[ξ‖b‖₁ + (1−ξ)/2‖b‖²]."""
    return lam * (l1_ratio * np.sum(np.abs(b)) + 0.5 * (1.0 - l1_ratio) * float(b @ b))


def _soft(u, t):
    return np.sign(u) * max(abs(u) - t, 0.0)


def _exact_on_support(x, b, g, hess, l1, l2):
    """Minimiser of the quadratic model on the support and signs of ``x``, if it passes KKT.

    The model is −gᵀ(x − b) + ½(x − b)ᵀH(x − b) + Σ l1|x_j| + l2/2 x_j². With the support S
    and signs s fixed it is smooth: (H_SS + l2 I) x_S = g_S + (H b)_S − l1 s_S. The solution is
    returned only if it keeps the signs and every coordinate off S has |∂_j| ≤ l1.
    """
    S = np.flatnonzero(x != 0.0)
    if S.size == 0:
        return None
    s = np.sign(x[S])
    A = hess[np.ix_(S, S)] + l2 * np.eye(S.size)
    try:
        xs = np.linalg.solve(A, g[S] + hess[S] @ b - l1 * s)
    except np.linalg.LinAlgError:
        return None
    if l1 > 0 and np.any(xs * s <= 0):
        return None
    out = np.zeros_like(x)
    out[S] = xs
    off = np.setdiff1d(np.arange(x.size), S)
    if off.size:
        smooth = -g[off] + hess[off] @ (out - b)
        if np.any(np.abs(smooth) > l1 * (1.0 + 1e-9) + 1e-14):
            return None
    return out


def _model_minimiser(b, g, hess, l1, l2, tol, max_sweeps=10_000):
    """Minimise the proximal Newton model around ``b`` (coordinate descent, then exact)."""
    k = b.size
    v = np.maximum(np.diag(hess), 1e-12)
    x = b.copy()
    resid = -g.copy()  # gradient of the smooth part −gᵀ(x−b) + ½(x−b)ᵀH(x−b) at x
    for _ in range(max_sweeps):
        change = 0.0
        for j in range(k):
            new = _soft(v[j] * x[j] - resid[j], l1) / (v[j] + l2)
            dj = new - x[j]
            if dj != 0.0:
                x[j] = new
                resid += dj * hess[:, j]
                change = max(change, abs(dj) * np.sqrt(v[j]))
        exact = _exact_on_support(x, b, g, hess, l1, l2)
        if exact is not None:
            return exact
        if change < tol:
            break
    return x


def coxnet_newton(Z, surv, beta0, lam, l1_ratio, tol=1e-6, max_iter=100):
    """Elastic-net Cox by proximal Newton: min_β −ℓ(Zβ)/n_event + λ·P_ξ(β).

    Parameters
    ----------
    Z : ndarray of shape (n, k)
        Covariates (standardised projections), rows in the order of ``surv``.
    surv : SortedSurvival
    beta0 : ndarray of shape (k,)
        Start.
    lam, l1_ratio : float
        λ and ξ.
    tol, max_iter : float, int
        Stop when an accepted step has ``max_j |Δβ_j|·√v_j < tol`` (v_j the j-th diagonal entry
        of −∂²ℓ/∂β²/n_event, floored at 1e-12), or after ``max_iter`` Newton steps.

    Returns
    -------
    beta : ndarray of shape (k,)
    n_iter : int
    converged : bool

    Notes
    -----
    Each step backtracks t = 1, ½, … (at most 30 halvings) until F(β + tΔ) ≤ F(β) up to
    rounding (32 ε |F|), as in the compiled ``coxnet_newton``.
    """
    b = np.array(beta0, dtype=np.float64)
    ne = surv.n_event
    l1, l2 = lam * l1_ratio, lam * (1.0 - l1_ratio)
    for it in range(1, max_iter + 1):
        ll, g, hess = surv.beta_derivatives(Z, Z @ b)
        f0 = -ll / ne + _enet(b, lam, l1_ratio)
        g, hess = g / ne, hess / ne
        v = np.maximum(np.diag(hess), 1e-12)
        delta = _model_minimiser(b, g, hess, l1, l2, tol / 10.0) - b
        step, t = 0.0, 1.0
        for _ in range(31):
            trial = b + t * delta
            f = -surv.loglik(Z @ trial) / ne + _enet(trial, lam, l1_ratio)
            if f <= f0 + 32.0 * np.finfo(float).eps * abs(f0):
                step = float(np.max(np.abs(trial - b) * np.sqrt(v)))
                b = trial
                break
            t *= 0.5
        if step < tol:
            return b, it, True
    return b, max_iter, False


# ------------------------------------------------------------------------- the objective
@dataclass(frozen=True)
class _Params:
    alpha: float
    penalty: float
    l1_ratio: float
    penalty_w: float
    penalty_h: float
    theta0: float
    rho: float
    max_backtracks: int
    ratio_clamp: float
    beta_tol: float
    beta_max_iter: int
    beta_max_iter_final: int
    h_updates: int = 1


def objective(X, W, H, beta, surv, prm) -> dict:
    """F(W, H, β) of DESIGN.md §2 (consistent convention) and its components, as written.

    F = (1−α)[‖X − WH‖²/(2np) + λ_H‖H‖²/(2nk)] + α[−ℓ(XᵀWβ)/n_event + λP_ξ(β ⊙ sd(XᵀW))]
        + λ_W‖W‖²/(2pk), with sd the sample standard deviation (ddof = 1).
    Semi-supervised (METHODS.md §F.5): when ``surv`` describes only the first n_L columns
    of X, the Cox term and sd use X_L = X[:, :n_L]; n in the NMF terms counts all columns.
    """
    p, n = X.shape
    k = W.shape[1]
    resid = X - W @ H
    Z = _labeled(X, surv).T @ W
    sd = Z.std(axis=0, ddof=1)
    b = beta * sd
    parts = {
        "nmf_loss": float(np.sum(resid * resid)) / (2.0 * n * p),
        "cox_loss": -surv.loglik(Z @ beta) / surv.n_event,
        "enet_beta": prm.l1_ratio * float(np.sum(np.abs(b))) + 0.5 * (1 - prm.l1_ratio) * b @ b,
        "sqnorm_w": float(np.sum(W * W)) / (2.0 * p * k),
        "sqnorm_h": float(np.sum(H * H)) / (2.0 * n * k),
    }
    loss = (
        (1.0 - prm.alpha) * (parts["nmf_loss"] + prm.penalty_h * parts["sqnorm_h"])
        + prm.alpha * (parts["cox_loss"] + prm.penalty * float(parts["enet_beta"]))
        + prm.penalty_w * parts["sqnorm_w"]
    )
    return {"loss": float(loss), **{key: float(v) for key, v in parts.items()}}


def _labeled(X, surv):
    """X_L: the columns of the labelled samples (the first ones; all without unlabelled)."""
    return X[:, : surv.time.shape[0]]


def _normalize(W, H, beta):
    """Unit ℓ2 columns of W; H's rows and β scaled by the same norms (WH and η unchanged)."""
    norms = np.sqrt(np.sum(W * W, axis=0))
    norms[norms < EPS] = 1.0
    return W / norms, H * norms[:, None], beta * norms


# ---------------------------------------------------------------------------- the steps
def _h_step(X, W, H, prm):
    """Lee–Seung H update with ridge: H ⊙ WᵀX / (WᵀWH + (λ_H p/k)H + ε), floored at ε."""
    p, k = W.shape
    H = H * (W.T @ X) / (W.T @ W @ H + (prm.penalty_h * p / k) * H + EPS)
    return np.maximum(H, EPS)


def _w_ratio(X, W, H, beta, surv, prm):
    """R = N / (D + ε) of the balanced multiplicative W step (DESIGN.md §2 step 2)."""
    p, n = X.shape
    k = W.shape[1]
    c = (1.0 - prm.alpha) / (n * p)
    g_nmf = c * (W @ H - X) @ H.T  # the NMF gradient from the residual
    num = c * (X @ H.T)
    if prm.alpha > 0.0:
        XL = _labeled(X, surv)
        g = surv.gradient(XL.T @ W @ beta)  # ∂ℓ/∂η of the labelled samples
        g_cox = np.outer(XL @ g, beta)
        ratio = (np.linalg.norm(g_nmf) + 1e-12) / (np.linalg.norm(g_cox) + 1e-12)
        num = num + prm.alpha * min(ratio, prm.ratio_clamp) * g_cox
    den = c * (W @ (H @ H.T)) + (prm.penalty_w / (p * k)) * W
    return num / (den + EPS)


def _w_step(X, W, H, beta, surv, prm):
    """Damped trials W ⊙ ((1−θ) + θR), θ = θ₀ρ^j; the first with F not larger is kept.

    Returns (W, H, β, θ or 0.0 when no trial is accepted, number of halvings).
    """
    f0 = objective(X, W, H, beta, surv, prm)["loss"]
    R = _w_ratio(X, W, H, beta, surv, prm)
    theta = prm.theta0
    for bt in range(prm.max_backtracks + 1):
        Wt, Ht, bt_beta = _normalize(np.maximum(W * ((1.0 - theta) + theta * R), EPS), H, beta)
        f = objective(X, Wt, Ht, bt_beta, surv, prm)["loss"]
        if np.isfinite(f) and f <= f0:
            return Wt, Ht, bt_beta, theta, bt
        theta *= prm.rho
    return W, H, beta, 0.0, prm.max_backtracks + 1


def _cox_refit(X, W, beta, surv, prm, max_iter):
    """Elastic-net Cox on the standardised projections Z = XᵀW, warm started at β·sd.

    Returns (β on the original scale, finite). Components with sd ≤ 1e-12 get β = 0.
    Only the labelled samples' projections enter.
    """
    Z = _labeled(X, surv).T @ W
    sd = Z.std(axis=0, ddof=1)
    keep = sd > 1e-12
    new = np.zeros(W.shape[1])
    if not keep.any():
        return new, True
    Zs = (Z[:, keep] - Z[:, keep].mean(axis=0)) / sd[keep]
    b, _, _ = coxnet_newton(
        Zs, surv, beta[keep] * sd[keep], prm.penalty, prm.l1_ratio, prm.beta_tol, max_iter
    )
    new[keep] = b / sd[keep]
    if not np.all(np.isfinite(new)):
        return beta, False
    return new, True


def _beta_step(X, W, H, beta, surv, prm):
    """β step inside the loop: kept only if it does not increase F. Returns (β, F, finite)."""
    new, finite = _cox_refit(X, W, beta, surv, prm, prm.beta_max_iter)
    if not finite:
        return beta, None, False
    before = objective(X, W, H, beta, surv, prm)
    after = objective(X, W, H, new, surv, prm)
    if after["loss"] <= before["loss"] or not np.isfinite(before["loss"]):
        return new, after, True
    return beta, before, True


class _Extrapolation:
    """Safeguarded extrapolation of (W, H) along the iteration's displacement (Ang & Gillis
    2019): W_e = max((1+γ)W − γW₀, ε), H_e likewise, columns normalised; accepted only if F
    (formed from X as written) does not increase; γ ← min(γ̄, 1.05γ), γ̄ ← min(1, 1.05γ̄) on
    success, γ̄ ← γ and γ ← γ/1.5 on failure."""

    def __init__(self):
        self.gamma, self.gamma_bar = GAMMA_START, GAMMA_MAX

    def step(self, X, W, H, beta, W0, H0, surv, prm):
        g = self.gamma
        We = np.maximum((1.0 + g) * W - g * W0, EPS)
        He = np.maximum((1.0 + g) * H - g * H0, EPS)
        We, He, be = _normalize(We, He, beta)
        f = objective(X, We, He, be, surv, prm)["loss"]
        if np.isfinite(f) and f <= objective(X, W, H, beta, surv, prm)["loss"]:
            self.gamma_bar = min(GAMMA_MAX, self.gamma_bar * GAMMA_GROW)
            self.gamma = min(self.gamma_bar, g * GAMMA_GROW)
            return We, He, be, True
        self.gamma_bar = g
        self.gamma = g / GAMMA_SHRINK
        return W, H, beta, False


# ------------------------------------------------------------------------------ the fit
def _check(X, time, event, W0, H0, beta0, ties, X_unlabeled=None):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or np.any(~np.isfinite(X)) or np.any(X < 0):
        raise ValueError("X must be a finite, nonnegative 2-D array (genes × samples)")
    p, n = X.shape
    n_u = 0
    if X_unlabeled is not None:
        XU = np.asarray(X_unlabeled, dtype=np.float64)
        if XU.ndim != 2 or XU.shape[0] != p or np.any(~np.isfinite(XU)) or np.any(XU < 0):
            raise ValueError(f"X_unlabeled must be a finite, nonnegative array ({p}, n_unlabeled)")
        n_u = XU.shape[1]
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=np.float64)
    if time.shape != (n,) or event.shape != (n,):
        raise ValueError(f"time and event must have shape ({n},) (one value per column of X)")
    if event.sum() == 0:
        raise ValueError("event has no observed event: the Cox term is undefined")
    W0 = np.array(W0, dtype=np.float64)
    H0 = np.array(H0, dtype=np.float64)
    k = W0.shape[1] if W0.ndim == 2 else -1
    if W0.shape != (p, k) or H0.shape != (k, n + n_u):
        raise ValueError(f"W0 must have shape ({p}, k) and H0 shape (k, {n + n_u}); got "
                         f"{W0.shape} and {H0.shape}")  # fmt: skip
    beta0 = np.zeros(k) if beta0 is None else np.array(beta0, dtype=np.float64)
    if beta0.shape != (k,):
        raise ValueError(f"beta0 must have shape ({k},), got {beta0.shape}")
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    return X, time, event, W0, H0, beta0


def fit_desurv_reference(
    X,
    time,
    event,
    W0,
    H0,
    beta0=None,
    *,
    X_unlabeled=None,
    alpha=0.5,
    penalty=0.1,
    l1_ratio=0.5,
    penalty_w=0.0,
    penalty_h=0.0,
    max_iter=100,
    tol=1e-6,
    ties="breslow",
    acceleration="none",
    h_updates=None,
    theta0=None,
    rho=0.5,
    max_backtracks=10,
    ratio_clamp=1e6,
    beta_tol=1e-6,
    beta_max_iter=100,
    beta_max_iter_final=500,
    warn=True,
) -> dict:
    """Fit DeSurv from a given start with the formulas as written (NumPy, nothing fused).

    Same algorithm, parameters and meaning as :func:`desurv.fit_desurv` with ``W_init``,
    ``H_init``, ``beta_init`` and ``loss_convention="consistent"`` (Young et al., DeSurv;
    DESIGN.md §2): per iteration the multiplicative H update, the balanced W step with
    backtracking on θ, the elastic-net Cox β step (skipped when α = 0), then a stop when
    |F − F_prev|/|F_prev| ≤ ``tol``; β is refitted once more on the final W.
    With ``X_unlabeled`` it is semi-supervised DeSurv (METHODS.md §F.5): those samples enter
    the NMF terms (normalised by all n + n_unlabeled samples) and H only.

    Parameters
    ----------
    X : array-like of shape (n_genes, n_samples)
        Nonnegative expression (paper orientation).
    time, event : array-like of shape (n_samples,)
        Follow-up times and event indicators (0/1), at least one event.
    W0 : array-like of shape (n_genes, k)
    H0 : array-like of shape (k, n_samples + n_unlabeled)
        Nonnegative start, samples in input order (those of X, then those of X_unlabeled).
    beta0 : array-like of shape (k,), optional
        Start of β (default zeros).
    X_unlabeled : array-like of shape (n_genes, n_unlabeled), optional
        Samples without follow-up (semi-supervised DeSurv).
    alpha, penalty, l1_ratio, penalty_w, penalty_h : float
        α, λ, ξ, λ_W, λ_H.
    max_iter, tol : int, float
        Iteration cap and relative tolerance on F.
    ties : {"breslow", "efron"}
        Tied event times in the partial likelihood.
    acceleration : {"none", "extrapolation"}
        "extrapolation": the accelerated step of ``desurv.fit_desurv`` (``h_updates`` H
        updates, then after the W step the extrapolated point (W, H) + γ((W, H) − (W₀, H₀)),
        floored at ε and normalised, kept only if F does not increase).
    h_updates : int or None
        H updates per W step (None: 1, or 3 with ``acceleration="extrapolation"``).
    theta0, rho, max_backtracks, ratio_clamp : float or None, float, int, float
        W step: damping θ₀ (None: 0.5, or 1.0 with ``acceleration="extrapolation"``), its
        shrink factor ρ, the number of halvings, the clamp of the gradient-balancing ratio
        ‖G_nmf‖/‖G_cox‖.
    beta_tol, beta_max_iter, beta_max_iter_final : float, int, int
        β step tolerance and Newton step caps (inside the loop / final refit).
    warn : bool
        Issue a ConvergenceWarning when ``max_iter`` is reached.

    Returns
    -------
    dict
        ``W`` (n_genes, k), ``H`` (k, n_samples + n_unlabeled, input order), ``beta`` (k,),
        ``history`` (dict of arrays per iteration, the fields of ``desurv.fit_desurv``), ``n_iter``,
        ``converged``, ``objective`` (F and its components after the final refit) and
        ``n_extrapolated`` (accepted extrapolations).

    Raises
    ------
    ValueError
        X negative or non-finite, shapes that do not match, no event, unknown ``ties``,
        ``acceleration`` or ``h_updates``.
    """
    X, time, event, W, H, beta = _check(X, time, event, W0, H0, beta0, ties, X_unlabeled)
    if acceleration not in ("none", "extrapolation"):
        raise ValueError(f"acceleration must be 'none' or 'extrapolation', got {acceleration!r}")
    fast = acceleration == "extrapolation"
    h_updates = (3 if fast else 1) if h_updates is None else int(h_updates)
    if h_updates < 1:
        raise ValueError(f"h_updates must be >= 1, got {h_updates}")
    theta0 = (1.0 if fast else 0.5) if theta0 is None else theta0
    prm = _Params(float(alpha), float(penalty), float(l1_ratio), float(penalty_w),
                  float(penalty_h), float(theta0), float(rho), int(max_backtracks),
                  float(ratio_clamp), float(beta_tol), int(beta_max_iter),
                  int(beta_max_iter_final), h_updates)  # fmt: skip
    ext = _Extrapolation() if fast else None
    n_extrapolated = 0
    # samples sorted by time once (stable: tied times keep input order) for the risk sets
    t_order = np.argsort(time, kind="stable")
    order = t_order
    if X_unlabeled is not None:  # unlabelled samples after the sorted labelled ones
        X = np.hstack([X, np.asarray(X_unlabeled, dtype=np.float64)])
        order = np.concatenate([t_order, np.arange(t_order.size, X.shape[1])])
    X, H = X[:, order], H[:, order]
    surv = SortedSurvival(time[t_order], event[t_order], efron=ties == "efron")

    W, H, beta = _normalize(W, H, beta)
    hist = {name: [] for name in HISTORY_FIELDS}
    loss_prev = objective(X, W, H, beta, surv, prm)["loss"]
    converged = False
    it = 0
    while it < max_iter:
        W0_it, H0_it = W, H  # the iterate at the start of the iteration (for extrapolation)
        for _ in range(prm.h_updates):
            H = _h_step(X, W, H, prm)
        W, H, beta, theta, bt = _w_step(X, W, H, beta, surv, prm)
        if ext is not None:
            W, H, beta, ok = ext.step(X, W, H, beta, W0_it, H0_it, surv, prm)
            n_extrapolated += ok
        obj = None
        if prm.alpha > 0.0:
            beta, obj, finite = _beta_step(X, W, H, beta, surv, prm)
            if not finite:
                warnings.warn("non-finite Cox coefficients: stopping early", RuntimeWarning,
                              stacklevel=2)  # fmt: skip
                break
        if obj is None:
            obj = objective(X, W, H, beta, surv, prm)
        if not np.isfinite(obj["loss"]):
            warnings.warn("the objective became non-finite: stopping early", RuntimeWarning,
                          stacklevel=2)  # fmt: skip
            break
        for name, value in obj.items():
            hist[name].append(value)
        hist["theta"].append(theta)
        hist["backtracks"].append(bt)
        rel = abs(obj["loss"] - loss_prev) / max(1e-12, abs(loss_prev))
        loss_prev = obj["loss"]
        it += 1
        if rel <= tol:
            converged = True
            break
    if warn and not converged:
        warnings.warn(f"reference DeSurv did not converge in max_iter={max_iter} iterations",
                      ConvergenceWarning, stacklevel=2)  # fmt: skip

    beta, _ = _cox_refit(X, W, beta, surv, prm, prm.beta_max_iter_final)
    H_out = np.empty_like(H)
    H_out[:, order] = H
    history = {
        name: np.asarray(vals, dtype=np.int64 if name == "backtracks" else np.float64)
        for name, vals in hist.items()
    }
    return {
        "W": W,
        "H": H_out,
        "beta": beta,
        "history": history,
        "n_iter": it,
        "converged": converged,
        "objective": objective(X, W, H, beta, surv, prm),
        "n_extrapolated": n_extrapolated,
    }
