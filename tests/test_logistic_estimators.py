"""LogisticRegression / LogisticRegressionCV: contract and parity with scikit-learn."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gpureg import LogisticRegression, LogisticRegressionCV

ESTIMATORS = [
    LogisticRegression(backend="cpu"),
    LogisticRegression(C=0.5, l1_ratio=0.7, backend="cpu"),
    # check_sample_weight_equivalence fits 30 features on 15 rows down to
    # eps * alpha_max: these nearly separable fits need ~10^4 CD passes to
    # certify (the default 1000 leaves gaps 10^3 × tol, and then the weighted
    # and repeated fits differ)
    LogisticRegressionCV(
        Cs=4, l1_ratios=[0.5, 1.0], cv=3, max_iter=10_000, backend="cpu"
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(n=120, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.2
    z = X[:, :3] @ [1.5, -1.0, 0.5] + 0.3
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(int)
    return X, y


#: scikit-learn's (major, minor): before 1.8 an elastic net needs
#: penalty="elasticnet" (l1_ratio alone is ignored); 1.9 adds the
#: LogisticRegressionCV layout that use_legacy_attributes=False selects
SK = tuple(int(part) for part in sklearn.__version__.split(".")[:2])


def _penalty_kw(kw):
    """``kw`` for scikit-learn's LogisticRegression at any supported version."""
    if SK < (1, 8) and ("l1_ratio" in kw or "l1_ratios" in kw):
        kw = {**kw, "penalty": "elasticnet"}
    return kw


def _sklearn_lr(**kw):
    return sk.LogisticRegression(
        solver="saga", tol=1e-10, max_iter=100_000, **_penalty_kw(kw)
    )


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("weights", [None, "sample", "balanced"])
def test_matches_sklearn_saga(l1_ratio, weights):
    X, y = _data()
    if weights == "balanced":
        y = (X[:, 0] + np.random.default_rng(3).standard_normal(len(y)) > 1.0).astype(
            int
        )  # ~25% positives, so the class weights matter
    sw = (
        np.random.default_rng(1).uniform(0.2, 2.0, len(y))
        if weights == "sample"
        else None
    )
    cw = "balanced" if weights == "balanced" else None
    ours = LogisticRegression(
        l1_ratio=l1_ratio, class_weight=cw, tol=1e-10, max_iter=10_000, backend="cpu"
    ).fit(X, y, sample_weight=sw)
    theirs = _sklearn_lr(l1_ratio=l1_ratio, class_weight=cw).fit(X, y, sample_weight=sw)
    assert ours.coef_.shape == (1, 5) and ours.intercept_.shape == (1,)
    assert ours.n_iter_.shape == (1,) and ours.n_iter_[0] >= 1
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6
    )
    np.testing.assert_allclose(
        ours.predict_log_proba(X), theirs.predict_log_proba(X), atol=1e-5
    )
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y))
    assert 0 <= ours.dual_gap_ < 1e-9
    if l1_ratio == 1.0:  # the L1 fit is sparse at C=1 here
        assert np.count_nonzero(ours.coef_) == np.count_nonzero(theirs.coef_)


def test_class_weight_dict_and_no_intercept():
    X, y = _data(seed=4)
    kw = dict(class_weight={0: 2.0, 1: 0.5}, fit_intercept=False, C=0.3, l1_ratio=0.2)
    ours = LogisticRegression(tol=1e-10, backend="cpu", **kw).fit(X, y)
    theirs = _sklearn_lr(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    assert ours.intercept_.tolist() == [0.0]


def test_string_labels_and_classes_order():
    X, y = _data()
    labels = np.where(y == 1, "yes", "no")
    ours = LogisticRegression(backend="cpu", tol=1e-10).fit(X, labels)
    ref = LogisticRegression(backend="cpu", tol=1e-10).fit(X, y)
    assert ours.classes_.tolist() == ["no", "yes"]
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-12)
    assert set(ours.predict(X)) <= {"no", "yes"}
    np.testing.assert_array_equal(ours.predict(X) == "yes", ref.predict(X) == 1)
    # the modelled class is classes_[1]: reversing the labels flips the sign
    flipped = LogisticRegression(backend="cpu", tol=1e-10).fit(X, 1 - y)
    np.testing.assert_allclose(flipped.coef_, -ref.coef_, atol=1e-8)
    np.testing.assert_allclose(
        flipped.predict_proba(X), ref.predict_proba(X)[:, ::-1], atol=1e-8
    )


@pytest.mark.parametrize("Est", [LogisticRegression, LogisticRegressionCV])
def test_class_count_errors(Est):
    X, y = _data()
    with pytest.raises(ValueError, match="3 classes"):
        Est(backend="cpu").fit(X, y + (np.arange(len(y)) % 3 == 0))
    with pytest.raises(ValueError, match="one class"):
        Est(backend="cpu").fit(X, np.zeros(len(y)))


def test_unsupported_options_raise():
    X, y = _data()
    with pytest.raises(ValueError, match="C=inf"):
        LogisticRegression(C=np.inf, backend="cpu").fit(X, y)
    with pytest.raises(ValueError, match="dual"):
        LogisticRegression(dual=True, backend="cpu").fit(X, y)
    with pytest.raises(ValueError, match="refit"):
        LogisticRegressionCV(refit=False, backend="cpu").fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        LogisticRegressionCV(scoring="f1", backend="cpu").fit(X, y)


def test_deprecated_penalty_maps_to_l1_ratio():
    X, y = _data()
    with pytest.warns(FutureWarning, match="penalty"):
        a = LogisticRegression("l1", backend="cpu", tol=1e-10).fit(X, y)
    b = LogisticRegression(l1_ratio=1.0, backend="cpu", tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def _cv_pair(**kw):
    X, y = _data(n=90, p=4, seed=2)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    # no fold fit is all zeros here: there saga stops after one epoch (its
    # stopping rule is the relative change of the weights), short of the optimum
    Cs = [0.1, 0.3, 1.0, 3.0]
    l1s = [0.0, 0.5, 1.0]
    ours = LogisticRegressionCV(
        Cs=Cs,
        l1_ratios=l1s,
        cv=folds,
        scoring="neg_log_loss",
        tol=1e-10,
        max_iter=10_000,
        backend="cpu",
        **kw,
    ).fit(X, y)
    kw.setdefault("use_legacy_attributes", False)
    theirs = sk.LogisticRegressionCV(
        Cs=Cs,
        l1_ratios=l1s,
        cv=folds,
        scoring="neg_log_loss",
        solver="saga",
        tol=1e-10,
        max_iter=100_000,
        random_state=0,
        **kw,
    ).fit(X, y)
    assert np.all(np.abs(theirs.coefs_paths_[..., :-1]).max(axis=-1) > 0)
    return X, y, ours, theirs


NEEDS_SK_1_9 = pytest.mark.skipif(
    SK < (1, 9),
    reason="compares with scikit-learn 1.9's LogisticRegressionCV attributes",
)


@NEEDS_SK_1_9
def test_cv_matches_sklearn_saga():
    X, y, ours, theirs = _cv_pair()
    np.testing.assert_allclose(ours.Cs_, theirs.Cs_, rtol=1e-12)
    # legacy layout by default: {classes_[1]: (n_folds, n_cs, n_l1_ratios)}
    scores = ours.scores_[1]
    assert scores.shape == (3, 4, 3)
    np.testing.assert_allclose(
        np.swapaxes(scores, 1, 2), theirs.scores_, rtol=1e-5, atol=1e-7
    )
    assert ours.C_.tolist() == [theirs.C_]
    assert ours.l1_ratio_.tolist() == [theirs.l1_ratio_]
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    paths = ours.coefs_paths_[1]  # (n_folds, n_cs, n_l1_ratios, n_features + 1)
    np.testing.assert_allclose(
        np.swapaxes(paths, 1, 2), theirs.coefs_paths_[:, :, :, 0], atol=1e-4
    )
    assert ours.n_iter_.shape == (1, 3, 4, 3)
    refit = LogisticRegression(
        C=ours.C_[0], l1_ratio=ours.l1_ratio_[0], tol=1e-10, backend="cpu"
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef_, refit.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, refit.intercept_, atol=1e-6)
    # cv_results_: one row per grid point, the best ranked first
    res = ours.cv_results_
    assert res["mean_test_neg_log_loss"].shape == (12,)
    best = np.flatnonzero(res["rank_test_neg_log_loss"] == 1)[0]
    assert res["C"][best] == ours.C_[0] and res["l1_ratio"][best] == ours.l1_ratio_[0]
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-5)


@NEEDS_SK_1_9
def test_cv_class_weight_and_new_layout():
    X, y, ours, theirs = _cv_pair(class_weight="balanced", use_legacy_attributes=False)
    # held-out scores are weighted by sample_weight only, as scikit-learn
    np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=1e-5, atol=1e-7)
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    assert ours.coefs_paths_.shape == theirs.coefs_paths_.shape == (3, 3, 4, 1, 5)
    assert ours.n_iter_.shape == (3, 3, 4)


def test_cv_automatic_grid_alphas_and_1se():
    X, y = _data(n=100, seed=5)
    cv = StratifiedKFold(4)
    auto = LogisticRegressionCV(Cs=8, l1_ratios=[0.5, 1.0], cv=cv, backend="cpu")
    auto.fit(X, y)
    assert auto.Cs_.shape == auto.alphas_.shape == (2, 8)
    n = len(y)
    np.testing.assert_allclose(auto.Cs_, 1.0 / (auto.alphas_ * n))
    assert np.all(np.diff(auto.Cs_, axis=1) > 0)
    assert auto.C_[0] == pytest.approx(1.0 / (auto.alpha_ * n))
    # the largest C is the fit that is all zeros
    assert np.all(auto.coefs_paths_[1][:, 0, :, :-1] == 0)
    one_se = LogisticRegressionCV(
        Cs=8, l1_ratios=[0.5, 1.0], cv=cv, alpha_selection="1se", backend="cpu"
    ).fit(X, y)
    assert one_se.alpha_ == auto.alpha_1se_ >= auto.alpha_
    # alphas override Cs: every fold at the same alpha (glmnet)
    glm = LogisticRegressionCV(
        alphas=auto.alphas_[0], l1_ratios=[0.5], cv=cv, scoring="roc_auc", backend="cpu"
    ).fit(X, y)
    np.testing.assert_allclose(glm.alphas_[0], auto.alphas_[0])
    assert 0.5 < glm.scores_[1].max() <= 1.0
    assert "mean_test_roc_auc" in glm.cv_results_


def test_pipeline_grid_search_and_pickle():
    X, y = _data(n=150, seed=6)
    X = X * [1.0, 10.0, 0.1, 5.0, 1.0]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(backend="cpu"))
    search = GridSearchCV(
        pipe,
        {
            "logisticregression__C": [0.01, 0.1, 1.0],
            "logisticregression__l1_ratio": [0, 1],
        },
        cv=3,
    ).fit(X, y)
    assert search.best_params_["logisticregression__C"] in (0.1, 1.0)
    assert search.best_score_ > 0.7
    ref = make_pipeline(
        StandardScaler(), sk.LogisticRegression(**_penalty_kw(_best(search)))
    )
    ref.fit(X, y)
    np.testing.assert_allclose(search.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    for est in (
        search.best_estimator_,
        LogisticRegressionCV(Cs=5, l1_ratios=[0.5], backend="cpu").fit(X, y),
    ):
        clone = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(clone.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(clone.predict(X), est.predict(X))


def _best(search):
    p = search.best_params_
    return dict(
        C=p["logisticregression__C"],
        l1_ratio=p["logisticregression__l1_ratio"],
        solver="saga",
        tol=1e-10,
        max_iter=100_000,
    )


def test_pandas_feature_names_and_float32():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = LogisticRegression(backend="cpu").fit(df, y)
    assert est.feature_names_in_.tolist() == list(df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(df)
    est32 = LogisticRegression(backend="cpu", tol=1e-10).fit(X.astype(np.float32), y)
    assert est32.coef_.dtype == np.float32
    np.testing.assert_allclose(est32.coef_, est.coef_, atol=1e-3)
