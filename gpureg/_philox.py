"""Philox4x32-10 (Salmon et al., SC'11; Random123) and the dropout RNG mapping.

``philox4x32(counter, key)`` is the public, vectorized generator.  The
element → word mapping every backend uses (DESIGN.md §6)::

    key     = (seed mod 2³², seed div 2³²)
    counter = (q mod 2³², q div 2³², offset mod 2³², offset div 2³²),  q = i div 4
    r_i     = philox4x32_10(counter, key)[i mod 4]
    keep_i  = r_i >= round(p · 2³²)

:func:`philox_words` evaluates that mapping for a range of element indices
(numba, parallel); ``kernels/dropout.cu`` is its CUDA twin.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = 0xFFFFFFFF


def philox4x32(counter, key, rounds: int = 10):
    """Philox4x32 with ``rounds`` rounds (10 is the standard), vectorized.

    Parameters
    ----------
    counter : array-like of uint32, shape (..., 4)
    key : array-like of uint32, shape (..., 2)
        Broadcast against ``counter``'s leading axes.
    rounds : int, default=10

    Returns
    -------
    ndarray of uint32, shape (..., 4)

    Examples
    --------
    >>> hex(int(philox4x32([0, 0, 0, 0], [0, 0])[0]))
    '0x6627e8d5'
    """
    c = np.asarray(counter)
    k = np.asarray(key)
    for name, a, last in (("counter", c, 4), ("key", k, 2)):
        if a.shape[-1:] != (last,):
            raise ValueError(f"{name} must have shape (..., {last}), got {a.shape}.")
        if not (np.issubdtype(a.dtype, np.integer) or a.size == 0):
            raise TypeError(
                f"{name} must hold unsigned 32-bit integers, got {a.dtype}.")
        if a.size and (a.min() < 0 or a.max() > _MASK32):
            raise ValueError(f"{name} words must lie in [0, 2**32).")
    c = c.astype(np.uint64)
    k = k.astype(np.uint64)
    c0, c1, c2, c3 = (c[..., j] for j in range(4))
    k0, k1 = k[..., 0], k[..., 1]
    for r in range(rounds):
        if r > 0:
            k0 = (k0 + W0) & _MASK32
            k1 = (k1 + W1) & _MASK32
        p0 = np.uint64(M0) * c0
        p1 = np.uint64(M1) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(_MASK32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(_MASK32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    out = np.stack(np.broadcast_arrays(c0, c1, c2, c3), axis=-1)
    return out.astype(np.uint32)


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
    k0 = np.uint64(seed) & m
    k1 = np.uint64(seed) >> np.uint64(32)
    o0 = np.uint64(offset) & m
    o1 = np.uint64(offset) >> np.uint64(32)
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
def fused_dropout(x, residual, bias, out, keep, seed, offset, threshold, scale,
                  has_residual, has_bias, want_keep):
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
    k0 = np.uint64(seed) & m
    k1 = np.uint64(seed) >> np.uint64(32)
    o0 = np.uint64(offset) & m
    o1 = np.uint64(offset) >> np.uint64(32)
    n_quads = (n + 3) // 4
    for q in prange(n_quads):
        qq = np.uint64(q)
        r0, r1, r2, r3 = _philox10(qq & m, qq >> np.uint64(32), o0, o1, k0, k1)
        i = 4 * q
        _apply(x, residual, bias, out, keep, i, r0 >= threshold, scale,
               has_residual, has_bias, want_keep)
        if i + 1 < n:
            _apply(x, residual, bias, out, keep, i + 1, r1 >= threshold, scale,
                   has_residual, has_bias, want_keep)
        if i + 2 < n:
            _apply(x, residual, bias, out, keep, i + 2, r2 >= threshold, scale,
                   has_residual, has_bias, want_keep)
        if i + 3 < n:
            _apply(x, residual, bias, out, keep, i + 3, r3 >= threshold, scale,
                   has_residual, has_bias, want_keep)


@njit(cache=True, inline="always")
def _apply(x, residual, bias, out, keep, i, kept, scale, has_residual, has_bias,
           want_keep):
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
