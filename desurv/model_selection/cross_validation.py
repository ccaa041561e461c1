"""Cross-validated model selection for DeSurv: grid search with warm starts, and optuna.

Workflow (DeSurv paper, "hyperparameter selection"):

1. Folds stratified by event status and cohort (:func:`stratified_folds`).
2. For every fold, seed and *path* (a setting of k, λ, ξ, λ_W, λ_H), every α of the grid is
   fitted from the seed's random initialisation (cold starts, the default; warm starts along
   α are an option, see :func:`cross_validate`). Each fit is scored on the held-out fold by
   Harrell's C of η = Z_val β with Z_val = X_valᵀ W (W and β learned on the training part).
3. Per configuration the C-index is averaged over seeds within a fold, then the mean and
   standard error (SD/√n_folds, ddof = 1) are taken across folds.
4. A rule chooses one configuration (:func:`select_config`): ``rule="1se-k"`` (the default,
   the DeSurv authors' rule) takes for every k its best configuration by mean C-index and
   returns the one with the smallest k within one standard error of the best; ``"max"``
   picks the best mean; ``"1se"`` the smallest k, then the smallest α, among all
   configurations within one standard error of the best (remaining ties: higher mean).
5. The chosen model is refitted on all data.

Semi-supervised DeSurv (METHODS.md §F.5): samples without follow-up, given as
``X_unlabeled`` or as rows of X whose time is NaN, are never validated on. The folds are
built on the labelled samples only (stratified by event status and cohort as above), every
training part gets all unlabelled samples (they enter the NMF term and H only, see
:func:`desurv.fit_desurv`) and every score is computed on labelled validation samples only.
Without unlabelled samples the results are those of plain DeSurv cross-validation, bit for
bit.

Fits run in parallel with joblib; BLAS is limited to one thread inside each fit
(threadpoolctl), and every fit depends only on its own (fold, seed, path), so results are
bit-identical for any ``n_jobs``.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from desurv._folds import fold_indices, stratified_folds
from desurv._progress import Progress
from desurv._validation import (
    _raw_time_event,
    extract_X,
    is_anndata,
    survival_from_y,
    survival_with_unlabeled,
)
from desurv.deconvolution.estimator import (
    _as_matrix,
    _unlabeled_matrix,
)
from desurv.deconvolution.solver import _check_acceleration, fit_desurv
from desurv.exceptions import ConvergenceWarning, DataWarning
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import cox_partial_log_likelihood

__all__ = [
    "GRID_PARAMS",
    "cross_validate",
    "load_cv_results",
    "make_grid",
    "save_cv_results",
    "select_config",
    "select_n_components",
    "summarize_cv",
]

#: Hyperparameters searched over (paper symbols k, α, λ, ξ, λ_W, λ_H).
GRID_PARAMS = ("n_components", "alpha", "penalty", "l1_ratio", "penalty_w", "penalty_h")
_DEFAULTS = {
    "n_components": 3,
    "alpha": 0.5,
    "penalty": 0.1,
    "l1_ratio": 0.5,
    "penalty_w": 0.0,
    "penalty_h": 0.0,
}
_PATH_PARAMS = tuple(p for p in GRID_PARAMS if p != "alpha")
#: Selection rules of :func:`select_config` (the first is the default everywhere).
_RULES = ("1se-k", "max", "1se")
_DEFAULT_RULE = _RULES[0]


# ----------------------------------------------------------------------------- grid
def _check_value(name, v, where="param_grid"):
    if name == "n_components":
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{where}['n_components'] values must be integers >= 1, got {v!r}")
        return int(v)
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{where}[{name!r}] values must be numbers, got {v!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{where}[{name!r}] contains a non-finite value {v}")
    if name == "alpha" and not 0.0 <= v < 1.0:
        raise ValueError(f"{where}['alpha'] values must be in [0, 1), got {v}")
    if name == "l1_ratio" and not 0.0 <= v <= 1.0:
        raise ValueError(f"{where}['l1_ratio'] values must be in [0, 1], got {v}")
    if name in ("penalty", "penalty_w", "penalty_h") and v < 0:
        raise ValueError(f"{where}[{name!r}] values must be >= 0, got {v}")
    return v


def make_grid(param_grid):
    """Validate a parameter grid and fill unspecified parameters with DeSurv defaults.

    Parameters
    ----------
    param_grid : dict
        Maps names in :data:`GRID_PARAMS` to a value or a non-empty list of values.

    Returns
    -------
    dict of str -> list
        Every name of :data:`GRID_PARAMS`, values sorted ascending and de-duplicated.

    Raises
    ------
    ValueError
        Unknown parameter name, empty list, duplicated values, or a value out of range.
    """
    if not isinstance(param_grid, dict):
        raise ValueError(f"param_grid must be a dict of lists, got {type(param_grid).__name__}")
    unknown = set(param_grid) - set(GRID_PARAMS)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) in param_grid: {sorted(unknown)}; allowed: {list(GRID_PARAMS)}"
        )
    grid = {}
    for name in GRID_PARAMS:
        values = param_grid.get(name, [_DEFAULTS[name]])
        if np.isscalar(values):
            values = [values]
        values = [_check_value(name, v) for v in values]
        if not values:
            raise ValueError(f"param_grid[{name!r}] is empty; give at least one value")
        if len(set(values)) != len(values):
            raise ValueError(f"param_grid[{name!r}] has duplicated values: {values}")
        grid[name] = sorted(values)
    return grid


def _paths(grid):
    """All settings of the non-α parameters (each is fitted along the whole α grid)."""
    return [
        dict(zip(_PATH_PARAMS, vals, strict=True))
        for vals in product(*(grid[p] for p in _PATH_PARAMS))
    ]


def _seeds(random_state, n_seeds):
    """Integer seeds of the random starts, derived reproducibly from ``random_state``."""
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 1:
        raise ValueError(f"n_seeds must be an integer >= 1, got {n_seeds!r}")
    entropy = None if random_state is None else int(random_state)
    seq = np.random.SeedSequence(entropy)
    return [int(s) for s in seq.generate_state(int(n_seeds), dtype=np.uint32)]


# ----------------------------------------------------------------------------- one task
def _score(W, beta, X_val, t_val, e_val, ties):
    """Validation C-index and per-event partial log-likelihood of η = X_valᵀ W β."""
    eta = (X_val.T @ W) @ beta
    if not e_val.any():
        return np.nan, np.nan, eta
    c = concordance_index(t_val, e_val, eta)
    ll = cox_partial_log_likelihood(eta, t_val, e_val, ties=ties) / e_val.sum()
    return c, ll, eta


def _fit_path(task, data, fit_options):
    """Fit one α path for one (fold, seed, path); return one record per α."""
    X_tr, t_tr, e_tr, X_val, t_val, e_val = data[:6]
    # semi-supervised: the unlabelled samples (genes × m) that every training part gets
    X_unl = data[6] if len(data) > 6 else None
    alphas = task["alphas"]
    params = task["params"]
    mode = fit_options.pop("warm_start", "none")
    if mode == "descending":
        alphas = alphas[::-1]
    records = []
    start = None
    for alpha in alphas:
        kwargs = dict(fit_options)
        if start is not None:
            kwargs.update(W_init=start[0], H_init=start[1], beta_init=start[2])
        else:
            kwargs["random_state"] = task["seed"]
        if X_unl is not None:
            kwargs["X_unlabeled"] = X_unl
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = fit_desurv(
                X_tr, t_tr, e_tr, params["n_components"], alpha=alpha, warn=False,
                penalty=params["penalty"], l1_ratio=params["l1_ratio"],
                penalty_w=params["penalty_w"], penalty_h=params["penalty_h"],
                n_threads=1, **kwargs,
            )  # fmt: skip
        eta_tr = (X_tr.T @ res.W) @ res.beta
        w_change = np.nan if start is None else _relative_change(res.W, start[0])
        c_val, ll_val, _ = _score(res.W, res.beta, X_val, t_val, e_val, fit_options["ties"])
        records.append(
            {
                "fold": task["fold"],
                "seed": task["seed"],
                **params,
                "alpha": float(alpha),
                "cindex": c_val,
                "val_loglik": ll_val,
                "train_cindex": concordance_index(t_tr, e_tr, eta_tr),
                "objective": float(res.objective["loss"]),
                "n_iter": int(res.n_iter),
                "converged": bool(res.converged),
                "warm_start": start is not None,
                "w_change": w_change,
                "n_val": int(t_val.shape[0]),
                "n_val_events": int(e_val.sum()),
            }
        )
        if mode != "none":
            # H_init covers the labelled columns, then the unlabelled ones
            H = res.H if X_unl is None else np.hstack([res.H, res.H_unlabeled])
            start = (res.W, H, res.beta)
    return records


def _relative_change(W, W_start):
    """‖W − W_start‖_F / ‖W_start‖_F (how far a warm-started fit moved W)."""
    den = float(np.linalg.norm(W_start))
    return float(np.linalg.norm(W - W_start)) / den if den > 0 else np.nan


#: A warm-started α > 0 fit counts as stalled at its start when it stops within this many
#: iterations and its W moved by less than this relative amount (see _warn_degenerate_paths).
_STALL_MAX_ITER = 5
_STALL_W_CHANGE = 1e-3
_STALL_MAX_MESSAGES = 10


def _warn_degenerate_paths(df):
    """One DataWarning per warm α path whose α > 0 fits stayed at their warm start.

    At a stationary point of plain NMF the balanced W step scales the survival push by
    ‖∇NMF‖ ≈ 0, so α > 0 fits started from the α = 0 solution stop at once and reproduce it.
    """
    if "w_change" not in df or not df["warm_start"].any():
        return
    stalled = (
        df["warm_start"]
        & (df["alpha"] > 0)
        & (df["n_iter"] <= _STALL_MAX_ITER)
        & (df["w_change"] < _STALL_W_CHANGE)
    )
    if not stalled.any():
        return
    keys = ["fold", "seed", *_PATH_PARAMS]
    paths = list(df[stalled].groupby(keys, sort=True)["alpha"])
    for n, (key, alphas) in enumerate(paths):
        if n == _STALL_MAX_MESSAGES:
            warnings.warn(
                f"... and {len(paths) - n} more warm-started alpha paths stalled at their warm "
                "start (column 'w_change' of the results); use warm_start=False (cold starts)",
                DataWarning,
                stacklevel=3,
            )
            break
        where = dict(zip(keys, key, strict=True))
        setting = ", ".join(f"{p}={where[p]:g}" for p in _PATH_PARAMS)
        warnings.warn(
            f"warm-started fits at alpha = {', '.join(f'{a:g}' for a in alphas)} (fold "
            f"{where['fold']}, seed {where['seed']}, {setting}) stopped after <= "
            f"{_STALL_MAX_ITER} iterations with W within {_STALL_W_CHANGE:g} (relative) of "
            "their warm start: they reproduce the previous alpha's solution instead of "
            "fitting their own. Use cold starts (warm_start=False, the default).",
            DataWarning,
            stacklevel=3,
        )


# ----------------------------------------------------------------------------- data
def _check_X(X, preprocessor):
    """X as a nonnegative float array, or as given when a preprocessor will prepare it."""
    if preprocessor is None:
        return _as_matrix(X)[0]  # nonnegative, finite
    if not hasattr(preprocessor, "fit") or not hasattr(preprocessor, "get_params"):
        raise ValueError(
            "preprocessor must be a desurv.preprocessing.Preprocessor (unfitted is fine), "
            f"got {type(preprocessor).__name__}"
        )
    return X


def _cv_data(
    X, y, time, event, n_folds, n_seeds, groups, folds, preprocessor, random_state,
    X_unlabeled=None,
):  # fmt: skip
    """Shared set-up of grid and optuna search: (folds, seeds, per-fold data, n_genes, n_train).

    Semi-supervised (rows of X with a NaN time and/or ``X_unlabeled``): the folds cover the
    labelled rows (fold id -1 for the unlabelled rows of X), each fold's data gets a 7th
    entry, all unlabelled samples as genes × m, and ``n_train`` counts them too.
    """
    X, names = _check_X_names(X, preprocessor)
    n = X.shape[0]
    time_, event_ = _survival_target(y, time, event, n)
    groups = _check_groups(groups, n)
    labeled = ~np.isnan(time_)
    blocks = _unlabeled_blocks(X, labeled, X_unlabeled, names, preprocessor)
    if not blocks:  # plain DeSurv cross-validation
        folds = _make_folds(event_, n_folds, groups, folds, random_state)
        fold_data = _fold_data(X, time_, event_, folds, n_folds, preprocessor, groups)
    else:
        lab = np.flatnonzero(labeled)
        g_lab = None if groups is None else groups[lab]
        given = None if folds is None else _labeled_fold_ids(folds, labeled, n_folds)
        folds_lab = _make_folds(event_[lab], n_folds, g_lab, given, random_state)
        fold_data = _fold_data(
            _rows(X, lab), time_[lab], event_[lab], folds_lab, n_folds, preprocessor, g_lab,
            unlabeled=blocks,
        )  # fmt: skip
        folds = np.full(n, -1, dtype=np.int64)
        folds[lab] = folds_lab
    seeds = _seeds(random_state, n_seeds)
    n_train_min = min(d[0].shape[1] + (d[6].shape[1] if len(d) > 6 else 0) for d in fold_data)
    return folds, seeds, fold_data, fold_data[0][0].shape[0], n_train_min


def _check_X_names(X, preprocessor):
    """``(X, gene names or None)``: X as :func:`_check_X` gives it, names read only when no
    preprocessor is used (the unlabelled samples are then aligned to them here)."""
    if preprocessor is None:
        return _as_matrix(X)  # nonnegative, finite; names of a DataFrame/AnnData
    return _check_X(X, preprocessor), None


def _survival_target(y, time, event, n):
    """(time, event) of the rows of X; a NaN time marks an unlabelled row.

    Without a NaN time exactly :func:`survival_from_y` as before (one event is enough here:
    the folds then give the message about events per fold).
    """
    raw = _raw_time_event(y, time, event, None)
    t = None if raw is None else np.asarray(raw[0])
    if t is not None and t.ndim == 1 and t.dtype.kind == "f" and np.isnan(t).any():
        return survival_with_unlabeled(y, time, event, n_samples=n)
    return survival_from_y(y, time, event, n_samples=n)


def _unlabeled_blocks(X, labeled, X_unlabeled, names, preprocessor):
    """The unlabelled samples as a list of samples × genes blocks (empty: none).

    The rows of X with a NaN time first, then ``X_unlabeled``. Without a preprocessor the
    blocks are validated float arrays with the genes of X in X's order (one block: both
    stacked); with one they stay as given (DataFrames keep their gene names) and every
    fold's preprocessor transforms them.
    """
    blocks = []
    if not labeled.all():
        blocks.append(_rows(X, np.flatnonzero(~labeled)))
    if X_unlabeled is not None:
        if preprocessor is None:
            XU = _unlabeled_matrix(X_unlabeled, names, X.shape[1], None)
        elif is_anndata(X_unlabeled):  # genes as DataFrame columns, matched by name
            values, u_names, samples = extract_X(X_unlabeled, "X_unlabeled")
            XU = pd.DataFrame(values, index=samples, columns=u_names)
        else:
            XU = X_unlabeled
            if not isinstance(XU, pd.DataFrame):
                XU = extract_X(XU, "X_unlabeled")[0]
        if XU.shape[0] > 0:  # zero rows: no unlabelled sample (plain DeSurv)
            blocks.append(XU)
    if preprocessor is None and len(blocks) > 1:
        blocks = [np.vstack(blocks)]
    return blocks


def _labeled_fold_ids(folds, labeled, n_folds):
    """User-given fold ids of the labelled rows; the unlabelled rows (NaN time) must be -1."""
    n = labeled.shape[0]
    folds = np.asarray(folds)
    if folds.shape != (n,) or not np.all(folds[~labeled] == -1):
        raise ValueError(
            f"folds must give each of the {n} samples a fold id: 0..{n_folds - 1} for the "
            f"{int(labeled.sum())} labelled samples and -1 for the {int((~labeled).sum())} "
            "unlabelled ones (time NaN), which are in every training part (as "
            "DeSurvCV.folds_ or results.attrs['folds'] give them)"
        )
    return folds[labeled]


def _rows(X, idx):
    return X.iloc[idx] if isinstance(X, pd.DataFrame) else np.asarray(X)[idx]


def _fresh(preprocessor):
    return type(preprocessor)(**preprocessor.get_params())


def _transform_unlabeled(pre, block):
    try:
        return pre.transform(block)
    except ValueError as exc:
        raise ValueError(f"unlabelled samples (X_unlabeled or NaN-time rows): {exc}") from None


def _fold_data(X, time, event, folds, n_folds, preprocessor, groups, unlabeled=()):
    """Per fold: (X_tr, t_tr, e_tr, X_val, t_val, e_val), X in genes × samples.

    With ``unlabeled`` (samples × genes blocks, see :func:`_unlabeled_blocks`) a 7th entry:
    all unlabelled samples, genes × m (transformed by the fold's preprocessor, which is
    learned on the labelled training part only; without one the same array for every fold).
    """
    out = []
    shared = None
    if unlabeled and preprocessor is None:
        shared = np.ascontiguousarray(np.asarray(unlabeled[0], dtype=np.float64).T)
    for tr, va in fold_indices(folds, n_folds):
        X_tr, X_va = _rows(X, tr), _rows(X, va)
        U = shared
        if preprocessor is not None:
            # gene filter and transform learned on the training part only (no leakage)
            pre = _fresh(preprocessor).fit(X_tr, groups=None if groups is None else groups[tr])
            X_tr, X_va = pre.transform(X_tr), pre.transform(X_va)
            if unlabeled:
                parts = [np.asarray(_transform_unlabeled(pre, b), dtype=np.float64)
                         for b in unlabeled]  # fmt: skip
                U = np.ascontiguousarray(np.vstack(parts).T)
        X_tr = np.asarray(X_tr, dtype=np.float64)
        X_va = np.asarray(X_va, dtype=np.float64)
        data = (np.ascontiguousarray(X_tr.T), time[tr], event[tr],
                np.ascontiguousarray(X_va.T), time[va], event[va])  # fmt: skip
        out.append(data if U is None else (*data, U))
    return out


def _make_folds(event, n_folds, groups, folds, random_state):
    """Stratified folds, or user-given fold ids after checking them."""
    if folds is None:
        return stratified_folds(
            event, n_folds, groups=groups, random_state=random_state, require_events=True
        )
    n = event.shape[0]
    folds = np.asarray(folds)
    if folds.shape != (n,) or not np.array_equal(np.unique(folds), np.arange(n_folds)):
        raise ValueError(
            f"folds must give each of the {n} samples a fold id in 0..{n_folds - 1}, "
            "with every fold non-empty"
        )
    empty = [f for f in range(n_folds) if not event[folds == f].any()]
    if empty:
        warnings.warn(f"fold(s) {empty} have no events", DataWarning, stacklevel=3)
    return folds


def _check_groups(groups, n):
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.shape != (n,):
        raise ValueError(f"groups must have one label per sample ({n}), got shape {groups.shape}")
    return groups


def _run_tasks(tasks, fold_data, fit_options, n_jobs, backend, progress, desc):
    """Run path tasks (in parallel); return records in task order."""
    from joblib import Parallel, delayed, parallel_config

    jobs = (delayed(_fit_path)(t, fold_data[t["fold"]], dict(fit_options)) for t in tasks)
    # A backend chosen by name goes through parallel_config, the way joblib's external
    # backends (dask, ray) expect to be selected; None keeps the caller's configuration.
    config = contextlib.nullcontext() if backend is None else parallel_config(backend=backend)
    records = []
    with config:
        out = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        # the bar is drawn from the first finished path on (that one includes compiling the
        # kernels), so its rate and ETA are not absurd
        bar = Progress(len(tasks), enabled=bool(progress), desc=desc, unit="path")
        try:
            for recs in out:
                records.extend(recs)
                bar.update(1)
        finally:
            bar.close()
    return records


def _check_warm(warm_start):
    modes = {True: "ascending", False: "none", "ascending": "ascending",
             "descending": "descending"}  # fmt: skip
    if isinstance(warm_start, (bool, np.bool_)):
        return modes[bool(warm_start)]
    if warm_start not in modes:
        raise ValueError(
            f"warm_start must be True, False, 'ascending' or 'descending', got {warm_start!r}"
        )
    return modes[warm_start]


def _fit_options(
    n_init, max_iter, tol, ties, loss_convention, init_max_iter, init_tol, balance="gradient",
    acceleration="none",
):  # fmt: skip
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}")
    # checked here, before any worker starts, by fit_desurv's own validator
    _check_acceleration(acceleration, None, None, loss_convention)
    return {
        "acceleration": acceleration,
        "n_init": int(n_init),
        "max_iter": int(max_iter),
        "tol": float(tol),
        "ties": ties,
        "loss_convention": loss_convention,
        "balance": balance,
        "init_max_iter": int(init_max_iter),
        "init_tol": float(init_tol),
    }


def _warn_unconverged(df):
    bad = int((~df["converged"]).sum())
    if bad:
        warnings.warn(
            f"{bad} of {len(df)} cross-validation fits stopped at max_iter before reaching tol "
            "(column 'converged' of the results); consider a larger max_iter",
            ConvergenceWarning,
            stacklevel=3,
        )


def _check_k(grid_k, n_genes, n_train_min):
    kmax = max(grid_k)
    if kmax > min(n_genes, n_train_min):
        raise ValueError(
            f"n_components={kmax} in the grid is too large: training folds have "
            f"{n_train_min} samples and {n_genes} genes (k must be <= both)"
        )


# ----------------------------------------------------------------------------- grid search
def cross_validate(
    X,
    y=None,
    *,
    X_unlabeled=None,
    time=None,
    event=None,
    param_grid=None,
    n_folds=5,
    n_seeds=3,
    groups=None,
    folds=None,
    preprocessor=None,
    warm_start=False,
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
    dtype="float64",
    acceleration="none",
):
    """Cross-validate DeSurv over a hyperparameter grid (one row per fit).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_genes)
        Expression, samples × genes. Nonnegative (e.g. ranks) unless ``preprocessor`` is given,
        in which case raw values are preprocessed inside each fold.
    y : structured array of shape (n_samples,), optional
        Survival target (fields ``event``, ``time``); or pass ``time=`` and ``event=``. A
        NaN time marks an unlabelled row (no follow-up; its event 0/False or NaN), see
        ``X_unlabeled``.
    X_unlabeled : DataFrame, AnnData or array-like of shape (n_unlabeled, n_genes), optional
        Expression of extra samples without follow-up: semi-supervised DeSurv (METHODS.md
        §F.5, :func:`desurv.fit_desurv`). The folds are built on the labelled rows of X only
        (stratified as usual); every training part gets all unlabelled samples (these and
        the NaN-time rows of X), which enter the NMF term and H only; the scores use the
        labelled validation rows only. Genes are matched to X's by name when both have
        names (without a preprocessor: the same set of genes, any order), else by position.
        A ``preprocessor`` is learned on the labelled training rows and applied to the
        unlabelled samples. Zero rows (and no NaN time) give plain DeSurv CV, bit for bit.
    param_grid : dict, optional
        Values of ``n_components`` (k), ``alpha`` (α), ``penalty`` (λ), ``l1_ratio`` (ξ),
        ``penalty_w`` (λ_W), ``penalty_h`` (λ_H); see :func:`make_grid`. Default: k ∈ {2, 3, 4},
        α ∈ {0, 0.25, 0.5, 0.75}, other parameters at the DeSurv defaults.
    n_folds : int, default=5
        Number of folds (stratified by event and ``groups``, see :func:`stratified_folds`).
    n_seeds : int, default=3
        Random starts per fold and path; their seeds derive from ``random_state``.
    groups : array-like of shape (n_samples,), optional
        Cohort label per sample: folds are stratified by cohort, and an in-fold gene filter
        runs per cohort (genes kept in all cohorts).
    folds : array-like of int of shape (n_samples,), optional
        Precomputed fold ids (0 … n_folds − 1), e.g. to share folds with the baselines;
        -1 for the unlabelled (NaN-time) rows of X, which are never validated on.
    preprocessor : desurv.preprocessing.Preprocessor, optional
        Gene filter + transform re-fitted on each training part and applied to both parts.
    warm_start : {False, True, "ascending", "descending"}, default=False
        ``False``: every α starts from the seed's random initialisation (cold starts).
        ``True``/``"ascending"``: fit α in increasing order, each fit starting from the
        previous α's solution (W, H, β), as the authors' ``desurv_alpha_warmstart``;
        ``"descending"``: the same from the largest α down.

        .. warning:: Warm starts can silently reproduce the α = 0 result. The W step's
           gradient balancing scales the survival push by ‖∇NMF‖, which vanishes at a
           converged α = 0 (plain NMF) solution, so on data where the NMF term dominates F
           (e.g. within-sample ranks) every α > 0 fit of an ascending path stops after a
           few iterations at its warm start. Such paths raise a ``DataWarning``; the
           column ``w_change`` of the results shows how far each warm fit moved W.
    n_init, max_iter, tol, ties, loss_convention, balance, init_max_iter, init_tol
        Passed to :func:`desurv.fit_desurv` for every fit (``balance="numerator"`` keeps the
        survival push alive at NMF solutions, which makes warm starts along α meaningful).
    acceleration : {"none", "extrapolation"}, default "none"
        Passed to :func:`desurv.fit_desurv`: "extrapolation" reaches the tolerance in
        several times fewer passes over X (README, "Time to solution"), at a nearby
        stationary point rather than the plain algorithm's.
    random_state : int or None
        Seeds the folds and the random starts.
    n_jobs : int or None
        Parallel workers (joblib); results do not depend on it.
    backend : str or None
        joblib backend name: ``"loky"`` (processes), ``"threading"`` (the kernels release the
        GIL), ``"dask"`` (with a ``dask.distributed.Client`` connected: fits spread over a
        cluster) or ``"ray"`` (after ``ray.util.joblib.register_ray()``). None uses the
        caller's ``joblib.parallel_config`` (default loky). Results are identical for all.
    progress : bool, default=False
        Show a tqdm progress bar over α paths.
    dtype : {"float64", "float32"}, default="float64"
        Storage precision of X inside each fit (see :func:`desurv.fit_desurv`).

    Returns
    -------
    results : pandas.DataFrame
        One row per fit: ``fold``, ``seed``, the six hyperparameters, ``cindex`` (validation
        Harrell's C), ``val_loglik`` (validation Cox partial log-likelihood per event),
        ``train_cindex``, ``objective``, ``n_iter``, ``converged``, ``warm_start``,
        ``w_change`` (‖W − W_start‖/‖W_start‖ of a warm-started fit, NaN for cold starts),
        ``n_val``, ``n_val_events`` (labelled validation samples and their events).
        ``results.attrs`` records the folds (-1 for unlabelled rows of X), seeds and
        settings, and with unlabelled samples ``n_unlabeled`` (their number, the NaN-time
        rows of X included; every training part had all of them).

    Raises
    ------
    ValueError
        Bad grid, k larger than the training folds allow (their samples counted with the
        unlabelled ones), bad survival data (an unlabelled row with event 1, fewer than 2
        labelled events) or ``folds``; ``X_unlabeled`` with other genes than X, negative or
        NaN values.

    Warns
    -----
    DataWarning
        A fold has no events (its validation C-index is NaN and is skipped in the means);
        or, with warm starts, an α path degenerated: its warm-started α > 0 fits stopped
        within 5 iterations with W changed by less than 1e-3 (relative) from the warm start
        (one warning per path, naming fold, seed, setting and α values).
    ConvergenceWarning
        Some fits stopped at ``max_iter`` (once, with the count).
    """
    grid = make_grid({"n_components": [2, 3, 4], "alpha": [0.0, 0.25, 0.5, 0.75]}
                     if param_grid is None else param_grid)  # fmt: skip
    folds, seeds, fold_data, n_genes, n_train_min = _cv_data(
        X, y, time, event, n_folds, n_seeds, groups, folds, preprocessor, random_state,
        X_unlabeled,
    )  # fmt: skip
    _check_k(grid["n_components"], n_genes, n_train_min)
    opts = _fit_options(
        n_init, max_iter, tol, ties, loss_convention, init_max_iter, init_tol, balance,
        acceleration,
    )  # fmt: skip
    opts["warm_start"] = _check_warm(warm_start)
    if str(dtype) not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    opts["dtype"] = str(dtype)
    tasks = [
        {"fold": f, "seed": s, "params": path, "alphas": grid["alpha"]}
        for f in range(n_folds)
        for s in seeds
        for path in _paths(grid)
    ]
    records = _run_tasks(tasks, fold_data, opts, n_jobs, backend, progress, "DeSurv CV")
    df = pd.DataFrame.from_records(records)
    _warn_unconverged(df)
    _warn_degenerate_paths(df)
    df.attrs.update(
        {
            "n_folds": int(n_folds),
            "seeds": seeds,
            "random_state": random_state,
            "warm_start": opts["warm_start"],
            "grid": grid,
            "folds": folds.tolist(),
            "fit_options": {k: v for k, v in opts.items() if k != "warm_start"},
            "preprocessor": None if preprocessor is None else preprocessor.get_params(),
        }
    )
    if len(fold_data[0]) > 6:  # semi-supervised (absent otherwise: plain DeSurv CV as before)
        df.attrs["n_unlabeled"] = int(fold_data[0][6].shape[1])
    return df


def summarize_cv(results, *, seed_aggregate="mean"):
    """Mean and standard error of the validation C-index per configuration.

    Parameters
    ----------
    results : DataFrame
        Output of :func:`cross_validate` (or :func:`load_cv_results`).
    seed_aggregate : {"mean", "best_objective"}, default="mean"
        How the seeds of one fold are combined: the mean of their validation C-indices, or
        the C-index of the seed with the lowest training objective (as a multi-start fit
        would keep).

    Returns
    -------
    summary : DataFrame
        One row per configuration (sorted by k, α, λ, ξ, λ_W, λ_H): the six
        hyperparameters, ``mean_cindex``, ``se_cindex`` (SD across folds with ddof = 1,
        divided by √n_folds), ``n_folds`` (folds with events), ``mean_train_cindex``,
        ``mean_val_loglik``, ``converged_fraction``, ``mean_n_iter``.
    """
    if seed_aggregate not in ("mean", "best_objective"):
        raise ValueError(
            f"seed_aggregate must be 'mean' or 'best_objective', got {seed_aggregate!r}"
        )
    missing = set(GRID_PARAMS) | {"fold", "cindex"}
    missing -= set(results.columns)
    if missing:
        raise ValueError(f"results lack column(s) {sorted(missing)}; pass cross_validate() output")
    keys = list(GRID_PARAMS)
    if seed_aggregate == "mean":
        per_fold = results.groupby([*keys, "fold"], sort=True).agg(
            cindex=("cindex", "mean"),
            train_cindex=("train_cindex", "mean"),
            val_loglik=("val_loglik", "mean"),
        )
    else:
        best = results.loc[results.groupby([*keys, "fold"], sort=True)["objective"].idxmin()]
        per_fold = best.set_index([*keys, "fold"])[["cindex", "train_cindex", "val_loglik"]]
    g = per_fold.groupby(level=keys, sort=True)
    summary = pd.DataFrame(
        {
            "mean_cindex": g["cindex"].mean(),
            "se_cindex": g["cindex"].std(ddof=1) / np.sqrt(g["cindex"].count()),
            "n_folds": g["cindex"].count(),
            "mean_train_cindex": g["train_cindex"].mean(),
            "mean_val_loglik": g["val_loglik"].mean(),
        }
    )
    conv = results.groupby(keys, sort=True).agg(
        converged_fraction=("converged", "mean"), mean_n_iter=("n_iter", "mean")
    )
    return summary.join(conv).reset_index()


def select_config(summary, rule=_DEFAULT_RULE):
    """Choose a configuration from a CV summary.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`summarize_cv` (columns of :data:`GRID_PARAMS`, ``mean_cindex``,
        ``se_cindex``), or :func:`~desurv.model_selection.trials_summary`. Rows with a
        non-finite mean C-index (e.g. every fold without events) are ignored.
    rule : {"1se-k", "max", "1se"}, default="1se-k"
        All three start from the best configuration by mean C-index ("the best": the first
        such row in ``summary`` order, i.e. grid order for :func:`summarize_cv` output) and
        its standard error SE; "within one SE" means a mean of at least (best mean − SE)
        (just the best mean when SE is not finite).

        - ``"1se-k"`` (default; the rule of the DeSurv authors, α by the maximum and the
          one-standard-error idea on k only): for every k, the best configuration over the
          other parameters (α, λ, ξ, λ_W, λ_H) by mean C-index (ties: first in ``summary``
          order); among these per-k bests, the one with the smallest k whose mean is within
          one SE of the best. It picks the same k as ``"1se"`` (a k has a configuration
          within one SE exactly when its best one is), but that k's best α, λ, ξ, … rather
          than its smallest α. Prefer it to choose the number of programs conservatively
          while letting the data decide how much supervision (α) to use.
        - ``"max"``: the best configuration itself. Prefer it when a larger k costs nothing
          (no wish for the fewest programs) or to see where the CV curve peaks; with a
          single k in the grid it coincides with ``"1se-k"``.
        - ``"1se"``: among all configurations within one SE of the best, the smallest k, then
          the smallest α, then the highest mean (the one-standard-error rule of Hastie et
          al. applied to every parameter, α treated as a complexity parameter). Prefer it
          when α = 0 (NMF followed by Cox) should win unless supervision is clearly better.

        Why ``"1se-k"`` is the default: α is not a complexity parameter, as α = 0 is not a
        simpler model than α > 0 with the same k, λ and ξ; it only weights the Cox term
        against the NMF term. On a CV curve that is flat in α (common with few events, where
        the SE is as large as the differences between α values) ``"1se"`` therefore always
        returns α = 0, i.e. unsupervised NMF followed by Cox, whatever the data say; the
        DeSurv authors choose α by the maximum and apply the 1-SE idea to k only, which
        ``"1se-k"`` reproduces. The name states what the rule does: the 1-SE rule on k.

    Returns
    -------
    params : dict
        The chosen hyperparameters (Python scalars).
    index : int
        Its row label in ``summary``.

    Raises
    ------
    ValueError
        Unknown rule (the message lists the rules), or no configuration has a finite mean
        C-index.
    """
    if not isinstance(rule, str) or rule not in _RULES:
        raise ValueError(f"rule must be one of {', '.join(map(repr, _RULES))}; got {rule!r}")
    finite = summary[np.isfinite(summary["mean_cindex"].to_numpy(dtype=float))]
    if finite.empty:
        raise ValueError("no configuration has a finite mean C-index (folds without events?)")
    best = finite["mean_cindex"].idxmax()
    se = finite.at[best, "se_cindex"]
    threshold = finite.at[best, "mean_cindex"] - (0.0 if not np.isfinite(se) else se)
    if rule == "max":
        chosen = best
    elif rule == "1se":
        cand = finite[finite["mean_cindex"] >= threshold]
        cand = cand.sort_values(
            ["n_components", "alpha", "mean_cindex"], ascending=[True, True, False], kind="stable"
        )
        chosen = cand.index[0]
    else:  # "1se-k": per-k maximum over the other parameters, then the 1-SE rule on k
        per_k = finite.loc[finite.groupby("n_components", sort=True)["mean_cindex"].idxmax()]
        cand = per_k[per_k["mean_cindex"] >= threshold]
        chosen = cand["n_components"].idxmin()
    row = summary.loc[chosen]
    params = {p: (int(row[p]) if p == "n_components" else float(row[p])) for p in GRID_PARAMS}
    return params, int(chosen)


def select_n_components(estimator, X, y, n_components, folds, *, rule="1se-k", X_unlabeled=None):
    """Choose k for any estimator with ``n_components`` by validation C on given folds.

    For every k, a clone of ``estimator`` with that ``n_components`` is fitted on each
    training part and scored (``estimator.score``: Harrell's C) on the held-out fold; the
    mean and SE (SD with ddof = 1 / √folds) over folds form a summary with the columns of
    :func:`summarize_cv`, and :func:`select_config` applies ``rule``. Used for the baselines
    whose k is chosen like DeSurv's, e.g. ``NMFCox(solver="cd")`` on ``DeSurvCV.folds_``.

    Parameters
    ----------
    estimator : estimator with an ``n_components`` parameter and ``score(X, y)``
        Its other parameters are kept (``alpha``, ``penalty``, ``l1_ratio``, ``penalty_w``,
        ``penalty_h`` are copied into the summary when it has them).
    X : DataFrame or array of shape (n_samples, n_features)
    y : structured survival array of shape (n_samples,)
        A NaN time marks an unlabelled sample (the estimator must accept it, as
        :class:`~desurv.DeSurv` and :class:`~desurv.NMFCox` do).
    n_components : iterable of int
    folds : array of shape (n_samples,)
        Fold label of every sample (e.g. ``DeSurvCV.folds_``). The label -1 (the unlabelled
        samples of ``DeSurvCV.folds_``) means "in every training part, never validated".
    rule : {"1se-k", "max", "1se"}, default="1se-k"
    X_unlabeled : array-like of shape (n_unlabeled, n_features), optional
        Extra samples without follow-up, passed to every fit as ``fit(..., X_unlabeled=)``
        (semi-supervised; the estimator's ``fit`` must take it).

    Returns
    -------
    n_components : int
        The chosen k.
    summary : DataFrame
        One row per k (``mean_cindex``, ``se_cindex``, ``n_folds`` and the grid columns).

    Raises
    ------
    ValueError
        Fewer than two folds, or as :func:`select_config`.
    """
    from sklearn.base import clone

    folds = np.asarray(folds)
    labels = np.unique(folds)
    if folds.dtype.kind in "iu":  # -1: unlabelled, in every training part
        labels = labels[labels != -1]
    if labels.size < 2:
        raise ValueError(f"folds must hold at least 2 fold labels, got {labels.size}")
    rows_of = X.iloc if hasattr(X, "iloc") else X
    y = np.asarray(y)
    params = estimator.get_params()
    fixed = {p: params.get(p, getattr(estimator, p, _DEFAULTS[p])) for p in GRID_PARAMS}
    extra = {} if X_unlabeled is None else {"X_unlabeled": X_unlabeled}
    rows = []
    for k in n_components:
        scores = []
        for f in labels:
            va = folds == f
            model = clone(estimator).set_params(n_components=int(k))
            model.fit(rows_of[~va], y[~va], **extra)
            scores.append(model.score(rows_of[va], y[va]))
        rows.append(
            {
                **fixed,
                "n_components": int(k),
                "mean_cindex": float(np.mean(scores)),
                "se_cindex": float(np.std(scores, ddof=1) / np.sqrt(len(scores))),
                "n_folds": len(scores),
            }
        )
    summary = pd.DataFrame(rows)
    chosen, _ = select_config(summary, rule)
    return int(chosen["n_components"]), summary


# ----------------------------------------------------------------------------- save / load
_INT_COLS = ("fold", "seed", "n_components", "n_iter", "n_val", "n_val_events", "trial")
_BOOL_COLS = ("converged", "warm_start")


def save_cv_results(results, path):
    """Write per-fit CV results to CSV (full float precision) with a JSON sidecar of ``attrs``.

    ``path`` is the CSV path; the settings go to ``<path>.json``. Reload with
    :func:`load_cv_results` (the round trip is exact).
    """
    path = Path(path)
    results.to_csv(path, index=False, float_format="%.17g")
    meta = {k: v for k, v in results.attrs.items()}
    path.with_name(path.name + ".json").write_text(json.dumps(meta, indent=1, default=_json))
    return path


def _json(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def load_cv_results(path):
    """Read results written by :func:`save_cv_results` (dtypes and ``attrs`` restored).

    Raises
    ------
    ValueError
        If the file is missing or lacks the columns of CV results.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"CV results file not found: {path}")
    df = pd.read_csv(path, float_precision="round_trip")
    missing = (set(GRID_PARAMS) | {"fold", "cindex"}) - set(df.columns)
    if missing:
        raise ValueError(f"{path} is not a desurv CV results file (lacks {sorted(missing)})")
    for c in _INT_COLS:
        if c in df:
            df[c] = df[c].astype(np.int64)
    for c in _BOOL_COLS:
        if c in df:
            df[c] = df[c].astype(bool)
    for c in df.columns:
        if c not in _INT_COLS and c not in _BOOL_COLS:
            df[c] = df[c].astype(np.float64)
    side = path.with_name(path.name + ".json")
    if side.is_file():
        df.attrs.update(json.loads(side.read_text()))
    return df
