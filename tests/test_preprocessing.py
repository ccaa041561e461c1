"""Tests for desurv.preprocessing."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata

from desurv.exceptions import DataWarning
from desurv.preprocessing import Preprocessor, align_genes, filter_genes, rank_transform

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "expression"


def _frame(values, genes=None, samples=None):
    values = np.asarray(values, dtype=float)
    genes = genes or [f"G{j}" for j in range(values.shape[1])]
    samples = samples or [f"S{i}" for i in range(values.shape[0])]
    return pd.DataFrame(values, index=samples, columns=genes)


def _r_gene_filter(X, n_genes):
    """Independent transcription of R's gene_filter() with pandas (gene names, R order)."""
    mean = X.mean(axis=0)
    var = X.var(axis=0, ddof=1)
    combined = mean.rank(ascending=False, method="average") + var.rank(
        ascending=False, method="average"
    )
    pos = {g: i for i, g in enumerate(X.columns)}
    ordered = sorted(X.columns, key=lambda g: (combined[g], pos[g]))
    return ordered[:n_genes]


# ----------------------------------------------------------------------------- rank_transform
def test_rank_transform_known_answer_with_ties():
    X = np.array([[3.0, 1.0, 2.0, 2.0], [-1.0, -1.0, -1.0, 5.0]])
    expected = np.array([[4.0, 1.0, 2.5, 2.5], [2.0, 2.0, 2.0, 4.0]])
    out = rank_transform(X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, expected)


def test_rank_transform_matches_scipy_and_keeps_labels():
    rng = np.random.default_rng(0)
    X = _frame(np.round(rng.normal(size=(7, 30)), 1))
    out = rank_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(X.index) and out.columns.equals(X.columns)
    np.testing.assert_array_equal(out.to_numpy(), rankdata(X.to_numpy(), axis=1))
    assert out.dtypes.eq(np.float64).all()


def test_rank_transform_errors():
    with pytest.raises(ValueError, match="NaN"):
        rank_transform(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="infinite"):
        rank_transform(np.array([[1.0, np.inf], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="2-D"):
        rank_transform(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="non-numeric"):
        rank_transform(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}))


# ----------------------------------------------------------------------------- gene filter
def test_filter_genes_known_answer():
    # means: a=1 b=10 c=5 d=5 ; variances (n-1): a=200 b=0 c=2 d=0.5
    X = _frame(
        [[-9.0, 10.0, 4.0, 4.5], [11.0, 10.0, 6.0, 5.5]],
        genes=["a", "b", "c", "d"],
    )
    # mean ranks (desc): b=1, c=d=2.5, a=4 ; var ranks (desc): a=1, c=2, d=3, b=4
    # combined: a=5, b=5, c=4.5, d=5.5 -> c first, then a, b tie (a first: input order)
    out, idx = filter_genes(X, 2, return_indices=True)
    assert list(out.columns) == ["a", "c"]  # returned in input order
    np.testing.assert_array_equal(idx, [0, 2])
    assert list(filter_genes(X, 3).columns) == ["a", "b", "c"]
    assert filter_genes(X, 10).shape == (2, 4)


def test_filter_genes_ties_keep_input_order():
    # four identical genes: every combined rank ties, the first ones are kept
    X = _frame(np.tile([[1.0], [2.0], [4.0]], (1, 4)), genes=["w", "x", "y", "z"])
    assert list(filter_genes(X, 2).columns) == ["w", "x"]


@pytest.mark.parametrize("seed", range(5))
def test_filter_genes_matches_r_rule(seed):
    rng = np.random.default_rng(seed)
    values = np.round(rng.gamma(2.0, 1.0, size=(20, 200)), 1)  # rounding -> ties
    X = _frame(values)
    kept = filter_genes(X, 37)
    assert set(kept.columns) == set(_r_gene_filter(X, 37))
    assert list(kept.columns) == [c for c in X.columns if c in set(kept.columns)]
    arr = filter_genes(values, 37)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_array_equal(arr, kept.to_numpy())


def test_filter_genes_groups_intersect_per_cohort():
    rng = np.random.default_rng(3)
    X = _frame(rng.gamma(2.0, 1.0, size=(30, 100)))
    groups = np.repeat(["A", "B"], 15)
    kept = filter_genes(X, 40, groups=groups)
    expected = set(_r_gene_filter(X.iloc[:15], 40)) & set(_r_gene_filter(X.iloc[15:], 40))
    assert set(kept.columns) == expected
    assert len(expected) < 40


def test_filter_genes_errors():
    X = _frame([[1.0, 2.0], [3.0, 5.0]])
    for bad in (0, -1, 2.5, None, True):
        with pytest.raises(ValueError, match="n_genes"):
            filter_genes(X, bad)
    with pytest.raises(ValueError, match="at least 2 samples"):
        filter_genes(X.iloc[:1], 1)
    with pytest.raises(ValueError, match="groups"):
        filter_genes(X, 1, groups=["a"])
    with pytest.raises(ValueError, match="NaN"):
        filter_genes(_frame([[1.0, np.nan], [3.0, 5.0]]), 1)
    # cohort A: gene 1 has the higher mean, gene 0 the higher variance -> tie, gene 0 kept;
    # cohort B: gene 1 has both the higher mean and variance -> gene 1 kept; no common gene
    Z = _frame([[0.0, 9.0], [1.0, 9.0], [0.0, 9.0], [0.0, 12.0]])
    with pytest.raises(ValueError, match="no gene is among the top n_genes of every cohort"):
        filter_genes(Z, 1, groups=["A", "A", "B", "B"])


# ----------------------------------------------------------------------------- align_genes
def test_align_genes_reorders_and_drops_extra():
    X = _frame([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], genes=["c", "a", "b"])
    out = align_genes(X, ["a", "b"])
    assert list(out.columns) == ["a", "b"]
    np.testing.assert_array_equal(out.to_numpy(), [[2.0, 3.0], [5.0, 6.0]])
    assert out.index.equals(X.index)


def test_align_genes_missing_error_and_fill():
    X = _frame([[1.0, 2.0], [3.0, 4.0]], genes=["a", "b"])
    genes = ["a", "m1", "b", "m2", "m3", "m4", "m5", "m6", "m7"]
    with pytest.raises(ValueError, match=r"7 of 9 model genes are missing.*'m1', 'm2'"):
        align_genes(X, genes)
    with pytest.warns(DataWarning, match="7 of 9 model genes are missing"):
        out = align_genes(X, genes, fill_value=0.0)
    assert list(out.columns) == genes
    assert out["m1"].eq(0.0).all() and out["b"].tolist() == [2.0, 4.0]


def test_align_genes_duplicates_and_type_errors():
    X = pd.DataFrame([[1.0, 2.0, 3.0]], columns=["a", "a", "b"])
    with pytest.raises(ValueError, match="duplicated gene name"):
        align_genes(X, ["a", "b"])
    with pytest.raises(ValueError, match="genes has duplicated"):
        align_genes(_frame([[1.0, 2.0]], genes=["a", "b"]), ["a", "a"])
    with pytest.raises(ValueError, match="DataFrame"):
        align_genes(np.ones((2, 2)), ["a", "b"])


# ----------------------------------------------------------------------------- Preprocessor
def test_preprocessor_fit_transform_dataframe():
    rng = np.random.default_rng(1)
    X = _frame(rng.normal(size=(12, 50)))
    pre = Preprocessor(transform="rank", n_genes=10)
    out = pre.fit_transform(X)
    expected_genes = [c for c in X.columns if c in set(_r_gene_filter(X, 10))]
    assert list(pre.genes_) == expected_genes
    assert pre.n_genes_ == 10 and pre.n_features_in_ == 50
    assert list(out.columns) == expected_genes and out.index.equals(X.index)
    # filter on raw values, then rank over the kept genes only
    np.testing.assert_array_equal(out.to_numpy(), rankdata(X[expected_genes].to_numpy(), axis=1))
    # a new cohort with shuffled and extra columns is aligned by name
    new = X.iloc[:4, ::-1].copy()
    new["EXTRA"] = 1.0
    np.testing.assert_array_equal(pre.transform(new).to_numpy(), out.iloc[:4].to_numpy())


def test_preprocessor_array_input_and_all_genes():
    rng = np.random.default_rng(2)
    X = rng.gamma(2.0, 1.0, size=(8, 20))
    pre = Preprocessor(transform="none").fit(X)
    assert pre.n_genes_ == 20
    np.testing.assert_array_equal(pre.genes_, np.arange(20))
    out = pre.transform(X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, X)
    pre5 = Preprocessor(n_genes=5).fit(X)
    np.testing.assert_array_equal(pre5.genes_, filter_genes(X, 5, return_indices=True)[1])
    assert pre5.transform(X).shape == (8, 5)
    with pytest.raises(ValueError, match="X has 19 genes but the Preprocessor was fitted on 20"):
        pre5.transform(X[:, :19])


def test_preprocessor_none_rejects_negative_values():
    X = _frame([[1.0, -2.0], [3.0, 4.0]])
    # rejected at fit already (the kept genes have negative values) ...
    with pytest.raises(ValueError, match=r"negative values.*transform='rank'"):
        Preprocessor(transform="none").fit(X)
    # ... and in transform, for a cohort with negative values
    pre = Preprocessor(transform="none").fit(X.abs())
    with pytest.raises(ValueError, match=r"negative values.*transform='rank'"):
        pre.transform(X)
    # negative values only in genes the filter drops are fine
    Xd = _frame([[1.0, 5.0, -1e-3], [3.0, 9.0, -2e-3], [2.0, 7.0, -1e-3]])
    assert Preprocessor(transform="none", n_genes=2).fit(Xd).n_genes_ == 2
    # rank transform makes it usable
    assert (Preprocessor(transform="rank").fit_transform(X).to_numpy() > 0).all()


def test_preprocessor_transform_errors():
    X = _frame([[1.0, 2.0, 3.0], [4.0, 6.0, 5.0]], genes=["a", "b", "c"])
    pre = Preprocessor()
    with pytest.raises(ValueError, match="not fitted"):
        pre.transform(X)
    pre.fit(X)
    with pytest.raises(ValueError, match="1 of 3 model genes are missing"):
        pre.transform(X[["a", "b"]])
    with pytest.warns(DataWarning):
        out = pre.transform(X[["a", "b"]], fill_value=0.0)
    np.testing.assert_array_equal(out.to_numpy(), [[2.0, 3.0, 1.0], [2.0, 3.0, 1.0]])
    with pytest.raises(ValueError, match="NaN"):
        pre.transform(X.assign(a=[np.nan, 1.0]))
    with pytest.raises(ValueError, match="duplicated gene name"):
        Preprocessor().fit(pd.DataFrame([[1.0, 2.0], [3.0, 1.0]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="transform must be one of"):
        Preprocessor(transform="log").fit(X)
    with pytest.raises(ValueError, match="n_genes"):
        Preprocessor(n_genes=0).fit(X)
    # an ndarray given to a name-fitted preprocessor is taken positionally
    np.testing.assert_array_equal(pre.transform(X.to_numpy()), rankdata(X.to_numpy(), axis=1))


@pytest.mark.parametrize("as_frame", [True, False])
def test_preprocessor_to_dict_from_dict_json_roundtrip(as_frame):
    rng = np.random.default_rng(4)
    values = rng.normal(size=(9, 30))
    X = _frame(values) if as_frame else values
    pre = Preprocessor(transform="rank", n_genes=7).fit(X)
    state = json.loads(json.dumps(pre.to_dict()))
    back = Preprocessor.from_dict(state)
    assert back.get_params() == pre.get_params()
    np.testing.assert_array_equal(back.gene_indices_, pre.gene_indices_)
    assert list(back.genes_) == list(pre.genes_)
    a, b = pre.transform(X), back.transform(X)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    if as_frame:
        assert list(b.columns) == list(a.columns)
    # unfitted round trip
    unfitted = Preprocessor.from_dict(json.loads(json.dumps(Preprocessor(n_genes=3).to_dict())))
    assert unfitted.get_params() == {"transform": "rank", "n_genes": 3}
    assert not hasattr(unfitted, "genes_")


def test_preprocessor_from_dict_errors():
    with pytest.raises(ValueError, match="not a desurv.Preprocessor"):
        Preprocessor.from_dict({"format": "other"})
    state = Preprocessor().fit(np.ones((3, 2)) + np.eye(3, 2)).to_dict()
    with pytest.raises(ValueError, match="version"):
        Preprocessor.from_dict({**state, "version": 99})
    with pytest.raises(ValueError, match="malformed"):
        Preprocessor.from_dict({**state, "params": {}})
    bad = json.loads(json.dumps(state))
    bad["fitted"]["gene_indices"] = [0, 5]
    with pytest.raises(ValueError, match="out of range"):
        Preprocessor.from_dict(bad)


def test_preprocessor_params_and_sklearn_clone():
    from sklearn.base import clone

    pre = Preprocessor(transform="none", n_genes=4)
    assert pre.get_params() == {"transform": "none", "n_genes": 4}
    assert pre.transform_method == "none"
    assert callable(pre.transform)
    pre.set_params(transform="rank", n_genes=5)
    assert pre.get_params() == {"transform": "rank", "n_genes": 5}
    twin = clone(pre)
    assert twin.get_params() == pre.get_params() and twin is not pre
    with pytest.raises(ValueError, match="(?i)invalid parameter"):
        pre.set_params(alpha=1)
    # scikit-learn's repr: only the parameters that differ from the defaults
    assert "Preprocessor(n_genes=5)" == repr(pre)
    assert "Preprocessor(transform='none')" == repr(Preprocessor(transform="none"))


def test_preprocessor_groups():
    rng = np.random.default_rng(5)
    X = _frame(rng.gamma(2.0, 1.0, size=(20, 60)))
    groups = np.repeat([0, 1], 10)
    pre = Preprocessor(n_genes=25).fit(X, groups=groups)
    assert list(pre.genes_) == list(filter_genes(X, 25, groups=groups).columns)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real_cohorts():
    paths = {c: DATA / f"{c}.expression.tsv.gz" for c in ("gse4335", "gse1992")}
    if not all(p.is_file() for p in paths.values()):
        pytest.skip(f"shared expression data not found under {DATA.resolve()}")
    from desurv.datasets import read_expression

    return {c: read_expression(p) for c, p in paths.items()}


def test_real_cohort_train_and_validate(real_cohorts):
    train, val = real_cohorts["gse4335"], real_cohorts["gse1992"]
    pre = Preprocessor(transform="rank", n_genes=1000).fit(train)
    assert set(pre.genes_) == set(_r_gene_filter(train, 1000))
    Xt = pre.transform(train)
    assert Xt.shape == (115, 1000)
    np.testing.assert_allclose(Xt.sum(axis=1), 1000 * 1001 / 2)
    # the raw log-ratios are negative: transform="none" must refuse them
    with pytest.raises(ValueError, match="transform='rank'"):
        Preprocessor(transform="none", n_genes=1000).fit_transform(train)
    # validation cohort: some training genes are absent there
    missing = set(pre.genes_) - set(val.columns)
    assert missing
    with pytest.raises(ValueError, match=f"{len(missing)} of 1000 model genes are missing"):
        pre.transform(val)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        Xv = pre.transform(val, fill_value=0.0)
    assert Xv.shape == (124, 1000) and list(Xv.columns) == list(pre.genes_)
    # a preprocessor fitted on the shared genes needs no filling
    shared = train.columns.intersection(val.columns)
    pre2 = Preprocessor(n_genes=500).fit(train[shared])
    assert pre2.transform(val).shape == (124, 500)


def test_rank_transform_needs_at_least_two_genes():
    X = pd.DataFrame(np.arange(12.0).reshape(4, 3) ** 2, columns=list("abc"))
    msg = "within-sample rank of a single gene is constant; keep at least 2 genes"
    with pytest.raises(ValueError, match=msg):
        Preprocessor(transform="rank", n_genes=1).fit(X)
    with pytest.raises(ValueError, match=msg):
        Preprocessor(transform="rank").fit(X[["a"]])
    assert Preprocessor(transform="none", n_genes=1).fit(X).n_genes_ == 1
    assert Preprocessor(transform="rank", n_genes=2).fit(X).n_genes_ == 2
