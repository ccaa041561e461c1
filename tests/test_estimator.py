"""DeSurv estimator: scikit-learn conventions, fitted attributes, prediction, saving."""

import warnings

import numpy as np
import pandas as pd
import pytest

from desurv import ConvergenceWarning, DeSurv, concordance_index, load_model, make_survival_y


@pytest.fixture(scope="module")
def frame(small_problem):
    X, time, event, k = small_problem
    df = pd.DataFrame(
        X.T,
        index=[f"s{i}" for i in range(X.shape[1])],
        columns=[f"gene{j}" for j in range(X.shape[0])],
    )
    return df, make_survival_y(time, event), k


@pytest.fixture(scope="module")
def fitted(frame):
    df, y, k = frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return DeSurv(n_components=k, n_init=3, max_iter=80, random_state=0).fit(df, y)


def test_fitted_attributes(fitted, frame):
    df, y, k = frame
    m = fitted
    assert m.W_.shape == (df.shape[1], k) and m.H_.shape == (k, df.shape[0])
    assert np.array_equal(m.components_, m.W_.T)
    assert m.coef_.shape == (k,)
    np.testing.assert_allclose(np.linalg.norm(m.W_, axis=0), 1.0)
    assert list(m.feature_names_in_) == list(df.columns)
    assert m.n_features_in_ == df.shape[1]
    assert len(m.loss_history_) == m.n_iter_
    assert {"loss", "nmf_loss", "cox_loss", "enet_beta"} <= set(m.loss_history_.columns)
    assert isinstance(m.converged_, bool)


def test_predict_transform_score_consistent(fitted, frame):
    df, y, _ = frame
    Z = fitted.transform(df)
    np.testing.assert_allclose(Z, df.to_numpy() @ fitted.W_)
    eta = fitted.predict(df)
    # η is centred at the training mean of Z (the average training sample has η = 0)
    np.testing.assert_allclose(eta, (Z - fitted.mean_z_) @ fitted.coef_)
    np.testing.assert_allclose(fitted.predict_risk(df), np.exp(eta))
    assert fitted.score(df, y) == pytest.approx(concordance_index(y["time"], y["event"], eta))
    # columns are matched by gene name, not position
    shuffled = df[df.columns[::-1]]
    np.testing.assert_allclose(fitted.predict(shuffled), eta)
    # training projections equal the solver's Z on the training data
    np.testing.assert_allclose(fitted.mean_z_, Z.mean(axis=0), rtol=1e-8)
    np.testing.assert_allclose(fitted.sd_z_, Z.std(axis=0, ddof=1), rtol=1e-8)


def test_time_event_keywords_equal_structured_y(frame):
    df, y, k = frame
    kw = dict(n_components=k, n_init=2, max_iter=20, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = DeSurv(**kw).fit(df, y)
        b = DeSurv(**kw).fit(df.to_numpy(), time=y["time"], event=y["event"].astype(int))
    assert np.array_equal(a.W_, b.W_) and np.array_equal(a.coef_, b.coef_)
    assert not hasattr(b, "feature_names_in_")


def test_custom_init_in_paper_orientation(frame):
    df, y, k = frame
    rng = np.random.default_rng(0)
    W0 = rng.uniform(size=(df.shape[1], k))
    H0 = rng.uniform(size=(k, df.shape[0]))
    m = DeSurv(n_components=k, init="custom", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(df, y, W_init=W0, H_init=H0, beta_init=np.zeros(k))
    assert m.n_iter_ == 1
    with pytest.raises(ValueError, match="custom"):
        DeSurv(n_components=k).fit(df, y, W_init=W0)
    with pytest.raises(ValueError, match="W_init"):
        DeSurv(n_components=k, init="custom").fit(df, y)


def test_get_set_params_and_repr():
    m = DeSurv(n_components=4, alpha=0.2)
    assert m.get_params()["alpha"] == 0.2
    m.set_params(alpha=0.7)
    assert m.alpha == 0.7
    assert "alpha=0.7" in repr(m) and "n_components=4" in repr(m)
    with pytest.raises(ValueError, match="(?i)invalid parameter"):
        m.set_params(nope=1)


def test_summary_and_top_genes(fitted):
    s = fitted.summary()
    np.testing.assert_allclose(s["hazard_ratio_per_sd"], np.exp(fitted.coef_ * fitted.sd_z_))
    top = fitted.top_genes(5)
    assert top.shape == (5, fitted.W_.shape[1])
    # the top gene of each factor is the one with the largest specificity score
    Wt = fitted.W_ / fitted.W_.max(axis=0)
    for f in range(Wt.shape[1]):
        s_f = Wt[:, f] - np.delete(Wt, f, axis=1).max(axis=1)
        assert top.iloc[0, f] == fitted.feature_names_in_[np.argmax(s_f)]


def test_save_load_round_trip(fitted, frame, tmp_path):
    df, _, _ = frame
    path = tmp_path / "model.npz"
    fitted.save(path)
    m = load_model(path)
    for name in ("W_", "H_", "coef_", "mean_z_", "sd_z_", "init_scores_"):
        assert np.array_equal(getattr(m, name), getattr(fitted, name))
    pd.testing.assert_frame_equal(m.loss_history_, fitted.loss_history_)
    assert m.get_params() == fitted.get_params()
    assert list(m.feature_names_in_) == list(fitted.feature_names_in_)
    assert (m.n_iter_, m.converged_, m.objective_) == (
        fitted.n_iter_,
        fitted.converged_,
        fitted.objective_,
    )
    np.testing.assert_array_equal(m.predict(df), fitted.predict(df))
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot read|not a desurv"):
        load_model(tmp_path / "junk.npz")


def test_errors(frame, fitted):
    df, y, k = frame
    with pytest.raises(ValueError, match="not fitted"):
        DeSurv().predict(df)
    with pytest.raises(ValueError, match="lacks 1 of"):
        fitted.predict(df.drop(columns="gene0"))
    with pytest.raises(ValueError, match="genes but the model"):
        fitted.predict(df.to_numpy()[:, 1:])
    with pytest.raises(ValueError, match="negative"):
        DeSurv(n_components=k).fit(df - 10, y)
    with pytest.raises(ValueError, match="mismatched|samples"):
        DeSurv(n_components=k).fit(df, y[:-2])
    with pytest.raises(ValueError, match="structured|event"):
        DeSurv(n_components=k).fit(df, y["time"])
    with pytest.raises(ValueError, match="too large"):
        DeSurv(n_components=500).fit(df, y)


def test_float32_storage_agrees_with_float64(frame):
    """dtype="float32" fits X rounded to single precision: the same model to ~1e-4."""
    X, y, _ = frame
    kw = dict(n_components=3, alpha=0.5, n_init=2, max_iter=60, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m64 = DeSurv(**kw).fit(X, y)
        m32 = DeSurv(dtype="float32", **kw).fit(X, y)
    assert m32.get_params()["dtype"] == "float32"
    np.testing.assert_allclose(m32.loss_history_["loss"], m64.loss_history_["loss"], rtol=1e-4)
    eta32, eta64 = m32.predict(X), m64.predict(X)
    assert np.corrcoef(eta32, eta64)[0, 1] > 0.9999
    assert m32.W_.dtype == np.float64


def test_bad_dtype_is_rejected(frame):
    X, y, _ = frame
    with pytest.raises(ValueError, match="dtype must be"):
        DeSurv(dtype="int8", n_init=1, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="dtype must be"):
        DeSurv(dtype="nonsense", n_init=1, max_iter=2).fit(X, y)


# ----------------------------------------------------------------------- user-trial fixes
def test_summary_zeroed_coefficients_get_no_inference(frame):
    df, y, k = frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = DeSurv(
            n_components=3, n_init=1, max_iter=10, penalty=0.05, l1_ratio=1.0, random_state=0
        ).fit(df, y)
    s = m.summary()
    zero = m.coef_ == 0
    assert zero.any() and (~zero).any(), m.coef_  # the data must give both kinds
    assert s["zeroed_by_penalty"].dtype == bool
    np.testing.assert_array_equal(s["zeroed_by_penalty"].to_numpy(), zero)
    for col in ("se", "coef_lower", "coef_upper", "z", "p", "se_per_sd"):
        assert s.loc[zero, col].isna().all(), col
    assert s.loc[~zero, ["se", "z", "p"]].notna().all().all()
    # active-set inference: the covariance of the Cox model on the nonzero factors only
    from desurv.survival.functions import coef_covariance

    Z = m.transform(df)
    cov = coef_covariance(Z[:, ~zero], y["time"], y["event"], m.coef_[~zero])
    np.testing.assert_allclose(s.loc[~zero, "se"], np.sqrt(np.diag(cov)), rtol=1e-10)
    import io

    buf = io.StringIO()
    m.print_summary(file=buf)
    assert "Zeroed by the penalty" in " ".join(buf.getvalue().split())


def test_desurvcv_delegates_to_best_estimator(frame):
    from sklearn.exceptions import NotFittedError

    from desurv import DeSurvCV

    df, y, k = frame
    cv = DeSurvCV(
        {"n_components": [2], "alpha": [0.5]},
        n_folds=2,
        n_seeds=1,
        max_iter=5,
        refit_n_init=1,
        random_state=0,
    )
    for meth, args in [
        ("predict_survival_function", (df,)),
        ("predict_cumulative_hazard_function", (df,)),
        ("summary", ()),
        ("print_summary", ()),
        ("top_genes", ()),
    ]:
        with pytest.raises(NotFittedError):
            getattr(cv, meth)(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cv.fit(df, y)
    best = cv.best_estimator_
    np.testing.assert_allclose(
        cv.predict_survival_function(df, return_array=True),
        best.predict_survival_function(df, return_array=True),
    )
    np.testing.assert_allclose(
        cv.predict_cumulative_hazard_function(df, return_array=True),
        best.predict_cumulative_hazard_function(df, return_array=True),
    )
    pd.testing.assert_frame_equal(cv.summary(level=0.9), best.summary(level=0.9))
    pd.testing.assert_frame_equal(cv.top_genes(3), best.top_genes(3))
    import io

    buf = io.StringIO()
    cv.print_summary(file=buf)
    assert "factor_1" in buf.getvalue()
