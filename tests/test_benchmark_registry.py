"""The method registry and benchmark data sets."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import desurv
from desurv.benchmark import (
    BenchmarkDataset,
    available_methods,
    get_method,
    register_method,
    resolve_dataset,
    run_benchmark,
    unregister_method,
)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
MUT = DATA / "mutational"


def test_builtin_methods_registered():
    table = available_methods()
    assert list(table.columns) == [
        "name", "task", "description", "defaults", "metrics", "unlabeled"
    ]  # fmt: skip
    expected = {
        "nmf-frobenius",
        "nmf-kl",
        "nmf-cd",
        "sklearn-nmf",
        "sklearn-nmf-kl",
        "nmf-cox",
        "nmf-cox-cd",
        "desurv",
        "ss-desurv",
        "ss-nmf-cox",
        "coxnet",
        "cox-mt",
        "mlp-cox",
    }
    assert expected <= set(table["name"])
    assert get_method("nmf-kl").defaults["beta_loss"] == "kullback-leibler"
    assert get_method("nmf-cd").defaults["solver"] == "cd"
    assert get_method("nmf-cd").defaults["init"] == "random"  # seeds differ
    assert get_method("nmf-cd-nndsvda").defaults["init"] == "nndsvda"
    assert get_method("desurv").task == "survival"
    assert "signature_cosine" in get_method("desurv").metrics
    assert "integrated_brier" not in get_method("coxnet").metrics  # no survival functions
    est = get_method("desurv").factory(n_components=2, alpha=0.3)
    assert isinstance(est, desurv.DeSurv) and est.alpha == 0.3
    # semi-supervised twins: the same estimator and defaults, fitted with X_unlabeled
    semi = table.set_index("name")["unlabeled"]
    assert set(semi[semi].index) == {"ss-desurv", "ss-nmf-cox", "cox-mt"}
    for a, b in (("ss-desurv", "desurv"), ("ss-nmf-cox", "nmf-cox")):
        assert get_method(a).defaults == get_method(b).defaults
        assert get_method(a).metrics == get_method(b).metrics
    assert type(get_method("ss-nmf-cox").factory()) is desurv.NMFCox


def test_get_method_unknown_lists_registered():
    with pytest.raises(ValueError, match="registered methods:.*sklearn-nmf"):
        get_method("no-such-method")


def test_register_validates():
    with pytest.raises(ValueError, match="unknown task"):
        register_method("x-bad", lambda **p: None, "clustering")
    with pytest.raises(ValueError, match="unknown metric"):
        register_method("x-bad", lambda **p: None, "signatures", metrics=["nope"])
    with pytest.raises(ValueError, match="already registered"):
        register_method("sklearn-nmf", lambda **p: None, "signatures")


def test_register_in_a_few_lines_and_rank_default():
    from sklearn.decomposition import NMF

    seen = []

    def factory(**p):
        seen.append(p)
        return NMF(**p)

    register_method(
        "test-reg-nmf",
        factory,
        "reconstruction",
        defaults={"n_components": None, "max_iter": 50, "init": "random", "random_state": None},
    )
    try:
        res = run_benchmark(
            "test-reg-nmf", "mutsim", seeds=[3], params={"test-reg-nmf": {"max_iter": 20}}
        )
        # the probe (checks the values before any fit), the untimed warm-up, the cell
        cell = {"n_components": 5, "max_iter": 20, "init": "random", "random_state": 3}
        assert seen[-1] == cell
        assert all(p["max_iter"] == 20 and p["n_components"] == 5 for p in seen)
        assert set(res["metric"]) == {"reconstruction_error", "wall_time", "n_iter"}
        assert (res["subset"] == "train").all()
    finally:
        unregister_method("test-reg-nmf")


def test_dataset_spec_aligns_truth():
    X = pd.DataFrame(np.ones((4, 3)), columns=["a", "b", "c"])
    W = pd.DataFrame(np.eye(3)[:, :2], index=["c", "a", "b"])
    ds = BenchmarkDataset("toy", X, signatures=W)
    assert list(ds.signatures.index) == ["a", "b", "c"] and ds.rank == 2
    assert ds.identity() == BenchmarkDataset("toy", X, signatures=W).identity()
    assert ds.identity() != BenchmarkDataset("toy2", X, signatures=W).identity()
    with pytest.raises(ValueError, match="both y and target"):
        BenchmarkDataset("toy", X, y=np.zeros(4))


def test_resolve_builtin_strings():
    ms = resolve_dataset("mutsim")
    assert ms.X.shape == (200, 96) and ms.target == "classification" and ms.rank == 5
    with pytest.raises(ValueError, match="unknown data set"):
        resolve_dataset("nosuch")
    with pytest.raises(ValueError, match="needs a path"):
        resolve_dataset("synsig")


def test_resolve_shared_data_strings():
    if not MUT.exists():
        pytest.skip(f"shared data not found at {MUT}")
    syn = resolve_dataset(f"synsig:{MUT / 'synsig' / 'syn.pancreas'}")
    assert syn.name == "synsig:syn.pancreas" and syn.rank == 11 and syn.target is None
    assert syn.exposures.shape == (1000, 11)
    cat = resolve_dataset(f"catalogue:{MUT / 'breast21_wgs_sbs96.tsv'}")
    assert cat.X.shape == (21, 96) and cat.rank is None
    expr = DATA / "expression"
    clin = sorted(expr.glob("*.clinical.tsv"))
    if clin:
        stem = clin[0].name.replace(".clinical.tsv", "")
        coh = resolve_dataset(f"cohort:{expr / (stem + '.expression.tsv.gz')},{clin[0]}")
        assert coh.target == "survival" and coh.X.shape[0] == len(coh.y)
        # ranked within each sample: every row is a permutation of 1..p (ties averaged)
        p = coh.X.shape[1]
        np.testing.assert_allclose(coh.X.sum(axis=1), p * (p + 1) / 2)
        assert (coh.X.to_numpy() >= 1).all()


# ------------------------------------------------------------ convex NMF and AE-NMF (issue 12)
FAMILY = {
    "convex-nmf": ("ConvexNMF", "frobenius"),
    "convex-nmf-kl": ("ConvexNMF", "kullback-leibler"),
    "aenmf": ("AENMF", "frobenius"),
    "aenmf-kl": ("AENMF", "kullback-leibler"),
}


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_convex_and_aenmf_registered_with_benchmark_defaults(name):
    from desurv.decomposition import AENMF, ConvexNMF

    cls_name, loss = FAMILY[name]
    cls = {"ConvexNMF": ConvexNMF, "AENMF": AENMF}[cls_name]
    spec = get_method(name)
    assert spec.task == "signatures" and not spec.supervised
    d = spec.defaults
    # every constructor parameter is declared (so any of them can be overridden), the rank
    # and the seed are left to the runner, random starts so that seeds differ
    assert set(d) == set(cls().get_params())
    assert d["n_components"] is None and d["random_state"] is None and d["init"] == "random"
    assert d["beta_loss"] == loss
    assert d["tol"] > 0 and d["max_iter"] >= 1000
    if cls is AENMF:
        assert d["constraint"] == "fp-abs"
    est = spec.factory(**{**d, "n_components": 3, "random_state": 7})
    assert isinstance(est, cls)
    assert est.n_components == 3 and est.random_state == 7 and est.beta_loss == loss
    assert "signature_cosine" in spec.metrics and "consistency" in spec.metrics


def test_bench_list_shows_convex_and_aenmf(capsys):
    from desurv.cli import main

    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    methods = out.split("data sets:")[0]
    for name in FAMILY:
        assert f"\n  {name} " in methods
    assert "ConvexNMF" in methods and "AENMF" in methods


@pytest.mark.parametrize("name", sorted(FAMILY))
def test_convex_and_aenmf_run_through_the_benchmark(name):
    # a tiny run: 40 samples of the simulated catalogues, two seeds, a fixed number of
    # iterations (tol=0); Adam needs thousands of steps to shrink the U[0, 1) start to the
    # data's scale
    cap = 5000 if name.startswith("aenmf") else 50
    ms = resolve_dataset("mutsim")
    small = BenchmarkDataset(
        "mutsim-small",
        ms.X.iloc[:40],
        signatures=ms.signatures,
        exposures=ms.exposures.iloc[:40],
    )
    res = run_benchmark(
        name,
        small,
        seeds=[0, 1],
        params={name: {"max_iter": cap, "tol": 0.0}},
        metrics=["signature_cosine", "reconstruction_error", "consistency", "n_iter"],
    )
    assert not res.attrs["failed"], res.attrs["failed"]
    got = res.set_index(["seed", "metric"])["value"]
    for seed in (0, 1):
        assert got[(seed, "n_iter")] == cap  # the override reached the estimator
        cos = got[(seed, "signature_cosine")]
        assert 0 < cos <= 1 + 1e-12
        err = got[(seed, "reconstruction_error")]
        assert 0 < err < 1  # better than the zero factorisation
    cons = res[res["metric"] == "consistency"]["value"]
    assert len(cons) == 1 and 0 < float(cons.iloc[0]) <= 1 + 1e-12
    # the two seeds are two different random starts
    assert res.loc[res["metric"] == "signature_cosine", "value"].nunique() == 2


def test_deep_unfolded_nmf_runs_through_the_benchmark():
    spec = get_method("deep-unfolded-nmf")
    from desurv.decomposition import DeepUnfoldedNMF

    assert set(spec.defaults) == set(DeepUnfoldedNMF().get_params())
    assert spec.defaults["mode"] == "unsupervised" and spec.defaults["init"] == "nmf"
    ms = resolve_dataset("mutsim")
    small = BenchmarkDataset(
        "mutsim-small", ms.X.iloc[:40], signatures=ms.signatures, exposures=ms.exposures.iloc[:40]
    )
    res = run_benchmark(
        "deep-unfolded-nmf",
        small,
        seeds=[0],
        params={"deep-unfolded-nmf": {"max_iter": 20, "early_stopping": False, "tol": 0.0}},
        metrics=["signature_cosine", "reconstruction_error", "n_iter"],
    )
    assert not res.attrs["failed"], res.attrs["failed"]
    got = res.set_index(["seed", "metric"])["value"]
    assert got[(0, "n_iter")] == 20
    assert 0 < got[(0, "signature_cosine")] <= 1 + 1e-12
    assert 0 < got[(0, "reconstruction_error")] < 1


def test_supervised_nmf_runs_through_the_benchmark():
    from desurv.decomposition import SupervisedNMF

    spec = get_method("s-nmf")
    assert spec.task == "classification" and spec.supervised
    assert set(spec.defaults) == set(SupervisedNMF().get_params())
    res = run_benchmark(
        "s-nmf",
        "mutsim",
        seeds=[0],
        n_splits=2,
        params={"s-nmf": {"max_iter": 2000, "min_iter": 100}},
    )
    assert not res.attrs["failed"], res.attrs["failed"]
    f1 = res[res["metric"] == "f1_macro"]["value"]
    assert len(f1) == 2 and (f1 > 0.6).all()  # held-out folds, two classes: chance is 0.5
