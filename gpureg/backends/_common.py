"""What every backend returns, and how jobs are cut into chunks."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

#: Held around every call of a ``parallel=True`` numba function (the dropout
#: and twin kernels, the binomial solver; the Gaussian solver has none, see
#: ``_numba``): numba's
#: "workqueue" threading layer (what an install without TBB or OpenMP gets)
#: aborts the whole process when two Python threads enter parallel regions at
#: once.  Concurrent ``fit_grid`` calls are therefore safe whatever the layer;
#: their parallel regions take turns (each already uses every core).
PARALLEL_LOCK = threading.RLock()

#: Safety factor of the first stopping stage of coordinate descent.  A fit's
#: duality gap is only trusted once the last epoch's largest coordinate change
#: satisfies ``max|Δw_j| <= DW_SAFETY · tol · max|w_j|`` (or every ``w_j`` is
#: 0); the fit then stops when, in addition, ``gap <= tol · Σ s ỹ² / n_w``.
#: This is scikit-learn's two-stage rule (its first stage is
#: ``max|Δw| <= tol · max|w|``) tightened 10× so that, at equal ``tol``,
#: gpureg's fits are at least as accurate as scikit-learn's (docs/accuracy.md,
#: tests/test_accuracy_contract.py).  The gap alone stops at the edge of the
#: certified region, far less accurate than scikit-learn at the same tol.
DW_SAFETY = 0.1


@dataclass
class PathSolution:
    """Raw solver output on the solver's (centered, scaled) coordinates.

    Attributes
    ----------
    coef : ndarray of shape (n_sets, n_l1_ratios, n_alphas, n_features)
    dual_gap : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
    n_iter : ndarray of shape (n_sets, n_l1_ratios, n_alphas)
    """

    coef: np.ndarray
    dual_gap: np.ndarray
    n_iter: np.ndarray

    @classmethod
    def empty(cls, n_sets, n_l1, n_alphas, n_features):
        """Zero-initialized output arrays."""
        return cls(
            coef=np.zeros((n_sets, n_l1, n_alphas, n_features)),
            dual_gap=np.full((n_sets, n_l1, n_alphas), np.inf),
            n_iter=np.zeros((n_sets, n_l1, n_alphas), dtype=np.int64),
        )
