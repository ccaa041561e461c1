"""Egendal et al.'s protocol (METHODS.md §B.4) on the breast WGS catalogues: NMF vs C-NMF vs AE-NMF.

Data: ``../shared/data/mutational/brca560_wgs_sbs96.tsv`` (560 genomes) and
``breast21_wgs_sbs96.tsv`` (21 genomes), channels × genomes counts; COSMIC v3.4 GRCh37
(``cosmic_v3.4_sbs96_grch37.tsv``, 86 SBS signatures) for the validation.

Per catalogue:

1. **k**: ``--k``, or Egendal et al.'s bootstrap rule (``desurv.model_selection.
   select_rank_bootstrap``: ``--bootstrap`` replicates drawn with replacement, out-of-bag test
   genomes refitted by NNLS, one-sided paired Wilcoxon between consecutive k, the first k
   not significantly improved on; k = 2..min(``--k-max``, n_train // 2)) for each method of
   ``--rank-methods``, combined as the paper does, K = round((K_NMF + ½K_CNMF + ½K_AE) / 2)
   (``desurv.model_selection.combine_ranks``) when all three are chosen, else the mean of
   the ranks chosen (said in the output). One K for all methods, as in the paper.
2. ``--splits`` random 80/20 splits (the paper: 30, unseeded; here split s permutes by
   ``numpy.random.default_rng(seed + s)``); per split and method a de novo fit on the
   training genomes (``--restarts`` starts, best objective kept; the paper: one) gives the
   train MSE ‖X − EC‖²/(n·96), and the NNLS refit of the test genomes with the signatures
   fixed (``desurv.decomposition.nnls``, exact) the test MSE.
3. **Error ratio** AE-NMF / NMF (and C-NMF / NMF) of the mean train and test MSE over the
   splits, beside the paper's Table 1 column (AE-NMF / NMF: train 2.17–2.61, test
   1.23–2.45 on ovary, prostate and uterus).
4. **Consistency**: ACS (Hungarian-matched mean cosine) of every pair of splits' signature
   sets, mean per method; NMF vs AE-NMF compared on the paired pair-ACS values by a
   two-sided paired t-test (the paper's t-tests) and a Wilcoxon signed-rank test. The
   C(S, 2) pairs share splits, so the tests' p-values are optimistic (as the paper's).
5. **COSMIC**: PAM k-medoids (``desurv.evaluation.medoids.pam``, BUILD + SWAP) with k = K on
   the cosine distance of all S·K signatures gives K medoid signatures per method; they are
   Hungarian-matched to the 86 COSMIC signatures (rectangular); each match's name and cosine
   and their mean (ACS) are reported beside the paper's 0.80–0.90. The median over splits of
   the per-split COSMIC ACS is reported too.
6. Method agreement (the paper's Table S2): ACS between the methods' signatures on the same
   split (median over splits) and between their medoids.

Methods: ``nmf`` (desurv.NMF, Frobenius multiplicative updates, random start; the paper's
NMF), ``convex-nmf`` (ConvexNMF, simultaneous updates) and ``aenmf`` (AENMF, fp-abs, Adam
lr 1e-3), with ``--max-iter`` / ``--ae-max-iter`` and ``--tol`` (the paper: 1e-10, see
METHODS.md §B.6 for why a practical tolerance is used).

Writes ``benchmarks/results/<out>.csv`` (per split and method: train/test MSE, COSMIC ACS,
time), ``<out>_cosmic.csv`` (medoid matches) and the report ``<out>.txt``. Full protocol
(hours: the bootstrap rule fits C-NMF and AE-NMF 110 times on brca560)::

    python benchmarks/signatures_breast.py --splits 30 --jobs 2

The reduced runs kept in ``benchmarks/results/signatures_breast.txt`` (10 min)::

    python benchmarks/signatures_breast.py --datasets breast21 --splits 30 --bootstrap 10 \
        --jobs 2 --out benchmarks/results/signatures_breast_breast21
    python benchmarks/signatures_breast.py --datasets brca560 --splits 20 --bootstrap 10 \
        --rank-methods nmf --jobs 2 --out benchmarks/results/signatures_breast_brca560
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
MUT = HERE.parent.parent / "shared" / "data" / "mutational"
RESULTS = HERE / "results"
DATASETS = {"brca560": "brca560_wgs_sbs96.tsv", "breast21": "breast21_wgs_sbs96.tsv"}
METHODS = ("nmf", "convex-nmf", "aenmf")
LABEL = {"nmf": "NMF", "convex-nmf": "C-NMF", "aenmf": "AE-NMF"}
FULL = dict(splits=30, bootstrap=10)
#: the paper's Table 1 ratio AE-NMF / NMF (ovary, prostate, uterus) and Table 2 COSMIC ACS
PAPER_RATIO = {"train": (2.17, 2.24, 2.61), "test": (1.63, 1.23, 2.45)}
PAPER_COSMIC = {"nmf": (0.80, 0.90, 0.89), "aenmf": (0.82, 0.86, 0.83)}
PAPER_CONSISTENCY = {"nmf": (0.91, 0.86, 0.94), "aenmf": (0.85, 0.88, 0.91)}


# ----------------------------------------------------------------------------- building blocks
def split_indices(n, n_splits, seed=0, train_size=0.8):
    """``n_splits`` random train/test splits: split s permutes by
    ``numpy.random.default_rng(seed + s)``; the first round(train_size·n) train (sorted)."""
    n_train = int(round(train_size * n))
    if not 1 <= n_train < n:
        raise ValueError(f"train_size={train_size} leaves no training or no test sample of {n}")
    out = []
    for s in range(n_splits):
        perm = np.random.default_rng(seed + s).permutation(n)
        out.append((np.sort(perm[:n_train]), np.sort(perm[n_train:])))
    return out


def make_estimator(method, k, *, seed=0, restarts=1, max_iter=20000, ae_max_iter=50000, tol=1e-6):
    """The protocol's estimator of ``method`` ("nmf", "convex-nmf", "aenmf") with rank k."""
    from desurv.decomposition import AENMF, NMF, ConvexNMF

    if method == "nmf":
        return NMF(
            k,
            solver="mu",
            beta_loss="frobenius",
            init="random",
            max_iter=max_iter,
            tol=tol,
            n_init=restarts,
            random_state=seed,
        )
    if method == "convex-nmf":
        return ConvexNMF(k, max_iter=max_iter, tol=tol, n_init=restarts, random_state=seed)
    if method == "aenmf":
        return AENMF(
            k,
            constraint="fp-abs",
            max_iter=ae_max_iter,
            tol=tol,
            n_init=restarts,
            random_state=seed,
        )
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def mse(X, E, C):
    """‖X − E C‖²_F / X.size in float64."""
    R = np.asarray(X, np.float64) - np.asarray(E, np.float64) @ np.asarray(C, np.float64)
    return float(np.einsum("ij,ij->", R, R)) / R.size


def fit_split(estimator, X_train, X_test):
    """De novo fit on X_train, NNLS refit of X_test; returns (metrics dict, signatures (96, k)).

    Metrics: ``train_mse`` (fitted exposures), ``test_mse`` (NNLS exposures), ``seconds``,
    ``n_iter``, ``converged`` (1/0; NMF: n_iter < max_iter).
    """
    from threadpoolctl import threadpool_limits

    from desurv.decomposition import nnls

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        E = estimator.fit_transform(X_train)
        wall = time.perf_counter() - t0
    C = np.asarray(estimator.components_, np.float64)
    E_test = nnls(C.T, np.asarray(X_test, np.float64).T).T
    n_iter = int(np.sum(estimator.n_iter_))
    conv = getattr(estimator, "converged_", None)
    if conv is None:
        conv = n_iter < estimator.get_params()["max_iter"]
    out = dict(
        train_mse=mse(X_train, E, C),
        test_mse=mse(X_test, E_test, C),
        seconds=wall,
        n_iter=n_iter,
        converged=float(bool(conv)),
    )
    return out, C.T.copy()


def pairwise_acs(sets):
    """ACS (Hungarian-matched mean cosine) of every pair i < j of signature sets (p, k)."""
    from desurv.evaluation.matching import average_cosine_similarity

    n = len(sets)
    return np.array(
        [average_cosine_similarity(sets[i], sets[j]) for i in range(n) for j in range(i + 1, n)]
    )


def _pam_fallback(D, k):
    """Tiny PAM (BUILD + best-improvement SWAP) when desurv.evaluation.medoids is absent."""
    n = D.shape[0]
    med = [int(np.argmin(D.sum(axis=1)))]
    while len(med) < k:
        near = D[:, med].min(axis=1)
        gain = np.maximum(near[:, None] - D, 0).sum(axis=0)
        gain[med] = -1
        med.append(int(np.argmax(gain)))
    cost = D[:, med].min(axis=1).sum()
    while True:
        best = (cost, None, None)
        for i in range(k):
            for h in range(n):
                if h in med:
                    continue
                trial = med.copy()
                trial[i] = h
                c = D[:, trial].min(axis=1).sum()
                if c < best[0] - 1e-12:
                    best = (c, i, h)
        if best[1] is None:
            return np.sort(np.array(med))
        cost, med[best[1]] = best[0], best[2]


def pam_medoids(signatures, k):
    """PAM with k medoids on the cosine distance 1 − cos of the columns of ``signatures``
    (p, m); returns the medoid columns' indices (sorted)."""
    from desurv.evaluation.matching import cosine_similarity

    D = np.clip(1.0 - cosine_similarity(signatures, signatures), 0.0, None)
    np.fill_diagonal(D, 0.0)
    try:
        from desurv.evaluation.medoids import pam
    except ImportError:  # the PAM module is not in this checkout
        return _pam_fallback(D, k)
    return np.asarray(pam(D, k).medoids)


def match_cosmic(signatures, cosmic):
    """Hungarian match of the columns of ``signatures`` (96, K) to COSMIC (96, 86 DataFrame).

    Returns a DataFrame (one row per signature: ``cosmic`` name, ``cosine``) and the ACS.
    """
    from desurv.evaluation.matching import match_factors

    m = match_factors(np.asarray(signatures, np.float64), cosmic.to_numpy(np.float64))
    names = [str(cosmic.columns[j]) for j in m.perm]
    return pd.DataFrame({"cosmic": names, "cosine": m.similarity}), float(m.acs)


def choose_k(X, methods, *, k_max, n_bootstrap, jobs, seed, est_kwargs):
    """Bootstrap rank rule per method; returns ({method: k}, K for all, note)."""
    from desurv.model_selection import combine_ranks, select_rank_bootstrap

    n_train = int(round(0.8 * X.shape[0]))
    ks = list(range(2, max(3, min(k_max, n_train // 2)) + 1))
    chosen, results = {}, {}
    for method in methods:
        est = make_estimator(method, 2, **est_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = select_rank_bootstrap(
                est, X, ks, n_bootstrap=n_bootstrap, n_jobs=jobs, random_state=seed
            )
        chosen[method] = res.n_components_
        results[method] = res
    if set(chosen) == set(METHODS):
        K = combine_ranks(chosen["nmf"], chosen["convex-nmf"], chosen["aenmf"])
        note = "K = round((K_NMF + ½K_CNMF + ½K_AE)/2), the paper's combination"
    else:
        K = int(round(np.mean(list(chosen.values()))))
        note = f"K = mean of the ranks chosen for {', '.join(chosen)} (not all three methods)"
    return chosen, K, note, results, ks


def paired_tests(a, b):
    """Two-sided paired t-test and Wilcoxon signed-rank test of a vs b; (t, p_t, p_w)."""
    from scipy.stats import ttest_rel, wilcoxon

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 2 or np.allclose(a, b):
        return np.nan, np.nan, np.nan
    t = ttest_rel(a, b)
    w = wilcoxon(a, b)
    return float(t.statistic), float(t.pvalue), float(w.pvalue)


# ----------------------------------------------------------------------------- the run
def _unit(X, method, K, split, train, test, args):
    est = make_estimator(
        method,
        K,
        seed=args.seed + 1000 + split,
        restarts=args.restarts,
        max_iter=args.max_iter,
        ae_max_iter=args.ae_max_iter,
        tol=args.tol,
    )
    try:
        m, sig = fit_split(est, X[train], X[test])
        return dict(method=method, split=split, metrics=m, sig=sig, error=None)
    except Exception as exc:  # noqa: BLE001 - a failed fit is reported
        return dict(method=method, split=split, metrics={}, sig=None, error=f"{exc!r}")


def run_dataset(name, X, cosmic, args):
    """The protocol on one catalogue; returns a dict of tables (see :func:`report`)."""
    from joblib import Parallel, delayed

    from desurv.evaluation.matching import average_cosine_similarity

    t0 = time.perf_counter()
    est_kwargs = dict(
        restarts=1, max_iter=args.rank_max_iter, ae_max_iter=args.ae_max_iter, tol=args.tol
    )
    if args.k:
        K, chosen, note, rank_res, ks = args.k, {}, "K given (--k)", {}, []
    else:
        chosen, K, note, rank_res, ks = choose_k(
            X,
            args.rank_methods,
            k_max=args.k_max,
            n_bootstrap=args.bootstrap,
            jobs=args.jobs,
            seed=args.seed,
            est_kwargs=est_kwargs,
        )
    t_rank = time.perf_counter() - t0
    splits = split_indices(X.shape[0], args.splits, args.seed)
    units = [(m, s, tr, te) for s, (tr, te) in enumerate(splits) for m in args.methods]
    order = {"aenmf": 0, "convex-nmf": 1, "nmf": 2}
    units.sort(key=lambda u: order.get(u[0], 3))
    t1 = time.perf_counter()
    done = Parallel(n_jobs=args.jobs)(
        delayed(_unit)(X, m, K, s, tr, te, args) for m, s, tr, te in units
    )
    t_fit = time.perf_counter() - t1
    rows, sigs, failed = [], {m: {} for m in args.methods}, []
    for d in done:
        if d["error"]:
            failed.append((d["method"], d["split"], d["error"]))
            continue
        sigs[d["method"]][d["split"]] = d["sig"]
        cos_split = match_cosmic(d["sig"], cosmic)[1]
        rows.append(
            dict(
                dataset=name,
                method=d["method"],
                split=d["split"],
                K=K,
                cosmic_acs=cos_split,
                **d["metrics"],
            )
        )
    per_split = pd.DataFrame(rows).sort_values(["method", "split"]).reset_index(drop=True)
    # consistency over all pairs of splits that every method completed
    common = sorted(set.intersection(*(set(v) for v in sigs.values())) if sigs else [])
    pair_acs = {m: pairwise_acs([sigs[m][s] for s in common]) for m in args.methods}
    # PAM consensus and COSMIC
    cosmic_rows, medoid_sets = [], {}
    for m in args.methods:
        if not sigs[m]:
            continue
        allsig = np.hstack([sigs[m][s] for s in sorted(sigs[m])])
        idx = pam_medoids(allsig, K)
        medoid_sets[m] = allsig[:, idx]
        tab, acs = match_cosmic(medoid_sets[m], cosmic)
        for i, r in tab.iterrows():
            cosmic_rows.append(
                dict(
                    dataset=name,
                    method=m,
                    medoid=i,
                    cosmic=r["cosmic"],
                    cosine=r["cosine"],
                    acs=acs,
                )
            )
    cosmic_tab = pd.DataFrame(cosmic_rows)
    # method agreement (Table S2)
    agree = []
    ms = [m for m in args.methods if sigs[m]]
    for i, a in enumerate(ms):
        for b in ms[i + 1 :]:
            per = [average_cosine_similarity(sigs[a][s], sigs[b][s]) for s in common]
            med = (
                average_cosine_similarity(medoid_sets[a], medoid_sets[b])
                if a in medoid_sets and b in medoid_sets
                else np.nan
            )
            agree.append(
                dict(
                    pair=f"{LABEL[a]} vs {LABEL[b]}",
                    split_acs_median=float(np.median(per)) if per else np.nan,
                    medoid_acs=med,
                )
            )
    return dict(
        name=name,
        X=X,
        K=K,
        chosen=chosen,
        note=note,
        rank_res=rank_res,
        ks=ks,
        per_split=per_split,
        pair_acs=pair_acs,
        cosmic=cosmic_tab,
        agree=pd.DataFrame(agree),
        failed=failed,
        t_rank=t_rank,
        t_fit=t_fit,
        n_pairs=len(common) * (len(common) - 1) // 2,
    )


def is_reduced(args):
    why = []
    if args.splits < FULL["splits"]:
        why.append(f"splits {args.splits} < {FULL['splits']}")
    if not args.k:
        if args.bootstrap < FULL["bootstrap"]:
            why.append(f"bootstrap {args.bootstrap} < {FULL['bootstrap']}")
        left = [m for m in METHODS if m not in args.rank_methods]
        if left:
            why.append(f"k chosen without {', '.join(LABEL[m] for m in left)}")
    else:
        why.append("k given, not chosen by the bootstrap rule")
    left = [m for m in METHODS if m not in args.methods]
    if left:
        why.append(f"methods left out: {', '.join(left)}")
    return why


def report(res, args, argv, load_before, wall):
    name, X = res["name"], res["X"]
    why = is_reduced(args)
    print(f"# Egendal et al.'s protocol on {name} ({X.shape[0]} genomes × {X.shape[1]} channels)")
    print(f"command: {' '.join(shlex.quote(a) for a in argv)}")
    print(f"REDUCED RUN (not the full protocol): {'; '.join(why)}" if why else "full protocol")
    print(
        f"settings: {args.splits} random 80/20 splits, {args.restarts} start(s) per fit, "
        f"max_iter {args.max_iter} (NMF, C-NMF), {args.ae_max_iter} (AE-NMF, Adam lr 1e-3), "
        f"tol {args.tol}; rank fits max_iter {args.rank_max_iter}"
    )
    print(
        f"wall {wall:.0f} s (rank {res['t_rank']:.0f} s, fits {res['t_fit']:.0f} s) with "
        f"{args.jobs} jobs; load average before {load_before[0]:.2f}, after "
        f"{os.getloadavg()[0]:.2f} (2 shared cores)"
    )
    if res["failed"]:
        print(f"FAILED fits: {res['failed']}")
    print("\n## rank")
    for m, r in res["rank_res"].items():
        s = r.summary()
        pv = " ".join(f"{p:.2g}" for p in s["pvalue"].dropna())
        print(
            f"{LABEL[m]:7s} bootstrap rule (k = {res['ks'][0]}..{res['ks'][-1]}, "
            f"{r.n_bootstrap} replicates): k = {r.n_components_}"
            f"{' (every step significant: the largest k)' if r.all_significant else ''}; "
            f"p(k→k+1): {pv}"
        )
    print(f"K = {res['K']} for all methods: {res['note']}")
    ps = res["per_split"]
    if ps.empty:
        return
    print(f"\n## errors: mean [sd] over {args.splits} splits (MSE ‖X − EC‖²/(n·96))")
    g = ps.groupby("method")
    tab = pd.DataFrame(
        {
            "train MSE": g["train_mse"].mean(),
            "train sd": g["train_mse"].std(),
            "test MSE": g["test_mse"].mean(),
            "test sd": g["test_mse"].std(),
            "s/fit": g["seconds"].median(),
            "n_iter": g["n_iter"].median(),
            "converged": g["converged"].mean(),
        }
    ).reindex([m for m in args.methods])
    tab.index = [LABEL[m] for m in tab.index]
    print(tab.to_string(float_format="%.4g"))
    if "nmf" in args.methods:
        base = ps[ps["method"] == "nmf"].set_index("split")
        print(
            "\n## error ratio to NMF (of the mean MSE over splits; the paper's Table 1 column "
            "is AE-NMF / NMF)"
        )
        for m in [m for m in args.methods if m != "nmf"]:
            other = ps[ps["method"] == m].set_index("split")
            both = base.index.intersection(other.index)
            r_tr = other.loc[both, "train_mse"].mean() / base.loc[both, "train_mse"].mean()
            r_te = other.loc[both, "test_mse"].mean() / base.loc[both, "test_mse"].mean()
            per = (other.loc[both, "test_mse"] / base.loc[both, "test_mse"]).median()
            print(
                f"{LABEL[m]:6s}/ NMF: train {r_tr:.2f}, test {r_te:.2f} "
                f"(median per-split test ratio {per:.2f})"
            )
        print(
            "paper AE-NMF / NMF (ovary, prostate, uterus): train "
            f"{', '.join(map(str, PAPER_RATIO['train']))}; test "
            f"{', '.join(map(str, PAPER_RATIO['test']))}"
        )
    print(f"\n## consistency: mean ACS over {res['n_pairs']} pairs of splits")
    for m, v in res["pair_acs"].items():
        extra = ""
        if m in PAPER_CONSISTENCY:
            extra = f"   (paper: {', '.join(map(str, PAPER_CONSISTENCY[m]))})"
        if v.size:
            print(
                f"{LABEL[m]:7s} {v.mean():.3f} [sd {v.std(ddof=1) if v.size > 1 else 0:.3f}]{extra}"
            )
    if "nmf" in res["pair_acs"] and "aenmf" in res["pair_acs"]:
        t, pt, pw = paired_tests(res["pair_acs"]["nmf"], res["pair_acs"]["aenmf"])
        print(
            f"NMF vs AE-NMF over the pairs: paired t = {t:.3g}, p = {pt:.3g}; Wilcoxon "
            f"p = {pw:.3g} (pairs share splits: optimistic, as the paper's t-tests)"
        )
    ct = res["cosmic"]
    if len(ct):
        print(
            f"\n## COSMIC v3.4: PAM medoids (k = {res['K']}) of all splits' signatures, "
            "Hungarian-matched"
        )
        for m in args.methods:
            sub = ct[ct["method"] == m]
            if sub.empty:
                continue
            pairs = ", ".join(f"{r.cosmic} {r.cosine:.2f}" for r in sub.itertuples())
            extra = f" (paper: {', '.join(map(str, PAPER_COSMIC[m]))})" if m in PAPER_COSMIC else ""
            print(f"{LABEL[m]:7s} ACS {sub['acs'].iloc[0]:.3f}{extra}: {pairs}")
        med = ps.groupby("method")["cosmic_acs"].median()
        print(
            "per-split COSMIC ACS, median over splits: "
            + ", ".join(f"{LABEL[m]} {med[m]:.3f}" for m in args.methods if m in med)
        )
    if len(res["agree"]):
        print("\n## method agreement (the paper's Table S2: ACS of signatures)")
        print(res["agree"].to_string(index=False, float_format="%.3f"))


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="brca560,breast21", help="brca560, breast21")
    ap.add_argument("--splits", type=int, default=FULL["splits"])
    ap.add_argument("--restarts", type=int, default=1)
    ap.add_argument("--k", type=int, default=None, help="skip the bootstrap rule")
    ap.add_argument("--k-max", type=int, default=12)
    ap.add_argument("--bootstrap", type=int, default=FULL["bootstrap"])
    ap.add_argument("--rank-methods", default=",".join(METHODS))
    ap.add_argument("--rank-max-iter", type=int, default=5000, help="NMF / C-NMF rank fits")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--max-iter", type=int, default=20000, help="NMF and C-NMF")
    ap.add_argument("--ae-max-iter", type=int, default=50000)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=MUT)
    ap.add_argument("--out", type=Path, default=RESULTS / "signatures_breast")
    return ap


def parse_args(argv):
    args = build_parser().parse_args(argv)
    for key in ("methods", "rank_methods", "datasets"):
        setattr(args, key, [x.strip() for x in getattr(args, key).split(",") if x.strip()])
    bad = [m for m in args.methods + args.rank_methods if m not in METHODS]
    if bad:
        raise SystemExit(f"unknown method(s) {bad}; choose from {list(METHODS)}")
    bad = [d for d in args.datasets if d not in DATASETS]
    if bad:
        raise SystemExit(f"unknown data set(s) {bad}; choose from {list(DATASETS)}")
    return args


def main(argv=None):
    from desurv.datasets import read_catalogue, read_signatures

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    cosmic = read_signatures(args.data / "cosmic_v3.4_sbs96_grch37.tsv")
    texts, tables, cos_tabs = [], [], []
    for name in args.datasets:
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        cat = read_catalogue(args.data / DATASETS[name])
        cos = cosmic.loc[cat.columns]  # the catalogue's channel order
        res = run_dataset(name, cat.to_numpy(np.float64), cos, args)
        wall = time.perf_counter() - t0
        buf = io.StringIO()
        with redirect_stdout(buf):
            report(
                res, args, ["python", "benchmarks/signatures_breast.py", *argv], load_before, wall
            )
        print(buf.getvalue())
        texts.append(buf.getvalue())
        tables.append(res["per_split"])
        cos_tabs.append(res["cosmic"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(tables).to_csv(args.out.with_suffix(".csv"), index=False)
    pd.concat(cos_tabs).to_csv(args.out.with_name(args.out.name + "_cosmic.csv"), index=False)
    args.out.with_suffix(".txt").write_text("\n".join(texts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
