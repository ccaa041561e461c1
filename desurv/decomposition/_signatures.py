"""Private helpers shared by the signature-extraction estimators (ConvexNMF, AENMF).

Orientation (scikit-learn's): X is (n_samples, n_features), a sample is a genome and the
features are the (96) mutation channels; ``components`` (k, n_features) holds one signature
per row and ``exposures`` (n_samples, k) one exposure vector per sample, X ≈ exposures @
components.

- :func:`normalize_signatures`: every signature scaled to sum 1, the exposures rescaled so
  that the product is unchanged (the usual convention of mutational signatures).
- :func:`nnls_exposures`: exposures of (new) samples with the signatures fixed, by the exact
  batched NNLS :func:`desurv.decomposition.nnls`.
"""

from __future__ import annotations

import numpy as np

from ._nnls import nnls


def normalize_signatures(components, exposures):
    """Scale each signature to sum 1 and multiply the matching exposure column by its sum.

    With s_f = Σ_j components[f, j] (computed in float64): components[f] / s_f and
    exposures[:, f] · s_f, so ``exposures @ components`` is unchanged up to rounding.

    Parameters
    ----------
    components : array-like of shape (k, n_features), nonnegative
        Signatures, one per row.
    exposures : array-like of shape (n_samples, k), nonnegative
        Exposures, column f belongs to signature f.

    Returns
    -------
    components : ndarray of shape (k, n_features)
        Rows summing to 1; dtype of ``components`` when it is float32/float64, else float64.
    exposures : ndarray of shape (n_samples, k)
        Rescaled exposures; dtype of ``exposures`` when float32/float64, else float64.
    (New arrays; the inputs are not modified.)

    Raises
    ------
    ValueError
        Not 2-D, mismatched k (``components.shape[0] != exposures.shape[1]``), NaN/inf
        values, or a signature that sums to 0 (all zero: it cannot be normalised; lower
        n_components or refit with another start).
    """
    H = np.asarray(components)
    W = np.asarray(exposures)
    if H.ndim != 2 or W.ndim != 2:
        raise ValueError(
            f"components must be 2-D (k, n_features) and exposures 2-D (n_samples, k), got "
            f"shapes {H.shape} and {W.shape}"
        )
    if H.shape[0] != W.shape[1]:
        raise ValueError(
            f"components has {H.shape[0]} signatures (rows) but exposures has {W.shape[1]} "
            "columns; they must match (exposures is n_samples x k)"
        )
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(W))):
        raise ValueError("components and exposures must not contain NaN or infinite values")
    dH = H.dtype if H.dtype in (np.float32, np.float64) else np.float64
    dW = W.dtype if W.dtype in (np.float32, np.float64) else np.float64
    s = H.sum(axis=1, dtype=np.float64)
    zero = np.flatnonzero(s <= 0)
    if zero.size:
        raise ValueError(
            f"signature(s) {zero.tolist()} sum to 0 (all zero) and cannot be normalised to "
            "sum 1; lower n_components or refit with another start"
        )
    Hn = np.ascontiguousarray(H / s[:, None], dtype=dH)
    Wn = np.ascontiguousarray(W * s[None, :], dtype=dW)
    return Hn, Wn


def nnls_exposures(components, X):
    """Exposures of the samples of X with the signatures fixed: exact batched NNLS.

    Solves min_{e >= 0} ‖x_i - componentsᵀ e‖₂ for every sample (row) x_i of X, i.e.
    :func:`desurv.decomposition.nnls` with A = ``components.T`` and B = ``X.T`` (one Gram
    matrix shared by all samples, Lawson-Hanson active set, exact up to rounding).

    Parameters
    ----------
    components : array-like of shape (k, n_features), finite
        Signatures, one per row.
    X : array-like of shape (n_samples, n_features), finite
        Samples as rows (columns already aligned with ``components``; the caller checks
        feature names).

    Returns
    -------
    exposures : ndarray of shape (n_samples, k), C-contiguous
        Nonnegative; dtype of ``components`` when it is float32 (solved in float64 and cast),
        else float64.

    Raises
    ------
    ValueError
        Not 2-D, mismatched n_features, NaN/inf values (from :func:`nnls`).
    """
    H = np.asarray(components)
    X = np.asarray(X)
    if H.ndim != 2 or X.ndim != 2:
        raise ValueError(
            f"components must be 2-D (k, n_features) and X 2-D (n_samples, n_features), got "
            f"shapes {H.shape} and {X.shape}"
        )
    if H.shape[1] != X.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features but components has {H.shape[1]}; pass X with the "
            "fitted features as columns"
        )
    dt = np.float32 if H.dtype == np.float32 else np.float64
    E = nnls(H.T, X.T)
    return np.ascontiguousarray(E.T, dtype=dt)


def align_feature_columns(estimator, X):
    """``X`` with its columns in the order the estimator was fitted with, matched by name.

    A DataFrame whose columns are exactly the fitted ``feature_names_in_`` in another order
    (e.g. SBS channels listed differently) is reordered by name. Anything else is returned
    unchanged, so scikit-learn's feature-name check raises on missing or extra names.
    """
    names = getattr(estimator, "feature_names_in_", None)
    cols = getattr(X, "columns", None)
    if names is None or cols is None or not hasattr(X, "iloc"):
        return X
    cols = list(np.asarray(cols, dtype=object))
    if len(cols) == len(names) and set(cols) == set(names) and cols != list(names):
        return X[list(names)]
    return X


def validate_factor_input(estimator, X, *, reset, dtype, name):
    """X of a factorisation estimator as a C-contiguous float array, checked.

    Columns of a DataFrame are aligned by name on ``transform`` (``reset=False``), then
    scikit-learn's ``validate_data`` records or checks the feature names and counts. ``dtype``
    None keeps float32 input float32 and makes anything else float64. NaN, inf, a sum that
    overflows float64 and negative values are each a ValueError naming the estimator
    (``name``) and the fix.
    """
    from sklearn.utils.validation import validate_data

    if not reset:
        X = align_feature_columns(estimator, X)
    X = validate_data(
        estimator,
        X,
        reset=reset,
        dtype=[np.float64, np.float32],
        ensure_all_finite=False,
        ensure_min_samples=1,
    )
    if dtype is None:
        dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = np.ascontiguousarray(X, dtype=dtype)  # never written to
    if X.size and not np.isfinite(X.sum(dtype=np.float64)):
        if np.isnan(X).any():
            raise ValueError(
                f"X contains NaN values at {int(np.isnan(X).sum())} entries; {name} needs "
                "complete data: impute them or drop the samples"
            )
        if np.isinf(X).any():
            raise ValueError(f"X contains inf values; {name} needs finite, nonnegative X")
        raise ValueError("X is too large: its sum overflows float64; rescale X")
    if X.size and X.min() < 0:
        raise ValueError(
            f"Negative values in data passed to {name} (X): {name} needs X >= 0 (counts or "
            "proportions); clip or shift it"
        )
    return X


class SignatureModelMixin:
    """What the factorisation estimators (X ≈ exposures @ ``components_``) share.

    Put it first among the bases so that its ``__sklearn_tags__`` extends scikit-learn's:
    ``class NMF(SignatureModelMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
    BaseEstimator)``.
    """

    def inverse_transform(self, X):
        """X̂ = exposures @ ``components_``: (n_samples, n_components) -> (n_samples,
        n_features). A DataFrame in gives a DataFrame out (its index; the fitted feature
        names as columns, where scikit-learn gives 0..n_features-1), an array an array."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        out = np.asarray(X) @ self.components_
        if hasattr(X, "iloc") and hasattr(X, "index"):
            import pandas as pd

            names = getattr(self, "feature_names_in_", None)
            columns = names if names is not None else range(out.shape[1])
            return pd.DataFrame(out, index=X.index, columns=columns)
        return out

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
