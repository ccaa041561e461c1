"""The benchmark harness on a local Dask cluster: same results as ``n_jobs=1``, bit for bit.

Not a test and not an asv benchmark (nothing runs on import): a script that runs one grid
of the family's methods × simulated data sets × cross-validation splits × seeds with
:func:`desurv.benchmark.run_benchmark` in this process (``n_jobs=1``), on a
:class:`distributed.LocalCluster` (worker *processes*, one thread each) through
``joblib.parallel_config(backend="dask")``, and on joblib's loky backend (``--no-loky``
skips it), compares the results tables exactly with the ``n_jobs=1`` one and writes
``benchmarks/results/dask_harness.txt``.

The grid (default, 540 fits):

* survival: ``desurv``, ``nmf-cox``, ``cox-mt`` on two ``simulate_desurv`` data sets
  (200 samples × 400 genes, the R0 design scaled down, seeds 0 and 1);
* signatures / classification: ``nmf-frobenius``, ``nmf-kl``, ``convex-nmf``, ``aenmf``,
  ``deep-unfolded-nmf``, ``s-nmf`` on two ``simulate_catalogues`` data sets (200 genomes,
  4 random SBS96 signatures, 2 classes);
* 3-fold cross-validation (``n_splits=3``) × 10 seeds for each; hyperparameters shortened
  (``PARAMS``) so that the grid runs in about a minute on one core.

"Identical" means: the same rows in the same order, every column equal, and every metric
value equal bit for bit (``float64`` bit patterns compared as integers, so NaN == NaN only
with the same payload) — except the values of ``wall_time``, which measure the run and are
compared for presence only. Across-seed metrics (``consistency``, ``stability``) are part of
the comparison.

Timing: wall time of each ``run_benchmark`` call on a machine that may be shared (the load
average is printed before and after). Every process is warmed first with one fit of every
method (kernels loaded from the Numba cache, lazy imports done), the Dask workers through
``Client.run``: the time to start and warm the cluster is reported separately. A run on
joblib's default loky backend with as many worker processes (also warmed) is the reference
for Dask's own overhead. "busy cores" = sum of the per-fit ``wall_time`` values / wall
time of the run.

Costs (after the harness, unless ``--no-costs``; see :func:`measure_costs`): CPU seconds of
one DeSurv fit and of one 5-fold CV cell at the paper's size (1,970 genes × 273 samples,
k = 3), Dask's dispatch time per task, and what a 100-cohort × 1,000-configuration study
(5-fold CV) costs from them on 1 to 1,280 cores, assuming linear scaling.

    python benchmarks/dask_harness.py                 # 540 fits x 3 runs + costs, ~3-4 min
    python benchmarks/dask_harness.py --seeds 2 --no-costs   # 108 fits, smoke run (~30 s)
    python benchmarks/dask_harness.py --costs         # only the per-fit costs (~1 min)
    python benchmarks/dask_harness.py --workers 2 --out benchmarks/results/dask_harness.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SURVIVAL_METHODS = ["desurv", "nmf-cox", "cox-mt"]
SIGNATURE_METHODS = [
    "nmf-frobenius",
    "nmf-kl",
    "convex-nmf",
    "aenmf",
    "deep-unfolded-nmf",
    "s-nmf",
]
# shortened so that a fit takes ~0.01-0.3 s at these sizes (the registry's defaults are
# the converged settings used for the method comparisons; here only identity matters)
PARAMS = {
    "desurv": dict(n_init=5, max_iter=300),
    "nmf-cox": dict(n_init=5, max_iter=300),
    "cox-mt": dict(hidden_layer_sizes=(64,), max_epochs=50),
    "convex-nmf": dict(max_iter=1000, tol=1e-5),
    "aenmf": dict(max_iter=3000, tol_window=200, tol=1e-5),
    "deep-unfolded-nmf": dict(max_iter=100),
    "s-nmf": dict(max_iter=2000, min_iter=200, n_replicates=1),
}


# ----------------------------------------------------------------------------- data
def survival_dataset(seed, n_samples=200, n_genes=400):
    """A ``simulate_desurv`` data set (R0 design, marker/background fractions of the paper)."""
    from desurv.benchmark import BenchmarkDataset
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(
        n_samples=n_samples,
        n_genes=n_genes,
        n_markers=max(5, n_genes // 20),
        n_background=n_genes // 6,
        random_state=seed,
    )
    W = pd.DataFrame(sim.W, index=sim.X.columns)
    H = pd.DataFrame(sim.H.T, index=sim.X.index)
    return BenchmarkDataset(f"desurv-sim-{seed}", sim.X, sim.y, "survival", W, H)


def catalogue_dataset(seed, n_samples=200, n_signatures=4):
    """A ``simulate_catalogues`` data set: random SBS96 signatures, two classes."""
    from desurv.benchmark import BenchmarkDataset
    from desurv.datasets.mutational import random_signatures, simulate_catalogues

    sigs = random_signatures(n_signatures, random_state=seed)
    sim = simulate_catalogues(sigs, n_samples, n_classes=2, random_state=seed)
    return BenchmarkDataset(
        f"mutsim-{seed}",
        sim.catalogue,
        sim.labels,
        "classification",
        sim.signatures,
        sim.exposures,
    )


def grid(n_datasets=2, n_seeds=10, n_splits=3, n_samples=200, n_genes=400):
    """The harness runs: list of ``(methods, datasets, run_benchmark keyword arguments)``."""
    seeds = list(range(n_seeds))
    surv = [survival_dataset(s, n_samples, n_genes) for s in range(n_datasets)]
    cats = [catalogue_dataset(s, n_samples) for s in range(n_datasets)]
    runs = []
    for methods, datasets in ((SURVIVAL_METHODS, surv), (SIGNATURE_METHODS, cats)):
        params = {m: PARAMS[m] for m in methods if m in PARAMS}
        runs.append((methods, datasets, dict(seeds=seeds, n_splits=n_splits, params=params)))
    return runs


def n_fits(runs):
    return sum(len(m) * len(d) * kw["n_splits"] * len(kw["seeds"]) for m, d, kw in runs)


def run_all(runs, n_jobs):
    """Every run of the grid with ``run_benchmark(..., n_jobs=n_jobs)``; one results table."""
    from desurv.benchmark import run_benchmark

    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped fits warn; failures are in the table
        for methods, datasets, kw in runs:
            frames.append(run_benchmark(methods, datasets, n_jobs=n_jobs, **kw))
    failed = sum((f.attrs["failed"] for f in frames), [])
    n_fitted = sum(f.attrs["n_fitted"] for f in frames)
    return pd.concat(frames, ignore_index=True), n_fitted, failed


# ----------------------------------------------------------------------------- identity
def compare_results(a, b, timing_metrics=("wall_time",)):
    """Exact comparison of two results tables of :func:`run_benchmark`.

    Returns ``(identical, differences)``: identical is True when both have the same
    columns, dtypes and rows in the same order, every non-value column is equal (missing
    values in the same places), and every value is bitwise equal, except the values of
    ``timing_metrics`` rows. ``differences`` is a list of readable descriptions (empty when
    identical), at most 10 of them.
    """
    diffs = []
    if list(a.columns) != list(b.columns):
        return False, [f"columns differ: {list(a.columns)} vs {list(b.columns)}"]
    if len(a) != len(b):
        return False, [f"row counts differ: {len(a)} vs {len(b)}"]
    for col in a.columns:
        if a[col].dtype != b[col].dtype:
            diffs.append(f"dtype of {col}: {a[col].dtype} vs {b[col].dtype}")
    timing = a["metric"].isin(timing_metrics).to_numpy()
    for col in a.columns:
        if col == "value":
            continue
        na, nb = a[col].isna().to_numpy(), b[col].isna().to_numpy()
        eq = (na == nb) & (na | (a[col].astype(object) == b[col].astype(object)).to_numpy())
        for i in np.flatnonzero(~eq)[:5]:
            diffs.append(f"row {i} column {col}: {a[col].iloc[i]!r} vs {b[col].iloc[i]!r}")
    va = np.ascontiguousarray(a["value"].to_numpy(dtype=np.float64)).view(np.int64)
    vb = np.ascontiguousarray(b["value"].to_numpy(dtype=np.float64)).view(np.int64)
    bad = (va != vb) & ~timing
    for i in np.flatnonzero(bad)[:5]:
        r = a.iloc[i]
        diffs.append(
            f"value of {r['method']}/{r['dataset']}/split {r['split']}/seed {r['seed']}/"
            f"{r['metric']}/{r['subset']}: {a['value'].iloc[i]!r} vs {b['value'].iloc[i]!r}"
        )
    if bad.sum() > 5:
        diffs.append(f"... {int(bad.sum())} values differ in all")
    missing = np.isnan(a["value"].to_numpy()[timing]) != np.isnan(b["value"].to_numpy()[timing])
    if missing.any():
        diffs.append(f"{int(missing.sum())} timing values present in one table only")
    return not diffs, diffs[:10]


# ----------------------------------------------------------------------------- dask
def warm_grid(runs):
    """One fit of every method on its first data set (seed 0, no split): loads the
    kernels and the lazily imported modules of a process before the timed runs."""
    return [(m, d[:1], dict(kw, seeds=[0], n_splits=1)) for m, d, kw in runs]


def run_on_dask(runs, n_workers, threads_per_worker):
    """The grid on a fresh LocalCluster; returns (results, n_fitted, failed, seconds,
    seconds to start and warm the cluster, tasks per worker)."""
    from distributed import Client, LocalCluster, get_task_stream
    from joblib import parallel_config

    from desurv.benchmark import run_benchmark

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(n_workers)
        for methods, datasets, kw in warm_grid(runs):  # on every worker, as in this process
            client.run(_quiet, run_benchmark, methods, datasets, **kw)
        start = time.perf_counter() - t0
        with get_task_stream(client) as ts, parallel_config(backend="dask"):
            t1 = time.perf_counter()
            res, fitted, failed = run_all(runs, n_jobs=-1)
            secs = time.perf_counter() - t1
        per_worker = {}
        for task in ts.data:
            per_worker[task["worker"]] = per_worker.get(task["worker"], 0) + 1
    return res, fitted, failed, secs, start, per_worker


def _quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with warnings ignored; returns nothing (runs on a worker)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn(*args, **kwargs)


def versions():
    import dask
    import distributed
    import joblib
    import numba

    import desurv

    return (
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"joblib {joblib.__version__}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, numba {numba.__version__}, desurv {desurv.__version__}"
    )


# ----------------------------------------------------------------------------- costs
PAPER = {"n_samples": 273, "n_genes": 1970, "k": 3}
STUDY = {"cohorts": 100, "configurations": 1000, "folds": 5}


def _median_seconds(fn, reps):
    """Median CPU seconds of ``fn(r)`` for r < reps (this process; one thread, so on an idle
    core the wall time), the median wall seconds and the values ``fn`` returned."""
    out = []
    for r in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        extra = fn(r)
        out.append((time.process_time() - c0, time.perf_counter() - t0, extra))
    cpu, wall, extras = zip(*out, strict=True)
    return float(np.median(cpu)), float(np.median(wall)), list(extras)


def measure_costs(reps=5):
    """Per-fit and per-CV-cell seconds at the paper's size (one BLAS thread, this process).

    Data: ``simulate_desurv(n_samples=273, n_genes=1970, random_state=r)`` (the R0 design),
    a new data set per repetition r. Measured, medians over ``reps``:

    * ``DeSurv(n_components=3, random_state=r).fit(X, y)``: the estimator's defaults
      (``n_init=20`` starts of 30 iterations, then ``max_iter=1000``, ``tol=1e-6``);
    * ``fit_desurv(..., n_init=1)``: one start, same ``max_iter``/``tol``;
    * one 5-fold CV cell: ``cross_validate(X, y, param_grid={"n_components": [3],
      "alpha": [0.5]}, n_folds=5, n_seeds=1)`` with its defaults (one start per fit,
      ``max_iter=500``, ``tol=1e-6``), i.e. one configuration scored by 5 fits;
    * one 5-fold cell of the benchmark harness: ``run_benchmark("desurv", ds, n_splits=5,
      seeds=[r])`` (the registry's DeSurv defaults, as the estimator's, and every default
      metric);
    * per-task overhead of joblib's dask backend on a 2-worker LocalCluster and of loky:
      the wall time of 500 tasks that do nothing, sent one per batch (``batch_size=1``, as
      long tasks are), divided by 500.
    """
    from threadpoolctl import threadpool_limits

    import desurv
    from desurv.datasets import simulate_desurv
    from desurv.model_selection import cross_validate

    data = [
        simulate_desurv(n_samples=PAPER["n_samples"], n_genes=PAPER["n_genes"], random_state=r)
        for r in range(reps)
    ]
    k = PAPER["k"]
    out = {}
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        desurv.DeSurv(n_components=k, n_init=2, max_iter=5).fit(data[0].X, data[0].y)  # warm

        def estimator(r):
            m = desurv.DeSurv(n_components=k, random_state=r).fit(data[r].X, data[r].y)
            return int(m.n_iter_)

        def one_start(r):
            d = data[r]
            res = desurv.fit_desurv(
                np.ascontiguousarray(d.X.to_numpy().T), d.y["time"], d.y["event"], k,
                n_init=1, random_state=r,
            )  # fmt: skip
            return int(res.n_iter)

        def cv_cell(r):
            res = cross_validate(
                data[r].X, data[r].y, param_grid={"n_components": [k], "alpha": [0.5]},
                n_folds=5, n_seeds=1, random_state=r, n_jobs=1,
            )  # fmt: skip
            return len(res)

        def harness_cell(r):
            from desurv.benchmark import BenchmarkDataset, run_benchmark

            d = data[r]
            ds = BenchmarkDataset(f"paper-{r}", d.X, d.y, "survival")
            res = run_benchmark(["desurv"], ds, seeds=[r], n_splits=5,
                                params={"desurv": {"n_components": k}})  # fmt: skip
            return int(res.attrs["n_fitted"])

        out["estimator"] = _median_seconds(estimator, reps)
        out["one_start"] = _median_seconds(one_start, reps)
        out["cv_cell"] = _median_seconds(cv_cell, max(3, reps // 2))
        out["harness_cell"] = _median_seconds(harness_cell, max(3, reps // 2))
    out["overhead"] = task_overhead()
    return out


def _noop(i):
    return i


def task_overhead(n_tasks=500, n_workers=2):
    """Seconds per trivial task through joblib: {"loky": s, "dask": s}."""
    from distributed import Client, LocalCluster
    from joblib import Parallel, delayed, parallel_config

    res = {}
    with parallel_config(backend="loky"):
        Parallel(n_jobs=n_workers)(delayed(_noop)(i) for i in range(100))  # start workers
        t0 = time.perf_counter()
        Parallel(n_jobs=n_workers, batch_size=1)(delayed(_noop)(i) for i in range(n_tasks))
        res["loky"] = (time.perf_counter() - t0) / n_tasks
    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                     dashboard_address=None) as cluster,
        Client(cluster) as client,
        parallel_config(backend="dask"),
    ):  # fmt: skip
        client.wait_for_workers(n_workers)
        Parallel(n_jobs=-1)(delayed(_noop)(i) for i in range(100))
        t0 = time.perf_counter()
        Parallel(n_jobs=-1, batch_size=1)(delayed(_noop)(i) for i in range(n_tasks))
        res["dask"] = (time.perf_counter() - t0) / n_tasks
    return res


def cost_report(costs, say):
    """Print the measured per-fit figures and what a 100-cohort × 1,000-configuration
    study costs from them (the assumptions are printed with the figures)."""
    est, est_w, n_est = costs["estimator"]
    one, one_w, n_one = costs["one_start"]
    cell, cell_w, _ = costs["cv_cell"]
    hcell, hcell_w, _ = costs["harness_cell"]
    ovh = costs["overhead"]
    say(f"paper size {PAPER['n_genes']} genes x {PAPER['n_samples']} samples, k = {PAPER['k']}, "
        "one BLAS thread, this process; medians of CPU time (wall time):")  # fmt: skip
    say(f"  DeSurv().fit, defaults (20 starts x 30 it + max_iter 1000, tol 1e-6): "
        f"{est:.2f} s ({est_w:.2f} s), iterations {sorted(n_est)}")  # fmt: skip
    say(f"  fit_desurv(n_init=1), max_iter 1000, tol 1e-6: {one:.2f} s ({one_w:.2f} s), "
        f"iterations {sorted(n_one)}")  # fmt: skip
    say(f"  one 5-fold CV cell (cross_validate, 1 configuration, 5 fits, n_init=1, max_iter "
        f"500): {cell:.2f} s ({cell_w:.2f} s)")  # fmt: skip
    say(f"  one 5-fold cell of the harness (run_benchmark 'desurv', registry defaults = the "
        f"estimator's, all default metrics): {hcell:.2f} s ({hcell_w:.2f} s)")  # fmt: skip
    say(f"  joblib per-task overhead (wall), 2 workers: loky {1e3 * ovh['loky']:.2f} ms, Dask "
        f"LocalCluster {1e3 * ovh['dask']:.2f} ms")  # fmt: skip
    cells = STUDY["cohorts"] * STUDY["configurations"]
    fits = cells * STUDY["folds"]
    core_s = cells * cell
    sched = fits * ovh["dask"]  # one task per fit, dispatched one after the other
    say()
    say(f"study: {STUDY['cohorts']} cohorts x {STUDY['configurations']} configurations x "
        f"{STUDY['folds']}-fold CV = {cells:,} CV cells = {fits:,} fits")  # fmt: skip
    say(f"  CPU time: {cells:,} cells x {cell:.2f} s = {core_s / 3600:,.0f} core-hours")
    say(f"  dispatch through Dask, one task per fit, serial: {fits:,} x "
        f"{1e3 * ovh['dask']:.2f} ms = {sched / 3600:.2f} h (a floor at any size)")  # fmt: skip
    say("  wall time, one BLAS thread per core, linear scaling assumed (cv cell | harness "
        "cell):")  # fmt: skip
    for cores in (1, 2, 32, 320, 1280):
        a = max(core_s / cores, sched)
        b = max(cells * hcell / cores, sched)
        say(f"  {cores:5d} cores: {a / 3600:8.1f} h ({a / 86400:6.2f} days) | "
            f"{b / 3600:8.1f} h ({b / 86400:6.2f} days)")  # fmt: skip


def fit_seconds(results):
    """Sum of the per-fit ``wall_time`` values of a results table (seconds)."""
    return float(results.loc[results["metric"] == "wall_time", "value"].sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes (2)")
    ap.add_argument("--threads-per-worker", type=int, default=1)
    ap.add_argument("--datasets", type=int, default=2, help="data sets per task (2)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per cell (10)")
    ap.add_argument("--splits", type=int, default=3, help="cross-validation folds (3)")
    ap.add_argument(
        "--no-loky", action="store_true", help="skip the reference run on joblib's loky backend"
    )
    ap.add_argument("--out", default=str(RESULTS / "dask_harness.txt"))
    ap.add_argument(
        "--costs",
        action="store_true",
        help="only measure per-fit and per-CV-cell times at the paper's size and print "
        "what a 100-cohort x 1,000-configuration study costs (nothing written)",
    )
    ap.add_argument(
        "--no-costs", action="store_true", help="skip the per-fit costs after the harness"
    )
    args = ap.parse_args(argv)
    if args.costs:
        print(f"load average before: {os.getloadavg()}", flush=True)
        cost_report(measure_costs(), print)
        print(f"load average after: {os.getloadavg()}")
        return 0

    lines = []

    def say(msg=""):
        print(msg, flush=True)
        lines.append(msg)

    runs = grid(args.datasets, args.seeds, args.splits)
    total = n_fits(runs)
    say(f"# desurv benchmark harness: n_jobs=1 vs a local Dask cluster ({time.strftime('%F')})")
    cli = " ".join(sys.argv[1:] if argv is None else argv)
    say(f"command: python benchmarks/dask_harness.py {cli}".rstrip())
    say(f"versions: {versions()}")
    say(f"machine: {os.cpu_count()} logical CPUs, {platform.machine()}, {sys.platform}")
    say(
        f"grid: {SURVIVAL_METHODS} on {[d.name for d in runs[0][1]]} + {SIGNATURE_METHODS} on "
        f"{[d.name for d in runs[1][1]]}; {args.splits}-fold CV x {args.seeds} seeds"
    )
    say(f"hyperparameter overrides: {PARAMS}")
    say(f"load average before: {os.getloadavg()}")

    from threadpoolctl import threadpool_limits

    timings = {}
    with threadpool_limits(1):  # as the Dask workers (the runner limits each fit anyway)
        run_all(warm_grid(runs), n_jobs=1)  # warm this process as the workers are warmed
        t0 = time.perf_counter()
        serial, fitted1, failed1 = run_all(runs, n_jobs=1)
        timings["n_jobs=1"] = (time.perf_counter() - t0, fit_seconds(serial))
    say(f"n_jobs=1: {fitted1} fits in {timings['n_jobs=1'][0]:.1f} s")
    dask_res, fitted2, failed2, t_dask, t_start, per_worker = run_on_dask(
        runs, args.workers, args.threads_per_worker
    )
    timings["dask"] = (t_dask, fit_seconds(dask_res))
    say(
        f"Dask LocalCluster ({args.workers} worker processes x {args.threads_per_worker} "
        f"thread): {fitted2} fits in {t_dask:.1f} s; starting and warming the cluster "
        f"{t_start:.1f} s (not included); joblib batches per worker: "
        f"{sorted(per_worker.values())}"
    )
    checks = [("Dask", *compare_results(serial, dask_res))]
    if not args.no_loky:
        from joblib import parallel_config

        with parallel_config(backend="loky"):
            run_all(warm_grid(runs), n_jobs=args.workers)  # starts the loky workers
            t0 = time.perf_counter()
            loky_res = run_all(runs, n_jobs=args.workers)[0]
            timings["loky"] = (time.perf_counter() - t0, fit_seconds(loky_res))
        say(f"loky (n_jobs={args.workers}, reference for the Dask overhead): "
            f"{timings['loky'][0]:.1f} s")  # fmt: skip
        checks.append(("loky", *compare_results(serial, loky_res)))
    say(f"load average after: {os.getloadavg()}")
    ok = all(c[1] for c in checks)
    say()
    say(f"fits: {fitted1} per run (expected {total}); failed cells: {len(failed1)} / "
        f"{len(failed2)}")  # fmt: skip
    say(f"results rows: {len(serial)}, of which wall_time rows (values not compared): "
        f"{int((serial['metric'] == 'wall_time').sum())}")  # fmt: skip
    for name, (secs, busy) in timings.items():
        say(f"wall time {name:9s} {secs:6.1f} s  ({fitted1 / secs:5.1f} fits/s; sum of fit "
            f"times {busy:6.1f} s = {busy / secs:.2f} busy cores)")  # fmt: skip
    say(f"speed-up Dask vs n_jobs=1: {timings['n_jobs=1'][0] / timings['dask'][0]:.2f}x")
    if "loky" in timings:
        say(f"speed-up loky vs n_jobs=1: {timings['n_jobs=1'][0] / timings['loky'][0]:.2f}x")
    for name, same, diffs in checks:
        say(f"identical ({name} vs n_jobs=1): {same}")
        for d in diffs:
            say(f"  {d}")
    say(f"identical: {ok}")
    from desurv.benchmark import summarize

    summ = summarize(serial)
    main_metrics = ["harrell_c", "f1_macro", "signature_cosine", "consistency"]
    keep = summ["metric"].isin(main_metrics) & (
        (summ["subset"] == "test") | summ["metric"].isin(["signature_cosine", "consistency"])
    )
    say()
    say("medians of the main metrics (n_jobs=1 run; the other runs are identical):")
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        say(summ[keep].to_string(index=False))
    if not args.no_costs:
        say()
        say(f"# costs at the paper's size (load average {os.getloadavg()})")
        cost_report(measure_costs(), say)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
