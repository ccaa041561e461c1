"""NMFCox(solver="cd"): a converged NMF (coordinate descent, NNDSVDa) followed by Cox (issue 11)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from desurv import NMF, ConvergenceWarning, DeSurv, NMFCox, load_model
from desurv.datasets import simulate_desurv
from desurv.deconvolution.nmf_cox import cox_refit

CD = dict(solver="cd", cd_max_iter=2000, random_state=0)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kw)


@pytest.fixture(scope="module")
def sim():
    """A small draw of the authors' design, explicit parameters (per-gene baseline on)."""
    s = simulate_desurv(
        n_samples=60,
        n_genes=120,
        n_components=3,
        n_markers=20,
        n_background=30,
        gene_baseline=(3.0, 1.0),
        random_state=0,
    )
    return s.X.to_numpy(), s.y


@pytest.fixture(scope="module")
def cd_model(sim):
    X, y = sim
    return _quiet(NMFCox(n_components=3, **CD).fit, X, y)


def _sq_err(X, m):
    """‖X − (WH)ᵀ‖² of a fitted model (X samples × genes)."""
    return float(np.linalg.norm(X.T - m.W_ @ m.H_) ** 2)


# ------------------------------------------------------------------------------ convergence
@pytest.mark.parametrize("k", [3, 4])
def test_cd_objective_not_worse_than_mu(sim, k):
    X, y = sim
    mu = _quiet(NMFCox(n_components=k, n_init=3, max_iter=300, random_state=0).fit, X, y)
    cd = _quiet(NMFCox(n_components=k, **CD).fit, X, y)
    assert _sq_err(X, cd) <= _sq_err(X, mu)
    assert cd.objective_["nmf_loss"] <= mu.objective_["nmf_loss"]
    # objective_ is F at α = 0 on DeSurv's scale: ‖X − WH‖²/(2np)
    n, p = X.shape
    assert_allclose(cd.objective_["nmf_loss"], _sq_err(X, cd) / (2 * n * p), rtol=1e-9)


def test_cd_is_desurv_nmf_rescaled(sim, cd_model):
    """W = components_.T of desurv.NMF with unit columns, H rescaled: same WH, same fit."""
    X, _ = sim
    m = cd_model
    nmf = NMF(n_components=3, solver="cd", init="nndsvda", tol=1e-6, max_iter=2000, random_state=0)
    Ht = _quiet(nmf.fit_transform, X)
    assert_allclose(m.W_ @ m.H_, nmf.components_.T @ Ht.T, rtol=1e-12, atol=1e-12)
    assert_allclose(np.linalg.norm(m.W_, axis=0), 1.0, rtol=1e-12)
    assert m.W_.shape == (X.shape[1], 3) and m.H_.shape == (3, X.shape[0])
    assert m.W_.min() >= 0 and m.H_.min() >= 0
    assert_array_equal(m.components_, m.W_.T)
    assert m.n_iter_ == nmf.n_iter_
    assert m.converged_ == (nmf.n_iter_ < 2000)
    # the standardisation of Z = X·W
    Z = X @ m.W_
    assert_allclose(m.mean_z_, Z.mean(axis=0), rtol=1e-10)
    assert_allclose(m.sd_z_, Z.std(axis=0, ddof=1), rtol=1e-10)
    # history: NMF's objective per iteration on DeSurv's scale; its last value is the final
    # NMF term (no penalties, so the rescaling of W and H does not change it)
    hist = m.loss_history_
    assert list(hist.columns)[:2] == ["loss", "nmf_loss"] and len(hist) == m.n_iter_
    assert_allclose(hist["loss"].iloc[-1], m.objective_["nmf_loss"], rtol=1e-8)
    assert np.all(np.diff(hist["loss"].to_numpy()) <= 1e-12)
    assert hist["cox_loss"].isna().all() and m.init_scores_.shape == (0,)


def test_cd_ridge_penalties_map_to_nmf(sim):
    """λ_W, λ_H enter desurv.NMF so that its objective / np is DeSurv's F at α = 0."""
    X, y = sim
    m = _quiet(NMFCox(n_components=3, penalty_w=0.5, penalty_h=0.2, **CD).fit, X, y)
    nmf = NMF(
        n_components=3, solver="cd", init="nndsvda", tol=1e-6, max_iter=2000, random_state=0,
        alpha_W=0.2 / 3, alpha_H=0.5 / 3, l1_ratio=0.0,
    )  # fmt: skip
    Ht = _quiet(nmf.fit_transform, X)
    assert_allclose(m.W_ @ m.H_, nmf.components_.T @ Ht.T, rtol=1e-12, atol=1e-12)
    # F at the unrescaled factors, DeSurv's formula
    n, p = X.shape
    W, H = nmf.components_.T, Ht.T
    F = (
        np.linalg.norm(X.T - W @ H) ** 2 / (2 * n * p)
        + 0.2 * np.sum(H**2) / (2 * n * 3)
        + 0.5 * np.sum(W**2) / (2 * p * 3)
    )
    assert_allclose(m.loss_history_["loss"].iloc[-1], F, rtol=1e-8)


# ------------------------------------------------------------------------ β at a fixed W
def test_beta_at_fixed_w_equals_fit_desurv_refit_exactly(sim):
    """cox_refit is the final β step of fit_desurv: identical β, mean and sd at the same W.

    With a custom start β stays 0 through the α = 0 loop, so fit_desurv's final refit
    starts from β = 0 like cox_refit: bit-identical.
    """
    X, y = sim
    rng = np.random.default_rng(3)
    W0 = rng.uniform(0.1, 1.0, size=(X.shape[1], 3))
    H0 = rng.uniform(0.1, 1.0, size=(3, X.shape[0]))
    m = _quiet(NMFCox(n_components=3, init="custom", max_iter=5).fit, X, y, W_init=W0, H_init=H0)
    beta, mean, sd, obj = cox_refit(
        X.T, y["time"], y["event"], m.W_, m.H_, penalty=m.penalty, l1_ratio=m.l1_ratio
    )
    assert_array_equal(beta, m.coef_)
    assert_array_equal(mean, m.mean_z_)
    assert_array_equal(sd, m.sd_z_)
    assert obj == pytest.approx(m.objective_, rel=1e-12)


def test_beta_at_fixed_w_matches_random_start_mu(sim):
    """After random starts, fit_desurv warm-starts the same step from the start's β: equal to
    the β-step tolerance (1e-6); and equal to an independent elastic-net Cox fit."""
    X, y = sim
    for k in (3, 4):
        mu = _quiet(NMFCox(n_components=k, n_init=3, max_iter=300, random_state=0).fit, X, y)
        beta, mean, sd, _ = cox_refit(
            X.T, y["time"], y["event"], mu.W_, penalty=mu.penalty, l1_ratio=mu.l1_ratio
        )
        assert_array_equal(mean, mu.mean_z_)
        assert_array_equal(sd, mu.sd_z_)
        assert_allclose(beta, mu.coef_, rtol=1e-5, atol=1e-8)


def test_cd_beta_is_the_refit_at_its_w(sim, cd_model):
    from desurv.survival.cox import coxnet_fit

    X, y = sim
    m = cd_model
    beta, mean, sd, _ = cox_refit(X.T, y["time"], y["event"], m.W_, penalty=0.1, l1_ratio=0.5)
    assert_array_equal(m.coef_, beta)
    assert_array_equal(m.mean_z_, mean)
    fit = coxnet_fit(X @ m.W_, y["time"], y["event"], 0.1, 0.5, tol=1e-6, max_iter=500)
    assert_allclose(m.coef_, fit.coef, rtol=1e-6, atol=1e-10)


# -------------------------------------------------------------------- the public surface
def test_cd_predict_score_survival_summary(sim, cd_model):
    X, y = sim
    m = cd_model
    eta = m.predict(X)
    assert_allclose(eta, (X @ m.W_ - m.mean_z_) @ m.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(m.transform(X), X @ m.W_, rtol=1e-12)
    c = m.score(X, y)
    assert 0.5 < c <= 1.0
    S = m.predict_survival_function(X[:5], return_array=True)
    assert S.shape == (5, m.unique_times_.shape[0])
    assert np.all((S >= 0) & (S <= 1)) and np.all(np.diff(S, axis=1) <= 1e-12)
    table = m.summary()
    assert table.shape[0] == 3
    assert_allclose(table["coef"].to_numpy(), m.coef_)
    assert m.top_genes(5).shape == (5, 3)
    assert "solver='cd'" in repr(m)


def test_cd_save_load_round_trip(sim, cd_model, tmp_path):
    X, y = sim
    m = cd_model
    path = tmp_path / "nmfcox_cd.npz"
    m.save(path)
    back = load_model(path)
    assert type(back) is NMFCox and back.alpha == 0.0
    for attr in ("W_", "H_", "coef_", "mean_z_", "sd_z_", "baseline_time_"):
        assert_array_equal(getattr(back, attr), getattr(m, attr))
    assert_array_equal(back.baseline_cumulative_hazard_, m.baseline_cumulative_hazard_)
    assert_array_equal(back.coef_covariance_, m.coef_covariance_)
    assert back.n_iter_ == m.n_iter_ and back.converged_ == m.converged_
    assert back.objective_ == pytest.approx(m.objective_)
    assert_array_equal(back.loss_history_.to_numpy(), m.loss_history_.to_numpy())  # NaN too
    assert_array_equal(back.predict(X), m.predict(X))
    assert back.score(X, y) == m.score(X, y)
    # the NMFCox-only parameters round-trip with the shared ones
    params = back.get_params()
    assert params == m.get_params()
    assert params["solver"] == "cd" and params["n_components"] == 3
    # DeSurv.load reads the same file as a DeSurv(alpha=0)
    as_desurv = DeSurv.load(path)
    assert type(as_desurv) is DeSurv and as_desurv.alpha == 0.0
    assert_array_equal(as_desurv.predict(X), m.predict(X))
    assert params["random_state"] == 0 and params["penalty"] == m.penalty
    # the default solver still round-trips too
    mu = _quiet(NMFCox(n_components=2, n_init=1, max_iter=20, random_state=0).fit, X, y)
    mu.save(tmp_path / "mu.npz")
    assert_array_equal(load_model(tmp_path / "mu.npz").predict(X), mu.predict(X))


# ------------------------------------------------------------------------ parameters
def test_bad_solver_names_the_choices(sim):
    X, y = sim
    for bad in ("hals", None, "CD"):
        with pytest.raises(ValueError, match=r"solver must be 'mu' or 'cd'"):
            NMFCox(solver=bad).fit(X, y)


def test_cd_rejects_bad_cd_params_and_custom_starts(sim):
    X, y = sim
    with pytest.raises(ValueError, match="cd_init must be one of"):
        NMFCox(solver="cd", cd_init="custom").fit(X, y)
    with pytest.raises(ValueError, match="cd_max_iter must be >= 1"):
        NMFCox(solver="cd", cd_max_iter=0).fit(X, y)
    with pytest.raises(ValueError, match="cd_tol must be a real number"):
        NMFCox(solver="cd", cd_tol="1e-6").fit(X, y)
    with pytest.raises(ValueError, match="too large"):
        NMFCox(solver="cd", n_components=61).fit(X, y)
    with pytest.raises(ValueError, match="no custom start"):
        NMFCox(solver="cd", init="custom").fit(X, y, W_init=np.ones((X.shape[1], 3)))


def test_cd_warns_at_cd_max_iter_and_calls_callback(sim):
    X, y = sim
    calls = []
    with pytest.warns(ConvergenceWarning, match="cd_max_iter=3"):
        m = NMFCox(n_components=3, solver="cd", cd_max_iter=3).fit(
            X, y, callback=lambda it, obj: calls.append((it, obj.loss))
        )
    assert m.n_iter_ == 3 and not m.converged_
    assert calls == [(3, m.objective_["loss"])]


def test_cd_clone_and_params():
    m = NMFCox(solver="cd", cd_tol=1e-5)
    c = clone(m)
    assert c.get_params()["solver"] == "cd" and c.cd_tol == 1e-5
    assert NMFCox().solver == "mu"  # the paper's baseline stays the default
    assert NMFCox().get_params()["cd_init"] == "nndsvda"
    # the parameters that model files do not store are exactly those DeSurv lacks
    from desurv.deconvolution.nmf_cox import NMFCOX_ONLY_PARAMS

    extra = set(NMFCox._get_param_names()) - set(DeSurv._get_param_names())
    assert extra == set(NMFCOX_ONLY_PARAMS)


def test_cd_float32(sim):
    X, y = sim
    m = _quiet(NMFCox(n_components=3, dtype="float32", **CD).fit, X, y)
    assert m.W_.dtype == np.float64 and m.coef_.dtype == np.float64
    assert_allclose(np.linalg.norm(m.W_, axis=0), 1.0, rtol=1e-12)
    assert 0.5 < m.score(X, y) <= 1.0


def test_registry_nmf_cox_cd():
    from desurv.benchmark import get_method

    spec, base = get_method("nmf-cox-cd"), get_method("nmf-cox")
    assert spec.defaults["solver"] == "cd" and base.defaults["solver"] == "mu"
    assert {k: v for k, v in spec.defaults.items() if k != "solver"} == {
        k: v for k, v in base.defaults.items() if k != "solver"
    }
    assert spec.task == "survival" and spec.metrics == base.metrics
    est = spec.factory(**{**spec.defaults, "n_components": 2})
    assert isinstance(est, NMFCox) and est.solver == "cd" and est.cd_init == "nndsvda"
