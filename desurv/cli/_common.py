"""Helpers shared by the command groups: errors, argument types, inputs, output folders,
progress and the --verbose clock."""

from __future__ import annotations

import argparse
import os
import sys
import time as _time
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


def _gene_set_args(p, purpose):
    """``--intersect-with`` and ``--transform`` (fit and cv share them)."""
    p.add_argument(
        "--intersect-with",
        action="append",
        default=[],
        metavar="E2.tsv[.gz]",
        help="keep only genes also present in this expression file (repeatable), so that "
        f"the model can be {purpose} that cohort",
    )
    p.add_argument(
        "--transform",
        choices=("rank", "none"),
        default="rank",
        help="within-sample transform (default rank)",
    )


def _balance_arg(p):
    """``--balance``: the scale of the survival push in DeSurv's W step."""
    p.add_argument(
        "--balance",
        choices=("gradient", "numerator"),
        default="gradient",
        help="scale of the survival push in the W step: the NMF gradient's norm (the authors', "
        "default; vanishes at NMF solutions) or the NMF numerator's norm (does not)",
    )


def _acceleration_arg(p):
    """``--acceleration``: DeSurv's accelerated W/H step (fit and cv)."""
    p.add_argument(
        "--acceleration",
        choices=("none", "extrapolation"),
        default="none",
        help="W/H step: plain multiplicative updates (default) or 'extrapolation' (extra H "
        "updates and a safeguarded extrapolation; the objective stays monotone and is reached "
        "in several times fewer passes over X)",
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
    for name in ("expression", "clinical", "intersect_with", "unlabeled"):
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


def _fit_with_progress(
    model, X, y, *, enabled, callback=None, extra_callback=None, extra_init_callback=None
):
    """``model.fit(X, y)`` with bars for the random starts (if the estimator reports them
    through ``fit(init_callback=...)``) and the iterations of the final run;
    ``extra_callback(it, obj)`` and ``extra_init_callback(start, score)`` are called too
    (the ``--verbose`` lines)."""
    import inspect

    kwargs = {}
    starts = _Progress(model.n_init, enabled, desc="random starts", unit="start")
    if "init_callback" in inspect.signature(model.fit).parameters:

        def on_start(start, score, *rest):
            starts.update(1)
            if extra_init_callback is not None:
                extra_init_callback(start, score)

        kwargs["init_callback"] = on_start
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
    """``--verbose`` lines on stderr: stages, one line per random start, then one line per
    iteration of the final run.

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

    def random_start(self, start, score):
        """``desurv: [  0.912 s] random start 1 done: score 1.2345678e+00``"""
        self.stage(f"random start {start} done: score {score:.8e}")


_API_COLUMN_HINT = "set time_col=/event_col=/sample_col= to the right names"
_CLI_COLUMN_HINT = "use --time-col/--event-col/--sample-col to give the right names"


def _load(expression, clinical, time_col, event_col, sample_col="sample", require_event=True):
    """:func:`desurv.datasets.load_cohort` with the fast expression reader
    (:mod:`desurv.cli._reading`), the column hint in the command line's options."""
    from desurv.cli._reading import load_cohort

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


# modules a fit or a prediction imports through scikit-learn (and NumPy, SciPy) but never
# uses before its first iteration: deferred at the start of the ``desurv`` program
# (:func:`desurv._lazy.deferred_imports`; ~0.3 s of ~0.6 s of imports)
DEFERRED_MODULES = ("scipy.stats", "scipy.special", "numpy.testing", "numpy.f2py", "asyncio")


def _deferred_imports(args):
    """:func:`desurv._lazy.deferred_imports` of :data:`DEFERRED_MODULES` when this process
    is the ``desurv`` program (``args.defer_imports``, set by :func:`desurv.cli.main`)."""
    from desurv._lazy import deferred_imports

    return deferred_imports(DEFERRED_MODULES, enabled=getattr(args, "defer_imports", False))


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


def _unquote(message):
    """Remove the quotes of a whole-message repr (``str(KeyError('x'))`` is ``'x'``), and
    only those: ``... in column 'sample'`` keeps its closing quote."""
    if len(message) >= 2 and message[0] == message[-1] and message[0] in "'\"":
        return message[1:-1]
    return message
