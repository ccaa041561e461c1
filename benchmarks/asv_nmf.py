"""asv benchmarks of plain NMF: each compiled kernel, and NMF.fit per solver / loss.

BLAS on one thread (``OneThreadBenchmark``); data built in ``prepare`` with fixed seeds, and
every kernel called once there so that compilation / cache loading is never timed.
"""

import numpy as np

from desurv._kernels import _nmf_cd, _nmf_mu, _nnls

from ._asv_data import OneThreadBenchmark, quiet

EPS = float(np.finfo(np.float32).eps)


def _factors(n, p, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, 1.0, size=(n, k)) @ rng.gamma(1.0, 1.0, size=(k, p))
    X += rng.uniform(size=(n, p))
    W = rng.uniform(0.1, 1.0, size=(n, k))
    Ht = rng.uniform(0.1, 1.0, size=(p, k))
    return X, W, Ht


class MUFrobeniusPass(OneThreadBenchmark):
    """One Frobenius MU iteration (``fro_step``): W then H, X streamed once (``fused``) or
    the two products in BLAS."""

    params = ([500, 2000], [5, 10], [True, False])
    param_names = ["n", "k", "fused"]

    def prepare(self, n, k, fused):
        X, W, Ht = _factors(n, 300, k)
        self.X, self.W, self.H = X, W, np.ascontiguousarray(Ht.T)
        self.HHt = self.H @ self.H.T
        self.numH = np.empty((k, 300))
        self.D = np.empty((k, 300))
        self.WtW = np.empty((k, k))
        self.time_pass(n, k, fused)

    def time_pass(self, n, k, fused):
        _nmf_mu.fro_step(
            self.X,
            self.W.copy(),
            self.H.copy(),
            self.HHt.copy(),
            (0.0, 0.0, 0.0, 0.0),
            EPS,
            self.numH,
            self.WtW,
            self.D,
            fused,
        )


class MUKLPass(OneThreadBenchmark):
    """Fused KL ratio pass X / max(WH, eps) with the objective's log term."""

    params = ([500, 2000], [False, True])
    param_names = ["n", "want_loss"]

    def prepare(self, n, want_loss):
        self.X, W, Ht = _factors(n, 300, 5)
        self.WH = W @ Ht.T
        self.B = np.empty_like(self.WH)
        self.time_pass(n, want_loss)

    def time_pass(self, n, want_loss):
        self.B[...] = self.WH
        _nmf_mu.kl_ratio(self.X, self.B, EPS, want_loss)


class CDSweep(OneThreadBenchmark):
    """One HALS coordinate sweep of W."""

    params = ([500, 2000], [5, 10])
    param_names = ["n", "k"]

    def prepare(self, n, k):
        X, self.W, Ht = _factors(n, 300, k)
        self.num, self.G = X @ Ht, Ht.T @ Ht
        self.time_sweep(n, k)

    def time_sweep(self, n, k):
        _nmf_cd.hals_sweep(self.W.copy(), self.num, self.G, 0.0, 0.0)


class CDSweepTransposed(OneThreadBenchmark):
    """One HALS coordinate sweep of Wᵀ (k, n), vectorised across the rows (the CD solver's)."""

    params = ([500, 2000], [5, 10])
    param_names = ["n", "k"]

    def prepare(self, n, k):
        X, W, Ht = _factors(n, 300, k)
        self.Wt = np.ascontiguousarray(W.T)
        self.num, self.G = np.ascontiguousarray((X @ Ht).T), Ht.T @ Ht
        self.g = np.empty(n)
        self.time_sweep(n, k)

    def time_sweep(self, n, k):
        _nmf_cd.hals_sweep_t(self.Wt.copy(), self.num, self.G, 0.0, 0.0, self.g)


class BatchedNNLS(OneThreadBenchmark):
    """Active-set NNLS of m samples on a shared Gram matrix (k = 10, p = 96)."""

    params = [1000, 10000]
    param_names = ["m"]

    def prepare(self, m):
        rng = np.random.default_rng(3)
        A = rng.gamma(0.5, 1.0, size=(96, 10))
        B = A @ rng.gamma(0.5, 1.0, size=(10, m)) + 0.1 * rng.uniform(size=(96, m))
        self.G, self.C = A.T @ A, np.ascontiguousarray(A.T @ B)
        self.time_nnls(m)

    def time_nnls(self, m):
        _nnls.nnls_gram(self.G, self.C, 40)


class NMFFit(OneThreadBenchmark):
    """NMF.fit, 50 iterations with tol=0, per solver / loss and size."""

    params = (["cd-frobenius", "mu-frobenius", "mu-kullback-leibler"], [(96, 560), (2000, 300)])
    param_names = ["solver_loss", "shape"]

    def prepare(self, solver_loss, shape):
        from desurv.decomposition import NMF

        solver, loss = solver_loss.split("-", 1)
        self.X, _, _ = _factors(*shape, 5)
        self.model = NMF(5, solver=solver, beta_loss=loss, max_iter=50, tol=0, random_state=0)
        self.time_fit(solver_loss, shape)

    def time_fit(self, solver_loss, shape):
        with quiet():
            self.model.fit(self.X)
