"""scikit-learn-compatible estimators: contract, parity with scikit-learn, inputs."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import gpureg
from gpureg import ElasticNet, ElasticNetCV, Lasso, LassoCV, Ridge, RidgeCV

ESTIMATORS = [
    ElasticNet(alpha=0.1, backend="cpu"),
    Lasso(alpha=0.1, backend="cpu"),
    Ridge(backend="cpu"),
    ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, backend="cpu"),
    LassoCV(alphas=10, backend="cpu"),
    RidgeCV(backend="cpu"),
    RidgeCV(cv=3, backend="cpu"),
]


def _expected_failed(est):
    return getattr(est, "_expected_failed_checks", {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(n=80, p=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3
    y = X[:, :3] @ [2.0, -1.0, 0.5] + rng.standard_normal(n) + 1.0
    return X, y


def _objective(X, y, w, b, alpha, l1_ratio, sw=None):
    s = np.ones(len(y)) if sw is None else sw
    r = y - X @ w - b
    return (
        0.5 * s @ (r * r) / s.sum()
        + alpha * l1_ratio * np.abs(w).sum()
        + 0.5 * alpha * (1 - l1_ratio) * w @ w
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "ours, theirs, l1",
    [
        (
            ElasticNet(alpha=0.05, l1_ratio=0.3),
            sk.ElasticNet(alpha=0.05, l1_ratio=0.3),
            0.3,
        ),
        (Lasso(alpha=0.05), sk.Lasso(alpha=0.05), 1.0),
    ],
)
def test_single_alpha_objective_matches_sklearn(
    ours, theirs, l1, weighted, fit_intercept
):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.2, 2, len(y)) if weighted else None
    a = clone(ours).set_params(tol=1e-12, fit_intercept=fit_intercept, backend="cpu")
    b = clone(theirs).set_params(
        tol=1e-12, max_iter=100_000, fit_intercept=fit_intercept
    )
    a.fit(X, y, sample_weight=sw)
    b.fit(X, y, sample_weight=sw)
    oa = _objective(X, y, a.coef_, a.intercept_, 0.05, l1, sw)
    ob = _objective(X, y, b.coef_, b.intercept_, 0.05, l1, sw)
    assert abs(oa - ob) / ob < 1e-8
    assert a.dual_gap_ >= 0 and a.n_iter_ >= 1


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_matches_sklearn_closed_form(weighted):
    X, y = _data()
    sw = np.random.default_rng(1).uniform(0.2, 2, len(y)) if weighted else None
    a = Ridge(alpha=3.0, backend="cpu").fit(X, y, sample_weight=sw)
    b = sk.Ridge(alpha=3.0).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-10)
    assert a.n_iter_ is None


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "shape, eps, rtol",
    [
        ((90, 12), 1e-3, 1e-6),
        # p > n: a gap of 1e-14·‖ỹ‖²/n still allows ~1e-6 coefficient error where
        # the l2 part is weak, so held-out errors agree to ~2e-6 (measured)
        ((40, 70), 1e-2, 1e-5),
    ],
)
@pytest.mark.parametrize("cv", [KFold(5), KFold(4, shuffle=True, random_state=0)])
def test_cv_estimators_match_sklearn(cv, shape, eps, rtol, weighted, fit_intercept):
    X, y = _data(*shape, seed=3)
    sw = np.random.default_rng(2).uniform(0.3, 2, len(y)) if weighted else None
    kw = dict(
        alphas=15,
        eps=eps,
        cv=cv,
        tol=1e-14,
        max_iter=100_000,
        fit_intercept=fit_intercept,
    )
    ours = ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], backend="cpu", **kw).fit(
        X, y, sample_weight=sw
    )
    theirs = sk.ElasticNetCV(l1_ratio=[0.2, 0.7, 1.0], **kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=rtol)
    assert np.isclose(ours.alpha_, theirs.alpha_, rtol=1e-12)
    assert ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-5, abs=1e-8)
    lo = LassoCV(backend="cpu", **kw).fit(X, y, sample_weight=sw)
    lt = sk.LassoCV(**kw).fit(X, y, sample_weight=sw)
    assert lo.mse_path_.shape == lt.mse_path_.shape == (15, cv.get_n_splits())
    np.testing.assert_allclose(lo.mse_path_, lt.mse_path_, rtol=rtol)
    assert np.isclose(lo.alpha_, lt.alpha_, rtol=1e-12)
    np.testing.assert_allclose(lo.coef_, lt.coef_, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("positive", [False, True])
def test_cv_objective_at_chosen_alpha_matches_sklearn(positive):
    """The refit at ``alpha_`` reaches sklearn's objective (positive and
    standardized variants have no sklearn CV twin, so compare the refit)."""
    X, y = _data(70, 9, seed=8)
    ours = ElasticNetCV(
        l1_ratio=0.6, alphas=12, cv=4, positive=positive, tol=1e-12, backend="cpu"
    ).fit(X, y)
    ref = sk.ElasticNet(
        alpha=ours.alpha_, l1_ratio=0.6, positive=positive, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    oa = _objective(X, y, ours.coef_, ours.intercept_, ours.alpha_, 0.6)
    ob = _objective(X, y, ref.coef_, ref.intercept_, ours.alpha_, 0.6)
    assert abs(oa - ob) / ob < 1e-8
    if positive:
        assert ours.coef_.min() >= 0


def test_standardize_equals_fitting_scaled_columns():
    """standardize=True is the fit on unit-variance columns, mapped back (each
    fold standardizes with its own training rows, so compare full-data fits)."""
    X, y = _data(70, 6, seed=9)
    X = X * [1.0, 10.0, 0.1, 3.0, 1.0, 50.0]
    scale = X.std(axis=0)
    a = ElasticNetCV(
        l1_ratio=0.5, alphas=10, cv=3, standardize=True, tol=1e-12, backend="cpu"
    ).fit(X, y)
    b = sk.ElasticNet(alpha=a.alpha_, l1_ratio=0.5, tol=1e-12, max_iter=100_000).fit(
        X / scale, y
    )
    Xs = X / scale
    oa = _objective(Xs, y, a.coef_ * scale, a.intercept_, a.alpha_, 0.5)
    ob = _objective(Xs, y, b.coef_, b.intercept_, a.alpha_, 0.5)
    assert abs(oa - ob) / ob < 1e-10
    # a gap of 1e-12·‖ỹ‖²/n pins coefficients to ~1e-6 (measured 1.6e-6 rel)
    np.testing.assert_allclose(a.coef_ * scale, b.coef_, rtol=1e-5, atol=1e-8)


def test_alpha_selection_1se_and_cv_results():
    X, y = _data(n=100, p=15, seed=4)
    est = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=20, backend="cpu")
    est_1se = clone(est).set_params(alpha_selection="1se")
    est.fit(X, y)
    est_1se.fit(X, y)
    assert est_1se.alpha_ == est.alpha_1se_ >= est.alpha_
    res = est.cv_results_
    assert len(res["alpha"]) == 40 and res["rank_test_mse"].min() == 1
    best = np.argmin(res["mean_test_mse"])
    assert res["alpha"][best] == est.alpha_
    np.testing.assert_allclose(res["split0_test_mse"], est.mse_path_[..., 0].ravel())
    with pytest.raises(ValueError, match="alpha_selection"):
        clone(est).set_params(alpha_selection="max").fit(X, y)


def test_pipeline_gridsearch_pickle_and_cross_val():
    """The estimators inside scikit-learn's tools: a pipeline scores well,
    GridSearchCV over gpureg's ElasticNet picks scikit-learn's winner with the
    same fold scores, cross_val_score runs, and a pickled model predicts the
    same."""
    X, y = _data(n=120, p=8, seed=5)
    pipe = make_pipeline(StandardScaler(), Lasso(alpha=0.1, backend="cpu"))
    pipe.fit(X, y)
    r2 = pipe.score(X, y)
    assert 0.5 < r2 <= 1.0
    # GridSearchCV picks the same winner as with scikit-learn's ElasticNet on
    # the same folds and grid: the fold scores agree to rounding (tight tol),
    # and the winner is interior, clear of the runner-up by ~1e-3 in R².
    grid = {"alpha": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]}
    kw = dict(tol=1e-12, max_iter=100_000)
    gs = GridSearchCV(ElasticNet(backend="cpu", **kw), grid, cv=KFold(3)).fit(X, y)
    ref = GridSearchCV(sk.ElasticNet(**kw), grid, cv=KFold(3)).fit(X, y)
    assert gs.best_params_ == ref.best_params_ == {"alpha": 0.03}
    ref_mean = ref.cv_results_["mean_test_score"]
    np.testing.assert_allclose(gs.cv_results_["mean_test_score"], ref_mean, rtol=1e-10)
    top2 = np.sort(ref_mean)[-2:]
    assert top2[1] - top2[0] > 1e-4
    scores = cross_val_score(Ridge(alpha=1.0, backend="cpu"), X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    fitted = ElasticNetCV(alphas=10, backend="cpu").fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X), fitted.predict(X))


def test_dataframe_names_float32_and_errors():
    X, y = _data(n=60, p=4, seed=6)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = Lasso(alpha=0.05, backend="cpu").fit(df, pd.Series(y))
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(est.predict(df), X @ est.coef_ + est.intercept_)
    e32 = ElasticNet(alpha=0.05, backend="cpu", tol=1e-6).fit(
        X.astype(np.float32), y.astype(np.float32)
    )
    assert e32.coef_.dtype == np.float32
    with pytest.raises(NotFittedError):
        Lasso().predict(X)
    with (
        pytest.raises(ValueError, match="features"),
        pytest.warns(UserWarning, match="feature names"),
    ):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="alpha"):
        Lasso(alpha=-1.0, backend="cpu").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        Lasso(backend="cpu").fit(np.where(X > 1, np.nan, X), y)
    Xc = X.copy()
    ElasticNetCV(alphas=5, cv=3, standardize=True, backend="cpu").fit(X, y)
    np.testing.assert_array_equal(X, Xc)
    assert gpureg.ElasticNetCV is ElasticNetCV


@pytest.mark.gpu
def test_cupy_in_cupy_out():
    cupy = pytest.importorskip("cupy")
    X, y = _data(n=60, p=5, seed=10)
    for est in (Lasso(alpha=0.05), RidgeCV(), ElasticNetCV(alphas=10, cv=3)):
        host = clone(est).fit(X, y)
        dev = clone(est).fit(cupy.asarray(X), cupy.asarray(y))
        pred = dev.predict(cupy.asarray(X))
        assert isinstance(pred, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(pred), host.predict(X), rtol=1e-6)
        assert dev.score(cupy.asarray(X), cupy.asarray(y)) == pytest.approx(
            host.score(X, y), rel=1e-6
        )


_Xb = np.random.default_rng(0).standard_normal((30, 4))
_yb = _Xb[:, 0].copy()


@pytest.mark.parametrize(
    "make, fit_kw, exc, match",
    [
        (lambda: ElasticNet(l1_ratio=1.5), {}, ValueError, "l1_ratio"),
        (lambda: ElasticNetCV(l1_ratio=[0.5, -0.1]), {}, ValueError, "l1_ratio"),
        (lambda: Lasso(alpha=0), {}, ValueError, "alpha"),
        (lambda: Ridge(alpha=np.nan), {}, ValueError, "alpha"),
        (lambda: LassoCV(alphas=[1, -1]), {}, ValueError, "alphas"),
        (lambda: LassoCV(eps=2), {}, ValueError, "eps"),
        (
            lambda: ElasticNetCV(),
            dict(sample_weight=-np.ones(30)),
            ValueError,
            "sample_weight",
        ),
        (lambda: Lasso(), dict(sample_weight=np.ones(3)), ValueError, "sample_weight"),
        (lambda: LassoCV(cv=40), {}, ValueError, "n_samples=30"),
        (lambda: Lasso(max_iter=0), {}, ValueError, "max_iter"),
        (lambda: Lasso(tol=-1), {}, ValueError, "tol"),
        (lambda: Lasso(penalty_factor=[1, 2]), {}, ValueError, "penalty_factor"),
        (lambda: Lasso(backend="tpu"), {}, ValueError, "backend"),
        (lambda: Lasso(dtype="int32"), {}, ValueError, "dtype"),
    ],
)
def test_bad_parameters_are_named(make, fit_kw, exc, match):
    with pytest.raises(exc, match=match):
        make().fit(_Xb, _yb, **fit_kw)


@pytest.mark.parametrize(
    "X, y, match",
    [
        (_Xb[:0], _yb[:0], "0 sample"),
        (_Xb[:, 0], _yb, "2D array"),
        (_Xb, _yb[:-1], "inconsistent numbers of samples"),
        (_Xb, np.where(_yb > 1, np.inf, _yb), "infinity"),
    ],
)
@pytest.mark.parametrize("est", [Lasso(), ElasticNetCV(cv=3), RidgeCV()])
def test_bad_data_is_named(est, X, y, match):
    with pytest.raises(ValueError, match=match):
        clone(est).fit(X, y)


def test_ridge_cv_refuses_several_targets():
    """RidgeCV is single-target; the elastic-net estimators take several
    (tests/test_many_targets.py)."""
    with pytest.raises(ValueError, match="1d array"):
        RidgeCV().fit(_Xb, np.c_[_yb, _yb])


def test_fortran_order_input_gives_the_same_fit():
    X, y = _data(n=50, p=6, seed=11)
    for est in (ElasticNetCV(alphas=8, cv=3), RidgeCV(cv=3), Lasso(alpha=0.05)):
        a = clone(est).fit(np.ascontiguousarray(X), y)
        b = clone(est).fit(np.asfortranarray(X), y)
        np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-14)
