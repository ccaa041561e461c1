"""NumPy twin of ``desurv._kernels._alpha0_loop.run_alpha0``: DeSurv's iterations at α = 0.

Written from the formulas, not from the kernel's shortcuts: every projection is XᵀW from X
itself (no carried Z, no linearity for the trials), F is evaluated from the residual
X − WH, a trial is normalised before it is scored, and the SD of the projections is always
that of the current point. Same signature and in-place semantics as the kernel, so tests
can run both on copies of the same state.
"""

import numpy as np

from desurv._reference.cox import loglik as cox_loglik


def _loss(X, W, H, beta, nl, time, event, efron, n_event, l1_ratio, scal):
    """F (consistent convention) and its parts at W (k, p), H (k, n), β (k,)."""
    alpha, penalty, penalty_h, penalty_w = (float(v) for v in scal)
    k, p = W.shape
    n = H.shape[1]
    Z = X.T @ W.T
    sd = Z[:nl].std(axis=0, ddof=1) if nl > 1 else np.zeros(k)
    b = beta * sd
    pen_b = l1_ratio * np.abs(b).sum() + 0.5 * (1.0 - l1_ratio) * (b @ b)
    nmf = float(np.sum((X - W.T @ H) ** 2)) / (2.0 * n * p)
    pen_h = float(np.sum(H * H)) / (2.0 * n * k)
    pen_w = float(np.sum(W * W)) / (2.0 * p * k)
    cox = -cox_loglik(Z[:nl] @ beta, time, event, efron) / n_event
    total = (1.0 - alpha) * (nmf + penalty_h * pen_h) + alpha * (cox + penalty * pen_b)
    total += penalty_w * pen_w
    return np.array([total, nmf, cox, pen_b, pen_w, pen_h])


def run_alpha0(
    X, W, H, beta, Z, WtW, sd, time, event, efron, nl, x_sq, n_event,
    c_nmf, ridge_h, ridge_w, l1_ratio, scal, eps, theta0, rho, max_backtracks, h_updates,
    refresh_every, trial_sd, it0, max_iter, tol, loss_prev, hist,
):  # fmt: skip
    """See the kernel. ``Z``, ``WtW``, ``sd``, ``x_sq`` and ``trial_sd`` are carried state of
    the kernel; here they are only written back at the end (Z = XᵀWᵀ, WtW = WWᵀ, sd of Z's
    labelled rows) or unused."""
    X = np.asarray(X, dtype=np.float64)
    k, p = W.shape
    args = (nl, time, event, efron, n_event, l1_ratio, scal)
    it = 0
    passes = 0
    converged = False
    status = 0
    while it < max_iter:
        for _ in range(h_updates):  # H ← max(H ⊙ WX / (WWᵀH + λ_H'H + ε), ε)
            num = W @ X
            H[...] = np.maximum(H * num / (W @ W.T @ H + ridge_h * H + eps), eps)
        L0 = _loss(X, W, H, beta, *args)[0]
        # the full multiplicative step V = W ⊙ c·XHᵀ / (c·HHᵀW + λ_W' W + ε) (transposed)
        V = W * (c_nmf * (H @ X.T)) / (c_nmf * ((H @ H.T) @ W) + ridge_w * W + eps)
        passes += 1
        theta = theta0
        accepted = False
        bt = 0
        while bt <= max_backtracks:
            Wt = np.maximum((1.0 - theta) * W + theta * V, eps)
            t = np.sqrt(np.sum(Wt * Wt, axis=1))
            t = np.where(t >= eps, t, 1.0)
            trial = (Wt / t[:, None], H * t[:, None], beta * t)
            L = _loss(X, *trial, *args)[0]
            if np.isfinite(L) and L <= L0:
                accepted = True
                break
            theta *= rho
            bt += 1
        if accepted:
            W[...], H[...], beta[...] = trial
        if refresh_every > 0 and (it0 + it + 1) % refresh_every == 0:
            passes += 1  # the kernel recomputes its carried Z here
        parts = _loss(X, W, H, beta, *args)
        if not np.isfinite(parts[0]):
            status = 1
            break
        hist[it, :6] = parts
        hist[it, 6] = theta if accepted else 0.0
        hist[it, 7] = bt
        rel = abs(parts[0] - loss_prev) / max(1e-12, abs(loss_prev))
        loss_prev = parts[0]
        it += 1
        if rel <= tol:
            converged = True
            break
    Z[...] = X.T @ W.T
    WtW[...] = W @ W.T
    sd[...] = Z[:nl].std(axis=0, ddof=1)
    return it, converged, status, passes
