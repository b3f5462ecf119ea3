"""CPU twins (numba) of the CUDA kernels in ``kernels/*.cu`` (but dropout's).

Each function takes the kernel's arguments in the kernel's order and computes
the same thing, row by row where the kernel runs one block per row, with the
same float64 arithmetic: it is what the GPU engine runs when driven with
numpy (tests), and the reference the CUDA code is read against.
:class:`TwinOps` bundles those of ``enet_fista.cu`` behind the interface
``_fista.solve`` expects, :class:`TwinLogisticOps` those of ``logistic.cu``
behind the binomial engine's (:mod:`._binomial_gpu`).  Of the logistic
twins, ``logistic_step`` matches its kernel bit for bit; ``logistic_residual``
and ``logistic_gap`` call ``exp``/``log``, whose last bits differ between
libdevice and LLVM, and sum in another order.  The prox, momentum and
gap-term helpers are shared by both families' twins, as
``kernels/common.cuh`` shares them between the kernels (one module: numba's
cache tracks a module's own functions, not another module's).

The twins restate the penalty's and datafit's formulas (``_penalty``'s
``ElasticNetPenalty``, ``_datafit.Quadratic``) where the kernels do, rather
than calling the ``enet_*`` / ``quadratic_*`` functions of ``_numba`` (or
the logistic ones of ``_numba_binomial``): they
are the kernels' line-by-line reference, and numba's cache does not notice
changes to a jitted function of another module, so a cached twin calling one
would keep running its old compiled copy.  ``tests/test_vocabulary.py``
checks that the twins agree with the vocabulary.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_LOCK


@njit(cache=True, inline="always")
def _enet_prox(u, thr, denom, positive):
    """``enet_prox`` of common.cuh: ``S(u, thr) / denom`` (``u₊`` part if positive)."""
    num = 0.0
    if u > thr:
        num = u - thr
    elif u < -thr and not positive:
        num = u + thr
    return num / denom


@njit(cache=True, inline="always")
def _momentum(acc, t):
    """``fista_momentum`` of common.cuh: ``(t_new, beta)``, restart if acc > 0."""
    if acc > 0.0:
        return 1.0, 0.0
    t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
    return t_new, (t - 1.0) / t_new


@njit(cache=True, inline="always")
def _gap_term(w, v, l1f, l2f, positive):
    """``enet_gap_term`` of common.cuh: one penalized coordinate's gap term."""
    vs = max(v, 0.0) if positive else abs(v)
    excess = max(vs - l1f, 0.0)
    conj = excess * excess / (2.0 * l2f) if l2f > 0.0 else 0.0
    return l1f * abs(w) + 0.5 * l2f * w * w + conj - v * w


@njit(cache=True, parallel=True)
def enet_fista_step(
    GY, Y, W, W_next, Y_next, C, set_of, step, l1, l2, f, t_mom, positive
):
    """Twin of ``enet_fista_step<T>``: one FISTA step with adaptive restart.

    Its proximal step is ``ElasticNetPenalty.prox_1d`` at ``diag = 1`` with
    the step-scaled ``l1, l2``, without the snap to zero (the kernel has none).
    """
    n, p = Y.shape
    for k in prange(n):
        s = set_of[k]
        eta = step[s]
        a1 = eta * l1[k]
        a2 = eta * l2[k]
        acc = 0.0
        for j in range(p):
            y = np.float64(Y[k, j])
            z = y - eta * (np.float64(GY[k, j]) - C[s, j])
            if f[j] > 0.0:
                w_new = _enet_prox(z, a1 * f[j], 1.0 + a2 * f[j], positive)
            else:
                w_new = 0.0 if (positive and z < 0.0) else z
            W_next[k, j] = w_new
            w_new_t = np.float64(W_next[k, j])
            acc += (y - w_new_t) * (w_new_t - np.float64(W[k, j]))
        t_new, beta = _momentum(acc, t_mom[k])
        for j in range(p):
            w_new = np.float64(W_next[k, j])
            Y_next[k, j] = w_new + beta * (w_new - np.float64(W[k, j]))
        t_mom[k] = t_new


@njit(cache=True, parallel=True)
def enet_gap(GW, W, C, yy, set_of, l1, l2, f, gap, positive):
    """Twin of ``enet_gap<T>``: the duality gap of every row (``_penalty``).

    Pass 1: ``rnorm2`` and κ (``ElasticNetPenalty.dual_scaling``); pass 2:
    ``ElasticNetPenalty.gap_terms``, then ``Quadratic.gap_term``.
    """
    n, p = W.shape
    for k in prange(n):
        s = set_of[k]
        L1 = l1[k]
        L2 = l2[k]
        cw = 0.0
        wgw = 0.0
        kappa = 1.0
        for j in range(p):
            w = np.float64(W[k, j])
            gw = np.float64(GW[k, j])
            cw += C[s, j] * w
            wgw += w * gw
            g = C[s, j] - gw
            score = max(g, 0.0) if positive else abs(g)
            l1f = L1 * f[j]
            if f[j] > 0.0 and L2 * f[j] == 0.0 and score > l1f:
                kappa = min(kappa, l1f / score)
        rnorm2 = yy[s] - 2.0 * cw + wgw
        terms = 0.0
        for j in range(p):
            w = np.float64(W[k, j])
            v = kappa * (C[s, j] - np.float64(GW[k, j]))
            if f[j] > 0.0:
                terms += _gap_term(w, v, L1 * f[j], L2 * f[j], positive)
            else:
                terms += abs(v * w)
        g = 0.5 * (1.0 - kappa) ** 2 * rnorm2 + terms
        gap[k] = g if (g > 0.0 or g != g) else 0.0  # keep NaN: never certified


class TwinOps:
    """The kernel interface of :func:`gpureg.backends._fista.solve`, on the CPU."""

    xp = np

    @staticmethod
    def fista_step(
        GY, Y, W, W_next, Y_next, C, set_of, step, l1, l2, f, t_mom, positive
    ):
        """In place: ``W_next``, ``Y_next`` and ``t_mom`` (see the kernel)."""
        with PARALLEL_LOCK:
            enet_fista_step(
                GY,
                Y,
                W,
                W_next,
                Y_next,
                C,
                set_of,
                step,
                l1,
                l2,
                f,
                t_mom,
                bool(positive),
            )

    @staticmethod
    def gap(GW, W, C, yy, set_of, l1, l2, f, positive):
        """Duality gap of every row, shape ``(n,)`` float64."""
        out = np.empty(W.shape[0])
        with PARALLEL_LOCK:
            enet_gap(GW, W, C, yy, set_of, l1, l2, f, out, bool(positive))
        return out


# ------------------------------------------------- kernels/logistic.cu


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
                w_new = _enet_prox(u, c1 * a1[j], 1.0 + c2 * b2[j], positive)
            W_next[k, j] = w_new
            w_new_t = np.float64(W_next[k, j])
            acc += (y - w_new_t) * (w_new_t - np.float64(W[k, j]))
        b_new = yb[k] + step * gb[k] if intercept else wb[k]
        acc += (yb[k] - b_new) * (b_new - wb[k])
        t_new, beta = _momentum(acc, t_mom[k])
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
            terms += _gap_term(w, v, l1a, l2b, positive)
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
