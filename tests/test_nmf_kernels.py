"""Compiled NMF kernels against their NumPy references (desurv._ref_nmf)."""

import numpy as np
import pytest

from desurv import _ref_nmf as ref
from desurv._kernels import _nmf

EPS = 1e-12


def _rand(rng, p, n, k, zero_frac=0.0):
    W = rng.uniform(0, 1, size=(p, k))
    H = rng.uniform(0, 2, size=(k, n))
    if zero_frac:
        W[rng.uniform(size=W.shape) < zero_frac] = EPS
        H[rng.uniform(size=H.shape) < zero_frac] = EPS
    X = rng.uniform(0, 3, size=(p, n))
    return X, W, H


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("zero_frac", [0.0, 0.4])
@pytest.mark.parametrize("ridge", [0.0, 0.7])
def test_update_h_matches_reference(k, zero_frac, ridge):
    rng = np.random.default_rng(k)
    X, W, H = _rand(rng, 30, 25, k, zero_frac)
    A = W.T @ X
    H_ref, HHt_ref = ref.update_h(H, A, W.T @ W, ridge, EPS)
    H_c = H.copy()
    HHt = _nmf.update_h(H_c, A, W.T @ W, ridge, EPS)
    np.testing.assert_allclose(H_c, H_ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(HHt, HHt_ref, rtol=1e-12)
    assert H_c.min() >= EPS


def test_update_h_floors_at_eps():
    H = np.full((2, 3), 1.0)
    A = np.zeros((2, 3))  # zero numerator would give 0: the floor keeps ε
    _nmf.update_h(H, A, np.eye(2), 0.0, EPS)
    assert np.all(H == EPS)


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.99])
def test_w_ratio_matches_reference(k, alpha):
    rng = np.random.default_rng(10 + k)
    X, W, H = _rand(rng, 40, 20, k)
    g = rng.normal(size=20)
    beta = rng.normal(size=k)
    XHt, Xg, HHt = X @ H.T, X @ g, H @ H.T
    c = (1 - alpha) / (40 * 20)
    R_ref, gn_ref, gc_ref = ref.w_ratio(W, XHt, Xg, beta, HHt, c, 0.3, alpha, 1e6, EPS)
    R = np.empty_like(W)
    gn, gc = _nmf.w_ratio(W, XHt, Xg, beta, HHt, c, 0.3, alpha, 1e6, EPS, R)
    np.testing.assert_allclose(R, R_ref, rtol=1e-12)
    assert gn == pytest.approx(gn_ref, rel=1e-12)
    assert gc == pytest.approx(gc_ref, rel=1e-12)


def test_w_ratio_clamp_and_zero_beta():
    rng = np.random.default_rng(3)
    X, W, H = _rand(rng, 10, 8, 2)
    g = rng.normal(size=8) * 1e-20  # tiny Cox gradient: the ratio hits the clamp
    for beta in (np.zeros(2), np.ones(2)):
        R_ref, *_ = ref.w_ratio(W, X @ H.T, X @ g, beta, H @ H.T, 0.01, 0.0, 0.5, 1e6, EPS)
        R = np.empty_like(W)
        _nmf.w_ratio(W, X @ H.T, X @ g, beta, H @ H.T, 0.01, 0.0, 0.5, 1e6, EPS, R)
        np.testing.assert_allclose(R, R_ref, rtol=1e-12)
        assert np.all(np.isfinite(R))


@pytest.mark.parametrize("theta", [1.0, 0.5, 0.5**10])
@pytest.mark.parametrize("k", [1, 4])
def test_w_trial_matches_reference(theta, k):
    rng = np.random.default_rng(20 + k)
    _, W, _ = _rand(rng, 50, 5, k, zero_frac=0.3)
    R = rng.uniform(0, 3, size=W.shape)
    R[0] = 0.0  # entries driven to the floor
    Wt_ref, norms_ref, G_ref = ref.w_trial(W, R, theta, EPS)
    Wt, norms, G = np.empty_like(W), np.empty(k), np.empty((k, k))
    _nmf.w_trial(W, R, theta, EPS, Wt, norms, G)
    np.testing.assert_allclose(Wt, Wt_ref, rtol=1e-14)
    np.testing.assert_allclose(norms, norms_ref, rtol=1e-13)
    np.testing.assert_allclose(G, G_ref, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 3])
def test_trial_projection_and_row_sd(k):
    rng = np.random.default_rng(30 + k)
    A = rng.normal(size=(k, 40))
    B = rng.normal(size=(k, 40))
    H = rng.uniform(size=(k, 40))
    beta = rng.normal(size=k)
    Zt_ref, eta_ref, cross_ref = ref.trial_projection(A, B, 0.25, H, beta)
    Zt, eta = np.empty_like(A), np.empty(40)
    cross = _nmf.trial_projection(A, B, 0.25, H, beta, Zt, eta)
    np.testing.assert_allclose(Zt, Zt_ref, rtol=1e-14)
    np.testing.assert_allclose(eta, eta_ref, rtol=1e-12, atol=1e-14)
    assert cross == pytest.approx(cross_ref, rel=1e-12)
    sd = np.empty(k)
    _nmf.row_sd(Zt, sd)
    np.testing.assert_allclose(sd, ref.row_sd(Zt), rtol=1e-12)


def test_trial_projection_is_the_product_with_x():
    """Linearity: the projections of the trial W equal W(θ)ᵀX computed directly."""
    rng = np.random.default_rng(5)
    X, W, H = _rand(rng, 30, 20, 3)
    R = rng.uniform(0.5, 2, size=W.shape)
    A, B = W.T @ X, (W * R).T @ X
    Zt, eta = np.empty_like(A), np.empty(20)
    _nmf.trial_projection(A, B, 0.3, H, np.ones(3), Zt, eta)
    Wt = W * (0.7 + 0.3 * R)
    np.testing.assert_allclose(Zt, Wt.T @ X, rtol=1e-12)
