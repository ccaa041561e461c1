"""Where multiplicative updates stall and coordinate descent converges: the DeSurv simulation.

For each replicate of ``desurv.datasets.simulate_desurv`` (defaults: the paper's scenario R0,
n = 200 samples, p = 1,000 genes, k = 3), in two designs: as simulated ("plain"), and with
the per-gene baseline N(3, 1), constant across samples, that the authors' generator adds
before clipping at 0 ("gene baseline"; ``simulate_X.R`` of the DeSurv-paper repository),
fit plain NMF with k = 3 and k = 4 by

* multiplicative updates (``solver="mu"``) from a random start, ``tol=1e-6``, up to
  ``--mu-iter`` iterations (scikit-learn's MU from the same start gives the same iterates);
* coordinate descent (``solver="cd"``) from an NNDSVDa start, ``tol=1e-6``;

and report the objective ½‖X − WH‖² relative to the lower of the two (1 = the best found),
the iterations, whether ``tol`` was met, the seconds, and the matched cosine of the fitted
programs to the true ones. Not a test; prints one row per fit and the medians.

    python benchmarks/nmf_convergence.py --replicates 5
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from desurv import NMF
from desurv.datasets import simulate_desurv
from desurv.evaluation import match_factors


def _fit(X, k, **kw):
    model = NMF(n_components=k, tol=1e-6, **kw)
    t0 = time.perf_counter()
    W = model.fit_transform(X)
    seconds = time.perf_counter() - t0
    loss = 0.5 * np.linalg.norm(X - W @ model.components_) ** 2
    return model, loss, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--mu-iter", type=int, default=5000, help="max_iter of both solvers")
    args = ap.parse_args()
    rows = []
    load = os.getloadavg()[0]
    with threadpool_limits(1):
        for rep in range(args.replicates):
            sim = simulate_desurv(random_state=rep)
            plain = sim.X.to_numpy()
            rng = np.random.default_rng(1000 + rep)
            baseline = rng.normal(3.0, 1.0, size=plain.shape[1])
            designs = {"plain": plain, "gene baseline": np.maximum(plain + baseline, 0.0)}
            for design, X in designs.items():
                for k in (3, 4):
                    for name, kw in (
                        ("mu, random", dict(solver="mu", init="random", max_iter=args.mu_iter)),
                        ("cd, nndsvda", dict(solver="cd", init="nndsvda", max_iter=args.mu_iter)),
                    ):
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            model, loss, seconds = _fit(X, k, random_state=rep, **kw)
                        match = match_factors(sim.W, model.components_.T)
                        rows.append(
                            dict(
                                design=design,
                                k=k,
                                replicate=rep,
                                solver=name,
                                loss=loss,
                                n_iter=model.n_iter_,
                                converged=not caught,
                                seconds=seconds,
                                cosine_to_truth=match.acs,
                            )
                        )
                        print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    best = df.groupby(["design", "k", "replicate"])["loss"].transform("min")
    df["loss_over_best"] = df["loss"] / best
    cols = ["loss_over_best", "n_iter", "converged", "seconds", "cosine_to_truth"]
    print(f"\nmedians over {args.replicates} replicates (load average {load:.2f}):")
    summary = df.groupby(["design", "k", "solver"])[cols].median()
    print(summary.to_string(float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
