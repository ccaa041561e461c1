"""asv benchmarks of the mutational-signature family: convex NMF, AE-NMF and batched NNLS.

One iteration of each method (``ConvexNMF`` Frobenius / KL: the update loop of
``desurv.decomposition.convex`` with its compiled ``_convex`` and ``_nmf_mu`` kernels;
``AENMF`` fp-abs Frobenius / KL: one full-batch Adam step of ``fit_aenmf`` with the
``_aenmf`` kernels), the public ``fit`` for 20 iterations, and the batched NNLS refit
(``desurv.decomposition.nnls``) of every genome, at the two sizes of the issue:
96 channels × 560 genomes with k = 12 (the size of brca560) and 96 × 2,700 with k = 21 (the
size of SynSig ``syn.many.types``).

Data are synthetic and deterministic (NumPy only, fixed seeds), so they stay identical
across the commits asv compares: Poisson counts from k Dirichlet(0.3) signatures and gamma
exposures (about 2,000 mutations per genome). BLAS on one thread (``OneThreadBenchmark``);
every path is run once in ``prepare`` so that compilation / cache loading is never timed. A
commit without the estimators skips the benchmarks (``NotImplementedError``).
"""

import numpy as np

from ._asv_data import OneThreadBenchmark, optional_module, quiet

#: "channels x genomes, k" -> (n_genomes, k)
SIZES = {"96x560-k12": (560, 12), "96x2700-k21": (2700, 21)}
LOSSES = ["frobenius", "kullback-leibler"]


def catalogue(n, k, *, p=96, seed=0):
    """Synthetic catalogue X (n genomes × p channels, float64 counts) and its signatures
    S (p, k): Dirichlet(0.3) signatures, gamma(0.5) exposures, Poisson counts."""
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k).T
    E = rng.gamma(0.5, 2000.0 / (0.5 * k), size=(n, k))
    X = rng.poisson(E @ S.T).astype(np.float64)
    return np.ascontiguousarray(X), np.ascontiguousarray(S)


def _module(name):
    mod = optional_module(name)
    if mod is None:
        raise NotImplementedError(f"{name} is not in this commit")
    return mod


class ConvexNMFIteration(OneThreadBenchmark):
    """One convex-NMF update from a fixed random start (the solver loop with max_iter=1:
    the products, the fused square-root (Frobenius) or KL ratio passes, the objective)."""

    params = (LOSSES, list(SIZES))
    param_names = ["loss", "size"]

    def prepare(self, loss, size):
        self.convex = _module("desurv.decomposition.convex")
        n, k = SIZES[size]
        self.X, _ = catalogue(n, k)
        rng = np.random.default_rng(1)
        self.W1, self.G = rng.uniform(size=(n, k)), rng.uniform(size=(n, k))
        self.time_iteration(loss, size)

    def time_iteration(self, loss, size):
        W1, G = self.W1.copy(), self.G.copy()
        if loss == "frobenius":
            self.convex._fit_frobenius(self.X, W1, G, update="simultaneous", max_iter=1, tol=0.0)
        else:
            self.convex._fit_kl(self.X, W1, G, max_iter=1, tol=0.0)


class AENMFIteration(OneThreadBenchmark):
    """One full-batch Adam step of AE-NMF (fp-abs) from a fixed random start: loss and
    gradient by BLAS products plus the fused compiled Adam pass."""

    params = (LOSSES, list(SIZES))
    param_names = ["loss", "size"]

    def prepare(self, loss, size):
        self.aenmf = _module("desurv.decomposition.aenmf")
        n, k = SIZES[size]
        self.X, _ = catalogue(n, k)
        self.W = np.random.default_rng(1).uniform(size=(n, 2 * k))
        self.time_iteration(loss, size)

    def time_iteration(self, loss, size):
        self.aenmf.fit_aenmf(
            self.X, self.W, constraint="fp-abs", beta_loss=loss, max_iter=1, tol=0.0
        )


class SignatureFit(OneThreadBenchmark):
    """The public ``fit`` of ConvexNMF / AENMF for 20 iterations (tol=0), set-up included."""

    params = (
        [
            "convex-frobenius",
            "convex-kullback-leibler",
            "aenmf-frobenius",
            "aenmf-kullback-leibler",
        ],
        list(SIZES),
    )
    param_names = ["method", "size"]

    def prepare(self, method, size):
        dec = _module("desurv.decomposition")
        name, loss = method.split("-", 1)
        cls = getattr(dec, "ConvexNMF" if name == "convex" else "AENMF", None)
        if cls is None:
            raise NotImplementedError(f"{method} is not in this commit")
        n, k = SIZES[size]
        self.X, _ = catalogue(n, k)
        self.model = cls(k, beta_loss=loss, max_iter=20, tol=0.0, random_state=0)
        self.time_fit(method, size)

    def time_fit(self, method, size):
        with quiet():
            self.model.fit(self.X)


class SignatureNNLS(OneThreadBenchmark):
    """Exact NNLS exposures of every genome with the k signatures fixed (the refit of the
    test genomes): one shared Gram matrix, compiled active set per genome."""

    params = list(SIZES)
    param_names = ["size"]

    def prepare(self, size):
        dec = _module("desurv.decomposition")
        self.nnls = getattr(dec, "nnls", None)
        if self.nnls is None:
            raise NotImplementedError("desurv.decomposition.nnls is not in this commit")
        n, k = SIZES[size]
        X, S = catalogue(n, k)
        self.A, self.B = S, np.ascontiguousarray(X.T)
        self.time_nnls(size)

    def time_nnls(self, size):
        self.nnls(self.A, self.B)


class FactorMatchingPairs(OneThreadBenchmark):
    """Batched cosine matching of 500 pairs of factor sets with 2,000 genes and k = 10 (one
    reference per pair, as the consensus / stability of many fits; the shape of target 5c of
    ``benchmarks/compare.py``, which uses 2,000 pairs): one compiled call, one pass over each
    pair's genes on AVX-512 machines (a BLAS product per pair elsewhere). Each pair is a noisy
    column permutation of a gamma(1, 1) factor set."""

    params = [2000]
    param_names = ["genes"]
    n_pairs = 500

    def prepare(self, genes):
        from desurv.evaluation.matching import match_factors_batched

        rng = np.random.default_rng(5)
        k = 10
        self.A = rng.gamma(1.0, 1.0, size=(self.n_pairs, genes, k))
        order = np.argsort(rng.random((self.n_pairs, k)), axis=1)
        self.B = np.take_along_axis(self.A, order[:, None, :], axis=2)
        self.B += rng.gamma(1.0, 0.3, size=self.B.shape)
        self.match = match_factors_batched
        self.match(self.A[:2], self.B[:2])

    def time_match_factors_batched(self, genes):
        self.match(self.A, self.B)
