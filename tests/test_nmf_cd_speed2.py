"""Coordinate descent of plain NMF after the speed work of issue 16 (target 2).

The compiled sweeps and the whole CD loop (``desurv._kernels._nmf_cd``) against their NumPy
twins (``desurv._reference.nmf_cd``) on the code paths added for speed (rows of the gradient
added 2 and 4 at a time, one X block swept in place with a transposed copy of X, penalty sums
only when a penalty is nonzero), the objective history against its definition, and the
one-sweep solver against scikit-learn's HALS (``NMF(solver="cd", shuffle=False)``), update by
update. Timing is in ``benchmarks/compare_cd.py``, never asserted here.
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import NMF as SkNMF

from desurv._kernels import _nmf_cd
from desurv._reference import nmf_cd as ref_cd
from desurv.decomposition._solvers import fit_coordinate_descent


def _problem(n, p, k, dtype=np.float64, seed=0, zeros=False):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, (n, k)) @ rng.gamma(1.0, 1.0, (k, p)) + rng.uniform(size=(n, p))
    W = rng.uniform(0.1, 1.0, (n, k))
    Ht = rng.uniform(0.1, 1.0, (p, k))
    if zeros:  # exact zeros in the factors and a zero row of X: the projected-gradient cases
        W[::3, 0] = 0.0
        Ht[1::4, -1] = 0.0
        X[2] = 0.0
    return X.astype(dtype), W.astype(dtype), Ht.astype(dtype)


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


# k covers the first pass of two rows alone (1, 2), plus remainder rows (3, 5, 7), plus one
# or two passes of four rows (6, 10, 11)
@pytest.mark.parametrize("k", [1, 2, 3, 5, 6, 7, 10, 11])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reg", [(0.0, 0.0), (0.3, 0.2)])
def test_transposed_sweep_matches_twin(k, dtype, reg):
    (
        X,
        W,
        Ht,
    ) = _problem(40, 25, k, dtype, seed=k, zeros=True)
    num = np.ascontiguousarray((X @ Ht).T)
    G = Ht.T @ Ht
    if k > 2:
        G[1, 1] = 0.0  # zero curvature: that coordinate is left unchanged
    l1, l2 = dtype(reg[0]), dtype(reg[1])
    F1, F2 = np.array(W.T, order="C"), np.array(W.T, order="C")
    g = np.empty(W.shape[0], dtype=dtype)
    v1 = _nmf_cd.hals_sweep_t(F1, num, G, l1, l2, g)
    v2 = ref_cd.hals_sweep_t(F2, num, G, l1, l2, g)
    np.testing.assert_allclose(F1, F2, **_tol(dtype))
    np.testing.assert_allclose(v1, v2, **_tol(dtype))
    assert F1.dtype == dtype and np.all(F1 >= 0)
    if k > 2 and reg[1] == 0.0:
        np.testing.assert_array_equal(F1[1], W.T[1])
    # repeated sweeps (accelerated HALS) with the inner stopping rule
    F1, F2 = np.array(W.T, order="C"), np.array(W.T, order="C")
    u1 = _nmf_cd.hals_update_t(F1, num, G, l1, l2, 6, 0.1, g)
    u2 = ref_cd.hals_update_t(F2, num, G, l1, l2, 6, 0.1, g)
    assert u1[1] == u2[1]
    np.testing.assert_allclose(F1, F2, **_tol(dtype))


def _objective(X, W, Ht, reg):
    X, W, Ht = (np.asarray(a, np.float64) for a in (X, W, Ht))
    l1W, l1H, l2W, l2H = reg
    loss = 0.5 * np.sum((X - W @ Ht.T) ** 2)
    return (
        loss + l1W * W.sum() + 0.5 * l2W * (W**2).sum() + l1H * Ht.sum() + 0.5 * l2H * (Ht**2).sum()
    )


@pytest.mark.parametrize("k", [3, 10])  # k >= 8: the other numerator layout of several blocks
@pytest.mark.parametrize("block", [60, 16])  # one block (swept in place, Xᵀ copy) / several
@pytest.mark.parametrize("reg", [(0.0, 0.0, 0.0, 0.0), (0.2, 0.0, 0.1, 0.3), (0.0, 0.4, 0.0, 0.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cd_loop_matches_twin_and_its_objective(k, block, reg, dtype):
    X, W, Ht = _problem(60, 30, k, dtype, seed=11)
    reg = tuple(dtype(r) for r in reg)
    x2 = float(np.sum(X.astype(np.float64) ** 2))
    out = []
    for impl in (_nmf_cd.cd_loop, ref_cd.cd_loop):
        Wc, Hc = W.copy(), Ht.copy()
        hist = np.zeros(26)
        n_it = impl(X, Wc, Hc, reg, x2, 25, 0.0, (3, 4), 0.1, hist, block)
        out.append((Wc, Hc, n_it, hist[1 : n_it + 1]))
    assert out[0][2] == out[1][2] == 25
    # float32: 25 iterations of sums in another order drift by a few units of 1e-5
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-9)
    for a, b in zip(out[0][:2] + out[0][3:], out[1][:2] + out[1][3:], strict=True):
        np.testing.assert_allclose(a, b, **tol)
    Wc, Hc, _, hist = out[0]
    # the history is the objective (loss + penalties) of the iterates, computed from products
    assert hist[-1] == pytest.approx(
        _objective(X, Wc, Hc, reg), rel=1e-4 if dtype == np.float32 else 1e-10
    )
    assert np.all(np.diff(hist) <= 1e-6 * hist[0])  # block coordinate descent is monotone
    assert Wc.dtype == Hc.dtype == dtype and np.all(Wc >= 0) and np.all(Hc >= 0)


def test_cd_loop_stops_on_the_violation_rule_like_twin():
    X, W, Ht = _problem(50, 20, 4, seed=3)
    x2 = float(np.sum(X**2))
    its = []
    for impl in (_nmf_cd.cd_loop, ref_cd.cd_loop):
        hist = np.zeros(501)
        its.append(impl(X, W.copy(), Ht.copy(), (0.0,) * 4, x2, 500, 1e-3, (2, 2), 0.1, hist, 50))
    assert its[0] == its[1] < 500


@pytest.mark.parametrize("shape,k", [((80, 40), 4), ((60, 30), 10)])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_one_sweep_solver_reproduces_sklearn_hals(shape, k, alpha):
    """accelerate=False: one sweep of W then one of H per iteration, the updates and the order
    of scikit-learn's HALS (shuffle=False), so the iterates agree up to rounding."""
    rng = np.random.default_rng(k)
    n, p = shape
    X = rng.gamma(1.0, 1.0, (n, k)) @ rng.gamma(1.0, 1.0, (k, p)) + rng.uniform(size=shape)
    W0 = rng.uniform(0.1, 1.0, (n, k))
    H0 = rng.uniform(0.1, 1.0, (k, p))
    l1_ratio = 0.5
    # scikit-learn's scaling of the penalties (as desurv.NMF._regularization)
    reg = (p * alpha * l1_ratio, n * alpha * l1_ratio, p * alpha * (1 - l1_ratio),
           n * alpha * (1 - l1_ratio))  # fmt: skip
    n_iter = 6
    W, H, it, hist, _ = fit_coordinate_descent(X, W0, H0, max_iter=n_iter, tol=0, reg=reg,
                                               accelerate=False)  # fmt: skip
    sk = SkNMF(k, solver="cd", init="custom", max_iter=n_iter, tol=0, shuffle=False,
               alpha_W=alpha, l1_ratio=l1_ratio)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        W_sk = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    assert it == n_iter
    np.testing.assert_allclose(W, W_sk, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(H, sk.components_, rtol=1e-8, atol=1e-10)
    assert hist[-1] == pytest.approx(_objective(X, W, H.T, reg), rel=1e-10)
