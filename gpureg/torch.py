r"""PyTorch layers over gpureg's fused, reproducible dropout (``gpureg[torch]``).

* :class:`Dropout` and :class:`DropoutAdd` (``residual + dropout(x + bias)``)
  are ``torch.nn.Module``\\ s over ``torch.autograd.Function``\\ s whose
  backward pass *regenerates* the mask from ``(seed, offset)`` (docs/design.md
  §6) instead of storing it: no mask tensor is kept between the passes.
  CUDA tensors run the fused kernel (``kernels/dropout.cu``, through CuPy and
  DLPack, no copy), CPU tensors its numba twin; both give the same mask, bit
  for bit.
* Each call of a layer in training mode uses the layer's next offset, so
  every call draws a fresh mask and a backward pass finds its own call's
  mask however many calls came between.  The layer's ``(seed, offset)`` is
  part of its ``state_dict`` (``get_extra_state``): a run resumed from a
  checkpoint draws the masks the uninterrupted run would have drawn.
* :func:`mc_predict`: Monte Carlo dropout (Gal & Ghahramani, 2016), the
  predictive mean and standard deviation of a model over ``n_samples``
  dropout masks kept on at inference, deterministic for a seed.
* :func:`dropout` and :func:`dropout_add`: the functional forms, with
  explicit ``(seed, offset)`` (what ``torch.autograd.gradcheck`` needs).

Importing this module imports torch; ``import gpureg`` does not.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch
from torch import nn

from .dropout import _check_p, _check_u64
from .dropout import dropout as _dropout
from .dropout import dropout_add as _dropout_add

__all__ = ["Dropout", "DropoutAdd", "dropout", "dropout_add", "mc_predict"]

#: Offsets of one Monte Carlo sample: sample ``s`` of :func:`mc_predict`
#: starts every layer at offset ``s · MC_OFFSET_STRIDE``, so a layer called
#: several times in one forward pass never reuses another sample's masks.
MC_OFFSET_STRIDE = 2**32


class _DropoutFunction(torch.autograd.Function):
    """``dropout(x)``; backward regenerates the mask from (seed, offset)."""

    @staticmethod
    def forward(ctx, x, p, seed, offset):
        ctx.params = (p, seed, offset)
        return _dropout(x, p, seed=seed, offset=offset)

    @staticmethod
    def backward(ctx, grad_y):
        # the same masked scaling, as this Function again: differentiable
        # (double backward), and the mask is regenerated, not stored
        p, seed, offset = ctx.params
        return _DropoutFunction.apply(grad_y, p, seed, offset), None, None, None


class _DropoutAddFunction(torch.autograd.Function):
    """``residual + dropout(x + bias)``, fused; the same regenerated mask."""

    @staticmethod
    def forward(ctx, x, residual, bias, p, seed, offset):
        ctx.params = (p, seed, offset, bias is not None)
        return _dropout_add(x, residual, p, bias=bias, seed=seed, offset=offset)

    @staticmethod
    def backward(ctx, grad_y):
        p, seed, offset, has_bias = ctx.params
        needs_x, needs_residual, needs_bias = ctx.needs_input_grad[:3]
        grad_x = grad_bias = None
        if needs_x or (has_bias and needs_bias):
            grad_x = _DropoutFunction.apply(grad_y, p, seed, offset)
            if has_bias and needs_bias:
                grad_bias = grad_x.reshape(-1, grad_x.shape[-1]).sum(0)
        return grad_x, grad_y if needs_residual else None, grad_bias, None, None, None


def _check_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}.")
    return x


def dropout(
    x: torch.Tensor,
    p: float = 0.5,
    *,
    seed: int,
    offset: int = 0,
    training: bool = True,
) -> torch.Tensor:
    """Dropout of a tensor, differentiable, with an explicit ``(seed, offset)``.

    Parameters
    ----------
    x : torch.Tensor of shape (...)
        CPU or CUDA; float16, bfloat16, float32 or float64.
    p : float, default=0.5
        Drop probability in [0, 1].
    seed, offset : int
        In [0, 2**64): the mask is a function of them, the element's index
        and ``p`` only (:func:`gpureg.dropout`).
    training : bool, default=True
        False returns ``x`` itself.

    Returns
    -------
    torch.Tensor of x's shape, dtype and device
        ``x · keep / (1 - p)``; its gradient is ``grad · keep / (1 - p)``,
        from the same mask, regenerated.
    """
    _check_tensor(x, "x")
    p = _check_p(p)
    seed, offset = _check_u64(seed, "seed"), _check_u64(offset, "offset")
    if not training:
        return x
    return _DropoutFunction.apply(x, p, seed, offset)


def dropout_add(
    x: torch.Tensor,
    residual: torch.Tensor,
    p: float = 0.5,
    *,
    bias: torch.Tensor | None = None,
    seed: int,
    offset: int = 0,
    training: bool = True,
) -> torch.Tensor:
    """``residual + dropout(x + bias)`` in one pass, differentiable.

    Parameters
    ----------
    x, residual : torch.Tensor of shape (...)
        The same shape, dtype and device.
    p : float, default=0.5
    bias : torch.Tensor of shape (x.shape[-1],), optional
    seed, offset : int
    training : bool, default=True
        False computes ``residual + x + bias``.

    Returns
    -------
    torch.Tensor of x's shape, dtype and device
        Gradients: ``grad · keep / (1 - p)`` for x, ``grad`` for residual and
        the former summed over every axis but the last for bias.
    """
    _check_tensor(x, "x")
    _check_tensor(residual, "residual")
    if bias is not None:
        _check_tensor(bias, "bias")
    p = _check_p(p)
    seed, offset = _check_u64(seed, "seed"), _check_u64(offset, "offset")
    if not training:
        p = 0.0
    return _DropoutAddFunction.apply(x, residual, bias, p, seed, offset)


def _draw_seed() -> int:
    """A seed from the operating system's entropy, in [0, 2**64)."""
    state = np.random.SeedSequence().generate_state(2, np.uint32)
    return int(state.view(np.uint64)[0])


class _SeededDropout(nn.Module):
    """What both layers share: p, seed, offset and their state."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__()
        self.p = _check_p(p)
        self.seed = _draw_seed() if seed is None else _check_u64(seed, "seed")
        self.offset = 0

    def _next_offset(self) -> int:
        """The offset of this call; the layer moves on to the next one."""
        offset = self.offset
        self.offset = (offset + 1) % 2**64
        return offset

    def get_extra_state(self) -> dict:
        """``{"p", "seed", "offset"}``: saved in the module's ``state_dict``.

        Returns
        -------
        dict
        """
        return {"p": self.p, "seed": self.seed, "offset": self.offset}

    def set_extra_state(self, state: dict) -> None:
        """Restore what :meth:`get_extra_state` saved.

        Parameters
        ----------
        state : dict
            With keys ``"p"``, ``"seed"`` and ``"offset"``.
        """
        if not isinstance(state, dict) or not {"p", "seed", "offset"} <= set(state):
            raise ValueError(
                f"{type(self).__name__} state must be a dict with 'p', 'seed' and "
                f"'offset', got {state!r}."
            )
        self.p = _check_p(state["p"])
        self.seed = _check_u64(state["seed"], "seed")
        self.offset = _check_u64(state["offset"], "offset")

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed}"


class Dropout(_SeededDropout):
    """Dropout layer with a reproducible, regenerated mask.

    In training mode each call zeroes each element with probability ``p``
    and scales the rest by ``1 / (1 - p)``, with the mask of ``(seed,
    offset)``, then moves ``offset`` on by one; in evaluation mode it is the
    identity (``model.train()`` / ``model.eval()``).

    Parameters
    ----------
    p : float, default=0.5
        Drop probability in [0, 1].
    seed : int or None, default=None
        In [0, 2**64); None draws one from the operating system's entropy.

    Attributes
    ----------
    offset : int
        The offset of the next call.  ``seed`` and ``offset`` are saved in
        ``state_dict()`` and restored by ``load_state_dict()``.

    Examples
    --------
    >>> import torch
    >>> from gpureg.torch import Dropout
    >>> layer = Dropout(0.5, seed=0)
    >>> y = layer(torch.ones(8, requires_grad=True))
    >>> sorted(set(y.tolist())) <= [0.0, 2.0]
    True
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply dropout (training mode) or return x (evaluation mode).

        Parameters
        ----------
        x : torch.Tensor of shape (...)

        Returns
        -------
        torch.Tensor of x's shape, dtype and device
        """
        _check_tensor(x, "x")
        if not self.training:
            return x
        return _DropoutFunction.apply(x, self.p, self.seed, self._next_offset())


class DropoutAdd(_SeededDropout):
    """``residual + dropout(x + bias)`` in one pass, with a regenerated mask.

    The transformer block's bias–dropout–residual, reproducible as
    :class:`Dropout`.

    Parameters
    ----------
    p : float, default=0.5
    seed : int or None, default=None

    Attributes
    ----------
    offset : int
        As :class:`Dropout`'s.
    """

    def forward(
        self,
        x: torch.Tensor,
        residual: torch.Tensor,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``residual + dropout(x + bias)`` (evaluation mode: no dropout).

        Parameters
        ----------
        x, residual : torch.Tensor of shape (...)
        bias : torch.Tensor of shape (x.shape[-1],), optional

        Returns
        -------
        torch.Tensor of x's shape, dtype and device
        """
        _check_tensor(x, "x")
        _check_tensor(residual, "residual")
        if bias is not None:
            _check_tensor(bias, "bias")
        if not self.training:
            return _DropoutAddFunction.apply(x, residual, bias, 0.0, 0, 0)
        return _DropoutAddFunction.apply(
            x, residual, bias, self.p, self.seed, self._next_offset()
        )


def _layer_seed(seed: int, index: int) -> int:
    """Layer ``index``'s seed for the Monte Carlo run of ``seed``."""
    state = np.random.SeedSequence([seed, index]).generate_state(2, np.uint32)
    return int(state.view(np.uint64)[0])


def mc_predict(
    model: nn.Module,
    x: torch.Tensor,
    n_samples: int = 100,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte Carlo dropout: the predictive mean and spread over dropout masks.

    The model runs ``n_samples`` times on ``x`` in evaluation mode except for
    its dropout layers, which stay on (Gal & Ghahramani, 2016): each run is
    one thinned network of the ensemble dropout trains.  gpureg's layers get
    seeds derived from ``seed`` and their index in ``model.modules()``, and
    sample ``s`` starts them at offset ``s · 2**32``; torch's own dropout
    layers draw from torch's generator, seeded with ``seed`` (the caller's
    generator state is left as it was).  The result is therefore the same
    for the same seed, and the model's modes, seeds and offsets are restored
    afterwards.  No gradients are recorded.

    Parameters
    ----------
    model : torch.nn.Module
        Called as ``model(x)``; returns a tensor (for a classifier, let it
        return probabilities to average them).
    x : torch.Tensor of shape (n, ...)
    n_samples : int, default=100
        Number of masks (>= 1).
    seed : int, default=0
        In [0, 2**64).

    Returns
    -------
    mean : torch.Tensor of the model's output shape
        The mean of the ``n_samples`` outputs.
    std : torch.Tensor of the model's output shape
        Their standard deviation (``n_samples - 1`` in the denominator; 0
        for one sample).

    Raises
    ------
    ValueError
        When the model has no dropout layer (every sample would be the same)
        or ``n_samples < 1``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    _check_tensor(x, "x")
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral):
        raise TypeError(f"n_samples must be an integer, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1, got {n_samples}.")
    seed = _check_u64(seed, "seed")
    modules = list(model.modules())
    ours = [m for m in modules if isinstance(m, _SeededDropout)]
    theirs = [m for m in modules if isinstance(m, nn.modules.dropout._DropoutNd)]
    if not ours and not theirs:
        raise ValueError(
            "model has no dropout layer (gpureg.torch.Dropout / DropoutAdd or "
            "torch.nn.Dropout*): Monte Carlo dropout needs one."
        )
    modes = [m.training for m in modules]
    states = [m.get_extra_state() for m in ours]
    seeds = [_layer_seed(seed, i) for i in range(len(ours))]
    devices = [x.device] if x.is_cuda else []
    outs = []
    try:
        model.eval()
        for m in ours + theirs:
            m.train()
        with torch.no_grad(), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed % 2**63)
            for s in range(n_samples):
                for m, layer_seed in zip(ours, seeds, strict=True):
                    m.seed, m.offset = layer_seed, s * MC_OFFSET_STRIDE
                outs.append(model(x))
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.training = mode
        for m, state in zip(ours, states, strict=True):
            m.set_extra_state(state)
    stack = torch.stack(outs)
    std = stack.std(0) if n_samples > 1 else torch.zeros_like(stack[0])
    return stack.mean(0), std
