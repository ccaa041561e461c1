"""asv benchmark of a small cross-validation run (``desurv.model_selection.cross_validate``).

3 folds × 1 seed × one α path (0 → 0.5, warm-started), one random start per path, a fixed
number of iterations (``tol=0``), ``n_jobs=1`` and BLAS on one thread: the serial cost of the
model-selection workflow (fold set-up, fits, validation scores) at a given size.
"""

import numpy as np

from desurv.model_selection import cross_validate

from ._asv_data import OneThreadBenchmark, expression, quiet


class CrossValidate(OneThreadBenchmark):
    params = ([500, 2000], [100, 300], [3])
    param_names = ["p", "n", "k"]

    def prepare(self, p, n, k):
        d = expression(p, n)
        self.X = np.ascontiguousarray(d["X"].T)  # samples × genes, as the public API takes it
        self.time, self.event = d["time"], d["event"]
        self.grid = {"n_components": [k], "alpha": [0.0, 0.5]}
        self.run(max_iter=2, init_max_iter=2)  # warm the compiled kernels

    def run(self, max_iter=30, init_max_iter=10):
        with quiet():
            return cross_validate(
                self.X,
                time=self.time,
                event=self.event,
                param_grid=self.grid,
                n_folds=3,
                n_seeds=1,
                n_init=1,
                max_iter=max_iter,
                tol=0.0,
                init_max_iter=init_max_iter,
                random_state=0,
                n_jobs=1,
            )

    def time_cross_validate(self, p, n, k):
        self.run()

    def peakmem_cross_validate(self, p, n, k):
        self.run()
