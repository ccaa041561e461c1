"""DeSurv at α = 0 is multiplicative-update NMF: against scikit-learn and a NumPy loop.

Issue 16, target 2: the α = 0 iteration is compared with scikit-learn's
``NMF(solver="mu")`` per iteration; these tests pin down that the two compute the same
thing. The α = 0 W step of DeSurv is the damped step W(θ) = (1 − θ)W + θ·W ⊙ R of the
Lee–Seung ratio R, accepted at the first trial θ = θ0 (a convex combination of W and the
full step never raises the quadratic NMF term), and the H update comes first; with θ0 = 1 it
is Lee & Seung's (2001) update exactly.
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import NMF as SkNMF

from desurv import fit_desurv
from desurv.datasets import simulate_desurv


@pytest.fixture(scope="module")
def problem():
    """Five programs, no gene baseline (k = 5 identifiable), genes x samples, uniform start."""
    sim = simulate_desurv(n_samples=60, n_genes=900, n_components=5, n_markers=100,
                          n_background=200, beta=(2.0, 0, 0, 0, 0), gene_baseline=None,
                          noise_sd=0.05, random_state=3)  # fmt: skip
    X = np.ascontiguousarray(sim.X.to_numpy(dtype=np.float64).T)
    rng = np.random.default_rng(0)
    upper = float(X.max())
    W0 = rng.uniform(0.0, upper, size=(X.shape[0], 5))
    H0 = rng.uniform(0.0, upper, size=(5, X.shape[1]))
    return X, sim.time, sim.event, W0, H0


def _desurv(problem, n_iter, **kw):
    X, time, event, W0, H0 = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_desurv(X, time, event, 5, W_init=W0, H_init=H0, alpha=0.0,
                          max_iter=n_iter, tol=0.0, warn=False, **kw)  # fmt: skip


def _sklearn(problem, n_iter):
    X, _, _, W0, H0 = problem
    model = SkNMF(5, solver="mu", beta_loss="frobenius", init="custom", tol=0.0,
                  max_iter=n_iter)  # fmt: skip
    W = model.fit_transform(X, W=W0.copy(), H=H0.copy())
    return W, model.components_


def _normalise(W, H):
    norms = np.linalg.norm(W, axis=0)
    return W / norms, H * norms[:, None]


def _lee_seung(X, W, H, n_iter, theta=1.0, eps=1e-12):
    """DeSurv's α = 0 iteration in plain NumPy: unit columns of W, H first, then
    W ← max((1−θ)W + θ W ⊙ cXHᵀ/(cWHHᵀ + ε), ε) with c = 1/(np) (the NMF term's scale)."""
    c = 1.0 / X.size
    W, H = _normalise(W, H)
    for _ in range(n_iter):
        H = np.maximum(H * (W.T @ X) / (W.T @ W @ H + eps), eps)
        V = W * ((c * (X @ H.T)) / (c * (W @ (H @ H.T)) + eps))
        W, H = _normalise(np.maximum((1.0 - theta) * W + theta * V, eps), H)
    return W, H


def test_alpha0_reaches_sklearn_mu_residual_and_factors(problem):
    """Same data, same start, 3,000 iterations: the residuals agree within 1e-3 relative and
    every program has a match within cosine 0.99 (the default damped step θ0 = 0.5)."""
    X = problem[0]
    ours = _desurv(problem, 3000)
    W_sk, H_sk = _sklearn(problem, 3000)
    r_ours = np.linalg.norm(X - ours.W @ ours.H)
    r_sk = np.linalg.norm(X - W_sk @ H_sk)
    assert abs(r_ours / r_sk - 1.0) < 1e-3
    a = ours.W / np.linalg.norm(ours.W, axis=0)
    b = W_sk / np.linalg.norm(W_sk, axis=0)
    best = (a.T @ b).max(axis=1)  # every program of ours has a close one in sklearn's
    assert best.min() > 0.99


@pytest.mark.parametrize("theta0", [1.0, 0.5])
def test_alpha0_iteration_is_the_damped_lee_seung_update(problem, theta0):
    """Iterate by iterate (50 iterations), WH of DeSurv at α = 0 is the NumPy loop's."""
    X, _, _, W0, H0 = problem
    ours = _desurv(problem, 50, theta0=theta0)
    W, H = _lee_seung(X, W0, H0, 50, theta=theta0)
    np.testing.assert_allclose(ours.W @ ours.H, W @ H, rtol=1e-8, atol=1e-10 * np.abs(X).max())
    assert np.all(ours.history["theta"] == theta0)  # every first trial accepted


def test_undamped_alpha0_matches_sklearn_iterates(problem):
    """θ0 = 1 is scikit-learn's update in the other order: DeSurv's N iterations from (W0, H0)
    equal scikit-learn's N iterations started from (W0, H1), H1 DeSurv's first H update,
    in W (sklearn's last H update is one step ahead)."""
    X, _, _, W0, H0 = problem
    H1 = H0 * (W0.T @ X) / (W0.T @ W0 @ H0)
    ours = _desurv(problem, 40, theta0=1.0)
    sk = SkNMF(5, solver="mu", init="custom", tol=0.0, max_iter=40)
    W_sk = sk.fit_transform(X, W=W0.copy(), H=H1)
    cos = np.sum(ours.W * W_sk, axis=0) / np.linalg.norm(W_sk, axis=0)  # ours: unit columns
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)
