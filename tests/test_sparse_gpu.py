"""A scipy.sparse X on the GPU backend: cuSPARSE products, never densified.

Without a device the GPU backend's own code runs with its kernels' numba
twins and ``scipy.sparse`` in place of ``cupyx.scipy.sparse`` (the same
calls): ``fit_grid(..., backend="gpu")`` then goes through
``backends/_gpu.py``, ``_fista.py`` and ``_binomial_gpu.py`` unchanged.  The
``gpu``-marked tests run the real thing on a device.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import gpureg
from gpureg.backends import _binomial_gpu, _fista, _gpu
from gpureg.backends._sparse_device import DeviceSparse, sparse_module
from gpureg.backends._twins import TwinLogisticOps, TwinOps


@pytest.fixture
def twin_gpu(monkeypatch):
    """``backend='gpu'`` runs both engines with the twins (no device needed)."""
    monkeypatch.setattr(_gpu, "missing_reason", lambda: None)
    monkeypatch.setattr(_gpu, "is_available", lambda: True)
    monkeypatch.setattr(_gpu, "synchronize", lambda: None)
    budget = {"bytes": 1 << 30}
    monkeypatch.setattr(_gpu, "memory_budget", lambda: budget["bytes"])
    monkeypatch.setattr(_gpu, "device_ops", lambda: (TwinOps(), budget["bytes"]))
    monkeypatch.setattr(
        _binomial_gpu, "device_ops", lambda: (TwinLogisticOps(), budget["bytes"])
    )
    return budget


def _sparse_problem(n, p, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, random_state=seed, format="csr")
    X.data = X.data * 3.0 + 1.0  # means far from 0: the implicit centering matters
    w = np.zeros(p)
    w[: max(p // 5, 2)] = rng.standard_normal(max(p // 5, 2))
    y = X @ w + 0.3 * rng.standard_normal(n)
    return X, y


def test_device_sparse_products_equal_the_dense_ones():
    rng = np.random.default_rng(1)
    A = sp.random(40, 25, density=0.3, random_state=2, format="coo")
    A = sp.coo_matrix((np.r_[A.data, 1.5], (np.r_[A.row, 3], np.r_[A.col, 4])))
    D = A.toarray()  # duplicates summed, as DeviceSparse must
    dev = DeviceSparse(np, A, np.float64)
    Y, R = rng.standard_normal((7, 25)), rng.standard_normal((7, 40))
    np.testing.assert_allclose(dev.times_t(Y), Y @ D.T, atol=1e-13)
    out = np.empty((7, 25))
    assert dev.times(R, out=out) is out
    np.testing.assert_allclose(out, R @ D, atol=1e-13)
    np.testing.assert_allclose(dev.matvec(Y[0]), D @ Y[0], atol=1e-13)
    np.testing.assert_allclose(dev.rmatvec(R[0]), D.T @ R[0], atol=1e-13)
    f32 = DeviceSparse(np, A, np.float32)
    assert f32.A.dtype == f32.At.dtype == np.float32
    assert f32.astype(np.float64).At.dtype == np.float64
    held = sum(a.nbytes for M in (dev.A, dev.At) for a in (M.data, M.indices))
    held += dev.A.indptr.nbytes + dev.At.indptr.nbytes
    assert held == DeviceSparse.nbytes(dev.nnz, 40, 25, 8)
    assert sparse_module(np) is sp
    assert A.nnz == 1 + sp.random(40, 25, density=0.3, random_state=2).nnz  # untouched


@pytest.mark.parametrize(
    "shape, standardize",
    [((200, 30), True), ((200, 30), False), ((60, 150), True)],
    ids=["gram-standardize", "gram", "residual-standardize"],
)
def test_gaussian_sparse_grid_on_the_gpu_engine_equals_the_cpu(
    twin_gpu, shape, standardize
):
    X, y = _sparse_problem(*shape)
    kw = dict(
        l1_ratio=[0.5, 1.0],
        alphas=8,
        cv=3,
        tol=1e-10,
        max_iter=200_000,
        standardize=standardize,
    )
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    dense = gpureg.fit_grid(X.toarray(), y, backend="cpu", **kw)
    assert gpu.backend == "gpu" and gpu.converged.all()
    assert gpu.mode == ("gram" if shape[0] > shape[1] else "residual")
    # certified at 1e-10: coefficients agree to ~sqrt(gap)
    np.testing.assert_allclose(gpu.coef_path, cpu.coef_path, atol=2e-5)
    np.testing.assert_allclose(gpu.coef_path, dense.coef_path, atol=2e-5)
    np.testing.assert_allclose(gpu.cv_path, cpu.cv_path, rtol=1e-6)
    np.testing.assert_allclose(gpu.intercept_path, cpu.intercept_path, atol=2e-5)
    assert (gpu.alpha_, gpu.l1_ratio_) == (cpu.alpha_, cpu.l1_ratio_)


def test_sparse_residual_form_equals_the_dense_design_on_the_engine(twin_gpu):
    """Same engine, X sparse (two CSR SpMMs) or dense (two GEMMs): same fits."""
    X, y = _sparse_problem(50, 120, seed=3)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, 50)
    kw = dict(
        l1_ratio=[0.3, 0.9],
        alphas=6,
        cv=2,
        tol=1e-6,
        standardize=True,
        sample_weight=sw,
        backend="gpu",
    )
    sparse = gpureg.fit_grid(X, y, **kw)
    dense = gpureg.fit_grid(X.toarray(), y, **kw)
    assert sparse.mode == dense.mode == "residual"
    np.testing.assert_allclose(sparse.coef_path, dense.coef_path, atol=1e-9)
    np.testing.assert_array_equal(sparse.n_iter, dense.n_iter)


def test_sparse_float32_residual_form_is_certified(twin_gpu):
    """float32 values on the device, certified with the float64 copy."""
    X, y = _sparse_problem(60, 100, seed=4)
    kw = dict(l1_ratio=1.0, alphas=6, eps=0.05, cv=2, tol=1e-4, dtype="float32")
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    dense = gpureg.fit_grid(X.toarray(), y, backend="gpu", **kw)
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    assert gpu.coef_path.dtype == np.float32 and gpu.converged.all()
    np.testing.assert_allclose(gpu.coef_path, dense.coef_path, atol=1e-4)
    np.testing.assert_allclose(gpu.cv_path, cpu.cv_path, rtol=1e-3)


def test_sparse_design_plan_counts_two_csr_copies_not_a_dense_x():
    """The residual form's planner holds X as two CSR matrices (and their
    float64 copy for float32 runs), never ``n p`` values."""
    from gpureg._batch import build_residual_batch, training_weights

    n, p = 2_000, 50_000
    X = sp.random(n, p, density=1e-4, random_state=5, format="csc")
    y = np.random.default_rng(5).standard_normal(n)
    W = training_weights(n, [], None)
    for dtype, extra in ((np.float64, 0), (np.float32, 1)):
        batch = build_residual_batch(
            X, y, W, fit_intercept=True, standardize=False, dtype=np.dtype(dtype)
        )
        op = _fista.DesignOperator(batch, np)
        size = np.dtype(dtype).itemsize
        want = DeviceSparse.nbytes(X.nnz, n, p, size)
        want += extra * DeviceSparse.nbytes(X.nnz, n, p, 8)
        assert op.fixed_bytes() == want < n * p * size / 100
        assert op.problem_bytes() == (n + 2 * p) * size


def test_binomial_sparse_grid_on_the_gpu_engine(twin_gpu):
    X, y = _sparse_problem(120, 40, seed=6)
    yb = (y > np.median(y)).astype(int)
    kw = dict(
        l1_ratio=[0.5, 1.0],
        alphas=6,
        eps=0.05,
        cv=3,
        tol=1e-8,
        max_iter=100_000,
        family="binomial",
        standardize=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarnings are asserted below
        sparse = gpureg.fit_grid(X, yb, backend="gpu", **kw)
        dense = gpureg.fit_grid(X.toarray(), yb, backend="gpu", **kw)
        cpu = gpureg.fit_grid(X, yb, backend="cpu", **kw)
    assert sparse.converged.all()
    # the same engine on the same rows: SpMM and GEMM agree to rounding
    np.testing.assert_allclose(sparse.coef_path, dense.coef_path, atol=1e-9)
    np.testing.assert_array_equal(sparse.n_iter, dense.n_iter)
    # and the CPU's proximal Newton on the sparse X: same certified optimum
    np.testing.assert_allclose(sparse.cv_path, cpu.cv_path, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sparse.coef_path, cpu.coef_path, atol=5e-3)


def test_binomial_sparse_chunks_are_planned_on_the_non_zeros():
    m, p, nnz = 1000, 20_000, 5_000
    size = _binomial_gpu.chunk_bytes
    assert size(10, m, p, nnz) < size(10, m, p) / 10
    assert size(10, m, p, nnz) - size(0, m, p, nnz) == 10 * (
        size(1, m, p, nnz) - size(0, m, p, nnz)
    )
    budget = size(4, m, p, nnz)
    assert _binomial_gpu.plan_chunk(m, p, 100, budget, nnz) == 4
    with pytest.raises(MemoryError, match="one binomial fit"):
        _binomial_gpu.plan_chunk(m, p, 100, budget // 10, nnz)


def test_sparse_estimators_take_the_gpu_backend(twin_gpu):
    X, y = _sparse_problem(150, 20, seed=7)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=6, cv=3, tol=1e-10, max_iter=100_000)
    gpu = gpureg.ElasticNetCV(backend="gpu", **kw).fit(X, y)
    cpu = gpureg.ElasticNetCV(backend="cpu", **kw).fit(X, y)
    np.testing.assert_allclose(gpu.coef_, cpu.coef_, atol=1e-5)
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), atol=1e-5)
    with pytest.raises(NotImplementedError, match="not on the dense 'numpy'"):
        gpureg.fit_grid(X, y, backend="numpy")


@pytest.mark.gpu
@pytest.mark.parametrize("shape", [(400, 60), (150, 600)], ids=["gram", "residual"])
def test_gpu_sparse_grid_equals_the_cpu(shape):
    import cupyx.scipy.sparse as csp

    X, y = _sparse_problem(*shape, density=0.05, seed=8)
    kw = dict(l1_ratio=[0.5, 1.0], alphas=10, cv=3, tol=1e-8, max_iter=100_000)
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    assert gpu.converged.all()
    np.testing.assert_allclose(gpu.cv_path, cpu.cv_path, rtol=1e-5)
    np.testing.assert_allclose(gpu.coef_path, cpu.coef_path, atol=1e-4)
    # a cupyx.scipy.sparse X is taken too (copied to the host, sent back as CSR)
    dev = gpureg.fit_grid(csp.csr_matrix(X), y, backend="gpu", **kw)
    np.testing.assert_allclose(dev.coef_path, gpu.coef_path, atol=1e-12)
    yb = (y > np.median(y)).astype(int)
    kwb = dict(kw, family="binomial", alphas=6, eps=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gb = gpureg.fit_grid(X, yb, backend="gpu", **kwb)
        db = gpureg.fit_grid(X.toarray(), yb, backend="gpu", **kwb)
    assert gb.converged.all()
    np.testing.assert_allclose(gb.coef_path, db.coef_path, atol=1e-8)
