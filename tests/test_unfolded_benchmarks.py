"""Smoke and known-answer tests of the deep-unfolded NMF benchmark scripts (issue 13).

``benchmarks/unfolded_eval.py`` and ``benchmarks/unfolded_speed.py`` are loaded by path (the
repository root is not put on sys.path, see tests/test_asv_benchmarks.py); the asv classes of
``benchmarks/asv_unfolded.py`` are run once each. Nothing is timed: speed is never asserted.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, require
from scipy.optimize import nnls as scipy_nnls

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def _load(name):
    key = f"_desurv_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


@pytest.fixture(scope="module")
def ev():
    return _load("unfolded_eval")


@pytest.fixture(scope="module")
def sp():
    return _load("unfolded_speed")


def _truth(n=40, k=3, seed=0):
    """Noiseless catalogue X = H S (n × 96) from k random SBS96 signatures S (k, 96)."""
    from desurv.datasets import random_signatures

    S = random_signatures(k, random_state=seed).to_numpy().T
    H = np.random.default_rng(seed).gamma(1.0, 300.0, size=(n, k))
    return H @ S, np.ascontiguousarray(S), H


def _tiny_synsig(root, n=30, k=2, seed=0):
    """A SynSig-format scenario folder ``root/tiny`` (catalog, signatures, exposures)."""
    from desurv.datasets import random_signatures

    S = random_signatures(k, random_state=seed)  # (96, k) DataFrame, channel index
    H = np.random.default_rng(seed).gamma(1.0, 200.0, size=(k, n))
    X = np.round(S.to_numpy() @ H)
    names = [f"S{i}" for i in range(n)]
    sig = [f"SBS{j}" for j in range(k)]
    d = root / "tiny"
    d.mkdir(parents=True)
    chan = pd.Index(S.index, name="channel")
    pd.DataFrame(X, index=chan, columns=names).to_csv(d / "catalog.tsv", sep="\t")
    pd.DataFrame(S.to_numpy(), index=chan, columns=sig).to_csv(d / "signatures.tsv", sep="\t")
    pd.DataFrame(H, index=pd.Index(sig, name="signature"), columns=names).to_csv(
        d / "exposures.tsv", sep="\t"
    )
    return root


# ----------------------------------------------------------------------------- splits
def test_mirrored_test_is_numpy_bitwise_not_indexing(ev):
    rng = np.random.default_rng(0)
    n = 25
    X = rng.normal(size=(n, 3))
    tr = np.sort(rng.choice(n, 20, replace=False))
    idx = ev.mirrored_test(tr, n)
    np.testing.assert_array_equal(X[~tr], X[idx])  # the repository's X[:, ~mask]
    assert idx.min() >= 0 and idx.max() < n


def test_kfold_splits(ev):
    n = 50
    corr = ev.kfold_splits(n, 5, protocol="corrected")
    faith = ev.kfold_splits(n, 5, protocol="faithful")
    tests = np.concatenate([te for _, te in corr])
    np.testing.assert_array_equal(np.sort(tests), np.arange(n))  # held-out folds partition
    for (tr, te), (tr2, te2) in zip(corr, faith, strict=True):
        assert np.intersect1d(tr, te).size == 0
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(te2, n - 1 - tr)
        assert np.intersect1d(tr2, te2).size > 0  # the published defect: test ⊂ train mostly
    for tr, te in ev.kfold_splits(n, 3, protocol="faithful", brca=True):
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(n))
    with pytest.raises(ValueError, match="protocol"):
        ev.kfold_splits(n, 5, protocol="other")


# ----------------------------------------------------------------------------- baselines
def test_mu_update_matches_formula_and_decreases_objective(ev):
    X, _, _ = _truth(30, 3)
    rng = np.random.default_rng(1)
    W, H = rng.uniform(size=(3, 96)), rng.uniform(size=(30, 3))
    W0, H0 = W.copy(), H.copy()
    ev.mu_update(X, W, H, 0.5)
    Wr = W0 * (H0.T @ X) / (H0.T @ H0 @ W0 + ev.EPS)
    Hr = H0 * (X @ Wr.T) / (H0 @ Wr @ Wr.T + ev.EPS + 0.5 * H0 + 0.5)
    np.testing.assert_allclose(W, Wr, rtol=1e-12)
    np.testing.assert_allclose(H, Hr, rtol=1e-12)
    # Lee & Seung: the λ-regularised objective (λ on H only) never increases
    lam = 0.5

    def obj(W, H):
        return 0.5 * np.sum((X - H @ W) ** 2) + lam * H.sum() + 0.5 * lam * np.sum(H * H)

    vals = [obj(W, H)]
    for _ in range(30):
        ev.mu_update(X, W, H, lam)
        vals.append(obj(W, H))
    assert np.all(np.diff(vals) <= 1e-9 * vals[0])


def test_mu_encode_is_repeated_h_updates(ev):
    X, S, _ = _truth(20, 3)
    H = np.ones((20, 3))
    W = S.copy()
    for _ in range(7):
        ev.mu_update(X, W, H, 1.0, update_w=False)
    np.testing.assert_allclose(ev.mu_encode(X, S, 7, 1.0), H, rtol=1e-12)
    np.testing.assert_array_equal(W, S)  # update_w=False leaves W alone


def test_mu_rank_one_start_stays_rank_one(ev):
    """METHODS §C.7 pitfall 2: W = 1/M, H = 1 keeps every signature identical."""
    X, _, _ = _truth(30, 3)
    W, _ = ev.mu_fit(X, np.full((3, 96), 1 / 96), np.ones((30, 3)), 50, 1.0)
    assert np.ptp(W, axis=0).max() <= 1e-12 * W.max()


@pytest.mark.parametrize("lam", [0.0, 0.7, 3.0])
def test_nnls_encode_is_the_exact_regularised_minimiser(ev, lam):
    """Against scipy's NNLS on the augmented system: ½‖x - Wᵀh‖² + λΣh + ½λ‖h‖² =
    ½‖[Wᵀ; √λ I] h - [x; -√λ 1]‖² + const."""
    X, S, _ = _truth(15, 4, seed=3)
    X = X + np.random.default_rng(0).uniform(0, 5, size=X.shape)
    E = ev.nnls_encode(X, S, lam)
    A = np.vstack([S.T, np.sqrt(lam) * np.eye(4)])
    for i in range(X.shape[0]):
        b = np.concatenate([X[i], -np.sqrt(lam) * np.ones(4)])
        ref = scipy_nnls(A, b)[0]
        np.testing.assert_allclose(
            ev.cost(X[i : i + 1], E[i : i + 1], S, lam),
            ev.cost(X[i : i + 1], ref[None], S, lam),
            rtol=1e-9,
        )
        np.testing.assert_allclose(E[i], ref, rtol=1e-6, atol=1e-6 * ref.max())


def test_cost_sse_and_cosine_known_answers(ev):
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    E = np.array([[1.0], [2.0]])
    W = np.array([[1.0, 1.0]])
    # residuals [0, 1], [1, 2] -> ½·6 = 3; ΣE = 3; ½‖E‖² = 2.5; per sample: / 2
    assert ev.cost(X, E, W) == pytest.approx(1.5)
    assert ev.cost(X, E, W, 2.0) == pytest.approx((3 + 2 * 3 + 2 * 2.5) / 2)
    assert ev.sse(E, np.array([[0.0], [4.0]])) == pytest.approx(5.0)
    _, S, _ = _truth(5, 3)
    assert ev.matched_cosine(S[[2, 0, 1]] * 3.0, S) == pytest.approx(1.0)
    Z = S.copy()
    Z[1] = 0.0
    assert ev.matched_cosine(Z, S) < 1.0
    assert np.isnan(ev.matched_cosine(S, None))


def test_resample_shape_and_counts(ev):
    X, _, _ = _truth(10, 2)
    R = ev.resample(np.round(X), 33, seed=1)
    assert R.shape == (33, 96) and np.all(R >= 0) and np.all(R == np.round(R))


# ----------------------------------------------------------------------------- protocols
def test_faithful_supervised_mu_with_true_w_on_exact_data(ev):
    """With X = H S exactly, the true S is a fixed point of the MU W-steps (HᵀX = HᵀH S), so
    the carried-over W stays S and the error is that of 10 MU steps with S."""
    X, S, H = _truth(30, 3)
    splits = ev.kfold_splits(30, 3, protocol="faithful")
    rows = pd.DataFrame(ev.faithful_supervised_mu("t", X, S, H, splits, 5, lambdas=(0, 1)))
    assert set(rows.metric) == {"test_sse", "test_sse_per_sample", "train_time"}
    tr, te = splits[2]
    got = rows[(rows.fold == 2) & (rows.lam == 1) & (rows.metric == "test_sse")].value.item()
    assert got == pytest.approx(ev.sse(ev.mu_encode(X[te], S, 10, 1), H[te]), rel=1e-6)


def test_faithful_and_corrected_folds_run(ev):
    X, S, H = _truth(40, 2)
    X = np.round(X)
    tr, te = ev.kfold_splits(40, 4, protocol="corrected")[0]
    with np.errstate(all="ignore"):
        f = pd.DataFrame(ev.faithful_fold("t", X, S, H, 2, 0, tr, te, 4, lambdas=(0, 1)))
        c = pd.DataFrame(
            ev.corrected_fold("t", X, S, H, 2, 0, tr, te, 4, lambdas=(0,), timing=False)
        )
    assert set(f.method) == {"dnmf-reg", "dnmf-noreg", "dnmf", "mu"}
    assert set(c.method) == {
        "dnmf-repo",
        "dnmf-nmf",
        "mu10-nnlsW",
        "nnls",
        "nnls-trueW",
        "mu-sup-rand",
        "dnmf-nmf+nnls",
        "mu-rand",
        "mu-rand+nnls",
    }
    for df in (f, c):
        vals = df[df.metric != "cosine"].value
        assert np.all(np.isfinite(vals))
    # the exact NNLS encoder is never worse than any other encoder with the same W
    g = c[(c.task == "unsupervised") & (c.metric == "test_cost")].set_index("method").value
    assert g["dnmf-nmf+nnls"] <= g["dnmf-nmf"] * (1 + 1e-9)
    assert g["mu-rand+nnls"] <= g["mu-rand"] * (1 + 1e-9)
    # rounded noiseless data: NNLS with the true signatures recovers the exposures
    s = c[(c.metric == "test_sse_per_sample")].set_index("method").value
    assert s["nnls-trueW"] < 1e-3 * np.mean(H[te] ** 2)
    assert s["nnls-trueW"] < s["mu10-nnlsW"]


def test_run_report_and_main_end_to_end(ev, tmp_path):
    root = _tiny_synsig(tmp_path / "synsig")
    assert ev.available_scenarios(root) == ["tiny"]
    X, S, H, k = ev.load_scenario("tiny", root)
    assert X.shape == (30, 96) and S.shape == (2, 96) and H.shape == (30, 2) and k == 2
    out = tmp_path / "res" / "ue"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        df = ev.main(
            [
                "--scenarios",
                "tiny",
                "--folds",
                "2",
                "--max-iter",
                "3",
                "--lambdas",
                "0",
                "--synsig",
                str(root),
                "--out",
                str(out),
            ]
        )
    assert set(df.protocol) == {"faithful", "corrected"}
    text = out.with_suffix(".txt").read_text()
    assert "REDUCED RUN" in text and "--max-iter 3" in text
    assert "(a) repository-faithful" in text and "(b) corrected" in text
    assert "encode" in text  # fold 0 timing rows
    back = pd.read_csv(out.with_suffix(".csv"))
    assert len(back) == len(df)
    t = ev.faithful_table(df)
    assert {"sup-reg", "pub", "uDNMF0", "uMU0"} <= set(t.columns)
    assert "ln-unit advantage of DNMF" in text
    g = ev.gap_table(df)
    # rounded noiseless counts: the exact NNLS refit beats the 3-step-trained network
    assert g.loc["tiny", "corr sup nmf vs NNLS"] < 0
    # same-scale gap = saved-convention gap minus ln(n_test) (the per-sample artefact)
    n_test = 15  # the faithful "test" set has n_train = 15 mirrored samples (2 folds of 30)
    assert g.loc["tiny", "faith sup (saved)"] - g.loc["tiny", "faith sup (same scale)"] == (
        pytest.approx(np.log(n_test), rel=1e-9)
    )
    with pytest.raises(SystemExit, match="unknown scenario"):
        ev.main(["--scenarios", "nope", "--synsig", str(root)])


def test_log_mean(ev):
    assert ev.log_mean([np.e, np.e**3]) == pytest.approx(2.0)
    assert np.isnan(ev.log_mean([np.nan, -1.0]))


def test_faithful_reproduces_the_repository_saved_numbers(ev):
    """Known answer from the repository's saved outputs (RECOMB2021/data/outputs/fig_5.csv,
    SynSig pancreas, fold 1): supervised MU λ=0 test SSE 4856036864.31 and supervised DNMF
    3097273.0, the latter being the test SSE divided by the 800 test samples."""
    folder = require(DATA / "mutational" / "synsig" / "syn.pancreas")
    X, S, H, k = ev.load_scenario("syn.pancreas", folder.parent)
    splits = ev.kfold_splits(X.shape[0], 5, protocol="faithful")
    mu = pd.DataFrame(ev.faithful_supervised_mu("p", X, S, H, splits[:1], 500, lambdas=(0,)))
    assert mu[mu.metric == "test_sse"].value.item() == pytest.approx(4856036864.31, rel=1e-7)
    from desurv.decomposition import DeepUnfoldedNMF

    tr, te = splits[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = DeepUnfoldedNMF(init="repository", tol=0, max_iter=500, dtype="float32")
        m.fit(X[tr], H[tr])
    per_sample = ev.sse(m.transform(X[te]), H[te]) / len(te)
    assert per_sample == pytest.approx(3097273.0, rel=1e-4)


# ----------------------------------------------------------------------------- speed script
def test_speed_helpers_agree(sp, ev):
    X, S, _ = _truth(12, 3, seed=2)
    X = X + 1.0
    np.testing.assert_allclose(sp.mu_encode(X, S, 10), ev.mu_encode(X, S, 10), rtol=1e-12)
    np.testing.assert_allclose(sp.scipy_nnls(X, S), ev.nnls_encode(X, S), rtol=1e-6, atol=1e-6)
    assert sp.recon(X, ev.nnls_encode(X, S), S) <= sp.recon(X, sp.mu_encode(X, S), S)


def test_speed_measure_tiny(sp):
    X = sp.synthetic(60, 3, seed=4)
    with np.errstate(all="ignore"):
        rows = pd.DataFrame(
            sp.measure("syn", X, 3, n=80, repeats=1, layers=2, iters=2, scipy_samples=10)
        )
    assert {"dnmf float64", "dnmf float32", "nnls", "mu10", "scipy-nnls*"} <= set(rows.encoder)
    assert np.all(rows.seconds > 0) and np.all(np.isfinite(rows.cost_vs_nnls))
    # the exact NNLS encoder is the reference: nobody beats it (up to rounding)
    assert rows.cost_vs_nnls.min() > -1e-6


# ----------------------------------------------------------------------------- asv
def _asv_classes():
    init = BENCH / "__init__.py"
    if "benchmarks" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "benchmarks", init, submodule_search_locations=[str(BENCH)]
        )
        pkg = importlib.util.module_from_spec(spec)
        sys.modules["benchmarks"] = pkg
        spec.loader.exec_module(pkg)
    mod = importlib.import_module("benchmarks.asv_unfolded")
    return [
        getattr(mod, c)
        for c in (
            "UnfoldedForward",
            "UnfoldedForwardBackward",
            "UnfoldedUnsupervisedIteration",
            "UnfoldedFit",
        )
    ]


@pytest.mark.parametrize("index", range(4))
def test_asv_unfolded_runs_once(index):
    cls = _asv_classes()[index]
    params = cls.params if isinstance(cls.params[0], list) else [cls.params]
    args = tuple(p[-1] for p in params)  # the last combination (the first is in test_asv_*)
    bench = cls()
    bench.setup(*args)
    try:
        for meth in [m for m in dir(bench) if m.startswith("time_")]:
            getattr(bench, meth)(*args)
    finally:
        bench.teardown(*args)
