"""Plain NumPy twins of the NMF kernels in ``desurv._kernels._nmf`` (tests only)."""

import numpy as np


def update_h(H, Z, WtW, ridge, eps):
    Hn = H * Z.T / (WtW @ H + ridge * H + eps)
    Hn = np.maximum(Hn, eps)
    return Hn, Hn @ Hn.T


def w_direction(Wk, XM, beta, HHt, c_nmf, ridge_w, alpha, clamp, eps, by_numerator=False):
    """Transposed layout: Wk (k, p), XM (k + 1, p). Returns (V (k, p), ‖G_nmf‖, ‖G_cox‖,
    WᵀV, VᵀV) by the formulas of DESIGN.md §2 in the paper's (p, k) orientation; the survival
    push is scaled to ‖G_nmf‖ (the authors') or, ``by_numerator``, to ‖c·XHᵀ‖."""
    W, XHt, Xg = Wk.T, XM[:-1].T, XM[-1]
    G_nmf = c_nmf * (W @ HHt - XHt)
    gn = np.linalg.norm(G_nmf)
    num = c_nmf * XHt
    push = np.linalg.norm(num) if by_numerator else gn
    gc = 0.0
    if alpha > 0:
        G_cox = np.outer(Xg, beta)
        gc = np.linalg.norm(G_cox)
        num = num + alpha * min((push + 1e-12) / (gc + 1e-12), clamp) * G_cox
    den = c_nmf * W @ HHt + ridge_w * W
    V = W * (num / (den + eps))
    return V.T, gn, gc, W.T @ V, V.T @ V


def w_trial(Wk, Vk, theta, eps):
    """Transposed layout (k, p)."""
    Wt = np.maximum((1 - theta) * Wk + theta * Vk, eps)
    norms = np.sqrt((Wt**2).sum(axis=1))
    norms[norms < eps] = 1.0
    return Wt, norms, Wt @ Wt.T


def trial_terms(Z, B, theta, H, beta, Wk, Vk, HHt, l1_ratio, sd, trial_sd):
    """Terms of F at the trial W(θ) = (1−θ)W + θV with unit-norm factors, by definition."""
    Wt = ((1 - theta) * Wk + theta * Vk).T
    t = np.linalg.norm(Wt, axis=0)
    Wn, Hn = Wt / t, H * t[:, None]
    Zt = (1 - theta) * Z + theta * B
    sd_t = Zt.std(axis=0, ddof=1) if trial_sd else sd
    b = beta * sd_t
    pen = l1_ratio * np.abs(b).sum() + 0.5 * (1 - l1_ratio) * b @ b
    cross = float(np.sum((Zt / t) * Hn.T))
    gram = float(np.sum((Wn.T @ Wn) * (Hn @ Hn.T)))
    return Zt, Zt @ beta, sd_t, t, (cross, gram, float(np.sum(Hn**2)), float(np.sum(Wn**2)), pen)


def col_sd(Z):
    return Z.std(axis=0, ddof=1)


def cross_term(Z, H):
    return float(np.sum(Z * H.T))


def standardize(Z):
    """(Zs, mean, sd): columns centred and scaled by their SD (ddof 1); constant columns → 0."""
    mean, sd = Z.mean(axis=0), Z.std(axis=0, ddof=1)
    keep = sd > 1e-12
    Zs = np.zeros_like(Z)
    Zs[:, keep] = (Z[:, keep] - mean[keep]) / sd[keep]
    return Zs, mean, sd


def base_terms(Z, H, WtW, HHt):
    return float(np.sum(Z * H.T)), float(np.sum(WtW * HHt)), float(np.sum(H**2)), np.trace(WtW)
