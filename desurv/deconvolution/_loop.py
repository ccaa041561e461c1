"""The DeSurv alternating solver (DESIGN.md §2) on arrays in the paper's orientation.

Layer 3 of the architecture: NumPy in, NumPy out, no pandas and no global state. The public
entry point is :func:`desurv.deconvolution.solver.fit_desurv`; this module holds the loop itself.

Work per outer iteration (p genes, n samples, k factors):

* ``Z = XᵀW`` (n × k) is carried from the previous iteration: it serves the H numerator, the
  projections and the linear predictor ``η = Zβ``;
* one BLAS product ``X·[Hᵀ | g]`` gives the W numerator and the Cox gradient term together;
* one BLAS product ``B = XᵀV`` with ``V = W ⊙ R`` (the full multiplicative step) makes every
  damped trial ``W(θ) = (1−θ)W + θV`` cheap: by linearity ``XᵀW(θ) = (1−θ)Z + θB`` (up to
  the ε-floor, see below), so a backtracking trial costs O(nk + pk²) and never touches X;
* ``‖X − WH‖²`` is ``‖X‖² − 2⟨Z, Hᵀ⟩ + ⟨WᵀW, HHᵀ⟩``, never forming X − WH; WᵀW is carried
  too, and the terms of F found in the W step are reused by the β step.

The ε-floor ``max(·, ε)`` of the trial is applied to W itself; while the trial is
nonnegative its effect on ``XᵀW(θ)`` (at most ε·Σ|X| per entry, ~1e-12 relative) is not
propagated into Z, and Z and WᵀW are recomputed exactly every ``refresh_every`` iterations and
at the end, so rounding cannot accumulate. A survival push larger than the NMF numerator makes
V negative; a trial with negative entries, which the floor lifts by more than ε, is
materialised and projected exactly (one more pass over X for that trial). Products are
taken as ``X.T @ V`` (n × k outputs) because OpenBLAS does that about 1.6x faster than
``V.T @ X`` for a C-ordered X and small k.

Semi-supervised DeSurv (METHODS.md §F.5): the columns of X are the n_L labelled samples
(sorted by time) followed by the n_U unlabelled ones, and only ``time``/``event`` of the
labelled samples are given. Everything of the NMF part (H update, W numerator and
denominator, ‖X − WH‖², ‖H‖², the normalisation by n = n_L + n_U) runs over all n columns;
the Cox part (η, ℓ, g, β, sd(Z)) over the first n_L rows of Z only, as views. The Cox gradient
term X·g of the fused product X·[Hᵀ | g] uses g padded with zeros for the unlabelled columns,
which is X_L·g. With n_U = 0 the views are the whole arrays: the same code, bit for bit.

Accelerated step (``SolverParams.extrapolate``, consistent convention only; ``fit_desurv``
also starts the W step's backtracking at θ0 = 1 then). Multiplicative updates stall
(thousands of iterations, each two passes over X). Two additions, neither of which reads X
beyond the rows named below, and neither of which can increase F:

* ``h_updates`` H updates per W step: the H update needs only the carried Z and WᵀW, so each
  extra one costs O(nk²), and since η = Zβ does not depend on H it decreases F (its NMF
  part) monotonically (Lee & Seung 2001, with the ridge);
* after the W step, the iteration is extended along its own displacement,
  (W_e, H_e) = max((W, H) + γ((W, H) − (W₀, H₀)), ε) with (W₀, H₀) the iterate at the start
  of the iteration: the line-search extrapolation of alternating least squares (Harshman
  1970; Bro 1998) with the adaptive γ and safeguard of Ang & Gillis (2019), "Accelerating
  nonnegative matrix factorization algorithms using extrapolation". Its projections are
  XᵀW_e = Z + γ(Z − Z₀) by linearity, plus the rows of X of the genes whose entries the
  ε-floor raised (``desurv._kernels._desurv_accel``); F at the normalised point is evaluated
  from small products as for a damped trial. On acceptance γ grows (×1.05, up to γ̄, and γ̄
  by ×1.05 up to 1); on rejection the point is discarded, γ̄ ← γ and γ shrinks (÷1.5).

At α = 0 (consistent convention, fused W step, one thread, no callback, no extrapolation)
the loop below runs compiled whole (``desurv._kernels._alpha0_loop``, same steps and order of
operations); there the Python statements around the one pass over X cost as much as a third
of the iteration. ``COMPILED_ALPHA0 = False`` runs this Python loop instead (its twin).

``_Problem.rows_read`` counts the rows of X read by the products (p per full pass), so
time-to-solution benchmarks can report passes over X.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from desurv import _threads
from desurv._kernels import _alpha0_loop, _cox, _desurv_accel, _nmf
from desurv.exceptions import ConvergenceWarning

EPS = 1e-12
# Up to this many factors the products with X use the compiled kernels (_kernels/_products.py)
MAX_COMPILED_K = 16
# a converged final run whose W step was rejected in more than this share of its iterations
# (at least STALL_MIN_ITER of them) warns: W stayed (nearly) at its start
STALL_SHARE = 0.5
STALL_MIN_ITER = 5
# above this size of X (past the last-level cache) the fused α = 0 W step pays for any k
FUSED_MIN_BYTES = 8 << 20
# run the α = 0 loop compiled whole (_kernels/_alpha0_loop.py) where it applies; tests set
# this to False to run the Python loop, its twin
COMPILED_ALPHA0 = True
# iterations per call of the compiled α = 0 loop (the size of its history buffer)
ALPHA0_BLOCK = 1000
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
# safeguarded extrapolation (Ang & Gillis 2019): start, growth on success (γ and its cap γ̄),
# shrink on failure, largest cap
GAMMA_START = 0.5
GAMMA_GROW = 1.05
GAMMA_SHRINK = 1.5
GAMMA_MAX = 1.0  # Ang & Gillis's bound; larger caps were faster but could end in worse points


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
    # scale of the survival push in the W step: ‖∇NMF‖ (the authors') or ‖NMF numerator‖
    balance: str = "gradient"
    theta0: float = 0.5
    rho: float = 0.5
    max_backtracks: int = 10
    ratio_clamp: float = 1e6
    beta_tol: float = 1e-6
    beta_max_iter: int = 100
    beta_max_iter_final: int = 500
    refresh_every: int = 50
    # acceleration (consistent convention only; these defaults are the plain algorithm)
    h_updates: int = 1  # H updates per W step
    extrapolate: bool = False  # safeguarded extrapolation of (W, H) after the W step

    @property
    def reference(self) -> bool:
        return self.loss_convention == "reference"


@dataclass
class Objective:
    """Value of the objective F and its components at one point."""

    loss: float
    nmf_loss: float  # ‖X − WH‖²/(2np)
    cox_loss: float  # −ℓ/n_event
    # the penalty terms before their weights λ, λ_W, λ_H (named apart from the parameters,
    # so that a table of components is not read as λ_W = ‖W‖²/(2pk))
    enet_beta: float  # P_ξ(β ⊙ sd(Z))
    sqnorm_w: float  # ‖W‖²/(2pk)
    sqnorm_h: float  # ‖H‖²/(2nk)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FittedFactors:
    """Factors of a fit and its convergence: the fields that every result type begins with."""

    W: np.ndarray
    H: np.ndarray
    beta: np.ndarray
    mean_z: np.ndarray
    sd_z: np.ndarray
    n_iter: int
    converged: bool


@dataclass
class LoopResult(FittedFactors):
    history: dict = field(default_factory=dict)
    objective: Objective | None = None
    beta_reverts: int = 0
    n_extrapolated: int = 0  # accepted extrapolations (accelerated step only)


class _Problem:
    """Data of one fit in solver layout: X (p × n) with samples sorted by time.

    Semi-supervised (METHODS.md §F.5): when ``time_sorted`` and ``event_sorted`` are shorter
    than n, they belong to the first ``n_labeled = len(time_sorted)`` columns of X (sorted by
    time) and the remaining columns are unlabelled samples, which enter the NMF terms only.

    X may be float64 or float32. With float32 only the two products with X run in single
    precision (BLAS sgemm, half the memory traffic); their (small) results and all other
    state — W, H, β, Z, the objective — stay float64.
    """

    def __init__(
        self, X_sorted, time_sorted, event_sorted, params: SolverParams, blas=False, n_threads=1
    ):
        self.X = X_sorted
        self.p, self.n = X_sorted.shape
        self.x_sq = float(np.einsum("ij,ij->", X_sorted, X_sorted, dtype=np.float64))
        self.time = time_sorted
        self.event = event_sorted
        # labelled samples: the first n_labeled columns (all of them in plain DeSurv)
        self.n_labeled = int(time_sorted.shape[0])
        if not (event_sorted.shape[0] == self.n_labeled <= self.n):
            raise ValueError("time/event must describe the first columns of X (internal error)")
        self.n_event = float(event_sorted.sum())
        self.prm = params
        self.efron = params.ties == "efron"
        self.single = X_sorted.dtype == np.float32
        # compiled single-thread products for skinny operands, BLAS otherwise (or on request,
        # e.g. to use several BLAS threads for one large fit)
        self.max_compiled_k = 0 if blas else MAX_COMPILED_K
        # the compiled products split the rows of X over this many threads (1: none)
        self.n_threads = max(1, int(n_threads or 1))
        self._buf = {}
        self.rows_read = 0  # rows of X read by products (p per full pass), for benchmarks

    def _scratch(self, name, shape):
        buf = self._buf.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buf[name] = np.empty(shape, dtype=np.float32)
        return buf

    def times(self, Mt, out):
        """out (m, p) ← Mt·Xᵀ for Mt (m, n): X·[Hᵀ | g] in the transposed W layout."""
        self.rows_read += self.p
        if Mt.shape[0] <= self.max_compiled_k + 1:
            return _threads.x_dot(self.X, Mt, out, self.n_threads)
        if not self.single:
            return np.dot(Mt, self.X.T, out=out)
        m32 = self._scratch("m_in", Mt.shape)
        m32[...] = Mt
        r32 = self._scratch("m_out", out.shape)
        np.dot(m32, self.X.T, out=r32)
        out[...] = r32
        return out

    def project(self, V, out=None):
        """out (n, k) ← XᵀVᵀ for V (k, p) (transposed W layout): the projections Z of a W."""
        if out is None:
            out = np.empty((self.n, V.shape[0]))
        self.rows_read += self.p
        if V.shape[0] <= self.max_compiled_k:
            return _threads.xt_dot(self.X, V, out, self.n_threads)
        if not self.single:
            return np.dot(self.X.T, V.T, out=out)
        v32 = self._scratch("v_in", V.shape)
        v32[...] = V
        r32 = self._scratch("v_out", out.shape)
        np.dot(self.X.T, v32.T, out=r32)
        out[...] = r32
        return out

    def fused_w_step(self, k) -> bool:
        """Whether the α = 0 W step runs as one pass over X (``w_step_nmf``).

        It fuses X·Hᵀ, the multiplicative step and B = XᵀV, reading X once instead of twice;
        worth it when X does not fit in cache or k is small (measured in benchmarks/compare.py).
        """
        return k <= self.max_compiled_k and (k <= 6 or self.X.nbytes > FUSED_MIN_BYTES)

    def w_step_nmf(self, H, W, HHt, c_nmf, ridge_w, V, WV, VV, B):
        """The α = 0 W step in one pass over X: V, WᵀV, VᵀV and B = XᵀVᵀ (see ``times``)."""
        self.rows_read += self.p
        return _threads.w_step(self.X, H, W, HHt, c_nmf, ridge_w, EPS, V, WV, VV, B, self.n_threads)

    def labeled(self, A):
        """View of the labelled samples' rows of an (n, ...) array (all rows when n_U = 0)."""
        return A[: self.n_labeled]

    def loglik(self, eta) -> float:
        """Cox log partial likelihood ℓ of the labelled samples' η (n_labeled,)."""
        return _cox.cox_loglik(eta, self.time, self.event, self.efron)

    def penalty_beta(self, beta, sd) -> float:
        """P_ξ(β ⊙ sd), the elastic net on the standardised coefficients."""
        b = beta * sd
        xi = self.prm.l1_ratio
        return xi * float(np.abs(b).sum()) + 0.5 * (1.0 - xi) * float(b @ b)

    def objective(self, cross, gram, h_sq, w_sq, loglik, beta, sd, k) -> Objective:
        """F from small products: cross = ⟨WᵀX, H⟩, gram = ⟨WᵀW, HHᵀ⟩ (DESIGN.md §2)."""
        return self.objective_terms(cross, gram, h_sq, w_sq, loglik, self.penalty_beta(beta, sd), k)

    def objective_terms(self, cross, gram, h_sq, w_sq, loglik, pen_b, k) -> Objective:
        prm = self.prm
        n, p = self.n, self.p  # n counts every sample, unlabelled ones included (§F.5)
        nmf = (self.x_sq - 2.0 * cross + gram) / (2.0 * n * p)
        pen_h = h_sq / (2.0 * n * k)
        pen_w = w_sq / (2.0 * p * k)
        cox = -loglik / self.n_event
        # The reference writes the survival term as 2ℓ/n_event in its loss (not in its β step).
        cox_term = 2.0 * cox if prm.reference else cox
        total = (
            (1.0 - prm.alpha) * (nmf + prm.penalty_h * pen_h)
            + prm.alpha * (cox_term + prm.penalty * pen_b)
            + prm.penalty_w * pen_w
        )
        return Objective(total, nmf, cox, pen_b, pen_w, pen_h)

    def nmf_parts(self, Z, W, H):
        """(cross, gram, ‖H‖², ‖W‖²) of F at (W, H) with Z = XᵀW, from small products only."""
        return (
            _nmf.cross_term(Z, H),
            float(np.einsum("ij,ij->", W.T @ W, H @ H.T)),
            float(np.einsum("ij,ij->", H, H)),
            float(np.einsum("ij,ij->", W, W)),
        )

    def objective_at(self, Z, W, H, beta, sd, parts=None, loglik=None) -> Objective:
        """F at (W, H, β); ``parts`` (see :meth:`nmf_parts`) and ``loglik`` reuse known terms."""
        if parts is None:
            parts = self.nmf_parts(Z, W, H)
        if loglik is None:
            loglik = self.loglik(self.labeled(Z) @ beta)
        return self.objective(*parts, loglik, beta, sd, W.shape[1])

    def beta_step(self, Z, beta, max_iter):
        """Elastic-net Cox on standardised Z (n × k) (DESIGN.md §2 step 3; see ``solve`` below).

        Only the labelled rows of Z enter (β on Z_L, METHODS.md §F.5); mean and sd are theirs.
        Returns (beta, mean_z, sd_z, finite). The warm start is β·sd on the standardised scale;
        the reference convention passes the original-scale β unchanged (its known slip).
        """
        prm = self.prm
        Z = self.labeled(Z)
        n, k = Z.shape
        mean, sd = np.empty(k), np.empty(k)
        Zs = np.empty((n, k), order="F")
        n_const = _nmf.standardize(Z, Zs, mean, sd)
        new = np.zeros(k)
        if n_const == k:
            return new, mean, sd, True
        keep = sd > 1e-12
        if n_const:
            Zs = np.asfortranarray(Zs[:, keep])
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


def normalize_factors(Wk, H, beta):
    """Scale the factors (rows of the transposed W, (k, p)) to unit ℓ2 norm, H's rows and β by
    the same norms (WH and η unchanged)."""
    norms = np.sqrt(np.einsum("fi,fi->f", Wk, Wk))
    norms[norms < EPS] = 1.0
    Wk /= norms[:, None]
    H *= norms[:, None]
    beta *= norms
    return norms


class _Extrapolation:
    """State and trial of the safeguarded extrapolation (module docstring, Ang & Gillis 2019).

    ``start`` records the iterate at the start of an outer iteration; ``trial`` evaluates F
    at the normalised extrapolated point from small products (no pass over X except the rows
    of floored genes) and returns it with its state, or None when F is not finite.
    """

    def __init__(self, prob, k):
        p, n = prob.p, prob.n
        self.prob = prob
        self.gamma = GAMMA_START
        self.gamma_bar = GAMMA_MAX
        self.W0, self.Z0, self.H0 = np.empty((k, p)), np.empty((n, k)), np.empty((k, n))
        self.We, self.Ze, self.He = np.empty((k, p)), np.empty((n, k)), np.empty((k, n))
        self.WtW, self.HHt = np.empty((k, k)), np.empty((k, k))
        self.sd = np.empty(k)
        self.n_accepted = 0

    def start(self, W, Z, H):
        self.W0[...] = W
        self.Z0[...] = Z
        self.H0[...] = H

    def trial(self, W, Z, H, beta):
        prob = self.prob
        k = W.shape[0]
        nl = prob.n_labeled
        cross, n_rows = _desurv_accel.extrapolate(
            W, self.W0, Z, self.Z0, H, self.H0, prob.X, self.gamma, EPS,
            self.We, self.Ze, self.He, self.WtW, self.HHt,
        )  # fmt: skip
        prob.rows_read += n_rows
        # normalising the factors to unit norm (H's rows and β scaled alike) leaves WH, η and
        # β ⊙ sd(Z) unchanged: only ‖H‖² and ‖W‖² need the norms t
        t = np.sqrt(np.diag(self.WtW))
        t[t < EPS] = 1.0
        t_sq = t * t
        _nmf.col_sd(self.Ze[:nl], self.sd)
        loglik = prob.loglik(self.Ze[:nl] @ beta)
        parts = (
            cross,
            float(np.einsum("ij,ij->", self.WtW, self.HHt)),
            float(t_sq @ np.diag(self.HHt)),
            float(np.sum(np.diag(self.WtW) / t_sq)),
        )
        obj = prob.objective_terms(*parts, loglik, prob.penalty_beta(beta, self.sd), k)
        if not np.isfinite(obj.loss):
            return None
        return obj.loss, t, parts, loglik

    def accept(self, W, Z, H, beta, t):
        """Move to the trial point (normalised); returns (sd of Z_L, WᵀW)."""
        np.divide(self.We, t[:, None], out=W)
        np.divide(self.Ze, t, out=Z)
        np.multiply(self.He, t[:, None], out=H)
        beta *= t
        self.n_accepted += 1
        self.gamma_bar = min(GAMMA_MAX, self.gamma_bar * GAMMA_GROW)
        self.gamma = min(self.gamma_bar, self.gamma * GAMMA_GROW)
        return self.sd / t, self.WtW / np.outer(t, t)

    def reject(self):
        self.gamma_bar = self.gamma
        self.gamma /= GAMMA_SHRINK


def _floor_bites(W, V, theta) -> bool:
    """Whether the trial (1−θ)W + θV has negative entries, which its ε-floor lifts.

    W ≥ ε, so this needs V < 0: a survival push larger than the NMF numerator (large α,
    ``balance="numerator"``, θ near 1). Entries in [0, ε) are lifted by at most ε (ignored,
    as the module docstring says); negative ones are not small, and XᵀW(θ) is then no longer
    (1−θ)Z + θB.
    """
    return bool(np.any((1.0 - theta) * W + theta * V < 0.0))


def _exact_trial_terms(
    prob, W, V, theta, H, beta, HHt, h_row_sq, sd, trial_sd, Wt, Zt, eta, sd_t, norms, WtW_t
):
    """The terms of :func:`desurv._kernels._nmf.trial_terms` for the materialised, ε-floored
    trial: W(θ) by ``w_trial`` and its projections Zt = XᵀW(θ) by one pass over X. Used only
    when the floor bites (:func:`_floor_bites`), where the linearity shortcut would be wrong.
    """
    _nmf.w_trial(W, V, theta, EPS, Wt, norms, WtW_t)
    prob.project(Wt, Zt)
    np.dot(Zt, beta, out=eta)
    cross = float(np.einsum("jf,fj->", Zt, H))
    gram = float(np.einsum("ij,ij->", WtW_t, HHt))
    t_sq = norms * norms
    h_sq = float(t_sq @ h_row_sq)
    w_sq = float(np.sum(np.diag(WtW_t) / t_sq))
    if trial_sd:
        _nmf.col_sd(Zt, sd_t)
    else:
        sd_t[...] = sd
    return cross, gram, h_sq, w_sq, prob.penalty_beta(beta, sd_t)


def _compiled_alpha0_applies(prob: _Problem, k: int, ext, callback) -> bool:
    """Whether :func:`run_loop` hands the whole loop to ``_alpha0_loop.run_alpha0``: α = 0
    in the consistent convention with the fused one-thread W step, no extrapolation and no
    per-iteration callback (the compiled loop cannot call back into Python)."""
    prm = prob.prm
    return (
        COMPILED_ALPHA0
        and prm.alpha == 0.0
        and not prm.reference
        and ext is None
        and callback is None
        and prob.n_threads == 1
        and prob.fused_w_step(k)
    )


def _run_alpha0(prob: _Problem, W, H, beta, Z, WtW, sd, max_iter, tol, loss_prev, hist):
    """Run the compiled α = 0 loop on the state of :func:`run_loop` (updated in place) and
    append its history to ``hist``; returns (iterations, converged).

    The loop runs in blocks of ``ALPHA0_BLOCK`` iterations, so its history buffer stays small
    whatever ``max_iter`` is (one Python call per block is nothing next to the block).
    """
    prm = prob.prm
    p, n, nl = prob.p, prob.n, prob.n_labeled
    k = W.shape[0]
    rows = np.empty((min(max_iter, ALPHA0_BLOCK), len(HISTORY_FIELDS)))
    scal = np.array([prm.alpha, prm.penalty, prm.penalty_h, prm.penalty_w])
    done, converged, status = 0, False, 0
    while done < max_iter and not (converged or status):
        it, converged, status, passes = _alpha0_loop.run_alpha0(
            prob.X, W, H, beta, Z, WtW, sd, prob.time, prob.event, prob.efron, nl, prob.x_sq,
            prob.n_event, (1.0 - prm.alpha) / (n * p), prm.penalty_h * p / k,
            prm.penalty_w / (p * k), prm.l1_ratio, scal, EPS, prm.theta0, prm.rho,
            prm.max_backtracks, prm.h_updates, prm.refresh_every, nl == n, done,
            min(max_iter - done, rows.shape[0]), tol, loss_prev, rows,
        )  # fmt: skip
        prob.rows_read += passes * p
        for c, name in enumerate(HISTORY_FIELDS):
            hist[name].extend(rows[:it, c].tolist())
        if it:
            loss_prev = rows[it - 1, 0]
        done += it
    if status:
        warnings.warn(
            "the objective became non-finite: stopping early", RuntimeWarning, stacklevel=4
        )
    return done, bool(converged)


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

    ``W`` (p × k) is copied (the loop works on its transpose); ``H`` (k × n, time-sorted) and
    ``beta`` (k,) are updated in place. Every accepted step leaves F no larger (consistent
    convention); see the module docstring.
    """
    prm = prob.prm
    p, n = prob.p, prob.n
    nl = prob.n_labeled  # labelled samples: the first nl columns (nl == n without unlabelled)
    semi = nl < n
    k = W.shape[1]
    W = np.ascontiguousarray(W.T)  # transposed layout (k, p): gene passes are contiguous
    alpha = prm.alpha
    c_nmf = (1.0 - alpha) / (n * p)
    ridge_h = prm.penalty_h * p / k
    ridge_w = prm.penalty_w / (p * k)
    by_numerator = prm.balance == "numerator"
    # the trial kernel's sd runs over all rows of Z; with unlabelled samples it is redone below
    # on the labelled rows (the reference convention keeps a stale sd either way)
    trial_sd = not prm.reference and not semi

    # The reference normalises W at the start without rescaling β (harmless there: β0 = 0).
    if prm.reference:
        normalize_factors(W, H, np.ones(k))
    else:
        normalize_factors(W, H, beta)
    Z = prob.project(W)  # (n, k) = XᵀW, carried from iteration to iteration
    WtW = W @ W.T  # carried too
    sd = np.empty(k)
    _nmf.col_sd(Z[:nl], sd)  # sd(Z_L): the Cox part sees the labelled samples only
    mean = Z[:nl].mean(axis=0)

    # work buffers, allocated once
    HG = np.empty((k + 1, n))  # [H; g], the right operand of X·[Hᵀ | g]
    HG[k, nl:] = 0.0  # g of unlabelled samples: X·g is then X_L·g_L
    XM = np.empty((k + 1, p))  # (X·[Hᵀ | g])ᵀ
    V = np.empty((k, p))
    B = np.empty((n, k))
    Wt = np.empty((k, p))
    Zt = np.empty((n, k))
    tnorm = np.empty(k)
    WtW_t = np.empty((k, k))
    WV = np.empty((k, k))
    VV = np.empty((k, k))
    sd_t = np.empty(k)
    grad = np.empty(nl)
    weight = np.empty(nl)
    h_row_sq = np.empty(k)
    eta_t = np.empty(n)

    ext = _Extrapolation(prob, k) if prm.extrapolate else None

    hist = {name: [] for name in HISTORY_FIELDS}
    loss_prev = 1e-6 if prm.reference else prob.objective_at(Z, W.T, H, beta, sd).loss
    converged = False
    beta_reverts = 0
    it = 0
    compiled = _compiled_alpha0_applies(prob, k, ext, callback)
    if compiled:
        it, converged = _run_alpha0(prob, W, H, beta, Z, WtW, sd, max_iter, tol, loss_prev, hist)
    while not compiled and it < max_iter:
        if ext is not None:
            ext.start(W, Z, H)
        # ---- H: multiplicative update with ridge, fused with HHᵀ ----
        HHt = _nmf.update_h(H, Z, WtW, ridge_h, EPS)
        for _ in range(prm.h_updates - 1):  # more H updates: no pass over X, F decreases
            HHt = _nmf.update_h(H, Z, WtW, ridge_h, EPS)

        # ---- W: balanced multiplicative step with backtracking on θ ----
        eta = Z[:nl] @ beta
        loglik0 = _cox.cox_stats(eta, prob.time, prob.event, grad, weight, prob.efron)
        parts = _nmf.base_terms(Z, H, WtW, HHt, h_row_sq)
        L0 = prob.objective(*parts, loglik0, beta, sd, k).loss
        loglik_cur = loglik0  # ℓ at the current (W, β), kept up to date below
        v_neg = False  # V has negative entries: the ε-floor of a trial may bite (below)
        if alpha == 0.0 and prob.fused_w_step(k):  # no Cox gradient: one pass over X, V ≥ 0
            prob.w_step_nmf(H, W, HHt, c_nmf, ridge_w, V, WV, VV, B)
        else:
            HG[:k] = H
            HG[k, :nl] = grad
            prob.times(HG, XM)
            _nmf.w_direction(
                W, XM, beta, HHt, c_nmf, ridge_w, alpha, prm.ratio_clamp, EPS, V, WV, VV,
                by_numerator,
            )  # fmt: skip
            prob.project(V, B)
            v_neg = V.min() < 0.0

        theta = prm.theta0
        accepted = False
        bt = 0
        while bt <= prm.max_backtracks:
            # the reference keeps a stale sd (rescaled with W's columns: β ⊙ sd unchanged);
            # we use the true sd of the trial's projections (scale cancels)
            exact = v_neg and _floor_bites(W, V, theta)
            if exact:  # Wt, tnorm and WtW_t now hold the materialised trial
                cross, gram, h_sq, w_sq, pen_b = _exact_trial_terms(
                    prob, W, V, theta, H, beta, HHt, h_row_sq, sd, trial_sd,
                    Wt, Zt, eta_t, sd_t, tnorm, WtW_t,
                )  # fmt: skip
            else:
                cross, gram, h_sq, w_sq, pen_b = _nmf.trial_terms(
                    Z, B, theta, H, beta, WtW, WV, VV, HHt, h_row_sq, prm.l1_ratio, sd,
                    trial_sd, Zt, eta_t, sd_t, tnorm,
                )  # fmt: skip
            if semi and not prm.reference:  # sd of the labelled rows only (the kernel's: all)
                _nmf.col_sd(Zt[:nl], sd_t)
                pen_b = prob.penalty_beta(beta, sd_t)
            loglik = prob.loglik(eta_t[:nl])
            L = prob.objective_terms(cross, gram, h_sq, w_sq, loglik, pen_b, k).loss
            if np.isfinite(L) and L <= L0:
                accepted = True
                break
            theta *= prm.rho
            bt += 1
        if accepted:
            # materialise the trial exactly (ε-floor included) and normalise its columns;
            # η and every part of F are unchanged by the normalisation
            if not exact:
                _nmf.w_trial(W, V, theta, EPS, Wt, tnorm, WtW_t)
            np.divide(Wt, tnorm[:, None], out=W)
            H *= tnorm[:, None]
            beta *= tnorm
            np.divide(Zt, tnorm, out=Z)
            sd = sd_t / tnorm
            WtW = WtW_t / np.outer(tnorm, tnorm)
            t_sq = tnorm * tnorm
            parts = (cross, float(np.einsum("ij,ij->", WtW_t, HHt)), float(t_sq @ h_row_sq),
                     float(np.sum(np.diag(WtW_t) / t_sq)))  # fmt: skip
            loglik_cur = loglik
        if ext is not None:
            # ---- safeguarded extrapolation along the iteration's displacement ----
            F_cur = L if accepted else L0
            trial = ext.trial(W, Z, H, beta)
            if trial is not None and trial[0] <= F_cur:
                _, t, parts, loglik_cur = trial
                sd, WtW = ext.accept(W, Z, H, beta, t)
            else:
                ext.reject()
        if prm.refresh_every and (it + 1) % prm.refresh_every == 0:
            # recompute the carried products exactly, so rounding cannot accumulate
            prob.project(W, Z)
            WtW = W @ W.T
            parts = loglik_cur = None

        # ---- β: elastic-net Cox on the new Z ----
        finite = True
        obj = None  # F at the end of the iteration, when the β step already evaluated it
        if alpha > 0.0:
            if prm.reference:
                beta, mean, sd, finite = prob.beta_step(Z, beta, prm.beta_max_iter)
                loglik_cur = None
            else:
                new_beta, mean, sd, finite = prob.beta_step(Z, beta, prm.beta_max_iter)
                if parts is None:
                    parts = prob.nmf_parts(Z, W.T, H)
                before = prob.objective_at(Z, W.T, H, beta, sd, parts, loglik_cur)
                after = prob.objective_at(Z, W.T, H, new_beta, sd, parts)
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
            obj = prob.objective_at(Z, W.T, H, beta, sd, parts, loglik_cur)
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
    rejected = sum(1 for th in hist["theta"] if th == 0.0)
    if warn and converged and it >= STALL_MIN_ITER and rejected > STALL_SHARE * it:
        # "converged" because only H and β still moved: W is (nearly) its start
        warnings.warn(
            f"DeSurv's W step was rejected in {rejected} of {it} iterations: W barely moved, "
            "and the fit stopped because H and β stopped improving F. The survival push "
            "exceeds what a damped multiplicative step can take (seen with "
            "balance='numerator' and large alpha); try balance='gradient' or a smaller alpha",
            ConvergenceWarning,
            stacklevel=3,
        )

    # ---- final Cox refit on the final W (always, also when α = 0) ----
    prob.project(W, Z)
    beta, mean, sd, _ = prob.beta_step(Z, beta, prm.beta_max_iter_final)
    history = {
        name: np.asarray(vals, dtype=np.int64 if name == "backtracks" else np.float64)
        for name, vals in hist.items()
    }
    return LoopResult(
        W=np.ascontiguousarray(W.T),
        H=H,
        beta=beta,
        mean_z=mean,
        sd_z=sd,
        n_iter=it,
        converged=converged,
        history=history,
        objective=prob.objective_at(Z, W.T, H, beta, sd),
        beta_reverts=beta_reverts,
        n_extrapolated=0 if ext is None else ext.n_accepted,
    )
