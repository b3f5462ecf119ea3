"""Held-out scoring from the Gram blocks equals direct prediction."""

import numpy as np
import pytest
from sklearn.model_selection import KFold, ShuffleSplit

import gpureg
from gpureg._batch import to_original_scale
from gpureg._fit import solve_grid
from gpureg._folds import make_folds
from gpureg._scoring import cv_mse
from gpureg._spec import GridSpec


def _direct_and_blocked(X, y, sw, cv, **kw):
    folds = make_folds(cv, X.shape[0])
    f = np.ones(X.shape[1])
    fold_coef = {}

    def keep(batch, t, ls, coef):
        fold_coef[t] = coef.copy()

    spec = GridSpec(
        folds=folds,
        sample_weight=sw,
        penalty_factor=f,
        l1_ratios=np.array([0.5, 1.0]),
        alphas=15,
        eps=1e-3,
        positive=False,
        tol=1e-8,
        max_iter=5000,
        dtype=np.dtype(np.float64),
        backend="cpu",
        **kw,
    )
    res = solve_grid(X, y, spec, on_fold=keep)
    assert res.mode == "gram"
    coef_s = np.stack([fold_coef[k] for k in range(len(folds))] + [res.coef])
    coef, icpt = to_original_scale(coef_s, res.batch.stats)
    direct = cv_mse(X, y, sw, folds, coef[:-1], icpt[:-1])
    blocked = cv_mse(X, y, sw, folds, coef[:-1], icpt[:-1], res.batch)
    return direct, blocked


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("cv", [5, KFold(4, shuffle=True, random_state=0)])
def test_block_scores_equal_direct_predictions(
    fit_intercept, standardize, weighted, cv
):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((90, 12)) * 3 + 40.0  # large means: cancellation bait
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(90) + 100.0
    sw = rng.uniform(0, 3, 90) if weighted else None
    direct, blocked = _direct_and_blocked(
        X, y, sw, cv, fit_intercept=fit_intercept, standardize=standardize
    )
    np.testing.assert_allclose(blocked, direct, rtol=1e-9)


def test_exact_fits_fall_back_to_direct_prediction():
    # noise-free y: the smallest held-out errors are ~1e-20, far below the
    # cancellation floor of the block formula, and must still be exact.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 5))
    y = X @ [1.0, 2.0, 0.0, 0.0, -1.0] + 3.0
    direct, blocked = _direct_and_blocked(
        X, y, None, 3, fit_intercept=True, standardize=False
    )
    np.testing.assert_allclose(blocked, direct, rtol=1e-9, atol=0)


def test_splitter_with_unused_rows_scores_directly():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 6))
    y = X[:, 0] + rng.standard_normal(80)
    cv = ShuffleSplit(n_splits=3, test_size=0.2, train_size=0.5, random_state=0)
    direct, blocked = _direct_and_blocked(
        X, y, None, cv, fit_intercept=True, standardize=False
    )
    np.testing.assert_array_equal(blocked, direct)
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=[0.5, 1.0],
        alphas=15,
        cv=cv,
        tol=1e-8,
        max_iter=5000,
        backend="cpu",
    )
    np.testing.assert_allclose(res.mse_path, direct, rtol=1e-12)
