"""Functional core of desurv: the backend API for other libraries.

Arrays in the paper's orientation in, arrays out; no pandas, no global state, no threads of
its own. The compiled kernels release the GIL, so several fits may run at once from
different Python threads (each call owns all the memory it writes).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from desurv._validation import (
    check_nonnegative_matrix,
    check_real_param,
    check_scale,
    check_time_event,
)
from desurv.deconvolution._loop import (
    HISTORY_FIELDS,
    FittedFactors,
    SolverParams,
    _Problem,
    run_loop,
)

__all__ = ["DeSurvResult", "fit_desurv", "HISTORY_FIELDS"]

_INIT_SELECT = ("objective", "cindex")


@dataclass
class DeSurvResult(FittedFactors):
    """Output of :func:`fit_desurv` (paper orientation).

    Attributes
    ----------
    W : ndarray of shape (n_genes, n_components)
        Gene programs (metagenes), columns of unit ℓ2 norm.
    H : ndarray of shape (n_components, n_samples)
        Sample exposures, columns in the input sample order.
    beta : ndarray of shape (n_components,)
        Cox coefficients β on the scale of Z = XᵀW (the linear predictor is η = XᵀWβ).
    mean_z, sd_z : ndarray of shape (n_components,)
        Mean and standard deviation (ddof = 1) of the training projections Z.
    n_iter : int
        Outer iterations of the final run.
    converged : bool
        Whether the relative change of the objective fell to ``tol`` before ``max_iter``.
    history : dict of ndarray
        Per iteration: ``loss`` (objective F), ``nmf_loss``, ``cox_loss`` (−ℓ/n_event),
        ``enet_beta`` (P_ξ(β⊙sd(Z)), before the weight λ), ``sqnorm_w`` (‖W‖²/(2pk), before
        λ_W), ``sqnorm_h`` (‖H‖²/(2nk), before λ_H), ``theta`` (accepted damping, 0 when the
        W step was rejected) and ``backtracks``.
    objective : dict
        F and its components after the final Cox refit.
    init_scores : ndarray of shape (n_init,)
        Selection score of each short random start (empty for a custom start).
    best_init : int
        Index of the start that was kept (-1 for a custom start).
    beta_reverts : int
        β steps rejected because they would have increased F (consistent convention only).
    """

    history: dict
    objective: dict
    init_scores: np.ndarray
    best_init: int
    beta_reverts: int = 0


def _check_start(M, shape, name):
    M = np.array(M, dtype=np.float64, order="C")  # always a private copy
    if M.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if name != "beta_init" and np.any(M < 0):
        raise ValueError(f"{name} must be nonnegative")
    return M


def _sorted_columns(X, order):
    """C-ordered copy of X with its columns (samples) in ``order``, peak memory one copy.

    ``X[:, order]`` comes out F-ordered (and would need a second copy); ``np.take`` is right
    for a C-ordered X, but on an F-ordered X (e.g. the estimator's transposed samples × genes
    input) it builds a full temporary, so that case gathers blocks of rows.
    """
    if X.flags.c_contiguous:
        return np.take(X, order, axis=1)
    Xs = np.empty(X.shape, dtype=X.dtype)
    for i in range(0, X.shape[0], 256):
        Xs[i : i + 256] = X[i : i + 256, order]
    return Xs


def _nnls_exposures(X, W):
    """H minimising ‖X − WH‖ column by column under H ≥ 0 (used when only W is given)."""
    from scipy.optimize import nnls  # only for a custom start (keeps start-up light)

    H = np.empty((W.shape[1], X.shape[1]))
    for j in range(X.shape[1]):
        H[:, j] = nnls(W, X[:, j])[0]
    return np.maximum(H, 1e-12)


@contextlib.contextmanager
def _blas_threads(n_threads):
    if n_threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n_threads), user_api="blas"):
        yield


def fit_desurv(
    X,
    time,
    event,
    n_components,
    *,
    alpha=0.5,
    penalty=0.1,
    l1_ratio=0.5,
    penalty_w=0.0,
    penalty_h=0.0,
    W_init=None,
    H_init=None,
    beta_init=None,
    n_init=20,
    init_max_iter=30,
    init_tol=1e-4,
    init_select="objective",
    max_iter=1000,
    tol=1e-6,
    random_state=None,
    ties="breslow",
    loss_convention="consistent",
    balance="gradient",
    theta0=0.5,
    rho=0.5,
    max_backtracks=10,
    beta_tol=1e-6,
    beta_max_iter=100,
    beta_max_iter_final=500,
    n_threads=None,
    dtype="float64",
    warn=True,
    callback=None,
    init_callback=None,
) -> DeSurvResult:
    """Fit DeSurv: NMF X ≈ WH jointly with an elastic-net Cox model on Z = XᵀW.

    Minimises (Young et al., DeSurv; DESIGN.md §2)

        F = (1−α)[‖X − WH‖²/(2np) + λ_H‖H‖²/(2nk)]
          + α[−ℓ(W, β)/n_event + λ(ξ‖β⊙sd(Z)‖₁ + (1−ξ)/2‖β⊙sd(Z)‖²)] + λ_W‖W‖²/(2pk)

    by alternating a multiplicative H update, a balanced multiplicative W step with
    backtracking on its damping θ, and coordinate descent for β; β is refitted once more on
    the final W. ℓ is the Cox log partial likelihood (Breslow ties by default).

    Parameters
    ----------
    X : array-like of shape (n_genes, n_samples)
        Nonnegative expression matrix (paper orientation, genes × samples), finite.
    time : array-like of shape (n_samples,)
        Follow-up times (any unit), nonnegative.
    event : array-like of shape (n_samples,)
        Event indicators (1/True = event observed). At least one event is required.
    n_components : int
        Number of gene programs k, 1 ≤ k ≤ min(n_genes, n_samples).
    alpha : float in [0, 1), default 0.5
        α, weight of the survival term; 0 gives plain NMF followed by a Cox fit on Z.
    penalty : float >= 0, default 0.1
        λ, elastic-net strength on the standardised coefficients β ⊙ sd(Z).
    l1_ratio : float in [0, 1], default 0.5
        ξ, elastic-net mixing (1 = lasso, 0 = ridge).
    penalty_w, penalty_h : float >= 0, default 0
        λ_W and λ_H, ridge penalties on W and H.
    W_init, H_init, beta_init : ndarray, optional
        Custom start: W_init (n_genes, k) and H_init (k, n_samples) nonnegative, beta_init
        (k,). Giving W_init skips the random multi-start. Without H_init, H is set by
        nonnegative least squares on W_init; without beta_init, β = 0.
    n_init : int, default 20
        Number of short random starts (W, H uniform on [0, max X], β = 0, as the reference).
    init_max_iter, init_tol : int, float, default 30, 1e-4
        Iteration cap and tolerance of each short start.
    init_select : {"objective", "cindex"}, default "objective"
        Which short start is kept: the lowest objective F (default), or the highest training
        concordance of η as the authors' package does. The full run continues from the
        kept start's W, H and β.
    max_iter, tol : int, float, default 1000, 1e-6
        Stop when |F − F_prev|/|F_prev| ≤ tol; a ConvergenceWarning is issued at max_iter.
    random_state : int, numpy Generator or None
        Seed of the random starts; the same seed gives bit-identical results.
    ties : {"breslow", "efron"}, default "breslow"
        Handling of tied event times in the partial likelihood.
    loss_convention : {"consistent", "reference"}, default "consistent"
        "consistent" uses F above, so every accepted step decreases it. "reference"
        reproduces the published R implementation (ayoung31/DeSurv) exactly: survival term
        −2ℓ/n_event in the loss used for backtracking and stopping, a stale sd(Z) in the W
        line search, and β warm-started on the wrong scale. Use it only to reproduce
        published results.
    balance : {"gradient", "numerator"}, default "gradient"
        Scale of the survival push in the W step (DESIGN §2): α·min(‖G_nmf‖/‖G_cox‖, 10⁶)
        with G_nmf the NMF gradient (the authors'; "gradient") or with the norm of the NMF
        numerator (1−α)/(np)·XHᵀ ("numerator"). ‖G_nmf‖ vanishes at every stationary point of
        plain NMF, so with "gradient" a fit started at (or near) an NMF solution stays there
        for every α: supervision acts only along the path from a random start (this is why
        warm starts along α reproduce α = 0). "numerator" does not vanish there. Either way
        a W trial is accepted only if F does not increase, so F stays monotone.
        ``loss_convention="reference"`` requires "gradient" (the published algorithm).
    theta0, rho, max_backtracks : float, float, int, default 0.5, 0.5, 10
        Backtracking on the damping θ of the W step: θ0, θ0ρ, …, θ0ρ^max_backtracks.
    beta_tol, beta_max_iter, beta_max_iter_final : float, int, int
        Coordinate-descent tolerance on max_j |Δβ_j|·√v_j and sweep caps (inside the loop /
        for the final refit).
    n_threads : int or None, default None
        BLAS threads for this fit (via threadpoolctl). None leaves the process setting alone.
        For k ≤ 16 the two products with X per iteration use desurv's own single-thread
        compiled kernels (faster than BLAS for such skinny operands); ``n_threads > 1`` asks
        for multi-threaded BLAS products instead, which pays off only for large X.
    dtype : {"float64", "float32"}, default "float64"
        Storage precision of X. "float32" halves the memory of X and the memory traffic of
        the two products with X per iteration; the products still accumulate in float64
        (compiled kernels, k ≤ 16) and W, H, β, the projections and the objective stay
        float64, so the fit is the float64 fit of X rounded to single precision (relative
        change of X ≤ 6e-8). With BLAS products (k > 16 or ``n_threads > 1``) the products
        run in single precision (sgemm).
    warn : bool, default True
        Issue a ConvergenceWarning when the final run hits ``max_iter``.
    callback : callable(iteration, Objective), optional
        Called after every outer iteration of the final run.
    init_callback : callable(start, score), optional
        Called after each short random start (``start`` counts from 1; ``score`` as in
        ``init_scores``), e.g. for a progress bar over the starts.

    Returns
    -------
    DeSurvResult

    Raises
    ------
    ValueError
        Negative/non-finite X; X all zero, every gene constant, or values whose products
        overflow/underflow float64; mismatched lengths, no events, k too large, bad
        hyperparameters or start matrices of the wrong shape.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float64, np.float32):
        raise ValueError("dtype must be 'float64' or 'float32'")
    X = check_nonnegative_matrix(X, "X", dtype=dtype)
    check_scale(X.T)  # all zero, constant genes, overflow/underflow: no meaningful fit
    p, n = X.shape
    time, event = check_time_event(time, event, n_samples=n)
    if n < 2:
        raise ValueError("at least 2 samples are required")
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
    # types first, so that e.g. alpha="0.5" is a ValueError naming alpha, not a TypeError
    for name, value in (
        ("alpha", alpha),
        ("penalty", penalty),
        ("l1_ratio", l1_ratio),
        ("penalty_w", penalty_w),
        ("penalty_h", penalty_h),
        ("tol", tol),
    ):
        check_real_param(name, value)
    for name, value in (("max_iter", max_iter), ("n_init", n_init)):
        check_real_param(name, value)
    if n_components < 1:
        raise ValueError(f"n_components must be >= 1, got {n_components}")
    if n_components > min(p, n):
        raise ValueError(
            f"n_components={n_components} is too large: it must be at most "
            f"min(n_genes, n_samples) = min({p}, {n})"
        )
    if not (0.0 <= alpha < 1.0):
        raise ValueError(f"alpha must be in [0, 1), got {alpha}")
    for name, value in (("penalty", penalty), ("penalty_w", penalty_w), ("penalty_h", penalty_h)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    if not (0.0 <= l1_ratio <= 1.0):
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    if int(n_init) < 1:
        raise ValueError(f"n_init must be >= 1, got {n_init}")
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    if loss_convention not in ("consistent", "reference"):
        raise ValueError(
            f"loss_convention must be 'consistent' or 'reference', got {loss_convention!r}"
        )
    if balance not in ("gradient", "numerator"):
        raise ValueError(f"balance must be 'gradient' or 'numerator', got {balance!r}")
    if loss_convention == "reference" and balance != "gradient":
        raise ValueError(
            "loss_convention='reference' reproduces the published algorithm, whose balancing "
            "is balance='gradient'; drop balance= or use loss_convention='consistent'"
        )
    if init_select not in _INIT_SELECT:
        raise ValueError(f"init_select must be one of {_INIT_SELECT}, got {init_select!r}")
    k = int(n_components)
    params = SolverParams(
        alpha=float(alpha),
        penalty=float(penalty),
        l1_ratio=float(l1_ratio),
        penalty_w=float(penalty_w),
        penalty_h=float(penalty_h),
        ties=ties,
        loss_convention=loss_convention,
        balance=balance,
        theta0=float(theta0),
        rho=float(rho),
        max_backtracks=int(max_backtracks),
        beta_tol=float(beta_tol),
        beta_max_iter=int(beta_max_iter),
        beta_max_iter_final=int(beta_max_iter_final),
    )
    if W_init is None and (H_init is not None or beta_init is not None):
        raise ValueError("a custom start needs W_init (H_init and beta_init are optional)")

    # Sort samples by time once (stable, so tied times keep input order); undone on return.
    order = np.argsort(time, kind="stable")
    Xs = _sorted_columns(X, order)
    prob = _Problem(
        Xs,
        np.ascontiguousarray(time[order]),
        np.ascontiguousarray(event[order], dtype=np.float64),
        params,
        blas=n_threads is not None and int(n_threads) > 1,
    )

    with _blas_threads(n_threads):
        if W_init is not None:
            W0 = _check_start(W_init, (p, k), "W_init")
            H0 = (
                _nnls_exposures(X, W0) if H_init is None else _check_start(H_init, (k, n), "H_init")
            )
            H0 = np.ascontiguousarray(H0[:, order])
            b0 = np.zeros(k) if beta_init is None else _check_start(beta_init, (k,), "beta_init")
            scores = np.empty(0)
            best = -1
        else:
            W0, H0, b0, scores, best = _multi_start(
                prob,
                k,
                n_init,
                init_max_iter,
                init_tol,
                init_select,
                random_state,
                init_callback,
            )
        res = run_loop(prob, W0, H0, b0, int(max_iter), float(tol), warn=warn, callback=callback)

    H = np.empty_like(res.H)
    H[:, order] = res.H
    return DeSurvResult(
        W=res.W,
        H=H,
        beta=res.beta,
        mean_z=res.mean_z,
        sd_z=res.sd_z,
        n_iter=res.n_iter,
        converged=res.converged,
        history=res.history,
        objective=res.objective.as_dict(),
        init_scores=scores,
        best_init=best,
        beta_reverts=res.beta_reverts,
    )


def _multi_start(
    prob, k, n_init, init_max_iter, init_tol, init_select, random_state, init_callback=None
):
    """Short runs from random starts; returns the kept (W, H, β) and every start's score."""
    if isinstance(random_state, np.random.Generator):
        seeds = random_state.integers(0, 2**63 - 1, size=int(n_init))
        rngs = [np.random.default_rng(int(s)) for s in seeds]
    else:
        rngs = [
            np.random.default_rng(s)
            for s in np.random.SeedSequence(random_state).spawn(int(n_init))
        ]
    x_max = float(prob.X.max())
    upper = x_max if x_max > 0 else 1.0
    scores = np.empty(len(rngs))
    best = None
    for i, rng in enumerate(rngs):
        W = rng.uniform(0.0, upper, size=(prob.p, k))
        H = rng.uniform(0.0, upper, size=(k, prob.n))
        beta = np.zeros(k)
        res = run_loop(prob, W, H, beta, int(init_max_iter), float(init_tol), warn=False)
        if init_select == "objective":
            score = res.objective.loss
        else:  # training concordance of η (higher is better): store its negative
            from desurv.survival.concordance import concordance_index

            eta = prob.project(np.ascontiguousarray(res.W.T)) @ res.beta
            score = -concordance_index(prob.time, prob.event.astype(bool), eta)
        scores[i] = score
        if init_callback is not None:
            init_callback(i + 1, score if init_select == "objective" else -score)
        if np.isfinite(score) and (best is None or score < scores[best[0]]):
            best = (i, res)
    if best is None:
        raise RuntimeError("every random start gave a non-finite objective")
    i, res = best
    out_scores = scores if init_select == "objective" else -scores
    return res.W, res.H, res.beta, out_scores, i
