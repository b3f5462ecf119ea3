"""RidgeCV: exact leave-one-out and batched K-fold, against brute force and sklearn."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import sklearn.linear_model as sk
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold

from gpureg import Ridge, RidgeCV

ALPHAS = np.logspace(-3, 3, 13)


def _data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3, p) + 0.5
    y = 2 * X[:, 0] - X[:, 1] + rng.standard_normal(n) + 3.0
    sw = rng.uniform(0.2, 2.0, n)
    return X, y, sw


def _brute_loo(X, y, sw, alphas, make):
    """``y_i - ŷ_{-i}`` by refitting without each row."""
    n = X.shape[0]
    out = np.empty((len(alphas), n))
    for a, alpha in enumerate(alphas):
        for i in range(n):
            keep = np.arange(n) != i
            m = make(alpha).fit(
                X[keep], y[keep], sample_weight=None if sw is None else sw[keep]
            )
            out[a, i] = y[i] - m.predict(X[i : i + 1])[0]
    return out


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(40, 6), (15, 30)])
def test_loo_errors_equal_refitting_without_each_row(shape, weighted, fit_intercept):
    X, y, sw = _data(*shape)
    sw = sw if weighted else None
    alphas = [0.05, 1.0, 20.0]
    est = RidgeCV(
        alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True, backend="cpu"
    ).fit(X, y, sample_weight=sw)
    brute = _brute_loo(
        X, y, sw, alphas, lambda a: sk.Ridge(alpha=a, fit_intercept=fit_intercept)
    )
    s = np.ones(len(y)) if sw is None else sw
    expected = (s * brute**2).T  # scikit-learn's cv_results_: weighted squared errors
    np.testing.assert_allclose(est.cv_results_, expected, rtol=1e-8, atol=1e-12)
    assert est.best_score_ == pytest.approx(-expected.mean(axis=0).min(), rel=1e-8)


@pytest.mark.parametrize("scoring", [None, "neg_mean_absolute_error"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("cv", [None, 5, KFold(4, shuffle=True, random_state=0)])
@pytest.mark.parametrize("shape", [(80, 10), (30, 60)])
def test_matches_sklearn_ridgecv(shape, cv, weighted, scoring):
    X, y, sw = _data(*shape, seed=1)
    sw = sw if weighted else None
    ours = RidgeCV(alphas=ALPHAS, cv=cv, scoring=scoring, backend="cpu").fit(
        X, y, sample_weight=sw
    )
    theirs = sk.RidgeCV(alphas=ALPHAS, cv=cv, scoring=scoring).fit(
        X, y, sample_weight=sw
    )
    assert ours.alpha_ == theirs.alpha_
    # near-interpolating LOO fits (p > n, alpha=1e-3) divide by 1 - H_ii ≈ 1e-3
    assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-7)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("scoring", [None, "r2"])
def test_store_cv_results_matches_sklearn(scoring):
    X, y, sw = _data(50, 7, seed=2)
    ours = RidgeCV(
        alphas=ALPHAS, scoring=scoring, store_cv_results=True, backend="cpu"
    ).fit(X, y, sample_weight=sw)
    theirs = sk.RidgeCV(alphas=ALPHAS, scoring=scoring, store_cv_results=True).fit(
        X, y, sample_weight=sw
    )
    assert ours.cv_results_.shape == (50, ALPHAS.size)
    np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-9)


def test_kfold_fits_equal_ridge_on_each_training_set():
    """Each fold's fit (with its own Σ s) is Ridge on the fold's rows, including
    penalty factors, standardization and an unpenalized feature."""
    X, y, sw = _data(60, 8, seed=3)
    f = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 1.0, 1.0, 3.0])
    folds = list(KFold(3, shuffle=True, random_state=1).split(X))
    est = RidgeCV(
        alphas=[0.5, 5.0], cv=folds, penalty_factor=f, standardize=True, backend="cpu"
    ).fit(X, y, sample_weight=sw)
    table = est.cv_results_
    for k, (train, test) in enumerate(folds):
        for a, alpha in enumerate([0.5, 5.0]):
            m = Ridge(
                alpha=alpha, penalty_factor=f, standardize=True, backend="cpu"
            ).fit(X[train], y[train], sample_weight=sw[train])
            assert table[f"split{k}_test_score"][a] == pytest.approx(
                m.score(X[test], y[test], sample_weight=sw[test]), rel=1e-10
            )
    full = Ridge(
        alpha=est.alpha_, penalty_factor=f, standardize=True, backend="cpu"
    ).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, full.coef_, rtol=1e-10)


def test_loo_with_penalty_factor_equals_refitting():
    X, y, _ = _data(30, 5, seed=4)
    f = np.array([0.0, 1.0, 1.0, 4.0, 1.0])
    est = RidgeCV(
        alphas=[0.3, 3.0], penalty_factor=f, store_cv_results=True, backend="cpu"
    ).fit(X, y)
    brute = _brute_loo(
        X,
        y,
        None,
        [0.3, 3.0],
        lambda a: Ridge(alpha=a, penalty_factor=f, backend="cpu"),
    )
    np.testing.assert_allclose(est.cv_results_, (brute**2).T, rtol=1e-9)


def test_alpha_zero_in_kfold_is_least_squares():
    X, y, _ = _data(40, 5, seed=5)
    ours = RidgeCV(alphas=[0.0, 1.0], cv=4, backend="cpu").fit(X, y)
    grid = GridSearchCV(sk.Ridge(), {"alpha": [0.0, 1.0]}, cv=4).fit(X, y)
    np.testing.assert_allclose(
        ours.cv_results_["mean_test_score"],
        grid.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert ours.alpha_ == grid.best_params_["alpha"]
    ols = sk.LinearRegression().fit(X, y)
    only0 = RidgeCV(alphas=[0.0], cv=4, backend="cpu").fit(X, y)
    np.testing.assert_allclose(only0.coef_, ols.coef_, rtol=1e-10)


def test_one_standard_error_rule_and_table():
    X, y, _ = _data(60, 20, seed=6)
    est = RidgeCV(alphas=ALPHAS, cv=5, backend="cpu").fit(X, y)
    t = est.cv_results_
    assert set(t) >= {
        "alpha",
        "mean_test_score",
        "std_err_test_score",
        "split0_test_score",
        "split4_test_score",
        "rank_test_score",
    }
    best = int(np.argmax(t["mean_test_score"]))
    assert t["rank_test_score"][best] == 1 and est.alpha_ == t["alpha"][best]
    folds = np.stack([t[f"split{k}_test_score"] for k in range(5)], axis=1)
    np.testing.assert_allclose(
        t["std_err_test_score"], folds.std(axis=1, ddof=1) / np.sqrt(5)
    )
    ok = (
        t["mean_test_score"]
        >= t["mean_test_score"][best] - t["std_err_test_score"][best]
    )
    assert est.alpha_1se_ == t["alpha"][ok].max() >= est.alpha_
    est_1se = clone(est).set_params(alpha_selection="1se").fit(X, y)
    assert est_1se.alpha_ == est.alpha_1se_
    i = int(np.flatnonzero(ALPHAS == est.alpha_1se_)[0])
    assert est_1se.best_score_ == t["mean_test_score"][i]


def test_dtype_dataframe_and_untouched_input():
    X, y, sw = _data(40, 4, seed=7)
    df = pd.DataFrame(X, columns=list("abcd"))
    est = RidgeCV(backend="cpu").fit(df, pd.Series(y))
    assert list(est.feature_names_in_) == list("abcd")
    e32 = RidgeCV(cv=3, backend="cpu").fit(X.astype(np.float32), y.astype(np.float32))
    assert e32.coef_.dtype == np.float32
    ref = sk.RidgeCV(cv=3).fit(X, y)
    np.testing.assert_allclose(e32.coef_, ref.coef_, rtol=1e-5)
    Xc, yc, swc = X.copy(), y.copy(), sw.copy()
    RidgeCV(standardize=True, backend="cpu").fit(X, y, sample_weight=sw)
    RidgeCV(cv=4, standardize=True, backend="cpu").fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(y, yc)
    np.testing.assert_array_equal(sw, swc)


@pytest.mark.parametrize(
    "params, fit_args, match",
    [
        (dict(alphas=[1.0, 0.0]), {}, r"alphas\[1\] must be finite and > 0"),
        (dict(alphas=[-1.0], cv=3), {}, r"alphas\[0\] must be finite and >= 0"),
        (dict(alphas=[]), {}, "non-empty"),
        (dict(cv=3, store_cv_results=True), {}, "store_cv_results"),
        (dict(cv=3, alpha_per_target=True), {}, "alpha_per_target"),
        (dict(gcv_mode="qr"), {}, "gcv_mode"),
        (dict(scoring=3), {}, "scoring"),
        (dict(alpha_selection="best"), {}, "alpha_selection"),
        (dict(cv=50), {}, "n_samples=40"),
        (dict(penalty_factor=[1.0, -1.0, 1.0, 1.0]), {}, "penalty_factor"),
        (dict(), dict(sample_weight=-np.ones(40)), "[Nn]egative"),
    ],
)
def test_bad_input_is_named(params, fit_args, match):
    X, y, _ = _data(40, 4, seed=8)
    with pytest.raises(ValueError, match=match):
        RidgeCV(backend="cpu", **params).fit(X, y, **fit_args)


def test_bad_data_is_named():
    X, y, _ = _data(40, 4, seed=9)
    with pytest.raises(ValueError, match="NaN"):
        RidgeCV(backend="cpu").fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="n_samples=1"):
        RidgeCV(backend="cpu").fit(X[:1], y[:1])
    with pytest.raises(TypeError, match="[Ss]parse"):
        RidgeCV(backend="cpu").fit(scipy.sparse.csr_matrix(X), y)
