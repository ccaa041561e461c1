"""scikit-learn and scikit-survival compatibility (issue 9 §3).

* scikit-learn's estimator checks on every estimator. They feed a plain 1-D y, which is not
  survival data: the estimators themselves reject it with a clear ValueError (checked
  below), so the checks run a second time on thin adapters whose ``fit``/``score`` turn a
  plain y into survival data (time = |y| + 1, every event observed). Everything else in
  the checks exercises the real estimator; the few checks that cannot apply are listed
  with the reason, as scikit-survival does for its own estimators.
* ``Pipeline`` + ``GridSearchCV`` + ``cross_val_score`` with a structured survival y.
* y with any field names (scikit-survival's data sets) and two-column DataFrames.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

from desurv import (
    ConvergenceWarning,
    CoxNet,
    DataWarning,
    DeSurv,
    DeSurvCV,
    NMFCox,
    make_survival_y,
)
from desurv._validation import survival_from_y
from desurv.preprocessing import Preprocessor


# ----------------------------------------------------------------------------- adapters
def _survival(y):
    """A plain check-suite y as survival data (structured y passes through)."""
    if y is None:
        return {}
    y = np.asarray(y)
    if y.dtype.names is not None:
        return {"y": y}
    time = np.abs(np.real(y)).astype(np.float64).ravel() + 1.0
    return {"time": time, "event": np.ones(time.shape[0], dtype=bool)}


class _PlainY:
    def fit(self, X, y=None, **kwargs):
        return super().fit(X, **_survival(y), **kwargs)

    def score(self, X, y=None, **kwargs):
        return super().score(X, **_survival(y), **kwargs)


class DeSurvPlainY(_PlainY, DeSurv):
    pass


class NMFCoxPlainY(_PlainY, NMFCox):
    pass


class CoxNetPlainY(_PlainY, CoxNet):
    pass


class DeSurvCVPlainY(_PlainY, DeSurvCV):
    pass


SMALL = dict(n_components=1, n_init=1, max_iter=5, init_max_iter=2, random_state=0)
CV_SMALL = dict(
    param_grid={"n_components": [1], "alpha": [0.5]},
    n_folds=2,
    n_seeds=1,
    max_iter=5,
    refit_n_init=1,
    random_state=0,
)
CASES = {
    "DeSurv": (DeSurv, DeSurvPlainY, SMALL),
    "NMFCox": (NMFCox, NMFCoxPlainY, SMALL),
    "CoxNet": (CoxNet, CoxNetPlainY, dict(n_alphas=3, cv=2, random_state=0)),
    "DeSurvCV": (DeSurvCV, DeSurvCVPlainY, CV_SMALL),
}

#: Checks that cannot apply, with the reason (beyond the plain-y ones, which the adapters
#: cover). The test fails if one of them starts passing, so the list stays honest.
EXPECTED_FAILED = {
    "DeSurv": {},
    "NMFCox": {},
    "CoxNet": {},
    "DeSurvCV": {
        "check_fit2d_1feature": (
            "the check's y (integer part of one feature, so nearly all times tie) leaves a "
            "validation fold without a comparable pair; the C-index of the fold is undefined "
            "and DeSurvCV reports it instead of a 1-feature message"
        ),
    },
    "Preprocessor": {
        "check_no_attributes_set_in_init": (
            "the parameter `transform` shares its name with the method, so it is stored as "
            "`transform_method` (get_params/set_params map the name)"
        ),
    },
}
#: Checks that fit with the suite's plain y: the real estimators reject that y by design.
PLAIN_Y_MESSAGE = "y must be survival data"


def _results(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_estimator(est, on_fail=None)


def _not_passed(results):
    return {r["check_name"]: r["exception"] for r in results if r["status"] == "failed"}


@pytest.mark.parametrize("name", list(CASES))
def test_sklearn_estimator_checks_pass(name):
    _, adapter, params = CASES[name]
    results = _results(adapter(**params))
    failed = _not_passed(results)
    assert set(failed) == set(EXPECTED_FAILED[name]), {k: repr(v)[:300] for k, v in failed.items()}
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_sklearn_estimator_checks_pass_preprocessor():
    for pre in (Preprocessor(), Preprocessor(transform="none")):
        failed = _not_passed(_results(pre))
        assert set(failed) == set(EXPECTED_FAILED["Preprocessor"]), failed


@pytest.mark.parametrize("name", list(CASES))
def test_plain_y_checks_fail_only_with_the_survival_message(name):
    """On the real estimators, every check that fails does so because a plain y is not
    survival data, and says so."""
    est, _, params = CASES[name]
    results = _results(est(**params))
    failed = _not_passed(results)
    assert failed  # the plain-y checks do fail ...
    for check, exc in failed.items():  # ... and only with the clear message
        text = " ".join(str(e) for e in (exc, exc.__cause__, exc.__context__) if e is not None)
        assert PLAIN_Y_MESSAGE in text or check in EXPECTED_FAILED[name], (check, text[:300])
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    # input validation that does not need y still passes on the real estimators
    assert {"check_complex_data", "check_estimators_unfitted", "check_requires_y_none",
            "check_estimator_sparse_matrix", "check_fit1d"} <= passed  # fmt: skip


# ----------------------------------------------------------------------------- protocol
@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.uniform(size=(40, 15)),
        index=[f"s{i}" for i in range(40)],
        columns=[f"g{j}" for j in range(15)],
    )
    y = make_survival_y(rng.exponential(size=40), rng.uniform(size=40) < 0.7)
    return X, y


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DataWarning)
        return fn(*args, **kwargs)


def test_not_fitted_error_is_sklearns_and_a_value_error(data):
    X, _ = data
    for est in (DeSurv(), NMFCox(), CoxNet(), DeSurvCV()):
        with pytest.raises(NotFittedError, match="not fitted|no refitted"):
            est.predict(X)
        assert issubclass(NotFittedError, ValueError)


def test_clone_feature_names_and_set_output(data):
    X, y = data
    m = _quiet(DeSurv(**{**SMALL, "n_components": 2}).fit, X, y)
    assert clone(m).get_params() == m.get_params() and not hasattr(clone(m), "W_")
    assert list(m.feature_names_in_) == list(X.columns) and m.n_features_in_ == 15
    assert list(m.get_feature_names_out()) == ["factor_1", "factor_2"]
    Z = m.set_output(transform="pandas").transform(X)
    assert isinstance(Z, pd.DataFrame)
    assert list(Z.index) == list(X.index) and list(Z.columns) == ["factor_1", "factor_2"]
    np.testing.assert_allclose(Z.to_numpy(), X.to_numpy() @ m.W_)
    m.set_output(transform="default")
    assert isinstance(m.transform(X), np.ndarray)
    # float32 input: float64 out (fitted arrays are float64 whatever the storage dtype)
    assert m.transform(X.astype(np.float32)).dtype == np.float64
    # fit_transform = fit then transform
    Zf = _quiet(clone(m).fit_transform, X, y)
    np.testing.assert_allclose(Zf, m.transform(X))
    W = m.weights()
    assert list(W.index) == list(X.columns) and np.array_equal(W.to_numpy(), m.W_)


def test_pipeline_gridsearch_and_cross_val_score(data):
    X, y = data
    pipe = Pipeline(
        [("prep", Preprocessor(transform="rank")), ("desurv", DeSurv(**{**SMALL, "max_iter": 10}))]
    )
    cv = KFold(3, shuffle=True, random_state=0)
    scores = _quiet(cross_val_score, pipe, X, y, cv=cv)
    assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    grid = GridSearchCV(pipe, {"desurv__n_components": [1, 2], "desurv__alpha": [0.0, 0.5]}, cv=cv)
    _quiet(grid.fit, X, y)
    assert set(grid.best_params_) == {"desurv__n_components", "desurv__alpha"}
    assert grid.cv_results_["mean_test_score"].shape == (4,)
    assert 0 <= grid.score(X, y) <= 1  # Harrell's C of the refitted pipeline
    # CoxNet and NMFCox in the same machinery
    for est in (CoxNet(n_alphas=5, cv=2, random_state=0), NMFCox(**SMALL)):
        s = _quiet(cross_val_score, est, X, y, cv=cv)
        assert np.all(np.isfinite(s))


# ----------------------------------------------------------------------------- survival y
def test_y_with_scikit_survival_field_names(data):
    X, y = data
    sks = np.empty(len(y), dtype=[("Status", "?"), ("Survival_in_days", "<f8")])
    sks["Status"], sks["Survival_in_days"] = y["event"], y["time"]
    a = _quiet(DeSurv(**SMALL).fit, X, y)
    b = _quiet(DeSurv(**SMALL).fit, X, sks)
    assert np.array_equal(a.W_, b.W_) and a.score(X, sks) == a.score(X, y)
    # field order reversed, other names
    rev = np.empty(len(y), dtype=[("days", "<f8"), ("dead", "?")])
    rev["days"], rev["dead"] = y["time"], y["event"]
    np.testing.assert_array_equal(survival_from_y(rev)[0], y["time"])
    c = _quiet(CoxNet(n_alphas=3, cv=2, random_state=0).fit, X, sks)
    assert c.score(X, sks) == c.score(X, y)


def test_y_from_scikit_survival_dataset():
    from sksurv.datasets import load_veterans_lung_cancer

    _, y = load_veterans_lung_cancer()
    time, event = survival_from_y(y)
    np.testing.assert_array_equal(time, y["Survival_in_days"])
    np.testing.assert_array_equal(event, y["Status"])


def test_y_as_two_column_dataframe(data):
    X, y = data
    df = pd.DataFrame({"os_days": y["time"], "status": y["event"].astype(int)})
    t, e = survival_from_y(df)
    np.testing.assert_array_equal(t, y["time"]) and np.testing.assert_array_equal(e, y["event"])
    # bool column decides, whatever the names
    t2, e2 = survival_from_y(pd.DataFrame({"a": y["event"], "b": y["time"]}))
    np.testing.assert_array_equal(t2, y["time"])
    # two 0/1 float columns: names decide ...
    both = pd.DataFrame({"time": (y["time"] > 1).astype(float), "event": y["event"] * 1.0})
    np.testing.assert_array_equal(survival_from_y(both)[1], y["event"])
    # ... and without telling names it is an error
    with pytest.raises(ValueError, match="cannot tell which"):
        survival_from_y(both.set_axis(["a", "b"], axis=1))
    a = _quiet(DeSurv(**SMALL).fit, X, y)
    assert a.score(X, df) == a.score(X, y)


def test_plain_y_is_rejected_clearly(data):
    X, y = data
    with pytest.raises(ValueError, match="y must be survival data.*1-D float64"):
        DeSurv(**SMALL).fit(X, y["time"])
    with pytest.raises(ValueError, match="requires y to be passed"):
        CoxNet().fit(X)
    with pytest.raises(ValueError, match="exactly\\s+two"):
        survival_from_y(pd.DataFrame({"a": [1.0], "b": [1.0], "c": [1.0]}))
