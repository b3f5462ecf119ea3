"""The elastic-net penalty (numpy; skglm's ``penalties/separable.py``).

:class:`ElasticNetPenalty` is the penalty of this package's model and
:func:`duality_gap` its gap with the quadratic datafit
(:class:`~gpureg._datafit.Quadratic`).  These vectorized numpy methods are the
oracle; their numba twins are the ``enet_*`` functions of
``backends/_numba.py`` (one scalar function per method) and their CUDA twins
are inlined in ``kernels/enet_fista.cu``.

For one fit with ``l1 = alpha * l1_ratio`` and ``l2 = alpha * (1 - l1_ratio)``,
the per-coordinate penalty is ``g_j(w) = l1 f_j |w| + l2 f_j w² / 2`` (plus the
indicator of ``w >= 0`` when ``positive``).  With the normalized gradient
``grad_j = x̃_jᵀ S r / n_w`` (``r = ỹ - X̃ w``; this package's ``grad`` is the
correlation ``-∇F(w)``) and the dual point ``θ = κ r / n_w``, the Fenchel
duality gap splits into non-negative terms::

    gap = ½ (1 - κ)² ‖r‖²_S / n_w                               (datafit)
          + Σ_j [ g_j(w_j) + g_j*(κ grad_j) - κ w_j grad_j ]      (penalty)

where ``g_j*(v) = (|v| - l1 f_j)₊² / (2 l2 f_j)`` when ``l2 f_j > 0`` and the
indicator of ``|v| <= l1 f_j`` when ``l2 f_j = 0`` (pure Lasso coordinates: κ
rescales θ into that box, as scikit-learn does).  Unpenalized coordinates
(``f_j = 0``) contribute ``|w_j grad_j|`` (zero at their optimum).
"""

from __future__ import annotations

import numpy as np

from ._datafit import Quadratic


def soft_threshold(z, threshold):
    """``sign(z) * max(|z| - threshold, 0)``, elementwise."""
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)


#: Relative margin under which a soft-threshold output is rounding noise and
#: snaps to zero (see ``backends/_numba.py``).
SNAP = 8.0 * np.finfo(np.float64).eps


class ElasticNetPenalty:
    """``g(w) = Σ_j l1 f_j |w_j| + l2 f_j w_j² / 2`` (+ indicator of ``w >= 0``).

    The methods take coefficient-shaped arrays ``(..., n_features)`` and
    broadcast ``l1``, ``l2`` and ``f`` against them elementwise: pass
    ``l1[..., None]`` for a batch of fits, a float for one.  Arrays may be
    CuPy arrays (numpy ufuncs dispatch to CuPy).

    Parameters
    ----------
    l1, l2 : float or ndarray
        ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``.
    f : float or ndarray of shape (n_features,)
        Penalty factors (``f_j >= 0``; 0 = unpenalized).
    positive : bool
        Constrain the coefficients to ``w >= 0``.
    """

    def __init__(self, l1, l2, f, positive=False):
        self.l1 = l1
        self.l2 = l2
        self.f = f
        self.positive = positive
        self.l1f = l1 * f
        self.l2f = l2 * f

    def is_penalized(self):
        """``f_j > 0``: the coordinates the penalty acts on."""
        return self.f > 0

    def _value_terms(self, w):
        return self.l1f * np.abs(w) + 0.5 * self.l2f * w * w

    def value(self, w):
        """``g(w)`` summed over the last axis (the sign constraint not checked)."""
        return np.sum(self._value_terms(w), axis=-1)

    def prox_1d(self, z, diag, j=None):
        """Exact coordinate minimizer of ``½ diag w² - z w + g_j(w)``.

        Parameters
        ----------
        z : ndarray
            ``grad_j + diag_j w_j`` (the partial residual correlation).
        diag : ndarray
            ``G_jj`` (0 for constant columns, whose coefficient stays 0).
        j : int or None
            The coordinate ``z`` belongs to (index of the last axis of
            ``l1 * f``); None when ``z`` spans every coordinate.

        Returns
        -------
        ndarray
            The new coordinate values.  Outputs within :data:`SNAP` of the
            threshold snap to zero.
        """
        l1f = self.l1f if j is None else self.l1f[..., j]
        l2f = self.l2f if j is None else self.l2f[..., j]
        num = np.maximum(z - l1f, 0.0) if self.positive else soft_threshold(z, l1f)
        num = np.where(np.abs(z) <= l1f * (1.0 + SNAP), 0.0, num)
        denom = diag + l2f
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)

    def subdiff_distance(self, w, grad):
        """Per-coordinate KKT violation ``dist(grad_j, ∂g_j(w_j))``.

        ``grad = -∇F(w)`` (the correlation); 0 exactly where ``w_j`` is
        optimal given the other coordinates, ``inf`` for a negative ``w_j``
        under ``positive``.
        """
        score = np.maximum(grad, 0.0) if self.positive else np.abs(grad)
        at_zero = np.maximum(score - self.l1f, 0.0)
        away = np.abs(grad - np.sign(w) * self.l1f - self.l2f * w)
        dist = np.where(w == 0, at_zero, away)
        if self.positive:
            dist = np.where(w < 0, np.inf, dist)
        return dist

    def alpha_max(self, grad0):
        """Smallest ``l1`` at which ``w = 0`` is optimal: ``max_j score_j / f_j``.

        ``grad0`` is the correlation at ``w = 0`` (``c``); ``score = |grad0|``
        (``max(grad0, 0)`` when positive) over penalized features (0 if there
        are none).  Independent of ``l2``; divide by ``l1_ratio`` for the
        elastic net's ``alpha`` (``_alphas.alpha_max``).
        """
        pen = self.is_penalized()
        g = grad0[..., pen]
        score = np.maximum(g, 0.0) if self.positive else np.abs(g)
        return np.max(score / self.f[pen], axis=-1, initial=0.0)

    def dual_scaling(self, grad):
        """``κ = max{t <= 1 : t·grad ∈ dom g*}`` over the last axis.

        Only pure-Lasso coordinates (``l2 f_j = 0 < f_j``) bound it:
        ``κ = min(1, min_j l1 f_j / score_j)`` (scikit-learn's rescaling).
        """
        score = np.maximum(grad, 0.0) if self.positive else np.abs(grad)
        lasso_coord = self.is_penalized() & (self.l2f == 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(lasso_coord & (score > self.l1f), self.l1f / score, 1.0)
        return np.min(ratio, axis=-1, initial=1.0)

    def conjugate(self, v):
        """Per-coordinate ``g_j*(v_j) = (|v_j| - l1 f_j)₊² / (2 l2 f_j)``.

        0 where ``l2 f_j = 0``: there ``g_j*`` is the indicator of
        ``|v| <= l1 f_j``, which :meth:`dual_scaling` enforces (up to
        rounding, ignored).  ``max(v, 0)`` replaces ``|v|`` when positive.
        """
        vs = np.maximum(v, 0.0) if self.positive else np.abs(v)
        excess = np.maximum(vs - self.l1f, 0.0)
        l2f = self.l2f
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(l2f > 0, excess**2 / (2.0 * np.where(l2f > 0, l2f, 1)), 0.0)

    def gap_terms(self, w, v):
        """Per-coordinate Fenchel–Young gap ``g_j(w_j) + g_j*(v_j) - v_j w_j``.

        ``|v_j w_j|`` for unpenalized coordinates (``g_j* `` is the indicator
        of ``v_j = 0``, which holds at their optimum).
        """
        return np.where(
            self.is_penalized(),
            self._value_terms(w) + self.conjugate(v) - v * w,
            np.abs(v * w),
        )


def prox_update(z, diag, l1, l2, f, positive):
    """:meth:`ElasticNetPenalty.prox_1d` with elementwise ``l1, l2, f``."""
    return ElasticNetPenalty(l1, l2, f, positive).prox_1d(z, diag)


def penalty_value(w, l1, l2, f):
    """``Σ_j l1 f_j |w_j| + l2 f_j w_j² / 2`` over the last axis."""
    return ElasticNetPenalty(l1, l2, f).value(w)


def fenchel_gap(datafit, penalty, w, grad, state):
    """Duality gap of ``datafit + penalty``: the sum of their Fenchel–Young gaps.

    ``κ = penalty.dual_scaling(grad)`` makes ``θ = κ r / n_w`` dual feasible;
    the gap is ``datafit.gap_term(state, κ) + Σ_j penalty.gap_terms(w, κ grad)``,
    clipped at 0 (every term is >= 0; the clip removes rounding).  ``state``
    is what the datafit's term needs: ``rnorm2`` for :class:`Quadratic`,
    ``(y, z, sw)`` for :class:`~gpureg._datafit.Logistic`.
    """
    kappa = penalty.dual_scaling(grad)
    v = kappa[..., None] * grad
    gap = datafit.gap_term(state, kappa) + penalty.gap_terms(w, v).sum(axis=-1)
    return np.maximum(gap, 0.0)


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
    penalty = ElasticNetPenalty(l1, l2, f, positive)
    return fenchel_gap(Quadratic(), penalty, w, grad, rnorm2)
