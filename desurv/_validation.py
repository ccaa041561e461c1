"""Input checks shared by the public API. Each raises ``ValueError`` naming the problem."""

from __future__ import annotations

import numpy as np

SURV_DTYPE = np.dtype([("event", "?"), ("time", "<f8")])


def make_survival_y(time, event) -> np.ndarray:
    """Build a scikit-survival style structured array with fields ``event`` and ``time``.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
        Observed times (event or censoring), finite and nonnegative.
    event : array-like of shape (n_samples,)
        Event indicator (1/True = event observed, 0/False = censored).

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype ``[('event', '?'), ('time', '<f8')]``
    """
    time, event = check_time_event(time, event)
    y = np.empty(time.shape[0], dtype=SURV_DTYPE)
    y["event"] = event
    y["time"] = time
    return y


def check_time_event(time, event, *, n_samples: int | None = None, require_event=True):
    """Validate survival times and event indicators.

    Returns
    -------
    time : ndarray of float64, shape (n_samples,)
    event : ndarray of bool, shape (n_samples,)

    Raises
    ------
    ValueError
        Non-1D input, mismatched lengths, NaN/inf or negative times, event values other than
        0/1, or (with ``require_event``) no observed event.
    """
    time = np.asarray(time)
    event = np.asarray(event)
    if time.ndim != 1 or event.ndim != 1:
        raise ValueError(f"time and event must be 1-D, got shapes {time.shape} and {event.shape}")
    if time.shape[0] != event.shape[0]:
        raise ValueError(
            f"time and event have mismatched lengths: {time.shape[0]} != {event.shape[0]}"
        )
    if n_samples is not None and time.shape[0] != n_samples:
        raise ValueError(f"survival data has {time.shape[0]} samples but X has {n_samples} samples")
    try:
        time = time.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"time must be numeric: {exc}") from None
    if not np.all(np.isfinite(time)):
        raise ValueError("time contains NaN or infinite values")
    if np.any(time < 0):
        raise ValueError("time contains negative values; survival times must be >= 0")
    if event.dtype != bool:
        try:
            ev = event.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("event must be boolean or 0/1") from None
        if not np.all(np.isin(ev, (0.0, 1.0))):
            raise ValueError("event must contain only 0/1 (or False/True) values")
        event = ev.astype(bool)
    if require_event and not event.any():
        raise ValueError("no events: at least one observed event (event = 1) is required")
    return time, event


def survival_from_y(y=None, time=None, event=None, *, n_samples=None, require_event=True):
    """Accept ``y`` (structured array with ``event`` and ``time``) or ``time=``/``event=``.

    Returns ``(time, event)`` as float64 and bool arrays.
    """
    if y is not None:
        if time is not None or event is not None:
            raise ValueError("pass either y or time=/event=, not both")
        y = np.asarray(y)
        if y.dtype.names is None or not {"event", "time"} <= set(y.dtype.names):
            raise ValueError(
                "y must be a structured array with fields 'event' and 'time' "
                "(see desurv.make_survival_y), or pass time= and event="
            )
        time, event = y["time"], y["event"]
    elif time is None or event is None:
        raise ValueError("survival data missing: pass y, or both time= and event=")
    return check_time_event(time, event, n_samples=n_samples, require_event=require_event)


def check_nonnegative_matrix(X, name="X", dtype=np.float64) -> np.ndarray:
    """Return ``X`` as a 2-D ``dtype`` array after checking it is finite and nonnegative."""
    X = np.asarray(X, dtype=dtype)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got {X.ndim} dimension(s)")
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if np.any(X < 0):
        raise ValueError(
            f"{name} contains negative values (min {X.min():.4g}); NMF needs nonnegative data: "
            "apply a rank transform (desurv.preprocessing.rank_transform) or shift the data"
        )
    return X


def order_columns(X, names, what="genes"):
    """Reorder a DataFrame's columns to the fitted feature ``names`` (other inputs unchanged).

    Raises
    ------
    ValueError
        Naming the missing columns, when X lacks some of ``names``.
    """
    import pandas as pd

    if not isinstance(X, pd.DataFrame) or names is None:
        return X
    cols = X.columns.astype(str)
    missing = pd.Index(names).difference(cols)
    if len(missing):
        raise ValueError(
            f"X lacks {len(missing)} of the model's {len(names)} {what} "
            f"(e.g. {', '.join(map(str, missing[:5]))}); align the cohort first "
            "(desurv.preprocessing.align_genes)"
        )
    return X.set_axis(cols, axis=1)[list(names)]


def columns_for_model(model, X, to_matrix, what="genes"):
    """New data for a fitted estimator: columns in the fitted order, then ``to_matrix`` (a
    checker returning ``(array, names)``), then the feature count checked.

    Raises
    ------
    ValueError
        Missing columns (named), or a number of columns other than ``n_features_in_``.
    """
    X = order_columns(X, getattr(model, "feature_names_in_", None), what)
    Xa, _ = to_matrix(X)
    if Xa.shape[1] != model.n_features_in_:
        raise ValueError(
            f"X has {Xa.shape[1]} {what} but the model was fitted on {model.n_features_in_}"
        )
    return Xa
