"""scikit-learn style estimator over the functional core (:mod:`desurv.deconvolution.solver`).

Orientation: the estimator takes X as samples × genes (scikit-learn / AnnData convention)
and converts once to the paper's genes × samples for the solver.

scikit-learn conventions: :class:`DeSurv` is a ``BaseEstimator`` and ``TransformerMixin``
(``get_params``/``set_params``/``clone``, ``Pipeline``, ``GridSearchCV``, ``set_output``),
raises ``sklearn.exceptions.NotFittedError`` before ``fit`` and declares its needs in
``__sklearn_tags__`` (survival target required, nonnegative X).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted

from desurv._validation import (
    check_hyperparameter_types,
    check_scale,
    check_values,
    columns_for_model,
    extract_X,
    is_anndata,
    survival_from_y,
    survival_tags,
    survival_with_unlabeled,
)
from desurv.deconvolution.model_file import read_model_file, save_model
from desurv.deconvolution.solver import HISTORY_FIELDS, fit_desurv

__all__ = ["DeSurv", "top_genes"]


def _as_matrix(X, name="X", *, layer=None):
    """Validated nonnegative X: ``(float64 array (n_samples, n_features), names or None)``.

    Accepts arrays, DataFrames and AnnData (``layer`` selects ``adata.layers[layer]``);
    rejects sparse, complex, boolean and non-numeric input, duplicated names, NaN/inf and
    negative values (see :func:`desurv._validation.extract_X`).
    """
    values, names, samples = extract_X(X, name, layer=layer)
    return check_values(values, name, samples=samples, features=names), names


#: numeric constructor parameters of DeSurv (type-checked at the start of ``fit``)
_REAL_PARAMS = ("alpha", "penalty", "l1_ratio", "penalty_w", "penalty_h", "tol", "init_tol")
_INT_PARAMS = ("n_components", "n_init", "max_iter", "init_max_iter")


def check_rank_input(Xa, what="X"):
    """Raise unless every row of ``Xa`` is a within-sample rank vector of its p columns.

    :func:`desurv.preprocessing.rank_transform` (and ``Preprocessor(transform="rank")``,
    which ranks *after* gene filtering, alignment and any ``fill_value`` fill) gives average
    ranks 1..p with ties averaged, so every row lies in [1, p] and sums to exactly p(p+1)/2
    (averaging tied ranks keeps the sum).  Raw expression essentially never satisfies both.
    """
    p = Xa.shape[1]
    target = p * (p + 1) / 2.0
    sums = Xa.sum(axis=1)
    ok = (
        np.all(np.abs(sums - target) <= 1e-8 * target)
        and float(Xa.min()) >= 1.0 - 1e-9
        and float(Xa.max()) <= p + 1e-9
    )
    if not ok:
        raise ValueError(
            f"{what} does not look like the model's preprocessed input (within-sample ranks of "
            f"its {p} genes); this model carries its preprocessing: use "
            f"model.preprocessor_.transform({what}) first (desurv.evaluation.validate_cohorts "
            "and `desurv predict` do this)"
        )
    return Xa


def _obs(X):
    """``adata.obs`` of AnnData input (where string ``time=``/``event=`` are looked up)."""
    return X.obs if is_anndata(X) else None


def _unlabeled_matrix(X_unlabeled, names, n_genes, layer):
    """X_unlabeled (samples × genes) as float64 with the genes of X in X's order.

    With gene names on both sides the genes are matched by name (same set, any order);
    otherwise by position (with a warning when only one side has names).
    """
    u_layer = layer if is_anndata(X_unlabeled) else None
    shape = np.shape(X_unlabeled) if not is_anndata(X_unlabeled) else X_unlabeled.shape
    if len(shape) == 2 and shape[0] == 0:  # no unlabelled sample (extract_X rejects it)
        cols = X_unlabeled.var_names if is_anndata(X_unlabeled) else None
        if isinstance(X_unlabeled, pd.DataFrame):
            cols = X_unlabeled.columns
        u_names = None if cols is None else np.asarray(pd.Index(cols).astype(str), dtype=object)
        values, samples = np.empty(shape), None
    else:
        values, u_names, samples = extract_X(X_unlabeled, "X_unlabeled", layer=u_layer)
    if names is not None and u_names is not None:
        have, want = pd.Index(u_names), pd.Index(names)
        missing, extra = want.difference(have), have.difference(want)
        if len(missing) or len(extra):
            parts = []
            if len(missing):
                parts.append(
                    f"lacks {len(missing)} of X's genes (e.g. {', '.join(map(str, missing[:5]))})"
                )
            if len(extra):
                parts.append(
                    f"has {len(extra)} genes that X does not have (e.g. "
                    f"{', '.join(map(str, extra[:5]))})"
                )
            raise ValueError(
                f"X_unlabeled {' and '.join(parts)}: it must have the same genes as X (any "
                "order); select them (e.g. X_unlabeled[X.columns]) or align both cohorts "
                "first (desurv.preprocessing.align_genes)"
            )
        values = values[:, have.get_indexer(want)]
    elif (names is None) != (u_names is None):
        side = "X" if u_names is None else "X_unlabeled"
        warnings.warn(
            f"only {side} has gene names: the genes of X_unlabeled are matched to those of X "
            "by position",
            UserWarning,
            stacklevel=3,
        )
    if values.shape[1] != n_genes:
        raise ValueError(
            f"X_unlabeled has {values.shape[1]} genes but X has {n_genes}: both are samples × "
            "genes with the same genes"
        )
    return check_values(values, "X_unlabeled", samples=samples, features=names)


def _with_layer(X, layer):
    """AnnData with a layer → DataFrame (genes as columns, samples as index); else X."""
    if layer is None:
        return X
    if not is_anndata(X):
        raise ValueError(f"layer={layer!r} is only meaningful for AnnData input")
    values, names, samples = extract_X(X, layer=layer)
    return pd.DataFrame(values, index=samples, columns=names)


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


class DeSurv(TransformerMixin, BaseEstimator):
    """Survival-driven deconvolution: NMF fitted jointly with an elastic-net Cox model.

    Learns gene programs W (genes × k) and exposures H (k × samples) with X ≈ WH, and Cox
    coefficients β on the projections Z = X·W, so that the programs both describe the data
    and predict survival (Young et al., "Survival driven deconvolution (deSurv) reveals
    prognostic and interpretable tumor gene signatures"). See :func:`desurv.fit_desurv`
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
    balance : {"gradient", "numerator"}, default "gradient"
        Scale of the survival push in the W step: the NMF gradient's norm (the authors'; it
        vanishes at NMF stationary points, so a start near an NMF solution stays there) or
        the NMF numerator's norm (does not vanish). See :func:`desurv.fit_desurv`.
    init_max_iter, init_tol : int, float, default 30, 1e-4
        Length and tolerance of each short start.
    init_select : {"objective", "cindex"}, default "objective"
        Selection of the kept start: lowest objective, or highest training C-index.
    n_threads : int or None, default 1
        Threads used inside the fit (None: leave the process setting alone); > 1 splits the
        compiled products with X over that many threads when X is large (see ``fit_desurv``).
    dtype : {"float64", "float32"}, default "float64"
        Storage precision of X inside the fit; "float32" halves its memory and product
        traffic while sums and all fitted quantities stay float64 (see ``fit_desurv``).
        Input of any real dtype (float32, float64, integers) is accepted; fitted arrays and
        the outputs of :meth:`transform` and :meth:`predict` are always float64.
    acceleration : {"none", "extrapolation"}, default "none"
        "extrapolation": an accelerated W/H step that keeps the objective monotone (three
        H updates per W step, undamped first W trial, then a safeguarded extrapolation of
        W and H, Ang & Gillis 2019), reaching the plain objective in several times fewer
        passes over X; ``loss_convention="consistent"`` only. See
        :func:`desurv.fit_desurv`.

    Attributes
    ----------
    W_ : ndarray of float64 of shape (n_genes, n_components)
        Gene programs, unit ℓ2 columns; row g is gene ``feature_names_in_[g]`` (see
        :meth:`weights` for a DataFrame labelled by gene and factor).
    H_ : ndarray of shape (n_components, n_samples)
        Exposures of the training samples, in input order.
    components_ : ndarray of shape (n_components, n_genes)
        ``W_.T`` (scikit-learn convention).
    coef_ : ndarray of shape (n_components,)
        Cox coefficients β on the scale of Z = XW.
    mean_z_, sd_z_ : ndarray of shape (n_components,)
        Mean and standard deviation of the (labelled) training projections.
    H_unlabeled_ : ndarray of shape (n_components, n_unlabeled_extra)
        Exposures of the rows of ``X_unlabeled`` in :meth:`fit`, in input order
        ((k, 0) without it).
    n_labeled_, n_unlabeled_ : int
        Training samples with follow-up (in the Cox term) and without (NMF term only: rows
        of X whose time is NaN plus the rows of ``X_unlabeled``).
    n_iter_ : int
    converged_ : bool
    loss_history_ : pandas.DataFrame
        Objective and each component per iteration (index = iteration, from 1).
    objective_ : dict
        Final objective and components.
    init_scores_ : ndarray
        Score of every random start (objective, or C-index with init_select="cindex").
    n_features_in_ : int
        Number of genes seen in :meth:`fit`.
    feature_names_in_ : ndarray of str
        Gene names seen in :meth:`fit`; only when X had gene names (DataFrame columns or
        AnnData ``var_names``). New data with names is then aligned by name.
    fit_layer_ : str or None
        AnnData layer used in :meth:`fit` (None: ``.X`` or non-AnnData input); the default
        ``layer`` for later AnnData input.

    Notes
    -----
    Inputs: X is samples × genes as an array, a pandas DataFrame (gene names = columns,
    sample names = index) or an AnnData object (``var_names``/``obs_names``; ``layer=``
    selects a layer; ``time``/``event`` may name columns of ``adata.obs``). Sparse, complex,
    boolean and non-numeric X, duplicated gene names, NaN/inf and negative values are
    rejected with a ValueError; so are inputs on which the fit is meaningless (all zero, every
    gene constant, values so large or so small that float64 products overflow or underflow,
    see :func:`desurv._validation.check_scale`). The survival target ``y`` is a structured
    array with one bool and one float field (any names, as scikit-survival's data sets) or a
    two-column DataFrame.

    Semi-supervised DeSurv (METHODS.md §F.5): samples without follow-up enter the NMF term
    and H only, the Cox term uses the labelled samples, and the NMF term is normalised by
    all samples (see :func:`desurv.fit_desurv`). Give them as ``fit(X, y,
    X_unlabeled=X_u)`` (same genes as X, matched by name for DataFrames), or mark rows of X
    as unlabelled with a NaN time in ``y`` (their event 0/False or NaN). With none, the fit
    is plain DeSurv, bit for bit. :meth:`transform` and :meth:`predict` are unchanged (they
    use W and β); ``mean_z_``, the baseline hazard and ``n_events_`` come from the labelled
    samples.

    Examples
    --------
    >>> import numpy as np
    >>> from desurv import DeSurv, make_survival_y
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(40, 15))
    >>> y = make_survival_y(rng.exponential(size=40), rng.uniform(size=40) < 0.7)
    >>> model = DeSurv(n_components=2, n_init=1, max_iter=20, random_state=0)
    >>> Z = model.set_output(transform="pandas").fit(X, y).transform(X)
    >>> list(Z.columns)
    ['factor_1', 'factor_2']
    """

    # default for subclasses whose constructor lacks the parameter (NMFCox: plain updates)
    acceleration = "none"

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
        balance="gradient",
        init_max_iter=30,
        init_tol=1e-4,
        init_select="objective",
        n_threads=1,
        dtype="float64",
        acceleration="none",
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
        self.balance = balance
        self.init_max_iter = init_max_iter
        self.init_tol = init_tol
        self.init_select = init_select
        self.n_threads = n_threads
        self.dtype = dtype
        self.acceleration = acceleration

    # --- scikit-learn protocol (get_params/set_params/__repr__ come from BaseEstimator) ---
    def __sklearn_tags__(self):
        """Tags for scikit-learn: a survival target is required and X must be >= 0."""
        tags = survival_tags(super().__sklearn_tags__(), positive_only=True)
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    # --- fitting ---
    def fit(
        self,
        X,
        y=None,
        *,
        X_unlabeled=None,
        time=None,
        event=None,
        W_init=None,
        H_init=None,
        beta_init=None,
        callback=None,
        init_callback=None,
        layer=None,
    ):
        """Fit the model.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_genes)
            Nonnegative expression (e.g. within-sample ranks), any real dtype. Gene names are
            kept from a DataFrame's columns or AnnData's ``var_names``.
        y : structured array or pandas.DataFrame of shape (n_samples,)
            Survival data: a structured array with one bool field (event) and one float
            field (time), whatever their names (:func:`desurv.make_survival_y`,
            ``sksurv.util.Surv``, scikit-survival's data sets), or a two-column DataFrame
            (see :func:`desurv._validation.survival_from_y`). Alternatively pass ``time=``
            and ``event=``. A NaN time marks an unlabelled sample (no follow-up; its event
            must be 0/False or NaN): it enters the NMF term only (semi-supervised DeSurv).
        X_unlabeled : array-like, DataFrame or AnnData of shape (n_unlabeled, n_genes), optional
            Expression of extra samples without follow-up (e.g. another cohort), transformed
            like X: semi-supervised DeSurv (METHODS.md §F.5). With gene names on both X and
            X_unlabeled the genes are matched by name (the same set of genes, any order);
            otherwise by position. Their exposures are stored in ``H_unlabeled_``. With
            zero rows the fit is plain DeSurv.
        time, event : array-like of shape (n_samples,) or str, optional
            Instead of ``y``. With AnnData X, a string names a column of ``adata.obs``
            (e.g. ``fit(adata, time="os_time", event="os_event")``).
        W_init, H_init, beta_init : ndarray, optional
            Custom start (only with ``init="custom"``), paper orientation: W_init
            (n_genes, k), H_init (k, n_samples + n_unlabeled) (columns: the rows of X, then
            those of ``X_unlabeled``), beta_init (k,).
        callback : callable(iteration, objective), optional
            Called after each iteration of the final run (e.g. for progress bars).
        init_callback : callable(start, score), optional
            Called after each short random start (``start`` from 1), e.g. for a progress bar
            over the ``n_init`` starts.
        layer : str, optional
            AnnData X only: fit ``adata.layers[layer]`` instead of ``adata.X``.  Remembered
            as ``fit_layer_``: later AnnData input to transform/predict/score/the survival
            functions and :func:`desurv.write_to_anndata` uses the same layer unless another
            ``layer=`` is given.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad X (sparse, complex/bool/non-numeric, duplicated gene names, negative, NaN;
            all zero, every gene constant, or values that overflow/underflow float64
            products), bad survival data (not survival data, mismatched length, fewer than
            2 events or labelled samples, an event without a time), a bad ``X_unlabeled``
            (other genes, negative or NaN values), a hyperparameter of the wrong type (e.g.
            ``alpha="0.5"``), k too large, or a custom start with ``init="random"`` (and
            vice versa).
        """
        check_hyperparameter_types(
            self, reals=_REAL_PARAMS, ints=_INT_PARAMS, optional_ints=("n_threads",)
        )
        Xa, names = _as_matrix(X, layer=layer)
        check_scale(Xa)
        time_, event_ = survival_with_unlabeled(y, time, event, n_samples=Xa.shape[0], obs=_obs(X))
        XU = None
        if X_unlabeled is not None:
            XU = _unlabeled_matrix(X_unlabeled, names, Xa.shape[1], layer)
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
            X_unlabeled=None if XU is None else XU.T,
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
            balance=self.balance,
            acceleration=self.acceleration,
            n_threads=self.n_threads,
            dtype=self.dtype,
            callback=callback,
            init_callback=init_callback,
        )
        self._set_fitted(res, Xa.shape[1], names)
        self.fit_layer_ = layer if is_anndata(X) else None
        labeled = ~np.isnan(time_)
        if labeled.all():
            self._fit_baseline(Xa, time_, event_)
        else:  # the baseline hazard comes from the labelled samples
            self._fit_baseline(Xa[labeled], time_[labeled], event_[labeled])
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
        self.H_unlabeled_ = res.H_unlabeled
        self.n_labeled_ = int(res.n_labeled)
        self.n_unlabeled_ = int(res.n_unlabeled)
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @property
    def components_(self):
        """``W_.T``, shape (n_components, n_genes) (scikit-learn convention)."""
        self._check_fitted()
        return self.W_.T

    def _check_fitted(self):
        """Raise :class:`sklearn.exceptions.NotFittedError` (a ValueError) before fit."""
        check_is_fitted(
            self, "W_", msg=f"this {type(self).__name__} model is not fitted yet: call fit() first"
        )

    def _layer(self, X, layer):
        """The AnnData layer to read: ``layer`` if given, else the one used in fit."""
        if layer is None and is_anndata(X):
            return getattr(self, "fit_layer_", None)
        return layer

    def _prepare(self, X, layer=None):
        """Validate new data and order its genes like the training data (by name for a
        DataFrame or AnnData fitted with names).

        A model carrying a rank-transform preprocessing (``preprocessor_``, set by
        :func:`desurv.load_model`) also checks that X looks rank-transformed
        (:func:`check_rank_input`), so raw expression is an error, not a wrong answer."""
        self._check_fitted()
        Xa = columns_for_model(self, X, "genes", layer=self._layer(X, layer))
        pre = getattr(self, "preprocessor_", None)
        if pre is not None and getattr(pre, "transform_method", None) == "rank":
            check_rank_input(Xa)
        return Xa

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`: ``factor_1`` … ``factor_k``.

        The same labels as the rows of :meth:`summary` and the columns of :meth:`top_genes`.

        Parameters
        ----------
        input_features : ignored
            Present for scikit-learn's API (the output names do not depend on the genes).

        Returns
        -------
        ndarray of str (object) of shape (n_components,)
        """
        self._check_fitted()
        return np.asarray([f"factor_{f + 1}" for f in range(self.W_.shape[1])], dtype=object)

    def transform(self, X, *, layer=None):
        """Projections Z = X·W, the Cox covariates.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_genes)
            Nonnegative expression, transformed like the training data. When the model was
            fitted with gene names, a DataFrame's columns or AnnData's ``var_names`` are
            matched by name (any order, extra genes dropped; missing genes are an error).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` (default: the layer used in fit,
            ``fit_layer_``).

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, n_components), or pandas.DataFrame
            float64 whatever the input dtype (float32 input included). With
            ``set_output(transform="pandas")`` a DataFrame with columns
            :meth:`get_feature_names_out` and the sample names as index (DataFrame index or
            AnnData ``obs_names``).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before :meth:`fit`.
        ValueError
            Bad X, missing genes or a wrong number of genes; or, for a model carrying its
            preprocessing (``preprocessor_`` with a rank transform, e.g. from
            :func:`desurv.load_model`), X that is not within-sample ranks of the model's genes:
            pass ``model.preprocessor_.transform(X)``, not raw expression.
        """
        Z = self._prepare(X, layer) @ self.W_
        if is_anndata(X) and _get_output_config("transform", self)["dense"] == "pandas":
            return pd.DataFrame(
                Z, index=pd.Index(X.obs_names), columns=self.get_feature_names_out()
            )
        return Z

    def fit_transform(self, X, y=None, *, layer=None, **fit_params):
        """``fit(X, y, layer=layer, **fit_params)`` then ``transform(X, layer=layer)``.

        Returns
        -------
        Z : ndarray of float64 of shape (n_samples, n_components), or pandas.DataFrame
            As :meth:`transform` (the projections of the training samples).
        """
        return self.fit(X, y, layer=layer, **fit_params).transform(X, layer=layer)

    def weights(self):
        """Gene programs W as a DataFrame: genes × factors (``factor_1`` …).

        Returns
        -------
        pandas.DataFrame of float64 of shape (n_genes, n_components)
            Index = ``feature_names_in_`` (gene names) when the model was fitted with names,
            else ``0 … n_genes-1``; the values are ``W_``.
        """
        self._check_fitted()
        names = getattr(self, "feature_names_in_", None)
        index = pd.Index(names if names is not None else np.arange(self.W_.shape[0]), name="gene")
        return pd.DataFrame(self.W_, index=index, columns=self.get_feature_names_out())

    def predict(self, X, *, layer=None):
        """Linear predictor η = (X·W − mean_z_)·β, centred at the average training sample.

        η is the log hazard ratio of each sample against a (hypothetical) sample whose
        projections equal the training mean ``mean_z_`` (Cox 1972); the constant shift
        ``mean_z_·β`` changes neither the C-index, the partial likelihood nor hazard ratios
        per SD, and keeps ``exp(η)`` near 1 instead of ``exp(Σ z β)``.  It is the η of the
        baseline hazard (:meth:`predict_survival_function`).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_genes)
            Nonnegative expression, transformed like the training data (genes matched by
            name, as in :meth:`transform`).  A model loaded with :func:`desurv.load_model`
            carries its preprocessing on ``preprocessor_``: pass
            ``model.predict(model.preprocessor_.transform(X_raw))``; raw expression is
            rejected (ValueError) when that preprocessing is a rank transform.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` (default: ``fit_layer_``).

        Returns
        -------
        eta : ndarray of float64, shape (n_samples,)
            Log relative hazard (dimensionless); higher = higher risk.  Up to desurv 0.1.0
            ``predict`` returned the uncentred X·W·β = η + ``mean_z_``·β.

        Raises
        ------
        ValueError
            Not fitted, or X invalid / genes missing / not preprocessed (see
            :meth:`transform`).
        """
        Z = np.asarray(self.transform(X, layer=layer), dtype=np.float64)
        return (Z - self.mean_z_) @ self.coef_

    def predict_risk(self, X, *, layer=None):
        """Relative risk exp(η) against the average training sample (see :meth:`predict`).

        Returns
        -------
        risk : ndarray of float64, shape (n_samples,)
            Hazard ratio of each sample to a sample with Z = ``mean_z_`` (1 = average).
        """
        return np.exp(self.predict(X, layer=layer))

    # --- survival functions (Breslow baseline), scikit-survival conventions ---
    def _fit_baseline(self, Xa, time, event):
        """Breslow baseline and Wald covariance from the training data (called by fit).

        Sets ``baseline_time_``, ``baseline_cumulative_hazard_`` (Breslow 1972, on the
        centred training η of :meth:`predict`), ``coef_covariance_`` (inverse observed
        information of the plain Cox log partial likelihood at ``coef_``, ties as the fit,
        restricted to the active set: rows/columns of coefficients equal to 0 are NaN)
        and ``n_events_``.

        Parameters
        ----------
        Xa : ndarray of float64, shape (n_samples, n_genes)
            Validated training expression (samples × genes, training gene order).
        time, event : ndarray of shape (n_samples,)
            Validated training survival data.
        """
        from desurv.survival.functions import breslow_baseline, coef_covariance

        Z = Xa @ self.W_
        eta = (Z - self.mean_z_) @ self.coef_
        self.baseline_time_, self.baseline_cumulative_hazard_ = breslow_baseline(eta, time, event)
        k = self.coef_.shape[0]
        active = self.coef_ != 0
        cov = np.full((k, k), np.nan)
        if active.any():  # information restricted to the coefficients not zeroed by the penalty
            cov[np.ix_(active, active)] = coef_covariance(
                Z[:, active], time, event, self.coef_[active], ties=self.ties
            )
        self.coef_covariance_ = cov
        self.n_events_ = int(np.count_nonzero(event))

    def _check_baseline(self):
        self._check_fitted()
        if not hasattr(self, "baseline_cumulative_hazard_"):
            raise ValueError(
                "this model has no baseline hazard (saved by a desurv version without it): "
                "refit it to predict survival functions"
            )

    def _predict_functions(self, functions, X, return_array, layer):
        """``functions(η(X), baseline times, H0, return_array)`` after the baseline check."""
        self._check_baseline()
        return functions(
            self.predict(X, layer=layer),
            self.baseline_time_,
            self.baseline_cumulative_hazard_,
            return_array,
        )

    def _baseline_step(self, y):
        from desurv.survival.functions import StepFunction

        if not hasattr(self, "baseline_cumulative_hazard_"):
            raise AttributeError("no baseline hazard: fit the model first")
        return StepFunction(self.baseline_time_, y)

    @property
    def unique_times_(self):
        """Distinct training times (events and censorings), ascending (= ``baseline_time_``).

        As scikit-survival's ``unique_times_``: the times at which ``return_array=True``
        evaluates the predicted functions.
        """
        if not hasattr(self, "baseline_time_"):
            raise AttributeError("no baseline hazard: fit the model first")
        return self.baseline_time_

    @property
    def cum_baseline_hazard_(self):
        """Breslow cumulative baseline hazard H0 as a StepFunction (x = ``unique_times_``).

        Refers to η = 0 of :meth:`predict`, i.e. the average training sample (scikit-survival's
        refers to Z = 0 instead; the predicted survival functions are the same).  See
        :class:`desurv.survival.functions.StepFunction`.
        """
        return self._baseline_step(self.baseline_cumulative_hazard_)

    @property
    def baseline_survival_(self):
        """Baseline survival exp(−H0) (the average training sample) as a StepFunction."""
        return self._baseline_step(np.exp(-self.baseline_cumulative_hazard_))

    def predict_cumulative_hazard_function(self, X, return_array=False, *, layer=None):
        """Cumulative hazard H(t | x) = exp(η(x))·H0(t) of each sample (Cox 1972; Breslow H0).

        H0 is the Breslow (1972) estimate from the training data at the fitted W and β, on
        the centred η of :meth:`predict`.  Same conventions as scikit-survival's
        ``CoxPHSurvivalAnalysis.predict_cumulative_hazard_function``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
            Expression, as for :meth:`predict`.
        return_array : bool, default=False
            ``False``: one :class:`~desurv.survival.functions.StepFunction` per sample
            (``x = unique_times_``, ``y = H0``, ``a = exp(η)``; callable on times in
            ``[0, unique_times_[-1]]``, time in the units of the training times).
            ``True``: the values at ``unique_times_``.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]``.

        Returns
        -------
        ndarray of object (StepFunction), shape (n_samples,), or ndarray of float64,
        shape (n_samples, n_unique_times)

        Raises
        ------
        ValueError
            Not fitted, no baseline (model file from an older desurv), or bad X.
        """
        from desurv.survival.functions import cumulative_hazard_functions

        return self._predict_functions(cumulative_hazard_functions, X, return_array, layer)

    def predict_survival_function(self, X, return_array=False, *, layer=None):
        """Survival S(t | x) = exp(−exp(η(x))·H0(t)) of each sample (Cox 1972; Breslow H0).

        Same conventions as scikit-survival's
        ``CoxPHSurvivalAnalysis.predict_survival_function``, so the result feeds
        ``sksurv.metrics.integrated_brier_score`` and ``cumulative_dynamic_auc``
        (evaluate each function at the chosen times, e.g.
        ``np.vstack([f(times) for f in model.predict_survival_function(X)])``).

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_genes)
            Expression, as for :meth:`predict`.
        return_array : bool, default=False
            ``False``: one :class:`~desurv.survival.functions.StepFunction` per sample
            (``x = unique_times_``, ``y = S(unique_times_ | x)``; callable on times in
            ``[0, unique_times_[-1]]``).  ``True``: the values at ``unique_times_``.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]``.

        Returns
        -------
        ndarray of object (StepFunction), shape (n_samples,), or ndarray of float64,
        shape (n_samples, n_unique_times)
            Survival probabilities in [0, 1].

        Raises
        ------
        ValueError
            Not fitted, no baseline (model file from an older desurv), or bad X.
        """
        from desurv.survival.functions import survival_functions

        return self._predict_functions(survival_functions, X, return_array, layer)

    def score(self, X, y=None, *, time=None, event=None, layer=None):
        """Harrell's concordance index of η on (X, y); higher η = higher risk.

        The ``score`` used by ``GridSearchCV`` and ``cross_val_score``.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or AnnData of shape (n_samples, n_genes)
            As for :meth:`transform`.
        y : structured array or DataFrame of shape (n_samples,), optional
            Survival data (as in :meth:`fit`), or pass ``time=`` and ``event=`` (strings name
            columns of ``adata.obs`` for AnnData X).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]``.

        Returns
        -------
        float
            Harrell's C in [0, 1].
        """
        from desurv.survival.concordance import concordance_index

        eta = np.asarray(self.predict(_with_layer(X, self._layer(X, layer))), dtype=np.float64)
        time_, event_ = survival_from_y(
            y, time, event, n_samples=eta.shape[0], obs=_obs(X), require_event=False
        )
        return concordance_index(time_, event_, eta)

    # --- readable results ---
    def summary(self, level=0.95):
        """Cox coefficients with Wald standard errors, confidence intervals and p-values.

        One row per factor.  Columns: ``coef`` (β, log hazard ratio per unit of Z = XW),
        ``exp(coef)``, ``se``, ``coef_lower``/``coef_upper`` (Wald interval at ``level``),
        ``z`` (β/se), ``p`` (two-sided), ``sd_z`` (training SD of Z), ``coef_per_sd``
        (β·sd_z), ``se_per_sd``, ``hazard_ratio_per_sd`` (exp(β·sd_z)) and
        ``hazard_ratio_per_sd_lower``/``_upper``.  The standard errors come from
        ``coef_covariance_``: the inverse observed information −∂²ℓ/∂b² of the plain Cox log
        partial likelihood (Cox 1972; ties as in the fit), at b = β ⊙ sd(Z) on the
        standardised training Z, computed at fit time.

        What the inference conditions on: Z is treated as fixed covariates, but W was
        learned from the same data (and, with α > 0, from the same survival outcomes), so
        the intervals are too narrow and the p-values too small (anti-conservative).  With
        penalty λ > 0 the coefficients are shrunk towards 0 and the information ignores the
        penalty and the selection: the Wald p-values are then **not** valid tests; use them
        only with λ = 0, and validate prognostic value on an independent cohort.  NaN when the
        information is singular or for a constant factor.

        Coefficients set exactly to 0 by the penalty have ``zeroed_by_penalty`` True and NaN
        ``se``, interval, ``z`` and ``p`` (no Wald inference for a dropped factor); the
        inference of the others uses the information matrix restricted to the active
        (nonzero) set, i.e. the Cox model refitted on the selected factors (model files
        written before this change store the full-set covariance, which is then used).

        Parameters
        ----------
        level : float in (0, 1), default=0.95
            Confidence level of the intervals.

        Returns
        -------
        pandas.DataFrame of shape (n_components, 14), index ``factor_1`` ... (name "factor")
            The 13 columns above plus the bool ``zeroed_by_penalty``.

        Raises
        ------
        ValueError
            Not fitted, or ``level`` outside (0, 1).
        """
        from desurv.survival.functions import wald_table

        self._check_fitted()
        k = self.coef_.shape[0]
        idx = pd.Index([f"factor_{f + 1}" for f in range(k)], name="factor")
        cov = getattr(self, "coef_covariance_", None)
        if cov is None:  # model file from a desurv version without inference
            cov = np.full((k, k), np.nan)
        return wald_table(self.coef_, cov, self.sd_z_, level=level, index=idx, mark_zeroed=True)

    def print_summary(self, level=0.95, file=None):
        """Print :meth:`summary` as a readable table (like lifelines' ``print_summary``).

        The header names the model, the number of training samples and events and the tie
        handling; a note states what the Wald inference conditions on (see :meth:`summary`).

        Parameters
        ----------
        level : float in (0, 1), default=0.95
            Confidence level of the intervals.
        file : file-like, optional
            Where to print (default ``sys.stdout``).
        """
        from desurv.survival.functions import format_summary

        table = self.summary(level=level)
        text = format_summary(
            table,
            model=" ".join(repr(self).split()),
            n_samples=getattr(self, "n_labeled_", self.H_.shape[1]),
            n_events=getattr(self, "n_events_", None),
            ties=self.ties,
            alpha=float(self.alpha),
            penalty=float(self.penalty),
            level=level,
        )
        print(text, file=file)

    def top_genes(self, n_top=20):
        """Top genes per factor by the paper's specificity score (see :func:`top_genes`)."""
        self._check_fitted()
        return top_genes(self.W_, n_top, getattr(self, "feature_names_in_", None))

    def save(self, path, preprocessor=None, *, overwrite=False):
        """Save the fitted model (and optional preprocessing) to one ``.npz`` file.

        An existing ``path`` is an error unless ``overwrite=True``, and even then only a
        desurv model file is replaced (see :func:`desurv.save_model`).
        """
        save_model(self, path, preprocessor=preprocessor, overwrite=overwrite)

    @classmethod
    def load(cls, path):
        """Load a model file as this class (the preprocessing is on ``preprocessor_``).

        ``DeSurv.load`` gives a DeSurv whatever wrote the file, ``NMFCox.load`` an NMFCox;
        :func:`desurv.load_model` picks the class the file was saved from.
        """
        return _from_model_file(cls, path)


def _from_model_file(cls, path):
    """A fitted ``cls`` (DeSurv or a subclass) from a model file (see :func:`_build_model`)."""
    return _build_model(cls, *read_model_file(path, DeSurv._get_param_names()))


def _build_model(cls, params, fitted):
    """A fitted ``cls`` from what :func:`read_model_file` returns; the parameters the file
    stores for a subclass (its ``estimator`` entry) are used when ``cls`` takes them."""
    fitted = dict(fitted)
    est = fitted.pop("_estimator", None)
    own = set(cls._get_param_names())
    params = {k: v for k, v in params.items() if k in own}
    if est is not None:
        params.update({k: v for k, v in est["params"].items() if k in own})
    model = cls(**params)
    for attr, value in fitted.items():
        setattr(model, attr, value)
    return model
