"""Head-to-head ratios of issues 4 and 16: each target against its reference, same process.

Not a test and not an asv benchmark (nothing runs on import). Machines are shared and noisy,
so every figure is a ratio of medians over ``--reps`` repetitions, with our run and its
reference alternating inside each repetition. BLAS is limited to one thread (threadpoolctl)
except where a target is about threads or workers. Rows are printed as they come, summarised
in a table at the end and written to ``--out`` (CSV: target, case, ours_median_s,
ref_median_s, ratio, goal, met, unit, notes).

Data (one place, :func:`_bench_data`): ``desurv.datasets.simulate_desurv(n_samples=300,
n_genes=2000, n_components=5, beta=(2, 0, 0, 0, 0), gene_baseline=None, random_state=0)`` —
five true programs and nothing else, so that the fitted k = 5 is identifiable and "same
factors" is a meaningful check — in the solver's orientation (genes × samples); start W, H
uniform on [0, max X] from ``numpy.random.default_rng(0)`` (as the package's random
starts), β = 0. ``gene_baseline=None`` keeps the data of the first speed round: since the
simulator adds the authors' per-gene baseline N(3, 1) by default, X = WH + b1ᵀ has six
programs, a k = 5 factorisation is misspecified, and multiplicative updates from the same
start cross long plateaus where two correct implementations drift apart (even plain MU with
the H and W half-steps in the other order ends 3 % apart after 3,000 iterations), so the
agreement check of target 2 would measure that drift rather than our code.
The large problems of targets 7 and 8 (:func:`_large_data`) are X = WH + noise with gamma
W, H (5 programs) and exponential survival, built directly (the simulator's pandas frames
would need several copies of X).

Targets (the ``--only`` numbers):

1. one DeSurv iteration (α = 0.5, k = 5) vs its two products with X (WᵀX and X·[Hᵀ | g]),
   timed in NumPy in their faster BLAS layouts (XᵀW, X·[Hᵀ | g]); goal ≤ 1.2 (issue 16);
2. α = 0 iteration vs scikit-learn ``NMF(solver="mu")`` from the same start, and whether both
   reach the same factors after ``--long-iters`` iterations; and ``desurv.NMF`` (Frobenius and
   KL multiplicative updates) vs scikit-learn's on the same data and start, per iteration
   (``benchmarks/compare_nmf.py``'s measurement) and the objectives reached; goals ≥ 2;
3. whole fit (α = 0.5, ``--fit-iters`` iterations) vs the plain NumPy
   ``desurv._reference.solver.fit_desurv_reference``;
4. throughput of ``desurv.model_selection.cross_validate`` (5 folds × ``--seeds`` seeds × 9 α,
   warm starts, ``max_iter=500``) with 1 and 2 workers — minutes: only with ``--throughput``
   or ``--only 4``;
5. (a) concordance vs lifelines, (b) the β step (elastic-net Cox, one λ) vs scikit-survival's
   coxnet, (c) batched Hungarian matching vs a Python loop over scipy;
6. (a) start-up of a fresh ``desurv fit`` process (kernels cached), (b) peak memory of a fit;
7. ``dtype="float32"`` vs float64: time per iteration and agreement, at 2,000 × 300 and at
   the ``--large`` sizes (default 20,000 × 2,000 and 40,000 × 3,000, k = 5); goal ≥ 1.6
   where the float64 X is larger than the last-level cache (read from sysfs), else ≥ 1
   (never slower);
8. one large fit on both cores: ``n_threads=2`` vs ``n_threads=1`` per iteration at
   ``--threads-size`` (default 20,000 × 2,000), k = 10; goal ≥ 1.7. The only target allowed
   two threads: meaningful on a quiet machine only (the load average is printed).

Time per iteration is the median over repetitions of (t(2N) − t(N)) / N for runs of N and 2N
iterations at ``tol = 0``: the difference cancels validation, sorting and the final Cox refit.
The large problems of targets 7 and 8 take the median of the per-iteration time stamps of
the fit's callback instead (``--large-iters`` iterations per fit, ``--reps-slow`` fits per
variant, alternating): there one fit's fixed costs vary more than a few iterations take.

    python benchmarks/compare.py                      # targets 1 2 3 5 6 7 (~6 min)
    python benchmarks/compare.py --only 1 5 --reps 7
    python benchmarks/compare.py --only 7 --large 20000x2000
    python benchmarks/compare.py --only 8             # on a quiet machine
    python benchmarks/compare.py --only 4 --seeds 4   # throughput, scaled to 900 fits
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import inspect
import operator
import os
import re
import subprocess
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from time import perf_counter, process_time

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results" / "compare.csv"
DEFAULT_TARGETS = (1, 2, 3, 5, 6, 7)
K = 5
ALPHAS_CV = tuple(round(0.1 * i, 1) for i in range(9))  # 0, 0.1, ..., 0.8
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}


# ------------------------------------------------------------------------------ results
@dataclass
class Row:
    """One measured figure; ``ratio`` is the value compared with ``goal`` (see ``unit``)."""

    target: str
    case: str
    ours_median_s: float | None
    ref_median_s: float | None
    ratio: float | None
    goal: str
    met: bool | None
    unit: str
    notes: str = ""


def _row(target, case, ours, ref, ratio, goal=None, unit="", notes=""):
    """Build a Row; ``goal`` is ``(op, value)`` with op in ``_OPS`` or None (report only)."""
    met = None if goal is None or ratio is None else bool(_OPS[goal[0]](ratio, goal[1]))
    goal_txt = "" if goal is None else f"{goal[0]} {goal[1]:g}"
    row = Row(str(target), case, ours, ref, ratio, goal_txt, met, unit, notes)
    _print_row(row)
    return row


def _fmt(x, spec=".4g"):
    return "" if x is None else format(x, spec)


def _print_row(r: Row):
    met = {None: "", True: "met", False: "NOT met"}[r.met]
    print(f"[{r.target}] {r.case}\n      ours {_fmt(r.ours_median_s)} s | ref "
          f"{_fmt(r.ref_median_s)} s | {_fmt(r.ratio)} {r.unit} (goal {r.goal or '-'}) {met}"
          + (f"\n      {r.notes}" if r.notes else ""), flush=True)  # fmt: skip


def _write_csv(rows, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(r).items()})


def _summary(rows):
    print("\nSummary (ratio as defined by unit; goal; met)")
    print(f"{'target':<6} {'ratio':>10}  {'unit':<32} {'goal':<8} {'met':<7} case")
    for r in rows:
        met = {None: "-", True: "yes", False: "NO"}[r.met]
        print(f"{r.target:<6} {_fmt(r.ratio):>10}  {r.unit:<32} {r.goal or '-':<8} {met:<7} "
              f"{r.case}")  # fmt: skip


# ------------------------------------------------------------------------------- timing
def _interleaved(fns: dict, reps: int, cpu: dict | None = None) -> dict:
    """Run every callable once per repetition, alternating; return each one's list of times.

    With a dict ``cpu``, the CPU time of this process (``time.process_time``) of every call
    is collected in it as well (same keys): for one-thread runs on a shared machine, where
    the wall clock also counts the time other processes held the core.
    """
    out = {name: [] for name in fns}
    if cpu is not None:
        cpu.update({name: [] for name in fns})
    for _ in range(reps):
        for name, fn in fns.items():
            c0 = process_time()
            t0 = perf_counter()
            fn()
            out[name].append(perf_counter() - t0)
            if cpu is not None:
                cpu[name].append(process_time() - c0)
    return out


def _median_time(fn, reps):
    """Median time of one call of ``fn`` over ``reps`` repetitions.

    ``fn`` may be a dict of callables: they then run alternately within each repetition (so
    machine load hits all alike) and a dict of medians is returned.
    """
    if callable(fn):
        return _median_time({"f": fn}, reps)["f"]
    return {name: float(np.median(t)) for name, t in _interleaved(fn, reps).items()}


def _per_iteration(times_n, times_2n, n_iter) -> float:
    """Median of (t(2N) − t(N)) / N over paired repetitions (NaN if noise makes it ≤ 0)."""
    per_iter = float(np.median((np.asarray(times_2n) - np.asarray(times_n)) / n_iter))
    if per_iter <= 0:
        print("      (timing noise exceeds N iterations: raise --iters or --reps)", flush=True)
        return float("nan")
    return per_iter


@contextlib.contextmanager
def _one_thread():
    import scipy.linalg  # noqa: F401  (threadpoolctl limits only the BLAS already loaded)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fits at tol = 0 warn about max_iter by design
        yield


# --------------------------------------------------------------------------------- data
@dataclass
class BenchData:
    X: np.ndarray  # genes × samples, C-contiguous float64
    time: np.ndarray
    event: np.ndarray
    W0: np.ndarray  # genes × K
    H0: np.ndarray  # K × samples


@functools.cache
def _bench_data(n_samples=300, n_genes=2000) -> BenchData:
    """The one data set of every target (see the module docstring)."""
    from desurv.datasets import simulate_desurv

    # gene_baseline=None: five programs and no per-gene offset (see the module docstring)
    sim = simulate_desurv(n_samples=n_samples, n_genes=n_genes, n_components=K,
                          beta=(2.0,) + (0.0,) * (K - 1), gene_baseline=None,
                          random_state=0)  # fmt: skip
    X = np.ascontiguousarray(sim.X.to_numpy(dtype=np.float64).T)
    rng = np.random.default_rng(0)
    upper = float(X.max())
    W0 = rng.uniform(0.0, upper, size=(X.shape[0], K))
    H0 = rng.uniform(0.0, upper, size=(K, X.shape[1]))
    return BenchData(X, sim.time.copy(), sim.event.copy(), W0, H0)


def _large_data(p, n, k=K, seed=0) -> BenchData:
    """X = WH + noise (p × n, float64) from gamma programs, exponential survival; uniform start.

    For the large cases of targets 7 and 8, built without pandas (peak about 2 copies of X).
    """
    rng = np.random.default_rng(seed)
    W = rng.gamma(1.0, 1.0, size=(p, K))
    H = rng.gamma(2.0, 0.5, size=(K, n))
    X = W @ H
    X += rng.uniform(0.0, 0.1 * float(X.mean()), size=X.shape)
    score = H[0] - H[0].mean()
    t_event = rng.exponential(1.0 / (0.05 * np.exp(score / H[0].std())))
    t_cens = rng.exponential(1.0 / 0.02, size=n)
    time, event = np.minimum(t_event, t_cens), t_event <= t_cens
    upper = float(X.max())
    W0 = rng.uniform(0.0, upper, size=(p, k))
    H0 = rng.uniform(0.0, upper, size=(k, n))
    return BenchData(np.ascontiguousarray(X), time, event, W0, H0)


def _fit(d: BenchData, max_iter, *, alpha=0.5, **kw):
    """fit_desurv from the benchmark start for exactly ``max_iter`` iterations (tol = 0)."""
    from desurv import fit_desurv

    return fit_desurv(d.X, d.time, d.event, d.W0.shape[1], W_init=d.W0, H_init=d.H0,
                      alpha=alpha, max_iter=max_iter, tol=0.0, warn=False, **kw)  # fmt: skip


def _matched_cosines(A, B):
    from desurv.evaluation.matching import match_factors

    return match_factors(A, B).similarity


def _rel(a, b):
    """‖a − b‖ / ‖b‖ (Frobenius)."""
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


# ------------------------------------------------------------- 1. iteration vs products
def target_iteration(args):
    d = _bench_data()
    n = args.iters
    M = np.empty((d.X.shape[1], K + 1))
    Z = np.empty((d.X.shape[1], K))
    XM = np.empty((d.X.shape[0], K + 1))

    def products():
        # the faster BLAS layouts: XᵀW (n × k) beats (WᵀX)ᵀ by ~1.5x on a C-ordered X
        for _ in range(n):
            np.dot(d.X.T, d.W0, out=Z)  # Z = XᵀW (= Aᵀ)
            M[:, :K] = d.H0.T
            M[:, K] = 1.0
            np.dot(d.X, M, out=XM)  # X·[Hᵀ | g]

    _fit(d, 3)  # warm the kernels
    t = _interleaved({"n": lambda: _fit(d, n), "2n": lambda: _fit(d, 2 * n), "prod": products},
                     args.reps)  # fmt: skip
    ours = _per_iteration(t["n"], t["2n"], n)
    ref = float(np.median(t["prod"])) / n
    return [_row(1, f"one iteration, alpha=0.5, {d.X.shape[0]}x{d.X.shape[1]}, k={K}", ours, ref,
                 ours / ref, ("<=", 1.2), "x (iteration / products)",
                 f"N={n} vs 2N iterations; NumPy products XᵀW, X·[Hᵀ|g]")]  # fmt: skip


# ------------------------------------------------------------------ 2. α = 0 vs sklearn
def _sklearn_nmf(d, max_iter):
    from sklearn.decomposition import NMF

    # sklearn factorises its X (n_rows × n_cols) as W (n_rows × k) · H (k × n_cols): passing
    # our genes × samples X keeps W = genes × k and H = k × samples, the same start as ours.
    model = NMF(K, solver="mu", beta_loss="frobenius", init="custom", tol=0.0, max_iter=max_iter)
    W = model.fit_transform(d.X, W=d.W0.copy(), H=d.H0.copy())
    return W, model.components_


def _same_factors(d, n_long):
    """Both NMFs after ``n_long`` iterations: difference of W·H, matched cosines of W."""
    ours = _fit(d, n_long, alpha=0.0)
    W_sk, H_sk = _sklearn_nmf(d, n_long)
    wh_sk = W_sk @ H_sk
    cos = _matched_cosines(W_sk, ours.W)
    loss = (np.linalg.norm(d.X - ours.W @ ours.H), np.linalg.norm(d.X - wh_sk))
    return (f"after {n_long} it: ‖WH−WH_sk‖/‖WH_sk‖={_rel(ours.W @ ours.H, wh_sk):.2e}, "
            f"matched cos min {cos.min():.5f}, ‖X−WH‖ ours/sk={loss[0] / loss[1]:.5f}")  # fmt: skip


def _nmf_rows(d, args):
    """desurv.NMF vs scikit-learn MU (both losses) on the benchmark data and start."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from compare_nmf import mu_agreement, mu_per_iteration

    rows = []
    for loss in ("frobenius", "kullback-leibler"):
        ours, ref, ratio = mu_per_iteration(d.X, K, loss, d.W0, d.H0, args.iters, args.reps)
        rel_f, rel_wh = mu_agreement(d.X, K, loss, d.W0, d.H0, args.long_iters)
        rows.append(_row(2, f"desurv.NMF MU ({loss}) iteration vs sklearn NMF(solver='mu'), "
                         f"k={K}", ours, ref, ratio, (">=", 2.0), "x speed-up (sklearn / ours)",
                         f"median of per-repetition ratios, (N+10) - 10 iterations, "
                         f"N={args.iters}; "
                         f"after {args.long_iters} it: objective (ours - sk)/sk {rel_f:.1e}, "
                         f"‖WH−WH_sk‖/‖WH_sk‖ {rel_wh:.1e}"))  # fmt: skip
    return rows


def target_sklearn(args):
    d = _bench_data()
    n = args.iters
    _fit(d, 3, alpha=0.0)
    t = _interleaved({"n": lambda: _fit(d, n, alpha=0.0), "2n": lambda: _fit(d, 2 * n, alpha=0.0),
                      "sk_n": lambda: _sklearn_nmf(d, n), "sk_2n": lambda: _sklearn_nmf(d, 2 * n)},
                     args.reps)  # fmt: skip
    ours = _per_iteration(t["n"], t["2n"], n)
    ref = _per_iteration(t["sk_n"], t["sk_2n"], n)
    notes = _same_factors(d, args.long_iters)
    rows = [_row(2, f"alpha=0 iteration vs sklearn NMF(solver='mu'), k={K}", ours, ref,
                 ref / ours, (">=", 2.0), "x speed-up (sklearn / ours)", notes)]  # fmt: skip
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import compare_cd

    return rows + _nmf_rows(d, args) + compare_cd.rows(args, _row, target=2)


# ------------------------------------------------------------- 3. whole fit vs NumPy ref
def target_reference_fit(args):
    from desurv._reference.solver import fit_desurv_reference

    d = _bench_data()
    n = args.fit_iters

    def ref_fit():
        return fit_desurv_reference(d.X, d.time, d.event, d.W0, d.H0, alpha=0.5, max_iter=n,
                                    tol=0.0, warn=False)  # fmt: skip

    _fit(d, 3)
    t = _median_time({"ours": lambda: _fit(d, n), "ref": ref_fit}, args.reps_slow)
    a, b = _fit(d, n), ref_fit()
    f_a, f_b = a.objective["loss"], b["objective"]["loss"]
    agree = (f"agreement after {n} it: final F rel diff {abs(f_a - f_b) / abs(f_b):.1e}"
             f", ‖ΔW‖/‖W‖ {_rel(a.W, b['W']):.1e}, ‖Δβ‖/‖β‖ {_rel(a.beta, b['beta']):.1e}; "
             f"{args.reps_slow} reps")  # fmt: skip
    ours, ref = t["ours"], t["ref"]
    return [_row(3, f"whole fit, alpha=0.5, {n} iterations, same start", ours, ref, ref / ours,
                 None, "x speed-up (NumPy ref / ours)", agree)]  # fmt: skip


# ---------------------------------------------------------------------- 4. throughput
def _cv_run(d, n_seeds, n_jobs):
    from desurv.model_selection import cross_validate

    t0 = perf_counter()
    res = cross_validate(d.X.T, time=d.time, event=d.event,
                         param_grid={"n_components": [K], "alpha": list(ALPHAS_CV)},
                         n_folds=5, n_seeds=n_seeds, warm_start=True, max_iter=500,
                         random_state=0, n_jobs=n_jobs)  # fmt: skip
    return perf_counter() - t0, len(res), float(res["n_iter"].mean())


def target_throughput(args):
    d = _bench_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t1, n_fits, mean_iter = _cv_run(d, args.seeds, 1)
        t2, _, _ = _cv_run(d, args.seeds, 2)
    scale = 900 / n_fits
    label = "" if n_fits == 900 else f" (measured {n_fits} fits, scaled x{scale:g})"
    notes = (
        f"5 folds x {args.seeds} seeds = {5 * args.seeds} alpha paths (joblib tasks) x 9 alphas "
        f"= {n_fits} fits, mean n_iter {mean_iter:.0f}; fits/s: 1 worker {n_fits / t1:.2f}, "
        f"2 workers {n_fits / t2:.2f}"
    )
    return [
        _row(4, "cross_validate speed-up 1 -> 2 workers", t2, t1, t1 / t2, (">=", 1.8),
             "x speed-up (1 worker / 2)", notes),
        _row(4, f"cross_validate wall time, 2 workers, 900 fits{label}", t2 * scale, t1 * scale,
             t2 * scale, ("<", 120.0), "s (2 workers, 900 fits)", notes),
        _row(4, "fits per second, 2 workers", t2, None, n_fits / t2, None, "fits/s", notes),
    ]  # fmt: skip


# -------------------------------------------------------------- 5. kernels vs libraries
def _concordance(args):
    from lifelines.utils import concordance_index as lifelines_cindex

    from desurv.survival.concordance import concordance_index

    rng = np.random.default_rng(1)
    n = 100_000
    time = np.round(rng.exponential(10.0, size=n), 1)  # one decimal: many tied times
    event = rng.uniform(size=n) < 0.6
    risk = rng.normal(size=n) - 0.5 * np.log(time + 0.1)
    ours_c, ref_c = concordance_index(time, event, risk), lifelines_cindex(time, -risk, event)
    t = _median_time({"ours": lambda: concordance_index(time, event, risk),
                      "ref": lambda: lifelines_cindex(time, -risk, event)}, args.reps)  # fmt: skip
    ours, ref = t["ours"], t["ref"]
    return _row(
        "5a",
        f"concordance index, n={n:,} (tied times)",
        ours,
        ref,
        ref / ours,
        (">=", 5.0),
        "x speed-up (lifelines / ours)",
        f"C ours {ours_c:.12f}, lifelines {ref_c:.12f}, |diff| {abs(ours_c - ref_c):.1e}",
    )


def _standardised_z(d):
    """Z = XᵀW of a 100-iteration DeSurv fit, standardised (sd with ddof = 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _fit(d, 100)
    Z = d.X.T @ res.W
    return (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)


def _coxnet_objective(Zs, d, lam, xi):
    """β ↦ −ℓ(Zβ)/n_event + λ[ξ‖β‖₁ + (1−ξ)/2‖β‖²] (Breslow), the β step's objective."""
    from desurv.survival.cox import cox_partial_log_likelihood

    def f(beta):
        pen = xi * np.abs(beta).sum() + 0.5 * (1.0 - xi) * beta @ beta
        return -cox_partial_log_likelihood(Zs @ beta, d.time, d.event) / d.event.sum() + lam * pen

    return f


def _beta_step(args):
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    from desurv import make_survival_y
    from desurv._kernels import _cox
    from desurv.survival.coxnet import coxnet_path

    d = _bench_data()
    Zs = _standardised_z(d)
    order = np.argsort(d.time, kind="stable")  # the solver's layout: time-sorted, Fortran Z
    Zf = np.asfortranarray(Zs[order])
    ts, es = d.time[order].astype(np.float64), d.event[order].astype(np.float64)
    lam, xi, tol = 0.1, 0.5, 1e-7
    y = make_survival_y(d.time, d.event)
    # ours: −ℓ/n_event + λP; scikit-survival: −ℓ/n + αP, so α = λ·n_event/n
    alpha_sk = lam * es.sum() / es.size

    def sk(tol_sk=tol):
        model = CoxnetSurvivalAnalysis(alphas=[alpha_sk], l1_ratio=xi, normalize=False,
                                       fit_baseline_model=False, tol=tol_sk)  # fmt: skip
        return model.fit(Zs, y).coef_.ravel()

    def solve(kernel):  # max_iter 500: the solver's cap for the final refit
        b = np.zeros(K)
        return b, kernel(Zf, ts, es, b, lam, xi, np.ones(K), tol, 500, False)

    def glmnet_cd():  # desurv.survival.coxnet's cyclic coordinate descent (public API), one λ
        path = coxnet_path(Zs, d.time, d.event, l1_ratio=xi, alphas=[lam], standardize=False,
                           tol=tol, screening=False)  # fmt: skip
        return path.coef[:, 0]

    (b_nt, it_nt), (b_cd, it_cd) = solve(_cox.coxnet_newton), solve(_cox.coxnet_cd)
    b_sk, b_tight = sk(), sk(1e-12)
    b_gl = glmnet_cd()
    f = _coxnet_objective(Zs, d, lam, xi)
    t = _median_time({"newton": lambda: solve(_cox.coxnet_newton), "glmnet": glmnet_cd,
                      "cd": lambda: solve(_cox.coxnet_cd), "sk": sk}, args.reps)  # fmt: skip
    newton, cd, ref, gl = t["newton"], t["cd"], t["sk"], t["glmnet"]
    corr = np.corrcoef(Zs.T)[np.triu_indices(K, 1)].max()
    case = f"β step, one λ, n={Zs.shape[0]}, k={K}, λ={lam}, ξ={xi}, tol={tol:g}"
    note_nt = (f"{it_nt} Newton its; max|Δβ| vs sksurv {np.abs(b_nt - b_sk).max():.1e} (its tol "
               f"1e-7), {np.abs(b_nt - b_tight).max():.1e} (tol 1e-12); F(sksurv 1e-12) − "
               f"F(ours) = {f(b_tight) - f(b_nt):.1e}; max corr(Z) {corr:.3f}")  # fmt: skip
    cd_ok = it_cd > 0
    note_cd = (f"{abs(it_cd)} sweeps, {'converged' if cd_ok else 'NOT converged (no goal)'}; "
               f"max|Δβ| vs sksurv 1e-12 {np.abs(b_cd - b_tight).max():.1e}")  # fmt: skip
    return [
        _row("5b", f"{case}: coxnet_newton (solver default) vs sksurv", newton, ref, ref / newton,
             (">=", 1.0), "x speed-up (sksurv / ours)", note_nt),
        _row("5b", f"{case}: coxnet_path coordinate descent vs sksurv", gl, ref,
             ref / gl, (">=", 1.0), "x speed-up (sksurv / ours)",
             f"cyclic CD, exact curvature, public API incl. checks; max|Δβ| vs sksurv 1e-12 "
             f"{np.abs(b_gl - b_tight).max():.1e}"),
        _row("5b", f"{case}: coxnet_cd (loss_convention='reference') vs sksurv", cd, ref,
             ref / cd, (">=", 1.0) if cd_ok else None, "x speed-up (sksurv / ours)", note_cd),
    ]  # fmt: skip


def _factor_pairs(n_pairs, p, k, seed=2):
    """B[b] = A[b] with columns permuted plus nonnegative noise; returns (A, B, true perm)."""
    rng = np.random.default_rng(seed)
    A = rng.gamma(1.0, 1.0, size=(n_pairs, p, k))
    perm = np.argsort(rng.uniform(size=(n_pairs, k)), axis=1)
    B = np.take_along_axis(A, perm[:, None, :], axis=2) + rng.gamma(1.0, 0.3, (n_pairs, p, k))
    return A, B


def _scipy_loop(A, B):
    from scipy.optimize import linear_sum_assignment

    out = np.empty((A.shape[0], A.shape[2]), dtype=np.int64)
    for b in range(A.shape[0]):
        a = A[b] / np.linalg.norm(A[b], axis=0)
        c = B[b] / np.linalg.norm(B[b], axis=0)
        out[b] = linear_sum_assignment(a.T @ c, maximize=True)[1]
    return out


def _hungarian(args, n_pairs, p, k=10):
    from desurv.evaluation.matching import match_factors_batched

    A, B = _factor_pairs(n_pairs, p, k)
    ours_perm = match_factors_batched(A, B).perm
    same = np.array_equal(ours_perm, _scipy_loop(A, B))
    t = _median_time({"ours": lambda: match_factors_batched(A, B),
                      "ref": lambda: _scipy_loop(A, B)}, args.reps_slow)  # fmt: skip
    ours, ref = t["ours"], t["ref"]
    return _row("5c", f"batched Hungarian + cosines, {n_pairs:,} pairs, p={p}, k={k}", ours, ref,
                ref / ours, (">=", 5.0), "x speed-up (scipy loop / ours)",
                f"assignments identical: {same}; {args.reps_slow} reps")  # fmt: skip


def target_kernels(args):
    with _one_thread():
        rows = [_concordance(args)]
        rows += _beta_step(args)
        rows.append(_hungarian(args, args.pairs, 96))
        rows.append(_hungarian(args, max(1, args.pairs // 50), 2000))
    return rows


# ------------------------------------------------------------ 6. start-up and memory
def _write_tsv(d, folder):
    import pandas as pd

    expr = Path(folder) / "expr.tsv"
    clin = Path(folder) / "clin.tsv"
    samples = [f"s{i + 1}" for i in range(d.X.shape[1])]
    frame = pd.DataFrame(d.X, columns=samples)
    frame.insert(0, "gene", [f"g{i + 1}" for i in range(d.X.shape[0])])
    frame.to_csv(expr, sep="\t", index=False)
    pd.DataFrame({"sample": samples, "time": d.time, "event": d.event.astype(int)}).to_csv(
        clin, sep="\t", index=False
    )
    return expr, clin


def _run(cmd):
    """Run a command with the repository on PYTHONPATH; return its stderr."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(cmd, check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True).stderr  # fmt: skip


_FIRST_ITERATION = re.compile(r"\[\s*([0-9.]+) s\] iteration 1:")
_FIRST_START = re.compile(r"\[\s*([0-9.]+) s\] random start 1 done")


def _first_iteration_s(cmd, pattern=_FIRST_ITERATION):
    """Seconds from process start to the first iteration of the final run (or another
    stamped line), read from ``desurv fit --verbose`` (which stamps each line with the time
    since the process started, /proc/self/stat)."""
    match = pattern.search(_run(cmd))
    if match is None:
        raise RuntimeError(f"desurv fit --verbose printed no line matching {pattern.pattern}")
    return float(match.group(1))


def _startup(args):
    d = _bench_data()
    py = sys.executable
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        expr, clin = _write_tsv(d, tmp)

        def fit_cmd(n_init):
            return [py, "-m", "desurv.cli", "fit", "--expression", str(expr), "--clinical",
                    str(clin), "-k", str(K), "--transform", "none", "--n-init", str(n_init),
                    "--max-iter", "1", "--out", str(Path(tmp) / "run"), "--overwrite",
                    "--verbose"]  # fmt: skip

        _run(fit_cmd(1))  # populates Numba's cache (and the OS file cache)
        for n_init in (1, 20):
            firsts = [_first_iteration_s(fit_cmd(n_init)) for _ in range(args.reps)]
            first = float(np.median(firsts))
            rows.append(_row("6a", f"desurv fit 2000x300 TSV, --n-init {n_init}: process start "
                             "to first iteration", first, None, first, ("<=", 1.0), "s",
                             f"median of {args.reps}; `desurv fit --verbose` time stamps, "
                             "interpreter start-up included"))  # fmt: skip
        # with 20 starts the final run's first iteration comes after 19 further starts (fitting,
        # not start-up); the first start's end bounds its first iteration from above
        starts = [_first_iteration_s(fit_cmd(20), _FIRST_START) for _ in range(args.reps)]
        first = float(np.median(starts))
        rows.append(_row("6a", "desurv fit 2000x300 TSV, --n-init 20: process start to the end "
                         "of the first random start (30 iterations)", first, None, first, None,
                         "s", f"median of {args.reps}; report only: an upper bound of the first "
                         "start's first iteration"))  # fmt: skip
        t = _median_time({"import": lambda: _run([py, "-c", "import desurv"]),
                          "python": lambda: _run([py, "-c", "pass"])}, args.reps)  # fmt: skip
    rows.append(_row("6a", "python -c 'import desurv' (lazy imports)", t["import"], t["python"],
                     t["import"], ("<=", 1.0), "s",
                     f"bare interpreter {t['python']:.3f} s"))  # fmt: skip
    return rows


def _peak_memory(args):
    import tracemalloc

    from desurv import fit_desurv

    d = _bench_data()
    with _one_thread():
        fit_desurv(d.X, d.time, d.event, K, n_init=2, max_iter=5, random_state=0)  # warm-up
        tracemalloc.start()
        t0 = perf_counter()
        fit_desurv(d.X, d.time, d.event, K, n_init=20, max_iter=100, random_state=0)
        elapsed = perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    ratio = peak / d.X.nbytes
    return _row("6b", "peak memory of fit_desurv (n_init=20, max_iter=100), 2000x300", elapsed,
                None, ratio, ("<=", 3.0), "x X.nbytes (tracemalloc)",
                f"peak {peak / 2**20:.1f} MiB allocated during the fit, X {d.X.nbytes / 2**20:.1f}"
                f" MiB; with the caller's X: {1 + ratio:.2f}x")  # fmt: skip


def target_startup_memory(args):
    return _startup(args) + [_peak_memory(args)]


# ------------------------------------------------------------------------- 7. float32
def _has_dtype():
    from desurv import fit_desurv

    return "dtype" in inspect.signature(fit_desurv).parameters


def _float32_agreement(d, n_iter):
    from desurv.survival.concordance import concordance_index

    a, b = _fit(d, n_iter), _fit(d, n_iter, dtype="float32")
    eta_a, eta_b = d.X.T @ a.W @ a.beta, d.X.T @ b.W @ b.beta
    c_a, c_b = (concordance_index(d.time, d.event, e) for e in (eta_a, eta_b))
    loss = abs(b.objective["loss"] - a.objective["loss"]) / abs(a.objective["loss"])
    return (f"after {n_iter} it: final F rel diff {loss:.1e}, ‖Δη‖/‖η‖ {_rel(eta_b, eta_a):.1e},"
            f" C-index {c_a:.6f} vs {c_b:.6f}, matched cos(W) min "
            f"{_matched_cosines(a.W, b.W).min():.6f}")  # fmt: skip


def _llc_bytes():
    """Size of the largest CPU cache the OS reports (sysfs), or None."""
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = path.read_text().strip()
        unit = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        with contextlib.suppress(ValueError):
            sizes.append(int(text.rstrip("KMG")) * unit)
    return max(sizes) if sizes else None


def _iteration_times(d, n_iter, **kw):
    """Wall and CPU (this process) seconds of each outer iteration of one fit of ``n_iter``
    iterations, read at the fit's per-iteration callback (the first iteration is dropped).

    For the large problems: validation, the sorted copy of X and the final Cox refit cost as
    much as several iterations there, and vary with the page-fault load, so the difference
    t(2N) − t(N) of whole fits is too noisy at the few iterations that fit in a few minutes.
    """
    stamps = []

    def callback(it, obj):
        stamps.append((perf_counter(), process_time()))

    _fit(d, n_iter, callback=callback, **kw)
    s = np.asarray(stamps)
    return np.diff(s[:, 0]), np.diff(s[:, 1])


def _per_iteration_by_callback(d, variants, n_iter, reps):
    """Median wall and CPU time per iteration of every ``variants`` entry (name -> fit keywords),
    the variants alternating within each repetition."""
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    for _ in range(reps):
        for name, kw in variants.items():
            w, c = _iteration_times(d, n_iter, **kw)
            wall[name].extend(w)
            cpu[name].extend(c)
    med = {name: float(np.median(v)) for name, v in wall.items()}
    med_cpu = {name: float(np.median(v)) for name, v in cpu.items()}
    return med, med_cpu


def _float32_row(d, n, reps, label, agreement=None, by_callback=False):
    _fit(d, 2, dtype="float32")
    _fit(d, 2)
    if by_callback:
        med, cpu = _per_iteration_by_callback(d, {"32": {"dtype": "float32"}, "64": {}}, n, reps)
        t32, t64, c32, c64 = med["32"], med["64"], cpu["32"], cpu["64"]
        how = f"median of {n - 1} iterations x {reps} fits (callback time stamps)"
    else:
        c = {}
        t = _interleaved({"n32": lambda: _fit(d, n, dtype="float32"),
                          "2n32": lambda: _fit(d, 2 * n, dtype="float32"),
                          "n64": lambda: _fit(d, n), "2n64": lambda: _fit(d, 2 * n)},
                         reps, cpu=c)  # fmt: skip
        t32 = _per_iteration(t["n32"], t["2n32"], n)
        t64 = _per_iteration(t["n64"], t["2n64"], n)
        c32 = _per_iteration(c["n32"], c["2n32"], n)
        c64 = _per_iteration(c["n64"], c["2n64"], n)
        how = f"N={n} vs 2N, {reps} reps"
    llc = _llc_bytes()
    big = llc is not None and d.X.nbytes > llc
    goal = (">=", 1.6) if big else (">=", 1.0)
    where = ("larger" if big else "not larger") + " than the last-level cache"
    llc_txt = "unknown" if llc is None else f"{llc / 2**20:.0f} MiB"
    notes = (f"X float64 {d.X.nbytes / 2**20:.0f} MiB, {where} ({llc_txt}); {how}; "
             f"CPU-time ratio {c64 / c32:.3f}")  # fmt: skip
    if agreement:
        notes += "; " + agreement
    p, m = d.X.shape
    return _row(7, f"float32 vs float64 iteration, alpha=0.5, {p}x{m}, k={d.W0.shape[1]}{label}",
                t32, t64, t64 / t32, goal, "x speed-up (float64 / float32)", notes)  # fmt: skip


def _sizes(text):
    out = []
    for item in text:
        p, n = (int(v) for v in item.lower().split("x"))
        out.append((p, n))
    return out


def target_float32(args):
    if not _has_dtype():
        print("[7] dtype option not available in fit_desurv: skipped", flush=True)
        return [_row(7, "float32 vs float64", None, None, None, None, "",
                     "dtype option not available")]  # fmt: skip
    d = _bench_data()
    rows = [_float32_row(d, args.iters, args.reps, "", _float32_agreement(d, args.fit_iters))]
    for p, n in _sizes(args.large):
        big = _large_data(p, n)
        rows.append(_float32_row(big, args.large_iters, args.reps_slow, " (synthetic)",
                                 by_callback=True))  # fmt: skip
        del big
    return rows


# ------------------------------------------------------------------- 8. two threads
def _threads_path():
    """Which products ``n_threads > 1`` runs: desurv's kernels on threads or BLAS."""
    from desurv.deconvolution._loop import _Problem

    if "n_threads" in inspect.signature(_Problem.__init__).parameters:
        return "compiled products split over the threads (desurv._threads)"
    return "multi-threaded BLAS products (the solver's n_threads > 1 path)"


def target_threads(args):
    (p, n), k = _sizes([args.threads_size])[0], 10
    d = _large_data(p, n, k=k)
    it = args.large_iters
    _fit(d, 2, n_threads=1)
    _fit(d, 2, n_threads=2)
    load_before = os.getloadavg()[0]
    med, _ = _per_iteration_by_callback(d, {"1": {"n_threads": 1}, "2": {"n_threads": 2}}, it,
                                        args.reps_slow)  # fmt: skip
    t1, t2 = med["1"], med["2"]
    a, b = _fit(d, 20, n_threads=1), _fit(d, 20, n_threads=2)
    agree = abs(a.objective["loss"] - b.objective["loss"]) / abs(a.objective["loss"])
    notes = (
        f"median of {it - 1} iterations x {args.reps_slow} fits; n_threads=2 runs "
        f"{_threads_path()}; F after 20 it rel diff {agree:.1e}; load average during: "
        f"{load_before:.2f} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    return [_row(8, f"one fit, n_threads=2 vs 1, alpha=0.5, {p}x{n}, k={k}", t2, t1, t1 / t2,
                 (">=", 1.7), "x speed-up (1 thread / 2)", notes)]  # fmt: skip


# --------------------------------------------------------------------------------- main
TARGETS = {
    1: target_iteration,
    2: target_sklearn,
    3: target_reference_fit,
    4: target_throughput,
    5: target_kernels,
    6: target_startup_memory,
    7: target_float32,
    8: target_threads,
}
_NEEDS_ONE_THREAD = {1, 2, 3, 7}


def _parse(argv):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--only",
        type=int,
        nargs="+",
        choices=sorted(TARGETS),
        metavar="N",
        help="targets to run (default: 1 2 3 5 6 7, plus 4 with --throughput; 8 on request)",
    )
    ap.add_argument("--reps", type=int, default=5, help="repetitions per figure (default 5)")
    ap.add_argument(
        "--reps-slow",
        type=int,
        default=3,
        help="repetitions of the multi-second references: NumPy fit, scipy loop",
    )
    ap.add_argument(
        "--iters",
        type=int,
        default=100,
        help="N of the per-iteration measurements (N vs 2N iterations)",
    )
    ap.add_argument("--fit-iters", type=int, default=200, help="iterations of whole fits")
    ap.add_argument(
        "--long-iters",
        type=int,
        default=3000,
        help="iterations before comparing factors with scikit-learn (target 2)",
    )
    ap.add_argument("--pairs", type=int, default=100_000, help="factor-set pairs (target 5c)")
    ap.add_argument(
        "--large",
        nargs="*",
        default=["20000x2000", "40000x3000"],
        help="PxN sizes of the large float32 cases of target 7 (none: only 2000x300)",
    )
    ap.add_argument(
        "--large-iters",
        type=int,
        default=12,
        help="iterations per fit of the large cases (targets 7, 8; per-iteration time stamps)",
    )
    ap.add_argument("--threads-size", default="20000x2000", help="PxN of target 8")
    ap.add_argument("--throughput", action="store_true", help="include target 4 (minutes)")
    ap.add_argument("--seeds", type=int, default=20, help="seeds of target 4 (default 20)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="CSV file of all rows")
    return ap.parse_args(argv)  # fmt: skip


def main(argv=None):
    args = _parse(argv)
    targets = args.only or list(DEFAULT_TARGETS) + ([4] if args.throughput else [])
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})", flush=True)
    rows = []
    for target in sorted(targets):
        ctx = _one_thread() if target in _NEEDS_ONE_THREAD else contextlib.nullcontext()
        with ctx:
            rows += TARGETS[target](args)
    load = f"load average after: {os.getloadavg()[0]:.2f}"
    print(load)
    for r in rows:
        r.notes = f"{r.notes}; {load}" if r.notes else load
    _summary(rows)
    _write_csv(rows, args.out)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
