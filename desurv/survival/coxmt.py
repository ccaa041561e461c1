"""Cox-MT: the mean-teacher semi-supervised Cox network (Sun, Chen, Cai 2026), in NumPy.

The single-modal model of METHODS.md §D (arXiv 2601.20729): a multilayer perceptron maps a
sample's expression x (n_features genes) to its log-hazard η; a *student* network is trained
on the Cox partial likelihood of the labelled samples plus a consistency term that pulls its
η towards that of a *teacher*, an exponential moving average of the student (Tarvainen &
Valpola 2017), on the censored and the unlabelled samples. With consistency weight 0 it is a
supervised MLP-Cox model (Cox-nnet-like, Ching et al. 2018), the paper's baseline.

No deep-learning framework: the forward and backward passes are written by hand. The
products go to BLAS (NumPy ``matmul`` into preallocated buffers), the element-wise parts
are fused compiled passes (:mod:`desurv._kernels._coxmt`: noisy input rows, bias + ReLU +
inverted dropout, its backward with the bias gradient, Adam with coupled weight decay fused
with the EMA update of the teacher), and the Cox partial likelihood and its gradient in η
come from desurv's compiled risk-set kernel (:func:`desurv.survival.cox._stats_sorted`,
Breslow or Efron ties). All parameters live in one flat vector, so that one compiled pass
updates all of them.

Public: :class:`CoxMT`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from desurv._kernels import _coxmt as _K
from desurv._threads import blas_threads as _blas_threads
from desurv._validation import (
    check_real_param,
    check_scale,
    check_values,
    columns_for_model,
    extract_X,
    is_anndata,
    survival_from_y,
    survival_tags,
    survival_with_unlabeled,
)
from desurv.exceptions import ConvergenceWarning
from desurv.survival.concordance import concordance_index
from desurv.survival.cox import SortedSurvival, _stats_sorted
from desurv.survival.functions import (
    breslow_baseline,
    cumulative_hazard_functions,
    survival_functions,
)

__all__ = ["CoxMT"]

_NETWORKS = ("teacher", "student")
_AVERAGES = ("pooled", "halved")
_TIES = ("breslow", "efron")
_DTYPES = {"float64": np.float64, "float32": np.float32}
_SD_MIN = 1e-12  # features with sd <= this are only centred (scale 1)
_CHUNK = 2048  # rows per forward pass in predict (bounds the activations' memory)
_EMPTY = np.empty((0, 0))  # the uniforms in eval mode (not read)
_NO_ROWS = np.empty(0, dtype=np.int64)
#: streams spawned from ``random_state``, in this order (see :func:`_streams`)
_STREAMS = ("init", "split", "labeled", "unlabeled", "teacher")


def _streams(random_state):
    """Independent Generators ``{name: Generator}`` for the names of ``_STREAMS``.

    One :class:`numpy.random.SeedSequence` from ``random_state`` (None: fresh entropy; an
    int; a RandomState or Generator: a seed drawn from it) spawns one child per stream, so
    that no stream's draws depend on another's: the labelled batches, noise and dropout
    never depend on the unlabelled data or on the teacher.
    """
    rs = random_state
    if rs is None or isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
        ss = np.random.SeedSequence(None if rs is None else int(rs))
    elif isinstance(rs, np.random.RandomState):
        ss = np.random.SeedSequence(int(rs.randint(np.iinfo(np.int32).max)))
    elif isinstance(rs, np.random.Generator):
        ss = np.random.SeedSequence(int(rs.integers(np.iinfo(np.int64).max)))
    else:
        raise ValueError(
            f"random_state must be None, an int, a numpy RandomState or Generator, got {rs!r}"
        )
    return dict(zip(_STREAMS, (np.random.default_rng(s) for s in ss.spawn(5)), strict=True))


# ----------------------------------------------------------------------------- network
class _Network:
    """Layout of the flat parameter vector of the MLP x -> η.

    Layers ℓ = 0 … L (L hidden layers, then the output layer): W_ℓ (fan_in, fan_out)
    row-major, then b_ℓ (fan_out,); ``sizes = (n_features, *hidden, 1)``. W_ℓ is the
    transpose of PyTorch's ``nn.Linear.weight`` (so that a layer is A·W_ℓ + b_ℓ).
    """

    def __init__(self, n_features, hidden):
        self.sizes = (int(n_features), *(int(h) for h in hidden), 1)
        self.hidden = self.sizes[1:-1]
        self._slices = []
        off = 0
        for fi, fo in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            self._slices.append((off, fi, fo))
            off += fi * fo + fo
        self.n_params = off

    def views(self, theta):
        """``[(W_ℓ (fan_in, fan_out), b_ℓ (fan_out,)), ...]``: views into ``theta``."""
        out = []
        for off, fi, fo in self._slices:
            out.append(
                (
                    theta[off : off + fi * fo].reshape(fi, fo),
                    theta[off + fi * fo : off + fi * fo + fo],
                )
            )
        return out

    def init(self, rng, dtype):
        """PyTorch's ``nn.Linear`` start: W and b ~ U(−1/√fan_in, 1/√fan_in), layer by layer.

        Draws in float64 (weights, then biases, of each layer) and casts to ``dtype``.
        """
        theta = np.empty(self.n_params, dtype=dtype)
        for W, b in self.views(theta):
            bound = 1.0 / np.sqrt(W.shape[0])
            W[...] = rng.uniform(-bound, bound, size=W.shape)
            b[...] = rng.uniform(-bound, bound, size=b.shape)
        return theta


class _Tape:
    """Buffers of one forward (and backward) pass over up to ``rows`` samples."""

    def __init__(self, net, rows, dtype, *, rate, noise, backward):
        self.dtype = dtype
        self.A0 = np.empty((rows, net.sizes[0]), dtype=dtype)  # noisy input rows
        self.E = np.empty((rows, net.sizes[0] if noise > 0 else 0))  # normal draws, float64
        self.H = [np.empty((rows, h), dtype=dtype) for h in net.hidden]
        # dropout uniforms, float64 in both dtypes (a float32 fit sees the same masks)
        self.U = [np.empty((rows, h)) for h in net.hidden] if rate > 0 else None
        self.G = [np.empty((rows, h), dtype=dtype) for h in net.hidden] if backward else None


def _draw(tape, segments, noise_std, rate):
    """Gaussian noise into ``tape.E`` and dropout uniforms into ``tape.U``, block by block.

    ``segments``: ``[(n_rows, Generator), ...]`` for consecutive row blocks; each block's
    draws come from its own Generator (noise, then the uniforms of each hidden layer).
    """
    r0 = 0
    for n_rows, rng in segments:
        r1 = r0 + n_rows
        if n_rows:
            if noise_std > 0:
                rng.standard_normal(out=tape.E[r0:r1])
            if rate > 0:
                for U in tape.U:
                    rng.random(out=U[r0:r1])
        r0 = r1


def _forward(net, theta, X, rows, tape, noise_std, rate):
    """Train-mode forward of ``X[rows]`` with the draws in ``tape``; η (m,) float64.

    ``tape.E[:m]`` must hold standard normal draws (when noise_std > 0) and ``tape.U`` the
    uniforms (when rate > 0); on exit the tape holds the noisy inputs and every hidden
    layer's output, for :func:`_backward`.
    """
    m = rows.shape[0]
    A = tape.A0[:m]
    _K.gather_noise(A, X, rows, tape.E[:m], noise_std)
    views = net.views(theta)
    for layer, (W, b) in enumerate(views[:-1]):
        H = tape.H[layer][:m]
        np.matmul(A, W, out=H)
        _K.bias_relu_dropout(H, b, tape.U[layer][:m] if rate > 0 else _EMPTY, rate)
        A = H
    W, b = views[-1]
    eta = (A @ W[:, 0]).astype(np.float64)
    eta += float(b[0])
    return eta


def _forward_eval(net, theta, Xs):
    """Eval-mode η (no noise, no dropout) of the standardised rows ``Xs``; float64 (n,)."""
    views = net.views(theta)
    out = np.empty(Xs.shape[0], dtype=np.float64)
    for s in range(0, Xs.shape[0], _CHUNK):
        A = Xs[s : s + _CHUNK]
        for W, b in views[:-1]:
            A = A @ W
            _K.bias_relu_dropout(A, b, _EMPTY, 0.0)
        W, b = views[-1]
        out[s : s + A.shape[0]] = A @ W[:, 0]
        out[s : s + A.shape[0]] += float(b[0])
    return out


def _backward(net, theta, tape, m, g_eta, rate, grad):
    """Gradient of the loss in every parameter into ``grad`` (overwritten), from ∂L/∂η (m,)."""
    views, gviews = net.views(theta), net.views(grad)
    n_hidden = len(net.hidden)
    A = tape.H[-1][:m] if n_hidden else tape.A0[:m]
    g = g_eta.astype(tape.dtype)
    gW, gb = gviews[-1]
    gW[:, 0] = A.T @ g
    gb[0] = g_eta.sum()
    if not n_hidden:
        return
    G = tape.G[-1][:m]
    np.multiply.outer(g, views[-1][0][:, 0], out=G)
    for layer in range(n_hidden - 1, -1, -1):
        G = tape.G[layer][:m]
        _K.relu_dropout_backward(G, tape.H[layer][:m], rate, gviews[layer][1])
        A_in = tape.H[layer - 1][:m] if layer else tape.A0[:m]
        np.matmul(A_in.T, G, out=gviews[layer][0])
        if layer:
            np.matmul(G, views[layer][0].T, out=tape.G[layer - 1][:m])


def _eta_loss(eta, n_lab, surv, efron, eta_t, cons, n_cens, weight, halved):
    """Loss of a batch and its gradient in the student's η (METHODS.md §D.1).

    ``L = L_s + w·L_u``. L_s = −ℓ(η_{0:n_lab}) / |E|, the Breslow (or Efron) negative log
    partial likelihood of the batch's labelled samples (the first ``n_lab`` entries, in the
    order of ``surv``) per event of the batch (0 without events). L_u: squared differences
    (η_cons − η_teacher)², ``cons`` the positions of the batch's censored labelled samples
    (its first ``n_cens`` entries) and then of its unlabelled samples; pooled: their mean;
    ``halved``: (mean over the censored + mean over the unlabelled) / 2 when unlabelled
    positions exist (a term without samples counts 0), else the censored mean.

    Returns ``(L, L_s, L_u, g)``, g = ∂L/∂η (float64, like η); L_u is NaN when ``weight``
    is 0 (the teacher is then not run).
    """
    g = np.zeros(eta.shape[0])
    ls = 0.0
    d = surv.n_event if n_lab else 0
    if d:
        ll, gl, _ = _stats_sorted(np.ascontiguousarray(eta[:n_lab][surv.order]), surv, efron)
        ls = -ll / d
        g[:n_lab] = gl[surv.inverse] * (-1.0 / d)
    if weight <= 0 or cons.shape[0] == 0:
        return ls, ls, (np.nan if weight <= 0 else 0.0), g
    r = eta[cons] - eta_t
    r2 = r * r
    n_c = cons.shape[0]
    if not halved:
        lu = float(r2.sum()) / n_c
        g[cons] += (2.0 * weight / n_c) * r
    else:
        n_u = n_c - n_cens
        lc = float(r2[:n_cens].sum()) / n_cens if n_cens else 0.0
        if n_u:
            lu = 0.5 * (lc + float(r2[n_cens:].sum()) / n_u)
            if n_cens:
                g[cons[:n_cens]] += (weight / n_cens) * r[:n_cens]
            g[cons[n_cens:]] += (weight / n_u) * r[n_cens:]
        else:
            lu = lc
            g[cons] += (2.0 * weight / n_cens) * r
    return ls + weight * lu, ls, lu, g


def _batch_loss_gradient(net, theta, X, lab_rows, unl_rows, surv, tape, cfg, weight, eta_t, grad):
    """Forward of the student on a batch (draws already in ``tape``), loss, backward.

    ``eta_t``: the teacher's η on the consistency rows (``_consistency(...)``), or None when
    ``weight`` is 0. Returns ``(L, L_s, L_u)``; the gradient is written into ``grad``.
    """
    n_l = lab_rows.shape[0]
    rows = np.concatenate([lab_rows, unl_rows]) if unl_rows.shape[0] else lab_rows
    eta = _forward(net, theta, X, rows, tape, cfg["noise_std"], cfg["rate"])
    cons, n_cens = _consistency_positions(surv, n_l, unl_rows.shape[0])
    loss, ls, lu, g = _eta_loss(
        eta,
        n_l,
        surv,
        cfg["efron"],
        eta_t,
        cons,
        n_cens,
        weight,
        cfg["halved"],
    )
    _backward(net, theta, tape, rows.shape[0], g, cfg["rate"], grad)
    return loss, ls, lu


def _consistency_positions(surv, n_lab, n_unl):
    """Positions in the batch of the censored labelled samples, then the unlabelled ones."""
    cen = np.flatnonzero(surv.event[surv.inverse] == 0) if n_lab else np.empty(0, np.intp)
    return np.concatenate([cen, n_lab + np.arange(n_unl)]), cen.shape[0]


# ----------------------------------------------------------------------------- batches
def _event_stratified_batches(event, batch_size, rng):
    """Split labelled positions 0 … n−1 into event-stratified mini-batches (each sorted).

    ``n_batches = max(1, min(n // batch_size, n_events))``; the events and the censored
    samples are shuffled separately and dealt into near-equal shares (the shares with one
    event more get one censored sample fewer), so every batch has at least one event and
    about ``n / n_batches`` >= ``batch_size`` samples; no sample is dropped. Positions
    ascend within a batch (time order, since the labelled training set is sorted by time).
    """
    n = event.shape[0]
    ev = np.flatnonzero(event)
    ce = np.flatnonzero(~event)
    k = max(1, min(n // batch_size, ev.shape[0]))
    if k == 1:
        return [np.arange(n)]
    ev_parts = np.array_split(rng.permutation(ev), k)
    ce_parts = np.array_split(rng.permutation(ce), k)[::-1]
    return [np.sort(np.concatenate([a, b])) for a, b in zip(ev_parts, ce_parts, strict=True)]


class _UnlabeledCycle:
    """Unlabelled rows in shuffled order, batch after batch, reshuffled when used up.

    A batch never repeats a row: when fewer than the requested rows remain in the current
    pass, they are skipped (``drop_last``) and a new permutation starts.
    """

    def __init__(self, offset, n, rng):
        self.offset, self.n, self.rng = offset, n, rng
        self.perm, self.pos = None, n

    def take(self, k):
        k = min(k, self.n)
        if self.pos + k > self.n:
            self.perm = self.rng.permutation(self.n)
            self.pos = 0
        out = self.perm[self.pos : self.pos + k] + self.offset
        self.pos += k
        return out


def _rampup(epoch, rampup_epochs):
    """exp(−5(1 − T)²), T = min(epoch / rampup_epochs, 1) (Laine & Aila 2017); 1 if 0."""
    if rampup_epochs <= 0:
        return 1.0
    T = min(epoch / rampup_epochs, 1.0)
    return float(np.exp(-5.0 * (1.0 - T) ** 2))


# ----------------------------------------------------------------------------- training
class _Trainer:
    """State of one training run: student, teacher, Adam's moments, buffers, streams.

    Parameters
    ----------
    net : _Network
    X : ndarray (n_lab + n_unl, n_features), compute dtype, C-contiguous
        Standardised training rows: the labelled ones sorted by time, then the unlabelled.
    time_lab, event_lab : ndarray (n_lab,)
        Sorted times (float64) and events (bool) of the labelled rows.
    n_unl : int
    cfg : dict
        Validated hyperparameters (see ``CoxMT._config``).
    rngs : dict of Generator (see :func:`_streams`)
    """

    def __init__(self, net, X, time_lab, event_lab, n_unl, cfg, rngs):
        dt = X.dtype.type
        self.net, self.X, self.cfg, self.rngs = net, X, cfg, rngs
        self.time, self.event = time_lab, event_lab
        n_lab = self.n_lab = time_lab.shape[0]
        self.n_unl = n_unl
        self.theta = net.init(rngs["init"], dt)
        self.teacher = self.theta.copy()
        self.grad = np.zeros_like(self.theta)
        self.m1 = np.zeros_like(self.theta)
        self.m2 = np.zeros_like(self.theta)
        self.full = cfg["batch_size"] is None
        if self.full:
            max_lab, max_unl = n_lab, n_unl
        else:
            n_batches = max(1, min(n_lab // cfg["batch_size"], int(event_lab.sum())))
            max_lab = -(-n_lab // n_batches) + 1
            max_unl = min(max_lab, n_unl)
        use_teacher = cfg["weight"] > 0
        rows_max = max_lab + (max_unl if use_teacher else 0)
        rate = cfg["rate"]
        noise = cfg["noise_std"]
        self.tape = _Tape(net, rows_max, dt, rate=rate, noise=noise, backward=True)
        self.ttape = (
            _Tape(net, rows_max, dt, rate=rate, noise=noise, backward=False)
            if use_teacher
            else None
        )
        self.cycle = _UnlabeledCycle(n_lab, n_unl, rngs["unlabeled"])
        self.full_surv = SortedSurvival(time_lab, event_lab, require_event=False)
        self.all_lab = np.arange(n_lab)
        self.all_unl = n_lab + np.arange(n_unl)
        self.t = 0  # global step

    def batches(self):
        """The labelled batches of one epoch: ``[(positions, SortedSurvival), ...]``."""
        if self.full:
            return [(self.all_lab, self.full_surv)]
        parts = _event_stratified_batches(self.event, self.cfg["batch_size"], self.rngs["labeled"])
        return [
            (b, SortedSurvival(self.time[b], self.event[b], require_event=False)) for b in parts
        ]

    def step(self, lab, surv, w):
        """One training step on the labelled positions ``lab`` with weight w of L_u.

        Draws the batch's unlabelled rows (when w > 0), the noise and the dropout masks,
        runs the teacher on the consistency rows and the student forward and backward,
        then the fused Adam + EMA pass with α_t = min(1 − 1/(t + 1), ema_decay).
        Returns ``(L, L_s, L_u)``.
        """
        cfg, rngs, rate = self.cfg, self.rngs, self.cfg["rate"]
        unl = _NO_ROWS
        if w > 0 and self.n_unl:
            unl = self.all_unl if self.full else self.cycle.take(lab.shape[0])
        nl, nu = lab.shape[0], unl.shape[0]
        _draw(self.tape, [(nl, rngs["labeled"]), (nu, rngs["unlabeled"])], cfg["noise_std"], rate)
        eta_t = None
        if w > 0:
            cons, _ = _consistency_positions(surv, nl, nu)
            rows = np.concatenate([lab, unl])[cons]
            _draw(self.ttape, [(rows.shape[0], rngs["teacher"])], cfg["noise_std"], rate)
            eta_t = _forward(
                self.net, self.teacher, self.X, rows, self.ttape, cfg["noise_std"], rate
            )
        out = _batch_loss_gradient(
            self.net, self.theta, self.X, lab, unl, surv, self.tape, cfg, w, eta_t, self.grad
        )
        if not np.isfinite(out[0]):
            return out
        alpha = min(1.0 - 1.0 / (self.t + 1), cfg["ema_decay"])
        _K.adam_ema_step(
            self.theta,
            self.grad,
            self.m1,
            self.m2,
            self.teacher,
            self.t + 1,
            cfg["learning_rate"],
            cfg["beta_1"],
            cfg["beta_2"],
            cfg["epsilon"],
            cfg["weight_decay"],
            alpha,
        )
        self.t += 1
        return out


def _train(net, X, time_lab, event_lab, n_unl, X_val, val, cfg, rngs, verbose=0):
    """The training loop of Cox-MT (METHODS.md §D.2).

    Parameters
    ----------
    net, X, time_lab, event_lab, n_unl, cfg, rngs
        As for :class:`_Trainer`.
    X_val : ndarray (n_val, n_features) or None
        Standardised validation rows (early stopping), with ``val = (time, event)``.
    verbose : int

    Returns
    -------
    dict
        ``student``, ``teacher`` (flat parameters kept), ``history`` (list of dicts),
        ``n_epochs``, ``best_epoch``, ``n_steps``, ``stopped``.
    """
    tr = _Trainer(net, X, time_lab, event_lab, n_unl, cfg, rngs)
    history = []
    best = (-np.inf, 0, None, None)
    stopped = False
    for epoch in range(cfg["max_epochs"]):
        w = cfg["weight"] * _rampup(epoch, cfg["rampup_epochs"])
        batches = tr.batches()
        sums = np.zeros(3)
        for lab, surv in batches:
            loss, ls, lu = tr.step(lab, surv, w)
            if not np.isfinite(loss):
                raise ValueError(
                    f"CoxMT training diverged at epoch {epoch + 1} (loss = {loss}): lower "
                    "learning_rate, raise weight_decay, or standardise X (standardize=True)"
                )
            sums += (loss, ls, lu if w > 0 else 0.0)
        nb = len(batches)
        row = dict(
            epoch=epoch + 1,
            loss=sums[0] / nb,
            cox_loss=sums[1] / nb,
            consistency_loss=sums[2] / nb if w > 0 else np.nan,
            consistency_weight=w,
            val_cindex=np.nan,
        )
        if X_val is not None:
            params = tr.teacher if cfg["monitor"] == "teacher" else tr.theta
            eta_v = _forward_eval(net, params, X_val)
            if not np.all(np.isfinite(eta_v)):
                raise ValueError(
                    f"CoxMT: the validation log-hazards are not finite at epoch {epoch + 1}; "
                    "lower learning_rate or standardise X"
                )
            c = concordance_index(val[0], val[1], eta_v)
            row["val_cindex"] = c
            if c > best[0] + cfg["tol"] or best[2] is None:
                best = (c, epoch + 1, tr.theta.copy(), tr.teacher.copy())
            elif epoch + 1 - best[1] >= cfg["n_iter_no_change"]:
                stopped = True
        history.append(row)
        if verbose:
            msg = ", ".join(
                f"{k} {v:.5g}" for k, v in row.items() if k != "epoch" and np.isfinite(v)
            )
            print(f"CoxMT epoch {epoch + 1}: {msg}")
        if stopped:
            break
    theta, teacher, best_epoch = tr.theta, tr.teacher, len(history)
    if X_val is not None and best[2] is not None:
        best_epoch, theta, teacher = best[1], best[2], best[3]
    return dict(
        student=theta,
        teacher=teacher,
        history=history,
        n_epochs=len(history),
        best_epoch=best_epoch,
        n_steps=tr.t,
        stopped=stopped,
    )


# ----------------------------------------------------------------------------- input checks
def _check_int(name, value, low, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= {low}{extra}, got {value!r}")
    return int(value)


def _check_float(name, value, low=None, high=None, low_open=False, high_open=False):
    v = check_real_param(name, value)
    ok = bool(np.isfinite(v))
    if low is not None:
        ok = ok and (v > low if low_open else v >= low)
    if high is not None:
        ok = ok and (v < high if high_open else v <= high)
    if not ok:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must be a finite number in {lo}, {hi}, got {value!r}")
    return v


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# ----------------------------------------------------------------------------- estimator
class CoxMT(BaseEstimator):
    """Cox-MT: mean-teacher semi-supervised Cox network (Sun, Chen, Cai 2026), single-modal.

    The model of METHODS.md §D (Sun, Chen, Cai, "Deep semi-supervised survival analysis for
    predicting cancer prognosis", arXiv 2601.20729): a multilayer perceptron f_θ maps a
    sample's features x (e.g. n_features gene expression values) to its log-hazard η:

        Linear(n_features, h₁) → ReLU → Dropout → … → Linear(h_L, 1)

    (the paper: h = (1000, 200), dropout 0.2). A *student* θ is trained by Adam on

        L = L_s + w(epoch)·L_u,
        L_s = −(1/|E|) Σ_{i∈B_L, δ_i=1} [η_i − log Σ_{j∈B_L, t_j ≥ t_i} exp η_j]   (Breslow),
        L_u = mean of (η_i − η′_i)² over the batch's censored labelled and unlabelled samples,

    where η is the student's output on the noisy input x + σε and η′ that of the *teacher*
    θ′ (its own noise ε′, dropout on, no gradient). After every step the teacher follows the
    student by an exponential moving average θ′ ← α_t θ′ + (1 − α_t) θ with
    α_t = min(1 − 1/(t + 1), ``ema_decay``) at global step t = 0, 1, … (§D.2; so the
    teacher equals the student after the first step). This is the Mean Teacher of Tarvainen &
    Valpola (2017) on a Cox likelihood; uncensored labelled samples are not in L_u (§D.1).
    With ``consistency_weight=0`` it is a supervised MLP-Cox model, the Cox-nnet-like
    baseline of the paper (Ching et al. 2018, with ReLU layers instead of one tanh layer).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(1000, 200)
        Sizes h₁ … h_L of the hidden layers (ReLU, dropout after each); ``()`` gives a
        linear Cox model η = xβ + b trained the same way.
    dropout : float in [0, 1), default=0.2
        Probability that a hidden unit is dropped in training (inverted dropout: kept units
        are scaled by 1/(1 − dropout), so eval mode needs no rescaling; torch.nn.Dropout).
    consistency_weight : float >= 0, default=1.0
        w, the weight of L_u (the paper's 1; robust in [0.1, 3], §D.3). 0: the supervised
        MLP-Cox baseline; the teacher and the unlabelled samples are then not used at all
        (the teacher still tracks the student by the EMA and can predict).
    rampup_epochs : int >= 0, default=0
        Sigmoid ramp-up of w: w(e) = w·exp(−5(1 − min(e/R, 1))²) at epoch e = 0, 1, …
        (Laine & Aila 2017; Tarvainen & Valpola 2017). 0 = constant w, as the Cox-MT code.
    noise_std : float >= 0, default=0.1
        σ of the Gaussian input noise, drawn independently for the student and the teacher
        on every input (labelled too), in the units of the network's input: the
        standardised features with ``standardize=True`` (so σ = 0.1 is a tenth of each
        feature's sd; the paper's σ is in log2 expression units).
    ema_decay : float in [0, 1], default=0.99
        The ceiling of α_t (the paper: 0.9-0.999 works well). While
        1 − 1/(t + 1) < ema_decay (the first 99 steps at 0.99) the teacher is the plain
        average of all student iterates so far; in full-batch mode a step is an epoch, so
        with 100 epochs the teacher averages the whole run.
    consistency_average : {"pooled", "halved"}, default="pooled"
        How L_u averages. "pooled": the mean of (η − η′)² over all consistency samples of
        the batch (censored labelled and unlabelled, each weighing the same). "halved": the
        published code's (L_cens + L_unl)/2, the mean over the censored samples and the
        mean over the unlabelled ones averaged, when the batch has unlabelled samples (a
        batch without censored samples then counts L_cens = 0, halving L_unl; §D.7
        pitfall 5), else L_cens.
    learning_rate : float > 0, default=2e-3
        Adam's step size (the paper: 1e-3 to 5e-3).
    weight_decay : float >= 0, default=1e-4
        Coupled L2 (PyTorch ``Adam(weight_decay=...)``: λθ is added to the gradient of
        every parameter, biases included, before Adam's moments; not AdamW).
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
    epsilon : float > 0, default=1e-8
        Adam's decay rates and denominator guard (PyTorch's defaults).
    batch_size : int >= 1 or None, default=None
        None: one full-batch step per epoch (all labelled training samples in the Cox term,
        all unlabelled samples in L_u). An int: event-stratified mini-batches of the
        labelled training samples, ``max(1, min(n_labelled // batch_size, n_events))`` of
        them per epoch, each with a near-equal share of the events and of the censored
        samples (so each has >= 1 event and about ``batch_size`` or more samples; none is
        dropped), each with an unlabelled batch of the same size (at most all of them)
        drawn from a shuffled cycle through the unlabelled samples. The published code
        uses 32 (shuffled, ``drop_last``; a 32-sample risk set is a noisy, biased
        estimate, §D.7 pitfall 3).
    max_epochs : int >= 0, default=100
        Passes over the labelled training samples (0: the untrained start).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the *labelled* samples (stratified on the
        event; never unlabelled or test data), compute Harrell's C of the ``predict_with``
        network in eval mode on them after every epoch, stop when it has not exceeded its
        best by more than ``tol`` for ``n_iter_no_change`` epochs, and keep the parameters
        (student and teacher) of the best epoch. False: train ``max_epochs`` epochs on all
        labelled samples and keep the last parameters (the published code selects by the
        *training* C-index of noisy predictions, §D.7 pitfall 2; not offered).
    validation_fraction : float in (0, 1), default=0.2
        Share of the labelled events and of the labelled censored samples held out
        (rounded, at least one event; at least 2 events stay in training).
    n_iter_no_change : int >= 1, default=20
        Patience of early stopping, in epochs. The C-index of a small validation split is
        noisy and the teacher moves slowly (an EMA over about 1/(1 − ema_decay) = 100
        steps; in full-batch mode a step is an epoch), so a short patience stops on a
        plateau of noise early in training.
    tol : float >= 0, default=0.0
        Minimum rise of the validation C-index that counts as an improvement.
    predict_with : {"teacher", "student"}, default="teacher"
        Network used by :meth:`predict`, :meth:`score` and the survival functions (and
        watched by early stopping), always in eval mode (no noise, no dropout). Mean
        Teacher recommends the teacher; the published code saves the student.
    ties : {"breslow", "efron"}, default="breslow"
        Tied event times in L_s (the code orders tied samples arbitrarily, §D.7 pitfall 4).
    standardize : bool, default=True
        Centre every feature and divide it by its sd (ddof = 0; features with sd <= 1e-12
        are only centred), with the mean and sd of *all* samples passed to ``fit``:
        labelled (validation split included) and unlabelled. The published code feeds
        log2(1 + FPKM) unscaled.
    dtype : {"float64", "float32"}, default="float64"
        Compute dtype of the parameters, activations and Adam's state. float32 halves the
        memory and roughly doubles the speed of the products; losses, η and the Cox term
        are float64, and the noise and dropout draws are float64 in both (so the two
        dtypes train on the same draws and differ by rounding only).
    random_state : int, RandomState, Generator or None, default=None
        Seeds five independent streams (:func:`numpy.random.SeedSequence.spawn`): the
        start, the validation split, the labelled batches/noise/dropout, the unlabelled
        batches/noise/dropout and the teacher's noise/dropout. So with
        ``consistency_weight=0`` (and ``standardize=False``, see above) the unlabelled
        data cannot change the fit.
    n_threads : int >= 1 or None, default=None
        BLAS threads inside ``fit`` and ``predict`` (threadpoolctl); None leaves the
        process setting alone.
    verbose : int, default=0
        > 0 prints the losses and the validation C-index after every epoch.

    Attributes
    ----------
    student_params_, teacher_params_ : ndarray (n_params,), compute dtype
        The kept parameters, flat: for each layer W (fan_in, fan_out) row-major then b
        (see :meth:`network_parameters`).
    mean_, scale_ : ndarray of float64 (n_features,)
        Standardisation (zeros and ones with ``standardize=False``).
    unique_times_ : ndarray of float64 (n_unique_times,)
        Distinct times of the labelled samples passed to fit (training and validation).
    cum_baseline_hazard_ : dict {"teacher", "student"} -> ndarray (n_unique_times,)
        Breslow (1972) cumulative baseline hazard H0 at ``unique_times_`` of each network's
        eval-mode η on all labelled samples passed to fit (the baseline refers to η = 0).
    history_ : pandas.DataFrame, one row per epoch
        ``epoch`` (1, 2, …), ``loss``, ``cox_loss``, ``consistency_loss`` (means over the
        epoch's steps; L_u is NaN when the weight is 0), ``consistency_weight`` (the
        ramped w of the epoch) and ``val_cindex`` (NaN without early stopping).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose parameters are kept (``n_iter_`` without early stopping).
    n_steps_ : int
        Adam steps taken (= EMA updates).
    best_validation_cindex_ : float
        Validation C-index of the kept parameters (NaN without early stopping).
    n_labeled_, n_unlabeled_, n_events_ : int
        Labelled and unlabelled samples, and labelled events, passed to fit.
    train_indices_, validation_indices_ : ndarray of int
        Rows of the X passed to fit used in the Cox term and held out for early stopping
        (labelled rows only; unlabelled rows of X are in neither).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had feature names.

    Raises
    ------
    ValueError
        In ``fit``: a bad parameter; X not 2-D numeric, NaN/inf, all zero or every feature
        constant; X_unlabeled with other features; survival data that are not survival data
        (a plain 1-D y), of the wrong length, with negative or infinite times, events other
        than 0/1, an event where the time is NaN, or fewer than 2 labelled events; early
        stopping whose split leaves fewer than 2 training events or a validation set
        without a comparable pair; a loss that is not finite (diverged).

    Warns
    -----
    ConvergenceWarning
        With ``early_stopping=True`` only: training reached ``max_epochs`` before the
        validation C-index stopped improving.

    Notes
    -----
    *Unlabelled samples* are given as ``X_unlabeled`` or marked in ``y`` by a time of NaN
    (with event False/0 or NaN), or both. They enter the standardisation and L_u only.

    *Defaults vs the published code* (github.com/CaixdLab/CoxMT, METHODS.md §D.2, §D.7):
    the Cox term is full-batch with Breslow ties (code: 32-sample batches, ties in
    arbitrary order); the teacher in eval mode predicts (code: the student); early stopping
    on a held-out stratified validation split of the labelled samples (code: the best
    training C-index of noisy train-mode predictions); features standardised (code: raw
    log2 values); L_u pooled (code: halved). The code's conventions, as far as they are
    sound, are :meth:`published`: ``batch_size=32, early_stopping=False,
    predict_with="student", consistency_average="halved", standardize=False`` (our batches
    keep every sample, and ties are Breslow).

    *Cost.* A step costs about 3 products of (rows × n_features × h₁) (student forward,
    its gradient in W₁, teacher forward on the consistency rows) plus the Adam/EMA pass
    over all parameters; at 300 samples × 4,000 genes × (1000, 200) a full-batch epoch is
    well under a second on one core (``benchmarks/coxmt_speed.py``).

    References
    ----------
    Sun, Chen, Cai (2026). Deep semi-supervised survival analysis for predicting cancer
    prognosis. arXiv 2601.20729 (METHODS.md §D).
    Tarvainen, Valpola (2017). Mean teachers are better role models. NeurIPS.
    Laine, Aila (2017). Temporal ensembling for semi-supervised learning. ICLR.
    Ching, Zhu, Garmire (2018). Cox-nnet. PLoS Comput Biol 14(4): e1006076.
    Kingma, Ba (2015). Adam: a method for stochastic optimization. ICLR.
    Breslow (1972). Discussion of Cox (1972). JRSS B 34: 216-217.
    """

    def __init__(
        self,
        hidden_layer_sizes=(1000, 200),
        *,
        dropout=0.2,
        consistency_weight=1.0,
        rampup_epochs=0,
        noise_std=0.1,
        ema_decay=0.99,
        consistency_average="pooled",
        learning_rate=2e-3,
        weight_decay=1e-4,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        batch_size=None,
        max_epochs=100,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        tol=0.0,
        predict_with="teacher",
        ties="breslow",
        standardize=True,
        dtype="float64",
        random_state=None,
        n_threads=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.consistency_weight = consistency_weight
        self.rampup_epochs = rampup_epochs
        self.noise_std = noise_std
        self.ema_decay = ema_decay
        self.consistency_average = consistency_average
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.predict_with = predict_with
        self.ties = ties
        self.standardize = standardize
        self.dtype = dtype
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    @classmethod
    def published(cls, **params):
        """A CoxMT with the published code's training conventions (METHODS.md §D.2).

        ``batch_size=32, early_stopping=False, predict_with="student",
        consistency_average="halved", standardize=False`` and the paper-cited defaults
        (lr 2e-3, weight decay 1e-4, 100 epochs, EMA 0.99, σ = 0.1, dropout 0.2, w = 1);
        ``params`` override any of them. Differences that remain: our mini-batches are
        event-stratified and keep every sample (code: shuffled, ``drop_last``), tied times
        use Breslow (code: arbitrary order), and the code's seed 669 is not its stream.
        """
        base = dict(
            batch_size=32,
            early_stopping=False,
            predict_with="student",
            consistency_average="halved",
            standardize=False,
        )
        base.update(params)
        return cls(**base)

    def __sklearn_tags__(self):
        """Tags for scikit-learn: a survival target is required, X may be negative."""
        return survival_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------ checks
    def _config(self):
        hidden = self.hidden_layer_sizes
        if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            hidden = tuple(hidden)
        except TypeError:
            hidden = None
        if hidden is None or not all(
            isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in hidden
        ):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of integers >= 1 (e.g. (1000, 200); () for "
                f"a linear model), got {self.hidden_layer_sizes!r}"
            )
        for name in ("early_stopping", "standardize"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        dt = self.dtype
        if isinstance(dt, type) and dt in (np.float32, np.float64):
            dt = dt.__name__
        if not isinstance(dt, str) or dt not in _DTYPES:
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        cfg = dict(
            hidden=hidden,
            rate=_check_float("dropout", self.dropout, 0, 1, high_open=True),
            weight=_check_float("consistency_weight", self.consistency_weight, 0),
            rampup_epochs=_check_int("rampup_epochs", self.rampup_epochs, 0),
            noise_std=_check_float("noise_std", self.noise_std, 0),
            ema_decay=_check_float("ema_decay", self.ema_decay, 0, 1),
            halved=_check_choice("consistency_average", self.consistency_average, _AVERAGES)
            == "halved",
            learning_rate=_check_float("learning_rate", self.learning_rate, 0, low_open=True),
            weight_decay=_check_float("weight_decay", self.weight_decay, 0),
            beta_1=_check_float("beta_1", self.beta_1, 0, 1, high_open=True),
            beta_2=_check_float("beta_2", self.beta_2, 0, 1, high_open=True),
            epsilon=_check_float("epsilon", self.epsilon, 0, low_open=True),
            batch_size=_check_int("batch_size", self.batch_size, 1, allow_none=True),
            max_epochs=_check_int("max_epochs", self.max_epochs, 0),
            validation_fraction=_check_float(
                "validation_fraction", self.validation_fraction, 0, 1, True, True
            ),
            n_iter_no_change=_check_int("n_iter_no_change", self.n_iter_no_change, 1),
            tol=_check_float("tol", self.tol, 0),
            monitor=_check_choice("predict_with", self.predict_with, _NETWORKS),
            efron=_check_choice("ties", self.ties, _TIES) == "efron",
            dtype=_DTYPES[dt],
            n_threads=_check_int("n_threads", self.n_threads, 1, allow_none=True),
        )
        return cfg

    def _split(self, event, cfg, rng):
        """Stratified validation positions among the labelled samples (sorted)."""
        ev, ce = np.flatnonzero(event), np.flatnonzero(~event)
        f = cfg["validation_fraction"]
        n_ev = min(max(1, int(round(f * ev.size))), ev.size - 2)
        n_ce = min(int(round(f * ce.size)), ce.size)
        if n_ev < 1:
            raise ValueError(
                f"early_stopping needs at least 3 labelled events (2 to train, 1 to "
                f"validate), got {ev.size}; set early_stopping=False"
            )
        val = np.sort(np.concatenate([rng.permutation(ev)[:n_ev], rng.permutation(ce)[:n_ce]]))
        return val

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, X_unlabeled=None, *, time=None, event=None):
        """Train the student and the teacher.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
            Features (e.g. log expression of genes), finite, any sign.
        y : structured array or pandas.DataFrame of shape (n_samples,)
            Survival data: one bool (or 0/1) event field and one float time field, any
            names (:func:`desurv.make_survival_y`, ``sksurv.util.Surv``), or a two-column
            DataFrame; a time of NaN (with event False/0 or NaN) marks an unlabelled
            sample. Times in any unit (only their order matters to the fit; the survival
            functions are in the same unit).
        X_unlabeled : array-like or DataFrame of shape (n_unlabeled, n_features), optional
            More unlabelled samples (e.g. another cohort without follow-up), the same
            features as X (matched by name when both have names).
        time, event : array-like of shape (n_samples,) or str, optional
            Instead of ``y`` (a time of NaN marks an unlabelled sample); with AnnData X a
            string names a column of ``adata.obs``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            See the class docstring.

        Warns
        -----
        ConvergenceWarning
            Early stopping on, and ``max_epochs`` reached while the validation C-index was
            still improving.
        """
        cfg = self._config()
        with _blas_threads(cfg["n_threads"]):
            return self._fit(X, y, X_unlabeled, time, event, cfg)

    def _fit(self, X, y, X_unlabeled, time, event, cfg):
        values, names, samples = extract_X(X)
        Xa = check_values(values, nonnegative=False, samples=samples, features=names)
        check_scale(Xa, what="feature")
        n, p = Xa.shape
        obs = X.obs if is_anndata(X) else None
        t_all, e_all = survival_with_unlabeled(y, time, event, n_samples=n, obs=obs)
        unl_mask = np.isnan(t_all)
        self.n_features_in_ = p
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        blocks = [Xa[unl_mask]]
        if X_unlabeled is not None and np.shape(X_unlabeled)[0] > 0:  # (0, p): none
            blocks.append(columns_for_model(self, X_unlabeled, "features", nonnegative=False))
        Xu = np.vstack(blocks) if len(blocks) > 1 else blocks[0]
        lab_rows = np.flatnonzero(~unl_mask)
        Xl = Xa[lab_rows]
        t_lab, e_lab = t_all[lab_rows], e_all[lab_rows]

        dt = cfg["dtype"]
        if self.standardize:
            allX = np.vstack([Xl, Xu]) if Xu.shape[0] else Xl
            mean = allX.mean(axis=0)
            sd = allX.std(axis=0)
            scale = np.where(sd > _SD_MIN, sd, 1.0)
        else:
            mean, scale = np.zeros(p), np.ones(p)

        rngs = _streams(self.random_state)
        val_pos = np.empty(0, dtype=np.intp)
        if self.early_stopping:
            val_pos = self._split(e_lab, cfg, rngs["split"])
        train_pos = np.setdiff1d(np.arange(lab_rows.size), val_pos)
        if np.count_nonzero(e_lab[train_pos]) < 2:
            raise ValueError("the labelled training samples have fewer than 2 events")
        X_val = val = None
        if self.early_stopping:
            val = (t_lab[val_pos], e_lab[val_pos])
            try:
                concordance_index(val[0], val[1], np.zeros(val_pos.size))
            except ValueError:
                raise ValueError(
                    f"the early-stopping validation split ({val_pos.size} samples, "
                    f"{int(val[1].sum())} events) has no comparable pair, so its C-index is "
                    "undefined; raise validation_fraction, pass more labelled samples, or set "
                    "early_stopping=False"
                ) from None
            X_val = np.ascontiguousarray((Xl[val_pos] - mean) / scale, dtype=dt)
        order = train_pos[np.argsort(t_lab[train_pos], kind="stable")]
        Xt = np.vstack([Xl[order], Xu]) if Xu.shape[0] else Xl[order]
        Xt = np.ascontiguousarray((Xt - mean) / scale, dtype=dt)
        net = _Network(p, cfg["hidden"])
        with np.errstate(over="ignore", invalid="ignore"):
            res = _train(
                net,
                Xt,
                np.ascontiguousarray(t_lab[order]),
                e_lab[order],
                Xu.shape[0],
                X_val,
                val,
                cfg,
                rngs,
                self.verbose,
            )
        if self.early_stopping and not res["stopped"] and cfg["max_epochs"] > 0:
            warnings.warn(
                f"CoxMT reached max_epochs={cfg['max_epochs']} while the validation C-index "
                f"was still improving (best at epoch {res['best_epoch']}, patience "
                f"n_iter_no_change={cfg['n_iter_no_change']}); increase max_epochs",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._net = net
        self.student_params_ = res["student"]
        self.teacher_params_ = res["teacher"]
        self.mean_ = mean
        self.scale_ = scale
        hist = pd.DataFrame(
            res["history"],
            columns=[
                "epoch",
                "loss",
                "cox_loss",
                "consistency_loss",
                "consistency_weight",
                "val_cindex",
            ],
        )
        self.history_ = hist
        self.n_iter_ = res["n_epochs"]
        self.best_epoch_ = res["best_epoch"]
        self.n_steps_ = res["n_steps"]
        self.best_validation_cindex_ = (
            float(hist["val_cindex"].iloc[self.best_epoch_ - 1])
            if self.early_stopping and self.best_epoch_ > 0
            else np.nan
        )
        self.n_labeled_ = int(lab_rows.size)
        self.n_unlabeled_ = int(Xu.shape[0])
        self.n_events_ = int(e_lab.sum())
        self.train_indices_ = np.sort(lab_rows[train_pos])
        self.validation_indices_ = lab_rows[val_pos]
        # Breslow baselines of both networks on every labelled sample passed to fit
        Xl_s = np.ascontiguousarray((Xl - mean) / scale, dtype=dt)
        self.cum_baseline_hazard_ = {}
        for name in _NETWORKS:
            eta = self._eta_standardised(Xl_s, name)
            times, h0 = breslow_baseline(eta, t_lab, e_lab)
            self.cum_baseline_hazard_[name] = h0
        self.unique_times_ = times
        return self

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self):
        check_is_fitted(
            self, "teacher_params_", msg="this CoxMT model is not fitted yet: call fit() first"
        )

    def _network_name(self, network):
        name = self.predict_with if network is None else network
        return _check_choice("network", name, _NETWORKS)

    def _eta_standardised(self, Xs, network):
        params = self.teacher_params_ if network == "teacher" else self.student_params_
        with np.errstate(over="ignore", invalid="ignore"):
            return _forward_eval(self._net, params, Xs)

    def predict(self, X, *, network=None):
        """Log-hazard η of each sample: the network in eval mode (no noise, no dropout).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_features)
            Features on the scale of the training X (standardised internally with the
            training ``mean_``/``scale_``); matched by name when fitted with names.
        network : {"teacher", "student"} or None, default=None
            None: ``predict_with``.

        Returns
        -------
        eta : ndarray of float64 of shape (n_samples,)
            Log relative hazard (higher = higher risk), the scale of the Breslow baseline.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        ValueError
            X with other features, NaN/inf; ``network`` not "teacher"/"student".
        """
        self._check_fitted()
        name = self._network_name(network)
        Xa = columns_for_model(self, X, "features", nonnegative=False)
        Xs = np.ascontiguousarray((Xa - self.mean_) / self.scale_, dtype=self.teacher_params_.dtype)
        with _blas_threads(self.n_threads):
            return self._eta_standardised(Xs, name)

    def predict_cumulative_hazard_function(self, X, return_array=False, *, network=None):
        """Cumulative hazard H(t | x) = e^{η(x)} H0(t) with the Breslow baseline (Cox 1972).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_array : bool, default=False
            False: an object array of :class:`~desurv.survival.functions.StepFunction`
            (scikit-survival's interface); True: the values at ``unique_times_``.
        network : {"teacher", "student"} or None, default=None

        Returns
        -------
        ndarray of StepFunction (n_samples,) or ndarray of float64 (n_samples,
        n_unique_times)
        """
        name = self._network_name(network)
        eta = self.predict(X, network=name)
        return cumulative_hazard_functions(
            eta, self.unique_times_, self.cum_baseline_hazard_[name], return_array
        )

    def predict_survival_function(self, X, return_array=False, *, network=None):
        """Survival S(t | x) = exp(−e^{η(x)} H0(t)) with the Breslow baseline (Cox 1972).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_array : bool, default=False
            False: an object array of :class:`~desurv.survival.functions.StepFunction`
            (scikit-survival's interface, usable with ``sksurv.metrics``); True: the
            probabilities at ``unique_times_``.
        network : {"teacher", "student"} or None, default=None

        Returns
        -------
        ndarray of StepFunction (n_samples,) or ndarray of float64 (n_samples,
        n_unique_times)
            Probabilities in [0, 1], nonincreasing in time (time in the unit of y).
        """
        name = self._network_name(network)
        eta = self.predict(X, network=name)
        return survival_functions(
            eta, self.unique_times_, self.cum_baseline_hazard_[name], return_array
        )

    def score(self, X, y=None, *, time=None, event=None, network=None):
        """Harrell's concordance index of :meth:`predict` on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : structured array or DataFrame of shape (n_samples,)
            Survival data (no unlabelled rows), or ``time=``/``event=``.
        network : {"teacher", "student"} or None, default=None

        Returns
        -------
        float
            Harrell's C in [0, 1] (desurv.concordance_index; lifelines' tie rules).
        """
        eta = self.predict(X, network=network)
        obs = X.obs if is_anndata(X) else None
        t, e = survival_from_y(y, time, event, n_samples=eta.shape[0], obs=obs, require_event=False)
        return concordance_index(t, e, eta)

    def network_parameters(self, network=None):
        """Copies of the weights and biases of one network.

        Parameters
        ----------
        network : {"teacher", "student"} or None, default=None

        Returns
        -------
        coefs : list of ndarray (fan_in, fan_out)
            W of each layer (the transpose of PyTorch's ``Linear.weight``), input first.
        intercepts : list of ndarray (fan_out,)
        """
        self._check_fitted()
        name = self._network_name(network)
        params = self.teacher_params_ if name == "teacher" else self.student_params_
        views = self._net.views(params)
        return [W.copy() for W, _ in views], [b.copy() for _, b in views]
