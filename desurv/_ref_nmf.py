"""Plain NumPy twins of the NMF kernels in ``desurv._kernels._nmf`` (tests only)."""

import numpy as np


def update_h(H, A, WtW, ridge, eps):
    Hn = H * A / (WtW @ H + ridge * H + eps)
    Hn = np.maximum(Hn, eps)
    return Hn, Hn @ Hn.T


def w_ratio(W, XHt, Xg, beta, HHt, c_nmf, ridge_w, alpha, clamp, eps):
    G_nmf = c_nmf * (W @ HHt - XHt)
    gn = np.linalg.norm(G_nmf)
    num = c_nmf * XHt
    gc = 0.0
    if alpha > 0:
        G_cox = np.outer(Xg, beta)
        gc = np.linalg.norm(G_cox)
        num = num + alpha * min((gn + 1e-12) / (gc + 1e-12), clamp) * G_cox
    den = c_nmf * W @ HHt + ridge_w * W
    return num / (den + eps), gn, gc


def w_trial(W, R, theta, eps):
    Wt = np.maximum(W * ((1 - theta) + theta * R), eps)
    norms = np.sqrt((Wt**2).sum(axis=0))
    norms[norms < eps] = 1.0
    return Wt, norms, Wt.T @ Wt


def trial_projection(A, B, theta, H, beta):
    Zt = (1 - theta) * A + theta * B
    return Zt, Zt.T @ beta, float(np.sum(Zt * H))


def row_sd(Z):
    return Z.std(axis=1, ddof=1)
