"""Survival predictions (Breslow baseline, StepFunction) and Wald inference of DeSurv.

Checked against scikit-survival (StepFunction, BreslowEstimator, CoxPHSurvivalAnalysis,
metrics) and lifelines (CoxPHFitter standard errors and p-values); the observed information
against finite differences and the NumPy reference.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from desurv import ConvergenceWarning, DeSurv, concordance_index
from desurv._reference import cox as ref
from desurv.deconvolution.nmf_cox import NMFCox
from desurv.survival.cox import breslow_baseline_hazard, cox_information, cox_partial_log_likelihood
from desurv.survival.functions import (
    StepFunction,
    breslow_baseline,
    coef_covariance,
    cumulative_hazard_functions,
    survival_functions,
    wald_table,
)

sksurv = pytest.importorskip("sksurv")
from sksurv.functions import StepFunction as SkStepFunction  # noqa: E402
from sksurv.linear_model import CoxPHSurvivalAnalysis  # noqa: E402
from sksurv.linear_model.coxph import BreslowEstimator  # noqa: E402
from sksurv.metrics import cumulative_dynamic_auc, integrated_brier_score  # noqa: E402
from sksurv.util import Surv  # noqa: E402


def _fit(cls=DeSurv, X=None, time=None, event=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(n_init=3, max_iter=80, random_state=0, **kw).fit(X.T, time=time, event=event)


@pytest.fixture(scope="module")
def problem(small_problem):
    X, time, event, k = small_problem
    return X, np.asarray(time, dtype=float), np.asarray(event, dtype=bool), k


@pytest.fixture(scope="module")
def fitted(problem):
    X, time, event, k = problem
    return _fit(DeSurv, X, time, event, n_components=k)


def _no_ties(time, seed=1):
    rng = np.random.default_rng(seed)
    return time + rng.uniform(0.0, 0.05, size=time.shape)  # rounded to 0.1: ties broken


# --------------------------------------------------------------------------------------------
# StepFunction
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a, b, domain", [(1.0, 0.0, (0, None)), (2.5, -0.3, (0, None)), (0.7, 1.0, (None, 9.0))]
)
def test_step_function_equals_sksurv(a, b, domain):
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0.5, 8.0, size=12))
    y = np.cumsum(rng.uniform(size=12))
    ours = StepFunction(x, y, a=a, b=b, domain=domain)
    theirs = SkStepFunction(x, y, a=a, b=b, domain=domain)
    assert ours.domain == theirs.domain
    lo, hi = ours.domain
    upper = min(hi, x[-1])  # sksurv indexes past the end beyond x[-1]
    z = np.concatenate([x, np.linspace(lo, upper, 57), [lo, upper]])
    np.testing.assert_array_equal(ours(z), theirs(z))
    for t in (lo, x[0], x[3], 0.5 * (x[3] + x[4]), upper):  # scalars give scalars
        assert ours(t) == theirs(t) and np.ndim(ours(t)) == 0
    assert ours(np.array([x[2]])) == theirs(np.array([x[2]]))
    assert repr(ours) == repr(theirs)
    assert ours == StepFunction(x, y, a=a, b=b) and ours != StepFunction(x, y + 1, a=a, b=b)
    assert ours != theirs  # like sksurv, equality needs the same class
    for bad in (lo - 1.0, hi + 1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="x must be"):
            ours(bad)
        with pytest.raises(ValueError, match="x must be"):
            theirs(bad)
    with pytest.raises(ValueError, match="same length"):
        StepFunction(x, y[:-1])


def test_step_function_upper_domain_beyond_last_point():
    f = StepFunction(np.array([1.0, 2.0]), np.array([0.1, 0.4]), domain=(0, 5.0))
    np.testing.assert_array_equal(f([0.0, 1.0, 1.5, 2.0, 5.0]), [0.1, 0.1, 0.1, 0.4, 0.4])


# --------------------------------------------------------------------------------------------
# Breslow baseline on all distinct times
# --------------------------------------------------------------------------------------------
def test_breslow_baseline_equals_sksurv_breslow_estimator(problem):
    _, time, event, _ = problem
    rng = np.random.default_rng(3)
    eta = rng.normal(size=time.size)
    times, h0 = breslow_baseline(eta, time, event)
    sk = BreslowEstimator().fit(eta, event, time)
    np.testing.assert_array_equal(times, sk.unique_times_)
    np.testing.assert_allclose(h0, sk.cum_baseline_hazard_.y, rtol=1e-12)
    # the event-time version is the same function restricted to the event times
    te, he = breslow_baseline_hazard(time, event, eta)
    idx = np.searchsorted(times, te)
    np.testing.assert_array_equal(times[idx], te)
    np.testing.assert_allclose(h0[idx], he, rtol=1e-14)
    assert np.all(np.diff(h0) >= 0)
    # no jump at censoring-only times
    has_event = np.isin(times, time[event])
    assert np.all(np.diff(np.concatenate([[0.0], h0]))[~has_event] == 0)


def test_baseline_functions_huge_eta_stay_finite():
    times = np.array([1.0, 2.0, 3.0])
    h0 = np.array([0.0, 0.2, 0.5])
    eta = np.array([-800.0, 0.0, 800.0])
    S = survival_functions(eta, times, h0, return_array=True)
    H = cumulative_hazard_functions(eta, times, h0, return_array=True)
    assert np.all(np.isfinite(S)) and not np.any(np.isnan(H))
    np.testing.assert_array_equal(S[:, 0], 1.0)
    np.testing.assert_array_equal(S[2, 1:], 0.0)
    with pytest.raises(ValueError, match="eta contains NaN"):
        survival_functions([np.nan], times, h0)
    with pytest.raises(ValueError, match="equal, nonzero length"):
        survival_functions([0.0], times, h0[:2])


# --------------------------------------------------------------------------------------------
# DeSurv survival functions against scikit-survival's Cox model on the same Z and β
# --------------------------------------------------------------------------------------------
def _sksurv_cox_with_coef(Z, time, event, coef):
    """scikit-survival CoxPH fitted on Z, then given DeSurv's β and its Breslow baseline."""
    sk = CoxPHSurvivalAnalysis(alpha=1e-3).fit(Z, Surv.from_arrays(event, time))
    sk.coef_ = np.asarray(coef, dtype=float).copy()
    sk._baseline_model.fit(Z @ sk.coef_, event, time)  # uncentred η, as sksurv does
    return sk


def test_survival_functions_equal_sksurv_coxph(fitted, problem):
    X, time, event, _ = problem
    Z = fitted.transform(X.T)
    sk = _sksurv_cox_with_coef(Z, time, event, fitted.coef_)
    np.testing.assert_array_equal(fitted.unique_times_, sk.unique_times_)
    np.testing.assert_array_equal(fitted.baseline_time_, sk.unique_times_)
    # the baselines differ by the centring factor exp(mean_z·β) only
    shift = np.exp(fitted.mean_z_ @ fitted.coef_)
    np.testing.assert_allclose(
        fitted.baseline_cumulative_hazard_, shift * sk.cum_baseline_hazard_.y, rtol=1e-10
    )
    rng = np.random.default_rng(5)
    Xnew = X.T[rng.permutation(X.shape[1])[:25]] * rng.uniform(0.8, 1.2, size=(25, X.shape[0]))
    Znew = fitted.transform(Xnew)
    for name in ("predict_survival_function", "predict_cumulative_hazard_function"):
        ours = getattr(fitted, name)(Xnew, return_array=True)
        theirs = getattr(sk, name)(Znew, return_array=True)
        assert ours.shape == theirs.shape == (25, sk.unique_times_.size)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)
        fns, sk_fns = getattr(fitted, name)(Xnew), getattr(sk, name)(Znew)
        assert fns.dtype == object and fns.shape == (25,)
        t = np.linspace(0.0, sk.unique_times_[-1], 101)
        for f, g in zip(fns, sk_fns, strict=True):
            assert isinstance(f, StepFunction) and f.domain == g.domain
            np.testing.assert_allclose(f(t), g(t), rtol=1e-10, atol=1e-14)
            np.testing.assert_array_equal(f.x, g.x)
    # baseline step functions: survival of the average training sample
    np.testing.assert_allclose(
        fitted.baseline_survival_.y, np.exp(-fitted.baseline_cumulative_hazard_)
    )
    assert fitted.cum_baseline_hazard_.domain == sk.cum_baseline_hazard_.domain


def test_unpenalised_fit_matches_sksurv_coxph_fit(problem):
    X, time, event, k = problem
    m = _fit(NMFCox, X, time, event, n_components=k, penalty=0.0)
    Z = m.transform(X.T)
    sk = CoxPHSurvivalAnalysis(ties="breslow", tol=1e-12).fit(Z, Surv.from_arrays(event, time))
    np.testing.assert_allclose(m.coef_, sk.coef_, rtol=1e-5)
    np.testing.assert_allclose(
        m.predict_survival_function(X.T, return_array=True),
        sk.predict_survival_function(Z, return_array=True),
        rtol=1e-5,
        atol=1e-8,
    )


def test_sksurv_metrics_accept_desurv_outputs(fitted, problem):
    X, time, event, _ = problem
    y = Surv.from_arrays(event, time)
    Z = fitted.transform(X.T)
    sk = _sksurv_cox_with_coef(Z, time, event, fitted.coef_)
    times = np.quantile(time[event], [0.2, 0.4, 0.6, 0.8])
    est = np.vstack([f(times) for f in fitted.predict_survival_function(X.T)])
    est_sk = np.vstack([f(times) for f in sk.predict_survival_function(Z)])
    ibs = integrated_brier_score(y, y, est, times)
    assert ibs == pytest.approx(integrated_brier_score(y, y, est_sk, times), rel=1e-10)
    assert 0.0 < ibs < 0.25
    auc, mean_auc = cumulative_dynamic_auc(y, y, fitted.predict(X.T), times)
    auc_sk, mean_sk = cumulative_dynamic_auc(y, y, sk.predict(Z), times)
    np.testing.assert_allclose(auc, auc_sk, rtol=1e-12)
    chf = np.vstack([f(times) for f in fitted.predict_cumulative_hazard_function(X.T)])
    auc_chf, _ = cumulative_dynamic_auc(y, y, chf, times)
    np.testing.assert_allclose(auc_chf, auc_sk, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# centred risk scores
# --------------------------------------------------------------------------------------------
def test_predict_is_centred_at_training_mean(fitted, problem):
    X, time, event, _ = problem
    Z = fitted.transform(X.T)
    eta = fitted.predict(X.T)
    np.testing.assert_allclose(eta, (Z - fitted.mean_z_) @ fitted.coef_, rtol=1e-12)
    assert abs(eta.mean()) < 1e-10 * max(1.0, np.abs(eta).max())
    np.testing.assert_allclose(fitted.predict_risk(X.T), np.exp(eta))
    # C-index and partial likelihood are unchanged by the shift
    raw = Z @ fitted.coef_
    assert fitted.score(X.T, time=time, event=event) == concordance_index(time, event, raw)
    assert cox_partial_log_likelihood(eta, time, event) == pytest.approx(
        cox_partial_log_likelihood(raw, time, event), rel=1e-12
    )


def test_baseline_missing_or_unfitted():
    m = DeSurv()
    for name in ("unique_times_", "cum_baseline_hazard_", "baseline_survival_"):
        assert not hasattr(m, name)
    with pytest.raises(ValueError, match="not fitted"):
        m.predict_survival_function(np.ones((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        m.summary()


def test_model_without_baseline_raises(fitted, problem):
    X = problem[0]
    m = DeSurv(n_components=fitted.n_components)
    for name in ("W_", "H_", "coef_", "mean_z_", "sd_z_", "n_features_in_", "feature_names_in_"):
        if hasattr(fitted, name):
            setattr(m, name, getattr(fitted, name))
    with pytest.raises(ValueError, match="no baseline hazard"):
        m.predict_cumulative_hazard_function(X.T)
    s = m.summary()  # no covariance stored: NaN inference, point estimates kept
    assert s["se"].isna().all()
    np.testing.assert_allclose(s["coef"], fitted.coef_)


# --------------------------------------------------------------------------------------------
# observed information and Wald inference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_information_finite_differences_and_reference(problem, ties):
    _, time, event, _ = problem
    rng = np.random.default_rng(11)
    Z = rng.normal(size=(time.size, 3))
    beta = np.array([0.4, -0.3, 0.2])
    ll, score, info = cox_information(Z, time, event, beta, ties=ties)
    assert ll == pytest.approx(cox_partial_log_likelihood(Z @ beta, time, event, ties), rel=1e-13)
    h = 1e-5
    fd_score = np.empty(3)
    fd_info = np.empty((3, 3))
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        lp = cox_partial_log_likelihood(Z @ (beta + e), time, event, ties)
        lm = cox_partial_log_likelihood(Z @ (beta - e), time, event, ties)
        fd_score[j] = (lp - lm) / (2 * h)
        sp = cox_information(Z, time, event, beta + e, ties=ties)[1]
        sm = cox_information(Z, time, event, beta - e, ties=ties)[1]
        fd_info[:, j] = -(sp - sm) / (2 * h)
    np.testing.assert_allclose(score, fd_score, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(info, fd_info, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(info, info.T)
    # exact against the NumPy reference Hessian in eta: I = -Zᵀ ∇²ℓ Z
    eff = ties == "efron"
    np.testing.assert_allclose(info, -Z.T @ ref.hessian(Z @ beta, time, event, eff) @ Z, rtol=1e-10)
    np.testing.assert_allclose(score, Z.T @ ref.gradient(Z @ beta, time, event, eff), rtol=1e-10)


def test_cox_information_errors(problem):
    _, time, event, _ = problem
    Z = np.ones((time.size, 2))
    with pytest.raises(ValueError, match="coef must have length 2"):
        cox_information(Z, time, event, [0.0])
    with pytest.raises(ValueError, match="rows"):
        cox_information(Z[:-1], time, event, [0.0, 0.0])
    with pytest.raises(ValueError, match="ties"):
        cox_information(Z, time, event, [0.0, 0.0], ties="exact")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_wald_inference_matches_lifelines(problem, ties):
    lifelines = pytest.importorskip("lifelines")
    X, time, event, k = problem
    if ties == "breslow":
        time = _no_ties(time)  # lifelines uses Efron; without ties Breslow is the same
    m = _fit(NMFCox, X, time, event, n_components=k, penalty=0.0, ties=ties)
    Zstd = (m.transform(X.T) - m.mean_z_) / m.sd_z_
    df = pd.DataFrame(Zstd, columns=[f"factor_{f + 1}" for f in range(k)])
    df["T"], df["E"] = time, event.astype(int)
    cph = lifelines.CoxPHFitter().fit(df, "T", "E")
    ls = cph.summary
    s = m.summary()
    np.testing.assert_allclose(s["coef_per_sd"], ls["coef"], rtol=1e-4)
    np.testing.assert_allclose(s["se_per_sd"], ls["se(coef)"], rtol=1e-4)
    np.testing.assert_allclose(s["z"], ls["z"], rtol=1e-4)
    np.testing.assert_allclose(s["p"], ls["p"], rtol=1e-3)
    np.testing.assert_allclose(s["hazard_ratio_per_sd_lower"], ls["exp(coef) lower 95%"], rtol=1e-4)
    np.testing.assert_allclose(s["hazard_ratio_per_sd_upper"], ls["exp(coef) upper 95%"], rtol=1e-4)
    # at lifelines' own coefficients the covariance is lifelines' to rounding
    cov = coef_covariance(Zstd, time, event, ls["coef"].to_numpy(), ties=ties)
    np.testing.assert_allclose(cov, cph.variance_matrix_.to_numpy(), rtol=1e-7)
    # per unit of Z: se(β) = se(b)/sd, z and p identical
    np.testing.assert_allclose(s["se"] * m.sd_z_, s["se_per_sd"], rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(m.coef_covariance_)), s["se"], rtol=1e-12)


def test_summary_columns_levels_and_print(fitted, capsys):
    s = fitted.summary()
    legacy = ["coef", "exp(coef)", "sd_z", "coef_per_sd", "hazard_ratio_per_sd"]
    assert set(legacy) <= set(s.columns)
    np.testing.assert_allclose(s["hazard_ratio_per_sd"], np.exp(fitted.coef_ * fitted.sd_z_))
    assert list(s.index) == [f"factor_{f + 1}" for f in range(fitted.coef_.size)]
    assert s.index.name == "factor"
    assert (s["coef_lower"] < s["coef"]).all() and (s["coef"] < s["coef_upper"]).all()
    lo, hi = s["hazard_ratio_per_sd_lower"], s["hazard_ratio_per_sd_upper"]
    assert (lo < s["hazard_ratio_per_sd"]).all() and (s["hazard_ratio_per_sd"] < hi).all()
    s90 = fitted.summary(level=0.90)
    assert (s90["coef_upper"] - s90["coef_lower"] < s["coef_upper"] - s["coef_lower"]).all()
    np.testing.assert_allclose(s["coef_upper"] - s["coef"], 1.959963984540054 * s["se"])
    with pytest.raises(ValueError, match="level"):
        fitted.summary(level=95)
    fitted.print_summary()
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert "anti-conservative" in flat and "penalty = 0.1" in flat and "not valid tests" in flat
    assert "DeSurv(" in out and "number of samples = 60" in out
    assert f"number of events = {fitted.n_events_}" in out and "ties = breslow" in out
    assert "factor_1" in out


def test_wald_table_nan_for_constant_or_singular():
    rng = np.random.default_rng(2)
    n = 40
    time = rng.exponential(size=n)
    event = np.ones(n, dtype=bool)
    z1 = rng.normal(size=n)
    Z = np.column_stack([z1, np.full(n, 3.0), 2 * z1])  # constant and collinear columns
    cov = coef_covariance(Z, time, event, np.zeros(3))
    assert np.isnan(cov).all()  # collinear: singular information
    cov = coef_covariance(Z[:, :2], time, event, np.zeros(2))
    assert np.isfinite(cov[0, 0]) and np.isnan(cov[1]).all() and np.isnan(cov[:, 1]).all()
    t = wald_table(np.zeros(2), cov, Z[:, :2].std(axis=0, ddof=1))
    assert np.isfinite(t.loc[0, "p"]) and np.isnan(t.loc[1, "p"])


def test_predict_returns_array_with_pandas_output(fitted, problem):
    X = problem[0]
    df = pd.DataFrame(X.T, columns=[f"g{j}" for j in range(X.shape[0])])
    eta = fitted.predict(X.T)
    try:
        fitted.set_output(transform="pandas")
        out = fitted.predict(df.to_numpy())
        S = fitted.predict_survival_function(X.T, return_array=True)
    finally:
        fitted.set_output(transform="default")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_allclose(out, eta, rtol=1e-12)
    assert S.shape == (X.shape[1], fitted.unique_times_.size)
