"""Model files (desurv.deconvolution.model_file): round trip, rejection of damaged or hostile files.

Every bad file must give ``ValueError("not a valid desurv model file: <path>: <reason>")``,
never advise ``allow_pickle``, never allocate more than the file's size and never leave a
file handle open.
"""

from __future__ import annotations

import gc
import io
import json
import os
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from desurv import DeSurv, load_model, save_model

PREFIX = "not a valid desurv model file"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.random((30, 20))
    t = rng.exponential(1.0, 30) + 0.1
    e = rng.random(30) < 0.6
    e[:3] = True
    return pd.DataFrame(X, columns=[f"g{i}" for i in range(20)]), t, e


@pytest.fixture(scope="module")
def model(data):
    X, t, e = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter=5
        return DeSurv(n_components=2, n_init=1, max_iter=5, random_state=0).fit(X, time=t, event=e)


@pytest.fixture(scope="module")
def good_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("io") / "model.npz"
    model.save(path)
    return path


def _members(path):
    """Arrays and decoded metadata of a good file (for crafting bad ones)."""
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays.pop("meta")))
    return arrays, meta


def _write(path, arrays, meta):
    out = dict(arrays)
    if meta is not None:
        out["meta"] = np.array(meta if isinstance(meta, str) else json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **out)
    return path


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


# --------------------------------------------------------------------------- bad files
def _empty(tmp, good):
    p = tmp / "empty.npz"
    p.write_bytes(b"")
    return p


def _random_bytes(tmp, good):
    p = tmp / "random.npz"
    p.write_bytes(np.random.default_rng(1).bytes(4096))
    return p


def _text(tmp, good):
    p = tmp / "text.npz"
    p.write_bytes(b"not a model")
    return p


def _plain_npy(tmp, good):
    p = tmp / "plain.npz"
    with open(p, "wb") as fh:
        np.save(fh, np.arange(5.0))
    return p


def _truncated(tmp, good):
    raw = good.read_bytes()
    p = tmp / "truncated.npz"
    p.write_bytes(raw[: len(raw) // 2])
    return p


def _truncated_tail(tmp, good):
    raw = good.read_bytes()
    p = tmp / "truncated_tail.npz"
    p.write_bytes(raw[:-10])
    return p


def _huge_header(tmp, good):
    """A W.npy member whose header declares 10**12 float64 (8 TB) with 16 data bytes."""
    arrays, meta = _members(good)
    p = tmp / "huge.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            if name == "W":
                zf.writestr("W.npy", _npy_header((10**12,)) + b"\0" * 16)
            else:
                buf = io.BytesIO()
                np.save(buf, arr)
                zf.writestr(name + ".npy", buf.getvalue())
        buf = io.BytesIO()
        np.save(buf, np.array(json.dumps(meta)))
        zf.writestr("meta.npy", buf.getvalue())
    return p


def _huge_2d_header(tmp, good):
    arrays, meta = _members(good)
    p = tmp / "huge2d.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("meta.npy", _npy_header((10**6, 10**6), "<U100"))
    return p


def _object_member(tmp, good):
    arrays, meta = _members(good)
    arrays["W"] = np.array([{"a": 1}, None], dtype=object)
    p = tmp / "object.npz"
    with open(p, "wb") as fh:
        np.savez(fh, **arrays, meta=np.array(json.dumps(meta)))  # pickles the object array
    return p


def _compressed_bomb(tmp, good):
    """A deflated member whose uncompressed size dwarfs the archive."""
    p = tmp / "bomb.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("W.npy", _npy_header((2_000_000,)) + b"\0" * 16_000_000)
    return p


def _not_npy_member(tmp, good):
    arrays, meta = _members(good)
    p = _write(tmp / "notnpy.npz", arrays, meta)
    with zipfile.ZipFile(p, "a") as zf:
        zf.writestr("readme.txt", b"hello")
    return p


def _meta_missing(tmp, good):
    arrays, _ = _members(good)
    return _write(tmp / "nometa.npz", arrays, None)


def _meta_list(tmp, good):
    arrays, meta = _members(good)
    return _write(tmp / "metalist.npz", arrays, [meta])


def _meta_not_json(tmp, good):
    arrays, _ = _members(good)
    return _write(tmp / "metajunk.npz", arrays, "{not json")


def _meta_deep(tmp, good):
    arrays, _ = _members(good)
    return _write(tmp / "metadeep.npz", arrays, "[" * 100_000 + "]" * 100_000)


def _meta_numeric(tmp, good):
    arrays, meta = _members(good)
    arrays["meta"] = np.arange(3.0)
    return _write(tmp / "metanum.npz", arrays, None)


def _meta_edit(name, edit):
    def build(tmp, good):
        arrays, meta = _members(good)
        edit(meta)
        return _write(tmp / f"{name}.npz", arrays, meta)

    build.__name__ = name
    return build


def _array_edit(name, edit):
    def build(tmp, good):
        arrays, meta = _members(good)
        edit(arrays, meta)
        return _write(tmp / f"{name}.npz", arrays, meta)

    build.__name__ = name
    return build


def _set(d, key, value):
    d[key] = value


def _setp(key, value):
    return lambda m: m["params"].__setitem__(key, value)


def _pop(d, key):
    d.pop(key)


def _nan_w(a, m):
    a["W"] = a["W"].copy()
    a["W"][0, 0] = np.nan


def _inf_h(a, m):
    a["H"] = a["H"].copy()
    a["H"][0, 0] = np.inf


BAD_FILES = [
    _empty,
    _random_bytes,
    _text,
    _plain_npy,
    _truncated,
    _truncated_tail,
    _huge_header,
    _huge_2d_header,
    _object_member,
    _compressed_bomb,
    _not_npy_member,
    _meta_missing,
    _meta_list,
    _meta_not_json,
    _meta_deep,
    _meta_numeric,
    _meta_edit("wrong_format", lambda m: _set(m, "format", "something-else")),
    _meta_edit("wrong_version", lambda m: _set(m, "format_version", 99)),
    _meta_edit("version_bool", lambda m: _set(m, "format_version", True)),
    _meta_edit("params_list", lambda m: _set(m, "params", [1, 2])),
    _meta_edit("unknown_param", _setp("bogus", 1)),
    _meta_edit("n_components_str", _setp("n_components", "2")),
    _meta_edit("n_components_float", _setp("n_components", 3.5)),
    _meta_edit("n_components_bool", _setp("n_components", True)),
    _meta_edit("n_components_mismatch", _setp("n_components", 3)),
    _meta_edit("alpha_out_of_range", _setp("alpha", 1.5)),
    _meta_edit("alpha_str", _setp("alpha", "0.5")),
    _meta_edit("penalty_negative", _setp("penalty", -1.0)),
    _meta_edit("penalty_nan", _setp("penalty", float("nan"))),
    _meta_edit("ties_unknown", _setp("ties", "exact")),
    _meta_edit("dtype_unknown", _setp("dtype", "int8")),
    _meta_edit("random_state_str", _setp("random_state", "seed")),
    _meta_edit("n_iter_str", lambda m: _set(m, "n_iter", "5")),
    _meta_edit("converged_int", lambda m: _set(m, "converged", 1)),
    _meta_edit("n_features_mismatch", lambda m: _set(m, "n_features_in", 21)),
    _meta_edit("objective_list", lambda m: _set(m, "objective", [1.0])),
    _meta_edit("n_iter_missing", lambda m: _pop(m, "n_iter")),
    _meta_edit("preprocessing_junk", lambda m: _set(m, "preprocessing", {"format": "x"})),
    _array_edit("negated_w", lambda a, m: _set(a, "W", -a["W"])),
    _array_edit("nan_w", _nan_w),
    _array_edit("inf_h", _inf_h),
    _array_edit("w_1d", lambda a, m: _set(a, "W", a["W"].ravel())),
    _array_edit("w_missing", lambda a, m: _pop(a, "W")),
    _array_edit("w_strings", lambda a, m: _set(a, "W", a["W"].astype(str))),
    _array_edit("h_wrong_k", lambda a, m: _set(a, "H", np.vstack([a["H"], a["H"][:1]]))),
    _array_edit("coef_wrong_length", lambda a, m: _set(a, "coef", np.zeros(3))),
    _array_edit("mean_z_2d", lambda a, m: _set(a, "mean_z", a["mean_z"][None, :])),
    _array_edit("sd_z_negative", lambda a, m: _set(a, "sd_z", -a["sd_z"])),
    _array_edit(
        "feature_names_short",
        lambda a, m: _set(a, "feature_names", a["feature_names"][:-1]),
    ),
    _array_edit(
        "feature_names_duplicate",
        lambda a, m: _set(a, "feature_names", np.array(["g0"] * len(a["feature_names"]))),
    ),
    _array_edit("history_unequal", lambda a, m: _set(a, "history__loss", a["history__loss"][:-1])),
    _array_edit("init_scores_2d", lambda a, m: _set(a, "init_scores", a["init_scores"][None, :])),
    _array_edit("unexpected_member", lambda a, m: _set(a, "extra", np.zeros(2))),
    _array_edit("covariance_wrong_shape", lambda a, m: _set(a, "coef_covariance", np.eye(3))),
    _array_edit("covariance_inf", lambda a, m: _set(a, "coef_covariance", np.full((2, 2), np.inf))),
    _meta_edit("n_events_negative", lambda m: _set(m, "n_events", -1)),
    _array_edit("baseline_one_sided", lambda a, m: _set(a, "baseline_time", np.array([1.0, 2.0]))),
    _array_edit(
        "baseline_decreasing_cumhaz",
        lambda a, m: a.update(
            baseline_time=np.array([1.0, 2.0, 3.0]), baseline_cumhaz=np.array([0.1, 0.3, 0.2])
        ),
    ),
    _array_edit(
        "baseline_unsorted_time",
        lambda a, m: a.update(
            baseline_time=np.array([2.0, 1.0, 3.0]), baseline_cumhaz=np.array([0.1, 0.2, 0.3])
        ),
    ),
    _array_edit(
        "baseline_length_mismatch",
        lambda a, m: a.update(
            baseline_time=np.array([1.0, 2.0]), baseline_cumhaz=np.array([0.1, 0.2, 0.3])
        ),
    ),
]


def _open_fds():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:  # pragma: no cover - not Linux
        return None


@pytest.mark.parametrize("build", BAD_FILES, ids=lambda f: f.__name__.lstrip("_"))
def test_bad_file_rejected(build, good_file, tmp_path):
    bad = build(tmp_path, good_file)
    gc.collect()
    before = _open_fds()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(ValueError) as info:
            load_model(bad)
        gc.collect()
    msg = str(info.value)
    assert msg.startswith(f"{PREFIX}: {bad}: "), msg
    assert "allow_pickle" not in msg
    assert "\n" not in msg
    assert len(msg) < 600
    assert _open_fds() == before


@pytest.mark.parametrize("build", [_huge_header, _huge_2d_header, _compressed_bomb])
def test_huge_declared_size_allocates_little(build, good_file, tmp_path):
    bad = build(tmp_path, good_file)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=PREFIX):
            load_model(bad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024  # a few MB at most, never the declared terabytes


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match=PREFIX):
        load_model(tmp_path / "absent.npz")


def test_directory(tmp_path):
    with pytest.raises(ValueError, match=PREFIX):
        load_model(tmp_path)


# --------------------------------------------------------------------------- good files
def test_round_trip(model, good_file, data):
    X, _, _ = data
    before = _open_fds()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        m = load_model(good_file)
        gc.collect()
    assert _open_fds() == before
    for name in ("W_", "H_", "coef_", "mean_z_", "sd_z_", "init_scores_"):
        np.testing.assert_array_equal(getattr(m, name), getattr(model, name))
        assert getattr(m, name).flags.writeable
    pd.testing.assert_frame_equal(m.loss_history_, model.loss_history_)
    assert m.get_params() == model.get_params()
    assert list(m.feature_names_in_) == list(model.feature_names_in_)
    assert (m.n_iter_, m.converged_, m.n_features_in_, m.objective_) == (
        model.n_iter_,
        model.converged_,
        model.n_features_in_,
        model.objective_,
    )
    assert m.preprocessor_ is None
    # optional attributes (Breslow baseline, Wald covariance) round-trip when present
    for name in ("baseline_time_", "baseline_cumulative_hazard_", "coef_covariance_"):
        assert hasattr(m, name) == hasattr(model, name)
        if hasattr(model, name):
            np.testing.assert_array_equal(getattr(m, name), getattr(model, name))
    assert getattr(m, "n_events_", None) == getattr(model, "n_events_", None)
    np.testing.assert_array_equal(m.predict(X), model.predict(X))


def test_round_trip_without_feature_names(data, tmp_path):
    X, t, e = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = DeSurv(n_components=2, n_init=1, max_iter=3, random_state=1).fit(
            X.to_numpy(), time=t, event=e
        )
    save_model(m, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert not hasattr(back, "feature_names_in_")
    np.testing.assert_array_equal(back.predict(X.to_numpy()), m.predict(X.to_numpy()))


def test_numpy_scalar_params_are_saved(data, tmp_path):
    """NumPy integers / dtype objects as parameters are stored as plain JSON values."""
    X, t, e = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = DeSurv(n_components=np.int64(2), n_init=1, max_iter=np.int32(3), random_state=0).fit(
            X, time=t, event=e
        )
    m.dtype = np.float64
    save_model(m, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.n_components == 2 and type(back.n_components) is int
    assert back.dtype == "float64"


def test_baseline_hazard_round_trip(model, tmp_path):
    """Optional Breslow baseline arrays are saved when present and restored."""
    import copy

    m = copy.deepcopy(model)
    m.baseline_time_ = np.array([0.5, 1.0, 2.5])
    m.baseline_cumulative_hazard_ = np.array([0.1, 0.1, 0.4])
    m.coef_covariance_ = np.array([[1.0, np.nan], [np.nan, np.nan]])
    m.n_events_ = 17
    save_model(m, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.baseline_time_, m.baseline_time_)
    np.testing.assert_array_equal(back.baseline_cumulative_hazard_, m.baseline_cumulative_hazard_)
    np.testing.assert_array_equal(back.coef_covariance_, m.coef_covariance_)
    assert back.n_events_ == 17
    for name in ("baseline_time_", "baseline_cumulative_hazard_", "coef_covariance_", "n_events_"):
        delattr(m, name)
    save_model(m, tmp_path / "old.npz")  # as written by a desurv without these attributes
    old = load_model(tmp_path / "old.npz")
    assert not hasattr(old, "baseline_cumulative_hazard_")
    assert not hasattr(old, "coef_covariance_")
    np.testing.assert_array_equal(old.W_, m.W_)


def test_version1_file_without_optional_arrays(good_file, tmp_path):
    """A version-1 file with only the required members (no names, no history) loads."""
    arrays, meta = _members(good_file)
    for name in [k for k in arrays if k.startswith("history__")] + ["feature_names"]:
        arrays.pop(name)
    meta["params"].pop("loss_convention")  # NMFCox files omit some DeSurv parameters
    back = load_model(_write(tmp_path / "min.npz", arrays, meta))
    assert back.loss_history_.shape[0] == 0
    assert back.loss_convention == "consistent"


def test_nmfcox_file_loads(data, tmp_path):
    from desurv import NMFCox

    X, t, e = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = NMFCox(n_components=2, n_init=1, max_iter=5, random_state=0).fit(X, time=t, event=e)
    m.save(tmp_path / "nmfcox.npz")
    back = load_model(tmp_path / "nmfcox.npz")
    assert back.alpha == 0.0
    np.testing.assert_allclose(back.predict(X), m.predict(X))


def test_preprocessor_round_trip(data, model, tmp_path):
    from desurv.preprocessing import Preprocessor

    X, _, _ = data
    pre = Preprocessor(transform="rank", n_genes=None).fit(X)
    save_model(model, tmp_path / "m.npz", preprocessor=pre)
    back = load_model(tmp_path / "m.npz")
    assert back.preprocessor_.to_dict() == pre.to_dict()


def test_parameter_table_covers_desurv_and_nmfcox():
    """Every constructor parameter has a type/range check (keep io._PARAM_CHECKS in sync)."""
    import inspect

    from desurv import NMFCox
    from desurv.deconvolution.model_file import _PARAM_CHECKS
    from desurv.deconvolution.nmf_cox import NMFCOX_ONLY_PARAMS

    desurv_params = set(inspect.signature(DeSurv.__init__).parameters) - {"self"}
    nmfcox_params = set(inspect.signature(NMFCox.__init__).parameters) - {"self"}
    assert desurv_params == set(_PARAM_CHECKS)
    # NMFCox's own options (solver=, cd_*) are not part of the DeSurv file format
    assert nmfcox_params - set(NMFCOX_ONLY_PARAMS) <= desurv_params


@pytest.mark.parametrize("solver", ["mu", "cd"])
def test_save_model_of_an_nmfcox_loads_back(data, tmp_path, solver):
    """desurv.save_model writes an NMFCox as a DeSurv(alpha=0) file, its own options left out."""
    from desurv import NMFCox

    X, t, e = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nmf = NMFCox(n_components=2, n_init=1, max_iter=5, solver=solver, random_state=0)
        nmf.fit(X, time=t, event=e)
    save_model(nmf, tmp_path / "n.npz")
    back = load_model(tmp_path / "n.npz")
    assert back.alpha == 0.0
    np.testing.assert_array_equal(back.W_, nmf.W_)
    np.testing.assert_allclose(back.predict(X), nmf.predict(X))


def test_save_leaves_no_temporary_file(model, tmp_path):
    save_model(model, tmp_path / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


# --------------------------------------------------------------------------- CLI
def test_cli_predict_bad_model_exit_2(data, tmp_path, capsys):
    from desurv.cli import main

    X, _, _ = data
    expr = tmp_path / "expr.tsv"
    X.T.to_csv(expr, sep="\t", index_label="gene")
    bad = tmp_path / "model.npz"
    bad.write_bytes(np.random.default_rng(3).bytes(2048))
    out = tmp_path / "pred.csv"
    code = main(["predict", "--model", str(bad), "--expression", str(expr), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert PREFIX in lines[0]
    assert "allow_pickle" not in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- user-trial fixes
def test_loaded_model_rejects_raw_expression(data, tmp_path):
    """A model carrying a rank-transform preprocessing refuses raw (unranked) input."""
    from desurv.preprocessing import Preprocessor

    X, t, e = data
    raw = X * 100.0
    pre = Preprocessor(transform="rank", n_genes=10).fit(raw)
    Xp = pre.transform(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = DeSurv(n_components=2, n_init=1, max_iter=5, random_state=0).fit(Xp, time=t, event=e)
    save_model(m, tmp_path / "m.npz", preprocessor=pre)
    m2 = load_model(tmp_path / "m.npz")
    good = m2.predict(m2.preprocessor_.transform(raw))
    np.testing.assert_allclose(good, m.predict(Xp), rtol=1e-12)
    for fn in (m2.predict, m2.transform, m2.predict_survival_function):
        with pytest.raises(ValueError, match=r"within-sample ranks of its 10 genes.*preprocessor_"):
            fn(raw)
    with pytest.raises(ValueError, match="does not look like"):
        m2.score(raw, time=t, event=e)
    # ranks after alignment with missing genes filled keep the invariant
    with pytest.warns(Warning):
        filled = m2.preprocessor_.transform(raw.drop(columns=[pre.genes_[0]]), fill_value=0.0)
    assert np.isfinite(m2.predict(filled)).all()


def test_save_refuses_to_overwrite(model, tmp_path):
    path = tmp_path / "m.npz"
    model.save(path)
    with pytest.raises(ValueError, match="already exists.*overwrite=True"):
        model.save(path)
    model.save(path, overwrite=True)  # a desurv model file may be replaced
    other = tmp_path / "notes.npz"
    other.write_bytes(b"user data")
    with pytest.raises(ValueError, match="already exists"):
        save_model(model, other)
    with pytest.raises(ValueError, match="not replacing .*not a desurv model file"):
        save_model(model, other, overwrite=True)
    assert other.read_bytes() == b"user data"


def test_fit_layer_round_trips(model, tmp_path):
    import copy

    m = copy.deepcopy(model)
    m.fit_layer_ = "ranks"
    save_model(m, tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").fit_layer_ == "ranks"
    save_model(model, tmp_path / "n.npz")
    assert load_model(tmp_path / "n.npz").fit_layer_ is None


def test_unexpected_member_message_is_well_formed(good_file, tmp_path):
    bad = tmp_path / "bad.npz"
    arrays, meta = _members(good_file)
    with open(bad, "wb") as fh:
        np.savez(fh, a=np.arange(3.0), meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError) as exc:
        load_model(bad)
    msg = str(exc.value)
    assert "unexpected member 'a.npy'" in msg
    assert msg.count("'") % 2 == 0 and not msg.endswith("'")


def test_save_into_a_missing_folder_names_the_folder(tmp_path, model):
    with pytest.raises(ValueError, match="does not exist") as info:
        model.save(tmp_path / "nodir" / "x" / "model.npz")
    assert "tmp.npz" not in str(info.value) and not (tmp_path / "nodir").exists()
