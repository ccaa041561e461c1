"""Plain NMF baseline: rank-selection metrics, the α = 0 solver vs scikit-learn, NMFCox."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linear_sum_assignment

from desurv import DeSurv, fit_desurv, load_model
from desurv.deconvolution.nmf_cox import NMFCox
from desurv.exceptions import ConvergenceWarning
from desurv.model_selection.rank import (
    connectivity_matrix,
    consensus_matrix,
    consensus_silhouette,
    cophenetic_correlation,
    dispersion,
    explained_variance,
    nmf_rank_survey,
    residual_sum_of_squares,
    signature_stability_survey,
    sparseness,
)


def block_data(seed=0, k=3, per=15, p=60, noise=0.05):
    """Samples × genes data with k disjoint gene programs, each sample driven by one."""
    rng = np.random.default_rng(seed)
    n = k * per
    W = np.zeros((p, k))
    block = p // k
    for f in range(k):
        W[f * block : (f + 1) * block, f] = rng.uniform(1.0, 2.0, block)
    labels = np.repeat(np.arange(k), per)
    H = np.full((k, n), 0.02)
    H[labels, np.arange(n)] = rng.uniform(1.0, 2.0, n)
    X = (W @ H + rng.uniform(0.0, noise, size=(p, n))).T
    return X, labels


# ------------------------------------------------------------------------------------------
# metrics with known answers
# ------------------------------------------------------------------------------------------
def test_sparseness_known_values():
    assert sparseness(np.array([0.0, 0.0, 3.0, 0.0])) == pytest.approx(1.0)  # one-hot
    assert sparseness(np.full(7, 2.5)) == pytest.approx(0.0, abs=1e-15)  # constant
    # x = (1, 1, 0, 0): ‖x‖₁/‖x‖₂ = √2, so s = (2 − √2)/(2 − 1)
    assert sparseness([1.0, 1.0, 0.0, 0.0]) == pytest.approx(2 - np.sqrt(2))
    assert sparseness([-1.0, 1.0, 0.0, 0.0]) == pytest.approx(2 - np.sqrt(2))  # |x| is used
    A = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert_allclose(sparseness(A, axis=0), [1.0, 0.0], atol=1e-15)
    assert_allclose(sparseness(A.T, axis=1), [1.0, 0.0], atol=1e-15)
    assert np.isnan(sparseness(np.zeros(3)))
    x = np.random.default_rng(0).uniform(size=20)
    assert 0.0 < sparseness(x) < 1.0
    assert sparseness(x) == pytest.approx(sparseness(5.0 * x))  # scale invariant


def test_consensus_of_block_labels():
    runs = np.array([[0, 0, 1, 1, 2], [1, 1, 0, 0, 2], [0, 0, 0, 1, 1]])
    C = consensus_matrix(runs)
    assert_allclose(np.diag(C), 1.0)
    assert C[0, 1] == 1.0 and C[2, 3] == pytest.approx(2 / 3) and C[0, 4] == 0.0
    assert C[1, 2] == pytest.approx(1 / 3)
    assert_array_equal(connectivity_matrix([2, 2, 5]), [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="label_runs"):
        consensus_matrix(np.array([0, 1, 1]))


def test_perfect_consensus_has_cophenetic_and_dispersion_one():
    C = connectivity_matrix(np.repeat([0, 1, 2], [4, 3, 5]))
    assert cophenetic_correlation(C) == pytest.approx(1.0)
    assert dispersion(C) == pytest.approx(1.0)
    assert consensus_silhouette(C, 3) == pytest.approx(1.0)
    # the maximally ambiguous consensus: every off-diagonal entry ½
    half = np.full((6, 6), 0.5)
    np.fill_diagonal(half, 1.0)
    assert dispersion(half) == pytest.approx(6 / 36)  # only the diagonal contributes
    assert np.isnan(cophenetic_correlation(half))  # all distances equal: undefined
    assert np.isnan(cophenetic_correlation(np.ones((4, 4))))


def test_cophenetic_and_silhouette_vs_scipy_and_sklearn():
    from scipy.cluster.hierarchy import cophenet, fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(1)
    runs = rng.integers(0, 3, size=(25, 30))
    runs[:, :10] = rng.integers(0, 2, size=(25, 1))  # some structure
    C = consensus_matrix(runs)
    D = 1.0 - C
    Z = linkage(squareform(D, checks=False), "average")
    coph = squareform(cophenet(Z))  # cophenetic distances, square form
    iu = np.triu_indices(30, 1)
    expected = np.corrcoef(coph[iu], D[iu])[0, 1]
    assert cophenetic_correlation(C) == pytest.approx(expected, rel=1e-12)
    for k in (2, 3, 5):
        labels = fcluster(Z, k, criterion="maxclust")
        want = silhouette_score(D, labels, metric="precomputed")
        assert consensus_silhouette(C, k) == pytest.approx(want, rel=1e-12)
    assert np.isnan(consensus_silhouette(C, 1))  # a single cluster: undefined


def test_metric_input_checks():
    with pytest.raises(ValueError, match="square"):
        dispersion(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        cophenetic_correlation(np.array([[1.0, 0.2], [0.4, 1.0]]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dispersion(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="k must"):
        consensus_silhouette(np.eye(3), 0)


def test_rss_and_explained_variance_identities():
    rng = np.random.default_rng(2)
    W, H = rng.uniform(size=(30, 4)), rng.uniform(size=(4, 20))
    X = W @ H + rng.uniform(0, 0.3, size=(30, 20))
    rss = residual_sum_of_squares(X, W, H)
    x_sq = np.sum(X * X)
    # expanded form used by the solver: ‖X‖² − 2⟨WᵀX, H⟩ + ⟨WᵀW, HHᵀ⟩
    assert rss == pytest.approx(x_sq - 2 * np.sum((W.T @ X) * H) + np.sum((W.T @ W) * (H @ H.T)))
    assert explained_variance(X, W, H) == pytest.approx(1 - rss / x_sq)
    assert explained_variance(W @ H, W, H) == pytest.approx(1.0)
    assert explained_variance(X, np.zeros_like(W), H) == pytest.approx(0.0)
    assert residual_sum_of_squares(X, np.zeros_like(W), H) == pytest.approx(x_sq)


# ------------------------------------------------------------------------------------------
# our α = 0 solver vs scikit-learn's multiplicative updates
# ------------------------------------------------------------------------------------------
def test_alpha0_nmf_matches_sklearn_mu_from_the_same_start():
    """Same start, both run to convergence: the reconstructions agree.

    The iterates differ (our W step is damped with backtracking, our W columns are
    normalised, scikit-learn updates W before H), so only the limits are compared: the
    products W H (observed relative difference 2.3e-5 after 5000 iterations) and the matched
    basis vectors (cosines ≥ 0.9998; W itself is only determined up to a nearly flat
    direction of the objective, which the product does not see).
    """
    from sklearn.decomposition import NMF

    rng = np.random.default_rng(3)
    p, n, k = 50, 40, 3
    X = rng.gamma(1, 1, (p, k)) @ rng.gamma(2, 1, (k, n)) + rng.uniform(0, 0.5, (p, n))
    W0, H0 = rng.uniform(0, 1, (p, k)), rng.uniform(0, 1, (k, n))
    ours = fit_desurv(
        X, np.arange(n, dtype=float), np.ones(n, dtype=bool), k, alpha=0.0,
        W_init=W0, H_init=H0, max_iter=5000, tol=0.0, warn=False,
    )  # fmt: skip
    sk = NMF(k, solver="mu", beta_loss="frobenius", init="custom", max_iter=5000, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning at max_iter
        W_sk = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    H_sk = sk.components_
    R_ours, R_sk = ours.W @ ours.H, W_sk @ H_sk
    assert np.linalg.norm(R_ours - R_sk) / np.linalg.norm(R_sk) < 1e-4
    rss_ours = residual_sum_of_squares(X, ours.W, ours.H)
    assert rss_ours == pytest.approx(residual_sum_of_squares(X, W_sk, H_sk), rel=1e-5)
    cos = ours.W.T @ (W_sk / np.linalg.norm(W_sk, axis=0))
    rows, cols = linear_sum_assignment(-cos)
    assert cos[rows, cols].min() > 0.999


# ------------------------------------------------------------------------------------------
# rank survey
# ------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_rank_survey_finds_the_true_rank():
    X, labels = block_data(seed=4)
    s = nmf_rank_survey(X, [2, 3, 5], n_runs=8, random_state=0, max_iter=400, tol=1e-7)
    assert list(s["k"]) == [2, 3, 5]
    row = s.set_index("k")
    assert row.loc[3, "cophenetic"] == pytest.approx(1.0)  # three stable clusters
    assert row.loc[3, "dispersion"] == pytest.approx(1.0)
    assert row.loc[3, "silhouette"] == pytest.approx(1.0)
    assert row.loc[5, "dispersion"] < 1.0  # splitting true clusters is not reproducible
    assert row.loc[2, "explained_variance"] < 0.9 < row.loc[3, "explained_variance"] <= 1.0
    assert np.all(np.diff(s["rss"]) < 0)  # more factors, smaller residual
    assert_allclose(s["explained_variance"], 1 - s["rss"] / np.sum(X * X))
    assert s["sparseness_basis"].between(0, 1).all() and s["sparseness_coef"].between(0, 1).all()
    assert (s["n_runs"] == 8).all()


def test_rank_survey_is_deterministic_for_any_n_jobs():
    X, _ = block_data(seed=5, per=8, p=30)
    kw = dict(n_runs=4, random_state=11, max_iter=200, tol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, cons_a = nmf_rank_survey(X, [2, 3], return_consensus=True, **kw)
        b, cons_b = nmf_rank_survey(X, [2, 3], n_jobs=2, return_consensus=True, **kw)
        c = nmf_rank_survey(X, [2, 3], **{**kw, "random_state": 12})
    pd.testing.assert_frame_equal(a, b)
    for k in (2, 3):
        assert_array_equal(cons_a[k].to_numpy(), cons_b[k].to_numpy())
    assert not a["rss"].equals(c["rss"])  # another seed, other starts


@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_rank_survey_consensus_labels_and_single_run():
    X, labels = block_data(seed=6, per=6, p=24)
    df = pd.DataFrame(X, index=[f"s{i}" for i in range(X.shape[0])])
    s, cons = nmf_rank_survey(df, 3, n_runs=1, random_state=0, max_iter=300, return_consensus=True)
    C = cons[3]
    assert list(C.index) == list(df.index) and C.shape == (18, 18)
    # one run: the consensus is that run's connectivity, here the true blocks
    assert_array_equal(C.to_numpy(), connectivity_matrix(labels))
    assert s.loc[0, "dispersion"] == 1.0


def test_rank_survey_warns_when_runs_do_not_converge():
    X, _ = block_data(seed=7, per=5, p=20)
    with pytest.warns(ConvergenceWarning, match="n_converged"):
        s = nmf_rank_survey(X, [2], n_runs=2, random_state=0, max_iter=3, tol=1e-12)
    assert s.loc[0, "n_converged"] == 0


@pytest.mark.parametrize(
    ("ks", "kwargs", "match"),
    [
        ([], {}, "empty"),
        ([2, 2], {}, "repeated"),
        ([0], {}, "out of range"),
        ([100], {}, "out of range"),
        ([2.5], {}, "integers"),
        ([2], {"n_runs": 0}, "n_runs"),
    ],
)
def test_rank_survey_bad_arguments(ks, kwargs, match):
    X, _ = block_data(seed=8, per=4, p=12)
    with pytest.raises(ValueError, match=match):
        nmf_rank_survey(X, ks, **kwargs)


def test_rank_survey_rejects_negative_data():
    X, _ = block_data(seed=9, per=4, p=12)
    X[0, 0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        nmf_rank_survey(X, [2])


# ------------------------------------------------------------------------------------------
# rank survey of any NMF-family estimator, signature stability
# ------------------------------------------------------------------------------------------
def signature_catalogue(seed=0, n=40, p=96, k=3, noise=0.01):
    """Genomes × channels of exact rank k (Dirichlet signatures) plus small noise."""
    rng = np.random.default_rng(seed)
    H = rng.dirichlet(np.full(p, 0.5), size=k) * p / k
    W = rng.gamma(1.0, 1.0, size=(n, k))
    return np.abs(W @ H + rng.uniform(-noise, noise, size=(n, p))), H


@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_default_survey_reports_stability():
    X, _ = block_data(seed=4)
    s = nmf_rank_survey(X, [3], n_runs=4, random_state=0, max_iter=400, tol=1e-7)
    assert list(s.columns[-2:]) == ["stability", "stability_min"]
    # three disjoint gene programs: every run finds the same factors
    assert s.loc[0, "stability"] > 0.99 and s.loc[0, "stability_min"] > 0.99
    one = nmf_rank_survey(X, [3], n_runs=1, random_state=0, max_iter=50)
    assert np.isnan(one.loc[0, "stability"])  # one run: nothing to compare


@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_estimator_survey_is_stable_at_the_true_rank_only():
    from desurv.decomposition import NMF

    X, H = signature_catalogue(seed=1)
    est = NMF(init="random", max_iter=500)
    s = nmf_rank_survey(X, [3, 5], n_runs=6, random_state=0, estimator=est).set_index("k")
    assert s.loc[3, "stability"] > 0.99 and s.loc[3, "stability_min"] > 0.99
    # k = 5 splits true signatures differently in every restart
    assert s.loc[5, "stability"] < 0.8 and s.loc[5, "stability_min"] < 0.5
    assert s.loc[3, "explained_variance"] > 0.9999
    assert_allclose(s["explained_variance"], 1 - s["rss"] / np.sum(X * X))


@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_signature_stability_survey_table():
    from sklearn.decomposition import NMF as SkNMF

    X, _ = signature_catalogue(seed=2, n=30)
    t = signature_stability_survey(
        SkNMF(init="random", max_iter=400), X, [2, 3, 4], 5, random_state=1
    )
    assert list(t.columns) == [
        "k",
        "stability",
        "stability_min",
        "reconstruction_error",
        "rss",
        "explained_variance",
        "n_runs",
        "n_converged",
    ]
    assert_allclose(t["reconstruction_error"], np.sqrt(t["rss"] / np.sum(X * X)))
    assert t["reconstruction_error"].iloc[0] > 10 * t["reconstruction_error"].iloc[1]
    assert t.set_index("k").loc[3, "stability"] > 0.99
    with pytest.raises(ValueError, match="n_restarts"):
        signature_stability_survey(SkNMF(), X, [2], 1)


def test_estimator_survey_is_deterministic_for_any_n_jobs():
    from desurv.decomposition import NMF

    X, _ = signature_catalogue(seed=3, n=20, p=24)
    kw = dict(n_runs=3, random_state=5, estimator=NMF(init="random", max_iter=100))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a, ca = nmf_rank_survey(X, [2, 3], return_consensus=True, **kw)
        b, cb = nmf_rank_survey(X, [2, 3], n_jobs=2, return_consensus=True, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert_array_equal(ca[3].to_numpy(), cb[3].to_numpy())


def test_estimator_survey_warns_when_restarts_are_identical():
    from sklearn.decomposition import NMF as SkNMF

    from desurv.exceptions import DataWarning

    X, _ = signature_catalogue(seed=4, n=20, p=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(DataWarning, match="identical"):
            s = nmf_rank_survey(X, [2], n_runs=3, estimator=SkNMF(init="nndsvda", max_iter=50))
    assert s.loc[0, "dispersion"] == 1.0  # every run the same: a trivially "stable" consensus


def test_estimator_survey_bad_arguments():
    from sklearn.preprocessing import StandardScaler

    from desurv.decomposition import NMF

    X, _ = signature_catalogue(seed=5, n=12, p=10)
    with pytest.raises(ValueError, match="penalty_w and penalty_h"):
        nmf_rank_survey(X, [2], estimator=NMF(), penalty_w=0.1)
    with pytest.raises(ValueError, match="n_components"):
        nmf_rank_survey(X, [2], estimator=StandardScaler())
    with pytest.raises(ValueError, match="unsupervised"):
        nmf_rank_survey(X, [2], estimator="desurv")


# ------------------------------------------------------------------------------------------
# NMF followed by Cox
# ------------------------------------------------------------------------------------------
def test_nmfcox_is_desurv_with_alpha_zero(small_problem):
    X, time, event, k = small_problem
    kw = dict(n_components=k, n_init=3, max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = NMFCox(**kw).fit(X.T, time=time, event=event)
        b = DeSurv(alpha=0.0, **kw).fit(X.T, time=time, event=event)
    assert_array_equal(a.W_, b.W_)
    assert_array_equal(a.H_, b.H_)
    assert_array_equal(a.coef_, b.coef_)
    assert a.alpha == 0.0 and "alpha" not in a.get_params()
    # β is the elastic-net Cox fit on the final projections Z = X·W (nothing else)
    from desurv.survival.cox import coxnet_fit

    fit = coxnet_fit(X.T @ a.W_, time, event, a.penalty, a.l1_ratio, tol=1e-6, max_iter=500)
    assert_allclose(a.coef_, fit.coef, rtol=1e-6, atol=1e-10)


def test_nmfcox_params_repr_and_save(small_problem, tmp_path):
    X, time, event, k = small_problem
    m = NMFCox(n_components=k, n_init=2, max_iter=100, random_state=1, penalty=0.05)
    # scikit-learn's repr: changed parameters in alphabetical order
    assert repr(m) == "NMFCox(max_iter=100, n_init=2, penalty=0.05, random_state=1)"
    with pytest.raises(ValueError, match="alpha is fixed"):
        m.set_params(alpha=0.3)
    assert m.set_params(penalty=0.2) is m and m.penalty == 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m.fit(X.T, time=time, event=event)
    path = tmp_path / "nmfcox.npz"
    m.save(path)
    loaded = load_model(path)
    assert isinstance(loaded, DeSurv) and loaded.alpha == 0.0
    assert_array_equal(loaded.predict(X.T), m.predict(X.T))
