"""Plain NumPy/scipy oracles for the matching kernels and helpers. Used by the tests only.

They follow the definitions as written (explicit loops, full distance matrices, exhaustive
search) rather than the fast formulations in ``desurv.evaluation.matching`` and
``desurv._kernels._hungarian``.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment as _scipy_lsa


def lsa_bruteforce(cost):
    """Minimum total cost of a rectangular assignment by enumerating every assignment.

    Parameters
    ----------
    cost : ndarray of shape (n_rows, n_cols), small (n ≤ 8)

    Returns
    -------
    best : float
        Minimal total cost over all one-to-one assignments of min(n_rows, n_cols) pairs.
    optimal : list of tuple
        Every optimal assignment, each as a tuple of (row, col) pairs sorted by row. Totals
        within 1e-12 (relative to the largest |entry|) of the best count as optimal, since
        sums of the same numbers in another order may differ by rounding.
    """
    cost = np.asarray(cost, dtype=np.float64)
    nr, nc = cost.shape
    transpose = nr > nc
    c = cost.T if transpose else cost
    r, n = c.shape
    totals = {}
    for cols in itertools.permutations(range(n), r):
        totals[cols] = float(sum(c[i, j] for i, j in enumerate(cols)))
    best = min(totals.values())
    tol = 1e-12 * max(1.0, float(np.abs(c).max(initial=0.0))) * max(r, 1)
    optimal = []
    for cols, t in totals.items():
        if t - best <= tol:
            pairs = [(j, i) if transpose else (i, j) for i, j in enumerate(cols)]
            optimal.append(tuple(sorted(pairs)))
    return best, optimal


def cosine_similarity_ref(A, B):
    """Cosine similarity of every column of A (p, k) with every column of B (p, k').

    cos(a, b) = aᵀb / (‖a‖ ‖b‖), computed pair by pair; 0 when either norm is 0.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    out = np.zeros((A.shape[1], B.shape[1]))
    for f in range(A.shape[1]):
        for h in range(B.shape[1]):
            d = np.linalg.norm(A[:, f]) * np.linalg.norm(B[:, h])
            out[f, h] = A[:, f] @ B[:, h] / d if d > 0 else 0.0
    return out


def gram_norms_ref(A, B):
    """Twin of ``desurv._kernels._hungarian._gram_norms_pass``, entry by entry by definition.

    Returns the Gram matrix G[f, h] = Σ_g A[g, f]·B[g, h] (k, k') and the squared column norms
    Σ_g A[g, f]² (k,) and Σ_g B[g, h]² (k',) of A (p, k) and B (p, k'), in float64.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    G = np.empty((A.shape[1], B.shape[1]))
    for f in range(A.shape[1]):
        for h in range(B.shape[1]):
            G[f, h] = np.sum(A[:, f] * B[:, h])
    na = np.array([np.sum(A[:, f] * A[:, f]) for f in range(A.shape[1])])
    nb = np.array([np.sum(B[:, h] * B[:, h]) for h in range(B.shape[1])])
    return G, na, nb


def match_factors_ref(A, B):
    """Match columns of A to columns of B (k ≤ k') by maximal total cosine, via scipy.

    Returns
    -------
    perm : ndarray of int, shape (k,)
        Column of B matched to each column of A.
    sim : ndarray of shape (k,)
        Cosine similarity of each matched pair.
    """
    S = cosine_similarity_ref(A, B)
    rows, cols = _scipy_lsa(S, maximize=True)
    perm = np.empty(S.shape[0], dtype=np.int64)
    perm[rows] = cols
    return perm, S[np.arange(S.shape[0]), perm]


def match_cosine_batched(A, B):
    """Twin of ``desurv._kernels._hungarian.match_cosine_batched``: pair by pair, by definition.

    Parameters
    ----------
    A : array of shape (nA, p, k), nA = n or 1 (a reference shared by every pair)
    B : array of shape (n, p, k'), k' >= k

    Returns
    -------
    perm : ndarray of int64 (n, k)
        Column of B[b] matched to each column of A[b] (scipy's assignment on the cosine
        matrix of :func:`cosine_similarity_ref`, in float64); -1 for a pair with NaN/inf.
    sim : ndarray (n, k)
        Matched cosines (NaN for such a pair).
    status : ndarray of int8 (n,)
        Bit 1: some column has a non-finite sum of squares; bit 2: some column is zero.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    n, k = B.shape[0], A.shape[2]
    perm = np.full((n, k), -1, dtype=np.int64)
    sim = np.full((n, k), np.nan)
    status = np.zeros(n, dtype=np.int8)
    for b in range(n):
        a = A[0] if A.shape[0] == 1 else A[b]
        sq = np.concatenate([(a**2).sum(axis=0), (B[b] ** 2).sum(axis=0)])
        if not np.all(np.isfinite(sq)):
            status[b] = 1 | (2 if np.any(sq == 0) else 0)
            continue
        status[b] = 2 if np.any(sq == 0) else 0
        perm[b], sim[b] = match_factors_ref(a, B[b])
    return perm, sim, status


def silhouette_cosine_ref(X, labels):
    """Silhouette of each row of X (N, p) under the cosine distance 1 − cos, by definition.

    a_i = mean distance to the other members of i's cluster, b_i = smallest mean distance to
    the members of another cluster, s_i = (b_i − a_i) / max(a_i, b_i); s_i = 0 for a member
    of a singleton cluster (Rousseeuw 1987, as scikit-learn). Builds the full N × N matrix.
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    N = X.shape[0]
    D = 1.0 - cosine_similarity_ref(X.T, X.T)
    np.fill_diagonal(D, 0.0)
    uniq = np.unique(labels)
    s = np.zeros(N)
    for i in range(N):
        own = labels == labels[i]
        n_own = own.sum()
        if n_own == 1:
            continue
        a = D[i, own].sum() / (n_own - 1)
        b = min(D[i, labels == c].mean() for c in uniq if c != labels[i])
        m = max(a, b)
        s[i] = (b - a) / m if m > 0 else 0.0
    return s


def cooccurrence_ref(top_sets, n_genes):
    """Gene × gene co-occurrence counts of top-gene sets, by explicit loops.

    ``counts[g, h]`` is the number of sets containing both genes g and h (the diagonal is
    the number of sets containing g), as in the DeSurv authors' consensus seed.
    """
    counts = np.zeros((n_genes, n_genes))
    for s in top_sets:
        s = sorted(set(int(g) for g in s))
        for g in s:
            for h in s:
                counts[g, h] += 1
    return counts


def jaccard_ref(top_sets):
    """Jaccard similarity |S ∩ T| / |S ∪ T| between every pair of top-gene sets."""
    sets = [set(int(g) for g in s) for s in top_sets]
    n = len(sets)
    J = np.zeros((n, n))
    for a in range(n):
        for b in range(n):
            J[a, b] = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
    return J
