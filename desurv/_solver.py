"""The DeSurv alternating solver (DESIGN.md §2) on arrays in the paper's orientation.

Layer 3 of the architecture: NumPy in, NumPy out, no pandas and no global state. The public
entry point is :func:`desurv.solver.fit_desurv`; this module holds the loop itself.

Work per outer iteration (p genes, n samples, k factors):

* ``A = WᵀX`` (k × n) is carried from the previous iteration: it serves the H numerator, the
  projections ``Z = Aᵀ`` and the linear predictor ``η = Zβ``.
* one BLAS product ``X·[Hᵀ | g]`` gives the W numerator and the Cox gradient term together;
* one BLAS product ``B = (W ⊙ R)ᵀX`` makes every damped trial ``W(θ) = W ⊙ ((1−θ) + θR)``
  cheap: by linearity ``W(θ)ᵀX = (1−θ)A + θB`` (up to the ε-floor, see below), so a
  backtracking trial costs O(nk + pk²) and never touches X;
* ``‖X − WH‖²`` is ``‖X‖² − 2⟨WᵀX, H⟩ + ⟨WᵀW, HHᵀ⟩``, never forming X − WH.

The ε-floor ``max(·, ε)`` of the trial is applied to W itself; its effect on ``W(θ)ᵀX`` (at
most ε·Σ|X| per entry, ~1e-12 relative) is not propagated into A, and A is recomputed exactly
from X every ``refresh_every`` iterations and at the end, so rounding cannot accumulate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ._kernels import _cox, _nmf
from .exceptions import ConvergenceWarning

EPS = 1e-12
HISTORY_FIELDS = (
    "loss",
    "nmf_loss",
    "cox_loss",
    "penalty_beta",
    "penalty_w",
    "penalty_h",
    "theta",
    "backtracks",
)


@dataclass(frozen=True)
class SolverParams:
    """Hyperparameters of one DeSurv fit (paper symbols in brackets)."""

    alpha: float  # α, weight of the Cox term
    penalty: float  # λ, elastic-net strength on standardised β
    l1_ratio: float  # ξ, elastic-net mixing
    penalty_w: float  # λ_W
    penalty_h: float  # λ_H
    ties: str = "breslow"
    loss_convention: str = "consistent"  # or "reference" (ayoung31/DeSurv conventions)
    theta0: float = 0.5
    rho: float = 0.5
    max_backtracks: int = 10
    ratio_clamp: float = 1e6
    beta_tol: float = 1e-6
    beta_max_iter: int = 100
    beta_max_iter_final: int = 500
    refresh_every: int = 50

    @property
    def reference(self) -> bool:
        return self.loss_convention == "reference"


@dataclass
class Objective:
    """Value of the objective F and its components at one point."""

    loss: float
    nmf_loss: float  # ‖X − WH‖²/(2np)
    cox_loss: float  # −ℓ/n_event
    penalty_beta: float  # P_ξ(β ⊙ sd(Z))
    penalty_w: float  # ‖W‖²/(2pk)
    penalty_h: float  # ‖H‖²/(2nk)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class LoopResult:
    W: np.ndarray
    H: np.ndarray
    beta: np.ndarray
    mean_z: np.ndarray
    sd_z: np.ndarray
    n_iter: int
    converged: bool
    history: dict = field(default_factory=dict)
    objective: Objective | None = None
    beta_reverts: int = 0


class _Problem:
    """Data of one fit in solver layout: X (p × n) with samples sorted by time."""

    def __init__(self, X_sorted, time_sorted, event_sorted, params: SolverParams):
        self.X = X_sorted
        self.p, self.n = X_sorted.shape
        self.x_sq = float(np.einsum("ij,ij->", X_sorted, X_sorted))
        self.time = time_sorted
        self.event = event_sorted
        self.n_event = float(event_sorted.sum())
        self.prm = params
        self.efron = params.ties == "efron"

    def loglik(self, eta) -> float:
        return _cox.cox_loglik(eta, self.time, self.event, self.efron)

    def objective(self, cross, gram, h_sq, w_sq, loglik, beta, sd, k) -> Objective:
        """F from small products: cross = ⟨WᵀX, H⟩, gram = ⟨WᵀW, HHᵀ⟩ (DESIGN.md §2)."""
        prm = self.prm
        n, p = self.n, self.p
        nmf = (self.x_sq - 2.0 * cross + gram) / (2.0 * n * p)
        pen_h = h_sq / (2.0 * n * k)
        pen_w = w_sq / (2.0 * p * k)
        b = beta * sd
        pen_b = prm.l1_ratio * float(np.abs(b).sum()) + 0.5 * (1.0 - prm.l1_ratio) * float(b @ b)
        cox = -loglik / self.n_event
        # The reference writes the survival term as 2ℓ/n_event in its loss (not in its β step).
        cox_term = 2.0 * cox if prm.reference else cox
        total = (
            (1.0 - prm.alpha) * (nmf + prm.penalty_h * pen_h)
            + prm.alpha * (cox_term + prm.penalty * pen_b)
            + prm.penalty_w * pen_w
        )
        return Objective(total, nmf, cox, pen_b, pen_w, pen_h)

    def objective_at(self, A, W, H, beta, sd) -> Objective:
        k = W.shape[1]
        eta = beta @ A
        return self.objective(
            float(np.einsum("ij,ij->", A, H)),
            float(np.einsum("ij,ij->", W.T @ W, H @ H.T)),
            float(np.einsum("ij,ij->", H, H)),
            float(np.einsum("ij,ij->", W, W)),
            self.loglik(eta),
            beta,
            sd,
            k,
        )

    def beta_step(self, A, beta, max_iter):
        """Elastic-net Cox on standardised Z = Aᵀ (DESIGN.md §2 step 3; see ``solve`` below).

        Returns (beta, mean_z, sd_z, finite). The warm start is β·sd on the standardised scale;
        the reference convention passes the original-scale β unchanged (its known slip).
        """
        prm = self.prm
        k = A.shape[0]
        mean = A.mean(axis=1)
        sd = np.empty(k)
        _nmf.row_sd(A, sd)
        keep = sd > 1e-12
        new = np.zeros(k)
        if not keep.any():
            return new, mean, sd, True
        Zs = np.asfortranarray(((A[keep] - mean[keep, None]) / sd[keep, None]).T)
        start = beta[keep] if prm.reference else beta[keep] * sd[keep]
        b_std = np.ascontiguousarray(start, dtype=np.float64)
        pf = np.ones(b_std.shape[0])
        # Proximal Newton (exact k x k Hessian) by default. The reference's sweeps update all
        # coordinates from one stale gradient (a Jacobi step), which oscillates on collinear
        # Z; it is kept for loss_convention="reference" only, to reproduce published runs.
        solve = _cox.coxnet_cd if prm.reference else _cox.coxnet_newton
        solve(
            Zs,
            self.time,
            self.event,
            b_std,
            prm.penalty,
            prm.l1_ratio,
            pf,
            prm.beta_tol,
            int(max_iter),
            self.efron,
        )
        new[keep] = b_std / sd[keep]
        if not np.all(np.isfinite(new)):
            return beta, mean, sd, False
        return new, mean, sd, True


def normalize_columns(W, H, beta):
    """Scale W's columns to unit ℓ2 norm, H's rows and β by the same norms (η unchanged)."""
    norms = np.sqrt(np.einsum("ij,ij->j", W, W))
    norms[norms < EPS] = 1.0
    W /= norms
    H *= norms[:, None]
    beta *= norms
    return norms


def run_loop(
    prob: _Problem,
    W,
    H,
    beta,
    max_iter: int,
    tol: float,
    *,
    warn: bool = True,
    callback=None,
) -> LoopResult:
    """Alternate the H, W and β updates until the relative change of F is at most ``tol``.

    ``W`` (p × k), ``H`` (k × n, time-sorted) and ``beta`` (k,) are updated in place.
    Every accepted step leaves F no larger (consistent convention); see the module docstring.
    """
    prm = prob.prm
    X = prob.X
    p, n = X.shape
    k = W.shape[1]
    alpha = prm.alpha
    c_nmf = (1.0 - alpha) / (n * p)
    ridge_h = prm.penalty_h * p / k
    ridge_w = prm.penalty_w / (p * k)

    # The reference normalises W at the start without rescaling β (harmless there: β0 = 0).
    if prm.reference:
        normalize_columns(W, H, np.ones(k))
    else:
        normalize_columns(W, H, beta)
    A = W.T @ X
    sd = np.empty(k)
    _nmf.row_sd(A, sd)
    mean = A.mean(axis=1)

    # work buffers, allocated once
    M = np.empty((n, k + 1))
    XM = np.empty((p, k + 1))
    R = np.empty((p, k))
    V = np.empty((p, k))
    B = np.empty((k, n))
    Wt = np.empty((p, k))
    Zt = np.empty((k, n))
    tnorm = np.empty(k)
    WtW_t = np.empty((k, k))
    sd_t = np.empty(k)
    grad = np.empty(n)
    weight = np.empty(n)
    eta_t = np.empty(n)

    hist = {name: [] for name in HISTORY_FIELDS}
    loss_prev = 1e-6 if prm.reference else prob.objective_at(A, W, H, beta, sd).loss
    converged = False
    beta_reverts = 0
    it = 0
    while it < max_iter:
        # ---- H: multiplicative update with ridge, fused with HHᵀ ----
        WtW = W.T @ W
        HHt = _nmf.update_h(H, A, WtW, ridge_h, EPS)

        # ---- W: balanced multiplicative step with backtracking on θ ----
        eta = beta @ A
        loglik0 = _cox.cox_stats(eta, prob.time, prob.event, grad, weight, prob.efron)
        h_row_sq = np.einsum("ij,ij->i", H, H)
        L0 = prob.objective(
            float(np.einsum("ij,ij->", A, H)),
            float(np.einsum("ij,ij->", WtW, HHt)),
            float(h_row_sq.sum()),
            float(np.einsum("ij,ij->", W, W)),
            loglik0,
            beta,
            sd,
            k,
        ).loss
        M[:, :k] = H.T
        M[:, k] = grad
        np.dot(X, M, out=XM)
        _nmf.w_ratio(
            W, XM[:, :k], XM[:, k], beta, HHt, c_nmf, ridge_w, alpha, prm.ratio_clamp, EPS, R
        )
        np.multiply(W, R, out=V)
        np.dot(V.T, X, out=B)

        theta = prm.theta0
        accepted = False
        bt = 0
        while bt <= prm.max_backtracks:
            _nmf.w_trial(W, R, theta, EPS, Wt, tnorm, WtW_t)
            cross = _nmf.trial_projection(A, B, theta, H, beta, Zt, eta_t)
            if prm.reference:
                sd_pen = sd  # stale sd, rescaled with W's columns: β ⊙ sd is unchanged
            else:
                _nmf.row_sd(Zt, sd_t)  # true sd of the trial's projections (scale cancels)
                sd_pen = sd_t
            L = prob.objective(
                cross,
                float(np.einsum("ij,ij->", WtW_t, HHt)),
                float(np.dot(tnorm * tnorm, h_row_sq)),
                float(np.sum(np.diag(WtW_t) / (tnorm * tnorm))),
                prob.loglik(eta_t),
                beta,
                sd_pen,
                k,
            ).loss
            if np.isfinite(L) and L <= L0:
                accepted = True
                break
            theta *= prm.rho
            bt += 1
        if accepted:
            np.divide(Wt, tnorm, out=W)
            H *= tnorm[:, None]
            beta *= tnorm
            np.divide(Zt, tnorm[:, None], out=A)
            sd = sd_pen / tnorm
        if prm.refresh_every and (it + 1) % prm.refresh_every == 0:
            np.dot(W.T, X, out=A)

        # ---- β: elastic-net Cox by coordinate descent on the new Z ----
        finite = True
        obj = None  # F at the end of the iteration, when the β step already evaluated it
        if alpha > 0.0:
            if prm.reference:
                beta, mean, sd, finite = prob.beta_step(A, beta, prm.beta_max_iter)
            else:
                new_beta, mean, sd, finite = prob.beta_step(A, beta, prm.beta_max_iter)
                before = prob.objective_at(A, W, H, beta, sd)
                after = prob.objective_at(A, W, H, new_beta, sd)
                if after.loss <= before.loss or not np.isfinite(before.loss):
                    beta, obj = new_beta, after
                else:  # a β step that would raise F is not accepted
                    obj = before
                    beta_reverts += 1
        if not finite:
            warnings.warn(
                "non-finite Cox coefficients: stopping early (check the scale of X)",
                RuntimeWarning,
                stacklevel=3,
            )
            break

        if obj is None:
            obj = prob.objective_at(A, W, H, beta, sd)
        if not np.isfinite(obj.loss):
            warnings.warn(
                "the objective became non-finite: stopping early", RuntimeWarning, stacklevel=3
            )
            break
        for name, value in obj.as_dict().items():
            hist[name].append(value)
        hist["theta"].append(theta if accepted else 0.0)
        hist["backtracks"].append(bt)
        rel = abs(obj.loss - loss_prev) / max(1e-12, abs(loss_prev))
        loss_prev = obj.loss
        it += 1
        if callback is not None:
            callback(it, obj)
        if rel <= tol:
            converged = True
            break

    if warn and not converged:
        warnings.warn(
            f"DeSurv did not converge in max_iter={max_iter} iterations (relative change of the "
            f"objective above tol={tol}); increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=3,
        )

    # ---- final Cox refit on the final W (always, also when α = 0) ----
    np.dot(W.T, X, out=A)
    beta, mean, sd, _ = prob.beta_step(A, beta, prm.beta_max_iter_final)
    history = {
        name: np.asarray(vals, dtype=np.int64 if name == "backtracks" else np.float64)
        for name, vals in hist.items()
    }
    return LoopResult(
        W=W,
        H=H,
        beta=beta,
        mean_z=mean,
        sd_z=sd,
        n_iter=it,
        converged=converged,
        history=history,
        objective=prob.objective_at(A, W, H, beta, sd),
        beta_reverts=beta_reverts,
    )
