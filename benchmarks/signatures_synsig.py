"""Signature extraction on the eight SynSig scenarios: NMF, convex NMF and AE-NMF.

Protocol (issue 12; METHODS.md §B.4 transferred to data with a known truth):

* every SynSig scenario under ``../shared/data/mutational/synsig/`` (or ``--scenarios``),
  k = the scenario's true number of signatures;
* ``--splits`` random 80/20 splits of the genomes (split s: permutation by
  ``numpy.random.default_rng(seed + s)``; the same splits for every method);
* per split and method, ``--restarts`` random starts (the estimator's ``n_init``: the fit
  with the lowest final objective is kept), on the training genomes;
* methods, from the benchmark registry (``desurv.benchmark.get_method``):
  ``nmf-frobenius`` and ``nmf-kl`` (desurv.NMF, multiplicative updates), ``convex-nmf`` and
  ``convex-nmf-kl`` (ConvexNMF), ``aenmf`` and ``aenmf-kl`` (AENMF, fp-abs, Adam), with
  ``max_iter`` = ``--max-iter`` (``--ae-max-iter`` for AE-NMF) and ``tol`` = ``--tol``.

Metrics per (scenario, method, split):

``signature_cosine``
    Hungarian-matched cosine of the fitted signatures (train fit) to the true ones, mean
    over the true signatures (``desurv.benchmark.metrics.signature_cosine``).
``exposure_error``
    ‖M − H‖_F / ‖H‖_F on the training genomes: H the true exposures (mutations), M the
    fitted exposures of the matched signatures, both scaled so that every signature sums
    to 1 (``desurv.benchmark.metrics.exposure_error``).
``train_mse``
    ‖X_train − E C‖²_F / (n_train · 96) with the fitted exposures E (the paper's train
    error, its mean squared error).
``test_mse``
    ‖X_test − E_test C‖²_F / (n_test · 96), E_test by exact NNLS with the signatures C fixed
    (``desurv.decomposition.nnls``; the paper's refit).
``time_per_fit``
    Wall seconds of the fit divided by the number of restarts (one BLAS thread).
``n_iter``, ``converged``
    Of the kept restart.

Per (scenario, method): ``consistency``, the mean over all pairs of splits of the average
cosine similarity (Hungarian-matched, ``desurv.evaluation.matching``) of their signature sets.

Per scenario: does the bootstrap rank rule (``desurv.model_selection.select_rank_bootstrap``,
Egendal et al.'s rule; ``--bootstrap`` replicates, k = true ± 2, desurv.NMF by coordinate
descent from NNDSVDa, all genomes) choose the true k?

Writes ``benchmarks/results/signatures_synsig.csv`` (tidy: scenario, method, split, metric,
value), ``signatures_synsig_consistency.csv`` (per scenario and method),
``signatures_synsig_rank.csv`` (per scenario and k: errors and the Wilcoxon steps) and the
printed report to ``signatures_synsig.txt``. Full protocol (about 3 CPU-days on this 2-core
machine, AE-NMF's 30 000 Adam steps dominating)::

    python benchmarks/signatures_synsig.py --splits 30 --restarts 10 --jobs 2

A run below it says "REDUCED RUN" in its header, with the reasons. The reduced run kept in
``benchmarks/results/`` (20 min on 2 shared cores)::

    python benchmarks/signatures_synsig.py --splits 3 --restarts 2 --max-iter 3000 \
        --ae-max-iter 30000 --ae-dtype float32 \
        --methods nmf,nmf-kl,convex-nmf,convex-nmf-kl,aenmf --bootstrap 8 --jobs 2
"""

from __future__ import annotations

import argparse
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
SYNSIG = HERE.parent.parent / "shared" / "data" / "mutational" / "synsig"
RESULTS = HERE / "results"

#: short name -> registry method
METHODS = {
    "nmf": "nmf-frobenius",
    "nmf-kl": "nmf-kl",
    "convex-nmf": "convex-nmf",
    "convex-nmf-kl": "convex-nmf-kl",
    "aenmf": "aenmf",
    "aenmf-kl": "aenmf-kl",
}
#: the full protocol's settings; a run below any of them is "reduced"
FULL = dict(splits=30, restarts=10, max_iter=5000, ae_max_iter=30000, bootstrap=10)
SPLIT_METRICS = (
    "signature_cosine",
    "exposure_error",
    "train_mse",
    "test_mse",
    "time_per_fit",
    "n_iter",
    "converged",
)
SUMMARY_METRICS = (
    "signature_cosine",
    "exposure_error",
    "train_mse",
    "test_mse",
    "time_per_fit",
    "n_iter",
)


# ----------------------------------------------------------------------------- building blocks
def split_indices(n, n_splits, seed=0, train_size=0.8):
    """``n_splits`` random train/test splits of ``n`` samples.

    Split s is ``numpy.random.default_rng(seed + s).permutation(n)``: the first
    ``round(train_size · n)`` indices train, the rest test (both sorted). Returns a list of
    (train, test) int arrays; the same for every method.
    """
    n_train = int(round(train_size * n))
    if not 1 <= n_train < n:
        raise ValueError(f"train_size={train_size} leaves no training or no test sample of {n}")
    out = []
    for s in range(n_splits):
        perm = np.random.default_rng(seed + s).permutation(n)
        out.append((np.sort(perm[:n_train]), np.sort(perm[n_train:])))
    return out


def make_estimator(method, k, *, restarts=1, seed=0, max_iter=None, tol=None, **extra):
    """The registry's estimator ``METHODS[method]`` with rank k, ``n_init=restarts``, seed,
    and ``max_iter`` / ``tol`` when given (other registry defaults unchanged)."""
    from desurv.benchmark import get_method

    spec = get_method(METHODS.get(method, method))
    params = dict(spec.defaults)
    params.update(n_components=int(k), random_state=int(seed))
    params["n_init"] = int(restarts)  # every estimator of METHODS keeps its best start
    if max_iter is not None:
        params["max_iter"] = int(max_iter)
    if tol is not None:
        params["tol"] = float(tol)
    params.update(extra)
    return spec.factory(**params)


def mse(X, E, C):
    """Mean squared error ‖X − E C‖²_F / X.size (float64)."""
    R = np.asarray(X, dtype=np.float64) - np.asarray(E, dtype=np.float64) @ np.asarray(
        C, dtype=np.float64
    )
    return float(np.einsum("ij,ij->", R, R)) / R.size


def _converged(estimator):
    """``converged_`` when the estimator has it, else whether it stopped before ``max_iter``
    (desurv.NMF, whose multiplicative updates check ``tol`` every 10 iterations)."""
    conv = getattr(estimator, "converged_", None)
    if conv is not None:
        return bool(conv)
    return int(np.max(estimator.n_iter_)) < int(estimator.get_params()["max_iter"])


def fit_split(estimator, X_train, X_test, S_true=None, H_true_train=None, restarts=1):
    """Fit ``estimator`` on X_train and score one split.

    Parameters
    ----------
    estimator : unfitted NMF-family estimator (``fit_transform`` → exposures,
        ``components_`` (k, p))
    X_train, X_test : ndarray (n, p)
    S_true : ndarray (p, K) or None
        True signatures (columns).
    H_true_train : ndarray (n_train, K) or None
        True exposures of the training genomes.
    restarts : int
        Number of starts inside the fit (for ``time_per_fit``).

    Returns
    -------
    metrics : dict
        The keys of :data:`SPLIT_METRICS` (signature metrics only with the truth).
    signatures : ndarray (p, k)
        Fitted signatures as columns (float64).
    """
    from threadpoolctl import threadpool_limits

    from desurv.benchmark import metrics as M
    from desurv.decomposition import nnls

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: recorded as "converged"
        t0 = time.perf_counter()
        E = estimator.fit_transform(X_train)
        wall = time.perf_counter() - t0
        C = np.asarray(estimator.components_, dtype=np.float64)
        E = np.asarray(E, dtype=np.float64)
        out = {
            "train_mse": mse(X_train, E, C),
            "test_mse": mse(X_test, nnls(C.T, np.asarray(X_test, dtype=np.float64).T).T, C),
            "time_per_fit": wall / max(int(restarts), 1),
            "n_iter": float(np.sum(getattr(estimator, "n_iter_", np.nan))),
            "converged": float(_converged(estimator)),
        }
        if S_true is not None:
            out["signature_cosine"] = M.signature_cosine(C.T, S_true)
            if H_true_train is not None:
                out["exposure_error"] = M.exposure_error(C.T, E, S_true, H_true_train)
    return out, C.T.copy()


def consistency(signature_sets):
    """Mean over all pairs of sets of their average cosine similarity (Hungarian-matched).

    Parameters
    ----------
    signature_sets : list of ndarray (p, k)

    Returns
    -------
    float
        NaN with fewer than two sets.
    """
    vals = pairwise_acs(signature_sets)
    return float(np.mean(vals)) if len(vals) else float("nan")


def pairwise_acs(signature_sets):
    """ACS of every pair (i < j) of signature sets, in the order (0,1), (0,2), ..., as an
    array of C(n, 2) values."""
    from desurv.evaluation.matching import average_cosine_similarity

    n = len(signature_sets)
    return np.array(
        [
            average_cosine_similarity(signature_sets[i], signature_sets[j])
            for i in range(n)
            for j in range(i + 1, n)
        ]
    )


def median_iqr(values, digits=3):
    """``"median [q25, q75]"`` of the finite values (``"—"`` when there are none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "—"
    q25, q50, q75 = np.quantile(v, [0.25, 0.5, 0.75])
    f = f"{{:.{digits}g}}"
    return f"{f.format(q50)} [{f.format(q25)}, {f.format(q75)}]"


def summary_tables(results, methods=None):
    """``{metric: DataFrame scenario × method of "median [IQR]"}`` from the tidy results."""
    tables = {}
    for metric, grp in results.groupby("metric", sort=False):
        digits = 6 if metric == "n_iter" else 3
        t = (
            grp.groupby(["scenario", "method"])["value"]
            .apply(median_iqr, digits=digits)
            .unstack("method")
        )
        if methods is not None:
            t = t.reindex(columns=[m for m in methods if m in t.columns])
        tables[metric] = t
    return tables


def rank_recovery(X, k_true, *, n_bootstrap=10, jobs=1, seed=0, max_iter=2000, solver="cd"):
    """Bootstrap rank choice (Egendal et al.'s rule) over k_true − 2 .. k_true + 2.

    desurv.NMF (``solver`` "cd" from NNDSVDa, or "mu" from random starts), ``max_iter``,
    ``tol=1e-6``. Returns the :class:`~desurv.model_selection.BootstrapRankResult`.
    """
    from desurv.decomposition import NMF
    from desurv.model_selection import select_rank_bootstrap

    init = "nndsvda" if solver == "cd" else "random"
    est = NMF(2, solver=solver, init=init, max_iter=max_iter, tol=1e-6)
    ks = list(range(max(1, k_true - 2), k_true + 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return select_rank_bootstrap(
            est, X, ks, n_bootstrap=n_bootstrap, n_jobs=jobs, random_state=seed
        )


# ----------------------------------------------------------------------------- the run
def _load(folder):
    from desurv.datasets import load_synsig

    d = load_synsig(folder)
    X = d.catalogue.to_numpy(np.float64)
    S = d.signatures.to_numpy(np.float64)
    H = d.exposures.to_numpy(np.float64)
    return d.name, X, S, H


def _unit(folder, method, split, train, test, args):
    name, X, S, H = _load(folder)
    k = S.shape[1]
    is_ae = method.startswith("aenmf")
    extra = {"dtype": args.ae_dtype} if is_ae and args.ae_dtype else {}
    est = make_estimator(
        method,
        k,
        restarts=args.restarts,
        seed=args.seed + 1000 + split,
        max_iter=args.ae_max_iter if is_ae else args.max_iter,
        tol=args.tol,
        **extra,
    )
    try:
        metrics, sig = fit_split(est, X[train], X[test], S, H[train], args.restarts)
        err = None
    except Exception as exc:  # noqa: BLE001 - one failed fit is reported, not fatal
        metrics, sig, err = {}, None, f"{type(exc).__name__}: {exc}"
    return dict(scenario=name, method=method, split=split, metrics=metrics, sig=sig, error=err)


def _n_samples(folder):
    """Number of genomes of a scenario (columns of catalog.tsv but the channel column)."""
    return pd.read_csv(Path(folder) / "catalog.tsv", sep="\t", nrows=1).shape[1] - 1


def _cost(n, method, args):
    """Rough relative cost of a unit, to start the longest first (load balance)."""
    it = args.ae_max_iter if method.startswith("aenmf") else args.max_iter
    per = {"nmf": 1, "nmf-kl": 1.7, "convex-nmf": 1.3, "convex-nmf-kl": 3, "aenmf": 1.5}
    return n * it * per.get(method, 3)


def run(args, out=sys.stdout):
    """Run the protocol; returns (results DataFrame, consistency DataFrame, rank DataFrame)."""
    from joblib import Parallel, delayed

    folders = sorted(p for p in args.data.iterdir() if (p / "catalog.tsv").is_file())
    if args.scenarios:
        want = set(args.scenarios)
        folders = [p for p in folders if p.name in want]
        missing = want - {p.name for p in folders}
        if missing:
            raise SystemExit(f"unknown scenario(s) {sorted(missing)} under {args.data}")
    if not folders:
        raise SystemExit(f"no SynSig scenario under {args.data}")
    units = []
    for folder in folders:
        n = _n_samples(folder)
        for split, (train, test) in enumerate(split_indices(n, args.splits, args.seed)):
            for method in args.methods:
                units.append((folder, method, split, train, test))
    units.sort(key=lambda u: -_cost(len(u[3]) + len(u[4]), u[1], args))
    t0 = time.perf_counter()
    done = Parallel(n_jobs=args.jobs, verbose=0)(delayed(_unit)(*u, args) for u in units)
    t_fit = time.perf_counter() - t0
    rows, sigs, failed = [], {}, []
    for d in done:
        if d["error"]:
            failed.append((d["scenario"], d["method"], d["split"], d["error"]))
            continue
        for metric, value in d["metrics"].items():
            rows.append((d["scenario"], d["method"], d["split"], metric, value))
        sigs.setdefault((d["scenario"], d["method"]), []).append((d["split"], d["sig"]))
    results = pd.DataFrame(rows, columns=["scenario", "method", "split", "metric", "value"])
    cons_rows = []
    for (scen, method), lst in sorted(sigs.items()):
        lst.sort(key=lambda t: t[0])
        acs = pairwise_acs([s for _, s in lst])
        cons_rows.append(
            dict(
                scenario=scen,
                method=method,
                consistency=float(acs.mean()) if acs.size else np.nan,
                n_pairs=int(acs.size),
            )
        )
    cons = pd.DataFrame(cons_rows, columns=["scenario", "method", "consistency", "n_pairs"])
    rank_rows = []
    t1 = time.perf_counter()
    if args.bootstrap:
        for folder in folders:
            name, X, S, _ = _load(folder)
            k = S.shape[1]
            res = rank_recovery(
                X,
                k,
                n_bootstrap=args.bootstrap,
                jobs=args.jobs,
                seed=args.seed,
                max_iter=args.rank_max_iter,
                solver=args.rank_solver,
            )
            summ = res.summary()
            conv = res.errors.groupby("k")["converged"].sum()
            for _, r in summ.iterrows():
                rank_rows.append(
                    dict(
                        scenario=name,
                        k_true=k,
                        k=int(r["k"]),
                        mean_test_mse=r["mean_test_error"],
                        mean_train_mse=r["mean_train_error"],
                        pvalue_next=r["pvalue"],
                        significant_next=r["significant"],
                        chosen=res.n_components_,
                        all_significant=res.all_significant,
                        n_converged=int(conv.get(int(r["k"]), 0)),
                    )
                )
    t_rank = time.perf_counter() - t1
    ranks = pd.DataFrame(rank_rows)
    results.attrs.update(failed=failed, t_fit=t_fit, t_rank=t_rank)
    return results, cons, ranks


def is_reduced(args, n_scenarios_found=8):
    """Reasons why the run is below the full protocol (empty list: full)."""
    why = []
    for key, full in FULL.items():
        v = getattr(args, key)
        if v is not None and v < full:
            why.append(f"{key.replace('_', '-')} {v} < {full}")
    if args.scenarios and len(args.scenarios) < n_scenarios_found:
        why.append(f"{len(args.scenarios)} of {n_scenarios_found} scenarios")
    left = [m for m in METHODS if m not in args.methods]
    if left:
        why.append(f"methods left out: {', '.join(left)}")
    return why


def report(args, results, cons, ranks, argv, load_before, wall):
    """Print the report (header, tables) to stdout."""
    methods = [m for m in args.methods]
    n_found = len([p for p in args.data.iterdir() if (p / "catalog.tsv").is_file()])
    why = is_reduced(args, n_found)
    print("# Signature extraction on SynSig: NMF, convex NMF, AE-NMF (issue 12)")
    print(f"command: {' '.join(shlex.quote(a) for a in argv)}")
    if why:
        print(f"REDUCED RUN (not the full protocol): {'; '.join(why)}")
    else:
        print("full protocol")
    print(
        f"settings: {args.splits} random 80/20 splits (seeds {args.seed}.."
        f"{args.seed + args.splits - 1}), "
        f"{args.restarts} restarts per fit (best final objective), max_iter {args.max_iter} "
        f"(MU / convex), {args.ae_max_iter} (AE-NMF, Adam lr 1e-3, dtype "
        f"{args.ae_dtype or 'float64'}), tol {args.tol}; k = true number of signatures"
    )
    print(
        f"wall {wall:.0f} s ({results.attrs['t_fit']:.0f} s fits, {results.attrs['t_rank']:.0f} s "
        f"rank selection) with {args.jobs} jobs; load average before "
        f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} (2 shared cores)"
    )
    failed = results.attrs.get("failed", [])
    if failed:
        print(f"FAILED fits: {len(failed)}")
        for f in failed[:20]:
            print("  ", f)
    tables = summary_tables(results, methods)
    labels = {
        "signature_cosine": "Hungarian-matched cosine to the true signatures (train fit)",
        "exposure_error": "exposure error ‖M − H‖_F/‖H‖_F, matched, training genomes",
        "train_mse": "train MSE ‖X − EC‖²/(n·96), fitted exposures",
        "test_mse": "test MSE, NNLS exposures with the signatures fixed",
        "time_per_fit": "seconds per fit (one start, one BLAS thread, shared machine)",
        "n_iter": "iterations of the kept fit",
    }
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        for metric in SUMMARY_METRICS:
            if metric in tables:
                print(f"\n## {metric}: {labels[metric]}; median [IQR] over {args.splits} splits")
                print(tables[metric].to_string())
        conv = results[results["metric"] == "converged"]
        if len(conv):
            frac = conv.groupby(["scenario", "method"])["value"].mean().unstack("method")
            print("\n## fraction of kept fits that met tol (the rest stopped at max_iter)")
            print(frac.reindex(columns=methods).to_string(float_format="%.2f"))
        if len(cons):
            print(f"\n## consistency: mean ACS over all {cons['n_pairs'].max()} pairs of splits")
            ct = cons.pivot(index="scenario", columns="method", values="consistency")
            print(ct.reindex(columns=methods).to_string(float_format="%.3f"))
        overall = results.groupby(["metric", "method"])["value"].median().unstack("method")
        overall = overall.reindex(columns=methods)
        keep = [m for m in SUMMARY_METRICS if m in overall.index]
        print("\n## median over all scenarios and splits")
        print(overall.loc[keep].to_string(float_format="%.4g"))
        if "nmf-kl" in methods or "convex-nmf-kl" in methods or "aenmf-kl" in methods:
            print("\n## KL vs Frobenius: median matched cosine (KL − Frobenius, per scenario)")
            cos = results[results["metric"] == "signature_cosine"]
            med = cos.groupby(["scenario", "method"])["value"].median().unstack("method")
            diff = {}
            for fro, kl in (
                ("nmf", "nmf-kl"),
                ("convex-nmf", "convex-nmf-kl"),
                ("aenmf", "aenmf-kl"),
            ):
                if fro in med.columns and kl in med.columns:
                    diff[f"{kl} − {fro}"] = med[kl] - med[fro]
            if diff:
                print(pd.DataFrame(diff).to_string(float_format="%+.3f"))
        if len(ranks):
            print(
                f"\n## bootstrap rank rule (Egendal et al.; {args.bootstrap} replicates, "
                f"desurv.NMF solver={args.rank_solver}, max_iter {args.rank_max_iter}, "
                "k = true ± 2)"
            )
            chosen = ranks.groupby("scenario").agg(
                k_true=("k_true", "first"),
                chosen=("chosen", "first"),
                all_significant=("all_significant", "first"),
            )
            pv = ranks.pivot(index="scenario", columns="k", values="pvalue_next")
            chosen["p-values k→k+1 (ks in order)"] = [
                " ".join("—" if not np.isfinite(v) else f"{v:.3g}" for v in pv.loc[s].dropna())
                for s in chosen.index
            ]
            chosen["recovered"] = chosen["k_true"] == chosen["chosen"]
            print(chosen.to_string())
            above = int((chosen["chosen"] > chosen["k_true"]).sum())
            below = int((chosen["chosen"] < chosen["k_true"]).sum())
            print(
                f"true k recovered in {int(chosen['recovered'].sum())} of {len(chosen)} "
                f"scenarios; chosen above the truth in {above}, below in {below}"
            )


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=FULL["splits"], help="random 80/20 splits")
    ap.add_argument("--restarts", type=int, default=FULL["restarts"], help="starts per fit")
    ap.add_argument("--max-iter", type=int, default=FULL["max_iter"], help="NMF / convex NMF")
    ap.add_argument("--ae-max-iter", type=int, default=FULL["ae_max_iter"], help="AE-NMF")
    ap.add_argument("--ae-dtype", choices=["float32", "float64"], default=None)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    ap.add_argument("--scenarios", default=None, help="comma-separated folder names")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bootstrap", type=int, default=FULL["bootstrap"], help="0: skip rank")
    ap.add_argument("--rank-max-iter", type=int, default=2000)
    ap.add_argument("--rank-solver", choices=["cd", "mu"], default="cd")
    ap.add_argument("--data", type=Path, default=SYNSIG)
    ap.add_argument("--out", type=Path, default=RESULTS / "signatures_synsig")
    return ap


def parse_args(argv):
    args = build_parser().parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    args.scenarios = (
        [s.strip() for s in args.scenarios.split(",") if s.strip()] if args.scenarios else None
    )
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    results, cons, ranks = run(args)
    wall = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.out.with_suffix(".csv"), index=False)
    cons.to_csv(args.out.with_name(args.out.name + "_consistency.csv"), index=False)
    if len(ranks):
        ranks.to_csv(args.out.with_name(args.out.name + "_rank.csv"), index=False)
    buf = io.StringIO()
    with redirect_stdout(buf):
        report(
            args,
            results,
            cons,
            ranks,
            ["python", "benchmarks/signatures_synsig.py", *argv],
            load_before,
            wall,
        )
    text = buf.getvalue()
    print(text, end="")
    args.out.with_suffix(".txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
