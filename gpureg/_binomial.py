"""The binomial (logistic) family of ``fit_grid``: labels, grid, solve, score.

For each fit, with ``n_w = Σ s_i`` over its training rows and ``y_i ∈ {0, 1}``
(1 = ``classes[1]``)::

    min_{w, b}  1/n_w Σ_i s_i [log(1 + e^{z_i}) - y_i z_i]
                + alpha * (l1_ratio ‖w‖₁ + (1 - l1_ratio) / 2 ‖w‖²),   z = X w + b

(glmnet's objective; scikit-learn's ``LogisticRegression`` minimizes it times
``1 / alpha`` with ``C = 1 / (n_w alpha)``; glmnet's ``lambda`` is ``alpha``).
The paths are solved by :mod:`gpureg.backends._numba_binomial`.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from . import _validation as v
from ._alphas import alpha_paths
from ._batch import build_residual_batch, training_weights
from ._datafit import Logistic
from ._interrupt import check_stop
from ._measures import MEASURES, binomial_measure
from ._memory import format_bytes, require
from ._progress import progress_bar
from ._result import GridResult, warn_uncertified
from ._scoring import FoldArtifacts, kept_fields
from .backends import resolve_backend


def encode_labels(y):
    """Two-class labels as 0/1 floats, and the classes (scikit-learn's order).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Any two distinct labels (numbers, strings, booleans).

    Returns
    -------
    y01 : ndarray of shape (n_samples,)
        1.0 where ``y == classes[1]``.
    classes : ndarray of shape (2,)
        Sorted, as ``np.unique``.
    """
    if hasattr(y, "to_numpy") and not hasattr(y, "columns"):  # a pandas Series
        if y.isna().any():
            raise ValueError("y has missing values; the binomial family needs labels.")
        y = y.to_numpy()  # labels of any dtype (text, category, bool)
    y = v.as_host_array(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-D of shape (n_samples,) for the binomial family, got "
            f"shape {y.shape}."
        )
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y contains NaN or Inf; the binomial family needs labels.")
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(
            f"the binomial family needs exactly 2 classes in y, got {classes.size}"
            + (f": {classes[:10].tolist()}" if classes.size else "")
            + "."
        )
    return (y == classes[1]).astype(np.float64), classes


def check_measure(measure, family):
    """The CV measure of ``family`` (None: the family's default)."""
    if family == "gaussian":
        if measure not in (None, "mse"):
            raise ValueError(
                f"measure for the gaussian family must be 'mse', got {measure!r}."
            )
        return "mse"
    if measure is None:
        return "deviance"
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}.")
    return measure


def _set_parameters(batch, y01, W, f, fit_intercept):
    """Per training set: null intercept, the penalty weights ``f σ`` and ``f σ²``.

    Constant columns (``hdiag == 0``) are marked by a negative first weight.
    """
    stats = batch.stats
    live = batch.hdiag > 0
    scale = stats.x_scale
    A1 = np.where(live, f * scale, -1.0)
    B2 = np.where(live, f * scale * scale, 0.0)
    mean = (W @ y01) / W.sum(axis=1)
    if np.any((mean <= 0.0) | (mean >= 1.0)):
        t = int(np.flatnonzero((mean <= 0.0) | (mean >= 1.0))[0])
        where = (
            "the full data" if t == W.shape[0] - 1 else f"the training set of fold {t}"
        )
        raise ValueError(
            f"{where} holds only one class (weighted); use stratified folds "
            "(StratifiedKFold) or fewer folds."
        )
    B0 = np.log(mean) - np.log1p(-mean) if fit_intercept else np.zeros_like(mean)
    return B0, A1, B2


def _grid(X, y01, batch, spec):
    """The alphas of every l1_ratio, shape ``(n_l1, n_alphas)`` (full data's top)."""
    if spec.fit_intercept:
        # the null residual is y - ȳ: the batch's centered correlation already
        c = batch.stats.c[-1]
    else:  # p̄ = 1/2, not the batch's ȳ = 0
        scale = np.where(batch.hdiag[-1] > 0, batch.stats.x_scale[-1], np.inf)
        c = np.asarray(X.T @ (batch.sw[-1] * (y01 - 0.5))).ravel() / scale
    return alpha_paths(
        c, spec.l1_ratios, spec.alphas, spec.eps, spec.penalty_factor, spec.positive
    )


def _score(X, y01, sw, folds, fits, measure, kept=None):
    """Held-out measure of every fold fit, shape ``(n_l1, n_alphas, n_folds)``.

    ``fits = (coef, icpt)`` of every set (the full data last); ``kept``, a
    :class:`~gpureg._scoring.FoldArtifacts`, records the fold paths and the
    held-out log-odds.
    """
    coef, icpt = fits
    n_l1, n_alphas, p = coef.shape[1:]
    out = np.empty((n_l1, n_alphas, len(folds)))
    s = np.ones(X.shape[0]) if sw is None else sw
    ls = np.arange(n_l1)
    for k, (_, test) in enumerate(folds):
        check_stop()
        U, b = coef[k].reshape(-1, p), icpt[k].reshape(-1)
        Z = X[test] @ U.T + b
        out[..., k] = binomial_measure(y01[test], Z, s[test], measure).reshape(
            n_l1, n_alphas
        )
        if kept is not None:
            kept.record(k, ls, U, b, X, test)
    return out


def binomial_backend(backend, resolve=True):
    """The backend of a binomial grid: ``'cpu'`` or ``'gpu'``.

    ``'auto'`` is the GPU when one is usable, as for the Gaussian family; an
    explicit ``'gpu'`` without one raises ``RuntimeError`` with the reason.
    The ``'numpy'`` reference backend has no binomial solver.  With
    ``resolve=False`` the name is only checked (a cluster's workers resolve
    it).
    """
    if backend == "numpy":
        raise NotImplementedError(
            "the binomial family runs on backend='cpu' or 'gpu' (or 'auto'), "
            "not on the 'numpy' reference backend."
        )
    return resolve_backend(backend) if resolve else backend


def fit_binomial_grid(
    X, y01, classes, spec, measure, progress, keep=False, solve=None
) -> GridResult:
    """Solve and score a validated binomial grid (the body of ``fit_grid``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y01 : ndarray of shape (n_samples,)
        From :func:`encode_labels`.
    classes : ndarray of shape (2,)
    spec : GridSpec
    measure : str
        One of :data:`gpureg._measures.MEASURES`.
    progress : bool
    keep : bool, default=False
        Also return the fold paths and out-of-fold predictions (validated).
    solve : callable, optional
        In place of :func:`_solve_sets` (same arguments and returns): a Dask
        cluster's (``_distributed.binomial_solver``), whose ``backends``
        attribute names the backends its workers ran.

    Returns
    -------
    GridResult
    """
    t_start = time.perf_counter()
    n, p = X.shape
    folds, rhos, sw = spec.folds, spec.l1_ratios, spec.sample_weight
    n_sets, n_l1 = spec.n_sets, rhos.size
    alphas = spec.alphas
    n_alphas = alphas if isinstance(alphas, int) else alphas.size
    need = (2 * n * p + 2 * n_sets * n + n_sets * n_l1 * n_alphas * (p + 4)) * 8
    require(need, f"this binomial grid ({format_bytes(need)})", spec.memory_limit)
    if measure == "auc":
        _check_auc_folds(y01, training_weights(n, folds, sw), folds)
    XF, SW, params, grid, y_scale = prepare_binomial(X, y01, spec)
    t_solve = time.perf_counter()
    coef, icpt, gaps, iters, stopped = (solve or _solve_sets)(
        XF, y01, SW, params, grid, spec, progress
    )
    ran = sorted(getattr(solve, "backends", ())) or [spec.backend]
    t_score = time.perf_counter()
    kept = FoldArtifacts(len(folds), *coef.shape[1:3], p, n) if keep else None
    Xs = XF.tocsr() if v.issparse(XF) else XF  # held-out rows sliced from CSR
    cv = _score(Xs, y01, sw, folds, (coef, icpt), measure, kept) if folds else None
    gap_tol = spec.tol * y_scale
    # the alphas after an early stop are reported by _warn_early_stops
    solved = np.arange(grid.shape[1]) < stopped[..., None]
    warn_uncertified(
        np.where(solved, gaps, 0.0), gap_tol, spec.tol, "the null model's mean log-loss"
    )
    _warn_early_stops(stopped, grid.shape[1])
    dt = spec.dtype
    return GridResult(
        alphas=grid,
        l1_ratios=rhos,
        coef_path=coef[-1].astype(dt),
        intercept_path=icpt[-1].astype(dt),
        dual_gap=gaps,
        gap_tol=gap_tol,
        n_iter=iters,
        cv_path=cv,
        n_samples=n,
        n_features=p,
        backend=ran[0] if len(ran) == 1 else "mixed",
        mode="residual",
        dtype=dt,
        timings={
            "prepare": t_solve - t_start,
            "solve": t_score - t_solve,
            "score": time.perf_counter() - t_score,
            "total": time.perf_counter() - t_start,
        },
        family="binomial",
        measure=measure,
        classes=classes,
        path_stop=stopped,
        **kept_fields(kept, dt),
    )


def prepare_binomial(X, y01, spec):
    """What the solvers of a binomial grid take, from validated inputs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y01 : ndarray of shape (n_samples,)
    spec : GridSpec

    Returns
    -------
    XF : ndarray or scipy.sparse.csc_matrix of shape (n_samples, n_features)
        float64, column-major (CSC for a sparse X, never densified).
    SW : ndarray of shape (n_sets, n_samples)
        ``s_i / n_w`` of each training set (the full data last).
    params : tuple
        ``(B0, A1, B2)`` of :func:`_set_parameters`.
    grid : ndarray of shape (n_l1, n_alphas)
    null_loss : ndarray of shape (n_sets,)
        Each set's null model's mean log-loss (the scale of ``gap_tol``).
    """
    if v.issparse(X):
        XF = X.tocsc().astype(np.float64)
        XF.sort_indices()
    else:
        XF = np.asfortranarray(X, dtype=np.float64)
    W = training_weights(X.shape[0], spec.folds, spec.sample_weight)
    batch = build_residual_batch(
        XF,
        y01,
        W,
        fit_intercept=spec.fit_intercept,
        standardize=spec.standardize,
        dtype=np.float64,
    )
    params = _set_parameters(batch, y01, W, spec.penalty_factor, spec.fit_intercept)
    grid = _grid(XF, y01, batch, spec)
    Z0 = np.broadcast_to(params[0][:, None], W.shape)
    return XF, batch.sw, params, grid, Logistic().value(y01, Z0, batch.sw)


def _solve_sets(XF, y01, SW, params, grid, spec, progress):
    """Every (training set, l1_ratio) path, one training set at a time.

    On the GPU: :func:`gpureg.backends._binomial_gpu.solve_sets`.  On the
    CPU, one set per numba call keeps the call interruptible (Ctrl-C between
    sets) and drives the progress bar; ``params = (B0, A1, B2)`` from
    :func:`_set_parameters`.  Returns ``coef, icpt, gaps, iters, stopped``
    of :func:`~gpureg.backends._numba_binomial.binomial_paths`.
    """
    if spec.backend == "gpu":
        from .backends import _binomial_gpu

        ops, budget = _binomial_gpu.device_ops()
        return _binomial_gpu.solve_sets(
            ops, XF, y01, SW, params, grid, spec, progress=progress, budget=budget
        )
    from .backends._common import PARALLEL_LOCK
    from .backends._numba_binomial import binomial_paths

    n_sets, n_l1 = SW.shape[0], grid.shape[0]
    shape = (n_sets, n_l1, grid.shape[1])
    out = (
        np.empty((*shape, XF.shape[1])),
        np.empty(shape),
        np.empty(shape),
        np.empty(shape, dtype=np.int64),
        np.empty((n_sets, n_l1), dtype=np.int64),
    )
    # the solver reads a CSC X as its three arrays
    Xn = (XF.indptr, XF.indices, XF.data) if v.issparse(XF) else XF
    bar = progress_bar(progress, n_sets * n_l1)
    for t in range(n_sets):
        check_stop()
        one = tuple(a[t : t + 1] for a in (SW, *params))
        with PARALLEL_LOCK:  # a numba parallel region: concurrent calls take turns
            got = binomial_paths(
                Xn,
                y01,
                *one,
                grid,
                spec.l1_ratios,
                spec.positive,
                spec.fit_intercept,
                spec.tol,
                spec.max_iter,
            )
        for dest, res in zip(out, got, strict=True):
            dest[t] = res[0]
        if bar is not None:
            bar.update(n_l1)
    if bar is not None:
        bar.close()
    return out


def _check_auc_folds(y01, W, folds):
    """AUC needs both classes among every fold's weighted held-out rows."""
    s = W[-1]
    for k, (_, test) in enumerate(folds):
        pos = s[test] @ y01[test]
        if pos <= 0 or pos >= s[test].sum():
            raise ValueError(
                f"cv fold {k}: its held-out rows hold one class, so its AUC is "
                "undefined; use StratifiedKFold or measure='deviance'."
            )


def _warn_early_stops(stopped, n_alphas):
    """One note for every path that stopped before its last alpha."""
    early = stopped < n_alphas
    if early.any():
        warnings.warn(
            f"{int(early.sum())} of {early.size} paths stopped early: the fit "
            "explained more than 99.9% of the null deviance (the classes are "
            "(nearly) separable), so smaller alphas keep the last fit, as glmnet "
            "does; see GridResult.path_stop.",
            UserWarning,
            stacklevel=3,
        )
