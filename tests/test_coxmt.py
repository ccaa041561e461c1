"""CoxMT (Sun, Chen, Cai 2026; METHODS.md §D): kernels, hand-written gradients, training, API."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from desurv._kernels import _coxmt as K
from desurv._reference import coxmt as ref
from desurv._validation import make_survival_y
from desurv.exceptions import ConvergenceWarning
from desurv.survival import coxmt as cm
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import SortedSurvival
from desurv.survival.coxmt import CoxMT
from desurv.survival.functions import breslow_baseline

DTYPES = [np.float64, np.float32]


def _tol(dtype):
    return dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-14)


def _sim(n=120, p=5, seed=0, scale=1.5, censor=3.0):
    """X (n, p) normal; η = scale·x₀x₁ (a pure interaction: no linear signal at all)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    eta = scale * X[:, 0] * X[:, 1]
    t = rng.exponential(np.exp(-eta))
    c = rng.exponential(censor, n)
    return X, make_survival_y(np.minimum(t, c), t <= c), eta


def _quiet_fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def _small(**kw):
    base = dict(hidden_layer_sizes=(6, 4), max_epochs=5, early_stopping=False, random_state=0)
    base.update(kw)
    return CoxMT(**base)


# ----------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ["random", "zeros", "h1"])
def test_forward_kernels_equal_twins(dtype, case):
    rng = np.random.default_rng(1)
    m, p, h = (7, 5, 1) if case == "h1" else (7, 5, 6)
    X = rng.standard_normal((10, p)).astype(dtype)
    Z = rng.standard_normal((m, h)).astype(dtype)
    b = rng.standard_normal(h).astype(dtype)
    U = rng.random((m, h))
    if case == "zeros":
        X[:] = 0
        Z[:] = 0
        b[:] = 0
    rows = rng.integers(0, 10, size=m)
    for sigma in (0.0, 0.3):
        E = rng.standard_normal((m, p))
        a, r = np.full((m, p), np.nan, dtype), np.full((m, p), np.nan, dtype)
        K.gather_noise(a, X, rows, E if sigma else np.empty((0, 0)), sigma)
        ref.gather_noise(r, X, rows, E, sigma)
        np.testing.assert_allclose(a, r, **_tol(dtype))
        assert a.dtype == dtype
        if sigma == 0:
            np.testing.assert_array_equal(a, X[rows])
    for rate in (0.0, 0.4):
        a, r = Z.copy(), Z.copy()
        K.bias_relu_dropout(a, b, U if rate else np.empty((0, 0)), rate)
        ref.bias_relu_dropout(r, b, U, rate)
        np.testing.assert_allclose(a, r, **_tol(dtype))
        assert np.all(a >= 0)
        if rate:  # dropped units are exactly 0, kept ones scaled by 1/(1 - rate)
            assert np.all(a[U < rate] == 0)
        G = rng.standard_normal((m, h)).astype(dtype)
        ga, gr = G.copy(), G.copy()
        dba, dbr = np.empty(h, dtype), np.empty(h, dtype)
        K.relu_dropout_backward(ga, a, rate, dba)
        ref.relu_dropout_backward(gr, a, rate, dbr)
        np.testing.assert_allclose(ga, gr, **_tol(dtype))
        np.testing.assert_allclose(dba, dbr, **_tol(dtype))
        assert np.all(ga[a == 0] == 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zeros", [False, True])
def test_optimizer_kernels_equal_twins(dtype, zeros):
    rng = np.random.default_rng(2)
    n = 37
    theta = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)
    m, v = rng.standard_normal(n).astype(dtype), rng.random(n).astype(dtype)
    teacher = rng.standard_normal(n).astype(dtype)
    if zeros:
        grad[:] = 0
        m[:] = 0
        v[:] = 0
    args = (3, 2e-3, 0.9, 0.999, 1e-8, 1e-4)
    a = [x.copy() for x in (theta, grad, m, v)]
    r = [x.copy() for x in (theta, grad, m, v)]
    K.adam_step(*a, *args)
    ref.adam_step(*r, *args)
    for x, y in zip(a, r, strict=True):
        np.testing.assert_allclose(x, y, **_tol(dtype))
    ta, tr = teacher.copy(), teacher.copy()
    K.ema_update(ta, theta, 0.7)
    ref.ema_update(tr, theta, 0.7)
    np.testing.assert_allclose(ta, tr, **_tol(dtype))
    # alpha = 0 copies the student exactly (the first mean-teacher step)
    K.ema_update(ta, theta, 0.0)
    np.testing.assert_array_equal(ta, theta)
    # fused = Adam then EMA, bit for bit
    f = [x.copy() for x in (theta, grad, m, v, teacher)]
    s = [x.copy() for x in (theta, grad, m, v, teacher)]
    K.adam_ema_step(*f[:4], f[4], *args, 0.6)
    K.adam_step(*s[:4], *args)
    K.ema_update(s[4], s[0], 0.6)
    for x, y in zip(f, s, strict=True):
        np.testing.assert_array_equal(x, y)
    r = [x.copy() for x in (theta, grad, m, v, teacher)]
    ref.adam_ema_step(*r[:4], r[4], *args, 0.6)
    for x, y in zip(f, r, strict=True):
        np.testing.assert_allclose(x, y, **_tol(dtype))


def test_adam_weight_decay_is_coupled():
    """With a zero loss gradient, the step follows the L2 gradient λθ (PyTorch Adam), so at
    t = 1 every parameter moves by lr·sign(θ) (up to ε), towards 0."""
    theta = np.array([2.0, -3.0, 0.5])
    m, v = np.zeros(3), np.zeros(3)
    K.adam_step(theta, np.zeros(3), m, v, 1, 0.01, 0.9, 0.999, 1e-12, 0.1)
    np.testing.assert_allclose(theta, [1.99, -2.99, 0.49], rtol=1e-9)


# ----------------------------------------------------------------------------- gradients
def _batch(case, seed=3):
    """A batch: 8 labelled samples (time order, a tie), 3 unlabelled; network layout."""
    rng = np.random.default_rng(seed)
    p = 4
    hidden = () if case == "linear" else (5, 3)
    n_l, n_u = 8, 3
    X = rng.standard_normal((n_l + n_u, p))
    time = np.sort(rng.exponential(1.0, n_l))
    time[3] = time[4]  # a tie
    event = np.array([1, 0, 1, 1, 1, 0, 1, 0], dtype=bool)
    if case == "no_censored":
        event[:] = True
    net = cm._Network(p, hidden)
    theta = net.init(rng, np.float64)
    theta += 0.3 * rng.standard_normal(theta.shape)  # away from the symmetric start
    surv = SortedSurvival(time, event, require_event=False)
    lab, unl = np.arange(n_l), n_l + np.arange(n_u)
    cons, n_cens = cm._consistency_positions(surv, n_l, n_u)
    E = rng.standard_normal((n_l + n_u, p))
    U = [rng.random((n_l + n_u, h)) for h in hidden]
    eta_t = rng.standard_normal(cons.shape[0])
    return dict(
        X=X, time=time, event=event, net=net, theta=theta, surv=surv, lab=lab, unl=unl,
        cons=cons, n_cens=n_cens, E=E, U=U, eta_t=eta_t, n_l=n_l,
    )  # fmt: skip


def _loss(b, theta, cfg, weight, grad=None):
    net = b["net"]
    m = b["E"].shape[0]
    tape = cm._Tape(net, m, np.float64, rate=cfg["rate"], noise=cfg["noise_std"], backward=True)
    tape.E[:] = b["E"]
    if cfg["rate"]:
        for U, Ub in zip(tape.U, b["U"], strict=True):
            U[:] = Ub
    grad = np.zeros_like(theta) if grad is None else grad
    eta_t = b["eta_t"] if weight > 0 else None
    loss, ls, lu = cm._batch_loss_gradient(
        net, theta, b["X"], b["lab"], b["unl"], b["surv"], tape, cfg, weight, eta_t, grad
    )
    return loss, grad, tape


CASES = [
    ("pooled", "breslow", "full"),
    ("halved", "efron", "full"),
    ("halved", "breslow", "no_censored"),
    ("pooled", "efron", "linear"),
]


@pytest.mark.parametrize("average,ties,case", CASES)
def test_whole_loss_gradient_equals_finite_differences(average, ties, case):
    """∂(L_s + w·L_u)/∂θ by hand vs central differences, every parameter, fixed noise and
    dropout masks (teacher targets fixed: they get no gradient)."""
    b = _batch(case)
    cfg = dict(noise_std=0.4, rate=0.3, efron=ties == "efron", halved=average == "halved")
    w = 0.8
    _, grad, _ = _loss(b, b["theta"], cfg, w)
    h = 1e-6
    fd = np.empty_like(grad)
    for i in range(grad.size):
        tp, tm = b["theta"].copy(), b["theta"].copy()
        tp[i] += h
        tm[i] -= h
        fd[i] = (_loss(b, tp, cfg, w)[0] - _loss(b, tm, cfg, w)[0]) / (2 * h)
    assert np.any(grad != 0)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("average,ties,case", CASES)
def test_loss_and_gradient_equal_reference_network(average, ties, case):
    """The flat-buffer network with fused kernels = the list-of-arrays NumPy network with the
    Cox likelihood from its definition (desurv._reference)."""
    b = _batch(case)
    cfg = dict(noise_std=0.4, rate=0.3, efron=ties == "efron", halved=average == "halved")
    loss, grad, tape = _loss(b, b["theta"], cfg, 0.8)
    params = [(W.copy(), bb.copy()) for W, bb in b["net"].views(b["theta"])]
    A0 = b["X"] + 0.4 * b["E"]
    eta, cache = ref.forward(params, A0, b["U"], 0.3)
    n_l = b["n_l"]
    t, e = b["time"], b["event"]
    cox = (
        None if ties == "breslow" else (lambda eta_, t_, e_: ref.cox_reference(eta_, t_, e_, True))
    )
    rl, _, _, g = ref.eta_loss(eta, n_l, t, e, b["eta_t"], b["cons"], 0.8, average, cox)
    np.testing.assert_allclose(loss, rl, rtol=1e-12)
    grads = ref.backward(params, cache, g)
    flat = np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in grads])
    np.testing.assert_allclose(grad, flat, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(tape.A0, A0, rtol=1e-15)


def test_halved_average_halves_unlabelled_term_without_censored():
    b = _batch("no_censored")
    cfg = dict(noise_std=0.0, rate=0.0, efron=False, halved=True)
    eta = np.zeros(11)
    cons, n_cens = cm._consistency_positions(b["surv"], 8, 3)
    assert n_cens == 0 and cons.tolist() == [8, 9, 10]
    r = np.array([1.0, 2.0, 3.0])
    _, _, lu_h, _ = cm._eta_loss(eta, 8, b["surv"], False, -r, cons, 0, 1.0, True)
    _, _, lu_p, _ = cm._eta_loss(eta, 8, b["surv"], False, -r, cons, 0, 1.0, False)
    assert lu_p == pytest.approx(np.mean(r**2)) and lu_h == pytest.approx(lu_p / 2)
    assert cfg["halved"]


# ----------------------------------------------------------------------------- training
def _naive_run(X, y, n_steps, unl=None, seed=0, **kw):
    """The straightforward NumPy training (desurv._reference.coxmt.train_step) with the
    estimator's streams, full batch, no standardisation."""
    order = np.argsort(y["time"], kind="stable")
    Xl = X[order]
    t, e = y["time"][order], y["event"][order]
    Xall = np.vstack([Xl, unl]) if unl is not None else Xl
    n_u = 0 if unl is None else unl.shape[0]
    rngs = cm._streams(seed)
    hidden = kw.pop("hidden", (6, 4))
    net = cm._Network(X.shape[1], hidden)
    theta = net.init(rngs["init"], np.float64)
    student = [(W.copy(), b.copy()) for W, b in net.views(theta)]
    teacher = [(W.copy(), b.copy()) for W, b in student]
    m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in student]
    v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in student]
    lab_rows = np.arange(len(t))
    unl_rows = len(t) + np.arange(n_u)
    for step in range(n_steps):
        ref.train_step(
            student, teacher, m, v, step, Xall, lab_rows, t, e, unl_rows,
            (rngs["labeled"], rngs["unlabeled"], rngs["teacher"]), **kw,
        )  # fmt: skip

    def flat(ps):
        return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in ps])

    return flat(student), flat(teacher)


@pytest.mark.parametrize("average", ["pooled", "halved"])
def test_fit_equals_straightforward_numpy_training(average):
    """Four full-batch steps of CoxMT.fit (noise, dropout, teacher, Adam, EMA) reproduce the
    plain NumPy implementation drawing from the same streams."""
    X, y, _ = _sim(30, 4, seed=5)
    Xu = np.random.default_rng(9).standard_normal((6, 4))
    model = _small(max_epochs=4, standardize=False, consistency_average=average).fit(X, y, Xu)
    s, t = _naive_run(X, y, 4, Xu, seed=0, average=average)
    np.testing.assert_allclose(model.student_params_, s, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.teacher_params_, t, rtol=1e-9, atol=1e-12)
    assert model.n_steps_ == 4


def test_ema_schedule_is_exact():
    """θ′ = θ after step 0 (α₀ = 0); then α_t = min(1 − 1/(t + 1), ema_decay)."""
    X, y, _ = _sim(40, 4)
    fits = [_small(max_epochs=k, ema_decay=0.6).fit(X, y) for k in (0, 1, 2, 3)]
    np.testing.assert_array_equal(fits[0].teacher_params_, fits[0].student_params_)
    np.testing.assert_array_equal(fits[1].teacher_params_, fits[1].student_params_)
    assert not np.array_equal(fits[1].student_params_, fits[0].student_params_)
    for k, alpha in ((2, 0.5), (3, 0.6)):  # min(1/2, 0.6), min(2/3, 0.6)
        expect = alpha * fits[k - 1].teacher_params_ + (1 - alpha) * fits[k].student_params_
        np.testing.assert_allclose(fits[k].teacher_params_, expect, rtol=1e-14, atol=1e-16)
        # the student's trajectory does not depend on how long the fit runs
        assert not np.array_equal(fits[k].teacher_params_, fits[k].student_params_)


def test_learns_a_nonlinear_risk_on_held_out_data():
    """η = 1.5·x₀x₁ has no linear part: the network ranks held-out samples well, a linear
    Cox model trained the same way does not."""
    X, y, _ = _sim(200, 5, seed=0)
    Xt, yt, eta_t = _sim(200, 5, seed=1)
    oracle = concordance_index(yt["time"], yt["event"], eta_t)
    kw = dict(max_epochs=150, learning_rate=1e-2, early_stopping=False, random_state=0)
    net = CoxMT((16, 8), **kw).fit(X, y)
    lin = CoxMT((), **kw).fit(X, y)
    c_net, c_lin = net.score(Xt, yt), lin.score(Xt, yt)
    assert c_net > 0.62 and c_net > c_lin + 0.07 and c_net < oracle + 0.02
    assert abs(c_lin - 0.5) < 0.07
    assert net.score(Xt, yt, network="student") > 0.6
    # losses fall
    h = net.history_
    assert h["cox_loss"].iloc[-10:].mean() < h["cox_loss"].iloc[:10].mean()


def test_minibatch_training_learns_and_counts_steps():
    X, y, _ = _sim(160, 5, seed=0)
    Xt, yt, _ = _sim(200, 5, seed=1)
    m = CoxMT((16, 8), batch_size=32, max_epochs=25, learning_rate=5e-3, early_stopping=False,
              random_state=0).fit(X, y, X_unlabeled=Xt[:50])  # fmt: skip
    n_ev = int(y["event"].sum())
    assert m.n_steps_ == 25 * min(160 // 32, n_ev)
    assert m.score(Xt, yt) > 0.6


def test_event_stratified_batches_and_unlabelled_cycle():
    rng = np.random.default_rng(0)
    event = rng.random(103) < 0.3
    batches = cm._event_stratified_batches(event, 20, rng)
    assert len(batches) == 5
    allpos = np.concatenate(batches)
    assert np.array_equal(np.sort(allpos), np.arange(103))  # each sample once, none dropped
    evs = [int(event[b].sum()) for b in batches]
    assert min(evs) >= 1 and max(evs) - min(evs) <= 1
    assert min(b.size for b in batches) >= 20
    assert all(np.all(np.diff(b) > 0) for b in batches)
    # fewer events than batches: one batch per event
    few = np.zeros(50, bool)
    few[[3, 30]] = True
    assert len(cm._event_stratified_batches(few, 5, rng)) == 2
    cyc = cm._UnlabeledCycle(100, 7, rng)
    taken = [cyc.take(3) for _ in range(6)]
    for tk in taken:
        assert len(set(tk.tolist())) == 3 and tk.min() >= 100 and tk.max() < 107
    assert cyc.take(50).size == 7  # at most every unlabelled sample


def test_rampup_weight_follows_sigmoid_schedule():
    X, y, _ = _sim(40, 4)
    m = _small(max_epochs=6, rampup_epochs=4, consistency_weight=2.0).fit(X, y)
    e = np.arange(6)
    expect = 2.0 * np.exp(-5 * (1 - np.minimum(e / 4, 1)) ** 2)
    np.testing.assert_allclose(m.history_["consistency_weight"], expect, rtol=1e-14)
    m0 = _small(max_epochs=3, consistency_weight=0.0).fit(X, y)
    assert m0.history_["consistency_loss"].isna().all()


# ----------------------------------------------------------------------------- semi-supervision
def test_zero_consistency_weight_ignores_unlabelled_data():
    """w = 0: identical student (and teacher) with or without unlabelled samples, because
    the streams of the labelled batches, the unlabelled samples and the teacher are
    separate; with w > 0 the unlabelled samples change the fit."""
    X, y, _ = _sim(60, 5, seed=2)
    Xu = np.random.default_rng(4).standard_normal((25, 5)) * 2
    for bs in (None, 16):
        kw = dict(standardize=False, batch_size=bs, max_epochs=4)
        a = _small(consistency_weight=0.0, **kw).fit(X, y)
        b = _small(consistency_weight=0.0, **kw).fit(X, y, X_unlabeled=Xu)
        np.testing.assert_array_equal(a.student_params_, b.student_params_)
        np.testing.assert_array_equal(a.teacher_params_, b.teacher_params_)
        c = _small(consistency_weight=1.0, **kw).fit(X, y)
        d = _small(consistency_weight=1.0, **kw).fit(X, y, X_unlabeled=Xu)
        assert not np.allclose(c.student_params_, d.student_params_)
        assert d.n_unlabeled_ == 25 and c.n_unlabeled_ == 0


def test_unlabelled_rows_marked_by_nan_time_equal_x_unlabeled():
    X, y, _ = _sim(50, 4, seed=3)
    Xu = np.random.default_rng(5).standard_normal((10, 4))
    yy = np.empty(60, dtype=y.dtype)
    yy[:50] = y
    yy["time"][50:] = np.nan
    yy["event"][50:] = False
    a = _small().fit(np.vstack([X, Xu]), yy)
    b = _small().fit(X, y, X_unlabeled=Xu)
    np.testing.assert_array_equal(a.student_params_, b.student_params_)
    np.testing.assert_array_equal(a.mean_, b.mean_)
    assert a.n_unlabeled_ == 10 and a.n_labeled_ == 50
    assert np.array_equal(a.train_indices_, np.arange(50))
    # a DataFrame y with NaN in both columns, and time=/event= keywords, mean the same
    df = pd.DataFrame({"time": yy["time"], "event": np.where(np.isnan(yy["time"]), np.nan, 1.0)})
    df.loc[:49, "event"] = y["event"].astype(float)
    c = _small().fit(np.vstack([X, Xu]), df)
    np.testing.assert_array_equal(a.student_params_, c.student_params_)
    d = _small().fit(np.vstack([X, Xu]), time=yy["time"], event=yy["event"])
    np.testing.assert_array_equal(a.student_params_, d.student_params_)


# ----------------------------------------------------------------------------- early stopping
def test_early_stopping_uses_only_the_labelled_validation_split():
    X, y, _ = _sim(150, 5, seed=0)
    Xu = np.random.default_rng(1).standard_normal((30, 5))
    yy = np.concatenate([y, make_survival_y(np.ones(1), np.ones(1, bool))])
    yy["time"][-1] = np.nan
    yy["event"][-1] = False
    Xa = np.vstack([X, Xu[:1]])
    m = _quiet_fit(
        CoxMT((16, 8), max_epochs=60, learning_rate=1e-2, n_iter_no_change=8, random_state=1),
        Xa, yy, X_unlabeled=Xu[1:],
    )  # fmt: skip
    val, tr = m.validation_indices_, m.train_indices_
    assert 150 not in val and 150 not in tr  # the unlabelled row is in neither
    assert np.intersect1d(val, tr).size == 0 and np.union1d(val, tr).size == 150
    ev = y["event"]
    assert abs(ev[val].sum() - round(0.2 * ev.sum())) == 0  # stratified on the event
    assert abs((~ev[val]).sum() - round(0.2 * (~ev).sum())) == 0
    h = m.history_
    assert h["val_cindex"].notna().all()
    assert m.best_epoch_ == int(h["val_cindex"].to_numpy().argmax()) + 1
    # the kept network's C-index on the validation rows is the recorded best
    assert m.score(X[val], y[val]) == pytest.approx(m.best_validation_cindex_, abs=1e-12)
    if m.n_iter_ < 60:
        assert m.n_iter_ == m.best_epoch_ + 8


def test_convergence_warning_only_with_early_stopping():
    X, y, _ = _sim(80, 4)
    with pytest.warns(ConvergenceWarning, match="max_epochs=2"):
        CoxMT((4,), max_epochs=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CoxMT((4,), max_epochs=2, early_stopping=False, random_state=0).fit(X, y)


def test_early_stopping_monitors_the_predicting_network():
    X, y, _ = _sim(100, 4)
    kw = dict(max_epochs=15, n_iter_no_change=100, random_state=0)
    for name in ("teacher", "student"):
        m = _quiet_fit(CoxMT((6,), predict_with=name, **kw), X, y)
        val = m.validation_indices_
        assert m.score(X[val], y[val]) == pytest.approx(m.best_validation_cindex_, abs=1e-12)


# ----------------------------------------------------------------------------- predictions
def test_predict_teacher_student_and_survival_functions():
    X, y, _ = _sim(80, 4, seed=6)
    m = _small(max_epochs=20, hidden_layer_sizes=(8, 4)).fit(X, y)
    Xs = (X - m.mean_) / m.scale_
    for name in ("teacher", "student"):
        coefs, ints = m.network_parameters(name)
        eta_ref, _ = ref.forward(list(zip(coefs, ints, strict=True)), Xs, None, 0.0)
        np.testing.assert_allclose(m.predict(X, network=name), eta_ref, rtol=1e-12, atol=1e-12)
        # Breslow baseline of that network on the labelled samples
        times, h0 = breslow_baseline(eta_ref, y["time"], y["event"])
        np.testing.assert_allclose(m.cum_baseline_hazard_[name], h0, rtol=1e-12)
        np.testing.assert_array_equal(m.unique_times_, times)
    assert not np.allclose(m.predict(X), m.predict(X, network="student"))
    np.testing.assert_array_equal(m.predict(X), m.predict(X, network="teacher"))
    ms = clone(m).set_params(predict_with="student").fit(X, y)
    np.testing.assert_array_equal(ms.predict(X), m.predict(X, network="student"))
    S = m.predict_survival_function(X[:5], return_array=True)
    H = m.predict_cumulative_hazard_function(X[:5], return_array=True)
    np.testing.assert_allclose(S, np.exp(-H), rtol=1e-12)
    np.testing.assert_allclose(
        H, np.exp(m.predict(X[:5]))[:, None] * m.cum_baseline_hazard_["teacher"][None], rtol=1e-12
    )
    assert np.all(np.diff(S, axis=1) <= 0) and np.all((S >= 0) & (S <= 1))
    fns = m.predict_survival_function(X[:2])
    t_mid = m.unique_times_[10]
    assert fns[0](t_mid) == pytest.approx(S[0, 10])
    assert m.score(X, y) == pytest.approx(concordance_index(y["time"], y["event"], m.predict(X)))


def test_float32_trains_on_the_same_draws_as_float64():
    """Noise and dropout are drawn in float64 in both dtypes: float32 differs by rounding."""
    X, y, _ = _sim(120, 5)
    kw = dict(hidden_layer_sizes=(16, 8), max_epochs=10, batch_size=40)
    a = _small(**kw).fit(X, y, X_unlabeled=X[:20] + 0.1)
    b = _small(dtype="float32", **kw).fit(X, y, X_unlabeled=X[:20] + 0.1)
    assert b.student_params_.dtype == np.float32 and a.student_params_.dtype == np.float64
    assert b.predict(X).dtype == np.float64
    np.testing.assert_allclose(b.student_params_, a.student_params_, rtol=0, atol=1e-5)
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=0, atol=1e-5)
    m = CoxMT((16, 8), max_epochs=60, learning_rate=1e-2, early_stopping=False, dtype="float32",
              random_state=0).fit(X, y)  # fmt: skip
    assert m.score(X, y) > 0.6


def test_dataframes_are_aligned_by_name():
    X, y, _ = _sim(50, 4)
    Xu = np.random.default_rng(2).standard_normal((8, 4))
    cols = ["g1", "g2", "g3", "g4"]
    df, dfu = pd.DataFrame(X, columns=cols), pd.DataFrame(Xu, columns=cols)[cols[::-1]]
    a = _small().fit(df, y, X_unlabeled=dfu)
    b = _small().fit(X, y, X_unlabeled=Xu)
    np.testing.assert_array_equal(a.student_params_, b.student_params_)
    assert list(a.feature_names_in_) == cols
    np.testing.assert_array_equal(a.predict(df[cols[::-1]]), b.predict(X))


def test_pickle_and_empty_unlabelled_block():
    import pickle

    X, y, _ = _sim(40, 4)
    m = _small().fit(X, y, X_unlabeled=np.empty((0, 4)))
    np.testing.assert_array_equal(m.student_params_, _small().fit(X, y).student_params_)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    np.testing.assert_array_equal(
        m2.predict_survival_function(X[:3], return_array=True),
        m.predict_survival_function(X[:3], return_array=True),
    )


def test_determinism_and_seeds():
    X, y, _ = _sim(60, 4)
    kw = dict(batch_size=16, max_epochs=3)
    a, b = _small(**kw).fit(X, y), _small(**kw).fit(X, y)
    np.testing.assert_array_equal(a.student_params_, b.student_params_)
    np.testing.assert_array_equal(a.teacher_params_, b.teacher_params_)
    c = _small(random_state=1, **kw).fit(X, y)
    assert not np.array_equal(a.student_params_, c.student_params_)
    for rs in (np.random.RandomState(0), np.random.default_rng(0)):
        _small(random_state=rs, **kw).fit(X, y)


# ----------------------------------------------------------------------------- API and input
def test_sklearn_clone_params_and_not_fitted():
    m = CoxMT((10,), dropout=0.1, random_state=3)
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert c.get_params()["hidden_layer_sizes"] == (10,)
    with pytest.raises(NotFittedError):
        c.predict(np.zeros((2, 3)))
    p = CoxMT.published(max_epochs=5)
    assert p.batch_size == 32 and p.early_stopping is False and p.predict_with == "student"
    assert p.consistency_average == "halved" and p.max_epochs == 5
    assert clone(p).get_params() == p.get_params()
    assert CoxMT().__sklearn_tags__().target_tags.required


def _bad_y_nan_event():
    X, y, _ = _sim(30, 3)
    yy = y.copy()
    yy["time"][0] = np.nan
    yy["event"][0] = True
    return X, yy


@pytest.mark.parametrize(
    "params,make,match",
    [
        ({"dropout": 1.0}, None, "dropout"),
        ({"hidden_layer_sizes": (0, 3)}, None, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": "big"}, None, "hidden_layer_sizes"),
        ({"batch_size": 0}, None, "batch_size"),
        ({"learning_rate": 0}, None, "learning_rate"),
        ({"ema_decay": 1.5}, None, "ema_decay"),
        ({"predict_with": "both"}, None, "predict_with"),
        ({"ties": "exact"}, None, "ties"),
        ({"consistency_average": "mean"}, None, "consistency_average"),
        ({"dtype": "float16"}, None, "dtype"),
        ({"consistency_weight": -1}, None, "consistency_weight"),
        ({"early_stopping": "yes"}, None, "early_stopping"),
        ({"random_state": "seed"}, None, "random_state"),
        ({}, "plain_y", "survival data"),
        ({}, "nan_event", "time NaN \\(unlabelled\\) but an event value"),
        ({}, "negative", "negative"),
        ({}, "one_event", "only 1 event"),
        ({}, "nan_x", "NaN"),
        ({}, "unl_features", "features"),
        ({}, "no_y", "requires y"),
        ({"early_stopping": True}, "few_events", "at least 3 labelled events"),
    ],
)
def test_bad_input_raises_clear_errors(params, make, match):
    X, y, _ = _sim(30, 3)
    args, kw = (X, y), {}
    if make == "plain_y":
        args = (X, y["time"])
    elif make == "nan_event":
        args = _bad_y_nan_event()
    elif make == "negative":
        yy = y.copy()
        yy["time"][0] = -1
        args = (X, yy)
    elif make == "one_event":
        yy = y.copy()
        yy["event"][:] = False
        yy["event"][0] = True
        args = (X, yy)
    elif make == "nan_x":
        X2 = X.copy()
        X2[0, 0] = np.nan
        args = (X2, y)
    elif make == "unl_features":
        kw = {"X_unlabeled": np.zeros((3, 4))}
    elif make == "no_y":
        args = (X,)
    elif make == "few_events":
        yy = y.copy()
        yy["event"][:] = False
        yy["event"][:2] = True
        args = (X, yy)
    base = dict(hidden_layer_sizes=(4,), max_epochs=1, early_stopping=False)
    base.update(params)
    with pytest.raises(ValueError, match=match):
        CoxMT(**base).fit(*args, **kw)


def test_predict_input_errors():
    X, y, _ = _sim(30, 3)
    m = _small().fit(X, y)
    with pytest.raises(ValueError, match="network"):
        m.predict(X, network="both")
    with pytest.raises(ValueError, match="features"):
        m.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        m.predict(np.full((2, 3), np.nan))
