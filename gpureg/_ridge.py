"""Ridge (``l1_ratio = 0``) paths in closed form: one eigendecomposition per set.

With penalty factors ``F = diag(f)`` the normal equations of one alpha are
``(G + alpha F) w = c``.  Features with ``f_j = 0`` (unpenalized, set U) are
profiled out first (Schur complement), then the penalized block P is
rescaled by ``F^{-1/2}`` so that one symmetric eigendecomposition serves the
whole alpha path::

    M = F^{-1/2} (G_PP - G_PU G_UU⁺ G_UP) F^{-1/2} = V diag(e) Vᵀ
    w_P(alpha) = F^{-1/2} V diag(1 / (e + alpha)) Vᵀ F^{-1/2} c_red
    w_U(alpha) = G_UU⁺ (c_U - G_UP w_P(alpha))

When ``n_features > n_samples`` the same solution comes from the
``n_samples × n_samples`` kernel of the weighted design instead
(``w = Aᵀ (A Aᵀ + alpha I)⁻¹ b``), never forming the p × p Gram.
"""

from __future__ import annotations

import numpy as np

from ._gram import GramBatch


def ridge_path_gram(G, c, alphas, penalty_factor, diag_mask=None):
    """Closed-form Ridge path from a Gram matrix.

    Parameters
    ----------
    G : ndarray of shape (n_features, n_features)
    c : ndarray of shape (n_features,)
    alphas : ndarray of shape (n_alphas,)
    penalty_factor : ndarray of shape (n_features,)
    diag_mask : ndarray of shape (n_features,) of bool, optional
        Features to solve for (constant columns excluded); default all.

    Returns
    -------
    ndarray of shape (n_alphas, n_features)
    """
    G = np.asarray(G, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    p = c.shape[0]
    live = np.ones(p, bool) if diag_mask is None else diag_mask
    P = np.flatnonzero(live & (penalty_factor > 0))
    U = np.flatnonzero(live & (penalty_factor == 0))
    G_PP = G[np.ix_(P, P)]
    c_red = c[P]
    if U.size:
        GUU_pinv = np.linalg.pinv(G[np.ix_(U, U)], hermitian=True)
        G_PU = G[np.ix_(P, U)]
        G_PP = G_PP - G_PU @ GUU_pinv @ G_PU.T
        c_red = c_red - G_PU @ (GUU_pinv @ c[U])
    fi = 1.0 / np.sqrt(penalty_factor[P])
    e, V = np.linalg.eigh(fi[:, None] * G_PP * fi[None, :])
    e = np.maximum(e, 0.0)
    proj = V.T @ (fi * c_red)  # (k,)
    W = np.zeros((alphas.shape[0], p))
    W[:, P] = (V @ (proj[:, None] / (e[:, None] + alphas[None, :]))).T * fi
    if U.size:
        W[:, U] = (GUU_pinv @ (c[U][:, None] - G[np.ix_(U, P)] @ W[:, P].T)).T
    return W


def ridge_path_design(A, b, alphas, penalty_factor, diag_mask=None):
    """Closed-form Ridge path from a weighted design (kernel form, p > n).

    Solves ``min_w ½‖b - A w‖² + Σ_j alpha f_j w_j² / 2`` for every alpha,
    with ``A = diag(√sw) X̃`` and ``b = √sw ỹ``.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
    b : ndarray of shape (n_samples,)
    alphas : ndarray of shape (n_alphas,)
    penalty_factor : ndarray of shape (n_features,)
    diag_mask : ndarray of shape (n_features,) of bool, optional

    Returns
    -------
    ndarray of shape (n_alphas, n_features)
    """
    p = A.shape[1]
    live = np.ones(p, bool) if diag_mask is None else diag_mask
    P = np.flatnonzero(live & (penalty_factor > 0))
    U = np.flatnonzero(live & (penalty_factor == 0))
    fi = 1.0 / np.sqrt(penalty_factor[P])
    A_P = A[:, P] * fi
    A_red, b_red = A_P, b
    if U.size:
        Q, s, _ = np.linalg.svd(A[:, U], full_matrices=False)
        Q = Q[:, s > s.max() * max(A.shape) * np.finfo(np.float64).eps]
        A_red = A_P - Q @ (Q.T @ A_P)
        b_red = b - Q @ (Q.T @ b)
    e, Uk = np.linalg.eigh(A_red @ A_red.T)
    e = np.maximum(e, 0.0)
    proj = Uk.T @ b_red
    V = A_red.T @ (Uk @ (proj[:, None] / (e[:, None] + alphas[None, :])))  # (|P|, A)
    W = np.zeros((alphas.shape[0], p))
    W[:, P] = V.T * fi
    if U.size:
        rest = b[:, None] - A_P @ V
        W[:, U] = np.linalg.lstsq(A[:, U], rest, rcond=None)[0].T
    return W


def ridge_paths(batch, alphas, penalty_factor):
    """Closed-form Ridge path for every training set of a batch.

    Parameters
    ----------
    batch : GramBatch or ResidualBatch
    alphas : ndarray of shape (n_alphas,)
    penalty_factor : ndarray of shape (n_features,)

    Returns
    -------
    ndarray of shape (n_sets, n_alphas, n_features)
        Coefficients on the solver's scale.
    """
    out = np.zeros((batch.stats.n_sets, alphas.shape[0], batch.n_features))
    for t in range(batch.stats.n_sets):
        if isinstance(batch, GramBatch):
            live = np.diag(batch.G[t]) > 0
            out[t] = ridge_path_gram(batch.G[t], batch.stats.c[t], alphas,
                                     penalty_factor, live)
        else:
            live = batch.hdiag[t] > 0
            sq = np.sqrt(batch.sw[t])
            A = batch.design(t) * sq[:, None]
            b = batch.y_centered[t] * sq
            out[t] = ridge_path_design(A, b, alphas, penalty_factor, live)
    return out
