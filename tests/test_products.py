"""Compiled products with X (desurv._kernels._products) against their NumPy twins."""

import numpy as np
import pytest

from desurv._kernels import _products
from desurv._reference import products as ref


@pytest.mark.parametrize("p", [1, 3, 4, 9, 257])
@pytest.mark.parametrize("n", [1, 2, 33])
@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_match_reference(p, n, k, dtype):
    rng = np.random.default_rng(p * 100 + n + k)
    X = rng.uniform(0, 5, size=(p, n)).astype(dtype)
    V = rng.uniform(size=(k, p))  # the solver's transposed W layout
    Mt = rng.normal(size=(k + 1, n))
    out = _products.xt_dot(X, V, np.empty((n, k)))
    np.testing.assert_allclose(out, ref.xt_dot(X, V), rtol=1e-12, atol=1e-12)
    out = _products.x_dot(X, Mt, np.empty((k + 1, p)))
    scale = np.abs(Mt) @ np.abs(X).astype(np.float64).T  # bound of the rounding error
    assert np.all(np.abs(out - ref.x_dot(X, Mt)) <= 1e-13 * scale + 1e-300)


def test_float32_storage_accumulates_in_float64():
    """Sums of many float32 values are exact to float64 rounding, not float32 rounding."""
    p, n = 100_000, 3
    X = np.full((p, n), 0.1, dtype=np.float32)
    V = np.ones((1, p))
    out = _products.xt_dot(X, V, np.empty((n, 1)))
    exact = p * float(np.float32(0.1))
    np.testing.assert_allclose(out, exact, rtol=1e-12)  # float32 sums would be off by ~1e-4


def test_products_overwrite_output_and_are_deterministic():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(50, 20))
    V = rng.uniform(size=(3, 50))
    a = _products.xt_dot(X, V, np.full((20, 3), np.nan))
    b = _products.xt_dot(X, V, np.empty((20, 3)))
    assert np.array_equal(a, b)
    c = _products.x_dot(X, np.ascontiguousarray(a.T[:2]), np.full((2, 50), np.nan))
    assert np.all(np.isfinite(c))
