"""When is the coordinate-descent NMF of the "converged" NMF+Cox baseline converged? (issue 11)

On replicates of a DeSurv simulation scenario (default the authors' R0), with the split of
``examples/simulation_replicates.py`` (70/30 stratified by event, same seeds), fits NMF by
coordinate descent on the training part for a range of stopping tolerances and both k, then
the same elastic-net Cox step (``desurv.deconvolution.nmf_cox.cox_refit``, λ = 0.1, ξ = 0.5)
on Z = XᵀW, and scores the test part. Two NMF implementations:

``desurv``
    ``desurv.NMF(solver="cd", init="nndsvda")`` (accelerated HALS), ``tol`` in ``--tols``
    (projected-gradient ratio, the scale of ``NMFCox(cd_tol=...)``), ``max_iter`` 20,000.
``sklearn``
    ``sklearn.decomposition.NMF(solver="cd", init="nndsvda")`` with its defaults (tol 1e-4,
    max_iter 200: the issue's "scikit-learn coordinate descent") and at tol 1e-8.

Per (replicate, k, implementation, tol): iterations, the relative gap of the NMF objective
½‖X − WH‖² to the lowest value any run reached at that (replicate, k), the cosine of the best
match to the lethal program, and the held-out C-index. The summary prints medians [IQR] over
replicates.

Usage::

    python benchmarks/nmfcox_cd_stopping.py [--scenario R0] [--replicates 10] [--jobs 2]
        [--out results/nmfcox_cd_stopping.csv]
"""

import argparse
import shlex
import sys
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.decomposition import NMF as SkNMF
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from desurv import NMF, concordance_index
from desurv.datasets import SIMULATION_SCENARIOS, simulate_desurv
from desurv.deconvolution.nmf_cox import cox_refit

TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-8)


def replicate_seeds(seed, rep):
    """The seeds of examples/simulation_replicates.py (same simulation and split)."""
    return [int(s) for s in np.random.SeedSequence([seed, rep]).generate_state(3)]


def _score(Xtr, ytr, Xte, yte, components, lethal_w):
    """Cox step on the unit-column W, held-out C and cosine to the lethal program."""
    W = np.array(components.T, dtype=np.float64)
    W /= np.maximum(np.linalg.norm(W, axis=0), 1e-300)
    beta, *_ = cox_refit(Xtr.T, ytr["time"], ytr["event"], W, penalty=0.1, l1_ratio=0.5)
    c = concordance_index(yte["time"], yte["event"], Xte @ W @ beta)
    cos = float(np.max(lethal_w @ W))
    return float(c), cos


def run_replicate(rep, scenario, seed, tols, ks):
    sim_seed, split_seed, _ = replicate_seeds(seed, rep)
    rows = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_desurv(**SIMULATION_SCENARIOS[scenario], random_state=sim_seed)
        X, y = sim.X.to_numpy(), sim.y
        tr, te = train_test_split(
            np.arange(X.shape[0]), test_size=0.3, stratify=y["event"], random_state=split_seed
        )
        lethal = int(np.argmax(np.abs(sim.beta)))
        lw = sim.W[:, lethal] / np.linalg.norm(sim.W[:, lethal])
        for k in ks:
            fits = [("desurv", t, NMF(k, solver="cd", init="nndsvda", tol=t, max_iter=20000))
                    for t in tols]  # fmt: skip
            fits += [
                ("sklearn", 1e-4, SkNMF(k, solver="cd", init="nndsvda")),
                ("sklearn", 1e-8, SkNMF(k, solver="cd", init="nndsvda", tol=1e-8,
                                        max_iter=20000)),
            ]  # fmt: skip
            for impl, tol, model in fits:
                t0 = time.perf_counter()
                E = model.fit_transform(X[tr])
                seconds = time.perf_counter() - t0
                R = X[tr] - E @ model.components_
                c, cos = _score(X[tr], y[tr], X[te], y[te], model.components_, lw)
                rows.append({
                    "replicate": rep, "k": k, "impl": impl, "tol": tol,
                    "n_iter": int(model.n_iter_), "objective": 0.5 * float(np.vdot(R, R)),
                    "test_cindex": c, "cosine": cos, "seconds": seconds,
                })  # fmt: skip
    return rows


def summarize(df):
    best = df.groupby(["replicate", "k"])["objective"].transform("min")
    df = df.assign(gap=(df["objective"] - best) / best)

    def mq(s, fmt):
        q1, q2, q3 = np.quantile(s, [0.25, 0.5, 0.75])
        return f"{q2:{fmt}} [{q1:{fmt}}, {q3:{fmt}}]"

    print(f"\nmedian [IQR] over {df['replicate'].nunique()} replicates")
    print(f"{'k':>2} {'NMF':>8} {'tol':>6} {'iterations':>20} {'objective gap':>28} "
          f"{'cosine lethal':>22} {'test C':>22}")  # fmt: skip
    for (k, impl, tol), d in df.groupby(["k", "impl", "tol"], sort=True):
        print(f"{k:>2} {impl:>8} {tol:>6.0e} {mq(d['n_iter'], '.0f'):>20} "
              f"{mq(d['gap'], '.1e'):>28} {mq(d['cosine'], '.3f'):>22} "
              f"{mq(d['test_cindex'], '.3f'):>22}")  # fmt: skip
    return df


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="R0", choices=sorted(SIMULATION_SCENARIOS))
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--tols", type=float, nargs="+", default=list(TOLS))
    parser.add_argument("--k", type=int, nargs="+", default=None, help="default k_true, k_true+1")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    print("command: python " + shlex.join([sys.argv[0], *(sys.argv[1:] if argv is None
                                                          else argv)]))  # fmt: skip
    k_true = SIMULATION_SCENARIOS[args.scenario].get("n_components", 3)
    ks = args.k or [k_true, k_true + 1]
    start = time.perf_counter()
    parts = Parallel(n_jobs=args.jobs)(
        delayed(run_replicate)(rep, args.scenario, args.seed, args.tols, ks)
        for rep in range(args.replicates)
    )
    df = summarize(pd.DataFrame([r for p in parts for r in p]))
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    print(f"elapsed {time.perf_counter() - start:.0f} s (wall)")


if __name__ == "__main__":
    main()
