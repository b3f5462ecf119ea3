"""The alpha grid: ``alpha_max`` and log-spaced paths (scikit-learn's convention)."""

from __future__ import annotations

import numpy as np

from ._penalty import ElasticNetPenalty

#: l1_ratio used to place the top of an automatic grid when l1_ratio is 0 (Ridge),
#: where alpha_max is infinite.  glmnet uses the same floor.
RIDGE_GRID_L1_RATIO = 1e-3


def alpha_max(
    c: np.ndarray, l1_ratio: float, penalty_factor: np.ndarray, positive: bool = False
) -> float:
    """Smallest alpha at which every penalized coefficient is zero.

    Parameters
    ----------
    c : ndarray of shape (n_features,)
        ``X̃ᵀ S ỹ / n_w`` on the (centered, optionally standardized) full data.
    l1_ratio : float
        In (0, 1]; a value of 0 is replaced by :data:`RIDGE_GRID_L1_RATIO`.
    penalty_factor : ndarray of shape (n_features,)
        Features with factor 0 are unpenalized and do not enter the maximum.
    positive : bool
        With non-negative coefficients only positive correlations count.

    Returns
    -------
    float
        ``max_j |c_j| / (l1_ratio * f_j)`` over penalized features.
    """
    rho = max(float(l1_ratio), RIDGE_GRID_L1_RATIO)
    pen = penalty_factor > 0
    if not pen.any():
        raise ValueError(
            "penalty_factor is zero for every feature, so there is no alpha_max; "
            "pass an explicit array of alphas."
        )
    # the penalty's l1 at which w = 0 (independent of l2), per unit l1_ratio
    penalty = ElasticNetPenalty(1.0, 0.0, penalty_factor, positive)
    return float(penalty.alpha_max(c) / rho)


def alpha_grid(a_max: float, n_alphas: int, eps: float) -> np.ndarray:
    """``n_alphas`` values log-spaced from ``a_max`` down to ``eps * a_max``.

    Mirrors scikit-learn's ``_alpha_grid``: a degenerate ``a_max`` (a constant
    target) gives a flat grid at float64 resolution.

    Returns
    -------
    ndarray of shape (n_alphas,)
        Descending.
    """
    if a_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(a_max, a_max * eps, num=n_alphas)


def alpha_paths(c_full, l1_ratios, alphas, eps, penalty_factor, positive):
    """The alpha path of every l1_ratio, shape ``(n_l1_ratios, n_alphas)``.

    ``c_full`` is :func:`alpha_max`'s ``c`` on the full data.  ``alphas``
    an int: that many alphas from each l1_ratio's ``alpha_max`` down to
    ``eps`` times it; an array: the same alphas for every row.
    """
    if not isinstance(alphas, int):
        return np.tile(alphas, (l1_ratios.size, 1))
    return np.stack(
        [
            alpha_grid(alpha_max(c_full, rho, penalty_factor, positive), alphas, eps)
            for rho in l1_ratios
        ]
    )
