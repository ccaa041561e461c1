"""Registry of benchmark methods and of the metrics that apply to each task.

Registering a method is one call::

    from desurv.benchmark import register_method
    from sklearn.decomposition import NMF

    register_method(
        "my-nmf", lambda **p: NMF(**p), task="signatures",
        defaults={"n_components": None, "init": "random", "max_iter": 200, "random_state": None},
        description="scikit-learn NMF, random init",
    )

The factory receives the resolved hyperparameters as keyword arguments and returns an
unfitted scikit-learn style estimator. Two hyperparameters are filled by the runner:
``n_components`` (when its default is None: the data set's true rank) and ``random_state``
(the cell's seed); declare them in ``defaults`` to receive them.

A semi-supervised method registers with ``unlabeled=True`` (its ``fit`` accepts
``X_unlabeled=``): the runner passes it the cell's unlabelled samples (training samples
whose labels ``run_benchmark(hide_labels=...)`` hid, and a data set's ``X_unlabeled``);
every other method is fitted on the labelled training samples only. Built-in pairs:
``ss-desurv`` / ``desurv``, ``ss-nmf-cox`` / ``nmf-cox``, ``cox-mt`` / ``mlp-cox``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "METRICS",
    "TASKS",
    "MethodSpec",
    "MetricInfo",
    "available_methods",
    "available_metrics",
    "get_method",
    "register_method",
    "unregister_method",
]

TASKS = ("reconstruction", "signatures", "classification", "survival")


@dataclass(frozen=True)
class MetricInfo:
    """What a metric needs.

    Attributes
    ----------
    name : str
    needs : frozenset of str
        Requirements: ``"signatures"`` (the estimator yields signatures), ``"true_signatures"``,
        ``"true_exposures"``, ``"labels"``, ``"survival"`` (targets of the data set),
        ``"reference"`` (``reference_signatures`` given to the runner), ``"seeds"`` (two or
        more seeds), ``"sksurv"`` (scikit-survival importable), ``"survival_function"``
        (the estimator has ``predict_survival_function``).
    description : str
    higher_is_better : bool or None
    """

    name: str
    needs: frozenset
    description: str
    higher_is_better: bool | None = None


def _m(name, needs, description, higher):
    return MetricInfo(name, frozenset(needs), description, higher)


#: Every metric the runner computes, by name.
METRICS = {
    m.name: m
    for m in (
        _m(
            "reconstruction_error",
            {"signatures"},
            "relative Frobenius error ||X - H W^T|| / ||X|| (test: NNLS exposures)",
            False,
        ),
        _m(
            "signature_cosine",
            {"signatures", "true_signatures"},
            "Hungarian-matched cosine to the true signatures (mean over true)",
            True,
        ),
        _m(
            "exposure_error",
            {"signatures", "true_signatures", "true_exposures"},
            "relative error of matched, scale-normalised exposures",
            False,
        ),
        _m(
            "cosmic_cosine",
            {"signatures", "reference"},
            "best-match cosine of each fitted signature to the reference (e.g. COSMIC)",
            True,
        ),
        _m(
            "consistency",
            {"signatures", "seeds"},
            "mean matched cosine between signatures of different seeds",
            True,
        ),
        _m(
            "stability",
            {"signatures", "seeds"},
            "silhouette (cosine) of signatures clustered across seeds",
            True,
        ),
        _m("f1_macro", {"labels"}, "macro-averaged F1", True),
        _m("accuracy", {"labels"}, "accuracy", True),
        _m("harrell_c", {"survival"}, "Harrell's concordance index", True),
        _m("uno_c", {"survival", "sksurv"}, "Uno's IPCW concordance (scikit-survival)", True),
        _m(
            "integrated_brier",
            {"survival", "sksurv", "survival_function"},
            "integrated Brier score (scikit-survival)",
            False,
        ),
        _m("wall_time", set(), "fit wall time in seconds (start-up costs excluded)", False),
        _m("n_iter", set(), "iterations of the fit (estimator's n_iter_)", None),
    )
}

_SIGNATURE_METRICS = (
    "reconstruction_error",
    "signature_cosine",
    "exposure_error",
    "cosmic_cosine",
    "consistency",
    "stability",
)
TASK_METRICS = {
    "reconstruction": ("reconstruction_error", "wall_time", "n_iter"),
    "signatures": (*_SIGNATURE_METRICS, "wall_time", "n_iter"),
    "classification": ("f1_macro", "accuracy", "wall_time", "n_iter"),
    "survival": ("harrell_c", "uno_c", "integrated_brier", "wall_time", "n_iter"),
}


def default_signatures(estimator):
    """Fitted signatures (features × K): ``components_.T``, or None if absent."""
    comp = getattr(estimator, "components_", None)
    return None if comp is None else np.asarray(comp, dtype=float).T


def default_train_exposures(estimator, X, fit_output, signatures):
    """Exposures of the training samples (samples × K).

    The ``fit_transform`` output of an unsupervised estimator when it has K columns; else
    ``H_.T`` (DeSurv's and NMFCox's training exposures); else NNLS of X on the signatures.
    """
    K = signatures.shape[1]
    if fit_output is not None and getattr(fit_output, "ndim", 0) == 2:
        out = np.asarray(fit_output, dtype=float)
        if out.shape == (X.shape[0], K):
            return out
    H = getattr(estimator, "H_", None)
    if H is not None and np.shape(H) == (K, X.shape[0]):
        return np.asarray(H, dtype=float).T
    from .metrics import nnls_exposures

    return nnls_exposures(X, signatures)


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    Attributes
    ----------
    name : str
    factory : callable
        ``factory(**params) -> estimator`` (unfitted, scikit-learn style).
    task : {"reconstruction", "signatures", "classification", "survival"}
        Survival and classification methods are fitted as ``fit(X, y)``; the others as
        ``fit_transform(X)`` (or ``fit(X)``).
    defaults : dict
        Every hyperparameter the factory takes, with its default. ``None`` for
        ``n_components`` means the data set's true rank; ``random_state`` is the cell's seed.
    metrics : tuple of str
        Metrics that apply (names of :data:`METRICS`).
    description : str
    signatures : callable
        ``signatures(estimator) -> (n_features, K) array or None``.
    train_exposures : callable
        ``train_exposures(estimator, X, fit_output, signatures) -> (n_samples, K) array``.
    unlabeled : bool
        Whether the estimator is semi-supervised: its ``fit(X, y, X_unlabeled=...)`` takes
        extra samples without labels (for survival: without time and event). The runner
        then passes the unlabelled samples of a cell (training samples whose labels
        ``run_benchmark(hide_labels=...)`` hid, then the data set's ``X_unlabeled``) as
        ``X_unlabeled``; methods without the flag never see them. Only for survival and
        classification methods.
    """

    name: str
    factory: Callable[..., Any]
    task: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple = ()
    description: str = ""
    signatures: Callable = default_signatures
    train_exposures: Callable = default_train_exposures
    unlabeled: bool = False

    @property
    def supervised(self) -> bool:
        """Whether the estimator is fitted with a target (survival or classification)."""
        return self.task in ("survival", "classification")


_REGISTRY: dict[str, MethodSpec] = {}


def did_you_mean(word, choices):
    """``" (did you mean 'x'?)"`` for the closest of ``choices`` (case-insensitive), or ""."""
    import difflib

    lower = {str(c).lower(): c for c in choices}
    close = difflib.get_close_matches(str(word).lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""


def register_method(
    name,
    factory,
    task,
    *,
    defaults=None,
    metrics=None,
    description="",
    signatures=None,
    train_exposures=None,
    unlabeled=False,
    overwrite=False,
) -> MethodSpec:
    """Register a method for :func:`desurv.benchmark.run_benchmark`.

    Parameters
    ----------
    name : str
        Unique name (used in ``methods=`` and in ``params=``).
    factory : callable
        ``factory(**params)`` returning an unfitted estimator.
    task : {"reconstruction", "signatures", "classification", "survival"}
    defaults : dict, optional
        Hyperparameters and their defaults (users may override only these).
    metrics : sequence of str, optional
        Applicable metrics; default the task's (:data:`TASK_METRICS`).
    description : str, default=""
    signatures, train_exposures : callable, optional
        Extractors (see :class:`MethodSpec`); defaults use ``components_`` and ``H_``.
    unlabeled : bool, default=False
        The estimator's ``fit`` accepts ``X_unlabeled=`` (a semi-supervised method such as
        :class:`desurv.DeSurv`, :class:`desurv.NMFCox` or
        :class:`desurv.survival.CoxMT`): the runner passes it the unlabelled samples of
        each cell (see :class:`MethodSpec`). Survival and classification tasks only.
    overwrite : bool, default=False
        Replace an existing registration of ``name``.

    Returns
    -------
    MethodSpec

    Raises
    ------
    ValueError
        Empty or already registered name, unknown task or metric, non-callable factory,
        ``unlabeled=True`` for a task without labels.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("method name must be a non-empty string")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"method {name!r} is already registered (pass overwrite=True)")
    if not callable(factory):
        raise ValueError(f"factory of {name!r} must be callable")
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r} for {name!r}; choose one of {list(TASKS)}")
    if not isinstance(unlabeled, (bool, np.bool_)):
        raise ValueError(f"unlabeled of {name!r} must be True or False, got {unlabeled!r}")
    if unlabeled and task not in ("survival", "classification"):
        raise ValueError(
            f"unlabeled=True for {name!r}, a {task!r} method: unlabelled samples only mean "
            "something for survival and classification methods (drop unlabeled=True)"
        )
    metrics = tuple(TASK_METRICS[task] if metrics is None else metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown} for {name!r}; known: {sorted(METRICS)}")
    spec = MethodSpec(
        name=name,
        factory=factory,
        task=task,
        defaults=dict(defaults or {}),
        metrics=metrics,
        description=description,
        signatures=signatures or default_signatures,
        train_exposures=train_exposures or default_train_exposures,
        unlabeled=bool(unlabeled),
    )
    _REGISTRY[name] = spec
    return spec


def unregister_method(name) -> None:
    """Remove a registered method (no error if absent)."""
    _REGISTRY.pop(name, None)


def get_method(name) -> MethodSpec:
    """The registered method ``name``.

    Raises
    ------
    ValueError
        Unknown name (the message lists the registered ones).
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown method {name!r}{did_you_mean(name, _REGISTRY)}; registered methods: "
            f"{sorted(_REGISTRY)} (add one with desurv.benchmark.register_method)"
        ) from None


def available_methods():
    """Registered methods as a DataFrame.

    Returns
    -------
    DataFrame
        Columns ``name``, ``task``, ``description``, ``defaults`` (dict), ``metrics``
        (tuple), ``unlabeled`` (bool: the method takes unlabelled samples, see
        :class:`MethodSpec`), one row per method, sorted by name.
    """
    import pandas as pd

    rows = [
        dict(
            name=s.name,
            task=s.task,
            description=s.description,
            defaults=dict(s.defaults),
            metrics=s.metrics,
            unlabeled=s.unlabeled,
        )
        for s in sorted(_REGISTRY.values(), key=lambda s: s.name)
    ]
    columns = ["name", "task", "description", "defaults", "metrics", "unlabeled"]
    return pd.DataFrame(rows, columns=columns)


def available_metrics():
    """Known metrics as a DataFrame (``name``, ``needs``, ``description``,
    ``higher_is_better``)."""
    import pandas as pd

    return pd.DataFrame(
        [
            dict(
                name=m.name,
                needs=sorted(m.needs),
                description=m.description,
                higher_is_better=m.higher_is_better,
            )
            for m in METRICS.values()
        ]
    )


# ----------------------------------------------------------------------------- built-ins
def _desurv_nmf(**params):
    from desurv.decomposition import NMF

    return NMF(**params)


def _sklearn_nmf(**params):
    from sklearn.decomposition import NMF

    return NMF(**params)


def _convex_nmf(**params):
    from desurv.decomposition import ConvexNMF

    return ConvexNMF(**params)


def _aenmf(**params):
    from desurv.decomposition import AENMF

    return AENMF(**params)


def _desurv_estimator(**params):
    import desurv

    return desurv.DeSurv(**params)


def _nmfcox(**params):
    import desurv

    return desurv.NMFCox(**params)


def _coxnet(**params):
    import desurv

    return desurv.CoxNet(**params)


def _coxmt(**params):
    from desurv.survival.coxmt import CoxMT

    return CoxMT(**params)


def _coxmt_defaults(consistency_weight):
    from desurv.survival.coxmt import CoxMT

    return {**CoxMT().get_params(), "consistency_weight": consistency_weight}


def _nmf_defaults(beta_loss, solver, init="random"):
    # random starts by default, so that seeds differ (consistency, stability); "nmf-cd-nndsvda"
    # is coordinate descent from scikit-learn's deterministic default start
    return dict(
        n_components=None,
        beta_loss=beta_loss,
        solver=solver,
        init=init,
        max_iter=500,
        tol=1e-4,
        random_state=None,
    )


def _convex_defaults(beta_loss):
    """ConvexNMF for a benchmark: every constructor parameter (one source of truth), random
    starts, the rank and seed filled by the runner. ``max_iter=5000``, ``tol=1e-6`` (the
    estimator's practical tolerance; the paper's 1e-10 needs 10⁵-10⁶ iterations): the
    simultaneous square-root updates converge slowly, so a capped fit is flagged by a
    ConvergenceWarning and its ``n_iter`` equals 5000 in the results."""
    from desurv.decomposition import ConvexNMF

    params = ConvexNMF().get_params()
    params.update(
        n_components=None,
        beta_loss=beta_loss,
        init="random",
        max_iter=5000,
        tol=1e-6,
        random_state=None,
    )
    return params


def _aenmf_defaults(beta_loss):
    """AENMF ("fp-abs", full-batch Adam) for a benchmark: every constructor parameter, the
    estimator's measured defaults (``learning_rate=1e-3``, ``tol=1e-6`` over a
    ``tol_window=1000``-step window), random starts, and ``max_iter=30000`` instead of
    50000 (on ~500-2000 genomes the default rule stops after ~25000-40000 steps; a capped
    fit shows ``n_iter`` = 30000)."""
    from desurv.decomposition import AENMF

    params = AENMF().get_params()
    params.update(
        n_components=None,
        constraint="fp-abs",
        beta_loss=beta_loss,
        init="random",
        learning_rate=1e-3,
        tol=1e-6,
        tol_window=1000,
        max_iter=30000,
        random_state=None,
    )
    return params


def _estimator_defaults(name):
    """Constructor defaults of ``desurv.<name>`` (one source of truth), with
    ``n_components=None`` so that a data set's true rank is used."""
    import desurv

    params = getattr(desurv, name)().get_params()
    params["n_components"] = None
    return params


def _deep_unfolded_nmf(**params):
    from desurv.decomposition import DeepUnfoldedNMF

    return DeepUnfoldedNMF(**params)


def _deep_unfolded_defaults():
    """DeepUnfoldedNMF for a benchmark, unsupervised: every constructor parameter, the
    fitted-NMF start, λ₁ = λ₂ = 0, Adam 5e-4 ("auto"; chosen by validation in 132 of 135
    SynSig/BRCA folds of benchmarks/unfolded_eval.py), early stopping on 10 % of the
    training genomes, at most 500 steps; mode="unsupervised" so a y given by a Pipeline is
    ignored; n_threads=None because the runner already limits BLAS to one thread."""
    from desurv.decomposition import DeepUnfoldedNMF

    params = DeepUnfoldedNMF().get_params()
    params.update(
        n_components=None,
        mode="unsupervised",
        init="nmf",
        lambda_l1=0.0,
        lambda_l2=0.0,
        learning_rate="auto",
        max_iter=500,
        early_stopping=True,
        validation_fraction=0.1,
        n_threads=None,
        random_state=None,
    )
    return params


def _supervised_nmf(**params):
    from desurv.decomposition import SupervisedNMF

    return SupervisedNMF(**params)


def _supervised_nmf_defaults():
    """SupervisedNMF (S-NMF) for a benchmark: every constructor parameter, fewer replicates
    (3) to keep cells short, ``n_components=None`` so that a data set's true rank is used.
    Only the supervised mode is registered: the runner gives every training sample its
    label, so the semi-supervised and pseudo-labelling modes would fit the same problem."""
    from desurv.decomposition import SupervisedNMF

    params = SupervisedNMF().get_params()
    params.update(n_components=None, mode="supervised", n_replicates=3, n_jobs=None,
                  random_state=None)  # fmt: skip
    return params


def _register_builtins():
    register_method(
        "nmf-frobenius",
        _desurv_nmf,
        "signatures",
        defaults=_nmf_defaults("frobenius", "mu"),
        description="desurv.decomposition.NMF, Frobenius loss, multiplicative updates",
    )
    register_method(
        "nmf-kl",
        _desurv_nmf,
        "signatures",
        defaults=_nmf_defaults("kullback-leibler", "mu"),
        description="desurv.decomposition.NMF, KL divergence, multiplicative updates",
    )
    register_method(
        "nmf-cd",
        _desurv_nmf,
        "signatures",
        defaults=_nmf_defaults("frobenius", "cd"),
        description="desurv.decomposition.NMF, Frobenius loss, coordinate descent",
    )
    register_method(
        "nmf-cd-nndsvda",
        _desurv_nmf,
        "signatures",
        defaults=_nmf_defaults("frobenius", "cd", init="nndsvda"),
        description="desurv.decomposition.NMF, coordinate descent from NNDSVDa (deterministic)",
    )
    register_method(
        "sklearn-nmf",
        _sklearn_nmf,
        "signatures",
        defaults=_nmf_defaults("frobenius", "mu"),
        description="sklearn.decomposition.NMF, Frobenius loss, mu (reference)",
    )
    register_method(
        "sklearn-nmf-kl",
        _sklearn_nmf,
        "signatures",
        defaults=_nmf_defaults("kullback-leibler", "mu"),
        description="sklearn.decomposition.NMF, KL divergence, mu (reference)",
    )
    register_method(
        "convex-nmf",
        _convex_nmf,
        "signatures",
        defaults=_convex_defaults("frobenius"),
        description=(
            "desurv.decomposition.ConvexNMF: convex NMF (Ding, Li, Jordan), Frobenius, "
            "simultaneous sqrt updates, random start"
        ),
    )
    register_method(
        "convex-nmf-kl",
        _convex_nmf,
        "signatures",
        defaults=_convex_defaults("kullback-leibler"),
        description="desurv.decomposition.ConvexNMF, KL divergence, alternating updates",
    )
    register_method(
        "aenmf",
        _aenmf,
        "signatures",
        defaults=_aenmf_defaults("frobenius"),
        description=(
            "desurv.decomposition.AENMF: autoencoder NMF (Egendal et al.), fp-abs, "
            "Frobenius, full-batch Adam"
        ),
    )
    register_method(
        "aenmf-kl",
        _aenmf,
        "signatures",
        defaults=_aenmf_defaults("kullback-leibler"),
        description="desurv.decomposition.AENMF, fp-abs, KL divergence, full-batch Adam",
    )
    register_method(
        "s-nmf",
        _supervised_nmf,
        "classification",
        defaults=_supervised_nmf_defaults(),
        description=(
            "desurv.decomposition.SupervisedNMF, mode='supervised': NMF with a multinomial "
            "logistic head on the exposures (Tofacchi, Goossens, Gonçalves)"
        ),
    )
    register_method(
        "deep-unfolded-nmf",
        _deep_unfolded_nmf,
        "signatures",
        defaults=_deep_unfolded_defaults(),
        description=(
            "desurv.decomposition.DeepUnfoldedNMF: deep-unfolded multiplicative updates "
            "(Nasser, Eldar, Sharan), unsupervised, fitted-NMF start, exact NNLS W-step, Adam"
        ),
    )
    survival_and_signatures = (*TASK_METRICS["survival"], *_SIGNATURE_METRICS)
    register_method(
        "desurv",
        _desurv_estimator,
        "survival",
        defaults=_estimator_defaults("DeSurv"),
        metrics=survival_and_signatures,
        description="desurv.DeSurv: NMF jointly fitted with an elastic-net Cox model",
    )
    register_method(
        "ss-desurv",
        _desurv_estimator,
        "survival",
        defaults=_estimator_defaults("DeSurv"),
        metrics=survival_and_signatures,
        unlabeled=True,
        description=(
            "desurv.DeSurv with X_unlabeled: semi-supervised DeSurv (METHODS.md §F.5), the "
            "unlabelled samples in the NMF term and H, the Cox term on the labelled ones"
        ),
    )
    register_method(
        "nmf-cox",
        _nmfcox,
        "survival",
        defaults=_estimator_defaults("NMFCox"),
        metrics=survival_and_signatures,
        description=(
            "desurv.NMFCox: plain NMF by multiplicative updates (the paper's baseline), "
            "then an elastic-net Cox model"
        ),
    )
    register_method(
        "ss-nmf-cox",
        _nmfcox,
        "survival",
        defaults=_estimator_defaults("NMFCox"),
        metrics=survival_and_signatures,
        unlabeled=True,
        description=(
            "desurv.NMFCox with X_unlabeled: NMF on the labelled and unlabelled samples, "
            "then the elastic-net Cox model on the labelled ones"
        ),
    )
    register_method(
        "nmf-cox-cd",
        _nmfcox,
        "survival",
        defaults={**_estimator_defaults("NMFCox"), "solver": "cd"},
        metrics=survival_and_signatures,
        description=(
            "desurv.NMFCox(solver='cd'): NMF by coordinate descent from NNDSVDa to "
            "convergence, then the same elastic-net Cox model"
        ),
    )
    register_method(
        "coxnet",
        _coxnet,
        "survival",
        defaults=dict(l1_ratio=0.5, n_alphas=100, cv=5, random_state=None),
        metrics=("harrell_c", "uno_c", "wall_time"),
        description="desurv.CoxNet: elastic-net Cox on all features, λ by internal CV",
    )
    survival = TASK_METRICS["survival"]
    register_method(
        "cox-mt",
        _coxmt,
        "survival",
        defaults=_coxmt_defaults(1.0),
        metrics=survival,
        unlabeled=True,
        description=(
            "desurv.CoxMT: mean-teacher Cox network (Sun, Chen, Cai), consistency on the "
            "censored and unlabelled training samples (censored only when there are none)"
        ),
    )
    register_method(
        "mlp-cox",
        _coxmt,
        "survival",
        defaults=_coxmt_defaults(0.0),
        metrics=survival,
        description="desurv.CoxMT(consistency_weight=0): supervised MLP-Cox (Cox-nnet-like)",
    )


_register_builtins()
