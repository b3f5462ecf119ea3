"""What the benchmark scripts share: workload W1's data and the machine's record.

``gpureg bench`` itself (``gpureg/_bench.py``) keeps only what the command
needs; the scripts of this folder (and ``suite/``) import from here.  Device
names come from gpureg's backend contract
(``gpureg.backends.get_backend(name).device_name()``), so that every record
names the CPU exactly as ``gpureg bench`` does.
"""

from __future__ import annotations

import datetime as dt
import platform
import re

import numpy as np

#: W1's l1_ratios.
L1_RATIOS = [0.1, 0.5, 0.7, 0.9, 1.0]


def make_w1(
    n_samples=10_000, n_features=1_000, n_informative=50, rho=0.5, noise=3.0, seed=0
):
    """Toeplitz(rho)-correlated Gaussian design: x_j = rho x_{j-1} + √(1-rho²) e_j.

    The generator of ``gpureg bench`` (``gpureg._bench._make_data``: one
    generator, so that W1 and the scaling series share their data), with
    W1's 50 informative features: ``n_informative`` non-zero coefficients of
    magnitude in [0.5, 2] with random signs, Gaussian noise of std ``noise``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    from gpureg._bench import _make_data

    return _make_data(
        n_samples,
        n_features,
        n_informative=n_informative,
        rho=rho,
        noise=noise,
        seed=seed,
    )


def cpu_device() -> str:
    """``"<CPU model> (<n> cores)"``: the CPU backend's device name.

    The ``device`` (CPU rows) and ``cpu`` fields of ``gpureg bench`` rows.
    """
    from gpureg.backends import get_backend

    return get_backend("cpu").device_name()


def cpu_name() -> str:
    """The CPU model name alone (:func:`cpu_device` without its core count)."""
    return re.sub(r" \(\d+ cores\)$", "", cpu_device())


def gpu_device() -> str:
    """The GPU backend's device name (``NVIDIA H200``, ...); needs a device."""
    from gpureg.backends import get_backend

    return get_backend("gpu").device_name()


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def environment() -> dict:
    """CPU, date and versions recorded in every row (as ``gpureg bench`` does).

    Returns
    -------
    dict
        ``cpu, date, gpureg, numpy, sklearn, python``.
    """
    import sklearn

    import gpureg

    return dict(
        cpu=cpu_device(),
        date=utc_now(),
        gpureg=gpureg.__version__,
        numpy=np.__version__,
        sklearn=sklearn.__version__,
        python=platform.python_version(),
    )


def make_c1(n_samples=10_000, n_features=1_000, n_informative=20, rho=0.5, seed=0):
    """Workload C1's data: W1's Toeplitz(rho) design, two-class labels.

    X is :func:`make_w1`'s design (the generator of ``gpureg bench``, same
    seed); ``n_informative`` non-zero coefficients of magnitude in [0.5, 2]
    with random signs (drawn from ``default_rng(seed + 1)``), and
    ``y_i ~ Bernoulli(sigmoid(x_iᵀ β))`` in {0, 1}, no intercept.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        0.0 / 1.0.
    beta : ndarray of shape (n_features,)
    """
    X, _ = make_w1(n_samples, n_features, n_informative=1, rho=rho, seed=seed)
    rng = np.random.default_rng(seed + 1)
    beta = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], n_informative) * rng.uniform(
        0.5, 2.0, n_informative
    )
    prob = 1.0 / (1.0 + np.exp(-(X @ beta)))
    y = (rng.uniform(size=n_samples) < prob).astype(np.float64)
    return X, y, beta
