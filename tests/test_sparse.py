"""scipy.sparse X (Gaussian family, CPU): every input class, parity with the
dense path and with scikit-learn's sparse fits, never densified."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet as SkElasticNet
from sklearn.linear_model import ElasticNetCV as SkElasticNetCV
from sklearn.model_selection import KFold

import gpureg

CLASSES = [
    sp.csr_matrix,
    sp.csc_matrix,
    sp.coo_matrix,
    sp.csr_array,
    sp.csc_array,
    sp.coo_array,
]


def _data(n, p, density, seed=0):
    """Non-negative sparse columns (means far from 0: centering matters),
    one all-zero column, and a target from five of them."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, random_state=seed, format="csr")
    X = X + 2.0 * sp.random(n, p, density=density / 4, random_state=seed + 1)
    mask = np.ones(p)
    mask[3] = 0.0  # an all-zero column
    X = sp.csc_matrix(X.multiply(mask[None, :]))
    X.eliminate_zeros()
    beta = np.zeros(p)
    beta[[0, 1, 2, 5, 7]] = [3.0, -2.0, 1.5, 1.0, -1.0]
    y = X @ beta + 0.1 * rng.standard_normal(n) + 4.0
    return X.tocsr(), y


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("shape", [(300, 40), (80, 300)], ids=["gram", "residual"])
def test_every_sparse_class_equals_the_dense_path(cls, shape):
    X, y = _data(*shape, density=0.1)
    Xs = cls(X)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=10, cv=3, tol=1e-10, max_iter=100_000)
    sparse = gpureg.fit_grid(Xs, y, **kw)
    dense = gpureg.fit_grid(X.toarray(), y, **kw)
    assert sparse.mode == ("gram" if shape[0] > shape[1] else "residual")
    assert sparse.mode == dense.mode
    scale = np.abs(dense.coef_path).max()
    np.testing.assert_allclose(sparse.alphas, dense.alphas, rtol=1e-10)
    np.testing.assert_allclose(sparse.coef_path, dense.coef_path, atol=1e-7 * scale)
    np.testing.assert_allclose(
        sparse.intercept_path, dense.intercept_path, atol=1e-7 * scale
    )
    np.testing.assert_allclose(sparse.cv_path, dense.cv_path, rtol=1e-6)
    assert sparse.converged.all()
    np.testing.assert_allclose(
        sparse.predict(Xs), dense.predict(X.toarray()), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize(
    "options",
    [
        dict(standardize=True),
        dict(fit_intercept=False),
        dict(weighted=True),
        dict(l1_ratio=0.0),
        dict(positive=True),
    ],
    ids=["standardize", "no-intercept", "weighted", "ridge", "positive"],
)
def test_residual_form_options_equal_the_dense_path(options):
    options = dict(options)
    X, y = _data(60, 150, density=0.15, seed=3)
    if options.pop("weighted", False):
        options["sample_weight"] = np.random.default_rng(1).uniform(0.2, 3.0, 60)
    kw = dict(
        dict(l1_ratio=0.7, alphas=8, cv=3, tol=1e-10, max_iter=200_000), **options
    )
    sparse = gpureg.fit_grid(X, y, **kw)
    dense = gpureg.fit_grid(X.toarray(), y, **kw)
    assert sparse.mode == "residual"
    scale = np.abs(dense.coef_path).max()
    np.testing.assert_allclose(sparse.coef_path, dense.coef_path, atol=1e-6 * scale)
    np.testing.assert_allclose(sparse.cv_path, dense.cv_path, rtol=1e-6)


@pytest.mark.parametrize("shape", [(200, 30), (60, 120)], ids=["gram", "residual"])
def test_matches_scikit_learn_sparse_elastic_net(shape):
    X, y = _data(*shape, density=0.1, seed=5)
    for alpha in (0.3, 0.03):
        sk = SkElasticNet(alpha=alpha, l1_ratio=0.6, tol=1e-12, max_iter=200_000)
        sk.fit(X, y)
        ours = gpureg.ElasticNet(alpha=alpha, l1_ratio=0.6, tol=1e-12, max_iter=200_000)
        ours.fit(X, y)
        np.testing.assert_allclose(ours.coef_, sk.coef_, atol=1e-6)
        assert ours.intercept_ == pytest.approx(sk.intercept_, abs=1e-6)
    folds = list(KFold(3).split(X))
    sk = SkElasticNetCV(
        l1_ratio=[0.5, 1.0], alphas=10, cv=folds, tol=1e-10, max_iter=200_000
    ).fit(X, y)
    ours = gpureg.ElasticNetCV(
        l1_ratio=[0.5, 1.0], alphas=10, cv=folds, tol=1e-10, max_iter=200_000
    ).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, sk.alphas_, rtol=1e-8)
    np.testing.assert_allclose(ours.mse_path_, sk.mse_path_, rtol=1e-5)
    assert ours.alpha_ == pytest.approx(sk.alpha_, rel=1e-8)
    assert ours.l1_ratio_ == sk.l1_ratio_


def test_the_users_matrix_is_untouched():
    X, y = _data(50, 20, density=0.2)
    coo = X.tocoo()
    # duplicates and unsorted entries, as a user may build them
    rows = np.r_[coo.row, coo.row[:5]][::-1]
    cols = np.r_[coo.col, coo.col[:5]][::-1]
    vals = np.r_[coo.data, np.ones(5)][::-1]
    user = sp.coo_matrix((vals, (rows, cols)), shape=X.shape)
    before = (user.row.copy(), user.col.copy(), user.data.copy())
    res = gpureg.fit_grid(user, y, alphas=5, cv=3)
    for a, b in zip((user.row, user.col, user.data), before, strict=True):
        np.testing.assert_array_equal(a, b)
    dense = gpureg.fit_grid(user.toarray(), y, alphas=5, cv=3)
    np.testing.assert_allclose(res.coef_path, dense.coef_path, atol=1e-8)


def test_a_matrix_too_large_to_densify_is_never_densified():
    """1,000,000 × 200,000 (a dense copy would take 1.6 TB): it fits."""
    rng = np.random.default_rng(0)
    n, p, nnz = 1_000_000, 200_000, 20_000
    X = sp.csc_matrix(
        (rng.standard_normal(nnz), (rng.integers(0, n, nnz), rng.integers(0, p, nnz))),
        shape=(n, p),
    )
    y = X[:, :50] @ rng.standard_normal(50) + 0.01 * rng.standard_normal(n)
    res = gpureg.fit_grid(X, y, l1_ratio=1.0, alphas=4, eps=0.1, cv=2)
    assert res.mode == "residual" and res.converged.all()
    assert np.isfinite(res.coef_path).all() and res.coef_path.shape == (1, 4, p)


def test_sparse_estimators_fit_and_predict():
    X, y = _data(150, 20, density=0.2, seed=7)
    est = gpureg.LassoCV(alphas=8, cv=3).fit(sp.csr_array(X), y)
    ref = gpureg.LassoCV(alphas=8, cv=3).fit(X.toarray(), y)
    assert est.alpha_ == pytest.approx(ref.alpha_, rel=1e-9)
    np.testing.assert_allclose(est.predict(X), ref.predict(X.toarray()), atol=1e-8)
    labels = (y > np.median(y)).astype(int)
    for cls in (sp.coo_array, sp.csc_matrix):
        est = gpureg.LogisticRegressionCV(Cs=4, cv=3, use_legacy_attributes=False)
        ref = gpureg.LogisticRegressionCV(Cs=4, cv=3, use_legacy_attributes=False)
        est.fit(cls(X), labels)
        ref.fit(X.toarray(), labels)
        assert est.C_ == pytest.approx(ref.C_, rel=1e-12)
        np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
        np.testing.assert_allclose(
            est.predict_proba(cls(X)), ref.predict_proba(X.toarray()), atol=1e-8
        )


@pytest.mark.parametrize("shape", [(300, 30), (80, 200)], ids=["n>p", "p>n"])
def test_binomial_sparse_equals_dense(shape):
    rng = np.random.default_rng(1)
    X = sp.random(*shape, density=0.15, random_state=1, format="csr") * 2
    z = X[:, :4] @ np.array([3.0, -3.0, 2.0, 2.0]) - 0.5
    y = (rng.random(shape[0]) < 1 / (1 + np.exp(-z))).astype(int)
    sw = rng.uniform(0.5, 2.0, shape[0])
    kw = dict(
        family="binomial",
        l1_ratio=[0.5, 1.0],
        alphas=10,
        cv=3,
        tol=1e-6,
        max_iter=20_000,  # two fold fits need more than 1000 CD passes (dense too)
        sample_weight=sw,
        standardize=True,
        keep=True,
    )
    sparse = gpureg.fit_grid(sp.csc_array(X), y, **kw)
    dense = gpureg.fit_grid(X.toarray(), y, **kw)
    np.testing.assert_allclose(sparse.coef_path, dense.coef_path, atol=1e-10)
    np.testing.assert_allclose(sparse.cv_path, dense.cv_path, rtol=1e-10)
    np.testing.assert_allclose(sparse.oof_predictions, dense.oof_predictions, atol=1e-9)
    np.testing.assert_array_equal(sparse.path_stop, dense.path_stop)
    solved = np.arange(10) < sparse.path_stop[..., None]  # before any early stop
    assert sparse.converged[solved].all()
    with pytest.raises(NotImplementedError, match="not on the dense 'numpy'"):
        gpureg.fit_grid(X, y, family="binomial", backend="numpy")


def test_paths_take_a_sparse_X_as_scikit_learn():
    from sklearn.linear_model import enet_path as sk_enet_path

    X, y = _data(80, 120, density=0.1, seed=9)
    yc = y - y.mean()
    alphas, coefs, gaps = gpureg.enet_path(
        X, yc, l1_ratio=0.8, alphas=8, tol=1e-10, max_iter=100_000
    )
    _, ref, _ = sk_enet_path(
        X, yc, l1_ratio=0.8, alphas=alphas, tol=1e-12, max_iter=100_000
    )
    np.testing.assert_allclose(coefs, ref, atol=1e-6)
    dense = gpureg.lasso_path(X.toarray(), yc > 0, family="binomial", alphas=6)
    sparse = gpureg.lasso_path(X, yc > 0, family="binomial", alphas=6)
    np.testing.assert_allclose(sparse[1], dense[1], atol=1e-10)
