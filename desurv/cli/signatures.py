"""``desurv signatures``: extract mutational signatures from an SBS96 catalogue.

A thin shell over :func:`desurv.signatures.extract_signatures`. ``--out`` is checked first
(new or empty, or an earlier desurv result with ``--overwrite``; never a folder holding an
input, see :mod:`desurv._output`), then the catalogue and the COSMIC file are read and
checked (all 96 SBS channels, integer nonnegative counts, a mutation in every sample,
COSMIC with the same channels, k in range), all before the first fit. The results are
written to a staging folder that becomes ``--out`` only when complete:

``signatures.tsv``, ``exposures.tsv``, ``stability.tsv``, ``reconstruction.tsv``,
``restarts.tsv``, ``cosmic_matches.tsv`` (with ``--cosmic``), ``rank_table.tsv`` (when k
was selected), ``signature_run.json`` (:meth:`SignatureResult.save`), the figures
``signature_profiles.png``, ``exposures.png`` and ``rank_selection.png``, and the run
manifest ``desurv_run.json``. ``desurv report FOLDER`` renders it as one HTML page.
"""

from __future__ import annotations

import sys
import time as _time
import warnings

from desurv import _output
from desurv.cli._common import CLIError, _out_args

# spelled out so that ``desurv --help`` does not import the workflow (a test checks that they
# agree with desurv.signatures.METHODS)
METHOD_CHOICES = ("nmf", "nmf-kl", "convex", "aenmf")
CONSENSUS_CHOICES = ("kmeans", "pam")
RANK_RULE_CHOICES = ("bootstrap", "stability")


def add_parser(sub, positive_int, jobs):
    """Add the ``signatures`` subcommand to the ``desurv`` parser."""
    p = sub.add_parser(
        "signatures",
        help="extract mutational signatures from an SBS96 catalogue",
        description="De novo extraction of mutational signatures: random-start fits "
        "(--restarts), a consensus of their signatures (SigProfiler k-means or PAM "
        "k-medoids), stability (silhouettes), exposures by NNLS refit, and the Hungarian "
        "match to COSMIC (--cosmic). Without --k the number of signatures is selected over "
        "--k-range (default 2 to 12) by --rank-rule.",
    )
    p.add_argument(
        "--catalogue",
        required=True,
        metavar="FILE.tsv",
        help="SBS96 catalogue: tab-separated, channels (e.g. A[C>A]A) x samples, counts",
    )
    p.add_argument(
        "--method",
        choices=METHOD_CHOICES,
        default="nmf",
        help="factorisation: nmf (Frobenius, HALS; default), nmf-kl (Kullback-Leibler, "
        "multiplicative updates), convex (convex NMF), aenmf (autoencoder NMF)",
    )
    k = p.add_mutually_exclusive_group()
    k.add_argument(
        "--k",
        type=positive_int,
        default=None,
        metavar="K",
        help="number of signatures (default: selected over --k-range)",
    )
    k.add_argument(
        "--k-range",
        type=positive_int,
        nargs=2,
        default=None,
        metavar=("KMIN", "KMAX"),
        help="ranks tried when --k is not given (default 2 to 12, at most n_samples - 1)",
    )
    p.add_argument(
        "--rank-rule",
        choices=RANK_RULE_CHOICES,
        default="bootstrap",
        help="rank selection: bootstrap (test errors on out-of-bag samples, paired Wilcoxon "
        "between k and k+1; default) or stability (the largest stable k, mean silhouette "
        ">= 0.8 and every signature's >= 0.2, unless a smaller stable k fits as well)",
    )
    p.add_argument(
        "--bootstrap",
        type=positive_int,
        default=10,
        metavar="N",
        help="bootstrap splits of --rank-rule bootstrap (default 10)",
    )
    p.add_argument(
        "--restarts",
        type=positive_int,
        default=20,
        metavar="N",
        help="random-start fits per rank (default 20)",
    )
    p.add_argument(
        "--consensus",
        choices=CONSENSUS_CHOICES,
        default="kmeans",
        help="consensus of the restarts' signatures: kmeans (SigProfiler, one signature of "
        "every restart per cluster; default) or pam (k-medoids on the cosine distance, as "
        "Egendal et al.)",
    )
    p.add_argument(
        "--cosmic",
        metavar="FILE.tsv",
        default=None,
        help="reference signatures (channels x signatures, e.g. COSMIC v3.4 SBS96) to match "
        "the extracted signatures to",
    )
    p.add_argument(
        "--max-iter",
        type=positive_int,
        default=None,
        metavar="N",
        help="iteration cap of each fit (default: the method's)",
    )
    p.add_argument(
        "--tol", type=float, default=None, help="tolerance of each fit (default: the method's)"
    )
    p.add_argument(
        "--jobs",
        type=jobs,
        default=1,
        metavar="N",
        help="parallel workers: a positive number, or -1 for all cores (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _out_args(p)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, shorter output")
    return p


# the API's advice, in the options of the command line
_API_TO_CLI = (
    (
        "pass estimator_params={'max_iter': ...} to iterate longer",
        "use --max-iter N to iterate longer",
    ),
    ("raise max_iter (params={'max_iter': ...}) or tol", "raise --max-iter or --tol"),
    ("(see restarts['converged'])", "(column converged of restarts.tsv)"),
    (
        "(errors['converged'] is False)",
        "in the bootstrap rank selection (column converged of rank_errors.tsv)",
    ),
    ("give n_components", "give --k"),
    ("extend the list of ranks", "extend --k-range"),
    ("n_components: k=", "--k: k="),
    ("ks: k=", "--k-range: k="),
    ("give at least two ks", "give a --k-range of at least two ranks"),
)


def _cli_message(text):
    for api, cli in _API_TO_CLI:
        text = text.replace(api, cli)
    return text


def _print_warnings(caught):
    seen = set()
    for w in caught:
        msg = _cli_message(str(w.message))
        if msg not in seen:
            seen.add(msg)
            print(f"desurv: warning: {msg}", file=sys.stderr)


def _inputs(args):
    return [x for x in (args.catalogue, args.cosmic) if x is not None]


def _savefig(draw, path):
    from desurv.cli.workflow import _savefig as savefig

    savefig(draw, path)


def cmd_signatures(args):
    _output.check_output_folder(args.out, overwrite=args.overwrite, inputs=_inputs(args))
    if args.k_range is not None and args.k_range[0] > args.k_range[1]:
        raise CLIError(f"--k-range {args.k_range[0]} {args.k_range[1]}: KMIN must be <= KMAX")
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}")
    if args.tol is not None and not args.tol >= 0:
        raise CLIError(f"--tol must be >= 0, got {args.tol}")

    from desurv.datasets import read_catalogue, read_signatures
    from desurv.signatures import check_catalogue, extract_signatures

    X = read_catalogue(args.catalogue)
    try:
        X = check_catalogue(X, require_sbs96=True, require_counts=True)
    except ValueError as exc:
        raise CLIError(f"{args.catalogue}: {exc}") from None
    reference = None
    if args.cosmic is not None:
        from desurv.signatures._catalogue import as_reference

        reference = read_signatures(args.cosmic)
        try:
            reference = as_reference(reference, X.columns)
        except ValueError as exc:
            raise CLIError(f"{args.cosmic}: {exc}") from None
    n = X.shape[0]
    ks = None if args.k_range is None else list(range(args.k_range[0], args.k_range[1] + 1))
    est_params = {}
    if args.max_iter is not None:
        est_params["max_iter"] = args.max_iter
    if args.tol is not None:
        est_params["tol"] = args.tol

    if not args.quiet:
        if args.k is not None:
            what = f"k={args.k}"
        elif ks is not None:
            what = f"k in {ks[0]}..{ks[-1]} selected by {args.rank_rule}"
        else:
            what = f"k selected by {args.rank_rule}"
        print(
            f"extracting signatures: {n} samples x {X.shape[1]} channels, method {args.method}, "
            f"{what}, {args.restarts} restarts, {args.consensus} consensus",
            file=sys.stderr,
        )
    start = _time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = extract_signatures(
                X,
                args.k,
                method=args.method,
                n_restarts=args.restarts,
                ks=ks,
                rank_rule=args.rank_rule,
                n_bootstrap=args.bootstrap,
                consensus=args.consensus,
                reference=reference,
                n_jobs=args.jobs,
                random_state=args.seed,
                estimator_params=est_params or None,
                progress=not args.quiet,
            )
        except ValueError as exc:
            _print_warnings(caught)
            raise CLIError(_cli_message(str(exc))) from None
    elapsed = _time.perf_counter() - start
    _print_warnings(caught)

    from desurv.reporting import signature_plots as splots

    with _output.staged_output(
        args.out,
        overwrite=args.overwrite,
        inputs=_inputs(args),
        command=getattr(args, "command_line", None),
        extra={"signatures": {"seconds": elapsed, **result.summary}},
    ) as tmp:
        result.save(tmp)
        _savefig(
            lambda: splots.plot_signature_profile(result.signatures, result.cosmic_matches),
            tmp / "signature_profiles.png",
        )
        _savefig(lambda: splots.plot_exposures(result.exposures), tmp / "exposures.png")
        if result.rank_table is not None:
            _savefig(lambda: _rank_figure(result), tmp / "rank_selection.png")

    _print_summary(result, elapsed, args)
    return 0


def _rank_figure(result):
    """Bootstrap test errors per k, or stability and error per k (the "stability" rule)."""
    from desurv.reporting import rank_plots

    if result.params.get("rank_rule") == "bootstrap":
        return rank_plots.plot_bootstrap_rank(result.rank_selection)
    return rank_plots.plot_stability_vs_error(result.rank_table)


def _print_summary(result, elapsed, args):
    import pandas as pd

    s = result.summary
    k = result.n_components
    how = "given" if args.k is not None else f"selected by {args.rank_rule}"
    print(
        f"{k} signatures ({how}) in {elapsed:.1f} s: mean stability "
        f"{s['mean_stability']:.3f}, relative error {s['relative_error']:.4f}, "
        f"{s['n_converged']} of {s['n_restarts']} restarts converged"
    )
    table = pd.DataFrame(
        {
            "signature": result.signatures.columns,
            "mutations": result.exposures.sum(axis=0).round().astype("int64").to_numpy(),
            "stability": result.stability["silhouette"].to_numpy(),
        }
    )
    if result.cosmic_matches is not None:
        table["cosmic"] = result.cosmic_matches["cosmic"].to_numpy()
        table["cosine"] = result.cosmic_matches["cosine"].to_numpy()
    if not args.quiet or result.cosmic_matches is not None:
        print(table.to_string(index=False, float_format="%.3f"))
    if s.get("cosmic_acs") is not None:
        print(f"COSMIC ACS (mean matched cosine): {s['cosmic_acs']:.3f}")
    print(f"results written to {args.out}")
