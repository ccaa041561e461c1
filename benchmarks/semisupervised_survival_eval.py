"""Semi-supervised survival on the real breast cohorts (issue 15, METHODS.md §D.8, §F.5).

Methods (hyperparameters fixed before any run, listed in ``--help`` and below; nothing is
tuned on test data):

* ``cox-mt``: :class:`desurv.survival.CoxMT` (mean teacher, consistency weight 1; hidden
  ``--hidden``, dropout 0.2, early stopping on a validation split of the labelled training
  samples, the teacher predicts);
* ``mlp-cox``: the same network with consistency weight 0 (the supervised baseline);
* ``ss-desurv``: semi-supervised DeSurv (unlabelled samples in the NMF term and H);
* ``desurv``: DeSurv on the labelled samples only;
* ``nmf-cox``: DeSurv with α = 0 (NMF + Cox, the paper's baseline), labelled only;
* ``ss-nmf-cox``: α = 0 with the unlabelled samples in the NMF (a semi-supervised NMF + Cox);
* ``coxnet``: elastic-net Cox on the genes (λ by 5-fold CV on the labelled training
  samples, ξ = 0.5).

DeSurv family: k = ``--k``, α = ``--alpha``, λ = 0.1, ξ = 0.5, ``--n-init`` starts,
``--max-iter`` iterations. All methods see the same features: the DeSurv gene filter
(top ``--genes``) fitted on the training expression (labelled and unlabelled; no survival
data), then within-sample ranks (``desurv.preprocessing.Preprocessor("rank")``).

Protocols (``--protocol``):

1. ``cross-cohort``: the GEO cohorts gse4335, gse1992, gse3143 on their shared genes. Labels
   of cohort A (a stratified 70 % training part), the other two cohorts as unlabelled
   expression; scored on the held-out 30 % of A and on the other cohorts with their labels
   revealed (transductive for the semi-supervised methods, which saw their expression);
   A rotates over the three cohorts.
2. ``masking``: within ``--cohort`` (default dbcd, 295 patients): a stratified 70/30 split;
   time and event hidden for ``--mask`` (25 / 50 / 75 %) of the training samples.
3. ``censored-only``: as masking with nothing hidden and no extra data; the consistency
   term of Cox-MT then acts on the censored labelled samples only (semi-supervised DeSurv
   is DeSurv and is not repeated).

Scores: Harrell's C, Uno's C and the integrated Brier score (scikit-survival, via
``desurv.benchmark.metrics``), survival curves from each model's Breslow baseline on its
labelled training samples (IBS on the 10-90 % quantiles of the test times). Reported as
median [IQR] over seeds, with paired differences (same split) of each semi-supervised
method minus its supervised counterpart, and the sign-flip test of the mean paired
difference (exact over the seeds' signs for ≤ 16 seeds, else 20,000 random flips).

    python benchmarks/semisupervised_survival_eval.py --protocol cross-cohort --seeds 20
    python benchmarks/semisupervised_survival_eval.py --protocol masking --mask 25 50 75
    python benchmarks/semisupervised_survival_eval.py --protocol censored-only

Writes ``benchmarks/results/semisupervised_<protocol>.csv`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from desurv import DeSurv
from desurv.benchmark.metrics import evaluation_times, harrell_c, integrated_brier, uno_c
from desurv.datasets import load_cohort
from desurv.preprocessing import Preprocessor
from desurv.survival.coxmt import CoxMT
from desurv.survival.coxnet import CoxNet
from desurv.survival.functions import breslow_baseline, survival_functions

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "expression"
GEO = ("gse4335", "gse1992", "gse3143")
SEMI = {"cox-mt": "mlp-cox", "ss-desurv": "desurv", "ss-nmf-cox": "nmf-cox"}


def load(name):
    X, y, _ = load_cohort(DATA / f"{name}.expression.tsv.gz", DATA / f"{name}.clinical.tsv")
    return X, y


def survival_probabilities(eta_train, y_train, eta_test, times):
    """S(t | x) at ``times`` from the Breslow baseline of the labelled training samples."""
    ut, h0 = breslow_baseline(eta_train, y_train["time"], y_train["event"])
    surv = survival_functions(eta_test, ut, h0, return_array=True)
    idx = np.searchsorted(ut, times, side="right") - 1
    return np.where(idx[None, :] >= 0, surv[:, np.maximum(idx, 0)], 1.0)


def scores(y_train, eta_train, y_test, eta_test):
    times = evaluation_times(y_train, y_test)
    out = {"harrell_c": harrell_c(y_test, eta_test), "uno_c": np.nan, "ibs": np.nan}
    if len(times) >= 2:
        out["uno_c"] = uno_c(y_train, y_test, eta_test, tau=times[-1])
        out["ibs"] = integrated_brier(
            y_train, y_test, survival_probabilities(eta_train, y_train, eta_test, times), times
        )
    return out


def fit_methods(Xl, yl, Xu, args, seed, methods):
    """{method: (predict(X) -> η, η on the labelled training samples)}."""
    fitted = {}
    hidden = tuple(args.hidden)
    desurv_kw = dict(n_components=args.k, penalty=0.1, l1_ratio=0.5, n_init=args.n_init,
                     max_iter=args.max_iter, random_state=seed)  # fmt: skip
    for name in methods:
        semi = name in SEMI
        if semi and Xu is None:
            continue
        if name in ("cox-mt", "mlp-cox"):
            m = CoxMT(hidden_layer_sizes=hidden, consistency_weight=1.0 if semi else 0.0,
                      random_state=seed)  # fmt: skip
            m.fit(Xl, yl, X_unlabeled=Xu if semi else None)
        elif name in ("ss-desurv", "desurv", "nmf-cox", "ss-nmf-cox"):
            alpha = 0.0 if "nmf" in name else args.alpha
            m = DeSurv(alpha=alpha, **desurv_kw)
            m.fit(Xl, yl, X_unlabeled=Xu if semi else None)
        elif name == "coxnet":
            m = CoxNet(l1_ratio=0.5, cv=5, random_state=seed).fit(Xl, yl)
        else:
            raise ValueError(f"unknown method {name!r}")
        fitted[name] = (m.predict, m.predict(Xl))
    return fitted


def preprocess(X_train_all, groups, others, genes):
    pre = Preprocessor("rank", n_genes=genes).fit(X_train_all, groups=groups)
    return pre, [pre.transform(X) for X in others]


def run_cross_cohort(seed, args):
    data = {name: load(name) for name in GEO}
    genes = data[GEO[0]][0].columns
    for name in GEO[1:]:
        genes = genes.intersection(data[name][0].columns, sort=False)
    rows = []
    for a in GEO:
        Xa, ya = data[a]
        Xa = Xa[genes]
        idx = np.arange(len(ya))
        tr, te = train_test_split(idx, test_size=0.3, stratify=ya["event"], random_state=seed)
        others = [b for b in GEO if b != a]
        Xu_raw = pd.concat([data[b][0][genes] for b in others])
        train_all = pd.concat([Xa.iloc[tr], Xu_raw])
        groups = np.array([a] * len(tr) + sum(([b] * len(data[b][1]) for b in others), []))
        _, (Xl, Xt, Xu, *Xo) = preprocess(
            train_all, groups, [Xa.iloc[tr], Xa.iloc[te], Xu_raw]
            + [data[b][0][genes] for b in others], args.genes,
        )  # fmt: skip
        fitted = fit_methods(Xl, ya[tr], Xu, args, seed, args.methods)
        for name, (predict, eta_tr) in fitted.items():
            sets = [("held-out " + a, Xt, ya[te])] + [
                (b, Xb, data[b][1]) for b, Xb in zip(others, Xo, strict=True)
            ]
            for label, Xs, ys in sets:
                rows.append(dict(seed=seed, labelled=a, test=label, method=name,
                                 **scores(ya[tr], eta_tr, ys, predict(Xs))))  # fmt: skip
    return rows


def run_masking(seed, args, masks):
    X, y = load(args.cohort)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.3, stratify=y["event"], random_state=seed)
    rows = []
    for mask in masks:
        rng = np.random.default_rng([seed, mask])
        n_hide = int(round(mask / 100 * len(tr)))
        # hide labels stratified by event so every design keeps events in proportion
        hide = np.zeros(len(tr), bool)
        for e in (False, True):
            pos = np.flatnonzero(y["event"][tr] == e)
            hide[rng.choice(pos, int(round(n_hide * len(pos) / len(tr))), replace=False)] = True
        lab, unl = tr[~hide], tr[hide]
        pre_rows = np.concatenate([lab, unl])
        parts = [X.iloc[lab], X.iloc[te]] + ([X.iloc[unl]] if len(unl) else [])
        _, (Xl, Xt, *Xu) = preprocess(X.iloc[pre_rows], None, parts, args.genes)
        Xu = Xu[0] if Xu else None
        methods = [m for m in args.methods if not (mask == 0 and m in ("ss-desurv", "ss-nmf-cox"))]
        if mask == 0:  # censored-only: Cox-MT's consistency on the censored labelled samples
            fitted = fit_methods(
                Xl, y[lab], None, args, seed, [m for m in methods if m not in SEMI]
            )
            m = CoxMT(hidden_layer_sizes=tuple(args.hidden), consistency_weight=1.0,
                      random_state=seed).fit(Xl, y[lab])  # fmt: skip
            fitted["cox-mt"] = (m.predict, m.predict(Xl))
        else:
            fitted = fit_methods(Xl, y[lab], Xu, args, seed, methods)
        for name, (predict, eta_tr) in fitted.items():
            score = scores(y[lab], eta_tr, y[te], predict(Xt))
            rows.append(dict(seed=seed, mask=mask, n_labelled=len(lab), n_unlabelled=len(unl),
                             method=name, **score))  # fmt: skip
    return rows


def sign_flip_p(d, n_random=20_000, seed=0):
    """Two-sided p of the mean paired difference under random signs."""
    d = np.asarray(d, float)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return np.nan
    obs = abs(d.mean())
    if len(d) <= 16:
        signs = np.array(list(itertools.product([-1, 1], repeat=len(d))))
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(n_random, len(d)))
    return float(np.mean(np.abs((signs * d).mean(axis=1)) >= obs - 1e-12))


def summarize(df, keys):
    lines = []
    for metric in ("harrell_c", "uno_c", "ibs"):
        lines.append(f"\n{metric}: median [IQR] over seeds")
        g = df.groupby(keys + ["method"], sort=False)[metric]
        tab = pd.DataFrame({"median": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75),
                            "n": g.count()})  # fmt: skip
        for key, r in tab.iterrows():
            lines.append(f"  {' | '.join(map(str, key))}: {r['median']:.3f} "
                         f"[{r['q25']:.3f}, {r['q75']:.3f}] (n={int(r['n'])})")  # fmt: skip
    lines.append("\npaired differences semi - supervised (same split): median, "
                 "ahead n/N, sign-flip p of the mean")  # fmt: skip
    for semi, sup in SEMI.items():
        a = df[df["method"] == semi].set_index(keys + ["seed"])
        b = df[df["method"] == sup].set_index(keys + ["seed"])
        if a.empty or b.empty:
            continue
        for metric in ("harrell_c", "uno_c", "ibs"):
            d = (a[metric] - b[metric]).dropna()
            for key, part in d.groupby(level=list(range(len(keys)))):
                key = key if isinstance(key, tuple) else (key,)
                better = (part < 0) if metric == "ibs" else (part > 0)
                lines.append(f"  {semi} - {sup} {metric} {' | '.join(map(str, key))}: "
                             f"{part.median():+.3f}, ahead {int(better.sum())}/{len(part)}, "
                             f"p = {sign_flip_p(part.to_numpy()):.3f}")  # fmt: skip
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--protocol", choices=["cross-cohort", "masking", "censored-only"],
                   required=True)  # fmt: skip
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--cohort", default="dbcd")
    p.add_argument("--mask", type=int, nargs="+", default=[25, 50, 75])
    p.add_argument("--genes", type=int, default=2000)
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--alpha", type=float, default=0.5)
    p.add_argument("--n-init", type=int, default=5)
    p.add_argument("--max-iter", type=int, default=300)
    p.add_argument("--hidden", type=int, nargs="*", default=[1000, 200])
    p.add_argument("--methods", nargs="+", default=["cox-mt", "mlp-cox", "ss-desurv", "desurv",
                   "ss-nmf-cox", "nmf-cox", "coxnet"])  # fmt: skip
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"semisupervised_{args.protocol}"
    command = "python benchmarks/semisupervised_survival_eval.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    load0, t0 = os.getloadavg(), time.perf_counter()

    def one(seed):
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            if args.protocol == "cross-cohort":
                return run_cross_cohort(seed, args)
            masks = [0] if args.protocol == "censored-only" else args.mask
            return run_masking(seed, args, masks)

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    res = Parallel(n_jobs=args.jobs)(delayed(one)(s) for s in seeds)
    df = pd.DataFrame([r for part in res for r in part])
    df.to_csv(out / f"{stem}.csv", index=False)
    keys = ["labelled", "test"] if args.protocol == "cross-cohort" else ["mask"]
    lines = [f"# {command}", f"# {time.perf_counter() - t0:.0f} s; load {load0} -> "
             f"{os.getloadavg()}"]  # fmt: skip
    lines += summarize(df, keys)
    text = "\n".join(lines)
    (out / f"{stem}.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
