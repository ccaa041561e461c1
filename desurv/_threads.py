"""BLAS thread limits for a block of code (private base module, layer 0)."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def blas_threads(n_threads):
    """BLAS limited to ``n_threads`` threads inside the block (None: left alone).

    Parameters
    ----------
    n_threads : int or None
        Threads of the BLAS libraries loaded in the process (``threadpoolctl``); None
        leaves them as they are.
    """
    if n_threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n_threads), user_api="blas"):
        yield
