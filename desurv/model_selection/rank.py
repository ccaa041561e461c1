"""Rank selection for NMF: the unsupervised survey over k (Brunet et al. 2004; Kim & Park 2007;
Hutchins et al. 2008; Hoyer 2004).

:func:`nmf_rank_survey` fits plain NMF (DeSurv's multiplicative updates at α = 0) from many
random starts for each k and reports, per k, the cophenetic correlation and dispersion of the
consensus matrix, the consensus silhouette, the residual sum of squares, the explained variance
and the sparseness of both factors, as the R NMF package does, and the SigProfilerExtractor-style
stability of the factors (silhouette of the factors clustered across restarts). With
``estimator=`` it fits any estimator of the NMF family instead (scikit-learn's NMF API), e.g. on
mutational catalogues; :func:`signature_stability_survey` is that use with a
SigProfiler-style table (stability and reconstruction error per k).

The bootstrap test-error rule of Egendal et al. is
:func:`desurv.model_selection.select_rank_bootstrap`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import cophenet, fcluster, linkage
from scipy.spatial.distance import squareform

from desurv.deconvolution.estimator import _as_matrix
from desurv.deconvolution.solver import fit_desurv
from desurv.exceptions import ConvergenceWarning, DataWarning
from desurv.model_selection.bootstrap_rank import _fit_quietly, _fitted_factors, _resolve_estimator

__all__ = [
    "connectivity_matrix",
    "consensus_matrix",
    "consensus_silhouette",
    "cophenetic_correlation",
    "dispersion",
    "explained_variance",
    "nmf_rank_survey",
    "residual_sum_of_squares",
    "signature_stability_survey",
    "sparseness",
]
SURVEY_COLUMNS = (
    "k",
    "cophenetic",
    "dispersion",
    "silhouette",
    "rss",
    "explained_variance",
    "sparseness_basis",
    "sparseness_coef",
    "n_runs",
)
#: Columns added after ``n_converged``: SigProfiler-style stability of the factors.
STABILITY_COLUMNS = ("stability", "stability_min")
STABILITY_SURVEY_COLUMNS = (
    "k",
    "stability",
    "stability_min",
    "reconstruction_error",
    "rss",
    "explained_variance",
    "n_runs",
    "n_converged",
)


# --------------------------------------------------------------------------------------------
# rank-selection metrics
# --------------------------------------------------------------------------------------------
def sparseness(A, axis=0):
    """Hoyer's sparseness of each vector of ``A`` along ``axis``.

    ``s(x) = (√m − ‖x‖₁/‖x‖₂) / (√m − 1)`` for a vector of length m (Hoyer 2004): 1 for a
    vector with a single nonzero entry, 0 for a constant vector.

    Parameters
    ----------
    A : array-like of shape (m,) or (m, n_vectors) (``axis=0``)
        Real vectors (absolute values are used).
    axis : int, default 0
        Axis along which each vector lies.

    Returns
    -------
    float or ndarray of float64
        Sparseness per vector (a float for 1-D input); NaN for an all-zero vector or m = 1.
    """
    A = np.abs(np.asarray(A, dtype=np.float64))
    m = A.shape[axis]
    l1 = A.sum(axis=axis)
    l2 = np.sqrt((A * A).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (np.sqrt(m) - l1 / l2) / (np.sqrt(m) - 1.0)
    return float(out) if np.ndim(out) == 0 else out


def residual_sum_of_squares(X, W, H):
    """RSS = ‖X − WH‖²_F (X genes × samples, W genes × k, H k × samples)."""
    R = np.asarray(X, dtype=np.float64) - np.asarray(W) @ np.asarray(H)
    return float(np.einsum("ij,ij->", R, R))


def explained_variance(X, W, H):
    """Explained variance 1 − RSS/‖X‖²_F of the R package NMF (``evar``)."""
    X = np.asarray(X, dtype=np.float64)
    return 1.0 - residual_sum_of_squares(X, W, H) / float(np.einsum("ij,ij->", X, X))


def connectivity_matrix(labels):
    """Connectivity C_ij = 1 if samples i and j have the same cluster label, else 0.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)

    Returns
    -------
    ndarray of float64, shape (n_samples, n_samples)
    """
    labels = np.asarray(labels)
    return (labels[:, None] == labels[None, :]).astype(np.float64)


def consensus_matrix(label_runs):
    """Consensus matrix: mean connectivity over runs (Monti et al. 2003; Brunet et al. 2004).

    Parameters
    ----------
    label_runs : array-like of shape (n_runs, n_samples)
        Cluster label of every sample in every run (for NMF: argmax of each column of H).

    Returns
    -------
    ndarray of float64, shape (n_samples, n_samples)
        Entries in [0, 1]: the fraction of runs in which two samples share a cluster.
    """
    L = np.asarray(label_runs)
    if L.ndim != 2 or L.shape[0] == 0:
        raise ValueError(f"label_runs must be 2-D (n_runs, n_samples), got shape {L.shape}")
    C = np.zeros((L.shape[1], L.shape[1]))
    for labels in L:
        C += connectivity_matrix(labels)
    return C / L.shape[0]


def _check_consensus(C):
    C = np.asarray(C, dtype=np.float64)
    if C.ndim != 2 or C.shape[0] != C.shape[1] or C.shape[0] < 2:
        raise ValueError(f"consensus must be a square matrix of size >= 2, got shape {C.shape}")
    if not np.all(np.isfinite(C)) or C.min() < 0 or C.max() > 1:
        raise ValueError("consensus entries must be finite and in [0, 1]")
    if not np.allclose(C, C.T):
        raise ValueError("consensus must be symmetric")
    return C


def _consensus_distances(C):
    """Condensed distances 1 − C (upper triangle), the input of average linkage."""
    D = 1.0 - C
    np.fill_diagonal(D, 0.0)
    return squareform(0.5 * (D + D.T), checks=False)


def cophenetic_correlation(consensus, method="average"):
    """Cophenetic correlation coefficient of a consensus matrix (Brunet et al. 2004).

    Pearson correlation between the distances 1 − C and the cophenetic distances of their
    hierarchical clustering (``scipy.cluster.hierarchy.linkage`` with ``method``, then
    ``cophenet``).  1 for a perfectly stable (0/1 block) consensus.

    Parameters
    ----------
    consensus : array-like of shape (n_samples, n_samples)
        Symmetric, entries in [0, 1].
    method : str, default "average"
        Linkage method (R NMF uses average linkage).

    Returns
    -------
    float
        In [−1, 1]; NaN when the distances are all equal (e.g. a constant consensus).

    Raises
    ------
    ValueError
        If ``consensus`` is not square (≥ 2), symmetric and in [0, 1].
    """
    d = _consensus_distances(_check_consensus(consensus))
    if np.ptp(d) == 0.0:
        return float("nan")
    return float(cophenet(linkage(d, method=method), d)[0])


def dispersion(consensus):
    """Dispersion coefficient ρ = (1/n²) Σ_ij 4 (C_ij − ½)² (Kim & Park 2007).

    1 for a consensus of only 0s and 1s (perfectly reproducible clustering), smaller the more
    entries sit near ½.

    Raises
    ------
    ValueError
        If ``consensus`` is not square (≥ 2), symmetric and in [0, 1].
    """
    C = _check_consensus(consensus)
    return float(np.mean(4.0 * (C - 0.5) ** 2))


def consensus_silhouette(consensus, k, method="average"):
    """Mean silhouette width of the consensus clustering (R NMF's ``silhouette.consensus``).

    Samples are clustered by cutting the ``method`` linkage of the distances 1 − C into ``k``
    clusters (``fcluster(..., criterion="maxclust")``); the silhouette of sample i is
    ``(b_i − a_i)/max(a_i, b_i)`` with a_i its mean distance to the other members of its
    cluster and b_i the smallest mean distance to another cluster (0 for a singleton), as in
    Rousseeuw (1987).

    Returns
    -------
    float
        Mean silhouette in [−1, 1]; NaN when fewer than 2 or more than n − 1 clusters result.

    Raises
    ------
    ValueError
        If ``consensus`` is not a valid consensus matrix or ``k`` is not an integer >= 1.
    """
    C = _check_consensus(consensus)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    d = _consensus_distances(C)
    if np.ptp(d) == 0.0:
        return float("nan")
    labels = fcluster(linkage(d, method=method), t=int(k), criterion="maxclust")
    return _silhouette(squareform(d), labels)


def _silhouette(D, labels):
    """Mean silhouette width for a precomputed distance matrix (Rousseeuw 1987)."""
    n = D.shape[0]
    uniq, codes = np.unique(labels, return_inverse=True)
    if not 2 <= uniq.size <= n - 1:
        return float("nan")
    onehot = np.zeros((n, uniq.size))
    onehot[np.arange(n), codes] = 1.0
    sizes = onehot.sum(axis=0)
    sums = D @ onehot  # (n, n_clusters): total distance to each cluster
    own = sizes[codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        a = sums[np.arange(n), codes] / (own - 1.0)
        means = sums / sizes
    means[np.arange(n), codes] = np.inf
    b = means.min(axis=1)
    s = np.zeros(n)
    ok = own > 1  # singletons have silhouette 0
    denom = np.maximum(a[ok], b[ok])
    s[ok] = np.where(denom > 0, (b[ok] - a[ok]) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(s.mean())


# --------------------------------------------------------------------------------------------
# rank survey
# --------------------------------------------------------------------------------------------
def _run_seeds(random_state, n):
    """``n`` independent integer seeds derived from ``random_state`` (as the solver does)."""
    if isinstance(random_state, np.random.Generator):
        return [int(s) for s in random_state.integers(0, 2**63 - 1, size=n)]
    children = np.random.SeedSequence(random_state).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0]) for c in children]


def _one_run(Xg, k, seed, max_iter, tol, penalty_w, penalty_h):
    """One NMF run (paper orientation) from a uniform random start; returns (W, H, n_iter)."""
    p, n = Xg.shape
    rng = np.random.default_rng(seed)
    upper = float(Xg.max()) or 1.0
    W0 = rng.uniform(0.0, upper, size=(p, k))
    H0 = rng.uniform(0.0, upper, size=(k, n))
    # With α = 0 survival data never enter the NMF updates; fit_desurv needs some, so a
    # placeholder is passed and its final Cox fit is ignored.
    res = fit_desurv(
        Xg,
        np.arange(n, dtype=np.float64),
        np.ones(n, dtype=bool),
        k,
        alpha=0.0,
        penalty_w=penalty_w,
        penalty_h=penalty_h,
        W_init=W0,
        H_init=H0,
        max_iter=max_iter,
        tol=tol,
        n_threads=1,
        warn=False,
    )
    return res.W, res.H, res.n_iter, res.converged


def _estimator_run(template, Xs, k, seed, has_seed):
    """One fit of an NMF-family estimator on samples × features ``Xs`` (one BLAS thread).

    Returns (W, H, n_iter, converged) in the paper's orientation: W = components_ᵀ
    (features × k), H = exposuresᵀ (k × samples).
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        est = clone(template).set_params(n_components=int(k))
        if has_seed:
            est.set_params(random_state=int(seed))
        exposures, converged = _fit_quietly(est, Xs)
        exposures, comps = _fitted_factors(est, exposures, Xs.shape[0], Xs.shape[1], k)
    return comps.T, exposures.T, getattr(est, "n_iter_", None), converged


def _stability(Ws):
    """(mean, min) cluster silhouette of the factors of several runs (NaN if undefined).

    SigProfilerExtractor's stability (Islam et al. 2022): the factors of all runs are
    clustered with one factor of every run per cluster
    (:func:`desurv.evaluation.consensus.factor_stability`, cosine distance); "stability" is
    the mean silhouette over all factors, "stability_min" the smallest mean silhouette of a
    cluster. Undefined (NaN) for one run or k = 1.
    """
    from desurv.evaluation.consensus import factor_stability

    stack = np.stack(Ws)
    if stack.shape[0] < 2 or stack.shape[2] < 2:
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        # the clustering is deterministic (random_state=0); a non-converged clustering
        # still scores the assignment it reached
        warnings.simplefilter("ignore", ConvergenceWarning)
        st = factor_stability(stack, random_state=0)
    return float(st.mean_silhouette), float(np.min(st.cluster_silhouette))


def nmf_rank_survey(
    X,
    ks,
    *,
    n_runs=30,
    random_state=None,
    max_iter=None,
    tol=None,
    penalty_w=0.0,
    penalty_h=0.0,
    n_jobs=None,
    return_consensus=False,
    estimator=None,
):
    """Rank-selection metrics of plain NMF over several ranks k, from many random starts.

    For every k, ``n_runs`` NMF fits give per run W (features × k) and H (k × samples).
    By default each run is the α = 0 solver of :func:`desurv.fit_desurv` from a start
    uniform on [0, max X]; with ``estimator=`` it is ``clone(estimator)`` with
    ``n_components=k`` and its own ``random_state`` per run, and W = ``components_``ᵀ,
    H = the exposures that ``fit_transform`` returns, transposed. Each run assigns every
    sample to the factor with the largest coefficient (argmax of its column of H); the
    consensus matrix is the fraction of runs in which two samples share a factor.

    Metrics per k (R package NMF conventions, plus SigProfilerExtractor's stability):

    * ``cophenetic``: cophenetic correlation of the consensus (average linkage on 1 − C;
      Brunet et al. 2004); a drop as k grows suggests the largest stable rank before it;
    * ``dispersion``: (1/n²) Σ 4 (C_ij − ½)² (Kim & Park 2007), 1 = perfectly stable;
    * ``silhouette``: mean silhouette width of the consensus clustering into k clusters;
    * ``rss``: ‖X − WH‖²_F and ``explained_variance``: 1 − RSS/‖X‖²_F, of the best run (lowest
      RSS), as R NMF reports for multi-run fits;
    * ``sparseness_basis``, ``sparseness_coef``: mean Hoyer sparseness of the columns of W and
      of the columns of H of the best run;
    * ``stability``, ``stability_min``: the factors (columns of W) of all runs are clustered
      with one factor of every run per cluster (:func:`desurv.evaluation.factor_stability`,
      cosine distance); ``stability`` is their mean silhouette and ``stability_min`` the
      smallest cluster mean (Alexandrov et al. 2013; Islam et al. 2022, SigProfilerExtractor,
      whose runs are on resampled data, here on restarts). Near 1 when every run finds the
      same factors; NaN for ``n_runs`` = 1 or k = 1.

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        Nonnegative, finite: expression (e.g. within-sample ranks, samples × genes) or a
        mutational catalogue (genomes × channels, as :func:`desurv.datasets.read_catalogue`
        returns it).
    ks : int or sequence of int
        Ranks to survey, each 1 <= k <= min(n_samples, n_features) (consensus metrics need
        k >= 2 to be informative and are NaN where undefined).
    n_runs : int, default 30
        Random starts per rank (>= 1; consensus and stability metrics need several).
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same table whatever ``n_jobs`` is.
    max_iter, tol : int, float or None, default None
        Stopping rule of each run. Built-in solver: relative change of the NMF objective,
        None means 1000 and 1e-6. With ``estimator=``: set on the estimator when given
        (None keeps the estimator's own).
    penalty_w, penalty_h : float >= 0, default 0
        λ_W, λ_H ridge penalties of the built-in solver (0 = plain NMF); with ``estimator=``
        they must stay 0 (set the estimator's own regularisation instead).
    n_jobs : int or None, default None
        Runs in parallel with joblib (processes); None or 1 runs them one after another.
        Every run uses one BLAS thread.
    return_consensus : bool, default False
        Also return the consensus matrix of every k.
    estimator : estimator or str, optional
        An unfitted estimator with scikit-learn's NMF API (``n_components``,
        ``fit_transform`` returning exposures, ``components_``): :class:`desurv.NMF`,
        ``sklearn.decomposition.NMF``, convex NMF, AE-NMF; or an unsupervised method name
        of the benchmark registry. Its ``random_state`` is replaced by one seed per run, so
        use a random start (e.g. ``init="random"``): a deterministic start makes all runs
        equal (a :class:`~desurv.exceptions.DataWarning` says so).

    Returns
    -------
    survey : pandas.DataFrame
        One row per k (sorted as given) with columns ``k``, ``cophenetic``, ``dispersion``,
        ``silhouette``, ``rss``, ``explained_variance``, ``sparseness_basis``,
        ``sparseness_coef``, ``n_runs``, ``n_converged``, ``stability``, ``stability_min``.
    consensus : dict of int to pandas.DataFrame
        Only with ``return_consensus=True``: samples × samples consensus per k (labelled by
        X's index when X is a DataFrame).

    Raises
    ------
    ValueError
        Negative, NaN or non-2-D X; ks empty, not integers, repeated or out of range;
        ``n_runs`` < 1; an estimator without the NMF API; penalties with ``estimator=``.

    Warns
    -----
    ConvergenceWarning
        When some run stopped at ``max_iter`` (counted in ``n_converged``).
    DataWarning
        With ``estimator=``, when all runs of some k gave the same factors (relative
        difference <= 1e-6).
    """
    return _rank_survey(
        X,
        ks,
        n_runs=n_runs,
        random_state=random_state,
        max_iter=max_iter,
        tol=tol,
        penalty_w=penalty_w,
        penalty_h=penalty_h,
        n_jobs=n_jobs,
        return_consensus=return_consensus,
        estimator=estimator,
        stacklevel=3,
    )


def _rank_survey(
    X,
    ks,
    *,
    n_runs,
    random_state,
    max_iter,
    tol,
    penalty_w,
    penalty_h,
    n_jobs,
    return_consensus,
    estimator,
    stacklevel,
):
    """The body of :func:`nmf_rank_survey`; its warnings point ``stacklevel`` frames up."""
    index = X.index if isinstance(X, pd.DataFrame) else None
    Xa, _ = _as_matrix(X)
    n, p = Xa.shape
    ks_list = [ks] if np.ndim(ks) == 0 else list(ks)
    if not ks_list:
        raise ValueError("ks is empty: give at least one rank")
    for k in ks_list:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"ks must contain integers, got {k!r}")
        if not 1 <= k <= min(n, p):
            raise ValueError(f"rank k={k} out of range: need 1 <= k <= min(n_samples, n_features)")
    if len(set(int(k) for k in ks_list)) != len(ks_list):
        raise ValueError(f"ks has repeated ranks: {ks_list}")
    if isinstance(n_runs, bool) or not isinstance(n_runs, (int, np.integer)) or n_runs < 1:
        raise ValueError(f"n_runs must be an integer >= 1, got {n_runs!r}")
    seeds = _run_seeds(random_state, len(ks_list) * int(n_runs))
    tasks = [(int(k), seeds[i * n_runs + r]) for i, k in enumerate(ks_list) for r in range(n_runs)]
    if estimator is None:
        Xg = np.ascontiguousarray(Xa.T)  # genes × samples
        args = (
            1000 if max_iter is None else int(max_iter),
            1e-6 if tol is None else float(tol),
            float(penalty_w),
            float(penalty_h),
        )
        fn, lead = _one_run, (Xg,)
    else:
        if penalty_w or penalty_h:
            raise ValueError(
                "penalty_w and penalty_h apply to the built-in solver only; with estimator= "
                "set the estimator's own regularisation (e.g. alpha_W, alpha_H)"
            )
        extra = {name: v for name, v in (("max_iter", max_iter), ("tol", tol)) if v is not None}
        template = _resolve_estimator(estimator, extra or None, first_k=int(ks_list[0]))
        has_seed = "random_state" in template.get_params(deep=False)
        tasks = [(k, s % 2**32) for k, s in tasks]  # scikit-learn takes 32-bit seeds
        args = (has_seed,)
        fn, lead = _estimator_run, (template, Xa)
        Xg = Xa.T  # the metrics below work in the paper's orientation (features × samples)
    if n_jobs in (None, 1):
        results = [fn(*lead, k, s, *args) for k, s in tasks]
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs)(delayed(fn)(*lead, k, s, *args) for k, s in tasks)

    x_sq = float(np.einsum("ij,ij->", Xg, Xg))
    rows, consensus = [], {}
    identical = []
    for i, k in enumerate(ks_list):
        runs = results[i * n_runs : (i + 1) * n_runs]
        rss = np.array([residual_sum_of_squares(Xg, W, H) for W, H, _, _ in runs])
        labels = np.array([np.argmax(H, axis=0) for _, H, _, _ in runs])
        C = consensus_matrix(labels)
        best = int(np.argmin(rss))
        W, H = runs[best][0], runs[best][1]
        if estimator is not None and n_runs > 1:
            W0 = runs[0][0]
            tol_w = 1e-6 * (np.linalg.norm(W0) or 1.0)
            if all(np.linalg.norm(r[0] - W0) <= tol_w for r in runs[1:]):
                identical.append(int(k))
        stab, stab_min = _stability([r[0] for r in runs])
        rows.append(
            {
                "k": int(k),
                "cophenetic": cophenetic_correlation(C),
                "dispersion": dispersion(C),
                "silhouette": consensus_silhouette(C, int(k)),
                "rss": float(rss[best]),
                "explained_variance": 1.0 - float(rss[best]) / x_sq,
                "sparseness_basis": float(np.nanmean(sparseness(W, axis=0))) if p > 1 else np.nan,
                "sparseness_coef": float(np.nanmean(sparseness(H, axis=0))) if k > 1 else np.nan,
                "n_runs": int(n_runs),
                "n_converged": int(sum(bool(r[3]) for r in runs)),
                "stability": stab,
                "stability_min": stab_min,
            }
        )
        consensus[int(k)] = pd.DataFrame(C, index=index, columns=index)
    survey = pd.DataFrame(rows, columns=[*SURVEY_COLUMNS, "n_converged", *STABILITY_COLUMNS])
    if not survey["n_converged"].eq(survey["n_runs"]).all():
        warnings.warn(
            "some NMF runs stopped at max_iter before the tolerance was met (see the "
            "n_converged column); increase max_iter or tol",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    if identical:
        warnings.warn(
            f"all {n_runs} runs gave identical factors (to 1e-6 relative) for k in "
            f"{identical}: the estimator's "
            "start is deterministic (e.g. init='nndsvda' or scikit-learn's default), so the "
            "consensus and stability columns say nothing; use a random start (init='random')",
            DataWarning,
            stacklevel=stacklevel,
        )
    return (survey, consensus) if return_consensus else survey


def signature_stability_survey(
    estimator,
    X,
    ks,
    n_restarts=10,
    *,
    random_state=None,
    n_jobs=None,
    max_iter=None,
    tol=None,
):
    """SigProfiler-style rank survey: stability and reconstruction error of signatures per k.

    For every k, ``n_restarts`` fits of ``estimator`` (``n_components=k``, one seed per
    restart) are compared: their signatures (rows of ``components_``) are clustered with
    one signature of every restart per cluster and scored by the cosine silhouette
    (SigProfilerExtractor's stability; Alexandrov et al. 2013, Islam et al. 2022). A rank
    whose signatures every restart reproduces has stability near 1; beyond the true rank
    extra signatures split or wander and the stability drops, while the reconstruction
    error keeps falling. This is :func:`nmf_rank_survey` with ``estimator=``, reduced to
    those columns.

    Differences from SigProfilerExtractor: the restarts are on the same data (SigProfiler
    also resamples the catalogue per run), the reconstruction error is that of the best
    restart, and no rank is chosen automatically (read the table or
    :func:`desurv.reporting.rank_plots.plot_stability_vs_error`).

    Parameters
    ----------
    estimator : estimator or str
        NMF-family estimator with scikit-learn's API and a random start (e.g.
        ``desurv.NMF(init="random")``), or an unsupervised benchmark method name.
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        Nonnegative catalogue, genomes × channels (as :func:`desurv.datasets.read_catalogue`
        returns it).
    ks : int or sequence of int
        Ranks, 1 <= k <= min(n_samples, n_features).
    n_restarts : int >= 2, default 10
        Fits per rank.
    random_state, n_jobs, max_iter, tol
        As :func:`nmf_rank_survey`.

    Returns
    -------
    pandas.DataFrame
        One row per k: ``k``, ``stability`` (mean silhouette of all signatures),
        ``stability_min`` (smallest mean silhouette of a signature cluster; NaN for k = 1),
        ``reconstruction_error`` (relative Frobenius error ‖X − EH‖_F / ‖X‖_F of the best
        restart), ``rss``, ``explained_variance``, ``n_runs``, ``n_converged``.

    Raises
    ------
    ValueError
        As :func:`nmf_rank_survey`; ``n_restarts`` < 2 (stability needs several fits).
    """
    if isinstance(n_restarts, bool) or not isinstance(n_restarts, (int, np.integer)):
        raise ValueError(f"n_restarts must be an integer >= 2, got {n_restarts!r}")
    if n_restarts < 2:
        raise ValueError(
            f"n_restarts must be >= 2: stability compares the signatures of several fits, "
            f"got {n_restarts}"
        )
    survey = _rank_survey(
        X,
        ks,
        n_runs=int(n_restarts),
        random_state=random_state,
        max_iter=max_iter,
        tol=tol,
        penalty_w=0.0,
        penalty_h=0.0,
        n_jobs=n_jobs,
        return_consensus=False,
        estimator=estimator,
        stacklevel=3,
    )
    Xa, _ = _as_matrix(X)
    survey["reconstruction_error"] = np.sqrt(survey["rss"] / float(np.einsum("ij,ij->", Xa, Xa)))
    return survey[list(STABILITY_SURVEY_COLUMNS)]
