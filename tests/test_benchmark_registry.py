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
    assert list(table.columns) == ["name", "task", "description", "defaults", "metrics"]
    expected = {
        "nmf-frobenius",
        "nmf-kl",
        "nmf-cd",
        "sklearn-nmf",
        "sklearn-nmf-kl",
        "nmf-cox",
        "nmf-cox-cd",
        "desurv",
        "coxnet",
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
