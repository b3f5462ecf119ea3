"""``GridResult``: every fit of an alpha × l1_ratio × CV-fold grid."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._interrupt import warn
from ._measures import GREATER_IS_BETTER
from ._scoring import mean_and_se, one_se_index
from ._validation import issparse


@dataclass
class GridResult:
    """Every fit of a grid, with its certificate and the cross-validation summary.

    Training sets are ordered as in docs/design.md §3: the ``n_folds`` fold
    complements first, then the full data (index ``-1``).

    Attributes
    ----------
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
        Descending along each row.
    l1_ratios : ndarray of shape (n_l1_ratios,)
    coef_path : ndarray of shape (n_l1_ratios, n_alphas, n_features)
        Coefficients fitted on the full data, on the original scale of X.
    intercept_path : ndarray of shape (n_l1_ratios, n_alphas)
    dual_gap : ndarray of shape (n_folds + 1, n_l1_ratios, n_alphas)
        Final duality gap of every fit, on the scale of the objective
        ``1/(2 n_w) Σ s_i r_i² + penalty`` (as scikit-learn's ``dual_gap_``).
    gap_tol : ndarray of shape (n_folds + 1,)
        Certification threshold of each training set: ``tol * Σ s ỹ² / n_w``.
    n_iter : ndarray of shape (n_folds + 1, n_l1_ratios, n_alphas)
        Coordinate-descent epochs of every fit (0 for closed-form Ridge fits).
    cv_path : ndarray of shape (n_l1_ratios, n_alphas, n_folds) or None
        Held-out (weighted) CV measure of every fold fit (see ``measure``);
        None without CV.
    cv_mean, cv_se : ndarray of shape (n_l1_ratios, n_alphas) or None
        Mean over folds and its standard error ``std(ddof=1) / sqrt(n_folds)``.
    alpha_, l1_ratio_ : float or None
        The grid point of best mean CV measure (least error, greatest AUC).
    alpha_1se_ : float or None
        Largest alpha (for ``l1_ratio_``) whose mean measure is within one
        standard error of the best (glmnet's ``lambda.1se``).
    coef_, intercept_ : ndarray of shape (n_features,), float or None
        The full-data fit at ``(alpha_, l1_ratio_)``.
    n_samples, n_features, n_folds : int
    backend : str
    mode : {'gram', 'residual'}
        Covariance (Gram) updates or residual updates.
    dtype : numpy.dtype
    timings : dict
        Wall seconds of each phase: ``gram`` (per-training-set Gram matrices
        or statistics, on the host), ``prepare`` (the rest of the planning),
        ``solve``, ``ridge``, ``score``, ``total``.
    family : {'gaussian', 'binomial'}
    measure : {'mse', 'deviance', 'misclassification', 'auc'}
        What ``cv_path`` holds: ``'mse'`` for the Gaussian family.
    classes : ndarray of shape (2,) or None
        The binomial family's labels (``classes[1]`` is the modelled class).
    path_stop : ndarray of shape (n_folds + 1, n_l1_ratios) or None
        Binomial family: index of the first alpha each path did not solve
        because the fit already explained 99.9% of the null deviance (the
        later alphas keep that fit); ``n_alphas`` for a complete path.
    fold_coef_path : ndarray or None
        With ``keep=True``: every fold's coefficient paths on X's scale, shape
        ``(n_folds, n_l1_ratios, n_alphas, n_features)``.
    fold_intercept_path : ndarray or None
        With ``keep=True``: their intercepts, ``(n_folds, n_l1_ratios,
        n_alphas)``.
    oof_predictions : ndarray of shape (n_l1_ratios, n_alphas, n_samples) or None
        With ``keep=True``: each row's prediction by the fit of the fold that
        held it out, at every grid point (glmnet's ``fit.preval``): ``X w + b``
        (for the binomial family the log-odds, as ``decision_function``).  NaN
        for a row no fold held out; a row held out by several folds (repeated
        splitters) keeps the last one's.
    mse_path, mse_mean, mse_se
        ``cv_path``, ``cv_mean``, ``cv_se`` under scikit-learn's names (the
        Gaussian family; None for another measure).
    """

    alphas: np.ndarray
    l1_ratios: np.ndarray
    coef_path: np.ndarray
    intercept_path: np.ndarray
    dual_gap: np.ndarray
    gap_tol: np.ndarray
    n_iter: np.ndarray
    cv_path: np.ndarray | None
    n_samples: int
    n_features: int
    backend: str
    mode: str
    dtype: np.dtype
    timings: dict = field(default_factory=dict)
    family: str = "gaussian"
    measure: str = "mse"
    classes: np.ndarray | None = None
    path_stop: np.ndarray | None = None
    cv_mean: np.ndarray | None = None
    cv_se: np.ndarray | None = None
    alpha_: float | None = None
    l1_ratio_: float | None = None
    alpha_1se_: float | None = None
    best_index_: tuple | None = None
    index_1se_: tuple | None = None
    fold_coef_path: np.ndarray | None = None
    fold_intercept_path: np.ndarray | None = None
    oof_predictions: np.ndarray | None = None

    def __post_init__(self):
        if self.cv_path is None:
            return
        self.cv_mean, self.cv_se = mean_and_se(self.cv_path)
        greater = GREATER_IS_BETTER.get(self.measure, False)
        pick = np.argmax if greater else np.argmin
        l_best, a_best = np.unravel_index(pick(self.cv_mean), self.cv_mean.shape)
        self.best_index_ = (int(l_best), int(a_best))
        self.alpha_ = float(self.alphas[l_best, a_best])
        self.l1_ratio_ = float(self.l1_ratios[l_best])
        _, a_1se = one_se_index(
            self.cv_mean[l_best],
            self.cv_se[l_best],
            self.alphas[l_best],
            greater_is_better=greater,
        )
        self.index_1se_ = (int(l_best), a_1se)
        self.alpha_1se_ = float(self.alphas[l_best, a_1se])

    @property
    def mse_path(self) -> np.ndarray | None:
        """``cv_path`` when it holds mean squared errors (else None)."""
        return self.cv_path if self.measure == "mse" else None

    @property
    def mse_mean(self) -> np.ndarray | None:
        """``cv_mean`` when it holds mean squared errors (else None)."""
        return self.cv_mean if self.measure == "mse" else None

    @property
    def mse_se(self) -> np.ndarray | None:
        """``cv_se`` when it holds mean squared errors (else None)."""
        return self.cv_se if self.measure == "mse" else None

    @property
    def n_folds(self) -> int:
        """Number of CV folds (0 without cross-validation)."""
        return self.dual_gap.shape[0] - 1

    @property
    def n_fits(self) -> int:
        """Number of fits solved (every fold plus the full-data path)."""
        return int(self.dual_gap.size)

    @property
    def converged(self) -> np.ndarray:
        """Certified fits, shape ``(n_folds + 1, n_l1_ratios, n_alphas)``."""
        return self.dual_gap <= self.gap_tol[:, None, None]

    @property
    def coef_(self) -> np.ndarray | None:
        """Full-data coefficients at the CV optimum, shape (n_features,)."""
        if self.best_index_ is None:
            return None
        return self.coef_path[self.best_index_]

    @property
    def intercept_(self) -> float | None:
        """Full-data intercept at the CV optimum."""
        if self.best_index_ is None:
            return None
        return float(self.intercept_path[self.best_index_])

    def predict(self, X, index: tuple[int, int] | None = None) -> np.ndarray:
        """Predict with one full-data fit (the CV optimum by default).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        index : (int, int), optional
            Grid point ``(l1_ratio_index, alpha_index)``; default the CV
            optimum ``best_index_`` (``index_1se_`` is the one-SE choice).

        Returns
        -------
        ndarray of shape (n_samples,)
            The fitted values; for the binomial family the predicted class
            (``classes[1]`` where the decision function is positive).
        """
        z = self.decision_function(X, index)
        if self.family == "binomial":
            return self.classes[(z > 0).astype(np.intp)]
        return z

    def predict_proba(self, X, index: tuple[int, int] | None = None) -> np.ndarray:
        """Class probabilities of a binomial fit, columns in ``classes`` order.

        Returns an ndarray of shape (n_samples, 2); ``X`` and ``index`` are
        as in :meth:`predict`.
        """
        if self.family != "binomial":
            raise AttributeError("predict_proba is for the binomial family.")
        p1 = np.exp(-np.logaddexp(0.0, -self.decision_function(X, index)))
        return np.stack([1.0 - p1, p1], axis=1)

    def decision_function(self, X, index: tuple[int, int] | None = None) -> np.ndarray:
        """The linear predictor ``X w + b``, shape (n_samples,), of one fit.

        ``X`` and ``index`` are as in :meth:`predict`.
        """
        if index is None:
            if self.best_index_ is None:
                raise ValueError(
                    "no CV optimum: pass index=(l1_ratio_index, alpha_index)."
                )
            index = self.best_index_
        X = X if issparse(X) else np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features}), got {X.shape}."
            )
        return X @ self.coef_path[index] + self.intercept_path[index]

    def to_frame(self):
        """One row per grid point: alpha, l1_ratio, CV scores, sparsity, certificate.

        Returns
        -------
        pandas.DataFrame
            Columns ``l1_ratio, alpha, mse_mean, mse_se, mse_fold_0 … ,
            n_nonzero, dual_gap, n_iter, converged`` (the last three for the
            full-data fit; ``mse`` is the ``measure``, e.g. ``deviance_mean``
            for the binomial family); ``n_l1_ratios * n_alphas`` rows.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test extra
            raise ImportError("GridResult.to_frame() needs pandas installed.") from exc
        n_l1, n_alphas = self.alphas.shape
        cols = {
            "l1_ratio": np.repeat(self.l1_ratios, n_alphas),
            "alpha": self.alphas.ravel(),
        }
        if self.cv_path is not None:
            m = self.measure
            cols[f"{m}_mean"] = self.cv_mean.ravel()
            cols[f"{m}_se"] = self.cv_se.ravel()
            for k in range(self.n_folds):
                cols[f"{m}_fold_{k}"] = self.cv_path[..., k].ravel()
        cols["n_nonzero"] = np.count_nonzero(self.coef_path, axis=-1).ravel()
        cols["dual_gap"] = self.dual_gap[-1].ravel()
        cols["n_iter"] = self.n_iter[-1].ravel()
        cols["converged"] = self.converged[-1].ravel()
        return pd.DataFrame(cols)

    def _worst_gap_ratio(self) -> float:
        """Largest ``dual_gap / gap_tol`` (0/0, a constant target, counts as 0)."""
        tol = np.broadcast_to(self.gap_tol[:, None, None], self.dual_gap.shape)
        ratio = np.divide(
            self.dual_gap, tol, out=np.zeros(self.dual_gap.shape), where=tol > 0
        )
        ratio[(tol <= 0) & (self.dual_gap > 0)] = np.inf
        return float(np.max(ratio))

    def summary(self, max_rows: int = 10) -> str:
        """A short plain-text report: the chosen model and the best grid points.

        Parameters
        ----------
        max_rows : int, default=10
            Number of best grid points listed.

        Returns
        -------
        str
        """
        lines = [
            f"gpureg grid: {self.n_fits:,} fits = ({self.n_folds} folds + full data) × "
            f"{self.alphas.shape[0]} l1_ratios × {self.alphas.shape[1]} alphas; "
            f"backend={self.backend}, mode={self.mode}, dtype={self.dtype}",
            f"certified: {int(self.converged.sum()):,} of {self.n_fits:,}; "
            f"worst gap/tol = {self._worst_gap_ratio():.4f}"
            f"; time {self.timings.get('total', float('nan')):.3f} s",
        ]
        if self.cv_path is None:
            return "\n".join(lines)
        m, mean, se = self.measure, self.cv_mean, self.cv_se
        lines.append(
            f"best: alpha_={self.alpha_:.6g}, l1_ratio_={self.l1_ratio_:g}, "
            f"CV {m}={mean[self.best_index_]:.6g} "
            f"± {se[self.best_index_]:.3g}; alpha_1se_={self.alpha_1se_:.6g}"
        )
        key = -mean if GREATER_IS_BETTER.get(m, False) else mean
        order = np.argsort(key, axis=None)[:max_rows]
        lines.append(
            f"{'l1_ratio':>8} {'alpha':>12} {m + '_mean':>12} {m + '_se':>10}"
            f" {'nonzero':>7}"
        )
        for flat in order:
            il, ia = np.unravel_index(flat, mean.shape)
            nnz = np.count_nonzero(self.coef_path[il, ia])
            lines.append(
                f"{self.l1_ratios[il]:>8g} {self.alphas[il, ia]:>12.6g} "
                f"{mean[il, ia]:>12.6g} {se[il, ia]:>10.4g} "
                f"{nnz:>7d}"
            )
        return "\n".join(lines)

    def plot_path(self, **kw):
        """Regularization-path figure; see :func:`gpureg.plotting.plot_path`."""
        from .plotting import plot_path

        return plot_path(self, **kw)

    def plot_cv_curve(self, **kw):
        """CV-error curve figure; see :func:`gpureg.plotting.plot_cv_curve`."""
        from .plotting import plot_cv_curve

        return plot_cv_curve(self, **kw)

    def plot_cv_heatmap(self, **kw):
        """CV-error heatmap figure; see :func:`gpureg.plotting.plot_cv_heatmap`."""
        from .plotting import plot_cv_heatmap

        return plot_cv_heatmap(self, **kw)


class MultiTargetResult:
    """k independent grids on one X (``fit_grid`` with y of shape (n, k)).

    Each target has its own alpha grid, fits, CV curve and CV choice; the
    targets share every Gram matrix and fold decomposition (this is not
    scikit-learn's ``MultiTaskElasticNet``, whose penalty couples them).
    ``res[j]`` is target j's :class:`GridResult`; the arrays below stack them
    along a leading target axis.

    Parameters
    ----------
    results : list of GridResult
        One per target, in y's column order.

    Attributes
    ----------
    alphas : ndarray of shape (n_targets, n_l1_ratios, n_alphas)
    coef_path : ndarray of shape (n_targets, n_l1_ratios, n_alphas, n_features)
    intercept_path : ndarray of shape (n_targets, n_l1_ratios, n_alphas)
    dual_gap, n_iter : ndarray of shape (n_targets, n_folds + 1, n_l1_ratios, n_alphas)
    gap_tol : ndarray of shape (n_targets, n_folds + 1)
    cv_path : ndarray of shape (n_targets, n_l1_ratios, n_alphas, n_folds) or None
    cv_mean, cv_se : ndarray of shape (n_targets, n_l1_ratios, n_alphas) or None
    fold_coef_path, fold_intercept_path, oof_predictions : ndarray or None
        With ``keep=True``: :class:`GridResult`'s, with a leading target axis.
    alpha_, l1_ratio_, alpha_1se_ : ndarray of shape (n_targets,) or None
        Each target's CV choice.
    best_index_, index_1se_ : list of (int, int) or None
    l1_ratios, n_samples, n_features, backend, mode, dtype, family, measure
        Shared by every target.
    timings : dict
        ``build`` (every target's batch, in one pass) and ``total``.
    """

    _STACKED = (
        "alphas coef_path intercept_path dual_gap n_iter gap_tol cv_path cv_mean "
        "cv_se fold_coef_path fold_intercept_path oof_predictions alpha_ l1_ratio_ "
        "alpha_1se_ converged"
    ).split()
    _SHARED = (
        "l1_ratios n_samples n_features backend mode dtype family measure n_folds"
    ).split()

    def __init__(self, results):
        self.results = list(results)
        self.timings: dict = {}

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, j) -> GridResult:
        return self.results[j]

    def __iter__(self):
        return iter(self.results)

    @property
    def n_targets(self) -> int:
        """Number of targets (y's columns)."""
        return len(self.results)

    @property
    def n_fits(self) -> int:
        """Fits solved over every target."""
        return sum(r.n_fits for r in self.results)

    @property
    def best_index_(self):
        """Each target's CV optimum ``(l1_ratio_index, alpha_index)``."""
        first = self.results[0].best_index_
        return None if first is None else [r.best_index_ for r in self.results]

    @property
    def index_1se_(self):
        """Each target's one-standard-error choice."""
        first = self.results[0].index_1se_
        return None if first is None else [r.index_1se_ for r in self.results]

    @property
    def mse_path(self):
        """``cv_path`` for the Gaussian family's MSE (None otherwise)."""
        return self.cv_path if self.measure == "mse" else None

    @property
    def mse_mean(self):
        """``cv_mean`` under scikit-learn's name."""
        return self.cv_mean if self.measure == "mse" else None

    @property
    def mse_se(self):
        """``cv_se`` under scikit-learn's name."""
        return self.cv_se if self.measure == "mse" else None

    def __getattr__(self, name):
        if name in MultiTargetResult._STACKED:
            values = [getattr(r, name) for r in self.results]
            return None if values[0] is None else np.stack(values)
        if name in MultiTargetResult._SHARED:
            return getattr(self.results[0], name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )

    def predict(self, X, index=None) -> np.ndarray:
        """Every target's prediction, shape ``(n_samples, n_targets)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        index : (int, int) or list of (int, int), optional
            One grid point for every target, or one per target; default each
            target's own CV optimum.
        """
        per = index if isinstance(index, list) else [index] * self.n_targets
        return np.stack(
            [r.predict(X, i) for r, i in zip(self.results, per, strict=True)], axis=1
        )

    def summary(self, max_rows: int = 10) -> str:
        """Each target's CV choice, one line per target (up to ``max_rows``)."""
        lines = [f"{self.n_targets} targets, {self.n_fits:,} fits"]
        for j, r in enumerate(self.results[:max_rows]):
            choice = (
                "no CV"
                if r.alpha_ is None
                else f"alpha_={r.alpha_:.4g}, l1_ratio_={r.l1_ratio_:g}"
            )
            lines.append(f"  target {j}: {choice}; certified {r.converged.mean():.3f}")
        if self.n_targets > max_rows:
            lines.append(f"  ... {self.n_targets - max_rows} more")
        return "\n".join(lines)


def warn_uncertified(dual_gap, gap_tol, tol, scale="Σ s ỹ² / n_w"):
    """One ``ConvergenceWarning`` for all fits whose gap exceeds its threshold.

    ``gap_tol`` is ``tol`` times ``scale`` (named in the message) per set.
    """
    from sklearn.exceptions import ConvergenceWarning  # not at import time

    bad = dual_gap > gap_tol[:, None, None]
    n_bad = int(bad.sum())
    if n_bad == 0:
        return
    worst = float(
        np.max(dual_gap / np.maximum(gap_tol, np.finfo(float).tiny)[:, None, None])
    )
    warn(
        f"{n_bad:,} of {dual_gap.size:,} fits did not reach tol={tol:g}; worst "
        f"gap is {worst:.3g} × its threshold (tol · {scale}). Increase "
        "max_iter, loosen tol, or use float64.",
        ConvergenceWarning,
    )
