"""k-medoids clustering by PAM (Partitioning Around Medoids) on a precomputed distance matrix.

PAM (Kaufman & Rousseeuw 1990, ch. 2) chooses ``n_clusters`` of the points themselves as
cluster centres (medoids) so that the total distance of every point to its nearest medoid

    cost(M) = Σ_i min_{m ∈ M} D[i, m]

is small. Its two phases are written here in plain NumPy (no extra dependency, as METHODS.md
§B.6 asks):

* **BUILD**: the first medoid is the point with the smallest total distance to all points;
  each further medoid is the point that lowers the cost the most.
* **SWAP**: of all exchanges (medoid m, non-medoid h) the one that lowers the cost the most
  is made; this repeats until no exchange lowers it (a local optimum for single swaps).

The cost of every exchange is evaluated at once with the distances of each point to its
nearest and second-nearest medoid: removing medoid m leaves point j at ``d_wo[j]`` (its
second-nearest distance when m was its nearest, else its nearest), and adding h gives
``min(D[j, h], d_wo[j])``. One SWAP round costs O(k·n²) operations and O(n²) memory.

Egendal et al. (signature extraction with AE-NMF) cluster the signatures of all their
random splits by PAM with k = K on the cosine distance and take the medoids as consensus
signatures; :func:`desurv.signatures.extract_signatures` does the same with
``consensus="pam"``.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from desurv.exceptions import ConvergenceWarning

__all__ = ["MedoidsResult", "pam", "pam_cost"]

# entries of D down to this (relative to max |D|) below 0 are rounding, e.g. 1 − cos
_NEG_TOL = 1e-12


@dataclass
class MedoidsResult:
    """Result of :func:`pam`.

    Attributes
    ----------
    medoids : ndarray of int64, shape (n_clusters,)
        Indices (rows of D) of the medoids, in increasing order.
    labels : ndarray of int64, shape (n_points,)
        Cluster of every point: ``medoids[labels[i]]`` is its nearest medoid (ties go to the
        medoid listed first). A medoid is always in its own cluster.
    cost : float
        Total distance of the points to their medoids, Σ_i D[i, medoids[labels[i]]].
    n_iter : int
        Number of swaps made in the SWAP phase.
    converged : bool
        False when SWAP stopped at ``max_iter`` with an improving swap left.

    A result unpacks as ``medoids, labels, cost = pam(D, k)``.
    """

    medoids: np.ndarray
    labels: np.ndarray
    cost: float
    n_iter: int
    converged: bool

    def __iter__(self):
        return iter((self.medoids, self.labels, self.cost))


def _check_distances(D):
    try:
        D = np.asarray(D, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("D must be a numeric (n_points, n_points) distance matrix") from None
    if D.ndim != 2 or D.shape[0] != D.shape[1] or D.shape[0] == 0:
        raise ValueError(
            f"D must be a square, non-empty distance matrix (n_points, n_points), got shape "
            f"{D.shape}; for points X compute e.g. scipy.spatial.distance.cdist(X, X)"
        )
    if not np.all(np.isfinite(D)):
        raise ValueError("D contains NaN or infinite distances; all distances must be finite")
    scale = float(np.max(np.abs(D))) if D.size else 0.0
    if np.any(D < -_NEG_TOL * max(scale, 1.0)):
        raise ValueError(
            "D contains negative distances; PAM needs distances >= 0 (for 1 - cosine "
            "similarity, clip rounding errors with np.clip(D, 0, None))"
        )
    return np.ascontiguousarray(D)


def _check_k(n_clusters, n):
    if (
        isinstance(n_clusters, bool)
        or not isinstance(n_clusters, numbers.Integral)
        or not 1 <= n_clusters <= n
    ):
        raise ValueError(f"n_clusters must be an integer in [1, n_points={n}], got {n_clusters!r}")
    return int(n_clusters)


def pam_cost(D, medoids):
    """Total distance of every point to its nearest medoid, Σ_i min_{m ∈ medoids} D[i, m].

    Parameters
    ----------
    D : array-like of shape (n_points, n_points)
        Distances; ``D[i, j]`` is the distance of point i to (candidate medoid) j.
    medoids : array-like of int
        Indices of the medoids (distinct, at least one).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        D not a valid distance matrix, or medoids empty, repeated or out of range.
    """
    D = _check_distances(D)
    medoids = _check_medoid_indices(medoids, D.shape[0], None)
    return float(D[:, medoids].min(axis=1).sum())


def _check_medoid_indices(idx, n, k):
    arr = np.asarray(idx)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"medoid indices must be a non-empty 1-D integer array, got {idx!r}")
    arr = arr.astype(np.int64)
    if k is not None and arr.size != k:
        raise ValueError(f"init holds {arr.size} medoid indices but n_clusters={k}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"medoid indices must lie in [0, {n - 1}], got {arr.tolist()}")
    if np.unique(arr).size != arr.size:
        raise ValueError(f"medoid indices must be distinct, got {arr.tolist()}")
    return arr


def _build(D, k):
    """PAM's BUILD: greedy medoids, each lowering the total cost the most."""
    n = D.shape[0]
    first = int(np.argmin(D.sum(axis=0)))
    medoids = [first]
    near = D[:, first].copy()
    is_med = np.zeros(n, bool)
    is_med[first] = True
    for _ in range(1, k):
        gain = np.maximum(near[:, None] - D, 0.0).sum(axis=0)
        gain[is_med] = -np.inf
        j = int(np.argmax(gain))
        medoids.append(j)
        is_med[j] = True
        np.minimum(near, D[:, j], out=near)
    return np.array(medoids, dtype=np.int64)


def _nearest_two(D, medoids):
    """Distance to the nearest and second-nearest medoid and the nearest's position."""
    Dm = D[:, medoids]  # (n, k)
    k = medoids.size
    if k == 1:
        return Dm[:, 0].copy(), np.full(D.shape[0], np.inf), np.zeros(D.shape[0], np.int64)
    order = np.argsort(Dm, axis=1, kind="stable")[:, :2]
    rows = np.arange(D.shape[0])
    return Dm[rows, order[:, 0]], Dm[rows, order[:, 1]], order[:, 0].astype(np.int64)


def _swap(D, medoids, max_iter):
    """PAM's SWAP: best single exchange until none lowers the cost (or max_iter swaps)."""
    n = D.shape[0]
    k = medoids.size
    medoids = medoids.copy()
    d1, d2, n1 = _nearest_two(D, medoids)
    cost = float(d1.sum())
    for it in range(max_iter + 1):
        is_med = np.zeros(n, bool)
        is_med[medoids] = True
        best = (cost, -1, -1)
        for i in range(k):
            d_wo = np.where(n1 == i, d2, d1)  # each point's distance once medoid i is gone
            c = np.minimum(D, d_wo[:, None]).sum(axis=0)  # cost of swapping i for every h
            c[is_med] = np.inf
            h = int(np.argmin(c))
            if c[h] < best[0]:
                best = (float(c[h]), i, h)
        new_cost, i, h = best
        if i < 0 or new_cost >= cost - 1e-12 * max(abs(cost), 1.0):
            return medoids, cost, it, True
        if it == max_iter:
            return medoids, cost, it, False
        medoids[i] = h
        d1, d2, n1 = _nearest_two(D, medoids)
        cost = float(d1.sum())
    return medoids, cost, max_iter, False  # pragma: no cover  (the loop returns)


def pam(D, n_clusters, *, init="build", max_iter=100, random_state=None):
    """k-medoids by PAM (BUILD + SWAP) on a precomputed distance matrix.

    Kaufman & Rousseeuw (1990), *Finding Groups in Data*, ch. 2: minimises
    cost(M) = Σ_i min_{m ∈ M} D[i, m] over sets M of ``n_clusters`` points by a greedy start
    (BUILD) followed by best-improvement single swaps of a medoid with a non-medoid (SWAP)
    until no swap lowers the cost. The result is a local optimum with respect to every
    single swap (for k = 1 and k = n it is the global optimum); BUILD + SWAP usually finds
    the global optimum on small, well-clustered sets.

    Parameters
    ----------
    D : array-like of shape (n_points, n_points)
        Finite, nonnegative distances (e.g. the cosine distance 1 − cos between signatures);
        ``D[i, j]`` is the distance of point i to candidate medoid j (need not be symmetric).
        Negative entries down to −1e-12·max|D| are accepted as rounding.
    n_clusters : int
        Number of medoids k, 1 <= k <= n_points.
    init : {"build", "random"} or array-like of int, default "build"
        Start of SWAP: PAM's BUILD (deterministic), k distinct points drawn with
        ``random_state``, or given medoid indices.
    max_iter : int, default 100
        Maximum number of swaps.
    random_state : int, numpy Generator or None
        Used only by ``init="random"``.

    Returns
    -------
    MedoidsResult
        ``medoids`` (sorted indices), ``labels`` (cluster of each point, the position of its
        nearest medoid in ``medoids``), ``cost``, ``n_iter`` (swaps made), ``converged``;
        unpacks as ``medoids, labels, cost``.

    Raises
    ------
    ValueError
        D not square, empty, non-finite or negative; n_clusters not in [1, n_points];
        invalid ``init`` or ``max_iter``.

    Warns
    -----
    ConvergenceWarning
        SWAP was still improving after ``max_iter`` swaps.

    Notes
    -----
    Ties (equal costs) go to the lowest index, so the result is deterministic. Cost per
    SWAP round: O(k·n²) time, O(n²) memory.
    """
    D = _check_distances(D)
    n = D.shape[0]
    k = _check_k(n_clusters, n)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}")
    if isinstance(init, str):
        if init == "build":
            start = _build(D, k)
        elif init == "random":
            start = np.random.default_rng(random_state).choice(n, size=k, replace=False)
            start = start.astype(np.int64)
        else:
            raise ValueError(f"init must be 'build', 'random' or medoid indices, got {init!r}")
    else:
        start = _check_medoid_indices(init, n, k)
    medoids, cost, n_iter, converged = _swap(D, start, int(max_iter))
    if not converged:
        warnings.warn(
            f"PAM SWAP still improved the cost after max_iter={max_iter} swaps; increase max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    medoids = np.sort(medoids)
    Dm = D[:, medoids]
    labels = np.argmin(Dm, axis=1).astype(np.int64)
    labels[medoids] = np.arange(k)  # a medoid belongs to its own cluster (ties at 0 distance)
    cost = float(Dm[np.arange(n), labels].sum())
    return MedoidsResult(
        medoids=medoids, labels=labels, cost=cost, n_iter=int(n_iter), converged=converged
    )
