"""Model selection: folds, grid search with warm starts, selection rules, optuna."""

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desurv import fit_desurv
from desurv.datasets import simulate_desurv
from desurv.exceptions import ConvergenceWarning, DataWarning
from desurv.model_selection import (
    GRID_PARAMS,
    DeSurvCV,
    cross_validate,
    load_cv_results,
    make_grid,
    optimize_hyperparameters,
    save_cv_results,
    select_config,
    stratified_folds,
    summarize_cv,
)
from desurv.preprocessing import Preprocessor
from desurv.survival.concordance import concordance_index


@pytest.fixture(scope="module")
def sim():
    # the no-baseline design: NMF alone finds the programs there, so a warm path along α
    # stalls at the α = 0 solution, which the degenerate-path warning must catch
    return simulate_desurv(
        n_samples=90,
        n_genes=260,
        n_markers=40,
        n_background=80,
        gene_baseline=None,
        random_state=3,
    )


def _cv(sim, **kw):
    args = dict(
        param_grid={"n_components": [2, 3], "alpha": [0.0, 0.4, 0.8]},
        n_folds=3,
        n_seeds=2,
        random_state=0,
        max_iter=60,
    )
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_validate(sim.X, sim.y, **args)


# ----------------------------------------------------------------------------- folds
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(6, 120),
    n_folds=st.integers(2, 6),
    n_groups=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_folds_balanced_within_every_stratum(n, n_folds, n_groups, seed):
    rng = np.random.default_rng(seed)
    event = rng.uniform(size=n) < 0.4
    groups = rng.integers(0, n_groups, size=n)
    if n_folds > n:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        folds = stratified_folds(event, n_folds, groups=groups, random_state=seed)
    assert folds.shape == (n,) and set(np.unique(folds)) <= set(range(n_folds))
    sizes = np.bincount(folds, minlength=n_folds)
    assert sizes.max() - sizes.min() <= 1
    for g in np.unique(groups):
        for ev in (True, False):
            mask = (groups == g) & (event == ev)
            counts = np.bincount(folds[mask], minlength=n_folds)
            assert counts.max() - counts.min() <= 1
    again = stratified_folds(event, n_folds, groups=groups, random_state=seed, warn=False)
    np.testing.assert_array_equal(folds, again)


def test_folds_warn_without_events_and_reject_bad_input():
    event = np.zeros(20, dtype=bool)
    event[:2] = True
    with pytest.warns(DataWarning, match="no events"):
        stratified_folds(event, 4, random_state=0)
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        stratified_folds(event, 1)
    with pytest.raises(ValueError, match="larger than the number of samples"):
        stratified_folds(event, 21)
    with pytest.raises(ValueError, match="groups has 3 labels"):
        stratified_folds(event, 2, groups=[1, 2, 3])


def test_folds_reject_more_folds_than_events():
    from desurv._folds import check_folds_have_events

    event = np.zeros(115, dtype=bool)
    event[:38] = True
    message = (
        "50 folds is too many for 115 samples with 38 events: every validation fold needs "
        "events; use at most 38 folds (5 or 10 are usual)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        check_folds_have_events(event, 50)
    with pytest.raises(ValueError, match="50 folds is too many"):
        stratified_folds(event, 50, require_events=True)
    folds = stratified_folds(event, 38, require_events=True, random_state=0)
    assert all(event[folds == f].any() for f in range(38))


# ----------------------------------------------------------------------------- grid
@pytest.mark.parametrize(
    "grid, match",
    [
        ({"k": [2]}, "unknown parameter"),
        ({"alpha": []}, "empty"),
        ({"alpha": [1.0]}, r"alpha'\] values must be in \[0, 1\)"),
        ({"penalty": [-0.1]}, "must be >= 0"),
        ({"n_components": [0]}, "integers >= 1"),
        ({"n_components": [2.5]}, "integers >= 1"),
        ({"alpha": [0.1, 0.1]}, "duplicated"),
        ({"l1_ratio": [float("nan")]}, "non-finite"),
        ([("alpha", [0.1])], "must be a dict"),
    ],
)
def test_bad_grids_are_rejected(grid, match):
    with pytest.raises(ValueError, match=match):
        make_grid(grid)


def test_grid_defaults_and_sorting():
    grid = make_grid({"alpha": [0.5, 0.0], "n_components": 3})
    assert grid["alpha"] == [0.0, 0.5] and grid["n_components"] == [3]
    assert set(grid) == set(GRID_PARAMS) and grid["penalty"] == [0.1]


def test_k_too_large_for_training_folds(sim):
    with pytest.raises(ValueError, match="too large"):
        cross_validate(sim.X, sim.y, param_grid={"n_components": [70]}, n_folds=3)


# ----------------------------------------------------------------------------- selection
def _table(rows):
    base = {p: v for p, v in zip(GRID_PARAMS, [2, 0.0, 0.1, 0.5, 0.0, 0.0], strict=True)}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_one_standard_error_rule_on_constructed_table():
    summary = _table(
        [
            {"n_components": 2, "alpha": 0.5, "mean_cindex": 0.66, "se_cindex": 0.02},
            {"n_components": 2, "alpha": 0.2, "mean_cindex": 0.60, "se_cindex": 0.02},
            {"n_components": 3, "alpha": 0.0, "mean_cindex": 0.675, "se_cindex": 0.03},
            {"n_components": 4, "alpha": 0.8, "mean_cindex": 0.70, "se_cindex": 0.03},
            {"n_components": 2, "alpha": 0.9, "mean_cindex": 0.69, "se_cindex": 0.01},
        ]
    )
    params, idx = select_config(summary, "max")
    assert idx == 3 and params["n_components"] == 4 and params["alpha"] == 0.8
    # threshold 0.70 - 0.03 = 0.67: candidates rows 2 (k=3), 3 (k=4), 4 (k=2, α=0.9);
    # row 0 (0.66) is outside. Smallest k wins, then smallest α.
    params, idx = select_config(summary, "1se")
    assert idx == 4 and params == {
        "n_components": 2,
        "alpha": 0.9,
        "penalty": 0.1,
        "l1_ratio": 0.5,
        "penalty_w": 0.0,
        "penalty_h": 0.0,
    }
    assert isinstance(params["n_components"], int)
    # widen the best SE: now k=2, α=0.5 qualifies and has the smaller α
    summary.loc[3, "se_cindex"] = 0.05
    assert select_config(summary, "1se")[1] == 0
    with pytest.raises(ValueError, match="rule must be"):
        select_config(summary, "2se")
    summary["mean_cindex"] = np.nan
    with pytest.raises(ValueError, match="no configuration"):
        select_config(summary, "max")


def _grid_table(means, ses=None):
    """Summary in grid order from {(k, α): mean} (λ, ξ, λ_W, λ_H at the _table defaults)."""
    rows = [
        {"n_components": k, "alpha": a, "mean_cindex": m, "se_cindex": (ses or {}).get(k, 0.02)}
        for (k, a), m in sorted(means.items())
    ]
    return _table(rows)


def test_rule_1se_k_takes_alpha_by_the_maximum_on_a_flat_curve():
    # flat in α: every α of k = 2 within one SE (0.03) of the best, the maximum at α = 0.75
    alphas = [0.0, 0.25, 0.5, 0.75, 0.9]
    means = dict(zip([(2, a) for a in alphas], [0.700, 0.705, 0.710, 0.720, 0.715], strict=True))
    means.update(zip([(3, a) for a in alphas], [0.690, 0.700, 0.725, 0.710, 0.700], strict=True))
    summary = _grid_table(means, ses={2: 0.03, 3: 0.03})
    one_se, _ = select_config(summary, "1se")
    assert (one_se["n_components"], one_se["alpha"]) == (2, 0.0)  # the old default: NMF + Cox
    best, _ = select_config(summary, "max")
    assert (best["n_components"], best["alpha"]) == (3, 0.5)
    params, idx = select_config(summary, "1se-k")
    assert (params["n_components"], params["alpha"]) == (2, 0.75)
    assert summary.at[idx, "mean_cindex"] == 0.720
    assert isinstance(params["n_components"], int) and isinstance(params["alpha"], float)
    # the default of select_config is the new rule
    assert select_config(summary) == (params, idx)
    # k = 2 no longer within one SE of the best (0.725 - 0.001): the best's k is kept
    summary.loc[summary["n_components"] == 3, "se_cindex"] = 0.001
    params, _ = select_config(summary, "1se-k")
    assert (params["n_components"], params["alpha"]) == (3, 0.5)


def test_rule_1se_k_takes_the_smallest_k_within_one_se_and_its_best_other_parameters():
    rows = [
        # k = 2: best 0.62, outside one SE of the best (0.75 - 0.125 = 0.625)
        {"n_components": 2, "alpha": 0.0, "mean_cindex": 0.60},
        {"n_components": 2, "alpha": 0.5, "mean_cindex": 0.62},
        # k = 3: the per-k best is over λ as well as α: (α 0.5, λ 1.0)
        {"n_components": 3, "alpha": 0.0, "penalty": 0.1, "mean_cindex": 0.63},
        {"n_components": 3, "alpha": 0.0, "penalty": 1.0, "mean_cindex": 0.64},
        {"n_components": 3, "alpha": 0.5, "penalty": 0.1, "mean_cindex": 0.66},
        {"n_components": 3, "alpha": 0.5, "penalty": 1.0, "mean_cindex": 0.70},
        # k = 4, 5: within one SE; k = 6 holds the best
        {"n_components": 4, "alpha": 0.9, "mean_cindex": 0.73},
        {"n_components": 5, "alpha": 0.9, "mean_cindex": 0.74},
        {"n_components": 6, "alpha": 0.25, "mean_cindex": 0.75, "se_cindex": 0.125},
    ]
    summary = _table([{"se_cindex": 0.01, **r} for r in rows])
    params, idx = select_config(summary, "1se-k")
    assert idx == 5
    assert params == {
        "n_components": 3,
        "alpha": 0.5,
        "penalty": 1.0,
        "l1_ratio": 0.5,
        "penalty_w": 0.0,
        "penalty_h": 0.0,
    }
    # "1se" takes the smallest α among k = 3's rows within one SE: (α 0, λ 1.0), 0.64
    assert select_config(summary, "1se")[1] == 3
    assert select_config(summary, "max")[1] == 8
    # a mean exactly at the threshold counts as within (0.75 - 0.125 = 0.625, exact in binary)
    summary.loc[1, "mean_cindex"] = 0.625
    assert select_config(summary, "1se-k")[1] == 1


def test_rule_1se_k_ties():
    # ties within a k: the first row in summary (grid) order, i.e. the smaller α
    summary = _grid_table({(2, 0.0): 0.60, (2, 0.25): 0.70, (2, 0.5): 0.70, (3, 0.5): 0.70})
    params, idx = select_config(summary, "1se-k")
    assert idx == 1 and params["alpha"] == 0.25
    # per-k bests tied across k: the smaller k (as "max" returns the first best row)
    assert select_config(summary, "max")[1] == 1
    # with a zero SE only the tied bests qualify; the smallest k still wins
    summary["se_cindex"] = 0.0
    assert select_config(summary, "1se-k")[1] == 1
    # ties are broken by row order, not by sorting: a reversed table picks the first row
    rev = summary.iloc[::-1]
    assert select_config(rev, "1se-k")[1] == 2


def test_rule_1se_k_ignores_nan_means():
    summary = _grid_table(
        {(2, 0.0): np.nan, (2, 0.5): np.nan, (3, 0.0): 0.65, (3, 0.5): np.nan, (4, 0.5): 0.70},
        ses={2: 0.05, 3: 0.05, 4: 0.06},
    )
    # k = 2 has no finite mean and is skipped; the NaN row of k = 3 is ignored
    params, idx = select_config(summary, "1se-k")
    assert idx == 2 and (params["n_components"], params["alpha"]) == (3, 0.0)
    # a NaN SE of the best (one fold with events): only the best's own k qualifies
    summary.loc[4, "se_cindex"] = np.nan
    assert select_config(summary, "1se-k")[1] == 4
    summary["mean_cindex"] = np.nan
    with pytest.raises(ValueError, match="no configuration"):
        select_config(summary, "1se-k")


@pytest.mark.parametrize("rule", ["2se", "authors", "1SE-K", None, ["1se"]])
def test_unknown_rule_lists_the_rules(rule):
    summary = _grid_table({(2, 0.0): 0.6})
    with pytest.raises(ValueError, match=r"rule must be one of '1se-k', 'max', '1se'"):
        select_config(summary, rule)
    with pytest.raises(ValueError, match=r"rule must be one of '1se-k', 'max', '1se'"):
        DeSurvCV(rule=rule).fit(np.ones((6, 4)), time=np.arange(1.0, 7.0), event=[1, 1] * 3)


def test_1se_k_is_the_default_everywhere(capsys):
    import inspect

    from desurv.cli import _build_parser
    from desurv.cli.workflow import _RULE_CHOICES
    from desurv.model_selection.cross_validation import _RULES

    assert inspect.signature(select_config).parameters["rule"].default == "1se-k"
    assert DeSurvCV().rule == "1se-k" and DeSurvCV().get_params()["rule"] == "1se-k"
    assert _RULE_CHOICES == _RULES
    argv = ["cv", "--expression", "e.tsv", "--clinical", "c.tsv", "--out", "x"]
    assert _build_parser().parse_args(argv).rule == "1se-k"
    assert _build_parser().parse_args([*argv, "--rule", "1se"]).rule == "1se"
    with pytest.raises(SystemExit):
        _build_parser().parse_args([*argv, "--rule", "authors"])
    with pytest.raises(SystemExit):
        _build_parser().parse_args(["cv", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--rule {1se-k,max,1se}" in shown and "(default; the DeSurv authors' rule)" in shown


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(2, 5),
            st.sampled_from([0.0, 0.25, 0.5, 0.9]),
            st.one_of(st.just(np.nan), st.integers(50, 80).map(lambda v: v / 100)),
            st.integers(0, 6).map(lambda v: v / 100),
        ),
        min_size=1,
        max_size=14,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_rule_1se_k_properties(rows):
    summary = _table(
        [{"n_components": k, "alpha": a, "mean_cindex": m, "se_cindex": s} for k, a, m, s in rows]
    )
    finite = summary[np.isfinite(summary["mean_cindex"])]
    if finite.empty:
        return
    _, idx = select_config(summary, "1se-k")
    _, best = select_config(summary, "max")
    threshold = summary.at[best, "mean_cindex"] - summary.at[best, "se_cindex"]
    k = summary.at[idx, "n_components"]
    same_k = finite[finite["n_components"] == k]
    # the chosen row is its k's maximum (first on ties) and within one SE of the best ...
    assert idx == same_k["mean_cindex"].idxmax()
    assert summary.at[idx, "mean_cindex"] >= threshold
    # ... and no smaller k has any configuration within one SE
    assert not (finite[finite["n_components"] < k]["mean_cindex"] >= threshold).any()
    # never a larger k than the best's, never a larger k than "1se" (same threshold)
    assert k <= summary.at[best, "n_components"]
    assert k == summary.at[select_config(summary, "1se")[1], "n_components"]


# ----------------------------------------------------------------------------- runs
def test_results_table_and_summary(sim):
    df = _cv(sim)
    assert len(df) == 3 * 2 * 2 * 3  # folds x seeds x k x alpha
    assert df["cindex"].between(0, 1).all() and df["train_cindex"].between(0, 1).all()
    assert not df["warm_start"].any() and df["w_change"].isna().all()  # cold by default
    assert (df.groupby("fold")["n_val"].first().sum()) == sim.X.shape[0]
    s = summarize_cv(df)
    assert len(s) == 6
    row = s[(s.n_components == 3) & (s.alpha == 0.4)].iloc[0]
    sub = df[(df.n_components == 3) & (df.alpha == 0.4)]
    per_fold = sub.groupby("fold")["cindex"].mean()
    assert row["mean_cindex"] == pytest.approx(per_fold.mean(), abs=1e-15)
    assert row["se_cindex"] == pytest.approx(per_fold.std(ddof=1) / np.sqrt(3), abs=1e-15)
    best = summarize_cv(df, seed_aggregate="best_objective")
    pick = sub.loc[sub.groupby("fold")["objective"].idxmin(), "cindex"]
    row = best[(best.n_components == 3) & (best.alpha == 0.4)].iloc[0]
    assert row["mean_cindex"] == pytest.approx(pick.mean(), abs=1e-15)


def test_warm_start_path_equals_cold_fits_from_the_same_points(sim):
    df = _cv(
        sim, param_grid={"n_components": [2], "alpha": [0.0, 0.3, 0.6]}, n_seeds=1, warm_start=True
    )
    assert not df[df.alpha == 0]["warm_start"].any() and df[df.alpha > 0]["warm_start"].all()
    folds = np.asarray(df.attrs["folds"])
    seed = df.attrs["seeds"][0]
    opts = dict(df.attrs["fit_options"])
    train, val = folds != 1, folds == 1
    Xtr, Xva = sim.X[train].T, sim.X[val].T
    t, e = sim.time, sim.event
    start = prev_W = None
    for alpha in (0.0, 0.3, 0.6):
        kw = {} if start is None else dict(W_init=start.W, H_init=start.H, beta_init=start.beta)
        if start is None:
            kw["random_state"] = seed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = fit_desurv(Xtr, t[train], e[train], 2, alpha=alpha, n_threads=1, **opts, **kw)
        c = concordance_index(t[val], e[val], Xva.T @ start.W @ start.beta)
        got = df[(df.fold == 1) & (df.alpha == alpha)].iloc[0]
        assert got["cindex"] == c
        assert got["n_iter"] == start.n_iter
        if alpha > 0:
            assert got["w_change"] == pytest.approx(
                np.linalg.norm(start.W - prev_W) / np.linalg.norm(prev_W), rel=1e-12, abs=1e-15
            )
        prev_W = start.W


def test_cold_path_restarts_every_alpha(sim):
    warm = _cv(
        sim, param_grid={"n_components": [2], "alpha": [0.0, 0.5]}, n_seeds=1, warm_start=True
    )
    cold = _cv(
        sim, param_grid={"n_components": [2], "alpha": [0.0, 0.5]}, n_seeds=1, warm_start=False
    )
    assert not cold["warm_start"].any()
    a0 = ["cindex", "n_iter", "objective"]
    pd.testing.assert_frame_equal(
        warm[warm.alpha == 0][a0].reset_index(drop=True),
        cold[cold.alpha == 0][a0].reset_index(drop=True),
    )
    assert not np.array_equal(
        warm[warm.alpha == 0.5]["objective"], cold[cold.alpha == 0.5]["objective"]
    )


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_identical_results_for_any_n_jobs(sim, backend):
    one = _cv(sim, n_jobs=1)
    two = _cv(sim, n_jobs=2, backend=backend)
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_float32_cv_agrees_with_float64(sim):
    grid = {"n_components": [2], "alpha": [0.0, 0.5]}
    a = _cv(sim, param_grid=grid, n_seeds=1)
    b = _cv(sim, param_grid=grid, n_seeds=1, dtype="float32")
    np.testing.assert_allclose(b["objective"], a["objective"], rtol=1e-4)
    assert np.abs(b["cindex"] - a["cindex"]).max() < 0.02
    with pytest.raises(ValueError, match="dtype"):
        _cv(sim, param_grid=grid, dtype="float16")


def test_save_and_load_round_trip(sim, tmp_path):
    df = _cv(sim, param_grid={"n_components": [2], "alpha": [0.0, 0.5]}, n_seeds=1)
    path = save_cv_results(df, tmp_path / "cv.csv")
    back = load_cv_results(path)
    pd.testing.assert_frame_equal(df, back, check_exact=True)
    assert back.attrs["seeds"] == df.attrs["seeds"] and back.attrs["folds"] == df.attrs["folds"]
    with pytest.raises(ValueError, match="not found"):
        load_cv_results(tmp_path / "missing.csv")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(ValueError, match="not a desurv CV results file"):
        load_cv_results(tmp_path / "other.csv")


def test_fold_without_events_is_warned_and_skipped(sim):
    event = sim.event.copy()
    folds = np.arange(len(event)) % 3
    event[folds == 2] = False
    from desurv import make_survival_y

    y = make_survival_y(sim.time, event)
    with pytest.warns(DataWarning, match="no events"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        df = cross_validate(
            sim.X, y, param_grid={"n_components": [2]}, folds=folds, n_folds=3, max_iter=30
        )
    assert df[df.fold == 2]["cindex"].isna().all()
    s = summarize_cv(df)
    assert s["n_folds"].iloc[0] == 2
    with pytest.raises(ValueError, match="every fold non-empty"):
        cross_validate(sim.X, y, folds=np.zeros(len(y), dtype=int), n_folds=3)


def test_in_fold_preprocessing_learns_on_the_training_part_only(sim):
    from desurv.model_selection.cross_validation import _fold_data

    rng = np.random.default_rng(0)
    raw = pd.DataFrame(np.log(sim.X + 0.5) + rng.normal(0, 0.1, sim.X.shape))  # has negatives
    raw.columns = [f"g{j}" for j in range(raw.shape[1])]
    folds = stratified_folds(sim.event, 3, random_state=0)
    pre = Preprocessor("rank", n_genes=50)
    data = _fold_data(raw, sim.time, sim.event, folds, 3, pre, None)
    for f, (Xtr, _, _, Xva, _, _) in enumerate(data):
        own = Preprocessor("rank", n_genes=50).fit(raw[folds != f])
        np.testing.assert_array_equal(Xtr, own.transform(raw[folds != f]).to_numpy().T)
        np.testing.assert_array_equal(Xva, own.transform(raw[folds == f]).to_numpy().T)
    with pytest.raises(ValueError, match="negative"):
        cross_validate(raw, sim.y, n_folds=3)


# ----------------------------------------------------------------------------- estimator
def test_desurvcv_selects_refits_and_saves(sim, tmp_path):
    raw = pd.DataFrame(
        sim.X.to_numpy() * 3.0 - 1.0, columns=[f"g{j}" for j in range(sim.X.shape[1])]
    )
    cv = DeSurvCV(
        {"n_components": [2, 3], "alpha": [0.0, 0.5]},
        n_folds=3,
        n_seeds=1,
        max_iter=60,
        refit_n_init=2,
        preprocessor=Preprocessor("rank", n_genes=120),
        random_state=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cv.fit(raw, sim.y)
    s = cv.cv_summary_
    assert s["selected"].sum() == 1 and s.index[s["selected"]][0] == cv.best_index_
    assert cv.rule == "1se-k"  # the default
    assert cv.best_params_ == select_config(s, "1se-k")[0]
    model = cv.best_estimator_
    assert model.n_components == cv.best_params_["n_components"]
    assert model.alpha == cv.best_params_["alpha"]
    assert cv.preprocessor_.n_genes_ == 120
    np.testing.assert_allclose(
        cv.predict(raw), model.predict(cv.preprocessor_.transform(raw)), rtol=0, atol=0
    )
    assert 0.5 < cv.score(raw, sim.y) <= 1.0
    cv.save(tmp_path / "run")
    for name in ("cv_results.csv", "cv_summary.csv", "selected.json", "model.npz"):
        assert (tmp_path / "run" / name).is_file()
    # the rule is stored with the selection; reloaded results reproduce the choice
    sel = json.loads((tmp_path / "run" / "selected.json").read_text())
    assert sel["rule"] == "1se-k"
    again = summarize_cv(load_cv_results(tmp_path / "run" / "cv_results.csv"))
    assert select_config(again, sel["rule"]) == (cv.best_params_, cv.best_index_)
    assert sel["best_params"] == cv.best_params_
    from desurv import load_model

    loaded = load_model(tmp_path / "run" / "model.npz")
    np.testing.assert_array_equal(loaded.W_, model.W_)
    assert loaded.preprocessor_.n_genes_ == 120
    with pytest.raises(ValueError, match="(?i)invalid parameter"):
        cv.set_params(bogus=1)


# ----------------------------------------------------------------------------- optuna
def test_optuna_search_is_deterministic_and_resumable(sim, tmp_path):
    pytest.importorskip("optuna")
    kw = dict(
        search_space={"n_components": (2, 3), "alpha": (0.0, 0.9), "penalty": [0.05, 0.1]},
        n_folds=3,
        n_seeds=1,
        max_iter=40,
        random_state=5,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, a = optimize_hyperparameters(sim.X, sim.y, n_trials=3, **kw)
        _, b = optimize_hyperparameters(sim.X, sim.y, n_trials=3, n_jobs=2, **kw)
        pd.testing.assert_frame_equal(a, b, check_exact=True)
        storage = f"sqlite:///{tmp_path / 'study.db'}"
        _, first = optimize_hyperparameters(sim.X, sim.y, n_trials=2, storage=storage, **kw)
        study, both = optimize_hyperparameters(sim.X, sim.y, n_trials=2, storage=storage, **kw)
    assert len(both) == 4 and list(both["trial"]) == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(both.iloc[:2], first, check_exact=True)
    # the resumed trials propose new points rather than replaying the first call
    assert (
        not both.iloc[2:][["alpha"]]
        .reset_index(drop=True)
        .equals(first[["alpha"]].reset_index(drop=True))
    )
    assert set(both["penalty"]) <= {0.05, 0.1} and both["n_components"].isin([2, 3]).all()
    # a trial's value equals the grid-search score of the same configuration
    row = both.iloc[0]
    grid = {p: [row[p]] for p in GRID_PARAMS}
    grid["n_components"] = [int(row["n_components"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        df = cross_validate(
            sim.X, sim.y, param_grid=grid, **{k: v for k, v in kw.items() if k != "search_space"}
        )
    assert summarize_cv(df)["mean_cindex"].iloc[0] == row["mean_cindex"]
    assert study.best_value == both["mean_cindex"].max()
    params, _ = select_config(both, "1se")
    assert params["n_components"] in (2, 3)


@pytest.mark.parametrize(
    "space, match",
    [
        ({"alpha": (0.5, 0.2)}, "low"),
        ({"alpha": (0.0, 1.0)}, r"search_space\['alpha'\] values must be in"),
        ({"penalty": {"low": 0.0, "high": 1.0, "log": True}}, "log scale"),
        ({"gamma": (0, 1)}, "unknown parameter"),
        ({"alpha": []}, "empty list"),
        ({}, "non-empty"),
    ],
)
def test_bad_search_spaces(sim, space, match):
    pytest.importorskip("optuna")
    with pytest.raises(ValueError, match=match):
        optimize_hyperparameters(sim.X, sim.y, search_space=space, n_trials=1, n_folds=3)


def test_descending_path_starts_cold_at_the_largest_alpha(sim):
    grid = {"n_components": [2], "alpha": [0.0, 0.5]}
    desc = _cv(sim, param_grid=grid, n_seeds=1, warm_start="descending")
    cold = _cv(sim, param_grid=grid, n_seeds=1, warm_start=False)
    assert not desc[desc.alpha == 0.5]["warm_start"].any()
    assert desc[desc.alpha == 0.0]["warm_start"].all()
    cols = ["cindex", "objective"]
    pd.testing.assert_frame_equal(
        desc[desc.alpha == 0.5][cols].reset_index(drop=True),
        cold[cold.alpha == 0.5][cols].reset_index(drop=True),
    )
    with pytest.raises(ValueError, match="warm_start must be"):
        _cv(sim, param_grid=grid, warm_start="sideways")


# ----------------------------------------------------------------------------- warm starts
def test_cold_starts_are_the_default():
    import inspect

    assert inspect.signature(cross_validate).parameters["warm_start"].default is False
    assert DeSurvCV().warm_start is False
    assert "warm_start" not in inspect.signature(optimize_hyperparameters).parameters


def _degenerate_cv(sim, warm_start):
    """Within-sample ranks (the NMF term dominates F): α = 0 converges to an NMF stationary
    point, where the balanced W step has no survival push left for the warm α > 0 fits."""
    from desurv.preprocessing import rank_transform

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = cross_validate(
            rank_transform(sim.X),
            sim.y,
            param_grid={"n_components": [2], "alpha": [0.0, 0.5, 0.9]},
            n_folds=3,
            n_seeds=1,
            random_state=0,
            max_iter=1000,
            warm_start=warm_start,
        )
    return df, [w for w in caught if issubclass(w.category, DataWarning)]


def test_degenerate_warm_path_is_warned(sim):
    df, warned = _degenerate_cv(sim, warm_start=True)
    stalled = df[df.warm_start & (df.n_iter <= 5) & (df.w_change < 1e-3)]
    assert len(stalled) >= 1 and (stalled.alpha > 0).all()
    paths = stalled.groupby(["fold", "seed"])["alpha"].apply(list)
    assert len(warned) == len(paths)  # one warning per degenerate path
    for (fold, seed), alphas in paths.items():
        # the stalled fits reproduce the α = 0 validation C-index of their path
        a0 = df[(df.fold == fold) & (df.seed == seed) & (df.alpha == 0)]["cindex"].iloc[0]
        assert (df[(df.fold == fold) & df.alpha.isin(alphas)]["cindex"] == a0).all()
        msg = next(
            str(w.message) for w in warned if f"(fold {fold}, seed {seed}," in str(w.message)
        )
        assert f"alpha = {', '.join(f'{a:g}' for a in alphas)}" in msg
        assert "warm_start=False" in msg and "n_components=2" in msg
    assert stalled.n_iter.max() <= 5


def test_cold_starts_are_not_warned(sim):
    df, warned = _degenerate_cv(sim, warm_start=False)
    assert not warned and not df.warm_start.any() and df.w_change.isna().all()


def test_degenerate_warm_path_is_warned_on_a_real_cohort():
    from conftest import EXPR, require

    from desurv.datasets import load_cohort

    require(EXPR)
    X, y, _ = load_cohort(EXPR / "gse4335.expression.tsv.gz", EXPR / "gse4335.clinical.tsv")
    Xt = Preprocessor("rank", n_genes=500).fit_transform(X)
    kw = dict(param_grid={"n_components": [3], "alpha": [0.0, 0.5]}, n_folds=3, n_seeds=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warm = cross_validate(Xt, y, random_state=0, warm_start=True, **kw)
        cold = cross_validate(Xt, y, random_state=0, **kw)
    warned = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    stalled = warm[(warm.alpha == 0.5) & (warm.n_iter <= 5) & (warm.w_change < 1e-3)]
    assert len(stalled) >= 1 and len(warned) == len(stalled)  # none from the cold run
    for fold in stalled.fold:
        assert any(f"alpha = 0.5 (fold {fold}," in m for m in warned)
        # the α = 0.5 fit reproduces the α = 0 validation C-index of its fold
        c = warm[warm.fold == fold].set_index("alpha")["cindex"]
        assert c[0.5] == c[0.0]
    assert not cold.warm_start.any()


def test_progress_bar_counts_paths_from_the_first_finished_one(sim, capsys, monkeypatch):
    # the first path includes compiling the kernels: the bar starts its clock after it, so
    # its first drawn state is "1/N" with no rate (and no absurd ETA)
    import desurv._progress as prog

    starts = []
    real = prog.Progress.update

    def spy(self, n=1, postfix=None):
        real(self, n, postfix)
        if self.bar is not None and not starts:
            starts.append((self.bar.n, self.bar.initial, self.bar.format_dict["rate"]))

    monkeypatch.setattr(prog.Progress, "update", spy)
    _cv(sim, param_grid={"n_components": [2], "alpha": [0.0, 0.4]}, n_seeds=1, progress=True)
    assert starts == [(1, 1, None)]
    err = capsys.readouterr().err
    assert "1/3" in err and "path/s" in err  # 3 folds × 1 seed × 1 path, on stderr


def test_cross_validate_refuses_more_folds_than_events(sim):
    from desurv import make_survival_y

    y = make_survival_y(sim.y["time"], np.arange(sim.y.shape[0]) < 3)  # 3 events
    with pytest.raises(ValueError, match="too many"):
        cross_validate(sim.X, y, param_grid={"n_components": [2]}, n_folds=5)


@pytest.mark.parametrize(("top", "k_1se"), [(0.71, 4), (0.703, 3)])
def test_select_n_components_scores_each_k_on_the_given_folds(top, k_1se):
    from sklearn.base import BaseEstimator

    from desurv import make_survival_y
    from desurv.model_selection import select_n_components

    class _ByK(BaseEstimator):
        """Validation C = a value per k, + 0.01 on folds with an odd number of samples."""

        def __init__(self, n_components=2, penalty=0.3):
            self.n_components = n_components
            self.penalty = penalty

        def fit(self, X, y):
            return self

        def score(self, X, y):
            return {2: 0.6, 3: 0.7, 4: top}[self.n_components] + 0.01 * (len(y) % 2)

    X = np.zeros((30, 4))
    y = make_survival_y(np.arange(1.0, 31.0), np.ones(30, dtype=bool))
    folds = np.repeat([0, 1, 2], 10)
    folds[0] = 1  # folds of 9, 11 and 10 samples: fold scores +0.01, +0.01, +0
    k, summary = select_n_components(_ByK(), X, y, [2, 3, 4], folds, rule="max")
    assert k == 4
    assert list(summary["n_components"]) == [2, 3, 4]
    assert (summary["n_folds"] == 3).all() and (summary["penalty"] == 0.3).all()
    np.testing.assert_allclose(summary["mean_cindex"], np.array([0.6, 0.7, top]) + 0.02 / 3)
    se = np.std([0.01, 0.01, 0.0], ddof=1) / np.sqrt(3)  # 0.0033
    np.testing.assert_allclose(summary["se_cindex"], se)
    # 1se-k: the smaller k = 3 is chosen when 0.7 is within one SE of the best mean
    assert select_n_components(_ByK(), X, y, [2, 3, 4], folds)[0] == k_1se
    with pytest.raises(ValueError, match="at least 2 fold labels"):
        select_n_components(_ByK(), X, y, [2], np.zeros(30))
