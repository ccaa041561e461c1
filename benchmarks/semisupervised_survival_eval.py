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

Hyperparameters (``--tune``): ``none`` (default) uses the fixed values above.
``inner-cv`` chooses, for every seed and labelled cohort, on the labelled *training* part
only: α of ``desurv`` and of ``ss-desurv`` over ``--alpha-grid`` (default 0.25, 0.5, 0.75,
0.9) by ``--inner-folds``-fold cross-validation stratified by event
(:func:`desurv.model_selection.cross_validate`, ``--inner-seeds`` random starts per fold and
α, the highest mean validation Harrell's C, rule ``"max"``; the semi-supervised one with the
same unlabelled samples in every inner training part), and the consistency weight of
``cox-mt`` over ``--cw-grid`` (default 0.3, 1, 3; empty: not tuned) on the same inner folds.
The chosen value is then refitted on the whole labelled training part with the settings of
the untuned run. Held-out and other-cohort labels are used for scoring only. Output files get
the suffix ``_tuned``; the chosen values are columns ``alpha`` and ``consistency_weight`` of
the CSV and listed per seed in the text summary.

Scores: Harrell's C, Uno's C and the integrated Brier score (scikit-survival, via
``desurv.benchmark.metrics``), survival curves from each model's Breslow baseline on its
labelled training samples (IBS on the 10-90 % quantiles of the test times). Reported as
median [IQR] over seeds, with paired differences (same split) of each semi-supervised
method minus its supervised counterpart, and the sign-flip test of the mean paired
difference (exact over the seeds' signs for ≤ 16 seeds, else 20,000 random flips).

    python benchmarks/semisupervised_survival_eval.py --protocol cross-cohort --seeds 20
    python benchmarks/semisupervised_survival_eval.py --protocol masking --mask 25 50 75
    python benchmarks/semisupervised_survival_eval.py --protocol censored-only
    python benchmarks/semisupervised_survival_eval.py --protocol cross-cohort --tune inner-cv

Writes ``benchmarks/results/semisupervised_<protocol>[_tuned].csv`` and ``.txt``.
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
from desurv.model_selection import cross_validate, select_config, stratified_folds, summarize_cv
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


def inner_folds(yl, args, seed):
    """Fold id (0 … ``--inner-folds`` − 1) of every labelled training sample, stratified by
    event; the same folds for every tuned method of a seed."""
    return stratified_folds(yl["event"], args.inner_folds, random_state=seed, warn=False)


def tune_alpha(Xl, yl, Xu, args, seed, folds):
    """α of DeSurv (semi-supervised with ``Xu``) with the best mean inner-CV Harrell's C."""
    cv = cross_validate(
        Xl, yl, X_unlabeled=Xu, folds=folds, n_folds=args.inner_folds, n_seeds=args.inner_seeds,
        param_grid={"n_components": [args.k], "alpha": list(args.alpha_grid),
                    "penalty": [0.1], "l1_ratio": [0.5]},
        max_iter=args.max_iter, random_state=seed, n_jobs=1,
    )  # fmt: skip
    best, _ = select_config(summarize_cv(cv), "max")
    return float(best["alpha"])


def tune_consistency(Xl, yl, Xu, args, seed, folds):
    """Consistency weight of Cox-MT with the best mean inner-CV Harrell's C (validation
    folds: labelled training samples; ``Xu`` in every inner training part)."""
    means = []
    for w in args.cw_grid:
        cs = []
        for f in range(args.inner_folds):
            tr, va = folds != f, folds == f
            m = CoxMT(hidden_layer_sizes=tuple(args.hidden), consistency_weight=w,
                      random_state=seed).fit(Xl.iloc[tr], yl[tr], X_unlabeled=Xu)  # fmt: skip
            cs.append(harrell_c(yl[va], m.predict(Xl.iloc[va])))
        means.append(np.nanmean(cs))
    return float(args.cw_grid[int(np.nanargmax(means))])


def fit_methods(Xl, yl, Xu, args, seed, methods):
    """{method: (predict(X) -> η, η on the labelled training samples, hyperparameters)}."""
    fitted = {}
    hidden = tuple(args.hidden)
    desurv_kw = dict(n_components=args.k, penalty=0.1, l1_ratio=0.5, n_init=args.n_init,
                     max_iter=args.max_iter, random_state=seed)  # fmt: skip
    tuned = args.tune == "inner-cv"
    folds = inner_folds(yl, args, seed) if tuned else None
    for name in methods:
        semi = name in SEMI
        if semi and Xu is None:
            continue
        if name in ("cox-mt", "mlp-cox"):
            w = 1.0 if semi else 0.0
            if semi and tuned and args.cw_grid:
                w = tune_consistency(Xl, yl, Xu, args, seed, folds)
            m = CoxMT(hidden_layer_sizes=hidden, consistency_weight=w, random_state=seed)
            m.fit(Xl, yl, X_unlabeled=Xu if semi else None)
            chosen = {"consistency_weight": w}
        elif name in ("ss-desurv", "desurv", "nmf-cox", "ss-nmf-cox"):
            alpha = 0.0 if "nmf" in name else args.alpha
            if tuned and "nmf" not in name:
                alpha = tune_alpha(Xl, yl, Xu if semi else None, args, seed, folds)
            m = DeSurv(alpha=alpha, **desurv_kw)
            m.fit(Xl, yl, X_unlabeled=Xu if semi else None)
            chosen = {"alpha": alpha}
        elif name == "coxnet":
            m = CoxNet(l1_ratio=0.5, cv=5, random_state=seed).fit(Xl, yl)
            chosen = {}
        else:
            raise ValueError(f"unknown method {name!r}")
        fitted[name] = (m.predict, m.predict(Xl), chosen)
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
        for name, (predict, eta_tr, chosen) in fitted.items():
            sets = [("held-out " + a, Xt, ya[te])] + [
                (b, Xb, data[b][1]) for b, Xb in zip(others, Xo, strict=True)
            ]
            for label, Xs, ys in sets:
                rows.append(dict(seed=seed, labelled=a, test=label, method=name,
                                 **scores(ya[tr], eta_tr, ys, predict(Xs)), **chosen))  # fmt: skip
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
            w = 1.0
            if args.tune == "inner-cv" and args.cw_grid:
                w = tune_consistency(Xl, y[lab], None, args, seed, inner_folds(y[lab], args, seed))
            m = CoxMT(hidden_layer_sizes=tuple(args.hidden), consistency_weight=w,
                      random_state=seed).fit(Xl, y[lab])  # fmt: skip
            fitted["cox-mt"] = (m.predict, m.predict(Xl), {"consistency_weight": w})
        else:
            fitted = fit_methods(Xl, y[lab], Xu, args, seed, methods)
        for name, (predict, eta_tr, chosen) in fitted.items():
            score = scores(y[lab], eta_tr, y[te], predict(Xt))
            rows.append(dict(seed=seed, mask=mask, n_labelled=len(lab), n_unlabelled=len(unl),
                             method=name, **score, **chosen))  # fmt: skip
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


def chosen_hyperparameters(df, keys):
    """Lines listing the tuned value of every seed (α; Cox-MT's consistency weight)."""
    lines = ["\nhyperparameters chosen by inner CV on the labelled training part, by seed "
             "(value: number of seeds)"]  # fmt: skip
    for method, col in (("desurv", "alpha"), ("ss-desurv", "alpha"),
                        ("cox-mt", "consistency_weight")):  # fmt: skip
        d = df[df["method"] == method]
        if d.empty or col not in d:
            continue
        d = d.drop_duplicates(keys + ["seed"])
        for key, part in d.groupby(keys, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            counts = part[col].value_counts().sort_index()
            per_seed = " ".join(f"{v:g}" for v in part.sort_values("seed")[col])
            lines.append(f"  {method} {col} {' | '.join(map(str, key))}: "
                         + ", ".join(f"{v:g}: {n}" for v, n in counts.items())
                         + f"; per seed {per_seed}")  # fmt: skip
    return lines


def combine(args, keys, stem, command):
    """Joint summary of the CSVs of earlier runs (``--combine``); their headers are kept."""
    frames, header = [], [f"# {command}"]
    for path in map(Path, args.combine):
        frames.append(pd.read_csv(path))
        txt = path.with_suffix(".txt")
        if txt.exists():
            header += [f"#   {line[2:]}" for line in txt.read_text().splitlines()[:2]]
    df = pd.concat(frames, ignore_index=True)
    dup = df.duplicated(["seed", *keys, "method"])
    if dup.any():
        raise SystemExit(f"--combine: {int(dup.sum())} rows repeat a (seed, {keys}, method)")
    df = df.sort_values(["seed"], kind="stable").reset_index(drop=True)
    df.to_csv(f"{stem}.csv", index=False)
    lines = header + summarize(df, keys)
    if args.tune == "inner-cv":
        lines += chosen_hyperparameters(df, keys[:1])
    text = "\n".join(lines)
    Path(f"{stem}.txt").write_text(text + "\n")
    print(text)


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
    p.add_argument(
        "--tune",
        choices=["none", "inner-cv"],
        default="none",
        help="inner-cv: α of desurv/ss-desurv and Cox-MT's consistency weight by "
        "CV on the labelled training part (see the module docstring)",
    )
    p.add_argument("--alpha-grid", type=float, nargs="+", default=[0.25, 0.5, 0.75, 0.9])
    p.add_argument(
        "--cw-grid",
        type=float,
        nargs="*",
        default=[0.3, 1.0, 3.0],
        help="consistency weights of Cox-MT tried by --tune inner-cv (none: 1)",
    )
    p.add_argument("--inner-folds", type=int, default=5)
    p.add_argument(
        "--inner-seeds",
        type=int,
        default=3,
        help="random starts per inner fold and α (cross_validate n_seeds)",
    )
    p.add_argument(
        "--combine",
        nargs="+",
        metavar="CSV",
        help="fit nothing: concatenate the CSVs of earlier runs of the same protocol (e.g. "
        "seed ranges run separately with --first-seed) and write their joint summary",
    )
    p.add_argument("--methods", nargs="+", default=["cox-mt", "mlp-cox", "ss-desurv", "desurv",
                   "ss-nmf-cox", "nmf-cox", "coxnet"])  # fmt: skip
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"semisupervised_{args.protocol}" + ("_tuned" if args.tune == "inner-cv" else "")
    command = "python benchmarks/semisupervised_survival_eval.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    keys = ["labelled", "test"] if args.protocol == "cross-cohort" else ["mask"]
    if args.combine:
        return combine(args, keys, out / stem, command)
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
    lines = [f"# {command}", f"# {time.perf_counter() - t0:.0f} s; load {load0} -> "
             f"{os.getloadavg()}"]  # fmt: skip
    lines += summarize(df, keys)
    if args.tune == "inner-cv":
        lines += chosen_hyperparameters(df, keys[:1])
    text = "\n".join(lines)
    (out / f"{stem}.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
