"""CPU fast path: numba coordinate descent, parallel over independent paths.

One *job* is one (training set, l1_ratio) pair: a whole alpha path solved in
order with warm starts.  Jobs are independent and run in ``prange``.

Per alpha (glmnet's recipe, certified by the duality gap of ``_penalty.py``,
stopped in scikit-learn's two stages, tightened — ``docs/accuracy.md``):

1. Working set = non-zeros ∪ unpenalized ∪ the sequential strong rule
   ``|grad_j| >= l1_ratio * f_j * (2 alpha_k - alpha_{k-1})``.
2. Cyclic coordinate descent epochs over the working set.  Only after an
   epoch whose largest change is ``max|Δw| <= DW_SAFETY · tol · max|w|`` is
   the gap restricted to the working set evaluated (O(|ws|) in Gram form).
3. When that gap is below ``tol * yy`` (or every ``FULL_CHECK_EVERY``
   epochs): evaluate the gradient over *all* features (``c - q``, or
   ``X̃ᵀ S r`` afresh) and the full gap, and add every KKT violator to the
   working set.  The fit stops when the last epoch was small, the full gap
   certifies and no violator was added (or at ``max_iter``).  Screening
   therefore never changes a result.

Gram form keeps ``q = G w`` (``grad = c - q``) and updates it with one row of
G per changed coordinate (covariance updates); residual form keeps
``r = ỹ - X̃ w`` over all rows (held-out rows carry weight 0).
"""

from __future__ import annotations

import numpy as np
from numba import get_num_threads, njit, prange

from .._gram import GramBatch, ResidualBatch
from ._common import DW_SAFETY, PathSolution, iter_job_chunks

#: Soft-threshold outputs within this relative margin of the threshold are
#: rounding noise (the gradient summed in another order) and snap to zero, so
#: that alpha_max really gives w = 0.  Twin of ``_penalty.SNAP``.
SNAP = 8.0 * np.finfo(np.float64).eps

#: The full check (all features' KKT conditions) also runs every this many
#: epochs, so a working-set gap stuck above tol by rounding cannot keep a
#: violating feature out for the rest of max_iter.
FULL_CHECK_EVERY = 10


@njit(cache=True, inline="always")
def _coord_update(z, diag, l1f, l2f, positive):
    """Coordinate minimizer: ``soft_threshold(z, l1f) / (diag + l2f)``."""
    denom = diag + l2f
    if denom <= 0.0:
        return 0.0
    cut = l1f * (1.0 + SNAP)
    if z > cut:
        return (z - l1f) / denom
    if z < -cut and not positive:
        return (z + l1f) / denom
    return 0.0


@njit(cache=True)
def _gap(w, grad, idx, n_idx, rnorm2, l1, l2, f, positive):
    """Twin of ``_penalty.duality_gap`` over the coordinates ``idx[:n_idx]``."""
    kappa = 1.0
    if l2 == 0.0:
        for k in range(n_idx):
            j = idx[k]
            if f[j] > 0.0:
                s = grad[j] if positive else abs(grad[j])
                if s > l1 * f[j]:
                    ratio = l1 * f[j] / s
                    if ratio < kappa:
                        kappa = ratio
    total = 0.5 * (1.0 - kappa) ** 2 * rnorm2
    for k in range(n_idx):
        j = idx[k]
        v = kappa * grad[j]
        wj = w[j]
        if f[j] == 0.0:
            total += abs(v * wj)
            continue
        l1f = l1 * f[j]
        l2f = l2 * f[j]
        term = l1f * abs(wj) + 0.5 * l2f * wj * wj - v * wj
        if l2f > 0.0:
            s = (v if positive else abs(v)) - l1f
            if s > 0.0:
                term += s * s / (2.0 * l2f)
        total += term
    return max(total, 0.0)  # every term is >= 0; clip rounding below zero


@njit(cache=True)
def _add_violators(grad, w, diag, in_ws, ws, n_ws, l1, f, positive):
    """Append every zero coordinate outside the working set that violates KKT."""
    for j in range(grad.shape[0]):
        if in_ws[j] or diag[j] <= 0.0:
            continue
        s = grad[j] if positive else abs(grad[j])
        if s > l1 * f[j]:
            in_ws[j] = True
            ws[n_ws] = j
            n_ws += 1
    return n_ws


@njit(cache=True)
def _strong_set(grad, w, diag, f, threshold, positive, in_ws, ws):
    """Non-zeros, unpenalized features and strong-rule survivors."""
    n_ws = 0
    for j in range(grad.shape[0]):
        s = grad[j] if positive else abs(grad[j])
        keep = diag[j] > 0.0 and (w[j] != 0.0 or f[j] == 0.0 or s >= threshold * f[j])
        in_ws[j] = keep
        if keep:
            ws[n_ws] = j
            n_ws += 1
    return n_ws


@njit(cache=True)
def _updates_small(w, ws, n_ws, d_w_max, tol):
    """scikit-learn's first stopping stage: ``max|Δw| <= tol · max|w|``.

    The duality gap is only trusted once the last epoch's largest coordinate
    change is small relative to the largest coefficient (or all are zero):
    checking the gap alone stops at the edge of the certified region, far
    less accurate than scikit-learn at the same ``tol``.
    """
    w_max = 0.0
    for kk in range(n_ws):
        w_max = max(w_max, abs(w[ws[kk]]))
    return w_max == 0.0 or d_w_max <= DW_SAFETY * tol * w_max


# --------------------------------------------------------------------- Gram form
@njit(cache=True)
def _gram_rnorm2(yy, c, q, w):
    """``‖r‖²_S / n_w = yy - 2 cᵀw + wᵀ G w`` with ``q = G w``."""
    acc = yy
    for j in range(c.shape[0]):
        acc -= w[j] * (2.0 * c[j] - q[j])
    return max(acc, 0.0)


@njit(cache=True)
def _gram_path(G, c, yy, alphas, rho, f, positive, tol, max_iter, coef, gaps, iters):
    """One alpha path in Gram form; writes coef (n_alphas, p), gaps, iters."""
    p = c.shape[0]
    w = np.zeros(p)
    q = np.zeros(p)
    grad = c.copy()
    diag = np.empty(p)
    for j in range(p):
        diag[j] = G[j, j]
    in_ws = np.zeros(p, dtype=np.bool_)
    ws = np.empty(p, dtype=np.int64)
    all_idx = np.arange(p)
    tol_abs = tol * yy
    for k in range(alphas.shape[0]):
        alpha = alphas[k]
        l1 = alpha * rho
        l2 = alpha * (1.0 - rho)
        a_prev = alphas[k - 1] if k > 0 else alpha
        n_ws = _strong_set(grad, w, diag, f, rho * (2.0 * alpha - a_prev), positive,
                           in_ws, ws)
        n_iter = 0
        gap = np.inf
        while True:
            d_w_max = 0.0
            for kk in range(n_ws):
                j = ws[kk]
                wj = w[j]
                # z = c_j - (G w)_j + G_jj w_j
                z = c[j] - q[j] + diag[j] * wj
                new = _coord_update(z, diag[j], l1 * f[j], l2 * f[j], positive)
                if new != wj:
                    d = new - wj
                    d_w_max = max(d_w_max, abs(d))
                    w[j] = new
                    Gj = G[j]
                    for i in range(p):  # q += G[:, j] * d  (G symmetric)
                        q[i] += Gj[i] * d
            n_iter += 1
            small = _updates_small(w, ws, n_ws, d_w_max, tol)
            periodic = n_iter % FULL_CHECK_EVERY == 0
            if not (small or periodic or n_iter >= max_iter):
                continue
            if small and not periodic and n_iter < max_iter:
                for kk in range(n_ws):
                    j = ws[kk]
                    grad[j] = c[j] - q[j]
                rnorm2 = _gram_rnorm2(yy, c, q, w)
                if _gap(w, grad, ws, n_ws, rnorm2, l1, l2, f, positive) > tol_abs:
                    continue
            # Full check over all features.  q is accumulated in float64
            # whatever G's dtype; its drift (~1e-16 relative per update) is
            # far below the gap thresholds in use.
            for j in range(p):
                grad[j] = c[j] - q[j]
            rnorm2 = _gram_rnorm2(yy, c, q, w)
            gap = _gap(w, grad, all_idx, p, rnorm2, l1, l2, f, positive)
            n_ws_before = n_ws
            n_ws = _add_violators(grad, w, diag, in_ws, ws, n_ws, l1, f, positive)
            if (gap <= tol_abs and small and n_ws == n_ws_before) or n_iter >= max_iter:
                break
        coef[k, :] = w
        gaps[k] = gap
        iters[k] = n_iter


@njit(parallel=True, cache=True)
def _gram_jobs(G, c, yy, alphas, rhos, f, positive, tol, max_iter, job_t, job_l,
               coef, gaps, iters):
    for jj in prange(job_t.shape[0]):
        t = job_t[jj]
        il = job_l[jj]
        _gram_path(G[t], c[t], yy[t], alphas[il], rhos[il], f, positive, tol,
                   max_iter, coef[t, il], gaps[t, il], iters[t, il])


# ----------------------------------------------------------------- residual form
@njit(cache=True)
def _col_grad(X, j, swr, x_scale):
    """``grad_j = Σ_i X_ij sw_i r_i / scale_j`` (centering drops: Σ sw r = 0)."""
    acc = 0.0
    for i in range(X.shape[0]):
        acc += X[i, j] * swr[i]
    return acc / x_scale[j]


@njit(cache=True)
def _residual_full_grad(X, sw, r, x_mean, x_scale, hdiag, grad):
    """Exact gradient over all features; returns ``rᵀ S r / n_w``."""
    n = X.shape[0]
    swr = np.empty(n)
    rn = 0.0
    srs = 0.0
    for i in range(n):
        swr[i] = sw[i] * r[i]
        rn += swr[i] * r[i]
        srs += swr[i]
    for j in range(X.shape[1]):
        if hdiag[j] > 0.0:
            acc = 0.0
            for i in range(n):
                acc += X[i, j] * swr[i]
            grad[j] = (acc - x_mean[j] * srs) / x_scale[j]
        else:
            grad[j] = 0.0
    return rn


@njit(cache=True)
def _residual_path(X, yc, sw, x_mean, x_scale, hdiag, yy, alphas, rho, f, positive,
                   tol, max_iter, coef, gaps, iters):
    """One alpha path in residual form; writes coef (n_alphas, p), gaps, iters."""
    n, p = X.shape
    r = yc.copy()
    w = np.zeros(p)
    grad = np.zeros(p)
    swr = np.empty(n)
    in_ws = np.zeros(p, dtype=np.bool_)
    ws = np.empty(p, dtype=np.int64)
    all_idx = np.arange(p)
    tol_abs = tol * yy
    _residual_full_grad(X, sw, r, x_mean, x_scale, hdiag, grad)
    for k in range(alphas.shape[0]):
        alpha = alphas[k]
        l1 = alpha * rho
        l2 = alpha * (1.0 - rho)
        a_prev = alphas[k - 1] if k > 0 else alpha
        n_ws = _strong_set(grad, w, hdiag, f, rho * (2.0 * alpha - a_prev), positive,
                           in_ws, ws)
        n_iter = 0
        gap = np.inf
        while True:
            for i in range(n):
                swr[i] = sw[i] * r[i]
            d_w_max = 0.0
            for kk in range(n_ws):
                j = ws[kk]
                wj = w[j]
                z = _col_grad(X, j, swr, x_scale) + hdiag[j] * wj
                new = _coord_update(z, hdiag[j], l1 * f[j], l2 * f[j], positive)
                if new != wj:
                    d = new - wj
                    d_w_max = max(d_w_max, abs(d))
                    w[j] = new
                    mj = x_mean[j]
                    sj = x_scale[j]
                    for i in range(n):  # r -= x̃_j * d
                        r[i] -= (X[i, j] - mj) / sj * d
                        swr[i] = sw[i] * r[i]
            n_iter += 1
            small = _updates_small(w, ws, n_ws, d_w_max, tol)
            periodic = n_iter % FULL_CHECK_EVERY == 0
            if not (small or periodic or n_iter >= max_iter):
                continue
            if small and not periodic and n_iter < max_iter:
                rnorm2 = 0.0
                for i in range(n):
                    rnorm2 += swr[i] * r[i]
                for kk in range(n_ws):
                    j = ws[kk]
                    grad[j] = _col_grad(X, j, swr, x_scale)
                if _gap(w, grad, ws, n_ws, rnorm2, l1, l2, f, positive) > tol_abs:
                    continue
            rnorm2 = _residual_full_grad(X, sw, r, x_mean, x_scale, hdiag, grad)
            gap = _gap(w, grad, all_idx, p, rnorm2, l1, l2, f, positive)
            n_ws_before = n_ws
            n_ws = _add_violators(grad, w, hdiag, in_ws, ws, n_ws, l1, f, positive)
            if (gap <= tol_abs and small and n_ws == n_ws_before) or n_iter >= max_iter:
                break
        coef[k, :] = w
        gaps[k] = gap
        iters[k] = n_iter


@njit(parallel=True, cache=True)
def _residual_jobs(X, yc, sw, x_mean, x_scale, hdiag, yy, alphas, rhos, f, positive,
                   tol, max_iter, job_t, job_l, coef, gaps, iters):
    for jj in prange(job_t.shape[0]):
        t = job_t[jj]
        il = job_l[jj]
        _residual_path(X, yc[t], sw[t], x_mean[t], x_scale[t], hdiag[t], yy[t],
                       alphas[il], rhos[il], f, positive, tol, max_iter,
                       coef[t, il], gaps[t, il], iters[t, il])


def solve_paths(batch, alphas, l1_ratios, penalty_factor, *, positive, tol, max_iter,
                progress=None) -> PathSolution:
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
        Called with the number of paths finished after each chunk.

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
    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    rhos = np.ascontiguousarray(l1_ratios, dtype=np.float64)
    f = np.ascontiguousarray(penalty_factor, dtype=np.float64)
    stats = batch.stats
    chunk = get_num_threads() * 2 if progress is not None else None
    for job_t, job_l in iter_job_chunks(n_sets, n_l1, chunk):
        if isinstance(batch, GramBatch):
            _gram_jobs(batch.G, stats.c, stats.yy, alphas, rhos, f, bool(positive),
                       float(tol), int(max_iter), job_t, job_l,
                       sol.coef, sol.dual_gap, sol.n_iter)
        elif isinstance(batch, ResidualBatch):
            _residual_jobs(batch.X, batch.y_centered, batch.sw, stats.x_mean,
                           stats.x_scale, batch.hdiag, stats.yy, alphas, rhos, f,
                           bool(positive), float(tol), int(max_iter), job_t, job_l,
                           sol.coef, sol.dual_gap, sol.n_iter)
        else:  # pragma: no cover - planner guarantees one of the two
            raise TypeError(f"unknown batch type {type(batch).__name__}")
        if progress is not None:
            progress(len(job_t))
    return sol


def array_module():
    """Where this backend keeps its arrays: numpy."""
    return np
