"""Speed ratios of desurv.decomposition.NMF against scikit-learn / scipy, same process.

(a) time per iteration of our MU vs ``sklearn.decomposition.NMF(solver="mu")`` (both losses,
    2000 x 300 k = 5, the 96 x 560 mutational catalogue k = 8 and the SynSig samples x 96
    channels catalogue (1000 x 96) at k = 3 and 11; fixed iterations, tol=0);
(b) time to reach the same objective: our CD vs sklearn ``solver="cd"`` run to convergence;
(c) NNLS exposures of 10,000 samples (k = 10) vs a loop of ``scipy.optimize.nnls``.

Every comparison alternates ours and the reference inside each repetition (the order swapped
from one repetition to the next), so that a change of machine load hits both; the ratio is the
median of the per-repetition ratios (>= 5 repetitions), the times shown are medians. BLAS on
one thread. Run: ``python benchmarks/compare_nmf.py``. ``benchmarks/compare.py`` (target 2)
reuses :func:`mu_per_iteration` and :func:`mu_agreement` on its own data and start.
"""

import os
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from scipy.optimize import nnls as scipy_nnls
from sklearn.decomposition import NMF as SkNMF
from threadpoolctl import threadpool_limits

from desurv.decomposition import NMF, nnls
from desurv.decomposition._init import initialize_nmf
from desurv.decomposition._solvers import nmf_loss

REPS = 5
#: per-iteration MU times are differences of two fits; more repetitions steady their median
REPS_A = 9
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mutational"


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternate(fns, reps=REPS):
    """Times of each of ``fns`` (name -> callable), interleaved within every repetition.

    The order of the calls is reversed on every other repetition. Returns name -> array of
    the ``reps`` times.
    """
    names = list(fns)
    times = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            times[name].append(_timed(fns[name]))
    return {name: np.asarray(t) for name, t in times.items()}


def compare(ours, ref, reps=REPS):
    """Alternating timing of two callables: (median ours, median ref, median of ref / ours)."""
    t = alternate({"ours": ours, "ref": ref}, reps)
    return (
        float(np.median(t["ours"])),
        float(np.median(t["ref"])),
        float(np.median(t["ref"] / t["ours"])),
    )


def _fit_copy(est, X, W0, H0):
    return est.fit(X, W=W0.copy(), H=H0.copy())


def catalogue():
    path = DATA / "brca560_wgs_sbs96.tsv"
    if path.exists():
        import pandas as pd

        df = pd.read_csv(path, sep="\t", index_col=0)
        X = df.select_dtypes("number").to_numpy(dtype=np.float64)
        return X, f"{path.name} {X.shape}"
    rng = np.random.default_rng(0)
    return rng.poisson(50, size=(96, 560)).astype(float), "random Poisson (96, 560)"


def synsig():
    """The SynSig catalogue (samples x 96 channels, as users pass it), else a random stand-in."""
    path = DATA / "synsig" / "syn.2.7a.7b.abst"
    if path.exists():
        from desurv.datasets import load_synsig

        X = load_synsig(str(path)).catalogue.to_numpy()
        return X, f"SynSig {path.name}"
    rng = np.random.default_rng(4)
    X = rng.poisson(rng.gamma(0.5, 1.0, (1000, 5)) @ rng.gamma(0.3, 30.0, (5, 96)))
    return X.astype(float), "random Poisson"


def mu_per_iteration(X, k, loss, W0, H0, n_it=50, reps=REPS_A):
    """Time per MU iteration of ``desurv.NMF`` and scikit-learn's ``NMF(solver="mu")``.

    Both fit X from the same custom start (W0, H0) with ``tol=0``; per iteration = (time of
    ``n_it + 10`` iterations − time of 10) / ``n_it``, so the fixed costs of a fit
    (validation, copies, final error) cancel; the four fits alternate in every repetition.
    Returns (median ours s/it, median sklearn s/it, median of the per-repetition ratios
    sklearn / ours).
    """
    kw = dict(n_components=k, solver="mu", beta_loss=loss, init="custom", max_iter=n_it, tol=0)
    fns = {}
    for cls, key in [(NMF, "ours"), (SkNMF, "sk")]:
        long, short = cls(**{**kw, "max_iter": n_it + 10}), cls(**{**kw, "max_iter": 10})
        _fit_copy(long, X, W0, H0)  # warm the compiled kernels
        fns[key + "_long"] = partial(_fit_copy, long, X, W0, H0)
        fns[key + "_short"] = partial(_fit_copy, short, X, W0, H0)
    t = alternate(fns, reps)
    per_it = {key: (t[key + "_long"] - t[key + "_short"]) / n_it for key in ("ours", "sk")}
    return (
        float(np.median(per_it["ours"])),
        float(np.median(per_it["sk"])),
        float(np.median(per_it["sk"] / per_it["ours"])),
    )


def mu_agreement(X, k, loss, W0, H0, n_it):
    """How close ``desurv.NMF`` and scikit-learn's MU are after ``n_it`` iterations from the
    same start: (relative difference of the final objectives (ours − sklearn) / sklearn,
    ‖WH − WH_sk‖ / ‖WH_sk‖)."""
    kw = dict(n_components=k, solver="mu", beta_loss=loss, init="custom", max_iter=n_it, tol=0)
    ours, sk = NMF(**kw), SkNMF(**kw)
    W_o = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
    W_s = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
    wh_o, wh_s = W_o @ ours.components_, W_s @ sk.components_
    f_o = nmf_loss(X, W_o, ours.components_, beta_loss=loss)
    f_s = nmf_loss(X, W_s, sk.components_, beta_loss=loss)
    return (f_o - f_s) / f_s, float(np.linalg.norm(wh_o - wh_s) / np.linalg.norm(wh_s))


def part_a():
    rng = np.random.default_rng(0)
    big = rng.gamma(1.0, 1.0, size=(2000, 5)) @ rng.gamma(1.0, 1.0, size=(5, 300))
    big += rng.uniform(size=big.shape)
    cat, label = catalogue()
    syn, syn_label = synsig()
    print(f"(a) MU time per iteration (catalogue: {label}; {syn_label} {syn.shape})")
    n_it = 50
    cases = [(big, 5, "2000x300 k=5"), (cat, 8, f"{cat.shape[0]}x{cat.shape[1]} k=8")]
    cases += [(syn, k, f"{syn.shape[0]}x{syn.shape[1]} k={k}") for k in (3, 11)]
    for X, k, name in cases:
        r = np.random.default_rng(1)
        W0 = r.uniform(0.1, 1, size=(X.shape[0], k))
        H0 = r.uniform(0.1, 1, size=(k, X.shape[1]))
        for loss in ["frobenius", "kullback-leibler"]:
            t_ours, t_sk, ratio = mu_per_iteration(X, k, loss, W0, H0, n_it)
            print(
                f"    {name:>14} {loss:>17}: ours {t_ours * 1e3:7.3f} ms/it, sklearn "
                f"{t_sk * 1e3:7.3f} ms/it, ratio {ratio:5.2f}x"
            )


def part_b():
    print("(b) CD time to sklearn's converged objective, same nndsvda start (init='custom')")
    rng = np.random.default_rng(2)
    for n, p, k in [(2000, 300, 5), (500, 200, 10)]:
        X = rng.gamma(1.0, 1.0, size=(n, k)) @ rng.gamma(1.0, 1.0, size=(k, p))
        X += 0.5 * rng.uniform(size=X.shape)
        W0, H0 = initialize_nmf(X, k, "nndsvda", random_state=0)
        sk = SkNMF(k, solver="cd", init="custom", max_iter=5000)
        W = sk.fit_transform(X, W=W0.copy(), H=H0.copy())
        target = nmf_loss(X, W, sk.components_)
        # smallest max_iter of ours that reaches the target (tol=0), then time that fit
        m = NMF(k, solver="cd", init="custom", max_iter=5000, tol=0)
        m.fit(X, W=W0, H=H0)
        reached = np.nonzero(m.loss_history_ <= target)[0]
        if reached.size == 0:
            print(f"    {n}x{p} k={k}: ours never reached {target:.6g} in 5000 iterations")
            continue
        iters = max(int(reached[0]), 1)
        m.set_params(max_iter=iters)
        t_ours, t_sk, ratio = compare(
            partial(_fit_copy, m, X, W0, H0), partial(_fit_copy, sk, X, W0, H0)
        )
        print(
            f"    {n}x{p} k={k}: sklearn {sk.n_iter_} it {t_sk * 1e3:8.1f} ms, ours {iters} it "
            f"{t_ours * 1e3:8.1f} ms to objective <= {target:.6g}, ratio {ratio:5.2f}x"
        )


def part_c():
    print("(c) NNLS exposures of 10,000 samples, k = 10, p = 96")
    rng = np.random.default_rng(3)
    A = rng.gamma(0.5, 1.0, size=(96, 10))
    B = rng.poisson(A @ rng.gamma(0.5, 1.0, size=(10, 10000)) * 10) / 10.0
    nnls(A, B[:, :5])
    t_ours, t_sp, ratio = compare(
        lambda: nnls(A, B), lambda: [scipy_nnls(A, B[:, j]) for j in range(B.shape[1])]
    )
    print(f"    ours {t_ours * 1e3:8.1f} ms, scipy loop {t_sp * 1e3:8.1f} ms, ratio {ratio:5.2f}x")


def main():
    warnings.simplefilter("ignore")
    print(f"load average: {os.getloadavg()}")
    with threadpool_limits(limits=1):
        part_a()
        part_b()
        part_c()
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
