"""``desurv fit``, ``desurv predict`` and ``desurv demo``.

Semi-supervised DeSurv (METHODS.md §F.5) on the command line: ``--unlabeled FILE``
(:func:`add_unlabeled_argument`, used by ``fit`` and ``cv``) reads expression of samples
without follow-up like ``--expression``; they enter the NMF part of the fit only.
"""

from __future__ import annotations

import json
import sys
import time as _time
import warnings

from desurv.cli._common import (
    CLIError,
    _check_out,
    _deferred_imports,
    _fit_with_progress,
    _gene_names,
    _load,
    _missing_genes_hint,
    _model_path,
    _print_hazard_ratios,
    _require_events,
    _risk_table,
    _staged_output,
    _VerboseLog,
)


# ----------------------------------------------------------------------------- unlabelled
def add_unlabeled_argument(parser):
    """``--unlabeled FILE`` (repeatable) on a sub-parser (``fit``, ``cv``)."""
    parser.add_argument(
        "--unlabeled",
        action="append",
        default=[],
        metavar="U.tsv[.gz]",
        help="expression TSV (genes x samples, read like --expression) of samples without "
        "follow-up, e.g. another cohort: semi-supervised DeSurv, they enter the NMF part "
        "only and the Cox part uses the samples with survival. Genes are matched by name: "
        "the file needs every gene of the training expression (after --intersect-with; "
        "its other genes are not used). Repeatable",
    )


def _shown(names, limit=5):
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def read_unlabeled(paths, X, where):
    """Samples × genes of the ``--unlabeled`` files, with the genes of ``X`` in X's order.

    Each file is read as an expression file (:func:`desurv.cli._reading.read_expression`,
    which returns what :func:`desurv.datasets.read_expression` returns).

    Returns
    -------
    U : DataFrame of shape (n_unlabeled, n_genes) or None
        None without files.
    notes : list of str
        One line per file with genes that ``X`` lacks (not used).

    Raises
    ------
    CLIError
        An unreadable file, a file lacking genes of X, a sample also in X or in two files.
    """
    if not paths:
        return None, []
    import pandas as pd

    from desurv.cli._reading import read_expression

    frames, notes = [], []
    for path in paths:
        try:
            U = read_expression(path)
        except ValueError as exc:
            raise CLIError(f"--unlabeled: {exc}") from None
        missing = X.columns.difference(U.columns, sort=False)
        if len(missing):
            raise CLIError(
                f"--unlabeled file {path} lacks {len(missing)} of the {X.shape[1]} genes of "
                f"{where} (e.g. {_shown(missing)}): the unlabelled samples need every gene "
                f"of the fit; add --intersect-with {path} to keep only the shared genes"
            )
        extra = U.shape[1] - X.shape[1]
        if extra:
            notes.append(f"{extra} gene(s) of --unlabeled file {path} are not in {where}: not used")
        frames.append(U.loc[:, X.columns])
    U = pd.concat(frames) if len(frames) > 1 else frames[0]
    both = U.index.intersection(X.index, sort=False)
    if len(both):
        raise CLIError(
            f"{len(both)} sample(s) of --unlabeled are also in {where} (e.g. {_shown(both)}): "
            "a sample either has follow-up (labelled) or not (--unlabeled), not both"
        )
    if U.index.has_duplicates:
        dup = pd.unique(U.index[U.index.duplicated()])
        raise CLIError(
            f"{len(dup)} sample(s) appear in more than one --unlabeled file (e.g. {_shown(dup)})"
        )
    return U, notes


def transform_unlabeled(pre, U):
    """``pre.transform(U)`` with the option named in errors (NaN, negative values, ...)."""
    try:
        return pre.transform(U)
    except ValueError as exc:
        raise CLIError(f"--unlabeled: {' '.join(str(exc).split())}") from None


class _WithUnlabeled:
    """``model`` whose ``fit(X, y, ...)`` also passes ``X_unlabeled`` (for the progress bars
    of :func:`desurv.cli._common._fit_with_progress`)."""

    def __init__(self, model, X_unlabeled):
        self.model = model
        self.X_unlabeled = X_unlabeled
        self.n_init = model.n_init
        self.max_iter = model.max_iter

    def fit(self, X, y, *, callback=None, init_callback=None):
        self.model.fit(
            X, y, X_unlabeled=self.X_unlabeled, callback=callback, init_callback=init_callback
        )
        return self


def fit_with_progress(model, X, y, X_unlabeled=None, **kwargs):
    """:func:`desurv.cli._common._fit_with_progress`, with unlabelled samples if given."""
    target = model if X_unlabeled is None else _WithUnlabeled(model, X_unlabeled)
    _fit_with_progress(target, X, y, **kwargs)
    return model


# ----------------------------------------------------------------------------- commands
def cmd_fit(args):
    log = _VerboseLog(args.verbose)
    _check_out(args)
    with _deferred_imports(args):
        import pandas as pd

        from desurv.deconvolution.estimator import DeSurv
        from desurv.preprocessing import Preprocessor
        from desurv.survival.concordance import concordance_index
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
    U, notes = read_unlabeled(getattr(args, "unlabeled", None), X, args.expression)
    if U is not None:
        log.stage(f"read {U.shape[0]} unlabelled samples")
        for note in notes:
            print(f"desurv: note: {note}", file=sys.stderr)
    pre = Preprocessor(transform=args.transform, n_genes=args.genes)
    Xt = pre.fit_transform(X)  # the gene filter is learned on the labelled samples
    Ut = None if U is None else transform_unlabeled(pre, U)
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
        balance=args.balance,
        acceleration=args.acceleration,
        n_threads=args.threads,
    )
    if not args.quiet:
        unl = "" if Ut is None else f" + {Ut.shape[0]} unlabelled samples"
        print(
            f"fitting DeSurv: {Xt.shape[0]} samples x {Xt.shape[1]} genes{unl}, "
            f"{int(y['event'].sum())} events, k={args.n_components}, alpha={args.alpha}, "
            f"lambda={args.penalty}, xi={args.l1_ratio} ({args.n_init} random starts)",
            file=sys.stderr,
        )
    log.stage(f"fitting ({args.n_init} random starts first, then the final run)")
    start = _time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_with_progress(
            model,
            Xt,
            y,
            Ut,
            enabled=not (args.quiet or args.verbose),
            extra_callback=log if args.verbose else None,
            extra_init_callback=log.random_start if args.verbose else None,
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
        if Ut is not None:
            _risk_table(Ut.index, model.predict(Ut)).to_csv(
                tmp / "risk_scores_unlabeled.tsv", sep="\t", index=False
            )
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
        if Ut is not None:  # semi-supervised: the NMF part also saw these samples
            summary["n_unlabeled"] = int(Ut.shape[0])
            summary["unlabeled"] = [str(p) for p in args.unlabeled]
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        model.save(tmp / "model.npz", preprocessor=pre)

    print(
        f"DeSurv fit: {model.n_iter_} iterations, "
        f"{'converged' if model.converged_ else 'NOT converged'}, {elapsed:.1f} s"
    )
    if Ut is not None:
        print(f"semi-supervised: {Ut.shape[0]} unlabelled samples in the NMF part")
    print(f"training C-index: {cindex:.4f}")
    _print_hazard_ratios(model.summary())
    print(f"top genes:\n{model.top_genes(5).to_string(index=False)}")
    print(f"results written to {args.out}")
    return 0


def cmd_predict(args):
    _check_out(args)
    with _deferred_imports(args):
        from desurv.cli._reading import read_expression
        from desurv.deconvolution.loading import load_model
        from desurv.survival.concordance import concordance_index

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
    """Simulate the DeSurv paper's scenario R0 (with its per-gene baseline), split it 70/30
    (stratified by event), fit DeSurv and both NMF+Cox baselines (multiplicative updates, as
    the paper; converged coordinate descent) on the 70 % and compare held-out C-indices with
    the true linear predictor's."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from desurv.datasets import simulate_desurv
    from desurv.deconvolution.estimator import DeSurv
    from desurv.deconvolution.nmf_cox import NMFCox
    from desurv.survival.concordance import concordance_index

    sim = simulate_desurv(random_state=args.seed)  # the authors' R0, gene baseline included
    X, y = sim.X, sim.y
    tr, te = train_test_split(
        np.arange(X.shape[0]), test_size=0.3, stratify=y["event"], random_state=args.seed
    )
    print(
        f"simulated cohort (the DeSurv paper's scenario R0, per-gene baseline N(3, 1)): "
        f"{X.shape[0]} samples x {X.shape[1]} genes, {int(y['event'].sum())} events, "
        f"{sim.W.shape[1]} true programs (program 1 drives survival)"
    )
    print(
        f"split 70/30 stratified by event (seed {args.seed}): training on {len(tr)} "
        f"({int(y['event'][tr].sum())} events), testing on {len(te)} "
        f"({int(y['event'][te].sum())} events)"
    )
    common = dict(
        n_components=args.n_components,
        penalty=0.1,
        n_init=10,
        max_iter=500,
        random_state=args.seed,
    )
    # both baselines: the paper's (multiplicative updates, which stall on this design) and a
    # converged NMF (coordinate descent from NNDSVDa) followed by the same Cox model
    models = [
        (f"DeSurv (alpha={args.alpha:g})", DeSurv(alpha=args.alpha, **common)),
        ("NMF+Cox, MU (paper)", NMFCox(**common)),
        ("NMF+Cox, converged CD", NMFCox(solver="cd", **common)),
        # one factor more, to absorb the per-gene baseline (issue 11's converged baseline)
        (
            f"NMF+Cox, CD, k={args.n_components + 1}",
            NMFCox(solver="cd", **{**common, "n_components": args.n_components + 1}),
        ),
    ]
    rows, fits = [], []
    for name, model in models:
        start = _time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _fit_with_progress(model, X.iloc[tr], y[tr], enabled=not args.quiet)
        elapsed = _time.perf_counter() - start
        rows.append((name, model.score(X.iloc[te], y[te]), model.score(X.iloc[tr], y[tr])))
        state = "converged" if model.converged_ else "not converged"
        fits.append(f"{name}: {model.n_iter_} iterations in {elapsed:.1f} s ({state})")
    c_true = concordance_index(y["time"][te], y["event"][te], sim.linear_predictor[te])
    print(f"fits (k={args.n_components}, lambda=0.1, 10 random starts): " + "; ".join(fits))
    print(f"held-out C-index on the {len(te)} test samples:")
    print(f"  {'model':<24}{'test C':>8}{'train C':>9}")
    for name, c_test, c_train in rows:
        print(f"  {name:<24}{c_test:>8.3f}{c_train:>9.3f}")
    print(f"  {'true linear predictor':<24}{c_true:>8.3f}{'-':>9}")
    return 0
