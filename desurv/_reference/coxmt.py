"""Plain NumPy twins of ``desurv._kernels._coxmt`` and a straightforward Cox-MT network.

Twins of the fused passes (same names, same arguments, the formulas as written) for the
tests, and the whole single-modal Cox-MT network of METHODS.md §D.1-§D.2 (Sun, Chen, Cai
2026, arXiv 2601.20729) written the obvious way: a list of ``(W, b)`` pairs, NumPy
expressions with temporaries, boolean dropout masks, Adam and the EMA one array at a time.
It is the oracle of the gradient of ``desurv.survival.coxmt`` and the baseline of
``benchmarks/coxmt_speed.py``.
"""

from __future__ import annotations

import numpy as np

from desurv._reference import cox as _ref_cox


# ----------------------------------------------------------------------------- kernel twins
def gather_noise(out, X, rows, E, noise_std):
    """Twin of ``_coxmt.gather_noise``: out <- X[rows] + σ·E (E not read when σ = 0)."""
    if noise_std == 0.0:
        out[...] = X[rows]
    else:
        out[...] = X[rows].astype(np.float64) + noise_std * E


def bias_relu_dropout(Z, b, U, rate):
    """Twin of ``_coxmt.bias_relu_dropout``: Z <- relu(Z + b) ⊙ [U >= rate] / (1 − rate)."""
    z = Z.astype(np.float64) + b.astype(np.float64)
    keep = z > 0
    if rate != 0.0:
        keep &= U >= rate
    Z[...] = np.where(keep, z * (1.0 / (1.0 - rate)), 0.0)


def relu_dropout_backward(G, H, rate, db):
    """Twin of ``_coxmt.relu_dropout_backward``: G <- G ⊙ [H > 0] / (1 − rate); db = Σ_i G."""
    G[...] = np.where(H > 0, G.astype(np.float64) * (1.0 / (1.0 - rate)), 0.0)
    db[...] = G.astype(np.float64).sum(axis=0)


def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """Twin of ``_coxmt.adam_step``: PyTorch Adam with coupled L2 (g = grad + λθ)."""
    w = theta.astype(np.float64)
    g = grad.astype(np.float64) + weight_decay * w
    m64 = beta1 * m.astype(np.float64) + (1 - beta1) * g
    v64 = beta2 * v.astype(np.float64) + (1 - beta2) * g * g
    m[...] = m64
    v[...] = v64
    step = lr / (1 - beta1**t)
    theta[...] = w - step * m64 / (np.sqrt(v64) / np.sqrt(1 - beta2**t) + eps)


def ema_update(teacher, student, alpha):
    """Twin of ``_coxmt.ema_update``: θ' <- α θ' + (1 − α) θ."""
    teacher[...] = alpha * teacher.astype(np.float64) + (1 - alpha) * student.astype(np.float64)


def adam_ema_step(theta, grad, m, v, teacher, t, lr, beta1, beta2, eps, weight_decay, alpha):
    """Twin of ``_coxmt.adam_ema_step``: :func:`adam_step`, then :func:`ema_update`."""
    adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps, weight_decay)
    ema_update(teacher, theta, alpha)


# ----------------------------------------------------------------------------- the network
def init_params(sizes, rng, dtype=np.float64):
    """``[(W (fan_in, fan_out), b (fan_out,)), ...]`` drawn as PyTorch's ``nn.Linear``:
    U(−1/√fan_in, 1/√fan_in) for weights and biases (weights first, layer by layer)."""
    params = []
    for fi, fo in zip(sizes[:-1], sizes[1:], strict=True):
        bound = 1.0 / np.sqrt(fi)
        W = rng.uniform(-bound, bound, size=(fi, fo)).astype(dtype)
        b = rng.uniform(-bound, bound, size=fo).astype(dtype)
        params.append((W, b))
    return params


def forward(params, A0, U, rate):
    """η (float64, (m,)) and the cache of the backward pass.

    ``A0`` (m, p) is the (noisy) input, ``U`` one (m, h_l) array of uniforms per hidden layer
    (unit kept when U >= rate), ``rate`` the dropout probability (0: eval mode, U unused).
    """
    A = A0
    cache = []
    for layer, (W, b) in enumerate(params[:-1]):
        Z = A @ W + b
        keep = np.ones(Z.shape, dtype=bool) if rate == 0 else U[layer] >= rate
        mask = keep / (1.0 - rate)
        H = (np.maximum(Z, 0) * mask).astype(A0.dtype)
        cache.append((A, Z, mask))
        A = H
    W, b = params[-1]
    eta = (A @ W[:, 0]).astype(np.float64) + float(b[0])
    return eta, (cache, A)


def backward(params, cache, g_eta):
    """Gradient ``[(∂L/∂W, ∂L/∂b), ...]`` from ∂L/∂η (m,) and the cache of :func:`forward`."""
    layers, A = cache
    W, _ = params[-1]
    g = g_eta.astype(A.dtype)
    grads = [((A.T @ g)[:, None], np.array([g_eta.sum()], dtype=A.dtype))]
    G = np.outer(g, W[:, 0])
    for layer in range(len(layers) - 1, -1, -1):
        A_in, Z, mask = layers[layer]
        G = (G * mask * (Z > 0)).astype(A.dtype)
        grads.append((A_in.T @ G, G.sum(axis=0)))
        if layer > 0:
            G = G @ params[layer][0].T
    return grads[::-1]


def cox_reference(eta, time, event, efron=False):
    """``(ℓ, ∂ℓ/∂η)`` of the Cox partial likelihood from the definition (desurv._reference.cox)."""
    return _ref_cox.loglik(eta, time, event, efron), _ref_cox.gradient(eta, time, event, efron)


def eta_loss(eta_s, n_lab, time, event, eta_t, cons, weight, average="pooled", cox=None):
    """Loss of a batch and its gradient in the student's η (METHODS.md §D.1).

    ``L = −ℓ(η_lab)/|E| + w·L_u``: ℓ over the first ``n_lab`` entries (the labelled samples,
    with ``time``/``event``), L_u the MSE between ``eta_s[cons]`` and the teacher's
    ``eta_t`` (pooled mean, or ``average="halved"``: the mean of the censored part and the
    mean of the unlabelled part, averaged when unlabelled rows exist, as the published code).
    ``cox(eta, time, event) -> (ℓ, ∂ℓ/∂η)``, default :func:`cox_reference`.

    Returns ``(L, L_s, L_u, g)``.
    """
    cox = cox_reference if cox is None else cox
    g = np.zeros(eta_s.shape[0])
    n_event = float(np.sum(event))
    ls = 0.0
    if n_lab and n_event > 0:
        ll, gl = cox(eta_s[:n_lab], time, event)
        ls = -ll / n_event
        g[:n_lab] = -gl / n_event
    lu = 0.0
    if weight > 0 and len(cons):
        r = eta_s[cons] - eta_t
        if average == "pooled":
            lu = float(np.mean(r * r))
            g[cons] += weight * 2.0 * r / len(cons)
        else:
            cen = cons < n_lab
            unl = ~cen
            lc = float(np.mean(r[cen] ** 2)) if cen.any() else 0.0
            if unl.any():
                lu = 0.5 * (lc + float(np.mean(r[unl] ** 2)))
                g[cons[cen]] += weight * r[cen] / max(cen.sum(), 1)
                g[cons[unl]] += weight * r[unl] / unl.sum()
            else:
                lu = lc
                g[cons[cen]] += weight * 2.0 * r[cen] / cen.sum()
    return ls + weight * lu, ls, lu, g


def adam_update(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """PyTorch ``Adam`` with coupled L2 on lists of arrays, one NumPy expression per line."""
    for (W, b), (gW, gb), (mW, mb), (vW, vb) in zip(params, grads, m, v, strict=True):
        for p, g, mm, vv in ((W, gW, mW, vW), (b, gb, mb, vb)):
            g = g + weight_decay * p
            mm *= beta1
            mm += (1 - beta1) * g
            vv *= beta2
            vv += (1 - beta2) * g * g
            m_hat = mm / (1 - beta1**t)
            v_hat = vv / (1 - beta2**t)
            p -= lr * m_hat / (np.sqrt(v_hat) + eps)


def ema_params(teacher, student, alpha):
    """θ' <- α θ' + (1 − α) θ on lists of ``(W, b)``."""
    for (Wt, bt), (Ws, bs) in zip(teacher, student, strict=True):
        Wt *= alpha
        Wt += (1 - alpha) * Ws
        bt *= alpha
        bt += (1 - alpha) * bs


def train_step(
    student,
    teacher,
    m,
    v,
    t,
    X,
    lab_rows,
    time,
    event,
    unl_rows,
    rngs,
    *,
    noise_std=0.1,
    rate=0.2,
    weight=1.0,
    lr=2e-3,
    weight_decay=1e-4,
    ema_decay=0.99,
    average="pooled",
    cox=None,
):
    """One Cox-MT training step written the straightforward way (global step ``t`` from 0).

    Student on the labelled rows (``time``/``event``, in time order) and the unlabelled rows
    of X with Gaussian input noise and dropout, teacher (train mode, its own noise and
    dropout) on the censored labelled and the unlabelled rows, loss of :func:`eta_loss`,
    backward, Adam with coupled L2 and the EMA with α_t = min(1 − 1/(t + 1), ema_decay).
    ``rngs = (labelled, unlabelled, teacher)`` Generators. Returns the loss.
    """
    rng_l, rng_u, rng_t = rngs
    hidden = [W.shape[1] for W, _ in student[:-1]]
    n_l, n_u = len(lab_rows), len(unl_rows)

    def noisy(rows, rng):
        return X[rows] + noise_std * rng.standard_normal((len(rows), X.shape[1]))

    def uniforms(n, rng):
        return [rng.random((n, h)) for h in hidden]

    A_l, A_u = noisy(lab_rows, rng_l), noisy(unl_rows, rng_u)
    U_l, U_u = uniforms(n_l, rng_l), uniforms(n_u, rng_u)
    A0 = np.vstack([A_l, A_u])
    U = [np.vstack([a, b]) for a, b in zip(U_l, U_u, strict=True)]
    eta_s, cache = forward(student, A0, U, rate)
    cons = np.concatenate([np.flatnonzero(~np.asarray(event, bool)), n_l + np.arange(n_u)])
    eta_t = np.zeros(0)
    if weight > 0 and cons.size:
        rows = np.concatenate([lab_rows, unl_rows])[cons]
        eta_t, _ = forward(teacher, noisy(rows, rng_t), uniforms(len(rows), rng_t), rate)
    loss, _, _, g = eta_loss(eta_s, n_l, time, event, eta_t, cons, weight, average, cox)
    grads = backward(student, cache, g)
    adam_update(student, grads, m, v, t + 1, lr, weight_decay=weight_decay)
    ema_params(teacher, student, min(1.0 - 1.0 / (t + 1), ema_decay))
    return loss
