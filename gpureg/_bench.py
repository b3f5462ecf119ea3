"""Throughput of ``fit_grid`` over a scaling series of grid sizes (``gpureg bench``).

One synthetic problem, a series of grids from about ten to about a hundred
thousand fits, and for each grid and backend: an untimed call that checks the
result (every fit certified by its duality gap; scikit-learn's CV errors
against gpureg-cpu's), then one timed call.  The rows follow docs/design.md §7
and are written by :func:`write_rows` as JSON and CSV; plotting them is left
to ``gpureg.plotting`` or ``benchmarks/suite/plot.py``, which never time.

The fuller benchmark suite (fixed workloads W1, W2, p >> n, float32 and peer
libraries) is ``benchmarks/suite/`` in the source tree, not in the package;
it delegates its scaling series here.  Only what ``gpureg bench`` needs is
kept in this module; the device name and synchronization come from the
backend contract (``gpureg.backends.get_backend``), so nothing here imports
cupy, and scikit-learn is imported only for the ``'sklearn'`` rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import platform
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from .backends import get_backend

#: The default scaling series: ``(n_alphas, n_l1_ratios, cv)`` per grid, giving
#: ``(cv + 1) * n_l1_ratios * n_alphas`` = 15, 50, 150, 500, 1,500, 5,000,
#: 15,000, 50,000 and 100,000 gpureg fits.
DEFAULT_SIZES = (
    (5, 1, 2),
    (10, 1, 4),
    (25, 2, 2),
    (50, 2, 4),
    (50, 3, 9),
    (100, 5, 9),
    (100, 15, 9),
    (100, 50, 9),
    (100, 100, 9),
)

#: ``quick=True`` keeps the default grids with at most this many fits, on a
#: 500 x 50 problem.
QUICK_MAX_FITS = 3_000
QUICK_SHAPE = (500, 50)

#: scikit-learn and the pure-numpy backend are only run on grids up to this
#: many fits (they are one to three orders of magnitude slower).
SLOW_MAX_FITS = 5_000

#: Timed calls of one grid are repeated (best reported) while together they
#: took under MIN_TIMED_S seconds, at most MAX_RUNS times.
MIN_TIMED_S = 0.5
MAX_RUNS = 5

BACKENDS = ("cpu", "gpu", "numpy", "sklearn")
TOL = 1e-4


def throughput_rows(
    *,
    backends=("cpu",),
    sizes=None,
    quick=False,
    n_samples=2000,
    n_features=100,
    seed=0,
    progress=False,
) -> list[dict]:
    """Time ``fit_grid`` on a scaling series of grid sizes, after checking it.

    The data are a Toeplitz(0.5)-correlated Gaussian design (the generator of
    workload W1 of the source tree's ``benchmarks/``) with
    ``min(50, n_features // 4)`` non-zero true coefficients and noise 3.
    Each grid is ``n_alphas`` automatic alphas (``eps=1e-3``) ×
    ``n_l1_ratios`` values ``linspace(0.1, 1, n_l1_ratios)`` (``[0.5]`` for
    one) × ``KFold(cv)`` plus the full-data path, ``tol=1e-4``.

    For each gpureg backend an untimed warm-up on the smallest grid comes
    first (numba compilation, CUDA module loading).  Then, for every grid,
    an untimed checking call records ``all_certified`` (every fit's duality
    gap under its threshold) and ``max_gap_ratio`` (worst gap / threshold),
    and the call is timed with the wall clock (the GPU is synchronized before
    and after).  scikit-learn's ``ElasticNetCV`` gets the same folds and
    alpha grid; its ``mse_path_`` is compared with gpureg-cpu's.  Grids that
    take milliseconds are timed up to five times (until 0.5 s in all) and
    the fastest call is reported.

    Parameters
    ----------
    backends : sequence of {'cpu', 'gpu', 'numpy', 'sklearn'}, default=('cpu',)
        ``'gpu'`` gives one row ``{"backend": "gpu", "skipped": reason}``
        when the GPU backend cannot run here.
    sizes : sequence of (n_alphas, n_l1_ratios, cv), optional
        The grids, each with ``cv >= 2``; default :data:`DEFAULT_SIZES`
        (with ``quick``, those of at most :data:`QUICK_MAX_FITS` fits).
        Explicit sizes are used as given.
    quick : bool, default=False
        A short run: at most ~3,000 fits per grid, and the problem shrunk to
        at most 500 × 50.
    n_samples, n_features : int, default=2000, 100
        Shape of the synthetic X.
    seed : int, default=0
        Seed of the data generator.
    progress : bool, default=False
        Show a tqdm progress bar over (grid, backend) pairs.

    Returns
    -------
    list of dict
        One row per (grid, backend) in run order, with keys ``workload,
        backend, device, dtype, n_samples, n_features, n_alphas, n_l1_ratios,
        n_folds, n_fits, tol, wall_s, fits_per_s, n_runs, all_certified,
        max_gap_ratio, mse_path_max_rel_diff_vs_cpu, mode, date, gpureg,
        numpy, sklearn, python``.  gpureg rows count ``(cv + 1) * n_l1_ratios
        * n_alphas`` fits; scikit-learn rows ``cv * n_l1_ratios * n_alphas +
        1`` (its final refit), only on grids of at most
        :data:`SLOW_MAX_FITS` fits (so are pure-numpy rows).  Values not
        measured for a backend are None.

    Examples
    --------
    >>> rows = throughput_rows(sizes=[(5, 1, 2), (10, 2, 3)], quick=True)
    >>> [r["n_fits"] for r in rows]
    [15, 80]
    """
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown backends {unknown}; expected some of {BACKENDS}")
    if quick:
        n_samples, n_features = (
            min(n_samples, QUICK_SHAPE[0]),
            min(n_features, QUICK_SHAPE[1]),
        )
    if sizes is None:
        sizes = [
            s
            for s in DEFAULT_SIZES
            if not quick or _n_fits_gpureg(*s) <= QUICK_MAX_FITS
        ]
    sizes = sorted((_check_size(s) for s in sizes), key=lambda s: _n_fits_gpureg(*s))
    if not sizes:
        raise ValueError("no grid sizes to run.")

    rows, run = [], []
    for backend in dict.fromkeys(backends):  # unique, in the given order
        reason = get_backend("gpu").missing_reason() if backend == "gpu" else None
        if reason is not None:
            rows.append({"backend": "gpu", "skipped": reason})
        else:
            run.append(backend)
    if not run:
        return rows

    X, y = _make_data(n_samples, n_features, seed=seed)
    env = _environment()
    for backend in run:
        if backend != "sklearn":
            _warm_up(backend, sizes[0])

    bar = _progress(progress, len(sizes) * len(run))
    for size in sizes:
        reference = None  # gpureg-cpu's result on this grid, for scikit-learn
        for backend in run:
            if backend == "sklearn":
                if _n_fits_sklearn(*size) <= SLOW_MAX_FITS:
                    if reference is None:
                        reference = _fit_gpureg(X, y, size, "cpu")
                    rows.append(_sklearn_row(X, y, size, reference, env))
            elif backend != "numpy" or _n_fits_gpureg(*size) <= SLOW_MAX_FITS:
                row, res = _gpureg_row(X, y, size, backend, env)
                rows.append(row)
                if backend == "cpu":
                    reference = res
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()
    return rows


def write_rows(rows, path) -> list[Path]:
    """Write rows as JSON (a list of dicts) and CSV with the same stem.

    Parameters
    ----------
    rows : list of dict
        Rows may have different keys; the CSV has their union as columns
        (empty where a row has no value).  Lists and dicts go to the CSV as
        JSON text.
    path : str or Path
        The suffix, if any, is replaced by ``.json`` and ``.csv``; missing
        parent folders are created.

    Returns
    -------
    list of Path
        ``[json_path, csv_path]``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = path.with_suffix(".json"), path.with_suffix(".csv")
    rows = [dict(r) for r in rows]
    json_path.write_text(json.dumps(rows, indent=2, default=_json_default) + "\n")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    flat = [{k: _csv_cell(r.get(k)) for k in columns} for r in rows]
    try:
        import pandas as pd
    except ImportError:
        with csv_path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(
                {k: "" if v is None else v for k, v in r.items()} for r in flat
            )
    else:
        pd.DataFrame(flat, columns=columns).to_csv(csv_path, index=False)
    return [json_path, csv_path]


# --------------------------------------------------------------------------- data


def _make_data(
    n_samples, n_features, *, n_informative=None, rho=0.5, noise=3.0, seed=0
):
    """Toeplitz(rho)-correlated Gaussian design and a sparse linear target.

    ``x_j = rho x_{j-1} + sqrt(1 - rho²) e_j`` (so ``cov_ij = rho^|i-j|``);
    ``n_informative`` (default ``min(50, n_features // 4)``, at least one)
    non-zero coefficients of
    magnitude in [0.5, 2] with random signs; Gaussian noise of std ``noise``.
    ``benchmarks._common.make_w1`` (workload W1 of the source tree's
    benchmarks) is this generator.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    """
    rng = np.random.default_rng(seed)
    if n_informative is None:
        n_informative = max(1, min(50, n_features // 4))
    E = rng.standard_normal((n_samples, n_features))
    X = np.empty_like(E)
    X[:, 0] = E[:, 0]
    s = np.sqrt(1.0 - rho**2)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + s * E[:, j]
    w = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    w[support] = rng.choice([-1.0, 1.0], n_informative) * rng.uniform(
        0.5, 2.0, n_informative
    )
    y = X @ w + noise * rng.standard_normal(n_samples)
    return X, y


def _check_size(size):
    n_alphas, n_l1, cv = (int(v) for v in size)
    if n_alphas < 1 or n_l1 < 1 or cv < 2:
        raise ValueError(
            f"a size is (n_alphas >= 1, n_l1_ratios >= 1, cv >= 2), got {size}."
        )
    return n_alphas, n_l1, cv


def _l1_ratios(n_l1):
    return np.array([0.5]) if n_l1 == 1 else np.linspace(0.1, 1.0, n_l1)


def _n_fits_gpureg(n_alphas, n_l1, cv):
    return (cv + 1) * n_l1 * n_alphas


def _n_fits_sklearn(n_alphas, n_l1, cv):
    return cv * n_l1 * n_alphas + 1


# ------------------------------------------------------------------ environment


def _gpureg_backend(backend):
    """The gpureg backend a row's device and synchronization come from.

    scikit-learn runs on the host: the CPU backend's (``"<model> (<n>
    cores)"``, nothing to synchronize).
    """
    return get_backend("cpu" if backend == "sklearn" else backend)


def _version(distribution):
    """Installed version of a distribution (without importing it), or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _environment():
    from . import __version__

    return dict(
        cpu=get_backend("cpu").device_name(),  # "<model> (<n> cores)"
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        gpureg=__version__,
        numpy=np.__version__,
        sklearn=_version("scikit-learn"),
        python=platform.python_version(),
    )


def _progress(progress, total):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="gpureg bench", unit="grid")


# ---------------------------------------------------------------------- runs


def _fit_gpureg(X, y, size, backend):
    from ._fit import fit_grid

    n_alphas, n_l1, cv = size
    return fit_grid(
        X,
        y,
        l1_ratio=_l1_ratios(n_l1),
        alphas=n_alphas,
        cv=cv,
        tol=TOL,
        backend=backend,
    )


def _warm_up(backend, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = _make_data(200, 20, seed=1)
        _fit_gpureg(X, y, size, backend)


def _base_row(X, size, backend):
    n_alphas, n_l1, cv = size
    device = _gpureg_backend(backend).device_name()
    return dict(
        workload="scaling",
        backend=backend,
        device=device,
        dtype=str(X.dtype),
        n_samples=X.shape[0],
        n_features=X.shape[1],
        n_alphas=n_alphas,
        n_l1_ratios=n_l1,
        n_folds=cv,
    )


def _timed(fn, backend):
    """Wall seconds of calls of ``fn``: one, or up to :data:`MAX_RUNS` short ones.

    Calls are repeated while together they took under :data:`MIN_TIMED_S`
    (small grids take milliseconds); the caller reports the fastest.
    """
    synchronize = _gpureg_backend(backend).synchronize  # a no-op on the host
    secs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        while not secs or (len(secs) < MAX_RUNS and sum(secs) < MIN_TIMED_S):
            synchronize()
            t0 = time.perf_counter()
            fn()
            synchronize()
            secs.append(time.perf_counter() - t0)
    return secs


def _gpureg_row(X, y, size, backend, env):
    # 1. check (untimed): every fit certified?
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _fit_gpureg(X, y, size, backend)
    ratio = res.dual_gap / res.gap_tol[:, None, None]
    n_fits = res.n_fits
    if n_fits != _n_fits_gpureg(*size):
        raise RuntimeError(
            f"fit_grid solved {n_fits} fits, expected "
            f"{_n_fits_gpureg(*size)} for size {size}."
        )
    # 2. time
    secs = _timed(lambda: _fit_gpureg(X, y, size, backend), backend)
    wall = min(secs)
    row = dict(
        _base_row(X, size, backend),
        n_fits=n_fits,
        tol=TOL,
        wall_s=wall,
        fits_per_s=n_fits / wall,
        n_runs=len(secs),
        all_certified=bool(res.converged.all()),
        max_gap_ratio=float(np.max(ratio)),
        mse_path_max_rel_diff_vs_cpu=None,
        mode=res.mode,
        warnings=" | ".join(str(w.message) for w in caught) or None,
        **env,
    )
    row.pop("cpu")
    return row, res


def _sklearn_row(X, y, size, reference, env):
    from sklearn.linear_model import ElasticNetCV
    from sklearn.model_selection import KFold

    n_alphas, n_l1, cv = size

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ElasticNetCV(
                l1_ratio=_l1_ratios(n_l1), alphas=n_alphas, cv=KFold(cv), tol=TOL
            ).fit(X, y)

    # 1. check (untimed): the same alpha grid and CV errors as gpureg-cpu
    sk = fit()
    alphas = np.reshape(sk.alphas_, reference.alphas.shape)
    if not np.allclose(alphas, reference.alphas, rtol=1e-10):
        raise RuntimeError("scikit-learn and gpureg built different alpha grids.")
    mse = np.reshape(sk.mse_path_, reference.mse_path.shape)
    rel = float(np.max(np.abs(mse - reference.mse_path) / mse))
    # 2. time
    secs = _timed(fit, "sklearn")
    wall = min(secs)
    n_fits = _n_fits_sklearn(*size)
    row = dict(
        _base_row(X, size, "sklearn"),
        n_fits=n_fits,
        tol=TOL,
        wall_s=wall,
        fits_per_s=n_fits / wall,
        n_runs=len(secs),
        all_certified=None,
        max_gap_ratio=None,
        mse_path_max_rel_diff_vs_cpu=rel,
        mode=None,
        warnings=None,
        **env,
    )
    row.pop("cpu")
    return row


# ---------------------------------------------------------------------- output


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _csv_cell(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return json.dumps(value, default=_json_default)
    return value
