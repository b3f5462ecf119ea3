"""The binomial family of ``fit_grid`` against scikit-learn, closed forms and KKT.

scikit-learn's ``LogisticRegression`` minimizes ``C Σ s_i ℓ_i + l1_ratio ‖w‖₁
+ (1 - l1_ratio)/2 ‖w‖²``: gpureg's objective times ``1 / alpha`` with
``C = 1 / (n_w alpha)``.  Its saga solver at a tight tol is the oracle.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

import gpureg
from gpureg._datafit import Logistic
from gpureg._measures import binomial_measure
from gpureg._penalty import ElasticNetPenalty, fenchel_gap
from gpureg.backends import _gpu


def _data(n, p, seed, *, k=5, scale=True, shift=-0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if scale:
        X *= rng.uniform(0.5, 3.0, p)
    beta = np.zeros(p)
    k = min(k, p)
    beta[:k] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 1.5, k)
    z = X @ beta + shift
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    return X, y


def _objective(X, y01, w, b, alpha, rho, sw=None, f=None):
    s = np.ones(X.shape[0]) if sw is None else sw
    f = np.ones(X.shape[1]) if f is None else f
    z = X @ w + b
    loss = s @ (np.logaddexp(0.0, z) - y01 * z) / s.sum()
    return loss + alpha * (rho * f @ np.abs(w) + 0.5 * (1 - rho) * f @ (w * w))


#: before scikit-learn 1.8 an elastic net needs penalty="elasticnet"
_SK_PENALTY = (
    {"penalty": "elasticnet"}
    if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8)
    else {}
)


def _sklearn(X, y, alpha, rho, sw=None, fit_intercept=True, tol=1e-12):
    n_w = X.shape[0] if sw is None else sw.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(
            l1_ratio=rho,
            C=1.0 / (n_w * alpha),
            solver="saga",
            tol=tol,
            max_iter=200_000,
            fit_intercept=fit_intercept,
            **_SK_PENALTY,
        ).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize(
    "n, p, rho, weighted, fit_intercept",
    [
        (200, 20, 0.5, False, True),
        (150, 30, 1.0, True, True),
        (60, 120, 0.7, False, True),  # p > n
        (180, 15, 0.2, True, False),
    ],
)
def test_matches_sklearn_saga(n, p, rho, weighted, fit_intercept):
    X, y = _data(n, p, seed=n + p)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, n) if weighted else None
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=rho,
        alphas=12,
        eps=2e-2,
        cv=None,
        sample_weight=sw,
        fit_intercept=fit_intercept,
        tol=1e-10,
        max_iter=100_000,
    )
    assert res.converged.all()
    for ia in (1, 6, 11):
        alpha = res.alphas[0, ia]
        w, b = res.coef_path[0, ia], res.intercept_path[0, ia]
        sk = _sklearn(X, y, alpha, rho, sw, fit_intercept)
        p_gp = _objective(X, y, w, b, alpha, rho, sw)
        p_sk = _objective(X, y, sk.coef_[0], sk.intercept_[0], alpha, rho, sw)
        # at least as good as the oracle, to its own accuracy
        assert p_gp <= p_sk + 1e-11
        np.testing.assert_allclose(w, sk.coef_[0], atol=2e-5)
        # held-out agreement of the probabilities
        np.testing.assert_allclose(
            res.predict_proba(X, (0, ia)), sk.predict_proba(X), atol=1e-5
        )


def test_gap_is_the_numpy_oracle_and_bounds_suboptimality():
    X, y = _data(120, 25, seed=3)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, 120)
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=[0.4, 1.0],
        alphas=8,
        cv=None,
        sample_weight=sw,
        tol=1e-3,  # loose: the gaps are far from zero
    )
    s = sw / sw.sum()
    for il, rho in enumerate(res.l1_ratios):
        for ia in range(8):
            a = res.alphas[il, ia]
            w, b = res.coef_path[il, ia], res.intercept_path[il, ia]
            z = X @ w + b
            grad = X.T @ (s * Logistic().residual(y, z))
            pen = ElasticNetPenalty(np.array([a * rho]), np.array([a * (1 - rho)]), 1.0)
            oracle = fenchel_gap(Logistic(), pen, w[None], grad[None], (y, z, s))[0]
            assert res.dual_gap[-1, il, ia] == pytest.approx(
                oracle, rel=1e-6, abs=1e-15
            )
            # the gap bounds the distance to the optimum (a tight solve)
            best = gpureg.fit_grid(
                X,
                y,
                family="binomial",
                l1_ratio=rho,
                alphas=np.array([a]),
                cv=None,
                sample_weight=sw,
                tol=1e-12,
            )
            p_opt = _objective(
                X, y, best.coef_path[0, 0], best.intercept_path[0, 0], a, rho, sw
            )
            subopt = _objective(X, y, w, b, a, rho, sw) - p_opt
            assert -1e-13 <= subopt <= res.dual_gap[-1, il, ia] + 1e-13


def test_gap_term_vanishes_at_kappa_one_and_is_positive_below():
    rng = np.random.default_rng(0)
    y = (rng.random(50) < 0.4).astype(float)
    z = rng.standard_normal(50) * 5
    s = np.full(50, 1 / 50)
    data = Logistic()
    assert abs(data.gap_term((y, z, s), np.array(1.0))) < 1e-15
    # κ < 1 moves the dual point off the optimum: a strictly positive gap
    for kappa in (0.9, 0.5, 0.0):
        assert data.gap_term((y, z, s), np.array(kappa)) > 1e-4


def test_kkt_with_unpenalized_features_and_standardize():
    X, y = _data(160, 12, seed=5)
    f = np.ones(12)
    f[[0, 7]] = 0.0
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=0.8,
        alphas=10,
        cv=None,
        penalty_factor=f,
        standardize=True,
        tol=1e-10,
    )
    assert res.converged.all()
    sd = X.std(axis=0)
    for ia in range(10):
        a = res.alphas[0, ia]
        w, b = res.coef_path[0, ia], res.intercept_path[0, ia]
        r = y - 1.0 / (1.0 + np.exp(-(X @ w + b)))
        grad = X.T @ r / 160  # -∇ of the mean log-loss
        l1, l2 = a * 0.8 * f * sd, a * 0.2 * f * sd**2  # standardized penalty
        assert abs(r.mean()) < 1e-10  # the intercept's condition
        assert np.all(np.abs(grad[f == 0]) < 1e-7)
        nz = (w != 0) & (f > 0)
        np.testing.assert_allclose(
            grad[nz], np.sign(w[nz]) * l1[nz] + l2[nz] * w[nz], atol=1e-7
        )
        zero = (w == 0) & (f > 0)
        assert np.all(np.abs(grad[zero]) <= l1[zero] * (1 + 1e-9) + 1e-12)


def test_standardize_is_sklearn_on_standardized_columns():
    X, y = _data(150, 10, seed=8)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=0.5,
        alphas=6,
        cv=None,
        standardize=True,
        tol=1e-11,
    )
    Xs = (X - mu) / sd
    for ia in (0, 3, 5):
        a = res.alphas[0, ia]
        sk = _sklearn(Xs, y, a, 0.5)
        w = res.coef_path[0, ia] * sd  # on the standardized columns
        b = res.intercept_path[0, ia] + mu @ res.coef_path[0, ia]
        p_gp = _objective(Xs, y, w, b, a, 0.5)
        assert p_gp <= _objective(Xs, y, sk.coef_[0], sk.intercept_[0], a, 0.5) + 1e-12
        np.testing.assert_allclose(w, sk.coef_[0], atol=1e-5)


def test_cv_measures_are_the_fold_fits_scores():
    X, y = _data(200, 8, seed=11)
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    grid = np.geomspace(0.1, 0.002, 7)
    for measure in ("deviance", "misclassification", "auc"):
        res = gpureg.fit_grid(
            X,
            y,
            family="binomial",
            l1_ratio=[0.5, 1.0],
            alphas=grid,
            cv=folds,
            measure=measure,
            tol=1e-10,
        )
        assert res.cv_path.shape == (2, 7, 4)
        for k, (train, test) in enumerate(folds):
            alone = gpureg.fit_grid(
                X[train],
                y[train],
                family="binomial",
                l1_ratio=[0.5, 1.0],
                alphas=grid,
                cv=None,
                tol=1e-10,
            )
            Z = (
                X[test] @ alone.coef_path.reshape(-1, 8).T
                + alone.intercept_path.ravel()
            )
            want = binomial_measure(y[test], Z, None, measure).reshape(2, 7)
            np.testing.assert_allclose(res.cv_path[..., k], want, rtol=1e-6, atol=1e-9)
        pick = np.argmax if measure == "auc" else np.argmin
        il, ia = np.unravel_index(pick(res.cv_mean), res.cv_mean.shape)
        assert (res.alpha_, res.l1_ratio_) == (grid[ia], res.l1_ratios[il])


def test_any_two_labels_and_sklearn_class_order():
    X, y = _data(120, 6, seed=2)
    base = gpureg.fit_grid(X, y, family="binomial", alphas=5, cv=None, tol=1e-10)
    for labels in (["a", "b"], [-1, 1], [False, True], [3.5, 7.0]):
        yl = np.where(y > 0.5, labels[1], labels[0])
        res = gpureg.fit_grid(X, yl, family="binomial", alphas=5, cv=None, tol=1e-10)
        assert list(res.classes) == sorted(labels)
        np.testing.assert_array_equal(res.coef_path, base.coef_path)
        assert set(res.predict(X, (0, 4))) <= set(labels)


def test_separable_data_stop_early_with_a_note_and_stay_finite():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    y = (X[:, 0] > 0).astype(float)  # perfectly separable
    with pytest.warns(UserWarning, match="stopped early"):
        res = gpureg.fit_grid(
            X, y, family="binomial", l1_ratio=1.0, alphas=100, eps=1e-4, cv=3
        )
    assert (res.path_stop < 100).any()
    for arr in (res.coef_path, res.intercept_path, res.dual_gap, res.cv_path):
        assert np.all(np.isfinite(arr))
    stop = res.path_stop[-1, 0]
    # after the stop every alpha keeps the last fit
    after = res.coef_path[0, stop:]
    np.testing.assert_array_equal(
        after, np.broadcast_to(res.coef_path[0, stop - 1], after.shape)
    )
    assert res.n_iter[-1, 0, stop:].sum() == 0


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros(30), "exactly 2 classes in y, got 1"),
        (np.arange(30) % 3, "exactly 2 classes in y, got 3"),
        (np.r_[np.zeros(15), np.ones(14), np.nan], "NaN or Inf"),
    ],
)
def test_bad_labels_are_named(y, match):
    X = np.random.default_rng(0).standard_normal((30, 3))
    with pytest.raises(ValueError, match=match):
        gpureg.fit_grid(X, y, family="binomial", cv=None)


def test_bad_options_are_named():
    X, y = _data(40, 3, seed=0)
    with pytest.raises(NotImplementedError, match="not on the 'numpy'"):
        gpureg.fit_grid(X, y, family="binomial", backend="numpy")
    if not _gpu.is_available():
        with pytest.raises(RuntimeError, match="backend='gpu' was requested"):
            gpureg.fit_grid(X, y, family="binomial", backend="gpu")
    with pytest.raises(ValueError, match="family must be one of"):
        gpureg.fit_grid(X, y, family="poisson")
    with pytest.raises(ValueError, match="measure must be one of"):
        gpureg.fit_grid(X, y, family="binomial", measure="mse")
    with pytest.raises(ValueError, match="gaussian family must be 'mse'"):
        gpureg.fit_grid(X, y, measure="auc")
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        gpureg.fit_grid(Xn, y, family="binomial")
    # a fold whose training rows hold one class
    y_sorted = np.sort(y)
    with pytest.raises(ValueError, match="only one class"):
        gpureg.fit_grid(
            X, y_sorted, family="binomial", cv=[(np.arange(10), np.arange(10, 40))]
        )


def test_user_arrays_are_not_modified():
    X, y = _data(50, 4, seed=1)
    sw = np.ones(50)
    copies = [a.copy() for a in (X, y, sw)]
    gpureg.fit_grid(X, y, family="binomial", sample_weight=sw, alphas=4, cv=3)
    for a, c in zip((X, y, sw), copies, strict=True):
        np.testing.assert_array_equal(a, c)


def test_at_equal_tol_at_least_as_accurate_as_sklearn():
    # the accuracy contract: objective suboptimality at tol=1e-4, median and
    # 90th percentile over a battery, no worse than saga's at the same tol
    ours, theirs = [], []
    for seed, (n, p, rho) in enumerate(
        [(200, 20, 0.5), (150, 40, 1.0), (80, 150, 0.7)]
    ):
        X, y = _data(n, p, seed=seed + 20)
        kw = dict(family="binomial", l1_ratio=rho, cv=None)
        res = gpureg.fit_grid(X, y, alphas=8, eps=1e-2, tol=1e-4, **kw)
        ref = gpureg.fit_grid(
            X, y, alphas=res.alphas[0], tol=1e-13, max_iter=10**5, **kw
        )
        for ia in range(1, 8):
            a = res.alphas[0, ia]
            best = _objective(
                X, y, ref.coef_path[0, ia], ref.intercept_path[0, ia], a, rho
            )
            w, b = res.coef_path[0, ia], res.intercept_path[0, ia]
            ours.append(_objective(X, y, w, b, a, rho) - best)
            sk = _sklearn(X, y, a, rho, tol=1e-4)
            theirs.append(
                _objective(X, y, sk.coef_[0], sk.intercept_[0], a, rho) - best
            )
    for q in (50, 90):
        assert np.percentile(ours, q) <= np.percentile(theirs, q)


def test_correlated_unscaled_columns_are_certified():
    # breast cancer: columns on scales 1e-3..1e3, radius/perimeter/area
    # correlated at 0.99; the model must be solved tightly (Gram form) for
    # the Lasso's gap to close (it stalled at 2-190 × tol before)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = gpureg.fit_grid(
            X,
            y,
            family="binomial",
            l1_ratio=[0.5, 1.0],
            alphas=30,
            cv=3,
            standardize=True,
        )
    assert res.converged.all()


def test_binomial_plots_and_cli(tmp_path):
    import json

    import pandas as pd

    from gpureg import cli, plotting

    X, y = _data(150, 5, seed=4)
    res = gpureg.fit_grid(X, y, family="binomial", alphas=15, cv=3, measure="auc")
    fig = plotting.plot_cv_curve(res)
    ax = fig.axes[0]
    np.testing.assert_allclose(
        ax.containers[0].lines[0].get_ydata(), res.cv_mean[res.best_index_[0]]
    )
    assert "AUC" in ax.get_ylabel()
    best = [ln for ln in ax.get_lines() if ln.get_gid() == "alpha_"][0]
    assert best.get_xdata()[0] == pytest.approx(np.log10(res.alpha_))
    assert res.alpha_ == res.alphas[0, np.argmax(res.cv_mean[0])]

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(5)])
    frame["label"] = np.where(y > 0.5, "yes", "no")
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "out"
    argv = ["sweep", str(tmp_path / "d.csv"), "--target", "label", "--quiet"]
    argv += ["--family", "binomial", "--alphas", "10", "--out", str(out)]
    assert cli.main(argv) == 0
    saved = json.loads((out / "best.json").read_text())
    assert saved["classes"] == ["no", "yes"]
    direct = gpureg.fit_grid(
        X, frame["label"], family="binomial", l1_ratio=[0.1, 0.5, 1], alphas=10, cv=5
    )
    assert saved["cv_deviance"] == pytest.approx(direct.cv_mean[direct.best_index_])
