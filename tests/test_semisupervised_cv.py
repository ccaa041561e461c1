"""Model selection and NMF+Cox with unlabelled samples (semi-supervised DeSurv, METHODS.md §F.5).

Checked here: without unlabelled samples the CV is plain DeSurv CV (every row of the results
is the fit_desurv fit of its fold, seed and setting, bit for bit; zero-row ``X_unlabeled`` is
no unlabelled sample); with them the folds are those of the labelled samples alone, every
training part gets all unlabelled samples (each row equals fit_desurv on the labelled
training part with ``X_unlabeled`` = all unlabelled samples, bit for bit, also with an
in-fold preprocessor learned on the labelled training rows), scores use labelled validation
rows only; unlabelled samples given as NaN-time rows or as ``X_unlabeled`` give the same
results; DeSurvCV's refit is DeSurv on all samples; optuna's trial score is the grid's;
select_n_components treats fold -1 as "always training"; NMFCox (both solvers) runs the NMF
on all samples and the Cox model on the labelled ones.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from desurv import NMF, ConvergenceWarning, DeSurv, NMFCox, fit_desurv
from desurv.datasets import simulate_desurv
from desurv.model_selection import (
    DeSurvCV,
    cross_validate,
    optimize_hyperparameters,
    select_n_components,
    stratified_folds,
    summarize_cv,
)
from desurv.preprocessing import Preprocessor
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import coxnet_fit

N_LAB, N_UNL = 60, 30
GRID = {"n_components": [2], "alpha": [0.0, 0.5]}
CV = dict(param_grid=GRID, n_folds=3, n_seeds=1, random_state=0, max_iter=30)


@pytest.fixture(scope="module")
def sim():
    return simulate_desurv(
        n_samples=N_LAB + N_UNL, n_genes=80, n_markers=15, n_background=30, random_state=3
    )


@pytest.fixture(scope="module")
def parts(sim):
    """(X_L, y_L, X_U): the first 60 samples labelled, the last 30 without follow-up."""
    return sim.X.iloc[:N_LAB], sim.y[:N_LAB], sim.X.iloc[N_LAB:]


def _y_nan(y, labeled):
    """Structured survival array with NaN time (event False) where ``labeled`` is False."""
    out = np.zeros(labeled.shape[0], dtype=[("event", bool), ("time", float)])
    out["time"] = np.nan
    out["event"][labeled] = y["event"]
    out["time"][labeled] = y["time"]
    return out


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kw)


def _check_rows_are_direct_fits(df, X_L, y_L, X_U=None, preprocessor=None):
    """Every row of cross_validate's results is the fit_desurv fit of its fold (labelled
    training rows + all unlabelled samples), scored on the labelled validation rows."""
    folds = np.asarray(df.attrs["folds"])
    folds = folds[folds >= 0]  # the labelled rows, in order
    opts = df.attrs["fit_options"]
    for f in range(df.attrs["n_folds"]):
        tr, va = folds != f, folds == f
        Xtr, Xva, XU = X_L[tr], X_L[va], X_U
        if preprocessor is not None:
            pre = Preprocessor(**preprocessor.get_params()).fit(Xtr)
            Xtr, Xva = pre.transform(Xtr), pre.transform(Xva)
            XU = None if XU is None else pre.transform(XU)
        Xtr, Xva = np.asarray(Xtr).T, np.asarray(Xva).T
        XU = None if XU is None else np.asarray(XU).T
        for _, row in df[df.fold == f].iterrows():
            res = _quiet(
                fit_desurv, Xtr, y_L["time"][tr], y_L["event"][tr], int(row.n_components),
                X_unlabeled=XU, alpha=row.alpha, penalty=row.penalty, l1_ratio=row.l1_ratio,
                penalty_w=row.penalty_w, penalty_h=row.penalty_h, random_state=int(row.seed),
                warn=False, n_threads=1, **opts,
            )  # fmt: skip
            eta = Xva.T @ res.W @ res.beta
            assert row.cindex == concordance_index(y_L["time"][va], y_L["event"][va], eta)
            assert row.objective == res.objective["loss"] and row.n_iter == res.n_iter
            eta_tr = Xtr.T @ res.W @ res.beta
            assert row.train_cindex == concordance_index(y_L["time"][tr], y_L["event"][tr], eta_tr)
            assert row.n_val == va.sum() and row.n_val_events == y_L["event"][va].sum()


# ------------------------------------------------------------------- no unlabelled sample
def test_without_unlabeled_cv_is_plain_desurv_cv_bit_for_bit(parts):
    X_L, y_L, _ = parts
    df = _quiet(cross_validate, X_L, y_L, **CV)
    _check_rows_are_direct_fits(df, X_L, y_L)
    assert "n_unlabeled" not in df.attrs and min(df.attrs["folds"]) == 0
    # zero unlabelled rows are no unlabelled sample
    empty = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_L.iloc[:0], **CV)
    pd.testing.assert_frame_equal(df, empty, check_exact=True)
    assert df.attrs == empty.attrs


# ------------------------------------------------------------------ with unlabelled samples
@pytest.mark.parametrize("preprocessor", [None, Preprocessor(n_genes=40)])
def test_semisupervised_cv_rows_are_direct_semisupervised_fits(parts, preprocessor):
    X_L, y_L, X_U = parts
    df = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_U, preprocessor=preprocessor, **CV)
    # the folds are those of the labelled samples alone
    want = stratified_folds(y_L["event"], 3, random_state=0, require_events=True)
    assert_array_equal(df.attrs["folds"], want)
    assert df.attrs["n_unlabeled"] == N_UNL
    _check_rows_are_direct_fits(df, X_L, y_L, X_U, preprocessor)
    # every labelled sample is validated exactly once per setting
    assert (df.groupby("alpha")["n_val"].sum() == N_LAB).all()
    # the genes of X_unlabeled are matched by name
    shuffled = X_U[X_U.columns[::-1]]
    df2 = _quiet(cross_validate, X_L, y_L, X_unlabeled=shuffled, preprocessor=preprocessor, **CV)
    pd.testing.assert_frame_equal(df, df2, check_exact=True)


def test_nan_time_rows_equal_x_unlabeled(parts):
    X_L, y_L, X_U = parts
    a = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_U, **CV)
    # the unlabelled samples interleaved with the labelled ones (same relative order)
    rng = np.random.default_rng(1)
    labeled = np.zeros(N_LAB + N_UNL, dtype=bool)
    labeled[np.sort(rng.choice(N_LAB + N_UNL, N_LAB, replace=False))] = True
    order = np.empty(N_LAB + N_UNL, dtype=int)
    order[labeled], order[~labeled] = np.arange(N_LAB), N_LAB + np.arange(N_UNL)
    X_all = pd.concat([X_L, X_U]).iloc[order]
    b = _quiet(cross_validate, X_all, _y_nan(y_L, labeled), **CV)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    folds_b = np.asarray(b.attrs["folds"])
    assert_array_equal(folds_b[labeled], a.attrs["folds"])
    assert (folds_b[~labeled] == -1).all() and b.attrs["n_unlabeled"] == N_UNL
    # half as NaN rows, half as X_unlabeled; the same with time=/event=
    h = N_UNL // 2
    X_half = pd.concat([X_L, X_U.iloc[:h]])
    y_half = _y_nan(y_L, np.r_[np.ones(N_LAB, bool), np.zeros(h, bool)])
    c = _quiet(cross_validate, X_half, y_half, X_unlabeled=X_U.iloc[h:], **CV)
    pd.testing.assert_frame_equal(a, c, check_exact=True)
    ev = np.where(np.isnan(y_half["time"]), np.nan, y_half["event"])  # NaN events allowed
    d = _quiet(cross_validate, X_half, time=y_half["time"], event=ev,
               X_unlabeled=X_U.iloc[h:], **CV)  # fmt: skip
    pd.testing.assert_frame_equal(a, d, check_exact=True)
    # the folds of the results can be given back (the unlabelled rows keep -1)
    e = _quiet(cross_validate, X_all, _y_nan(y_L, labeled), folds=folds_b, **CV)
    pd.testing.assert_frame_equal(a, e, check_exact=True)


def test_warm_start_path_with_unlabeled(parts):
    """A warm α path hands the unlabelled exposures on too: each warm fit equals fit_desurv
    from the previous solution with H_init = [H | H_unlabeled]."""
    X_L, y_L, X_U = parts
    df = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_U, warm_start=True, **CV)
    folds, opts = np.asarray(df.attrs["folds"]), df.attrs["fit_options"]
    tr = folds != 0
    args = (X_L[tr].to_numpy().T, y_L["time"][tr], y_L["event"][tr], 2)
    kw = dict(X_unlabeled=X_U.to_numpy().T, warn=False, n_threads=1, **opts)
    a0 = _quiet(fit_desurv, *args, alpha=0.0, random_state=df.attrs["seeds"][0], **kw)
    a1 = _quiet(fit_desurv, *args, alpha=0.5, W_init=a0.W, beta_init=a0.beta,
                H_init=np.hstack([a0.H, a0.H_unlabeled]), **kw)  # fmt: skip
    got = df[df.fold == 0].set_index("alpha")
    assert got.loc[0.0, "objective"] == a0.objective["loss"]
    assert got.loc[0.5, "objective"] == a1.objective["loss"] and got.loc[0.5, "warm_start"]


def test_k_bound_counts_the_unlabeled_samples(sim):
    """k may exceed the labelled training samples when the unlabelled ones make up for it."""
    X = sim.X.iloc[:8]
    y = sim.y[:8].copy()
    y["event"] = [True, False] * 4
    kw = dict(param_grid={"n_components": [5], "alpha": [0.5]}, n_folds=2, n_seeds=1,
              max_iter=3, random_state=0)  # fmt: skip
    with pytest.raises(ValueError, match="training folds have 4 samples"):
        _quiet(cross_validate, X, y, **kw)
    df = _quiet(cross_validate, X, y, X_unlabeled=sim.X.iloc[8:14], **kw)
    assert len(df) == 2 and df.attrs["n_unlabeled"] == 6


def test_bad_unlabeled_input(parts):
    X_L, y_L, X_U = parts
    with pytest.raises(ValueError, match="X_unlabeled lacks 1 of X's genes"):
        cross_validate(X_L, y_L, X_unlabeled=X_U.iloc[:, 1:], **CV)
    neg = X_U.copy()
    neg.iloc[0, 0] = -1.0
    with pytest.raises(ValueError, match="X_unlabeled"):
        cross_validate(X_L, y_L, X_unlabeled=neg, **CV)
    y = _y_nan(y_L, np.r_[np.ones(N_LAB, bool), np.zeros(3, bool)])
    y["event"][-1] = True  # an event without a time
    with pytest.raises(ValueError, match="time NaN"):
        cross_validate(pd.concat([X_L, X_U.iloc[:3]]), y, **CV)
    with pytest.raises(ValueError, match="-1 for the 3 unlabelled"):
        y["event"][-1] = False
        cross_validate(pd.concat([X_L, X_U.iloc[:3]]), y, folds=np.arange(N_LAB + 3) % 3, **CV)


# ------------------------------------------------------------------------------- DeSurvCV
def test_desurvcv_refits_on_all_samples(parts):
    X_L, y_L, X_U = parts
    kw = dict(n_folds=3, n_seeds=1, max_iter=30, refit_n_init=2, random_state=0)
    cv = _quiet(DeSurvCV(GRID, **kw).fit, X_L, y_L, X_unlabeled=X_U)
    df = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_U, **CV, n_init=1)
    pd.testing.assert_frame_equal(cv.cv_results_, df, check_exact=True)
    ref = _quiet(
        DeSurv(**cv.best_params_, n_init=2, max_iter=30, random_state=0, n_threads=1).fit,
        X_L, y_L, X_unlabeled=X_U,
    )  # fmt: skip
    m = cv.best_estimator_
    for name in ("W_", "H_", "H_unlabeled_", "coef_", "mean_z_", "sd_z_"):
        assert_array_equal(getattr(m, name), getattr(ref, name), err_msg=name)
    assert (m.n_labeled_, m.n_unlabeled_) == (N_LAB, N_UNL)
    # zero unlabelled rows: plain DeSurvCV
    a = _quiet(DeSurvCV(GRID, **kw).fit, X_L, y_L)
    b = _quiet(DeSurvCV(GRID, **kw).fit, X_L, y_L, X_unlabeled=X_U.iloc[:0])
    pd.testing.assert_frame_equal(a.cv_results_, b.cv_results_, check_exact=True)
    assert_array_equal(a.best_estimator_.W_, b.best_estimator_.W_)
    assert b.best_estimator_.n_unlabeled_ == 0


def test_desurvcv_nan_rows_and_preprocessor_learned_on_labelled_samples(parts):
    X_L, y_L, X_U = parts
    X_all = pd.concat([X_L, X_U])
    y_all = _y_nan(y_L, np.r_[np.ones(N_LAB, bool), np.zeros(N_UNL, bool)])
    pre = Preprocessor(n_genes=40)
    kw = dict(n_folds=3, n_seeds=1, max_iter=30, refit_n_init=2, random_state=0)
    cv = _quiet(DeSurvCV(GRID, preprocessor=pre, **kw).fit, X_all, y_all)
    assert (cv.folds_[N_LAB:] == -1).all() and cv.folds_.shape == (N_LAB + N_UNL,)
    assert_array_equal(cv.preprocessor_.genes_, Preprocessor(n_genes=40).fit(X_L).genes_)
    assert set(cv.preprocessor_.genes_) != set(Preprocessor(n_genes=40).fit(X_all).genes_)
    assert (cv.best_estimator_.n_labeled_, cv.best_estimator_.n_unlabeled_) == (N_LAB, N_UNL)
    other = _quiet(DeSurvCV(GRID, preprocessor=pre, **kw).fit, X_L, y_L, X_unlabeled=X_U)
    pd.testing.assert_frame_equal(cv.cv_results_, other.cv_results_, check_exact=True)
    assert_array_equal(cv.best_estimator_.W_, other.best_estimator_.W_)
    assert_array_equal(cv.best_estimator_.coef_, other.best_estimator_.coef_)


# ----------------------------------------------------------------------------------- optuna
def test_optuna_trial_score_equals_the_grid_with_unlabeled(parts):
    pytest.importorskip("optuna")
    X_L, y_L, X_U = parts
    space = {"n_components": 2, "alpha": 0.5}  # one fixed configuration
    kw = dict(n_folds=3, n_seeds=1, max_iter=30, random_state=0)
    _, trials = _quiet(
        optimize_hyperparameters, X_L, y_L, X_unlabeled=X_U, search_space=space, n_trials=1, **kw
    )
    grid = _quiet(cross_validate, X_L, y_L, X_unlabeled=X_U,
                  param_grid={"n_components": [2], "alpha": [0.5]}, **kw)  # fmt: skip
    assert trials["mean_cindex"].iloc[0] == summarize_cv(grid)["mean_cindex"].iloc[0]


# ------------------------------------------------------------------- select_n_components
def test_select_n_components_keeps_unlabeled_rows_in_training(parts):
    X_L, y_L, X_U = parts
    est = NMFCox(solver="cd", cd_max_iter=200, random_state=0)
    folds = stratified_folds(y_L["event"], 3, random_state=0)
    k1, s1 = _quiet(select_n_components, est, X_L, y_L, [2, 3], folds, X_unlabeled=X_U)
    X_all = pd.concat([X_L, X_U])
    y_all = _y_nan(y_L, np.r_[np.ones(N_LAB, bool), np.zeros(N_UNL, bool)])
    folds_all = np.r_[folds, np.full(N_UNL, -1)]
    k2, s2 = _quiet(select_n_components, est, X_all, y_all, [2, 3], folds_all)
    pd.testing.assert_frame_equal(s1, s2, check_exact=True)
    assert k1 == k2 and (s1["n_folds"] == 3).all()
    # the k = 2 scores by hand: every fit has all unlabelled samples, scored on labelled rows
    scores = []
    for f in range(3):
        va = folds == f
        m = _quiet(NMFCox(n_components=2, solver="cd", cd_max_iter=200, random_state=0).fit,
                   X_L[~va], y_L[~va], X_unlabeled=X_U)  # fmt: skip
        assert m.n_unlabeled_ == N_UNL
        scores.append(m.score(X_L[va], y_L[va]))
    assert s1["mean_cindex"].iloc[0] == pytest.approx(np.mean(scores), abs=1e-15)


# --------------------------------------------------------------------------------- NMFCox
def test_nmfcox_cd_nmf_on_all_samples_cox_on_labelled(parts):
    X_L, y_L, X_U = parts
    m = _quiet(NMFCox(n_components=3, solver="cd", cd_max_iter=500, random_state=0).fit,
               X_L, y_L, X_unlabeled=X_U)  # fmt: skip
    XA = pd.concat([X_L, X_U]).to_numpy()
    nmf = NMF(n_components=3, solver="cd", init="nndsvda", tol=1e-6, max_iter=500, random_state=0)
    Ht = _quiet(nmf.fit_transform, XA)
    H_all = np.hstack([m.H_, m.H_unlabeled_])
    assert m.H_.shape == (3, N_LAB) and m.H_unlabeled_.shape == (3, N_UNL)
    assert_allclose(m.W_ @ H_all, nmf.components_.T @ Ht.T, rtol=1e-12, atol=1e-12)
    n, p = XA.shape
    err = np.linalg.norm(XA.T - m.W_ @ H_all) ** 2 / (2 * n * p)  # normalised by n_all
    assert_allclose(m.objective_["nmf_loss"], err, rtol=1e-9)
    # Cox on the labelled projections only
    Z = X_L.to_numpy() @ m.W_
    assert_allclose(m.mean_z_, Z.mean(axis=0), rtol=1e-12)
    assert_allclose(m.sd_z_, Z.std(axis=0, ddof=1), rtol=1e-10)
    fit = coxnet_fit(Z, y_L["time"], y_L["event"], 0.1, 0.5, tol=1e-6, max_iter=500)
    assert_allclose(m.coef_, fit.coef, rtol=1e-6, atol=1e-10)
    assert (m.n_labeled_, m.n_unlabeled_, m.n_events_) == (N_LAB, N_UNL, y_L["event"].sum())
    # the same samples as NaN-time rows of X: the same fit
    y_all = _y_nan(y_L, np.r_[np.ones(N_LAB, bool), np.zeros(N_UNL, bool)])
    b = _quiet(NMFCox(n_components=3, solver="cd", cd_max_iter=500, random_state=0).fit,
               pd.concat([X_L, X_U]), y_all)  # fmt: skip
    for name in ("W_", "coef_", "mean_z_", "sd_z_"):
        assert_array_equal(getattr(b, name), getattr(m, name), err_msg=name)
    assert_array_equal(b.H_, H_all)
    assert b.objective_ == m.objective_
    assert_allclose(b.baseline_cumulative_hazard_, m.baseline_cumulative_hazard_, rtol=1e-12)


def test_nmfcox_mu_is_semisupervised_desurv_at_alpha_zero(parts):
    X_L, y_L, X_U = parts
    kw = dict(n_components=2, n_init=2, max_iter=40, random_state=0)
    a = _quiet(NMFCox(**kw).fit, X_L, y_L, X_unlabeled=X_U)
    b = _quiet(DeSurv(alpha=0.0, **kw).fit, X_L, y_L, X_unlabeled=X_U)
    for name in ("W_", "H_", "H_unlabeled_", "coef_", "mean_z_", "sd_z_"):
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.n_unlabeled_ == N_UNL
