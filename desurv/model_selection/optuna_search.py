"""Hyperparameter search with optuna on the same folds and scores as the grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from desurv.model_selection.cross_validation import (
    _DEFAULTS,
    _PATH_PARAMS,
    GRID_PARAMS,
    _check_k,
    _check_value,
    _cv_data,
    _fit_options,
    _run_tasks,
    summarize_cv,
)

__all__ = ["optimize_hyperparameters", "trials_summary"]

_DEFAULT_SPACE = {
    "n_components": (2, 6),
    "alpha": (0.0, 0.95),
    "penalty": {"low": 1e-3, "high": 1.0, "log": True},
    "l1_ratio": (0.0, 1.0),
}


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise ValueError("search_space must be a non-empty dict of parameter specifications")
    unknown = set(space) - set(GRID_PARAMS)
    if unknown:
        raise ValueError(f"unknown parameter(s) in search_space: {sorted(unknown)}")
    out = {}
    for name, spec in space.items():
        if isinstance(spec, dict):
            spec = dict(spec)
        elif isinstance(spec, tuple) and len(spec) == 2:
            spec = {"low": spec[0], "high": spec[1]}
        elif isinstance(spec, list):
            if not spec:
                raise ValueError(f"search_space[{name!r}] is an empty list")
            out[name] = {"choices": [_check_value(name, v, "search_space") for v in spec]}
            continue
        else:
            out[name] = {"fixed": _check_value(name, spec, "search_space")}
            continue
        if set(spec) - {"low", "high", "log"} or not {"low", "high"} <= set(spec):
            raise ValueError(
                f"search_space[{name!r}] must be (low, high), {{'low','high','log'}}, a list of "
                f"choices or a fixed value, got {spec!r}"
            )
        lo, hi = (
            _check_value(name, spec["low"], "search_space"),
            _check_value(name, spec["high"], "search_space"),
        )
        if not lo < hi:
            raise ValueError(f"search_space[{name!r}]: low ({lo}) must be < high ({hi})")
        if spec.get("log") and lo <= 0:
            raise ValueError(f"search_space[{name!r}]: log scale needs low > 0")
        out[name] = {"low": lo, "high": hi, "log": bool(spec.get("log", False))}
    return out


def _suggest(trial, space):
    params = dict(_DEFAULTS)
    for name, spec in space.items():
        if "fixed" in spec:
            params[name] = spec["fixed"]
        elif "choices" in spec:
            params[name] = trial.suggest_categorical(name, spec["choices"])
        elif name == "n_components":
            params[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec["log"])
        else:
            params[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec["log"])
    return params


def optimize_hyperparameters(
    X,
    y=None,
    *,
    X_unlabeled=None,
    time=None,
    event=None,
    search_space=None,
    n_trials=30,
    storage=None,
    study_name="desurv",
    n_folds=5,
    n_seeds=3,
    groups=None,
    folds=None,
    preprocessor=None,
    n_init=1,
    max_iter=500,
    tol=1e-6,
    ties="breslow",
    loss_convention="consistent",
    balance="gradient",
    init_max_iter=30,
    init_tol=1e-4,
    random_state=None,
    n_jobs=None,
    backend=None,
    progress=False,
):
    """Bayesian optimisation (optuna TPE) of the mean validation C-index.

    Each trial proposes (k, α, λ, ξ, λ_W, λ_H) and is scored exactly like one grid point of
    :func:`cross_validate`: the same stratified folds and seeds (so trials are comparable),
    the C-index averaged over seeds within a fold, then over folds (no warm start: each trial
    has a single α). Trials are maximised one after the other; the fits inside a trial run in
    parallel. With ``storage`` (e.g. ``"sqlite:///cv.db"``) the study is saved as it goes and
    a later call with the same ``study_name`` resumes it, adding ``n_trials`` trials.

    Parameters
    ----------
    X, y, X_unlabeled, time, event, n_folds, n_seeds, groups, folds, preprocessor, n_init,
    max_iter, tol, ties, loss_convention, balance, init_max_iter, init_tol, n_jobs, backend,
    progress
        As in :func:`cross_validate` (unlabelled samples, ``X_unlabeled`` or NaN times in
        ``y``: semi-supervised DeSurv in every training part, folds and scores on the
        labelled samples).
    search_space : dict, optional
        Per parameter: ``(low, high)`` (uniform; integers for ``n_components``),
        ``{"low": ..., "high": ..., "log": True}``, a list of choices, or a fixed value.
        Unlisted parameters stay at the DeSurv defaults. Default: k ∈ [2, 6], α ∈ [0, 0.95],
        λ ∈ [1e-3, 1] (log), ξ ∈ [0, 1].
    n_trials : int, default=30
        Trials to run in this call.
    storage : str or optuna storage, optional
        Where the study is kept (None: in memory).
    study_name : str, default="desurv"
    random_state : int or None
        Seeds the folds, the random starts and the TPE sampler.

    Returns
    -------
    study : optuna.Study
        The study (``study.best_params``, ``study.trials_dataframe()``).
    summary : DataFrame
        One row per completed trial in the format of :func:`summarize_cv` plus ``trial``, so
        :func:`select_config` applies to the trials (its default ``"1se-k"``: per k the best
        trial, then the smallest k within one SE of the best).

    Raises
    ------
    ImportError
        If optuna is not installed (``pip install optuna``).
    ValueError
        Bad search space or data.
    """
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is in the test extra
        raise ImportError(
            "optimize_hyperparameters needs optuna: pip install optuna (or desurv[tune])"
        ) from None
    space = _check_space(_DEFAULT_SPACE if search_space is None else search_space)
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 0:
        raise ValueError(f"n_trials must be an integer >= 0, got {n_trials!r}")
    folds, seeds, fold_data, n_genes, n_train_min = _cv_data(
        X, y, time, event, n_folds, n_seeds, groups, folds, preprocessor, random_state,
        X_unlabeled,
    )  # fmt: skip
    opts = _fit_options(
        n_init, max_iter, tol, ties, loss_convention, init_max_iter, init_tol, balance
    )
    kspec = space.get("n_components", {"fixed": _DEFAULTS["n_components"]})
    kmax = kspec.get("high", kspec.get("fixed", max(kspec.get("choices", [0]))))
    _check_k([kmax], n_genes, n_train_min)

    def objective(trial):
        params = _suggest(trial, space)
        path = {p: params[p] for p in _PATH_PARAMS}
        tasks = [
            {"fold": f, "seed": s, "params": path, "alphas": [params["alpha"]]}
            for f in range(n_folds)
            for s in seeds
        ]
        recs = _run_tasks(tasks, fold_data, opts, n_jobs, backend, False, "trial")
        df = pd.DataFrame.from_records(recs)
        row = summarize_cv(df).iloc[0]
        for key in ("se_cindex", "n_folds", "mean_train_cindex", "mean_val_loglik",
                    "converged_fraction", "mean_n_iter"):  # fmt: skip
            trial.set_user_attr(key, float(row[key]))
        trial.set_user_attr("params", {p: params[p] for p in GRID_PARAMS})
        value = float(row["mean_cindex"])
        if not np.isfinite(value):
            raise optuna.TrialPruned("no fold with events")
        return value

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            storage=storage, study_name=study_name, direction="maximize", load_if_exists=True
        )
        if study.direction != optuna.study.StudyDirection.MAXIMIZE:
            raise ValueError(f"existing study {study_name!r} is not a maximisation study")
        # A resumed study must not replay the proposals of the first call: the sampler seed
        # combines random_state with the number of trials already stored.
        entropy = [len(study.trials)] + ([] if random_state is None else [int(random_state)])
        seed = (
            None
            if random_state is None
            else int(np.random.SeedSequence(entropy).generate_state(1)[0])
        )
        study.sampler = optuna.samplers.TPESampler(seed=seed)
        study.optimize(objective, n_trials=int(n_trials), show_progress_bar=bool(progress))
    finally:
        optuna.logging.set_verbosity(verbosity)
    return study, trials_summary(study)


def trials_summary(study):
    """Completed trials of an optuna study as a :func:`summarize_cv`-style table.

    Columns: ``trial``, the six hyperparameters, ``mean_cindex`` (the trial value),
    ``se_cindex`` and the other per-configuration statistics.
    """
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        attrs = t.user_attrs
        row = {"trial": t.number, **attrs["params"], "mean_cindex": t.value}
        row.update({k: v for k, v in attrs.items() if k != "params"})
        rows.append(row)
    cols = ["trial", *GRID_PARAMS, "mean_cindex", "se_cindex", "n_folds", "mean_train_cindex",
            "mean_val_loglik", "converged_fraction", "mean_n_iter"]  # fmt: skip
    df = pd.DataFrame.from_records(rows, columns=cols)
    df["n_components"] = df["n_components"].astype(np.int64)
    return df
