"""Evaluation of S-NMF, SS-NMF and PSS-NMF (issue 14, METHODS.md §A.4-A.5) against baselines.

Two tasks, the paper's 33 % and 50 % unlabelled designs (labelled : unlabelled = 2 : 1 and
1 : 1, the labelled set the same in both; the unlabelled genomes of the 33 % design are a
subset of those of the 50 % design), one row per seed × design × method:

* ``many-types``: SynSig ``syn.many.types`` (2,700 genomes, nine cancer types of 300; the type
  is the prefix of the sample id). Per seed a stratified 25 % test set is held out; from the
  rest ``--n-labeled`` genomes per type are labelled and 50 or 100 per type unlabelled
  (no domain shift: one population).
* ``domain-shift``: :func:`desurv.datasets.simulate_catalogues` with COSMIC v3.4 signatures:
  four classes with one marker signature each (SBS3, SBS44, SBS10a, SBS7a), background
  signatures SBS1, SBS5, SBS40a shared by both domains and, with the default
  ``--overlap 0.43`` (3 of 7 shared), SBS18 and SBS17b only in the labelled "source" (cell
  lines; SBS18 is the culture-oxidation signature) and SBS2 and SBS13 only in the
  unlabelled "target" (tumours); the target's exposure distribution and mutation burden are
  shifted by ``--shift`` (Dirichlet parameters × exp(s·d_k), burden × exp(s); mean burden
  300 in the source). Labelled: ``--n-labeled`` source genomes per
  class; unlabelled: 50 or 100 target genomes per class; scored on held-out source and
  held-out target genomes (100 per class each) and on the unlabelled training genomes
  (transductive). The true target labels are used for scoring only.

Hyperparameters (``n_components`` K and ``lambda_c``) are chosen per seed as the paper does,
by 3-fold stratified CV on the labelled training genomes only: S-NMF (``--cv-replicates``
replicates) over the grid ``--grid-k`` × ``--grid-lambda``; among the settings whose mean
fold stability (eq. 9) is at least 0.9 the one with the highest mean fold macro-F1, or, when
none reaches 0.9, the highest macro-F1 (the top of the Pareto front of stability and
accuracy). The chosen K and λ_c are used for every SupervisedNMF variant and K for the NMF
baseline **[reduction: the paper tunes S-NMF and SS-NMF separately]**; c_t stays at the
paper's cancer-type optimum 0.6 (``--threshold-sweep`` reports the sensitivity to c_t, with
pseudo-label count and precision, never used for selection).

Methods: ``lr`` logistic regression on the 96-channel profiles (scikit-learn
``LogisticRegressionCV``, C by 3-fold CV on the labelled genomes, macro-F1); ``nmf+lr``
unsupervised ``desurv.NMF`` (K, on labelled and unlabelled profiles) then the same logistic
regression on NNLS exposure proportions; ``refit+lr`` NNLS refit on the true signature set
(an oracle set, unknown in practice: the 21 SynSig signatures, or the simulation's 11 COSMIC
signatures) then logistic regression; ``s-nmf``, ``ss-nmf``, ``ss-nmf+ur``, ``pss-nmf``,
``pss-nmf+ur`` (``desurv.SupervisedNMF``, 10 replicates, defaults otherwise).

Reported per row: macro-F1 over all classes on each scored set, stability, pseudo-labels
(rows of ``pseudo_labels_`` over the replicates, their precision against the hidden labels,
and the genomes the refit used), Hungarian-matched cosine of the consensus signatures to the
true ones, best COSMIC matches (``match_signatures``), fit seconds.

    python benchmarks/supervised_eval.py --task many-types --seeds 10 --jobs 2
    python benchmarks/supervised_eval.py --task domain-shift --seeds 10 --jobs 2
    python benchmarks/supervised_eval.py --task domain-shift --seeds 10 --jobs 2 \\
        --threshold-sweep 0.3 0.45 0.6 0.75 0.9

Writes ``benchmarks/results/supervised_eval_<task>[_sweep].csv`` and ``.txt`` (summary).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from desurv import NMF, SupervisedNMF
from desurv.datasets import load_synsig, read_signatures, simulate_catalogues
from desurv.decomposition import nnls
from desurv.exceptions import ConvergenceWarning
from desurv.signatures import match_signatures

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mutational"
MANY_TYPES = DATA / "synsig" / "syn.many.types"
COSMIC = DATA / "cosmic_v3.4_sbs96_grch37.tsv"
MARKERS = ["SBS3", "SBS44", "SBS10a", "SBS7a"]
# shared first, then alternating source-only / target-only (the simulator's column-order rule)
BACKGROUNDS = ["SBS1", "SBS5", "SBS40a", "SBS18", "SBS2", "SBS17b", "SBS13"]
VARIANTS = {
    "s-nmf": dict(mode="supervised"),
    "ss-nmf": dict(mode="semi-supervised"),
    "ss-nmf+ur": dict(mode="semi-supervised", unlabeled_reg=True),
    "pss-nmf": dict(mode="pseudo-label"),
    "pss-nmf+ur": dict(mode="pseudo-label", unlabeled_reg=True),
}


def profiles(X):
    X = np.asarray(X, dtype=np.float64)
    return X / X.sum(axis=1, keepdims=True)


def macro_f1(y_true, y_pred, classes):
    return float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0))


# ----------------------------------------------------------------------------------- data
def many_types_split(seed, n_labeled):
    """(X DataFrame, y, truth W (96 × 21), sets) with sets: name → row indices."""
    d = load_synsig(MANY_TYPES)
    X = d.catalogue
    y = np.array([s.split("::")[0] for s in X.index])
    rng = np.random.default_rng(seed)
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.25, stratify=y, random_state=seed)
    lab, unl50, unl33 = [], [], []
    for c in np.unique(y):
        pool = rng.permutation(train[y[train] == c])
        lab += list(pool[:n_labeled])
        unl50 += list(pool[n_labeled : n_labeled + 100])
        unl33 += list(pool[n_labeled : n_labeled + 50])
    sets = dict(labeled=np.sort(lab), unl50=np.sort(unl50), unl33=np.sort(unl33), test=test)
    return X, y, d.signatures, sets


def domain_shift_split(seed, n_labeled, shift, overlap):
    cosmic = read_signatures(COSMIC)
    W = cosmic[MARKERS + BACKGROUNDS]
    sim = simulate_catalogues(
        W,
        3000,
        n_active=3,
        mean_burden=300.0,
        n_classes=len(MARKERS),
        domain_shift=shift,
        background_overlap=overlap,
        target_fraction=0.5,
        random_state=seed,
    )
    y = np.array(MARKERS)[sim.labels]
    rng = np.random.default_rng(seed + 10_000)
    lab, src_test, unl50, unl33, tgt_test = [], [], [], [], []
    for c in MARKERS:
        src = rng.permutation(np.flatnonzero((y == c) & (sim.domain == "source")))
        tgt = rng.permutation(np.flatnonzero((y == c) & (sim.domain == "target")))
        if len(src) < n_labeled + 100 or len(tgt) < 200:
            raise ValueError(f"too few simulated genomes of class {c}; raise the sample count")
        lab += list(src[:n_labeled])
        src_test += list(src[n_labeled : n_labeled + 100])
        unl50 += list(tgt[:100])
        unl33 += list(tgt[:50])
        tgt_test += list(tgt[100:200])
    sets = dict(
        labeled=np.sort(lab),
        unl50=np.sort(unl50),
        unl33=np.sort(unl33),
        source_test=np.sort(src_test),
        target_test=np.sort(tgt_test),
    )
    return sim.catalogue, y, sim.signatures, sets


# ------------------------------------------------------------------------------ selection
def select_hyperparameters(X, y, labeled, grid_k, grid_lambda, n_rep, seed):
    """3-fold CV of S-NMF on the labelled genomes; returns (K, λ_c, table)."""
    Xl, yl = X.iloc[labeled], y[labeled]
    classes = np.unique(yl)
    folds = StratifiedKFold(3, shuffle=True, random_state=seed).split(Xl, yl)
    rows = []
    for f, (tr, va) in enumerate(folds):
        for k in grid_k:
            for lam in grid_lambda:
                est = SupervisedNMF(
                    k, mode="supervised", lambda_c=lam, n_replicates=n_rep, random_state=seed
                )
                est.fit(Xl.iloc[tr], yl[tr])
                f1 = macro_f1(yl[va], est.predict(Xl.iloc[va]), classes)
                rows.append(dict(fold=f, k=k, lambda_c=lam, f1=f1, stability=est.stability_))
    table = (
        pd.DataFrame(rows).groupby(["k", "lambda_c"], as_index=False)[["f1", "stability"]].mean()
    )
    stable = table[table["stability"] >= 0.9]
    pick = (stable if len(stable) else table).sort_values("f1", ascending=False).iloc[0]
    return int(pick["k"]), float(pick["lambda_c"]), table


# -------------------------------------------------------------------------------- methods
def lr_cv(seed):
    return LogisticRegressionCV(
        Cs=10,
        cv=3,
        l1_ratios=(0.0,),
        scoring="f1_macro",
        max_iter=5000,
        random_state=seed,
        use_legacy_attributes=False,
    )


def fit_baselines(X, y, sets, fit_rows, k, truth, seed):
    """Predictions of lr, nmf+lr and refit+lr on every scored set."""
    P = profiles(X)
    lab = sets["labeled"]
    out = {}
    clf = lr_cv(seed).fit(P[lab], y[lab])
    out["lr"] = (clf, lambda rows: P[rows])
    nmf = NMF(k, solver="mu", init="random", max_iter=2000, tol=1e-6, random_state=seed)
    nmf.fit(P[fit_rows])
    sig = nmf.components_.T

    def nmf_expo(rows, sig=sig):
        E = nnls(sig, P[rows].T).T
        return E / np.maximum(E.sum(axis=1, keepdims=True), 1e-300)

    out["nmf+lr"] = (lr_cv(seed).fit(nmf_expo(lab), y[lab]), nmf_expo, sig)
    T = truth.loc[list(X.columns)].to_numpy()

    def refit_expo(rows, T=T):
        E = nnls(T, P[rows].T).T
        return E / np.maximum(E.sum(axis=1, keepdims=True), 1e-300)

    out["refit+lr"] = (lr_cv(seed).fit(refit_expo(lab), y[lab]), refit_expo)
    return out


def signature_scores(components, truth, cosmic, channels):
    """(mean Hungarian-matched cosine to the truth, 'SBSx:0.93 ...' best COSMIC matches)."""
    sig = pd.DataFrame(components.T, index=channels)
    k = sig.shape[1]
    if k <= truth.shape[1]:
        truth_cos = float(match_signatures(sig, truth)["cosine"].mean())
    else:  # more learned than true signatures: match the truth into the learned ones
        truth_cos = float(match_signatures(truth, sig)["cosine"].mean())
    m = match_signatures(sig, cosmic)
    best = " ".join(f"{a}:{b:.2f}" for a, b in zip(m["best_cosmic"], m["best_cosine"], strict=True))
    return truth_cos, best


def run_seed(task, seed, args):
    warnings.simplefilter("ignore", ConvergenceWarning)
    if task == "many-types":
        X, y, truth, sets = many_types_split(seed, args.n_labeled)
        scored = ["test"]
    else:
        X, y, truth, sets = domain_shift_split(seed, args.n_labeled, args.shift, args.overlap)
        scored = ["source_test", "target_test"]
    cosmic = read_signatures(COSMIC)
    classes = np.unique(y[sets["labeled"]])
    channels = list(X.columns)
    rows = []
    with threadpool_limits(1):
        t0 = time.perf_counter()
        if args.fixed_k:
            k, lam, cv = args.fixed_k, args.fixed_lambda, None
        else:
            k, lam, cv = select_hyperparameters(
                X, y, sets["labeled"], args.grid_k, args.grid_lambda, args.cv_replicates, seed
            )
        cv_seconds = time.perf_counter() - t0
        designs = {"33%": sets["unl33"], "50%": sets["unl50"]}
        thresholds = args.threshold_sweep or [0.6]
        for design, unl in designs.items():
            if args.threshold_sweep and design != "50%":
                continue
            fit_rows = np.concatenate([sets["labeled"], unl])
            y_fit = y[fit_rows].astype(object)
            y_fit[len(sets["labeled"]) :] = None
            base = (
                {} if args.threshold_sweep else fit_baselines(X, y, sets, fit_rows, k, truth, seed)
            )
            for name, (clf, feats, *rest) in base.items():
                row = dict(seed=seed, design=design, method=name, k=k, lambda_c=lam)
                for s in scored + ["unlabeled"]:
                    r = unl if s == "unlabeled" else sets[s]
                    row[f"f1_{s}"] = macro_f1(y[r], clf.predict(feats(r)), classes)
                if rest:
                    row["truth_cosine"], row["cosmic"] = signature_scores(
                        rest[0].T, truth, cosmic, channels
                    )
                rows.append(row)
            variants = (
                {
                    f"pss-nmf c_t={c}": dict(mode="pseudo-label", confidence_threshold=c)
                    for c in thresholds
                }
                if args.threshold_sweep
                else VARIANTS
            )
            for name, params in variants.items():
                if name == "s-nmf" and design != "33%":
                    continue  # S-NMF sees the labelled genomes only: one fit for both designs
                t1 = time.perf_counter()
                est = SupervisedNMF(k, lambda_c=lam, random_state=seed, **params)
                est.fit(X.iloc[fit_rows], y_fit)
                row = dict(
                    seed=seed,
                    design="both" if name == "s-nmf" else design,
                    method=name,
                    k=k,
                    lambda_c=lam,
                    seconds=time.perf_counter() - t1,
                    stability=est.stability_,
                    converged=est.converged_,
                )
                for s in scored + ["unlabeled"]:
                    r = unl if s == "unlabeled" else sets[s]
                    row[f"f1_{s}"] = est.score(X.iloc[r], y[r])
                row["truth_cosine"], row["cosmic"] = signature_scores(
                    est.components_, truth, cosmic, channels
                )
                pl = est.pseudo_labels_
                if len(pl):
                    true = y[fit_rows][pl["sample"].to_numpy()]
                    row["pseudo_rows"] = len(pl)
                    row["pseudo_per_replicate"] = len(pl) / est.n_replicates
                    row["pseudo_precision"] = float(np.mean(pl["label"].to_numpy() == true))
                    used = est.labels_[len(sets["labeled"]) :]
                    used_mask = used >= 0
                    row["pseudo_refit"] = int(used_mask.sum())
                    row["pseudo_refit_precision"] = (
                        float(np.mean(est.classes_[used[used_mask]] == y[unl][used_mask]))
                        if used_mask.any()
                        else np.nan
                    )
                rows.append(row)
    out = pd.DataFrame(rows)
    out["cv_seconds"] = cv_seconds
    return out, (None if cv is None else cv.assign(seed=seed))


def summarize(df, scored):
    cols = [f"f1_{s}" for s in scored] + ["f1_unlabeled", "stability", "truth_cosine"]
    cols += [
        c
        for c in [
            "pseudo_per_replicate",
            "pseudo_precision",
            "pseudo_refit",
            "pseudo_refit_precision",
            "seconds",
        ]
        if c in df
    ]
    cols = [c for c in cols if c in df]
    g = df.groupby(["design", "method"], sort=False)[cols]
    med, q1, q3 = g.median(), g.quantile(0.25), g.quantile(0.75)
    lines = []
    for key in med.index:
        parts = [f"{key[0]:>4} {key[1]:<20}"]
        for c in cols:
            m = med.loc[key, c]
            if pd.isna(m):
                parts.append(f"{c}=-")
            elif c.startswith("f1") or c in ("stability", "truth_cosine") or "precision" in c:
                parts.append(f"{c}={m:.3f} [{q1.loc[key, c]:.3f}, {q3.loc[key, c]:.3f}]")
            else:
                parts.append(f"{c}={m:.1f}")
        lines.append("  ".join(parts))
    return lines


def paired_wins(df, scored):
    """How often PSS-/SS-NMF beat S-NMF on the same seed (per design and scored set)."""
    lines = []
    s = df[df["method"] == "s-nmf"].set_index("seed")
    for design in ["33%", "50%"]:
        d = df[df["design"] == design]
        for name in ["ss-nmf", "pss-nmf", "pss-nmf+ur", "ss-nmf+ur", "lr", "nmf+lr"]:
            m = d[d["method"] == name].set_index("seed")
            if m.empty:
                continue
            for sc in scored:
                diff = (m[f"f1_{sc}"] - s[f"f1_{sc}"]).dropna()
                lines.append(
                    f"{design} {name:<11} - s-nmf on {sc}: median {diff.median():+.3f} "
                    f"[{diff.quantile(0.25):+.3f}, {diff.quantile(0.75):+.3f}], "
                    f"ahead in {(diff > 0).sum()}/{len(diff)}"
                )
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", choices=["many-types", "domain-shift"], required=True)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--n-labeled", type=int, default=100, help="labelled genomes per class")
    p.add_argument("--shift", type=float, default=0.5)
    p.add_argument("--overlap", type=float, default=0.43)
    p.add_argument("--grid-k", type=int, nargs="+", default=None)
    p.add_argument("--grid-lambda", type=float, nargs="+", default=[0.1, 1.0])
    p.add_argument("--cv-replicates", type=int, default=3)
    p.add_argument("--fixed-k", type=int, default=None, help="skip the CV: this K ...")
    p.add_argument("--fixed-lambda", type=float, default=0.1, help="... and this lambda_c")
    p.add_argument("--threshold-sweep", type=float, nargs="+", default=None)
    p.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = p.parse_args(argv)
    if args.grid_k is None:
        args.grid_k = [9, 12] if args.task == "many-types" else [6, 9, 12]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"supervised_eval_{args.task}" + ("_sweep" if args.threshold_sweep else "")
    command = "python benchmarks/supervised_eval.py " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    res = Parallel(n_jobs=args.jobs)(delayed(run_seed)(args.task, s, args) for s in seeds)
    df = pd.concat([r[0] for r in res], ignore_index=True)
    cvs = [r[1] for r in res if r[1] is not None]
    df.to_csv(out / f"{stem}.csv", index=False)
    scored = ["test"] if args.task == "many-types" else ["source_test", "target_test"]
    lines = [
        f"# {command}",
        f"# {time.perf_counter() - t0:.0f} s; load {load0} -> {os.getloadavg()}",
    ]
    lines += ["", "median [IQR] over seeds:"] + summarize(df, scored)
    if not args.threshold_sweep:
        lines += ["", "paired differences of macro-F1 (same seed):"] + paired_wins(df, scored)
    if cvs:
        cv = pd.concat(cvs)
        lines += ["", "CV (S-NMF, 3 folds on the labelled genomes), mean over seeds:"]
        lines += (
            cv.groupby(["k", "lambda_c"])[["f1", "stability"]]
            .mean()
            .round(3)
            .to_string()
            .split("\n")
        )
        picks = df.drop_duplicates("seed")[["seed", "k", "lambda_c"]]
        lines += [
            "chosen (K, lambda_c) per seed: "
            + ", ".join(f"{r.seed}:({r.k}, {r.lambda_c:g})" for r in picks.itertuples())
        ]
    first = df[df["seed"] == df["seed"].min()]
    if "cosmic" in first:
        lines += ["", f"best COSMIC matches, seed {df['seed'].min()}:"]
        for r in first.dropna(subset=["cosmic"]).itertuples():
            lines.append(f"  {r.design} {r.method}: {r.cosmic}")
    text = "\n".join(lines)
    (out / f"{stem}.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
