"""GPU side of :mod:`gpureg.dropout`: CuPy storage and the ``dropout_fwd`` launcher.

Every CuPy call dropout makes is here: telling CuPy arrays apart, their flat
storage, zero-copy views of torch CUDA tensors (DLPack), allocations, copies
to and from the host, the device and stream a launch runs on (torch's current
stream for torch tensors), and the launch of ``dropout_fwd<tag, VEC>``
(``kernels/dropout.cu``, loaded by :mod:`._kernels`).  :mod:`._dropout_cpu`
has the same functions on the host (numba); :mod:`gpureg.dropout` picks one
of the two and never imports cupy itself.

cupy is imported inside the functions only: importing this module never
touches the GPU.  Arrays are flat (1-D) storage views: the dtype of the data
for float32/float64, ``uint16`` words for float16/bfloat16 (``tag``
``"F32"``, ``"F64"``, ``"F16"`` or ``"BF16"``).
"""

from __future__ import annotations

import contextlib

import numpy as np

#: Threads per block of ``dropout_fwd`` (a multiple of 32 in [32, 1024]: the
#: mask's warp shuffles need whole warps; checked by ``_gpu.check_block``).
BLOCK = 256


# ------------------------------------------------------------------ storage


def is_device_array(a) -> bool:
    """Whether ``a`` is a CuPy array (told by its type's module, no import).

    Parameters
    ----------
    a : object

    Returns
    -------
    bool
    """
    return type(a).__module__.split(".")[0] == "cupy"


def flatten(a):
    """A C-contiguous 1-D view of a CuPy array (a device copy only if needed).

    Parameters
    ----------
    a : cupy.ndarray of shape (...)

    Returns
    -------
    cupy.ndarray of shape (max(a.size, 1),)
        A 0-d array gives one element.
    """
    import cupy

    return cupy.ascontiguousarray(a).reshape(-1)


def from_torch(t):
    """The memory of a contiguous 1-D torch CUDA tensor as a CuPy array (DLPack).

    Parameters
    ----------
    t : torch.Tensor of shape (n,), on a CUDA device

    Returns
    -------
    cupy.ndarray of shape (n,)
        Shares ``t``'s memory (no copy).
    """
    import cupy

    return cupy.from_dlpack(t)


def asarray(a):
    """``a`` in device memory (a host-to-device copy unless it already is).

    Parameters
    ----------
    a : ndarray or cupy.ndarray of shape (...)

    Returns
    -------
    cupy.ndarray of shape (...)
    """
    import cupy

    return cupy.asarray(a)


def to_host(a):
    """``a`` in host memory (a device-to-host copy for a CuPy array).

    Parameters
    ----------
    a : cupy.ndarray or ndarray of shape (...)

    Returns
    -------
    ndarray of shape (...)
    """
    return a.get() if hasattr(a, "__cuda_array_interface__") else np.asarray(a)


def empty(shape, dtype):
    """An uninitialised device array.

    Parameters
    ----------
    shape, dtype
        As in the CPU twin, :func:`gpureg.backends._dropout_cpu.empty`.

    Returns
    -------
    cupy.ndarray of shape ``shape``
    """
    import cupy

    return cupy.empty(shape, dtype=dtype)


def device_context(x, others=(), torch_device=None):
    """Where a launch on ``x`` runs: its device (and torch's current stream).

    CuPy launches on the *current* device: data on another one must bring
    its device along (``cupy.cuda.Device``), and a torch CUDA tensor its
    device and torch's current stream (``cupy.cuda.ExternalStream``), so
    that the kernel and every copy after it are ordered on that stream.

    Parameters
    ----------
    x : cupy.ndarray of shape (n,) or None
        The data's flat storage; None (host data) runs on the current device
        and stream.
    others : sequence of (str, cupy.ndarray)
        The other device operands, by name; each must be on ``x``'s device.
    torch_device : torch.device, optional
        The device of ``x`` when it is a torch CUDA tensor.

    Returns
    -------
    contextlib.ExitStack
        Already entered; use it in a ``with`` statement.

    Raises
    ------
    ValueError
        When an operand of ``others`` is on another device.
    """
    ctx = contextlib.ExitStack()
    if x is None:
        return ctx
    import cupy

    if torch_device is not None:
        import torch

        device_id = torch_device.index
        ctx.enter_context(cupy.cuda.Device(device_id))
        ctx.enter_context(
            cupy.cuda.ExternalStream(
                torch.cuda.current_stream(torch_device).cuda_stream
            )
        )
    else:
        device_id = x.device.id
        ctx.enter_context(cupy.cuda.Device(device_id))
    for name, other in others:
        if other.device.id != device_id:
            ctx.close()
            raise ValueError(
                f"{name} is on CUDA device {other.device.id}, x on device {device_id}."
            )
    return ctx


# ------------------------------------------------------------------ launcher


def dropout_forward(
    x, residual, bias, out, n, bias_n, tag, seed, offset, threshold, scale, want_mask
):
    """Launch ``dropout_fwd<tag, VEC>``: fused bias, dropout and residual.

    ``out = residual + (keep ? (x + b)·scale : 0)``, ``keep`` from the
    docs/design.md §6 mapping.  ``VEC`` (16-byte vector loads) when x, residual
    and out are 16-byte aligned; a grid of at most 32 blocks of
    :data:`BLOCK` threads per SM, striding over the array.  Runs on the
    current device and stream (see :func:`device_context`).

    Parameters
    ----------
    x, out : cupy.ndarray of shape (n,)
        Device storage; ``out`` is written.
    residual : cupy.ndarray of shape (n,) or None
    bias : cupy.ndarray of shape (bias_n,) or None
    n, bias_n, tag, seed, offset, threshold, scale
        As in the CPU twin, :func:`gpureg.backends._dropout_cpu.dropout_forward`,
        which describes every parameter.
    want_mask : bool
        Also write the bit-packed mask, on the device.

    Returns
    -------
    cupy.ndarray of uint32, shape (ceil(n / 32),), or None
        The mask words of the CPU twin, on the device; None unless
        ``want_mask``.
    """
    import cupy

    from ._gpu import check_block
    from ._kernels import get_function

    block = check_block(BLOCK)
    E = 4 if tag in ("F32", "F64") else 8
    n_chunks = -(-n // E)
    words = cupy.zeros(-(-n // 32), dtype=np.uint32) if want_mask else None
    if n == 0:
        return words
    arrays = [a for a in (x, residual, out) if a is not None]
    vec = all(a.data.ptr % 16 == 0 for a in arrays)
    kernel = get_function(
        "dropout.cu", f"dropout_fwd<{tag}, {'true' if vec else 'false'}>"
    )
    sms = cupy.cuda.Device().attributes["MultiProcessorCount"]
    grid = max(1, min(-(-n_chunks // block), 32 * sms))
    null = np.uintp(0)
    kernel(
        (grid,),
        (block,),
        (
            x,
            null if residual is None else residual,
            null if bias is None else bias,
            out,
            null if words is None else words,
            np.int64(n),
            np.int64(bias_n),
            np.uint32(seed & 0xFFFFFFFF),
            np.uint32(seed >> 32),
            np.uint32(offset & 0xFFFFFFFF),
            np.uint32(offset >> 32),
            np.uint64(threshold),
            np.float64(scale),
        ),
    )
    return words


def dropout_backward(grad_y, out, n, tag, seed, offset, threshold, scale):
    """``out = grad_y · keep / (1 - p)``: the forward mask, regenerated on the device.

    Parameters
    ----------
    grad_y, out : cupy.ndarray of shape (n,)
        Device storage; ``out`` is written.
    n, tag, seed, offset, threshold, scale
        As in the CPU twin, :func:`gpureg.backends._dropout_cpu.dropout_backward`.
    """
    dropout_forward(
        grad_y, None, None, out, n, 1, tag, seed, offset, threshold, scale, False
    )
