"""Tests of the Cox kernels, their NumPy references and the wrappers in desurv.survival.cox."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from desurv._kernels import _cox as K
from desurv._reference import cox as ref
from desurv.exceptions import ConvergenceWarning
from desurv.survival.cox import (
    CoxnetResult,
    SortedSurvival,
    _coxnet_sorted,
    _loglik_sorted,
    _stats_sorted,
    breslow_baseline_hazard,
    cox_gradient,
    cox_partial_log_likelihood,
    coxnet_fit,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
REF_R = DATA / "reference" / "desurv_r"
needs_ref_r = pytest.mark.skipif(
    not (REF_R / "X.csv").exists(),
    reason=f"authors' R reference outputs not found at {REF_R}",
)

TIES = ["breslow", "efron"]


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def kernel(eta, time, event, efron):
    """Run the compiled kernels on already-sorted inputs; return (ll, grad, weight, ll_only)."""
    eta = np.ascontiguousarray(eta, dtype=float)
    time = np.ascontiguousarray(time, dtype=float)
    event = np.ascontiguousarray(event, dtype=float)
    g = np.full(eta.size, np.nan)
    w = np.full(eta.size, np.nan)
    ll = K.cox_stats(eta, time, event, g, w, efron)
    return ll, g, w, K.cox_loglik(eta, time, event, efron)


def random_surv(rng, n, n_times=None, p_event=0.6):
    """Sorted times (ties when ``n_times`` is small) and events with at least one event."""
    if n_times is None:
        time = np.sort(rng.exponential(size=n))
    else:
        time = np.sort(rng.integers(0, n_times, n).astype(float))
    event = (rng.random(n) < p_event).astype(float)
    event[rng.integers(n)] = 1.0
    return time, event


def assert_matches_ref(eta, time, event, efron, rtol=1e-12, atol=1e-12):
    ll, g, w, ll_only = kernel(eta, time, event, efron)
    assert ll == ll_only  # same arithmetic in both kernels: bit-identical
    assert_allclose(ll, ref.loglik(eta, time, event, efron), rtol=rtol, atol=atol)
    assert_allclose(g, ref.gradient(eta, time, event, efron), rtol=rtol, atol=atol)
    assert_allclose(w, ref.majorizer(eta, time, event, efron), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------
# kernels vs the NumPy reference
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("n_times", [None, 3, 10])
@pytest.mark.parametrize("seed", range(4))
def test_kernel_matches_reference_random(efron, n_times, seed):
    rng = np.random.default_rng(seed)
    n = 50
    time, event = random_surv(rng, n, n_times)
    eta = rng.normal(scale=2.0, size=n)
    assert_matches_ref(eta, time, event, efron)


@st.composite
def surv_cases(draw):
    n = draw(st.integers(1, 25))
    times = np.sort(np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), float))
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), float)
    event[draw(st.integers(0, n - 1))] = 1.0
    eta = np.array(draw(st.lists(st.floats(-6, 6, allow_nan=False), min_size=n, max_size=n)), float)
    return eta, times, event


@settings(max_examples=60, deadline=None)
@given(case=surv_cases(), efron=st.booleans())
def test_kernel_matches_reference_hypothesis(case, efron):
    eta, time, event = case
    assert_matches_ref(eta, time, event, efron)


EDGE_CASES = {
    "n1": ([0.7], [2.0], [1]),
    "n2_distinct": ([0.3, -1.2], [1.0, 2.0], [1, 1]),
    "n2_tied": ([0.3, -1.2], [1.0, 1.0], [1, 1]),
    "n2_tied_one_event": ([0.3, -1.2], [1.0, 1.0], [0, 1]),
    "all_tied": (np.linspace(-1, 1, 9), np.full(9, 4.0), [1, 0, 1, 1, 0, 1, 1, 1, 0]),
    "all_tied_all_events": (np.linspace(-2, 1, 7), np.full(7, 1.0), np.ones(7)),
    "one_event_first": (np.linspace(-1, 2, 8), np.arange(8.0), [1, 0, 0, 0, 0, 0, 0, 0]),
    "one_event_last": (np.linspace(-1, 2, 8), np.arange(8.0), [0, 0, 0, 0, 0, 0, 0, 1]),
    "one_event_middle": (np.linspace(2, -1, 8), np.arange(8.0), [0, 0, 0, 1, 0, 0, 0, 0]),
    "many_ties": (
        np.sin(np.arange(30.0)),
        np.repeat([1.0, 2.0, 3.0], 10),
        np.tile([1, 0, 1, 1, 0], 6),
    ),
    "ties_all_censored_group": (
        np.cos(np.arange(9.0)),
        [1, 1, 1, 2, 2, 2, 3, 3, 3],
        [0, 0, 0, 1, 1, 0, 0, 0, 0],
    ),
}


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("case", list(EDGE_CASES), ids=list(EDGE_CASES))
def test_kernel_edge_cases(case, efron):
    eta, time, event = (np.asarray(a, dtype=float) for a in EDGE_CASES[case])
    assert_matches_ref(eta, time, event, efron)
    _, g, w, _ = kernel(eta, time, event, efron)
    assert_allclose(g.sum(), 0.0, atol=1e-12)  # gradient of a shift-invariant function
    assert np.all(w >= 0)


def test_efron_equals_breslow_without_ties():
    rng = np.random.default_rng(5)
    time, event = random_surv(rng, 40)
    eta = rng.normal(size=40)
    b, e = kernel(eta, time, event, False), kernel(eta, time, event, True)
    assert_allclose(b[0], e[0], rtol=1e-14)
    assert_allclose(b[1], e[1], atol=1e-14)
    assert_allclose(b[2], e[2], atol=1e-14)
    # ...but they differ once events are tied
    time = np.floor(time * 3)
    assert abs(kernel(eta, time, event, False)[0] - kernel(eta, time, event, True)[0]) > 1e-3


def huge_eta_case(seed, n=40):
    """eta in {+-1000} + small multiples of 1/8; the last sample (in every risk set) has max eta.

    Values are multiples of 1/8 so that shifting by 512.25 is exact.
    """
    rng = np.random.default_rng(seed)
    time, event = random_surv(rng, n, n_times=12)
    eta = rng.choice([-1000.0, 1000.0], size=n) + rng.integers(-40, 40, size=n) / 8.0
    eta[-1] = 1006.0
    return eta, time, event


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_kernel_huge_eta(seed, efron):
    eta, time, event = huge_eta_case(seed)
    ll, g, w, ll_only = kernel(eta, time, event, efron)
    assert np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(w))
    assert ll == ll_only
    shifted = eta - eta.max()  # the textbook reference can only handle the shifted eta
    assert_allclose(ll, ref.loglik(shifted, time, event, efron), rtol=1e-12)
    assert_allclose(g, ref.gradient(shifted, time, event, efron), rtol=1e-12, atol=1e-12)
    assert_allclose(w, ref.majorizer(shifted, time, event, efron), rtol=1e-12, atol=1e-12)
    for c in (512.25, -512.25, -2000.0):  # l(eta + c) = l(eta); g and w are invariant too
        ll_c, g_c, w_c, _ = kernel(eta + c, time, event, efron)
        assert_allclose(ll_c, ll, rtol=1e-13)
        assert_allclose(g_c, g, atol=1e-12)
        assert_allclose(w_c, w, atol=1e-12)


@pytest.mark.parametrize("efron", [False, True])
def test_kernel_huge_eta_any_risk_set(efron):
    """Mixed +-1000 with risk sets holding only tiny exp(eta): nothing overflows or is NaN."""
    rng = np.random.default_rng(11)
    n = 200
    time, event = random_surv(rng, n, n_times=40)
    eta = rng.choice([-1000.0, 1000.0], size=n) + rng.normal(size=n)
    ll, g, w, _ = kernel(eta, time, event, efron)
    assert np.isfinite(ll) and ll <= 0
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(w)) and np.all(w >= 0)
    assert_allclose(g.sum(), 0.0, atol=1e-9)
    # two-sample cases by hand
    ll, g, w, _ = kernel(np.array([1000.0, -1000.0]), np.array([1.0, 2.0]), np.ones(2), efron)
    assert ll == 0.0  # -log(1 + e^-2000) + 0
    assert_allclose(g, [0.0, 0.0], atol=1e-300)
    assert_allclose(w, [1.0, 1.0])
    ll, g, w, _ = kernel(np.array([-1000.0, 1000.0]), np.array([1.0, 2.0]), np.ones(2), efron)
    assert ll == -2000.0
    assert_allclose(g, [1.0, -1.0])
    assert_allclose(w, [0.0, 2.0], atol=1e-300)


# ------------------------------------------------------------------------------------------
# derivatives
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ties", TIES)
def test_gradient_matches_finite_differences(ties):
    rng = np.random.default_rng(21)
    n = 30
    time = rng.integers(0, 8, n).astype(float)  # unsorted, with ties
    event = (rng.random(n) < 0.7).astype(float)
    eta = rng.normal(size=n)
    _, g, _ = cox_gradient(eta, time, event, ties=ties)
    h = 1e-6
    fd = np.empty(n)
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        fd[i] = (
            cox_partial_log_likelihood(eta + e, time, event, ties)
            - cox_partial_log_likelihood(eta - e, time, event, ties)
        ) / (2 * h)
    assert_allclose(g, fd, atol=1e-7)


@pytest.mark.parametrize("efron", [False, True])
def test_weight_majorizes_exact_hessian(efron):
    rng = np.random.default_rng(22)
    n = 30
    time, event = random_surv(rng, n, n_times=6, p_event=0.8)
    eta = rng.normal(size=n)
    _, _, w, _ = kernel(eta, time, event, efron)
    neg_hess = -ref.hessian(eta, time, event, efron)
    assert np.all(w >= np.diag(neg_hess) - 1e-14)
    assert np.any(w > np.diag(neg_hess) + 1e-3)  # a real majoriser, not the diagonal itself
    # stronger: diag(w) - (-Hessian) is positive semidefinite
    assert np.linalg.eigvalsh(np.diag(w) - neg_hess).min() > -1e-12


@pytest.mark.parametrize("efron", [False, True])
def test_exact_hessian_matches_finite_differences_of_gradient(efron):
    rng = np.random.default_rng(23)
    n = 20
    time, event = random_surv(rng, n, n_times=5, p_event=0.8)
    eta = rng.normal(size=n)
    h = 1e-6
    fd = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        fd[:, i] = (
            kernel(eta + e, time, event, efron)[1] - kernel(eta - e, time, event, efron)[1]
        ) / (2 * h)
    assert_allclose(ref.hessian(eta, time, event, efron), fd, atol=1e-7)


# ------------------------------------------------------------------------------------------
# public wrappers: ordering, SortedSurvival
# ------------------------------------------------------------------------------------------
def test_sorted_survival():
    time = np.array([3.0, 1.0, 2.0, 1.0, 5.0, 2.0])
    event = np.array([1, 0, 1, 1, 0, 1])
    s = SortedSurvival(time, event)
    assert_array_equal(s.order, [1, 3, 2, 5, 0, 4])  # stable among ties
    assert_array_equal(s.time, np.sort(time))
    assert_array_equal(s.event, [0.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    assert s.event.dtype == np.float64 and s.time.flags.c_contiguous
    assert s.n_event == 4 and len(s) == 6
    assert_array_equal(s.order[s.inverse], np.arange(6))
    a = np.arange(12.0).reshape(2, 6)
    assert_array_equal(s.sort(a, axis=1), a[:, s.order])
    assert_array_equal(s.unsort(s.sort(a, axis=1), axis=1), a)
    assert_array_equal(s.unsort(s.sort(time)), time)


@pytest.mark.parametrize("ties", TIES)
def test_public_wrappers_any_order(ties):
    rng = np.random.default_rng(31)
    n = 40
    time = rng.integers(0, 10, n).astype(float)
    event = rng.random(n) < 0.6
    eta = rng.normal(size=n)
    efron = ties == "efron"
    ll = cox_partial_log_likelihood(eta, time, event, ties=ties)
    ll2, g, w = cox_gradient(eta, time, event, ties=ties)
    assert ll == ll2
    assert_allclose(ll, ref.loglik(eta, time, event, efron), rtol=1e-12)
    assert_allclose(g, ref.gradient(eta, time, event, efron), atol=1e-12)
    assert_allclose(w, ref.majorizer(eta, time, event, efron), atol=1e-12)
    # sorted helpers agree with the public wrappers
    s = SortedSurvival(time, event)
    es = np.ascontiguousarray(eta[s.order])
    assert _loglik_sorted(es, s, efron) == ll
    ll3, gs, ws = _stats_sorted(es, s, efron)
    assert ll3 == ll
    assert_array_equal(s.unsort(gs), g)
    assert_array_equal(s.unsort(ws), w)


# ------------------------------------------------------------------------------------------
# agreement with lifelines and scikit-survival
# ------------------------------------------------------------------------------------------
def tied_dataset(seed=3, n=80, k=3):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k)) * np.array([1.0, 3.0, 0.5])[:k]
    risk = Z @ np.array([0.6, -0.2, 0.8])[:k]
    time = np.ceil(rng.exponential(size=n) * np.exp(-risk) * 4.0)  # integer times: many ties
    event = rng.random(n) < 0.7
    return Z, time, event


def test_efron_loglik_and_coefficients_vs_lifelines():
    from lifelines import CoxPHFitter

    Z, time, event = tied_dataset()
    assert np.unique(time).size < time.size / 2
    df = pd.DataFrame(Z, columns=["a", "b", "c"]).assign(T=time, E=event.astype(int))
    cph = CoxPHFitter().fit(df, "T", "E", fit_options={"precision": 1e-12})
    beta = cph.params_.to_numpy()
    ll = cox_partial_log_likelihood(Z @ beta, time, event, ties="efron")
    assert_allclose(ll, cph.log_likelihood_, rtol=1e-10)
    fit = coxnet_fit(Z, time, event, 0.0, 0.0, ties="efron", tol=1e-12, max_iter=5000)
    assert fit.converged
    assert_allclose(fit.coef, beta, atol=1e-5)
    # Breslow estimator of the baseline; lifelines centres the covariates
    times, H0 = breslow_baseline_hazard(time, event, (Z - Z.mean(axis=0)) @ beta)
    lifelines_H0 = cph.baseline_cumulative_hazard_.iloc[:, 0]
    assert_allclose(H0, lifelines_H0.loc[times].to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("ties", TIES)
def test_unpenalised_fit_vs_sksurv(ties):
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.linear_model.coxph import CoxPHOptimizer

    from desurv._validation import make_survival_y

    Z, time, event = tied_dataset(seed=4)
    y = make_survival_y(time, event)
    sk = CoxPHSurvivalAnalysis(ties=ties, tol=1e-12, n_iter=200).fit(Z, y)
    fit = coxnet_fit(Z, time, event, 0.0, 0.0, ties=ties, tol=1e-12, max_iter=5000)
    assert fit.converged
    assert_allclose(fit.coef, sk.coef_, atol=1e-5)
    # sksurv's optimiser reports -l(beta)/n_samples
    opt = CoxPHOptimizer(Z, event, time, alpha=np.zeros(Z.shape[1]), ties=ties)
    for beta in (sk.coef_, np.array([0.3, -0.1, 1.0])):
        ll = cox_partial_log_likelihood(Z @ beta, time, event, ties=ties)
        assert_allclose(-ll / Z.shape[0], opt.nlog_likelihood(beta), rtol=1e-12)


@pytest.mark.parametrize("solver", ["newton", "cd"])
@pytest.mark.parametrize(("lam", "l1_ratio"), [(0.1, 0.5), (0.1, 1.0), (0.3, 0.05)])
def test_coxnet_vs_sksurv_coxnet(lam, l1_ratio, solver):
    """sksurv minimises -l/n + a P(b); ours -l/n_event + lam P(b)  =>  a = lam n_event / n."""
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    from desurv._validation import make_survival_y

    rng = np.random.default_rng(41)
    n, k = 100, 6
    Z = rng.normal(size=(n, k)) * rng.uniform(0.2, 4.0, size=k) + 2.0
    Zs = (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)
    true_beta = np.array([0.8, -0.5, 0.0, 0.0, 0.3, 0.0])
    time = np.round(rng.exponential(size=n) * np.exp(-Zs @ true_beta), 1)  # rounded: ties
    event = rng.random(n) < 0.6
    fit = coxnet_fit(Z, time, event, lam, l1_ratio, tol=1e-12, max_iter=10000, solver=solver)
    assert fit.converged
    assert_allclose(fit.mean, Z.mean(axis=0))
    assert_allclose(fit.scale, Z.std(axis=0, ddof=1))
    alpha = lam * event.sum() / n
    sk = CoxnetSurvivalAnalysis(
        alphas=[alpha],
        l1_ratio=l1_ratio,
        normalize=False,
        fit_baseline_model=False,
        tol=1e-14,
        max_iter=1_000_000,
    ).fit(Zs, make_survival_y(time, event))
    beta_std = fit.coef * fit.scale
    assert_allclose(beta_std, sk.coef_[:, 0], rtol=0, atol=1e-7)  # observed 1.4e-8 - 2.4e-8
    assert_array_equal(beta_std == 0, sk.coef_[:, 0] == 0)
    if l1_ratio >= 0.5:
        assert np.any(beta_std == 0)  # the penalty is strong enough to zero something


# ------------------------------------------------------------------------------------------
# coordinate descent
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("efron", [False, True])
def test_coxnet_kernel_matches_reference_cd(efron):
    rng = np.random.default_rng(51)
    n, k = 40, 4
    time, event = random_surv(rng, n, n_times=10)
    Z = rng.normal(size=(n, k))
    Z[:, 1] += 0.8 * Z[:, 0]
    pf = np.array([1.0, 0.0, 2.0, 1.0])
    beta0 = np.array([0.1, 0.0, -0.2, 0.0])
    b_ref, it_ref, conv_ref = ref.coxnet_cd(Z, time, event, beta0, 0.04, 0.7, pf, 1e-8, 500, efron)
    beta = beta0.copy()
    code = K.coxnet_cd(np.asfortranarray(Z), time, event, beta, 0.04, 0.7, pf, 1e-8, 500, efron)
    assert conv_ref and code == it_ref
    assert_allclose(beta, b_ref, rtol=1e-10, atol=1e-12)
    # non-convergence is reported as minus the number of sweeps
    beta = beta0.copy()
    code = K.coxnet_cd(np.asfortranarray(Z), time, event, beta, 0.04, 0.7, pf, 1e-15, 3, efron)
    b3, it3, conv3 = ref.coxnet_cd(Z, time, event, beta0, 0.04, 0.7, pf, 1e-15, 3, efron)
    assert code == -3 and not conv3
    assert_allclose(beta, b3, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ties", TIES)
def test_coxnet_fit_kkt_conditions(ties):
    Z, time, event = tied_dataset(seed=6, n=90)
    lam, xi = 0.05, 0.6
    pf = np.array([1.0, 0.5, 2.0])
    fit = coxnet_fit(Z, time, event, lam, xi, penalty_factor=pf, ties=ties, tol=1e-12)
    assert fit.converged
    Zs = (Z - fit.mean) / fit.scale
    b = fit.coef * fit.scale
    _, g, _ = cox_gradient(Zs @ b, time, event, ties=ties)
    score = Zs.T @ g / event.sum()
    nz = b != 0
    assert nz.any()
    assert_allclose(score[nz], lam * pf[nz] * (xi * np.sign(b[nz]) + (1 - xi) * b[nz]), atol=1e-8)
    assert np.all(np.abs(score[~nz]) <= lam * xi * pf[~nz] + 1e-10)


def test_coxnet_fit_warm_start_scale_and_permutation():
    Z, time, event = tied_dataset(seed=7)
    full = coxnet_fit(Z, time, event, 0.02, 0.5, tol=1e-12)
    # beta_init is on the original scale: starting at the solution converges at once
    warm = coxnet_fit(Z, time, event, 0.02, 0.5, beta_init=full.coef, tol=1e-8)
    assert warm.n_iter == 1 and warm.converged
    assert_allclose(warm.coef, full.coef, atol=1e-10)
    # reordering the samples changes nothing (beyond rounding)
    perm = np.random.default_rng(0).permutation(len(time))
    again = coxnet_fit(Z[perm], time[perm], event[perm], 0.02, 0.5, tol=1e-12)
    assert_allclose(again.coef, full.coef, rtol=1e-9, atol=1e-12)
    # the private sorted entry point gives the same standardised solution
    s = SortedSurvival(time, event)
    Zs = np.asfortranarray(s.sort((Z - full.mean) / full.scale))
    b, n_iter, conv = _coxnet_sorted(Zs, s, np.zeros(3), 0.02, 0.5, 1e-12, 500, False)
    assert conv and n_iter == full.n_iter
    assert_allclose(b / full.scale, full.coef, rtol=1e-12, atol=1e-15)


def test_coxnet_fit_constant_column_k1_and_warning():
    Z, time, event = tied_dataset(seed=8)
    Zc = np.column_stack([Z[:, 0], np.full(len(time), 3.0), Z[:, 2]])
    fit = coxnet_fit(Zc, time, event, 0.01, 0.5)
    assert isinstance(fit, CoxnetResult)
    assert fit.coef[1] == 0.0 and fit.scale[1] == 0.0
    ref_fit = coxnet_fit(Zc[:, [0, 2]], time, event, 0.01, 0.5)
    assert_allclose(fit.coef[[0, 2]], ref_fit.coef, rtol=1e-12)
    one = coxnet_fit(Z[:, :1], time, event, 0.01, 0.5)  # k = 1
    assert one.coef.shape == (1,) and one.coef[0] != 0
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        bad = coxnet_fit(Z, time, event, 0.0, 0.0, tol=1e-14, max_iter=2)
    assert not bad.converged and bad.n_iter == 2
    with pytest.raises(Exception):  # noqa: B017  (frozen dataclass)
        fit.n_iter = 3


def test_breslow_baseline_hazard_vs_reference():
    rng = np.random.default_rng(61)
    n = 50
    time = rng.integers(0, 12, n).astype(float)
    event = rng.random(n) < 0.5
    eta = rng.normal(size=n)
    times, H0 = breslow_baseline_hazard(time, event, eta)
    rt, rH = ref.breslow_baseline_hazard(time, event, eta)
    assert_array_equal(times, rt)
    assert_allclose(H0, rH, rtol=1e-12)
    assert np.all(np.diff(H0) > 0)


# ------------------------------------------------------------------------------------------
# exact derivatives in the coefficients
# ------------------------------------------------------------------------------------------
def beta_kernel(Z, eta, time, event, efron):
    """Run ``cox_beta_derivatives``; return (ll, grad_beta, neg_hess)."""
    Z = np.asfortranarray(Z, dtype=float)
    k = Z.shape[1]
    g = np.full(k, np.nan)
    h = np.full((k, k), np.nan, order="F")
    ll = K.cox_beta_derivatives(
        Z,
        np.ascontiguousarray(time, dtype=float),
        np.ascontiguousarray(event, dtype=float),
        np.ascontiguousarray(eta, dtype=float),
        g,
        h,
        efron,
    )
    return ll, g, h


def assert_beta_derivatives_match(Z, eta, time, event, efron, ref_eta=None):
    ll, g, h = beta_kernel(Z, eta, time, event, efron)
    ll_only = K.cox_loglik(np.ascontiguousarray(eta, dtype=float), time, event, efron)
    assert ll == ll_only  # bit-identical: the same reverse pass
    rll, rg, rh = ref.beta_derivatives(Z, time, event, eta if ref_eta is None else ref_eta, efron)
    assert_allclose(ll, rll, rtol=1e-12, atol=1e-12)
    assert_allclose(g, rg, rtol=1e-12, atol=1e-12)
    assert_allclose(h, rh, rtol=1e-12, atol=1e-12)
    assert_array_equal(h, h.T)
    assert np.linalg.eigvalsh(h).min() > -1e-12  # -Hessian is PSD
    # the gradient in beta is Z^T g with g from the eta-space kernel
    _, g_eta, _, _ = kernel(eta, time, event, efron)
    assert_allclose(g, np.asarray(Z).T @ g_eta, rtol=1e-12, atol=1e-12)
    return ll, g, h


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("n_times", [None, 3, 10])
@pytest.mark.parametrize("seed", range(2))
def test_beta_derivatives_match_reference_random(efron, n_times, seed):
    rng = np.random.default_rng(100 + seed)
    n, k = 50, 4
    time, event = random_surv(rng, n, n_times)
    Z = rng.normal(size=(n, k))
    Z[:, 1] += 0.9 * Z[:, 0]  # correlated columns
    eta = Z @ rng.normal(size=k)
    assert_beta_derivatives_match(Z, eta, time, event, efron)


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("case", list(EDGE_CASES), ids=list(EDGE_CASES))
def test_beta_derivatives_edge_cases(case, efron):
    eta, time, event = (np.asarray(a, dtype=float) for a in EDGE_CASES[case])
    n = eta.size
    Z = np.column_stack([np.cos(np.arange(n) * 1.3), np.arange(n) / n - 0.4, np.ones(n)])
    ll, g, h = assert_beta_derivatives_match(Z, eta, time, event, efron)
    # constant column: no information, zero score
    assert_allclose(g[2], 0.0, atol=1e-12)
    assert_allclose(h[:, 2], 0.0, atol=1e-12)
    # k = 1 gives the (0, 0) block
    ll1, g1, h1 = assert_beta_derivatives_match(Z[:, :1], eta, time, event, efron)
    assert ll1 == ll
    assert_allclose(g1, g[:1], rtol=1e-14, atol=1e-15)
    assert_allclose(h1, h[:1, :1], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_beta_derivatives_huge_eta(seed, efron):
    eta, time, event = huge_eta_case(seed)
    Z = np.random.default_rng(seed).normal(size=(eta.size, 3))
    ll, g, h = beta_kernel(Z, eta, time, event, efron)
    assert np.isfinite(ll) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    assert_beta_derivatives_match(Z, eta, time, event, efron, ref_eta=eta - eta.max())
    for c in (512.25, -2000.0):  # shift invariance of the derivatives
        _, g_c, h_c = beta_kernel(Z, eta + c, time, event, efron)
        assert_allclose(g_c, g, atol=1e-12)
        assert_allclose(h_c, h, atol=1e-12)


@pytest.mark.parametrize("efron", [False, True])
def test_beta_derivatives_match_finite_differences(efron):
    rng = np.random.default_rng(24)
    n, k = 40, 3
    time, event = random_surv(rng, n, n_times=8, p_event=0.8)
    Z = rng.normal(size=(n, k))
    Z[:, 2] = 0.95 * Z[:, 0] + 0.3 * Z[:, 2]
    beta = np.array([0.4, -0.7, 0.2])
    _, g, h = beta_kernel(Z, Z @ beta, time, event, efron)
    step = 1e-6
    fd_g = np.empty(k)
    fd_h = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        lp, gp, _ = beta_kernel(Z, Z @ (beta + e), time, event, efron)
        lm, gm, _ = beta_kernel(Z, Z @ (beta - e), time, event, efron)
        fd_g[j] = (lp - lm) / (2 * step)
        fd_h[:, j] = -(gp - gm) / (2 * step)
    assert_allclose(g, fd_g, rtol=1e-8, atol=1e-7)
    assert_allclose(h, fd_h, rtol=1e-7, atol=1e-7)


# ------------------------------------------------------------------------------------------
# proximal Newton
# ------------------------------------------------------------------------------------------
def collinear_dataset(seed=8, p=40, n=60, k=3):
    """Z = X^T W as in NMF (pairwise correlations 0.91-0.975), rounded times: ties."""
    rng = np.random.default_rng(seed)
    W = rng.gamma(1.0, 1.0, size=(p, k))
    H = rng.gamma(2.0, 1.0, size=(k, n))
    X = W @ H + rng.uniform(0, 0.1, size=(p, n))
    risk = (H[0] - H[0].mean()) / H[0].std()
    time = np.round(rng.exponential(np.exp(-risk)), 1) + 0.1
    event = rng.uniform(size=n) < 0.8
    event[0] = True
    return X.T @ (W + 0.5), time, event


def sorted_standardised(Z, time, event):
    s = SortedSurvival(time, event)
    Zs = np.asfortranarray(s.sort((Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)))
    return Zs, s


def test_collinear_dataset_is_collinear():
    Z, time, event = collinear_dataset()
    corr = np.corrcoef(Z.T)[np.triu_indices(3, 1)]
    assert corr.min() > 0.9 and corr.max() > 0.97
    assert np.unique(time).size < time.size / 2


@pytest.mark.parametrize("ties", TIES)
def test_newton_vs_sksurv_coxph_collinear(ties):
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    from desurv._validation import make_survival_y

    Z, time, event = collinear_dataset()
    sk = CoxPHSurvivalAnalysis(ties=ties, tol=1e-15, n_iter=500).fit(
        Z, make_survival_y(time, event)
    )
    fit = coxnet_fit(Z, time, event, 0.0, 0.0, ties=ties, tol=1e-12)
    assert fit.converged and fit.n_iter <= 10
    # standardised scale (sd ~ 200 here, so this is the stricter comparison)
    assert_allclose(fit.coef * fit.scale, sk.coef_ * fit.scale, rtol=0, atol=1e-8)
    # the reference scheme is nowhere near after 1000 sweeps (the reason for Newton)
    with pytest.warns(ConvergenceWarning, match="solver='cd'"):
        cd = coxnet_fit(Z, time, event, 0.0, 0.0, ties=ties, tol=1e-12, max_iter=1000, solver="cd")
    assert np.abs(cd.coef - sk.coef_).max() > 0.1 * np.abs(sk.coef_).max()


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("case", ["collinear", "tied"])
def test_newton_vs_scipy_smooth(case, efron):
    Z, time, event = collinear_dataset() if case == "collinear" else tied_dataset(seed=4)
    Zs, s = sorted_standardised(Z, time, event)
    pf = np.array([1.0, 0.0, 2.0])
    for lam in (1e-3, 0.05):
        expected = ref.coxnet_smooth_minimize(Zs, s.time, s.event, lam, pf, efron)
        b, n_iter, conv = _coxnet_sorted(Zs, s, np.zeros(3), lam, 0.0, 1e-12, 50, efron, pf)
        assert conv and n_iter <= 10
        assert_allclose(b, expected, rtol=0, atol=1e-10)  # observed <= 1e-13


@pytest.mark.parametrize("ties", TIES)
@pytest.mark.parametrize(("lam", "l1_ratio"), [(0.01, 0.5), (0.02, 0.9), (0.05, 1.0)])
def test_newton_kkt_collinear_lasso(lam, l1_ratio, ties):
    """On collinear Z sksurv's Coxnet itself is off by ~1e-6; check optimality directly."""
    Z, time, event = collinear_dataset()
    pf = np.array([1.0, 0.5, 1.5])
    fit = coxnet_fit(Z, time, event, lam, l1_ratio, penalty_factor=pf, ties=ties, tol=1e-12)
    assert fit.converged and fit.n_iter <= 15
    Zs = (Z - fit.mean) / fit.scale
    b = fit.coef * fit.scale
    _, g, _ = cox_gradient(Zs @ b, time, event, ties=ties)
    score = Zs.T @ g / event.sum()
    nz = b != 0
    assert nz.any()
    if l1_ratio == 1.0:
        assert not nz.all()  # a sparse solution: the active-set logic is exercised
    kkt = lam * pf[nz] * (l1_ratio * np.sign(b[nz]) + (1 - l1_ratio) * b[nz])
    assert_allclose(score[nz], kkt, rtol=0, atol=1e-11)
    assert np.all(np.abs(score[~nz]) < lam * l1_ratio * pf[~nz])
    # ...and it is a fixed point of the reference scheme: one sweep, nothing moves
    cd = coxnet_fit(
        Z, time, event, lam, l1_ratio, penalty_factor=pf, ties=ties, beta_init=fit.coef,
        tol=1e-10, solver="cd",
    )  # fmt: skip
    assert cd.n_iter == 1 and cd.converged
    assert_allclose(cd.coef * cd.scale, b, rtol=0, atol=1e-11)


@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize(("lam", "l1_ratio"), [(1e-3, 0.0), (0.01, 0.5)])
def test_newton_objective_never_increases(lam, l1_ratio, efron):
    Z, time, event = collinear_dataset()
    Zs, s = sorted_standardised(Z, time, event)
    b0 = np.array([3.0, -3.0, 3.0])

    def objective(b):
        return ref.coxnet_objective(Zs, s.time, s.event, b, lam, l1_ratio, efron=efron)

    if l1_ratio == 0.0:  # the full Newton step overshoots here: the line search must act
        _, g, h = ref.beta_derivatives(Zs, s.time, s.event, Zs @ b0, efron)
        full = b0 + np.linalg.solve(h / s.n_event + lam * np.eye(3), g / s.n_event - lam * b0)
        assert objective(full) > objective(b0)
    values = [objective(b0)]
    for m in range(1, 30):
        b, n_iter, conv = _coxnet_sorted(Zs, s, b0, lam, l1_ratio, 1e-12, m, efron)
        values.append(objective(b))
        if conv:
            break
        assert n_iter == m
    assert conv and n_iter == m and m <= 15
    steps = np.diff(values)
    # the line search accepts f(new) <= f(old) + 32 eps |f(old)| (rounding), nothing more
    assert np.all(steps <= 1e-14 * abs(values[0])), steps
    assert steps[0] < -1.0


@pytest.mark.parametrize("ties", TIES)
def test_newton_warm_start_one_iteration(ties):
    Z, time, event = collinear_dataset()
    full = coxnet_fit(Z, time, event, 0.01, 0.5, ties=ties, tol=1e-12)
    warm = coxnet_fit(Z, time, event, 0.01, 0.5, ties=ties, beta_init=full.coef, tol=1e-8)
    assert warm.n_iter == 1 and warm.converged
    assert_allclose(warm.coef, full.coef, rtol=1e-10, atol=1e-12)


def test_coxnet_newton_kernel_return_codes():
    Z, time, event = collinear_dataset()
    Zs, s = sorted_standardised(Z, time, event)
    pf = np.ones(3)
    beta = np.zeros(3)
    code = K.coxnet_newton(Zs, s.time, s.event, beta, 0.0, 0.0, pf, 1e-15, 2, False)
    assert code == -2 and np.all(beta != 0)
    beta = np.zeros(3)
    assert K.coxnet_newton(Zs, s.time, s.event, beta, 0.0, 0.0, pf, 1e-8, 0, False) == 0
    assert np.all(beta == 0)
    code = K.coxnet_newton(Zs, s.time, s.event, beta, 0.0, 0.0, pf, 1e-8, 50, False)
    assert 0 < code <= 10
    # the private helper's solver="cd" is exactly the reference kernel
    b_cd, n_cd, conv_cd = _coxnet_sorted(
        Zs, s, np.zeros(3), 0.05, 0.5, 1e-6, 500, False, solver="cd"
    )
    b_k = np.zeros(3)
    code = K.coxnet_cd(Zs, s.time, s.event, b_k, 0.05, 0.5, pf, 1e-6, 500, False)
    assert_array_equal(b_cd, b_k)
    assert n_cd == abs(code) and conv_cd == (code > 0)


# ------------------------------------------------------------------------------------------
# the authors' R implementation
# ------------------------------------------------------------------------------------------
def load_ref_r():
    X = pd.read_csv(REF_R / "X.csv", index_col=0)
    surv = pd.read_csv(REF_R / "surv.csv")
    assert list(surv["id"]) == list(X.columns)
    W0 = pd.read_csv(REF_R / "init" / "W0.csv", index_col=0).to_numpy()
    return X.to_numpy(), surv["time"].to_numpy(), surv["event"].to_numpy(), W0


@needs_ref_r
def test_r_reference_standardisation_uses_raw_w0():
    X, _, _, W0 = load_ref_r()
    m = pd.read_csv(REF_R / "beta" / "meanZ_sdZ.csv")
    Z = X.T @ W0
    assert_allclose(Z.mean(axis=0), m["meanZ"], rtol=1e-10)
    assert_allclose(Z.std(axis=0, ddof=1), m["sdZ"], rtol=1e-10)
    Zn = X.T @ (W0 / np.linalg.norm(W0, axis=0))  # column-normalised W0 does NOT reproduce
    assert not np.allclose(Zn.mean(axis=0), m["meanZ"], rtol=1e-3)


@needs_ref_r
def test_r_reference_beta():
    X, time, event, W0 = load_ref_r()
    fit = coxnet_fit(X.T @ W0, time, event, 0.05, 0.5, tol=1e-6, max_iter=500, solver="cd")
    expected = pd.read_csv(REF_R / "beta" / "beta.csv")["beta"].to_numpy()
    assert fit.converged
    assert_allclose(fit.coef, expected, rtol=0, atol=1e-8)
    assert np.count_nonzero(expected) == 1  # the reference solution is sparse


@needs_ref_r
def test_r_reference_final_cox_fit_alpha0():
    """alpha = 0 run: the final Cox fit on the run's W, from beta = 0, as in the reference."""
    X, time, event, _ = load_ref_r()
    W = pd.read_csv(REF_R / "core_alpha0" / "W.csv", index_col=0).to_numpy()
    fit = coxnet_fit(X.T @ W, time, event, 0.05, 0.5, tol=1e-6, max_iter=500, solver="cd")
    expected = pd.read_csv(REF_R / "core_alpha0" / "beta.csv")["beta"].to_numpy()
    assert_allclose(fit.coef, expected, rtol=0, atol=1e-8)
    m = pd.read_csv(REF_R / "core_alpha0" / "meanZ_sdZ.csv")
    assert_allclose(fit.mean, m["meanZ"], rtol=1e-10)
    assert_allclose(fit.scale, m["sdZ"], rtol=1e-10)


@needs_ref_r
def test_r_reference_surv_loss():
    _, time, event, _ = load_ref_r()
    loss = pd.read_csv(REF_R / "loss" / "loss.csv")
    ll = cox_partial_log_likelihood(np.zeros(time.size), time, event)  # beta0 = 0 => eta = 0
    assert_allclose(2.0 * ll / event.sum(), loss["surv_loss"].iloc[0], rtol=0, atol=1e-10)


# ------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------
T4 = np.array([1.0, 2.0, 3.0, 4.0])
E4 = np.array([1, 0, 1, 0])
Z4 = np.arange(8.0).reshape(4, 2) ** 1.5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cox_partial_log_likelihood([0, np.nan, 0, 0], T4, E4), "eta contains NaN"),
        (lambda: cox_gradient([0, np.inf, 0, 0], T4, E4), "eta contains NaN or infinite"),
        (lambda: cox_partial_log_likelihood([0, 0, 0], T4, E4), r"eta must have length 4"),
        (lambda: cox_partial_log_likelihood(np.zeros((4, 1)), T4, E4), "eta must be 1-D"),
        (lambda: cox_partial_log_likelihood(np.zeros(4), T4[:3], E4), "mismatched lengths"),
        (lambda: cox_partial_log_likelihood(np.zeros(4), T4, [0, 0, 0, 0]), "no events"),
        (lambda: cox_partial_log_likelihood(np.zeros(4), -T4, E4), "negative"),
        (lambda: cox_partial_log_likelihood(np.zeros(4), T4, [0, 2, 1, 0]), "0/1"),
        (lambda: cox_partial_log_likelihood(np.zeros(4), T4, E4, ties="exact"), "ties must be"),
        (lambda: cox_gradient(np.zeros(4), T4, E4, ties=None), "ties must be"),
        (lambda: breslow_baseline_hazard(T4, E4, [0, 0, np.nan, 0]), "eta contains NaN"),
        (lambda: coxnet_fit(Z4, T4, E4, -0.1), "penalty must be a finite number >= 0"),
        (lambda: coxnet_fit(Z4, T4, E4, np.nan), "penalty must be"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, 1.5), r"l1_ratio must be in \[0, 1\]"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, -0.1), r"l1_ratio must be in \[0, 1\]"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, ties="peto"), "ties must be"),
        (lambda: coxnet_fit(Z4, T4, [0, 0, 0, 0], 0.1), "no events"),
        (lambda: coxnet_fit(Z4[:3], T4, E4, 0.1), "Z has 3 rows"),
        (lambda: coxnet_fit(Z4[:, 0], T4, E4, 0.1), "Z must be 2-D"),
        (lambda: coxnet_fit(np.where(Z4 > 3, np.nan, Z4), T4, E4, 0.1), "Z contains NaN"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, beta_init=[1.0]), "beta_init must have length 2"),
        (
            lambda: coxnet_fit(Z4, T4, E4, 0.1, penalty_factor=[1.0, -1.0]),
            "penalty_factor must be nonnegative",
        ),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, tol=-1.0), "tol must be"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, max_iter=0), "max_iter must be an integer >= 1"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, max_iter=2.5), "max_iter must be an integer"),
        (lambda: coxnet_fit(Z4, T4, E4, 0.1, solver="lbfgs"), "solver must be 'newton' or 'cd'"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_no_warning_on_clean_fit():
    Z, time, event = tied_dataset(seed=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coxnet_fit(Z, time, event, 0.05, 0.5)
