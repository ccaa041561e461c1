"""DeSurv's outer loop at α = 0, compiled whole (Numba).

With no weight on the Cox term an iteration is an H update from the carried Z = XᵀW, the
fused W step (:func:`desurv._kernels._products.w_step`, one pass over X), a backtracking on
θ that never touches X, and the bookkeeping of F. At 2,000 × 300, k = 5 the pass over X
takes about 0.4 ms and the Python statements around it another 0.15–0.2 ms, so the loop of
:func:`desurv.deconvolution._loop.run_loop` is repeated here for this case, statement for
statement and in the same order of operations, with the same kernels (``update_h``,
``base_terms``, ``trial_terms``, ``w_trial``, ``xt_dot``). Its twin is that Python loop
(``desurv.deconvolution._loop.COMPILED_ALPHA0 = False`` runs it; tests compare the two on the
trajectory of F and the factors) and, further out, the NumPy reference solver.

Differences to the Python loop are at the level of rounding only: the Cox log partial
likelihood (which enters the history's ``cox_loss`` but, at α = 0, not F) comes from the Numba
``cox_loglik`` instead of the Cython one, and the small sums (‖β ⊙ sd‖₁, ⟨WᵀW, HHᵀ⟩ after a
refresh) are plain loops instead of NumPy reductions.
"""

import numpy as np
from numba import njit

from desurv._kernels._coxnet_path import cox_loglik
from desurv._kernels._desurv_accel import _gram
from desurv._kernels._nmf import base_terms, col_sd, trial_terms, update_h, w_trial
from desurv._kernels._products import w_step, xt_dot

# no fastmath: the scalar arithmetic of F follows _loop.py operation for operation
_OPTS = dict(cache=True, nogil=True)


@njit(**_OPTS)
def _loss(  # pragma: no cover - compiled
    x_sq, cross, gram, h_sq, w_sq, loglik, pen_b, n, p, k, n_event, scal, out
):
    """F and its parts into out[0:6] (loss, nmf, cox, enet_beta, sqnorm_w, sqnorm_h), as
    ``_Problem.objective_terms`` (consistent convention); returns the loss.

    ``scal`` = (alpha, penalty, penalty_h, penalty_w).
    """
    alpha, penalty, penalty_h, penalty_w = scal[0], scal[1], scal[2], scal[3]
    nmf = (x_sq - 2.0 * cross + gram) / (2.0 * n * p)
    pen_h = h_sq / (2.0 * n * k)
    pen_w = w_sq / (2.0 * p * k)
    cox = -loglik / n_event
    total = (
        (1.0 - alpha) * (nmf + penalty_h * pen_h)
        + alpha * (cox + penalty * pen_b)
        + penalty_w * pen_w
    )
    out[0] = total
    out[1] = nmf
    out[2] = cox
    out[3] = pen_b
    out[4] = pen_w
    out[5] = pen_h
    return total


@njit(**_OPTS)
def _pen_beta(beta, sd, l1_ratio):  # pragma: no cover - compiled
    """P_ξ(β ⊙ sd) = ξ‖β ⊙ sd‖₁ + ½(1 − ξ)‖β ⊙ sd‖² (``_Problem.penalty_beta``)."""
    s1 = 0.0
    s2 = 0.0
    for f in range(beta.shape[0]):
        b = beta[f] * sd[f]
        s1 += abs(b)
        s2 += b * b
    return l1_ratio * s1 + 0.5 * (1.0 - l1_ratio) * s2


@njit(**_OPTS)
def _eta(Z, beta, nl, out):  # pragma: no cover - compiled
    """out[:nl] ← Z[:nl] β (the labelled samples' linear predictor)."""
    k = Z.shape[1]
    for j in range(nl):
        e = 0.0
        for f in range(k):
            e += Z[j, f] * beta[f]
        out[j] = e


@njit(**_OPTS)
def run_alpha0(  # pragma: no cover - compiled
    X, W, H, beta, Z, WtW, sd, time, event, efron, nl, x_sq, n_event,
    c_nmf, ridge_h, ridge_w, l1_ratio, scal, eps, theta0, rho, max_backtracks, h_updates,
    refresh_every, trial_sd, it0, max_iter, tol, loss_prev, hist,
):  # fmt: skip
    """Iterations of DeSurv at α = 0 (consistent convention, fused W step, one thread).

    Parameters (all updated in place where they are state)
    ------------------------------------------------------
    X : (p, n) float64 or float32, C-ordered, samples sorted by time (labelled first).
    W : (k, p) float64, the transposed W, columns (rows here) of unit norm.
    H : (k, n) float64; beta : (k,) float64; Z : (n, k) = XᵀWᵀ; WtW : (k, k) = W Wᵀ;
        sd : (k,) sample SDs of Z's labelled rows.
    time, event : (nl,) float64, the labelled samples (sorted); efron : bool.
    nl : number of labelled samples; x_sq = ‖X‖²; n_event = Σ event.
    c_nmf, ridge_h, ridge_w, l1_ratio : as in ``run_loop``; scal = (α, λ, λ_H, λ_W) with α = 0.
    eps, theta0, rho, max_backtracks, h_updates, refresh_every : solver constants.
    trial_sd : the trial's sd from its own projections (false with unlabelled samples, which
        recompute it from the labelled rows, as ``run_loop`` does).
    it0 : iterations already made (the caller runs the loop in blocks): the refresh falls on
        the same iterations as in one run.
    max_iter, tol, loss_prev : at most max_iter iterations here; stop rule
        |ΔF|/max(1e-12, |F_prev|) ≤ tol.
    hist : (max_iter, 8) float64 output, one row per iteration (``HISTORY_FIELDS`` order).

    Returns
    -------
    (it, converged, status, n_passes): iterations done, whether the stop rule was met, 1 if F
    became non-finite (that iteration is not recorded), and the passes over X made (W steps
    and refreshes; the caller counts them in ``rows_read``).
    """
    k, p = W.shape
    n = H.shape[1]
    semi = nl < n
    V = np.empty((k, p))
    Wt = np.empty((k, p))
    B = np.empty((n, k))
    Zt = np.empty((n, k))
    WV = np.empty((k, k))
    VV = np.empty((k, k))
    WtW_t = np.empty((k, k))
    tnorm = np.empty(k)
    sd_t = np.empty(k)
    h_row_sq = np.empty(k)
    eta = np.empty(n)
    eta_t = np.empty(n)
    parts = np.empty(6)
    passes = 0
    it = 0
    converged = False
    status = 0
    while it < max_iter:
        HHt = update_h(H, Z, WtW, ridge_h, eps)
        for _ in range(h_updates - 1):
            HHt = update_h(H, Z, WtW, ridge_h, eps)

        _eta(Z, beta, nl, eta)
        loglik0 = cox_loglik(eta[:nl], time, event, efron)
        cross0, gram0, h_sq0, w_sq0 = base_terms(Z, H, WtW, HHt, h_row_sq)
        L0 = _loss(x_sq, cross0, gram0, h_sq0, w_sq0, loglik0, _pen_beta(beta, sd, l1_ratio),
                   n, p, k, n_event, scal, parts)  # fmt: skip
        loglik_cur = loglik0
        w_step(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, B)
        passes += 1

        theta = theta0
        accepted = False
        bt = 0
        loglik = loglik0
        while bt <= max_backtracks:
            cross, gram, h_sq, w_sq, pen_b = trial_terms(
                Z, B, theta, H, beta, WtW, WV, VV, HHt, h_row_sq, l1_ratio, sd, trial_sd,
                Zt, eta_t, sd_t, tnorm,
            )  # fmt: skip
            if semi:  # sd of the labelled rows only
                col_sd(Zt[:nl], sd_t)
                pen_b = _pen_beta(beta, sd_t, l1_ratio)
            loglik = cox_loglik(eta_t[:nl], time, event, efron)
            L = _loss(x_sq, cross, gram, h_sq, w_sq, loglik, pen_b, n, p, k, n_event, scal, parts)
            if np.isfinite(L) and L <= L0:
                accepted = True
                break
            theta *= rho
            bt += 1
        # parts of F at the iterate (cross, gram, h_sq, w_sq), as run_loop carries them
        if accepted:
            w_trial(W, V, theta, eps, Wt, tnorm, WtW_t)
            for f in range(k):
                t = tnorm[f]
                for i in range(p):
                    W[f, i] = Wt[f, i] / t
                for j in range(n):
                    H[f, j] *= t
                beta[f] *= t
            for j in range(n):
                for f in range(k):
                    Z[j, f] = Zt[j, f] / tnorm[f]
            for f in range(k):
                sd[f] = sd_t[f] / tnorm[f]
            g2 = 0.0
            h2 = 0.0
            w2 = 0.0
            for f in range(k):
                for g in range(k):
                    WtW[f, g] = WtW_t[f, g] / (tnorm[f] * tnorm[g])
                    g2 += WtW_t[f, g] * HHt[f, g]
                t_sq = tnorm[f] * tnorm[f]
                h2 += t_sq * h_row_sq[f]
                w2 += WtW_t[f, f] / t_sq
            gram, h_sq, w_sq = g2, h2, w2
            loglik_cur = loglik
        else:  # the iterate is unchanged: F's parts are those of L0
            cross, gram, h_sq, w_sq = cross0, gram0, h_sq0, w_sq0
        if refresh_every > 0 and (it0 + it + 1) % refresh_every == 0:
            # recompute the carried products exactly, so rounding cannot accumulate
            xt_dot(X, W, Z)
            passes += 1
            _gram(W, WtW)
            _gram(H, HHt)
            cross, gram, h_sq, w_sq = base_terms(Z, H, WtW, HHt, h_row_sq)
            _eta(Z, beta, nl, eta)
            loglik_cur = cox_loglik(eta[:nl], time, event, efron)
        F = _loss(x_sq, cross, gram, h_sq, w_sq, loglik_cur, _pen_beta(beta, sd, l1_ratio),
                  n, p, k, n_event, scal, parts)  # fmt: skip
        if not np.isfinite(F):
            status = 1
            break
        for c in range(6):
            hist[it, c] = parts[c]
        hist[it, 6] = theta if accepted else 0.0
        hist[it, 7] = bt
        rel = abs(F - loss_prev) / max(1e-12, abs(loss_prev))
        loss_prev = F
        it += 1
        if rel <= tol:
            converged = True
            break
    return it, converged, status, passes
