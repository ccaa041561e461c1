# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled Cox partial-likelihood kernels (Breslow / Efron) and elastic-net coordinate descent.

All inputs are sorted by time ascending; tied times are exactly equal adjacent values and form a
*tie group*.  The risk set of a group is the suffix of samples starting at the group's first
index.  No validation happens here: the wrappers in :mod:`desurv.survival.cox` check everything.

Numerical scheme (stable for |eta| up to ~1e3 and beyond):

* reverse pass: running maximum ``m`` and suffix sum ``R = sum_{j >= i} exp(eta_j - m)``, so
  ``L_g = log S0_g = m + log R`` at each group start never overflows;
* forward pass: the cumulative hazard is kept relative to the current group's ``S0``:
  ``C_G = sum_{g <= G} c_g exp(L_G - L_g)`` with ``L_G - L_g <= 0`` (``S0`` is nonincreasing),
  so ``exp(eta_i) h_i = exp(eta_i - L_G) * C_G`` is a product of bounded factors.

Derivatives with respect to the coefficients (``cox_beta_derivatives``) use the suffix sums
``S0 = sum_R e^eta``, ``S1 = sum_R e^eta z`` and ``S2 = sum_R e^eta z z^T`` kept relative to the
same running maximum ``m`` (all three are rescaled together when ``m`` grows), so only the
scale-free ratios ``S1/S0`` and ``S2/S0`` are ever used.
"""

from libc.float cimport DBL_EPSILON
from libc.math cimport exp, log, sqrt, fabs

import numpy as np


cdef inline bint _is_group_start(const double[::1] time, Py_ssize_t i) noexcept nogil:
    return i == 0 or time[i - 1] != time[i]


cdef double _reverse_pass(const double[::1] eta, const double[::1] time,
                          const double[::1] event, bint efron,
                          double* Lbuf, double* abuf) noexcept nogil:
    """Log partial likelihood in one reverse pass.

    If ``Lbuf`` is not NULL, ``Lbuf[s] = log S0`` is stored at every group start ``s``; if
    ``abuf`` is not NULL (Efron), ``abuf[s] = A_g / S0_g`` (share of the risk-set sum carried by
    the group's events) is stored there too.  Other entries are left untouched.
    """
    cdef Py_ssize_t n = eta.shape[0]
    cdef Py_ssize_t i
    cdef int r, d = 0
    cdef double m, m_new, sc, R = 0.0, A = 0.0, L, a, sum_eta = 0.0, ll = 0.0, dd
    if n == 0:
        return 0.0
    m = eta[n - 1]
    for i in range(n - 1, -1, -1):
        if eta[i] > m:
            m_new = eta[i]
            sc = exp(m - m_new)
            R *= sc
            A *= sc
            m = m_new
        sc = exp(eta[i] - m)
        R += sc
        if event[i] != 0.0:
            d += 1
            sum_eta += eta[i]
            if efron:
                A += sc
        if _is_group_start(time, i):
            L = m + log(R)
            a = 0.0
            if d > 0:
                ll += sum_eta - d * L
                if efron and d > 1:
                    a = A / R
                    dd = <double> d
                    for r in range(1, d):
                        ll -= log(1.0 - (r / dd) * a)
            if Lbuf != NULL:
                Lbuf[i] = L
            if abuf != NULL:
                abuf[i] = a
            d = 0
            sum_eta = 0.0
            A = 0.0
    return ll


cdef double _cox_stats(const double[::1] eta, const double[::1] time,
                       const double[::1] event, double[::1] grad, double[::1] weight,
                       bint efron) noexcept nogil:
    cdef Py_ssize_t n = eta.shape[0]
    cdef Py_ssize_t s, e, i
    cdef int r, d
    cdef double ll, L, L_prev = 0.0, a, C = 0.0, C_prev, c, c_ev, rho, frac, dd, w
    # Scratch: group-start values of log S0 go into weight, Efron shares into grad; both are
    # read at the group start before that group's entries are overwritten.
    ll = _reverse_pass(eta, time, event, efron, &weight[0], &grad[0] if efron else NULL)
    s = 0
    while s < n:
        L = weight[s]
        a = grad[s] if efron else 0.0
        e = s + 1
        d = 1 if event[s] != 0.0 else 0
        while e < n and time[e] == time[s]:
            if event[e] != 0.0:
                d += 1
            e += 1
        # cumulative hazard of earlier groups, rescaled to this group's S0
        C_prev = C * exp(L - L_prev) if s > 0 else 0.0
        c = <double> d
        c_ev = c
        if efron and d > 1:
            dd = <double> d
            c = 0.0
            c_ev = 0.0
            for r in range(d):
                frac = r / dd
                rho = 1.0 - frac * a
                c += 1.0 / rho
                c_ev += (1.0 - frac) / rho
        C = C_prev + c
        for i in range(s, e):
            w = exp(eta[i] - L)
            if efron and event[i] != 0.0:
                w *= C_prev + c_ev
            else:
                w *= C
            weight[i] = w
            grad[i] = event[i] - w
        L_prev = L
        s = e
    return ll


def cox_stats(const double[::1] eta, const double[::1] time, const double[::1] event,
              double[::1] grad, double[::1] weight, bint efron):
    """Cox log partial likelihood, gradient and diagonal majoriser (sorted inputs).

    Writes ``grad[i] = d ell / d eta_i`` and ``weight[i] = exp(eta_i) h_i`` (Breslow) or the
    Efron analogue, with ``diag(weight) >= -Hessian`` in the Loewner order.  Returns ``ell``.
    """
    cdef double ll
    if eta.shape[0] == 0:
        return 0.0
    with nogil:
        ll = _cox_stats(eta, time, event, grad, weight, efron)
    return ll


def cox_loglik(const double[::1] eta, const double[::1] time, const double[::1] event,
               bint efron):
    """Cox log partial likelihood only (sorted inputs); bit-identical to ``cox_stats``."""
    cdef double ll
    with nogil:
        ll = _reverse_pass(eta, time, event, efron, NULL, NULL)
    return ll


cdef inline void _zero_upper(double[::1] s1, double[::1, :] s2) noexcept nogil:
    """``s1 = 0`` and the upper triangle of ``s2`` = 0."""
    cdef Py_ssize_t a, b
    for b in range(s1.shape[0]):
        s1[b] = 0.0
        for a in range(b + 1):
            s2[a, b] = 0.0


cdef inline void _scale_upper(double sc, double[::1] s1, double[::1, :] s2) noexcept nogil:
    """``s1 *= sc`` and the upper triangle of ``s2`` *= sc."""
    cdef Py_ssize_t a, b
    for b in range(s1.shape[0]):
        s1[b] *= sc
        for a in range(b + 1):
            s2[a, b] *= sc


cdef inline void _add_upper(double w, const double[::1] z, double[::1] s1,
                            double[::1, :] s2) noexcept nogil:
    """``s1 += w z`` and the upper triangle of ``s2`` += w z z^T."""
    cdef Py_ssize_t a, b
    cdef double zb
    for b in range(s1.shape[0]):
        zb = w * z[b]
        s1[b] += zb
        for a in range(b + 1):
            s2[a, b] += zb * z[a]


cdef tuple _beta_scratch(Py_ssize_t k):
    """Scratch of ``_beta_derivatives``: ``zi, s1, a1, u`` (k,) and ``s2, a2`` (k, k)."""
    return (np.empty(k), np.empty(k), np.empty(k), np.empty(k),
            np.empty((k, k), order="F"), np.empty((k, k), order="F"))


cdef double _beta_derivatives(const double[::1, :] Z, const double[::1] time,
                              const double[::1] event, const double[::1] eta,
                              double[::1] grad, double[::1, :] hess, bint efron,
                              double[::1] zi, double[::1] s1, double[::1, :] s2,
                              double[::1] a1, double[::1, :] a2,
                              double[::1] u) noexcept nogil:
    """ell, d ell / d beta and -d^2 ell / d beta^2 in one reverse pass (O(n k^2)).

    Scratch: ``zi``, ``s1``, ``a1``, ``u`` of length k; ``s2``, ``a2`` of shape (k, k).  Only
    the upper triangles of ``s2``, ``a2`` and ``hess`` are accumulated; ``hess`` is mirrored at
    the end.  ``ell`` comes from ``_reverse_pass`` (bit-identical to ``cox_loglik``).
    """
    cdef Py_ssize_t n = Z.shape[0]
    cdef Py_ssize_t k = Z.shape[1]
    cdef Py_ssize_t i, a, b
    cdef int r, d = 0
    cdef double ll, m, sc, w, s0 = 0.0, a0 = 0.0, t0, phi, dd
    ll = _reverse_pass(eta, time, event, efron, NULL, NULL)
    _zero_upper(grad, hess)
    _zero_upper(s1, s2)
    _zero_upper(a1, a2)
    if n == 0:
        return ll
    m = eta[n - 1]
    for i in range(n - 1, -1, -1):
        if eta[i] > m:
            sc = exp(m - eta[i])
            m = eta[i]
            s0 *= sc
            a0 *= sc
            _scale_upper(sc, s1, s2)
            _scale_upper(sc, a1, a2)
        w = exp(eta[i] - m)
        for a in range(k):
            zi[a] = Z[i, a]
        s0 += w
        _add_upper(w, zi, s1, s2)
        if event[i] != 0.0:
            d += 1
            for b in range(k):
                grad[b] += zi[b]
            if efron:
                a0 += w
                _add_upper(w, zi, a1, a2)
        if _is_group_start(time, i):
            if d > 0:
                if not efron or d == 1:
                    # Breslow: d [S2/S0 - (S1/S0)(S1/S0)^T]
                    for b in range(k):
                        u[b] = s1[b] / s0
                        grad[b] -= d * u[b]
                    for b in range(k):
                        for a in range(b + 1):
                            hess[a, b] += d * (s2[a, b] / s0 - u[a] * u[b])
                else:
                    # Efron: the r-th tied event sees S - (r/d) A
                    dd = <double> d
                    for r in range(d):
                        phi = r / dd
                        t0 = s0 - phi * a0
                        for b in range(k):
                            u[b] = (s1[b] - phi * a1[b]) / t0
                            grad[b] -= u[b]
                        for b in range(k):
                            for a in range(b + 1):
                                hess[a, b] += (s2[a, b] - phi * a2[a, b]) / t0 - u[a] * u[b]
            d = 0
            if efron:
                a0 = 0.0
                _zero_upper(a1, a2)
    for b in range(k):
        for a in range(b):
            hess[b, a] = hess[a, b]
    return ll


def cox_beta_derivatives(const double[::1, :] Z, const double[::1] time,
                         const double[::1] event, const double[::1] eta,
                         double[::1] grad_beta, double[::1, :] hess, bint efron):
    """Cox log partial likelihood and its exact derivatives in beta (sorted inputs).

    ``Z`` is (n, k) in Fortran order with rows in time order and ``eta`` the linear predictor
    (normally ``Z @ beta``; any finite values are accepted).  Writes ``grad_beta`` (k,) =
    ``d ell / d beta = Z^T g`` and ``hess`` (k, k) = ``-d^2 ell / d beta^2`` (symmetric
    positive semidefinite) and returns ``ell`` (bit-identical to ``cox_loglik``).  O(n k^2).
    """
    cdef double ll
    cdef double[::1] zi, s1, a1, u
    cdef double[::1, :] s2, a2
    zi, s1, a1, u, s2, a2 = _beta_scratch(Z.shape[1])
    with nogil:
        ll = _beta_derivatives(Z, time, event, eta, grad_beta, hess, efron,
                               zi, s1, s2, a1, a2, u)
    return ll


cdef inline double _total(const double[::1] x) noexcept nogil:
    """``sum(x)`` in index order."""
    cdef Py_ssize_t i
    cdef double s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return s


cdef inline double _soft(double u, double t) noexcept nogil:
    if u > t:
        return u - t
    if u < -t:
        return u + t
    return 0.0


def coxnet_cd(const double[::1, :] Z, const double[::1] time, const double[::1] event,
              double[::1] beta, double lam, double l1_ratio, const double[::1] penalty_factor,
              double tol, int max_iter, bint efron):
    """Elastic-net Cox by cyclic coordinate descent on standardised, time-sorted ``Z``.

    Minimises ``-ell(Z beta)/n_event + lam * sum_j pf_j [xi |b_j| + (1 - xi)/2 b_j^2]``.
    ``beta`` is updated in place.  Returns the number of sweeps done if the last sweep met the
    tolerance (``max_j |delta b_j| sqrt(v_j) < tol``), or minus that number if ``max_iter``
    sweeps were done without meeting it (0 only when ``max_iter <= 0``).
    """
    cdef Py_ssize_t n = Z.shape[0]
    cdef Py_ssize_t k = Z.shape[1]
    cdef Py_ssize_t i, j
    cdef int it = 0
    cdef bint converged = False
    cdef double n_event = 0.0, xwr, xwx, v, u, b_old, b_new, shift, max_change, l1, l2
    cdef double[::1] eta = np.zeros(n, dtype=np.float64)
    cdef double[::1] g = np.empty(n, dtype=np.float64)
    cdef double[::1] w = np.empty(n, dtype=np.float64)
    if n == 0:
        return 0
    with nogil:
        n_event = _total(event)
        _matvec(Z, beta, eta)
        while it < max_iter:
            it += 1
            _cox_stats(eta, time, event, g, w, efron)
            max_change = 0.0
            for j in range(k):
                xwr = 0.0
                xwx = 0.0
                for i in range(n):
                    xwr += Z[i, j] * g[i]
                    xwx += w[i] * (Z[i, j] * Z[i, j])
                v = xwx / n_event
                if v < 1e-12:
                    v = 1e-12
                u = xwr / n_event + v * beta[j]
                l1 = lam * penalty_factor[j] * l1_ratio
                l2 = lam * penalty_factor[j] * (1.0 - l1_ratio)
                b_old = beta[j]
                b_new = _soft(u, l1) / (v + l2)
                beta[j] = b_new
                shift = b_new - b_old
                if shift != 0.0:
                    for i in range(n):
                        eta[i] += shift * Z[i, j]
                    if fabs(shift) * sqrt(v) > max_change:
                        max_change = fabs(shift) * sqrt(v)
            if max_change < tol:
                converged = True
                break
    return it if converged else -it


cdef inline double _penalty(const double[::1] b, double lam, double l1_ratio,
                            const double[::1] pf) noexcept nogil:
    cdef Py_ssize_t j
    cdef double p = 0.0
    for j in range(b.shape[0]):
        p += pf[j] * (l1_ratio * fabs(b[j]) + 0.5 * (1.0 - l1_ratio) * b[j] * b[j])
    return lam * p


cdef inline void _matvec(const double[::1, :] Z, const double[::1] b,
                         double[::1] out) noexcept nogil:
    """``out = Z @ b`` column by column (skipping zero coefficients)."""
    cdef Py_ssize_t i, j
    for i in range(Z.shape[0]):
        out[i] = 0.0
    for j in range(Z.shape[1]):
        if b[j] != 0.0:
            for i in range(Z.shape[0]):
                out[i] += Z[i, j] * b[j]


cdef bint _cholesky_solve(double[::1, :] M, Py_ssize_t m, double[::1] x) noexcept nogil:
    """Solve ``M[:m, :m] y = x[:m]`` in place (Cholesky, lower triangle of ``M`` overwritten).

    Returns False (leaving ``x`` partly overwritten) if ``M`` is not numerically positive
    definite.
    """
    cdef Py_ssize_t i, j, p
    cdef double acc
    for j in range(m):
        acc = M[j, j]
        for p in range(j):
            acc -= M[j, p] * M[j, p]
        if not acc > 0.0:
            return False
        M[j, j] = sqrt(acc)
        for i in range(j + 1, m):
            acc = M[i, j]
            for p in range(j):
                acc -= M[i, p] * M[j, p]
            M[i, j] = acc / M[j, j]
    for i in range(m):
        acc = x[i]
        for p in range(i):
            acc -= M[i, p] * x[p]
        x[i] = acc / M[i, i]
    for i in range(m - 1, -1, -1):
        acc = x[i]
        for p in range(i + 1, m):
            acc -= M[p, i] * x[p]
        x[i] = acc / M[i, i]
    return True


cdef void _model_resid(const double[::1, :] H, const double[::1] g, const double[::1] delta,
                       double[::1] resid) noexcept nogil:
    """``resid = -g + H delta`` (gradient of the smooth part of the quadratic model)."""
    cdef Py_ssize_t a, j, k = g.shape[0]
    for a in range(k):
        resid[a] = -g[a]
    for j in range(k):
        if delta[j] != 0.0:
            for a in range(k):
                resid[a] += delta[j] * H[a, j]


cdef int _solve_model(const double[::1] beta, const double[::1] g, const double[::1, :] H,
                      const double[::1] v, const double[::1] l1, const double[::1] l2,
                      double inner_tol, double[::1] delta, double[::1] resid,
                      double[::1, :] M, double[::1] x, Py_ssize_t[::1] active) noexcept nogil:
    """Minimise ``-g^T D + D^T H D / 2 + sum_j [l1_j |b_j + D_j| + l2_j/2 (b_j + D_j)^2]``.

    Alternates one Gauss-Seidel sweep with soft-thresholding (model gradient ``resid`` kept
    current; ``v_j = max(H_jj, 1e-12)``) and one active-set subspace step: on the support
    and signs the sweep left, the model is a smooth quadratic whose minimiser comes from one
    Cholesky solve; move towards it up to the first sign change (feature-sign search), which
    never increases the model.  Stops when a sweep changes no coordinate by more than
    ``inner_tol`` (scaled by ``sqrt(v_j)``) or after 1000 rounds.  Returns the rounds done.
    """
    cdef Py_ssize_t k = beta.shape[0]
    cdef Py_ssize_t j, a, p, q, m
    cdef int rounds = 0
    cdef double change, bj, bn, dj, t, tj, acc
    for j in range(k):
        delta[j] = 0.0
    _model_resid(H, g, delta, resid)
    while rounds < 1000:
        rounds += 1
        # --- one cyclic coordinate-descent sweep
        change = 0.0
        for j in range(k):
            bj = beta[j] + delta[j]
            bn = _soft(v[j] * bj - resid[j], l1[j]) / (v[j] + l2[j])
            dj = bn - bj
            if dj != 0.0:
                delta[j] += dj
                for a in range(k):
                    resid[a] += dj * H[a, j]
                if fabs(dj) * sqrt(v[j]) > change:
                    change = fabs(dj) * sqrt(v[j])
        if change < inner_tol:
            break
        # --- subspace step on the current support and signs
        m = 0
        for j in range(k):
            if beta[j] + delta[j] != 0.0:
                active[m] = j
                m += 1
        if m == 0:
            continue
        for p in range(m):
            j = active[p]
            # rhs = g_j + (H beta)_j - l1_j sign(b_j)
            acc = g[j]
            for a in range(k):
                acc += H[j, a] * beta[a]
            acc -= l1[j] if beta[j] + delta[j] > 0.0 else -l1[j]
            x[p] = acc
            for q in range(m):
                M[p, q] = H[j, active[q]]
            M[p, p] = v[j] + l2[j]
        if not _cholesky_solve(M, m, x):
            continue
        t = 1.0
        for p in range(m):
            j = active[p]
            bj = beta[j] + delta[j]
            if (bj > 0.0 and x[p] <= 0.0) or (bj < 0.0 and x[p] >= 0.0):
                tj = bj / (bj - x[p])
                if tj < t:
                    t = tj
        for p in range(m):
            j = active[p]
            bj = beta[j] + delta[j]
            bn = bj + t * (x[p] - bj)
            if (bj > 0.0 and bn <= 0.0) or (bj < 0.0 and bn >= 0.0) or (
                    t < 1.0 and bj / (bj - x[p]) == t):
                bn = 0.0
            delta[j] = bn - beta[j]
        _model_resid(H, g, delta, resid)
    return rounds


def coxnet_newton(const double[::1, :] Z, const double[::1] time, const double[::1] event,
                  double[::1] beta, double lam, double l1_ratio,
                  const double[::1] penalty_factor, double tol, int max_iter, bint efron):
    """Elastic-net Cox by proximal Newton on standardised, time-sorted ``Z``.

    Minimises ``f(b) = -ell(Z b)/n_event + lam * sum_j pf_j [xi |b_j| + (1 - xi)/2 b_j^2]``
    (the objective of ``coxnet_cd``); ``beta`` is updated in place.  Each iteration:

    1. exact gradient ``G`` and negative Hessian ``H`` of ``ell`` at ``b`` (O(n k^2));
    2. minimise the model ``-G^T D/ne + D^T H D/(2 ne) + lam P(b + D)`` (``_solve_model``:
       Gauss-Seidel soft-thresholding sweeps alternated with active-set Cholesky steps, to
       ``tol/10``; plain sweeps alone crawl when the columns of ``Z`` are collinear);
    3. backtracking on the true ``f``: step ``t = 1, 1/2, ...`` (at most 30 halvings), accept
       the first ``b + t D`` with ``f`` not larger than at ``b`` up to rounding,
       ``f(b + t D) <= f(b) + 32 eps |f(b)|`` (none: ``b`` stays).  The slack matters only
       at the optimum, where the decrease of a Newton step (~|D|^2) is below the rounding of
       ``f``: without it the search would shrink that last step to nothing and stop early.

    Stops when the accepted step has ``max_j |t D_j| sqrt(v_j) < tol`` with
    ``v_j = max(H_jj/ne, 1e-12)`` (the scale of ``coxnet_cd``'s criterion).  Returns the
    number of iterations if converged, minus that number if ``max_iter`` iterations were done
    without meeting ``tol`` (0 only when ``max_iter <= 0`` or there are no samples).
    """
    cdef Py_ssize_t n = Z.shape[0]
    cdef Py_ssize_t k = Z.shape[1]
    cdef Py_ssize_t i, j, a
    cdef int it = 0, halving
    cdef bint converged = False, accepted
    cdef double n_event = 0.0, ll, f0, f_max, ft, t, change, step
    cdef double[::1] eta = np.empty(n, dtype=np.float64)
    cdef double[::1] eta_try = np.empty(n, dtype=np.float64)
    cdef double[::1] b_try = np.empty(k, dtype=np.float64)
    cdef double[::1] gb = np.empty(k, dtype=np.float64)
    cdef double[::1] delta = np.empty(k, dtype=np.float64)
    cdef double[::1] resid = np.empty(k, dtype=np.float64)
    cdef double[::1] v = np.empty(k, dtype=np.float64)
    cdef double[::1] l1 = np.empty(k, dtype=np.float64)
    cdef double[::1] l2 = np.empty(k, dtype=np.float64)
    cdef double[::1] x = np.empty(k, dtype=np.float64)
    cdef Py_ssize_t[::1] active = np.empty(k, dtype=np.intp)
    cdef double[::1, :] H = np.empty((k, k), dtype=np.float64, order="F")
    cdef double[::1, :] M = np.empty((k, k), dtype=np.float64, order="F")
    cdef double[::1] zi, s1, a1, u
    cdef double[::1, :] s2, a2
    zi, s1, a1, u, s2, a2 = _beta_scratch(k)
    if n == 0:
        return 0
    with nogil:
        n_event = _total(event)
        for j in range(k):
            l1[j] = lam * penalty_factor[j] * l1_ratio
            l2[j] = lam * penalty_factor[j] * (1.0 - l1_ratio)
        _matvec(Z, beta, eta)
        while it < max_iter:
            it += 1
            ll = _beta_derivatives(Z, time, event, eta, gb, H, efron, zi, s1, s2, a1, a2, u)
            f0 = -ll / n_event + _penalty(beta, lam, l1_ratio, penalty_factor)
            f_max = f0 + 32.0 * DBL_EPSILON * fabs(f0)
            for j in range(k):
                gb[j] /= n_event
                for a in range(k):
                    H[a, j] /= n_event
            for j in range(k):
                v[j] = H[j, j] if H[j, j] > 1e-12 else 1e-12
            _solve_model(beta, gb, H, v, l1, l2, tol / 10.0, delta, resid, M, x, active)
            # backtracking line search on the true objective
            t = 1.0
            accepted = False
            for halving in range(31):
                for j in range(k):
                    b_try[j] = beta[j] + t * delta[j]
                _matvec(Z, b_try, eta_try)
                ft = (-_reverse_pass(eta_try, time, event, efron, NULL, NULL) / n_event
                      + _penalty(b_try, lam, l1_ratio, penalty_factor))
                if ft <= f_max:
                    accepted = True
                    break
                t *= 0.5
            step = 0.0
            if accepted:
                for j in range(k):
                    change = fabs(b_try[j] - beta[j]) * sqrt(v[j])
                    if change > step:
                        step = change
                    beta[j] = b_try[j]
                for i in range(n):
                    eta[i] = eta_try[i]
            if step < tol:
                converged = True
                break
    return it if converged else -it
