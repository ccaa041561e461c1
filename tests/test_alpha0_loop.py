"""The compiled α = 0 loop (desurv/_kernels/_alpha0_loop.py) against its twin, the Python loop
of desurv.deconvolution._loop.run_loop (COMPILED_ALPHA0 = False), and where it applies."""

import warnings

import numpy as np
import pytest

from desurv import fit_desurv
from desurv.datasets import simulate_desurv
from desurv.deconvolution import _loop


@pytest.fixture(scope="module")
def data():
    sim = simulate_desurv(n_samples=80, n_genes=1000, n_components=3, random_state=11)
    return np.ascontiguousarray(sim.X.to_numpy().T), sim.time, sim.event


def _fit(data, k=3, **kw):
    X, time, event = data
    if isinstance(kw.get("W_init"), str):  # a custom start (needed for beta_init)
        kw["W_init"] = np.random.default_rng(3).uniform(0.1, 1.0, size=(X.shape[0], k))
    base = dict(alpha=0.0, n_init=1, max_iter=130, tol=0.0, random_state=4, warn=False)
    return fit_desurv(X, time, event, k, **{**base, **kw})


def _both(data, monkeypatch, **kw):
    """The same fit by the compiled loop and by the Python loop, and how often each ran."""
    calls = []
    real = _loop._run_alpha0

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_loop, "_run_alpha0", spy)
    compiled = _fit(data, **kw)
    n_compiled = len(calls)
    monkeypatch.setattr(_loop, "COMPILED_ALPHA0", False)
    python = _fit(data, **kw)
    assert len(calls) == n_compiled  # the switch really runs the Python loop
    monkeypatch.setattr(_loop, "COMPILED_ALPHA0", True)
    return compiled, python, n_compiled


def _assert_same_fit(a, b, rtol=1e-10):
    assert a.n_iter == b.n_iter and a.converged == b.converged
    for name in ("loss", "nmf_loss", "sqnorm_w", "sqnorm_h", "theta", "backtracks"):
        np.testing.assert_allclose(a.history[name], b.history[name], rtol=rtol, err_msg=name)
    # ℓ enters the history only (F has no Cox term at α = 0); Numba vs Cython log-sum-exp
    np.testing.assert_allclose(a.history["cox_loss"], b.history["cox_loss"], rtol=1e-12)
    np.testing.assert_allclose(a.history["enet_beta"], b.history["enet_beta"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(a.W, b.W, rtol=1e-8, atol=1e-13)
    np.testing.assert_allclose(a.H, b.H, rtol=1e-8, atol=1e-13)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"dtype": "float32"},
        {"penalty_w": 0.3, "penalty_h": 0.05},
        {"ties": "efron", "beta_init": np.array([0.4, -0.3, 0.2]), "W_init": "uniform"},
        {"h_updates": 3},
        {"max_iter": 50},  # ends on a refresh of Z and WᵀW (every 50 iterations)
        {"max_iter": 51},
    ],
    ids=["default", "float32", "ridge", "efron-beta", "h_updates", "refresh-last", "after-refresh"],
)
def test_compiled_loop_follows_the_python_loop(data, monkeypatch, kw):
    a, b, n = _both(data, monkeypatch, **kw)
    assert n >= 1
    _assert_same_fit(a, b)
    assert a.history["backtracks"].dtype == np.int64


@pytest.mark.parametrize("k", [1, 6])
def test_compiled_loop_at_the_ends_of_k(data, monkeypatch, k):
    a, b, n = _both(data, monkeypatch, k=k)
    assert n >= 1
    _assert_same_fit(a, b)


def test_compiled_loop_stops_where_the_python_loop_stops(data, monkeypatch):
    a, b, n = _both(data, monkeypatch, tol=1e-5, max_iter=2000)
    assert n >= 1 and a.converged and 5 < a.n_iter < 2000
    _assert_same_fit(a, b)


def test_compiled_loop_warns_when_not_converged(data):
    with pytest.warns(Warning, match="did not converge in max_iter=7"):
        _fit(data, tol=1e-14, max_iter=7, warn=True)


def test_compiled_loop_semi_supervised(data, monkeypatch):
    X, time, event = data
    X_l, X_u = X[:, :60], X[:, 60:]
    kw = dict(alpha=0.0, n_init=1, max_iter=80, tol=0.0, random_state=4, warn=False)
    calls = []
    real = _loop._run_alpha0
    monkeypatch.setattr(_loop, "_run_alpha0", lambda *a: calls.append(1) or real(*a))
    a = fit_desurv(X_l, time[:60], event[:60], 3, X_unlabeled=X_u, **kw)
    monkeypatch.setattr(_loop, "COMPILED_ALPHA0", False)
    b = fit_desurv(X_l, time[:60], event[:60], 3, X_unlabeled=X_u, **kw)
    assert len(calls) >= 1
    _assert_same_fit(a, b)


def test_passes_over_x_are_counted_alike(data, monkeypatch):
    X, time, event = data
    counts = []
    real_init = _loop._Problem.__init__

    def init(self, *args, **kw):
        real_init(self, *args, **kw)
        counts.append(self)

    monkeypatch.setattr(_loop._Problem, "__init__", init)
    _fit(data, max_iter=60)
    monkeypatch.setattr(_loop, "COMPILED_ALPHA0", False)
    _fit(data, max_iter=60)
    assert counts[0].rows_read == counts[1].rows_read > 60 * X.shape[0]


@pytest.mark.parametrize(
    "kw",
    [
        {"alpha": 0.3},
        {"loss_convention": "reference"},
        {"acceleration": "extrapolation"},
        {"n_threads": 2},
        {"callback": lambda it, obj: None},
    ],
    ids=["alpha>0", "reference", "extrapolation", "two-threads", "callback"],
)
def test_other_fits_keep_the_python_loop(data, monkeypatch, kw):
    calls = []
    real = _loop._run_alpha0
    monkeypatch.setattr(_loop, "_run_alpha0", lambda *a: calls.append(1) or real(*a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _fit(data, max_iter=5, W_init="uniform", **kw)  # custom start: no multi-start runs
    assert calls == []


def test_callback_fit_equals_the_compiled_fit(data):
    seen = []
    a = _fit(data, max_iter=40)
    b = _fit(data, max_iter=40, callback=lambda it, obj: seen.append(obj.loss))
    np.testing.assert_allclose(seen, a.history["loss"], rtol=1e-10)
    _assert_same_fit(a, b)


# ----------------------------------------------------------------- the kernel and its twin
def _state(rng, p, n, k, nl, dtype, efron):
    """A mid-fit state of run_loop in its layout (W transposed, unit rows; Z, WWᵀ, sd)."""
    X = rng.gamma(2.0, 1.0, size=(p, n)).astype(dtype)
    W = rng.uniform(0.1, 1.0, size=(k, p))
    W /= np.sqrt((W * W).sum(axis=1))[:, None]
    H = rng.uniform(0.1, 2.0, size=(k, n))
    beta = rng.normal(0.0, 0.3, size=k)
    Z = np.ascontiguousarray(X.astype(np.float64).T @ W.T)
    sd = Z[:nl].std(axis=0, ddof=1)
    time = np.sort(rng.exponential(1.0, size=nl))
    time[3] = time[2]  # a tie
    event = (rng.uniform(size=nl) < 0.6).astype(np.float64)
    event[0] = 1.0
    return [X, W, H, beta, Z, np.ascontiguousarray(W @ W.T), sd, time, event, efron, nl]


def _run(fn, state, max_iter, tol=0.0, h_updates=1, refresh_every=4, lam=(0.1, 0.2)):
    import copy

    X, W, H, beta, Z, WtW, sd, time, event, efron, nl = copy.deepcopy(state)
    p, n = X.shape
    k = W.shape[0]
    hist = np.full((max_iter, 8), np.nan)
    scal = np.array([0.0, 0.1, lam[1], lam[0]])
    x_sq = float(np.sum(X.astype(np.float64) ** 2))
    out = fn(
        X, W, H, beta, Z, WtW, sd, time, event, efron, nl, x_sq, float(event.sum()),
        1.0 / (n * p), lam[1] * p / k, lam[0] / (p * k), 0.5, scal, 1e-12, 0.5, 0.5, 10,
        h_updates, refresh_every, nl == n, 0, max_iter, tol, 1e30, hist,
    )  # fmt: skip
    return out, hist, W, H, beta, Z, WtW, sd


@pytest.mark.parametrize(
    "p, n, k, nl, dtype, efron",
    [
        (40, 25, 3, 25, np.float64, False),
        (40, 25, 3, 25, np.float32, True),
        (13, 9, 1, 9, np.float64, False),  # k = 1, p not a multiple of the kernel's blocks
        (50, 30, 4, 18, np.float64, False),  # unlabelled samples
        (7, 5, 6, 5, np.float64, True),  # more factors than samples
    ],
)
def test_kernel_agrees_with_its_numpy_twin(p, n, k, nl, dtype, efron):
    from desurv._kernels import _alpha0_loop
    from desurv._reference import alpha0_loop as twin

    state = _state(np.random.default_rng(p * n + k), p, n, k, nl, dtype, efron)
    for h_updates in (1, 2):
        a = _run(_alpha0_loop.run_alpha0, state, 12, h_updates=h_updates)
        b = _run(twin.run_alpha0, state, 12, h_updates=h_updates)
        assert a[0][:3] == b[0][:3] and a[0][3] == b[0][3] == 12 + 12 // 4
        np.testing.assert_allclose(a[1], b[1], rtol=1e-8, atol=1e-14)
        for x, y in zip(a[2:], b[2:], strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-12)
        # F never increases
        assert np.all(np.diff(a[1][:, 0]) <= 1e-12 * np.abs(a[1][1:, 0]))


def test_kernel_and_twin_stop_on_tol_together():
    from desurv._kernels import _alpha0_loop
    from desurv._reference import alpha0_loop as twin

    state = _state(np.random.default_rng(5), 30, 20, 2, 20, np.float64, False)
    a = _run(_alpha0_loop.run_alpha0, state, 500, tol=1e-4)
    b = _run(twin.run_alpha0, state, 500, tol=1e-4)
    assert a[0][1] and b[0][1] and a[0][0] == b[0][0] < 500
    assert np.all(np.isnan(a[1][a[0][0] :]))  # nothing written after the last iteration


@pytest.mark.parametrize("kw", [{"max_iter": 103}, {"tol": 1e-5, "max_iter": 2000}])
def test_blocks_of_the_compiled_loop_join_up(data, monkeypatch, kw):
    """Blocks of 7 iterations (not a divisor of the refresh period 50) give the Python loop's
    fit: the refresh falls on the same iterations and the stop rule sees the last F."""
    monkeypatch.setattr(_loop, "ALPHA0_BLOCK", 7)
    problems = []
    real_init = _loop._Problem.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        problems.append(self)

    monkeypatch.setattr(_loop._Problem, "__init__", init)
    a, b, n = _both(data, monkeypatch, **kw)
    assert n >= 1
    _assert_same_fit(a, b)
    # the same passes over X, refreshes included (the fit's problem is the last of each run)
    half = len(problems) // 2
    assert problems[half - 1].rows_read == problems[-1].rows_read
