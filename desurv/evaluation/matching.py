"""Matching, stability and consensus of factor sets (gene programs) across fits.

NMF factors are identified only up to order and scale, so comparing the W of two fits
(seeds, folds, cohorts, α values) first needs a one-to-one matching of their columns. This
module matches columns by **cosine similarity** with a compiled rectangular **Hungarian**
solver (``desurv._kernels._hungarian``), summarises matched sets by the **average cosine
similarity** (ACS), measures **stability** by the silhouette of the matched clusters, and
builds **consensus** factors from many fits, either SigProfiler style (clustering with one
factor of every fit per cluster) or by the DeSurv authors' top-gene co-occurrence seed.

Orientation: a factor set is W in the paper's orientation, genes × factors (p, k); pass
``model.W_`` or ``result.W`` (not ``components_``). A collection of fits is an array of
shape (n_fits, p, k), a sequence of (p, k) arrays, or a sequence of fitted
:class:`desurv.DeSurv` / :class:`desurv.DeSurvResult` objects.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from desurv._kernels import _hungarian
from desurv.exceptions import ConvergenceWarning, DataWarning

__all__ = [
    "BatchedFactorMatch",
    "ConsensusResult",
    "FactorMatch",
    "StabilityResult",
    "TopGeneSeed",
    "average_cosine_similarity",
    "consensus_factors",
    "cosine_similarity",
    "factor_stability",
    "linear_sum_assignment",
    "linear_sum_assignment_batched",
    "match_factors",
    "match_factors_batched",
    "match_to_reference",
    "topgene_consensus_seed",
]

# W_init entries of genes the consensus gives no weight: multiplicative updates cannot move
# an exact zero, so a tiny positive value keeps every gene reachable (as the authors do).
_SEED_FLOOR = float(np.sqrt(np.finfo(np.float64).eps))


# --------------------------------------------------------------------------- validation
def _as_float_array(x, name, ndim):
    try:
        arr = np.asarray(x)
        if arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-D, got {arr.ndim} dimension(s) (shape {arr.shape})"
        )
    return arr


def _check_finite(arr, name):
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; remove or impute them first")


def _check_factor_set(A, name):
    """A factor set (p, k): 2-D, nonempty, finite, float."""
    A = _as_float_array(A, name, 2)
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(
            f"{name} is empty (shape {A.shape}); it needs at least one gene and one factor"
        )
    _check_finite(A, name)
    return A


def _zero_columns_warning(norms, name):
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        warnings.warn(
            f"{name} has column(s) {zero.tolist()} of zero norm; their cosine similarity with "
            "every factor is set to 0",
            DataWarning,
            stacklevel=3,
        )


def _factor_stack(Ws, name="Ws"):
    """(n_fits, p, k) float array from an array, a sequence of arrays or fitted models."""
    if isinstance(Ws, np.ndarray) and Ws.ndim == 3:
        stack = Ws
    elif getattr(Ws, "ndim", None) == 2:
        raise ValueError(
            f"{name} is a single 2-D factor set; pass a stack (n_fits, n_genes, n_components) "
            "or a list of factor sets (for one fit: [W])"
        )
    else:
        try:
            items = list(Ws)
        except TypeError:
            raise ValueError(
                f"{name} must be an array of shape (n_fits, n_genes, n_components) or a sequence "
                "of (n_genes, n_components) arrays / fitted models"
            ) from None
        if not items:
            raise ValueError(f"{name} is empty: pass at least one factor set")
        mats = []
        for i, W in enumerate(items):
            if not hasattr(W, "__array__"):  # a fitted DeSurv (W_) or DeSurvResult (W)
                W = getattr(W, "W_", getattr(W, "W", W))
            W = np.asarray(W)
            if W.ndim != 2:
                raise ValueError(
                    f"{name}[{i}] must be 2-D (n_genes, n_components), got shape {W.shape}"
                )
            mats.append(W)
        shapes = {m.shape for m in mats}
        if len(shapes) > 1:
            raise ValueError(
                f"all factor sets in {name} must have the same shape (n_genes, n_components), "
                f"got {sorted(shapes)}; align the genes and use the same k"
            )
        stack = np.stack(mats)
    stack = _as_float_array(stack, name, 3)
    if 0 in stack.shape:
        raise ValueError(f"{name} is empty (shape {stack.shape})")
    _check_finite(stack, name)
    return np.ascontiguousarray(stack)


def _unit_columns(W):
    """Columns (axis −2 indexes genes) scaled to unit ℓ2 norm; zero columns stay zero.

    Scales by the largest |entry| first so huge finite values cannot overflow the sum of
    squares. Returns (U, norms).
    """
    W = np.asarray(W, dtype=np.float64)
    scale = np.abs(W).max(axis=-2, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    Ws = W / scale
    norms = np.sqrt(np.einsum("...pk,...pk->...k", Ws, Ws))
    U = Ws / np.where(norms > 0, norms, 1.0)[..., None, :]
    return U, norms * scale[..., 0, :]


# --------------------------------------------------------------------------- assignment
def _check_cost(cost, name="cost", ndim=2):
    c = _as_float_array(cost, name, ndim)
    if not np.all(np.isfinite(c)):
        raise ValueError(
            f"{name} contains NaN or infinite values; give forbidden pairs a large finite cost"
        )
    return c


def linear_sum_assignment(cost, maximize=False):
    """Solve the rectangular linear sum assignment problem (compiled Hungarian method).

    Finds a one-to-one assignment of min(n_rows, n_cols) rows to columns minimising (or,
    with ``maximize``, maximising) the total cost, with the shortest augmenting path method
    of Jonker & Volgenant in the rectangular form of Crouse (2016). Same contract as
    :func:`scipy.optimize.linear_sum_assignment`, which it agrees with on the optimal total
    cost always and on the assignment whenever the optimum is unique; it releases the GIL.

    Parameters
    ----------
    cost : array-like of shape (n_rows, n_cols)
        Finite cost matrix (either side may be the longer one).
    maximize : bool, default False
        Maximise instead of minimise the total.

    Returns
    -------
    row_ind, col_ind : ndarray of int64, shape (min(n_rows, n_cols),)
        Assigned pairs ``(row_ind[i], col_ind[i])``, sorted by row; the optimal total is
        ``cost[row_ind, col_ind].sum()``.

    Raises
    ------
    ValueError
        ``cost`` not 2-D, not numeric, or containing NaN or ±inf (scipy accepts +inf for
        forbidden pairs; here use a large finite cost instead).
    """
    c = _check_cost(cost)
    nr, nc = c.shape
    if nr == 0 or nc == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    transpose = nr > nc
    work = c.T if transpose else c
    work = np.ascontiguousarray(-work if maximize else work, dtype=np.float64)
    col4row = np.empty(work.shape[0], np.int64)
    _hungarian.lsa(work, col4row)
    if transpose:  # rows of the solved problem are the original columns
        order = np.argsort(col4row, kind="stable")
        return col4row[order], order.astype(np.int64)
    return np.arange(nr, dtype=np.int64), col4row


def linear_sum_assignment_batched(costs, maximize=False):
    """Solve many assignment problems of the same shape in one compiled call.

    Parameters
    ----------
    costs : array-like of shape (n_problems, n_rows, n_cols)
        Finite cost matrices.
    maximize : bool, default False

    Returns
    -------
    row_ind, col_ind : ndarray of int64, shape (n_problems, min(n_rows, n_cols))
        For problem b, the pairs ``(row_ind[b, i], col_ind[b, i])`` sorted by row, exactly
        as :func:`linear_sum_assignment` would return for ``costs[b]``.

    Raises
    ------
    ValueError
        ``costs`` not 3-D, not numeric, or not finite.
    """
    c = _check_cost(costs, "costs", 3)
    n, nr, nc = c.shape
    m = min(nr, nc)
    if n == 0 or m == 0:
        return np.empty((n, m), np.int64), np.empty((n, m), np.int64)
    transpose = nr > nc
    work = c.transpose(0, 2, 1) if transpose else c
    work = np.ascontiguousarray(-work if maximize else work, dtype=np.float64)
    col4row = np.empty((n, m), np.int64)
    _hungarian.lsa_batched(work, col4row)
    if transpose:
        order = np.argsort(col4row, axis=1, kind="stable")
        return np.take_along_axis(col4row, order, axis=1), order.astype(np.int64)
    return np.broadcast_to(np.arange(m, dtype=np.int64), (n, m)).copy(), col4row


# --------------------------------------------------------------------------- matching
def cosine_similarity(A, B):
    """Cosine similarity between the columns of two factor sets.

    Parameters
    ----------
    A : array-like of shape (n_genes, k)
    B : array-like of shape (n_genes, k')

    Returns
    -------
    S : ndarray of shape (k, k')
        ``S[f, h] = a_fᵀ b_h / (‖a_f‖ ‖b_h‖)`` in [−1, 1] (up to rounding); 0 for a column of
        zero norm (with a :class:`~desurv.exceptions.DataWarning`).

    Raises
    ------
    ValueError
        Empty or non-finite input, or different numbers of genes.
    """
    A = _check_factor_set(A, "A")
    B = _check_factor_set(B, "B")
    _check_same_genes(A.shape[0], B.shape[0])
    Ua, na = _unit_columns(A)
    Ub, nb = _unit_columns(B)
    _zero_columns_warning(na, "A")
    _zero_columns_warning(nb, "B")
    return Ua.T @ Ub


def _check_same_genes(pa, pb):
    if pa != pb:
        raise ValueError(
            f"A and B have different numbers of genes ({pa} != {pb}); align both factor sets "
            "to the same genes in the same order first"
        )


def _check_k(ka, kb):
    if ka > kb:
        raise ValueError(
            f"A has more factors than B (k={ka} > k'={kb}); each factor of A needs its own "
            "partner in B: swap the arguments or drop factors of A"
        )


@dataclass
class FactorMatch:
    """One-to-one matching of the k factors of A to k of the k' factors of B.

    Attributes
    ----------
    perm : ndarray of int64, shape (k,)
        ``perm[f]`` is the column of B matched to column f of A, so ``B[:, perm]`` is B
        aligned to A (unmatched columns of B dropped).
    similarity : ndarray of shape (k,)
        Cosine similarity of each matched pair.
    similarity_matrix : ndarray of shape (k, k')
        Cosine similarity of every pair of columns.
    """

    perm: np.ndarray
    similarity: np.ndarray
    similarity_matrix: np.ndarray

    @property
    def acs(self) -> float:
        """Average cosine similarity of the matched pairs."""
        return float(self.similarity.mean())

    def align(self, B):
        """Return B (n_genes, k') with its columns reordered to match A (n_genes, k)."""
        return np.asarray(B)[:, self.perm]


@dataclass
class BatchedFactorMatch:
    """Matchings of many pairs of factor sets (see :func:`match_factors_batched`).

    Attributes
    ----------
    perm : ndarray of int64, shape (n_pairs, k)
        ``perm[b, f]`` is the column of ``B[b]`` matched to column f of ``A[b]``.
    similarity : ndarray of shape (n_pairs, k)
        Cosine similarity of each matched pair.
    """

    perm: np.ndarray
    similarity: np.ndarray

    @property
    def acs(self) -> np.ndarray:
        """Average cosine similarity of each pair, shape (n_pairs,)."""
        return self.similarity.mean(axis=1)

    def align(self, B):
        """Return B (n_pairs, n_genes, k') reordered to (n_pairs, n_genes, k)."""
        return np.take_along_axis(np.asarray(B), self.perm[:, None, :], axis=2)


def match_factors(A, B):
    """Match each factor (column) of A to a distinct factor of B by cosine similarity.

    Maximises the total cosine similarity over one-to-one matchings (Hungarian method on
    the cosine matrix, compiled kernel). Scale and order of the columns do not matter.

    Parameters
    ----------
    A : array-like of shape (n_genes, k)
        Reference factor set.
    B : array-like of shape (n_genes, k'), k' ≥ k
        Factor set to match (e.g. the W of another seed, fold or cohort).

    Returns
    -------
    FactorMatch
        ``perm``, ``similarity`` (matched cosines), ``similarity_matrix``; ``.acs`` is the
        average cosine similarity and ``.align(B)`` reorders B to A.

    Raises
    ------
    ValueError
        Empty or non-finite input, different numbers of genes, or k > k'.
    """
    A = _check_factor_set(A, "A")
    B = _check_factor_set(B, "B")
    _check_same_genes(A.shape[0], B.shape[0])
    _check_k(A.shape[1], B.shape[1])
    S = cosine_similarity(A, B)  # also warns about zero columns
    res = _match_stack(A[None], B[None], warn=False)
    return FactorMatch(perm=res.perm[0], similarity=res.similarity[0], similarity_matrix=S)


def _match_stack(A, B, warn=True):
    """Run the batched kernel on (nA, p, k) and (n, p, k') arrays (nA ∈ {1, n}).

    The kernel flags pairs whose squared column norms are not finite (NaN/inf input, found
    without another pass over the data) or zero; only those pairs are looked at again.
    """
    dtype = np.result_type(A.dtype, B.dtype)
    A = np.ascontiguousarray(A, dtype=dtype)
    B = np.ascontiguousarray(B, dtype=dtype)
    n, k = B.shape[0], A.shape[2]
    perm = np.empty((n, k), np.int64)
    sim = np.empty((n, k), np.float64)
    status = np.zeros(n, np.int8)
    _hungarian.match_cosine_batched(A, B, perm, sim, status)
    if np.any(status & 1):
        idx = np.flatnonzero(status & 1)
        finite = np.isfinite(B[idx]).all(axis=(1, 2))
        finite &= np.isfinite(A if A.shape[0] == 1 else A[idx]).all(axis=(1, 2))
        if not finite.all():
            raise ValueError(
                "A or B contains NaN or infinite values (pairs "
                f"{idx[~finite][:10].tolist()}); remove or impute them first"
            )
    if np.any(status):
        # rare: sums of squares overflowed (huge entries) or underflowed to 0 (tiny ones);
        # cosine is scale-free, so rescale columns by their max |entry| and solve again
        idx = np.flatnonzero(status)
        Ai = _rescale_columns(A if A.shape[0] == 1 else A[idx])
        Bi = _rescale_columns(B[idx])
        st = np.zeros(idx.size, np.int8)
        pi, si = np.empty((idx.size, k), np.int64), np.empty((idx.size, k))
        _hungarian.match_cosine_batched(Ai, Bi, pi, si, st)
        perm[idx], sim[idx], status[idx] = pi, si, st
    if warn and np.any(status & 2):
        warnings.warn(
            "factor columns of zero norm in pairs "
            f"{np.flatnonzero(status & 2)[:10].tolist()}; their cosine similarity with every "
            "factor is set to 0",
            DataWarning,
            stacklevel=3,
        )
    return BatchedFactorMatch(perm=perm, similarity=sim)


def _rescale_columns(W):
    """Divide each column (last axis) by its largest |entry| (zero columns unchanged)."""
    scale = np.abs(W).max(axis=-2, keepdims=True)
    return np.ascontiguousarray(W / np.where(scale > 0, scale, 1.0))


def match_factors_batched(A, B):
    """Match factor sets pair by pair for many pairs, in one compiled call.

    For each pair b the columns of ``A[b]`` are matched one-to-one to columns of ``B[b]``
    maximising the total cosine similarity (cosine matrices and Hungarian solves all happen
    inside one ``nogil`` Numba call with preallocated work arrays; no per-pair Python).
    Results equal :func:`match_factors` applied pair by pair.

    Parameters
    ----------
    A : array-like of shape (n_pairs, n_genes, k) or (n_genes, k)
        Reference factor sets; a single 2-D set is used for every pair.
    B : array-like of shape (n_pairs, n_genes, k'), k' ≥ k
        Factor sets to match. float32 or float64 inputs are used as is (C-contiguous arrays
        avoid a copy); other dtypes are converted to float64.

    Returns
    -------
    BatchedFactorMatch
        ``perm`` (n_pairs, k), ``similarity`` (n_pairs, k); ``.acs`` per pair.

    Raises
    ------
    ValueError
        Wrong dimensions, empty or non-finite input, different numbers of genes or of pairs,
        or k > k'.

    Warns
    -----
    DataWarning
        Some column has zero norm (its cosine with every column is set to 0).
    """
    A = np.asarray(A)
    A = _as_float_array(A, "A", 2 if A.ndim == 2 else 3)
    if A.ndim == 2:
        A = A[None]
    B = _as_float_array(B, "B", 3)
    if 0 in A.shape or 0 in B.shape:
        raise ValueError(f"empty input: A has shape {A.shape}, B has shape {B.shape}")
    if A.shape[0] not in (1, B.shape[0]):
        raise ValueError(
            f"A holds {A.shape[0]} factor sets but B holds {B.shape[0]}; pass one A per pair "
            "or a single 2-D reference"
        )
    _check_same_genes(A.shape[1], B.shape[1])
    _check_k(A.shape[2], B.shape[2])
    return _match_stack(A, B)  # NaN/inf are detected inside the kernel


def match_to_reference(reference, Ws):
    """Match every fit's factors to one reference set (e.g. a consensus or the first fit).

    Parameters
    ----------
    reference : array-like of shape (n_genes, k)
    Ws : array of shape (n_fits, n_genes, k'), sequence of (n_genes, k') arrays or fitted
        models; k' ≥ k.

    Returns
    -------
    BatchedFactorMatch
        ``perm[i, f]`` is the column of fit i matched to reference factor f.
    """
    ref = _check_factor_set(reference, "reference")
    return match_factors_batched(ref, _factor_stack(Ws))


def average_cosine_similarity(A, B):
    """Average cosine similarity (ACS) between two factor sets after optimal matching.

    ACS = (1/k) Σ_f cos(a_f, b_perm(f)) with perm the matching of :func:`match_factors`;
    1 when B contains A's factors up to order and positive scale.

    Parameters
    ----------
    A : array-like of shape (n_genes, k)
    B : array-like of shape (n_genes, k'), k' ≥ k

    Returns
    -------
    float
    """
    return match_factors(A, B).acs


# --------------------------------------------------------------------------- silhouette
def _cosine_silhouette(X, labels):
    """Silhouette of each row of X (N, p) under the cosine distance d = 1 − cos.

    a_i is the mean distance to the other members of i's cluster, b_i the smallest mean
    distance to another cluster, s_i = (b_i − a_i)/max(a_i, b_i), 0 in a singleton cluster
    (Rousseeuw 1987; as ``sklearn.metrics.silhouette_samples(metric="cosine")``). Uses the
    cluster sums of the unit vectors, Σ_j d_ij = n_c − u_iᵀ Σ_j u_j, so no N × N matrix is
    formed. With a single cluster the silhouette is undefined: all NaN.
    """
    U, _ = _unit_columns(np.asarray(X, dtype=np.float64).T)
    U = U.T
    uniq, lab = np.unique(labels, return_inverse=True)
    L = uniq.size
    N = U.shape[0]
    if L < 2:
        return np.full(N, np.nan)
    onehot = np.zeros((N, L))
    onehot[np.arange(N), lab] = 1.0
    sums = onehot.T @ U  # (L, p)
    counts = onehot.sum(axis=0)
    dots = U @ sums.T  # (N, L): Σ_j u_iᵀu_j over cluster members
    mean_d = 1.0 - dots / counts  # to clusters i is not in
    n_own = counts[lab]
    self_dot = np.einsum("ij,ij->i", U, U)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = (n_own - 1.0 - (dots[np.arange(N), lab] - self_dot)) / (n_own - 1.0)
    mean_d[np.arange(N), lab] = np.inf
    b = mean_d.min(axis=1)
    a = np.maximum(a, 0.0)  # rounding can leave a mean distance a hair below 0
    b = np.maximum(b, 0.0)
    m = np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.where(m > 0, (b - a) / m, 0.0)
    s[n_own == 1] = 0.0
    return s


def _cluster_silhouettes(aligned):
    """Silhouettes of matched factors: ``aligned`` (n_fits, p, k), cluster c = column c."""
    n, p, k = aligned.shape
    X = aligned.transpose(0, 2, 1).reshape(n * k, p)  # fit-major, factor-minor rows
    s = _cosine_silhouette(X, np.tile(np.arange(k), n)).reshape(n, k)
    return s, s.mean(axis=0), float(s.mean())


# --------------------------------------------------------------------------- consensus
@dataclass
class ConsensusResult:
    """Consensus factors from many fits (see :func:`consensus_factors`).

    Attributes
    ----------
    centroids : ndarray of shape (n_genes, k)
        Consensus factors, columns of unit ℓ2 norm; column c is the normalised mean of the
        (unit-norm) factors in cluster c.
    assignments : ndarray of int64, shape (n_fits, k)
        ``assignments[i, c]`` is the column of fit i in cluster c (each fit gives exactly one
        factor to each cluster). Clusters are ordered so that ``assignments[0] == arange(k)``.
    similarity : ndarray of shape (n_fits, k)
        Cosine similarity of every member to its centroid.
    silhouette : ndarray of shape (n_fits, k)
        Silhouette (cosine distance) of every member; NaN when k = 1.
    cluster_silhouette : ndarray of shape (k,)
        Mean silhouette per cluster.
    mean_silhouette : float
        Mean silhouette over all members (SigProfiler's stability score).
    cluster_similarity : ndarray of shape (k,)
        Mean cosine similarity of the members of each cluster to its centroid.
    objective : float
        Σ over fits and clusters of the cosine to the centroid (what the clustering maximises).
    n_iter : int
        Assignment rounds of the best restart.
    converged : bool
        Whether the best restart's assignments stopped changing before ``max_iter``.
    """

    centroids: np.ndarray
    assignments: np.ndarray
    similarity: np.ndarray
    silhouette: np.ndarray
    cluster_silhouette: np.ndarray
    mean_silhouette: float
    cluster_similarity: np.ndarray
    objective: float
    n_iter: int
    converged: bool


def _centroids(U, assign):
    """Unit-norm centroids (p, k) of the unit factors U (n, p, k) grouped by ``assign``."""
    aligned = np.take_along_axis(U, assign[:, None, :], axis=2)
    C = aligned.sum(axis=0)
    norms = np.linalg.norm(C, axis=0)
    return C / np.where(norms > 0, norms, 1.0), float(norms.sum()), aligned


def _constrained_kmeans(U, C, max_iter):
    """Alternate per-fit Hungarian assignment to the centroids and centroid updates."""
    assign = None
    for it in range(1, max_iter + 1):
        S = np.matmul(C.T, U)  # (n, k, k): cosine of centroid c with factor f of fit i
        _, new = linear_sum_assignment_batched(S, maximize=True)
        if assign is not None and np.array_equal(new, assign):
            return assign, C, it, True
        assign = new
        C, _, _ = _centroids(U, assign)
    return assign, C, max_iter, False


def consensus_factors(Ws, *, n_init=10, max_iter=100, random_state=None):
    """Consensus factors of many fits by clustering with one factor per fit per cluster.

    SigProfiler-style clustering (Alexandrov et al. 2013; Islam et al. 2022,
    SigProfilerExtractor): the k factors of every fit are pooled and split into k clusters
    under the constraint that each fit contributes exactly one factor to each cluster. Like
    k-means with cosine similarity: starting from centroids, each fit's factors are assigned
    to the centroids by the Hungarian method (maximal total cosine), the centroids are
    recomputed as normalised means of their members, and this repeats until no assignment
    changes. The total cosine to the centroids never decreases, so the loop terminates.

    Differences from SigProfilerExtractor: restarts begin from the factors of randomly
    chosen fits (not uniform noise), factors are compared after scaling to unit ℓ2 norm, and
    the restart with the largest total cosine to the centroids is kept (SigProfiler keeps the
    largest mean silhouette); the silhouettes are reported for the kept clustering.

    Parameters
    ----------
    Ws : array of shape (n_fits, n_genes, k), sequence of (n_genes, k) arrays or fitted models
        Factor sets of the fits (seeds, folds, bootstrap runs), genes aligned.
    n_init : int, default 10
        Restarts, each starting from a different fit (capped at n_fits).
    max_iter : int, default 100
        Maximum assignment rounds per restart.
    random_state : int, numpy Generator or None
        Chooses the starting fits; fixed ⇒ deterministic.

    Returns
    -------
    ConsensusResult

    Raises
    ------
    ValueError
        Empty, non-finite or inconsistently shaped input; ``n_init`` or ``max_iter`` < 1.

    Warns
    -----
    ConvergenceWarning
        The kept restart still changed assignments at ``max_iter``.
    DataWarning
        Some factor has zero norm.
    """
    stack = _factor_stack(Ws)
    n_init = _positive_int(n_init, "n_init")
    max_iter = _positive_int(max_iter, "max_iter")
    U, norms = _unit_columns(stack)
    if np.any(norms == 0):
        warnings.warn(
            "zero-norm factors (fit, factor): "
            f"{[tuple(x) for x in np.argwhere(norms == 0)[:10].tolist()]}; their cosine "
            "similarity with every factor is 0",
            DataWarning,
            stacklevel=2,
        )
    n_fits = U.shape[0]
    rng = np.random.default_rng(random_state)
    starts = rng.choice(n_fits, size=min(n_init, n_fits), replace=False)
    best = None
    for s in starts:
        assign, C, n_iter, conv = _constrained_kmeans(U, U[s], max_iter)
        C, objective, _ = _centroids(U, assign)
        if best is None or objective > best[2]:
            best = (assign, C, objective, n_iter, conv)
    assign, C, objective, n_iter, conv = best
    if not conv:
        warnings.warn(
            f"consensus clustering did not converge in max_iter={max_iter} rounds; "
            "increase max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    order = np.argsort(assign[0], kind="stable")  # cluster c holds fit 0's factor c
    assign, C = assign[:, order], C[:, order]
    _, _, aligned = _centroids(U, assign)
    sim = np.einsum("npk,pk->nk", aligned, C)
    sil, cl_sil, mean_sil = _cluster_silhouettes(aligned)
    return ConsensusResult(
        centroids=C,
        assignments=assign,
        similarity=sim,
        silhouette=sil,
        cluster_silhouette=cl_sil,
        mean_silhouette=mean_sil,
        cluster_similarity=sim.mean(axis=0),
        objective=objective,
        n_iter=n_iter,
        converged=conv,
    )


def _positive_int(x, name):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"{name} must be a positive integer, got {x!r}")
    return int(x)


# --------------------------------------------------------------------------- stability
@dataclass
class StabilityResult:
    """Stability of factors across fits (see :func:`factor_stability`).

    Attributes
    ----------
    reference : ndarray of shape (n_genes, k)
        Reference factors (unit ℓ2 columns) the fits were aligned to.
    perm : ndarray of int64, shape (n_fits, k)
        ``perm[i, f]`` is the column of fit i matched to reference factor f.
    similarity : ndarray of shape (n_fits, k)
        Cosine similarity of each matched factor to its reference factor.
    silhouette : ndarray of shape (n_fits, k)
        Silhouette (cosine distance) of each matched factor in the clusters "factors matched
        to reference factor f"; NaN when k = 1.
    cluster_silhouette : ndarray of shape (k,)
        Mean silhouette per reference factor: near 1 = reproducible program.
    mean_silhouette : float
        Mean silhouette over all matched factors.
    cluster_similarity : ndarray of shape (k,)
        Mean cosine similarity to the reference per factor.
    """

    reference: np.ndarray
    perm: np.ndarray
    similarity: np.ndarray
    silhouette: np.ndarray
    cluster_silhouette: np.ndarray
    mean_silhouette: float
    cluster_similarity: np.ndarray


def factor_stability(Ws, reference="consensus", *, n_init=10, max_iter=100, random_state=None):
    """Stability of factors across seeds or folds: silhouette of the matched clusters.

    Every fit's factors are matched one-to-one to a reference set (Hungarian method on
    cosine similarity); the factors matched to reference factor f form cluster f. The
    silhouette of each factor under the cosine distance (Rousseeuw 1987) measures how much
    closer it is to its own cluster than to the nearest other one: a cluster silhouette near
    1 marks a program every fit finds; low or negative values mark programs that split,
    merge or wander between fits (the stability criterion of SigProfilerExtractor).

    Parameters
    ----------
    Ws : array of shape (n_fits, n_genes, k'), sequence of (n_genes, k') arrays or fitted
        models
        Factor sets of the fits, genes aligned.
    reference : {"consensus", "first"} or array-like of shape (n_genes, k), k ≤ k'
        "consensus" (default): the centroids of :func:`consensus_factors`, whose clusters
        are then used as they are; "first": the first fit; or a given factor set (e.g. the
        final model's W).
    n_init, max_iter, random_state
        Passed to :func:`consensus_factors` when ``reference="consensus"``.

    Returns
    -------
    StabilityResult

    Raises
    ------
    ValueError
        Invalid input (see :func:`match_factors_batched`) or an unknown ``reference``.
    """
    stack = _factor_stack(Ws)
    if isinstance(reference, str):
        if reference == "consensus":
            cons = consensus_factors(
                stack, n_init=n_init, max_iter=max_iter, random_state=random_state
            )
            return StabilityResult(
                reference=cons.centroids,
                perm=cons.assignments,
                similarity=cons.similarity,
                silhouette=cons.silhouette,
                cluster_silhouette=cons.cluster_silhouette,
                mean_silhouette=cons.mean_silhouette,
                cluster_similarity=cons.cluster_similarity,
            )
        if reference != "first":
            raise ValueError(
                f"reference must be 'consensus', 'first' or a (n_genes, k) array, got {reference!r}"
            )
        ref = stack[0]
    else:
        ref = _check_factor_set(reference, "reference")
    match = match_factors_batched(ref, stack)
    U, _ = _unit_columns(stack)
    aligned = match.align(U)
    sil, cl_sil, mean_sil = _cluster_silhouettes(aligned)
    ref_unit, _ = _unit_columns(ref)
    return StabilityResult(
        reference=ref_unit,
        perm=match.perm,
        similarity=match.similarity,
        silhouette=sil,
        cluster_silhouette=cl_sil,
        mean_silhouette=mean_sil,
        cluster_similarity=match.similarity.mean(axis=0),
    )


# --------------------------------------------------------------------------- top-gene seed
@dataclass
class TopGeneSeed:
    """Consensus start for a final fit (see :func:`topgene_consensus_seed`).

    Attributes
    ----------
    W_init : ndarray of shape (n_genes, n_components)
        Nonnegative seed, each column scaled to maximum 1, every entry ≥ √eps; pass it as
        ``fit_desurv(..., W_init=seed.W_init)`` or
        ``DeSurv(init="custom").fit(X, y, W_init=seed.W_init)`` (H then comes from
        nonnegative least squares and β starts at 0, as in the authors' package).
    method : str
        "cooccurrence" or "jaccard".
    frequency : ndarray of int64, shape (n_genes,)
        Number of top-gene sets (fits × factors) containing each gene.
    threshold : int
        Minimum frequency for a gene to be clustered ("cooccurrence").
    genes : ndarray of int64
        Indices of the clustered genes ("cooccurrence"); all genes in a set ("jaccard").
    labels : ndarray of int64
        "cooccurrence": cluster (column of W_init) of each gene, shape (n_genes,), −1 for
        genes below the threshold. "jaccard": cluster of each top-gene set, shape
        (n_fits, k).
    similarity : ndarray
        The matrix that was clustered: gene co-occurrence frequencies among ``genes``
        (counts / number of sets) or the Jaccard similarity of the sets.
    gene_names : ndarray or None
    """

    W_init: np.ndarray
    method: str
    frequency: np.ndarray
    threshold: int
    genes: np.ndarray
    labels: np.ndarray
    similarity: np.ndarray
    gene_names: np.ndarray | None = None

    def to_frame(self):
        """W_init as a pandas DataFrame (genes × ``consensus_1..k``)."""
        import pandas as pd

        k = self.W_init.shape[1]
        return pd.DataFrame(
            self.W_init,
            index=self.gene_names,
            columns=[f"consensus_{c + 1}" for c in range(k)],
        )


def _top_gene_membership(stack, n_top):
    """Boolean (n_fits·k, p): set s = (fit i, factor f) ∋ gene g, by the s_gf rule."""
    from desurv.deconvolution.estimator import (
        top_genes,
    )  # the single definition of the paper's rule

    n_fits, p, k = stack.shape
    M = np.zeros((n_fits * k, p), dtype=bool)
    for i in range(n_fits):
        idx = top_genes(stack[i], n_top).to_numpy().astype(np.int64)  # names = "0".."p-1"
        for f in range(k):
            M[i * k + f, idx[:, f]] = True
    return M


def _cut(similarity, n_clusters, linkage):
    """Agglomerative clustering on distance 1 − similarity, cut into exactly n_clusters."""
    from scipy.cluster.hierarchy import cut_tree
    from scipy.cluster.hierarchy import linkage as scipy_linkage
    from scipy.spatial.distance import squareform

    m = similarity.shape[0]
    if n_clusters == 1:
        return np.zeros(m, dtype=np.int64)
    if n_clusters == m:
        return np.arange(m, dtype=np.int64)
    D = np.clip(1.0 - similarity, 0.0, None)
    np.fill_diagonal(D, 0.0)
    Z = scipy_linkage(squareform(D, checks=False), method=linkage)
    return cut_tree(Z, n_clusters=n_clusters).ravel().astype(np.int64)


def _scaled_seed(W):
    col_max = W.max(axis=0)
    W = W / np.where(col_max > 0, col_max, 1.0)
    return np.maximum(W, _SEED_FLOOR)


def topgene_consensus_seed(
    Ws,
    n_components=None,
    *,
    n_top=50,
    min_frequency=0.3,
    method="cooccurrence",
    linkage="average",
    gene_names=None,
):
    """Consensus start W_init from the top genes of many fits (the DeSurv authors' seed).

    Method ``"cooccurrence"`` follows ``desurv_consensus_seed`` of the authors' R package
    (ayoung31/DeSurv, used by the DeSurv-paper pipeline to start its final fits):

    1. top genes of every factor of every fit by the specificity score
       s_gf = W̃_gf − max_{r≠f} W̃_gr (:func:`desurv.top_genes`), giving n_fits·k sets;
    2. co-occurrence C_gh = (number of sets containing genes g and h) / (number of sets);
    3. genes in at least ``threshold`` sets are clustered by agglomerative clustering
       (``linkage``) on the distance 1 − C, cut into ``n_components`` clusters;
    4. column c of W_init is the mean row of C over the genes of cluster c (so a gene weighs
       by how often it is selected with the cluster's genes), scaled to maximum 1; entries
       that would be 0 are set to √eps so multiplicative updates can still move them.

    Method ``"jaccard"`` clusters the top-gene *sets* instead: Jaccard similarity
    |S ∩ T| / |S ∪ T| between all sets, agglomerative clustering into ``n_components``
    clusters, and column c = fraction of cluster c's sets containing each gene (scaled to
    maximum 1, floored at √eps). It ignores ``min_frequency``.

    Deviations from the R code: H_init is not computed here (:func:`desurv.fit_desurv`
    computes it by nonnegative least squares when only ``W_init`` is given, as the R code
    does); ``min_frequency`` is a fraction of fits (the paper pipeline passes
    0.3 × n_fits as a count), and fewer eligible genes than ``n_components`` is an error
    rather than a silent change of k.

    Parameters
    ----------
    Ws : array of shape (n_fits, n_genes, k), sequence of (n_genes, k) arrays or fitted models
        Factor sets of independent fits (e.g. seeds), genes aligned, W ≥ 0.
    n_components : int, optional
        Number of consensus factors (default k of the fits).
    n_top : int, default 50
        Top genes per factor (capped at n_genes); the paper tunes it with the other
        hyperparameters.
    min_frequency : float in [0, 1], default 0.3
        A gene is clustered when it is among the top genes of at least
        ``max(1, ceil(min_frequency · n_fits))`` sets (the paper pipeline's 30 %).
    method : {"cooccurrence", "jaccard"}, default "cooccurrence"
    linkage : {"average", "complete", "single"}, default "average"
        Agglomerative linkage (the R default is "average").
    gene_names : sequence of str of length n_genes, optional
        Kept on the result for :meth:`TopGeneSeed.to_frame`.

    Returns
    -------
    TopGeneSeed

    Raises
    ------
    ValueError
        Invalid or negative input, bad parameters, or fewer eligible genes (or sets) than
        ``n_components``.
    """
    stack = _factor_stack(Ws)
    if np.any(stack < 0):
        raise ValueError("Ws contains negative values; top genes need nonnegative NMF factors")
    n_fits, p, k = stack.shape
    n_components = k if n_components is None else _positive_int(n_components, "n_components")
    n_top = _positive_int(n_top, "n_top")
    if not (isinstance(min_frequency, (int, float)) and 0.0 <= min_frequency <= 1.0):
        raise ValueError(f"min_frequency must be a fraction in [0, 1], got {min_frequency!r}")
    if method not in ("cooccurrence", "jaccard"):
        raise ValueError(f"method must be 'cooccurrence' or 'jaccard', got {method!r}")
    if linkage not in ("average", "complete", "single"):
        raise ValueError(f"linkage must be 'average', 'complete' or 'single', got {linkage!r}")
    if gene_names is not None:
        gene_names = np.asarray(gene_names)
        if gene_names.shape != (p,):
            raise ValueError(
                f"gene_names must have length n_genes={p}, got shape {gene_names.shape}"
            )

    M = _top_gene_membership(stack, n_top)
    n_sets = M.shape[0]
    frequency = M.sum(axis=0).astype(np.int64)
    threshold = max(1, int(np.ceil(min_frequency * n_fits - 1e-12)))
    Mf = M.astype(np.float64)

    if method == "cooccurrence":
        genes = np.flatnonzero(frequency >= threshold)
        if genes.size < n_components:
            raise ValueError(
                f"only {genes.size} genes are among the top genes of at least {threshold} sets, "
                f"fewer than n_components={n_components}: lower min_frequency or raise n_top"
            )
        C = (Mf[:, genes].T @ Mf[:, genes]) / n_sets
        lab = _cut(C, n_components, linkage)
        labels = np.full(p, -1, dtype=np.int64)
        labels[genes] = lab
        W = np.empty((p, n_components))
        for c in range(n_components):
            members = genes[lab == c]
            # mean over the cluster's genes of their co-occurrence rows with all genes
            W[:, c] = Mf.T @ Mf[:, members].sum(axis=1) / (members.size * n_sets)
        sim = C
    else:
        if n_sets < n_components:
            raise ValueError(
                f"{n_sets} top-gene sets cannot form n_components={n_components} clusters"
            )
        inter = Mf @ Mf.T
        size = Mf.sum(axis=1)
        sim = inter / (size[:, None] + size[None, :] - inter)
        lab = _cut(sim, n_components, linkage)
        labels = lab.reshape(n_fits, k)
        genes = np.arange(p, dtype=np.int64)
        W = np.stack([Mf[lab == c].mean(axis=0) for c in range(n_components)], axis=1)

    return TopGeneSeed(
        W_init=_scaled_seed(W),
        method=method,
        frequency=frequency,
        threshold=threshold,
        genes=genes,
        labels=labels,
        similarity=sim,
        gene_names=gene_names,
    )
