"""desurv.decomposition.NMF: scikit-learn agreement, check_estimator, errors and extras."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import NMF as SkNMF
from sklearn.utils.estimator_checks import check_estimator

from desurv.decomposition import NMF, _solvers
from desurv.decomposition._solvers import nmf_loss
from desurv.exceptions import ConvergenceWarning


def _lowrank(n=80, p=50, k=4, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, size=(n, k)) @ rng.gamma(1.0, 1.0, size=(k, p))
    return X + noise * rng.uniform(size=(n, p))


def _start(n, p, k, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 1.0, size=(n, k)), rng.uniform(0.1, 1.0, size=(k, p))


def _fit_quiet(est, X, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit_transform(X, **kw), est


# --------------------------------------------------------------------- sklearn agreement
@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("reg", [(0.0, "same", 0.0), (0.01, 0.03, 0.4), (0.02, "same", 1.0)])
def test_mu_matches_sklearn_step_for_step(beta_loss, fused, reg, monkeypatch):
    # X streamed once by the compiled loops (X "beyond L2"), or BLAS products (k = 4: the KL
    # rule also takes BLAS in L2)
    monkeypatch.setattr(_solvers, "_FUSED_MIN_BYTES", -1 if fused else 1 << 60)
    monkeypatch.setattr(_solvers, "_FRO_FUSED_MAX_K", 0)  # in L2: BLAS whatever k
    n, p = 80, 50
    assert _solvers._kl_fused(n, p, 4, 8) is fused
    assert _solvers._fro_fused(n, p, 4, 8) is fused
    X = _lowrank()
    X[X < 1.0] = 0.0  # zeros exercise the KL flooring
    W0, H0 = _start(*X.shape, 4)
    a_W, a_H, l1 = reg
    common = dict(
        n_components=4,
        solver="mu",
        beta_loss=beta_loss,
        init="custom",
        max_iter=50,
        tol=0,
        alpha_W=a_W,
        alpha_H=a_H,
        l1_ratio=l1,
    )
    Ws, sk = _fit_quiet(SkNMF(**common), X, W=W0.copy(), H=H0.copy())
    W, ours = _fit_quiet(NMF(**common), X, W=W0, H=H0)
    assert ours.n_iter_ == sk.n_iter_ == 50
    assert np.max(np.abs(W - Ws)) <= 1e-10 * np.max(np.abs(Ws))
    assert np.max(np.abs(ours.components_ - sk.components_)) <= 1e-10 * np.max(sk.components_)
    assert ours.reconstruction_err_ == pytest.approx(sk.reconstruction_err_, rel=1e-10)
    # Frobenius: every iteration; KL: the start, every 10th and the last
    steps = np.arange(51) if beta_loss == "frobenius" else np.arange(0, 51, 10)
    np.testing.assert_array_equal(ours.loss_history_iter_, steps)
    assert ours.loss_history_.shape == steps.shape


@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_mu_default_tol_same_stopping_as_sklearn(beta_loss):
    X = _lowrank(seed=2)
    common = dict(n_components=3, solver="mu", beta_loss=beta_loss, random_state=0)
    Ws, sk = _fit_quiet(SkNMF(**common), X)
    W, ours = _fit_quiet(NMF(**common), X)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(W, Ws, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("max_iter", [30, 34])
def test_loss_history_is_the_objective(max_iter):
    X = _lowrank()
    W0, H0 = _start(*X.shape, 4)
    p, n = X.shape[1], X.shape[0]
    for loss in ["frobenius", "kullback-leibler"]:
        m = NMF(
            4, solver="mu", beta_loss=loss, init="custom", max_iter=max_iter, tol=0, alpha_W=0.01
        )
        W, m = _fit_quiet(m, X, W=W0, H=H0)
        hist, steps = m.loss_history_, m.loss_history_iter_
        if loss == "frobenius":
            np.testing.assert_array_equal(steps, np.arange(max_iter + 1))
        else:
            np.testing.assert_array_equal(steps, [*range(0, max_iter, 10), max_iter])
        assert hist.shape == steps.shape and steps[-1] == m.n_iter_
        assert np.all(np.diff(hist) <= 1e-9 * hist[0])  # MU is monotone
        H = m.components_
        pen = 0.5 * 0.01 * (p * np.sum(W**2) + n * np.sum(H**2))
        assert hist[-1] == pytest.approx(nmf_loss(X, W, H, loss) + pen, rel=1e-9)
        assert hist[0] == pytest.approx(
            nmf_loss(X, W0, H0, loss) + 0.5 * 0.01 * (p * np.sum(W0**2) + n * np.sum(H0**2)),
            rel=1e-9,
        )
        # every recorded entry is the objective after that many iterations
        j = len(steps) // 2
        mid = NMF(**{**m.get_params(), "max_iter": int(steps[j])})
        Wj, mid = _fit_quiet(mid, X, W=W0, H=H0)
        Hj = mid.components_
        penj = 0.5 * 0.01 * (p * np.sum(Wj**2) + n * np.sum(Hj**2))
        assert hist[j] == pytest.approx(nmf_loss(X, Wj, Hj, loss) + penj, rel=1e-9)


def test_cd_reaches_sklearn_objective():
    X = _lowrank(n=120, p=60, k=5, noise=0.3, seed=4)
    for kw in [{}, dict(alpha_W=0.01, l1_ratio=0.5)]:
        Ws, sk = _fit_quiet(SkNMF(5, solver="cd", init="nndsvda", max_iter=1000, **kw), X)
        W, ours = _fit_quiet(NMF(5, solver="cd", init="nndsvda", max_iter=1000, **kw), X)
        f_sk = nmf_loss(X, Ws, sk.components_)
        f = nmf_loss(X, W, ours.components_)
        if kw:
            n, p = X.shape
            r = (0.005, 0.005)
            f_sk += r[0] * p * Ws.sum() + 0.5 * r[1] * p * (Ws**2).sum()
            f_sk += r[0] * n * sk.components_.sum() + 0.5 * r[1] * n * (sk.components_**2).sum()
            f += r[0] * p * W.sum() + 0.5 * r[1] * p * (W**2).sum()
            f += r[0] * n * ours.components_.sum() + 0.5 * r[1] * n * (ours.components_**2).sum()
            assert ours.loss_history_[-1] == pytest.approx(f, rel=1e-8)
        assert f <= f_sk * (1 + 1e-6)


# --------------------------------------------------------------------- check_estimator
def test_check_estimator_cd():
    check_estimator(NMF(max_iter=500))  # the setting scikit-learn uses for its own NMF


def test_check_estimator_mu():
    reason = (
        "'mu' cannot reach the exact zeros of W in 500 iterations, while transform "
        "solves the exposures exactly (NNLS): fit_transform and transform then differ "
        "by more than the check's atol=1e-2"
    )
    xfail = {"check_transformer_general": reason, "check_transformer_data_not_an_array": reason}
    check_estimator(NMF(solver="mu", max_iter=500), expected_failed_checks=xfail)
    check_estimator(NMF(solver="mu", beta_loss="kullback-leibler", max_iter=3000, tol=1e-8))


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params,match",
    [
        (dict(solver="als"), "solver='als' is not supported"),
        (dict(beta_loss="itakura-saito"), "beta_loss='itakura-saito' is not supported"),
        (dict(beta_loss="kullback-leibler"), "use solver='mu'"),
        (dict(init="svd"), "init='svd' is not supported"),
        (dict(n_components=0), "n_components must be"),
        (dict(n_components=30, init="nndsvd"), "n_components <= min"),
        (dict(max_iter=0), "max_iter must be"),
        (dict(n_init=0), "n_init must be"),
        (dict(tol=-1.0), "tol must be"),
        (dict(alpha_H="x"), "alpha_H must be"),
        (dict(l1_ratio=2.0), "l1_ratio must be"),
        (dict(dtype="float16"), "dtype must be"),
    ],
)
def test_bad_parameters(params, match):
    X = _lowrank(n=20, p=10)
    with pytest.raises(ValueError, match=match):
        NMF(**params).fit(X)


def test_bad_inputs():
    X = _lowrank(n=20, p=10)
    W0, H0 = _start(20, 10, 3)
    with pytest.raises(ValueError, match="Negative values in data"):
        NMF(3).fit(X - 1.0)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN.*mask="):
        NMF(3).fit(Xn)
    with pytest.raises(ValueError, match=r"W has shape \(19, 3\)"):
        NMF(3, init="custom").fit(X, W=W0[:19], H=H0)
    with pytest.raises(ValueError, match=r"H has shape \(3, 9\)"):
        NMF(3, init="custom").fit(X, W=W0, H=H0[:, :9])
    with pytest.raises(ValueError, match="H contains negative"):
        NMF(3, init="custom").fit(X, W=W0, H=-H0)
    with pytest.raises(ValueError, match="needs both W and H"):
        NMF(3, init="custom").fit(X, W=W0)
    with pytest.raises(ValueError, match="mask has shape"):
        NMF(3, solver="mu").fit(X, mask=np.ones((20, 9)))
    with pytest.raises(ValueError, match="needs solver='mu'"):
        NMF(3, solver="cd").fit(X, mask=np.ones_like(X))
    with pytest.raises(ValueError, match="nonnegative weights"):
        NMF(3, solver="mu").fit(X, mask=-np.ones_like(X))
    with pytest.warns(RuntimeWarning, match="ignored"):
        NMF(3, init="random", random_state=0, max_iter=500).fit(X, W=W0, H=H0)


# --------------------------------------------------------------------- extras
@pytest.mark.parametrize("beta_loss", ["frobenius", "kullback-leibler"])
def test_mask_ignores_missing_entries(beta_loss):
    X = _lowrank(noise=0.0, k=3, seed=5)
    rng = np.random.default_rng(0)
    mask = (rng.uniform(size=X.shape) > 0.15).astype(float)
    Xm = X.copy()
    Xm[mask == 0] = np.nan  # NaN allowed where the mask is 0
    m = NMF(3, solver="mu", beta_loss=beta_loss, init="nndsvda", max_iter=2000, tol=1e-9)
    W, m = _fit_quiet(m, Xm, mask=mask)
    # the missing entries are predicted from the low-rank structure
    R = np.abs(W @ m.components_ - X)
    assert np.median(R[mask == 0]) < 0.02 * X.mean()
    # the values at masked entries are never read (X is zeroed there before the start)
    kw = dict(
        n_components=3,
        solver="mu",
        beta_loss=beta_loss,
        init="nndsvda",
        max_iter=50,
        tol=0,
        random_state=0,
    )
    W2, _ = _fit_quiet(NMF(**kw), np.where(mask == 0, 1e3, X), mask=mask)
    W3, _ = _fit_quiet(NMF(**kw), np.where(mask == 0, 0.0, X), mask=mask)
    np.testing.assert_array_equal(W2, W3)
    assert np.all(np.isfinite(m.loss_history_))


def test_mask_of_ones_equals_unmasked():
    X = _lowrank()
    W0, H0 = _start(*X.shape, 4)
    for loss in ["frobenius", "kullback-leibler"]:
        kw = dict(n_components=4, solver="mu", beta_loss=loss, init="custom", max_iter=40, tol=0)
        Wa, a = _fit_quiet(NMF(**kw), X, W=W0, H=H0)
        Wb, b = _fit_quiet(NMF(**kw), X, W=W0, H=H0, mask=np.ones_like(X))
        np.testing.assert_allclose(Wa, Wb, rtol=1e-9)
        np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=1e-9)
        np.testing.assert_array_equal(a.loss_history_iter_, b.loss_history_iter_)


@pytest.mark.parametrize(
    "solver,beta_loss", [("cd", "frobenius"), ("mu", "frobenius"), ("mu", "kullback-leibler")]
)
def test_float32_computed_in_float32(solver, beta_loss):
    X = _lowrank().astype(np.float32)
    kw = dict(n_components=4, solver=solver, beta_loss=beta_loss, random_state=0, max_iter=300)
    W32, m32 = _fit_quiet(NMF(**kw), X)
    assert W32.dtype == m32.components_.dtype == np.float32
    assert m32.transform(X).dtype == np.float32
    W64, m64 = _fit_quiet(NMF(dtype="float64", **kw), X)
    assert W64.dtype == np.float64
    assert m32.reconstruction_err_ == pytest.approx(m64.reconstruction_err_, rel=1e-3)
    W, m = _fit_quiet(NMF(dtype="float32", **kw), X.astype(np.float64))
    assert W.dtype == np.float32
    W, m = _fit_quiet(NMF(**kw), X.astype(int))
    assert W.dtype == np.float64


def test_n_init_keeps_the_best():
    X = _lowrank(k=6, noise=0.5, seed=7)
    kw = dict(n_components=6, solver="mu", init="random", max_iter=60, tol=0, random_state=3)
    _, one = _fit_quiet(NMF(**kw), X)
    _, many = _fit_quiet(NMF(n_init=5, **kw), X)
    assert many.loss_history_[-1] <= one.loss_history_[-1]
    finals = []
    rng = np.random.RandomState(3)
    seeds = rng.randint(np.iinfo(np.int32).max, size=5)
    for s in [3, *seeds[1:]]:
        _, m = _fit_quiet(NMF(**{**kw, "random_state": int(s)}), X)
        finals.append(m.loss_history_[-1])
    assert many.loss_history_[-1] == pytest.approx(min(finals), rel=1e-12)
    assert len(set(np.round(finals, 6))) > 1  # the restarts really differ


def test_convergence_warning():
    X = _lowrank()
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        NMF(4, solver="mu", max_iter=5, random_state=0).fit(X)
    assert issubclass(ConvergenceWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NMF(4, solver="mu", max_iter=5, tol=0, random_state=0).fit(X)  # tol=0: no warning


@pytest.mark.parametrize("solver,beta_loss", [("cd", "frobenius"), ("mu", "kullback-leibler")])
def test_transform_round_trip_exact_lowrank(solver, beta_loss):
    rng = np.random.default_rng(11)
    H = rng.gamma(0.7, 1.0, size=(4, 60))
    W = rng.gamma(0.7, 1.0, size=(100, 4))
    X = W @ H
    m = NMF(4, solver=solver, beta_loss=beta_loss, init="nndsvda", max_iter=3000, tol=1e-10)
    Wf, m = _fit_quiet(m, X)
    assert m.reconstruction_err_ < 1e-3 * np.linalg.norm(X)
    Xnew = rng.gamma(0.7, 1.0, size=(30, 4)) @ m.components_  # exactly in the cone of H
    Wn = m.transform(Xnew)
    np.testing.assert_allclose(m.inverse_transform(Wn), Xnew, rtol=1e-4, atol=1e-4 * Xnew.max())
    if beta_loss == "frobenius":
        np.testing.assert_allclose(m.inverse_transform(Wn), Xnew, atol=1e-8 * Xnew.max())


def test_transform_is_exact_nnls_with_penalty():
    X = _lowrank(seed=9)
    m = NMF(4, alpha_W=0.01, l1_ratio=0.3, random_state=0, max_iter=500).fit(X)
    Xn = _lowrank(n=15, seed=10)
    Wn = m.transform(Xn)
    H = m.components_
    p = X.shape[1]
    l1, l2 = p * 0.01 * 0.3, p * 0.01 * 0.7
    grad = (Wn @ H - Xn) @ H.T + l1 + l2 * Wn  # KKT of the penalised exposure problem
    assert np.all(grad >= -1e-8)
    assert np.max(np.abs(grad * Wn)) < 1e-8


def test_dataframe_feature_names():
    X = _lowrank(n=30, p=8)
    df = pd.DataFrame(X, columns=[f"g{i}" for i in range(8)])
    m = NMF(3, random_state=0, max_iter=500).fit(df)
    assert list(m.feature_names_in_) == list(df.columns)
    assert m.n_features_in_ == 8
    assert list(m.get_feature_names_out()) == ["nmf0", "nmf1", "nmf2"]
    assert m.transform(df).shape == (30, 3)


def test_nan_messages_name_the_situation():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(20, 6))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="where mask != 0"):
        NMF(n_components=2, solver="mu").fit(X, mask=np.ones(X.shape))
    mask = np.ones(X.shape)
    mask[0, 0] = 0
    model = NMF(n_components=2, solver="mu", max_iter=20).fit(X, mask=mask)
    with pytest.raises(ValueError, match="transform needs complete samples"):
        model.transform(X)
    with pytest.raises(ValueError, match="pass mask= to fit"):
        NMF(n_components=2, solver="mu").fit(X)


def test_inverse_transform_keeps_pandas_labels():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    X = pd.DataFrame(
        rng.uniform(size=(15, 4)), columns=list("abcd"), index=[f"s{i}" for i in range(15)]
    )
    model = NMF(n_components=2, max_iter=50).set_output(transform="pandas").fit(X)
    W = model.transform(X)
    back = model.inverse_transform(W)
    assert isinstance(back, pd.DataFrame)
    assert list(back.columns) == list("abcd") and list(back.index) == list(X.index)
    np.testing.assert_allclose(back.to_numpy(), W.to_numpy() @ model.components_)
    assert isinstance(model.inverse_transform(W.to_numpy()), np.ndarray)
