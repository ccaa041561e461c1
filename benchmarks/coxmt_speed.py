"""Training speed of CoxMT (fused kernels, flat buffers) vs a straightforward NumPy version.

Issue 15: training time per epoch and per fit of the single-modal Cox-MT network (METHODS.md
§D; Sun, Chen, Cai 2026) at 300 labelled samples × 4,000 genes, hidden layers 1,000 / 200,
against a straightforward NumPy implementation of the same network and the same algorithm
in the same run:

* ``coxmt``: ``desurv.survival.CoxMT.fit`` (products in BLAS into preallocated buffers, the
  element-wise passes fused in Numba: noisy input rows, bias + ReLU + dropout, its
  backward, Adam with coupled weight decay fused with the teacher's EMA; all parameters in
  one flat vector), float64 and float32;
* ``naive``: ``desurv._reference.coxmt.train_step`` in a loop: a list of (W, b) arrays,
  ``X[rows] + σ·randn``, boolean dropout masks, NumPy expressions with temporaries, Adam and
  the EMA array by array (the formulas as written), float64. It draws from the same random
  streams as CoxMT, so both produce the same network (``max |Δη|`` column: the largest
  difference of the teacher's training log-hazards, float64 rounding only).

Both use desurv's compiled Cox risk-set kernel for the partial likelihood, so the ratio
measures the network and the optimiser, not the Cox term. Cases: full batch on the labelled
samples only (the consistency term on the censored ones), full batch with 300 unlabelled
samples, and the published code's 32-sample batches (event-stratified here) with 32
unlabelled samples per step. Per fit: ``fit`` with ``--epochs`` epochs (standardisation, the
Breslow baselines and the predictions included; early stopping off); per epoch: (per fit −
the same call with 0 epochs) / epochs. Medians of ``--repeats`` repetitions, BLAS on one
thread, the load average of the shared machine printed before and after. A breakdown of one
full-batch step (draws, teacher forward, student forward/backward, Adam + EMA) follows.

    python benchmarks/coxmt_speed.py [--epochs 20] [--repeats 3]

Writes ``benchmarks/results/coxmt_speed.txt``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# benchmarks/_speed_common.py by path: this script runs as a file or is loaded by path
sc = sys.modules.get("_desurv_speed_common")
if sc is None:
    _spec = importlib.util.spec_from_file_location(
        "_desurv_speed_common", Path(__file__).with_name("_speed_common.py")
    )
    sc = sys.modules["_desurv_speed_common"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sc)

RESULTS = sc.RESULTS
median_time = sc.median_time
HIDDEN = (1000, 200)


def synthetic(n=300, p=4000, n_unl=300, k=5, seed=0):
    """Expression-like data: k latent factors + noise; risk from a nonlinear function of them.

    Returns ``(X (n, p), time, event, X_unlabeled (n_unl, p))``.
    """
    rng = np.random.default_rng(seed)
    F = rng.standard_normal((n + n_unl, k))
    L = rng.standard_normal((k, p))
    X = F @ L + 2.0 * rng.standard_normal((n + n_unl, p))
    eta = np.tanh(F[:n, 0] * F[:n, 1]) + 0.7 * F[:n, 2]
    t = rng.exponential(np.exp(-eta))
    c = rng.exponential(2.0, n)
    return X[:n], np.minimum(t, c), t <= c, X[n:]


def naive_fit(X, time_, event, X_unl, *, epochs, batch_size, seed=0, **kw):
    """The straightforward NumPy Cox-MT fit: standardise, train, Breslow baseline.

    Uses the estimator's random streams and batch schedule, so the result equals CoxMT's
    up to rounding. Returns the teacher's eval-mode η of the labelled samples.
    """
    from desurv._reference import coxmt as ref
    from desurv.survival import coxmt as cm
    from desurv.survival.cox import cox_gradient
    from desurv.survival.functions import breslow_baseline

    def cox(eta, t, e):
        ll, g, _ = cox_gradient(eta, t, e)
        return ll, g

    n_u = 0 if X_unl is None else X_unl.shape[0]
    allX = X if X_unl is None else np.vstack([X, X_unl])
    mean, sd = allX.mean(axis=0), allX.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    order = np.argsort(time_, kind="stable")
    Xs = (X[order] - mean) / sd
    Xall = Xs if X_unl is None else np.vstack([Xs, (X_unl - mean) / sd])
    t, e = time_[order], event[order]
    rngs = cm._streams(seed)
    student = ref.init_params((X.shape[1], *HIDDEN, 1), rngs["init"])
    teacher = [(W.copy(), b.copy()) for W, b in student]
    m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in student]
    v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in student]
    cycle = cm._UnlabeledCycle(len(t), n_u, rngs["unlabeled"])
    all_unl = len(t) + np.arange(n_u)
    step = 0
    for _ in range(epochs):
        if batch_size is None:
            batches = [np.arange(len(t))]
        else:
            batches = cm._event_stratified_batches(e, batch_size, rngs["labeled"])
        for b in batches:
            unl = all_unl if batch_size is None else cycle.take(len(b))
            ref.train_step(
                student,
                teacher,
                m,
                v,
                step,
                Xall,
                b,
                t[b],
                e[b],
                unl,
                (rngs["labeled"], rngs["unlabeled"], rngs["teacher"]),
                cox=cox,
                **kw,
            )
            step += 1
    eta, _ = ref.forward(teacher, (X - mean) / sd, None, 0.0)
    breslow_baseline(eta, time_, event)
    return eta


def measure(case, X, time_, event, X_unl, batch_size, *, epochs, repeats):
    """Rows (dicts) of one case: coxmt float64/float32 and naive float64."""
    from desurv._validation import make_survival_y
    from desurv.survival.coxmt import CoxMT

    y = make_survival_y(time_, event)
    kw = dict(
        hidden_layer_sizes=HIDDEN, batch_size=batch_size, early_stopping=False, random_state=0
    )

    def coxmt(dtype, n_epochs):
        model = CoxMT(max_epochs=n_epochs, dtype=dtype, **kw)
        return model.fit(X, y, X_unlabeled=X_unl).predict(X)

    def naive(n_epochs):
        return naive_fit(X, time_, event, X_unl, epochs=n_epochs, batch_size=batch_size)

    coxmt("float64", 1)  # compile / load the kernels
    coxmt("float32", 1)
    runs = [
        ("coxmt float64", lambda n_ep: coxmt("float64", n_ep)),
        ("coxmt float32", lambda n_ep: coxmt("float32", n_ep)),
        ("naive float64", naive),
    ]
    rows, etas = [], {}
    for name, fn in runs:
        t_fit, eta = median_time(lambda fn=fn: fn(epochs), repeats)
        t_zero, _ = median_time(lambda fn=fn: fn(0), repeats)
        etas[name] = eta
        rows.append(
            dict(
                case=case,
                impl=name,
                per_epoch_s=(t_fit - t_zero) / epochs,
                per_fit_s=t_fit,
            )
        )
    for r in rows:
        r["max_abs_d_eta"] = float(np.max(np.abs(etas[r["impl"]] - etas["naive float64"])))
    return rows


def breakdown(X, time_, event, repeats):
    """Seconds of one full-batch float64 ``_Trainer.step`` (labelled only, w = 1) and of
    its parts, each timed alone on the trainer's own buffers; plus Adam + EMA written as
    NumPy expressions over the same parameters."""
    from desurv._reference import coxmt as ref
    from desurv.survival import coxmt as cm

    cfg = cm.CoxMT(hidden_layer_sizes=HIDDEN, random_state=0)._config()
    order = np.argsort(time_, kind="stable")
    mean, sd = X.mean(axis=0), X.std(axis=0)
    Xt = np.ascontiguousarray((X[order] - mean) / sd)
    net = cm._Network(X.shape[1], HIDDEN)
    tr = cm._Trainer(net, Xt, time_[order], event[order], 0, cfg, cm._streams(0))
    lab, surv = tr.batches()[0]
    tr.step(lab, surv, 1.0)
    cons, _ = cm._consistency_positions(surv, lab.size, 0)
    rows = lab[cons]
    sigma, rate = cfg["noise_std"], cfg["rate"]
    no_unl = np.empty(0, dtype=np.int64)

    def draws():
        cm._draw(tr.tape, [(lab.size, tr.rngs["labeled"])], sigma, rate)
        cm._draw(tr.ttape, [(rows.size, tr.rngs["teacher"])], sigma, rate)

    eta_t = cm._forward(net, tr.teacher, Xt, rows, tr.ttape, sigma, rate)
    z = np.zeros(1)
    th, g, m1, m2, te = tr.theta, tr.grad, tr.m1.copy(), tr.m2.copy(), tr.teacher.copy()

    def naive_adam_ema():
        ref.adam_update([(th, z)], [(g, z)], [(m1, z)], [(m2, z)], 3, 2e-3, weight_decay=1e-4)
        ref.ema_params([(te, z)], [(th, z)], 0.99)

    parts = [
        ("whole step", lambda: tr.step(lab, surv, 1.0)),
        ("  draws: noise + dropout uniforms", draws),
        (
            f"  teacher forward ({rows.size} censored rows)",
            lambda: cm._forward(net, tr.teacher, Xt, rows, tr.ttape, sigma, rate),
        ),
        (
            f"  student forward + loss + backward ({lab.size} rows)",
            lambda: cm._batch_loss_gradient(
                net, tr.theta, Xt, lab, no_unl, surv, tr.tape, cfg, 1.0, eta_t, tr.grad
            ),
        ),
        (
            f"  Adam + EMA fused (Numba), {net.n_params} parameters",
            lambda: cm._K.adam_ema_step(
                th, g, tr.m1, tr.m2, tr.teacher, 3, 2e-3, 0.9, 0.999, 1e-8, 1e-4, 0.99
            ),
        ),
        ("(Adam + EMA as NumPy expressions)", naive_adam_ema),
    ]
    return [(name, median_time(fn, max(repeats, 7))[0]) for name, fn in parts]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--genes", type=int, default=4000)
    ap.add_argument("--unlabeled", type=int, default=300)
    ap.add_argument("--out", default=str(RESULTS / "coxmt_speed.txt"))
    a = ap.parse_args(argv)
    load0 = sc.load_average()
    t0 = time.perf_counter()
    X, time_, event, Xu = synthetic(a.n, a.genes, a.unlabeled)
    rows = []
    with sc.one_blas_thread():
        for case, unl, bs in (
            ("full batch, labelled only", None, None),
            (f"full batch + {a.unlabeled} unlabelled", Xu, None),
            (f"batch 32 + {a.unlabeled} unlabelled", Xu, 32),
        ):
            rows += measure(case, X, time_, event, unl, bs, epochs=a.epochs, repeats=a.repeats)
        parts = breakdown(X, time_, event, a.repeats)
    df = pd.DataFrame(rows)
    with sc.report(a.out):
        print(f"command: {sc.command('coxmt_speed.py', argv)}")
        print("CoxMT training time vs a straightforward NumPy implementation (same algorithm)")
        print(
            f"{a.n} labelled samples ({int(event.sum())} events) x {a.genes} genes, hidden "
            f"{HIDDEN}, dropout 0.2, noise 0.1, w = 1; {a.epochs} epochs per fit, medians of "
            f"{a.repeats} repetitions, one BLAS thread (OpenBLAS via threadpoolctl)"
        )
        print(f"load average before: {load0}")
        print()
        print(df.to_string(index=False, float_format=sc.fmt))
        print(
            "max_abs_d_eta: largest |η − η_naive| of the fitted teachers on the training "
            "samples (same random draws: float64 differs by rounding only; float32 by "
            "float32 rounding, amplified over the training steps)"
        )
        print()
        print("speed-up of coxmt over naive (per epoch; per fit)")
        for case, g in df.groupby("case", sort=False):
            s = g.set_index("impl")
            for impl in ("coxmt float64", "coxmt float32"):
                print(
                    f"  {case:32s} {impl:14s}: "
                    f"{s.loc['naive float64', 'per_epoch_s'] / s.loc[impl, 'per_epoch_s']:.2f}x; "
                    f"{s.loc['naive float64', 'per_fit_s'] / s.loc[impl, 'per_fit_s']:.2f}x"
                )
        print()
        print("one full-batch float64 step of CoxMT, labelled only (parts timed alone):")
        for name, sec in parts:
            print(f"  {name:58s} {1e3 * sec:8.1f} ms")
        print()
        print(f"load average after: {sc.load_average()}")
        print(f"wall time: {time.perf_counter() - t0:.0f} s")
    return df


if __name__ == "__main__":
    main()
