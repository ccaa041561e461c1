"""Plain NumPy twin of ``desurv._kernels._supervised_nmf`` (tests and benchmarks only).

One S-NMF / SS-NMF / PSS-NMF iteration exactly as written in METHODS.md §A.2.1 (Tofacchi,
Goossens, Gonçalves; the S-NMF code's supervised branch, β = 2), in the canonical orientation
of §A: X (M × N), W (M × K), H (K × N), B (C × K), Y (C × N) one-hot, l (N,) the mask of
samples that enter the classification gradient. All three blocks are computed from the
iterate at time t (Jacobi-style):

    Z  = clip(B H, −50, 50);  Ŷ = softmax_c(Z)
    R  = (Ŷ − Y) ⊙ 1_C lᵀ
    H' = H ⊙ [WᵀX − hc·BᵀR] / (WᵀW H + 1e-25);  H'[H' < 1e-25] = 1e-25
    W' = W ⊙ (X Hᵀ) / (W H Hᵀ + 1e-25);  W' = max(W', 1e-25);  d = colsum(W');  W' ← W' / d
    B' = B − μ·(bc·R Hᵀ + 2 λ_L2 B)

with hc = λ_c/2, bc = 1 in the published ("faithful") normalisation. (The published code sets
only negative entries of H' to 1e-25; the floor at 1e-25 for all entries keeps positive ones
out of the subnormal range, see ``desurv._kernels._supervised_nmf``.) The "clean" variant
(``clean=True``) forms W' from the new H' (X H'ᵀ / (W H' H'ᵀ + 1e-25), Lee–Seung's alternating
order) and then rescales H' ← diag(d) H', so that WH does not change at the normalisation (B
is not rescaled). :func:`run_block` has the
kernel's signature (sample-major arrays: X (N, M), Wt = Wᵀ (K, M), Ht = Hᵀ (N, K), Yt = Yᵀ
(N, C)) and transposes once; the iteration itself forms W H and B H explicitly.
"""

from __future__ import annotations

import numpy as np

#: the S-NMF code's guard of the multiplicative updates and floor of W and H
EPS = 1e-25
#: the S-NMF code's clip of the logits
ZCLIP = 50.0


def exp_array(x, out, work):
    """Twin of ``_supervised_nmf.exp_array``: out <- exp(x) (``work`` unused)."""
    np.exp(x, out=out)


def softmax(Z):
    """Column-wise softmax of clip(Z, −50, 50) (C × N), max subtracted; also logsumexp (N,)."""
    Zc = np.clip(Z, -ZCLIP, ZCLIP)
    zmax = Zc.max(axis=0, keepdims=True)
    E = np.exp(Zc - zmax)
    s = E.sum(axis=0, keepdims=True)
    return E / s, (zmax + np.log(s))[0], Zc


def terms(X, W, H, B, Y, l):
    """Objective terms of one iterate (canonical orientation), formed directly.

    Returns (‖X − WH‖²_F, Σ_{n: l_n≠0, Σ_c Y_cn > 0} l_n·CE_n, Σ_{n: l_n≠0, Y_·n = 0} l_n·lse_n,
    ‖B‖²_F), CE_n = −Σ_c Y_cn log Ŷ_cn = Σ_c Y_cn (lse_n − Z_cn) on the clipped logits, lse_n the
    log-sum-exp of column n (the U.R. term, §A.1).
    """
    Rx = X - W @ H
    lr = float(np.sum(Rx * Rx))
    if B.shape[0] == 0:
        return lr, 0.0, 0.0, 0.0
    _, lse, Zc = softmax(B @ H)
    ysum = Y.sum(axis=0)
    ce_n = lse * ysum - np.sum(Y * Zc, axis=0)
    on = l != 0
    ce = float(np.sum((l * ce_n)[on & (ysum > 0)]))
    ur = float(np.sum((l * lse)[on & (ysum == 0)]))
    return lr, ce, ur, float(np.sum(B * B))


def iteration(X, W, H, B, Y, l, hc, bc, mu, lam2, update_w=True, clean=False):
    """One iteration of §A.2.1 from (W, H, B); returns the new (W, H, B) (new arrays).

    ``update_w=False`` keeps W (the refit of §A.2.4: call with hc = 0).
    """
    C = B.shape[0]
    if C:
        Yh, _, _ = softmax(B @ H)
        R = (Yh - Y) * l[None, :]
    else:
        R = np.zeros((0, H.shape[1]))
    Hn = H * (W.T @ X - hc * (B.T @ R)) / (W.T @ W @ H + EPS)
    Hn[Hn < EPS] = EPS  # the code: Hn < 0 only (see the kernel module)
    Bn = B - mu * (bc * (R @ H.T) + 2.0 * lam2 * B)
    if not update_w:
        return W.copy(), Hn, Bn
    Hw = Hn if clean else H
    Wn = W * (X @ Hw.T) / (W @ Hw @ Hw.T + EPS)
    Wn = np.maximum(Wn, EPS)
    d = Wn.sum(axis=0)
    Wn = Wn / d[None, :]
    if clean:
        Hn = Hn * d[:, None]
    return Wn, Hn, Bn


def run_block(X, Wt, Ht, B, Yt, lab, n_iter, hc, bc, mu, lam2, update_w, clean, hist):
    """Twin of ``_supervised_nmf.run_block``: ``n_iter`` iterations in place.

    X (N, M); Wt (K, M); Ht (N, K); B (C, K); Yt (N, C); lab (N,); hist (≥ n_iter, 4)
    receives :func:`terms` of the iterate at the start of every iteration.
    """
    Xc = X.T.astype(np.float64)
    W = Wt.T.astype(np.float64)
    H = Ht.T.astype(np.float64)
    Bc = B.astype(np.float64)
    Y = Yt.T.astype(np.float64)
    lv = lab.astype(np.float64)
    for t in range(n_iter):
        hist[t] = terms(Xc, W, H, Bc, Y, lv)
        W, H, Bc = iteration(Xc, W, H, Bc, Y, lv, hc, bc, mu, lam2, update_w, clean)
    Wt[...] = W.T
    Ht[...] = H.T
    B[...] = Bc
