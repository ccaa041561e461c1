"""Plain NMF, a drop-in replacement of ``sklearn.decomposition.NMF`` with extras.

Extras over scikit-learn: ``n_init`` restarts, a ``mask`` of missing / weighted entries,
``dtype`` control (float32 computed in float32), ``loss_history_``, an accelerated HALS
solver and exact NNLS exposures in :meth:`NMF.transform`.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from desurv._kernels import _nnls
from desurv.exceptions import ConvergenceWarning

from ._init import initialize_nmf, resolve_init
from ._signatures import SignatureModelMixin, align_feature_columns
from ._solvers import (
    fit_coordinate_descent,
    fit_multiplicative_update,
    kl_exposures,
    nmf_loss,
)

_LOSSES = {
    "frobenius": "frobenius",
    2: "frobenius",
    "kullback-leibler": "kullback-leibler",
    1: "kullback-leibler",
}
_DTYPES = {None: None, "float32": np.float32, "float64": np.float64}


def _loss_name(beta_loss):
    try:
        return _LOSSES[beta_loss]
    except (KeyError, TypeError):
        raise ValueError(
            f"beta_loss={beta_loss!r} is not supported; use 'frobenius' (or 2) or "
            "'kullback-leibler' (or 1)"
        ) from None


class NMF(SignatureModelMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Non-negative matrix factorisation X ≈ W H, scikit-learn's API, compiled solvers.

    Minimises, over W (n_samples, k) >= 0 and H (k, n_features) >= 0,

        D(X, WH) + α_W·l1_ratio·p·‖W‖₁ + ½·α_W·(1 - l1_ratio)·p·‖W‖²_F
                 + α_H·l1_ratio·n·‖H‖₁ + ½·α_H·(1 - l1_ratio)·n·‖H‖²_F,

    with D = ½‖X - WH‖²_F ("frobenius") or the generalised Kullback-Leibler divergence, the
    penalties scaled by n = n_samples and p = n_features exactly as scikit-learn does.

    Parameters
    ----------
    n_components : int, "auto" or None, default="auto"
        Rank k. "auto": taken from H with ``init="custom"``, else n_features (None: n_features).
    init : {None, "random", "nndsvd", "nndsvda", "nndsvdar", "custom"}, default=None
        Start (see :func:`desurv.decomposition._init.initialize_nmf`); None means "nndsvda"
        when k <= min(n, p), else "random". "custom" uses ``fit(X, W=..., H=...)``; with
        ``init=None`` and both W and H given they are used as the start too.
    solver : {"cd", "mu"}, default="cd"
        "cd": accelerated HALS coordinate descent (Cichocki & Phan 2009; Hsieh & Dhillon 2011;
        Gillis & Glineur 2012), Frobenius only, no mask. "mu": multiplicative updates
        (Lee & Seung 2001), both losses and masks; step-for-step equal to scikit-learn's.
    beta_loss : {"frobenius", "kullback-leibler"} or {2, 1}, default="frobenius"
    tol : float >= 0, default=1e-4
        "mu": relative decrease of sqrt(2·D) checked every 10 iterations (scikit-learn's
        rule); "cd": projected-gradient violation relative to the first iteration, compared with
        ``tol / 10`` (accelerated HALS lowers the violation faster than scikit-learn's HALS;
        the factor makes the same ``tol`` stop at an objective no worse than scikit-learn's).
    max_iter : int >= 1, default=200
    random_state : int, RandomState instance or None
        Seeds the random inits, the randomized SVD and the seeds of the restarts.
    alpha_W : float >= 0, default=0.0
    alpha_H : float >= 0 or "same", default="same"
    l1_ratio : float in [0, 1], default=0.0
        scikit-learn's regularisation parameters and semantics.
    verbose : int, default=0
        > 0 prints the final objective of each restart.
    n_init : int >= 1, default=1
        Number of fits; the one with the lowest final objective is kept. Restart 0 uses
        ``init`` and ``random_state`` as given; restart r > 0 uses a seed drawn from
        ``random_state`` and, when ``init`` is deterministic ("nndsvd", "nndsvda", "custom"),
        ``init="random"``.
    dtype : {None, "float32", "float64"}, default=None
        Compute dtype. None: float32 input stays float32, anything else becomes float64.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        H, in the compute dtype.
    n_components_ : int
    reconstruction_err_ : float
        sqrt(2·D) of the kept fit (the Frobenius norm ‖X - WH‖ for "frobenius"), as
        scikit-learn; weighted by the mask if one was given.
    n_iter_ : int
        Iterations of the kept fit.
    loss_history_ : ndarray of float64, shape (n_records,)
        Objective (D + penalties) of the kept fit after the iterations
        ``loss_history_iter_`` (entry 0: the start). Frobenius ("cd" and "mu"): every
        iteration, n_records = n_iter_ + 1 (the objective is a by-product of the updates).
        Kullback-Leibler: the start, every 10th iteration and the last one, i.e.
        n_records = n_iter_ // 10 + 1, plus 1 when n_iter_ is not a multiple of 10: the
        iterations where scikit-learn's stopping rule evaluates it too (its logarithms cost
        about a third of a KL iteration).
    loss_history_iter_ : ndarray of int, shape (n_records,)
        The iteration number of each entry of ``loss_history_`` (increasing, from 0 to
        n_iter_).
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Notes
    -----
    Differences from ``sklearn.decomposition.NMF``: no sparse input, no ``shuffle`` and no
    Itakura-Saito or other beta losses. :meth:`transform` solves the exposure problem
    *exactly* for the Frobenius loss (batched active-set NNLS with the penalties of W, see
    :func:`desurv.decomposition.nnls`), where scikit-learn runs its iterative solver with H
    fixed from a constant start; results agree up to that solver's tolerance. For KL,
    ``transform`` runs multiplicative updates with H fixed (as scikit-learn's "mu").
    NaN in X are rejected: pass ``mask=`` (0 at the missing entries) to ``fit``.

    References
    ----------
    D. D. Lee, H. S. Seung (2001). Algorithms for non-negative matrix factorization. NIPS 13.
    A. Cichocki, A.-H. Phan (2009). Fast local algorithms for large scale nonnegative matrix
    and tensor factorizations. IEICE Trans. Fundamentals E92-A(3), 708-721.
    C.-J. Hsieh, I. S. Dhillon (2011). Fast coordinate descent methods with variable selection
    for non-negative matrix factorization. KDD.
    N. Gillis, F. Glineur (2012). Accelerated multiplicative updates and hierarchical ALS
    algorithms for nonnegative matrix factorization. Neural Computation 24(4), 1085-1105.
    C. Boutsidis, E. Gallopoulos (2008). SVD based initialization: a head start for NMF.
    Pattern Recognition 41(4), 1350-1362.
    """

    def __init__(
        self,
        n_components="auto",
        *,
        init=None,
        solver="cd",
        beta_loss="frobenius",
        tol=1e-4,
        max_iter=200,
        random_state=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        verbose=0,
        n_init=1,
        dtype=None,
    ):
        self.n_components = n_components
        self.init = init
        self.solver = solver
        self.beta_loss = beta_loss
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.verbose = verbose
        self.n_init = n_init
        self.dtype = dtype

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        if self.solver not in ("mu", "cd"):
            raise ValueError(f"solver={self.solver!r} is not supported; use 'cd' or 'mu'")
        loss = _loss_name(self.beta_loss)
        if self.solver == "cd" and loss != "frobenius":
            raise ValueError(
                f"solver='cd' handles only beta_loss='frobenius'; use solver='mu' for "
                f"beta_loss={self.beta_loss!r}"
            )
        nc = self.n_components
        if not (nc is None or nc == "auto" or (isinstance(nc, numbers.Integral) and nc >= 1)):
            raise ValueError(f"n_components must be a positive int, 'auto' or None, got {nc!r}")
        if self.init is not None and self.init not in (
            "random",
            "nndsvd",
            "nndsvda",
            "nndsvdar",
            "custom",
        ):
            raise ValueError(
                f"init={self.init!r} is not supported; use None, 'random', 'nndsvd', "
                "'nndsvda', 'nndsvdar' or 'custom'"
            )
        for name in ("max_iter", "n_init"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        for name in ("tol", "alpha_W"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        aH = self.alpha_H
        if not (aH == "same" if isinstance(aH, str) else isinstance(aH, numbers.Real) and aH >= 0):
            raise ValueError(f"alpha_H must be a number >= 0 or 'same', got {aH!r}")
        r = self.l1_ratio
        if not isinstance(r, numbers.Real) or not 0 <= r <= 1:
            raise ValueError(f"l1_ratio must be a number in [0, 1], got {r!r}")
        dt = self.dtype
        if isinstance(dt, type) and dt in (np.float32, np.float64):
            dt = dt.__name__
        if dt not in _DTYPES:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {self.dtype!r}")
        return loss, _DTYPES[dt]

    def _validate_X(self, X, *, reset, dtype, mask=None):
        if not reset:
            X = align_feature_columns(self, X)
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
            ensure_min_samples=1,
        )
        if dtype is None:
            dtype = np.float32 if X.dtype == np.float32 else np.float64
        # the solvers never write into X: copy only when the mask zeroes entries
        if mask is None:
            X = np.ascontiguousarray(X, dtype=dtype)
        else:
            X = np.array(X, dtype=dtype, order="C", copy=True)
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != X.shape:
                raise ValueError(
                    f"mask has shape {mask.shape} but X has shape {X.shape}; pass a 0/1 (or "
                    "nonnegative weight) array of X's shape"
                )
            if mask.dtype.kind not in "biuf":
                raise ValueError(f"mask must be numeric 0/1 or weights, got dtype {mask.dtype}")
            mask = np.array(mask, dtype=dtype, order="C")
            if not np.all(np.isfinite(mask)) or np.any(mask < 0):
                raise ValueError("mask must hold finite, nonnegative weights (0 = missing)")
            X[mask == 0] = 0.0
        if X.size and not np.isfinite(X.sum(dtype=np.float64)):  # one pass; diagnose below
            nan = np.isnan(X)
            if nan.any():
                if mask is not None:  # NaN where the mask keeps the entry
                    raise ValueError(
                        f"X contains NaN at {int(nan.sum())} entries where mask != 0: set the "
                        "mask to 0 there (missing) or impute them"
                    )
                if not reset:  # transform: the fit's mask does not apply to new samples
                    raise ValueError(
                        "X contains NaN values: transform needs complete samples (a mask "
                        "applies to the fit only); impute them"
                    )
                raise ValueError(
                    "X contains NaN values: pass mask= to fit (0 at the missing entries, "
                    "solver='mu') to treat them as missing, or impute them"
                )
            if np.isinf(X).any():
                raise ValueError("X contains inf values; NMF needs finite, nonnegative X")
            raise ValueError("X is too large: its sum overflows float64; rescale X")
        if X.size and X.min() < 0:
            raise ValueError(
                "Negative values in data passed to NMF (X): NMF needs X >= 0; clip or shift it"
            )
        return X, mask

    def _check_start(self, name, A, shape, dtype):
        A = np.asarray(A)
        if A.shape != shape:
            raise ValueError(
                f"{name} has shape {A.shape}, expected {shape} (W: n_samples x n_components, "
                "H: n_components x n_features)"
            )
        A = np.array(A, dtype=dtype, order="C")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} contains NaN or inf values")
        if np.any(A < 0):
            raise ValueError(f"{name} contains negative values; a custom start must be >= 0")
        if np.max(A, initial=0) == 0:
            raise ValueError(f"{name} is all zero; NMF cannot move from an all-zero start")
        return A

    def _regularization(self, n, p):
        aW = float(self.alpha_W)
        aH = aW if isinstance(self.alpha_H, str) else float(self.alpha_H)
        r = float(self.l1_ratio)
        return (p * aW * r, n * aH * r, p * aW * (1 - r), n * aH * (1 - r))

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None, W=None, H=None, mask=None):
        """Learn W and H from X.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), nonnegative
        y : ignored
        W : array-like (n_samples, n_components) or None
            Custom start (with ``init="custom"``, or ``init=None`` and H given).
        H : array-like (n_components, n_features) or None
        mask : array-like of X's shape or None
            Weights of the entries (0 = missing, NaN in X allowed there). ``solver="mu"`` only.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Invalid parameters, negative / NaN / inf X, wrong shapes of W, H or mask,
            solver="cd" with a mask or with beta_loss="kullback-leibler".
        """
        self.fit_transform(X, W=W, H=H, mask=mask)
        return self

    def fit_transform(self, X, y=None, W=None, H=None, mask=None):
        """Learn the factorisation and return W (n_samples, n_components).

        Parameters and errors as :meth:`fit`.
        """
        loss, dtype = self._check_params()
        if mask is not None and self.solver == "cd":
            raise ValueError("mask= needs solver='mu' (the 'cd' solver has no weighted version)")
        X, mask = self._validate_X(X, reset=True, dtype=dtype, mask=mask)
        n, p = X.shape
        custom = self.init == "custom" or (self.init is None and W is not None and H is not None)
        nc = self.n_components
        if nc is None or nc == "auto":
            nc = np.asarray(H).shape[0] if custom and H is not None and nc == "auto" else p
        if custom:
            if W is None or H is None:
                raise ValueError("init='custom' needs both W and H: fit(X, W=..., H=...)")
            W = self._check_start("W", W, (n, nc), X.dtype)
            H = self._check_start("H", H, (nc, p), X.dtype)
        elif W is not None or H is not None:
            warnings.warn(
                "W and H are only used with init='custom' (or init=None with both given); "
                "they are ignored",
                RuntimeWarning,
                stacklevel=2,
            )
        init = "custom" if custom else resolve_init(self.init, nc, n, p)
        if self.solver == "mu" and init == "nndsvd":
            warnings.warn(
                "solver='mu' cannot move the zeros of init='nndsvd'; prefer 'nndsvda' or "
                "'nndsvdar'",
                UserWarning,
                stacklevel=2,
            )
        reg = self._regularization(n, p)
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_init) if self.n_init > 1 else []
        best = None
        for r in range(self.n_init):
            if r == 0:
                if custom:
                    W0, H0 = W, H
                else:
                    W0, H0 = initialize_nmf(X, nc, init, random_state=self.random_state)
            else:
                rinit = "random" if init in ("nndsvd", "nndsvda", "custom") else init
                W0, H0 = initialize_nmf(X, nc, rinit, random_state=int(seeds[r]))
            if self.solver == "mu":
                res = fit_multiplicative_update(
                    X,
                    W0,
                    H0,
                    beta_loss=loss,
                    max_iter=self.max_iter,
                    tol=self.tol,
                    reg=reg,
                    mask=mask,
                )
            else:
                res = fit_coordinate_descent(
                    X, W0, H0, max_iter=self.max_iter, tol=self.tol, reg=reg
                )
            if self.verbose:
                print(f"NMF restart {r}: objective {res[3][-1]:.6g} after {res[2]} iterations")
            if best is None or res[3][-1] < best[3][-1]:
                best = res
        Wf, Hf, n_iter, history, hist_iter = best
        if n_iter == self.max_iter and self.tol > 0:
            warnings.warn(
                f"NMF stopped at max_iter={self.max_iter} before reaching tol={self.tol}; "
                "increase max_iter (or tol) to converge",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.components_ = Hf
        self.n_components_ = Hf.shape[0]
        self.n_iter_ = int(n_iter)
        self.loss_history_ = history
        self.loss_history_iter_ = hist_iter
        self.reconstruction_err_ = float(np.sqrt(2.0 * max(nmf_loss(X, Wf, Hf, loss, mask), 0.0)))
        return Wf

    # ------------------------------------------------------------------ transform
    def transform(self, X):
        """Exposures W of the samples of X with the components fixed.

        Frobenius: the exact minimiser of ½‖x - wH‖² + l1·Σw + ½·l2·‖w‖² over w >= 0 for every
        row (batched active-set NNLS on the shared Gram matrix H Hᵀ + l2·I; penalties scaled
        by X's n_features as scikit-learn). KL: multiplicative updates with H fixed
        (``max_iter``, ``tol``).

        Parameters
        ----------
        X : array-like (n_samples, n_features), nonnegative, finite

        Returns
        -------
        W : ndarray (n_samples, n_components), the fitted compute dtype
        """
        check_is_fitted(self)
        dt = self.components_.dtype
        X, _ = self._validate_X(X, reset=False, dtype=dt)
        loss = _loss_name(self.beta_loss)
        n, p = X.shape
        l1, _, l2, _ = self._regularization(n, p)
        H = self.components_
        if loss == "frobenius":
            H64 = H.astype(np.float64)
            G = H64 @ H64.T
            G[np.diag_indices_from(G)] += l2
            C = H64 @ X.T.astype(np.float64)
            if l1:
                C -= l1
            k = H.shape[0]
            Wt, _ = _nnls.nnls_gram(G, np.ascontiguousarray(C), 3 * k + 10)
            return np.ascontiguousarray(Wt.T, dtype=dt)
        W, _ = kl_exposures(X, H, max_iter=self.max_iter, tol=self.tol, l1=l1, l2=l2)
        return W
