"""Philox4x32-10 (Salmon et al., SC'11; Random123) and the dropout RNG mapping.

``philox4x32(counter, key)`` is the public, vectorized generator.  The
element → word mapping every backend uses (docs/design.md §6)::

    key     = (seed mod 2³², seed div 2³²)
    counter = (q mod 2³², q div 2³², offset mod 2³², offset div 2³²),  q = i div 4
    r_i     = philox4x32_10(counter, key)[i mod 4]
    keep_i  = r_i >= round(p · 2³²)

The numba twins of that mapping (``keep_mask``, ``fused_dropout``) live in
``gpureg/backends/_dropout_cpu.py`` (imported on first use); ``kernels/
dropout.cu`` is their CUDA twin.  This module is numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
_MASK32 = 0xFFFFFFFF


def philox4x32(counter: ArrayLike, key: ArrayLike, rounds: int = 10) -> np.ndarray:
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
                f"{name} must hold unsigned 32-bit integers, got {a.dtype}."
            )
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
