"""Fused element-wise passes of deep-unfolded NMF (Nasser, Eldar, Sharan 2022), Numba, nogil.

The network (METHODS.md §C.1) maps a sample v (a row of X, n_features entries) to exposures
through L layers, each one regularised multiplicative exposure update with its own
non-negative matrices A_ℓ (k × n_features) and B_ℓ (k × k), shared λ₁, λ₂ and h⁽⁰⁾ = 1:

    a_ℓ = v A_ℓᵀ,   d_ℓ = h⁽ℓ⁾ B_ℓᵀ + λ₂ h⁽ℓ⁾ + λ₁ + ε,   h⁽ℓ⁺¹⁾ = h⁽ℓ⁾ ⊙ a_ℓ / d_ℓ.

The products (X A_ℓᵀ for all layers at once, H B_ℓᵀ, and the gradient products) go to BLAS
in ``desurv.decomposition.unfolded``; the element-wise parts are these passes:

* :func:`layer_forward`: d and the next h of one layer, in place.
* :func:`layer_backward`: the element-wise part of one layer's backward pass (METHODS §C.2):
  g_a = G ⊙ h / d, g_d = -G ⊙ h ⊙ a / d², the part G ⊙ a / d + λ₂ g_d of ∂L/∂h, and the
  sums Σ g_d = ∂L/∂λ₁ and Σ g_d ⊙ h = ∂L/∂λ₂ of the layer.
* :func:`supervised_residual`: Σ (Ĥ - H)² and the gradient scale·(Ĥ - H) of the exposure MSE.
* :func:`penalty_gradient`: adds the λ terms to the reconstruction gradient of the
  unsupervised cost and returns Σ Ĥ and Σ Ĥ².

The Adam step with the projection onto the non-negative orthant is
``desurv._kernels._aenmf.adam_step`` (scheme ``PG``), the residual X̂ - X of the unsupervised
cost ``desurv._kernels._aenmf.fro_residual``.

Layout: samples are rows; H, D, G are (n, k) C-contiguous; the numerators of every layer are
the column blocks of one array ``Num`` = X [A_0ᵀ | A_1ᵀ | ...] of shape (n, L'·k) (L' = L, or
1 for tied layers), layer ℓ reading the columns c0 = ℓ·k ... c0 + k - 1. Arithmetic per entry
is float64 (arrays may be float32: they are read and stored in their dtype); sums accumulate
in float64. Twins: ``desurv._reference.unfolded``.
"""

import numpy as np
from numba import njit

# error_model="numpy": no ZeroDivisionError check in the loops; every divisor here is d, which
# is >= ε > 0 for non-negative parameters and inputs
_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**_OPTS)
def layer_forward(H, Hn, D, Num, c0, l1, l2, eps):  # pragma: no cover - compiled
    """One layer forward, in place: D <- D + λ₂H + λ₁ + ε, Hn <- H ⊙ Num[:, c0:c0+k] / D.

    Parameters
    ----------
    H : ndarray (n, k)
        h⁽ℓ⁾ (read only).
    Hn : ndarray (n, k), H's dtype
        Output: h⁽ℓ⁺¹⁾.
    D : ndarray (n, k), H's dtype
        H B_ℓᵀ on entry, the denominator d_ℓ = ((H B_ℓᵀ + λ₂H) + λ₁) + ε on exit.
    Num : ndarray (n, q), H's dtype
        Numerators; columns c0 ... c0 + k - 1 hold a_ℓ = X A_ℓᵀ.
    c0 : int
        First column of the layer in Num.
    l1, l2, eps : float
        λ₁, λ₂ and ε.

    Notes
    -----
    All arrays C-contiguous. When Num has k columns (tied layers) the pass runs over the
    flat arrays; otherwise row by row (one aliasing check per row, the k-loop vectorised).
    """
    n, k = H.shape
    if Num.shape[1] == k:  # one layer's numerators (tied, or L = 1): one flat pass
        h1, hn1, d1, a1 = H.reshape(-1), Hn.reshape(-1), D.reshape(-1), Num.reshape(-1)
        for i in range(h1.shape[0]):
            h = np.float64(h1[i])
            d = ((np.float64(d1[i]) + l2 * h) + l1) + eps
            d1[i] = d
            hn1[i] = h * np.float64(a1[i]) / d
        return
    for i in range(n):
        # row views: LLVM checks aliasing once per row and vectorises the short loop
        Hi, Hni, Di, Ai = H[i], Hn[i], D[i], Num[i, c0 : c0 + k]
        for f in range(k):
            h = np.float64(Hi[f])
            d = ((np.float64(Di[f]) + l2 * h) + l1) + eps
            Di[f] = d
            Hni[f] = h * np.float64(Ai[f]) / d


@njit(**_OPTS)
def layer_backward(G, H, Num, c0, D, l2, GA, ga0, accumulate, GD, GH, want_gh):  # pragma: no cover
    """Element-wise backward of one layer y = h ⊙ a / d (METHODS.md §C.2).

    With q = G / d per entry: g_a = q·h, g_d = -g_a·a / d (= -G h a / d²) and
    ∂L/∂h = q·a + λ₂ g_d + (g_d B_ℓ, added by the caller with BLAS). Computed with the
    reciprocal 1/d (one division per entry; the results differ from the formulas as
    written by rounding only).

    Parameters
    ----------
    G : ndarray (n, k)
        Upstream gradient ∂L/∂h⁽ℓ⁺¹⁾ (read only).
    H : ndarray (n, k)
        h⁽ℓ⁾.
    Num : ndarray (n, q)
        Numerators, a_ℓ in the columns c0 ... c0 + k - 1.
    c0 : int
    D : ndarray (n, k)
        Denominators d_ℓ of the forward pass.
    l2 : float
        λ₂.
    GA : ndarray (n, r)
        Output: g_a written to (``accumulate``: added to) the columns ga0 ... ga0 + k - 1.
    ga0 : int
    accumulate : bool
        Add g_a to GA (tied layers share A) instead of overwriting.
    GD : ndarray (n, k)
        Output: g_d.
    GH : ndarray (n, k)
        Output when ``want_gh``: G ⊙ a / d + λ₂ g_d (not touched otherwise).
    want_gh : bool
        False for the first layer (h⁽⁰⁾ = 1 is a constant).

    Returns
    -------
    s1, s2 : float
        Σ g_d (the layer's share of ∂L/∂λ₁) and Σ g_d ⊙ h (of ∂L/∂λ₂), float64.

    Notes
    -----
    All arrays C-contiguous. When Num and GA have k columns (tied layers) the pass runs
    over the flat arrays, otherwise row by row.
    """
    n, k = H.shape
    if Num.shape[1] == k and GA.shape[1] == k:  # tied (or L = 1): flat contiguous rows
        return _layer_backward_rows(
            G.reshape(1, -1), H.reshape(1, -1), Num.reshape(1, -1), 0, D.reshape(1, -1), l2,
            GA.reshape(1, -1), 0, accumulate, GD.reshape(1, -1),
            GH.reshape(1, -1) if want_gh else GD.reshape(1, -1), want_gh,
        )  # fmt: skip
    return _layer_backward_rows(G, H, Num, c0, D, l2, GA, ga0, accumulate, GD, GH, want_gh)


@njit(**_OPTS)
def _layer_backward_rows(
    G, H, Num, c0, D, l2, GA, ga0, accumulate, GD, GH, want_gh
):  # pragma: no cover - compiled
    """:func:`layer_backward` row by row (its arguments; the rows may be whole arrays)."""
    n, k = H.shape
    s1 = 0.0
    s2 = 0.0
    for i in range(n):
        Gi, Hi, Di, GDi, GHi = G[i], H[i], D[i], GD[i], GH[i]
        Ai, GAi = Num[i, c0 : c0 + k], GA[i, ga0 : ga0 + k]
        for f in range(k):
            r = 1.0 / np.float64(Di[f])  # one division per entry (two as written)
            h = np.float64(Hi[f])
            a = np.float64(Ai[f])
            q = np.float64(Gi[f]) * r
            ga = q * h
            gd = -ga * (a * r)
            if accumulate:
                GAi[f] += ga
            else:
                GAi[f] = ga
            GDi[f] = gd
            s1 += gd
            s2 += gd * h
            if want_gh:
                GHi[f] = q * a + l2 * gd
    return s1, s2


@njit(**_OPTS)
def supervised_residual(Hhat, Htrue, G, scale, want_grad):  # pragma: no cover - compiled
    """Σ (Ĥ - H)² in float64 and, when ``want_grad``, G <- scale·(Ĥ - H).

    Hhat, Htrue, G : ndarray (n, k) of one dtype (G not touched when not ``want_grad``).
    For the mean squared error L = Σ (Ĥ - H)² / (n k), scale = 2 / (n k) gives G = ∂L/∂Ĥ.
    """
    n, k = Hhat.shape
    s = 0.0
    for i in range(n):
        for f in range(k):
            r = np.float64(Hhat[i, f]) - np.float64(Htrue[i, f])
            s += r * r
            if want_grad:
                G[i, f] = scale * r
    return s


@njit(**_OPTS)
def penalty_gradient(G, Hhat, l1, l2, scale):  # pragma: no cover - compiled
    """In place G <- scale·(G + λ₁ + λ₂Ĥ); returns (Σ Ĥ, Σ Ĥ²) in float64.

    G holds (Ĥ W - X) Wᵀ on entry, so that on exit it is ∂C/∂Ĥ of the unsupervised cost
    C = [½‖X - ĤW‖² + λ₁ΣĤ + ½λ₂‖Ĥ‖²]·scale (scale = 1 / n_samples).
    G, Hhat : ndarray (n, k) of one dtype.
    """
    n, k = Hhat.shape
    s1 = 0.0
    s2 = 0.0
    for i in range(n):
        for f in range(k):
            h = np.float64(Hhat[i, f])
            s1 += h
            s2 += h * h
            G[i, f] = scale * ((np.float64(G[i, f]) + l1) + l2 * h)
    return s1, s2
