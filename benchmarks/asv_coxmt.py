"""asv benchmarks of Cox-MT (``desurv.survival.coxmt``, issue 15; METHODS.md §D).

At the size of the issue, 300 labelled samples × 4,000 genes, hidden layers 1,000 / 200,
with 300 unlabelled samples, float64 and float32:

* ``CoxMTStep``: one training step exactly as the loop of ``CoxMT.fit`` runs it
  (``_Trainer.step``): the draws (noise, dropout), the teacher's forward on the censored
  and unlabelled rows, the student's forward and hand-written backward (three products
  with the 4,000-gene input, the fused ``desurv._kernels._coxmt`` passes, the Cox
  gradient from ``desurv._kernels._cox``), the consistency term and the fused Adam + EMA
  pass over the 4.2 M parameters; full batch (600 rows) or one 32 + 32-row mini-batch;
* ``CoxMTFit``: ``CoxMT.fit`` for 3 full-batch epochs, the estimator's set-up
  (standardisation, validation split, Breslow baselines) included.

Data are synthetic and deterministic (NumPy only, fixed seeds): expression from 5 latent
factors plus noise, exponential survival from a nonlinear function of the factors. BLAS on
one thread; every path runs once in ``prepare`` so that compilation or cache loading is not
timed. A commit without the module skips (``NotImplementedError``).
"""

import numpy as np

from ._asv_data import OneThreadBenchmark, optional_module, quiet

N, P, N_UNL, HIDDEN = 300, 4000, 300, (1000, 200)
DTYPES = ["float64", "float32"]
BATCHES = ["full", "32"]


def expression(n=N, p=P, n_unl=N_UNL, seed=0):
    """(X (n, p), time, event, X_unlabeled (n_unl, p)): factor-model expression, survival."""
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((n + n_unl, 5))
    X = F @ rng.standard_normal((5, p)) + 2.0 * rng.standard_normal((n + n_unl, p))
    eta = np.tanh(F[:n, 0] * F[:n, 1]) + 0.7 * F[:n, 2]
    t = rng.exponential(np.exp(-eta))
    c = rng.exponential(2.0, n)
    return X[:n], np.minimum(t, c), t <= c, X[n:]


def _coxmt():
    mod = optional_module("desurv.survival.coxmt")
    if mod is None:
        raise NotImplementedError("desurv.survival.coxmt is not in this commit")
    return mod


class CoxMTStep(OneThreadBenchmark):
    """One Cox-MT training step (teacher forward, student forward/backward, Adam + EMA)."""

    params = (BATCHES, DTYPES)
    param_names = ["batch", "dtype"]

    def prepare(self, batch, dtype):
        cm = _coxmt()
        X, time, event, Xu = expression()
        model = cm.CoxMT(
            hidden_layer_sizes=HIDDEN,
            batch_size=None if batch == "full" else int(batch),
            dtype=dtype,
            random_state=0,
        )
        cfg = model._config()
        order = np.argsort(time, kind="stable")
        allX = np.vstack([X, Xu])
        mean, sd = allX.mean(axis=0), allX.std(axis=0)
        Xt = np.ascontiguousarray((np.vstack([X[order], Xu]) - mean) / sd, dtype=cfg["dtype"])
        net = cm._Network(P, HIDDEN)
        self.trainer = cm._Trainer(net, Xt, time[order], event[order], N_UNL, cfg, cm._streams(0))
        self.lab, self.surv = self.trainer.batches()[0]
        self.time_step(batch, dtype)

    def time_step(self, batch, dtype):
        self.trainer.step(self.lab, self.surv, 1.0)


class CoxMTFit(OneThreadBenchmark):
    """``CoxMT.fit``: 3 full-batch epochs with 300 unlabelled samples, early stopping on."""

    def prepare(self):
        cm = _coxmt()
        from desurv._validation import make_survival_y

        X, time, event, self.Xu = expression()
        self.X, self.y = X, make_survival_y(time, event)
        self.model = cm.CoxMT(hidden_layer_sizes=HIDDEN, max_epochs=3, random_state=0)
        self.time_fit()

    def time_fit(self):
        with quiet():
            self.model.fit(self.X, self.y, X_unlabeled=self.Xu)
