"""Plain NumPy twins of ``desurv._kernels._unfolded`` (tests and benchmarks only).

Besides the twins of the four fused passes, :func:`forward` and :func:`gradient` are the whole
deep-unfolded NMF network (Nasser, Eldar, Sharan 2022; METHODS.md §C.1-§C.2) written layer by
layer with the formulas as printed, in float64: the baseline of the forward/backward timing
and an oracle for ``desurv.decomposition.unfolded``.
"""

from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------------------- kernel twins
def layer_forward(H, Hn, D, Num, c0, l1, l2, eps):
    """Twin of ``_unfolded.layer_forward``: D <- ((D + λ₂H) + λ₁) + ε; Hn <- H ⊙ a / D."""
    k = H.shape[1]
    h = H.astype(np.float64)
    d = ((D.astype(np.float64) + l2 * h) + l1) + eps
    D[...] = d
    Hn[...] = h * Num[:, c0 : c0 + k].astype(np.float64) / d


def layer_backward(G, H, Num, c0, D, l2, GA, ga0, accumulate, GD, GH, want_gh):
    """Twin of ``_unfolded.layer_backward``: g_a = G h / d, g_d = -g_a a / d,
    GH = G a / d + λ₂ g_d; returns (Σ g_d, Σ g_d h)."""
    k = H.shape[1]
    d = D.astype(np.float64)
    h = H.astype(np.float64)
    a = Num[:, c0 : c0 + k].astype(np.float64)
    q = G.astype(np.float64) / d
    ga = q * h
    gd = -ga * (a / d)
    if accumulate:
        GA[:, ga0 : ga0 + k] = GA[:, ga0 : ga0 + k].astype(np.float64) + ga
    else:
        GA[:, ga0 : ga0 + k] = ga
    GD[...] = gd
    if want_gh:
        GH[...] = q * a + l2 * gd
    return float(gd.sum()), float((gd * h).sum())


def supervised_residual(Hhat, Htrue, G, scale, want_grad):
    """Twin of ``_unfolded.supervised_residual``: Σ (Ĥ - H)², G <- scale (Ĥ - H)."""
    r = Hhat.astype(np.float64) - Htrue.astype(np.float64)
    if want_grad:
        G[...] = scale * r
    return float(np.sum(r * r))


def penalty_gradient(G, Hhat, l1, l2, scale):
    """Twin of ``_unfolded.penalty_gradient``: G <- scale (G + λ₁ + λ₂Ĥ); (Σ Ĥ, Σ Ĥ²)."""
    h = Hhat.astype(np.float64)
    G[...] = scale * ((G.astype(np.float64) + l1) + l2 * h)
    return float(h.sum()), float((h * h).sum())


# ----------------------------------------------------------------------------- whole network
def forward(X, A, B, l1, l2, eps, n_layers):
    """The network as written: h⁽⁰⁾ = 1, h⁽ℓ⁺¹⁾ = h ⊙ (X A_ℓᵀ) / (h B_ℓᵀ + λ₂h + λ₁ + ε).

    Parameters
    ----------
    X : array (n, p)
    A : array (L', k, p); B : array (L', k, k)
        L' = n_layers (untied) or 1 (tied: every layer uses A[0], B[0]).
    l1, l2, eps : float
    n_layers : int

    Returns
    -------
    Hhat : ndarray (n, k), float64
    tape : list of (h, a, d) per layer, float64
    """
    X = np.asarray(X, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    tied = A.shape[0] == 1
    h = np.ones((X.shape[0], A.shape[1]))
    tape = []
    for ell in range(n_layers):
        j = 0 if tied else ell
        a = X @ A[j].T
        d = h @ B[j].T + l2 * h + l1 + eps
        tape.append((h, a, d))
        h = h * a / d
    return h, tape


def gradient(X, A, B, l1, l2, eps, n_layers, *, H=None, W=None):
    """Loss and its gradient with respect to (A, B, λ₁, λ₂) by the backward of METHODS §C.2.

    Supervised (H given, (n, k)): L = Σ (Ĥ - H)² / (n k), the mean squared error.
    Unsupervised (W given, (k, p)): L = [½‖X - ĤW‖² + λ₁ΣĤ + ½λ₂‖Ĥ‖²] / n, W fixed; the λ's
    enter both the network and the penalty, and their gradients hold both parts.

    Per layer y = h ⊙ a / d with upstream G: g_a = G h / d, g_d = -G h a / d²,
    ∂A = g_aᵀ X, ∂B = g_dᵀ h, ∂λ₁ += Σ g_d, ∂λ₂ += Σ g_d h, ∂h = G a / d + g_d B + λ₂ g_d.
    Tied layers (A.shape[0] == 1): the layers' gradients are summed.

    Returns
    -------
    loss : float
    dA : ndarray like A; dB : ndarray like B; dl1, dl2 : float
    """
    X = np.asarray(X, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    tied = A.shape[0] == 1
    Hhat, tape = forward(X, A, B, l1, l2, eps, n_layers)
    n, k = Hhat.shape
    dl1 = dl2 = 0.0
    if H is not None:
        r = Hhat - np.asarray(H, dtype=np.float64)
        loss = float(np.sum(r * r)) / (n * k)
        G = 2.0 * r / (n * k)
    else:
        W = np.asarray(W, dtype=np.float64)
        R = Hhat @ W - X
        loss = (0.5 * np.sum(R * R) + l1 * Hhat.sum() + 0.5 * l2 * np.sum(Hhat**2)) / n
        G = (R @ W.T + l1 + l2 * Hhat) / n
        dl1 += Hhat.sum() / n
        dl2 += 0.5 * np.sum(Hhat**2) / n
    dA = np.zeros_like(A)
    dB = np.zeros_like(B)
    for ell in range(n_layers - 1, -1, -1):
        j = 0 if tied else ell
        h, a, d = tape[ell]
        ga = G * h / d
        gd = -G * h * a / d**2
        dA[j] += ga.T @ X
        dB[j] += gd.T @ h
        dl1 += gd.sum()
        dl2 += (gd * h).sum()
        G = G * a / d + gd @ B[j] + l2 * gd
    return float(loss), dA, dB, float(dl1), float(dl2)
