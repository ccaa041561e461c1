"""Plain NumPy O(n^2) oracles for the metric kernels. Used by the tests only."""

from __future__ import annotations

import numpy as np


def concordance_counts_ref(time, event, risk):
    """Harrell's concordance counts by enumerating all ordered pairs.

    Pair (i, j) is comparable when ``event[i]`` and (``time[j] > time[i]`` or
    (``time[j] == time[i]`` and not ``event[j]``)). It is concordant when
    ``risk[i] > risk[j]``, tied when ``risk[i] == risk[j]``, discordant otherwise.

    Returns
    -------
    counts : ndarray of int64, shape (4,)
        ``[concordant, discordant, tied_risk, comparable]``.
    """
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype=np.float64)
    ti, tj = time[:, None], time[None, :]
    comparable = event[:, None] & ((tj > ti) | ((tj == ti) & ~event[None, :]))
    ri, rj = risk[:, None], risk[None, :]
    concordant = np.sum(comparable & (ri > rj))
    tied = np.sum(comparable & (ri == rj))
    n_comp = np.sum(comparable)
    return np.array([concordant, n_comp - concordant - tied, tied, n_comp], dtype=np.int64)


def concordance_index_ref(time, event, risk):
    """C-index ``(concordant + tied / 2) / comparable`` from :func:`concordance_counts_ref`."""
    conc, _, tied, comp = concordance_counts_ref(time, event, risk)
    return (conc + tied / 2) / comp
