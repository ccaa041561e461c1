"""Batched nonnegative least squares on a shared Gram matrix (public: :func:`nnls`)."""

from __future__ import annotations

import numpy as np

from desurv._kernels import _nnls
from desurv._validation import align_rows


def nnls(A, B, *, max_iter=None):
    """Solve min_x ‖A x - b_j‖₂ subject to x >= 0 for every column b_j of B, exactly.

    The Gram matrix AᵀA (k, k) and the cross-products AᵀB (k, m) are formed once by BLAS and
    shared by all columns; each column is then solved by the Lawson & Hanson (1974) active-set
    algorithm in the Gram form of Bro & de Jong (1997) (compiled, Cholesky on the passive
    set), warm-started from the passive set of the unconstrained solution (variables with a
    nonpositive least-squares value dropped until the rest is positive). The answer is the
    exact NNLS solution (up to rounding), like
    ``scipy.optimize.nnls`` column by column. When A is rank deficient the minimiser may not
    be unique; the residual norm is then the one of scipy's solution.

    Parameters
    ----------
    A : array-like of shape (p, k)
        Design (for NMF exposures: the signatures, ``components_.T``).
    B : array-like of shape (p,) or (p, m)
        Right-hand sides (for NMF: the new samples as columns, ``X_new.T``). When A and B
        are both pandas objects (DataFrame/Series), B's rows are paired with A's by label
        (e.g. SBS channels listed in another order); otherwise by position.
    max_iter : int or None, default=None
        Bound on the variables added per column (default 3·k + 10).

    Returns
    -------
    X : ndarray of float64, shape (k,) or (k, m)
        The nonnegative solutions, one column per column of B.

    Raises
    ------
    ValueError
        A not 2-D, B not 1-D/2-D, mismatched first dimensions, NaN/inf values, or (both
        labelled) different row labels.

    Notes
    -----
    Cost: O(p k m) for AᵀB (BLAS) plus O(k³) per active-set change per column.

    References
    ----------
    C. L. Lawson, R. J. Hanson (1974). Solving Least Squares Problems, ch. 23. Prentice-Hall.
    R. Bro, S. de Jong (1997). A fast non-negativity-constrained least squares algorithm.
    Journal of Chemometrics 11(5), 393-401.
    """
    A, B, _ = align_rows(A, B)
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array (p, k), got shape {A.shape}")
    vector = B.ndim == 1
    if vector:
        B = B[:, None]
    if B.ndim != 2:
        raise ValueError(f"B must be 1-D (p,) or 2-D (p, m), got shape {B.shape}")
    if B.shape[0] != A.shape[0]:
        raise ValueError(
            f"A has {A.shape[0]} rows but B has {B.shape[0]}: B's columns must be vectors of "
            f"length p = A.shape[0] (pass X_new.T to solve for the rows of X_new)"
        )
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise ValueError("A and B must not contain NaN or infinite values")
    k = A.shape[1]
    if max_iter is None:
        max_iter = 3 * k + 10
    G = A.T @ A
    C = np.ascontiguousarray(A.T @ B)
    X, _ = _nnls.nnls_gram(G, C, int(max_iter))
    return X[:, 0] if vector else X
