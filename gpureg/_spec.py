"""``GridSpec``: a validated grid, what every fit of one call shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the model families of ``fit_grid`` (the datafits of ``_datafit``)
FAMILIES = ("gaussian", "binomial")


@dataclass(frozen=True)
class GridSpec:
    """Everything :func:`gpureg.fit_grid` validated, passed on as one object.

    Attributes
    ----------
    folds : list of (train, test)
        Empty without cross-validation.
    sample_weight : ndarray of shape (n_samples,) or None
    penalty_factor : ndarray of shape (n_features,)
    l1_ratios : ndarray of shape (n_l1_ratios,)
    alphas : int or ndarray of shape (n_alphas,)
        A grid size (automatic grid) or the decreasing alphas themselves.
    eps : float
    fit_intercept, standardize, positive : bool
    tol : float
    max_iter : int
    dtype : numpy.dtype
        Working precision.
    backend : str
        Resolved: ``'cpu'``, ``'gpu'`` or ``'numpy'``.
    memory_limit : int or str or None
        As given to ``fit_grid`` (read by :func:`gpureg._memory.memory_budget`).
    """

    folds: list
    sample_weight: np.ndarray | None
    penalty_factor: np.ndarray
    l1_ratios: np.ndarray
    alphas: int | np.ndarray
    eps: float
    fit_intercept: bool
    standardize: bool
    positive: bool
    tol: float
    max_iter: int
    dtype: np.dtype
    backend: str
    memory_limit: int | str | None = None

    @property
    def n_sets(self) -> int:
        """Training sets: the folds' and the full data's (last)."""
        return len(self.folds) + 1


def check_family(family: str) -> str:
    """``family`` if it is one of :data:`FAMILIES`."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}.")
    return family
