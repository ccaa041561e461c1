"""Every asv benchmark runs: its setup and one call with the first parameter combination.

asv itself is not needed (the classes are plain Python); this keeps the regression
benchmarks from rotting when a kernel's signature changes. Timing is asv's job, not ours.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("asv_*.py"))
_PREFIXES = ("time_", "peakmem_", "mem_", "track_")


def _benchmarks_package():
    """Import ``benchmarks`` from the repository without putting the repository on sys.path:
    a repository root on sys.path would make worker processes of later tests (joblib/loky
    copy sys.path) import desurv from the source tree instead of the installed package."""
    if "benchmarks" not in sys.modules:
        init = ROOT / "benchmarks" / "__init__.py"
        spec = importlib.util.spec_from_file_location(
            "benchmarks", init, submodule_search_locations=[str(init.parent)]
        )
        package = importlib.util.module_from_spec(spec)
        sys.modules["benchmarks"] = package
        spec.loader.exec_module(package)


def _cases():
    _benchmarks_package()
    for name in MODULES:
        module = importlib.import_module(f"benchmarks.{name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for meth in sorted(m for m in dir(cls) if m.startswith(_PREFIXES)):
                yield pytest.param(cls, meth, id=f"{name}.{cls_name}.{meth}")


def _first_params(cls):
    params = getattr(cls, "params", None)
    if params is None:
        return ()
    names = getattr(cls, "param_names", None)
    if (
        names
        and len(names) > 1
        or (
            isinstance(params, tuple | list)
            and params
            and isinstance(params[0], list | tuple)
            and names
            and len(names) == len(params)
        )
    ):
        return tuple(p[0] for p in params)
    return (params[0],)


@pytest.mark.parametrize(("cls", "meth"), list(_cases()))
def test_asv_benchmark_runs(cls, meth):
    args = _first_params(cls)
    bench = cls()
    if hasattr(bench, "setup"):
        bench.setup(*args)
    try:
        getattr(bench, meth)(*args)
    finally:
        if hasattr(bench, "teardown"):
            bench.teardown(*args)


def test_every_new_kernel_has_an_asv_benchmark():
    text = "\n".join((ROOT / "benchmarks" / f"{m}.py").read_text() for m in MODULES)
    for kernel in ("_nmf_mu", "_nmf_cd", "_nnls", "_products", "_cox"):
        assert kernel in text, f"no asv benchmark calls desurv._kernels.{kernel}"
    assert "NMF" in text and "fit_desurv" in text  # estimator fits of the plain NMF and DeSurv


def test_scripts_beside_the_asv_suite_hold_nothing_asv_would_collect():
    """asv imports every module of benchmarks/ and runs any top-level function, or method of
    a top-level class, named time_*, peakmem_*, ... (signatures_speed.time_to_tol was run, and
    failed, as a benchmark). Only asv_*.py may hold such names."""
    import ast

    prefixes = (*_PREFIXES, "timeraw_")
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        if path.stem.startswith("asv_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [node.name]
            elif isinstance(node, ast.ClassDef):
                names = [
                    f"{node.name}.{n.name}" for n in node.body if isinstance(n, ast.FunctionDef)
                ]
            bad = [n for n in names if n.split(".")[-1].startswith(prefixes)]
            assert not bad, f"{path.name}: asv would collect {bad}; rename them"


def test_solver_kernel_parameters_do_not_depend_on_the_installed_commit():
    """asv stores results by parameter position: a list read from the installed modules
    would shift every kernel name between commits that add kernels."""
    _benchmarks_package()
    module = importlib.import_module("benchmarks.asv_kernels")
    names = module.SolverKernels.params[-1]
    assert names is module.SOLVER_KERNELS and names == sorted(names)
    assert set(names) <= set(module.KERNELS)  # every listed kernel exists in this commit
