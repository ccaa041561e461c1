"""Encode throughput of deep-unfolded NMF vs the batched NNLS refit and 10 plain MU steps.

Issue 13: the method's practical selling point is that a trained network encodes new
genomes by one forward pass. This measures, in one run and on the same new genomes with the
same signatures W:

* ``dnmf``: ``DeepUnfoldedNMF.transform`` (L = ``--layers`` layers; float64 and float32;
  the estimator's default ``n_threads=1``, which enters a threadpoolctl limit per call),
  the same with ``n_threads=None`` (the process is already on one BLAS thread here), and
  the bare forward pass of the network without ``transform``'s input checks
  (``forward only``);
* ``nnls``: the exact exposures by :func:`desurv.decomposition.nnls` (batched active set on
  one shared Gram matrix, compiled) with W = the network's ``components_``;
* ``mu10``: 10 plain multiplicative exposure updates from ones with the same W (NumPy, the
  repository's MU inference; 2 BLAS products + 10 small ones);
* ``scipy-nnls``: a Python loop over ``scipy.optimize.nnls`` (the repository's NNLS), on
  ``--scipy-samples`` genomes only and scaled to the full count (marked ``*``).

Networks: trained unsupervised (``init="nmf"``, ``--train-iter`` Adam steps, early stopping
off) on ``syn.pancreas`` (1,000 genomes, k = 11) and on brca560 (560 genomes, k = 12), or on
synthetic data when the files are absent. New genomes: ``--n`` Poisson resamples of the
training genomes. Each timing is the median of ``--repeats`` repetitions, BLAS on one thread;
the load average of the shared machine is printed before and after. Reported: seconds,
genomes per second, and throughput ratios dnmf / nnls and dnmf / mu10 (> 1: DNMF faster).
Also ``cost_vs_nnls``: each encoder's reconstruction cost ½‖X - EW‖² relative to that of
the exact NNLS exposures with the same W, minus 1 (0 = as good as the exact encoder).

    python benchmarks/unfolded_speed.py [--n 10000] [--repeats 7] [--layers 10]

Writes ``benchmarks/results/unfolded_speed.txt``.
"""

from __future__ import annotations

import argparse
import copy
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
EPS = float(np.finfo(np.float32).eps)
median_time = sc.median_time


def datasets(data=MUT):
    """``[(label, X (n, 96) float64, k)]``: syn.pancreas and brca560, synthetic stand-ins when
    absent."""
    from desurv.datasets import load_synsig, read_catalogue

    out = []
    pan = data / "synsig" / "syn.pancreas"
    if (pan / "catalog.tsv").is_file():
        d = load_synsig(pan)
        out.append(("syn.pancreas", d.catalogue.to_numpy(np.float64), d.signatures.shape[1]))
    else:
        out.append(("synthetic k=11", synthetic(1000, 11), 11))
    brca = data / "brca560_wgs_sbs96.tsv"
    if brca.is_file():
        out.append(("brca560", read_catalogue(brca).to_numpy(np.float64), 12))
    else:
        out.append(("synthetic k=12", synthetic(560, 12, seed=1), 12))
    return out


def synthetic(n, k, seed=0, p=96):
    """Poisson counts (n, p) from k Dirichlet(0.3) signatures and gamma exposures (about
    1,000 mutations per genome)."""
    return sc.synthetic_catalogue(n, k, p=p, seed=seed, mutations=1000.0)[0]


def resample(X, n, seed=0):
    """``n`` Poisson resamples of randomly chosen rows of X."""
    rng = np.random.default_rng(seed)
    return rng.poisson(X[rng.integers(0, X.shape[0], size=n)]).astype(np.float64)


def mu_encode(X, W, n_iter=10):
    """``n_iter`` Frobenius MU exposure steps from ones with W (k, p) fixed (λ = 0)."""
    H = np.ones((X.shape[0], W.shape[0]))
    XWt = X @ W.T
    G = W @ W.T
    for _ in range(n_iter):
        H *= XWt / (H @ G + EPS)
    return H


def scipy_nnls(X, W):
    """The repository's NNLS: one ``scipy.optimize.nnls`` call per genome."""
    from scipy.optimize import nnls

    A = np.ascontiguousarray(W.T)
    return np.stack([nnls(A, x)[0] for x in X])


def recon(X, E, W):
    """Per-genome ½‖X - EW‖²."""
    R = X - np.asarray(E, dtype=np.float64) @ W
    return 0.5 * float(np.einsum("ij,ij->", R, R)) / X.shape[0]


def train(X, k, layers, iters, seed=0):
    """An unsupervised DeepUnfoldedNMF (init="nmf", fixed ``iters`` steps), float64."""
    from desurv.decomposition import DeepUnfoldedNMF

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DeepUnfoldedNMF(
            k, n_layers=layers, max_iter=iters, tol=0, random_state=seed, n_threads=1
        ).fit(X)


def measure(label, X, k, *, n, repeats, layers, iters, scipy_samples):
    """Rows (dict) of one data set."""
    from desurv.decomposition import nnls

    model = train(X, k, layers, iters)
    model32 = train(X.astype(np.float32), k, layers, iters)
    W = model.components_.astype(np.float64)
    Xn = resample(X, n)
    Xn32 = Xn.astype(np.float32)
    rows = []
    with sc.one_blas_thread():
        # warm every path (compilation / cache loading is not timed)
        model.transform(Xn[:10])
        model32.transform(Xn32[:10])
        nnls(W.T, Xn[:10].T)
        ref_t, E_ref = median_time(lambda: nnls(W.T, Xn.T).T, repeats)
        c_ref = recon(Xn, E_ref, W)  # the exact (NNLS) cost with W
        net, theta = model._network()
        escale = model.exposure_scale_.astype(np.float64)
        free = copy.deepcopy(model).set_params(n_threads=None)
        free.transform(Xn[:10])
        cases = [
            ("dnmf float64", lambda: model.transform(Xn), W, 1),
            ("dnmf n_threads=None", lambda: free.transform(Xn), W, 1),
            ("dnmf forward only", lambda: net.transform(Xn, theta) * escale, W, 1),
            (
                "dnmf float32",
                lambda: model32.transform(Xn32),
                model32.components_.astype(np.float64),
                1,
            ),
            ("nnls", None, W, 1),
            ("mu10", lambda: mu_encode(Xn, W), W, 1),
        ]
        m = min(scipy_samples, n)
        if m > 0:
            Xs = Xn[:m]
            cases.append(("scipy-nnls*", lambda: scipy_nnls(Xs, W), W, n / m))
        for name, fn, Wc, factor in cases:
            if fn is None:
                t, E = ref_t, E_ref
            else:
                t, E = median_time(fn, repeats if factor == 1 else 1)
            t *= factor
            Xc = Xn if factor == 1 else Xn[:m]
            if Wc is W:
                c_ref_c = c_ref if factor == 1 else recon(Xc, E_ref[:m], W)
            else:  # the exact encoder with this case's own signatures
                c_ref_c = recon(Xc, nnls(Wc.T, Xc.T).T, Wc)
            rows.append(
                dict(
                    data=label,
                    k=k,
                    encoder=name,
                    seconds=t,
                    genomes_per_s=n / t,
                    cost_vs_nnls=recon(Xc, E, Wc) / c_ref_c - 1.0,
                )
            )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--train-iter", type=int, default=200)
    ap.add_argument("--scipy-samples", type=int, default=1000)
    ap.add_argument("--out", default=str(RESULTS / "unfolded_speed.txt"))
    a = ap.parse_args(argv)
    load0 = sc.load_average()
    t0 = time.perf_counter()
    rows = []
    for label, X, k in datasets():
        rows += measure(
            label,
            X,
            k,
            n=a.n,
            repeats=a.repeats,
            layers=a.layers,
            iters=a.train_iter,
            scipy_samples=a.scipy_samples,
        )
    df = pd.DataFrame(rows)
    with sc.report(a.out):
        print("Deep-unfolded NMF: encode throughput vs batched NNLS and 10 MU steps")
        print(f"command: {sc.command('unfolded_speed.py', argv)}")
        print(
            f"{a.n} new genomes, L = {a.layers}, medians of {a.repeats} repetitions, "
            "one BLAS thread; * = scipy loop timed on "
            f"{min(a.scipy_samples, a.n)} genomes and scaled"
        )
        print(f"load average before: {load0}")
        print()
        print(df.to_string(index=False, float_format=sc.fmt))
        print()
        print("throughput ratios (> 1: the unfolded network encodes faster)")
        for label, g in df.groupby("data", sort=False):
            s = g.set_index("encoder")["seconds"]
            for dn in [e for e in s.index if e.startswith("dnmf")]:
                print(
                    f"  {label:14s} {dn:20s}: vs nnls {s['nnls'] / s[dn]:.3g}x, "
                    f"vs mu10 {s['mu10'] / s[dn]:.3g}x"
                    + (
                        f", vs scipy-nnls* {s['scipy-nnls*'] / s[dn]:.3g}x"
                        if "scipy-nnls*" in s
                        else ""
                    )
                )
        print()
        print(f"load average after: {sc.load_average()}")
        print(f"wall time: {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
