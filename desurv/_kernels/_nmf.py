"""Fused multiplicative-update passes for the DeSurv NMF steps (Numba, nogil).

The products with X are done by BLAS in the caller; these kernels do the small, element-wise
work around them in one pass each, so that no p x n temporary is ever formed.

Layouts: W-shaped arrays (W, the step V, the trial) are kept transposed, (k, p), so that the
passes over genes are contiguous and vectorise; the projections Z = XᵀW are (n, k); H is
(k, n). All sums that feed the objective accumulate in float64, whatever the input dtype.
Every kernel has a NumPy twin in ``desurv._reference`` (tests compare them).
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)
# reductions over genes vectorise only when LLVM may reassociate the sum
_OPTS_SUM = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@njit(**_OPTS)
def update_h(H, Z, WtW, ridge, eps):  # pragma: no cover - compiled
    """In place: H <- max(H * Zᵀ / (WtW H + ridge H + eps), eps); returns H Hᵀ of the new H.

    H : (k, n) exposures, Z : (n, k) = XᵀW, WtW : (k, k).
    """
    k, n = H.shape
    col = np.empty(k)
    HHt = np.zeros((k, k))
    for j in range(n):
        for f in range(k):
            col[f] = H[f, j]
        for f in range(k):
            den = ridge * col[f] + eps
            for g in range(k):
                den += WtW[f, g] * col[g]
            v = col[f] * Z[j, f] / den
            H[f, j] = v if v >= eps else eps
        for f in range(k):
            hf = H[f, j]
            for g in range(f, k):
                HHt[f, g] += hf * H[g, j]
    for f in range(k):
        for g in range(f):
            HHt[f, g] = HHt[g, f]
    return HHt


@njit(**_OPTS_SUM)
def w_direction(  # pragma: no cover - compiled
    W, XM, beta, HHt, c_nmf, ridge_w, alpha, clamp, eps, V, WV, VV, by_numerator
):
    """Full multiplicative step V = W ⊙ R of the balanced W update, written into ``V``.

    W-shaped arrays are transposed, (k, p): W, V and XM (k + 1, p) = [H; gᵀ]·Xᵀ, whose rows
    are the W numerator (XHᵀ)ᵀ and the Cox gradient term (Xg)ᵀ.
    R = N / (D + eps) with N = c·XHᵀ + s·(Xg)βᵀ, D = c·W HHᵀ + ridge_w·W and
    s = alpha·min(‖G_nmf‖/‖G_cox‖, clamp), G_nmf = c(W HHᵀ − XHᵀ), G_cox = (Xg)βᵀ (the
    authors' balancing, which vanishes at every stationary point of plain NMF); with
    ``by_numerator`` s = alpha·min(‖c·XHᵀ‖/‖G_cox‖, clamp), which does not.
    Also writes the Gram pieces ``WV`` = WᵀV and ``VV`` = VᵀV (k, k) that give the Gram
    matrix of every damped trial in O(k²) (see :func:`trial_terms`).
    Returns (‖G_nmf‖, ‖G_cox‖). ``alpha == 0`` skips the Cox part.
    """
    k, p = W.shape
    # pass 1: (W HHᵀ)ᵀ into V, and ‖G_nmf‖²
    gn2 = 0.0
    for f in range(k):
        for i in range(p):
            V[f, i] = 0.0
        for g in range(k):
            h = HHt[g, f]
            for i in range(p):
                V[f, i] += h * W[g, i]
        for i in range(p):
            d = c_nmf * (V[f, i] - XM[f, i])
            gn2 += d * d
    gn = np.sqrt(gn2)
    push = gn  # the norm the survival push is scaled to
    if by_numerator:
        nn2 = 0.0
        for f in range(k):
            for i in range(p):
                d = c_nmf * XM[f, i]
                nn2 += d * d
        push = np.sqrt(nn2)
    gc = 0.0
    scale = 0.0
    if alpha > 0.0:
        xg2 = 0.0
        for i in range(p):
            xg2 += XM[k, i] * XM[k, i]
        b2 = 0.0
        for f in range(k):
            b2 += beta[f] * beta[f]
        gc = np.sqrt(xg2 * b2)
        ratio = (push + 1e-12) / (gc + 1e-12)
        if ratio > clamp:
            ratio = clamp
        scale = alpha * ratio
    # pass 2: V = W ⊙ N / (D + eps)
    for f in range(k):
        sb = scale * beta[f]
        for i in range(p):
            w = W[f, i]
            num = c_nmf * XM[f, i] + sb * XM[k, i]
            V[f, i] = w * (num / (c_nmf * V[f, i] + ridge_w * w + eps))
    _gram(W, V, WV)
    _gram(V, V, VV)
    return gn, gc


@njit(**_OPTS_SUM)
def _gram(A, B, out):  # pragma: no cover - compiled
    """out (k, k) ← A Bᵀ for A, B (k, p): the Gram matrix of W-shaped arrays."""
    k, p = A.shape
    for f in range(k):
        for g in range(k):
            s = 0.0
            for i in range(p):
                s += A[f, i] * B[g, i]
            out[f, g] = s


@njit(**_OPTS)
def w_trial(W, V, theta, eps, Wt, norms, WtW):  # pragma: no cover - compiled
    """Damped trial Wt = max((1−θ)·W + θ·V, eps) with its column norms and Gram matrix.

    Transposed layout (k, p). With V = W ⊙ R this is W ⊙ ((1−θ) + θR). Writes ``Wt``
    unnormalised, ``norms`` (k,) the ℓ2 norms of the factors (norms < eps are reported as 1,
    leaving that factor unscaled) and ``WtW`` = Wt Wtᵀ (k, k).
    """
    k, p = W.shape
    a = 1.0 - theta
    for f in range(k):
        for i in range(p):
            v = a * W[f, i] + theta * V[f, i]
            Wt[f, i] = v if v >= eps else eps
    _gram(Wt, Wt, WtW)
    for f in range(k):
        nf = np.sqrt(WtW[f, f])
        norms[f] = nf if nf >= eps else 1.0


@njit(**_OPTS)
def trial_terms(
    Z, B, theta, H, beta, WtW, WV, VV, HHt, h_row_sq, l1_ratio, sd, trial_sd, Zt, eta, sd_t, norms
):  # pragma: no cover - compiled
    """Every term of F that a damped trial W(θ) = (1−θ)W + θV changes, in O(nk + k²).

    Projections Zt = (1−θ)Z + θB with B = XᵀV (by linearity XᵀW(θ), so X is not touched)
    and the linear predictor ``eta`` = Zt β (n,); the trial's Gram matrix from the small products,
    G = (1−θ)²WᵀW + θ(1−θ)(WᵀV + VᵀW) + θ²VᵀV, its column norms t (written to ``norms``)
    and, with the columns rescaled to unit norm (H's rows and β by t, which leaves WH and η
    unchanged): cross = ⟨Zt, Hᵀ⟩, gram = ⟨G, HHᵀ⟩, ‖H‖² = Σ t²‖H_f‖², ‖W‖² = Σ G_ff/t² and the
    elastic net P_ξ(β ⊙ sd) with sd the sample SD (ddof 1) of Zt's columns (written to
    ``sd_t``) when ``trial_sd``, else the given ``sd``.
    The ε-floor of the trial is ignored here (it moves G by ≤ ε·Σ W relative, ~1e-12);
    the accepted trial is materialised exactly by :func:`w_trial`.
    Returns (cross, gram, h_sq, w_sq, pen_beta).
    """
    n, k = Z.shape
    a = 1.0 - theta
    cross = _trial_cols(Z, B, a, theta, H, beta, Zt, eta)
    gram = 0.0
    h_sq = 0.0
    w_sq = 0.0
    for f in range(k):
        for g in range(k):
            gfg = a * a * WtW[f, g] + a * theta * (WV[f, g] + WV[g, f]) + theta * theta * VV[f, g]
            gram += gfg * HHt[f, g]
        gff = a * a * WtW[f, f] + 2.0 * a * theta * WV[f, f] + theta * theta * VV[f, f]
        t = np.sqrt(gff) if gff > 0.0 else 1.0
        norms[f] = t
        h_sq += t * t * h_row_sq[f]
        w_sq += gff / (t * t)
    pen = 0.0
    for f in range(k):
        sd_t[f] = _col_mean_sd(Zt, f)[1] if trial_sd else sd[f]
        b = beta[f] * sd_t[f]
        pen += l1_ratio * abs(b) + 0.5 * (1.0 - l1_ratio) * b * b
    return cross, gram, h_sq, w_sq, pen


@njit(**_OPTS)
def _trial_cols(Z, B, a, theta, H, beta, Zt, eta):  # pragma: no cover - compiled
    n, k = Z.shape
    cross = 0.0
    for j in range(n):
        e = 0.0
        for f in range(k):
            z = a * Z[j, f] + theta * B[j, f]
            Zt[j, f] = z
            e += z * beta[f]
            cross += z * H[f, j]
        eta[j] = e
    return cross


@njit(**_OPTS)
def _col_mean_sd(Z, f):  # pragma: no cover - compiled
    """Mean and sample SD (ddof = 1, 0 for one sample) of column f of Z (n, k), two-pass."""
    n = Z.shape[0]
    m = 0.0
    for j in range(n):
        m += Z[j, f]
    m /= n
    ss = 0.0
    for j in range(n):
        d = Z[j, f] - m
        ss += d * d
    return m, (np.sqrt(ss / (n - 1)) if n > 1 else 0.0)


@njit(**_OPTS)
def col_sd(Z, out):  # pragma: no cover - compiled
    """Sample standard deviation (ddof = 1) of each column of Z (n, k), two-pass for accuracy."""
    for f in range(Z.shape[1]):
        out[f] = _col_mean_sd(Z, f)[1]


@njit(**_OPTS)
def standardize(Z, Zs, mean, sd):  # pragma: no cover - compiled
    """Zs ← (Z − mean)/sd column-wise, with the column means and SDs (ddof = 1) of Z (n, k).

    Columns with sd ≤ 1e-12 (constant projections) are left at 0 in ``Zs``. Zs may be
    Fortran-ordered (the Cox solvers' layout). Returns the number of such constant columns.
    """
    n, k = Z.shape
    n_const = 0
    for f in range(k):
        m, s = _col_mean_sd(Z, f)
        mean[f] = m
        sd[f] = s
        if s > 1e-12:
            for j in range(n):
                Zs[j, f] = (Z[j, f] - m) / s
        else:
            n_const += 1
            for j in range(n):
                Zs[j, f] = 0.0
    return n_const


@njit(**_OPTS)
def base_terms(Z, H, WtW, HHt, h_row_sq):  # pragma: no cover - compiled
    """(cross, gram, ‖H‖², ‖W‖²) of F from small products: cross = ⟨Z, Hᵀ⟩ with Z = XᵀW,
    gram = ⟨WᵀW, HHᵀ⟩, ‖W‖² = tr WᵀW; writes the squared row norms of H into ``h_row_sq``."""
    k, n = H.shape
    cross = cross_term(Z, H)
    gram = 0.0
    w_sq = 0.0
    h_sq = 0.0
    for f in range(k):
        for g in range(k):
            gram += WtW[f, g] * HHt[f, g]
        w_sq += WtW[f, f]
        h_row_sq[f] = HHt[f, f]
        h_sq += HHt[f, f]
    return cross, gram, h_sq, w_sq


@njit(**_OPTS)
def cross_term(Z, H):  # pragma: no cover - compiled
    """⟨Z, Hᵀ⟩ = Σ_jf Z[j, f]·H[f, j] in float64 (Z (n, k), H (k, n))."""
    n, k = Z.shape
    s = 0.0
    for j in range(n):
        for f in range(k):
            s += Z[j, f] * H[f, j]
    return s
