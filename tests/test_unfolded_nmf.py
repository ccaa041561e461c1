"""DeepUnfoldedNMF (Nasser, Eldar, Sharan): kernels, hand-written gradients, training, estimator."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls as scipy_nnls
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

from desurv._kernels import _unfolded
from desurv._reference import nmf_mu as ref_mu
from desurv._reference import unfolded as ref
from desurv.decomposition.unfolded import (
    EPS_FLOAT32,
    DeepUnfoldedNMF,
    UnfoldedNetwork,
    fit_unfolded,
    unfolded_forward,
    unfolded_gradient,
)
from desurv.exceptions import ConvergenceWarning

EPS = EPS_FLOAT32


def _tol(dtype):
    return dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def _problem(n=9, p=6, k=3, L=3, tied=False, seed=0, zeros=False, l1=0.3, l2=0.2):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 2.0, size=(n, p))
    if zeros:
        X[0] = 0.0  # an all-zero sample
        X[1, :2] = 0.0  # zeros in a sample
    Ld = 1 if tied else L
    A = rng.uniform(0.1, 1.0, size=(Ld, k, p))
    B = rng.uniform(0.1, 1.0, size=(Ld, k, k))
    H = rng.gamma(1.0, 2.0, size=(n, k))
    W = rng.uniform(0.0, 1.0, size=(k, p))
    return X, A, B, H, W, l1, l2


def _exact(n=60, p=12, k=3, seed=0):
    """X = E C with known exposures E (n, k) and signatures C (k, p) summing to 1."""
    rng = np.random.default_rng(seed)
    C = rng.dirichlet(np.full(p, 0.3), size=k)
    E = rng.gamma(1.0, 50.0, size=(n, k))
    return E @ C, E, C


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k,kind", [(3, "random"), (1, "random"), (3, "zeros")])
def test_layer_kernels_equal_twins(dtype, k, kind):
    rng = np.random.default_rng(1)
    n, q = 8, 2 * k
    H = rng.uniform(0, 2, size=(n, k))
    Num = rng.uniform(0, 3, size=(n, q))
    D0 = rng.uniform(0, 1, size=(n, k))
    G = rng.normal(size=(n, k))
    if kind == "zeros":
        H[0] = 0.0
        Num[1] = 0.0
        D0[2] = 0.0  # B h = 0: the denominator is λ₂h + λ₁ + ε
        G[3] = 0.0
    H, Num, D0, G = (np.ascontiguousarray(a, dtype=dtype) for a in (H, Num, D0, G))
    for c0 in (0, k):
        out = []
        for impl in (_unfolded.layer_forward, ref.layer_forward):
            D, Hn = D0.copy(), np.full_like(H, np.nan)
            impl(H, Hn, D, Num, c0, 0.3, 0.0 if kind == "zeros" else 0.2, EPS)
            out.append((D, Hn))
        for a, b in zip(out[0], out[1], strict=True):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **_tol(dtype))
        D = out[0][0]
        assert np.all(D > 0) and np.all(np.isfinite(out[0][1]))
        for accumulate in (False, True):
            for want_gh in (True, False):
                res = []
                GA_start = np.ascontiguousarray(rng.normal(size=(n, q)), dtype=dtype)
                for impl in (_unfolded.layer_backward, ref.layer_backward):
                    GA = GA_start.copy()
                    GD = np.full_like(H, np.nan)
                    GH = np.full_like(H, -7.0)
                    s = impl(G, H, Num, c0, D, 0.2, GA, c0, accumulate, GD, GH, want_gh)
                    res.append((GA, GD, GH, np.array(s)))
                for a, b in zip(res[0], res[1], strict=True):
                    np.testing.assert_allclose(a, b, **_tol(dtype))
                GA, GD, GH, _ = res[0]
                other = [c for c in range(q) if not c0 <= c < c0 + k]
                np.testing.assert_array_equal(GA[:, other], GA_start[:, other])
                if not want_gh:
                    assert np.all(GH == -7.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 3])
def test_layer_kernels_one_block_equal_twins(dtype, k):
    """Numerators and g_a of one layer only (tied networks: q = k columns): the kernels'
    flat pass over the contiguous arrays, with zeros in every input."""
    rng = np.random.default_rng(3)
    n = 11
    H, Num, G = rng.uniform(0, 2, (n, k)), rng.uniform(0, 3, (n, k)), rng.normal(size=(n, k))
    D0 = rng.uniform(0, 1, (n, k))
    H[0], Num[1], D0[2], G[3] = 0.0, 0.0, 0.0, 0.0
    H, Num, D0, G = (np.ascontiguousarray(a, dtype=dtype) for a in (H, Num, D0, G))
    outs = []
    for impl in (_unfolded.layer_forward, ref.layer_forward):
        D, Hn = D0.copy(), np.full_like(H, np.nan)
        impl(H, Hn, D, Num, 0, 0.3, 0.2, EPS)
        outs.append((D, Hn))
    for a, b in zip(*outs, strict=True):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **_tol(dtype))
    D = outs[0][0]
    for accumulate in (False, True):
        for want_gh in (True, False):
            res = []
            GA0 = np.ascontiguousarray(rng.normal(size=(n, k)), dtype=dtype)
            for impl in (_unfolded.layer_backward, ref.layer_backward):
                GA, GD, GH = GA0.copy(), np.full_like(H, np.nan), np.full_like(H, -7.0)
                s = impl(G, H, Num, 0, D, 0.2, GA, 0, accumulate, GD, GH, want_gh)
                res.append((GA, GD, GH, np.array(s)))
            for a, b in zip(*res, strict=True):
                np.testing.assert_allclose(a, b, **_tol(dtype))
            if not want_gh:
                assert np.all(res[0][2] == -7.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_kernels_equal_twins(dtype):
    rng = np.random.default_rng(2)
    Hh = np.ascontiguousarray(rng.uniform(0, 2, size=(7, 3)), dtype=dtype)
    Ht = np.ascontiguousarray(rng.uniform(0, 2, size=(7, 3)), dtype=dtype)
    Hh[0] = 0.0
    for want in (True, False):
        Gs = [np.full_like(Hh, 5.0), np.full_like(Hh, 5.0)]
        s = [
            f(Hh, Ht, G, 0.1, want)
            for f, G in zip(
                (_unfolded.supervised_residual, ref.supervised_residual), Gs, strict=True
            )
        ]
        np.testing.assert_allclose(s[0], s[1], rtol=1e-12)
        np.testing.assert_allclose(Gs[0], Gs[1], **_tol(dtype))
        if not want:
            assert np.all(Gs[0] == 5.0)
    G0 = np.ascontiguousarray(rng.normal(size=(7, 3)), dtype=dtype)
    Gs = [G0.copy(), G0.copy()]
    s = [
        f(G, Hh, 0.4, 0.7, 0.5)
        for f, G in zip((_unfolded.penalty_gradient, ref.penalty_gradient), Gs, strict=True)
    ]
    np.testing.assert_allclose(s[0], s[1], rtol=1e-12)
    np.testing.assert_allclose(Gs[0], Gs[1], **_tol(dtype))
    np.testing.assert_allclose(s[0], (Hh.astype(float).sum(), (Hh.astype(float) ** 2).sum()))


# ----------------------------------------------------------------------------- network
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_and_gradient_equal_reference(tied, dtype):
    X, A, B, H, W, l1, l2 = _problem(tied=tied, L=4, zeros=True)
    h_ref, _ = ref.forward(X, A, B, l1, l2, EPS, 4)
    Xd = X.astype(dtype)
    h = unfolded_forward(Xd, A, B, l1, l2, n_layers=4)
    assert h.dtype == dtype
    np.testing.assert_allclose(h, h_ref, **_tol(dtype))
    if dtype == np.float32:
        return
    for kw in (dict(H=H), dict(W=W)):
        got = unfolded_gradient(X, A, B, l1, l2, n_layers=4, **kw)
        want = ref.gradient(X, A, B, l1, l2, EPS, 4, **kw)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def _loss(X, A, B, l1, l2, L, H=None, W=None):
    """The two losses as defined in METHODS §C.2, from the plain forward pass."""
    h, _ = ref.forward(X, A, B, l1, l2, EPS, L)
    if H is not None:
        return np.mean((h - H) ** 2)
    R = X - h @ W
    return (0.5 * np.sum(R**2) + l1 * h.sum() + 0.5 * l2 * np.sum(h**2)) / X.shape[0]


FD_CASES = {
    "random": {},
    "zeros in v": dict(zeros=True),
    "lambda 0": dict(l1=0.0, l2=0.0),
    "one layer": dict(L=1),
    "k = 1": dict(k=1),
    "tied": dict(tied=True, L=3),
    "k = 1, one layer, zeros, lambda 0": dict(k=1, L=1, zeros=True, l1=0.0, l2=0.0),
}


@pytest.mark.parametrize("loss", ["supervised", "unsupervised"])
@pytest.mark.parametrize("case", list(FD_CASES))
def test_gradient_equals_finite_differences(loss, case):
    """Every parameter (each A_ℓ, B_ℓ entry, λ₁, λ₂) against central differences."""
    kw = FD_CASES[case]
    L = kw.get("L", 3)
    X, A, B, H, W, l1, l2 = _problem(**kw)
    target = dict(H=H) if loss == "supervised" else dict(W=W)
    _, dA, dB, dl1, dl2 = unfolded_gradient(X, A, B, l1, l2, n_layers=L, **target)
    h = 1e-6
    fd = []
    for arr in (A, B):
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            fp = _loss(X, A, B, l1, l2, L, **target)
            arr[idx] = old - h
            fm = _loss(X, A, B, l1, l2, L, **target)
            arr[idx] = old
            fd.append((fp - fm) / (2 * h))
    for which in (0, 1):
        lp = [l1, l2]
        lm = [l1, l2]
        lp[which] += h
        lm[which] -= h
        fd.append((_loss(X, A, B, *lp, L, **target) - _loss(X, A, B, *lm, L, **target)) / (2 * h))
    got = np.concatenate([dA.ravel(), dB.ravel(), [dl1, dl2]])
    fd = np.array(fd)
    scale = np.abs(fd).max()
    assert scale > 0
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-7 * scale)


def _mu_loop(X, C, l1, l2, n_iter):
    """n_iter multiplicative exposure updates from h = 1, written by hand."""
    h = np.ones((X.shape[0], C.shape[0]))
    for _ in range(n_iter):
        h = h * (X @ C.T) / (h @ (C @ C.T) + l2 * h + l1 + EPS)
    return h


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.5, 2.0)])
def test_untrained_nmf_start_is_exactly_multiplicative_updates(tied, l1, l2):
    X, _, C = _exact(n=20, p=10, k=4)
    L = 6
    Ld = 1 if tied else L
    A = np.broadcast_to(C, (Ld, 4, 10))
    B = np.broadcast_to(C @ C.T, (Ld, 4, 4))
    h = unfolded_forward(X, A, B, l1, l2, n_layers=L)
    np.testing.assert_allclose(h, _mu_loop(X, C, l1, l2, L), rtol=1e-13)
    # the house's multiplicative exposure update (scikit-learn's form, ε folded into λ₁)
    F = np.ones((20, 4))
    for _ in range(L):
        ref_mu.div_factor(F, X @ C.T, F @ (C @ C.T), l1 + EPS, l2, EPS, 0.0)
    np.testing.assert_allclose(h, F, rtol=1e-13)
    # through the estimator: max_iter=0 keeps the start
    m = DeepUnfoldedNMF(
        n_layers=L, tied=tied, init="custom", max_iter=0, lambda_l1=l1, lambda_l2=l2
    ).fit(X, np.ones((20, 4)), components=C)
    np.testing.assert_allclose(m.transform(X), _mu_loop(X, C, l1, l2, L), rtol=1e-13)
    assert m.n_iter_ == 0 and m.A_.shape == (Ld, 4, 10)


def test_supervised_nmf_start_uses_nnls_signatures():
    X, E, C = _exact(n=40, p=10, k=3)
    m = DeepUnfoldedNMF(n_layers=5, max_iter=0).fit(X, E)
    # NNLS of the exact data recovers C; the network is 5 MU steps with it
    np.testing.assert_allclose(m.components_, C, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.A_[2], C, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(m.transform(X), _mu_loop(X, C, 0, 0, 5), rtol=1e-7)
    assert m.lambda_l1_ == 0.0 and m.lambda_l2_ == 0.0


# ----------------------------------------------------------------------------- training
def _adam_first(theta, g, lr):
    """One bias-corrected Adam step from zero moments (m̂ = g, v̂ = g²), then clamp at 0."""
    return np.maximum(theta - lr * g / (np.abs(g) + 1e-8), 0.0)


@pytest.mark.parametrize("learn_lambda", [True, False])
def test_supervised_step_is_adam_then_projection(learn_lambda):
    X, A, B, H, _, l1, l2 = _problem(L=2)
    net = UnfoldedNetwork(X.shape[1], 3, 2)
    theta0 = net.pack(A, B, l1, l2)
    res = fit_unfolded(X, net, theta0, H=H, learn_lambda=learn_lambda, max_iter=1, tol=0,
                       learning_rate=0.05)  # fmt: skip
    _, dA, dB, dl1, dl2 = ref.gradient(X, A, B, l1, l2, EPS, 2, H=H)
    g = np.concatenate([dA.ravel(), dB.ravel(), [dl1, dl2]])
    want = _adam_first(theta0[0], g, 0.05)
    if not learn_lambda:
        want[-2:] = (l1, l2)
    np.testing.assert_allclose(res["theta"][0], want, rtol=1e-12)
    assert np.all(theta0[0] == net.pack(A, B, l1, l2)[0])  # the start is not modified
    assert res["n_iter"] == 1 and res["history"].shape == (2,)
    np.testing.assert_allclose(
        res["history"][0], np.mean((ref.forward(X, A, B, l1, l2, EPS, 2)[0] - H) ** 2)
    )


def _scipy_w(Hh, X):
    return np.stack([scipy_nnls(Hh, X[:, j])[0] for j in range(X.shape[1])], axis=1)


def test_unsupervised_iteration_order():
    """θ_1 from the Adam step at (θ_0, W_0), W_1 = NNLS(Ĥ(θ_0)), history[1] = C(θ_1, W_1)."""
    X, A, B, _, W0, _, _ = _problem(L=2)
    l = 0.5
    net = UnfoldedNetwork(X.shape[1], 3, 2)
    theta0 = net.pack(A, B, l, l)
    res = fit_unfolded(X, net, theta0, W0=W0, learn_lambda=False, max_iter=1, tol=0,
                       learning_rate=0.01)  # fmt: skip
    _, dA, dB, _, _ = ref.gradient(X, A, B, l, l, EPS, 2, W=W0)
    g = np.concatenate([dA.ravel(), dB.ravel()])
    theta1 = _adam_first(theta0[0, :-2], g, 0.01)
    np.testing.assert_allclose(res["theta"][0, :-2], theta1, rtol=1e-12)
    assert tuple(res["theta"][0, -2:]) == (l, l)  # λ fixed
    A1, B1, _ = net.views(np.concatenate([theta1, [l, l]])[None])
    W1 = _scipy_w(ref.forward(X, A, B, l, l, EPS, 2)[0], X)  # pre-step exposures
    np.testing.assert_allclose(res["history"][0], _loss(X, A, B, l, l, 2, W=W0), rtol=1e-12)
    np.testing.assert_allclose(res["history"][1], _loss(X, A1, B1, l, l, 2, W=W1), rtol=1e-8)
    # the final W-step fits W to the last network
    W_final = _scipy_w(ref.forward(X, A1, B1, l, l, EPS, 2)[0], X)
    np.testing.assert_allclose(res["W"], W_final, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res["loss"], _loss(X, A1, B1, l, l, 2, W=W_final), rtol=1e-8)


def test_supervised_fit_learns_and_generalises():
    X, E, C = _exact(n=120, p=12, k=3, seed=3)
    tr, te = slice(0, 100), slice(100, None)
    m = DeepUnfoldedNMF(n_layers=5, max_iter=300, tol=0, learning_rate=1e-3).fit(X[tr], E[tr])
    start = DeepUnfoldedNMF(n_layers=5, max_iter=0).fit(X[tr], E[tr])
    h = m.loss_history_
    assert h.shape == (301,) and h[-1] < 0.5 * h[0]
    assert np.mean((m.transform(X[te]) - E[te]) ** 2) < np.mean(
        (start.transform(X[te]) - E[te]) ** 2
    )
    assert m.score(X[te], E[te]) == pytest.approx(-np.mean((m.transform(X[te]) - E[te]) ** 2))
    # every parameter stays non-negative; the λ's were learned (moved from 0 or stayed at 0)
    assert m.A_.min() >= 0 and m.B_.min() >= 0 and m.lambda_l1_ >= 0 and m.lambda_l2_ >= 0


@pytest.mark.parametrize("normalize", [True, False])
def test_unsupervised_fit_components_and_scale(normalize):
    X, _, _ = _exact(n=80, p=12, k=3, seed=4)
    m = _quiet(
        DeepUnfoldedNMF(3, n_layers=4, max_iter=40, normalize=normalize, random_state=0).fit, X
    )
    assert not m.supervised_ and m.components_.shape == (3, 12)
    raw = unfolded_forward(X, m.A_, m.B_, m.lambda_l1_, m.lambda_l2_)
    W = _scipy_w(raw, X)  # components_ is the exact NNLS W of the final network
    if normalize:
        np.testing.assert_allclose(m.components_.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(m.exposure_scale_, W.sum(axis=1), rtol=1e-7)
    else:
        np.testing.assert_allclose(m.components_, W, rtol=1e-7, atol=1e-10)
        assert np.all(m.exposure_scale_ == 1)
    E = m.transform(X)
    np.testing.assert_allclose(E @ m.components_, raw @ W, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(m.inverse_transform(E), E @ m.components_)
    assert m.score(X) == pytest.approx(-0.5 * np.sum((X - E @ m.components_) ** 2) / 80)
    assert m.loss_ <= m.loss_history_[-1] + 1e-9  # the final W-step can only lower the cost


def test_repository_starts():
    X, E, _ = _exact(n=30, p=8, k=2)
    m = DeepUnfoldedNMF(init="repository", max_iter=0, n_layers=2).fit(X, E)
    assert np.all(m.A_ == 1) and np.all(m.B_ == 1) and m.lambda_l1_ == m.lambda_l2_ == 1.0
    m = DeepUnfoldedNMF(2, init="repository", max_iter=0, n_layers=2, normalize=False).fit(X)
    assert np.all(m.A_ == 0.1) and np.all(m.B_ == 0.1) and m.lambda_l1_ == m.lambda_l2_ == 0.0
    # the symmetric start gives identical exposure columns, so the NNLS W is its tie-break
    raw = unfolded_forward(X, m.A_, m.B_, 0.0, 0.0)
    np.testing.assert_allclose(raw[:, 0], raw[:, 1], rtol=1e-14)
    np.testing.assert_allclose(raw @ m.components_, raw @ _scipy_w(raw, X), rtol=1e-8)


def test_early_stopping_keeps_best_validation_parameters():
    X, E, _ = _exact(n=100, p=12, k=3, seed=5)
    m = _quiet(
        DeepUnfoldedNMF(
            n_layers=4, early_stopping=True, validation_fraction=0.2, n_iter_no_change=5,
            learning_rate=3e-2, max_iter=200, random_state=0,
        ).fit, X, E,
    )  # fmt: skip
    tr, va = m.train_indices_, m.validation_indices_
    assert len(va) == 20 and len(tr) == 80 and not set(tr) & set(va)
    assert m.validation_history_.shape == m.loss_history_.shape == (m.n_iter_ + 1,)
    assert m.best_iter_ == int(np.argmin(m.validation_history_))
    np.testing.assert_allclose(
        np.mean((m.transform(X[va]) - E[va]) ** 2), m.validation_history_[m.best_iter_], rtol=1e-10
    )
    np.testing.assert_allclose(m.loss_, m.loss_history_[m.best_iter_])
    # the same random_state gives the same split and the same fit
    m2 = _quiet(clone(m).fit, X, E)
    np.testing.assert_array_equal(m2.validation_indices_, va)
    np.testing.assert_array_equal(m2.A_, m.A_)


def test_unsupervised_early_stopping():
    X, _, _ = _exact(n=60, p=10, k=2, seed=7)
    m = _quiet(
        DeepUnfoldedNMF(2, n_layers=3, early_stopping=True, max_iter=60, random_state=1).fit, X
    )
    assert len(m.validation_indices_) == 6 and m.validation_history_.shape == (m.n_iter_ + 1,)
    assert m.best_iter_ == int(np.argmin(m.validation_history_))
    assert np.all(np.isfinite(m.transform(X))) and m.components_.shape == (2, 10)


def test_stopping_rule_and_convergence_warning():
    X, E, _ = _exact(n=40, p=8, k=2)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        DeepUnfoldedNMF(n_layers=2, max_iter=3).fit(X, E)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = DeepUnfoldedNMF(n_layers=2, max_iter=3, tol=0).fit(X, E)  # fixed budget
        DeepUnfoldedNMF(n_layers=2, max_iter=0).fit(X, E)
    assert m.n_iter_ == 3
    # a huge tol stops after n_iter_no_change iterations without a big enough decrease
    m = DeepUnfoldedNMF(n_layers=2, max_iter=100, tol=0.99, n_iter_no_change=2).fit(X, E)
    assert m.n_iter_ == 2


@pytest.mark.parametrize("mode", ["supervised", "unsupervised"])
def test_float32_follows_float64(mode):
    X, E, _ = _exact(n=50, p=10, k=3, seed=6)
    y = E if mode == "supervised" else None
    kw = dict(n_components=3, n_layers=3, max_iter=5, tol=0, random_state=0)
    m64 = DeepUnfoldedNMF(**kw).fit(X, y)
    m32 = DeepUnfoldedNMF(dtype="float32", **kw).fit(X, y)
    assert m32.A_.dtype == np.float32 and m32.components_.dtype == np.float32
    assert m32.transform(X).dtype == np.float32
    assert DeepUnfoldedNMF(**kw).fit(X.astype(np.float32), y).A_.dtype == np.float32
    np.testing.assert_allclose(m32.loss_history_, m64.loss_history_, rtol=1e-3)
    np.testing.assert_allclose(m32.transform(X), m64.transform(X), rtol=1e-2, atol=1e-2)


def test_dataframes_names_and_alignment():
    X, E, _ = _exact(n=30, p=6, k=2)
    samples = [f"s{i}" for i in range(30)]
    Xd = pd.DataFrame(X, index=samples, columns=[f"c{j}" for j in range(6)])
    Ed = pd.DataFrame(E, index=samples, columns=["SBS1", "SBS5"])
    kw = dict(n_layers=2, max_iter=3, tol=0)
    m = DeepUnfoldedNMF(**kw).fit(Xd, Ed.iloc[::-1])  # y matched to X by sample label
    np.testing.assert_array_equal(m.A_, DeepUnfoldedNMF(**kw).fit(X, E).A_)
    assert list(m.feature_names_in_) == list(Xd.columns)
    assert list(m.get_feature_names_out()) == ["deepunfoldednmf0", "deepunfoldednmf1"]
    np.testing.assert_array_equal(m.transform(Xd[Xd.columns[::-1]]), m.transform(Xd))


def test_pipeline_with_class_labels_needs_unsupervised_mode():
    from sklearn.linear_model import LogisticRegression

    X, E, _ = _exact(n=40, p=8, k=2)
    labels = (E[:, 0] > E[:, 1]).astype(int)
    kw = dict(n_components=2, n_layers=2, max_iter=5, tol=0, random_state=0)
    with pytest.raises(ValueError, match="mode='unsupervised'"):
        Pipeline([("dnmf", DeepUnfoldedNMF(**kw)), ("lr", LogisticRegression())]).fit(X, labels)
    pipe = Pipeline(
        [("dnmf", DeepUnfoldedNMF(mode="unsupervised", **kw)), ("lr", LogisticRegression())]
    )
    assert pipe.fit(X, labels).predict(X).shape == (40,)
    assert not pipe[0].supervised_


@pytest.mark.parametrize(
    "params,args,match",
    [
        ({"mode": "both"}, "sup", "mode="),
        ({"init": "ones"}, "sup", "init="),
        ({"n_layers": 0}, "sup", "n_layers"),
        ({"max_iter": -1}, "sup", "max_iter"),
        ({"learning_rate": 0}, "sup", "learning_rate"),
        ({"lambda_l1": -1.0}, "sup", "lambda_l1"),
        ({"learn_lambda": "yes"}, "sup", "learn_lambda"),
        ({"eps": 0.0}, "sup", "eps"),
        ({"validation_fraction": 1.0}, "sup", "validation_fraction"),
        ({"dtype": "float16"}, "sup", "dtype"),
        ({"n_threads": 0}, "sup", "n_threads"),
        ({"tied": "no"}, "sup", "tied"),
        ({"n_components": 3}, "sup", "n_components=3"),
        ({}, "unsup", "needs n_components"),
        ({"n_components": 2, "learn_lambda": True}, "unsup", "learn_lambda=True"),
        ({"mode": "supervised"}, "unsup", "true exposures"),
        ({"init": "custom"}, "sup", "components"),
        ({}, "labels", "mode='unsupervised'"),
        ({}, "short_y", "rows"),
        ({}, "neg_y", "negative"),
        ({}, "neg_X", "Negative"),
        ({}, "nan_X", "NaN"),
        ({}, "zero_X", "all zero"),
        ({"early_stopping": True, "validation_fraction": 0.5}, "one", "validation"),
    ],
)
def test_bad_input_raises_clear_errors(params, args, match):
    X, E, _ = _exact(n=10, p=5, k=2)
    y = E
    if args == "unsup":
        y = None
    elif args == "labels":
        y = np.arange(10) % 2
    elif args == "short_y":
        y = E[:5]
    elif args == "neg_y":
        y = E.copy()
        y[0, 0] = -1
    elif args == "neg_X":
        X = X.copy()
        X[0, 0] = -1
    elif args == "nan_X":
        X = X.copy()
        X[0, 0] = np.nan
    elif args == "zero_X":
        X = np.zeros_like(X)
    elif args == "one":
        X, y = X[:1], E[:1]
    with pytest.raises(ValueError, match=match):
        DeepUnfoldedNMF(**{"max_iter": 2, **params}).fit(X, y)


def test_custom_components_checks_and_unfitted():
    X, E, C = _exact(n=10, p=5, k=2)
    with pytest.raises(ValueError, match="shape"):
        DeepUnfoldedNMF(init="custom").fit(X, E, components=C[:, :3])
    with pytest.raises(ValueError, match=">= 0"):
        DeepUnfoldedNMF(init="custom").fit(X, E, components=-C)
    with pytest.warns(RuntimeWarning, match="only used with init='custom'"):
        DeepUnfoldedNMF(max_iter=0).fit(X, E, components=C)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DeepUnfoldedNMF().transform(X)
    m = DeepUnfoldedNMF(max_iter=0).fit(X, E)
    with pytest.raises(ValueError, match="features"):
        m.transform(X[:, :3])


class _SupervisedPlainY(DeepUnfoldedNMF):
    """The check suite's 1-D y as one column of true exposures (|y| + 1)."""

    def fit(self, X, y=None, components=None):
        if y is not None and np.asarray(y).ndim == 1:
            y = np.abs(np.real(np.asarray(y))).astype(float)[:, None] + 1.0
        return super().fit(X, y, components=components)

    def score(self, X, y=None):
        if y is not None and np.asarray(y).ndim == 1:
            y = np.abs(np.real(np.asarray(y))).astype(float)[:, None] + 1.0
        return super().score(X, y)


def test_sklearn_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(
            DeepUnfoldedNMF(2, mode="unsupervised", n_layers=3, max_iter=10, random_state=0)
        )
        check_estimator(_SupervisedPlainY(n_layers=3, max_iter=10, random_state=0))
