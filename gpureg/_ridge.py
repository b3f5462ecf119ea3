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

from ._batch import GramBatch
from ._interrupt import check_stop
from .backends import stacked_eigh


def _inverse_shifted(e, alphas):
    """``1 / (e + alpha)`` for every eigenvalue and alpha, 0 where it is singular.

    Zeroing directions whose ``e + alpha`` is at rounding level makes
    ``alpha = 0`` the minimum-norm least-squares solution (a pseudo-inverse).

    Parameters
    ----------
    e : ndarray of shape (k,)
        Non-negative eigenvalues.
    alphas : ndarray of shape (n_alphas,)

    Returns
    -------
    ndarray of shape (k, n_alphas)
    """
    shifted = e[:, None] + alphas[None, :]
    cutoff = (
        max(float(e.max(initial=0.0)), 0.0) * max(e.size, 1) * np.finfo(np.float64).eps
    )
    out = np.zeros_like(shifted)
    np.divide(1.0, shifted, out=out, where=shifted > cutoff)
    return out


def _split_features(penalty_factor, live):
    """Indices of the penalized (P) and unpenalized (U) live features."""
    return (
        np.flatnonzero(live & (penalty_factor > 0)),
        np.flatnonzero(live & (penalty_factor == 0)),
    )


def _profile_design(A, b, penalty_factor, live):
    """Project the unpenalized columns out of a weighted design.

    Returns
    -------
    P, U : ndarray of int
        Penalized and unpenalized live features.
    fi : ndarray of shape (len(P),)
        ``1 / sqrt(f_P)``.
    A_P : ndarray of shape (n_samples, len(P))
        ``A[:, P] / sqrt(f_P)``.
    Q : ndarray of shape (n_samples, rank(A_U))
        Orthonormal basis of ``A[:, U]``'s columns (no columns when U is empty).
    A_red, b_red : ndarray
        ``(I - Q Qᵀ) A_P`` and ``(I - Q Qᵀ) b``.
    """
    P, U = _split_features(penalty_factor, live)
    fi = 1.0 / np.sqrt(penalty_factor[P])
    A_P = A[:, P] * fi
    Q = np.zeros((A.shape[0], 0))
    A_red, b_red = A_P, b
    if U.size:
        Q, s, _ = np.linalg.svd(A[:, U], full_matrices=False)
        Q = Q[:, s > s.max() * max(A.shape) * np.finfo(np.float64).eps]
        A_red = A_P - Q @ (Q.T @ A_P)
        b_red = b - Q @ (Q.T @ b)
    return P, U, fi, A_P, Q, A_red, b_red


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
    P, U = _split_features(penalty_factor, live)
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
    W[:, P] = (V @ (proj[:, None] * _inverse_shifted(e, alphas))).T * fi
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
    alphas, penalty_factor, diag_mask
        As in :func:`ridge_path_gram`.

    Returns
    -------
    ndarray of shape (n_alphas, n_features)
    """
    p = A.shape[1]
    live = np.ones(p, bool) if diag_mask is None else diag_mask
    P, U, fi, A_P, _, A_red, b_red = _profile_design(A, b, penalty_factor, live)
    e, Uk = np.linalg.eigh(A_red @ A_red.T)
    e = np.maximum(e, 0.0)
    proj = Uk.T @ b_red
    V = A_red.T @ (Uk @ (proj[:, None] * _inverse_shifted(e, alphas)))  # (|P|, A)
    W = np.zeros((alphas.shape[0], p))
    W[:, P] = V.T * fi
    if U.size:
        rest = b[:, None] - A_P @ V
        W[:, U] = np.linalg.lstsq(A[:, U], rest, rcond=None)[0].T
    return W


def ridge_loo(A, b, alphas, penalty_factor, diag_mask=None):
    """Closed-form Ridge path and the diagonal of its hat matrix.

    For ``min_w ½‖b - A w‖² + Σ_j alpha f_j w_j² / 2`` the fitted values are
    ``H(alpha) b`` with ``H = Q Qᵀ + A_red (A_redᵀ A_red + alpha I)⁻¹ A_redᵀ``
    (unpenalized columns projected out by ``Q Qᵀ``), so the leave-one-out
    residual of row i is ``r_i / (1 - H_ii)``.  One eigendecomposition of
    the smaller of ``A_redᵀ A_red`` and ``A_red A_redᵀ`` serves every alpha:
    with ``B`` such that ``A_red (A_redᵀ A_red + alpha I)⁻¹ A_redᵀ =
    B diag(1 / (e + alpha)) Bᵀ``, ``H_ii = Σ_k B_ik² / (e_k + alpha)``.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_features)
        ``diag(√sw) X̃``.
    b : ndarray of shape (n_samples,)
        ``√sw ỹ``.
    alphas : ndarray of shape (n_alphas,)
    penalty_factor : ndarray of shape (n_features,)
    diag_mask : ndarray of shape (n_features,) of bool, optional

    Returns
    -------
    coef : ndarray of shape (n_alphas, n_features)
    hat_diag : ndarray of shape (n_alphas, n_samples)
        ``H_ii`` without the intercept's share (add ``sw_i`` for it).
    """
    n, p = A.shape
    live = np.ones(p, bool) if diag_mask is None else diag_mask
    P, U, fi, A_P, Q, A_red, b_red = _profile_design(A, b, penalty_factor, live)
    if n >= P.size:  # covariance side: A_redᵀ A_red = V diag(e) Vᵀ, B = A_red V
        e, V = np.linalg.eigh(A_red.T @ A_red)
        e = np.maximum(e, 0.0)
        B = A_red @ V
        inv = _inverse_shifted(e, alphas)
        W_P = V @ ((B.T @ b_red)[:, None] * inv)  # (|P|, A)
    else:  # kernel side: A_red A_redᵀ = Uk diag(e) Ukᵀ, B = Uk √e
        e, Uk = np.linalg.eigh(A_red @ A_red.T)
        e = np.maximum(e, 0.0)
        B = Uk * np.sqrt(e)
        inv = _inverse_shifted(e, alphas)
        W_P = A_red.T @ (Uk @ ((Uk.T @ b_red)[:, None] * inv))
    hat = (B * B) @ inv  # (n, A)
    W = np.zeros((alphas.shape[0], p))
    W[:, P] = W_P.T * fi
    if U.size:
        rest = b[:, None] - A_P @ W_P
        W[:, U] = np.linalg.lstsq(A[:, U], rest, rcond=None)[0].T
    return W, hat.T + np.sum(Q * Q, axis=1)


def ridge_paths_gram_batched(batch, alphas, penalty_factor):
    """Closed-form Ridge paths of every training set from one batched ``eigh``.

    For penalty factors that are all positive: ``M_t = F^{-1/2} G_t F^{-1/2} =
    V_t diag(e_t) V_tᵀ`` for all sets at once (``cupy.linalg.eigh`` on the
    device when the Gram matrices live there), then
    ``w_t(alpha) = F^{-1/2} V_t diag(1 / (e_t + alpha)) V_tᵀ F^{-1/2} c_t``.
    Constant columns have zero Gram rows and ``c_j = 0``, so they stay 0.

    Parameters
    ----------
    batch : GramBatch
    alphas : ndarray of shape (n_sets, n_alphas)
    penalty_factor : ndarray of shape (n_features,)
        All > 0.

    Returns
    -------
    ndarray of shape (n_sets, n_alphas, n_features)
        numpy, on the solver's scale.
    """
    xp = batch.xp
    p = batch.n_features
    fi_h = 1.0 / np.sqrt(penalty_factor)
    fi = xp.asarray(fi_h)
    M = batch.G.astype(np.float64) * fi[None, :, None] * fi[None, None, :]
    e, V = stacked_eigh(xp, M)
    e = xp.maximum(e, 0.0)
    proj = xp.einsum("tji,tj->ti", V, xp.asarray(batch.stats.c * fi_h))  # Vᵀ F^-½ c
    shifted = e[:, :, None] + xp.asarray(alphas)[:, None, :]  # (T, p, A)
    cutoff = e.max(axis=1)[:, None, None] * p * np.finfo(np.float64).eps
    ok = shifted > cutoff  # 0 for singular directions: a pseudo-inverse at alpha=0
    inv = ok / xp.where(ok, shifted, 1.0)
    W = xp.matmul(V, proj[:, :, None] * inv)  # (T, p, A)
    W = xp.transpose(W, (0, 2, 1)) * fi
    return W if xp is np else xp.asnumpy(W)


def ridge_paths(batch, alphas, penalty_factor, progress=None):
    """Closed-form Ridge path for every training set of a batch.

    Parameters
    ----------
    batch : GramBatch or ResidualBatch
    alphas : ndarray of shape (n_alphas,) or (n_sets, n_alphas)
        The same alphas for every training set, or one row per set.
    penalty_factor : ndarray of shape (n_features,)
    progress : callable, optional
        Called with 1 after each training set.

    Returns
    -------
    ndarray of shape (n_sets, n_alphas, n_features)
        Coefficients on the solver's scale.
    """
    n_sets = batch.stats.n_sets
    alphas = np.broadcast_to(alphas, (n_sets, np.shape(alphas)[-1]))
    if isinstance(batch, GramBatch) and np.all(penalty_factor > 0):
        out = ridge_paths_gram_batched(batch, alphas, penalty_factor)
        if progress is not None:
            progress(n_sets)
        return out
    out = np.zeros((n_sets, alphas.shape[1], batch.n_features))
    G_host = batch.G if isinstance(batch, GramBatch) and batch.xp is np else None
    for t in range(n_sets):
        check_stop()
        if isinstance(batch, GramBatch):
            # unpenalized features: the Schur complement, one set at a time
            G_t = G_host[t] if G_host is not None else batch.xp.asnumpy(batch.G[t])
            live = np.diag(G_t) > 0
            out[t] = ridge_path_gram(
                G_t, batch.stats.c[t], alphas[t], penalty_factor, live
            )
        else:
            live = batch.hdiag[t] > 0
            sq = np.sqrt(batch.sw[t])
            A = batch.design(t) * sq[:, None]
            b = batch.y_centered[t] * sq
            out[t] = ridge_path_design(A, b, alphas[t], penalty_factor, live)
        if progress is not None:
            progress(1)
    return out
