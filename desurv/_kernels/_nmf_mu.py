"""Fused multiplicative-update passes of plain NMF (Lee & Seung 2001), Numba, nogil.

Frobenius: :func:`fro_step` is a whole iteration, either streaming X once through fused
compiled loops (X larger than L2) or with two BLAS products. KL: the fused passes form WH row
by row and never store it. The masked variants do the element-wise work around BLAS products.

Layout: both factors are handled as "row factors" F of shape (m, k) (W itself, and Hᵀ), so one
kernel serves the W and the H half-steps. The arithmetic reproduces scikit-learn's update
order: ``F <- F * (num / den)`` with ``den = (F·G + l1) + l2·F`` and ``den == 0 -> eps``.
Sums that feed the objective accumulate in float64 whatever the input dtype.
Every kernel has a NumPy twin in ``desurv._reference.nmf_mu``.
"""

import numpy as np
from numba import njit

# error_model="numpy": a division does not test its divisor for zero (Python's
# ZeroDivisionError check keeps every loop with a division scalar); every divisor here is
# guarded (den == 0 -> eps, max(WH, eps)), so the results are unchanged
_OPTS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
# reductions vectorise only when LLVM may reassociate the sums
_OPTS_SUM = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")


@njit(**_OPTS)
def div_factor(F, num, den, l1, l2, eps, floor):  # pragma: no cover - compiled
    """Generic MU of a row factor, in place: F <- F * num / ((den + l1) + l2 F).

    F, num : (m, k); den : (m, k) or (1, k) (broadcast over rows, e.g. the column sums of
    the other factor for the KL loss). ``den == 0`` becomes eps; with ``floor > 0`` entries
    below ``floor`` are set to 0 afterwards (scikit-learn's KL rule for H).
    Returns (s1, s2) = (sum(F_new), sum(F_new²)) in float64.
    """
    m, k = F.shape
    bcast = den.shape[0] == 1
    s1 = 0.0
    s2 = 0.0
    for i in range(m):
        r = 0 if bcast else i
        for f in range(k):
            x = F[i, f]
            d = (den[r, f] + l1) + l2 * x
            if d == 0:
                d = eps
            v = x * (num[i, f] / d)
            if v < floor:
                v = 0.0
            F[i, f] = v
            s1 += v
            s2 += v * v
    return s1, s2


@njit(**_OPTS)
def kl_ratio(X, B, eps, want_loss):  # pragma: no cover - compiled
    """In place B <- X / max(B, eps) (B holds WH on entry); optionally the KL log term.

    X, B : (n, p) of the same dtype. Returns (sum_{x > eps} x·log(x / max(WH, eps)),
    sum_{x > eps} x) in float64 when ``want_loss`` (else (0, 0)): with sum(WH) these give
    scikit-learn's generalised KL divergence.
    """
    n, p = X.shape
    lg = 0.0
    sx = 0.0
    for i in range(n):
        # branch-free ratio loop (vectorises); the logs only when the loss is wanted
        for j in range(p):
            wh = B[i, j]
            B[i, j] = X[i, j] / (wh if wh >= eps else eps)
        if want_loss:
            for j in range(p):
                x = X[i, j]
                if x > eps:
                    lg += np.float64(x) * np.log(np.float64(B[i, j]))
                    sx += x
    return lg, sx


@njit(**_OPTS)
def masked_fro_pass(X, M, B):  # pragma: no cover - compiled
    """In place B <- M * B (B holds WH on entry). Returns sum M (X - WH)² in float64.

    X, M, B : (n, p). The weighted Frobenius MU then reads num = (M X) Hᵀ, den = B Hᵀ.
    """
    n, p = X.shape
    loss = 0.0
    for i in range(n):
        for j in range(p):
            m = M[i, j]
            wh = B[i, j]
            r = np.float64(X[i, j]) - wh
            loss += m * r * r
            B[i, j] = m * wh
    return loss


@njit(**_OPTS)
def masked_kl_pass(X, M, B, eps, want_loss):  # pragma: no cover - compiled
    """In place B <- M * X / max(B, eps) (B holds WH on entry).

    Returns the weighted generalised KL divergence
    sum M (x log(x / max(WH, eps)) [x > eps] - x + WH) in float64 when ``want_loss`` (the
    logs cost about as much as the rest of the pass), else 0.
    """
    n, p = X.shape
    loss = 0.0
    for i in range(n):
        for j in range(p):
            m = M[i, j]
            x = X[i, j]
            wh = B[i, j]
            whs = wh if wh >= eps else eps
            r = x / whs
            if want_loss and m != 0:
                t = np.float64(wh) - x
                if x > eps:
                    t += np.float64(x) * np.log(np.float64(r))
                loss += m * t
            B[i, j] = m * r
    return loss


@njit(**_OPTS_SUM)
def kl_w_pass(X, W, H, eps, num, L):  # pragma: no cover - compiled
    """Fused KL numerator of the W update: num = (X / max(WH, eps)) Hᵀ, WH never stored.

    X : (n, p); W : (n, k); H : (k, p) (rows contiguous); num : (n, k) output.
    Row by row: WH[i] and the ratio are formed in a p-vector, then reduced against H.
    L : (n, p) or (0, 0). When given it receives the ratio where x > eps and 1 elsewhere,
    so that sum(X · log L) (taken by the caller with NumPy's SIMD log) is the
    sum_{x > eps} x·log(x / max(WH, eps)) term of the KL divergence of the current (W, H).
    """
    n, p = X.shape
    k = W.shape[1]
    r = np.empty(p, dtype=X.dtype)
    want = L.shape[0] > 0
    for i in range(n):
        w0 = W[i, 0]
        for j in range(p):
            r[j] = w0 * H[0, j]
        for f in range(1, k):
            wf = W[i, f]
            for j in range(p):
                r[j] += wf * H[f, j]
        for j in range(p):
            wh = r[j]
            r[j] = X[i, j] / (wh if wh >= eps else eps)
        if want:
            for j in range(p):
                L[i, j] = r[j] if X[i, j] > eps else 1.0
        for f in range(k):
            s = 0.0
            for j in range(p):
                s += r[j] * H[f, j]
            num[i, f] = s


@njit(**_OPTS_SUM)
def kl_h_pass(X, W, H, eps, num):  # pragma: no cover - compiled
    """Fused KL numerator of the H update, no n x p temporary: num = Wᵀ (X / max(WH, eps)).

    X : (n, p); W : (n, k); H : (k, p); num : (k, p) output (overwritten).
    """
    n, p = X.shape
    k = W.shape[1]
    r = np.empty(p, dtype=X.dtype)
    for f in range(k):
        for j in range(p):
            num[f, j] = 0.0
    for i in range(n):
        w0 = W[i, 0]
        for j in range(p):
            r[j] = w0 * H[0, j]
        for f in range(1, k):
            wf = W[i, f]
            for j in range(p):
                r[j] += wf * H[f, j]
        for j in range(p):
            wh = r[j]
            r[j] = X[i, j] / (wh if wh >= eps else eps)
        for f in range(k):
            wf = W[i, f]
            for j in range(p):
                num[f, j] += wf * r[j]


@njit(**_OPTS)
def kl_ratio_fill(X, B, eps, L):  # pragma: no cover - compiled
    """In place B <- X / max(B, eps) (B holds WH on entry); L as in :func:`kl_w_pass`.

    X, B : (n, p). L : (n, p) or (0, 0); when given it receives the ratio where x > eps and 1
    elsewhere (sum(X · log L) is the log term of the KL divergence).
    """
    n, p = X.shape
    want = L.shape[0] > 0
    for i in range(n):
        for j in range(p):
            wh = B[i, j]
            B[i, j] = X[i, j] / (wh if wh >= eps else eps)
        if want:
            for j in range(p):
                L[i, j] = B[i, j] if X[i, j] > eps else 1.0


@njit(**_OPTS)
def kl_num_w(X, W, H, eps, numW, L, B, fused):  # pragma: no cover - compiled
    """KL numerator of the W update, numW = (X / max(WH, eps)) Hᵀ, L as in :func:`kl_w_pass`.

    ``fused``: :func:`kl_w_pass` (WH formed row by row, never stored); else with BLAS:
    B = W H, the ratio in place (:func:`kl_ratio_fill`), numW = B Hᵀ. B : (n, p) work array
    (unused when fused). On exit (not fused) B holds the ratio.
    """
    if fused:
        kl_w_pass(X, W, H, eps, numW, L)
    else:
        np.dot(W, H, B)
        kl_ratio_fill(X, B, eps, L)
        np.dot(B, H.T, numW)


@njit(**_OPTS)
def kl_steps(X, W, H, reg, eps, floor, n_steps, fused, numW, numH, B, L):  # pragma: no cover
    """``n_steps`` KL MU iterations in place (scikit-learn's order), compiled.

    X : (n, p); W : (n, k); H : (k, p), C-contiguous, X's dtype; reg = (l1_W, l1_H, l2_W,
    l2_H); floor: H entries below it are set to 0 (scikit-learn: float64 eps). On entry numW
    holds the W numerator of the current (W, H) (:func:`kl_num_w`); on exit that of the new
    (W, H), and L (as in :func:`kl_w_pass`, when given) the ratios of the new (W, H), so the
    caller evaluates the objective of the state it receives without another pass.
    Each iteration: W <- W ⊙ numW / ((1 Hᵀ + l1) + l2 W); numH = Wᵀ (X / max(WH, eps));
    H <- H ⊙ numH / ((Wᵀ 1 + l1) + l2 H) (zero column sums of W replaced by 1), floored.
    ``fused``: the ratio passes stream X once without storing WH (:func:`kl_w_pass`,
    :func:`kl_h_pass`); else the three products are BLAS calls through B (n, p).
    Returns (sum W, sum W², sum H, sum H²) of the new factors in float64.
    """
    n, p = X.shape
    k = W.shape[1]
    l1W, l1H, l2W, l2H = reg
    den = np.empty((1, k), dtype=X.dtype)
    no_L = L[:0, :0]
    sW1 = sW2 = sH1 = sH2 = 0.0
    for s in range(n_steps):
        for f in range(k):
            den[0, f] = 0.0
            for j in range(p):
                den[0, f] += H[f, j]
        sW1, sW2 = div_factor(W, numW, den, l1W, l2W, eps, 0.0)
        if fused:
            kl_h_pass(X, W, H, eps, numH)
        else:
            np.dot(W, H, B)
            kl_ratio_fill(X, B, eps, no_L)
            np.dot(W.T, B, numH)
        for f in range(k):
            den[0, f] = 0.0
        for i in range(n):
            for f in range(k):
                den[0, f] += W[i, f]
        for f in range(k):
            if den[0, f] == 0:
                den[0, f] = 1.0
        sH1, sH2 = div_factor(H.T, numH.T, den, l1H, l2H, eps, floor)
        kl_num_w(X, W, H, eps, numW, L if s == n_steps - 1 else no_L, B, fused)
    return sW1, sW2, sH1, sH2


@njit(**_OPTS_SUM)
def _fro_w_rows(W, i0, nr, NB, HHt, l1, l2, eps, dens):  # pragma: no cover - compiled
    """Frobenius MU of rows i0 .. i0+nr-1 of W from their numerators NB[:nr] (float64).

    den = (W HHᵀ + l1) + l2 W with the old row (scikit-learn's order), den == 0 -> eps.
    Returns (sum W_new, sum W_new²) of these rows in float64.
    """
    k = W.shape[1]
    s1 = 0.0
    s2 = 0.0
    for r in range(nr):
        i = i0 + r
        # W HHᵀ of the old row, vectorised over f (independent sums)
        for f in range(k):
            dens[f] = 0.0
        for g in range(k):
            wg = np.float64(W[i, g])
            for f in range(k):
                dens[f] += wg * HHt[g, f]
        for f in range(k):
            x = W[i, f]
            d = (dens[f] + l1) + l2 * x
            if d == 0:
                d = eps
            v = x * (NB[r, f] / d)
            W[i, f] = v
            v64 = np.float64(W[i, f])
            s1 += v64
            s2 += v64 * v64
    return s1, s2


@njit(**_OPTS_SUM)
def fro_step(X, W, H, HHt, reg, eps, numH, WtW, D, fused):  # pragma: no cover - compiled
    """One Frobenius MU iteration in place: W, then H with the new W (scikit-learn's order).

    X : (n, p); W : (n, k); H : (k, p), all C-contiguous and of X's dtype; reg = (l1_W,
    l1_H, l2_W, l2_H); HHt : (k, k) float64, HHᵀ of the current H on entry, of the new H on
    exit. numH, D : (k, p) and WtW : (k, k) float64 work arrays; on exit numH = WᵀX and
    WtW = WᵀW of the new W, D = WᵀW H of the old H.

    ``fused=True`` streams X once: blocks of four rows of X stay in L1 while their
    numerators X Hᵀ are formed (four rows share every load of H, three rows of H share
    every load of X: twelve independent sums), the four rows of W are updated
    (``W * XHᵀ / ((W HHᵀ + l1) + l2 W)``, ``den == 0 -> eps``) and the block's share of
    WᵀX and WᵀW is accumulated, so the H half-step needs no second pass over X.
    ``fused=False`` does the two products with BLAS (``np.dot``), faster when X fits in the
    L2 cache and k >= 6 (BLAS then runs near peak, while the fused loops are limited to
    256-bit vectors; for smaller k BLAS's skinny products are slower, see
    ``_solvers._fro_fused``). The two differ by summation order only.
    Returns (cross, quad, sW1, sW2, sH1, sH2) in float64: cross = <WᵀX, H_new>, quad =
    <WᵀW, H_new H_newᵀ> (½‖X - WH‖² = ½(‖X‖² - 2 cross + quad)), and the sums and sums of
    squares of the new W and H.
    """
    n, p = X.shape
    k = W.shape[1]
    l1W, l1H, l2W, l2H = reg
    dens = np.empty(k)
    if not fused:
        num = np.dot(X, H.T)
        sW1, sW2 = _fro_w_rows(W, 0, n, num, HHt, l1W, l2W, eps, dens)
        numH[:, :] = np.dot(W.T, X)
        WtW[:, :] = np.dot(W.T, W)
        n = 0  # skip the fused pass
    else:
        numH[:, :] = 0.0
        WtW[:, :] = 0.0
        sW1 = 0.0
        sW2 = 0.0
    NB = np.empty((4, k))
    i = 0
    while i < n:
        nr = min(4, n - i)
        if nr == 4:
            # three rows of H x four rows of X: twelve independent sums, 7 loads per 12 FMAs
            # (k = 3 in one sweep of the block; measured 1.2-1.8x faster than two by two)
            f = 0
            while f + 3 <= k:
                s0 = 0.0
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                t0 = 0.0
                t1 = 0.0
                t2 = 0.0
                t3 = 0.0
                u0 = 0.0
                u1 = 0.0
                u2 = 0.0
                u3 = 0.0
                for j in range(p):
                    h = H[f, j]
                    g = H[f + 1, j]
                    e = H[f + 2, j]
                    x0 = X[i, j]
                    x1 = X[i + 1, j]
                    x2 = X[i + 2, j]
                    x3 = X[i + 3, j]
                    s0 += x0 * h
                    s1 += x1 * h
                    s2 += x2 * h
                    s3 += x3 * h
                    t0 += x0 * g
                    t1 += x1 * g
                    t2 += x2 * g
                    t3 += x3 * g
                    u0 += x0 * e
                    u1 += x1 * e
                    u2 += x2 * e
                    u3 += x3 * e
                NB[0, f] = s0
                NB[1, f] = s1
                NB[2, f] = s2
                NB[3, f] = s3
                NB[0, f + 1] = t0
                NB[1, f + 1] = t1
                NB[2, f + 1] = t2
                NB[3, f + 1] = t3
                NB[0, f + 2] = u0
                NB[1, f + 2] = u1
                NB[2, f + 2] = u2
                NB[3, f + 2] = u3
                f += 3
            if f + 2 <= k:
                s0 = 0.0
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                t0 = 0.0
                t1 = 0.0
                t2 = 0.0
                t3 = 0.0
                for j in range(p):
                    h = H[f, j]
                    g = H[f + 1, j]
                    x0 = X[i, j]
                    x1 = X[i + 1, j]
                    x2 = X[i + 2, j]
                    x3 = X[i + 3, j]
                    s0 += x0 * h
                    s1 += x1 * h
                    s2 += x2 * h
                    s3 += x3 * h
                    t0 += x0 * g
                    t1 += x1 * g
                    t2 += x2 * g
                    t3 += x3 * g
                NB[0, f] = s0
                NB[1, f] = s1
                NB[2, f] = s2
                NB[3, f] = s3
                NB[0, f + 1] = t0
                NB[1, f + 1] = t1
                NB[2, f + 1] = t2
                NB[3, f + 1] = t3
                f += 2
            if f < k:
                s0 = 0.0
                s1 = 0.0
                s2 = 0.0
                s3 = 0.0
                for j in range(p):
                    h = H[f, j]
                    s0 += X[i, j] * h
                    s1 += X[i + 1, j] * h
                    s2 += X[i + 2, j] * h
                    s3 += X[i + 3, j] * h
                NB[0, f] = s0
                NB[1, f] = s1
                NB[2, f] = s2
                NB[3, f] = s3
        else:
            for r in range(nr):
                for f in range(k):
                    s = 0.0
                    for j in range(p):
                        s += X[i + r, j] * H[f, j]
                    NB[r, f] = s
        a, b = _fro_w_rows(W, i, nr, NB, HHt, l1W, l2W, eps, dens)
        sW1 += a
        sW2 += b
        if nr == 4:
            f = 0
            while f + 2 <= k:
                w0 = np.float64(W[i, f])
                w1 = np.float64(W[i + 1, f])
                w2 = np.float64(W[i + 2, f])
                w3 = np.float64(W[i + 3, f])
                v0 = np.float64(W[i, f + 1])
                v1 = np.float64(W[i + 1, f + 1])
                v2 = np.float64(W[i + 2, f + 1])
                v3 = np.float64(W[i + 3, f + 1])
                for j in range(p):
                    x0 = X[i, j]
                    x1 = X[i + 1, j]
                    x2 = X[i + 2, j]
                    x3 = X[i + 3, j]
                    numH[f, j] += w0 * x0 + w1 * x1 + w2 * x2 + w3 * x3
                    numH[f + 1, j] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3
                f += 2
            if f < k:
                w0 = np.float64(W[i, f])
                w1 = np.float64(W[i + 1, f])
                w2 = np.float64(W[i + 2, f])
                w3 = np.float64(W[i + 3, f])
                for j in range(p):
                    numH[f, j] += (
                        w0 * X[i, j] + w1 * X[i + 1, j] + w2 * X[i + 2, j] + w3 * X[i + 3, j]
                    )
        else:
            for r in range(nr):
                for f in range(k):
                    w = np.float64(W[i + r, f])
                    for j in range(p):
                        numH[f, j] += w * X[i + r, j]
        for r in range(nr):
            for f in range(k):
                wf = np.float64(W[i + r, f])
                for g in range(k):
                    WtW[f, g] += wf * W[i + r, g]
        i += nr
    # H half-step: den = (WᵀW H + l1) + l2 H with the old H (D holds WᵀW H), vectorised
    # along the rows of H
    for f in range(k):
        for j in range(p):
            D[f, j] = 0.0
        for g in range(k):
            c = WtW[f, g]
            for j in range(p):
                D[f, j] += c * H[g, j]
    sH1 = 0.0
    sH2 = 0.0
    cross = 0.0
    for f in range(k):
        for j in range(p):
            x = H[f, j]
            d = (D[f, j] + l1H) + l2H * x
            if d == 0:
                d = eps
            H[f, j] = x * (numH[f, j] / d)
            v = np.float64(H[f, j])
            sH1 += v
            sH2 += v * v
            cross += numH[f, j] * v
    quad = 0.0
    for f in range(k):
        for g in range(f, k):
            s = 0.0
            for j in range(p):
                s += np.float64(H[f, j]) * H[g, j]
            HHt[f, g] = s
            HHt[g, f] = s
            quad += (WtW[f, g] * s) if f == g else 2.0 * WtW[f, g] * s
    return cross, quad, sW1, sW2, sH1, sH2


@njit(**_OPTS)
def fro_loop(X, W, H, reg, eps, x2, max_iter, tol, hist, fused):  # pragma: no cover - compiled
    """The whole Frobenius MU loop, compiled (no Python overhead per iteration).

    X : (n, p); W : (n, k) and H : (k, p) updated in place (X's dtype, C-contiguous);
    reg = (l1_W, l1_H, l2_W, l2_H) in X's dtype; x2 = ‖X‖² (float64); hist : float64
    (max_iter + 1,), hist[0] the initial data term on entry; receives the objective after
    each iteration at hist[1:]. Each iteration is one :func:`fro_step` (``fused``: X
    streamed once by the compiled loops, else two BLAS products).
    Stops by scikit-learn's rule (every 10 iterations, relative decrease of sqrt(2 D) below
    tol). Returns the number of iterations done.
    """
    k, p = H.shape
    l1W, l1H, l2W, l2H = reg
    HHt = np.empty((k, k))
    for f in range(k):
        for g in range(k):
            s = 0.0
            for j in range(p):
                s += np.float64(H[f, j]) * H[g, j]
            HHt[f, g] = s
    numH = np.empty((k, p))
    D = np.empty((k, p))
    WtW = np.empty((k, k))
    e0 = np.sqrt(2.0 * max(hist[0], 0.0))
    e_prev = e0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        cross, quad, sW1, sW2, sH1, sH2 = fro_step(X, W, H, HHt, reg, eps, numH, WtW, D, fused)
        loss = 0.5 * (x2 - 2.0 * cross + quad)
        if loss < 0.0:
            loss = 0.0
        pen = l1W * sW1 + 0.5 * l2W * sW2 + l1H * sH1 + 0.5 * l2H * sH2
        hist[it] = loss + pen
        if tol > 0 and it % 10 == 0:
            e = np.sqrt(2.0 * loss)
            if e0 == 0 or (e_prev - e) / e0 < tol:
                break
            e_prev = e
    return n_iter
