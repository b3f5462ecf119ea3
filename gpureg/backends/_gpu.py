"""GPU backend: the batched FISTA engine of ``_fista.py`` on CuPy + raw CUDA kernels.

The Gram matrices (or the design, when n_features > n_samples) of every
training set go to the device once per chunk; each iteration is one cuBLAS
GEMM per training set plus one fused kernel (``enet_fista_step``), and every
``CHECK_EVERY`` iterations one more GEMM and ``enet_gap`` certify rows, which
then leave the batch.  The memory planner sizes chunks from the free device
memory (or :data:`MEMORY_BUDGET` / ``GPUREG_GPU_MEMORY_BYTES``).

Only ``gpureg/backends/`` imports cupy (``tests/test_backend_contract.py``
checks it), and only inside functions: importing gpureg never touches the
GPU.
"""

from __future__ import annotations

import os

import numpy as np

#: Device bytes the planner may use; None = 80% of the free memory (the
#: environment variable ``GPUREG_GPU_MEMORY_BYTES`` overrides both).
MEMORY_BUDGET: int | None = None

#: Threads per block of every kernel (one block per fit).  The kernels'
#: block reductions need a multiple of 32 (whole warps) and at most 1024.
BLOCK = 256


def check_block(block: int) -> int:
    """``block`` if it is a valid block size for gpureg's kernels.

    Raises
    ------
    ValueError
        Unless ``block`` is a multiple of 32 (the warp shuffles of the block
        reductions and of the dropout mask need whole warps) in [32, 1024].
    """
    if (
        isinstance(block, bool)
        or int(block) != block
        or not (32 <= block <= 1024 and block % 32 == 0)
    ):
        raise ValueError(
            f"the CUDA block size must be a multiple of 32 in "
            f"[32, 1024], got {block!r}."
        )
    return int(block)


def is_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    try:
        import cupy
    except Exception:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def missing_reason() -> str | None:
    """Why the GPU backend cannot run here, or None if it can."""
    try:
        import cupy  # noqa: F401
    except Exception as exc:
        return (
            f"CuPy is not importable ({exc.__class__.__name__}: {exc}); install "
            "gpureg[gpu] (cupy-cuda13x, or cupy-cuda12x for CUDA 12 drivers)"
        )
    if not is_available():
        return "CuPy found no CUDA device"
    return None


def array_module():
    """Where this backend keeps its arrays: cupy."""
    import cupy

    return cupy


def to_device(a):
    """Copy a host array to the current CUDA device (a CuPy array).

    Parameters
    ----------
    a : ndarray

    Returns
    -------
    cupy.ndarray
    """
    import cupy

    return cupy.asarray(a)


def to_host(a):
    """``a`` as a numpy array (a device-to-host copy for CuPy arrays).

    Parameters
    ----------
    a : cupy.ndarray or ndarray

    Returns
    -------
    ndarray
    """
    return a.get() if hasattr(a, "__cuda_array_interface__") else np.asarray(a)


def synchronize() -> None:
    """Wait until the work queued on the current device is done."""
    import cupy

    cupy.cuda.Device().synchronize()


def device_name() -> str:
    """Name of the current CUDA device (``NVIDIA H200``, ...)."""
    import cupy

    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def caller_state():
    """A context-manager factory re-entering this thread's device and stream.

    Called in the calling thread; the factory is entered in the worker thread
    of an interruptible call, so that its kernels go to the caller's device
    and stream.
    """
    import contextlib
    import sys

    cupy = sys.modules.get("cupy")  # not imported: no device state to carry
    if cupy is None:
        return contextlib.nullcontext
    try:
        device = cupy.cuda.Device().id
        stream = cupy.cuda.get_current_stream()
    except Exception:  # no usable device: nothing to carry over
        return contextlib.nullcontext

    @contextlib.contextmanager
    def enter():
        with cupy.cuda.Device(device), stream:
            yield

    return enter


def build_batch(
    X, y, W, *, mode, fit_intercept, standardize, dtype, X_device=None, timings=None
):
    """Every training set's problems; Gram form is built on the device.

    X goes to the device once (``X_device``, the caller's CuPy array, when
    given) and the Grams and held-out blocks are built there by cuBLAS; the
    residual form keeps the host batch (the engine copies it per chunk).
    A scipy.sparse X builds its Grams on the host from sparse products (one
    pass, ``p × p`` dense results, copied to the device per chunk) and, in
    residual form, goes to the device as CSR for cuSPARSE products.
    See ``_contract.Backend.build_batch``.
    """
    from .._batch import build_gram_batch, build_residual_batch
    from .._validation import issparse

    if mode != "gram" or issparse(X):
        if mode == "gram":
            return build_gram_batch(
                X,
                y,
                W,
                fit_intercept=fit_intercept,
                standardize=standardize,
                dtype=dtype,
            )
        return build_residual_batch(
            X, y, W, fit_intercept=fit_intercept, standardize=standardize, dtype=dtype
        )
    import time

    import cupy

    t0 = time.perf_counter()
    Xd = cupy.asarray(X if X_device is None else X_device)
    yd = cupy.asarray(y)
    if timings is not None:
        timings["transfer"] = time.perf_counter() - t0
    return build_gram_batch(
        Xd,
        yd,
        W,
        fit_intercept=fit_intercept,
        standardize=standardize,
        dtype=dtype,
        xp=cupy,
    )


def memory_budget() -> int:
    """Device bytes the memory planner may use for one chunk."""
    env = os.environ.get("GPUREG_GPU_MEMORY_BYTES")
    if env:  # bytes, or a size such as "40GB", as GPUREG_MEMORY_LIMIT
        from .._memory import parse_bytes

        return parse_bytes(env, "GPUREG_GPU_MEMORY_BYTES")
    if MEMORY_BUDGET is not None:
        return int(MEMORY_BUDGET)
    import cupy

    free, _ = cupy.cuda.Device().mem_info
    pool = cupy.get_default_memory_pool()
    return int(0.8 * (free + pool.free_bytes()))


def _ctype(dtype) -> str:
    return {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}[
        np.dtype(dtype)
    ]


def _contiguous(*arrays):
    for a in arrays:
        if not a.flags.c_contiguous:
            raise ValueError("kernel argument is not C-contiguous")


def _dtypes(rows, rows_dtype, ints=(), doubles=()):
    """Kernel arguments must have the dtypes of the kernel's signature."""
    if any(a.dtype != rows_dtype for a in rows):
        raise TypeError(f"kernel row arrays must all be {rows_dtype}")
    if any(a.dtype != np.int32 for a in ints):
        raise TypeError("kernel index arrays must be int32")
    if any(a.dtype != np.float64 for a in doubles):
        raise TypeError("kernel parameter arrays must be float64")


def _launch(name, dtype, arrays, n, p, positive):
    """Launch ``name<T>`` of ``enet_fista.cu``: one block of :data:`BLOCK` per row.

    ``T`` is the C type of ``dtype``; ``arrays`` are the kernel's array
    operands in its order, followed by ``n``, ``p`` and ``positive``.
    """
    from ._kernels import get_function

    kernel = get_function("enet_fista.cu", f"{name}<{_ctype(dtype)}>")
    kernel(
        (n,),
        (check_block(BLOCK),),
        (*arrays, np.int32(n), np.int32(p), np.int32(bool(positive))),
    )


class CudaOps:
    """The kernel interface of ``_fista.solve`` on the device (CuPy + NVRTC)."""

    def __init__(self):
        import cupy

        self.xp = cupy

    def fista_step(
        self, GY, Y, W, W_next, Y_next, C, set_of, step, l1, l2, f, t_mom, positive
    ):
        """Launch ``enet_fista_step<T>``: one block of :data:`BLOCK` per row."""
        n, p = Y.shape
        if n == 0:
            return
        arrays = (GY, Y, W, W_next, Y_next, C, set_of, step, l1, l2, f, t_mom)
        _contiguous(*arrays)
        _dtypes(
            (GY, Y, W, W_next, Y_next), Y.dtype, (set_of,), (C, step, l1, l2, f, t_mom)
        )
        _launch("enet_fista_step", Y.dtype, arrays, n, p, positive)

    def gap(self, GW, W, C, yy, set_of, l1, l2, f, positive):
        """Launch ``enet_gap<T>``; returns the gaps, shape ``(n,)`` float64."""
        n, p = W.shape
        out = self.xp.empty(n, dtype=np.float64)
        if n == 0:
            return out
        arrays = (GW, W, C, yy, set_of, l1, l2, f)
        _contiguous(*arrays)
        _dtypes((GW, W), W.dtype, (set_of,), (C, yy, l1, l2, f))
        _launch("enet_gap", W.dtype, (*arrays, out), n, p, positive)
        return out


def solve_paths(
    batch, alphas, l1_ratios, penalty_factor, *, positive, tol, max_iter, progress=None
):
    """Same contract as ``backends._numba.solve_paths``, solved on the device.

    ``max_iter`` counts FISTA iterations of each fit (and ``n_iter`` reports
    them), not coordinate-descent epochs.
    """
    from ._fista import solve_paths_with

    ops, budget = device_ops()
    sol = solve_paths_with(
        ops,
        batch,
        alphas,
        l1_ratios,
        penalty_factor,
        positive=positive,
        tol=tol,
        max_iter=max_iter,
        progress=progress,
        budget=budget,
    )
    synchronize()
    return sol


def device_ops():
    """The engine's kernel interface on this device and its memory budget.

    Returns
    -------
    ops : CudaOps
    budget : int
        Device bytes for the planner (:func:`memory_budget`).

    Raises
    ------
    RuntimeError
        When the GPU backend cannot run here, with the reason.
    """
    reason = missing_reason()
    if reason is not None:
        raise RuntimeError(f"backend='gpu' cannot run: {reason}.")
    return CudaOps(), memory_budget()
