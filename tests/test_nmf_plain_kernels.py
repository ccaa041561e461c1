"""Compiled plain-NMF kernels against their NumPy twins (random, zeros, k = 1, float32)."""

import numpy as np
import pytest

from desurv._kernels import _nmf_cd, _nmf_mu, _nnls
from desurv._reference import nmf_cd as ref_cd
from desurv._reference import nmf_mu as ref_mu
from desurv._reference import nnls as ref_nnls

EPS = float(np.finfo(np.float32).eps)
CASES = [
    (np.float64, 3, "random"),
    (np.float64, 1, "random"),
    (np.float64, 3, "zeros"),
    (np.float32, 4, "random"),
]


def _data(dtype, k, kind, n=23, p=17, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, size=(n, p))
    X[X < 0.4] = 0.0
    W = rng.uniform(0.1, 1.0, size=(n, k))
    Ht = rng.uniform(0.1, 1.0, size=(p, k))
    M = (rng.uniform(size=(n, p)) > 0.2).astype(float)
    if kind == "zeros":
        X[:5] = 0.0
        W[:3] = 0.0
        Ht[:, 0] = 0.0
    return [np.ascontiguousarray(a, dtype=dtype) for a in (X, W, Ht, M)]


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "dtype,k,kind", [*CASES, (np.float64, 2, "zeros"), (np.float64, 5, "random")]
)
@pytest.mark.parametrize("fused", [True, False])
def test_fro_step(dtype, k, kind, fused):
    # n = 23: five blocks of four rows and a remainder; k = 5: the three- and two-row sweeps of H
    X, W, Ht, _ = _data(dtype, k, kind)
    H = np.ascontiguousarray(Ht.T)
    reg = tuple(dtype(r) for r in (0.1, 0.05, 0.2, 0.3))
    out, fac = [], []
    for impl in (_nmf_mu.fro_step, ref_mu.fro_step):
        Wc, Hc = W.copy(), H.copy()
        H64 = H.astype(np.float64)
        work = [H64 @ H64.T, np.full((k, X.shape[1]), np.nan), np.empty((k, k)), np.empty_like(H64)]
        res = impl(X, Wc, Hc, work[0], reg, dtype(EPS), *work[1:], fused)
        out.append((res, work))
        fac.append((Wc, Hc))
    assert fac[0][0].dtype == fac[0][1].dtype == dtype
    for a, b in zip(fac[0], fac[1], strict=True):
        np.testing.assert_allclose(a, b, **_tol(dtype))
    np.testing.assert_allclose(out[0][0], out[1][0], **_tol(dtype))
    for a, b in zip(out[0][1], out[1][1], strict=True):  # HHt, WᵀX, WᵀW, WᵀW H_old
        np.testing.assert_allclose(a, b, **_tol(dtype))
    if kind == "zeros":
        assert np.all(fac[0][0][:3] == 0)  # zero rows stay zero (den == 0 -> eps)
        assert np.all(fac[0][1][0] == 0)


@pytest.mark.parametrize("dtype,k,kind", CASES)
@pytest.mark.parametrize("bcast", [True, False])
def test_div_factor(dtype, k, kind, bcast):
    X, W, Ht, _ = _data(dtype, k, kind)
    num = X @ Ht
    den = Ht.sum(axis=0)[None, :] if bcast else (X + 1) @ Ht
    if kind == "zeros":
        den = den.copy()
        den[..., 0] = 0.0  # den == 0 -> eps
    W1, W2 = W.copy(), W.copy()
    a = (num, den, dtype(0.0), dtype(0.3), dtype(EPS), dtype(1e-3))
    s = _nmf_mu.div_factor(W1, *a)
    r = ref_mu.div_factor(W2, *a)
    np.testing.assert_allclose(W1, W2, **_tol(dtype))
    np.testing.assert_allclose(s, r, **_tol(dtype))
    assert np.all((W1 == 0) | (W1 >= 1e-3))


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_kl_ratio(dtype, k, kind):
    X, W, Ht, _ = _data(dtype, k, kind)
    B1 = W @ Ht.T
    B1[0, :3] = 0.0  # WH below eps is floored
    B2 = B1.copy()
    out1 = _nmf_mu.kl_ratio(X, B1, dtype(EPS), True)
    out2 = ref_mu.kl_ratio(X, B2, dtype(EPS), True)
    np.testing.assert_allclose(B1, B2, **_tol(dtype))
    np.testing.assert_allclose(out1, out2, **_tol(dtype))
    assert np.all(np.isfinite(B1))
    assert _nmf_mu.kl_ratio(X, W @ Ht.T, dtype(EPS), False) == (0.0, 0.0)


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_masked_passes(dtype, k, kind):
    X, W, Ht, M = _data(dtype, k, kind)
    WH = W @ Ht.T
    B1, B2 = WH.copy(), WH.copy()
    l1 = _nmf_mu.masked_fro_pass(X, M, B1)
    l2 = ref_mu.masked_fro_pass(X, M, B2)
    np.testing.assert_allclose(B1, B2, **_tol(dtype))
    np.testing.assert_allclose(l1, l2, **_tol(dtype))
    B1, B2 = WH.copy(), WH.copy()
    l1 = _nmf_mu.masked_kl_pass(X, M, B1, dtype(EPS), True)
    l2 = ref_mu.masked_kl_pass(X, M, B2, dtype(EPS), True)
    np.testing.assert_allclose(B1, B2, **_tol(dtype))
    np.testing.assert_allclose(l1, l2, **_tol(dtype))
    B3 = WH.copy()
    assert _nmf_mu.masked_kl_pass(X, M, B3, dtype(EPS), False) == 0.0  # no logs
    np.testing.assert_array_equal(B3, B1)
    # with M = 1 the weighted passes reduce to the plain objective
    ones = np.ones_like(X)
    B = WH.copy()
    full = _nmf_mu.masked_fro_pass(X, ones, B)
    np.testing.assert_allclose(full, np.sum((X.astype(float) - WH) ** 2), **_tol(dtype))


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_hals(dtype, k, kind):
    X, W, Ht, _ = _data(dtype, k, kind)
    num = X @ Ht
    G = Ht.T @ Ht
    W1, W2 = W.copy(), W.copy()
    a = (num, G, dtype(0.05), dtype(0.1))
    v1 = _nmf_cd.hals_sweep(W1, *a)
    v2 = ref_cd.hals_sweep(W2, *a)
    np.testing.assert_allclose(W1, W2, **_tol(dtype))
    np.testing.assert_allclose(v1, v2, **_tol(dtype))
    W1, W2 = W.copy(), W.copy()
    v1 = _nmf_cd.hals_update(W1, *a, 7, 0.1)
    v2 = ref_cd.hals_update(W2, *a, 7, 0.1)
    np.testing.assert_allclose(W1, W2, **_tol(dtype))
    assert v1[1] == v2[1] and 1 <= v1[1] <= 7
    assert np.all(W1 >= 0)


@pytest.mark.parametrize("k", [1, 4, 9])
def test_nnls_kernel_vs_reference(k):
    rng = np.random.default_rng(k)
    A = rng.normal(size=(30, k))
    B = rng.normal(size=(30, 40))
    B[:, 0] = 0.0
    G, C = A.T @ A, A.T @ B
    X1, bad1 = _nnls.nnls_gram(G, np.ascontiguousarray(C), 3 * k + 10)
    X2, bad2 = ref_nnls.nnls_gram(G, C, 3 * k + 10)
    assert bad1 == bad2 == 0
    np.testing.assert_allclose(X1, X2, rtol=1e-9, atol=1e-10)
    assert np.all(X1[:, 0] == 0)


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_kl_fused_passes(dtype, k, kind):
    X, W, Ht, _ = _data(dtype, k, kind)
    H = np.ascontiguousarray(Ht.T)
    num1 = np.empty_like(W)
    num2 = np.empty_like(W)
    L1, L2 = np.empty_like(X), np.empty_like(X)
    _nmf_mu.kl_w_pass(X, W, H, dtype(EPS), num1, L1)
    ref_mu.kl_w_pass(X, W, H, dtype(EPS), num2, L2)
    np.testing.assert_allclose(num1, num2, **_tol(dtype))
    np.testing.assert_allclose(L1, L2, **_tol(dtype))
    assert np.all(L1[X <= EPS] == 1.0)
    _nmf_mu.kl_w_pass(X, W, H, dtype(EPS), num1, np.empty((0, 0), dtype=dtype))
    np.testing.assert_allclose(num1, num2, **_tol(dtype))
    numH1 = np.full_like(H, 7.0)  # overwritten
    numH2 = np.empty_like(H)
    _nmf_mu.kl_h_pass(X, W, H, dtype(EPS), numH1)
    ref_mu.kl_h_pass(X, W, H, dtype(EPS), numH2)
    np.testing.assert_allclose(numH1, numH2, **_tol(dtype))
    assert np.all(np.isfinite(numH1))


@pytest.mark.parametrize("dtype,k,kind", CASES)
@pytest.mark.parametrize("tol", [0.0, 1e-3])
@pytest.mark.parametrize("fused", [True, False])
def test_fro_loop(dtype, k, kind, tol, fused):
    X, W, Ht, _ = _data(dtype, k, kind)
    H = np.ascontiguousarray(Ht.T)
    reg = tuple(dtype(r) for r in (0.01, 0.02, 0.03, 0.0))
    x2 = float(np.sum(X.astype(float) ** 2))
    d0 = 0.5 * float(np.sum((X - W @ H).astype(float) ** 2))
    out = []
    for impl in (_nmf_mu.fro_loop, ref_mu.fro_loop):
        Wc, Hc = W.copy(), H.copy()
        hist = np.empty(41)
        hist[0] = d0
        n_it = impl(X, Wc, Hc, reg, dtype(EPS), x2, 40, tol, hist, fused)
        out.append((Wc, Hc, n_it, hist[1 : n_it + 1]))
    assert out[0][2] == out[1][2]
    for a, b in zip(out[0][:2] + out[0][3:], out[1][:2] + out[1][3:], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6)
    assert np.all(np.diff(out[0][3]) <= 1e-6 * out[0][3][0])


# k >= 8: the W numerator is formed as X_b Ht then transposed (another BLAS call)
@pytest.mark.parametrize(
    "dtype,k,kind", [*CASES, (np.float64, 9, "random"), (np.float32, 9, "zeros")]
)
@pytest.mark.parametrize("tol", [0.0, 1e-2])
@pytest.mark.parametrize("block", [100, 8, 1])  # one block; blocks of 8 rows + a remainder
def test_cd_loop(dtype, k, kind, tol, block):
    X, W, Ht, _ = _data(dtype, k, kind)
    reg = tuple(dtype(r) for r in (0.01, 0.0, 0.02, 0.03))
    x2 = float(np.sum(X.astype(float) ** 2))
    out = []
    for impl in (_nmf_cd.cd_loop, ref_cd.cd_loop):
        Wc, Hc = W.copy(), Ht.copy()
        hist = np.zeros(31)
        n_it = impl(X, Wc, Hc, reg, x2, 30, tol, (4, 3), 0.1, hist, block)
        out.append((Wc, Hc, n_it, hist[1 : n_it + 1]))
    assert out[0][2] == out[1][2]
    rtol = 1e-3 if dtype == np.float32 else 1e-9
    for a, b in zip(out[0][:2] + out[0][3:], out[1][:2] + out[1][3:], strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-5)
    assert np.all(np.diff(out[0][3]) <= 1e-5 * out[0][3][0])  # HALS is monotone


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_kl_ratio_fill(dtype, k, kind):
    X, W, Ht, _ = _data(dtype, k, kind)
    B1 = W @ Ht.T
    B1[0, :3] = 0.0  # WH below eps is floored
    B2 = B1.copy()
    L1, L2 = np.full_like(X, np.nan), np.full_like(X, np.nan)
    _nmf_mu.kl_ratio_fill(X, B1, dtype(EPS), L1)
    ref_mu.kl_ratio_fill(X, B2, dtype(EPS), L2)
    np.testing.assert_allclose(B1, B2, **_tol(dtype))
    np.testing.assert_allclose(L1, L2, **_tol(dtype))
    assert np.all(L1[X <= EPS] == 1.0) and np.all(np.isfinite(B1))
    B3 = W @ Ht.T
    B3[0, :3] = 0.0
    _nmf_mu.kl_ratio_fill(X, B3, dtype(EPS), np.empty((0, 0), dtype=dtype))
    np.testing.assert_array_equal(B3, B1)


@pytest.mark.parametrize("dtype,k,kind", CASES)
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("n_steps", [0, 1, 3])
def test_kl_steps(dtype, k, kind, fused, n_steps):
    X, W, Ht, _ = _data(dtype, k, kind)
    if kind == "zeros":
        W[:, -1] = 0.0  # a zero column of W: its sum is replaced by 1
    H = np.ascontiguousarray(Ht.T)
    n, p = X.shape
    reg = tuple(dtype(r) for r in (0.01, 0.02, 0.03, 0.05))
    out = []
    for impl in (_nmf_mu, ref_mu):
        Wc, Hc = W.copy(), H.copy()
        numW, numH = np.empty((n, k), dtype=dtype), np.empty((k, p), dtype=dtype)
        B = np.empty((0, 0) if fused else (n, p), dtype=dtype)
        L = np.full((n, p), np.nan, dtype=dtype)
        impl.kl_num_w(X, Wc, Hc, dtype(EPS), numW, L, B, fused)
        sums = impl.kl_steps(
            X, Wc, Hc, reg, dtype(EPS), dtype(1e-12), n_steps, fused, numW, numH, B, L
        )
        out.append((Wc, Hc, numW, L, np.asarray(sums)))
    for a, b in zip(out[0], out[1], strict=True):
        np.testing.assert_allclose(a, b, **_tol(dtype))
    Wc, Hc = out[0][:2]
    assert Wc.dtype == Hc.dtype == dtype and np.all(Wc >= 0) and np.all(Hc >= 0)
    if n_steps and kind == "zeros":
        assert np.all(Wc[:, -1] == 0) and np.all(Hc[0] == 0)


@pytest.mark.parametrize("dtype,k,kind", CASES)
def test_hals_transposed(dtype, k, kind):
    X, W, Ht, _ = _data(dtype, k, kind)
    num = np.ascontiguousarray((X @ Ht).T)
    G = Ht.T @ Ht
    if kind == "zeros":
        G[0, 0] = 0.0  # zero curvature: the coordinate is left unchanged
    Wt = np.ascontiguousarray(W.T)
    g = np.empty(W.shape[0], dtype=dtype)
    a = (num, G, dtype(0.05), dtype(0.0 if kind == "zeros" else 0.1))
    W1, W2, W3 = Wt.copy(), Wt.copy(), np.ascontiguousarray(W)
    v1 = _nmf_cd.hals_sweep_t(W1, *a, g)
    v2 = ref_cd.hals_sweep_t(W2, *a, g)
    v3 = _nmf_cd.hals_sweep(W3, np.ascontiguousarray(num.T), *a[1:])  # row-major sweep
    np.testing.assert_allclose(W1, W2, **_tol(dtype))
    np.testing.assert_allclose(v1, v2, **_tol(dtype))
    np.testing.assert_allclose(W1, W3.T, **_tol(dtype))
    np.testing.assert_allclose(v1, v3, **_tol(dtype))
    W1, W2 = Wt.copy(), Wt.copy()
    u1 = _nmf_cd.hals_update_t(W1, *a, 7, 0.1, g)
    u2 = ref_cd.hals_update_t(W2, *a, 7, 0.1, g)
    np.testing.assert_allclose(W1, W2, **_tol(dtype))
    assert u1[1] == u2[1] and 1 <= u1[1] <= 7
    np.testing.assert_allclose(u1[0], u2[0], **_tol(dtype))
    assert np.all(W1 >= 0)
    if kind == "zeros":
        np.testing.assert_array_equal(W1[0], Wt[0])
