"""Scaffolding shared by the speed scripts (``supervised_speed.py``, ``unfolded_speed.py``,
``coxmt_speed.py``, ``family_kernels.py``): paths, timing, BLAS on one thread, the report.

Timing on a shared machine: only ratios of timings taken in the same process mean
anything, so :func:`interleaved` times several functions in turn, repetition after
repetition, and returns the median of each (a load spike then hits all of them alike).
Importing this module does no work.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
#: the mutational catalogues of the shared data (``../shared/data/mutational``)
MUT = HERE.parent.parent / "shared" / "data" / "mutational"
RESULTS = HERE / "results"


# ----------------------------------------------------------------------------- timing
def median_time(fn, repeats, *, warmup=False):
    """``(median seconds, last result)`` of ``repeats`` calls of ``fn``.

    ``warmup``: one untimed call first (compilation, cache loading, first-touch memory).
    """
    out = fn() if warmup else None
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def loop(calls, n):
    """A function running every call of ``calls`` once per pass, ``n`` passes."""

    def run():
        for _ in range(n):
            for f in calls:
                f()

    return run


#: the clocks of :func:`interleaved`: wall time, or the CPU time of the calling thread (on a
#: shared machine the time the thread actually ran; BLAS on one thread and the compiled
#: kernels run in the calling thread)
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def interleaved(fns, repeats, *, min_seconds=0.01, warmup=True, clock="wall"):
    """Median seconds per call of every function of ``fns``, timed in turn.

    Parameters
    ----------
    fns : dict {name: callable}
        Functions of no argument.
    repeats : int
        Timed samples of each function; in each round every function is sampled once, in
        the order of ``fns``.
    min_seconds : float
        Each sample runs the function ``n`` times in a row, ``n`` chosen once (from the
        warm-up call) so that a sample lasts at least this long; the sample's time is
        divided by ``n``.
    warmup : bool
        One untimed call of each function first.
    clock : {"wall", "cpu"}
        ``time.perf_counter`` or ``time.thread_time`` (see :data:`CLOCKS`).

    Returns
    -------
    dict {name: float}
        Median seconds of one call.
    """
    reps = {}
    for name, fn in fns.items():
        t0 = time.perf_counter()
        if warmup:
            fn()
        t = time.perf_counter() - t0
        reps[name] = max(1, int(np.ceil(min_seconds / t))) if warmup and t > 0 else 1
    now = CLOCKS[clock]
    samples = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            n = reps[name]
            t0 = now()
            for _ in range(n):
                fn()
            samples[name].append((now() - t0) / n)
    return {name: float(np.median(v)) for name, v in samples.items()}


# ----------------------------------------------------------------------------- BLAS
@contextlib.contextmanager
def one_blas_thread():
    """Every BLAS library on one thread inside the block (threadpoolctl).

    SciPy's BLAS (``scipy.linalg.cython_blas``, the one Numba's ``np.dot`` calls, another
    OpenBLAS than NumPy's) is loaded first: threadpoolctl limits only libraries already
    loaded when the limit is set.
    """
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def blas_libraries():
    """``"libname (n thread(s)), ..."`` of the BLAS libraries loaded now."""
    from threadpoolctl import threadpool_info

    return ", ".join(
        f"{Path(d['filepath']).name} ({d['num_threads']} thread(s))"
        for d in threadpool_info()
        if d["user_api"] == "blas"
    )


# ----------------------------------------------------------------------------- data
def synthetic_catalogue(n, k, *, p=96, seed=0, mutations=1000.0):
    """Poisson counts from k Dirichlet(0.3) signatures and gamma(0.5) exposures.

    The exposures have mean ``mutations / k`` per signature (``mutations`` per genome on
    average). Draws: signatures, exposures, counts, from ``default_rng(seed)``.

    Returns ``(X (n, p) float64 counts, S (k, p) signatures, rows summing to 1)``.
    """
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k)
    E = rng.gamma(0.5, 2.0 * mutations / k, size=(n, k))
    return rng.poisson(E @ S).astype(np.float64), S


# ----------------------------------------------------------------------------- report
def load_average():
    """``os.getloadavg()`` rounded to 2 decimals."""
    return tuple(round(x, 2) for x in os.getloadavg())


def command(script, argv=None):
    """The command line that reproduces this run: ``python benchmarks/<script> <args>``."""
    argv = sys.argv[1:] if argv is None else argv
    return f"python benchmarks/{script} {shlex.join(argv)}".rstrip()


def fmt(v):
    """Four significant digits (the tables' float format)."""
    return f"{v:.4g}"


@contextlib.contextmanager
def report(out):
    """Capture what the block prints, then write it to ``out`` (directories created) and
    print it. Yields nothing; use ``print`` inside."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        yield
    text = buf.getvalue()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
