"""CPU twins (numba) of the CUDA kernels in ``kernels/logistic.cu``.

Each function takes the kernel's arguments in the kernel's order (outputs
included) and computes the same thing row by row, in the same float64
arithmetic; :class:`TwinLogisticOps` bundles them behind the interface the
binomial GPU engine (:mod:`._binomial_gpu`) expects, so the engine runs, and
is tested, on the CPU with numpy.  ``logistic_step`` matches its kernel bit
for bit; the other two call ``exp``/``log``, whose last bits differ between
libdevice and LLVM, and sum in another order.

As in :mod:`._twins`, the formulas are restated rather than imported from
:mod:`._numba_binomial` (numba's cache does not see changes to a jitted
function of another module); ``tests/test_binomial_gpu.py`` checks them
against that solver's gap and the numpy oracle.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_LOCK


@njit(cache=True, inline="always")
def _log1pexp(z):
    return z + np.log1p(np.exp(-z)) if z > 0.0 else np.log1p(np.exp(z))


@njit(cache=True, inline="always")
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def _residual(y, z):
    return _sigmoid(-z) if y > 0.5 else -_sigmoid(z)


@njit(cache=True, inline="always")
def _logloss(y, z):
    return _log1pexp(-z) if y > 0.5 else _log1pexp(z)


@njit(cache=True, inline="always")
def _xlogx(t):
    return t * np.log(t) if t > 0.0 else 0.0


@njit(cache=True, parallel=True)
def logistic_residual(Z, b, y, sw, R, rsum, polish):
    """Twin of ``logistic_residual<T>``: ``R``, ``rsum`` (and ``b`` if polish)."""
    n, m = Z.shape
    for k in prange(n):
        bk = b[k]
        for _ in range(polish):
            g = 0.0
            h = 0.0
            for i in range(m):
                p = _sigmoid(np.float64(Z[k, i]) + bk)
                g += sw[i] * (y[i] - p)
                h += sw[i] * p * (1.0 - p)
            if not h > 0.0 or abs(g) <= 1e-15:
                break
            bk += g / h
        acc = 0.0
        for i in range(m):
            R[k, i] = sw[i] * _residual(y[i], np.float64(Z[k, i]) + bk)
            acc += np.float64(R[k, i])
        rsum[k] = acc
        if polish > 0:
            b[k] = bk


@njit(cache=True, parallel=True)
def logistic_step(
    G,
    Y,
    W,
    W_next,
    Y_next,
    yb,
    wb,
    wb_next,
    yb_next,
    gb,
    a1,
    b2,
    l1,
    l2,
    t_mom,
    step,
    positive,
    intercept,
):
    """Twin of ``logistic_step<T>``: one FISTA step with adaptive restart."""
    n, p = Y.shape
    for k in prange(n):
        c1 = step * l1[k]
        c2 = step * l2[k]
        acc = 0.0
        for j in range(p):
            y = np.float64(Y[k, j])
            u = y + step * np.float64(G[k, j])
            w_new = 0.0
            if a1[j] >= 0.0:
                thr = c1 * a1[j]
                num = 0.0
                if u > thr:
                    num = u - thr
                elif u < -thr and not positive:
                    num = u + thr
                w_new = num / (1.0 + c2 * b2[j])
            W_next[k, j] = w_new
            w_new_t = np.float64(W_next[k, j])
            acc += (y - w_new_t) * (w_new_t - np.float64(W[k, j]))
        b_new = yb[k] + step * gb[k] if intercept else wb[k]
        acc += (yb[k] - b_new) * (b_new - wb[k])
        t = t_mom[k]
        restart = acc > 0.0
        t_new = 1.0 if restart else 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = 0.0 if restart else (t - 1.0) / t_new
        for j in range(p):
            w_new = np.float64(W_next[k, j])
            Y_next[k, j] = w_new + beta * (w_new - np.float64(W[k, j]))
        wb_next[k] = b_new
        yb_next[k] = b_new + beta * (b_new - wb[k])
        t_mom[k] = t_new


@njit(cache=True, parallel=True)
def logistic_gap(Z, b, G, W, y, sw, a1, b2, l1, l2, gap, loss, positive):
    """Twin of ``logistic_gap<T>``: the duality gap and loss of every row."""
    n, m = Z.shape
    p = W.shape[1]
    for k in prange(n):
        L1 = l1[k]
        L2 = l2[k]
        kappa = 1.0
        for j in range(p):
            l1a = L1 * a1[j]
            if a1[j] >= 0.0 and l1a > 0.0 and L2 * b2[j] == 0.0:
                g = np.float64(G[k, j])
                score = max(g, 0.0) if positive else abs(g)
                if score > l1a:
                    kappa = min(kappa, l1a / score)
        dual = 0.0
        primal = 0.0
        for i in range(m):
            z = np.float64(Z[k, i]) + b[k]
            kr = kappa * _residual(y[i], z)
            if y[i] > 0.5:
                h = _xlogx(1.0 - kr) + _xlogx(kr)
            else:
                h = _xlogx(-kr) + _xlogx(1.0 + kr)
            ll = _logloss(y[i], z)
            dual += sw[i] * (ll + h + kr * z)
            primal += sw[i] * ll
        terms = 0.0
        for j in range(p):
            if a1[j] < 0.0:
                continue
            w = np.float64(W[k, j])
            v = kappa * np.float64(G[k, j])
            l1a = L1 * a1[j]
            l2b = L2 * b2[j]
            if l1a == 0.0 and l2b == 0.0:
                terms += abs(v * w)
                continue
            vs = max(v, 0.0) if positive else abs(v)
            excess = max(vs - l1a, 0.0)
            conj = excess * excess / (2.0 * l2b) if l2b > 0.0 else 0.0
            terms += l1a * abs(w) + 0.5 * l2b * w * w + conj - v * w
        g = dual + terms
        gap[k] = g if (g > 0.0 or g != g) else 0.0
        loss[k] = primal


class TwinLogisticOps:
    """The kernel interface of :mod:`._binomial_gpu` on the CPU (numpy + numba)."""

    xp = np

    @staticmethod
    def residual(Z, b, y, sw, R, polish):
        """In place: ``R`` (and ``b`` when ``polish``); returns ``Σ R`` per row."""
        rsum = np.empty(Z.shape[0])
        with PARALLEL_LOCK:
            logistic_residual(Z, b, y, sw, R, rsum, int(polish))
        return rsum

    @staticmethod
    def step(G, rows, icpt, pen, t_mom, step, positive, intercept):
        """One FISTA step, in place (see the kernel).

        Writes ``W_next, Y_next`` of ``rows = (Y, W, W_next, Y_next)``,
        ``wb_next, yb_next`` of ``icpt = (yb, wb, wb_next, yb_next, gb)`` and
        ``t_mom``; ``pen = (a1, b2, l1, l2)``.
        """
        flags = (float(step), bool(positive), bool(intercept))
        with PARALLEL_LOCK:
            logistic_step(G, *rows, *icpt, *pen, t_mom, *flags)

    @staticmethod
    def gap(Z, b, G, W, data, pen, positive):
        """Gaps and losses of every row, two arrays of shape ``(n,)`` float64.

        ``data = (y, sw)`` of the training rows; ``pen = (a1, b2, l1, l2)``.
        """
        gap = np.empty(Z.shape[0])
        loss = np.empty(Z.shape[0])
        with PARALLEL_LOCK:
            logistic_gap(Z, b, G, W, *data, *pen, gap, loss, bool(positive))
        return gap, loss
