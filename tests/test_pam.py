"""PAM k-medoids (desurv.evaluation.medoids): exact optimum on tiny sets, local optimality,
permutation invariance, known clusters, errors."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from desurv.evaluation.medoids import MedoidsResult, pam, pam_cost
from desurv.exceptions import ConvergenceWarning


def _brute_force(D, k):
    """Global optimum of the k-medoids cost by enumerating every set of k points."""
    best = None
    for combo in itertools.combinations(range(D.shape[0]), k):
        c = D[:, list(combo)].min(axis=1).sum()
        if best is None or c < best[0] - 1e-12:
            best = (c, combo)
    return best


def _points(rng, n, dim=2):
    return rng.normal(size=(n, dim))


def _clustered(rng, sizes, dim=3, spread=0.05, sep=10.0):
    centres = rng.normal(scale=sep, size=(len(sizes), dim))
    X = np.vstack(
        [c + spread * rng.normal(size=(s, dim)) for c, s in zip(centres, sizes, strict=True)]
    )
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return X, truth


def _single_swap_is_not_better(D, medoids, cost):
    n = D.shape[0]
    for i in range(len(medoids)):
        for h in range(n):
            if h in medoids:
                continue
            trial = list(medoids)
            trial[i] = h
            assert D[:, trial].min(axis=1).sum() >= cost - 1e-9


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_never_below_and_mostly_at_the_brute_force_optimum(k):
    rng = np.random.default_rng(k)
    hits = 0
    trials = 25
    for _ in range(trials):
        X = _points(rng, 9)
        D = cdist(X, X)
        res = pam(D, k)
        opt, _ = _brute_force(D, k)
        assert res.cost >= opt - 1e-9  # nothing beats the global optimum
        _single_swap_is_not_better(D, res.medoids.tolist(), res.cost)  # a local optimum
        hits += np.isclose(res.cost, opt)
    if k == 1:
        assert hits == trials  # BUILD's first medoid is the exact 1-medoid
    else:
        assert hits >= 0.8 * trials  # BUILD + SWAP misses the optimum only rarely


def test_exact_optimum_on_clustered_tiny_sets():
    rng = np.random.default_rng(0)
    for sizes in ([3, 3, 2], [4, 2], [2, 2, 2, 2]):
        X, _ = _clustered(rng, sizes)
        D = cdist(X, X)
        res = pam(D, len(sizes))
        opt, combo = _brute_force(D, len(sizes))
        assert np.isclose(res.cost, opt)
        assert sorted(combo) == res.medoids.tolist()


def test_known_clusters_are_recovered_with_consistent_labels():
    rng = np.random.default_rng(1)
    X, truth = _clustered(rng, [15, 9, 20, 6], dim=5)
    D = cdist(X, X)
    res = pam(D, 4)
    # each true cluster maps to exactly one label and vice versa
    pairs = set(zip(truth.tolist(), res.labels.tolist(), strict=True))
    assert len(pairs) == 4
    # each medoid is a member of its own cluster, and every point sits at its nearest medoid
    assert np.array_equal(res.labels[res.medoids], np.arange(4))
    assert np.allclose(D[np.arange(len(D)), res.medoids[res.labels]], D[:, res.medoids].min(1))
    assert np.isclose(res.cost, pam_cost(D, res.medoids))
    # the medoid of a cluster minimises the total distance within it
    for c in range(4):
        members = np.flatnonzero(res.labels == c)
        within = D[np.ix_(members, members)].sum(axis=0)
        assert res.medoids[c] == members[np.argmin(within)]


def test_permuting_the_points_permutes_the_result():
    rng = np.random.default_rng(2)
    X = _points(rng, 40, dim=4)
    D = cdist(X, X)
    res = pam(D, 5)
    perm = rng.permutation(40)
    Dp = D[np.ix_(perm, perm)]
    resp = pam(Dp, 5)
    assert np.isclose(res.cost, resp.cost)
    assert sorted(perm[resp.medoids].tolist()) == res.medoids.tolist()
    # same partition (labels up to renaming)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(40)
    lab_p = resp.labels[inv]
    assert len(set(zip(res.labels.tolist(), lab_p.tolist(), strict=True))) == 5


def test_swap_improves_any_start_to_a_local_optimum():
    rng = np.random.default_rng(3)
    X = _points(rng, 30, dim=3)
    D = cdist(X, X)
    given = pam(D, 4, init=[0, 1, 2, 3])
    assert given.n_iter > 0 and given.cost < pam_cost(D, [0, 1, 2, 3])
    _single_swap_is_not_better(D, given.medoids.tolist(), given.cost)
    rand = pam(D, 4, init="random", random_state=5)
    _single_swap_is_not_better(D, rand.medoids.tolist(), rand.cost)
    # the random start is reproducible
    again = pam(D, 4, init="random", random_state=5)
    assert np.array_equal(rand.medoids, again.medoids)


def test_edge_cases_k_equals_n_duplicates_and_unpacking():
    rng = np.random.default_rng(4)
    X = _points(rng, 6)
    D = cdist(X, X)
    medoids, labels, cost = pam(D, 6)
    assert medoids.tolist() == list(range(6)) and labels.tolist() == list(range(6))
    assert cost == 0.0
    # duplicated points: two identical clusters of zero spread
    Xd = np.vstack([np.zeros((3, 2)), np.ones((3, 2))])
    res = pam(cdist(Xd, Xd), 2)
    assert res.cost == 0.0
    assert sorted(np.bincount(res.labels).tolist()) == [3, 3]
    assert isinstance(res, MedoidsResult) and res.converged


def test_max_iter_zero_keeps_build_and_warns_when_swaps_remain():
    rng = np.random.default_rng(6)
    X = _points(rng, 25, dim=2)
    D = cdist(X, X)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = pam(D, 3, init=[0, 1, 2], max_iter=0)
    assert not res.converged and res.n_iter == 0
    assert res.medoids.tolist() == [0, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pam(D, 3, init=[0, 1, 2]).converged


@pytest.mark.parametrize(
    "D, k, kwargs, match",
    [
        (np.ones((3, 2)), 1, {}, "square"),
        (np.zeros((0, 0)), 1, {}, "square"),
        (np.array([[0.0, np.nan], [np.nan, 0.0]]), 1, {}, "NaN"),
        (np.array([[0.0, -1.0], [-1.0, 0.0]]), 1, {}, "negative"),
        (np.zeros((3, 3)), 0, {}, "n_clusters"),
        (np.zeros((3, 3)), 4, {}, "n_clusters"),
        (np.zeros((3, 3)), 2.0, {}, "n_clusters"),
        (np.zeros((3, 3)), 2, {"init": "kmeans++"}, "init"),
        (np.zeros((3, 3)), 2, {"init": [0, 0]}, "distinct"),
        (np.zeros((3, 3)), 2, {"init": [0, 5]}, r"\[0, 2\]"),
        (np.zeros((3, 3)), 2, {"init": [0]}, "n_clusters=2"),
        (np.zeros((3, 3)), 2, {"max_iter": -1}, "max_iter"),
    ],
)
def test_bad_input_is_one_clear_error(D, k, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pam(D, k, **kwargs)


def test_rounding_negatives_of_cosine_distances_are_accepted():
    rng = np.random.default_rng(8)
    U = rng.random((20, 10))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    D = 1.0 - U @ U.T  # diagonal may be -1e-16
    res = pam(D, 3)
    assert res.medoids.size == 3
