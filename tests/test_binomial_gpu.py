"""The binomial GPU engine (``backends/_binomial_gpu.py``), run on the CPU
through the numba twins of its kernels, against the CPU solver, the numpy
oracle of the gap and scikit-learn; and, marked ``gpu``, on a real device.

The kernels themselves are checked against the twins on the CUDA emulator
(tests/test_kernels_emulated.py), which also runs this engine through them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_binomial import _data, _objective, _sklearn

import gpureg
from gpureg._binomial import encode_labels, prepare_binomial
from gpureg._datafit import Logistic
from gpureg._penalty import ElasticNetPenalty, fenchel_gap
from gpureg._spec import GridSpec
from gpureg.backends import _binomial_gpu, _gpu
from gpureg.backends._twins import TwinLogisticOps


@pytest.fixture
def twin_gpu(monkeypatch):
    """``backend='gpu'`` runs the engine with the twins (no device needed)."""
    monkeypatch.setattr(_gpu, "missing_reason", lambda: None)
    monkeypatch.setattr(_gpu, "is_available", lambda: True)
    budget = {"bytes": 1 << 30}
    monkeypatch.setattr(
        _binomial_gpu, "device_ops", lambda: (TwinLogisticOps(), budget["bytes"])
    )
    return budget


def small_problem(n=60, p=6, n_alphas=5, cv=2, seed=0, **options):
    """``(XF, y01, SW, params, grid)`` and the spec of a small binomial grid."""
    X, y = _data(n, p, seed)
    y01, _ = encode_labels(y)
    folds = list(gpureg._folds.make_folds(cv, n, None)) if cv else []
    spec = GridSpec(
        folds=folds,
        sample_weight=None,
        penalty_factor=np.ones(p),
        l1_ratios=np.array([0.5, 1.0]),
        alphas=n_alphas,
        eps=1e-2,
        fit_intercept=options.get("fit_intercept", True),
        standardize=options.get("standardize", True),
        positive=options.get("positive", False),
        tol=options.get("tol", 1e-6),
        max_iter=options.get("max_iter", 20_000),
        dtype=np.dtype(np.float64),
        backend="gpu",
        memory_limit=None,
    )
    XF, SW, params, grid, _ = prepare_binomial(X, y01, spec)
    return (XF, y01, SW, params, grid), spec


CASES = {
    "default": dict(),
    "standardize+cv": dict(standardize=True, cv=3, l1_ratio=[0.3, 1.0]),
    "weighted+unpenalized": dict(weighted=True, unpenalized=True),
    "positive, no intercept": dict(positive=True, fit_intercept=False),
    "p > n": dict(shape=(40, 90)),
}


def _scale(X, sw, standardize):
    """The solver's column scales: weighted population std (1 without)."""
    if not standardize:
        return np.ones(X.shape[1])
    s = np.ones(X.shape[0]) if sw is None else sw
    mean = s @ X / s.sum()
    return np.sqrt(s @ (X - mean) ** 2 / s.sum())


@pytest.mark.parametrize("case", CASES)
def test_twin_engine_is_certified_and_equals_the_cpu_solver(twin_gpu, case):
    """Every full-data fit's gap, recomputed by the numpy oracle on the
    standardized scale, is certified; its objective equals the CPU solver's
    to the certificate; the CV measures agree."""
    opts = dict(CASES[case])
    n, p = opts.pop("shape", (150, 12))
    X, y = _data(n, p, seed=len(case))
    weighted = opts.pop("weighted", False)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, n) if weighted else None
    f = np.ones(p)
    if opts.pop("unpenalized", False):
        f[0] = 0.0
    kw = dict(
        family="binomial",
        alphas=12,
        tol=1e-6,
        sample_weight=sw,
        penalty_factor=f,
        cv=opts.pop("cv", None),
        max_iter=50_000,
        **opts,
    )
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    assert gpu.backend == "gpu"
    np.testing.assert_array_equal(gpu.alphas, cpu.alphas)
    np.testing.assert_array_equal(gpu.path_stop, cpu.path_stop)
    assert (gpu.dual_gap <= gpu.gap_tol[:, None, None]).all()
    s = np.ones(n) if sw is None else sw
    sigma = _scale(X, sw, kw.get("standardize", False))
    Xs = X / sigma  # the standardized problem: w σ on X / σ, penalty factors f
    for li, rho in enumerate(gpu.l1_ratios):
        for ai, alpha in enumerate(gpu.alphas[li]):
            fits = [
                (r.coef_path[li, ai] * sigma, r.intercept_path[li, ai])
                for r in (gpu, cpu)
            ]
            (w, b), (w_cpu, b_cpu) = fits
            z = Xs @ w + b
            grad = Xs.T @ (s / s.sum() * Logistic().residual(y, z))
            pen = ElasticNetPenalty(
                alpha * rho, alpha * (1 - rho), f, kw.get("positive", False)
            )
            oracle = fenchel_gap(
                Logistic(), pen, w[None], grad[None], (y, z, s / s.sum())
            )
            assert oracle[0] <= gpu.gap_tol[-1] * (1 + 1e-6), (li, ai, oracle)
            p_gpu = _objective(Xs, y, w, b, alpha, rho, sw, f)
            p_cpu = _objective(Xs, y, w_cpu, b_cpu, alpha, rho, sw, f)
            assert abs(p_gpu - p_cpu) <= gpu.gap_tol[-1], (li, ai, p_gpu - p_cpu)
    if cpu.cv_path is not None:
        np.testing.assert_allclose(gpu.cv_path, cpu.cv_path, rtol=1e-3, atol=1e-4)


def test_twin_engine_matches_sklearn_saga(twin_gpu):
    """At three alphas of a p > n path: the GPU engine's objective is no
    worse than scikit-learn's (saga at tol 1e-12) beyond the certificate,
    and held-out probabilities agree where the objective is curved enough
    for the certificate to pin the coefficients down."""
    X, y = _data(50, 80, seed=4)
    Xt, _ = _data(200, 80, seed=5)
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        l1_ratio=0.7,
        alphas=10,
        cv=None,
        tol=1e-8,
        max_iter=100_000,
        backend="gpu",
    )
    for ai in (2, 5, 9):
        alpha = res.alphas[0, ai]
        sk = _sklearn(X, y, alpha, 0.7)
        w, b = res.coef_path[0, ai], res.intercept_path[0, ai]
        ours = _objective(X, y, w, b, alpha, 0.7)
        theirs = _objective(X, y, sk.coef_[0], sk.intercept_[0], alpha, 0.7)
        assert ours <= theirs + res.gap_tol[-1], (ai, ours - theirs)
        if ai <= 5:  # at the smallest alpha (p > n) the objective is too flat
            proba = res.predict_proba(Xt, index=(0, ai))[:, 1]  # to pin w down
            np.testing.assert_allclose(proba, sk.predict_proba(Xt)[:, 1], atol=5e-4)


def test_separable_data_stop_early_and_stay_finite(twin_gpu):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 5))
    y = (X[:, 0] > 0).astype(float)  # perfectly separable
    kw = dict(family="binomial", l1_ratio=1.0, alphas=60, eps=1e-4, cv=3)
    with pytest.warns(UserWarning, match="stopped early"):
        gpu = gpureg.fit_grid(X, y, backend="gpu", max_iter=20_000, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    assert (gpu.path_stop < 60).all()
    # the stop is where the deviance ratio passes 0.999: the CPU's alpha, or
    # the next one when the two fits straddle the threshold
    assert (np.abs(gpu.path_stop - cpu.path_stop) <= 1).all()
    for arr in (gpu.coef_path, gpu.intercept_path, gpu.dual_gap, gpu.cv_path):
        assert np.all(np.isfinite(arr))
    stop = gpu.path_stop[-1, 0]
    after = gpu.coef_path[0, stop:]
    np.testing.assert_array_equal(
        after, np.broadcast_to(gpu.coef_path[0, stop - 1], after.shape)
    )
    assert gpu.n_iter[-1, 0, stop:].sum() == 0


def test_chunks_give_the_unchunked_fits():
    """A budget of a few problems per chunk: the same rows as one chunk."""
    args, spec = small_problem(n=50, p=7, n_alphas=6, cv=2)
    XF, y01, SW, (B0, A1, B2), grid = args
    m = int((SW > 0).sum(axis=1).max())  # the full data, the largest set
    budget = _binomial_gpu.chunk_bytes(3, m, 7)
    assert _binomial_gpu.plan_chunk(m, 7, 12, budget) == 3
    one = _binomial_gpu.solve_sets(TwinLogisticOps(), *args, spec, budget=1 << 30)
    few = _binomial_gpu.solve_sets(TwinLogisticOps(), *args, spec, budget=budget)
    np.testing.assert_array_equal(one[4], few[4])
    for a, b in zip(one[:3], few[:3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_problem_too_large_for_the_device_is_refused_with_its_size():
    with pytest.raises(MemoryError, match=r"1000 training rows × 50 features needs"):
        _binomial_gpu.plan_chunk(1000, 50, 10, budget=100_000)
    assert _binomial_gpu.plan_chunk(1000, 50, 10, budget=1 << 40) == 10


def test_progress_and_float32_results(twin_gpu, capsys):
    X, y = _data(60, 4, seed=2)
    res = gpureg.fit_grid(
        X,
        y,
        family="binomial",
        alphas=5,
        cv=2,
        backend="gpu",
        dtype=np.float32,
        progress=True,
    )
    assert res.coef_path.dtype == np.float32
    assert (res.dual_gap <= res.gap_tol[:, None, None]).all()
    assert "3/3" in capsys.readouterr().err.replace(" ", "")


@pytest.mark.gpu
def test_gpu_binomial_grid_equals_the_cpu_solver():
    """On a real device: the CUDA kernels certify every fit and agree with
    the CPU solver to the certificate (objective) and in the CV measures."""
    if not _gpu.is_available():
        pytest.skip(_gpu.missing_reason())
    X, y = _data(400, 30, seed=6)
    kw = dict(
        family="binomial",
        l1_ratio=[0.5, 1.0],
        alphas=20,
        cv=3,
        tol=1e-6,
        standardize=True,
        max_iter=50_000,
    )
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    assert (gpu.dual_gap <= gpu.gap_tol[:, None, None]).all()
    np.testing.assert_allclose(gpu.cv_path, cpu.cv_path, rtol=1e-3, atol=1e-4)
    sigma = _scale(X, None, True)
    for li, rho in enumerate(gpu.l1_ratios):
        for ai, alpha in enumerate(gpu.alphas[li]):
            vals = [
                _objective(
                    X / sigma,
                    y,
                    r.coef_path[li, ai] * sigma,
                    r.intercept_path[li, ai],
                    alpha,
                    rho,
                )
                for r in (gpu, cpu)
            ]
            assert abs(vals[0] - vals[1]) <= gpu.gap_tol[-1]


class _CountedLogisticOps:
    """The twins behind the kernel interface, on the CuPy stand-in of
    tests/cuda_emu, whose allocator counts every device buffer alive."""

    def __init__(self, xp):
        self.xp = xp

    @staticmethod
    def _h(arrays):
        return [np.asarray(a) for a in arrays]

    def residual(self, Z, b, y, sw, R, polish):
        from gpureg.backends._twins import logistic_residual

        rsum = self.xp.empty(Z.shape[0])
        logistic_residual(*self._h((Z, b, y, sw, R, rsum)), int(polish))
        return rsum

    def step(self, G, rows, icpt, pen, t_mom, step, positive, intercept):
        TwinLogisticOps.step(
            *self._h((G,)),
            self._h(rows),
            self._h(icpt),
            self._h(pen),
            np.asarray(t_mom),
            step,
            positive,
            intercept,
        )

    def gap(self, Z, b, G, W, data, pen, positive):
        from gpureg.backends._twins import logistic_gap

        gap, loss = self.xp.empty(Z.shape[0]), self.xp.empty(Z.shape[0])
        arrays = self._h((Z, b, G, W, *data, *pen, gap, loss))
        logistic_gap(*arrays, bool(positive))
        return gap, loss


def test_memory_plan_bounds_the_measured_device_peak():
    """``chunk_bytes`` bounds what the engine allocates on the device
    (counting allocator), for one chunk and for a budget forcing three."""
    import cuda_emu

    cuda_emu.configure()
    xp = cuda_emu.fake_cupy()
    args, spec = small_problem(n=300, p=10, n_alphas=30, cv=3, tol=1e-3)
    SW, p = args[2], args[0].shape[1]
    m = int((SW > 0).sum(axis=1).max())
    plan = _binomial_gpu.chunk_bytes(60, m, p)
    peaks = []
    for budget in (plan, plan // 3):
        base = cuda_emu.MEMORY["live"]
        cuda_emu.reset_peak()
        out = _binomial_gpu.solve_sets(
            _CountedLogisticOps(xp), *args, spec, budget=budget
        )
        peaks.append(cuda_emu.MEMORY["peak"] - base)
        assert np.isfinite(out[0]).all()
    assert peaks[0] <= plan, (peaks[0], plan)
    assert peaks[1] <= plan // 3, (peaks[1], plan // 3)
    assert peaks[0] >= 0.25 * plan  # an upper bound, not a wild one
