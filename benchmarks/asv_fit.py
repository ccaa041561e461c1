"""asv benchmarks of one DeSurv fit (``desurv.fit_desurv``), BLAS on one thread.

Every fit starts from the same fixed W0, H0 (no random multi-start, no NNLS for H) and runs
exactly ``ITERS`` outer iterations (``tol=0``), so time / ITERS is the cost of one
iteration plus the once-per-fit work (input checks, sort, final β refit).
"""

import tracemalloc

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
