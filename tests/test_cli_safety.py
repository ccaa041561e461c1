"""The command line never destroys a user's files, and bad input is one line, exit 2.

Every case runs in its own temporary working directory (``monkeypatch.chdir``) and compares
a snapshot of the whole tree before and after: a refused command must leave every
pre-existing file untouched and no hidden staging folder behind. Commands run in-process
(``desurv.cli.main``) on a tiny cohort with a few iterations, so each test takes seconds.
"""

import argparse
import gzip
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desurv.cli import _build_parser, _Progress, main

FAST = ["-k", "2", "--n-init", "1", "--max-iter", "5", "--genes", "10"]


# ----------------------------------------------------------------------------- helpers
def _write_cohort(folder, *, n_genes=14, n_samples=12, events=None, seed=0, name="c"):
    """A tiny cohort: folder/NAME.expression.tsv and folder/NAME.clinical.tsv."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(n_genes)]
    samples = [f"S{j}" for j in range(n_samples)]
    expr = pd.DataFrame(rng.uniform(1, 5, size=(n_genes, n_samples)), index=genes, columns=samples)
    expr.index.name = "gene"
    if events is None:
        events = [1, 0] * (n_samples // 2) + [1] * (n_samples % 2)
    clin = pd.DataFrame(
        {"sample": samples, "time": np.round(rng.uniform(1, 10, n_samples), 2), "event": events}
    )
    e = folder / f"{name}.expression.tsv"
    c = folder / f"{name}.clinical.tsv"
    expr.to_csv(e, sep="\t")
    clin.to_csv(c, sep="\t", index=False)
    return e, c


def _snapshot(root):
    """Every path under ``root`` (hidden ones too) with the hash of each file's bytes."""
    root = Path(root)
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            snap[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            snap[os.path.relpath(p, root)] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
    return snap


def _partials(root):
    return [
        str(p)
        for p in Path(root).rglob(".*")
        if ".partial-" in p.name or ".old-" in p.name or p.name.startswith(".report-")
    ]


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _assert_one_line_error(code, err, *fragments):
    """Exit 2 and one ``desurv: error:`` line (after warnings, if any), no traceback."""
    assert code == 2, err
    lines = err.splitlines()
    assert lines and lines[-1].startswith("desurv: error:"), err
    assert all(line.startswith("desurv: warning:") for line in lines[:-1]), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture(autouse=True)
def _rmtree_only_inside_tmp(tmp_path_factory, monkeypatch):
    """Safety net: a regression must not delete anything outside pytest's temporary tree."""
    real = shutil.rmtree
    base = tmp_path_factory.getbasetemp().resolve()

    def guarded(path, *args, **kwargs):
        target = Path(path).resolve()
        if target != base and base not in target.parents:
            raise AssertionError(f"desurv tried to delete {target}")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", guarded)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """Working directory tmp/work with the inputs in work/data and an unrelated file."""
    wd = tmp_path / "work"
    e, c = _write_cohort(wd / "data")
    (wd / "notes.txt").write_text("precious\n")
    (tmp_path / "sibling.txt").write_text("also precious\n")
    monkeypatch.chdir(wd)
    return tmp_path, Path("data") / e.name, Path("data") / c.name


def _fit_argv(e, c, out, *extra):
    return ["fit", "--expression", e, "--clinical", c, *FAST, "--out", out, "-q", *extra]


@pytest.fixture
def fitted(work, capsys):
    """A desurv fit output folder work/run (with its manifest)."""
    root, e, c = work
    code, _, err = _run(_fit_argv(e, c, "run"), capsys)
    assert code == 0, err
    return root, e, c, Path("run")


# ----------------------------------------------------------------------------- item 1
@pytest.mark.parametrize(
    "out",
    [".", "..", "data", "./", "../work", "ANCESTOR", "HOME"],
)
def test_overwrite_never_replaces_protected_folders(work, capsys, monkeypatch, out):
    root, e, c = work
    if out == "ANCESTOR":  # a folder holding the inputs two levels down
        e2, c2 = _write_cohort(Path("deep/er"), name="d")
        e, c, out = e2, c2, "deep"
    if out == "HOME":
        home = root / "home"
        home.mkdir()
        (home / "diary.txt").write_text("mine")
        monkeypatch.setenv("HOME", str(home))
        out = home
    before = _snapshot(root)
    code, _, err = _run(_fit_argv(e, c, out, "--overwrite"), capsys)
    _assert_one_line_error(code, err, "never writes its results over it")
    assert _snapshot(root) == before
    assert _partials(root) == []


def test_root_folder_is_never_an_output():
    # checked directly: no command is ever run with --out / (not even in a test)
    from desurv._output import OutputError, check_output_folder

    for overwrite in (False, True):
        with pytest.raises(OutputError, match="is the root folder"):
            check_output_folder("/", overwrite=overwrite)


def test_overwrite_refuses_a_folder_desurv_did_not_write(work, capsys):
    root, e, c = work
    other = Path("mine")
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    before = _snapshot(root)
    code, _, err = _run(_fit_argv(e, c, other, "--overwrite"), capsys)
    _assert_one_line_error(code, err, "desurv_run.json", "did not write it")
    assert _snapshot(root) == before


def test_overwrite_refuses_a_run_folder_holding_foreign_files(fitted, capsys):
    root, e, c, run = fitted
    (run / "my_notes.txt").write_text("x")
    before = _snapshot(root)
    code, _, err = _run(_fit_argv(e, c, run, "--overwrite"), capsys)
    _assert_one_line_error(code, err, "my_notes.txt")
    assert _snapshot(root) == before


def test_run_folder_has_a_manifest_and_overwrite_replaces_it(fitted, capsys):
    root, e, c, run = fitted
    manifest = json.loads((run / "desurv_run.json").read_text())
    assert manifest["format"] == "desurv-run" and manifest["format_version"] == 1
    assert manifest["command"].startswith("desurv fit --expression")
    assert {"desurv_version", "created"} <= set(manifest)
    assert set(manifest["files"]) == {p.name for p in run.iterdir()} - {"desurv_run.json"}
    # without --overwrite: refused, untouched
    before = _snapshot(root)
    code, _, err = _run(_fit_argv(e, c, run), capsys)
    _assert_one_line_error(code, err, "exists and is not empty", "--overwrite")
    assert _snapshot(root) == before
    # with --overwrite: replaced, everything else untouched
    code, _, err = _run(_fit_argv(e, c, run, "--overwrite", "--seed", "3"), capsys)
    assert code == 0, err
    after = _snapshot(root)
    assert {k: v for k, v in after.items() if not k.startswith("work/run")} == {
        k: v for k, v in before.items() if not k.startswith("work/run")
    }
    assert json.loads((run / "desurv_run.json").read_text())["command"].endswith("--seed 3")
    assert _partials(root) == []


def test_out_that_is_a_file_or_a_symlink(work, capsys):
    root, e, c = work
    Path("file.txt").write_text("x")
    target = Path("real")
    target.mkdir()
    Path("link").symlink_to(target.resolve())
    before = _snapshot(root)
    for out, fragment in (("file.txt", "is an existing file"), ("link", "symbolic link")):
        for extra in ([], ["--overwrite"]):
            code, _, err = _run(_fit_argv(e, c, out, *extra), capsys)
            _assert_one_line_error(code, err, fragment)
    assert _snapshot(root) == before and _partials(root) == []


@pytest.mark.parametrize("command", ["fit", "predict", "cv", "validate"])
def test_out_is_checked_before_any_work(fitted, capsys, command, monkeypatch):
    """An existing --out is refused before the inputs are even read (they do not exist)."""
    root, _, _, run = fitted
    busy = Path("busy")
    busy.mkdir()
    (busy / "x.txt").write_text("x")

    def boom(*a, **k):  # any fit would be a bug
        raise AssertionError("fitted before checking --out")

    monkeypatch.setattr("desurv.deconvolution.estimator.DeSurv.fit", boom)
    cohort = ["--expression", "nope.tsv", "--clinical", "nope_c.tsv"]
    argv = {
        "fit": ["fit", *cohort, "-k", "2"],
        "predict": ["predict", "--model", run, "--expression", "nope.tsv"],
        "cv": ["cv", *cohort, "--k", "2"],
        "validate": ["validate", "--model", run, *cohort],
    }[command]
    code, _, err = _run([*argv, "--out", busy], capsys)
    _assert_one_line_error(code, err, "exists and is not empty")


def test_failed_rename_keeps_old_result_and_leaves_no_staging_folder(fitted, capsys, monkeypatch):
    root, e, c, run = fitted
    before = _snapshot(root)
    real_rename = os.rename

    def rename(src, dst):
        if ".partial-" in str(src):
            raise OSError(18, "Invalid cross-device link")
        return real_rename(src, dst)

    monkeypatch.setattr("desurv._output.os.rename", rename)
    code, _, err = _run(_fit_argv(e, c, run, "--overwrite"), capsys)
    _assert_one_line_error(code, err, "cannot write --out run")
    assert ".partial" not in err
    assert _snapshot(root) == before and _partials(root) == []


@pytest.mark.parametrize("where", ["manifest", "umask", "body"])
def test_interrupt_or_error_while_writing_leaves_nothing(work, capsys, monkeypatch, where):
    root, e, c = work
    before = _snapshot(root)

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    target = {
        "manifest": "desurv._output.write_manifest",
        "umask": "desurv._output.apply_umask",
        "body": "desurv.deconvolution.estimator.DeSurv.save",
    }[where]
    monkeypatch.setattr(target, interrupt)
    code, _, err = _run(_fit_argv(e, c, "new"), capsys)
    assert code == 130 and "interrupted" in err
    assert _snapshot(root) == before and _partials(root) == []


def test_permission_error_names_the_users_path(work, capsys, monkeypatch):
    root, e, c = work

    def denied(prefix=None, dir=None, **k):
        raise PermissionError(13, "Permission denied", os.path.join(dir, f"{prefix}abc123"))

    monkeypatch.setattr("desurv._output.tempfile.mkdtemp", denied)
    code, _, err = _run(_fit_argv(e, c, "sub/out"), capsys)
    _assert_one_line_error(code, err, "cannot write --out sub/out: Permission denied")
    assert ".partial" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores modes")
def test_read_only_parent_is_one_clear_error(work, capsys):
    root, e, c = work
    ro = Path("ro")
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = _run(_fit_argv(e, c, ro / "out"), capsys)
    finally:
        ro.chmod(0o755)
    _assert_one_line_error(code, err, "ro/out", "ermission denied")
    assert ".partial" not in err


def test_outputs_follow_the_umask(work, capsys):
    root, e, c = work
    old = os.umask(0o022)
    try:
        code, _, err = _run(_fit_argv(e, c, "run"), capsys)
        assert code == 0, err
        code, _, err = _run(["report", "run"], capsys)
        assert code == 0, err
    finally:
        os.umask(old)
    assert stat.S_IMODE(Path("run").stat().st_mode) == 0o755
    for p in Path("run").iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


# ----------------------------------------------------------------------------- report
def test_report_output_file_rules(fitted, capsys):
    root, e, c, run = fitted
    code, _, err = _run(["report", run], capsys)
    assert code == 0, err
    assert "report.html" in json.loads((run / "desurv_run.json").read_text())["files"]
    before = _snapshot(root)
    # an existing report: only with --overwrite
    code, _, err = _run(["report", run], capsys)
    _assert_one_line_error(code, err, "exists", "--overwrite")
    # a file that is not a desurv report: never, even with --overwrite
    for extra in ([], ["--overwrite"]):
        code, _, err = _run(["report", run, "--out", "notes.txt", *extra], capsys)
        _assert_one_line_error(code, err, "notes.txt")
    Path("lnk.html").symlink_to(Path("notes.txt").resolve())
    before["work/lnk.html"] = before["work/notes.txt"]
    code, _, err = _run(["report", run, "--out", "lnk.html", "--overwrite"], capsys)
    _assert_one_line_error(code, err, "symbolic link")
    assert _snapshot(root) == before
    code, _, err = _run(["report", run, "--overwrite"], capsys)
    assert code == 0, err
    # the run folder (with its report) can still be replaced by a new fit
    code, _, err = _run(_fit_argv(e, c, run, "--overwrite"), capsys)
    assert code == 0, err
    assert _partials(root) == []


# ----------------------------------------------------------------------------- item 2
def test_predict_suggests_fill_missing_only_for_missing_genes(fitted, capsys, tmp_path):
    root, _, _, run = fitted
    # genes missing: the hint
    e2, _ = _write_cohort(tmp_path / "other", n_genes=5, name="o")
    code, _, err = _run(["predict", "--model", run, "--expression", e2, "--out", "p1"], capsys)
    _assert_one_line_error(code, err, "missing", "--fill-missing")
    # all genes present, but a value is missing: no hint about --fill-missing
    e3, _ = _write_cohort(tmp_path / "nan", name="n")
    text = e3.read_text().splitlines()
    text[1] = "\t".join(text[1].split("\t")[:-1] + ["NA"])
    e3.write_text("\n".join(text) + "\n")
    code, _, err = _run(["predict", "--model", run, "--expression", e3, "--out", "p2"], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert "--fill-missing" not in err and "fill_value" not in err


@pytest.mark.parametrize("command", ["fit", "cv", "validate"])  # predict: see below
def test_one_event_is_named_as_such(fitted, capsys, tmp_path, command):
    root, _, _, run = fitted
    events = [0] * 11 + [1]
    e1, c1 = _write_cohort(tmp_path / "one", events=events, name="one")
    cohort = ["--expression", e1, "--clinical", c1]
    argv = {
        "fit": ["fit", *cohort, *FAST],
        "cv": ["cv", *cohort, "--k", "2", "--max-iter", "5"],
        "validate": ["validate", "--model", run, *cohort],
    }[command]
    code, _, err = _run([*argv, "--out", "o", "-q"], capsys)
    _assert_one_line_error(code, err, "only 1 event", "at least 2")
    assert "no events" not in err


def _with_text(expr):
    out = expr.astype(object)
    out.iloc[2, 3] = "high"
    return out


def _bad_inputs(folder):
    """name -> (expression path, clinical path, extra args) of malformed inputs."""
    folder = Path(folder)
    e, c = _write_cohort(folder, name="ok")
    expr = pd.read_csv(e, sep="\t")
    clin = pd.read_csv(c, sep="\t")

    def w(name, text=None, data=None):
        p = folder / name
        if data is not None:
            p.write_bytes(data)
        else:
            p.write_text(text)
        return p

    cases = {
        "expression_missing": (folder / "nope.tsv", c, []),
        "clinical_missing": (e, folder / "nope.tsv", []),
        "expression_empty": (w("empty.tsv", ""), c, []),
        "clinical_empty": (e, w("empty_c.tsv", ""), []),
        "clinical_header_only": (e, w("hdr.tsv", "sample\ttime\tevent\n"), []),
        "expression_is_folder": (folder, c, []),
        "expression_comma_separated": (w("comma.csv", expr.to_csv(index=False)), c, []),
        "clinical_comma_separated": (e, w("comma_c.csv", clin.to_csv(index=False)), []),
        "clinical_missing_event_column": (
            e,
            w("noev.tsv", clin.drop(columns="event").to_csv(sep="\t", index=False)),
            [],
        ),
        "wrong_time_col_option": (e, c, ["--time-col", "days"]),
        "non_numeric_expression": (
            w("txt.tsv", _with_text(expr).to_csv(sep="\t", index=False)),
            c,
            [],
        ),
        "non_numeric_time": (
            e,
            w("t.tsv", clin.assign(time=["soon"] * len(clin)).to_csv(sep="\t", index=False)),
            [],
        ),
        "event_not_binary": (
            e,
            w("ev2.tsv", clin.assign(event=2).to_csv(sep="\t", index=False)),
            [],
        ),
        "negative_time": (
            e,
            w("neg.tsv", clin.assign(time=-1.0).to_csv(sep="\t", index=False)),
            [],
        ),
        "duplicate_sample_clinical": (
            e,
            w(
                "dup.tsv",
                clin.assign(sample=["S0", "S0"] + list(clin["sample"][2:])).to_csv(
                    sep="\t", index=False
                ),
            ),
            [],
        ),
        "duplicate_sample_expression": (
            w("dupe.tsv", expr.to_csv(sep="\t", index=False).replace("\tS1\t", "\tS0\t", 1)),
            c,
            [],
        ),
        "duplicate_gene": (
            w("dupg.tsv", expr.assign(gene=["G0"] * len(expr)).to_csv(sep="\t", index=False)),
            c,
            [],
        ),
        "samples_differ": (e, w("fewer.tsv", clin.iloc[:-2].to_csv(sep="\t", index=False)), []),
        "ragged_rows": (w("ragged.tsv", e.read_text() + "G99" + "\t1" * 20 + "\n"), c, []),
        "binary_garbage": (w("garbage.tsv", data=bytes(range(256)) * 4), c, []),
        "corrupt_gzip": (w("bad.tsv.gz", data=b"\x1f\x8b\x08not really gzip"), c, []),
        "gzip_of_nothing": (w("nothing.tsv.gz", data=gzip.compress(b"")), c, []),
        "all_zero_events": (
            e,
            w("zero.tsv", clin.assign(event=0).to_csv(sep="\t", index=False)),
            [],
        ),  # fmt: skip
    }
    return cases


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return _bad_inputs(tmp_path_factory.mktemp("bad"))


_CASE_NAMES = [
    "expression_missing",
    "clinical_missing",
    "expression_empty",
    "clinical_empty",
    "clinical_header_only",
    "expression_is_folder",
    "expression_comma_separated",
    "clinical_comma_separated",
    "clinical_missing_event_column",
    "wrong_time_col_option",
    "non_numeric_expression",
    "non_numeric_time",
    "event_not_binary",
    "negative_time",
    "duplicate_sample_clinical",
    "duplicate_sample_expression",
    "duplicate_gene",
    "samples_differ",
    "ragged_rows",
    "binary_garbage",
    "corrupt_gzip",
    "gzip_of_nothing",
    "all_zero_events",
]


@pytest.mark.parametrize("command", ["fit", "cv", "validate", "predict"])
@pytest.mark.parametrize("case", _CASE_NAMES)
def test_malformed_input_is_one_line_exit_2(bad_inputs, fitted, capsys, case, command):
    if case == "all_zero_events" and command == "predict":
        pytest.skip("predict scores a cohort without events (C-index undefined), see below")
    root, _, _, run = fitted
    e, c, extra = bad_inputs[case]
    cohort = ["--expression", e, "--clinical", c, *extra]
    argv = {
        "fit": ["fit", *cohort, *FAST],
        "cv": ["cv", *cohort, "--k", "2", "--max-iter", "5", "--folds", "2"],
        "validate": ["validate", "--model", run, *cohort],
        "predict": ["predict", "--model", run, *cohort],
    }[command]
    before = _snapshot(root)
    code, _, err = _run([*argv, "--out", "o", "-q"][: -1 if command == "predict" else None], capsys)
    _assert_one_line_error(code, err)
    assert _snapshot(root) == before and _partials(root) == []


@pytest.mark.parametrize(
    "make",
    ["missing", "folder_without_model", "not_a_model", "empty_file", "text_file"],
)
def test_bad_model_is_one_line_exit_2(work, capsys, make):
    root, e, c = work
    model = {
        "missing": Path("no_such_run"),
        "folder_without_model": Path("data"),
        "not_a_model": Path("data") / "fake.npz",
        "empty_file": Path("empty.npz"),
        "text_file": Path("notes.txt"),
    }[make]
    if make == "not_a_model":
        np.savez(model, a=np.zeros(3))
    if make == "empty_file":
        model.write_bytes(b"")
    for command in ("predict", "validate"):
        argv = [command, "--model", model, "--expression", e, "--clinical", c, "--out", "o"]
        code, _, err = _run(argv, capsys)
        _assert_one_line_error(code, err)
    assert not Path("o").exists() and _partials(root) == []


# ----------------------------------------------------------------------------- item 3
def _walk_parsers(parser, path=("desurv",)):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk_parsers(sub, (*path, name))


def test_every_option_of_every_command_has_help():
    missing = []
    commands = 0
    for path, parser in _walk_parsers(_build_parser()):
        commands += 1
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert commands == 9  # fit predict demo cv validate report bench signatures, and the top level
    assert missing == []


def test_help_text_renders_percent_signs(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    out = capsys.readouterr().out
    assert "95% CI" in " ".join(out.split()) and "%%" not in out


def test_cv_defaults_to_cold_starts(work, capsys):
    args = _build_parser().parse_args(["cv", "--expression", "e", "--clinical", "c", "--out", "o"])
    assert args.warm_start == "none"
    root, e, c = work
    argv = ["cv", "--expression", e, "--clinical", c, "--k", "2", "--alpha", "0", "0.5",
            "--folds", "2", "--seeds", "1", "--max-iter", "5", "--refit-n-init", "1",
            "--genes", "10", "--out", "cvrun", "-q"]  # fmt: skip
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    res = pd.read_csv("cvrun/cv_results.csv")
    assert not res["warm_start"].any()
    assert (Path("cvrun") / "model.npz").is_file()
    assert json.loads(Path("cvrun/desurv_run.json").read_text())["command"].startswith("desurv cv")


def test_fit_prints_hazard_ratios_per_sd(work, capsys):
    root, e, c = work
    code, out, err = _run(_fit_argv(e, c, "run"), capsys)
    assert code == 0, err
    assert "hazard ratio per SD" in out
    header = next(line for line in out.splitlines() if "HR per SD" in line)
    assert "coef" not in header.split() and "95% CI lower" in header and "p (Wald)" in header
    # the printed numbers are the model's: HR per SD and CI of factor_1 as saved
    coef = pd.read_csv(Path("run") / "coefficients.tsv", sep="\t", index_col=0)
    row = next(line for line in out.splitlines() if line.startswith("factor_1")).split()
    hr, lo, hi = (float(v) for v in row[1:4])
    assert hr == pytest.approx(coef.loc["factor_1", "hazard_ratio_per_sd"], rel=1e-3)
    assert lo == pytest.approx(coef.loc["factor_1", "hazard_ratio_per_sd_lower"], rel=1e-3)
    assert hi == pytest.approx(coef.loc["factor_1", "hazard_ratio_per_sd_upper"], rel=1e-3)
    assert "not valid tests when penalty > 0" in out


def test_progress_bars_on_stderr_unless_quiet(work, capsys):
    root, e, c = work
    argv = _fit_argv(e, c, "a")
    argv.remove("-q")
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert "final run" in err and "final run" not in out
    code, _, err = _run(_fit_argv(e, c, "b"), capsys)
    assert code == 0 and "final run" not in err and "it/s" not in err


def test_progress_bar_starts_its_clock_after_the_first_step(capsys):
    bar = _Progress(total=10, enabled=True, desc="t")
    assert bar.bar is None  # nothing drawn (no ETA) during the first, compiling step
    bar.update()
    assert bar.bar is not None and bar.bar.n == 1 and bar.bar.initial == 1
    assert bar.bar.format_dict["rate"] is None  # rate (and ETA) measured from here on
    bar.update(2)
    assert bar.bar.n == 3
    bar.close()
    off = _Progress(total=10, enabled=False)
    off.update()
    assert off.bar is None
    capsys.readouterr()


# ----------------------------------------------------------------------------- user trial
@pytest.mark.parametrize("under", ["file", "proc"])
def test_out_that_cannot_be_created_is_refused_before_the_fit(work, capsys, monkeypatch, under):
    root, e, c = work
    if under == "file":
        Path("base.tsv").write_text("x\n")
        out, fragment = Path("base.tsv") / "sub", "base.tsv is a file, not a folder"
    else:
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc")
        out, fragment = Path("/proc/desurv-x"), "cannot write --out /proc/desurv-x"

    def boom(*a, **k):
        raise AssertionError("fitted before checking --out")

    monkeypatch.setattr("desurv.deconvolution.estimator.DeSurv.fit", boom)
    before = _snapshot(root)
    code, _, err = _run(_fit_argv(e, c, out), capsys)
    _assert_one_line_error(code, err, str(out), fragment)
    assert _snapshot(root) == before and _partials(root) == []


def test_report_needs_a_run_folder_unless_out_is_given(work, capsys):
    root, e, c = work
    before = _snapshot(root)
    code, _, err = _run(["report", "data"], capsys)
    _assert_one_line_error(
        code, err, "data is not a desurv run folder (no desurv_run.json)", "--out FILE.html"
    )
    assert _snapshot(root) == before
    code, _, err = _run(["report", "data", "--out", "elsewhere.html"], capsys)
    assert code == 0, err
    assert Path("elsewhere.html").is_file() and not Path("data/report.html").exists()


def test_report_warnings_are_desurv_warning_lines(fitted, capsys):
    root, e, c, run = fitted
    folder = Path("odd")
    folder.mkdir()
    (folder / "summary.json").write_text("{not json")
    code, _, err = _run(["report", folder, "--out", "odd.html"], capsys)
    assert code == 0, err
    lines = err.splitlines()
    assert lines and all(line.startswith("desurv: warning: ") for line in lines), err
    assert any("could not read" in line for line in lines), err


def test_validate_suggests_fill_missing_not_the_python_api(fitted, capsys, tmp_path):
    root, _, _, run = fitted
    e2, c2 = _write_cohort(tmp_path / "other", n_genes=5, name="o")
    code, _, err = _run(
        ["validate", "--model", run, "--expression", e2, "--clinical", c2, "--out", "v"], capsys
    )
    _assert_one_line_error(code, err, "--fill-missing")
    assert "fill_value" not in err and "align_genes" not in err


@pytest.mark.parametrize("command", ["fit", "predict", "cv", "validate"])
def test_sample_col_option_and_cli_remedy_for_columns(fitted, capsys, tmp_path, command):
    root, e, c, run = fitted
    table = pd.read_csv(c, sep="\t").rename(columns={"sample": "patient"})
    c2 = tmp_path / "renamed.clinical.tsv"
    table.to_csv(c2, sep="\t", index=False)
    cohort = ["--expression", e, "--clinical", c2]
    argv = {
        "fit": ["fit", *cohort, *FAST],
        "predict": ["predict", "--model", run, *cohort],
        "cv": ["cv", *cohort, "--k", "2", "--folds", "2", "--seeds", "1", "--max-iter", "3",
               "--refit-n-init", "1", "--alpha", "0.5"],
        "validate": ["validate", "--model", run, *cohort],
    }[command]  # fmt: skip
    quiet = [] if command == "predict" else ["-q"]
    code, _, err = _run([*argv, "--out", "o1", *quiet], capsys)
    _assert_one_line_error(code, err, "--time-col/--event-col/--sample-col", "'sample'")
    assert "time_col=" not in err
    code, _, err = _run([*argv, "--out", "o2", *quiet, "--sample-col", "patient"], capsys)
    assert code == 0, err


def test_cv_rejects_more_folds_than_events(work, capsys, monkeypatch):
    root, e, c = work  # 12 samples, 6 events

    def boom(*a, **k):
        raise AssertionError("fitted with impossible folds")

    monkeypatch.setattr("desurv.deconvolution.estimator.DeSurv.fit", boom)
    code, _, err = _run(
        ["cv", "--expression", e, "--clinical", c, "--k", "2", "--folds", "8", "--out", "o"],
        capsys,
    )
    _assert_one_line_error(
        code,
        err,
        "8 folds is too many for 12 samples with 6 events: every validation fold needs "
        "events; use at most 6 folds (5 or 10 are usual)",
    )


def test_directory_as_expression_is_named_a_directory(work, capsys):
    root, e, c = work
    code, _, err = _run(_fit_argv("data", c, "o"), capsys)
    _assert_one_line_error(code, err, "is a directory, not a file")
    assert "no such file" not in err


def test_usage_errors_are_one_line_with_a_help_hint(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--expression", "e", "--clinical", "c", "-k", "0", "--out", "o"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage:" not in err, err
    assert err.startswith("desurv fit: error: argument --n-components/-k:"), err
    assert err.rstrip().endswith("(see desurv fit --help)"), err
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("desurv: error:") and err.count("\n") == 1


def test_error_messages_keep_their_closing_quote(work, capsys):
    root, e, c = work
    text = Path(c).read_text().splitlines()
    text.append(text[1])  # a duplicated sample id: "... in column 'sample'"
    Path(c).write_text("\n".join(text) + "\n")
    code, _, err = _run(_fit_argv(e, c, "o"), capsys)
    _assert_one_line_error(code, err, "in column 'sample'")
    assert err.rstrip().endswith("'sample'"), err


def test_keyerror_quotes_are_removed(capsys, monkeypatch):
    def raise_keyerror(args):
        raise KeyError("no such thing")

    monkeypatch.setattr("desurv.cli.cmd_demo", raise_keyerror)
    code, _, err = _run(["demo"], capsys)
    assert code == 2 and err == "desurv: error: no such thing\n", err


@pytest.mark.parametrize("events", [[0] * 12, [0] * 11 + [1], [1] + [0] * 11])
def test_predict_without_events_writes_scores_and_an_undefined_cindex(
    fitted, capsys, tmp_path, events
):
    root, e, c, run = fitted
    table = pd.read_csv(c, sep="\t")
    table["event"] = events
    table["time"] = np.arange(1.0, 13.0)
    c2 = tmp_path / "few.clinical.tsv"
    table.to_csv(c2, sep="\t", index=False)
    code, out, err = _run(
        ["predict", "--model", run, "--expression", e, "--clinical", c2, "--out", "p"], capsys
    )
    assert code == 0, err
    summary = json.loads(Path("p/summary.json").read_text())
    assert len(pd.read_csv("p/risk_scores.tsv", sep="\t")) == 12
    if events[-1] == 1:  # the only event is the longest time: no comparable pair
        assert summary["cindex"] is None
        assert "desurv: warning: no comparable pairs in" in err, err
    elif sum(events) == 0:
        assert summary["cindex"] is None
        assert f"desurv: warning: no events in {c2}: the C-index is undefined" in err, err
    else:  # one event at the shortest time: comparable with every other sample
        assert 0.0 <= summary["cindex"] <= 1.0 and "warning" not in err, err


def test_cv_jobs_zero_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["cv", "--expression", "e", "--clinical", "c", "--jobs", "0", "--out", "o"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--jobs" in err and "-1 for all cores" in err, err
    args = _build_parser().parse_args(
        ["cv", "--expression", "e", "--clinical", "c", "--jobs", "-1", "--out", "o"]
    )
    assert args.jobs == -1


def test_predict_summary_has_the_absolute_model_path(fitted, capsys):
    root, e, c, run = fitted
    code, _, err = _run(["predict", "--model", run, "--expression", e, "--out", "p"], capsys)
    assert code == 0, err
    summary = json.loads(Path("p/summary.json").read_text())
    assert summary["model_path_absolute"] == str((run / "model.npz").resolve())
    assert Path(summary["model_path_absolute"]).is_absolute()
