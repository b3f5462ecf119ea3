"""Cross-validation scores, written once for fit_grid, estimators and plots.

Held-out errors per fold, their mean and standard error, and the
one-standard-error rule.
"""

from __future__ import annotations

import numpy as np

from ._batch import GramBatch
from ._interrupt import check_stop
from ._validation import issparse


def mean_and_se(per_fold: np.ndarray):
    """Mean over the last axis and its standard error ``std(ddof=1) / √k``.

    Parameters
    ----------
    per_fold : ndarray of shape (..., n_folds)

    Returns
    -------
    mean, se : ndarray of shape (...)
        ``se`` is 0 with a single fold.
    """
    k = per_fold.shape[-1]
    mean = per_fold.mean(axis=-1)
    if k < 2:
        return mean, np.zeros_like(mean)
    return mean, per_fold.std(axis=-1, ddof=1) / np.sqrt(k)


def one_se_index(mean, se, alphas, *, greater_is_better=False):
    """The best alpha and the largest one within one standard error of it.

    glmnet's ``lambda.1se``: among the alphas whose mean score is within one
    standard error of the best mean (the best's own standard error), the
    largest, i.e. the most regularized.

    Parameters
    ----------
    mean, se : ndarray of shape (n_alphas,)
        Mean CV score per alpha and its standard error.
    alphas : ndarray of shape (n_alphas,)
    greater_is_better : bool, default=False
        False for errors (the minimum is best), True for scores such as R².

    Returns
    -------
    best : int
        Index of the best mean (the first of ties).
    one_se : int
        Index of the largest alpha within one standard error of it.
    """
    if greater_is_better:
        best = int(np.argmax(mean))
        within = np.flatnonzero(mean >= mean[best] - se[best])
    else:
        best = int(np.argmin(mean))
        within = np.flatnonzero(mean <= mean[best] + se[best])
    return best, int(within[np.argmax(alphas[within])])


class FoldScorer:
    """Held-out mean squared errors, filled fold by fold as the paths come.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        CV errors are weighted by it.
    folds : list of (train, test)
    n_l1 : int
        Number of l1_ratios.
    keep : bool, default=False
        Also keep every fold's paths and the out-of-fold predictions.

    Attributes
    ----------
    mse : ndarray of shape (n_l1, n_alphas, n_folds)
        Allocated by the first call; NaN where no path was scored yet.
    kept : FoldArtifacts or None
        With ``keep``: the fold paths and out-of-fold predictions.
    """

    def __init__(self, X, y, sample_weight, folds, n_l1, keep=False):
        # a sparse X as CSR: the held-out rows are sliced from it
        self.X64 = (
            X.tocsr().astype(np.float64)
            if issparse(X)
            else np.asarray(X, dtype=np.float64)
        )
        self.y64 = np.asarray(y, dtype=np.float64)
        self.s = (
            np.ones(X.shape[0])
            if sample_weight is None
            else np.asarray(sample_weight, dtype=np.float64)
        )
        self.folds = folds
        self.n_l1 = n_l1
        self.mse = None
        self.keep = keep
        self.kept = None

    def __call__(self, batch, t, ls, coef):
        """Score fold ``t``'s paths of l1_ratios ``ls`` (solver scale, overwritten).

        Parameters
        ----------
        batch : GramBatch or ResidualBatch
        t : int
        ls : ndarray of int
        coef : ndarray of shape (ls.size, n_alphas, n_features)
        """
        n_alphas, p = coef.shape[1:]
        if self.mse is None:
            self.mse = np.full((self.n_l1, n_alphas, len(self.folds)), np.nan)
        self.mse[ls, :, t], U, b = self.fold_scores(batch, t, coef)
        if self.keep:
            if self.kept is None:
                self.kept = FoldArtifacts(
                    len(self.folds), self.n_l1, n_alphas, p, self.X64.shape[0]
                )
            self.kept.record(t, ls, U, b, self.X64, self.folds[t][1])

    def fold_scores(self, batch, t, coef):
        """Fold ``t``'s paths mapped to X's scale and scored.

        Parameters
        ----------
        batch : GramBatch or ResidualBatch
        t : int
        coef : ndarray of shape (n_paths, n_alphas, n_features)
            Solver scale; overwritten.

        Returns
        -------
        mse : ndarray of shape (n_paths, n_alphas)
        U : ndarray of shape (n_paths * n_alphas, n_features)
        b : ndarray of shape (n_paths * n_alphas,)
        """
        stats = batch.stats
        n_paths, n_alphas, p = coef.shape
        U = np.divide(coef, stats.x_scale[t], out=coef).reshape(-1, p)
        b = stats.y_mean[t] - U @ stats.x_mean[t]
        return self.fold_mse(t, U, b, batch).reshape(n_paths, n_alphas), U, b

    def fold_mse(self, k, U, b, batch=None):
        """Held-out weighted MSE of fold ``k`` for coefficients on X's scale.

        Parameters
        ----------
        k : int
        U : ndarray of shape (n_fits, n_features)
        b : ndarray of shape (n_fits,)
        batch : GramBatch, optional
            When given, and the fold's test rows are exactly the rows its
            training set leaves out, the held-out Gram block scores it.

        Returns
        -------
        ndarray of shape (n_fits,)
        """
        test = self.folds[k][1]
        s = self.s
        sse = None
        if isinstance(batch, GramBatch):
            mask = np.zeros(s.size, dtype=bool)
            mask[test] = True
            mask &= s > 0
            sse = batch.heldout_sse(k, mask, U, b)
        if sse is None:
            sse = np.full(U.shape[0], np.nan)
        redo = np.flatnonzero(np.isnan(sse))
        if redo.size:  # predict the held-out rows directly
            Ur = U if redo.size == U.shape[0] else U[redo]  # no copy when all
            res = self.y64[test, None] - (self.X64[test] @ Ur.T + b[redo])
            sse[redo] = s[test] @ (res * res)
        return sse / s[test].sum()


class FoldArtifacts:
    """Every fold's paths and the out-of-fold predictions (``keep=True``).

    Parameters
    ----------
    n_folds, n_l1, n_alphas, n_features, n_samples : int

    Attributes
    ----------
    coef : ndarray of shape (n_folds, n_l1, n_alphas, n_features)
    intercept : ndarray of shape (n_folds, n_l1, n_alphas)
    oof : ndarray of shape (n_l1, n_alphas, n_samples)
        NaN until a fold holds the row out.
    """

    def __init__(self, n_folds, n_l1, n_alphas, n_features, n_samples):
        self.coef = np.zeros((n_folds, n_l1, n_alphas, n_features))
        self.intercept = np.zeros((n_folds, n_l1, n_alphas))
        self.oof = np.full((n_l1, n_alphas, n_samples), np.nan)

    @staticmethod
    def nbytes(n_folds, n_l1, n_alphas, n_features, n_samples) -> int:
        """Bytes of the three arrays (what ``keep=True`` adds to a grid)."""
        return 8 * n_l1 * n_alphas * (n_folds * (n_features + 1) + n_samples)

    def record(self, t, ls, U, b, X, test):
        """Fold ``t``'s fits of l1_ratios ``ls``: ``U`` (fits, p), ``b`` (fits,)."""
        self.store(t, ls, U, b, self.predictions(X, test, U, b), test)

    @staticmethod
    def predictions(X, test, U, b):
        """Out-of-fold predictions, shape (fits, n_test), of fits ``U``, ``b``."""
        return (X[test] @ U.T + b).T

    def store(self, t, ls, U, b, pred, test):
        """Fold ``t``'s fits and their out-of-fold predictions ``pred``."""
        n_alphas = self.coef.shape[2]
        self.coef[t, ls] = U.reshape(ls.size, n_alphas, -1)
        self.intercept[t, ls] = b.reshape(ls.size, n_alphas)
        self.oof[
            np.asarray(ls)[:, None, None],
            np.arange(n_alphas)[None, :, None],
            np.asarray(test)[None, None, :],
        ] = pred.reshape(ls.size, n_alphas, -1)


def kept_fields(kept, dt):
    """``GridResult`` keywords of a :class:`FoldArtifacts` (none without one)."""
    if kept is None:
        return {}
    return dict(
        fold_coef_path=kept.coef.astype(dt, copy=False),
        fold_intercept_path=kept.intercept.astype(dt, copy=False),
        oof_predictions=kept.oof.astype(dt, copy=False),
    )


def cv_mse(X, y, sample_weight, folds, coef, intercept, batch=None):
    """Held-out mean squared error of every fold fit (weighted if weights given).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
    folds : list of (train, test)
    coef : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_features)
    intercept : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
    batch : GramBatch, optional
        When given, folds whose test rows are exactly the rows their training
        set leaves out are scored from the held-out Gram blocks.

    Returns
    -------
    ndarray of shape (n_l1_ratios, n_alphas, n_folds)
    """
    n_folds, n_l1, n_alphas, p = coef.shape
    scorer = FoldScorer(X, y, sample_weight, folds, n_l1)
    mse = np.empty((n_l1, n_alphas, n_folds))
    for k in range(n_folds):
        check_stop()
        mse[..., k] = scorer.fold_mse(
            k, coef[k].reshape(-1, p), intercept[k].reshape(-1), batch
        ).reshape(n_l1, n_alphas)
    return mse
