"""asv benchmarks of one DeSurv fit (``desurv.fit_desurv``), BLAS on one thread.

Every fit starts from the same fixed W0, H0 (no random multi-start, no NNLS for H) and runs
exactly ``ITERS`` outer iterations (``tol=0``), so time / ITERS is the cost of one
iteration plus the once-per-fit work (input checks, sort, final β refit).
``FitAccelerated`` also times one accelerated fit to |ΔF|/F ≤ 1e-6 (time to solution,
``desurv._kernels._desurv_accel``); ``FitSemiSupervised`` adds 100 unlabelled samples.
"""

import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

from desurv import fit_desurv

from ._asv_data import OneThreadBenchmark, accepts, expression, quiet, start

ITERS = 50


class _FitBase(OneThreadBenchmark):
    options = {}  # extra fit_desurv options of every fit of the class, warm-up included

    def prepare(self, p, n, k):
        d = expression(p, n)
        self.X, self.time, self.event = d["X"], d["time"], d["event"]
        self.W0, self.H0 = start(p, n, k)
        self.k = k
        self.fit(max_iter=2)  # warm the compiled kernels

    def fit(self, max_iter=ITERS, **options):
        with quiet():
            return fit_desurv(
                self.X,
                self.time,
                self.event,
                self.k,
                W_init=self.W0,
                H_init=self.H0,
                max_iter=max_iter,
                tol=0.0,
                warn=False,
                **self.options,
                **options,
            )


class Fit(_FitBase):
    """Supervised fit (α = 0.5, λ = 0.1, ξ = 0.5): ITERS iterations."""

    params = ([500, 2000], [100, 300], [3, 5, 10])
    param_names = ["p", "n", "k"]

    def time_fit(self, p, n, k):
        self.fit(alpha=0.5)


class FitVariants(_FitBase):
    """Plain NMF iterations (α = 0), peak memory and allocations relative to X."""

    params = ([500, 2000], [100, 300], [5])
    param_names = ["p", "n", "k"]

    def time_fit_alpha0(self, p, n, k):
        self.fit(alpha=0.0)

    def peakmem_fit(self, p, n, k):
        self.fit(alpha=0.5)

    def track_alloc_over_X(self, p, n, k):
        """Peak NumPy allocations during the fit (tracemalloc) divided by the size of X."""
        tracemalloc.start()
        try:
            self.fit(alpha=0.5)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return peak / self.X.nbytes

    track_alloc_over_X.unit = "x size of X"


class FitDtype(_FitBase):
    """float64 vs float32 X (skipped on commits whose ``fit_desurv`` has no ``dtype``)."""

    params = ([2000], [300], [5], ["float64", "float32"])
    param_names = ["p", "n", "k", "dtype"]

    def setup(self, p, n, k, dtype):
        if not accepts(fit_desurv, "dtype"):
            raise NotImplementedError("fit_desurv has no dtype option in this commit")
        self.options = {"dtype": dtype}  # float32 compiles its own kernel variants: warm them
        super().setup(p, n, k)

    def time_fit(self, p, n, k, dtype):
        self.fit(alpha=0.5)

    def peakmem_fit(self, p, n, k, dtype):
        self.fit(alpha=0.5)


class FitAccelerated(_FitBase):
    """``acceleration="extrapolation"`` (issue 16, target 3; skipped on commits without it).

    ``time_fit``: ITERS accelerated iterations (compare ``Fit.time_fit``: the per-iteration
    cost of the extra H updates and the extrapolation trial). ``time_fit_to_tol``: one
    accelerated fit from the fixed start to |ΔF|/F ≤ 1e-6 (time to solution), with its
    iterations and passes over X tracked.
    """

    params = ([2000], [300], [5])
    param_names = ["p", "n", "k"]

    def setup(self, p, n, k):
        if not accepts(fit_desurv, "acceleration"):
            raise NotImplementedError("fit_desurv has no acceleration option in this commit")
        self.options = {"acceleration": "extrapolation"}
        super().setup(p, n, k)

    def _to_tol(self):
        with quiet():
            return fit_desurv(self.X, self.time, self.event, self.k, W_init=self.W0,
                              H_init=self.H0, max_iter=5000, tol=1e-6, warn=False, alpha=0.5,
                              **self.options)  # fmt: skip

    def time_fit(self, p, n, k):
        self.fit(alpha=0.5)

    def time_fit_to_tol(self, p, n, k):
        self._to_tol()

    def track_iterations_to_tol(self, p, n, k):
        return self._to_tol().n_iter

    track_iterations_to_tol.unit = "iterations"

    def track_passes_over_X_to_tol(self, p, n, k):
        """Rows of X read by the products (desurv.deconvolution._loop) / genes."""
        from desurv.deconvolution import solver

        seen = []
        base = solver._Problem

        class Counting(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                seen.append(self)

        solver._Problem = Counting
        try:
            self._to_tol()
        finally:
            solver._Problem = base
        return seen[-1].rows_read / p

    track_passes_over_X_to_tol.unit = "passes"


class FitSemiSupervised(_FitBase):
    """Semi-supervised DeSurv (METHODS.md §F.5): 300 labelled + 100 unlabelled samples,
    ITERS iterations (time / ITERS ≈ one iteration; skipped on commits without
    ``X_unlabeled``)."""

    params = ([2000], [300], [100], [5])
    param_names = ["p", "n", "n_unlabeled", "k"]

    def setup(self, p, n, n_unlabeled, k):
        if not accepts(fit_desurv, "X_unlabeled"):
            raise NotImplementedError("fit_desurv has no X_unlabeled option in this commit")
        self._blas = threadpool_limits(limits=1)
        d = expression(p, n + n_unlabeled)
        self.X = np.ascontiguousarray(d["X"][:, :n])
        self.time, self.event = d["time"][:n], d["event"][:n]
        self.options = {"X_unlabeled": np.ascontiguousarray(d["X"][:, n:])}
        self.W0, self.H0 = start(p, n + n_unlabeled, k)
        self.k = k
        self.fit(max_iter=2)  # warm the compiled kernels

    def time_fit(self, p, n, n_unlabeled, k):
        self.fit(alpha=0.5)
