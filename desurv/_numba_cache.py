"""A usable Numba cache for desurv's kernels (called before they are decorated).

desurv's Numba kernels use ``njit(cache=True)``. Numba chooses where to cache a function when
it is decorated, trying in turn ``NUMBA_CACHE_DIR``, the ``__pycache__`` folder next to the
source and the user-wide cache (``~/.cache/numba``), and raises ``RuntimeError("cannot cache
function ...: no locator available")`` when none is writable: e.g. a non-root user with a
read-only site-packages and no writable HOME (a container, a CI runner, a cluster node).

:func:`configure` runs when :mod:`desurv._kernels` is imported, before any kernel module, and
makes the same checks without importing Numba in the common case. When none of Numba's own
places is writable it points Numba at a private per-user folder under the temporary directory
(``<tmp>/desurv-numba-cache-<uid>``, mode 0700, owned by the user; ``NUMBA_CACHE_DIR`` is set
so worker processes inherit it). When even that fails, desurv's kernels are compiled without
caching (in every process) and one ``RuntimeWarning`` says so; other code's Numba functions
are left alone.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import warnings

__all__ = ["configure"]

_KERNELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernels")
_PACKAGE = __name__.rpartition(".")[0]  # "desurv"

_state = None  # where the kernels are cached, once configure() has run


def _writable(path):
    """Whether ``path`` exists or can be created, and accepts a new file (as Numba checks)."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except (OSError, ValueError):
        return False
    return True


def _user_wide_dir():
    """Numba's user-wide cache folder (``~/.cache/numba`` on Linux), or None."""
    try:
        from numba.misc.appdirs import AppDirs

        return AppDirs(appname="numba", appauthor=False).user_cache_dir
    except Exception:  # noqa: BLE001 - any failure means: not usable
        return None


def _private_dir():
    """A writable folder private to this user under the temporary directory, or None."""
    try:
        base = tempfile.gettempdir()
    except (OSError, FileNotFoundError):
        return None
    getuid = getattr(os, "getuid", None)
    owner = getuid() if getuid is not None else None
    tag = owner if owner is not None else (os.environ.get("USERNAME") or "user")
    path = os.path.join(base, f"desurv-numba-cache-{tag}")
    try:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        st = os.lstat(path)
        # never load compiled code from a folder another user controls
        safe = stat.S_ISDIR(st.st_mode) and (
            owner is None or (st.st_uid == owner and not st.st_mode & 0o022)
        )
        if safe and _writable(path):
            return path
        path = tempfile.mkdtemp(prefix="desurv-numba-cache-", dir=base)  # 0700, unique
    except OSError:
        return None
    return path if _writable(path) else None


def _use_cache_dir(path):
    os.environ["NUMBA_CACHE_DIR"] = path  # kept by Numba's config reloads; inherited by workers
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = path


def _disable_kernel_caching():
    """Compile desurv's kernels without caching (other Numba functions unchanged)."""
    from numba.core.dispatcher import Dispatcher

    original = Dispatcher.enable_caching
    if getattr(original, "_desurv_uncached", False):
        return

    def enable_caching(self):
        module = getattr(self.py_func, "__module__", "") or ""
        if module == _PACKAGE or module.startswith(_PACKAGE + "."):
            return  # keep Numba's NullCache: compiled in memory only
        original(self)

    enable_caching._desurv_uncached = True
    Dispatcher.enable_caching = enable_caching


def configure():
    """Make sure desurv's ``njit(cache=True)`` kernels can be decorated (see module doc).

    Returns
    -------
    str
        ``"NUMBA_CACHE_DIR"``, ``"in-tree"`` or ``"user-wide"`` (Numba's own choice works), the
        fallback folder now in ``NUMBA_CACHE_DIR``, or ``"uncached"``.
    """
    global _state
    if _state is not None:
        return _state
    user_dir = os.environ.get("NUMBA_CACHE_DIR")
    if user_dir and _writable(user_dir):
        _state = "NUMBA_CACHE_DIR"
    elif _writable(os.path.join(_KERNELS_DIR, "__pycache__")):
        _state = "in-tree"
    else:
        wide = _user_wide_dir()
        if wide is not None and _writable(wide):
            _state = "user-wide"
        else:
            path = _private_dir()
            if path is not None:
                _use_cache_dir(path)
                _state = path
            else:
                _disable_kernel_caching()
                _state = "uncached"
                warnings.warn(
                    "desurv: no writable folder for Numba's cache (NUMBA_CACHE_DIR, the "
                    "package folder, the user cache folder and the temporary folder all "
                    "failed): the compiled kernels are not cached and are recompiled in each "
                    "process; set NUMBA_CACHE_DIR to a writable folder to avoid this",
                    RuntimeWarning,
                    stacklevel=2,
                )
    return _state
