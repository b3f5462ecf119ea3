"""The backend contract's functions shared by the host backends (cpu, numpy)."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path

import numpy as np

from .._batch import build_gram_batch, build_residual_batch

#: What ``_numba`` and ``_numpy`` take from here (``from ._host import *``).
__all__ = [
    "array_module",
    "build_batch",
    "caller_state",
    "device_name",
    "is_available",
    "memory_budget",
    "missing_reason",
    "synchronize",
    "to_device",
    "to_host",
]


def is_available() -> bool:
    """Host backends always run."""
    return True


def missing_reason() -> None:
    """Nothing is missing on the host."""
    return None


def array_module():
    """Where this backend keeps its arrays: numpy."""
    return np


def to_device(a):
    """``a`` as a numpy array (the host is the device)."""
    return np.asarray(a)


def to_host(a):
    """``a`` as a numpy array."""
    return np.asarray(a)


def synchronize() -> None:
    """Nothing is queued on the host."""


def device_name() -> str:
    """CPU model name and core count (``/proc/cpuinfo``, else ``platform``)."""
    name = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} ({os.cpu_count()} cores)"


def memory_budget() -> None:
    """Host backends keep the Grams in host memory: no device budget."""
    return None


def caller_state():
    """No device state to carry into a worker thread."""
    return contextlib.nullcontext


def build_batch(
    X, y, W, *, mode, fit_intercept, standardize, dtype, X_device=None, timings=None
):
    """Every training set's problems in host memory (see ``_contract.Backend``)."""
    build = build_gram_batch if mode == "gram" else build_residual_batch
    return build(
        X, y, W, fit_intercept=fit_intercept, standardize=standardize, dtype=dtype
    )
