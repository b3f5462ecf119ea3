"""Shared data generators and reference formulas for the gpureg test-suite.

Everything here is plain numpy in float64 and independent of gpureg, so the
tests compare gpureg against formulas that do not share its code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# The helpers beside the tests (accuracy.py, cuda_emu/) import by name whatever
# pytest's import mode (prepend, append or importlib).
_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

#: Kinds of design understood by :func:`make_data`.
DATA_KINDS = ("iid", "toeplitz", "duplicated", "constant")


def make_data(n, p, kind="iid", seed=0):
    """A small regression problem ``(X, y)`` in float64.

    Parameters
    ----------
    n, p : int
        Samples and features.
    kind : {'iid', 'toeplitz', 'duplicated', 'constant'}
        * ``'iid'``: independent standard-normal columns.
        * ``'toeplitz'``: Gaussian columns with ``cov_ij = 0.9 ** |i - j|``.
        * ``'duplicated'``: iid, with column 1 an exact copy of column 0.
        * ``'constant'``: iid, with column ``p - 1`` equal to 2.0 everywhere.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    X : ndarray of shape (n, p)
        Columns have non-zero means (an offset of 0.5), so centering matters.
    y : ndarray of shape (n,)
        ``X β + 1.5 + ε`` with a sparse β (the first ``min(5, p)`` entries
        non-zero) and unit Gaussian noise ``ε``.
    """
    if kind not in DATA_KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {DATA_KINDS}")
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    if kind == "toeplitz":
        idx = np.arange(p)
        cov = 0.9 ** np.abs(idx[:, None] - idx[None, :])
        Z = Z @ np.linalg.cholesky(cov).T
    X = Z + 0.5
    if kind == "duplicated":
        if p < 2:
            raise ValueError("'duplicated' needs p >= 2")
        X[:, 1] = X[:, 0]
    elif kind == "constant":
        X[:, p - 1] = 2.0
    beta = np.zeros(p)
    k = min(5, p)
    beta[:k] = np.array([2.0, -1.5, 1.0, -0.5, 0.75])[:k]
    y = X @ beta + 1.5 + rng.standard_normal(n)
    return X, y


def enet_objective(
    X, y, w, b, alpha, l1_ratio, sample_weight=None, penalty_factor=None
):
    """scikit-learn's elastic-net objective, evaluated in float64.

    ``1/(2 n_w) Σ s_i (y_i - b - x_iᵀ w)² + alpha * l1_ratio * Σ f_j |w_j|
    + alpha * (1 - l1_ratio) / 2 * Σ f_j w_j²`` with ``n_w = Σ s_i``.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    s = (
        np.ones(y.shape[0])
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    f = (
        np.ones(X.shape[1])
        if penalty_factor is None
        else np.asarray(penalty_factor, dtype=np.float64)
    )
    r = y - float(b) - X @ w
    loss = 0.5 * np.sum(s * r * r) / np.sum(s)
    pen = alpha * l1_ratio * np.sum(f * np.abs(w)) + 0.5 * alpha * (
        1.0 - l1_ratio
    ) * np.sum(f * w * w)
    return float(loss + pen)


def weighted_center(X, y, sample_weight=None):
    """Center X and y by their (weighted) means.

    Returns
    -------
    Xc, yc, x_mean, y_mean
    """
    s = None if sample_weight is None else np.asarray(sample_weight, np.float64)
    x_mean = np.average(X, axis=0, weights=s)
    y_mean = float(np.average(y, weights=s))
    return X - x_mean, y - y_mean, x_mean, y_mean


def alpha_max_lasso(X, y, fit_intercept=True, sample_weight=None):
    """``max_j |Σ s_i x̃_ij ỹ_i| / n_w``: the smallest alpha zeroing every Lasso
    coefficient (computed independently of gpureg)."""
    s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    if fit_intercept:
        X, y, _, _ = weighted_center(X, y, s)
    return float(np.max(np.abs(X.T @ (s * y))) / np.sum(s))


def rel_diff(a, b):
    """Signed relative difference ``(a - b) / |b|``."""
    return (a - b) / abs(b)


@pytest.fixture
def rng():
    """A fresh, seeded random generator for each test."""
    return np.random.default_rng(12345)


def pytest_configure(config):
    """``GPUREG_EMULATE_GPU=1``: run the ``gpu``-marked tests on the CPU, on
    the CuPy stand-in and the emulated kernels of ``tests/cuda_emu`` (slow;
    a development aid, not part of CI)."""
    import os

    if os.environ.get("GPUREG_EMULATE_GPU") != "1":
        return
    import sys

    import cuda_emu

    from gpureg.backends import _gpu, _kernels

    emulator = cuda_emu.Emulator(
        cuda_emu.build(_kernels.kernels_dir(), _kernels.KERNELS)
    )
    cuda_emu.configure()
    sys.modules["cupy"] = cuda_emu.fake_cupy(emulator)
    _gpu.BLOCK = int(os.environ.get("GPUREG_EMULATE_BLOCK", "32"))


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``gpu`` cleanly where CuPy or a CUDA device is missing."""
    from gpureg.backends import _gpu

    if _gpu.is_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
