"""``enet_path`` / ``lasso_path`` with ``family="binomial"`` (logistic paths).

The objective (no intercept) is
``1/n Σ [log(1 + e^{z_i}) - y_i z_i] + alpha (l1_ratio ‖w‖₁ + (1 - l1_ratio)/2 ‖w‖²)``
with ``z = X w``; scikit-learn's ``LogisticRegression`` solves it with
``C = 1 / (n alpha)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import gpureg
from gpureg.backends import _gpu

#: before scikit-learn 1.8 an elastic net needs penalty="elasticnet"
#: (as tests/test_binomial.py)
_SK_PENALTY = (
    {"penalty": "elasticnet"}
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8)
    else {}
)

TOL = 1e-10
KW = {"alphas": 10, "eps": 1e-2, "tol": TOL, "max_iter": 100_000}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=60, n_features=8, n_informative=4, random_state=0
    )
    return (X - X.mean(axis=0)) / X.std(axis=0), y.astype(float)


def _sklearn_coef(X, y, alpha, rho):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = LogisticRegression(
            l1_ratio=rho,
            C=1.0 / (X.shape[0] * alpha),
            solver="saga",
            tol=1e-12,
            max_iter=200_000,
            fit_intercept=False,
            **_SK_PENALTY,
        ).fit(X, y)
    return sk.coef_[0]


@pytest.mark.parametrize("rho", [0.5, 1.0])
def test_matches_sklearn_logistic_regression(data, rho):
    X, y = data
    alphas, coefs, gaps = gpureg.enet_path(X, y, l1_ratio=rho, family="binomial", **KW)
    assert alphas.shape == (10,) and coefs.shape == (8, 10) and gaps.shape == (10,)
    assert np.all(np.diff(alphas) < 0)
    assert not coefs[:, 0].any()  # alpha_max: the null model
    for k in (2, 5, 9):
        sk = _sklearn_coef(X, y, alphas[k], rho)
        np.testing.assert_allclose(coefs[:, k], sk, atol=1e-5 * np.abs(sk).max())
    assert np.abs(coefs[:, -1]).max() > 0.5  # the checked fits are not trivial


def test_equals_fit_grid_without_intercept(data):
    X, y = data
    sw = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    f = np.r_[0.5, np.ones(7)]
    kw = dict(KW, sample_weight=sw, penalty_factor=f)
    alphas, coefs, gaps, n_iter = gpureg.enet_path(
        X, y, l1_ratio=0.7, family="binomial", return_n_iter=True, **kw
    )
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=0.7,
        cv=None,
        fit_intercept=False,
        standardize=False,
        **kw,
    )
    np.testing.assert_array_equal(alphas, res.alphas[0])
    np.testing.assert_array_equal(coefs, res.coef_path[0].T)
    np.testing.assert_array_equal(gaps, res.dual_gap[-1, 0])
    assert n_iter == res.n_iter[-1, 0].tolist()
    assert not res.intercept_path.any()


def test_gaps_are_certified_and_n_iter_is_returned(data):
    X, y = data
    out = gpureg.enet_path(X, y, family="binomial", return_n_iter=True, **KW)
    assert len(out) == 4
    gaps, n_iter = out[2], out[3]
    # no intercept: the null model's mean log-loss is log 2
    assert np.all(gaps >= 0.0) and np.all(gaps <= TOL * np.log(2.0))
    assert len(n_iter) == 10 and all(isinstance(k, int) for k in n_iter)
    assert n_iter[-1] >= 1


def test_string_labels_are_the_sorted_classes(data):
    X, y = data
    base = gpureg.enet_path(X, y, family="binomial", **KW)
    labels = np.where(y > 0.5, "yes", "no")  # "yes" > "no": the modelled class
    got = gpureg.enet_path(X, labels, family="binomial", **KW)
    for a, b in zip(base, got, strict=True):
        np.testing.assert_array_equal(a, b)
    flipped = gpureg.enet_path(X, np.where(y > 0.5, "a", "b"), family="binomial", **KW)
    np.testing.assert_allclose(flipped[1], -base[1], atol=1e-12)


def test_lasso_path_is_l1_ratio_one(data):
    X, y = data
    lasso = gpureg.lasso_path(X, y, family="binomial", return_n_iter=True, **KW)
    enet = gpureg.enet_path(
        X, y, l1_ratio=1.0, family="binomial", return_n_iter=True, **KW
    )
    for a, b in zip(lasso, enet, strict=True):
        np.testing.assert_array_equal(a, b)
    # the L1 path: alpha_max is ‖X^T (y - 1/2)‖_∞ / n
    a_max = np.abs(X.T @ (y - 0.5)).max() / X.shape[0]
    np.testing.assert_allclose(lasso[0][0], a_max, rtol=1e-12)


def test_bad_labels_and_family_are_named(data):
    X, y = data
    with pytest.raises(ValueError, match="exactly 2 classes in y, got 3"):
        gpureg.enet_path(X, np.arange(60) % 3, family="binomial")
    with pytest.raises(ValueError, match="exactly 2 classes in y, got 1"):
        gpureg.lasso_path(X, np.ones(60), family="binomial")
    with pytest.raises(ValueError, match=r"family must be one of.*'poisson'"):
        gpureg.enet_path(X, y, family="poisson")
    with pytest.raises(NotImplementedError, match="not on the 'numpy'"):
        gpureg.enet_path(X, y, family="binomial", backend="numpy")
    if not _gpu.is_available():
        with pytest.raises(RuntimeError, match="backend='gpu' was requested"):
            gpureg.enet_path(X, y, family="binomial", backend="gpu")
