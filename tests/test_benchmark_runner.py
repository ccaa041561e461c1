"""The benchmark runner: determinism, resume from cache, failures, clear errors, outputs."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import desurv
from desurv.benchmark import (
    BenchmarkDataset,
    BenchmarkWarning,
    register_method,
    run_benchmark,
    summarize,
    unregister_method,
)
from desurv.benchmark import metrics as M

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MUT = DATA / "mutational"
NMF_FAST = {"sklearn-nmf": {"max_iter": 60}, "sklearn-nmf-kl": {"max_iter": 60}}
CALLS = {"n": 0}


def _counting_factory(**p):
    from sklearn.decomposition import NMF

    class CountingNMF(NMF):
        def fit_transform(self, X, y=None, W=None, H=None):
            if len(X) > 60:  # a benchmark cell (the untimed warm-up uses <= 60 samples)
                CALLS["n"] += 1
            return super().fit_transform(X, y, W=W, H=H)

    return CountingNMF(**p)


class _Flaky:
    """Fails for seed 1."""

    def __init__(self, n_components=2, random_state=None):
        self.n_components = n_components
        self.random_state = random_state

    def fit_transform(self, X):
        if self.random_state == 1:
            raise RuntimeError("boom on seed 1")
        from sklearn.decomposition import NMF

        nmf = NMF(self.n_components, init="random", max_iter=30, random_state=0)
        out = nmf.fit_transform(X)
        self.components_ = nmf.components_
        return out


@pytest.fixture
def counting_method():
    register_method(
        "test-counting",
        _counting_factory,
        "signatures",
        defaults={"n_components": None, "init": "random", "max_iter": 40, "random_state": None},
    )
    CALLS["n"] = 0
    yield "test-counting"
    unregister_method("test-counting")


@pytest.fixture(scope="module")
def surv_data():
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(
        n_samples=80,
        n_genes=200,
        n_markers=20,
        n_background=40,
        gene_baseline=None,  # the signature-recovery checks need the easily recovered design
        random_state=0,
    )
    W = pd.DataFrame(sim.W, index=sim.X.columns)
    return BenchmarkDataset(
        "small-sim", sim.X, sim.y, "survival", W, pd.DataFrame(sim.H.T, index=sim.X.index)
    )


def _stable(df):
    return df[df["metric"] != "wall_time"].reset_index(drop=True)


def test_deterministic_across_n_jobs():
    kw = dict(seeds=[0, 1], n_splits=2, params=NMF_FAST)
    a = run_benchmark(["sklearn-nmf", "sklearn-nmf-kl"], "mutsim", n_jobs=1, **kw)
    b = run_benchmark(["sklearn-nmf", "sklearn-nmf-kl"], "mutsim", n_jobs=2, **kw)
    pd.testing.assert_frame_equal(_stable(a), _stable(b))
    # one row per (method, dataset, split, seed, metric, subset); fixed order
    keys = ["method", "dataset", "split", "seed", "metric", "subset"]
    assert not a.duplicated(keys).any()
    assert list(dict.fromkeys(a["method"])) == ["sklearn-nmf", "sklearn-nmf-kl"]
    assert set(a.loc[a["metric"] == "reconstruction_error", "subset"]) == {"train", "test"}
    cons = a[a["metric"] == "consistency"]
    assert len(cons) == 4 and cons["seed"].isna().all() and (cons["value"] > 0.9).all()
    assert (a.loc[a["metric"] == "signature_cosine", "value"] > 0.95).all()
    assert "cosmic_cosine" in a.attrs["left_out"]


def test_desurv_nmf_methods_and_other_joblib_backends_give_the_same_rows():
    """desurv's NMF through the registry; a joblib backend switch (as for Dask or Ray)
    changes nothing but where the cells run."""
    from joblib import parallel_config

    kw = dict(seeds=[0, 1], params={"nmf-frobenius": {"max_iter": 60}, "nmf-kl": {"max_iter": 60}})
    a = run_benchmark(["nmf-frobenius", "nmf-kl"], "mutsim", n_jobs=1, **kw)
    with parallel_config(backend="threading"):
        b = run_benchmark(["nmf-frobenius", "nmf-kl"], "mutsim", n_jobs=2, **kw)
    pd.testing.assert_frame_equal(_stable(a), _stable(b))
    assert a["error"].isna().all()
    assert (a.loc[a["metric"] == "signature_cosine", "value"] > 0.8).all()


def test_every_estimator_with_a_random_state_gets_the_seed():
    from sklearn.decomposition import NMF

    register_method(
        "test-undeclared-seed",
        lambda **p: NMF(init="random", max_iter=40, **p),
        "signatures",
        defaults={"n_components": None},
    )
    try:
        kw = dict(seeds=[0, 1], metrics=["signature_cosine"])
        a = run_benchmark(["test-undeclared-seed"], "mutsim", **kw)
        b = run_benchmark(["test-undeclared-seed"], "mutsim", **kw)
    finally:
        unregister_method("test-undeclared-seed")
    pd.testing.assert_frame_equal(a, b)  # seeded, hence reproducible
    values = a["value"].to_numpy()
    assert values[0] != values[1]  # and the two seeds differ
    assert '"random_state": "seed"' in a["params"].iloc[0]


def test_bad_hyperparameter_values_fail_before_any_fit(counting_method):
    with pytest.raises(ValueError, match="rejects its hyperparameters"):
        run_benchmark([counting_method], "mutsim", params={counting_method: {"init": "bogus"}})
    assert CALLS["n"] == 0


def test_resume_from_cache(tmp_path, counting_method):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "notes.txt").write_text("mine")
    kw = dict(seeds=[0, 1], n_splits=2, cache_dir=cache)
    first = run_benchmark(counting_method, "mutsim", **kw)
    assert CALLS["n"] == 4 and first.attrs["n_fitted"] == 4
    again = run_benchmark(counting_method, "mutsim", **kw)
    assert CALLS["n"] == 4 and again.attrs["n_cached"] == 4
    pd.testing.assert_frame_equal(first, again)
    # one more seed: only the new cells are fitted; changed params refit everything
    run_benchmark(counting_method, "mutsim", **{**kw, "seeds": [0, 1, 2]})
    assert CALLS["n"] == 6
    run_benchmark(counting_method, "mutsim", params={counting_method: {"max_iter": 41}}, **kw)
    assert CALLS["n"] == 10
    assert (cache / "notes.txt").read_text() == "mine"  # foreign files untouched
    assert len(list(cache.glob("cell-*.json"))) == 10


def test_failed_cell_recorded_and_warned_once(tmp_path):
    register_method(
        "test-flaky",
        lambda **p: _Flaky(**p),
        "signatures",
        defaults={"n_components": None, "random_state": None},
    )
    try:
        with pytest.warns(BenchmarkWarning, match="1 benchmark cell.*seed 1.*boom") as rec:
            res = run_benchmark("test-flaky", "mutsim", seeds=[0, 1], cache_dir=tmp_path)
        assert len([w for w in rec if issubclass(w.category, BenchmarkWarning)]) == 1
        bad = res[res["error"].notna()]
        fit_row = bad[bad["metric"] == "fit"]
        assert len(fit_row) == 1 and fit_row["seed"].iloc[0] == 1
        assert "RuntimeError: boom on seed 1" in fit_row["error"].iloc[0]
        ok = res[(res["seed"] == 0) & (res["metric"] == "signature_cosine")]
        assert ok["value"].notna().all()
        assert len(res.attrs["failed"]) == 1
        assert len(list(tmp_path.glob("cell-*.json"))) == 1  # failures are not cached
        assert "fit" not in set(summarize(res)["metric"])
    finally:
        unregister_method("test-flaky")


def test_clear_errors_before_any_fit(counting_method, surv_data):
    cases = [
        (dict(methods="nope", datasets="mutsim"), "unknown method 'nope'"),
        (dict(methods=counting_method, datasets="nosuch"), "unknown data set"),
        (dict(methods=counting_method, datasets="mutsim", metrics=["auc"]), "unknown metric"),
        (
            dict(methods=counting_method, datasets="mutsim", metrics=["harrell_c"]),
            "does not apply to any of the methods",
        ),
        (
            dict(
                methods=counting_method, datasets="mutsim", params={counting_method: {"alpha": 1}}
            ),
            "unknown hyperparameter",
        ),
        (dict(methods="coxnet", datasets="mutsim"), "needs a data set with a survival"),
        (
            dict(methods=counting_method, datasets="mutsim", metrics=["consistency"]),
            "at least 2 seeds",
        ),
        (
            dict(methods=counting_method, datasets="mutsim", metrics=["cosmic_cosine"]),
            "reference_signatures",
        ),
        (
            dict(
                methods=counting_method,
                datasets=[surv_data, "mutsim"],
                metrics=["exposure_error"],
                n_splits=0,
            ),
            "n_splits",
        ),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError, match=msg):
            run_benchmark(**kwargs)
    no_truth = BenchmarkDataset("plain", pd.DataFrame(np.ones((10, 4))))
    with pytest.raises(ValueError, match="n_components"):
        run_benchmark(counting_method, no_truth)
    with pytest.raises(ValueError, match="cannot be computed"):
        run_benchmark(
            counting_method,
            no_truth,
            metrics=["signature_cosine"],
            params={counting_method: {"n_components": 2}},
        )
    assert CALLS["n"] == 0


def test_sksurv_missing(monkeypatch, surv_data):
    monkeypatch.setattr(M, "sksurv_available", lambda: False)
    params = {"desurv": {"n_init": 1, "max_iter": 20, "n_components": 3}}
    with pytest.raises(ValueError, match="pip install scikit-survival"):
        run_benchmark("desurv", surv_data, metrics=["uno_c"], params=params)
    res = run_benchmark("desurv", surv_data, params=params)
    assert "uno_c" not in set(res["metric"]) and "harrell_c" in set(res["metric"])
    assert "uno_c" in res.attrs["left_out"]
    assert any("scikit-survival" in s for s in res.attrs["left_out"]["_note"])


def test_survival_methods_cross_validated(surv_data):
    pytest.importorskip("sksurv")
    res = run_benchmark(
        ["desurv", "coxnet"],
        surv_data,
        n_splits=2,
        params={"desurv": {"n_init": 1, "max_iter": 50}, "coxnet": {"n_alphas": 10, "cv": 3}},
    )
    assert not res["error"].notna().any(), res[res["error"].notna()]
    d = res[res["method"] == "desurv"]
    for m in ("harrell_c", "uno_c", "integrated_brier"):
        vals = d.loc[d["metric"] == m]
        assert len(vals) == 2 and (vals["subset"] == "test").all()
    assert (d.loc[d["metric"] == "harrell_c", "value"] > 0.6).all()
    assert (d.loc[d["metric"] == "signature_cosine", "value"] > 0.8).all()
    assert set(res.loc[res["method"] == "coxnet", "metric"]) == {"harrell_c", "uno_c", "wall_time"}
    # folds stratified by event and identical for every method (same data set name)
    from desurv.benchmark.runner import _splits

    folds = _splits(surv_data, 2)
    ev = surv_data.y["event"]
    assert abs(ev[folds[0][1]].mean() - ev[folds[1][1]].mean()) < 0.05


def test_classification_method():
    from sklearn.linear_model import LogisticRegression

    register_method(
        "test-logreg",
        lambda **p: LogisticRegression(**p),
        "classification",
        defaults={"C": 1.0, "max_iter": 500},
    )
    try:
        res = run_benchmark("test-logreg", "mutsim", n_splits=3)
        f1 = res[res["metric"] == "f1_macro"]
        assert len(f1) == 3 and (f1["subset"] == "test").all() and (f1["value"] > 0.8).all()
        summ = summarize(res)
        row = summ[(summ["metric"] == "accuracy")].iloc[0]
        assert row["q25"] <= row["median"] <= row["q75"] and row["n"] == 3
    finally:
        unregister_method("test-logreg")


def test_synsig_and_cosmic_reference():
    folder = MUT / "synsig" / "syn.hyper.low.sa.primary"
    if not folder.exists():
        pytest.skip(f"shared data not found at {folder}")
    res = run_benchmark(
        "sklearn-nmf-kl",
        f"synsig:{folder}",
        params={"sklearn-nmf-kl": {"max_iter": 100}},
        metrics=["signature_cosine", "cosmic_cosine", "exposure_error"],
        reference_signatures=MUT / "cosmic_v3.4_sbs96_grch37.tsv",
    )
    v = res.set_index("metric")["value"]
    assert v["signature_cosine"] > 0.8 and v["cosmic_cosine"] > 0.8
    assert 0 <= v["exposure_error"] < 1


def test_write_outputs(tmp_path):
    from desurv._output import OutputError
    from desurv.reporting.benchmark import (
        plot_metric_by_method,
        plot_time_vs_accuracy,
        write_benchmark_outputs,
    )

    res = run_benchmark(["sklearn-nmf", "sklearn-nmf-kl"], "mutsim", seeds=[0, 1], params=NMF_FAST)
    fig = plot_metric_by_method(res, "signature_cosine")
    assert len(fig.axes) == 1
    assert plot_time_vs_accuracy(res, "signature_cosine") is not None
    with pytest.raises(ValueError, match="no values of metric"):
        plot_metric_by_method(res, "harrell_c")
    out = tmp_path / "bench"
    files = write_benchmark_outputs(res, out)
    assert {"results.csv", "summary.csv", "time_vs_signature_cosine.png"} <= set(files)
    assert (out / "desurv_run.json").exists()
    back = pd.read_csv(out / "results.csv")
    assert len(back) == len(res)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x.txt").write_text("keep")
    with pytest.raises(OutputError):
        write_benchmark_outputs(res, foreign, overwrite=True)
    assert (foreign / "x.txt").read_text() == "keep"
    assert desurv  # the public package stays importable alongside


def test_cox_networks_in_the_harness(surv_data):
    """cox-mt and mlp-cox run through the harness with survival functions (IBS) and differ
    only by the consistency weight."""
    pytest.importorskip("sksurv")
    small = {"hidden_layer_sizes": (16,), "max_epochs": 100, "early_stopping": False,
             "learning_rate": 1e-2, "random_state": 0}  # fmt: skip
    res = run_benchmark(["cox-mt", "mlp-cox"], surv_data, n_splits=2,
                        params={"cox-mt": small, "mlp-cox": small})  # fmt: skip
    assert not res["error"].notna().any(), res[res["error"].notna()]
    for method in ("cox-mt", "mlp-cox"):
        d = res[res["method"] == method]
        ibs = d.loc[d["metric"] == "integrated_brier", "value"]
        assert len(ibs) == 2 and ((ibs > 0) & (ibs < 0.5)).all()
        assert (d.loc[d["metric"] == "harrell_c", "value"] > 0.65).all()
    a = res[(res["method"] == "cox-mt") & (res["metric"] == "harrell_c")]["value"].to_numpy()
    b = res[(res["method"] == "mlp-cox") & (res["metric"] == "harrell_c")]["value"].to_numpy()
    assert not np.array_equal(a, b)  # the consistency term changed the fits
