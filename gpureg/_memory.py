"""Host-memory planning: fit a grid within a budget, or refuse it at once.

A grid's largest arrays are its coefficients, ``n_sets × n_l1_ratios ×
n_alphas × n_features`` doubles, and (Gram form) one ``n_features²`` Gram per
training set.  Only the full-data path is returned; the fold fits are needed
just long enough to score them.  :func:`plan_grid` therefore cuts the jobs
(one job = one training set × one l1_ratio, a whole alpha path) into chunks
that are solved, scored and dropped one after another, so that the call's
own allocations stay within the budget.  When not even one job fits next to
what every chunk shares, the call is refused before any work, with the size
it would need.  Chunked results equal unchunked ones: each job is solved the
same way whatever chunk it is in.

The budget is ``memory_limit`` (bytes, or a string such as ``"8GB"``), else
the ``GPUREG_MEMORY_LIMIT`` environment variable, else
:data:`AVAILABLE_FRACTION` of the memory available when the call starts
(``MemAvailable`` of ``/proc/meminfo``, capped by a cgroup limit).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

#: Default budget: this fraction of the memory available at the call.
AVAILABLE_FRACTION = 0.7

#: Gram form is used only while its matrices (and the held-out blocks kept
#: for scoring) take at most this fraction of the budget; larger problems use
#: residual form, whose memory does not grow with ``n_features²``.
GRAM_SHARE = 0.5

_UNITS = {
    "": 1,
    "B": 1,
    "K": 10**3,
    "KB": 10**3,
    "M": 10**6,
    "MB": 10**6,
    "G": 10**9,
    "GB": 10**9,
    "T": 10**12,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def parse_bytes(value, name: str = "memory_limit") -> int:
    """Bytes from an int, a float or a string such as ``"512MiB"`` or ``"8GB"``.

    Raises
    ------
    TypeError
        For another type (a bool included).
    ValueError
        For a string that is not a size, or a size that is not positive.
    """
    if isinstance(value, bool) or not isinstance(
        value, (int, float, str, np.integer, np.floating)
    ):
        raise TypeError(
            f"{name} must be a number of bytes or a string such as "
            f"'8GB', got {type(value).__name__}."
        )
    if isinstance(value, str):
        m = re.fullmatch(
            r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", value
        )
        if m is None or m.group(2).upper() not in _UNITS:
            raise ValueError(
                f"{name}={value!r} is not a size; use bytes or a "
                "string such as '512MiB' or '8GB'."
            )
        value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}.")
    return int(value)


def available_bytes() -> int:
    """Memory the process can still take: ``MemAvailable`` or a cgroup's room.

    Falls back to psutil where installed, then to half the physical memory.
    """
    found = []
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except OSError:
        pass
    try:  # a container's limit (cgroup v2)
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = int(fh.read().strip())
        if limit != "max":
            found.append(max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    if found:
        return min(found)
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic OS
        return 8 * 2**30


def memory_budget(memory_limit=None) -> int:
    """The call's budget in bytes (see the module docstring for the order)."""
    if memory_limit is not None:
        return parse_bytes(memory_limit)
    env = os.environ.get("GPUREG_MEMORY_LIMIT")
    if env:
        return parse_bytes(env, "GPUREG_MEMORY_LIMIT")
    return int(AVAILABLE_FRACTION * available_bytes())


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style text."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def require(nbytes: int, what: str, memory_limit=None) -> None:
    """Refuse at once a call that needs more than the budget.

    Parameters
    ----------
    nbytes : int
        Bytes the call will allocate.
    what : str
        The call, for the message ("this Ridge path", ...).
    memory_limit : int or str, optional
        As in :func:`memory_budget`.

    Raises
    ------
    MemoryError
        When ``nbytes`` exceeds the budget, with both sizes.
    """
    budget = memory_budget(memory_limit)
    if nbytes > budget:
        raise MemoryError(
            f"{what} needs at least {format_bytes(nbytes)} of memory, more than "
            f"the budget of {format_bytes(budget)}. Use fewer alphas, or raise "
            "the GPUREG_MEMORY_LIMIT environment variable (default "
            f"{AVAILABLE_FRACTION:.0%} of available memory)."
        )


@dataclass
class GridPlan:
    """How a grid is solved within its memory budget.

    Attributes
    ----------
    mode : {'gram', 'residual'}
    chunks : list of (slice, ndarray)
        Training sets and l1_ratio indices of each chunk, in order.
    budget : int
        Bytes allowed.
    shared_bytes : int
        Bytes every chunk shares (statistics, Grams, the full-data path).
    job_bytes : int
        Bytes one job needs while it is solved and scored.
    """

    mode: str
    chunks: list
    budget: int
    shared_bytes: int
    job_bytes: int

    @property
    def peak_bytes(self) -> int:
        """Planned peak: what is shared plus the largest chunk's jobs."""
        biggest = max(len(range(*s.indices(10**18))) * ls.size for s, ls in self.chunks)
        return self.shared_bytes + biggest * self.job_bytes


def gram_bytes(n_features: int, n_sets: int, itemsize: int) -> int:
    """Peak bytes of the Gram form's matrices.

    The ``n_sets`` Grams in the working dtype, the held-out blocks kept for
    scoring (float64, one per fold) and four float64 temporaries of the build.
    """
    p2 = n_features * n_features
    return n_sets * p2 * itemsize + (max(n_sets - 1, 0) + 4) * p2 * 8


def choose_mode(
    n_samples: int,
    n_features: int,
    n_sets: int,
    itemsize: int,
    budget: int | None = None,
) -> str:
    """Pick covariance (Gram) or residual updates.

    ``'gram'`` when ``n_samples >= n_features`` and the Gram matrices of the
    ``n_sets`` training sets (:func:`gram_bytes`) take at most
    :data:`GRAM_SHARE` of ``budget`` bytes (default: :func:`memory_budget`);
    else ``'residual'``.
    """
    if n_samples < n_features:
        return "residual"
    budget = memory_budget() if budget is None else budget
    if gram_bytes(n_features, n_sets, itemsize) <= GRAM_SHARE * budget:
        return "gram"
    return "residual"


def plan_grid(
    *,
    n_samples,
    n_features,
    n_sets,
    n_l1,
    n_alphas,
    itemsize,
    x_is_float64,
    n_test,
    budget,
    gram_budget=None,
    x_nnz=None,
) -> GridPlan:
    """Choose the mode and cut the jobs into chunks that fit ``budget`` bytes.

    Parameters
    ----------
    n_samples, n_features : int
    n_sets : int
        Training sets: folds + 1 (the full data, last).
    n_l1, n_alphas : int
    itemsize : int
        Bytes per value of the working dtype.
    x_is_float64 : bool
        Whether X already is float64 (else scoring and statistics copy it).
    n_test : int
        Largest number of held-out rows of a fold.
    budget : int
        Host bytes the call may allocate.
    gram_budget : int, optional
        Device bytes, when the Gram matrices live on a GPU: they are then
        checked against this budget and take no host memory.
    x_nnz : int, optional
        Non-zeros of a scipy.sparse X: its copies (CSC, CSR, the squares) cost
        ``12 nnz`` bytes each instead of ``n p`` entries, and the residual
        form never densifies it.

    Returns
    -------
    GridPlan

    Raises
    ------
    MemoryError
        When the shared arrays and one job do not fit: the message gives the
        bytes needed, the budget and how to change either.
    """
    n, p = n_samples, n_features
    sparse = x_nnz is not None
    # a copy of X: dense n·p values, or a sparse matrix's data and indices
    x_copy = 12 * x_nnz + 8 * max(n, p) if sparse else n * p * 8
    # X as float64 (statistics, scoring), the per-set weight vectors and
    # statistics, and the held-out rows of X copied to score a fold
    base = (
        (x_copy if sparse else 0 if x_is_float64 else x_copy)
        + 3 * n_sets * n * 8
        + 6 * n_sets * p * 8
        + (x_copy if sparse else n_test * p * 8)
        + 2**20
    )  # 1 MiB: small objects
    # the full-data path, returned: coefficients (and their dtype copy)
    full = n_l1 * n_alphas * p * (8 + (itemsize if itemsize != 8 else 0))
    on_device = gram_budget is not None
    mode = choose_mode(n, p, n_sets, itemsize, gram_budget if on_device else budget)
    gram = 0 if on_device else gram_bytes(p, n_sets, itemsize)
    if mode == "gram":
        shared = base + gram + full
    elif sparse:
        # X as CSC in the working dtype and its squares (the statistics)
        shared = base + full + 2 * x_copy
    else:
        # X in the working dtype (column-major) and two float64 temporaries
        # while each set's statistics are computed
        shared = base + full + n * p * itemsize + 2 * n * p * 8
    # one job: its solver output, the original-scale copy and the scoring
    # product (n_alphas × p each), and the held-out predictions and residuals
    job = 3 * n_alphas * p * 8 + 3 * n_test * n_alphas * 8 + 64 * p
    room = budget - shared
    if room < job:
        raise MemoryError(
            f"this grid needs at least {format_bytes(shared + job)} of memory "
            f"({format_bytes(full)} for the returned path of {n_l1} l1_ratio(s) "
            f"× {n_alphas} alphas × {p} features"
            + (
                f", {format_bytes(gram)} for {n_sets} Gram matrices"
                if mode == "gram" and gram
                else ""
            )
            + f"), more than the budget of {format_bytes(budget)}. Use fewer "
            "alphas or l1_ratios, or raise memory_limit (--memory-limit of "
            "gpureg sweep) or the GPUREG_MEMORY_LIMIT environment variable "
            f"(default {AVAILABLE_FRACTION:.0%} of available memory)."
        )
    per_chunk = int(room // job)
    chunks = []
    if per_chunk >= n_sets * n_l1:
        chunks.append((slice(0, n_sets), np.arange(n_l1)))
    elif per_chunk >= n_l1:
        k = per_chunk // n_l1
        for start in range(0, n_sets, k):
            chunks.append((slice(start, min(start + k, n_sets)), np.arange(n_l1)))
    else:
        for t in range(n_sets):
            for start in range(0, n_l1, per_chunk):
                chunks.append(
                    (slice(t, t + 1), np.arange(start, min(start + per_chunk, n_l1)))
                )
    return GridPlan(
        mode=mode, chunks=chunks, budget=budget, shared_bytes=shared, job_bytes=job
    )
