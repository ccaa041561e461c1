"""Coordinate descent of ``desurv.NMF`` vs scikit-learn's ``NMF(solver="cd")`` (issue 16, target 2).

Not a test and not an asv benchmark (nothing runs on import). For each data set both solvers
start from the same W0, H0 (``init="custom"``; NNDSVDa of X), with one BLAS thread:

* **time to objective** (the target, goal >= 2x): scikit-learn runs to convergence at its
  default ``tol=1e-4`` (``max_iter=10000``); its final objective f_sk = ½‖X − WH‖² (float64,
  computed here in the same way for both) is the target. Ours runs with ``tol=0`` for the
  smallest number of iterations N whose objective is <= f_sk (read from ``loss_history_`` of
  one long run). Both whole fits are then timed (validation, start checks and the final
  error included), alternating within each repetition; ratio = median sklearn time / median
  our time.
* **per sweep** (report): one coordinate sweep of W and one of H per iteration on both sides
  (our solver with ``accelerate=False``: the updates of scikit-learn's HALS, without our extra
  inner sweeps); time per iteration = median of (t(2N) − t(N)) / N, so fixed costs cancel.
* **default stopping rule** (report): ours at its default ``tol=1e-4`` (its own rule, see
  ``desurv.NMF``), with the objective it stops at next to scikit-learn's.

Data: "2000x300 k=5": X = G1·G2 + 0.5·U (G gamma(1, 1) factors of rank 5, U uniform on
[0, 1]), seed 2; "brca560 k=10": the 560 breast genomes × 96 SBS channels of
``../shared/data/mutational/brca560_wgs_sbs96.tsv`` (genomes as samples; skipped when the file
is missing).

    python benchmarks/compare_cd.py              # both data sets, 7 repetitions
    python benchmarks/compare_cd.py --reps 9

From ``benchmarks/compare.py`` (same folder on ``sys.path``)::

    import compare_cd
    rows += compare_cd.rows(args, _row)   # args.reps is used when present

Every figure is returned as a row built by ``make_row`` (default: compare.py's ``_row``,
which also prints it: target, case, ours, ref, ratio, goal, unit, notes).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / ".." / "shared" / "data" / "mutational" / "brca560_wgs_sbs96.tsv"
GOAL = 2.0
TARGET = "2cd"
SWEEP_ITERS = 50  # N of the per-sweep figure (t(2N) − t(N)) / N


# ------------------------------------------------------------------------------ timing
def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternate(fns, reps):
    """Wall times of the callables ``fns`` (name -> callable), interleaved in every repetition
    (order reversed every other repetition). Returns name -> array of ``reps`` times."""
    names = list(fns)
    out = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            out[name].append(_timed(fns[name]))
    return {name: np.asarray(t) for name, t in out.items()}


def objective(X, W, H):
    """½‖X − WH‖²_F in float64."""
    R = np.asarray(X, np.float64) - np.asarray(W, np.float64) @ np.asarray(H, np.float64)
    return 0.5 * float(np.vdot(R, R))


# ------------------------------------------------------------------------------ data
def datasets():
    """[(name, X (n_samples, n_features) C-contiguous float64, k)]."""
    rng = np.random.default_rng(2)
    X = rng.gamma(1.0, 1.0, size=(2000, 5)) @ rng.gamma(1.0, 1.0, size=(5, 300))
    X += 0.5 * rng.uniform(size=X.shape)
    out = [("2000x300 k=5", X, 5)]
    if CATALOGUE.exists():
        import pandas as pd

        df = pd.read_csv(CATALOGUE, sep="\t", index_col=0)
        C = np.ascontiguousarray(df.to_numpy(dtype=np.float64).T)  # genomes x channels
        out.append((f"brca560 {C.shape[0]}x{C.shape[1]} k=10", C, 10))
    return out


def _fit(est, X, W0, H0):
    return est.fit(X, W=W0.copy(), H=H0.copy())


# ------------------------------------------------------------------------------ figures
def measure(X, k, reps):
    """All figures of one data set (see the module docstring), as a dict."""
    from sklearn.decomposition import NMF as SkNMF

    from desurv import NMF
    from desurv.decomposition._init import initialize_nmf
    from desurv.decomposition._solvers import fit_coordinate_descent

    W0, H0 = initialize_nmf(X, k, "nndsvda", random_state=0)
    sk = SkNMF(k, solver="cd", init="custom", max_iter=10000)
    Wsk = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    res = {"f_sk": objective(X, Wsk, sk.components_), "sk_iter": int(sk.n_iter_)}
    # smallest number of our iterations reaching f_sk (tol = 0), from one long run
    probe = NMF(k, solver="cd", init="custom", max_iter=max(20 * sk.n_iter_, 200), tol=0)
    _fit(probe, X, W0, H0)
    reached = np.flatnonzero(probe.loss_history_ <= res["f_sk"])
    if reached.size:
        n_ours = max(int(reached[0]), 1)
        ours = NMF(k, solver="cd", init="custom", max_iter=n_ours, tol=0)
        W = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
        res.update(ours_iter=n_ours, f_ours=objective(X, W, ours.components_))
        t = alternate({"ours": partial(_fit, ours, X, W0, H0), "sk": partial(_fit, sk, X, W0, H0)},
                      reps)  # fmt: skip
        res.update(t_ours=float(np.median(t["ours"])), t_sk=float(np.median(t["sk"])),
                   ratio_runs=float(np.median(t["sk"] / t["ours"])))  # fmt: skip
    # ours at its own default stopping rule
    dflt = NMF(k, solver="cd", init="custom", max_iter=10000)
    W = dflt.fit_transform(X, W=W0.copy(), H=H0.copy())
    res.update(dflt_iter=int(dflt.n_iter_), f_dflt=objective(X, W, dflt.components_))
    t = alternate({"ours": partial(_fit, dflt, X, W0, H0), "sk": partial(_fit, sk, X, W0, H0)},
                  reps)  # fmt: skip
    res.update(t_dflt=float(np.median(t["ours"])), t_sk_dflt=float(np.median(t["sk"])))
    # per sweep: one W sweep + one H sweep per iteration on both sides
    n = SWEEP_ITERS

    def ours_n(m):
        return partial(fit_coordinate_descent, X, W0, H0, max_iter=m, tol=0, accelerate=False)

    def sk_n(m):
        return partial(_fit, SkNMF(k, solver="cd", init="custom", max_iter=m, tol=0), X, W0, H0)

    t = alternate({"o1": ours_n(n), "o2": ours_n(2 * n), "s1": sk_n(n), "s2": sk_n(2 * n)}, reps)
    po, ps = (t["o2"] - t["o1"]) / n, (t["s2"] - t["s1"]) / n
    res.update(sweep_ours=float(np.median(po)), sweep_sk=float(np.median(ps)))
    return res


def rows(args=None, make_row=None, target=TARGET):
    """The figures of every data set as rows (``make_row``: compare.py's ``_row``).

    ``args.reps`` (default 7) repetitions per figure; one BLAS thread throughout. ``target``
    is the label of the rows (e.g. 2 inside compare.py's target 2).
    """
    from threadpoolctl import threadpool_limits

    if make_row is None:  # run alone: compare.py's rows (same folder, on sys.path)
        from compare import _row as make_row
    reps = max(int(getattr(args, "reps", 7) or 7), 3)
    out = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fits at tol = 0 stop at max_iter by design
        for name, X, k in datasets():
            r = measure(X, k, reps)
            unit = "x speed-up (sklearn / ours)"
            if "t_ours" in r:
                out.append(make_row(
                    target, f"NMF cd time to sklearn's objective, {name}", r["t_ours"], r["t_sk"],
                    r["t_sk"] / r["t_ours"], (">=", GOAL), unit,
                    f"sklearn {r['sk_iter']} it to {r['f_sk']:.7g}; ours {r['ours_iter']} it to "
                    f"{r['f_ours']:.7g}; whole fits, same start; median of per-run ratios "
                    f"{r['ratio_runs']:.3g}; {reps} reps"))  # fmt: skip
            else:
                out.append(make_row(target, f"NMF cd time to sklearn's objective, {name}", None,
                                    None, None, (">=", GOAL), unit,
                                    f"ours never reached {r['f_sk']:.7g}"))  # fmt: skip
            out.append(make_row(
                target, f"NMF cd per iteration, one sweep of W and H, {name}", r["sweep_ours"],
                r["sweep_sk"], r["sweep_sk"] / r["sweep_ours"], None, unit,
                f"accelerate=False (scikit-learn's updates); (t(2N) - t(N)) / N, N = "
                f"{SWEEP_ITERS}; {reps} reps"))  # fmt: skip
            out.append(make_row(
                target, f"NMF cd at its default tol=1e-4, {name}", r["t_dflt"], r["t_sk_dflt"],
                r["t_sk_dflt"] / r["t_dflt"], None, unit,
                f"ours {r['dflt_iter']} it to {r['f_dflt']:.7g}, sklearn {r['sk_iter']} it to "
                f"{r['f_sk']:.7g} (report only: different objectives)"))  # fmt: skip
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=7, help="repetitions per figure (default 7)")
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()}", flush=True)
    result = rows(args)
    print(f"load average after: {os.getloadavg()}", flush=True)
    print(f"\n{'ratio':>8}  {'goal':<6} case")
    for r in result:
        ratio = "-" if r.ratio is None else format(r.ratio, ".4g")
        print(f"{ratio:>8}  {r.goal or '-':<6} {r.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
