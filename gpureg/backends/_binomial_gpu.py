"""Binomial (logistic) grids on the GPU: batched FISTA, no Gram shortcut.

One training set at a time, every (l1_ratio, alpha) fit of the set is one
row of an ``(n_problems, ·)`` batch over the set's ``m`` training rows
``X_s`` (gathered once, C-contiguous, on the device; a scipy.sparse X as
CSR, whose GEMMs below are then cuSPARSE products, see
:mod:`._sparse_device`).  One iteration is

1. ``Z = Y X_sᵀ`` (GEMM): the margins of every row's extrapolated point;
2. ``logistic_residual``: ``R = sw (y - sigmoid(Z + b))`` and its row sums;
3. ``G = R X_s`` (GEMM): the negative gradients;
4. ``logistic_step``: proximal gradient step with the elastic-net prox
   (penalty weights ``a1 = f σ``, ``b2 = f σ²`` as the CPU solver), the
   intercept as an unpenalized coordinate, Nesterov momentum with
   gradient-based restart;

and every :data:`CHECK_EVERY` iterations the iterate's margins and
gradients are recomputed, the intercept of a copy is polished by Newton
steps (so that ``Σ sw r = 0``, the dual constraint of an unpenalized
intercept) and ``logistic_gap`` gives every row's duality gap (the same
certificate as the CPU solver, :mod:`._numba_binomial`).  A row stops when
its gap is at most :data:`STOP_FRACTION` times the certification threshold
``tol`` × the null model's loss, or at ``max_iter`` (FISTA iterations), and
finished rows are compacted away.  The step is ``1 / L`` with ``L`` a
quarter of the largest eigenvalue of ``[X_s 1]ᵀ diag(sw) [X_s 1]`` (power
iteration, with a safety margin).

The path's early stop (deviance ratio above
``_numba_binomial.DEVIANCE_RATIO_STOP``) is applied afterwards: the first
alpha of a path past it is its last solved fit, the later alphas keep that
fit with their gaps re-scored, as on the CPU; rows beyond a certified
saturated fit are dropped as soon as it is found.

The engine is written against an array module ``xp`` and the kernel
interface of :class:`._twins.TwinLogisticOps`: with CuPy and the
CUDA kernels (:class:`CudaLogisticOps`) it is the GPU backend; with numpy and
the numba twins it runs, and is tested, on the CPU.  It always computes in
float64 (the binomial family's certificate needs it; ``dtype`` only sets the
result's dtype, as on the CPU).
"""

from __future__ import annotations

import numpy as np

from .._interrupt import check_stop
from .._memory import format_bytes
from .._progress import progress_bar
from .._validation import issparse
from ._numba_binomial import DEVIANCE_RATIO_STOP
from ._sparse_device import DeviceSparse

#: The gaps are evaluated every this many iterations (two extra GEMMs).
CHECK_EVERY = 10
#: A row stops at gap <= STOP_FRACTION · tol · null loss: FISTA's iterate at
#: the edge of the certified region is far less accurate than the CPU's
#: Newton steps; the extra margin costs a few checks (linear convergence).
STOP_FRACTION = 1e-2
#: Newton steps of the intercept polish at a check, at most.
POLISH = 8
#: Power-iteration steps and safety margin of the step size's ``L``.
POWER_ITERATIONS = 50
LIPSCHITZ_MARGIN = 1.1
#: float64 slabs of n_features per problem (W, Y, their next values, G) and
#: of n_rows (Z, R), allocated once per chunk: compaction moves the live rows
#: into the spare halves, and the finished rows are gathered into G; one more
#: row of n_features for the gathers' temporaries (numpy's ``take`` buffers
#: its ``out``; the counting-allocator test measures the engine on numpy).
ROWS_P = 6
ROWS_M = 2
#: bytes per problem besides the slabs: float64 vectors (intercepts, their
#: next values, momentum, penalties, gaps, losses, residual sums) and their
#: compacted copies, and row indices (an upper bound)
PROBLEM_BYTES = 256
#: the kernels' block size
BLOCK = 256


def chunk_bytes(n_problems: int, m: int, p: int, nnz: int | None = None) -> int:
    """Device bytes of one chunk: ``X_s``, the slabs and the per-problem vectors.

    Parameters
    ----------
    n_problems : int
        Fits of the chunk.
    m, p : int
        Training rows of the set and features.
    nnz : int, optional
        Non-zeros of a sparse ``X_s``: it is then held as two CSR matrices
        (:class:`._sparse_device.DeviceSparse`) instead of ``m p`` values, and
        each product's result is copied once (``m + p`` more per problem).

    Returns
    -------
    int
    """
    per_problem = 8 * (ROWS_P * p + ROWS_M * m) + PROBLEM_BYTES
    if nnz is None:
        x_bytes = 8 * m * p
    else:
        x_bytes = DeviceSparse.nbytes(nnz, m, p, 8)
        per_problem += 8 * (m + p)
    # X_s; y, sw and the power iteration's two temporaries of m; a1, b2
    return x_bytes + 8 * (4 * m + 2 * p) + n_problems * per_problem


def plan_chunk(
    m: int, p: int, n_problems: int, budget: int, nnz: int | None = None
) -> int:
    """Problems per chunk within ``budget`` bytes (all of them if they fit).

    ``nnz``: as in :func:`chunk_bytes`.

    Raises
    ------
    MemoryError
        When not even one problem fits, with the bytes needed.
    """
    fixed = chunk_bytes(0, m, p, nnz)
    one = chunk_bytes(1, m, p, nnz) - fixed
    size = (budget - fixed) // one if budget > fixed else 0
    if size < 1:
        raise MemoryError(
            f"one binomial fit on {m} training rows × {p} features needs "
            f"{format_bytes(fixed + one)} of device memory, more than the budget "
            f"of {format_bytes(budget)}."
        )
    return int(min(size, n_problems))


def lipschitz(xp, Xs, sw, intercept) -> float:
    """``L ≥ λ_max([X_s 1]ᵀ diag(sw) [X_s 1]) / 4`` by power iteration.

    ``Xs``: a dense array or a :class:`._sparse_device.DeviceSparse`.
    """
    p = Xs.shape[1]
    sparse = isinstance(Xs, DeviceSparse)
    v = xp.ones(p) / np.sqrt(p + 1.0)
    v0 = 1.0 / np.sqrt(p + 1.0) if intercept else 0.0
    lam = 0.0
    for _ in range(POWER_ITERATIONS):
        u = sw * ((Xs.matvec(v) if sparse else Xs @ v) + v0)
        v = Xs.rmatvec(u) if sparse else Xs.T @ u
        v0 = float(u.sum()) if intercept else 0.0
        lam = float(np.sqrt(float(v @ v) + v0 * v0))
        if lam == 0.0:
            break
        v = v / lam
        v0 = v0 / lam
    return LIPSCHITZ_MARGIN * max(lam, 1e-300) / 4.0


class _SetProblem:
    """The device data of one training set: rows, labels, weights, penalties.

    ``XF`` is dense, or a scipy.sparse CSR matrix whose training rows go to
    the device as a :class:`._sparse_device.DeviceSparse` (never densified).
    """

    def __init__(self, xp, XF, y01, sw, b0, a1, b2, intercept):
        rows = np.flatnonzero(sw > 0.0)
        self.xp = xp
        self.sparse = issparse(XF)
        self.Xs = (
            DeviceSparse(xp, XF[rows], np.float64)
            if self.sparse
            else xp.asarray(np.ascontiguousarray(XF[rows], dtype=np.float64))
        )
        self.y = xp.asarray(y01[rows])
        self.sw = xp.asarray(sw[rows])
        self.a1 = xp.asarray(np.ascontiguousarray(a1, dtype=np.float64))
        self.b2 = xp.asarray(np.ascontiguousarray(b2, dtype=np.float64))
        self.b0 = float(b0)
        self.intercept = bool(intercept)
        z, y, s = b0, y01[rows], sw[rows]
        # the null model's loss Σ sw ℓ(y, b0)
        self.null_loss = float(s @ (np.logaddexp(0.0, z) - y * z))
        self.step = 1.0 / lipschitz(xp, self.Xs, self.sw, intercept)

    @property
    def data(self):
        """``(y, sw)`` of the training rows, on the device."""
        return self.y, self.sw

    @property
    def pen(self):
        """``(a1, b2)``, the set's penalty weights, on the device."""
        return self.a1, self.b2

    @property
    def m(self) -> int:
        return self.Xs.shape[0]

    @property
    def nnz(self) -> int | None:
        """Non-zeros of a sparse ``X_s`` (None when dense), for the planner."""
        return self.Xs.nnz if self.sparse else None

    def margins(self, W, out):
        """``out = W X_sᵀ``, shape ``(k, m)``."""
        if self.sparse:
            out[...] = self.Xs.times_t(W)
        else:
            self.xp.matmul(W, self.Xs.T, out=out)

    def gradients(self, R, out):
        """``out = R X_s``, shape ``(k, p)``."""
        if self.sparse:
            self.Xs.times(R, out=out)
        else:
            self.xp.matmul(R, self.Xs, out=out)


def _margins_and_gradients(ops, prob, W, b, polish, Z, R, G):
    """``Z = W X_sᵀ``, residuals (``b`` polished in place) and ``G = R X_s``."""
    prob.margins(W, Z)
    rsum = ops.residual(Z, b, *prob.data, R, polish)
    prob.gradients(R, G)
    return rsum


def _solve_chunk(ops, prob, rows, positive, thr, max_iter, sat):
    """FISTA on some rows of one set; returns host arrays, one entry per row.

    ``rows = (l1, l2, path_of, alpha_of)`` (host arrays); ``sat[path]`` is
    the smallest alpha index of the path whose certified fit passed the
    deviance-ratio stop (updated here): the path's later rows are dropped
    (gap ``inf``, re-scored by the caller).

    Returns
    -------
    coef : ndarray of shape (n, p)
    icpt, gap, loss : ndarray of shape (n,)
    iters : ndarray of shape (n,) of int
    """
    xp = prob.xp
    l1, l2, path_of, alpha_of = rows
    n, p, m = l1.size, prob.Xs.shape[1], prob.m
    out = (
        np.zeros((n, p)),
        np.zeros(n),
        np.full(n, np.inf),
        np.zeros(n),
        np.zeros(n, np.int64),
    )
    idx = np.flatnonzero(alpha_of <= sat[path_of])
    # every slab once; the live rows are the leading k (compaction in place)
    W, Y, W_next, Y_next, G = (xp.zeros((idx.size, p)) for _ in range(5))
    Z, R = xp.empty((idx.size, m)), xp.empty((idx.size, m))
    wb, yb = xp.full(idx.size, prob.b0), xp.full(idx.size, prob.b0)
    t_mom = xp.ones(idx.size)
    l1_d, l2_d = xp.asarray(l1[idx]), xp.asarray(l2[idx])
    it = 0
    while k := idx.size:
        last = min(max_iter, (it // CHECK_EVERY + 1) * CHECK_EVERY)
        while it < last:
            it += 1
            gb = _margins_and_gradients(ops, prob, Y[:k], yb, 0, Z[:k], R[:k], G[:k])
            wb_next, yb_next = xp.empty(k), xp.empty(k)
            ops.step(
                G[:k],
                (Y[:k], W[:k], W_next[:k], Y_next[:k]),
                (yb, wb, wb_next, yb_next, gb),
                (*prob.pen, l1_d, l2_d),
                t_mom,
                prob.step,
                positive,
                prob.intercept,
            )
            W, W_next, Y, Y_next = W_next, W, Y_next, Y
            wb, yb = wb_next, yb_next
        check_stop()
        bt = wb.copy()
        polish = POLISH * prob.intercept
        _margins_and_gradients(ops, prob, W[:k], bt, polish, Z[:k], R[:k], G[:k])
        pen = (*prob.pen, l1_d, l2_d)
        gap, loss = ops.gap(Z[:k], bt, G[:k], W[:k], prob.data, pen, positive)
        gap, loss = _to_host(gap), _to_host(loss)
        # a NaN gap (a diverged row) stops too: it is reported, never certified
        done = ~(gap > STOP_FRACTION * thr) | (it >= max_iter)
        d = np.flatnonzero(done)
        xp.take(W[:k], xp.asarray(d), axis=0, out=G[: d.size])  # G is free
        out[0][idx[d]] = _to_host(G[: d.size])
        for dest, val in zip(out[1:4], (_to_host(bt), gap, loss), strict=True):
            dest[idx[d]] = val[d]
        out[4][idx[d]] = it
        saturated = done & (gap <= thr)
        saturated &= loss < (1 - DEVIANCE_RATIO_STOP) * prob.null_loss
        for r in idx[saturated]:
            sat[path_of[r]] = min(sat[path_of[r]], alpha_of[r])
        live = ~done & (alpha_of[idx] <= sat[path_of[idx]])
        keep = xp.asarray(np.flatnonzero(live))
        xp.take(W[:k], keep, axis=0, out=W_next[: keep.size])
        xp.take(Y[:k], keep, axis=0, out=Y_next[: keep.size])
        W, W_next, Y, Y_next = W_next, W, Y_next, Y
        wb, yb, t_mom, l1_d, l2_d = (a[keep] for a in (wb, yb, t_mom, l1_d, l2_d))
        idx = idx[live]
    return out


def _rescore(ops, prob, coef, icpt, l1, l2, positive):
    """Gaps of given fits ``(coef, icpt)`` at the penalties ``(l1, l2)`` (host)."""
    xp = prob.xp
    W = xp.asarray(coef)
    b = xp.asarray(icpt)
    k, p, m = W.shape[0], W.shape[1], prob.m
    Z, R, G = xp.empty((k, m)), xp.empty((k, m)), xp.empty((k, p))
    _margins_and_gradients(ops, prob, W, b, 0, Z, R, G)
    pen = (*prob.pen, xp.asarray(l1), xp.asarray(l2))
    gap, _ = ops.gap(Z, b, G, W, prob.data, pen, positive)
    return _to_host(gap)


def _early_stop(ops, prob, res, shape, penalties, positive, size):
    """Apply the deviance-ratio stop to one set's rows ``res`` (in place).

    ``res = (coef, icpt, gap, loss, iters)`` of every (l1_ratio, alpha) row
    of the set, path-major; ``penalties = (l1, l2)`` of those rows.  A path's
    alphas after its first fit past the stop keep that fit (``iters`` 0,
    gaps re-scored at their own penalties).  Returns ``stopped``, shape
    ``(n_l1,)``: the index of each path's first unsolved alpha.
    """
    n_l1, n_alphas = shape
    coef = res[0].reshape(n_l1, n_alphas, -1)
    icpt, gap, loss, iters = (a.reshape(n_l1, n_alphas) for a in res[1:])
    past = (iters > 0) & (loss < (1 - DEVIANCE_RATIO_STOP) * prob.null_loss)
    stopped = np.where(past.any(axis=1), past.argmax(axis=1) + 1, n_alphas)
    after = np.arange(n_alphas) >= stopped[:, None]
    li, ai = np.nonzero(after)
    src = stopped[li] - 1
    coef[li, ai] = coef[li, src]
    icpt[li, ai] = icpt[li, src]
    iters[li, ai] = 0
    l1, l2 = (a.reshape(n_l1, n_alphas)[li, ai] for a in penalties)
    for s in range(0, li.size, size):
        sl = slice(s, s + size)
        gap[li[sl], ai[sl]] = _rescore(
            ops,
            prob,
            coef[li[sl], ai[sl]],
            icpt[li[sl], ai[sl]],
            l1[sl],
            l2[sl],
            positive,
        )
    return stopped


def solve_sets(ops, XF, y01, SW, params, grid, spec, *, progress=False, budget):
    """Every (training set, l1_ratio) path of a binomial grid with ``ops``.

    Parameters
    ----------
    ops : CudaLogisticOps or TwinLogisticOps
        The kernels and, as ``ops.xp``, the array module.
    XF : ndarray or scipy.sparse matrix of shape (n_samples, n_features)
        A sparse X stays sparse: each set's rows go to the device as CSR and
        the two GEMMs become cuSPARSE products (``scipy.sparse`` for twins).
    y01 : ndarray of shape (n_samples,)
    SW : ndarray of shape (n_sets, n_samples)
        ``s_i / n_w`` of each training set (0 off the set).
    params : tuple
        ``(B0, A1, B2)`` of ``gpureg._binomial._set_parameters``.
    grid : ndarray of shape (n_l1, n_alphas)
    spec : GridSpec
        ``l1_ratios``, ``positive``, ``fit_intercept``, ``tol``, ``max_iter``.
    progress : bool
    budget : int
        Device bytes a chunk may hold (:func:`plan_chunk`).

    Returns
    -------
    coef : ndarray of shape (n_sets, n_l1, n_alphas, n_features)
    icpt, gaps : ndarray of shape (n_sets, n_l1, n_alphas)
    iters : ndarray of shape (n_sets, n_l1, n_alphas) of int
        FISTA iterations; 0 after an early stop.
    stopped : ndarray of shape (n_sets, n_l1) of int
    """
    B0, A1, B2 = params
    n_sets, (n_l1, n_alphas), p = SW.shape[0], grid.shape, XF.shape[1]
    if issparse(XF):
        XF = XF.tocsr()  # once: each set's training rows are sliced from it
    rhos = np.asarray(spec.l1_ratios, dtype=np.float64)[:, None]
    l1, l2 = (grid * rhos).ravel(), (grid * (1.0 - rhos)).ravel()
    path_of = np.repeat(np.arange(n_l1), n_alphas)
    alpha_of = np.tile(np.arange(n_alphas), n_l1)
    N = l1.size
    coef = np.zeros((n_sets, N, p))
    scalars = [np.zeros((n_sets, N)) for _ in range(3)]  # icpt, gap, loss
    iters = np.zeros((n_sets, N), dtype=np.int64)
    stopped = np.zeros((n_sets, n_l1), dtype=np.int64)
    bar = progress_bar(progress, n_sets * n_l1)
    for t in range(n_sets):
        check_stop()
        prob = _SetProblem(
            ops.xp, XF, y01, SW[t], B0[t], A1[t], B2[t], spec.fit_intercept
        )
        thr = spec.tol * prob.null_loss
        size = plan_chunk(prob.m, p, N, budget, prob.nnz)
        sat = np.full(n_l1, n_alphas)
        res = (coef[t], *(a[t] for a in scalars), iters[t])
        for start in range(0, N, size):
            sl = slice(start, start + size)
            got = _solve_chunk(
                ops,
                prob,
                (l1[sl], l2[sl], path_of[sl], alpha_of[sl]),
                spec.positive,
                thr,
                spec.max_iter,
                sat,
            )
            for dest, val in zip(res, got, strict=True):
                dest[sl] = val
        stopped[t] = _early_stop(
            ops, prob, res, (n_l1, n_alphas), (l1, l2), spec.positive, size
        )
        del prob
        if bar is not None:
            bar.update(n_l1)
    if bar is not None:
        bar.close()
    shape = (n_sets, n_l1, n_alphas)
    return (
        coef.reshape(*shape, p),
        scalars[0].reshape(shape),
        scalars[1].reshape(shape),
        iters.reshape(shape),
        stopped,
    )


class CudaLogisticOps:
    """The kernel interface of :func:`solve_sets` on the device (CuPy + NVRTC).

    Same methods and semantics as :class:`._twins.TwinLogisticOps`;
    each launches one kernel of ``kernels/logistic.cu``, one block of
    :data:`BLOCK` threads per row.
    """

    def __init__(self):
        import cupy

        self.xp = cupy

    @staticmethod
    def _launch(name, n, slabs, args):
        """Launch ``name<T>`` (``T`` the dtype of ``slabs``) over ``n`` rows."""
        from ._gpu import _contiguous, _ctype, check_block
        from ._kernels import get_function

        arrays = [a for a in args if hasattr(a, "__cuda_array_interface__")]
        _contiguous(*arrays)
        dtype = slabs[0].dtype
        if any(a.dtype != dtype for a in slabs):
            raise TypeError(f"{name}: the (n, ·) slabs must share one dtype")
        if any(a.dtype != np.float64 for a in arrays if not _among(a, slabs)):
            raise TypeError(f"{name}: the parameter arrays must be float64")
        kernel = get_function("logistic.cu", f"{name}<{_ctype(dtype)}>")
        kernel((n,), (check_block(BLOCK),), tuple(args))

    def residual(self, Z, b, y, sw, R, polish):
        """Launch ``logistic_residual``; returns ``Σ R`` per row."""
        n, m = Z.shape
        rsum = self.xp.empty(n)
        if n:
            args = (Z, b, y, sw, R, rsum, np.int32(polish), np.int32(n), np.int32(m))
            self._launch("logistic_residual", n, (Z, R), args)
        return rsum

    def step(self, G, rows, icpt, pen, t_mom, step, positive, intercept):
        """Launch ``logistic_step`` (in place, as the twin)."""
        n, p = G.shape
        if n:
            flags = (np.int32(bool(positive)), np.int32(bool(intercept)))
            args = (
                G,
                *rows,
                *icpt,
                *pen,
                t_mom,
                np.float64(step),
                np.int32(n),
                np.int32(p),
                *flags,
            )
            self._launch("logistic_step", n, (G, *rows), args)

    def gap(self, Z, b, G, W, data, pen, positive):
        """Launch ``logistic_gap``; returns the gaps and losses, ``(n,)`` each."""
        (n, m), p = Z.shape, W.shape[1]
        gap, loss = self.xp.empty(n), self.xp.empty(n)
        if n:
            args = (
                Z,
                b,
                G,
                W,
                *data,
                *pen,
                gap,
                loss,
                np.int32(n),
                np.int32(m),
                np.int32(p),
                np.int32(bool(positive)),
            )
            self._launch("logistic_gap", n, (Z, G, W), args)
        return gap, loss


def _among(a, arrays) -> bool:
    return any(a is b for b in arrays)


def device_ops():
    """The CUDA kernels' interface and the device's byte budget.

    Returns
    -------
    ops : CudaLogisticOps
    budget : int
        ``_gpu.memory_budget()``.  (Tests substitute the numba twins here.)
    """
    from . import _gpu

    return CudaLogisticOps(), _gpu.memory_budget()


def _to_host(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)
