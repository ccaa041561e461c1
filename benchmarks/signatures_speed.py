"""Speed of convex NMF, AE-NMF and batched NNLS: compiled kernels vs their NumPy twins.

Same process, same data, same starts, same Python driver and the same BLAS products: the
only difference between the two columns is that ``desurv``'s compiled (Numba) kernels are
swapped for their plain NumPy twins in ``desurv/_reference/`` (``_convex`` → ``convex``,
``_nmf_mu`` → ``nmf_mu``, ``_aenmf`` → ``aenmf``) by :func:`reference_kernels`. So the
ratio measures what the fused kernels buy over NumPy written the obvious way.

Sizes: (96 × 560, k = 12) = ``brca560_wgs_sbs96.tsv``; (96 × 2,700, k = 21) = the SynSig
``syn.many.types`` catalogue (2,700 genomes), or brca560 resampled to 2,700 genomes
(Poisson counts of randomly chosen genomes) when the SynSig data are absent.

Measured (one BLAS thread; medians of ``--repeats`` repetitions; the load average of the
shared machine printed before and after):

* seconds per iteration of ``ConvexNMF`` (Frobenius and KL) and ``AENMF`` (fp-abs,
  Frobenius and KL): ``fit`` with ``tol=0`` and ``--iters`` iterations, divided by the
  iterations (the fit's set-up is included, amortised);
* time to tolerance (sizes ``--ttt-sizes``, default the small one): ``fit`` with the
  estimator's stopping rule (``--ttt-tol``, capped at ``--ttt-max-iter`` /
  ``--ttt-ae-max-iter``): seconds and iterations of both, and the relative difference of
  their final objectives (the convex updates follow the same trajectory up to rounding;
  Adam's trajectories drift apart by rounding on the loss plateaus, so AE-NMF's two runs
  may stop at different iterations);
* batched NNLS (``desurv.decomposition.nnls``, active set on one shared Gram matrix) vs a
  Python loop over ``scipy.optimize.nnls``, signatures from an NMF fit of the same data;
  the largest difference of the solutions is printed.

The effect of the KL loss on signature recovery on SynSig count data is measured in
``benchmarks/signatures_synsig.py`` (methods ``nmf-kl``, ``convex-nmf-kl``, ``aenmf-kl``);
its table is repeated here from ``benchmarks/results/signatures_synsig.csv`` when present.

    python benchmarks/signatures_speed.py [--repeats 5] [--iters 100] [--sizes small,large]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import sys
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
MUT = HERE.parent.parent / "shared" / "data" / "mutational"
RESULTS = HERE / "results"
SIZES = {"small": (560, 12), "large": (2700, 21)}
#: (label, estimator class name, beta_loss)
METHODS = (
    ("ConvexNMF frobenius", "ConvexNMF", "frobenius"),
    ("ConvexNMF kullback-leibler", "ConvexNMF", "kullback-leibler"),
    ("AENMF frobenius", "AENMF", "frobenius"),
    ("AENMF kullback-leibler", "AENMF", "kullback-leibler"),
)


# ----------------------------------------------------------------------------- data
def catalogue(size, data=MUT, seed=0):
    """The (n_genomes, 96) float64 catalogue of ``size`` ("small" or "large") and its source."""
    from desurv.datasets import load_synsig, read_catalogue

    n, _ = SIZES[size]
    brca = data / "brca560_wgs_sbs96.tsv"
    if size == "small":
        if brca.is_file():
            return read_catalogue(brca).to_numpy(np.float64), "brca560_wgs_sbs96.tsv"
        return synthetic_catalogue(n, 12, seed), f"synthetic ({n} genomes, 12 signatures)"
    many = data / "synsig" / "syn.many.types"
    if (many / "catalog.tsv").is_file():
        return load_synsig(many).catalogue.to_numpy(np.float64), "SynSig syn.many.types"
    if brca.is_file():
        X = read_catalogue(brca).to_numpy(np.float64)
        rng = np.random.default_rng(seed)
        return (
            rng.poisson(X[rng.integers(0, X.shape[0], size=n)]).astype(np.float64),
            f"brca560 resampled to {n} genomes (Poisson)",
        )
    return synthetic_catalogue(n, 21, seed), f"synthetic ({n} genomes, 21 signatures)"


def synthetic_catalogue(n, k, seed=0, p=96):
    """Poisson counts from k Dirichlet(0.3) signatures and gamma exposures (n, p)."""
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k)
    E = rng.gamma(0.5, 2000.0 / k, size=(n, k))
    return rng.poisson(E @ S).astype(np.float64)


# ----------------------------------------------------------------------------- twins
@contextlib.contextmanager
def reference_kernels():
    """Swap the compiled kernels used by ConvexNMF and AENMF for their NumPy twins.

    Inside the block ``desurv.decomposition.convex`` calls ``desurv._reference.convex`` and
    ``desurv._reference.nmf_mu``, ``desurv.decomposition.aenmf`` calls
    ``desurv._reference.aenmf``; the modules are restored on exit.
    """
    from desurv._reference import aenmf as ref_aenmf
    from desurv._reference import convex as ref_convex
    from desurv._reference import nmf_mu as ref_nmf_mu
    from desurv.decomposition import aenmf, convex

    saved = (convex._convex, convex._nmf_mu, aenmf._aenmf)
    convex._convex, convex._nmf_mu, aenmf._aenmf = ref_convex, ref_nmf_mu, ref_aenmf
    try:
        yield
    finally:
        convex._convex, convex._nmf_mu, aenmf._aenmf = saved


def estimator(cls_name, loss, k, **params):
    from desurv.decomposition import AENMF, ConvexNMF

    cls = {"ConvexNMF": ConvexNMF, "AENMF": AENMF}[cls_name]
    return cls(k, beta_loss=loss, random_state=0, **params)


def timed_fit(est, X, reference=False):
    """(seconds, fitted estimator) of ``est.fit(X)`` (warnings silenced, one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    ctx = reference_kernels() if reference else contextlib.nullcontext()
    with ctx, threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est.fit(X)
        return time.perf_counter() - t0, est


def per_iteration(cls_name, loss, X, k, iters, repeats):
    """Median seconds per iteration, compiled and twin, and the final objectives' relative
    difference: ``dict(compiled=, numpy=, ratio=, rel_diff=)``."""
    from sklearn.base import clone

    base = estimator(cls_name, loss, k, max_iter=iters, tol=0.0)
    timed_fit(clone(base).set_params(max_iter=2), X)  # compile / load the kernels
    timed_fit(clone(base).set_params(max_iter=2), X, reference=True)
    comp, ref, objs = [], [], {}
    for _ in range(repeats):  # interleaved, so that load changes hit both alike
        t, e1 = timed_fit(clone(base), X)
        comp.append(t / iters)
        t, e2 = timed_fit(clone(base), X, reference=True)
        ref.append(t / iters)
        objs = (e1.reconstruction_err_, e2.reconstruction_err_)
    c, r = float(np.median(comp)), float(np.median(ref))
    return dict(
        compiled=c,
        numpy=r,
        ratio=r / c,
        rel_diff=abs(objs[0] - objs[1]) / max(abs(objs[1]), 1e-300),
    )


def measure_time_to_tol(cls_name, loss, X, k, tol, max_iter, repeats):
    """Fits with the stopping rule: median seconds and the iterations of both versions."""
    from sklearn.base import clone

    base = estimator(cls_name, loss, k, max_iter=max_iter, tol=tol)
    out = {"compiled": [], "numpy": [], "it_c": 0, "it_n": 0, "conv_c": False, "conv_n": False}
    objs = (np.nan, np.nan)
    for _ in range(repeats):
        t, e1 = timed_fit(clone(base), X)
        out["compiled"].append(t)
        t, e2 = timed_fit(clone(base), X, reference=True)
        out["numpy"].append(t)
        out.update(it_c=e1.n_iter_, it_n=e2.n_iter_, conv_c=e1.converged_, conv_n=e2.converged_)
        objs = (e1.reconstruction_err_, e2.reconstruction_err_)
    c, r = float(np.median(out["compiled"])), float(np.median(out["numpy"]))
    return dict(
        compiled=c,
        numpy=r,
        ratio=r / c,
        it_compiled=int(out["it_c"]),
        it_numpy=int(out["it_n"]),
        converged=f"{out['conv_c']}/{out['conv_n']}",
        rel_diff=abs(objs[0] - objs[1]) / max(abs(objs[1]), 1e-300),
    )


def nnls_speed(X, k, repeats):
    """Batched NNLS vs a loop over scipy.optimize.nnls for all genomes of X (signatures of
    an NMF fit, rank k). Returns dict(batched=, scipy=, ratio=, max_abs_diff=, rel_res_diff=)."""
    from scipy.optimize import nnls as scipy_nnls
    from threadpoolctl import threadpool_limits

    from desurv.decomposition import NMF, nnls

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        C = NMF(k, solver="cd", init="nndsvda", max_iter=300, random_state=0).fit(X).components_
        A = np.ascontiguousarray(C.T, dtype=np.float64)  # (96, k)
        B = np.ascontiguousarray(X.T)  # (96, n)
        nnls(A, B[:, :5])  # compile / load
        tb, ts = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            Hb = nnls(A, B)
            tb.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            Hs = np.column_stack([scipy_nnls(A, B[:, j])[0] for j in range(B.shape[1])])
            ts.append(time.perf_counter() - t0)
    rb = np.linalg.norm(A @ Hb - B, axis=0)
    rs = np.linalg.norm(A @ Hs - B, axis=0)
    b, s = float(np.median(tb)), float(np.median(ts))
    return dict(
        batched=b,
        scipy=s,
        ratio=s / b,
        max_abs_diff=float(np.max(np.abs(Hb - Hs)) / max(np.max(np.abs(Hs)), 1e-300)),
        rel_res_diff=float(np.max((rb - rs) / np.maximum(rs, 1e-300))),
    )


def kl_vs_frobenius(csv):
    """Median matched cosine per scenario and method from signatures_synsig.csv, and the
    KL − Frobenius differences; None when the file is absent."""
    if not Path(csv).is_file():
        return None
    df = pd.read_csv(csv)
    cos = df[df["metric"] == "signature_cosine"]
    med = cos.groupby(["scenario", "method"])["value"].median().unstack("method")
    out = {}
    for fro, kl in (("nmf", "nmf-kl"), ("convex-nmf", "convex-nmf-kl"), ("aenmf", "aenmf-kl")):
        if fro in med.columns and kl in med.columns:
            out[f"{fro}"] = med[fro]
            out[f"{kl}"] = med[kl]
            out[f"{kl} − {fro}"] = med[kl] - med[fro]
    return pd.DataFrame(out) if out else None


# ----------------------------------------------------------------------------- run
def run(args):
    rows_it, rows_ttt, rows_nnls = [], [], []
    for size in args.sizes:
        X, source = catalogue(size, args.data)
        k = SIZES[size][1]
        print(
            f"[{size}] {source}: {X.shape[0]} genomes × {X.shape[1]} channels, k = {k}", flush=True
        )
        shape = f"96 × {X.shape[0]}, k={k}"
        for label, cls_name, loss in METHODS:
            r = per_iteration(cls_name, loss, X, k, args.iters, args.repeats)
            rows_it.append(dict(size=shape, method=label, **r))
            print(
                f"  per-iteration {label}: {r['compiled'] * 1e3:.3f} ms vs "
                f"{r['numpy'] * 1e3:.3f} ms",
                flush=True,
            )
        for label, cls_name, loss in METHODS:
            if (loss != "frobenius" and not args.ttt_kl) or size not in args.ttt_sizes:
                continue
            max_iter = args.ttt_ae_max_iter if cls_name == "AENMF" else args.ttt_max_iter
            reps = args.ttt_repeats
            r = measure_time_to_tol(cls_name, loss, X, k, args.ttt_tol, max_iter, reps)
            rows_ttt.append(dict(size=shape, method=label, repeats=reps, **r))
            print(f"  time-to-tol {label}: {r['compiled']:.2f} s vs {r['numpy']:.2f} s", flush=True)
        r = nnls_speed(X, k, args.repeats)
        rows_nnls.append(dict(size=shape, **r))
    return pd.DataFrame(rows_it), pd.DataFrame(rows_ttt), pd.DataFrame(rows_nnls)


def report(args, argv, it, ttt, nn, load_before, load_after, wall):
    print("# Speed: compiled kernels vs their NumPy twins (same process, same updates)")
    print(f"command: {' '.join(shlex.quote(a) for a in argv)}")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 shared cores); "
        f"wall {wall:.0f} s; one BLAS thread"
    )
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(
            f"\n## seconds per iteration (fit with tol=0, {args.iters} iterations; median of "
            f"{args.repeats}); ratio = NumPy twin / compiled; rel_diff = |Δ objective| / objective"
        )
        t = it.copy()
        t["compiled ms"] = t.pop("compiled") * 1e3
        t["numpy ms"] = t.pop("numpy") * 1e3
        print(
            t[["size", "method", "compiled ms", "numpy ms", "ratio", "rel_diff"]].to_string(
                index=False, float_format="%.4g"
            )
        )
        if len(ttt):
            print(
                f"\n## time to tolerance (tol {args.ttt_tol}, max_iter {args.ttt_max_iter} "
                f"convex / {args.ttt_ae_max_iter} AE-NMF; median of `repeats` fits)"
            )
            print(ttt.to_string(index=False, float_format="%.4g"))
        print(
            f"\n## NNLS of every genome: desurv.decomposition.nnls vs a loop over "
            f"scipy.optimize.nnls (seconds, median of {args.repeats}); max_abs_diff relative "
            "to the largest exposure; rel_res_diff = max (‖r_batched‖ − ‖r_scipy‖)/‖r_scipy‖"
        )
        print(nn.to_string(index=False, float_format="%.4g"))
        kl = kl_vs_frobenius(args.synsig_csv)
        print(
            "\n## KL vs Frobenius on SynSig counts: median matched cosine per scenario "
            f"(from {args.synsig_csv.name}; see signatures_synsig.txt for its settings)"
        )
        print(
            "not available (run benchmarks/signatures_synsig.py first)"
            if kl is None
            else kl.to_string(float_format="%.3f")
        )


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--ttt-tol", type=float, default=1e-6)
    ap.add_argument("--ttt-max-iter", type=int, default=20000, help="ConvexNMF")
    ap.add_argument("--ttt-ae-max-iter", type=int, default=50000, help="AENMF")
    ap.add_argument("--ttt-repeats", type=int, default=3)
    ap.add_argument("--ttt-sizes", default="small", help="sizes timed to tolerance")
    ap.add_argument("--ttt-kl", action="store_true", help="time-to-tol of the KL losses too")
    ap.add_argument("--data", type=Path, default=MUT)
    ap.add_argument("--synsig-csv", type=Path, default=RESULTS / "signatures_synsig.csv")
    ap.add_argument("--out", type=Path, default=RESULTS / "signatures_speed")
    return ap


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    args.ttt_sizes = [s.strip() for s in args.ttt_sizes.split(",") if s.strip()]
    bad = [s for s in args.sizes + args.ttt_sizes if s not in SIZES]
    if bad:
        raise SystemExit(f"unknown size(s) {bad}; choose from {list(SIZES)}")
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    it, ttt, nn = run(args)
    wall = time.perf_counter() - t0
    buf = io.StringIO()
    with redirect_stdout(buf):
        report(
            args,
            ["python", "benchmarks/signatures_speed.py", *argv],
            it,
            ttt,
            nn,
            load_before,
            os.getloadavg(),
            wall,
        )
    print(buf.getvalue(), end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".txt").write_text(buf.getvalue())
    pd.concat(
        [it.assign(kind="per_iteration"), ttt.assign(kind="time_to_tol"), nn.assign(kind="nnls")]
    ).to_csv(args.out.with_suffix(".csv"), index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
