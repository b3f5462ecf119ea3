"""Batched accelerated proximal gradient (FISTA) over a whole grid: the GPU engine.

Every fit of the grid is one row of an ``(n_problems, n_features)`` batch;
problems are ordered as DESIGN.md §3 (``((set · n_l1) + l1) · n_alphas + a``),
so the rows of one training set are contiguous.  One iteration is

1. ``GY = Y G_s`` for each training set s: one GEMM per set over all of its
   unfinished rows (cuBLAS on the GPU; the Gram of every set is shared by all
   of its alphas and l1_ratios);
2. one fused kernel: gradient step, batched soft-thresholding with the
   elastic-net prox, and Nesterov momentum with gradient-based restart
   (``enet_fista_step``);

and every ``check_every`` iterations the duality gap of every row is computed
on the device (``enet_gap``, float64 accumulation).  Rows whose gap reaches
``tol · Σ s ỹ² / n_w`` are copied out and *compacted away*, so finished fits
stop costing.  In float32 a row is only declared certified once its gap,
recomputed with a float64 Gram product, passes.

The engine is written against an array module ``xp`` and a small kernel
interface (``ops.fista_step``, ``ops.gap``): with CuPy and the CUDA kernels it
is the GPU backend; with numpy and the numba twins (``_twins.TwinOps``) the
same code runs, and is tested, on the CPU.

A *memory planner* cuts the problems into chunks whose device footprint
(the chunk's Gram matrices or design, plus ~5 rows of ``n_features`` per
problem) fits a byte budget; chunks run one after another and give exactly
the rows an unchunked run gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._gram import GramBatch, _to_host
from ._common import PathSolution

#: The gap is evaluated every this many iterations (one extra GEMM).
CHECK_EVERY = 10
#: Power-iteration steps for the Lipschitz constant of each training set.
POWER_ITERATIONS = 50
#: Safety factor on the power-iteration estimate of ``λ_max(G)``.
LIPSCHITZ_MARGIN = 1.1
#: Device arrays of n_features entries held per problem: W, Y, their next
#: values, and the GEMM output (GY, reused for GW).
ROWS_PER_PROBLEM = 5


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
        self._X = None
        self._X64 = None
        self._sets = {}

    def set_bytes(self) -> int:
        """Device bytes per resident training set (weights, means, scales)."""
        n, p = self.batch.X.shape
        return 8 * (n + 2 * p)

    def problem_bytes(self) -> int:
        """Device bytes per problem for the ``(m, n_samples)`` intermediate."""
        return self.batch.X.shape[0] * (self.dtype.itemsize + 8)

    def fixed_bytes(self) -> int:
        """The shared X on the device."""
        return self.batch.X.size * self.dtype.itemsize

    def load(self, sets):
        """Move X (once) and the statistics of ``sets`` to the device."""
        xp = self.xp
        if self._X is None:
            self._X = xp.asarray(np.ascontiguousarray(self.batch.X))
        st = self.batch.stats
        self._sets = {}
        for t in sets:
            t = int(t)
            live = self.batch.hdiag[t] > 0
            inv = np.where(live, 1.0 / st.x_scale[t], 0.0)
            self._sets[t] = (xp.asarray(inv.astype(self.dtype)),
                             xp.asarray(st.x_mean[t].astype(self.dtype)),
                             xp.asarray(self.batch.sw[t].astype(self.dtype)))

    def release(self):
        """Drop the per-set device arrays (X stays for the next chunk)."""
        self._sets = {}

    def _product(self, t, Y, X):
        inv, mean, sw = self._sets[t] if X is self._X else (
            a.astype(np.float64) for a in self._sets[t])
        Ys = Y * inv
        U = Ys @ X.T - (Ys @ mean)[:, None]  # (m, n) = Y X̃ᵀ
        U *= sw
        return (U @ X - U.sum(axis=1)[:, None] * mean) * inv  # U X̃

    def apply(self, t, Y, out):
        """``out = Y G_t`` with ``G_t = X̃_tᵀ S_t X̃_t``."""
        out[...] = self._product(t, Y, self._X)

    def apply64(self, t, W64):
        """``W64 G_t`` in float64 (the float64 copy of X is made once)."""
        if self._X64 is None:
            self._X64 = self._X.astype(np.float64, copy=False)
        return self._product(t, W64, self._X64)

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
        Half-open ``[start, stop)`` problem ranges, in order.

    Raises
    ------
    MemoryError
        When one problem with its training set does not fit.
    """
    n = set_of.shape[0]
    if budget is None or n == 0:
        return [(0, n)]
    per_problem = ROWS_PER_PROBLEM * n_features * itemsize + 8 * n_features \
        + op.problem_bytes() + 64
    fixed = getattr(op, "fixed_bytes", lambda: 0)() + 8 * n_features * (
        int(set_of.max()) + 2)
    chunks, start = [], 0
    used = fixed
    last_set = None
    for k in range(n):
        add = per_problem + (op.set_bytes() if set_of[k] != last_set else 0)
        if used + add > budget:
            if k == start:
                raise MemoryError(
                    f"one fit needs {fixed + add:,} bytes of device memory with its "
                    f"training set, more than the budget of {budget:,} bytes."
                )
            chunks.append((start, k))
            start, used = k, fixed
            add = per_problem + op.set_bytes()
        used += add
        last_set = set_of[k]
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


def solve(op, C, yy, problems: Problems, f, *, positive, tol, max_iter, ops,
          budget=None, check_every=CHECK_EVERY, progress=None):
    """Solve every problem to a certified duality gap (or ``max_iter``).

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
    n_chunks : int
    """
    xp = ops.xp
    dtype = np.dtype(op.dtype)
    set_all = problems.set_of.astype(np.int32)
    n_prob, p = set_all.shape[0], C.shape[1]
    coef = np.zeros((n_prob, p))
    gaps = np.full(n_prob, np.inf)
    iters = np.zeros(n_prob, dtype=np.int64)
    chunks = plan_chunks(set_all, p, op, dtype.itemsize, budget)
    C_d = xp.asarray(np.ascontiguousarray(C, dtype=np.float64))
    yy_d = xp.asarray(np.asarray(yy, dtype=np.float64))
    f_d = xp.asarray(np.asarray(f, dtype=np.float64))
    steps = np.zeros(C.shape[0])
    thr_all = tol * np.asarray(yy, dtype=np.float64)
    for start, stop in chunks:
        sets = np.unique(set_all[start:stop])
        op.load(sets)
        for t in sets:
            if steps[t] == 0.0:
                steps[t] = 1.0 / lipschitz(op, int(t), p, xp, dtype)
        step_d = xp.asarray(steps)
        idx = np.arange(start, stop)
        set_h = set_all[start:stop].copy()
        set_d = xp.asarray(set_h)
        l1_d = xp.asarray(problems.l1[start:stop].astype(np.float64))
        l2_d = xp.asarray(problems.l2[start:stop].astype(np.float64))
        m = stop - start
        W = xp.zeros((m, p), dtype=dtype)
        Y = xp.zeros((m, p), dtype=dtype)
        W_next = xp.empty_like(W)
        Y_next = xp.empty_like(W)
        GY = xp.empty_like(W)
        t_mom = xp.ones(m, dtype=np.float64)
        for it in range(1, max_iter + 1):
            segs = _segments(set_h)
            for t, lo, hi in segs:
                op.apply(t, Y[lo:hi], GY[lo:hi])
            ops.fista_step(GY, Y, W, W_next, Y_next, C_d, set_d, step_d, l1_d, l2_d,
                           f_d, t_mom, positive)
            W, W_next = W_next, W
            Y, Y_next = Y_next, Y
            if it % check_every and it != max_iter:
                continue
            for t, lo, hi in segs:
                op.apply(t, W[lo:hi], GY[lo:hi])
            g = _to_host(xp, ops.gap(GY, W, C_d, yy_d, set_d, l1_d, l2_d, f_d,
                                     positive))
            thr = thr_all[set_h]
            done = g <= thr
            if it == max_iter:
                done[:] = True
            if dtype != np.float64 and done.any():
                g[done] = _gap64(op, W, done, set_h, C_d, yy_d, set_d, l1_d, l2_d,
                                 f_d, positive, ops)
                if it != max_iter:
                    done &= g <= thr
            if not done.any():
                continue
            rows = idx[done]
            done_d = xp.asarray(done)
            coef[rows] = _to_host(xp, W[done_d]).astype(np.float64)
            gaps[rows] = g[done]
            iters[rows] = it
            if progress is not None:
                progress(int(done.sum()))
            keep = ~done
            if not keep.any():
                break
            keep_d = xp.asarray(keep)
            idx, set_h = idx[keep], set_h[keep]
            W, Y = W[keep_d], Y[keep_d]
            set_d, l1_d, l2_d, t_mom = set_d[keep_d], l1_d[keep_d], l2_d[keep_d], \
                t_mom[keep_d]
            W_next, Y_next, GY = xp.empty_like(W), xp.empty_like(W), xp.empty_like(W)
        op.release()
    return coef, gaps, iters, len(chunks)


def _gap64(op, W, done, set_h, C_d, yy_d, set_d, l1_d, l2_d, f_d, positive, ops):
    """float64 gaps of the rows ``done`` (float32 runs certify in float64)."""
    xp = ops.xp
    done_d = xp.asarray(done)
    W64 = W[done_d].astype(np.float64)
    GW64 = xp.empty_like(W64)
    sub = set_h[done]
    for t, lo, hi in _segments(sub):
        GW64[lo:hi] = op.apply64(t, W64[lo:hi])
    return _to_host(xp, ops.gap(GW64, W64, C_d, yy_d, set_d[done_d], l1_d[done_d],
                                l2_d[done_d], f_d, positive))


def solve_paths_with(ops, batch, alphas, l1_ratios, penalty_factor, *, positive, tol,
                     max_iter, progress=None, budget=None):
    """The backend contract of ``solve_paths`` on top of :func:`solve`.

    Parameters
    ----------
    ops : object
        Kernel interface (``_twins.TwinOps`` on the CPU, CUDA kernels on GPU).
    batch : GramBatch or ResidualBatch
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    l1_ratios : ndarray of shape (n_l1_ratios,)
    penalty_factor : ndarray of shape (n_features,)
    positive : bool
    tol : float
    max_iter : int
    progress : callable, optional
        Called with a number of finished (training set, l1_ratio) paths.
    budget : int or None
        Device bytes for the planner.

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
    op = GramOperator(batch, xp) if isinstance(batch, GramBatch) else \
        DesignOperator(batch, xp)
    report = None
    if progress is not None:
        state = {"fits": 0, "paths": 0}

        def report(n_done):
            state["fits"] += n_done
            paths = state["fits"] // n_alphas
            if paths > state["paths"]:
                progress(paths - state["paths"])
                state["paths"] = paths

    coef, gap, iters, _ = solve(op, batch.stats.c, batch.stats.yy, problems,
                                penalty_factor, positive=positive, tol=tol,
                                max_iter=max_iter, ops=ops, budget=budget,
                                progress=report)
    return PathSolution(coef=coef.reshape(n_sets, n_l1, n_alphas, p),
                        dual_gap=gap.reshape(n_sets, n_l1, n_alphas),
                        n_iter=iters.reshape(n_sets, n_l1, n_alphas))
