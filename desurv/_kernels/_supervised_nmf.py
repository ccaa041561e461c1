"""The whole S-NMF / SS-NMF / PSS-NMF iteration in one compiled call (Numba, nogil).

METHODS.md §A.2.1 (Tofacchi, Goossens, Gonçalves; the S-NMF code's supervised branch):
Lee–Seung multiplicative updates of W and H with the classification gradient in the H
numerator and plain gradient descent on the multinomial-logistic head B, W's columns
normalised to sum 1. Two variants:

Both floor H at 1e-25 after its step, where the published code sets only negative entries to
1e-25: positive entries then decay through the subnormal range (floating point ~100 times
slower; measured: the iteration became 3.4 times slower within 3,000 iterations on SynSig
profiles) to exact zeros, which a multiplicative update can never move again. Raising them to
1e-25 changes WH by less than 1e-25·max(W) per entry.

- faithful (``clean=False``): all three blocks from the iterate at time t (Jacobi-style), W's
  columns normalised without touching H, as the published code;
- clean (``clean=True``): H and B from the iterate at time t, then W' from the new H'
  (Lee–Seung's alternating order), and H's rows multiplied by W's column sums so that the
  normalisation leaves WH unchanged (B is not rescaled: see
  ``desurv.decomposition.supervised`` for why). With the simultaneous order that rescaling
  would apply the scale correction twice (H' adapts to the scale of W and is then multiplied
  by W's column sums) and the scale of WH oscillates.

:func:`run_block` runs ``n_iter`` iterations per call: the matrices are tiny (96 × ~1,000,
K ≤ 10, C ≤ 10), so NumPy's per-call overhead would dominate (DESIGN.md §3; METHODS §A.6).

Layout (sample-major, scikit-learn's orientation): X (N, M) with one sample per row, Wt = Wᵀ
(K, M) one signature per row, Ht = Hᵀ (N, K) one exposure vector per row, B (C, K),
Yt = Yᵀ (N, C) one-hot rows (all zero for unlabelled samples), lab (N,) the mask l (1 = the
sample enters the classification gradient; with U.R. every sample, its target row zero).

Per iteration the products go to BLAS through Numba's ``np.dot`` (no Python in between):
A = X W (the H numerator (WᵀX)ᵀ), P = Hᵀ X (the W numerator (X Hᵀ)ᵀ, from the old H in the
faithful variant, the new one in the clean variant), H WᵀW, the logits Z = H Bᵀ, R Hᵀ and
R B; on this machine that is 2-4 times faster than compiled loops at these shapes (K and C
are too short for the loops to vectorise). The K × K Grams WᵀW and H Hᵀ are compiled
loops with float64 sums. Compiled passes do the element-wise rest: the
clipped softmax and residual R = L(Ŷ − Y) of the labelled rows (their exponentials in one
vectorised pass, :func:`exp_array`: a scalar ``np.exp`` per entry made the softmax cost as
much as all the products), the new exposures, ‖X − WH‖² of the
old iterate (Σ_n ‖x_n‖² − 2 a_n·h_n + h_nᵀ WᵀW h_n, so the objective terms of the iterate at
the start of every iteration come free), the W step and the B step. The NumPy twin, with the
formulas as written, is ``desurv._reference.supervised_nmf``.
"""

import numpy as np
from numba import njit

#: the S-NMF code's guard of the multiplicative updates and floor of W and H
EPS = 1e-25
#: the S-NMF code's clip of the logits
ZCLIP = 50.0

# error_model="numpy": no ZeroDivisionError checks (every divisor is guarded by EPS, the
# softmax sum is >= 1); reassoc lets LLVM vectorise the short sums.
_OPTS = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")
# the exponential's range reduction rounds by adding and subtracting 1.5·2⁵², which
# reassociation would cancel: contraction (FMA) only
_EXP_OPTS = dict(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")

# exp(x) = 2ⁿ·exp(r), n = round(x / ln 2), r = x - n ln 2 (Cody & Waite: ln 2 in two parts so
# that n·LN2_HI is exact), exp(r) for |r| <= ln(2)/2 by its Taylor polynomial of degree 13
# (truncation error r¹⁴/14! < 5e-18 relative), 2ⁿ built from the bits of n
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 6755399441055744.0  # 1.5·2⁵²: x + _SHIFT holds round(x) in its low mantissa bits
_SHIFT_BITS = 0x4338000000000000  # the bits of _SHIFT
_C2, _C3, _C4, _C5 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120
_C6, _C7, _C8, _C9 = 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880
_C10, _C11, _C12, _C13 = 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800


@njit(**_EXP_OPTS)
def exp_array(x, out, work):  # pragma: no cover - compiled
    """out <- exp(x) for 1-D float64 arrays, |x| <= 708, in loops LLVM vectorises.

    Numba has no vector math library here (no SVML), so ``np.exp`` in a compiled loop is
    one scalar libm call per entry (~10 ns). This evaluates the exponential with plain
    arithmetic and integer bit operations only (Cody & Waite range reduction, a Taylor
    polynomial of degree 13 and 2ⁿ assembled from its bits), which the loops vectorise;
    accurate to about 1 ulp. Outside |x| <= 708 (and for NaN) the result is meaningless.

    Parameters
    ----------
    x : ndarray (m,) float64
    out : ndarray (m,) float64
        Output; may be ``x`` itself (each entry is read before it is written).
    work : ndarray (m,) float64, C-contiguous
        Scratch (holds 2ⁿ).
    """
    m = x.shape[0]
    for i in range(m):
        v = x[i]
        t = v * _LOG2E + _SHIFT
        n = t - _SHIFT  # round(v / ln 2)
        r = (v - n * _LN2_HI) - n * _LN2_LO
        p = _C13
        p = p * r + _C12
        p = p * r + _C11
        p = p * r + _C10
        p = p * r + _C9
        p = p * r + _C8
        p = p * r + _C7
        p = p * r + _C6
        p = p * r + _C5
        p = p * r + _C4
        p = p * r + _C3
        p = p * r + _C2
        p = p * r + 1.0
        p = p * r + 1.0
        out[i] = p
        work[i] = t
    bits = work.view(np.int64)
    for i in range(m):
        bits[i] = (bits[i] - _SHIFT_BITS + 1023) << 52  # the bits of 2ⁿ
    for i in range(m):
        out[i] *= work[i]


@njit(**_OPTS)
def _gram_cols(Ht, S):  # pragma: no cover - compiled
    """S = Htᵀ Ht (K × K, the H Hᵀ of the canonical H) with float64 sums."""
    N, K = Ht.shape
    for k in range(K):
        for j in range(K):
            S[k, j] = 0.0
    for n in range(N):
        for k in range(K):
            hk = np.float64(Ht[n, k])
            for j in range(k + 1):
                S[k, j] += hk * Ht[n, j]
    for k in range(K):
        for j in range(k):
            S[j, k] = S[k, j]


@njit(**_OPTS)
def run_block(
    X, Wt, Ht, B, Yt, lab, n_iter, hc, bc, mu, lam2, update_w, clean, hist
):  # pragma: no cover - compiled
    """``n_iter`` iterations of METHODS.md §A.2.1 in place on (Wt, Ht, B).

    Parameters
    ----------
    X : (N, M) float64 or float32, C-contiguous, >= 0
    Wt : (K, M), Ht : (N, K), B : (C, K), Yt : (N, C), lab : (N,)
        C-contiguous; Wt and Ht of X's dtype (the BLAS products need one dtype). Updated in
        place: Wt, Ht, B.
    n_iter : int >= 0
    hc : float
        Coefficient of BᵀR in the H numerator (λ_c/2 in the published normalisation;
        0 in the refit).
    bc : float
        Coefficient of R Hᵀ in the B step (1 published; 1/n_c for per-sample terms).
    mu, lam2 : float
        Step μ_W and λ_L2 of B ← B − μ(bc·R Hᵀ + 2 λ_L2 B).
    update_w : bool
        False keeps W fixed (the refit of §A.2.4).
    clean : bool
        The clean variant (module docstring); False: the published iteration.
    hist : (≥ n_iter, 4) float64
        Row t receives the terms of the iterate at the start of iteration t:
        ‖X − WH‖²_F, Σ l_n CE_n over rows with a one-hot target, Σ l_n lse_n over rows with
        an all-zero target (the U.R. term, lse_n the log-sum-exp of the clipped logits),
        ‖B‖²_F.

    Notes
    -----
    The products are BLAS calls in X's dtype; ‖X − WH‖², the losses and ‖B‖² accumulate in
    float64. One iteration allocates nothing (work arrays are made once per call).
    """
    N, M = X.shape
    K = Wt.shape[0]
    C = B.shape[0]
    dt = X.dtype
    xx = np.empty(N)
    for n in range(N):
        s = 0.0
        for m in range(M):
            v = np.float64(X[n, m])
            s += v * v
        xx[n] = s
    Wc = np.empty((M, K), dtype=dt)
    A = np.empty((N, K), dtype=dt)
    P = np.empty((K, M), dtype=dt)
    G = np.empty((K, K), dtype=dt)
    GH = np.empty((N, K), dtype=dt)
    S = np.empty((K, K))
    Bc = np.empty((K, C), dtype=dt)
    Bo = np.empty((C, K), dtype=dt)
    Z = np.empty((N, C), dtype=dt)
    R = np.zeros((N, C), dtype=dt)
    RH = np.empty((C, K), dtype=dt)
    BR = np.zeros((N, K), dtype=dt)
    d = np.empty(K)
    Wn = np.empty((K, M))
    # the rows in the classification gradient (lab != 0; the others keep R = 0) and the
    # float64 buffers of their softmax
    n_lab = 0
    for n in range(N):
        if lab[n] != 0:
            n_lab += 1
    rows = np.empty(n_lab, dtype=np.int64)
    i = 0
    for n in range(N):
        if lab[n] != 0:
            rows[i] = n
            i += 1
    zm = np.empty(n_lab)
    zs = np.empty(n_lab * C)
    ez = np.empty(n_lab * C)
    work = np.empty(n_lab * C)
    for it in range(n_iter):
        # A = X W and G = WᵀW from the old W
        for k in range(K):
            for m in range(M):
                Wc[m, k] = Wt[k, m]
        np.dot(X, Wc, A)
        for k in range(K):
            for j in range(k + 1):
                s = 0.0
                for m in range(M):
                    s += np.float64(Wt[k, m]) * Wt[j, m]
                G[k, j] = s
                G[j, k] = s
        np.dot(Ht, G, GH)
        if update_w and not clean:  # faithful: the W step sees the old H
            np.dot(Ht.T, X, P)
            _gram_cols(Ht, S)
        b2 = 0.0
        for c in range(C):
            for k in range(K):
                Bo[c, k] = B[c, k]
                Bc[k, c] = B[c, k]
                b2 += np.float64(B[c, k]) * B[c, k]
        ce = 0.0
        ur = 0.0
        if C > 0:
            np.dot(Ht, Bc, Z)
            # softmax of the clipped logits of the labelled rows in three passes: shifted
            # logits, their exponentials in one vectorised call, the residual rows
            for i in range(n_lab):
                n = rows[i]
                zmax = -np.inf
                for c in range(C):
                    v = Z[n, c]
                    if v > ZCLIP:
                        v = ZCLIP
                    elif v < -ZCLIP:
                        v = -ZCLIP
                    Z[n, c] = v
                    if v > zmax:
                        zmax = v
                zm[i] = zmax
                for c in range(C):
                    zs[i * C + c] = np.float64(Z[n, c]) - zmax
            exp_array(zs, ez, work)
            for i in range(n_lab):
                n = rows[i]
                ln = np.float64(lab[n])
                se = 0.0
                for c in range(C):
                    se += ez[i * C + c]
                lse = zm[i] + np.log(se)
                inv = 1.0 / se
                ysum = 0.0
                yz = 0.0
                for c in range(C):
                    yc = np.float64(Yt[n, c])
                    ysum += yc
                    yz += yc * Z[n, c]
                    R[n, c] = ln * (ez[i * C + c] * inv - yc)
                if ysum > 0.0:
                    ce += ln * (lse * ysum - yz)
                else:
                    ur += ln * lse
            np.dot(R.T, Ht, RH)
            np.dot(R, Bo, BR)
        # the residual norm of the old iterate and the new exposures
        lr = 0.0
        for n in range(N):
            cross = 0.0
            quad = 0.0
            for k in range(K):
                hk = Ht[n, k]
                cross += np.float64(A[n, k]) * hk
                quad += np.float64(GH[n, k]) * hk
            lr += xx[n] - 2.0 * cross + quad
            for k in range(K):
                v = Ht[n, k] * ((A[n, k] - hc * BR[n, k]) / (GH[n, k] + EPS))
                if v < EPS:  # the code: v < 0 only (see the module docstring)
                    v = EPS
                Ht[n, k] = v
        hist[it, 0] = lr
        hist[it, 1] = ce
        hist[it, 2] = ur
        hist[it, 3] = b2
        # B step from the old B and the residuals of the old iterate
        for c in range(C):
            for k in range(K):
                B[c, k] = Bo[c, k] - mu * (bc * RH[c, k] + 2.0 * lam2 * Bo[c, k])
        if not update_w:
            continue
        if clean:  # clean: the W step sees the new H
            np.dot(Ht.T, X, P)
            _gram_cols(Ht, S)
        # W ⊙ X Hᵀ / (W H Hᵀ + eps), floored, columns normalised to sum 1
        for k in range(K):
            s = 0.0
            for m in range(M):
                den = 0.0
                for j in range(K):
                    den += S[k, j] * Wt[j, m]
                v = Wt[k, m] * (P[k, m] / (den + EPS))
                if v < EPS:
                    v = EPS
                Wn[k, m] = v
                s += v
            d[k] = s
        for k in range(K):
            dk = d[k]
            for m in range(M):
                Wt[k, m] = Wn[k, m] / dk
        if clean:
            for n in range(N):
                for k in range(K):
                    Ht[n, k] = Ht[n, k] * d[k]
