"""Datafits: the smooth part of the objective (numpy; skglm's ``datafits``).

The quadratic datafit (Gaussian family) and the logistic one (binomial
family).  A datafit is seen through the two
quantities every backend already has at hand: the *correlation*
``grad = -∇F(w)`` (this package's sign convention: ``X̃ᵀ S r / n_w`` for the
quadratic) and, for the quadratic, ``rnorm2 = ‖r‖²_S / n_w``.  Its numba
twins are the ``quadratic_*`` functions of ``backends/_numba.py``; the CUDA
kernels (``kernels/enet_fista.cu``) inline the same formulas.

The duality gap of ``F + g`` at the dual point ``θ = κ r / n_w`` splits into
the Fenchel–Young gaps of its two parts (``_penalty.duality_gap``)::

    gap = Quadratic.gap_term(rnorm2, κ) + Σ_j ElasticNetPenalty.gap_terms(w, κ grad)
"""

from __future__ import annotations

import numpy as np


class Quadratic:
    r"""``F(w) = 1/(2 n_w) Σ_i s_i (ỹ_i - x̃_iᵀ w)²`` (centered, scaled data).

    With ``r = ỹ - X̃ w``, ``rnorm2 = rᵀ S r / n_w`` and ``G = X̃ᵀ S X̃ / n_w``,
    ``c = X̃ᵀ S ỹ / n_w``, ``yy = ỹᵀ S ỹ / n_w``.  Every method is
    elementwise or reduces the last axis, so it is batched over leading axes.
    """

    def value(self, rnorm2):
        """``F(w) = rnorm2 / 2``."""
        return 0.5 * rnorm2

    def grad_gram(self, c, q):
        """``grad = -∇F(w) = c - G w`` in Gram form, from ``q = G w``."""
        return c - q

    def grad_design(self, x, sw, r):
        """``grad_j = Σ_i x̃_ij s_i r_i / n_w`` over the last axis.

        ``x`` holds one column ``x̃_j`` (per problem) and ``sw`` the weights
        already divided by ``n_w``.
        """
        return np.sum(x * sw * r, axis=-1)

    def gap_term(self, rnorm2, kappa):
        """The datafit's part of the duality gap at the dual point ``θ = κ r / n_w``.

        Its Fenchel–Young gap ``F(X̃w) + F*(-Sθ) + θᵀ S X̃ w``, which is
        ``½ (1 - κ)² ‖r‖²_S / n_w`` (0 iff ``κ = 1`` or ``r = 0``).
        """
        return 0.5 * (1.0 - kappa) ** 2 * rnorm2


def _log1pexp(z):
    """``log(1 + e^z)`` without overflow."""
    return np.logaddexp(0.0, z)


def _xlogx(t):
    """``t log t`` with ``0 log 0 = 0``."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)


class Logistic:
    r"""``F(z) = Σ_i sw_i [log(1 + e^{z_i}) - y_i z_i]``, ``y_i ∈ {0, 1}``.

    ``sw = s / n_w`` (the training weights normalized to sum to 1).  The
    numpy oracle of ``backends/_numba_binomial.py``.  Every method reduces
    the last axis (the samples), so it is batched over leading axes.

    Its conjugate is the binary entropy: with the residual ``r = y - σ(z)``
    and the dual point ``θ = κ sw r`` (``κ ∈ [0, 1]``, feasible since
    ``y - κ r ∈ [0, 1]``), the Fenchel–Young gap of the datafit is
    ``Σ_i sw_i [ℓ(y_i, z_i) + h(y_i - κ r_i) + κ r_i z_i]`` with
    ``h(t) = t log t + (1 - t) log(1 - t)``: 0 at ``κ = 1``.
    """

    def value(self, y, z, sw):
        """``F(z)``: the weighted mean log-loss."""
        return np.sum(sw * (_log1pexp(z) - y * z), axis=-1)

    def residual(self, y, z):
        """``r = y - σ(z)``, accurate for either label (``-∇F = X̃ᵀ (sw r)``)."""
        return np.where(y > 0.5, _sigmoid(-z), -_sigmoid(z))

    def null_intercept(self, y, sw):
        """Intercept of the null model: ``logit(Σ sw y)`` (``Σ sw = 1``)."""
        mean = float(np.sum(sw * y))
        return float(np.log(mean) - np.log1p(-mean))

    def gap_term(self, state, kappa):
        """The datafit's part of the duality gap; ``state = (y, z, sw)``."""
        y, z, sw = state
        kr = np.asarray(kappa)[..., None] * self.residual(y, z)
        # t = y - κ r and 1 - t, each without cancellation for either label
        h = np.where(
            y > 0.5, _xlogx(1.0 - kr) + _xlogx(kr), _xlogx(-kr) + _xlogx(1.0 + kr)
        )
        loss = np.where(y > 0.5, _log1pexp(-z), _log1pexp(z))
        return np.sum(sw * (loss + h + kr * z), axis=-1)


def _sigmoid(z):
    """``1 / (1 + e^{-z})`` without overflow."""
    return np.exp(-_log1pexp(-np.asarray(z, dtype=np.float64)))
