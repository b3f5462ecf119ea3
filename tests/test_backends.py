"""Backend selection (docs/design.md §4) and the textbook-form mapping of the README."""

import re

import numpy as np
import pytest

import gpureg
from gpureg.backends import _gpu, resolve_backend

_NO_DEVICE = "CuPy found no CUDA device (stand-in reason for the test)"


def _pretend_gpu(monkeypatch, available):
    """Make gpureg believe a CUDA device is (or is not) usable, whatever the
    machine: ``is_available`` and ``missing_reason`` are all it asks."""
    monkeypatch.setattr(_gpu, "is_available", lambda: available)
    monkeypatch.setattr(
        _gpu, "missing_reason", lambda: None if available else _NO_DEVICE
    )


def test_auto_and_gpu_resolve_to_the_gpu_where_a_device_is_usable(monkeypatch):
    """With a usable device 'auto' and 'gpu' pick the GPU; 'cpu' and 'numpy'
    stay what they name."""
    _pretend_gpu(monkeypatch, True)
    assert resolve_backend("auto") == "gpu"
    assert resolve_backend("gpu") == "gpu"
    # explicit CPU backends are never redirected to the device
    assert resolve_backend("cpu") == "cpu"
    assert resolve_backend("numpy") == "numpy"


def test_auto_falls_back_to_the_cpu_without_a_device(monkeypatch):
    """Without a usable device 'auto' quietly means the CPU (numba) backend."""
    _pretend_gpu(monkeypatch, False)
    assert resolve_backend("auto") == "cpu"
    assert resolve_backend("cpu") == "cpu"
    assert resolve_backend("numpy") == "numpy"
    # fit_grid's default backend is 'auto': it runs, on the CPU
    X = np.random.default_rng(0).standard_normal((30, 4))
    res = gpureg.fit_grid(X, X[:, 0], alphas=5, cv=None)
    assert res.backend == "cpu"


def test_explicit_gpu_without_a_device_raises_naming_the_reason(monkeypatch):
    """An explicit 'gpu' never falls back silently: RuntimeError with the
    reason ``missing_reason`` gives, from resolve_backend and from fit_grid."""
    _pretend_gpu(monkeypatch, False)
    msg = re.escape(f"backend='gpu' was requested but {_NO_DEVICE}")
    with pytest.raises(RuntimeError, match=msg):
        resolve_backend("gpu")
    X = np.random.default_rng(0).standard_normal((30, 4))
    with pytest.raises(RuntimeError, match=msg):
        gpureg.fit_grid(X, X[:, 0], alphas=5, cv=None, backend="gpu")


@pytest.mark.skipif(_gpu.is_available(), reason="the GPU backend runs here")
def test_explicit_gpu_backend_names_what_is_missing_here():
    """On this machine (no usable device): the real reason, naming CuPy or
    CUDA."""
    X = np.random.default_rng(0).standard_normal((30, 4))
    with pytest.raises(RuntimeError, match="backend='gpu'.*(CuPy|CUDA)"):
        gpureg.fit_grid(X, X[:, 0], alphas=5, cv=None, backend="gpu")


@pytest.mark.parametrize("available", [True, False])
@pytest.mark.parametrize("name", ["GPU", "cuda", "", "numba", None])
def test_unknown_backend_name_raises_value_error(monkeypatch, name, available):
    """Names are exact (no case folding, no aliases), device or not."""
    _pretend_gpu(monkeypatch, available)
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend(name)


@pytest.mark.gpu
def test_gpu_backend_matches_cpu():
    """Where a device runs: 'auto' picks it and it agrees with the CPU."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = X[:, 0] - X[:, 1] + rng.standard_normal(60)
    assert resolve_backend("auto") == "gpu"
    kw = dict(l1_ratio=[0.0, 0.5, 1.0], alphas=10, cv=3, tol=1e-10)
    cpu = gpureg.fit_grid(X, y, backend="cpu", **kw)
    gpu = gpureg.fit_grid(X, y, backend="gpu", **kw)
    np.testing.assert_allclose(gpu.coef_path, cpu.coef_path, rtol=0, atol=1e-6)
    np.testing.assert_allclose(gpu.mse_path, cpu.mse_path, rtol=1e-6)
    assert gpu.converged.all()


@pytest.mark.parametrize("lam, mix", [(0.3, 0.5), (0.05, 0.9), (1.0, 0.2)])
def test_textbook_unhalved_penalty_mapping(lam, mix):
    """README: Loss + mix·lam‖β‖₁ + (1−mix)·lam‖β‖₂² is gpureg's objective with
    alpha = lam (2 − mix) and l1_ratio = mix / (2 − mix)."""
    rng = np.random.default_rng(3)
    n, p = 60, 8
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    alpha, l1_ratio = lam * (2 - mix), mix / (2 - mix)
    res = gpureg.fit_grid(
        X, y, l1_ratio=l1_ratio, alphas=[alpha], cv=None, tol=1e-12, backend="cpu"
    )
    w, b = res.coef_path[0, 0], res.intercept_path[0, 0]
    # KKT of the textbook objective: (1/n) Xᵀr − 2(1−mix)lam·w ∈ mix·lam·∂‖w‖₁,
    # to the accuracy a gap of 1e-12·‖ỹ‖²/n pins (~√gap); a wrong mapping is
    # off by O(lam).
    r = y - X @ w - b
    g = X.T @ r / n - 2 * (1 - mix) * lam * w
    nz = w != 0
    np.testing.assert_allclose(g[nz], mix * lam * np.sign(w[nz]), rtol=0, atol=1e-5)
    assert np.all(np.abs(g[~nz]) <= mix * lam + 1e-5)
    assert abs(r.mean()) < 1e-10


_CONCURRENT = """
import threading
import numpy as np
import gpureg
from gpureg.backends._twins import TwinOps
rng = np.random.default_rng(0)
x = rng.standard_normal(100_000).astype(np.float32)
ref = gpureg.dropout(x, 0.3, seed=5)
G = rng.standard_normal((64, 50))
W = rng.standard_normal((64, 50))
C = rng.standard_normal((1, 50))
args = (G, W, C, np.ones(1), np.zeros(64, np.int32), np.full(64, 0.1),
        np.full(64, 0.1), np.ones(50), False)
ref_gap = TwinOps.gap(*args)
same, errors = [], []
def work(i):
    try:
        for _ in range(20):
            same.append(np.array_equal(gpureg.dropout(x, 0.3, seed=5), ref))
            same.append(np.array_equal(TwinOps.gap(*args), ref_gap))
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
import numba
print(numba.threading_layer(), len(same), all(same), errors)
"""


def test_concurrent_calls_are_safe_under_numbas_workqueue_layer():
    """Four threads in numba parallel regions at once, under the threading
    layer an install without TBB or OpenMP gets (it aborted the process with
    SIGABRT: 'Concurrent access has been detected').  The dropout and twin
    kernels, numba parallel functions, take turns under PARALLEL_LOCK; so
    does the binomial solver (the test after next); the Gaussian solver uses
    no parallel region (next test)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    proc = subprocess.run(
        [sys.executable, "-c", _CONCURRENT],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[:3] == ["workqueue", "160", "True"], proc.stdout


def test_the_binomial_solver_enters_its_parallel_region_under_the_lock(monkeypatch):
    """binomial_paths is a numba parallel region: two logistic grids at once
    (threads, or a Dask worker's) aborted the process under the workqueue
    layer.  Each call now holds PARALLEL_LOCK (checked here without compiling
    the solver for that layer, which takes ~50 s)."""
    from gpureg.backends import _common, _numba_binomial

    held, real = [], _numba_binomial.binomial_paths

    def spy(*args):
        held.append(_common.PARALLEL_LOCK._is_owned())
        return real(*args)

    monkeypatch.setattr(_numba_binomial, "binomial_paths", spy)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    y = X[:, 0] + rng.standard_normal(60) > 0
    gpureg.fit_grid(X, y, family="binomial", alphas=5, cv=3, backend="cpu")
    assert len(held) == 4 and all(held)  # 3 folds + the full data


@pytest.mark.parametrize("p", [8, 80], ids=["gram", "residual"])
def test_concurrent_fit_grid_calls_equal_serial_ones(p):
    """The solver enters no numba parallel region (its jobs run on a pool of
    threads over nogil functions), so concurrent calls need no lock, work
    under any threading layer, and each gets its own, unchanged answer."""
    import threading

    from gpureg.backends import _numba

    for fn in (_numba._gram_path, _numba._residual_path):
        assert fn.targetoptions.get("nogil") and not fn.targetoptions.get("parallel")
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((40, p)) for _ in range(4)]
    kw = dict(alphas=6, l1_ratio=[0.5, 1.0], cv=3, backend="cpu")
    serial = [gpureg.fit_grid(X, X[:, 0] + X[:, 1], **kw) for X in data]
    results, errors = [None] * 4, []

    def work(i):
        try:
            for _ in range(3):
                results[i] = gpureg.fit_grid(
                    data[i], data[i][:, 0] + data[i][:, 1], **kw
                )
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for got, ref in zip(results, serial, strict=True):
        np.testing.assert_array_equal(got.coef_path, ref.coef_path)
        np.testing.assert_array_equal(got.mse_path, ref.mse_path)
