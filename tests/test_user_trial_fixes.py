"""Problems found by a new-user trial of the α = 0 loop and of factor matching, each fixed:
degenerate W starts, the location of a NaN in genes × samples input, NMFCox model files,
complex factor sets and the batched zero-column warning."""

import warnings

import numpy as np
import pytest

from desurv import DeSurv, NMFCox, fit_desurv, load_model, make_survival_y
from desurv.evaluation import factor_stability, match_factors, match_factors_batched


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    X = rng.gamma(2.0, 1.0, size=(60, 30))  # genes × samples
    time = rng.exponential(5.0, size=30)
    event = rng.uniform(size=30) < 0.7
    return X, time, event


@pytest.mark.parametrize("bad", ["zeros", "zero-column", "identical"])
def test_degenerate_w_start_is_an_error(data, bad):
    X, time, event = data
    W = np.random.default_rng(0).uniform(0.1, 1.0, size=(60, 3))
    if bad == "zeros":
        W[:] = 0.0
        match = "column 0 .* all zero"
    elif bad == "zero-column":
        W[:, 2] = 0.0
        match = "column 2 .* all zero"
    else:
        W[:, 1] = W[:, 0]
        match = "columns 0 and 1 .* identical"
    with pytest.raises(ValueError, match=match):
        fit_desurv(X, time, event, 3, alpha=0.0, W_init=W)
    with pytest.raises(ValueError, match=match):
        DeSurv(n_components=3, init="custom").fit(X.T, make_survival_y(time, event), W_init=W)


def test_distinct_positive_start_is_accepted(data):
    X, time, event = data
    W = np.random.default_rng(0).uniform(0.1, 1.0, size=(60, 3))
    W[5, 1] = 0.0  # zeros inside a column are fine
    res = fit_desurv(X, time, event, 3, alpha=0.0, W_init=W, max_iter=5, warn=False)
    assert res.n_iter == 5


def test_nan_is_located_by_gene_and_sample_in_either_orientation(data):
    X, time, event = data
    X = X.copy()
    X[3, 4] = np.nan  # gene 3, sample 4
    # fit_desurv takes genes × samples: gene 3 is row 3, sample 4 column 4
    with pytest.raises(ValueError, match=r"sample at column 4 \(0-based\), gene at row 3 "):
        fit_desurv(X, time, event, 2, alpha=0.0)
    # the estimator takes samples × genes
    with pytest.raises(ValueError, match=r"sample at row 4 \(0-based\), gene at column 3 "):
        DeSurv(n_components=2).fit(X.T, make_survival_y(time, event))


@pytest.mark.parametrize("solver", ["cd", "mu"])
def test_nmfcox_model_file_loads_as_nmfcox(data, tmp_path, solver):
    X, time, event = data
    y = make_survival_y(time, event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = NMFCox(
            n_components=2, solver=solver, cd_tol=1e-5, cd_max_iter=300, max_iter=50,
            n_init=2, random_state=0,
        ).fit(X.T, y)  # fmt: skip
    path = tmp_path / "nmfcox.npz"
    model.save(path)
    back = load_model(path)
    assert type(back) is NMFCox
    assert back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.predict(X.T), model.predict(X.T))
    np.testing.assert_array_equal(back.W_, model.W_)


def test_desurv_model_file_still_loads_as_desurv(data, tmp_path):
    X, time, event = data
    model = DeSurv(n_components=2, n_init=1, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.T, make_survival_y(time, event))
    model.save(tmp_path / "d.npz")
    assert type(load_model(tmp_path / "d.npz")) is DeSurv


def test_model_file_with_unknown_estimator_class_is_invalid(data, tmp_path):
    from desurv.deconvolution.model_file import save_model

    X, time, event = data
    model = DeSurv(n_components=2, n_init=1, max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X.T, make_survival_y(time, event))
    for est, reason in [
        ({"class": "Pickled", "params": {}}, "unknown estimator class"),
        ({"class": "NMFCox", "params": {"solver": "lbfgs"}}, "solver='lbfgs'"),
        ({"class": "NMFCox", "params": {"bad": 1}}, "unknown NMFCox parameter"),
    ]:
        path = tmp_path / f"bad{len(reason)}.npz"
        save_model(model, path, _estimator=est)
        with pytest.raises(ValueError, match=f"not a valid desurv model file: .*{reason}"):
            load_model(path)


def test_complex_factor_sets_are_refused():
    with pytest.raises(ValueError, match="A is complex"):
        match_factors(np.eye(3) + 1j, np.eye(3))
    with pytest.raises(ValueError, match="B is complex"):
        match_factors_batched(np.ones((1, 4, 2)), np.ones((2, 4, 2)) * (1 + 0j))


def test_batched_zero_column_warning_names_the_set_and_column():
    rng = np.random.default_rng(0)
    A = rng.random((3, 50, 4))
    B = rng.random((3, 50, 6))
    B[1, :, 3] = 0.0
    with pytest.warns(Warning, match=r"1 pair\(s\) \[1\] \(pair 1: B column\(s\) \[3\]\)"):
        match_factors_batched(A, B)


def test_stability_of_single_factors_is_nan():
    rng = np.random.default_rng(1)
    fits = [rng.random((30, 1)) for _ in range(3)]
    res = factor_stability(fits, random_state=0)
    assert np.isnan(res.mean_silhouette)
