"""De novo extraction of mutational signatures from a catalogue: restarts, consensus, refit.

:func:`extract_signatures` follows the protocol of Egendal et al. (METHODS.md §B.3–B.4) and
SigProfilerExtractor (Islam et al. 2022):

1. **Restarts.** ``n_restarts`` fits of the chosen factorisation from independent random
   starts (joblib workers, one BLAS thread each; seed of restart r at rank k from
   ``SeedSequence(entropy, spawn_key=(1, k, r))``, so the result does not depend on
   ``n_jobs`` nor on which other ranks were tried). Each fit's signatures are scaled to sum
   1 (exposures scaled back).
2. **Consensus** of the n_restarts·k signatures: ``"kmeans"``, SigProfiler's clustering
   with one signature of every restart per cluster (:func:`desurv.evaluation.
   consensus_factors`), consensus = normalised cluster mean; or ``"pam"``, the paper's PAM
   k-medoids on the cosine distance (:func:`desurv.evaluation.medoids.pam`), consensus =
   the medoid signatures. Stability: silhouette (cosine distance) of every restart
   signature in its cluster, averaged per signature and overall.
3. **Exposures** by NNLS refit of the catalogue on the consensus signatures (the paper's
   test-set refit; exact batched Lawson–Hanson), then per-sample reconstruction cosine and
   relative error.
4. **COSMIC** (optional): Hungarian matching of the consensus signatures to the reference
   on 1 − cosine (rectangular, k < 86), the ACS reported.

When ``n_components`` is None the rank k is selected first (``rank_rule``, see
:func:`extract_signatures`).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from desurv._progress import Progress
from desurv.evaluation.consensus import consensus_factors
from desurv.evaluation.matching import match_factors_batched
from desurv.evaluation.medoids import pam
from desurv.exceptions import ConvergenceWarning, DataWarning

from ._catalogue import as_catalogue, as_reference, normalise_rows, per_sample_fit, refit_exposures
from .reference import match_signatures
from .result import SignatureResult

__all__ = ["METHODS", "extract_signatures", "method_defaults"]

#: method name -> (estimator class in desurv.decomposition, default parameters)
_METHOD_SPECS = {
    # accelerated HALS: the same Frobenius objective as the paper's multiplicative updates,
    # reached in far fewer iterations (MU stalls far from a stationary point at tol=1e-4)
    "nmf": ("NMF", "nmf", {"solver": "cd", "init": "random", "max_iter": 10000, "tol": 1e-4}),
    "nmf-kl": (
        "NMF",
        "nmf",
        {
            "solver": "mu",
            "beta_loss": "kullback-leibler",
            "init": "random",
            "max_iter": 10000,
            "tol": 1e-6,
        },
    ),
    "convex": ("ConvexNMF", "convex", {}),
    "aenmf": ("AENMF", "aenmf", {}),
}
#: The factorisations :func:`extract_signatures` can run.
METHODS = tuple(_METHOD_SPECS)
CONSENSUS = ("kmeans", "pam")
RANK_RULES = ("bootstrap", "stability")
#: significance level of the one-sided paired Wilcoxon test of the "stability" rank rule
WILCOXON_ALPHA = 0.05
_DEFAULT_MAX_K = 12


# ----------------------------------------------------------------------------- estimators
def _estimator_class(method):
    if method not in _METHOD_SPECS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    from importlib import import_module

    import desurv.decomposition as decomposition

    name, module = _METHOD_SPECS[method][:2]
    try:
        return getattr(decomposition, name)
    except AttributeError:
        pass
    try:  # defined but not (yet) exported by the wing
        return getattr(import_module(f"desurv.decomposition.{module}"), name)
    except (ImportError, AttributeError):
        raise ValueError(
            f"method={method!r} needs desurv.decomposition.{name}, which this installation "
            "does not provide; use method='nmf' or 'nmf-kl'"
        ) from None


def method_defaults(method):
    """The estimator class and the parameters :func:`extract_signatures` gives it.

    Parameters
    ----------
    method : {"nmf", "nmf-kl", "convex", "aenmf"}

    Returns
    -------
    cls : type
        ``desurv.decomposition.NMF``, ``ConvexNMF`` or ``AENMF``.
    params : dict
        Constructor parameters other than ``n_components`` and ``random_state``:
        "nmf": ``solver="cd"`` (accelerated HALS on the Frobenius loss), ``init="random"``,
        ``max_iter=10000``, ``tol=1e-4``; "nmf-kl": ``beta_loss="kullback-leibler"``,
        ``solver="mu"``, ``init="random"``, ``max_iter=10000``, ``tol=1e-6``; "convex" and
        "aenmf": the class defaults.

    Raises
    ------
    ValueError
        Unknown method, or its estimator is not available.
    """
    cls = _estimator_class(method)
    return cls, dict(_METHOD_SPECS[method][2])


def _resolve_params(method, estimator_params):
    cls, params = method_defaults(method)
    if estimator_params is None:
        return cls, params
    if not isinstance(estimator_params, dict):
        raise ValueError(
            f"estimator_params must be a dict of {cls.__name__} parameters, got "
            f"{type(estimator_params).__name__}"
        )
    fixed = sorted({"n_components", "random_state"} & set(estimator_params))
    if fixed:
        raise ValueError(
            f"estimator_params must not set {fixed}: pass n_components= and random_state= "
            "to extract_signatures"
        )
    valid = set(cls().get_params())
    unknown = sorted(set(estimator_params) - valid)
    if unknown:
        raise ValueError(
            f"estimator_params has unknown {cls.__name__} parameter(s) {unknown}; valid: "
            f"{sorted(valid - {'n_components', 'random_state'})}"
        )
    params.update(estimator_params)
    return cls, params


# ----------------------------------------------------------------------------- seeds
def _entropy(random_state):
    """An integer entropy for all seeds of the run (recorded, so a run can be repeated)."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(random_state, (bool, np.bool_)):
        raise ValueError(f"random_state must be an int, a Generator or None, got {random_state!r}")
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(
        f"random_state must be an int, a numpy Generator/RandomState or None, got "
        f"{type(random_state).__name__}"
    )


def _seed(entropy, *key):
    """A uint32 seed (what NumPy's RandomState accepts) for one purpose of the run."""
    return int(np.random.SeedSequence(entropy, spawn_key=key).generate_state(1)[0])


# ----------------------------------------------------------------------------- restarts
def _one_fit(X, cls, params, k, seed):
    """One fit from a random start; signatures (p, k) scaled to sum 1 and its errors."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = cls(n_components=k, random_state=seed, **params)
        E = np.asarray(est.fit_transform(X), dtype=np.float64)
    H = np.asarray(est.components_, dtype=np.float64)
    Hn, s = normalise_rows(H)
    E = E * s[None, :]
    R = X - E @ Hn
    err = float(np.sqrt(np.einsum("ij,ij->", R, R)))
    converged = not any(
        issubclass(w.category, ConvergenceWarning) or w.category.__name__ == "ConvergenceWarning"
        for w in caught
    )
    others = [
        (w.category.__name__, str(w.message))
        for w in caught
        if w.category.__name__ != "ConvergenceWarning"
        and not issubclass(w.category, ConvergenceWarning)
    ]
    return {
        "signatures": Hn.T.copy(),
        "error": err,
        "n_iter": int(getattr(est, "n_iter_", -1)),
        "converged": converged,
        "zero": int(np.sum(s <= 0)),
        "warnings": others,
    }


def _one_fit_limited(X, cls, params, k, seed):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _one_fit(X, cls, params, k, seed)


def _run_fits(X, cls, params, tasks, n_jobs, progress):
    """Fit every (k, seed) task; results in task order, whatever n_jobs."""
    bar = Progress(len(tasks), enabled=bool(progress), desc="restarts", unit="fit")
    out = []
    try:
        if n_jobs in (None, 1):
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1, user_api="blas"):
                for k, seed in tasks:
                    out.append(_one_fit(X, cls, params, k, seed))
                    bar.update(1)
        else:
            from joblib import Parallel, delayed

            gen = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_one_fit_limited)(X, cls, params, k, seed) for k, seed in tasks
            )
            for res in gen:
                out.append(res)
                bar.update(1)
    finally:
        bar.close()
    return out


# ----------------------------------------------------------------------------- consensus
def _unit(M, axis):
    n = np.linalg.norm(M, axis=axis, keepdims=True)
    return M / np.where(n > 0, n, 1.0)


def _consensus(stack, how, seed):
    """Consensus signatures (p, k, columns sum 1) and the stability of their clusters."""
    n_fits, p, k = stack.shape
    if how == "kmeans":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # zero signatures: reported below
            cons = consensus_factors(stack, random_state=seed)
        C = cons.centroids
        sil = cons.silhouette.ravel()
        labels = np.tile(np.arange(k), n_fits)
        members_cos = cons.similarity.ravel()
    else:
        V = stack.transpose(0, 2, 1).reshape(n_fits * k, p)  # restart-major rows
        U = _unit(V, axis=1)
        D = np.clip(1.0 - U @ U.T, 0.0, 2.0)
        np.fill_diagonal(D, 0.0)
        res = pam(D, k)
        C = V[res.medoids].T
        labels = res.labels
        members_cos = 1.0 - D[np.arange(n_fits * k), res.medoids[labels]]
        sil = _silhouette(D, labels)
    S, _ = normalise_rows(np.asarray(C, np.float64).T)
    S = S.T
    n_members = np.bincount(labels, minlength=k)
    cl_sil = np.array([sil[labels == c].mean() if n_members[c] else np.nan for c in range(k)])
    cl_cos = np.array(
        [members_cos[labels == c].mean() if n_members[c] else np.nan for c in range(k)]
    )
    mean_sil = float(np.mean(sil)) if k > 1 else float("nan")
    return S, cl_sil, cl_cos, n_members, mean_sil


def _silhouette(D, labels):
    """Silhouette of every point for a precomputed distance matrix (NaN for one cluster)."""
    n = D.shape[0]
    n_labels = np.unique(labels).size
    if n_labels < 2:
        return np.full(n, np.nan)
    if n_labels > n - 1:  # every point alone: silhouette 0 by convention
        return np.zeros(n)
    from sklearn.metrics import silhouette_samples

    return silhouette_samples(D, labels, metric="precomputed")


def _consistency(stack):
    """Mean ACS over all pairs of restarts (Hungarian-matched cosine; the paper's consistency)."""
    n = stack.shape[0]
    if n < 2:
        return float("nan")
    i, j = np.triu_indices(n, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return float(match_factors_batched(stack[i], stack[j]).acs.mean())


def _evaluate_k(X, fits, k, how, entropy):
    """Consensus, NNLS refit and per-sample fit of the restarts at rank k."""
    stack = np.stack([f["signatures"] for f in fits])  # (n_restarts, p, k)
    S, cl_sil, cl_cos, n_members, mean_sil = _consensus(stack, how, _seed(entropy, 0, k))
    E = refit_exposures(X, S)
    order = np.argsort(-E.sum(axis=0), kind="stable")  # largest total exposure first
    S, E = S[:, order], E[:, order]
    cl_sil, cl_cos, n_members = cl_sil[order], cl_cos[order], n_members[order]
    Xhat = E @ S.T
    cosine, rel = per_sample_fit(X, Xhat)
    R = X - Xhat
    rel_total = float(np.sqrt(np.einsum("ij,ij->", R, R)) / np.linalg.norm(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        to_cons = match_factors_batched(S, stack).similarity.mean(axis=1)
    return {
        "k": k,
        "stack": stack,
        "S": S,
        "E": E,
        "cosine": cosine,
        "rel": rel,
        "relative_error": rel_total,
        "silhouette": cl_sil,
        "cluster_cosine": cl_cos,
        "n_members": n_members,
        "mean_stability": mean_sil,
        "min_stability": float(np.nanmin(cl_sil)) if k > 1 else float("nan"),
        "consistency_acs": _consistency(stack),
        "to_consensus": to_cons,
    }


# ----------------------------------------------------------------------------- rank rules
def _stability_rule(evals, threshold, min_threshold):
    """The "stability" rule: rank table and the selected k (see extract_signatures)."""
    from scipy.stats import wilcoxon

    ks = [e["k"] for e in evals]
    mean_s = np.array([e["mean_stability"] for e in evals])
    min_s = np.array([e["min_stability"] for e in evals])
    stable = np.array(
        [
            e["k"] == 1
            or (e["mean_stability"] >= threshold and e["min_stability"] >= min_threshold)
            for e in evals
        ]
    )
    pvals = np.full(len(ks), np.nan)
    if stable.any():
        idx = sorted(np.flatnonzero(stable), key=lambda i: ks[i])
        top = idx[-1]
        for i in idx[:-1]:
            d = evals[i]["rel"] - evals[top]["rel"]
            pvals[i] = 1.0 if np.all(d == 0) else float(wilcoxon(d, alternative="greater").pvalue)
        # the smallest stable k whose per-sample errors are not significantly larger than
        # those of the largest stable k
        chosen = next(i for i in idx if i == top or pvals[i] >= WILCOXON_ALPHA)
    else:
        chosen = int(np.argmax(np.where(np.isnan(mean_s), -np.inf, mean_s)))
        warnings.warn(
            f"no rank in {ks} is stable (mean silhouette >= {threshold} and every "
            f"signature's >= {min_threshold}); k={ks[chosen]} has the highest mean "
            "stability and is used: the signatures may not be reproducible",
            DataWarning,
            stacklevel=3,
        )
    table = pd.DataFrame(
        {
            "k": ks,
            "stability": mean_s,
            "stability_min": min_s,
            "reconstruction_error": [e["best_restart_error"] for e in evals],
            "mean_restart_error": [e["mean_restart_error"] for e in evals],
            "consensus_error": [e["relative_error"] for e in evals],
            "consistency_acs": [e["consistency_acs"] for e in evals],
            "stable": stable,
            "pvalue": pvals,
            "selected": [i == chosen for i in range(len(ks))],
        }
    )
    return table, ks[chosen]


def _bootstrap_rule(Xdf, cls, params, ks, n_bootstrap, entropy, n_jobs):
    """The "bootstrap" rule: desurv.model_selection.select_rank_bootstrap (Egendal et al.)."""
    try:
        from desurv.model_selection import select_rank_bootstrap
    except ImportError:  # pragma: no cover - depends on the installed version
        raise ValueError(
            "rank_rule='bootstrap' needs desurv.model_selection.select_rank_bootstrap, which "
            "this installation does not provide; use rank_rule='stability' or give "
            "n_components"
        ) from None
    template = cls(**params)
    res = select_rank_bootstrap(
        template,
        Xdf,
        list(ks),
        n_bootstrap=n_bootstrap,
        random_state=_seed(entropy, 2),
        n_jobs=n_jobs,
    )
    return res


# ----------------------------------------------------------------------------- checks
def _check_int(name, value, low, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {rng}, got {value}")
    return int(value)


def _max_rank(n, p, n_ref):
    limit = min(n, p)
    why = f"min(n_samples={n}, n_channels={p})"
    if n_ref is not None and n_ref < limit:
        limit, why = n_ref, f"the {n_ref} reference signatures"
    return limit, why


def _is_int(k):
    return not isinstance(k, (bool, np.bool_)) and isinstance(k, numbers.Integral)


def _check_rank(name, k, limit, why):
    if not _is_int(k):
        raise ValueError(f"{name} must contain integers, got {k!r}")
    if not 1 <= k <= limit:
        raise ValueError(f"{name}: k={k} is out of range; k must be between 1 and {limit} ({why})")
    return int(k)


# ----------------------------------------------------------------------------- main
def extract_signatures(
    catalogue,
    n_components=None,
    *,
    method="nmf",
    n_restarts=20,
    ks=None,
    rank_rule="bootstrap",
    n_bootstrap=10,
    consensus="kmeans",
    reference=None,
    stability_threshold=0.8,
    min_stability=0.2,
    n_jobs=None,
    random_state=None,
    estimator_params=None,
    progress=False,
):
    """Extract mutational signatures from a catalogue: restarts, consensus, NNLS refit.

    The protocol of Egendal et al. (AE-NMF paper, METHODS.md §B.3–B.4) and of
    SigProfilerExtractor (Islam et al. 2022), see :mod:`desurv.signatures.workflow`:
    ``n_restarts`` random-start fits, a consensus of their signatures ("kmeans":
    SigProfiler's clustering with one signature per restart per cluster; "pam": the
    paper's PAM k-medoids on the cosine distance), exposures by NNLS refit, stability
    (silhouettes), per-sample reconstruction, and optionally the Hungarian match to
    reference signatures such as COSMIC v3.4 with its ACS.

    Parameters
    ----------
    catalogue : DataFrame of shape (n_samples, n_channels), ndarray, or path of a TSV
        Mutation counts, **samples × channels** (as :func:`desurv.datasets.read_catalogue`
        returns; a path is read with it). SBS channel labels (``A[C>A]A``) must be all 96;
        they are aligned by label and put in COSMIC's order. An ndarray with 96 columns is
        taken to be in that order. Values must be finite and nonnegative (non-integer values
        are accepted, e.g. normalised catalogues); every sample needs a mutation.
    n_components : int or None, default None
        Number of signatures k (1 <= k <= min(n_samples, n_channels), and at most the number
        of reference signatures). None: selected over ``ks`` by ``rank_rule``.
    method : {"nmf", "nmf-kl", "convex", "aenmf"}, default "nmf"
        The factorisation of each restart (catalogue X ≈ E H, H the signatures):
        "nmf": :class:`desurv.NMF`, Frobenius loss, accelerated HALS (``solver="cd"``: the
        paper's objective ½‖X − EH‖²_F, which the Lee–Seung updates of the paper also
        minimise but far more slowly), random starts, ``max_iter=10000``, ``tol=1e-4``;
        "nmf-kl": :class:`desurv.NMF`, generalised Kullback–Leibler (Poisson) loss,
        multiplicative updates (SigProfiler's objective), ``tol=1e-6``;
        "convex": ``desurv.decomposition.ConvexNMF`` (Ding, Li & Jordan 2010);
        "aenmf": ``desurv.decomposition.AENMF`` (Egendal et al.). See
        :func:`method_defaults`; ``estimator_params`` overrides.
    n_restarts : int, default 20
        Random-start fits per rank (>= 1; >= 2 for ``rank_rule="stability"``).
    ks : sequence of int, optional
        Ranks tried when ``n_components`` is None; default 2..min(12, n_samples,
        n_channels, n reference signatures).
    rank_rule : {"bootstrap", "stability"}, default "bootstrap"
        "bootstrap": :func:`desurv.model_selection.select_rank_bootstrap` (Egendal et al.,
        Suppl. Alg. S1: test errors of NNLS refits on out-of-bag samples over
        ``n_bootstrap`` bootstrap splits; the first k whose step to the next k does not
        lower the test error significantly by a one-sided paired Wilcoxon test at 0.05;
        ``ks`` must then hold at least two ranks, all < n_samples); then the restarts run at
        that k. On Poisson-noisy counts this rule tends to choose large ranks (see
        :func:`~desurv.model_selection.select_rank_bootstrap`).
        "stability" (SigProfilerExtractor style): the restarts run at every k of ``ks``; k is
        *stable* when the mean silhouette of all its restart signatures is >=
        ``stability_threshold`` and the mean silhouette of each of its signatures is >=
        ``min_stability`` (k = 1, where silhouettes are undefined, counts as stable). Let
        k_max be the largest stable k; the selected k is the smallest stable k whose
        per-sample relative errors of the NNLS refit are not significantly larger than those
        of k_max (one-sided paired Wilcoxon signed-rank test, p >= 0.05), else k_max. When
        no k is stable, the k with the highest mean silhouette is used with a
        :class:`~desurv.exceptions.DataWarning`.
    n_bootstrap : int >= 2, default 10
        Bootstrap splits of the "bootstrap" rule (more than 5 for a step to be able to reach
        p < 0.05).
    consensus : {"kmeans", "pam"}, default "kmeans"
        Consensus of the restarts' signatures (see above).
    reference : DataFrame (n_channels, m), ndarray, path, or None
        Reference signatures (e.g. COSMIC v3.4 from
        :func:`desurv.datasets.read_signatures`), channels as rows, aligned by label; None:
        no matching.
    stability_threshold, min_stability : float, default 0.8 and 0.2
        Thresholds of the "stability" rule (SigProfilerExtractor's defaults).
    n_jobs : int or None, default None
        joblib workers for the restarts (and the bootstrap); None or 1: in this process.
        Each fit uses one BLAS thread; results are identical for every n_jobs.
    random_state : int, numpy Generator, RandomState or None
        Seeds everything; None draws a fresh entropy, recorded in ``params["entropy"]``.
    estimator_params : dict, optional
        Extra constructor parameters of the estimator (e.g. ``{"max_iter": 500}``), not
        ``n_components`` or ``random_state``.
    progress : bool, default False
        A progress bar of the restart fits on stderr.

    Returns
    -------
    SignatureResult
        ``signatures`` (channels × k, columns S1..Sk summing to 1, largest total exposure
        first), ``exposures`` (samples × k), ``stability``, ``mean_stability``,
        ``reconstruction``, ``cosmic_matches``, ``rank_table``, ``restarts``, ``method``,
        ``params``, ``summary``; ``save(folder)`` writes them.

    Raises
    ------
    ValueError
        Invalid catalogue (see :func:`desurv.signatures.check_catalogue`), reference
        with other channels, k out of range, unknown method/consensus/rank rule, bad
        ``estimator_params``, or an estimator that is not available.

    Warns
    -----
    ConvergenceWarning
        Some restart fits stopped at ``max_iter`` (counted in ``restarts["converged"]``).
    DataWarning
        Restarts with all-zero signatures, or no stable rank ("stability" rule).

    Examples
    --------
    >>> from desurv.datasets import read_catalogue, read_signatures
    >>> from desurv.signatures import extract_signatures
    >>> X = read_catalogue("breast21_wgs_sbs96.tsv")            # doctest: +SKIP
    >>> cosmic = read_signatures("cosmic_v3.4_sbs96_grch37.tsv")  # doctest: +SKIP
    >>> res = extract_signatures(X, 3, reference=cosmic, random_state=0)  # doctest: +SKIP
    >>> res.cosmic_matches                                        # doctest: +SKIP
    """
    cls, est_params = _resolve_params(method, estimator_params)
    if consensus not in CONSENSUS:
        raise ValueError(f"consensus must be one of {list(CONSENSUS)}, got {consensus!r}")
    if rank_rule not in RANK_RULES:
        raise ValueError(f"rank_rule must be one of {list(RANK_RULES)}, got {rank_rule!r}")
    n_restarts = _check_int("n_restarts", n_restarts, 1)
    n_bootstrap = _check_int("n_bootstrap", n_bootstrap, 2)
    for name, v in (("stability_threshold", stability_threshold), ("min_stability", min_stability)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not -1 <= v <= 1:
            raise ValueError(f"{name} must be a number in [-1, 1] (a silhouette), got {v!r}")
    if n_jobs is not None and (
        isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0
    ):
        raise ValueError(
            f"n_jobs must be None, a positive integer or negative (joblib), got {n_jobs!r}"
        )
    Xdf = as_catalogue(catalogue)
    X = np.ascontiguousarray(Xdf.to_numpy(dtype=np.float64))
    n, p = X.shape
    ref = None if reference is None else as_reference(reference, Xdf.columns)
    limit, why = _max_rank(n, p, None if ref is None else ref.shape[1])
    entropy = _entropy(random_state)

    selection_ks = None
    if n_components is not None:
        k_sel = _check_rank("n_components", n_components, limit, why)
    else:
        if ks is None:
            # the bootstrap needs out-of-bag samples: k < n_samples
            top = min(_DEFAULT_MAX_K, limit, n - 1)
            selection_ks = list(range(2, top + 1))
            if len(selection_ks) < (2 if rank_rule == "bootstrap" else 1):
                raise ValueError(
                    f"too few samples ({n}) to select the number of signatures; give n_components"
                )
        else:
            selection_ks = [ks] if np.ndim(ks) == 0 else list(ks)
            if not selection_ks:
                raise ValueError("ks is empty: give at least one rank")
            bad = [k for k in selection_ks if _is_int(k) and not 1 <= k <= limit]
            if bad:
                raise ValueError(
                    f"ks: k={', '.join(str(int(k)) for k in bad)} out of range; k must be "
                    f"between 1 and {limit} ({why})"
                )
            selection_ks = [_check_rank("ks", k, limit, why) for k in selection_ks]
            if len(set(selection_ks)) != len(selection_ks):
                raise ValueError(f"ks has repeated ranks: {selection_ks}")
            selection_ks = sorted(selection_ks)
        if rank_rule == "stability" and n_restarts < 2:
            raise ValueError("rank_rule='stability' compares restarts: n_restarts must be >= 2")
        if rank_rule == "bootstrap":
            if len(selection_ks) < 2:
                raise ValueError(
                    f"rank_rule='bootstrap' compares consecutive ranks: give at least two ks, "
                    f"got {selection_ks}"
                )
            if selection_ks[-1] >= n:
                raise ValueError(
                    f"rank_rule='bootstrap' needs every k < n_samples={n} (out-of-bag samples "
                    f"are refitted), got k={selection_ks[-1]}"
                )

    rank_table = rank_errors = selection = None
    if selection_ks is not None and rank_rule == "bootstrap":
        selection = _bootstrap_rule(
            Xdf, cls, est_params, selection_ks, n_bootstrap, entropy, n_jobs
        )
        k_sel = int(selection.n_components_)
        rank_table, rank_errors = selection.summary(), selection.errors
    run_ks = selection_ks if (selection_ks is not None and rank_rule == "stability") else [k_sel]

    tasks = [(k, _seed(entropy, 1, k, r)) for k in run_ks for r in range(n_restarts)]
    fits = _run_fits(X, cls, est_params, tasks, n_jobs, progress)
    _report_fit_warnings(fits, tasks)

    evals = []
    for i, k in enumerate(run_ks):
        fk = fits[i * n_restarts : (i + 1) * n_restarts]
        ev = _evaluate_k(X, fk, k, consensus, entropy)
        ev["mean_restart_error"] = float(np.mean([f["error"] for f in fk]) / np.linalg.norm(X))
        ev["best_restart_error"] = float(np.min([f["error"] for f in fk]) / np.linalg.norm(X))
        evals.append(ev)
    if selection_ks is not None and rank_rule == "stability":
        rank_table, k_sel = _stability_rule(evals, stability_threshold, min_stability)
        selection = rank_table
    ev = evals[run_ks.index(k_sel)]

    x_norm = float(np.linalg.norm(X))
    restarts = pd.DataFrame(
        {
            "k": [k for k, _ in tasks],
            "restart": [r for _ in run_ks for r in range(n_restarts)],
            "seed": [s for _, s in tasks],
            "reconstruction_error": [f["error"] for f in fits],
            "relative_error": [f["error"] / x_norm for f in fits],
            "n_iter": [f["n_iter"] for f in fits],
            "converged": [f["converged"] for f in fits],
            "cosine_to_consensus": np.concatenate([e["to_consensus"] for e in evals]),
        }
    )
    names = [f"S{j + 1}" for j in range(k_sel)]
    samples = Xdf.index
    signatures = pd.DataFrame(ev["S"], index=Xdf.columns.rename("channel"), columns=names)
    exposures = pd.DataFrame(ev["E"], index=samples, columns=names)
    stability = pd.DataFrame(
        {
            "silhouette": ev["silhouette"],
            "cosine": ev["cluster_cosine"],
            "n_members": ev["n_members"].astype(np.int64),
        },
        index=pd.Index(names, name="signature"),
    )
    reconstruction = pd.DataFrame(
        {"n_mutations": X.sum(axis=1), "cosine": ev["cosine"], "relative_error": ev["rel"]},
        index=samples,
    )
    matches = None if ref is None else match_signatures(signatures, ref)
    params = {
        "method": method,
        "n_components": None if n_components is None else int(n_components),
        "selected_n_components": int(k_sel),
        "ks": selection_ks,
        "rank_rule": rank_rule if selection_ks is not None else None,
        "n_bootstrap": n_bootstrap,
        "n_restarts": n_restarts,
        "consensus": consensus,
        "stability_threshold": float(stability_threshold),
        "min_stability": float(min_stability),
        "estimator": cls.__name__,
        "estimator_params": dict(est_params),
        "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
        "entropy": entropy,
        "n_samples": int(n),
        "n_channels": int(p),
        "reference_signatures": None if ref is None else int(ref.shape[1]),
        "n_jobs": n_jobs,
    }
    at_k = restarts[restarts["k"] == k_sel]
    summary = {
        "n_components": int(k_sel),
        "mean_stability": ev["mean_stability"],
        "min_stability": ev["min_stability"],
        "consistency_acs": ev["consistency_acs"],
        "cosmic_acs": None if matches is None else float(matches["cosine"].mean()),
        "relative_error": ev["relative_error"],
        "mean_sample_cosine": float(np.mean(ev["cosine"])),
        "n_restarts": n_restarts,
        "n_converged": int(at_k["converged"].sum()),
    }
    return SignatureResult(
        signatures=signatures,
        exposures=exposures,
        stability=stability,
        mean_stability=ev["mean_stability"],
        reconstruction=reconstruction,
        cosmic_matches=matches,
        rank_table=rank_table,
        restarts=restarts,
        rank_errors=rank_errors,
        rank_selection=selection,
        method=method,
        params=params,
        summary=summary,
        restart_signatures=ev["stack"],
    )


def _report_fit_warnings(fits, tasks):
    bad = [i for i, f in enumerate(fits) if not f["converged"]]
    if bad:
        warnings.warn(
            f"{len(bad)} of {len(fits)} restart fits stopped at max_iter before reaching tol "
            "(see restarts['converged']); pass estimator_params={'max_iter': ...} to "
            "iterate longer",
            ConvergenceWarning,
            stacklevel=3,
        )
    zero = [i for i, f in enumerate(fits) if f["zero"]]
    if zero:
        ks = sorted({tasks[i][0] for i in zero})
        warnings.warn(
            f"{len(zero)} restart fits (at k = {ks}) returned all-zero signatures: k may be "
            "too large for this catalogue",
            DataWarning,
            stacklevel=3,
        )
    seen = set()
    for f in fits:
        for cat, msg in f["warnings"]:
            if (cat, msg) not in seen:
                seen.add((cat, msg))
                warnings.warn(
                    f"restart fit: {msg}",
                    DataWarning if cat == "DataWarning" else UserWarning,
                    stacklevel=3,
                )
