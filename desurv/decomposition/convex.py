"""Convex NMF (Ding, Li, Jordan 2010) for nonnegative data: signatures are convex
(nonnegative) combinations of the samples.

Paper orientation: V (M channels × N samples) ≈ V W₁ W₂ with W₁ (N×K) >= 0 and W₂ (K×N)
>= 0; the signatures are the columns of V W₁, the exposures W₂ (Egendal et al. 2024 call it
C-NMF and show it is the model of their AE-NMF). scikit-learn orientation used here: X = Vᵀ
(n_samples × n_features), ``exposures_`` = W₂ᵀ (n_samples, k), ``weights_`` = W₁
(n_samples, k) and ``components_`` = (V W₁)ᵀ = W₁ᵀ X (k, n_features).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from desurv._kernels import _convex, _nmf_mu
from desurv.exceptions import ConvergenceWarning

from ._signatures import (
    SignatureModelMixin,
    nnls_exposures,
    normalize_signatures,
    validate_factor_input,
)
from ._solvers import kl_exposures
from .nmf import _DTYPES, _loss_name

#: ε: floor of the denominators of the Frobenius updates, of X̂ in the KL ratio X / max(X̂, ε)
#: and the value of a zero denominator of the KL updates (as desurv.NMF's multiplicative updates)
EPS = 1e-12
_INITS = ("random", "kmeans", "custom")
_UPDATES = (None, "simultaneous", "alternating")


# ----------------------------------------------------------------------------- building blocks
class _Gram:
    """Products with A = X Xᵀ (paper: VᵀV, N×N): ``A @ F`` for F (n, k).

    A is formed once (n²p flops) when n <= 2p; otherwise ``X @ (Xᵀ F)`` is cheaper per
    product (2npk flops instead of n²k, e.g. 570 genomes × 96 channels) and A is never
    formed. Both give the same A F up to rounding. ``tr_A`` = ‖X‖²_F in float64.
    """

    def __init__(self, X, use_gram=None):
        n, p = X.shape
        self.X = X
        self.use_gram = n <= 2 * p if use_gram is None else bool(use_gram)
        self.A = X @ X.T if self.use_gram else None
        self.tr_A = float(np.einsum("ij,ij->", X, X, dtype=np.float64))

    def __call__(self, F):
        if self.use_gram:
            return self.A @ F
        return self.X @ (self.X.T @ F)


def _dot64(a, b):
    """Σ a ⊙ b accumulated in float64 (the loss must not depend on float32 sums)."""
    if a.dtype == b.dtype == np.float64:
        return float(np.vdot(a, b))
    return float(np.einsum("ij,ij->", a, b, dtype=np.float64))


def fro_loss_gram(tr_A, AW, WtAW, G, GtG, size):
    """Convex-NMF MSE from the Gram matrix, without forming X̂.

    ‖V - V W₁ W₂‖²_F = tr A - 2 tr(W₂ᵀ W₁ᵀ A) + tr(W₂ᵀ W₁ᵀ A W₁ W₂)
                     = tr A - 2 Σ (A W₁) ⊙ G + Σ (W₁ᵀ A W₁) ⊙ (Gᵀ G),  G = W₂ᵀ,

    all sums in float64, divided by ``size`` = M·N = n_samples·n_features (the mean squared
    error the authors run). Clipped at 0 (the difference of the three terms can round below
    0 at an exact fit).

    Parameters
    ----------
    tr_A : float
        tr(XXᵀ) = ‖X‖²_F.
    AW : ndarray (n, k)
        A W₁.
    WtAW : ndarray (k, k)
        W₁ᵀ A W₁.
    G : ndarray (n, k)
        Exposures W₂ᵀ.
    GtG : ndarray (k, k)
        Gᵀ G.
    size : int
        n_samples · n_features.

    Returns
    -------
    float
    """
    val = tr_A - 2.0 * _dot64(AW, G) + _dot64(WtAW, GtG)
    return max(val, 0.0) / size


def fro_loss_direct(X64, W1, G, size):
    """Convex-NMF MSE ‖X - G (W₁ᵀ X)‖²_F / size formed directly in float64 (2npk flops).

    The float32 fits evaluate their objective with this: in float32 the Gram formula
    (:func:`fro_loss_gram`) cancels ‖X‖² against terms rounded to ~1e-7 relative, an error
    ~1e-7·‖X‖²/‖X - X̂‖² of the loss (1e-5 on count data), larger than ``tol``. X64 is X in
    float64; W1, G are cast.
    """
    G64 = G.astype(np.float64)
    R = G64 @ (W1.astype(np.float64).T @ X64)
    R -= X64
    return _dot64(R, R) / size


def fro_num_den(AW, WtAW, AG, GtG, G):
    """Numerators and denominators of the Frobenius updates (Ding, Li, Jordan 2010, eqs. 28-29
    for V >= 0).

    With A = X Xᵀ (>= 0) the gradient of ‖V - V W₁ Gᵀ‖²_F is 2·(den - num):

        ∂/∂G  = 2 (G W₁ᵀ A W₁ - A W₁),  ∂/∂W₁ = 2 (A W₁ GᵀG - A G),

    and the updates are G <- G ⊙ sqrt(numG / denG), W₁ <- W₁ ⊙ sqrt(numW / denW).

    Parameters
    ----------
    AW : (n, k) A W₁;  WtAW : (k, k) W₁ᵀ A W₁;  AG : (n, k) A G;  GtG : (k, k) Gᵀ G;
    G : (n, k) the exposures (for denG = G W₁ᵀ A W₁).
    AG and GtG of the G the W₁ update uses (old G: simultaneous; new G: alternating).

    Returns
    -------
    numG, denG, numW, denW : ndarray (n, k)
    """
    return AW, G @ WtAW, AG, AW @ GtG


def kl_loss(X, W1, G):
    """Generalised Kullback-Leibler divergence D(X ‖ G W₁ᵀ X) in float64, as the fit
    evaluates it: Σ_{x>ε} x log(x / max(x̂, ε)) - Σ x + Σ x̂ (x log x = 0 at x = 0; entries
    0 < x <= ε = 1e-12 drop out of the log term, as in desurv.NMF)."""
    X64 = X.astype(np.float64)
    Xh = G.astype(np.float64) @ (W1.astype(np.float64).T @ X64)
    sel = X64 > EPS
    val = np.sum(X64[sel] * np.log(X64[sel] / np.maximum(Xh[sel], EPS)))
    return float(val - X64.sum() + Xh.sum())


def kl_gradient(X, W1, G):
    """Gradient of D(X ‖ G W₁ᵀ X) (ratio X / max(X̂, ε)) as the (den - num) of the KL updates.

    With C = W₁ᵀ X (k, p) and R = X / max(X̂, ε) (n, p), X̂ = G C:

        ∂D/∂G  = 1 Cᵀ - R Cᵀ                      (den: column sums of C, per column)
        ∂D/∂W₁ = (X 1)(1ᵀ G) - X Rᵀ G             (den: row sums of X ⊗ column sums of G)

    Returns
    -------
    (numG, denG, numW, denW) : ndarray (n, k) each, float64.
    """
    X64, W64, G64 = (a.astype(np.float64) for a in (X, W1, G))
    C = W64.T @ X64
    R = X64 / np.maximum(G64 @ C, EPS)
    numG = R @ C.T
    denG = np.broadcast_to(C.sum(axis=1)[None, :], numG.shape)
    numW = X64 @ (R.T @ G64)
    denW = np.outer(X64.sum(axis=1), G64.sum(axis=0))
    return numG, np.array(denG), numW, denW


def _relative_change(prev, cur):
    """|L_{t-1} - L_t| / L_{t-1} (0 when both are 0, inf when only L_{t-1} is 0)."""
    if prev == 0:
        return 0.0 if cur == 0 else np.inf
    return abs(prev - cur) / prev


def _fit_frobenius(X, W1, G, *, update, max_iter, tol, use_gram=None):
    """Ding-Li-Jordan multiplicative updates from (W₁, G), in place, X's dtype.

    Returns (W1, G, n_iter, history, converged). ``history[t]`` is the MSE after t updates
    (entry 0: the start), from the Gram products (:func:`fro_loss_gram`) in float64 and
    directly in float64 (:func:`fro_loss_direct`) for float32 X.
    """
    n, p = X.shape
    size = n * p
    gram = _Gram(X, use_gram)
    eps = X.dtype.type(EPS)
    X64 = X.astype(np.float64) if X.dtype != np.float64 else None
    hist = []
    converged = False
    for t in range(max_iter + 1):
        AW = gram(W1)
        WtAW = W1.T @ AW
        GtG = G.T @ G
        if X64 is None:
            hist.append(fro_loss_gram(gram.tr_A, AW, WtAW, G, GtG, size))
        else:  # float32: the Gram formula's cancellation is coarser than tol
            hist.append(fro_loss_direct(X64, W1, G, size))
        if t > 0 and tol > 0 and _relative_change(hist[-2], hist[-1]) < tol:
            converged = True
            break
        if t == max_iter:
            break
        if update == "simultaneous":  # both ratios from the old (G, W₁), the authors' code
            numG, denG, numW, denW = fro_num_den(AW, WtAW, gram(G), GtG, G)
            _convex.sqrt_update(G, numG, denG, eps)
        else:  # G first, then W₁ with the new G (Ding et al.'s alternating scheme)
            _convex.sqrt_update(G, AW, G @ WtAW, eps)
            numW, denW = gram(G), AW @ (G.T @ G)
        _convex.sqrt_update(W1, numW, denW, eps)
    return W1, G, len(hist) - 1, np.asarray(hist, dtype=np.float64), converged


def _fit_kl(X, W1, G, *, max_iter, tol):
    """Alternating KL multiplicative updates (our derivation, see :class:`ConvexNMF`).

    Returns (W1, G, n_iter, history, converged); history: D / (n·p) after t updates.
    """
    n, p = X.shape
    size = n * p
    eps = X.dtype.type(EPS)
    zero = X.dtype.type(0)
    sum_x = float(X.sum(dtype=np.float64))
    row_x = X.sum(axis=1)
    hist = []
    converged = False
    for t in range(max_iter + 1):
        C = W1.T @ X
        B = G @ C  # X̂, then the ratio X / max(X̂, ε) in place
        sum_xh = float(np.dot(G.sum(axis=0, dtype=np.float64), C.sum(axis=1, dtype=np.float64)))
        lg, _ = _nmf_mu.kl_ratio(X, B, eps, True)
        hist.append(max(lg - sum_x + sum_xh, 0.0) / size)
        if t > 0 and tol > 0 and _relative_change(hist[-2], hist[-1]) < tol:
            converged = True
            break
        if t == max_iter:
            break
        # G <- G ⊙ [R Cᵀ] / [1 Cᵀ]  (paper: W₂ <- W₂ ⊙ [Sᵀ(V/V̂)] / [Sᵀ 1], S = V W₁)
        numG = B @ C.T
        denG = C.sum(axis=1)[None, :]
        _nmf_mu.div_factor(G, numG, np.ascontiguousarray(denG), zero, zero, eps, zero)
        # W₁ <- W₁ ⊙ [X Rᵀ G] / [(X 1)(1ᵀ G)] with R of the new G (paper: Vᵀ(V/V̂)W₂ᵀ / Vᵀ1W₂ᵀ)
        B = G @ C
        _nmf_mu.kl_ratio(X, B, eps, False)
        numW = X @ (B.T @ G)
        denW = np.outer(row_x, G.sum(axis=0))
        _nmf_mu.div_factor(W1, numW, denW, zero, zero, eps, zero)
    return W1, G, len(hist) - 1, np.asarray(hist, dtype=np.float64), converged


def _kmeans_start(X, k, random_state):
    """Ding et al.'s k-means start: G = H + 0.2, W₁ = G diag(1/n_c), H the one-hot labels."""
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=k, n_init="auto", random_state=random_state).fit(X).labels_
    H = np.zeros((X.shape[0], k))
    H[np.arange(X.shape[0]), labels] = 1.0
    counts = np.maximum(H.sum(axis=0), 1.0)  # an empty cluster (fewer distinct rows) -> 1
    G = H + 0.2
    return np.ascontiguousarray(G / counts[None, :], dtype=X.dtype), G.astype(X.dtype)


# ----------------------------------------------------------------------------- estimator
class ConvexNMF(
    SignatureModelMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Convex NMF: signatures that are nonnegative combinations of the samples.

    Model (Ding, Li, Jordan 2010, restricted to V >= 0; Egendal et al. 2024 "C-NMF"): with
    V = Xᵀ (M = n_features channels × N = n_samples genomes),

        V ≈ V W₁ W₂,   W₁ (N×K) >= 0,  W₂ (K×N) >= 0,

    i.e. X ≈ E C with exposures E = W₂ᵀ (``exposures_``) and signatures C = W₁ᵀ X
    (``components_``): each signature is the combination of the samples' profiles with the
    weights of a column of W₁ (``weights_``). There are 2NK parameters (NMF: K(M + N)); both
    W₁ and W₂ are sample-specific, so new samples are encoded by NNLS (:meth:`transform`).

    Objective as run (the authors' code, METHODS.md §B.1): the mean squared error
    L = ‖V - V̂‖²_F / (M·N), or with ``beta_loss="kullback-leibler"`` the mean generalised
    KL divergence D(V ‖ V̂) / (M·N).

    Parameters
    ----------
    n_components : int >= 1, default=2
        K, the number of signatures, at most n_samples. No rule picks it here (Egendal et
        al. choose it per cohort by bootstrap test errors, METHODS.md §B.3).
    beta_loss : {"frobenius", "kullback-leibler"} or {2, 1}, default="frobenius"
        Named as in :class:`desurv.NMF`.
    update : {None, "simultaneous", "alternating"}, default=None
        Frobenius loss only. Ding, Li, Jordan (2010), eqs. 28-29 with A = VᵀV = X Xᵀ >= 0
        (its negative part is 0 for V >= 0) and G = W₂ᵀ:

            G  <- G  ⊙ sqrt( (A W₁) / (G W₁ᵀ A W₁) ),
            W₁ <- W₁ ⊙ sqrt( (A G) / (A W₁ GᵀG) ),

        denominators floored at ε = 1e-12. "simultaneous" (None's choice for Frobenius):
        both ratios from the old (G, W₁), as the authors' code (``cvx_update``);
        "alternating": G first, then W₁ with the new G, the scheme whose objective Ding et
        al. prove non-increasing. The simultaneous update has no such proof; on random data
        it was non-increasing in our runs, but that is not guaranteed (``loss_history_``
        shows it). The Kullback-Leibler updates are always alternating (None's choice;
        "simultaneous" with KL is an error).
    init : {"random", "kmeans", "custom"}, default="random"
        "random": W₁ and G = W₂ᵀ ~ U[0, 1) (the authors), drawn in that order from
        ``random_state``. "kmeans" (Ding et al. §4.2; the authors' option): k-means
        (``sklearn.cluster.KMeans(n_clusters=K, n_init="auto", random_state)``) of the
        samples (rows of X) gives one-hot labels H (N×K); G = H + 0.2 (every entry, so no
        exposure starts at the zero MU cannot leave) and W₁ = G·diag(1/n_c) with n_c the
        cluster sizes (an empty cluster counts 1): each signature starts as its cluster's
        mean profile plus 0.2/n_c times the other samples. "custom": ``fit(X,
        weights_init=W₁, exposures_init=G)``.
    tol : float >= 0, default=1e-6
        Stop when |L_{t-1} - L_t| / L_{t-1} < tol, checked every iteration (the authors'
        rule). Their runs used 1e-10, below float32 resolution (~6e-8; METHODS.md §B.7
        pitfall 2) and ~10⁵-10⁶ iterations; 1e-6 is a practical tolerance reachable in
        float32 too (the losses are accumulated in float64, so the rule never waits for
        bit-identical float32 values). 0 runs exactly ``max_iter`` iterations.
    max_iter : int >= 1, default=10000
        At most this many updates; reaching it without meeting ``tol`` warns
        (:class:`desurv.ConvergenceWarning`).
    n_init : int >= 1, default=1
        Number of fits; the one with the lowest final objective is kept. Restart 0 uses
        ``init`` and ``random_state``; restart r > 0 a seed drawn from ``random_state`` (and
        "random" when ``init="custom"``).
    random_state : int, RandomState instance or None
        Seeds the random and k-means starts and the seeds of the restarts.
    normalize : bool, default=True
        Scale every signature (row of ``components_``) to sum 1, the matching columns of
        ``exposures_`` by the sum and of ``weights_`` by its inverse (the product and
        ``components_ = weights_.T @ X`` are unchanged). An all-zero signature then raises
        ValueError.
    dtype : {None, "float32", "float64"}, default=None
        Compute dtype. None: float32 input stays float32, anything else becomes float64.
    verbose : int, default=0
        > 0 prints the final objective of each restart.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features), compute dtype
        Signatures C = W₁ᵀ X (rows summing to 1 when ``normalize``).
    exposures_ : ndarray (n_samples, n_components), compute dtype
        W₂ᵀ of the training samples (the value of :meth:`fit_transform`).
    weights_ : ndarray (n_samples, n_components), compute dtype
        W₁: ``components_ == weights_.T @ X`` (up to rounding).
    n_components_ : int
    reconstruction_err_ : float
        The objective as run of the kept fit, recomputed directly from the final factors in
        float64: the mean squared error ‖X - exposures_ @ components_‖²_F / (n_samples ·
        n_features) ("frobenius"), or the mean generalised KL divergence D(X ‖ X̂) /
        (n_samples · n_features). Not sqrt(2·D) as :class:`desurv.NMF`; the Frobenius norm
        is sqrt(reconstruction_err_ · n_samples · n_features).
    loss_history_ : ndarray of float64, shape (n_iter_ + 1,)
        The objective after every update (entry 0: the start). Frobenius, float64: from the
        Gram products (:func:`fro_loss_gram`, relative accuracy ~1e-16·‖X‖²/‖X - X̂‖², coarse
        only at near-exact fits); float32: formed directly in float64
        (:func:`fro_loss_direct`); KL: directly, float64 sums.
    n_iter_ : int
        Updates done in the kept fit.
    converged_ : bool
        Whether the kept fit met ``tol`` (False when it stopped at ``max_iter`` or tol = 0).
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Notes
    -----
    Kullback-Leibler (**our derivation**; no published update): V̂ = S W₂ with S = V W₁ is
    linear with nonnegative coefficients in W₂ for fixed W₁ and in W₁ for fixed W₂, so Lee
    & Seung's (2001) auxiliary function applies to each half-step and the alternating
    updates

        W₂ <- W₂ ⊙ [Sᵀ(V/V̂)] / [Sᵀ 1],       then (V̂ recomputed)
        W₁ <- W₁ ⊙ [Vᵀ(V/V̂)W₂ᵀ] / [Vᵀ 1 W₂ᵀ]

    never increase D. Numerator minus denominator is minus the gradient, so fixed points
    with positive entries are stationary (KKT). V̂ is floored at ε = 1e-12 in V/V̂, and a
    zero denominator (an all-zero signature or sample) is replaced by ε.

    Cost per Frobenius iteration: two products A·F (n²k flops each with the Gram matrix
    formed once when n <= 2p, else 2npk each as X(XᵀF)) plus O(nk²), and one fused compiled
    pass per factor (:func:`desurv._kernels._convex.sqrt_update`). KL: six O(npk) products.

    References
    ----------
    C. Ding, T. Li, M. I. Jordan (2010). Convex and semi-nonnegative matrix factorizations.
    IEEE TPAMI 32(1), 45-55.
    I. Egendal et al. (2024). AE-NMF / C-NMF for mutational signatures (METHODS.md §B).
    D. D. Lee, H. S. Seung (2001). Algorithms for non-negative matrix factorization. NIPS 13.
    """

    def __init__(
        self,
        n_components=2,
        *,
        beta_loss="frobenius",
        update=None,
        init="random",
        tol=1e-6,
        max_iter=10000,
        n_init=1,
        random_state=None,
        normalize=True,
        dtype=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.beta_loss = beta_loss
        self.update = update
        self.init = init
        self.tol = tol
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.normalize = normalize
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        loss = _loss_name(self.beta_loss)
        nc = self.n_components
        if not isinstance(nc, numbers.Integral) or isinstance(nc, bool) or nc < 1:
            raise ValueError(f"n_components must be an integer >= 1, got {nc!r}")
        if self.update not in _UPDATES:
            raise ValueError(
                f"update={self.update!r} is not supported; use None, 'simultaneous' or "
                "'alternating'"
            )
        update = self.update
        if loss == "kullback-leibler":
            if update == "simultaneous":
                raise ValueError(
                    "update='simultaneous' is defined for beta_loss='frobenius' only; the "
                    "Kullback-Leibler updates alternate (use update=None or 'alternating')"
                )
            update = "alternating"
        elif update is None:
            update = "simultaneous"
        if self.init not in _INITS:
            raise ValueError(
                f"init={self.init!r} is not supported; use 'random', 'kmeans' or 'custom'"
            )
        for name in ("max_iter", "n_init"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        tol = self.tol
        if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
            raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
        if not np.isfinite(tol):
            raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}")
        dt = self.dtype
        if isinstance(dt, type) and dt in (np.float32, np.float64):
            dt = dt.__name__
        if dt not in _DTYPES:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")
        return loss, update, _DTYPES[dt]

    def _validate_X(self, X, *, reset, dtype):
        return validate_factor_input(self, X, reset=reset, dtype=dtype, name="ConvexNMF")

    @staticmethod
    def _check_start(name, A, shape, dtype):
        A = np.asarray(A)
        if A.shape != shape:
            raise ValueError(
                f"{name} has shape {A.shape}, expected {shape} (weights_init = W₁ and "
                "exposures_init = W₂ᵀ are both n_samples x n_components)"
            )
        if A.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {A.dtype}")
        A = np.array(A, dtype=dtype, order="C")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} contains NaN or inf values")
        if np.any(A < 0):
            raise ValueError(f"{name} contains negative values; a custom start must be >= 0")
        if np.max(A, initial=0) == 0:
            raise ValueError(f"{name} is all zero; multiplicative updates cannot leave it")
        return A

    def _start(self, X, k, init, seed):
        if init == "kmeans":
            return _kmeans_start(X, k, seed)
        rng = check_random_state(seed)
        n = X.shape[0]
        W1 = rng.random_sample((n, k)).astype(X.dtype)
        G = rng.random_sample((n, k)).astype(X.dtype)
        return W1, G

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, weights_init=None, exposures_init=None):
        """Learn signatures, weights and exposures from X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), nonnegative, finite
            Samples (genomes) as rows, features (channels) as columns.
        y : ignored
        weights_init : array-like (n_samples, n_components) or None
            W₁ start, with ``init="custom"`` (needs ``exposures_init`` too).
        exposures_init : array-like (n_samples, n_components) or None
            G = W₂ᵀ start, with ``init="custom"``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid parameters; negative, NaN, inf or all-zero X; n_components >
            n_samples; custom starts missing, of the wrong shape, negative or all zero, or
            given without ``init="custom"``; with ``normalize``, a signature that ended all
            zero.
        """
        self.fit_transform(X, weights_init=weights_init, exposures_init=exposures_init)
        return self

    def fit_transform(self, X, y=None, weights_init=None, exposures_init=None):
        """Learn the factorisation and return the exposures W₂ᵀ (n_samples, n_components).

        The fitted exposures (``exposures_``) of the multiplicative updates, not the NNLS
        exposures :meth:`transform` gives for the same samples (those fit the signatures at
        least as well, being optimal for them). Parameters and errors as :meth:`fit`.
        """
        loss, update, dtype = self._check_params()
        X = self._validate_X(X, reset=True, dtype=dtype)
        n, p = X.shape
        k = int(self.n_components)
        if not X.any():
            raise ValueError("X is all zero: there are no signatures to learn")
        if k > n:
            raise ValueError(
                f"n_components={k} must be <= n_samples={n}: convex NMF's signatures are "
                "combinations of the samples; lower n_components"
            )
        custom = self.init == "custom"
        if custom:
            if weights_init is None or exposures_init is None:
                raise ValueError(
                    "init='custom' needs both starts: fit(X, weights_init=W1, exposures_init=G)"
                )
            W1c = self._check_start("weights_init", weights_init, (n, k), X.dtype)
            Gc = self._check_start("exposures_init", exposures_init, (n, k), X.dtype)
        elif weights_init is not None or exposures_init is not None:
            raise ValueError(
                "weights_init and exposures_init are used only with init='custom'; set "
                "init='custom' or drop them"
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_init) if self.n_init > 1 else []
        best = None
        for r in range(self.n_init):
            if r == 0 and custom:
                W1, G = W1c.copy(), Gc.copy()
            elif r == 0:
                W1, G = self._start(X, k, self.init, self.random_state)
            else:
                rinit = "random" if custom else self.init
                W1, G = self._start(X, k, rinit, int(seeds[r]))
            if loss == "frobenius":
                res = _fit_frobenius(X, W1, G, update=update, max_iter=self.max_iter, tol=self.tol)
            else:
                res = _fit_kl(X, W1, G, max_iter=self.max_iter, tol=self.tol)
            if self.verbose:
                print(
                    f"ConvexNMF restart {r}: objective {res[3][-1]:.6g} after {res[2]} iterations"
                )
            if best is None or res[3][-1] < best[3][-1]:
                best = res
        W1, G, n_iter, history, converged = best
        if not converged and self.tol > 0:
            warnings.warn(
                f"ConvexNMF stopped at max_iter={self.max_iter} before the relative decrease "
                f"of the objective fell below tol={self.tol}; increase max_iter (or tol)",
                ConvergenceWarning,
                stacklevel=2,
            )
        C = W1.T @ X
        if self.normalize:
            scale = C.sum(axis=1, dtype=np.float64)
            C, G = normalize_signatures(C, G)
            W1 = np.ascontiguousarray(W1 / scale[None, :], dtype=X.dtype)
        self.components_ = np.ascontiguousarray(C, dtype=X.dtype)
        self.exposures_ = np.ascontiguousarray(G, dtype=X.dtype)
        self.weights_ = W1
        self.n_components_ = k
        self.n_iter_ = int(n_iter)
        self.loss_history_ = history
        self.converged_ = bool(converged)
        E64 = self.exposures_.astype(np.float64)
        H64 = self.components_.astype(np.float64)
        if loss == "frobenius":
            R = X.astype(np.float64) - E64 @ H64
            err = float(np.einsum("ij,ij->", R, R)) / (n * p)
        else:
            err = kl_loss(X, self.weights_, self.exposures_) / (n * p)
        self.reconstruction_err_ = err
        return self.exposures_.copy()

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Exposures of the samples of X with the signatures fixed.

        The trained W₂ is sample-specific (one column per training genome) and cannot encode
        new samples. "frobenius": each row x gets argmin_{e >= 0} ‖x - e C‖₂ (C =
        ``components_``), exactly, by the batched active-set NNLS of
        :func:`desurv.decomposition.nnls` (the authors refit test samples by NNLS).
        "kullback-leibler": argmin_{e >= 0} D(x ‖ e C) by multiplicative updates with C
        fixed, as :class:`desurv.NMF` (``_solvers.kl_exposures``: constant start,
        ``max_iter``, and scikit-learn's rule with ``tol``: relative decrease of the error
        since the start, every 10 iterations). A DataFrame whose columns are the fitted
        feature names in another order is aligned by name.

        Parameters
        ----------
        X : array-like or DataFrame (n_samples, n_features), nonnegative, finite

        Returns
        -------
        exposures : ndarray (n_samples, n_components), the fitted compute dtype

        Raises
        ------
        NotFittedError, or ValueError for NaN/inf/negative X or mismatched features.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=self.components_.dtype)
        if _loss_name(self.beta_loss) == "frobenius":
            return nnls_exposures(self.components_, X)
        E, _ = kl_exposures(X, self.components_, max_iter=self.max_iter, tol=self.tol)
        return E
