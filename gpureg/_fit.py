"""``fit_grid``: plan a grid, hand it to a backend, score it, certify it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import _validation as v
from ._alphas import alpha_paths
from ._batch import training_weights
from ._binomial import binomial_backend, check_measure, encode_labels, fit_binomial_grid
from ._folds import make_folds
from ._interrupt import check_stop, interruptible
from ._memory import format_bytes, memory_budget, plan_grid, require
from ._penalty import duality_gap
from ._progress import progress_bar
from ._result import GridResult, MultiTargetResult, warn_uncertified
from ._ridge import ridge_paths
from ._scoring import FoldArtifacts, FoldScorer, kept_fields
from ._spec import GridSpec, check_family
from .backends import check_backend, get_backend, resolve_backend

if TYPE_CHECKING:  # dask is the optional ``gpureg[dask]`` extra
    from distributed import Client


@interruptible
def fit_grid(
    X: ArrayLike | str | os.PathLike,
    y: ArrayLike,
    *,
    l1_ratio: float | ArrayLike = 0.5,
    alphas: int | ArrayLike = 100,
    eps: float = 1e-3,
    cv: int | object | None = 5,
    fit_intercept: bool = True,
    standardize: bool = False,
    sample_weight: ArrayLike | None = None,
    penalty_factor: ArrayLike | None = None,
    positive: bool = False,
    tol: float = 1e-4,
    max_iter: int = 1000,
    dtype: DTypeLike = None,
    backend: str = "auto",
    progress: bool = False,
    groups: ArrayLike | None = None,
    memory_limit: int | str | None = None,
    family: str = "gaussian",
    measure: str | None = None,
    keep: bool = False,
    client: Client | str | None = None,
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

    With ``family="binomial"`` (two classes, ``y_i ∈ {0, 1}`` with 1 =
    ``classes[1]``) the loss is glmnet's mean log-loss::

        min_{w, b}  1/n_w Σ_i s_i [log(1 + e^{z_i}) - y_i z_i] + (same penalty),
                    z_i = b + x_iᵀ w

    which is scikit-learn's ``LogisticRegression`` objective divided by
    ``C n_w`` (``C = 1 / (n_w alpha)``) and glmnet's with ``lambda = alpha``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or a path
        numpy, pandas, CuPy or scipy.sparse; never modified.  A path to a
        ``.npy`` file (``numpy.save``) or a ``.npz`` one
        (``scipy.sparse.save_npz``) is loaded; with ``client`` (Gaussian
        family), every worker reads it itself, at the same path, and it never
        passes through this process.
    y : array-like of shape (n_samples,)
        Numbers; for the binomial family any two labels.
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
        ``tol * Σ s_i ỹ_i² / n_w`` (scikit-learn's criterion); for the
        binomial family ``tol`` times the null model's mean log-loss.
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
    memory_limit : int or str, default=None
        Host memory the call may allocate, in bytes or as ``"8GB"``,
        ``"512MiB"``...  None: the ``GPUREG_MEMORY_LIMIT`` environment
        variable, else 70% of the memory available when the call starts.  The
        grid is solved in chunks of (training set × l1_ratio) paths, each
        scored and dropped, so that it fits; results do not depend on the
        chunking.
    family : {'gaussian', 'binomial'}, default='gaussian'
        The loss: squared error, or the logistic log-loss of two classes
        (on the GPU by batched proximal gradient, where ``max_iter`` counts
        its iterations; on the CPU by proximal Newton).
    measure : {None, 'mse', 'deviance', 'misclassification', 'auc'}, default=None
        The CV measure in ``cv_path``: ``'mse'`` for the Gaussian family;
        ``'deviance'`` (default), ``'misclassification'`` or ``'auc'`` for
        the binomial one, weighted by ``sample_weight``.
    keep : bool, default=False
        Also return every fold's coefficient paths (``fold_coef_path``,
        ``fold_intercept_path``) and each row's out-of-fold prediction at
        every grid point (``oof_predictions``), as glmnet's ``keep=TRUE``.
        Needs ``cv``; the arrays' size is checked against ``memory_limit``
        first, and the call refused with the size needed if it does not fit.
    client : dask.distributed.Client, 'default' or str, default=None
        Solve the grid on that Dask cluster (``pip install 'gpureg[dask]'``;
        ``'default'``: the process's default client; another string: a
        scheduler's address, connected for the call):
        shards of (target × training sets × l1_ratio block), planned against
        the smallest worker's memory, each solved by its worker's own
        backend (``'auto'``: the worker's GPU when it has one).  X goes to
        each worker once (or each worker reads it, when X is a path); the
        result equals a single-process run's (bit for bit on the CPU
        backend).  ``progress`` counts shards.

    Returns
    -------
    GridResult
        Full-data paths ``coef_path (n_l1_ratios, n_alphas, n_features)``,
        CV errors ``mse_path (n_l1_ratios, n_alphas, n_folds)``, the chosen
        ``alpha_``, ``l1_ratio_``, ``alpha_1se_``, and the duality gap and
        iteration count of every fit, ``(n_folds + 1, n_l1_ratios, n_alphas)``.

    Raises
    ------
    MemoryError
        At once, before any work, when the returned path and one chunk cannot
        fit in ``memory_limit``; the message gives the size needed.

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
    family = check_family(family)
    measure = check_measure(measure, family)
    is_path = isinstance(X, (str, os.PathLike))
    on_workers = is_path and client is not None
    if is_path and not on_workers:
        X = v.load_design(X)
    X_device = X if v.is_device_array(X) else None  # reused by the GPU backend
    if v.issparse(X):  # not the dense numpy reference's
        backend = _sparse_backend(backend)
    classes = None
    if family == "binomial":
        y, classes = encode_labels(y)
        backend = binomial_backend(backend, resolve=client is None)
    gaussian = family == "gaussian"
    if on_workers:  # read and checked by the workers, never by this process
        if not gaussian:
            raise NotImplementedError(
                "X as a path read by the workers runs the Gaussian family; for "
                "family='binomial' pass the array itself."
            )
        from ._distributed import WorkerDesign, connect

        with connect(client) as c:
            X, y, dt = WorkerDesign.inspect(c, X, y, dtype, multi_output=True)
        if X.nnz is not None:
            backend = _sparse_backend(backend)
    else:
        X, y, dt = v.check_X_y(X, y, dtype, multi_output=gaussian, accept_sparse=True)
    n_samples, n_features = X.shape
    sw = v.check_sample_weight(sample_weight, n_samples)
    spec = GridSpec(
        sample_weight=sw,
        penalty_factor=v.check_penalty_factor(penalty_factor, n_features),
        l1_ratios=v.check_l1_ratios(l1_ratio),
        eps=v.check_eps(eps),
        alphas=v.check_alphas(alphas),
        tol=v.check_tol(tol),
        max_iter=v.check_positive_int(max_iter, "max_iter"),
        # with a client, each worker resolves 'auto' to its own backend
        backend=resolve_backend(backend) if client is None else check_backend(backend),
        folds=make_folds(cv, n_samples, groups),
        fit_intercept=v.check_bool(fit_intercept, "fit_intercept"),
        standardize=v.check_bool(standardize, "standardize"),
        positive=v.check_bool(positive, "positive"),
        dtype=dt,
        memory_limit=memory_limit,
    )
    keep = _check_keep(keep, spec, n_samples, n_features)
    if client is not None:
        from ._distributed import binomial_solver, connect, fit_gaussian_distributed

        with connect(client) as client:
            if family == "binomial":
                solve = binomial_solver(client)
                return fit_binomial_grid(
                    X, y, classes, spec, measure, progress, keep, solve=solve
                )
            return fit_gaussian_distributed(X, y, spec, client, progress, keep)
    if family == "binomial":
        return fit_binomial_grid(X, y, classes, spec, measure, progress, keep)
    if y.ndim == 2:
        return _fit_targets(X, y, spec, progress, X_device, keep)
    return _fit_gaussian(X, y, spec, (progress, X_device, keep), t_start)


def _fit_gaussian(X, y, spec, options, t_start, batch=None) -> GridResult:
    """The Gaussian family's grid of one target: solve, score, map back.

    ``options = (progress, X_device, keep)`` as validated by :func:`fit_grid`;
    ``batch``, when given, is the target's prebuilt batch (many targets).
    """
    progress, X_device, keep = options
    folds, rhos = spec.folds, spec.l1_ratios
    scorer = (
        FoldScorer(X, y, spec.sample_weight, folds, rhos.size, keep) if folds else None
    )
    res = solve_grid(
        X, y, spec, progress=progress, X_device=X_device, on_fold=scorer, batch=batch
    )
    res.timings["total"] = time.perf_counter() - t_start
    return gaussian_result(
        res,
        res.batch.stats,
        spec,
        X.shape,
        None if scorer is None else scorer.mse,
        scorer.kept if keep else None,
    )


def gaussian_result(sol, stats, spec, shape, cv_path, kept) -> GridResult:
    """The Gaussian grid's :class:`GridResult` from its solved parts.

    Parameters
    ----------
    sol : GridSolution
        ``coef`` (the full-data path on the solver's scale, rescaled in
        place), ``alphas``, ``dual_gap``, ``n_iter``, ``mode``, ``timings``.
    stats : TrainingStats
        Of every training set (the full data's last).
    spec : GridSpec
    shape : tuple of int
        ``(n_samples, n_features)``.
    cv_path : ndarray of shape (n_l1_ratios, n_alphas, n_folds) or None
    kept : FoldArtifacts or None

    Returns
    -------
    GridResult
    """
    dt = spec.dtype
    coef = np.divide(sol.coef, stats.x_scale[-1], out=sol.coef)
    intercept = stats.y_mean[-1] - coef @ stats.x_mean[-1]
    gap_tol = spec.tol * stats.yy
    warn_uncertified(sol.dual_gap, gap_tol, spec.tol)
    return GridResult(
        alphas=sol.alphas,
        l1_ratios=spec.l1_ratios,
        coef_path=coef.astype(dt, copy=False),
        intercept_path=intercept.astype(dt, copy=False),
        dual_gap=sol.dual_gap,
        gap_tol=gap_tol,
        n_iter=sol.n_iter,
        cv_path=cv_path,
        n_samples=shape[0],
        n_features=shape[1],
        backend=spec.backend,
        mode=sol.mode,
        dtype=dt,
        timings=sol.timings,
        **kept_fields(kept, dt),
    )


def _fit_targets(X, Y, spec, progress, X_device, keep) -> MultiTargetResult:
    """K independent Gaussian grids on one X, sharing every Gram and fold.

    The batches of all targets are built in one pass (the Grams and the
    held-out blocks once, the target parts by one GEMM with Y); each target
    is then solved and scored on its own, with its own alpha grid.
    """
    t0 = time.perf_counter()
    n_samples, n_features = X.shape
    k = Y.shape[1]
    alphas = spec.alphas
    n_alphas = alphas if isinstance(alphas, int) else alphas.size
    need = 8 * k * spec.l1_ratios.size * n_alphas * (n_features + 2 * spec.n_sets)
    require(need, f"the paths of {k} targets ({format_bytes(need)})",
            spec.memory_limit)  # fmt: skip
    engine = get_backend(spec.backend)
    plan = _plan(X, spec, engine)
    W = training_weights(n_samples, spec.folds, spec.sample_weight)
    batches = engine.build_batch(
        X, Y, W, mode=plan.mode, fit_intercept=spec.fit_intercept,
        standardize=spec.standardize, dtype=spec.dtype, X_device=X_device,
    )  # fmt: skip
    t_build = time.perf_counter() - t0
    bar = progress_bar(progress, k)
    results = []
    for j in range(k):
        check_stop()
        t1 = time.perf_counter()
        res = _fit_gaussian(X, Y[:, j], spec, (False, X_device, keep), t1, batches[j])
        results.append(res)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    out = MultiTargetResult(results)
    out.timings = {"build": t_build, "total": time.perf_counter() - t0}
    return out


def _sparse_backend(backend):
    """The backend of a sparse X: the CPU or the GPU; ``'numpy'`` is refused."""
    if backend == "numpy":
        raise NotImplementedError(
            "a scipy.sparse X runs on backend='cpu' or 'gpu' (or 'auto'), not on "
            "the dense 'numpy' reference backend."
        )
    return backend


def _check_keep(keep, spec, n_samples, n_features):
    """Validate ``keep`` and refuse at once arrays that do not fit the budget."""
    keep = v.check_bool(keep, "keep")
    if keep:
        if not spec.folds:
            raise ValueError("keep=True needs cross-validation folds (cv).")
        alphas = spec.alphas
        n_alphas = alphas if isinstance(alphas, int) else alphas.size
        need = FoldArtifacts.nbytes(
            len(spec.folds), spec.l1_ratios.size, n_alphas, n_features, n_samples
        )
        require(
            need,
            f"keep=True's fold paths and predictions ({format_bytes(need)})",
            spec.memory_limit,
        )
    return keep


@dataclass
class GridSolution:
    """What :func:`solve_grid` returns.

    Attributes
    ----------
    coef : ndarray of shape (n_l1_ratios, n_alphas, n_features)
        The full-data path on the solver's scale (float64); the fold paths
        went to ``on_fold``.
    dual_gap : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
        Of every fit, the full data last.
    n_iter : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
    batch : GramBatch or ResidualBatch
        Every training set's problems (and held-out blocks for scoring).
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    mode : {'gram', 'residual'}
    plan : GridPlan
    timings : dict
    """

    coef: np.ndarray
    dual_gap: np.ndarray
    n_iter: np.ndarray
    batch: object
    alphas: np.ndarray
    mode: str
    plan: object
    timings: dict


def solve_grid(
    X, y, spec: GridSpec, *, progress=False, X_device=None, on_fold=None, batch=None
) -> GridSolution:
    """Plan and solve a validated grid (shared by ``fit_grid`` and ``enet_path``).

    The plan (:func:`gpureg._memory.plan_grid`) comes first: a grid that cannot
    fit in the memory budget is refused before any work.  The jobs are then
    solved chunk by chunk; each fold's paths are handed to ``on_fold`` and
    dropped, so only the full-data path is kept.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, in ``spec.dtype``.
    y : ndarray of shape (n_samples,)
    spec : GridSpec
    progress : bool
        As in :func:`fit_grid`.
    X_device : cupy.ndarray, optional
        The caller's CuPy array when X came as one: the GPU backend uses it
        instead of copying the host X back to the device.
    on_fold : callable, optional
        ``on_fold(batch, t, ls, coef)`` with fold ``t``'s paths of the
        l1_ratios ``ls`` (int array), ``coef`` of shape
        ``(ls.size, n_alphas, n_features)`` on the solver's scale, the
        callee's to overwrite.
    batch : GramBatch or ResidualBatch, optional
        Prebuilt for ``y`` (one target of a many-target grid): not rebuilt.

    Returns
    -------
    GridSolution
    """
    timings = dict.fromkeys(("solve", "ridge", "score"), 0.0)
    t0 = time.perf_counter()
    n_samples, n_features = X.shape
    n_sets, n_l1 = spec.n_sets, spec.l1_ratios.size
    engine = get_backend(spec.backend)
    plan = _plan(X, spec, engine)
    W = training_weights(n_samples, spec.folds, spec.sample_weight)
    t_gram = time.perf_counter()
    if batch is None:
        batch = engine.build_batch(
            X,
            y,
            W,
            mode=plan.mode,
            fit_intercept=spec.fit_intercept,
            standardize=spec.standardize,
            dtype=spec.dtype,
            X_device=X_device,
            timings=timings,
        )
    timings["gram"] = time.perf_counter() - t_gram
    grid = alpha_paths(
        batch.stats.c[-1],
        spec.l1_ratios,
        spec.alphas,
        spec.eps,
        spec.penalty_factor,
        spec.positive,
    )
    timings["gram"] -= timings.get("transfer", 0.0)
    timings["prepare"] = (
        time.perf_counter() - t0 - timings["gram"] - timings.get("transfer", 0.0)
    )

    n_alphas = grid.shape[1]
    coef_full = np.zeros((n_l1, n_alphas, n_features))
    bar = progress_bar(progress, n_sets * n_l1)
    update = None if bar is None else bar.update
    job = _GridJob.for_spec(
        engine,
        batch,
        grid,
        spec,
        progress=update,
        timings=timings,
        whole=len(plan.chunks) == 1,
    )
    for sets, ls in plan.chunks:
        check_stop()
        t_ids = range(*sets.indices(n_sets))
        coef = _solve_chunk(job, sets, ls)
        t0 = time.perf_counter()
        for j, t in enumerate(t_ids):
            if t == n_sets - 1:
                coef_full[ls] = coef[j]
            elif on_fold is not None:
                check_stop()
                on_fold(batch, t, ls, coef[j])
        del coef
        timings["score"] += time.perf_counter() - t0
    if bar is not None:
        bar.close()
    return GridSolution(
        coef=coef_full,
        dual_gap=job.dual_gap,
        n_iter=job.n_iter,
        batch=batch,
        alphas=grid,
        mode=plan.mode,
        plan=plan,
        timings=timings,
    )


def _plan(X, spec, engine):
    """The grid's memory plan (:func:`gpureg._memory.plan_grid`)."""
    alphas = spec.alphas
    return plan_grid(
        n_samples=X.shape[0],
        n_features=X.shape[1],
        n_sets=spec.n_sets,
        n_l1=spec.l1_ratios.size,
        n_alphas=alphas if isinstance(alphas, int) else alphas.size,
        itemsize=np.dtype(spec.dtype).itemsize,
        x_is_float64=X.dtype == np.float64,
        x_nnz=X.nnz if v.issparse(X) else None,
        n_test=max((len(test) for _, test in spec.folds), default=0),
        budget=memory_budget(spec.memory_limit),
        # Grams built on a device are checked against the device's budget (a
        # sparse X's Grams are built on the host)
        gram_budget=None if v.issparse(X) else engine.memory_budget(),
    )


@dataclass
class _GridJob:
    """What every chunk of :func:`solve_grid` shares (built once).

    Attributes
    ----------
    engine : module
        The backend.
    batch : GramBatch or ResidualBatch
        Every training set's problems.
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    l1_ratios : ndarray of shape (n_l1_ratios,)
    penalty_factor : ndarray of shape (n_features,)
    solver_kw : dict
        The keywords of ``engine.solve_paths`` (``positive``, ``tol``,
        ``max_iter``, ``progress``).
    dual_gap, n_iter : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
        Of every fit of the grid, filled chunk by chunk.
    timings : dict
        Where the ``"solve"`` and ``"ridge"`` seconds add up.
    whole : bool
        One chunk holds the whole grid: solve ``batch`` itself, not a subset.
    """

    engine: object
    batch: object
    alphas: np.ndarray
    l1_ratios: np.ndarray
    penalty_factor: np.ndarray
    solver_kw: dict
    dual_gap: np.ndarray
    n_iter: np.ndarray
    timings: dict
    whole: bool

    @property
    def closed(self) -> np.ndarray:
        """Which l1_ratios are solved in closed form (Ridge, unconstrained).

        Not for a sparse X in residual form: the closed form needs its dense
        design, so those paths go to coordinate descent.
        """
        sparse = getattr(self.batch, "sparse", False)
        return (self.l1_ratios == 0) & (not self.solver_kw["positive"]) & (not sparse)

    @classmethod
    def for_spec(cls, engine, batch, grid, spec, *, progress, timings, whole):
        """The job of ``spec``'s grid on ``batch``, gaps at inf, counts at 0.

        Parameters
        ----------
        engine : module
        batch : GramBatch or ResidualBatch
        grid : ndarray of shape (n_l1_ratios, n_alphas)
        spec : GridSpec
        progress : callable or None
        timings : dict
        whole : bool

        Returns
        -------
        _GridJob
        """
        shape = (spec.n_sets, spec.l1_ratios.size, grid.shape[1])
        return cls(
            engine,
            batch,
            grid,
            spec.l1_ratios,
            spec.penalty_factor,
            dict(
                positive=spec.positive,
                tol=spec.tol,
                max_iter=spec.max_iter,
                progress=progress,
            ),
            dual_gap=np.full(shape, np.inf),
            n_iter=np.zeros(shape, dtype=np.int64),
            timings=timings,
            whole=whole,
        )


def _solve_chunk(job: _GridJob, sets: slice, ls: np.ndarray) -> np.ndarray:
    """Solve the paths of training sets ``sets`` × l1_ratios ``ls``.

    Coordinate descent (the backend) for the l1_ratios that need it, the
    closed form for Ridge ones; gaps and iteration counts go into
    ``job.dual_gap`` and ``job.n_iter``.

    Returns
    -------
    ndarray of shape (n_chunk_sets, ls.size, n_alphas, n_features)
        Solver-scale coefficients, the caller's to keep or overwrite.
    """
    batch, grid, penalty_factor = job.batch, job.alphas, job.penalty_factor
    dual_gap, n_iter, timings = job.dual_gap, job.n_iter, job.timings
    n_alphas, p = grid.shape[1], batch.n_features
    sub = batch if job.whole else batch.subset(sets)
    t_ids = range(*sets.indices(batch.stats.n_sets))
    cd = ~job.closed[ls]
    t1 = time.perf_counter()
    coef = None
    if cd.any():
        part = job.engine.solve_paths(
            sub, grid[ls[cd]], job.l1_ratios[ls[cd]], penalty_factor, **job.solver_kw
        )
        dual_gap[sets, ls[cd]] = part.dual_gap
        n_iter[sets, ls[cd]] = part.n_iter
        coef = part.coef  # no second array when every l1_ratio is CD's
        del part
    if not cd.all():
        full = np.empty((len(t_ids), ls.size, n_alphas, p))
        if coef is not None:
            full[:, cd] = coef
        coef = full
    t2 = time.perf_counter()
    timings["solve"] += t2 - t1
    update = job.solver_kw["progress"]
    for i in np.flatnonzero(~cd):  # Ridge paths: closed form
        check_stop()
        il = ls[i]
        coef[:, i] = ridge_paths(sub, grid[il], penalty_factor)
        for j, t in enumerate(t_ids):
            grad, rnorm2 = batch.grad_rnorm2(t, coef[j, i])
            dual_gap[t, il] = duality_gap(
                coef[j, i],
                grad,
                rnorm2,
                0.0 * grid[il],
                grid[il],
                penalty_factor,
                False,
            )
        if update is not None:
            update(len(t_ids))
    timings["ridge"] += time.perf_counter() - t2
    return coef
