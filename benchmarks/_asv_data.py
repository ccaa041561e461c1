"""Shared data builders and the one-thread base class of the asv benchmarks.

Everything here is deterministic (fixed seeds) and built with NumPy only, not with
``desurv.datasets``, so that the benchmark data stay identical across the commits asv
compares. Importing this module does no work.
"""

import contextlib
import importlib
import inspect
import warnings

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (load the BLAS that Numba's np.dot uses before the limits)
from threadpoolctl import threadpool_limits

SEED = 0


class OneThreadBenchmark:
    """Base class: BLAS limited to one thread from ``setup`` to ``teardown``.

    asv runs ``setup``, the benchmark and ``teardown`` in the benchmark's own (forked)
    process, so the limit set here is the one in force while timing. Subclasses build their
    data and warm the compiled kernels (one call, so JIT compilation or cache loading is not
    timed) in ``prepare(*params)``. A ``NotImplementedError`` raised there makes asv skip
    that parameter set (e.g. an option the benchmarked commit does not have).
    """

    def setup(self, *params):
        self._blas = threadpool_limits(limits=1)
        self.prepare(*params)

    def teardown(self, *params):
        blas = getattr(self, "_blas", None)  # absent when setup skipped the benchmark
        if blas is not None:
            blas.restore_original_limits()

    def prepare(self, *params):
        """Build the data and warm the kernels (override)."""


@contextlib.contextmanager
def quiet():
    """Silence the ConvergenceWarning of fits that run a fixed number of iterations (tol=0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def accepts(func, name):
    """True when ``func`` takes a keyword ``name`` (options added in later commits)."""
    return name in inspect.signature(func).parameters


# ------------------------------------------------------------------------------ survival
def survival(eta, rng, *, baseline=0.05, censor_rate=0.02, decimals=None):
    """Exponential event times with hazard ``baseline·exp(eta)`` and exponential censoring.

    Returns ``(time, event)`` as float64 and bool arrays of shape (n,). ``decimals`` rounds
    the times so that tied times occur (as in real follow-up data, recorded in days).
    """
    n = eta.shape[0]
    t_event = rng.exponential(1.0 / (baseline * np.exp(eta)))
    t_cens = rng.exponential(1.0 / censor_rate, size=n)
    time = np.minimum(t_event, t_cens)
    if decimals is not None:
        time = np.round(time, decimals)
    return time, t_event <= t_cens


def sorted_survival(n, *, seed=SEED):
    """Time-sorted survival data and a linear predictor, as the Cox kernels take them.

    Returns a dict with ``eta``, ``time``, ``event`` (float64 0/1), all C-contiguous float64
    of shape (n,), times rounded to one decimal so that ties occur.
    """
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=n)
    time, event = survival(eta, rng, decimals=1)
    order = np.argsort(time, kind="stable")
    return {
        "eta": np.ascontiguousarray(eta[order]),
        "time": np.ascontiguousarray(time[order]),
        "event": np.ascontiguousarray(event[order], dtype=np.float64),
    }


def standardized_design(n, k, *, seed=SEED):
    """Standardised covariates Z (n, k), Fortran order, with Cox data generated from them.

    As the β step of the solver sees them: columns centred with sd 1 (ddof = 1), samples
    sorted by time. Returns a dict with ``Z``, ``time``, ``event`` (float64 0/1).
    """
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k))
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)
    beta = np.zeros(k)
    beta[0] = 1.0
    time, event = survival(Z @ beta, rng, decimals=1)
    order = np.argsort(time, kind="stable")
    return {
        "Z": np.asfortranarray(Z[order]),
        "time": np.ascontiguousarray(time[order]),
        "event": np.ascontiguousarray(event[order], dtype=np.float64),
    }


# ---------------------------------------------------------------------------- expression
def expression(p, n, *, k_true=3, seed=SEED):
    """Nonnegative expression X ≈ W H (genes × samples) with survival driven by program 1.

    Returns a dict with ``X`` (p, n) C-contiguous float64 and ``time`` (float64), ``event``
    (bool) of shape (n,). Fixed starts come from :func:`start`.
    """
    rng = np.random.default_rng(seed)
    W = rng.gamma(1.0, 1.0, size=(p, k_true))
    H = rng.gamma(2.0, 0.5, size=(k_true, n))
    X = W @ H + rng.gamma(1.0, 0.1, size=(p, n))
    score = X.T @ W[:, 0]
    eta = 1.5 * (score - score.mean()) / score.std()
    time, event = survival(eta, rng)
    return {"X": np.ascontiguousarray(X), "time": time, "event": event}


def start(p, n, k, *, seed=SEED):
    """A fixed start (W0 (p, k), H0 (k, n)) uniform on [0, 1), so fits skip the multi-start."""
    rng = np.random.default_rng(seed + 1)
    return rng.uniform(size=(p, k)), rng.uniform(size=(k, n))


def factor_sets(n_pairs, p, k, *, seed=SEED):
    """A reference factor set A (p, k) and ``n_pairs`` noisy column permutations of it.

    Returns ``(A, B)`` with B of shape (n_pairs, p, k), C-contiguous float64: the typical
    input when matching the factors of many seeds/folds to a reference.
    """
    rng = np.random.default_rng(seed)
    A = rng.gamma(1.0, 1.0, size=(p, k))
    perms = np.argsort(rng.random((n_pairs, k)), axis=1)
    B = A[:, perms].transpose(1, 0, 2)  # B[b] = A[:, perms[b]]
    B = B * rng.uniform(0.5, 1.5, size=B.shape)
    return A, np.ascontiguousarray(B)


# ---------------------------------------------------------------- multiplicative updates
def optional_module(name):
    """Import ``name``, or return None when the benchmarked commit does not have it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def compiled_kernels(*modules):
    """``{name: module}`` of the public Numba kernels (dispatchers) of ``modules``.

    None entries (modules missing in this commit) are ignored.
    """
    found = {}
    for module in modules:
        if module is None:
            continue
        for name, obj in vars(module).items():
            if hasattr(obj, "py_func") and not name.startswith("_"):
                found.setdefault(name, module)
    return dict(sorted(found.items()))


def record_calls(module, names, run):
    """Run ``run()`` with the kernels ``names`` of ``module`` wrapped; return their last calls.

    Returns ``{name: (kernel, args)}`` with the arguments of the last call of each kernel
    that ``run`` made (the solver's own buffers, by reference). Replaying them times a
    private kernel exactly as the solver calls it, whatever its signature or array layout in
    the commit benchmarked, so these benchmarks need no update when the kernels change.
    Works because callers look kernels up on the module at call time (``_nmf.update_h``).
    """
    calls = {}
    originals = {name: getattr(module, name) for name in names if hasattr(module, name)}

    def recorder(name, kernel):
        def wrapped(*args):
            calls[name] = (kernel, args)
            return kernel(*args)

        return wrapped

    try:
        for name, kernel in originals.items():
            setattr(module, name, recorder(name, kernel))
        run()
    finally:
        for name, kernel in originals.items():
            setattr(module, name, kernel)
    return calls
