"""Functional core of desurv: the backend API for other libraries.

Arrays in the paper's orientation in, arrays out; no pandas, no global state, no threads of
its own. The compiled kernels release the GIL, so several fits may run at once from
different Python threads (each call owns all the memory it writes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desurv._threads import blas_threads as _blas_threads
from desurv._validation import (
    X_NORM_MAX,
    check_nonnegative_matrix,
    check_real_param,
    check_scale,
    split_unlabeled,
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
_ACCELERATION = ("none", "extrapolation")


@dataclass
class DeSurvResult(FittedFactors):
    """Output of :func:`fit_desurv` (paper orientation).

    Attributes
    ----------
    W : ndarray of shape (n_genes, n_components)
        Gene programs (metagenes), columns of unit ℓ2 norm.
    H : ndarray of shape (n_components, n_samples)
        Sample exposures of the columns of X, in the input sample order (unlabelled columns,
        marked by a NaN time, included).
    beta : ndarray of shape (n_components,)
        Cox coefficients β on the scale of Z = XᵀW (the linear predictor is η = XᵀWβ).
    mean_z, sd_z : ndarray of shape (n_components,)
        Mean and standard deviation (ddof = 1) of the labelled training projections Z_L.
    n_iter : int
        Outer iterations of the final run.
    converged : bool
        Whether the relative change of the objective fell to ``tol`` before ``max_iter``.
    history : dict of ndarray
        Per iteration: ``loss`` (objective F), ``nmf_loss``, ``cox_loss`` (−ℓ/n_event),
        ``enet_beta`` (P_ξ(β⊙sd(Z)), before the weight λ), ``sqnorm_w`` (‖W‖²/(2pk), before
        λ_W), ``sqnorm_h`` (‖H‖²/(2nk), before λ_H), ``theta`` (accepted damping, 0 when the
        W step was rejected) and ``backtracks``. With unlabelled samples n is n_all in
        ``nmf_loss`` and ``sqnorm_h``, and ``cox_loss``/``enet_beta`` use the labelled ones.
    objective : dict
        F and its components after the final Cox refit.
    init_scores : ndarray of shape (n_init,)
        Selection score of each short random start (empty for a custom start).
    best_init : int
        Index of the start that was kept (-1 for a custom start).
    beta_reverts : int
        β steps rejected because they would have increased F (consistent convention only).
    n_extrapolated : int
        Extrapolated points accepted in the final run (``acceleration="extrapolation"``;
        0 otherwise).
    H_unlabeled : ndarray of shape (n_components, n_unlabeled_extra)
        Exposures of the columns of ``X_unlabeled`` in input order ((k, 0) without it).
    n_labeled, n_unlabeled : int
        Samples with follow-up (in the Cox term) and without (in the NMF term only: NaN-time
        columns of X plus the columns of ``X_unlabeled``); n_labeled + n_unlabeled = n_all.
    """

    history: dict
    objective: dict
    init_scores: np.ndarray
    best_init: int
    beta_reverts: int = 0
    H_unlabeled: np.ndarray | None = None
    n_labeled: int | None = None
    n_unlabeled: int = 0
    n_extrapolated: int = 0

    def __post_init__(self):
        if self.H_unlabeled is None:
            self.H_unlabeled = np.empty((self.H.shape[0], 0))
        if self.n_labeled is None:  # plain DeSurv: every sample is labelled
            self.n_labeled = self.H.shape[1] + self.H_unlabeled.shape[1] - self.n_unlabeled


def _check_start(M, shape, name):
    M = np.array(M, dtype=np.float64, order="C")  # always a private copy
    if M.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if name != "beta_init" and np.any(M < 0):
        raise ValueError(f"{name} must be nonnegative")
    return M


def _check_w_start(W0):
    """Reject a W start from which multiplicative updates cannot give k distinct factors."""
    zero = np.flatnonzero(~W0.any(axis=0))
    if zero.size:
        raise ValueError(
            f"W_init column {int(zero[0])} (0-based) is all zero: multiplicative updates cannot "
            "move a factor away from zero; start every factor with positive entries"
        )
    k = W0.shape[1]
    for f in range(k):
        same = [g for g in range(f + 1, k) if np.array_equal(W0[:, f], W0[:, g])]
        if same:
            raise ValueError(
                f"W_init columns {f} and {same[0]} (0-based) are identical: multiplicative "
                "updates keep identical factors identical, so the fit would have fewer than "
                "k distinct programs; give every factor a different start"
            )
    return W0


def _sorted_columns(X, order, extra=None):
    """C-ordered copy of X with its columns (samples) in ``order``, peak memory one copy.

    ``X[:, order]`` comes out F-ordered (and would need a second copy); ``np.take`` is right
    for a C-ordered X, but on an F-ordered X (e.g. the estimator's transposed samples × genes
    input) it builds a full temporary, so that case gathers blocks of rows. ``extra``
    (p × m, e.g. unlabelled samples) is appended after the ordered columns in the same pass.
    """
    if extra is not None:
        m = order.shape[0]
        Xs = np.empty((X.shape[0], m + extra.shape[1]), dtype=X.dtype)
        for i in range(0, X.shape[0], 256):
            Xs[i : i + 256, :m] = X[i : i + 256, order]
            Xs[i : i + 256, m:] = extra[i : i + 256]
        return Xs
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


def fit_desurv(
    X,
    time,
    event,
    n_components,
    *,
    X_unlabeled=None,
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
    acceleration="none",
    h_updates=None,
    theta0=None,
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

    **Semi-supervised DeSurv** (METHODS.md §F.5). Samples without follow-up (the columns of
    ``X_unlabeled``, and columns of X whose time is NaN) enter the NMF term and H only. With
    X = [X_L | X_U], H = [H_L | H_U], n_all = n_L + n_U and Z_L = X_Lᵀ W it minimises

        F = (1−α)[‖X − WH‖²/(2 n_all p) + λ_H‖H‖²/(2 n_all k)]
          + α[−ℓ(W, β; X_L, y_L)/n_event + λP_ξ(β⊙sd(Z_L))] + λ_W‖W‖²/(2pk):

    the NMF term is normalised by **all** n_all samples (so adding unlabelled data keeps the
    per-sample NMF scale), the Cox term by the labelled events. H is updated over all
    columns; the W step's NMF numerator and denominator use all samples, its Cox gradient
    X_L g βᵀ the labelled ones, balanced as above; β is fitted on Z_L, and ``mean_z``/``sd_z``
    are those of Z_L. With no unlabelled sample this is DeSurv, bit for bit.

    Parameters
    ----------
    X : array-like of shape (n_genes, n_samples)
        Nonnegative expression matrix (paper orientation, genes × samples), finite.
    time : array-like of shape (n_samples,)
        Follow-up times (any unit), nonnegative. NaN marks an unlabelled sample (no
        follow-up: it enters the NMF term only); at least 2 samples must be labelled.
    event : array-like of shape (n_samples,)
        Event indicators (1/True = event observed); 0/False or NaN where time is NaN. At
        least one event among the labelled samples is required.
    n_components : int
        Number of gene programs k, 1 ≤ k ≤ min(n_genes, n_all) (n_all counts every sample,
        unlabelled ones included).
    X_unlabeled : array-like of shape (n_genes, n_unlabeled), optional
        Expression of extra samples without follow-up (the same genes in the same order as X,
        same orientation, nonnegative): semi-supervised DeSurv, see above. Their exposures
        are returned as ``H_unlabeled``. Zero columns are allowed (plain DeSurv).
    alpha : float in [0, 1), default 0.5
        α, weight of the survival term; 0 gives plain NMF followed by a Cox fit on Z.
    penalty : float >= 0, default 0.1
        λ, elastic-net strength on the standardised coefficients β ⊙ sd(Z).
    l1_ratio : float in [0, 1], default 0.5
        ξ, elastic-net mixing (1 = lasso, 0 = ridge).
    penalty_w, penalty_h : float >= 0, default 0
        λ_W and λ_H, ridge penalties on W and H.
    W_init, H_init, beta_init : ndarray, optional
        Custom start: W_init (n_genes, k) and H_init (k, n_samples + n_unlabeled)
        nonnegative (columns: those of X, then those of ``X_unlabeled``), beta_init (k,).
        Giving W_init skips the random multi-start. Without H_init, H is set by nonnegative
        least squares on W_init; without beta_init, β = 0.
    n_init : int, default 20
        Number of short random starts (W, H uniform on [0, max X], β = 0, as the reference;
        max X over all samples, unlabelled included).
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
    acceleration : {"none", "extrapolation"}, default "none"
        "none" is the algorithm above. "extrapolation" is an accelerated W/H step that
        keeps F monotone (``loss_convention="consistent"`` only): ``h_updates`` H updates
        per W step (they need only the carried projections, no pass over X), the W step
        starting at θ0 = 1, then the iteration extended along its own displacement,
        (W, H) + γ((W, H) − (W₀, H₀)) floored at ε, accepted only if F does not increase,
        with γ adapted as in Ang & Gillis (2019), "Accelerating nonnegative matrix
        factorization algorithms using extrapolation" (line-search extrapolation of ALS:
        Harshman 1970, Bro 1998). Its projections follow by linearity, so it reads only
        the rows of X of genes floored at ε. In ``benchmarks/desurv_time_to_solution.py``
        it reached the plain algorithm's final objective 3–5× sooner (median final F
        equal or lower); like any change of the path of a non-convex fit it can end at
        a different stationary point. The random starts use it too.
    h_updates : int >= 1 or None, default None
        H updates per W step: None is 1 with ``acceleration="none"`` and 3 with
        "extrapolation". Values other than 1 need ``loss_convention="consistent"``.
    theta0 : float in (0, 1] or None, default None
        First damping θ0 of the W step's backtracking: None is 0.5 with
        ``acceleration="none"`` (the authors') and 1.0 with "extrapolation".
    rho, max_backtracks : float, int, default 0.5, 10
        Backtracking on the damping θ of the W step: θ0, θ0ρ, …, θ0ρ^max_backtracks.
    beta_tol, beta_max_iter, beta_max_iter_final : float, int, int
        Coordinate-descent tolerance on max_j |Δβ_j|·√v_j and sweep caps (inside the loop /
        for the final refit).
    n_threads : int or None, default None
        Threads for this fit. None leaves the process setting alone. For k ≤ 16 the two
        products with X per iteration use desurv's own compiled kernels (faster than BLAS for
        such skinny operands), which split the genes over ``n_threads`` threads when X is
        large enough to pay for it (results agree with one thread to rounding); for larger k
        BLAS runs with ``n_threads`` threads (via threadpoolctl). At α = 0 the W step reads X
        once instead of twice (a fused kernel).
    dtype : {"float64", "float32"}, default "float64"
        Storage precision of X. "float32" halves the memory of X and the memory traffic of
        the two products with X per iteration; the products still accumulate in float64
        (compiled kernels, k ≤ 16) and W, H, β, the projections and the objective stay
        float64, so the fit is the float64 fit of X rounded to single precision (relative
        change of X ≤ 6e-8). With BLAS products (k > 16) the products run in single
        precision (sgemm).
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
        hyperparameters or start matrices of the wrong shape; a ``W_init`` with an all-zero
        column or two identical columns; ``X_unlabeled`` negative,
        non-finite or with another number of genes; fewer than 2 labelled samples; an
        unlabelled (NaN-time) sample with event 1; ``acceleration`` or ``h_updates`` other
        than the plain algorithm with ``loss_convention="reference"``.
    """
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float64, np.float32):
        raise ValueError("dtype must be 'float64' or 'float32'")
    X = check_nonnegative_matrix(X, "X", dtype=dtype, genes_by_samples=True)
    check_scale(X.T)  # all zero, constant genes, overflow/underflow: no meaningful fit
    p, n = X.shape
    time, event, labeled = split_unlabeled(time, event, n)
    XU = None
    if X_unlabeled is not None:
        shape = np.shape(X_unlabeled)
        if len(shape) == 2 and shape[1] == 0:  # no unlabelled sample: DeSurv, bit for bit
            XU = np.empty(shape, dtype=dtype)
        else:
            XU = check_nonnegative_matrix(
                X_unlabeled, "X_unlabeled", dtype=dtype, genes_by_samples=True
            )
        if XU.shape[0] != p:
            raise ValueError(
                f"X_unlabeled has {XU.shape[0]} genes (rows) but X has {p}: both are genes × "
                "samples with the same genes in the same order"
            )
        amax = max(float(X.max()), float(XU.max()) if XU.size else 0.0)
        if amax * np.sqrt(X.size + XU.size) > X_NORM_MAX:
            raise ValueError(
                f"X and X_unlabeled have values up to {amax:.3g}: the products of the fit "
                "overflow float64; rescale both the same way or rank-transform them "
                "(desurv.preprocessing.rank_transform)"
            )
    n_all = n + (0 if XU is None else XU.shape[1])
    if time.shape[0] < 2:
        raise ValueError(
            "at least 2 samples are required"
            if labeled is None
            else f"at least 2 labelled samples (with a time) are required, got {time.shape[0]}"
        )
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
    if n_components > min(p, n_all):
        raise ValueError(
            f"n_components={n_components} is too large: it must be at most "
            f"min(n_genes, n_samples) = min({p}, {n_all})"
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
    h_updates, theta0 = _check_acceleration(acceleration, h_updates, theta0, loss_convention)
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
        h_updates=h_updates,
        extrapolate=acceleration == "extrapolation",
    )
    if W_init is None and (H_init is not None or beta_init is not None):
        raise ValueError("a custom start needs W_init (H_init and beta_init are optional)")

    # Sort samples by time once (stable, so tied times keep input order); undone on return.
    # Semi-supervised: labelled columns (sorted) first, then X's unlabelled columns, then
    # X_unlabeled's, both in input order (the loop's Cox part sees the first n_L columns).
    t_order = np.argsort(time, kind="stable")
    if labeled is None:
        order = t_order
    else:
        order = np.concatenate([np.flatnonzero(labeled)[t_order], np.flatnonzero(~labeled)])
    full_order = order if XU is None else np.concatenate([order, np.arange(n, n_all)])
    Xs = _sorted_columns(X, order, XU)
    prob = _Problem(
        Xs,
        np.ascontiguousarray(time[t_order]),
        np.ascontiguousarray(event[t_order], dtype=np.float64),
        params,
        n_threads=n_threads,
    )

    with _blas_threads(n_threads):
        if W_init is not None:
            W0 = _check_w_start(_check_start(W_init, (p, k), "W_init"))
            if H_init is not None:
                H0 = _check_start(H_init, (k, n_all), "H_init")
            elif XU is None:
                H0 = _nnls_exposures(X, W0)
            else:
                H0 = np.hstack([_nnls_exposures(X, W0), _nnls_exposures(XU, W0)])
            H0 = np.ascontiguousarray(H0[:, full_order])
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

    H = np.empty((k, n))
    H[:, order] = res.H[:, :n]
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
        H_unlabeled=np.ascontiguousarray(res.H[:, n:]),
        n_labeled=prob.n_labeled,
        n_unlabeled=n_all - prob.n_labeled,
        n_extrapolated=res.n_extrapolated,
    )


def _check_acceleration(acceleration, h_updates, theta0, loss_convention):
    """Validate the accelerated-step options; returns (h_updates, theta0) with defaults set."""
    if not isinstance(acceleration, str) or acceleration not in _ACCELERATION:
        raise ValueError(f"acceleration must be one of {_ACCELERATION}, got {acceleration!r}")
    fast = acceleration == "extrapolation"
    if h_updates is None:
        h_updates = 3 if fast else 1
    elif isinstance(h_updates, bool) or not isinstance(h_updates, (int, np.integer)):
        raise ValueError(f"h_updates must be a positive integer or None, got {h_updates!r}")
    if h_updates < 1:
        raise ValueError(f"h_updates must be >= 1, got {h_updates}")
    if loss_convention == "reference" and (fast or h_updates != 1):
        raise ValueError(
            "loss_convention='reference' reproduces the published algorithm, which has no "
            "accelerated step: use acceleration='none' and h_updates=1 (or None), or "
            "loss_convention='consistent'"
        )
    if theta0 is None:
        theta0 = 1.0 if fast else 0.5
    check_real_param("theta0", theta0)
    if not (0.0 < theta0 <= 1.0):
        raise ValueError(f"theta0 must be in (0, 1], got {theta0}")
    return int(h_updates), float(theta0)


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

            eta = prob.labeled(prob.project(np.ascontiguousarray(res.W.T))) @ res.beta
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
