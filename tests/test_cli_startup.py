"""Start-up of ``import desurv`` and the command line (issue 4, target 6; issue 16, target 4).

No wall-clock assertions: these tests check *what* is imported and when (lazy imports, PEP
562; ``scipy.stats`` deferred past the first iteration by ``python -m desurv.cli``, with the
same results), that kernels come from Numba's cache and none is loaded at start-up, and
that ``desurv fit --verbose`` prints the time-stamped lines benchmarks rely on.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import desurv
from desurv.cli import _common as cli

# the desurv this test session imports (installed in CI, built in place in development):
# subprocesses must import the same one, not the uncompiled source tree under the cwd
PKG_PARENT = Path(cli.__file__).resolve().parents[2]

# optional or workflow-only dependencies that a fit must not pay for (scikit-learn, and
# joblib through it, is loaded: every estimator inherits its BaseEstimator)
OPTIONAL = {"matplotlib", "lifelines", "optuna", "sksurv", "anndata"}
# every third-party module: ``import desurv`` alone must load none of them
THIRD_PARTY = OPTIONAL | {
    "numpy",
    "pandas",
    "scipy",
    "numba",
    "threadpoolctl",
    "tqdm",
    "sklearn",
    "joblib",
}


def _run_python(code, *args, check=True):
    """Run ``code`` in a fresh interpreter importing the same desurv as this session."""
    env = dict(
        os.environ, PYTHONPATH=str(PKG_PARENT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _loaded(code, roots):
    """Top-level packages among ``roots`` imported by ``code`` in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys, json\nroots = set({sorted(roots)!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & roots)))"
    )
    return json.loads(_run_python(probe).stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- lazy imports
def test_import_desurv_loads_no_third_party_module():
    assert _loaded("import desurv", THIRD_PARTY) == []


def test_import_cli_and_building_the_parser_load_no_third_party_module():
    # `desurv --help` / `--version` must not pay for numpy, pandas, numba or scipy
    assert _loaded("import desurv.cli as c; c._build_parser()", THIRD_PARTY) == []


def test_every_public_name_resolves_lazily_in_a_fresh_process():
    code = (
        "import desurv, importlib\n"
        "for name in desurv.__all__:\n"
        "    value = getattr(desurv, name)\n"
        "    mod = desurv._LAZY_NAMES.get(name)\n"
        "    if mod is not None:\n"
        "        assert value is getattr(importlib.import_module('desurv.' + mod), name), name\n"
        "from desurv import DeSurv, fit_desurv, concordance_index, make_survival_y\n"
        "print('ok')"
    )
    assert _run_python(code).stdout.strip() == "ok"


def test_lazy_names_match_their_modules_and_dir():
    import desurv.deconvolution.estimator
    import desurv.deconvolution.solver
    import desurv.survival.concordance

    assert desurv.DeSurv is desurv.deconvolution.estimator.DeSurv
    assert desurv.fit_desurv is desurv.deconvolution.solver.fit_desurv
    assert desurv.concordance_index is desurv.survival.concordance.concordance_index
    listed = dir(desurv)
    assert set(desurv.__all__) <= set(listed)
    assert {"evaluation", "model_selection", "survival", "deconvolution"} <= set(listed)
    assert listed == sorted(listed)
    # every lazy name is public and exists in the module it points to
    assert set(desurv._LAZY_NAMES) <= set(desurv.__all__)


def test_submodule_attribute_and_unknown_attribute():
    assert _run_python(
        "import desurv; print(desurv.evaluation.matching.__name__)"
    ).stdout.strip() == ("desurv.evaluation.matching")
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        desurv.not_a_name  # noqa: B018
    assert not hasattr(desurv, "__wrapped__")  # introspection tools probe such names


def test_star_import_gives_all_public_names():
    code = "from desurv import *\nprint(DeSurv.__name__, fit_desurv.__name__, __version__)"
    assert _run_python(code).stdout.split() == ["DeSurv", "fit_desurv", desurv.__version__]


# ----------------------------------------------------------------------------- clock
def test_seconds_since_process_start_is_consistent():
    before = time.perf_counter()
    since_start = cli._seconds_since_process_start()
    if since_start is None:
        pytest.skip("/proc/self/stat is not available on this platform")
    # this process started before desurv.cli was imported (10 ms tick resolution) and
    # after the machine booted
    assert since_start >= before - cli._T_IMPORT - 0.011
    assert since_start <= time.clock_gettime(time.CLOCK_BOOTTIME)


def test_clock_falls_back_to_module_import(monkeypatch):
    monkeypatch.setattr(cli, "_seconds_since_process_start", lambda: None)
    clock = cli._Clock()
    assert clock.origin_label == "start of desurv.cli"
    assert clock.origin == pytest.approx(cli._T_IMPORT, abs=1e-9)
    assert clock() >= 0.0


# ----------------------------------------------------------------------------- --verbose
LINE = re.compile(r"^desurv: \[\s*(\d+\.\d{3}) s\] (.*)$")


@pytest.fixture
def small_cohort(tmp_path):
    rng = np.random.default_rng(0)
    p, n = 60, 40
    X = rng.gamma(1.0, size=(p, 3)) @ rng.gamma(1.0, size=(3, n))
    samples = [f"S{i}" for i in range(n)]
    expr = pd.DataFrame(X, index=pd.Index([f"G{g}" for g in range(p)], name="gene"))
    expr.columns = samples
    expr.to_csv(tmp_path / "expr.tsv", sep="\t")
    time_ = rng.exponential(1.0, n).round(3) + 0.01
    clinical = pd.DataFrame({"sample": samples, "time": time_, "event": rng.random(n) < 0.7})
    clinical["event"] = clinical["event"].astype(int)
    clinical.to_csv(tmp_path / "clin.tsv", sep="\t", index=False)
    return tmp_path


def test_fit_verbose_prints_time_stamped_iteration_lines(small_cohort):
    out = small_cohort / "out"
    proc = _run_python(
        "import sys; from desurv.cli import main; sys.exit(main(sys.argv[1:]))",
        "fit",
        "--expression",
        str(small_cohort / "expr.tsv"),
        "--clinical",
        str(small_cohort / "clin.tsv"),
        "-k",
        "2",
        "--n-init",
        "1",
        "--max-iter",
        "3",
        "--out",
        str(out),
        "--verbose",
    )
    lines = [m.groups() for m in map(LINE.match, proc.stderr.splitlines()) if m]
    stamps = [float(t) for t, _ in lines]
    texts = [text for _, text in lines]
    assert texts[0] == "clock counts seconds since process start" or sys.platform != "linux"
    iterations = [t for t in texts if t.startswith("iteration ")]
    starts = [i for i, t in enumerate(texts) if t.startswith("random start ")]
    assert texts[starts[0]].startswith("random start 1 done: score ")
    assert len(starts) == 1 and starts[0] < texts.index(iterations[0])
    assert [t.split(":")[0] for t in iterations] == ["iteration 1", "iteration 2", "iteration 3"]
    for t in iterations:
        assert np.isfinite(float(t.split("objective ")[1]))
    assert any(t.startswith("read 40 samples x 60 genes") for t in texts)
    assert texts[-1].startswith("fit done: 3 iterations")
    assert stamps[0] >= 0.0 and stamps == sorted(stamps)  # one clock, never going back
    assert "%|" not in proc.stderr  # the tqdm progress bar is replaced by the lines
    assert (out / "model.npz").is_file()


def test_quiet_fit_prints_no_time_stamps_and_loads_no_optional_dependency(small_cohort):
    # plots, lifelines, optuna, scikit-survival: not for a single fit
    code = (
        "import sys, json; from desurv.cli import main\n"
        f"main(['fit', '--expression', {str(small_cohort / 'expr.tsv')!r}, "
        f"'--clinical', {str(small_cohort / 'clin.tsv')!r}, '-k', '2', '--n-init', '1', "
        f"'--max-iter', '2', '--out', {str(small_cohort / 'out')!r}, '--quiet'])\n"
        f"roots = set({sorted(OPTIONAL)!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & roots)))"
    )
    proc = _run_python(code)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert not any(LINE.match(line) for line in proc.stderr.splitlines())
    assert (small_cohort / "out" / "model.npz").is_file()


# ----------------------------------------------------------------------------- the program
def _run_program(*args, env=None, python_args=(), merge=False):
    """``python [python_args] -m desurv.cli ARGS`` (the program: deferred imports on);
    ``merge``: stderr into stdout, unbuffered, in the order written."""
    env = dict(
        os.environ if env is None else env,
        PYTHONPATH=str(PKG_PARENT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    if merge:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run(
        [sys.executable, *python_args, "-m", "desurv.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _fit_args(cohort, out, *extra):
    return ["fit", "--expression", cohort / "expr.tsv", "--clinical", cohort / "clin.tsv",
            "-k", "2", "--n-init", "2", "--max-iter", "3", "--out", out, *extra]  # fmt: skip


def test_python_m_desurv_cli_is_the_command():
    assert _run_program("--version").stdout.strip() == f"desurv {desurv.__version__}"


def test_program_defers_scipy_stats_past_the_first_iteration_same_results(small_cohort):
    # -X importtime writes one line per import to stderr, in order with the --verbose lines
    proc = _run_program(
        *_fit_args(small_cohort, small_cohort / "program", "--verbose"),
        python_args=("-X", "importtime"),
    )
    lines = proc.stderr.splitlines()
    first_iteration = next(i for i, s in enumerate(lines) if "] iteration 1:" in s)
    starts = [i for i, s in enumerate(lines) if "] random start " in s]
    assert len(starts) == 2 and starts[-1] < first_iteration
    stats_imports = [i for i, s in enumerate(lines) if s.rstrip().endswith("scipy.stats._stats_py")]
    assert all(i > first_iteration for i in stats_imports), "scipy.stats ran before iteration 1"
    # the same fit as main() called with a list of arguments (ordinary imports)
    _run_python(
        "import sys; from desurv.cli import main; sys.exit(main(sys.argv[1:]))",
        *map(str, _fit_args(small_cohort, small_cohort / "plain", "--quiet")),
    )
    for name in ("gene_programs.tsv", "coefficients.tsv", "risk_scores.tsv"):
        assert (small_cohort / "program" / name).read_text() == (
            small_cohort / "plain" / name
        ).read_text()


def test_second_run_loads_the_kernels_from_numba_cache_and_none_at_import(small_cohort):
    env = dict(os.environ, NUMBA_DEBUG_CACHE="1")
    args = _fit_args(small_cohort, small_cohort / "run", "--verbose", "--overwrite")
    _run_program(*args, env=env)  # fills the cache if a kernel changed
    err = _run_program(*args, env=env, merge=True).stdout  # Numba prints to stdout
    if "[cache]" not in err:
        pytest.skip("Numba's cache is disabled here (see desurv._numba_cache)")
    before_fit, _, fitting = err.partition("] fitting (")
    assert "[cache]" not in before_fit  # no kernel loaded (or compiled) at start-up
    head = fitting.split("] iteration 1:")[0]
    assert head.count("[cache] data loaded") >= 3
    assert "saved" not in head  # nothing compiled: every kernel came from the cache


def test_deferred_imports_run_a_module_at_its_first_use(tmp_path, monkeypatch):
    from desurv._lazy import deferred_imports

    (tmp_path / "desurv_probe_a.py").write_text("import builtins\nbuiltins.PROBE_A = 1\nX = 2\n")
    (tmp_path / "desurv_probe_b.py").write_text("import builtins\nbuiltins.PROBE_B = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("desurv_probe_a", "desurv_probe_b"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import builtins

    finders = list(sys.meta_path)
    try:
        with deferred_imports(["desurv_probe_a"]) as deferred:
            import desurv_probe_a
            import desurv_probe_b  # noqa: F401
        assert deferred == ["desurv_probe_a"] and sys.meta_path == finders
        assert not hasattr(builtins, "PROBE_A") and builtins.PROBE_B == 1
        assert desurv_probe_a.X == 2 and builtins.PROBE_A == 1  # run at the first use
        with deferred_imports(["desurv_probe_b"], enabled=False) as deferred:
            assert deferred == [] and sys.meta_path == finders
    finally:
        for name in ("PROBE_A", "PROBE_B"):
            if hasattr(builtins, name):
                delattr(builtins, name)
        for name in ("desurv_probe_a", "desurv_probe_b"):
            sys.modules.pop(name, None)
