"""Scaling study: time per iteration and per fit of ``fit_desurv`` as p, n and k grow, and
time per iteration of the family's other methods as n grows.

Not a test and not an asv benchmark (nothing runs on import): a script that writes
``benchmarks/results/scaling.csv`` and ``benchmarks/results/scaling.png`` and prints the
observed exponents and the memory model. Timings on shared machines are noisy: every figure
is a median over repetitions, and the products with X that one iteration needs are timed in
the same process on the same data, alternating with the fits, so their ratio is meaningful.

What is measured (one BLAS thread, α = 0.5, λ = 0.1, ξ = 0.5, Breslow ties):

* Data: ``desurv.datasets.simulate_desurv(n_samples=n, n_genes=p, n_components=3,
  n_markers=max(10, p // 20), n_background=p // 6, random_state=0)``, i.e. the paper's R0
  scenario with its marker/background fractions at 3,000 genes kept at every p (three true
  programs; the fitted k varies on its own axis). One axis varies at a time around the
  base point p = 2,000 genes, n = 300 samples, k = 5.
* Start: W, H uniform on [0, max X] from ``numpy.random.default_rng(0)`` (as the package's
  random starts), β = 0, passed as ``W_init``/``H_init`` so that one fit is one run.
* Time per iteration: median over repetitions of (t(2N) − t(N)) / (n_iter(2N) − n_iter(N))
  for fits with ``max_iter`` = N and 2N at ``tol = 0``; the difference cancels validation,
  sorting and the final Cox refit, whose cost is seen in the time of a 1-iteration fit
  (``fit_1iter_ms``). N is chosen so that N iterations take ≈ ``--target`` s.
* Products: the two products with X one iteration cannot avoid, ``WᵀX`` and ``X·[Hᵀ | g]``
  (NumPy/BLAS, same X), timed between the fits.
* Time per fit: a full fit from the same start with the default ``tol`` and ``max_iter``
  (n_iter reported): ≈ set-up + n_iter × per-iteration. n_iter depends on the data (the
  tol = 1e-6 stop), so the per-fit exponent mixes size and convergence; read it with n_iter.
  The default ``n_init = 20`` short starts add up to 20 × 30 iterations at the per-iteration
  cost.
* Exponents: slope of ``numpy.polyfit(log size, log time, 1)`` over the points whose size is
  at least the base point's half (where the O(pnk) products dominate fixed costs); the
  points used are flagged ``in_slope`` in the CSV.
* Memory (one subprocess per size, uniform random X and exponential survival times, fits
  from a fixed start): ``tracemalloc`` peak during ``fit_desurv`` (NumPy allocations beyond
  the caller's X) and the growth of the peak resident set size (the kernel's high-water
  mark, reset before the fit; ``resource.getrusage`` where /proc is missing), as multiples
  of X.nbytes; a least-squares model bytes ≈ c·X.nbytes + b gives the largest fit that
  fits in ``--ram-gib`` GiB (the caller's X included), for float64 and, when
  ``fit_desurv`` has a ``dtype`` option, float32. Per-iteration time there is the median
  interval between ``callback`` calls of a 6-iteration fit.
* ``--large 20000x20000:float32``: the same measurement on large fits, each in a
  subprocess, run only when the memory model says they fit in ``--large-limit-gib`` and in
  the memory available now.
* The family (CSV sections ``family`` and ``family_exponent``, bottom panel of the plot):
  DeSurv (``fit_desurv`` as above), ``NMF`` (multiplicative updates, Frobenius and KL),
  ``ConvexNMF``, ``AENMF``, ``SupervisedNMF`` (``mode="supervised"``, one replicate),
  ``DeepUnfoldedNMF`` (unsupervised, ``init="repository"``) and ``CoxMT`` (default
  network, full-batch epochs) on the samples × genes X of the same simulation at
  p = ``--family-p`` = 500 genes, k = 5, n = 100 … 3,200 (``--quick``: 100, 400, 1,600);
  SupervisedNMF's labels are each sample's dominant true program, CoxMT's target the
  simulated survival. Every stopping rule is off, so a fit with ``max_iter = N`` does N
  iterations (epochs, Adam steps). Time per iteration: median over ``--family-reps`` (3)
  of (t(2N) − t(N)) / (iterations(2N) − iterations(N)), N grown from 4 until the
  difference exceeds ``--family-target`` seconds and half the set-up, as for DeSurv; the
  two BLAS products at the same size are printed as a reference; exponents over n ≥ 400.
  The thread pools (NumPy's and SciPy's OpenBLAS, OpenMP) are loaded before BLAS is
  limited to one thread (:func:`load_thread_pools`).

    python benchmarks/scaling.py            # full study (~2-4 min)
    python benchmarks/scaling.py --quick    # smoke version (~30 s)
    python benchmarks/scaling.py --replot   # redraw the plot from the CSV
    python benchmarks/scaling.py --skip-axes --large 20000x20000 20000x20000:float32
    python benchmarks/scaling.py --family-only          # the family only (~3 min; ~1.5 quick)
    python benchmarks/scaling.py --skip-family          # DeSurv only (family rows kept)
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from time import perf_counter

import numpy as np

BASE = {"p": 2000, "n": 300, "k": 5}
AXES = {
    "p": [500, 1000, 2000, 4000, 8000, 16000],
    "n": [100, 200, 300, 600, 1200, 2400],
    "k": [2, 3, 5, 10, 20],
}
QUICK_AXES = {"p": [500, 2000, 8000], "n": [100, 300, 1200], "k": [2, 5, 10]}
# X of 4.8 MB (the base point) up to 800 MB; the RSS model uses X >= 20 MB only (smaller
# arrays come and go inside memory the interpreter already holds)
MEMORY_SIZES = [(2000, 300), (4000, 1500), (8000, 3000), (16000, 3000), (20000, 5000)]
QUICK_MEMORY_SIZES = [(2000, 300), (4000, 1500), (8000, 1500)]
MODEL_MIN_BYTES = 20e6
AXIS_LABEL = {"p": "genes p", "n": "samples n", "k": "components k"}
FIT_KW = dict(alpha=0.5, penalty=0.1, l1_ratio=0.5)
# the family's methods: time per iteration (epoch, Adam step) as n grows at a fixed p
FAMILY_P, FAMILY_K = 500, 5
FAMILY_N = [100, 200, 400, 800, 1600, 3200]
QUICK_FAMILY_N = [100, 400, 1600]
FAMILY_SLOPE_MIN_N = 400  # below it fixed per-iteration costs dominate
COLUMNS = [
    "section", "axis", "p", "n", "k", "dtype", "x_mbytes", "reps", "iters_N",
    "per_iter_ms", "per_iter_rel_iqr", "backtracks_per_iter", "fit_1iter_ms", "products_ms",
    "iter_over_products",
    "fit_s", "fit_n_iter", "fit_converged", "in_slope",
    "tracemalloc_peak_over_x", "rss_growth_over_x", "rss_total_over_x",
    "exponent_iter", "exponent_fit", "exponent_products", "note", "method", "unit",
]  # fmt: skip


# ----------------------------------------------------------------------------- data
def simulated_problem(p, n, k, seed=0):
    """Simulated data (genes × samples, contiguous) and the fixed start for one point."""
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(
        n_samples=n, n_genes=p, n_components=3, n_markers=max(10, p // 20),
        n_background=p // 6, random_state=seed,
    )  # fmt: skip
    X = np.ascontiguousarray(sim.X.to_numpy().T)
    rng = np.random.default_rng(seed)
    top = float(X.max())
    W0 = rng.uniform(0.0, top, size=(p, k))
    H0 = rng.uniform(0.0, top, size=(k, n))
    return X, np.asarray(sim.y["time"], float), np.asarray(sim.y["event"], bool), W0, H0


def random_problem(p, n, k, dtype="float64", seed=0):
    """Uniform X (one allocation, no temporaries) with exponential survival, and a start."""
    rng = np.random.default_rng(seed)
    X = rng.random((p, n), dtype=np.dtype(dtype))
    t = rng.exponential(1.0, size=n)
    e = rng.random(n) < 0.7
    e[0] = True
    W0 = rng.uniform(size=(p, k))
    H0 = rng.uniform(size=(k, n))
    return X, t, e, W0, H0


def has_dtype_option():
    from desurv import fit_desurv

    return "dtype" in inspect.signature(fit_desurv).parameters


# ----------------------------------------------------------------------------- timing
def run_fit(X, t, e, W0, H0, **kw):
    """One fit from the fixed start; returns (seconds, result)."""
    from desurv import fit_desurv

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = perf_counter()
        res = fit_desurv(X, t, e, W0.shape[1], W_init=W0, H_init=H0, **FIT_KW, **kw)
        return perf_counter() - t0, res


def products_seconds(X, W, H, g, repeat):
    """Mean seconds of WᵀX plus X·[Hᵀ | g] over ``repeat`` evaluations."""
    k = W.shape[1]
    M = np.empty((X.shape[1], k + 1), X.dtype)
    M[:, :k] = H.T
    M[:, k] = g
    t0 = perf_counter()
    for _ in range(repeat):
        W.T @ X
        X @ M
    return (perf_counter() - t0) / repeat


def measure_point(p, n, k, reps, target):
    """Per-iteration, products and per-fit times at one (p, n, k)."""
    X, t, e, W0, H0 = simulated_problem(p, n, k)
    run_fit(X, t, e, W0, H0, max_iter=2, tol=0.0)  # warm caches and kernels
    # pilot: pick N so that N iterations take about `target` seconds (the pilot includes the
    # set-up, so it over-estimates an iteration: N errs on the small, cheap side)
    dt, res = run_fit(X, t, e, W0, H0, max_iter=20, tol=0.0)
    N1 = int(np.clip(round(target * res.n_iter / dt), 5, 1000))
    N2, note = 2 * N1, ""
    stop = run_fit(X, t, e, W0, H0, max_iter=N2, tol=0.0)[1].n_iter
    if stop < N2:
        # F stopped changing at all (every W trial rejected, H at its fixed point), which
        # ends even a tol = 0 run: difference runs of stop // 2 and stop iterations instead.
        N1, N2 = max(stop // 2, 1), stop
        note = f"F exactly stationary after {stop} iterations (W steps rejected): N = {N1}"
    g = np.random.default_rng(1).standard_normal(n)
    Wn = W0 / np.linalg.norm(W0, axis=0)
    per_iter, one, prods = [], [], []
    for _ in range(reps):  # alternate N, 2N and the products in every repetition
        t1, r1 = run_fit(X, t, e, W0, H0, max_iter=N1, tol=0.0)
        t2, r2 = run_fit(X, t, e, W0, H0, max_iter=N2, tol=0.0)
        d = r2.n_iter - r1.n_iter
        per_iter.append((t2 - t1) / d if d > 0 else np.nan)
        backtracks = float(np.mean(r2.history["backtracks"][r1.n_iter :])) if d else np.nan
        prods.append(products_seconds(X, Wn, H0, g, max(N1, 3)))
        one.append(run_fit(X, t, e, W0, H0, max_iter=1, tol=0.0)[0])  # set-up + 1 iteration
    fits = [run_fit(X, t, e, W0, H0)]
    while len(fits) < min(reps, 3) and fits[0][0] < 2.0:  # repeat only the cheap fits
        fits.append(run_fit(X, t, e, W0, H0))
    q25, q50, q75 = np.percentile(per_iter, [25, 50, 75])
    return {
        "p": p, "n": n, "k": k, "dtype": "float64", "x_mbytes": X.nbytes / 1e6,
        "reps": reps, "iters_N": N1, "per_iter_ms": 1e3 * q50,
        "per_iter_rel_iqr": (q75 - q25) / q50, "backtracks_per_iter": backtracks,
        "fit_1iter_ms": 1e3 * float(np.median(one)),
        "products_ms": 1e3 * float(np.median(prods)),
        "fit_s": float(np.median([f[0] for f in fits])), "fit_n_iter": fits[0][1].n_iter,
        "fit_converged": fits[0][1].converged, "note": note,
    }  # fmt: skip


def load_thread_pools():
    """Load every library with a thread pool that a fit may use, before limiting them.

    ``threadpool_limits(1)`` limits only the libraries loaded when it is entered. Numba's
    ``np.dot`` (e.g. the KL multiplicative updates' BLAS path) calls SciPy's OpenBLAS, a
    library of its own beside NumPy's: loaded later, it keeps its default thread count
    (measured: NMF KL at 400 × 500, k = 5, 16-25 ms per iteration with SciPy's OpenBLAS on
    2 threads of a loaded 2-core machine, 1.6-2 ms on one)."""
    import scipy.linalg  # noqa: F401 - SciPy's OpenBLAS (Numba's BLAS)
    import sklearn.decomposition  # noqa: F401 - scikit-learn's OpenMP runtime

    import desurv  # noqa: F401


def slope(x, y):
    """Observed exponent: least-squares slope of log y on log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def run_axes(axes, reps, target):
    from threadpoolctl import threadpool_limits

    load_thread_pools()
    rows, exps = [], {}
    with threadpool_limits(1):
        for axis, values in axes.items():
            for v in values:
                pt = {**BASE, axis: v}
                t0 = perf_counter()
                r = measure_point(pt["p"], pt["n"], pt["k"], reps, target)
                r.update(section="time", axis=axis)
                r["iter_over_products"] = r["per_iter_ms"] / r["products_ms"]
                r["in_slope"] = bool(v >= BASE[axis] / 2 and np.isfinite(r["per_iter_ms"]))
                rows.append(r)
                print(
                    f"  {axis}={v:>6}: {r['per_iter_ms']:8.3f} ms/iter  products "
                    f"{r['products_ms']:8.3f} ms  (x{r['iter_over_products']:.2f}, "
                    f"{r['backtracks_per_iter']:.1f} backtracks/iter)  fit "
                    f"{r['fit_s']:7.3f} s / {r['fit_n_iter']} it   [{perf_counter() - t0:.0f} s]",
                    flush=True,
                )
            sel = [r for r in rows if r["axis"] == axis and r["in_slope"]]
            x = [r[axis] for r in sel]
            exps[axis] = {
                "exponent_iter": slope(x, [r["per_iter_ms"] for r in sel]),
                "exponent_fit": slope(x, [r["fit_s"] for r in sel]),
                "exponent_products": slope(x, [r["products_ms"] for r in sel]),
            }
            print(
                f"exponent in {axis} (points {x}): per iteration "
                f"{exps[axis]['exponent_iter']:.2f}, per fit {exps[axis]['exponent_fit']:.2f}, "
                f"products {exps[axis]['exponent_products']:.2f}",
                flush=True,
            )
    return rows, exps


# ----------------------------------------------------------------------------- family
def family_problem(p, n, seed=0):
    """Samples × genes X (scikit-learn orientation), survival y, 3-class labels (the
    dominant true program of each sample) from the same simulation as the DeSurv axes."""
    from desurv.datasets import simulate_desurv

    sim = simulate_desurv(
        n_samples=n, n_genes=p, n_components=3, n_markers=max(10, p // 20),
        n_background=p // 6, random_state=seed,
    )  # fmt: skip
    X = np.ascontiguousarray(sim.X.to_numpy())
    return X, sim.y, np.argmax(sim.H, axis=0)


def family_methods(k):
    """name -> (unit of one iteration, builder(N) of an estimator that runs exactly N).

    Every stopping rule is switched off (``tol=0``, no early stopping, ``min_iter =
    max_iter`` for SupervisedNMF) so a fit with ``max_iter=N`` runs N iterations.
    DeSurv (``fit_desurv``, as in the axes above) has builder None.
    """
    from desurv.decomposition import AENMF, NMF, ConvexNMF, DeepUnfoldedNMF, SupervisedNMF
    from desurv.survival.coxmt import CoxMT

    def nmf(loss):
        return lambda N: NMF(k, solver="mu", beta_loss=loss, init="random", tol=0.0,
                             max_iter=N, random_state=0)  # fmt: skip

    return {
        "DeSurv": ("iteration", None),
        "NMF Frobenius (MU)": ("iteration", nmf("frobenius")),
        "NMF KL (MU)": ("iteration", nmf("kullback-leibler")),
        "ConvexNMF": ("iteration", lambda N: ConvexNMF(k, tol=0.0, max_iter=N, random_state=0)),
        "AENMF": (
            "Adam step",
            lambda N: AENMF(k, tol=0.0, max_iter=N, tol_window=N, random_state=0),
        ),
        "SupervisedNMF": (
            "iteration",
            lambda N: SupervisedNMF(
                k,
                mode="supervised",
                n_replicates=1,
                min_iter=N,
                max_iter=N,
                check_every=N,
                random_state=0,
            ),
        ),  # fmt: skip
        "DeepUnfoldedNMF": (
            "Adam step",
            lambda N: DeepUnfoldedNMF(
                k,
                mode="unsupervised",
                init="repository",
                early_stopping=False,
                tol=0.0,
                max_iter=N,
                lambda_l1=0.0,
                lambda_l2=0.0,
                random_state=0,
            ),
        ),  # fmt: skip
        "CoxMT": (
            "epoch",
            lambda N: CoxMT(max_epochs=N, early_stopping=False, random_state=0),
        ),
    }


def family_fitter(name, build, X, y, labels, k):
    """``fit(N) -> (seconds, iterations done)`` for one method on one data set."""
    if build is None:  # DeSurv: fit_desurv from a fixed start, genes × samples
        Xg = np.ascontiguousarray(X.T)
        rng = np.random.default_rng(0)
        top = float(Xg.max())
        W0 = rng.uniform(0.0, top, size=(Xg.shape[0], k))
        H0 = rng.uniform(0.0, top, size=(k, Xg.shape[1]))
        t, e = np.asarray(y["time"], float), np.asarray(y["event"], bool)

        def fit(N):
            dt, res = run_fit(Xg, t, e, W0, H0, max_iter=N, tol=0.0)
            return dt, int(res.n_iter)

        return fit
    target = {"SupervisedNMF": labels, "CoxMT": y}.get(name)

    def fit(N):
        est = build(N)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = perf_counter()
            if target is None:
                est.fit(X)
            else:
                est.fit(X, target)
            dt = perf_counter() - t0
        return dt, int(np.sum(est.n_iter_))

    return fit


def family_iterations(fit, target, cap=4000):
    """N for the differences t(2N) − t(N): from N = 4, multiplied by up to 16 until the
    difference is at least ``target`` seconds and half the set-up (t(N) minus the
    difference), with N >= 16 unless the difference is already 8 × ``target`` (one epoch of
    CoxMT): a single delay of the machine must not pass for N iterations."""
    N = 4
    while True:
        (t1, _), (t2, i2) = fit(N), fit(2 * N)
        d = t2 - t1
        need = max(target, 0.5 * max(t1 - d, 0.0))
        if (d >= need and (N >= 16 or d >= 8 * target)) or N >= cap or i2 < 2 * N:
            return N
        N = min(cap, N * int(np.clip(np.ceil(1.2 * need / max(d, target / 16)), 2, 16)))


def measure_family_point(name, unit, build, p, n, k, reps, target):
    """Median (over ``reps``) of (t(2N) − t(N)) / (iterations(2N) − iterations(N)), with
    N from :func:`family_iterations`; the difference cancels each method's set-up (data
    checks, starts, SupervisedNMF's head refit)."""
    X, y, labels = family_problem(p, n)
    fit = family_fitter(name, build, X, y, labels, k)
    fit(2)  # kernels for these shapes, lazy imports
    N1 = family_iterations(fit, target)
    per, note = [], ""
    for _ in range(reps):
        t1, i1 = fit(N1)
        t2, i2 = fit(2 * N1)
        per.append((t2 - t1) / (i2 - i1) if i2 > i1 else np.nan)
        if i2 < 2 * N1:
            note = f"stopped at {i2} < {2 * N1} iterations"
    Wn = np.random.default_rng(1).uniform(size=(p, k))
    Wn /= np.linalg.norm(Wn, axis=0)
    H = np.random.default_rng(2).uniform(size=(k, n))
    Xg = np.ascontiguousarray(X.T)
    prods = [products_seconds(Xg, Wn, H, np.ones(n), 5) for _ in range(3)]
    q25, q50, q75 = np.nanpercentile(per, [25, 50, 75])
    return {
        "section": "family", "axis": "n", "method": name, "unit": unit, "p": p, "n": n,
        "k": k, "dtype": "float64", "x_mbytes": X.nbytes / 1e6, "reps": reps,
        "iters_N": N1, "per_iter_ms": 1e3 * q50, "per_iter_rel_iqr": (q75 - q25) / q50,
        "products_ms": 1e3 * float(np.median(prods)),
        "iter_over_products": q50 / float(np.median(prods)),
        "in_slope": bool(n >= FAMILY_SLOPE_MIN_N and np.isfinite(q50)), "note": note,
    }  # fmt: skip


def run_family(ns, reps, target, p=FAMILY_P, k=FAMILY_K):
    """Time per iteration of every family method at each n (fixed p, k); exponents in n."""
    from threadpoolctl import threadpool_limits

    rows = []
    load_thread_pools()
    family_methods(k)  # imports the estimators
    with threadpool_limits(1):
        for name, (unit, build) in family_methods(k).items():
            sel = []
            for n in ns:
                t0 = perf_counter()
                r = measure_family_point(name, unit, build, p, n, k, reps, target)
                rows.append(r)
                sel.append(r)
                print(
                    f"  {name:19s} n={n:>5}: {r['per_iter_ms']:9.3f} ms/{unit} "
                    f"(x{r['iter_over_products']:6.2f} the two products, N={r['iters_N']})"
                    f"   [{perf_counter() - t0:.0f} s]",
                    flush=True,
                )
            use = [r for r in sel if r["in_slope"]]
            e = slope([r["n"] for r in use], [r["per_iter_ms"] for r in use]) if len(use) > 1 \
                else np.nan  # fmt: skip
            rows.append({"section": "family_exponent", "axis": "n", "method": name,
                         "unit": unit, "p": p, "k": k, "exponent_iter": e})  # fmt: skip
            print(f"  {name}: exponent in n {e:.2f} (n >= {FAMILY_SLOPE_MIN_N})", flush=True)
    return rows


# ----------------------------------------------------------------------------- memory
def _peak_rss_bytes():
    """Peak resident set size of this process (VmHWM; getrusage's ru_maxrss as a fallback).

    Both read the kernel's high-water mark, but ru_maxrss also keeps the peak of any thread
    that has exited (e.g. at import time), so only VmHWM follows a reset by _reset_peak_rss.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _current_rss_bytes():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark to the current RSS (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def memory_child(p, n, k, dtype, iters):
    """Run in a fresh process: peak memory and iteration time of fits at one size.

    Prints one JSON line. Order: resident-set peak of a 1-iteration fit (which also warms
    the kernels for these shapes), an ``iters``-iteration fit for the per-iteration time
    (median interval between the callback's calls), the BLAS products, and last the
    tracemalloc peak (its bookkeeping slows allocation, so it runs alone).
    """
    import tracemalloc

    from threadpoolctl import threadpool_limits

    kw = {"dtype": dtype} if has_dtype_option() else {}
    load_thread_pools()
    with threadpool_limits(1):
        Xs, ts, es, Ws, Hs = random_problem(50, 40, k, dtype)  # load kernels on tiny data
        run_fit(Xs, ts, es, Ws, Hs, max_iter=2, tol=0.0, **kw)
        del Xs
        base = _current_rss_bytes()
        X, t, e, W0, H0 = random_problem(p, n, k, dtype)
        reset = _reset_peak_rss()
        before = _peak_rss_bytes() if reset else _current_rss_bytes()
        dt1, r1 = run_fit(X, t, e, W0, H0, max_iter=1, tol=0.0, **kw)
        after = _peak_rss_bytes()
        # per-iteration time from the callback's time stamps (set-up excluded; at these
        # sizes set-up varies by more than a few iterations cost, so differencing is noisy)
        stamps = []
        dt, _ = run_fit(X, t, e, W0, H0, max_iter=iters, tol=0.0,
                        callback=lambda i, obj: stamps.append(perf_counter()), **kw)  # fmt: skip
        per_iter = float(np.median(np.diff(stamps)))
        dt1 = run_fit(X, t, e, W0, H0, max_iter=1, tol=0.0, **kw)[0]  # warm set-up + 1 iteration
        Wn = (W0 / np.linalg.norm(W0, axis=0)).astype(X.dtype)
        prods = products_seconds(X, Wn, H0.astype(X.dtype), np.ones(n, X.dtype), 2)
        tracemalloc.start()
        run_fit(X, t, e, W0, H0, max_iter=1, tol=0.0, **kw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out = {
        "p": p, "n": n, "k": k, "dtype": dtype, "x_bytes": X.nbytes,
        "x_itemsize": X.itemsize, "base_rss": base, "rss_before": before, "rss_after": after,
        "tracemalloc_peak": peak, "per_iter_s": per_iter, "fit_1iter_s": dt1,
        "fit_s": dt, "iters": iters, "products_s": prods,
        "dtype_option": bool(kw), "peak_reset": reset,
    }  # fmt: skip
    print("RESULT " + json.dumps(out), flush=True)


def run_child(p, n, k, dtype, iters, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child",
           f"{p}x{n}", "-k", str(k), "--dtype", dtype, "--iters", str(iters)]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"memory child failed:\n{out.stdout}\n{out.stderr}")


def memory_row(m, section):
    xb = m["x_bytes"]
    return {
        "section": section, "p": m["p"], "n": m["n"], "k": m["k"], "dtype": m["dtype"],
        "x_mbytes": xb / 1e6, "per_iter_ms": 1e3 * m["per_iter_s"],
        "fit_1iter_ms": 1e3 * m["fit_1iter_s"],
        "products_ms": 1e3 * m["products_s"],
        "iter_over_products": m["per_iter_s"] / m["products_s"],
        "tracemalloc_peak_over_x": m["tracemalloc_peak"] / xb,
        "rss_growth_over_x": (m["rss_after"] - m["rss_before"]) / xb,
        "rss_total_over_x": (m["rss_after"] - m["base_rss"]) / xb,
        "note": "" if m["dtype_option"] or m["dtype"] == "float64"
        else "no dtype option: converted to float64",
    }  # fmt: skip


def memory_model(ms, ram_gib):
    """Fit peak ≈ c·X.nbytes + b (RSS incl. the caller's X) and the largest p·n in RAM."""
    ms = [m for m in ms if m["x_bytes"] >= MODEL_MIN_BYTES]
    xb = np.array([m["x_bytes"] for m in ms], float)
    total = np.array([m["rss_after"] - m["base_rss"] for m in ms], float)
    if len(ms) >= 3:
        c, b = np.polyfit(xb, total, 1)
    else:  # too few points for an intercept: proportional model through the origin
        c, b = float(xb @ total / (xb @ xb)), 0.0
    base = float(np.median([m["base_rss"] for m in ms]))
    item = ms[0]["x_itemsize"]
    budget = ram_gib * 2**30 - base - max(b, 0.0)
    pn_max = budget / (c * item)
    return {"c": float(c), "b": float(b), "base_rss": base, "pn_max": pn_max, "itemsize": item}


def run_memory(sizes, k, ram_gib, dtypes):
    rows, models = [], {}
    for dtype in dtypes:
        ms = []
        for p, n in sizes:
            m = run_child(p, n, k, dtype, iters=6, timeout=600)
            ms.append(m)
            r = memory_row(m, "memory")
            rows.append(r)
            print(
                f"  memory {dtype} {p}x{n} (X {r['x_mbytes']:.0f} MB): tracemalloc peak "
                f"{r['tracemalloc_peak_over_x']:.2f}·X, RSS growth {r['rss_growth_over_x']:.2f}·X,"
                f" RSS incl. X {r['rss_total_over_x']:.2f}·X",
                flush=True,
            )
        mod = memory_model(ms, ram_gib)
        models[dtype] = mod
        side = int(np.sqrt(mod["pn_max"]))
        print(
            f"memory model {dtype}: resident bytes ≈ {mod['c']:.2f}·X.nbytes + "
            f"{mod['b'] / 2**20:.0f} MiB (X.nbytes = {mod['itemsize']}·p·n; interpreter "
            f"{mod['base_rss'] / 2**20:.0f} MiB) -> largest fit in {ram_gib} GiB: p·n ≈ "
            f"{mod['pn_max']:.3g} (e.g. {side:,} × {side:,}, or 20,000 genes × "
            f"{int(mod['pn_max'] / 20000):,} samples)",
            flush=True,
        )
    return rows, models


def available_bytes():
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def run_large(p, n, k, dtype, limit_gib, factor):
    need = factor * p * n * np.dtype(dtype).itemsize
    avail = available_bytes()
    if need > limit_gib * 2**30 or need > 0.8 * avail:
        print(
            f"large fit {p}x{n} skipped: needs ~{need / 2**30:.1f} GiB, limit {limit_gib} GiB, "
            f"available {avail / 2**30:.1f} GiB"
        )
        return []
    print(f"large fit {p}x{n} {dtype} (~{need / 2**30:.1f} GiB expected) ...", flush=True)
    m = run_child(p, n, k, dtype, iters=6, timeout=1800)
    r = memory_row(m, "large")
    print(
        f"  large {p}x{n} {dtype}: {r['per_iter_ms'] / 1e3:.2f} s/iteration, fit with one "
        f"iteration {m['fit_1iter_s']:.1f} s, RSS incl. X {r['rss_total_over_x']:.2f}·X "
        f"({(m['rss_after'] - m['base_rss']) / 2**30:.2f} GiB)",
        flush=True,
    )
    return [r]


# ----------------------------------------------------------------------------- output
def write_csv(path, rows):
    """Write rows; sections not re-measured in this run are kept from an existing file."""
    fresh = {r["section"] for r in rows}
    if path.exists():
        with open(path, newline="") as fh:
            rows = [r for r in csv.DictReader(fh) if r["section"] not in fresh] + rows
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: (f"{v:.6g}" if isinstance(v, float) else v) for c, v in r.items()})


def plot(path, rows, exps):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = [a for a in ("p", "n", "k") if a in exps]
    family = [r for r in rows if r["section"] == "family"]
    ncol = max(len(axes), 1)
    if family:
        fig = plt.figure(figsize=(5.2 * max(ncol, 3), 5.6 + (6.4 if axes else 0.8)))
        gs = fig.add_gridspec(2 if axes else 1, ncol, height_ratios=[1, 1.15] if axes else None)
        top = [fig.add_subplot(gs[0, i]) for i in range(len(axes))]
        plot_family(fig.add_subplot(gs[-1, :]), rows)
    else:
        fig, axs = plt.subplots(1, ncol, figsize=(5.2 * ncol, 5.6), squeeze=False)
        top = list(axs[0])
    for ax, axis in zip(top, axes, strict=True):
        rs = [r for r in rows if r["section"] == "time" and r["axis"] == axis]
        x = np.array([r[axis] for r in rs], float)
        it = np.array([r["per_iter_ms"] for r in rs]) / 1e3
        pr = np.array([r["products_ms"] for r in rs]) / 1e3
        fit = np.array([r["fit_s"] for r in rs])
        e = exps[axis]
        ax.loglog(x, fit, "s-", color="C3",
                  label=f"per fit (exponent {e['exponent_fit']:.2f}, n_iter varies)")  # fmt: skip
        ax.loglog(x, it, "o-", color="C0",
                  label=f"per iteration (exponent {e['exponent_iter']:.2f})")  # fmt: skip
        ax.loglog(x, pr, "^--", color="C2", ms=5,
                  label=f"BLAS WᵀX + X·[Hᵀ|g] (exponent {e['exponent_products']:.2f})")  # fmt: skip
        ok = np.flatnonzero(np.isfinite(it))
        mid = ok[len(ok) // 2]
        guide = it[mid] * x / x[mid] * 0.5
        ax.loglog(x, guide, ":", color="0.4", label="slope 1 (guide)")
        for xi, fi, r in zip(x, fit, rs, strict=True):
            ax.annotate(str(r["fit_n_iter"]), (xi, fi), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=7, color="C3")  # fmt: skip
        ax.set_xlabel(AXIS_LABEL[axis])
        others = ", ".join(f"{a} = {BASE[a]:,}" for a in ("p", "n", "k") if a != axis)
        ax.set_title(f"varying {axis} ({others})", fontsize=10)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{int(v):,}" for v in x], fontsize=9)
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14))
        lo = np.nanmin(np.concatenate([guide, pr, it]))
        ax.set_ylim(lo / 2, fit.max() * 4)
    if top:
        top[0].set_ylabel("seconds (log scale)")
        fig.suptitle(
            "fit_desurv scaling, one BLAS thread, α = 0.5\n(numbers above the per-fit points: "
            "iterations to convergence at tol = 1e-6, max_iter = 1000; exponents fitted on "
            "sizes ≥ half the base point)",
            fontsize=10,
        )
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_family(ax, rows):
    """Time per iteration (epoch, Adam step) of every family method against n, log-log."""
    fam = [r for r in rows if r["section"] == "family"]
    exps = {r["method"]: r["exponent_iter"] for r in rows if r["section"] == "family_exponent"}
    methods = list(dict.fromkeys(r["method"] for r in fam))
    markers = "os^vD<>ph*"
    for i, name in enumerate(methods):
        rs = sorted((r for r in fam if r["method"] == name), key=lambda r: r["n"])
        x = np.array([r["n"] for r in rs], float)
        y = np.array([r["per_iter_ms"] for r in rs], float) / 1e3
        e = exps.get(name, np.nan)
        ax.loglog(x, y, marker=markers[i % len(markers)], ls="-", color=f"C{i}",
                  label=f"{name}, per {rs[0]['unit']} (exponent {e:.2f})")  # fmt: skip
    prods = {}
    for r in fam:
        prods.setdefault(r["n"], []).append(r["products_ms"])
    xs = np.array(sorted(prods), float)
    pr = np.array([np.median(prods[n]) for n in sorted(prods)]) / 1e3
    ax.loglog(xs, pr, "^--", color="0.45", ms=5, label="BLAS WᵀX + X·[Hᵀ|g] (reference)")
    for power, style in ((1, ":"), (2, "-.")):
        g = pr[-1] * (xs / xs[-1]) ** power * 0.5
        ax.loglog(xs, g, style, color="0.6", lw=1, label=f"slope {power} (guide)")
    p, k = int(fam[0]["p"]), int(fam[0]["k"])
    ax.set_xlabel("samples n")
    ax.set_ylabel("seconds per iteration (log scale)")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{int(v):,}" for v in xs], fontsize=9)
    ax.minorticks_off()
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(
        f"the family: time per iteration (CoxMT: per full-batch epoch; AENMF, DeepUnfoldedNMF: "
        f"per Adam step) vs n, p = {p:,} genes, k = {k}, one BLAS thread; exponents fitted on "
        f"n ≥ {FAMILY_SLOPE_MIN_N}",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))


def read_csv(path):
    """Rows of a scaling.csv with numbers parsed (for --replot)."""
    rows, exps = [], {}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            for c, v in r.items():
                if c not in ("section", "axis", "dtype", "note", "method", "unit"):
                    flags = {"True": True, "False": False}
                    r[c] = flags[v] if v in flags else float(v) if v else np.nan
            if r["section"] == "time":
                r["fit_n_iter"] = int(r["fit_n_iter"])
                r[r["axis"]] = int(r[r["axis"]])
            if r["section"] == "family":
                r["n"], r["p"], r["k"] = int(r["n"]), int(r["p"]), int(r["k"])
            if r["section"] == "exponent":
                exps[r["axis"]] = r
            rows.append(r)
    return rows, exps


def _size(s):
    p, n = s.lower().split("x")
    return int(p), int(n)


def _large_spec(s):
    size, _, dtype = s.partition(":")
    dtype = dtype or "float64"
    if dtype not in ("float64", "float32"):
        raise argparse.ArgumentTypeError(f"dtype must be float64 or float32, got {dtype!r}")
    return (*_size(size), dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1-minute smoke version")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per point (5; quick 3)")
    ap.add_argument("--target", type=float, default=None,
                    help="seconds for N iterations (0.15; quick 0.04)")  # fmt: skip
    ap.add_argument("--axes", default="p,n,k", help="comma-separated subset of p,n,k")
    ap.add_argument("--skip-axes", action="store_true", help="only memory / large fit")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--ram-gib", type=float, default=24.0, help="RAM for the largest-fit model")
    ap.add_argument("--large", type=_large_spec, nargs="+", default=[], metavar="PxN[:DTYPE]",
                    help="also run large fits, e.g. 20000x20000:float32 (random X)")  # fmt: skip
    ap.add_argument("--large-limit-gib", type=float, default=8.0,
                    help="skip the large fit if it would need more than this")  # fmt: skip
    ap.add_argument("--out-dir", default=str(Path(__file__).parent / "results"))
    # internal: one memory measurement in a fresh process
    ap.add_argument("--memory-child", type=_size, default=None, help=argparse.SUPPRESS)
    ap.add_argument("-k", type=int, default=BASE["k"], help=argparse.SUPPRESS)
    ap.add_argument("--dtype", default="float64", help=argparse.SUPPRESS)
    ap.add_argument("--iters", type=int, default=6, help=argparse.SUPPRESS)
    ap.add_argument("--replot", action="store_true", help="redraw the plot from the CSV")
    ap.add_argument("--skip-family", action="store_true",
                    help="leave out the family's methods (their CSV rows are kept)")  # fmt: skip
    ap.add_argument("--family-only", action="store_true",
                    help="only the family's methods (other CSV rows are kept)")  # fmt: skip
    ap.add_argument("--family-p", type=int, default=FAMILY_P,
                    help=f"genes p of the family study ({FAMILY_P})")  # fmt: skip
    ap.add_argument("--family-reps", type=int, default=3, help="repetitions per point (3)")
    ap.add_argument("--family-target", type=float, default=None,
                    help="seconds for N iterations, family (0.08; quick 0.04)")  # fmt: skip
    args = ap.parse_args(argv)

    if args.memory_child is not None:
        memory_child(*args.memory_child, args.k, args.dtype, args.iters)
        return

    reps = args.reps or (3 if args.quick else 5)
    target = args.target or (0.04 if args.quick else 0.15)
    axes_src = QUICK_AXES if args.quick else AXES
    wanted = [a.strip() for a in args.axes.split(",") if a.strip()]
    bad = set(wanted) - set(AXES)
    if bad:
        ap.error(f"--axes takes a subset of p,n,k, got {sorted(bad)}")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.replot:
        plot(out / "scaling.png", *read_csv(out / "scaling.csv"))
        print(f"wrote {out / 'scaling.png'}")
        return
    if args.family_only and args.skip_family:
        ap.error("--family-only and --skip-family exclude each other")
    if args.family_only:
        args.skip_axes = args.skip_memory = True
    t_start = perf_counter()
    rows, exps = [], {}
    if not args.skip_axes:
        print(f"timing (BLAS 1 thread, {reps} reps, N iterations ≈ {target} s):", flush=True)
        rows, exps = run_axes({a: axes_src[a] for a in wanted}, reps, target)
        for axis, e in exps.items():
            rows.append({"section": "exponent", "axis": axis, **e})
    models = {}
    if not args.skip_memory:
        dtypes = ["float64"] + (["float32"] if has_dtype_option() else [])
        if len(dtypes) == 1:
            print("fit_desurv has no dtype option: memory model for float64 only")
        sizes = QUICK_MEMORY_SIZES if args.quick else MEMORY_SIZES
        mrows, models = run_memory(sizes, BASE["k"], args.ram_gib, dtypes)
        rows += mrows
    for p, n, dtype in args.large:
        if dtype == "float32" and not has_dtype_option():
            print(f"large fit {p}x{n} float32 skipped: fit_desurv has no dtype option")
            continue
        factor = models.get(dtype, {}).get("c", 3.2) + 0.3  # resident bytes per X byte
        rows += run_large(p, n, BASE["k"], dtype, args.large_limit_gib, factor)
    if not args.skip_family:
        ftarget = args.family_target or (0.04 if args.quick else 0.08)
        ns = QUICK_FAMILY_N if args.quick else FAMILY_N
        print(f"the family (p = {args.family_p}, k = {FAMILY_K}, BLAS 1 thread, "
              f"{args.family_reps} reps, N iterations ≈ {ftarget} s):", flush=True)  # fmt: skip
        rows += run_family(ns, args.family_reps, ftarget, p=args.family_p)
    if rows:
        write_csv(out / "scaling.csv", rows)
        print(f"wrote {out / 'scaling.csv'}")
        # the plot shows everything in the CSV: sections not re-measured now are kept there
        all_rows, all_exps = read_csv(out / "scaling.csv")
        if all_exps or any(r["section"] == "family" for r in all_rows):
            plot(out / "scaling.png", all_rows, all_exps)
            print(f"wrote {out / 'scaling.png'}")
    print(f"total {perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
