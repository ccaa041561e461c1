"""The ``desurv`` command line: ``fit``, ``predict``, ``demo`` (:mod:`desurv.cli.fit`),
``cv``, ``validate``, ``report`` (:mod:`desurv.cli.workflow`), ``bench``
(:mod:`desurv.cli.bench`), ``signatures`` (:mod:`desurv.cli.signatures`); shared helpers in
:mod:`desurv.cli._common`. This module builds the parser and dispatches.

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
``desurv fit`` loads only what a fit uses; as the ``desurv`` program (or ``python -m
desurv.cli``), ``fit`` and ``predict`` also defer modules that scikit-learn imports but a
fit never uses (``scipy.stats``, see :data:`desurv.cli._common.DEFERRED_MODULES`).
Expression files are read by :mod:`desurv.cli._reading` (pyarrow's CSV reader when
pyarrow is installed, else pandas' C parser; the library reader for anything unusual).
Kernels come from Numba's cache on first use. ``desurv fit --verbose`` prints the stages,
one line per random start and one line per iteration on stderr with the seconds since the
process started (see :class:`_Clock`; ``benchmarks/startup.py`` reads them).
"""

from __future__ import annotations

import shlex
import sys

from desurv import _output
from desurv._progress import Progress as _Progress  # noqa: F401  (tests patch it here)
from desurv.cli._common import (
    EXIT_USAGE,
    CLIError,
    _acceleration_arg,
    _balance_arg,
    _gene_set_args,
    _out_args,
    _Parser,
    _positive_int,
    _survival_column_args,
    _unquote,
)
from desurv.cli.fit import add_unlabeled_argument, cmd_demo, cmd_fit, cmd_predict


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
    _gene_set_args(fit, "applied to")
    add_unlabeled_argument(fit)
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
    _balance_arg(fit)
    _acceleration_arg(fit)
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
        help="DeSurv vs NMF+Cox on the paper's simulated scenario R0",
        description="Simulate a cohort with known gene programs (the DeSurv paper's "
        "scenario R0, with its per-gene baseline), split it 70/30 stratified by event, fit "
        "DeSurv and NMF+Cox (same k and penalty) on the 70%% and print the held-out "
        "C-index of both and of the true linear predictor.",
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

    from desurv.cli.bench import add_parser as add_bench_parser
    from desurv.cli.signatures import add_parser as add_signatures_parser
    from desurv.cli.workflow import _jobs, add_parsers

    add_parsers(sub, _positive_int)
    add_bench_parser(sub, _positive_int, _jobs)
    add_signatures_parser(sub, _positive_int, _jobs)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0, 2 for bad input, 130 on Ctrl-C).

    ``argv=None`` (the ``desurv`` program, ``python -m desurv.cli``) reads ``sys.argv`` and
    marks this process as the program: ``fit`` and ``predict`` then defer modules they do
    not use (:data:`desurv.cli._common.DEFERRED_MODULES`), which is left out when ``main``
    is called from other code with a list of arguments.
    """
    parser = _build_parser()
    program = argv is None
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["desurv", *argv])
    args.defer_imports = program
    from desurv.cli.bench import cmd_bench
    from desurv.cli.signatures import cmd_signatures
    from desurv.cli.workflow import cmd_cv, cmd_report, cmd_validate

    handlers = {
        "bench": cmd_bench,
        "fit": cmd_fit,
        "predict": cmd_predict,
        "demo": cmd_demo,
        "cv": cmd_cv,
        "validate": cmd_validate,
        "report": cmd_report,
        "signatures": cmd_signatures,
    }
    try:
        return handlers[args.command](args)
    except BrokenPipeError:  # e.g. `desurv bench --list | head`: the reader left, not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
