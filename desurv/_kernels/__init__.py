"""Compiled hot loops (Cython and Numba). No validation happens here: callers check inputs.

Before any kernel module is imported (and its ``njit(cache=True)`` functions decorated),
:func:`desurv._numba_cache.configure` makes sure Numba has a writable cache folder, falling
back to a private temporary folder, or to uncached kernels with one warning.
"""

from desurv._numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
