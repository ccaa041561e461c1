"""The two-stage baseline: NMF (α = 0) followed by a Cox fit.

:class:`NMFCox` is :class:`~desurv.DeSurv` with α fixed at 0: the
solver runs unsupervised multiplicative-update NMF, then fits the elastic-net Cox model once
on the projections Z = X·W. This is the "NMF, then ask whether the programs predict
survival" approach DeSurv is compared with. It lives in DeSurv's wing because it is DeSurv's
own solver at α = 0 (same updates, same normalisation); the rank survey over k is
:func:`desurv.model_selection.rank.nmf_rank_survey`.
"""

from __future__ import annotations

from desurv.deconvolution.estimator import DeSurv

__all__ = [
    "NMFCox",
]


# --------------------------------------------------------------------------------------------
# NMF followed by Cox
# --------------------------------------------------------------------------------------------
class NMFCox(DeSurv):
    """Plain NMF followed by an elastic-net Cox model on its projections (DeSurv with α = 0).

    The factorisation X ≈ WH is fitted without any survival information (multiplicative
    updates of :func:`desurv.fit_desurv` with α = 0, same random starts and stopping rule as
    :class:`~desurv.DeSurv`); then β is fitted once by elastic-net Cox regression on
    Z = X·W with penalty λ = ``penalty`` and mixing ξ = ``l1_ratio`` (standardised Z).

    Parameters
    ----------
    n_components : int, default 3
        k, number of gene programs.
    penalty, l1_ratio : float, default 0.1, 0.5
        λ and ξ of the final Cox fit.
    penalty_w, penalty_h : float >= 0, default 0
        λ_W, λ_H, ridge penalties on W and H.
    n_init, init, max_iter, tol, random_state, ties, init_max_iter, init_tol, n_threads,
        dtype
        As in :class:`~desurv.DeSurv` (the short starts are ranked by the NMF
        objective).

    Attributes
    ----------
    W_, H_, components_, coef_, mean_z_, sd_z_, n_iter_, converged_, loss_history_
        As in :class:`~desurv.DeSurv`; ``loss_history_`` holds the NMF objective.
    n_features_in_, feature_names_in_
        As in :class:`~desurv.DeSurv`.

    Input conventions (arrays, DataFrames, AnnData with ``layer=`` and ``adata.obs``
    columns for ``time``/``event``; survival ``y`` with any two field names), the
    scikit-learn protocol (``clone``, ``Pipeline``, ``set_output``, NotFittedError) and the
    rejected inputs are those of :class:`~desurv.DeSurv`.

    Notes
    -----
    ``alpha`` is fixed at 0 (a class attribute, not a parameter).  :meth:`save` writes the
    model as a ``DeSurv(alpha=0)`` file (:func:`desurv.save_model` records α), which
    :func:`desurv.load_model` reads back.
    """

    alpha = 0.0
    loss_convention = "consistent"
    balance = "gradient"  # no survival push at α = 0
    init_select = "objective"  # with α = 0 every start has β = 0, so C-index cannot rank them

    def __init__(
        self,
        n_components=3,
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
        init_max_iter=30,
        init_tol=1e-4,
        n_threads=1,
        dtype="float64",
    ):
        self.n_components = n_components
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
        self.init_max_iter = init_max_iter
        self.init_tol = init_tol
        self.n_threads = n_threads
        self.dtype = dtype

    def set_params(self, **params):
        """Set parameters (scikit-learn protocol); ``alpha`` is refused with a hint.

        Raises
        ------
        ValueError
            An unknown parameter (``alpha`` included: it is fixed at 0).
        """
        if "alpha" in params:
            raise ValueError(
                "Invalid parameter 'alpha' for NMFCox: alpha is fixed at 0 (use DeSurv for "
                f"α > 0); valid parameters: {sorted(self._get_param_names())}"
            )
        return super().set_params(**params)
