"""Benchmark metrics on known answers."""

import numpy as np
import pytest

import desurv
from desurv.benchmark import metrics as M


@pytest.fixture(scope="module")
def truth():
    rng = np.random.default_rng(0)
    W = rng.dirichlet(np.full(30, 0.3), size=4).T  # 30 features x 4 signatures
    H = rng.gamma(1.0, 100.0, size=(50, 4))  # 50 samples x 4
    return W, H


def test_perfect_recovery_scores(truth):
    W, H = truth
    X = H @ W.T
    assert M.reconstruction_error(X, W, H) == pytest.approx(0.0, abs=1e-12)
    assert M.signature_cosine(W, W) == pytest.approx(1.0)
    assert M.exposure_error(W, H, W, H) == pytest.approx(0.0, abs=1e-12)


def test_permuted_and_rescaled_signatures_still_perfect(truth):
    W, H = truth
    perm = [2, 0, 3, 1]
    scale = np.array([3.0, 0.5, 10.0, 2.0])
    Wf = W[:, perm] * scale  # columns permuted and rescaled
    Hf = H[:, perm] / scale  # same product
    assert M.signature_cosine(Wf, W) == pytest.approx(1.0)
    assert M.exposure_error(Wf, Hf, W, H) == pytest.approx(0.0, abs=1e-12)
    assert M.reconstruction_error(H @ W.T, Wf, Hf) == pytest.approx(0.0, abs=1e-12)


def test_fewer_fitted_signatures_score_zero_for_unmatched(truth):
    W, H = truth
    # two exact signatures out of four: mean over true = (1 + 1 + 0 + 0) / 4
    assert M.signature_cosine(W[:, [1, 3]], W) == pytest.approx(0.5)
    # the exposures of the missing two count as fully wrong
    err = M.exposure_error(W[:, [1, 3]], H[:, [1, 3]], W, H)
    expected = np.linalg.norm(H[:, [0, 2]]) / np.linalg.norm(H)  # W columns sum to 1
    assert err == pytest.approx(expected)
    # extra fitted signatures are ignored
    extra = np.column_stack([W, np.ones(30)])
    assert M.signature_cosine(extra, W) == pytest.approx(1.0)


def test_cosmic_best_match_and_known_cosine():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    ref = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    # fitted 1 = e1 -> best ref is e1 (cos 1); fitted 2 = e2 -> best ref (1,1) cos 1/sqrt2
    assert M.cosmic_cosine(A, ref) == pytest.approx((1 + 1 / np.sqrt(2)) / 2)


def test_nnls_exposures_recover_exact(truth):
    W, H = truth
    np.testing.assert_allclose(M.nnls_exposures(H @ W.T, W), H, rtol=1e-6, atol=1e-6)


def test_seed_consistency_and_stability(truth):
    W, _ = truth
    sets = [W, W[:, [3, 2, 1, 0]] * 5, W[:, [1, 0, 3, 2]]]
    assert M.seed_consistency(sets) == pytest.approx(1.0)
    assert M.seed_stability(sets) == pytest.approx(1.0)
    rng = np.random.default_rng(1)
    noisy = [rng.uniform(size=W.shape) for _ in range(3)]
    assert M.seed_consistency(noisy) < 0.95
    assert M.seed_stability(noisy) < 0.5
    assert np.isnan(M.seed_stability([W]))


def test_macro_f1_hand_count():
    y = np.array([0, 0, 0, 1, 1, 2])
    p = np.array([0, 0, 1, 1, 2, 2])
    # class 0: tp 2, fp 0, fn 1 -> F1 = 4/5; class 1: tp 1, fp 1, fn 1 -> 1/2;
    # class 2: tp 1, fp 1, fn 0 -> 2/3
    assert M.f1_macro(y, p) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert M.accuracy(y, p) == pytest.approx(4 / 6)


@pytest.fixture(scope="module")
def surv():
    rng = np.random.default_rng(3)
    n = 120
    risk = rng.normal(size=n)
    t = rng.exponential(np.exp(-risk))
    c = rng.exponential(1.5, size=n)
    y = desurv.make_survival_y(np.minimum(t, c), t <= c)
    return y[:80], y[80:], risk[80:] + rng.normal(scale=0.5, size=40)


def test_harrell_c_matches_desurv(surv):
    _, y_te, r = surv
    assert M.harrell_c(y_te, r) == desurv.concordance_index(y_te["time"], y_te["event"], r)


def test_uno_c_and_ibs_match_sksurv(surv):
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    y_tr, y_te, r = surv
    times = M.evaluation_times(y_tr, y_te)
    assert times.size >= 2
    assert times.min() > y_te["time"].min() and times.max() < y_te["time"].max()
    ref = sksurv_metrics.concordance_index_ipcw(y_tr, y_te, r, tau=times.max())[0]
    assert M.uno_c(y_tr, y_te, r) == pytest.approx(ref)
    prob = np.exp(-np.outer(np.exp(r), times))
    ref = sksurv_metrics.integrated_brier_score(y_tr, y_te, prob, times)
    assert M.integrated_brier(y_tr, y_te, prob, times) == pytest.approx(ref)


def test_sksurv_missing_is_a_clear_error(surv, monkeypatch):
    monkeypatch.setattr(M, "sksurv_available", lambda: False)
    y_tr, y_te, r = surv
    with pytest.raises(ValueError, match="pip install scikit-survival"):
        M.uno_c(y_tr, y_te, r)


def test_test_samples_after_last_training_time_are_left_out(surv):
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    y_tr, y_te, r = surv
    y_tr = y_tr.copy()
    y_tr["event"][np.argmax(y_tr["time"])] = True  # censoring KM stays > 0 at the end
    late = y_te.copy()
    late["time"][0] = y_tr["time"].max() * 2  # IPCW undefined for this event
    late["event"][0] = True
    with pytest.raises(ValueError):
        sksurv_metrics.concordance_index_ipcw(y_tr, late, r)
    keep = ~(late["event"] & (late["time"] > y_tr["time"].max()))
    assert not keep[0] and keep.sum() < len(late)
    ref = sksurv_metrics.concordance_index_ipcw(y_tr, late[keep], r[keep])[0]
    assert M.uno_c(y_tr, late, r, tau=np.inf) == pytest.approx(ref)
    times = M.evaluation_times(y_tr, late)
    prob = np.exp(-np.outer(np.exp(r), times))
    keep = late["time"] <= y_tr["time"].max()  # the Brier score weighs every sample
    ref = sksurv_metrics.integrated_brier_score(y_tr, late[keep], prob[keep], times)
    assert M.integrated_brier(y_tr, late, prob, times) == pytest.approx(ref)
