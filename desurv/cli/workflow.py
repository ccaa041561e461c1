"""The workflow commands of the ``desurv`` command line: ``cv``, ``validate``, ``report``.

Kept apart from :mod:`desurv.cli` (single fits) so each module stays small; the parser and
the error handling live in :mod:`desurv.cli`, the output-folder rules in
:mod:`desurv._output` (``--out`` is checked before any work; ``--overwrite`` replaces only an
earlier desurv result).

``cv`` fits every α of a path from cold random starts by default (``--warm-start none``):
on rank data an ascending warm start from α = 0 stops each α > 0 fit after a few iterations
at the NMF solution, so every α reproduces α = 0. ``--warm-start ascending|descending``
keeps the path warm starts of the authors' package. ``report`` writes one HTML file (by
default ``RUN_DIR/report.html``, only into a desurv run folder, i.e. one holding
``desurv_run.json``; elsewhere ``--out FILE.html`` is required); an existing file is
replaced only with ``--overwrite`` and only if it is a report desurv wrote. Warnings raised
while building the report are printed as ``desurv: warning: ...`` lines.

``cv --unlabeled FILE`` (semi-supervised DeSurv, as ``fit --unlabeled``): the folds are
built on the samples with survival, every training part and the refit also get the
unlabelled samples, and the C-index is computed on labelled samples only. ``validate`` has
no such option: it scores a fitted model on cohorts with survival, where unlabelled samples
have nothing to contribute.
"""

from __future__ import annotations

import json
import sys
import time as _time
import warnings
from pathlib import Path

from desurv.cli._common import _acceleration_arg, _balance_arg, _gene_set_args
from desurv.cli.fit import add_unlabeled_argument


def _floats(text):
    try:
        return float(text)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _jobs(text):
    """``--jobs``: a positive number of workers, or -1 for all cores."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of workers or -1 for all cores, got {value}"
        )
    return value


# ``cv --rule``: the rules of desurv.model_selection.select_config, its default first (spelled
# out so that ``desurv --help`` does not import the model-selection stack; a test checks that
# they agree)
_RULE_CHOICES = ("1se-k", "max", "1se")

# the real-valued grids of ``cv``: flag, default, metavar, what the values are, default shown
_REAL_GRIDS = (
    ("--alpha", [0.0, 0.25, 0.5, 0.75, 0.9], "A", "alpha in [0, 1)", "0 .25 .5 .75 .9"),
    ("--penalty", [0.1], "L", "lambda", "0.1"),
    ("--l1-ratio", [0.5], "XI", "xi", "0.5"),
    ("--penalty-w", [0.0], "LW", "lambda_W, ridge penalty on W", "0"),
    ("--penalty-h", [0.0], "LH", "lambda_H, ridge penalty on H", "0"),
)


def add_parsers(sub, positive_int):
    """Register ``cv``, ``validate`` and ``report`` on the sub-parser collection ``sub``."""
    cv = sub.add_parser(
        "cv",
        help="cross-validate k, alpha, lambda (grid) and refit the chosen model",
        description="Cross-validate DeSurv on one or more training cohorts (folds stratified "
        "by event and cohort, several random starts, cold starts for every alpha unless "
        "--warm-start is given), select with --rule (default 1se-k: alpha by the maximum, "
        "the one-SE rule on k only), refit on all samples, and "
        "write tables, figures and the model to --out.",
    )
    _cohort_args(cv)
    cv.add_argument(
        "--k",
        type=positive_int,
        nargs="+",
        default=[2, 3, 4, 5],
        metavar="K",
        help="values of k (default 2 3 4 5)",
    )
    for flag, default, metavar, what, shown in _REAL_GRIDS:
        cv.add_argument(
            flag,
            type=_floats,
            nargs="+",
            default=list(default),
            metavar=metavar,
            help=f"values of {what} (default {shown})",
        )
    cv.add_argument("--folds", type=positive_int, default=5, help="CV folds (default 5)")
    cv.add_argument(
        "--seeds", type=positive_int, default=3, help="random starts per fold (default 3)"
    )
    cv.add_argument(
        "--rule",
        choices=_RULE_CHOICES,
        default=_RULE_CHOICES[0],
        help="selection rule: 1se-k = for each k the best alpha, lambda, ... by mean C-index, "
        "then the smallest k within one SE of the best (default; the DeSurv authors' rule); "
        "max = the best mean C-index; 1se = the smallest k, then the smallest alpha, within "
        "one SE of the best (on a CV curve flat in alpha this always picks alpha=0, i.e. NMF "
        "followed by Cox)",
    )
    cv.add_argument(
        "--genes",
        type=positive_int,
        default=None,
        metavar="N",
        help="gene filter: top N genes per cohort, intersected",
    )
    _gene_set_args(cv, "validated on")
    add_unlabeled_argument(cv)
    cv.add_argument(
        "--in-fold-preprocessing",
        action="store_true",
        help="learn the gene filter inside each training fold (default: once on "
        "all training samples, as the authors' package does)",
    )
    cv.add_argument(
        "--warm-start",
        choices=("none", "ascending", "descending"),
        default="none",
        help="start of each alpha: none = cold random starts for every alpha (default); "
        "ascending/descending = from the previous alpha's solution along the path, as the "
        "authors' package (on rank data an ascending path from alpha=0 stops after a few "
        "iterations and reproduces the alpha=0 fit)",
    )
    cv.add_argument(
        "--max-iter", type=positive_int, default=500, help="iteration cap per fit (default 500)"
    )
    cv.add_argument("--tol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    _balance_arg(cv)
    _acceleration_arg(cv)
    cv.add_argument(
        "--refit-n-init",
        type=positive_int,
        default=20,
        metavar="N",
        help="random starts of the final refit on all samples (default 20)",
    )
    cv.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="parallel workers: a positive number, or -1 for all cores (default 1)",
    )
    cv.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    cv.add_argument(
        "--n-top",
        type=positive_int,
        default=20,
        metavar="N",
        help="top genes listed per factor (default 20)",
    )
    _out_args(cv)

    val = sub.add_parser(
        "validate",
        help="validate a fitted model on external cohorts (C-index, hazard ratios, KM)",
        description="Apply a model (output folder of 'desurv fit' or 'desurv cv') to one or "
        "more cohorts with survival: C-index, partial likelihood, hazard ratios per SD with "
        "95% CI (per cohort and pooled with cohort strata), Kaplan-Meier risk groups with "
        "log-rank tests, and figures.",
    )
    val.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="output folder of 'desurv fit' or 'desurv cv' (or its model.npz)",
    )
    _cohort_args(val)
    grp = val.add_mutually_exclusive_group()
    grp.add_argument(
        "--quantiles",
        type=_floats,
        nargs="+",
        default=None,
        metavar="Q",
        help="risk groups cut at these quantiles of each cohort's linear predictor (default 0.5)",
    )
    grp.add_argument(
        "--cutpoint",
        choices=("median", "maxstat"),
        default=None,
        help="risk groups cut at a point learned on the training risk scores of the model folder",
    )
    val.add_argument(
        "--fill-missing",
        type=float,
        default=None,
        metavar="VALUE",
        help="fill model genes missing from a cohort with VALUE (default: error)",
    )
    val.add_argument(
        "--score-based",
        type=positive_int,
        default=None,
        metavar="N_TOP",
        help="also evaluate the score-based predictor using each factor's N_TOP genes",
    )
    _out_args(val)

    rep = sub.add_parser(
        "report",
        help="write an HTML report of a run folder (fit, cv, validate or bench output)",
        description="Collect the figures and tables of a run folder into one self-contained "
        "HTML page. A benchmark folder (desurv bench) is shown as a benchmark: the median "
        "(q25-q75) of each metric per method and data set, failed cells, the metric plots "
        "and the run settings.",
    )
    rep.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="output folder of a desurv run (fit, cv, validate, bench)",
    )
    rep.add_argument(
        "--out",
        default=None,
        metavar="FILE.html",
        help="HTML file to write, or a folder to receive report.html (default RUN_DIR/report.html)",
    )
    rep.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing report file, only if desurv wrote it",
    )
    rep.add_argument(
        "--title", default=None, help="page title (default 'desurv report: RUN_DIR name')"
    )
    return {"cv": cmd_cv, "validate": cmd_validate, "report": cmd_report}


def _cohort_args(p):
    p.add_argument(
        "--expression",
        required=True,
        action="append",
        metavar="E.tsv[.gz]",
        help="expression TSV, genes x samples (repeat for several cohorts)",
    )
    p.add_argument(
        "--clinical",
        required=True,
        action="append",
        metavar="C.tsv",
        help="clinical TSV for each --expression, in the same order",
    )
    from desurv.cli._common import _survival_column_args

    _survival_column_args(p)


def _out_args(p):
    from desurv.cli._common import _out_args as out_args

    out_args(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars, shorter output")


def _cohort_name(path):
    name = Path(path).name
    for suffix in (".gz", ".tsv", ".txt", ".csv", ".expression"):
        name = name.removesuffix(suffix)
    return name


def _load_cohorts(args):
    from desurv.cli._common import CLIError, _load, _require_events

    if len(args.expression) != len(args.clinical):
        raise CLIError(
            f"{len(args.expression)} --expression but {len(args.clinical)} --clinical files: "
            "give one clinical file per expression file, in the same order"
        )
    cohorts = {}
    for e, c in zip(args.expression, args.clinical, strict=True):
        name = _cohort_name(e)
        if name in cohorts:
            raise CLIError(f"cohort {name!r} given twice")
        X, y, _ = _load(e, c, args.time_col, args.event_col, args.sample_col)
        _require_events(y, f"cohort {name!r} ({c})")
        cohorts[name] = (X, y)
    return cohorts


def _metadata(argv_extra=None):
    from desurv import __version__

    return {
        "command": " ".join(["desurv", *sys.argv[1:]]) if argv_extra is None else argv_extra,
        "desurv_version": __version__,
        "created": _time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _savefig(draw, path):
    """Draw a figure with ``draw(ax)`` and save it; skip with a notice without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"desurv: note: matplotlib missing, {path.name} not drawn", file=sys.stderr)
        return
    out = draw()
    fig = out if hasattr(out, "savefig") else out.figure
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def _print_warnings(caught):
    seen = set()
    for w in caught:
        msg = str(w.message)
        if msg not in seen:
            seen.add(msg)
            print(f"desurv: warning: {msg}", file=sys.stderr)


# ----------------------------------------------------------------------------- cv
def cmd_cv(args):
    import numpy as np
    import pandas as pd

    from desurv._folds import check_folds_have_events
    from desurv.cli._common import CLIError, _gene_names
    from desurv.cli.fit import (
        _check_out,
        _staged_output,
        fit_with_progress,
        read_unlabeled,
        transform_unlabeled,
    )
    from desurv.datasets import pool_cohorts
    from desurv.deconvolution.estimator import DeSurv
    from desurv.model_selection import DeSurvCV
    from desurv.preprocessing import Preprocessor
    from desurv.reporting import plots as plotting

    _check_out(args)
    cohorts = _load_cohorts(args)
    X, y, groups, dropped = pool_cohorts(cohorts)
    check_folds_have_events(y["event"], args.folds)  # before any fit
    for other in args.intersect_with:
        shared = X.columns.intersection(_gene_names(other), sort=False)
        if len(shared) == 0:
            raise CLIError(f"no training gene is present in {other}")
        dropped[f"not in {_cohort_name(other)}"] = int(X.shape[1] - len(shared))
        X = X.loc[:, shared]
    where = "the training cohort" + ("s" if len(cohorts) > 1 else "")
    U, notes = read_unlabeled(args.unlabeled, X, where)
    for note in notes:
        print(f"desurv: note: {note}", file=sys.stderr)
    grid = {
        "n_components": args.k,
        "alpha": args.alpha,
        "penalty": args.penalty,
        "l1_ratio": args.l1_ratio,
        "penalty_w": args.penalty_w,
        "penalty_h": args.penalty_h,
    }
    pre = Preprocessor(transform=args.transform, n_genes=args.genes)
    multi = len(cohorts) > 1
    # the gene filter is learned on the labelled samples (in each fold or once) and applied
    # to the unlabelled ones
    if args.in_fold_preprocessing:
        X_in, U_in, in_fold = X, U, pre
    else:
        pre.fit(X, groups=groups if multi else None)
        X_in, in_fold = pre.transform(X), None
        U_in = None if U is None else transform_unlabeled(pre, U)
    if not args.quiet:
        n_ev = int(y["event"].sum())
        genes = "in-fold filter" if in_fold is not None else f"{X_in.shape[1]} genes"
        print(
            f"cross-validating DeSurv: {len(cohorts)} cohort(s) {list(cohorts)}, "
            f"{X.shape[0]} samples, {n_ev} events, {genes}"
            + (f" (genes not shared, dropped: {dropped})" if multi else "")
            + ("" if U is None else f", + {U.shape[0]} unlabelled samples in every training part")
            + f"; {args.folds} folds x {args.seeds} seeds",
            file=sys.stderr,
        )
    cv = DeSurvCV(
        grid,
        n_folds=args.folds,
        n_seeds=args.seeds,
        rule=args.rule,
        refit_n_init=args.refit_n_init,
        preprocessor=in_fold,
        warm_start=False if args.warm_start == "none" else args.warm_start,
        max_iter=args.max_iter,
        tol=args.tol,
        balance=args.balance,
        acceleration=args.acceleration,
        random_state=args.seed,
        n_jobs=args.jobs,
        progress=not args.quiet,
        refit=False,  # refitted below, with a progress bar
    )
    start = _time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cv.fit(X_in, y, groups=groups if multi else None, X_unlabeled=U_in)
        # the refit DeSurvCV would do (same estimator and seed), with progress bars
        if in_fold is not None:
            pre.fit(X, groups=groups if multi else None)
            X_in = pre.transform(X)
            U_in = None if U is None else transform_unlabeled(pre, U)
        cv.preprocessor_ = pre
        model = DeSurv(
            **cv.best_params_,
            n_init=args.refit_n_init,
            max_iter=args.max_iter,
            tol=args.tol,
            ties=cv.ties,
            loss_convention=cv.loss_convention,
            balance=cv.balance,
            acceleration=cv.acceleration,
            random_state=args.seed,
            n_threads=1,
        )
        if not args.quiet:
            unl = "" if U is None else f" (+ {U.shape[0]} unlabelled)"
            print(f"refitting the selected configuration on all {X.shape[0]} samples{unl}",
                  file=sys.stderr)  # fmt: skip
        cv.best_estimator_ = fit_with_progress(model, X_in, y, U_in, enabled=not args.quiet)
    elapsed = _time.perf_counter() - start
    _print_warnings(caught)
    Xt = X_in
    eta = model.predict(Xt)

    with _staged_output(args) as tmp:
        cv.save(tmp)
        model.top_genes(args.n_top).to_csv(tmp / "top_genes.csv", index=False)
        model.summary().to_csv(tmp / "summary.csv")
        risk = pd.DataFrame(
            {
                "cohort": groups,
                "sample": np.asarray(X.index),
                "linear_predictor": eta,
                "time": y["time"],
                "event": y["event"].astype(int),
            }
        )
        risk.to_csv(tmp / "risk_scores.csv", index=False)
        if U_in is not None:
            eta_u = model.predict(U_in)
            pd.DataFrame({"sample": np.asarray(U.index), "linear_predictor": eta_u}).to_csv(
                tmp / "risk_scores_unlabeled.csv", index=False
            )
        meta = _metadata(getattr(args, "command_line", None))
        meta.update(
            {
                "cohorts": {n: int(c[0].shape[0]) for n, c in cohorts.items()},
                "genes_not_shared": dropped,
                "n_genes_used": int(Xt.shape[1]),
                "in_fold_preprocessing": bool(args.in_fold_preprocessing),
                "cv_seconds": elapsed,
                "n_fits": len(cv.cv_results_),
            }
        )
        if U is not None:  # semi-supervised: every training part and the refit saw them
            meta.update({"n_unlabeled": int(U.shape[0]), "unlabeled": list(args.unlabeled)})
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=1, default=str))
        summary = cv.cv_summary_
        _savefig(lambda: plotting.plot_cv_heatmap(summary), tmp / "cv_heatmap.png")
        _savefig(lambda: plotting.plot_cindex_vs_alpha(summary), tmp / "cv_cindex_vs_alpha.png")
        names = getattr(model, "feature_names_in_", None)
        _savefig(lambda: plotting.plot_gene_programs(model.W_, names), tmp / "gene_programs.png")

    best = cv.best_params_
    row = cv.cv_summary_.loc[cv.best_index_]
    print(f"{len(cv.cv_results_)} fits in {elapsed:.1f} s")
    print(
        f"selected ({args.rule}): k={best['n_components']}, alpha={best['alpha']:g}, "
        f"lambda={best['penalty']:g}, xi={best['l1_ratio']:g}: "
        f"CV C-index {row['mean_cindex']:.4f} +/- {row['se_cindex']:.4f} (SE)"
    )
    top = cv.cv_summary_.sort_values("mean_cindex", ascending=False).head(5)
    cols = ["n_components", "alpha", "penalty", "l1_ratio", "mean_cindex", "se_cindex"]
    print("best configurations:\n" + top[cols].to_string(index=False, float_format="%.4f"))
    print(f"results written to {args.out}")
    return 0


# ----------------------------------------------------------------------------- report
def cmd_report(args):
    from desurv import _output
    from desurv.cli._common import CLIError

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        what = "is not a folder" if run_dir.exists() else "does not exist"
        raise CLIError(f"run folder {run_dir} {what}")
    if args.out is None and _output.read_manifest(run_dir) is None:
        raise CLIError(
            f"{run_dir} is not a desurv run folder (no {_output.MANIFEST}); pass "
            "--out FILE.html to write the report elsewhere"
        )
    given = Path(args.out) if args.out is not None else run_dir / "report.html"
    target = _output.check_output_file(given, overwrite=args.overwrite)
    shown = given / target.name if given.is_dir() else given
    from desurv.reporting.html import write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = write_report(run_dir, target, title=args.title)
        except OSError as exc:  # name the user's file, not the temporary one beside it
            _print_warnings(caught)
            raise CLIError(f"cannot write {shown}: {exc.strerror or exc}") from None
    _print_warnings(caught)
    # write_report uses a private temporary file (0600): give it the umask's permissions
    out.chmod(0o666 & ~_output.current_umask())
    if out.resolve().parent == run_dir.resolve():
        _output.record_file(run_dir, out.name)  # an --overwrite of the run keeps working
    print(f"report written to {shown}")
    return 0


# ----------------------------------------------------------------------------- validate
def _training_risk(model_dir):
    """Training linear predictor, time and event saved next to the model (cv or fit output)."""
    import pandas as pd

    for name, sep in (("risk_scores.csv", ","), ("risk_scores.tsv", "\t")):
        path = model_dir / name
        if path.is_file():
            table = pd.read_csv(path, sep=sep)
            if {"linear_predictor", "time", "event"} <= set(table.columns):
                return table
    return None


def cmd_validate(args):
    from desurv.cli._common import (
        CLIError,
        _check_out,
        _missing_genes_hint,
        _model_path,
        _staged_output,
    )
    from desurv.deconvolution.loading import load_model
    from desurv.evaluation import ScoreBasedPredictor, learn_cutpoint, validate_cohorts
    from desurv.reporting import plots as plotting

    _check_out(args)
    path = _model_path(args.model)
    if not path.is_file():
        raise CLIError(f"no model at {path} (expected the --out folder of 'desurv fit' or 'cv')")
    model = load_model(path)
    cohorts = _load_cohorts(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = validate_cohorts(model, cohorts, fill_value=args.fill_missing)
        except ValueError as exc:
            raise CLIError(_missing_genes_hint(str(exc))) from None
        cut_info = None
        if args.cutpoint is not None:
            train = _training_risk(path.parent)
            if train is None:
                raise CLIError(
                    f"--cutpoint needs the training risk scores (risk_scores.csv/tsv with "
                    f"linear_predictor, time, event) next to {path}"
                )
            eta_tr = train["linear_predictor"].to_numpy()
            cut = learn_cutpoint(
                eta_tr, train["time"].to_numpy(), train["event"].to_numpy(), method=args.cutpoint
            )
            km = res.survival_by_group(cutpoints=[cut], labels=["low risk", "high risk"])
            cut_info = {"method": args.cutpoint, "cutpoint": float(cut)}
        else:
            q = [0.5] if args.quantiles is None else args.quantiles
            km = res.survival_by_group(quantiles=q)
        sb = None
        if args.score_based is not None:
            sbp = ScoreBasedPredictor(model, n_top=args.score_based).fit()
            sb = validate_cohorts(sbp, cohorts).summary
    _print_warnings(caught)

    with _staged_output(args) as tmp:
        res.summary.to_csv(tmp / "validation_summary.csv", index=False)
        res.hazard_ratios.to_csv(tmp / "hazard_ratios.csv", index=False)
        res.risk.to_csv(tmp / "risk_scores.csv", index=False)
        km.groups.to_csv(tmp / "km_summary.csv", index=False)
        km.logrank.to_csv(tmp / "logrank.csv", index=False)
        km.curves.to_csv(tmp / "km_curves.csv", index=False)
        if sb is not None:
            sb.to_csv(tmp / "score_based_summary.csv", index=False)
        meta = _metadata(getattr(args, "command_line", None))
        meta.update({"model": str(path), "cohorts": list(cohorts), "risk_groups": cut_info
                     or {"quantiles": args.quantiles or [0.5]}})  # fmt: skip
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=1, default=str))
        assigned = km.assignments
        p_by = dict(zip(km.logrank["cohort"], km.logrank["p"], strict=True))
        for name, part in assigned.groupby("cohort", sort=False):
            _savefig(
                lambda part=part, name=name: plotting.plot_kaplan_meier(
                    part["time"].to_numpy(), part["event"].to_numpy(), part["group"].array,
                    title=f"{name}: risk groups by the DeSurv linear predictor",
                    logrank_p=p_by.get(name),
                ),
                tmp / f"km_{name}.png",
            )  # fmt: skip
        hr = res.hazard_ratios
        if "model" in hr:  # η (univariable by nature) + the multivariable factor model
            hr = hr[(hr["term"] == "linear_predictor") | (hr["model"] == "multivariable")]
        _savefig(lambda: plotting.plot_forest(hr), tmp / "forest.png")

    cols = ["cohort", "n_samples", "n_events", "cindex", "hr_per_sd", "ci_lower", "ci_upper", "p"]
    print(res.summary[cols].to_string(index=False, float_format="%.4f"))
    if not args.quiet:
        lr = km.logrank[["cohort", "statistic", "p"]]
        print("log-rank (risk groups):\n" + lr.to_string(index=False, float_format="%.4g"))
        if sb is not None:
            print("score-based predictor:\n" + sb[cols].to_string(index=False, float_format="%.4f"))
    print(f"results written to {args.out}")
    return 0
