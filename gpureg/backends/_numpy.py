"""Reference backend: plain numpy, slow, obviously right — the oracle of the tests.

Every fit of the grid is an independent problem on one flattened *problem*
axis (DESIGN.md §3); cyclic coordinate descent sweeps the features in order
and updates all problems at once.  No warm starts, no screening: each
problem starts from zero and stops after the first epoch that passes both
stages of the CPU backend's rule (scikit-learn's, tightened by
:data:`~gpureg.backends._common.DW_SAFETY`):

1. the epoch's largest coordinate change is small,
   ``max|Δw_j| <= DW_SAFETY · tol · max|w_j|`` (or ``w = 0``);
2. its duality gap certifies, ``gap <= tol · Σ s ỹ² / n_w``
   (``_penalty.fenchel_gap`` of the datafit and penalty on the exact gradient);

or at ``max_iter`` epochs.
"""

from __future__ import annotations

import numpy as np

from .._batch import GramBatch
from .._datafit import Quadratic
from .._interrupt import check_stop
from .._penalty import ElasticNetPenalty, fenchel_gap
from ._common import DW_SAFETY, PathSolution
from ._host import *  # noqa: F403 (the contract's host functions: _host.__all__)


def solve_paths(
    batch, alphas, l1_ratios, penalty_factor, *, positive, tol, max_iter, progress=None
) -> PathSolution:
    """Same contract as ``backends._numba.solve_paths``."""
    n_sets = batch.stats.n_sets
    n_l1, n_alphas = alphas.shape
    p = batch.n_features
    f = np.asarray(penalty_factor, dtype=np.float64)
    t_idx, l_idx, a_idx = (ix.ravel() for ix in np.indices((n_sets, n_l1, n_alphas)))
    n_problems = t_idx.size
    alpha = alphas[l_idx, a_idx]
    l1 = alpha * l1_ratios[l_idx]
    l2 = alpha * (1.0 - l1_ratios[l_idx])
    tol_abs = tol * batch.stats.yy[t_idx]
    datafit = Quadratic()
    penalty = ElasticNetPenalty(l1[:, None], l2[:, None], f, positive)

    w = np.zeros((n_problems, p))
    gap = np.full(n_problems, np.inf)
    n_iter = np.zeros(n_problems, dtype=np.int64)
    done = np.zeros(n_problems, dtype=bool)
    gram = isinstance(batch, GramBatch)
    if gram:
        G = np.asarray(batch.G, dtype=np.float64)  # (n_sets, p, p)
        c = batch.stats.c[t_idx]
        diag = np.einsum("kjj->kj", G)[t_idx]
        q = np.zeros((n_problems, p))  # G w
    else:
        Xt = np.stack([batch.design(t) for t in range(n_sets)])  # (n_sets, n, p)
        sw = batch.sw[t_idx]
        r = batch.y_centered[t_idx].copy()
        diag = batch.hdiag[t_idx]

    for _ in range(max_iter):
        check_stop()
        live = ~done
        d_w_max = np.zeros(n_problems)  # this epoch's largest |Δw_j| per problem
        for j in range(p):
            if gram:
                z = datafit.grad_gram(c[:, j], q[:, j]) + diag[:, j] * w[:, j]
            else:
                Xj = Xt[t_idx, :, j]  # (n_problems, n_samples)
                z = datafit.grad_design(Xj, sw, r) + diag[:, j] * w[:, j]
            new = penalty.prox_1d(z, diag[:, j], j)
            d = np.where(live, new - w[:, j], 0.0)
            np.maximum(d_w_max, np.abs(d), out=d_w_max)
            w[:, j] += d
            if gram:
                q += d[:, None] * G[t_idx, j, :]
            else:
                r -= d[:, None] * Xj
        n_iter[live] += 1
        grad, rnorm2 = _exact_grad(batch, t_idx, w)
        gap = np.where(live, fenchel_gap(datafit, penalty, w, grad, rnorm2), gap)
        w_max = np.max(np.abs(w), axis=1, initial=0.0)
        small = (w_max == 0.0) | (d_w_max <= DW_SAFETY * tol * w_max)
        done |= small & (gap <= tol_abs)
        if done.all():
            break
    shape = (n_sets, n_l1, n_alphas)
    if progress is not None:
        progress(n_sets * n_l1)
    return PathSolution(
        coef=w.reshape(*shape, p),
        dual_gap=gap.reshape(shape),
        n_iter=n_iter.reshape(shape),
    )


def _exact_grad(batch, t_idx, w):
    grad = np.empty_like(w)
    rnorm2 = np.empty(w.shape[0])
    for t in np.unique(t_idx):
        sel = t_idx == t
        grad[sel], rnorm2[sel] = batch.grad_rnorm2(t, w[sel])
    return grad, rnorm2
