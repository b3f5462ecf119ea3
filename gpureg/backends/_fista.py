"""Batched accelerated proximal gradient (FISTA) over a whole grid: the GPU engine.

Every fit of the grid is one row of an ``(n_problems, n_features)`` batch;
problems are ordered as docs/design.md §3 (``((set · n_l1) + l1) · n_alphas + a``),
so the rows of one training set are contiguous.  One iteration is

1. ``GY = Y G_s`` for each training set s: one GEMM per set over all of its
   unfinished rows (cuBLAS on the GPU; the Gram of every set is shared by all
   of its alphas and l1_ratios);
2. one fused kernel: gradient step, batched soft-thresholding with the
   elastic-net prox, and Nesterov momentum with gradient-based restart
   (``enet_fista_step``);

and every ``check_every`` iterations the duality gap of every row is computed
on the device (``enet_gap``, float64 accumulation).  A row stops when

* its gap certifies, ``gap <= tol · Σ s ỹ² / n_w`` (the reported ``dual_gap``
  and the meaning of ``gap_tol`` are unchanged), **and**
* one Jacobi sweep of coordinate descent from the row's iterate would move no
  coefficient by more than ``STEP_SAFETY · tol · max|w|`` — scikit-learn's
  ``max|Δw| <= tol · max|w|`` test with the CPU backend's 10× safety factor,
  evaluated at the FISTA iterate (:func:`_jacobi_steps`).

The gap alone stops at the edge of the certified region, ~1e4× less accurate
than scikit-learn at the same ``tol``; a small *FISTA* step would not do
either (on ill-conditioned problems proximal-gradient steps are small far
from the optimum), whereas the coordinate step ``dist(grad_j, ∂g_j(w_j))``
/ ``G_jj`` is what scikit-learn's epochs measure.  Finished rows are copied
out and *compacted away*, so they stop costing.  In float32 a row is only
declared finished once its gap and its coordinate steps, recomputed with a
float64 Gram product, pass.

The engine is written against an array module ``xp`` and a small kernel
interface (``ops.fista_step``, ``ops.gap``): with CuPy and the CUDA kernels it
is the GPU backend; with numpy and the numba twins (``_twins.TwinOps``) the
same code runs, and is tested, on the CPU.

A *memory planner* cuts the problems into chunks whose device footprint fits
a byte budget; chunks run one after another and give exactly the rows an
unchunked run gives.  The plan (:func:`chunk_bytes`) is an upper bound of
the device bytes a chunk allocates: the chunk's Gram matrices or design, five
rows of ``n_features`` per problem (compaction reuses them: it allocates
nothing), the operator's temporaries, and the end-of-fit checks' slabs;
``tests/test_gpu_engine.py`` measures the real peak with a counting
allocator and checks it against the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._batch import GramBatch, _to_host
from .._interrupt import check_stop
from .._penalty import prox_update
from .._validation import issparse
from ._common import PathSolution
from ._sparse_device import DeviceSparse

#: The gap is evaluated every this many iterations (one extra GEMM).
CHECK_EVERY = 10
#: Power-iteration steps for the Lipschitz constant of each training set.
POWER_ITERATIONS = 50
#: Safety factor on the power-iteration estimate of ``λ_max(G)``.
LIPSCHITZ_MARGIN = 1.1
#: Device arrays of n_features entries held per problem: W, Y, their next
#: values, and the GEMM output (GY, reused for GW).  Compaction moves the
#: surviving rows into the spare halves of these buffers (no allocation).
ROWS_PER_PROBLEM = 5
#: Device bytes per problem besides its rows: set index, l1, l2, momentum,
#: gap, masks and row indices, and their compacted copies (an upper bound).
PROBLEM_BYTES = 128
#: A certified row stops once no coordinate-descent step from it exceeds
#: ``STEP_SAFETY · tol · max|w|`` (the CPU backend's ``DW_SAFETY``).
STEP_SAFETY = 0.1
#: Round-off floors of that test: ``STEP_ROUNDOFF_ULPS · eps(dtype) · max|w|``
#: (float32 iterates stall near 1e-6 relative steps: 64 ulps is 7.6e-6), plus
#: ``STEP_FLOOR · max_j |c_j| / G_jj`` for fits at alpha_max, whose iterate is
#: rounding noise around w = 0.
STEP_ROUNDOFF_ULPS = 64
STEP_FLOOR = 1e-12
#: Rows × features of each float64 temporary of the end-of-fit tests: the
#: checks work one slab of at most this many elements at a time.
CHECK_SLAB = 1 << 20
#: float64 slabs alive at once in the end-of-fit checks (the iterate and
#: ``G w`` in float64, and the coordinate-step temporaries): an upper bound,
#: measured by the counting-allocator test.
CHECK_TEMPS = 8


class GramOperator:
    """``Y ↦ Y G_s`` from the per-set Gram matrices of a :class:`GramBatch`."""

    def __init__(self, batch: GramBatch, xp):
        self.batch = batch
        self.xp = xp
        self.dtype = batch.G.dtype
        self._G = {}
        self._G64 = {}

    def set_bytes(self) -> int:
        """Device bytes one resident training set needs beyond what exists.

        A Gram already built on the device (``batch.xp is xp``) costs nothing
        more; float32 runs add a transient float64 copy for certification.
        """
        p = self.batch.n_features
        extra = 8 if self.dtype != np.float64 else 0  # float64 copy for checks
        own = 0 if self.batch.xp is self.xp else self.dtype.itemsize
        return p * p * (own + extra)

    def problem_bytes(self) -> int:
        """Device bytes per problem beyond the row buffers (none)."""
        return 0

    def check_bytes(self, rows) -> int:
        """Device bytes of :meth:`apply64` on ``rows`` rows (its output)."""
        return 0  # counted among the check slabs

    def fixed_bytes(self) -> int:
        """Device bytes shared by every chunk (none: Grams are per set)."""
        return 0

    def load(self, sets):
        """Move the Gram matrices of ``sets`` to the device."""
        self._G = {int(t): self.xp.asarray(self.batch.G[t]) for t in sets}
        self._G64 = {}

    def release(self):
        """Drop the device copies."""
        self._G = {}
        self._G64 = {}

    def apply(self, t, Y, out):
        """``out = Y @ G_t`` (G is symmetric)."""
        self.xp.matmul(Y, self._G[t], out=out)

    def apply64(self, t, W64):
        """``W64 @ G_t`` in float64 (the float64 copy of G_t is made once)."""
        G64 = self._G64.get(t)
        if G64 is None:
            G64 = self._G[t].astype(np.float64, copy=False)
            self._G64[t] = G64
        return W64 @ G64

    def diagonals(self):
        """``diag(G_t)`` of every training set, float64 on the host."""
        xb = self.batch.xp
        d = xb.diagonal(self.batch.G, axis1=1, axis2=2)
        return np.asarray(_to_host(xb, d), dtype=np.float64)

    def gershgorin(self, t) -> float:
        """An upper bound on ``λ_max(G_t)`` (largest absolute row sum)."""
        return float(self.xp.abs(self._G[t]).sum(axis=1).max())


class DesignOperator:
    """``Y ↦ Y X̃ᵀ S X̃`` over one shared X (residual form, n_features > n_samples).

    ``X̃_s = (X - x_mean_s) / x_scale_s`` with constant columns zeroed is
    never formed: the centering is a rank-one correction of two GEMMs.
    """

    def __init__(self, batch, xp):
        self.batch = batch
        self.xp = xp
        self.dtype = batch.X.dtype
        self.sparse = issparse(batch.X)
        self._X = None
        self._X64 = None
        self._sets = {}

    def set_bytes(self) -> int:
        """Device bytes per resident training set (weights, means, scales)."""
        n, p = self.batch.X.shape
        return 8 * (n + 2 * p)

    def problem_bytes(self) -> int:
        """Device bytes per problem of :meth:`apply`'s temporaries.

        ``Y X̃ᵀ`` (n_samples entries) and the scaled rows of ``Y`` (n_features)
        are alive together; the rank-one centering afterwards needs one row.
        A sparse X's second product also holds its result before the copy
        into ``out`` (n_features more).
        """
        n, p = self.batch.X.shape
        return (n + (2 if self.sparse else 1) * p) * self.dtype.itemsize

    def check_bytes(self, rows) -> int:
        """Device bytes of :meth:`apply64` on ``rows`` rows (temporaries)."""
        n, p = self.batch.X.shape
        return 8 * rows * (n + p)

    def fixed_bytes(self) -> int:
        """The shared X on the device (and its float64 copy for float32 runs).

        A sparse X is held as two CSR matrices (X and Xᵀ), never densified.
        """
        X = self.batch.X
        extra = 8 if self.dtype != np.float64 else 0
        if self.sparse:
            n, p = X.shape
            size = DeviceSparse.nbytes(X.nnz, n, p, self.dtype.itemsize)
            return size + (DeviceSparse.nbytes(X.nnz, n, p, 8) if extra else 0)
        return X.size * (self.dtype.itemsize + extra)

    def load(self, sets):
        """Move X (once) and the statistics of ``sets`` to the device."""
        xp = self.xp
        if self._X is None:
            self._X = (
                DeviceSparse(xp, self.batch.X, self.dtype)
                if self.sparse
                else xp.asarray(np.ascontiguousarray(self.batch.X))
            )
        st = self.batch.stats
        self._sets = {}
        for t in sets:
            t = int(t)
            live = self.batch.hdiag[t] > 0
            inv = np.where(live, 1.0 / st.x_scale[t], 0.0)
            self._sets[t] = (
                xp.asarray(inv.astype(self.dtype)),
                xp.asarray(st.x_mean[t].astype(self.dtype)),
                xp.asarray(self.batch.sw[t].astype(self.dtype)),
            )

    def release(self):
        """Drop the per-set device arrays (X stays for the next chunk)."""
        self._sets = {}

    def _product(self, t, Y, X, out):
        """``out = Y X̃ᵀ S X̃`` (about ``m (n + n_features)`` temporary entries)."""
        inv, mean, sw = (
            self._sets[t]
            if X is self._X
            else (a.astype(np.float64) for a in self._sets[t])
        )
        Ys = Y * inv
        U = X.times_t(Ys) if self.sparse else Ys @ X.T  # (m, n) = Y X̃ᵀ ...
        U -= (Ys @ mean)[:, None]  # ... centered
        del Ys
        U *= sw
        if self.sparse:
            X.times(U, out=out)
        else:
            self.xp.matmul(U, X, out=out)
        s = U.sum(axis=1)
        del U
        out -= s[:, None] * mean  # U X̃ = U X - (U 1) meanᵀ
        out *= inv
        return out

    def apply(self, t, Y, out):
        """``out = Y G_t`` with ``G_t = X̃_tᵀ S_t X̃_t``."""
        self._product(t, Y, self._X, out)

    def apply64(self, t, W64):
        """``W64 G_t`` in float64 (the float64 copy of X is made once)."""
        if self._X64 is None:
            self._X64 = (
                self._X.astype(np.float64, copy=False)
                if not self.sparse
                else self._X
                if self.dtype == np.float64
                else self._X.astype(np.float64)
            )
        return self._product(t, W64, self._X64, self.xp.empty_like(W64))

    def diagonals(self):
        """``diag(G_t)`` of every training set (``hdiag``), float64 on the host."""
        return np.asarray(self.batch.hdiag, dtype=np.float64)

    def gershgorin(self, t) -> float:
        """No cheap bound in residual form: +inf (the power iteration decides)."""
        return np.inf


@dataclass
class Problems:
    """The flat problem axis: one row per fit.

    Attributes
    ----------
    set_of : ndarray of shape (n_problems,) of int32
        Training set of each fit (non-decreasing).
    l1, l2 : ndarray of shape (n_problems,)
        ``alpha · l1_ratio`` and ``alpha · (1 - l1_ratio)``.
    """

    set_of: np.ndarray
    l1: np.ndarray
    l2: np.ndarray


def chunk_bytes(op, n_problems, n_sets, n_sets_total, n_features, itemsize) -> int:
    """Device bytes :func:`solve` allocates for one chunk, at most.

    Parameters
    ----------
    op : GramOperator or DesignOperator
    n_problems : int
        Problems (rows) in the chunk.
    n_sets : int
        Training sets they belong to (resident while the chunk runs).
    n_sets_total : int
        Training sets of the whole solve (``c`` and ``diag(G)`` of each stay
        on the device throughout).
    n_features, itemsize : int

    Returns
    -------
    int
        The sum of: the row buffers and per-problem vectors, the operator's
        per-problem temporaries, the end-of-fit checks' float64 slabs, the
        resident sets, and what every chunk shares (X in residual form, ``c``,
        ``diag(G)``, ``f``, the power iteration's vectors).
    """
    p = n_features
    rows = n_problems * (
        ROWS_PER_PROBLEM * p * itemsize + PROBLEM_BYTES + op.problem_bytes()
    )
    slab = min(n_problems, max(1, CHECK_SLAB // max(p, 1)))
    checks = CHECK_TEMPS * 8 * slab * p + op.check_bytes(slab)
    shared = (
        op.fixed_bytes()
        + 8 * p * (2 * n_sets_total + 1)
        + 16 * n_sets_total
        + 4 * p * itemsize
        + op.problem_bytes()
    )
    return rows + checks + n_sets * op.set_bytes() + shared


def plan_chunks(set_of, n_features, op, itemsize, budget):
    """Cut the problem axis into chunks that fit ``budget`` device bytes.

    Parameters
    ----------
    set_of : ndarray of shape (n_problems,)
        Non-decreasing training-set index of each problem.
    n_features : int
    op : GramOperator or DesignOperator
    itemsize : int
    budget : int or None
        Bytes available; None means no limit (one chunk).

    Returns
    -------
    list of (int, int)
        Half-open ``[start, stop)`` problem ranges, in order; each one's
        :func:`chunk_bytes` is at most ``budget``.

    Raises
    ------
    MemoryError
        When one problem with its training set does not fit.
    """
    n = set_of.shape[0]
    if budget is None or n == 0:
        return [(0, n)]
    n_sets_total = int(set_of.max()) + 1

    def fits(m, sets):
        return chunk_bytes(op, m, sets, n_sets_total, n_features, itemsize) <= budget

    chunks, start, m, sets = [], 0, 0, 0
    for k in range(n):
        new_set = k == start or set_of[k] != set_of[k - 1]
        if not fits(m + 1, sets + new_set):
            if m == 0:
                need = chunk_bytes(op, 1, 1, n_sets_total, n_features, itemsize)
                raise MemoryError(
                    f"one fit needs {need:,} bytes of device memory with its "
                    f"training set, more than the budget of {budget:,} bytes."
                )
            chunks.append((start, k))
            start, m, sets, new_set = k, 0, 0, True
        m += 1
        sets += new_set
    chunks.append((start, n))
    return chunks


def _segments(set_h):
    """``(set, lo, hi)`` runs of equal set index in a non-decreasing array."""
    if set_h.size == 0:
        return []
    cut = np.flatnonzero(np.diff(set_h)) + 1
    lo = np.concatenate(([0], cut))
    hi = np.concatenate((cut, [set_h.size]))
    return [(int(set_h[a]), int(a), int(b)) for a, b in zip(lo, hi, strict=True)]


def lipschitz(op, t, n_features, xp, dtype) -> float:
    """``LIPSCHITZ_MARGIN ×`` a power-iteration estimate of ``λ_max(G_t)``.

    Capped by the Gershgorin bound where one is known; at least 1e-300.
    """
    rng = np.random.default_rng(12345)
    v = xp.asarray(rng.standard_normal((1, n_features)).astype(dtype))
    out = xp.empty_like(v)
    lam = 0.0
    for _ in range(POWER_ITERATIONS):
        norm = float(xp.linalg.norm(v))
        if norm == 0.0:
            return 1e-300
        v = v / norm
        op.apply(t, v, out)
        lam = float((v * out).sum())
        v, out = out, v
    est = LIPSCHITZ_MARGIN * max(lam, 0.0)
    return max(min(est, op.gershgorin(t)), 1e-300)


@dataclass(frozen=True)
class _Shared:
    """What every chunk of one :func:`solve` shares: built once, read only.

    Attributes
    ----------
    op : GramOperator or DesignOperator
    ops : object
        The kernel interface (``ops.xp`` is the array module).
    C_d, yy_d, f_d, D_d : device arrays (float64)
        ``c``, ``yy`` and ``diag(G)`` of every training set, and the penalty
        factors.
    positive : bool
    max_iter, check_every : int
    thr : ndarray of shape (n_sets,)
        The gap threshold ``tol · yy`` of each training set.
    step_rel : float
    step_abs : ndarray of shape (n_sets,)
        A certified fit of training set s stops once no coordinate step from
        it exceeds ``step_rel · max|w| + step_abs[s]``.
    """

    op: object
    ops: object
    C_d: object
    yy_d: object
    f_d: object
    D_d: object
    positive: bool
    max_iter: int
    check_every: int
    thr: np.ndarray
    step_rel: float
    step_abs: np.ndarray

    @property
    def xp(self):
        """The array module."""
        return self.ops.xp

    @property
    def dtype(self) -> np.dtype:
        """The storage dtype of the iterates."""
        return np.dtype(self.op.dtype)

    def fista_step(self, rows, step_d, GY, Y, W, W_next, Y_next):
        """One FISTA step of ``rows`` (``ops.fista_step`` with the shared arrays)."""
        self.ops.fista_step(
            GY,
            Y,
            W,
            W_next,
            Y_next,
            self.C_d,
            rows.set_d,
            step_d,
            rows.l1_d,
            rows.l2_d,
            self.f_d,
            rows.t_mom,
            self.positive,
        )

    def gap(self, GW, W, set_d, l1_d, l2_d):
        """The duality gap of rows ``W`` (``ops.gap`` with the shared arrays)."""
        return self.ops.gap(
            GW, W, self.C_d, self.yy_d, set_d, l1_d, l2_d, self.f_d, self.positive
        )

    def coordinate_steps(self, t, w, gw, l1_d, l2_d):
        """:func:`_jacobi_steps` of float64 rows ``w`` of training set ``t``."""
        c, d = self.C_d[t], self.D_d[t]
        return _jacobi_steps(w, gw, c, d, l1_d, l2_d, self.f_d, self.positive, self.xp)


@dataclass
class _Rows:
    """The rows of a chunk still iterating, in problem order.

    Attributes
    ----------
    idx : ndarray of shape (m,)
        Problem index of each row.
    set_h : ndarray of shape (m,) of int32
        Training set of each row (``set_d`` on the device).
    set_d, l1_d, l2_d, t_mom : device arrays of shape (m,)
        Training set, penalties and Nesterov momentum of each row.
    """

    idx: np.ndarray
    set_h: np.ndarray
    set_d: object
    l1_d: object
    l2_d: object
    t_mom: object

    @classmethod
    def of(cls, problems, start, stop, xp) -> _Rows:
        """The problems ``[start, stop)``, their momentum reset."""
        set_h = problems.set_of[start:stop].astype(np.int32)
        return cls(
            idx=np.arange(start, stop),
            set_h=set_h,
            set_d=xp.asarray(set_h),
            l1_d=xp.asarray(problems.l1[start:stop].astype(np.float64)),
            l2_d=xp.asarray(problems.l2[start:stop].astype(np.float64)),
            t_mom=xp.ones(stop - start, dtype=np.float64),
        )

    def keep(self, keep, keep_d) -> _Rows:
        """The rows where the host mask ``keep`` holds (``keep_d``: their indices)."""
        return _Rows(
            self.idx[keep],
            self.set_h[keep],
            self.set_d[keep_d],
            self.l1_d[keep_d],
            self.l2_d[keep_d],
            self.t_mom[keep_d],
        )


@dataclass
class _Results:
    """Where finished rows go (host arrays over the whole problem axis)."""

    coef: np.ndarray
    gaps: np.ndarray
    iters: np.ndarray
    progress: object = None

    def record(self, idx, coef, gap, it):
        """Store the finished problems ``idx`` and report them to ``progress``."""
        self.coef[idx] = coef
        self.gaps[idx] = gap
        self.iters[idx] = it
        if self.progress is not None:
            self.progress(idx.size)


def solve(
    op,
    C,
    yy,
    problems: Problems,
    f,
    *,
    positive,
    tol,
    max_iter,
    ops,
    budget=None,
    check_every=CHECK_EVERY,
    progress=None,
):
    """Solve every problem to scikit-learn's accuracy, certified (or ``max_iter``).

    A fit stops at the first check where its duality gap is at most
    ``tol · yy`` of its training set and no coordinate-descent step from it
    exceeds ``STEP_SAFETY · tol · max|w|`` (see the module docstring).

    Parameters
    ----------
    op : GramOperator or DesignOperator
    C : ndarray of shape (n_sets, n_features)
        ``c`` of every training set (float64).
    yy : ndarray of shape (n_sets,)
    problems : Problems
    f : ndarray of shape (n_features,)
    positive : bool
    tol : float
    max_iter : int
        FISTA iterations per fit.
    ops : object
        ``xp`` (array module), ``fista_step`` and ``gap`` (kernel interface).
    budget : int or None
        Device bytes for the memory planner.
    check_every : int
    progress : callable, optional
        Called with the number of fits finished since the last call.

    Returns
    -------
    coef : ndarray of shape (n_problems, n_features)
    gap : ndarray of shape (n_problems,)
    n_iter : ndarray of shape (n_problems,)
    """
    xp = ops.xp
    dtype = np.dtype(op.dtype)
    set_all = problems.set_of.astype(np.int32)
    n_prob, p = set_all.shape[0], C.shape[1]
    out = _Results(
        coef=np.zeros((n_prob, p)),
        gaps=np.full(n_prob, np.inf),
        iters=np.zeros(n_prob, dtype=np.int64),
        progress=progress,
    )
    chunks = plan_chunks(set_all, p, op, dtype.itemsize, budget)
    steps = np.zeros(C.shape[0])
    diag = op.diagonals()
    step_rel = max(STEP_SAFETY * tol, STEP_ROUNDOFF_ULPS * float(np.finfo(dtype).eps))
    # |c_j| / G_jj: the size of a coefficient; floors the steps of fits at w ≈ 0
    step_abs = STEP_FLOOR * np.max(
        np.abs(C) / np.where(diag > 0, diag, np.inf), axis=1, initial=0.0
    )
    shared = _Shared(
        op=op,
        ops=ops,
        C_d=xp.asarray(np.ascontiguousarray(C, dtype=np.float64)),
        yy_d=xp.asarray(np.asarray(yy, dtype=np.float64)),
        f_d=xp.asarray(np.asarray(f, dtype=np.float64)),
        D_d=xp.asarray(diag),
        positive=positive,
        max_iter=max_iter,
        check_every=check_every,
        thr=tol * np.asarray(yy, dtype=np.float64),
        step_rel=step_rel,
        step_abs=step_abs,
    )
    for start, stop in chunks:
        sets = np.unique(set_all[start:stop])
        op.load(sets)
        for t in sets:
            if steps[t] == 0.0:
                steps[t] = 1.0 / lipschitz(op, int(t), p, xp, dtype)
        rows = _Rows.of(problems, start, stop, xp)
        _solve_chunk(shared, rows, xp.asarray(steps), out)
        op.release()
    return out.coef, out.gaps, out.iters


def _solve_chunk(shared, rows, step_d, out):
    """Iterate ``rows`` (one chunk) until each stops (see :func:`solve`).

    ``step_d`` holds the step size ``1 / L`` of every training set (device).
    Finished rows are recorded in ``out`` and leave the batch.  The five row
    buffers are allocated once: compaction gathers the surviving rows into
    the spare buffers (``take`` into ``W_next`` and ``Y_next``, which then
    swap roles) and every buffer is cut to the survivors, so the chunk never
    holds more than the planned rows.
    """
    xp, op = shared.xp, shared.op
    shape = (rows.idx.size, shared.C_d.shape[1])
    W = xp.zeros(shape, dtype=shared.dtype)
    Y = xp.zeros(shape, dtype=shared.dtype)
    W_next = xp.empty_like(W)
    Y_next = xp.empty_like(W)
    GY = xp.empty_like(W)
    for it in range(1, shared.max_iter + 1):
        segs = _segments(rows.set_h)
        for t, lo, hi in segs:
            op.apply(t, Y[lo:hi], GY[lo:hi])
        shared.fista_step(rows, step_d, GY, Y, W, W_next, Y_next)
        W, W_next = W_next, W
        Y, Y_next = Y_next, Y
        if it % shared.check_every and it != shared.max_iter:
            continue
        check_stop()
        g, done = _finished_rows(shared, rows, segs, W, GY, last=it == shared.max_iter)
        if not done.any():
            continue
        out.record(rows.idx[done], _gather_host(xp, W, done, GY), g[done], it)
        keep = ~done
        if not keep.any():
            break
        keep_d = xp.asarray(np.flatnonzero(keep))
        k = int(keep.sum())
        xp.take(W, keep_d, axis=0, out=W_next[:k])
        xp.take(Y, keep_d, axis=0, out=Y_next[:k])
        W, W_next = W_next[:k], W[:k]
        Y, Y_next = Y_next[:k], Y[:k]
        GY = GY[:k]
        rows = rows.keep(keep, keep_d)


def _gather_host(xp, W, mask, spare):
    """The rows ``mask`` of ``W`` on the host, in float64.

    They are gathered on the device into the first rows of ``spare`` (a
    buffer whose contents are spent), so nothing is allocated there.
    """
    n = int(mask.sum())
    xp.take(W, xp.asarray(np.flatnonzero(mask)), axis=0, out=spare[:n])
    return _to_host(xp, spare[:n]).astype(np.float64)


def _finished_rows(shared, rows, segs, W, GY, *, last):
    """The gap of every row and which rows stop now (see :func:`solve`).

    A row stops when its gap is certified and its coordinate steps are small
    (the accuracy contract's two stages); at the last iteration every row
    stops, with its float64 gap.  ``GY`` is overwritten with ``G_s W``.

    Returns
    -------
    g : ndarray of shape (m,)
        Each row's duality gap (host).
    done : ndarray of shape (m,) of bool
    """
    for t, lo, hi in segs:
        shared.op.apply(t, W[lo:hi], GY[lo:hi])
    g = _to_host(shared.xp, shared.gap(GY, W, rows.set_d, rows.l1_d, rows.l2_d))
    thr = shared.thr[rows.set_h]
    cand = np.ones(g.shape, dtype=bool) if last else g <= thr
    exact = shared.dtype == np.float64
    done = cand.copy()
    if cand.any() and not (last and exact):
        g_c, dmax, wmax = _end_checks(
            shared, rows, W, GY, cand, recompute=not exact, steps=not last
        )
        if g_c is not None:
            g[cand] = g_c
        if not last:
            floor = shared.step_abs[rows.set_h[cand]]
            small = dmax <= shared.step_rel * wmax + floor
            done[cand] = (g[cand] <= thr[cand]) & small
    return g, done


def _end_checks(shared, rows, W, GW, cand, *, recompute, steps):
    """Gaps and coordinate steps of the rows ``cand`` (certified by their gap).

    Parameters
    ----------
    shared : _Shared
    rows : _Rows
    W, GW : device arrays of shape (m, n_features)
        The iterates and ``G_s W`` (in the storage dtype).
    cand : ndarray of shape (m,) of bool
    recompute : bool
        float32 runs: recompute ``G_s W`` and the gap in float64.
    steps : bool
        Also measure the coordinate steps (not needed at ``max_iter``).

    Returns
    -------
    gap : ndarray of shape (k,)
        The gap of each candidate (the float64 recomputation, or the gap
        already computed when ``recompute`` is False).
    dmax, wmax : ndarray of shape (k,)
        ``max_j |Δ_j|`` of a Jacobi coordinate-descent sweep and ``max_j |w_j|``
        (zeros when ``steps`` is False).

    Work is done one training set and at most :data:`CHECK_SLAB` elements at
    a time, so the float64 temporaries stay small whatever the batch.
    """
    xp = shared.xp
    picked = np.flatnonzero(cand)
    k, p = picked.size, W.shape[1]
    picked_d = xp.asarray(picked)
    out = xp.zeros((3, k), dtype=np.float64)  # gap, dmax, wmax: one transfer
    slab = max(1, CHECK_SLAB // max(p, 1))
    for t, lo, hi in _segments(rows.set_h[picked]):
        for a in range(lo, hi, slab):
            b = min(a + slab, hi)
            r_d = picked_d[a:b]
            w = W[r_d]
            l1, l2 = rows.l1_d[r_d], rows.l2_d[r_d]
            if recompute:
                w = w.astype(np.float64)
                gw = shared.op.apply64(t, w)
                out[0, a:b] = shared.gap(gw, w, rows.set_d[r_d], l1, l2)
            elif steps:
                gw = GW[r_d]
            if steps:
                out[1:, a:b] = shared.coordinate_steps(t, w, gw, l1, l2)
    gap, dmax, wmax = _to_host(xp, out)
    return (gap if recompute else None), dmax, wmax


def _jacobi_steps(w, gw, c, d, l1, l2, f, positive, xp):
    """Largest coordinate-descent step from each row, and its ``max|w|``.

    ``Δ_j = S(c_j - (G w)_j + d_j w_j, l1 f_j) / (d_j + l2 f_j) - w_j`` with
    ``d = diag(G)``: the change a coordinate update of ``w_j`` alone would
    make (scikit-learn's ``d_w_max`` over one sweep, all from the same ``w``);
    ``|Δ_j| (d_j + l2 f_j)`` is ``dist(grad_j, ∂g_j(w_j))`` where the sign of
    ``w_j`` is kept.  Features with ``d_j = 0`` (constant columns) take no step.

    Parameters
    ----------
    w, gw : float64 arrays of shape (k, n_features)
    c, d : float64 arrays of shape (n_features,)
    l1, l2 : float64 arrays of shape (k,)
    f : float64 array of shape (n_features,)
    positive : bool
    xp : module

    Returns
    -------
    ndarray of shape (2, k)
        ``max_j |Δ_j|`` and ``max_j |w_j|`` of each row (on the device).
    """
    z = c - gw
    z += d * w
    # the coordinate minimizer, written once (numpy ufuncs dispatch to CuPy)
    step = prox_update(z, d, l1[:, None], l2[:, None], f, positive)
    step -= w
    step = xp.abs(step, out=step)
    step *= d > 0
    return xp.stack((step.max(axis=1), xp.abs(w).max(axis=1)))


def solve_paths_with(ops, batch, alphas, l1_ratios, penalty_factor, **options):
    """The backend contract of ``solve_paths`` on top of :func:`solve`.

    Parameters
    ----------
    ops : object
        Kernel interface (``_twins.TwinOps`` on the CPU, CUDA kernels on GPU).
    batch, alphas, l1_ratios, penalty_factor
        As in ``Backend.solve_paths`` (:mod:`gpureg.backends._contract`).
    **options
        Its keywords ``positive``, ``tol``, ``max_iter`` and ``progress``
        (called with a number of finished (training set, l1_ratio) paths),
        and those of :func:`solve`: ``budget``, the device bytes for the
        planner, and ``check_every``.

    Returns
    -------
    PathSolution
    """
    n_sets = batch.stats.n_sets
    n_l1, n_alphas = alphas.shape
    p = batch.n_features
    set_of = np.repeat(np.arange(n_sets, dtype=np.int32), n_l1 * n_alphas)
    a = np.tile(alphas.ravel(), n_sets)
    rho = np.tile(np.repeat(l1_ratios, n_alphas), n_sets)
    problems = Problems(set_of=set_of, l1=a * rho, l2=a * (1.0 - rho))
    xp = ops.xp
    op = (
        GramOperator(batch, xp)
        if isinstance(batch, GramBatch)
        else DesignOperator(batch, xp)
    )
    progress = options.pop("progress", None)
    report = None
    if progress is not None:
        state = {"fits": 0, "paths": 0}

        def report(n_done):
            state["fits"] += n_done
            paths = state["fits"] // n_alphas
            if paths > state["paths"]:
                progress(paths - state["paths"])
                state["paths"] = paths

    coef, gap, iters = solve(
        op,
        batch.stats.c,
        batch.stats.yy,
        problems,
        penalty_factor,
        ops=ops,
        progress=report,
        **options,
    )
    return PathSolution(
        coef=coef.reshape(n_sets, n_l1, n_alphas, p),
        dual_gap=gap.reshape(n_sets, n_l1, n_alphas),
        n_iter=iters.reshape(n_sets, n_l1, n_alphas),
    )
