"""One adapter per library, all with one signature, and the one shared checker.

Every adapter is called as::

    fit(X, y, *, l1_ratios, alphas, folds, tol, max_iter) -> AdapterResult

with ``alphas`` of shape ``(n_l1_ratios, n_alphas)`` (one descending row per
l1_ratio: the workloads pass gpureg's default grid, so every library solves
the same problems) and ``folds`` a list of ``(train, test)`` index arrays.
It fits every fold's training set and the full data along each path, scores
the held-out folds, and reports its own wall time: the whole library call,
including any centering, copies and scoring the adapter has to do because
the library does not.

Every library here minimizes scikit-learn's elastic-net objective::

    1/(2 n) ||y - b - X w||² + alpha * l1_ratio * ||w||_1
        + alpha * (1 - l1_ratio) / 2 * ||w||²

under its own names; each adapter's docstring gives the mapping (checked
numerically against ``sklearn.linear_model.ElasticNet`` at ``tol=1e-12``:
coefficients agree to 4e-9 or better for all of them).  The stopping
criteria differ, so :func:`certify_path` recomputes, from the returned
full-data coefficients alone, the objective, the duality gap and the KKT
violation of every grid point, identically for all libraries.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from gpureg._alphas import alpha_grid, alpha_max
from gpureg._penalty import duality_gap
from gpureg.backends import get_backend

#: ``eps`` of the workloads' alpha grids (gpureg's and scikit-learn's default).
EPS = 1e-3


@dataclass
class AdapterResult:
    """What one adapter returns.

    Attributes
    ----------
    coef_path : ndarray of shape (n_l1_ratios, n_alphas, n_features)
        Coefficients fitted on the full data, on X's scale.
    intercepts : ndarray of shape (n_l1_ratios, n_alphas)
    mse_path : ndarray of shape (n_l1_ratios, n_alphas, n_folds) or None
        Held-out mean squared error of each fold's fit.
    wall_s : float
        Wall seconds of the whole call.
    n_fits : int
        Fits the library solved (folds, full-data path, any refit).
    extra : dict
        Library-specific facts (its own certificates, settings, version).
    """

    coef_path: np.ndarray
    intercepts: np.ndarray
    mse_path: np.ndarray | None
    wall_s: float
    n_fits: int
    extra: dict = field(default_factory=dict)


class UnavailableError(RuntimeError):
    """The library (or its device) is not usable here."""


# ----------------------------------------------------------------- shared helpers


def default_alphas(X, y, l1_ratios, n_alphas=100, eps=EPS):
    """gpureg's (and scikit-learn's) automatic alpha grid, one row per l1_ratio.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    l1_ratios : array-like of shape (n_l1_ratios,)
    n_alphas : int, default=100
    eps : float, default=1e-3

    Returns
    -------
    ndarray of shape (n_l1_ratios, n_alphas)
        ``geomspace(alpha_max, eps * alpha_max)`` with ``alpha_max =
        max|X̃ᵀỹ| / (n l1_ratio)`` on the centered full data (float64).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    c = (X - X.mean(axis=0)).T @ (y - y.mean()) / X.shape[0]
    f = np.ones(X.shape[1])
    return np.stack(
        [alpha_grid(alpha_max(c, rho, f), n_alphas, eps) for rho in l1_ratios]
    )


def certify_path(
    X, y, coef_path, intercepts, *, l1_ratios, alphas, tol, chunk_elements=2**25
):
    """Objective, duality gap and KKT violation of every full-data grid point.

    The one correctness measure applied to every library, computed in float64
    from the returned coefficients only.  With ``X̃, ỹ`` the centered data,
    ``r = ỹ - X̃ w`` and ``grad = X̃ᵀ r / n``:

    * ``objective = ||y - b - X w||² / (2n) + penalty`` with the returned
      intercept ``b``;
    * ``gap_ratio``: the duality gap (``gpureg._penalty.duality_gap``, the
      intercept profiled out) over scikit-learn's threshold
      ``tol * ||ỹ||² / n``; at most 1 means "converged at tol";
    * ``kkt``: ``max_j`` of ``|grad_j - l2 w_j - l1 sign(w_j)|`` (``w_j ≠ 0``)
      or ``(|grad_j| - l1)₊`` (``w_j = 0``), over ``max_j |X̃ᵀỹ|_j / n``
      (the gradient's scale at ``w = 0``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef_path : ndarray of shape (n_l1_ratios, n_alphas, n_features)
    intercepts : ndarray of shape (n_l1_ratios, n_alphas)
    l1_ratios : array-like of shape (n_l1_ratios,)
    alphas : ndarray of shape (n_l1_ratios, n_alphas)
    tol : float
    chunk_elements : int, default=2**25
        Residuals are formed for this many ``n_samples × grid point`` values
        at a time.

    Returns
    -------
    dict
        ``objective``, ``gap_ratio``, ``kkt``: ndarrays of shape
        ``(n_l1_ratios, n_alphas)``; ``gap_tol`` (float) the threshold.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = X.shape
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    n_l1, n_alphas = np.shape(alphas)
    W = np.asarray(coef_path, dtype=np.float64).reshape(-1, p)
    b = np.asarray(intercepts, dtype=np.float64).reshape(-1)
    rho = np.repeat(np.asarray(l1_ratios, dtype=np.float64), n_alphas)
    a = np.asarray(alphas, dtype=np.float64).reshape(-1)
    l1, l2 = a * rho, a * (1.0 - rho)
    m = W.shape[0]
    rnorm2, grad = np.empty(m), np.empty((m, p))
    step = max(1, chunk_elements // n)
    for s in range(0, m, step):
        R = yc[:, None] - Xc @ W[s : s + step].T  # (n, chunk)
        rnorm2[s : s + step] = np.einsum("ij,ij->j", R, R) / n
        grad[s : s + step] = (Xc.T @ R).T / n  # (chunk, p)
    offset = y_mean - W @ x_mean - b  # intercept error
    pen = np.sum(l1[:, None] * np.abs(W) + 0.5 * l2[:, None] * W * W, axis=1)
    objective = 0.5 * (rnorm2 + offset**2) + pen
    gap_tol = tol * float(yc @ yc) / n
    gap = duality_gap(W, grad, rnorm2, l1, l2, np.ones(p), False)
    subgrad = grad - l2[:, None] * W
    viol = np.where(
        W != 0,
        np.abs(subgrad - l1[:, None] * np.sign(W)),
        np.maximum(np.abs(subgrad) - l1[:, None], 0.0),
    )
    scale = float(np.max(np.abs(Xc.T @ yc))) / n
    shape = (n_l1, n_alphas)
    return dict(
        objective=objective.reshape(shape),
        gap_ratio=(gap / gap_tol).reshape(shape),
        kkt=(viol.max(axis=1) / scale).reshape(shape),
        gap_tol=gap_tol,
    )


def _train_sets(folds, n_samples):
    return [train for train, _ in folds] + [np.arange(n_samples)]


def _loop_paths(X, y, folds, l1_ratios, alphas, path, *, center=True):
    """Fit each training set's path per l1_ratio with ``path``; score folds.

    ``path(Xt, yt, l1_ratio, alphas_row)`` returns ``(coefs (n_alphas,
    n_features), intercepts (n_alphas,))``; with ``center`` it is given
    centered (Fortran-ordered) data and the intercepts are recovered here.

    Returns
    -------
    coef_path, intercepts, mse_path
    """
    n_l1, n_alphas = alphas.shape
    n_samples, n_features = X.shape
    n_folds = len(folds)
    coef = np.empty((n_folds + 1, n_l1, n_alphas, n_features))
    icpt = np.empty((n_folds + 1, n_l1, n_alphas))
    for t, train in enumerate(_train_sets(folds, n_samples)):
        Xt, yt = X[train], y[train]
        if center:
            x_mean, y_mean = Xt.mean(axis=0), yt.mean()
            Xt = np.asfortranarray(Xt - x_mean)
            yt = yt - y_mean
        for il, rho in enumerate(l1_ratios):
            w, b = path(Xt, yt, float(rho), alphas[il])
            coef[t, il] = w
            icpt[t, il] = (y_mean - w @ x_mean) if center else b
    mse = np.empty((n_l1, n_alphas, n_folds))
    for k, (_, test) in enumerate(folds):
        pred = (coef[k].reshape(-1, n_features) @ X[test].T).reshape(
            n_l1, n_alphas, -1
        ) + icpt[k][..., None]
        mse[..., k] = np.mean((y[test] - pred) ** 2, axis=-1)
    return coef[-1], icpt[-1], mse


def _n_path_fits(folds, alphas):
    return (len(folds) + 1) * alphas.size


# ------------------------------------------------------------------------ gpureg


def _gpureg(backend):
    def fit(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
        import gpureg

        if backend == "gpu":
            reason = get_backend("gpu").missing_reason()
            if reason is not None:
                raise UnavailableError(reason)
        alphas = np.asarray(alphas, dtype=np.float64)
        n_l1, n_alphas = alphas.shape
        eps = float(alphas[0, -1] / alphas[0, 0])
        # gpureg's automatic grid is per l1_ratio, as the workloads' grids are:
        # then one call with alphas=n_alphas (what a user asking for the
        # default grid writes; this check is not timed), else one per row
        auto = np.allclose(
            default_alphas(X, y, l1_ratios, n_alphas, eps), alphas, rtol=1e-12
        )
        t0 = time.perf_counter()
        calls = (
            [(list(l1_ratios), n_alphas)]
            if auto
            else [([rho], alphas[il]) for il, rho in enumerate(l1_ratios)]
        )
        results = [
            gpureg.fit_grid(
                X,
                y,
                l1_ratio=rho,
                alphas=a,
                eps=eps,
                cv=folds,
                tol=tol,
                max_iter=max_iter,
                backend=backend,
            )
            for rho, a in calls
        ]
        get_backend(backend).synchronize()  # queued device work counts
        wall = time.perf_counter() - t0

        def cat(name):
            return np.concatenate([getattr(r, name) for r in results])

        got = cat("alphas")
        ratio = np.concatenate(
            [(r.dual_gap / r.gap_tol[:, None, None]).ravel() for r in results]
        )
        return AdapterResult(
            coef_path=cat("coef_path"),
            intercepts=cat("intercept_path"),
            mse_path=cat("mse_path"),
            wall_s=wall,
            n_fits=sum(r.n_fits for r in results),
            extra=dict(
                version=gpureg.__version__,
                calls=len(results),
                mode=results[0].mode,
                dtype=str(results[0].dtype),
                all_certified=bool(all(r.converged.all() for r in results)),
                own_max_gap_ratio_all_fits=float(ratio.max()),
                alphas_max_rel_diff=float(np.max(np.abs(got - alphas) / alphas)),
                timings=results[0].timings if len(results) == 1 else None,
            ),
        )

    fit.__doc__ = f"""gpureg ``fit_grid(..., backend={backend!r})``.

    Mapping: identity (gpureg's objective is scikit-learn's).  One call
    with ``alphas=n_alphas, eps=alphas[0,-1]/alphas[0,0]`` when ``alphas`` is
    the automatic per-l1_ratio grid (the workloads' case; checked in the
    call, untimed), else one call per l1_ratio with that row.  ``tol`` is
    scikit-learn's duality-gap criterion; ``max_iter`` caps CD epochs.
    """
    return fit


# --------------------------------------------------------------------- sklearn


def fit_sklearn(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
    """scikit-learn: ``ElasticNetCV`` on the folds, ``enet_path`` on the full data.

    Mapping: identity (the reference objective).  ``ElasticNetCV`` takes one
    alpha array for all l1_ratios, so it is called once per l1_ratio with
    ``alphas=alphas[il]`` and ``cv=folds`` (it also refits the best alpha:
    one fit per call); ``enet_path`` on the centered full data gives the
    full-data path (intercept ``ȳ - x̄ᵀw``).  ``tol``: the same duality-gap
    criterion; ``max_iter``: CD epochs.
    """
    import sklearn
    from sklearn.linear_model import ElasticNetCV, enet_path

    n_l1, n_alphas = alphas.shape
    t0 = time.perf_counter()
    mse, coef, icpt = [], [], []
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    for il, rho in enumerate(l1_ratios):
        cv = ElasticNetCV(
            l1_ratio=float(rho), alphas=alphas[il], cv=folds, tol=tol, max_iter=max_iter
        ).fit(X, y)
        mse.append(cv.mse_path_)
        _, w, _ = enet_path(
            Xc, yc, l1_ratio=float(rho), alphas=alphas[il], tol=tol, max_iter=max_iter
        )
        coef.append(w.T)
        icpt.append(y_mean - w.T @ x_mean)
    wall = time.perf_counter() - t0
    return AdapterResult(
        coef_path=np.stack(coef),
        intercepts=np.stack(icpt),
        mse_path=np.stack(mse),
        wall_s=wall,
        n_fits=_n_path_fits(folds, alphas) + n_l1,
        extra=dict(version=sklearn.__version__, calls=2 * n_l1),
    )


# ----------------------------------------------------------------------- skglm


def fit_skglm(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
    """skglm: ``skglm.ElasticNet(...).path`` (Anderson-accelerated working-set CD).

    Mapping: identity — skglm's ``Quadratic`` datafit is ``||y - Xw||²/(2n)``
    and ``L1_plus_L2(alpha, l1_ratio)`` is ``alpha * (l1_ratio |w|_1 +
    (1 - l1_ratio)/2 |w|²)``.  Fitted on centered data without intercept
    (centering and held-out scoring done here, timed).  ``tol`` is skglm's
    own criterion (max KKT violation on the gradient scale, not a gap);
    ``max_iter`` is not passed (skglm's ``max_iter`` counts working-set
    iterations, default 50, and ``max_epochs`` 50,000 inner epochs).
    """
    import skglm

    def path(Xt, yt, rho, a):
        est = skglm.ElasticNet(l1_ratio=rho, tol=tol, fit_intercept=False)
        _, w, _, _ = est.path(Xt, yt, a)
        return w.T, None

    t0 = time.perf_counter()
    coef, icpt, mse = _loop_paths(X, y, folds, l1_ratios, alphas, path)
    return AdapterResult(
        coef,
        icpt,
        mse,
        time.perf_counter() - t0,
        _n_path_fits(folds, alphas),
        dict(version=skglm.__version__),
    )


# ----------------------------------------------------------------------- celer


def fit_celer(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
    """celer: ``celer_path(X, y, 'lasso', alphas=..., l1_ratio=...)``.

    Mapping: identity — celer's elastic net is ``||y - Xw||²/(2n) + alpha *
    l1_ratio |w|_1 + alpha (1 - l1_ratio)/2 |w|²``.  Centered data, no
    intercept (centering and scoring done here, timed).  ``tol``: celer's
    duality gap relative to ``||y||²/n`` (scikit-learn's criterion);
    ``max_iter`` is not passed (celer's counts outer working-set iterations).
    """
    import celer

    def path(Xt, yt, rho, a):
        _, w, _ = celer.celer_path(Xt, yt, "lasso", alphas=a, l1_ratio=rho, tol=tol)
        return w.T, None

    t0 = time.perf_counter()
    coef, icpt, mse = _loop_paths(X, y, folds, l1_ratios, alphas, path)
    return AdapterResult(
        coef,
        icpt,
        mse,
        time.perf_counter() - t0,
        _n_path_fits(folds, alphas),
        dict(version=celer.__version__),
    )


# ------------------------------------------------------------------------ glum


def fit_glum(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
    """glum: ``GeneralizedLinearRegressor(family='normal', alpha_search=True)``.

    Mapping: identity for the Gaussian family with unit weights.  glum
    minimizes ``1/(2 Σ s_i) deviance + alpha (l1_ratio |P1 w|_1 +
    (1 - l1_ratio)/2 wᵀP2w)``; the normal deviance is ``Σ s_i (y_i - μ_i)²``,
    so with ``s = 1`` and ``P1 = P2 = I`` this is scikit-learn's objective at
    the same ``alpha`` (sample weights are normalized to sum to one, so with
    weights the mapping still holds).  glum fits its own intercept (no
    centering here); ``alpha=list(alphas[il])`` with ``alpha_search=True``
    fits the path with warm starts (glum 3.4.1 raises on an ndarray
    ``alpha``, and its ``alphas=`` alias is deprecated: the same path, bit
    for bit).
    ``tol`` is passed as ``gradient_tol`` (glum's criterion: the minimum-norm
    subgradient); ``max_iter`` caps IRLS iterations.
    """
    import glum

    def path(Xt, yt, rho, a):
        est = glum.GeneralizedLinearRegressor(
            family="normal",
            l1_ratio=rho,
            alpha=a.tolist(),
            alpha_search=True,
            gradient_tol=tol,
            max_iter=max_iter,
            fit_intercept=True,
        ).fit(Xt, yt)
        return np.asarray(est.coef_path_), np.asarray(est.intercept_path_)

    t0 = time.perf_counter()
    coef, icpt, mse = _loop_paths(X, y, folds, l1_ratios, alphas, path, center=False)
    return AdapterResult(
        coef,
        icpt,
        mse,
        time.perf_counter() - t0,
        _n_path_fits(folds, alphas),
        dict(version=glum.__version__),
    )


# ---------------------------------------------------------------------- adelie


def fit_adelie(X, y, *, l1_ratios, alphas, folds, tol, max_iter, adelie_tol=None):
    """adelie: ``grpnet(X, glm.gaussian(y), alpha=l1_ratio, lmda_path=alphas)``.

    Mapping: glmnet's names — adelie's ``lmda`` is ``alpha`` and its
    ``alpha`` is ``l1_ratio``; the Gaussian loss with default weights
    ``1/n`` is ``Σ (y_i - η_i)² / (2n)``, so the objective is
    scikit-learn's.  Singleton groups (the Lasso/elastic net), no
    standardization, its own intercept, ``early_exit=False`` (else adelie
    stops the path once 90% of the deviance is explained), ``n_threads`` =
    all cores.  ``tol`` and ``max_iter`` are not passed: adelie's ``tol``
    (default 1e-7) bounds a coordinate-descent change, not a gap;
    ``adelie_tol`` sets it (the ``adelie-tight`` row: 1e-10, to compare at
    an accuracy closer to gpureg's).
    """
    import adelie as ad

    extra = {} if adelie_tol is None else {"tol": adelie_tol}

    n_threads = os.cpu_count() or 1

    def path(Xt, yt, rho, a):
        state = ad.grpnet(
            np.asfortranarray(Xt),
            ad.glm.gaussian(yt),
            alpha=rho,
            lmda_path=a,
            early_exit=False,
            intercept=True,
            n_threads=n_threads,
            progress_bar=False,
            **extra,
        )
        if len(state.lmdas) != len(a):
            raise RuntimeError(
                f"adelie stopped after {len(state.lmdas)} of {len(a)} alphas"
            )
        return state.betas.toarray(), np.asarray(state.intercepts)

    t0 = time.perf_counter()
    coef, icpt, mse = _loop_paths(X, y, folds, l1_ratios, alphas, path, center=False)
    return AdapterResult(
        coef,
        icpt,
        mse,
        time.perf_counter() - t0,
        _n_path_fits(folds, alphas),
        dict(version=ad.__version__, n_threads=n_threads, adelie_tol=adelie_tol),
    )


def fit_adelie_tight(X, y, *, l1_ratios, alphas, folds, tol, max_iter):
    """adelie with its coordinate-descent ``tol`` at 1e-10 (default 1e-7)."""
    return fit_adelie(
        X,
        y,
        l1_ratios=l1_ratios,
        alphas=alphas,
        folds=folds,
        tol=tol,
        max_iter=max_iter,
        adelie_tol=1e-10,
    )


# --------------------------------------------------------------------- registry

#: Library name -> (adapter, importable module that must be present).
ADAPTERS = {
    "gpureg-gpu": (_gpureg("gpu"), "gpureg"),
    "gpureg-cpu": (_gpureg("cpu"), "gpureg"),
    "sklearn": (fit_sklearn, "sklearn"),
    "skglm": (fit_skglm, "skglm"),
    "celer": (fit_celer, "celer"),
    "glum": (fit_glum, "glum"),
    "adelie": (fit_adelie, "adelie"),
    "adelie-tight": (fit_adelie_tight, "adelie"),
}


def unavailable(name):
    """Why library ``name`` cannot run here, or None.

    Parameters
    ----------
    name : str
        A key of :data:`ADAPTERS`.

    Returns
    -------
    str or None
    """
    import importlib

    if name not in ADAPTERS:
        return f"unknown library {name!r}; known: {', '.join(ADAPTERS)}"
    try:
        importlib.import_module(ADAPTERS[name][1])
    except Exception as exc:
        return f"{ADAPTERS[name][1]} is not importable ({type(exc).__name__}: {exc})"
    if name == "gpureg-gpu":
        return get_backend("gpu").missing_reason()
    return None


def get(name):
    """The adapter function of library ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    callable
        ``fit(X, y, *, l1_ratios, alphas, folds, tol, max_iter) ->
        AdapterResult``.
    """
    return ADAPTERS[name][0]
