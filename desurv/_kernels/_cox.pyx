# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled Cox partial-likelihood kernels (Breslow / Efron) and elastic-net coordinate descent.

All inputs are sorted by time ascending; tied times are exactly equal adjacent values and form a
*tie group*.  The risk set of a group is the suffix of samples starting at the group's first
index.  No validation happens here: the wrappers in :mod:`desurv.cox` check everything.

Numerical scheme (stable for |eta| up to ~1e3 and beyond):

* reverse pass: running maximum ``m`` and suffix sum ``R = sum_{j >= i} exp(eta_j - m)``, so
  ``L_g = log S0_g = m + log R`` at each group start never overflows;
* forward pass: the cumulative hazard is kept relative to the current group's ``S0``:
  ``C_G = sum_{g <= G} c_g exp(L_G - L_g)`` with ``L_G - L_g <= 0`` (``S0`` is nonincreasing),
  so ``exp(eta_i) h_i = exp(eta_i - L_G) * C_G`` is a product of bounded factors.
"""

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
        for i in range(n):
            n_event += event[i]
        for j in range(k):
            if beta[j] != 0.0:
                for i in range(n):
                    eta[i] += Z[i, j] * beta[j]
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
