"""GPU backend (CuPy raw kernels): placeholder until the GPU issue lands.

Only this module and the kernel loader may import cupy, and only inside
functions: importing gpureg never touches the GPU.
"""

from __future__ import annotations

#: Flipped to True when the CuPy solver is in place; until then ``"auto"``
#: resolves to the CPU even on a machine with a GPU.
IMPLEMENTED = False


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
    if not IMPLEMENTED:
        return "the GPU solver is not implemented in this version of gpureg yet"
    return None


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


def solve_paths(batch, alphas, l1_ratios, penalty_factor, *, positive, tol, max_iter,
                progress=None):
    """Same contract as ``backends._numba.solve_paths`` (not implemented yet)."""
    raise RuntimeError(f"backend='gpu' cannot run: {missing_reason()}.")
