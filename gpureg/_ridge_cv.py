"""Cross-validated Ridge paths in closed form (the engine of ``RidgeCV``).

scikit-learn's ``RidgeCV`` objective is ``Σ_i s_i (y_i - b - x_iᵀw)² + alpha
Σ_j f_j w_j²``: gpureg's with ``l1_ratio = 0`` and ``alpha / n_w`` of each
training set (``n_w = Σ s_i`` over its rows).  Two ways to score the alphas:

* **leave-one-out** (``cv=None``): one eigendecomposition of the full data
  gives every alpha's fit and hat-matrix diagonal, and the LOO residual of
  row i is ``(y_i - ŷ_i) / (1 - H_ii)`` (exact, intercept included);
* **K-fold**: the batched training sets of :mod:`gpureg._batch` (fold Grams
  as the full Gram minus each held-out block), one closed-form path each,
  with each set's alphas divided by its own ``n_w``.

The alphas keep the caller's order (no sorting), as scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._batch import (
    build_gram_batch,
    build_residual_batch,
    to_original_scale,
    training_weights,
)
from ._interrupt import interruptible
from ._memory import choose_mode, gram_bytes, require
from ._ridge import ridge_loo, ridge_paths
from ._scoring import mean_and_se


@dataclass(frozen=True)
class RidgeProblem:
    """The data and options that every Ridge fit of a ``RidgeCV`` shares.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y, sample_weight : ndarray of shape (n_samples,)
        ``sample_weight`` is None for unit weights.
    penalty_factor : ndarray of shape (n_features,)
    fit_intercept, standardize : bool
        With ``standardize`` every training set has its own column scales
        (leave-one-out uses the full data's: they are not re-estimated
        without each left-out row).
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    penalty_factor: np.ndarray
    fit_intercept: bool
    standardize: bool

    def batch(self, W, build):
        """The training sets of weights ``W`` by ``build`` (a batch builder)."""
        return build(
            self.X,
            self.y,
            W,
            fit_intercept=self.fit_intercept,
            standardize=self.standardize,
            dtype=np.float64,
        )


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
def ridge_loo_path(problem: RidgeProblem, alphas) -> RidgeCVPath:
    """Full-data Ridge path with exact leave-one-out residuals.

    Parameters
    ----------
    problem : RidgeProblem
    alphas : ndarray of shape (n_alphas,)
        scikit-learn's scale (``Σ s r² + alpha Σ f w²``), all > 0.

    Returns
    -------
    RidgeCVPath
    """
    n, p = problem.X.shape
    # the design and its copies, the path on two scales, the hat diagonals,
    # residuals and LOO residuals (measured peaks: 0.9 × this)
    require(
        4 * n * p * 8 + alphas.size * (3 * p + 4 * n) * 8 + 8 * min(n, p) ** 2 * 8,
        "this leave-one-out Ridge path",
    )
    W = training_weights(n, [], problem.sample_weight)
    batch = problem.batch(W, build_residual_batch)
    stats = batch.stats
    Xt = batch.design(0)
    sw = batch.sw[0]  # s_i / n_w
    root = np.sqrt(sw)
    y_c = batch.y_centered[0]
    coef_s, hat = ridge_loo(
        Xt * root[:, None],
        y_c * root,
        alphas / stats.n_weight[0],
        problem.penalty_factor,
        batch.hdiag[0] > 0,
    )
    if problem.fit_intercept:
        hat = hat + sw  # the intercept's column √sw / ‖√sw‖ is orthogonal
    residual = y_c[None, :] - coef_s @ Xt.T
    # 1 - H_ii is 0 only for a row the unpenalized part interpolates exactly
    loo = residual / np.maximum(1.0 - hat, np.finfo(np.float64).eps)
    coef, intercept = to_original_scale(coef_s[None, None], stats)
    return RidgeCVPath(coef=coef[0, 0], intercept=intercept[0, 0], loo_residual=loo)


@interruptible
def ridge_kfold_path(
    problem: RidgeProblem, alphas, folds, progress=None
) -> RidgeCVPath:
    """Ridge paths of every fold and of the full data, batched.

    Parameters
    ----------
    problem : RidgeProblem
    alphas : ndarray of shape (n_alphas,)
        scikit-learn's scale, all >= 0 (0 is the minimum-norm least squares).
    folds : list of (train, test)
    progress : callable, optional
        Called with 1 after each training set.

    Returns
    -------
    RidgeCVPath
    """
    n_samples, n_features = problem.X.shape
    W = training_weights(n_samples, folds, problem.sample_weight)
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
    batch = problem.batch(
        W, build_gram_batch if mode == "gram" else build_residual_batch
    )
    stats = batch.stats
    grid = alphas[None, :] / stats.n_weight[:, None]
    coef_s = ridge_paths(batch, grid, problem.penalty_factor, progress=progress)
    coef, intercept = to_original_scale(coef_s[:, None], stats)
    coef, intercept = coef[:, 0], intercept[:, 0]
    return RidgeCVPath(
        coef=coef[-1],
        intercept=intercept[-1],
        fold_coef=coef[:-1],
        fold_intercept=intercept[:-1],
    )


class _IdentityRegressor(RegressorMixin, BaseEstimator):
    """Stands in for a fitted model whose predictions are its input (LOO scoring)."""

    def predict(self, y_predict):
        """Return ``y_predict`` unchanged."""
        return y_predict


def _r2_columns(y, predictions, sample_weight=None):
    """R² of every column of ``predictions`` (scikit-learn's ``r2_score``).

    Parameters
    ----------
    y : ndarray of shape (n_test,)
    predictions : ndarray of shape (n_test, n_alphas)
    sample_weight : ndarray of shape (n_test,) or None

    Returns
    -------
    ndarray of shape (n_alphas,)
    """
    s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    sse = s @ (y[:, None] - predictions) ** 2
    sst = s @ (y - np.average(y, weights=s)) ** 2
    if sst == 0:  # scikit-learn's force_finite convention
        return np.where(sse == 0, 1.0, 0.0)
    return 1.0 - sse / sst


def loo_scores(path, problem, scorer=None):
    """Leave-one-out scores of every alpha.

    Parameters
    ----------
    path : RidgeCVPath
        From :func:`ridge_loo_path`.
    problem : RidgeProblem
    scorer : callable, optional
        A scikit-learn scorer; None scores by the negative weighted squared
        error (scikit-learn's RidgeCV default with ``cv=None``).

    Returns
    -------
    mean, se : ndarray of shape (n_alphas,)
        Mean score over the samples and its standard error (0 with a scorer,
        which gives one score per alpha).
    stored : ndarray of shape (n_samples, n_alphas)
        What ``store_cv_results`` keeps: squared errors, or the LOO
        predictions when a scorer is given.
    """
    y, sample_weight = problem.y, problem.sample_weight
    if scorer is None:
        s = np.ones(y.shape[0]) if sample_weight is None else sample_weight
        sq_err = s * path.loo_residual**2  # (n_alphas, n_samples)
        mean, se = mean_and_se(-sq_err)
        return mean, se, sq_err.T
    predictions = y[None, :] - path.loo_residual
    kw = {} if sample_weight is None else {"sample_weight": sample_weight}
    mean = np.array(
        [float(scorer(_IdentityRegressor(), pred, y, **kw)) for pred in predictions]
    )
    return mean, np.zeros_like(mean), predictions.T


def kfold_scores(path, problem, folds, alphas, scorer, make_model):
    """Held-out score of every (alpha, fold) fit.

    Parameters
    ----------
    path : RidgeCVPath
        From :func:`ridge_kfold_path`.
    problem : RidgeProblem
    folds : list of (train, test)
    alphas : ndarray of shape (n_alphas,)
    scorer : callable or None
        A scikit-learn scorer; None scores by R² (scikit-learn's default).
    make_model : callable
        ``make_model(alpha, coef, intercept)``: a fitted estimator holding one
        fold's solution, for the scorer.

    Returns
    -------
    ndarray of shape (n_alphas, n_folds)
    """
    X, y, sample_weight = problem.X, problem.y, problem.sample_weight
    scores = np.empty((alphas.size, len(folds)))
    for k, (_, test) in enumerate(folds):
        sw = None if sample_weight is None else sample_weight[test]
        if scorer is None:
            scores[:, k] = _r2_columns(y[test], path.predict_fold(k, X[test]), sw)
            continue
        kw = {} if sw is None else {"sample_weight": sw}
        for a, alpha in enumerate(alphas):
            model = make_model(
                float(alpha),
                path.fold_coef[k, a].copy(),
                float(path.fold_intercept[k, a]),
            )
            scores[a, k] = float(scorer(model, X[test], y[test], **kw))
    return scores


def cv_results_table(alphas, mean, se, split_scores=None):
    """RidgeCV's ``cv_results_`` dict (scikit-learn's GridSearchCV layout).

    Parameters
    ----------
    alphas, mean, se : ndarray of shape (n_alphas,)
    split_scores : ndarray of shape (n_alphas, n_folds), optional

    Returns
    -------
    dict of str to ndarray of shape (n_alphas,)
    """
    table = {"alpha": alphas.copy(), "mean_test_score": mean, "std_err_test_score": se}
    if split_scores is not None:
        for k in range(split_scores.shape[1]):
            table[f"split{k}_test_score"] = split_scores[:, k]
    table["rank_test_score"] = (
        np.argsort(np.argsort(-mean, kind="stable"), kind="stable") + 1
    )
    return table
