"""Many targets on one X: ``fit_grid`` with y of shape (n, k) fits k
independent grids that share every Gram matrix and fold decomposition."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet as SkElasticNet

import gpureg
from gpureg._batch import build_gram_batch, build_residual_batch, training_weights
from gpureg._folds import make_folds


def _data(n, p, k, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p)
    B = rng.standard_normal((p, k)) * (rng.random((p, k)) < 0.3)
    Y = X @ B + rng.standard_normal((n, k)) * np.arange(1, k + 1)
    return X, Y


@pytest.mark.parametrize(
    "shape, options",
    [
        ((120, 10), dict()),  # Gram form
        ((120, 10), dict(standardize=True, weighted=True, keep=True)),
        ((40, 90), dict(fit_intercept=False)),  # residual form (p > n)
    ],
)
def test_each_target_is_the_grid_of_its_column(shape, options):
    options = dict(options)
    X, Y = _data(*shape, k=3, seed=shape[1])
    if options.pop("weighted", False):
        options["sample_weight"] = np.random.default_rng(2).uniform(0.5, 2.0, shape[0])
    kw = dict(l1_ratio=[0.5, 1.0], alphas=12, cv=3, tol=1e-10, max_iter=100_000)
    many = gpureg.fit_grid(X, Y, **kw, **options)
    assert many.n_targets == 3 and len(many) == 3
    assert many.coef_path.shape == (3, 2, 12, shape[1])
    assert many.dual_gap.shape == (3, 4, 2, 12) and many.cv_path.shape == (3, 2, 12, 3)
    assert many.alpha_.shape == (3,)
    for j in range(3):
        one = gpureg.fit_grid(X, Y[:, j], **kw, **options)
        np.testing.assert_allclose(many.alphas[j], one.alphas, rtol=1e-12)
        scale = np.abs(one.coef_path).max()
        np.testing.assert_allclose(many.coef_path[j], one.coef_path, atol=1e-7 * scale)
        np.testing.assert_allclose(
            many.intercept_path[j], one.intercept_path, atol=1e-7 * scale
        )
        np.testing.assert_allclose(many.cv_path[j], one.cv_path, rtol=1e-7)
        assert (many[j].converged).all()
        if options.get("keep"):
            np.testing.assert_allclose(
                many.oof_predictions[j],
                one.oof_predictions,
                rtol=1e-6,
                atol=1e-7 * np.abs(Y).max(),
            )
    pred = many.predict(X)
    assert pred.shape == (shape[0], 3)
    np.testing.assert_allclose(pred[:, 1], many[1].predict(X))


def test_the_batches_share_their_gram_matrices():
    X, Y = _data(80, 6, k=4)
    W = training_weights(80, make_folds(4, 80, None), None)
    kw = dict(fit_intercept=True, standardize=True, dtype=np.float64)
    batches = build_gram_batch(X, Y, W, **kw)
    assert len(batches) == 4
    assert all(b.G is batches[0].G for b in batches)
    for j, b in enumerate(batches):
        one = build_gram_batch(X, Y[:, j], W, **kw)
        np.testing.assert_allclose(b.G, one.G, rtol=1e-12)
        for name in ("c", "yy", "y_mean", "x_mean", "x_scale"):
            np.testing.assert_allclose(
                getattr(b.stats, name), getattr(one.stats, name), rtol=1e-10, atol=1e-12
            )
        for (_, blk), (_, ref) in zip(b.blocks, one.blocks, strict=True):
            for a, r in zip(blk, ref, strict=True):
                np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)
    res = build_residual_batch(X, Y, W, **kw)
    assert all(r.X is res[0].X for r in res)


def test_estimators_fit_one_model_per_target_as_scikit_learn():
    X, Y = _data(100, 8, k=3, seed=5)
    ours = gpureg.ElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-10).fit(X, Y)
    theirs = SkElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-12, max_iter=100_000).fit(
        X, Y
    )
    assert ours.coef_.shape == (3, 8) and ours.intercept_.shape == (3,)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-5)
    cv = gpureg.ElasticNetCV(l1_ratio=[0.3, 1.0], alphas=15, cv=3).fit(X, Y)
    assert cv.coef_.shape == (3, 8) and cv.alpha_.shape == (3,)
    assert cv.cv_results_["mean_test_mse"].shape == (30, 3)
    for j in range(3):
        one = gpureg.ElasticNetCV(l1_ratio=[0.3, 1.0], alphas=15, cv=3).fit(X, Y[:, j])
        assert cv.alpha_[j] == pytest.approx(one.alpha_, rel=1e-9)
        assert cv.l1_ratio_[j] == one.l1_ratio_
        np.testing.assert_allclose(cv.coef_[j], one.coef_, atol=1e-6)
    assert cv.predict(X).shape == (100, 3)


def test_many_targets_are_refused_when_their_paths_do_not_fit():
    X, Y = _data(60, 5, k=50)
    with pytest.raises(MemoryError, match="the paths of 50 targets"):
        gpureg.fit_grid(X, Y, alphas=100, cv=3, memory_limit=100_000)


def test_summary_and_progress(capsys):
    X, Y = _data(60, 5, k=3)
    res = gpureg.fit_grid(X, Y, alphas=5, cv=3, progress=True)
    assert "3/3" in capsys.readouterr().err.replace(" ", "")
    text = res.summary()
    assert text.startswith("3 targets") and "target 2: alpha_=" in text
    assert res.timings["build"] > 0 and res.mse_path.shape == (3, 1, 5, 3)


@pytest.mark.parametrize("shape", [(150, 12), (40, 90)], ids=["gram", "residual"])
def test_many_targets_on_the_gpu_engine_equal_the_cpu(monkeypatch, shape):
    """The GPU backend's data flow (Grams built once on its array module,
    shared by the targets; FISTA on the kernels' twins) gives each target
    the CPU's grid; sparse X too in residual form."""
    import scipy.sparse as sp
    from test_gpu_engine import _TwinBackend

    import gpureg._fit as fit_module

    X, Y = _data(*shape, k=3, seed=7)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=8, cv=3, tol=1e-10, max_iter=200_000)
    cpu = gpureg.fit_grid(X, Y, backend="cpu", **kw)
    monkeypatch.setattr(fit_module, "get_backend", lambda name: _TwinBackend)
    dev = gpureg.fit_grid(X, Y, backend="cpu", **kw)
    assert dev.converged.all()
    np.testing.assert_allclose(dev.coef_path, cpu.coef_path, atol=1e-5)
    np.testing.assert_allclose(dev.cv_path, cpu.cv_path, rtol=1e-6)
    np.testing.assert_array_equal(dev.alpha_, cpu.alpha_)
    if shape[0] < shape[1]:
        Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
        kw.update(tol=1e-8, eps=1e-2)
        dev = gpureg.fit_grid(Xs, Y, backend="cpu", **kw)
        monkeypatch.undo()
        cpu = gpureg.fit_grid(Xs, Y, backend="cpu", **kw)
        assert dev.converged.all() and cpu.converged.all()
        np.testing.assert_allclose(dev.coef_path, cpu.coef_path, atol=1e-4)
