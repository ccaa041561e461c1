"""desurv.decomposition.nnls (batched active-set NNLS) against scipy.optimize.nnls."""

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from desurv.decomposition import nnls


def _problem(kind, seed=0, p=40, k=6, m=60):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, k))
    if kind == "rank_deficient":
        A[:, 3] = A[:, 0] + 0.5 * A[:, 1]
        A[:, 5] = 2.0 * A[:, 2]
    elif kind == "zero_column":
        A[:, 2] = 0.0
    elif kind == "k1":
        A = np.abs(A[:, :1])
    elif kind == "nmf":
        A = rng.gamma(0.5, 1.0, size=(p, k))
    B = rng.normal(size=(p, m)) if kind != "nmf" else A @ rng.gamma(0.5, 1.0, size=(k, m))
    B[:, 0] = 0.0  # zero right-hand side
    return A, B


@pytest.mark.parametrize("kind", ["random", "rank_deficient", "zero_column", "k1", "nmf"])
def test_matches_scipy(kind):
    A, B = _problem(kind)
    X = nnls(A, B)
    assert X.shape == (A.shape[1], B.shape[1])
    assert np.all(X >= 0)
    for j in range(B.shape[1]):
        x_ref, r_ref = scipy_nnls(A, B[:, j])
        r = np.linalg.norm(A @ X[:, j] - B[:, j])
        assert abs(r - r_ref) <= 1e-8 * max(1.0, r_ref)
        if kind != "rank_deficient":  # the minimiser is unique
            np.testing.assert_allclose(X[:, j], x_ref, atol=1e-8)
    assert np.all(X[:, 0] == 0)
    if kind == "zero_column":
        assert np.all(X[2] == 0)


def test_kkt_conditions():
    A, B = _problem("random", seed=3, m=200)
    X = nnls(A, B)
    grad = A.T @ (A @ X - B)
    assert np.all(grad >= -1e-9)  # dual feasibility
    assert np.max(np.abs(grad * X)) < 1e-9  # complementarity


def test_vector_rhs_and_exact_recovery():
    rng = np.random.default_rng(1)
    A = rng.uniform(size=(50, 4))
    x = np.array([0.0, 1.5, 0.0, 2.0])
    np.testing.assert_allclose(nnls(A, A @ x), x, atol=1e-10)
    assert nnls(A, A @ x).shape == (4,)


@pytest.mark.parametrize(
    "A,B,msg",
    [
        (np.ones(3), np.ones(3), "A must be a 2-D"),
        (np.ones((3, 2)), np.ones((4, 2)), "A has 3 rows but B has 4"),
        (np.ones((3, 2)), np.ones((3, 2, 1)), "B must be 1-D"),
        (np.ones((3, 2)), np.array([1.0, np.nan, 2.0]), "NaN"),
    ],
)
def test_errors(A, B, msg):
    with pytest.raises(ValueError, match=msg):
        nnls(A, B)


# ----------------------------------------------------------------------------- kernel = twin
def _gram_problem(kind, seed=0, p=30, k=6, m=80):
    """(G, C, A, B) of a batched problem: G = AᵀA (k, k), C = AᵀB (k, m)."""
    rng = np.random.default_rng(seed)
    A = rng.gamma(0.5, 1.0, size=(p, k))
    B = A @ rng.gamma(0.5, 1.0, size=(k, m)) + rng.normal(scale=0.3, size=(p, m))
    if kind == "zeros":
        B[:, :5] = 0.0  # zero right-hand sides
        A[:, 1] = 0.0  # a zero column: G singular, every column starts cold
    elif kind == "k1":
        A = A[:, :1]
    elif kind == "positive":  # every unconstrained solution positive: warm start is the answer
        B = A @ rng.uniform(1.0, 2.0, size=(k, m))
    elif kind == "duplicates":  # repeated columns share passive sets (the factor cache)
        B = np.repeat(B[:, :8], 10, axis=1)
    elif kind == "rank_deficient":
        A[:, 3] = A[:, 0] + 0.5 * A[:, 1]
    elif kind == "all_zero":
        A[:] = 0.0
    return A.T @ A, np.ascontiguousarray(A.T @ B), A, B


@pytest.mark.parametrize(
    "kind", ["random", "zeros", "k1", "positive", "duplicates", "rank_deficient", "all_zero"]
)
def test_kernel_equals_twin(kind):
    """The compiled batched active set (shared factor, cached factors, sorted columns) gives
    the twin's (Lawson-Hanson with lstsq, column by column) solutions."""
    from desurv._kernels import _nnls
    from desurv._reference import nnls as ref

    G, C, A, B = _gram_problem(kind)
    k = G.shape[0]
    X1, bad1 = _nnls.nnls_gram(G, C, 3 * k + 10)
    X2, bad2 = ref.nnls_gram(G, C, 3 * k + 10)
    assert bad1 == bad2 == 0
    assert X1.shape == C.shape and np.all(X1 >= 0)
    # same residual (the minimiser is not unique for a rank-deficient A)
    r1 = np.linalg.norm(A @ X1 - B, axis=0)
    r2 = np.linalg.norm(A @ X2 - B, axis=0)
    np.testing.assert_allclose(r1, r2, rtol=1e-9, atol=1e-9)
    if kind != "rank_deficient":
        np.testing.assert_allclose(X1, X2, rtol=1e-9, atol=1e-10)
    if kind == "zeros":
        assert np.all(X1[:, :5] == 0) and np.all(X1[1] == 0)
    if kind == "all_zero":
        assert np.all(X1 == 0)
    if kind == "positive":  # the unconstrained solutions
        np.testing.assert_allclose(X1, np.linalg.solve(G, C), rtol=1e-10)


def test_kernel_columns_are_independent():
    """A column's solution does not depend on the others: permuting, duplicating or solving
    the columns one at a time gives the same numbers (the kernel reorders columns by the
    sign pattern of their unconstrained solution and reuses factors between them)."""
    from desurv._kernels import _nnls

    G, C, _, _ = _gram_problem("random", seed=4, k=8, m=120)
    X, _ = _nnls.nnls_gram(G, C, 34)
    perm = np.random.default_rng(0).permutation(C.shape[1])
    Xp, _ = _nnls.nnls_gram(G, np.ascontiguousarray(C[:, perm]), 34)
    np.testing.assert_array_equal(Xp, X[:, perm])
    for j in (0, 17, 119):
        Xj, _ = _nnls.nnls_gram(G, np.ascontiguousarray(C[:, j : j + 1]), 34)
        np.testing.assert_array_equal(Xj[:, 0], X[:, j])
    # KKT of every column: dual feasibility and complementarity
    W = C - G @ X
    assert np.all(W <= 1e-9 * np.abs(C).max())
    assert np.max(np.abs(W * X)) <= 1e-9 * np.abs(C).max() ** 2
