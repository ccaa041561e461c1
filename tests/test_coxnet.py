"""CoxNet baseline: path kernel vs its NumPy twin, optimality, scikit-survival, internal CV."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, require
from numpy.testing import assert_allclose, assert_array_equal

from desurv._kernels import _coxnet_path as K
from desurv._reference import coxnet_path as ref
from desurv._validation import make_survival_y
from desurv.exceptions import ConvergenceWarning
from desurv.survival.concordance import concordance_index
from desurv.survival.coxnet import CoxNet, CoxnetPath, _saturated_loglik, coxnet_path

TIES = [False, True]  # efron


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def surv_data(seed, n=60, p=8, n_times=None, p_event=0.7, corr=0.0, n_true=3):
    """Time-sorted survival data with a sparse true β (ties when ``n_times`` is given)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    if corr:
        X[:, 1:] += corr * X[:, :1]
    beta = np.zeros(p)
    beta[:n_true] = rng.choice([-1.0, 1.0], n_true) * rng.uniform(0.4, 1.0, n_true)
    t = rng.exponential(np.exp(-X @ beta))
    if n_times is not None:  # coarse grid of times: many ties
        t = np.ceil(t / t.max() * n_times)
    event = (rng.random(n) < p_event).astype(float)
    event[np.argmin(t)] = 1.0
    order = np.argsort(t, kind="stable")
    return X[order], t[order].astype(float), event[order]


def standardise(X):
    return np.asfortranarray((X - X.mean(axis=0)) / X.std(axis=0, ddof=1))


def kernel_path(Xs, time, event, lambdas, xi, pf=None, efron=False, exact=True, tol=1e-12,
                screen=True, lam_prev=None, beta0=None):  # fmt: skip
    p = Xs.shape[1]
    pf = np.ones(p) if pf is None else pf
    coefs = np.full((p, len(lambdas)), np.nan)
    n_iter = np.zeros(len(lambdas), dtype=np.int64)
    conv = np.zeros(len(lambdas), dtype=bool)
    beta = np.zeros(p) if beta0 is None else beta0.copy()
    lam_prev = lambdas[0] if lam_prev is None else lam_prev
    K.coxnet_path(
        np.asfortranarray(Xs), time, event, efron, exact, np.asarray(lambdas, dtype=float),
        xi, pf, beta, lam_prev, tol, 100_000, screen, coefs, n_iter, conv,
    )  # fmt: skip
    return coefs, n_iter, conv


def kkt_violation(Xs, time, event, beta, lam, xi, pf, efron=False):
    """Largest violation of the elastic-net Cox optimality conditions (reference gradient)."""
    g = ref.diag_stats(Xs @ beta, time, event, efron)[1]
    c = Xs.T @ g / event.sum()
    nz = beta != 0
    v_nz = np.abs(c[nz] - lam * pf[nz] * (xi * np.sign(beta[nz]) + (1 - xi) * beta[nz]))
    v_z = np.maximum(np.abs(c[~nz]) - lam * xi * pf[~nz], 0.0)
    return max(v_nz.max(initial=0.0), v_z.max(initial=0.0))


# ------------------------------------------------------------------------------------------
# likelihood and curvature kernels vs the reference formulas
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("efron", TIES)
@pytest.mark.parametrize("n_times", [None, 6])
def test_diag_stats_match_reference(efron, n_times):
    _, time, event = surv_data(1, n=35, n_times=n_times)
    eta = np.random.default_rng(2).normal(size=35) * 1.5
    g, w = np.empty(35), np.empty(35)
    ll = K.cox_diag_stats(eta, time, event, efron, g, w)
    ll_r, g_r, w_r = ref.diag_stats(eta, time, event, efron)
    assert ll == pytest.approx(ll_r, rel=1e-13)
    assert_allclose(g, g_r, atol=1e-13)
    assert_allclose(w, w_r, atol=1e-13)
    assert K.cox_loglik(eta, time, event, efron) == ll
    # a huge common shift changes nothing (shift invariance) and must not overflow
    g2, w2 = np.empty(35), np.empty(35)
    assert K.cox_diag_stats(eta + 900.0, time, event, efron, g2, w2) == pytest.approx(ll, 1e-12)
    assert_allclose(g2, g_r, atol=1e-12)
    assert_allclose(w2, w_r, atol=1e-12)


@pytest.mark.parametrize("efron", TIES)
def test_diag_stats_huge_spread_stays_finite(efron):
    _, time, event = surv_data(3, n=30, n_times=5)
    eta = np.linspace(-400, 400, 30)[::-1]  # exp would overflow without the shifted sums
    g, w = np.empty(30), np.empty(30)
    ll = K.cox_diag_stats(eta, time, event, efron, g, w)
    assert np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(w >= 0)
    assert g.sum() == pytest.approx(0.0, abs=1e-9)  # ∂ℓ/∂η sums to zero


@pytest.mark.parametrize("efron", TIES)
@pytest.mark.parametrize("exact", [True, False])
def test_curvature_products_match_dense_hessian(efron, exact):
    rng = np.random.default_rng(4)
    n = 32
    _, time, event = surv_data(4, n=n, n_times=7)
    eta = rng.normal(size=n)
    arrays = [np.empty(n) for _ in range(4)]  # grad, wd, wm, pi
    gstart, gd = np.empty(n + 1, dtype=np.int64), np.empty(n, dtype=np.int64)
    gL, ga, gom = np.empty(n), np.empty(n), np.empty(n)
    _, G = K._curvature(eta, time, event, efron, *arrays, gstart, gd, gL, ga, gom)
    grad, wd, wm, pi = arrays
    cv = (wd, wm, pi, event, gstart, gd, ga, gom, np.empty(n), np.empty(n), G)
    M = ref.curvature(eta, time, event, efron, exact)
    for _ in range(3):
        u = rng.normal(size=n)
        out = np.empty(n)
        K.apply_curvature(u, out, cv, exact, efron)
        assert_allclose(out, M @ u, atol=1e-13)
        assert K.quad_curvature(u, cv, exact, efron) == pytest.approx(u @ M @ u, rel=1e-12)
    # the diagonal of M is the IRLS weight; the majoriser dominates it
    assert_allclose(wd, np.diag(M), atol=1e-14)
    assert np.all(wm >= wd - 1e-15)


# ------------------------------------------------------------------------------------------
# path kernel vs reference, edge cases, optimality
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("efron", TIES)
@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("xi", [1.0, 0.5, 0.0])
def test_path_kernel_matches_reference(efron, exact, xi):
    X, time, event = surv_data(5, n=45, p=7, n_times=12, corr=0.6)
    Xs = standardise(X)
    pf = np.array([1.0, 1.0, 0.5, 2.0, 1.0, 1.0, 1.0])
    lmax = ref.lambda_max(Xs, time, event, xi, pf, efron)
    lams = np.geomspace(lmax, lmax * 0.02, 6)
    coefs, _, conv = kernel_path(Xs, time, event, lams, xi, pf, efron, exact, lam_prev=lmax)
    expected = ref.coxnet_path(Xs, time, event, lams, xi, pf, 1e-12, 2000, efron, exact)
    assert conv.all()
    # both stop at tol=1e-12; the diagonal model converges linearly, so its stopping rule is
    # looser in coefficient and KKT terms (observed: exact ≤ 4.3e-11, diagonal ≤ 1.5e-8)
    assert_allclose(coefs, expected, atol=1e-9 if exact else 1e-7)
    kkt_tol = 1e-9 if exact else 1e-7
    for k, lam in enumerate(lams):
        assert kkt_violation(Xs, time, event, coefs[:, k], lam, xi, pf, efron) < kkt_tol


@pytest.mark.parametrize("efron", TIES)
def test_exact_and_diagonal_models_reach_the_same_solution(efron):
    X, time, event = surv_data(6, n=50, p=12, n_times=15, corr=0.8)
    Xs = standardise(X)
    lmax = ref.lambda_max(Xs, time, event, 0.7, np.ones(12), efron)
    lams = np.geomspace(lmax, lmax * 0.01, 8)
    a, it_exact, _ = kernel_path(Xs, time, event, lams, 0.7, efron=efron, exact=True)
    b, it_diag, _ = kernel_path(Xs, time, event, lams, 0.7, efron=efron, exact=False)
    assert_allclose(a, b, atol=1e-8)
    assert it_exact.sum() < it_diag.sum()  # the point of the exact curvature


def test_screening_does_not_change_the_solution():
    X, time, event = surv_data(7, n=40, p=60, corr=0.3)  # p > n: screening matters
    Xs = standardise(X)
    lmax = ref.lambda_max(Xs, time, event, 0.5, np.ones(60))
    lams = np.geomspace(lmax, lmax * 0.05, 10)
    a, _, _ = kernel_path(Xs, time, event, lams, 0.5, screen=True, lam_prev=lmax)
    b, _, _ = kernel_path(Xs, time, event, lams, 0.5, screen=False, lam_prev=lmax)
    assert_allclose(a, b, atol=1e-9)
    for k, lam in enumerate(lams):
        assert kkt_violation(Xs, time, event, a[:, k], lam, 0.5, np.ones(60)) < 1e-9


def test_large_support_uses_conjugate_gradients_and_stays_optimal():
    """Elastic net with p ≫ n: supports beyond max(n, 200) take the matrix-free subspace step."""
    X, time, event = surv_data(19, n=40, p=400, corr=0.3)
    Xs = standardise(X)
    pf = np.ones(400)
    lmax = ref.lambda_max(Xs, time, event, 0.05, pf)
    lams = np.geomspace(lmax, lmax * 0.01, 6)
    a, _, conv = kernel_path(Xs, time, event, lams, 0.05, lam_prev=lmax)
    assert conv.all() and np.count_nonzero(a[:, -1]) > 200
    b, _, _ = kernel_path(Xs, time, event, lams, 0.05, exact=False, lam_prev=lmax)
    assert_allclose(a, b, atol=1e-9)  # observed 1.8e-11
    for k, lam in enumerate(lams):
        assert kkt_violation(Xs, time, event, a[:, k], lam, 0.05, pf) < 1e-9


@pytest.mark.parametrize("xi", [1.0, 0.3])
def test_lambda_max_gives_the_null_model(xi):
    X, time, event = surv_data(8, n=50, p=6)
    res = coxnet_path(X, time, event, l1_ratio=xi, n_alphas=5, tol=1e-12)
    Xs = standardise(X)
    assert res.alpha_max == pytest.approx(ref.lambda_max(Xs, time, event, xi, np.ones(6)))
    assert res.alphas[0] == res.alpha_max
    assert np.all(res.coef[:, 0] == 0.0)  # λ = λ_max: exactly zero
    above = coxnet_path(
        X, time, event, l1_ratio=xi, alphas=[2 * res.alpha_max, 1.01 * res.alpha_max]
    )
    assert np.all(above.coef == 0.0)
    below = coxnet_path(X, time, event, l1_ratio=xi, alphas=[0.99 * res.alpha_max])
    assert np.count_nonzero(below.coef) >= 1  # just below λ_max something enters


def test_ridge_path_is_dense_and_optimal():
    X, time, event = surv_data(9, n=40, p=5, n_times=8)
    res = coxnet_path(X, time, event, l1_ratio=0.0, n_alphas=4, tol=1e-12)
    # λ_max uses ξ = 1e-3 (glmnet); ridge never zeroes a coefficient
    assert np.all(res.coef != 0.0)
    Xs = standardise(X)
    for k, lam in enumerate(res.alphas):
        b = res.coef[:, k] * res.scale
        assert kkt_violation(Xs, time, event, b, lam, 0.0, np.ones(5)) < 1e-9
        # ridge: the minimiser from scipy on the smooth objective
    from scipy.optimize import minimize

    lam = res.alphas[-1]
    fun = lambda b: ref.objective(Xs, b, time, event, lam, 0.0, np.ones(5))  # noqa: E731
    opt = minimize(fun, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    assert_allclose(res.coef[:, -1] * res.scale, opt.x, atol=1e-5)


@pytest.mark.parametrize("efron", TIES)
def test_edge_cases_one_event_and_constant_column(efron):
    X, time, event = surv_data(10, n=25, p=5, n_times=6)
    event[:] = 0.0
    event[3] = 1.0  # a single event
    X[:, 2] = 4.2  # constant column
    ties = "efron" if efron else "breslow"
    res = coxnet_path(X, time, event, l1_ratio=0.8, n_alphas=6, alpha_min_ratio=0.2, ties=ties,
                      tol=1e-12)  # fmt: skip
    assert res.converged.all()
    assert np.all(res.coef[2] == 0.0)  # constant column excluded
    keep = [0, 1, 3, 4]
    Xs = standardise(X[:, keep])
    for k, lam in enumerate(res.alphas):
        b = res.coef[keep, k] * res.scale[keep]
        assert kkt_violation(Xs, time, event, b, lam, 0.8, np.ones(4), efron) < 1e-9


def test_unpenalised_feature_is_fitted_at_lambda_max():
    from desurv.survival.cox import coxnet_fit

    X, time, event = surv_data(11, n=80, p=5)
    pf = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    res = coxnet_path(X, time, event, l1_ratio=1.0, penalty_factor=pf, n_alphas=5, tol=1e-12)
    assert np.all(res.coef[1:, 0] == 0.0) and res.coef[0, 0] != 0.0
    alone = coxnet_fit(X[:, :1], time, event, 0.0, tol=1e-12)  # unpenalised Cox on feature 0
    assert res.coef[0, 0] == pytest.approx(alone.coef[0], rel=1e-7)
    Xs = standardise(X)
    for k, lam in enumerate(res.alphas):
        assert kkt_violation(Xs, time, event, res.coef[:, k] * res.scale, lam, 1.0, pf) < 1e-9


def test_standardize_false_penalises_raw_coefficients():
    X, time, event = surv_data(12, n=60, p=4)
    X = X * np.array([1.0, 10.0, 0.1, 3.0])
    res = coxnet_path(X, time, event, l1_ratio=0.5, standardize=False, n_alphas=5, tol=1e-12)
    assert_array_equal(res.scale, np.ones(4))
    Xc = np.asfortranarray(X - X.mean(axis=0))
    for k, lam in enumerate(res.alphas):
        assert kkt_violation(Xc, time, event, res.coef[:, k], lam, 0.5, np.ones(4)) < 1e-9


def test_path_input_order_does_not_matter():
    X, time, event = surv_data(13, n=50, p=6, n_times=10)
    perm = np.random.default_rng(0).permutation(50)
    a = coxnet_path(X, time, event, n_alphas=6, tol=1e-12)
    b = coxnet_path(X[perm], time[perm], event[perm], n_alphas=6, tol=1e-12)
    assert_allclose(a.coef, b.coef, atol=1e-10)
    assert isinstance(a, CoxnetPath)


def test_path_non_convergence_warns():
    X, time, event = surv_data(14, n=60, p=10, corr=0.5)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = coxnet_path(X, time, event, n_alphas=10, max_iter=2, tol=1e-14)
    assert not res.converged.all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"alphas": [0.1, 0.2]}, "decreasing"),
        ({"alphas": [-1.0]}, "alphas"),
        ({"penalty_factor": np.ones(3)}, "penalty_factor"),
        ({"penalty_factor": np.zeros(6)}, "no positive entry"),
        ({"alpha_min_ratio": 0.0}, "alpha_min_ratio"),
        ({"alpha_min_ratio": "small"}, "alpha_min_ratio"),
        ({"ties": "exact"}, "ties"),
        ({"hessian": "full"}, "hessian"),
        ({"tol": -1.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"n_alphas": 0}, "n_alphas"),
    ],
)
def test_path_bad_arguments(kwargs, match):
    X, time, event = surv_data(15, n=30, p=6)
    with pytest.raises(ValueError, match=match):
        coxnet_path(X, time, event, **kwargs)


def test_path_bad_data():
    X, time, event = surv_data(16, n=30, p=4)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        coxnet_path(X, time, event)
    with pytest.raises(ValueError, match="no events"):
        coxnet_path(np.ones((5, 2)) + np.arange(5)[:, None], np.arange(5.0), np.zeros(5))
    with pytest.raises(ValueError, match="samples"):
        coxnet_path(np.ones((5, 2)), np.arange(4.0), np.ones(4))


# ------------------------------------------------------------------------------------------
# scikit-survival
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gse4335_subset():
    """150 most variable rank-transformed genes of GSE4335 (samples × genes) and y."""
    from desurv.datasets import load_cohort
    from desurv.preprocessing import filter_genes, rank_transform

    expr = require(EXPR / "gse4335.expression.tsv.gz")
    X, y, _ = load_cohort(expr, EXPR / "gse4335.clinical.tsv")
    return filter_genes(rank_transform(X), 150).to_numpy(), y


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_path_matches_sksurv_coxnet_on_real_data(gse4335_subset, l1_ratio):
    """sksurv minimises −ℓ/n + a P(b): on our standardised design a = λ n_event / n."""
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    X, y = gse4335_subset
    n, ne = X.shape[0], int(y["event"].sum())
    res = coxnet_path(X, y["time"], y["event"], l1_ratio=l1_ratio, n_alphas=20,
                      alpha_min_ratio=0.05, tol=1e-10)  # fmt: skip
    assert res.converged.all()
    Zs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    sk = CoxnetSurvivalAnalysis(
        l1_ratio=l1_ratio, alphas=res.alphas * ne / n, normalize=False,
        fit_baseline_model=False, tol=1e-16, max_iter=10**7,
    ).fit(Zs, y)  # fmt: skip
    ours = res.coef * res.scale[:, None]
    assert_allclose(ours, sk.coef_, atol=1e-5)  # observed 1.8e-7 (ξ=0.5), 6.9e-7 (ξ=1)
    assert_array_equal(ours == 0, sk.coef_ == 0)
    assert 5 < np.count_nonzero(ours[:, -1]) < 150

    # normalize=True divides centred columns by their ℓ2 norm, sd·√(n−1): with c = √(n−1)
    # our λ(ξ|b| + (1−ξ)/2 b²) on b = β·sd equals a(ξ'|b'| + (1−ξ')/2 b'²) on b' = β·sd·c for
    # a = λ ne/n (ξ/c + (1−ξ)/c²) and ξ' = (ξ/c) / (ξ/c + (1−ξ)/c²).
    c = np.sqrt(n - 1)
    scale = l1_ratio / c + (1 - l1_ratio) / c**2
    sk2 = CoxnetSurvivalAnalysis(
        l1_ratio=(l1_ratio / c) / scale, alphas=res.alphas * ne / n * scale, normalize=True,
        fit_baseline_model=False, tol=1e-16, max_iter=10**7,
    ).fit(X, y)  # fmt: skip
    assert_allclose(res.coef * res.scale[:, None], sk2.coef_ * res.scale[:, None], atol=1e-5)


# ------------------------------------------------------------------------------------------
# CoxNet estimator and its internal cross-validation
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulated():
    """Train/test data with 4 true signals among 40 features."""
    rng = np.random.default_rng(21)
    n, p = 300, 40
    X = rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[:4] = [0.9, -0.7, 0.5, -0.4]
    t = rng.exponential(np.exp(-X @ beta))
    c = rng.exponential(2.0, size=n)
    time, event = np.minimum(t, c), t <= c
    names = [f"g{j}" for j in range(p)]
    df = pd.DataFrame(X, columns=names)
    return (
        df.iloc[:200],
        make_survival_y(time[:200], event[:200]),
        df.iloc[200:],
        make_survival_y(time[200:], event[200:]),
    )


def test_coxnet_cv_deviance_selects_a_model_better_than_null(simulated):
    X, y, X_test, y_test = simulated
    m = CoxNet(l1_ratio=0.5, n_alphas=30, random_state=0).fit(X, y)
    assert m.cv_scores_.shape == (5, 30) and m.coef_path_.shape == (40, 30)
    assert np.all(np.diff(m.alphas_) < 0)
    assert m.cv_mean_[m.best_index_] == np.nanmin(m.cv_mean_)
    assert m.cv_mean_[m.best_index_] < m.cv_mean_[0] - 2 * m.cv_se_[m.best_index_]  # beats null
    assert np.all(m.coef_path_[:, 0] == 0)
    assert set(np.flatnonzero(m.coef_[:4])) == {0, 1, 2, 3}  # the true signals are kept
    assert m.score(X_test, y_test) > 0.65
    assert m.converged_
    # 1se: a larger λ (sparser model) within one SE of the best
    m1 = CoxNet(l1_ratio=0.5, n_alphas=30, rule="1se", random_state=0).fit(X, y)
    assert m1.alpha_ > m.alpha_
    assert m1.cv_mean_[m1.best_index_] <= m.cv_mean_[m.best_index_] + m.cv_se_[m.best_index_]
    assert np.count_nonzero(m1.coef_) <= np.count_nonzero(m.coef_)


def test_coxnet_cv_scores_are_glmnet_grouped_deviance(simulated):
    """Fold score = −2[(ℓ_full − ℓ_train)(β_-k) − (sat_full − sat_train)] / events in fold k."""
    X, y, _, _ = simulated
    Xa = X.to_numpy()
    m = CoxNet(n_alphas=8, cv=4, random_state=3).fit(X, y)
    k = 2
    train = m.folds_ != k
    path = coxnet_path(Xa[train], y["time"][train], y["event"][train], alphas=m.alphas_)
    idx = [0, 4, 7]
    ll_full = [ref.loglik(Xa @ path.coef[:, j], y["time"], y["event"]) for j in idx]
    ll_tr = [
        ref.loglik(Xa[train] @ path.coef[:, j], y["time"][train], y["event"][train]) for j in idx
    ]
    sat = _saturated_loglik(y["time"], y["event"], False)
    sat_tr = _saturated_loglik(y["time"][train], y["event"][train], False)
    d_k = y["event"][~train].sum()
    expected = -2 * ((np.array(ll_full) - ll_tr) - (sat - sat_tr)) / d_k
    assert_allclose(m.cv_scores_[k, idx], expected, rtol=1e-8)
    # cvm / cvsd: means weighted by the events per fold, se = sqrt(weighted var / (K − 1))
    w = np.array([y["event"][m.folds_ == f].sum() for f in range(4)])
    mean = (w[:, None] * m.cv_scores_).sum(0) / w.sum()
    var = (w[:, None] * (m.cv_scores_ - mean) ** 2).sum(0) / w.sum()
    assert_allclose(m.cv_mean_, mean, rtol=1e-12)
    assert_allclose(m.cv_se_, np.sqrt(var / 3), rtol=1e-12)


@pytest.mark.parametrize("efron", TIES)
def test_saturated_loglik_is_the_supremum(efron):
    """Events pushed far ahead of everyone after them: ℓ → −Σ d log d (Breslow), −Σ log d!."""
    time = np.array([1.0, 1, 1, 2, 3, 3, 4, 5])
    event = np.array([1.0, 1, 1, 0, 1, 1, 0, 1])
    eta = 60.0 * (time.max() - time)  # earlier times get much larger η; ties share it
    expected = _saturated_loglik(time, event, efron)
    d = np.array([3, 2, 1])
    from math import lgamma

    closed = -sum(lgamma(k + 1) for k in d) if efron else -np.sum(d * np.log(d))
    assert expected == pytest.approx(closed)
    assert ref.loglik(eta, time, event, efron) == pytest.approx(expected, abs=1e-12)


def test_coxnet_cindex_scoring(simulated):
    X, y, X_test, y_test = simulated
    m = CoxNet(n_alphas=20, scoring="cindex", random_state=1).fit(X, y)
    assert np.nanmax(m.cv_mean_) == m.cv_mean_[m.best_index_]
    null = CoxNet(alphas=[50.0, 0.1], scoring="cindex", random_state=1).fit(X, y)
    assert_array_equal(null.cv_scores_[:, 0], 0.5)  # β = 0: every pair tied
    # the fold scores are Harrell's C of the held-out linear predictor of the fold's fit
    Xa = X.to_numpy()
    train = m.folds_ != 0
    path = coxnet_path(Xa[train], y["time"][train], y["event"][train], alphas=m.alphas_)
    eta = Xa[~train] @ path.coef[:, 10]
    c = concordance_index(y["time"][~train], y["event"][~train], eta)
    assert m.cv_scores_[0, 10] == pytest.approx(c, rel=1e-12)
    assert m.score(X_test, y_test) > 0.65


def test_coxnet_groups_parallel_and_determinism(simulated):
    X, y, _, _ = simulated
    groups = np.repeat(["a", "b"], 100)
    a = CoxNet(n_alphas=10, random_state=5).fit(X, y, groups=groups)
    b = CoxNet(n_alphas=10, random_state=5, n_jobs=2).fit(X, y, groups=groups)
    assert_array_equal(a.cv_scores_, b.cv_scores_)
    assert_array_equal(a.coef_, b.coef_)
    for g in ("a", "b"):  # folds balanced within each cohort
        counts = np.bincount(a.folds_[groups == g], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_coxnet_dataframe_alignment_predict_and_summary(simulated):
    X, y, X_test, _ = simulated
    m = CoxNet(n_alphas=10, random_state=0).fit(X, time=y["time"], event=y["event"])
    assert list(m.feature_names_in_) == list(X.columns)
    eta = m.predict(X_test)
    shuffled = X_test[X_test.columns[::-1]]
    assert_allclose(m.predict(shuffled), eta)
    assert_allclose(eta, (X_test.to_numpy() - m.mean_) @ m.coef_)
    assert abs(m.predict(X).mean()) < 1e-12  # centred at the training means
    s = m.summary()
    assert list(s.index) == list(X.columns[m.coef_ != 0])
    assert_allclose(s["hazard_ratio_per_sd"], np.exp(m.coef_[m.coef_ != 0] * m.sd_[m.coef_ != 0]))
    with pytest.raises(ValueError, match="lacks"):
        m.predict(X_test.drop(columns="g3"))
    with pytest.raises(ValueError, match="not fitted"):
        CoxNet().predict(X_test)


def test_coxnet_params_and_errors(simulated):
    X, y, _, _ = simulated
    m = CoxNet(l1_ratio=0.9)
    assert m.get_params()["l1_ratio"] == 0.9 and "CoxNet(l1_ratio=0.9)" == repr(m)
    assert m.set_params(cv=3) is m and m.cv == 3
    with pytest.raises(ValueError, match="(?i)invalid parameter"):
        m.set_params(alpha=1.0)
    for kwargs, match in [
        ({"scoring": "auc"}, "scoring"),
        ({"rule": "min"}, "rule"),
        ({"cv": 1}, "cv"),
        ({"l1_ratio": -0.1}, "l1_ratio"),
    ]:
        with pytest.raises(ValueError, match=match):
            CoxNet(**kwargs).fit(X, y)
    with pytest.raises(ValueError, match="groups"):
        CoxNet().fit(X, y, groups=np.zeros(3))
    with pytest.raises(ValueError, match="fold ids"):
        CoxNet(cv=np.zeros(5, dtype=int)).fit(X, y)
    with pytest.raises(ValueError, match="non-empty"):
        CoxNet(cv=np.repeat([0, 2], 100)).fit(X, y)


def test_coxnet_accepts_given_folds(simulated):
    """The same splits as another model's CV: fold ids in, the same ids kept."""
    from desurv._folds import stratified_folds

    X, y, _, _ = simulated
    folds = stratified_folds(y["event"], 4, random_state=9)
    a = CoxNet(n_alphas=8, cv=folds).fit(X, y)
    b = CoxNet(n_alphas=8, cv=4, random_state=9).fit(X, y)
    assert_array_equal(a.folds_, folds)
    assert_array_equal(a.cv_scores_, b.cv_scores_)


def test_coxnet_fold_without_events_is_left_out():
    from desurv.exceptions import DataWarning

    X, time, event = surv_data(17, n=40, p=5, p_event=0.0)
    event[:3] = 1.0  # 3 events, 5 folds: two folds have none
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(DataWarning, match="no events"):
            m = CoxNet(n_alphas=5, random_state=0).fit(X, time=time, event=event)
    assert np.isnan(m.cv_scores_).any(axis=1).sum() == 2
    assert np.all(np.isfinite(m.cv_mean_))
