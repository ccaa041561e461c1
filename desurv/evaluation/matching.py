"""Matching, stability and consensus of factor sets (gene programs) across fits.

NMF factors are identified only up to order and scale, so comparing the W of two fits
(seeds, folds, cohorts, α values) first needs a one-to-one matching of their columns. This
module matches columns by **cosine similarity** with a compiled rectangular **Hungarian**
solver (``desurv._kernels._hungarian``), summarises matched sets by the **average cosine
similarity** (ACS), measures **stability** by the silhouette of the matched clusters, and
builds **consensus** factors from many fits, either SigProfiler style (clustering with one
factor of every fit per cluster) or by the DeSurv authors' top-gene co-occurrence seed.

Orientation: a factor set is W in the paper's orientation, genes × factors (p, k); pass
``model.W_``, ``result.W`` or ``nmf.components_.T``. A collection of fits is an array of
shape (n_fits, p, k), a sequence of (p, k) arrays, or a sequence of fitted models:
:class:`desurv.DeSurv` (``W_``), :class:`desurv.DeSurvResult` (``W``), or
:class:`desurv.NMF` / scikit-learn ``NMF`` (``components_``, used transposed).

Labels: when two factor sets are both pandas DataFrames (or fitted models that record
``feature_names_in_``), their rows are paired by label (gene or channel name), whatever
their order; differing label sets are an error. When either side is a plain array, rows
are paired by position (see :func:`desurv._validation.align_rows`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from desurv._kernels import _hungarian
from desurv._validation import _row_index, align_rows
from desurv.exceptions import DataWarning

__all__ = [
    "BatchedFactorMatch",
    "FactorMatch",
    "average_cosine_similarity",
    "cosine_similarity",
    "linear_sum_assignment",
    "linear_sum_assignment_batched",
    "match_factors",
    "match_factors_batched",
    "match_to_reference",
]


# --------------------------------------------------------------------------- validation
def _as_float_array(x, name, ndim):
    try:
        arr = np.asarray(x)
        complex_ = arr.dtype.kind == "c"
        if not complex_ and arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if complex_:
        raise ValueError(f"{name} is complex; factor sets must be real")
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


def _factor_matrix(W, name="W"):
    """A factor set (genes × k) from an array-like or a fitted model.

    The one place fitted models are recognised: ``W_`` (:class:`desurv.DeSurv`),
    ``components_`` transposed (:class:`desurv.NMF`, scikit-learn ``NMF``: components ×
    features), ``W`` (:class:`desurv.DeSurvResult`). A model with ``feature_names_in_``
    gives a DataFrame indexed by those names, so that its genes are paired by name. Arrays,
    DataFrames and other objects are returned unchanged.
    """
    if hasattr(W, "__array__") or isinstance(W, (list, tuple)):
        return W
    names = getattr(W, "feature_names_in_", None)
    M = getattr(W, "W_", None)
    if M is None:
        C = getattr(W, "components_", None)
        M = None if C is None else np.asarray(C).T
    if M is None:
        M = getattr(W, "W", None)
    if M is None:
        if hasattr(W, "fit") and hasattr(W, "get_params"):
            raise ValueError(
                f"{name} is an unfitted {type(W).__name__}: fit it first (a fitted model "
                "exposes W_ or components_)"
            )
        return W
    M = np.asarray(M)
    if names is not None and M.ndim == 2 and len(names) == M.shape[0]:
        import pandas as pd

        return pd.DataFrame(M, index=pd.Index(np.asarray(names, dtype=object)))
    return M


def _factor_stack(Ws, name="Ws", reference=None, ref_name="reference"):
    """(n_fits, p, k) float array from an array, a sequence of arrays or fitted models.

    Labelled factor sets (DataFrames, models with ``feature_names_in_``) have their rows
    reordered to the labels of ``reference`` when it is labelled, else to those of the
    first labelled set; unlabelled ones are taken by position.
    """
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
        anchor, anchor_name = (None, None)
        if _row_index(reference) is not None:
            anchor, anchor_name = reference, ref_name
        mats = []
        for i, W in enumerate(items):
            W = _factor_matrix(W, f"{name}[{i}]")
            if _row_index(W) is not None:
                if anchor is None:
                    anchor, anchor_name = W, f"{name}[{i}]"
                else:
                    _, W, _ = align_rows(
                        anchor, W, names=(anchor_name, f"{name}[{i}]"), what="genes"
                    )
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
        When A and B are both DataFrames, rows are paired by label (gene/channel name),
        whatever their order; otherwise by position.

    Returns
    -------
    S : ndarray of shape (k, k')
        ``S[f, h] = a_fᵀ b_h / (‖a_f‖ ‖b_h‖)`` in [−1, 1] (up to rounding); 0 for a column of
        zero norm (with a :class:`~desurv.exceptions.DataWarning`).

    Raises
    ------
    ValueError
        Empty or non-finite input, different numbers of genes, or (both labelled)
        different row labels.
    """
    A, B, _ = align_rows(A, B, what="genes")
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
    index : pandas.Index or None
        Row labels (genes) of A when A and B were paired by label, else None.
    """

    perm: np.ndarray
    similarity: np.ndarray
    similarity_matrix: np.ndarray
    index: object = None

    @property
    def acs(self) -> float:
        """Average cosine similarity of the matched pairs."""
        return float(self.similarity.mean())

    def align(self, B):
        """Return B (n_genes, k') with its columns reordered to match A (n_genes, k).

        An ndarray (or other array-like) gives an ndarray. A DataFrame gives a DataFrame
        (B's column names, reordered); when the match paired rows by label, its rows are
        also put in A's order.
        """
        if _row_index(B) is None or not hasattr(B, "iloc") or getattr(B, "ndim", 0) != 2:
            return np.asarray(B)[:, self.perm]
        out = B.iloc[:, self.perm]
        if self.index is not None:
            import pandas as pd

            _, _, labels = align_rows(pd.DataFrame(index=self.index), out, what="genes")
            if labels is not None:
                out = out.reindex(labels)
        return out


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
        Factor set to match (e.g. the W of another seed, fold or cohort). When A and B are
        both DataFrames, rows are paired by label (gene/channel name), whatever their
        order; otherwise by position.

    Returns
    -------
    FactorMatch
        ``perm``, ``similarity`` (matched cosines), ``similarity_matrix``; ``.acs`` is the
        average cosine similarity and ``.align(B)`` reorders B to A.

    Raises
    ------
    ValueError
        Empty or non-finite input, different numbers of genes, k > k', or (both labelled)
        different row labels.
    """
    A, B, labels = align_rows(A, B, what="genes")
    A = _check_factor_set(A, "A")
    B = _check_factor_set(B, "B")
    _check_same_genes(A.shape[0], B.shape[0])
    _check_k(A.shape[1], B.shape[1])
    S = cosine_similarity(A, B)  # also warns about zero columns
    res = _match_stack(A[None], B[None], warn=False)
    return FactorMatch(
        perm=res.perm[0], similarity=res.similarity[0], similarity_matrix=S, index=labels
    )


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
        pairs = np.flatnonzero(status & 2)
        b = int(pairs[0])
        where = []
        for name, M in (("A", A[0] if A.shape[0] == 1 else A[b]), ("B", B[b])):
            zero = np.flatnonzero(~np.any(M != 0, axis=0))
            if zero.size:
                where.append(f"{name} column(s) {zero[:10].tolist()}")
        warnings.warn(
            f"factor columns of zero norm in {pairs.size} pair(s) {pairs[:10].tolist()} (pair "
            f"{b}: {' and '.join(where)}); their cosine similarity with every factor is set to 0",
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
    A : array-like of shape (n_pairs, n_genes, k), (1, n_genes, k) or (n_genes, k)
        Reference factor sets; a single set (2-D, or 3-D with one set) is used for every
        pair.
    B : array-like of shape (n_pairs, n_genes, k'), k' ≥ k
        Factor sets to match. float32 or float64 inputs are used as is (C-contiguous arrays
        avoid a copy); other dtypes are converted to float64. When A is a DataFrame and B a
        list of DataFrames, the rows of each are paired with A's by label.

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
    if _row_index(A) is not None and isinstance(B, (list, tuple)):
        B = [align_rows(A, Bi, names=("A", f"B[{i}]"), what="genes")[1] for i, Bi in enumerate(B)]
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
        models (``W_``, or ``components_`` of an NMF, transposed); k' ≥ k.
        Labelled sets (DataFrames, models fitted with feature names) are paired with a
        labelled reference by row label; otherwise by position.

    Returns
    -------
    BatchedFactorMatch
        ``perm[i, f]`` is the column of fit i matched to reference factor f.
    """
    ref = _check_factor_set(reference, "reference")
    return match_factors_batched(ref, _factor_stack(Ws, reference=reference))


def average_cosine_similarity(A, B):
    """Average cosine similarity (ACS) between two factor sets after optimal matching.

    ACS = (1/k) Σ_f cos(a_f, b_perm(f)) with perm the matching of :func:`match_factors`;
    1 when B contains A's factors up to order and positive scale.

    Parameters
    ----------
    A : array-like of shape (n_genes, k)
    B : array-like of shape (n_genes, k'), k' ≥ k
        Two DataFrames are paired by row label, as in :func:`match_factors`.

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
