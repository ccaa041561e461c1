"""Rank selection for the NMF family by bootstrap test error (Egendal et al., Suppl. §1.3).

:func:`select_rank_bootstrap` chooses the number of signatures k of any estimator with
scikit-learn's NMF API (``n_components`` parameter, ``fit_transform``, ``components_``):
:class:`desurv.NMF`, ``sklearn.decomposition.NMF``, the convex NMF and autoencoder NMF of the
same family, or a method of the benchmark registry given by name. The rule is the one the
text of Egendal et al. describes (Suppl. §1.3, METHODS.md §B.3):

1. for every bootstrap replicate b = 1..B, draw n training samples **with replacement** from
   the n samples; the test set is the out-of-bag samples (never drawn). The same replicates
   serve every k, so the errors are paired;
2. for every k of the given increasing list, fit the estimator with ``n_components=k`` on the
   training rows, refit the exposures of the test samples with the signatures fixed by exact
   nonnegative least squares (:func:`desurv.decomposition.nnls`) and record the test mean
   squared error;
3. compare consecutive ranks k < k' of the list with a one-sided paired Wilcoxon signed-rank
   test (H₁: the test error at k' is lower than at k) and choose **the first k whose step to
   k' is not significant** at level ``alpha``. If every step is significant, the largest k is
   returned with a warning (the list should extend further).

Alg. S2 as printed returns k when p < 0.05, the opposite of the text (METHODS.md §B.7,
pitfall 7); the text's rule is implemented. Errors are plain mean squared errors
(pitfall 3: Alg. S1 divides by M·N_test twice; here the division happens once).

:func:`select_rank_from_errors` applies step 3 to any table of paired errors, and
:func:`combine_ranks` combines the ranks chosen for NMF, convex NMF and AE-NMF as the
paper does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "BOOTSTRAP_RULE",
    "BootstrapRankResult",
    "combine_ranks",
    "select_rank_bootstrap",
    "select_rank_from_errors",
]

#: The selection rule, as stored on every :class:`BootstrapRankResult`.
BOOTSTRAP_RULE = (
    "first k of the list whose test error is not significantly lower at the next k "
    "(one-sided paired Wilcoxon signed-rank test, p >= alpha); the largest k when every "
    "step is significant (Egendal et al., Suppl. §1.3 text; Alg. S2 as printed is inverted)"
)
ERROR_COLUMNS = (
    "k",
    "bootstrap",
    "n_train",
    "n_test",
    "train_error",
    "test_error",
    "seed",
    "converged",
)
TEST_COLUMNS = ("k", "k_next", "statistic", "pvalue", "significant", "mean_improvement", "n_better")


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass
class BootstrapRankResult:
    """Outcome of :func:`select_rank_bootstrap` or :func:`select_rank_from_errors`.

    Attributes
    ----------
    n_components_ : int
        The chosen rank k.
    errors : pandas.DataFrame
        One row per (k, bootstrap replicate): ``k``, ``bootstrap`` (replicate number from 0),
        ``n_train`` (training rows, duplicates counted: n), ``n_test`` (out-of-bag samples),
        ``train_error`` (mean squared error of the fit on its training rows),
        ``test_error`` (mean squared error of the out-of-bag samples with NNLS exposures),
        ``seed`` (the estimator's ``random_state`` for this fit, or −1 when it has none) and
        ``converged`` (False when the fit warned that it stopped at ``max_iter``). Tables
        given to :func:`select_rank_from_errors` are kept as given.
    tests : pandas.DataFrame
        One row per consecutive pair of ranks: ``k``, ``k_next``, ``statistic`` (Wilcoxon
        W⁺, the rank sum of the positive differences test_error(k) − test_error(k_next)),
        ``pvalue`` (one-sided, H₁: lower error at ``k_next``), ``significant``
        (``pvalue < alpha``), ``mean_improvement`` (mean of test_error(k) −
        test_error(k_next)) and ``n_better`` (replicates in which ``k_next`` has the lower
        test error).
    alpha : float
        Significance level of the tests.
    rule : str
        The selection rule (:data:`BOOTSTRAP_RULE`).
    all_significant : bool
        True when every step was significant, so the largest k was returned.
    train_indices : ndarray of int64, shape (n_bootstrap, n_samples), or None
        Training rows of every replicate (the same for every k); None when the result was
        built from an error table.
    estimator : str
        Description of the estimator that was fitted ("" for an error table).
    """

    n_components_: int
    errors: pd.DataFrame
    tests: pd.DataFrame
    alpha: float
    rule: str = BOOTSTRAP_RULE
    all_significant: bool = False
    train_indices: np.ndarray | None = field(default=None, repr=False)
    estimator: str = ""

    @property
    def ks(self):
        """The ranks that were compared, increasing (list of int)."""
        return sorted(int(k) for k in self.errors["k"].unique())

    @property
    def n_bootstrap(self):
        """Number of bootstrap replicates (int)."""
        return int(self.errors["bootstrap"].nunique())

    def summary(self):
        """One row per k: error statistics, the test to the next k and the choice.

        Returns
        -------
        pandas.DataFrame
            Columns ``k``, ``mean_test_error``, ``median_test_error``, ``sd_test_error``
            (sample standard deviation over replicates), ``mean_train_error`` (NaN when the
            error table has no ``train_error``), ``n_bootstrap``, ``k_next``, ``pvalue``,
            ``significant`` (the last k has NaN / missing test columns) and ``selected``
            (True on the chosen k).
        """
        g = self.errors.groupby("k", sort=True)["test_error"]
        out = pd.DataFrame(
            {
                "mean_test_error": g.mean(),
                "median_test_error": g.median(),
                "sd_test_error": g.std(ddof=1),
            }
        )
        if "train_error" in self.errors.columns:
            out["mean_train_error"] = self.errors.groupby("k", sort=True)["train_error"].mean()
        else:
            out["mean_train_error"] = np.nan
        out["n_bootstrap"] = g.size().astype(np.int64)
        out = out.reset_index()
        tests = self.tests.set_index("k")[["k_next", "pvalue", "significant"]]
        out = out.join(tests, on="k")
        out["k_next"] = out["k_next"].astype("Int64")
        out["significant"] = out["significant"].astype("boolean")
        out["selected"] = out["k"] == self.n_components_
        return out

    def to_frame(self):
        """Alias of :meth:`summary` (one row per k)."""
        return self.summary()

    def __str__(self):
        lines = [
            f"Bootstrap rank selection: k = {self.n_components_} "
            f"({self.n_bootstrap} replicates, alpha = {self.alpha:g})",
            f"rule: {self.rule}",
        ]
        if self.all_significant:
            lines.append("every step was significant: the largest k was returned")
        lines.append(self.summary().to_string(index=False))
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# selection rule on a table of paired errors
# --------------------------------------------------------------------------------------------
def _check_alpha(alpha):
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float, np.floating, np.integer))
        or not 0.0 < float(alpha) < 1.0
    ):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def _paired_matrix(errors):
    """(ks, bootstrap ids, test errors (n_k, B)) of a checked error table."""
    if not isinstance(errors, pd.DataFrame):
        raise ValueError(f"errors must be a pandas DataFrame, got {type(errors).__name__}")
    missing = [c for c in ("k", "bootstrap", "test_error") if c not in errors.columns]
    if missing:
        raise ValueError(
            f"errors is missing column(s) {missing}; it needs columns 'k', 'bootstrap' and "
            f"'test_error' (got {list(errors.columns)})"
        )
    if errors[["k", "bootstrap"]].duplicated().any():
        raise ValueError("errors has repeated (k, bootstrap) rows; each pair must appear once")
    te = pd.to_numeric(errors["test_error"], errors="coerce").to_numpy(np.float64)
    if not np.all(np.isfinite(te)):
        raise ValueError("errors['test_error'] must be finite numbers (found NaN, inf or text)")
    table = errors.assign(test_error=te).pivot(index="k", columns="bootstrap", values="test_error")
    table = table.sort_index()
    if table.isna().any().any():
        raise ValueError(
            "errors is not paired: every k needs the same bootstrap replicates (some "
            "(k, bootstrap) pairs are missing)"
        )
    if table.shape[0] < 2:
        raise ValueError(f"errors needs at least two ranks k to compare, got {table.shape[0]}")
    if table.shape[1] < 2:
        raise ValueError(
            f"errors needs at least two bootstrap replicates per k, got {table.shape[1]}"
        )
    ks = [int(k) for k in table.index]
    return ks, table.to_numpy(np.float64)


def _one_sided_wilcoxon(e_k, e_next):
    """Paired signed-rank test of H₁: e_next < e_k. Returns (W⁺, p)."""
    from scipy.stats import wilcoxon

    d = e_k - e_next
    if np.all(d == 0.0):  # no information: scipy would divide 0 by 0
        return 0.0, 1.0
    res = wilcoxon(e_k, e_next, alternative="greater")
    return float(res.statistic), float(res.pvalue)


def select_rank_from_errors(errors, *, alpha=0.05):
    """Choose k from paired bootstrap test errors by the Wilcoxon rule of Egendal et al.

    For consecutive ranks k < k' of the table, the paired differences
    d_b = test_error(k, b) − test_error(k', b) over the replicates b are tested by a
    one-sided Wilcoxon signed-rank test (``scipy.stats.wilcoxon(.., alternative="greater")``,
    H₁: the error is lower at k'; zero differences are dropped, scipy's default). The chosen
    rank is the first k whose step is **not** significant (p ≥ ``alpha``): adding
    components no longer lowers the out-of-sample error consistently. When every step is
    significant the largest k is returned and a warning says the list should extend.

    Parameters
    ----------
    errors : pandas.DataFrame
        Columns ``k``, ``bootstrap`` and ``test_error`` (other columns, e.g.
        ``train_error``, are kept), one row per (k, replicate), every k with the same
        replicates: the ``errors`` table of :func:`select_rank_bootstrap` or errors
        computed elsewhere.
    alpha : float in (0, 1), default 0.05
        Significance level.

    Returns
    -------
    BootstrapRankResult
        ``train_indices`` is None and ``estimator`` is "".

    Raises
    ------
    ValueError
        Not a DataFrame, missing columns, repeated or missing (k, replicate) pairs,
        non-finite errors, fewer than two ranks or two replicates, ``alpha`` not in (0, 1).

    Warns
    -----
    UserWarning
        Every step was significant (the largest k is returned), or there are too few
        replicates for any step to reach p < ``alpha`` (the exact one-sided p-value of B
        paired replicates is at least 2^−B).
    """
    return _select(errors, _check_alpha(alpha), stacklevel=3)


def _select(errors, alpha, stacklevel):
    """The rule of :func:`select_rank_from_errors`; warnings point ``stacklevel`` up."""
    ks, E = _paired_matrix(errors)
    B = E.shape[1]
    if 0.5**B >= alpha:
        warnings.warn(
            f"with {B} bootstrap replicates no Wilcoxon step can reach p < alpha={alpha:g} "
            f"(the smallest one-sided p-value is 2^-{B} = {0.5**B:.3g}), so the first k is "
            "always chosen; use more replicates",
            UserWarning,
            stacklevel=stacklevel,
        )
    rows = []
    chosen = None
    for i in range(len(ks) - 1):
        stat, p = _one_sided_wilcoxon(E[i], E[i + 1])
        d = E[i] - E[i + 1]
        sig = bool(p < alpha)
        rows.append(
            {
                "k": ks[i],
                "k_next": ks[i + 1],
                "statistic": stat,
                "pvalue": p,
                "significant": sig,
                "mean_improvement": float(d.mean()),
                "n_better": int(np.sum(d > 0)),
            }
        )
        if chosen is None and not sig:
            chosen = ks[i]
    all_sig = chosen is None
    if all_sig:
        chosen = ks[-1]
        warnings.warn(
            f"the test error fell significantly at every step up to k={ks[-1]}, the largest "
            "rank tried; it is returned, but extend the list of ranks to find where the "
            "improvement stops",
            UserWarning,
            stacklevel=stacklevel,
        )
    return BootstrapRankResult(
        n_components_=int(chosen),
        errors=errors.reset_index(drop=True),
        tests=pd.DataFrame(rows, columns=list(TEST_COLUMNS)),
        alpha=alpha,
        all_significant=all_sig,
    )


# --------------------------------------------------------------------------------------------
# estimators, seeds, one fit
# --------------------------------------------------------------------------------------------
def _describe(est):
    try:
        return repr(est)
    except Exception:  # noqa: BLE001 - a description never breaks a run
        return type(est).__name__


def _resolve_estimator(estimator, params=None, first_k=1):
    """An unfitted NMF-family estimator template from an instance or a registry name.

    The template's ``n_components`` is set to ``first_k`` (later replaced per fit). Checks
    the scikit-learn API: ``get_params``/``set_params`` with an ``n_components`` parameter
    and ``fit_transform``.
    """
    from sklearn.base import clone

    if isinstance(estimator, str):
        from desurv.benchmark.registry import get_method

        spec = get_method(estimator)
        if spec.supervised:
            raise ValueError(
                f"method {estimator!r} is a {spec.task} method fitted with a target; rank "
                "selection needs an unsupervised NMF-family method (task 'signatures' or "
                "'reconstruction')"
            )
        if "n_components" not in spec.defaults:
            raise ValueError(
                f"method {estimator!r} takes no n_components hyperparameter, so its rank "
                "cannot be varied"
            )
        kwargs = {**dict(spec.defaults), **dict(params or {}), "n_components": int(first_k)}
        unknown = sorted(set(params or {}) - set(spec.defaults))
        if unknown:
            raise ValueError(
                f"params {unknown} are not hyperparameters of method {estimator!r}; it takes "
                f"{sorted(spec.defaults)}"
            )
        est = spec.factory(**kwargs)
        params = None
    else:
        est = estimator
    if not (hasattr(est, "get_params") and hasattr(est, "set_params")):
        raise ValueError(
            f"estimator must be a scikit-learn style estimator (get_params/set_params) or a "
            f"benchmark method name, got {type(est).__name__}"
        )
    names = est.get_params(deep=False)
    if "n_components" not in names:
        raise ValueError(
            f"estimator {type(est).__name__} has no n_components parameter; rank selection "
            "needs an NMF-family estimator such as desurv.NMF or sklearn.decomposition.NMF"
        )
    if not hasattr(est, "fit_transform"):
        raise ValueError(
            f"estimator {type(est).__name__} has no fit_transform method; it needs scikit-"
            "learn's NMF API (fit_transform returning the exposures, components_)"
        )
    try:
        est = clone(est)
    except Exception as exc:  # noqa: BLE001 - reported as a clear input error
        raise ValueError(
            f"estimator {type(est).__name__} cannot be cloned by sklearn.base.clone ({exc}); "
            "pass an unfitted scikit-learn style estimator"
        ) from exc
    if params:
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(
                f"{unknown} are not parameters of {type(est).__name__}; valid: {sorted(names)}"
            )
        est.set_params(**params)
    est.set_params(n_components=int(first_k))
    return est


def _root_seed(random_state):
    """A numpy SeedSequence from an int, None, SeedSequence, Generator or RandomState."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63 - 1)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(0, 2**31 - 1)))
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise ValueError(
            f"random_state must be None, a nonnegative int, a numpy SeedSequence, Generator "
            f"or RandomState, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be nonnegative, got {random_state}")
    return np.random.SeedSequence(int(random_state))


def _child(root, *key):
    """The SeedSequence of ``root`` at spawn key ``key`` (depends on nothing else)."""
    return np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + tuple(key))


def _fit_seed(root, k, b):
    """32-bit seed of the fit (k, b): the same whatever other ranks are in the list."""
    return int(_child(root, 1, int(k), int(b)).generate_state(1, np.uint32)[0])


def _bootstrap_indices(root, n, n_bootstrap):
    """(B, n) training rows drawn with replacement; row b depends only on (root, b)."""
    return np.stack(
        [
            np.random.default_rng(_child(root, 0, b)).integers(0, n, size=n)
            for b in range(n_bootstrap)
        ]
    ).astype(np.int64)


def _fit_quietly(est, X):
    """fit_transform with warnings caught; returns (exposures, converged)."""
    from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning

    from desurv.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exposures = est.fit_transform(X)
    converged = not any(
        issubclass(w.category, (ConvergenceWarning, SkConvergenceWarning)) for w in caught
    )
    for w in caught:  # other warnings are not ours to hide
        if not issubclass(w.category, (ConvergenceWarning, SkConvergenceWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return exposures, converged


def _fitted_factors(est, exposures, n_rows, n_features, k):
    """(exposures (n_rows, k), components (k, n_features)) as float64, shapes checked."""
    comps = getattr(est, "components_", None)
    if comps is None:
        raise ValueError(
            f"{type(est).__name__} has no components_ after fitting; rank selection needs "
            "scikit-learn's NMF API (components_ of shape (n_components, n_features))"
        )
    comps = np.asarray(comps, dtype=np.float64)
    if comps.shape != (k, n_features):
        raise ValueError(
            f"{type(est).__name__}.components_ has shape {comps.shape}, expected "
            f"(n_components={k}, n_features={n_features})"
        )
    exposures = np.asarray(exposures, dtype=np.float64)
    if exposures.shape != (n_rows, k):
        raise ValueError(
            f"{type(est).__name__}.fit_transform returned shape {exposures.shape}, expected "
            f"the exposures (n_samples={n_rows}, n_components={k})"
        )
    return exposures, comps


def _mse(X, exposures, comps):
    R = X - exposures @ comps
    return float(np.einsum("ij,ij->", R, R)) / R.size


def _bootstrap_fit(template, X, train, k, seed):
    """Fit rank k on the rows ``train`` and score the out-of-bag rows (one BLAS thread)."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from desurv.decomposition import nnls

    test_mask = np.ones(X.shape[0], dtype=bool)
    test_mask[train] = False
    X_train, X_test = X[train], X[test_mask]
    with threadpool_limits(limits=1, user_api="blas"):
        est = clone(template).set_params(n_components=int(k))
        if seed >= 0:
            est.set_params(random_state=seed)
        exposures, converged = _fit_quietly(est, X_train)
        exposures, comps = _fitted_factors(est, exposures, X_train.shape[0], X.shape[1], k)
        train_error = _mse(X_train, exposures, comps)
        test_exposures = nnls(comps.T, X_test.T).T  # (n_test, k), signatures fixed
        test_error = _mse(X_test, test_exposures, comps)
    return train_error, test_error, converged


# --------------------------------------------------------------------------------------------
# the bootstrap procedure
# --------------------------------------------------------------------------------------------
def _check_ks(n_components, n):
    ks = [n_components] if np.ndim(n_components) == 0 else list(n_components)
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise ValueError(f"n_components must be a list of integers, got {k!r}")
        if k < 1:
            raise ValueError(f"n_components must be positive, got {k}")
        if k >= n:
            raise ValueError(
                f"rank k={k} needs k < n_samples={n}: a bootstrap training set has at most "
                f"n_samples distinct rows; drop it from n_components"
            )
    if len(ks) < 2:
        raise ValueError(
            f"n_components needs at least two ranks to compare (e.g. range(2, 11)), got {ks}"
        )
    if any(b <= a for a, b in zip(ks[:-1], ks[1:], strict=True)):
        raise ValueError(f"n_components must be strictly increasing, got {ks}")
    return [int(k) for k in ks]


def select_rank_bootstrap(
    estimator,
    X,
    n_components,
    *,
    n_bootstrap=10,
    alpha=0.05,
    n_jobs=None,
    random_state=None,
    params=None,
):
    """Choose the number of components of an NMF-family model by bootstrap test error.

    The rank selection of Egendal et al. (Suppl. §1.3; METHODS.md §B.3), as the text
    describes it. For every replicate b = 1..``n_bootstrap``, n training rows are drawn
    from the n samples with replacement and the samples never drawn (out of bag) form the
    test set; the same replicates serve every k. For each k and b,
    ``clone(estimator).set_params(n_components=k)`` is fitted on the training rows, giving
    exposures E (n, k) and signatures H = ``components_`` (k, n_features); the exposures
    of the test samples are refitted with H fixed by exact NNLS
    (:func:`desurv.decomposition.nnls` with A = Hᵀ, B = X_testᵀ), and

        test_error  = ‖X_test − E_test H‖²_F / (n_test · n_features),
        train_error = ‖X_train − E H‖²_F / (n · n_features)

    (mean squared errors, the loss of the paper's code; duplicated training rows count as
    often as they were drawn). Consecutive ranks k < k' are compared by a one-sided paired
    Wilcoxon signed-rank test on the test errors (H₁: lower at k'), and the chosen rank is
    the first k whose step is not significant at ``alpha`` (see
    :func:`select_rank_from_errors`).

    Parameters
    ----------
    estimator : estimator or str
        Unfitted estimator with scikit-learn's NMF API: an ``n_components`` parameter,
        ``fit_transform(X)`` returning the exposures (n_samples, k) and ``components_``
        (k, n_features) — :class:`desurv.NMF`, ``sklearn.decomposition.NMF`` or another
        member of the family. Or the name of an unsupervised method of the benchmark
        registry (:func:`desurv.benchmark.get_method`, e.g. ``"nmf-frobenius"``), built
        from its defaults and ``params``. When the estimator has a ``random_state``
        parameter it is replaced by a seed derived from ``random_state`` for every fit
        (stored in ``errors["seed"]``).
    X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
        Nonnegative, finite data, samples as rows: for mutational catalogues one genome
        per row and the (96) channels as columns (:func:`desurv.datasets.read_catalogue`
        gives this orientation). Used as float64.
    n_components : sequence of int
        Ranks to compare, strictly increasing, 1 <= k < n_samples, at least two (the paper
        uses 2..12). Steps are between consecutive entries of the list.
    n_bootstrap : int >= 2, default 10
        Replicates B (the paper's nsims = 10). The exact one-sided Wilcoxon p-value is at
        least 2^−B, so B must exceed log2(1/alpha) (5 at alpha = 0.05) for any step to be
        significant; a warning says so otherwise.
    alpha : float in (0, 1), default 0.05
        Significance level of each Wilcoxon step.
    n_jobs : int or None, default None
        Fits (k, b) in parallel with joblib; None or 1 runs them one after another. Each
        fit uses one BLAS thread (threadpoolctl), and results do not depend on ``n_jobs``.
    random_state : int, numpy SeedSequence/Generator/RandomState or None
        Root of all randomness: replicate b's rows come from the SeedSequence child
        (0, b) and fit (k, b)'s seed from the child (1, k, b), so the same seed gives the
        same result for any ``n_jobs`` and a rank's errors do not depend on the other
        ranks in the list.
    params : dict, optional
        Parameters set on the estimator (``set_params``) or, for a registry name,
        overriding the method's defaults (e.g. ``{"max_iter": 1000}``).

    Returns
    -------
    BootstrapRankResult
        ``n_components_`` (the chosen k), ``errors`` (one row per (k, b)), ``tests`` (one
        row per step), ``summary()``, ``train_indices`` (B, n_samples).

    Raises
    ------
    ValueError
        X not 2-D, NaN/inf or negative; ranks not integers, not strictly increasing,
        < 1, >= n_samples or fewer than two; ``n_bootstrap`` < 2; ``alpha`` not in (0, 1);
        an estimator without ``n_components``/``fit_transform``/``components_``, an unknown
        or supervised registry method, unknown ``params``; a replicate whose out-of-bag set
        is empty (every sample was drawn: possible only for very small n).

    Warns
    -----
    ConvergenceWarning (:class:`desurv.exceptions.ConvergenceWarning`)
        Once, when some fits stopped at ``max_iter`` (see ``errors["converged"]``).
    UserWarning
        Every step was significant (the largest k is returned), or too few replicates.

    Notes
    -----
    The out-of-bag error refits k exposures per test sample, so it keeps decreasing
    slightly as k grows even when the extra components only fit noise (an extra
    nonnegative direction can only lower a least-squares fit). The rule therefore stops
    where the decrease is no longer *consistent* across replicates, which depends on the
    noise level; on count data with Poisson noise it tends to choose larger ranks. Read
    the choice together with :func:`desurv.model_selection.signature_stability_survey`.

    References
    ----------
    Egendal I. et al., AE-NMF / convex NMF for mutational signatures, Supplementary §1.3,
    Alg. S1–S2 (METHODS.md §B.3, §B.7 pitfalls 3 and 7).
    Wilcoxon F. (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6).
    """
    from desurv.deconvolution.estimator import _as_matrix
    from desurv.exceptions import ConvergenceWarning

    alpha = _check_alpha(alpha)
    if (
        isinstance(n_bootstrap, bool)
        or not isinstance(n_bootstrap, (int, np.integer))
        or n_bootstrap < 2
    ):
        raise ValueError(
            f"n_bootstrap must be an integer >= 2 (paired tests need replicates), got "
            f"{n_bootstrap!r}"
        )
    Xa, _ = _as_matrix(X)
    n, p = Xa.shape
    ks = _check_ks(n_components, n)
    template = _resolve_estimator(estimator, params, first_k=ks[0])
    has_seed = "random_state" in template.get_params(deep=False)
    root = _root_seed(random_state)
    train = _bootstrap_indices(root, n, int(n_bootstrap))
    n_test = np.array([n - np.unique(t).size for t in train])
    empty = np.flatnonzero(n_test == 0)
    if empty.size:
        raise ValueError(
            f"bootstrap replicate(s) {empty.tolist()} drew every one of the n_samples={n} "
            "samples, so their out-of-bag test set is empty; use more samples (n! / n^n "
            "is the chance per replicate) or another random_state"
        )
    tasks = [
        (k, b, _fit_seed(root, k, b) if has_seed else -1)
        for k in ks
        for b in range(int(n_bootstrap))
    ]
    if n_jobs in (None, 1):
        out = [_bootstrap_fit(template, Xa, train[b], k, s) for k, b, s in tasks]
    else:
        from joblib import Parallel, delayed

        out = Parallel(n_jobs=n_jobs)(
            delayed(_bootstrap_fit)(template, Xa, train[b], k, s) for k, b, s in tasks
        )
    errors = pd.DataFrame(
        [
            {
                "k": k,
                "bootstrap": b,
                "n_train": n,
                "n_test": int(n_test[b]),
                "train_error": tr,
                "test_error": te,
                "seed": s,
                "converged": conv,
            }
            for (k, b, s), (tr, te, conv) in zip(tasks, out, strict=True)
        ],
        columns=list(ERROR_COLUMNS),
    )
    if not errors["converged"].all():
        warnings.warn(
            f"{int((~errors['converged']).sum())} of {len(errors)} fits stopped at max_iter "
            "before meeting their tolerance (errors['converged'] is False); raise max_iter "
            "(params={'max_iter': ...}) or tol",
            ConvergenceWarning,
            stacklevel=2,
        )
    result = _select(errors, alpha, stacklevel=3)
    result.train_indices = train
    result.estimator = _describe(template.set_params(n_components=ks[0]))
    return result


# --------------------------------------------------------------------------------------------
# combining methods
# --------------------------------------------------------------------------------------------
def _as_rank(x, name):
    if isinstance(x, BootstrapRankResult):
        return int(x.n_components_)
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1:
        raise ValueError(f"{name} must be a positive integer or a BootstrapRankResult, got {x!r}")
    return int(x)


def combine_ranks(k_nmf, k_cnmf, k_ae):
    """Rank for all three methods: K_all = round((K_NMF + ½K_CNMF + ½K_AE) / 2).

    The combination of Egendal et al. (Suppl. §1.3; METHODS.md §B.3): plain NMF weighs as
    much as the two convex models (convex NMF and AE-NMF, the same model class) together.
    The paper's cohorts give ovary (4, 4, 3) → 4, prostate (6, 4, 4) → 5, uterus
    (11, 6, 4) → 8. Ties (x.5) are rounded half to even, as Python's :func:`round`.

    Parameters
    ----------
    k_nmf, k_cnmf, k_ae : int >= 1 or BootstrapRankResult
        Ranks chosen for NMF, convex NMF and AE-NMF (results give ``n_components_``).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        A rank that is not a positive integer (or a result).
    """
    total = _as_rank(k_nmf, "k_nmf") + 0.5 * _as_rank(k_cnmf, "k_cnmf")
    total += 0.5 * _as_rank(k_ae, "k_ae")
    return int(round(total / 2.0))
