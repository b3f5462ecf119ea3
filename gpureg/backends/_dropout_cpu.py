"""CPU twins (numba) of ``kernels/dropout.cu``: the DESIGN.md §6 mapping.

Imported on first use by :mod:`gpureg.dropout`, so that ``import gpureg``
does not pull in numba for dropout.  :func:`gpureg.philox4x32` (numpy) is
the reference they are tested against.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .._philox import _MASK32, M0, M1, W0, W1


@njit(cache=True, inline="always")
def _philox10(c0, c1, c2, c3, k0, k1):
    """Scalar Philox4x32-10 on uint64 holders of 32-bit words (numba)."""
    m = np.uint64(_MASK32)
    for r in range(10):
        if r > 0:
            k0 = (k0 + np.uint64(W0)) & m
            k1 = (k1 + np.uint64(W1)) & m
        p0 = np.uint64(M0) * c0
        p1 = np.uint64(M1) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ k0
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ k1
        c0, c1, c2, c3 = n0, p1 & m, n2, p0 & m
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def _key_and_offset(seed, offset):
    """The 32-bit halves ``(seed lo, seed hi, offset lo, offset hi)``."""
    m = np.uint64(_MASK32)
    s = np.uint64(seed)
    o = np.uint64(offset)
    return s & m, s >> np.uint64(32), o & m, o >> np.uint64(32)


@njit(cache=True, parallel=True)
def keep_mask(n, seed, offset, threshold, out):
    """``out[i] = r_i >= threshold`` for ``i < n`` (the dropout mapping).

    Parameters
    ----------
    n : int
    seed, offset : uint64
    threshold : uint64
        ``round(p · 2³²)``.
    out : ndarray of bool, shape (n,)
    """
    m = np.uint64(_MASK32)
    k0, k1, o0, o1 = _key_and_offset(seed, offset)
    n_quads = (n + 3) // 4
    for q in prange(n_quads):
        qq = np.uint64(q)
        r0, r1, r2, r3 = _philox10(qq & m, qq >> np.uint64(32), o0, o1, k0, k1)
        i = 4 * q
        out[i] = r0 >= threshold
        if i + 1 < n:
            out[i + 1] = r1 >= threshold
        if i + 2 < n:
            out[i + 2] = r2 >= threshold
        if i + 3 < n:
            out[i + 3] = r3 >= threshold


@njit(cache=True, parallel=True)
def fused_dropout(
    x,
    residual,
    bias,
    out,
    keep,
    seed,
    offset,
    threshold,
    scale,
    has_residual,
    has_bias,
    want_keep,
):
    """One pass of ``out = residual + (keep ? (x + bias)·scale : 0)`` (numba).

    The CPU twin of ``dropout_fwd<F32|F64>`` for float32/float64 arrays:
    arithmetic in x's dtype with one rounding per operation, as the kernel's
    ``__fmul_rn``/``__fadd_rn``.

    Parameters
    ----------
    x, residual, out : ndarray of shape (n,), one float dtype
        ``residual`` is ignored unless ``has_residual``.
    bias : ndarray of shape (bias_n,)
        Ignored unless ``has_bias``; element i uses ``bias[i % bias_n]``.
    keep : ndarray of bool, shape (n,)
        Written when ``want_keep``.
    seed, offset, threshold : uint64
    scale : scalar of x's dtype
    has_residual, has_bias, want_keep : bool
    """
    n = x.shape[0]
    m = np.uint64(_MASK32)
    k0, k1, o0, o1 = _key_and_offset(seed, offset)
    n_quads = (n + 3) // 4
    for q in prange(n_quads):
        qq = np.uint64(q)
        r0, r1, r2, r3 = _philox10(qq & m, qq >> np.uint64(32), o0, o1, k0, k1)
        i = 4 * q
        _apply(
            x,
            residual,
            bias,
            out,
            keep,
            i,
            r0 >= threshold,
            scale,
            has_residual,
            has_bias,
            want_keep,
        )
        if i + 1 < n:
            _apply(
                x,
                residual,
                bias,
                out,
                keep,
                i + 1,
                r1 >= threshold,
                scale,
                has_residual,
                has_bias,
                want_keep,
            )
        if i + 2 < n:
            _apply(
                x,
                residual,
                bias,
                out,
                keep,
                i + 2,
                r2 >= threshold,
                scale,
                has_residual,
                has_bias,
                want_keep,
            )
        if i + 3 < n:
            _apply(
                x,
                residual,
                bias,
                out,
                keep,
                i + 3,
                r3 >= threshold,
                scale,
                has_residual,
                has_bias,
                want_keep,
            )


@njit(cache=True, inline="always")
def _apply(
    x, residual, bias, out, keep, i, kept, scale, has_residual, has_bias, want_keep
):
    """Element i of :func:`fused_dropout`."""
    v = x[i]
    if has_bias:
        v = v + bias[i % bias.shape[0]]
    t = v * scale if kept else x.dtype.type(0)
    if has_residual:
        t = residual[i] + t
    out[i] = t
    if want_keep:
        keep[i] = kept
