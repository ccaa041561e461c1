"""Fused multiplicative-update passes of plain NMF (Lee & Seung 2001), Numba, nogil.

The products with X (or with the ratio X / WH) are done by BLAS in the caller; these kernels
do the element-wise work around them in one pass each.

Layout: both factors are handled as "row factors" F of shape (m, k) (W itself, and Hᵀ), so one
kernel serves the W and the H half-steps. The arithmetic reproduces scikit-learn's update
order: ``F <- F * (num / den)`` with ``den = (F·G + l1) + l2·F`` and ``den == 0 -> eps``.
Sums that feed the objective accumulate in float64 whatever the input dtype.
Every kernel has a NumPy twin in ``desurv._reference.nmf_mu``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath=False)
# reductions vectorise only when LLVM may reassociate the sums
_OPTS_SUM = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"})


@njit(**_OPTS_SUM)
def fro_factor(F, num, G, l1, l2, eps):  # pragma: no cover - compiled
    """Frobenius MU of a row factor, in place: F <- F * num / ((F G + l1) + l2 F).

    F, num : (m, k) C-contiguous; G : (k, k) Gram matrix of the other factor (F's dtype).
    F G and the new FᵀF are BLAS products; the ratio, the ``den == 0 -> eps`` rule, the
    penalties and the sums are one fused pass. Returns (FtF, cross, s1, s2): FtF = FᵀF of
    the new F (k, k, float64), cross = <num, F_new> (with num = X Hᵀ the cross term of
    ½‖X - WH‖² at the new point), s1 = sum(F_new), s2 = sum(F_new²) (float64 sums).
    """
    m, k = F.shape
    D = np.dot(F, G)
    Ff = F.reshape(m * k)
    Df = D.reshape(m * k)
    Nf = num.reshape(m * k)
    cross = 0.0
    s1 = 0.0
    s2 = 0.0
    for t in range(m * k):
        x = Ff[t]
        d = (Df[t] + l1) + l2 * x
        if d == 0:
            d = eps
        v = x * (Nf[t] / d)
        Ff[t] = v
        cross += np.float64(Nf[t]) * v
        s1 += v
        s2 += np.float64(v) * v
    FtF = np.dot(F.T, F).astype(np.float64)
    return FtF, cross, s1, s2


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
def masked_kl_pass(X, M, B, eps):  # pragma: no cover - compiled
    """In place B <- M * X / max(B, eps) (B holds WH on entry).

    Returns the weighted generalised KL divergence
    sum M (x log(x / max(WH, eps)) [x > eps] - x + WH) in float64.
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
            if m != 0:
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
def fro_loop(X, W, Ht, reg, eps, x2, max_iter, tol, hist):  # pragma: no cover - compiled
    """The whole Frobenius MU loop, compiled (no Python overhead per iteration).

    X : (n, p); W : (n, k) and Ht : (p, k) updated in place (X's dtype); reg = (l1_W, l1_H,
    l2_W, l2_H) in X's dtype; x2 = ‖X‖² (float64); hist : float64 (max_iter + 1,) receives
    the objective after each iteration at hist[1:] (hist[0] is the caller's). Products with
    X are BLAS calls (``np.dot``); each half-step is :func:`fro_factor`. Stops by
    scikit-learn's rule (every 10 iterations, relative decrease of sqrt(2 D) below tol).
    Returns the number of iterations done.
    """
    l1W, l1H, l2W, l2H = reg
    XT = X.T
    HHt = np.dot(Ht.T, Ht)
    d0 = 0.5 * x2
    if hist.shape[0] > 0:
        # hist[0] holds the initial data term on entry (overwritten by the objective below)
        d0 = hist[0]
    e0 = np.sqrt(2.0 * max(d0, 0.0))
    e_prev = e0
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        num = np.dot(X, Ht)
        WtW, _, sW1, sW2 = fro_factor(W, num, HHt, l1W, l2W, eps)
        num2 = np.dot(XT, W)
        HHt64, cross, sH1, sH2 = fro_factor(Ht, num2, WtW.astype(X.dtype), l1H, l2H, eps)
        HHt = HHt64.astype(X.dtype)
        quad = 0.0
        k = WtW.shape[0]
        for f in range(k):
            for g in range(k):
                quad += WtW[f, g] * HHt64[f, g]
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
