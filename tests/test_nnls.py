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
