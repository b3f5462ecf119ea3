"""scikit-learn-compatible logistic regression over ``fit_grid(family="binomial")``.

``from gpureg import LogisticRegression, LogisticRegressionCV`` instead of
scikit-learn's: the same parameters (where they apply), defaults, fitted
attributes and objective for **two classes**, solved by gpureg's certified
coordinate descent.  scikit-learn minimizes::

    C Σ_i s_i [log(1 + e^{z_i}) - y_i z_i] + l1_ratio ‖w‖₁ + (1 - l1_ratio)/2 ‖w‖²

and ``fit_grid`` the same objective divided by ``C n_w`` (``n_w = Σ s_i``,
class weights included), so ``alpha = 1 / (C n_w)``.  There is no second
solver here: every fit is a ``fit_grid`` call.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
)

from . import _validation as v
from ._fit import fit_grid
from ._measures import binomial_measure
from ._progress import progress_bar
from ._scoring import mean_and_se, one_se_index
from .estimators import (
    _ALPHA_SELECTION,
    _GPUREG_CONSTRAINTS,
    _grid_kwargs,
    _host,
    _validate_fit_input,
)

#: scikit-learn's parameters shared by both estimators (as in its 1.9 source).
_LOGISTIC_CONSTRAINTS = {
    "penalty": [
        StrOptions({"l1", "l2", "elasticnet"}),
        None,
        Hidden(StrOptions({"deprecated"})),
    ],
    "dual": ["boolean"],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "fit_intercept": ["boolean"],
    "intercept_scaling": [Interval(Real, 0, None, closed="neither")],
    "class_weight": [dict, StrOptions({"balanced"}), None],
    "random_state": ["random_state"],
    "solver": [
        StrOptions(
            {"lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"}
        )
    ],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "verbose": ["verbose"],
    "n_jobs": [None, Integral],
}

#: ``scoring`` of LogisticRegressionCV → (gpureg measure, score = sign * measure
#: + offset, in scikit-learn's "greater is better" convention).
_SCORINGS = {
    "neg_log_loss": ("deviance", -0.5, 0.0),  # deviance = 2 × mean log-loss
    "accuracy": ("misclassification", -1.0, 1.0),
    "roc_auc": ("auc", 1.0, 0.0),
}

_PENALTY_L1_RATIO = {"l1": 1.0, "l2": 0.0}


def _penalty_warning(kind):
    warnings.warn(
        "'penalty' was deprecated in scikit-learn 1.8 and will be removed in 1.10. "
        f"Leave it at its default and use {kind} instead: 0 for penalty='l2', 1 for "
        "penalty='l1', a float between 0 and 1 for penalty='elasticnet'.",
        FutureWarning,
        stacklevel=3,
    )


def _check_unsupported(est):
    """Errors for scikit-learn options gpureg's solver does not provide."""
    if est.dual:
        raise ValueError(
            "dual=True (liblinear's dual formulation) is not available: gpureg "
            "solves the primal problem; use dual=False."
        )
    if est.penalty is None:
        raise ValueError(
            "penalty=None (no penalty) is not supported: gpureg needs alpha > 0 "
            "to certify a fit; use a large C instead."
        )


def _validate_classifier_input(est, X, y, sample_weight):
    """``estimators._validate_fit_input`` for class labels (strings included)."""
    X, y, sample_weight = _validate_fit_input(est, X, y, sample_weight, y_numeric=False)
    check_classification_targets(y)
    return X, y, sample_weight


def _kept_results(path, oof):
    """``cv_results_`` entries of ``keep=True``: fold fits and out-of-fold log-odds."""
    out = {}
    for k in range(path.shape[0]):
        out[f"split{k}_coef"] = path[k, ..., :-1].reshape(-1, path.shape[-1] - 1)
        out[f"split{k}_intercept"] = path[k, ..., -1].ravel()
    out["oof_decision_function"] = oof.reshape(-1, oof.shape[-1])
    return out


def _binary_problem(est, y, sample_weight):
    """The classes, 0/1 labels and the fit weights ``s_i · class_weight[y_i]``.

    Parameters
    ----------
    est : LogisticRegression or LogisticRegressionCV
    y : ndarray of shape (n_samples,)
        Validated class labels.
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    classes : ndarray of shape (2,)
        Sorted, as scikit-learn's ``classes_``.
    y01 : ndarray of shape (n_samples,)
        1.0 where ``y == classes[1]``.
    weight : ndarray of shape (n_samples,)
        The weights of the fit (sample weight times class weight).
    """
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError(
            f"{type(est).__name__} needs samples of 2 classes, but y holds only "
            f"one class: {classes.tolist()}."
        )
    if classes.size > 2:
        raise ValueError(
            f"Only binary classification is supported: gpureg's "
            f"{type(est).__name__} fits the binomial family, but y holds "
            f"{classes.size} classes {classes[:10].tolist()}; wrap it in "
            "sklearn.multiclass.OneVsRestClassifier for more."
        )
    y01 = (y == classes[1]).astype(np.float64)
    weight = np.ones(y.shape[0]) if sample_weight is None else sample_weight.copy()
    if est.class_weight is not None:
        cw = compute_class_weight(
            est.class_weight, classes=classes, y=y, sample_weight=sample_weight
        )
        weight *= cw[y01.astype(np.intp)]
    return classes, y01, weight


class _BinaryLogisticMixin(LinearClassifierMixin):
    """``decision_function`` (host or CuPy X), probabilities and tags."""

    def decision_function(self, X):
        """The linear predictor ``X w + b`` (the log-odds of ``classes_[1]``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            numpy, pandas or CuPy (copied to the host).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return super().decision_function(_host(X))

    def predict_proba(self, X):
        """Probability of each class, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        check_is_fitted(self)
        return np.exp(self.predict_log_proba(X))

    def predict_log_proba(self, X):
        """Log-probability of each class, computed without overflow.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        z = self.decision_function(X)
        return np.stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)], axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.backend != "numpy"  # scipy.sparse X
        tags.classifier_tags.multi_class = False
        return tags


class LogisticRegression(_BinaryLogisticMixin, BaseEstimator):
    """Binary logistic regression with an elastic-net penalty (scikit-learn's).

    Minimizes scikit-learn's objective, with ``y_i ∈ {0, 1}`` (1 =
    ``classes_[1]``), ``z_i = b + x_iᵀ w`` and ``s_i`` the sample weight times
    the class weight::

        C Σ_i s_i [log(1 + e^{z_i}) - y_i z_i]
            + l1_ratio Σ_j f_j |w_j| + (1 - l1_ratio) / 2 Σ_j f_j w_j²

    by one :func:`gpureg.fit_grid` call (``family="binomial"``) at
    ``alpha = 1 / (C n_w)``, ``n_w = Σ s_i``.  Two classes only.

    Parameters
    ----------
    penalty : {'l1', 'l2', 'elasticnet'}, default='deprecated'
        Deprecated in scikit-learn 1.8, as there: use ``l1_ratio``.  'l1' and
        'l2' set ``l1_ratio`` to 1 and 0, 'elasticnet' uses ``l1_ratio``; a
        ``FutureWarning`` is issued.  ``None`` (no penalty) is not supported
        (ValueError): use a large ``C``.
    C : float, default=1.0
        Inverse of regularization strength, > 0 and finite (``np.inf``, the
        unpenalized fit, raises ValueError).
    l1_ratio : float, default=0.0
        Elastic-net mixing in [0, 1]: 0 is the L2 penalty, 1 the L1 penalty.
        ``None`` is deprecated, as in scikit-learn, and means 0.
    dual : bool, default=False
        Only ``False`` (gpureg solves the primal problem).
    tol : float, default=1e-4
        A fit is certified when its duality gap (on ``fit_grid``'s scale) is
        at most ``tol`` times the null model's mean log-loss.
    fit_intercept : bool, default=True
        Fit an unpenalized intercept.
    intercept_scaling, random_state, solver, verbose, warm_start, n_jobs
        Accepted for compatibility and ignored: the intercept is never
        penalized (as every scikit-learn solver but liblinear), and cyclic
        coordinate descent to a certified gap makes the solver, its random
        order and a warm start irrelevant to the result.
    class_weight : dict or 'balanced', default=None
        Multiplies each sample's weight by its class's weight, as scikit-learn
        (``'balanced'``: ``n_w / (2 · Σ s_i [y_i = k])`` from the sample weights).
    max_iter : int, default=1000
        Coordinate-descent passes per fit, at most (checked between Newton
        steps, so ``n_iter_`` may exceed it a little).  scikit-learn's default
        is 100 iterations of its solvers; a CD pass is far cheaper than an
        L-BFGS iteration, so gpureg's default is its own (1000).
    backend : {'auto', 'cpu', 'gpu'}, default='auto'
        'auto' is the GPU when CuPy sees a device, else the CPU.  On the GPU
        ``max_iter`` counts proximal-gradient (FISTA) iterations.
    dtype : {None, 'float32', 'float64'}, default=None
        Dtype of ``coef_``; None follows X.  The solve is float64.
    standardize : bool, default=False
        Penalize the coefficients of unit-variance columns (glmnet);
        ``coef_`` is on X's scale.
    penalty_factor : array-like of shape (n_features,), default=None
        ``f_j >= 0`` multiplies both penalties of feature j; 0 leaves it
        unpenalized.
    progress : bool, default=False
        Show a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels, sorted; ``classes_[1]`` is the modelled class.
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
        0 when ``fit_intercept=False``.
    n_iter_ : ndarray of shape (1,)
        Coordinate-descent passes of the fit.
    dual_gap_ : float
        The duality gap certifying the fit, on ``fit_grid``'s scale (the
        objective divided by ``C n_w``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Raises
    ------
    ValueError
        At fit, when y holds fewer or more than 2 classes (the message gives
        the count), or for ``dual=True``, ``penalty=None`` or ``C=np.inf``.

    Examples
    --------
    >>> import numpy as np, gpureg
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3)); y = np.where(X[:, 0] > 0, "a", "b")
    >>> clf = gpureg.LogisticRegression(C=0.5, l1_ratio=0.5).fit(X, y)
    >>> clf.coef_.shape, clf.classes_.tolist()
    ((1, 3), ['a', 'b'])
    """

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both"), None],
        "warm_start": ["boolean"],
        **_LOGISTIC_CONSTRAINTS,
        **_GPUREG_CONSTRAINTS,
    }

    def __init__(
        self,
        penalty="deprecated",
        *,
        C=1.0,
        l1_ratio=0.0,
        dual=False,
        tol=1e-4,
        fit_intercept=True,
        intercept_scaling=1,
        class_weight=None,
        random_state=None,
        solver="lbfgs",
        max_iter=1000,
        verbose=0,
        warm_start=False,
        n_jobs=None,
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
    ):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress

    def _l1_ratio(self):
        """The effective l1_ratio (scikit-learn 1.9's reading of ``penalty``)."""
        _check_unsupported(self)
        if self.l1_ratio is None:
            warnings.warn(
                "'l1_ratio=None' was deprecated in scikit-learn 1.8 and will "
                "trigger an error in 1.10. Use 0 <= l1_ratio <= 1 instead.",
                FutureWarning,
                stacklevel=3,
            )
        l1 = 0.0 if self.l1_ratio is None else float(self.l1_ratio)
        if self.penalty == "deprecated":
            return l1
        _penalty_warning("l1_ratio")
        if self.penalty == "elasticnet":
            if self.l1_ratio is None:
                raise ValueError(
                    "l1_ratio must be specified when penalty is elasticnet."
                )
            return l1
        return _PENALTY_L1_RATIO[self.penalty]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            numpy, pandas or CuPy; never modified.
        y : array-like of shape (n_samples,)
            Two class labels (numbers, strings, booleans).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by the class weights.

        Returns
        -------
        self
            Fitted estimator.
        """
        l1 = self._l1_ratio()
        if not np.isfinite(self.C):
            raise ValueError(
                "C=inf (no penalty) is not supported: gpureg needs alpha > 0 to "
                "certify a fit; use a large finite C instead."
            )
        X, y, sw = _validate_classifier_input(self, X, y, sample_weight)
        self.classes_, y01, weight = _binary_problem(self, y, sw)
        alpha = 1.0 / (self.C * weight.sum())
        res = fit_grid(
            X,
            y01,
            l1_ratio=l1,
            alphas=np.array([alpha]),
            cv=None,
            fit_intercept=self.fit_intercept,
            sample_weight=weight,
            tol=self.tol,
            max_iter=self.max_iter,
            family="binomial",
            **_grid_kwargs(self),
        )
        self.coef_ = res.coef_path[0, 0][None, :].copy()
        icpt = res.intercept_path[0, 0] if self.fit_intercept else 0.0
        self.intercept_ = np.array([icpt], dtype=self.coef_.dtype)
        self.n_iter_ = np.array([res.n_iter[-1, 0, 0]], dtype=np.int32)
        self.dual_gap_ = float(res.dual_gap[-1, 0, 0])
        return self


class LogisticRegressionCV(_BinaryLogisticMixin, BaseEstimator):
    """Binary logistic regression with C × l1_ratio chosen by cross-validation.

    scikit-learn's ``LogisticRegressionCV`` for two classes: every fold of
    the grid is solved by :func:`gpureg.fit_grid` (``family="binomial"``) as a
    warm-started path over the Cs, scored on its held-out rows, and the final
    model is the full-data fit at the best ``(C_, l1_ratio_)``.

    **The grid.**  ``C`` and gpureg's ``alpha`` are related by
    ``alpha = 1 / (C n_w)``, with ``n_w = Σ s_i`` the summed weight (class
    weights included) of the data being fit:

    * ``Cs`` a list: those Cs, as scikit-learn.  Each fold is fit at the
      *same C* as the full data, hence at ``alpha_k = 1 / (C n_w,k)`` with its
      own training weight ``n_w,k`` (scikit-learn's convention).
    * ``Cs`` an int: that many alphas log-spaced from each l1_ratio's
      ``alpha_max`` (the smallest alpha whose fit is all zeros, on the full
      data) down to ``eps · alpha_max`` (gpureg's, scikit-learn's
      ``ElasticNetCV`` and glmnet's grid, not scikit-learn's
      ``logspace(-4, 4, Cs)``); ``Cs_ = 1 / (alphas_ n_w)``.  Folds again
      share each C.
    * ``alphas`` given (int or array): it overrides ``Cs`` and every fold is
      fit at the *same alpha* as the full data (glmnet's ``cv.glmnet``
      convention); ``Cs_`` still reports ``1 / (alphas_ n_w)``.

    Parameters
    ----------
    Cs : int or array-like of shape (n_cs,), default=10
        Candidate Cs (> 0, finite), or the size of an automatic grid (see
        above).  Ignored when ``alphas`` is given.
    l1_ratios : array-like of shape (n_l1_ratios,), default=(0.0,)
        Elastic-net mixings in [0, 1] to cross-validate (0: L2, 1: L1).
        scikit-learn 1.9's default (``None``, with a ``FutureWarning``) is
        its future default ``(0.0,)`` here; ``None`` also means ``(0.0,)``.
    fit_intercept : bool, default=True
    cv : int, cross-validation splitter or iterable, default=None
        As scikit-learn: ``check_cv(cv, y, classifier=True)``, so None is
        5-fold and an int ``StratifiedKFold`` (no shuffling).
    dual : bool, default=False
        Only ``False``.
    penalty : {'l1', 'l2', 'elasticnet'}, default='deprecated'
        Deprecated in scikit-learn 1.8: 'l1' and 'l2' replace ``l1_ratios``
        by ``(1.0,)`` and ``(0.0,)``, 'elasticnet' uses ``l1_ratios``, with a
        ``FutureWarning``.
    scoring : {None, 'neg_log_loss', 'accuracy', 'roc_auc'}, default=None
        The held-out score of each fold, weighted by ``sample_weight`` (not by
        the class weights, as scikit-learn).  None is ``'neg_log_loss'``
        (glmnet's default, the binomial deviance, and scikit-learn's default
        from 1.11; scikit-learn 1.9 still uses accuracy for None).  Other
        scorers and callables are not supported (ValueError).
    solver, intercept_scaling, random_state, n_jobs, verbose
        Accepted for compatibility and ignored (see
        :class:`LogisticRegression`).
    tol : float, default=1e-4
    max_iter : int, default=1000
        As in :class:`LogisticRegression`.
    class_weight : dict or 'balanced', default=None
        As scikit-learn: 'balanced' weights are computed once on the whole
        of y (and ``sample_weight``) and used in every fold.
    refit : bool, default=True
        Only ``True`` (the full-data fit at the best point); ``False``
        (averaging the folds' coefficients) raises ValueError.
    use_legacy_attributes : bool, default=True
        scikit-learn 1.9's layouts of ``C_``, ``l1_ratio_``, ``scores_``,
        ``coefs_paths_`` and ``n_iter_`` (True), or its 1.10 ones (False); see
        Attributes.  scikit-learn's ``'warn'`` default is True without the
        warning.
    alphas : int or array-like of shape (n_alphas,), default=None
        gpureg's penalty grid; when given it overrides ``Cs`` (see above).
    eps : float, default=1e-3
        Length of an automatic grid, ``alpha_min = eps · alpha_max``.
    alpha_selection : {'min', '1se'}, default='min'
        Use the best mean CV score, or the largest alpha (smallest C), for the
        best l1_ratio, whose mean score is within one standard error of it
        (glmnet's ``lambda.1se``).
    backend, dtype, standardize, penalty_factor, progress
        As in :class:`LogisticRegression`.
    keep : bool, default=False
        Also keep each fold's fits and every row's out-of-fold log-odds in
        ``cv_results_`` (glmnet's ``keep``).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
        The full-data fit at the chosen ``(C_, l1_ratio_)``: the same model
        as ``LogisticRegression(C=C_[0], l1_ratio=l1_ratio_[0])`` fit on all
        the data.
    intercept_ : ndarray of shape (1,)
    C_ : ndarray of shape (1,) or float
        The chosen C (a float with ``use_legacy_attributes=False``).
    l1_ratio_ : ndarray of shape (1,) or float
        The chosen l1_ratio (a float with ``use_legacy_attributes=False``).
    alpha_ : float
        The chosen alpha, ``1 / (C_ n_w)``.
    alpha_1se_ : float
        Largest alpha, for the best l1_ratio, whose mean score is within one
        standard error of the best (glmnet's ``lambda.1se``).
    Cs_ : ndarray of shape (n_cs,) or (n_l1_ratios, n_cs)
        The Cs, **increasing** (a given list is sorted); two-dimensional
        only for an automatic grid with several l1_ratios (each l1_ratio has
        its own grid).
    alphas_ : ndarray of shape (n_l1_ratios, n_cs)
        gpureg's alphas of the full-data fits, decreasing (``alphas_[l, i]``
        goes with ``Cs_[..., i]``).
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    scores_ : dict or ndarray
        Held-out score of every fold fit, greater is better (e.g. the
        negative mean log-loss).  Legacy: ``{classes_[1]: ndarray of shape
        (n_folds, n_cs, n_l1_ratios)}``; otherwise an ndarray of shape
        ``(n_folds, n_l1_ratios, n_cs)``.
    coefs_paths_ : dict or ndarray
        Coefficients of every fold fit, the intercept last when
        ``fit_intercept`` (``n_dof = n_features + fit_intercept``).  Legacy:
        ``{classes_[1]: ndarray of shape (n_folds, n_cs, n_l1_ratios,
        n_dof)}``; otherwise ``(n_folds, n_l1_ratios, n_cs, 1, n_dof)``.
    n_iter_ : ndarray
        Iterations of every fold fit: shape ``(1, n_folds, n_cs,
        n_l1_ratios)`` (legacy) or ``(n_folds, n_l1_ratios, n_cs)``.
    cv_results_ : dict of ndarray
        One entry per grid point (``n_l1_ratios * n_cs``, l1_ratio-major):
        ``l1_ratio``, ``C``, ``alpha``, ``mean_test_{scoring}``,
        ``std_err_test_{scoring}``, ``split{k}_test_{scoring}`` and
        ``rank_test_{scoring}`` (1 = best), with ``{scoring}`` the scorer's
        name (``neg_log_loss`` for None).  With ``keep=True`` also
        ``split{k}_coef`` (n_grid, n_features), ``split{k}_intercept`` and
        ``oof_decision_function`` (n_grid, n_samples): each row's log-odds by
        the fit of the fold that held it out (NaN if none did).
    dual_gap_ : float
        Duality gap of the chosen full-data fit (``fit_grid``'s scale).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Raises
    ------
    ValueError
        At fit, when y holds fewer or more than 2 classes, a training fold
        holds one class, ``scoring`` is not supported, or ``refit=False``.

    Notes
    -----
    On (nearly) separable data, gpureg's binomial path stops where a fit
    explains 99.9% of the null deviance, as glmnet: the larger Cs then keep
    that fit (a ``UserWarning`` says so) while scikit-learn keeps fitting.
    """

    _parameter_constraints: dict = {
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like", None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(_SCORINGS)), None],
        "refit": ["boolean"],
        "use_legacy_attributes": ["boolean", Hidden(StrOptions({"warn"}))],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like", None],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        **_LOGISTIC_CONSTRAINTS,
        **_ALPHA_SELECTION,
        **_GPUREG_CONSTRAINTS,
        "keep": ["boolean"],
    }

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=(0.0,),
        fit_intercept=True,
        cv=None,
        dual=False,
        penalty="deprecated",
        scoring=None,
        solver="lbfgs",
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        intercept_scaling=1.0,
        random_state=None,
        use_legacy_attributes=True,
        alphas=None,
        eps=1e-3,
        alpha_selection="min",
        backend="auto",
        dtype=None,
        standardize=False,
        penalty_factor=None,
        progress=False,
        keep=False,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.dual = dual
        self.penalty = penalty
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes
        self.alphas = alphas
        self.eps = eps
        self.alpha_selection = alpha_selection
        self.backend = backend
        self.dtype = dtype
        self.standardize = standardize
        self.penalty_factor = penalty_factor
        self.progress = progress
        self.keep = keep

    def _scoring_name(self):
        return "neg_log_loss" if self.scoring is None else self.scoring

    def _l1_ratios(self):
        """The l1_ratios to cross-validate (scikit-learn 1.9's ``penalty`` rules)."""
        _check_unsupported(self)
        if not self.refit:
            raise ValueError(
                "refit=False (averaging the folds' coefficients) is not "
                "supported; use refit=True."
            )
        if self.penalty in _PENALTY_L1_RATIO:
            _penalty_warning("l1_ratios")
            return np.array([_PENALTY_L1_RATIO[self.penalty]])
        if self.penalty == "elasticnet":
            _penalty_warning("l1_ratios")
        if self.l1_ratios is None:
            return np.array([0.0])
        return v.check_l1_ratios(self.l1_ratios)

    def _grid(self, n_weight):
        """``fit_grid``'s alphas, whether folds share C, and the given Cs sorted."""
        if self.alphas is not None:
            return self.alphas, False, None
        if isinstance(self.Cs, Integral):
            return int(self.Cs), True, None
        Cs = np.atleast_1d(np.asarray(self.Cs, dtype=np.float64))
        if Cs.ndim != 1 or Cs.size == 0 or not np.all(np.isfinite(Cs) & (Cs > 0)):
            raise ValueError(
                f"Cs must be an int or a non-empty 1-D array of finite values > 0, "
                f"got {self.Cs!r}."
            )
        return 1.0 / (Cs * n_weight), True, np.sort(Cs)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Fit every C × l1_ratio × fold, pick the best, keep its full-data fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            numpy, pandas or CuPy; never modified.
        y : array-like of shape (n_samples,)
            Two class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the fits (times the class weights) and of the held-out
            scores.
        **params
            ``groups`` for a group-aware ``cv``; nothing else (metadata
            routing is not supported).

        Returns
        -------
        self
            Fitted estimator.
        """
        from sklearn.model_selection import check_cv

        groups = params.pop("groups", None)
        if params:
            raise ValueError(f"Unexpected fit parameters: {sorted(params)}.")
        l1s = self._l1_ratios()
        measure, sign, offset = _SCORINGS[self._scoring_name()]
        X, y, sw = _validate_classifier_input(self, X, y, sample_weight)
        self.classes_, y01, weight = _binary_problem(self, y, sw)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, groups))
        _check_folds(y01, weight, sw, folds, measure)
        n_weight = weight.sum()
        grid, same_c, given_Cs = self._grid(n_weight)

        kw = dict(
            fit_intercept=self.fit_intercept,
            tol=self.tol,
            max_iter=self.max_iter,
            family="binomial",
            cv=None,
            eps=self.eps,
            **{**_grid_kwargs(self), "progress": False},
        )
        bar = progress_bar(self.progress, len(folds) + 1)
        full = fit_grid(X, y01, l1_ratio=l1s, alphas=grid, sample_weight=weight, **kw)
        if bar is not None:
            bar.update(1)
        alphas = full.alphas  # (n_l1, n_cs), decreasing
        n_l1, n_cs = alphas.shape
        p = X.shape[1]
        path = np.empty((len(folds), n_l1, n_cs, p + 1))
        n_iter = np.empty((len(folds), n_l1, n_cs), dtype=np.int32)
        scores = np.empty((len(folds), n_l1, n_cs))
        oof = np.full((n_l1, n_cs, X.shape[0]), np.nan) if self.keep else None
        s_test = np.ones(X.shape[0]) if sw is None else sw
        for k, (train, test) in enumerate(folds):
            scale = n_weight / weight[train].sum() if same_c else 1.0
            # one call per l1_ratio when their grids differ (automatic grids)
            groups_l1 = (
                [np.arange(n_l1)]
                if np.all(alphas == alphas[0])
                else [np.array([i]) for i in range(n_l1)]
            )
            for ls in groups_l1:
                res = fit_grid(
                    X[train],
                    y01[train],
                    l1_ratio=l1s[ls],
                    alphas=alphas[ls[0]] * scale,
                    sample_weight=weight[train],
                    **kw,
                )
                coef = res.coef_path.astype(np.float64)
                icpt = res.intercept_path.astype(np.float64)
                path[k, ls, :, :p] = coef
                path[k, ls, :, p] = icpt
                n_iter[k, ls] = res.n_iter[-1]
                Z = X[test] @ coef.reshape(-1, p).T + icpt.reshape(-1)
                if oof is not None:
                    oof[ls[:, None, None], np.arange(n_cs)[:, None], test] = (
                        Z.T.reshape(ls.size, n_cs, -1)
                    )
                m = binomial_measure(y01[test], Z, s_test[test], measure)
                scores[k, ls] = sign * m.reshape(ls.size, n_cs) + offset
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        self._set_results(full, l1s, n_weight, path, n_iter, scores, given_Cs)
        if oof is not None:
            self.cv_results_.update(_kept_results(path, oof))
        return self

    def _set_results(self, full, l1s, n_weight, path, n_iter, scores, given_Cs):
        """The fitted attributes, from the full-data fit and the fold paths."""
        alphas = full.alphas
        n_folds, n_l1, n_cs, _ = path.shape
        mean, se = mean_and_se(np.moveaxis(scores, 0, -1))  # (n_l1, n_cs)
        il, ia = np.unravel_index(int(np.argmax(mean)), mean.shape)  # first of ties
        _, ia_1se = one_se_index(mean[il], se[il], alphas[il], greater_is_better=True)
        if self.alpha_selection == "1se":
            ia = ia_1se
        Cs = 1.0 / (alphas * n_weight)
        if given_Cs is not None:  # as given, not rounded through 1 / (alpha n_w)
            Cs = np.broadcast_to(given_Cs, alphas.shape).copy()
        # one grid for every l1_ratio unless each has its own automatic grid
        self.Cs_ = Cs[0] if np.all(alphas == alphas[0]) else Cs
        self.alphas_ = alphas
        self.l1_ratios_ = np.asarray(l1s, dtype=np.float64)
        self.alpha_ = float(alphas[il, ia])
        self.alpha_1se_ = float(alphas[il, ia_1se])
        C, l1 = float(Cs[il, ia]), float(l1s[il])
        self.coef_ = full.coef_path[il, ia][None, :].copy()
        icpt = full.intercept_path[il, ia] if self.fit_intercept else 0.0
        self.intercept_ = np.array([icpt], dtype=self.coef_.dtype)
        self.dual_gap_ = float(full.dual_gap[-1, il, ia])
        coefs = path if self.fit_intercept else path[..., :-1]
        if self.use_legacy_attributes in (True, "warn"):
            pos = self.classes_[1]
            self.C_ = np.array([C])
            self.l1_ratio_ = np.array([l1])
            self.scores_ = {pos: np.swapaxes(scores, 1, 2)}
            self.coefs_paths_ = {pos: np.swapaxes(coefs, 1, 2)}
            self.n_iter_ = np.swapaxes(n_iter, 1, 2)[None]
        else:
            self.C_ = C
            self.l1_ratio_ = l1
            self.scores_ = scores
            self.coefs_paths_ = coefs[:, :, :, None, :]
            self.n_iter_ = n_iter
        name = self._scoring_name()
        results = {
            "l1_ratio": np.repeat(self.l1_ratios_, n_cs),
            "C": Cs.ravel(),
            "alpha": alphas.ravel(),
            f"mean_test_{name}": mean.ravel(),
            f"std_err_test_{name}": se.ravel(),
        }
        for k in range(n_folds):
            results[f"split{k}_test_{name}"] = scores[k].ravel()
        results[f"rank_test_{name}"] = (
            np.argsort(np.argsort(-mean.ravel(), kind="stable"), kind="stable") + 1
        )
        self.cv_results_ = results

    def score(self, X, y, sample_weight=None):
        """The ``scoring`` of the predictions (``neg_log_loss`` for None).

        As scikit-learn's ``LogisticRegressionCV.score``, which uses its
        ``scoring`` option (not accuracy).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        from sklearn.metrics import get_scorer

        scorer = get_scorer(self._scoring_name())
        kw = {} if sample_weight is None else {"sample_weight": _host(sample_weight)}
        return float(scorer(self, _host(X), _host(y), **kw))


def _check_folds(y01, weight, sw, folds, measure):
    """Every training set needs both classes; AUC also every test set."""
    s_test = np.ones(y01.shape[0]) if sw is None else sw
    for k, (train, test) in enumerate(folds):
        pos, tot = weight[train] @ y01[train], weight[train].sum()
        if pos <= 0 or pos >= tot:
            raise ValueError(
                f"cv fold {k}: its training rows hold one class (weighted); use "
                "StratifiedKFold or fewer folds."
            )
        if measure == "auc":
            pos, tot = s_test[test] @ y01[test], s_test[test].sum()
            if pos <= 0 or pos >= tot:
                raise ValueError(
                    f"cv fold {k}: its held-out rows hold one class, so its ROC "
                    "AUC is undefined; use StratifiedKFold or another scoring."
                )
