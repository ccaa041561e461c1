"""SupervisedNMF: S-NMF, SS-NMF, PSS-NMF (METHODS.md §A; issue 14, method part).

* the compiled iteration block equals its NumPy twin (random and edge inputs, both
  normalisations, U.R., the refit, float32) and the objective terms it records;
* λ_c = 0 reduces to multiplicative NMF: the faithful iteration to Lee–Seung's simultaneous
  MU with column normalisation, the clean one to ``desurv.NMF(solver="mu")`` step for step;
* the H and B steps are (scaled) gradient steps of the documented objective (finite
  differences, both normalisations, with U.R.), the W step a scaled gradient direction;
* Algorithm 1 (threshold, balance, ⌈N_P/2⌉, draws, determinism) and the training schedule of
  §A.2.2-A.2.3 (events at the checks where both sticky flags hold, reset after additions,
  labels never revised, stop rule), replayed from ``history_``;
* the estimator: labels with −1 / None / NaN, predict / predict_proba / transform / score,
  modes, consensus (= ``desurv.evaluation.consensus.consensus_factors``), refit, determinism
  whatever ``n_jobs``, errors, warnings and scikit-learn's estimator checks.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import f1_score
from sklearn.utils.estimator_checks import check_estimator

from desurv._kernels import _supervised_nmf as K
from desurv._reference import supervised_nmf as REF
from desurv.decomposition import NMF, nnls
from desurv.decomposition import supervised as S
from desurv.decomposition.supervised import SupervisedNMF, pseudo_label_step
from desurv.exceptions import ConvergenceWarning


# ----------------------------------------------------------------------------- data
def _state(N=40, M=12, k=3, C=3, seed=0, frac_lab=0.6, ur=False, dtype=np.float64):
    """Random sample-major arrays for the kernel: X, Wt, Ht, B, Yt, lab."""
    rng = np.random.default_rng(seed)
    X = rng.random((N, M))
    Wt = rng.random((k, M))
    Wt /= Wt.sum(axis=1, keepdims=True)
    Ht = rng.random((N, k))
    B = rng.random((C, k)) - 0.5
    codes = rng.integers(0, max(C, 1), N)
    codes[rng.random(N) >= frac_lab] = -1
    if C == 0:
        codes[:] = -1
    Yt = np.zeros((N, C))
    Yt[np.flatnonzero(codes >= 0), codes[codes >= 0]] = 1.0
    lab = np.ones(N) if ur else (codes >= 0).astype(np.float64)
    cast = [np.ascontiguousarray(a, dtype=dtype) for a in (X, Wt, Ht, B, Yt)]
    return (*cast, lab)


def _run(mod, state, n_iter, hc, bc, mu, lam2, update_w, clean):
    X, Wt, Ht, B, Yt, lab = (a.copy() for a in state)
    hist = np.zeros((n_iter, 4))
    mod.run_block(X, Wt, Ht, B, Yt, lab, n_iter, hc, bc, mu, lam2, update_w, clean, hist)
    return Wt, Ht, B, hist


def _catalogue(seed=0, n_per_class=40, M=96, hide=1 / 3):
    """Three classes, each dominated by its own signature, plus a shared background."""
    rng = np.random.default_rng(seed)
    sig = rng.dirichlet(np.full(M, 0.3), size=4)  # 3 class signatures + background
    rows, labels = [], []
    for c in range(3):
        alpha = np.full(4, 0.5)
        alpha[c] = 4.0
        alpha[3] = 2.0
        E = rng.dirichlet(alpha, size=n_per_class)
        for e in E:
            rows.append(rng.multinomial(400, e @ sig))
            labels.append(f"type{c}")
    X = np.array(rows, dtype=np.float64)
    y = np.array(labels, dtype=object)
    hidden = np.zeros(y.size, dtype=bool)
    for c in range(3):
        idx = np.flatnonzero(y == f"type{c}")
        hidden[rng.choice(idx, int(round(hide * idx.size)), replace=False)] = True
    y_obs = y.copy()
    y_obs[hidden] = None
    return X, y, y_obs, hidden


FAST = dict(n_components=3, n_replicates=2, check_every=50, min_iter=200, max_iter=3000,
            random_state=0)  # fmt: skip


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def cat():
    return _catalogue()


@pytest.fixture(scope="module")
def fitted_pss(cat):
    X, y, y_obs, hidden = cat
    est = SupervisedNMF(mode="pseudo-label", confidence_threshold=0.5, **FAST)
    return _quiet(est.fit, X, y_obs)


# ----------------------------------------------------------------------------- kernel = twin
CASES = {
    "faithful": dict(clean=False, update_w=True, ur=False),
    "clean": dict(clean=True, update_w=True, ur=False),
    "faithful-UR": dict(clean=False, update_w=True, ur=True),
    "clean-UR": dict(clean=True, update_w=True, ur=True),
    "refit": dict(clean=True, update_w=False, ur=False),
    "refit-faithful": dict(clean=False, update_w=False, ur=True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_equals_twin(case):
    c = CASES[case]
    st = _state(seed=1, ur=c["ur"])
    hc = 0.0 if not c["update_w"] else 0.3
    args = (8, hc, 0.05, 0.2, 1e-3, c["update_w"], c["clean"])
    Wk, Hk, Bk, hk = _run(K, st, *args)
    Wr, Hr, Br, hr = _run(REF, st, *args)
    np.testing.assert_allclose(Wk, Wr, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(Hk, Hr, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(Bk, Br, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(hk, hr, rtol=1e-10, atol=1e-12)
    if not c["update_w"]:
        np.testing.assert_array_equal(Wk, st[1])  # the refit keeps W
    else:
        np.testing.assert_allclose(Wk.sum(axis=1), 1.0, rtol=1e-12)  # columns of W sum to 1
    if c["ur"]:
        assert np.all(hk[:, 2] != 0)  # the logsumexp term of the unlabelled samples
    else:
        assert np.all(hk[:, 2] == 0)


@pytest.mark.parametrize(
    "edge",
    [
        dict(k=1),
        dict(C=2),
        dict(frac_lab=1.0),  # all labelled
        dict(frac_lab=0.0),  # none labelled: the head sees nothing
        dict(C=0),  # no head at all
        dict(N=1, frac_lab=1.0),
        dict(M=1, k=1),
    ],
    ids=["k1", "C2", "all-labelled", "none-labelled", "C0", "one-sample", "one-feature"],
)
@pytest.mark.parametrize("clean", [False, True])
def test_kernel_equals_twin_edges(edge, clean):
    st = _state(seed=2, **edge)
    args = (5, 0.2, 0.1, 0.3, 1e-4, True, clean)
    for a, b in zip(_run(K, st, *args), _run(REF, st, *args), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    if edge.get("frac_lab") == 0.0:  # no sample in the gradient: B only decays by λ_L2
        Bk = _run(K, st, *args)[2]
        np.testing.assert_allclose(Bk, st[3] * (1 - 2 * 0.3 * 1e-4) ** 5, rtol=1e-12)


def test_kernel_zero_rows_and_floors():
    """All-zero samples and a negative H numerator: the 1e-25 floors of §A.2.1."""
    X, Wt, Ht, B, Yt, lab = _state(seed=3, frac_lab=1.0)
    X[:3] = 0.0  # empty catalogues
    B *= 40.0  # a large head makes some numerators WᵀX − hc·BᵀR negative
    st = (X, Wt, Ht, B, Yt, lab)
    args = (3, 5.0, 1.0, 1e-3, 0.0, True, False)
    Wk, Hk, Bk, hk = _run(K, st, *args)
    for a, b in zip((Wk, Hk, Bk, hk), _run(REF, st, *args), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    # negative numerators (and tiny positive results) become 1e-25; W >= 1e-25 / colsum
    assert np.any(Hk == REF.EPS) and Hk.min() >= REF.EPS and Wk.min() > 0


def test_exp_array_is_exp_to_an_ulp():
    """The kernel's vectorisable exponential (the softmax's) against np.exp on its domain
    |x| <= 708: exact at 0, within 1 ulp elsewhere, in place too."""
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            [0.0, -0.0, -1e-300, 1e-300, -1e-17, np.log(2.0), -np.log(2.0), -100.0, 50.0],
            [-708.0, 708.0, -707.9, 0.5 * np.log(2.0), -0.5 * np.log(2.0)],
            -rng.random(2000) * 100.0,  # the softmax's range: clipped logits minus the max
            rng.uniform(-708.0, 708.0, 2000),
        ]
    )
    out, work, want = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    K.exp_array(x, out, work)
    REF.exp_array(x, want, work)
    assert out[0] == out[1] == 1.0
    ulp = np.abs(out - want) / np.spacing(want)
    assert ulp.max() <= 1.0
    y = x.copy()
    K.exp_array(y, y, work)  # out may be x itself
    np.testing.assert_array_equal(y, out)
    K.exp_array(x[:0], out[:0], work[:0])  # empty


def test_kernel_equals_twin_many_rows():
    """Issue-16 shape class: many labelled rows, C = 3 (the softmax's vectorised pass over
    the labelled rows, unlabelled rows interleaved), both variants, with the W step."""
    st = _state(N=300, M=20, k=4, C=3, seed=7, frac_lab=0.7)
    for clean in (False, True):
        args = (6, 0.3, 0.05, 0.2, 1e-3, True, clean)
        for a, b in zip(_run(K, st, *args), _run(REF, st, *args), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_kernel_float32():
    st64 = _state(seed=4)
    st32 = _state(seed=4, dtype=np.float32)
    args = (4, 0.2, 0.1, 0.3, 1e-4, True, True)
    Wk, Hk, Bk, hk = _run(K, st32, *args)
    assert Wk.dtype == Hk.dtype == Bk.dtype == np.float32
    Wr, Hr, Br, hr = _run(REF, st64, *args)
    np.testing.assert_allclose(Wk, Wr, rtol=1e-4)
    np.testing.assert_allclose(Hk, Hr, rtol=1e-4)
    np.testing.assert_allclose(Bk, Br, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(hk, hr, rtol=1e-4)


def test_hist_rows_are_the_terms_of_the_iterates():
    """hist[t] = terms of the iterate at the start of iteration t, also across calls."""
    st = _state(seed=5, ur=True)
    X, Wt, Ht, B, Yt, lab = (a.copy() for a in st)
    hist = np.zeros((3, 4))
    for _ in range(2):
        K.run_block(X, Wt, Ht, B, Yt, lab, 3, 0.2, 0.1, 0.3, 1e-4, True, True, hist)
    want = REF.terms(X.T, Wt.T, Ht.T, B, Yt.T, lab)
    nxt = np.zeros((1, 4))
    K.run_block(X, Wt, Ht, B, Yt, lab, 1, 0.2, 0.1, 0.3, 1e-4, True, True, nxt)
    np.testing.assert_allclose(nxt[0], want, rtol=1e-11)


# ----------------------------------------------------------------------------- λ_c = 0 = MU
def test_faithful_lambda0_is_simultaneous_lee_seung_with_normalised_w():
    """λ_c = 0: W, H follow Lee–Seung's MU from the same iterate, W's columns scaled to sum 1
    without touching H, whatever the head and the labels do."""
    X, Wt, Ht, B, Yt, lab = _state(N=30, M=10, k=3, seed=6)
    Xc, W, H = X.T.copy(), Wt.T.copy(), Ht.T.copy()
    n = 40
    for _ in range(n):
        Hn = H * (W.T @ Xc) / (W.T @ W @ H + 1e-25)
        Wn = W * (Xc @ H.T) / (W @ H @ H.T + 1e-25)
        W, H = Wn / Wn.sum(axis=0), Hn
    Wk, Hk, _, _ = _run(K, (X, Wt, Ht, B, Yt, lab), n, 0.0, 1.0, 0.5, 1e-3, True, False)
    np.testing.assert_allclose(Wk, W.T, rtol=1e-9)
    np.testing.assert_allclose(Hk, H.T, rtol=1e-9)


def test_clean_lambda0_is_desurv_nmf_mu_step_for_step():
    """λ_c = 0, clean: the products WH are desurv.NMF(solver="mu")'s (scikit-learn's
    order: exposures, then signatures) from the same start, iteration by iteration."""
    X, Wt, Ht, B, Yt, lab = _state(N=30, M=10, k=3, seed=7)
    for n in (1, 5, 60):
        Wk, Hk, _, _ = _run(K, (X, Wt, Ht, B, Yt, lab), n, 0.0, 1.0, 0.5, 1e-3, True, True)
        m = NMF(3, init="custom", solver="mu", max_iter=n, tol=0.0)
        E = m.fit_transform(X, W=Ht.copy(), H=Wt.copy())
        np.testing.assert_allclose(Hk @ Wk, E @ m.components_, rtol=1e-9)
        np.testing.assert_allclose(Wk.sum(axis=1), 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------- gradients
def _objective(prob, Wt, Ht, B, Yt, lab, lam):
    return S._check_state(prob, Wt, Ht, B, Yt, lab, lam)[1]["objective"]


def _fd(f, A, h=1e-6):
    g = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        Ap, Am = A.copy(), A.copy()
        Ap[idx] += h
        Am[idx] -= h
        g[idx] = (f(Ap) - f(Am)) / (2 * h)
    return g


@pytest.mark.parametrize("normalization", ["faithful", "clean"])
@pytest.mark.parametrize("ur", [False, True])
def test_h_and_b_steps_are_gradient_steps_of_the_objective(normalization, ur):
    """H' = H − H ⊙ ∇_H F / (2 WᵀWH / s) (s = 1 faithful, ‖X‖² clean): the MU of §A.2.1 is a
    scaled gradient step of the documented objective F, and B' = B − μ ∇_B F / λ_c.
    Checks every hand gradient (∂L_r/∂H, ∂L_c/∂H = Bᵀ(Ŷ − Y)L, ∂L_c/∂B, the U.R. term)."""
    X, Wt, Ht, B, Yt, lab = _state(N=14, M=8, k=3, C=3, seed=8, ur=ur)
    codes = np.where(Yt.sum(axis=1) > 0, Yt.argmax(axis=1), -1)
    lam, lam2, mu = 0.05, 0.01, 0.3
    prob = S._Problem(X, codes, 3, lambda_c=lam, lambda_l2=lam2, mu=mu,
                      normalization=normalization, unlabeled_reg=ur)  # fmt: skip
    hc, bc, l2, _ = S._coefficients(prob, lab, lam)
    _, H1, B1, _ = _run(K, (X, Wt, Ht, B, Yt, lab), 1, hc, bc, mu, l2, False, False)
    assert np.all(H1 > 1e-20)  # no floor was hit, the step is the formula
    s = 1.0 if normalization == "faithful" else float(np.sum(X * X))
    WtWH = Ht @ (Wt @ Wt.T)
    g_step = (Ht - H1) * 2 * WtWH / (Ht * s)
    g_fd = _fd(lambda A: _objective(prob, Wt, A, B, Yt, lab, lam), Ht)
    np.testing.assert_allclose(g_step, g_fd, rtol=1e-5, atol=1e-7 * np.abs(g_fd).max())
    gB_step = (B - B1) / mu
    gB_fd = _fd(lambda A: _objective(prob, Wt, Ht, A, Yt, lab, lam), B) / lam
    np.testing.assert_allclose(gB_step, gB_fd, rtol=1e-5, atol=1e-7 * np.abs(gB_fd).max())


def test_w_step_is_a_scaled_gradient_direction():
    """Faithful W step: W' ∝ W − W ⊙ ∇_W L_r / (2 W H Hᵀ) column by column (then normalised)."""
    X, Wt, Ht, B, Yt, lab = _state(N=14, M=8, k=3, seed=9)
    W1, _, _, _ = _run(K, (X, Wt, Ht, B, Yt, lab), 1, 0.1, 1.0, 0.1, 0.0, True, False)

    def lr(A):
        R = X - Ht @ A
        return float(np.sum(R * R))

    g = _fd(lr, Wt, h=1e-7)
    step = Wt - Wt * g / (2 * (Ht.T @ Ht) @ Wt)
    np.testing.assert_allclose(W1, step / step.sum(axis=1, keepdims=True), rtol=1e-6)


# ----------------------------------------------------------------------------- Algorithm 1
def _proba(pred, conf, C=3):
    """Rows with argmax ``pred`` and max probability ``conf`` (rest spread evenly)."""
    n = len(pred)
    P = np.tile((1 - np.asarray(conf))[:, None] / (C - 1), (1, C))
    P[np.arange(n), pred] = conf
    return P


def test_algorithm1_adds_ceil_half_of_the_smallest_pool_per_class():
    pred = np.array([0] * 5 + [1] * 3 + [2] * 7)
    P = _proba(pred, np.full(15, 0.9))
    idx, lab = pseudo_label_step(P, np.zeros(15, bool), 0.6, np.random.default_rng(0))
    assert idx.size == 6 and np.array_equal(np.bincount(lab), [2, 2, 2])  # ⌈3/2⌉ = 2
    assert np.array_equal(pred[idx], lab)  # every sample gets the class of its pool
    assert np.unique(idx).size == idx.size  # without replacement
    # a pool of one per class still adds one (⌈1/2⌉ = 1; ⌊·⌋ would add nothing forever)
    pred1 = np.array([0, 1, 1, 2, 2, 2])
    idx, lab = pseudo_label_step(_proba(pred1, np.full(6, 0.9)), np.zeros(6, bool), 0.6,
                                 np.random.default_rng(0))  # fmt: skip
    assert idx.size == 3 and np.array_equal(np.bincount(lab), [1, 1, 1])


def test_algorithm1_balance_threshold_and_labelled_samples():
    pred = np.array([0, 0, 1, 1, 2, 2])
    conf = np.array([0.9, 0.9, 0.9, 0.9, 0.59, 0.6])
    rng = np.random.default_rng(0)
    # c_t is inclusive: sample 5 (0.6) is the only class-2 candidate
    idx, lab = pseudo_label_step(_proba(pred, conf), np.zeros(6, bool), 0.6, rng)
    assert 5 in idx and 4 not in idx and idx.size == 3
    # the balance criterion: class 2 has no candidate -> nothing at all
    labeled = np.zeros(6, bool)
    labeled[5] = True  # labelled samples are never candidates
    idx, lab = pseudo_label_step(_proba(pred, conf), labeled, 0.6, rng)
    assert idx.size == 0 and lab.size == 0
    # none above the threshold
    idx, _ = pseudo_label_step(_proba(pred, np.full(6, 0.5)), np.zeros(6, bool), 0.6, rng)
    assert idx.size == 0


def test_algorithm1_draws_uniformly_and_deterministically():
    pred = np.repeat([0, 1], 50)
    P = _proba(pred, np.full(100, 0.95), C=2)
    a = pseudo_label_step(P, np.zeros(100, bool), 0.6, np.random.default_rng(3))
    b = pseudo_label_step(P, np.zeros(100, bool), 0.6, np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    counts = np.zeros(100)
    rng = np.random.default_rng(0)
    for _ in range(400):
        counts[pseudo_label_step(P, np.zeros(100, bool), 0.6, rng)[0]] += 1
    # each of the 50 samples of a pool is drawn with probability 25/50
    assert abs(counts.mean() / 400 - 0.5) < 0.02 and counts.min() > 0.3 * 400


# ----------------------------------------------------------------------------- schedule
def test_pseudo_label_schedule_replayed_from_history(cat, monkeypatch):
    """§A.2.2-A.2.3: Algorithm 1 runs exactly at the checks where both sticky flags hold
    (counted from the last reset), an addition resets flags and references, pseudo-labels are
    never revised, and training stops at the first event with nothing added past min_iter."""
    X, y, y_obs, hidden = cat
    calls = []
    real = S.pseudo_label_step

    def spy(proba, labeled, threshold, rng):
        out = real(proba, labeled, threshold, rng)
        calls.append((labeled.copy(), out[0].copy(), out[1].copy()))
        return out

    monkeypatch.setattr(S, "pseudo_label_step", spy)
    est = SupervisedNMF(mode="pseudo-label", confidence_threshold=0.45,
                        **{**FAST, "n_replicates": 1})  # fmt: skip
    _quiet(est.fit, X, y_obs)
    h = est.history_[est.history_.stage == "replicate"]
    tol, tol_ce = est.tol, est.tol_ce
    first, fro, ce_ok = True, False, False
    r0 = c0 = prev_r = prev_c = 0.0
    expected_calls, stop_at = [], None
    k_call = 0
    for row in h.itertuples():
        if first:
            r0, c0, first = row.rec, row.ce, False
        else:
            fro = fro or abs(prev_r - row.rec) < tol * r0
            ce_ok = ce_ok or abs(prev_c - row.ce) < tol_ce * c0
        prev_r, prev_c = row.rec, row.ce
        if fro and ce_ok:
            expected_calls.append(row.iteration)
            added = calls[k_call][1].size if k_call < len(calls) else 0
            k_call += 1
            if added:
                first, fro, ce_ok = True, False, False
            elif row.iteration > est.min_iter:
                stop_at = row.iteration
                break
    assert len(calls) == len(expected_calls) >= 1
    assert stop_at == h.iteration.iloc[-1] and est.converged_
    events = est.pseudo_labels_
    assert len(events) > 0  # the threshold lets the schedule add samples
    assert sorted(events.iteration.unique()) == sorted(
        t for t, c in zip(expected_calls, calls, strict=True) if c[1].size
    )
    # labelled masks only grow; a sample is pseudo-labelled once; per event, classes balanced
    for (m0, _, _), (m1, _, _) in zip(calls, calls[1:], strict=False):
        assert np.all(m1[m0])
    assert not events.duplicated("sample").any()
    for _, ev in events.groupby("event"):
        counts = ev.label.value_counts()
        assert len(counts) == 3 and counts.nunique() == 1
        assert set(ev["sample"]) <= set(np.flatnonzero(hidden))
    # true labels are never revised; the refit uses the (single replicate's) pseudo-labels
    codes_true = np.searchsorted(est.classes_, y[~hidden])
    assert np.array_equal(est.labels_[~hidden], codes_true)
    lab_pl = est.labels_[events["sample"].to_numpy()]
    assert np.array_equal(est.classes_[lab_pl], events.label.to_numpy())


def test_agreed_pseudo_labels():
    codes = np.array([0, -1, -1, -1, -1, -1])
    reps = [np.array([0, 1, 2, 1, -1, 0]), np.array([0, 1, 2, 2, -1, -1]),
            np.array([0, 1, -1, -1, -1, -1]), np.array([0, 2, -1, -1, 1, -1])]  # fmt: skip
    # votes: s1 {1: 3, 2: 1}; s2 {2: 2}; s3 {1: 1, 2: 1}; s4 {1: 1}; s5 {0: 1}
    assert S._agreed_labels(codes, reps, 3, 0.5).tolist() == [0, 1, -1, -1, -1, -1]
    assert S._agreed_labels(codes, reps, 3, 0.0).tolist() == [0, 1, 2, -1, 1, 0]
    assert S._agreed_labels(codes, reps, 3, 0.25).tolist() == [0, 1, 2, -1, -1, -1]
    assert S._agreed_labels(codes, [], 3, 0.5).tolist() == codes.tolist()


def test_refit_labels_are_majority_pseudo_labels(fitted_pss, cat):
    est = fitted_pss
    X, y, y_obs, hidden = cat
    ev = est.pseudo_labels_
    R = est.replicate_kept_.sum()
    added = np.flatnonzero((est.labels_ >= 0) & hidden)
    votes = ev.groupby(["sample", "label"]).size()
    for i in np.flatnonzero(hidden):
        v = votes.loc[i] if i in votes.index.get_level_values(0) else pd.Series(dtype=int)
        if i in added:
            assert v.loc[est.classes_[est.labels_[i]]] * 2 > R
        else:
            assert v.empty or v.max() * 2 <= R


# ----------------------------------------------------------------------------- estimator
def test_predict_score_transform(fitted_pss, cat):
    X, y, y_obs, hidden = cat
    est = fitted_pss
    assert list(est.classes_) == ["type0", "type1", "type2"]
    P = est.predict_proba(X)
    assert P.shape == (X.shape[0], 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    pred = est.predict(X)
    assert np.array_equal(pred, est.classes_[P.argmax(axis=1)])
    # the easy catalogue: each class has its own signature
    assert f1_score(y[hidden], pred[hidden], average="macro") > 0.8
    # score: macro-F1 over classes_, unlabelled entries of y not scored
    want = f1_score(y[~hidden], pred[~hidden], average="macro", labels=est.classes_)
    assert est.score(X, y_obs) == pytest.approx(want)
    # a class missing from y still counts in the average (pitfall 12)
    only01 = np.isin(y, ["type0", "type1"])
    want = f1_score(y[only01], pred[only01], average="macro", labels=est.classes_)
    assert est.score(X[only01], y[only01]) == pytest.approx(want)
    # transform: exact NNLS exposures of the profiles with W* fixed
    Xp = X / X.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(est.transform(X), nnls(est.components_.T, Xp.T).T, atol=1e-12)
    np.testing.assert_allclose(est.components_.sum(axis=1), 1.0)
    assert list(est.get_feature_names_out()) == [f"supervisednmf{i}" for i in range(3)]


def test_clean_refit_is_nnls_exposures_and_the_exact_head(fitted_pss, cat):
    """Clean refit: exposures_ are the NNLS exposures predict uses, and coef_ minimises the
    ridge cross-entropy on them (zero gradient, unless rescaled to the clip)."""
    X = cat[0]
    est = fitted_pss
    np.testing.assert_allclose(est.exposures_, est.transform(X), atol=1e-12)
    assert np.abs(est.exposures_ @ est.coef_.T).max() <= S.ZCLIP * (1 + 1e-12)
    assert not (est.history_.stage == "refit").any() and est.refit_n_iter_ > 0
    on = est.labels_ >= 0
    Yt = np.eye(len(est.classes_))[est.labels_[on]]
    shape = est.coef_.shape
    f, g = S._head_objective(est.coef_.ravel(), est.exposures_[on], Yt, est.lambda_l2, shape)
    # the clip was not needed here, so the head is the unrescaled optimum
    assert np.abs(est.exposures_ @ est.coef_.T).max() < S.ZCLIP
    assert np.abs(g).max() < 1e-5 * max(1.0, f)
    # and it agrees with scikit-learn's multinomial ridge logistic regression (C = 1/(2λ_L2))
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1 / (2 * est.lambda_l2), fit_intercept=False, tol=1e-10,
                            max_iter=10000).fit(est.exposures_[on], est.labels_[on])  # fmt: skip
    np.testing.assert_allclose(est.coef_, lr.coef_, rtol=1e-3, atol=1e-3 * np.abs(lr.coef_).max())


def test_head_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    H = rng.random((12, 4))
    Yt = np.eye(3)[rng.integers(0, 3, 12)]
    b = rng.normal(size=12)
    f, g = S._head_objective(b, H, Yt, 0.07, (3, 4))
    g_fd = _fd(lambda a: S._head_objective(a, H, Yt, 0.07, (3, 4))[0], b)
    np.testing.assert_allclose(g, g_fd, rtol=1e-6, atol=1e-8)


def test_faithful_refit_is_the_published_mu_refit(cat):
    X, y, y_obs, hidden = cat
    est = _quiet(SupervisedNMF(mode="semi-supervised", normalization="faithful", **FAST).fit,
                 X, y_obs)  # fmt: skip
    Xp = X / X.sum(axis=1, keepdims=True)
    err_refit = np.linalg.norm(Xp - est.exposures_ @ est.components_)
    err_nnls = np.linalg.norm(Xp - est.transform(X) @ est.components_)
    assert err_nnls <= err_refit * (1 + 1e-9) and err_refit <= err_nnls * 1.01
    assert np.abs(est.exposures_ @ est.coef_.T).max() <= S.ZCLIP * (1 + 1e-12)
    refit = est.history_[est.history_.stage == "refit"]
    assert len(refit) and (refit.iteration % est.check_every == 0).all()
    assert est.refit_n_iter_ == refit.iteration.iloc[-1]


def test_consensus_equals_evaluation_consensus(fitted_pss, cat):
    from desurv.evaluation.consensus import consensus_factors

    est = fitted_pss
    Ws = est.replicate_components_.transpose(0, 2, 1)
    ref = consensus_factors(Ws, n_init=Ws.shape[0], random_state=0)
    assert np.array_equal(ref.assignments, est.consensus_assignments_)
    np.testing.assert_allclose(ref.centroids / ref.centroids.sum(axis=0), est.components_.T)
    np.testing.assert_allclose(ref.silhouette, est.silhouette_, atol=1e-10)
    assert est.stability_ == pytest.approx(np.mean(ref.cluster_silhouette))
    np.testing.assert_allclose(est.replicate_components_.sum(axis=2), 1.0)


def test_consensus_recovers_permuted_replicates():
    rng = np.random.default_rng(0)
    W = rng.dirichlet(np.full(20, 0.3), size=4).T  # (20, 4)
    Ws = np.stack([W[:, rng.permutation(4)] * rng.uniform(0.5, 2, 4) for _ in range(5)])
    comp, assign, sil, stab = S.consensus_signatures(Ws)
    assert np.array_equal(assign[0], np.arange(4))  # cluster c holds replicate 0's column c
    for r in range(5):  # every replicate's matched, normalised columns are the consensus
        np.testing.assert_allclose(Ws[r][:, assign[r]] / Ws[r][:, assign[r]].sum(axis=0),
                                   comp.T)  # fmt: skip
    assert stab == pytest.approx(1.0)
    c1, a1, s1, st1 = S.consensus_signatures(Ws[:1])
    assert np.isnan(st1) and np.array_equal(a1, [np.arange(4)])


def test_determinism_and_n_jobs(cat):
    X, y, y_obs, hidden = cat
    kw = dict(mode="pseudo-label", confidence_threshold=0.5, **{**FAST, "max_iter": 600})
    a = _quiet(SupervisedNMF(**kw).fit, X, y_obs)
    b = _quiet(SupervisedNMF(**kw, n_jobs=2).fit, X, y_obs)
    for name in ("components_", "coef_", "exposures_", "replicate_components_", "labels_"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    pd.testing.assert_frame_equal(a.pseudo_labels_, b.pseudo_labels_)
    pd.testing.assert_frame_equal(a.history_, b.history_)
    c = _quiet(SupervisedNMF(**{**kw, "random_state": 1}).fit, X, y_obs)
    assert not np.array_equal(a.components_, c.components_)


@pytest.mark.parametrize("mode", ["supervised", "semi-supervised"])
def test_modes_and_label_markers(cat, mode):
    X, y, y_obs, hidden = cat
    codes = np.searchsorted(["type0", "type1", "type2"], y)
    y_int = np.where(hidden, -1, codes)
    y_nan = np.where(hidden, np.nan, codes.astype(float))
    kw = dict(mode=mode, **{**FAST, "n_replicates": 1, "max_iter": 400})
    a = _quiet(SupervisedNMF(**kw).fit, X, y_int)
    b = _quiet(SupervisedNMF(**kw).fit, X, y_nan)
    assert np.array_equal(a.classes_, [0, 1, 2]) and np.array_equal(b.classes_, [0.0, 1.0, 2.0])
    assert np.array_equal(a.components_, b.components_)
    if mode == "supervised":  # S-NMF: the labelled rows only
        assert np.array_equal(a.sample_index_, np.flatnonzero(~hidden))
        direct = _quiet(SupervisedNMF(**kw).fit, X[~hidden], codes[~hidden])
        assert np.array_equal(direct.components_, a.components_)
    else:
        assert a.sample_index_.size == X.shape[0]
        assert a.pseudo_labels_.empty and (a.history_.unlabeled_reg == 0).all()
    assert a.exposures_.shape == (a.sample_index_.size, 3)


@pytest.mark.parametrize("normalization", ["faithful", "clean"])
@pytest.mark.parametrize("ur", [False, True])
def test_replicate_is_the_twin_from_the_documented_start(cat, normalization, ur):
    """The estimator's replicate = the NumPy twin from W, H, B ~ U[0, 1) drawn in this order
    from the first PCG64DXSM child of SeedSequence(random_state), with the coefficients and
    default step of the normalisation (faithful: λ_c/2, 1, 5e-3, λ_L2; clean: λ_c‖X‖²/(2 n_c),
    1/n_c, 1.0, λ_L2/n_c), on the samples' profiles."""
    X, y, y_obs, hidden = cat
    lam, n_it = 0.2, 30
    est = SupervisedNMF(n_components=3, n_replicates=1, check_every=n_it, max_iter=n_it,
                        min_iter=0, lambda_c=lam, normalization=normalization,
                        unlabeled_reg=ur, random_state=5)  # fmt: skip
    _quiet(est.fit, X, y_obs)
    Xp = X / X.sum(axis=1, keepdims=True)
    N = X.shape[0]
    rng = np.random.Generator(np.random.PCG64DXSM(np.random.SeedSequence(5).spawn(2)[0]))
    Wt = np.ascontiguousarray(rng.random((96, 3)).T)
    Ht = np.ascontiguousarray(rng.random((3, N)).T)
    B = rng.random((3, 3))
    Yt = np.zeros((N, 3))
    Yt[np.flatnonzero(~hidden), np.searchsorted(est.classes_, y[~hidden])] = 1.0
    lab = np.ones(N) if ur else (~hidden).astype(float)
    n_c = lab.sum()
    if normalization == "faithful":
        hc, bc, mu, l2 = lam / 2, 1.0, 5e-3, 1e-4
    else:
        hc, bc, mu, l2 = lam * np.sum(Xp * Xp) / (2 * n_c), 1 / n_c, 1.0, 1e-4 / n_c
    hist = np.zeros((n_it, 4))
    REF.run_block(Xp, Wt, Ht, B, Yt, lab, n_it, hc, bc, mu, l2, True,
                  normalization == "clean", hist)  # fmt: skip
    np.testing.assert_allclose(est.replicate_components_[0], Wt, rtol=1e-7, atol=1e-12)
    h = est.history_.iloc[0]
    want = REF.terms(Xp.T, Wt.T, Ht.T, B, Yt.T, lab)
    np.testing.assert_allclose(
        [h.reconstruction, h.classification, h.unlabeled_reg], want[:3], rtol=1e-7
    )


def test_unlabeled_reg_reports_logsumexp(cat):
    """U.R. pushes the logits of the unlabelled samples down (their logsumexp falls during
    training); the refit fits the head on the labelled samples only (no U.R. term)."""
    X, y, y_obs, hidden = cat
    kw = {**FAST, "n_replicates": 1, "max_iter": 300}
    est = _quiet(SupervisedNMF(unlabeled_reg=True, **kw).fit, X, y_obs)
    h = est.history_
    rep = h[h.stage == "replicate"].unlabeled_reg.to_numpy()
    assert np.all(rep != 0) and rep[-1] < rep[0]
    faithful = _quiet(SupervisedNMF(unlabeled_reg=True, normalization="faithful", **kw).fit,
                      X, y_obs).history_  # fmt: skip
    refit = faithful[faithful.stage == "refit"]
    assert len(refit) and (refit.unlabeled_reg == 0).all()
    assert (faithful[faithful.stage == "replicate"].unlabeled_reg != 0).all()
    plain = _quiet(SupervisedNMF(**kw).fit, X, y_obs)
    assert (plain.history_.unlabeled_reg == 0).all()


def test_dataframe_names_and_sample_ids(cat):
    X, y, y_obs, hidden = cat
    cols = [f"c{j}" for j in range(X.shape[1])]
    idx = [f"s{i}" for i in range(X.shape[0])]
    Xd = pd.DataFrame(X, index=idx, columns=cols)
    est = _quiet(SupervisedNMF(mode="pseudo-label", confidence_threshold=0.5,
                               **{**FAST, "n_replicates": 1, "max_iter": 1500}).fit,
                 Xd, y_obs)  # fmt: skip
    assert list(est.feature_names_in_) == cols
    ev = est.pseudo_labels_
    assert len(ev) and all(ev.sample_id == [idx[i] for i in ev["sample"]])
    # columns in another order are matched by name
    np.testing.assert_allclose(est.transform(Xd[cols[::-1]]), est.transform(Xd))


def test_convergence_warning_and_history(cat):
    X, y, y_obs, hidden = cat
    with pytest.warns(ConvergenceWarning, match="max_iter=100"):
        est = SupervisedNMF(**{**FAST, "max_iter": 100, "n_replicates": 1}).fit(X, y_obs)
    assert not est.converged_ and est.n_iter_.tolist() == [100]
    assert list(est.history_.columns) == [
        "stage", "replicate", "iteration", "rec", "ce", "loss_report", "reconstruction",
        "classification", "unlabeled_reg", "objective", "n_labeled",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(mode="self-training"), "mode="),
        (dict(normalization="none"), "normalization="),
        (dict(mode="supervised", unlabeled_reg=True), "unlabeled_reg=True"),
        (dict(n_components=0), "n_components"),
        (dict(lambda_c=-1.0), "lambda_c"),
        (dict(confidence_threshold=1.5), "confidence_threshold"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(replicate_filter=0.5), "replicate_filter"),
        (dict(pseudo_label_agreement=1.0), "pseudo_label_agreement"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(profiles=1), "profiles"),
    ],
)
def test_bad_parameters(cat, params, match):
    X, y, y_obs, hidden = cat
    with pytest.raises(ValueError, match=match):
        SupervisedNMF(**params).fit(X, y_obs)


def test_bad_data(cat):
    X, y, y_obs, hidden = cat
    est = SupervisedNMF(**{**FAST, "max_iter": 50, "n_replicates": 1})
    with pytest.raises(ValueError, match="requires y to be passed"):
        est.fit(X, None)
    with pytest.raises(ValueError, match="one class"):
        est.fit(X, np.where(y == "type0", "type0", None))
    with pytest.raises(ValueError, match="no labelled sample"):
        est.fit(X, np.full(X.shape[0], -1))
    with pytest.raises(ValueError, match="entries but X has"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Negative"):
        est.fit(-X, y)
    Xz = X.copy()
    Xz[3] = 0
    with pytest.raises(ValueError, match="total 0.*profiles=False"):
        est.fit(Xz, y)
    _quiet(clone(est).set_params(profiles=False).fit, Xz, y)  # allowed without profiles
    with pytest.raises(ValueError, match="Unknown label type"):
        est.fit(X, np.linspace(0, 1, X.shape[0]))
    with pytest.raises(NotFittedError):
        SupervisedNMF().predict(X)
    with pytest.raises(ValueError, match="no labelled sample to score"):
        _quiet(est.fit, X, y).score(X, np.full(X.shape[0], None))


# ----------------------------------------------------------------------------- sklearn checks
#: checks that cannot apply, with the reason; the test fails if one starts passing
EXPECTED_FAILED = {
    "check_classifiers_classes": (
        "the check's binary labels are {-1, 1}: -1 marks unlabelled samples here (as "
        "sklearn.semi_supervised.SelfTrainingClassifier), which leaves one class"
    ),
}
#: with profiles=True the checks' integer X has all-zero rows, which have no profile
EXPECTED_FAILED_PROFILES = {
    "check_estimators_dtypes": "an all-zero row of the check's integer X has no profile",
    "check_fit2d_1feature": "with one shifted feature one sample is 0 and has no profile",
}


@pytest.mark.parametrize("profiles", [False, True])
def test_sklearn_estimator_checks(profiles):
    est = SupervisedNMF(n_components=2, n_replicates=1, check_every=10, min_iter=0,
                        max_iter=30, random_state=0, profiles=profiles)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    want = set(EXPECTED_FAILED) | (set(EXPECTED_FAILED_PROFILES) if profiles else set())
    assert failed == want
    assert sum(r["status"] == "passed" for r in results) >= 55
