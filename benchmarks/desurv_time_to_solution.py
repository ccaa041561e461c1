"""Time to solution of DeSurv: plain multiplicative updates vs ``acceleration="extrapolation"``.

Issue 16, target 3. Per problem and random start, both solvers run from the same start
(W, H uniform on [0, max X] as the random starts of ``fit_desurv`` draw them, β = 0) until
|ΔF|/F ≤ ``--tol`` (1e-6) or ``--max-iter``; the order of the two runs alternates between
starts, BLAS is limited to one thread. Reported per run: outer iterations, passes over X
(rows of X read by the products divided by the number of genes: two per plain iteration, one
more every 50 iterations and at the end; the accelerated step adds the rows of the genes its
extrapolation floors), seconds, the final F, and the seconds until F first reached the plain
run's final F (the "same objective"). The summary gives medians and their ratios
accelerated / plain, measured in the same process, interleaved.

Problems:

* ``simulated``: ``desurv.datasets.simulate_desurv`` (2,000 genes × 300 samples, k = 5,
  β = (2, 0, 0, 0, 0), seed 0), fitted with k = 5;
* ``dbcd``: the DBCD cohort (``../shared/data/expression/dbcd.*``, 295 patients), the 2,000
  most variable genes, ranks within samples (``Preprocessor("rank", n_genes=2000)``), k = 3.

α = 0.5, λ = 0.1, ξ = 0.5 for both. Usage::

    nice -n 10 python benchmarks/desurv_time_to_solution.py            # writes the results
    python benchmarks/desurv_time_to_solution.py --starts 2 --max-iter 2000 --no-write
    python benchmarks/desurv_time_to_solution.py --problems dbcd --output /tmp/dbcd.txt

Output: ``benchmarks/results/desurv_time_to_solution.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from desurv import fit_desurv
from desurv.deconvolution import solver as _solver

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "expression"
RESULTS = ROOT / "benchmarks" / "results" / "desurv_time_to_solution.txt"
FIT = dict(alpha=0.5, penalty=0.1, l1_ratio=0.5)
MODES = ("none", "extrapolation")


class _CountingProblem(_solver._Problem):
    """The solver's problem, remembered so the rows of X it read can be counted."""

    last = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _CountingProblem.last = self


def simulated(seed=0):
    """2,000 genes × 300 samples, k = 5 (genes × samples, time, event, k)."""
    from desurv.datasets import simulate_desurv

    d = simulate_desurv(n_samples=300, n_genes=2000, n_components=5,
                        beta=(2.0, 0.0, 0.0, 0.0, 0.0), random_state=seed)  # fmt: skip
    X = np.ascontiguousarray(d.X.to_numpy().T)
    return X, d.y["time"].astype(float), d.y["event"].astype(float), 5


def dbcd(n_genes=2000):
    """The DBCD cohort, top-variance genes, within-sample ranks (genes × samples), k = 3."""
    from desurv.datasets import load_cohort
    from desurv.preprocessing import Preprocessor

    X, y, _ = load_cohort(DATA / "dbcd.expression.tsv.gz", DATA / "dbcd.clinical.tsv")
    Xr = Preprocessor("rank", n_genes=n_genes).fit_transform(X).to_numpy()
    return np.ascontiguousarray(Xr.T), y["time"].astype(float), y["event"].astype(float), 3


PROBLEMS = {"simulated": simulated, "dbcd": dbcd}


def random_start(X, k, seed):
    """W (p, k), H (k, n) uniform on [0, max X], as the random starts of fit_desurv."""
    rng = np.random.default_rng(seed)
    upper = float(X.max())
    return rng.uniform(0.0, upper, size=(X.shape[0], k)), rng.uniform(
        0.0, upper, size=(k, X.shape[1])
    )


def run(X, time_, event, k, W0, H0, mode, max_iter, tol):
    """One fit from (W0, H0); returns its measurements and F after every iteration."""
    stamps = []

    def callback(it, obj):
        stamps.append(time.perf_counter())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        res = fit_desurv(X, time_, event, k, W_init=W0, H_init=H0, max_iter=max_iter, tol=tol,
                         acceleration=mode, callback=callback, warn=False, **FIT)  # fmt: skip
        seconds = time.perf_counter() - t0
    prob = _CountingProblem.last
    return {
        "iterations": res.n_iter,
        "converged": res.converged,
        "passes": prob.rows_read / prob.p,
        "seconds": seconds,
        "F": float(res.history["loss"][-1]),
        "loss": np.asarray(res.history["loss"]),
        "elapsed": np.asarray(stamps) - t0,
        "extrapolated": res.n_extrapolated,
    }


def seconds_to(r, target):
    """Seconds (and iterations) until F first reached ``target``; NaN if never."""
    hit = np.flatnonzero(r["loss"] <= target)
    if hit.size == 0:
        return np.nan, np.nan
    return float(r["elapsed"][hit[0]]), int(hit[0] + 1)


def measure(name, starts, max_iter, tol, log):
    X, time_, event, k = PROBLEMS[name]()
    p, n = X.shape
    # compile / load the kernels of both modes outside the timing
    W0, H0 = random_start(X, k, 10_000)
    for mode in MODES:
        run(X, time_, event, k, W0, H0, mode, 3, 0.0)
    log(f"\n== {name}: X {p} genes x {n} samples, k = {k}, alpha = 0.5, lambda = 0.1, "
        f"tol = {tol:g}, max_iter = {max_iter}, {starts} random starts ==")  # fmt: skip
    log(f"{'start':>5} {'mode':>13} {'iter':>6} {'conv':>5} {'passes':>8} {'seconds':>8} "
        f"{'F':>14} {'extrap':>6} {'s to F_plain':>12} {'it to F_plain':>13}")  # fmt: skip
    rows = []
    for s in range(starts):
        W0, H0 = random_start(X, k, s)
        order = MODES if s % 2 == 0 else MODES[::-1]  # interleave: alternate the order
        out = {mode: run(X, time_, event, k, W0, H0, mode, max_iter, tol) for mode in order}
        target = out["none"]["F"]
        for mode in MODES:
            r = out[mode]
            r["s_to_plain"], r["it_to_plain"] = seconds_to(r, target)
            log(f"{s:>5} {mode:>13} {r['iterations']:>6} {str(r['converged']):>5} "
                f"{r['passes']:>8.0f} {r['seconds']:>8.2f} {r['F']:>14.8g} "
                f"{r['extrapolated']:>6} {r['s_to_plain']:>12.3f} "
                f"{r['it_to_plain']:>13}")  # fmt: skip
        rows.append(out)
    return rows


def summary(name, rows, log):
    def med(mode, key):
        return float(np.nanmedian([r[mode][key] for r in rows]))

    log(f"\n-- {name}: medians over {len(rows)} starts (ratio = extrapolation / none) --")
    log(f"{'':>26} {'none':>12} {'extrapolation':>14} {'ratio':>8}")
    for key, fmt in (("iterations", "{:>12.0f}"), ("passes", "{:>12.0f}"),
                     ("seconds", "{:>12.2f}")):  # fmt: skip
        a, b = med("none", key), med("extrapolation", key)
        log(f"{key + ' to tol':>26} " + fmt.format(a) + fmt.format(b).rjust(15)
            + f"{b / a:>8.3f}")  # fmt: skip
    a, b = med("none", "F"), med("extrapolation", "F")
    log(f"{'final F':>26} {a:>12.8g} {b:>14.8g} {b / a:>8.5f}")
    rel = [(r["extrapolation"]["F"] - r["none"]["F"]) / abs(r["none"]["F"]) for r in rows]
    reached = [r for r in rows if np.isfinite(r["extrapolation"]["s_to_plain"])]
    log(f"{'rel. F difference':>26} median {np.median(rel):+.2e}, min {np.min(rel):+.2e}, "
        f"max {np.max(rel):+.2e}")  # fmt: skip
    if reached:
        s_acc = np.median([r["extrapolation"]["s_to_plain"] for r in reached])
        s_plain = np.median([r["none"]["seconds"] for r in reached])
        log(f"{'seconds to plain final F':>26} {s_plain:>12.2f} {s_acc:>14.2f} "
            f"{s_acc / s_plain:>8.3f}   (the {len(reached)}/{len(rows)} starts where the "
            "accelerated run reached it)")  # fmt: skip
    conv = [sum(r[m]["converged"] for r in rows) for m in MODES]
    log(f"{'converged':>26} {conv[0]:>9}/{len(rows)} {conv[1]:>11}/{len(rows)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    ap.add_argument("--starts", type=int, default=None, help="random starts per problem "
                    "(default: 3 simulated, 7 dbcd)")  # fmt: skip
    ap.add_argument("--max-iter", type=int, default=20_000)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--output", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    args = ap.parse_args(argv)
    lines = []

    def log(text=""):
        print(text, flush=True)
        lines.append(text)

    _solver._Problem = _CountingProblem  # count the rows of X read (fit_desurv builds it)
    log("DeSurv time to solution: plain multiplicative updates vs acceleration='extrapolation'")
    log(f"python benchmarks/desurv_time_to_solution.py  ({platform.node()}, "
        f"{os.cpu_count()} cores, one BLAS thread)")  # fmt: skip
    log(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    results = {}
    with threadpool_limits(limits=1):
        for name in args.problems:
            starts = args.starts or (3 if name == "simulated" else 7)
            results[name] = measure(name, starts, args.max_iter, args.tol, log)
    for name, rows in results.items():
        summary(name, rows, log)
    log(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if not args.no_write:
        args.output.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
