"""Memory planning: a budget, chunks that equal the unchunked grid, refusal at once."""

import tracemalloc

import numpy as np
import pytest

import gpureg
from gpureg import _fit, _memory
from gpureg._memory import choose_mode, parse_bytes, plan_grid


@pytest.mark.parametrize(
    "text, expected",
    [
        ("8GB", 8 * 10**9),
        ("512MiB", 512 * 2**20),
        ("1.5 GiB", int(1.5 * 2**30)),
        ("2e6", 2 * 10**6),
        (1024, 1024),
        (3.0e9, 3 * 10**9),
        ("10k", 10**4),
    ],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (True, TypeError, "memory_limit must be a number"),
        ([1], TypeError, "got list"),
        ("banana", ValueError, "'banana' is not a size"),
        ("8 parsecs", ValueError, "is not a size"),
        ("-1GB", ValueError, "is not a size"),
        (0, ValueError, "must be positive"),
        (float("nan"), ValueError, "must be positive"),
    ],
)
def test_parse_bytes_rejects(bad, error, match):
    with pytest.raises(error, match=match):
        parse_bytes(bad)


def test_budget_precedence(monkeypatch):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 10 * 2**30)
    monkeypatch.delenv("GPUREG_MEMORY_LIMIT", raising=False)
    assert _memory.memory_budget() == int(0.7 * 10 * 2**30)
    monkeypatch.setenv("GPUREG_MEMORY_LIMIT", "2GiB")
    assert _memory.memory_budget() == 2 * 2**30
    assert _memory.memory_budget("1GB") == 10**9  # the argument wins
    monkeypatch.setenv("GPUREG_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="GPUREG_MEMORY_LIMIT='lots'"):
        _memory.memory_budget()


def test_available_bytes_is_plausible():
    avail = _memory.available_bytes()
    assert 2**20 < avail < 2**50


def test_the_gram_form_follows_the_budget_not_a_fixed_cap():
    # 21 Grams of 3,000² doubles: 1.5 GB (+ the build's blocks)
    assert choose_mode(10_000, 3_000, 21, 8, budget=64 * 2**30) == "gram"
    assert choose_mode(10_000, 3_000, 21, 8, budget=4 * 2**30) == "residual"
    assert choose_mode(100, 3_000, 21, 8, budget=2**50) == "residual"  # n < p
    # Grams on a GPU: checked against the device budget, no host bytes
    kw = dict(
        n_samples=10_000,
        n_features=3_000,
        n_sets=21,
        n_l1=1,
        n_alphas=10,
        itemsize=8,
        x_is_float64=True,
        n_test=500,
    )
    host = plan_grid(**kw, budget=64 * 2**30)
    dev = plan_grid(**kw, budget=64 * 2**30, gram_budget=64 * 2**30)
    assert host.mode == dev.mode == "gram"
    assert host.shared_bytes - dev.shared_bytes == _memory.gram_bytes(3_000, 21, 8)
    assert plan_grid(**kw, budget=64 * 2**30, gram_budget=2**30).mode == "residual"


def test_the_issues_grid_is_refused_at_once(monkeypatch):
    """2,000 × 5,000, 100 l1_ratios × 1,000 alphas × 20 folds: it spent 20 s
    preparing, then died allocating 78 GiB.  Now: a MemoryError naming the
    size, before any training set is prepared."""

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the memory plan")

    monkeypatch.setattr(_fit, "training_weights", no_work)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5000))
    y = rng.standard_normal(2000)
    kw = dict(l1_ratio=np.linspace(0.01, 1, 100), alphas=1000, cv=20)
    with pytest.raises(
        MemoryError,
        match=r"needs at least 4\.1 GiB .*3\.7 GiB for "
        r"the returned path of 100 l1_ratio\(s\) × 1000 alphas × "
        r"5000 features.*budget of 953\.7 MiB",
    ):
        gpureg.fit_grid(X, y, memory_limit="1GB", **kw)
    # the default budget: 70% of what is available
    monkeypatch.setattr(_memory, "available_bytes", lambda: 2 * 2**30)
    monkeypatch.delenv("GPUREG_MEMORY_LIMIT", raising=False)
    with pytest.raises(MemoryError, match="default 70% of available memory"):
        gpureg.fit_grid(X, y, **kw)
    with pytest.raises(MemoryError, match="budget of 47.7 MiB"):
        gpureg.enet_path(X, y, l1_ratio=0.5, alphas=1000, memory_limit="50MB")


def _limit_for(X, n_sets, n_l1, n_alphas, jobs):
    """A budget that holds what is shared and ``jobs`` jobs."""
    n, p = X.shape
    plan = plan_grid(
        n_samples=n,
        n_features=p,
        n_sets=n_sets,
        n_l1=n_l1,
        n_alphas=n_alphas,
        itemsize=8,
        x_is_float64=True,
        n_test=-(-n // (n_sets - 1)),
        budget=2**40,
    )
    return plan.shared_bytes + jobs * plan.job_bytes


@pytest.fixture
def plans(monkeypatch):
    seen = []

    def spy(**kw):
        plan = _memory.plan_grid(**kw)
        seen.append(plan)
        return plan

    monkeypatch.setattr(_fit, "plan_grid", spy)
    return seen


@pytest.mark.parametrize("shape", [(80, 10), (40, 120)], ids=["gram", "residual"])
@pytest.mark.parametrize("jobs", [2, 8], ids=["l1-slices", "whole-sets"])
def test_chunked_equals_unchunked(plans, shape, jobs):
    rng = np.random.default_rng(3)
    n, p = shape
    X = rng.standard_normal((n, p))
    y = X[:, :3] @ [1.0, -2.0, 0.5] + rng.standard_normal(n)
    kw = dict(
        l1_ratio=[0.0, 0.3, 1.0],
        alphas=12,
        cv=4,
        tol=1e-6,
        max_iter=5000,
        sample_weight=rng.uniform(0.5, 2, n),
        standardize=True,
        backend="cpu",
    )
    ref = gpureg.fit_grid(X, y, memory_limit=2**40, **kw)
    got = gpureg.fit_grid(X, y, memory_limit=_limit_for(X, 5, 3, 12, jobs), **kw)
    assert len(plans[0].chunks) == 1
    assert len(plans[1].chunks) == (10 if jobs == 2 else 3)
    assert plans[0].mode == plans[1].mode == ("gram" if n > p else "residual")
    for name in (
        "coef_path",
        "intercept_path",
        "mse_path",
        "dual_gap",
        "n_iter",
        "alphas",
    ):
        np.testing.assert_allclose(
            getattr(got, name),
            getattr(ref, name),
            rtol=1e-12,
            atol=1e-300,
            err_msg=name,
        )
    assert (got.alpha_, got.l1_ratio_) == (ref.alpha_, ref.l1_ratio_)
    assert not np.isnan(got.mse_path).any()


def test_the_peak_stays_within_the_budget(plans):
    """Python-side allocations (what tracemalloc sees: every numpy array of
    the call) stay under the limit; unchunked, the same grid goes far above."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 2000))
    y = X[:, :4].sum(axis=1) + rng.standard_normal(60)
    kw = dict(l1_ratio=[0.5, 0.9, 1.0], alphas=40, cv=5, backend="cpu")
    limit = _limit_for(X, 6, 3, 40, 3)

    def peak(memory_limit):
        tracemalloc.start()
        try:
            res = gpureg.fit_grid(X, y, memory_limit=memory_limit, **kw)
            return tracemalloc.get_traced_memory()[1], res
        finally:
            tracemalloc.stop()

    gpureg.fit_grid(X[:, :100], y, **kw)  # load the compiled solver first
    del plans[:]
    chunked, a = peak(limit)
    free, b = peak(2**40)
    assert len(plans[0].chunks) == 6 and len(plans[1].chunks) == 1
    assert chunked <= limit < free
    np.testing.assert_array_equal(a.coef_path, b.coef_path)
    np.testing.assert_array_equal(a.mse_path, b.mse_path)


@pytest.mark.parametrize("cv", [None, 4], ids=["loo", "kfold"])
def test_ridge_cv_is_refused_at_once(monkeypatch, cv):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 300))
    y = X[:, 0] + rng.standard_normal(50)
    alphas = np.logspace(-3, 3, 4000)
    monkeypatch.setenv("GPUREG_MEMORY_LIMIT", "20MB")
    what = "leave-one-out Ridge path" if cv is None else "Ridge path over 4 folds"
    with pytest.raises(
        MemoryError,
        match=f"this {what} needs at least .*budget of 19.1 MiB.*GPUREG_MEMORY_LIMIT",
    ):
        gpureg.RidgeCV(alphas=alphas, cv=cv, backend="cpu").fit(X, y)
    monkeypatch.setenv("GPUREG_MEMORY_LIMIT", "200MB")
    model = gpureg.RidgeCV(alphas=alphas, cv=cv, backend="cpu").fit(X, y)
    assert model.alpha_ in alphas


def test_the_device_budget_reads_sizes_like_the_host_one(monkeypatch):
    from gpureg.backends import _gpu

    monkeypatch.setenv("GPUREG_GPU_MEMORY_BYTES", "2GiB")
    assert _gpu.memory_budget() == 2 * 2**30
    monkeypatch.setenv("GPUREG_GPU_MEMORY_BYTES", "123456")
    assert _gpu.memory_budget() == 123456
    monkeypatch.setenv("GPUREG_GPU_MEMORY_BYTES", "-5")
    with pytest.raises(ValueError, match="GPUREG_GPU_MEMORY_BYTES"):
        _gpu.memory_budget()
