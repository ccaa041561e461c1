"""Iterations per second of one DeSurv fit (2,000 genes x 300 samples, k = 5, one thread).

Prints the median time per iteration over several repetitions, and, as a ratio measured in
the same process on the same data, the time of the two products with X that one iteration
cannot avoid (WᵀX and X·[Hᵀ | g]). Not a test: timings on shared machines are noisy, so
read medians and ratios.

    python benchmarks/bench_iteration.py [--reps 5] [--iters 200]
"""

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from desurv import fit_desurv
from desurv.datasets import simulate_desurv


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()

    sim = simulate_desurv(
        n_samples=args.samples, n_genes=args.genes, n_components=3, random_state=0
    )
    X = np.ascontiguousarray(sim.X.to_numpy().T)  # genes x samples
    time_, event = sim.y["time"], sim.y["event"]
    k = args.k
    rng = np.random.default_rng(0)
    W0 = rng.uniform(size=(X.shape[0], k))
    H0 = rng.uniform(size=(k, X.shape[1]))

    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_desurv(X, time_, event, k, W_init=W0, H_init=H0, max_iter=3)  # warm the kernels
        per_iter = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            res = fit_desurv(
                X, time_, event, k, W_init=W0, H_init=H0, alpha=0.5, max_iter=args.iters, tol=0.0
            )
            per_iter.append((time.perf_counter() - t0) / res.n_iter)
        prod = []
        M = np.empty((X.shape[1], k + 1))
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for _ in range(args.iters):
                A = W0.T @ X
                M[:, :k] = H0.T
                M[:, k] = 1.0
                X @ M
            prod.append((time.perf_counter() - t0) / args.iters)
    it = float(np.median(per_iter))
    pr = float(np.median(prod))
    del A
    print(f"data: {X.shape[0]} genes x {X.shape[1]} samples, k = {k}, alpha = 0.5, one thread")
    print(
        f"DeSurv iteration: median {it * 1e3:.3f} ms  ->  {1 / it:.0f} iterations/s "
        f"(whole fit incl. final Cox refit, {args.iters} iterations, {args.reps} reps)"
    )
    print(f"two products with X (WᵀX, X·[Hᵀ|g]): median {pr * 1e3:.3f} ms")
    print(f"ratio iteration / products: {it / pr:.2f}")


if __name__ == "__main__":
    main()
