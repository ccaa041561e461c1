"""Tests of desurv.evaluation: external validation, risk groups, Kaplan–Meier, log-rank,
maximally selected cut points and the score-based predictor.

Hazard ratios are checked against independent computations (our Cox MLE, scikit-survival's
CoxPHSurvivalAnalysis, the inverse of a numerical observed information, scipy for the
stratified fit), Kaplan–Meier curves and log-rank tests against scikit-survival.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, require
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index as lifelines_cindex
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from sksurv.compare import compare_survival
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.nonparametric import kaplan_meier_estimator

from desurv import DeSurv, load_model, make_survival_y
from desurv.datasets import simulate_desurv
from desurv.evaluation import (
    ScoreBasedPredictor,
    evaluate_cohort,
    kaplan_meier,
    learn_cutpoint,
    logrank,
    risk_groups,
    validate_cohorts,
)
from desurv.exceptions import DataWarning
from desurv.preprocessing import Preprocessor
from desurv.survival.cox import cox_gradient, cox_partial_log_likelihood, coxnet_fit

Z975 = norm.ppf(0.975)


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim():
    """Three cohorts of 80 simulated samples; survival driven by program 1; rounded times."""
    s = simulate_desurv(
        n_samples=240,
        n_genes=200,
        n_components=3,
        n_markers=30,
        n_background=50,
        gene_baseline=None,  # the Cox fits compared here need non-collinear Z (corr 0.99 with it)
        random_state=1,
    )
    y = s.y.copy()
    y["time"] = np.round(y["time"], 0) + 1.0  # ties, so that Breslow/Efron differ
    return s.X, y


@pytest.fixture(scope="module")
def model(sim):
    X, y = sim
    return DeSurv(
        n_components=3, alpha=0.5, penalty=0.01, n_init=2, max_iter=100, random_state=0
    ).fit(X.iloc[:80], y[:80])


@pytest.fixture(scope="module")
def cohorts(sim):
    X, y = sim
    return {"a": (X.iloc[80:160], y[80:160]), "b": (X.iloc[160:], y[160:])}


@pytest.fixture(scope="module")
def result(model, cohorts):
    return validate_cohorts(model, cohorts, univariable=True)


def _zscore(v):
    return (v - v.mean()) / v.std(ddof=1)


def _mle_and_se(Z, time, event):
    """Efron Cox MLE (our Newton solver, penalty 0) and se from a numerical Hessian."""
    Z = np.atleast_2d(np.asarray(Z, dtype=float).T).T
    b = coxnet_fit(Z, time, event, penalty=0.0, ties="efron", tol=1e-12, max_iter=200).coef
    k, h = Z.shape[1], 1e-5
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        gp = Z.T @ cox_gradient(Z @ (b + e), time, event, ties="efron")[1]
        gm = Z.T @ cox_gradient(Z @ (b - e), time, event, ties="efron")[1]
        H[:, j] = (gp - gm) / (2 * h)
    cov = np.linalg.inv(-(H + H.T) / 2)
    return b, np.sqrt(np.diag(cov))


def _hr(res, cohort, term, model_kind):
    t = res.hazard_ratios
    row = t[(t.cohort == cohort) & (t.term == term) & (t.model == model_kind)]
    assert len(row) == 1
    return row.iloc[0]


# --------------------------------------------------------------------------------------
# validate_cohorts: the numbers
# --------------------------------------------------------------------------------------
def test_risk_table_applies_fitted_model_without_refit(model, cohorts, result):
    for name, (X, y) in cohorts.items():
        r = result.risk[result.risk.cohort == name]
        np.testing.assert_allclose(r.eta, model.predict(X), rtol=1e-12)
        np.testing.assert_allclose(r[result.factor_names], model.transform(X), rtol=1e-12)
        np.testing.assert_allclose(r.eta_std, _zscore(model.predict(X)), rtol=1e-12)
        assert list(r["sample"]) == list(X.index)
        np.testing.assert_array_equal(r.time, y["time"])
        np.testing.assert_array_equal(r.event, y["event"])


def test_summary_cindex_and_partial_likelihood(model, cohorts, result):
    s = result.summary.set_index("cohort")
    assert list(s.index) == ["a", "b", "pooled"]
    for name, (X, y) in cohorts.items():
        eta = model.predict(X)
        assert s.loc[name, "n_samples"] == len(y)
        assert s.loc[name, "n_events"] == y["event"].sum()
        # lifelines' concordance ranks survival times, so it takes -eta
        assert s.loc[name, "cindex"] == pytest.approx(
            lifelines_cindex(y["time"], -eta, y["event"]), abs=1e-12
        )
        assert s.loc[name, "partial_loglik"] == pytest.approx(
            cox_partial_log_likelihood(eta, y["time"], y["event"], ties="breslow"), rel=1e-12
        )
        ll0 = cox_partial_log_likelihood(np.zeros(len(y)), y["time"], y["event"])
        assert s.loc[name, "partial_loglik_null"] == pytest.approx(ll0, rel=1e-12)
        # the fitted model predicts: its likelihood beats the null model
        assert s.loc[name, "partial_loglik"] > ll0
    assert s.loc["pooled", "n_samples"] == 160
    total = s.loc[["a", "b"], "partial_loglik"].sum()
    assert s.loc["pooled", "partial_loglik"] == pytest.approx(total, rel=1e-12)


def test_pooled_cindex_counts_pairs_within_cohorts(model, cohorts, result):
    conc = comp = 0.0
    for X, y in cohorts.values():  # brute-force O(n^2) pairs, within each cohort only
        eta, t, e = model.predict(X), y["time"], y["event"]
        for i in np.flatnonzero(e):
            later = (t > t[i]) | ((t == t[i]) & ~e)
            comp += later.sum()
            conc += (eta[i] > eta[later]).sum() + 0.5 * (eta[i] == eta[later]).sum()
    pooled = result.summary.set_index("cohort").loc["pooled", "cindex"]
    assert pooled == pytest.approx(conc / comp, abs=1e-12)


def test_hr_per_sd_of_eta_matches_independent_mle(model, cohorts, result):
    for name, (X, y) in cohorts.items():
        v = _zscore(model.predict(X))
        b, se = _mle_and_se(v, y["time"], y["event"])
        row = _hr(result, name, "linear_predictor", "univariable")
        assert row.coef == pytest.approx(b[0], rel=1e-6)
        assert row.se == pytest.approx(se[0], rel=1e-4)
        assert row.hr == pytest.approx(np.exp(b[0]), rel=1e-6)
        assert row.ci_lower == pytest.approx(np.exp(b[0] - Z975 * se[0]), rel=1e-4)
        assert row.ci_upper == pytest.approx(np.exp(b[0] + Z975 * se[0]), rel=1e-4)
        assert row.z == pytest.approx(b[0] / se[0], rel=1e-4)
        assert row.p == pytest.approx(2 * norm.sf(abs(b[0] / se[0])), rel=1e-3)
        s = result.summary.set_index("cohort").loc[name]
        assert (s.hr_per_sd, s.ci_lower, s.ci_upper, s.p) == (
            row.hr,
            row.ci_lower,
            row.ci_upper,
            row.p,
        )


def test_multivariable_factor_hrs_match_sksurv_and_observed_information(model, cohorts, result):
    for name, (X, y) in cohorts.items():
        Zs = np.apply_along_axis(_zscore, 0, model.transform(X))
        ref = CoxPHSurvivalAnalysis(ties="efron", tol=1e-12, n_iter=200).fit(Zs, y).coef_
        _, se = _mle_and_se(Zs, y["time"], y["event"])
        got = [_hr(result, name, f, "multivariable") for f in result.factor_names]
        np.testing.assert_allclose([r.coef for r in got], ref, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose([r.se for r in got], se, rtol=1e-4)
        np.testing.assert_allclose([r.p for r in got], 2 * norm.sf(np.abs(ref / se)), rtol=1e-3)


def test_univariable_factor_hrs(model, cohorts, result):
    X, y = cohorts["a"]
    z = _zscore(model.transform(X)[:, 1])
    b, se = _mle_and_se(z, y["time"], y["event"])
    row = _hr(result, "a", "factor_2", "univariable")
    assert row.coef == pytest.approx(b[0], rel=1e-6)
    assert row.se == pytest.approx(se[0], rel=1e-4)


def test_pooled_stratified_fit_matches_lifelines_and_scipy(model, cohorts, result):
    parts = []
    for name, (X, y) in cohorts.items():
        parts.append(
            pd.DataFrame(
                {"lp": _zscore(model.predict(X)), "T": y["time"], "E": y["event"], "c": name}
            )
        )
    df = pd.concat(parts, ignore_index=True)
    tight = {"precision": 1e-14, "r_precision": 0.0}  # lifelines' default stops early
    direct = CoxPHFitter().fit(df, "T", "E", strata=["c"], fit_options=tight).summary.loc["lp"]
    row = _hr(result, "pooled", "linear_predictor", "univariable")
    assert row.coef == pytest.approx(direct["coef"], rel=1e-10)
    assert row.se == pytest.approx(direct["se(coef)"], rel=1e-10)
    assert row.p == pytest.approx(direct["p"], rel=1e-8)
    default = CoxPHFitter().fit(df, "T", "E", strata=["c"]).summary.loc["lp"]
    assert row.coef == pytest.approx(default["coef"], rel=1e-4)

    # independent: the stratified partial likelihood is the sum of the cohorts' likelihoods
    def nll(b):
        return -sum(
            cox_partial_log_likelihood(b * g.lp.to_numpy(), g["T"], g["E"], ties="efron")
            for _, g in df.groupby("c")
        )

    b = minimize_scalar(nll, bracket=(0.0, 1.0), tol=1e-12).x
    assert row.coef == pytest.approx(b, rel=1e-6)
    assert row.coef != pytest.approx(_hr(result, "a", "linear_predictor", "univariable").coef)


def test_hazard_ratio_table_is_tidy(result):
    t = result.hazard_ratios
    for col in ("cohort", "term", "model", "coef", "se", "hr", "ci_lower", "ci_upper", "z", "p"):
        assert col in t.columns
    multi = t[t.model == "multivariable"]
    assert set(multi.term) == {"factor_1", "factor_2", "factor_3"}
    assert len(t) == 3 * (1 + 3 + 3)
    assert (t.ci_lower < t.hr).all() and (t.hr < t.ci_upper).all()


def test_evaluate_cohort_single(model, cohorts, result):
    X, y = cohorts["b"]
    r = evaluate_cohort(model, X, time=y["time"], event=y["event"], name="b")
    assert list(r.summary.cohort) == ["b"]
    pd.testing.assert_series_equal(
        r.summary.iloc[0], result.summary.iloc[1], check_names=False, rtol=1e-12
    )


def test_single_cohort_has_no_pooled_row(model, cohorts):
    r = validate_cohorts(model, {"a": cohorts["a"]})
    assert list(r.summary.cohort) == ["a"]
    r2 = validate_cohorts(model, cohorts, pooled=False)
    assert "pooled" not in set(r2.hazard_ratios.cohort)


def test_constant_linear_predictor_warns_and_gives_nan(model, cohorts):
    m0 = copy.copy(model)
    m0.coef_ = np.zeros_like(model.coef_)
    with pytest.warns(DataWarning, match="constant"):
        r = validate_cohorts(m0, cohorts)
    s = r.summary.set_index("cohort")
    assert np.isnan(s.loc["a", "hr_per_sd"]) and np.isnan(s.loc["pooled", "hr_per_sd"])
    assert s.loc["a", "cindex"] == 0.5
    # factor hazard ratios do not depend on beta
    assert np.isfinite(r.hazard_ratios.query("model == 'multivariable'").hr).all()


# --------------------------------------------------------------------------------------
# preprocessing and input errors
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw_setup(sim):
    """Raw log-scale cohorts (negative values) and a model fitted after rank preprocessing."""
    X, y = sim
    raw = np.log(X + 0.05)
    pre = Preprocessor(transform="rank", n_genes=120).fit(raw.iloc[:80])
    m = DeSurv(n_components=2, alpha=0.5, penalty=0.01, n_init=2, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short fit is enough to test the bookkeeping
        m.fit(pre.transform(raw.iloc[:80]), y[:80])
    return raw, y, pre, m


def test_preprocessor_applied_to_raw_cohorts(raw_setup):
    raw, y, pre, m = raw_setup
    Xv = raw.iloc[80:160]
    expected = m.predict(pre.transform(Xv))
    shuffled = Xv[Xv.columns[::-1]]  # alignment is by gene name
    r = evaluate_cohort(m, shuffled, y[80:160], preprocessor=pre)
    np.testing.assert_allclose(r.risk.eta, expected, rtol=1e-12)
    m_auto = copy.copy(m)
    m_auto.preprocessor_ = pre  # as set by desurv.load_model
    r_auto = evaluate_cohort(m_auto, Xv, y[80:160])
    np.testing.assert_allclose(r_auto.risk.eta, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="cohort 'cohort'.*negative"):
        evaluate_cohort(m_auto, Xv, y[80:160], preprocessor=None)
    # prepared data with preprocessor=None
    r_none = evaluate_cohort(m, pre.transform(Xv), y[80:160], preprocessor=None)
    np.testing.assert_allclose(r_none.risk.eta, expected, rtol=1e-12)


def test_loaded_model_applies_its_saved_preprocessing(raw_setup, tmp_path):
    raw, y, pre, m = raw_setup
    m.save(tmp_path / "model.npz", preprocessor=pre)
    loaded = load_model(tmp_path / "model.npz")
    r = validate_cohorts(loaded, {"v": (raw.iloc[80:160], y[80:160])})
    np.testing.assert_allclose(r.risk.eta, m.predict(pre.transform(raw.iloc[80:160])), rtol=1e-12)


def test_missing_genes_error_and_explicit_fill(raw_setup):
    raw, y, pre, m = raw_setup
    Xv = raw.iloc[80:160].drop(columns=list(pre.genes_[:3]))
    with pytest.raises(ValueError, match="cohort 'v'.*lacks 3 of the 120 genes.*align_genes"):
        validate_cohorts(m, {"v": (Xv, y[80:160])}, preprocessor=pre)
    with pytest.warns(DataWarning, match="filled"):
        r = validate_cohorts(m, {"v": (Xv, y[80:160])}, preprocessor=pre, fill_value=0.0)
    assert np.isfinite(r.summary.cindex).all()
    # without a preprocessor the model's own genes are checked
    Xp = pre.transform(raw.iloc[80:160]).drop(columns=[pre.genes_[5]])
    with pytest.raises(ValueError, match="lacks 1 of the 120 genes"):
        validate_cohorts(m, {"v": (Xp, y[80:160])}, preprocessor=None)


def test_input_errors(model, cohorts, sim):
    X, y = cohorts["a"]
    y0 = y.copy()
    y0["event"] = False
    with pytest.raises(ValueError, match="cohort 'dead'.*no events"):
        validate_cohorts(model, {"a": (X, y), "dead": (X, y0)})
    with pytest.raises(ValueError, match="cohort 'a'.*79 samples but X has 80"):
        validate_cohorts(model, {"a": (X, y[:79])})
    with pytest.raises(ValueError, match="reserved"):
        validate_cohorts(model, {"pooled": (X, y), "b": cohorts["b"]})
    with pytest.raises(ValueError, match="non-empty mapping"):
        validate_cohorts(model, {})
    with pytest.raises(ValueError, match=r"tuple \(X, y\)"):
        validate_cohorts(model, {"a": X})
    with pytest.raises(ValueError, match="fitted desurv.DeSurv"):
        validate_cohorts(DeSurv(), {"a": (X, y)})
    with pytest.raises(ValueError, match="preprocessor must be"):
        validate_cohorts(model, {"a": (X, y)}, preprocessor="rank")
    with pytest.raises(ValueError, match="either y or time"):
        evaluate_cohort(model, X, y, time=y["time"], event=y["event"])


# --------------------------------------------------------------------------------------
# risk groups, Kaplan–Meier, log-rank, cut points
# --------------------------------------------------------------------------------------
def _surv_data(n=90, seed=3):
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=n)
    t = np.ceil(rng.exponential(np.exp(-eta)) * 10)  # integer times: many ties
    e = rng.uniform(size=n) < 0.75
    return eta, t, e


def test_risk_groups_quantiles_and_cutpoints():
    eta = np.random.default_rng(0).permutation(np.arange(100.0))
    g4 = risk_groups(eta, n_groups=4)
    assert list(g4.categories) == ["G1", "G2", "G3", "G4"] and g4.ordered
    assert (pd.Series(g4).value_counts().sort_index() == 25).all()
    # group order follows eta
    assert np.all(eta[g4 == "G1"].max() < eta[g4 == "G2"].min())
    g2 = risk_groups(eta)
    assert list(g2.categories) == ["low", "high"]
    np.testing.assert_array_equal(g2, risk_groups(eta, quantiles=(0.5,)))
    assert (eta[g2 == "high"] > np.median(eta)).all()
    g3 = risk_groups(eta, n_groups=3)
    assert list(g3.categories) == ["low", "intermediate", "high"]
    # a sample exactly at a cut point joins the lower group
    gc = risk_groups(np.array([1.0, 2.0, 3.0]), cutpoints=[2.0], labels=["L", "H"])
    assert list(gc) == ["L", "L", "H"]
    with pytest.warns(DataWarning, match="empty"):
        risk_groups(np.array([1.0, 2.0, 3.0]), cutpoints=[10.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_groups": 2, "quantiles": (0.5,)}, "at most one"),
        ({"n_groups": 1}, "n_groups"),
        ({"quantiles": (0.6, 0.4)}, "increasing"),
        ({"quantiles": (1.0,)}, r"in \(0, 1\)"),
        ({"cutpoints": [2.0, 1.0]}, "increasing"),
        ({"n_groups": 2, "labels": ["a"]}, "2 distinct"),
    ],
)
def test_risk_groups_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        risk_groups(np.arange(10.0), **kwargs)
    with pytest.raises(ValueError, match="NaN"):
        risk_groups(np.array([1.0, np.nan]))


def test_kaplan_meier_matches_sksurv():
    eta, t, e = _surv_data()
    g = risk_groups(eta, n_groups=3)
    km = kaplan_meier(t, e, g)
    assert list(km.group.cat.categories) == ["low", "intermediate", "high"]
    for label in g.categories:
        sel = np.asarray(g == label)
        tt, s, (lo, hi) = kaplan_meier_estimator(e[sel], t[sel], conf_type="log-log")
        part = km[km.group == label]
        first = part.iloc[0]
        assert (first.time, first.survival, first.n_at_risk) == (0.0, 1.0, sel.sum())
        part = part.iloc[1:]  # scikit-survival has no time-0 row (all times are > 0)
        np.testing.assert_allclose(part.time, tt)
        np.testing.assert_allclose(part.survival, s, rtol=1e-12)
        np.testing.assert_allclose(part.ci_lower, lo, rtol=1e-8)
        np.testing.assert_allclose(part.ci_upper, hi, rtol=1e-8)
        ts, es = t[sel], e[sel]
        np.testing.assert_array_equal(part.n_at_risk, [(ts >= x).sum() for x in tt])
        np.testing.assert_array_equal(part.n_events, [((ts == x) & es).sum() for x in tt])
        np.testing.assert_array_equal(part.n_censored, [((ts == x) & ~es).sum() for x in tt])


def test_kaplan_meier_single_group_and_errors():
    eta, t, e = _surv_data()
    km = kaplan_meier(t, e)
    assert set(km.group) == {"all"}
    assert km.n_at_risk.iloc[0] == len(t)
    assert np.all(np.diff(km.survival) <= 0)
    with pytest.raises(ValueError, match="groups has 3 entries"):
        kaplan_meier(t, e, ["a", "b", "c"])
    with pytest.raises(ValueError, match="conf_level"):
        kaplan_meier(t, e, conf_level=1.5)


def test_logrank_matches_sksurv():
    eta, t, e = _surv_data()
    y = make_survival_y(t, e)
    for n_groups in (2, 3):
        g = risk_groups(eta, n_groups=n_groups)
        res = logrank(t, e, g)
        chisq, p = compare_survival(y, np.asarray(g))
        assert res.statistic == pytest.approx(chisq, rel=1e-10)
        assert res.p == pytest.approx(p, rel=1e-8)
        assert res.df == n_groups - 1
        assert list(res.groups.n) == list(pd.Series(g).value_counts(sort=False))
        med = res.groups.median_survival.to_numpy()
        assert np.all(np.diff(med[np.isfinite(med)]) <= 0)  # higher risk, shorter survival
    with pytest.raises(ValueError, match="two non-empty groups"):
        logrank(t, e, np.zeros(len(t)))


def test_maxstat_scan_equals_logrank_at_every_cut():
    eta, t, e = _surv_data(n=60, seed=11)
    y = make_survival_y(t, e)
    cut, scan = learn_cutpoint(eta, t, e, method="maxstat", min_prop=0.1, return_scan=True)
    assert (scan.n_low >= 6).all() and (scan.n_high >= 6).all()
    assert len(scan) == 60 - 2 * 6 + 1  # distinct eta: every admissible split
    ref = [compare_survival(y, eta > c)[0] for c in scan.cutpoint]
    np.testing.assert_allclose(scan.statistic, ref, rtol=1e-10)
    assert cut == scan.cutpoint.iloc[int(np.argmax(ref))]


def test_maxstat_recovers_planted_cutpoint():
    rng = np.random.default_rng(5)
    n = 300
    eta = rng.uniform(size=n)
    t = rng.exponential(1.0 / np.exp(2.0 * (eta > 0.6)))
    c = rng.exponential(3.0, size=n)
    time, event = np.minimum(t, c), t <= c
    cut = learn_cutpoint(eta, time, event, method="maxstat")
    assert 0.5 < cut < 0.7
    assert learn_cutpoint(eta, method="median") == pytest.approx(np.median(eta))
    g = risk_groups(eta, cutpoints=[cut])
    assert (np.asarray(g == "high") == (eta > cut)).all()


def test_learn_cutpoint_errors():
    eta, t, e = _surv_data()
    with pytest.raises(ValueError, match="needs time= and event="):
        learn_cutpoint(eta, method="maxstat")
    with pytest.raises(ValueError, match="min_prop"):
        learn_cutpoint(eta, t, e, method="maxstat", min_prop=0.7)
    with pytest.raises(ValueError, match="method"):
        learn_cutpoint(eta, t, e, method="optimal")
    with pytest.raises(ValueError, match="no cut point"):
        learn_cutpoint(np.r_[np.zeros(89), 1.0], t, e, method="maxstat")


def test_survival_by_group(result):
    sg = result.survival_by_group(n_groups=2)
    assert set(sg.curves.cohort) == {"a", "b"}
    assert list(sg.logrank.cohort) == ["a", "b"]
    r = result.risk[result.risk.cohort == "a"]
    ref = logrank(r.time, r.event, risk_groups(r.eta.to_numpy()))
    assert sg.logrank.set_index("cohort").loc["a", "statistic"] == pytest.approx(ref.statistic)
    assert (sg.groups.groupby("cohort").n.sum() == 80).all()
    assert list(sg.curves.group.cat.categories) == ["low", "high"]
    # a categorical Series keeps its group order in kaplan_meier
    km = kaplan_meier(sg.assignments.time, sg.assignments.event, sg.assignments.group)
    assert list(km.group.cat.categories) == ["low", "high"] and km.group.iloc[0] == "low"
    # a cut point learned on one cohort applies unchanged to another
    cut = learn_cutpoint(r.eta_std, r.time, r.event, method="maxstat")
    sg2 = result.survival_by_group(cutpoints=[cut], standardized=True)
    b = sg2.assignments[sg2.assignments.cohort == "b"]
    assert ((b.group == "high") == (b.eta_std > cut)).all()


def test_survival_by_group_records_the_grouping_in_the_logrank_table(result):
    """The written tables say which groups the tests compared (issue 9 §6)."""
    cut = float(np.median(result.risk.eta)) + 0.3  # e.g. a cut learned on training scores
    sg = result.survival_by_group(cutpoints=[cut], labels=["low risk", "high risk"])
    assert {"variable", "grouping", "cutpoints"} <= set(sg.logrank.columns)
    assert (sg.logrank.grouping == "fixed cut points").all()
    assert (sg.logrank.variable == "eta").all()
    # full precision: the text round-trips to the cut point used
    assert all(float(c) == cut for c in sg.logrank.cutpoints)
    assert all(np.array_equal(v, [cut]) for v in sg.cutpoints.values())
    sq = result.survival_by_group(quantiles=[0.5])
    assert (sq.logrank.grouping == "quantiles 0.5 of the cohort").all()
    for cohort, part in result.risk.groupby("cohort"):
        med = float(np.median(part.eta))
        row = sq.logrank.set_index("cohort").loc[cohort]
        assert float(row.cutpoints) == med and sq.cutpoints[cohort][0] == med
        # the recorded cut reproduces the groups of the tests
        g = risk_groups(part.eta.to_numpy(), cutpoints=[float(row.cutpoints)])
        a = sq.assignments[sq.assignments.cohort == cohort]
        assert np.array_equal(np.asarray(g), a.group.to_numpy())
    s3 = result.survival_by_group(n_groups=3)
    assert (s3.logrank.grouping == "quantiles 0.3333, 0.6667 of the cohort").all()
    assert all(len(c.split("; ")) == 2 for c in s3.logrank.cutpoints)


# --------------------------------------------------------------------------------------
# score-based predictor
# --------------------------------------------------------------------------------------
def test_score_based_with_all_genes_reproduces_model(model, cohorts):
    X, y = cohorts["a"]
    p = model.W_.shape[0]
    sbp = ScoreBasedPredictor(model, n_top=p, transform="none", coef="raw").fit()
    np.testing.assert_allclose(sbp.scores(X).to_numpy(), model.transform(X), rtol=1e-12)
    # coef="raw" is the authors' uncentred risk score Σ β_f S_f (model.predict is centred)
    np.testing.assert_allclose(sbp.predict(X), model.transform(X) @ model.coef_, rtol=1e-12)
    assert sbp.standardization_ == "cohort"
    Zs = sbp.transform(X)
    np.testing.assert_allclose(Zs.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Zs.std(axis=0, ddof=1), 1, rtol=1e-12)


def test_score_based_rank_scores_by_definition(model, cohorts, sim):
    X, _ = cohorts["a"]
    sbp = ScoreBasedPredictor(model, n_top=10).fit(sim[0].iloc[:80])
    pd.testing.assert_frame_equal(sbp.top_genes_, model.top_genes(10))
    genes = list(sbp.genes_)
    assert len(genes) == len(set(np.ravel(model.top_genes(10).to_numpy())))
    R = (X[genes].rank(axis=1).to_numpy() - 1) / (len(genes) - 1)  # average ranks
    W = pd.DataFrame(model.W_, index=model.feature_names_in_)
    expected = np.column_stack(
        [
            R[:, [genes.index(g) for g in sbp.top_genes_[f"factor_{f + 1}"]]]
            @ W.loc[sbp.top_genes_[f"factor_{f + 1}"], f].to_numpy()
            for f in range(3)
        ]
    )
    np.testing.assert_allclose(sbp.scores(X).to_numpy(), expected, rtol=1e-12)
    binary = ScoreBasedPredictor(model, n_top=10, weights="binary").fit()
    expected_bin = np.column_stack(
        [R[:, [genes.index(g) for g in sbp.top_genes_[c]]].sum(axis=1) for c in sbp.top_genes_]
    )
    np.testing.assert_allclose(binary.scores(X).to_numpy(), expected_bin, rtol=1e-12)


def test_score_based_needs_only_top_genes(model, cohorts, sim):
    X, y = cohorts["b"]
    for transform in ("rank", "none"):
        sbp = ScoreBasedPredictor(model, n_top=15, transform=transform).fit(sim[0].iloc[:80])
        full = sbp.predict(X)
        only = X[list(sbp.genes_)[::-1]]  # only the top genes, any order
        np.testing.assert_allclose(sbp.predict(only), full, rtol=1e-12)
    # training standardisation; coef="model" applies the per-SD coefficients of the model
    Zt = sbp.transform(sim[0].iloc[:80])
    np.testing.assert_allclose(Zt.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(Zt.std(axis=0, ddof=1), 1, rtol=1e-10)
    np.testing.assert_allclose(sbp.coef_, model.coef_ * model.sd_z_)
    np.testing.assert_allclose(sbp.predict(X), sbp.transform(X) @ sbp.coef_)
    # and it validates like a model
    r = validate_cohorts(sbp, {"b": (X[list(sbp.genes_)], y)})
    np.testing.assert_allclose(r.risk.eta, full, rtol=1e-12)
    assert r.summary.cindex.iloc[0] == pytest.approx(sbp.score(X, y))


def test_score_based_missing_top_genes(model, cohorts):
    X, _ = cohorts["a"]
    sbp = ScoreBasedPredictor(model, n_top=10).fit()
    top1 = list(sbp.top_genes_.factor_1)
    Xm = X.drop(columns=top1[:2])
    msg = rf"factor_1: 2 of 10 missing \('{top1[0]}', '{top1[1]}'\)"
    with pytest.warns(DataWarning, match=msg):
        S = sbp.scores(Xm)
    cov = sbp.gene_coverage(Xm).set_index("factor")
    assert cov.loc["factor_1", "n_present"] == 8 and cov.loc["factor_1", "missing"] == top1[:2]
    assert cov.loc["factor_2", "n_present"] == 10
    # scored on the genes present: ranks over the remaining union
    genes = [g for g in sbp.genes_ if g in Xm.columns]
    R = (Xm[genes].rank(axis=1).to_numpy() - 1) / (len(genes) - 1)
    w = sbp.gene_weights_.loc[genes, "factor_1"].to_numpy()
    np.testing.assert_allclose(S.factor_1, R @ w, rtol=1e-12)
    with pytest.raises(ValueError, match="none of the 10 top genes of factor_1"):
        sbp.scores(X.drop(columns=top1))


def test_score_based_refit_is_cox_mle(model, sim):
    X, y = sim
    sbp = ScoreBasedPredictor(model, n_top=20, coef="refit").fit(X.iloc[:80], y[:80])
    Zs = sbp.transform(X.iloc[:80])
    ref = coxnet_fit(Zs, y["time"][:80], y["event"][:80], penalty=0.0, ties="efron", tol=1e-12)
    np.testing.assert_allclose(sbp.coef_, ref.coef, rtol=1e-5, atol=1e-8)
    assert list(sbp.refit_summary_.index) == ["factor_1", "factor_2", "factor_3"]
    with pytest.raises(ValueError, match="needs the training cohort"):
        ScoreBasedPredictor(model, coef="refit").fit()
    with pytest.raises(ValueError, match="survival data missing"):
        ScoreBasedPredictor(model, coef="refit").fit(X.iloc[:80])


def test_score_based_unnamed_model_and_errors(sim, model, cohorts):
    X, y = sim
    m = DeSurv(n_components=2, alpha=0.5, penalty=0.01, n_init=1, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X.iloc[:80].to_numpy(), y[:80])
    sbp = ScoreBasedPredictor(m, n_top=5, transform="none", coef="raw").fit()
    assert sbp.top_genes_.dtypes.iloc[0] == np.int64
    A = X.iloc[80:100].to_numpy()
    cols = sbp.gene_positions_
    manual = A[:, cols] @ sbp.gene_weights_.to_numpy() @ m.coef_
    np.testing.assert_allclose(sbp.predict(A), manual, rtol=1e-12)
    with pytest.raises(ValueError, match="200 genes in training order"):
        sbp.predict(A[:, :10])
    with pytest.raises(ValueError, match="not fitted"):
        ScoreBasedPredictor(model).predict(cohorts["a"][0])
    with pytest.raises(ValueError, match="n_top"):
        ScoreBasedPredictor(model, n_top=0).fit()
    with pytest.raises(ValueError, match="own transform"):
        validate_cohorts(sbp, {"a": (A, y[80:100])}, preprocessor=Preprocessor())


# --------------------------------------------------------------------------------------
# real data: a model trained on gse4335, validated on gse1992
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real():
    from desurv.datasets import load_cohort

    d = require(EXPR)
    X1, y1, _ = load_cohort(d / "gse4335.expression.tsv.gz", d / "gse4335.clinical.tsv")
    X2, y2, _ = load_cohort(d / "gse1992.expression.tsv.gz", d / "gse1992.clinical.tsv")
    shared = X1.columns.intersection(X2.columns)
    pre = Preprocessor(transform="rank", n_genes=300).fit(X1[shared])
    model = DeSurv(n_components=2, alpha=0.5, penalty=0.05, n_init=2, max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(pre.transform(X1), y1)
    model.preprocessor_ = pre
    return X1, y1, X2, y2, model


def test_real_cohort_validation(real):
    X1, y1, X2, y2, model = real
    res = validate_cohorts(model, {"gse1992": (X2, y2)})  # raw cohort, model's preprocessor
    s = res.summary.iloc[0]
    assert (s.n_samples, s.n_events) == (124, 35)
    eta = model.predict(model.preprocessor_.transform(X2))
    np.testing.assert_allclose(res.risk.eta, eta, rtol=1e-12)
    df = pd.DataFrame({"lp": _zscore(eta), "T": y2["time"], "E": y2["event"]})
    direct = CoxPHFitter().fit(df, "T", "E").summary.loc["lp"]
    assert s.hr_per_sd == pytest.approx(direct["exp(coef)"], rel=1e-4)
    assert s.p == pytest.approx(direct["p"], rel=1e-3)
    # the score-based predictor needs only the top genes of the new cohort
    sbp = ScoreBasedPredictor(model, n_top=25).fit(X1, y1)
    only = X2[list(sbp.genes_)]
    assert only.shape[1] <= 50
    r2 = evaluate_cohort(sbp, only, y2, name="gse1992")
    np.testing.assert_allclose(r2.risk.eta, sbp.predict(X2), rtol=1e-12)
    assert 0.0 < r2.summary.cindex.iloc[0] < 1.0


def test_evaluate_risk_score_matches_validate_cohorts_row():
    from desurv.evaluation import evaluate_risk_score

    rng = np.random.default_rng(4)
    n = 80
    eta = rng.normal(size=n)
    time = rng.exponential(np.exp(-eta))
    event = rng.uniform(size=n) < 0.7
    row = evaluate_risk_score(eta, time, event, name="x")
    from lifelines import CoxPHFitter

    z = (eta - eta.mean()) / eta.std(ddof=1)
    cph = CoxPHFitter().fit(
        pd.DataFrame({"z": z, "t": time, "e": event}), "t", "e",
        fit_options={"precision": 1e-14, "r_precision": 0.0},
    )  # fmt: skip
    assert row["hr_per_sd"] == pytest.approx(float(cph.summary.loc["z", "exp(coef)"]), rel=1e-8)
    assert row["p"] == pytest.approx(float(cph.summary.loc["z", "p"]), rel=1e-6)
    assert row["n_events"] == int(event.sum()) and row["cohort"] == "x"
    with pytest.raises(ValueError):
        evaluate_risk_score(eta[:-1], time, event)
