"""Textbook properties of the L1 / L2 penalties and of gpureg's penalty algebra.

* the Lasso has exact zeros, Ridge none;
* duplicated columns: Ridge splits the weight evenly, the Lasso's pair sums to
  the single-copy Lasso coefficient;
* Ridge paths equal the normal-equation solve for every alpha (Gram and
  residual modes, with and without unpenalized features);
* ``soft_threshold`` / ``prox_update`` against closed forms and brute force;
* ``duality_gap`` equals an independently computed primal - dual (strictly
  positive away from the optimum, so the clip at 0 hides nothing), equals the
  sum of Fenchel-Young terms with the conjugate evaluated by brute force on
  arbitrary inputs, vanishes at closed-form optima (Ridge; orthonormal design
  for Lasso / elastic net) and bounds the sub-optimality P(w) - P(w*) of
  perturbed points; its numba twin ``_gap`` agrees.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import alpha_max_lasso, enet_objective, make_data

import gpureg
from gpureg._penalty import duality_gap, penalty_value, prox_update, soft_threshold
from gpureg.backends._numba import _gap


def fit(X, y, alphas, l1_ratio, **kw):
    kw.setdefault("tol", 1e-12)
    kw.setdefault("max_iter", 100_000)
    kw.setdefault("backend", "cpu")
    res = gpureg.fit_grid(X, y, l1_ratio=l1_ratio, alphas=alphas, cv=None, **kw)
    return res.coef_path[0], res.intercept_path[0], res


# ------------------------------------------------------------- sparsity of L1/L2
@pytest.mark.parametrize(("n", "p"), [(80, 20), (40, 90)], ids=["gram", "residual"])
def test_lasso_has_exact_zeros_ridge_has_none(n, p):
    X, y = make_data(n, p, "iid", seed=21)
    alphas = alpha_max_lasso(X, y) * np.array([0.3, 0.1])
    w1, _, r1 = fit(X, y, alphas, 1.0)
    w0, _, r0 = fit(X, y, alphas, 0.0)
    assert r1.converged.all() and r0.converged.all()
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    for k, a in enumerate(alphas):
        zeros = w1[k] == 0.0
        # the 5-sparse signal at moderate alpha: most noise features exactly 0
        assert zeros.sum() >= p // 2
        assert (~zeros).sum() >= 2
        # KKT: |x̃_jᵀ r| / n <= alpha on the zeros, = alpha on the support
        grad = Xc.T @ (yc - Xc @ w1[k]) / n
        assert np.all(np.abs(grad[zeros]) <= a * (1 + 1e-6))
        np.testing.assert_allclose(np.abs(grad[~zeros]), a, rtol=1e-5)
        # Ridge shrinks but never zeroes
        assert np.count_nonzero(w0[k]) == p
        assert np.min(np.abs(w0[k])) > 1e-8
    # the Lasso above alpha_max is all-zero, the intercept the mean of y
    wmax, bmax, _ = fit(X, y, alpha_max_lasso(X, y) * np.array([1.5, 1 + 1e-9]), 1.0)
    np.testing.assert_array_equal(wmax, 0.0)
    np.testing.assert_allclose(bmax, y.mean(), rtol=1e-13)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize(
    ("backend", "n", "p"),
    [("cpu", 80, 20), ("cpu", 40, 90), ("numpy", 40, 15), ("numpy", 40, 90)],
    ids=["cpu-gram", "cpu-residual", "numpy-gram", "numpy-residual"],
)
def test_top_of_automatic_grid_is_the_null_model(backend, n, p, l1_ratio, positive):
    """docs/design.md §2: alpha_max is the smallest alpha with w = 0, so the first
    fit of an automatic grid has no non-zero coefficient (glmnet: df = 0)."""
    X, y = make_data(n, p, "iid", seed=21)
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=l1_ratio,
        alphas=3,
        eps=0.1,
        cv=None,
        backend=backend,
        positive=positive,
    )
    a_max = alpha_max_lasso(X, y) / l1_ratio
    if positive:
        Xc = X - X.mean(axis=0)
        a_max = np.max(Xc.T @ (y - y.mean())) / n / l1_ratio
    np.testing.assert_allclose(res.alphas[0, 0], a_max, rtol=1e-12)
    assert np.count_nonzero(res.coef_path[0, 0]) == 0
    np.testing.assert_allclose(res.intercept_path[0, 0], y.mean(), rtol=1e-13)
    assert np.count_nonzero(res.coef_path[0, 1]) > 0


@pytest.mark.parametrize(("n", "p"), [(60, 12), (25, 40)], ids=["gram", "residual"])
def test_duplicated_columns(n, p):
    X, y = make_data(n, p, "duplicated", seed=22)  # column 1 == column 0
    X1 = np.delete(X, 1, axis=1)  # one copy only
    alphas = alpha_max_lasso(X, y) * np.array([0.4, 0.1, 0.03])

    # Ridge: strictly convex, symmetric in the two copies -> even split, and
    # the pair acts as one column with half the ridge penalty on its total
    w0, b0, _ = fit(X, y, alphas, 0.0)
    scale = np.abs(w0).max()
    np.testing.assert_allclose(w0[:, 0], w0[:, 1], rtol=0, atol=1e-10 * scale)
    assert np.all(w0[:, 0] != 0.0)

    # Lasso: the split is arbitrary but the sum equals the one-copy Lasso
    w1, b1, r1 = fit(X, y, alphas, 1.0)
    v1, c1, s1 = fit(X1, y, alphas, 1.0)
    assert r1.converged.all() and s1.converged.all()
    assert np.all(w1[:, 0] * w1[:, 1] >= 0.0)  # same sign (else not optimal)
    np.testing.assert_allclose(w1[:, 0] + w1[:, 1], v1[:, 0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        w1[:, 2:], v1[:, 1:], rtol=0, atol=1e-6 * np.abs(v1).max()
    )
    np.testing.assert_allclose(b1, c1, rtol=1e-7)
    for k, a in enumerate(alphas):
        o2 = enet_objective(X, y, w1[k], b1[k], a, 1.0)
        o1 = enet_objective(X1, y, v1[k], c1[k], a, 1.0)
        np.testing.assert_allclose(o2, o1, rtol=1e-10)


# ------------------------------------------------------------ Ridge closed form
def ridge_normal_equations(X, y, alpha, f):
    """``(XcᵀXc + n alpha diag(f))⁻¹ Xcᵀ yc`` by a direct solve."""
    n = X.shape[0]
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    return np.linalg.solve(Xc.T @ Xc + n * alpha * np.diag(f), Xc.T @ yc)


@pytest.mark.parametrize("factors", ["unit", "with_zeros"])
@pytest.mark.parametrize(
    ("n", "p", "mode"),
    [(70, 25, "gram"), (30, 70, "residual")],
    ids=["gram", "residual"],
)
def test_ridge_path_equals_normal_equations(n, p, mode, factors):
    X, y = make_data(n, p, "toeplitz", seed=23)
    if factors == "unit":
        f = np.ones(p)
    else:
        f = np.random.default_rng(24).uniform(0.2, 3.0, p)
        f[[0, 5, p - 2]] = 0.0  # unpenalized features
    res = gpureg.fit_grid(
        X, y, l1_ratio=0.0, alphas=20, cv=None, backend="cpu", penalty_factor=f
    )
    assert res.mode == mode
    assert res.alphas.shape == (1, 20)
    np.testing.assert_array_equal(res.n_iter, 0)  # closed form, no CD epochs
    for k, a in enumerate(res.alphas[0]):
        w_ref = ridge_normal_equations(X, y, a, f)
        w = res.coef_path[0, k]
        assert np.linalg.norm(w - w_ref) <= 1e-10 * np.linalg.norm(w_ref)
        b_ref = y.mean() - X.mean(axis=0) @ w_ref
        np.testing.assert_allclose(res.intercept_path[0, k], b_ref, rtol=1e-10)
    # also an explicit grid with small alphas (weak regularization)
    alphas = np.array([1.0, 0.1, 0.01])
    res = gpureg.fit_grid(
        X, y, l1_ratio=0.0, alphas=alphas, cv=None, backend="cpu", penalty_factor=f
    )
    for k, a in enumerate(alphas):
        w_ref = ridge_normal_equations(X, y, a, f)
        w = res.coef_path[0, k]
        assert np.linalg.norm(w - w_ref) <= 1e-10 * np.linalg.norm(w_ref)
    # and the certificate of a closed-form fit is ~0
    assert np.all(np.abs(res.dual_gap) <= 1e-12 * res.gap_tol[:, None, None] / 1e-4)


def test_ridge_path_with_sample_weight_equals_weighted_normal_equations():
    X, y = make_data(40, 15, "iid", seed=25)
    s = np.random.default_rng(26).uniform(0.1, 2.0, 40)
    alphas = np.array([2.0, 0.5, 0.05])
    res = gpureg.fit_grid(
        X, y, l1_ratio=0.0, alphas=alphas, cv=None, backend="cpu", sample_weight=s
    )
    mu = np.average(X, axis=0, weights=s)
    Xc = X - mu
    yc = y - np.average(y, weights=s)
    for k, a in enumerate(alphas):
        w_ref = np.linalg.solve(
            Xc.T @ (s[:, None] * Xc) + s.sum() * a * np.eye(15), Xc.T @ (s * yc)
        )
        w = res.coef_path[0, k]
        assert np.linalg.norm(w - w_ref) <= 1e-10 * np.linalg.norm(w_ref)


# ------------------------------------------------------- soft threshold and prox
def test_soft_threshold_closed_form():
    z = np.linspace(-3.0, 3.0, 601)
    for t in (0.0, 0.25, 1.0, 5.0):
        expected = np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
        np.testing.assert_allclose(soft_threshold(z, t), expected, rtol=1e-15, atol=0)
    # elementwise thresholds broadcast
    t = np.abs(np.random.default_rng(0).standard_normal(z.size))
    expected = np.where(z > t, z - t, np.where(z < -t, z + t, 0.0))
    np.testing.assert_allclose(soft_threshold(z, t), expected, rtol=1e-15, atol=0)
    # identities: odd, shrinks by exactly t outside [-t, t]
    np.testing.assert_array_equal(soft_threshold(-z, 0.7), -soft_threshold(z, 0.7))
    out = np.abs(z) > 0.7
    np.testing.assert_allclose(
        np.abs(z[out]) - np.abs(soft_threshold(z, 0.7)[out]), 0.7, rtol=1e-12
    )


def _scalar_objective(w, z, d, l1f, l2f):
    return 0.5 * d * w * w - z * w + l1f * np.abs(w) + 0.5 * l2f * w * w


@pytest.mark.parametrize("positive", [False, True])
def test_prox_update_closed_form_and_minimizer(positive, rng):
    m = 400
    z = 3.0 * rng.standard_normal(m)
    diag = rng.uniform(0.0, 2.0, m)
    diag[:20] = 0.0
    f = rng.uniform(0.0, 2.0, m)
    f[20:40] = 0.0
    l1, l2 = 0.6, 0.4
    w = prox_update(z, diag, l1, l2, f, positive)
    # closed form: S(z, l1 f) / (d + l2 f), clipped at 0 if positive; 0 if denom=0
    num = np.sign(z) * np.maximum(np.abs(z) - l1 * f, 0.0)
    if positive:
        num = np.maximum(z - l1 * f, 0.0)
    denom = diag + l2 * f
    expected = np.zeros(m)
    ok = denom > 0
    expected[ok] = num[ok] / denom[ok]
    np.testing.assert_allclose(w, expected, rtol=1e-14, atol=0)
    if positive:
        assert np.all(w >= 0.0)
    # brute force: w minimizes ½ d w² - z w + l1 f |w| + l2 f w²/2 (w >= 0)
    for i in np.flatnonzero(ok)[:60]:
        half = 2.0 * (abs(w[i]) + 1.0)  # a window around w; the function is convex
        grid = np.linspace(w[i] - half, w[i] + half, 200_001)
        if positive:
            grid = grid[grid >= 0.0]
        vals = _scalar_objective(grid, z[i], diag[i], l1 * f[i], l2 * f[i])
        best = _scalar_objective(w[i], z[i], diag[i], l1 * f[i], l2 * f[i])
        assert best <= vals.min() + 1e-12
        assert abs(w[i] - grid[np.argmin(vals)]) <= 1e-4 * half


def test_penalty_value_closed_form(rng):
    w = rng.standard_normal((3, 7))
    f = rng.uniform(0.0, 2.0, 7)
    out = penalty_value(w, 0.3, 0.8, f)
    expected = np.array(
        [0.3 * np.sum(f * np.abs(r)) + 0.4 * np.sum(f * r * r) for r in w]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-14)


# ---------------------------------------------------------------- duality gap
def _grad_rnorm2(Xc, yc, w):
    n = Xc.shape[0]
    r = yc - Xc @ w
    return Xc.T @ r / n, float(r @ r) / n


def _conj(v, l1f, l2f, positive):
    """g*(v) for g(w) = l1f |w| + l2f w²/2 (+ indicator of w >= 0), l2f > 0."""
    s = np.maximum(v, 0.0) if positive else np.abs(v)
    return np.maximum(s - l1f, 0.0) ** 2 / (2.0 * l2f)


def primal_minus_dual(Xc, yc, w, l1, l2, f, positive):
    """An independent Fenchel gap P(w) - D(θ) at θ = κ r / n (scikit-learn's
    dual point), for penalized features only (f > 0)."""
    n = Xc.shape[0]
    r = yc - Xc @ w
    grad = Xc.T @ r / n
    P = 0.5 * (r @ r) / n + np.sum(l1 * f * np.abs(w) + 0.5 * l2 * f * w * w)
    if l2 == 0.0:
        score = np.maximum(grad, 0.0) if positive else np.abs(grad)
        kappa = min(1.0, np.min(l1 * f / np.maximum(score, 1e-300)))
        conj = 0.0  # indicator, satisfied by construction of kappa
    else:
        kappa = 1.0
        conj = np.sum(_conj(grad, l1 * f, l2 * f, positive))
    D = 0.5 * ((yc @ yc) - np.sum((yc - kappa * r) ** 2)) / n - conj
    return P - D


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize(
    ("l1", "l2"), [(0.3, 0.0), (0.2, 0.5), (0.0, 0.7)], ids=["lasso", "enet", "ridge"]
)
def test_duality_gap_equals_primal_minus_dual(l1, l2, positive, rng):
    X, y = make_data(40, 12, "iid", seed=27)
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    f = rng.uniform(0.5, 2.0, 12)
    for _ in range(5):
        w = rng.standard_normal(12) * rng.integers(0, 2, 12)
        if positive:
            w = np.abs(w)
        grad, rnorm2 = _grad_rnorm2(Xc, yc, w)
        gap = duality_gap(w, grad, rnorm2, l1, l2, f, positive)
        ref = primal_minus_dual(Xc, yc, w, l1, l2, f, positive)
        # w is far from the optimum: a clearly positive gap, so a wrong (e.g.
        # negative, then clipped to 0) value cannot agree with ref by accident
        assert ref > 1e-3 * float(yc @ yc) / Xc.shape[0]
        np.testing.assert_allclose(gap, ref, rtol=1e-10, atol=1e-13)


def _conj_brute(v, l1f, l2f, positive):
    """g*(v) = sup_w v w - g(w) for g(w) = l1f |w| + l2f w²/2 (+ indicator of
    w >= 0), l2f > 0, without the closed form: the concave objective is
    maximized at 0 or at the stationary point of one of its two quadratic
    pieces (clipped to that piece), so evaluate it there and keep the best."""

    def h(w):
        return v * w - l1f * np.abs(w) - 0.5 * l2f * w * w

    cands = [np.zeros_like(v), np.maximum((v - l1f) / l2f, 0.0)]
    if not positive:
        cands.append(np.minimum((v + l1f) / l2f, 0.0))
    return np.max([h(c) for c in cands], axis=0)


def _fenchel_young_gap(w, grad, rnorm2, l1, l2, f, positive):
    """One fit's gap from scratch: dual point κ grad with κ the largest value
    in [0, 1] making κ grad feasible for every pure-L1 coordinate (scikit-
    learn's rescaling), then ``½ (1 - κ)² rnorm2 + Σ_j [g_j(w_j) + g_j*(κ
    grad_j) - κ grad_j w_j]``; unpenalized coordinates count ``|κ grad_j
    w_j|`` (gpureg's documented convention, 0 at their optimum).

    Returns the gap and the per-coordinate terms."""
    pen = f > 0
    lasso = pen & (l2 * f == 0)
    score = np.maximum(grad, 0.0) if positive else np.abs(grad)
    kappa = 1.0
    for j in np.flatnonzero(lasso & (score > 0)):
        kappa = min(kappa, l1 * f[j] / score[j])
    v = kappa * grad
    vs = np.maximum(v, 0.0) if positive else np.abs(v)
    # κ grad is dual feasible on the pure-L1 coordinates: g* = 0 there
    assert np.all(vs[lasso] <= l1 * f[lasso] * (1 + 1e-12))
    terms = np.abs(v * w)  # unpenalized coordinates
    for j in np.flatnonzero(pen):
        l1f, l2f = l1 * f[j], l2 * f[j]
        conj = 0.0 if l2f == 0 else _conj_brute(v[j], l1f, l2f, positive)
        g = l1f * abs(w[j]) + 0.5 * l2f * w[j] ** 2
        terms[j] = g + conj - v[j] * w[j]
    return 0.5 * (1.0 - kappa) ** 2 * rnorm2 + terms.sum(), terms


@pytest.mark.parametrize("positive", [False, True])
def test_duality_gap_on_random_inputs_is_the_fenchel_young_sum(positive, rng):
    """On arbitrary (w, grad, rnorm2), consistent with data or not, the gap is
    the sum of the Fenchel-Young terms recomputed here (conjugate by brute
    force); batched calls equal one-at-a-time calls."""
    m, p = 200, 9
    w = rng.standard_normal((m, p)) * rng.integers(0, 2, (m, p))
    if positive:
        w = np.abs(w)
    grad = 2.0 * rng.standard_normal((m, p))
    rnorm2 = rng.uniform(0.0, 5.0, m)
    f = rng.uniform(0.0, 2.0, p)
    f[0] = 0.0
    l1 = rng.uniform(0.0, 1.0, m)
    l2 = rng.uniform(0.0, 1.0, m) * rng.integers(0, 2, m)  # half pure L1
    gaps = duality_gap(w, grad, rnorm2, l1, l2, f, positive)
    assert gaps.shape == (m,)
    refs = np.empty(m)
    for i in range(m):
        refs[i], terms = _fenchel_young_gap(
            w[i], grad[i], rnorm2[i], l1[i], l2[i], f, positive
        )
        assert np.all(terms >= -1e-12 * (1.0 + np.abs(terms)))  # Fenchel-Young
    # random points are far from any optimum: no gap is 0, so the clip of
    # rounding below zero plays no part in the comparison
    assert refs.min() > 1e-3
    np.testing.assert_allclose(gaps, refs, rtol=1e-12, atol=1e-14)
    # batched == one at a time
    single = [
        duality_gap(w[i], grad[i], rnorm2[i], l1[i], l2[i], f, positive)
        for i in range(m)
    ]
    np.testing.assert_allclose(gaps, single, rtol=1e-14, atol=1e-15)


def _orthonormal_problem(n, p, seed):
    """Centered X with X̃ᵀX̃ / n = I and a centered y: every elastic-net
    problem on it has a closed-form solution."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    Q, _ = np.linalg.qr(Z - Z.mean(axis=0))  # columns stay centered
    Xc = np.sqrt(n) * Q
    y = Xc @ np.linspace(1.5, -1.0, p) + rng.standard_normal(n)
    return Xc, y - y.mean()


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize(
    ("l1", "l2"), [(0.3, 0.0), (0.2, 0.5), (0.0, 0.7)], ids=["lasso", "enet", "ridge"]
)
def test_duality_gap_at_closed_form_optimum_and_perturbed_points(l1, l2, positive):
    """Orthonormal design: w* = S(c, l1 f) / (1 + l2 f) (positive part when
    ``positive``).  The gap is ~0 at w*, and at perturbed points it is at
    least the sub-optimality P(w) - P(w*) (weak duality) and equals the
    independent primal - dual."""
    n, p = 60, 8
    Xc, yc = _orthonormal_problem(n, p, seed=41)
    np.testing.assert_allclose(Xc.T @ Xc / n, np.eye(p), atol=1e-12)
    f = np.random.default_rng(42).uniform(0.5, 2.0, p)
    c = Xc.T @ yc / n
    num = np.maximum(c - l1 * f, 0.0) if positive else soft_threshold(c, l1 * f)
    w_opt = num / (1.0 + l2 * f)
    assert 0 < np.count_nonzero(w_opt) < p or l1 == 0.0  # a sparse optimum

    def primal(w):
        r = yc - Xc @ w
        return 0.5 * (r @ r) / n + np.sum(l1 * f * np.abs(w) + 0.5 * l2 * f * w * w)

    yy = float(yc @ yc) / n
    gap_opt = duality_gap(w_opt, *_grad_rnorm2(Xc, yc, w_opt), l1, l2, f, positive)
    assert abs(gap_opt) <= 1e-13 * yy
    rng = np.random.default_rng(43)
    for scale in (1e-3, 1e-2, 0.3):
        for _ in range(5):
            w = w_opt + scale * rng.standard_normal(p)
            if positive:
                w = np.maximum(w, 0.0)
            gap = duality_gap(w, *_grad_rnorm2(Xc, yc, w), l1, l2, f, positive)
            subopt = primal(w) - primal(w_opt)
            assert subopt > 0.0
            assert gap >= subopt * (1 - 1e-9)
            ref = primal_minus_dual(Xc, yc, w, l1, l2, f, positive)
            np.testing.assert_allclose(gap, ref, rtol=1e-9, atol=1e-15 * yy)


@pytest.mark.parametrize("factors", ["unit", "with_zeros"])
def test_duality_gap_zero_at_exact_ridge_solution(factors, rng):
    X, y = make_data(50, 10, "toeplitz", seed=28)
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    n = 50
    f = np.ones(10) if factors == "unit" else rng.uniform(0.5, 2.0, 10)
    if factors == "with_zeros":
        f[[2, 7]] = 0.0
    yy = float(yc @ yc) / n
    for alpha in (5.0, 0.3, 0.01):
        w = np.linalg.solve(Xc.T @ Xc / n + alpha * np.diag(f), Xc.T @ yc / n)
        grad, rnorm2 = _grad_rnorm2(Xc, yc, w)
        gap = duality_gap(w, grad, rnorm2, 0.0, alpha, f, False)
        assert abs(gap) <= 1e-12 * yy
        # away from the optimum the gap is clearly positive
        gap_off = duality_gap(
            1.1 * w, *_grad_rnorm2(Xc, yc, 1.1 * w), 0.0, alpha, f, False
        )
        assert gap_off > 1e-6 * yy


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l2_kind", ["zero", "positive"])
def test_numba_gap_equals_numpy_gap(positive, l2_kind, rng):
    p = 15
    f = rng.uniform(0.0, 2.0, p)
    f[[1, 4]] = 0.0
    idx = np.arange(p)
    for _ in range(50):
        w = rng.standard_normal(p) * rng.integers(0, 2, p)
        if positive:
            w = np.abs(w)
        grad = rng.standard_normal(p)
        rnorm2 = float(rng.uniform(0.0, 3.0))
        l1 = float(rng.uniform(0.01, 1.0))
        l2 = 0.0 if l2_kind == "zero" else float(rng.uniform(0.01, 1.0))
        ref = float(duality_gap(w, grad, rnorm2, l1, l2, f, positive))
        got = _gap(w, grad, idx, p, rnorm2, l1, l2, f, positive)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
        # restricted to a subset of coordinates == the numpy gap of the subset
        sub = np.sort(rng.choice(p, size=6, replace=False))
        buf = np.concatenate([sub, rng.integers(0, p, p - sub.size)])
        got_sub = _gap(w, grad, buf, sub.size, rnorm2, l1, l2, f, positive)
        ref_sub = float(
            duality_gap(w[sub], grad[sub], rnorm2, l1, l2, f[sub], positive)
        )
        np.testing.assert_allclose(got_sub, ref_sub, rtol=1e-12, atol=1e-14)


def test_reported_gap_matches_recomputed_gap():
    """The dual_gap gpureg reports is the gap of the coefficients it returns."""
    X, y = make_data(60, 12, "iid", seed=29)
    alphas = alpha_max_lasso(X, y) * np.array([0.3, 0.05])
    res = gpureg.fit_grid(
        X, y, l1_ratio=[1.0, 0.5], alphas=alphas, cv=None, backend="cpu", tol=1e-6
    )
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    f = np.ones(12)
    for li, rho in enumerate([1.0, 0.5]):
        for k, a in enumerate(alphas):
            w = res.coef_path[li, k]
            grad, rnorm2 = _grad_rnorm2(Xc, yc, w)
            ref = primal_minus_dual(Xc, yc, w, a * rho, a * (1 - rho), f, False)
            np.testing.assert_allclose(
                res.dual_gap[-1, li, k], ref, rtol=1e-6, atol=1e-15 * float(yc @ yc)
            )
            # certified: the independent gap is within tol * ‖ỹ‖² / n
            assert ref <= 1e-6 * float(yc @ yc) / 60
