"""Unlabelled samples in the benchmark harness: ``hide_labels``, ``BenchmarkDataset.X_unlabeled``
and the semi-supervised methods (``unlabeled=True``: ss-desurv, ss-nmf-cox, cox-mt)."""

import numpy as np
import pandas as pd
import pytest

import desurv
from desurv.benchmark import (
    BenchmarkDataset,
    get_method,
    register_method,
    run_benchmark,
    unregister_method,
)
from desurv.benchmark import runner as R

LOG = []


class _SemiRecorder:
    """Records every fit (rows of X, y, rows of X_unlabeled) and every predict (rows)."""

    def __init__(self, tag="semi", random_state=None):
        self.tag = tag
        self.random_state = random_state

    def fit(self, X, y, X_unlabeled=None):
        U = None if X_unlabeled is None else X_unlabeled
        LOG.append(
            dict(
                kind="fit",
                tag=self.tag,
                seed=self.random_state,
                rows=list(X.index),
                y=np.array(y, copy=True),
                U=None if U is None else list(U.index),
                U_columns=None if U is None else list(U.columns),
            )
        )
        return self

    def predict(self, X):
        LOG.append(dict(kind="predict", tag=self.tag, seed=self.random_state, rows=list(X.index)))
        return X.iloc[:, 0].to_numpy()


class _SupRecorder(_SemiRecorder):
    """A supervised method: its fit takes no X_unlabeled (a TypeError would fail the cell)."""

    def fit(self, X, y):
        return super().fit(X, y)


def _dataset(n=60, p=5, n_unl=0, seed=0, name="rec"):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.gamma(2.0, 1.0, (n, p)),
        index=[f"s{i}" for i in range(n)],
        columns=[f"g{j}" for j in range(p)],
    )
    y = desurv.make_survival_y(rng.exponential(1.0, n) + 0.01, rng.uniform(size=n) < 0.4)
    U = None
    if n_unl:
        U = pd.DataFrame(
            rng.gamma(2.0, 1.0, (n_unl, p)),
            index=[f"u{i}" for i in range(n_unl)],
            columns=X.columns,
        )
    return BenchmarkDataset(name, X, y, "survival", X_unlabeled=U)


@pytest.fixture
def recorders(monkeypatch):
    for name, cls, flag in (("t-semi", _SemiRecorder, True), ("t-sup", _SupRecorder, False)):
        register_method(
            name,
            lambda cls=cls, name=name, **p: cls(tag=name, **p),
            "survival",
            defaults={"random_state": None},
            metrics=("harrell_c",),
            unlabeled=flag,
        )
    monkeypatch.setattr(R, "_WARMED", {"t-semi", "t-sup"})  # no warm-up fit in the log
    LOG.clear()
    yield
    unregister_method("t-semi")
    unregister_method("t-sup")


def _fits(tag):
    return {
        (r["seed"], i): r
        for i, r in enumerate(x for x in LOG if x["kind"] == "fit" and x["tag"] == tag)
    }


def _by_cell(tag, kind):
    """Records of one method in cell order (split-major, then seed, as the runner builds them)."""
    return [r for r in LOG if r["kind"] == kind and r["tag"] == tag]


def test_hidden_labels_never_reach_fit_and_test_fold_unchanged(recorders):
    ds = _dataset(n_unl=7)
    seeds, n_splits, frac = [0, 1], 3, 0.5
    res = run_benchmark(["t-semi", "t-sup"], ds, seeds=seeds, n_splits=n_splits, hide_labels=frac)
    assert res["error"].isna().all(), res[res["error"].notna()]
    assert res.attrs["hide_labels"] == frac
    folds = R._splits(ds, n_splits)  # the folds of a run without hidden labels
    cells = [(split, seed) for split in range(n_splits) for seed in seeds]
    semi_fit, sup_fit = _by_cell("t-semi", "fit"), _by_cell("t-sup", "fit")
    semi_pred, sup_pred = _by_cell("t-semi", "predict"), _by_cell("t-sup", "predict")
    assert len(semi_fit) == len(sup_fit) == len(semi_pred) == len(cells)
    names = np.asarray(ds.X.index)
    event = ds.y["event"]
    hidden_sets = []
    for (split, seed), a, b, pa, pb in zip(
        cells, semi_fit, sup_fit, semi_pred, sup_pred, strict=True
    ):
        train, test = folds[split]
        assert a["seed"] == b["seed"] == seed
        # both methods fit the same labelled samples with their own labels
        assert a["rows"] == b["rows"]
        pos = ds.X.index.get_indexer(a["rows"])
        np.testing.assert_array_equal(a["y"], ds.y[pos])
        np.testing.assert_array_equal(b["y"], ds.y[pos])
        # the semi-supervised one gets the hidden training samples, then the data set's
        # X_unlabeled, as expression only; the supervised one never sees them
        n_extra = len(ds.X_unlabeled)
        hidden = a["U"][:-n_extra]
        assert a["U"][-n_extra:] == list(ds.X_unlabeled.index)
        assert a["U_columns"] == list(ds.X.columns)
        assert b["U"] is None
        assert set(hidden).isdisjoint(a["rows"])
        assert sorted(set(hidden) | set(a["rows"])) == sorted(names[train])
        assert set(hidden).isdisjoint(names[test])
        # stratified by event: round(frac * size) of each stratum of the training fold
        hid_pos = ds.X.index.get_indexer(hidden)
        for e in (False, True):
            n_stratum = int((event[train] == e).sum())
            assert int((event[hid_pos] == e).sum()) == round(frac * n_stratum)
        # the test fold is scored unchanged, for both methods
        assert pa["rows"] == pb["rows"] == list(names[test])
        hidden_sets.append(frozenset(hidden))
    # every seed hides other samples of the same split
    assert hidden_sets[0] != hidden_sets[1]


def test_hidden_sets_nested_reproducible_and_zero_is_plain(recorders):
    ds = _dataset()
    kw = dict(seeds=[3], n_splits=2)
    runs = {}
    for frac in (0.0, 0.25, 0.5, 0.5):
        LOG.clear()
        run_benchmark("t-semi", ds, hide_labels=frac, **kw)
        runs.setdefault(frac, []).append([(r["rows"], r["U"]) for r in _by_cell("t-semi", "fit")])
    # the same seed hides the same samples (reproducible)
    assert runs[0.5][0] == runs[0.5][1]
    folds = R._splits(ds, 2)
    for split, (rows0, U0) in enumerate(runs[0.0][0]):
        # nothing hidden: the whole training fold, no X_unlabeled (the run of before)
        assert rows0 == list(ds.X.index[folds[split][0]]) and U0 is None
        # nested: what 25 % hides, 50 % hides too
        assert set(runs[0.25][0][split][1]) < set(runs[0.5][0][split][1])


def test_dataset_unlabeled_only_for_semi_methods_and_in_every_split(recorders):
    ds = _dataset(n_unl=4)
    run_benchmark(["t-semi", "t-sup"], ds, seeds=[0], n_splits=2)
    folds = R._splits(ds, 2)
    for split, (a, b) in enumerate(
        zip(_by_cell("t-semi", "fit"), _by_cell("t-sup", "fit"), strict=True)
    ):
        assert a["U"] == list(ds.X_unlabeled.index) and b["U"] is None
        assert a["rows"] == b["rows"] == list(ds.X.index[folds[split][0]])


def test_classification_labels_hidden_by_class():
    LOG.clear()
    register_method(
        "t-semi-clf",
        lambda **p: _SemiRecorder(tag="clf", **p),
        "classification",
        defaults={"random_state": None},
        metrics=("accuracy",),
        unlabeled=True,
    )
    try:
        res = run_benchmark("t-semi-clf", "mutsim", seeds=[0], n_splits=2, hide_labels=0.3)
    finally:
        unregister_method("t-semi-clf")
    assert res["error"].isna().all()
    ds = desurv.benchmark.resolve_dataset("mutsim")
    labels = pd.Series(np.asarray(ds.y), index=ds.X.index)
    folds = R._splits(ds, 2)
    fits = [r for r in LOG if r["kind"] == "fit" and len(r["rows"]) > 60]  # not the warm-up
    assert len(fits) == 2
    for (train, _), r in zip(folds, fits, strict=True):
        train_labels = labels.iloc[train]
        hidden = labels.loc[r["U"]]
        for c in np.unique(train_labels):
            assert (hidden == c).sum() == round(0.3 * (train_labels == c).sum())
        np.testing.assert_array_equal(r["y"], labels.loc[r["rows"]].to_numpy())


@pytest.fixture(scope="module")
def surv_data():
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(
        n_samples=80, n_genes=120, n_markers=20, n_background=30, gene_baseline=None,
        random_state=1,
    )  # fmt: skip
    W = pd.DataFrame(sim.W, index=sim.X.columns)
    H = pd.DataFrame(sim.H.T, index=sim.X.index)
    return BenchmarkDataset("small-sim-unl", sim.X, sim.y, "survival", W, H)


FAST = {"n_init": 1, "max_iter": 40, "n_components": 3}


def _values(res, method):
    d = res[(res["method"] == method) & (res["metric"] != "wall_time")]
    return d.drop(columns=["method", "params_hash", "params"]).reset_index(drop=True)


def test_ss_desurv_without_unlabelled_equals_desurv(surv_data):
    res = run_benchmark(["ss-desurv", "desurv"], surv_data, seeds=[0, 1], n_splits=2,
                        params={"ss-desurv": FAST, "desurv": FAST}, metrics=["harrell_c",
                        "signature_cosine", "reconstruction_error", "n_iter"])  # fmt: skip
    assert res["error"].isna().all(), res[res["error"].notna()]
    pd.testing.assert_frame_equal(_values(res, "ss-desurv"), _values(res, "desurv"))


def test_ss_desurv_uses_hidden_samples_and_runs_are_reproducible(surv_data):
    kw = dict(seeds=[0, 1], n_splits=2, hide_labels=0.5, metrics=["harrell_c", "n_iter"],
              params={"ss-desurv": FAST, "desurv": FAST})  # fmt: skip
    a = run_benchmark(["ss-desurv", "desurv"], surv_data, **kw)
    b = run_benchmark(["ss-desurv", "desurv"], surv_data, n_jobs=2, **kw)
    assert a["error"].isna().all(), a[a["error"].notna()]
    pd.testing.assert_frame_equal(
        a[a["metric"] != "wall_time"].reset_index(drop=True),
        b[b["metric"] != "wall_time"].reset_index(drop=True),
    )
    c = a[a["metric"] == "harrell_c"]
    semi = c[c["method"] == "ss-desurv"]["value"].to_numpy()
    sup = c[c["method"] == "desurv"]["value"].to_numpy()
    assert not np.array_equal(semi, sup)  # the unlabelled samples changed the fits
    assert (c["subset"] == "test").all() and np.isfinite(c["value"]).all()
    # hiding labels changes the cells (and their cache keys) of desurv too: fewer labels
    plain = run_benchmark("desurv", surv_data, seeds=[0, 1], n_splits=2, metrics=["harrell_c"],
                          params={"desurv": FAST})  # fmt: skip
    assert not np.array_equal(plain["value"].to_numpy(), sup)


def test_cache_keys_separate_hidden_runs(tmp_path, surv_data):
    kw = dict(seeds=[0], n_splits=2, metrics=["harrell_c"], params={"ss-desurv": FAST},
              cache_dir=tmp_path)  # fmt: skip
    first = run_benchmark("ss-desurv", surv_data, **kw)
    hidden = run_benchmark("ss-desurv", surv_data, hide_labels=0.5, **kw)
    assert first.attrs["n_fitted"] == hidden.attrs["n_fitted"] == 2  # no collision
    again = run_benchmark("ss-desurv", surv_data, hide_labels=0.5, **kw)
    assert again.attrs["n_cached"] == 2
    pd.testing.assert_frame_equal(hidden, again)


def test_cox_mt_gets_the_unlabelled_samples(surv_data):
    pytest.importorskip("sksurv")
    assert get_method("cox-mt").unlabeled and not get_method("mlp-cox").unlabeled
    assert get_method("ss-desurv").unlabeled and not get_method("desurv").unlabeled
    assert get_method("ss-nmf-cox").unlabeled and not get_method("nmf-cox").unlabeled
    small = {"hidden_layer_sizes": (8,), "max_epochs": 30, "early_stopping": False}
    res = run_benchmark(["cox-mt", "mlp-cox"], surv_data, seeds=[0], n_splits=2, hide_labels=0.5,
                        params={"cox-mt": small, "mlp-cox": small},
                        metrics=["harrell_c", "integrated_brier"])  # fmt: skip
    assert res["error"].isna().all(), res[res["error"].notna()]
    ibs = res.loc[res["metric"] == "integrated_brier", "value"]
    assert ((ibs > 0) & (ibs < 1)).all()


def test_dataset_unlabeled_validation_and_identity():
    ds = _dataset(n_unl=3)
    U = ds.X_unlabeled
    # columns matched by name and stored in X's order
    shuffled = BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=U[U.columns[::-1]])
    pd.testing.assert_frame_equal(shuffled.X_unlabeled, U)
    assert shuffled.identity() == ds.identity()
    plain = BenchmarkDataset("rec", ds.X, ds.y, "survival")
    assert plain.identity() != ds.identity()
    # an array takes X's columns
    arr = BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=U.to_numpy())
    assert list(arr.X_unlabeled.columns) == list(ds.X.columns)
    with pytest.raises(ValueError, match="X_unlabeled needs the features of X.*missing"):
        BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=U.iloc[:, :3])
    with pytest.raises(ValueError, match="extra"):
        BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=U.assign(other=1.0))
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=U.to_numpy()[:, :4])
    bad = U.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BenchmarkDataset("rec", ds.X, ds.y, "survival", X_unlabeled=bad)


def test_bad_hide_labels_and_registrations_fail_before_any_fit(recorders):
    ds = _dataset()
    for bad in (1.0, -0.1, "0.5", True, None):
        with pytest.raises(ValueError, match="hide_labels"):
            run_benchmark("t-semi", ds, hide_labels=bad)
    # a valid fraction that leaves nothing to fit: one error before any fit, not failed cells
    with pytest.raises(ValueError, match=r"hide_labels=0\.999999 leaves .* smaller fraction"):
        run_benchmark("t-semi", ds, hide_labels=0.999999)
    no_labels = BenchmarkDataset("plain", pd.DataFrame(np.ones((10, 4))))
    register_method("t-nmf", lambda **p: None, "signatures", defaults={"n_components": 2})
    try:
        with pytest.raises(ValueError, match="needs data sets with labels"):
            run_benchmark("t-nmf", no_labels, hide_labels=0.5)
    finally:
        unregister_method("t-nmf")
    assert not LOG
    with pytest.raises(ValueError, match="unlabeled=True for 'x-bad'"):
        register_method("x-bad", lambda **p: None, "signatures", unlabeled=True)
    with pytest.raises(ValueError, match="True or False"):
        register_method("x-bad", lambda **p: None, "survival", unlabeled="yes")
