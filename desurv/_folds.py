"""Cross-validation folds stratified by event status and cohort.

Kept separate from :mod:`desurv.model_selection` so the baselines (CoxNet's internal
cross-validation) can share the exact same fold machinery without importing the grid search.
"""

import warnings

import numpy as np

from desurv.exceptions import DataWarning


def _check_n_folds(n_folds, n_samples):
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)):
        raise ValueError(f"n_folds must be an integer >= 2, got {n_folds!r}")
    if n_folds < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    if n_folds > n_samples:
        raise ValueError(f"n_folds={n_folds} is larger than the number of samples ({n_samples})")


def check_folds_have_events(event, n_folds):
    """Reject more folds than events (or samples): some validation fold would have no event.

    Raises
    ------
    ValueError
        ``"50 folds is too many for 115 samples with 38 events: every validation fold needs
        events; use at most 38 folds (5 or 10 are usual)"``.
    """
    event = np.asarray(event).astype(bool)
    n, n_events = int(event.shape[0]), int(event.sum())
    limit = min(n, n_events)
    if n_folds > limit:
        raise ValueError(
            f"{n_folds} folds is too many for {n} samples with {n_events} events: every "
            f"validation fold needs events; use at most {limit} folds (5 or 10 are usual)"
        )


def stratified_folds(
    event, n_folds=5, *, groups=None, random_state=None, warn=True, require_events=False
):
    """Assign samples to folds stratified by event status (and by cohort).

    Samples are split into strata (event status × cohort label). Within each stratum the
    samples are shuffled and dealt to folds in turn; the dealing continues across strata
    from where the previous stratum stopped, so fold sizes differ by at most one both
    within every stratum and overall.

    Parameters
    ----------
    event : array-like of shape (n_samples,)
        Event indicator (bool or 0/1).
    n_folds : int, default=5
        Number of folds, 2 <= n_folds <= n_samples.
    groups : array-like of shape (n_samples,), optional
        Cohort (or batch) label of each sample; folds are then balanced per cohort too.
    random_state : int, numpy Generator or None
        Seed of the shuffle; the same seed always gives the same folds.
    warn : bool, default=True
        Emit a :class:`~desurv.exceptions.DataWarning` when a fold has no events.
    require_events : bool, default=False
        Raise a ValueError (see :func:`check_folds_have_events`) when ``n_folds`` exceeds
        the number of events, instead of building folds of which some must lack events.

    Returns
    -------
    folds : ndarray of int64, shape (n_samples,)
        Fold id (0 … n_folds − 1) of each sample.

    Raises
    ------
    ValueError
        Bad ``n_folds``, more folds than events with ``require_events=True``, or mismatched
        ``groups`` length.
    """
    event = np.asarray(event)
    if event.ndim != 1:
        raise ValueError(f"event must be 1-D, got shape {event.shape}")
    event = event.astype(bool)
    n = event.shape[0]
    _check_n_folds(n_folds, n)
    if require_events:
        check_folds_have_events(event, n_folds)
    if groups is None:
        group_codes = np.zeros(n, dtype=np.int64)
    else:
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(
                f"groups has {groups.shape[0] if groups.ndim else 0} labels "
                f"but event has {n} samples"
            )
        _, group_codes = np.unique(groups, return_inverse=True)
    rng = np.random.default_rng(random_state)
    folds = np.empty(n, dtype=np.int64)
    start = 0
    for g in np.unique(group_codes):
        for ev in (True, False):
            idx = np.flatnonzero((group_codes == g) & (event == ev))
            if idx.size == 0:
                continue
            idx = idx[rng.permutation(idx.size)]
            folds[idx] = (start + np.arange(idx.size)) % n_folds
            start = (start + idx.size) % n_folds
    if warn:
        empty = [f for f in range(n_folds) if not event[folds == f].any()]
        if empty:
            warnings.warn(
                f"fold(s) {empty} have no events ({int(event.sum())} events for "
                f"{n_folds} folds): their validation C-index is undefined; use fewer folds",
                DataWarning,
                stacklevel=2,
            )
    return folds


def fold_indices(folds, n_folds=None):
    """Yield ``(train_index, test_index)`` for each fold id in ``folds``."""
    folds = np.asarray(folds)
    n_folds = int(folds.max()) + 1 if n_folds is None else n_folds
    for f in range(n_folds):
        test = folds == f
        yield np.flatnonzero(~test), np.flatnonzero(test)
