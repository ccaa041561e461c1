"""HALS / coordinate-descent sweeps of Frobenius NMF (Numba, nogil).

One sweep updates every entry of a row factor F (m, k) once, column after column, by the exact
minimiser of the objective in that coordinate (Cichocki & Phan 2009; Hsieh & Dhillon 2011):

    F[i, t] <- max(0, F[i, t] - grad / hess),
    grad = (F G)[i, t] - num[i, t] + l1 + l2 F[i, t],  hess = G[t, t] + l2,

with num = X Hᵀ (or Xᵀ W) and G the Gram matrix of the other factor. Rows of F are
independent sub-problems, so sweeping row by row (contiguous) gives exactly the result of the
column-by-column order of scikit-learn's ``_update_cdnmf_fast``. :func:`hals_update` repeats
the sweep with the same products (accelerated HALS, Gillis & Glineur 2012).
Twin: ``desurv._reference.nmf_cd``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def hals_sweep(F, num, G, l1, l2):  # pragma: no cover - compiled
    """One in-place coordinate sweep of F (m, k). Returns (violation, ‖ΔF‖²) in float64.

    violation: sum of |projected gradient| at the visited points (scikit-learn's rule).
    A coordinate whose curvature ``G[t, t] + l2`` is 0 is left unchanged.
    """
    m, k = F.shape
    viol = 0.0
    delta = 0.0
    for i in range(m):
        for t in range(k):
            grad = -num[i, t] + l1 + l2 * F[i, t]
            for r in range(k):
                grad += G[t, r] * F[i, r]
            x = F[i, t]
            if x == 0:
                pg = grad if grad < 0 else 0.0
            else:
                pg = grad
            viol += abs(pg)
            hess = G[t, t] + l2
            if hess != 0:
                v = x - grad / hess
                if v < 0:
                    v = 0.0
                F[i, t] = v
                d = np.float64(v) - x
                delta += d * d
    return viol, delta


@njit(**_OPTS)
def hals_update(F, num, G, l1, l2, max_sweeps, inner_tol):  # pragma: no cover - compiled
    """Accelerated HALS: up to ``max_sweeps`` sweeps of :func:`hals_sweep` with fixed num, G.

    Stops early when a sweep moves F by ‖ΔF‖² <= inner_tol² · (‖ΔF‖² of the first sweep)
    (Gillis & Glineur 2012, their ε). Returns (violation of the first sweep, sweeps done).
    """
    viol, d0 = hals_sweep(F, num, G, l1, l2)
    done = 1
    thr = inner_tol * inner_tol * d0
    while done < max_sweeps:
        _, d = hals_sweep(F, num, G, l1, l2)
        done += 1
        if d <= thr:
            break
    return viol, done


@njit(**_OPTS)
def _sums(F):  # pragma: no cover - compiled
    s1 = 0.0
    s2 = 0.0
    for v in F.reshape(F.size):
        s1 += v
        s2 += np.float64(v) * v
    return s1, s2


@njit(**_OPTS)
def cd_loop(X, W, Ht, reg, x2, max_iter, tol, sweeps, inner_tol, hist):  # pragma: no cover
    """The whole accelerated-HALS loop, compiled (no Python overhead per iteration).

    X : (n, p); W : (n, k), Ht : (p, k) updated in place; reg = (l1_W, l1_H, l2_W, l2_H);
    x2 = ‖X‖²; sweeps = (max inner sweeps for W, for H); hist : float64 (max_iter + 1,)
    receives the objective after each iteration at hist[1:]. Products with X are BLAS calls.
    Stops when violation / violation_1 <= tol (scikit-learn's rule; the caller scales tol).
    Returns the number of iterations done.
    """
    l1W, l1H, l2W, l2H = reg
    XT = X.T
    HHt = np.dot(Ht.T, Ht)
    v0 = 0.0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        num = np.dot(X, Ht)
        v1, _ = hals_update(W, num, HHt, l1W, l2W, sweeps[0], inner_tol)
        WtW = np.dot(W.T, W)
        num2 = np.dot(XT, W)
        v2, _ = hals_update(Ht, num2, WtW, l1H, l2H, sweeps[1], inner_tol)
        HHt = np.dot(Ht.T, Ht)
        cross = 0.0
        hf = Ht.reshape(Ht.size)
        nf = num2.reshape(num2.size)
        for t in range(hf.size):
            cross += np.float64(nf[t]) * hf[t]
        quad = 0.0
        k = WtW.shape[0]
        for f in range(k):
            for g in range(k):
                quad += np.float64(WtW[f, g]) * HHt[f, g]
        loss = 0.5 * (x2 - 2.0 * cross + quad)
        if loss < 0.0:
            loss = 0.0
        sW1, sW2 = _sums(W)
        sH1, sH2 = _sums(Ht)
        hist[it] = loss + l1W * sW1 + 0.5 * l2W * sW2 + l1H * sH1 + 0.5 * l2H * sH2
        viol = v1 + v2
        if it == 1:
            v0 = viol
        if v0 == 0 or viol / v0 <= tol:
            break
    return n_iter
