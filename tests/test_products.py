"""Compiled products with X (desurv._kernels._products) against their NumPy twins."""

import numpy as np
import pytest

from desurv._kernels import _nmf, _products
from desurv._reference import products as ref


def _bound(A, B):
    """|A|·|B| (elementwise bound of the rounding error of the product A·B)."""
    return np.abs(A).astype(np.float64) @ np.abs(B).astype(np.float64)


@pytest.mark.parametrize("p", [1, 3, 4, 9, 13, 257])
@pytest.mark.parametrize("n", [1, 2, 33])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 7, 12])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_match_reference(p, n, k, dtype):
    """Every register-block width (k + 1 rows of Mt: 6-, 5-, 4-, 3-, 2-, 1-row sweeps; k
    factors: 5-, 4-, 3-, 2-, 1-factor sweeps) and row remainder (p mod 3, p mod 4)."""
    rng = np.random.default_rng(p * 100 + n + k)
    X = rng.uniform(0, 5, size=(p, n)).astype(dtype)
    V = rng.uniform(size=(k, p))  # the solver's transposed W layout
    Mt = rng.normal(size=(k + 1, n))
    out = _products.xt_dot(X, V, np.empty((n, k)))
    np.testing.assert_allclose(out, ref.xt_dot(X, V), rtol=1e-12, atol=1e-12)
    out = _products.x_dot(X, Mt, np.empty((k + 1, p)))
    scale = _bound(Mt, X.T)  # bound of the rounding error
    assert np.all(np.abs(out - ref.x_dot(X, Mt)) <= 1e-13 * scale + 1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_matrix_and_zero_operands_give_zeros(dtype):
    X = np.zeros((14, 9), dtype=dtype)
    rng = np.random.default_rng(0)
    assert np.all(_products.x_dot(X, rng.normal(size=(6, 9)), np.full((6, 14), np.nan)) == 0)
    assert np.all(_products.xt_dot(X, rng.uniform(size=(5, 14)), np.full((9, 5), np.nan)) == 0)
    X = rng.uniform(size=(14, 9)).astype(dtype)
    assert np.all(_products.x_dot(X, np.zeros((6, 9)), np.full((6, 14), np.nan)) == 0)
    assert np.all(_products.xt_dot(X, np.zeros((5, 14)), np.full((9, 5), np.nan)) == 0)


def test_float32_storage_accumulates_in_float64():
    """Sums of many float32 values are exact to float64 rounding, not float32 rounding."""
    p, n = 100_000, 3
    X = np.full((p, n), 0.1, dtype=np.float32)
    V = np.ones((1, p))
    out = _products.xt_dot(X, V, np.empty((n, 1)))
    exact = p * float(np.float32(0.1))
    np.testing.assert_allclose(out, exact, rtol=1e-12)  # float32 sums would be off by ~1e-4
    Xt = np.ascontiguousarray(X.T)  # x_dot sums along the rows of X
    out = _products.x_dot(Xt, np.ones((6, p)), np.empty((6, n)))
    np.testing.assert_allclose(out, exact, rtol=1e-12)


def test_products_overwrite_output_and_are_deterministic():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(50, 20))
    V = rng.uniform(size=(3, 50))
    a = _products.xt_dot(X, V, np.full((20, 3), np.nan))
    b = _products.xt_dot(X, V, np.empty((20, 3)))
    assert np.array_equal(a, b)
    c = _products.x_dot(X, np.ascontiguousarray(a.T[:2]), np.full((2, 50), np.nan))
    assert np.all(np.isfinite(c))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("i0", "i1"), [(0, 0), (0, 7), (5, 31), (12, 40), (39, 40)])
def test_row_range_kernels_touch_only_their_rows(dtype, i0, i1):
    rng = np.random.default_rng(i0 + 7 * i1)
    p, n, k = 40, 17, 5
    X = rng.uniform(size=(p, n)).astype(dtype)
    Mt = rng.normal(size=(k + 1, n))
    V = rng.uniform(size=(k, p))
    out = np.full((k + 1, p), -7.0)
    _products.x_dot_rows(X, Mt, out, i0, i1)
    want = ref.x_dot_rows(X, Mt, np.full((k + 1, p), -7.0), i0, i1)
    np.testing.assert_allclose(out, want, rtol=1e-13, atol=1e-13)
    acc0 = rng.normal(size=(k, n))
    acc = _products.xt_acc_rows(X, V, acc0.copy(), i0, i1)
    np.testing.assert_allclose(acc, ref.xt_acc_rows(X, V, acc0.copy(), i0, i1), rtol=1e-12,
                               atol=1e-12)  # fmt: skip
    # row ranges add up to the whole product
    whole = _products.xt_acc_rows(X, V, np.zeros((k, n)), 0, i0)
    whole = _products.xt_acc_rows(X, V, whole, i0, i1)
    whole = _products.xt_acc_rows(X, V, whole, i1, p)
    np.testing.assert_allclose(whole.T, ref.xt_dot(X, V), rtol=1e-12)


def _w_step_inputs(p, n, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, size=(p, n)).astype(dtype)
    H = rng.uniform(0.1, 1.0, size=(k, n))
    W = rng.uniform(0.1, 1.0, size=(k, p))
    return X, H, W, H @ H.T


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("p", "n", "k"), [(1, 1, 1), (11, 3, 1), (12, 5, 2), (37, 8, 5),
                                           (100, 21, 7), (250, 40, 16)])  # fmt: skip
@pytest.mark.parametrize("ridge_w", [0.0, 0.3])
def test_w_step_matches_reference(dtype, p, n, k, ridge_w):
    X, H, W, HHt = _w_step_inputs(p, n, k, dtype, seed=p + n + k)
    c = 1.0 / (n * p)
    V, WV, VV, B = np.empty((k, p)), np.empty((k, k)), np.empty((k, k)), np.empty((n, k))
    gn = _products.w_step(X, H, W, HHt, c, ridge_w, 1e-12, V, WV, VV, B)
    V_r, WV_r, VV_r, B_r, gn_r = ref.w_step(X, H, W, HHt, c, ridge_w, 1e-12)
    np.testing.assert_allclose(V, V_r, rtol=1e-12)
    np.testing.assert_allclose(WV, WV_r, rtol=1e-12)
    np.testing.assert_allclose(VV, VV_r, rtol=1e-12)
    np.testing.assert_allclose(B, B_r, rtol=1e-12)
    np.testing.assert_allclose(gn, gn_r, rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_w_step_equals_the_separate_alpha0_kernels(dtype):
    """One pass = x_dot of [H; g] + _nmf.w_direction at α = 0 + xt_dot of V (what the solver
    does in three calls)."""
    p, n, k = 203, 31, 5
    X, H, W, HHt = _w_step_inputs(p, n, k, dtype, seed=4)
    c = 1.0 / (n * p)
    HG = np.vstack([H, np.random.default_rng(1).normal(size=(1, n))])
    XM = _products.x_dot(X, HG, np.empty((k + 1, p)))
    V1, WV1, VV1 = np.empty((k, p)), np.empty((k, k)), np.empty((k, k))
    gn1, _ = _nmf.w_direction(W, XM, np.ones(k), HHt, c, 0.2, 0.0, 1e6, 1e-12, V1, WV1, VV1,
                              False)  # fmt: skip
    B1 = _products.xt_dot(X, V1, np.empty((n, k)))
    V2, WV2, VV2, B2 = np.empty((k, p)), np.empty((k, k)), np.empty((k, k)), np.empty((n, k))
    gn2 = _products.w_step(X, H, W, HHt, c, 0.2, 1e-12, V2, WV2, VV2, B2)
    np.testing.assert_allclose(V2, V1, rtol=1e-13)
    np.testing.assert_allclose(B2, B1, rtol=1e-13)
    np.testing.assert_allclose(WV2, WV1, rtol=1e-13)
    np.testing.assert_allclose(VV2, VV1, rtol=1e-13)
    np.testing.assert_allclose(gn2, gn1, rtol=1e-12)


def test_w_step_zero_rows_of_x():
    """Genes with no expression: numerator 0, so V = 0 there (W ⊙ 0 / (D + eps))."""
    X, H, W, HHt = _w_step_inputs(30, 9, 3, np.float64)
    X[4:17] = 0.0
    V, WV, VV, B = np.empty((3, 30)), np.empty((3, 3)), np.empty((3, 3)), np.empty((9, 3))
    _products.w_step(X, H, W, HHt, 1.0 / 270, 0.0, 1e-12, V, WV, VV, B)
    assert np.all(V[:, 4:17] == 0.0)
    np.testing.assert_allclose(B, X.T @ V.T, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 4, 5, 6, 7, 11, 16])
@pytest.mark.parametrize(("i0", "i1"), [(0, 53), (5, 31), (12, 40), (7, 8), (0, 2)])
def test_row_range_kernels_every_width(dtype, k, i0, i1):
    """Up to 6 rows of Mt (k ≤ 5 factors for xt) one sweep over the whole range in a single
    call; more: sweeps per block of rows. Ranges not starting or ending on a block."""
    rng = np.random.default_rng(100 * k + i0 + i1)
    p, n = 53, 29
    X = rng.uniform(size=(p, n)).astype(dtype)
    for m in (k, k + 1):
        Mt = rng.normal(size=(m, n))
        out = _products.x_dot_rows(X, Mt, np.full((m, p), -7.0), i0, i1)
        want = ref.x_dot_rows(X, Mt, np.full((m, p), -7.0), i0, i1)
        np.testing.assert_allclose(out, want, rtol=1e-13, atol=1e-13)
    V = rng.uniform(size=(k, p))
    acc0 = rng.normal(size=(k, n))
    acc = _products.xt_acc_rows(X, V, acc0.copy(), i0, i1)
    want = ref.xt_acc_rows(X, V, acc0.copy(), i0, i1)
    np.testing.assert_allclose(acc, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 5, 6, 12])
def test_w_step_rows_ranges_add_up_to_w_step(dtype, k):
    """The Gram pieces are summed once per row range (after the row loop): ranges that are
    not multiples of the 12-row block still add up to the whole step."""
    p, n = 100, 23
    X, H, W, HHt = _w_step_inputs(p, n, k, dtype, seed=k)
    c = 1.0 / (n * p)
    V, WV, VV, B = np.empty((k, p)), np.empty((k, k)), np.empty((k, k)), np.empty((n, k))
    gn = _products.w_step(X, H, W, HHt, c, 0.1, 1e-12, V, WV, VV, B)
    V2, WV2, VV2, acc = (
        np.full((k, p), np.nan),
        np.zeros((k, k)),
        np.zeros((k, k)),
        np.zeros((k, n)),
    )
    gn2 = 0.0
    for i0, i1 in [(0, 13), (13, 48), (48, 49), (49, 100)]:
        gn2 += _products.w_step_rows(X, H, W, HHt, c, 0.1, 1e-12, V2, WV2, VV2, acc, i0, i1)
    np.testing.assert_allclose(V2, V, rtol=1e-13)
    np.testing.assert_allclose(WV2, WV, rtol=1e-12)
    np.testing.assert_allclose(VV2, VV, rtol=1e-12)
    np.testing.assert_allclose(acc.T, B, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(gn2), gn, rtol=1e-12)
