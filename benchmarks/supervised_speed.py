"""Speed of the compiled S-NMF / SS-NMF / PSS-NMF iteration (issue 16) and of a PSS-NMF fit.

``SupervisedNMF`` (METHODS.md §A) runs ``check_every`` iterations per call of one compiled
kernel, ``desurv._kernels._supervised_nmf.run_block``. In one process, BLAS on one thread
(threadpoolctl), each timing the median of ``--repeats`` repetitions, the load average of
the shared machine printed before and after, this measures:

* ``kernel``: one ``run_block`` call of 1,000 iterations on ``--n`` genomes × 96 channels
  (per-genome profiles), k = ``--k``, C = 9 classes, a third of the genomes unlabelled
  (SS-NMF without U.R., the replicates' problem), for both variants (``faithful``: the
  published iteration; ``clean``: the default normalisation) and ``update_w`` (False: the
  refit, W fixed, λ_c = 0). Inputs are built with the estimator's own helpers
  (``_Problem``, ``_masks``, ``_coefficients``, ``_random_start``), so the call is the one
  ``train_supervised_nmf`` makes. Every repetition starts from the same start (copies);
* ``numpy*``: the NumPy twin ``desurv._reference.supervised_nmf.run_block`` (same
  signature, same work: the objective terms of every iterate and the three updates), run
  for ``--ref-iter`` iterations and scaled to 1,000 (marked ``*``);
* ``products``: the BLAS products one iteration of the kernel needs, at the kernel's
  shapes and layouts, as plain NumPy ``np.dot(a, b, out)`` calls (no allocation), × 1,000:
  A = X·W (N × M · M × K), G = WᵀW (K × K), H·G (N × K · K × K), the logits Z = H·Bᵀ
  (N × K · K × C), the head gradient Rᵀ·H (C × N · N × K) and R·B (N × C · C × K), and
  with ``update_w`` also P = Hᵀ·X (K × N · N × M), S = HᵀH (K × K) and the W step's
  denominator S·Wᵀ (K × K · K × M). In the kernel the two K × K Grams and S·Wᵀ are
  compiled loops, the rest Numba's BLAS calls; ``big2`` is the two O(N·M·K) products
  alone (X·W, and Hᵀ·X with ``update_w``). Issue 16's target: the kernel within 2× of the
  products it needs. Where the rest goes (one case, faithful with ``update_w``): every
  product alone, NumPy's vectorised ``np.exp`` of the n_labelled × C logits (the kernel's
  softmax exponentiates the labelled rows only, in one vectorised pass of its own
  ``exp_array``; before issue 16 by one scalar libm call per entry), and the kernel with the
  mask ``lab`` = 0 (the softmax pass skipped, every product still computed);
* ``fit``: ``SupervisedNMF(mode="pseudo-label", n_replicates=10)`` (PSS-NMF, defaults
  otherwise: clean normalisation, checks every 100 iterations, min_iter 1,000, max_iter
  20,000) on SynSig ``syn.many.types`` (2,700 genomes; class = the sample id's prefix
  before ``::``, 9 classes; a third of the labels hidden with a fixed seed), ``n_jobs=1``
  and ``n_jobs=2`` (threads; the kernel releases the GIL): seconds, iterations (the
  refit's are kernel iterations when it runs the published MU refit, L-BFGS iterations of
  the head when it runs the exact clean refit), and the share of the seconds the kernel
  alone would take at the measured ms per iteration of that catalogue. One fit each
  (``--fit-repeats``). Skipped when the data are absent.

    python benchmarks/supervised_speed.py [--repeats 7] [--n 1000] [--k 6] [--ref-iter 100]

Writes ``benchmarks/results/supervised_speed.txt`` (``--out``). SciPy's BLAS (the one
Numba's ``np.dot`` calls, another OpenBLAS than NumPy's) is loaded before the thread limit
is set, which threadpoolctl needs; the libraries and their thread counts are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

# benchmarks/_speed_common.py by path: this script runs as a file or is loaded by path
sc = sys.modules.get("_desurv_speed_common")
if sc is None:
    _spec = importlib.util.spec_from_file_location(
        "_desurv_speed_common", Path(__file__).with_name("_speed_common.py")
    )
    sc = sys.modules["_desurv_speed_common"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sc)

MUT, RESULTS = sc.MUT, sc.RESULTS
loop = sc.loop
N_ITER = 1000
N_CLASSES = 9
LAMBDA_C, LAMBDA_L2 = 0.1, 1e-4


# ----------------------------------------------------------------------------- data
def labelled_catalogue(n, k, n_classes=N_CLASSES, *, p=96, seed=0):
    """(X (n, p) float64 counts, y_obs (n,) int64 codes, -1 for a random third).

    Poisson counts from k Dirichlet(0.3) signatures and gamma exposures whose mix depends on
    the genome's class (about 2,000 mutations per genome), the recipe of
    ``benchmarks/asv_supervised.py``.
    """
    rng = np.random.default_rng(seed)
    S = rng.dirichlet(np.full(p, 0.3), size=k)
    mix = rng.dirichlet(np.full(k, 0.5), size=n_classes)
    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    E = rng.gamma(0.5, 1.0, size=(n, k)) * mix[y] * (2000.0 / 0.5)
    X = rng.poisson(E @ S).astype(np.float64)
    X[X.sum(axis=1) == 0, 0] = 1.0
    y_obs = y.copy()
    y_obs[rng.permutation(n)[: n // 3]] = -1
    return np.ascontiguousarray(X), y_obs


def many_types(data=MUT, seed=0):
    """(X (2700, 96) counts, y_obs int64 codes with a third -1, class names) or None."""
    from desurv.datasets import load_synsig

    folder = data / "synsig" / "syn.many.types"
    if not (folder / "catalog.tsv").is_file():
        return None
    cat = load_synsig(folder).catalogue
    prefix = cat.index.to_series().str.split("::").str[0].to_numpy()
    codes, names = pd.factorize(prefix, sort=True)
    y_obs = codes.astype(np.int64)
    rng = np.random.default_rng(seed)
    y_obs[rng.choice(y_obs.size, size=y_obs.size // 3, replace=False)] = -1
    return cat.to_numpy(np.float64), y_obs, list(names)


class Case:
    """The kernel's arguments for one (normalisation, update_w), as the estimator builds them."""

    def __init__(self, Xcounts, y_obs, k, normalization, update_w, seed=0):
        from desurv.decomposition import supervised as sup

        X = np.ascontiguousarray(Xcounts / Xcounts.sum(axis=1, keepdims=True))
        n_classes = int(y_obs.max()) + 1
        mu = sup._DEFAULT_LR[normalization]
        prob = sup._Problem(
            X,
            y_obs,
            n_classes,
            lambda_c=LAMBDA_C,
            lambda_l2=LAMBDA_L2,
            mu=mu,
            normalization=normalization,
            unlabeled_reg=False,
        )
        Yt, lab = sup._masks(y_obs, n_classes, False)
        lambda_c = LAMBDA_C if update_w else 0.0
        coef = sup._coefficients(prob, lab, lambda_c)  # (hc, bc[, l2], n_c)
        self.hc, self.bc = coef[0], coef[1]
        self.l2 = coef[2] if len(coef) == 4 else LAMBDA_L2
        rng = np.random.Generator(np.random.PCG64DXSM(seed))
        self.Wt, self.Ht, self.B = sup._random_start(rng, X.shape[1], X.shape[0], k, n_classes)
        self.X, self.Yt, self.lab, self.mu = X, Yt, lab, mu
        self.clean = normalization == "clean"
        self.update_w = update_w
        self.hist = np.empty((N_ITER, 4))

    def run(self, run_block, n_iter):
        run_block(
            self.X,
            self.Wt.copy(),
            self.Ht.copy(),
            self.B.copy(),
            self.Yt,
            self.lab,
            n_iter,
            self.hc,
            self.bc,
            self.mu,
            self.l2,
            self.update_w,
            self.clean,
            self.hist,
        )

    def products(self):
        """``[(name, shape, needed with update_w only, call)]``: the iteration's products as
        ``np.dot(a, b, out)`` on preallocated buffers of the kernel's layouts."""
        X, Wt, Ht, B = self.X, self.Wt, self.Ht, self.B
        N, M = X.shape
        K, C = Wt.shape[0], B.shape[0]
        Wc = np.ascontiguousarray(Wt.T)
        Bc = np.ascontiguousarray(B.T)
        R = np.random.default_rng(0).random((N, C))
        A, GH, BR = np.empty((N, K)), np.empty((N, K)), np.empty((N, K))
        G, S = np.empty((K, K)), np.empty((K, K))
        P, SW = np.empty((K, M)), np.empty((K, M))
        Z, RH = np.empty((N, C)), np.empty((C, K))
        return [
            ("A = X·W", f"{N}x{M} · {M}x{K}", False, lambda: np.dot(X, Wc, A)),
            ("G = WᵀW", f"{K}x{M} · {M}x{K}", False, lambda: np.dot(Wt, Wt.T, G)),
            ("H·G", f"{N}x{K} · {K}x{K}", False, lambda: np.dot(Ht, G, GH)),
            ("Z = H·Bᵀ", f"{N}x{K} · {K}x{C}", False, lambda: np.dot(Ht, Bc, Z)),
            ("Rᵀ·H", f"{C}x{N} · {N}x{K}", False, lambda: np.dot(R.T, Ht, RH)),
            ("R·B", f"{N}x{C} · {C}x{K}", False, lambda: np.dot(R, B, BR)),
            ("P = Hᵀ·X", f"{K}x{N} · {N}x{M}", True, lambda: np.dot(Ht.T, X, P)),
            ("S = HᵀH", f"{K}x{N} · {N}x{K}", True, lambda: np.dot(Ht.T, Ht, S)),
            ("S·Wᵀ", f"{K}x{K} · {K}x{M}", True, lambda: np.dot(S, Wt, SW)),
        ]


# ----------------------------------------------------------------------------- timing
def median_time(fn, repeats):
    """Median seconds of ``repeats`` calls of ``fn`` (after one untimed call)."""
    return sc.median_time(fn, repeats, warmup=True)[0]


def measure_blocks(n, k, repeats, ref_iter):
    """(variant rows, per-product rows, diagnostics of :func:`diagnose`) at n genomes."""
    from desurv._kernels._supervised_nmf import run_block as kernel
    from desurv._reference.supervised_nmf import run_block as reference

    X, y_obs = labelled_catalogue(n, k)
    rows, prod_rows, diag = [], [], {}
    for normalization in ("faithful", "clean"):
        for update_w in (True, False):
            case = Case(X, y_obs, k, normalization, update_w)
            t_kernel = median_time(lambda c=case: c.run(kernel, N_ITER), repeats)
            t_ref = median_time(lambda c=case: c.run(reference, ref_iter), repeats)
            t_ref *= N_ITER / ref_iter
            prods = [p for p in case.products() if update_w or not p[2]]
            t_prod = median_time(loop([p[3] for p in prods], N_ITER), repeats)
            big = [p[3] for p in prods if p[0].startswith(("A =", "P ="))]
            t_big = median_time(loop(big, N_ITER), repeats)
            rows.append(
                {
                    "variant": normalization,
                    "update_w": update_w,
                    "kernel_ms": 1e3 * t_kernel,
                    "numpy*_ms": 1e3 * t_ref,
                    "numpy/kernel": t_ref / t_kernel,
                    "products_ms": 1e3 * t_prod,
                    "kernel/products": t_kernel / t_prod,
                    "big2_ms": 1e3 * t_big,
                    "kernel/big2": t_kernel / t_big,
                }
            )
            if normalization == "faithful" and update_w:
                prod_rows, diag = diagnose(case, kernel, repeats)
    return rows, prod_rows, diag


def diagnose(case, kernel, repeats):
    """Where the kernel's time goes beyond its products (one case).

    Returns (per-product rows, dict): every product alone, ``np.exp`` of the
    n_labelled × C logits (the softmax's exponentials, vectorised by NumPy; the kernel's by
    its own ``exp_array``), and the kernel with the mask ``lab`` = 0 (the softmax pass
    skipped, R = 0, every product still computed).
    """
    rows = []
    for name, shape, only_w, f in case.products():
        rows.append(
            {
                "product": name,
                "shape": shape,
                "update_w only": only_w,
                "ms per 1,000": 1e3 * median_time(loop([f], N_ITER), repeats),
            }
        )
    n_lab = int(np.sum(case.lab != 0))
    Z = np.random.default_rng(0).random((n_lab, case.B.shape[0]))
    rows.append(
        {
            "product": "exp (softmax)",
            "shape": f"{n_lab}x{Z.shape[1]}",
            "update_w only": False,
            "ms per 1,000": 1e3 * median_time(loop([lambda: np.exp(Z)], N_ITER), repeats),
        }
    )
    lab = case.lab
    try:
        case.lab = np.zeros_like(lab)
        t_off = median_time(lambda: case.run(kernel, N_ITER), repeats)
    finally:
        case.lab = lab
    return rows, {"n_lab": n_lab, "kernel_lab0_ms": 1e3 * t_off}


def measure_fits(k, repeats, n_jobs_list=(1, 2)):
    """Rows of the fit table on syn.many.types, or None without the data."""
    from desurv._kernels._supervised_nmf import run_block as kernel
    from desurv.decomposition import SupervisedNMF

    data = many_types()
    if data is None:
        return None
    X, y_obs, _ = data
    # the kernel's ms per iteration on this catalogue (clean, as the fit), for the share
    per_it = {}
    for update_w in (True, False):
        case = Case(X, y_obs, k, "clean", update_w)
        per_it[update_w] = median_time(lambda c=case: c.run(kernel, N_ITER), 3) / N_ITER
    rows = []
    for n_jobs in n_jobs_list:
        est = SupervisedNMF(k, mode="pseudo-label", n_replicates=10, random_state=0, n_jobs=n_jobs)
        times, cpu = [], []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                est.fit(X, y_obs)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        it_rep = int(est.n_iter_.sum())
        it_ref = int(est.refit_n_iter_)
        # the refit runs the kernel (W fixed) when it records stopping checks; otherwise
        # (clean refit: NNLS exposures and an L-BFGS head) its iterations are L-BFGS's
        kernel_refit = bool(np.any(est.history_["stage"] == "refit"))
        it_kernel = it_rep + (it_ref if kernel_refit else 0)
        kernel_s = it_rep * per_it[True] + (it_ref * per_it[False] if kernel_refit else 0.0)
        sec = float(np.median(times))
        base = rows[0]["seconds"] if rows else sec
        rows.append(
            {
                "n_jobs": n_jobs,
                "seconds": sec,
                "cpu/wall": float(np.median(cpu)) / sec,
                "replicate iterations": it_rep,
                "min-max per replicate": f"{est.n_iter_.min()}-{est.n_iter_.max()}",
                "refit iterations": f"{it_ref} ({'kernel' if kernel_refit else 'L-BFGS'})",
                "ms per kernel iteration": 1e3 * sec / it_kernel,
                "kernel share": kernel_s / sec,
                "speed-up": base / sec,
                "converged": bool(est.converged_),
                "pseudo-labels": len(est.pseudo_labels_),
                "in refit": int(np.sum((est.labels_ >= 0) & (y_obs < 0))),
                "warnings": len(caught),
            }
        )
    return rows, per_it


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--n", type=int, default=1000, help="genomes of the kernel timings")
    ap.add_argument("--k", type=int, default=6)
    ap.add_argument("--ref-iter", type=int, default=100)
    ap.add_argument("--fit-repeats", type=int, default=1, help="0 skips the fits")
    ap.add_argument("--out", default=str(RESULTS / "supervised_speed.txt"))
    a = ap.parse_args(argv)
    import desurv._kernels._supervised_nmf  # noqa: F401
    import desurv._reference.supervised_nmf  # noqa: F401
    import desurv.decomposition.supervised  # noqa: F401

    load0 = sc.load_average()
    t0 = time.perf_counter()
    # Numba's np.dot calls SciPy's BLAS, which one_blas_thread loads before the limit
    with sc.one_blas_thread():
        blas = sc.blas_libraries()
        rows, prod_rows, diag = measure_blocks(a.n, a.k, a.repeats, a.ref_iter)
        fits = measure_fits(a.k, a.fit_repeats) if a.fit_repeats > 0 else None
    df = pd.DataFrame(rows)
    with sc.report(a.out):
        print("S-NMF / SS-NMF / PSS-NMF: compiled iteration block vs NumPy and BLAS products")
        print(f"command: {sc.command('supervised_speed.py', argv)}")
        print(
            f"{a.n} genomes x 96 channels (profiles), k = {a.k}, C = {N_CLASSES}, a third "
            f"unlabelled; blocks of {N_ITER} iterations; medians of {a.repeats} repetitions; "
            f"one BLAS thread; * = NumPy twin run for {a.ref_iter} iterations and scaled to "
            f"{N_ITER}"
        )
        print(f"BLAS libraries while timing: {blas}")
        print(f"load average before: {load0}")
        print()
        print(df.to_string(index=False, float_format=sc.fmt))
        print()
        print(f"products of one iteration, ms per {N_ITER} calls (np.dot with out=):")
        print(pd.DataFrame(prod_rows).to_string(index=False, float_format=sc.fmt))
        print()
        print("per iteration (µs): the kernel = its BLAS products + the rest (element-wise")
        print("passes incl. the softmax's exps, compiled Grams, Numba's BLAS calls)")
        for r in rows:
            kern = r["kernel_ms"]
            rest = kern - r["products_ms"]
            print(
                f"  {r['variant']:8s} update_w={r['update_w']!s:5s}: {kern:7.1f} = "
                f"{r['products_ms']:6.1f} + {rest:6.1f}"
            )
        if diag:
            r0 = rows[0]
            off = diag["kernel_lab0_ms"]
            print(
                f"  faithful update_w=True with lab = 0 (no softmax rows, same products): "
                f"{off:.1f} µs, {off / r0['products_ms']:.3g}x the products; the softmax pass "
                f"over the {diag['n_lab']} labelled rows costs {r0['kernel_ms'] - off:.1f} µs "
                f"(NumPy's vectorised exp of the same logits: "
                f"{prod_rows[-1]['ms per 1,000']:.1f} µs)"
            )
        print()
        if fits is None:
            print("fits: skipped (--fit-repeats 0 or syn.many.types absent)")
        else:
            frows, per_it = fits
            print(
                f"PSS-NMF fit on SynSig syn.many.types (2700 x 96, 9 classes, a third of the "
                f"labels hidden, seed 0), k = {a.k}, n_replicates=10, defaults otherwise; "
                f"median of {a.fit_repeats} fit(s)"
            )
            print(
                f"kernel alone on this catalogue: {1e3 * per_it[True]:.3f} ms/iteration "
                f"(update_w), {1e3 * per_it[False]:.3f} (refit); kernel share = the seconds "
                "the fit's iterations take in the kernel alone / the fit's seconds (> 1 with "
                "threads running replicates in parallel); cpu/wall: the process's CPU seconds (all "
                "threads) per second, the cores it got; speed-up: vs the first row"
            )
            print(pd.DataFrame(frows).to_string(index=False, float_format=sc.fmt))
        print()
        print(f"load average after: {sc.load_average()}")
        print(f"wall time: {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
