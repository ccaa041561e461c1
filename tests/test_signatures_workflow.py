"""desurv.signatures: extraction workflow, consensus, rank rules, COSMIC matching, files."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, require
from scipy.optimize import linear_sum_assignment as scipy_lsa
from scipy.optimize import nnls as scipy_nnls
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from desurv.datasets import (
    SBS96_CHANNELS,
    random_signatures,
    read_catalogue,
    read_signatures,
    simulate_catalogues,
)
from desurv.evaluation import match_factors
from desurv.exceptions import ConvergenceWarning, DataWarning
from desurv.signatures import (
    METHODS,
    SignatureResult,
    check_catalogue,
    extract_signatures,
    match_signatures,
    method_defaults,
)
from desurv.signatures import workflow as wf

MUT = DATA / "mutational"
COSMIC_NAMES = ["SBS4", "SBS7a", "SBS13", "SBS17b"]  # distinct (pairwise cosine <= 0.11)


@pytest.fixture(scope="module")
def cosmic():
    return read_signatures(require(MUT / "cosmic_v3.4_sbs96_grch37.tsv"))


@pytest.fixture(scope="module")
def breast21():
    return read_catalogue(require(MUT / "breast21_wgs_sbs96.tsv"))


@pytest.fixture(scope="module")
def synthetic():
    W = random_signatures(4, random_state=0)
    sim = simulate_catalogues(W, n_samples=60, n_active=2, mean_burden=2000, random_state=1)
    return W, sim


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- known answers
@pytest.mark.parametrize(
    "method, consensus", [("nmf", "kmeans"), ("nmf", "pam"), ("nmf-kl", "kmeans")]
)
def test_recovers_the_true_signatures_at_the_true_rank(synthetic, method, consensus):
    W, sim = synthetic
    res = _quiet(
        extract_signatures,
        sim.catalogue,
        4,
        method=method,
        consensus=consensus,
        n_restarts=4,
        random_state=0,
    )
    sig = res.signatures
    assert list(sig.columns) == ["S1", "S2", "S3", "S4"]
    assert list(sig.index) == list(SBS96_CHANNELS)
    np.testing.assert_allclose(sig.sum(axis=0), 1.0, atol=1e-12)
    assert (sig.to_numpy() >= 0).all()
    m = match_factors(W, sig)
    assert m.similarity.min() > 0.95
    # exposures: the matched columns carry the true mutation counts
    E = res.exposures.to_numpy()[:, m.perm]
    rel = np.linalg.norm(E - sim.exposures.to_numpy()) / np.linalg.norm(sim.exposures.to_numpy())
    assert rel < 0.15
    # ordered by total exposure, largest first
    assert np.all(np.diff(res.exposures.sum(axis=0).to_numpy()) <= 0)
    assert res.summary["n_components"] == 4 and res.rank_table is None


def test_cosmic_matching_names_the_generating_signatures(cosmic):
    truth = cosmic[COSMIC_NAMES]
    sim = simulate_catalogues(truth, n_samples=80, n_active=2, mean_burden=2000, random_state=2)
    res = _quiet(
        extract_signatures, sim.catalogue, 4, reference=cosmic, n_restarts=4, random_state=1
    )
    matches = res.cosmic_matches
    assert list(matches.columns[:3]) == ["signature", "cosmic", "cosine"]
    assert sorted(matches["cosmic"]) == sorted(COSMIC_NAMES)
    assert (matches["cosine"] > 0.95).all()
    # each extracted signature is named after the true signature it recovers
    m = match_factors(truth, res.signatures)
    for true_name, j in zip(COSMIC_NAMES, m.perm, strict=True):
        row = matches.set_index("signature").loc[res.signatures.columns[j]]
        assert row["cosmic"] == true_name
    assert res.summary["cosmic_acs"] == pytest.approx(matches["cosine"].mean())


def test_stability_rule_finds_the_true_rank_and_reuses_its_restarts():
    W = random_signatures(3, random_state=0)
    sim = simulate_catalogues(W, n_samples=60, n_active=2, mean_burden=2000, random_state=1)
    res = _quiet(
        extract_signatures,
        sim.catalogue,
        ks=[2, 3, 4, 5],
        rank_rule="stability",
        n_restarts=5,
        random_state=3,
    )
    t = res.rank_table
    assert res.n_components == 3
    assert t["selected"].sum() == 1 and int(t.loc[t["selected"], "k"].iloc[0]) == 3
    assert t.loc[t["k"] == 3, "stable"].item() and t.loc[t["k"] == 3, "stability"].item() > 0.9
    # the selected k is the largest stable one here: every larger k is unstable
    assert not t.loc[t["k"] > 3, "stable"].any()
    # errors fall with k (best restart), and the restarts of every k are recorded
    assert t["reconstruction_error"].is_monotonic_decreasing
    assert sorted(res.restarts["k"].unique()) == [2, 3, 4, 5]
    # the same seed at the chosen k directly gives the same signatures (seeds per (k, r))
    direct = _quiet(extract_signatures, sim.catalogue, 3, n_restarts=5, random_state=3)
    pd.testing.assert_frame_equal(direct.signatures, res.signatures)


@pytest.mark.filterwarnings("ignore:the test error fell significantly")
def test_bootstrap_rule_is_select_rank_bootstrap_then_restarts_at_its_k(synthetic):
    pytest.importorskip("desurv.model_selection.bootstrap_rank")
    from desurv.model_selection import select_rank_bootstrap

    _, sim = synthetic
    ks = [2, 3, 4]
    res = _quiet(
        extract_signatures, sim.catalogue, ks=ks, n_bootstrap=6, n_restarts=3, random_state=5
    )
    cls, params = method_defaults("nmf")
    direct = _quiet(
        select_rank_bootstrap,
        cls(**params),
        sim.catalogue,
        ks,
        n_bootstrap=6,
        random_state=wf._seed(5, 2),
    )
    assert res.n_components == direct.n_components_
    pd.testing.assert_frame_equal(res.rank_table, direct.summary())
    assert len(res.rank_errors) == 6 * len(ks)
    assert (res.restarts["k"] == res.n_components).all()
    assert res.params["rank_rule"] == "bootstrap"


# ----------------------------------------------------------------------------- pieces
def test_exposures_are_the_nnls_refit_and_reconstruction_is_consistent(breast21):
    res = _quiet(extract_signatures, breast21, 3, n_restarts=3, random_state=0)
    S = res.signatures.to_numpy()
    X = breast21.to_numpy()
    for i in range(X.shape[0]):
        e, _ = scipy_nnls(S, X[i])
        np.testing.assert_allclose(res.exposures.to_numpy()[i], e, rtol=1e-7, atol=1e-6)
    Xhat = res.exposures.to_numpy() @ S.T
    cos = np.einsum("ij,ij->i", X, Xhat) / np.linalg.norm(X, axis=1) / np.linalg.norm(Xhat, axis=1)
    rel = np.linalg.norm(X - Xhat, axis=1) / np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(res.reconstruction["cosine"], cos, rtol=1e-10)
    np.testing.assert_allclose(res.reconstruction["relative_error"], rel, rtol=1e-10)
    np.testing.assert_array_equal(res.reconstruction["n_mutations"], X.sum(axis=1))
    assert list(res.exposures.index) == list(breast21.index)
    total = np.linalg.norm(X - Xhat) / np.linalg.norm(X)
    assert res.summary["relative_error"] == pytest.approx(total)


def test_pam_consensus_signatures_are_restart_signatures(breast21):
    res = _quiet(extract_signatures, breast21, 3, n_restarts=4, consensus="pam", random_state=0)
    pool = res.restart_signatures.transpose(0, 2, 1).reshape(-1, 96)
    for name in res.signatures.columns:
        d = np.abs(pool - res.signatures[name].to_numpy()).max(axis=1)
        assert d.min() < 1e-12
    assert res.stability["n_members"].sum() == 4 * 3


def test_kmeans_stability_is_the_constrained_clustering_silhouette(breast21):
    from desurv.evaluation import consensus_factors

    res = _quiet(extract_signatures, breast21, 3, n_restarts=5, random_state=0)
    assert (res.stability["n_members"] == 5).all()
    cons = consensus_factors(
        res.restart_signatures, random_state=wf._seed(res.params["entropy"], 0, 3)
    )
    assert res.mean_stability == pytest.approx(cons.mean_silhouette)
    assert sorted(res.stability["silhouette"]) == pytest.approx(sorted(cons.cluster_silhouette))
    # consensus = the normalised cluster means, up to the order of the signatures
    C = cons.centroids / cons.centroids.sum(axis=0)
    m = match_factors(C, res.signatures)
    np.testing.assert_allclose(m.similarity, 1.0, atol=1e-12)
    # restarts of a stable problem agree: consistency and cosine to the consensus near 1
    assert res.summary["consistency_acs"] > 0.95
    assert (res.restarts["cosine_to_consensus"] > 0.9).all()


def test_results_do_not_depend_on_n_jobs_and_repeat_with_a_seed(breast21):
    kw = dict(n_restarts=4, random_state=11)
    a = _quiet(extract_signatures, breast21, 3, n_jobs=1, **kw)
    b = _quiet(extract_signatures, breast21, 3, n_jobs=2, **kw)
    c = _quiet(extract_signatures, breast21, 3, **kw)
    for other in (b, c):
        pd.testing.assert_frame_equal(a.signatures, other.signatures, check_exact=True)
        pd.testing.assert_frame_equal(a.exposures, other.exposures, check_exact=True)
        pd.testing.assert_frame_equal(a.restarts, other.restarts, check_exact=True)
    d = _quiet(extract_signatures, breast21, 3, n_restarts=4, random_state=12)
    assert not a.restarts["seed"].equals(d.restarts["seed"])
    # random_state=None draws an entropy that reproduces the run
    e = _quiet(extract_signatures, breast21, 3, n_restarts=2)
    f = _quiet(extract_signatures, breast21, 3, n_restarts=2, random_state=e.params["entropy"])
    pd.testing.assert_frame_equal(e.signatures, f.signatures)


def test_channels_are_aligned_by_label_and_inputs_may_be_paths_or_arrays(breast21):
    kw = dict(n_restarts=2, random_state=0)
    a = _quiet(extract_signatures, breast21, 2, **kw)
    shuffled = breast21.iloc[:, np.random.default_rng(0).permutation(96)]
    b = _quiet(extract_signatures, shuffled, 2, **kw)
    c = _quiet(extract_signatures, str(MUT / "breast21_wgs_sbs96.tsv"), 2, **kw)
    d = _quiet(extract_signatures, breast21.to_numpy(), 2, **kw)
    for other in (b, c):
        pd.testing.assert_frame_equal(a.signatures, other.signatures)
    np.testing.assert_array_equal(a.signatures.to_numpy(), d.signatures.to_numpy())
    assert list(d.signatures.index) == list(SBS96_CHANNELS)


def test_non_convergence_is_counted_and_warned_once(breast21):
    with pytest.warns(ConvergenceWarning, match="3 of 3 restart fits"):
        res = extract_signatures(
            breast21, 2, n_restarts=3, random_state=0, estimator_params={"max_iter": 2}
        )
    assert not res.restarts["converged"].any()
    assert res.summary["n_converged"] == 0
    assert res.params["estimator_params"]["max_iter"] == 2


@pytest.mark.parametrize("method", ["convex", "aenmf"])
def test_other_factorisations_when_available(synthetic, method):
    try:
        method_defaults(method)
    except ValueError:
        pytest.skip(f"{method} estimator not available in this installation")
    W, sim = synthetic
    res = _quiet(
        extract_signatures,
        sim.catalogue,
        4,
        method=method,
        n_restarts=2,
        random_state=0,
        estimator_params={"max_iter": 300},
    )
    # the plumbing only (the estimators' own tests check their fits): shapes, sums, refit
    assert res.signatures.shape == (96, 4) and res.exposures.shape == (60, 4)
    np.testing.assert_allclose(res.signatures.sum(axis=0), 1.0, atol=1e-12)
    assert res.params["estimator"] == method_defaults(method)[0].__name__
    # restart 0 is the estimator fitted with its recorded seed
    cls, params = method_defaults(method)
    row = res.restarts.iloc[0]
    est = cls(n_components=4, random_state=int(row["seed"]), **{**params, "max_iter": 300})
    E = _quiet(est.fit_transform, sim.catalogue)
    X = sim.catalogue.to_numpy(float)
    err = np.linalg.norm(X - np.asarray(E) @ np.asarray(est.components_))
    assert row["reconstruction_error"] == pytest.approx(err, rel=1e-9)


def test_methods_listed():
    assert METHODS == ("nmf", "nmf-kl", "convex", "aenmf")
    cls, params = method_defaults("nmf")
    assert cls.__name__ == "NMF" and params["solver"] == "cd" and params["init"] == "random"
    cls, params = method_defaults("nmf-kl")
    assert params["beta_loss"] == "kullback-leibler" and params["solver"] == "mu"


# ----------------------------------------------------------------------------- matching
def test_match_signatures_is_the_optimal_assignment_on_cosine(cosmic):
    rng = np.random.default_rng(0)
    A = cosmic.iloc[:, rng.choice(86, 5, replace=False)].to_numpy()
    A = A + 0.002 * rng.random(A.shape)  # near copies, not exact
    sig = pd.DataFrame(A, index=cosmic.index, columns=[f"S{j + 1}" for j in range(5)])
    shuffled = cosmic.iloc[rng.permutation(96)]  # rows in another order: paired by label
    table = match_signatures(sig, shuffled)
    S = sk_cosine(A.T, cosmic.to_numpy().T)
    rows, cols = scipy_lsa(1.0 - S)
    assert table["cosmic"].tolist() == cosmic.columns[cols].tolist()
    np.testing.assert_allclose(table["cosine"], S[rows, cols], rtol=1e-12)
    np.testing.assert_allclose(table["best_cosine"], S.max(axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match="one-to-one"):
        match_signatures(cosmic.iloc[:, :4], cosmic.iloc[:, :3])


# ----------------------------------------------------------------------------- files
def test_save_load_round_trip_and_refusal_to_overwrite(tmp_path, breast21, cosmic):
    res = _quiet(
        extract_signatures,
        breast21,
        ks=[2, 3],
        rank_rule="stability",
        n_restarts=3,
        reference=cosmic,
        random_state=0,
    )
    files = res.save(tmp_path / "run")
    names = sorted(p.name for p in files)
    assert names == sorted(
        [
            "signatures.tsv",
            "exposures.tsv",
            "stability.tsv",
            "reconstruction.tsv",
            "cosmic_matches.tsv",
            "rank_table.tsv",
            "restarts.tsv",
            "signature_run.json",
        ]
    )
    meta = json.loads((tmp_path / "run" / "signature_run.json").read_text())
    assert meta["format"] == "desurv-signatures" and meta["method"] == "nmf"
    assert sorted(meta["files"]) == sorted(n for n in names if n != "signature_run.json")
    # signatures.tsv is a COSMIC-style file
    back = read_signatures(tmp_path / "run" / "signatures.tsv")
    np.testing.assert_allclose(back.to_numpy(), res.signatures.to_numpy(), rtol=1e-9)
    loaded = SignatureResult.load(tmp_path / "run")
    pd.testing.assert_frame_equal(loaded.signatures, res.signatures, rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.exposures, res.exposures, rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.cosmic_matches, res.cosmic_matches, rtol=1e-9)
    assert loaded.n_components == res.n_components
    assert loaded.mean_stability == pytest.approx(res.mean_stability)
    assert loaded.params["entropy"] == res.params["entropy"]
    # no silent overwrite; other files are left alone
    (tmp_path / "run" / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="overwrite=True"):
        res.save(tmp_path / "run")
    res.save(tmp_path / "run", overwrite=True)
    assert (tmp_path / "run" / "mine.txt").read_text() == "keep"
    with pytest.raises(ValueError, match="no desurv signature result"):
        SignatureResult.load(tmp_path)


# ----------------------------------------------------------------------------- bad input
def _catalogue_variants(breast21):
    bad = {}
    bad["transposed"] = (breast21.T, "channels as rows")
    neg = breast21.copy()
    neg.iloc[0, 0] = -1
    bad["negative"] = (neg, "negative counts")
    nan = breast21.copy()
    nan.iloc[0, 0] = np.nan
    bad["nan"] = (nan, "NaN")
    bad["missing channel"] = (breast21.drop(columns="A[C>A]A"), "lacks 1 of the 96")
    unknown = breast21.rename(columns={"A[C>A]A": "A[C>Z]A"})
    bad["unknown label"] = (unknown, "unknown channel label")
    empty = breast21.copy()
    empty.iloc[2] = 0
    bad["empty sample"] = (empty, "without any mutation")
    return bad


@pytest.mark.parametrize(
    "case",
    ["transposed", "negative", "nan", "missing channel", "unknown label", "empty sample"],
)
def test_bad_catalogues_are_one_clear_error(breast21, case):
    cat, match = _catalogue_variants(breast21)[case]
    with pytest.raises(ValueError, match=match):
        extract_signatures(cat, 2, n_restarts=1)


def test_non_integer_counts_are_refused_only_when_counts_are_required(breast21):
    frac = breast21 / 3.0
    check_catalogue(frac)  # normalised catalogues are fine for the API
    with pytest.raises(ValueError, match="non-integer counts"):
        check_catalogue(frac, require_counts=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_components": 22}, r"between 1 and 21"),
        ({"n_components": 0}, r"between 1 and 21"),
        ({"n_components": 2.5}, "integers"),
        ({"n_components": 3, "method": "pca"}, "method must be one of"),
        ({"n_components": 3, "consensus": "hierarchical"}, "consensus must be one of"),
        ({"rank_rule": "elbow"}, "rank_rule must be one of"),
        ({"n_components": 3, "n_restarts": 0}, "n_restarts"),
        ({"n_components": 3, "estimator_params": {"n_components": 4}}, "must not set"),
        ({"n_components": 3, "estimator_params": {"alpha": 1}}, "unknown NMF parameter"),
        ({"n_components": 3, "random_state": -1}, "random_state"),
        ({"n_components": 3, "random_state": "x"}, "random_state"),
        ({"ks": [2, 2]}, "repeated"),
        ({"ks": [2, 21]}, "k < n_samples"),
        ({"ks": [3]}, "at least two"),
        ({"ks": [2, 3], "rank_rule": "stability", "n_restarts": 1}, "n_restarts must be >= 2"),
        ({"n_components": 3, "stability_threshold": 2}, "stability_threshold"),
        ({"n_components": 3, "n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_parameters_are_one_clear_error(breast21, kwargs, match):
    with pytest.raises(ValueError, match=match):
        extract_signatures(breast21, **kwargs)


def test_reference_with_other_channels_or_too_few_signatures(breast21, cosmic):
    with pytest.raises(ValueError, match="other channels than the catalogue"):
        extract_signatures(breast21, 2, reference=cosmic.iloc[:90], n_restarts=1)
    with pytest.raises(ValueError, match="2 reference signatures"):
        extract_signatures(breast21, 3, reference=cosmic.iloc[:, :2], n_restarts=1)


def test_no_stable_rank_warns_and_uses_the_most_stable(breast21):
    with pytest.warns(DataWarning, match="no rank"):
        res = _quiet(
            extract_signatures,
            breast21,
            ks=[5, 6],
            rank_rule="stability",
            n_restarts=3,
            stability_threshold=1.0,
            min_stability=1.0,
            random_state=0,
        )
    t = res.rank_table
    assert not t["stable"].any()
    assert res.n_components == int(t.loc[t["stability"].idxmax(), "k"])
