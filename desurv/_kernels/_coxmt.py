"""Fused element-wise passes of the Cox-MT mean-teacher network (Sun, Chen, Cai 2026), Numba.

The single-modal Cox-MT network (METHODS.md §D.1; arXiv 2601.20729) is a multilayer
perceptron x -> η with ReLU and inverted dropout after every hidden layer, trained by Adam
with coupled L2 weight decay, with a teacher network that follows the student by an
exponential moving average (Tarvainen & Valpola 2017). The products go to BLAS in
``desurv.survival.coxmt``; the element-wise passes around them are fused here:

* :func:`gather_noise`: the noisy input rows X[rows] + σ·ε of a (mini-)batch in one pass
  (ε drawn in float64 by the caller's NumPy Generator);
* :func:`bias_relu_dropout`: h = relu(z + b) ⊙ keep / (1 − rate) in place (forward of a
  hidden layer after its product, train or eval mode);
* :func:`relu_dropout_backward`: g <- g ⊙ [h > 0] / (1 − rate) in place and the bias
  gradient Σ_i g (backward of a hidden layer before its products);
* :func:`adam_step`: one PyTorch-``Adam`` step with coupled L2 weight decay on a flat
  parameter vector;
* :func:`ema_update`: θ' <- α θ' + (1 − α) θ (the teacher update, §D.2);
* :func:`adam_ema_step`: both in one pass over the parameters (what the fit runs).

Arithmetic per entry is float64 (arrays may be float32: they are read and stored in their
dtype); sums accumulate in float64. Twins: ``desurv._reference.coxmt``.
"""

import numpy as np
from numba import njit

# error_model="numpy": no ZeroDivisionError check in the loops; the divisors (1 − rate with
# rate < 1, sqrt(v̂) + ε with ε > 0, 1 − β^t with β < 1, t >= 1) are never zero
_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**_OPTS)
def gather_noise(out, X, rows, E, noise_std):  # pragma: no cover - compiled
    """Noisy input rows: out[i] <- X[rows[i]] + σ·E[i].

    Parameters
    ----------
    out : ndarray (m, p), float32 or float64, C-contiguous
        Output: the noisy rows.
    X : ndarray (n, p), out's dtype
        Standardised inputs (read only).
    rows : ndarray (m,) of int64
        Rows of X, each in [0, n).
    E : ndarray (m, p) of float64
        Standard normal draws (float64 whatever the compute dtype, so that a float32 fit
        sees the same noise as a float64 one). Not read when ``noise_std == 0``: any
        array, e.g. of shape (0, 0).
    noise_std : float >= 0
        σ, the standard deviation of the Gaussian input noise (units of X).
    """
    m, p = out.shape
    for i in range(m):
        r = rows[i]
        if noise_std == 0.0:
            for j in range(p):
                out[i, j] = X[r, j]
        else:
            for j in range(p):
                out[i, j] = np.float64(X[r, j]) + noise_std * E[i, j]


@njit(**_OPTS)
def bias_relu_dropout(Z, b, U, rate):  # pragma: no cover - compiled
    """Hidden-layer forward after its product, in place: Z <- relu(Z + b) ⊙ keep / (1 − rate).

    Parameters
    ----------
    Z : ndarray (m, h), float32 or float64, C-contiguous
        A·W on entry, the layer's output h on exit.
    b : ndarray (h,), Z's dtype
        Bias.
    U : ndarray (m, h) of float64
        Uniform draws in [0, 1) (float64 whatever the compute dtype): unit j of sample i
        is kept when U[i, j] >= rate (so each is kept with probability 1 − rate, as
        ``torch.nn.Dropout``). Not read when
        ``rate == 0`` (eval mode, or no dropout): any array, e.g. of shape (0, 0).
    rate : float in [0, 1)
        Dropout probability.
    """
    m, h = Z.shape
    scale = 1.0 / (1.0 - rate)
    for i in range(m):
        for j in range(h):
            z = np.float64(Z[i, j]) + np.float64(b[j])
            if z > 0.0 and (rate == 0.0 or U[i, j] >= rate):
                Z[i, j] = z * scale
            else:
                Z[i, j] = 0.0


@njit(**_OPTS)
def relu_dropout_backward(G, H, rate, db):  # pragma: no cover - compiled
    """Hidden-layer backward before its products, in place: G <- G ⊙ [H > 0] / (1 − rate).

    With h = relu(z + b) ⊙ keep / (1 − rate), ∂h/∂z = keep·[z + b > 0] / (1 − rate), and
    keep·[z + b > 0] = [h > 0] (the scale is >= 1, so a positive product never rounds to 0).
    The subgradient at z + b = 0 is 0 (as PyTorch's ReLU).

    Parameters
    ----------
    G : ndarray (m, h), float32 or float64, C-contiguous
        ∂L/∂h on entry, ∂L/∂z on exit.
    H : ndarray (m, h), G's dtype
        The layer's forward output h.
    rate : float in [0, 1)
        The dropout probability of the forward pass (0 in eval mode).
    db : ndarray (h,), G's dtype
        Output: the bias gradient ∂L/∂b = Σ_i ∂L/∂z_i (summed in float64).
    """
    m, h = G.shape
    scale = 1.0 / (1.0 - rate)
    acc = np.zeros(h, dtype=np.float64)
    for i in range(m):
        for j in range(h):
            if H[i, j] > 0:
                g = np.float64(G[i, j]) * scale
                G[i, j] = g
                acc[j] += np.float64(G[i, j])
            else:
                G[i, j] = 0.0
    for j in range(h):
        db[j] = acc[j]


@njit(**_OPTS)
def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):  # pragma: no cover
    """One Adam step with coupled L2 weight decay (PyTorch's ``Adam(weight_decay=...)``).

    Per entry: g = grad + λ·θ, m <- β₁m + (1 − β₁)g, v <- β₂v + (1 − β₂)g²,
    θ <- θ − (lr / (1 − β₁^t))·m / (sqrt(v) / sqrt(1 − β₂^t) + ε) (Kingma & Ba 2015 in
    PyTorch's form; decoupled decay, AdamW, is not this).

    Parameters
    ----------
    theta, grad, m, v : ndarray (n_params,), one dtype, C-contiguous
        Parameters (updated), their loss gradient (read only), first and second moments
        (updated).
    t : int >= 1
        Step number (bias correction).
    lr, beta1, beta2, eps, weight_decay : float
        Step size > 0, decay rates in [0, 1), denominator guard > 0, L2 coefficient λ >= 0.
    """
    c1 = lr / (1.0 - beta1**t)
    c2 = 1.0 / np.sqrt(1.0 - beta2**t)
    for i in range(theta.shape[0]):
        w = np.float64(theta[i])
        g = np.float64(grad[i]) + weight_decay * w
        mi = beta1 * np.float64(m[i]) + (1.0 - beta1) * g
        vi = beta2 * np.float64(v[i]) + (1.0 - beta2) * g * g
        m[i] = mi
        v[i] = vi
        theta[i] = w - c1 * mi / (np.sqrt(vi) * c2 + eps)


@njit(**_OPTS)
def ema_update(teacher, student, alpha):  # pragma: no cover - compiled
    """Mean-teacher update in place: θ' <- α·θ' + (1 − α)·θ (Tarvainen & Valpola 2017).

    teacher, student : ndarray (n_params,) of one dtype; alpha in [0, 1].
    """
    beta = 1.0 - alpha
    for i in range(teacher.shape[0]):
        teacher[i] = alpha * np.float64(teacher[i]) + beta * np.float64(student[i])


@njit(**_OPTS)
def adam_ema_step(
    theta, grad, m, v, teacher, t, lr, beta1, beta2, eps, weight_decay, alpha
):  # pragma: no cover - compiled
    """:func:`adam_step` then :func:`ema_update` with the new θ, in one pass.

    Same arithmetic as the two kernels one after the other (the teacher reads the stored,
    possibly float32, new θ).
    """
    c1 = lr / (1.0 - beta1**t)
    c2 = 1.0 / np.sqrt(1.0 - beta2**t)
    beta = 1.0 - alpha
    for i in range(theta.shape[0]):
        w = np.float64(theta[i])
        g = np.float64(grad[i]) + weight_decay * w
        mi = beta1 * np.float64(m[i]) + (1.0 - beta1) * g
        vi = beta2 * np.float64(v[i]) + (1.0 - beta2) * g * g
        m[i] = mi
        v[i] = vi
        theta[i] = w - c1 * mi / (np.sqrt(vi) * c2 + eps)
        teacher[i] = alpha * np.float64(teacher[i]) + beta * np.float64(theta[i])
