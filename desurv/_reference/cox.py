"""Plain NumPy reference implementations of the Cox kernels (used only by the tests).

Everything here is written from the textbook formulas, with explicit loops over the distinct
event times and no numerical tricks: inputs may be in any order, ``exp(eta)`` is formed
directly (so callers with huge ``eta`` should shift it first), and nothing is optimised.

Notation: for each distinct event time ``t`` let ``D_t`` be the samples with an event at ``t``
(``d_t = |D_t|``) and ``R_t`` the risk set ``{j : y_j >= t}``.

* Breslow: ``ell = sum_t [ sum_{i in D_t} eta_i - d_t log sum_{j in R_t} exp(eta_j) ]``.
* Efron: ``ell = sum_t [ sum_{i in D_t} eta_i - sum_{r=0}^{d_t-1} log S_{t,r} ]`` with
  ``S_{t,r} = sum_{R_t} exp(eta) - (r/d_t) sum_{D_t} exp(eta)``.

Each ``log S_{t,r}`` is the log of ``sum_j a_{t,r,j} exp(eta_j)`` with coefficients
``a = 1`` on ``R_t \\ D_t`` and ``a = 1 - r/d_t`` on ``D_t`` (Breslow: ``a = 1`` on ``R_t``,
repeated ``d_t`` times); the gradient, Hessian and majoriser all follow from that form.
"""

from __future__ import annotations

import numpy as np


def _terms(time, event, efron):
    """Yield ``(D, a)`` for every log-sum term: event mask ``D`` and coefficient vector ``a``."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) != 0
    for t in np.unique(time[event]):
        at_risk = time >= t
        D = event & (time == t)
        d = int(D.sum())
        for r in range(d):
            a = at_risk.astype(float)
            if efron:
                a[D] = 1.0 - r / d
            yield D, a


def loglik(eta, time, event, efron=False):
    """Cox log partial likelihood (Breslow or Efron) from the definition."""
    eta = np.asarray(eta, dtype=float)
    event = np.asarray(event, dtype=float)
    ll = float(np.sum(eta * event))
    e = np.exp(eta)
    for _, a in _terms(time, event, efron):
        ll -= np.log(np.sum(a * e))
    return ll


def gradient(eta, time, event, efron=False):
    """Gradient ``d ell / d eta``: ``event - sum_terms a * exp(eta) / S``."""
    eta = np.asarray(eta, dtype=float)
    e = np.exp(eta)
    g = np.asarray(event, dtype=float).copy()
    for _, a in _terms(time, event, efron):
        g -= a * e / np.sum(a * e)
    return g


def majorizer(eta, time, event, efron=False):
    """Diagonal majoriser of ``-Hessian``: ``sum_terms a * exp(eta) / S`` (= ``exp(eta) * h``)."""
    eta = np.asarray(eta, dtype=float)
    e = np.exp(eta)
    w = np.zeros_like(e)
    for _, a in _terms(time, event, efron):
        w += a * e / np.sum(a * e)
    return w


def hessian(eta, time, event, efron=False):
    """Exact Hessian of ``ell`` (negative semidefinite): ``-sum_terms [diag(q) - q q^T]``."""
    eta = np.asarray(eta, dtype=float)
    e = np.exp(eta)
    Hm = np.zeros((e.size, e.size))
    for _, a in _terms(time, event, efron):
        q = a * e / np.sum(a * e)
        Hm -= np.diag(q) - np.outer(q, q)
    return Hm


def beta_derivatives(Z, time, event, eta, efron=False):
    """``(ell, grad, neg_hess)`` in the coefficients: ``d ell/d beta`` and ``-d^2 ell/d beta^2``.

    ``eta`` is the linear predictor (normally ``Z @ beta``).  From the definition, one log-sum
    term at a time: with ``q = a exp(eta) / sum(a exp(eta))`` and ``mu = Z^T q`` the term adds
    ``-log sum(a exp(eta))`` to ``ell``, ``-mu`` to the gradient and
    ``sum_i q_i z_i z_i^T - mu mu^T`` to the negative Hessian.
    """
    Z = np.asarray(Z, dtype=float)
    eta = np.asarray(eta, dtype=float)
    event = np.asarray(event, dtype=float)
    k = Z.shape[1]
    e = np.exp(eta)
    ll = float(np.sum(eta * event))
    grad = np.zeros(k)
    for i in range(Z.shape[0]):
        if event[i] != 0:
            grad += Z[i]
    neg_hess = np.zeros((k, k))
    for _, a in _terms(time, event, efron):
        s0 = np.sum(a * e)
        q = a * e / s0
        mu = Z.T @ q
        second = (Z * q[:, None]).T @ Z  # sum_i q_i z_i z_i^T
        ll -= np.log(s0)
        grad -= mu
        neg_hess += second - np.outer(mu, mu)
    return ll, grad, neg_hess


def coxnet_objective(Z, time, event, beta, lam, l1_ratio, penalty_factor=None, efron=False):
    """``-ell(Z beta)/n_event + lam sum_j pf_j [xi |b_j| + (1 - xi)/2 b_j^2]``."""
    Z = np.asarray(Z, dtype=float)
    beta = np.asarray(beta, dtype=float)
    pf = np.ones(Z.shape[1]) if penalty_factor is None else np.asarray(penalty_factor, float)
    pen = np.sum(pf * (l1_ratio * np.abs(beta) + 0.5 * (1.0 - l1_ratio) * beta**2))
    return -loglik(Z @ beta, time, event, efron) / float(np.sum(event)) + lam * pen


def coxnet_smooth_minimize(Z, time, event, lam, penalty_factor=None, efron=False, beta0=None):
    """Minimise the ridge (``xi = 0``) objective with SciPy: an independent check of Newton.

    ``scipy.optimize.minimize(method="trust-exact")`` with the reference gradient and Hessian
    above, then ``scipy.optimize.root`` on the gradient from there: minimisers stop once ``f``
    stops changing in floating point (gradient ~1e-10 when ``Z`` is collinear), the root
    polish drives the gradient to rounding level.  Returns the coefficients.
    """
    from scipy.optimize import minimize, root

    Z = np.asarray(Z, dtype=float)
    k = Z.shape[1]
    pf = np.ones(k) if penalty_factor is None else np.asarray(penalty_factor, float)
    n_event = float(np.sum(event))

    def parts(b):
        ll, g, h = beta_derivatives(Z, time, event, Z @ b, efron)
        f = -ll / n_event + 0.5 * lam * np.sum(pf * b * b)
        return f, -g / n_event + lam * pf * b, h / n_event + np.diag(lam * pf)

    x0 = np.zeros(k) if beta0 is None else np.asarray(beta0, dtype=float)
    res = minimize(
        lambda b: parts(b)[0],
        x0,
        jac=lambda b: parts(b)[1],
        hess=lambda b: parts(b)[2],
        method="trust-exact",
        options={"gtol": 1e-12, "maxiter": 500},
    )
    polish = root(
        lambda b: parts(b)[1],
        res.x,
        jac=lambda b: parts(b)[2],
        method="hybr",
        options={"xtol": 1e-15},
    )
    return polish.x


def coxnet_cd(
    Z, time, event, beta, lam, l1_ratio, penalty_factor=None, tol=1e-6, max_iter=500, efron=False
):
    """Cyclic coordinate descent on standardised ``Z`` (any sample order).

    Per sweep the gradient ``g`` and majoriser ``w`` are computed once at the current
    ``eta = Z beta``; for each ``j``: ``v = max(sum w z_j^2 / n_event, 1e-12)``,
    ``u = sum z_j g / n_event + v b_j``, ``b_j = S(u, lam xi pf_j) / (v + lam (1 - xi) pf_j)``.
    Stops when ``max_j |delta b_j| sqrt(v_j) < tol``.  Returns ``(beta, sweeps, converged)``.
    """
    Z = np.asarray(Z, dtype=float)
    beta = np.array(beta, dtype=float)
    n_event = float(np.sum(event))
    pf = np.ones(Z.shape[1]) if penalty_factor is None else np.asarray(penalty_factor, float)
    eta = Z @ beta
    for sweep in range(1, max_iter + 1):
        g = gradient(eta, time, event, efron)
        w = majorizer(eta, time, event, efron)
        max_change = 0.0
        for j in range(Z.shape[1]):
            z = Z[:, j]
            v = max(np.sum(w * z * z) / n_event, 1e-12)
            u = np.sum(z * g) / n_event + v * beta[j]
            l1 = lam * pf[j] * l1_ratio
            l2 = lam * pf[j] * (1.0 - l1_ratio)
            new = np.sign(u) * max(abs(u) - l1, 0.0) / (v + l2)
            shift = new - beta[j]
            beta[j] = new
            eta = eta + shift * z
            max_change = max(max_change, abs(shift) * np.sqrt(v))
        if max_change < tol:
            return beta, sweep, True
    return beta, max_iter, False


def breslow_baseline_hazard(time, event, eta):
    """Breslow cumulative baseline hazard at the distinct event times.

    ``H0(t) = sum_{s <= t, s an event time} d_s / sum_{j: y_j >= s} exp(eta_j)``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float) != 0
    e = np.exp(np.asarray(eta, dtype=float))
    times = np.unique(time[event])
    jumps = np.array([np.sum(event & (time == t)) / np.sum(e[time >= t]) for t in times])
    return times, np.cumsum(jumps)
