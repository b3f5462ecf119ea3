"""gpureg's fits against scikit-learn's ElasticNet / Lasso / Ridge.

Every comparison is on the *objective* (computed here, in float64, by
``conftest.enet_objective``): solutions of the Lasso need not be unique
(duplicated columns), the minimum is.  gpureg runs at ``tol=1e-10``, so its
certified sub-optimality is at most ``1e-10 · Σ s ỹ² / n_w``; the problems
below keep that well under ``1e-8`` of the objective.  scikit-learn runs at
``tol=1e-12`` (Ridge in closed form), tighter than gpureg, so it is the
reference and

    rel = (obj_gpureg - obj_sklearn) / |obj_sklearn|   must satisfy   rel <= 1e-8,

plus a two-sided sanity bound ``rel >= -1e-8`` (gpureg cannot be much *better*
than a converged reference either).

Both backends run the same checks: ``"cpu"`` (numba) on the larger problems,
``"numpy"`` (the slow reference) on smaller ones.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import (
    alpha_max_lasso,
    enet_objective,
    make_data,
    rel_diff,
    weighted_center,
)
from scipy.optimize import nnls
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge

import gpureg

GP_TOL = 1e-10
SK_TOL = 1e-12
REL = 1e-8
ALPHA_FRACTIONS = np.array([0.5, 0.1, 0.02])

#: (kind, shape name) of the data sets; each backend gets its own sizes.
SIZES = {
    "cpu": {"tall": (80, 20), "wide": (40, 90)},
    "numpy": {"tall": (50, 15), "wide": (20, 30)},
}
CASES = [
    ("iid", "tall"),
    ("iid", "wide"),
    ("toeplitz", "tall"),
    ("toeplitz", "wide"),
    ("duplicated", "tall"),
    ("duplicated", "wide"),
    ("constant", "tall"),
    ("constant", "wide"),
]
BACKENDS = ["cpu", "numpy"]


def case_params(backends=BACKENDS, cases=CASES):
    """Parametrize (backend, kind, n, p); the numpy backend skips wide
    correlated designs, which take it thousands of slow epochs."""
    out = []
    for backend in backends:
        for kind, shape in cases:
            if backend == "numpy" and shape == "wide" and kind != "iid":
                continue
            n, p = SIZES[backend][shape]
            out.append(
                pytest.param(backend, kind, n, p, id=f"{backend}-{kind}-{n}x{p}")
            )
    return out


def gp_fit(X, y, alphas, l1_ratio, **kw):
    """gpureg's full-data path for one l1_ratio: (coef (n_alphas, p),
    intercept (n_alphas,), GridResult)."""
    kw.setdefault("tol", GP_TOL)
    kw.setdefault("max_iter", 100_000)
    res = gpureg.fit_grid(
        X, y, l1_ratio=l1_ratio, alphas=np.asarray(alphas), cv=None, **kw
    )
    return res.coef_path[0], res.intercept_path[0], res


def sk_fit(
    X, y, alpha, l1_ratio, *, fit_intercept=True, sample_weight=None, positive=False
):
    """scikit-learn's solution (coef, intercept) of the same objective.

    Positive Ridge (``l1_ratio=0, positive=True``) has no exact scikit-learn
    solver (``ElasticNet`` with ``l1_ratio=0`` does not certify, ``Ridge``'s
    lbfgs is inexact); it is solved as the non-negative least-squares problem
    ``[√s X̃; √(n_w alpha) I] w ≈ [√s ỹ; 0]`` by ``scipy.optimize.nnls``
    (an active-set method, exact to round-off).
    """
    if l1_ratio == 0 and positive:
        return nnls_ridge(X, y, alpha, fit_intercept, sample_weight)
    if l1_ratio == 0:
        n_w = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        model = Ridge(alpha=alpha * n_w, fit_intercept=fit_intercept, solver="cholesky")
    elif l1_ratio == 1:
        model = Lasso(
            alpha=alpha,
            fit_intercept=fit_intercept,
            positive=positive,
            tol=SK_TOL,
            max_iter=1_000_000,
        )
    else:
        model = ElasticNet(
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            positive=positive,
            tol=SK_TOL,
            max_iter=1_000_000,
        )
    with warnings.catch_warnings():
        # the reference must itself be converged
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y, sample_weight=sample_weight)
    return np.asarray(model.coef_, dtype=np.float64), float(model.intercept_)


def nnls_ridge(X, y, alpha, fit_intercept, sample_weight):
    """Positive Ridge by NNLS on the augmented system (see :func:`sk_fit`)."""
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    if fit_intercept:
        Xc, yc, x_mean, y_mean = weighted_center(X, y, s)
    else:
        Xc, yc, x_mean, y_mean = X, y, np.zeros(X.shape[1]), 0.0
    sq = np.sqrt(s)
    p = X.shape[1]
    A = np.vstack([Xc * sq[:, None], np.sqrt(np.sum(s) * alpha) * np.eye(p)])
    b = np.concatenate([yc * sq, np.zeros(p)])
    w = nnls(A, b, maxiter=50 * p)[0]
    return w, float(y_mean - x_mean @ w)


def assert_objectives_match(
    X,
    y,
    alphas,
    l1_ratio,
    coef,
    intercept,
    *,
    fit_intercept=True,
    sample_weight=None,
    positive=False,
    rel=REL,
):
    """gpureg's objective is within ``rel`` of scikit-learn's at every alpha."""
    rels = []
    for k, alpha in enumerate(alphas):
        w_sk, b_sk = sk_fit(
            X,
            y,
            alpha,
            l1_ratio,
            fit_intercept=fit_intercept,
            sample_weight=sample_weight,
            positive=positive,
        )
        obj_sk = enet_objective(X, y, w_sk, b_sk, alpha, l1_ratio, sample_weight)
        obj_gp = enet_objective(
            X, y, coef[k], intercept[k], alpha, l1_ratio, sample_weight
        )
        rels.append(rel_diff(obj_gp, obj_sk))
    rels = np.array(rels)
    assert np.all(rels <= rel), f"gpureg worse than sklearn: rel={rels}"
    assert np.all(rels >= -rel), f"gpureg better than converged sklearn: {rels}"
    return rels


def alphas_for(X, y, fit_intercept=True, sample_weight=None):
    """Three alphas spanning sparse to dense fits (relative to the Lasso's
    alpha_max), used for every l1_ratio."""
    return alpha_max_lasso(X, y, fit_intercept, sample_weight) * ALPHA_FRACTIONS


# --------------------------------------------------------------------- core grid
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["icpt", "noicpt"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(("backend", "kind", "n", "p"), case_params())
def test_objective_matches_sklearn(backend, kind, n, p, l1_ratio, fit_intercept):
    X, y = make_data(n, p, kind, seed=1)
    alphas = alphas_for(X, y, fit_intercept)
    coef, intercept, res = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, fit_intercept=fit_intercept
    )
    assert res.mode == ("gram" if n >= p else "residual")
    assert res.converged.all()
    assert np.all(res.dual_gap >= -1e-12 * res.gap_tol[:, None, None] / GP_TOL)
    np.testing.assert_allclose(res.alphas[0], alphas, rtol=1e-15)
    if not fit_intercept:
        np.testing.assert_array_equal(intercept, 0.0)
    if kind == "constant" and fit_intercept:
        # a constant column is absorbed by the intercept: its coefficient is 0
        np.testing.assert_array_equal(coef[:, p - 1], 0.0)
    assert_objectives_match(
        X, y, alphas, l1_ratio, coef, intercept, fit_intercept=fit_intercept
    )


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["icpt", "noicpt"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "kind", "n", "p"),
    case_params(cases=[("iid", "tall"), ("iid", "wide"), ("toeplitz", "tall")]),
)
def test_sample_weight_matches_sklearn(backend, kind, n, p, l1_ratio, fit_intercept):
    X, y = make_data(n, p, kind, seed=2)
    rng = np.random.default_rng(3)
    sw = rng.uniform(0.2, 3.0, size=n)
    alphas = alphas_for(X, y, fit_intercept, sw)
    coef, intercept, res = gp_fit(
        X,
        y,
        alphas,
        l1_ratio,
        backend=backend,
        fit_intercept=fit_intercept,
        sample_weight=sw,
    )
    assert res.converged.all()
    assert_objectives_match(
        X,
        y,
        alphas,
        l1_ratio,
        coef,
        intercept,
        fit_intercept=fit_intercept,
        sample_weight=sw,
    )
    # the weights are really used: the unweighted optimum is worse here
    c0, b0, _ = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, fit_intercept=fit_intercept
    )
    for k, a in enumerate(alphas):
        assert enet_objective(X, y, c0[k], b0[k], a, l1_ratio, sw) > enet_objective(
            X, y, coef[k], intercept[k], a, l1_ratio, sw
        ) * (1 + 1e-6)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 30, 8), ("cpu", 20, 30), ("numpy", 30, 8)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram"],
)
def test_integer_weights_equal_repeated_rows(backend, n, p, l1_ratio):
    """Weight 2 == the row twice; weight 0 == the row removed (all in gpureg)."""
    X, y = make_data(n, p, "iid", seed=4)
    sw = np.ones(n)
    sw[:5] = 2.0
    sw[5:9] = 0.0
    keep = sw > 0
    Xr = np.vstack([X[keep], X[:5]])
    yr = np.concatenate([y[keep], y[:5]])
    alphas = alphas_for(X, y, True, sw)
    cw, bw, _ = gp_fit(X, y, alphas, l1_ratio, backend=backend, sample_weight=sw)
    cr, br, _ = gp_fit(Xr, yr, alphas, l1_ratio, backend=backend)
    np.testing.assert_allclose(cw, cr, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bw, br, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["icpt", "noicpt"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "kind", "n", "p"),
    case_params(cases=[("iid", "tall"), ("iid", "wide"), ("toeplitz", "tall")]),
)
def test_positive_matches_sklearn(backend, kind, n, p, l1_ratio, fit_intercept):
    X, y = make_data(n, p, kind, seed=5)
    alphas = alphas_for(X, y, fit_intercept)
    coef, intercept, res = gp_fit(
        X,
        y,
        alphas,
        l1_ratio,
        backend=backend,
        fit_intercept=fit_intercept,
        positive=True,
    )
    assert res.converged.all()
    assert np.all(coef >= 0.0)
    if fit_intercept:
        # the constraint binds: the generating beta has negative entries
        free, _, _ = gp_fit(X, y, alphas, l1_ratio, backend=backend)
        assert np.any(free < 0.0)
    assert_objectives_match(
        X,
        y,
        alphas,
        l1_ratio,
        coef,
        intercept,
        fit_intercept=fit_intercept,
        positive=True,
    )


# --------------------------------------------------------------- penalty factors
def sk_penalty_factor_fit(X, y, alpha, l1_ratio, f):
    """scikit-learn solution of the problem with penalty factors, through
    reparametrizations (intercept fitted: X and y are centered first).

    * Features with ``f_j = 0`` are profiled out: X_P and y are projected on the
      orthogonal complement of X_U (centered), the penalized problem is solved
      there and ``w_U`` is the least-squares fit of what is left.
    * ``l1_ratio = 1``: Lasso on ``X_P / f`` gives ``v = f w``.
    * ``l1_ratio = 0``: Ridge on ``X_P / sqrt(f)`` gives ``v = sqrt(f) w``.
    * otherwise: the L2 term as extra rows ``sqrt(n alpha (1 - l1_ratio) f_j) e_j``
      (target 0) and a Lasso on the augmented ``[X_P; D] / f`` with
      ``alpha' = n alpha l1_ratio / (n + |P|)``.
    """
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    U = np.flatnonzero(f == 0)
    P = np.flatnonzero(f > 0)
    fp = f[P]
    A, b = Xc[:, P], yc
    if U.size:
        Q, _ = np.linalg.qr(Xc[:, U])
        A = A - Q @ (Q.T @ A)
        b = b - Q @ (Q.T @ b)
    if l1_ratio == 0:
        m = Ridge(alpha=alpha * n, fit_intercept=False, solver="cholesky")
        m.fit(A / np.sqrt(fp), b)
        wp = m.coef_ / np.sqrt(fp)
    elif l1_ratio == 1:
        m = Lasso(alpha=alpha, fit_intercept=False, tol=SK_TOL, max_iter=1_000_000)
        m.fit(A / fp, b)
        wp = m.coef_ / fp
    else:
        D = np.diag(np.sqrt(n * alpha * (1 - l1_ratio) * fp))
        Aa = np.vstack([A, D]) / fp
        ba = np.concatenate([b, np.zeros(P.size)])
        m = Lasso(
            alpha=n * alpha * l1_ratio / (n + P.size),
            fit_intercept=False,
            tol=SK_TOL,
            max_iter=1_000_000,
        )
        m.fit(Aa, ba)
        wp = m.coef_ / fp
    w = np.zeros(X.shape[1])
    w[P] = wp
    if U.size:
        w[U] = np.linalg.lstsq(Xc[:, U], yc - Xc[:, P] @ wp, rcond=None)[0]
    intercept = y.mean() - X.mean(axis=0) @ w
    return w, intercept


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 70, 20), ("cpu", 30, 60), ("numpy", 40, 12)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram"],
)
def test_positive_penalty_factor_matches_rescaled_sklearn(backend, n, p, l1_ratio):
    X, y = make_data(n, p, "toeplitz", seed=6)
    f = np.random.default_rng(7).uniform(0.3, 3.0, size=p)
    alphas = alphas_for(X, y)
    coef, intercept, res = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, penalty_factor=f
    )
    assert res.converged.all()
    for k, a in enumerate(alphas):
        w_sk, b_sk = sk_penalty_factor_fit(X, y, a, l1_ratio, f)
        obj_sk = enet_objective(X, y, w_sk, b_sk, a, l1_ratio, penalty_factor=f)
        obj_gp = enet_objective(
            X, y, coef[k], intercept[k], a, l1_ratio, penalty_factor=f
        )
        assert abs(rel_diff(obj_gp, obj_sk)) <= REL
        # unique solution (Toeplitz design, n > p or strictly convex)
        if n > p or l1_ratio < 1:
            np.testing.assert_allclose(
                coef[k], w_sk, rtol=0, atol=1e-4 * np.abs(w_sk).max()
            )
    # the factors matter: unit factors give a different (worse) objective
    c1, b1, _ = gp_fit(X, y, alphas, l1_ratio, backend=backend)
    a = alphas[1]
    assert enet_objective(
        X, y, c1[1], b1[1], a, l1_ratio, penalty_factor=f
    ) > enet_objective(X, y, coef[1], intercept[1], a, l1_ratio, penalty_factor=f) * (
        1 + 1e-6
    )


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(("n", "p"), [(60, 15), (25, 50)], ids=["gram", "residual"])
def test_lasso_penalty_factor_equals_columns_divided_by_f(n, p, l1_ratio):
    """Lasso with factors f > 0 == gpureg on X / f with unit factors, w = v / f
    (for l1_ratio < 1 the L2 term needs X / sqrt(f) and is checked by
    objective only; see the test above)."""
    X, y = make_data(n, p, "iid", seed=8)
    f = np.random.default_rng(9).uniform(0.5, 2.0, size=p)
    alphas = alphas_for(X, y)
    coef, intercept, _ = gp_fit(
        X, y, alphas, l1_ratio, backend="cpu", penalty_factor=f, tol=1e-13
    )
    scale = f if l1_ratio == 1 else np.sqrt(f) if l1_ratio == 0 else None
    if scale is None:
        # no column rescaling maps an elastic net with factors to unit factors;
        # check the optimality (KKT) conditions of the factored problem instead
        Xc = X - X.mean(axis=0)
        yc = y - y.mean()
        for k, a in enumerate(alphas):
            grad = Xc.T @ (yc - Xc @ coef[k]) / n - a * (1 - l1_ratio) * f * coef[k]
            nz = coef[k] != 0
            np.testing.assert_allclose(
                grad[nz],
                a * l1_ratio * f[nz] * np.sign(coef[k][nz]),
                rtol=1e-4,
                atol=1e-6,
            )
            assert np.all(np.abs(grad[~nz]) <= a * l1_ratio * f[~nz] * (1 + 1e-6))
        return
    v, b_v, _ = gp_fit(X / scale, y, alphas, l1_ratio, backend="cpu")
    np.testing.assert_allclose(coef, v / scale, rtol=0, atol=1e-5 * np.abs(coef).max())
    np.testing.assert_allclose(intercept, b_v, rtol=1e-6)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 70, 20), ("cpu", 30, 60), ("numpy", 40, 12)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram"],
)
def test_zero_penalty_factor_is_unpenalized(backend, n, p, l1_ratio):
    X, y = make_data(n, p, "toeplitz", seed=10)
    f = np.ones(p)
    U = np.array([0, 3, p - 1])
    f[U] = 0.0
    f[[1, 2]] = [0.5, 2.0]
    # large alphas: every penalized coefficient would be 0 under unit factors
    alphas = alphas_for(X, y) * np.array([2.0, 0.3, 0.05]) / ALPHA_FRACTIONS[0]
    coef, intercept, res = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, penalty_factor=f
    )
    assert res.converged.all()
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    for k, a in enumerate(alphas):
        w = coef[k]
        assert np.all(w[U] != 0.0)
        # each unpenalized w_j is the least-squares value given the others
        for j in U:
            rest = yc - Xc @ w + Xc[:, j] * w[j]
            ls = Xc[:, j] @ rest / (Xc[:, j] @ Xc[:, j])
            np.testing.assert_allclose(w[j], ls, rtol=1e-6, atol=1e-8)
        # ... and the objective matches the profiled scikit-learn solution
        w_sk, b_sk = sk_penalty_factor_fit(X, y, a, l1_ratio, f)
        obj_sk = enet_objective(X, y, w_sk, b_sk, a, l1_ratio, penalty_factor=f)
        obj_gp = enet_objective(X, y, w, intercept[k], a, l1_ratio, penalty_factor=f)
        assert abs(rel_diff(obj_gp, obj_sk)) <= REL
    if backend == "cpu" and n >= p:
        ref, ref_b, _ = gp_fit(
            X, y, alphas, l1_ratio, backend="numpy", penalty_factor=f
        )
        np.testing.assert_allclose(coef, ref, rtol=0, atol=1e-5)
        np.testing.assert_allclose(intercept, ref_b, rtol=0, atol=1e-5)


# ------------------------------------------------------------------ standardize
def weighted_standardize(X, sw):
    s = np.ones(X.shape[0]) if sw is None else sw
    mu = np.average(X, axis=0, weights=s)
    sd = np.sqrt(np.average((X - mu) ** 2, axis=0, weights=s))  # population std
    return (X - mu) / sd, mu, sd


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 70, 15), ("cpu", 30, 60), ("numpy", 40, 10)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram"],
)
def test_standardize_matches_sklearn_on_standardized_X(
    backend, n, p, l1_ratio, weighted
):
    X, y = make_data(n, p, "iid", seed=11)
    X = X * np.linspace(0.1, 10.0, p)  # very different column scales
    sw = np.random.default_rng(12).uniform(0.3, 2.0, n) if weighted else None
    Xs, mu, sd = weighted_standardize(X, sw)
    alphas = alphas_for(Xs, y, True, sw)
    coef, intercept, res = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, standardize=True, sample_weight=sw
    )
    assert res.converged.all()
    w_std = coef * sd  # coefficients on the standardized scale
    b_std = intercept + coef @ mu  # X w + b == Xs (w sd) + (b + mu·w)
    for k, a in enumerate(alphas):
        w_sk, b_sk = sk_fit(Xs, y, a, l1_ratio, sample_weight=sw)
        obj_sk = enet_objective(Xs, y, w_sk, b_sk, a, l1_ratio, sw)
        obj_gp = enet_objective(Xs, y, w_std[k], b_std[k], a, l1_ratio, sw)
        assert rel_diff(obj_gp, obj_sk) <= REL
        assert rel_diff(obj_gp, obj_sk) >= -REL
        if n > p:
            # unique solution: coefficients map back by 1 / sd.  Coefficients
            # are only determined to ~sqrt(gap) (the objective to ~gap), so this
            # bound is looser than the objective's.
            np.testing.assert_allclose(
                coef[k], w_sk / sd, rtol=0, atol=1e-4 * np.abs(w_sk / sd).max()
            )
            b_ref = b_sk - (w_sk / sd) @ mu
            np.testing.assert_allclose(
                intercept[k],
                b_ref,
                rtol=0,
                atol=1e-4 * (abs(b_ref) + np.abs(mu) @ np.abs(w_sk / sd)),
            )


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 60, 15), ("cpu", 25, 50), ("numpy", 40, 10)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram"],
)
def test_standardize_with_constant_column_and_zero_weights(backend, n, p, l1_ratio):
    """A constant column is left alone by standardize (scale 1, coefficient
    0) and rows of weight 0 do not enter the weighted standard deviations."""
    X, y = make_data(n, p, "constant", seed=15)  # column p - 1 constant
    X = X * np.linspace(0.5, 3.0, p)
    sw = np.random.default_rng(16).uniform(0.3, 2.0, n)
    sw[:3] = 0.0
    X[:3] += 100.0  # would wreck means and scales if the zero rows counted
    Xs, mu, sd = weighted_standardize(X[:, :-1], sw)
    Xs = np.column_stack([Xs, np.zeros(n)])  # centered constant column
    alphas = alphas_for(Xs, y, True, sw)
    coef, intercept, res = gp_fit(
        X, y, alphas, l1_ratio, backend=backend, standardize=True, sample_weight=sw
    )
    assert res.converged.all()
    np.testing.assert_array_equal(coef[:, -1], 0.0)
    w_std = coef[:, :-1] * sd
    b_std = intercept + coef[:, :-1] @ mu
    for k, a in enumerate(alphas):
        w_sk, b_sk = sk_fit(Xs, y, a, l1_ratio, sample_weight=sw)
        obj_sk = enet_objective(Xs, y, w_sk, b_sk, a, l1_ratio, sw)
        obj_gp = enet_objective(Xs[:, :-1], y, w_std[k], b_std[k], a, l1_ratio, sw)
        assert abs(rel_diff(obj_gp, obj_sk)) <= REL


# ---------------------------------------------------------------------- float32
#: float32 bound: the data are rounded to float32 (relative 6e-8), the solver
#: accumulates in float32 (Gram / residual updates) and stops at tol=1e-6, so the
#: objective is only expected within 1e-4 relative of the float64 optimum of the
#: same (float32-rounded) data.
F32_REL = 1e-4


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 80, 20), ("cpu", 40, 90), ("numpy", 50, 15), ("numpy", 20, 30)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram", "numpy-residual"],
)
def test_float32_keeps_dtype_and_objective(backend, n, p, l1_ratio):
    X64, y64 = make_data(n, p, "iid", seed=13)
    X32 = X64.astype(np.float32)
    y32 = y64.astype(np.float32)
    Xr = X32.astype(np.float64)  # the float32-rounded data, exactly
    yr = y32.astype(np.float64)
    alphas = alphas_for(Xr, yr)
    coef, intercept, res = gp_fit(X32, y32, alphas, l1_ratio, backend=backend, tol=1e-6)
    assert res.dtype == np.float32
    assert res.coef_path.dtype == np.float32
    assert res.intercept_path.dtype == np.float32
    assert np.all(np.isfinite(coef))
    for k, a in enumerate(alphas):
        w_sk, b_sk = sk_fit(Xr, yr, a, l1_ratio)
        obj_sk = enet_objective(Xr, yr, w_sk, b_sk, a, l1_ratio)
        obj_gp = enet_objective(Xr, yr, coef[k], intercept[k], a, l1_ratio)
        assert -F32_REL <= rel_diff(obj_gp, obj_sk) <= F32_REL
    # dtype='float64' on float32 input works in float64 and reaches 1e-8
    c64, b64, r64 = gp_fit(X32, y32, alphas, l1_ratio, backend=backend, dtype="float64")
    assert r64.coef_path.dtype == np.float64
    assert_objectives_match(Xr, yr, alphas, l1_ratio, c64, b64)


# ---------------------------------------------------------------- grid handling
@pytest.mark.parametrize(("n", "p"), [(60, 20), (30, 60)], ids=["gram", "residual"])
def test_grid_of_l1_ratios_equals_separate_fits(n, p):
    """One call with several l1_ratios == one call per l1_ratio (and sklearn)."""
    X, y = make_data(n, p, "toeplitz", seed=14)
    alphas = alphas_for(X, y)
    rhos = [1.0, 0.7, 0.2, 0.0]
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=rhos,
        alphas=alphas,
        cv=None,
        tol=GP_TOL,
        max_iter=100_000,
        backend="cpu",
    )
    assert res.coef_path.shape == (len(rhos), alphas.size, p)
    assert res.intercept_path.shape == (len(rhos), alphas.size)
    assert res.dual_gap.shape == (1, len(rhos), alphas.size)
    assert res.converged.all()
    for li, r in enumerate(rhos):
        c, b, _ = gp_fit(X, y, alphas, r, backend="cpu")
        np.testing.assert_allclose(res.coef_path[li], c, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.intercept_path[li], b, rtol=0, atol=1e-12)
        assert_objectives_match(
            X, y, alphas, r, res.coef_path[li], res.intercept_path[li]
        )
