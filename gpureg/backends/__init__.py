"""Backends: private siblings with identical signatures (DESIGN.md §4).

``solve_paths(batch, alphas, l1_ratios, penalty_factor, *, positive, tol,
max_iter, progress)`` returns a :class:`~gpureg.backends._common.PathSolution`.

* ``"cpu"``  — numba coordinate descent, parallel over paths (``_numba``);
* ``"numpy"`` — the plain numpy reference, slow and obviously right (``_numpy``);
* ``"gpu"``  — CuPy raw kernels (``_gpu``);
* ``"auto"`` — the GPU when CuPy and a device are present, else the CPU.
"""

from __future__ import annotations

from importlib import import_module

BACKENDS = ("auto", "cpu", "gpu", "numpy")
_MODULES = {"cpu": "._numba", "numpy": "._numpy", "gpu": "._gpu"}


def resolve_backend(name: str) -> str:
    """Map ``name`` to a concrete backend, raising if an explicit one cannot run.

    Parameters
    ----------
    name : {'auto', 'cpu', 'gpu', 'numpy'}

    Returns
    -------
    str
        ``'cpu'``, ``'gpu'`` or ``'numpy'``.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}.")
    from . import _gpu

    if name == "auto":
        return "gpu" if _gpu.IMPLEMENTED and _gpu.is_available() else "cpu"
    if name == "gpu":
        reason = _gpu.missing_reason()
        if reason is not None:
            raise RuntimeError(f"backend='gpu' was requested but {reason}.")
    return name


def get_backend(name: str):
    """The backend module for a resolved name (imported on first use)."""
    return import_module(_MODULES[name], __name__)
