"""Hungarian matching, cosine matching, stability and consensus (desurv.evaluation.matching)."""

import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment as scipy_lsa
from sklearn.metrics import silhouette_samples
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from desurv import evaluation as m
from desurv._kernels import _hungarian
from desurv._reference import hungarian as ref
from desurv.evaluation import consensus, matching
from desurv.exceptions import ConvergenceWarning, DataWarning


def _total(cost, rows, cols):
    return float(np.asarray(cost, float)[rows, cols].sum())


def _check_valid(cost, rows, cols):
    nr, nc = np.shape(cost)
    assert rows.shape == cols.shape == (min(nr, nc),)
    assert rows.dtype == cols.dtype == np.int64
    assert np.all(np.diff(rows) > 0)  # sorted, distinct
    assert len(set(cols.tolist())) == cols.size
    assert rows.min(initial=0) >= 0 and (rows.size == 0 or rows.max() < nr)
    assert cols.min(initial=0) >= 0 and (cols.size == 0 or cols.max() < nc)


def _planted_fits(rng, n_fits=12, p=80, k=4, noise=0.15):
    """Noisy, column-permuted, rescaled copies of one planted W; returns (W, fits, perms)."""
    W = rng.gamma(0.4, 1.0, size=(p, k))
    fits, perms = [], []
    for _ in range(n_fits):
        perm = rng.permutation(k)
        fits.append(W[:, perm] * rng.uniform(0.3, 3.0, k) + noise * rng.uniform(size=(p, k)))
        perms.append(perm)
    return W, np.stack(fits), np.stack(perms)


# ----------------------------------------------------------------------- Hungarian vs scipy
SHAPES = [(1, 1), (1, 5), (5, 1), (3, 3), (4, 7), (7, 4), (10, 10), (6, 12), (25, 25), (9, 40)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("maximize", [False, True])
def test_lsa_matches_scipy_on_random_matrices(shape, maximize):
    rng = np.random.default_rng(sum(shape) + 100 * maximize)
    for _ in range(20):
        cost = rng.normal(size=shape) * rng.choice([1e-6, 1.0, 1e6])
        rows, cols = m.linear_sum_assignment(cost, maximize=maximize)
        r_s, c_s = scipy_lsa(cost, maximize=maximize)
        _check_valid(cost, rows, cols)
        # continuous random costs: the optimum is unique, so the assignment must agree
        np.testing.assert_array_equal(rows, r_s)
        np.testing.assert_array_equal(cols, c_s)


def _degenerate_matrices(rng):
    """Matrices with many optimal assignments: ties, repeated rows/columns, rank one."""
    out = [
        np.zeros((4, 4)),
        np.ones((3, 6)),
        np.full((6, 3), -2.5),
        np.eye(5),
        1.0 - np.eye(5),
        np.tile(np.arange(5.0), (5, 1)),  # every row identical
        np.tile(np.arange(4.0)[:, None], (1, 6)),  # every column identical
        np.outer(np.arange(1.0, 5.0), np.arange(1.0, 7.0)),  # rank one
        np.array([[1e300, -1e300], [-1e300, 1e300]]),
    ]
    for _ in range(60):
        nr, nc = rng.integers(1, 7, size=2)
        out.append(rng.integers(0, 3, size=(nr, nc)).astype(float))
        out.append(rng.choice([0.0, 1.0, 1e-9, -5.0], size=(nr, nc)))
    return out


@pytest.mark.parametrize("maximize", [False, True])
def test_lsa_degenerate_matrices_optimal_like_scipy_and_brute_force(maximize):
    rng = np.random.default_rng(3)
    for cost in _degenerate_matrices(rng):
        rows, cols = m.linear_sum_assignment(cost, maximize=maximize)
        _check_valid(cost, rows, cols)
        r_s, c_s = scipy_lsa(cost, maximize=maximize)
        assert _total(cost, rows, cols) == pytest.approx(_total(cost, r_s, c_s), rel=1e-12)
        sign = -1.0 if maximize else 1.0
        best, optimal = ref.lsa_bruteforce(sign * cost)
        assert sign * _total(cost, rows, cols) == pytest.approx(best, rel=1e-12)
        assert tuple(zip(rows.tolist(), cols.tolist(), strict=True)) in optimal


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.integers(-3, 3).map(float),
    )
)
def test_lsa_property_optimal_total_cost(cost):
    rows, cols = m.linear_sum_assignment(cost)
    _check_valid(cost, rows, cols)
    best, optimal = ref.lsa_bruteforce(cost)
    assert _total(cost, rows, cols) == best
    assert tuple(zip(rows.tolist(), cols.tolist(), strict=True)) in optimal


def test_lsa_empty_and_accepts_integer_and_lists():
    for shape in [(0, 0), (0, 3), (3, 0)]:
        rows, cols = m.linear_sum_assignment(np.zeros(shape))
        r_s, c_s = scipy_lsa(np.zeros(shape))
        assert rows.size == cols.size == r_s.size == 0
    rows, cols = m.linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    np.testing.assert_array_equal(cols, [1, 0, 2])  # textbook example, total 5


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN or infinite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), "NaN or infinite"),
        (np.array([[1.0, -np.inf], [0.0, 1.0]]), "NaN or infinite"),
        (np.ones(3), "2-D"),
        (np.ones((2, 2, 2)), "2-D"),
        (np.array([["a", "b"]]), "numeric"),
    ],
)
def test_lsa_rejects_bad_cost(bad, match):
    with pytest.raises(ValueError, match=match):
        m.linear_sum_assignment(bad)


@pytest.mark.parametrize("shape", [(5, 5), (3, 8), (8, 3), (1, 4)])
@pytest.mark.parametrize("maximize", [False, True])
def test_lsa_batched_equals_loop_of_single(shape, maximize):
    rng = np.random.default_rng(11)
    costs = rng.integers(0, 4, size=(200, *shape)).astype(float)  # many ties
    costs[::2] = rng.normal(size=(100, *shape))
    rows, cols = m.linear_sum_assignment_batched(costs, maximize=maximize)
    for b in range(costs.shape[0]):
        r1, c1 = m.linear_sum_assignment(costs[b], maximize=maximize)
        np.testing.assert_array_equal(rows[b], r1)
        np.testing.assert_array_equal(cols[b], c1)
    with pytest.raises(ValueError, match="3-D"):
        m.linear_sum_assignment_batched(costs[0])
    bad = costs.copy()
    bad[3, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        m.linear_sum_assignment_batched(bad)


def test_kernel_reports_no_failures_and_leaves_no_unassigned_row():
    rng = np.random.default_rng(0)
    costs = rng.normal(size=(50, 6, 9))
    col4row = np.full((50, 6), -5, np.int64)
    assert _hungarian.lsa_batched(costs, col4row) == 0
    assert col4row.min() >= 0


# ----------------------------------------------------------------------- cosine matching
def test_cosine_similarity_matches_references():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(30, 4)), rng.gamma(1.0, size=(30, 6))
    S = m.cosine_similarity(A, B)
    np.testing.assert_allclose(S, ref.cosine_similarity_ref(A, B), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(S, sk_cosine(A.T, B.T), rtol=1e-13, atol=1e-15)


def test_match_recovers_permutation_of_rescaled_copy_and_acs_is_one():
    rng = np.random.default_rng(2)
    A = rng.gamma(0.5, size=(50, 6))
    perm = rng.permutation(6)
    B = A[:, perm] * rng.uniform(0.01, 100.0, size=6)  # permuted and rescaled
    res = m.match_factors(A, B)
    np.testing.assert_array_equal(perm[res.perm], np.arange(6))
    np.testing.assert_allclose(res.similarity, 1.0, rtol=1e-13)
    assert m.average_cosine_similarity(A, B) == pytest.approx(1.0, rel=1e-13)
    ratio = res.align(B) / A  # aligned columns are positive multiples of A's columns
    np.testing.assert_allclose(ratio, np.tile(ratio[0], (50, 1)), rtol=1e-12)
    assert sorted(res.perm.tolist()) == list(range(6))


def test_match_rectangular_picks_the_matching_subset():
    rng = np.random.default_rng(4)
    A = rng.gamma(0.5, size=(40, 3))
    extra = rng.gamma(0.5, size=(40, 5))
    B = np.column_stack([extra[:, :2], A[:, 2], extra[:, 2:], A[:, 0], A[:, 1]])
    res = m.match_factors(A, B)
    np.testing.assert_array_equal(res.perm, [6, 7, 2])
    assert res.similarity_matrix.shape == (3, 8)
    np.testing.assert_allclose(res.similarity, 1.0, rtol=1e-13)


def test_match_agrees_with_scipy_reference():
    rng = np.random.default_rng(5)
    for k, kb in [(1, 1), (3, 3), (4, 9), (10, 10)]:
        for _ in range(20):
            A, B = rng.normal(size=(25, k)), rng.normal(size=(25, kb))
            res = m.match_factors(A, B)
            perm, sim = ref.match_factors_ref(A, B)
            np.testing.assert_array_equal(res.perm, perm)
            np.testing.assert_allclose(res.similarity, sim, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batched_matching_equals_loop_of_single(dtype):
    rng = np.random.default_rng(6)
    n, p, k, kb = 300, 20, 5, 7
    A = rng.gamma(0.5, size=(n, p, k)).astype(dtype)
    B = rng.gamma(0.5, size=(n, p, kb)).astype(dtype)
    B[:100, :, :k] = A[:100] * 2.0  # some pairs with an exact match, ties in cosine = 1
    res = m.match_factors_batched(A, B)
    assert res.perm.shape == res.similarity.shape == (n, k)
    for b in range(n):
        single = m.match_factors(A[b], B[b])
        np.testing.assert_array_equal(res.perm[b], single.perm)
        np.testing.assert_array_equal(res.similarity[b], single.similarity)
        assert len(set(res.perm[b].tolist())) == k
    np.testing.assert_allclose(res.acs, res.similarity.mean(axis=1))
    # float32 inputs are accumulated in float64: exact copies still give cosine 1
    np.testing.assert_allclose(res.similarity[:100], 1.0, rtol=1e-13)


def test_batched_kernel_gives_identical_results_when_run_from_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(21)
    A = rng.gamma(0.5, size=(400, 15, 6))
    B = rng.gamma(0.5, size=(400, 15, 6))
    whole = m.match_factors_batched(A, B)
    chunks = [slice(i, i + 100) for i in range(0, 400, 100)]
    with ThreadPoolExecutor(max_workers=4) as pool:  # nogil kernel, private work arrays
        parts = list(pool.map(lambda c: m.match_factors_batched(A[c], B[c]), chunks))
    np.testing.assert_array_equal(np.concatenate([r.perm for r in parts]), whole.perm)
    np.testing.assert_array_equal(np.concatenate([r.similarity for r in parts]), whole.similarity)


def test_shared_reference_and_match_to_reference():
    rng = np.random.default_rng(7)
    W, fits, perms = _planted_fits(rng, noise=0.0)
    res = m.match_factors_batched(W, fits)
    np.testing.assert_array_equal(
        res.perm, np.stack([np.argsort(pm) for pm in perms])
    )  # fit column argsort(perm)[f] holds W's factor f
    np.testing.assert_allclose(res.similarity, 1.0, rtol=1e-13)

    class Fitted:  # anything with W_ (DeSurv) or W (DeSurvResult) is accepted
        def __init__(self, W):
            self.W_ = W

    res2 = m.match_to_reference(W, [Fitted(f) for f in fits])
    np.testing.assert_array_equal(res2.perm, res.perm)
    ratio = res.align(fits) / W  # (n_fits, p, k): constant along genes
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1, :], ratio.shape), rtol=1e-12)


@pytest.mark.parametrize(
    "A, B, match",
    [
        (np.ones((5, 4)), np.ones((5, 3)), "more factors"),
        (np.ones((5, 2)), np.ones((6, 2)), "different numbers of genes"),
        (np.array([[np.nan, 1.0], [1.0, 1.0]]), np.ones((2, 2)), "NaN"),
        (np.ones((2, 2)), np.array([[np.inf, 1.0], [1.0, 1.0]]), "NaN"),
        (np.ones((0, 2)), np.ones((0, 2)), "empty"),
        (np.ones((3, 0)), np.ones((3, 2)), "empty"),
        (np.ones(3), np.ones((3, 1)), "2-D"),
    ],
)
def test_match_factors_errors(A, B, match):
    with pytest.raises(ValueError, match=match):
        m.match_factors(A, B)


@pytest.mark.parametrize(
    "A, B, match",
    [
        (np.ones((4, 5, 3)), np.ones((4, 5, 2)), "more factors"),
        (np.ones((4, 5, 2)), np.ones((4, 6, 2)), "different numbers of genes"),
        (np.ones((3, 5, 2)), np.ones((4, 5, 2)), "one A per pair"),
        (np.ones((4, 5, 2)), np.ones((5, 2)), "3-D"),
        (np.ones((0, 5, 2)), np.ones((0, 5, 2)), "empty"),
        (np.ones((5, 2)), np.full((3, 5, 2), np.nan), "NaN"),
    ],
)
def test_match_factors_batched_errors(A, B, match):
    with pytest.raises(ValueError, match=match):
        m.match_factors_batched(A, B)


def test_zero_norm_column_warns_and_has_zero_cosine():
    A = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    B = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    with pytest.warns(DataWarning, match="zero norm"):
        res = m.match_factors(A, B)
    np.testing.assert_array_equal(res.perm, [0, 1])
    assert res.similarity[1] == 0.0
    with pytest.warns(DataWarning, match="zero norm"):
        m.match_factors_batched(A, B[None])


@pytest.mark.parametrize(
    "p, k, kb",
    [
        (1, 1, 1),  # a single gene and factor
        (7, 3, 5),  # odd k and k': the 2 x 2 Gram tiles have edges
        (96, 10, 10),  # one gene block (mutational signature channels)
        (500, 10, 10),  # several gene blocks and a partial last block
        (301, 3, 8),  # larger blocks for small k
        (200, 40, 41),  # many factors: small blocks, odd k'
    ],
)
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_gene_blocks_and_tiles_match_scipy_reference(p, k, kb, shared, dtype):
    rng = np.random.default_rng(p + 7 * k + kb)
    n = 6
    B = rng.gamma(0.5, size=(n, p, kb)).astype(dtype)
    A = rng.gamma(0.5, size=(1 if shared else n, p, k)).astype(dtype)
    perm = np.empty((n, k), np.int64)
    sim = np.empty((n, k))
    status = np.full(n, 7, np.int8)
    assert _hungarian.match_cosine_batched(A, B, perm, sim, status) == 0
    np.testing.assert_array_equal(status, 0)
    for b in range(n):
        a = A[0 if shared else b].astype(np.float64)
        S = ref.cosine_similarity_ref(a, B[b].astype(np.float64))
        p_ref, s_ref = ref.match_factors_ref(a, B[b].astype(np.float64))
        assert S[np.arange(k), perm[b]].sum() == pytest.approx(s_ref.sum(), rel=1e-12)
        np.testing.assert_array_equal(perm[b], p_ref)  # continuous data: unique optimum
        np.testing.assert_allclose(sim[b], s_ref, rtol=1e-12, atol=1e-14)


def test_kernel_detects_nan_zero_column_and_inf_in_a_later_gene_block():
    rng = np.random.default_rng(23)
    n, p, k = 5, 400, 10  # several gene blocks
    A = rng.gamma(0.5, size=(n, p, k))
    B = rng.gamma(0.5, size=(n, p, k))
    B[1, 397, 4] = np.nan  # in the last block only
    A[2, 250, 9] = np.inf
    B[3, :, 0] = 0.0
    A[4, :, 3] = 0.0
    perm = np.empty((n, k), np.int64)
    sim = np.empty((n, k))
    status = np.zeros(n, np.int8)
    assert _hungarian.match_cosine_batched(A, B, perm, sim, status) == 2
    np.testing.assert_array_equal(status, [0, 1, 1, 2, 2])
    assert np.all(perm[1:3] == -1) and np.all(np.isnan(sim[1:3]))
    for b in (0, 3, 4):
        p_ref, s_ref = ref.match_factors_ref(A[b], B[b])
        np.testing.assert_allclose(sim[b], s_ref, rtol=1e-12, atol=1e-15)
        # zero columns tie at cosine 0: any optimal assignment is fine
        S = ref.cosine_similarity_ref(A[b], B[b])
        assert S[np.arange(k), perm[b]].sum() == pytest.approx(s_ref.sum(), rel=1e-12)
        assert len(set(perm[b].tolist())) == k
    # the shared-reference path flags every pair when the reference has a NaN
    A1 = A[:1].copy()
    A1[0, 300, 2] = np.nan
    assert _hungarian.match_cosine_batched(A1, B[[0, 3]], perm[:2], sim[:2], status[:2]) == 2
    np.testing.assert_array_equal(status[:2], [1, 3])  # pair 2 also has a zero column


def test_kernel_status_flags_and_nonfinite_detection():
    rng = np.random.default_rng(19)
    A = rng.gamma(0.5, size=(5, 8, 2))
    B = rng.gamma(0.5, size=(5, 8, 3))
    B[1, 3, 2] = np.nan
    A[2, 0, 0] = -np.inf
    B[3, :, 1] = 0.0
    perm = np.empty((5, 2), np.int64)
    sim = np.empty((5, 2))
    status = np.full(5, 9, np.int8)
    assert _hungarian.match_cosine_batched(A, B, perm, sim, status) == 2
    np.testing.assert_array_equal(status, [0, 1, 1, 2, 0])
    for b in (0, 3, 4):
        p_ref, s_ref = ref.match_factors_ref(A[b], B[b])
        np.testing.assert_array_equal(perm[b], p_ref)
        np.testing.assert_allclose(sim[b], s_ref, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"NaN or infinite values \(pairs \[1, 2\]\)"):
        m.match_factors_batched(A, B)


def test_huge_finite_entries_do_not_overflow():
    rng = np.random.default_rng(20)
    A = rng.gamma(0.5, size=(30, 3))
    B = A[:, [2, 0, 1]] * 1e200  # sums of squares overflow: rescaled and solved again
    res = m.match_factors(A, B)
    np.testing.assert_array_equal(res.perm, [1, 2, 0])
    np.testing.assert_allclose(res.similarity, 1.0, rtol=1e-12)
    np.testing.assert_allclose(res.similarity_matrix, ref.cosine_similarity_ref(A, B / 1e200))
    batched = m.match_factors_batched(A, np.stack([B, A * 1e-300]))
    np.testing.assert_array_equal(batched.perm, [[1, 2, 0], [0, 1, 2]])
    np.testing.assert_allclose(batched.similarity, 1.0, rtol=1e-12)


def test_ragged_or_empty_collections_rejected():
    with pytest.raises(ValueError, match="same shape"):
        m.match_to_reference(np.ones((4, 2)), [np.ones((4, 2)), np.ones((5, 2))])
    with pytest.raises(ValueError, match="empty"):
        m.consensus_factors([])
    with pytest.raises(ValueError, match="single 2-D factor set"):
        m.consensus_factors(np.ones((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        m.consensus_factors([np.full((4, 2), np.nan)])


def test_collections_of_dataframes_are_arrays_not_models():
    import pandas as pd

    rng = np.random.default_rng(22)
    fits = rng.gamma(0.5, size=(3, 10, 2))
    frames = [pd.DataFrame(f, columns=["W", "W_"]) for f in fits]  # column names must not matter
    res = m.match_to_reference(fits[0], frames)
    np.testing.assert_array_equal(res.perm, m.match_factors_batched(fits[0], fits).perm)


# ----------------------------------------------------------------------- silhouette
def test_cosine_silhouette_matches_sklearn_and_definition():
    rng = np.random.default_rng(8)
    X = np.vstack([rng.gamma(1.0, size=(10, 15)) + 3 * np.eye(15)[c] for c in range(3)])
    X = np.vstack([X, rng.normal(size=(5, 15)), np.zeros((1, 15))])  # mixed signs, a zero row
    labels = np.r_[np.repeat([0, 1, 2], 10), [0, 1, 3, 3, 2], 1]
    labels[7] = 4  # a singleton cluster
    s = matching._cosine_silhouette(X, labels)
    np.testing.assert_allclose(s, silhouette_samples(X, labels, metric="cosine"), atol=1e-12)
    np.testing.assert_allclose(s, ref.silhouette_cosine_ref(X, labels), atol=1e-12)
    assert s[7] == 0.0
    assert np.all(np.isnan(matching._cosine_silhouette(X, np.zeros(len(X)))))


def test_factor_stability_first_reference_vs_sklearn():
    rng = np.random.default_rng(9)
    W, fits, _ = _planted_fits(rng, noise=0.3)
    st_ = m.factor_stability(fits, reference="first")
    aligned = np.take_along_axis(fits, st_.perm[:, None, :], axis=2)
    X = aligned.transpose(0, 2, 1).reshape(-1, fits.shape[1])
    labels = np.tile(np.arange(fits.shape[2]), fits.shape[0])
    expect = silhouette_samples(X, labels, metric="cosine").reshape(st_.silhouette.shape)
    np.testing.assert_allclose(st_.silhouette, expect, atol=1e-12)
    np.testing.assert_allclose(st_.cluster_silhouette, expect.mean(axis=0), atol=1e-12)
    assert st_.mean_silhouette == pytest.approx(expect.mean(), abs=1e-12)
    np.testing.assert_array_equal(st_.perm[0], np.arange(fits.shape[2]))
    assert st_.mean_silhouette > 0.8  # a planted, reproducible solution


def test_factor_stability_separates_stable_from_random_fits():
    rng = np.random.default_rng(10)
    W, stable, _ = _planted_fits(rng, noise=0.1)
    random_fits = rng.gamma(0.4, size=stable.shape)
    s_stable = m.factor_stability(stable, random_state=0)
    s_random = m.factor_stability(random_fits, random_state=0)
    assert s_stable.mean_silhouette > 0.8
    assert s_random.mean_silhouette < 0.2
    s_given = m.factor_stability(stable, reference=W)
    np.testing.assert_allclose(s_given.similarity.min(), 1.0, atol=0.05)
    with pytest.raises(ValueError, match="reference must be"):
        m.factor_stability(stable, reference="best")


# ----------------------------------------------------------------------- consensus
def test_consensus_recovers_planted_factors_and_permutations():
    rng = np.random.default_rng(12)
    W, fits, perms = _planted_fits(rng, n_fits=15, noise=0.2)
    res = m.consensus_factors(fits, random_state=0)
    k = W.shape[1]
    assert res.converged
    np.testing.assert_array_equal(res.assignments[0], np.arange(k))
    match = m.match_factors(W, res.centroids)
    assert match.similarity.min() > 0.99
    # cluster holding planted factor f takes, from fit i, the column where f was placed
    planted_col = np.stack([np.argsort(pm) for pm in perms])  # (n_fits, k)
    np.testing.assert_array_equal(res.assignments[:, match.perm], planted_col)
    np.testing.assert_allclose(np.linalg.norm(res.centroids, axis=0), 1.0)
    assert res.mean_silhouette > 0.8 and np.all(res.cluster_similarity > 0.95)


def test_consensus_is_a_fixed_point_and_reports_consistent_statistics():
    rng = np.random.default_rng(13)
    fits = rng.gamma(0.5, size=(9, 30, 4))  # unstructured: a harder clustering
    res = m.consensus_factors(fits, n_init=5, random_state=1)
    U = fits / np.linalg.norm(fits, axis=1, keepdims=True)
    for i in range(fits.shape[0]):
        assert sorted(res.assignments[i].tolist()) == [0, 1, 2, 3]
        # each fit's assignment is the optimal matching to the centroids
        S = res.centroids.T @ U[i]
        _, cols = scipy_lsa(S, maximize=True)
        assert S[np.arange(4), res.assignments[i]].sum() == pytest.approx(
            S[np.arange(4), cols].sum(), rel=1e-12
        )
    aligned = np.take_along_axis(U, res.assignments[:, None, :], axis=2)
    C = aligned.sum(axis=0)
    np.testing.assert_allclose(res.centroids, C / np.linalg.norm(C, axis=0), atol=1e-12)
    np.testing.assert_allclose(res.similarity, np.einsum("npk,pk->nk", aligned, res.centroids))
    assert res.objective == pytest.approx(res.similarity.sum(), rel=1e-12)
    X = aligned.transpose(0, 2, 1).reshape(-1, 30)
    expect = silhouette_samples(X, np.tile(np.arange(4), 9), metric="cosine")
    np.testing.assert_allclose(res.silhouette.ravel(), expect, atol=1e-12)
    again = m.consensus_factors(list(fits), n_init=5, random_state=1)
    np.testing.assert_array_equal(again.assignments, res.assignments)
    np.testing.assert_array_equal(again.centroids, res.centroids)


def test_consensus_edge_cases_and_warnings():
    rng = np.random.default_rng(14)
    one = rng.gamma(0.5, size=(1, 20, 3))
    res = m.consensus_factors(one)
    np.testing.assert_allclose(res.centroids, one[0] / np.linalg.norm(one[0], axis=0))
    np.testing.assert_array_equal(res.silhouette, 0.0)  # singleton clusters
    k1 = m.consensus_factors(rng.gamma(0.5, size=(4, 20, 1)))
    assert np.all(np.isnan(k1.silhouette)) and k1.assignments.shape == (4, 1)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        m.consensus_factors(rng.gamma(0.5, size=(5, 20, 3)), max_iter=1)
    for bad in [0, -1, 2.5, True]:
        with pytest.raises(ValueError, match="n_init"):
            m.consensus_factors(one, n_init=bad)


# ----------------------------------------------------------------------- top-gene seed
def _block_fits(rng, n_fits=10, n_blocks=3, block=8, p=60):
    """Fits whose factors each load on one block of marker genes (permuted, noisy)."""
    fits = []
    for _ in range(n_fits):
        W = rng.uniform(0.0, 0.2, size=(p, n_blocks))
        for c in range(n_blocks):
            W[c * block : (c + 1) * block, c] += rng.uniform(2.0, 3.0, size=block)
        fits.append(W[:, rng.permutation(n_blocks)])
    return np.stack(fits)


def test_topgene_seed_recovers_marker_blocks():
    rng = np.random.default_rng(15)
    fits = _block_fits(rng)
    seed = m.topgene_consensus_seed(fits, n_top=8, min_frequency=0.3)
    blocks = np.repeat(np.arange(3), 8)
    # the clustered genes are exactly the marker genes, grouped by block
    np.testing.assert_array_equal(seed.genes, np.arange(24))
    lab = seed.labels[:24]
    assert len(set(zip(lab.tolist(), blocks.tolist(), strict=True))) == 3
    np.testing.assert_array_equal(seed.labels[24:], -1)
    W_init = seed.W_init
    assert W_init.shape == (60, 3)
    np.testing.assert_allclose(W_init.max(axis=0), 1.0)
    assert W_init.min() >= consensus._SEED_FLOOR
    np.testing.assert_array_equal(W_init[24:], consensus._SEED_FLOOR)  # never selected: floor only
    np.testing.assert_array_equal(np.argmax(W_init[:24], axis=1), lab)
    np.testing.assert_array_equal(seed.frequency[:24], 10)


def test_topgene_cooccurrence_and_jaccard_match_definitions():
    rng = np.random.default_rng(16)
    fits = rng.gamma(0.5, size=(6, 25, 3))
    n_top = 5
    sets = []
    from desurv.deconvolution.estimator import top_genes

    for W in fits:
        tg = top_genes(W, n_top).to_numpy().astype(int)
        sets.extend(tg[:, f] for f in range(3))
    counts = ref.cooccurrence_ref(sets, 25)
    seed = m.topgene_consensus_seed(fits, n_top=n_top, min_frequency=0.0)
    np.testing.assert_array_equal(seed.frequency, np.diag(counts))
    assert seed.threshold == 1
    g = seed.genes
    np.testing.assert_array_equal(g, np.flatnonzero(np.diag(counts) > 0))
    np.testing.assert_allclose(seed.similarity, counts[np.ix_(g, g)] / len(sets))
    # column c = mean co-occurrence row of cluster c's genes, scaled to max 1
    for c in range(3):
        col = (counts / len(sets))[:, g[seed.labels[g] == c]].mean(axis=1)
        floor = consensus._SEED_FLOOR
        np.testing.assert_allclose(seed.W_init[:, c], np.maximum(col / col.max(), floor))
    jac = m.topgene_consensus_seed(fits, n_top=n_top, method="jaccard", linkage="complete")
    np.testing.assert_allclose(jac.similarity, ref.jaccard_ref(sets))
    assert jac.labels.shape == (6, 3)


def test_topgene_jaccard_recovers_factor_clusters():
    rng = np.random.default_rng(17)
    fits = _block_fits(rng, n_fits=8)
    seed = m.topgene_consensus_seed(fits, n_top=8, method="jaccard")
    for i in range(8):  # every fit puts its three factors in three different clusters
        assert sorted(seed.labels[i].tolist()) == [0, 1, 2]
        dominant = np.argmax(fits[i][:24].reshape(3, 8, 3).sum(axis=1), axis=1)
        # the cluster of the factor that loads on block b is the same in every fit
        assert sorted(seed.labels[i][dominant].tolist()) == [0, 1, 2]
    frame = m.topgene_consensus_seed(
        fits, n_top=8, gene_names=[f"g{i}" for i in range(60)]
    ).to_frame()
    assert list(frame.columns) == ["consensus_1", "consensus_2", "consensus_3"]
    assert frame.index[0] == "g0"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_components=40), "lower min_frequency"),
        (dict(min_frequency=1.5), "min_frequency"),
        (dict(method="kmeans"), "method"),
        (dict(linkage="ward"), "linkage"),
        (dict(n_top=0), "n_top"),
        (dict(gene_names=["a", "b"]), "gene_names"),
    ],
)
def test_topgene_seed_errors(kwargs, match):
    fits = _block_fits(np.random.default_rng(18))
    with pytest.raises(ValueError, match=match):
        m.topgene_consensus_seed(fits, **{"n_top": 8, **kwargs})


def test_topgene_seed_rejects_negative_factors():
    with pytest.raises(ValueError, match="negative"):
        m.topgene_consensus_seed(-np.ones((2, 5, 2)))


def test_topgene_seed_starts_a_desurv_fit(small_problem):
    from desurv import fit_desurv

    X, time, event, k = small_problem
    fits = [
        fit_desurv(X, time, event, k, alpha=0.3, n_init=1, max_iter=20, random_state=s, warn=False)
        for s in range(3)
    ]
    seed = m.topgene_consensus_seed(fits, n_top=10, min_frequency=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_desurv(X, time, event, k, alpha=0.3, W_init=seed.W_init, max_iter=20)
    assert res.W.shape == (X.shape[0], k) and np.all(np.isfinite(res.W))
    assert res.best_init == -1  # the custom start was used


# ------------------------------------------- cosine matching: BLAS path vs blocked path (issue 16)
def _scipy_pair(a, b):
    """scipy's assignment on the cosine matrix computed by NumPy, as the benchmark loop does."""
    S = (a / np.linalg.norm(a, axis=0)).T @ (b / np.linalg.norm(b, axis=0))
    return scipy_lsa(S, maximize=True)[1], S


def _run_kernel(A, B):
    n, k = B.shape[0], A.shape[2]
    perm, sim = np.empty((n, k), np.int64), np.empty((n, k))
    status = np.full(n, 7, np.int8)
    bad = _hungarian.match_cosine_batched(A, B, perm, sim, status)
    return perm, sim, status, bad


def test_column_square_norms_kernel():
    rng = np.random.default_rng(31)
    # stretches of 8k entries with and without a tail, k = 1, k > p, zeros
    shapes = [(1, 1), (7, 1), (16, 1), (17, 3), (48, 3), (96, 10), (256, 10), (250, 10), (5, 41)]
    for p, k in shapes:
        for X in (rng.normal(size=(p, k)), np.zeros((p, k))):
            out = np.full(k, np.nan)
            _hungarian._col_sq_norms(X, np.empty(8 * k), out)
            np.testing.assert_allclose(out, (X**2).sum(axis=0), rtol=1e-13, atol=0)
    # NaN and inf make exactly their column non-finite
    X = rng.normal(size=(40, 4))
    X[3, 1], X[39, 2] = np.nan, -np.inf
    out = np.empty(4)
    _hungarian._col_sq_norms(X, np.empty(32), out)
    assert np.isnan(out[1]) and out[2] == np.inf and np.all(np.isfinite(out[[0, 3]]))


@pytest.mark.parametrize(
    "p, k, kb",
    [
        (20, 5, 5),  # below the BLAS threshold: blocked path
        (96, 5, 5),  # mutational channels, below the threshold: blocked path
        (75, 10, 10),  # at the threshold (p·(k + k') = 1,500): BLAS path
        (96, 10, 10),  # one chunk (mutational channels)
        (2000, 10, 10),  # several chunks, a partial last one (the benchmark shape)
        (700, 3, 7),  # rectangular, chunks of 640 genes
        (300, 40, 41),  # many factors: chunks of 32 genes plus a tail
    ],
)
@pytest.mark.parametrize("shared", [False, True])
def test_blas_and_blocked_paths_agree_with_scipy(p, k, kb, shared):
    rng = np.random.default_rng(p + k + kb + shared)
    n = 4
    A = rng.gamma(0.5, size=(1 if shared else n, p, k))
    B = rng.gamma(0.5, size=(n, p, kb))
    B[:, :, :k] += 3 * A[:, :, rng.permutation(k)]  # a planted, noisy permutation
    perm, sim, status, bad = _run_kernel(A, B)
    assert bad == 0 and np.all(status == 0)
    # the blocked path on the same data (float64 view with a non-contiguous layout)
    Bs = np.concatenate([B, np.zeros_like(B)], axis=2)[:, :, :kb]
    assert not Bs.flags.c_contiguous
    perm2, sim2, _, _ = _run_kernel(A, Bs)
    np.testing.assert_array_equal(perm, perm2)
    np.testing.assert_allclose(sim, sim2, rtol=1e-12, atol=1e-14)
    for b in range(n):
        a = A[0 if shared else b]
        cols, S = _scipy_pair(a, B[b])
        np.testing.assert_array_equal(perm[b], cols)
        np.testing.assert_allclose(sim[b], S[np.arange(k), cols], rtol=1e-12, atol=1e-14)


def test_blas_path_shared_reference_batch_and_single_pairs_give_the_same_bits():
    rng = np.random.default_rng(33)
    A = rng.gamma(0.5, size=(1, 1500, 6))
    B = rng.gamma(0.5, size=(5, 1500, 8))
    perm, sim, _, _ = _run_kernel(A, B)
    perm_u, sim_u, _, _ = _run_kernel(np.repeat(A, 5, axis=0), B)  # one A per pair
    single = [_run_kernel(A, B[b : b + 1]) for b in range(5)]
    np.testing.assert_array_equal(perm_u, perm)
    np.testing.assert_array_equal(sim_u, sim)
    np.testing.assert_array_equal(np.concatenate([s[0] for s in single]), perm)
    np.testing.assert_array_equal(np.concatenate([s[1] for s in single]), sim)


def test_blas_path_huge_and_tiny_entries_are_rescaled():
    rng = np.random.default_rng(36)
    A = rng.gamma(0.5, size=(600, 3))
    B = A[:, [2, 0, 1]]
    res = m.match_factors_batched(A, np.stack([B * 1e200, B * 1e-300, B]))
    np.testing.assert_array_equal(res.perm, [[1, 2, 0]] * 3)
    np.testing.assert_allclose(res.similarity, 1.0, rtol=1e-12)


def test_blas_path_mixed_dtypes_and_float32_take_the_blocked_path():
    rng = np.random.default_rng(34)
    A = rng.gamma(0.5, size=(3, 300, 4))
    B = rng.gamma(0.5, size=(3, 300, 5))
    ref64 = _run_kernel(A, B)
    for Ac, Bc in [(A.astype(np.float32), B), (A, B.astype(np.float32))]:
        res = _run_kernel(Ac, Bc)  # float32 is widened to float64 in the blocked path
        for b in range(3):
            cols, S = _scipy_pair(Ac[b].astype(float), Bc[b].astype(float))
            np.testing.assert_array_equal(res[0][b], cols)
            np.testing.assert_allclose(res[1][b], S[np.arange(4), cols], rtol=1e-12)
    np.testing.assert_array_equal(ref64[0], _run_kernel(A, B)[0])


def test_benchmark_shaped_pairs_match_a_scipy_loop_exactly():
    """The pairs of benchmarks/compare.py target 5c (k = 10, planted permutation + noise)."""
    rng = np.random.default_rng(2)
    for n, p in [(30, 2000), (300, 96)]:
        A = rng.gamma(1.0, 1.0, size=(n, p, 10))
        order = np.argsort(rng.uniform(size=(n, 10)), axis=1)
        B = np.take_along_axis(A, order[:, None, :], axis=2) + rng.gamma(1.0, 0.3, (n, p, 10))
        res = m.match_factors_batched(A, B)
        loop = np.stack([_scipy_pair(A[b], B[b])[0] for b in range(n)])
        np.testing.assert_array_equal(res.perm, loop)
        recovered = np.take_along_axis(order, res.perm, axis=1)
        np.testing.assert_array_equal(recovered, np.tile(np.arange(10), (n, 1)))


@pytest.mark.parametrize("p", [12, 600])  # blocked and BLAS paths
def test_tied_and_degenerate_factor_sets(p):
    rng = np.random.default_rng(35 + p)
    k = 5
    A = rng.gamma(0.5, size=(p, k))
    # tied: B holds two identical copies of A's columns 0 and 1 (cosine 1 twice)
    B = np.column_stack([A[:, 0], A[:, 0] * 2, A[:, 1], A[:, 1] * 3, A[:, 2:], A[:, 4]])
    perm, sim, status, _ = _run_kernel(A[None], B[None])
    assert status[0] == 0 and len(set(perm[0].tolist())) == k
    np.testing.assert_allclose(sim[0], 1.0, rtol=1e-12)  # every optimal choice has cosine 1
    cols, S = _scipy_pair(A, B)
    assert S[np.arange(k), perm[0]].sum() == pytest.approx(S[np.arange(k), cols].sum(), rel=1e-13)
    # identical columns within A: several optimal assignments, same total as scipy
    A2 = np.column_stack([A[:, :3], A[:, 0], A[:, 0]])
    perm, sim, _, _ = _run_kernel(A2[None], B[None])
    cols, S = _scipy_pair(A2, B)
    assert len(set(perm[0].tolist())) == k
    assert S[np.arange(k), perm[0]].sum() == pytest.approx(S[np.arange(k), cols].sum(), rel=1e-13)
    # constant columns: all cosines between them equal; zero columns: cosine 0, status 2
    C = np.ones((p, k))
    C[:, 3] = 0.0
    perm, sim, status, bad = _run_kernel(C[None], C[None])
    assert bad == 0 and status[0] == 2 and len(set(perm[0].tolist())) == k
    assert sim[0][3] == 0.0 and np.allclose(np.delete(sim[0], 3), 1.0)
    # a single factor and a single gene
    perm, sim, status, _ = _run_kernel(A[None, :, :1], B[None])
    assert perm[0, 0] in (0, 1) and sim[0, 0] == pytest.approx(1.0)
    one = rng.gamma(0.5, size=(1, 1, 1)) + 0.1
    perm, sim, status, _ = _run_kernel(one, one * 4)
    assert perm[0, 0] == 0 and sim[0, 0] == pytest.approx(1.0)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 70), st.integers(1, 6)),
        elements=st.floats(0, 1e3, allow_subnormal=False),
    ),
    st.integers(0, 3),
)
def test_property_matching_is_optimal_for_the_cosine_matrix(A, extra):
    """Any data (zeros, repeats, ties): the kernel's assignment is a permutation whose total
    cosine equals scipy's optimum on the same cosine matrix (both paths)."""
    rng = np.random.default_rng(A.shape[0])
    B = np.column_stack([A[:, ::-1], rng.integers(0, 3, size=(A.shape[0], extra))]).astype(float)
    S = ref.cosine_similarity_ref(A, B)
    rows, cols = scipy_lsa(S, maximize=True)
    for Bx in (B, np.repeat(B, 12, axis=0)):  # 12 copies of every gene: mostly the BLAS path
        Ax = A if Bx is B else np.repeat(A, 12, axis=0)
        perm, sim, status, bad = _run_kernel(Ax[None], Bx[None])
        assert bad == 0 and len(set(perm[0].tolist())) == A.shape[1]
        assert S[np.arange(A.shape[1]), perm[0]].sum() == pytest.approx(
            S[rows, cols].sum(), rel=1e-9, abs=1e-9
        )
        np.testing.assert_allclose(sim[0], S[np.arange(A.shape[1]), perm[0]], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", [9, 700])  # blocked and BLAS paths
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shared", [False, True])
def test_kernel_matches_numpy_twin_on_random_and_edge_inputs(p, dtype, shared):
    rng = np.random.default_rng(p + shared)
    n, k, kb = 7, 3, 4
    A = rng.gamma(0.5, size=(1 if shared else n, p, k)).astype(dtype)
    B = rng.gamma(0.5, size=(n, p, kb)).astype(dtype)
    B[1, :, 2] = 0.0  # a zero column
    B[2, p // 2, 0] = np.nan  # a NaN
    B[3] = 0.0  # all zero
    B[4, :, :k] = A[0 if shared else 4]  # exact copies (cosine 1)
    perm, sim, status, bad = _run_kernel(A, B)
    perm_r, sim_r, status_r = ref.match_cosine_batched(A, B)
    np.testing.assert_array_equal(status, status_r)
    assert bad == np.sum(status_r & 1) == 1
    np.testing.assert_array_equal(perm[status_r == 0], perm_r[status_r == 0])
    np.testing.assert_allclose(sim, sim_r, rtol=1e-12, atol=1e-14)  # NaN rows agree too
    for b in np.flatnonzero(status_r == 2):  # ties at cosine 0: any optimal assignment
        assert sim[b].sum() == pytest.approx(sim_r[b].sum(), rel=1e-12, abs=1e-14)
        assert len(set(perm[b].tolist())) == k
    # k = 1
    perm, sim, status, _ = _run_kernel(A[:, :, :1], B)
    perm_r, sim_r, status_r = ref.match_cosine_batched(A[:, :, :1], B)
    np.testing.assert_array_equal(status, status_r)
    np.testing.assert_allclose(sim, sim_r, rtol=1e-12, atol=1e-14)


def test_blas_path_gives_identical_results_when_run_from_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(37)
    A = rng.gamma(0.5, size=(40, 600, 6))  # p·(k + k') above the BLAS threshold
    B = rng.gamma(0.5, size=(40, 600, 6))
    whole = m.match_factors_batched(A, B)
    chunks = [slice(i, i + 10) for i in range(0, 40, 10)]
    with ThreadPoolExecutor(max_workers=4) as pool:  # nogil kernel calling BLAS concurrently
        parts = list(pool.map(lambda c: m.match_factors_batched(A[c], B[c]), chunks))
    np.testing.assert_array_equal(np.concatenate([r.perm for r in parts]), whole.perm)
    np.testing.assert_array_equal(np.concatenate([r.similarity for r in parts]), whole.similarity)


# ------------------------------------------------------------------ single-pass kernel
def _gram_pass(a, c):
    k, kb = a.shape[1], c.shape[1]
    G, na, nb = np.full((k, kb), np.nan), np.full(k, np.nan), np.full(kb, np.nan)
    _hungarian._gram_norms_pass(a, c, G, na, nb)
    return G, na, nb


@pytest.mark.parametrize("p", [1, 3, 17, 160, 333])  # within and beyond the prefetch distance
def test_single_pass_gram_and_norms_match_numpy_twin_for_every_k_and_kb(p):
    rng = np.random.default_rng(50 + p)
    for k in range(1, _hungarian._PASS_ROWS + 1):
        for kb in range(k, _hungarian._PASS_COLS + 1):  # every vector layout of k' (1 to 16)
            a = rng.normal(size=(p, k))
            c = rng.gamma(0.5, size=(p, kb))
            for got, want in zip(_gram_pass(a, c), ref.gram_norms_ref(a, c), strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * p)


def test_single_pass_edge_inputs():
    rng = np.random.default_rng(57)
    # zeros; NaN and inf make exactly their own column (and Gram row/column) non-finite
    a, c = np.zeros((40, 10)), rng.normal(size=(40, 13))
    G, na, nb = _gram_pass(a, c)
    assert np.all(G == 0) and np.all(na == 0)
    np.testing.assert_allclose(nb, (c**2).sum(axis=0), rtol=1e-13)
    a = rng.normal(size=(40, 9))
    a[39, 8], c[0, 12] = np.nan, np.inf  # in the last and the first gene, last columns
    G, na, nb = _gram_pass(a, c)
    assert np.isnan(na[8]) and np.all(np.isfinite(na[:8]))
    assert nb[12] == np.inf and np.all(np.isfinite(nb[:12]))
    assert np.all(np.isnan(G[8])) and np.all(np.isfinite(G[:8, :12]))
    # views of larger arrays (rows of a 3-D stack) and slices of genes
    A = rng.normal(size=(3, 50, 10))
    B = rng.normal(size=(3, 50, 16))
    a, c = A[2, 7:], B[2, 7:]
    for got, want in zip(_gram_pass(a, c), ref.gram_norms_ref(a, c), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="single pass"):
        _gram_pass(rng.normal(size=(5, 11)), rng.normal(size=(5, 12)))  # k > 10
    with pytest.raises(ValueError, match="single pass"):
        _gram_pass(rng.normal(size=(5, 3)), rng.normal(size=(5, 17)))  # k' > 16
    with pytest.raises(ValueError, match="single pass"):
        _gram_pass(rng.normal(size=(5, 4)), rng.normal(size=(5, 3)))  # k > k'


def test_single_pass_routing_by_shape_and_dtype():
    H = _hungarian
    assert H._pass_fits(10, 16) == H._WIDE_PASS
    assert not H._pass_fits(11, 16) and not H._pass_fits(3, 17)
    for n in range(1, 17):  # vectors at offsets 0 and n − w cover [0, n) within the row
        w, count = H._cover(n)
        assert w <= n <= 2 * w and count == (1 if n == w else 2)
    rng = np.random.default_rng(58)
    A = rng.gamma(0.5, size=(2, 40, 5))
    B = rng.gamma(0.5, size=(2, 40, 5))
    perm, sim, status = np.empty((2, 5), np.int64), np.empty((2, 5)), np.zeros(2, np.int8)
    expect = 0 if H._WIDE_PASS else -1  # 400 entries: the single pass, else the blocked path
    assert H._fast_pairs(A, B, perm, sim, status) == expect
    assert H._fast_pairs(A.astype(np.float32), B, perm, sim, status) == -1
    assert H._fast_pairs(A[:, :10], B[:, :10], perm, sim, status) == -1  # 100 entries


@pytest.mark.parametrize(
    "p, k, kb",
    [(2000, 10, 10), (96, 10, 16), (150, 1, 9), (700, 3, 7), (333, 8, 8), (25, 4, 5), (9, 2, 2)],
)
@pytest.mark.parametrize("shared", [False, True])
def test_single_pass_blas_path_and_twin_agree(p, k, kb, shared):
    rng = np.random.default_rng(p + k + kb + shared)
    n = 5
    A = rng.gamma(0.5, size=(1 if shared else n, p, k))
    B = rng.gamma(0.5, size=(n, p, kb))
    B[:, :, :k] += 3 * A[:, :, rng.permutation(k)]
    B[1, :, kb - 1] = 0.0  # a zero column
    B[2, p // 2, 0] = np.nan  # a NaN
    out = [(np.empty((n, k), np.int64), np.empty((n, k)), np.full(n, 7, np.int8)) for _ in "ab"]
    assert _hungarian._match_pass(A, B, *out[0]) == 1
    assert _hungarian._match_gemm(A, B, *out[1]) == 1
    perm_r, sim_r, status_r = ref.match_cosine_batched(A, B)
    for perm, sim, status in out:
        np.testing.assert_array_equal(status, status_r)
        np.testing.assert_array_equal(perm[status_r == 0], perm_r[status_r == 0])
        np.testing.assert_allclose(sim, sim_r, rtol=1e-12, atol=1e-14)
    # a shared reference gives the same bits as one copy per pair, and as pairs one by one
    if shared:
        perm_u, sim_u, status_u = np.empty((n, k), np.int64), np.empty((n, k)), np.zeros(n, np.int8)
        _hungarian._match_pass(np.repeat(A, n, axis=0), B, perm_u, sim_u, status_u)
        np.testing.assert_array_equal(perm_u, out[0][0])
        np.testing.assert_array_equal(sim_u, out[0][1])
    one = (np.empty((1, k), np.int64), np.empty((1, k)), np.zeros(1, np.int8))
    _hungarian._match_pass(A[:1] if shared else A[3:4], B[3:4], *one)
    np.testing.assert_array_equal(one[1], out[0][1][3:4])


def test_matching_runs_with_numba_jit_disabled():
    """NUMBA_DISABLE_JIT=1 (debugging) runs the kernels as Python: the one-pass kernel, LLVM IR,
    cannot, so that mode takes the other paths and still gives the same matches."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from desurv.evaluation import match_factors_batched\n"
        "rng = np.random.default_rng(0)\n"
        "A, B = rng.random((3, 200, 5)), rng.random((3, 200, 7))\n"
        "print(match_factors_batched(A, B).perm.tolist())\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rng = np.random.default_rng(0)
    A, B = rng.random((3, 200, 5)), rng.random((3, 200, 7))
    assert out.stdout.strip() == str(m.match_factors_batched(A, B).perm.tolist())
