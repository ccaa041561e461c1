"""The DeSurv solver: R-reference agreement, monotone objective, gradients, determinism."""

import threading
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, REF, require
from scipy.optimize import linear_sum_assignment

from desurv import ConvergenceWarning, fit_desurv
from desurv.deconvolution._loop import SolverParams, _Problem
from desurv.survival.cox import cox_gradient, cox_partial_log_likelihood


# --------------------------------------------------------------------------- R reference
@pytest.fixture(scope="module")
def rdata():
    require(REF)
    X = pd.read_csv(REF / "X.csv", index_col=0).to_numpy()
    surv = pd.read_csv(REF / "surv.csv")
    W0 = pd.read_csv(REF / "init" / "W0.csv", index_col=0).to_numpy()
    H0 = pd.read_csv(REF / "init" / "H0.csv", index_col=0).to_numpy()
    return X, surv["time"].to_numpy(), surv["event"].to_numpy(), W0, H0


def _read_run(name):
    d = REF / name
    return dict(
        W=pd.read_csv(d / "W.csv", index_col=0).to_numpy(),
        H=pd.read_csv(d / "H.csv", index_col=0).to_numpy(),
        beta=pd.read_csv(d / "beta.csv")["beta"].to_numpy(),
        trace=pd.read_csv(d / "loss_trace.csv"),
        final=pd.read_csv(d / "final_loss.csv").iloc[0],
        summary=pd.read_csv(d / "summary.csv").iloc[0],
        mz=pd.read_csv(d / "meanZ_sdZ.csv"),
    )


RUNS = {
    "core_alpha0": dict(alpha=0.0, penalty=0.05, l1_ratio=0.5, penalty_w=0.0, penalty_h=0.0),
    "core_alpha0.5": dict(alpha=0.5, penalty=0.05, l1_ratio=0.5, penalty_w=0.1, penalty_h=0.1),
}


def _fit_r(rdata, name, convention):
    X, time, event, W0, H0 = rdata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_desurv(
            X,
            time,
            event,
            3,
            W_init=W0,
            H_init=H0,
            tol=1e-8,
            max_iter=300,
            loss_convention=convention,
            **RUNS[name],
        )


def test_loss_components_match_reference_at_start(rdata):
    X, time, event, W0, H0 = rdata
    ref = pd.read_csv(REF / "loss" / "loss.csv").iloc[0]
    order = np.argsort(time, kind="stable")
    prm = SolverParams(
        alpha=0.5,
        penalty=0.05,
        l1_ratio=0.5,
        penalty_w=0.1,
        penalty_h=0.1,
        loss_convention="reference",
    )
    prob = _Problem(np.ascontiguousarray(X[:, order]), time[order], event[order].astype(float), prm)
    Z = prob.X.T @ W0
    sd = Z.std(axis=0, ddof=1)
    obj = prob.objective_at(Z, W0, np.ascontiguousarray(H0[:, order]), np.zeros(3), sd)
    assert obj.nmf_loss == pytest.approx(ref["nmf_loss"], rel=1e-10)
    assert -2 * obj.cox_loss == pytest.approx(ref["surv_loss"], rel=1e-10)
    assert obj.enet_beta == pytest.approx(ref["penalty_beta"], abs=1e-12)
    assert obj.sqnorm_w == pytest.approx(ref["penalty_W"], rel=1e-10)
    assert obj.sqnorm_h == pytest.approx(ref["penalty_H"], rel=1e-10)
    assert obj.loss == pytest.approx(ref["loss"], rel=1e-10)


@pytest.mark.parametrize("name", list(RUNS))
def test_reference_convention_reproduces_r(rdata, name):
    r = _read_run(name)
    res = _fit_r(rdata, name, "reference")
    assert res.n_iter == int(r["summary"]["iterations"])
    assert res.converged == bool(r["summary"]["convergence"])
    np.testing.assert_allclose(res.W, r["W"], atol=1e-6)
    np.testing.assert_allclose(res.H, r["H"], atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(res.beta, r["beta"], atol=1e-6)
    np.testing.assert_allclose(res.sd_z, r["mz"]["sdZ"], rtol=1e-6)
    tr = r["trace"]
    np.testing.assert_allclose(res.history["loss"], tr["loss"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(-2 * res.history["cox_loss"], tr["surv_loss"], rtol=1e-8)
    np.testing.assert_allclose(res.history["enet_beta"], tr["penalty_beta"], atol=1e-8)
    fin = r["final"]
    assert res.objective["nmf_loss"] == pytest.approx(fin["nmf_loss"], rel=1e-8)
    assert -2 * res.objective["cox_loss"] == pytest.approx(fin["surv_loss"], rel=1e-8)


def test_alpha0_default_convention_equals_r(rdata):
    """With α = 0 the Cox term has no weight, so both conventions are the reference run."""
    r = _read_run("core_alpha0")
    res = _fit_r(rdata, "core_alpha0", "consistent")
    assert res.n_iter == int(r["summary"]["iterations"])
    np.testing.assert_allclose(res.W, r["W"], atol=1e-6)
    np.testing.assert_allclose(res.H, r["H"], atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(res.beta, r["beta"], atol=1e-6)


def test_alpha05_default_convention_close_to_r(rdata):
    """The consistent objective differs by design; the solution stays close (figures in
    the issue note: matched cosines and the correlation of η)."""
    X = rdata[0]
    r = _read_run("core_alpha0.5")
    res = _fit_r(rdata, "core_alpha0.5", "consistent")
    Wn = res.W / np.linalg.norm(res.W, axis=0)
    Rn = r["W"] / np.linalg.norm(r["W"], axis=0)
    cos = Rn.T @ Wn
    rows, cols = linear_sum_assignment(-cos)
    assert np.all(cols == rows)  # factors stay in their places
    assert cos[rows, cols].min() > 0.95
    eta, eta_r = X.T @ res.W @ res.beta, X.T @ r["W"] @ r["beta"]
    assert np.corrcoef(eta, eta_r)[0, 1] > 0.99
    assert np.all(np.diff(res.history["loss"]) <= 1e-12 * np.abs(res.history["loss"][1:]))


# --------------------------------------------------------------------------- invariants
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_objective_never_increases(small_problem, alpha, ties):
    X, time, event, k = small_problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_desurv(
            X,
            time,
            event,
            k,
            alpha=alpha,
            penalty=0.05,
            penalty_w=0.01,
            penalty_h=0.01,
            n_init=2,
            max_iter=150,
            tol=0,
            random_state=1,
            ties=ties,
        )
    loss = res.history["loss"]
    assert len(loss) == 150
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))
    assert loss[-1] < loss[0]


def test_objective_from_small_products_equals_direct_formula(small_problem):
    X, time, event, k = small_problem
    rng = np.random.default_rng(0)
    W = rng.uniform(size=(X.shape[0], k))
    H = rng.uniform(size=(k, X.shape[1]))
    beta = rng.normal(size=k)
    order = np.argsort(time, kind="stable")
    prm = SolverParams(alpha=0.3, penalty=0.2, l1_ratio=0.4, penalty_w=0.5, penalty_h=0.7)
    prob = _Problem(np.ascontiguousarray(X[:, order]), time[order], event[order] * 1.0, prm)
    Hs = H[:, order]
    Z = prob.X.T @ W
    sd = Z.std(axis=0, ddof=1)
    obj = prob.objective_at(Z, W, Hs, beta, sd)
    p, n = X.shape
    ll = cox_partial_log_likelihood(X.T @ W @ beta, time, event)
    b = beta * sd
    direct = (
        0.7 * (np.sum((X - W @ H) ** 2) / (2 * n * p) + 0.7 * np.sum(H**2) / (2 * n * k))
        + 0.3 * (-ll / event.sum() + 0.2 * (0.4 * np.abs(b).sum() + 0.3 * b @ b))
        + 0.5 * np.sum(W**2) / (2 * p * k)
    )
    assert obj.loss == pytest.approx(direct, rel=1e-12)


def test_w_gradient_matches_finite_differences(small_problem):
    """∂F/∂W = (1−α)/(np)(WH−X)Hᵀ + λ_W/(pk)W − α/n_event·X g βᵀ (λ = 0): the pieces the W
    step balances, checked against central differences of the objective."""
    X, time, event, k = small_problem
    p, n = X.shape
    rng = np.random.default_rng(1)
    W = rng.uniform(0.2, 1, size=(p, k))
    H = rng.uniform(size=(k, n))
    beta = rng.normal(scale=0.05, size=k)
    alpha, lam_w = 0.4, 0.3
    order = np.argsort(time, kind="stable")
    prm = SolverParams(alpha=alpha, penalty=0.0, l1_ratio=0.5, penalty_w=lam_w, penalty_h=0.0)
    prob = _Problem(np.ascontiguousarray(X[:, order]), time[order], event[order] * 1.0, prm)
    Hs = np.ascontiguousarray(H[:, order])

    def F(Wm):
        return prob.objective_at(prob.X.T @ Wm, Wm, Hs, beta, np.ones(k)).loss

    _, g, _ = cox_gradient(X.T @ W @ beta, time, event)
    analytic = (
        (1 - alpha) / (n * p) * (W @ H - X) @ H.T
        + lam_w / (p * k) * W
        - alpha / event.sum() * np.outer(X @ g, beta)
    )
    h = 1e-6
    for i, f in [(0, 0), (5, 1), (17, 2), (39, 0)]:
        E = np.zeros_like(W)
        E[i, f] = h
        fd = (F(W + E) - F(W - E)) / (2 * h)
        assert fd == pytest.approx(analytic[i, f], rel=1e-5, abs=1e-9)


# --------------------------------------------------------------------------- behaviour
def test_same_seed_is_bit_identical_and_start_selection(small_problem):
    X, time, event, k = small_problem
    kw = dict(alpha=0.5, n_init=4, init_max_iter=10, max_iter=40, random_state=123, warn=False)
    a = fit_desurv(X, time, event, k, **kw)
    b = fit_desurv(X, time, event, k, **kw)
    for name in ("W", "H", "beta"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.init_scores.shape == (4,)
    assert a.best_init == int(np.argmin(a.init_scores))
    c = fit_desurv(X, time, event, k, **{**kw, "random_state": 124})
    assert not np.array_equal(a.W, c.W)


def test_init_select_cindex_keeps_best_concordance(small_problem):
    X, time, event, k = small_problem
    res = fit_desurv(
        X,
        time,
        event,
        k,
        n_init=3,
        init_max_iter=5,
        max_iter=5,
        init_select="cindex",
        random_state=0,
        warn=False,
    )
    assert res.best_init == int(np.argmax(res.init_scores))
    assert np.all((res.init_scores >= 0) & (res.init_scores <= 1))


def test_threads_give_identical_results(small_problem):
    """Fits running concurrently in threads (kernels release the GIL) equal serial fits."""
    X, time, event, k = small_problem
    seeds = [1, 2, 3, 4]
    kw = dict(alpha=0.5, n_init=2, init_max_iter=5, max_iter=30, warn=False)
    serial = [fit_desurv(X, time, event, k, random_state=s, **kw) for s in seeds]
    out = [None] * len(seeds)

    def work(i):
        out[i] = fit_desurv(X, time, event, k, random_state=seeds[i], **kw)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(seeds))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s, t in zip(serial, out, strict=True):
        assert np.array_equal(s.W, t.W) and np.array_equal(s.beta, t.beta)


def test_h_is_returned_in_input_order(small_problem):
    X, time, event, k = small_problem
    rng = np.random.default_rng(4)
    W0 = rng.uniform(size=(X.shape[0], k))
    H0 = rng.uniform(size=(k, X.shape[1]))
    kw = dict(alpha=0.5, max_iter=20, warn=False)
    a = fit_desurv(X, time, event, k, W_init=W0, H_init=H0, **kw)
    perm = rng.permutation(X.shape[1])
    # a permutation of samples that keeps the relative order of tied times
    perm = perm[np.argsort(time[perm], kind="stable")]
    b = fit_desurv(X[:, perm], time[perm], event[perm], k, W_init=W0, H_init=H0[:, perm], **kw)
    np.testing.assert_allclose(b.H, a.H[:, perm], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.W, a.W, rtol=1e-9, atol=1e-12)


def test_convergence_warning_and_converged_flag(small_problem):
    X, time, event, k = small_problem
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = fit_desurv(X, time, event, k, n_init=1, max_iter=3, tol=1e-12)
    assert not res.converged and res.n_iter == 3
    res = fit_desurv(X, time, event, k, n_init=1, max_iter=5000, tol=1e-3)
    assert res.converged and res.n_iter < 5000


def test_custom_w_only_uses_nnls_exposures(small_problem):
    X, time, event, k = small_problem
    W0 = np.random.default_rng(2).uniform(size=(X.shape[0], k))
    res = fit_desurv(X, time, event, k, W_init=W0, max_iter=1, warn=False)
    assert res.best_init == -1 and res.init_scores.size == 0
    assert np.all(res.H >= 0)


def test_final_beta_is_cox_fit_on_projections(small_problem):
    """ξ = 0 and a tiny λ: the final β is the Breslow Cox MLE on Z = XᵀW (scikit-survival)."""
    sksurv = pytest.importorskip("sksurv.linear_model")
    from desurv import make_survival_y

    X, time, event, k = small_problem
    res = fit_desurv(
        X,
        time,
        event,
        k,
        alpha=0.0,
        penalty=1e-9,
        l1_ratio=0.0,
        n_init=1,
        max_iter=50,
        random_state=0,
        warn=False,
        beta_tol=1e-12,
        beta_max_iter_final=10000,
    )
    Z = X.T @ res.W
    m = sksurv.CoxPHSurvivalAnalysis(ties="breslow", tol=1e-12, n_iter=1000)
    m.fit(Z, make_survival_y(time, event))
    np.testing.assert_allclose(res.beta, m.coef_, rtol=1e-4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_components=0), "n_components"),
        (dict(n_components=100), "too large"),
        (dict(alpha=1.0), "alpha"),
        (dict(penalty=-1), "penalty"),
        (dict(l1_ratio=2), "l1_ratio"),
        (dict(ties="exact"), "ties"),
        (dict(loss_convention="x"), "loss_convention"),
        (dict(H_init=np.ones((3, 60))), "W_init"),
        (dict(W_init=np.ones((5, 3))), "shape"),
    ],
)
def test_bad_parameters(small_problem, kwargs, match):
    X, time, event, k = small_problem
    args = dict(n_components=k) | kwargs
    with pytest.raises(ValueError, match=match):
        fit_desurv(X, time, event, **args)


def test_bad_data(small_problem):
    X, time, event, k = small_problem
    Xn = X.copy()
    Xn[0, 0] = -1
    with pytest.raises(ValueError, match="negative"):
        fit_desurv(Xn, time, event, k)
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_desurv(Xn, time, event, k)
    with pytest.raises(ValueError, match="mismatched|samples"):
        fit_desurv(X, time[:-1], event[:-1], k)
    with pytest.raises(ValueError, match="no events"):
        fit_desurv(X, time, np.zeros_like(event), k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blas_and_compiled_products_give_the_same_fit(small_problem, dtype):
    """n_threads = 2 (compiled products split over threads when X is large enough, BLAS
    threads otherwise) gives the one-thread fit up to rounding (float32: looser)."""
    X, time, event, k = small_problem
    kw = dict(alpha=0.5, n_init=2, max_iter=40, tol=0, random_state=3, dtype=dtype, warn=False)
    a = fit_desurv(X, time, event, k, n_threads=1, **kw)
    b = fit_desurv(X, time, event, k, n_threads=2, **kw)
    rtol = 1e-8 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(a.history["loss"], b.history["loss"], rtol=rtol)
    np.testing.assert_allclose(a.W, b.W, rtol=100 * rtol, atol=100 * rtol * a.W.max())


def test_many_factors_use_blas_products(small_problem):
    """k above the compiled kernels' limit still fits, and F never increases."""
    from desurv.deconvolution._loop import MAX_COMPILED_K

    X, time, event, _ = small_problem
    k = MAX_COMPILED_K + 1
    res = fit_desurv(X, time, event, k, alpha=0.3, n_init=1, max_iter=30, tol=0, warn=False)
    loss = res.history["loss"]
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))
    assert res.W.shape == (X.shape[0], k)


def test_sorted_columns_for_c_and_f_ordered_input():
    from desurv.deconvolution.solver import _sorted_columns

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(600, 7))
    order = rng.permutation(7)
    for A in (X, np.asfortranarray(X), X.astype(np.float32)):
        out = _sorted_columns(A, order)
        assert out.flags.c_contiguous and out.dtype == A.dtype
        np.testing.assert_array_equal(out, A[:, order])


@pytest.mark.parametrize(
    ("scale", "match"),
    [("zero", "all zero"), ("constant", "constant"), ("huge", "overflows"), ("tiny", "underflow")],
)
def test_fit_desurv_rejects_meaningless_x_up_front(scale, match):
    # functional API: the same up-front checks as the estimators, not a fit that "converges"
    # to β = 0 or a RuntimeError about non-finite objectives
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(12, 20))
    X = {
        "zero": np.zeros_like(X),
        "constant": np.full_like(X, 3.0),
        "huge": X * 1e300,
        "tiny": X * 1e-300,
    }[scale]
    time = rng.exponential(size=20)
    event = np.arange(20) % 2 == 0
    with pytest.raises(ValueError, match=match):
        fit_desurv(X, time, event, 2, n_init=1, max_iter=3)


def test_objective_components_are_not_named_like_parameters():
    # a run with λ_W = λ_H = 0 once showed "penalty_h": 3.6e6 in summary.json: the components
    # are the terms before their weights and must not share the parameters' names
    from desurv import DeSurv
    from desurv.deconvolution.solver import HISTORY_FIELDS

    params = set(DeSurv().get_params())
    assert not params & set(HISTORY_FIELDS)
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(15, 24))
    res = fit_desurv(X, rng.exponential(size=24), np.arange(24) % 3 == 0, 2, n_init=1, max_iter=3)
    assert not params & set(res.objective)
    assert {"enet_beta", "sqnorm_w", "sqnorm_h"} <= set(res.objective)


def test_a_fit_whose_w_step_is_always_rejected_warns():
    """balance="numerator" at α = 0.5 on a real cohort: the push makes every damped W trial
    raise F, so only H and β move and F settles: "converged" with W at its start. That is a
    stall, not a solution, and it warns; the default balance does not."""
    from desurv.datasets import load_cohort
    from desurv.preprocessing import Preprocessor

    require(EXPR)
    X, y, _ = load_cohort(EXPR / "gse4335.expression.tsv.gz", EXPR / "gse4335.clinical.tsv")
    Xt = Preprocessor(transform="rank", n_genes=2000).fit_transform(X).to_numpy().T
    kw = dict(alpha=0.5, n_init=2, max_iter=300, random_state=0)
    with pytest.warns(ConvergenceWarning, match="W step was rejected in"):
        res = fit_desurv(Xt, y["time"], y["event"], 3, balance="numerator", **kw)
    assert res.converged and np.mean(res.history["theta"] == 0) > 0.5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_desurv(Xt, y["time"], y["event"], 3, **kw)
    assert not any("W step was rejected" in str(w.message) for w in caught)
