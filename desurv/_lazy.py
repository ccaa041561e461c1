"""PEP 562 lazy exports for the package and its wings.

A wing's ``__init__`` lists its public names and the submodule defining each; a name is
imported on first access, so importing one submodule (or ``desurv`` itself) does not load
the whole wing and its third-party dependencies.
"""

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
