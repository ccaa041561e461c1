"""PEP 562 lazy exports for the package and its wings, and deferred third-party imports.

A wing's ``__init__`` lists its public names and the submodule defining each; a name is
imported on first access, so importing one submodule (or ``desurv`` itself) does not load
the whole wing and its third-party dependencies (:func:`lazy_exports`).
:func:`deferred_imports` postpones modules that a dependency imports but the command line
does not use (``scipy.stats`` under scikit-learn).
"""

from contextlib import contextmanager
from importlib import import_module


def lazy_exports(package, names, submodules=()):
    """Return ``(__getattr__, __dir__)`` for a package exporting ``names`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : dict of str -> str
        Public name -> submodule that defines it, relative to ``package`` or absolute
        (``"desurv._folds"``) for a name re-exported from a lower layer.
    submodules : iterable of str
        Submodules reachable as attributes without an explicit import.
    """
    submodules = frozenset(submodules)
    namespace = import_module(package).__dict__

    def __getattr__(name):
        if name in names:
            module = names[name]
            if not module.startswith("desurv."):  # relative to the package
                module = f"{package}.{module}"
            value = getattr(import_module(module), name)
        elif name in submodules:
            value = import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later look-ups are plain attribute reads
        return value

    def __dir__():
        return sorted(set(namespace) | set(names) | submodules)

    return __getattr__, __dir__


# ----------------------------------------------------------------------------- deferral
class _DeferringFinder:
    """Meta-path finder giving the modules in ``names`` a :class:`importlib.util.LazyLoader`
    (each only the first time it is imported while the finder is installed)."""

    def __init__(self, names):
        self.names = set(names)
        self.deferred = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        self.names.discard(fullname)
        import importlib.util
        import sys

        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec  # namespace package or legacy loader: imported as usual
        spec.loader = importlib.util.LazyLoader(spec.loader)
        self.deferred.append(fullname)
        return spec


@contextmanager
def deferred_imports(names, enabled=True):
    """Within the block, modules in ``names`` imported by other packages are executed only
    when one of their attributes is first used.

    For the command line's start-up: scikit-learn imports ``scipy.stats`` (about a third of
    a fit's import time) when it is itself imported, but a fit never uses it. A deferred
    module is an ordinary module from its first attribute access on (any later ``import``
    of it counts as one: the import system reads ``__spec__``), so nothing changes but when
    the work is done. Modules already imported, and modules imported after the block, are
    not affected.

    Meant for a process that is the ``desurv`` command: on Python < 3.12 the first access
    to a deferred module is not safe from two threads at once (CPython gh-114763).

    Parameters
    ----------
    names : iterable of str
        Full module names (``"scipy.stats"``).
    enabled : bool, default True
        False: do nothing (the block runs with ordinary imports).

    Yields
    ------
    deferred : list of str
        Filled with the names that were given a lazy loader.
    """
    import sys

    if not enabled:
        yield []
        return
    finder = _DeferringFinder(name for name in names if name not in sys.modules)
    sys.meta_path.insert(0, finder)
    try:
        yield finder.deferred
    finally:
        sys.meta_path.remove(finder)
