"""``desurv fit``, ``desurv predict`` and ``desurv demo``."""

from __future__ import annotations

import json
import sys
import time as _time
import warnings

from desurv.cli._common import (
    CLIError,
    _check_out,
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
