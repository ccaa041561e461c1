"""Input checks shared by the public API. Each raises ``ValueError`` naming the problem.

One path for every estimator's X (:func:`check_X` / :func:`columns_for_model`) and survival
data (:func:`survival_from_y`), so that DeSurv, NMFCox, CoxNet, DeSurvCV and the
Preprocessor accept the same inputs and reject bad ones with the same messages.
"""

from __future__ import annotations

import warnings

import numpy as np

SURV_DTYPE = np.dtype([("event", "?"), ("time", "<f8")])

#: X is rejected in ``fit`` when max|X|·sqrt(X.size) (an upper bound of ‖X‖_F) exceeds this:
#: ‖X‖²_F must stay below ~1e300, leaving float64 (max 1.8e308) a margin of 1e8 for the sums
#: of products of the factorisation (X·Hᵀ, WᵀW·H, the Cox risk-set sums).
X_NORM_MAX = 1e150
#: X is rejected in ``fit`` when max|X| is below this: products of two such values (WH, XW,
#: the NMF gradient) fall under the smallest normal float64 (2.2e-308) and underflow to 0.
X_ABS_MIN = 1e-150

# names that identify the two fields of a survival target (lower-cased, exact match first)
_EVENT_NAMES = ("event", "status", "delta", "dead", "death", "died", "observed", "fustat", "cens")
_TIME_NAMES = ("time", "survival_time", "futime", "duration", "stime", "days", "months", "years")


# ----------------------------------------------------------------------------- survival data
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


def check_time_event(
    time, event, *, n_samples: int | None = None, require_event=True, min_events: int = 1
):
    """Validate survival times and event indicators.

    ``min_events`` (used with ``require_event``): the smallest accepted number of observed
    events; the estimators' ``fit`` asks for 2 (the Cox partial likelihood of a single
    event carries no information to compare samples with).

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
    if time.dtype.kind not in "biuf":
        raise ValueError(f"time must be real numbers, got dtype {time.dtype}")
    time = time.astype(np.float64)
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
    if require_event and min_events > 1 and np.count_nonzero(event) < min_events:
        n_ev = int(np.count_nonzero(event))
        raise ValueError(
            f"only {n_ev} event{'s' if n_ev != 1 else ''}: the Cox partial likelihood needs at "
            f"least {min_events} events (event = 1) to fit a survival model"
        )
    return time, event


def _is_indicator(values):
    """True for a bool column, or a numeric one holding only 0/1."""
    v = np.asarray(values)
    if v.dtype == bool:
        return True
    if v.dtype.kind not in "iuf":
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isin(v, (0, 1))))


def _name_role(name):
    low = str(name).lower()
    if low in _EVENT_NAMES or low.startswith(("event", "status")) or low.endswith("_event"):
        return "event"
    if low in _TIME_NAMES or "time" in low or low.startswith(("surv", "os_", "pfs_")):
        return "time"
    return None


def _pick_fields(names, columns, what):
    """(event name, time name) of a two-field survival target (names, column arrays)."""
    if len(names) != 2:
        lower = {str(n).lower(): n for n in names}
        if "event" in lower and "time" in lower:
            return lower["event"], lower["time"]
        raise ValueError(
            f"{what} has {len(names)} fields/columns {list(names)}; survival data needs exactly "
            "two: an event indicator (bool or 0/1) and a time (numbers)"
        )
    a, b = names
    for n, col in zip(names, columns, strict=True):
        if np.asarray(col).dtype.kind not in "biuf":
            raise ValueError(
                f"{what} field {n!r} has dtype {np.asarray(col).dtype}; survival data needs an "
                "event indicator (bool or 0/1) and a numeric time"
            )
    kinds = [np.asarray(c).dtype == bool for c in columns]
    if kinds[0] != kinds[1]:  # exactly one bool field: it is the event
        return (a, b) if kinds[0] else (b, a)
    roles = [_name_role(a), _name_role(b)]
    if roles == ["event", "time"]:
        return a, b
    if roles == ["time", "event"]:
        return b, a
    ind = [_is_indicator(c) for c in columns]
    if ind[0] != ind[1]:  # exactly one 0/1 field
        return (a, b) if ind[0] else (b, a)
    raise ValueError(
        f"cannot tell which of the {what} fields {list(names)} is the event indicator and "
        "which the time: make the event bool, or name the fields 'event'/'status' and 'time'"
    )


def _y_description(y):
    arr = np.asarray(y) if not hasattr(y, "dtypes") else None
    if arr is None:
        return f"a DataFrame with {y.shape[1]} column(s)"
    return f"a {arr.ndim}-D {arr.dtype} array of shape {arr.shape}"


def survival_from_y(
    y=None, time=None, event=None, *, n_samples=None, require_event=True, obs=None, min_events=1
):
    """Survival data of any accepted form as ``(time, event)`` arrays.

    Parameters
    ----------
    y : structured array or pandas.DataFrame of shape (n_samples,), optional
        Either a structured array with one bool field (the event) and one float field (the
        time), whatever their names (scikit-survival's data sets use e.g. ``Status`` and
        ``Survival_in_days``; :func:`make_survival_y` gives ``event`` and ``time``), or a
        two-column DataFrame (one bool or 0/1 column, one numeric column).  When both fields
        are numeric 0/1-able, names decide (``event``/``status``/... and ``time``/...).
    time, event : array-like of shape (n_samples,) or str, optional
        Instead of ``y``. A string names a column of ``obs`` (AnnData's ``adata.obs``).
    n_samples : int, optional
        Expected number of samples (the rows of X).
    require_event : bool, default True
        Reject data without any observed event.
    obs : pandas.DataFrame, optional
        Sample annotations in which string ``time``/``event`` are looked up.
    min_events : int, default 1
        With ``require_event``: reject fewer observed events than this (fits use 2).

    Returns
    -------
    time : ndarray of float64 of shape (n_samples,)
    event : ndarray of bool of shape (n_samples,)

    Raises
    ------
    ValueError
        No survival data (``y`` None and no ``time``/``event``; the message says "requires y
        to be passed, but the target y is None", as scikit-learn's checks expect), a plain
        (non-survival) target such as a 1-D float array, fields that cannot be told apart,
        a string column missing from ``obs``, or invalid values (see
        :func:`check_time_event`).
    """
    if y is not None:
        if time is not None or event is not None:
            raise ValueError("pass either y or time=/event=, not both")
        if hasattr(y, "columns") and hasattr(y, "dtypes"):  # pandas DataFrame
            cols = list(y.columns)
            ev, ti = _pick_fields(cols, [y[c].to_numpy() for c in cols], "y")
            time, event = y[ti].to_numpy(), y[ev].to_numpy()
        else:
            arr = np.asarray(y)
            if arr.dtype.names is None:
                raise ValueError(
                    "y must be survival data: a structured array with one bool field (event) "
                    "and one float field (time), e.g. desurv.make_survival_y(time, event) or "
                    "sksurv.util.Surv.from_arrays(event, time), or a two-column DataFrame; "
                    f"got {_y_description(y)} (a plain regression/classification target); or "
                    "pass time= and event="
                )
            names = list(arr.dtype.names)
            ev, ti = _pick_fields(names, [arr[n] for n in names], "y")
            time, event = arr[ti], arr[ev]
    elif time is None and event is None:
        raise ValueError(
            "survival data missing: this estimator requires y to be passed, but the target y "
            "is None; pass y (a structured array with event and time fields) or both time= "
            "and event="
        )
    elif time is None or event is None:
        raise ValueError("pass both time= and event= (or y)")
    else:
        time = _obs_column(time, obs, "time")
        event = _obs_column(event, obs, "event")
    return check_time_event(
        time, event, n_samples=n_samples, require_event=require_event, min_events=min_events
    )


def _obs_column(value, obs, what):
    if not isinstance(value, str):
        return value
    if obs is None:
        raise ValueError(
            f"{what}={value!r} is a column name: it is looked up in adata.obs, which needs an "
            f"AnnData X; otherwise pass the {what} values"
        )
    if value not in obs.columns:
        raise ValueError(
            f"{what}={value!r} is not a column of adata.obs (columns: "
            f"{', '.join(map(str, list(obs.columns)[:20]))})"
        )
    return obs[value].to_numpy()


# ----------------------------------------------------------------------------- X


# ------------------------------------------------ semi-supervised: NaN time = unlabelled
def split_unlabeled(time, event, n):
    """Validated survival data of the n columns of X, a NaN time marking an unlabelled one.

    Returns ``(time, event, labeled)``: time and event of the labelled columns only (float64,
    bool) and the bool mask of labelled columns, or None when every column is labelled (then
    exactly :func:`check_time_event`'s result). An unlabelled column's event must be 0/False
    or NaN.
    """
    t = np.asarray(time)
    if not (t.ndim == 1 and t.dtype.kind == "f" and np.isnan(t).any()):
        time, event = check_time_event(time, event, n_samples=n)
        return time, event, None
    unl = np.isnan(t)
    e = np.asarray(event)
    if e.ndim != 1 or e.shape[0] != t.shape[0] or t.shape[0] != n:
        check_time_event(np.where(unl, 0.0, t), e, n_samples=n)  # raises the usual message
    if e.dtype.kind == "b":
        bad = e[unl]
    elif e.dtype.kind in "iuf":
        e_unl = e[unl].astype(np.float64)
        bad = ~((e_unl == 0.0) | np.isnan(e_unl))
    else:
        raise ValueError("event must be boolean or 0/1")
    if bad.any():
        first = int(np.flatnonzero(unl)[np.argmax(bad)])
        raise ValueError(
            f"{int(bad.sum())} sample(s) have time NaN (unlabelled) but an event value other "
            f"than 0/False/NaN (first: sample {first}); an unlabelled sample has no follow-up: "
            "set its event to 0 or NaN, or give it a time"
        )
    labeled = ~unl
    time, event = check_time_event(t[labeled], e[labeled])
    return time, event, labeled


def _raw_time_event(y, time, event, obs):
    """(time, event) as given, before validation, or None when they cannot be told apart.

    Only used to find NaN times (unlabelled samples); everything else is left to
    :func:`desurv._validation.survival_from_y`, which gives the usual messages.
    """
    if y is not None:
        if time is not None or event is not None:
            return None
        if hasattr(y, "columns") and hasattr(y, "dtypes"):  # pandas DataFrame
            names = list(y.columns)
            cols = [y[c].to_numpy() for c in names]
        else:
            arr = np.asarray(y)
            if arr.dtype.names is None:
                return None
            names = list(arr.dtype.names)
            cols = [arr[c] for c in names]
        if not any(c.dtype.kind == "f" and np.isnan(c).any() for c in cols):
            return None
        # the roles are decided as survival_from_y does, with NaN read as 0 (a NaN event of an
        # unlabelled sample must not turn the event column into a non-indicator)
        filled = [np.where(np.isnan(c), 0.0, c) if c.dtype.kind == "f" else c for c in cols]
        try:
            ev, ti = _pick_fields(names, filled, "y")
        except ValueError:
            return None
        return cols[names.index(ti)], cols[names.index(ev)]
    if time is None or event is None:
        return None
    return _obs_column(time, obs, "time"), _obs_column(event, obs, "event")


def survival_with_unlabeled(y=None, time=None, event=None, *, n_samples=None, obs=None):
    """Survival target in which a NaN time marks an unlabelled sample (semi-supervised fit).

    Accepts every form of :func:`desurv._validation.survival_from_y`; without NaN times the
    result is exactly its result (with ``min_events=2``).

    Convention: a sample whose time is NaN has no follow-up (e.g. expression from another
    cohort, or a label hidden on purpose): it enters the NMF term only. Its event must be
    0/False or NaN (an event without a time is an error). At least 2 events among the
    labelled samples.

    Returns
    -------
    time : ndarray of float64 of shape (n_samples,)
        NaN for unlabelled samples.
    event : ndarray of bool of shape (n_samples,)
        False for unlabelled samples.

    Raises
    ------
    ValueError
        As :func:`survival_from_y`; an unlabelled sample with event 1; fewer than 2 labelled
        samples or events.
    """
    raw = _raw_time_event(y, time, event, obs)
    t = None if raw is None else np.asarray(raw[0])
    if t is None or not (t.ndim == 1 and t.dtype.kind == "f" and np.isnan(t).any()):
        return survival_from_y(y, time, event, n_samples=n_samples, obs=obs, min_events=2)
    n = t.shape[0] if n_samples is None else n_samples
    time_l, event_l, labeled = split_unlabeled(t, raw[1], n)
    if time_l.shape[0] < 2:
        raise ValueError(
            f"only {time_l.shape[0]} labelled sample(s) (time not NaN): at least 2 are "
            "required to fit a survival model"
        )
    check_time_event(time_l, event_l, min_events=2)
    time_full = np.full(n, np.nan)
    time_full[labeled] = time_l
    event_full = np.zeros(n, dtype=bool)
    event_full[labeled] = event_l
    return time_full, event_full


def is_anndata(X) -> bool:
    """True for an AnnData object (duck typing: anndata is never imported here)."""
    return all(hasattr(X, a) for a in ("obs", "var_names", "obs_names", "layers", "X"))


def _is_sparse(A) -> bool:
    mod = type(A).__module__ or ""
    return mod.startswith("scipy.sparse") or (hasattr(A, "tocsr") and hasattr(A, "nnz"))


def _sparse_error(name):
    return ValueError(
        f"sparse input is not supported: {name} is a sparse matrix; densify it with "
        f"{name}.toarray() (NMF products are dense, so a dense X costs no extra memory in the "
        "fit)"
    )


def _dtype_error(name, dtype):
    kind = np.dtype(dtype).kind if not hasattr(dtype, "kind") else dtype.kind
    if kind == "c":
        return ValueError(
            f"Complex data not supported: {name} has complex dtype {dtype}; expression values "
            "must be real (take .real or np.abs first if that is what you mean)"
        )
    if kind == "b":
        return ValueError(
            f"{name} has boolean dtype: expression values must be real numbers; convert with "
            f"{name}.astype(float) if 0/1 values are intended"
        )
    return ValueError(
        f"{name} has non-numeric dtype {dtype} (strings or objects): expression values must "
        "be real numbers"
    )


def _object_to_float(values, name):
    """Object array whose elements are all real numbers (not bool/str) → float64."""
    import numbers

    for v in values.flat:
        if isinstance(v, (bool, np.bool_, str, bytes)) or isinstance(v, complex):
            raise _dtype_error(name, np.dtype(type(v)) if not isinstance(v, str) else "str")
        if not isinstance(v, numbers.Real):
            # same TypeError NumPy raises (and scikit-learn's checks expect)
            raise TypeError(
                f"float() argument must be a string or a real number, not "
                f"'{type(v).__name__}' ({name} has an element that is not a number)"
            )
    return values.astype(np.float64)


def _frame_values(df, name):
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise ValueError(
            f"{name} has {len(dup)} duplicated gene name(s) (column names; first few: "
            f"{', '.join(map(repr, list(dict.fromkeys(map(str, dup)))[:5]))}); make the names "
            "unique (e.g. average duplicated genes) so that genes can be matched by name"
        )
    for col, dt in df.dtypes.items():
        if type(dt).__name__ == "SparseDtype":
            raise _sparse_error(name)
        kind = getattr(dt, "kind", "O")
        if kind in "bc":
            raise _dtype_error(f"{name} column {col!r}", dt)
        if kind not in "iuf":
            raise ValueError(
                f"{name} has non-numeric column {col!r} (dtype {dt}): expression values "
                "must be real numbers"
            )
    return df.to_numpy(dtype=np.float64)


def anndata_matrix(adata, layer=None, name="X"):
    """Dense values of ``adata.X`` or ``adata.layers[layer]`` (samples × genes)."""
    if layer is None:
        M = adata.X
        where = "adata.X"
        if M is None:
            raise ValueError("adata.X is None: pass layer= to use one of adata.layers")
    else:
        if layer not in adata.layers:
            raise ValueError(
                f"layer {layer!r} not in adata.layers (available: "
                f"{', '.join(map(repr, adata.layers.keys())) or 'none'})"
            )
        M = adata.layers[layer]
        where = f"adata.layers[{layer!r}]"
    if _is_sparse(M):
        raise ValueError(
            f"sparse input is not supported: {where} is sparse; densify it with "
            f"{where} = {where}.toarray()"
        )
    return M


def extract_X(X, name="X", *, layer=None):
    """Split X into ``(values, feature names or None, sample names or None)``.

    Type checks only (2-D numeric, dense, real, unique names); values are not yet checked
    for NaN or sign, so that columns a model does not use can be dropped first.

    Parameters
    ----------
    X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
    name : str
        Name used in messages.
    layer : str, optional
        AnnData only: use ``X.layers[layer]`` instead of ``X.X``.

    Returns
    -------
    values : ndarray of float64 of shape (n_samples, n_features)
    feature_names : ndarray of str (object) or None
    sample_names : pandas.Index or None

    Raises
    ------
    ValueError
        Sparse input, complex/bool/string/object dtype, duplicated feature names, a layer
        without AnnData, not 2-D, or no sample/feature.
    TypeError
        An object array with an element that is not a number (NumPy's own message).
    """
    import pandas as pd

    features = samples = None
    if is_anndata(X):
        features = pd.Index(X.var_names).astype(str)
        if features.duplicated().any():
            dup = features[features.duplicated()]
            raise ValueError(
                f"AnnData {name} has {len(dup)} duplicated gene name(s) (var_names; first few: "
                f"{', '.join(map(repr, list(dict.fromkeys(dup))[:5]))}); make them unique "
                "(adata.var_names_make_unique()) so that genes can be matched by name"
            )
        samples = pd.Index(X.obs_names)
        M = anndata_matrix(X, layer, name)
        if isinstance(M, pd.DataFrame):
            M = _frame_values(M, name)
        values = _array_values(M, name)
        features = np.asarray(features, dtype=object)
    else:
        if layer is not None:
            raise ValueError(f"layer={layer!r} is only meaningful for AnnData input")
        if isinstance(X, pd.DataFrame):
            samples = X.index
            features = np.asarray(X.columns.astype(str), dtype=object)
            values = _frame_values(X, name)
        else:
            values = _array_values(X, name)
    if values.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got {values.ndim} dimension(s) of "
            f"shape {values.shape}. Reshape your data with X.reshape(1, -1) for a single "
            "sample"
        )
    n, p = values.shape
    if n == 0:
        raise ValueError(
            f"{name} is empty: 0 sample(s) (shape={values.shape}) while a minimum of 1 is required."
        )
    if p == 0:
        raise ValueError(
            f"{name} is empty: 0 feature(s) (shape={values.shape}) while a minimum of 1 is "
            "required."
        )
    return values, features, samples


def _array_values(M, name):
    if _is_sparse(M):
        raise _sparse_error(name)
    arr = np.asarray(M)
    kind = arr.dtype.kind
    if kind in "iuf":
        return arr.astype(np.float64, copy=False)
    if kind == "O":
        return _object_to_float(arr, name)
    raise _dtype_error(name, arr.dtype)


def nonfinite_message(
    X, name="X", samples=None, features=None, what="gene", advice=None, transposed=False
):
    """Message naming the NaN/inf entries of a 2-D array and where the first one is.

    The location uses the sample and gene names when given (DataFrame index/columns, AnnData
    ``obs_names``/``var_names``), else 0-based row/column positions. X is samples × genes;
    ``transposed``: it is the transposed view of the caller's genes × samples array, so the
    positions are named as rows (genes) and columns (samples) of that array. None when X is
    finite.
    """
    X = np.asarray(X)
    bad = ~np.isfinite(X)
    if not bad.any():
        return None
    nan = np.isnan(X)
    parts = []
    if nan.any():
        parts.append(f"{int(nan.sum())} NaN value(s)")
    if (bad & ~nan).any():
        parts.append(f"{int((bad & ~nan).sum())} infinite value(s)")
    rows, cols = np.nonzero(bad)
    r, c = int(rows[0]), int(cols[0])
    if samples is not None and len(samples) == X.shape[0]:
        where_s = f"sample {str(list(samples[r : r + 1])[0])!r} (row {r})"
    else:
        where_s = f"sample at {'column' if transposed else 'row'} {r} (0-based)"
    if features is not None and len(features) == X.shape[1]:
        where_g = f"{what} {str(list(features[c : c + 1])[0])!r} (column {c})"
    else:
        where_g = f"{what} at {'row' if transposed else 'column'} {c} (0-based)"
    advice = advice or "impute or drop them first"
    return (
        f"{name} contains {' and '.join(parts)} (first: {X[r, c]} at {where_s}, {where_g}); "
        f"{advice}"
    )


def check_values(
    X, name="X", *, nonnegative=True, owner=None, samples=None, features=None, transposed=False
) -> np.ndarray:
    """Check a 2-D float array is finite (and nonnegative); returns it unchanged.

    ``samples``/``features`` (names of the rows/columns, optional) locate the first
    NaN/inf entry in the message; ``transposed``: X is the samples × genes view of the
    caller's genes × samples array (see :func:`nonfinite_message`).

    Raises
    ------
    ValueError
        NaN/inf, or negative values when ``nonnegative``.
    """
    if not np.all(np.isfinite(X)):
        raise ValueError(nonfinite_message(X, name, samples, features, transposed=transposed))
    if nonnegative and np.any(X < 0):
        where = f" passed to {owner}" if owner else ""
        raise ValueError(
            f"Negative values in data{where}: {name} contains negative values (min "
            f"{X.min():.4g}); NMF needs nonnegative data: apply a rank transform "
            "(desurv.preprocessing.rank_transform) or shift the data"
        )
    return X


def check_scale(X, name="X", *, what="gene"):
    """Reject X on which a fit cannot produce a meaningful answer (call in ``fit`` only).

    * fewer than 2 samples;
    * all zero: nothing to factorise, Z = 0, the Cox model is undefined;
    * every {what} constant across samples: X has rank <= 1 along samples, every
      projection Z = XW is constant over samples and the Cox coefficients are
      unidentifiable (the C-index of any model is 0.5);
    * max|X| < :data:`X_ABS_MIN` (1e-150): products of two values underflow float64;
    * max|X| · sqrt(X.size) > :data:`X_NORM_MAX` (1e150): ‖X‖²_F and the products of the
      fit overflow (or come within 1e8 of overflowing) float64.

    Raises
    ------
    ValueError
        Naming the problem and the fix (rescale, or rank-transform).
    """
    if X.shape[0] < 2:
        raise ValueError(
            f"{name} has n_samples={X.shape[0]}: at least 2 samples are required to fit a "
            "survival model"
        )
    amax = float(np.max(np.abs(X)))
    if amax == 0.0:
        raise ValueError(
            f"{name} is all zero: there is nothing to fit (check the input; a rank transform "
            "of expression data is never all zero)"
        )
    if amax * np.sqrt(X.size) > X_NORM_MAX:
        raise ValueError(
            f"{name} has values up to {amax:.3g}: ‖{name}‖² (up to {amax:.3g}² × {X.size} "
            "entries) overflows float64 or leaves no headroom for the products of the fit "
            f"(need max|{name}|·sqrt(size) <= {X_NORM_MAX:.0e}); rescale {name} (e.g. divide by "
            "its maximum, or log-transform) or rank-transform it "
            "(desurv.preprocessing.rank_transform)"
        )
    if amax < X_ABS_MIN:
        raise ValueError(
            f"{name} has values only up to {amax:.3g}: products of such small values underflow "
            f"float64 (need max|{name}| >= {X_ABS_MIN:.0e}); rescale {name} (e.g. divide by "
            "its maximum) or rank-transform it (desurv.preprocessing.rank_transform)"
        )
    if X.shape[0] > 1 and np.all(X.max(axis=0) == X.min(axis=0)):
        raise ValueError(
            f"every {what} of {name} is constant across samples: {name} carries no information "
            "that distinguishes samples (the projections Z = XW are constant and the Cox "
            "model is unidentifiable); check the input"
        )
    return X


def check_nonnegative_matrix(
    X, name="X", dtype=np.float64, *, genes_by_samples=False
) -> np.ndarray:
    """Return ``X`` as a 2-D ``dtype`` array after checking it is finite and nonnegative.

    ``genes_by_samples``: X is in the solver's orientation (genes × samples), so a NaN/inf
    is located as (gene row, sample column) in the message.

    Raises
    ------
    ValueError
        Sparse, complex, boolean or non-numeric input, not 2-D, empty, NaN/inf or negative.
    """
    if _is_sparse(X):
        raise _sparse_error(name)
    arr = np.asarray(X)
    if arr.dtype.kind not in "iuf":
        if arr.dtype.kind == "O":
            arr = _object_to_float(arr, name)
        else:
            raise _dtype_error(name, arr.dtype)
    X = arr.astype(dtype, copy=False)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got {X.ndim} dimension(s)")
    if X.size == 0:
        raise ValueError(f"{name} is empty (shape {X.shape})")
    # nonfinite_message reads rows as samples: hand it the samples × genes view
    check_values(X.T if genes_by_samples else X, name, transposed=genes_by_samples)
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
    idx = _name_positions(cols, names, what)
    return X.iloc[:, idx].set_axis(list(names), axis=1)


def _name_positions(cols, names, what):
    import pandas as pd

    cols = pd.Index(cols)
    missing = pd.Index(names).difference(cols)
    if len(missing):
        raise ValueError(
            f"X lacks {len(missing)} of the model's {len(names)} {what} "
            f"(e.g. {', '.join(map(str, missing[:5]))}); align the cohort first "
            "(desurv.preprocessing.align_genes)"
        )
    return cols.get_indexer(pd.Index(names))


def columns_for_model(model, X, what="genes", *, layer=None, nonnegative=True):
    """New data for a fitted estimator, as a float64 array in the fitted column order.

    Columns are matched by name for a DataFrame or AnnData (``var_names``) when the model was
    fitted with names (extra columns dropped, any order); otherwise by position, with
    scikit-learn's warnings when names are present on one side only.

    Parameters
    ----------
    model : fitted estimator with ``n_features_in_`` (and ``feature_names_in_``)
    X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
    what : str
        Word for the columns in messages ("genes", "features").
    layer : str, optional
        AnnData layer to use instead of ``X.X``.
    nonnegative : bool, default True
        Reject negative values (NMF-based models).

    Returns
    -------
    ndarray of float64 of shape (n_samples, n_features_in_)

    Raises
    ------
    ValueError
        Bad input (see :func:`extract_X`), missing columns (named), a number of columns
        other than ``n_features_in_``, NaN/inf or (``nonnegative``) negative values.
    """
    values, names, samples = extract_X(X, layer=layer)
    fitted = getattr(model, "feature_names_in_", None)
    cls = type(model).__name__
    if names is not None and fitted is not None:
        values = values[:, _name_positions(names, fitted, what)]
        names = np.asarray(fitted, dtype=object)
    elif fitted is not None:
        warnings.warn(
            f"X does not have valid feature names, but {cls} was fitted with feature names: "
            f"its {what} are taken by position",
            UserWarning,
            stacklevel=3,
        )
    elif names is not None:
        warnings.warn(
            f"X has feature names, but {cls} was fitted without feature names",
            UserWarning,
            stacklevel=3,
        )
    if values.shape[1] != model.n_features_in_:
        raise ValueError(
            f"X has {values.shape[1]} {what} but the model was fitted on "
            f"{model.n_features_in_} (X has {values.shape[1]} features, but {cls} is "
            f"expecting {model.n_features_in_} features as input)"
        )
    return check_values(
        values,
        nonnegative=nonnegative,
        owner=cls,
        samples=samples,
        features=names,
    )


# ----------------------------------------------------------------------------- parameters
def as_float64(x, name, what):
    """``x`` as a float64 array; else ``ValueError("{name} must be a numeric {what}: ...")``."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric {what}: {exc}") from None


def check_real_param(name, value, *, allow_none=False):
    """``value`` as a float when it is a real number (not bool/str); else a ValueError.

    Raises
    ------
    ValueError
        Naming the parameter, e.g. ``alpha must be a real number, got '0.5' (str)``.
    """
    import numbers

    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def check_int_param(name, value, *, allow_none=False):
    """``value`` as an int when it is an integer (not bool/str/float); else a ValueError."""
    import numbers

    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def check_hyperparameter_types(est, reals=(), ints=(), optional_ints=()):
    """Type-check an estimator's numeric constructor parameters before any work in fit."""
    for name in reals:
        if hasattr(est, name):
            check_real_param(name, getattr(est, name))
    for name in ints:
        if hasattr(est, name):
            check_int_param(name, getattr(est, name))
    for name in optional_ints:
        if hasattr(est, name):
            check_int_param(name, getattr(est, name), allow_none=True)


def survival_tags(tags, *, positive_only=False):
    """scikit-learn tags of a survival estimator: a required survival target, dense X.

    Sets ``target_tags.required`` and ``single_output``, ``input_tags.sparse = False`` and
    ``input_tags.positive_only``; returns ``tags`` (from ``super().__sklearn_tags__()``).
    """
    tags.target_tags.required = True
    tags.target_tags.single_output = True
    tags.input_tags.positive_only = positive_only
    tags.input_tags.sparse = False
    return tags


# ----------------------------------------------------------------------------- labels
def _row_index(x):
    """Row labels of a pandas DataFrame or Series; None for anything else."""
    import sys

    pd = sys.modules.get("pandas")  # pandas input implies pandas is already imported
    if pd is not None and isinstance(x, (pd.DataFrame, pd.Series)):
        return x.index
    return None


def _is_default_range(index):
    import pandas as pd

    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def _first_labels(labels, n=5):
    return ", ".join(repr(v) for v in list(labels[:n])) + (", ..." if len(labels) > n else "")


def align_rows(A, B, names=("A", "B"), what="rows"):
    """Pair the rows of ``A`` and ``B`` by label when both are labelled, else by position.

    When both are pandas objects (DataFrame or Series), the rows of ``B`` are reordered to
    the row labels of ``A`` (e.g. the 96 SBS channels, which COSMIC and SigProfiler list in
    different orders, or gene names), so that row i of both refers to the same label.
    Otherwise (an ndarray or list on either side) rows are paired by position, as before:
    a label on one side only cannot be checked. A default ``RangeIndex`` (0..n-1, unnamed,
    what ``pd.DataFrame(array)`` gives) counts as "no labels" unless the other side holds
    exactly the labels 0..n-1 (e.g. a shuffled copy of the same frame).

    Parameters
    ----------
    A, B : array-like, pandas.DataFrame or pandas.Series
        Objects whose first axis (rows) is shared.
    names : (str, str)
        Names of A's and B's rows in messages, e.g. ``("W_fit", "W_true")``.
    what : str
        Word for the rows in messages ("channels", "genes", "samples").

    Returns
    -------
    A, B : ndarray (labelled input) or the inputs unchanged (positional pairing)
        Labelled input is returned as ``A.to_numpy()`` and ``B`` reindexed to A's labels
        (``.to_numpy()``).
    labels : pandas.Index or None
        The shared row labels in the returned order; None for positional pairing.

    Raises
    ------
    ValueError
        Both labelled but with different label sets (naming how many labels each side
        lacks and the first few), or duplicated labels that make the pairing ambiguous.
    """
    ia, ib = _row_index(A), _row_index(B)
    if ia is None or ib is None:
        return A, B, None
    if ia.equals(ib):
        return A.to_numpy(), B.to_numpy(), ia
    if _is_default_range(ia) != _is_default_range(ib):
        rng, other = (ia, ib) if _is_default_range(ia) else (ib, ia)
        if len(other) != len(rng) or not other.isin(rng).all():
            return A, B, None  # one side has no real labels: pair by position
    na, nb = names
    for idx, nm in ((ia, na), (ib, nb)):
        if idx.has_duplicates:
            dup = idx[idx.duplicated()].unique()
            raise ValueError(
                f"{nm} has {len(dup)} duplicated {what} label(s) (first few: "
                f"{_first_labels(dup)}); make the labels unique so that {na} and {nb} can "
                "be paired by label"
            )
    miss_b = ia.difference(ib, sort=False)  # in A, missing from B
    miss_a = ib.difference(ia, sort=False)
    if len(miss_a) or len(miss_b):
        parts = []
        if len(miss_b):
            parts.append(
                f"{len(miss_b)} of {na}'s {len(ia)} {what} are missing from {nb} (first few: "
                f"{_first_labels(miss_b)})"
            )
        if len(miss_a):
            parts.append(
                f"{len(miss_a)} of {nb}'s {len(ib)} {what} are missing from {na} (first few: "
                f"{_first_labels(miss_a)})"
            )
        raise ValueError(
            f"{na} and {nb} are labelled but their {what} differ: {'; '.join(parts)}. Rows "
            "are paired by label: restrict both to the shared labels first (e.g. "
            "common = A.index.intersection(B.index); A.loc[common], B.loc[common]), or pass "
            "plain arrays (.to_numpy()) to pair rows by position"
        )
    return A.to_numpy(), B.reindex(ia).to_numpy(), ia
