"""AE-NMF: non-negative matrix factorisation as a linear autoencoder (Egendal et al.).

The data are encoded and decoded by a bias-free, shallow, linear autoencoder applied to the
*transposed* catalogue, V̂ = V·φ(W_enc)·φ(W_dec) (paper orientation: V is M channels × N
genomes, W_enc is N × K, W_dec is K × N), with a non-negativity scheme φ on the weights. The
model is convex NMF (Ding, Li & Jordan 2010): the signatures V·φ(W_enc) are non-negative
combinations of the genomes. It is trained by full-batch Adam on the mean squared error.

Private solver functions (:func:`aenmf_objective`, :func:`fit_aenmf`, :func:`aenmf_loss`)
are separate from the estimator :class:`AENMF`, as in :mod:`desurv.decomposition._solvers`.
Internally both weight matrices live side by side in one array of shape (N, 2K),
``W = [W_enc | W_decᵀ]``, so that one compiled Adam pass (:mod:`desurv._kernels._aenmf`)
updates both and one BLAS product G·[A | Bᵀ] serves the loss and both gradients.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from desurv._kernels import _aenmf
from desurv.exceptions import ConvergenceWarning

from ._signatures import (
    SignatureModelMixin,
    nnls_exposures,
    normalize_signatures,
    validate_factor_input,
)
from .nmf import _DTYPES, _loss_name

#: non-negativity schemes (Egendal et al., Suppl. §1.4) -> kernel code
CONSTRAINTS = {
    "fp-abs": _aenmf.FP_ABS,
    "fp-relu": _aenmf.FP_RELU,
    "pg": _aenmf.PG,
    "abs": _aenmf.ABS,
}
#: guard of the Kullback-Leibler loss: X̂ + EPS in the denominator and the logarithm
EPS = 1e-12
#: Frobenius: the Gram form costs 4N²K flops per iteration, the direct residual 10NMK
_GRAM_RATIO = 2.5


def _phi(W, constraint):
    """φ(W): |W| ("fp-abs"), max(W, 0) ("fp-relu"), W ("pg", "abs": kept >= 0 by projection)."""
    if constraint == "fp-abs":
        return np.abs(W)
    if constraint == "fp-relu":
        return np.maximum(W, 0)
    return W.copy()


def use_gram(n_samples, n_features):
    """Whether the Frobenius objective uses the Gram form (N <= 2.5·M) or the residual."""
    return n_samples <= _GRAM_RATIO * n_features


def aenmf_loss(X, A, Bt, beta_loss="frobenius"):
    """The AE-NMF loss computed directly in float64 (forming X̂).

    Parameters
    ----------
    X : ndarray (n_samples, n_features) = Vᵀ (N, M)
    A : ndarray (N, K), φ(W_enc) >= 0
    Bt : ndarray (N, K), φ(W_dec)ᵀ >= 0
    beta_loss : {"frobenius", "kullback-leibler"}

    Returns
    -------
    float
        ‖X - X̂‖²_F / (N·M) (the mean squared error as run by the authors), or
        D_KL(X ‖ X̂) / (N·M) with D_KL = Σ x·log(x / (x̂ + ε))[x > 0] - x + x̂, ε = 1e-12;
        X̂ = Bt·(Aᵀ X) = (V A B)ᵀ.
    """
    X = np.asarray(X, dtype=np.float64)
    Xh = np.asarray(Bt, dtype=np.float64) @ (np.asarray(A, dtype=np.float64).T @ X)
    n, p = X.shape
    if beta_loss == "frobenius":
        return float(np.sum((Xh - X) ** 2)) / (n * p)
    pos = X > 0
    d = np.sum(X[pos] * np.log(X[pos] / (Xh[pos] + EPS))) + np.sum(Xh - X)
    return float(d) / (n * p)


def aenmf_objective(X, k, beta_loss="frobenius", gram=None):
    """The loss and its gradient with respect to P = [A | Bᵀ] = [φ(W_enc) | φ(W_dec)ᵀ].

    Parameters
    ----------
    X : ndarray (N, M), float32 or float64, C-contiguous, >= 0
        The catalogue, samples as rows (X = Vᵀ).
    k : int
        Rank K.
    beta_loss : {"frobenius", "kullback-leibler"}
    gram : bool or None
        Frobenius only: use the Gram form (True) or the residual (False); None chooses by
        cost (:func:`use_gram`).

    Returns
    -------
    f : callable ``f(P, g, want_grad) -> float``
        P : ndarray (N, 2K) of X's dtype. Returns the loss (a Python float computed with
        float64 sums) and, when ``want_grad``, writes ∂L/∂P into g (N, 2K).

    Notes
    -----
    With A = φ(W_enc), B = φ(W_dec), the Frobenius loss (Egendal et al., as run; paper
    eq. 5 squared) L = ‖V - VAB‖²_F / (MN) has

        ∂L/∂A = (2/(MN))·(G A B - G) Bᵀ,   ∂L/∂B = (2/(MN))·Aᵀ (G A B - G),
        MN·L = tr G - 2 tr(Bᵀ Aᵀ G) + tr(Bᵀ Aᵀ G A B),      G = VᵀV = X Xᵀ (N × N).

    Gram form: one BLAS product G·[A | Bᵀ] (4N²K flops) gives GA and GBᵀ; then, with
    S = AᵀGA and T = BBᵀ (K × K), ∂L/∂A = c(GA·T - GBᵀ), ∂L/∂Bᵀ = c(Bᵀ S - GA) and
    MN·L = tr G - 2⟨GA, Bᵀ⟩ + ⟨S, T⟩ (c = 2/(MN)). It loses precision when the residual is
    small against ‖V‖²_F (cancellation, relative error ~ u·‖V‖²/‖V - V̂‖² with u the unit
    roundoff of the dtype). Residual form (10NMK flops): R = X̂ - X with X̂ = Bᵀ(AᵀX),
    ∂L/∂Bᵀ = c·R (AᵀX)ᵀ, ∂L/∂A = c·X (Rᵀ Bᵀ), no cancellation.

    Kullback-Leibler: L = D_KL(V ‖ V̂)/(MN) (:func:`aenmf_loss`), Q = (1 - X / (X̂ + ε))/(MN),
    ∂L/∂Bᵀ = Q (AᵀX)ᵀ, ∂L/∂A = X (Qᵀ Bᵀ) (O(NMK) per evaluation).
    """
    n, p = X.shape
    dt = X.dtype
    mn = float(n * p)
    c = 2.0 / mn
    if beta_loss == "frobenius" and (use_gram(n, p) if gram is None else gram):
        X64 = X.astype(np.float64, copy=False)
        with np.errstate(over="ignore"):  # an overflow shows as a non-finite loss
            G64 = X64 @ X64.T
        trG = float(np.trace(G64))
        G = np.ascontiguousarray(G64, dtype=dt)
        GP = np.empty((n, 2 * k), dtype=dt)

        def f(P, g, want_grad):
            np.matmul(G, P, out=GP)
            A, Bt = P[:, :k], P[:, k:]
            GA, GB = GP[:, :k], GP[:, k:]
            S = A.T @ GA  # AᵀGA (K × K)
            T = Bt.T @ Bt  # BBᵀ
            cross = float(np.sum(GA.astype(np.float64) * Bt))
            quad = float(np.sum(S.astype(np.float64) * T))
            if want_grad:
                np.multiply(GA @ T - GB, c, out=g[:, :k])
                np.multiply(Bt @ S - GA, c, out=g[:, k:])
            return (trG - 2.0 * cross + quad) / mn

        return f

    S = np.empty((k, p), dtype=dt)
    R = np.empty((n, p), dtype=dt)
    kl = beta_loss != "frobenius"

    def f(P, g, want_grad):
        A, Bt = P[:, :k], P[:, k:]
        np.matmul(A.T, X, out=S)
        np.matmul(Bt, S, out=R)
        if kl:
            loss = _aenmf.kl_residual(R, X, EPS, 1.0 / mn) / mn
            scale = 1.0
        else:
            loss = _aenmf.fro_residual(R, X) / mn
            scale = c
        if want_grad:
            np.multiply(R @ S.T, scale, out=g[:, k:])
            np.multiply(X @ (R.T @ Bt), scale, out=g[:, :k])
        return loss

    return f


def aenmf_gradient(X, W_enc, W_dec, constraint="fp-abs", beta_loss="frobenius", gram=None):
    """Loss and gradient with respect to the raw weights (the chain rule of φ in NumPy).

    Parameters
    ----------
    X : ndarray (N, M); W_enc : ndarray (N, K); W_dec : ndarray (K, N)
    constraint : {"fp-abs", "fp-relu", "pg", "abs"}
        ∂L/∂W = sign(W) ⊙ ∂L/∂φ(W) (sign(0) = 0, PyTorch's gradient of abs) for "fp-abs",
        [W > 0] ⊙ ∂L/∂φ(W) for "fp-relu", ∂L/∂φ(W) for "pg" and "abs" (φ = identity).
    beta_loss, gram : as :func:`aenmf_objective`

    Returns
    -------
    loss : float
    g_enc : ndarray (N, K); g_dec : ndarray (K, N)
    """
    X = np.ascontiguousarray(X)
    k = W_enc.shape[1]
    W = np.ascontiguousarray(np.hstack([W_enc, W_dec.T]), dtype=X.dtype)
    P = _phi(W, constraint)
    g = np.empty_like(P)
    loss = aenmf_objective(X, k, beta_loss, gram)(P, g, True)
    if constraint == "fp-abs":
        g *= np.sign(W)
    elif constraint == "fp-relu":
        g *= W > 0
    return loss, g[:, :k].copy(), g[:, k:].T.copy()


def fit_aenmf(
    X,
    W,
    *,
    constraint="fp-abs",
    beta_loss="frobenius",
    learning_rate=1e-3,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    tol=1e-6,
    tol_window=1000,
    max_iter=50000,
    gram=None,
):
    """Train AE-NMF by full-batch Adam from the raw weights W = [W_enc | W_decᵀ] (N, 2K).

    Parameters
    ----------
    X : ndarray (N, M), float32 or float64, C-contiguous, >= 0
    W : ndarray (N, 2K) of X's dtype
        Start; not modified.
    constraint, beta_loss : see :class:`AENMF`
    learning_rate, beta_1, beta_2, epsilon : float
        Adam's parameters (Kingma & Ba 2015, PyTorch's form, no weight decay).
    tol, tol_window, max_iter : stopping rule, see :class:`AENMF`
    gram : bool or None
        See :func:`aenmf_objective`.

    Returns
    -------
    W : ndarray (N, 2K), the raw weights after the last step
    P : ndarray (N, 2K), φ(W)
    n_iter : int
    history : ndarray of float64 (n_iter + 1,), the loss before the first step and after
        every step
    converged : bool

    Raises
    ------
    ValueError
        The loss of the start is not finite (X too large for the dtype), or the loss became
        NaN or infinite during training (learning rate too large).
    """
    n, k2 = W.shape
    k = k2 // 2
    scheme = CONSTRAINTS[constraint]
    f = aenmf_objective(X, k, beta_loss, gram)
    W = np.array(W, dtype=X.dtype, order="C", copy=True)
    P = _phi(W, constraint)
    g = np.zeros_like(W)
    m = np.zeros_like(W)
    v = np.zeros_like(W)
    history = np.empty(max_iter + 1)
    best = np.empty(max_iter + 1)  # best[t] = min(history[: t + 1])
    # overflow makes the loss inf/nan, which is reported below as one clear error
    with np.errstate(over="ignore", invalid="ignore"):
        history[0] = best[0] = max(f(P, g, True), 0.0)
        if not np.isfinite(history[0]):
            raise ValueError(
                "the AE-NMF loss of the start is not finite: X (or the custom start) is too large "
                f"for {X.dtype}; rescale X"
            )
        converged = False
        t = 0
        while t < max_iter:
            t += 1
            _aenmf.adam_step(W, P, g, m, v, t, learning_rate, beta_1, beta_2, epsilon, scheme)
            loss = f(P, g, t < max_iter)
            if not np.isfinite(loss):
                raise ValueError(
                    f"the AE-NMF loss became {loss} at iteration {t}: lower learning_rate "
                    f"(now {learning_rate}) or use dtype='float64'"
                )
            history[t] = max(loss, 0.0)  # the Gram form may round a zero loss below 0
            best[t] = min(best[t - 1], history[t])
            if tol > 0 and t >= tol_window:
                old = best[t - tol_window]
                if old - best[t] <= tol * old:
                    converged = True
                    break
    return W, P, t, history[: t + 1].copy(), converged


def _check_number(name, v, low, high=np.inf, *, low_open=False, high_open=False):
    ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
    if ok:
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be a finite number in {lo}{low}, {high}{hi}, got {v!r}")


class AENMF(SignatureModelMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """AE-NMF: signatures and exposures from a non-negative linear autoencoder.

    Egendal et al.'s AE-NMF in scikit-learn orientation. With V = Xᵀ (M features × N
    samples; for mutational catalogues M = 96 channels, N genomes), a linear, bias-free
    autoencoder with encoder W_enc (N × K) and decoder W_dec (K × N) reconstructs

        V̂ = V·φ(W_enc)·φ(W_dec),

    φ being the non-negativity scheme (``constraint``). This is convex NMF (Ding, Li &
    Jordan 2010): the signatures ``components_`` = (V φ(W_enc))ᵀ (K × M) are non-negative
    combinations of the samples, the exposures are φ(W_dec)ᵀ (N × K), and
    X ≈ exposures @ components_. Training minimises the loss "as run" by the authors, the
    mean over the N·M entries (Frobenius: L = ‖V - V̂‖²_F / (MN); the paper's eq. 5 prints the
    un-squared norm, with the same minimisers), by full-batch Adam.

    Parameters
    ----------
    n_components : int >= 1, default=2
        Rank K, the number of signatures (as :class:`desurv.decomposition.convex.ConvexNMF`;
        no rule picks it here, Egendal et al. choose it per cohort by bootstrap test errors).
    constraint : {"fp-abs", "fp-relu", "pg", "abs"}, default="fp-abs"
        Non-negativity scheme (Egendal et al., Suppl. §1.4):

        - "fp-abs": φ = |·| in the forward pass (the authors' chosen scheme);
          ∂L/∂W = sign(W) ⊙ ∂L/∂φ(W), with sign(0) = 0 (PyTorch's gradient of abs).
        - "fp-relu": φ = max(·, 0) in the forward pass (gradient 0 where W <= 0).
        - "pg": projected gradient, W <- max(W, 0) after every Adam step (φ = identity). It
          can zero whole encoder columns for good, which makes an all-zero signature.
        - "abs": W <- |W| after every step (φ = identity). The authors' "Abs" code was a
          no-op (it rebound a loop variable, so training was unconstrained until a final
          |·|); here the projection is really applied after each step.
    beta_loss : {"frobenius", "kullback-leibler"} or {2, 1}, default="frobenius"
        "frobenius": L = ‖V - V̂‖²_F / (MN). "kullback-leibler": the generalised KL divergence
        L = Σ [v log(v / (v̂ + ε)) (v > 0) - v + v̂] / (MN), ε = 1e-12 (the authors' later
        KL option; gradients by hand).
    init : {"random", "custom"}, default="random"
        "random": W_enc, W_dec ~ U[0, 1) drawn from ``random_state`` (the authors' start; the
        encoder is drawn first). "custom": the raw weights passed as
        ``fit(X, W_enc=..., W_dec=...)``, shapes (n_samples, K) and (K, n_samples), finite,
        and >= 0 for "pg" and "abs" (any sign for the forward-pass schemes).
    learning_rate : float > 0, default=1e-3
        Adam's step size. The authors use 1e-4, which needs about twice as many steps on
        mutational catalogues; 1e-3 ends within ~0.5 % of the loss 1e-4 reaches (Notes).
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Adam's decay rates.
    epsilon : float > 0, default=1e-8
        Adam's denominator guard.
    tol : float >= 0, default=1e-6
        Stopping rule: with B_t = min(L_0, ..., L_t) the best loss so far and
        w = ``tol_window``, stop after step t >= w when B_{t-w} - B_t <= tol·B_{t-w}: the best
        loss improved by at most a fraction ``tol`` during the last w steps. (Adam is not
        monotone; the running minimum keeps an oscillation from stopping the fit, and the
        long window keeps it from stopping on the first flat stretch.) The rule does not
        depend on the dtype, unlike the authors' (|L_t - L_{t-1}|/L_{t-1} < 1e-10 in
        float32, met only when two consecutive losses are bit-identical). The weights of the
        last step are kept. tol=0 disables the rule: exactly ``max_iter`` steps, no warning.
    tol_window : int >= 1, default=1000
        w above. Shorter windows stop on the long plateaus of the loss (Notes).
    max_iter : int >= 1, default=50000
        Cap on the Adam steps; reaching it without meeting ``tol`` warns
        (:class:`desurv.exceptions.ConvergenceWarning`).
    n_init : int >= 1, default=1
        Number of fits; the one with the lowest final loss is kept. Restart 0 uses ``init``
        and ``random_state`` as given; restart r > 0 uses a seed drawn from
        ``random_state`` and ``init="random"`` when ``init="custom"``. Restarts are the
        remedy for the plateaus (Notes).
    random_state : int, RandomState instance or None, default=None
    normalize : bool, default=True
        Scale each signature (row of ``components_``) to sum 1 and the matching exposure
        column by its sum (the authors' post-processing; the product is unchanged).
    dtype : {None, "float32", "float64"}, default=None
        Compute dtype. None: float32 input stays float32, anything else becomes float64.
        In float32 the products and Adam's state are float32; losses are summed in float64.
    verbose : int, default=0
        > 0 prints the final loss of each restart.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features), compute dtype
        Signatures (V φ(W_enc))ᵀ, normalised to sum 1 when ``normalize``.
    exposures_ : ndarray (n_samples, n_components), compute dtype
        Exposures of the training samples, φ(W_dec)ᵀ (rescaled when ``normalize``);
        ``fit_transform`` returns them.
    encoder_ : ndarray (n_samples, n_components)
        φ(W_enc) of the kept fit (before normalisation): components_ =
        (encoder_ᵀ X) / s[:, None] and exposures_ = decoder_ᵀ · s, s the signature sums
        (s = 1 without normalisation).
    decoder_ : ndarray (n_components, n_samples)
        φ(W_dec) of the kept fit.
    n_components_ : int
    reconstruction_err_ : float
        The loss as run of the kept fit, recomputed in float64 from X̂:
        ‖X - X̂‖²_F / (n_samples·n_features) (mean squared error) for "frobenius", the
        generalised KL divergence over n_samples·n_features for "kullback-leibler".
    loss_history_ : ndarray of float64 (n_iter_ + 1,)
        The training loss before the first step and after each step (Frobenius on a wide
        catalogue: from the Gram form, see Notes).
    n_iter_ : int
        Adam steps of the kept fit.
    converged_ : bool
        Whether the kept fit met ``tol`` before ``max_iter``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Raises
    ------
    ValueError
        In ``fit``: invalid parameters; X negative, NaN/inf or all zero; bad custom starts;
        a loss that became NaN/inf (lower ``learning_rate``); a signature that is all zero
        at the end (the authors' check: refit with another ``random_state`` or a smaller
        ``n_components``).

    Notes
    -----
    *Cost.* Frobenius, N <= 2.5·M (e.g. tens to a few hundred genomes on 96 channels):
    G = X Xᵀ (N × N) is formed once and every iteration is one BLAS product G·[A | Bᵀ]
    (4N²K flops) plus K × K work (METHODS §B.2 "NumPy AE-NMF"); the loss comes from the
    Gram form without forming V̂ (precision limited by cancellation when the residual is
    tiny against ‖V‖: in float32 the recorded loss is then noisy, and a small ``tol`` may
    not be met). Otherwise the residual X̂ - X is formed (10NMK flops, no cancellation).
    Kullback-Leibler always forms X̂. Adam's update of both matrices, the chain rule of φ
    and the projection are one compiled pass (:func:`desurv._kernels._aenmf.adam_step`).

    *New samples.* The trained weights are sample-specific (W_enc has one row and W_dec one
    column per training sample), so the network cannot encode a new sample:
    :meth:`transform` computes exposures by non-negative least squares with the
    signatures fixed (as the authors' refit), and for the training samples it returns the
    NNLS optimum, which equals ``exposures_`` only at an exact stationary point. In
    particular Adam keeps weights that belong at 0 oscillating around it (about
    ``learning_rate`` in size), so ``exposures_`` has small positive entries (a few counts
    on the breast catalogue) where the NNLS exposures are exactly 0.

    *Plateaus, learning rate and stopping.* The loss has long plateaus (saddles): on the 21
    breast genomes (``breast21_wgs_sbs96.tsv``, K = 4, float64, random starts 0-9) the best
    loss found is L* = 150.2 (MSE), and about half of the runs sit for tens of thousands
    of steps at 1.47·L* with relative changes below 1e-6 per 1000 steps; some leave it
    later, some never. No practical stopping rule tells such a plateau from a minimum, so
    use ``n_init`` restarts. Adam with a constant step also has a noise floor that grows
    with ``learning_rate``. Measured (150 000 steps, tol=0, then the rule applied to the
    recorded losses): median steps to reach 1.01·L* were 57 000 with the authors' 1e-4,
    31 000 with 3e-4, 25 000 with 1e-3 (floor 0.2-0.4 % above L*), and 3e-3 has a
    floor near 1 %; with the default rule (w = 1000, tol = 1e-6) the fits stop after a median
    of 44 000 steps (1e-4; 5 of 10 at L*, 5 on the plateau) and 23 000 steps (1e-3; 7 of 10
    within 0.5 % of L*, 3 on the plateau). A window of 10 steps stopped 9 (1e-4) and 10 (1e-3)
    of 10 runs on a plateau (1.5-2.5·L*). On 560 breast genomes (K = 6, two starts) 1e-3
    stopped after 28 000-29 000 steps within 1 % of the best loss, 1e-4 after 47 000 (at
    it) or 55 000 (on a plateau at 1.97×). Set ``learning_rate=1e-4`` (and a larger
    ``max_iter``) for the authors' setting and a slightly lower floor.

    References
    ----------
    Egendal et al., AE-NMF and C-NMF for mutational signatures; code
    github.com/CLINDA-AAU/AE-NMF (METHODS.md §B).
    C. Ding, T. Li, M. I. Jordan (2010). Convex and semi-nonnegative matrix factorizations.
    IEEE TPAMI 32(1), 45-55.
    D. P. Kingma, J. Ba (2015). Adam: a method for stochastic optimization. ICLR.
    """

    def __init__(
        self,
        n_components=2,
        *,
        constraint="fp-abs",
        beta_loss="frobenius",
        init="random",
        learning_rate=1e-3,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        tol=1e-6,
        tol_window=1000,
        max_iter=50000,
        n_init=1,
        random_state=None,
        normalize=True,
        dtype=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.constraint = constraint
        self.beta_loss = beta_loss
        self.init = init
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.tol = tol
        self.tol_window = tol_window
        self.max_iter = max_iter
        self.n_init = n_init
        self.random_state = random_state
        self.normalize = normalize
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        loss = _loss_name(self.beta_loss)
        if self.constraint not in CONSTRAINTS:
            raise ValueError(
                f"constraint={self.constraint!r} is not supported; use one of {tuple(CONSTRAINTS)}"
            )
        if self.init not in ("random", "custom"):
            raise ValueError(f"init={self.init!r} is not supported; use 'random' or 'custom'")
        nc = self.n_components
        if not isinstance(nc, numbers.Integral) or isinstance(nc, bool) or nc < 1:
            raise ValueError(f"n_components must be an integer >= 1, got {nc!r}")
        for name in ("max_iter", "n_init", "tol_window"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        _check_number("learning_rate", self.learning_rate, 0, low_open=True)
        _check_number("beta_1", self.beta_1, 0, 1, high_open=True)
        _check_number("beta_2", self.beta_2, 0, 1, high_open=True)
        _check_number("epsilon", self.epsilon, 0, low_open=True)
        _check_number("tol", self.tol, 0)
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}")
        dt = self.dtype
        if isinstance(dt, type) and dt in (np.float32, np.float64):
            dt = dt.__name__
        if dt not in _DTYPES:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")
        return loss, _DTYPES[dt]

    def _validate_X(self, X, *, reset, dtype):
        return validate_factor_input(self, X, reset=reset, dtype=dtype, name="AENMF")

    def _check_start(self, name, A, shape, dtype):
        A = np.asarray(A)
        if A.shape != shape:
            raise ValueError(
                f"{name} has shape {A.shape}, expected {shape} (W_enc: n_samples x "
                "n_components, W_dec: n_components x n_samples)"
            )
        if A.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be numeric, got dtype {A.dtype}")
        A = np.array(A, dtype=dtype, order="C")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} contains NaN or inf values")
        if self.constraint in ("pg", "abs") and np.any(A < 0):
            raise ValueError(
                f"{name} contains negative values; constraint={self.constraint!r} needs a "
                "start >= 0 (or use constraint='fp-abs' / 'fp-relu')"
            )
        return A

    # ------------------------------------------------------------------ fitting
    @staticmethod
    def _start(X, k, random_state):
        """Raw weights [W_enc | W_decᵀ] (N, 2K) of the random start, W_enc drawn first."""
        n = X.shape[0]
        rng = check_random_state(random_state)
        We = rng.uniform(size=(n, k))
        Wd = rng.uniform(size=(k, n))
        return np.ascontiguousarray(np.hstack([We, Wd.T]), dtype=X.dtype)

    def fit(self, X, y=None, W_enc=None, W_dec=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), nonnegative
            E.g. a mutational catalogue, genomes × 96 channels.
        y : ignored
        W_enc : array-like (n_samples, n_components) or None
            Raw encoder start, with ``init="custom"``.
        W_dec : array-like (n_components, n_samples) or None
            Raw decoder start, with ``init="custom"``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            See the class docstring.
        """
        self.fit_transform(X, W_enc=W_enc, W_dec=W_dec)
        return self

    def fit_transform(self, X, y=None, W_enc=None, W_dec=None):
        """Train the autoencoder and return the exposures (n_samples, n_components).

        Parameters and errors as :meth:`fit`. The exposures are the trained decoder,
        φ(W_dec)ᵀ (rescaled when ``normalize``), i.e. ``exposures_``.
        """
        loss, dtype = self._check_params()
        X = self._validate_X(X, reset=True, dtype=dtype)
        n = X.shape[0]
        if not np.any(X):
            raise ValueError("X is all zero: AE-NMF needs at least one nonzero count")
        custom = self.init == "custom"
        k = int(self.n_components)
        if custom:
            if W_enc is None or W_dec is None:
                raise ValueError("init='custom' needs both starts: fit(X, W_enc=..., W_dec=...)")
            We = self._check_start("W_enc", W_enc, (n, k), X.dtype)
            Wd = self._check_start("W_dec", W_dec, (k, n), X.dtype)
            W_custom = np.ascontiguousarray(np.hstack([We, Wd.T]))
        elif W_enc is not None or W_dec is not None:
            warnings.warn(
                "W_enc and W_dec are only used with init='custom'; they are ignored",
                RuntimeWarning,
                stacklevel=2,
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_init) if self.n_init > 1 else []
        best = None
        for r in range(self.n_init):
            if r == 0 and custom:
                W0 = W_custom
            else:
                W0 = self._start(X, k, self.random_state if r == 0 else int(seeds[r]))
            res = fit_aenmf(
                X,
                W0,
                constraint=self.constraint,
                beta_loss=loss,
                learning_rate=float(self.learning_rate),
                beta_1=float(self.beta_1),
                beta_2=float(self.beta_2),
                epsilon=float(self.epsilon),
                tol=float(self.tol),
                tol_window=int(self.tol_window),
                max_iter=int(self.max_iter),
            )
            if self.verbose:
                print(f"AENMF restart {r}: loss {res[3][-1]:.6g} after {res[2]} iterations")
            if best is None or res[3][-1] < best[3][-1]:
                best = res
        _, P, n_iter, history, converged = best
        if not converged and self.tol > 0:
            warnings.warn(
                f"AENMF stopped at max_iter={self.max_iter} before reaching tol={self.tol}; "
                "increase max_iter (or learning_rate, or tol) to converge",
                ConvergenceWarning,
                stacklevel=2,
            )
        A = np.ascontiguousarray(P[:, :k])
        Bt = np.ascontiguousarray(P[:, k:])
        H = np.ascontiguousarray(A.T @ X)
        zero = np.flatnonzero(H.sum(axis=1, dtype=np.float64) <= 0)
        if zero.size:  # the authors' check
            raise ValueError(
                f"AENMF signature(s) {zero.tolist()} are all zero after training (their "
                f"encoder columns vanished; constraint={self.constraint!r}): refit with "
                "another random_state or a smaller n_components"
            )
        E = Bt
        if self.normalize:
            H, E = normalize_signatures(H, Bt)
        self.components_ = H
        self.exposures_ = np.ascontiguousarray(E)
        self.encoder_ = A
        self.decoder_ = np.ascontiguousarray(Bt.T)
        self.n_components_ = k
        self.n_iter_ = int(n_iter)
        self.converged_ = bool(converged)
        self.loss_history_ = history
        self.reconstruction_err_ = aenmf_loss(X, A, Bt, loss)
        return self.exposures_.copy()

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Exposures of the samples of X with the signatures fixed (exact batched NNLS).

        The autoencoder's weights are sample-specific and cannot encode new samples, so the
        exposures solve min_{e >= 0} ‖x - componentsᵀ e‖₂ per sample (the authors' refit),
        by :func:`desurv.decomposition.nnls`. A DataFrame's columns are aligned to the fitted
        feature names by name (missing or extra names are an error).

        Parameters
        ----------
        X : array-like or DataFrame (n_samples, n_features), nonnegative, finite

        Returns
        -------
        exposures : ndarray (n_samples, n_components), the fitted compute dtype
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=self.components_.dtype)
        return nnls_exposures(self.components_, X)
