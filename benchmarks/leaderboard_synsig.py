"""First leaderboard of the family: plain NMF variants on the eight SynSig scenarios.

Methods (the registry's built-ins, ``max_iter=500`` unless ``--max-iter``, ``tol=1e-4``,
k = the scenario's true number of signatures): desurv's ``NMF`` with multiplicative updates
for the Frobenius and the Kullback–Leibler loss and with coordinate descent, all from the
same random start distribution (``init="random"``), coordinate descent from the
deterministic NNDSVDa start, and scikit-learn's ``NMF`` (mu, random start) for both losses.
Seeds 0..N-1; every cell is fitted on all samples (signature recovery, as in the PCAWG
benchmark). Metrics: Hungarian-matched cosine to the true signatures, exposure error,
wall time (one BLAS thread per cell).

Data: ``../shared/data/mutational/synsig/<scenario>/`` (read by path; the package ships no
data). Not a test: prints a table of medians (IQR) and writes the tidy results to
``benchmarks/results/leaderboard_synsig.csv``.

    python benchmarks/leaderboard_synsig.py --seeds 5 --jobs 2 [--max-iter 2000]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from desurv.benchmark import run_benchmark

HERE = Path(__file__).resolve().parent
SYNSIG = HERE.parent.parent / "shared" / "data" / "mutational" / "synsig"
METHODS = [
    "nmf-frobenius",
    "nmf-kl",
    "nmf-cd",
    "nmf-cd-nndsvda",
    "sklearn-nmf",
    "sklearn-nmf-kl",
]
METRICS = ["signature_cosine", "exposure_error", "wall_time", "n_iter"]


def _fmt(group):
    q = group.quantile([0.25, 0.5, 0.75])
    return f"{q[0.5]:.3f} ({q[0.25]:.3f}–{q[0.75]:.3f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--data", type=Path, default=SYNSIG)
    ap.add_argument(
        "--max-iter", type=int, default=None, help="override every method's max_iter (default 500)"
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "leaderboard_synsig.csv")
    args = ap.parse_args()
    scenarios = sorted(p for p in args.data.iterdir() if (p / "catalog.tsv").is_file())
    if not scenarios:
        raise SystemExit(f"no SynSig scenario under {args.data}")
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    results = run_benchmark(
        METHODS,
        [f"synsig:{p}" for p in scenarios],
        seeds=tuple(range(args.seeds)),
        metrics=METRICS,
        n_jobs=args.jobs,
        params=None if args.max_iter is None else {m: {"max_iter": args.max_iter} for m in METHODS},
    )
    elapsed = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.drop(columns=["params"], errors="ignore").to_csv(args.out, index=False)
    ok = results[results["value"].notna()].copy()
    ok["scenario"] = ok["dataset"].str.replace("synsig:", "", regex=False)
    for metric in METRICS:
        table = (
            ok[ok["metric"] == metric]
            .groupby(["scenario", "method"])["value"]
            .apply(_fmt)
            .unstack("method")
            .reindex(columns=METHODS)
        )
        print(f"\n## {metric}: median (IQR) over {args.seeds} seeds")
        print(table.to_string())
    overall = ok.groupby(["metric", "method"])["value"].median().unstack("method")
    print("\n## median over all scenarios and seeds")
    print(overall.reindex(columns=METHODS).loc[METRICS].to_string(float_format="%.4g"))
    failed = results.attrs.get("failed", [])
    print(
        f"\n{len(results)} rows, {len(failed)} failed cells, {elapsed:.0f} s with "
        f"{args.jobs} jobs; load average before {load_before[0]:.2f}, after "
        f"{os.getloadavg()[0]:.2f}; written to {args.out}"
    )


if __name__ == "__main__":
    main()
