"""Threads for one fit (private base module, layer 0).

* :func:`blas_threads`: BLAS limited to some threads for a block of code (threadpoolctl).
* :func:`x_dot` / :func:`xt_dot`: desurv's compiled products with X
  (``desurv._kernels._products``) split by rows of X over several threads. The kernels
  release the GIL, so plain Python threads run them in parallel; every thread streams its
  own block of rows of X (and, for XᵀV, fills a private (k, n) accumulator that the caller's
  thread adds up), so two threads also draw on twice the memory bandwidth of one core. The
  split depends only on the shapes and ``n_threads``, never on timing: results are
  deterministic for a given ``n_threads``. For small products (below
  :data:`MIN_THREADED_WORK` multiply-adds) the thread hand-over costs more than it saves and
  one thread does everything.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

#: multiply-adds of one product below which it runs on the calling thread only (a hand-over
#: to a worker costs ~20-50 µs; 5e6 multiply-adds take ~0.3 ms on one core)
MIN_THREADED_WORK = 5_000_000
#: row blocks start at multiples of this (the kernels work on 3 or 4 rows at a time)
_ALIGN = 12

_pools = {}
_pools_lock = threading.Lock()


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
    # threadpoolctl limits only the BLAS libraries already loaded: load scipy's (a separate
    # OpenBLAS in wheels) now, or a lazy import inside the fit would escape the limit
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n_threads), user_api="blas"):
        yield


def _pool(n_workers):
    """The process-wide pool of ``n_workers`` worker threads (created on first use)."""
    with _pools_lock:
        pool = _pools.get(n_workers)
        if pool is None:
            from concurrent.futures import ThreadPoolExecutor

            pool = _pools[n_workers] = ThreadPoolExecutor(
                max_workers=n_workers, thread_name_prefix="desurv-products"
            )
        return pool


def row_blocks(p, n_blocks):
    """Boundaries (n_blocks + 1,) of ``n_blocks`` contiguous row ranges of about equal size.

    Inner boundaries are multiples of 12, so that every block but the last is made of whole
    3- and 4-row register blocks of the kernels; empty ranges are possible for small p.
    """
    n_blocks = max(1, int(n_blocks))
    inner = [min(p, int(round(p * b / n_blocks / _ALIGN)) * _ALIGN) for b in range(1, n_blocks)]
    return [0, *inner, p]


def _n_used(n_threads, work):
    n_threads = 1 if n_threads is None else max(1, int(n_threads))
    return 1 if work < MIN_THREADED_WORK else n_threads


def _on_blocks(run, used):
    """``run(b)`` for the row blocks b = 0 .. used-1: blocks 1.. on the pool, block 0 on the
    calling thread meanwhile. Returns the results in block order."""
    pool = _pool(used - 1)
    futures = [pool.submit(run, b) for b in range(1, used)]
    first = run(0)
    return [first, *(fut.result() for fut in futures)]


def x_dot(X, Mt, out, n_threads):
    """out (m, p) ← Mt·Xᵀ with the rows of X split over ``n_threads`` threads.

    Same arguments and result as ``desurv._kernels._products.x_dot`` (X (p, n) C-ordered
    float64 or float32, Mt (m, n) float64, out (m, p) float64); every thread writes its own
    columns of ``out``. Returns ``out``.
    """
    from desurv._kernels import _products

    p, n = X.shape
    used = _n_used(n_threads, p * n * Mt.shape[0])
    if used == 1:
        return _products.x_dot(X, Mt, out)
    bounds = row_blocks(p, used)
    _on_blocks(lambda b: _products.x_dot_rows(X, Mt, out, bounds[b], bounds[b + 1]), used)
    return out


def xt_dot(X, V, out, n_threads):
    """out (n, k) ← XᵀVᵀ with the rows of X split over ``n_threads`` threads.

    Same arguments and result as ``desurv._kernels._products.xt_dot`` (X (p, n) C-ordered
    float64 or float32, V (k, p) float64, out (n, k) float64). Each thread sums its rows'
    share into a private (k, n) float64 accumulator; the calling thread adds them in block
    order. Returns ``out``.
    """
    from desurv._kernels import _products

    p, n = X.shape
    k = V.shape[0]
    used = _n_used(n_threads, p * n * k)
    if used == 1:
        return _products.xt_dot(X, V, out)
    bounds = row_blocks(p, used)
    accs = [np.zeros((k, n)) for _ in range(used)]
    _on_blocks(lambda b: _products.xt_acc_rows(X, V, accs[b], bounds[b], bounds[b + 1]), used)
    acc = accs[0]
    for a in accs[1:]:
        acc += a
    out[...] = acc.T
    return out


def w_step(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, B, n_threads):
    """The fused α = 0 W step of ``desurv._kernels._products.w_step`` over ``n_threads``.

    Same arguments and outputs (V (k, p), WV, VV (k, k), B (n, k); returns ‖G_nmf‖). Each
    thread handles a block of genes: it writes its columns of V and sums its share of B, WV,
    VV and ‖G_nmf‖² privately; the calling thread adds them in block order.
    """
    from desurv._kernels import _products

    p, n = X.shape
    k = W.shape[0]
    used = _n_used(n_threads, 2 * p * n * k)
    if used == 1:
        return _products.w_step(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, B)
    bounds = row_blocks(p, used)
    parts = [(np.zeros((k, n)), np.zeros((k, k)), np.zeros((k, k))) for _ in range(used)]

    def run(b):
        acc, wv, vv = parts[b]
        return _products.w_step_rows(
            X, H, W, HHt, c_nmf, ridge_w, eps, V, wv, vv, acc, bounds[b], bounds[b + 1]
        )

    gn2s = _on_blocks(run, used)
    gn2 = gn2s[0] + sum(gn2s[1:])
    acc, wv, vv = parts[0]
    for a, w, v in parts[1:]:
        acc += a
        wv += w
        vv += v
    B[...] = acc.T
    WV[...] = wv
    VV[...] = vv
    return float(np.sqrt(gn2))
