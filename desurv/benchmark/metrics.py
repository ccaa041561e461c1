"""Benchmark metrics: plain functions on arrays, one per quantity.

Shapes follow one convention throughout:

* ``X``: samples × features (nonnegative data);
* signatures ``W``: features × K (one signature per column);
* exposures ``H``: samples × K (one row per sample).

so that the reconstruction is ``H @ W.T`` (samples × features).

Labels: when two inputs sharing an axis are both pandas DataFrames (features of ``X`` and
rows of ``W``; samples of ``X`` and ``H``; signatures of ``W`` and ``H``), they are paired
by label, not position (mutational signature tables list the 96 channels in different
orders); differing label sets raise ``ValueError``. An ndarray on either side pairs by
position (see :func:`desurv._validation.align_rows`).
"""

from __future__ import annotations

import numpy as np

from desurv._validation import _row_index, align_rows

__all__ = [
    "accuracy",
    "cosine_matrix",
    "cosmic_cosine",
    "exposure_error",
    "f1_macro",
    "harrell_c",
    "integrated_brier",
    "match_signatures",
    "nnls_exposures",
    "reconstruction_error",
    "seed_consistency",
    "seed_stability",
    "signature_cosine",
    "uno_c",
]

SKSURV_HINT = "pip install scikit-survival"


def _as2d(a, name):
    a = np.asarray(getattr(a, "values", a), dtype=float)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {a.shape}")
    return a


def _T(a):
    """Transpose of a DataFrame (labels of its columns become row labels); else None."""
    return a.T if _row_index(a) is not None and getattr(a, "ndim", 0) == 2 else None


def _rows_like(A, B, names, what):
    """B with its rows in A's label order when both are labelled (checked by ``align_rows``).

    B stays a pandas object (its other axis keeps its labels); otherwise B is unchanged
    (positional pairing).
    """
    _, _, labels = align_rows(A, B, names=names, what=what)
    return B if labels is None else B.reindex(labels)


def _columns_like(A, B, names, what):
    """B with its columns in A's label order when both are DataFrames; else unchanged."""
    At, Bt = _T(A), _T(B)
    if At is None or Bt is None:
        return B
    return _rows_like(At, Bt, names, what).T


def _features_like(X, W, xname="X", wname="W"):
    """W (features × K) with its rows in the order of X's (samples × features) columns."""
    Xt = _T(X)
    if Xt is None:
        return W
    return _rows_like(Xt, W, (f"{xname}'s columns", f"{wname}'s rows"), "features")


# ----------------------------------------------------------------------------- reconstruction
def nnls_exposures(X, W):
    """Nonnegative exposures of samples given fixed signatures (batched NNLS).

    Solves ``min_h ||W h - x_i||_2, h >= 0`` for every sample ``x_i`` (row of ``X``), with
    :func:`desurv.decomposition.nnls` (exact active-set NNLS sharing one Gram matrix).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    W : array-like of shape (n_features, K)
        When X and W are both DataFrames, W's rows are paired with X's columns by label.

    Returns
    -------
    H : ndarray of shape (n_samples, K), float64, nonnegative
    """
    W = _features_like(X, W)
    X, W = _as2d(X, "X"), _as2d(W, "W")
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has {X.shape[1]} features but W has {W.shape[0]} rows")
    from desurv.decomposition import nnls

    return np.asarray(nnls(W, X.T), dtype=float).T


def reconstruction_error(X, W, H):
    """Relative Frobenius reconstruction error ``||X - H W^T||_F / ||X||_F``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data (e.g. counts or expression).
    W : array-like of shape (n_features, K)
        Signatures.
    H : array-like of shape (n_samples, K)
        Exposures of the same samples.

    DataFrames are paired by label where two of them share an axis (X's columns and W's
    rows; X's rows and H's rows; W's and H's columns), else by position.

    Returns
    -------
    float
        Unitless, >= 0 (0 = exact reconstruction); NaN if ``X`` is all zeros.
    """
    W = _features_like(X, W)
    H = _rows_like(X, H, ("X", "H"), "samples")
    H = _columns_like(W, H, ("W's columns", "H's columns"), "signatures")
    X, W, H = _as2d(X, "X"), _as2d(W, "W"), _as2d(H, "H")
    norm = np.linalg.norm(X)
    return float(np.linalg.norm(X - H @ W.T) / norm) if norm > 0 else float("nan")


# ----------------------------------------------------------------------------- signatures
def cosine_matrix(A, B):
    """Cosine similarities between the columns of ``A`` and the columns of ``B``.

    Parameters
    ----------
    A : array-like of shape (n_features, K_a)
    B : array-like of shape (n_features, K_b)
        When A and B are both DataFrames, rows (features, e.g. SBS channels) are paired by
        label, whatever their order; otherwise by position.

    Returns
    -------
    ndarray of shape (K_a, K_b)
        Zero columns have cosine 0 with everything (and a DataWarning):
        :func:`desurv.evaluation.matching.cosine_similarity`.
    """
    from desurv.evaluation.matching import cosine_similarity

    return cosine_similarity(A, B)


def match_signatures(W_fit, W_true):
    """Hungarian matching of fitted to true signatures maximising total cosine.

    Parameters
    ----------
    W_fit : array-like of shape (n_features, K_fit)
    W_true : array-like of shape (n_features, K_true)
        Two DataFrames are paired by row label (see :func:`cosine_matrix`).

    Returns
    -------
    true_idx, fit_idx : ndarray of int
        Matched pairs (``min(K_fit, K_true)`` of them), sorted by true index.
    cos : ndarray of shape (K_fit, K_true)
        The cosine matrix.
    """
    from scipy.optimize import linear_sum_assignment

    W_fit, W_true, _ = align_rows(W_fit, W_true, names=("W_fit", "W_true"), what="features")
    cos = cosine_matrix(W_fit, W_true)
    fit_idx, true_idx = linear_sum_assignment(-cos)
    order = np.argsort(true_idx)
    return true_idx[order], fit_idx[order], cos


def signature_cosine(W_fit, W_true):
    """Mean Hungarian-matched cosine similarity to the true signatures.

    Fitted and true signatures are paired one-to-one by
    :func:`scipy.optimize.linear_sum_assignment` on the cosine matrix (maximising the total
    cosine). The score is the mean over the **true** signatures of the cosine of their
    match; when fewer signatures were fitted than are true, the unmatched true signatures
    score 0 (so missing signatures are penalised); extra fitted signatures are ignored.

    Parameters
    ----------
    W_fit : array-like of shape (n_features, K_fit)
    W_true : array-like of shape (n_features, K_true)
        Two DataFrames are paired by row label (channel), whatever their order; otherwise
        rows are paired by position.

    Returns
    -------
    float
        In [0, 1] for nonnegative signatures; 1 = every true signature recovered up to scale
        (and whatever the order of the fitted columns).
    """
    true_idx, fit_idx, cos = match_signatures(W_fit, W_true)
    return float(cos[fit_idx, true_idx].sum() / cos.shape[1])


def cosmic_cosine(W_fit, reference):
    """Mean over fitted signatures of the cosine to their best-matching reference signature.

    Each fitted signature takes its most similar reference (e.g. COSMIC) signature,
    independently (several fitted signatures may pick the same reference).

    Parameters
    ----------
    W_fit : array-like of shape (n_features, K_fit)
    reference : array-like of shape (n_features, n_reference)
        The same features (channels) as ``W_fit``: paired by row label when both are
        DataFrames (any order), otherwise by position (then in the same order).

    Returns
    -------
    float
        In [0, 1] for nonnegative signatures.
    """
    W_fit, reference, _ = align_rows(
        W_fit, reference, names=("W_fit", "reference"), what="features"
    )
    return float(cosine_matrix(W_fit, reference).max(axis=1).mean())


def exposure_error(W_fit, H_fit, W_true, H_true):
    """Relative error of matched, scale-normalised exposures.

    Definition. Both factorisations are first scale-normalised so that every signature
    column sums to 1 and the exposures carry the scale: ``W~ = W D^-1``, ``H~ = H D`` with
    ``D = diag(column sums of W)`` (the product ``H W^T`` is unchanged; for mutational data
    exposures are then in mutations). Fitted signatures are matched to the true ones as in
    :func:`signature_cosine`. With ``M`` the samples × K_true matrix holding, in column k, the
    normalised fitted exposures of the signature matched to true signature k (zeros when k
    is unmatched), the error is::

        ||M - H~_true||_F / ||H~_true||_F

    Parameters
    ----------
    W_fit : array-like of shape (n_features, K_fit)
    H_fit : array-like of shape (n_samples, K_fit)
    W_true : array-like of shape (n_features, K_true)
    H_true : array-like of shape (n_samples, K_true)
        Same samples, same order as ``H_fit``.

    DataFrames are paired by label where two of them share an axis (rows of ``W_fit`` and
    ``W_true``; rows of ``H_fit`` and ``H_true``; columns of ``W_fit`` and ``H_fit``, of
    ``W_true`` and ``H_true``), else by position.

    Returns
    -------
    float
        Unitless, >= 0; 0 = exact recovery (up to permutation and scale).
    """
    H_fit = _columns_like(W_fit, H_fit, ("W_fit's columns", "H_fit's columns"), "signatures")
    H_true = _columns_like(W_true, H_true, ("W_true's columns", "H_true's columns"), "signatures")
    W_true = _rows_like(W_fit, W_true, ("W_fit", "W_true"), "features")
    H_true = _rows_like(H_fit, H_true, ("H_fit", "H_true"), "samples")
    W_fit, H_fit = _as2d(W_fit, "W_fit"), _as2d(H_fit, "H_fit")
    W_true, H_true = _as2d(W_true, "W_true"), _as2d(H_true, "H_true")
    if H_fit.shape[0] != H_true.shape[0]:
        raise ValueError(f"H_fit has {H_fit.shape[0]} samples but H_true {H_true.shape[0]}")
    sf, st = W_fit.sum(axis=0), W_true.sum(axis=0)
    sf[sf == 0], st[st == 0] = 1.0, 1.0
    Hf, Ht = H_fit * sf, H_true * st
    true_idx, fit_idx, _ = match_signatures(W_fit, W_true)
    M = np.zeros_like(Ht)
    M[:, true_idx] = Hf[:, fit_idx]
    norm = np.linalg.norm(Ht)
    return float(np.linalg.norm(M - Ht) / norm) if norm > 0 else float("nan")


def seed_consistency(signature_sets):
    """Across-seed consistency: mean matched cosine between the signatures of two seeds.

    For every pair of runs (i < j), signatures are Hungarian-matched and the mean matched
    cosine (over ``min(K_i, K_j)`` pairs) taken; the result is the mean over pairs.

    Parameters
    ----------
    signature_sets : sequence of array-like of shape (n_features, K)
        Signatures of each seed (at least 2).

    Returns
    -------
    float
        In [0, 1]; NaN with fewer than 2 runs.
    """
    sets = [_as2d(W, "signatures") for W in signature_sets]
    vals = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            ti, fi, cos = match_signatures(sets[i], sets[j])
            vals.append(cos[fi, ti].mean())
    return float(np.mean(vals)) if vals else float("nan")


def seed_stability(signature_sets):
    """Stability: silhouette of the signatures of all seeds clustered across seeds.

    Clusters: the first run's signatures define K clusters; every other run's signatures
    are assigned to them by Hungarian matching on cosine (so each run contributes one
    signature per cluster). The score is
    ``sklearn.metrics.silhouette_score(all_signatures, clusters, metric="cosine")``.

    Parameters
    ----------
    signature_sets : sequence of array-like of shape (n_features, K)
        Signatures of each seed (at least 2, all with the same K >= 2).

    Returns
    -------
    float
        In [-1, 1] (1 = the same K signatures in every run); NaN with fewer than 2 runs,
        K < 2 or runs of different K.
    """
    from sklearn.metrics import silhouette_score

    sets = [_as2d(W, "signatures") for W in signature_sets]
    if len(sets) < 2 or sets[0].shape[1] < 2 or len({W.shape for W in sets}) != 1:
        return float("nan")
    ref = sets[0]
    vecs, labels = [ref.T], [np.arange(ref.shape[1])]
    for W in sets[1:]:
        ref_idx, w_idx, _ = match_signatures(W, ref)
        vecs.append(W[:, w_idx].T)
        labels.append(ref_idx)
    return float(silhouette_score(np.vstack(vecs), np.concatenate(labels), metric="cosine"))


# ----------------------------------------------------------------------------- classification
def f1_macro(y_true, y_pred):
    """Macro-averaged F1 score (``sklearn.metrics.f1_score(average="macro")``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class labels.

    Returns
    -------
    float
        In [0, 1]: the unweighted mean over classes of per-class F1.
    """
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def accuracy(y_true, y_pred):
    """Fraction of correctly predicted labels (``sklearn.metrics.accuracy_score``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)

    Returns
    -------
    float
        In [0, 1].
    """
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(y_true, y_pred))


# ----------------------------------------------------------------------------- survival
def _surv_arrays(y):
    from desurv._validation import survival_from_y

    return survival_from_y(y, require_event=False)


def _sksurv_y(y):
    time, event = _surv_arrays(y)
    out = np.empty(len(time), dtype=[("event", "?"), ("time", "<f8")])
    out["event"], out["time"] = event, time
    return out


def sksurv_available() -> bool:
    """Whether scikit-survival can be imported."""
    try:
        import sksurv.metrics  # noqa: F401
    except ImportError:
        return False
    return True


def _require_sksurv(metric):
    if not sksurv_available():
        raise ValueError(f"the metric {metric!r} needs scikit-survival: {SKSURV_HINT}")


def harrell_c(y, risk):
    """Harrell's concordance index of a risk score (``desurv.concordance_index``).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival data (one bool event field and one float time field).
    risk : array-like of shape (n_samples,)
        Predicted risk (higher = shorter survival).

    Returns
    -------
    float
        In [0, 1]; 0.5 is random ordering.
    """
    import desurv

    time, event = _surv_arrays(y)
    return float(desurv.concordance_index(time, event, np.asarray(risk, dtype=float)))


def _within_train(y_train, y_test, *arrays, tau=None, events_only=True):
    """Drop test samples where the censoring weights are undefined.

    As scikit-survival does, the censoring distribution is the Kaplan-Meier estimate on
    ``y_train`` with the event indicator reversed; when it is still positive at the last
    training time, test samples after that time have no weight and are dropped (with
    ``events_only``, only events before ``tau``: the concordance weighs only those).
    """
    from sksurv.nonparametric import CensoringDistributionEstimator

    cens = CensoringDistributionEstimator().fit(_sksurv_y(y_train))
    keep = np.ones(len(y_test), bool)
    if cens.prob_[-1] > 0:
        time, event = _surv_arrays(y_test)
        late = time > cens.unique_time_[-1]
        if events_only:  # concordance_index_ipcw evaluates the weights at events only
            late &= event
        if tau is not None:  # scikit-survival weighs only samples before tau
            late &= time < tau
        keep = ~late
    return (np.asarray(y_test)[keep], *(np.asarray(a)[keep] for a in arrays))


def evaluation_times(y_train, y_test, n_times=20):
    """Evaluation times for Uno's C and the integrated Brier score.

    Quantiles 10%–90% of the test follow-up times, kept strictly inside the test follow-up
    range and below the last training time (where the censoring distribution and baseline
    hazard are estimable).

    Returns
    -------
    ndarray of float, sorted, unique (may be empty)
    """
    t_tr, _ = _surv_arrays(y_train)
    t_te, _ = _surv_arrays(y_test)
    times = np.unique(np.quantile(t_te, np.linspace(0.1, 0.9, n_times)))
    return times[(times > t_te.min()) & (times < t_te.max()) & (times < t_tr.max())]


def uno_c(y_train, y_test, risk, tau=None):
    """Uno's IPCW concordance (``sksurv.metrics.concordance_index_ipcw``).

    Parameters
    ----------
    y_train : structured array of shape (n_train,)
        Training survival data (estimates the censoring distribution).
    y_test : structured array of shape (n_test,)
        Test survival data.
    risk : array-like of shape (n_test,)
        Predicted risk of the test samples.
    tau : float, optional
        Truncation time; default the largest of :func:`evaluation_times` (within the test
        follow-up range).

    Returns
    -------
    float
        In [0, 1].

    Notes
    -----
    Test events observed after the last training time (and before ``tau``) are left out
    when the censoring distribution (Kaplan-Meier on ``y_train``) is still positive there:
    their inverse probability of censoring weights are undefined (scikit-survival would
    raise).

    Raises
    ------
    ValueError
        scikit-survival is not installed (``pip install scikit-survival``).
    """
    _require_sksurv("uno_c")
    from sksurv.metrics import concordance_index_ipcw

    if tau is None:
        times = evaluation_times(y_train, y_test)
        tau = float(times.max()) if times.size else None
    y_test, risk = _within_train(y_train, y_test, risk, tau=tau)
    return float(
        concordance_index_ipcw(
            _sksurv_y(y_train), _sksurv_y(y_test), np.asarray(risk, float), tau=tau
        )[0]
    )


def integrated_brier(y_train, y_test, surv_prob, times):
    """Integrated Brier score (``sksurv.metrics.integrated_brier_score``).

    Parameters
    ----------
    y_train : structured array of shape (n_train,)
    y_test : structured array of shape (n_test,)
    surv_prob : array-like of shape (n_test, n_times)
        Predicted survival probabilities S(t | x) at ``times``.
    times : array-like of shape (n_times,)
        Evaluation times (same unit as the survival times), inside the test follow-up
        range; see :func:`evaluation_times`.

    Returns
    -------
    float
        In [0, 1]; lower is better (0.25 is an uninformative prediction of 0.5).
        Test samples observed after the last training time are left out when the
        censoring distribution (Kaplan-Meier on ``y_train``) is still positive there
        (their weights are undefined; scikit-survival would raise).

    Raises
    ------
    ValueError
        scikit-survival is not installed, or fewer than 2 evaluation times.
    """
    _require_sksurv("integrated_brier")
    from sksurv.metrics import integrated_brier_score

    times = np.asarray(times, float)
    y_test, surv_prob = _within_train(y_train, y_test, surv_prob, events_only=False)
    if times.size < 2:
        raise ValueError("integrated_brier needs at least 2 evaluation times")
    return float(
        integrated_brier_score(
            _sksurv_y(y_train), _sksurv_y(y_test), np.asarray(surv_prob, float), times
        )
    )
