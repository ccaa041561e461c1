"""Benchmark runner: every (method, data set, split, seed) cell, with the same metrics.

Results are a tidy DataFrame with one row per (method, dataset, split, seed, metric, subset)
and columns ``method, dataset, split, seed, metric, subset, value, error, params_hash,
params``. ``subset`` says where a metric was measured: ``"train"`` (samples the estimator was
fitted on) or ``"test"`` (held-out fold). Across-seed metrics (``consistency``,
``stability``) have ``seed`` = <NA>. A failed fit gives one row with ``metric="fit"``, NaN
value and the exception in ``error``; a metric that cannot be computed in a cell gives its
row with NaN value and the reason in ``error``.

Unlabelled samples (semi-supervised methods, registered with ``unlabeled=True``): the
training samples whose labels ``run_benchmark(hide_labels=...)`` hides and a data set's
``X_unlabeled`` go to those methods as ``fit(..., X_unlabeled=...)``; all methods get the
same labelled training samples, and ``"train"`` means them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import metrics as M
from .datasets import resolve_dataset
from .registry import _SIGNATURE_METRICS, METRICS, did_you_mean, get_method

__all__ = ["BenchmarkWarning", "run_benchmark", "summarize"]

COLUMNS = [
    "method",
    "dataset",
    "split",
    "seed",
    "metric",
    "subset",
    "value",
    "error",
    "params_hash",
    "params",
]
CACHE_FORMAT = "desurv-benchmark-cell"
CACHE_VERSION = 1
_SEED_METRICS = ("consistency", "stability")


class BenchmarkWarning(UserWarning):
    """Some benchmark cells failed (their errors are in the results)."""


def _as_list(x):
    if x is None:
        return None
    return [x] if isinstance(x, str) or not hasattr(x, "__iter__") else list(x)


def _jsonable(obj):
    return json.loads(json.dumps(obj, sort_keys=True, default=repr))


def _hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=repr).encode()).hexdigest()


def _split_seed(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % (2**31 - 1)


def _splits(ds, n_splits):
    """Train/test indices of every split (fixed per data set)."""
    n = ds.X.shape[0]
    if n_splits == 1:
        return [(np.arange(n), None)]
    from sklearn.model_selection import KFold, StratifiedKFold

    seed = _split_seed(ds.name)
    if ds.target == "survival":
        strata = M._surv_arrays(ds.y)[1].astype(int)
    elif ds.target == "classification":
        strata = np.asarray(ds.y)
    else:
        strata = None
    if strata is not None:
        counts = np.unique(strata, return_counts=True)[1]
        if counts.min() < n_splits:
            what = "events or censored samples" if ds.target == "survival" else "samples of a class"
            raise ValueError(
                f"data set {ds.name!r} has only {counts.min()} {what}, fewer than "
                f"n_splits={n_splits}; lower n_splits"
            )
        cv = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(n), strata))
    return list(KFold(n_splits, shuffle=True, random_state=seed).split(np.zeros(n)))


def _hide_labels(ds, train, fraction, split, seed):
    """(labelled, hidden): training indices that keep their labels and those whose labels
    (time and event; class) are hidden, in ``train``'s order.

    ``round(fraction * size)`` samples of each stratum (event / censored for survival data,
    class for classification data) are hidden, drawn from a random permutation seeded by
    (data set name, split, seed): the same for every method of a cell, nested as
    ``fraction`` grows. Only training indices are touched; the test fold is not.
    """
    train = np.asarray(train)
    if not fraction:
        return train, train[:0]
    if ds.target == "survival":
        strata = M._surv_arrays(ds.y)[1].astype(int)[train]
    else:
        strata = np.asarray(ds.y)[train]
    rng = np.random.default_rng([_split_seed(ds.name), int(split), int(seed) % 2**32])
    hide = np.zeros(len(train), dtype=bool)
    for value in np.unique(strata):
        pos = rng.permutation(np.flatnonzero(strata == value))
        hide[pos[: int(round(fraction * len(pos)))]] = True
    return train[~hide], train[hide]


def _check_labelled_left(ds, labelled, fraction, split, seed):
    """ValueError, before any fit, when hiding left too few labels to fit anything: survival
    data need 2 labelled samples with at least 1 event, classification data 2 classes."""
    if ds.target == "survival":
        n_events = int(M._surv_arrays(ds.y)[1][labelled].sum())
        ok, what = len(labelled) >= 2 and n_events >= 1, f"{n_events} event(s)"
    else:
        n_classes = len(np.unique(np.asarray(ds.y)[labelled]))
        ok, what = n_classes >= 2, f"{n_classes} class(es)"
    if not ok:
        raise ValueError(
            f"hide_labels={fraction:g} leaves {len(labelled)} labelled training sample(s) with "
            f"{what} in data set {ds.name!r} (split {split}, seed {seed}); use a smaller fraction"
        )


def _check_hide_labels(hide_labels, dsets):
    """The ``hide_labels`` fraction as a float in [0, 1); ValueError otherwise."""
    if isinstance(hide_labels, bool) or not isinstance(hide_labels, (int, float, np.number)):
        raise ValueError(f"hide_labels must be a fraction in [0, 1), got {hide_labels!r}")
    fraction = float(hide_labels)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(
            f"hide_labels must be a fraction in [0, 1) of each training split, got {fraction}"
        )
    if fraction:
        bad = [d.name for d in dsets if d.target is None]
        if bad:
            raise ValueError(
                f"hide_labels={fraction} needs data sets with labels (survival or "
                f"classification); {bad} have none (drop them or set hide_labels=0)"
            )
    return fraction


# ----------------------------------------------------------------------------- validation
def _cell_metrics(spec, ds, requested, n_seeds, has_ref, sksurv_ok):
    """Metrics computed for (method, data set), and the reasons others are left out."""
    have = {"sksurv"} if sksurv_ok else set()
    if "signatures" in {n for m in spec.metrics for n in METRICS[m].needs}:
        have.add("signatures")
    if ds.signatures is not None:
        have.add("true_signatures")
    if ds.exposures is not None:
        have.add("true_exposures")
    if ds.target == "survival":
        have.add("survival")
    if ds.target == "classification":
        have.add("labels")
    if has_ref:
        have.add("reference")
    if n_seeds >= 2:
        have.add("seeds")
    if "integrated_brier" in spec.metrics:
        have.add("survival_function")
    names = spec.metrics if requested is None else [m for m in requested if m in spec.metrics]
    keep, left = [], {}
    for m in names:
        missing = METRICS[m].needs - have
        if missing:
            left[m] = sorted(missing)
        else:
            keep.append(m)
    return keep, left


def _validate(methods, datasets, seeds, n_splits, params, metrics, reference):
    if not methods:
        raise ValueError("no methods given; see desurv.benchmark.available_methods()")
    if not datasets:
        raise ValueError("no data sets given (e.g. datasets=['mutsim'])")
    specs = [get_method(m) for m in methods]
    if len(set(methods)) != len(methods):
        raise ValueError(f"methods listed twice: {methods}")
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct ints, got {seeds}")
    if not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits must be an int >= 1, got {n_splits!r}")
    params = dict(params or {})
    for name, over in params.items():
        if name not in methods:
            raise ValueError(f"params given for {name!r}, which is not among methods {methods}")
        spec = get_method(name)
        bad = sorted(set(over) - set(spec.defaults))
        if bad:
            hints = "".join(did_you_mean(b, spec.defaults) for b in bad)
            raise ValueError(
                f"unknown hyperparameter(s) {bad} for method {name!r}{hints}; it takes "
                f"{sorted(spec.defaults)} (register the method with them in defaults)"
            )
    if metrics is not None:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            hints = "".join(did_you_mean(u, METRICS) for u in unknown)
            raise ValueError(
                f"unknown metric(s) {unknown}{hints}; known metrics: {sorted(METRICS)}"
            )
        for m in metrics:
            if not any(m in s.metrics for s in specs):
                raise ValueError(
                    f"metric {m!r} does not apply to any of the methods {methods} (tasks "
                    f"{sorted({s.task for s in specs})}); drop it or add a method it applies to"
                )
        needs_sksurv = [m for m in metrics if "sksurv" in METRICS[m].needs]
        if needs_sksurv and not M.sksurv_available():
            raise ValueError(f"metric(s) {needs_sksurv} need scikit-survival: {M.SKSURV_HINT}")
        if "cosmic_cosine" in metrics and reference is None:
            raise ValueError(
                "metric 'cosmic_cosine' needs reference_signatures= (e.g. the "
                "COSMIC signatures TSV)"
            )
        if any(m in _SEED_METRICS for m in metrics) and len(seeds) < 2:
            raise ValueError("metrics 'consistency'/'stability' need at least 2 seeds")
    dsets = [resolve_dataset(d) for d in datasets]
    names = [d.name for d in dsets]
    if len(set(names)) != len(names):
        raise ValueError(f"data set names must be distinct, got {names}")
    for spec in specs:
        for ds in dsets:
            if spec.task in ("survival", "classification") and ds.target != spec.task:
                raise ValueError(
                    f"method {spec.name!r} ({spec.task}) needs a data set with a {spec.task} "
                    f"target; {ds.name!r} has {ds.target or 'none'} (drop one of them)"
                )
            merged = {**spec.defaults, **params.get(spec.name, {})}
            if "n_components" in merged and merged["n_components"] is None and ds.rank is None:
                raise ValueError(
                    f"data set {ds.name!r} has no true rank, so method {spec.name!r} needs "
                    f"n_components: pass params={{{spec.name!r}: {{'n_components': K}}}}"
                )
            if merged.get("n_components", 0) is None:
                merged["n_components"] = int(ds.rank)
            _probe(spec, merged)
    if reference is not None:
        ref = _reference_frame(reference)
        for ds in dsets:
            missing = ds.X.columns.difference(ref.index)
            if len(missing) and (metrics is None or "cosmic_cosine" in metrics):
                if metrics is not None:
                    raise ValueError(
                        f"reference signatures lack features of {ds.name!r}: {list(missing[:5])}"
                    )
    else:
        ref = None
    if metrics is not None:
        sk = M.sksurv_available()
        for m in metrics:
            ok = any(
                m in _cell_metrics(s, d, [m], len(seeds), ref is not None, sk)[0]
                for s in specs
                for d in dsets
            )
            if not ok:
                raise ValueError(
                    f"metric {m!r} cannot be computed on any (method, data set) pair given: "
                    f"it needs {sorted(METRICS[m].needs)}"
                )
    return specs, dsets, params, ref


def _reference_frame(reference):
    if isinstance(reference, pd.DataFrame):
        return reference.astype(float)
    from desurv.datasets.mutational import read_signatures

    return read_signatures(reference)


def _probe(spec, params):
    """Build the estimator once before any fit: a bad hyperparameter value is an error now,
    not a failed cell later. Returns whether it takes ``random_state``."""
    try:
        est = spec.factory(**params)
        if hasattr(type(est), "_parameter_constraints"):
            est._validate_params()  # scikit-learn's declared constraints
        check = getattr(est, "_check_params", None)
        if callable(check) and type(est).__module__.startswith("desurv."):
            check()  # desurv's estimators check their values without data
    except Exception as exc:  # noqa: BLE001 - reported with the method's name
        raise ValueError(
            f"method {spec.name!r} rejects its hyperparameters {params}: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    get_params = getattr(est, "get_params", None)
    takes = callable(get_params) and "random_state" in get_params()
    return takes or "random_state" in params


# processes in which each method has been fitted once (kernels compiled or loaded)
_WARMED = set()


def _warm_up(spec, params, X, y):
    """Fit the method once on a few samples, untimed, so that wall_time does not include
    one-off start-up costs (Numba compiling or loading the kernels of this process)."""
    if spec.name in _WARMED:
        return
    _WARMED.add(spec.name)
    m = min(len(X), 60)
    try:
        est = spec.factory(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if spec.supervised:
                est.fit(X.iloc[:m], None if y is None else y[:m])
            else:
                est.fit(X.iloc[:m])
    except Exception:  # noqa: BLE001, S110 - a warm-up that fails changes nothing
        pass


# ----------------------------------------------------------------------------- one cell
@contextlib.contextmanager
def _one_core():
    """One BLAS thread and sequential nested joblib calls inside the block.

    A cell's numbers must not depend on where it runs. Under a joblib backend such as
    Dask, ``n_jobs=None`` inside a task (and in the caller's process, inside
    ``parallel_config(backend="dask")``) means every worker of the cluster, so e.g.
    scikit-learn's ``pairwise_distances`` (used by the ``stability`` silhouette) would split
    its work into chunks and round differently than with ``n_jobs=1``; and BLAS thread
    counts differ between the caller and the workers. Both are pinned here."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1), parallel_config(backend="sequential"):
        yield


def _fit_and_score(spec, params, ds, train, test, cell_metrics, ref, hidden=None):
    """Fit one estimator and compute its metrics; returns (rows, signatures).

    ``train`` are the labelled training indices (the "train" subset of the metrics);
    ``hidden`` the training indices whose labels are hidden. A method registered with
    ``unlabeled=True`` gets their rows, then ``ds.X_unlabeled``, as ``X_unlabeled`` (none:
    ``X_unlabeled=None``); the labels of ``hidden`` never reach any method."""
    rows = []

    def add(metric, subset, fn):
        try:
            rows.append((metric, subset, float(fn()), None))
        except Exception as exc:  # noqa: BLE001 - a metric failure is recorded, not raised
            rows.append((metric, subset, float("nan"), f"{type(exc).__name__}: {exc}"))

    with _one_core():
        X_tr = ds.X.iloc[train]
        X_te = ds.X.iloc[test] if test is not None else None
        y_tr = None if ds.y is None else np.asarray(ds.y)[train]
        y_te = None if (ds.y is None or test is None) else np.asarray(ds.y)[test]
        _warm_up(spec, params, X_tr, y_tr)
        extra = {}
        if spec.unlabeled:
            blocks = [] if hidden is None or not len(hidden) else [ds.X.iloc[hidden]]
            if ds.X_unlabeled is not None and len(ds.X_unlabeled):
                blocks.append(ds.X_unlabeled)
            extra["X_unlabeled"] = pd.concat(blocks) if blocks else None
        est = spec.factory(**params)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if spec.supervised:
                est.fit(X_tr, y_tr, **extra)
                fit_out = None
            elif hasattr(est, "fit_transform"):
                fit_out = est.fit_transform(X_tr)
            else:
                est.fit(X_tr)
                fit_out = None
        wall = time.perf_counter() - t0
        ms = set(cell_metrics)
        if "wall_time" in ms:
            rows.append(("wall_time", "train", wall, None))
        if "n_iter" in ms:
            n_iter = getattr(est, "n_iter_", None)
            if n_iter is None:
                rows.append(("n_iter", "train", float("nan"), "estimator has no n_iter_"))
            else:
                rows.append(("n_iter", "train", float(np.sum(n_iter)), None))
        W = None
        sig_metrics = set(_SIGNATURE_METRICS)
        if ms & sig_metrics:
            W = spec.signatures(est)
            if W is None:
                raise ValueError(f"method {spec.name!r} yields no signatures (components_)")
            W = np.asarray(W, dtype=float)
            H_tr = spec.train_exposures(est, X_tr.to_numpy(), fit_out, W)
            H_te = M.nnls_exposures(X_te.to_numpy(), W) if X_te is not None else None
            subsets = [("train", X_tr, H_tr, train)]
            if X_te is not None:
                subsets.append(("test", X_te, H_te, test))
            for subset, Xs, Hs, idx in subsets:
                if "reconstruction_error" in ms:
                    add(
                        "reconstruction_error",
                        subset,
                        lambda Xs=Xs, Hs=Hs: M.reconstruction_error(Xs, W, Hs),
                    )
                if "exposure_error" in ms:
                    add(
                        "exposure_error",
                        subset,
                        lambda Hs=Hs, idx=idx: M.exposure_error(
                            W, Hs, ds.signatures.to_numpy(), ds.exposures.to_numpy()[idx]
                        ),
                    )
            if "signature_cosine" in ms:
                add(
                    "signature_cosine",
                    "train",
                    lambda: M.signature_cosine(W, ds.signatures.to_numpy()),
                )
            if "cosmic_cosine" in ms:
                add(
                    "cosmic_cosine",
                    "train",
                    lambda: M.cosmic_cosine(W, ref.loc[ds.X.columns].to_numpy()),
                )
        subset = "test" if test is not None else "train"
        X_ev = X_te if test is not None else X_tr
        y_ev = y_te if test is not None else y_tr
        if ms & {"f1_macro", "accuracy"}:
            pred = est.predict(X_ev)
            if "f1_macro" in ms:
                add("f1_macro", subset, lambda: M.f1_macro(y_ev, pred))
            if "accuracy" in ms:
                add("accuracy", subset, lambda: M.accuracy(y_ev, pred))
        if ms & {"harrell_c", "uno_c", "integrated_brier"}:
            risk = np.asarray(est.predict(X_ev), dtype=float)
            if "harrell_c" in ms:
                add("harrell_c", subset, lambda: M.harrell_c(y_ev, risk))
            if "uno_c" in ms:
                add("uno_c", subset, lambda: M.uno_c(y_tr, y_ev, risk))
            if "integrated_brier" in ms:

                def ibs():
                    times = M.evaluation_times(y_tr, y_ev)
                    fns = est.predict_survival_function(X_ev)
                    prob = np.vstack([np.asarray(f(times), dtype=float) for f in fns])
                    return M.integrated_brier(y_tr, y_ev, prob, times)

                add("integrated_brier", subset, ibs)
    return rows, (None if W is None else W.tolist())


def _run_cell(cell):
    try:
        rows, sig = _fit_and_score(
            cell["spec"],
            cell["fit_params"],
            cell["ds"],
            cell["train"],
            cell["test"],
            cell["metrics"],
            cell["ref"],
            cell.get("hidden"),
        )
        return {"rows": rows, "signatures": sig, "error": None}
    except Exception as exc:  # noqa: BLE001 - the failure is recorded in the results
        return {
            "rows": [("fit", "train", float("nan"), f"{type(exc).__name__}: {exc}")],
            "signatures": None,
            "error": f"{type(exc).__name__}: {exc}",
        }


# ----------------------------------------------------------------------------- cache
def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"cell-{key[:32]}.json"


def _cache_load(cache_dir, key):
    from desurv._output import read_json_file

    data = read_json_file(_cache_path(cache_dir, key))
    if (
        not isinstance(data, dict)
        or data.get("format") != CACHE_FORMAT
        or data.get("version") != CACHE_VERSION
        or data.get("key") != key
    ):
        return None
    rows = [(r[0], r[1], float("nan") if r[2] is None else float(r[2]), r[3]) for r in data["rows"]]
    return {"rows": rows, "signatures": data.get("signatures"), "error": None}


def _cache_store(cache_dir, key, result, cell_info) -> bool:
    """Write one finished cell; never replaces a file desurv did not write."""
    path = _cache_path(cache_dir, key)
    if path.exists() or path.is_symlink():
        if _cache_load(cache_dir, key) is None:
            return False  # someone else's file (or a corrupt one): leave it alone
    data = {
        "format": CACHE_FORMAT,
        "version": CACHE_VERSION,
        "key": key,
        "cell": cell_info,
        "rows": [[m, s, None if np.isnan(v) else v, e] for m, s, v, e in result["rows"]],
        "signatures": result["signatures"],
    }
    from desurv._output import write_text_atomic

    write_text_atomic(path, json.dumps(data), ".cell-", ".partial")
    return True


# ----------------------------------------------------------------------------- runner
def run_benchmark(
    methods,
    datasets,
    *,
    seeds=(0,),
    n_splits=1,
    params=None,
    metrics=None,
    n_jobs=1,
    cache_dir=None,
    reference_signatures=None,
    hide_labels=0.0,
    verbose=False,
):
    """Run methods on data sets over splits and seeds; one tidy row per metric value.

    Semi-supervised comparisons: a method registered with ``unlabeled=True`` (e.g.
    ``ss-desurv``, ``ss-nmf-cox``, ``cox-mt``) is fitted as ``fit(X_lab, y_lab,
    X_unlabeled=X_unl)``, where ``X_unl`` holds the training samples whose labels
    ``hide_labels`` hid, then the data set's ``X_unlabeled``; every other method is fitted
    on ``(X_lab, y_lab)`` only, the same labelled training samples. The test fold is never
    touched.

    Parameters
    ----------
    methods : str or list of str
        Registered method names (:func:`desurv.benchmark.available_methods`).
    datasets : str, BenchmarkDataset or list of them
        See :func:`desurv.benchmark.resolve_dataset` for the strings.
    seeds : sequence of int, default=(0,)
        Each cell's ``random_state`` is its seed (nothing else; set for every estimator
        that takes a ``random_state``, declared in the method's defaults or not), so
        results do not depend on ``n_jobs`` or on the order in which cells run.
    n_splits : int, default=1
        1: fit on all samples (metrics measured on them, ``subset="train"``). K >= 2:
        K-fold cross-validation, shuffled with a seed fixed per data set (derived from its
        name, so every method sees the same folds), stratified by event for survival
        data and by class for classification data; prediction metrics on the held-out fold
        (``subset="test"``), reconstruction and exposure errors on both.
    params : dict, optional
        Per-method hyperparameter overrides, e.g. ``{"desurv": {"alpha": 0.5}}``.
        ``n_components`` left at None takes the data set's true rank.
    metrics : list of str, optional
        Metrics to compute (names of :data:`desurv.benchmark.METRICS`); default every
        metric that applies to each (method, data set). Metrics that cannot be computed in
        a cell (no ground truth, scikit-survival missing, a single seed, ...) are left out
        and listed in ``results.attrs["left_out"]``.
    n_jobs : int, default=1
        Parallel cells through :class:`joblib.Parallel` (default backend: switch with
        :func:`joblib.parallel_config`, e.g. ``parallel_config(backend="dask")`` with a
        ``distributed.Client`` connected); each task uses one BLAS thread and runs nested
        joblib calls sequentially (as does the across-seed step in the caller), so the
        results are bitwise the same for every ``n_jobs`` and backend (``wall_time`` aside).
    cache_dir : str or Path, optional
        Folder of finished cells (one JSON file per cell, keyed by a hash of method, params,
        data set content, split, seed and metrics). A rerun loads finished cells instead of
        refitting; failed cells are not cached. Only ``cell-*.json`` files written by
        desurv are read or replaced; other files are never touched.
    reference_signatures : str, Path or DataFrame, optional
        Reference signatures (features × signatures, e.g. the COSMIC TSV) for
        ``cosmic_cosine``.
    hide_labels : float in [0, 1), default=0.0
        Fraction of each training split whose labels (time and event; the class for
        classification data) are hidden: ``round(hide_labels * size)`` samples of each
        stratum (event / censored, or class), drawn at random with a seed fixed by (data set
        name, split, seed), so every method of a cell sees the same hidden samples, each
        seed hides others, and the hidden sets are nested as the fraction grows. Their
        expression goes to the semi-supervised methods as ``X_unlabeled``; no method sees
        their labels, and the metrics of the ``"train"`` subset (and Uno's C and the Brier
        score's censoring distribution) use the labelled training samples only. 0: nothing
        hidden (the cells, results and cache keys of a run without this option). Needs data
        sets with labels.
    verbose : bool, default=False
        Print progress.

    Returns
    -------
    results : DataFrame
        Columns ``method, dataset, split, seed, metric, subset, value, error, params_hash,
        params`` (see the module docstring). ``results.attrs`` holds ``left_out`` (metric →
        reasons), ``failed`` (failed cells), ``n_fitted``, ``n_cached`` and
        ``hide_labels`` (the fraction).

    Raises
    ------
    ValueError
        Before any fit: unknown method, data set, metric or hyperparameter; a metric that
        applies to no given method or data set; a method whose task the data set cannot
        serve; a missing rank; explicitly requested scikit-survival metrics without
        scikit-survival (``pip install scikit-survival``); ``hide_labels`` outside [0, 1)
        or > 0 with a data set without labels.

    Warns
    -----
    BenchmarkWarning
        Once at the end, naming the failed cells (their errors are in the results).
    """
    from joblib import Parallel, delayed

    methods = _as_list(methods) or []
    datasets = _as_list(datasets) or []
    seeds = [int(s) for s in (_as_list(seeds) or [])]
    metrics = _as_list(metrics)
    specs, dsets, params, ref = _validate(
        methods, datasets, seeds, n_splits, params, metrics, reference_signatures
    )
    hide_labels = _check_hide_labels(hide_labels, dsets)
    sk = M.sksurv_available()
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir)
        if cache.is_symlink() or (cache.exists() and not cache.is_dir()):
            raise ValueError(f"cache_dir {cache} is not a folder")
        cache.mkdir(parents=True, exist_ok=True)

    cells, left_out = [], {}
    for spec in specs:
        for ds in dsets:
            keep, left = _cell_metrics(spec, ds, metrics, len(seeds), ref is not None, sk)
            for m, why in left.items():
                left_out.setdefault(m, []).append(f"{spec.name} on {ds.name}: needs {why}")
            if not keep:
                continue
            base = {**spec.defaults, **params.get(spec.name, {})}
            if "n_components" in base and base["n_components"] is None:
                base["n_components"] = int(ds.rank)
            seeded = _probe(spec, base)
            p_hash = _hash(_jsonable(base))[:12]
            ident = ds.identity()
            for split, (train, test) in enumerate(_splits(ds, n_splits)):
                for seed in seeds:
                    fit_params = dict(base)
                    if seeded:  # every estimator that takes a random_state gets the seed
                        fit_params["random_state"] = seed
                    info = {"method": spec.name, "dataset": ds.name, "split": split, "seed": seed}
                    labelled, hidden = _hide_labels(ds, train, hide_labels, split, seed)
                    if hide_labels:
                        _check_labelled_left(ds, labelled, hide_labels, split, seed)
                    # keys of runs without hidden labels or unlabelled data stay as they were
                    semi = {"hide_labels": hide_labels} if hide_labels else {}
                    if spec.unlabeled and (hide_labels or ds.X_unlabeled is not None):
                        semi["unlabeled"] = True
                    key = _hash(
                        {
                            **info,
                            "params": _jsonable(base),
                            "data": ident,
                            "n_splits": n_splits,
                            "metrics": sorted(keep),
                            "reference": None if ref is None else _hash(ref.to_numpy().tolist()),
                            **semi,
                        }
                    )
                    cells.append(
                        dict(
                            info,
                            spec=spec,
                            fit_params=fit_params,
                            ds=ds,
                            train=labelled,
                            hidden=hidden,
                            test=test,
                            metrics=keep,
                            ref=ref,
                            key=key,
                            params_hash=p_hash,
                            params_json=json.dumps(
                                _jsonable({**base, "random_state": "seed"} if seeded else base),
                                sort_keys=True,
                            ),
                        )
                    )
    if metrics is None and not sk:
        left_out.setdefault("_note", []).append(
            f"scikit-survival not installed: uno_c and integrated_brier left out ({M.SKSURV_HINT})"
        )

    results = [None] * len(cells)
    todo = []
    for i, c in enumerate(cells):
        hit = _cache_load(cache, c["key"]) if cache is not None else None
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    if verbose:
        print(
            f"desurv bench: {len(cells)} cells, {len(cells) - len(todo)} from cache, "
            f"{len(todo)} to fit"
        )
    out = Parallel(n_jobs=n_jobs, verbose=10 if verbose else 0)(
        delayed(_run_cell)(
            {
                k: cells[i][k]
                for k in ("spec", "fit_params", "ds", "train", "hidden", "test", "metrics", "ref")
            }
        )
        for i in todo
    )
    for i, res in zip(todo, out, strict=True):
        results[i] = res
        if cache is not None and res["error"] is None:
            _cache_store(
                cache,
                cells[i]["key"],
                res,
                {k: cells[i][k] for k in ("method", "dataset", "split", "seed")},
            )

    rows, failed = [], []
    for c, res in zip(cells, results, strict=True):
        if res["error"] is not None:
            failed.append(
                f"{c['method']}/{c['dataset']}/split {c['split']}/seed {c['seed']}: {res['error']}"
            )
        for metric, subset, value, err in res["rows"]:
            rows.append(
                (
                    c["method"],
                    c["dataset"],
                    c["split"],
                    c["seed"],
                    metric,
                    subset,
                    value,
                    err,
                    c["params_hash"],
                    c["params_json"],
                )
            )
    # across-seed metrics, per (method, data set, split)
    groups = {}
    for c, res in zip(cells, results, strict=True):
        groups.setdefault((c["method"], c["dataset"], c["split"]), []).append((c, res))
    for (meth, dname, split), members in groups.items():
        c0 = members[0][0]
        for m in _SEED_METRICS:
            if m not in c0["metrics"]:
                continue
            sigs = [np.asarray(r["signatures"]) for _, r in members if r["signatures"]]
            err = None
            if len(sigs) < 2:
                value, err = float("nan"), "fewer than 2 seeds fitted"
            else:
                fn = M.seed_consistency if m == "consistency" else M.seed_stability
                try:
                    with _one_core():  # as in the cells, whatever the caller's joblib config
                        value = fn(sigs)
                except Exception as exc:  # noqa: BLE001
                    value, err = float("nan"), f"{type(exc).__name__}: {exc}"
            rows.append(
                (
                    meth,
                    dname,
                    split,
                    pd.NA,
                    m,
                    "train",
                    value,
                    err,
                    c0["params_hash"],
                    c0["params_json"],
                )
            )

    df = pd.DataFrame(rows, columns=COLUMNS)
    df["seed"] = df["seed"].astype("Int64")
    df["split"] = df["split"].astype(int)
    df["value"] = df["value"].astype(float)
    m_order = {m: i for i, m in enumerate(methods)}
    d_order = {d.name: i for i, d in enumerate(dsets)}
    df = df.sort_values(
        ["method", "dataset", "split", "seed", "metric", "subset"],
        key=lambda s: (
            s.map(m_order) if s.name == "method" else s.map(d_order) if s.name == "dataset" else s
        ),
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    df.attrs["left_out"] = left_out
    df.attrs["failed"] = failed
    df.attrs["n_fitted"] = len(todo)
    df.attrs["n_cached"] = len(cells) - len(todo)
    df.attrs["hide_labels"] = hide_labels
    if failed:
        shown = "; ".join(failed[:5]) + (f"; ... ({len(failed)} in all)" if len(failed) > 5 else "")
        warnings.warn(
            f"{len(failed)} benchmark cell(s) failed: {shown}", BenchmarkWarning, stacklevel=2
        )
    return df


def summarize(results):
    """Median and interquartile range per method, data set, metric and subset.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`run_benchmark`.

    Returns
    -------
    DataFrame
        Columns ``method, dataset, metric, subset, median, q25, q75, n`` (``n`` = values
        that were computed; NaN values and failed cells are excluded).
    """
    ok = results[results["value"].notna()]
    g = ok.groupby(["method", "dataset", "metric", "subset"], sort=False)["value"]
    out = pd.DataFrame(
        {
            "median": g.median(),
            "q25": g.quantile(0.25),
            "q75": g.quantile(0.75),
            "n": g.count(),
        }
    ).reset_index()
    return out
