"""Smoke and known-answer tests of the signature benchmark scripts (issue 12) on tiny inputs.

The scripts live in ``benchmarks/`` (not part of the package); they are loaded here by path.
Nothing is timed: speed is never asserted.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _load(name):
    """Import ``benchmarks/<name>.py`` by path (the repository root is not put on sys.path,
    see tests/test_asv_benchmarks.py)."""
    key = f"_desurv_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="module")
def syn():
    return _load("signatures_synsig")


@pytest.fixture(scope="module")
def breast():
    return _load("signatures_breast")


@pytest.fixture(scope="module")
def speed():
    return _load("signatures_speed")


def _truth(n=40, k=3, seed=0, noise=False):
    """Catalogue X = H Sᵀ (n × 96) from k random SBS96 signatures; Poisson when ``noise``."""
    from desurv.datasets import random_signatures

    S = random_signatures(k, random_state=seed).to_numpy()
    H = np.random.default_rng(seed).gamma(1.0, 300.0, size=(n, k))
    X = H @ S.T
    if noise:
        X = np.random.default_rng(seed + 1).poisson(X).astype(float)
    return X, S, H


class _Oracle:
    """An 'estimator' that returns the truth: signatures S (rows), exposures H."""

    def __init__(self, S, H, max_iter=10):
        self.S, self.H, self.max_iter = S, H, max_iter

    def fit_transform(self, X):
        self.components_ = self.S.T.copy()
        self.n_iter_ = 3
        return self.H[: X.shape[0]].copy()

    def get_params(self):
        return {"max_iter": self.max_iter}


# ----------------------------------------------------------------------------- synsig
def test_splits_are_disjoint_seeded_and_shared(syn, breast):
    splits = syn.split_indices(50, 4, seed=3)
    assert len(splits) == 4
    for train, test in splits:
        assert len(train) == 40 and len(test) == 10
        assert np.intersect1d(train, test).size == 0
        assert np.array_equal(np.union1d(train, test), np.arange(50))
    again = syn.split_indices(50, 4, seed=3)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(splits, again, strict=True))
    assert not np.array_equal(splits[0][0], splits[1][0])
    # both scripts draw the same splits for the same seed
    other = breast.split_indices(50, 4, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, other, strict=True))
    with pytest.raises(ValueError, match="no training or no test"):
        syn.split_indices(1, 1)


def test_make_estimator_uses_the_registry_and_overrides(syn):
    from desurv.decomposition import AENMF, NMF, ConvexNMF

    est = syn.make_estimator("aenmf", 4, restarts=3, seed=9, max_iter=77, tol=1e-3)
    assert isinstance(est, AENMF)
    assert (est.n_components, est.n_init, est.random_state, est.max_iter, est.tol) == (
        4,
        3,
        9,
        77,
        1e-3,
    )
    assert est.constraint == "fp-abs" and est.learning_rate == 1e-3
    kl = syn.make_estimator("convex-nmf-kl", 2)
    assert isinstance(kl, ConvexNMF) and kl.beta_loss == "kullback-leibler"
    nmf = syn.make_estimator("nmf", 2, restarts=2)
    assert isinstance(nmf, NMF) and nmf.solver == "mu" and nmf.n_init == 2


def test_fit_split_known_answer_with_the_truth(syn):
    X, S, H = _truth(50, 3)
    train, test = syn.split_indices(50, 1)[0]
    m, sig = syn.fit_split(_Oracle(S, H[train]), X[train], X[test], S, H[train], restarts=2)
    assert set(m) == set(syn.SPLIT_METRICS)
    assert m["signature_cosine"] == pytest.approx(1.0, abs=1e-12)
    assert m["exposure_error"] == pytest.approx(0.0, abs=1e-12)
    assert m["train_mse"] == pytest.approx(0.0, abs=1e-18)
    assert m["test_mse"] == pytest.approx(0.0, abs=1e-16)  # exact NNLS recovers H_test
    assert m["converged"] == 1.0  # 3 < max_iter
    np.testing.assert_allclose(sig, S)


def test_fit_split_real_estimator_metrics(syn):
    X, S, H = _truth(40, 3, noise=True)
    train, test = syn.split_indices(40, 1)[0]
    est = syn.make_estimator("convex-nmf", 3, restarts=2, max_iter=200)
    m, sig = syn.fit_split(est, X[train], X[test], S, H[train], restarts=2)
    assert sig.shape == (96, 3)
    np.testing.assert_allclose(sig.sum(axis=0), 1.0)
    assert 0.5 < m["signature_cosine"] <= 1 + 1e-12
    E = est.exposures_
    direct = np.mean((X[train] - E @ est.components_) ** 2)
    assert m["train_mse"] == pytest.approx(direct, rel=1e-10)
    assert m["test_mse"] > 0 and m["n_iter"] == est.n_iter_ and m["converged"] in (0.0, 1.0)


def test_consistency_known_values(syn):
    rng = np.random.default_rng(0)
    A = rng.gamma(1.0, size=(96, 4))
    assert syn.consistency([A, A[:, ::-1] * 3.0, A[:, [2, 0, 3, 1]]]) == pytest.approx(1.0)
    assert np.isnan(syn.consistency([A]))
    B = np.zeros((96, 2))
    B[:48, 0] = 1.0
    C = np.zeros((96, 2))
    C[48:, 0] = 1.0
    B[48:, 1] = C[:48, 1] = 1.0
    vals = syn.pairwise_acs([B, C, B])
    # B vs C: each column orthogonal to one and equal to the other -> matched 1
    assert vals.shape == (3,)
    np.testing.assert_allclose(vals, 1.0)
    D = np.eye(96)[:, :2]
    E = np.eye(96)[:, 2:4]
    assert syn.consistency([D, E]) == pytest.approx(0.0)


def test_median_iqr_format(syn):
    assert syn.median_iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == "3 [2, 4]"
    assert syn.median_iqr([np.nan]) == "—"


def _write_scenario(folder, n=30, k=2, seed=0):
    from desurv.datasets import SBS96_CHANNELS

    X, S, H = _truth(n, k, seed, noise=True)
    samples = [f"S{i}" for i in range(n)]
    names = [f"SBS_{i}" for i in range(k)]
    folder.mkdir(parents=True)
    pd.DataFrame(X.T, index=pd.Index(SBS96_CHANNELS, name="channel"), columns=samples).to_csv(
        folder / "catalog.tsv", sep="\t"
    )
    pd.DataFrame(S, index=pd.Index(SBS96_CHANNELS, name="channel"), columns=names).to_csv(
        folder / "signatures.tsv", sep="\t"
    )
    pd.DataFrame(H.T, index=pd.Index(names, name="signature"), columns=samples).to_csv(
        folder / "exposures.tsv", sep="\t"
    )


def test_synsig_main_end_to_end_on_a_tiny_scenario(syn, tmp_path, capsys):
    data = tmp_path / "synsig"
    _write_scenario(data / "syn.tiny", n=30, k=2)
    out = tmp_path / "res" / "signatures_synsig"
    argv = [
        "--splits", "2", "--restarts", "1", "--max-iter", "60", "--ae-max-iter", "300",
        "--methods", "nmf,convex-nmf,aenmf", "--bootstrap", "6", "--rank-max-iter", "100",
        "--jobs", "1", "--data", str(data), "--out", str(out),
    ]  # fmt: skip
    assert syn.main(argv) == 0
    text = capsys.readouterr().out
    assert "REDUCED RUN" in text and "splits 2 < 30" in text
    assert text == out.with_suffix(".txt").read_text()
    res = pd.read_csv(out.with_suffix(".csv"))
    assert set(res["method"]) == {"nmf", "convex-nmf", "aenmf"}
    assert set(res["split"]) == {0, 1}
    assert set(syn.SPLIT_METRICS) <= set(res["metric"])
    cos = res[res["metric"] == "signature_cosine"]["value"]
    assert ((cos > 0) & (cos <= 1 + 1e-9)).all()
    cons = pd.read_csv(out.with_name("signatures_synsig_consistency.csv"))
    assert (cons["n_pairs"] == 1).all() and len(cons) == 3
    ranks = pd.read_csv(out.with_name("signatures_synsig_rank.csv"))
    assert list(ranks["k"]) == [1, 2, 3, 4] and (ranks["k_true"] == 2).all()
    assert ranks["chosen"].nunique() == 1 and ranks["chosen"].iloc[0] in (1, 2, 3, 4)
    assert "bootstrap rank rule" in text and "median over all scenarios" in text


def test_synsig_rejects_unknown_names(syn, tmp_path):
    with pytest.raises(SystemExit, match="unknown method"):
        syn.parse_args(["--methods", "nmf,pca"])
    data = tmp_path / "synsig"
    _write_scenario(data / "syn.tiny")
    args = syn.parse_args(["--scenarios", "syn.nope", "--data", str(data)])
    with pytest.raises(SystemExit, match="unknown scenario"):
        syn.run(args)


# ----------------------------------------------------------------------------- breast
def test_pam_medoids_one_per_cluster_and_fallback_agrees(breast):
    rng = np.random.default_rng(1)
    centres = rng.gamma(0.3, size=(96, 3))
    pts = np.hstack([centres * rng.uniform(0.9, 1.1, size=(96, 3)) for _ in range(5)])
    idx = breast.pam_medoids(pts, 3)
    assert sorted(idx % 3) == [0, 1, 2]  # column j belongs to cluster j % 3
    from desurv.evaluation.matching import cosine_similarity

    D = np.clip(1 - cosine_similarity(pts, pts), 0, None)
    np.fill_diagonal(D, 0)
    fb = breast._pam_fallback(D, 3)
    assert D[:, fb].min(axis=1).sum() == pytest.approx(D[:, idx].min(axis=1).sum())


def test_match_cosmic_known_answer(breast):
    from desurv.datasets import random_signatures

    cosmic = random_signatures(8, random_state=2)
    cosmic.columns = [f"SBS{i}" for i in range(8)]
    picked = cosmic[["SBS5", "SBS1", "SBS7"]].to_numpy() * 5.0
    tab, acs = breast.match_cosmic(picked, cosmic)
    assert list(tab["cosmic"]) == ["SBS5", "SBS1", "SBS7"]
    np.testing.assert_allclose(tab["cosine"], 1.0)
    assert acs == pytest.approx(1.0)


def test_paired_tests(breast):
    a = np.array([0.9, 0.8, 0.95, 0.85, 0.9, 0.92])
    t, pt, pw = breast.paired_tests(a, a - 0.05 + 0.001 * np.arange(6))
    assert t > 0 and pt < 0.05 and 0 < pw < 0.05
    assert all(np.isnan(v) for v in breast.paired_tests(a, a))


def test_breast_fit_split_and_estimators(breast):
    from desurv.decomposition import AENMF, NMF, ConvexNMF

    assert isinstance(breast.make_estimator("nmf", 2), NMF)
    assert isinstance(breast.make_estimator("convex-nmf", 2), ConvexNMF)
    ae = breast.make_estimator("aenmf", 2, ae_max_iter=123)
    assert isinstance(ae, AENMF) and ae.max_iter == 123
    with pytest.raises(ValueError, match="unknown method"):
        breast.make_estimator("pca", 2)
    X, S, H = _truth(30, 2, noise=True)
    train, test = breast.split_indices(30, 1)[0]
    m, sig = breast.fit_split(breast.make_estimator("nmf", 2, max_iter=300), X[train], X[test])
    assert sig.shape == (96, 2) and m["train_mse"] > 0 and m["test_mse"] > 0
    assert m["converged"] in (0.0, 1.0) and m["n_iter"] >= 1


def test_breast_main_end_to_end_on_tiny_data(breast, tmp_path, capsys):
    from desurv.datasets import SBS96_CHANNELS, random_signatures

    cosmic = random_signatures(6, random_state=4)
    cosmic.columns = [f"SBS{i}" for i in range(6)]
    cosmic.index = pd.Index(SBS96_CHANNELS, name="Type")
    data = tmp_path / "mut"
    data.mkdir()
    cosmic.to_csv(data / "cosmic_v3.4_sbs96_grch37.tsv", sep="\t")
    H = np.random.default_rng(0).gamma(1.0, 400.0, size=(25, 2))
    X = np.random.default_rng(1).poisson(H @ cosmic[["SBS2", "SBS4"]].to_numpy().T)
    cat = pd.DataFrame(X.T, index=pd.Index(SBS96_CHANNELS, name="channel"))
    cat.columns = [f"G{i}" for i in range(25)]
    cat.to_csv(data / "breast21_wgs_sbs96.tsv", sep="\t")
    out = tmp_path / "res" / "signatures_breast"
    argv = [
        "--datasets", "breast21", "--splits", "3", "--bootstrap", "6", "--k-max", "4",
        "--rank-methods", "nmf", "--rank-max-iter", "200", "--max-iter", "300",
        "--ae-max-iter", "2000", "--jobs", "1", "--data", str(data), "--out", str(out),
    ]  # fmt: skip
    assert breast.main(argv) == 0
    text = capsys.readouterr().out
    assert "REDUCED RUN" in text and "k chosen without C-NMF, AE-NMF" in text
    assert "error ratio to NMF" in text and "COSMIC v3.4" in text
    per = pd.read_csv(out.with_suffix(".csv"))
    assert set(per["method"]) == {"nmf", "convex-nmf", "aenmf"} and set(per["split"]) == {0, 1, 2}
    K = int(per["K"].iloc[0])
    assert 2 <= K <= 4
    cos = pd.read_csv(out.with_name("signatures_breast_cosmic.csv"))
    assert len(cos) == 3 * K and set(cos["cosmic"]) <= set(cosmic.columns)
    # the generating signatures are found by plain NMF's consensus
    nmf = cos[cos["method"] == "nmf"]
    assert {"SBS2", "SBS4"} <= set(nmf["cosmic"])
    assert nmf["cosine"].max() > 0.9


# ----------------------------------------------------------------------------- speed
def test_reference_kernels_swap_and_restore(speed):
    from desurv._reference import aenmf as ref_aenmf
    from desurv._reference import convex as ref_convex
    from desurv.decomposition import aenmf, convex

    before = (convex._convex, convex._nmf_mu, aenmf._aenmf)
    with speed.reference_kernels():
        assert convex._convex is ref_convex and aenmf._aenmf is ref_aenmf
    assert (convex._convex, convex._nmf_mu, aenmf._aenmf) == before
    with pytest.raises(RuntimeError), speed.reference_kernels():
        raise RuntimeError
    assert (convex._convex, convex._nmf_mu, aenmf._aenmf) == before


@pytest.mark.parametrize("cls", ["ConvexNMF", "AENMF"])
@pytest.mark.parametrize("loss", ["frobenius", "kullback-leibler"])
def test_twins_follow_the_same_updates(speed, cls, loss):
    X = speed.synthetic_catalogue(30, 3, seed=1)
    r = speed.per_iteration(cls, loss, X, 3, iters=15, repeats=1)
    assert r["compiled"] > 0 and r["numpy"] > 0
    assert r["rel_diff"] < 1e-9  # the same trajectory up to rounding


def test_time_to_tol_and_nnls_agree(speed):
    X = speed.synthetic_catalogue(40, 3, seed=2)
    r = speed.measure_time_to_tol("ConvexNMF", "frobenius", X, 3, 1e-4, 2000, 1)
    assert r["it_compiled"] == r["it_numpy"] and r["rel_diff"] < 1e-9
    n = speed.nnls_speed(X, 3, 1)
    assert n["max_abs_diff"] < 1e-8 and n["rel_res_diff"] < 1e-8


def test_speed_catalogue_fallback_and_kl_table(speed, tmp_path):
    X, source = speed.catalogue("small", data=tmp_path)  # no shared data there
    assert X.shape == (560, 96) and source.startswith("synthetic")
    assert speed.kl_vs_frobenius(tmp_path / "missing.csv") is None
    rows = [("a", m, s, "signature_cosine", v) for s, (m, v) in enumerate(
        [("nmf", 0.8), ("nmf-kl", 0.9), ("nmf", 0.82), ("nmf-kl", 0.94)])]  # fmt: skip
    pd.DataFrame(rows, columns=["scenario", "method", "split", "metric", "value"]).to_csv(
        tmp_path / "s.csv", index=False
    )
    t = speed.kl_vs_frobenius(tmp_path / "s.csv")
    assert t.loc["a", "nmf-kl − nmf"] == pytest.approx(0.92 - 0.81)


# ----------------------------------------------------------------------------- asv
def _asv_module():
    if "benchmarks" not in sys.modules:  # as tests/test_asv_benchmarks.py: no sys.path change
        init = BENCH / "__init__.py"
        spec = importlib.util.spec_from_file_location(
            "benchmarks", init, submodule_search_locations=[str(BENCH)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules["benchmarks"] = package
        spec.loader.exec_module(package)
    return importlib.import_module("benchmarks.asv_signatures")


def test_asv_signature_benchmarks_run_every_parameter_once():
    mod = _asv_module()
    classes = [
        c for _, c in inspect.getmembers(mod, inspect.isclass) if c.__module__ == mod.__name__
    ]
    names = {c.__name__ for c in classes}
    assert {"ConvexNMFIteration", "AENMFIteration", "SignatureFit", "SignatureNNLS"} <= names
    for cls in classes:
        if not hasattr(cls, "params"):
            continue
        grid = cls.params if isinstance(cls.params, tuple) else (cls.params,)
        for combo in itertools.product(*grid):
            bench = cls()
            bench.setup(*combo)
            try:
                for meth in (m for m in dir(bench) if m.startswith("time_")):
                    getattr(bench, meth)(*combo)
            finally:
                bench.teardown(*combo)
    X, S = mod.catalogue(50, 4)
    assert X.shape == (50, 96) and S.shape == (96, 4)
    np.testing.assert_allclose(S.sum(axis=0), 1.0)
    assert np.array_equal(X, mod.catalogue(50, 4)[0])  # deterministic
