"""The model's vocabulary: the elastic-net penalty and the quadratic datafit.

* ``ElasticNetPenalty.prox_1d`` is the exact minimizer of its 1-D problem
  (against a brute-force minimization);
* ``subdiff_distance`` vanishes at scikit-learn's solution and is positive
  away from it, and matches its definition;
* the numba functions of ``backends/_numba.py`` equal the numpy methods;
* ``duality_gap``, now ``Quadratic`` + ``ElasticNetPenalty``, gives the same
  numbers as the inlined formula it replaced, and so do ``prox_update``,
  ``penalty_value`` and ``alpha_max``;
* the CUDA twins (which restate the formulas, as the kernels do) agree;
* one CD core serves both forms: Gram and residual paths agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_data

from gpureg._alphas import alpha_max
from gpureg._batch import build_gram_batch, build_residual_batch, training_weights
from gpureg._datafit import Quadratic
from gpureg._folds import make_folds
from gpureg._penalty import (
    SNAP,
    ElasticNetPenalty,
    duality_gap,
    fenchel_gap,
    penalty_value,
    prox_update,
    soft_threshold,
)
from gpureg.backends import _numba
from gpureg.backends._twins import TwinOps


@pytest.fixture
def rng():
    return np.random.default_rng(20261214)


def _random_penalty_inputs(rng, m=40, p=13):
    """Batched coefficients, correlations and hyperparameters with edge cases.

    Exact zeros in ``w``, unpenalized features, pure-Lasso fits (``l2 = 0``),
    ``l1 = 0`` fits and correlations exactly at the threshold.
    """
    w = rng.standard_normal((m, p)) * (rng.uniform(size=(m, p)) > 0.4)
    grad = rng.standard_normal((m, p))
    f = rng.uniform(0.2, 2.0, p)
    f[[0, 5]] = 0.0
    l1 = rng.uniform(0.0, 1.0, m)
    l1[3] = 0.0
    l2 = rng.uniform(0.0, 1.0, m) * rng.integers(0, 2, m)
    grad[7, 2] = l1[7] * f[2]  # exactly at the threshold
    grad[8, 4] = -l1[8] * f[4]
    rnorm2 = rng.uniform(0.0, 3.0, m)
    return w, grad, rnorm2, l1, l2, f


def _previous_duality_gap(w, grad, rnorm2, l1, l2, f, positive):
    """``_penalty.duality_gap`` as it was written before the vocabulary."""
    l1 = np.asarray(l1, dtype=np.float64)[..., None]
    l2 = np.asarray(l2, dtype=np.float64)[..., None]
    pen = f > 0
    score = np.maximum(grad, 0.0) if positive else np.abs(grad)
    lasso_coord = pen & (l2 * f == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(lasso_coord & (score > l1 * f), l1 * f / score, 1.0)
    kappa = np.min(ratio, axis=-1, initial=1.0)
    v = kappa[..., None] * grad
    vs = np.maximum(v, 0.0) if positive else np.abs(v)
    excess = np.maximum(vs - l1 * f, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        conj = np.where(
            l2 * f > 0, excess**2 / (2.0 * np.where(l2 * f > 0, l2 * f, 1)), 0.0
        )
    terms = np.where(
        pen,
        l1 * f * np.abs(w) + 0.5 * l2 * f * w * w + conj - v * w,
        np.abs(v * w),
    )
    gap = 0.5 * (1.0 - kappa) ** 2 * rnorm2 + terms.sum(axis=-1)
    return np.maximum(gap, 0.0)


def _previous_prox_update(z, diag, l1, l2, f, positive):
    """``_penalty.prox_update`` as it was written before the vocabulary."""
    num = np.maximum(z - l1 * f, 0.0) if positive else soft_threshold(z, l1 * f)
    num = np.where(np.abs(z) <= l1 * f * (1.0 + SNAP), 0.0, num)
    denom = diag + l2 * f
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0)


# ------------------------------------------------------------------- prox_1d
def _brute_min_1d(phi, lo, hi):
    """Minimizer of a convex ``phi`` on ``[lo, hi]``: a grid, then ternary search."""
    grid = np.linspace(lo, hi, 4001)
    k = int(np.argmin(phi(grid)))
    a, b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    for _ in range(200):
        m1, m2 = a + (b - a) / 3, b - (b - a) / 3
        if phi(m1) <= phi(m2):
            b = m2
        else:
            a = m1
    return 0.5 * (a + b)


@pytest.mark.parametrize("positive", [False, True])
def test_prox_1d_is_the_brute_force_minimizer(positive, rng):
    for _ in range(200):
        z = rng.normal(0.0, 3.0)
        diag = rng.choice([rng.uniform(0.1, 3.0), 1.0])
        l1, l2 = rng.uniform(0.0, 2.0), rng.choice([0.0, rng.uniform(0.0, 2.0)])
        f = rng.choice([0.0, rng.uniform(0.3, 2.0)])
        pen = ElasticNetPenalty(l1, l2, f, positive)
        got = float(pen.prox_1d(np.float64(z), np.float64(diag)))

        def phi(w, l1=l1, l2=l2, f=f, z=z, diag=diag):
            return (
                0.5 * diag * w * w - z * w + l1 * f * np.abs(w) + 0.5 * l2 * f * w * w
            )

        bound = abs(z) / diag + 1.0
        want = _brute_min_1d(phi, 0.0 if positive else -bound, bound)
        # the objective is flat at its minimum: the search pins w to ~√eps
        assert got == pytest.approx(want, abs=1e-6)
        assert phi(got) <= phi(want) + 1e-14
        if positive:
            assert got >= 0.0


def test_prox_1d_degenerate_and_snapped():
    # constant column, no l2: the coefficient stays 0 whatever z
    pen = ElasticNetPenalty(0.5, 0.0, 1.0)
    assert pen.prox_1d(np.float64(3.0), np.float64(0.0)) == 0.0
    # z within SNAP of the threshold: rounding noise, exactly 0
    l1 = 0.7
    z = l1 * (1.0 + 0.5 * SNAP)
    assert ElasticNetPenalty(l1, 0.0, 1.0).prox_1d(np.float64(z), 1.0) == 0.0
    assert ElasticNetPenalty(l1, 0.0, 1.0).prox_1d(np.float64(1.01 * l1), 1.0) > 0


def test_prox_1d_coordinate_index_equals_full_array(rng):
    w, grad, _, l1, l2, f = _random_penalty_inputs(rng)
    diag = rng.uniform(0.0, 2.0, f.size)
    z = grad + diag * w
    pen = ElasticNetPenalty(l1[:, None], l2[:, None], f, False)
    full = pen.prox_1d(z, diag)
    for j in range(f.size):
        np.testing.assert_array_equal(pen.prox_1d(z[:, j], diag[j], j), full[:, j])


# ---------------------------------------------------------- subdiff_distance
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_subdiff_distance_vanishes_at_sklearn_solution(l1_ratio, positive):
    from sklearn.linear_model import ElasticNet

    X, y = make_data(80, 15, "toeplitz", seed=3)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    n = X.shape[0]
    a_max = np.max(np.abs(Xc.T @ yc) / n) / l1_ratio
    alpha = 0.1 * a_max
    est = ElasticNet(
        alpha=alpha,
        l1_ratio=l1_ratio,
        fit_intercept=False,
        positive=positive,
        tol=1e-14,
        max_iter=100_000,
    ).fit(Xc, yc)
    w = est.coef_
    assert 0 < np.count_nonzero(w) < w.size
    grad = Xc.T @ (yc - Xc @ w) / n
    pen = ElasticNetPenalty(
        alpha * l1_ratio, alpha * (1 - l1_ratio), np.ones(15), positive
    )
    dist = pen.subdiff_distance(w, grad)
    assert dist.shape == w.shape
    assert np.all(dist <= 1e-9 * alpha)
    # away from the solution: the moved coordinate violates its condition
    for j in (int(np.flatnonzero(w)[0]), int(np.flatnonzero(w == 0)[0])):
        w2 = w.copy()
        w2[j] += 0.05
        grad2 = Xc.T @ (yc - Xc @ w2) / n
        assert pen.subdiff_distance(w2, grad2)[j] > 1e-4 * alpha
    # at w = 0 below alpha_max some feature violates KKT
    assert pen.subdiff_distance(np.zeros(15), Xc.T @ yc / n).max() > 0.5 * alpha


@pytest.mark.parametrize("positive", [False, True])
def test_subdiff_distance_definition(positive, rng):
    w, grad, _, l1, l2, f = _random_penalty_inputs(rng)
    pen = ElasticNetPenalty(l1[:, None], l2[:, None], f, positive)
    got = pen.subdiff_distance(w, grad)
    l1f, l2f = l1[:, None] * f, l2[:, None] * f
    for (i, j), wij in np.ndenumerate(w):
        g = grad[i, j]
        if wij == 0.0:
            lo = -np.inf if positive else -l1f[i, j]
            want = max(lo - g, g - l1f[i, j], 0.0)  # distance to [lo, l1f]
        elif positive and wij < 0:
            want = np.inf
        else:
            want = abs(g - np.sign(wij) * l1f[i, j] - l2f[i, j] * wij)
        assert got[i, j] == pytest.approx(want, rel=1e-15, abs=1e-15)


def test_alpha_max_equals_the_grid(rng):
    c = rng.standard_normal(11)
    f = rng.uniform(0.5, 2.0, 11)
    f[2] = 0.0
    for positive in (False, True):
        pen = ElasticNetPenalty(1.0, 0.0, f, positive)
        for rho in (0.1, 0.5, 1.0):
            assert pen.alpha_max(c) / rho == alpha_max(c, rho, f, positive)
        # at l1 = alpha_max, w = 0 satisfies KKT; just below it does not
        top = pen.alpha_max(c)
        assert ElasticNetPenalty(top, 0.3, f, positive).subdiff_distance(
            np.zeros(11), c
        )[f > 0].max() == pytest.approx(0.0, abs=1e-15)
        below = ElasticNetPenalty(0.99 * top, 0.3, f, positive)
        assert below.subdiff_distance(np.zeros(11), c)[f > 0].max() > 0.0
    assert ElasticNetPenalty(1.0, 0.0, np.zeros(3)).alpha_max(np.ones(3)) == 0.0


# ------------------------------------------------ numba functions == numpy methods
@pytest.mark.parametrize("positive", [False, True])
def test_numba_vocabulary_equals_numpy_methods(positive, rng):
    w, grad, rnorm2, l1, l2, f = _random_penalty_inputs(rng)
    if positive:
        w = np.where(rng.uniform(size=w.shape) < 0.1, w, np.abs(w))  # some w < 0
    pen = ElasticNetPenalty(l1[:, None], l2[:, None], f, positive)
    diag = rng.uniform(0.0, 2.0, f.size)
    diag[3] = 0.0
    z = grad + diag * w
    kappa = pen.dual_scaling(grad)
    v = kappa[:, None] * grad
    prox = pen.prox_1d(z, diag)
    dist = pen.subdiff_distance(w, grad)
    conj = pen.conjugate(v)
    value_terms = l1[:, None] * f * np.abs(w) + 0.5 * l2[:, None] * f * w * w
    for i in range(w.shape[0]):
        k = 1.0
        for j in range(f.size):
            l1f, l2f = l1[i] * f[j], l2[i] * f[j]
            assert (
                _numba.enet_prox_1d(z[i, j], diag[j], l1f, l2f, positive) == prox[i, j]
            )
            assert _numba.enet_value(w[i, j], l1f, l2f) == value_terms[i, j]
            assert (
                _numba.enet_subdiff_distance(w[i, j], grad[i, j], l1f, l2f, positive)
                == dist[i, j]
            )
            assert _numba.enet_conjugate(v[i, j], l1f, l2f, positive) == conj[i, j]
            k = min(k, _numba.enet_dual_scaling(grad[i, j], l1f, l2f, f[j], positive))
        assert k == kappa[i]
        assert _numba.quadratic_gap(rnorm2[i], kappa[i]) == Quadratic().gap_term(
            rnorm2[i], kappa[i]
        )
        np.testing.assert_allclose(
            np.sum(
                [
                    _numba.enet_value(w[i, j], l1[i] * f[j], l2[i] * f[j])
                    for j in range(f.size)
                ]
            ),
            pen.value(w)[i],
            rtol=1e-14,
        )
        got = _numba.duality_gap(
            w[i],
            grad[i],
            np.arange(f.size),
            f.size,
            rnorm2[i],
            l1[i],
            l2[i],
            f,
            positive,
        )
        want = duality_gap(w[i], grad[i], rnorm2[i], l1[i], l2[i], f, positive)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the names the tests knew before
    assert _numba._gap is _numba.duality_gap
    assert _numba._coord_update is _numba.enet_prox_1d
    assert _numba.SNAP == SNAP


def test_numba_quadratic_rnorm2_equals_the_residual(rng):
    X = rng.standard_normal((30, 6))
    y = rng.standard_normal(30)
    G, c, yy = X.T @ X / 30, X.T @ y / 30, y @ y / 30
    w = rng.standard_normal(6)
    r = y - X @ w
    got = _numba.quadratic_rnorm2(yy, c, G @ w, w)
    assert got == pytest.approx(r @ r / 30, rel=1e-12)
    assert Quadratic().value(got) == 0.5 * got
    np.testing.assert_array_equal(Quadratic().grad_gram(c, G @ w), c - G @ w)


# ------------------------------------------ the composition == the previous formula
@pytest.mark.parametrize("positive", [False, True])
def test_duality_gap_composition_equals_previous_formula(positive, rng):
    for _ in range(5):
        w, grad, rnorm2, l1, l2, f = _random_penalty_inputs(rng)
        if positive:
            w = np.abs(w)
        want = _previous_duality_gap(w, grad, rnorm2, l1, l2, f, positive)
        np.testing.assert_array_equal(
            duality_gap(w, grad, rnorm2, l1, l2, f, positive), want
        )
        pen = ElasticNetPenalty(l1[:, None], l2[:, None], f, positive)
        np.testing.assert_array_equal(
            fenchel_gap(Quadratic(), pen, w, grad, rnorm2), want
        )
        # one fit at a time (scalar l1, l2)
        for i in (0, 3, 7):
            assert duality_gap(
                w[i], grad[i], rnorm2[i], l1[i], l2[i], f, positive
            ) == _previous_duality_gap(
                w[i], grad[i], rnorm2[i], l1[i], l2[i], f, positive
            )
        diag = rng.uniform(0.0, 2.0, f.size)
        z = grad + diag * w
        np.testing.assert_array_equal(
            prox_update(z, diag, l1[:, None], l2[:, None], f, positive),
            _previous_prox_update(z, diag, l1[:, None], l2[:, None], f, positive),
        )
        np.testing.assert_array_equal(
            penalty_value(w, l1[:, None], l2[:, None], f),
            np.sum(
                l1[:, None] * f * np.abs(w) + 0.5 * l2[:, None] * f * w * w, axis=-1
            ),
        )


def test_gap_is_the_sum_of_the_two_parts(rng):
    w, grad, rnorm2, l1, l2, f = _random_penalty_inputs(rng)
    pen = ElasticNetPenalty(l1[:, None], l2[:, None], f, False)
    kappa = pen.dual_scaling(grad)
    assert np.all((kappa > 0) & (kappa <= 1))
    v = kappa[:, None] * grad
    data = Quadratic().gap_term(rnorm2, kappa)
    terms = pen.gap_terms(w, v)
    assert np.all(data >= 0) and np.all(terms >= -1e-15)
    np.testing.assert_allclose(
        fenchel_gap(Quadratic(), pen, w, grad, rnorm2),
        np.maximum(data + terms.sum(axis=1), 0.0),
        rtol=1e-15,
    )
    # κ·grad is dual feasible on the pure-Lasso coordinates
    lasso = (f > 0) & (l2[:, None] * f == 0)
    assert np.all(np.abs(v)[lasso] <= (l1[:, None] * f)[lasso] * (1 + 1e-15))


# ------------------------------------------------ the twins agree with the vocabulary
@pytest.mark.parametrize("positive", [False, True])
def test_twins_agree_with_the_vocabulary(positive, rng):
    n_sets, p, k = 2, 9, 8
    X = rng.standard_normal((40, p))
    y = rng.standard_normal(40)
    G = np.stack([X.T @ X / 40, X[:30].T @ X[:30] / 30])
    C = np.stack([X.T @ y / 40, X[:30].T @ y[:30] / 30])
    yy = np.array([y @ y / 40, y[:30] @ y[:30] / 30])
    set_of = (np.arange(k) % n_sets).astype(np.int32)
    W = rng.standard_normal((k, p)) * (rng.uniform(size=(k, p)) > 0.4)
    if positive:
        W = np.abs(W)
    l1 = rng.uniform(0.01, 0.3, k)
    l2 = np.where(np.arange(k) % 3 == 0, 0.0, rng.uniform(0.0, 0.3, k))
    f = rng.uniform(0.5, 2.0, p)
    f[1] = 0.0
    GW = np.einsum("kij,kj->ki", G[set_of], W)
    got = TwinOps.gap(GW, W, C, yy, set_of, l1, l2, f, positive)
    grad = C[set_of] - GW
    rnorm2 = np.maximum(
        yy[set_of] - 2 * np.sum(C[set_of] * W, 1) + np.sum(W * GW, 1), 0
    )
    want = duality_gap(W, grad, rnorm2, l1, l2, f, positive)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # the FISTA step's prox is prox_1d at diag = 1 with the step-scaled l1, l2
    step = np.array([0.3, 0.7])
    W_next, Y_next, t = np.empty_like(W), np.empty_like(W), np.ones(k)
    TwinOps.fista_step(
        GW, W, W, W_next, Y_next, C, set_of, step, l1, l2, f, t, positive
    )
    eta = step[set_of][:, None]
    zz = W - eta * (GW - C[set_of])
    pen = ElasticNetPenalty(eta * l1[:, None], eta * l2[:, None], f, positive)
    np.testing.assert_allclose(W_next, pen.prox_1d(zz, 1.0), rtol=1e-14, atol=1e-15)


# ------------------------------------------------------------- one core, two forms
@pytest.mark.parametrize("positive", [False, True])
def test_one_core_serves_both_forms(positive):
    X, y = make_data(60, 12, "toeplitz", seed=5)
    rng = np.random.default_rng(6)
    sw = rng.uniform(0.3, 2.0, 60)
    W = training_weights(60, make_folds(3, 60), sw)
    kw = dict(fit_intercept=True, standardize=True, dtype=np.float64)
    gram = build_gram_batch(X, y, W, **kw)
    resid = build_residual_batch(X, y, W, **kw)
    f = np.ones(12)
    f[[0, 4]] = 0.0
    rhos = np.array([0.5, 1.0])
    top = [alpha_max(gram.stats.c[-1], r, f, positive) for r in rhos]
    alphas = np.stack([np.geomspace(a, 1e-2 * a, 8) for a in top])
    opts = dict(positive=positive, tol=1e-12, max_iter=100_000)
    a = _numba.solve_paths(gram, alphas, rhos, f, **opts)
    b = _numba.solve_paths(resid, alphas, rhos, f, **opts)
    thr = 1e-12 * gram.stats.yy[:, None, None]
    assert (a.dual_gap <= thr).all() and (b.dual_gap <= thr).all()
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-5 * np.abs(a.coef).max())
