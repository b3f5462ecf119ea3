"""gpureg._bench: the throughput runner behind ``gpureg bench`` (small grids only).

Also the ``benchmarks`` package of the source tree: its modules import as
``benchmarks.*`` from the repository root, with no ``sys.path`` set-up.
"""

import ast
import json
import math
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gpureg import _bench
from gpureg.backends import get_backend

ROOT = Path(__file__).resolve().parent.parent

SIZES = [(5, 1, 2), (4, 2, 3), (10, 3, 2)]  # (n_alphas, n_l1_ratios, cv)

REQUIRED = {
    "backend",
    "device",
    "dtype",
    "n_samples",
    "n_features",
    "n_fits",
    "wall_s",
    "fits_per_s",
    "all_certified",
    "max_gap_ratio",
    "date",
    "gpureg",
    "numpy",
    "sklearn",
}


@pytest.fixture(scope="module")
def cpu_rows():
    return _bench.throughput_rows(backends=("cpu",), sizes=SIZES, quick=True)


def test_cpu_rows_have_the_required_keys(cpu_rows):
    assert len(cpu_rows) == len(SIZES)
    for row in cpu_rows:
        assert REQUIRED <= row.keys()
        assert row["backend"] == "cpu"
        assert row["dtype"] == "float64"
        assert (row["n_samples"], row["n_features"]) == _bench.QUICK_SHAPE
        assert isinstance(row["device"], str) and row["device"]
        assert row["device"] == get_backend("cpu").device_name()


def test_n_fits_follow_the_grid(cpu_rows):
    for row in cpu_rows:
        n_alphas, n_l1, cv = row["n_alphas"], row["n_l1_ratios"], row["n_folds"]
        assert (n_alphas, n_l1, cv) in SIZES
        assert row["n_fits"] == (cv + 1) * n_l1 * n_alphas
    # rows come in increasing grid size: 15, 32, 90 fits
    assert [r["n_fits"] for r in cpu_rows] == [15, 32, 90]


def test_fits_per_s_is_n_fits_over_wall_s(cpu_rows):
    for row in cpu_rows:
        assert row["wall_s"] > 0
        assert math.isclose(
            row["fits_per_s"], row["n_fits"] / row["wall_s"], rel_tol=1e-12
        )


def test_every_fit_is_certified(cpu_rows):
    for row in cpu_rows:
        assert row["all_certified"] is True
        assert 0 <= row["max_gap_ratio"] <= 1.0


def test_gpu_is_a_skipped_row_without_a_device():
    reason = get_backend("gpu").missing_reason()
    if reason is None:
        pytest.skip("a GPU is available here")
    rows = _bench.throughput_rows(backends=("gpu",), sizes=SIZES[:1], quick=True)
    assert rows == [{"backend": "gpu", "skipped": reason}]


def test_sklearn_rows_agree_with_gpureg_cpu():
    rows = _bench.throughput_rows(
        backends=("cpu", "sklearn"), sizes=SIZES[:2], quick=True
    )
    sk = [r for r in rows if r["backend"] == "sklearn"]
    assert [r["n_fits"] for r in sk] == [2 * 1 * 5 + 1, 3 * 2 * 4 + 1]
    for row in sk:
        # both stop at tol=1e-4: held-out errors agree to about that accuracy
        assert row["mse_path_max_rel_diff_vs_cpu"] < 5e-2


def test_unknown_backend_and_bad_size_raise():
    with pytest.raises(ValueError, match="unknown backends"):
        _bench.throughput_rows(backends=("tpu",), sizes=SIZES[:1], quick=True)
    with pytest.raises(ValueError, match="cv >= 2"):
        _bench.throughput_rows(sizes=[(5, 1, 1)], quick=True)


def test_quick_default_series_is_capped():
    sizes = [
        s
        for s in _bench.DEFAULT_SIZES
        if (s[2] + 1) * s[1] * s[0] <= _bench.QUICK_MAX_FITS
    ]
    assert 2 <= len(sizes) < len(_bench.DEFAULT_SIZES)
    fits = [(s[2] + 1) * s[1] * s[0] for s in _bench.DEFAULT_SIZES]
    assert fits[0] <= 20 and fits[-1] >= 100_000


def test_data_generator_is_toeplitz_and_seeded():
    X, y = _bench._make_data(4000, 6, seed=3)
    X2, y2 = _bench._make_data(4000, 6, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    corr = np.corrcoef(X, rowvar=False)
    np.testing.assert_allclose(corr[0, 1:4], [0.5, 0.25, 0.125], atol=0.05)


def test_write_rows_round_trips(tmp_path, cpu_rows):
    rows = cpu_rows + [{"backend": "gpu", "skipped": "no device"}]
    paths = _bench.write_rows(rows, tmp_path / "sub" / "scaling.anything")
    assert [p.name for p in paths] == ["scaling.json", "scaling.csv"]
    assert all(p.exists() for p in paths)

    assert json.loads(paths[0].read_text()) == rows

    from gpureg.cli import _exact_floats

    frame = pd.read_csv(paths[1], **_exact_floats(pd))
    columns = list(dict.fromkeys(k for r in rows for k in r))
    assert list(frame.columns) == columns
    assert len(frame) == len(rows)
    for i, row in enumerate(rows):
        for key in columns:
            got, want = frame.at[i, key], row.get(key)
            if want is None:
                assert pd.isna(got), (key, got)
            elif isinstance(want, float):
                assert got == want, key
            elif isinstance(want, bool):
                assert bool(got) is want, key
            else:
                assert got == want, key


def test_gpu_summary_judges_each_figure_against_its_target(tmp_path, capsys):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parent.parent / "benchmarks" / "gpu_summary.py"
    spec = importlib.util.spec_from_file_location("gpu_summary", path)
    summary = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(summary)
    (tmp_path / "pytest_gpu.xml").write_text(
        '<testsuites><testsuite tests="3" failures="1" errors="0" skipped="0">'
        '<testcase classname="tests.test_x" name="test_a"/>'
        '<testcase classname="tests.test_x" name="test_b"><failure/></testcase>'
        '<testcase classname="tests.test_x" name="test_c"/></testsuite></testsuites>'
    )
    gpu = dict(
        backend="gpureg-gpu",
        correct=True,
        mse_path_max_rel_diff_vs_cpu=1e-5,
        max_gap_ratio=0.5,
        fits_per_s=1e5,
    )
    (tmp_path / "gpu_bench.json").write_text(
        json.dumps(
            [
                dict(gpu, workload="W1", wall_s_best=0.04, target_wall_s=0.05),
                dict(gpu, workload="W2", wall_s_best=2.5, target_wall_s=2.0),
            ]
        )
    )
    (tmp_path / "dropout_bench.json").write_text(
        json.dumps(
            [
                dict(
                    backend="gpureg",
                    dtype="bfloat16",
                    direction="forward",
                    mode="seeded",
                    gb_per_s=3900.0,
                    fraction_of_copy=0.91,
                    target_fraction=0.9,
                    seconds=1.0,
                ),
                dict(
                    backend="torch",
                    dtype="bfloat16",
                    direction="forward",
                    mode="torch (byte mask)",
                    seconds=1.1,
                ),
            ]
        )
    )
    (tmp_path / "c1_gpu.json").write_text(
        json.dumps(
            [
                dict(stage="check", correct=True, fraction_certified=1.0,
                     max_objective_diff_over_gap_tol=0.1, gpu_over_cpu_speed=3.0),
                dict(stage="time", wall_s=100.0, speedup_vs_committed_sklearn=77.6),
            ]
        )
    )  # fmt: skip
    sparse = dict(wall_s=9.0, fraction_certified=1.0, speedup_vs_committed_cpu=20.9)
    (tmp_path / "sparse_quick_eps0.001_gpu.json").write_text(json.dumps([sparse]))
    assert summary.main([str(tmp_path)]) == 1  # one gpu test failed
    text = (tmp_path / "gpu_summary.txt").read_text()
    verdicts = {line[:24].strip(): line.split()[-1] for line in text.splitlines()[2:-1]}
    assert verdicts["gpu tests"] == "FAIL" and "test_x::test_b" in text
    assert verdicts["W1 wall"] == "PASS" and verdicts["W2 wall"] == "MISS"
    assert verdicts["dropout bfloat16 fwd"] == "PASS"
    assert verdicts["dropout bf16 vs torch"] == "MISS"  # 1.10x < 1.2x
    assert verdicts["C1 small vs cpu"] == "PASS" and verdicts["C1 wall (gpu)"] == "PASS"
    assert verdicts["sparse quick (gpu)"] == "PASS" and "20.9x cpu" in text
    assert verdicts["dask W1 (gpu)"] == "SKIP"  # no dask on the machine
    assert verdicts["torch dropout-add (gpu)"] == "FAIL"  # the step wrote nothing
    torch_row = dict(variant="gpureg", forward_gb_per_s=2900.0)
    torch_row.update(forward_speedup_vs_eager=2.1)
    torch_row.update(forward_backward_speedup_vs_eager=1.4)
    (tmp_path / "torch_dropout_cuda.json").write_text(json.dumps([torch_row]))
    dask = dict(workers=1, wall_s=0.6, ratio_to_single=1.2, all_certified=True)
    dask["max_abs_diff_vs_single"] = dict(coef=1e-9)
    (tmp_path / "dask_w1_gpu.json").write_text(json.dumps([{}, dask]))
    (tmp_path / "pytest_gpu.xml").write_text(
        '<testsuite tests="1" failures="0" errors="0" skipped="0">'
        '<testcase classname="t" name="a"/></testsuite>'
    )
    assert summary.main([str(tmp_path)]) == 0  # MISS is reported, not a failure
    text = (tmp_path / "gpu_summary.txt").read_text()
    assert "dask W1 gpu 1 worker     0.600 s = 1.20x single" in text
    assert "fwd 2900 GB/s, 2.10x eager; fwd+bwd 1.40x eager" in text
    capsys.readouterr()


def test_timing_synchronizes_through_the_backend_contract(monkeypatch):
    calls = []

    def fake_get_backend(name):
        return types.SimpleNamespace(synchronize=lambda: calls.append(name))

    monkeypatch.setattr(_bench, "get_backend", fake_get_backend)
    secs = _bench._timed(lambda: None, "gpu")
    assert 1 <= len(secs) <= _bench.MAX_RUNS
    assert calls == ["gpu"] * (2 * len(secs))  # before and after every call
    calls.clear()
    _bench._timed(lambda: None, "sklearn")  # not a gpureg backend: the host's
    assert set(calls) == {"cpu"}


def _imports(nodes):
    """Top-level names of the modules imported (absolutely) by AST nodes."""
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_bench_module_needs_no_cupy_and_sklearn_only_for_its_rows():
    tree = ast.parse(Path(_bench.__file__).read_text())
    # the device name and synchronization go through get_backend
    assert "cupy" not in _imports(ast.walk(tree))
    # heavy imports only inside the functions that need them
    heavy = {"sklearn", "pandas", "matplotlib", "tqdm", "numba"}
    assert not _imports(tree.body) & heavy
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gpureg._bench; "
            "print(sorted(m for m in ('cupy', 'sklearn') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_benchmarks_have_no_path_hacks():
    files = [p for p in (ROOT / "benchmarks").rglob("*") if p.suffix in (".py", ".sh")]
    assert len(files) > 10
    hack = re.compile(r"sys\.path\.(insert|append)|sys\.path\s*\+?=")
    offenders = [str(p.relative_to(ROOT)) for p in files if hack.search(p.read_text())]
    assert offenders == []
    assert (ROOT / "benchmarks" / "__init__.py").is_file()
    assert (ROOT / "benchmarks" / "suite" / "__init__.py").is_file()


_IMPORT_CHECK = """
import numpy as np
import benchmarks.bench_dropout, benchmarks.bench_gpu, benchmarks.bench_w1
import benchmarks.compare_trees, benchmarks.first_run, benchmarks.fista_work
import benchmarks.gpu_summary
import benchmarks.suite.isolate, benchmarks.suite.plot, benchmarks.suite.reference
import benchmarks.suite.run
from benchmarks import _common
from benchmarks.suite import workloads
from gpureg import _bench
from gpureg.backends import get_backend

# one generator: W1's data are gpureg bench's
X, y = _common.make_w1(300, 40, n_informative=7, rho=0.9, seed=4)
X2, y2 = _bench._make_data(300, 40, n_informative=7, rho=0.9, seed=4)
assert np.array_equal(X, X2) and np.array_equal(y, y2)
assert workloads.make_w1 is _common.make_w1
assert benchmarks.bench_w1.L1_RATIOS == [0.1, 0.5, 0.7, 0.9, 1.0]
# the records name the CPU as gpureg bench does
device = get_backend("cpu").device_name()
assert _common.cpu_device() == device
assert device.startswith(_common.cpu_name()) and "cores" not in _common.cpu_name()
env = _common.environment()
assert env["cpu"] == device and set(env) == {
    "cpu", "date", "gpureg", "numpy", "sklearn", "python"
}
print("ok")
"""


def test_benchmarks_import_as_a_package_from_the_repository_root():
    # as a user runs them (python -m benchmarks.X from the root), in a fresh
    # interpreter whose only addition to sys.path is the working directory
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_a_benchmark_script_runs_as_a_module():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu_summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 64  # usage: no OUTDIR
    assert "python -m benchmarks.gpu_summary OUTDIR" in proc.stderr
