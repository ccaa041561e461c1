"""Compiled NMF kernels against their NumPy references (desurv._reference.nmf)."""

import numpy as np
import pytest

from desurv._kernels import _nmf
from desurv._reference import nmf as ref

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
    Z = X.T @ W
    H_ref, HHt_ref = ref.update_h(H, Z, W.T @ W, ridge, EPS)
    H_c = H.copy()
    HHt = _nmf.update_h(H_c, Z, W.T @ W, ridge, EPS)
    np.testing.assert_allclose(H_c, H_ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(HHt, HHt_ref, rtol=1e-12)
    assert H_c.min() >= EPS


def test_update_h_floors_at_eps():
    H = np.full((2, 3), 1.0)
    Z = np.zeros((3, 2))  # zero numerator would give 0: the floor keeps ε
    _nmf.update_h(H, Z, np.eye(2), 0.0, EPS)
    assert np.all(H == EPS)


def _t(A):
    """The solver's transposed W layout (k, p), C-ordered."""
    return np.ascontiguousarray(A.T)


@pytest.mark.parametrize("by_numerator", [False, True])
@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.99])
def test_w_direction_matches_reference(k, alpha, by_numerator):
    rng = np.random.default_rng(10 + k)
    X, W, H = _rand(rng, 41, 20, k)
    g = rng.normal(size=20)
    beta = rng.normal(size=k)
    XM = _t(X @ np.column_stack([H.T, g]))
    HHt = H @ H.T
    c = (1 - alpha) / (41 * 20)
    V_ref, gn_ref, gc_ref, WV_ref, VV_ref = ref.w_direction(
        _t(W), XM, beta, HHt, c, 0.3, alpha, 1e6, EPS, by_numerator
    )
    V, WV, VV = np.empty((k, 41)), np.empty((k, k)), np.empty((k, k))
    gn, gc = _nmf.w_direction(
        _t(W), XM, beta, HHt, c, 0.3, alpha, 1e6, EPS, V, WV, VV, by_numerator
    )
    # the Cox push can cancel the NMF numerator: rounding is relative to the largest entry
    np.testing.assert_allclose(V, V_ref, rtol=1e-12, atol=1e-12 * np.abs(V_ref).max())
    np.testing.assert_allclose(WV, WV_ref, rtol=1e-12)
    np.testing.assert_allclose(VV, VV_ref, rtol=1e-12)
    assert gn == pytest.approx(gn_ref, rel=1e-12)
    assert gc == pytest.approx(gc_ref, rel=1e-12)


def test_w_direction_is_the_plain_multiplicative_update_at_alpha_zero():
    """α = 0 without ridge: V = W ⊙ XHᵀ / (W HHᵀ), Lee and Seung's update."""
    rng = np.random.default_rng(4)
    X, W, H = _rand(rng, 25, 15, 3)
    XM = _t(X @ np.column_stack([H.T, rng.normal(size=15)]))
    V, G = np.empty((3, 25)), np.empty((3, 3))
    _nmf.w_direction(_t(W), XM, np.ones(3), H @ H.T, 1.0, 0.0, 0.0, 1e6, 0.0, V, G, G.copy(), False)
    np.testing.assert_allclose(V.T, W * (X @ H.T) / (W @ H @ H.T), rtol=1e-12)


def test_numerator_balance_keeps_the_survival_push_at_an_nmf_fixed_point():
    """At a fixed point of the NMF update (W HHᵀ = XHᵀ) the authors' balancing scales the
    survival push by ‖G_nmf‖ = 0, so V = W; scaling by the NMF numerator moves W."""
    rng = np.random.default_rng(5)
    W = rng.uniform(0.5, 1.0, size=(30, 2))
    H = rng.uniform(0.5, 1.0, size=(2, 12))
    X = W @ H  # exact factorisation: (W, H) is a stationary point of plain NMF
    g = rng.normal(size=12)
    XM = _t(X @ np.column_stack([H.T, g]))
    beta = np.array([1.0, -0.5])
    c = 0.5 / (30 * 12)
    V, G = np.empty((2, 30)), np.empty((2, 2))
    gn, _ = _nmf.w_direction(_t(W), XM, beta, H @ H.T, c, 0.0, 0.5, 1e6, 0.0, V, G, G.copy(), False)
    assert gn < 1e-12
    np.testing.assert_allclose(V, _t(W), rtol=1e-9)  # the push vanished: W stays
    _nmf.w_direction(_t(W), XM, beta, H @ H.T, c, 0.0, 0.5, 1e6, 0.0, V, G, G.copy(), True)
    assert np.abs(V - _t(W)).max() > 1e-3 * np.abs(W).max()  # the push is there


def test_w_direction_clamp_and_zero_beta():
    rng = np.random.default_rng(3)
    X, W, H = _rand(rng, 10, 8, 2)
    g = rng.normal(size=8) * 1e-20  # tiny Cox gradient: the ratio hits the clamp
    XM = _t(X @ np.column_stack([H.T, g]))
    for beta in (np.zeros(2), np.ones(2)):
        V_ref, *_ = ref.w_direction(_t(W), XM, beta, H @ H.T, 0.01, 0.0, 0.5, 1e6, EPS)
        V, G = np.empty((2, 10)), np.empty((2, 2))
        _nmf.w_direction(_t(W), XM, beta, H @ H.T, 0.01, 0.0, 0.5, 1e6, EPS, V, G, G.copy(), False)
        np.testing.assert_allclose(V, V_ref, rtol=1e-12)
        assert np.all(np.isfinite(V))


@pytest.mark.parametrize("theta", [1.0, 0.5, 0.5**10])
@pytest.mark.parametrize("k", [1, 4])
def test_w_trial_matches_reference(theta, k):
    rng = np.random.default_rng(20 + k)
    _, W, _ = _rand(rng, 50, 5, k, zero_frac=0.3)
    Wk = _t(W)
    V = Wk * rng.uniform(0, 3, size=Wk.shape)
    V[:, 0] = 0.0  # entries driven to the floor
    Wt_ref, norms_ref, G_ref = ref.w_trial(Wk, V, theta, EPS)
    Wt, norms, G = np.empty_like(Wk), np.empty(k), np.empty((k, k))
    _nmf.w_trial(Wk, V, theta, EPS, Wt, norms, G)
    np.testing.assert_allclose(Wt, Wt_ref, rtol=1e-14)
    np.testing.assert_allclose(norms, norms_ref, rtol=1e-13)
    np.testing.assert_allclose(G, G_ref, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("trial_sd", [True, False])
@pytest.mark.parametrize("theta", [1.0, 0.5, 0.5**7])
def test_trial_terms_match_reference(k, trial_sd, theta):
    rng = np.random.default_rng(30 + k)
    X, W, H = _rand(rng, 35, 40, k)
    V = W * rng.uniform(0, 3, size=W.shape)
    Z, B = X.T @ W, X.T @ V
    beta = rng.normal(size=k)
    sd = rng.uniform(0.5, 2, size=k)
    Zt_r, eta_r, sd_r, t_r, terms_r = ref.trial_terms(
        Z, B, theta, H, beta, _t(W), _t(V), H @ H.T, 0.3, sd, trial_sd
    )
    Zt, eta, sd_t, t = np.empty_like(Z), np.empty(40), np.empty(k), np.empty(k)
    terms = _nmf.trial_terms(
        Z, B, theta, H, beta, W.T @ W, W.T @ V, V.T @ V, H @ H.T, np.sum(H**2, axis=1), 0.3,
        sd, trial_sd, Zt, eta, sd_t, t,
    )  # fmt: skip
    np.testing.assert_allclose(Zt, Zt_r, rtol=1e-14)
    np.testing.assert_allclose(eta, eta_r, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sd_t, sd_r, rtol=1e-12)
    np.testing.assert_allclose(t, t_r, rtol=1e-12)
    np.testing.assert_allclose(terms, terms_r, rtol=1e-11)
    # the projections are XᵀW(θ) computed directly (linearity)
    np.testing.assert_allclose(Zt, X.T @ ((1 - theta) * W + theta * V), rtol=1e-12)


def test_col_sd_and_cross_term_match_reference():
    rng = np.random.default_rng(8)
    Z, H = rng.normal(size=(40, 3)), rng.uniform(size=(3, 40))
    sd = np.empty(3)
    _nmf.col_sd(Z, sd)
    np.testing.assert_allclose(sd, ref.col_sd(Z), rtol=1e-12)
    assert _nmf.cross_term(Z, H) == pytest.approx(ref.cross_term(Z, H), rel=1e-12)


def test_col_sd_of_constant_and_single_sample():
    sd = np.empty(2)
    _nmf.col_sd(np.full((5, 2), 3.0), sd)
    assert np.all(sd == 0.0)
    _nmf.col_sd(np.ones((1, 2)), sd)  # ddof = 1 with one sample: reported as 0
    assert np.all(sd == 0.0)


def test_standardize_matches_reference_with_a_constant_column():
    rng = np.random.default_rng(9)
    Z = rng.normal(size=(30, 4))
    Z[:, 2] = 1.5  # constant projections: sd 0, standardised column left at 0
    Zs, mean, sd = np.empty((30, 4), order="F"), np.empty(4), np.empty(4)
    assert _nmf.standardize(Z, Zs, mean, sd) == 1
    Zs_r, mean_r, sd_r = ref.standardize(Z)
    np.testing.assert_allclose(Zs, Zs_r, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mean, mean_r, rtol=1e-12)
    np.testing.assert_allclose(sd, sd_r, rtol=1e-12, atol=1e-15)


def test_base_terms_match_reference():
    rng = np.random.default_rng(11)
    X, W, H = _rand(rng, 30, 20, 3)
    h_row_sq = np.empty(3)
    terms = _nmf.base_terms(X.T @ W, H, W.T @ W, H @ H.T, h_row_sq)
    np.testing.assert_allclose(terms, ref.base_terms(X.T @ W, H, W.T @ W, H @ H.T), rtol=1e-12)
    np.testing.assert_allclose(h_row_sq, np.sum(H**2, axis=1), rtol=1e-12)
    # with them, F's data term is ‖X − WH‖² without forming X − WH
    cross, gram = terms[0], terms[1]
    assert np.sum(X**2) - 2 * cross + gram == pytest.approx(np.sum((X - W @ H) ** 2), rel=1e-10)
