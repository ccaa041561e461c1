"""The two-stage baseline: NMF (α = 0) followed by a Cox fit.

:class:`NMFCox` is :class:`~desurv.DeSurv` with α fixed at 0: plain NMF without any survival
information, then the elastic-net Cox model fitted once on the projections Z = X·W. This is
the "NMF, then ask whether the programs predict survival" approach DeSurv is compared with.
Two NMF solvers (``solver=``):

* ``"mu"`` (default): DeSurv's own solver at α = 0 (multiplicative updates, same random
  starts, stopping rule and normalisation): the paper's baseline;
* ``"cd"``: plain NMF by coordinate descent (:class:`desurv.NMF`, NNDSVDa start) run to
  convergence, then the same Cox fit (:func:`cox_refit`, the final β step of
  :func:`desurv.fit_desurv`). Multiplicative updates stall far from a minimum on the
  authors' simulation design, so this is the baseline a reviewer would accept (issue 11).

The rank survey over k is :func:`desurv.model_selection.rank.nmf_rank_survey`.
"""

from __future__ import annotations

import warnings

import numpy as np

from desurv._validation import (
    check_hyperparameter_types,
    check_nonnegative_matrix,
    check_scale,
    survival_with_unlabeled,
)
from desurv.deconvolution._loop import EPS, HISTORY_FIELDS, SolverParams, _Problem
from desurv.deconvolution.estimator import (
    _INT_PARAMS,
    _REAL_PARAMS,
    DeSurv,
    _as_matrix,
    _obs,
    _unlabeled_matrix,
)
from desurv.deconvolution.model_file import _plain, save_model
from desurv.deconvolution.solver import DeSurvResult, _blas_threads, _sorted_columns
from desurv.exceptions import ConvergenceWarning

__all__ = [
    "NMFCox",
    "cox_refit",
]

#: NMF solvers of :class:`NMFCox`
SOLVERS = ("mu", "cd")
#: starts of ``solver="cd"`` (see :class:`desurv.NMF`)
CD_INITS = ("nndsvda", "nndsvd", "nndsvdar", "random")
#: constructor parameters of NMFCox that DeSurv lacks: not written to model files
NMFCOX_ONLY_PARAMS = ("solver", "cd_init", "cd_tol", "cd_max_iter")


# --------------------------------------------------------------------------------------------
# β at fixed W: the final Cox refit of fit_desurv
# --------------------------------------------------------------------------------------------
def cox_refit(
    X,
    time,
    event,
    W,
    H=None,
    *,
    penalty=0.1,
    l1_ratio=0.5,
    penalty_w=0.0,
    penalty_h=0.0,
    ties="breslow",
    dtype="float64",
    n_threads=None,
):
    """Elastic-net Cox coefficients at a fixed W: the final β step of :func:`desurv.fit_desurv`.

    Runs exactly the refit that ends every :func:`desurv.fit_desurv` run (and hence every
    ``NMFCox(solver="mu")`` fit): samples sorted by time (stable), Z = XᵀW, then the
    elastic-net Cox fit of ``_Problem.beta_step`` (proximal Newton on standardised Z, λ =
    ``penalty``, ξ = ``l1_ratio``, same tolerance and sweep cap) from β = 0. At α = 0
    :func:`desurv.fit_desurv` warm-starts this step from the β of its kept random start,
    so the two agree to the solver tolerance (the optimum is unique for λ > 0 and ξ < 1).

    Parameters
    ----------
    X : array-like of shape (n_genes, n_samples)
        Nonnegative expression, paper orientation.
    time, event : array-like of shape (n_samples,)
        A NaN time marks an unlabelled sample (semi-supervised, METHODS.md §F.5): β, mean
        and SD of Z come from the labelled samples, the NMF terms of the objective use all
        samples (normalised by all of them), as in :func:`desurv.fit_desurv`.
    W : ndarray of shape (n_genes, n_components)
        Gene programs (not rescaled here).
    H : ndarray of shape (n_components, n_samples), optional
        Exposures in input order; needed only for the objective (else the NMF terms of the
        returned objective are computed at H = 0).
    penalty, l1_ratio, penalty_w, penalty_h, ties, dtype
        As in :func:`desurv.fit_desurv` (α = 0).
    n_threads : int or None
        BLAS threads (None: leave the process setting alone).

    Returns
    -------
    beta, mean_z, sd_z : ndarray of shape (n_components,)
        β on the scale of Z = XᵀW, and the mean and SD (ddof 1) of Z.
    objective : dict
        F at α = 0 and its components at (W, H, β), as ``DeSurvResult.objective``.
    """
    dtype = np.dtype(dtype)
    X = check_nonnegative_matrix(X, "X", dtype=dtype, genes_by_samples=True)
    time = np.asarray(time, dtype=np.float64)
    event = np.asarray(event)
    W = np.asarray(W, dtype=np.float64)
    k = W.shape[1]
    params = SolverParams(
        alpha=0.0,
        penalty=float(penalty),
        l1_ratio=float(l1_ratio),
        penalty_w=float(penalty_w),
        penalty_h=float(penalty_h),
        ties=ties,
    )
    unl = np.isnan(time)
    if unl.any():  # labelled samples sorted by time first, then the unlabelled (fit_desurv's)
        lab = np.flatnonzero(~unl)
        t_order = lab[np.argsort(time[lab], kind="stable")]
        order = np.concatenate([t_order, np.flatnonzero(unl)])
    else:
        order = t_order = np.argsort(time, kind="stable")
    prob = _Problem(
        _sorted_columns(X, order),
        np.ascontiguousarray(time[t_order]),
        np.ascontiguousarray(event[t_order], dtype=np.float64),
        params,
        n_threads=n_threads,
    )
    Hs = np.zeros((k, X.shape[1])) if H is None else np.ascontiguousarray(H[:, order])
    with _blas_threads(n_threads):
        Z = prob.project(np.ascontiguousarray(W.T))
        beta, mean, sd, _ = prob.beta_step(Z, np.zeros(k), params.beta_max_iter_final)
        objective = prob.objective_at(Z, W, Hs, beta, sd).as_dict()
    return beta, mean, sd, objective


# --------------------------------------------------------------------------------------------
# NMF followed by Cox
# --------------------------------------------------------------------------------------------
class NMFCox(DeSurv):
    """Plain NMF followed by an elastic-net Cox model on its projections (DeSurv with α = 0).

    The factorisation X ≈ WH is fitted without any survival information; then β is fitted
    once by elastic-net Cox regression on Z = X·W with penalty λ = ``penalty`` and mixing
    ξ = ``l1_ratio`` (standardised Z). Two NMF solvers:

    * ``solver="mu"`` (default; the DeSurv paper's baseline): the multiplicative updates of
      :func:`desurv.fit_desurv` with α = 0, same random starts (``n_init``, ranked by the
      NMF objective) and stopping rule (``tol``, ``max_iter``) as :class:`~desurv.DeSurv`.
    * ``solver="cd"`` (a converged baseline): :class:`desurv.NMF` by coordinate descent
      (accelerated HALS) from ``cd_init`` (NNDSVDa: deterministic), stopping at ``cd_tol``
      or ``cd_max_iter``, on X (samples × genes); then W = ``components_.T`` is scaled to
      unit ℓ2 columns with H's rows multiplied by the same norms (WH unchanged, DeSurv's
      convention), and β is the same Cox refit at that W as with ``"mu"``
      (:func:`cox_refit`, the final β step of :func:`desurv.fit_desurv`).

    Why ``"cd"``: multiplicative updates stall far from a minimum on the authors' simulation
    design (per-gene baseline N(3, 1)): they stop at 2.7× (k = 3) to 8× (k = 4) the
    objective that coordinate descent reaches (median of 5 replicates,
    ``benchmarks/results/nmf_convergence.txt``), so part of the paper's DeSurv-vs-NMF gap is
    a gap to an unconverged NMF. Issue 11 also recommends k + 1 factors for the unsupervised
    baseline, one to absorb the gene baseline: that is the user's choice of
    ``n_components`` (e.g. select k by cross-validation over a range that includes k + 1);
    NMFCox never adds a factor itself.

    Parameters
    ----------
    n_components : int, default 3
        k, number of gene programs.
    penalty, l1_ratio : float, default 0.1, 0.5
        λ and ξ of the final Cox fit.
    penalty_w, penalty_h : float >= 0, default 0
        λ_W, λ_H, ridge penalties on W and H. With ``solver="cd"`` they enter
        :class:`desurv.NMF` as ``alpha_H = λ_W/k`` and ``alpha_W = λ_H/k`` (``l1_ratio=0``),
        which is the same objective ‖X − WH‖²/(2np) + λ_H‖H‖²/(2nk) + λ_W‖W‖²/(2pk).
    n_init, init, max_iter, tol, init_max_iter, init_tol
        ``solver="mu"`` only, as in :class:`~desurv.DeSurv` (the short starts are ranked by
        the NMF objective). Ignored by ``"cd"`` (which has no random starts and refuses
        ``init="custom"``).
    random_state : int, numpy Generator or None
        Seed of the random starts (``"mu"``) or of :class:`desurv.NMF` (``"cd"``: the
        randomized SVD of the NNDSVD starts, or the ``"random"`` start).
    ties, n_threads, dtype
        As in :class:`~desurv.DeSurv` (``dtype="float32"``: ``"cd"`` computes the NMF in
        single precision; W, H and β are stored as float64 either way).
    solver : {"mu", "cd"}, default "mu"
        NMF solver: DeSurv's multiplicative updates (the paper's baseline) or coordinate
        descent to convergence (see above).
    cd_init : {"nndsvda", "nndsvd", "nndsvdar", "random"}, default "nndsvda"
        ``solver="cd"`` only: start of :class:`desurv.NMF`.
    cd_tol : float >= 0, default 1e-6
        ``solver="cd"`` only: ``tol`` of :class:`desurv.NMF` (projected-gradient violation
        relative to the first iteration; not the relative change of the objective that
        ``tol`` means for ``"mu"``). At 1e-6 the objective is within ~5e-4 (relative) of a
        20,000-iteration fit on the authors' R0 design: "converged". A larger tolerance
        stops early near the NNDSVDa start (close to a truncated SVD), which on that design
        predicts better (held-out C 0.835 at k = 4 with 1e-2 against 0.820 at 1e-6;
        ``benchmarks/nmfcox_cd_stopping.py``); choose it by cross-validation if that is the
        baseline you want.
    cd_max_iter : int >= 1, default 5000
        ``solver="cd"`` only: iteration cap (ConvergenceWarning when reached). On the
        authors' design (200 samples × 1000 genes) coordinate descent needs ~1000–5000
        iterations at ``cd_tol=1e-6``, a few seconds.

    Attributes
    ----------
    W_, H_, components_, coef_, mean_z_, sd_z_, n_iter_, converged_, loss_history_,
    objective_, init_scores_
        As in :class:`~desurv.DeSurv`; ``loss_history_`` holds the NMF objective (F at
        α = 0). With ``solver="cd"``: ``n_iter_`` and ``converged_`` are those of the
        coordinate descent (``converged_`` is False when it hit ``cd_max_iter``), only the
        ``loss`` column of ``loss_history_`` is filled (the NMF objective after each
        iteration on DeSurv's scale; ``nmf_loss`` too when λ_W = λ_H = 0, the other columns
        NaN and ``backtracks`` 0), and ``init_scores_`` is empty.
    n_features_in_, feature_names_in_
        As in :class:`~desurv.DeSurv`.

    Semi-supervised (METHODS.md §F.5 at α = 0): samples without follow-up, given as
    ``fit(X, y, X_unlabeled=X_u)`` or as NaN times in ``y``, enter the NMF (both solvers:
    the NMF is fitted on all samples) and the Cox model is fitted on the labelled samples'
    projections; their exposures are ``H_unlabeled_`` (rows of ``X_unlabeled``) or columns
    of ``H_`` (NaN-time rows), as in :class:`~desurv.DeSurv`.

    Input conventions (arrays, DataFrames, AnnData with ``layer=`` and ``adata.obs``
    columns for ``time``/``event``; survival ``y`` with any two field names), the
    scikit-learn protocol (``clone``, ``Pipeline``, ``set_output``, NotFittedError) and the
    rejected inputs are those of :class:`~desurv.DeSurv`.

    Notes
    -----
    ``alpha`` is fixed at 0 (a class attribute, not a parameter).  :meth:`save` writes a
    DeSurv model file with α = 0 plus an ``estimator`` entry holding the NMFCox-only
    parameters (``solver``, ``cd_init``, ``cd_tol``, ``cd_max_iter``), so
    :func:`desurv.load_model` returns a fitted NMFCox with the same parameters and the same
    W, H, β, standardisation, baseline hazard and history. desurv versions before that entry
    read such a file as a ``DeSurv(alpha=0)``, which predicts, scores and summarises alike.

    Examples
    --------
    >>> import numpy as np
    >>> from desurv import NMFCox, make_survival_y
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(40, 15))
    >>> y = make_survival_y(rng.exponential(size=40), rng.uniform(size=40) < 0.7)
    >>> model = NMFCox(n_components=2, solver="cd").fit(X, y)
    >>> model.W_.shape, model.coef_.shape
    ((15, 2), (2,))
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
        solver="mu",
        cd_init="nndsvda",
        cd_tol=1e-6,
        cd_max_iter=5000,
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
        self.solver = solver
        self.cd_init = cd_init
        self.cd_tol = cd_tol
        self.cd_max_iter = cd_max_iter

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
        """Fit the NMF (``solver``), then the Cox model on Z = X·W.

        Parameters, return value and errors as :meth:`desurv.DeSurv.fit`, with these
        differences for ``solver="cd"``: custom starts (``init="custom"``, ``W_init``,
        ``H_init``, ``beta_init``) are refused (ValueError; the start is ``cd_init``),
        ``init_callback`` is never called (no random starts) and ``callback`` is called once,
        after the fit, with (``n_iter_``, the final objective). ``X_unlabeled`` and NaN
        times in ``y`` (samples without follow-up) work with both solvers: the NMF runs on
        all samples (X's rows, then those of ``X_unlabeled``), the Cox model on the
        labelled ones.

        Raises
        ------
        ValueError
            As :meth:`desurv.DeSurv.fit`; also an unknown ``solver`` (the message names the
            choices) and, for ``"cd"``, a bad ``cd_init``/``cd_tol``/``cd_max_iter`` or a
            custom start.
        """
        if not isinstance(self.solver, str) or self.solver not in SOLVERS:
            raise ValueError(f"solver must be 'mu' or 'cd', got {self.solver!r}")
        if self.solver == "mu":
            return super().fit(
                X,
                y,
                X_unlabeled=X_unlabeled,
                time=time,
                event=event,
                W_init=W_init,
                H_init=H_init,
                beta_init=beta_init,
                callback=callback,
                init_callback=init_callback,
                layer=layer,
            )
        custom = W_init is not None or H_init is not None or beta_init is not None
        if custom or self.init == "custom":
            raise ValueError(
                "solver='cd' starts from cd_init (NNDSVDa by default) and takes no custom "
                "start (init='custom', W_init, H_init, beta_init): use solver='mu' for one"
            )
        return self._fit_cd(X, y, time, event, callback, layer, X_unlabeled)

    def _check_cd_params(self, n, p):
        """Validate what ``solver="cd"`` uses (``fit_desurv`` does this for ``"mu"``)."""
        check_hyperparameter_types(
            self,
            reals=(*_REAL_PARAMS, "cd_tol"),
            ints=(*_INT_PARAMS, "cd_max_iter"),
            optional_ints=("n_threads",),
        )
        k = self.n_components
        if k < 1:
            raise ValueError(f"n_components must be >= 1, got {k}")
        if k > min(p, n):
            raise ValueError(
                f"n_components={k} is too large: it must be at most "
                f"min(n_genes, n_samples) = min({p}, {n})"
            )
        for name in ("penalty", "penalty_w", "penalty_h"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not (0.0 <= self.l1_ratio <= 1.0):
            raise ValueError(f"l1_ratio must be in [0, 1], got {self.l1_ratio}")
        if self.ties not in ("breslow", "efron"):
            raise ValueError(f"ties must be 'breslow' or 'efron', got {self.ties!r}")
        if self.dtype not in ("float64", "float32", np.float64, np.float32):
            raise ValueError("dtype must be 'float64' or 'float32'")
        if self.cd_init not in CD_INITS:
            raise ValueError(f"cd_init must be one of {CD_INITS}, got {self.cd_init!r}")
        if not np.isfinite(self.cd_tol) or self.cd_tol < 0:
            raise ValueError(f"cd_tol must be a finite number >= 0, got {self.cd_tol}")
        if self.cd_max_iter < 1:
            raise ValueError(f"cd_max_iter must be >= 1, got {self.cd_max_iter}")

    def _fit_cd(self, X, y, time, event, callback, layer, X_unlabeled=None):
        from desurv._validation import is_anndata
        from desurv.decomposition.nmf import NMF

        Xa, names = _as_matrix(X, layer=layer)
        check_scale(Xa)
        # without a NaN time exactly survival_from_y(..., min_events=2)
        time_, event_ = survival_with_unlabeled(y, time, event, n_samples=Xa.shape[0], obs=_obs(X))
        n_x = Xa.shape[0]
        X_all, time_all, event_all = Xa, time_, event_
        if X_unlabeled is not None:  # semi-supervised: NMF on [X; X_unlabeled]
            XU = _unlabeled_matrix(X_unlabeled, names, Xa.shape[1], layer)
            if XU.shape[0]:
                X_all = np.vstack([Xa, XU])
                check_scale(X_all)
                time_all = np.r_[time_, np.full(XU.shape[0], np.nan)]
                event_all = np.r_[event_, np.zeros(XU.shape[0], dtype=bool)]
        labeled = ~np.isnan(time_)
        n, p = X_all.shape
        self._check_cd_params(n, p)
        k = int(self.n_components)
        dtype = np.dtype(self.dtype).name
        nmf = NMF(
            n_components=k,
            init=self.cd_init,
            solver="cd",
            beta_loss="frobenius",
            tol=float(self.cd_tol),
            max_iter=int(self.cd_max_iter),
            random_state=self.random_state,
            # DeSurv's λ_H‖H‖²/(2nk) + λ_W‖W‖²/(2pk), times np, in scikit-learn's scaling:
            # its W (samples × k) is our Hᵀ, its H (k × genes) our Wᵀ
            alpha_W=float(self.penalty_h) / k,
            alpha_H=float(self.penalty_w) / k,
            l1_ratio=0.0,
            n_init=1,
            dtype=dtype,
        )
        with _blas_threads(self.n_threads), warnings.catch_warnings():
            # NMF's warning names its own max_iter; ours (below) names cd_max_iter
            warnings.simplefilter("ignore", ConvergenceWarning)
            Ht = nmf.fit_transform(X_all)
        n_iter = int(nmf.n_iter_)
        converged = n_iter < int(self.cd_max_iter)
        if not converged and float(self.cd_tol) > 0:
            warnings.warn(
                f"NMFCox(solver='cd'): coordinate descent stopped at cd_max_iter="
                f"{self.cd_max_iter} before reaching cd_tol={self.cd_tol}; increase "
                "cd_max_iter (or cd_tol)",
                ConvergenceWarning,
                stacklevel=3,
            )
        # DeSurv's convention: unit ℓ2 columns of W, H's rows scaled by the same norms
        W = np.array(nmf.components_.T, dtype=np.float64, order="C")
        H = np.array(Ht.T, dtype=np.float64, order="C")
        norms = np.sqrt(np.einsum("gf,gf->f", W, W))
        norms[norms < EPS] = 1.0
        W /= norms
        H *= norms[:, None]
        beta, mean, sd, objective = cox_refit(
            X_all.T,
            time_all,
            event_all,
            W,
            H,
            penalty=self.penalty,
            l1_ratio=self.l1_ratio,
            penalty_w=self.penalty_w,
            penalty_h=self.penalty_h,
            ties=self.ties,
            dtype=self.dtype,
            n_threads=self.n_threads,
        )
        semi = n > n_x or not labeled.all()
        res = DeSurvResult(
            W=W,
            H=H[:, :n_x] if semi else H,
            beta=beta,
            mean_z=mean,
            sd_z=sd,
            n_iter=n_iter,
            converged=converged,
            history=self._cd_history(nmf, n, p, n_iter),
            objective=objective,
            init_scores=np.empty(0),
            best_init=-1,
            H_unlabeled=np.ascontiguousarray(H[:, n_x:]) if semi else None,
            n_labeled=int(labeled.sum()) if semi else None,
            n_unlabeled=n - int(labeled.sum()) if semi else 0,
        )
        self._set_fitted(res, p, names)
        self.fit_layer_ = layer if is_anndata(X) else None
        if labeled.all():
            self._fit_baseline(Xa, time_, event_)
        else:  # the baseline hazard comes from the labelled samples
            self._fit_baseline(Xa[labeled], time_[labeled], event_[labeled])
        if callback is not None:
            from desurv.deconvolution._loop import Objective

            callback(n_iter, Objective(**objective))
        return self

    def _cd_history(self, nmf, n, p, n_iter):
        """``loss_history_`` columns from :class:`desurv.NMF`'s objective per iteration.

        NMF's objective (½‖X − WH‖² + penalties, scikit-learn scaling) divided by np is F at
        α = 0 on DeSurv's scale (the penalties are mapped exactly, see ``penalty_w``).
        """
        loss = np.asarray(nmf.loss_history_, dtype=np.float64)[1 : n_iter + 1] / (n * p)
        m = loss.shape[0]
        hist = {name: np.full(m, np.nan) for name in HISTORY_FIELDS}
        hist["loss"] = loss
        if self.penalty_w == 0 and self.penalty_h == 0:
            hist["nmf_loss"] = loss.copy()
        hist["backtracks"] = np.zeros(m, dtype=np.int64)
        return hist

    # --- model file ---
    def save(self, path, preprocessor=None, *, overwrite=False):
        """Save the fitted model to one ``.npz`` model file (see the class Notes).

        The file holds DeSurv's parameters (α = 0 and NMFCox's shared ones), the NMFCox-only
        parameters (:data:`NMFCOX_ONLY_PARAMS`) and the whole fitted state;
        :func:`desurv.load_model` reads it back as an NMFCox. An existing ``path`` is an
        error unless ``overwrite=True``, and even then only a desurv model file is replaced.
        """
        self._check_fitted()
        view = DeSurv(**{name: getattr(self, name) for name in DeSurv._get_param_names()})
        for attr, value in vars(self).items():
            if attr.endswith("_") and not attr.startswith("_"):
                setattr(view, attr, value)
        own = {name: _plain(getattr(self, name)) for name in NMFCOX_ONLY_PARAMS}
        save_model(
            view,
            path,
            preprocessor=preprocessor,
            overwrite=overwrite,
            _estimator={"class": "NMFCox", "params": own},
        )
