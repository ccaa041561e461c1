"""Solvers of plain NMF: multiplicative updates (Frobenius, KL, masked) and accelerated HALS.

Private functions, independent of the estimator (like scikit-learn's
``_fit_multiplicative_update`` / ``_fit_coordinate_descent``). Conventions: X (n, p), W (n, k),
H (k, p); internally H is kept transposed, Ht (p, k), C-contiguous, so one compiled kernel
serves both half-steps. Products with X go to BLAS; the element-wise work is one compiled
pass (``desurv._kernels._nmf_mu`` / ``_nmf_cd``). Everything runs in X's dtype (float32 stays
float32); sums feeding the objective accumulate in float64.

Objective (scikit-learn's, with its scaled penalties l1_*, l2_*):

    D(X, WH) + l1_W·ΣW + ½·l2_W·‖W‖² + l1_H·ΣH + ½·l2_H·‖H‖²,

D = ½‖X - WH‖² (Frobenius) or the generalised Kullback-Leibler divergence, weighted entrywise
by ``mask`` when one is given.
"""

from __future__ import annotations

import numpy as np

from desurv._kernels import _nmf_cd, _nmf_mu

#: scikit-learn's flooring constant of the multiplicative updates (float32 machine epsilon)
EPSILON = float(np.finfo(np.float32).eps)
_EPS64 = float(np.finfo(np.float64).eps)


def _l2_bytes(default=1 << 20):
    """Size of the L2 cache of cpu0 (Linux sysfs), else ``default``."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cache/index2/size") as fh:
            txt = fh.read().strip().upper()
        mult = {"K": 1 << 10, "M": 1 << 20}.get(txt[-1:], 1)
        return int(txt.rstrip("KM")) * mult
    except (OSError, ValueError):
        return default


#: Frobenius MU streams X once through the fused compiled loops when X is larger than the L2
#: cache; below that BLAS's two products run near peak (measured, one thread: 40-65 GFlop/s
#: with X in L2, 13-23 GFlop/s from L3 at k = 5-8; the fused loops 25-34 GFlop/s in both).
_FUSED_MIN_BYTES = _l2_bytes()
#: Frobenius MU with X in L2: the fused loops still win for small k, where BLAS's skinny
#: products (n x p times p x k, k columns) run far below peak. Measured (one thread, float64,
#: fro_loop per iteration, fused / BLAS): SynSig 1000 x 96 k = 1: 0.90, k = 3: 0.62, k = 4: 0.81,
#: k = 5: 0.72, k = 6: 1.18, k = 11: 1.21; 96 x 560 k = 3: 0.82, k = 8: 1.37;
#: 2700 x 96 k = 3: 0.67, k = 21: 1.38.
_FRO_FUSED_MAX_K = 5
#: KL MU: the fused passes keep a row of WH and H ((k + 1)·p entries) in L1; beyond that BLAS
#: wins (96 x 5000 k = 8: BLAS 1.7x faster)
_FUSED_MAX_ROW_BYTES = 64 << 10


def _sum64(A):
    return float(np.sum(A, dtype=np.float64))


def nmf_loss(X, W, H, beta_loss="frobenius", mask=None):
    """Data term of the NMF objective (the one loss helper of the solvers and the estimator).

    Parameters
    ----------
    X : ndarray (n, p); W : ndarray (n, k); H : ndarray (k, p)
    beta_loss : {"frobenius", "kullback-leibler"}
        "frobenius": ½ Σ M (X - WH)²; "kullback-leibler": Σ M (x log(x / max(WH, ε))[x > ε]
        - x + WH), ε = float32 eps: scikit-learn's ``_beta_divergence`` when M = 1.
    mask : ndarray (n, p) or None
        Nonnegative weights (None: all ones).

    Returns
    -------
    float
    """
    if beta_loss == "frobenius" and mask is None:
        R = W.astype(np.float64) @ H.astype(np.float64)
        R -= X
        R = R.ravel()
        return 0.5 * float(np.dot(R, R))
    WH = W.astype(np.float64) @ H.astype(np.float64)
    X64 = X.astype(np.float64)
    if beta_loss == "frobenius":
        R = X64 - WH
        R *= R
        R *= mask
        return 0.5 * float(R.sum())
    sel = X64 > EPSILON
    whs = np.maximum(WH, EPSILON)
    T = WH - X64 * sel
    T[sel] += X64[sel] * np.log(X64[sel] / whs[sel])
    if mask is not None:
        return float(np.sum(T[mask != 0] * mask[mask != 0]))
    return float(T.sum())


def _kl_log_term(X, L):
    """sum X · log L in float64, L overwritten (NumPy's SIMD log, pairwise float64 sum)."""
    np.log(L, out=L)
    np.multiply(L, X, out=L)
    return float(L.sum(dtype=np.float64))


def _penalty(sW1, sW2, sH1, sH2, reg):
    l1W, l1H, l2W, l2H = reg
    return l1W * sW1 + 0.5 * l2W * sW2 + l1H * sH1 + 0.5 * l2H * sH2


def _error(loss):
    """scikit-learn's convergence quantity: sqrt(2·D), D the data term."""
    return float(np.sqrt(2.0 * max(loss, 0.0)))


def fit_multiplicative_update(
    X, W, H, *, beta_loss="frobenius", max_iter=200, tol=1e-4, reg=(0.0, 0.0, 0.0, 0.0), mask=None
):
    """Multiplicative updates (Lee & Seung 2001), scikit-learn's order and flooring.

    Each iteration updates W then H:
    Frobenius ``W <- W ⊙ XHᵀ / ((W HHᵀ + l1) + l2 W)``, H symmetrically;
    KL ``W <- W ⊙ (X / max(WH, ε)) Hᵀ / ((1 Hᵀ + l1) + l2 W)``, and H (then floored at the
    float64 epsilon, with zero column sums of W replaced by 1), as in scikit-learn.
    With ``mask`` M the numerators/denominators carry M (weighted objective).
    Convergence: every 10 iterations, stop when (e_prev - e) / e_0 < tol with e = sqrt(2 D)
    (scikit-learn's rule); ``tol == 0`` runs exactly ``max_iter`` iterations.

    Parameters
    ----------
    X : ndarray (n, p), float32 or float64, nonnegative (masked entries set to 0)
    W : ndarray (n, k); H : ndarray (k, p): the start (copied, cast to X's dtype)
    beta_loss : {"frobenius", "kullback-leibler"}
    max_iter : int; tol : float
    reg : (l1_W, l1_H, l2_W, l2_H), already scaled
    mask : ndarray (n, p) of X's dtype or None

    Returns
    -------
    W : ndarray (n, k); H : ndarray (k, p); n_iter : int
    history : ndarray of float64, shape (m,): the objective (data term + penalties) after
        the iterations ``history_iter``.
    history_iter : ndarray of intp, shape (m,): increasing iteration numbers, 0 the start.
        Frobenius: every iteration, 0 .. n_iter (m = n_iter + 1). KL: 0, 10, 20, ... and
        n_iter, where the objective is evaluated anyway (scikit-learn's stopping rule; its
        log term costs about a third of an iteration).
    """
    dt = X.dtype
    W = np.array(W, dtype=dt, order="C", copy=True)
    Ht = np.array(H.T, dtype=dt, order="C", copy=True)
    l1W, l1H, l2W, l2H = (dt.type(r) for r in reg)
    eps = dt.type(EPSILON)
    if mask is not None:
        return _mu_masked(X, W, Ht, beta_loss, max_iter, tol, reg, mask)
    if beta_loss == "frobenius":
        return _mu_frobenius(X, W, Ht, max_iter, tol, reg, (l1W, l1H, l2W, l2H, eps))
    return _mu_kl(X, W, np.ascontiguousarray(Ht.T), max_iter, tol, reg, (l1W, l1H, l2W, l2H, eps))


def _fro_fused(n, p, k, itemsize):
    """Frobenius MU: stream X through the fused compiled loops (True) or two BLAS products?

    Fused beyond L2 (X read once per iteration instead of twice, :data:`_FUSED_MIN_BYTES`)
    and, in L2, for k <= :data:`_FRO_FUSED_MAX_K` (measured there).
    """
    return n * p * itemsize > _FUSED_MIN_BYTES or k <= _FRO_FUSED_MAX_K


def _kl_fused(n, p, k, itemsize):
    """KL MU: stream X through the fused passes (True) or use BLAS products (False)?

    Measured (one thread, float64, ns per entry of X per iteration, n x p from 96 x 560 to
    2000 x 1000, k = 3 to 20): fused passes ~0.45 k + 0.3 whatever the size while their row
    working set of (k + 1)·p entries stays in L1; BLAS (three products and two ratio passes
    through an n x p buffer) ~1.6 + 0.12 k with X in L2, ~3.4 + 0.1 k beyond. Hence BLAS for
    k >= 4 in L2 (96 x 560 k = 8: 2.0x faster), fused for k <= 8 beyond L2 (2000 x 300
    k = 5: 1.6x).
    """
    if (k + 1) * p * itemsize > _FUSED_MAX_ROW_BYTES:
        return False
    if n * p * itemsize <= _FUSED_MIN_BYTES:
        return k <= 3
    return k <= 8


def _mu_kl(X, W, H, max_iter, tol, reg, sc):
    """Generalised KL MU: blocks of compiled iterations between the recorded iterations."""
    l1W, l1H, l2W, l2H, eps = sc
    dt = X.dtype
    n, p = X.shape
    k = W.shape[1]
    fused = _kl_fused(n, p, k, dt.itemsize)
    numW = np.empty((n, k), dtype=dt)
    numH = np.empty((k, p), dtype=dt)
    B = np.empty((0, 0) if fused else (n, p), dtype=dt)
    L = np.empty((n, p), dtype=dt)  # ratios for the log term at the recorded iterations
    sx = _sum64(X[X > eps])
    floor_h = dt.type(_EPS64)
    sums = (_sum64(W), _sum64(W * W), _sum64(H), _sum64(H * H))
    history, hist_iter = [], []
    e0 = e_prev = None
    # the W numerator pass of the current state also gives its objective (through L); the
    # objective (its log term costs about a third of an iteration) is evaluated where it is
    # used: the start, every 10 iterations (stopping rule) and the last iteration
    _nmf_mu.kl_num_w(X, W, H, eps, numW, L, B, fused)
    done = 0
    while True:
        sum_wh = float(np.dot(W.sum(axis=0, dtype=np.float64), H.sum(axis=1, dtype=np.float64)))
        loss = _kl_log_term(X, L) - sx + sum_wh
        history.append(loss + _penalty(*sums, reg))
        hist_iter.append(done)
        if done == 0:
            e0 = e_prev = _error(loss)
        elif tol > 0 and done % 10 == 0:
            e = _error(loss)
            if e0 == 0 or (e_prev - e) / e0 < tol:
                break
            e_prev = e
        if done == max_iter:
            break
        nxt = min(done + 10 - done % 10, max_iter)
        sums = _nmf_mu.kl_steps(
            X, W, H, (l1W, l1H, l2W, l2H), eps, floor_h, nxt - done, fused, numW, numH, B, L
        )
        done = nxt
    return W, H, done, np.asarray(history), np.asarray(hist_iter, dtype=np.intp)


def _mu_frobenius(X, W, Ht, max_iter, tol, reg, sc):
    l1W, l1H, l2W, l2H, eps = sc
    dt = X.dtype
    x2 = _sum64(np.square(X, dtype=np.float64)) if dt == np.float32 else float(np.vdot(X, X))
    H = np.ascontiguousarray(Ht.T)
    HHt = Ht.T @ Ht
    WtW64 = W.T.astype(np.float64) @ W
    cross0 = float(np.vdot((X @ Ht).astype(np.float64), W))
    loss = 0.5 * (x2 - 2 * cross0 + float(np.vdot(WtW64, HHt.astype(np.float64))))
    pen = _penalty(_sum64(W), _sum64(W * W), _sum64(Ht), _sum64(Ht * Ht), reg)
    hist = np.empty(max_iter + 1)
    hist[0] = loss
    fused = _fro_fused(X.shape[0], X.shape[1], W.shape[1], X.itemsize)
    n_iter = _nmf_mu.fro_loop(
        X, W, H, (l1W, l1H, l2W, l2H), eps, x2, int(max_iter), float(tol), hist, fused
    )
    hist[0] = loss + pen
    return W, H, n_iter, hist[: n_iter + 1].copy(), np.arange(n_iter + 1)


def _mu_masked(X, W, Ht, beta_loss, max_iter, tol, reg, M):
    dt = X.dtype
    l1W, l1H, l2W, l2H = (dt.type(r) for r in reg)
    eps = dt.type(EPSILON)
    zero = dt.type(0.0)
    floor_h = dt.type(_EPS64) if beta_loss != "frobenius" else zero
    n, p = X.shape
    B = np.empty((n, p), dtype=dt)
    fro = beta_loss == "frobenius"
    MX = M * X if fro else None
    history, hist_iter = [], []
    e0 = e_prev = None
    sW1, sW2 = _sum64(W), _sum64(W * W)
    sH1, sH2 = _sum64(Ht), _sum64(Ht * Ht)
    n_iter = 0
    for it in range(1, max_iter + 2):
        done = it - 1
        # Frobenius: the objective is free, recorded every iteration; KL: its log term is
        # evaluated only at the start, every 10 iterations (stopping rule) and the last
        record = fro or done % 10 == 0 or done == max_iter
        np.matmul(W, Ht.T, out=B)
        if fro:
            loss = 0.5 * _nmf_mu.masked_fro_pass(X, M, B)
        else:
            loss = _nmf_mu.masked_kl_pass(X, M, B, eps, record)
        if record:
            history.append(loss + _penalty(sW1, sW2, sH1, sH2, reg))
            hist_iter.append(done)
            if tol > 0 and done > 0 and done % 10 == 0:
                e = _error(loss)
                if e0 == 0 or (e_prev - e) / e0 < tol:
                    break
                e_prev = e
            if done == 0:
                e0 = e_prev = _error(loss)
        if it == max_iter + 1:
            break
        n_iter = it
        if fro:
            num, den = MX @ Ht, B @ Ht
        else:
            num, den = B @ Ht, M @ Ht
        sW1, sW2 = _nmf_mu.div_factor(W, num, den, l1W, l2W, eps, zero)
        np.matmul(W, Ht.T, out=B)
        if fro:
            _nmf_mu.masked_fro_pass(X, M, B)
            num, den = MX.T @ W, B.T @ W
        else:
            _nmf_mu.masked_kl_pass(X, M, B, eps, False)
            num, den = B.T @ W, M.T @ W
        sH1, sH2 = _nmf_mu.div_factor(Ht, num, den, l1H, l2H, eps, floor_h)
    return (
        W,
        np.ascontiguousarray(Ht.T),
        n_iter,
        np.asarray(history),
        np.asarray(hist_iter, dtype=np.intp),
    )


#: accelerated HALS shrinks the projected-gradient violation faster, per unit of objective
#: decrease, than scikit-learn's one-sweep HALS; the violation rule is therefore applied with
#: ``tol * CD_TOL_SCALE`` so that the same ``tol`` stops at an objective no worse than
#: scikit-learn's (tested on low-rank + noise problems)
CD_TOL_SCALE = 0.1


def _max_sweeps(rows, other, k, alpha=0.1):
    """Gillis & Glineur (2012): 1 + α·ρ inner sweeps, ρ = 1 + (cost of the products) / (cost
    of one sweep) = 1 + (rows·other + other·k) / (rows·(k + 1)). Their α = 0.5 counts flops;
    a compiled sweep runs at a lower flop rate than BLAS, and α = 0.1 was faster in
    ``benchmarks/compare_nmf.py`` (b). Re-measured with the vectorised transposed sweeps
    (4x faster): α from 0.05 to 2 changes the time to sklearn's objective by less than 10%
    at 500 x 200 k = 10 and 2000 x 300 k = 5 (the inner stopping rule ends the sweeps)."""
    rho = 1.0 + (rows * other + other * k) / (rows * (k + 1.0))
    return int(min(max(1.0 + alpha * rho, 1.0), 100.0))


def _cd_block(n, p, itemsize):
    """Rows of X per block of the CD W half-step: all of X when it fits in L2; else blocks of
    about a quarter of L2 (a multiple of 8 rows), read once per iteration by both products
    (X_b Hᵀ and W_bᵀ X_b: BLAS on a block in L2 instead of two passes over X from L3/memory;
    2000 x 300 k = 5: 1.6x faster per iteration)."""
    if n * p * itemsize <= _FUSED_MIN_BYTES:
        return n
    rows = (_FUSED_MIN_BYTES // 4) // (p * itemsize)
    return int(max(8, rows // 8 * 8))


def fit_coordinate_descent(
    X, W, H, *, max_iter=200, tol=1e-4, reg=(0.0, 0.0, 0.0, 0.0), inner_tol=0.1, accelerate=True
):
    """Frobenius NMF by accelerated HALS (coordinate descent).

    Each outer iteration forms X Hᵀ and H Hᵀ (BLAS), then runs up to 1 + ½ρ column sweeps
    of W with these fixed products (Gillis & Glineur 2012; ``accelerate=False`` gives one
    sweep, i.e. scikit-learn's / Cichocki & Phan's HALS), stopping the inner loop when a sweep
    moves W by less than ``inner_tol`` times the first; then the same for H. Each sweep is the
    exact coordinate minimisation of Hsieh & Dhillon (2011) with the L1/L2 penalties.
    Convergence: scikit-learn's rule, violation / violation_1 <= tol · CD_TOL_SCALE (0.1, see
    :data:`CD_TOL_SCALE`), the violation (sum of |projected gradient|) measured by the first
    sweep of each half-step.

    Parameters and returns as :func:`fit_multiplicative_update` (Frobenius only, no mask;
    the objective after every iteration).
    """
    dt = X.dtype
    n, p = X.shape
    k = W.shape[1]
    W = np.array(W, dtype=dt, order="C", copy=True)
    Ht = np.array(H.T, dtype=dt, order="C", copy=True)
    l1W, l1H, l2W, l2H = (dt.type(r) for r in reg)
    it_W = _max_sweeps(n, p, k) if accelerate else 1
    it_H = _max_sweeps(p, n, k) if accelerate else 1
    itol = float(inner_tol)
    x2 = _sum64(np.square(X, dtype=np.float64)) if dt == np.float32 else float(np.vdot(X, X))
    HHt = Ht.T @ Ht
    cross0 = float(np.vdot((X @ Ht).astype(np.float64), W))
    loss0 = max(0.5 * (x2 - 2 * cross0 + float(np.vdot((W.T @ W).astype(np.float64), HHt))), 0.0)
    history = [loss0 + _penalty(_sum64(W), _sum64(W * W), _sum64(Ht), _sum64(Ht * Ht), reg)]
    hist = np.empty(max_iter + 1)
    hist[0] = history[0]
    n_iter = _nmf_cd.cd_loop(
        X,
        W,
        Ht,
        (l1W, l1H, l2W, l2H),
        x2,
        int(max_iter),
        float(tol) * CD_TOL_SCALE,
        (it_W, it_H),
        itol,
        hist,
        _cd_block(n, p, dt.itemsize),
    )
    history = hist[: n_iter + 1].copy()
    return W, np.ascontiguousarray(Ht.T), n_iter, history, np.arange(n_iter + 1)


def kl_exposures(X, H, *, max_iter=200, tol=1e-4, l1=0.0, l2=0.0, W=None):
    """W minimising KL(X | W H) + l1·ΣW + ½·l2·‖W‖² with H fixed, by multiplicative updates.

    The KL counterpart of the exact NNLS exposures (there is no closed-form active set for
    KL). Starts from sqrt(mean(X) / k) (scikit-learn's start for ``transform``) unless ``W``
    is given; scikit-learn's stopping rule every 10 iterations.

    Returns
    -------
    W : ndarray (n, k) of X's dtype; n_iter : int
    """
    dt = X.dtype
    n, p = X.shape
    k = H.shape[0]
    if W is None:
        W = np.full((n, k), np.sqrt(X.mean() / k), dtype=dt)
    W = np.array(W, dtype=dt, order="C", copy=True)
    Ht = np.ascontiguousarray(H.T, dtype=dt)
    eps = dt.type(EPSILON)
    H = np.ascontiguousarray(Ht.T)
    L = np.empty((n, p) if tol > 0 else (0, 0), dtype=dt)
    no_L = np.empty((0, 0), dtype=dt)
    num = np.empty((n, k), dtype=dt)
    sx = _sum64(X[X > eps])
    den = Ht.sum(axis=0)[None, :]
    hsum = Ht.sum(axis=0, dtype=np.float64)
    e0 = e_prev = None
    n_iter = 0
    for it in range(1, max_iter + 2):
        done = it - 1
        check = tol > 0 and done % 10 == 0  # the log term only where the stopping rule needs it
        _nmf_mu.kl_w_pass(X, W, H, eps, num, L if check else no_L)
        if check:
            lg = _kl_log_term(X, L)
            e = _error(lg - sx + float(np.dot(W.sum(axis=0, dtype=np.float64), hsum)))
            if done == 0:
                e0 = e_prev = e
            elif done % 10 == 0:
                if e0 == 0 or (e_prev - e) / e0 < tol:
                    break
                e_prev = e
        if it == max_iter + 1:
            break
        n_iter = it
        _nmf_mu.div_factor(W, num, den, dt.type(l1), dt.type(l2), eps, dt.type(0.0))
    return W, n_iter
