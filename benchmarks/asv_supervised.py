"""asv benchmarks of supervised / semi-supervised / pseudo-labelling NMF (issue 16).

``desurv.decomposition.supervised.SupervisedNMF`` (METHODS.md §A) runs its whole iteration
in one compiled call, ``desurv._kernels._supervised_nmf.run_block``. At the size of the
issue, 96 channels × 1,000 genomes, k = 6 signatures, C = 9 classes, a third of the genomes
unlabelled:

* ``SupervisedNMFBlock``: one block of 1,000 iterations of the compiled kernel, as
  ``train_supervised_nmf`` calls it (sample-major C-contiguous float64 arrays X (N, M),
  Wᵀ (K, M), Hᵀ (N, K), B (C, K), Yᵀ (N, C), the label mask (N,), a (1000, 4) history
  buffer), parameterised by the variant (``clean``: the default normalisation; False: the
  published "faithful" iteration) and ``update_w`` (False: the refit with W fixed and
  λ_c = 0). Every call starts from the same U[0, 1) start (copies);
* ``SupervisedNMFFit``: ``SupervisedNMF(mode="pseudo-label", n_replicates=10).fit`` with a
  fixed iteration budget: ``min_iter = max_iter`` so that no replicate stops early, and
  ``tol = tol_ce = 1`` so that the convergence flags are set at (nearly) every check and
  Algorithm 1 (pseudo-labelling) runs along the way, as in a real fit. 10 × ``max_iter``
  kernel iterations plus the checks, the pseudo-labelling events, the consensus clustering
  and the refit (with the default clean normalisation the exact refit: NNLS exposures and
  an L-BFGS head; in commits before it, ``max_iter`` more kernel iterations with W fixed).

Data are synthetic and deterministic (NumPy only, fixed seeds): Poisson counts from k
Dirichlet(0.3) signatures and gamma exposures whose mix depends on the genome's class
(about 2,000 mutations per genome); the kernel takes per-genome profiles (rows divided by
their totals), as the estimator does with ``profiles=True``; ``fit`` takes the counts. The
coefficients hc, bc, the ridge coefficient and the step μ are those
``desurv.decomposition.supervised._coefficients`` and the estimator's defaults give
(λ_c = 0.1, λ_L2 = 1e-4; μ = 1 clean, 5e-3 faithful).
BLAS on one thread; every path runs once in ``prepare`` so that compilation or cache loading
is not timed. A commit without the module skips (``NotImplementedError``).

The modules are imported when this file is, not in ``prepare``: Numba's ``np.dot`` calls
SciPy's BLAS (``scipy.linalg.cython_blas``, a separate OpenBLAS from NumPy's), and
threadpoolctl limits only the libraries already loaded when ``setup`` sets the limit; loaded
later, the kernel's products would run on every core.
"""

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (load the kernel's BLAS before the limit)

from ._asv_data import OneThreadBenchmark, optional_module, quiet

KERNEL = optional_module("desurv._kernels._supervised_nmf")
SUPERVISED = optional_module("desurv.decomposition.supervised")

N, P, K, C = 1000, 96, 6, 9
N_ITER = 1000
LAMBDA_C, LAMBDA_L2 = 0.1, 1e-4
#: the estimator's default step of the head per normalisation
MU = {True: 1.0, False: 5e-3}
#: iterations per replicate (and refit) of the fit benchmark: about 2 s in total
FIT_MAX_ITER = 1000


def labelled_catalogue(n=N, k=K, n_classes=C, *, p=P, seed=0):
    """Synthetic counts with classes, a third of the labels hidden.

    Returns ``(X, y, y_obs)``: X (n, p) float64 counts (every genome has at least one
    mutation), y (n,) int64 class codes 0..C-1 (balanced), y_obs the same with a random
    third set to -1 (unlabelled).
    """
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k)
    mix = rng.dirichlet(np.full(k, 0.5), size=n_classes)  # class-specific exposure mix
    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    E = rng.gamma(0.5, 1.0, size=(n, k)) * mix[y] * (2000.0 / 0.5)
    X = rng.poisson(E @ S).astype(np.float64)
    X[X.sum(axis=1) == 0, 0] = 1.0
    y_obs = y.copy()
    y_obs[rng.permutation(n)[: n // 3]] = -1
    return np.ascontiguousarray(X), y, y_obs


def kernel_inputs(n=N, k=K, n_classes=C, *, p=P, seed=0):
    """The kernel's arguments as ``train_supervised_nmf`` builds them (SS-NMF, no U.R.).

    Returns a dict: ``X`` (n, p) profiles, ``Wt`` (k, p), ``Ht`` (n, k), ``B`` (C, k) a
    U[0, 1) start (drawn in the order of ``_random_start``), ``Yt`` (n, C) one-hot rows (zero
    for unlabelled genomes), ``lab`` (n,) float64 mask of the labelled genomes, ``x2`` =
    ‖X‖²_F. All C-contiguous float64.
    """
    X, _, y_obs = labelled_catalogue(n, k, n_classes, p=p, seed=seed)
    X = X / X.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed + 1)
    Wt = np.ascontiguousarray(rng.random((p, k)).T)
    Ht = np.ascontiguousarray(rng.random((k, n)).T)
    B = rng.random((n_classes, k))
    on = y_obs >= 0
    Yt = np.zeros((n, n_classes))
    Yt[np.flatnonzero(on), y_obs[on]] = 1.0
    return {
        "X": np.ascontiguousarray(X),
        "Wt": Wt,
        "Ht": Ht,
        "B": B,
        "Yt": Yt,
        "lab": on.astype(np.float64),
        "x2": float(np.sum(X * X)),
    }


def coefficients(clean, update_w, lab, x2, lambda_c=LAMBDA_C, lambda_l2=LAMBDA_L2):
    """(hc, bc, l2) as ``supervised._coefficients`` gives them: λ_c = 0 in the refit
    (``update_w=False``); faithful hc = λ_c/2, bc = 1, l2 = λ_L2; clean
    hc = λ_c‖X‖²/(2 n_c), bc = 1/n_c, l2 = λ_L2/n_c (n_c = Σ lab)."""
    lc = lambda_c if update_w else 0.0
    n_c = max(float(np.sum(lab)), 1.0)
    if not clean:
        return 0.5 * lc, 1.0, lambda_l2
    return 0.5 * lc * x2 / n_c, 1.0 / n_c, lambda_l2 / n_c


def _module(mod, name):
    if mod is None:
        raise NotImplementedError(f"{name} is not in this commit")
    return mod


class SupervisedNMFBlock(OneThreadBenchmark):
    """One ``run_block`` call of 1,000 iterations (96 × 1,000, k = 6, C = 9)."""

    params = ([False, True], [True, False])
    param_names = ["clean", "update_w"]

    def prepare(self, clean, update_w):
        self.kernel = _module(KERNEL, "desurv._kernels._supervised_nmf")
        d = kernel_inputs()
        self.d = d
        self.hc, self.bc, self.l2 = coefficients(clean, update_w, d["lab"], d["x2"])
        self.hist = np.empty((N_ITER, 4))
        self.run(clean, update_w, 2)  # compile / load the cache

    def run(self, clean, update_w, n_iter):
        d = self.d
        self.kernel.run_block(
            d["X"],
            d["Wt"].copy(),
            d["Ht"].copy(),
            d["B"].copy(),
            d["Yt"],
            d["lab"],
            n_iter,
            self.hc,
            self.bc,
            MU[clean],
            self.l2,
            update_w,
            clean,
            self.hist,
        )

    def time_block(self, clean, update_w):
        self.run(clean, update_w, N_ITER)


class SupervisedNMFFit(OneThreadBenchmark):
    """``SupervisedNMF(mode="pseudo-label", n_replicates=10).fit`` on counts (96 × 1,000,
    k = 6, C = 9, a third unlabelled), 1,000 iterations per replicate."""

    def prepare(self):
        supervised = _module(SUPERVISED, "desurv.decomposition.supervised")
        self.X, _, self.y = labelled_catalogue()
        kw = dict(mode="pseudo-label", check_every=100, tol=1.0, tol_ce=1.0, random_state=0)
        self.model = supervised.SupervisedNMF(
            K, n_replicates=10, min_iter=FIT_MAX_ITER, max_iter=FIT_MAX_ITER, **kw
        )
        warm = supervised.SupervisedNMF(K, n_replicates=2, min_iter=200, max_iter=200, **kw)
        with quiet():
            warm.fit(self.X, self.y)

    def time_fit(self):
        with quiet():
            self.model.fit(self.X, self.y)
