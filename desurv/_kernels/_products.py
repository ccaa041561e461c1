"""The two products with X of a DeSurv iteration, for a small number of factors (Numba).

An iteration needs X·[Hᵀ | g] and XᵀV (V = W ⊙ R) for k of 2–16. The solver keeps W-shaped
arrays transposed, (k, p), so that its element-wise passes run along contiguous genes; the
kernels take and return that layout.

For such skinny operands OpenBLAS runs far below peak (it blocks for large inner
dimensions). These loops stream X once per product and block for registers:

* X·Mtᵀ (:func:`x_dot`): three rows of X against up to six rows of Mt per sweep along the
  samples, i.e. up to eighteen independent float64 sums per 3 + 6 loads (k = 5, the
  default, needs one sweep: each element of X is loaded, and widened, once);
* XᵀVᵀ (:func:`xt_dot`): four rows of X update up to five rows of a (k, n) accumulator
  per sweep (twenty multiply-adds per 4 + 5 loads and 5 stores; k = 5 in one sweep). The
  widest sweeps keep 20 broadcast factors in registers: sized for the 32 vector registers
  of AVX-512 machines (on AVX2 some are reloaded from L1, which costs little).

The former one-operand-row loops issued 5 loads per 4 multiply-adds and were load-bound
(1.2–1.8x slower, float64 and float32 alike). With a float32 X each element is widened to
float64 in the register it is loaded into (exact), so float32 halves the memory traffic
and nothing else changes: sums always accumulate in float64 (the solver's objective is a
difference of large terms, ‖X‖² − 2⟨Z, H⟩ + ⟨WᵀW, HHᵀ⟩, and would not survive float32
sums). Above the cache this makes a float32 product 1.4–1.7x faster than a float64 one on
one core (see below and ``benchmarks/compare.py`` target 7).
For k ≤ 5 (one sweep) each sweep kernel runs over the whole row range in one call; a call
per block of rows (a dozen exploded array arguments, the loop set-up and its overlap checks)
cost ~20% of xt_dot and ~7% of x_dot at 2,000 × 300. For larger k the sweeps run per block
of rows, so that the block stays in L1 between them. Single-core medians, k = 5, load ~1.3
(the previous per-block calls in brackets): at 2,000 × 300 x_dot 0.21 (0.23) ms float64,
0.17 (0.19) ms float32; xt_dot 0.21 (0.25) / 0.16 (0.20) ms; w_step 0.38 (0.43) / 0.36 (0.41)
ms. At 20,000 × 3,000: x_dot 33 / 22 ms, xt_dot 34 (36) / 20 (22) ms. There X streams
from memory: a float32 x_dot is bound by neither the reads (a plain sum of the float32 X
takes ~16 ms) nor the arithmetic (~16 ms at the in-cache rate) but by their imperfect
overlap. Chunking the samples so that Mt (or acc) stays in L1 across the rows made it 1.3–1.8x
slower there (each row is then read in short pieces that the hardware prefetchers follow
badly; even with X in L2 it gained nothing, Mt streams from L2 at full speed), and neither
software prefetches, 512-bit vectors nor taller register blocks (4 × 6, 8 × 5) helped.
``fastmath`` is limited to reassociation and contraction, so the reductions vectorise (the
summation order differs from a plain loop, like any BLAS) while NaN/inf semantics stay IEEE;
results are deterministic for a given row range.

The ``*_rows`` kernels work on a range of rows of X (genes), so that a caller can split one
product over threads (the kernels release the GIL; see :mod:`desurv._threads`):
:func:`x_dot_rows` writes its columns of the output, :func:`xt_acc_rows` adds its rows'
contribution to a private accumulator.
NumPy twins: ``desurv._reference.products``.
"""

import numpy as np
from numba import njit

_OPTS = dict(cache=True, nogil=True, fastmath={"reassoc", "contract"}, error_model="numpy")


@njit(**_OPTS)
def _x3_6(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+6, o0:o0+i1−i0] ← Mt[f:f+6] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (18 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        s10 = s11 = s12 = 0.0
        s20 = s21 = s22 = 0.0
        s30 = s31 = s32 = 0.0
        s40 = s41 = s42 = 0.0
        s50 = s51 = s52 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
            m1 = Mt[f + 1, j]
            s10 += x0 * m1
            s11 += x1 * m1
            s12 += x2 * m1
            m2 = Mt[f + 2, j]
            s20 += x0 * m2
            s21 += x1 * m2
            s22 += x2 * m2
            m3 = Mt[f + 3, j]
            s30 += x0 * m3
            s31 += x1 * m3
            s32 += x2 * m3
            m4 = Mt[f + 4, j]
            s40 += x0 * m4
            s41 += x1 * m4
            s42 += x2 * m4
            m5 = Mt[f + 5, j]
            s50 += x0 * m5
            s51 += x1 * m5
            s52 += x2 * m5
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02
        out[f + 1, o] = s10
        out[f + 1, o + 1] = s11
        out[f + 1, o + 2] = s12
        out[f + 2, o] = s20
        out[f + 2, o + 1] = s21
        out[f + 2, o + 2] = s22
        out[f + 3, o] = s30
        out[f + 3, o + 1] = s31
        out[f + 3, o + 2] = s32
        out[f + 4, o] = s40
        out[f + 4, o + 1] = s41
        out[f + 4, o + 2] = s42
        out[f + 5, o] = s50
        out[f + 5, o + 1] = s51
        out[f + 5, o + 2] = s52


@njit(**_OPTS)
def _x3_5(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+5, o0:o0+i1−i0] ← Mt[f:f+5] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (15 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        s10 = s11 = s12 = 0.0
        s20 = s21 = s22 = 0.0
        s30 = s31 = s32 = 0.0
        s40 = s41 = s42 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
            m1 = Mt[f + 1, j]
            s10 += x0 * m1
            s11 += x1 * m1
            s12 += x2 * m1
            m2 = Mt[f + 2, j]
            s20 += x0 * m2
            s21 += x1 * m2
            s22 += x2 * m2
            m3 = Mt[f + 3, j]
            s30 += x0 * m3
            s31 += x1 * m3
            s32 += x2 * m3
            m4 = Mt[f + 4, j]
            s40 += x0 * m4
            s41 += x1 * m4
            s42 += x2 * m4
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02
        out[f + 1, o] = s10
        out[f + 1, o + 1] = s11
        out[f + 1, o + 2] = s12
        out[f + 2, o] = s20
        out[f + 2, o + 1] = s21
        out[f + 2, o + 2] = s22
        out[f + 3, o] = s30
        out[f + 3, o + 1] = s31
        out[f + 3, o + 2] = s32
        out[f + 4, o] = s40
        out[f + 4, o + 1] = s41
        out[f + 4, o + 2] = s42


@njit(**_OPTS)
def _x3_4(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+4, o0:o0+i1−i0] ← Mt[f:f+4] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (12 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        s10 = s11 = s12 = 0.0
        s20 = s21 = s22 = 0.0
        s30 = s31 = s32 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
            m1 = Mt[f + 1, j]
            s10 += x0 * m1
            s11 += x1 * m1
            s12 += x2 * m1
            m2 = Mt[f + 2, j]
            s20 += x0 * m2
            s21 += x1 * m2
            s22 += x2 * m2
            m3 = Mt[f + 3, j]
            s30 += x0 * m3
            s31 += x1 * m3
            s32 += x2 * m3
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02
        out[f + 1, o] = s10
        out[f + 1, o + 1] = s11
        out[f + 1, o + 2] = s12
        out[f + 2, o] = s20
        out[f + 2, o + 1] = s21
        out[f + 2, o + 2] = s22
        out[f + 3, o] = s30
        out[f + 3, o + 1] = s31
        out[f + 3, o + 2] = s32


@njit(**_OPTS)
def _x3_3(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+3, o0:o0+i1−i0] ← Mt[f:f+3] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (9 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        s10 = s11 = s12 = 0.0
        s20 = s21 = s22 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
            m1 = Mt[f + 1, j]
            s10 += x0 * m1
            s11 += x1 * m1
            s12 += x2 * m1
            m2 = Mt[f + 2, j]
            s20 += x0 * m2
            s21 += x1 * m2
            s22 += x2 * m2
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02
        out[f + 1, o] = s10
        out[f + 1, o + 1] = s11
        out[f + 1, o + 2] = s12
        out[f + 2, o] = s20
        out[f + 2, o + 1] = s21
        out[f + 2, o + 2] = s22


@njit(**_OPTS)
def _x3_2(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+2, o0:o0+i1−i0] ← Mt[f:f+2] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (6 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        s10 = s11 = s12 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
            m1 = Mt[f + 1, j]
            s10 += x0 * m1
            s11 += x1 * m1
            s12 += x2 * m1
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02
        out[f + 1, o] = s10
        out[f + 1, o + 1] = s11
        out[f + 1, o + 2] = s12


@njit(**_OPTS)
def _x3_1(X, i0, i1, Mt, out, f, o0):  # pragma: no cover - compiled
    """out[f:f+1, o0:o0+i1−i0] ← Mt[f:f+1] · X[i0:i1]ᵀ for i1 − i0 a multiple of 3, three rows
    of X at a time (3 independent sums)."""
    n = X.shape[1]
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        s00 = s01 = s02 = 0.0
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            m0 = Mt[f, j]
            s00 += x0 * m0
            s01 += x1 * m0
            s02 += x2 * m0
        out[f, o] = s00
        out[f, o + 1] = s01
        out[f, o + 2] = s02


@njit(**_OPTS)
def _x_sweep(X, i0, i1, Mt, out, f, o0, r):  # pragma: no cover - compiled
    """out[f:f+r, o0:o0+i1−i0] ← Mt[f:f+r] · X[i0:i1]ᵀ (1 ≤ r ≤ 6; i1 − i0 a multiple of 3)."""
    if r == 6:
        _x3_6(X, i0, i1, Mt, out, f, o0)
    elif r == 5:
        _x3_5(X, i0, i1, Mt, out, f, o0)
    elif r == 4:
        _x3_4(X, i0, i1, Mt, out, f, o0)
    elif r == 3:
        _x3_3(X, i0, i1, Mt, out, f, o0)
    elif r == 2:
        _x3_2(X, i0, i1, Mt, out, f, o0)
    elif r == 1:
        _x3_1(X, i0, i1, Mt, out, f, o0)


@njit(**_OPTS)
def _x_blocks3(X, i0, i1, Mt, out, o0):  # pragma: no cover - compiled
    """out[:, o0:o0+i1−i0] ← Mt · X[i0:i1]ᵀ for i1 − i0 a multiple of 3.

    m ≤ 6: one sweep over all the rows in a single call (cheaper than a call per block, as in
    :func:`_t_blocks4`). m > 6: per block of 3 rows, sweeps of 6 rows of Mt then one of the
    1-5 left, so that the block's rows stay in L1 meanwhile.
    """
    m = Mt.shape[0]
    if m <= 6:
        _x_sweep(X, i0, i1, Mt, out, 0, o0, m)
        return
    for i in range(i0, i1, 3):
        o = o0 + (i - i0)
        f = 0
        while f + 6 <= m:
            _x3_6(X, i, i + 3, Mt, out, f, o)
            f += 6
        _x_sweep(X, i, i + 3, Mt, out, f, o, m - f)


@njit(**_OPTS)
def _x_row(X, i, Mt, out, o):  # pragma: no cover - compiled
    """out[:, o] ← Mt · X[i] (one row of X)."""
    n = X.shape[1]
    for f in range(Mt.shape[0]):
        s = 0.0
        for j in range(n):
            s += np.float64(X[i, j]) * Mt[f, j]
        out[f, o] = s


@njit(**_OPTS)
def x_dot_rows(X, Mt, out, i0, i1):  # pragma: no cover - compiled
    """out[:, i0:i1] ← Mt · X[i0:i1]ᵀ for X (p, n) C-ordered and Mt (m, n) float64.

    Only columns ``i0 .. i1-1`` of ``out`` (m, p) are written (float64 sums).
    """
    i = i0 + (i1 - i0) // 3 * 3
    _x_blocks3(X, i0, i, Mt, out, i0)
    while i < i1:
        _x_row(X, i, Mt, out, i)
        i += 1
    return out


@njit(**_OPTS)
def x_dot(X, Mt, out):  # pragma: no cover - compiled
    """out (m, p) ← (X·Mtᵀ)ᵀ = Mt·Xᵀ for X (p, n) C-ordered (float64 or float32) and Mt (m, n)
    C-ordered float64; float64 sums. Returns ``out``."""
    return x_dot_rows(X, Mt, out, 0, X.shape[0])


@njit(**_OPTS)
def _t4_5(X, i0, i1, V, acc, f):  # pragma: no cover - compiled
    """acc[f:f+5] += V[f:f+5, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4, four rows of X
    at a time (20 multiply-adds per 4 + 5 loads)."""
    n = X.shape[1]
    for i in range(i0, i1, 4):
        a0 = V[f, i]
        a1 = V[f, i + 1]
        a2 = V[f, i + 2]
        a3 = V[f, i + 3]
        b0 = V[f + 1, i]
        b1 = V[f + 1, i + 1]
        b2 = V[f + 1, i + 2]
        b3 = V[f + 1, i + 3]
        c0 = V[f + 2, i]
        c1 = V[f + 2, i + 1]
        c2 = V[f + 2, i + 2]
        c3 = V[f + 2, i + 3]
        d0 = V[f + 3, i]
        d1 = V[f + 3, i + 1]
        d2 = V[f + 3, i + 2]
        d3 = V[f + 3, i + 3]
        e0 = V[f + 4, i]
        e1 = V[f + 4, i + 1]
        e2 = V[f + 4, i + 2]
        e3 = V[f + 4, i + 3]
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            x3 = np.float64(X[i + 3, j])
            acc[f, j] += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)
            acc[f + 1, j] += (b0 * x0 + b1 * x1) + (b2 * x2 + b3 * x3)
            acc[f + 2, j] += (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)
            acc[f + 3, j] += (d0 * x0 + d1 * x1) + (d2 * x2 + d3 * x3)
            acc[f + 4, j] += (e0 * x0 + e1 * x1) + (e2 * x2 + e3 * x3)


@njit(**_OPTS)
def _t4_4(X, i0, i1, V, acc, f):  # pragma: no cover - compiled
    """acc[f:f+4] += V[f:f+4, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4, four rows of X
    at a time (16 multiply-adds per 4 + 4 loads)."""
    n = X.shape[1]
    for i in range(i0, i1, 4):
        a0 = V[f, i]
        a1 = V[f, i + 1]
        a2 = V[f, i + 2]
        a3 = V[f, i + 3]
        b0 = V[f + 1, i]
        b1 = V[f + 1, i + 1]
        b2 = V[f + 1, i + 2]
        b3 = V[f + 1, i + 3]
        c0 = V[f + 2, i]
        c1 = V[f + 2, i + 1]
        c2 = V[f + 2, i + 2]
        c3 = V[f + 2, i + 3]
        d0 = V[f + 3, i]
        d1 = V[f + 3, i + 1]
        d2 = V[f + 3, i + 2]
        d3 = V[f + 3, i + 3]
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            x3 = np.float64(X[i + 3, j])
            acc[f, j] += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)
            acc[f + 1, j] += (b0 * x0 + b1 * x1) + (b2 * x2 + b3 * x3)
            acc[f + 2, j] += (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)
            acc[f + 3, j] += (d0 * x0 + d1 * x1) + (d2 * x2 + d3 * x3)


@njit(**_OPTS)
def _t4_3(X, i0, i1, V, acc, f):  # pragma: no cover - compiled
    """acc[f:f+3] += V[f:f+3, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4, four rows of X
    at a time (12 multiply-adds per 4 + 3 loads)."""
    n = X.shape[1]
    for i in range(i0, i1, 4):
        a0 = V[f, i]
        a1 = V[f, i + 1]
        a2 = V[f, i + 2]
        a3 = V[f, i + 3]
        b0 = V[f + 1, i]
        b1 = V[f + 1, i + 1]
        b2 = V[f + 1, i + 2]
        b3 = V[f + 1, i + 3]
        c0 = V[f + 2, i]
        c1 = V[f + 2, i + 1]
        c2 = V[f + 2, i + 2]
        c3 = V[f + 2, i + 3]
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            x3 = np.float64(X[i + 3, j])
            acc[f, j] += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)
            acc[f + 1, j] += (b0 * x0 + b1 * x1) + (b2 * x2 + b3 * x3)
            acc[f + 2, j] += (c0 * x0 + c1 * x1) + (c2 * x2 + c3 * x3)


@njit(**_OPTS)
def _t4_2(X, i0, i1, V, acc, f):  # pragma: no cover - compiled
    """acc[f:f+2] += V[f:f+2, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4, four rows of X
    at a time (8 multiply-adds per 4 + 2 loads)."""
    n = X.shape[1]
    for i in range(i0, i1, 4):
        a0 = V[f, i]
        a1 = V[f, i + 1]
        a2 = V[f, i + 2]
        a3 = V[f, i + 3]
        b0 = V[f + 1, i]
        b1 = V[f + 1, i + 1]
        b2 = V[f + 1, i + 2]
        b3 = V[f + 1, i + 3]
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            x3 = np.float64(X[i + 3, j])
            acc[f, j] += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)
            acc[f + 1, j] += (b0 * x0 + b1 * x1) + (b2 * x2 + b3 * x3)


@njit(**_OPTS)
def _t4_1(X, i0, i1, V, acc, f):  # pragma: no cover - compiled
    """acc[f:f+1] += V[f:f+1, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4, four rows of X
    at a time (4 multiply-adds per 4 + 1 loads)."""
    n = X.shape[1]
    for i in range(i0, i1, 4):
        a0 = V[f, i]
        a1 = V[f, i + 1]
        a2 = V[f, i + 2]
        a3 = V[f, i + 3]
        for j in range(n):
            x0 = np.float64(X[i, j])
            x1 = np.float64(X[i + 1, j])
            x2 = np.float64(X[i + 2, j])
            x3 = np.float64(X[i + 3, j])
            acc[f, j] += (a0 * x0 + a1 * x1) + (a2 * x2 + a3 * x3)


@njit(**_OPTS)
def _t_sweep(X, i0, i1, V, acc, f, r):  # pragma: no cover - compiled
    """acc[f:f+r] += V[f:f+r, i0:i1] · X[i0:i1] (1 ≤ r ≤ 5; i1 − i0 a multiple of 4)."""
    if r == 5:
        _t4_5(X, i0, i1, V, acc, f)
    elif r == 4:
        _t4_4(X, i0, i1, V, acc, f)
    elif r == 3:
        _t4_3(X, i0, i1, V, acc, f)
    elif r == 2:
        _t4_2(X, i0, i1, V, acc, f)
    elif r == 1:
        _t4_1(X, i0, i1, V, acc, f)


@njit(**_OPTS)
def _t_blocks4(X, i0, i1, V, acc):  # pragma: no cover - compiled
    """acc += V[:, i0:i1] · X[i0:i1] for i1 − i0 a multiple of 4.

    k ≤ 5: one sweep over all the rows in a single call. Per block of 4 rows, a call to
    the sweep kernel, which takes a dozen exploded array arguments and sets up the loop with
    its overlap checks, cost ~20% of xt_dot at n = 300. k > 5: per block of 4 rows, sweeps
    of 5 factors then one of the 1-4 left, so that the block's rows stay in L1 meanwhile.
    """
    k = V.shape[0]
    if k <= 5:
        _t_sweep(X, i0, i1, V, acc, 0, k)
        return
    for i in range(i0, i1, 4):
        f = 0
        while f + 5 <= k:
            _t4_5(X, i, i + 4, V, acc, f)
            f += 5
        _t_sweep(X, i, i + 4, V, acc, f, k - f)


@njit(**_OPTS)
def _t_row(X, i, V, acc):  # pragma: no cover - compiled
    """acc += V[:, i] ⊗ X[i] (one row of X)."""
    n = X.shape[1]
    for f in range(V.shape[0]):
        v = V[f, i]
        for j in range(n):
            acc[f, j] += v * np.float64(X[i, j])


@njit(**_OPTS)
def xt_acc_rows(X, V, acc, i0, i1):  # pragma: no cover - compiled
    """acc (k, n) += V[:, i0:i1] · X[i0:i1]: rows i0 .. i1-1 of (XᵀVᵀ)ᵀ, float64 sums.

    X (p, n) C-ordered, V (k, p) float64, acc (k, n) float64 (the transposed result, so that
    its updates run along contiguous samples).
    """
    i = i0 + (i1 - i0) // 4 * 4
    _t_blocks4(X, i0, i, V, acc)
    while i < i1:
        _t_row(X, i, V, acc)
        i += 1
    return acc


@njit(**_OPTS)
def xt_dot(X, V, out):  # pragma: no cover - compiled
    """out (n, k) ← XᵀVᵀ for X (p, n) C-ordered (float64 or float32) and V (k, p) float64;
    float64 sums. Returns ``out``."""
    p, n = X.shape
    k = V.shape[0]
    acc = np.zeros((k, n))
    xt_acc_rows(X, V, acc, 0, p)
    for j in range(n):
        for f in range(k):
            out[j, f] = acc[f, j]
    return out


@njit(**_OPTS)
def _w_ratio(W, XM, HHt, c_nmf, ridge_w, eps, V, D, i, nr):  # pragma: no cover - compiled
    """V[:, i:i+nr] ← W ⊙ c·XM / (c·W HHᵀ + ridge_w·W + eps) for ``nr`` genes whose
    numerators are XM[:, :nr] (D (k, ≥ nr) work array), the α = 0 step of
    ``desurv._kernels._nmf.w_direction`` with its arithmetic, vectorised over the genes.
    Returns their share of ‖G_nmf‖², G_nmf = c(W HHᵀ − XHᵀ)."""
    k = W.shape[0]
    gn2 = 0.0
    for f in range(k):
        for r in range(nr):
            D[f, r] = 0.0
        for g in range(k):
            h = HHt[g, f]
            for r in range(nr):
                D[f, r] += h * W[g, i + r]
        for r in range(nr):
            d = D[f, r]
            t = c_nmf * (d - XM[f, r])
            gn2 += t * t
            w = W[f, i + r]
            V[f, i + r] = w * ((c_nmf * XM[f, r]) / (c_nmf * d + ridge_w * w + eps))
    return gn2


@njit(**_OPTS)
def _w_grams(W, V, WV, VV, i0, i1):  # pragma: no cover - compiled
    """WV += W[:, i0:i1] V[:, i0:i1]ᵀ and VV += V[:, i0:i1] V[:, i0:i1]ᵀ (k, k)."""
    k = W.shape[0]
    for f in range(k):
        for g in range(k):
            a = 0.0
            b = 0.0
            for i in range(i0, i1):
                vg = V[g, i]
                a += W[f, i] * vg
                b += V[f, i] * vg
            WV[f, g] += a
            VV[f, g] += b


@njit(**_OPTS)
def w_step_rows(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, acc, i0, i1):  # pragma: no cover
    """The NMF-only (α = 0) W direction of genes i0 .. i1-1 and its projection, one pass.

    Per block of twelve rows of X (kept in L1/L2 between the two halves): their W numerator
    XM = H·X_blockᵀ (k, 12) as in :func:`x_dot`; the full multiplicative step
    V = W ⊙ c·XM / (c·W HHᵀ + ridge_w·W + eps) of those genes (the α = 0 case of
    ``desurv._kernels._nmf.w_direction``, same arithmetic); their share of
    acc = (XᵀVᵀ)ᵀ (k, n) as in :func:`xt_acc_rows`. The Gram pieces WV = W Vᵀ and VV = V Vᵀ
    (k, k) of the range follow the loop. So X is streamed once where the separate kernels
    read it twice.

    X (p, n) C-ordered float64/float32; H (k, n), W and V (k, p) (transposed layout), HHt
    (k, k), acc (k, n), WV and VV (k, k): float64. Writes V[:, i0:i1] and adds to acc, WV,
    VV (the caller zeroes them). Returns the block's share of ‖G_nmf‖², G_nmf =
    c(W HHᵀ − XHᵀ).
    """
    k = W.shape[0]
    XM = np.empty((k, 12))
    D = np.empty((k, 12))
    gn2 = 0.0
    i = i0
    while i + 12 <= i1:
        _x_blocks3(X, i, i + 12, H, XM, 0)
        gn2 += _w_ratio(W, XM, HHt, c_nmf, ridge_w, eps, V, D, i, 12)
        _t_blocks4(X, i, i + 12, V, acc)
        i += 12
    while i < i1:
        _x_row(X, i, H, XM, 0)
        gn2 += _w_ratio(W, XM, HHt, c_nmf, ridge_w, eps, V, D, i, 1)
        _t_row(X, i, V, acc)
        i += 1
    # the Gram pieces once for the whole range, not per block: their reductions over twelve
    # genes cost ~10% of the step at n = 300; V and W of the range are in L2 here
    _w_grams(W, V, WV, VV, i0, i1)
    return gn2


@njit(**_OPTS)
def w_step(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, B):  # pragma: no cover - compiled
    """α = 0 W step of DeSurv in one pass over X: V, WᵀV, VᵀV and B = XᵀVᵀ (n, k).

    Replaces ``x_dot`` (of [H; g]), ``_nmf.w_direction`` and ``xt_dot`` (of V) when the Cox
    term has no weight (α = 0: the step of every gene depends on that gene only); see
    :func:`w_step_rows`. Writes V (k, p), WV, VV (k, k) and B (n, k); returns ‖G_nmf‖.
    """
    k, n = H.shape
    acc = np.zeros((k, n))
    WV[:, :] = 0.0
    VV[:, :] = 0.0
    gn2 = w_step_rows(X, H, W, HHt, c_nmf, ridge_w, eps, V, WV, VV, acc, 0, X.shape[0])
    for j in range(n):
        for f in range(k):
            B[j, f] = acc[f, j]
    return np.sqrt(gn2)
