"""``desurv bench``: run registered methods on data sets over splits and seeds.

The command is a thin shell over :func:`desurv.benchmark.run_benchmark` and
:func:`desurv.reporting.benchmark.write_benchmark_outputs`: it checks ``--out`` and every
argument before any fit, runs the cells (in parallel with ``--jobs``, resumable with
``--cache``), and writes ``results.csv`` (one row per method, data set, split, seed and
metric), ``summary.csv`` (median and IQR) and the plots. ``desurv report DIR`` renders the
folder as one HTML page.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from pathlib import Path

from desurv import _output
from desurv.cli._common import CLIError, _out_args

_SPEC_WITH_PATHS = ("synsig", "catalogue", "cohort", "mutsim")


def add_parser(sub, positive_int, jobs):
    """Add the ``bench`` subcommand to the ``desurv`` parser."""
    p = sub.add_parser(
        "bench",
        help="benchmark registered methods on data sets over splits and seeds",
        description="Run methods of the NMF family (and the survival baselines) on the same "
        "data, splits, seeds and metrics; write results.csv, summary.csv and plots. "
        "'desurv bench --list' shows the methods, data sets and metrics.",
    )
    p.add_argument(
        "--list",
        action="store_true",
        help="list the registered methods, data set forms and metrics, then exit",
    )
    p.add_argument(
        "--methods",
        metavar="M1,M2",
        help="comma-separated registered method names (e.g. nmf-frobenius,nmf-kl)",
    )
    p.add_argument(
        "--data",
        action="append",
        metavar="SPEC",
        help="a data set: desurv-sim, mutsim, mutsim:SIGNATURES.tsv, synsig:FOLDER, "
        "catalogue:FILE.tsv or cohort:EXPRESSION.tsv.gz,CLINICAL.tsv (repeat for several)",
    )
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        metavar="N",
        help="number of seeds 0..N-1 (default 1)",
    )
    p.add_argument(
        "--splits",
        type=positive_int,
        default=1,
        metavar="K",
        help="1: fit on all samples (default); K >= 2: K-fold with held-out metrics",
    )
    p.add_argument(
        "--metrics",
        metavar="M1,M2",
        default=None,
        help="comma-separated metrics (default: every metric that applies)",
    )
    p.add_argument(
        "--params",
        metavar="JSON",
        default=None,
        help='per-method hyperparameters as JSON or a JSON file, e.g. \'{"nmf-kl": '
        '{"max_iter": 500}}\'',
    )
    p.add_argument(
        "--reference",
        metavar="SIGNATURES.tsv",
        default=None,
        help="reference signatures (features x signatures, e.g. COSMIC) for cosmic_cosine",
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help="folder of finished cells: a rerun loads them instead of refitting",
    )
    p.add_argument(
        "--jobs", type=jobs, default=1, metavar="N", help="parallel cells (-1: all cores)"
    )
    p.add_argument(
        "--hide-labels",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="hide the labels of this fraction (in [0, 1)) of every training split, "
        "stratified by event or class: semi-supervised methods (ss-desurv, ss-nmf-cox, "
        "cox-mt) get those samples as unlabelled expression, the others do not see them "
        "(default 0)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    _out_args(p)
    # --out is required only when running: --list needs none
    for action in p._actions:
        if action.dest == "out":
            action.required = False
    return p


def _split_list(text, what):
    items = [s.strip() for s in (text or "").split(",") if s.strip()]
    if not items:
        raise CLIError(f"--{what} is empty: give comma-separated names (see desurv bench --list)")
    return items


def _spec_paths(spec):
    """Files and folders a data set spec reads (an output folder must not hold them)."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in _SPEC_WITH_PATHS:
        return []
    return [Path(p) for p in rest.split(",") if p]


def _load_params(text):
    if text is None:
        return None
    if not text.lstrip().startswith("{"):  # not inline JSON: a file
        path = Path(text)
        if not path.is_file():
            what = "is a folder" if path.is_dir() else "not found"
            raise CLIError(
                f"--params file {path} {what}; give a JSON file or inline JSON such as "
                '\'{"nmf-kl": {"max_iter": 500}}\''
            )
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CLIError(f"cannot read --params file {path}: {exc.strerror or exc}") from None
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"--params is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise CLIError(
            "--params must be a JSON object of method -> {parameter: value}, e.g. "
            '{"nmf-kl": {"max_iter": 500}}'
        )
    return params


# the runner's advice is phrased for the Python API; the command line has options for it
_API_TO_CLI = (
    (re.compile(r"reference_signatures="), "--reference FILE.tsv"),
    (re.compile(r"\bhide_labels\b"), "--hide-labels"),
    (
        re.compile(r"pass params=\{'([^']+)': \{'n_components': K\}\}"),
        lambda m: f"""pass --params '{{"{m.group(1)}": {{"n_components": K}}}}'""",
    ),
    (
        re.compile(r"\(add one with desurv\.benchmark\.register_method\)"),
        "(see desurv bench --list)",
    ),
)


def _cli_message(message):
    for pattern, repl in _API_TO_CLI:
        message = pattern.sub(repl, message)
    return message


def _print_list():
    from desurv.benchmark import available_methods, available_metrics

    methods = available_methods()
    print("methods:")
    for row in methods.itertuples():
        print(f"  {row.name:<16} {row.task:<15} {row.description}")
        shown = ", ".join(f"{k}={v!r}" for k, v in row.defaults.items())
        print(f"  {'':<16} {'':<15} defaults: {shown}")
    print("data sets:")
    print("  desurv-sim                         the DeSurv simulation (survival)")
    print("  mutsim[:SIGNATURES.tsv]            simulated mutational catalogues")
    print("  synsig:FOLDER                      SynSig scenario (catalog, signatures, exposures)")
    print("  catalogue:FILE.tsv                 a channels x samples counts table")
    print("  cohort:EXPRESSION.tsv.gz,CLINICAL.tsv   an expression cohort with survival")
    print("metrics:")
    for row in available_metrics().itertuples():
        print(f"  {row.name:<20} {row.description}")
    return 0


def cmd_bench(args):
    if args.list:
        return _print_list()
    if args.out is None:
        raise CLIError("--out DIR is required (or use --list)")
    if not args.data:
        raise CLIError("give at least one --data SPEC (see desurv bench --list)")
    methods = _split_list(args.methods, "methods")
    metrics = None if args.metrics is None else _split_list(args.metrics, "metrics")
    params = _load_params(args.params)
    inputs = [p for spec in args.data for p in _spec_paths(spec)]
    if args.reference is not None:
        inputs.append(Path(args.reference))
    if args.cache is not None:
        inputs.append(Path(args.cache))
    _output.check_output_folder(args.out, overwrite=args.overwrite, inputs=inputs)

    from desurv.benchmark import run_benchmark
    from desurv.reporting.benchmark import write_benchmark_outputs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = run_benchmark(
                methods,
                args.data,
                seeds=tuple(range(args.seeds)),
                n_splits=args.splits,
                params=params,
                metrics=metrics,
                n_jobs=args.jobs,
                cache_dir=args.cache,
                reference_signatures=args.reference,
                hide_labels=args.hide_labels,
                verbose=not args.quiet,
            )
        except ValueError as exc:
            raise CLIError(_cli_message(str(exc))) from None
    for msg in dict.fromkeys(str(w.message) for w in caught):
        print(f"desurv: warning: {msg}", file=sys.stderr)
    failed = results.attrs.get("failed", [])
    if results["value"].notna().sum() == 0:
        first = next((e for e in results["error"] if isinstance(e, str) and e), "no metric")
        raise CLIError(f"every benchmark cell failed; first error: {first}")
    written = write_benchmark_outputs(
        results, args.out, overwrite=args.overwrite, command=getattr(args, "command_line", None)
    )
    _print_summary(results)
    extra = f"; {len(failed)} cell(s) failed (see the error column)" if failed else ""
    print(f"wrote {', '.join(written)} to {args.out}{extra}")
    return 0


def _print_summary(results):
    from desurv.benchmark import summarize

    summary = summarize(results)
    if summary.empty:
        return
    summary = summary.assign(
        column=[
            m if s in ("", "train") or s != s else f"{m} ({s})"
            for m, s in zip(summary["metric"], summary["subset"].fillna(""), strict=True)
        ]
    )
    table = summary.pivot_table(
        index=["dataset", "method"], columns="column", values="median", aggfunc="first"
    )
    table.columns.name = None
    print("median per method and metric:")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
