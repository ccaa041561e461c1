"""asv benchmarks of deep-unfolded NMF (``desurv.decomposition.unfolded``, issue 13).

At the size of the issue, 96 channels × 1,000 genomes, k = 11, L = 10 layers (untied, and
tied as a second parameter), float64 and float32:

* ``UnfoldedForward``: the forward pass of the trained network (``transform`` without the
  input checks): one BLAS product X [A_0ᵀ | ... | A_9ᵀ] and ten compiled layer passes
  (``desurv._kernels._unfolded.layer_forward``) with the small H B_ℓᵀ products;
* ``UnfoldedForwardBackward``: one forward pass with the tape and one backward pass of the
  supervised exposure loss (``layer_backward``, ``supervised_residual``, the gradient
  products), i.e. what one supervised Adam step costs besides the Adam pass itself;
* ``UnfoldedUnsupervisedIteration``: one unsupervised training iteration exactly as the loop
  of ``fit_unfolded`` runs it: forward/backward of the reconstruction cost with W fixed
  (``penalty_gradient``, ``desurv._kernels._aenmf.fro_residual``), the fused Adam step with
  the projection (``_aenmf.adam_step``) and the exact W-step (batched Gram NNLS,
  ``desurv._kernels._nnls.nnls_gram``);
* ``UnfoldedFit``: ``DeepUnfoldedNMF.fit`` for 20 steps (``tol=0``), supervised and
  unsupervised, the estimator's set-up included.

Data are synthetic and deterministic (NumPy only, fixed seeds): Poisson counts from k
Dirichlet(0.3) signatures and gamma exposures. The network starts from the signatures
(``init="nmf"``-like: A_ℓ = S, B_ℓ = SSᵀ), so its exposures are of realistic size. BLAS on
one thread; every path runs once in ``prepare`` so that compilation or cache loading is not
timed. A commit without the module skips (``NotImplementedError``).
"""

import numpy as np

from ._asv_data import OneThreadBenchmark, optional_module, quiet

N, P, K, L = 1000, 96, 11, 10
DTYPES = ["float64", "float32"]
TIED = [False, True]


def catalogue(n=N, k=K, *, p=P, seed=0):
    """(X (n, p) float64 counts, S (k, p) signatures summing to 1, E (n, k) exposures)."""
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k)
    E = rng.gamma(0.5, 2000.0 / (0.5 * k), size=(n, k))
    X = rng.poisson(E @ S).astype(np.float64)
    return np.ascontiguousarray(X), np.ascontiguousarray(S), np.ascontiguousarray(E)


def _unfolded():
    mod = optional_module("desurv.decomposition.unfolded")
    if mod is None:
        raise NotImplementedError("desurv.decomposition.unfolded is not in this commit")
    return mod


def network(tied, dtype, *, k=K, p=P, n_layers=L):
    """(module, net, theta): the network with A_ℓ = S, B_ℓ = SSᵀ, λ₁ = λ₂ = 0."""
    uf = _unfolded()
    _, S, _ = catalogue(k=k, p=p)
    net = uf.UnfoldedNetwork(p, k, n_layers, tied)
    Ld = net.n_distinct
    theta = net.pack(
        np.broadcast_to(S, (Ld, k, p)), np.broadcast_to(S @ S.T, (Ld, k, k)), 0.0, 0.0, dtype
    )
    return uf, net, theta


class UnfoldedForward(OneThreadBenchmark):
    """Forward pass (no tape) of 1,000 genomes through 10 layers, k = 11."""

    params = (TIED, DTYPES)
    param_names = ["tied", "dtype"]

    def prepare(self, tied, dtype):
        _, self.net, self.theta = network(tied, dtype)
        X, _, _ = catalogue()
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.time_forward(tied, dtype)

    def time_forward(self, tied, dtype):
        self.net.forward(self.X, self.theta)


class UnfoldedForwardBackward(OneThreadBenchmark):
    """Forward with the tape and backward of the supervised exposure MSE (one gradient)."""

    params = (TIED, DTYPES)
    param_names = ["tied", "dtype"]

    def prepare(self, tied, dtype):
        uf, net, theta = network(tied, dtype)
        X, _, E = catalogue()
        X = np.ascontiguousarray(X, dtype=dtype)
        self.f = uf._supervised_objective(X, np.ascontiguousarray(E, dtype=dtype), net)
        self.theta, self.grad = theta, np.zeros_like(theta)
        self.time_forward_backward(tied, dtype)

    def time_forward_backward(self, tied, dtype):
        self.f(self.theta, self.grad, True)


class UnfoldedUnsupervisedIteration(OneThreadBenchmark):
    """One unsupervised iteration: cost forward/backward with W fixed, Adam step with the
    projection, exact NNLS W-step (the body of ``fit_unfolded``'s loop)."""

    params = (TIED, DTYPES)
    param_names = ["tied", "dtype"]

    def prepare(self, tied, dtype):
        from desurv._kernels import _aenmf

        uf, net, theta = network(tied, dtype)
        self.uf, self.aenmf, self.net, self.theta0 = uf, _aenmf, net, theta
        X, S, _ = catalogue()
        self.X = np.ascontiguousarray(X, dtype=dtype)
        self.X64 = X
        self.W = np.ascontiguousarray(S, dtype=dtype)
        self.f = uf._unsupervised_objective(self.X, net)
        self.q = net.n_weights
        self.time_iteration(tied, dtype)

    def time_iteration(self, tied, dtype):
        theta = self.theta0.copy()
        grad, m, v, P = (np.zeros_like(theta) for _ in range(4))
        q = self.q
        self.f(theta, self.W, grad, True)
        self.aenmf.adam_step(
            theta[:, :q],
            P[:, :q],
            grad[:, :q],
            m[:, :q],
            v[:, :q],
            1,
            5e-4,
            0.9,
            0.999,
            1e-8,
            self.aenmf.PG,
        )
        self.uf.w_step(self.f.tape.H[self.net.n_layers], self.X64)


class UnfoldedFit(OneThreadBenchmark):
    """``DeepUnfoldedNMF.fit``, 20 Adam steps (tol=0), supervised (y = true exposures) and
    unsupervised (``init="custom"`` with the true signatures, so no NMF start is timed)."""

    params = ["supervised", "unsupervised"]
    param_names = ["mode"]

    def prepare(self, mode):
        uf = _unfolded()
        self.X, self.S, self.E = catalogue()
        self.model = uf.DeepUnfoldedNMF(
            K, init="custom", max_iter=20, tol=0, mode=mode, random_state=0
        )
        self.time_fit(mode)

    def time_fit(self, mode):
        with quiet():
            if mode == "supervised":
                self.model.fit(self.X, self.E, components=self.S)
            else:
                self.model.fit(self.X, components=self.S)
