"""The plain NumPy DeSurv fit (desurv._reference.solver): its pieces against the textbook
oracles and the R reference, and the fast solver against it step for step."""

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import EXPR, REF, require

from desurv import ConvergenceWarning, fit_desurv
from desurv._reference import cox as _ref_cox
from desurv._reference import coxnet_path as _ref_coxnet
from desurv._reference.solver import SortedSurvival, coxnet_newton, fit_desurv_reference, objective

# Both β solvers stop when a step is below beta_tol; the fast one's inner sweeps can stop
# early on collinear Z (error ~1e-8 at the default 1e-6), and F is flat in β at the optimum,
# so the step-for-step comparisons solve β tightly (one test below uses the default).
BETA_TOL = 1e-10


def _problem(seed, p=60, n=40, k=3):
    """Nonnegative X ≈ WH + noise, survival driven by factor 1, times rounded (ties)."""
    rng = np.random.default_rng(seed)
    W = rng.gamma(1.0, 1.0, size=(p, k))
    H = rng.gamma(2.0, 1.0, size=(k, n))
    X = W @ H + rng.uniform(0, 0.1, size=(p, n))
    risk = (H[0] - H[0].mean()) / H[0].std()
    time = np.round(rng.exponential(np.exp(-risk)), 1) + 0.1
    event = rng.uniform(size=n) < 0.7
    event[0] = True
    assert np.unique(time).size < n  # the cases below must include tied times
    return X, time, event, rng.uniform(size=(p, k)), rng.uniform(size=(k, n))


def _sorted_surv(seed, n=30, efron=False):
    rng = np.random.default_rng(seed)
    time = np.sort(rng.integers(1, 8, size=n).astype(float))  # many ties
    event = (rng.uniform(size=n) < 0.6).astype(float)
    event[-1] = 1.0
    return SortedSurvival(time, event, efron=efron)


def _fit_both(X, time, event, W0, H0, **kw):
    kw.setdefault("beta_tol", BETA_TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast = fit_desurv(X, time, event, W0.shape[1], W_init=W0, H_init=H0, **kw)
        beta0 = kw.pop("beta_init", None)
        ref = fit_desurv_reference(X, time, event, W0, H0, beta0, **kw)
    return fast, ref


def _assert_same_fit(fast, ref, rtol_loss=1e-8, rtol=1e-6):
    assert fast.n_iter == ref["n_iter"]
    for name in ("loss", "nmf_loss", "cox_loss", "enet_beta", "sqnorm_h", "sqnorm_w"):
        np.testing.assert_allclose(fast.history[name], ref["history"][name], rtol=rtol_loss,
                                   atol=1e-14, err_msg=name)  # fmt: skip
    np.testing.assert_array_equal(fast.history["backtracks"], ref["history"]["backtracks"])
    np.testing.assert_array_equal(fast.history["theta"], ref["history"]["theta"])
    np.testing.assert_allclose(fast.W, ref["W"], rtol=rtol, atol=rtol * np.abs(ref["W"]).max())
    np.testing.assert_allclose(fast.H, ref["H"], rtol=rtol, atol=rtol * np.abs(ref["H"]).max())
    scale = max(np.abs(ref["beta"]).max(), 1e-12)
    np.testing.assert_allclose(fast.beta, ref["beta"], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(fast.objective["loss"], ref["objective"]["loss"], rtol=rtol_loss)


# ------------------------------------------------------------------- Cox pieces vs oracles
@pytest.mark.parametrize("efron", [False, True])
@pytest.mark.parametrize("shift", [0.0, 300.0])
def test_cox_pieces_match_textbook_oracle(efron, shift):
    surv = _sorted_surv(3, efron=efron)
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(surv.time.size, 3))
    eta = Z @ np.array([0.5, -1.0, 0.2])
    ref_args = (surv.time, surv.event, efron)
    # a common shift of η leaves ℓ unchanged: huge η must not overflow
    np.testing.assert_allclose(surv.loglik(eta + shift), _ref_cox.loglik(eta, *ref_args),
                               rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(surv.gradient(eta + shift), _ref_cox.gradient(eta, *ref_args),
                               rtol=1e-10, atol=1e-12)  # fmt: skip
    got = surv.beta_derivatives(Z, eta)
    want = _ref_cox.beta_derivatives(Z, *ref_args[:2], eta, efron)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_breslow_gradient_is_finite_difference_of_loglik():
    surv = _sorted_surv(5)
    eta = np.random.default_rng(6).normal(size=surv.time.size)
    h = 1e-6
    fd = [(surv.loglik(eta + h * e) - surv.loglik(eta - h * e)) / (2 * h)
          for e in np.eye(eta.size)]  # fmt: skip
    np.testing.assert_allclose(surv.gradient(eta), fd, atol=1e-7)


@pytest.mark.parametrize("efron", [False, True])
def test_ridge_newton_matches_scipy_minimiser(efron):
    surv = _sorted_surv(8, n=40, efron=efron)
    Z = np.random.default_rng(9).normal(size=(40, 3))
    got, _, converged = coxnet_newton(Z, surv, np.zeros(3), 0.05, 0.0, tol=1e-10)
    want = _ref_cox.coxnet_smooth_minimize(Z, surv.time, surv.event, 0.05, efron=efron)
    assert converged
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_newton_matches_reference_path_solver(l1_ratio):
    surv = _sorted_surv(10, n=50)
    rng = np.random.default_rng(11)
    Z = rng.normal(size=(50, 4))
    Z[:, 3] = Z[:, 0] + 0.05 * rng.normal(size=50)  # collinear columns: CD alone crawls
    lam = 0.03
    got, _, converged = coxnet_newton(Z, surv, np.zeros(4), lam, l1_ratio, tol=1e-10)
    want, _, ok = _ref_coxnet.coxnet_solve(Z, surv.time, surv.event, lam, l1_ratio,
                                          np.ones(4), np.zeros(4), tol=1e-12)  # fmt: skip
    assert converged and ok
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ objective vs R reference
def test_objective_components_match_r_reference_at_start():
    """loss/loss.csv of ayoung31/DeSurv at (W0, H0, β = 0); its survival term is 2ℓ/n_event."""
    X = pd.read_csv(require(REF) / "X.csv", index_col=0).to_numpy()
    surv_df = pd.read_csv(REF / "surv.csv")
    W0 = pd.read_csv(REF / "init" / "W0.csv", index_col=0).to_numpy()
    H0 = pd.read_csv(REF / "init" / "H0.csv", index_col=0).to_numpy()
    want = pd.read_csv(REF / "loss" / "loss.csv").iloc[0]
    order = np.argsort(surv_df["time"].to_numpy(), kind="stable")
    surv = SortedSurvival(surv_df["time"].to_numpy()[order], surv_df["event"].to_numpy()[order])

    class Prm:
        alpha, penalty, l1_ratio, penalty_w, penalty_h = 0.5, 0.05, 0.5, 0.1, 0.1

    got = objective(X[:, order], W0, H0[:, order], np.zeros(3), surv, Prm)
    np.testing.assert_allclose(got["nmf_loss"], want["nmf_loss"], rtol=1e-12)
    np.testing.assert_allclose(got["sqnorm_w"], want["penalty_W"], rtol=1e-12)
    np.testing.assert_allclose(got["sqnorm_h"], want["penalty_H"], rtol=1e-12)
    np.testing.assert_allclose(got["enet_beta"], want["penalty_beta"], atol=1e-14)
    np.testing.assert_allclose(-2.0 * got["cox_loss"], want["surv_loss"], rtol=1e-12)


# ------------------------------------------------------------- the fast solver against it
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_fast_solver_reproduces_reference_iterations(k, alpha):
    X, time, event, W0, H0 = _problem(10 * k + int(2 * alpha), k=k)
    fast, ref = _fit_both(X, time, event, W0, H0, alpha=alpha, penalty=0.02, l1_ratio=0.5,
                          penalty_w=0.1, penalty_h=0.1, max_iter=30, tol=0.0)  # fmt: skip
    assert ref["n_iter"] == 30
    _assert_same_fit(fast, ref)


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_fast_solver_reproduces_reference_efron_and_penalty_extremes(l1_ratio):
    X, time, event, W0, H0 = _problem(21)
    # a nonzero β start exercises the warm start on the standardised scale (β·sd)
    fast, ref = _fit_both(X, time, event, W0, H0, beta_init=np.array([0.1, -0.2, 0.0]),
                          alpha=0.7, penalty=0.02, l1_ratio=l1_ratio, ties="efron",
                          max_iter=25, tol=0.0)  # fmt: skip
    _assert_same_fit(fast, ref)


def test_fast_solver_close_to_reference_at_default_beta_tol():
    X, time, event, W0, H0 = _problem(32)
    fast, ref = _fit_both(X, time, event, W0, H0, alpha=0.5, penalty=0.02, max_iter=30,
                          tol=0.0, beta_tol=1e-6)  # fmt: skip
    _assert_same_fit(fast, ref, rtol_loss=1e-5, rtol=1e-5)


def test_reference_objective_never_increases_and_stops_at_tol():
    X, time, event, W0, H0 = _problem(30)
    ref = fit_desurv_reference(X, time, event, W0, H0, alpha=0.5, penalty=0.02, max_iter=2000,
                               tol=1e-7)  # fmt: skip
    loss = ref["history"]["loss"]
    assert ref["converged"] and ref["n_iter"] < 2000
    assert np.all(np.diff(loss) <= 1e-12 * np.abs(loss[:-1]))
    assert abs(loss[-1] - loss[-2]) / abs(loss[-2]) <= 1e-7
    np.testing.assert_allclose(np.linalg.norm(ref["W"], axis=0), 1.0, rtol=1e-12)


def test_fast_solver_reproduces_reference_on_r_reference_data():
    X = pd.read_csv(require(REF) / "X.csv", index_col=0).to_numpy()
    surv = pd.read_csv(REF / "surv.csv")
    W0 = pd.read_csv(REF / "init" / "W0.csv", index_col=0).to_numpy()
    H0 = pd.read_csv(REF / "init" / "H0.csv", index_col=0).to_numpy()
    fast, ref = _fit_both(X, surv["time"].to_numpy(), surv["event"].to_numpy(), W0, H0,
                          alpha=0.5, penalty=0.05, l1_ratio=0.5, penalty_w=0.1, penalty_h=0.1,
                          max_iter=40, tol=0.0)  # fmt: skip
    _assert_same_fit(fast, ref)


def test_fast_solver_reproduces_reference_on_a_real_cohort():
    """300 most variable genes of GSE4335 (115 tumours, tied follow-up times), ranks."""
    from desurv.datasets import load_cohort
    from desurv.preprocessing import Preprocessor

    X, y, _ = load_cohort(require(EXPR / "gse4335.expression.tsv.gz"),
                          EXPR / "gse4335.clinical.tsv")  # fmt: skip
    Xg = Preprocessor(transform="rank", n_genes=300).fit_transform(X).to_numpy().T
    rng = np.random.default_rng(1)
    W0, H0 = rng.uniform(size=(300, 3)), rng.uniform(size=(3, Xg.shape[1]))
    fast, ref = _fit_both(Xg, y["time"], y["event"], W0, H0, alpha=0.5, penalty=0.05,
                          max_iter=30, tol=0.0)  # fmt: skip
    _assert_same_fit(fast, ref)


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "change, match",
    [
        (dict(X=-np.ones((5, 4))), "nonnegative"),
        (dict(time=np.ones(3)), "time and event"),
        (dict(event=np.zeros(4)), "no observed event"),
        (dict(H0=np.ones((3, 4))), "H0"),
        (dict(beta0=np.ones(3)), "beta0"),
        (dict(ties="exact"), "ties"),
    ],
)
def test_bad_input_raises(change, match):
    args = dict(X=np.ones((5, 4)), time=np.arange(1.0, 5.0), event=np.ones(4),
                W0=np.ones((5, 2)), H0=np.ones((2, 4)), beta0=None, ties="breslow")  # fmt: skip
    args.update(change)
    ties = args.pop("ties")
    with pytest.raises(ValueError, match=match):
        fit_desurv_reference(**args, ties=ties, max_iter=1)


def test_reference_history_fields_match_the_fast_loop():
    from desurv._reference.solver import HISTORY_FIELDS as ref_fields
    from desurv.deconvolution._loop import HISTORY_FIELDS

    assert ref_fields == HISTORY_FIELDS
