"""Grids over a Dask cluster (``fit_grid(..., client=)``): equal to a
single-process run bit for bit on the CPU backend, for both families,
weights, many targets and sparse X; a worker killed mid-run; a user error
raised inside a shard; Ctrl-C cancelling the futures.

One ``LocalCluster(processes=True, n_workers=2)`` serves the module (its
tests share one xdist group, so one process owns it).
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

import numpy as np
import pytest

import gpureg
from gpureg import _distributed

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.xdist_group("dask")

FIELDS = ("alphas", "coef_path", "intercept_path", "dual_gap", "n_iter", "cv_path")


@pytest.fixture(scope="module")
def client():
    # two threads per worker: a worker still runs one shard at a time, so its
    # BLAS calls sum as the single process's (they did not, before the lock)
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        dashboard_address=None,
        silence_logs=50,  # CRITICAL: the killed worker's errors are expected
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _data(n=200, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + 0.5
    y = X[:, :3] @ [1.0, -2.0, 3.0] + rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


def _assert_equal(a, b, fields=FIELDS):
    for name in fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize(
    "shape, options",
    [
        ((200, 12), dict(l1_ratio=[0.0, 0.5, 1.0])),  # Gram form, Ridge included
        ((200, 12), dict(standardize=True, weighted=True, keep=True, pf=True)),
        ((40, 90), dict(l1_ratio=[0.3, 1.0], fit_intercept=False)),  # residual
    ],
    ids=["gram", "weighted-standardize-keep", "residual"],
)
def test_gaussian_grid_equals_the_single_process_run(client, shape, options):
    options = dict(options)
    X, y, sw = _data(*shape)
    if options.pop("weighted", False):
        options["sample_weight"] = sw
    if options.pop("pf", False):
        options["penalty_factor"] = np.r_[0.0, np.ones(shape[1] - 1)]
    kw = dict(alphas=10, cv=3, backend="cpu", **options)
    one = gpureg.fit_grid(X, y, **kw)
    many = gpureg.fit_grid(X, y, client=client, **kw)
    fields = FIELDS + (("fold_coef_path", "oof_predictions") if "keep" in kw else ())
    _assert_equal(one, many, fields)
    assert (many.alpha_, many.l1_ratio_) == (one.alpha_, one.l1_ratio_)
    assert many.backend == "cpu" and many.mode == one.mode
    assert many.timings["shards"] == 2  # one per worker


def test_binomial_grid_and_many_targets_and_sparse_X_equal_single_process(client):
    import scipy.sparse as sp

    X, y, sw = _data(seed=1)
    yb = np.where(y > 0, "yes", "no")
    kw = dict(l1_ratio=[0.5, 1.0], alphas=8, cv=3, backend="cpu", sample_weight=sw)
    one = gpureg.fit_grid(X, yb, family="binomial", **kw)
    many = gpureg.fit_grid(X, yb, family="binomial", client=client, **kw)
    _assert_equal(one, many, FIELDS + ("path_stop",))
    assert list(many.classes) == ["no", "yes"] and many.backend == "cpu"
    cached = client.run(lambda: len(_distributed._CONTEXTS))  # the call's caches
    assert sorted(cached.values()) == [0, 0]  # dropped when it ended

    Y = np.c_[y, X[:, 4] - y, X[:, 5]]
    one = gpureg.fit_grid(X, Y, alphas=8, cv=3, backend="cpu")
    many = gpureg.fit_grid(X, Y, alphas=8, cv=3, client=client)  # 'auto': cpu
    _assert_equal(one, many)
    np.testing.assert_array_equal(many.alpha_, one.alpha_)

    Xs = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    one = gpureg.fit_grid(Xs, y, alphas=8, cv=3)
    many = gpureg.fit_grid(Xs, y, alphas=8, cv=3, client=client)
    _assert_equal(one, many)


def _long_grid():
    """A grid that runs for a few seconds on two workers (two shards)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 200))
    y = X[:, :10] @ rng.standard_normal(10) + rng.standard_normal(3000)
    kw = dict(l1_ratio=[0.2, 0.4, 0.6, 0.8, 1.0], alphas=60, cv=4, tol=1e-10)
    return X, y, kw


def _processing(client):
    return sum(len(v) for v in client.processing().values())


def test_a_worker_killed_mid_run_leaves_a_complete_equal_result(client):
    X, y, kw = _long_grid()
    one = gpureg.fit_grid(X, y, backend="cpu", **kw)
    box = {}
    run = threading.Thread(
        target=lambda: box.update(res=gpureg.fit_grid(X, y, client=client, **kw))
    )
    run.start()
    deadline = time.monotonic() + 60
    while _processing(client) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    victim = sorted(client.scheduler_info()["workers"])[0]
    try:  # the worker dies before it answers; its nanny restarts it
        client.run(os._exit, 1, workers=[victim], on_error="ignore")
    except Exception:
        pass
    try:
        run.join(timeout=300)
        assert "res" in box, "the distributed fit did not finish"
        _assert_equal(one, box["res"])
    finally:  # the next tests want both workers back
        client.wait_for_workers(2, timeout=60)
    assert victim not in client.scheduler_info()["workers"]  # it did die


def test_a_user_error_inside_a_shard_is_raised_as_itself(client):
    """backend='gpu' on CPU workers: their shards raise the backend's own
    RuntimeError, re-raised without Dask's frames."""
    X, y, _ = _data()
    with pytest.raises(RuntimeError, match="backend='gpu' was requested") as info:
        gpureg.fit_grid(X, y, alphas=5, cv=2, backend="gpu", client=client)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert not any("distributed" + os.sep in f.filename for f in frames)


def test_stopping_the_call_cancels_its_futures(client):
    """Ctrl-C's stop flag (what ``interruptible`` raises) cancels every shard."""
    from gpureg import _interrupt

    X, y, kw = _long_grid()
    flag = np.zeros(1, dtype=np.int64)
    token = _interrupt._STOP.set(flag)

    def stop_once_running():  # Ctrl-C while the shards run
        deadline = time.monotonic() + 60
        while _processing(client) == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        flag.fill(1)

    threading.Thread(target=stop_once_running, daemon=True).start()
    try:
        with pytest.raises(_interrupt.CallInterruptedError):
            _distributed_fit(X, y, kw, client)
    finally:
        _interrupt._STOP.reset(token)
    deadline = time.monotonic() + 30
    while _processing(client) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processing(client) == 0
    assert _distributed._CONTEXTS == {}  # the client's process holds no cache


def _distributed_fit(X, y, kw, client):
    """``fit_grid``'s body without the interruptible wrapper (its own flag)."""
    return gpureg.fit_grid.__wrapped__(X, y, client=client, **kw)


@pytest.mark.parametrize("n_workers", [1, 2, 3, 7])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_shards_cover_the_grid_once(n_workers, n_targets):
    from types import SimpleNamespace

    n_sets, n_l1 = 6, 5
    for chunks in (
        [(slice(0, 6), np.arange(5))],  # one chunk: the whole grid fits
        [(slice(0, 2), np.arange(5)), (slice(2, 6), np.arange(5))],
        [(slice(t, t + 1), np.array([il])) for t in range(6) for il in range(5)],
    ):
        plan = SimpleNamespace(chunks=chunks)
        shards = _distributed._shards(plan, n_sets, n_l1, n_targets, n_workers)
        seen = np.zeros((n_targets, n_sets, n_l1), dtype=int)
        for j, sets, ls in shards:
            for t in range(*sets.indices(n_sets)):
                seen[j, t, ls] += 1
        assert (seen == 1).all()
        want = -(-n_workers // n_targets)  # per target
        assert len(shards) >= n_targets * min(want, n_sets * n_l1)
        assert len(shards) <= n_targets * (want + len(chunks) * n_l1)


def test_progress_counts_shards(client, capsys):
    X, y, _ = _data()
    gpureg.fit_grid(X, y, alphas=5, cv=3, l1_ratio=[0.5, 1.0], client=client,
                    progress=True)  # fmt: skip
    err = capsys.readouterr().err
    n_workers = len(client.scheduler_info()["workers"])
    assert "gpureg shards" in err and f"{n_workers}/{n_workers}" in err
    Y = np.column_stack([y, -y, 2 * y])
    gpureg.fit_grid(X, Y, alphas=5, cv=3, l1_ratio=[0.5, 1.0], client=client,
                    progress=True)  # fmt: skip
    assert "3/3" in capsys.readouterr().err  # one per target


def test_estimators_and_a_missing_dask_give_clear_answers(client, monkeypatch):
    import pickle

    from sklearn.base import clone

    X, y, _ = _data()
    one = gpureg.LassoCV(alphas=8, cv=3).fit(X, y)
    address = client.scheduler.address
    for name in ("default", address):  # cloneable, picklable
        est = clone(gpureg.LassoCV(alphas=8, cv=3, client=name))
        many = pickle.loads(pickle.dumps(est)).fit(X, y)
        np.testing.assert_array_equal(many.coef_, one.coef_)
        np.testing.assert_array_equal(many.mse_path_, one.mse_path_)
    many = gpureg.ElasticNetCV(alphas=8, cv=3, client=client).fit(X, y)
    single = gpureg.ElasticNetCV(alphas=8, cv=3).fit(X, y)
    np.testing.assert_array_equal(many.coef_, single.coef_)
    with pytest.raises(TypeError, match="scheduler address"):
        gpureg.fit_grid(X, y, alphas=5, cv=2, client=3)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'gpureg\[dask\]'"):
        gpureg.fit_grid(X, y, alphas=5, cv=2, client=client)


def test_sweep_on_a_scheduler_equals_the_local_sweep(client, tmp_path, capsys):
    import json

    from gpureg.cli import main

    X, y, _ = _data(seed=4)
    path = tmp_path / "data.csv"
    header = ",".join([f"f{j}" for j in range(X.shape[1])] + ["y"])
    np.savetxt(path, np.c_[X, y], delimiter=",", header=header, comments="")
    common = ["sweep", str(path), "--target", "y", "--alphas", "8", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    address = client.scheduler.address
    assert main([*common, "--scheduler", address, "--out", str(tmp_path / "many")]) == 0
    one, many = (
        json.loads((tmp_path / d / "best.json").read_text()) for d in ("one", "many")
    )
    assert one.pop("seconds") > 0 and many.pop("seconds") > 0
    assert one == many
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert main([*common, "--scheduler", "tcp://127.0.0.1:1", "--out",
                     str(tmp_path / "none")]) == 2  # fmt: skip
    assert "gpureg: error:" in capsys.readouterr().err


def test_a_shard_runs_with_the_c_librarys_own_thresholds(monkeypatch):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's
    dynamic thresholds (W1 ran 40% slower on such a worker); a shard runs
    with the values glibc reaches by itself, and Dask's come back after."""
    import ctypes

    calls = []

    class LibC:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(ctypes, "CDLL", lambda name: LibC())
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with _distributed._heap_kept():
        pass
    assert calls == []  # a plain process: nothing to undo
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    with pytest.raises(KeyError), _distributed._heap_kept():
        assert calls == [(-3, 32 << 20), (-1, 64 << 20)]
        raise KeyError  # restored however the shard ends
    assert calls[2:] == [(-1, 65536), (-3, 128 << 10)]


def test_x_as_a_path_is_read_by_the_workers_only(client, tmp_path, monkeypatch):
    """fit_grid(path, y, client=): every worker loads X itself; this process
    never reads the file (np.load and load_npz refuse here), and the result
    is the single process's, bit for bit, dense and sparse."""
    import scipy.sparse as sp

    X, y, sw = _data()
    dense, sparse = tmp_path / "X.npy", tmp_path / "X.npz"
    np.save(dense, X)
    Xs = sp.random(200, 12, density=0.3, random_state=1, format="csr")
    sp.save_npz(sparse, Xs)
    kw = dict(alphas=6, cv=3, l1_ratio=[0.5, 1.0], backend="cpu", sample_weight=sw)
    one = gpureg.fit_grid(X, y, keep=True, **kw)
    ones = gpureg.fit_grid(Xs, y, **kw)

    def refuse(*args, **kwargs):
        raise AssertionError("the client read X")

    monkeypatch.setattr(np, "load", refuse)
    monkeypatch.setattr(sp, "load_npz", refuse)
    many = gpureg.fit_grid(str(dense), y, client=client, keep=True, **kw)
    _assert_equal(one, many, FIELDS + ("fold_coef_path", "oof_predictions"))
    _assert_equal(ones, gpureg.fit_grid(sparse, y, client=client, **kw))
    assert many.timings["scatter"] < 1.0
    with pytest.raises(FileNotFoundError, match="nowhere.npy"):
        gpureg.fit_grid(str(tmp_path / "nowhere.npy"), y, client=client)
    bad = X.copy()
    bad[3, 4] = np.nan
    monkeypatch.undo()
    np.save(tmp_path / "bad.npy", bad)
    with pytest.raises(ValueError, match="X contains NaN"):
        gpureg.fit_grid(tmp_path / "bad.npy", y, client=client)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        gpureg.fit_grid(dense, y[:-1], client=client)
    with pytest.raises(NotImplementedError, match="Gaussian family"):
        gpureg.fit_grid(dense, y > 0, family="binomial", client=client)
    with pytest.raises(ValueError, match=r"must name a \.npy file"):
        gpureg.fit_grid(tmp_path / "X.csv", y)
    single = gpureg.fit_grid(dense, y, keep=True, **kw)  # no client: loaded here
    _assert_equal(one, single, FIELDS)
