"""NMF initialisations against scikit-learn's ``_initialize_nmf``."""

import numpy as np
import pytest
from sklearn.decomposition._nmf import _initialize_nmf

from desurv.decomposition._init import initialize_nmf


def _X(dtype=np.float64):
    rng = np.random.default_rng(0)
    X = rng.gamma(1.0, 1.0, size=(40, 25)) @ np.diag(rng.uniform(0.5, 2, 25))
    X[X < 0.2] = 0.0
    return X.astype(dtype)


@pytest.mark.parametrize("init", ["nndsvd", "nndsvda"])
@pytest.mark.parametrize("k", [1, 5, 25])
def test_nndsvd_matches_sklearn(init, k):
    X = _X()
    W, H = initialize_nmf(X, k, init, random_state=0)
    Ws, Hs = _initialize_nmf(X, k, init=init, random_state=0)
    np.testing.assert_allclose(W, Ws, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(H, Hs, rtol=1e-10, atol=1e-10)
    assert W.shape == (40, k) and H.shape == (k, 25)


def test_nndsvd_zeros_and_fills():
    X = _X()
    W, H = initialize_nmf(X, 6, "nndsvd", random_state=0)
    assert (W == 0).any() and np.all(W >= 0) and np.all(H >= 0)
    Wa, Ha = initialize_nmf(X, 6, "nndsvda", random_state=0)
    np.testing.assert_allclose(Wa[W == 0], X.mean())
    Wr, Hr = initialize_nmf(X, 6, "nndsvdar", random_state=0)
    np.testing.assert_array_equal(Wr[W > 0], W[W > 0])
    assert np.all(Wr[W == 0] > 0) and np.all(Wr[W == 0] < X.mean())


def test_random_scaling_and_dtype():
    X = _X(np.float32)
    W, H = initialize_nmf(X, 4, "random", random_state=1)
    assert W.dtype == H.dtype == np.float32
    assert np.all(W >= 0) and np.all(H >= 0)
    # |N(0,1)|·sqrt(mean/k): E = sqrt(2/π)·sqrt(mean/k)
    expected = np.sqrt(2 / np.pi) * np.sqrt(X.mean() / 4)
    assert abs(H.mean() / expected - 1) < 0.15
    W2, H2 = initialize_nmf(X, 4, "random", random_state=1)
    np.testing.assert_array_equal(W, W2)


def test_none_rule_and_errors():
    X = _X()
    W, _ = initialize_nmf(X, 5, None, random_state=0)
    Wa, _ = initialize_nmf(X, 5, "nndsvda", random_state=0)
    np.testing.assert_array_equal(W, Wa)
    W, H = initialize_nmf(X, 30, None, random_state=0)  # k > min(n, p): random
    assert H.shape == (30, 25)
    with pytest.raises(ValueError, match="n_components <= min"):
        initialize_nmf(X, 30, "nndsvd")
    with pytest.raises(ValueError, match="not supported"):
        initialize_nmf(X, 3, "svd")
    with pytest.raises(ValueError, match="W=..., H=..."):
        initialize_nmf(X, 3, "custom")
