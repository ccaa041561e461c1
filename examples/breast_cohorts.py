"""The DeSurv workflow on the real breast cohorts: CV on gse4335 + gse1992, validation on gse3143.

Steps (as in the DeSurv paper's multi-cohort design):

1. Train on gse4335 and gse1992 together: genes restricted to those measured in the
   validation cohort gse3143, the DeSurv gene filter run per training cohort and
   intersected, then within-sample ranks (``Preprocessor(groups=cohort)``).
2. Cross-validate DeSurv over k × α (folds stratified by event and cohort, several random
   starts per fold, every α started cold unless ``--warm-start`` asks for warm starts
   along α), select with the authors' rule (``--rule 1se-k``, the default: α by the
   maximum, the one-standard-error rule on k) and refit on all training samples.
3. Baselines on the same preprocessed genes and the same folds:

   * NMF + Cox by multiplicative updates (the paper's baseline, DeSurv with α = 0) at the
     selected k and at the k chosen by ``--rule`` among the α = 0 column of the same CV;
   * a converged NMF + Cox, ``NMFCox(solver="cd")`` (coordinate descent from NNDSVDa, then
     the same Cox refit), k chosen on the SAME folds (``cv.folds_``) over the same k grid:
     ``desurv.model_selection.select_n_components`` (validation C per fold, mean and SE,
     ``select_config`` with ``--rule`` on that summary; one α, so ``1se-k`` = ``1se``: the
     smallest k within one SE of the best mean);
   * CoxNet (elastic-net Cox on genes, λ by CV on the same folds, 1se rule).
4. Validate every model on gse3143: C-index, hazard ratio per SD of the linear predictor
   with 95% CI and p (lifelines), Kaplan–Meier high/low risk groups with the log-rank test,
   cut at the median of the TRAINING linear predictor (a rule fixed before seeing gse3143)
   and at the within-cohort median of gse3143 (robust to a shift of η between platforms).
   The training C (on the samples the model was fitted to) is reported beside the CV C:
   a large gap flags overfitting. DeSurv also gets per-factor HRs.
5. Write tables, figures and an HTML report to ``--out``.

The α grid (``--alphas``). On within-sample ranks the NMF term is ~10⁵ and the Cox term ~3,
so α matters on a log scale of 1 − α. Checked on these training data (k = 3, λ = 0.1,
3 starts, 300 iterations; training samples only): α = 0.01 gives the α = 0 fit (training C
0.703, identical W); α = 0.1, 0.25, 0.5, 0.75, 0.9 move W away from the NMF solution (min
cosine to the α = 0 programs 0.96, 0.94, 0.92, 0.89, 0.78) and raise the training C (0.72,
0.72, 0.74, 0.78, 0.95); from α = 0.99 on the fit saturates (training C 0.996–0.998, W no
further from NMF). Hence the default ``0 0.1 0.5 0.9 0.99``: 1 − α log-spaced from 1 to
0.01, from NMF + Cox to the overfitting end (larger α only repeat α = 0.99).

Usage (defaults: 5 folds × 3 seeds, k ∈ 2–6, λ = 0.1, 500 iterations; about 1 minute on
2 cores, 375 CV fits in ~35 s)::

    python examples/breast_cohorts.py --out breast_run --jobs 2
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from desurv import DeSurv, NMFCox
from desurv.datasets import load_cohort, pool_cohorts
from desurv.evaluation import (
    evaluate_risk_score,
    learn_cutpoint,
    logrank,
    risk_groups,
    validate_cohorts,
)
from desurv.model_selection import DeSurvCV, select_config, select_n_components
from desurv.model_selection.rank import nmf_rank_survey
from desurv.preprocessing import Preprocessor
from desurv.survival.coxnet import CoxNet

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "expression"


def load(name):
    X, y, _ = load_cohort(DATA / f"{name}.expression.tsv.gz", DATA / f"{name}.clinical.tsv")
    return X, y


def km_split(eta_cut, eta_val, y_val):
    """High/low risk of validation samples at the median of ``eta_cut``; log-rank test.

    ``lr`` is None when every validation sample falls on one side of the cut (η shifted
    between platforms): no test, reported as p = NaN.
    """
    cut = learn_cutpoint(eta_cut, method="median")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DataWarning of an empty group
        g = risk_groups(eta_val, cutpoints=[cut], labels=["low risk", "high risk"])
    n_groups = len(pd.unique(np.asarray(g)))
    lr = logrank(y_val["time"], y_val["event"], g) if n_groups > 1 else None
    return g, lr, cut


def paired_bootstrap(eta, y, *, reference, n_boot=1000, seed=0):
    """C of ``reference`` minus C of every other column of ``eta``, paired over patients.

    The validation patients are resampled with replacement ``n_boot`` times; each resample
    scores every model on the same patients, so the interval is for the difference (one
    validation cohort cannot separate models whose difference is inside it).
    """
    from desurv import concordance_index

    rng = np.random.default_rng(seed)
    t, e = np.asarray(y["time"]), np.asarray(y["event"])
    n = len(t)
    diffs = {m: [] for m in eta.columns if m != reference}
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if e[idx].sum() < 2:
            continue
        c_ref = concordance_index(t[idx], e[idx], eta[reference].to_numpy()[idx])
        for m in diffs:
            diffs[m].append(c_ref - concordance_index(t[idx], e[idx], eta[m].to_numpy()[idx]))
    rows = []
    for m, d in diffs.items():
        d = np.asarray(d)
        full = concordance_index(t, e, eta[reference].to_numpy()) - concordance_index(
            t, e, eta[m].to_numpy()
        )
        lo, hi = np.quantile(d, [0.025, 0.975])
        rows.append({"reference": reference, "other": m, "delta_c": full, "ci_lower": lo,
                     "ci_upper": hi, "share_positive": float((d > 0).mean())})  # fmt: skip
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--k", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    ap.add_argument(
        "--alphas",
        "--alpha",
        dest="alpha",
        type=float,
        nargs="+",
        default=[0.0, 0.1, 0.5, 0.9, 0.99],
        help="alpha grid (default log-spaced in 1 - alpha, see the module docstring)",
    )
    ap.add_argument("--penalty", type=float, nargs="+", default=[0.1])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--warm-start",
        default="none",
        choices=("ascending", "descending", "none"),
        help="order of the alpha path (default none: cold starts; an ascending path from "
        "alpha=0 stays at the NMF solution on rank data)",
    )
    ap.add_argument("--rule", default="1se-k", choices=("1se-k", "1se", "max"))
    ap.add_argument("--max-iter", type=int, default=500)
    ap.add_argument("--cd-max-iter", type=int, default=5000, help="NMFCox(solver='cd') cap")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="breast_run")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    warm = False if args.warm_start == "none" else args.warm_start
    t_start = time.perf_counter()

    # 1. data
    train = {name: load(name) for name in ("gse4335", "gse1992")}
    X3, y3 = load("gse3143")
    X, y, groups, dropped = pool_cohorts(train)
    X = X.loc[:, X.columns.intersection(X3.columns, sort=False)]
    pre = Preprocessor("rank", n_genes=args.genes).fit(X, groups=groups)
    Xt, X3t = pre.transform(X), pre.transform(X3)
    print(
        f"training: {X.shape[0]} samples ({pd.Series(groups).value_counts(sort=False).to_dict()}), "
        f"{int(y['event'].sum())} events; {Xt.shape[1]} genes after the per-cohort filter "
        f"(top {args.genes}) and intersection with gse3143; validation gse3143: "
        f"{X3.shape[0]} samples, {int(y3['event'].sum())} events",
        flush=True,
    )

    # 2. DeSurv CV
    grid = {"n_components": args.k, "alpha": args.alpha, "penalty": args.penalty}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        cv = DeSurvCV(
            grid, n_folds=args.folds, n_seeds=args.seeds, rule=args.rule, warm_start=warm,
            max_iter=args.max_iter, random_state=args.seed, n_jobs=args.jobs,
        ).fit(Xt, y, groups=groups)  # fmt: skip
        t_cv = time.perf_counter() - t0
    cv.preprocessor_ = pre
    best = cv.best_params_
    print(
        f"CV: {len(cv.cv_results_)} fits in {t_cv:.0f} s; selected ({args.rule}) "
        f"k={best['n_components']} alpha={best['alpha']} lambda={best['penalty']}: "
        f"CV C {cv.best_score_:.4f}",
        flush=True,
    )
    summary = cv.cv_summary_
    nmf_rows = summary[summary["alpha"] == 0.0].reset_index(drop=True)
    nmf_params, _ = select_config(nmf_rows, args.rule)

    # 3. baselines
    def refit_nmf(k, penalty):
        m = DeSurv(n_components=k, alpha=0.0, penalty=penalty, n_init=20,
                   max_iter=args.max_iter, random_state=args.seed)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.fit(Xt, y)

    def cv_of(rows, k):
        return float(rows.loc[rows["n_components"] == k, "mean_cindex"].iloc[0])

    k_best, k_nmf = best["n_components"], nmf_params["n_components"]
    models = {
        f"DeSurv (k={k_best}, alpha={best['alpha']:g})": (cv.best_estimator_, cv.best_score_),
        f"NMF+Cox MU (same k={k_best})": (
            refit_nmf(k_best, best["penalty"]),
            cv_of(nmf_rows[nmf_rows["penalty"] == best["penalty"]], k_best),
        ),
        f"NMF+Cox MU (CV k={k_nmf})": (
            refit_nmf(k_nmf, nmf_params["penalty"]),
            cv_of(nmf_rows[nmf_rows["penalty"] == nmf_params["penalty"]], k_nmf),
        ),
    }
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_cd, cd_summary = select_n_components(
            NMFCox(
                penalty=best["penalty"], solver="cd", cd_max_iter=args.cd_max_iter,
                random_state=args.seed,
            ),
            Xt, y, args.k, np.asarray(cv.folds_), rule=args.rule,
        )  # fmt: skip
        cd_cv = float(cd_summary.loc[cd_summary["n_components"] == k_cd, "mean_cindex"].iloc[0])
        cd_model = NMFCox(
            n_components=k_cd, penalty=best["penalty"], solver="cd",
            cd_max_iter=args.cd_max_iter, random_state=args.seed,
        ).fit(Xt, y)  # fmt: skip
    cd_summary.to_csv(out / "nmfcox_cd_cv_summary.csv", index=False)
    print(
        f"NMF+Cox CD: CV over k in {time.perf_counter() - t0:.0f} s, selected ({args.rule}) "
        f"k={k_cd}: CV C {cd_cv:.4f}",
        flush=True,
    )
    models[f"NMF+Cox CD (CV k={k_cd})"] = (cd_model, cd_cv)
    t0 = time.perf_counter()
    coxnet = CoxNet(l1_ratio=0.5, cv=cv.folds_, rule="1se")  # the DeSurv CV folds
    coxnet.fit(Xt, y, groups=groups)
    t_coxnet = time.perf_counter() - t0
    same_folds = np.array_equal(coxnet.folds_, cv.folds_)
    n_genes_coxnet = int(np.count_nonzero(coxnet.coef_))
    print(
        f"CoxNet: lambda={coxnet.alpha_:.4g} (1se), {n_genes_coxnet} genes with nonzero "
        f"coefficients, {t_coxnet:.1f} s; same folds as DeSurv CV: {same_folds}",
        flush=True,
    )

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = nmf_rank_survey(Xt, args.k, n_runs=10, random_state=args.seed, n_jobs=args.jobs)
    survey.to_csv(out / "nmf_rank_metrics.csv", index=False)
    print(f"NMF rank survey ({time.perf_counter() - t0:.0f} s):")
    print(survey.to_string(index=False, float_format="%.4g"), flush=True)

    # 4. validation on gse3143
    rows, km = [], {}
    etas = {name: (m.predict(Xt), m.predict(X3t), c) for name, (m, c) in models.items()}
    etas[f"CoxNet (lambda={coxnet.alpha_:.3g}, {n_genes_coxnet} genes)"] = (
        coxnet.predict(Xt),
        coxnet.predict(X3t),
        np.nan,  # CoxNet's CV curve is over λ on the same folds, not comparable per se
    )
    for name, (eta_tr, eta_va, cv_c) in etas.items():
        row = evaluate_risk_score(eta_va, y3["time"], y3["event"], name="gse3143")
        g, lr, _ = km_split(eta_tr, eta_va, y3)
        g_in, lr_in, _ = km_split(eta_va, eta_va, y3)
        row = {
            "method": name,
            **row,
            "cv_cindex": cv_c,
            "train_cindex": evaluate_risk_score(eta_tr, y["time"], y["event"])["cindex"],
            "km_p_train_median": lr.p if lr is not None else np.nan,
            "km_n_high": int((np.asarray(g) == "high risk").sum()),
            "km_p_val_median": lr_in.p,
        }
        rows.append(row)
        if lr is not None:
            km[name] = (g, lr)
        km[f"{name} [within-cohort median]"] = (g_in, lr_in)
    comparison = pd.DataFrame(rows)
    comparison.to_csv(out / "comparison.csv", index=False)
    eta_val = pd.DataFrame({name: e[1] for name, e in etas.items()}, index=X3.index)
    eta_val.to_csv(out / "validation_eta.csv")
    paired = paired_bootstrap(eta_val, y3, reference=next(iter(etas)), seed=args.seed)
    paired.to_csv(out / "validation_paired_bootstrap.csv", index=False)
    val = validate_cohorts(cv.best_estimator_, {"gse3143": (X3, y3)})
    val.hazard_ratios.to_csv(out / "hazard_ratios.csv", index=False)
    val.summary.to_csv(out / "validation_summary.csv", index=False)
    cv.save(out)
    cv.best_estimator_.top_genes(20).to_csv(out / "top_genes.csv", index=False)
    meta = {
        "command": "python examples/breast_cohorts.py "
        + " ".join(
            f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in vars(args).items()
        ),
        "n_genes": int(Xt.shape[1]),
        "genes_not_shared": dropped,
        "cv_seconds": t_cv,
        "coxnet_seconds": t_coxnet,
        "coxnet_same_folds": bool(same_folds),
        "total_seconds": time.perf_counter() - t_start,
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=1, default=str))

    # 5. figures and report
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from desurv.reporting import plots as plotting
        from desurv.reporting.html import write_report

        def save(ax, name):
            ax.figure.savefig(out / name, dpi=150, bbox_inches="tight")
            plt.close(ax.figure)

        save(plotting.plot_cv_heatmap(summary), "cv_heatmap.png")
        save(plotting.plot_cindex_vs_alpha(summary), "cv_cindex_vs_alpha.png")
        model = cv.best_estimator_
        save(plotting.plot_gene_programs(model.W_, model.feature_names_in_), "gene_programs.png")
        hr = val.hazard_ratios
        save(plotting.plot_forest(hr, title="DeSurv on gse3143 (HR per SD)"), "forest.png")
        for i, (name, (g, lr)) in enumerate(km.items()):
            ax = plotting.plot_kaplan_meier(
                y3["time"], y3["event"], g, title=f"gse3143: {name}", logrank_p=lr.p
            )
            save(ax, f"km_{i}_{name.split(' ')[0].lower().replace('+', '_')}.png")
        write_report(out, title="DeSurv on the breast cohorts: gse4335 + gse1992 -> gse3143")
    except ImportError:
        print("matplotlib missing: figures and report skipped")

    cols = ["method", "cv_cindex", "train_cindex", "cindex", "hr_per_sd", "ci_lower",
            "ci_upper", "p", "km_p_train_median", "km_n_high", "km_p_val_median"]  # fmt: skip
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(
            f"\nvalidation on gse3143 ({X3.shape[0]} samples, {int(y3['event'].sum())} events;"
            " cindex, hr_per_sd [ci], p on gse3143; km_p_*: log-rank p of the split at the"
            " median of the training eta (km_n_high samples above it) and at the gse3143"
            " median):"
        )
        print(comparison[cols].to_string(index=False, float_format="%.4f"))
    print(
        "\npaired bootstrap on gse3143 (1,000 resamples of patients): C of the first model "
        "minus C of each other, 95% percentile interval"
    )
    print(paired.to_string(index=False, float_format="%.3f"))
    print(f"\nresults in {out} ({time.perf_counter() - t_start:.0f} s)")


if __name__ == "__main__":
    main()
