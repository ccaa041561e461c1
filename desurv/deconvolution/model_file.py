"""Saving and loading fitted models.

File format (version 1): a NumPy ``.npz`` archive (a zip of uncompressed ``.npy`` members)
written without pickling, holding

* ``W`` (genes × k), ``H`` (k × samples), ``coef``, ``mean_z``, ``sd_z`` (float64 arrays);
* ``history__<name>`` for every column of ``loss_history_``;
* ``init_scores``; ``feature_names`` (unicode array, absent when the model had none);
* optionally ``baseline_time`` and ``baseline_cumhaz`` (Breslow baseline cumulative hazard,
  attributes ``baseline_time_`` and ``baseline_cumulative_hazard_``) and ``coef_covariance``
  (k × k, attribute ``coef_covariance_``; NaN where undefined), written only when the model
  has them; version-1 files without them load fine (the format stays version 1);
* ``meta``: a JSON string with ``format`` ("desurv-model"), ``format_version`` (1),
  ``desurv_version``, ``params`` (constructor parameters), ``n_iter``, ``converged``,
  ``n_features_in``, ``objective``, ``preprocessing`` (a
  :meth:`desurv.preprocessing.Preprocessor.to_dict` dictionary, or null) and, when the model
  has it, ``n_events`` (attribute ``n_events_``), ``n_labeled`` and ``n_unlabeled``
  (semi-supervised fits, attributes ``n_labeled_``, ``n_unlabeled_``) and ``fit_layer`` (the
  AnnData layer of the fit, attribute ``fit_layer_``; absent means ``.X``), and
  ``estimator``, written by :meth:`desurv.NMFCox.save` only: ``{"class": "NMFCox",
  "params": {...}}`` with NMFCox's own parameters (``solver``, ``cd_init``, ``cd_tol``,
  ``cd_max_iter``), so that :func:`desurv.load_model` returns an NMFCox (absent: DeSurv;
  readers that predate the key ignore it and read the file as a ``DeSurv(alpha=0)``).
* ``H_unlabeled`` (k × n_unlabeled, attribute ``H_unlabeled_``): exposures of the
  unlabelled samples of a semi-supervised fit, when the model has them.

Everything a fitted :class:`~desurv.DeSurv` holds round-trips exactly.

Loading treats the file as untrusted: :func:`read_model_file` reads the zip itself, checks every
member's ``.npy`` header (no object dtypes, a declared size matching the bytes actually
stored) before allocating anything, so it never allocates more than the file's size, and it
validates the metadata and every array (shapes, finiteness, W ≥ 0, parameter types and
ranges). Any problem gives ``ValueError("not a valid desurv model file: <path>: <reason>")``;
no file handle is left open.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

FORMAT = "desurv-model"
FORMAT_VERSION = 1

_INVALID = "not a valid desurv model file"
_CHUNK = 1 << 20  # bytes read at a time from a member
_MAX_MEMBERS = 10_000
_HISTORY_PREFIX = "history__"
_REQUIRED_ARRAYS = ("W", "H", "coef", "mean_z", "sd_z", "init_scores")
_OPTIONAL_ARRAYS = (
    "feature_names",
    "baseline_time",
    "baseline_cumhaz",
    "coef_covariance",
    "H_unlabeled",
)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# array kinds a model file may hold: bool, ints, floats, unicode (never objects or records)
_ALLOWED_KINDS = frozenset("biufU")


class _Invalid(Exception):
    """Internal: the reason a file is not a valid model (becomes a ValueError)."""


# --------------------------------------------------------------------------- parameters
def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int_at_least(lo):
    def check(v):
        return _is_int(v) and v >= lo

    check.expect = f"an integer >= {lo}"
    return check


def _real_in(lo, hi, hi_open=False):
    def check(v):
        if not _is_real(v) or not math.isfinite(v) or v < lo:
            return False
        return v < hi if hi_open else v <= hi

    check.expect = f"a number in [{lo}, {hi}{')' if hi_open else ']'}"
    return check


def _one_of(*choices):
    def check(v):
        return isinstance(v, str) and v in choices

    check.expect = f"one of {list(choices)}"
    return check


def _optional(inner):
    def check(v):
        return v is None or inner(v)

    check.expect = f"null or {inner.expect}"
    return check


def _any_int(v):
    return _is_int(v)


_any_int.expect = "an integer"

# the constructor parameters of DeSurv (NMFCox files hold a subset, with alpha = 0)
_PARAM_CHECKS = {
    "n_components": _int_at_least(1),
    "alpha": _real_in(0.0, 1.0, hi_open=True),
    "penalty": _real_in(0.0, math.inf),
    "l1_ratio": _real_in(0.0, 1.0),
    "penalty_w": _real_in(0.0, math.inf),
    "penalty_h": _real_in(0.0, math.inf),
    "n_init": _int_at_least(1),
    "init": _one_of("random", "custom"),
    "max_iter": _int_at_least(1),
    "tol": _real_in(0.0, math.inf),
    "random_state": _optional(_any_int),
    "ties": _one_of("breslow", "efron"),
    "loss_convention": _one_of("consistent", "reference"),
    "balance": _one_of("gradient", "numerator"),
    "init_max_iter": _int_at_least(1),
    "init_tol": _real_in(0.0, math.inf),
    "init_select": _one_of("objective", "cindex"),
    "n_threads": _optional(_any_int),
    "dtype": _one_of("float64", "float32"),
    "acceleration": _one_of("none", "extrapolation"),
}


def _plain(value):
    """A parameter value as a JSON-native object (NumPy scalars, dtypes, types)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (np.dtype, type)):
        try:
            return np.dtype(value).name
        except TypeError:
            return value
    return value


# --------------------------------------------------------------------------- saving
def _check_overwrite(path, overwrite):
    """desurv never replaces a file it did not write (see :func:`save_model`)."""
    if not (path.exists() or path.is_symlink()):
        return
    if not overwrite:
        raise ValueError(
            f"{path} already exists: pass overwrite=True to replace it (only a desurv model "
            "file is replaced), or choose another path"
        )
    if not path.is_file():
        raise ValueError(f"not replacing {path}: it is not a desurv model file (not a file)")
    try:
        read_model_file(path, None)
    except ValueError:
        raise ValueError(f"not replacing {path}: it is not a desurv model file") from None


def save_model(model, path, preprocessor=None, *, overwrite=False, _estimator=None):
    """Write a fitted DeSurv model (and its preprocessing) to ``path`` (.npz).

    Parameters
    ----------
    model : fitted DeSurv (or NMFCox)
    path : str or path-like
    preprocessor : Preprocessor, optional
        Default: ``model.preprocessor_`` when set.
    overwrite : bool, default=False
        desurv never overwrites a file it did not create: an existing ``path`` is an error
        unless ``overwrite=True``, and then it is replaced only when it is a valid desurv
        model file.

    Raises
    ------
    ValueError
        If the model is not fitted, ``path`` exists and ``overwrite`` is False, or
        ``path`` exists and is not a desurv model file, or its folder does not exist.
    """
    from desurv import __version__

    model._check_fitted()
    path = Path(path)
    if not path.parent.is_dir():
        raise ValueError(
            f"cannot save the model to {path}: folder {path.parent} does not exist "
            "(create it first)"
        )
    _check_overwrite(path, overwrite)
    if preprocessor is None:
        preprocessor = getattr(model, "preprocessor_", None)
    # the parameters of the DeSurv file format (NMFCox-only ones such as solver= are not)
    params = {k: _plain(v) for k, v in model.get_params().items() if k in _PARAM_CHECKS}
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
        "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "n_features_in": int(model.n_features_in_),
        "objective": {k: float(v) for k, v in model.objective_.items()},
        "preprocessing": None if preprocessor is None else preprocessor.to_dict(),
    }
    if _estimator is not None:  # {"class": ..., "params": {...}} of a DeSurv subclass
        meta["estimator"] = _estimator
    if hasattr(model, "n_events_"):
        meta["n_events"] = int(model.n_events_)
    for name in ("n_labeled", "n_unlabeled"):
        if hasattr(model, name + "_"):
            meta[name] = int(getattr(model, name + "_"))
    if getattr(model, "fit_layer_", None) is not None:
        meta["fit_layer"] = str(model.fit_layer_)
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
        arrays[f"{_HISTORY_PREFIX}{name}"] = model.loss_history_[name].to_numpy()
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        arrays["feature_names"] = np.asarray(names, dtype=str)
    if hasattr(model, "baseline_cumulative_hazard_"):
        arrays["baseline_time"] = np.asarray(model.baseline_time_, dtype=np.float64)
        arrays["baseline_cumhaz"] = np.asarray(model.baseline_cumulative_hazard_, dtype=np.float64)
    if getattr(model, "H_unlabeled_", None) is not None:
        arrays["H_unlabeled"] = np.asarray(model.H_unlabeled_)
    if getattr(model, "coef_covariance_", None) is not None:
        arrays["coef_covariance"] = np.asarray(model.coef_covariance_, dtype=np.float64)
    tmp = path.with_name(path.name + ".tmp.npz")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        tmp.replace(path)  # never leave a half-written model under the final name
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------- reading
def _read_member(zf, info):
    """Read one ``.npy`` member, checking its header before allocating its data."""
    name = info.filename
    fmt = np.lib.format
    with zf.open(info) as fp:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise _Invalid(f"member {name!r} has unsupported .npy version {version}")
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in _ALLOWED_KINDS:
            raise _Invalid(f"member {name!r} has unsupported dtype {dtype.str!r}")
        count = 1
        for dim in shape:
            count *= int(dim)
        nbytes = count * dtype.itemsize
        header_len = fp.tell()
        if nbytes != info.file_size - header_len:
            raise _Invalid(
                f"member {name!r} declares shape {tuple(shape)} ({nbytes} bytes) but stores "
                f"{info.file_size - header_len} bytes"
            )
        arr = np.empty(count, dtype=dtype)  # nbytes <= this member's bytes in the file
        view = memoryview(arr.view(np.uint8))
        pos = 0
        while pos < nbytes:
            chunk = fp.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                raise _Invalid(f"member {name!r} is truncated")
            view[pos : pos + len(chunk)] = chunk
            pos += len(chunk)
        fp.read(1)  # reach the end of the member so that its CRC is checked
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order)


def _read_archive(path):
    """All members of the archive as arrays (name without ``.npy`` -> ndarray)."""
    size = os.path.getsize(path)
    if size == 0:
        raise _Invalid("the file is empty")
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            raise _Invalid("cannot read it as an .npz (zip) archive")
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise _Invalid(f"{len(infos)} members")
            total = 0
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED:
                    raise _Invalid(f"member {info.filename!r} is compressed (model files are not)")
                if info.file_size != info.compress_size:
                    raise _Invalid(f"member {info.filename!r} has inconsistent sizes")
                total += info.file_size
            if total > size:
                raise _Invalid("members declare more bytes than the file holds")
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                raise _Invalid("duplicate members")
            arrays = {}
            for info in infos:
                stem = info.filename[: -len(".npy")]
                if not info.filename.endswith(".npy") or not _NAME_RE.match(stem):
                    raise _Invalid(f"unexpected member {info.filename!r} (not a model array name)")
                if not (
                    stem in _REQUIRED_ARRAYS
                    or stem in _OPTIONAL_ARRAYS
                    or stem == "meta"
                    or stem.startswith(_HISTORY_PREFIX)
                ):
                    raise _Invalid(
                        f"unexpected member {info.filename!r} (not an array of a model file)"
                    )
                arrays[stem] = _read_member(zf, info)
    return arrays


# --------------------------------------------------------------------------- validation
def _meta_from(arrays):
    if "meta" not in arrays:
        raise _Invalid("no metadata")
    raw = arrays.pop("meta")
    if raw.shape != () or raw.dtype.kind != "U":
        raise _Invalid("metadata is not a string")
    try:
        meta = json.loads(str(raw))
    except RecursionError:
        raise _Invalid("metadata is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError
        raise _Invalid(f"metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _Invalid(f"metadata is a JSON {type(meta).__name__}, not an object")
    fmt, version = meta.get("format"), meta.get("format_version")
    if fmt != FORMAT:
        raise _Invalid(f"format {str(fmt)[:40]!r}, expected {FORMAT!r}")
    if not _is_int(version) or version != FORMAT_VERSION:
        raise _Invalid(
            f"unsupported format version {str(version)[:20]!r} "
            f"(this desurv reads version {FORMAT_VERSION})"
        )
    return meta


def _json_scalar(v):
    return (
        v is None or isinstance(v, (bool, int, str)) or (isinstance(v, float) and math.isfinite(v))
    )


_json_scalar.expect = "a JSON scalar"


def _check_params(params, known):
    if not isinstance(params, dict):
        raise _Invalid("'params' is not an object")
    for key, value in params.items():
        if known is not None and key not in known:
            raise _Invalid(f"unknown parameter {str(key)[:40]!r}")
        check = _PARAM_CHECKS.get(key, _json_scalar)  # a parameter newer than this table
        if not check(value):
            raise _Invalid(f"parameter {key}={str(value)[:40]!r} is not {check.expect}")
    return params


def _check_meta_fields(meta, known):
    required = ("params", "n_iter", "converged", "n_features_in", "objective")
    missing = [k for k in required if k not in meta]
    if missing:
        raise _Invalid(f"metadata lacks {missing}")
    params = _check_params(meta["params"], known)
    if not (_is_int(meta["n_iter"]) and meta["n_iter"] >= 0):
        raise _Invalid("'n_iter' is not an integer >= 0")
    if not isinstance(meta["converged"], bool):
        raise _Invalid("'converged' is not true/false")
    if not (_is_int(meta["n_features_in"]) and meta["n_features_in"] >= 1):
        raise _Invalid("'n_features_in' is not an integer >= 1")
    objective = meta["objective"]
    if not isinstance(objective, dict) or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in objective.values()
    ):
        raise _Invalid("'objective' is not an object of numbers")
    version = meta.get("desurv_version")
    if version is not None and not isinstance(version, str):
        raise _Invalid("'desurv_version' is not a string")
    for name in ("n_events", "n_labeled", "n_unlabeled"):
        value = meta.get(name)
        if value is not None and not (_is_int(value) and value >= 0):
            raise _Invalid(f"{name!r} is not an integer >= 0")
    prep = meta.get("preprocessing")
    if prep is not None and not isinstance(prep, dict):
        raise _Invalid("'preprocessing' is not an object")
    fit_layer = meta.get("fit_layer")
    if fit_layer is not None and not isinstance(fit_layer, str):
        raise _Invalid("'fit_layer' is not a string")
    _check_estimator(meta.get("estimator"))
    return params


# the estimators a model file may name, with the checks of their own parameters
_ESTIMATOR_PARAMS = {
    "DeSurv": {},
    "NMFCox": {
        "solver": _one_of("mu", "cd"),
        "cd_init": _one_of("nndsvd", "nndsvda", "nndsvdar", "random"),
        "cd_tol": _real_in(0.0, math.inf),
        "cd_max_iter": _int_at_least(1),
    },
}


def _check_estimator(est):
    """Validate the optional ``estimator`` entry of the metadata (see the module docstring)."""
    if est is None:
        return
    if not isinstance(est, dict) or set(est) != {"class", "params"}:
        raise _Invalid("'estimator' is not an object with 'class' and 'params'")
    checks = _ESTIMATOR_PARAMS.get(est["class"]) if isinstance(est["class"], str) else None
    if checks is None:
        raise _Invalid(f"unknown estimator class {str(est['class'])[:40]!r}")
    if not isinstance(est["params"], dict):
        raise _Invalid("'estimator.params' is not an object")
    for key, value in est["params"].items():
        if key not in checks:
            raise _Invalid(f"unknown {est['class']} parameter {str(key)[:40]!r}")
        if not checks[key](value):
            raise _Invalid(f"parameter {key}={str(value)[:40]!r} is not {checks[key].expect}")


def _float_array(arrays, name, ndim):
    if name not in arrays:
        raise _Invalid(f"no {name!r} array")
    a = arrays[name]
    if a.dtype.kind != "f":
        raise _Invalid(f"{name!r} has dtype {a.dtype.str!r}, expected floats")
    if a.ndim != ndim:
        raise _Invalid(f"{name!r} has {a.ndim} dimensions, expected {ndim}")
    return np.ascontiguousarray(a, dtype=np.float64)


def _finite(a, name):
    if not np.all(np.isfinite(a)):
        raise _Invalid(f"{name!r} contains NaN or infinite values")
    return a


def _check_arrays(arrays, params, meta):
    W = _finite(_float_array(arrays, "W", 2), "W")
    p, k = W.shape
    if p < 1 or k < 1:
        raise _Invalid(f"'W' has shape {W.shape}")
    if np.any(W < 0):
        raise _Invalid("'W' has negative entries")
    n_components = params.get("n_components", 3)
    if n_components != k:
        raise _Invalid(f"n_components={n_components} but 'W' has {k} columns")
    if meta["n_features_in"] != p:
        raise _Invalid(f"n_features_in={meta['n_features_in']} but 'W' has {p} rows")
    H = _finite(_float_array(arrays, "H", 2), "H")
    if H.shape[0] != k:
        raise _Invalid(f"'H' has shape {H.shape}, expected ({k}, n_samples)")
    out = {"W_": W, "H_": H}
    for name, attr in (("coef", "coef_"), ("mean_z", "mean_z_"), ("sd_z", "sd_z_")):
        a = _finite(_float_array(arrays, name, 1), name)
        if a.shape != (k,):
            raise _Invalid(f"{name!r} has shape {a.shape}, expected ({k},)")
        out[attr] = a
    if np.any(out["sd_z_"] < 0):
        raise _Invalid("'sd_z' has negative entries")
    out["init_scores_"] = _float_array(arrays, "init_scores", 1)
    if "H_unlabeled" in arrays:
        HU = _finite(_float_array(arrays, "H_unlabeled", 2), "H_unlabeled")
        if HU.shape[0] != k:
            raise _Invalid(f"'H_unlabeled' has shape {HU.shape}, expected ({k}, n_unlabeled)")
        out["H_unlabeled_"] = HU

    if "feature_names" in arrays:
        names = arrays["feature_names"]
        if names.dtype.kind != "U" or names.shape != (p,):
            raise _Invalid(f"'feature_names' must be {p} strings (one per row of W)")
        names = np.asarray(names.tolist(), dtype=object)
        if len(set(names)) != p:
            raise _Invalid("'feature_names' has duplicates")
        out["feature_names_in_"] = names

    hist = {}  # in file order (the column order save_model wrote)
    for name, a in arrays.items():
        if name.startswith(_HISTORY_PREFIX):
            if a.ndim != 1 or a.dtype.kind not in "biuf":
                raise _Invalid(f"{name!r} is not a 1-D numeric array")
            hist[name[len(_HISTORY_PREFIX) :]] = a
    if len({a.shape[0] for a in hist.values()}) > 1:
        raise _Invalid("history arrays differ in length")
    out["hist"] = hist

    has_t, has_h = "baseline_time" in arrays, "baseline_cumhaz" in arrays
    if has_t != has_h:
        raise _Invalid("'baseline_time' and 'baseline_cumhaz' must come together")
    if has_t:
        bt = _finite(_float_array(arrays, "baseline_time", 1), "baseline_time")
        bh = _finite(_float_array(arrays, "baseline_cumhaz", 1), "baseline_cumhaz")
        if bt.shape != bh.shape:
            raise _Invalid("'baseline_time' and 'baseline_cumhaz' differ in length")
        if np.any(bt < 0) or np.any(np.diff(bt) <= 0):
            raise _Invalid("'baseline_time' is not >= 0 and strictly increasing")
        if np.any(bh < 0) or np.any(np.diff(bh) < 0):
            raise _Invalid("'baseline_cumhaz' is not nondecreasing and >= 0")
        out["baseline_time_"] = bt
        out["baseline_cumulative_hazard_"] = bh
    if "coef_covariance" in arrays:
        cov = _float_array(arrays, "coef_covariance", 2)
        if cov.shape != (k, k):
            raise _Invalid(f"'coef_covariance' has shape {cov.shape}, expected ({k}, {k})")
        if np.any(np.isinf(cov)):  # NaN marks undefined entries
            raise _Invalid("'coef_covariance' contains infinite values")
        out["coef_covariance_"] = cov
    return out


def _read_parts(path, param_names):
    from desurv.preprocessing import Preprocessor

    arrays = _read_archive(path)
    meta = _meta_from(arrays)
    params = _check_meta_fields(meta, param_names)
    fitted = _check_arrays(arrays, params, meta)
    prep = meta.get("preprocessing")
    try:
        preprocessor = None if prep is None else Preprocessor.from_dict(prep)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise _Invalid(f"bad preprocessing: {exc}") from None
    n_out = getattr(preprocessor, "n_genes_", None)
    if n_out is not None and n_out != meta["n_features_in"]:
        raise _Invalid(
            f"the preprocessing keeps {n_out} genes but the model has {meta['n_features_in']}"
        )
    hist = pd.DataFrame(fitted.pop("hist"))
    hist.index = pd.RangeIndex(1, len(hist) + 1, name="iteration")
    fitted["loss_history_"] = hist
    fitted["n_iter_"] = meta["n_iter"]
    fitted["converged_"] = meta["converged"]
    fitted["n_features_in_"] = meta["n_features_in"]
    fitted["objective_"] = dict(meta["objective"])
    fitted["preprocessor_"] = preprocessor
    fitted["fit_layer_"] = meta.get("fit_layer")
    for name in ("n_events", "n_labeled", "n_unlabeled"):
        if meta.get(name) is not None:
            fitted[name + "_"] = meta[name]
    # not an attribute: load_model pops it to choose the class
    fitted["_estimator"] = meta.get("estimator")
    return params, fitted


def read_model_file(path, param_names):
    """Read and validate a model file written by :func:`save_model`.

    This is the format layer: :meth:`desurv.DeSurv.load` (and :func:`desurv.load_model`)
    build the estimator from what it returns.

    Parameters
    ----------
    path : str or path-like
    param_names : collection of str or None
        Constructor parameters the file may hold (the estimator's ``_get_param_names()``);
        None accepts any name (used to recognise a model file before replacing it).

    The file is treated as untrusted: nothing is unpickled, no array larger than the file
    is allocated, and the metadata and arrays are validated (see the module docstring).

    Returns
    -------
    params : dict
        Constructor parameters.
    fitted : dict
        Fitted attributes (names ending in ``_``): ``preprocessor_`` holds the saved
        preprocessing (or None); ``baseline_time_`` / ``baseline_cumulative_hazard_`` are
        present when the file has them.

    Raises
    ------
    ValueError
        ``"not a valid desurv model file: <path>: <reason>"`` if the file is missing,
        unreadable, damaged or not a desurv model of a known version.
    """
    path = Path(path)
    try:
        return _read_parts(path, None if param_names is None else frozenset(param_names))
    except _Invalid as exc:
        reason = str(exc)
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "is a directory"
    except PermissionError:
        reason = "permission denied"
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        reason = f"damaged zip archive ({exc})"
    except EOFError:
        reason = "the file is truncated"
    except (OSError, ValueError, KeyError, TypeError, OverflowError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    reason = " ".join(reason.split())[:300]  # one line, bounded
    if "pickle" in reason:  # never advise unpickling an untrusted file
        reason = "unreadable content"
    raise ValueError(f"{_INVALID}: {path}: {reason}") from None
