"""Numba kernel: elastic-net Cox regularisation path by coordinate descent (glmnet style).

Minimises, for each λ of a decreasing sequence (Simon, Friedman, Hastie & Tibshirani 2011,
"Regularization paths for Cox's proportional hazards model via coordinate descent")::

    f(β) = −ℓ(Xβ) / n_event + λ Σ_j pf_j [ ξ |β_j| + (1 − ξ)/2 · β_j² ]

with ℓ the Cox log partial likelihood (Breslow or Efron ties).

* Outer loop: quadratic model of −ℓ at the current η = Xβ,
  ``−ℓ(η + Δη) ≈ −ℓ(η) − gᵀΔη + ½ ΔηᵀMΔη`` with g = ∂ℓ/∂η and M a curvature matrix:
  ``exact=False`` uses glmnet's diagonal M = diag(−∂²ℓ/∂η²) (IRLS weights);
  ``exact=True`` uses the full M = −∂²ℓ/∂η², a diagonal plus one rank-one term per event
  (per Efron term), so M·u costs O(n) through risk-set cumulative sums and the outer loop is
  a proximal Newton method (quadratic instead of linear convergence; near saturation, when
  few events are left unexplained, the diagonal model needs hundreds of outer iterations).
* Inner loop: cyclic coordinate descent with soft-thresholding on the model residual
  r = g − MΔη: ``v_j = x_jᵀMx_j / n_event``, ``u = x_jᵀr / n_event + v_j β_j``,
  ``β_j ← S(u, λξ pf_j) / (v_j + λ(1−ξ) pf_j)``, ``r ← r − Δβ_j M x_j``, each O(n).  Full
  sweeps over the screened coordinates alternate with sweeps over the active set; every
  few active sweeps a subspace step (the model minimised on the support with its signs
  fixed, by a Cholesky solve or, on large supports, conjugate gradients; then a move up to
  the first sign change) fixes the slow progress of coordinate descent on collinear
  columns.  Stops when the largest ``|Δβ_j| √v_j`` of a sweep is below ``tol``.
* The step is halved while the penalised objective f would increase (beyond 32 ulp).
* The outer loop stops when the whole step has ``max_j |Δβ_j| √v_j < tol`` (``½ v_j Δβ_j²``
  is the decrease of the model of f along coordinate j).
* Along the path: warm starts, the sequential strong rule (Tibshirani et al. 2012) to screen
  coordinates, and a KKT check on the screened-out ones after each fit (violators are added
  and the fit resumed), so screening never changes the solution.

Numerics: everything is kept relative to the risk-set sum S0 of the current tie group
(log-sum-exp in a reverse pass, then ratios ``e^{η_i}/S0_g ≤ 1`` and ``S0_{g+1}/S0_g ≤ 1``),
so large |η| neither overflows nor underflows the sums.

Inputs are sorted by time (ascending), X is Fortran-ordered (columns contiguous).  No
validation happens here: :mod:`desurv.survival.coxnet` checks everything.  The NumPy twin of these
kernels is :mod:`desurv._reference.coxnet_path`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True)
_MAX_HALVINGS = 30
_EPS = np.finfo(np.float64).eps
_SUBSPACE_EVERY = 5  # active-set sweeps between exact subspace steps
_SUBSPACE_MAX = 1000  # largest support solved directly (O(n m² + m³) per step)
_CG_MAX = 200  # conjugate-gradient iterations of a subspace step on a larger support


# --------------------------------------------------------------------------------------------
# partial likelihood and curvature
# --------------------------------------------------------------------------------------------
@njit(**_OPTS)
def cox_loglik(eta, time, event, efron, G=0, gL=None, ga=None, gd=None):  # pragma: no cover
    """Cox log partial likelihood at time-sorted ``eta`` (running-maximum log-sum-exp).

    Given buffers (as :func:`_curvature` does), it also stores per tie group g (G of them):
    ``gL[g] = log S0_g``, the events' share ``ga[g]`` of S0_g and the number of events
    ``gd[g]``.  (Numba prunes the stores when compiling for the defaults.)
    """
    n = eta.shape[0]
    m = eta[n - 1]
    R = 0.0
    A = 0.0
    d = 0
    sum_eta = 0.0
    ll = 0.0
    g = G - 1
    for i in range(n - 1, -1, -1):
        if eta[i] > m:
            sc = np.exp(m - eta[i])
            R *= sc
            A *= sc
            m = eta[i]
        e = np.exp(eta[i] - m)
        R += e
        if event[i] != 0.0:
            d += 1
            sum_eta += eta[i]
            A += e
        if i == 0 or time[i - 1] != time[i]:
            if d > 0 or gL is not None:
                L = m + np.log(R)
                if gL is not None:
                    gL[g] = L
                    ga[g] = A / R
                    gd[g] = d
                    g -= 1
                if d > 0:
                    ll += sum_eta - d * L
                    if efron and d > 1:
                        a = A / R
                        for r in range(1, d):
                            ll -= np.log(1.0 - (r / d) * a)
            d = 0
            sum_eta = 0.0
            A = 0.0
    return ll


@njit(**_OPTS)
def _curvature(eta, time, event, efron, grad, wd, wm, pi, gstart, gd, gL, ga, gom):
    """ℓ, gradient and the pieces of the curvature M = −∂²ℓ/∂η² at time-sorted ``eta``.

    Writes ``grad = ∂ℓ/∂η``; ``wd`` = diag(M) (≥ 0); ``wm`` = the diagonal part of M (the
    majoriser e^η ∘ h, so ``M = diag(wm) − Σ_terms q qᵀ``); ``pi[i] = e^{η_i}/S0_{g(i)}``.
    Per tie group g (``G`` of them): ``gstart[g]`` (``gstart[G] = n``), events ``gd[g]``,
    ``gL[g] = log S0_g``, the events' share ``ga[g]`` of S0_g and ``gom[g] = S0_{g+1}/S0_g``.
    Returns ``(ℓ, G)``.  Every log-sum term (coefficient a, sum S) contributes
    ``q = a e^η / S``: M = Σ (diag(q) − q qᵀ), so ``wd = Σ (q − q²)`` and ``wm = Σ q``.
    """  # pragma: no cover - compiled
    n = eta.shape[0]
    G = 0
    for i in range(n):
        if i == 0 or time[i - 1] != time[i]:
            gstart[G] = i
            G += 1
    gstart[G] = n
    # reverse pass: log S0, events' share and ℓ per group
    ll = cox_loglik(eta, time, event, efron, G, gL, ga, gd)
    # forward pass: running Σ_t c_t S0_g/S0_t (C1) and Σ_t c2_t (S0_g/S0_t)² (C2)
    C1 = 0.0
    C2 = 0.0
    for g in range(G):
        L = gL[g]
        if g > 0:
            sc = np.exp(L - gL[g - 1])
            gom[g - 1] = sc
            C1 *= sc
            C2 *= sc * sc
        d = gd[g]
        c1 = float(d)
        c2 = c1
        c1e = c1
        c2e = c1
        if efron and d > 1:
            a = ga[g]
            c1 = 0.0
            c2 = 0.0
            c1e = 0.0
            c2e = 0.0
            for r in range(d):
                f = r / d
                inv = 1.0 / (1.0 - f * a)
                c1 += inv
                c2 += inv * inv
                c1e += (1.0 - f) * inv
                c2e += (1.0 - f) * (1.0 - f) * inv * inv
        for i in range(gstart[g], gstart[g + 1]):
            q = np.exp(eta[i] - L)
            pi[i] = q
            if event[i] != 0.0:
                h1 = C1 + c1e
                h2 = C2 + c2e
            else:
                h1 = C1 + c1
                h2 = C2 + c2
            g1 = q * h1
            w = g1 - q * q * h2
            wm[i] = g1
            wd[i] = w if w > 0.0 else 0.0
            grad[i] = event[i] - g1
        C1 += c1
        C2 += c2
    gom[G - 1] = 0.0
    return ll, G


@njit(inline="always")
def _curvature_work(n, n_mu):  # pragma: no cover - compiled
    """Work arrays of the curvature model besides grad and wd: ``(wm, pi, gstart, gd, gL, ga,
    gom)`` of length n for :func:`_curvature`, then ``(mu, ups)`` of length ``n_mu`` for the
    products with M (n, or 0 when they are not needed)."""
    return (
        np.empty(n),
        np.empty(n),
        np.empty(n + 1, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n_mu),
        np.empty(n_mu),
    )


@njit(**_OPTS)
def cox_diag_stats(eta, time, event, efron, grad, weight):  # pragma: no cover - compiled
    """ℓ, ``grad = ∂ℓ/∂η`` and ``weight = −diag ∂²ℓ/∂η²`` at time-sorted ``eta``; returns ℓ."""
    wm, pi, gstart, gd, gL, ga, gom, _, _ = _curvature_work(eta.shape[0], 0)
    ll, _ = _curvature(eta, time, event, efron, grad, weight, wm, pi, gstart, gd, gL, ga, gom)
    return ll


@njit(**_OPTS)
def _risk_means(u, pi, event, gstart, gom, G, mu, ups):  # pragma: no cover - compiled
    """Per group g: ``mu[g] = Σ_{R_g} e^η u / S0_g`` and ``ups[g] = Σ_{D_g} e^η u / S0_g``."""
    nxt = 0.0
    for g in range(G - 1, -1, -1):
        tau = 0.0
        up = 0.0
        for j in range(gstart[g], gstart[g + 1]):
            t = pi[j] * u[j]
            tau += t
            if event[j] != 0.0:
                up += t
        nxt = tau + gom[g] * nxt
        mu[g] = nxt
        ups[g] = up


@njit(**_OPTS)
def _term_coef(g, r, efron, gd, ga, mu, ups):  # pragma: no cover - compiled
    """``(c, ρ, φ)`` of log-sum term r of group g: c = qᵀu, ρ = S/S0_g, φ = r/d (Efron)."""
    d = gd[g]
    if efron and d > 1:
        f = r / d
        rho = 1.0 - f * ga[g]
        return (mu[g] - f * ups[g]) / rho, rho, f
    return mu[g], 1.0, 0.0


@njit(**_OPTS)
def apply_curvature(u, out, cv, exact, efron):  # pragma: no cover - compiled
    """``out = M u`` (diagonal model: ``wd ∘ u``); O(n)."""
    wd, wm, pi, event, gstart, gd, ga, gom, mu, ups, G = cv
    n = u.shape[0]
    if not exact:
        for i in range(n):
            out[i] = wd[i] * u[i]
        return
    _risk_means(u, pi, event, gstart, gom, G, mu, ups)
    C = 0.0
    for g in range(G):
        if g > 0:
            C *= gom[g - 1]
        d = gd[g]
        kap = 0.0
        kev = 0.0
        if d > 0:
            if efron and d > 1:
                for r in range(d):
                    c, rho, f = _term_coef(g, r, efron, gd, ga, mu, ups)
                    kap += c / rho
                    kev += (1.0 - f) * c / rho
            else:
                kap = d * mu[g]
                kev = kap
        prev = C
        C += kap
        for i in range(gstart[g], gstart[g + 1]):
            base = prev + kev if event[i] != 0.0 else C
            out[i] = wm[i] * u[i] - pi[i] * base


@njit(**_OPTS)
def quad_curvature(u, cv, exact, efron):  # pragma: no cover - compiled
    """``uᵀ M u``; O(n)."""
    wd, wm, pi, event, gstart, gd, ga, gom, mu, ups, G = cv
    s = 0.0
    if not exact:
        for i in range(u.shape[0]):
            s += wd[i] * u[i] * u[i]
        return s
    for i in range(u.shape[0]):
        s += wm[i] * u[i] * u[i]
    _risk_means(u, pi, event, gstart, gom, G, mu, ups)
    for g in range(G):
        d = gd[g]
        if d == 0:
            continue
        if efron and d > 1:
            for r in range(d):
                c, _, _ = _term_coef(g, r, efron, gd, ga, mu, ups)
                s -= c * c
        else:
            s -= d * mu[g] * mu[g]
    return s if s > 0.0 else 0.0


# --------------------------------------------------------------------------------------------
# coordinate descent on the quadratic model
# --------------------------------------------------------------------------------------------
@njit(**_OPTS)
def _penalty(beta, pf, l1, l2):  # pragma: no cover - compiled
    total = 0.0
    for j in range(beta.shape[0]):
        b = beta[j]
        if b != 0.0:
            total += pf[j] * (l1 * abs(b) + 0.5 * l2 * b * b)
    return total


@njit(**_OPTS)
def _cd_update(X, j, cv, exact, efron, r, beta, eta, v, v_done, mx, pf, l1, l2, n_event):
    """One coordinate update of the model; returns ``|Δβ_j| √v_j``."""  # pragma: no cover
    n = X.shape[0]
    xj = X[:, j]
    if not v_done[j]:
        v[j] = quad_curvature(xj, cv, exact, efron) / n_event
        v_done[j] = True
    vj = v[j]
    den = vj + l2 * pf[j]
    if den <= 0.0:
        return 0.0
    s = 0.0
    for i in range(n):
        s += xj[i] * r[i]
    u = s / n_event + vj * beta[j]
    thr = l1 * pf[j]
    if u > thr:
        b = (u - thr) / den
    elif u < -thr:
        b = (u + thr) / den
    else:
        b = 0.0
    delta = b - beta[j]
    if delta == 0.0:
        return 0.0
    beta[j] = b
    apply_curvature(xj, mx, cv, exact, efron)
    for i in range(n):
        r[i] -= mx[i] * delta
        eta[i] += xj[i] * delta
    return abs(delta) * np.sqrt(vj)


@njit(inline="always")
def _sweep(js, n_js, cd):  # pragma: no cover - compiled
    """One coordinate-descent sweep over ``js[:n_js]``; returns the largest ``|Δβ_j| √v_j``.

    ``cd = (X, cv, exact, efron, r, beta, eta, v, v_done, mx, pf, l1, l2, n_event)``: the
    arguments of :func:`_cd_update` besides j.
    """
    X, cv, exact, efron, r, beta, eta, v, v_done, mx, pf, l1, l2, n_event = cd
    dmax = 0.0
    for jj in range(n_js):
        ch = _cd_update(
            X, js[jj], cv, exact, efron, r, beta, eta, v, v_done, mx, pf, l1, l2, n_event
        )
        if ch > dmax:
            dmax = ch
    return dmax


@njit(**_OPTS)
def _cholesky_solve(M, m, x):  # pragma: no cover - compiled
    """Solve ``M[:m, :m] y = x[:m]`` in place (lower triangle of M overwritten).

    Returns False if M is not numerically positive definite.
    """
    for j in range(m):
        acc = M[j, j]
        for k in range(j):
            acc -= M[j, k] * M[j, k]
        if not acc > 0.0:
            return False
        d = np.sqrt(acc)
        M[j, j] = d
        for i in range(j + 1, m):
            acc = M[i, j]
            for k in range(j):
                acc -= M[i, k] * M[j, k]
            M[i, j] = acc / d
    for i in range(m):
        acc = x[i]
        for k in range(i):
            acc -= M[i, k] * x[k]
        x[i] = acc / M[i, i]
    for i in range(m - 1, -1, -1):
        acc = x[i]
        for k in range(i + 1, m):
            acc -= M[k, i] * x[k]
        x[i] = acc / M[i, i]
    return True


@njit(**_OPTS)
def _subspace_cg(X, idx, m, cv, exact, efron, b, v, pf, l2, n_event, tol, x, mu):
    """Preconditioned conjugate gradients for ``(X_AᵀMX_A / n_event + λ(1−ξ) pf_A) x = b``.

    Matrix-free: each product costs two passes over X_A plus one M·u, O(n m).  Jacobi
    preconditioner ``v_j + λ(1−ξ) pf_j``.  Starts from 0, so every iterate decreases the
    quadratic whose gradient is the residual; stops when ``max |res_a| / √d_a < tol``, after
    ``_CG_MAX`` iterations, or on a direction of zero curvature.  ``mu`` (n) is work space.
    """  # pragma: no cover - compiled
    n = X.shape[0]
    d = np.empty(m)
    res = np.empty(m)
    z = np.empty(m)
    pdir = np.empty(m)
    q = np.empty(m)
    u = np.empty(n)
    rz = 0.0
    for a in range(m):
        d[a] = v[idx[a]] + l2 * pf[idx[a]]
        if not d[a] > 0.0:
            d[a] = 1.0
        x[a] = 0.0
        res[a] = b[a]
        z[a] = res[a] / d[a]
        pdir[a] = z[a]
        rz += res[a] * z[a]
    for _ in range(_CG_MAX):
        crit = 0.0
        for a in range(m):
            c = abs(res[a]) / np.sqrt(d[a])
            if c > crit:
                crit = c
        if crit < tol:
            break
        for i in range(n):
            u[i] = 0.0
        for a in range(m):
            pa = pdir[a]
            if pa != 0.0:
                ja = idx[a]
                for i in range(n):
                    u[i] += X[i, ja] * pa
        apply_curvature(u, mu, cv, exact, efron)
        pq = 0.0
        for a in range(m):
            ja = idx[a]
            s = 0.0
            for i in range(n):
                s += X[i, ja] * mu[i]
            q[a] = s / n_event + l2 * pf[ja] * pdir[a]
            pq += pdir[a] * q[a]
        if not pq > 0.0:
            break
        step = rz / pq
        rz_new = 0.0
        for a in range(m):
            x[a] += step * pdir[a]
            res[a] -= step * q[a]
            z[a] = res[a] / d[a]
            rz_new += res[a] * z[a]
        ratio = rz_new / rz
        rz = rz_new
        for a in range(m):
            pdir[a] = z[a] + ratio * pdir[a]


@njit(**_OPTS)
def _subspace_step(
    X, cv, exact, efron, r, beta, eta, active, n_active, v, mx, pf, l1, l2, n_event, tol
):
    """Minimise the quadratic model on the current support with its signs fixed.

    With the support A = {j : β_j ≠ 0} and its signs fixed, the model is a smooth quadratic
    whose minimiser solves ``(X_AᵀMX_A / n_event + λ(1−ξ) pf_A) Δ = X_Aᵀ r / n_event
    − λξ pf_A sign(β_A) − λ(1−ξ) pf_A β_A``: one Cholesky solve (O(n m² + m³)) when
    m ≤ max(n, 200) and m ≤ ``_SUBSPACE_MAX``, otherwise conjugate gradients (O(n m) per
    iteration; the support exceeds n only with a ridge part, which keeps the system well
    conditioned).  The step moves towards the solution up to the first sign change
    (feature-sign search), so the model never increases.  Returns False when skipped (empty
    support, or a direct system that is not numerically positive definite).
    """  # pragma: no cover - compiled
    n = X.shape[0]
    m = 0
    for a in range(n_active):
        if beta[active[a]] != 0.0:
            m += 1
    if m == 0:
        return False
    idx = np.empty(m, dtype=np.int64)
    m = 0
    for a in range(n_active):
        j = active[a]
        if beta[j] != 0.0:
            idx[m] = j
            m += 1
    x = np.empty(m)
    direct = m <= max(n, 200) and m <= _SUBSPACE_MAX
    M = np.empty((m, m)) if direct else np.empty((0, 0))
    for a in range(m):
        ja = idx[a]
        xa = X[:, ja]
        s = 0.0
        for i in range(n):
            s += xa[i] * r[i]
        ridge = l2 * pf[ja]
        x[a] = s / n_event - l1 * pf[ja] * (1.0 if beta[ja] > 0.0 else -1.0) - ridge * beta[ja]
        if direct:
            apply_curvature(xa, mx, cv, exact, efron)
            for b in range(a, m):
                jb = idx[b]
                s = 0.0
                for i in range(n):
                    s += mx[i] * X[i, jb]
                M[b, a] = s / n_event
            M[a, a] += ridge
    if direct:
        if not _cholesky_solve(M, m, x):
            return False
    else:
        rhs = x.copy()
        _subspace_cg(X, idx, m, cv, exact, efron, rhs, v, pf, l2, n_event, 0.1 * tol, x, mx)
    # largest t in (0, 1] keeping every sign (x now holds the step Δ)
    t = 1.0
    for a in range(m):
        b0 = beta[idx[a]]
        b1 = b0 + x[a]
        if (b0 > 0.0 and b1 < 0.0) or (b0 < 0.0 and b1 > 0.0):
            ta = b0 / (b0 - b1)
            if ta < t:
                t = ta
    dz = np.zeros(n)
    for a in range(m):
        j = idx[a]
        b0 = beta[j]
        b1 = b0 + t * x[a]
        if (b0 > 0.0 and b1 <= 0.0) or (b0 < 0.0 and b1 >= 0.0):
            b1 = 0.0  # the coordinate that reached zero first (or rounding past it)
        delta = b1 - b0
        if delta != 0.0:
            beta[j] = b1
            for i in range(n):
                dz[i] += X[i, j] * delta
    apply_curvature(dz, mx, cv, exact, efron)
    for i in range(n):
        r[i] -= mx[i]
        eta[i] += dz[i]
    return True


@njit(**_OPTS)
def coxnet_solve(
    X,
    time,
    event,
    efron,
    exact,
    lam,
    l1_ratio,
    pf,
    beta,
    eta,
    strong,
    n_strong,
    active,
    is_active,
    n_active,
    tol,
    max_sweeps,
):  # pragma: no cover - compiled
    """Minimise f over the coordinates ``strong[:n_strong]`` (the others stay fixed).

    ``beta`` (p) and ``eta = X beta`` (n) are updated in place.  ``active[:n_active]`` is the
    ever-active list (``is_active`` its mask), extended in place.  Returns
    ``(sweeps, converged, n_active)``; a subspace step counts as one sweep.
    """
    n, p = X.shape
    n_event = 0.0
    for i in range(n):
        n_event += event[i]
    l1 = lam * l1_ratio
    l2 = lam - l1
    grad = np.empty(n)
    wd = np.empty(n)
    wm, pi, gstart, gd, gL, ga, gom, mu, ups = _curvature_work(n, n)
    r = np.empty(n)
    mx = np.empty(n)
    eta_old = np.empty(n)
    v = np.empty(p)
    beta_old = np.empty(n_strong)
    v_done = np.zeros(p, dtype=np.bool_)
    sweeps = 0
    converged = False
    while sweeps < max_sweeps:
        ll, G = _curvature(eta, time, event, efron, grad, wd, wm, pi, gstart, gd, gL, ga, gom)
        cv = (wd, wm, pi, event, gstart, gd, ga, gom, mu, ups, G)
        cd = (X, cv, exact, efron, r, beta, eta, v, v_done, mx, pf, l1, l2, n_event)
        f_old = -ll / n_event + _penalty(beta, pf, l1, l2)
        for i in range(n):
            r[i] = grad[i]
            eta_old[i] = eta[i]
        for jj in range(n_strong):
            j = strong[jj]
            beta_old[jj] = beta[j]
            v_done[j] = False
        # inner loop: full sweeps alternating with active-set sweeps and subspace steps
        while sweeps < max_sweeps:
            dmax = _sweep(strong, n_strong, cd)
            for jj in range(n_strong):  # coordinates that left zero join the active list
                j = strong[jj]
                if beta[j] != 0.0 and not is_active[j]:
                    is_active[j] = True
                    active[n_active] = j
                    n_active += 1
            sweeps += 1
            if dmax < tol:
                break
            cycles = 0
            while sweeps < max_sweeps:
                dmax = _sweep(active, n_active, cd)
                sweeps += 1
                cycles += 1
                if dmax < tol:
                    break
                if cycles % _SUBSPACE_EVERY == 0:
                    if _subspace_step(
                        X,
                        cv,
                        exact,
                        efron,
                        r,
                        beta,
                        eta,
                        active,
                        n_active,
                        v,
                        mx,
                        pf,
                        l1,
                        l2,
                        n_event,
                        tol,
                    ):
                        sweeps += 1
        # step-halving while the penalised objective would increase beyond its rounding
        # (without the slack, a last tiny step near the optimum, whose decrease is below the
        # rounding of f, would be halved to nothing and the fit would stop early)
        f_max = f_old + 32.0 * _EPS * abs(f_old)
        f_new = -cox_loglik(eta, time, event, efron) / n_event + _penalty(beta, pf, l1, l2)
        halvings = 0
        while not (f_new <= f_max) and halvings < _MAX_HALVINGS:
            for jj in range(n_strong):
                j = strong[jj]
                beta[j] = 0.5 * (beta[j] + beta_old[jj])
            for i in range(n):
                eta[i] = 0.5 * (eta[i] + eta_old[i])
            f_new = -cox_loglik(eta, time, event, efron) / n_event + _penalty(beta, pf, l1, l2)
            halvings += 1
        if not (f_new <= f_max):
            # no decrease along this direction at machine precision: keep the old point
            for jj in range(n_strong):
                beta[strong[jj]] = beta_old[jj]
            for i in range(n):
                eta[i] = eta_old[i]
            converged = True
            break
        step = 0.0
        for jj in range(n_strong):
            j = strong[jj]
            if v_done[j]:
                ch = abs(beta[j] - beta_old[jj]) * np.sqrt(v[j])
                if ch > step:
                    step = ch
        if step < tol:
            converged = True
            break
    return sweeps, converged, n_active


# --------------------------------------------------------------------------------------------
# regularisation path
# --------------------------------------------------------------------------------------------
@njit(**_OPTS)
def score(X, grad, n_event, c):  # pragma: no cover - compiled
    """``c_j = x_jᵀ g / n_event`` for every column (the smooth part's negative gradient)."""
    n, p = X.shape
    for j in range(p):
        s = 0.0
        for i in range(n):
            s += X[i, j] * grad[i]
        c[j] = s / n_event


@njit(**_OPTS)
def coxnet_path(
    X,
    time,
    event,
    efron,
    exact,
    lambdas,
    l1_ratio,
    pf,
    beta,
    lam_prev,
    tol,
    max_sweeps,
    screen,
    coefs,
    n_iter,
    converged,
):  # pragma: no cover - compiled
    """Fit the whole path ``lambdas`` (decreasing) with warm starts, screening and KKT checks.

    ``beta`` (p) is the warm start for ``lambdas[0]`` and holds the last solution on return;
    ``lam_prev`` is the λ of that warm start (λ_max when starting from the null model), used
    by the strong rule.  Writes ``coefs[:, l]`` (p, L), ``n_iter[l]`` (coordinate-descent
    sweeps) and ``converged[l]``.  Returns the number of KKT violations repaired.
    """
    n, p = X.shape
    n_event = 0.0
    for i in range(n):
        n_event += event[i]
    eta = np.zeros(n)
    for j in range(p):
        b = beta[j]
        if b != 0.0:
            for i in range(n):
                eta[i] += X[i, j] * b
    grad = np.empty(n)
    w = np.empty(n)
    c = np.empty(p)
    strong = np.empty(p, dtype=np.int64)
    in_strong = np.zeros(p, dtype=np.bool_)
    active = np.empty(p, dtype=np.int64)
    is_active = np.zeros(p, dtype=np.bool_)
    n_active = 0
    for j in range(p):
        if beta[j] != 0.0:
            is_active[j] = True
            active[n_active] = j
            n_active += 1
    cox_diag_stats(eta, time, event, efron, grad, w)
    score(X, grad, n_event, c)
    violations = 0
    for l in range(lambdas.shape[0]):
        lam = lambdas[l]
        l1 = lam * l1_ratio
        cut = l1_ratio * (2.0 * lam - lam_prev)
        n_strong = 0
        for j in range(p):
            keep = (not screen) or pf[j] == 0.0 or is_active[j] or abs(c[j]) >= cut * pf[j]
            in_strong[j] = keep
            if keep:
                strong[n_strong] = j
                n_strong += 1
        total = 0
        ok = False
        while True:
            sweeps, ok, n_active = coxnet_solve(
                X,
                time,
                event,
                efron,
                exact,
                lam,
                l1_ratio,
                pf,
                beta,
                eta,
                strong,
                n_strong,
                active,
                is_active,
                n_active,
                tol,
                max_sweeps - total,
            )
            total += sweeps
            cox_diag_stats(eta, time, event, efron, grad, w)
            score(X, grad, n_event, c)
            added = 0
            if n_strong < p:
                for j in range(p):
                    if not in_strong[j] and abs(c[j]) > l1 * pf[j]:
                        in_strong[j] = True
                        strong[n_strong] = j
                        n_strong += 1
                        added += 1
            violations += added
            if added == 0 or total >= max_sweeps:
                break
        for j in range(p):
            coefs[j, l] = beta[j]
        n_iter[l] = total
        converged[l] = ok
        lam_prev = lam
    return violations
