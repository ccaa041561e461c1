"""Saving and loading fitted models.

File format (version 1): a NumPy ``.npz`` archive written without pickling, holding

* ``W`` (genes × k), ``H`` (k × samples), ``coef``, ``mean_z``, ``sd_z`` (float64 arrays);
* ``history__<name>`` for every column of ``loss_history_``;
* ``init_scores``; ``feature_names`` (unicode array, absent when the model had none);
* ``meta``: a JSON string with ``format`` ("desurv-model"), ``format_version`` (1),
  ``desurv_version``, ``params`` (constructor parameters), ``n_iter``, ``converged``,
  ``n_features_in``, ``objective`` and ``preprocessing`` (a
  :meth:`desurv.preprocessing.Preprocessor.to_dict` dictionary, or null).

Everything a fitted :class:`~desurv.estimator.DeSurv` holds round-trips exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT = "desurv-model"
FORMAT_VERSION = 1


def save_model(model, path, preprocessor=None):
    """Write a fitted DeSurv model (and its preprocessing) to ``path`` (.npz).

    Raises
    ------
    ValueError
        If the model is not fitted.
    """
    from . import __version__

    model._check_fitted()
    if preprocessor is None:
        preprocessor = getattr(model, "preprocessor_", None)
    params = model.get_params()
    params.setdefault("alpha", float(model.alpha))  # NMFCox fixes alpha = 0
    rs = params.get("random_state")
    if rs is not None and not isinstance(rs, (int, np.integer)):
        params["random_state"] = None  # a Generator cannot be stored; the fit is kept
    elif rs is not None:
        params["random_state"] = int(rs)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "desurv_version": __version__,
        "params": params,
        "n_iter": model.n_iter_,
        "converged": model.converged_,
        "n_features_in": model.n_features_in_,
        "objective": {k: float(v) for k, v in model.objective_.items()},
        "preprocessing": None if preprocessor is None else preprocessor.to_dict(),
    }
    arrays = {
        "W": model.W_,
        "H": model.H_,
        "coef": model.coef_,
        "mean_z": model.mean_z_,
        "sd_z": model.sd_z_,
        "init_scores": np.asarray(model.init_scores_, dtype=np.float64),
        "meta": np.array(json.dumps(meta)),
    }
    for name in model.loss_history_.columns:
        arrays[f"history__{name}"] = model.loss_history_[name].to_numpy()
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        arrays["feature_names"] = np.asarray(names, dtype=str)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)  # never leave a half-written model under the final name


def load_model(path):
    """Read a model written by :func:`save_model`.

    Returns
    -------
    DeSurv
        Fitted estimator; ``preprocessor_`` holds the saved preprocessing (or None).

    Raises
    ------
    ValueError
        If the file is missing, unreadable or not a desurv model of a known version.
    """
    from .estimator import DeSurv
    from .preprocessing import Preprocessor

    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read model file {path}: {exc}") from None
    with data:
        if "meta" not in data.files:
            raise ValueError(f"{path} is not a desurv model file (no metadata)")
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{path}: unsupported model format {meta.get('format')!r} "
                f"version {meta.get('format_version')!r}"
            )
        model = DeSurv(**meta["params"])
        model.W_ = data["W"]
        model.H_ = data["H"]
        model.coef_ = data["coef"]
        model.mean_z_ = data["mean_z"]
        model.sd_z_ = data["sd_z"]
        model.init_scores_ = data["init_scores"]
        hist = {
            name[len("history__") :]: data[name]
            for name in data.files
            if name.startswith("history__")
        }
        if "feature_names" in data.files:
            model.feature_names_in_ = np.asarray(data["feature_names"].tolist(), dtype=object)
    model.loss_history_ = pd.DataFrame(hist)
    model.loss_history_.index = pd.RangeIndex(1, len(model.loss_history_) + 1, name="iteration")
    model.n_iter_ = int(meta["n_iter"])
    model.converged_ = bool(meta["converged"])
    model.n_features_in_ = int(meta["n_features_in"])
    model.objective_ = dict(meta["objective"])
    prep = meta.get("preprocessing")
    model.preprocessor_ = None if prep is None else Preprocessor.from_dict(prep)
    return model
