"""The accelerated W/H step of DeSurv (``acceleration="extrapolation"``, issue 16 target 3).

The extrapolation kernel against its NumPy twin (which forms the projections from X, so the
linearity argument and the correction for floored genes are checked too); the fast loop
against the plain NumPy fit step for step; F monotone on random problems (α = 0, 0.5, 0.9,
semi-supervised too); the same objective and factors as the plain algorithm on a simulated
problem; the API (defaults unchanged, the reference convention refuses the option).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from desurv import ConvergenceWarning, DeSurv, fit_desurv, make_survival_y
from desurv._kernels import _desurv_accel
from desurv._reference import desurv_accel as ref_accel
from desurv._reference.solver import fit_desurv_reference
from desurv.datasets import simulate_desurv
from desurv.evaluation.matching import match_factors

EPS = 1e-12
ACC = dict(acceleration="extrapolation")


def _problem(seed, p=60, n=40, k=3, n_unlabeled=0):
    """X ≈ WH + noise (p × (n + n_unlabeled)), survival of the first n driven by factor 1."""
    rng = np.random.default_rng(seed)
    W = rng.gamma(1.0, 1.0, size=(p, k))
    H = rng.gamma(2.0, 1.0, size=(k, n + n_unlabeled))
    X = W @ H + rng.uniform(0, 0.1, size=(p, n + n_unlabeled))
    risk = (H[0, :n] - H[0, :n].mean()) / H[0, :n].std()
    time = np.round(rng.exponential(np.exp(-risk)), 1) + 0.1
    event = rng.uniform(size=n) < 0.7
    event[0] = True
    W0, H0 = rng.uniform(size=(p, k)), rng.uniform(size=(k, n + n_unlabeled))
    return X[:, :n], X[:, n:], time, event, W0, H0


def _fit(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_desurv(*args, **kw)


# ------------------------------------------------------------------ kernel vs NumPy twin
def _kernel_inputs(seed, p, n, k, dtype=np.float64, high=6.0):
    """Random factors now and at the start of an iteration (start/now ratios up to
    ``high``, so that entries that fell fast are floored by the extrapolation)."""
    rng = np.random.default_rng(seed)
    X = np.ascontiguousarray(rng.gamma(1.0, 1.0, size=(p, n)).astype(dtype))
    W = rng.uniform(size=(k, p))
    W0 = W * rng.uniform(0.2, high, size=(k, p))
    H = rng.uniform(size=(k, n))
    H0 = H * rng.uniform(0.2, high, size=(k, n))
    X64 = X.astype(np.float64)
    return W, W0, X64.T @ W.T, X64.T @ W0.T, H, H0, X


def _run_kernel(W, W0, Z, Z0, H, H0, X, gamma):
    k, p = W.shape
    n = Z.shape[0]
    We, Ze, He = np.empty((k, p)), np.empty((n, k)), np.empty((k, n))
    WtW, HHt = np.empty((k, k)), np.empty((k, k))
    cross, n_rows = _desurv_accel.extrapolate(
        W, W0, Z, Z0, H, H0, X, gamma, EPS, We, Ze, He, WtW, HHt
    )
    return We, Ze, He, WtW, HHt, cross, n_rows


@pytest.mark.parametrize(
    ("p", "n", "k", "gamma", "dtype"),
    [
        (50, 30, 3, 0.7, np.float64),
        (50, 30, 1, 1.0, np.float64),
        (80, 20, 4, 0.3, np.float32),
        (40, 25, 2, 0.0, np.float64),
    ],
)
def test_extrapolation_kernel_matches_numpy_twin(p, n, k, gamma, dtype):
    args = _kernel_inputs(p + k, p, n, k, dtype)
    W, W0, Z, Z0, H, H0, X = args
    got = _run_kernel(W, W0, Z, Z0, H, H0, X, gamma)
    want = ref_accel.extrapolate(W, W0, Z, Z0, H, H0, X, gamma, EPS)
    names = ("We", "Ze", "He", "WtW", "HHt", "cross", "n_rows")
    for g, w, name in zip(got, want, names, strict=True):
        assert_allclose(g, w, rtol=1e-11, atol=1e-12, err_msg=name)
    if gamma > 0:
        assert got[-1] > 0  # the case includes floored genes (the correction is exercised)
    assert np.all(got[0] >= EPS) and np.all(got[2] >= EPS)


def test_extrapolation_kernel_without_floored_genes_reads_no_row():
    W, W0, Z, Z0, H, H0, X = _kernel_inputs(3, 40, 20, 3, high=1.0)  # every entry rose
    got = _run_kernel(W, W0, Z, Z0, H, H0, X, 0.6)
    assert got[-1] == 0
    assert_allclose(got[1], X.T @ got[0].T, rtol=1e-12)


def test_extrapolation_kernel_zero_factors_are_floored_everywhere():
    p, n, k = 30, 12, 2
    X = np.random.default_rng(0).uniform(size=(p, n))
    zW, zZ, zH = np.zeros((k, p)), np.zeros((n, k)), np.zeros((k, n))
    got = _run_kernel(zW, zW, zZ, zZ, zH, zH, X, 0.5)
    want = ref_accel.extrapolate(zW, zW, zZ, zZ, zH, zH, X, 0.5, EPS)
    assert got[-1] == p
    assert_array_equal(got[0], np.full((k, p), EPS))
    for g, w in zip(got, want, strict=True):
        assert_allclose(g, w, rtol=1e-12, atol=1e-30)


# ------------------------------------------------------- fast loop vs plain NumPy fit
@pytest.mark.parametrize(
    ("seed", "k", "alpha", "ties"),
    [(10, 3, 0.5, "breslow"), (12, 3, 0.0, "breslow"), (13, 3, 0.9, "breslow"),
     (15, 2, 0.5, "efron")],
)  # fmt: skip
def test_accelerated_loop_follows_numpy_reference_step_for_step(seed, k, alpha, ties):
    X, _, time, event, W0, H0 = _problem(seed, k=k)
    kw = dict(alpha=alpha, penalty=0.02, ties=ties, max_iter=30, tol=0.0, beta_tol=1e-10, **ACC)
    fast = _fit(X, time, event, k, W_init=W0, H_init=H0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = fit_desurv_reference(X, time, event, W0, H0, **kw)
    assert fast.n_iter == ref["n_iter"] == 30
    assert fast.n_extrapolated == ref["n_extrapolated"] > 0  # the same trials accepted
    for name in ("loss", "nmf_loss", "cox_loss", "enet_beta", "sqnorm_h", "sqnorm_w"):
        assert_allclose(fast.history[name], ref["history"][name], rtol=1e-8, atol=1e-14,
                        err_msg=name)  # fmt: skip
    assert_array_equal(fast.history["theta"], ref["history"]["theta"])
    assert_array_equal(fast.history["backtracks"], ref["history"]["backtracks"])
    assert_allclose(fast.W, ref["W"], rtol=1e-6, atol=1e-6 * ref["W"].max())
    assert_allclose(fast.H, ref["H"], rtol=1e-6, atol=1e-6 * ref["H"].max())
    scale = max(np.abs(ref["beta"]).max(), 1e-12)
    assert_allclose(fast.beta, ref["beta"], rtol=1e-6, atol=1e-6 * scale)


def test_accelerated_semisupervised_loop_follows_numpy_reference():
    X, XU, time, event, W0, H0 = _problem(21, n=40, n_unlabeled=15)
    kw = dict(alpha=0.5, penalty=0.05, penalty_w=0.01, penalty_h=0.01, max_iter=30, tol=0.0,
              beta_tol=1e-10, h_updates=2, **ACC)  # fmt: skip
    fast = _fit(X, time, event, 3, X_unlabeled=XU, W_init=W0, H_init=H0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = fit_desurv_reference(X, time, event, W0, H0, X_unlabeled=XU, **kw)
    assert fast.n_iter == ref["n_iter"] == 30
    assert fast.n_extrapolated == ref["n_extrapolated"] > 0
    for name in ("loss", "nmf_loss", "cox_loss", "enet_beta"):
        assert_allclose(fast.history[name], ref["history"][name], rtol=1e-8, err_msg=name)
    assert_array_equal(fast.history["theta"], ref["history"]["theta"])
    H = np.hstack([fast.H, fast.H_unlabeled])
    assert_allclose(H, ref["H"], rtol=1e-6, atol=1e-6 * ref["H"].max())
    assert_allclose(fast.W, ref["W"], rtol=1e-6, atol=1e-6 * ref["W"].max())


# ------------------------------------------------------------------------ invariants
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("n_unlabeled", [0, 20])
@pytest.mark.parametrize("seed", [1, 2])
def test_objective_never_increases_with_acceleration(alpha, n_unlabeled, seed):
    X, XU, time, event, _, _ = _problem(seed, p=50, n=45, n_unlabeled=n_unlabeled)
    res = _fit(X, time, event, 3, X_unlabeled=XU if n_unlabeled else None, alpha=alpha,
               penalty=0.05, penalty_w=0.01, penalty_h=0.01, n_init=2, max_iter=200, tol=0,
               random_state=seed, **ACC)  # fmt: skip
    loss = res.history["loss"]
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))
    assert loss[-1] < loss[0]
    assert res.n_extrapolated > 0
    # the F carried through accepted extrapolations is the F of the returned point: the
    # final objective (recomputed from X) equals the last F up to the final β refit, which
    # can only lower it
    assert res.objective["loss"] <= loss[-1] * (1 + 1e-9)


def _simulated(seed, alpha):
    d = simulate_desurv(n_samples=60, n_genes=100, n_components=2, n_markers=30,
                        n_background=20, noise_sd=0.05, gene_baseline=(0.0, 0.0),
                        beta=(2.0, 0.0), random_state=seed)  # fmt: skip
    X = d.X.to_numpy().T
    rng = np.random.default_rng(100 + seed)
    W0, H0 = rng.uniform(size=(X.shape[0], 2)), rng.uniform(size=(2, X.shape[1]))
    return X, d.y["time"], d.y["event"], W0, H0


@pytest.mark.parametrize(("seed", "alpha"), [(4, 0.5), (1, 0.0)])
def test_accelerated_and_plain_reach_the_same_objective_and_factors(seed, alpha):
    X, time, event, W0, H0 = _simulated(seed, alpha)
    kw = dict(alpha=alpha, W_init=W0, H_init=H0, max_iter=20_000, tol=1e-9)
    plain = _fit(X, time, event, 2, **kw)
    fast = _fit(X, time, event, 2, **kw, **ACC)
    assert plain.converged and fast.converged
    assert fast.n_extrapolated > 0
    F0, F1 = plain.objective["loss"], fast.objective["loss"]
    assert abs(F1 - F0) <= 1e-4 * abs(F0)
    match = match_factors(plain.W, fast.W)
    assert match.similarity.min() > 0.999
    eta0, eta1 = X.T @ plain.W @ plain.beta, X.T @ fast.W @ fast.beta
    if alpha > 0:
        assert np.corrcoef(eta0, eta1)[0, 1] > 0.999


# ------------------------------------------------------------------------------ the API
def test_default_is_the_plain_algorithm_bit_for_bit():
    X, _, time, event, W0, H0 = _problem(5)
    kw = dict(alpha=0.5, W_init=W0, H_init=H0, max_iter=25, tol=0)
    base = _fit(X, time, event, 3, **kw)
    explicit = _fit(X, time, event, 3, acceleration="none", h_updates=1, theta0=0.5, **kw)
    for name in ("W", "H", "beta"):
        assert_array_equal(getattr(base, name), getattr(explicit, name))
    for name, values in base.history.items():
        assert_array_equal(values, explicit.history[name], err_msg=name)
    assert base.n_extrapolated == 0
    # the accelerated defaults: three H updates, θ0 = 1 (spelled out: the same fit)
    fast = _fit(X, time, event, 3, **ACC, **kw)
    spelled = _fit(X, time, event, 3, h_updates=3, theta0=1.0, **ACC, **kw)
    assert_array_equal(fast.W, spelled.W)
    assert fast.history["theta"][0] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(acceleration="nesterov"), "acceleration must be one of"),
        (dict(acceleration=None), "acceleration must be one of"),
        (dict(h_updates=0), "h_updates must be >= 1"),
        (dict(h_updates=2.5), "h_updates must be a positive integer"),
        (dict(theta0=1.5), r"theta0 must be in \(0, 1\]"),
        (dict(loss_convention="reference", **ACC), "no accelerated step"),
        (dict(loss_convention="reference", h_updates=3), "no accelerated step"),
    ],
)
def test_bad_acceleration_options(kwargs, match):
    X, _, time, event, _, _ = _problem(6)
    with pytest.raises(ValueError, match=match):
        fit_desurv(X, time, event, 2, n_init=1, max_iter=2, **kwargs)


def test_reference_solver_rejects_unknown_acceleration():
    X, _, time, event, W0, H0 = _problem(6)
    with pytest.raises(ValueError, match="acceleration"):
        fit_desurv_reference(X, time, event, W0, H0, acceleration="fast", max_iter=1)


def test_estimator_passes_acceleration_and_reference_refuses_it():
    X, _, time, event, _, _ = _problem(7)
    y = make_survival_y(time, event)
    model = DeSurv(n_components=2, n_init=2, max_iter=50, random_state=0, **ACC)
    assert model.get_params()["acceleration"] == "extrapolation"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.T, y)
    ref = fit_desurv(X, time, event, 2, n_init=2, max_iter=50, random_state=0, warn=False,
                     **ACC)  # fmt: skip
    assert_allclose(model.W_, ref.W, rtol=1e-12)
    bad = DeSurv(n_components=2, n_init=1, max_iter=5, loss_convention="reference", **ACC)
    with pytest.raises(ValueError, match="no accelerated step"):
        bad.fit(X.T, y)
    assert DeSurv().get_params()["acceleration"] == "none"


@pytest.mark.parametrize("unlabeled", [True, False])
def test_trials_whose_floor_bites_are_evaluated_exactly(monkeypatch, unlabeled):
    """A survival push larger than the NMF numerator (α = 0.8, balance="numerator") makes V
    negative; an undamped trial then has negative entries that the ε-floor lifts, and
    XᵀW(θ) ≠ (1−θ)Z + θB. Such trials are evaluated exactly (found by a new-user trial: F rose
    by 2 % and the carried NMF loss drifted 10 % from the truth until the periodic refresh)."""
    from desurv.deconvolution import _loop

    rng = np.random.default_rng(1)
    p, n = 300, 80
    X = rng.gamma(1.0, 1.0, (p, n)) * rng.uniform(0.1, 3, (p, 1))
    time = rng.exponential(10, n)
    event = (rng.uniform(size=n) < 0.5).astype(float)
    XU = rng.gamma(1.0, 1.0, (p, 30)) if unlabeled else None
    calls = []
    real = _loop._exact_trial_terms

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_loop, "_exact_trial_terms", spy)
    res = fit_desurv(
        X, time, event, 2, X_unlabeled=XU, alpha=0.8, balance="numerator", n_init=1,
        max_iter=120, tol=0, random_state=1, acceleration="extrapolation", warn=False,
    )  # fmt: skip
    assert calls, "the floor never bit: the test lost its case"
    loss = res.history["loss"]
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[1:]))
    Xa = X if XU is None else np.hstack([X, XU])
    H = res.H if XU is None else np.hstack([res.H, res.H_unlabeled])
    true_nmf = ((Xa - res.W @ H) ** 2).sum() / (2 * Xa.size)
    np.testing.assert_allclose(res.history["nmf_loss"][-1], true_nmf, rtol=1e-9)


def test_cross_validation_and_desurvcv_pass_the_acceleration_on():
    from desurv.model_selection import DeSurvCV, cross_validate

    sim = simulate_desurv(n_samples=60, n_genes=300, n_markers=30, n_background=50, random_state=4)
    X, y = sim.X, make_survival_y(sim.time, sim.event)
    kw = dict(param_grid={"n_components": [2], "alpha": [0.5]}, n_folds=3, n_seeds=1,
              max_iter=300, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = cross_validate(X, y, **kw)
        fast = cross_validate(X, y, acceleration="extrapolation", **kw)
    assert plain.attrs["fit_options"]["acceleration"] == "none"
    assert fast.attrs["fit_options"]["acceleration"] == "extrapolation"
    # the same folds and starts, a different solver path: fewer iterations
    assert fast["n_iter"].sum() < plain["n_iter"].sum()
    with pytest.raises(ValueError, match="acceleration must be"):
        cross_validate(X, y, acceleration="fast", **kw)
    with pytest.raises(ValueError, match="loss_convention='consistent'"):
        cross_validate(X, y, acceleration="extrapolation", loss_convention="reference", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = DeSurvCV(acceleration="extrapolation", refit_n_init=2, **kw).fit(X, y)
    assert cv.best_estimator_.acceleration == "extrapolation"
