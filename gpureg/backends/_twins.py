"""CPU twins (numba) of the CUDA kernels in ``kernels/enet_fista.cu``.

Each function takes the kernel's arguments in the kernel's order and computes
the same thing, row by row where the kernel runs one block per row, with the
same float64 arithmetic: it is what the GPU engine runs when driven with
numpy (tests), and the reference the CUDA code is read against.
:class:`TwinOps` bundles them behind the interface ``_fista.solve`` expects.

The twins restate the penalty's and datafit's formulas (``_penalty``'s
``ElasticNetPenalty``, ``_datafit.Quadratic``) where the kernels do, rather
than calling the ``enet_*`` / ``quadratic_*`` functions of ``_numba``: they
are the kernels' line-by-line reference, and numba's cache does not notice
changes to a jitted function of another module, so a cached twin calling one
would keep running its old compiled copy.  ``tests/test_vocabulary.py``
checks that the twins agree with the vocabulary.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._common import PARALLEL_LOCK


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
                thr = a1 * f[j]
                num = 0.0
                if z > thr:
                    num = z - thr
                elif z < -thr and not positive:
                    num = z + thr
                w_new = num / (1.0 + a2 * f[j])
            else:
                w_new = 0.0 if (positive and z < 0.0) else z
            W_next[k, j] = w_new
            w_new_t = np.float64(W_next[k, j])
            acc += (y - w_new_t) * (w_new_t - np.float64(W[k, j]))
        t = t_mom[k]
        restart = acc > 0.0
        t_new = 1.0 if restart else 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = 0.0 if restart else (t - 1.0) / t_new
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
                l1f = L1 * f[j]
                l2f = L2 * f[j]
                vs = max(v, 0.0) if positive else abs(v)
                excess = max(vs - l1f, 0.0)
                conj = excess * excess / (2.0 * l2f) if l2f > 0.0 else 0.0
                terms += l1f * abs(w) + 0.5 * l2f * w * w + conj - v * w
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
