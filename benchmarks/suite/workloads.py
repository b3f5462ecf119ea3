"""The suite's workloads: fixed problems every library solves identically.

===========  =====================  =====  ===========================  ======
workload     X                      folds  l1_ratios                    alphas
===========  =====================  =====  ===========================  ======
``w1``       10,000 × 1,000         5      [0.1, 0.5, 0.7, 0.9, 1.0]    100
``w2``       100,000 × 2,000        10     linspace(0.05, 1, 20)        100
``pn``       500 × 20,000 (p ≫ n)   5      [0.5, 0.9, 1.0]              100
``h1``       2,000 × 5,000, ρ = 0.9  5      [0.5, 1.0]                   100
``h2``       200,000 × 100 (n ≫ p)  10     [0.1, 0.5, 0.7, 0.9, 1.0]    100
``float32``  W1 in float32          5      as W1 (gpureg only)          100
``scaling``  2,000 × 100            2–9    1–100 values (gpureg._bench)  5–100
===========  =====================  =====  ===========================  ======

X is ``benchmarks._common.make_w1``'s Toeplitz(ρ)-correlated Gaussian design
(``cov_ij = ρ^|i-j|``; ρ = 0.5 except H1's 0.9: wide and highly correlated,
as in genomics) with
``min(50, p // 4)`` non-zero true coefficients and noise σ = 3; folds are
``KFold(n_folds)`` without shuffling, materialized once; the alphas are
gpureg's default grid (100 values log-spaced from each l1_ratio's
``alpha_max`` down to ``1e-3 alpha_max``, computed on the full data), the same
array for every library; ``tol = 1e-4``, ``max_iter = 1000``.

``--quick`` shrinks each problem (W1 and float32 2,000 × 200, W2 10,000 × 500,
p ≫ n 200 × 2,000, H1 400 × 1,000, H2 20,000 × 100); ``--shape pn=500x5000``
overrides one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold

from .._common import L1_RATIOS, make_w1
from .adapters import default_alphas

TOL = 1e-4
MAX_ITER = 1000
N_ALPHAS = 100

GPUREG_ONLY = ("gpureg-cpu", "gpureg-gpu")


@dataclass(frozen=True)
class Workload:
    """A problem specification.

    Attributes
    ----------
    key, title : str
    shape, quick_shape : (int, int)
        ``(n_samples, n_features)`` of the full and the ``--quick`` problem.
    n_folds : int
    l1_ratios : tuple of float
    dtype : str
    rho : float
        Toeplitz correlation of neighbouring columns of X.
    libraries : tuple of str or None
        Libraries allowed on it (None: all).
    repeat : int
        Default number of timed runs (best is reported).
    """

    key: str
    title: str
    shape: tuple
    quick_shape: tuple
    n_folds: int
    l1_ratios: tuple
    dtype: str = "float64"
    rho: float = 0.5
    libraries: tuple | None = None
    repeat: int = 1


@dataclass
class Problem:
    """A built workload: data, folds and the common grid.

    Attributes
    ----------
    name : str
        ``W1``, ``W1-quick``, ``pn-500x5000`` …
    X : ndarray of shape (n_samples, n_features)
        In the workload's dtype.
    y : ndarray of shape (n_samples,)
    folds : list of (ndarray, ndarray)
    l1_ratios : ndarray of shape (n_l1_ratios,)
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    tol : float
    max_iter : int
    """

    name: str
    workload: Workload
    X: np.ndarray
    y: np.ndarray
    folds: list
    l1_ratios: np.ndarray
    alphas: np.ndarray
    tol: float = TOL
    max_iter: int = MAX_ITER

    @property
    def n_fits(self) -> int:
        """``(n_folds + 1) * n_l1_ratios * n_alphas``."""
        return (len(self.folds) + 1) * self.alphas.size


WORKLOADS = {
    "w1": Workload(
        "w1", "W1", (10_000, 1_000), (2_000, 200), 5, tuple(L1_RATIOS), repeat=3
    ),
    "w2": Workload(
        "w2",
        "W2",
        (100_000, 2_000),
        (10_000, 500),
        10,
        tuple(float(r) for r in np.linspace(0.05, 1.0, 20)),
    ),
    "pn": Workload("pn", "pn", (500, 20_000), (200, 2_000), 5, (0.5, 0.9, 1.0)),
    "h1": Workload("h1", "H1", (2_000, 5_000), (400, 1_000), 5, (0.5, 1.0), rho=0.9),
    "h2": Workload(
        "h2", "H2", (200_000, 100), (20_000, 100), 10, tuple(L1_RATIOS), repeat=3
    ),
    "float32": Workload(
        "float32",
        "W1-float32",
        (10_000, 1_000),
        (2_000, 200),
        5,
        tuple(L1_RATIOS),
        dtype="float32",
        libraries=GPUREG_ONLY,
        repeat=3,
    ),
}

#: Workloads that are not fixed problems (run by ``gpureg._bench``).
SERIES = ("scaling",)


def build(key, *, quick=False, shape=None, seed=0):
    """Generate the data, folds and alpha grid of a workload.

    Parameters
    ----------
    key : {'w1', 'w2', 'pn', 'h1', 'h2', 'float32'}
    quick : bool, default=False
        The smaller ``quick_shape`` problem.
    shape : (int, int), optional
        Overrides the ``(n_samples, n_features)`` of the workload.
    seed : int, default=0

    Returns
    -------
    Problem
        The alphas are computed on the float64 data (for ``float32``: the
        float32 X cast back to float64, the data every fit sees).
    """
    spec = WORKLOADS[key]
    default = spec.quick_shape if quick else spec.shape
    n, p = shape or default
    X, y = make_w1(n, p, n_informative=max(1, min(50, p // 4)), rho=spec.rho, seed=seed)
    X, y = X.astype(spec.dtype), y.astype(spec.dtype)
    l1_ratios = np.array(spec.l1_ratios)
    alphas = default_alphas(X, y, l1_ratios, N_ALPHAS)
    folds = [(train, test) for train, test in KFold(spec.n_folds).split(X)]
    name = spec.title
    if shape is not None and tuple(shape) != tuple(spec.shape):
        name += f"-{n}x{p}"
    elif quick:
        name += "-quick"
    return Problem(name, spec, X, y, folds, l1_ratios, alphas)


def scaling_rows(backends, *, quick=False, max_fits=None, progress=False):
    """The scaling series, delegated to ``gpureg._bench.throughput_rows``.

    Parameters
    ----------
    backends : sequence of {'cpu', 'gpu', 'numpy', 'sklearn'}
    quick : bool, default=False
    max_fits : int, optional
        Keep only the default grids of at most this many gpureg fits.
    progress : bool, default=False

    Returns
    -------
    list of dict
    """
    from gpureg import _bench

    sizes = None
    if quick and max_fits is not None:
        max_fits = min(max_fits, _bench.QUICK_MAX_FITS)
    if max_fits is not None:
        sizes = [
            s for s in _bench.DEFAULT_SIZES if (s[2] + 1) * s[1] * s[0] <= max_fits
        ]
    return _bench.throughput_rows(
        backends=tuple(backends), sizes=sizes, quick=quick, progress=progress
    )
