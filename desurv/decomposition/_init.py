"""Initialisations of plain NMF: random, NNDSVD, NNDSVDa, NNDSVDar, custom.

One entry point, :func:`initialize_nmf`, like scikit-learn's ``_initialize_nmf`` and with the
same conventions so that the same inputs give the same start:

* ``"random"``: |N(0, 1)| · sqrt(mean(X) / k), H drawn before W (scikit-learn's order; with a
  ``numpy.random.RandomState`` seeded like scikit-learn's the draws are identical, but this is
  not a tested guarantee);
* ``"nndsvd"`` (Boutsidis & Gallopoulos 2008): from the rank-k randomized SVD of X
  (``sklearn.utils.extmath.randomized_svd`` with its defaults, the call scikit-learn makes),
  each singular pair is replaced by the dominant of its positive / negative parts; entries
  below ``eps`` become 0. Equal to scikit-learn's result (tested to ~1e-10);
* ``"nndsvda"``: NNDSVD with the zeros set to mean(X) (tested against scikit-learn);
* ``"nndsvdar"``: NNDSVD with the zeros set to mean(X)·|N(0, 1)| / 100 (random, agreement
  with scikit-learn not guaranteed: the draws depend on the order of the zeros).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.extmath import randomized_svd

INITS = ("random", "nndsvd", "nndsvda", "nndsvdar", "custom")


def resolve_init(init, n_components, n_samples, n_features):
    """The initialisation actually used: ``None`` means "nndsvda" when k <= min(n, p), else
    "random" (scikit-learn's rule). Raises ValueError for unknown names and for an SVD-based
    init with k > min(n, p)."""
    if init is not None and init not in INITS:
        raise ValueError(f"init={init!r} is not supported; use one of {(None,) + INITS}")
    if init is None:
        return "nndsvda" if n_components <= min(n_samples, n_features) else "random"
    if init.startswith("nndsvd") and n_components > min(n_samples, n_features):
        raise ValueError(
            f"init={init!r} needs n_components <= min(n_samples, n_features) = "
            f"{min(n_samples, n_features)}, got n_components={n_components}; lower "
            "n_components or use init='random'"
        )
    return init


def initialize_nmf(X, n_components, init=None, *, eps=1e-6, random_state=None):
    """Initial factors for X ≈ W H.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64, nonnegative, finite
        (not checked here).
    n_components : int
        Rank k.
    init : {None, "random", "nndsvd", "nndsvda", "nndsvdar"}
        See the module docstring (``None``: "nndsvda" if k <= min(n, p) else "random").
    eps : float, default=1e-6
        NNDSVD entries below ``eps`` are set to 0.
    random_state : int, RandomState instance or None
        Seeds "random", "nndsvdar" and the randomized SVD.

    Returns
    -------
    W : ndarray of shape (n_samples, n_components), X's dtype
    H : ndarray of shape (n_components, n_features), X's dtype

    Raises
    ------
    ValueError
        Unknown ``init``, "custom" (the caller supplies W and H), or an SVD-based init with
        n_components > min(n_samples, n_features).

    References
    ----------
    C. Boutsidis, E. Gallopoulos (2008). SVD based initialization: A head start for
    nonnegative matrix factorization. Pattern Recognition 41(4), 1350-1362.
    """
    n_samples, n_features = X.shape
    init = resolve_init(init, n_components, n_samples, n_features)
    if init == "custom":
        raise ValueError("init='custom' takes W and H from the caller: pass fit(X, W=..., H=...)")
    if init == "random":
        avg = np.sqrt(X.mean() / n_components)
        rng = check_random_state(random_state)
        H = avg * rng.standard_normal(size=(n_components, n_features)).astype(X.dtype, copy=False)
        W = avg * rng.standard_normal(size=(n_samples, n_components)).astype(X.dtype, copy=False)
        return np.abs(W), np.abs(H)

    U, S, Vt = randomized_svd(X, n_components, random_state=random_state)
    W = np.zeros_like(U)
    H = np.zeros_like(Vt)
    # the leading singular pair of a nonnegative matrix is nonnegative (Perron-Frobenius)
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(S[0]) * np.abs(Vt[0])
    for j in range(1, n_components):
        u, v = U[:, j], Vt[j]
        up, vp = np.maximum(u, 0), np.maximum(v, 0)
        un, vn = np.abs(np.minimum(u, 0)), np.abs(np.minimum(v, 0))
        nup, nvp = np.sqrt(np.dot(up, up)), np.sqrt(np.dot(vp, vp))
        nun, nvn = np.sqrt(np.dot(un, un)), np.sqrt(np.dot(vn, vn))
        mp, mn = nup * nvp, nun * nvn
        if mp > mn:
            a, b, sigma = up / nup, vp / nvp, mp
        else:
            a, b, sigma = un / nun, vn / nvn, mn
        scale = np.sqrt(S[j] * sigma)
        W[:, j] = scale * a
        H[j] = scale * b
    W[W < eps] = 0
    H[H < eps] = 0
    if init == "nndsvda":
        avg = X.mean()
        W[W == 0] = avg
        H[H == 0] = avg
    elif init == "nndsvdar":
        rng = check_random_state(random_state)
        avg = X.mean()
        W[W == 0] = np.abs(avg * rng.standard_normal(size=int(np.sum(W == 0))) / 100)
        H[H == 0] = np.abs(avg * rng.standard_normal(size=int(np.sum(H == 0))) / 100)
    return W, H
