"""CPU fast path: numba coordinate descent, parallel over independent paths.

One *job* is one (training set, l1_ratio) pair: a whole alpha path solved in
order with warm starts.  Jobs are independent: a pool of Python threads
calls the compiled path functions, which release the GIL (``nogil``), one
job at a time.  No numba parallel region is involved, so the solver works
under any threading layer and from concurrent calls, compiles in a fraction
of the time ``prange`` took, and stops within a check when the call is
interrupted (it polls the stop flag of :mod:`gpureg._interrupt`).

Per alpha (glmnet's and adelie's recipe, certified by the duality gap of
``_penalty.py``, stopped in scikit-learn's two stages, tightened —
``docs/accuracy.md``):

1. Working set = non-zeros ∪ unpenalized ∪ the sequential strong rule
   ``|grad_j| >= l1_ratio * f_j * (2 alpha_k - alpha_{k-1})``.  It only grows
   along the path, so its compact Gram ``GA`` (``|ws| × |ws|``) is built
   incrementally: from the shared Gram in Gram form, from the training rows
   of the design (held-out rows are skipped, not weighted by 0) in residual
   form.
2. Cyclic coordinate descent epochs on ``GA`` with covariance updates
   (``qA = GA wA`` refreshed by one row per changed coordinate), so an epoch
   costs O(|ws|·changes), independent of n.  Every ``ANDERSON_K`` epochs an
   Anderson extrapolation of the last iterates (skglm, celer) is tried and
   kept only if it lowers the objective.  Only after an epoch whose largest
   change is ``max|Δw| <= DW_SAFETY · tol · max|w|`` is the working-set gap
   evaluated (O(|ws|)).
3. When that gap is below ``tol * yy`` (or periodically): evaluate the exact
   gradient over *all* features (``c - G w`` in Gram form, ``X̃ᵀ S r`` from an
   exact residual in residual form) and the full gap, and add every KKT
   violator to the working set.  The fit stops when the last epoch was small,
   the full gap certifies and no violator was added (or at ``max_iter``).
   Screening therefore never changes a result.

The penalty and the datafit are the scalar ``enet_*`` and ``quadratic_*``
functions below (the numba twins of ``_penalty.ElasticNetPenalty`` and
``_datafit.Quadratic``).  One core, ``_cd_path``, runs steps 1-3 for both
forms; ``_ws_fill`` (the working set's Gram rows) and ``_full_check`` (every
feature's gradient and ``‖r‖²``) are the only places where they differ.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np
from numba import get_num_threads, njit, types
from numba.extending import overload
from threadpoolctl import threadpool_limits

from .._batch import GramBatch, ResidualBatch
from .._interrupt import check_stop, stop_flag
from ._common import DW_SAFETY, PathSolution
from ._host import *  # noqa: F403 (the contract's host functions: _host.__all__)

#: Soft-threshold outputs within this relative margin of the threshold are
#: rounding noise (the gradient summed in another order) and snap to zero, so
#: that alpha_max really gives w = 0.  Twin of ``_penalty.SNAP``.
SNAP = 8.0 * np.finfo(np.float64).eps

#: In Gram form the full check (all features' KKT conditions) also runs every
#: this many epochs, so a working-set gap stuck above tol by rounding cannot
#: keep a violating feature out for the rest of max_iter.  Residual form,
#: where each check streams all of X, uses max(100, n·p/|ws|²) epochs.
FULL_CHECK_EVERY = 10

#: Anderson extrapolation (skglm, celer) combines the last this many CD
#: epochs' iterates; the extrapolated point is kept only if it lowers the
#: objective.
ANDERSON_K = 5


# ------------------------------------------------------------------- vocabulary
# The model's two parts, as in skglm's datafits/penalties: one scalar function
# per method of ``_penalty.ElasticNetPenalty`` (``enet_*``, per coordinate,
# ``l1f = l1 f_j`` and ``l2f = l2 f_j``) and of ``_datafit.Quadratic``
# (``quadratic_*``).  Every loop below calls these (``_ws_primal`` alone
# writes ``enet_value`` out, see there).
# ``grad`` is the correlation ``-∇F(w) = X̃ᵀ S r / n_w`` throughout.
@njit(cache=True, inline="always")
def enet_value(w, l1f, l2f):
    """``g_j(w) = l1f |w| + l2f w² / 2`` (``ElasticNetPenalty.value``)."""
    return l1f * abs(w) + 0.5 * l2f * w * w


@njit(cache=True, inline="always")
def enet_prox_1d(z, diag, l1f, l2f, positive):
    """Coordinate minimizer of ``½ diag w² - z w + g_j(w)`` (``prox_1d``).

    ``soft_threshold(z, l1f) / (diag + l2f)``; outputs within :data:`SNAP` of
    the threshold snap to zero, and ``diag + l2f = 0`` gives 0.
    """
    denom = diag + l2f
    if denom <= 0.0:
        return 0.0
    cut = l1f * (1.0 + SNAP)
    if z > cut:
        return (z - l1f) / denom
    if z < -cut and not positive:
        return (z + l1f) / denom
    return 0.0


@njit(cache=True, inline="always")
def enet_subdiff_distance(w, grad, l1f, l2f, positive):
    """KKT violation ``dist(grad, ∂g_j(w))`` (``subdiff_distance``)."""
    if w == 0.0:
        score = max(grad, 0.0) if positive else abs(grad)
        return max(score - l1f, 0.0)
    if positive and w < 0.0:
        return np.inf
    return abs(grad - (l1f if w > 0.0 else -l1f) - l2f * w)


@njit(cache=True, inline="always")
def enet_dual_scaling(grad, l1f, l2f, fj, positive):
    """Coordinate j's bound on κ (``dual_scaling``: κ is the minimum over j).

    ``l1f / score`` for a pure-Lasso coordinate (``l2f = 0 < f_j``) whose
    ``score = |grad|`` (``max(grad, 0)`` when positive) exceeds ``l1f``, else 1.
    """
    if fj > 0.0 and l2f == 0.0:
        score = max(grad, 0.0) if positive else abs(grad)
        if score > l1f:
            return l1f / score
    return 1.0


@njit(cache=True, inline="always")
def enet_conjugate(v, l1f, l2f, positive):
    """``g_j*(v) = (|v| - l1f)₊² / (2 l2f)``, 0 where ``l2f = 0`` (``conjugate``)."""
    if l2f > 0.0:
        vs = max(v, 0.0) if positive else abs(v)
        excess = max(vs - l1f, 0.0)
        return excess * excess / (2.0 * l2f)
    return 0.0


@njit(cache=True, inline="always")
def quadratic_gap(rnorm2, kappa):
    """The datafit's part of the gap, ``½ (1 - κ)² rnorm2`` (``Quadratic.gap_term``)."""
    return 0.5 * (1.0 - kappa) ** 2 * rnorm2


@njit(cache=True)
def quadratic_rnorm2(yy, c, q, w):
    """``‖r‖²_S / n_w = yy - 2 cᵀw + wᵀ G w`` with ``q = G w``, clipped at 0."""
    acc = yy
    for j in range(c.shape[0]):
        acc -= w[j] * (2.0 * c[j] - q[j])
    return max(acc, 0.0)


@njit(cache=True)
def duality_gap(w, grad, idx, n_idx, rnorm2, l1, l2, f, positive):
    """``_penalty.duality_gap`` over the coordinates ``idx[:n_idx]``.

    ``quadratic_gap`` plus each coordinate's Fenchel–Young gap
    ``enet_value - v w + enet_conjugate`` at ``v = κ grad`` (``|v w|`` when
    unpenalized).
    """
    kappa = 1.0
    if l2 == 0.0:  # else no coordinate is pure Lasso: κ = 1
        for k in range(n_idx):
            j = idx[k]
            kappa = min(
                kappa, enet_dual_scaling(grad[j], l1 * f[j], l2 * f[j], f[j], positive)
            )
    total = quadratic_gap(rnorm2, kappa)
    for k in range(n_idx):
        j = idx[k]
        v = kappa * grad[j]
        wj = w[j]
        if f[j] == 0.0:
            total += abs(v * wj)
            continue
        l1f = l1 * f[j]
        l2f = l2 * f[j]
        total += (
            enet_value(wj, l1f, l2f) - v * wj + enet_conjugate(v, l1f, l2f, positive)
        )
    return max(total, 0.0)  # every term is >= 0; clip rounding below zero


#: The names the tests (and older code) know these by.
_coord_update = enet_prox_1d
_gap = duality_gap


@njit(cache=True)
def _add_violators(grad, w, diag, in_ws, ws, n_ws, pen):
    """Append every coordinate outside the working set that violates KKT.

    ``pen = (l1, l2, f, positive)`` is the penalty at the current alpha.
    """
    l1, l2, f, positive = pen
    for j in range(grad.shape[0]):
        if in_ws[j] or diag[j] <= 0.0:
            continue
        if enet_subdiff_distance(w[j], grad[j], l1 * f[j], l2 * f[j], positive) > 0.0:
            in_ws[j] = True
            ws[n_ws] = j
            n_ws += 1
    return n_ws


# -------------------------------------------------------------- working-set core
@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(a, b, n):
    """``Σ_{i<n} a_i b_i``, vectorized (reassociated sum)."""
    acc = 0.0
    for i in range(n):
        acc += a[i] * b[i]
    return acc


@njit(cache=True)
def _axpy(x, d, y, n):
    """``y[:n] += d * x[:n]``."""
    for i in range(n):
        y[i] += x[i] * d


@njit(cache=True)
def _grow(A, rows, cols, limit):
    """Return ``A`` if it holds ``rows × cols``, else a larger copy.

    The copy is zero-padded and at least doubled in each short dimension,
    capped at ``limit``.
    """
    R, Cc = A.shape
    if rows <= R and cols <= Cc:
        return A
    nr = R if rows <= R else min(max(rows, 2 * R), max(rows, limit))
    nc = Cc if cols <= Cc else min(max(cols, 2 * Cc), max(cols, limit))
    B = np.zeros((nr, nc))
    B[:R, :Cc] = A
    return B


@njit(cache=True)
def _ws_epoch(sub, m, positive):
    """One cyclic CD epoch on the working-set problem ``sub``; returns ``max|Δw|``.

    ``sub = (GA, cA, diagA, l1A, l2A, wA, qA)`` (see :func:`_ws_buffers`).
    ``qA = GA wA`` is kept up to date (covariance updates), so the coordinate
    minimizer's input is ``z = c_a - q_a + G_aa w_a``.
    """
    GA, cA, diagA, l1A, l2A, wA, qA = sub
    d_w_max = 0.0
    for a in range(m):
        wa = wA[a]
        z = cA[a] - qA[a] + diagA[a] * wa
        new = enet_prox_1d(z, diagA[a], l1A[a], l2A[a], positive)
        if new != wa:
            d = new - wa
            d_w_max = max(d_w_max, abs(d))
            wA[a] = new
            _axpy(GA[a], d, qA, m)
    return d_w_max


@njit(cache=True)
def _ws_primal(wA, qA, cA, l1A, l2A, m):
    """Working-set objective less its constant: ``½wᵀGw - cᵀw + penalty``.

    The penalty is :func:`enet_value` written out: Anderson's acceptance
    compares two such sums, and ``datafit + enet_value(...)`` would round them
    differently (``(a + b) + c`` is not ``a + (b + c)``).
    """
    acc = 0.0
    for a in range(m):
        wa = wA[a]
        acc += wa * (0.5 * qA[a] - cA[a]) + l1A[a] * abs(wa) + 0.5 * l2A[a] * wa * wa
    return acc


@njit(cache=True)
def _solve_small(C, z):
    """Solve ``C x = 1`` into ``z`` (Gauss, partial pivoting); False if singular."""
    K = C.shape[0]
    scale = 0.0
    for i in range(K):
        z[i] = 1.0
        scale = max(scale, abs(C[i, i]))
    if not scale > 0.0:
        return False
    for col in range(K):
        piv = col
        for i in range(col + 1, K):
            if abs(C[i, col]) > abs(C[piv, col]):
                piv = i
        if abs(C[piv, col]) <= 1e-13 * scale:
            return False
        if piv != col:
            for k in range(K):
                C[col, k], C[piv, k] = C[piv, k], C[col, k]
            z[col], z[piv] = z[piv], z[col]
        for i in range(col + 1, K):
            fac = C[i, col] / C[col, col]
            for k in range(col, K):
                C[i, k] -= fac * C[col, k]
            z[i] -= fac * z[col]
    for i in range(K - 1, -1, -1):
        acc = z[i]
        for k in range(i + 1, K):
            acc -= C[i, k] * z[k]
        z[i] = acc / C[i, i]
    return True


@njit(cache=True)
def _anderson(hist, sub, m, positive):
    """Anderson extrapolation of the last ``K + 1`` iterates (skglm, celer).

    ``hist = (Ws, Qs, U, C, z)`` and ``sub`` are :func:`_ws_buffers`'s;
    ``Ws[k], Qs[k]`` hold ``w`` and ``q = G w`` after each of the last K + 1
    epochs.  The extrapolated point ``Σ c_k w_{k+1}`` (``c`` minimizing
    ``‖Σ c_k (w_{k+1} - w_k)‖`` with ``Σ c_k = 1``) replaces ``wA`` only if it
    lowers the objective; ``q`` extrapolates exactly with it (q is linear in
    w).  Row 0 of ``Ws``/``Qs`` is used as scratch (``U``, ``C``, ``z`` are
    scratch too).  Returns True if accepted.
    """
    Ws, Qs, U, C, z = hist
    _, cA, _, l1A, l2A, wA, qA = sub
    K = U.shape[0]
    for k in range(K):
        for a in range(m):
            U[k, a] = Ws[k + 1, a] - Ws[k, a]
    for k in range(K):
        for k2 in range(k, K):
            v = _dot(U[k], U[k2], m)
            C[k, k2] = v
            C[k2, k] = v
    if not _solve_small(C, z):
        return False
    total = 0.0
    for k in range(K):
        total += z[k]
    if total == 0.0 or not np.isfinite(total):
        return False
    w_acc = Ws[0]
    q_acc = Qs[0]
    for a in range(m):
        wv = 0.0
        qv = 0.0
        for k in range(K):
            ck = z[k] / total
            wv += ck * Ws[k + 1, a]
            qv += ck * Qs[k + 1, a]
        if positive and wv < 0.0:
            return False
        w_acc[a] = wv
        q_acc[a] = qv
    if _ws_primal(w_acc, q_acc, cA, l1A, l2A, m) >= _ws_primal(wA, qA, cA, l1A, l2A, m):
        return False
    wA[:m] = w_acc[:m]
    qA[:m] = q_acc[:m]
    return True


@njit(cache=True)
def _extend_strong(grad, w, diag, f, threshold, positive, in_ws, ws, m):
    """Append unpenalized features and strong-rule survivors to the working set.

    The working set only grows along a path (glmnet's ever-active set): a
    member that stays at zero costs one comparison per epoch.
    """
    for j in range(grad.shape[0]):
        if in_ws[j] or diag[j] <= 0.0:
            continue
        s = grad[j] if positive else abs(grad[j])
        if w[j] != 0.0 or f[j] == 0.0 or s >= threshold * f[j]:
            in_ws[j] = True
            ws[m] = j
            m += 1
    return m


@njit(cache=True)
def _ws_buffers(p, start):
    """Working-set state of one path over ``p`` features (both forms).

    Returns ``in_ws, ws, all_idx`` (membership, order, ``arange(p)``), the
    working-set problem ``sub = (GA, cA, diagA, l1A, l2A, wA, qA)`` (its
    Gram, ``start × start`` until it grows, and the compact ``c``, ``G_aa``,
    penalties, ``w`` and ``q = GA wA``) and Anderson's ``hist = (Ws, Qs, U,
    C, z)``.
    """
    K = ANDERSON_K
    sub = (
        np.zeros((start, start)),
        np.zeros(p),
        np.zeros(p),
        np.zeros(p),
        np.zeros(p),
        np.zeros(p),
        np.zeros(p),
    )
    hist = (
        np.zeros((K + 1, p)),
        np.zeros((K + 1, p)),
        np.zeros((K, p)),
        np.zeros((K, K)),
        np.zeros(K),
    )
    return (
        np.zeros(p, dtype=np.bool_),
        np.empty(p, dtype=np.int64),
        np.arange(p),
        sub,
        hist,
    )


@njit(cache=True)
def _ws_penalties(sub, ws, m0, m, pen):
    """``l1A, l2A`` of the working-set rows ``m0..m`` for the penalty ``pen``."""
    l1, l2, f, _ = pen
    _, _, _, l1A, l2A, _, _ = sub
    for a in range(m0, m):
        l1A[a] = l1 * f[ws[a]]
        l2A[a] = l2 * f[ws[a]]


@njit(cache=True, inline="always")
def _small_epoch(wA, m, d_w_max, tol):
    """scikit-learn's test of an epoch: ``max|Δw| <= DW_SAFETY·tol·max|w|``."""
    w_max = 0.0
    for a in range(m):
        w_max = max(w_max, abs(wA[a]))
    return w_max == 0.0 or d_w_max <= DW_SAFETY * tol * w_max


@njit(cache=True)
def _cd_until_check(sub, hist, m, epochs, pen, tol, yy, ws, w, grad):
    """CD epochs (with Anderson extrapolation) on the working set.

    Runs until the full check is due: the last epoch was small
    (``max|Δw| <= DW_SAFETY·tol·max|w|``) and the working-set gap (penalty
    ``pen = (l1, l2, f, positive)``) is below ``tol·yy``, or ``epochs``
    epochs ran.  Returns ``(epochs run, small)``; ``w`` holds the working-set
    values on return.
    """
    _, cA, _, _, _, wA, qA = sub
    Ws, Qs, _, _, _ = hist
    positive = pen[3]
    n_snap = 0
    since = 0
    small = False
    while True:
        if n_snap == Ws.shape[0]:  # K + 1 snapshots
            _anderson(hist, sub, m, positive)
            n_snap = 0
        d_w_max = _ws_epoch(sub, m, positive)
        since += 1
        Ws[n_snap, :m] = wA[:m]
        Qs[n_snap, :m] = qA[:m]
        n_snap += 1
        small = _small_epoch(wA, m, d_w_max, tol)
        if since >= epochs:
            break
        if not small:
            continue
        rn = yy
        for a in range(m):
            j = ws[a]
            w[j] = wA[a]
            grad[j] = cA[a] - qA[a]
            rn -= wA[a] * (cA[a] + grad[j])
        if duality_gap(w, grad, ws, m, max(rn, 0.0), *pen) <= tol * yy:
            break
    for a in range(m):
        w[ws[a]] = wA[a]
    return since, small


# ------------------------------------------------- the two forms of the problem
# Gram form: the full Gram ``G`` and ``c`` of the training set.  Residual form:
# the design ``X`` (column-major, uncentered) and the training rows.  The CD
# core ``_cd_path`` takes one of the two as a tuple and ``None`` for the other;
# the functions below are the only places where the forms differ.
@njit(cache=True)
def _gram_fill(gram, sub, ws, m0, m, w):
    """Working-set rows ``m0..m`` of ``GA = G[ws, ws]`` and their c, diag, w, q."""
    G, c, q = gram
    GA, cA, diagA, _, _, wA, qA = sub
    for a in range(m0, m):
        j = ws[a]
        Gj = G[j]
        for b in range(m):
            v = Gj[ws[b]]
            GA[a, b] = v
            GA[b, a] = v
        cA[a] = c[j]
        diagA[a] = Gj[j]
        wA[a] = w[j]
        qA[a] = q[j]


# X of the residual form is either a column-major 2-D array or a CSC matrix
# as a tuple ``(indptr, indices, data)``: the two functions below read one of
# its columns, and numba compiles each caller once per kind (an overload).
def _col_dot(X, j, v):
    """``Σ_i X[i, j] v[i]`` (numba only: see its overload)."""
    raise NotImplementedError  # pragma: no cover


def _col_fill(X, j, rows, pos, sq, mj, sj, xa):
    """``xa[ii] = (X[rows[ii], j] - mj) / sj * sq[ii]`` (numba only)."""
    raise NotImplementedError  # pragma: no cover


@overload(_col_dot)
def _col_dot_impl(X, j, v):
    if isinstance(X, types.Array):

        def dense(X, j, v):
            return _dot(X[:, j], v, X.shape[0])

        return dense

    def sparse(X, j, v):  # only the column's non-zeros
        indptr, indices, data = X
        acc = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            acc += data[k] * v[indices[k]]
        return acc

    return sparse


@overload(_col_fill)
def _col_fill_impl(X, j, rows, pos, sq, mj, sj, xa):
    if isinstance(X, types.Array):

        def dense(X, j, rows, pos, sq, mj, sj, xa):
            for ii in range(rows.shape[0]):
                xa[ii] = (X[rows[ii], j] - mj) / sj * sq[ii]

        return dense

    def sparse(X, j, rows, pos, sq, mj, sj, xa):
        # the zeros first, then the column's non-zeros on training rows: the
        # same arithmetic per entry as the dense form (centering implicit)
        zero = (0.0 - mj) / sj
        for ii in range(rows.shape[0]):
            xa[ii] = zero * sq[ii]
        indptr, indices, data = X
        for k in range(indptr[j], indptr[j + 1]):
            ii = pos[indices[k]]
            if ii >= 0:
                xa[ii] = (data[k] - mj) / sj * sq[ii]

    return sparse


@njit(cache=True, fastmath={"reassoc", "contract"})
def _full_grad(X, swr, x_mean, x_scale, hdiag, grad):
    """``grad_j = Σ_i x̃_ij swr_i`` over all features (X dense or CSC).

    Centering and scaling are implicit: ``(x_jᵀ swr - x̄_j Σ swr) / σ_j``.
    """
    n = swr.shape[0]
    srs = 0.0
    for i in range(n):
        srs += swr[i]
    for j in range(x_mean.shape[0]):
        if hdiag[j] > 0.0:
            grad[j] = (_col_dot(X, j, swr) - x_mean[j] * srs) / x_scale[j]
        else:
            grad[j] = 0.0


@njit(cache=True)
def _design_fill_dense(design, XA, sub, ws, m0, m, w):
    """Fill working-set rows ``m0..m`` of the compact design and its Gram.

    ``XA[a] = √sw · x̃_j`` over the training rows only, then the Gram entries
    ``GA[a, :m] = XA[a] · XA[:m]`` and the matching ``c``, diag, ``w``, ``q``.
    """
    X, rows, sq, ys, _, _, x_mean, x_scale, pos = design
    GA, cA, diagA, _, _, wA, qA = sub
    nt = rows.shape[0]
    for a in range(m0, m):
        j = ws[a]
        _col_fill(X, j, rows, pos, sq, x_mean[j], x_scale[j], XA[a])
    if m > m0:
        # one BLAS product for the new rows: ~12× faster than dot loops,
        # which stream all of XA[:m] once per new row
        B = np.dot(XA[m0:m], XA[:m].T)
        for a in range(m0, m):
            for b in range(m):
                v = B[a - m0, b]
                GA[a, b] = v
                GA[b, a] = v
    for a in range(m0, m):
        cA[a] = _dot(XA[a], ys, nt)
        diagA[a] = GA[a, a]
        wA[a] = w[ws[a]]
    for a in range(m0, m):
        qA[a] = _dot(GA[a], wA, m)


@njit(cache=True)
def _design_fill_sparse(design, XA, sub, ws, m0, m, w):
    """The working-set rows ``m0..m`` of a CSC design: ``c_a``, ``G_aa``, ``w_a``.

    No Gram: the sparse form's CD (:func:`_cd_sparse`) updates the residual
    through each column's non-zeros, so its memory does not grow as ``m²``.
    ``G_aa = (Σ sw x_a² - 2 m_a S_a + m_a²) / σ_a²`` and ``c_a = (Σ sw ỹ x_a
    - m_a Σ sw ỹ) / σ_a`` over the training rows (``Σ sw = 1``), with
    ``S_a = Σ sw x_a`` kept in ``qA`` (unused otherwise in this form).
    """
    (indptr, indices, data), rows, sq, ys, _, _, x_mean, x_scale, pos = design
    _, cA, diagA, _, _, wA, qA = sub
    syc = 0.0  # Σ sw ỹ over the training rows
    for ii in range(rows.shape[0]):
        syc += sq[ii] * ys[ii]
    for a in range(m0, m):
        j = ws[a]
        ca = 0.0
        s1 = 0.0
        s2 = 0.0
        for k in range(indptr[j], indptr[j + 1]):
            ii = pos[indices[k]]
            if ii >= 0:
                sw_x = sq[ii] * sq[ii] * data[k]
                s1 += sw_x
                s2 += sw_x * data[k]
                ca += sq[ii] * ys[ii] * data[k]
        ma, sa = x_mean[j], x_scale[j]
        qA[a] = s1
        diagA[a] = (s2 - 2.0 * ma * s1 + ma * ma) / (sa * sa)
        cA[a] = (ca - ma * syc) / sa
        wA[a] = w[j]


def _design_fill(design, XA, sub, ws, m0, m, w):
    """Working-set rows ``m0..m`` of the design form (numba only: overload)."""
    raise NotImplementedError  # pragma: no cover


@overload(_design_fill)
def _design_fill_impl(design, XA, sub, ws, m0, m, w):
    if isinstance(design.types[0], types.Array):
        return lambda design, XA, sub, ws, m0, m, w: _design_fill_dense(
            design, XA, sub, ws, m0, m, w
        )
    return lambda design, XA, sub, ws, m0, m, w: _design_fill_sparse(
        design, XA, sub, ws, m0, m, w
    )


def _training_residual(design, XA, ws, m, wA):
    """``rs = √s (ỹ - X̃ w)`` on the training rows (numba only: overload)."""
    raise NotImplementedError  # pragma: no cover


@overload(_training_residual)
def _training_residual_impl(design, XA, ws, m, wA):
    if isinstance(design.types[0], types.Array):

        def dense(design, XA, ws, m, wA):
            rs, ys = design[5], design[3]
            nt = rs.shape[0]
            rs[:] = ys
            for a in range(m):
                if wA[a] != 0.0:
                    _axpy(XA[a], -wA[a], rs, nt)

        return dense

    def sparse(design, XA, ws, m, wA):
        (indptr, indices, data), rows, sq, ys, _, rs, x_mean, x_scale, pos = design
        shift = 0.0  # Σ_a w_a x̄_a / σ_a: the implicit centering
        for a in range(m):
            shift += wA[a] * x_mean[ws[a]] / x_scale[ws[a]]
        for ii in range(rows.shape[0]):
            rs[ii] = ys[ii] + sq[ii] * shift
        for a in range(m):
            if wA[a] != 0.0:
                j = ws[a]
                d = wA[a] / x_scale[j]
                for k in range(indptr[j], indptr[j + 1]):
                    ii = pos[indices[k]]
                    if ii >= 0:
                        rs[ii] -= sq[ii] * d * data[k]

    return sparse


def _design_width(design):
    """Columns of the compact design ``XA``: the training rows, 0 for CSC."""
    raise NotImplementedError  # pragma: no cover


@overload(_design_width)
def _design_width_impl(design):
    if isinstance(design.types[0], types.Array):
        return lambda design: design[1].shape[0]
    return lambda design: 0


def _is_csc(design):
    """The design is a CSC tuple (numba only: a compile-time constant)."""
    raise NotImplementedError  # pragma: no cover


@overload(_is_csc)
def _is_csc_impl(design):
    sparse = isinstance(design, types.BaseTuple) and not isinstance(
        design.types[0], types.Array
    )
    return lambda design: sparse


def _inner_cd(design, sub, hist, m, epochs, pen, tol, yy, ws, w, grad):
    """CD until the full check is due (numba only): Gram or sparse form."""
    raise NotImplementedError  # pragma: no cover


@overload(_inner_cd)
def _inner_cd_impl(design, sub, hist, m, epochs, pen, tol, yy, ws, w, grad):
    sparse = isinstance(design, types.BaseTuple) and not isinstance(
        design.types[0], types.Array
    )
    if sparse:
        return lambda design, sub, hist, m, epochs, pen, tol, yy, ws, w, grad: (
            _cd_sparse(design, sub, m, epochs, pen, tol, yy, ws, w, grad)
        )
    return lambda design, sub, hist, m, epochs, pen, tol, yy, ws, w, grad: (
        _cd_until_check(sub, hist, m, epochs, pen, tol, yy, ws, w, grad)
    )


@njit(cache=True)
def _cd_sparse(design, sub, m, epochs, pen, tol, yy, ws, w, grad):
    """:func:`_cd_until_check` for a CSC design: residual updates, no Gram.

    The training residual ``rs`` (``√s (ỹ - X̃ w)``, exact on entry: the last
    full check's, or ``√s ỹ`` at ``w = 0``) is kept as ``rs + √s·shift`` so
    that the implicit centering of a column update stays a scalar: a step
    ``δ`` on column ``a`` changes ``rs`` on its non-zeros only
    (``-δ √s x / σ``) and ``shift`` by ``δ m_a / σ``.  The coordinate's
    gradient is ``(Σ_nz √s x rs + shift S_a - m_a (Σ √s rs + shift)) / σ``
    with ``S_a = Σ sw x_a`` (in ``qA``) and ``Σ sw = 1``.  An epoch costs the
    working set's non-zeros.  Returns ``(epochs run, small)``; ``rs`` is
    exact again and ``w`` holds the working-set values on return.
    """
    (indptr, indices, data), rows, sq, ys, _, rs, x_mean, x_scale, pos = design
    _, _, diagA, l1A, l2A, wA, qA = sub
    positive = pen[3]
    nt = rows.shape[0]
    shift = 0.0
    srs = 0.0  # Σ √s rs (stored part)
    for ii in range(nt):
        srs += sq[ii] * rs[ii]
    gA = np.empty(m)
    since = 0
    small = False
    while True:
        d_w_max = 0.0
        for a in range(m):
            j = ws[a]
            sa, ma = x_scale[j], x_mean[j]
            dot = 0.0
            for k in range(indptr[j], indptr[j + 1]):
                ii = pos[indices[k]]
                if ii >= 0:
                    dot += sq[ii] * data[k] * rs[ii]
            g = (dot + shift * qA[a] - ma * (srs + shift)) / sa
            gA[a] = g
            wa = wA[a]
            new = enet_prox_1d(g + diagA[a] * wa, diagA[a], l1A[a], l2A[a], positive)
            if new != wa:
                d = new - wa
                d_w_max = max(d_w_max, abs(d))
                wA[a] = new
                gA[a] = g - diagA[a] * d
                ds = d / sa
                for k in range(indptr[j], indptr[j + 1]):
                    ii = pos[indices[k]]
                    if ii >= 0:
                        rs[ii] -= ds * sq[ii] * data[k]
                srs -= ds * qA[a]
                shift += ds * ma
        since += 1
        small = _small_epoch(wA, m, d_w_max, tol)
        if since >= epochs:
            break
        if not small:
            continue
        # the working set's gap: its gradients (this epoch's, to rounding of
        # the later updates: the full check is exact) and ‖r‖²
        rn = 0.0
        for ii in range(nt):
            r = rs[ii] + sq[ii] * shift
            rn += r * r
        for a in range(m):
            w[ws[a]] = wA[a]
            grad[ws[a]] = gA[a]
        if duality_gap(w, grad, ws, m, rn, *pen) <= tol * yy:
            break
    for ii in range(nt):
        rs[ii] += sq[ii] * shift
    for a in range(m):
        w[ws[a]] = wA[a]
    return since, small


@njit(cache=True, inline="always")
def _ws_fill(gram, design, XA, sub, ws, m0, m, w):
    """Grow the working set's arrays to ``m`` and fill its rows ``m0..m``.

    Returns ``sub`` and ``XA`` (``GA`` and ``XA`` reallocated when they were
    too small; ``XA`` is None in Gram form).
    """
    p = w.shape[0]
    GA, cA, diagA, l1A, l2A, wA, qA = sub
    ga = m
    if design is not None:
        if _is_csc(design):
            ga = 0  # the sparse form's CD needs no Gram
    sub = (_grow(GA, ga, ga, p), cA, diagA, l1A, l2A, wA, qA)
    if gram is not None:
        _gram_fill(gram, sub, ws, m0, m, w)
    if design is not None:
        XA = _grow(XA, m, _design_width(design), p)  # a column per training row
        _design_fill(design, XA, sub, ws, m0, m, w)
    return sub, XA


@njit(cache=True, inline="always")
def _full_check(gram, design, XA, sub, diag, ws, m, w, grad, yy):
    """Every feature's exact gradient into ``grad``; returns ``‖r‖²_S / n_w``.

    Gram form: from an exact ``q = G w`` (``c - q``, :func:`quadratic_rnorm2`).
    Residual form: from the exact residual of the training rows
    (:func:`_full_grad`).  Both refresh ``qA = GA wA``, dropping the rounding
    the covariance updates accumulated.
    """
    GA, _, _, _, _, wA, qA = sub
    rnorm2 = 0.0
    if gram is not None:
        G, c, q = gram
        p = q.shape[0]
        q[:] = 0.0
        for a in range(m):
            if wA[a] != 0.0:
                _axpy(G[ws[a]], wA[a], q, p)
        for j in range(p):
            grad[j] = c[j] - q[j]
        for a in range(m):
            qA[a] = q[ws[a]]
        rnorm2 = quadratic_rnorm2(yy, c, q, w)
    if design is not None:
        X, rows, sq, ys, swr, rs, x_mean, x_scale, _ = design
        nt = rows.shape[0]
        _training_residual(design, XA, ws, m, wA)
        rnorm2 = _dot(rs, rs, nt)
        for ii in range(nt):
            swr[rows[ii]] = sq[ii] * rs[ii]
        _full_grad(X, swr, x_mean, x_scale, diag, grad)
        if not _is_csc(design):  # (a CSC design keeps S_a in qA)
            for a in range(m):
                qA[a] = _dot(GA[a], wA, m)
    return rnorm2


# ------------------------------------------------------------------ the CD core
@njit(cache=True, inline="always")
def _cd_path(gram, design, diag, grad, fit, out):
    """One alpha path by working-set CD, in either form (module docstring).

    Parameters
    ----------
    gram : tuple ``(G, c, q)`` or None
        Gram form: the Gram matrix, ``c`` and a buffer for ``q = G w``.
    design : tuple ``(X, rows, sq, ys, swr, rs, x_mean, x_scale, pos)`` or None
        Residual form: the design (dense column-major, or CSC as ``(indptr,
        indices, data)``), the training rows, ``√s`` and ``√s ỹ`` on them,
        buffers for ``S r`` (all rows, held-out ones 0) and the training
        residual, the column centers and scales, and each row's position
        among the training rows (-1 for the others).
    diag : ndarray of shape (p,)
        ``G_jj`` (0 for constant columns, which never enter the working set).
    grad : ndarray of shape (p,)
        The correlation at ``w = 0`` (``c``); updated in place.
    fit : tuple ``(yy, alphas, rho, f, positive, tol, max_iter)``
        The path to solve, as :func:`_gram_path`'s arguments of those names.
    out : tuple ``(coef, gaps, iters, stop)``
        Its results and the stop flag, as :func:`_gram_path`'s.

    Exactly one of ``gram`` and ``design`` is None.  numba removes the
    branches ``if gram is not None`` / ``if design is not None`` of an
    argument that is None before typing (dead-branch pruning; neither
    argument may be reassigned), so the core, inlined into
    :func:`_gram_path` and :func:`_residual_path` (numba IR), leaves each of
    them only its own form's code, as when they were written out twice.
    """
    yy, alphas, rho, f, positive, tol, max_iter = fit
    coef, gaps, iters, stop = out
    p = diag.shape[0]
    w = np.zeros(p)
    start = min(p, 64)
    in_ws, ws, all_idx, sub, hist = _ws_buffers(p, start)
    if gram is not None:
        XA = None
        check_every = FULL_CHECK_EVERY
    if design is not None:
        XA = np.zeros((start, _design_width(design)))
        np_ = design[4].shape[0] * p  # n · p (swr has a row per sample)
    m = 0
    tol_abs = tol * yy
    for k in range(alphas.shape[0]):
        alpha = alphas[k]
        pen = (alpha * rho, alpha * (1.0 - rho), f, positive)
        a_prev = alphas[k - 1] if k > 0 else alpha
        m0 = m
        m = _extend_strong(
            grad, w, diag, f, rho * (2.0 * alpha - a_prev), positive, in_ws, ws, m
        )
        sub, XA = _ws_fill(gram, design, XA, sub, ws, m0, m, w)
        _ws_penalties(sub, ws, 0, m, pen)
        n_iter = 0
        gap = np.inf
        while True:
            if stop[0] != 0:
                return
            if design is not None:
                # a full check costs ~n·p, an epoch up to ~m²: check less
                # often when the working set is small
                check_every = max(100, np_ // max(m * m, 1))
            epochs = min(check_every, max_iter - n_iter)
            done, small = _inner_cd(
                design, sub, hist, m, epochs, pen, tol, yy, ws, w, grad
            )
            n_iter += done
            rnorm2 = _full_check(gram, design, XA, sub, diag, ws, m, w, grad, yy)
            gap = duality_gap(w, grad, all_idx, p, rnorm2, *pen)
            m_before = m
            m = _add_violators(grad, w, diag, in_ws, ws, m, pen)
            if m > m_before:
                sub, XA = _ws_fill(gram, design, XA, sub, ws, m_before, m, w)
                _ws_penalties(sub, ws, m_before, m, pen)
            if (gap <= tol_abs and small and m == m_before) or n_iter >= max_iter:
                break
        coef[k, :] = w
        gaps[k] = gap
        iters[k] = n_iter


@njit(cache=True, nogil=True)
def _gram_path(
    G, c, yy, alphas, rho, f, positive, tol, max_iter, coef, gaps, iters, stop
):
    """One alpha path in Gram form; writes coef (n_alphas, p), gaps, iters.

    Returns early, leaving the rest of the path unsolved, once ``stop[0]`` is
    non-zero.
    """
    p = c.shape[0]
    diag = np.empty(p)
    for j in range(p):
        diag[j] = G[j, j]
    gram = (G, c, np.zeros(p))
    fit = (yy, alphas, rho, f, positive, tol, max_iter)
    _cd_path(gram, None, diag, c.copy(), fit, (coef, gaps, iters, stop))


@njit(cache=True, nogil=True)
def _residual_path(
    X,
    yc,
    sw,
    x_mean,
    x_scale,
    hdiag,
    yy,
    alphas,
    rho,
    f,
    positive,
    tol,
    max_iter,
    coef,
    gaps,
    iters,
    stop,
):
    """One alpha path in residual form; writes coef (n_alphas, p), gaps, iters.

    ``X`` is column-major dense, or CSC as ``(indptr, indices, data)``: its
    columns are centered and scaled implicitly, never densified.

    Returns early, leaving the rest of the path unsolved, once ``stop[0]`` is
    non-zero.

    Coordinate descent runs on the working set's Gram, built column by column
    as the set grows from the training rows only (zero-weight rows skipped);
    the full check recomputes the residual and every feature's gradient.
    """
    n, p = yc.shape[0], x_mean.shape[0]
    rows = np.flatnonzero(sw > 0.0)
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.shape[0])
    sq = np.sqrt(sw[rows])
    ys = sq * yc[rows]
    swr = np.zeros(n)
    for i in range(n):
        swr[i] = sw[i] * yc[i]
    grad = np.zeros(p)
    _full_grad(X, swr, x_mean, x_scale, hdiag, grad)
    rs = ys.copy()  # the training residual at w = 0
    design = (X, rows, sq, ys, swr, rs, x_mean, x_scale, pos)
    fit = (yy, alphas, rho, f, positive, tol, max_iter)
    _cd_path(None, design, hdiag, grad, fit, (coef, gaps, iters, stop))


def solve_paths(
    batch, alphas, l1_ratios, penalty_factor, *, positive, tol, max_iter, progress=None
) -> PathSolution:
    """Solve every (training set, l1_ratio, alpha) fit by coordinate descent.

    Parameters
    ----------
    batch : GramBatch or ResidualBatch
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
        Descending along each row.
    l1_ratios : ndarray of shape (n_l1_ratios,)
    penalty_factor : ndarray of shape (n_features,)
    positive : bool
    tol : float
        Stop when ``gap <= tol * yy`` of the training set.
    max_iter : int
        Maximum number of epochs per fit.
    progress : callable or None
        Called with the number of paths finished, as they finish.

    Returns
    -------
    PathSolution
        ``coef (n_sets, n_l1_ratios, n_alphas, n_features)`` on the solver's
        scale (float64), ``dual_gap`` and ``n_iter`` of shape
        ``(n_sets, n_l1_ratios, n_alphas)``.
    """
    n_sets = batch.stats.n_sets
    n_l1, n_alphas = alphas.shape
    p = batch.n_features
    sol = PathSolution.empty(n_sets, n_l1, n_alphas, p)
    alphas = np.array(alphas, dtype=np.float64, order="C")
    rhos = np.array(l1_ratios, dtype=np.float64)
    # Own, writeable arrays: a read-only one (the user's penalty_factor or X)
    # would make numba compile the whole solver again for that type.
    f = np.array(penalty_factor, dtype=np.float64)
    if (
        isinstance(batch, ResidualBatch)
        and not batch.sparse
        and not batch.X.flags.writeable
    ):
        batch = dataclasses.replace(batch, X=np.array(batch.X, order="F"))
    run = _path_runner(
        batch,
        alphas,
        rhos,
        f,
        bool(positive),
        float(tol),
        int(max_iter),
        sol,
        stop_flag(),
    )
    jobs = [(t, il) for t in range(n_sets) for il in range(n_l1)]
    # The jobs already fill every core; a threaded BLAS inside them (the
    # working-set Gram products) would oversubscribe: PN 30.6 s → 19.0 s.
    with threadpool_limits(limits=1, user_api="blas"):
        _run_jobs(run, jobs, min(get_num_threads(), len(jobs)), progress)
    check_stop()
    return sol


def _path_runner(batch, alphas, rhos, f, positive, tol, max_iter, sol, stop):
    """The function solving job ``(t, il)`` into ``sol`` (releases the GIL)."""
    stats = batch.stats
    if isinstance(batch, GramBatch):
        path, G = _gram_path, batch.G

        def data(t):  # the path function's arguments before yy
            return G[t], stats.c[t]
    elif isinstance(batch, ResidualBatch):
        path, X = _residual_path, batch.X
        if batch.sparse:  # CSC: the solver reads it as a tuple of arrays
            X = (X.indptr, X.indices, X.data)

        def data(t):
            return (
                X,
                batch.y_centered[t],
                batch.sw[t],
                stats.x_mean[t],
                stats.x_scale[t],
                batch.hdiag[t],
            )
    else:  # pragma: no cover - planner guarantees one of the two
        raise TypeError(f"unknown batch type {type(batch).__name__}")

    def run(t, il):
        path(
            *data(t),
            stats.yy[t],
            alphas[il],
            rhos[il],
            f,
            positive,
            tol,
            max_iter,
            sol.coef[t, il],
            sol.dual_gap[t, il],
            sol.n_iter[t, il],
            stop,
        )

    return run


def _run_jobs(run, jobs, n_threads, progress):
    """Call ``run(*job)`` for every job on ``n_threads`` threads.

    ``progress(1)`` is called in this thread as each job finishes; the first
    error stops the remaining jobs and is raised.
    """
    if n_threads <= 1:
        for job in jobs:
            run(*job)
            if progress is not None:
                progress(1)
        return
    with ThreadPoolExecutor(n_threads, thread_name_prefix="gpureg-cd") as pool:
        pending = {pool.submit(run, *job) for job in jobs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for fut in done:
                    fut.result()
                if progress is not None:
                    progress(len(done))
        finally:
            for fut in pending:
                fut.cancel()
