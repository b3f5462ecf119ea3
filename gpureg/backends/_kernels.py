"""Kernel loader: CUDA sources in ``kernels/`` → ``cupy.RawModule``, compiled lazily.

docs/design.md §5: the ``.cu`` files are read as text and compiled with NVRTC on
first use (never on import), once per device; templated kernels are
instantiated through ``name_expressions``.  A hash of the source goes into the
compile options so CuPy's on-disk cache never serves a stale binary.

The sources are found in an installed wheel (``gpureg/_kernels``, put there
by hatchling's ``force-include``) or in a source checkout (``kernels/`` at the
repository root).  Only modules of ``gpureg/backends/`` import cupy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Every kernel the GPU backend launches, by source file (name expressions).
KERNELS: dict[str, tuple[str, ...]] = {
    "enet_fista.cu": (
        "enet_fista_step<float>",
        "enet_fista_step<double>",
        "enet_gap<float>",
        "enet_gap<double>",
    ),
    "logistic.cu": tuple(
        f"{name}<{t}>"
        for name in ("logistic_residual", "logistic_step", "logistic_gap")
        for t in ("float", "double")
    ),
    "dropout.cu": tuple(
        f"dropout_fwd<{tag}, {vec}>"
        for tag in ("F32", "F64", "F16", "BF16")
        for vec in ("true", "false")
    ),
}

#: NVRTC options shared by every module.  ``--fmad=false``: no contraction of
#: ``a*b + c`` into FMA, so the kernels round as their numba twins do.
OPTIONS: tuple[str, ...] = ("--std=c++14", "--fmad=false")

_MODULES: dict = {}


def kernels_dir() -> Path:
    """Directory holding the ``.cu`` sources (wheel first, then checkout).

    Raises
    ------
    FileNotFoundError
        When neither location has the sources.
    """
    here = Path(__file__).resolve().parent.parent  # the gpureg package
    candidates = [here / "_kernels", here.parent / "kernels"]
    for d in candidates:
        if all((d / name).is_file() for name in (*KERNELS, *HEADERS)):
            return d
    raise FileNotFoundError(
        "gpureg's CUDA sources were not found in "
        + " or ".join(str(d) for d in candidates)
        + "; reinstall gpureg or run from a complete source checkout."
    )


#: Headers a module may ``#include "…"``: inlined by :func:`source`, so that
#: NVRTC needs no include path and the source hash covers them.
HEADERS: tuple[str, ...] = ("common.cuh",)


def source(filename: str) -> str:
    """The text of one kernel file, its :data:`HEADERS` includes inlined."""
    d = kernels_dir()
    text = (d / filename).read_text()
    for header in HEADERS:
        text = text.replace(f'#include "{header}"', (d / header).read_text())
    return text


def compile_options(filename: str) -> tuple[str, ...]:
    """NVRTC options for one file, with a hash of its source (cache key)."""
    digest = hashlib.sha256(source(filename).encode()).hexdigest()[:16]
    return OPTIONS + (f"-DGPUREG_SOURCE_HASH=0x{digest}ULL",)


def get_function(filename: str, name: str):
    """A compiled kernel of the current device (compiled on first request).

    Parameters
    ----------
    filename : str
        A key of :data:`KERNELS`.
    name : str
        One of its name expressions, e.g. ``"enet_gap<double>"``.

    Returns
    -------
    cupy.RawKernel
    """
    import cupy

    if name not in KERNELS.get(filename, ()):
        raise KeyError(f"{name!r} is not a kernel of {filename!r}.")
    key = (filename, cupy.cuda.Device().id)
    module = _MODULES.get(key)
    if module is None:
        module = cupy.RawModule(
            code=source(filename),
            options=compile_options(filename),
            name_expressions=list(KERNELS[filename]),
        )
        _MODULES[key] = module
    return module.get_function(name)
