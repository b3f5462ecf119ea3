"""Fused dropout with a counter-based RNG: the same mask on every backend.

``y = x · keep / (1 - p)`` where ``keep`` comes from Philox4x32-10 through the
mapping of docs/design.md §6 (see :mod:`gpureg._philox`): it depends only on
``(seed, offset, element index, p)``, so the backward pass regenerates the
mask instead of storing it, and the CPU (numba) and GPU (``kernels/
dropout.cu``) give identical masks, bit for bit, for every dtype.

Arrays: numpy (CPU), CuPy (GPU) and torch tensors (CPU or CUDA, read and
written in place through DLPack, no copy); results come back in the caller's
family, shape and dtype.  dtypes: float16, bfloat16 (torch, or numpy through
``ml_dtypes``), float32 (float32 arithmetic) and float64 (float64
arithmetic).  Values are rounded to the dtype once, to nearest even; NaN
payloads of 16-bit results may differ between backends, masks never do.

This module checks the arguments, adapts the caller's arrays and picks where
to compute; the storage and the launchers live in the backends
(:mod:`gpureg.backends._dropout_cpu`, numba, and
:mod:`gpureg.backends._dropout_gpu`, CuPy, with the same functions), so that
this module never imports cupy.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

_TAGS = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16"}
_U64 = 2**64


# ------------------------------------------------------------------ checks


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, Real):
        raise TypeError(f"p must be a real number in [0, 1], got {p!r}.")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}.")
    return p


def _check_u64(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a non-negative integer, got {value!r}.")
    value = int(value)
    if not 0 <= value < _U64:
        raise ValueError(f"{name} must lie in [0, 2**64), got {value}.")
    return value


def threshold(p: float) -> int:
    """``round(p · 2³²)`` (half to even): ``keep_i = r_i >= threshold``.

    Parameters
    ----------
    p : float
        Drop probability in [0, 1].

    Returns
    -------
    int
        In [0, 2**32].
    """
    return int(np.rint(np.float64(p) * 2.0**32))


def _scale(p: float, tag: str):
    """``1 / (1 - p)`` in the arithmetic dtype (float32, float64 for F64)."""
    if p >= 1.0:
        return 0.0
    s = 1.0 / (1.0 - p)
    return float(s) if tag == "F64" else float(np.float32(s))


# ---------------------------------------------------------- array families

#: The family label of a CuPy array, for messages (``_dropout_gpu`` tells
#: CuPy arrays apart without importing cupy).
_DEVICE_ARRAY = "cupy"


def _backend_module(on_device: bool):
    """The backend module of one side: its storage helpers and launchers.

    ``gpureg.backends._dropout_gpu`` (CuPy) for device memory,
    ``gpureg.backends._dropout_cpu`` (numpy and numba) for host memory; both
    have the same functions.  Imported on first use.
    """
    if on_device:
        from .backends import _dropout_gpu

        return _dropout_gpu
    from .backends import _dropout_cpu

    return _dropout_cpu


def _on_device(a) -> bool:
    """True for a device (CUDA) array: it exposes the CUDA array interface."""
    return hasattr(a, "__cuda_array_interface__")


def _host(a):
    """``a`` in host memory (a device-to-host copy for a device array)."""
    return _backend_module(True).to_host(a) if _on_device(a) else a


class _Operand:
    """One array argument: its family, a flat storage view, dtype tag, shape."""

    def __init__(self, a, name):
        self.name = name
        self.original = a
        mod = type(a).__module__.split(".")[0]
        if mod == "torch":
            self._init_torch(a)
        elif _backend_module(True).is_device_array(a):
            self.family = _DEVICE_ARRAY
            self._init_array(a, a.dtype)
        else:
            if hasattr(a, "tocsr"):
                raise TypeError(
                    f"{name} is a sparse matrix; dropout needs a dense array."
                )
            arr = np.asarray(a)
            self.family = "numpy"
            self._init_array(arr, arr.dtype)

    def _init_array(self, arr, dtype):
        tag = _TAGS.get(np.dtype(dtype).name)
        if tag is None:
            raise TypeError(
                f"{self.name} must be a floating-point array (float16, bfloat16, "
                f"float32 or float64), got dtype {np.dtype(dtype).name}."
            )
        self.tag = tag
        self.shape = tuple(arr.shape)
        self.dtype = arr.dtype
        flat = self.home.flatten(arr)
        self.storage = flat.view(np.uint16) if tag in ("F16", "BF16") else flat

    def _init_torch(self, t):
        import torch

        names = {
            torch.float32: "float32",
            torch.float64: "float64",
            torch.float16: "float16",
            torch.bfloat16: "bfloat16",
        }
        if t.dtype not in names:
            raise TypeError(
                f"{self.name} must be a floating-point tensor (float16, bfloat16, "
                f"float32 or float64), got {t.dtype}."
            )
        self.tag = _TAGS[names[t.dtype]]
        self.shape = tuple(t.shape)
        self.dtype = t.dtype
        t = t.detach().contiguous().reshape(-1)
        self.torch_tensor = t
        view = t.view(torch.int16) if self.tag in ("F16", "BF16") else t
        self.family = "torch-cuda" if t.is_cuda else "torch-cpu"
        store = self.home.from_torch(view)
        self.storage = store.view(np.uint16) if self.tag in ("F16", "BF16") else store

    @property
    def on_device(self) -> bool:
        """Whether the data is in GPU memory."""
        return self.family in (_DEVICE_ARRAY, "torch-cuda")

    @property
    def home(self):
        """The backend module of the memory the data lives in."""
        return _backend_module(self.on_device)

    def empty_like(self, backend):
        """``(result in the caller's family, flat storage view to write into)``.

        ``backend`` is the backend module that computes: a torch result is
        allocated by torch when it computes where the tensor lives.
        """
        if self.family.startswith("torch") and backend is self.home:
            import torch

            out = torch.empty(
                self.shape, dtype=self.dtype, device=self.torch_tensor.device
            )
            flat = out.reshape(-1)
            view = flat.view(torch.int16) if self.tag in ("F16", "BF16") else flat
            store = backend.from_torch(view)
            if self.tag in ("F16", "BF16"):
                store = store.view(np.uint16)
            return out, store
        store = backend.empty(self.storage.shape, self.storage.dtype)
        return None, store

    def device_context(self, backend, others):
        """Where ``backend`` computes: the data's device (and torch's stream).

        Every device operand of ``others`` must be on that device.
        """
        if not self.on_device:
            return backend.device_context(None)
        torch_device = self.torch_tensor.device if self.family == "torch-cuda" else None
        return backend.device_context(
            self.storage,
            [(o.name, o.storage) for o in others if o is not None],
            torch_device,
        )

    def wrap(self, store):
        """An array of the caller's family, shape and dtype holding ``store``."""
        if self.family == "numpy":
            return _host(store).view(self.dtype).reshape(self.shape)
        if self.family == _DEVICE_ARRAY:
            return self.home.asarray(store).view(self.dtype).reshape(self.shape)
        import torch

        data = _host(store)
        if self.tag in ("F16", "BF16"):
            t = torch.from_numpy(data.view(np.int16)).view(self.dtype)
        else:
            t = torch.from_numpy(data)
        return t.reshape(self.shape).to(self.torch_tensor.device)

    def wrap_mask(self, words):
        """The mask words in the caller's family (uint32; torch: int32 view)."""
        if self.family == "numpy":
            return _host(words)
        if self.family == _DEVICE_ARRAY:
            return self.home.asarray(words)
        import torch

        if _on_device(words) and self.family == "torch-cuda":
            # stays on the device; DLPack orders it on torch's current stream
            return torch.from_dlpack(words.view(np.int32))
        host = _host(words)
        return torch.from_numpy(host.view(np.int32)).to(self.torch_tensor.device)


# ----------------------------------------------------------------- compute


def _run(
    x,
    p,
    seed,
    offset,
    return_mask,
    backend,
    residual=None,
    bias=None,
    name="x",
    backward=False,
):
    p = _check_p(p)
    seed = _check_u64(seed, "seed")
    offset = _check_u64(offset, "offset")
    if backend not in ("auto", "cpu", "gpu"):
        raise ValueError(f"backend must be 'auto', 'cpu' or 'gpu', got {backend!r}.")
    X = _Operand(x, name)
    R = None if residual is None else _Operand(residual, "residual")
    B = None if bias is None else _Operand(bias, "bias")
    for other in (R, B):
        if other is None:
            continue
        if other.family != X.family or other.tag != X.tag:
            raise TypeError(
                f"{other.name} must be the same kind of array and dtype "
                f"as {name} ({X.family}, {X.tag})."
            )
    if R is not None and R.shape != X.shape:
        raise ValueError(f"residual has shape {R.shape}, {name} has {X.shape}.")
    bias_n = 1
    if B is not None:
        if len(X.shape) == 0 or B.shape != X.shape[-1:]:
            raise ValueError(
                f"bias must have shape {X.shape[-1:]} (the last axis "
                f"of {name}), got {B.shape}."
            )
        bias_n = int(B.shape[0])
    on_gpu = X.on_device if backend == "auto" else backend == "gpu"
    if on_gpu:
        from .backends import _gpu as gpu_backend

        reason = gpu_backend.missing_reason()
        if reason is not None:
            raise RuntimeError(f"dropout on the GPU cannot run: {reason}.")
    be = _backend_module(on_gpu)
    with X.device_context(be, (R, B)):
        # everything from the launch to the results (the mask's copy to the
        # host included) is ordered on the launch's device and stream
        result, store = X.empty_like(be)
        n = int(np.prod(X.shape, dtype=np.int64))
        thr, scale = threshold(p), _scale(p, X.tag)
        if backward:
            be.dropout_backward(
                be.asarray(X.storage), store, n, X.tag, seed, offset, thr, scale
            )
            words = None
        else:
            words = be.dropout_forward(
                be.asarray(X.storage),
                None if R is None else be.asarray(R.storage),
                None if B is None else be.asarray(B.storage),
                store,
                n,
                bias_n,
                X.tag,
                seed,
                offset,
                thr,
                scale,
                return_mask,
            )
        y = result if result is not None else X.wrap(store)
        if return_mask:
            return y, X.wrap_mask(words)
    return y


# ---------------------------------------------------------------- public API


def dropout(
    x: Any,
    p: float = 0.5,
    *,
    seed: int,
    offset: int = 0,
    training: bool = True,
    return_mask: bool = False,
    backend: str = "auto",
) -> Any:
    """Dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    Parameters
    ----------
    x : array of shape (...)
        numpy, CuPy or torch; float16, bfloat16, float32 or float64.
    p : float, default=0.5
        Drop probability in [0, 1]; 1 drops everything.
    seed : int
        In [0, 2**64): the Philox key.
    offset : int, default=0
        In [0, 2**64): the counter's upper half (a new offset, a new mask).
    training : bool, default=True
        False returns ``x`` itself (the identity).
    return_mask : bool, default=False
        Also return the bit-packed mask: uint32 words of shape
        ``(ceil(x.size / 32),)``, bit ``i mod 32`` of word ``i div 32`` set
        when element i (C order) is kept (little-endian, so the same bytes
        read as uint8 hold bit ``i mod 8`` of byte ``i div 8``).
    backend : {'auto', 'cpu', 'gpu'}, default='auto'
        'auto' runs where x lives.

    Returns
    -------
    y : array of x's shape, dtype and family
    mask : array of uint32, shape (ceil(x.size / 32),)
        Only with ``return_mask=True``.

    Examples
    --------
    >>> import numpy as np, gpureg
    >>> y = gpureg.dropout(np.ones(8, np.float32), 0.5, seed=0)
    >>> sorted(set(y.tolist())) <= [0.0, 2.0]
    True
    """
    if not training:
        _check_p(p)
        if return_mask:
            size = int(np.prod(np.shape(x)))
            ones = np.full(-(-size // 32), 0xFFFFFFFF, dtype=np.uint32)
            if size % 32:
                ones[-1] = (1 << (size % 32)) - 1
            return x, _Operand(x, "x").wrap_mask(ones)
        return x
    return _run(x, p, seed, offset, return_mask, backend)


def dropout_backward(
    grad_y: Any, p: float, *, seed: int, offset: int = 0, backend: str = "auto"
) -> Any:
    """Gradient of :func:`dropout`: the same mask, regenerated from (seed, offset).

    Parameters
    ----------
    grad_y : array of shape (...)
    p : float
    seed, offset : int
        Those of the forward call.
    backend : {'auto', 'cpu', 'gpu'}, default='auto'

    Returns
    -------
    array of grad_y's shape, dtype and family
        ``grad_y · keep / (1 - p)``.
    """
    return _run(grad_y, p, seed, offset, False, backend, name="grad_y", backward=True)


def dropout_add(
    x: Any,
    residual: Any,
    p: float,
    *,
    bias: Any = None,
    seed: int,
    offset: int = 0,
    training: bool = True,
    return_mask: bool = False,
    backend: str = "auto",
) -> Any:
    """``residual + dropout(x + bias)`` in one pass (bias–dropout–residual).

    Parameters
    ----------
    x, residual : arrays of the same shape (...), family and dtype
    p : float
    bias : array of shape (x.shape[-1],), optional
    seed, offset : int
    training : bool, default=True
        False computes ``residual + x + bias`` (no dropout).
    return_mask : bool, default=False
    backend : {'auto', 'cpu', 'gpu'}, default='auto'

    Returns
    -------
    y : array of x's shape, dtype and family
    mask : array of uint32, shape (ceil(x.size / 32),)
        Only with ``return_mask=True``.
    """
    if not training:
        return _run(x, 0.0, 0, 0, return_mask, backend, residual=residual, bias=bias)
    return _run(x, p, seed, offset, return_mask, backend, residual=residual, bias=bias)


def dropout_add_backward(
    grad_y: Any,
    p: float,
    *,
    seed: int,
    offset: int = 0,
    bias: bool = False,
    backend: str = "auto",
) -> Any:
    """Gradients of :func:`dropout_add` with respect to x, residual and bias.

    Parameters
    ----------
    grad_y : array of shape (...)
    p : float
    seed, offset : int
        Those of the forward call.
    bias : bool, default=False
        Whether the forward call had a bias (then its gradient is returned).
    backend : {'auto', 'cpu', 'gpu'}, default='auto'

    Returns
    -------
    grad_x : array like grad_y
        ``grad_y · keep / (1 - p)``.
    grad_residual : array like grad_y
        ``grad_y`` itself.
    grad_bias : array of shape (grad_y.shape[-1],) or None
        ``grad_x`` summed over every axis but the last.
    """
    grad_x = dropout_backward(grad_y, p, seed=seed, offset=offset, backend=backend)
    grad_bias = None
    if bias:
        grad_bias = grad_x.reshape(-1, grad_x.shape[-1]).sum(0)
    return grad_x, grad_y, grad_bias


class Dropout:
    """A dropout layer: a seed drawn once, a fresh offset at every call.

    Parameters
    ----------
    p : float, default=0.5
    seed : int or None, default=None
        None draws one from the operating system's entropy.

    Attributes
    ----------
    training : bool
        ``train()`` / ``eval()`` switch it.
    offset : int
        Offset of the next call; each call uses it and adds 1, so successive
        masks are independent and ``backward`` finds the last one's.
    """

    def __init__(self, p=0.5, seed=None):
        self.p = _check_p(p)
        if seed is None:
            seed = int(
                np.random.SeedSequence().generate_state(2, np.uint32).view(np.uint64)[0]
            )
        self.seed = _check_u64(seed, "seed")
        self.offset = 0
        self.training = True
        self._last = None
        self._last_shape = None

    def train(self):
        """Training mode (dropout applied); returns self."""
        self.training = True
        return self

    def eval(self):
        """Evaluation mode (identity); returns self."""
        self.training = False
        return self

    def __call__(self, x):
        """Apply dropout with the next offset (identity in eval mode).

        Parameters
        ----------
        x : array of shape (...)

        Returns
        -------
        array like x
        """
        self._last_shape = (
            tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)
        )
        if not self.training:
            self._last = None
            return x
        self._last = self.offset
        self.offset += 1
        return dropout(x, self.p, seed=self.seed, offset=self._last)

    def backward(self, grad_y):
        """Gradient of the last call, from its regenerated mask.

        Parameters
        ----------
        grad_y : array like the last input

        Returns
        -------
        array like grad_y

        Raises
        ------
        RuntimeError
            Before any forward call.
        ValueError
            When ``grad_y``'s shape is not the last input's.
        """
        if self._last_shape is None:
            raise RuntimeError(
                "Dropout.backward() was called before any forward "
                "call: there is no mask to regenerate."
            )
        shape = (
            tuple(grad_y.shape) if hasattr(grad_y, "shape") else tuple(np.shape(grad_y))
        )
        if shape != self._last_shape:
            raise ValueError(
                f"grad_y has shape {shape}, the last forward input "
                f"had shape {self._last_shape}."
            )
        if self._last is None:  # the last call was in eval mode: the identity
            return grad_y
        return dropout_backward(grad_y, self.p, seed=self.seed, offset=self._last)

    def __repr__(self):
        return f"Dropout(p={self.p}, seed={self.seed})"
