"""scikit-learn style estimator over the functional core (:mod:`desurv.solver`).

Orientation: the estimator takes X as samples × genes (scikit-learn / AnnData convention)
and converts once to the paper's genes × samples for the solver.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd

from ._validation import check_nonnegative_matrix, columns_for_model, survival_from_y
from .solver import HISTORY_FIELDS, fit_desurv

__all__ = ["DeSurv", "top_genes"]


def _as_matrix(X, name="X"):
    """Return (float64 array of shape (n_samples, n_features), feature names or None)."""
    names = None
    if isinstance(X, pd.DataFrame):
        names = np.asarray(X.columns.astype(str), dtype=object)
        X = X.to_numpy(dtype=np.float64)
    elif hasattr(X, "X") and hasattr(X, "var_names"):  # AnnData without importing it
        names = np.asarray(list(X.var_names), dtype=object)
        X = X.X.toarray() if hasattr(X.X, "toarray") else np.asarray(X.X)
    return check_nonnegative_matrix(X, name), names


def top_genes(W, n_top=20, gene_names=None):
    """Top genes of each factor by the specificity score s_gf of the DeSurv paper.

    W̃ = W scaled column-wise by its maximum; s_gf = W̃_gf − max_{r≠f} W̃_gr; genes are
    ranked by decreasing s_gf within each factor.

    Parameters
    ----------
    W : ndarray of shape (n_genes, n_components)
    n_top : int
        Genes per factor (capped at n_genes).
    gene_names : sequence of str, optional

    Returns
    -------
    pandas.DataFrame of shape (n_top, n_components)
        Column ``factor_f`` lists factor f's top genes, best first.
    """
    W = np.asarray(W, dtype=np.float64)
    p, k = W.shape
    col_max = W.max(axis=0)
    col_max[col_max <= 0] = 1.0
    Wt = W / col_max
    if k == 1:
        score = Wt
    else:
        score = np.empty_like(Wt)
        for f in range(k):
            score[:, f] = Wt[:, f] - np.delete(Wt, f, axis=1).max(axis=1)
    n_top = min(int(n_top), p)
    names = np.asarray(gene_names if gene_names is not None else np.arange(p).astype(str))
    out = {}
    for f in range(k):
        idx = np.argsort(-score[:, f], kind="stable")[:n_top]
        out[f"factor_{f + 1}"] = names[idx]
    return pd.DataFrame(out)


class DeSurv:
    """Survival-driven deconvolution: NMF fitted jointly with an elastic-net Cox model.

    Learns gene programs W (genes × k) and exposures H (k × samples) with X ≈ WH, and Cox
    coefficients β on the projections Z = X·W, so that the programs both describe the data
    and predict survival (Young et al., "Survival driven deconvolution (deSurv) reveals
    prognostic and interpretable tumor gene signatures"). See :func:`desurv.solver.fit_desurv`
    for the objective and the algorithm.

    Parameters
    ----------
    n_components : int, default 3
        k, number of gene programs.
    alpha : float in [0, 1), default 0.5
        α, weight of the Cox partial likelihood against the NMF reconstruction.
    penalty : float >= 0, default 0.1
        λ, elastic-net strength on the standardised Cox coefficients.
    l1_ratio : float in [0, 1], default 0.5
        ξ, elastic-net mixing (1 = lasso, 0 = ridge).
    penalty_w, penalty_h : float >= 0, default 0
        λ_W, λ_H, ridge penalties on W and H.
    n_init : int, default 20
        Number of short random starts; the best (see ``init_select``) is run to convergence.
    init : {"random", "custom"}, default "random"
        "custom" takes ``W_init`` (genes × k), optional ``H_init`` (k × samples) and
        ``beta_init`` (k,) in :meth:`fit`, in the paper's orientation.
    max_iter : int, default 1000
        Iteration cap of the final run (ConvergenceWarning when reached).
    tol : float, default 1e-6
        Relative change of the objective at which the run stops.
    random_state : int, numpy Generator or None
        Seed of the random starts.
    ties : {"breslow", "efron"}, default "breslow"
        Handling of tied event times.
    loss_convention : {"consistent", "reference"}, default "consistent"
        "reference" reproduces the authors' R implementation exactly (see fit_desurv).
    init_max_iter, init_tol : int, float, default 30, 1e-4
        Length and tolerance of each short start.
    init_select : {"objective", "cindex"}, default "objective"
        Selection of the kept start: lowest objective, or highest training C-index.
    n_threads : int or None, default 1
        BLAS threads used inside the fit (None: leave the process setting alone; > 1 switches
        the products with X from desurv's single-thread kernels to multi-threaded BLAS).
    dtype : {"float64", "float32"}, default "float64"
        Storage precision of X inside the fit; "float32" halves its memory and product
        traffic while sums and all fitted quantities stay float64 (see ``fit_desurv``).

    Attributes
    ----------
    W_ : ndarray of shape (n_genes, n_components)
        Gene programs, unit ℓ2 columns.
    H_ : ndarray of shape (n_components, n_samples)
        Exposures of the training samples, in input order.
    components_ : ndarray of shape (n_components, n_genes)
        ``W_.T`` (scikit-learn convention).
    coef_ : ndarray of shape (n_components,)
        Cox coefficients β on the scale of Z = XW.
    mean_z_, sd_z_ : ndarray of shape (n_components,)
        Mean and standard deviation of the training projections.
    n_iter_ : int
    converged_ : bool
    loss_history_ : pandas.DataFrame
        Objective and each component per iteration (index = iteration, from 1).
    objective_ : dict
        Final objective and components.
    init_scores_ : ndarray
        Score of every random start (objective, or C-index with init_select="cindex").
    n_features_in_ : int
    feature_names_in_ : ndarray of str, only when X had gene names.
    """

    def __init__(
        self,
        n_components=3,
        alpha=0.5,
        penalty=0.1,
        l1_ratio=0.5,
        penalty_w=0.0,
        penalty_h=0.0,
        n_init=20,
        init="random",
        max_iter=1000,
        tol=1e-6,
        random_state=None,
        ties="breslow",
        loss_convention="consistent",
        init_max_iter=30,
        init_tol=1e-4,
        init_select="objective",
        n_threads=1,
        dtype="float64",
    ):
        self.n_components = n_components
        self.alpha = alpha
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.penalty_w = penalty_w
        self.penalty_h = penalty_h
        self.n_init = n_init
        self.init = init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.ties = ties
        self.loss_convention = loss_convention
        self.init_max_iter = init_max_iter
        self.init_tol = init_tol
        self.init_select = init_select
        self.n_threads = n_threads
        self.dtype = dtype

    # --- scikit-learn parameter protocol (without depending on scikit-learn) ---
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"invalid parameter {key!r} for DeSurv; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        changed = [
            f"{k}={v!r}"
            for k, v in self.get_params().items()
            if defaults.get(k) is not v and defaults.get(k) != v
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # --- fitting ---
    def fit(
        self,
        X,
        y=None,
        *,
        time=None,
        event=None,
        W_init=None,
        H_init=None,
        beta_init=None,
        callback=None,
    ):
        """Fit the model.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
            Nonnegative expression (e.g. within-sample ranks). Gene names are kept from a
            DataFrame's columns.
        y : structured array of shape (n_samples,), fields ``event`` (bool), ``time`` (float)
            As in scikit-survival (see :func:`desurv.make_survival_y`). Alternatively pass
            ``time=`` and ``event=``.
        W_init, H_init, beta_init : ndarray, optional
            Custom start (only with ``init="custom"``), paper orientation: W_init
            (n_genes, k), H_init (k, n_samples), beta_init (k,).
        callback : callable(iteration, objective), optional
            Called after each iteration of the final run (e.g. for progress bars).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad X (negative, NaN), survival data (mismatched length, no events), k too
            large, or a custom start with ``init="random"`` (and vice versa).
        """
        Xa, names = _as_matrix(X)
        time_, event_ = survival_from_y(y, time, event, n_samples=Xa.shape[0])
        if self.init not in ("random", "custom"):
            raise ValueError(f"init must be 'random' or 'custom', got {self.init!r}")
        custom = W_init is not None or H_init is not None or beta_init is not None
        if self.init == "custom" and W_init is None:
            raise ValueError('init="custom" needs W_init (genes x k) in fit()')
        if self.init == "random" and custom:
            raise ValueError('W_init/H_init/beta_init given: set init="custom" to use them')
        res = fit_desurv(
            Xa.T,
            time_,
            event_,
            self.n_components,
            alpha=self.alpha,
            penalty=self.penalty,
            l1_ratio=self.l1_ratio,
            penalty_w=self.penalty_w,
            penalty_h=self.penalty_h,
            W_init=W_init,
            H_init=H_init,
            beta_init=beta_init,
            n_init=self.n_init,
            init_max_iter=self.init_max_iter,
            init_tol=self.init_tol,
            init_select=self.init_select,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.random_state,
            ties=self.ties,
            loss_convention=self.loss_convention,
            n_threads=self.n_threads,
            dtype=self.dtype,
            callback=callback,
        )
        self._set_fitted(res, Xa.shape[1], names)
        return self

    def _set_fitted(self, res, n_features, names):
        self.W_ = res.W
        self.H_ = res.H
        self.coef_ = res.beta
        self.mean_z_ = res.mean_z
        self.sd_z_ = res.sd_z
        self.n_iter_ = int(res.n_iter)
        self.converged_ = bool(res.converged)
        hist = pd.DataFrame({name: res.history[name] for name in HISTORY_FIELDS})
        hist.index = pd.RangeIndex(1, len(hist) + 1, name="iteration")
        self.loss_history_ = hist
        self.objective_ = dict(res.objective)
        self.init_scores_ = res.init_scores
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @property
    def components_(self):
        self._check_fitted()
        return self.W_.T

    def _check_fitted(self):
        if not hasattr(self, "W_"):
            raise ValueError("this DeSurv model is not fitted yet: call fit() first")

    def _prepare(self, X):
        """Validate new data and order its genes like the training data."""
        self._check_fitted()
        return columns_for_model(self, X, _as_matrix, "genes")

    def transform(self, X):
        """Projections Z = X·W (n_samples × n_components), the Cox covariates."""
        return self._prepare(X) @ self.W_

    def predict(self, X):
        """Linear predictor η = X·W·β (log relative hazard), shape (n_samples,)."""
        return self.transform(X) @ self.coef_

    def predict_risk(self, X):
        """Relative risk exp(η), shape (n_samples,)."""
        return np.exp(self.predict(X))

    def score(self, X, y=None, *, time=None, event=None):
        """Harrell's concordance index of η on (X, y); higher η = higher risk."""
        from .metrics import concordance_index

        eta = self.predict(X)
        time_, event_ = survival_from_y(y, time, event, n_samples=eta.shape[0])
        return concordance_index(time_, event_, eta)

    # --- readable results ---
    def summary(self):
        """Cox coefficients as a table: coef, exp(coef) per unit of Z, and per SD of Z."""
        self._check_fitted()
        idx = [f"factor_{f + 1}" for f in range(self.coef_.shape[0])]
        return pd.DataFrame(
            {
                "coef": self.coef_,
                "exp(coef)": np.exp(self.coef_),
                "sd_z": self.sd_z_,
                "coef_per_sd": self.coef_ * self.sd_z_,
                "hazard_ratio_per_sd": np.exp(self.coef_ * self.sd_z_),
            },
            index=pd.Index(idx, name="factor"),
        )

    def top_genes(self, n_top=20):
        """Top genes per factor by the paper's specificity score (see :func:`top_genes`)."""
        self._check_fitted()
        return top_genes(self.W_, n_top, getattr(self, "feature_names_in_", None))

    def save(self, path, preprocessor=None):
        """Save the fitted model (and optional preprocessing) to one ``.npz`` file."""
        from .io import save_model

        save_model(self, path, preprocessor=preprocessor)

    @classmethod
    def load(cls, path):
        """Load a model saved with :meth:`save` (the preprocessing is on ``preprocessor_``)."""
        from .io import load_model

        return load_model(path)
