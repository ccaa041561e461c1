"""Preprocessing of expression matrices: rank transform, gene filter, cohort alignment.

All functions take ``X`` as samples x genes (a pandas DataFrame with gene names as columns,
an AnnData object with ``var_names``, or a 2-D array) and return the same type. Sparse,
complex, boolean and non-numeric input and duplicated gene names are rejected.

The gene filter and the order of operations follow the authors' R package
(ayoung31/DeSurv, ``R/gene_filter.R`` and ``R/preprocess_data.R``):

1. the gene filter is computed on the expression values as given (*before* any transform),
   separately per cohort when several are pooled, keeping the genes selected in every
   cohort;
2. the data are restricted to the kept genes;
3. only then is the within-sample transform applied (ranks are over the kept genes only).
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import check_is_fitted

from desurv._validation import extract_X, is_anndata, nonfinite_message
from desurv.exceptions import DataWarning

__all__ = ["Preprocessor", "align_genes", "filter_genes", "rank_transform"]

_TRANSFORMS = ("rank", "none")
_FORMAT_VERSION = 1


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _check_matrix(X, name="X", layer=None):
    """Return ``(values, index, columns)``; values is a float64 2-D array.

    ``index``/``columns`` are None for array input; for AnnData they are ``obs_names`` and
    ``var_names`` (``layer`` selects ``adata.layers[layer]``). Sparse, complex, boolean and
    non-numeric input and duplicated names are rejected (:func:`desurv._validation.extract_X`);
    NaN/inf are *not* checked here.
    """
    if isinstance(X, pd.DataFrame):
        non_numeric = [c for c, dt in X.dtypes.items() if getattr(dt, "kind", "O") not in "biufc"]
        if non_numeric:
            raise ValueError(
                f"{name} has non-numeric columns (first few: {_fmt_list(non_numeric)}); "
                "expression values must be numbers"
            )
    values, names, samples = extract_X(X, name, layer=layer)
    if isinstance(X, pd.DataFrame):
        return values, X.index, X.columns
    if names is not None:  # AnnData
        return values, samples, pd.Index(names)
    return values, None, None


def _fmt_list(items, k=5):
    items = list(items)
    head = ", ".join(repr(i) for i in items[:k])
    return head + (", ..." if len(items) > k else "")


def _check_finite(values, name="X", index=None, columns=None):
    """NaN/inf are an error naming the first one by sample and gene (names when known)."""
    msg = nonfinite_message(
        values, name, index, columns, advice="impute or drop them before preprocessing"
    )
    if msg is not None:
        raise ValueError(msg)


def _check_unique_columns(columns, name="X"):
    dup = columns[columns.duplicated()]
    if len(dup):
        raise ValueError(
            f"{name} has {len(dup)} duplicated gene name(s) (first few: "
            f"{_fmt_list(pd.unique(dup))}); make gene names unique (e.g. average duplicates)"
        )


def _wrap(values, index, columns, like=None, var_idx=None):
    """Array, DataFrame, or (``like`` AnnData) AnnData with ``var`` rows ``var_idx``."""
    if like is not None and is_anndata(like):
        if columns is not None:  # genes by name (missing ones, if filled, get empty rows)
            var = like.var.reindex(pd.Index(columns).astype(str))
        else:
            var = like.var.iloc[var_idx] if var_idx is not None else like.var
        # the AnnData class of the input (anndata is never imported by desurv)
        return type(like)(X=values, obs=like.obs.copy(), var=var.copy(), uns=dict(like.uns))
    if columns is None:
        return values
    return pd.DataFrame(values, index=index, columns=columns)


def _to_builtin(x):
    return x.item() if isinstance(x, np.generic) else x


# --------------------------------------------------------------------------------------
# rank transform
# --------------------------------------------------------------------------------------
def _rank_rows(values):
    """Average ranks 1..n_genes within each row (ties averaged), float64.

    Equals ``scipy.stats.rankdata(values, method="average", axis=1)``; pandas' compiled
    ranking is used so that a fit does not need to import scipy.stats (~0.4 s at start-up).
    """
    return pd.DataFrame(values).rank(axis=1, method="average").to_numpy(dtype=np.float64)


def rank_transform(X):
    """Rank genes within each sample (ties get their average rank).

    Parameters
    ----------
    X : DataFrame, AnnData or array-like of shape (n_samples, n_genes)
        Expression values; any real numbers (e.g. log-ratios).

    Returns
    -------
    X_rank : same type as X, shape (n_samples, n_genes), float64
        Row i holds the ranks 1..n_genes of sample i's values, as
        ``scipy.stats.rankdata(X, axis=1)`` (method ``"average"``); a DataFrame keeps its
        index and columns, an AnnData its ``obs`` and ``var`` (ranks in ``.X``). The result
        is positive, so it can be factorised by NMF.

    Raises
    ------
    ValueError
        NaN or infinite values; sparse, complex, boolean, non-numeric or non-2-D input;
        duplicated gene names.
    """
    values, index, columns = _check_matrix(X)
    _check_finite(values, index=index, columns=columns)
    ranks = _rank_rows(values)
    return _wrap(ranks, index, columns, like=X)


# --------------------------------------------------------------------------------------
# gene filter
# --------------------------------------------------------------------------------------
def _average_rank_desc(v):
    # rank 1 = largest value, ties averaged (R: rank(-v, ties.method = "average"))
    return pd.Series(-np.asarray(v, dtype=np.float64)).rank(method="average").to_numpy()


def _select_one(values, n_genes):
    """Indices of the top ``n_genes`` genes of one cohort (values: samples x genes)."""
    if values.shape[0] < 2:
        raise ValueError(
            "the gene filter needs at least 2 samples per cohort to compute variances, "
            f"got {values.shape[0]}"
        )
    mean = values.mean(axis=0)
    var = values.var(axis=0, ddof=1)
    combined = _average_rank_desc(mean) + _average_rank_desc(var)
    # stable sort: ties in the combined rank keep the input gene order (as R's order())
    order = np.argsort(combined, kind="stable")
    return order[: min(n_genes, values.shape[1])]


def _check_n_genes(n_genes):
    if n_genes is None:
        return None
    if isinstance(n_genes, bool) or not isinstance(n_genes, Integral) or n_genes <= 0:
        raise ValueError(f"n_genes must be a positive integer or None, got {n_genes!r}")
    return int(n_genes)


def _select_gene_indices(values, n_genes, groups=None):
    """Sorted column indices kept by the filter (all columns when ``n_genes`` is None)."""
    n_total = values.shape[1]
    if n_genes is None:
        return np.arange(n_total)
    if groups is None:
        keep = _select_one(values, n_genes)
    else:
        groups = np.asarray(groups)
        if groups.ndim != 1 or groups.shape[0] != values.shape[0]:
            raise ValueError(
                f"groups must be 1-D with one label per sample ({values.shape[0]}), "
                f"got shape {groups.shape}"
            )
        keep = None
        for g in pd.unique(groups):
            sel = _select_one(values[groups == g], n_genes)
            keep = sel if keep is None else np.intersect1d(keep, sel)
        if keep.size == 0:
            raise ValueError("no gene is among the top n_genes of every cohort; increase n_genes")
    return np.sort(keep)


def filter_genes(X, n_genes, *, groups=None, return_indices=False):
    """Keep the ``n_genes`` most highly expressed and variable genes.

    The rule of the DeSurv R package (``gene_filter()`` in ``R/gene_filter.R``): for each
    gene compute its mean and its variance (denominator n-1) over samples; rank genes by
    decreasing mean and by decreasing variance (ties get the average rank); add the two
    ranks; keep the ``n_genes`` genes with the smallest sum. Ties in the sum are broken by
    the input gene order (R's stable ``order()``). With ``groups`` the filter is applied
    to each cohort separately and the genes kept in every cohort are returned
    (``preprocess_data()`` in ``R/preprocess_data.R``), so fewer than ``n_genes`` may remain.

    The filter is meant for the values as measured (before the within-sample rank
    transform, which would make all sample means equal).

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_genes_in)
        Expression values, finite.
    n_genes : int
        Number of genes to keep (all of them if larger than ``n_genes_in``).
    groups : array-like of shape (n_samples,), optional
        Cohort label of each sample.
    return_indices : bool, default=False
        Also return the integer column indices kept.

    Returns
    -------
    X_kept : same type as X, shape (n_samples, n_kept)
        The kept genes, in their input order (the R function orders them by score
        instead; the set of genes is the same).
    indices : ndarray of int
        Only with ``return_indices=True``.
    """
    values, index, columns = _check_matrix(X)
    _check_finite(values, index=index, columns=columns)
    n_genes = _check_n_genes(n_genes)
    if n_genes is None:
        raise ValueError("n_genes must be a positive integer")
    keep = _select_gene_indices(values, n_genes, groups)
    out = _wrap(
        values[:, keep], index, None if columns is None else columns[keep], like=X, var_idx=keep
    )
    return (out, keep) if return_indices else out


# --------------------------------------------------------------------------------------
# cohort alignment
# --------------------------------------------------------------------------------------
def align_genes(X, genes, *, fill_value=None):
    """Reorder a cohort's columns to a given gene list.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, n_genes_x)
        Expression of the new cohort with gene names as columns. Extra genes are dropped.
    genes : sequence of str
        The fitted model's genes, in the model's order.
    fill_value : float, optional
        Value for genes missing from ``X``. By default missing genes are an error; when
        given, they are filled and a :class:`desurv.exceptions.DataWarning` is emitted.

    Returns
    -------
    X_aligned : DataFrame of shape (n_samples, len(genes)), float64
        Columns exactly ``genes``; the index of ``X`` is kept.

    Raises
    ------
    ValueError
        ``X`` is not a DataFrame, gene names are duplicated in ``X`` or ``genes``, or genes
        are missing and ``fill_value`` is None.
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            "X must be a pandas DataFrame with gene names as columns to align genes by "
            f"name, got {type(X).__name__}"
        )
    _check_unique_columns(X.columns, "X")
    genes = pd.Index(list(genes))
    if genes.duplicated().any():
        dup = pd.unique(genes[genes.duplicated()])
        raise ValueError(f"genes has duplicated names (first few: {_fmt_list(dup)})")
    missing = genes[~genes.isin(X.columns)]
    if len(missing):
        if fill_value is None:
            raise ValueError(
                f"{len(missing)} of {len(genes)} model genes are missing from X (first few: "
                f"{_fmt_list(missing)}); pass fill_value= (e.g. 0) to fill them, or refit "
                "on the shared genes"
            )
        warnings.warn(
            f"{len(missing)} of {len(genes)} model genes are missing from X and were filled "
            f"with {fill_value!r} (first few: {_fmt_list(missing)})",
            DataWarning,
            stacklevel=2,
        )
    out = X.reindex(columns=genes, fill_value=fill_value)
    non_numeric = [c for c, dt in out.dtypes.items() if not pd.api.types.is_numeric_dtype(dt)]
    if non_numeric:
        raise ValueError(f"X has non-numeric columns (first few: {_fmt_list(non_numeric)})")
    extract_X(out)  # complex, boolean and sparse columns are errors, not silently cast
    return out.astype(np.float64)


# --------------------------------------------------------------------------------------
# Preprocessor
# --------------------------------------------------------------------------------------
class Preprocessor(TransformerMixin, BaseEstimator):
    """Gene filter plus within-sample transform, fitted on a training cohort.

    ``fit`` chooses the genes (the DeSurv gene filter, see :func:`filter_genes`) on the
    values as given; ``transform`` aligns a cohort to those genes (by name for a
    DataFrame), then applies the within-sample transform, in the order of the R package's
    ``preprocess_data()``.

    Parameters
    ----------
    transform : {"rank", "none"}, default="rank"
        ``"rank"``: rank genes within each sample (average ranks for ties), over the kept
        genes only; the result is positive whatever the platform. ``"none"``: keep values
        (they must then be finite and nonnegative, as NMF requires).
    n_genes : int or None, default=None
        Number of genes kept by the filter; None keeps all genes.  At least 2 with
        ``transform="rank"`` (the within-sample rank of a single gene is constant).

    Attributes
    ----------
    transform_method : str
        The ``transform`` parameter (stored under this name because ``transform`` is the
        method); ``get_params()``/``set_params()`` use the name ``transform``.
    genes_ : ndarray of shape (n_genes_,)
        Kept gene names (DataFrame input) or column indices (array input), in input order.
    gene_indices_ : ndarray of int of shape (n_genes_,)
        Column indices of the kept genes in the training matrix.
    n_genes_ : int
        Number of kept genes.
    n_features_in_ : int
        Number of genes seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Gene names seen during ``fit``; only when fitted on a DataFrame or AnnData.

    Notes
    -----
    A scikit-learn transformer (``Pipeline``, ``clone``, ``set_output``; NotFittedError
    before fit). ``get_params``/``set_params`` are its own because the parameter
    ``transform`` shares its name with the method. AnnData input (``layer=`` selects a layer)
    gives AnnData output with the kept genes as ``var`` and the result in ``.X`` (a DataFrame
    under ``set_output(transform="pandas")``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from desurv.preprocessing import Preprocessor
    >>> X = pd.DataFrame(np.arange(12.0).reshape(3, 4) ** 2, columns=list("abcd"))
    >>> pre = Preprocessor(transform="rank", n_genes=2).fit(X)
    >>> list(pre.genes_)
    ['c', 'd']
    >>> pre.transform(X[["d", "c", "a"]]).to_numpy().tolist()
    [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]
    """

    def __init__(self, transform="rank", n_genes=None):
        # stored as ``transform_method``: ``transform`` is the method
        self.transform_method = transform
        self.n_genes = n_genes

    # Own get_params/set_params: BaseEstimator's would read/overwrite the *method*
    # ``transform``; the parameter is stored as ``transform_method``.
    def get_params(self, deep=True):
        """Parameters ``transform`` and ``n_genes`` (scikit-learn protocol).

        Returns
        -------
        dict
        """
        return {"transform": self.transform_method, "n_genes": self.n_genes}

    def set_params(self, **params):
        """Set ``transform`` and/or ``n_genes`` (scikit-learn protocol).

        Returns
        -------
        self

        Raises
        ------
        ValueError
            An unknown parameter name.
        """
        for key, value in params.items():
            if key == "transform":
                self.transform_method = value
            elif key == "n_genes":
                self.n_genes = value
            else:
                raise ValueError(
                    f"Invalid parameter {key!r} for Preprocessor; valid: ['n_genes', 'transform']"
                )
        return self

    def __sklearn_tags__(self):
        """Tags for scikit-learn: no target; dense input only; X >= 0 with ``transform="none"``."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.positive_only = self.transform_method == "none"
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the kept genes (``x<j>`` for array input).

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str (object) of shape (n_genes_,)
        """
        self._check_fitted()
        if hasattr(self, "feature_names_in_"):
            return np.asarray([str(g) for g in self.genes_], dtype=object)
        return np.asarray([f"x{j}" for j in self.gene_indices_], dtype=object)

    def _check_params(self):
        if self.transform_method not in _TRANSFORMS:
            raise ValueError(
                f"transform must be one of {_TRANSFORMS}, got {self.transform_method!r}"
            )
        n_genes = _check_n_genes(self.n_genes)
        if n_genes is not None and n_genes < 2 and self.transform_method == "rank":
            raise ValueError(
                f"n_genes={n_genes} with transform='rank': the within-sample rank of a single "
                "gene is constant; keep at least 2 genes"
            )
        return n_genes

    def _check_fitted(self):
        check_is_fitted(
            self,
            "gene_indices_",
            msg="this Preprocessor is not fitted yet; call fit(X) before transform(X)",
        )

    def fit(self, X, y=None, *, groups=None, layer=None):
        """Choose the genes on a training cohort.

        Parameters
        ----------
        X : DataFrame, AnnData or array-like of shape (n_samples, n_genes_in)
            Training expression, samples x genes, finite. A DataFrame's columns (AnnData's
            ``var_names``) are the gene names (they must be unique).
        y : ignored
            Accepted for pipeline compatibility.
        groups : array-like of shape (n_samples,), optional
            Cohort label per sample for pooled training cohorts: the filter runs per cohort
            and keeps the genes selected in all of them (as the R package does).
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` instead of ``adata.X``.

        Returns
        -------
        self : Preprocessor

        Raises
        ------
        ValueError
            Sparse, complex, boolean or non-numeric X, duplicated gene names, NaN/inf, or
            bad parameters.
        """
        n_genes = self._check_params()
        values, index, columns = _check_matrix(X, layer=layer)
        _check_finite(values, index=index, columns=columns)
        if columns is not None:
            _check_unique_columns(columns)
        keep = _select_gene_indices(values, n_genes, groups)
        if self.transform_method == "rank" and keep.size < 2:
            raise ValueError(
                f"only {keep.size} gene kept (n_features={keep.size}) with transform='rank': "
                "the within-sample rank of a single gene is constant; keep at least 2 genes"
            )
        if self.transform_method == "none" and np.any(values[:, keep] < 0):
            raise ValueError(
                "Negative values in data passed to Preprocessor: X has negative values among "
                f"the kept genes (min {values[:, keep].min():.4g}) but transform='none' keeps "
                "the values and NMF needs X >= 0; use Preprocessor(transform='rank') "
                "(within-sample ranks) or shift the data"
            )
        self.n_features_in_ = values.shape[1]
        if columns is not None:
            self.feature_names_in_ = np.asarray(columns, dtype=object)
            self.genes_ = np.asarray(columns[keep], dtype=object)
        else:
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self.genes_ = keep.copy()
        self.gene_indices_ = keep
        self.n_genes_ = int(keep.size)
        return self

    def transform(self, X, *, fill_value=None, layer=None):
        """Align, filter and transform a cohort.

        Parameters
        ----------
        X : DataFrame, AnnData or array-like of shape (n_samples, n_genes_x)
            Expression, samples x genes. A DataFrame (AnnData: its ``var_names``) is aligned
            to ``genes_`` by name (extra genes dropped, any column order) when the
            preprocessor was fitted with gene names; an array must have the training columns
            in the training order.
        fill_value : float, optional
            Fill value for model genes missing from a DataFrame ``X`` (see
            :func:`align_genes`); missing genes are an error by default.
        layer : str, optional
            AnnData X only: use ``adata.layers[layer]`` instead of ``adata.X``.

        Returns
        -------
        X_out : same type as X, shape (n_samples, n_genes_)
            Float64 (whatever the input dtype), finite and nonnegative. A DataFrame has
            ``genes_`` as columns; an AnnData has the kept genes as ``var`` and the values in
            ``.X``. With ``set_output(transform="pandas")`` always a DataFrame (index = the
            sample names when the input had them).

        Raises
        ------
        ValueError
            Missing genes, wrong number of columns, NaN/inf, (``transform="none"``)
            negative values, or bad input (sparse, complex, non-numeric, duplicated names).
        """
        self._check_fitted()
        self._check_params()
        named = hasattr(self, "feature_names_in_")
        adata = X if is_anndata(X) else None
        if adata is not None:
            values, index, columns = _check_matrix(adata, layer=layer)
            X = pd.DataFrame(values, index=index, columns=columns)
            if not named:
                X = values
        elif layer is not None:
            raise ValueError(f"layer={layer!r} is only meaningful for AnnData input")
        if isinstance(X, pd.DataFrame) and named:
            X_sel = align_genes(X, self.genes_, fill_value=fill_value)
            values, index, columns = X_sel.to_numpy(dtype=np.float64), X_sel.index, X_sel.columns
        else:
            values, index, columns = _check_matrix(X)
            if values.shape[1] != self.n_features_in_:
                hint = "; pass a DataFrame with gene names to align by name" if named else ""
                raise ValueError(
                    f"X has {values.shape[1]} genes but the Preprocessor was fitted on "
                    f"{self.n_features_in_}{hint} (X has {values.shape[1]} features, but "
                    f"Preprocessor is expecting {self.n_features_in_} features as input)"
                )
            values = values[:, self.gene_indices_]
            if columns is not None:
                columns = columns[self.gene_indices_]
        _check_finite(values, index=index, columns=columns)
        if self.transform_method == "rank":
            values = _rank_rows(values)
        elif np.any(values < 0):
            raise ValueError(
                f"X contains negative values after preprocessing (min {values.min():.4g}) "
                "but NMF needs X >= 0; use Preprocessor(transform='rank') (within-sample "
                "ranks) or shift the data to be nonnegative"
            )
        values = np.ascontiguousarray(values)
        if adata is not None:
            if _get_output_config("transform", self)["dense"] == "pandas":
                return pd.DataFrame(values, index=index, columns=self.get_feature_names_out())
            return _wrap(values, index, columns, like=adata, var_idx=self.gene_indices_)
        return _wrap(values, index, columns)

    def fit_transform(self, X, y=None, *, groups=None, layer=None):
        """``fit(X, groups=groups, layer=layer)`` then ``transform(X, layer=layer)``.

        Returns
        -------
        X_out : same type as X, shape (n_samples, n_genes_)
            As :meth:`transform`.
        """
        return self.fit(X, y, groups=groups, layer=layer).transform(X, layer=layer)

    # ---------------------------------------------------------------- serialisation
    def to_dict(self):
        """JSON-serialisable description of the (fitted) preprocessor.

        Returns
        -------
        state : dict
            Keys ``"format"``, ``"version"``, ``"params"`` (``transform``, ``n_genes``) and,
            when fitted, ``"fitted"`` with ``genes``, ``gene_indices``, ``n_features_in``
            and ``feature_names_in`` (None for array input). Only built-in types.
        """
        state = {
            "format": "desurv.Preprocessor",
            "version": _FORMAT_VERSION,
            "params": {
                "transform": self.transform_method,
                "n_genes": None if self.n_genes is None else int(self.n_genes),
            },
            "fitted": None,
        }
        if hasattr(self, "gene_indices_"):
            names = getattr(self, "feature_names_in_", None)
            state["fitted"] = {
                "genes": [_to_builtin(g) for g in self.genes_],
                "gene_indices": [int(i) for i in self.gene_indices_],
                "n_features_in": int(self.n_features_in_),
                "feature_names_in": None if names is None else [_to_builtin(g) for g in names],
            }
        return state

    @classmethod
    def from_dict(cls, state):
        """Rebuild a preprocessor from :meth:`to_dict` output.

        Raises
        ------
        ValueError
            ``state`` is not a Preprocessor description of a supported version.
        """
        if not isinstance(state, dict) or state.get("format") != "desurv.Preprocessor":
            raise ValueError("state is not a desurv.Preprocessor description (see to_dict)")
        if state.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"unsupported Preprocessor format version {state.get('version')!r} "
                f"(this desurv reads version {_FORMAT_VERSION})"
            )
        try:
            params = state["params"]
            obj = cls(transform=params["transform"], n_genes=params["n_genes"])
            obj._check_params()
            fitted = state.get("fitted")
            if fitted is not None:
                idx = np.asarray(fitted["gene_indices"], dtype=np.int64)
                n_in = int(fitted["n_features_in"])
                if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= n_in)):
                    raise ValueError("gene_indices out of range")
                if len(fitted["genes"]) != idx.size:
                    raise ValueError("genes and gene_indices differ in length")
                obj.n_features_in_ = n_in
                obj.gene_indices_ = idx
                obj.n_genes_ = int(idx.size)
                if fitted["feature_names_in"] is not None:
                    obj.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
                    obj.genes_ = np.asarray(fitted["genes"], dtype=object)
                else:
                    obj.genes_ = idx.copy()
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed Preprocessor description: {exc!r}") from None
        return obj
