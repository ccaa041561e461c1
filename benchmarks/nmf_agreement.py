"""Agreement of desurv's plain NMF with scikit-learn and of its NNLS with SciPy, as numbers.

The tests assert these bounds; this script prints the values measured, for notes and for
checking a new machine or library version:

1. multiplicative updates from the same custom start, 50 iterations, ``tol=0``: max relative
   difference of W and H vs ``sklearn.decomposition.NMF(solver="mu")``, Frobenius and KL,
   without and with L1/L2 penalties;
2. NNDSVD / NNDSVDa starts vs ``sklearn.decomposition._nmf._initialize_nmf``;
3. coordinate descent from NNDSVDa at the default ``tol``: final objective vs scikit-learn's
   ``solver="cd"`` (ratio < 1: ours is lower);
4. ``desurv.decomposition.nnls`` vs ``scipy.optimize.nnls`` column by column.

    python benchmarks/nmf_agreement.py
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import nnls as scipy_nnls
from sklearn.decomposition import NMF as SkNMF
from sklearn.decomposition._nmf import _initialize_nmf

from desurv import NMF
from desurv.decomposition import nnls


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _data(n=300, p=120, k=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.gamma(1.0, size=(n, k)) @ rng.gamma(1.0, size=(k, p)) + rng.uniform(0, 0.5, (n, p))
    W0 = rng.uniform(0.1, 1.0, (n, k))
    H0 = rng.uniform(0.1, 1.0, (k, p))
    return X, W0, H0


def main():
    warnings.simplefilter("ignore")
    X, W0, H0 = _data()
    print("1. multiplicative updates, 50 iterations from the same start (max relative diff)")
    for loss in ("frobenius", "kullback-leibler"):
        for pen in (dict(), dict(alpha_W=0.01, l1_ratio=0.5)):
            kw = dict(
                n_components=5,
                solver="mu",
                beta_loss=loss,
                init="custom",
                max_iter=50,
                tol=0.0,
                **pen,
            )
            ours, ref = NMF(**kw), SkNMF(**kw)
            Wa = ours.fit_transform(X, W=W0.copy(), H=H0.copy())
            Wb = ref.fit_transform(X, W=W0.copy(), H=H0.copy())
            print(
                f"   {loss:<17} penalties={bool(pen)!s:<5} W {_rel(Wa, Wb):.1e}  "
                f"H {_rel(ours.components_, ref.components_):.1e}"
            )
    print("2. NNDSVD starts vs scikit-learn (max relative diff)")
    for init in ("nndsvd", "nndsvda"):
        from desurv.decomposition._init import initialize_nmf

        Wa, Ha = initialize_nmf(X, 5, init, random_state=0)
        Wb, Hb = _initialize_nmf(X, 5, init=init, random_state=0)
        print(f"   {init:<8} W {_rel(Wa, Wb):.1e}  H {_rel(Ha, Hb):.1e}")
    print("3. coordinate descent from NNDSVDa, default tol (objective ours / scikit-learn)")
    for seed, (n, p, k) in enumerate(((2000, 300, 5), (500, 200, 10), (300, 120, 5))):
        Xc = _data(n, p, k, seed)[0]
        ours = NMF(n_components=k, solver="cd", init="nndsvda", max_iter=1000).fit(Xc)
        ref = SkNMF(n_components=k, solver="cd", init="nndsvda", max_iter=1000).fit(Xc)
        print(
            f"   {n}x{p} k={k}: {ours.reconstruction_err_ / ref.reconstruction_err_:.6f} "
            f"(iterations {ours.n_iter_} vs {ref.n_iter_})"
        )
    print("4. batched NNLS vs scipy.optimize.nnls (max abs diff of x)")
    rng = np.random.default_rng(1)
    A = rng.uniform(size=(96, 10))
    B = rng.uniform(size=(96, 500))
    x = nnls(A, B)
    ref = np.column_stack([scipy_nnls(A, B[:, j])[0] for j in range(B.shape[1])])
    print(f"   96 x 10, 500 columns: {np.max(np.abs(x - ref)):.1e}")


if __name__ == "__main__":
    main()
