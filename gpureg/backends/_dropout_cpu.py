"""CPU side of :mod:`gpureg.dropout`: numba twins of ``kernels/dropout.cu``.

The docs/design.md §6 mapping on the host: :func:`keep_mask` and
:func:`fused_dropout` (numba), the launcher :func:`dropout_forward` /
:func:`dropout_backward` built on them, and the host storage helpers
(:func:`flatten`, :func:`from_torch`, :func:`asarray`, :func:`to_host`,
:func:`empty`, :func:`device_context`).  :mod:`._dropout_gpu` has the same
functions on the device; :mod:`gpureg.dropout` picks one of the two.

Imported on first use by :mod:`gpureg.dropout`, so that ``import gpureg``
does not pull in numba for dropout.  :func:`gpureg.philox4x32` (numpy) is
the reference the twins are tested against.  Arrays are flat (1-D) storage
views: the dtype of the data for float32/float64, ``uint16`` words for
float16/bfloat16 (``tag`` ``"F32"``, ``"F64"``, ``"F16"`` or ``"BF16"``).
"""

from __future__ import annotations

import contextlib

import numpy as np
from numba import njit, prange

from .._philox import _MASK32, M0, M1, W0, W1
from ._common import PARALLEL_LOCK


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


@njit(cache=True, inline="always")
def _quad(q, k0, k1, o0, o1):
    """The four Philox words of quad ``q`` (elements ``4q .. 4q + 3``)."""
    m = np.uint64(_MASK32)
    qq = np.uint64(q)
    return _philox10(qq & m, qq >> np.uint64(32), o0, o1, k0, k1)


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
    k0, k1, o0, o1 = _key_and_offset(seed, offset)
    n_quads = (n + 3) // 4
    for q in prange(n_quads):
        r0, r1, r2, r3 = _quad(q, k0, k1, o0, o1)
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
    k0, k1, o0, o1 = _key_and_offset(seed, offset)
    n_quads = (n + 3) // 4
    for q in prange(n_quads):
        r0, r1, r2, r3 = _quad(q, k0, k1, o0, o1)
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


# ------------------------------------------------------------------ storage


def flatten(a):
    """A C-contiguous 1-D view of a numpy array (a copy only if needed).

    Parameters
    ----------
    a : ndarray of shape (...)

    Returns
    -------
    ndarray of shape (max(a.size, 1),)
        A 0-d array gives one element.
    """
    return np.ascontiguousarray(a).reshape(-1)


def from_torch(t):
    """The memory of a contiguous 1-D torch CPU tensor as a numpy array.

    Parameters
    ----------
    t : torch.Tensor of shape (n,), on the CPU

    Returns
    -------
    ndarray of shape (n,)
        Shares ``t``'s memory (no copy).
    """
    return t.numpy()


def asarray(a):
    """``a`` in host memory (a device-to-host copy for a device array).

    Also bound as :func:`to_host`: the device module's ``asarray`` (into
    device memory) and ``to_host`` (out of it) are one function on the host.

    Parameters
    ----------
    a : ndarray or CUDA array of shape (...)

    Returns
    -------
    ndarray of shape (...)
        ``a`` itself when it is a numpy array.
    """
    return a.get() if hasattr(a, "__cuda_array_interface__") else np.asarray(a)


to_host = asarray


def empty(shape, dtype):
    """An uninitialised host array.

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    ndarray of shape ``shape``
    """
    return np.empty(shape, dtype=dtype)


def device_context(x, others=(), torch_device=None):
    """Nothing to enter on the host (the device twin picks a device and stream).

    Parameters
    ----------
    x : ndarray of shape (n,) or None
    others : sequence of (str, ndarray)
    torch_device : torch.device, optional

    Returns
    -------
    contextlib.ExitStack
        Empty.
    """
    return contextlib.ExitStack()


# ------------------------------------------------------------------ launcher


def _to_float(storage, tag):
    """Storage values → arithmetic dtype (numpy)."""
    if tag == "BF16":
        return (storage.astype(np.uint32) << np.uint32(16)).view(np.float32)
    if tag == "F16":
        return storage.view(np.float16).astype(np.float32)
    return storage


def _from_float(values, tag):
    """Arithmetic dtype → storage, rounding to nearest even (numpy)."""
    if tag == "BF16":
        u = values.astype(np.float32).view(np.uint32).astype(np.uint64)
        rounded = (
            (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1)))
            >> np.uint64(16)
        ).astype(np.uint16)
        return np.where(np.isnan(values), np.uint16(0x7FFF), rounded)
    if tag == "F16":
        return values.astype(np.float32).astype(np.float16).view(np.uint16)
    return values


def dropout_forward(
    x, residual, bias, out, n, bias_n, tag, seed, offset, threshold, scale, want_mask
):
    """``out = residual + (keep ? (x + b)·scale : 0)``: the CPU twin of ``dropout_fwd``.

    One numba pass (:func:`fused_dropout`) for float32/float64; for 16-bit
    dtypes a numba Philox mask (:func:`keep_mask`), then numpy float32
    arithmetic and one rounding to the dtype.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Storage (uint16 words for F16/BF16).
    residual : ndarray of shape (n,) or None
        Same storage dtype as ``x``.
    bias : ndarray of shape (bias_n,) or None
        Element i uses ``bias[i % bias_n]``.
    out : ndarray of shape (n,)
        Written; same storage dtype as ``x``.
    n, bias_n : int
    tag : {'F32', 'F64', 'F16', 'BF16'}
    seed, offset : int
        In [0, 2**64).
    threshold : int
        ``round(p · 2³²)``: element i is kept when its Philox word is >= it.
    scale : float
        ``1 / (1 - p)`` in the arithmetic dtype (0 when p = 1).
    want_mask : bool
        Also return the bit-packed mask.

    Returns
    -------
    ndarray of uint32, shape (ceil(n / 32),), or None
        The mask words (bit ``i mod 32`` of word ``i div 32``: element i
        kept); None unless ``want_mask``.
    """
    if tag in ("F32", "F64"):
        keep = np.empty(n if want_mask else 0, dtype=bool)
        dummy = x[:0]
        with PARALLEL_LOCK:
            fused_dropout(
                x,
                dummy if residual is None else residual,
                x[:1] if bias is None else bias,
                out,
                keep,
                np.uint64(seed),
                np.uint64(offset),
                np.uint64(threshold),
                x.dtype.type(scale),
                residual is not None,
                bias is not None,
                want_mask,
            )
        return _pack(keep) if want_mask else None
    keep = np.empty(n, dtype=bool)
    with PARALLEL_LOCK:
        keep_mask(n, np.uint64(seed), np.uint64(offset), np.uint64(threshold), keep)
    with np.errstate(over="ignore", invalid="ignore"):  # inf and NaN are results
        _cpu_16bit(x, residual, bias, out, bias_n, tag, scale, keep)
    return _pack(keep) if want_mask else None


def dropout_backward(grad_y, out, n, tag, seed, offset, threshold, scale):
    """``out = grad_y · keep / (1 - p)``: the forward mask, regenerated on the host.

    Parameters
    ----------
    grad_y, out : ndarray of shape (n,)
        Storage, as in :func:`dropout_forward`; ``out`` is written.
    n : int
    tag : {'F32', 'F64', 'F16', 'BF16'}
    seed, offset, threshold : int
        Those of the forward call.
    scale : float
    """
    dropout_forward(
        grad_y, None, None, out, n, 1, tag, seed, offset, threshold, scale, False
    )


def _cpu_16bit(x, residual, bias, out, bias_n, tag, scale, keep):
    """float32 arithmetic and one rounding to the 16-bit dtype (numpy)."""
    ctype = np.float32
    v = _to_float(x, tag).astype(ctype, copy=False)
    if bias is not None:
        b = _to_float(bias, tag).astype(ctype, copy=False)
        v = (v.reshape(-1, bias_n) + b).reshape(-1)  # x + b
    t = np.where(keep, v * ctype(scale), ctype(0.0))  # keep ? (x + b)·scale : 0
    if residual is not None:
        t = _to_float(residual, tag).astype(ctype, copy=False) + t
    out[...] = _from_float(t.astype(ctype, copy=False), tag)


def _pack(keep):
    """Bit-pack a bool mask into little-endian uint32 words."""
    packed = np.packbits(keep, bitorder="little")
    packed = np.concatenate([packed, np.zeros(-packed.size % 4, np.uint8)])
    return packed.view("<u4").astype(np.uint32)
