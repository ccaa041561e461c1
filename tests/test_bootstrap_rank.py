"""Bootstrap rank selection of the NMF family (Egendal et al. Suppl. §1.3; METHODS.md §B.3)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import nnls as scipy_nnls
from scipy.stats import wilcoxon
from sklearn.base import clone
from sklearn.decomposition import NMF as SkNMF
from sklearn.preprocessing import StandardScaler

from desurv.benchmark.registry import get_method
from desurv.decomposition import NMF
from desurv.exceptions import ConvergenceWarning
from desurv.model_selection import (
    BootstrapRankResult,
    combine_ranks,
    select_rank_bootstrap,
    select_rank_from_errors,
)

# stopping at the largest rank tried is incidental in most tests; one test checks the warning
pytestmark = pytest.mark.filterwarnings("ignore:the test error fell significantly:UserWarning")


def catalogue(seed, noise=0.01, n=60, p=96, k=3):
    """Samples × channels data of exact rank k (Dirichlet signatures, gamma exposures) plus
    small zero-mean uniform noise (absolute value keeps it nonnegative)."""
    rng = np.random.default_rng(seed)
    H = rng.dirichlet(np.full(p, 0.5), size=k) * p / k
    W = rng.gamma(1.0, 1.0, size=(n, k))
    return np.abs(W @ H + rng.uniform(-noise, noise, size=(n, p)))


def error_table(test_errors):
    """Tidy errors table from {k: errors per replicate}."""
    rows = [
        {"k": k, "bootstrap": b, "test_error": float(e)}
        for k, errs in test_errors.items()
        for b, e in enumerate(errs)
    ]
    return pd.DataFrame(rows)


class RecordingNMF(NMF):
    """desurv.NMF that records the training matrix of every fit (for n_jobs=1 runs)."""

    seen: list = []  # noqa: RUF012 - shared on purpose: clones must append to one list

    def fit_transform(self, X, y=None, W=None, H=None, mask=None):
        RecordingNMF.seen.append((self.n_components, np.array(X, copy=True)))
        return super().fit_transform(X, y=y, W=W, H=H, mask=mask)


# ------------------------------------------------------------------------------------------
# known answers on synthetic data
# ------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_true_rank_is_found_with_desurv_nmf():
    X = catalogue(seed=2)
    est = NMF(init="random", n_init=3, max_iter=1000)
    res = select_rank_bootstrap(est, X, [2, 3, 4, 5], random_state=2)
    assert isinstance(res, BootstrapRankResult)
    assert res.n_components_ == 3
    assert not res.all_significant
    assert res.ks == [2, 3, 4, 5] and res.n_bootstrap == 10
    e = res.errors
    assert list(e.columns[:6]) == [
        "k",
        "bootstrap",
        "n_train",
        "n_test",
        "train_error",
        "test_error",
    ]
    assert len(e) == 4 * 10 and (e["n_train"] == 60).all()
    t = res.tests.set_index("k")
    # k = 2 misses a signature: every replicate improves at k = 3, exact p = 2^-10
    assert t.loc[2, "n_better"] == 10 and t.loc[2, "pvalue"] == pytest.approx(0.5**10)
    assert t.loc[2, "significant"] and not t.loc[3, "significant"]
    assert t.loc[3, "pvalue"] >= 0.05
    means = e.groupby("k")["test_error"].mean()
    assert means[2] > 100 * means[3]  # the missing signature dominates the error
    s = res.summary()
    assert s.loc[s["selected"], "k"].tolist() == [3]


@pytest.mark.filterwarnings("ignore::desurv.exceptions.ConvergenceWarning")
def test_sklearn_nmf_works_as_the_estimator():
    X = catalogue(seed=1)
    res = select_rank_bootstrap(SkNMF(init="random", max_iter=1000), X, [2, 3, 4], random_state=1)
    assert res.n_components_ == 3
    assert "NMF" in res.estimator


def test_errors_follow_their_definitions():
    """Recompute one (k, b) cell by hand: same fit, scipy NNLS, MSE over the matrices."""
    X = catalogue(seed=3, n=30, p=20)
    est = NMF(max_iter=300, init="random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = select_rank_bootstrap(est, X, [2, 3], n_bootstrap=6, random_state=5)
    row = res.errors.query("k == 3 and bootstrap == 4").iloc[0]
    train = res.train_indices[4]
    oob = np.setdiff1d(np.arange(30), train)
    assert row["n_test"] == oob.size == 30 - np.unique(train).size
    model = clone(est).set_params(n_components=3, random_state=int(row["seed"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        E = model.fit_transform(X[train])
    Hc = model.components_
    assert_allclose(row["train_error"], np.mean((X[train] - E @ Hc) ** 2), rtol=1e-10)
    E_test = np.array([scipy_nnls(Hc.T, x)[0] for x in X[oob]])
    assert_allclose(row["test_error"], np.mean((X[oob] - E_test @ Hc) ** 2), rtol=1e-7)


# ------------------------------------------------------------------------------------------
# determinism and pairing
# ------------------------------------------------------------------------------------------
def test_deterministic_for_any_n_jobs_and_seeded():
    X = catalogue(seed=4, n=30, p=24)
    kw = dict(n_bootstrap=6, random_state=11)
    est = NMF(init="random", max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = select_rank_bootstrap(est, X, [1, 2, 3], **kw)
        b = select_rank_bootstrap(est, X, [1, 2, 3], n_jobs=2, **kw)
        c = select_rank_bootstrap(est, X, [1, 2, 3], n_bootstrap=6, random_state=12)
    pd.testing.assert_frame_equal(a.errors, b.errors)
    pd.testing.assert_frame_equal(a.tests, b.tests)
    assert_array_equal(a.train_indices, b.train_indices)
    assert a.n_components_ == b.n_components_
    assert not np.array_equal(a.train_indices, c.train_indices)  # another seed, other draws


def test_same_bootstrap_samples_for_every_k():
    X = catalogue(seed=5, n=25, p=12)
    RecordingNMF.seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = select_rank_bootstrap(
            RecordingNMF(max_iter=50), X, [1, 2, 4], n_bootstrap=5, random_state=0
        )
    seen = RecordingNMF.seen
    assert [k for k, _ in seen] == [1] * 5 + [2] * 5 + [4] * 5  # fits run k-major
    for b in range(5):
        expected = X[res.train_indices[b]]
        for i in range(3):
            assert_array_equal(seen[i * 5 + b][1], expected)
    # rows drawn with replacement: duplicates, so out-of-bag samples exist
    assert all(np.unique(t).size < 25 for t in res.train_indices)
    n_test = res.errors.pivot(index="bootstrap", columns="k", values="n_test")
    assert (n_test.nunique(axis=1) == 1).all()


def test_a_ranks_errors_do_not_depend_on_the_other_ranks():
    X = catalogue(seed=6, n=30, p=16)
    est = NMF(init="random", max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = select_rank_bootstrap(est, X, [2, 3], n_bootstrap=6, random_state=3)
        b = select_rank_bootstrap(est, X, [3, 5], n_bootstrap=6, random_state=3)
    ea = a.errors[a.errors["k"] == 3].reset_index(drop=True)
    eb = b.errors[b.errors["k"] == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(ea, eb)


# ------------------------------------------------------------------------------------------
# the selection rule on hand-made error tables
# ------------------------------------------------------------------------------------------
def test_rule_direction_on_hand_made_errors():
    rng = np.random.default_rng(0)
    base = rng.uniform(1.0, 2.0, 10)
    # 2 -> 3 clearly better in every replicate; 3 -> 4 no consistent change
    table = error_table({2: base + 5.0, 3: base, 4: base + rng.normal(0, 0.01, 10), 5: base - 0.5})
    res = select_rank_from_errors(table)
    assert res.n_components_ == 3
    t = res.tests.set_index("k")
    assert t.loc[2, "pvalue"] == pytest.approx(0.5**10)  # exact: all 10 differences > 0
    assert t.loc[2, "statistic"] == 55.0 and t.loc[2, "n_better"] == 10
    assert t.loc[2, "mean_improvement"] == pytest.approx(5.0)
    # the p-values are scipy's one-sided Wilcoxon (H1: lower error at the next k)
    for k, k2 in ((3, 4), (4, 5)):
        e1 = table.loc[table["k"] == k, "test_error"].to_numpy()
        e2 = table.loc[table["k"] == k2, "test_error"].to_numpy()
        assert t.loc[k, "pvalue"] == pytest.approx(wilcoxon(e1, e2, alternative="greater").pvalue)


def test_rule_is_one_sided_worse_next_rank_is_not_significant():
    base = np.linspace(1.0, 2.0, 10)
    # the error *rises* with k in every replicate: a two-sided or inverted test would call
    # this significant; the rule must stop at the first k
    res = select_rank_from_errors(error_table({2: base, 3: base + 1.0, 4: base + 2.0}))
    assert res.n_components_ == 2
    assert res.tests["pvalue"].min() > 0.99
    assert not res.tests["significant"].any()


def test_every_step_significant_returns_largest_k_and_warns():
    base = np.linspace(1.0, 2.0, 8)
    table = error_table({2: base + 3, 4: base + 2, 8: base + 1, 9: base})
    with pytest.warns(UserWarning, match="every step"):
        res = select_rank_from_errors(table)
    assert res.n_components_ == 9 and res.all_significant
    assert res.tests["k_next"].tolist() == [4, 8, 9]  # steps between consecutive entries


def test_zero_differences_are_not_significant():
    base = np.linspace(1.0, 2.0, 10)
    res = select_rank_from_errors(error_table({2: base, 3: base}))
    assert res.tests.loc[0, "pvalue"] == 1.0 and res.n_components_ == 2


def test_alpha_is_the_threshold():
    rng = np.random.default_rng(1)
    base = rng.uniform(1, 2, 10)
    # improvements of sizes 1..10 (ranks), worse at ranks 1 and 7: W+ = 55 - 8 = 47; exactly
    # 25 of the 2^10 sign patterns have W+ >= 47 (those whose negative ranks sum to <= 8)
    signs = np.ones(10)
    signs[[0, 6]] = -1
    table = error_table({2: base, 3: base - signs * np.arange(1, 11) * 0.01})
    p = select_rank_from_errors(table).tests.loc[0, "pvalue"]
    assert p == pytest.approx(25 / 1024)
    assert select_rank_from_errors(table, alpha=0.05).n_components_ == 3
    assert select_rank_from_errors(table, alpha=0.01).n_components_ == 2


def test_too_few_replicates_warn():
    base = np.linspace(1.0, 2.0, 4)
    with pytest.warns(UserWarning, match="no Wilcoxon step can reach"):
        res = select_rank_from_errors(error_table({2: base + 1, 3: base}))
    assert res.n_components_ == 2  # 2^-4 = 0.0625 >= 0.05


def test_summary_and_frame():
    base = np.linspace(1.0, 2.0, 10)
    table = error_table({2: base + 1, 3: base, 4: base})
    table["train_error"] = table["test_error"] / 2
    res = select_rank_from_errors(table)
    s = res.summary()
    assert s["k"].tolist() == [2, 3, 4]
    assert_allclose(s["mean_test_error"], [2.5, 1.5, 1.5])
    assert_allclose(s["mean_train_error"], [1.25, 0.75, 0.75])
    assert s["selected"].tolist() == [False, True, False]
    assert s["k_next"].tolist()[:2] == [3, 4] and pd.isna(s["k_next"].iloc[2])
    pd.testing.assert_frame_equal(res.to_frame(), s)
    assert "k = 3" in str(res) and "Wilcoxon" in res.rule


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.drop(columns="test_error"), "missing column"),
        (lambda t: t[~((t["k"] == 3) & (t["bootstrap"] == 0))], "not paired"),
        (lambda t: pd.concat([t, t.iloc[:1]]), "repeated"),
        (lambda t: t[t["k"] == 2], "two ranks"),
        (lambda t: t[t["bootstrap"] == 0], "two bootstrap"),
        (lambda t: t.assign(test_error=np.where(t.index == 0, np.nan, t["test_error"])), "finite"),
        (lambda t: t.to_numpy(), "DataFrame"),
    ],
)
def test_bad_error_tables(mutate, match):
    table = error_table({2: np.arange(6.0) + 1, 3: np.arange(6.0)})
    with pytest.raises(ValueError, match=match):
        select_rank_from_errors(mutate(table))


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, "0.05", True])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        select_rank_from_errors(
            error_table({2: np.arange(6.0) + 1, 3: np.arange(6.0)}), alpha=alpha
        )


# ------------------------------------------------------------------------------------------
# registry names, estimators and bad input
# ------------------------------------------------------------------------------------------
def test_registry_name_equals_the_estimator_it_names():
    X = catalogue(seed=7, n=24, p=16)
    spec = get_method("nmf-frobenius")
    est = spec.factory(**{**spec.defaults, "n_components": 2, "max_iter": 100})
    kw = dict(n_bootstrap=5, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_name = select_rank_bootstrap(
            "nmf-frobenius", X, [1, 2, 3], params={"max_iter": 100}, **kw
        )
        by_obj = select_rank_bootstrap(est, X, [1, 2, 3], **kw)
    pd.testing.assert_frame_equal(by_name.errors, by_obj.errors)
    assert (by_name.errors["seed"] >= 0).all()  # the registry's random_state is set per fit


@pytest.mark.parametrize(
    ("estimator", "params", "match"),
    [
        ("coxnet", None, "unsupervised"),
        ("no-such-method", None, "unknown method"),
        ("nmf-frobenius", {"not_a_param": 1}, "not hyperparameters"),
        (NMF(), {"not_a_param": 1}, "are not parameters of NMF"),
        (StandardScaler(), None, "n_components"),
        (object(), None, "scikit-learn style"),
    ],
)
def test_bad_estimators(estimator, params, match):
    X = catalogue(seed=8, n=20, p=10)
    with pytest.raises(ValueError, match=match):
        select_rank_bootstrap(estimator, X, [1, 2], params=params)


class _NoComponents(NMF):
    def fit_transform(self, X, y=None, W=None, H=None, mask=None):
        out = super().fit_transform(X)
        del self.components_
        return out


def test_estimator_without_components_after_fit():
    X = catalogue(seed=8, n=20, p=10)
    with pytest.raises(ValueError, match="components_"):
        select_rank_bootstrap(_NoComponents(max_iter=20), X, [1, 2], n_bootstrap=6)


@pytest.mark.parametrize(
    ("ks", "kwargs", "match"),
    [
        ([3, 2], {}, "strictly increasing"),
        ([2, 2], {}, "strictly increasing"),
        ([0, 1], {}, "positive"),
        ([2, 20], {}, "k < n_samples"),
        ([2], {}, "at least two"),
        (3, {}, "at least two"),
        ([2, 3.0], {}, "integers"),
        ([1, 2], {"n_bootstrap": 1}, "n_bootstrap"),
        ([1, 2], {"n_bootstrap": 2.5}, "n_bootstrap"),
        ([1, 2], {"random_state": -1}, "random_state"),
        ([1, 2], {"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_arguments(ks, kwargs, match):
    X = catalogue(seed=9, n=20, p=10)
    with pytest.raises(ValueError, match=match):
        select_rank_bootstrap(NMF(), X, ks, **kwargs)


def test_bad_data():
    X = catalogue(seed=10, n=20, p=10)
    Xn = X.copy()
    Xn[0, 0] = -1.0
    with pytest.raises(ValueError, match="negative"):
        select_rank_bootstrap(NMF(), Xn, [1, 2])
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select_rank_bootstrap(NMF(), Xn, [1, 2])
    with pytest.raises(ValueError, match="2-D|2D|dimension"):
        select_rank_bootstrap(NMF(), X[0], [1, 2])


def test_empty_out_of_bag_set_is_an_error():
    # n = 3: a replicate draws all three samples with probability 3!/3^3 = 2/9
    X = catalogue(seed=11, n=3, p=6)
    with pytest.raises(ValueError, match="out-of-bag test set is empty"):
        select_rank_bootstrap(NMF(), X, [1, 2], n_bootstrap=30, random_state=0)


def test_non_converged_fits_warn_once_and_are_flagged():
    X = catalogue(seed=12, n=20, p=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = select_rank_bootstrap(
            NMF(max_iter=1, tol=1e-12), X, [1, 2], n_bootstrap=6, random_state=0
        )
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1 and "12 of 12 fits" in str(conv[0].message)
    assert not res.errors["converged"].any()


# ------------------------------------------------------------------------------------------
# combining methods
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("ranks", "expected"),
    [((4, 4, 3), 4), ((6, 4, 4), 5), ((11, 6, 4), 8), ((2, 2, 2), 2), ((3, 1, 1), 2)],
)
def test_combine_ranks_paper_values(ranks, expected):
    # ovary, prostate, uterus of Egendal et al.; (3 + 0.5 + 0.5)/2 = 2 exactly
    assert combine_ranks(*ranks) == expected


def test_combine_ranks_accepts_results_and_rejects_bad_ranks():
    base = np.linspace(1.0, 2.0, 10)
    res = select_rank_from_errors(error_table({3: base + 1, 4: base, 5: base}))
    assert res.n_components_ == 4
    assert combine_ranks(res, 4, 4) == 4
    assert combine_ranks(res, res, 8) == 5  # (4 + 2 + 4) / 2
    for bad in (0, 2.5, "3", True):
        with pytest.raises(ValueError, match="positive integer"):
            combine_ranks(bad, 3, 3)


@pytest.mark.parametrize(
    ("module", "name", "params"),
    [
        ("desurv.decomposition.convex", "ConvexNMF", {"max_iter": 200}),
        ("desurv.decomposition.aenmf", "AENMF", {"max_iter": 200, "learning_rate": 1e-2}),
    ],
)
def test_other_members_of_the_family(module, name, params):
    """Convex NMF and AE-NMF share the API (their fits are tested in their own files)."""
    cls = getattr(pytest.importorskip(module), name)
    X = catalogue(seed=13, n=20, p=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = select_rank_bootstrap(cls(**params), X, [1, 3], n_bootstrap=6, random_state=0)
    e = res.errors
    assert np.isfinite(e[["train_error", "test_error"]].to_numpy()).all()
    assert (e["seed"] >= 0).all() and e["k"].tolist() == [1] * 6 + [3] * 6
    assert res.n_components_ in (1, 3)
