"""Replicate study on the DeSurv simulations: DeSurv vs both NMF+Cox baselines vs CoxNet.

Per replicate (the DeSurv authors' protocol, issue 11):

1. simulate a cohort with ``simulate_desurv(**SIMULATION_SCENARIOS[scenario])`` (default
   ``"R0"``, the authors' primary scenario with its per-gene baseline);
2. split it 70/30 stratified by event (``sklearn.model_selection.train_test_split``);
3. choose every hyperparameter by cross-validation on the training part only (the test part
   is touched once, for the scores), refit on the whole training part, score the test part.

Methods (the ``method`` column of the output):

``desurv``
    ``DeSurvCV`` over k in {k_true, k_true + 1} x the α grid (``--alphas``; 0 is always
    added), the default rule ``"1se-k"`` (α by the maximum, the one-SE rule on k) and cold
    starts, refitted with ``--n-init`` random starts.
``nmfcox_mu``
    The paper's baseline: the α = 0 column of the same CV (its k by the same rule), refitted
    as ``NMFCox(solver="mu")`` (DeSurv's multiplicative updates at α = 0, ``--n-init``
    random starts).
``nmfcox_cd``
    The converged baseline: ``NMFCox(solver="cd")`` (coordinate descent from NNDSVDa, run to
    ``cd_tol`` or ``--cd-max-iter``), k in {k_true, k_true + 1} chosen by the validation
    C-index on the SAME folds as DeSurv's CV, with the same rule; then refitted.
``nmfcox_cd_cv`` (only with ``--cd-tol-grid``)
    Coordinate-descent NMF+Cox with the stopping tolerance treated as a hyperparameter:
    for every ``cd_tol`` of the grid, k by CV on the same folds; the (cd_tol, k) with the
    highest CV C-index is refitted. Early-stopped NMF from NNDSVDa is close to a truncated
    SVD, which on these designs predicts better than the converged NMF
    (``benchmarks/nmfcox_cd_stopping.py``).
``coxnet``
    ``CoxNet(l1_ratio=0.5)`` on all genes, λ by its internal CV on the same folds.
``oracle_w``
    The ceiling of every projection model η = XᵀWβ (DeSurv and both NMF+Cox): the TRUE
    programs (unit columns) with the same elastic-net Cox step (λ = 0.1, ξ = 0.5) fitted on
    the training part. Below ``true_lp`` when noise in X blurs the programs' exposures.
``true_lp``
    The true linear predictor ``sim.linear_predictor`` on the test part (the ceiling).

Scores: ``test_cindex`` is Harrell's C on the test part. For the methods with programs the
lethal program (true program 1, i.e. the one with the largest |β|: program 1 in every
authors' scenario) is matched to the fitted factor with the highest cosine (``cosine``);
its top n genes, n = number of true survival genes of that program
(``sim.survival_genes[0]``), are taken (``precision``) by the paper's specificity score
(``desurv.top_genes``: the factor's max-scaled loading minus the largest other factor's)
and (``precision_loading``) by the raw loading; the precision is the fraction of them that
are true survival genes. In the null scenario ``"R00"`` (β = 0) the precision still refers
to program 1's markers, which there carry no survival signal.

Output: one line per replicate, then per method the median [IQR] of the test C and of the
precision over replicates, and how many replicates DeSurv's test C beats each method's
(strictly; ties counted apart). ``--out FILE.csv`` writes the tidy table, one row per
(replicate, method). Replicates run in parallel with joblib (``--jobs``), each with one
BLAS thread; every seed derives from ``(--seed, replicate)``, so the table is identical for
any ``--jobs``.

Usage::

    python examples/simulation_replicates.py [--scenario R0] [--replicates 20] [--jobs 2]
        [--seed 0] [--out replicates.csv] [--alphas 0 0.25 0.5 0.75 0.9] [--folds 5]
        [--seeds 3] [--max-iter 500] [--n-init 20] [--rule 1se-k] [--cd-max-iter 5000]

A quick run (3 replicates of R0, about 1 minute on one core)::

    python examples/simulation_replicates.py --replicates 3 --alphas 0 0.5 --folds 3 \\
        --seeds 1 --max-iter 200 --n-init 3 --jobs 1
"""

import argparse
import shlex
import sys
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from desurv import CoxNet, NMFCox, concordance_index, top_genes
from desurv.datasets import SIMULATION_SCENARIOS, simulate_desurv
from desurv.deconvolution.nmf_cox import cox_refit
from desurv.model_selection import DeSurvCV, select_config, select_n_components

METHODS = ("desurv", "nmfcox_mu", "nmfcox_cd", "nmfcox_cd_cv", "coxnet", "oracle_w", "true_lp")
COLUMNS = (
    "scenario", "replicate", "sim_seed", "method", "test_cindex", "precision",
    "precision_loading", "cosine", "n_components", "alpha", "cv_cindex", "n_train",
    "n_test", "test_events", "seconds", "cd_tol",
)  # fmt: skip
DEFAULT_ALPHAS = (0.0, 0.25, 0.5, 0.75, 0.9)


def replicate_seeds(seed, rep):
    """Seeds of the simulation, the split and the fits of one replicate (any ``--jobs``)."""
    return [int(s) for s in np.random.SeedSequence([seed, rep]).generate_state(3)]


def lethal_program_recovery(W_true, W_hat, lethal, survival_genes):
    """Cosine of the best-matched factor and the precision of its top genes (two rankings)."""
    cos = (W_true[:, lethal] / np.linalg.norm(W_true[:, lethal])) @ (
        W_hat / np.maximum(np.linalg.norm(W_hat, axis=0), 1e-300)
    )
    f = int(np.argmax(cos))
    n = len(survival_genes)
    by_score = top_genes(W_hat, n_top=n, gene_names=np.arange(W_hat.shape[0]))[f"factor_{f + 1}"]
    by_loading = np.argsort(-W_hat[:, f], kind="stable")[:n]
    return {
        "cosine": float(cos[f]),
        "precision": float(np.isin(by_score.to_numpy(dtype=int), survival_genes).mean()),
        "precision_loading": float(np.isin(by_loading, survival_genes).mean()),
    }


def run_replicate(
    rep,
    *,
    scenario="R0",
    seed=0,
    alphas=DEFAULT_ALPHAS,
    folds=5,
    seeds=3,
    max_iter=500,
    n_init=20,
    rule="1se-k",
    cd_max_iter=5000,
    cd_tol=1e-6,
    balance="gradient",
    cd_tol_grid=None,
    sim_params=None,
):
    """One replicate: simulate, split 70/30, select by CV on the training part, refit, score.

    ``sim_params`` overrides entries of the scenario (e.g. a smaller design for tests).
    Returns one dict per method (keys :data:`COLUMNS`), in the order of :data:`METHODS`.
    """
    sim_seed, split_seed, fit_seed = replicate_seeds(seed, rep)
    alphas = sorted({0.0, *map(float, alphas)})
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarnings of capped quick runs
        sim = simulate_desurv(
            **{**SIMULATION_SCENARIOS[scenario], **(sim_params or {})}, random_state=sim_seed
        )
        X, y = sim.X, sim.y
        tr, te = train_test_split(
            np.arange(X.shape[0]), test_size=0.3, stratify=y["event"], random_state=split_seed
        )
        Xtr, ytr, Xte, yte = X.iloc[tr], y[tr], X.iloc[te], y[te]
        k_true = sim.W.shape[1]
        ks = [k_true, k_true + 1]
        lethal = int(np.argmax(np.abs(sim.beta)))
        base = {
            "scenario": scenario,
            "replicate": rep,
            "sim_seed": sim_seed,
            "n_train": len(tr),
            "n_test": len(te),
            "test_events": int(yte["event"].sum()),
        }
        rows = []

        def add(method, t0, model=None, **extra):
            row = {**base, "method": method, **extra}
            if model is not None:
                row["test_cindex"] = float(model.score(Xte, yte))
                if hasattr(model, "W_"):
                    row.update(
                        lethal_program_recovery(sim.W, model.W_, lethal, sim.survival_genes[lethal])
                    )
            row["seconds"] = time.perf_counter() - t0
            rows.append({c: row.get(c, np.nan) for c in COLUMNS})

        # 1. DeSurv: CV over k x α on the training part, refit
        t0 = time.perf_counter()
        cv = DeSurvCV(
            {"n_components": ks, "alpha": alphas},
            n_folds=folds,
            n_seeds=seeds,
            rule=rule,
            refit_n_init=n_init,
            max_iter=max_iter,
            balance=balance,
            random_state=fit_seed,
            n_jobs=1,
        ).fit(Xtr, ytr)
        p = cv.best_params_
        add("desurv", t0, cv.best_estimator_, n_components=p["n_components"],
            alpha=p["alpha"], cv_cindex=cv.best_score_)  # fmt: skip

        # 2. the paper's baseline: the α = 0 column of the same CV, NMF by multiplicative updates
        t0 = time.perf_counter()
        s0 = cv.cv_summary_[cv.cv_summary_["alpha"] == 0.0]
        p0, i0 = select_config(s0, rule)
        mu = NMFCox(
            n_components=p0["n_components"], penalty=p0["penalty"], l1_ratio=p0["l1_ratio"],
            n_init=n_init, max_iter=max_iter, random_state=fit_seed, solver="mu",
        ).fit(Xtr, ytr)  # fmt: skip
        add("nmfcox_mu", t0, mu, n_components=p0["n_components"], alpha=0.0,
            cv_cindex=float(s0.at[i0, "mean_cindex"]))  # fmt: skip

        # 3. the converged baseline: coordinate-descent NMF, k by CV on the same folds
        t0 = time.perf_counter()
        k_cd, cd_summary = select_n_components(
            NMFCox(solver="cd", cd_max_iter=cd_max_iter, cd_tol=cd_tol, random_state=fit_seed),
            Xtr, ytr, ks, cv.folds_, rule=rule,
        )  # fmt: skip
        cv_cd = float(cd_summary.loc[cd_summary["n_components"] == k_cd, "mean_cindex"].iloc[0])
        cd = NMFCox(
            n_components=k_cd, solver="cd", cd_max_iter=cd_max_iter, cd_tol=cd_tol,
            random_state=fit_seed,
        ).fit(Xtr, ytr)  # fmt: skip
        add("nmfcox_cd", t0, cd, n_components=k_cd, alpha=0.0, cv_cindex=cv_cd)

        # 3b. optional: coordinate descent stopped early, the tolerance chosen by CV too
        if cd_tol_grid:
            t0 = time.perf_counter()
            best_cv = (-np.inf, None, None)
            for tol in cd_tol_grid:
                k_t, summ = select_n_components(
                    NMFCox(solver="cd", cd_max_iter=cd_max_iter, cd_tol=tol,
                           random_state=fit_seed),
                    Xtr, ytr, ks, cv.folds_, rule=rule,
                )  # fmt: skip
                c_t = float(summ.loc[summ["n_components"] == k_t, "mean_cindex"].iloc[0])
                if c_t > best_cv[0]:
                    best_cv = (c_t, k_t, tol)
            c_t, k_t, tol = best_cv
            es = NMFCox(
                n_components=k_t, solver="cd", cd_max_iter=cd_max_iter, cd_tol=tol,
                random_state=fit_seed,
            ).fit(Xtr, ytr)  # fmt: skip
            add("nmfcox_cd_cv", t0, es, n_components=k_t, alpha=0.0, cv_cindex=c_t,
                cd_tol=tol)  # fmt: skip

        # 4. CoxNet on all genes, λ by its internal CV on the same folds
        t0 = time.perf_counter()
        coxnet = CoxNet(l1_ratio=0.5, cv=cv.folds_, random_state=fit_seed).fit(Xtr, ytr)
        add("coxnet", t0, coxnet)

        # 5a. the ceiling of every projection model η = XᵀWβ: the TRUE programs W (unit
        # columns) with the same Cox step on the training part, scored on the test part
        t0 = time.perf_counter()
        W_true = sim.W / np.linalg.norm(sim.W, axis=0)
        beta_o, *_ = cox_refit(
            Xtr.to_numpy().T, ytr["time"], ytr["event"], W_true, penalty=0.1, l1_ratio=0.5
        )
        c_o = concordance_index(yte["time"], yte["event"], Xte.to_numpy() @ W_true @ beta_o)
        add("oracle_w", t0, test_cindex=float(c_o), n_components=k_true)

        # 5b. the ceiling: the true linear predictor on the test part
        t0 = time.perf_counter()
        c_true = concordance_index(yte["time"], yte["event"], sim.linear_predictor[te])
        add("true_lp", t0, test_cindex=float(c_true))
    return rows


def _median_iqr(s):
    s = s.dropna()
    if s.empty:
        return "-"
    q1, q2, q3 = np.quantile(s, [0.25, 0.5, 0.75])
    return f"{q2:.3f} [{q1:.3f}, {q3:.3f}]"


def summarize(df):
    """Per method: median [IQR] of test C and precision, and DeSurv's wins (printed)."""
    wide = df.pivot(index="replicate", columns="method", values="test_cindex")
    n = len(wide)
    print(f"\nsummary over {n} replicates (median [IQR]; wins = replicates where DeSurv's "
          f"test C is higher, ties apart):")  # fmt: skip
    print(f"  {'method':<10}{'test C':>24}{'precision':>24}{'precision (loading)':>24}"
          f"{'DeSurv wins':>14}")  # fmt: skip
    for m in [m for m in METHODS if m in set(df["method"])]:
        d = df[df["method"] == m]
        if m == "desurv":
            wins = "-"
        else:
            diff = wide["desurv"] - wide[m]
            wins = f"{int((diff > 0).sum())}/{n}"
            if (diff == 0).any():
                wins += f" ({int((diff == 0).sum())} ties)"
        print(f"  {m:<10}{_median_iqr(d['test_cindex']):>24}{_median_iqr(d['precision']):>24}"
              f"{_median_iqr(d['precision_loading']):>24}{wins:>14}")  # fmt: skip
    for m in ("desurv", "nmfcox_mu", "nmfcox_cd", "nmfcox_cd_cv"):
        d = df[df["method"] == m]
        if d.empty:
            continue
        if m == "nmfcox_cd_cv":
            picks = d.groupby(["n_components", "cd_tol"]).size()
            text = ", ".join(f"(k={int(k)}, cd_tol={t:g}) x{c}" for (k, t), c in picks.items())
        else:
            picks = d.groupby(["n_components", "alpha"]).size()
            text = ", ".join(f"(k={int(k)}, α={a:g}) x{c}" for (k, a), c in picks.items())
        print(f"  selected by {m}: {text}")


def _overrides(parser, items):
    """``--set NAME=VALUE`` pairs as a dict of simulate_desurv parameters."""
    import ast
    import inspect

    known = set(inspect.signature(simulate_desurv).parameters) - {"random_state"}
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in known:
            parser.error(f"--set {item}: expected NAME=VALUE with NAME one of {sorted(known)}")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parser.error(f"--set {item}: VALUE must be a Python literal (number, tuple, ...)")
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenario",
        default="R0",
        choices=sorted(SIMULATION_SCENARIOS),
        help="key of desurv.datasets.SIMULATION_SCENARIOS (default R0)",
    )
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=1, help="replicates in parallel")
    parser.add_argument("--seed", type=int, default=0, help="master seed")
    parser.add_argument("--out", default=None, help="tidy CSV, one row per (replicate, method)")
    parser.add_argument(
        "--alphas",
        type=float,
        nargs="+",
        default=list(DEFAULT_ALPHAS),
        help="α grid of DeSurv's CV (0 is always added)",
    )
    parser.add_argument("--folds", type=int, default=5, help="CV folds")
    parser.add_argument("--seeds", type=int, default=3, help="random starts per CV fit")
    parser.add_argument("--max-iter", type=int, default=500, help="DeSurv / MU iterations")
    parser.add_argument("--n-init", type=int, default=20, help="random starts of the refits")
    parser.add_argument("--rule", default="1se-k", choices=("1se-k", "max", "1se"))
    parser.add_argument("--cd-max-iter", type=int, default=5000, help="coordinate-descent cap")
    parser.add_argument("--cd-tol", type=float, default=1e-6, help="coordinate-descent tolerance")
    parser.add_argument(
        "--cd-tol-grid",
        type=float,
        nargs="+",
        default=None,
        help="also fit NMF+Cox by coordinate descent stopped early, cd_tol and k chosen "
        "together by CV on the same folds (method nmfcox_cd_cv), e.g. 1e-2 1e-4 1e-6",
    )
    parser.add_argument(
        "--balance",
        default="gradient",
        choices=("gradient", "numerator"),
        help="DeSurv's balancing of the survival push (fit_desurv's balance)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a simulate_desurv parameter of the scenario, e.g. --set h_scale=0.5 "
        "(VALUE is read as a Python literal)",
    )
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    print("command: python " + shlex.join([sys.argv[0], *argv]), flush=True)
    options = dict(
        scenario=args.scenario, seed=args.seed, alphas=args.alphas, folds=args.folds,
        seeds=args.seeds, max_iter=args.max_iter, n_init=args.n_init, rule=args.rule,
        cd_max_iter=args.cd_max_iter, cd_tol=args.cd_tol, balance=args.balance,
        cd_tol_grid=args.cd_tol_grid,
        sim_params=_overrides(parser, args.set),
    )  # fmt: skip
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(run_replicate)(rep, **options) for rep in range(args.replicates)
    )
    rows = []
    for rep_rows in results:
        rows.extend(rep_rows)
        r = {row["method"]: row for row in rep_rows}
        print(
            f"replicate {rep_rows[0]['replicate']}: test C "
            + "  ".join(f"{m} {r[m]['test_cindex']:.3f}" for m in METHODS if m in r)
            + "  | precision "
            + "  ".join(f"{m} {r[m]['precision']:.2f}" for m in METHODS[:3])
            + f"  ({sum(row['seconds'] for row in rep_rows):.0f} s)",
            flush=True,
        )
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    summarize(df)
    if args.out:
        df.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    print(f"elapsed {time.perf_counter() - start:.0f} s (wall)")


if __name__ == "__main__":
    main()
