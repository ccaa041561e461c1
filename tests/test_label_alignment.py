"""Labelled (pandas) inputs are paired by label, not position; fitted models are factor sets.

Signature tables from different sources (COSMIC, SigProfiler) list the 96 SBS channels in
different orders; gene tables from different cohorts list genes in different orders. Every
function that pairs the rows of two labelled inputs must align them by label.
"""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import desurv.benchmark.metrics as M
from desurv import NMF
from desurv._validation import align_rows
from desurv.decomposition import nnls
from desurv.evaluation import (
    average_cosine_similarity,
    consensus_factors,
    cosine_similarity,
    factor_stability,
    match_factors,
    match_factors_batched,
    match_to_reference,
)

COSMIC = Path("/work/shared/data/mutational/cosmic_v3.4_sbs96_grch37.tsv")


@pytest.fixture
def sigs():
    """Three distinct nonnegative signatures over 40 labelled channels, and a shuffled copy."""
    rng = np.random.default_rng(0)
    W = rng.gamma(0.5, size=(40, 3))
    W[:15, 0] *= 10
    W[15:30, 1] *= 10
    W[30:, 2] *= 10
    df = pd.DataFrame(W, index=[f"ch{i}" for i in range(40)], columns=["S1", "S2", "S3"])
    shuf = df.sample(frac=1, random_state=1)
    assert not shuf.index.equals(df.index)
    return df, shuf


# --------------------------------------------------------------------------- the helper
def test_align_rows_reorders_second_to_first(sigs):
    df, shuf = sigs
    a, b, labels = align_rows(df, shuf)
    assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
    assert labels.equals(df.index)
    np.testing.assert_array_equal(b, df.to_numpy())


def test_align_rows_positional_when_one_side_unlabelled(sigs):
    df, shuf = sigs
    arr = shuf.to_numpy()
    a, b, labels = align_rows(df, arr)
    assert labels is None and a is df and b is arr
    # a default RangeIndex carries no names: positional against a labelled frame
    plain = pd.DataFrame(arr)
    a, b, labels = align_rows(df, plain)
    assert labels is None and b is plain


def test_align_rows_shuffled_range_index_is_aligned():
    df = pd.DataFrame(np.arange(12.0).reshape(6, 2))
    shuf = df.sample(frac=1, random_state=0)
    _, b, labels = align_rows(df, shuf)
    np.testing.assert_array_equal(b, df.to_numpy())


def test_align_rows_different_labels_names_both_sides(sigs):
    df, shuf = sigs
    other = shuf.iloc[:37].rename(index={shuf.index[0]: "zz"})
    with pytest.raises(ValueError) as exc:
        align_rows(df, other, names=("W_fit", "W_true"), what="channels")
    msg = str(exc.value)
    assert "4 of W_fit's 40 channels are missing from W_true" in msg
    assert "1 of W_true's 37 channels are missing from W_fit" in msg
    assert "'zz'" in msg and "intersection" in msg and ".to_numpy()" in msg


def test_align_rows_duplicated_labels(sigs):
    df, shuf = sigs
    dup = shuf.rename(index={shuf.index[0]: shuf.index[1]})
    with pytest.raises(ValueError, match="duplicated"):
        align_rows(df, dup)


# --------------------------------------------------------------------------- matching
def test_matching_functions_align_by_label(sigs):
    df, shuf = sigs
    W = df.to_numpy()
    assert match_factors(df, shuf).acs == pytest.approx(1.0)
    assert average_cosine_similarity(df, shuf) == pytest.approx(1.0)
    np.testing.assert_allclose(cosine_similarity(df, shuf), cosine_similarity(W, W))
    # positional input is unchanged: the shuffled values are not the same signatures
    assert match_factors(W, shuf.to_numpy()).acs < 0.99
    assert match_factors(df, shuf.to_numpy()).acs < 0.99  # one side unlabelled: by position


def test_match_factors_label_mismatch_raises(sigs):
    df, shuf = sigs
    with pytest.raises(ValueError, match="missing from B"):
        match_factors(df, shuf.iloc[:-1])


def test_factor_match_align_returns_dataframe(sigs):
    df, shuf = sigs
    B = shuf[["S3", "S1", "S2"]]
    fm = match_factors(df, B)
    out = fm.align(B)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["S1", "S2", "S3"]
    pd.testing.assert_frame_equal(out, df)  # rows back in A's order
    arr = fm.align(B.to_numpy())
    assert isinstance(arr, np.ndarray)
    np.testing.assert_array_equal(arr, B.to_numpy()[:, fm.perm])


def test_batched_and_reference_align_by_label(sigs):
    df, shuf = sigs
    Bs = [shuf, df.sample(frac=1, random_state=5)[["S2", "S3", "S1"]]]
    res = match_factors_batched(df, Bs)
    np.testing.assert_allclose(res.acs, 1.0)
    res = match_to_reference(df, Bs)
    np.testing.assert_allclose(res.acs, 1.0)
    np.testing.assert_array_equal(res.perm[1], [2, 0, 1])
    # a list of frames aligned among themselves (first one is the anchor)
    stab = factor_stability([df, *Bs], reference="first")
    np.testing.assert_allclose(stab.similarity, 1.0)
    cons = consensus_factors([df, *Bs], random_state=0)
    np.testing.assert_allclose(cons.similarity, 1.0)
    with pytest.raises(ValueError, match="missing from Ws\\[1\\]"):
        match_to_reference(df, [shuf, shuf.iloc[:-2]])


# --------------------------------------------------------------------------- fitted models
@pytest.fixture
def X():
    rng = np.random.default_rng(3)
    return rng.gamma(1.0, size=(40, 3)) @ rng.gamma(0.5, size=(3, 25)) + 0.01


def _fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X)


def test_factor_stability_accepts_fitted_nmf(X):
    models = [_fit(NMF(n_components=3, random_state=s, max_iter=500), X) for s in range(4)]
    res = factor_stability(models, reference="first")
    stack = np.stack([m.components_.T for m in models])
    expected = factor_stability(stack, reference="first")
    np.testing.assert_array_equal(res.perm, expected.perm)
    np.testing.assert_allclose(res.similarity, expected.similarity)
    # the consensus reference too (the example of the user report)
    assert factor_stability(models, random_state=0).mean_silhouette > 0.5
    ref = match_to_reference(models[0].components_.T, models)
    assert ref.acs.shape == (4,) and ref.acs[0] == pytest.approx(1.0)


def test_factor_stability_accepts_sklearn_nmf(X):
    from sklearn.decomposition import NMF as SkNMF

    models = [_fit(SkNMF(n_components=3, random_state=s, max_iter=500), X) for s in range(3)]
    res = match_to_reference(models[0].components_.T, models)
    assert res.acs[0] == pytest.approx(1.0)
    assert factor_stability(models, reference="first").similarity.shape == (3, 3)


def test_fitted_models_with_feature_names_are_aligned(X):
    genes = [f"g{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=genes)
    rev = df[genes[::-1]]
    m1 = _fit(NMF(n_components=3, random_state=0, max_iter=500), df)
    m2 = _fit(NMF(n_components=3, random_state=0, max_iter=500), rev)
    ref = pd.DataFrame(m1.components_.T, index=genes)
    res = match_to_reference(ref, [m1, m2])
    np.testing.assert_allclose(res.acs, 1.0, atol=1e-6)


def test_unfitted_model_is_named():
    with pytest.raises(ValueError, match="unfitted NMF"):
        factor_stability([NMF(n_components=3)])


# --------------------------------------------------------------------------- metrics
def test_metrics_align_by_label(sigs):
    df, shuf = sigs
    rng = np.random.default_rng(2)
    H = pd.DataFrame(rng.gamma(1.0, size=(8, 3)), index=[f"s{i}" for i in range(8)])
    H.columns = df.columns
    X = H @ df.T  # samples × channels, labelled
    Xs = X[shuf.index]  # channels in another order
    assert M.signature_cosine(df, shuf) == pytest.approx(1.0)
    assert M.cosmic_cosine(df, shuf) == pytest.approx(1.0)
    np.testing.assert_allclose(M.cosine_matrix(df, shuf), M.cosine_matrix(df, df))
    ti, fi, _ = M.match_signatures(shuf[["S2", "S3", "S1"]], df)
    np.testing.assert_array_equal(fi, [2, 0, 1])
    np.testing.assert_allclose(M.nnls_exposures(Xs, df), H.to_numpy(), rtol=1e-6)
    assert M.reconstruction_error(Xs, shuf, H.sample(frac=1, random_state=0)) < 1e-12
    Hf = H[["S3", "S1", "S2"]].sample(frac=1, random_state=4)
    assert M.exposure_error(shuf, Hf, df, H) < 1e-12
    # positional (ndarray) input: unchanged behaviour, misaligned on purpose
    assert M.signature_cosine(df.to_numpy(), shuf.to_numpy()) < 0.99
    with pytest.raises(ValueError, match="missing from reference"):
        M.cosmic_cosine(df, shuf.iloc[:-1])


def test_nnls_aligns_rows(sigs):
    df, shuf = sigs
    x = df @ np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(nnls(df, x.sample(frac=1, random_state=0)), [1, 2, 3])
    B = pd.concat([x, 2 * x], axis=1).sample(frac=1, random_state=0)
    np.testing.assert_allclose(nnls(shuf, B.loc[df.index]), [[1, 2], [2, 4], [3, 6]])
    # one side unlabelled: positional, as before
    np.testing.assert_allclose(nnls(df, x.to_numpy()), [1, 2, 3])
    with pytest.raises(ValueError, match="missing from B"):
        nnls(df, x.iloc[1:])


@pytest.mark.skipif(not COSMIC.exists(), reason="COSMIC table not available")
def test_user_report_cosmic_shuffled():
    from desurv.datasets import read_signatures

    cosmic = read_signatures(COSMIC)
    S = cosmic[["SBS1", "SBS3", "SBS5"]]
    shuf = cosmic.sample(frac=1, random_state=0)
    assert match_factors(S, shuf).acs == pytest.approx(1.0)
    assert M.cosmic_cosine(S, shuf) == pytest.approx(1.0)
    assert M.signature_cosine(S, shuf[["SBS1", "SBS3", "SBS5"]]) == pytest.approx(1.0)
