"""The ``desurv`` command line: ``fit``, ``predict``, ``demo`` (here) and ``cv``,
``validate``, ``report`` (in :mod:`desurv._cli_workflow`).

Bad input ends with one line ``desurv: error: ...`` on stderr and exit code 2, never a
traceback.

Output folders (see :mod:`desurv._output`): ``--out`` is checked before any data is read or
any model fitted. It must be new or empty; ``--overwrite`` replaces only a folder that desurv
wrote (it holds the run manifest ``desurv_run.json`` and nothing the manifest does not list),
and never ``.``, a folder above the working directory, the home folder, ``/`` or a folder
holding an input file. Results are written to a hidden staging folder that is renamed into
place only when complete and removed on any failure or Ctrl-C, so an interrupted or failed
run leaves nothing behind and never touches a previous result; files and folders get the
permissions of the user's umask.

Progress: tqdm bars on stderr (random starts where the estimator reports them, iterations of
the final run, the paths of ``cv`` and its refit). A bar appears once its first step is done
and measures its rate from there, so the first step's kernel compilation gives no absurd
ETA. ``--quiet`` turns the bars off; ``--verbose`` (``fit``) prints time-stamped lines instead.

Start-up: heavy modules (pandas, the estimator with its compiled kernels, SciPy) are
imported inside the subcommand that needs them, so ``desurv --help`` is instant and
``desurv fit`` loads only what a fit uses. ``desurv fit --verbose`` prints one line per
iteration on stderr with the seconds since the process started (see :class:`_Clock`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time as _time
import warnings
from pathlib import Path

from desurv import _output
from desurv._progress import Progress as _Progress

# origin of the --verbose clock where /proc is not available (only the standard library,
# a few milliseconds, is imported above; numpy, pandas and desurv's modules come later)
_T_IMPORT = _time.perf_counter()

EXIT_USAGE = 2


class CLIError(Exception):
    """An error reported to the user as one line with exit code 2."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line ``desurv CMD: error: ... (see desurv CMD --help)``, exit 2
    (argparse would print the whole usage block first)."""

    def error(self, message):
        message = " ".join(str(message).split())
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _build_parser():
    parser = _Parser(
        prog="desurv",
        description="Survival-driven deconvolution: gene programs that explain survival.",
    )
    from desurv import __version__

    parser.add_argument("--version", action="version", version=f"desurv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    fit = sub.add_parser(
        "fit",
        help="fit DeSurv on an expression cohort with survival",
        description="Fit DeSurv (NMF + elastic-net Cox) and write the gene programs, "
        "coefficients, risk scores, loss history and the fitted model to --out.",
    )
    fit.add_argument(
        "--expression",
        required=True,
        metavar="E.tsv[.gz]",
        help="expression TSV, genes x samples, first column = gene symbol",
    )
    fit.add_argument(
        "--clinical",
        required=True,
        metavar="C.tsv",
        help="clinical TSV with columns sample, time, event",
    )
    fit.add_argument(
        "--n-components",
        "-k",
        required=True,
        type=_positive_int,
        metavar="K",
        help="number of gene programs k",
    )
    fit.add_argument(
        "--alpha",
        type=float,
        default=0.5,
        help="alpha, weight of the Cox term in [0, 1) (default 0.5)",
    )
    fit.add_argument(
        "--penalty",
        type=float,
        default=0.1,
        help="lambda, elastic-net strength on beta (default 0.1)",
    )
    fit.add_argument(
        "--l1-ratio", type=float, default=0.5, help="xi, elastic-net mixing in [0, 1] (default 0.5)"
    )
    fit.add_argument("--penalty-w", type=float, default=0.0, help="lambda_W (default 0)")
    fit.add_argument("--penalty-h", type=float, default=0.0, help="lambda_H (default 0)")
    fit.add_argument(
        "--genes",
        type=_positive_int,
        default=None,
        metavar="N",
        help="keep the top N genes (combined rank of mean and variance)",
    )
    fit.add_argument(
        "--intersect-with",
        action="append",
        default=[],
        metavar="E2.tsv[.gz]",
        help="keep only genes also present in this expression file (repeatable), "
        "so that the model can be applied to that cohort",
    )
    fit.add_argument(
        "--transform",
        choices=("rank", "none"),
        default="rank",
        help="within-sample transform (default rank)",
    )
    fit.add_argument(
        "--n-init", type=_positive_int, default=20, help="short random starts (default 20)"
    )
    fit.add_argument(
        "--max-iter", type=_positive_int, default=1000, help="iteration cap (default 1000)"
    )
    fit.add_argument("--tol", type=float, default=1e-6, help="relative tolerance (default 1e-6)")
    fit.add_argument(
        "--ties",
        choices=("breslow", "efron"),
        default="breslow",
        help="handling of tied event times in the Cox partial likelihood (default breslow)",
    )
    fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    fit.add_argument("--threads", type=_positive_int, default=1, help="BLAS threads (default 1)")
    fit.add_argument(
        "--n-top", type=_positive_int, default=20, help="top genes listed per factor (default 20)"
    )
    _survival_column_args(fit)
    _out_args(fit)
    fit.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bars and no start-up line"
    )
    fit.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="instead of the progress bar, print the stages and one line per iteration of "
        "the final run on stderr, each with the seconds since the process started",
    )

    pred = sub.add_parser(
        "predict",
        help="apply a fitted model to a new cohort",
        description="Apply the model's preprocessing and write risk scores; with "
        "--clinical also the concordance index.",
    )
    pred.add_argument(
        "--model",
        required=True,
        metavar="DIR",
        help="output folder of 'desurv fit' (or its model.npz)",
    )
    pred.add_argument(
        "--expression",
        required=True,
        metavar="E.tsv[.gz]",
        help="expression TSV of the new cohort, genes x samples, first column = gene symbol",
    )
    pred.add_argument(
        "--clinical",
        metavar="C.tsv",
        default=None,
        help="optional clinical TSV (sample, time, event): adds the validation C-index",
    )
    pred.add_argument(
        "--fill-missing",
        type=float,
        default=None,
        metavar="VALUE",
        help="fill model genes missing from the cohort with VALUE (default: error)",
    )
    _survival_column_args(pred)
    _out_args(pred)

    demo = sub.add_parser(
        "demo",
        help="fit the embedded simulated cohort and report what was recovered",
        description="Simulate a cohort with known gene programs (the DeSurv paper's "
        "simulation), fit DeSurv on a training part and report the test C-index and the "
        "cosine similarity of the recovered programs to the true ones.",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the simulation and the fit (default 0)"
    )
    demo.add_argument(
        "--n-components",
        "-k",
        type=_positive_int,
        default=3,
        metavar="K",
        help="number of gene programs k to fit (default 3; the simulation has 3)",
    )
    demo.add_argument(
        "--alpha", type=float, default=0.5, help="alpha, weight of the Cox term (default 0.5)"
    )
    demo.add_argument("--quiet", "-q", action="store_true", help="no progress bars")

    from desurv._cli_workflow import add_parsers

    add_parsers(sub, _positive_int)
    return parser


def _survival_column_args(p):
    p.add_argument(
        "--time-col",
        default="time",
        metavar="NAME",
        help="column of the clinical TSV with the follow-up time (default time)",
    )
    p.add_argument(
        "--event-col",
        default="event",
        metavar="NAME",
        help="column of the clinical TSV with the event indicator, 1 = event (default event)",
    )
    p.add_argument(
        "--sample-col",
        default="sample",
        metavar="NAME",
        help="column of the clinical TSV with the sample ids, matched to the columns of the "
        "expression file (default sample)",
    )


def _out_args(p):
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="output folder: new or empty (checked before any work starts)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out if it is the result of an earlier desurv run (it holds "
        f"{_output.MANIFEST}); other folders, '.', its parents, the home folder and "
        "folders holding an input are never replaced",
    )


# ----------------------------------------------------------------------------- helpers
def _inputs(args):
    """Paths the command reads: an output folder must never hold one of them."""
    paths = []
    for name in ("expression", "clinical", "intersect_with"):
        value = getattr(args, name, None)
        if value is None:
            continue
        paths.extend(value if isinstance(value, list) else [value])
    if getattr(args, "model", None) is not None:
        paths.append(_model_path(args.model))
    return paths


def _check_out(args):
    """Check ``--out`` before any work (see :mod:`desurv._output`)."""
    _output.check_output_folder(args.out, overwrite=args.overwrite, inputs=_inputs(args))


def _staged_output(args, extra=None):
    """Staging folder that becomes ``args.out`` only when the block succeeds."""
    return _output.staged_output(
        args.out,
        overwrite=args.overwrite,
        inputs=_inputs(args),
        command=getattr(args, "command_line", None),
        extra=extra,
    )


def _fit_with_progress(model, X, y, *, enabled, callback=None, extra_callback=None):
    """``model.fit(X, y)`` with bars for the random starts (if the estimator reports them
    through ``fit(init_callback=...)``) and the iterations of the final run."""
    import inspect

    kwargs = {}
    starts = _Progress(model.n_init, enabled, desc="random starts", unit="start")
    if "init_callback" in inspect.signature(model.fit).parameters:
        kwargs["init_callback"] = lambda *a: starts.update(1)
    iters = _Progress(model.max_iter, enabled, desc="final run", unit="it")

    def on_iteration(it, obj):
        if starts.bar is not None:
            starts.close()
        iters(it, obj)
        if extra_callback is not None:
            extra_callback(it, obj)

    try:
        model.fit(X, y, callback=on_iteration, **kwargs)
    finally:
        starts.close()
        iters.close()
    return model


def _seconds_since_process_start():
    """Seconds since this process started (Linux ``/proc``, 10 ms resolution), or None.

    The kernel records the start in clock ticks since boot (field 22 of
    ``/proc/self/stat``, counted on the boot-time clock), so this includes the interpreter's
    own start-up and every import.
    """
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()  # the name may contain ") "
        ticks = int(fields[19])  # field 22; fields[0] is field 3 (state)
        return _time.clock_gettime(_time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _Clock:
    """Elapsed seconds since the process started, for ``--verbose`` time stamps.

    Uses :func:`_seconds_since_process_start` once and ``time.perf_counter`` afterwards;
    where ``/proc`` is not available it counts from the import of this module instead, which
    misses the interpreter start-up (~20 ms) and the import of the ``desurv`` package.
    """

    def __init__(self):
        now = _time.perf_counter()
        since_start = _seconds_since_process_start()
        self.origin_label = "process start" if since_start is not None else "start of desurv.cli"
        self.origin = now - (since_start if since_start is not None else now - _T_IMPORT)

    def __call__(self):
        return _time.perf_counter() - self.origin


class _VerboseLog:
    """``--verbose`` lines on stderr: stages, then one line per iteration of the final run.

    Format (stable, for benchmarks): ``desurv: [  1.234 s] iteration 1: objective
    1.2345678e-01`` where the bracket holds the seconds since the process started.
    """

    def __init__(self, enabled):
        self.enabled = enabled
        self.clock = _Clock() if enabled else None
        if enabled:
            self.stage(f"clock counts seconds since {self.clock.origin_label}")

    def stage(self, text):
        if self.enabled:
            print(f"desurv: [{self.clock():8.3f} s] {text}", file=sys.stderr, flush=True)

    def __call__(self, it, obj):
        self.stage(f"iteration {it}: objective {obj.loss:.8e}")


_API_COLUMN_HINT = "set time_col=/event_col=/sample_col= to the right names"
_CLI_COLUMN_HINT = "use --time-col/--event-col/--sample-col to give the right names"


def _load(expression, clinical, time_col, event_col, sample_col="sample", require_event=True):
    from desurv.datasets import load_cohort

    try:
        return load_cohort(
            expression,
            clinical,
            time_col=time_col,
            event_col=event_col,
            sample_col=sample_col,
            require_event=require_event,
        )
    except ValueError as exc:  # the API's remedy, in the options of the command line
        message = str(exc)
        if _API_COLUMN_HINT not in message:
            raise
        raise CLIError(message.replace(_API_COLUMN_HINT, _CLI_COLUMN_HINT)) from None


def _gene_names(path):
    """Gene symbols (first column) of an expression TSV, without reading the values."""
    import pandas as pd

    try:
        return pd.read_csv(path, sep="\t", usecols=[0]).iloc[:, 0].astype(str)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise CLIError(f"cannot read gene names from {path}: {exc}") from None


def _model_path(path):
    path = Path(path)
    return path / "model.npz" if path.is_dir() else path


def _require_events(y, where, need=2):
    """One clear error when a cohort has fewer than ``need`` events (with the count)."""
    n_events = int(y["event"].sum())
    if n_events >= need:
        return n_events
    what = "no events" if n_events == 0 else f"only {n_events} event"
    raise CLIError(
        f"{what} in {where} (of {len(y)} samples): the Cox partial likelihood and the "
        f"C-index need at least {need} events"
    )


def _print_hazard_ratios(summary):
    """Hazard ratio per SD of each factor's score with its Wald 95% CI and p.

    The intervals treat the learned programs as fixed covariates (optimistic) and are not
    valid tests when the penalty shrinks β; the line under the table says so.
    """
    import pandas as pd

    table = pd.DataFrame(
        {
            "HR per SD": summary["hazard_ratio_per_sd"],
            "95% CI lower": summary["hazard_ratio_per_sd_lower"],
            "95% CI upper": summary["hazard_ratio_per_sd_upper"],
            "p (Wald)": summary["p"],
        }
    )
    print("hazard ratio per SD of each factor score (in-sample):")
    print(table.to_string(float_format="%.4g"))
    print(
        "  (Wald intervals on the training data, treating the learned programs as fixed; "
        "optimistic, and not valid tests when penalty > 0)"
    )


def _missing_genes_hint(message):
    """Turn the API's ``pass fill_value=`` advice into the CLI option (only when genes are
    missing); other messages pass through unchanged."""
    import re

    found = re.search(r"(\d+) of (\d+) model genes are missing", message)
    if found is not None:
        head = message.split("; pass fill_value=")[0]
    else:  # desurv.evaluation: "X lacks N of the M genes the model needs (...); refit ..."
        found = re.search(r"lacks (\d+) of the (\d+) genes the model needs", message)
        if found is None:
            return message
        head = message.split("; refit on the genes shared")[0]
    if found.group(1) == found.group(2):  # filling every gene would be meaningless
        return (
            f"{head}: none of the model's genes is in the file (is it an expression file "
            "with gene symbols in its first column, from the same platform?)"
        )
    return f"{head}; use --fill-missing VALUE (e.g. 0) to fill them, or refit on shared genes"


# ----------------------------------------------------------------------------- commands
def cmd_fit(args):
    log = _VerboseLog(args.verbose)
    import pandas as pd

    from desurv.deconvolution.estimator import DeSurv
    from desurv.preprocessing import Preprocessor
    from desurv.survival.concordance import concordance_index

    _check_out(args)
    log.stage("modules imported")
    X, y, clinical = _load(
        args.expression, args.clinical, args.time_col, args.event_col, args.sample_col
    )
    log.stage(f"read {X.shape[0]} samples x {X.shape[1]} genes")
    _require_events(y, args.clinical)
    for other in args.intersect_with:
        shared = X.columns.intersection(_gene_names(other))
        if len(shared) == 0:
            raise CLIError(f"no gene of {args.expression} is present in {other}")
        X = X.loc[:, shared]
    pre = Preprocessor(transform=args.transform, n_genes=args.genes)
    Xt = pre.fit_transform(X)
    log.stage(f"preprocessed ({args.transform} transform, {Xt.shape[1]} genes kept)")
    model = DeSurv(
        n_components=args.n_components,
        alpha=args.alpha,
        penalty=args.penalty,
        l1_ratio=args.l1_ratio,
        penalty_w=args.penalty_w,
        penalty_h=args.penalty_h,
        n_init=args.n_init,
        max_iter=args.max_iter,
        tol=args.tol,
        random_state=args.seed,
        ties=args.ties,
        n_threads=args.threads,
    )
    if not args.quiet:
        print(
            f"fitting DeSurv: {Xt.shape[0]} samples x {Xt.shape[1]} genes, "
            f"{int(y['event'].sum())} events, k={args.n_components}, alpha={args.alpha}, "
            f"lambda={args.penalty}, xi={args.l1_ratio} ({args.n_init} random starts)",
            file=sys.stderr,
        )
    log.stage(f"fitting ({args.n_init} random starts first, then the final run)")
    start = _time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit_with_progress(
            model,
            Xt,
            y,
            enabled=not (args.quiet or args.verbose),
            extra_callback=log if args.verbose else None,
        )
    elapsed = _time.perf_counter() - start
    log.stage(f"fit done: {model.n_iter_} iterations in {elapsed:.3f} s")
    for w in caught:
        print(f"desurv: warning: {w.message}", file=sys.stderr)
    model.preprocessor_ = pre
    eta = model.predict(Xt)
    cindex = concordance_index(y["time"], y["event"], eta)

    with _staged_output(args) as tmp:
        factors = [f"factor_{f + 1}" for f in range(model.W_.shape[1])]
        pd.DataFrame(model.W_, index=pd.Index(Xt.columns, name="gene"), columns=factors).to_csv(
            tmp / "gene_programs.tsv", sep="\t"
        )
        model.top_genes(args.n_top).to_csv(tmp / "top_genes.tsv", sep="\t", index=False)
        model.summary().to_csv(tmp / "coefficients.tsv", sep="\t")
        _risk_table(Xt.index, eta, y).to_csv(tmp / "risk_scores.tsv", sep="\t", index=False)
        model.loss_history_.to_csv(tmp / "loss_history.tsv", sep="\t")
        summary = {
            "n_samples": int(Xt.shape[0]),
            "n_genes": int(Xt.shape[1]),
            "n_events": int(y["event"].sum()),
            "params": model.get_params(),
            "preprocessing": {"transform": args.transform, "n_genes": args.genes},
            "n_iter": model.n_iter_,
            "converged": model.converged_,
            "objective": model.objective_,
            "cindex_train": cindex,
            "fit_seconds": elapsed,
        }
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        model.save(tmp / "model.npz", preprocessor=pre)

    print(
        f"DeSurv fit: {model.n_iter_} iterations, "
        f"{'converged' if model.converged_ else 'NOT converged'}, {elapsed:.1f} s"
    )
    print(f"training C-index: {cindex:.4f}")
    _print_hazard_ratios(model.summary())
    print(f"top genes:\n{model.top_genes(5).to_string(index=False)}")
    print(f"results written to {args.out}")
    return 0


def _risk_table(samples, eta, y=None):
    import numpy as np
    import pandas as pd

    table = pd.DataFrame(
        {"sample": np.asarray(samples), "linear_predictor": eta, "relative_risk": np.exp(eta)}
    )
    if y is not None:
        table["time"] = y["time"]
        table["event"] = y["event"].astype(int)
    return table


def cmd_predict(args):
    from desurv.datasets import read_expression
    from desurv.deconvolution.estimator import load_model
    from desurv.survival.concordance import concordance_index

    _check_out(args)
    path = _model_path(args.model)
    if not path.is_file():
        raise CLIError(f"no model at {path} (expected the --out folder of 'desurv fit')")
    model = load_model(path)
    pre = model.preprocessor_
    if args.clinical is not None:
        X, y, _ = _load(
            args.expression,
            args.clinical,
            args.time_col,
            args.event_col,
            args.sample_col,
            require_event=False,  # scored anyway; the C-index is reported as undefined
        )
    else:
        X, y = read_expression(args.expression), None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            Xt = pre.transform(X, fill_value=args.fill_missing) if pre is not None else X
        except ValueError as exc:
            raise CLIError(_missing_genes_hint(str(exc))) from None
    for w in caught:
        print(f"desurv: warning: {w.message}", file=sys.stderr)
    eta = model.predict(Xt)
    result = {
        "n_samples": int(Xt.shape[0]),
        "model": str(path),
        "model_path_absolute": str(path.resolve()),
    }
    if y is not None:
        # the risk scores are written whatever the events; the C-index only when defined
        n_events = int(y["event"].sum())
        cindex = None
        if n_events == 0:
            why = f"no events in {args.clinical}"
        else:
            try:
                cindex = float(concordance_index(y["time"], y["event"], eta))
            except ValueError:
                why = f"no comparable pairs in {args.clinical} ({n_events} event(s))"
        if cindex is None:
            print(f"desurv: warning: {why}: the C-index is undefined", file=sys.stderr)
        result["cindex"] = cindex
        result["n_events"] = n_events
    with _staged_output(args) as tmp:
        _risk_table(Xt.index, eta, y).to_csv(tmp / "risk_scores.tsv", sep="\t", index=False)
        (tmp / "summary.json").write_text(json.dumps(result, indent=2))
    print(f"risk scores for {Xt.shape[0]} samples written to {args.out}")
    if result.get("cindex") is not None:
        print(f"validation C-index: {result['cindex']:.4f} ({result['n_events']} events)")
    elif "cindex" in result:
        print(f"validation C-index: undefined ({result['n_events']} events)")
    return 0


def cmd_demo(args):
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from desurv.datasets import simulate_desurv
    from desurv.deconvolution.estimator import DeSurv
    from desurv.survival.concordance import concordance_index

    sim = simulate_desurv(random_state=args.seed)
    X, y = sim.X, sim.y
    n_train = int(round(0.7 * X.shape[0]))
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(X.shape[0])
    tr, te = perm[:n_train], perm[n_train:]
    print(
        f"simulated cohort: {X.shape[0]} samples x {X.shape[1]} genes, "
        f"{int(y['event'].sum())} events, {sim.W.shape[1]} true programs "
        f"(program 1 drives survival); training on {n_train}, testing on {len(te)}"
    )
    model = DeSurv(
        n_components=args.n_components,
        alpha=args.alpha,
        penalty=0.1,
        n_init=10,
        max_iter=500,
        random_state=args.seed,
    )
    start = _time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit_with_progress(model, X.iloc[tr], y[tr], enabled=not args.quiet)
    elapsed = _time.perf_counter() - start
    c_train = model.score(X.iloc[tr], y[tr])
    c_test = model.score(X.iloc[te], y[te])
    c_true = concordance_index(y["time"][te], y["event"][te], sim.linear_predictor[te])
    Wt = sim.W / np.linalg.norm(sim.W, axis=0)
    cos = Wt.T @ (model.W_ / np.linalg.norm(model.W_, axis=0))
    rows, cols = linear_sum_assignment(-cos)
    print(
        f"fit: {model.n_iter_} iterations in {elapsed:.1f} s "
        f"({'converged' if model.converged_ else 'not converged'})"
    )
    print(
        f"C-index: train {c_train:.3f}, test {c_test:.3f} (true linear predictor on test: "
        f"{c_true:.3f})"
    )
    for r, c in zip(rows, cols, strict=True):
        print(
            f"true program {r + 1} <-> factor {c + 1}: cosine {cos[r, c]:.3f}, "
            f"beta {model.coef_[c]:+.4f}"
        )
    return 0


def _unquote(message):
    """Remove the quotes of a whole-message repr (``str(KeyError('x'))`` is ``'x'``), and
    only those: ``... in column 'sample'`` keeps its closing quote."""
    if len(message) >= 2 and message[0] == message[-1] and message[0] in "'\"":
        return message[1:-1]
    return message


def main(argv=None):
    """Run the command line; returns the exit code (0, 2 for bad input, 130 on Ctrl-C)."""
    parser = _build_parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["desurv", *argv])
    from desurv._cli_workflow import cmd_cv, cmd_report, cmd_validate

    handlers = {
        "fit": cmd_fit,
        "predict": cmd_predict,
        "demo": cmd_demo,
        "cv": cmd_cv,
        "validate": cmd_validate,
        "report": cmd_report,
    }
    try:
        return handlers[args.command](args)
    except (CLIError, _output.OutputError, ValueError, OSError, KeyError) as exc:
        message = str(exc).strip()
        if isinstance(exc, KeyError):  # str(KeyError) is the repr of its argument
            message = _unquote(message)
        message = message or exc.__class__.__name__
        print(f"desurv: error: {message.splitlines()[0]}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("desurv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
