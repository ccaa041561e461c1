"""AENMF (Egendal et al.'s autoencoder NMF): kernels, gradients, Adam, estimator."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_estimator

from desurv._kernels import _aenmf
from desurv._reference import aenmf as ref
from desurv.decomposition.aenmf import (
    AENMF,
    CONSTRAINTS,
    EPS,
    _phi,
    aenmf_gradient,
    aenmf_loss,
    aenmf_objective,
    fit_aenmf,
)
from desurv.exceptions import ConvergenceWarning

SCHEMES = list(CONSTRAINTS)


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)


def _exact(n=10, p=8, k=2, seed=0):
    """X = E H with the first k samples pure signatures: exactly representable by AE-NMF."""
    rng = np.random.default_rng(seed)
    H = rng.gamma(0.5, 1.0, size=(k, p))
    E = rng.gamma(1.0, 1.0, size=(n, k))
    E[:k] = 3.0 * np.eye(k)
    return E @ H, H


def _counts(n=12, p=9, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.poisson(rng.gamma(1.0, 5.0, size=(n, p))).astype(float)
    X[0, 0] = 0.0
    return X


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- kernels
def _adam_inputs(dtype, k, kind, n=7, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, 2 * k))
    g = rng.normal(size=(n, 2 * k))
    m = rng.normal(scale=0.1, size=(n, 2 * k))
    v = rng.uniform(0, 0.1, size=(n, 2 * k))
    if kind == "zeros":
        W[:2] = 0.0  # sign(0) = 0 and ReLU's closed side, with moments from earlier steps
        g[2] = 0.0
        W[3], m[3], v[3] = 0.0, 0.0, 0.0  # a fresh exact zero, gradient g[3] != 0
        W[4, 0] = -0.0
    return [np.ascontiguousarray(a, dtype=dtype) for a in (W, g, m, v)]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "dtype,k,kind,t",
    [
        (np.float64, 3, "random", 1),
        (np.float64, 3, "random", 7),
        (np.float64, 1, "random", 2),
        (np.float64, 2, "zeros", 1),
        (np.float64, 2, "zeros", 4),
        (np.float32, 3, "random", 3),
        (np.float32, 2, "zeros", 1),
    ],
)
def test_adam_step_kernel_equals_twin(scheme, dtype, k, kind, t):
    W, g, m, v = _adam_inputs(dtype, k, kind)
    code = CONSTRAINTS[scheme]
    out = []
    for impl in (_aenmf.adam_step, ref.adam_step):
        Wc, mc, vc = W.copy(), m.copy(), v.copy()
        P = np.full_like(W, np.nan)
        impl(Wc, P, g, mc, vc, t, 1e-2, 0.9, 0.999, 1e-8, code)
        out.append((Wc, P, mc, vc))
    for a, b in zip(out[0], out[1], strict=True):
        assert a.dtype == dtype and b.dtype == dtype
        np.testing.assert_allclose(a, b, **_tol(dtype))
    Wn, P = out[0][:2]
    np.testing.assert_array_equal(P, _phi(Wn, scheme))
    if scheme in ("pg", "abs"):
        assert Wn.min() >= 0
    assert P.min() >= 0
    if kind == "zeros":
        assert np.all(g[3] != 0)
        if scheme in ("fp-abs", "fp-relu"):  # no gradient at 0 and no momentum: stays 0
            assert np.all(Wn[3] == 0)
        else:  # the projected schemes do move it (unless the step points below 0 for pg)
            assert np.all((Wn[3] > 0) | ((g[3] > 0) & (scheme == "pg")))


def test_adam_first_step_by_hand():
    """t = 1: m̂ = g, v̂ = g², so w <- w - lr·g/(|g| + eps) (PyTorch's Adam, no decay)."""
    W = np.array([[0.5, -0.2], [1.0, 0.0]])
    gA = np.array([[2.0, -3.0], [1e-3, 5.0]])  # gradient with respect to φ(W)
    lr, eps = 0.1, 1e-8
    for scheme, dphi in [
        ("fp-abs", np.sign(W)),
        ("fp-relu", (W > 0).astype(float)),
        ("pg", np.ones_like(W)),
        ("abs", np.ones_like(W)),
    ]:
        Wc, m, v, P = W.copy(), np.zeros_like(W), np.zeros_like(W), np.empty_like(W)
        _aenmf.adam_step(Wc, P, gA, m, v, 1, lr, 0.9, 0.999, eps, CONSTRAINTS[scheme])
        g = dphi * gA
        want = W - lr * g / (np.abs(g) + eps)
        if scheme == "pg":
            want = np.maximum(want, 0)
        elif scheme == "abs":
            want = np.abs(want)
        np.testing.assert_allclose(Wc, want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(m, 0.1 * g, rtol=1e-14)
        np.testing.assert_allclose(v, 0.001 * g**2, rtol=1e-14)
    # second step from there, one entry by hand
    w, gg, m1, v1 = 0.3, 0.7, 0.05, 0.002
    b1, b2, t = 0.9, 0.999, 2
    m2, v2 = b1 * m1 + (1 - b1) * gg, b2 * v1 + (1 - b2) * gg**2
    want = w - lr * (m2 / (1 - b1**t)) / (np.sqrt(v2 / (1 - b2**t)) + eps)
    Wc, m, v = np.array([[w, w]]), np.array([[m1, m1]]), np.array([[v1, v1]])
    _aenmf.adam_step(Wc, np.empty_like(Wc), np.array([[gg, gg]]), m, v, t, lr, b1, b2, eps, 2)
    assert Wc[0, 0] == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("zeros", [False, True])
def test_residual_kernels_equal_twins(dtype, zeros):
    rng = np.random.default_rng(3)
    X = rng.poisson(3.0, size=(9, 6)).astype(dtype)
    Xh = rng.uniform(0.5, 4.0, size=(9, 6)).astype(dtype)
    if zeros:
        X[:2] = 0
        Xh[1:3] = 0  # X̂ = 0 with X > 0 (guarded by eps) and with X = 0
    for name, args in [("fro_residual", ()), ("kl_residual", (EPS, 0.25))]:
        a, b = Xh.copy(), Xh.copy()
        sa = getattr(_aenmf, name)(a, X, *args)
        sb = getattr(ref, name)(b, X, *args)
        assert sa == pytest.approx(sb, rel=1e-12)
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, **_tol(dtype))
    # the KL divergence by its definition
    x, xh = X.astype(float), Xh.astype(float)
    want = np.sum(np.where(x > 0, x * np.log(np.where(x > 0, x, 1) / (xh + EPS)), 0) - x + xh)
    assert _aenmf.kl_residual(Xh.copy(), X, EPS, 1.0) == pytest.approx(want, rel=1e-12)


# ----------------------------------------------------------------------------- gradients
def _weights(n, k, seed, signed):
    """Raw weights with every entry at least 0.05 away from 0 (FD steps never cross 0)."""
    rng = np.random.default_rng(seed)
    We = rng.uniform(0.05, 1.0, size=(n, k))
    Wd = rng.uniform(0.05, 1.0, size=(k, n))
    if signed:
        We *= rng.choice([-1.0, 1.0], size=We.shape)
        Wd *= rng.choice([-1.0, 1.0], size=Wd.shape)
    return We, Wd


def _loss_raw(X, We, Wd, scheme, loss):
    return aenmf_loss(X, _phi(We, scheme), _phi(Wd, scheme).T, loss)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "loss,gram", [("frobenius", True), ("frobenius", False), ("kullback-leibler", None)]
)
def test_gradient_matches_finite_differences(scheme, loss, gram):
    X = _counts()
    n, k = X.shape[0], 3
    We, Wd = _weights(n, k, 5, signed=scheme in ("fp-abs", "fp-relu"))
    L, gE, gD = aenmf_gradient(X, We, Wd, scheme, loss, gram)
    assert L == pytest.approx(_loss_raw(X, We, Wd, scheme, loss), rel=1e-10)
    h = 1e-6
    for W, G, which in ((We, gE, 0), (Wd, gD, 1)):
        fd = np.empty_like(W)
        for idx in np.ndindex(W.shape):
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += h
            Wm[idx] -= h
            args_p = (Wp, Wd) if which == 0 else (We, Wp)
            args_m = (Wm, Wd) if which == 0 else (We, Wm)
            fd[idx] = (
                _loss_raw(X, *args_p, scheme, loss) - _loss_raw(X, *args_m, scheme, loss)
            ) / (2 * h)
        np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())
        if scheme == "fp-relu":
            assert np.all(G[W < 0] == 0)


@pytest.mark.parametrize("scheme", ["fp-abs", "fp-relu"])
def test_gradient_at_exact_zero_is_zero(scheme):
    """sign(0) = 0 (PyTorch's abs) and ReLU's closed side: zero weights get no gradient,
    although the gradient with respect to φ(W) there is not zero."""
    X = _counts()
    We, Wd = _weights(X.shape[0], 2, 2, signed=True)
    We[[0, 3], 1] = 0.0
    Wd[0, [1, 4]] = 0.0
    _, gE, gD = aenmf_gradient(X, We, Wd, scheme)
    _, gE_pg, gD_pg = aenmf_gradient(X, np.abs(We), np.abs(Wd), "pg")
    assert np.all(gE[[0, 3], 1] == 0) and np.all(gD[0, [1, 4]] == 0)
    assert np.all(gE_pg[[0, 3], 1] != 0) and np.all(gD_pg[0, [1, 4]] != 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gram_loss_equals_direct_loss(dtype):
    X = _counts(n=15, p=7).astype(dtype)
    k = 3
    We, Wd = _weights(X.shape[0], k, 9, signed=False)
    P = np.ascontiguousarray(np.hstack([We, Wd.T]), dtype=dtype)
    ga, gb = np.empty_like(P), np.empty_like(P)
    La = aenmf_objective(X, k, "frobenius", gram=True)(P, ga, True)
    Lb = aenmf_objective(X, k, "frobenius", gram=False)(P, gb, True)
    direct = aenmf_loss(X, P[:, :k], P[:, k:])
    rtol = 1e-4 if dtype == np.float32 else 1e-11
    assert La == pytest.approx(direct, rel=rtol) and Lb == pytest.approx(direct, rel=rtol)
    np.testing.assert_allclose(ga, gb, rtol=rtol, atol=rtol * np.abs(gb).max())
    # MN·L = tr G - 2 tr(Bᵀ Aᵀ G) + tr(Bᵀ Aᵀ G A B) in paper orientation, by hand
    V, A, B = X.T.astype(float), We, Wd
    G = V.T @ V
    mn = V.size
    hand = (np.trace(G) - 2 * np.trace(B.T @ A.T @ G) + np.trace(B.T @ A.T @ G @ A @ B)) / mn
    assert hand == pytest.approx(direct, rel=1e-10 if dtype == np.float64 else 1e-5)


def test_one_fit_step_is_adam_on_the_checked_gradient():
    """fit_aenmf's first step = the hand Adam step on aenmf_gradient (which matches FD)."""
    X = _counts()
    k, lr = 2, 0.05
    for scheme in SCHEMES:
        We, Wd = _weights(X.shape[0], k, 4, signed=scheme in ("fp-abs", "fp-relu"))
        W0 = np.hstack([We, Wd.T])
        for loss in ("frobenius", "kullback-leibler"):
            _, gE, gD = aenmf_gradient(X, We, Wd, scheme, loss)
            g = np.hstack([gE, gD.T])
            want = W0 - lr * g / (np.abs(g) + 1e-8)
            if scheme == "pg":
                want = np.maximum(want, 0)
            elif scheme == "abs":
                want = np.abs(want)
            W, P, n_iter, hist, _ = fit_aenmf(
                X, W0, constraint=scheme, beta_loss=loss, learning_rate=lr, max_iter=1, tol=0
            )
            assert n_iter == 1 and hist.shape == (2,)
            np.testing.assert_allclose(W, want, rtol=1e-12, atol=1e-14)
            assert hist[1] == pytest.approx(_loss_raw(X, W[:, :k], W[:, k:].T, scheme, loss))


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("scheme", SCHEMES)
def test_projected_schemes_stay_nonnegative_each_step(scheme):
    X = _counts()
    k = 3
    We, Wd = _weights(X.shape[0], k, 1, signed=scheme in ("fp-abs", "fp-relu"))
    W = np.ascontiguousarray(np.hstack([We, Wd.T]))
    W0 = W.copy()
    f = aenmf_objective(X, k)
    P = _phi(W, scheme)
    g, m, v = np.empty_like(W), np.zeros_like(W), np.zeros_like(W)
    hist = [f(P, g, True)]
    for t in range(1, 301):
        _aenmf.adam_step(W, P, g, m, v, t, 0.02, 0.9, 0.999, 1e-8, CONSTRAINTS[scheme])
        if scheme in ("pg", "abs"):
            assert W.min() >= 0
        assert P.min() >= 0
        hist.append(f(P, g, True))
    # the same loop as fit_aenmf
    Wf, _, _, hf, _ = fit_aenmf(X, W0, constraint=scheme, learning_rate=0.02, max_iter=300, tol=0)
    np.testing.assert_array_equal(Wf, W)
    np.testing.assert_allclose(hf, hist, rtol=1e-12)
    assert hist[-1] < 0.2 * hist[0]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("loss", ["frobenius", "kullback-leibler"])
def test_loss_decreases_and_outputs_are_nonnegative(scheme, loss):
    X = _counts()
    m = _quiet(
        AENMF(3, constraint=scheme, beta_loss=loss, learning_rate=0.01, max_iter=1500,
              tol_window=100, random_state=0).fit, X
    )  # fmt: skip
    h = m.loss_history_
    assert h.shape == (m.n_iter_ + 1,) and h.dtype == np.float64
    assert h[-1] < 0.1 * h[0]
    # Adam is not monotone, but the mean loss of successive blocks of 100 steps decreases
    blocks = [h[i : i + 100].mean() for i in range(0, len(h) - 99, 100)]
    assert len(blocks) >= 10 and np.all(np.diff(blocks) <= 0)
    for a in (m.components_, m.exposures_, m.encoder_, m.decoder_):
        assert a.min() >= 0
    assert m.reconstruction_err_ == pytest.approx(
        aenmf_loss(X, m.encoder_, m.decoder_.T, loss), rel=1e-12
    )
    assert m.reconstruction_err_ == pytest.approx(h[-1], rel=1e-8)


@pytest.mark.parametrize("scheme", ["fp-abs", "pg"])
def test_exactly_representable_data_are_recovered(scheme):
    X, H = _exact()
    m = _quiet(
        AENMF(2, constraint=scheme, learning_rate=1e-2, max_iter=10000, tol=1e-9,
              random_state=0).fit, X
    )  # fmt: skip
    assert m.reconstruction_err_ < 1e-4 * np.mean(X**2)
    Hn = H / H.sum(axis=1, keepdims=True)
    cos = (m.components_ @ Hn.T) / np.outer(
        np.linalg.norm(m.components_, axis=1), np.linalg.norm(Hn, axis=1)
    )
    assert max(cos[0, 0] + cos[1, 1], cos[0, 1] + cos[1, 0]) > 2 * 0.999


def test_normalisation_identity():
    X = _counts()
    kw = dict(n_components=3, learning_rate=0.01, max_iter=300, tol=0, random_state=2)
    a = AENMF(**kw).fit(X)
    b = AENMF(normalize=False, **kw).fit(X)
    np.testing.assert_allclose(a.components_.sum(axis=1), 1.0, rtol=1e-12)
    Xhat = a.decoder_.T @ (a.encoder_.T @ X)
    np.testing.assert_allclose(a.exposures_ @ a.components_, Xhat, rtol=1e-10)
    np.testing.assert_allclose(b.components_, b.encoder_.T @ X, rtol=1e-12)
    np.testing.assert_array_equal(b.exposures_, b.decoder_.T)
    s = b.components_.sum(axis=1)
    np.testing.assert_allclose(a.components_, b.components_ / s[:, None], rtol=1e-12)
    np.testing.assert_allclose(a.exposures_, b.exposures_ * s, rtol=1e-12)
    np.testing.assert_array_equal(a.fit_transform(X), a.exposures_)
    np.testing.assert_allclose(a.inverse_transform(a.exposures_), Xhat, rtol=1e-10)


def test_all_zero_signature_raises():
    """An encoder column of exact zeros never moves under fp-abs (sign(0) = 0): the
    authors' check then refuses the all-zero signature."""
    X = _counts()
    We, Wd = _weights(X.shape[0], 3, 0, signed=False)
    We[:, 1] = 0.0
    est = AENMF(3, init="custom", learning_rate=0.01, max_iter=50, tol=0)
    for normalize in (True, False):
        with pytest.raises(ValueError, match=r"signature\(s\) \[1\] are all zero.*random_state"):
            est.set_params(normalize=normalize).fit(X, W_enc=We, W_dec=Wd)


# ----------------------------------------------------------------------------- estimator
@pytest.mark.parametrize("loss", ["frobenius", "kullback-leibler"])
def test_float32_stays_float32(loss):
    X = _counts().astype(np.float32)
    kw = dict(n_components=3, beta_loss=loss, learning_rate=0.01, max_iter=50, tol=0)
    m32 = AENMF(random_state=0, **kw).fit(X)
    for a in (m32.components_, m32.exposures_, m32.encoder_, m32.decoder_, m32.transform(X)):
        assert a.dtype == np.float32
    assert m32.loss_history_.dtype == np.float64
    m64 = AENMF(random_state=0, dtype="float64", **kw).fit(X)
    assert m64.components_.dtype == np.float64
    np.testing.assert_allclose(m32.loss_history_, m64.loss_history_, rtol=1e-3)
    assert AENMF(dtype="float32", **kw).fit(X.astype(np.float64)).components_.dtype == np.float32
    assert AENMF(**kw).fit(X.astype(int)).components_.dtype == np.float64


def test_determinism_and_n_init_keeps_the_best():
    X = _counts()
    kw = dict(n_components=3, learning_rate=0.01, max_iter=200, tol=0, random_state=3)
    a, b = AENMF(**kw).fit(X), AENMF(**kw).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    many = AENMF(n_init=4, **kw).fit(X)
    seeds = np.random.RandomState(3).randint(np.iinfo(np.int32).max, size=4)
    finals = [AENMF(**{**kw, "random_state": int(s)}).fit(X).loss_history_[-1]
              for s in [3, *seeds[1:]]]  # fmt: skip
    assert many.loss_history_[-1] == pytest.approx(min(finals), rel=1e-12)
    assert len(set(np.round(finals, 8))) > 1
    # the start is U[0, 1) drawn encoder first
    W, _, _, hist, _ = fit_aenmf(X, AENMF._start(X, 3, 3), max_iter=1, tol=0)
    rng = np.random.RandomState(3)
    We, Wd = rng.uniform(size=(12, 3)), rng.uniform(size=(3, 12))
    assert hist[0] == pytest.approx(aenmf_loss(X, We, Wd.T), rel=1e-12)


def test_custom_start():
    X = _counts()
    We, Wd = _weights(X.shape[0], 2, 8, signed=True)
    m = AENMF(2, init="custom", learning_rate=0.01, max_iter=5, tol=0).fit(X, W_enc=We, W_dec=Wd)
    assert m.n_components_ == 2
    W, *_ = fit_aenmf(X, np.hstack([We, Wd.T]), learning_rate=0.01, max_iter=5, tol=0)
    np.testing.assert_allclose(m.encoder_, np.abs(W[:, :2]), rtol=1e-15)


def test_convergence_warning_and_stopping_rule():
    X = _counts()
    with pytest.warns(ConvergenceWarning, match="max_iter=20"):
        m = AENMF(2, max_iter=20, tol_window=5, random_state=0).fit(X)
    assert m.n_iter_ == 20 and not m.converged_
    assert issubclass(ConvergenceWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AENMF(2, max_iter=20, tol=0, random_state=0).fit(X)  # tol=0: no warning
        m = AENMF(2, learning_rate=0.02, tol=1e-3, tol_window=20, random_state=0).fit(X)
    assert m.converged_ and m.n_iter_ < 50000
    best = np.minimum.accumulate(m.loss_history_)
    t, w = m.n_iter_, 20
    assert best[t - w] - best[t] <= 1e-3 * best[t - w]  # met at the stop ...
    prev = best[w:t] - best[: t - w] + 1e-3 * best[: t - w]
    assert np.all(prev < 0)  # ... and at no earlier step


def test_transform_is_nnls_with_the_signatures():
    X, H = _exact(n=14)
    m = _quiet(AENMF(2, learning_rate=1e-2, max_iter=10000, tol=1e-9, random_state=0).fit, X)
    rng = np.random.default_rng(5)
    Enew = rng.gamma(1.0, 1.0, size=(6, 2))
    Xnew = Enew @ m.components_  # exactly in the cone of the signatures
    np.testing.assert_allclose(m.transform(Xnew), Enew, rtol=1e-8)
    # training samples: NNLS ≈ the trained exposures (near a stationary point)
    E = m.transform(X)
    np.testing.assert_allclose(E, m.exposures_, atol=1e-2 * m.exposures_.max())
    assert np.sum((X - E @ m.components_) ** 2) <= np.sum((X - m.exposures_ @ m.components_) ** 2)


def test_dataframes_feature_names():
    X = _counts()
    df = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    m = AENMF(2, learning_rate=0.01, max_iter=100, tol=0, random_state=0).fit(df)
    assert list(m.feature_names_in_) == list(df.columns)
    assert list(m.get_feature_names_out()) == ["aenmf0", "aenmf1"]
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(m.transform(df), m.transform(X))
    # channels in another order are aligned by name; unknown names are an error
    np.testing.assert_array_equal(m.transform(df[df.columns[::-1]]), m.transform(df))
    with pytest.raises(ValueError, match="feature names"):
        m.transform(df.rename(columns={"c0": "x"}))
    out = m.set_output(transform="pandas").transform(df)
    assert list(out.columns) == ["aenmf0", "aenmf1"]
    assert not hasattr(clone(m), "components_")


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(constraint="relu"), "constraint='relu' is not supported"),
        (dict(beta_loss="itakura-saito"), "beta_loss='itakura-saito' is not supported"),
        (dict(init="nndsvd"), "init='nndsvd' is not supported"),
        (dict(n_components=0), "n_components must be"),
        (dict(n_components=2.5), "n_components must be"),
        (dict(max_iter=0), "max_iter must be"),
        (dict(n_init=0), "n_init must be"),
        (dict(tol_window=0), "tol_window must be"),
        (dict(tol=-1.0), "tol must be"),
        (dict(learning_rate=0.0), "learning_rate must be"),
        (dict(beta_1=1.0), "beta_1 must be"),
        (dict(beta_2=-0.1), "beta_2 must be"),
        (dict(epsilon=0.0), "epsilon must be"),
        (dict(normalize="yes"), "normalize must be"),
        (dict(dtype="float16"), "dtype must be"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        AENMF(**{"n_components": 2, **params}).fit(_counts())


def test_bad_inputs():
    X = _counts()
    n = X.shape[0]
    We, Wd = _weights(n, 2, 0, signed=True)
    with pytest.raises(ValueError, match="Negative values in data passed to AENMF"):
        AENMF(2).fit(X - 1.0)
    Xn = X.copy()
    Xn[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AENMF(2).fit(Xn)
    with pytest.raises(ValueError, match="X is all zero"):
        AENMF(2).fit(np.zeros_like(X))
    custom = AENMF(2, init="custom")
    with pytest.raises(ValueError, match=r"W_enc has shape \(11, 2\)"):
        custom.fit(X, W_enc=We[:11], W_dec=Wd)
    with pytest.raises(ValueError, match=r"W_dec has shape \(2, 11\)"):
        custom.fit(X, W_enc=We, W_dec=Wd[:, :11])
    with pytest.raises(ValueError, match="needs both starts"):
        custom.fit(X, W_enc=We)
    with pytest.raises(ValueError, match="W_enc contains negative.*constraint='pg'"):
        AENMF(2, init="custom", constraint="pg").fit(X, W_enc=We, W_dec=np.abs(Wd))
    Wn = We.copy()
    Wn[0, 0] = np.inf
    with pytest.raises(ValueError, match="W_enc contains NaN or inf"):
        custom.fit(X, W_enc=Wn, W_dec=Wd)
    with pytest.warns(RuntimeWarning, match="ignored"):
        AENMF(2, max_iter=3, tol=0).fit(X, W_enc=We, W_dec=Wd)
    with pytest.raises(
        ValueError, match="loss became (inf|nan) at iteration 1: lower learning_rate"
    ):
        AENMF(2, learning_rate=1e200, max_iter=50, tol=0, random_state=0).fit(X)
    with pytest.raises(ValueError, match="loss of the start is not finite.*rescale X"):
        AENMF(2, random_state=0).fit(X * 1e160)
    m = AENMF(2, max_iter=3, tol=0).fit(X)
    with pytest.raises(ValueError, match="Negative values"):
        m.transform(-X)
    with pytest.raises(ValueError, match="3 features|expecting 9 features"):
        m.transform(X[:, :3])


def test_sklearn_check_estimator():
    reason = (
        "fit_transform returns the trained decoder weights, transform the NNLS exposures "
        "with the signatures fixed (the network cannot encode new samples); they agree "
        "only at an exact stationary point, which 200 Adam steps do not reach"
    )
    xfail = {"check_transformer_general": reason, "check_transformer_data_not_an_array": reason}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_estimator(AENMF(max_iter=200, random_state=0), expected_failed_checks=xfail)
        check_estimator(
            AENMF(constraint="pg", beta_loss="kullback-leibler", max_iter=200, random_state=0),
            expected_failed_checks=xfail,
        )
