"""``fit_grid``: plan a grid, hand it to a backend, score it, certify it."""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _validation as v
from ._folds import make_folds
from ._gram import (
    GramBatch,
    build_gram_batch,
    build_residual_batch,
    training_weights,
)
from ._grid import alpha_grid, alpha_max
from ._interrupt import check_stop, interruptible
from ._penalty import duality_gap
from ._result import GridResult
from ._ridge import ridge_paths
from .backends import get_backend, resolve_backend
from .backends._common import PathSolution

#: Gram form is used while every training set's Gram fits in this many bytes.
GRAM_MEMORY_LIMIT = 4 * 2**30


def choose_mode(n_samples: int, n_features: int, n_sets: int, itemsize: int) -> str:
    """Pick covariance (Gram) or residual updates.

    ``'gram'`` when n_samples >= n_features and the ``n_sets`` Gram matrices
    fit in :data:`GRAM_MEMORY_LIMIT` bytes; else ``'residual'``.
    """
    gram_bytes = n_sets * n_features * n_features * itemsize
    if n_samples >= n_features and gram_bytes <= GRAM_MEMORY_LIMIT:
        return "gram"
    return "residual"


@interruptible
def fit_grid(
    X,
    y,
    *,
    l1_ratio=0.5,
    alphas=100,
    eps=1e-3,
    cv=5,
    fit_intercept=True,
    standardize=False,
    sample_weight=None,
    penalty_factor=None,
    positive=False,
    tol=1e-4,
    max_iter=1000,
    dtype=None,
    backend="auto",
    progress=False,
    groups=None,
) -> GridResult:
    r"""Fit every alpha × l1_ratio × CV-fold elastic net at once.

    For each fit, with ``n_w = Σ s_i``::

        min_{w, b}  1/(2 n_w) Σ_i s_i (y_i - b - x_iᵀ w)²
                    + alpha * l1_ratio * Σ_j f_j |w_j|
                    + alpha * (1 - l1_ratio) / 2 * Σ_j f_j w_j²

    (scikit-learn's ``ElasticNet`` objective; ``l1_ratio=1`` is the Lasso,
    ``l1_ratio=0`` Ridge, solved in closed form).  The textbook
    ``Loss + λ(α‖β‖₁ + (1-α)‖β‖₂²)`` maps to ``alpha = λ`` and
    ``l1_ratio = α`` with the L2 term halved.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        numpy, pandas or CuPy; never modified.
    y : array-like of shape (n_samples,)
    l1_ratio : float or array-like of shape (n_l1_ratios,), default=0.5
        Values in [0, 1].
    alphas : int or array-like of shape (n_alphas,), default=100
        An int: that many values log-spaced from each l1_ratio's ``alpha_max``
        (computed on the full data, as scikit-learn's ``ElasticNetCV``) down to
        ``eps * alpha_max``; for ``l1_ratio=0`` the top uses ``l1_ratio=1e-3``
        (glmnet).  An array: the same positive alphas for every l1_ratio,
        sorted in decreasing order.
    eps : float, default=1e-3
        Length of an automatic path, in (0, 1).
    cv : int, cross-validation splitter, iterable of (train, test) or None, default=5
        An int is ``KFold(cv)`` without shuffling; ``None`` fits the full-data
        path only.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept (the data are centered internally).
    standardize : bool, default=False
        Scale columns to unit weighted variance inside each training set
        (glmnet's convention); coefficients are reported on X's scale.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights ``s_i``; CV errors are weighted by them too.
    penalty_factor : array-like of shape (n_features,), default=None
        ``f_j >= 0`` multiplies both penalties of feature j; 0 = unpenalized.
    positive : bool, default=False
        Constrain coefficients to be non-negative (CD is then also used for
        ``l1_ratio=0``).
    tol : float, default=1e-4
        A fit is certified when its duality gap is at most
        ``tol * Σ s_i ỹ_i² / n_w`` (scikit-learn's criterion).
    max_iter : int, default=1000
        Maximum coordinate-descent epochs per fit.
    dtype : {None, 'float32', 'float64'}, default=None
        Working precision; None follows X (float32 stays float32).
    backend : {'auto', 'cpu', 'gpu', 'numpy'}, default='auto'
        ``'auto'`` takes the GPU when CuPy and a device are present, else the
        CPU (numba).  ``'numpy'`` is the slow pure-numpy reference.
    progress : bool, default=False
        Show a progress bar (tqdm) over the solved paths.
    groups : array-like of shape (n_samples,), default=None
        Group labels for a group-aware ``cv`` (``GroupKFold``, ...).

    Returns
    -------
    GridResult
        Full-data paths ``coef_path (n_l1_ratios, n_alphas, n_features)``,
        CV errors ``mse_path (n_l1_ratios, n_alphas, n_folds)``, the chosen
        ``alpha_``, ``l1_ratio_``, ``alpha_1se_``, and the duality gap and
        iteration count of every fit, ``(n_folds + 1, n_l1_ratios, n_alphas)``.

    Warns
    -----
    ConvergenceWarning
        Once per call, summarizing the fits whose gap did not reach ``tol``.

    Examples
    --------
    >>> import numpy as np, gpureg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 30)); y = X[:, 0] - 2 * X[:, 1]
    >>> res = gpureg.fit_grid(X, y, l1_ratio=[0.5, 1.0], alphas=20, cv=5)
    >>> res.coef_path.shape, res.mse_path.shape
    ((2, 20, 30), (2, 20, 5))
    """
    t_start = time.perf_counter()
    X_device = X if v.is_device_array(X) else None  # reused by the GPU backend
    X, y, dt = v.check_X_y(X, y, dtype)
    n_samples, n_features = X.shape
    sw = v.check_sample_weight(sample_weight, n_samples)
    f = v.check_penalty_factor(penalty_factor, n_features)
    rhos = v.check_l1_ratios(l1_ratio)
    eps = v.check_eps(eps)
    alphas = v.check_alphas(alphas)
    tol = v.check_tol(tol)
    max_iter = v.check_positive_int(max_iter, "max_iter")
    name = resolve_backend(backend)
    folds = make_folds(cv, n_samples, groups)

    sol, batch, alpha_grid_, mode, timings = solve_grid(
        X, y, folds=folds, sample_weight=sw, penalty_factor=f, l1_ratios=rhos,
        alphas=alphas, eps=eps, fit_intercept=v.check_bool(fit_intercept,
                                                            "fit_intercept"),
        standardize=v.check_bool(standardize, "standardize"),
        positive=v.check_bool(positive, "positive"), tol=tol,
        max_iter=max_iter, dtype=dt, backend=name, progress=progress,
        X_device=X_device,
    )
    stats = batch.stats
    t0 = time.perf_counter()
    # in place: the solver's coefficients are ours, and on wide grids they
    # are the largest array of the call (PN: 6 × 3 × 100 × 20,000 doubles)
    coef, intercept = to_original_scale(sol.coef, stats, out=sol.coef)
    mse_path = None
    if folds:
        mse_path = cv_mse(X, y, sw, folds, coef[:-1], intercept[:-1], batch)
    timings["score"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start

    gap_tol = tol * stats.yy
    warn_uncertified(sol.dual_gap, gap_tol, tol)
    return GridResult(
        alphas=alpha_grid_,
        l1_ratios=rhos,
        coef_path=coef[-1].astype(dt),
        intercept_path=intercept[-1].astype(dt),
        dual_gap=sol.dual_gap,
        gap_tol=gap_tol,
        n_iter=sol.n_iter,
        mse_path=mse_path,
        n_samples=n_samples,
        n_features=n_features,
        backend=name,
        mode=mode,
        dtype=dt,
        timings=timings,
    )


def solve_grid(X, y, *, folds, sample_weight, penalty_factor, l1_ratios, alphas,
               eps, fit_intercept, standardize, positive, tol, max_iter, dtype,
               backend, progress=False, X_device=None):
    """Plan and solve a validated grid (shared by ``fit_grid`` and ``enet_path``).

    ``X_device``, the caller's CuPy array when X came as one, is used by the
    GPU backend instead of copying the host X back to the device.

    Returns
    -------
    sol : PathSolution
        Solver-scale coefficients ``(n_sets, n_l1_ratios, n_alphas, n_features)``.
    batch : GramBatch or ResidualBatch
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    mode : str
    timings : dict
    """
    timings = {}
    t0 = time.perf_counter()
    n_samples, n_features = X.shape
    W = training_weights(n_samples, folds, sample_weight)
    mode = choose_mode(n_samples, n_features, W.shape[0], np.dtype(dtype).itemsize)
    xp = get_backend(backend).array_module()
    Xb, yb, kw = X, y, {}
    if mode == "gram" and xp is not np:
        # the GPU backend: X goes to the device once, the Grams are built there
        t_copy = time.perf_counter()
        X_src = X if X_device is None else X_device
        Xb, yb, kw = xp.asarray(X_src), xp.asarray(y), {"xp": xp}
        timings["transfer"] = time.perf_counter() - t_copy
    build = build_gram_batch if mode == "gram" else build_residual_batch
    t_gram = time.perf_counter()
    batch = build(Xb, yb, W, fit_intercept=fit_intercept, standardize=standardize,
                  dtype=dtype, **kw)
    timings["gram"] = time.perf_counter() - t_gram
    c_full = batch.stats.c[-1]
    if isinstance(alphas, int):
        grid = np.stack([
            alpha_grid(alpha_max(c_full, rho, penalty_factor, positive), alphas, eps)
            for rho in l1_ratios
        ])
    else:
        grid = np.tile(alphas, (l1_ratios.size, 1))
    timings["prepare"] = (time.perf_counter() - t0 - timings["gram"]
                          - timings.get("transfer", 0.0))

    n_sets = batch.stats.n_sets
    closed = (l1_ratios == 0) & (not positive)
    cd = np.flatnonzero(~closed)

    t0 = time.perf_counter()
    part = None
    if cd.size:
        bar = _progress_bar(progress, n_sets * cd.size)
        part = get_backend(backend).solve_paths(
            batch, grid[cd], l1_ratios[cd], penalty_factor, positive=positive,
            tol=tol, max_iter=max_iter, progress=None if bar is None else bar.update,
        )
        if bar is not None:
            bar.close()
    if part is not None and cd.size == l1_ratios.size:
        sol = part  # no second (n_sets, n_l1, n_alphas, p) array
    else:  # some l1_ratios are Ridge paths, solved in closed form below
        sol = PathSolution.empty(n_sets, l1_ratios.size, grid.shape[1], n_features)
        if part is not None:
            sol.coef[:, cd] = part.coef
            sol.dual_gap[:, cd] = part.dual_gap
            sol.n_iter[:, cd] = part.n_iter
        del part
    timings["solve"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for il in np.flatnonzero(closed):
        check_stop()
        sol.coef[:, il] = ridge_paths(batch, grid[il], penalty_factor)
        sol.n_iter[:, il] = 0
        for t in range(n_sets):
            grad, rnorm2 = batch.grad_rnorm2(t, sol.coef[t, il])
            sol.dual_gap[t, il] = duality_gap(
                sol.coef[t, il], grad, rnorm2, 0.0 * grid[il], grid[il],
                penalty_factor, False,
            )
    timings["ridge"] = time.perf_counter() - t0
    return sol, batch, grid, mode, timings


def to_original_scale(coef, stats, out=None):
    """Undo standardization and recover intercepts.

    Parameters
    ----------
    coef : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features)
    stats : TrainingStats
    out : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features), optional
        Where to write the rescaled coefficients (``coef`` itself rescales in
        place and saves a copy of the largest array).

    Returns
    -------
    coef : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features)
    intercept : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
    """
    coef = np.divide(coef, stats.x_scale[:, None, None, :], out=out)
    intercept = stats.y_mean[:, None, None] - np.einsum(
        "tlaj,tj->tla", coef, stats.x_mean
    )
    return coef, intercept


def cv_mse(X, y, sample_weight, folds, coef, intercept, batch=None):
    """Held-out mean squared error of every fold fit (weighted if weights given).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
    folds : list of (train, test)
    coef : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_features)
    intercept : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
    batch : GramBatch, optional
        When given, folds whose test rows are exactly the rows their training
        set leaves out are scored from the held-out Gram blocks.

    Returns
    -------
    ndarray of shape (n_l1_ratios, n_alphas, n_folds)
    """
    n_folds, n_l1, n_alphas, p = coef.shape
    n_samples = X.shape[0]
    mse = np.empty((n_l1, n_alphas, n_folds))
    X64 = np.asarray(X, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    s = np.ones(n_samples) if sample_weight is None else sample_weight
    for k, (_, test) in enumerate(folds):
        check_stop()
        U = coef[k].reshape(-1, p)
        b = intercept[k].reshape(-1)
        sse = None
        if isinstance(batch, GramBatch):
            mask = np.zeros(n_samples, dtype=bool)
            mask[test] = True
            mask &= s > 0
            sse = batch.heldout_sse(k, mask, U, b)
        if sse is None:
            sse = np.full(U.shape[0], np.nan)
        redo = np.flatnonzero(np.isnan(sse))
        if redo.size:  # predict the held-out rows directly
            Ur = U if redo.size == U.shape[0] else U[redo]  # no copy when all
            res = y64[test, None] - (X64[test] @ Ur.T + b[redo])
            sse[redo] = s[test] @ (res * res)
        mse[..., k] = (sse / s[test].sum()).reshape(n_l1, n_alphas)
    return mse


def warn_uncertified(dual_gap, gap_tol, tol):
    """One ``ConvergenceWarning`` for all fits whose gap exceeds its threshold."""
    bad = dual_gap > gap_tol[:, None, None]
    n_bad = int(bad.sum())
    if n_bad == 0:
        return
    worst = float(np.max(dual_gap / np.maximum(gap_tol, np.finfo(float).tiny)
                         [:, None, None]))
    warnings.warn(
        f"{n_bad:,} of {dual_gap.size:,} fits did not reach tol={tol:g}; worst "
        f"gap is {worst:.3g} × its threshold (tol · Σ s ỹ² / n_w). Increase "
        "max_iter, loosen tol, or use float64.",
        ConvergenceWarning,
        stacklevel=3,
    )


def _progress_bar(progress, total):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="gpureg paths", unit="path")
