"""``gpureg.enet_path`` / ``lasso_path`` against scikit-learn's path functions.

Paths have no intercept (scikit-learn's convention): the objective is
``1/(2n) ‖y - X w‖² + alpha l1_ratio ‖w‖₁ + alpha (1 - l1_ratio)/2 ‖w‖²``.
gpureg runs at ``tol=1e-10`` and scikit-learn at ``tol=1e-12``, so gpureg's
objective must be within 1e-8 (relative) of scikit-learn's at every alpha.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sklm
from conftest import enet_objective, make_data, rel_diff

import gpureg

N_ALPHAS = 20


_SK_VERSION = tuple(int(v) for v in sklearn.__version__.split(".")[:2])


def sk_n_alphas(n: int) -> dict:
    """scikit-learn's keyword for an automatic grid of ``n`` alphas: ``alphas=n``
    from 1.9, ``n_alphas=n`` before (so the minimum-versions CI runs these)."""
    return {"alphas": n} if _SK_VERSION >= (1, 9) else {"n_alphas": n}


GP_TOL = 1e-10
SK_TOL = 1e-12
REL = 1e-8
#: float32 paths: data rounded to float32, float32 solver state, tol=1e-6;
#: objective within 1e-4 relative of the float64 optimum.
F32_REL = 1e-4

SHAPES = [
    pytest.param(60, 20, "iid", 1e-3, id="gram-iid"),
    pytest.param(60, 20, "toeplitz", 1e-3, id="gram-toeplitz"),
    pytest.param(30, 70, "iid", 1e-2, id="residual-iid"),
    pytest.param(30, 70, "toeplitz", 1e-2, id="residual-toeplitz"),
]


def objectives(X, y, alphas, coefs, l1_ratio):
    """Objective (no intercept) of each column of ``coefs`` at its alpha."""
    return np.array(
        [
            enet_objective(X, y, coefs[:, k], 0.0, a, l1_ratio)
            for k, a in enumerate(alphas)
        ]
    )


def sk_path(X, y, l1_ratio, eps, **kw):
    return sklm.enet_path(
        X,
        y,
        l1_ratio=l1_ratio,
        **sk_n_alphas(N_ALPHAS),
        eps=eps,
        tol=SK_TOL,
        max_iter=1_000_000,
        **kw,
    )


@pytest.mark.parametrize("positive", [False, True], ids=["free", "positive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.1])
@pytest.mark.parametrize(("n", "p", "kind", "eps"), SHAPES)
def test_enet_path_matches_sklearn(n, p, kind, eps, l1_ratio, positive):
    X, y = make_data(n, p, kind, seed=31)
    a_sk, c_sk, _ = sk_path(X, y, l1_ratio, eps, positive=positive)
    a_gp, c_gp, gaps, n_iter = gpureg.enet_path(
        X,
        y,
        l1_ratio=l1_ratio,
        alphas=N_ALPHAS,
        eps=eps,
        tol=GP_TOL,
        max_iter=100_000,
        positive=positive,
        return_n_iter=True,
        backend="cpu",
    )
    # the same automatic grid (positive: only positive correlations count)
    assert a_gp.shape == (N_ALPHAS,)
    np.testing.assert_allclose(a_gp, a_sk, rtol=1e-12, atol=0)
    assert np.all(np.diff(a_gp) < 0)
    # coefficients (n_features, n_alphas); certified gaps; epochs as ints
    assert c_gp.shape == (p, N_ALPHAS) == c_sk.shape
    assert c_gp.dtype == np.float64
    assert gaps.shape == (N_ALPHAS,)
    assert np.all(gaps <= GP_TOL * float(y @ y) / n)
    assert isinstance(n_iter, list) and len(n_iter) == N_ALPHAS
    assert all(type(k) is int for k in n_iter)
    assert all(1 <= k <= 100_000 for k in n_iter)
    if positive:
        assert np.all(c_gp >= 0.0)
    # the optimum at every alpha
    o_gp = objectives(X, y, a_gp, c_gp, l1_ratio)
    o_sk = objectives(X, y, a_sk, c_sk, l1_ratio)
    rel = rel_diff(o_gp, o_sk)
    assert np.all(rel <= REL), rel
    assert np.all(rel >= -REL), rel
    # the reported gap bounds the distance to scikit-learn's (near) optimum
    assert np.all(o_gp - o_sk <= gaps + 1e-12 * float(y @ y) / n)


@pytest.mark.parametrize("positive", [False, True], ids=["free", "positive"])
@pytest.mark.parametrize(("n", "p", "kind", "eps"), SHAPES)
def test_lasso_path_matches_sklearn(n, p, kind, eps, positive):
    X, y = make_data(n, p, kind, seed=32)
    a_sk, c_sk, _ = sklm.lasso_path(
        X,
        y,
        **sk_n_alphas(N_ALPHAS),
        eps=eps,
        tol=SK_TOL,
        max_iter=1_000_000,
        positive=positive,
    )
    a_gp, c_gp, gaps = gpureg.lasso_path(
        X,
        y,
        alphas=N_ALPHAS,
        eps=eps,
        tol=GP_TOL,
        max_iter=100_000,
        positive=positive,
        backend="cpu",
    )
    np.testing.assert_allclose(a_gp, a_sk, rtol=1e-12, atol=0)
    assert c_gp.shape == (p, N_ALPHAS)
    assert np.all(gaps <= GP_TOL * float(y @ y) / n)
    rel = rel_diff(objectives(X, y, a_gp, c_gp, 1.0), objectives(X, y, a_sk, c_sk, 1.0))
    assert np.all(np.abs(rel) <= REL), rel
    # lasso_path is enet_path at l1_ratio=1
    a_e, c_e, g_e = gpureg.enet_path(
        X,
        y,
        l1_ratio=1.0,
        alphas=N_ALPHAS,
        eps=eps,
        tol=GP_TOL,
        max_iter=100_000,
        positive=positive,
        backend="cpu",
    )
    np.testing.assert_array_equal(a_e, a_gp)
    np.testing.assert_array_equal(c_e, c_gp)
    np.testing.assert_array_equal(g_e, gaps)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_explicit_alphas_are_sorted_like_sklearn(l1_ratio):
    X, y = make_data(50, 12, "iid", seed=33)
    alphas = np.array([0.05, 0.8, 0.2, 0.01])  # not sorted
    a_sk, c_sk, _ = sklm.enet_path(
        X, y, l1_ratio=l1_ratio, alphas=alphas, tol=SK_TOL, max_iter=1_000_000
    )
    a_gp, c_gp, _ = gpureg.enet_path(
        X, y, l1_ratio=l1_ratio, alphas=alphas, tol=GP_TOL, backend="cpu"
    )
    np.testing.assert_array_equal(a_gp, [0.8, 0.2, 0.05, 0.01])
    np.testing.assert_array_equal(a_gp, a_sk)
    rel = rel_diff(
        objectives(X, y, a_gp, c_gp, l1_ratio), objectives(X, y, a_sk, c_sk, l1_ratio)
    )
    assert np.all(np.abs(rel) <= REL), rel
    # the caller's array is untouched
    np.testing.assert_array_equal(alphas, [0.05, 0.8, 0.2, 0.01])


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize(("n", "p"), [(60, 20), (30, 70)], ids=["gram", "residual"])
def test_float32_path_keeps_dtype(n, p, l1_ratio):
    X64, y64 = make_data(n, p, "iid", seed=34)
    X32, y32 = X64.astype(np.float32), y64.astype(np.float32)
    Xr, yr = X32.astype(np.float64), y32.astype(np.float64)
    a_gp, c_gp, gaps = gpureg.enet_path(
        X32, y32, l1_ratio=l1_ratio, alphas=10, eps=1e-2, tol=1e-6, backend="cpu"
    )
    assert c_gp.dtype == np.float32
    assert c_gp.shape == (p, 10)
    assert np.all(np.isfinite(c_gp))
    a_sk, c_sk, _ = sklm.enet_path(
        Xr,
        yr,
        l1_ratio=l1_ratio,
        **sk_n_alphas(10),
        eps=1e-2,
        tol=SK_TOL,
        max_iter=1_000_000,
    )
    np.testing.assert_allclose(a_gp, a_sk, rtol=1e-6)  # grid from float32 data
    rel = rel_diff(
        objectives(Xr, yr, a_gp, c_gp, l1_ratio),
        objectives(Xr, yr, a_gp, c_sk, l1_ratio),
    )
    # F32_REL covers both the float32 solve and the 1e-6 shift of the grid
    assert np.all(np.abs(rel) <= F32_REL), rel
    # float32 scikit-learn keeps float32 too: same convention
    _, c_sk32, _ = sklm.enet_path(
        X32, y32, l1_ratio=l1_ratio, **sk_n_alphas(10), eps=1e-2
    )
    assert c_sk32.dtype == c_gp.dtype


@pytest.mark.parametrize("positive", [False, True], ids=["free", "positive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize(("n", "p"), [(50, 15), (20, 30)], ids=["gram", "residual"])
def test_cpu_and_numpy_backends_agree(n, p, l1_ratio, positive):
    # A certified gap only pins the coefficients to ~sqrt(2 gap / mu) (mu: the
    # strong convexity, small for p > n), so 1e-6 agreement needs tol=1e-14 and
    # a path that stops at 0.1 alpha_max.
    X, y = make_data(n, p, "iid", seed=35)
    y = y - y.mean()
    X = X - X.mean(axis=0)
    kw = dict(
        l1_ratio=l1_ratio,
        eps=0.1,
        tol=1e-14,
        max_iter=100_000,
        positive=positive,
        return_n_iter=True,
    )
    if l1_ratio == 0:
        # scikit-learn has no automatic grid for Ridge; use an explicit one
        kw["alphas"] = np.geomspace(1.0, 0.1, 8)
    else:
        kw["alphas"] = 8
    a_c, c_c, g_c, it_c = gpureg.enet_path(X, y, backend="cpu", **kw)
    a_n, c_n, g_n, it_n = gpureg.enet_path(X, y, backend="numpy", **kw)
    np.testing.assert_array_equal(a_c, a_n)
    np.testing.assert_allclose(c_c, c_n, rtol=0, atol=1e-6)
    tol_abs = 1e-14 * float(y @ y) / n
    assert np.all(g_c <= tol_abs) and np.all(g_n <= tol_abs)
    if l1_ratio == 0 and not positive:
        assert it_c == it_n == [0] * 8  # closed form
    o_c = objectives(X, y, a_c, c_c, l1_ratio)
    o_n = objectives(X, y, a_n, c_n, l1_ratio)
    np.testing.assert_allclose(o_c, o_n, rtol=1e-10)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
@pytest.mark.parametrize(("n", "p"), [(40, 10), (25, 40)], ids=["gram", "residual"])
def test_fit_grid_without_intercept_matches_sklearn_path(n, p, l1_ratio):
    """fit_grid(fit_intercept=False) solves scikit-learn's no-intercept
    problem: its grid is enet_path's (alpha_max from the *uncentered* Xᵀy),
    its objective reaches scikit-learn's optimum at every alpha and its
    intercepts are exactly 0 (make_data's columns and y have non-zero means,
    so centering by mistake would change all three)."""
    X, y = make_data(n, p, "iid", seed=36)
    a_sk, c_sk, _ = sklm.enet_path(
        X, y, l1_ratio=l1_ratio, **sk_n_alphas(12), tol=SK_TOL, max_iter=1_000_000
    )
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=l1_ratio,
        alphas=12,
        cv=None,
        fit_intercept=False,
        tol=GP_TOL,
        max_iter=100_000,
        backend="cpu",
    )
    assert res.converged.all()
    np.testing.assert_allclose(res.alphas[0], a_sk, rtol=1e-12, atol=0)
    # alpha_max by hand: max |Xᵀ y| / (n l1_ratio), no centering
    np.testing.assert_allclose(
        res.alphas[0, 0], np.max(np.abs(X.T @ y)) / (n * l1_ratio), rtol=1e-12
    )
    np.testing.assert_array_equal(res.intercept_path, 0.0)
    c_gp = res.coef_path[0].T
    rel = rel_diff(
        objectives(X, y, a_sk, c_gp, l1_ratio), objectives(X, y, a_sk, c_sk, l1_ratio)
    )
    assert np.all(np.abs(rel) <= REL), rel
