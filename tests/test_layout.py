"""The package layout of DESIGN §4: imports only go down the wings, and no import circle.

Every ``import`` statement counts, also those inside functions (lazy imports): a lazy
import that goes up is still a dependency that goes up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "desurv"

# layer of each module prefix (the longest matching prefix wins); lower layers never import
# higher ones
LAYERS = {
    "desurv.exceptions": 0,
    "desurv._lazy": 0,
    "desurv._numba_cache": 0,
    "desurv._progress": 0,
    "desurv._output": 0,
    "desurv._validation": 0,
    "desurv._folds": 0,
    "desurv._threads": 0,
    "desurv._kernels": 0,
    "desurv._reference": 1,
    "desurv.survival": 2,
    "desurv.decomposition": 2,
    "desurv.preprocessing": 2,
    "desurv.deconvolution": 3,
    "desurv.datasets": 4,
    "desurv.model_selection": 4,
    "desurv.evaluation": 4,
    "desurv.benchmark": 4,
    "desurv.signatures": 4,
    "desurv._anndata": 4,
    "desurv.reporting": 5,
    "desurv.cli": 6,
}


def _module_name(path):
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _imports(path, name, known):
    """desurv modules imported anywhere in the file (resolved to existing modules)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" for a in node.names] + [mod]
        for t in targets:
            if not t.startswith("desurv"):
                continue
            # the longest existing module that t names (``desurv.x.func`` -> ``desurv.x``)
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t != "desurv":
                out.add(t)
    return out


def _layer(mod):
    best = None
    for prefix, layer in LAYERS.items():
        if (mod == prefix or mod.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, layer)
    return None if best is None else best[1]


def _graph():
    mods = _modules()
    return {name: _imports(path, name, mods) for name, path in mods.items()}


def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m != "desurv" and _layer(m) is None]
    assert not missing, f"modules without a layer in DESIGN §4 (add them to LAYERS): {missing}"


def test_imports_only_go_down():
    upward = []
    for mod, deps in _graph().items():
        if mod == "desurv":  # the lazy public namespace points everywhere by design
            continue
        for dep in deps:
            if _layer(dep) > _layer(mod):
                upward.append(f"{mod} (layer {_layer(mod)}) imports {dep} (layer {_layer(dep)})")
    assert not upward, "\n".join(sorted(upward))


def test_no_import_circles():
    graph = {m: {d for d in deps if d != "desurv"} for m, deps in _graph().items()}
    # a package's __init__ re-exporting its own submodules is not a circle of code
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not m.startswith(d + ".")}
    seen, stack, cycles = set(), [], []

    def visit(node, on_path):
        if node in on_path:
            cycles.append(stack[stack.index(node) :] + [node])
            return
        if node in seen:
            return
        on_path.add(node)
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            visit(dep, on_path)
        stack.pop()
        on_path.discard(node)
        seen.add(node)

    for m in sorted(graph):
        visit(m, set())
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("old", ["solver.py", "_solver.py", "validation.py", "cli.py", "io.py"])
def test_flat_modules_are_gone(old):
    assert not (PKG / old).exists()


def test_every_kernel_module_has_a_numpy_twin_of_the_same_name():
    kernels = {
        p.stem.lstrip("_")
        for p in (PKG / "_kernels").iterdir()
        if p.suffix in (".py", ".pyx") and p.stem != "__init__"
    }
    twins = {p.stem for p in (PKG / "_reference").glob("*.py") if p.stem != "__init__"}
    assert kernels <= twins, f"kernel modules without a twin in _reference/: {kernels - twins}"


def _desurv_file():
    import desurv

    return desurv.__file__


def test_worker_processes_import_the_same_desurv():
    """joblib/loky workers copy the parent's sys.path: nothing in the tests may put the
    source tree before the installed package (CI installs a wheel; the source tree has no
    compiled Cython extension)."""
    from joblib import Parallel, delayed

    import desurv

    files = Parallel(n_jobs=2, backend="loky")(delayed(_desurv_file)() for _ in range(2))
    assert set(files) == {desurv.__file__}
