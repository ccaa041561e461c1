"""Deep-unfolded NMF: learned multiplicative-update networks (Nasser, Eldar, Sharan 2022).

L iterations of the regularised multiplicative exposure update with W fixed,

    h <- h ⊙ (Wᵀ v) / (WᵀW h + λ₂ h + λ₁ + ε),

are unrolled into L layers whose matrices are untied and learned (METHODS.md §C.1): layer ℓ
has its own non-negative A_ℓ (k × n_features, in place of Wᵀ) and B_ℓ (k × k, in place of
WᵀW), λ₁ and λ₂ are shared, and h⁽⁰⁾ = 1. The network maps a sample's catalogue to its
exposures, so new samples are encoded by one forward pass.

Private solver pieces (:class:`UnfoldedNetwork`, :func:`unfolded_forward`,
:func:`unfolded_gradient`, :func:`fit_unfolded`) are separate from the estimator
:class:`DeepUnfoldedNMF`, as in :mod:`desurv.decomposition.aenmf`. The forward and backward
passes are written by hand: the products go to BLAS (X [A_0ᵀ | ... | A_{L-1}ᵀ] for all
layers in one product, and its transpose in the backward pass), the element-wise parts are
fused compiled passes (:mod:`desurv._kernels._unfolded`), Adam with the projection onto the
non-negative orthant is :func:`desurv._kernels._aenmf.adam_step`, and the exact W-step of
unsupervised training is the batched Gram NNLS of :mod:`desurv._kernels._nnls`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from desurv._kernels import _aenmf, _nnls, _unfolded
from desurv._threads import blas_threads as _blas_threads
from desurv._validation import align_rows
from desurv.exceptions import ConvergenceWarning

from ._signatures import SignatureModelMixin, validate_factor_input
from .aenmf import _check_number
from .nmf import _DTYPES

#: the repository's ε: float32 machine epsilon (2⁻²³ ≈ 1.19e-7), used in both dtypes
EPS_FLOAT32 = float(np.finfo(np.float32).eps)
#: rows per forward chunk in ``transform`` (bounds the memory of the numerators)
_CHUNK = 65536
_MODES = ("auto", "supervised", "unsupervised")
_INITS = ("nmf", "repository", "custom")


# ----------------------------------------------------------------------------- network
class _Tape:
    """Buffers of one forward/backward pass over n samples (reused across iterations)."""

    def __init__(self, net, n, dtype):
        k, L, q = net.n_components, net.n_layers, net.n_distinct * net.n_components
        self.n = n
        self.H = np.empty((L + 1, n, k), dtype=dtype)  # h⁽⁰⁾ ... h⁽ᴸ⁾
        self.H[0] = 1.0
        self.D = np.empty((L, n, k), dtype=dtype)  # denominators d_ℓ
        self.Num = np.empty((n, q), dtype=dtype)  # a_ℓ = X A_ℓᵀ, one column block per layer
        self.GA = np.empty((n, q), dtype=dtype)  # g_a of every layer (summed when tied)
        self.GD = np.empty((n, k), dtype=dtype)
        self.GH = np.empty((2, n, k), dtype=dtype)  # ∂L/∂h, ping-pong
        self.T = np.empty((n, k), dtype=dtype)
        self.K = np.empty((k, k), dtype=dtype)


class UnfoldedNetwork:
    """The parameter layout and the hand-written forward and backward passes.

    All parameters live in one C-contiguous array ``theta`` of shape (1, n_params):
    ``[A_0 ... A_{L'-1} | B_0 ... B_{L'-1} | λ₁ λ₂]`` with A_ℓ (k, n_features) and B_ℓ (k, k)
    row-major, L' = n_layers (untied) or 1 (tied: every layer uses A_0, B_0). The λ's come
    last so that the weights alone are the slice ``theta[:, :n_weights]``.

    Parameters
    ----------
    n_features, n_components, n_layers : int
        M, k and L.
    tied : bool
        One A, B shared by all layers (their gradients summed over the layers).
    eps : float > 0
        ε of the denominators.
    """

    def __init__(self, n_features, n_components, n_layers, tied=False, eps=EPS_FLOAT32):
        self.n_features = int(n_features)
        self.n_components = int(n_components)
        self.n_layers = int(n_layers)
        self.tied = bool(tied)
        self.eps = float(eps)
        self.n_distinct = 1 if self.tied else self.n_layers
        k, p, Ld = self.n_components, self.n_features, self.n_distinct
        self._na = Ld * k * p
        self.n_weights = self._na + Ld * k * k
        self.n_params = self.n_weights + 2

    def views(self, theta):
        """(A (L', k, p), B (L', k, k), lam (2,)): views into ``theta`` (1, n_params)."""
        k, p, Ld = self.n_components, self.n_features, self.n_distinct
        t = theta[0]
        A = t[: self._na].reshape(Ld, k, p)
        B = t[self._na : self.n_weights].reshape(Ld, k, k)
        return A, B, t[self.n_weights :]

    def pack(self, A, B, l1, l2, dtype=np.float64):
        """theta (1, n_params) from A (L', k, p), B (L', k, k), λ₁, λ₂."""
        theta = np.empty((1, self.n_params), dtype=dtype)
        a, b, lam = self.views(theta)
        a[...] = A
        b[...] = B
        lam[:] = (l1, l2)
        return theta

    def tape(self, n, dtype):
        return _Tape(self, n, dtype)

    def forward(self, X, theta, tape=None):
        """Exposures Ĥ (n, k) of the rows of X (n, n_features), X's dtype = theta's dtype.

        With ``tape`` (from :meth:`tape` for X's n) every layer's h, d and numerators are
        kept for :meth:`backward` and the result is a view into the tape.
        """
        A, B, lam = self.views(theta)
        l1, l2 = float(lam[0]), float(lam[1])
        k, L = self.n_components, self.n_layers
        Af = A.reshape(self.n_distinct * k, self.n_features)
        if tape is None:
            n = X.shape[0]
            Num = X @ Af.T
            H = np.ones((n, k), dtype=X.dtype)
            Hn = np.empty_like(H)
            D = np.empty_like(H)
        else:
            Num = tape.Num
            np.matmul(X, Af.T, out=Num)
        for ell in range(L):
            j = 0 if self.tied else ell
            if tape is not None:
                H, Hn, D = tape.H[ell], tape.H[ell + 1], tape.D[ell]
            np.matmul(H, B[j].T, out=D)
            _unfolded.layer_forward(H, Hn, D, Num, j * k, l1, l2, self.eps)
            if tape is None:
                H, Hn = Hn, H
        return tape.H[L] if tape is not None else H

    def backward(self, X, theta, tape, G, grad):
        """Gradient of a loss with respect to theta, given G = ∂L/∂Ĥ (n, k) (METHODS §C.2).

        ``tape`` holds the forward pass of X at theta; ``grad`` (1, n_params) receives
        ∂L/∂A_ℓ = Σ g_aᵀ X, ∂L/∂B_ℓ = g_dᵀ h⁽ℓ⁾ and ∂L/∂λ through the network (a penalty's own
        λ terms are added by the caller). G is not modified.
        """
        A, B, lam = self.views(theta)
        dA, dB, dlam = self.views(grad)
        l2 = float(lam[1])
        k, L, tied = self.n_components, self.n_layers, self.tied
        if tied:
            tape.GA.fill(0.0)
            dB.fill(0.0)
        s1 = s2 = 0.0
        Gc = G
        for ell in range(L - 1, -1, -1):
            j = 0 if tied else ell
            GH = tape.GH[ell % 2]
            want_gh = ell > 0
            t1, t2 = _unfolded.layer_backward(
                Gc, tape.H[ell], tape.Num, j * k, tape.D[ell], l2, tape.GA, j * k, tied,
                tape.GD, GH, want_gh,
            )  # fmt: skip
            s1 += t1
            s2 += t2
            if tied:
                np.matmul(tape.GD.T, tape.H[ell], out=tape.K)
                dB[0] += tape.K
            else:
                np.matmul(tape.GD.T, tape.H[ell], out=dB[j])
            if want_gh:
                np.matmul(tape.GD, B[j], out=tape.T)
                GH += tape.T
                Gc = GH
        np.matmul(tape.GA.T, X, out=dA.reshape(self.n_distinct * k, self.n_features))
        dlam[0] = s1
        dlam[1] = s2

    def transform(self, X, theta):
        """Forward pass in chunks of rows (no tape)."""
        n = X.shape[0]
        if n <= _CHUNK:
            return self.forward(X, theta)
        out = np.empty((n, self.n_components), dtype=X.dtype)
        for s in range(0, n, _CHUNK):
            out[s : s + _CHUNK] = self.forward(X[s : s + _CHUNK], theta)
        return out


def _net_from_arrays(A, B, n_layers, eps):
    A = np.asarray(A)
    B = np.asarray(B)
    if A.ndim != 3 or B.ndim != 3 or A.shape[:2] != B.shape[:2] or B.shape[1] != B.shape[2]:
        raise ValueError(
            f"A must be (L', k, n_features) and B (L', k, k) with the same L' and k, got "
            f"shapes {A.shape} and {B.shape}"
        )
    if A.shape[0] not in (1, n_layers):
        raise ValueError(f"A has {A.shape[0]} layers; expected 1 (tied) or n_layers={n_layers}")
    tied = A.shape[0] == 1 and n_layers > 1
    return UnfoldedNetwork(A.shape[2], A.shape[1], n_layers, tied, eps)


def unfolded_forward(X, A, B, lambda_l1, lambda_l2, *, n_layers=None, eps=EPS_FLOAT32):
    """The deep-unfolded network's exposures of the rows of X (functional form).

    Parameters
    ----------
    X : ndarray (n, n_features), float32 or float64
    A : ndarray (L', k, n_features); B : ndarray (L', k, k)
        Layer matrices; L' = n_layers (untied) or 1 (tied).
    lambda_l1, lambda_l2 : float
    n_layers : int or None
        Number of layers (None: A.shape[0]).
    eps : float

    Returns
    -------
    Hhat : ndarray (n, k), X's dtype
    """
    X = np.ascontiguousarray(X)
    L = np.asarray(A).shape[0] if n_layers is None else int(n_layers)
    net = _net_from_arrays(A, B, L, eps)
    theta = net.pack(A, B, lambda_l1, lambda_l2, X.dtype)
    return net.forward(X, theta).copy()


def unfolded_gradient(
    X, A, B, lambda_l1, lambda_l2, *, n_layers=None, eps=EPS_FLOAT32, H=None, W=None
):
    """Loss and gradient with respect to (A, B, λ₁, λ₂) by the compiled passes.

    Supervised (``H`` (n, k) given): L = Σ (Ĥ - H)² / (n k). Unsupervised (``W`` (k, n_features)
    given): L = [½‖X - ĤW‖² + λ₁ΣĤ + ½λ₂‖Ĥ‖²] / n with W fixed; the λ gradients then include
    the penalty's own terms. Same contract as ``desurv._reference.unfolded.gradient``.

    Returns
    -------
    loss : float; dA : ndarray like A; dB : ndarray like B; dl1, dl2 : float
    """
    X = np.ascontiguousarray(X)
    L = np.asarray(A).shape[0] if n_layers is None else int(n_layers)
    net = _net_from_arrays(A, B, L, eps)
    theta = net.pack(A, B, lambda_l1, lambda_l2, X.dtype)
    grad = np.zeros_like(theta)
    if H is not None:
        f = _supervised_objective(X, np.ascontiguousarray(H, dtype=X.dtype), net)
        loss = f(theta, grad, True)
    else:
        f = _unsupervised_objective(X, net)
        loss = f(theta, np.ascontiguousarray(W, dtype=X.dtype), grad, True, True)
    dA, dB, dlam = net.views(grad)
    return loss, dA.copy(), dB.copy(), float(dlam[0]), float(dlam[1])


def _supervised_objective(X, Htrue, net):
    """f(theta, grad, want_grad) -> Σ (Ĥ - H)² / (n k); grad filled when ``want_grad``."""
    n = X.shape[0]
    k = net.n_components
    tape = net.tape(n, X.dtype)
    G = np.empty((n, k), dtype=X.dtype)
    nk = float(n * k)

    def f(theta, grad, want_grad):
        Hh = net.forward(X, theta, tape)
        s = _unfolded.supervised_residual(Hh, Htrue, G, 2.0 / nk, want_grad)
        if want_grad:
            net.backward(X, theta, tape, G, grad)
        return s / nk

    f.tape = tape
    return f


def _unsupervised_objective(X, net):
    """f(theta, W, grad, want_grad, lambda_grad) -> the per-sample regularised cost.

    C = [½‖X - ĤW‖² + λ₁ΣĤ + ½λ₂‖Ĥ‖²] / n (METHODS §C.2, ``cost_tns``), W (k, n_features)
    fixed. With ``lambda_grad`` the penalty's own λ terms (ΣĤ/n, ½‖Ĥ‖²/n) are added to the
    λ gradients (not needed in training, where the λ's are fixed).
    """
    n, p = X.shape
    k = net.n_components
    tape = net.tape(n, X.dtype)
    R = np.empty((n, p), dtype=X.dtype)
    G = np.empty((n, k), dtype=X.dtype)

    def f(theta, W, grad, want_grad, lambda_grad=False):
        lam = theta[0, net.n_weights :]
        l1, l2 = float(lam[0]), float(lam[1])
        Hh = net.forward(X, theta, tape)
        np.matmul(Hh, W, out=R)
        s = _aenmf.fro_residual(R, X)  # R <- ĤW - X
        if want_grad:
            np.matmul(R, W.T, out=G)
            sh, sh2 = _unfolded.penalty_gradient(G, Hh, l1, l2, 1.0 / n)
            net.backward(X, theta, tape, G, grad)
            if lambda_grad:
                grad[0, net.n_weights] += sh / n
                grad[0, net.n_weights + 1] += 0.5 * sh2 / n
        else:
            H64 = Hh.astype(np.float64)
            sh, sh2 = float(H64.sum()), float(np.sum(H64 * H64))
        return (0.5 * s + l1 * sh + 0.5 * l2 * sh2) / n

    f.tape = tape
    return f


def _cost(net, theta, X, W):
    """Per-sample regularised cost of X (n, p) without a tape (validation samples)."""
    lam = theta[0, net.n_weights :]
    Hh = net.forward(X, theta).astype(np.float64)
    R = Hh @ W.astype(np.float64) - X
    return float(0.5 * np.sum(R * R) + lam[0] * Hh.sum() + 0.5 * lam[1] * np.sum(Hh * Hh)) / max(
        X.shape[0], 1
    )


def _mse(net, theta, X, H):
    r = net.forward(X, theta).astype(np.float64) - H
    return float(np.sum(r * r)) / max(r.size, 1)


def w_step(Hhat, X64):
    """W = argmin_{W >= 0} ‖Ĥ W - X‖_F (k, n_features), one NNLS per feature column.

    Exact batched active-set NNLS on the shared Gram matrix ĤᵀĤ (Lawson & Hanson 1974; Bro &
    de Jong 1997), :func:`desurv._kernels._nnls.nnls_gram`, in float64. Returns float64.
    """
    H64 = Hhat.astype(np.float64)
    G = H64.T @ H64
    C = np.ascontiguousarray(H64.T @ X64)
    W, _ = _nnls.nnls_gram(G, C, 3 * H64.shape[1] + 10)
    return W


# ----------------------------------------------------------------------------- training
def fit_unfolded(
    X,
    net,
    theta0,
    *,
    H=None,
    W0=None,
    X_val=None,
    H_val=None,
    learn_lambda=True,
    learning_rate=1e-3,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    max_iter=500,
    tol=1e-4,
    n_iter_no_change=10,
    verbose=0,
):
    """Train the network by full-batch Adam with projection onto theta >= 0.

    Supervised (``H`` given): minimise the exposure MSE Σ (Ĥ - H)² / (n k); the λ's learned
    when ``learn_lambda``. Unsupervised (``W0`` given, (k, n_features)): each iteration
    (METHODS §C.2) computes Ĥ = net(X) and the cost C(θ, W) of
    :func:`_unsupervised_objective`, takes one Adam step on the layers (λ fixed), then sets
    W <- argmin_{W>=0} ‖Ĥ W - X‖ with the pre-step Ĥ (:func:`w_step`); after the last
    iteration one more W-step fits W to the final network.

    Parameters
    ----------
    X : ndarray (n, p), C-contiguous, float32 or float64, >= 0
    net : UnfoldedNetwork
    theta0 : ndarray (1, net.n_params) of X's dtype, >= 0 (not modified)
    H : ndarray (n, k) or None
        True exposures (supervised).
    W0 : ndarray (k, p) or None
        Start of W (unsupervised).
    X_val, H_val : validation samples (and their true exposures when supervised) or None
        When given, the stopping rule watches the validation loss (supervised: MSE of the
        exposures; unsupervised: the cost with the current W) and the parameters of the best
        validation loss are kept (early stopping). Otherwise the rule watches the training
        loss and the last parameters are kept.
    learn_lambda : bool
        Adam updates λ₁, λ₂ too (supervised only; the caller enforces it).
    learning_rate, beta_1, beta_2, epsilon : Adam (PyTorch's form, no weight decay).
    max_iter : int >= 0
        Adam steps (0: the start is returned; unsupervised: with its W-step).
    tol : float >= 0; n_iter_no_change : int >= 1
        Stop when the watched loss has not fallen below best·(1 - tol) (best = the lowest so
        far) for ``n_iter_no_change`` consecutive iterations. Without a validation set,
        tol = 0 switches the rule off (exactly ``max_iter`` steps).

    Returns
    -------
    dict with ``theta`` (kept parameters), ``W`` (float64 (k, p), unsupervised, else None),
    ``n_iter`` (Adam steps taken), ``best_iter`` (the step whose parameters are kept),
    ``history`` (training loss at θ_0 ... θ_{n_iter}, float64), ``val_history`` (the
    validation loss at the same points, empty without validation), ``stopped`` (the rule
    stopped the fit), ``loss`` (final training loss of the kept parameters; unsupervised:
    after the final W-step).

    Raises
    ------
    ValueError
        The loss of the start or of a later iteration is not finite (overflow in the
        network: lower ``learning_rate``, use float64 or rescale X).
    """
    supervised = H is not None
    dt = X.dtype
    theta = np.array(theta0, dtype=dt, order="C", copy=True)
    grad = np.zeros_like(theta)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    P = np.empty_like(theta)
    q = net.n_params if (supervised and learn_lambda) else net.n_weights
    X64 = None if supervised else X.astype(np.float64, copy=False)
    if supervised:
        f = _supervised_objective(X, np.ascontiguousarray(H, dtype=dt), net)
        W = None
    else:
        f = _unsupervised_objective(X, net)
        W64 = np.asarray(W0, dtype=np.float64)
        W = np.ascontiguousarray(W64, dtype=dt)
    early = X_val is not None
    if early and supervised:
        H_val = np.asarray(H_val, dtype=np.float64)

    def evaluate(want_grad):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if supervised:
                return f(theta, grad, want_grad)
            return f(theta, W, grad, want_grad)

    def validate():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if supervised:
                return _mse(net, theta, X_val, H_val)
            return _cost(net, theta, X_val, W)

    history = [evaluate(max_iter > 0)]
    if not np.isfinite(history[0]):
        raise ValueError(
            f"the deep-unfolded NMF loss of the start is {history[0]}: the network overflows "
            f"{dt} on X; rescale X or use dtype='float64'"
        )
    val_history = [validate()] if early else []
    watch = val_history if early else history
    rule = early or tol > 0
    best = watch[0]
    best_iter = 0
    best_state = (theta.copy(), None if W is None else W.copy()) if early else None
    no_improve = 0
    stopped = False
    t = 0
    while t < max_iter:
        t += 1
        _aenmf.adam_step(
            theta[:, :q], P[:, :q], grad[:, :q], m[:, :q], v[:, :q], t,
            learning_rate, beta_1, beta_2, epsilon, _aenmf.PG,
        )  # fmt: skip
        if not supervised:  # exact W-step with the pre-step exposures
            W64 = w_step(f.tape.H[net.n_layers], X64)
            W = np.ascontiguousarray(W64, dtype=dt)
        loss = evaluate(t < max_iter)
        if not np.isfinite(loss):
            raise ValueError(
                f"the deep-unfolded NMF loss became {loss} at iteration {t}: lower "
                f"learning_rate (now {learning_rate}) or use dtype='float64'"
            )
        history.append(loss)
        if early:
            val_history.append(validate())
        if verbose and (t % 50 == 0 or t == max_iter):
            extra = f", validation {val_history[-1]:.6g}" if early else ""
            print(f"DeepUnfoldedNMF iteration {t}: loss {loss:.6g}{extra}")
        if rule:
            cur = watch[-1]
            if cur < best - tol * abs(best):
                no_improve = 0
            else:
                no_improve += 1
            if cur < best:
                best = cur
                best_iter = t
                if early:
                    best_state = (theta.copy(), None if W is None else W.copy())
            if no_improve >= n_iter_no_change:
                stopped = True
                break
    if early:
        theta, W = best_state
    else:
        best_iter = t
    if supervised:
        final = history[best_iter]
    else:
        # a final W-step fits W to the kept network's exposures
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            Hh = net.forward(X, theta)
        W64 = w_step(Hh, X64)
        W = np.ascontiguousarray(W64, dtype=dt)
        final = evaluate(False)
    return {
        "theta": theta,
        "W": None if supervised else W64,
        "n_iter": t,
        "best_iter": best_iter,
        "history": np.asarray(history, dtype=np.float64),
        "val_history": np.asarray(val_history, dtype=np.float64),
        "stopped": stopped,
        "loss": float(final),
    }


# ----------------------------------------------------------------------------- estimator
class DeepUnfoldedNMF(
    SignatureModelMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Deep-unfolded NMF: a learned network of multiplicative exposure updates.

    Nasser, Eldar & Sharan's deep unfolding of NMF (METHODS.md §C), in scikit-learn
    orientation: X is (n_samples, n_features), a sample is a genome and the features are the
    96 mutation channels. The base iteration is the regularised multiplicative update of the
    exposures h of a sample v with the signatures fixed, which minimises
    ½‖v - Wᵀh‖² + λ₁Σh + ½λ₂‖h‖² over h >= 0 (W = ``components_``, k × n_features). Its L
    iterations are unrolled into L layers with their own non-negative matrices (METHODS §C.1):

        h⁽⁰⁾ = 1,   h⁽ℓ⁺¹⁾ = h⁽ℓ⁾ ⊙ (A_ℓ v) / (B_ℓ h⁽ℓ⁾ + λ₂ h⁽ℓ⁾ + λ₁ + ε),   ĥ = h⁽ᴸ⁾,

    A_ℓ (k × n_features) in the place of W, B_ℓ (k × k) in the place of W Wᵀ, λ₁ >= 0 and
    λ₂ >= 0 shared by the layers: L(k² + k·n_features) + 2 parameters. The network maps a
    sample's catalogue to its exposures, so :meth:`transform` encodes new samples by one
    forward pass (unlike AE-NMF, whose weights belong to the training samples).

    Training (METHODS §C.2), full-batch Adam followed by the projection of every parameter
    onto [0, ∞) after each step:

    - *supervised*, ``fit(X, y)`` with y the true exposures (n_samples, n_components):
      minimises the mean squared error Σ (ĥ - h)² / (n·k) over the layers and (by default)
      the λ's;
    - *unsupervised*, ``fit(X)``: λ₁, λ₂ fixed; each iteration takes Ĥ = net(X), one Adam
      step on the layers for C(θ, W) = [½‖X - ĤW‖² + λ₁ΣĤ + ½λ₂‖Ĥ‖²] / n with W fixed,
      then the exact W-step W <- argmin_{W>=0} ‖ĤW - X‖ with the pre-step Ĥ (one NNLS per
      feature on the shared Gram matrix ĤᵀĤ).

    Parameters
    ----------
    n_components : int >= 1 or None, default=None
        k. None: y.shape[1] in a supervised fit; an unsupervised fit needs it.
    n_layers : int >= 1, default=10
        L (the repository's 10; its depth sweep used 5, 10, 15, 20).
    tied : bool, default=False
        One A and one B shared by every layer (gradients summed over the layers):
        L·(k² + k·n_features) -> k² + k·n_features weights. With tied layers the untrained
        network with ``init="nmf"`` is still exactly L multiplicative updates.
    mode : {"auto", "supervised", "unsupervised"}, default="auto"
        "auto": supervised when y is given, unsupervised otherwise. "unsupervised" ignores y
        (so that the estimator can sit before a supervised step in a ``Pipeline``, which
        passes its y to every step); "supervised" requires y.
    init : {"nmf", "repository", "custom"}, default="nmf"
        Start of the layers (and of W in unsupervised training):

        - "nmf": A_ℓ = C, B_ℓ = C Cᵀ with C (k × n_features) the signatures of a fitted NMF,
          which makes the untrained network exactly L multiplicative exposure updates from
          h = 1. Supervised: C = argmin_{C>=0} ‖y C - X‖ (NNLS with the true training
          exposures); unsupervised: C = :class:`desurv.NMF` (``solver="cd"``, its default
          start, ``random_state``) on the training samples, and W starts at C.
        - "repository": the public code's starts. Supervised: every parameter 1.0 (with the
          "auto" λ's, also λ₁ = λ₂ = 1); unsupervised: every A_ℓ, B_ℓ entry 0.1 and
          W = 1/n_features (all signatures equal: the symmetry is broken only by the NNLS
          tie-breaking, METHODS §C.7 pitfall 2).
        - "custom": as "nmf" with C = ``fit(..., components=C)`` (k × n_features, >= 0),
          e.g. known (COSMIC) signatures.
    lambda_l1, lambda_l2 : float >= 0 or "auto", default="auto"
        λ₁ and λ₂: the start when learned, the value when fixed. "auto": 1.0 for a
        supervised fit with ``init="repository"`` (the repository fills them with 1),
        else 0.0. The repository's unsupervised runs used λ₁ = λ₂ ∈ {0, 1, 2}.
    learn_lambda : bool or "auto", default="auto"
        Learn λ₁, λ₂ by Adam (supervised only). "auto": True supervised, False
        unsupervised; True in an unsupervised fit raises (METHODS §C.2 keeps them fixed
        there).
    learning_rate : float > 0 or "auto", default="auto"
        Adam's step size; "auto": 1e-3 supervised, 5e-4 unsupervised (the repository's).
        Adam's steps are absolute (about ``learning_rate`` per parameter and step), so the
        useful value depends on the scale of the parameters (Notes).
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
    epsilon : float > 0, default=1e-8
        Adam's decay rates and denominator guard (PyTorch's defaults, as the repository).
    max_iter : int >= 0, default=500
        Adam steps (the repository's 500 "epochs"). 0 returns the untrained network.
    tol : float >= 0, default=1e-4
        Stopping rule: stop when the watched loss (the validation loss with
        ``early_stopping``, else the training loss) has not fallen below
        best·(1 - tol), best the lowest value so far, for ``n_iter_no_change`` consecutive
        iterations (scikit-learn's MLP rule with a relative tolerance). Without early
        stopping, tol=0 switches the rule off: exactly ``max_iter`` steps, no warning (the
        repository's protocol).
    n_iter_no_change : int >= 1, default=10
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training samples (drawn with
        ``random_state``), watch their loss (supervised: the exposure MSE; unsupervised:
        the cost C with the current W), and keep the parameters (and W) of the iteration
        with the lowest validation loss. Only the samples passed to ``fit`` are used.
    validation_fraction : float in (0, 1), default=0.1
        ceil(fraction · n_samples) validation samples, at least 1, leaving at least 1.
    eps : float > 0, default=float32 eps (2⁻²³ ≈ 1.19e-7)
        ε of the denominators. The repository ran in float32 with this ε; it is kept in
        float64 too (the default is the same number for both dtypes), where it only guards
        denominators that would otherwise be 0 (B h = 0 and λ₁ = 0).
    normalize : bool, default=True
        Unsupervised only: scale each signature (row of ``components_``) to sum 1 and the
        network's output column by the same sum (``exposure_scale_``), so that exposures
        are in mutations and ``transform(X) @ components_`` is unchanged. A signature that
        ends all zero (an unused component) stays zero with scale 0, with a warning.
        Supervised fits are never rescaled (the output is on y's scale).
    dtype : {None, "float32", "float64"}, default=None
        Compute dtype (parameters, products and Adam's state). None: float32 X stays
        float32, anything else becomes float64. Losses are summed in float64.
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split and the NMF of ``init="nmf"`` (unsupervised); the
        other starts are deterministic.
    n_threads : int >= 1 or None, default=1
        BLAS threads inside ``fit`` and ``transform`` (threadpoolctl); None leaves the
        process setting alone. The products are small (n × n_features by n_features ×
        L·k), so one thread is fastest unless n is large, and it avoids oversubscription
        when many fits run in parallel (DESIGN.md §3).
    verbose : int, default=0
        > 0 prints the loss every 50 iterations.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features), compute dtype
        Signatures W. Unsupervised: the final W-step argmin_{W>=0} ‖net(X)·W - X‖ on the
        training samples of the kept network, normalised when ``normalize``. Supervised:
        argmin_{W>=0} ‖y W - X‖ (NNLS with the true exposures), not normalised, so that
        ``inverse_transform`` and the unsupervised ``score`` also work for supervised fits.
    exposure_scale_ : ndarray (n_components,), compute dtype
        :meth:`transform` = net(X) · exposure_scale_ (ones unless unsupervised and
        ``normalize``).
    A_ : ndarray (n_layers or 1, n_components, n_features), compute dtype
    B_ : ndarray (n_layers or 1, n_components, n_components), compute dtype
        The layers' matrices (one of each when ``tied``).
    lambda_l1_, lambda_l2_ : float
        λ₁ and λ₂ of the network (learned or fixed).
    supervised_ : bool
    n_components_ : int
    n_iter_ : int
        Adam steps taken.
    best_iter_ : int
        The step whose parameters are kept (n_iter_ without early stopping).
    loss_history_ : ndarray of float64 (n_iter_ + 1,)
        Training loss of θ_0 (the start), ..., θ_{n_iter_}: supervised the exposure MSE;
        unsupervised the cost C(θ_t, W_t) (W_t from the exposures of θ_{t-1}).
    validation_history_ : ndarray of float64 (n_iter_ + 1,) or (0,)
        The validation loss at the same points (empty without ``early_stopping``).
    loss_ : float
        Training loss of the kept parameters (unsupervised: after the final W-step).
    train_indices_, validation_indices_ : ndarray of int
        Rows of the X passed to fit used for training and validation.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Raises
    ------
    ValueError
        In ``fit``: invalid parameters; X negative, NaN/inf or all zero; y not 2-D, of another
        length or k, negative or not finite; a 1-D y (class labels?) with ``mode="auto"``;
        bad custom components; a loss that is not finite (overflow: lower
        ``learning_rate``, use float64, rescale X).

    Notes
    -----
    *Repository-faithful settings vs the defaults.* The defaults are the clean ones; the
    published protocol (github.com/raminass/deep_NMF, ``RECOMB2021/``) is
    ``init="repository", tol=0`` (exactly 500 steps; n_layers=10 and the learning rates are
    the defaults), with, in unsupervised fits, ``lambda_l1=lambda_l2=λ`` for λ ∈ {0, 1, 2}.
    Differences:

    - start: the repository's all-ones (supervised) or 0.1 / W = 1/M (unsupervised) vs the
      fitted-NMF start, under which the untrained network is the L-step multiplicative
      baseline and training can only move away from it by learning;
    - λ: the repository's supervised "no regularisation" runs (Fig. 3) were λ₁ = λ₂ = 1
      *fixed*, not 0 (METHODS §C.7 pitfall 3: the all-ones fill overwrote the zeros):
      reproduce them with ``learn_lambda=False, lambda_l1=1, lambda_l2=1``; a genuine
      no-regularisation fit is ``learn_lambda=False, lambda_l1=0, lambda_l2=0``. With
      "auto", λ starts at 0 except with ``init="repository"`` (supervised);
    - ε: the repository's float32 ε is the default in both dtypes (a different ε changes
      the network only where the denominators are tiny);
    - stopping: the repository trains a fixed 500 epochs; by default a relative-tolerance
      rule stops earlier and reaching ``max_iter`` warns (:class:`ConvergenceWarning`);
    - W: the repository keeps W internal; here the final W-step fits it to the trained
      network and ``components_`` stores it (normalised).

    The evaluation defects of METHODS §C.7 (mirrored test split, rank-1 MU baselines,
    unequal test costs) concern the benchmark protocol, not this estimator.

    *Scale and learning rate.* The network is unchanged when A_ℓ, B_ℓ and the λ's are
    multiplied by one constant (up to ε), but Adam's steps are absolute: the "nmf" start has
    entries of the size of the signatures (≈ 1/96 for signatures summing to 1), and a
    step of 1e-3 is then a large relative change. If training from the "nmf" start makes
    the loss worse than the start, lower ``learning_rate``.

    *Cost.* One forward/backward pass costs O(n·k·L·(n_features + k)): the numerators of
    all layers are one BLAS product X [A_0ᵀ | ... | A_{L-1}ᵀ] and the A-gradients one
    product with Xᵀ; the element-wise layer passes are compiled
    (:mod:`desurv._kernels._unfolded`). The unsupervised W-step adds ĤᵀĤ, ĤᵀX and n_features
    small NNLS solves per iteration.

    References
    ----------
    R. Nasser, Y. C. Eldar, R. Sharan (2022). Deep unfolding for non-negative matrix
    factorization with application to mutational signature analysis. J. Comput. Biol.
    29(1), 45-55 (RECOMB 2021); code github.com/raminass/deep_NMF (METHODS.md §C).
    D. D. Lee, H. S. Seung (2001). Algorithms for non-negative matrix factorization. NIPS 13.
    D. P. Kingma, J. Ba (2015). Adam: a method for stochastic optimization. ICLR.
    C. L. Lawson, R. J. Hanson (1974). Solving Least Squares Problems, ch. 23.
    """

    def __init__(
        self,
        n_components=None,
        *,
        n_layers=10,
        tied=False,
        mode="auto",
        init="nmf",
        lambda_l1="auto",
        lambda_l2="auto",
        learn_lambda="auto",
        learning_rate="auto",
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_iter=500,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        eps=EPS_FLOAT32,
        normalize=True,
        dtype=None,
        random_state=None,
        n_threads=1,
        verbose=0,
    ):
        self.n_components = n_components
        self.n_layers = n_layers
        self.tied = tied
        self.mode = mode
        self.init = init
        self.lambda_l1 = lambda_l1
        self.lambda_l2 = lambda_l2
        self.learn_lambda = learn_lambda
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.eps = eps
        self.normalize = normalize
        self.dtype = dtype
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        if self.mode not in _MODES:
            raise ValueError(f"mode={self.mode!r} is not supported; use one of {_MODES}")
        if self.init not in _INITS:
            raise ValueError(f"init={self.init!r} is not supported; use one of {_INITS}")
        nc = self.n_components
        if nc is not None and (not isinstance(nc, numbers.Integral) or isinstance(nc, bool)):
            raise ValueError(f"n_components must be an integer >= 1 or None, got {nc!r}")
        if nc is not None and nc < 1:
            raise ValueError(f"n_components must be an integer >= 1 or None, got {nc!r}")
        for name, low in (("n_layers", 1), ("max_iter", 0), ("n_iter_no_change", 1)):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        for name in ("tied", "early_stopping", "normalize"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        for name in ("lambda_l1", "lambda_l2", "learning_rate"):
            v = getattr(self, name)
            if not (isinstance(v, str) and v == "auto"):
                if name == "learning_rate":
                    _check_number(name, v, 0, low_open=True)
                else:
                    _check_number(name, v, 0)
        if not (self.learn_lambda == "auto" if isinstance(self.learn_lambda, str) else
                isinstance(self.learn_lambda, (bool, np.bool_))):  # fmt: skip
            raise ValueError(
                f"learn_lambda must be True, False or 'auto', got {self.learn_lambda!r}"
            )
        _check_number("beta_1", self.beta_1, 0, 1, high_open=True)
        _check_number("beta_2", self.beta_2, 0, 1, high_open=True)
        _check_number("epsilon", self.epsilon, 0, low_open=True)
        _check_number("tol", self.tol, 0)
        _check_number("validation_fraction", self.validation_fraction, 0, 1,
                      low_open=True, high_open=True)  # fmt: skip
        _check_number("eps", self.eps, 0, low_open=True)
        nt = self.n_threads
        if nt is not None and (
            not isinstance(nt, numbers.Integral) or isinstance(nt, bool) or nt < 1
        ):
            raise ValueError(f"n_threads must be an integer >= 1 or None, got {nt!r}")
        dt = self.dtype
        if isinstance(dt, type) and dt in (np.float32, np.float64):
            dt = dt.__name__
        if dt not in _DTYPES:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")
        return _DTYPES[dt]

    def _validate_X(self, X, *, reset, dtype):
        return validate_factor_input(self, X, reset=reset, dtype=dtype, name="DeepUnfoldedNMF")

    def _resolve_mode(self, y):
        if self.mode == "unsupervised":
            return False
        if y is None:
            if self.mode == "supervised":
                raise ValueError(
                    "mode='supervised' needs the true exposures: fit(X, y) with y of shape "
                    "(n_samples, n_components)"
                )
            return False
        return True

    def _validate_y(self, X_raw, y, n, dtype):
        _, y, _ = align_rows(X_raw, y, names=("X", "y"), what="samples")
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y (the true exposures) must be numeric, got dtype {y.dtype}")
        if y.ndim != 2:
            raise ValueError(
                f"y must be the true exposures, 2-D (n_samples, n_components), got shape "
                f"{y.shape}; to train without exposures (e.g. inside a Pipeline that passes "
                "class labels) set mode='unsupervised'"
            )
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n} samples; they must match")
        if self.n_components is not None and y.shape[1] != self.n_components:
            raise ValueError(
                f"y has {y.shape[1]} columns but n_components={self.n_components}; set "
                "n_components=None (taken from y) or pass the matching exposures"
            )
        y = np.array(y, dtype=dtype, order="C")
        if not np.all(np.isfinite(y)):
            raise ValueError("y (the true exposures) contains NaN or inf values")
        if y.size and y.min() < 0:
            raise ValueError("y (the true exposures) contains negative values; exposures are >= 0")
        return y

    def _check_components(self, C, k, p, dtype):
        if C is None:
            raise ValueError("init='custom' needs the signatures: fit(X, y, components=C)")
        C = np.asarray(C)
        if C.shape != (k, p):
            raise ValueError(
                f"components has shape {C.shape}, expected (n_components, n_features) = {(k, p)}"
            )
        if C.dtype.kind not in "biuf":
            raise ValueError(f"components must be numeric, got dtype {C.dtype}")
        C = np.array(C, dtype=dtype, order="C")
        if not np.all(np.isfinite(C)) or C.min() < 0:
            raise ValueError("components must be finite and >= 0")
        return C

    # ------------------------------------------------------------------ starts
    def _start(self, net, X, y, supervised, components, l1, l2):
        """theta0 and (unsupervised) W0 (float64)."""
        k, p = net.n_components, net.n_features
        dt = X.dtype
        if self.init == "repository":
            val = 1.0 if supervised else 0.1
            theta = np.full((1, net.n_params), val, dtype=dt)
            theta[0, net.n_weights :] = (l1, l2)
            W0 = None if supervised else np.full((k, p), 1.0 / p)
            return theta, W0
        if self.init == "custom":
            C = components.astype(np.float64)
        elif supervised:
            C = w_step(y, X.astype(np.float64))
        else:
            from .nmf import NMF

            with warnings.catch_warnings():  # an unconverged start is still a start
                warnings.simplefilter("ignore", ConvergenceWarning)
                C = (
                    NMF(k, solver="cd", random_state=self.random_state)
                    .fit(X.astype(np.float64))
                    .components_
                )
        Ld = net.n_distinct
        A = np.broadcast_to(C, (Ld, k, p))
        B = np.broadcast_to(C @ C.T, (Ld, k, k))
        return net.pack(A, B, l1, l2, dt), (None if supervised else C.copy())

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, components=None):
        """Train the network.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), nonnegative
            E.g. a mutational catalogue, genomes × 96 channels.
        y : array-like or DataFrame of shape (n_samples, n_components) or None
            True exposures of the samples (supervised training). A DataFrame y is matched to
            a DataFrame X by row label. Ignored with ``mode="unsupervised"``.
        components : array-like (n_components, n_features) or None
            Signatures C of the start with ``init="custom"``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            See the class docstring.
        """
        dtype = self._check_params()
        with _blas_threads(self.n_threads):
            return self._fit(X, y, components, dtype)

    def _fit(self, X, y, components, dtype):
        supervised = self._resolve_mode(y)
        X_raw = X
        X = self._validate_X(X, reset=True, dtype=dtype)
        n, p = X.shape
        if not np.any(X):
            raise ValueError("X is all zero: deep-unfolded NMF needs at least one nonzero count")
        if supervised:
            y = self._validate_y(X_raw, y, n, X.dtype)
            k = y.shape[1]
        else:
            if self.n_components is None:
                raise ValueError(
                    "an unsupervised fit needs n_components (an integer >= 1); supervised "
                    "fits take it from y"
                )
            k = int(self.n_components)
        learn = self.learn_lambda
        if learn == "auto":
            learn = supervised
        elif learn and not supervised:
            raise ValueError(
                "learn_lambda=True needs a supervised fit (y given): unsupervised training "
                "keeps lambda_l1 and lambda_l2 fixed (METHODS §C.2)"
            )
        lam_default = 1.0 if (supervised and self.init == "repository") else 0.0
        l1 = lam_default if self.lambda_l1 == "auto" else float(self.lambda_l1)
        l2 = lam_default if self.lambda_l2 == "auto" else float(self.lambda_l2)
        lr = self.learning_rate
        if lr == "auto":
            lr = 1e-3 if supervised else 5e-4
        if self.init == "custom":
            components = self._check_components(components, k, p, X.dtype)
        elif components is not None:
            warnings.warn(
                "components is only used with init='custom'; it is ignored",
                RuntimeWarning,
                stacklevel=3,
            )
        # validation split (never beyond the samples passed to fit)
        idx = np.arange(n)
        val_idx = np.empty(0, dtype=np.intp)
        if self.early_stopping:
            n_val = int(np.ceil(self.validation_fraction * n))
            if n_val < 1 or n - n_val < 1:
                raise ValueError(
                    f"early_stopping with validation_fraction={self.validation_fraction} "
                    f"leaves {n - n_val} training and {n_val} validation samples of {n}; "
                    "pass more samples or set early_stopping=False"
                )
            perm = check_random_state(self.random_state).permutation(n)
            val_idx = np.sort(perm[:n_val])
            idx = np.sort(perm[n_val:])
        Xt = np.ascontiguousarray(X[idx])
        yt = None if not supervised else np.ascontiguousarray(y[idx])
        if not np.any(Xt):
            raise ValueError("the training samples of X are all zero; pass nonzero samples")
        net = UnfoldedNetwork(p, k, int(self.n_layers), bool(self.tied), float(self.eps))
        theta0, W0 = self._start(net, Xt, yt, supervised, components, l1, l2)
        res = fit_unfolded(
            Xt,
            net,
            theta0,
            H=yt,
            W0=W0,
            X_val=np.ascontiguousarray(X[val_idx]) if self.early_stopping else None,
            H_val=y[val_idx] if (self.early_stopping and supervised) else None,
            learn_lambda=bool(learn),
            learning_rate=float(lr),
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            epsilon=float(self.epsilon),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            n_iter_no_change=int(self.n_iter_no_change),
            verbose=self.verbose,
        )
        if not res["stopped"] and self.max_iter > 0 and (self.early_stopping or self.tol > 0):
            warnings.warn(
                f"DeepUnfoldedNMF stopped at max_iter={self.max_iter} before the loss "
                f"stopped improving (tol={self.tol}, n_iter_no_change={self.n_iter_no_change});"
                " increase max_iter (or tol), or set tol=0 for a fixed number of steps",
                ConvergenceWarning,
                stacklevel=3,
            )
        theta = res["theta"]
        scale = np.ones(k)
        if supervised:
            W = w_step(yt, Xt.astype(np.float64))
        else:
            W = res["W"]
            if self.normalize:
                s = W.sum(axis=1)
                zero = s <= 0
                if zero.any():
                    warnings.warn(
                        f"DeepUnfoldedNMF signature(s) {np.flatnonzero(zero).tolist()} are all "
                        "zero after training (unused components; their exposures are set to "
                        "0); consider a smaller n_components or init='nmf'",
                        UserWarning,
                        stacklevel=3,
                    )
                scale = np.where(zero, 0.0, s)
                W = W / np.where(zero, 1.0, s)[:, None]
        A, B, lam = net.views(theta)
        self._net = net
        self.components_ = np.ascontiguousarray(W, dtype=X.dtype)
        self.exposure_scale_ = scale.astype(X.dtype)
        self.A_ = A.copy()
        self.B_ = B.copy()
        self.lambda_l1_ = float(lam[0])
        self.lambda_l2_ = float(lam[1])
        self.supervised_ = bool(supervised)
        self.n_components_ = k
        self.n_iter_ = int(res["n_iter"])
        self.best_iter_ = int(res["best_iter"])
        self.loss_history_ = res["history"]
        self.validation_history_ = res["val_history"]
        self.loss_ = res["loss"]
        self.train_indices_ = idx
        self.validation_indices_ = val_idx
        return self

    def fit_transform(self, X, y=None, components=None):
        """Train the network and return the exposures of X (n_samples, n_components).

        Parameters and errors as :meth:`fit`; the result is :meth:`transform` of X (the
        forward pass of the trained network, also for validation samples).
        """
        return self.fit(X, y, components=components).transform(X)

    # ------------------------------------------------------------------ transform
    def _network(self):
        """The fitted network and its parameters (from ``A_``, ``B_`` and the λ's)."""
        net = self._net
        return net, net.pack(self.A_, self.B_, self.lambda_l1_, self.lambda_l2_, self.A_.dtype)

    def transform(self, X):
        """Exposures of the samples of X: one forward pass of the trained network.

        transform(X) = net(X) · ``exposure_scale_``. The computation is independent per
        sample (no NNLS), O(n·k·L·(n_features + k)).

        Parameters
        ----------
        X : array-like or DataFrame (n_samples, n_features), nonnegative, finite

        Returns
        -------
        exposures : ndarray (n_samples, n_components), the fitted compute dtype
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False, dtype=self.A_.dtype)
        net, theta = self._network()
        with np.errstate(over="ignore", invalid="ignore"), _blas_threads(self.n_threads):
            E = net.transform(X, theta)
        E *= self.exposure_scale_
        return E

    def score(self, X, y=None):
        """Negative mean loss (higher is better).

        With y (true exposures, and ``mode`` not "unsupervised"): minus the mean squared
        error Σ (ĥ - h)² / (n·k) of :meth:`transform`. Without y: minus the per-sample
        reconstruction cost Σ ½‖x - ĥ·components_‖² / n (no λ terms, so that fits with
        different λ compare on one scale).
        """
        check_is_fitted(self)
        E = self.transform(X).astype(np.float64)
        if y is not None and self.mode != "unsupervised":
            Xv = self._validate_X(X, reset=False, dtype=self.A_.dtype)
            y = self._validate_y(X, y, Xv.shape[0], np.float64)
            if y.shape[1] != self.n_components_:
                raise ValueError(
                    f"y has {y.shape[1]} columns, the model {self.n_components_} components"
                )
            return -float(np.mean((E - y) ** 2))
        Xv = self._validate_X(X, reset=False, dtype=np.float64)
        R = E @ self.components_.astype(np.float64) - Xv
        return -0.5 * float(np.sum(R * R)) / max(Xv.shape[0], 1)
