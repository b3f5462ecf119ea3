"""The elastic-net penalty: value, proximal step, conjugate and duality gap (numpy).

These vectorized numpy functions are the oracle; ``backends/_numba.py`` holds
their scalar CPU twins and ``kernels/*.cu`` (GPU backend) their CUDA twins.

For one fit with ``l1 = alpha * l1_ratio`` and ``l2 = alpha * (1 - l1_ratio)``,
the per-coordinate penalty is ``g_j(w) = l1 f_j |w| + l2 f_j w² / 2`` (plus the
indicator of ``w >= 0`` when ``positive``).  With the normalized gradient
``grad_j = x̃_jᵀ S r / n_w`` (``r = ỹ - X̃ w``) and the dual point
``θ = κ r / n_w``, the Fenchel duality gap splits into non-negative terms::

    gap = ½ (1 - κ)² ‖r‖²_S / n_w
          + Σ_j [ g_j(w_j) + g_j*(κ grad_j) - κ w_j grad_j ]

where ``g_j*(v) = (|v| - l1 f_j)₊² / (2 l2 f_j)`` when ``l2 f_j > 0`` and the
indicator of ``|v| <= l1 f_j`` when ``l2 f_j = 0`` (pure Lasso coordinates: κ
rescales θ into that box, as scikit-learn does).  Unpenalized coordinates
(``f_j = 0``) contribute ``|w_j grad_j|`` (zero at their optimum).
"""

from __future__ import annotations

import numpy as np


def soft_threshold(z, threshold):
    """``sign(z) * max(|z| - threshold, 0)``, elementwise."""
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)


#: Relative margin under which a soft-threshold output is rounding noise and
#: snaps to zero (see ``backends/_numba.py``).
SNAP = 8.0 * np.finfo(np.float64).eps


def prox_update(z, diag, l1, l2, f, positive):
    """Exact coordinate minimizer of ``½ diag w² - z w + g(w)``.

    Parameters
    ----------
    z : ndarray
        ``grad_j + diag_j w_j`` (the partial residual correlation).
    diag : ndarray
        ``G_jj`` (0 for constant columns, whose coefficient stays 0).
    l1, l2 : float or ndarray
        ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``.
    f : ndarray
        Penalty factors of the coordinates.
    positive : bool

    Returns
    -------
    ndarray
        The new coordinate values.
    """
    num = np.maximum(z - l1 * f, 0.0) if positive else soft_threshold(z, l1 * f)
    num = np.where(np.abs(z) <= l1 * f * (1.0 + SNAP), 0.0, num)
    denom = diag + l2 * f
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)


def penalty_value(w, l1, l2, f):
    """``Σ_j l1 f_j |w_j| + l2 f_j w_j² / 2`` over the last axis."""
    return np.sum(l1 * f * np.abs(w) + 0.5 * l2 * f * w * w, axis=-1)


def duality_gap(w, grad, rnorm2, l1, l2, f, positive):
    """Duality gap of elastic-net fits, batched over leading axes.

    Parameters
    ----------
    w : ndarray of shape (..., n_features)
        Coefficients on the solver's (centered, scaled) scale.
    grad : ndarray of shape (..., n_features)
        ``X̃ᵀ S r / n_w`` at ``w``.
    rnorm2 : ndarray of shape (...)
        ``rᵀ S r / n_w``.
    l1, l2 : ndarray of shape (...)
        ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``.
    f : ndarray of shape (n_features,)
    positive : bool

    Returns
    -------
    ndarray of shape (...)
        The gap, an upper bound on ``P(w) - P(w*)`` (up to unpenalized terms).
    """
    l1 = np.asarray(l1, dtype=np.float64)[..., None]
    l2 = np.asarray(l2, dtype=np.float64)[..., None]
    pen = f > 0
    score = np.maximum(grad, 0.0) if positive else np.abs(grad)
    lasso_coord = pen & (l2 * f == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lasso_coord & (score > l1 * f), l1 * f / score, 1.0)
    kappa = np.min(ratio, axis=-1, initial=1.0)
    v = kappa[..., None] * grad
    vs = np.maximum(v, 0.0) if positive else np.abs(v)
    excess = np.maximum(vs - l1 * f, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        conj = np.where(
            l2 * f > 0, excess**2 / (2.0 * np.where(l2 * f > 0, l2 * f, 1)), 0.0
        )
    terms = np.where(
        pen,
        l1 * f * np.abs(w) + 0.5 * l2 * f * w * w + conj - v * w,
        np.abs(v * w),
    )
    gap = 0.5 * (1.0 - kappa) ** 2 * rnorm2 + terms.sum(axis=-1)
    return np.maximum(gap, 0.0)  # every term is >= 0; clip rounding below zero
