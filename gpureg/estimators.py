"""scikit-learn-compatible estimators: thin layers over :func:`gpureg.fit_grid`.

``from gpureg import ElasticNetCV`` instead of scikit-learn's: the same
parameters, defaults, fitted attributes and objective, with the whole grid
solved in one batched call (on the GPU where present) and every fit
certified by its duality gap.  There is no second solver here: every
estimator calls ``fit_grid`` (or, for ``RidgeCV``'s leave-one-out, the
closed-form Ridge path).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.metrics import get_scorer_names
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _validation as v
from ._fit import fit_grid
from ._folds import make_folds
from ._progress import progress_bar
from ._ridge_cv import (
    RidgeProblem,
    cv_results_table,
    kfold_scores,
    loo_scores,
    ridge_kfold_path,
    ridge_loo_path,
)
from ._scoring import mean_and_se, one_se_index
from .backends import resolve_backend

_DTYPES = [np.float64, np.float32]

#: scikit-learn parameter constraints of gpureg's own estimator parameters
#: (checked by ``_fit_context`` before every fit, as scikit-learn does).
_GPUREG_CONSTRAINTS = {
    "backend": [StrOptions({"auto", "cpu", "gpu", "numpy"})],
    "dtype": [None, StrOptions({"float32", "float64"}), type, np.dtype],
    "standardize": ["boolean"],
    "penalty_factor": ["array-like", None],
    "progress": ["boolean"],
}
_SOLVER_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "precompute": ["boolean", "array-like", StrOptions({"auto"})],
    "max_iter": [Interval(Integral, 1, None, closed="left"), None],
    "copy_X": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "positive": ["boolean"],
    "random_state": ["random_state"],
    "selection": [StrOptions({"cyclic", "random"})],
}
_ALPHA_SELECTION = {"alpha_selection": [StrOptions({"min", "1se"})]}


class _LinearPredictMixin:
    """``predict`` for fitted ``coef_`` / ``intercept_``."""

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            A CuPy array when X is one.
        """
        check_is_fitted(self)
        on_device = v.is_device_array(X)
        X = validate_data(
            self,
            _host(X),
            reset=False,
            dtype=_DTYPES,
            accept_sparse=_SPARSE
            if self.__sklearn_tags__().input_tags.sparse
            else False,
        )
        out = X @ self.coef_.T + self.intercept_
        if on_device:
            from .backends import get_backend

            return get_backend("gpu").to_device(out)
        return out

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the predictions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            numpy, pandas or CuPy.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        from sklearn.metrics import r2_score

        y_pred = self.predict(_host(X))
        return float(r2_score(_host(y), y_pred, sample_weight=_host(sample_weight)))


def _host(A):
    """CuPy arrays come to the host; anything else is passed through."""
    return A.get() if v.is_device_array(A) else A


def _grid_kwargs(est):
    """Keyword arguments of gpureg's additions, shared by every estimator."""
    return dict(
        standardize=est.standardize,
        penalty_factor=est.penalty_factor,
        backend=est.backend,
        dtype=est.dtype,
        progress=est.progress,
    )


def _scalar_or_array(a, kind=float):
    """A Python scalar for one target, an ndarray of shape (n_targets,) for many."""
    a = np.asarray(a)
    return kind(a) if a.ndim == 0 else a.astype(kind)


def _stack(values):
    """Per-target values along a leading target axis (dicts: key by key)."""
    if isinstance(values[0], dict):
        return {key: np.stack([v[key] for v in values], axis=-1) for key in values[0]}
    return np.stack([np.asarray(v) for v in values])


def kept_results(res, oof_name):
    """``cv_results_`` entries of a ``keep=True`` grid, one row per grid point.

    ``split{k}_coef`` (n_grid, n_features), ``split{k}_intercept`` (n_grid,)
    and ``oof_name`` (n_grid, n_samples), grid points ordered as the other
    entries (l1_ratio major).
    """
    n_folds, _, _, p = res.fold_coef_path.shape
    out = {}
    for k in range(n_folds):
        out[f"split{k}_coef"] = res.fold_coef_path[k].reshape(-1, p)
        out[f"split{k}_intercept"] = res.fold_intercept_path[k].ravel()
    out[oof_name] = res.oof_predictions.reshape(-1, res.oof_predictions.shape[-1])
    return out


#: scipy.sparse formats the estimators taking sparse X keep (others, COO
#: included, become CSR: rows are sliced for the folds)
_SPARSE = ("csr", "csc")


def _validate_fit_input(est, X, y, sample_weight, y_numeric=True, multi_output=False):
    """Validated X, y and float64 ``sample_weight`` (or None).

    ``y_numeric=False`` keeps y's labels as they are (classifiers);
    ``multi_output`` accepts y of shape (n_samples, n_targets) (a single
    column is made 1-D).
    """
    X, y, sample_weight = _host(X), _host(y), _host(sample_weight)
    if hasattr(X, "dtypes") and hasattr(X, "columns"):  # pandas: name bad columns
        v.check_frame(X, "X")
    X, y = validate_data(
        est,
        X,
        y,
        dtype=_DTYPES,
        y_numeric=y_numeric,
        accept_sparse=_SPARSE if est.__sklearn_tags__().input_tags.sparse else False,
        multi_output=multi_output,
    )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if sample_weight is not None:
        kind = np.asarray(sample_weight).dtype.kind
        if kind not in "biuf":
            raise TypeError(
                f"sample_weight must be numeric, got dtype "
                f"{np.asarray(sample_weight).dtype}."
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
    return X, y, sample_weight


class _ElasticNetBase(_LinearPredictMixin, RegressorMixin, BaseEstimator):
    """Shared ``fit`` of the single-alpha estimators."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "warm_start": ["boolean"],
        **_SOLVER_CONSTRAINTS,
        **_GPUREG_CONSTRAINTS,
    }

    def _l1_ratio(self):
        return self.l1_ratio

    def _solver_alpha(self, n_weight):
        """The alpha of ``fit_grid``'s objective for this estimator."""
        return self.alpha

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        check_input : bool, default=True
            Accepted for compatibility; input is always checked.

        Returns
        -------
        self
        """
        X, y, sw = _validate_fit_input(self, X, y, sample_weight, multi_output=True)
        n_weight = X.shape[0] if sw is None else float(np.sum(sw))
        max_iter = 1000 if self.max_iter is None else self.max_iter
        res = fit_grid(
            X,
            y,
            l1_ratio=self._l1_ratio(),
            alphas=[self._solver_alpha(n_weight)],
            cv=None,
            fit_intercept=self.fit_intercept,
            sample_weight=sw,
            positive=self.positive,
            tol=self.tol,
            max_iter=max_iter,
            **_grid_kwargs(self),
        )
        self.coef_ = res.coef_path[..., 0, 0, :].copy()
        icpt = res.intercept_path[..., 0, 0]
        self.intercept_ = _scalar_or_array(icpt if self.fit_intercept else 0 * icpt)
        closed_form = self._l1_ratio() == 0 and not self.positive
        # scikit-learn's convention: no iteration count for a direct solve
        iters = res.n_iter[..., -1, 0, 0]
        self.n_iter_ = None if closed_form else _scalar_or_array(iters, int)
        self.dual_gap_ = _scalar_or_array(res.dual_gap[..., -1, 0, 0])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scipy.sparse X (CPU and GPU backends); k independent fits for a 2-D y
        tags.input_tags.sparse = self.backend != "numpy"
        tags.target_tags.multi_output = True
        return tags


class ElasticNet(_ElasticNetBase):
    """Linear regression with combined L1 and L2 priors (scikit-learn's ``ElasticNet``).

    Minimizes, with ``n_w = Σ s_i`` (``n_samples`` without weights)::

        1/(2 n_w) Σ_i s_i (y_i - b - x_iᵀ w)² + alpha * l1_ratio * Σ_j f_j |w_j|
            + alpha * (1 - l1_ratio) / 2 * Σ_j f_j w_j²

    Parameters
    ----------
    alpha : float, default=1.0
        Strength of the penalty; must be > 0.
    l1_ratio : float, default=0.5
        Mix in [0, 1]: 1 is the Lasso, 0 is Ridge (closed form).
    fit_intercept : bool, default=True
    precompute, copy_X, warm_start, random_state, selection
        Accepted for compatibility and ignored: gpureg chooses Gram or residual
        updates itself, never modifies X, and cyclic descent to a certified
        gap makes warm starts and random order irrelevant to the result.
    max_iter : int, default=1000
    tol : float, default=1e-4
        Certify when the duality gap is at most ``tol * Σ s ỹ² / n_w``.
    positive : bool, default=False
    backend : {'auto', 'cpu', 'gpu', 'numpy'}, default='auto'
    dtype : {None, 'float32', 'float64'}, default=None
        None follows X.
    standardize : bool, default=False
        Penalize coefficients of unit-variance columns (glmnet); ``coef_`` is
        on X's scale.
    penalty_factor : array-like of shape (n_features,), default=None
    progress : bool, default=False

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Coordinate-descent epochs (0 for a closed-form Ridge).
    dual_gap_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute=False,
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress


class Lasso(_ElasticNetBase):
    """The Lasso: :class:`ElasticNet` with ``l1_ratio=1`` (scikit-learn's ``Lasso``).

    Minimizes ``1/(2 n_w) Σ s_i (y_i - b - x_iᵀw)² + alpha Σ_j f_j |w_j|``.

    Parameters
    ----------
    alpha : float, default=1.0
    fit_intercept, precompute, copy_X, max_iter, tol, warm_start, positive, \
random_state, selection, backend, dtype, standardize, penalty_factor, progress
        As in :class:`ElasticNet`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
    dual_gap_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute=False,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress

    def _l1_ratio(self):
        return 1.0


class Ridge(_ElasticNetBase):
    """Ridge regression in closed form (scikit-learn's ``Ridge``).

    Minimizes scikit-learn's Ridge objective
    ``Σ_i s_i (y_i - b - x_iᵀw)² + alpha Σ_j f_j w_j²``, which is gpureg's
    objective with ``l1_ratio=0`` and ``alpha / n_w`` (``n_w = Σ s_i``).

    Parameters
    ----------
    alpha : float, default=1.0
        Must be > 0.
    fit_intercept : bool, default=True
    copy_X, solver, random_state
        Accepted for compatibility and ignored (one eigendecomposition, X is
        never modified).
    max_iter : int or None, default=None
        Used only with ``positive=True`` (coordinate descent; None = 1000).
    tol : float, default=1e-4
        Used only with ``positive=True``.
    positive : bool, default=False
    backend, dtype, standardize, penalty_factor, progress
        As in :class:`ElasticNet`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int or None
        None for the closed form (``positive=False``), as scikit-learn.
    dual_gap_ : float
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        copy_X=True,
        max_iter=None,
        tol=1e-4,
        solver="auto",
        positive=False,
        random_state=None,
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress

    def _l1_ratio(self):
        return 0.0

    def _solver_alpha(self, n_weight):
        return self.alpha / n_weight

    #: scikit-learn checks that cannot pass, with the reason (pass these to
    #: ``parametrize_with_checks(expected_failed_checks=...)``).
    _expected_failed_checks = {
        "check_non_transformer_estimators_n_iter": (
            "the closed-form solve reports n_iter_=None, as scikit-learn's Ridge"
        ),
    }


class _CVBase(_LinearPredictMixin, RegressorMixin, BaseEstimator):
    """Shared ``fit`` of ElasticNetCV and LassoCV: one ``fit_grid`` call."""

    _parameter_constraints: dict = {
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "cv": ["cv_object"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        **_SOLVER_CONSTRAINTS,
        **_ALPHA_SELECTION,
        **_GPUREG_CONSTRAINTS,
        "keep": ["boolean"],
        "client": "no_validation",  # checked by fit_grid
    }

    def _l1_ratios(self):
        return self.l1_ratio

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, **params):
        """Fit every alpha × l1_ratio × fold, pick the best, keep its full-data fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits and of the held-out errors.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` (``GroupKFold``, ...).
        **params
            Not supported (metadata routing); must be empty.

        Returns
        -------
        self
        """
        if params:
            raise ValueError(f"Unexpected fit parameters: {sorted(params)}.")
        X, y, sw = _validate_fit_input(self, X, y, sample_weight, multi_output=True)
        l1 = self._l1_ratios()
        res = fit_grid(
            X,
            y,
            l1_ratio=l1,
            alphas=self.alphas,
            eps=self.eps,
            cv=5 if self.cv is None else self.cv,
            fit_intercept=self.fit_intercept,
            sample_weight=sw,
            positive=self.positive,
            tol=self.tol,
            max_iter=self.max_iter,
            groups=groups,
            keep=self.keep,
            client=self.client,
            **_grid_kwargs(self),
        )
        targets = list(res) if y.ndim == 2 else [res]
        fits = [self._target_fit(r, np.ndim(l1) == 0) for r in targets]
        for name in fits[0]:  # one target: its values; k targets: stacked
            vals = [f[name] for f in fits]
            setattr(self, name, vals[0] if y.ndim == 1 else _stack(vals))
        return self

    def _target_fit(self, res, scalar):
        """The fitted attributes of one target's :class:`GridResult`."""
        il, ia = res.best_index_ if self.alpha_selection == "min" else res.index_1se_
        n_alphas = res.alphas.shape[1]
        results = {
            "l1_ratio": np.repeat(res.l1_ratios, n_alphas),
            "alpha": res.alphas.ravel(),
            "mean_test_mse": res.mse_mean.ravel(),
            "std_err_test_mse": res.mse_se.ravel(),
        }
        for k in range(res.n_folds):
            results[f"split{k}_test_mse"] = res.mse_path[..., k].ravel()
        results["rank_test_mse"] = (
            np.argsort(np.argsort(res.mse_mean.ravel(), kind="stable")) + 1
        )
        if self.keep:
            results.update(kept_results(res, "oof_prediction"))
        return dict(
            alpha_=float(res.alphas[il, ia]),
            l1_ratio_=float(res.l1_ratios[il]),
            alpha_1se_=res.alpha_1se_,
            alphas_=res.alphas[0] if scalar else res.alphas,
            mse_path_=res.mse_path[0] if scalar else res.mse_path,
            coef_=res.coef_path[il, ia].copy(),
            intercept_=float(res.intercept_path[il, ia]) if self.fit_intercept else 0.0,
            dual_gap_=float(res.dual_gap[-1, il, ia]),
            n_iter_=int(res.n_iter[-1, il, ia]),
            cv_results_=results,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scipy.sparse X (CPU and GPU backends); k independent fits for a 2-D y
        tags.input_tags.sparse = self.backend != "numpy"
        tags.target_tags.multi_output = True
        return tags


class ElasticNetCV(_CVBase):
    """Elastic net with the alpha × l1_ratio grid cross-validated in one batch.

    scikit-learn's ``ElasticNetCV``: the same objective, parameters and fitted
    attributes, with every fold fit and the full-data path solved together by
    :func:`gpureg.fit_grid`.

    Parameters
    ----------
    l1_ratio : float or array-like of shape (n_l1_ratios,), default=0.5
    eps : float, default=1e-3
    alphas : int or array-like of shape (n_alphas,), default=100
    fit_intercept : bool, default=True
    precompute, copy_X, verbose, n_jobs, random_state, selection
        Accepted for compatibility and ignored (one batched solve, X never
        modified, cyclic descent to a certified gap).
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation splitter or iterable, default=None
        None is 5-fold ``KFold``, as scikit-learn.
    positive : bool, default=False
    alpha_selection : {'min', '1se'}, default='min'
        Which alpha the final model uses: the minimum mean CV error, or
        glmnet's one-standard-error rule (``alpha_1se_``).  scikit-learn's
        ``selection`` already names the coordinate order, hence the name.
    backend, dtype, standardize, penalty_factor, progress
        As in :class:`ElasticNet`.
    keep : bool, default=False
        Keep every fold's fits and the out-of-fold predictions in
        ``cv_results_`` (:func:`gpureg.fit_grid`'s ``keep``).
    client : {None, 'default'}, str or dask.distributed.Client, default=None
        Solve the grid on a Dask cluster (:func:`gpureg.fit_grid`'s
        ``client``).  Prefer ``'default'`` or a scheduler address: they keep
        the estimator cloneable and picklable (a Client is neither, so
        ``clone`` and ``GridSearchCV`` refuse one).

    Attributes
    ----------
    alpha_ : float
        The chosen alpha (see ``alpha_selection``).
    alpha_1se_ : float
        Largest alpha, for the best l1_ratio, whose mean CV error is within one
        standard error of the minimum (glmnet's ``lambda.1se``).
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratios, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or \
(n_l1_ratios, n_alphas, n_folds)
    coef_ : ndarray of shape (n_features,)
        The full-data fit at the chosen point (solved in the same batch as
        the folds, so there is no separate refit).
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    cv_results_ : dict of ndarray
        One entry per grid point: ``l1_ratio``, ``alpha``, ``mean_test_mse``,
        ``std_err_test_mse``, ``split{k}_test_mse``, ``rank_test_mse``; with
        ``keep=True`` also ``split{k}_coef`` (n_grid, n_features),
        ``split{k}_intercept`` and ``oof_prediction`` (n_grid, n_samples):
        each fold's fits and each row's out-of-fold prediction.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    l1_ratio_ : float
    """

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=0,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
        alpha_selection="min",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
        keep=False,
        client=None,
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_selection = alpha_selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress
        self.keep = keep
        self.client = client


class LassoCV(_CVBase):
    """The Lasso with its alpha path cross-validated in one batch (``LassoCV``).

    :class:`ElasticNetCV` with ``l1_ratio=1``, under scikit-learn's name and
    parameters.

    Parameters
    ----------
    eps, alphas, fit_intercept, precompute, max_iter, tol, copy_X, cv, \
verbose, n_jobs, positive, random_state, selection, alpha_selection, backend, \
dtype, standardize, penalty_factor, progress, keep, client
        As in :class:`ElasticNetCV`.

    Attributes
    ----------
    alpha_, alpha_1se_, coef_, intercept_, dual_gap_, n_iter_, cv_results_, \
n_features_in_, feature_names_in_
        As in :class:`ElasticNetCV`.
    alphas_ : ndarray of shape (n_alphas,)
    mse_path_ : ndarray of shape (n_alphas, n_folds)
    """

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        copy_X=True,
        cv=None,
        verbose=False,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
        alpha_selection="min",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
        keep=False,
        client=None,
    ):
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_selection = alpha_selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress
        self.keep = keep
        self.client = client

    def _l1_ratios(self):
        return 1.0


def _check_ridge_alphas(alphas, strictly_positive):
    arr = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D sequence, got {alphas!r}.")
    bad = ~np.isfinite(arr) | ((arr <= 0) if strictly_positive else (arr < 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        need = "> 0 (leave-one-out, cv=None)" if strictly_positive else ">= 0"
        raise ValueError(f"alphas[{i}] must be finite and {need}, got {arr[i]!r}.")
    return arr


class RidgeCV(_LinearPredictMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with its alphas cross-validated in closed form (``RidgeCV``).

    scikit-learn's ``RidgeCV``: minimizes
    ``Σ_i s_i (y_i - b - x_iᵀw)² + alpha Σ_j f_j w_j²`` for each candidate
    alpha and keeps the best.

    * ``cv=None`` (default): exact, efficient leave-one-out.  One
      eigendecomposition of the full data (of ``X̃ᵀX̃`` or ``X̃X̃ᵀ``,
      whichever is smaller) gives every alpha's fit and hat-matrix diagonal
      ``H_ii``; the left-out residual of row i is ``(y_i - ŷ_i) / (1 - H_ii)``.
    * ``cv`` an int, splitter or iterable: K-fold through gpureg's batched
      training sets (each fold's Gram is the full Gram minus its held-out
      block) and one closed-form path per set, scaled by each set's
      ``Σ s_i``; the full-data path comes from the same batch (no refit).

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=(0.1, 1.0, 10.0)
        Candidates, in scikit-learn's scale; > 0 for leave-one-out, >= 0
        otherwise (0 is the minimum-norm least-squares fit).
    fit_intercept : bool, default=True
    scoring : str, callable or None, default=None
        None scores leave-one-out by the negative (weighted) squared error
        and K-fold by R², as scikit-learn.  A string names a scikit-learn
        scorer; a callable has the signature ``scorer(estimator, X, y)``.
    cv : int, cross-validation splitter, iterable or None, default=None
        None is leave-one-out; an int is ``KFold`` without shuffling.
    gcv_mode : {None, 'auto', 'svd', 'eigen'}, default=None
        Accepted for compatibility; the smaller eigenproblem is always used.
    store_cv_results : bool, default=False
        Store scikit-learn's per-sample leave-one-out values in
        ``cv_results_`` (only with ``cv=None``).
    alpha_per_target : bool, default=False
        Accepted for compatibility: y has one target, so it changes nothing.
    alpha_selection : {'min', '1se'}, default='min'
        Use the alpha of best mean CV score, or the largest alpha within one
        standard error of it (``alpha_1se_``).
    backend : {'auto', 'cpu', 'gpu', 'numpy'}, default='auto'
        Validated as everywhere; the closed form currently runs on the host
        (numpy/LAPACK) whichever backend is chosen.
    dtype : {None, 'float32', 'float64'}, default=None
        Dtype of ``coef_``; None follows X.  The solve is float64.
    standardize : bool, default=False
        Penalize coefficients of unit-variance columns (glmnet); with
        leave-one-out the scales are the full data's.
    penalty_factor : array-like of shape (n_features,), default=None
        ``f_j >= 0``; 0 leaves feature j unpenalized.
    progress : bool, default=False
        Progress bar over the K-fold training sets.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha (see ``alpha_selection``).
    alpha_1se_ : float
        Largest alpha whose mean score is within one standard error of the
        best (equal to the best alpha when a scorer gives one LOO score).
    best_score_ : float
        Mean CV score of ``alpha_`` (negative mean squared error for
        leave-one-out without ``scoring``).
    coef_ : ndarray of shape (n_features,)
        Full-data fit at ``alpha_``.
    intercept_ : float
    cv_results_ : dict of ndarray or ndarray of shape (n_samples, n_alphas)
        By default a table with one entry per alpha: ``alpha``,
        ``mean_test_score``, ``std_err_test_score``, ``split{k}_test_score``
        (K-fold) and ``rank_test_score``.  With ``store_cv_results=True``,
        scikit-learn's array instead: the weighted squared LOO errors, or the
        LOO predictions when ``scoring`` is given.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    As in scikit-learn 1.9, sample weights enter every fit and every score
    (the leave-one-out errors and each fold's held-out score).
    """

    _parameter_constraints: dict = {
        "alphas": ["array-like", Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "cv": ["cv_object"],
        "gcv_mode": [StrOptions({"auto", "svd", "eigen"}), None],
        "store_cv_results": ["boolean"],
        "alpha_per_target": ["boolean"],
        **_ALPHA_SELECTION,
        **_GPUREG_CONSTRAINTS,
    }

    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        fit_intercept=True,
        scoring=None,
        cv=None,
        gcv_mode=None,
        store_cv_results=False,
        alpha_per_target=False,
        alpha_selection="min",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.cv = cv
        self.gcv_mode = gcv_mode
        self.store_cv_results = store_cv_results
        self.alpha_per_target = alpha_per_target
        self.alpha_selection = alpha_selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress

    def _check_params(self):
        if self.cv is not None and self.store_cv_results:
            raise ValueError("cv!=None and store_cv_results=True are incompatible")
        if self.cv is not None and self.alpha_per_target:
            raise ValueError("cv!=None and alpha_per_target=True are incompatible")
        if self.scoring is None:
            return None
        if isinstance(self.scoring, str):
            from sklearn.metrics import get_scorer

            return get_scorer(self.scoring)
        if callable(self.scoring):
            return self.scoring
        raise ValueError(
            f"scoring must be None, a scorer name or a callable, got {self.scoring!r}."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None, **params):
        """Fit the Ridge path, score every alpha by CV and keep the best fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` (``GroupKFold``, ...).
        **params
            Not supported (metadata routing); must be empty.

        Returns
        -------
        self
        """
        if params:
            raise ValueError(f"Unexpected fit parameters: {sorted(params)}.")
        scorer = self._check_params()
        resolve_backend(self.backend)
        X, y, sw = _validate_fit_input(self, X, y, sample_weight)
        out_dtype = v.resolve_dtype(X, self.dtype)
        alphas = _check_ridge_alphas(self.alphas, strictly_positive=self.cv is None)
        f = v.check_penalty_factor(self.penalty_factor, X.shape[1])
        problem = RidgeProblem(
            X,
            y,
            sample_weight=sw,
            penalty_factor=f,
            fit_intercept=v.check_bool(self.fit_intercept, "fit_intercept"),
            standardize=v.check_bool(self.standardize, "standardize"),
        )
        split_scores = None
        if self.cv is None:
            if X.shape[0] < 2:
                raise ValueError(
                    "leave-one-out (cv=None) needs at least 2 samples, "
                    f"but X has only n_samples={X.shape[0]}."
                )
            path = ridge_loo_path(problem, alphas)
            mean, se, stored = loo_scores(path, problem, scorer)
        else:
            folds = make_folds(self.cv, X.shape[0], groups)
            bar = progress_bar(self.progress, len(folds) + 1)
            path = ridge_kfold_path(
                problem, alphas, folds, None if bar is None else bar.update
            )
            if bar is not None:
                bar.close()
            split_scores = kfold_scores(
                path, problem, folds, alphas, scorer, self._fold_model
            )
            mean, se = mean_and_se(split_scores)
            stored = None

        # first of ties, as scikit-learn
        best, i_1se = one_se_index(mean, se, alphas, greater_is_better=True)
        chosen = best if self.alpha_selection == "min" else i_1se
        self.alpha_ = float(alphas[chosen])
        self.alpha_1se_ = float(alphas[i_1se])
        self.best_score_ = float(mean[chosen])
        self.coef_ = path.coef[chosen].astype(out_dtype)
        self.intercept_ = float(path.intercept[chosen]) if self.fit_intercept else 0.0
        if self.store_cv_results:
            self.cv_results_ = stored.astype(out_dtype)
        else:
            self.cv_results_ = cv_results_table(alphas, mean, se, split_scores)
        return self

    def _fold_model(self, alpha, coef, intercept):
        """A fitted :class:`Ridge` holding one fold's solution (for scorers)."""
        model = Ridge(alpha=alpha, fit_intercept=self.fit_intercept)
        model.coef_ = coef
        model.intercept_ = intercept
        model.n_features_in_ = coef.shape[0]
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
