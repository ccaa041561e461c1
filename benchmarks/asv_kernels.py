"""asv benchmarks of the compiled kernels, one behaviour per benchmark, BLAS on one thread.

Classes: the two products with X of an iteration (NumPy/BLAS, the reference cost), every
compiled kernel of the solver loop (private, called as the solver calls them), Cox
risk-set statistics, elastic-net Cox coordinate descent / proximal Newton and the path,
concordance, Hungarian matching. Each ``setup`` builds deterministic data and calls the
kernel once, so Numba compilation or cache loading is never timed.
"""

import numpy as np
from threadpoolctl import threadpool_info

from desurv import fit_desurv
from desurv._kernels import _concordance, _cox, _nmf
from desurv.evaluation.matching import linear_sum_assignment_batched, match_factors_batched
from desurv.survival.concordance import concordance_index
from desurv.survival.coxnet import coxnet_path

from ._asv_data import (
    OneThreadBenchmark,
    compiled_kernels,
    expression,
    factor_sets,
    optional_module,
    quiet,
    record_calls,
    sorted_survival,
    standardized_design,
    start,
    survival,
)

_products = optional_module("desurv._kernels._products")
KERNELS = compiled_kernels(_nmf, _products)
# The parameter list must not depend on the installed commit: asv stores results by
# parameter position, and a list read from the modules (as KERNELS is) shifted every name
# when a commit added kernels (found comparing 2705521 with its successor). These are the
# kernels the α = 0.5 loop calls; one a commit lacks is skipped.
SOLVER_KERNELS = [
    "base_terms", "col_sd", "cross_term", "standardize", "trial_terms", "update_h",
    "w_direction", "w_trial", "x_dot", "xt_dot",
]  # fmt: skip


class BlasThreads(OneThreadBenchmark):
    """Records the BLAS threads seen inside a benchmark (1 when the limit takes effect)."""

    unit = "threads"

    def track_blas_threads(self):
        pools = [p for p in threadpool_info() if p["user_api"] == "blas"]
        return max((p["num_threads"] for p in pools), default=0)


class IterationProducts(OneThreadBenchmark):
    """The two products with X (p genes × n samples) that one DeSurv iteration needs."""

    params = ([500, 2000], [100, 300], [3, 10])
    param_names = ["p", "n", "k"]

    def prepare(self, p, n, k):
        rng = np.random.default_rng(0)
        self.X = np.ascontiguousarray(rng.gamma(1.0, 1.0, size=(p, n)))
        self.W = rng.uniform(size=(p, k))
        self.M = rng.uniform(size=(n, k + 1))  # [Hᵀ | g]
        self.Z = np.empty((n, k))
        self.XM = np.empty((p, k + 1))
        self.time_projection(p, n, k)  # first BLAS call of the process: buffers, page faults
        self.time_numerator(p, n, k)

    def time_projection(self, p, n, k):
        """Z = XᵀW: the H numerator and the Cox covariates."""
        np.dot(self.X.T, self.W, out=self.Z)

    def time_numerator(self, p, n, k):
        """X·[Hᵀ | g]: the W numerator and the Cox gradient term."""
        np.dot(self.X, self.M, out=self.XM)


class CompiledProducts(OneThreadBenchmark):
    """desurv's compiled products with X (``_kernels._products``) in float64 and float32
    storage, and the fused α = 0 W step (both products in one pass), vs the NumPy products
    of :class:`IterationProducts` (issue 16, targets 1 and 7)."""

    params = ([2000], [300], [5, 10], ["float64", "float32"])
    param_names = ["p", "n", "k", "dtype"]

    def prepare(self, p, n, k, dtype):
        if _products is None or not hasattr(_products, "x_dot"):
            raise NotImplementedError("no compiled products in this commit")
        rng = np.random.default_rng(0)
        self.X = np.ascontiguousarray(rng.gamma(1.0, 1.0, size=(p, n))).astype(dtype)
        self.H = rng.uniform(size=(k, n))
        self.Mt = np.vstack([self.H, rng.normal(size=(1, n))])  # [H; gᵀ]
        self.W = rng.uniform(size=(k, p))  # transposed layout
        self.HHt = self.H @ self.H.T
        self.XM = np.empty((k + 1, p))
        self.Z = np.empty((n, k))
        self.V, self.WV, self.VV = np.empty((k, p)), np.empty((k, k)), np.empty((k, k))
        self.time_x_dot(p, n, k, dtype)
        self.time_xt_dot(p, n, k, dtype)
        if hasattr(_products, "w_step"):
            self.time_fused_w_step(p, n, k, dtype)

    def time_x_dot(self, p, n, k, dtype):
        """X·[Hᵀ | g] (transposed): the W numerator and the Cox gradient term."""
        _products.x_dot(self.X, self.Mt, self.XM)

    def time_xt_dot(self, p, n, k, dtype):
        """XᵀVᵀ: the projections of a W-shaped (k, p) array."""
        _products.xt_dot(self.X, self.W, self.Z)

    def time_fused_w_step(self, p, n, k, dtype):
        """α = 0: XHᵀ, the multiplicative step V and XᵀVᵀ in one pass over X."""
        if not hasattr(_products, "w_step"):
            raise NotImplementedError("no fused W step in this commit")
        c = 1.0 / (p * n)
        _products.w_step(self.X, self.H, self.W, self.HHt, c, 0.0, 1e-12, self.V, self.WV,
                         self.VV, self.Z)  # fmt: skip


class SolverKernels(OneThreadBenchmark):
    """Each compiled kernel of the solver loop (private ``desurv._kernels._nmf``: fused
    multiplicative-update passes; ``_products``: the products with X for small k), called
    with the arguments the solver passed it in the last iteration of a short fit (α = 0.5).

    Kernel names are a fixed list (``SOLVER_KERNELS``) and arguments are recorded from the
    solver (``_asv_data.record_calls``), so the benchmark follows changes of signature or
    layout. A kernel the benchmarked commit lacks, or does not call at this size, is skipped.
    """

    params = ([500, 2000], [100, 300], [5], SOLVER_KERNELS)
    param_names = ["p", "n", "k", "kernel"]

    def prepare(self, p, n, k, kernel):
        d = expression(p, n)
        W0, H0 = start(p, n, k)

        def fit():
            with quiet():
                fit_desurv(d["X"], d["time"], d["event"], k, W_init=W0, H_init=H0,
                           alpha=0.5, max_iter=3, tol=0.0, warn=False)  # fmt: skip

        module = KERNELS.get(kernel)
        calls = record_calls(module, [kernel], fit) if module is not None else {}
        if kernel not in calls:
            raise NotImplementedError(f"the solver does not call {kernel} in this commit")
        self.kernel, self.args = calls[kernel]
        self.kernel(*self.args)

    def time_kernel(self, p, n, k, kernel):
        self.kernel(*self.args)


class CoxStats(OneThreadBenchmark):
    """Cox log partial likelihood, gradient and weights in one O(n) pass (sorted data)."""

    params = ([300, 10_000, 100_000], ["breslow", "efron"])
    param_names = ["n", "ties"]

    def prepare(self, n, ties):
        d = sorted_survival(n)
        self.eta, self.time, self.event = d["eta"], d["time"], d["event"]
        self.efron = ties == "efron"
        self.grad, self.weight = np.empty(n), np.empty(n)
        self.time_cox_stats(n, ties)

    def time_cox_stats(self, n, ties):
        _cox.cox_stats(self.eta, self.time, self.event, self.grad, self.weight, self.efron)

    def time_cox_loglik(self, n, ties):
        _cox.cox_loglik(self.eta, self.time, self.event, self.efron)


class CoordinateDescent(OneThreadBenchmark):
    """The β step: elastic-net Cox on standardised Z (n, k) for one λ, from β = 0."""

    params = ([300, 3000], [3, 10])
    param_names = ["n", "k"]
    penalty, l1_ratio, tol, max_iter = 0.05, 0.5, 1e-6, 100

    def prepare(self, n, k):
        d = standardized_design(n, k)
        self.Z, self.time, self.event = d["Z"], d["time"], d["event"]
        self.pf = np.ones(k)
        self.beta = np.zeros(k)
        self.time_coxnet_cd(n, k)
        self.time_coxnet_newton(n, k)

    def _solve(self, solver):
        self.beta[:] = 0.0  # cold start: the kernels update β in place
        solver(
            self.Z,
            self.time,
            self.event,
            self.beta,
            self.penalty,
            self.l1_ratio,
            self.pf,
            self.tol,
            self.max_iter,
            False,
        )

    def time_coxnet_cd(self, n, k):
        self._solve(_cox.coxnet_cd)

    def time_coxnet_newton(self, n, k):
        self._solve(_cox.coxnet_newton)

    def peakmem_coxnet_newton(self, n, k):
        self._solve(_cox.coxnet_newton)


class CoxnetPath(OneThreadBenchmark):
    """Elastic-net Cox path on genes (the CoxNet baseline): 20 λ values, exact Hessian."""

    params = ([100, 300], [500, 2000])
    param_names = ["n", "p"]

    def prepare(self, n, p):
        rng = np.random.default_rng(0)
        self.X = rng.normal(size=(n, p))
        self.time, self.event = survival(self.X[:, :5].sum(axis=1) / 2.0, rng)
        self._path(self.X[:, :10])  # warm the kernels on a small problem

    def _path(self, X):
        with quiet():
            coxnet_path(X, self.time, self.event, n_alphas=20, alpha_min_ratio=0.1)

    def time_coxnet_path(self, n, p):
        self._path(self.X)

    def peakmem_coxnet_path(self, n, p):
        self._path(self.X)


class Concordance(OneThreadBenchmark):
    """Harrell's C: the public function (validation, sort, ranks) and its O(n log n) kernel."""

    params = [1_000, 100_000]
    param_names = ["n"]

    def prepare(self, n):
        d = sorted_survival(n)
        rng = np.random.default_rng(1)
        self.time, self.event = d["time"], d["event"].astype(bool)
        self.risk = np.round(d["eta"] + rng.normal(size=n), 2)  # some tied scores
        order = np.lexsort((~self.event, self.time))
        uniq, ranks = np.unique(self.risk, return_inverse=True)
        self.k_time = np.ascontiguousarray(self.time[order])
        self.k_event = self.event[order].astype(np.int64)
        self.k_rank = (ranks[order] + 1).astype(np.int64)
        self.n_ranks = uniq.shape[0]
        self.time_concordance_index(n)
        self.time_concordance_counts(n)

    def time_concordance_index(self, n):
        concordance_index(self.time, self.event, self.risk)

    def time_concordance_counts(self, n):
        _concordance.concordance_counts(self.k_time, self.k_event, self.k_rank, self.n_ranks)

    def peakmem_concordance_index(self, n):
        concordance_index(self.time, self.event, self.risk)


class Hungarian(OneThreadBenchmark):
    """Batched rectangular linear assignment on random k × k cost matrices."""

    params = ([1_000, 10_000], [5, 10])
    param_names = ["n_pairs", "k"]

    def prepare(self, n_pairs, k):
        self.costs = np.random.default_rng(0).random((n_pairs, k, k))
        linear_sum_assignment_batched(self.costs[:2])

    def time_linear_sum_assignment_batched(self, n_pairs, k):
        linear_sum_assignment_batched(self.costs)

    def peakmem_linear_sum_assignment_batched(self, n_pairs, k):
        linear_sum_assignment_batched(self.costs)


class FactorMatching(OneThreadBenchmark):
    """Cosine matrices plus Hungarian for many factor sets (p = 100 genes) vs one reference."""

    params = ([1_000, 10_000], [5, 10])
    param_names = ["n_pairs", "k"]
    genes = 100

    def prepare(self, n_pairs, k):
        self.A, self.B = factor_sets(n_pairs, self.genes, k)
        match_factors_batched(self.A, self.B[:2])

    def time_match_factors_batched(self, n_pairs, k):
        match_factors_batched(self.A, self.B)

    def peakmem_match_factors_batched(self, n_pairs, k):
        match_factors_batched(self.A, self.B)
