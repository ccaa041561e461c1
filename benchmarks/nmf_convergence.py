"""Where multiplicative updates stall and coordinate descent converges: the DeSurv simulation.

For each replicate of ``desurv.datasets.simulate_desurv`` (defaults: the paper's scenario R0,
n = 200 samples, p = 1,000 genes, k = 3), fit plain NMF with k = 3 by

* multiplicative updates (``solver="mu"``) from a random start, ``tol=1e-6``, up to
  ``--mu-iter`` iterations (scikit-learn's MU from the same start gives the same iterates);
* coordinate descent (``solver="cd"``) from an NNDSVDa start, ``tol=1e-6``;

and report the objective ½‖X − WH‖² of each relative to the one of the true model (the
noise floor, ½‖X − W* H*‖² with the generating W, H after the best nonnegative rescaling
of H by NNLS), the iterations, the seconds, and the matched cosine of the fitted programs
to the true ones. Not a test; prints one row per replicate and the medians.

    python benchmarks/nmf_convergence.py --replicates 5
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from desurv import NMF
from desurv.datasets import simulate_desurv
from desurv.decomposition import nnls
from desurv.evaluation import match_factors


def _fit(X, **kw):
    model = NMF(n_components=3, tol=1e-6, **kw)
    t0 = time.perf_counter()
    W = model.fit_transform(X)
    seconds = time.perf_counter() - t0
    loss = 0.5 * np.linalg.norm(X - W @ model.components_) ** 2
    return model, loss, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--mu-iter", type=int, default=5000)
    args = ap.parse_args()
    rows = []
    load = os.getloadavg()[0]
    with threadpool_limits(1):
        for rep in range(args.replicates):
            sim = simulate_desurv(random_state=rep)
            X = sim.X.to_numpy()
            # noise floor: the true programs with their best nonnegative exposures
            H_true = nnls(sim.W, X.T)
            floor = 0.5 * np.linalg.norm(X - (sim.W @ H_true).T) ** 2
            for name, kw in (
                ("mu, random start", dict(solver="mu", init="random", max_iter=args.mu_iter)),
                ("cd, nndsvda start", dict(solver="cd", init="nndsvda", max_iter=2000)),
            ):
                model, loss, seconds = _fit(X, random_state=rep, **kw)
                match = match_factors(sim.W, model.components_.T)
                rows.append(
                    dict(
                        replicate=rep,
                        solver=name,
                        loss_over_floor=loss / floor,
                        n_iter=model.n_iter_,
                        seconds=seconds,
                        cosine_to_truth=match.acs,
                    )
                )
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    print(f"\nmedians over {args.replicates} replicates (load average {load:.2f}):")
    print(
        df.groupby("solver")[["loss_over_floor", "n_iter", "seconds", "cosine_to_truth"]]
        .median()
        .to_string(float_format=lambda v: f"{v:.4g}")
    )


if __name__ == "__main__":
    main()
