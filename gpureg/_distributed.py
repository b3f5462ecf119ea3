"""Grids over a Dask cluster: ``fit_grid(..., client=Client)``.

The grid is cut into *shards*, each one task of Dask's distributed
scheduler:

* Gaussian family: (target × training sets × l1_ratio block).  The blocks
  come from the memory plan (:func:`gpureg._memory.plan_grid`) made against
  the smallest worker's memory (its device memory for GPU workers), cut
  until there are at least as many shards as workers (:func:`_shards`).
* Binomial family: one training set (all its l1_ratio paths, as its solver
  takes them).

X goes to every worker once (``client.scatter(..., broadcast=True)``).  Each
worker builds the shared part of a grid once and keeps it in a per-process
cache (:data:`_CONTEXTS`, keyed by a token of the call) for every shard it
runs: the batch of Gram matrices (or the residual form's statistics), the
alpha grid and the fold scorer — exactly what the single-process
``fit_grid`` builds, with the same code, so the shards' fits are bit for bit
those of a single-process run on the CPU backend.  A shard of a fold solves
its paths, scores them on the worker and returns only the held-out errors
(and, with ``keep``, the fold's paths and out-of-fold predictions); the
full-data shard returns its coefficient paths and the statistics that map
them back to X's scale.  The client assembles one result.  The caches are
dropped when the call ends.

Each worker resolves the backend itself (``'auto'``: its GPU when it has
one), so one call can use the GPUs of a ``dask_cuda.LocalCUDACluster`` (a
worker per GPU).

A worker runs one shard at a time (:data:`_SHARD_LOCK`), its solver on the
worker's share of its machine's cores (the cores split evenly between the
workers of one host), whatever its Dask thread count.

Bit for bit: arrays that Dask unpickles on a worker may start at an address
that is not a multiple of 8, and numpy then skips BLAS for their products
(another summation order), so a shard copies such arrays once to aligned
memory (:func:`_aligned`); and OpenBLAS may sum in an order that depends on
its thread count (Dask's nanny starts workers with one BLAS thread), so a
shard runs its BLAS calls with the client's BLAS thread count
(``threadpoolctl``).  The numba solvers are parallel over independent paths
and need nothing.

Faults: a worker lost mid-run has its shards re-run elsewhere by the
scheduler (which rebuilds the cache there); an exception raised by a shard
(a user error: a backend the workers cannot run, a memory limit) is
re-raised as itself, without Dask's frames; Ctrl-C cancels every future of
the call.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import uuid

import numpy as np

from . import _validation as v
from ._alphas import alpha_paths
from ._batch import training_weights
from ._interrupt import check_stop
from ._memory import memory_budget, plan_grid
from ._progress import progress_bar
from ._result import MultiTargetResult
from ._scoring import FoldArtifacts, FoldScorer

#: Per-process cache of the workers: token -> the grid's shared part.
_CONTEXTS: dict = {}
_LOCK = threading.Lock()
#: Seconds between the client's checks for Ctrl-C while shards run.
POLL_SECONDS = 0.2
#: Retries of a shard whose task failed (a lost worker is not counted: the
#: scheduler re-runs its tasks elsewhere on its own).
RETRIES = 1


def require_distributed():
    """``distributed``, or an ImportError saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "client= needs Dask's distributed scheduler, which is not installed: "
            "pip install 'gpureg[dask]' (dask and distributed)."
        ) from exc
    return distributed


@contextlib.contextmanager
def connect(client):
    """The ``distributed.Client`` that ``client`` names, for one call.

    Parameters
    ----------
    client : distributed.Client, 'default' or str
        A client; ``'default'``: the process's default client (the last one
        created, ``distributed.default_client()``); any other string: a
        scheduler's address (``'tcp://host:8786'``), connected for the call
        and closed after it.  The strings keep estimators cloneable and
        picklable (a Client is neither).

    Yields
    ------
    distributed.Client
    """
    distributed = require_distributed()
    if isinstance(client, distributed.Client):
        yield client
    elif client == "default":
        try:
            yield distributed.default_client()
        except ValueError as exc:
            raise ValueError(
                "client='default' needs a dask.distributed.Client created first "
                "in this process (no default client found)."
            ) from exc
    elif isinstance(client, str):
        with distributed.Client(client, set_as_default=False) as own:
            yield own
    else:
        raise TypeError(
            "client must be a dask.distributed.Client, 'default' or a scheduler "
            f"address, got {type(client).__name__}."
        )


class WorkerDesign:
    """X as a path that every worker reads itself (``fit_grid(path, client=)``).

    The data never passes through the client.  Built by :meth:`inspect`,
    which has one worker load and validate the file with the single
    process's own checks and return only what the client plans with.

    Attributes
    ----------
    path : str
    shape : tuple of int
        ``(n_samples, n_features)``.
    dtype : numpy.dtype
        Of the validated X (the working dtype).
    nnz : int or None
        Non-zeros of a sparse X, None for a dense one.
    """

    def __init__(self, path, shape, dtype, nnz, args):
        self.path, self.shape, self.dtype, self.nnz = path, shape, dtype, nnz
        self._args = args  # check_X_y's options: the workers validate alike

    @classmethod
    def inspect(cls, client, path, y, dtype, multi_output):
        """Validate the file on a worker; returns the design and the checked y.

        Parameters
        ----------
        client : distributed.Client
        path : str or os.PathLike
            Readable at the same path by every worker.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        dtype : {None, 'float32', 'float64'}
        multi_output : bool

        Returns
        -------
        WorkerDesign, ndarray, numpy.dtype
            The design, y validated against it, the working dtype.
        """
        import os

        path = os.fspath(path)
        args = (dtype, multi_output)
        fut = client.submit(_inspect_design, path, y, args, pure=False)
        try:
            shape, dt, nnz, y = fut.result()
        except Exception as exc:  # raised as itself, without Dask's frames
            raise exc.with_traceback(None) from None
        return cls(path, shape, dt, nnz, args), y, dt

    def load(self):
        """On a worker: X read from the file and validated as on the client."""
        X = v.load_design(self.path)
        y = np.zeros(X.shape[0])
        X, _, _ = v.check_X_y(X, y, *self._args[:1], accept_sparse=True)
        return X


def _inspect_design(path, y, args):
    """On a worker: load and validate X; what the client needs to plan."""
    with _heap_kept():  # a large X: glibc's own thresholds (see _heap_kept)
        X = v.load_design(path)
        X, y, _ = v.check_X_y(X, y, args[0], multi_output=args[1], accept_sparse=True)
    return X.shape, X.dtype, X.nnz if v.issparse(X) else None, y


def check_client(client):
    """Validate ``client``: a ``distributed.Client`` with at least one worker.

    Returns
    -------
    dict
        ``scheduler_info()["workers"]``: address -> worker information.
    """
    distributed = require_distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(
            f"client must be a dask.distributed.Client, got {type(client).__name__}."
        )
    workers = client.scheduler_info().get("workers", {})
    if not workers:
        raise ValueError("the Dask cluster behind client has no workers.")
    return workers


def _worker_info(backend, memory_limit):
    """On a worker: its host budget, its backend and that backend's device budget."""
    from .backends import get_backend, resolve_backend

    host = memory_budget(memory_limit)
    try:
        from distributed import get_worker

        limit = get_worker().memory_manager.memory_limit
        if limit:
            host = min(host, int(limit))
    except Exception:  # not in a worker (client.run on the scheduler) or no limit
        pass
    try:
        name = resolve_backend(backend)
    except Exception as exc:  # the shards will raise it; report what is known
        return dict(host=host, backend=None, device=None, error=str(exc), cores=1)
    device = get_backend(name).memory_budget()
    return dict(host=host, backend=name, device=device, error=None, cores=_cores())


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where known)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _workers_plan(client, backend, memory_limit):
    """The budgets of the weakest worker, and how the workers share their cores.

    Returns
    -------
    host, device : int or None
        The smallest host and device budgets.
    backends : list of str
    shares : dict
        Worker address -> the worker's share of its machine's cores (split
        evenly between the workers on one host), its solver's threads.
    """
    info = client.run(_worker_info, backend, memory_limit)
    host = min(i["host"] for i in info.values())
    devices = [i["device"] for i in info.values() if i["device"] is not None]
    backends = sorted({i["backend"] for i in info.values() if i["backend"]})
    workers = client.scheduler_info()["workers"]
    per_host = {}
    for w in workers.values():
        per_host[w.get("host")] = per_host.get(w.get("host"), 0) + 1
    shares = {
        addr: max(1, info.get(addr, {}).get("cores", 1) // per_host[w.get("host")])
        for addr, w in workers.items()
    }
    return host, (min(devices) if devices else None), backends, shares


def _cores_share(shares):
    """The share of its machine's cores of the worker running this (or None)."""
    try:
        from distributed import get_worker

        return shares[get_worker().address]
    except (ValueError, KeyError):  # not on a worker, or a worker that joined late
        return None


def _gaussian_context(token, X, Y, spec, mode):
    """The worker's cached batch, alpha grids and scorers of call ``token``.

    Returns
    -------
    tuple
        ``(spec, engine, batches, grids, scorers)``, and the seconds this
        call spent building them (``{}`` when they were cached): ``align``
        (the aligned copies) and ``build`` (the rest).
    """
    with _LOCK:
        ctx = _CONTEXTS.get(token)
        if ctx is not None:
            return ctx, {}

        from .backends import get_backend

        t0 = time.perf_counter()
        spec = _aligned_spec(spec)
        engine = get_backend(spec.backend)
        if isinstance(X, WorkerDesign):  # read here, never sent
            X = X.load()
        X, Y = _aligned(X), _aligned(Y)  # once per worker and call
        t1 = time.perf_counter()
        W = training_weights(X.shape[0], spec.folds, spec.sample_weight)
        batches = engine.build_batch(
            X,
            Y,
            W,
            mode=mode,
            fit_intercept=spec.fit_intercept,
            standardize=spec.standardize,
            dtype=spec.dtype,
        )
        batches = batches if Y.ndim == 2 else [batches]
        grids = [
            alpha_paths(
                b.stats.c[-1],
                spec.l1_ratios,
                spec.alphas,
                spec.eps,
                spec.penalty_factor,
                spec.positive,
            )
            for b in batches
        ]
        Ys = [Y] if Y.ndim == 1 else [Y[:, j] for j in range(Y.shape[1])]
        n_l1 = spec.l1_ratios.size
        scorers = [
            FoldScorer(X, y, spec.sample_weight, spec.folds, n_l1)
            if spec.folds
            else None
            for y in Ys
        ]
        ctx = _CONTEXTS[token] = (spec, engine, batches, grids, scorers)
        return ctx, dict(align=t1 - t0, build=time.perf_counter() - t1)


def blas_threads() -> int:
    """The BLAS thread count of this process (the largest over its libraries)."""
    from threadpoolctl import threadpool_info

    counts = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    return max(counts, default=1)


def _aligned(A):
    """``A`` with its buffers at aligned addresses (a copy only if they are not).

    Dense arrays and the ``data``/``indices``/``indptr`` of a scipy.sparse
    matrix; anything else as it is.
    """
    if isinstance(A, np.ndarray):
        return A if A.flags.aligned else A.copy(order="K")
    if v.issparse(A) and hasattr(A, "indptr"):
        parts = (A.data, A.indices, A.indptr)
        if all(a.flags.aligned for a in parts):
            return A
        out = A.copy()
        out.data, out.indices, out.indptr = (a.copy() for a in parts)
        return out
    return A


def _aligned_spec(spec):
    """``spec`` on a worker: its arrays aligned, its backend resolved here."""
    from dataclasses import fields, replace

    from .backends import resolve_backend

    arrays = {
        f.name: _aligned(getattr(spec, f.name))
        for f in fields(spec)
        if isinstance(getattr(spec, f.name), np.ndarray)
    }
    return replace(spec, backend=resolve_backend(spec.backend), **arrays)


#: A worker runs one shard at a time, its solver on all the worker's cores
#: (see :func:`_workers_plan`): shards run at once in one process would
#: share those cores no better than the solver's own threads do, and their
#: BLAS calls (OpenBLAS's thread count is process-wide; called from two
#: threads at once, it may run one of them on a single thread) would no
#: longer sum in the single process's order.
_SHARD_LOCK = threading.Lock()


#: glibc's ``mallopt`` parameters, and its defaults and dynamic maxima
#: (64-bit): the heap's trim threshold and the size from which a block is
#: its own ``mmap``.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_DEFAULT, _MMAP_MAX = 128 * 1024, 32 * 1024 * 1024


@contextlib.contextmanager
def _heap_kept():
    """The C library's own allocation thresholds while a shard runs.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``.  Any
    such setting turns off glibc's dynamic thresholds, so every array above
    128 KiB becomes a fresh ``mmap`` whose pages fault in (zeroed) on first
    touch, and the heap is trimmed at every free: W1's grid ran 40% slower
    on such a worker than in a plain process.  While a shard runs, the two
    thresholds are set to the values glibc's dynamic rule reaches in a
    plain process (32 MiB blocks from the heap, 64 MiB kept); after it, to
    Dask's again, so the worker's memory is handed back as Dask intends.
    Nothing changes without that variable or on another C library.
    """
    import ctypes
    import os

    value = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
    libc = None
    if value.isdigit():
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_MAX)
            libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_MAX)
        except (OSError, AttributeError):  # not glibc
            libc = None
    try:
        yield
    finally:
        if libc is not None:
            libc.mallopt(_M_TRIM_THRESHOLD, int(value))
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_DEFAULT)


def _on_worker(func):
    """Run a shard ``func(*args, blas=n, shares=s)`` alone on its worker.

    Under the client's BLAS thread count ``n``, with the worker's share of
    the cores as the solver's threads (``s``: see :func:`_workers_plan`).
    """

    @functools.wraps(func)
    def run(*args, blas, shares):
        import numba
        from threadpoolctl import threadpool_limits

        n = _cores_share(shares)
        with _SHARD_LOCK, _heap_kept():
            if n is not None:
                numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
            with threadpool_limits(limits=blas, user_api="blas"):
                return func(*args)

    return run


@_on_worker
def _gaussian_shard(token, X, Y, spec, mode, keep, j, sets, ls):
    """Solve and score target ``j``'s paths of training sets ``sets`` × ``ls``.

    Returns
    -------
    list of dict
        One per training set: its gaps and iteration counts, then its
        held-out errors (a fold) or its paths and statistics (the full data).
    """
    from ._fit import _GridJob, _solve_chunk

    t0 = time.perf_counter()
    ctx, built = _gaussian_context(token, X, Y, spec, mode)
    spec, engine, batches, grids, scorers = ctx
    batch, grid = batches[j], grids[j]
    n_sets = spec.n_sets
    t1 = time.perf_counter()
    job = _GridJob.for_spec(
        engine,
        batch,
        grid,
        spec,
        progress=None,
        timings=dict(solve=0.0, ridge=0.0),
        whole=False,
    )
    coefs = _solve_chunk(job, sets, ls)
    outs = []
    for t, coef in zip(range(*sets.indices(n_sets)), coefs, strict=True):
        out = dict(
            t=t,
            dual_gap=job.dual_gap[t, ls],
            n_iter=job.n_iter[t, ls],
            backend=spec.backend,
            timings=dict(score=0.0),
        )
        outs.append(out)
        if t == n_sets - 1:
            out.update(coef=coef, stats=batch.stats, alphas=grid)
            continue
        t2 = time.perf_counter()
        out["mse"], U, b = scorers[j].fold_scores(batch, t, coef)
        if keep:
            test = spec.folds[t][1]
            pred = FoldArtifacts.predictions(scorers[j].X64, test, U, b)
            out["kept"] = (U, b, pred)
        out["timings"]["score"] = time.perf_counter() - t2
    outs[0]["timings"].update(job.timings, context=t1 - t0)
    outs[0]["timings"].update({f"context_{k}": sec for k, sec in built.items()})
    return outs


def _drop_context(token):
    """On a worker: forget call ``token``'s cache."""
    with _LOCK:
        _CONTEXTS.pop(token, None)


def _gather(client, futures, bar, on_result):
    """Wait for every future, handing each result to ``on_result`` as it comes.

    ``futures``: key -> future.  Ctrl-C (``check_stop``) and any error cancel
    the futures still pending; a shard's own exception is re-raised as
    itself, without Dask's frames.
    """
    from distributed import wait

    pending = dict(futures)
    try:
        while pending:
            check_stop()
            done = [k for k, f in pending.items() if f.done()]
            if not done:
                try:  # returns as soon as one is done: no polling delay
                    wait(
                        list(pending.values()),
                        timeout=POLL_SECONDS,
                        return_when="FIRST_COMPLETED",
                    )
                except TimeoutError:
                    pass
                continue
            for key in done:
                fut = pending.pop(key)
                if fut.status == "error":
                    raise fut.exception().with_traceback(None) from None
                if fut.status == "cancelled":
                    raise RuntimeError(f"shard {key} was cancelled by the cluster.")
                on_result(key, fut.result())
                if bar is not None:
                    bar.update(1)
    finally:
        if pending:
            client.cancel(list(pending.values()), force=True)
        if bar is not None:
            bar.close()


def _shards(plan, n_sets, n_l1, n_targets, n_workers):
    """(target, training sets, l1_ratio block) of every shard, from the plan.

    The plan's chunks (training sets × l1_ratio block) are what fits a
    worker.  They are cut along their training sets, then along their
    l1_ratios, until the grid has at least one shard per worker.  A shard
    solves its paths on all its worker's cores, so a larger shard loses no
    parallelism, and fewer shards cost less: on W1, two shards on one
    worker took 1.38× the single process's time, one shard 1.15×
    (benchmarks/bench_dask.py).
    """
    want = -(-n_workers // n_targets)  # shards per target
    pieces = [(range(*s.indices(n_sets)), np.asarray(ls)) for s, ls in plan.chunks]
    if sum(len(sets) for sets, _ in pieces) < want and n_l1 > 1:
        pieces = [(sets, np.array([il])) for sets, ls in pieces for il in ls]
    total = sum(len(sets) for sets, _ in pieces)
    blocks = []
    for sets, ls in pieces:  # into ceil(want · share) runs of training sets
        runs = min(len(sets), max(1, -(-want * len(sets) // total)))
        for run in np.array_split(np.asarray(sets), runs):
            blocks.append((slice(int(run[0]), int(run[-1]) + 1), ls))
    return [(j, sets, ls) for j in range(n_targets) for sets, ls in blocks]


def fit_gaussian_distributed(X, Y, spec, client, progress, keep):
    """The Gaussian grid of ``fit_grid(..., client=)`` (validated inputs).

    Returns
    -------
    GridResult, or MultiTargetResult for a 2-D ``Y``
    """
    from ._fit import GridSolution, gaussian_result

    t_start = time.perf_counter()
    check_client(client)
    n, p = X.shape
    host, device, backends, shares = _workers_plan(
        client, spec.backend, spec.memory_limit
    )
    alphas = spec.alphas
    n_alphas = alphas if isinstance(alphas, int) else alphas.size
    plan = plan_grid(
        n_samples=n,
        n_features=p,
        n_sets=spec.n_sets,
        n_l1=spec.l1_ratios.size,
        n_alphas=n_alphas,
        itemsize=np.dtype(spec.dtype).itemsize,
        x_is_float64=X.dtype == np.float64,
        x_nnz=getattr(X, "nnz", None),  # scipy.sparse, or a sparse WorkerDesign
        n_test=max((len(test) for _, test in spec.folds), default=0),
        budget=host,
        gram_budget=None if getattr(X, "nnz", None) is not None else device,
    )
    k = 1 if Y.ndim == 1 else Y.shape[1]
    shards = _shards(plan, spec.n_sets, spec.l1_ratios.size, k, len(shares))
    token = f"gpureg-{uuid.uuid4().hex}"
    t_scatter = time.perf_counter()
    if isinstance(X, WorkerDesign):  # each worker reads the file
        X_f, Y_f = X, client.scatter(Y, broadcast=True, hash=False)
    else:
        X_f, Y_f = client.scatter([X, Y], broadcast=True, hash=False)
    t_scatter = time.perf_counter() - t_scatter
    blas = blas_threads()
    futures, where = {}, {}
    for j, sets, ls in shards:
        fut = client.submit(
            _gaussian_shard,
            token,
            X_f,
            Y_f,
            spec,
            plan.mode,
            keep,
            j,
            sets,
            ls,
            blas=blas,
            shares=shares,
            key=f"{token}-{j}-{sets.start}-{int(ls[0])}",
            retries=RETRIES,
            pure=False,
        )
        futures[fut.key], where[fut.key] = fut, (j, ls)
    parts = [_Assembly(spec, n, p, n_alphas, keep) for _ in range(k)]
    bar = progress_bar(progress, len(shards), unit="shard")
    try:
        _gather(
            client,
            futures,
            bar,
            lambda key, outs: parts[where[key][0]].add(where[key][1], outs),
        )
    finally:
        client.run(_drop_context, token)
    results = []
    for part in parts:
        part.timings["scatter"] = t_scatter
        part.timings["total"] = time.perf_counter() - t_start
        sol = GridSolution(
            coef=part.coef,
            dual_gap=part.dual_gap,
            n_iter=part.n_iter,
            batch=None,
            alphas=part.alphas,
            mode=plan.mode,
            plan=plan,
            timings=part.timings,
        )
        res = gaussian_result(
            sol, part.stats, part.spec(backends), (n, p), part.mse, part.kept
        )
        res.timings["shards"] = len(shards) // k
        results.append(res)
    if Y.ndim == 1:
        return results[0]
    out = MultiTargetResult(results)
    out.timings = {"total": time.perf_counter() - t_start}
    return out


class _Assembly:
    """One target's result arrays, filled shard by shard on the client."""

    def __init__(self, spec, n, p, n_alphas, keep):
        n_sets, n_l1 = spec.n_sets, spec.l1_ratios.size
        self._spec = spec
        self.coef = np.zeros((n_l1, n_alphas, p))
        self.dual_gap = np.full((n_sets, n_l1, n_alphas), np.inf)
        self.n_iter = np.zeros((n_sets, n_l1, n_alphas), dtype=np.int64)
        folds = spec.folds
        self.mse = np.full((n_l1, n_alphas, len(folds)), np.nan) if folds else None
        self.kept = FoldArtifacts(len(folds), n_l1, n_alphas, p, n) if keep else None
        self.stats = self.alphas = None
        self.timings = dict(solve=0.0, ridge=0.0, score=0.0, context=0.0)
        self.backends = set()

    def add(self, ls, outs):
        """A shard's results: one dict per training set (``_gaussian_shard``)."""
        for out in outs:
            self._add(out["t"], ls, out)

    def _add(self, t, ls, out):
        self.dual_gap[t, ls] = out["dual_gap"]
        self.n_iter[t, ls] = out["n_iter"]
        self.backends.add(out["backend"])
        for name, sec in out["timings"].items():
            self.timings[name] = self.timings.get(name, 0.0) + sec
        if "coef" in out:
            self.coef[ls] = out["coef"]
            self.stats, self.alphas = out["stats"], out["alphas"]
            return
        self.mse[ls, :, t] = out["mse"]
        if self.kept is not None:
            self.kept.store(t, ls, *out["kept"], self._spec.folds[t][1])

    def spec(self, backends):
        """The spec with the backend the workers ran (one name, or 'mixed')."""
        from dataclasses import replace

        ran = sorted(self.backends) or backends
        return replace(self._spec, backend=ran[0] if len(ran) == 1 else "mixed")


@_on_worker
def _binomial_shard(token, XF, y01, SW, params, grid, spec):
    """Solve one training set's binomial paths on a worker (its own backend)."""
    from ._binomial import _solve_sets

    with _LOCK:  # X and y aligned once per worker and call, not per set
        if token not in _CONTEXTS:
            _CONTEXTS[token] = (_aligned_spec(spec), _aligned(XF), _aligned(y01))
        spec, XF, y01 = _CONTEXTS[token]
    SW, grid = _aligned(SW), _aligned(grid)
    params = tuple(_aligned(a) for a in params)
    return _solve_sets(XF, y01, SW, params, grid, spec, False), spec.backend


def binomial_solver(client):
    """A ``_solve_sets`` for ``fit_binomial_grid`` that runs one set a shard."""

    def solve(XF, y01, SW, params, grid, spec, progress):
        check_client(client)
        n_sets = SW.shape[0]
        shares = _workers_plan(client, spec.backend, spec.memory_limit)[3]
        XF_f, y_f = client.scatter([XF, y01], broadcast=True, hash=False)
        blas = blas_threads()
        token = f"gpureg-{uuid.uuid4().hex}"
        futures, keys = {}, {}
        for t in range(n_sets):
            fut = client.submit(
                _binomial_shard,
                token,
                XF_f,
                y_f,
                SW[t : t + 1],
                tuple(a[t : t + 1] for a in params),
                grid,
                spec,
                blas=blas,
                shares=shares,
                key=f"{token}-{t}",
                retries=RETRIES,
                pure=False,
            )
            futures[fut.key], keys[fut.key] = fut, t
        got = [None] * n_sets
        ran = set()

        def on_result(key, out):
            got[keys[key]] = out[0]
            ran.add(out[1])

        try:
            _gather(
                client,
                futures,
                progress_bar(progress, n_sets, unit="shard"),
                on_result,
            )
        finally:
            client.run(_drop_context, token)
        solve.backends = ran
        return tuple(np.concatenate(parts) for parts in zip(*got, strict=True))

    return solve
