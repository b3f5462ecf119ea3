"""A sparse X on the device: products with batches of dense rows (cuSPARSE).

The GPU engines multiply batches of dense rows by the design: ``Y Xᵀ``
(margins, predictions) and ``R X`` (gradients).  With a scipy.sparse X both
are sparse × dense products (SpMM) of a CSR matrix: ``Y Xᵀ = (X Yᵀ)ᵀ`` and
``R X = (Xᵀ Rᵀ)ᵀ``.  :class:`DeviceSparse` keeps X *and* Xᵀ as CSR on the
device, so that both run as row-parallel SpMMs (no atomics, no transposed
kernel), at twice the sparse storage.  ``Yᵀ`` of a C-contiguous ``Y`` is the
column-major operand cuSPARSE wants: no copy.

The array module decides the implementation: ``cupyx.scipy.sparse`` (cuSPARSE)
for CuPy, ``scipy.sparse`` otherwise, so that the engines' twins run, and are
tested, on the CPU with the same code.  Centering and scaling are never
applied to X: the engines apply them to the dense operands (a rank-one
correction and column scalings), so X is never densified.
"""

from __future__ import annotations

import numpy as np

#: Bytes of one stored non-zero of one CSR copy: the value's dtype + int32 index.
INDEX_BYTES = 4


def sparse_module(xp):
    """``cupyx.scipy.sparse`` for CuPy, ``scipy.sparse`` for any other module."""
    if getattr(xp, "__name__", None) == "cupy":
        import cupyx.scipy.sparse as sp

        return sp
    import scipy.sparse as sp

    return sp


class DeviceSparse:
    """A sparse ``(m, p)`` matrix and its transpose as CSR, where ``xp`` computes.

    Parameters
    ----------
    xp : module
        numpy (or a stand-in for it) or cupy.
    A : scipy.sparse matrix or array of shape (m, p)
        On the host; copied, never modified.
    dtype : numpy.dtype
        Storage precision of the values (float32 or float64).
    """

    def __init__(self, xp, A, dtype):
        import scipy.sparse as host

        self.xp = xp
        self.dtype = np.dtype(dtype)
        A = host.csr_matrix(A, dtype=self.dtype, copy=True)
        A.sum_duplicates()
        A.sort_indices()
        At = A.T.tocsr()
        At.sort_indices()
        sp = sparse_module(xp)
        self.A = sp.csr_matrix(A) if sp is not host else A
        self.At = sp.csr_matrix(At) if sp is not host else At
        self.shape = A.shape
        self.nnz = int(A.nnz)

    @staticmethod
    def nbytes(nnz: int, m: int, p: int, itemsize: int) -> int:
        """Device bytes of the two CSR copies of an ``(m, p)`` matrix.

        Parameters
        ----------
        nnz : int
            Stored non-zeros.
        m, p : int
            Shape.
        itemsize : int
            Bytes per value.

        Returns
        -------
        int
        """
        return 2 * nnz * (itemsize + INDEX_BYTES) + INDEX_BYTES * (m + p + 2)

    def astype(self, dtype) -> DeviceSparse:
        """A copy with values in ``dtype`` (the float64 copy of checks)."""
        new = object.__new__(DeviceSparse)
        new.xp, new.dtype = self.xp, np.dtype(dtype)
        new.A, new.At = (a.astype(new.dtype) for a in (self.A, self.At))
        new.shape, new.nnz = self.shape, self.nnz
        return new

    def times_t(self, Y):
        """``Y Aᵀ`` of dense rows ``Y``, shape ``(k, p) → (k, m)``.

        A transposed view of the SpMM's ``(m, k)`` result (no copy).
        """
        return (self.A @ Y.T).T

    def times(self, R, out=None):
        """``R A`` of dense rows ``R``, shape ``(k, m) → (k, p)``.

        Written into ``out`` when given (one copy of the SpMM's result).
        """
        res = (self.At @ R.T).T
        if out is None:
            return res
        out[...] = res
        return out

    def matvec(self, v):
        """``A v``, shape ``(p,) → (m,)``."""
        return self.A @ v

    def rmatvec(self, u):
        """``Aᵀ u``, shape ``(m,) → (p,)``."""
        return self.At @ u
