"""``enet_path`` / ``lasso_path``: scikit-learn 1.9's functions over gpureg's solver."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from . import _validation as v
from ._binomial import binomial_backend, encode_labels, fit_binomial_grid
from ._fit import _sparse_backend, solve_grid
from ._interrupt import interruptible, warn
from ._result import warn_uncertified
from ._spec import GridSpec, check_family
from .backends import resolve_backend

_PARAMS = {
    "sample_weight",
    "tol",
    "max_iter",
    "selection",
    "random_state",
    "do_screening",
    "backend",
    "dtype",
    "penalty_factor",
    "memory_limit",
    "family",
}


@interruptible
def enet_path(
    X: ArrayLike,
    y: ArrayLike,
    *,
    l1_ratio: float = 0.5,
    eps: float = 1e-3,
    n_alphas: int | str = "deprecated",
    alphas: int | ArrayLike | None = 100,
    precompute: bool | str | ArrayLike = "auto",
    Xy: ArrayLike | None = None,
    copy_X: bool = True,
    coef_init: ArrayLike | None = None,
    verbose: bool | int = False,
    return_n_iter: bool = False,
    positive: bool = False,
    check_input: bool = True,
    **params: Any,
) -> tuple:
    """Elastic-net path by coordinate descent, as ``sklearn.linear_model.enet_path``.

    Minimizes ``1/(2 n_samples) ‖y - X w‖² + alpha * l1_ratio * ‖w‖₁
    + alpha * (1 - l1_ratio) / 2 * ‖w‖²`` for every alpha, without an
    intercept (center X and y first if you need one), warm-started along the
    path and certified by the duality gap.

    With ``family="binomial"`` (logistic regression, ``y`` any two labels,
    ``y_i ∈ {0, 1}`` with 1 = the greater label) it minimizes
    ``1/n_w Σ s_i [log(1 + e^{z_i}) - y_i z_i] + alpha * l1_ratio * ‖w‖₁
    + alpha * (1 - l1_ratio) / 2 * ‖w‖²`` with ``z = X w`` (no intercept):
    glmnet's ``lambda`` is ``alpha`` and scikit-learn's ``LogisticRegression``
    ``C`` is ``1 / (n_w alpha)``.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        A sparse X (CPU backend) is never densified.
    y : array-like of shape (n_samples,)
        Multi-output targets are not supported; for the binomial family any
        two labels.
    l1_ratio : float, default=0.5
        In [0, 1]; 0 is solved in closed form.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of an automatic grid.
    n_alphas : int, default='deprecated'
        Deprecated in scikit-learn 1.9: pass an int as ``alphas`` instead.
    alphas : int or array-like of shape (n_alphas,), default=100
        Grid size or explicit values (sorted in decreasing order).
    precompute, Xy, copy_X, coef_init, verbose, check_input
        Accepted for compatibility and ignored: gpureg chooses Gram or
        residual updates itself, never modifies X, and results do not depend
        on a warm start beyond ``tol``.
    return_n_iter : bool, default=False
        Also return the number of epochs of every alpha.
    positive : bool, default=False
        Constrain coefficients to be non-negative.
    **params
        ``sample_weight``, ``tol`` (1e-4), ``max_iter`` (1000) as in
        scikit-learn; ``selection='cyclic'`` only (``'random'`` is accepted and
        runs cyclic); ``random_state`` and ``do_screening`` are ignored
        (screening is always on and always safe).  gpureg adds ``backend``,
        ``dtype``, ``penalty_factor`` and ``memory_limit`` (as in
        :func:`gpureg.fit_grid`), and ``family`` (``'gaussian'``, the default,
        or ``'binomial'``, whose certificate is ``tol`` times the null model's
        mean log-loss, ``log 2``).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        On the scale of the objective above (of the family).
    n_iters : list of int
        Only with ``return_n_iter=True``.

    Raises
    ------
    ValueError
        For an unknown keyword in ``params`` or ``family``, and, for the
        binomial family, for a ``y`` without exactly two classes.
    """
    unknown = set(params) - _PARAMS
    if unknown:
        raise ValueError(f"Unexpected parameters in params: {sorted(unknown)}.")
    family = check_family(params.get("family", "gaussian"))
    if n_alphas != "deprecated":
        warn(
            "'n_alphas' was deprecated in scikit-learn 1.9; pass an int as 'alphas'.",
            FutureWarning,
        )
        if isinstance(alphas, int) or alphas is None:
            alphas = n_alphas
    if alphas is None:
        alphas = 100
    if params.get("selection", "cyclic") not in ("cyclic", "random"):
        raise ValueError("selection should be either random or cyclic.")
    if family == "binomial":
        y, classes = encode_labels(y)
    X, y, dt = v.check_X_y(X, y, params.get("dtype"), accept_sparse=True)
    if v.issparse(X):  # not the dense numpy reference's
        params = {**params, "backend": _sparse_backend(params.get("backend", "auto"))}
    spec = _path_spec(X.shape, dt, l1_ratio, eps, alphas, positive, family, params)
    if family == "binomial":
        # fit_binomial_grid warns on uncertified fits itself
        res = fit_binomial_grid(X, y, classes, spec, "deviance", False)
        alphas, coefs, n_iter = res.alphas[0], res.coef_path[0].T, res.n_iter
    else:
        res = solve_grid(X, y, spec)
        warn_uncertified(res.dual_gap, spec.tol * res.batch.stats.yy, spec.tol)
        # no intercept, no standardization: the solver's scale is X's
        alphas, coefs, n_iter = res.alphas[0], res.coef[0].T, res.n_iter
    out = (alphas, coefs.astype(dt), res.dual_gap[-1, 0].copy())
    if return_n_iter:
        out = (*out, [int(k) for k in n_iter[-1, 0]])
    return out


def _path_spec(shape, dt, l1_ratio, eps, alphas, positive, family, params):
    """The validated ``GridSpec`` of one path: no folds, intercept or scaling.

    Parameters
    ----------
    shape : tuple of int
        ``(n_samples, n_features)`` of the checked X.
    dt : numpy.dtype
        Working precision from :func:`gpureg._validation.check_X_y`.
    l1_ratio, eps, alphas, positive
        As given to :func:`enet_path` (``alphas`` not None).
    family : {'gaussian', 'binomial'}
    params : dict
        :func:`enet_path`'s ``**params``.

    Returns
    -------
    GridSpec
    """
    n_samples, n_features = shape
    rhos = v.check_l1_ratios(l1_ratio)
    if rhos.size != 1:
        raise ValueError("enet_path takes a single l1_ratio; use fit_grid for several.")
    backend = params.get("backend", "auto")
    if family == "binomial":
        backend = binomial_backend(backend)
    return GridSpec(
        folds=[],
        sample_weight=v.check_sample_weight(params.get("sample_weight"), n_samples),
        penalty_factor=v.check_penalty_factor(params.get("penalty_factor"), n_features),
        l1_ratios=rhos,
        alphas=v.check_alphas(alphas),
        eps=v.check_eps(eps),
        fit_intercept=False,
        standardize=False,
        positive=v.check_bool(positive, "positive"),
        tol=v.check_tol(params.get("tol", 1e-4)),
        max_iter=v.check_positive_int(params.get("max_iter", 1000), "max_iter"),
        dtype=dt,
        backend=resolve_backend(backend),
        memory_limit=params.get("memory_limit"),
    )


def lasso_path(X: ArrayLike, y: ArrayLike, **params: Any) -> tuple:
    """Lasso path: :func:`enet_path` with ``l1_ratio=1``, as scikit-learn's.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    **params
        Every keyword of :func:`enet_path` except ``l1_ratio``: ``eps``,
        ``alphas``, ``precompute``, ``Xy``, ``copy_X``, ``coef_init``,
        ``verbose``, ``return_n_iter``, ``positive``, and gpureg's own
        (``family="binomial"`` gives the L1-penalized logistic path).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
    n_iters : list of int
        Only with ``return_n_iter=True``.
    """
    if "l1_ratio" in params:
        raise TypeError("lasso_path() got an unexpected keyword argument 'l1_ratio'")
    return enet_path(X, y, l1_ratio=1.0, **params)
