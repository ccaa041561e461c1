"""Semi-supervised DeSurv (METHODS.md §F.5): unlabelled samples in the NMF term and H only.

F = (1−α)[‖X − WH‖²/(2 n_all p) + λ_H‖H‖²/(2 n_all k)]
  + α[−ℓ(W, β; X_L, y_L)/n_event + λP_ξ(β ⊙ sd(Z_L))] + λ_W‖W‖²/(2pk),  Z_L = X_Lᵀ W.

Checked here: no unlabelled sample reproduces DeSurv bit for bit; unlabelled samples given as
``X_unlabeled`` or as NaN-time rows give the same fit bit for bit; at α = 0 the factors are
those of DeSurv on the concatenated data, bit for bit; the fast loop follows the NumPy oracle
(``desurv._reference.solver``) step for step; the objective equals a direct NumPy
recomputation; F never increases; the W gradient equals finite differences; the unlabelled
exposures are the nonnegative least-squares fit given W; bad input is rejected.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import nnls

from desurv import ConvergenceWarning, DeSurv, fit_desurv, make_survival_y
from desurv._reference.solver import fit_desurv_reference
from desurv.datasets import SIMULATION_SCENARIOS, simulate_desurv
from desurv.deconvolution._loop import SolverParams, _Problem
from desurv.survival.cox import cox_gradient, cox_partial_log_likelihood, coxnet_fit

N_LAB, N_UNL, K = 60, 40, 3


@pytest.fixture(scope="module")
def sim():
    """One draw of the DeSurv simulation: the first 60 samples labelled, 40 unlabelled."""
    return simulate_desurv(
        **{
            **SIMULATION_SCENARIOS["R0"],
            "n_samples": N_LAB + N_UNL,
            "n_genes": 200,
            "n_markers": 20,
            "n_background": 40,
        },
        random_state=2,
    )


@pytest.fixture(scope="module")
def data(sim):
    X = sim.X.to_numpy().T  # genes × samples
    return X[:, :N_LAB], sim.time[:N_LAB], sim.event[:N_LAB], X[:, N_LAB:]


def _fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_desurv(*args, **kw)


def _assert_same(a, b, fields=("W", "H", "beta", "mean_z", "sd_z", "init_scores")):
    for name in fields:
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.history.keys() == b.history.keys()
    for name in a.history:
        assert_array_equal(a.history[name], b.history[name], err_msg=name)
    assert a.objective == b.objective
    assert (a.n_iter, a.converged, a.beta_reverts) == (b.n_iter, b.converged, b.beta_reverts)


# ------------------------------------------------------------------ no unlabelled sample
SETTINGS = {
    "alpha0": dict(alpha=0.0),
    "alpha0.5": dict(alpha=0.5),
    "numerator": dict(alpha=0.5, balance="numerator"),
    "float32": dict(alpha=0.5, dtype="float32"),
    "reference": dict(alpha=0.5, loss_convention="reference"),
    "blas": dict(alpha=0.5, balance="numerator", n_threads=2),
    "efron_cindex": dict(alpha=0.5, ties="efron", init_select="cindex"),
    "many_factors": dict(alpha=0.3, n_components=17),  # above the compiled products' limit
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_no_unlabeled_sample_is_desurv_bit_for_bit(data, name):
    """An empty X_unlabeled takes the semi-supervised route through the solver (gathering of
    the columns, start, unsorting of H) and must give DeSurv exactly."""
    X, t, e, _ = data
    kw = dict(n_init=2, init_max_iter=10, max_iter=40, tol=0, random_state=5, penalty_w=0.01,
              penalty_h=0.01, **SETTINGS[name])  # fmt: skip
    k = kw.pop("n_components", K)
    plain = _fit(X, t, e, k, **kw)
    semi = _fit(X, t, e, k, X_unlabeled=np.empty((X.shape[0], 0)), **kw)
    _assert_same(plain, semi)
    assert (semi.n_labeled, semi.n_unlabeled) == (N_LAB, 0) == (plain.n_labeled, plain.n_unlabeled)
    assert semi.H_unlabeled.shape == plain.H_unlabeled.shape == (k, 0)


def test_no_unlabeled_sample_custom_start_bit_for_bit(data):
    X, t, e, _ = data
    rng = np.random.default_rng(0)
    W0, H0 = rng.uniform(size=(X.shape[0], K)), rng.uniform(size=(K, N_LAB))
    kw = dict(alpha=0.5, max_iter=30, tol=0, W_init=W0, H_init=H0)
    _assert_same(_fit(X, t, e, K, **kw), _fit(X, t, e, K, X_unlabeled=X[:, :0], **kw))
    kw.pop("H_init")  # H from NNLS on W_init
    _assert_same(_fit(X, t, e, K, **kw), _fit(X, t, e, K, X_unlabeled=X[:, :0], **kw))


def test_estimator_without_unlabeled_is_desurv_bit_for_bit(sim):
    X, y = sim.X.iloc[:N_LAB], sim.y[:N_LAB]
    kw = dict(n_components=K, n_init=2, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = DeSurv(**kw).fit(X, y)
        b = DeSurv(**kw).fit(X, y, X_unlabeled=X.iloc[:0])
    for name in ("W_", "H_", "coef_", "mean_z_", "sd_z_", "baseline_cumulative_hazard_"):
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    pd.testing.assert_frame_equal(a.loss_history_, b.loss_history_)
    assert (b.n_labeled_, b.n_unlabeled_, b.H_unlabeled_.shape) == (N_LAB, 0, (K, 0))


# ----------------------------------------------------------------- two ways to give them
@pytest.mark.parametrize(
    "kw",
    [
        dict(alpha=0.5),
        dict(alpha=0.5, balance="numerator", dtype="float32"),
        dict(alpha=0.5, loss_convention="reference"),
        dict(alpha=0.8, ties="efron", init_select="cindex"),
    ],
)
def test_nan_time_rows_equal_x_unlabeled_bit_for_bit(data, kw):
    """Unlabelled columns of X (NaN time) anywhere, or the same samples as X_unlabeled (same
    relative order), or half and half: the solver sees the same problem."""
    X, t, e, XU = data
    kw = dict(n_init=2, init_max_iter=10, max_iter=40, tol=0, random_state=1, **kw)
    a = _fit(X, t, e, K, X_unlabeled=XU, **kw)
    # the unlabelled samples interleaved with the labelled ones, marked by NaN times
    rng = np.random.default_rng(0)
    n_all = N_LAB + N_UNL
    lab = np.zeros(n_all, dtype=bool)
    lab[rng.choice(n_all, N_LAB, replace=False)] = True
    Xm = np.empty((X.shape[0], n_all))
    Xm[:, lab], Xm[:, ~lab] = X, XU
    tm = np.full(n_all, np.nan)
    tm[lab] = t
    em = np.full(n_all, np.nan)  # NaN events for the unlabelled samples
    em[lab] = e
    b = _fit(Xm, tm, em, K, **kw)
    _assert_same(a, b, fields=("W", "beta", "mean_z", "sd_z", "init_scores"))
    assert_array_equal(b.H[:, lab], a.H)
    assert_array_equal(b.H[:, ~lab], a.H_unlabeled)
    assert (b.n_labeled, b.n_unlabeled, b.H_unlabeled.shape) == (N_LAB, N_UNL, (K, 0))
    # half of the unlabelled samples as NaN columns of X, half as X_unlabeled
    h = N_UNL // 2
    c = _fit(np.hstack([X, XU[:, :h]]), np.r_[t, np.full(h, np.nan)],
             np.r_[e, np.zeros(h, dtype=bool)], K, X_unlabeled=XU[:, h:], **kw)  # fmt: skip
    _assert_same(a, c, fields=("W", "beta", "mean_z", "sd_z", "init_scores"))
    assert_array_equal(c.H, np.hstack([a.H, a.H_unlabeled[:, :h]]))
    assert_array_equal(c.H_unlabeled, a.H_unlabeled[:, h:])
    assert (c.n_labeled, c.n_unlabeled) == (N_LAB, N_UNL)


def test_estimator_nan_rows_equal_x_unlabeled(sim):
    XL, XU = sim.X.iloc[:N_LAB], sim.X.iloc[N_LAB:]
    kw = dict(n_components=K, n_init=2, max_iter=30, random_state=0)
    y_nan = pd.DataFrame({"time": sim.time.copy(), "event": sim.event.astype(float)})
    y_nan.loc[N_LAB:, ["time", "event"]] = np.nan  # hidden follow-up, NaN event
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = DeSurv(**kw).fit(XL, sim.y[:N_LAB], X_unlabeled=XU)
        b = DeSurv(**kw).fit(sim.X, y_nan)
        # the columns of X_unlabeled are matched by name
        c = DeSurv(**kw).fit(XL, sim.y[:N_LAB], X_unlabeled=XU[XU.columns[::-1]])
        # time=/event= with a NaN time and a False event
        tm = np.r_[sim.time[:N_LAB], np.full(N_UNL, np.nan)]
        d = DeSurv(**kw).fit(sim.X, time=tm, event=np.r_[sim.event[:N_LAB], np.zeros(N_UNL, bool)])
    for m in (b, c, d):
        for name in ("W_", "coef_", "mean_z_", "sd_z_"):
            assert_array_equal(getattr(m, name), getattr(a, name), err_msg=name)
        # the baseline from the labelled rows (X·W in another memory layout: rounding only)
        assert_allclose(m.baseline_cumulative_hazard_, a.baseline_cumulative_hazard_, rtol=1e-12)
    for m in (b, d):
        assert_array_equal(m.H_, np.hstack([a.H_, a.H_unlabeled_]))
        assert (m.n_labeled_, m.n_unlabeled_, m.H_unlabeled_.shape) == (N_LAB, N_UNL, (K, 0))
    assert_array_equal(c.H_unlabeled_, a.H_unlabeled_)
    assert (a.n_labeled_, a.n_unlabeled_, a.H_unlabeled_.shape) == (N_LAB, N_UNL, (K, N_UNL))
    assert a.n_events_ == int(sim.event[:N_LAB].sum())
    # transform/predict use W and β only; the centring is the labelled samples' mean Z
    assert_allclose(a.transform(sim.X), sim.X.to_numpy() @ a.W_)
    assert_allclose(a.mean_z_, (XL.to_numpy() @ a.W_).mean(axis=0), rtol=1e-12)
    assert_allclose(a.predict(XU), (XU.to_numpy() @ a.W_ - a.mean_z_) @ a.coef_)


# --------------------------------------------------------------------- α = 0 identity
def test_alpha0_factors_are_desurv_on_the_concatenated_data(data):
    """At α = 0 survival does not enter W or H: the factors equal DeSurv's (α = 0) on
    [X_L | X_U] bit for bit (times of X_U placed after every labelled time, so both solvers
    see the same column order). β differs: it is the Cox fit on Z_L only."""
    X, t, e, XU = data
    kw = dict(alpha=0.0, n_init=3, init_max_iter=10, max_iter=60, tol=0, random_state=4)
    semi = _fit(X, t, e, K, X_unlabeled=XU, **kw)
    t_all = np.r_[t, t.max() + 1.0 + np.arange(N_UNL)]
    full = _fit(np.hstack([X, XU]), t_all, np.r_[e, np.zeros(N_UNL, bool)], K, **kw)
    assert_array_equal(semi.W, full.W)
    assert_array_equal(np.hstack([semi.H, semi.H_unlabeled]), full.H)
    for name in ("loss", "nmf_loss", "sqnorm_w", "sqnorm_h", "theta", "backtracks"):
        assert_array_equal(semi.history[name], full.history[name], err_msg=name)
    assert_array_equal(semi.init_scores, full.init_scores)
    # β: the elastic-net Cox fit on the labelled projections only
    fit = coxnet_fit(X.T @ semi.W, t, e, 0.1, 0.5, tol=1e-6, max_iter=500)
    assert_allclose(semi.beta, fit.coef, rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------- the NumPy oracle and F
@pytest.mark.parametrize(("alpha", "ties"), [(0.5, "breslow"), (0.9, "breslow"), (0.5, "efron")])
def test_fast_loop_follows_numpy_reference_step_for_step(data, alpha, ties):
    X, t, e, XU = data
    rng = np.random.default_rng(3)
    W0, H0 = rng.uniform(size=(X.shape[0], K)), rng.uniform(size=(K, N_LAB + N_UNL))
    kw = dict(alpha=alpha, penalty=0.05, penalty_w=0.01, penalty_h=0.01, max_iter=40, tol=0,
              beta_tol=1e-10, ties=ties)  # fmt: skip
    fast = _fit(X, t, e, K, X_unlabeled=XU, W_init=W0, H_init=H0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = fit_desurv_reference(X, t, e, W0, H0, X_unlabeled=XU, **kw)
    assert fast.n_iter == ref["n_iter"]
    for name in ("loss", "nmf_loss", "cox_loss", "enet_beta", "sqnorm_h", "sqnorm_w"):
        assert_allclose(fast.history[name], ref["history"][name], rtol=1e-8, atol=1e-14,
                        err_msg=name)  # fmt: skip
    assert_array_equal(fast.history["backtracks"], ref["history"]["backtracks"])
    assert_array_equal(fast.history["theta"], ref["history"]["theta"])
    assert_allclose(fast.W, ref["W"], rtol=1e-6, atol=1e-6 * ref["W"].max())
    H = np.hstack([fast.H, fast.H_unlabeled])
    assert_allclose(H, ref["H"], rtol=1e-6, atol=1e-6 * ref["H"].max())
    assert_allclose(fast.beta, ref["beta"], rtol=1e-6, atol=1e-6 * np.abs(ref["beta"]).max())


def test_objective_is_the_f5_formula(data):
    """The reported F and its components equal a direct NumPy evaluation at the fitted point:
    NMF terms over all n_all samples, Cox term and sd(Z) over the labelled ones."""
    X, t, e, XU = data
    alpha, lam, xi, lam_w, lam_h = 0.4, 0.05, 0.3, 0.2, 0.3
    res = _fit(X, t, e, K, X_unlabeled=XU, alpha=alpha, penalty=lam, l1_ratio=xi,
               penalty_w=lam_w, penalty_h=lam_h, n_init=2, max_iter=50, random_state=0)  # fmt: skip
    W, beta = res.W, res.beta
    Xa, H = np.hstack([X, XU]), np.hstack([res.H, res.H_unlabeled])
    p, n_all = Xa.shape
    Z_L = X.T @ W
    sd = Z_L.std(axis=0, ddof=1)
    b = beta * sd
    direct = {
        "nmf_loss": np.sum((Xa - W @ H) ** 2) / (2 * n_all * p),
        "cox_loss": -cox_partial_log_likelihood(Z_L @ beta, t, e) / e.sum(),
        "enet_beta": xi * np.abs(b).sum() + 0.5 * (1 - xi) * b @ b,
        "sqnorm_w": np.sum(W**2) / (2 * p * K),
        "sqnorm_h": np.sum(H**2) / (2 * n_all * K),
    }
    direct["loss"] = (
        (1 - alpha) * (direct["nmf_loss"] + lam_h * direct["sqnorm_h"])
        + alpha * (direct["cox_loss"] + lam * direct["enet_beta"])
        + lam_w * direct["sqnorm_w"]
    )
    for name, value in direct.items():
        assert res.objective[name] == pytest.approx(value, rel=1e-9), name
    assert_allclose(res.mean_z, Z_L.mean(axis=0), rtol=1e-12)
    assert_allclose(res.sd_z, sd, rtol=1e-12)


@pytest.mark.parametrize("balance", ["gradient", "numerator"])
def test_objective_never_increases(data, balance):
    X, t, e, XU = data
    res = _fit(X, t, e, K, X_unlabeled=XU, alpha=0.5, penalty=0.05, penalty_w=0.01,
               penalty_h=0.01, balance=balance, n_init=2, max_iter=150, tol=0,
               random_state=1)  # fmt: skip
    loss = res.history["loss"]
    assert len(loss) > 20  # (tol = 0 stops only when F stays exactly equal)
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))
    assert loss[-1] < loss[0]


def test_w_gradient_matches_finite_differences(data):
    """∂F/∂W = (1−α)/(n_all p)(WH − X)Hᵀ + λ_W/(pk)W − α/n_event·X_L g βᵀ (λ = 0) with
    X = [X_L | X_U], g = ∂ℓ/∂η of the labelled samples: the two parts the W step balances."""
    X, t, e, XU = data
    Xa = np.hstack([X, XU])
    p, n_all = Xa.shape
    rng = np.random.default_rng(1)
    W = rng.uniform(0.2, 1, size=(p, K))
    H = rng.uniform(size=(K, n_all))
    beta = rng.normal(scale=0.05, size=K)
    alpha, lam_w = 0.4, 0.3
    order = np.r_[np.argsort(t, kind="stable"), np.arange(N_LAB, n_all)]
    prm = SolverParams(alpha=alpha, penalty=0.0, l1_ratio=0.5, penalty_w=lam_w, penalty_h=0.0)
    ts = np.sort(t, kind="stable")
    prob = _Problem(np.ascontiguousarray(Xa[:, order]), ts, e[order[:N_LAB]] * 1.0, prm)
    assert (prob.n_labeled, prob.n) == (N_LAB, n_all)
    Hs = np.ascontiguousarray(H[:, order])

    def F(Wm):
        return prob.objective_at(prob.X.T @ Wm, Wm, Hs, beta, np.ones(K)).loss

    _, g, _ = cox_gradient(X.T @ W @ beta, t, e)
    analytic = (
        (1 - alpha) / (n_all * p) * (W @ H - Xa) @ H.T
        + lam_w / (p * K) * W
        - alpha / e.sum() * np.outer(X @ g, beta)
    )
    h = 1e-6
    for i, f in [(0, 0), (5, 1), (17, 2), (150, 0)]:
        E = np.zeros_like(W)
        E[i, f] = h
        fd = (F(W + E) - F(W - E)) / (2 * h)
        assert fd == pytest.approx(analytic[i, f], rel=1e-5, abs=1e-9)


# ------------------------------------------------------------ the unlabelled samples
def test_unlabeled_exposures_fit_the_unlabeled_samples(data):
    """H_U ≥ 0 and W H_U reconstructs X_U as well as the nonnegative least-squares fit given
    W does (H's update is the NMF one over all columns), as for the labelled samples."""
    X, t, e, XU = data
    res = _fit(X, t, e, K, X_unlabeled=XU, alpha=0.5, n_init=2, max_iter=300, random_state=0)
    for M, H in ((X, res.H), (XU, res.H_unlabeled)):
        assert np.all(H > 0)
        err = np.linalg.norm(M - res.W @ H)
        best = np.column_stack([nnls(res.W, M[:, j])[0] for j in range(M.shape[1])])
        err_best = np.linalg.norm(M - res.W @ best)
        assert err_best <= err <= 1.001 * err_best
        assert err / np.linalg.norm(M) < 0.05
    # the unlabelled samples change the programs (they are in the NMF term)
    alone = _fit(X, t, e, K, alpha=0.5, n_init=2, max_iter=300, random_state=0)
    assert np.abs(alone.W - res.W).max() > 1e-3


# ------------------------------------------------------------------------- bad input
def test_bad_input_is_rejected(data):
    X, t, e, XU = data
    with pytest.raises(ValueError, match="X_unlabeled has 199 genes"):
        fit_desurv(X, t, e, K, X_unlabeled=XU[:-1])
    with pytest.raises(ValueError, match="negative"):
        fit_desurv(X, t, e, K, X_unlabeled=-XU)
    bad = XU.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_unlabeled"):
        fit_desurv(X, t, e, K, X_unlabeled=bad)
    tn = t.copy()
    tn[:3] = np.nan
    en = e.copy()
    en[:3] = True
    with pytest.raises(ValueError, match="time NaN .*unlabelled.* event"):
        fit_desurv(X, tn, en, K)
    one = np.full_like(t, np.nan)
    one[0] = 1.0
    with pytest.raises(ValueError, match="at least 2 labelled"):
        fit_desurv(X, one, np.r_[True, np.zeros(N_LAB - 1, bool)], K)
    with pytest.raises(ValueError, match="H_init must have shape"):
        W0 = np.random.default_rng(0).uniform(0.1, 1.0, size=(X.shape[0], K))
        fit_desurv(X, t, e, K, X_unlabeled=XU, W_init=W0, H_init=np.ones((K, N_LAB)))
    with pytest.raises(ValueError, match="mismatched|samples"):
        fit_desurv(X, np.r_[t, np.nan], e, K)


def test_estimator_bad_input_is_rejected(sim):
    XL, XU = sim.X.iloc[:N_LAB], sim.X.iloc[N_LAB:]
    y = sim.y[:N_LAB]
    est = DeSurv(n_components=K, n_init=1, max_iter=2)
    with pytest.raises(ValueError, match="lacks 1 of X's genes"):
        est.fit(XL, y, X_unlabeled=XU.iloc[:, 1:])
    with pytest.raises(ValueError, match="has 1 genes that X does not have"):
        est.fit(XL, y, X_unlabeled=XU.assign(extra=1.0))
    with pytest.raises(ValueError, match="X_unlabeled has 199 genes"):
        est.fit(XL.to_numpy(), y, X_unlabeled=XU.to_numpy()[:, 1:])
    y_bad = make_survival_y(sim.time, sim.event).astype([("event", "f8"), ("time", "f8")])
    y_bad["time"][N_LAB:] = np.nan
    y_bad["event"][N_LAB:] = 1.0
    with pytest.raises(ValueError, match="unlabelled"):
        est.fit(sim.X, y_bad)
    with pytest.raises(ValueError, match="events"):  # two events needed among the labelled
        est.fit(sim.X, time=np.r_[sim.time[:3], np.full(97, np.nan)], event=np.r_[True, False,
                False, np.zeros(97, bool)])  # fmt: skip
    # names on one side only: matched by position, with a warning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="by position"):
            est.fit(XL, y, X_unlabeled=XU.to_numpy())


def test_semisupervised_model_round_trips_through_the_model_file(tmp_path):
    """save_model / load_model keep n_labeled_, n_unlabeled_ and H_unlabeled_ exactly."""
    from desurv import DeSurv, load_model, make_survival_y

    rng = np.random.default_rng(4)
    X = rng.gamma(2.0, 1.0, size=(40, 30))
    XU = rng.gamma(2.0, 1.0, size=(15, 30))
    y = make_survival_y(rng.exponential(5.0, 40), rng.random(40) < 0.6)
    est = DeSurv(n_components=2, alpha=0.5, max_iter=20, random_state=0).fit(X, y, X_unlabeled=XU)
    path = tmp_path / "semi.desurv"
    est.save(path)
    back = load_model(path)
    assert (back.n_labeled_, back.n_unlabeled_) == (40, 15)
    np.testing.assert_array_equal(back.H_unlabeled_, est.H_unlabeled_)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
