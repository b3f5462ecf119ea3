"""Datafits: the smooth part of the objective (numpy; skglm's ``datafits``).

Only the quadratic datafit exists today.  A datafit is seen through the two
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
