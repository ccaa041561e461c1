"""desurv._threads: the compiled products with X split by rows over threads (issue 16, 7).

The threaded products must give the single-thread kernels' results (up to the order in
which the per-thread partial sums are added) for every split, float32 storage, k = 1 and
all-zero inputs, and be deterministic for a given number of threads.
"""

import numpy as np
import pytest

from desurv import _threads
from desurv._kernels import _products
from desurv._reference import products as ref


@pytest.fixture
def always_threaded(monkeypatch):
    """Split even tiny products (the size rule would keep them on one thread)."""
    monkeypatch.setattr(_threads, "MIN_THREADED_WORK", 0)


@pytest.mark.parametrize("p", [1, 5, 12, 25, 100, 301])
@pytest.mark.parametrize("n_blocks", [1, 2, 3, 7])
def test_row_blocks_cover_the_rows_in_order(p, n_blocks):
    b = _threads.row_blocks(p, n_blocks)
    assert len(b) == n_blocks + 1 and b[0] == 0 and b[-1] == p
    assert all(x <= y for x, y in zip(b, b[1:], strict=False))
    assert all(x % 12 == 0 for x in b[1:-1] if x < p)  # whole register blocks
    if p >= 12 * n_blocks:  # balanced to a block of 12 rows
        sizes = np.diff(b)
        assert sizes.max() - sizes.min() <= 12


@pytest.mark.usefixtures("always_threaded")
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("p", "n", "k"), [(1, 4, 1), (7, 3, 1), (40, 9, 5), (131, 17, 10)])
def test_threaded_products_match_reference(n_threads, dtype, p, n, k):
    rng = np.random.default_rng(p + n + k)
    X = rng.uniform(0, 3, size=(p, n)).astype(dtype)
    Mt = rng.normal(size=(k + 1, n))
    V = rng.uniform(size=(k, p))
    out = _threads.x_dot(X, Mt, np.full((k + 1, p), np.nan), n_threads)
    assert np.all(np.abs(out - ref.x_dot(X, Mt)) <= 1e-13 * (np.abs(Mt) @ X.T.astype(float)))
    out = _threads.xt_dot(X, V, np.full((n, k), np.nan), n_threads)
    np.testing.assert_allclose(out, ref.xt_dot(X, V), rtol=1e-12, atol=1e-300)


@pytest.mark.usefixtures("always_threaded")
@pytest.mark.parametrize("n_threads", [2, 3])
def test_threaded_products_of_zeros_are_zero(n_threads):
    X = np.zeros((50, 6))
    assert np.all(_threads.x_dot(X, np.ones((3, 6)), np.full((3, 50), np.nan), n_threads) == 0)
    assert np.all(_threads.xt_dot(X, np.ones((2, 50)), np.full((6, 2), np.nan), n_threads) == 0)


@pytest.mark.usefixtures("always_threaded")
def test_threaded_products_are_deterministic_and_close_to_one_thread():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(500, 40))
    V = rng.uniform(size=(4, 500))
    one = _products.xt_dot(X, V, np.empty((40, 4)))
    runs = [_threads.xt_dot(X, V, np.empty((40, 4)), 2) for _ in range(5)]
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    np.testing.assert_allclose(runs[0], one, rtol=1e-13)
    Mt = rng.uniform(size=(5, 40))
    # x_dot: each output column is computed by one thread with the same loop: bitwise equal
    assert np.array_equal(_threads.x_dot(X, Mt, np.empty((5, 500)), 2),
                          _products.x_dot(X, Mt, np.empty((5, 500))))  # fmt: skip


@pytest.mark.usefixtures("always_threaded")
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("p", "n", "k"), [(5, 3, 1), (61, 11, 5), (200, 30, 12)])
def test_threaded_w_step_matches_reference(n_threads, dtype, p, n, k):
    rng = np.random.default_rng(p * k)
    X = rng.gamma(1.0, 1.0, size=(p, n)).astype(dtype)
    H = rng.uniform(0.1, 1, size=(k, n))
    W = rng.uniform(0.1, 1, size=(k, p))
    HHt = H @ H.T
    c = 1.0 / (n * p)
    V, WV, VV, B = np.empty((k, p)), np.empty((k, k)), np.empty((k, k)), np.empty((n, k))
    gn = _threads.w_step(X, H, W, HHt, c, 0.1, 1e-12, V, WV, VV, B, n_threads)
    V_r, WV_r, VV_r, B_r, gn_r = ref.w_step(X, H, W, HHt, c, 0.1, 1e-12)
    for a, b in ((V, V_r), (WV, WV_r), (VV, VV_r), (B, B_r)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(gn, gn_r, rtol=1e-10)


def test_small_products_stay_on_the_calling_thread(monkeypatch):
    """Below MIN_THREADED_WORK nothing is handed to the pool."""

    def refuse(n):
        raise AssertionError("a small product was sent to a worker thread")

    monkeypatch.setattr(_threads, "_pool", refuse)
    X = np.ones((30, 10))
    _threads.x_dot(X, np.ones((3, 10)), np.empty((3, 30)), 2)
    _threads.xt_dot(X, np.ones((2, 30)), np.empty((10, 2)), 2)


def test_two_thread_fit_equals_one_thread_fit():
    """fit_desurv(n_threads=2) is the n_threads=1 fit up to rounding (the products' partial
    sums are added in another order; with the solver patch of issue 16 they are desurv's
    kernels on two threads, before it multi-threaded BLAS)."""
    from desurv import fit_desurv
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(n_samples=120, n_genes=2500, n_components=3, random_state=1)
    X = sim.X.to_numpy().T
    kw = dict(alpha=0.5, n_init=1, max_iter=15, tol=0, random_state=0, warn=False)
    a = fit_desurv(X, sim.time, sim.event, 3, n_threads=1, **kw)
    b = fit_desurv(X, sim.time, sim.event, 3, n_threads=2, **kw)
    np.testing.assert_allclose(b.history["loss"], a.history["loss"], rtol=1e-9)
    np.testing.assert_allclose(b.W, a.W, rtol=1e-7, atol=1e-9)
