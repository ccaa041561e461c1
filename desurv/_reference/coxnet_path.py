"""Plain NumPy twin of the elastic-net Cox path kernel ``desurv._kernels._coxnet_path``.

Used by the tests only.  Written from the formulas, with no screening, no active sets and
O(n²) likelihood derivatives from :mod:`desurv._reference.cox` (inputs in any sample order).

Objective (per λ)::

    f(β) = −ℓ(Xβ)/n_event + λ Σ_j pf_j [ξ|β_j| + (1−ξ)/2 β_j²]

Each outer iteration forms the quadratic approximation of −ℓ at η = Xβ with the gradient g
and the curvature M: the diagonal of −∂²ℓ/∂η² (``exact=False``, glmnet) or the full
−∂²ℓ/∂η² (``exact=True``); minimises it plus the penalty by full cyclic coordinate sweeps,
then halves the step while f would increase.
"""

from __future__ import annotations

import numpy as np

from desurv._reference import cox as _ref_cox


def loglik(eta, time, event, efron=False):
    """Cox log partial likelihood ℓ(η) (Breslow or Efron), from the definition."""
    return _ref_cox.loglik(eta, time, event, efron)


def diag_stats(eta, time, event, efron=False):
    """``(ℓ, ∂ℓ/∂η, −diag ∂²ℓ/∂η²)`` from the textbook formulas (dense Hessian)."""
    ll = _ref_cox.loglik(eta, time, event, efron)
    g = _ref_cox.gradient(eta, time, event, efron)
    w = -np.diag(_ref_cox.hessian(eta, time, event, efron))
    return ll, g, w


def curvature(eta, time, event, efron=False, exact=True):
    """The model's curvature matrix M (n, n): −∂²ℓ/∂η² or its diagonal."""
    M = -_ref_cox.hessian(eta, time, event, efron)
    return M if exact else np.diag(np.diag(M))


def objective(X, beta, time, event, lam, l1_ratio, pf, efron=False):
    """f(β) = −ℓ(Xβ)/n_event + λ Σ pf_j [ξ|β_j| + (1−ξ)/2 β_j²]."""
    beta = np.asarray(beta, dtype=float)
    n_event = float(np.sum(event))
    pen = np.sum(pf * (l1_ratio * np.abs(beta) + 0.5 * (1 - l1_ratio) * beta**2))
    return -loglik(X @ beta, time, event, efron) / n_event + lam * pen


def soft_threshold(u, t):
    return np.sign(u) * max(abs(u) - t, 0.0)


def lambda_max(X, time, event, l1_ratio, pf, efron=False):
    """Smallest λ with β = 0 optimal: ``max_j |x_jᵀ g(0)| / (n_event · max(ξ, 1e-3) · pf_j)``."""
    _, g, _ = diag_stats(np.zeros(X.shape[0]), time, event, efron)
    c = np.abs(X.T @ g) / np.sum(event)
    pos = pf > 0
    return float(np.max(c[pos] / (max(l1_ratio, 1e-3) * pf[pos])))


def coxnet_solve(
    X, time, event, lam, l1_ratio, pf, beta0, tol=1e-10, max_iter=10_000, efron=False, exact=True
):
    """Minimise f from ``beta0``; returns ``(beta, n_outer, converged)``.

    Stops when an outer step has ``max_j |Δβ_j| √v_j < tol``, ``v_j = Σ w x_j² / n_event``.
    """
    X = np.asarray(X, dtype=float)
    beta = np.array(beta0, dtype=float, copy=True)
    n_event = float(np.sum(event))
    l1, l2 = lam * l1_ratio, lam * (1 - l1_ratio)
    f = objective(X, beta, time, event, lam, l1_ratio, pf, efron)
    for it in range(1, max_iter + 1):
        eta0 = X @ beta
        g = _ref_cox.gradient(eta0, time, event, efron)
        M = curvature(eta0, time, event, efron, exact)
        v = np.einsum("ij,ik,kj->j", X, M, X) / n_event
        old = beta.copy()
        # coordinate descent on the quadratic model
        r = g.copy()
        for _ in range(max_iter):
            dmax = 0.0
            for j in range(X.shape[1]):
                den = v[j] + l2 * pf[j]
                if den <= 0:
                    continue
                u = X[:, j] @ r / n_event + v[j] * beta[j]
                b = soft_threshold(u, l1 * pf[j]) / den
                delta = b - beta[j]
                r -= M @ X[:, j] * delta
                beta[j] = b
                dmax = max(dmax, abs(delta) * np.sqrt(v[j]))
            if dmax < tol:
                break
        # step-halving
        f_new = objective(X, beta, time, event, lam, l1_ratio, pf, efron)
        halvings = 0
        while not f_new <= f and halvings < 30:
            beta = 0.5 * (beta + old)
            f_new = objective(X, beta, time, event, lam, l1_ratio, pf, efron)
            halvings += 1
        if not f_new <= f:
            return old, it, True
        f = f_new
        if np.max(np.abs(beta - old) * np.sqrt(v)) < tol:
            return beta, it, True
    return beta, max_iter, False


def coxnet_path(
    X, time, event, lambdas, l1_ratio, pf, tol=1e-10, max_iter=10_000, efron=False, exact=True
):
    """Solutions (p, L) along ``lambdas`` with warm starts from β = 0."""
    beta = np.zeros(X.shape[1])
    out = np.empty((X.shape[1], len(lambdas)))
    for k, lam in enumerate(lambdas):
        beta, _, _ = coxnet_solve(
            X, time, event, lam, l1_ratio, pf, beta, tol, max_iter, efron, exact
        )
        out[:, k] = beta
    return out
