"""Cross-validated Ridge paths in closed form (the engine of ``RidgeCV``).

scikit-learn's ``RidgeCV`` objective is ``Σ_i s_i (y_i - b - x_iᵀw)² + alpha
Σ_j f_j w_j²``: gpureg's with ``l1_ratio = 0`` and ``alpha / n_w`` of each
training set (``n_w = Σ s_i`` over its rows).  Two ways to score the alphas:

* **leave-one-out** (``cv=None``): one eigendecomposition of the full data
  gives every alpha's fit and hat-matrix diagonal, and the LOO residual of
  row i is ``(y_i - ŷ_i) / (1 - H_ii)`` (exact, intercept included);
* **K-fold**: the batched training sets of :mod:`gpureg._gram` (fold Grams
  as the full Gram minus each held-out block), one closed-form path each,
  with each set's alphas divided by its own ``n_w``.

The alphas keep the caller's order (no sorting), as scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fit import to_original_scale
from ._gram import build_gram_batch, build_residual_batch, training_weights
from ._interrupt import interruptible
from ._memory import choose_mode, gram_bytes, require
from ._ridge import ridge_loo, ridge_paths


@dataclass
class RidgeCVPath:
    """Every alpha's full-data fit and its cross-validation scores.

    Attributes
    ----------
    coef : ndarray of shape (n_alphas, n_features)
        Full-data coefficients on X's scale (float64).
    intercept : ndarray of shape (n_alphas,)
    loo_residual : ndarray of shape (n_alphas, n_samples) or None
        Leave-one-out residuals ``y_i - ŷ_{-i}`` (LOO only).
    fold_coef : ndarray of shape (n_folds, n_alphas, n_features) or None
        Each fold's fits on X's scale (K-fold only).
    fold_intercept : ndarray of shape (n_folds, n_alphas) or None
    """

    coef: np.ndarray
    intercept: np.ndarray
    loo_residual: np.ndarray | None = None
    fold_coef: np.ndarray | None = None
    fold_intercept: np.ndarray | None = None

    def predict_fold(self, k, X_test):
        """Predictions of fold ``k``'s fits.

        Parameters
        ----------
        k : int
        X_test : ndarray of shape (n_test, n_features)

        Returns
        -------
        ndarray of shape (n_test, n_alphas)
        """
        return (
            np.asarray(X_test, dtype=np.float64) @ self.fold_coef[k].T
            + self.fold_intercept[k]
        )


@interruptible
def ridge_loo_path(
    X, y, alphas, *, sample_weight, penalty_factor, fit_intercept, standardize
) -> RidgeCVPath:
    """Full-data Ridge path with exact leave-one-out residuals.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alphas : ndarray of shape (n_alphas,)
        scikit-learn's scale (``Σ s r² + alpha Σ f w²``), all > 0.
    sample_weight : ndarray of shape (n_samples,) or None
    penalty_factor : ndarray of shape (n_features,)
    fit_intercept, standardize : bool
        With ``standardize`` the column scales are the full data's and are
        not re-estimated without each left-out row.

    Returns
    -------
    RidgeCVPath
    """
    n, p = X.shape
    # the design and its copies, the path on two scales, the hat diagonals,
    # residuals and LOO residuals (measured peaks: 0.9 × this)
    require(
        4 * n * p * 8 + alphas.size * (3 * p + 4 * n) * 8 + 8 * min(n, p) ** 2 * 8,
        "this leave-one-out Ridge path",
    )
    W = training_weights(n, [], sample_weight)
    batch = build_residual_batch(
        X, y, W, fit_intercept=fit_intercept, standardize=standardize, dtype=np.float64
    )
    stats = batch.stats
    Xt = batch.design(0)
    sw = batch.sw[0]  # s_i / n_w
    root = np.sqrt(sw)
    y_c = batch.y_centered[0]
    coef_s, hat = ridge_loo(
        Xt * root[:, None],
        y_c * root,
        alphas / stats.n_weight[0],
        penalty_factor,
        batch.hdiag[0] > 0,
    )
    if fit_intercept:
        hat = hat + sw  # the intercept's column √sw / ‖√sw‖ is orthogonal
    residual = y_c[None, :] - coef_s @ Xt.T
    # 1 - H_ii is 0 only for a row the unpenalized part interpolates exactly
    loo = residual / np.maximum(1.0 - hat, np.finfo(np.float64).eps)
    coef, intercept = to_original_scale(coef_s[None, None], stats)
    return RidgeCVPath(coef=coef[0, 0], intercept=intercept[0, 0], loo_residual=loo)


@interruptible
def ridge_kfold_path(
    X,
    y,
    alphas,
    folds,
    *,
    sample_weight,
    penalty_factor,
    fit_intercept,
    standardize,
    progress=None,
) -> RidgeCVPath:
    """Ridge paths of every fold and of the full data, batched.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    alphas : ndarray of shape (n_alphas,)
        scikit-learn's scale, all >= 0 (0 is the minimum-norm least squares).
    folds : list of (train, test)
    sample_weight : ndarray of shape (n_samples,) or None
    penalty_factor : ndarray of shape (n_features,)
    fit_intercept, standardize : bool
    progress : callable, optional
        Called with 1 after each training set.

    Returns
    -------
    RidgeCVPath
    """
    n_samples, n_features = X.shape
    W = training_weights(n_samples, folds, sample_weight)
    n_sets = W.shape[0]
    mode = choose_mode(n_samples, n_features, n_sets, 8)
    # every set's path (solver scale, original scale, the eigenbasis product),
    # the held-out predictions, and the Grams or X's copies (measured peaks:
    # 0.6-0.65 × this)
    require(
        3 * n_sets * alphas.size * n_features * 8
        + 3 * n_samples * alphas.size * 8
        + (
            gram_bytes(n_features, n_sets, 8)
            if mode == "gram"
            else 3 * n_samples * n_features * 8
        ),
        f"this Ridge path over {n_sets - 1} folds",
    )
    build = build_gram_batch if mode == "gram" else build_residual_batch
    batch = build(
        X, y, W, fit_intercept=fit_intercept, standardize=standardize, dtype=np.float64
    )
    stats = batch.stats
    grid = alphas[None, :] / stats.n_weight[:, None]
    coef_s = ridge_paths(batch, grid, penalty_factor, progress=progress)
    coef, intercept = to_original_scale(coef_s[:, None], stats)
    coef, intercept = coef[:, 0], intercept[:, 0]
    return RidgeCVPath(
        coef=coef[-1],
        intercept=intercept[-1],
        fold_coef=coef[:-1],
        fold_intercept=intercept[:-1],
    )
