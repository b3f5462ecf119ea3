"""``fit_grid(..., keep=True)``: every fold's paths and the out-of-fold
predictions (glmnet's ``keep=TRUE``), Gaussian and binomial."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import KFold, StratifiedKFold

import gpureg


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(150, 12, n_informative=5, noise=2.0, random_state=0)
    return X * np.linspace(0.5, 3.0, 12), y


@pytest.mark.parametrize("standardize", [False, True])
def test_gaussian_fold_paths_are_the_fits_of_their_training_rows(
    regression, standardize
):
    X, y = regression
    sw = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    kw = dict(tol=1e-10, max_iter=100_000, standardize=standardize)
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=[0.3, 1.0],
        alphas=8,
        cv=folds,
        keep=True,
        sample_weight=sw,
        **kw,
    )
    assert res.fold_coef_path.shape == (4, 2, 8, 12)
    assert res.fold_intercept_path.shape == (4, 2, 8)
    assert res.oof_predictions.shape == (2, 8, 150)
    for k, (train, test) in enumerate(folds):
        for li, rho in enumerate(res.l1_ratios):
            one = gpureg.fit_grid(
                X[train],
                y[train],
                l1_ratio=rho,
                alphas=res.alphas[li],
                cv=None,
                sample_weight=sw[train],
                **kw,
            )
            np.testing.assert_allclose(
                res.fold_coef_path[k, li], one.coef_path[0], rtol=1e-6, atol=1e-8
            )
            np.testing.assert_allclose(
                res.fold_intercept_path[k, li],
                one.intercept_path[0],
                rtol=1e-6,
                atol=1e-8,
            )
        # the held-out predictions score exactly as cv_path
        err = y[test] - res.oof_predictions[..., test]
        mse = (err**2) @ sw[test] / sw[test].sum()
        np.testing.assert_allclose(mse, res.cv_path[..., k], rtol=1e-10)
        pred = X[test] @ res.fold_coef_path[k, 1, 3] + res.fold_intercept_path[k, 1, 3]
        np.testing.assert_allclose(res.oof_predictions[1, 3, test], pred, rtol=1e-12)


def test_binomial_oof_log_odds_score_as_cv_path():
    X, y = make_classification(160, 6, n_informative=3, random_state=1)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=[0.5, 1.0],
        alphas=6,
        cv=folds,
        keep=True,
        tol=1e-8,
    )
    assert res.fold_coef_path.shape == (3, 2, 6, 6)
    for k, (train, test) in enumerate(folds):
        z = res.oof_predictions[..., test]
        dev = 2 * np.mean(np.logaddexp(0, z) - y[test] * z, axis=-1)
        np.testing.assert_allclose(dev, res.cv_path[..., k], rtol=1e-10)
        one = gpureg.fit_grid(
            X[train],
            y[train],
            family="binomial",
            l1_ratio=0.5,
            alphas=res.alphas[0],
            cv=None,
            tol=1e-8,
        )
        np.testing.assert_allclose(
            res.fold_coef_path[k, 0], one.coef_path[0], rtol=1e-4, atol=1e-6
        )


def test_rows_no_fold_holds_out_are_nan(regression):
    X, y = regression
    rows = np.arange(150)
    folds = [(rows[60:], rows[:60]), (np.r_[rows[:60], rows[120:]], rows[60:120])]
    res = gpureg.fit_grid(X, y, alphas=5, cv=folds, keep=True)
    assert np.isnan(res.oof_predictions[..., 120:]).all()
    assert np.isfinite(res.oof_predictions[..., :120]).all()


def test_keep_off_needs_folds_and_a_budget(regression):
    X, y = regression
    res = gpureg.fit_grid(X, y, alphas=5, cv=3)
    assert res.fold_coef_path is None and res.oof_predictions is None
    with pytest.raises(ValueError, match="keep=True needs cross-validation"):
        gpureg.fit_grid(X, y, alphas=5, cv=None, keep=True)
    with pytest.raises(TypeError, match="keep must be True or False"):
        gpureg.fit_grid(X, y, alphas=5, cv=3, keep="yes")
    need = 8 * 1 * 100 * (3 * 13 + 150)
    with pytest.raises(MemoryError, match=r"keep=True's fold paths and predictions"):
        gpureg.fit_grid(X, y, cv=3, keep=True, memory_limit=need - 1)


def test_estimators_expose_the_fold_fits_in_cv_results(regression):
    X, y = regression
    est = gpureg.ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=6, cv=3, keep=True).fit(X, y)
    r = est.cv_results_
    assert r["split0_coef"].shape == (12, 12) and r["oof_prediction"].shape == (12, 150)
    folds = list(KFold(3).split(X))
    for k, (_, test) in enumerate(folds):
        pred = X[test] @ r[f"split{k}_coef"].T + r[f"split{k}_intercept"]
        np.testing.assert_allclose(r["oof_prediction"][:, test], pred.T, rtol=1e-12)
        mse = ((y[test] - r["oof_prediction"][:, test]) ** 2).mean(axis=1)
        np.testing.assert_allclose(mse, r[f"split{k}_test_mse"], rtol=1e-10)
    assert "oof_prediction" not in gpureg.LassoCV(alphas=4, cv=3).fit(X, y).cv_results_


def test_logistic_regression_cv_keeps_out_of_fold_log_odds():
    X, y = make_classification(120, 5, random_state=3)
    est = gpureg.LogisticRegressionCV(
        Cs=4, cv=3, keep=True, use_legacy_attributes=False
    )
    r = est.fit(X, y).cv_results_
    assert r["oof_decision_function"].shape == (4, 120)
    for k, (_, test) in enumerate(StratifiedKFold(3).split(X, y)):
        z = r["oof_decision_function"][:, test]
        nll = np.mean(np.logaddexp(0, z) - y[test] * z, axis=1)
        np.testing.assert_allclose(-nll, r[f"split{k}_test_neg_log_loss"], rtol=1e-10)
        pred = X[test] @ r[f"split{k}_coef"].T + r[f"split{k}_intercept"]
        np.testing.assert_allclose(z, pred.T, rtol=1e-12)
