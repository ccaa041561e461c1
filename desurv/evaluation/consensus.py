"""Consensus factors across fits, their stability, and top-gene consensus seeds.

:func:`consensus_factors` clusters the factors of many fits (seeds, folds, cohorts) into k
consensus factors by constrained k-means on unit columns after Hungarian matching;
:func:`factor_stability` scores how reproducible each factor is (matched cosine, silhouette);
:func:`topgene_consensus_seed` builds the authors' consensus start W from top-gene
co-membership across fits. Matching itself is in :mod:`desurv.evaluation.matching`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from desurv.evaluation.matching import (
    _check_factor_set,
    _cluster_silhouettes,
    _factor_stack,
    _unit_columns,
    linear_sum_assignment_batched,
    match_factors_batched,
)
from desurv.exceptions import ConvergenceWarning, DataWarning

__all__ = [
    "ConsensusResult",
    "StabilityResult",
    "TopGeneSeed",
    "consensus_factors",
    "factor_stability",
    "topgene_consensus_seed",
]
# W_init entries of genes the consensus gives no weight: multiplicative updates cannot move
# an exact zero, so a tiny positive value keeps every gene reachable (as the authors do).
_SEED_FLOOR = float(np.sqrt(np.finfo(np.float64).eps))


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
        Factor sets of the fits, genes aligned. Fitted models give ``W_`` (DeSurv) or
        ``components_.T`` (:class:`desurv.NMF`, scikit-learn ``NMF``). DataFrames (and
        models fitted with feature names) are paired by gene label, with a labelled
        ``reference`` or else with the first labelled set; plain arrays by position.
    reference : {"consensus", "first"} or array-like of shape (n_genes, k), k ≤ k'
        "consensus" (default): the centroids of :func:`consensus_factors`, whose clusters
        are then used as they are; "first": the first fit; or a given factor set (e.g. the
        final model's W).
    n_init, max_iter, random_state
        Passed to :func:`consensus_factors` when ``reference="consensus"``.

    Returns
    -------
    StabilityResult
        With one factor per fit (k = 1) there is a single cluster, for which a silhouette is
        undefined: the silhouettes are then NaN (the matched cosines still tell agreement).

    Raises
    ------
    ValueError
        Invalid input (see :func:`match_factors_batched`) or an unknown ``reference``.
    """
    stack = _factor_stack(Ws, reference=None if isinstance(reference, str) else reference)
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
