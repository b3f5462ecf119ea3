"""Backends: modules with the same functions (:class:`._contract.Backend`).

``solve_paths(batch, alphas, l1_ratios, penalty_factor, *, positive, tol,
max_iter, progress)`` returns a :class:`~gpureg.backends._common.PathSolution`;
``build_batch``, ``to_device``/``to_host``, ``synchronize``, ``memory_budget``
and ``caller_state`` keep every device detail inside this package.

* ``"cpu"``  — numba coordinate descent, parallel over paths (``_numba``);
* ``"numpy"`` — the plain numpy reference, slow and obviously right (``_numpy``);
* ``"gpu"``  — CuPy raw kernels (``_gpu``);
* ``"auto"`` — the GPU when CuPy and a device are present, else the CPU.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

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
        return "gpu" if _gpu.is_available() else "cpu"
    if name == "gpu":
        reason = _gpu.missing_reason()
        if reason is not None:
            raise RuntimeError(f"backend='gpu' was requested but {reason}.")
    return name


def check_backend(name: str) -> str:
    """``name`` if it names a backend (resolved later, where the work runs).

    Raises
    ------
    ValueError
        Unless ``name`` is one of :data:`BACKENDS`.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}.")
    return name


def get_backend(name: str):
    """The backend module for a resolved name (imported on first use)."""
    return import_module(_MODULES[name], __name__)


def stacked_eigh(xp, M):
    """Eigen-decompositions of a stack of symmetric matrices, on ``xp``.

    numpy: one stacked ``eigh``.  CuPy's stacked ``eigh`` is batched Jacobi
    (``syevjBatched``), meant for matrices up to 32 × 32: beyond that one
    ``syevd`` per matrix is the fast path.

    Parameters
    ----------
    xp : module
        numpy, or the array module of a device backend.
    M : array of shape (n_mats, p, p)

    Returns
    -------
    e : array of shape (n_mats, p)
        Eigenvalues in ascending order.
    V : array of shape (n_mats, p, p)
        Eigenvectors in columns.
    """
    if xp is not np and M.shape[-1] > 32:
        pairs = [xp.linalg.eigh(M[t]) for t in range(M.shape[0])]
        return xp.stack([w for w, _ in pairs]), xp.stack([v for _, v in pairs])
    return xp.linalg.eigh(M)
