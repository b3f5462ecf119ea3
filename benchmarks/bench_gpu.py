"""Workloads W1 and W2 on the GPU backend, checked against the CPU backend, then timed.

Workloads (data from ``benchmarks._common.make_w1``: Toeplitz(0.5)-correlated Gaussian
columns, 50 non-zero true coefficients, noise σ = 3; float64; ``alphas=100``
per l1_ratio; ``tol=1e-4``; ``cv=K`` is ``KFold(K)`` without shuffling):

* W1: X 10,000 × 1,000, 5 folds × l1_ratio [0.1, 0.5, 0.7, 0.9, 1.0]
  -> 6 × 5 × 100 = 3,000 fits.  Target: GPU wall time ≤ 0.050 s.
* W2: X 100,000 × 2,000, 10 folds × 20 l1_ratios ``linspace(0.05, 1, 20)``
  -> 11 × 20 × 100 = 22,000 fits.  Target: GPU wall time ≤ 2 s.

``--quick`` divides n_samples by 10 and n_features by 4 (a smoke run; the
targets are then not judged).

Order of work (correctness before time, docs/design.md §7):

1. ceilings of this device, measured in this run with CUDA events:
   FP64 GEMM rate (``cupy.matmul`` of two 8192 × 8192 float64 matrices) and
   device-to-device copy bandwidth (``cupy.copyto`` of a 2 GiB buffer,
   read + write bytes counted);
2. warm-up: one small GPU fit and one small CPU fit (kernel and numba
   compilation are not timed);
3. per workload: one GPU and one CPU fit compared (same alpha grid to
   rtol 1e-12, max relative difference of ``mse_path``, same ``alpha_`` /
   ``l1_ratio_``, every GPU fit certified by its duality gap, worst
   gap / threshold); then the GPU timed over ``--repeat`` runs (best and
   median), host numpy arrays in, host results out, wall clock stopped
   after ``cupy.cuda.Device().synchronize()``; the CPU timed (W1: best of
   3 runs; W2: the single checking run above, after the numba warm-up);
   scikit-learn's ``ElasticNetCV`` timed once on W1 only.

Each GPU phase reported by ``GridResult.timings`` is listed in seconds; for
``gram`` the FP64 rate assumes ``2 * n_samples * n_features**2`` flops (one
pass of XᵀX over all rows) and is set against the GEMM ceiling; for
``solve`` fits/s is ``n_fits / seconds``.  Writes ``OUT/gpu_bench.json`` (a
list of rows, rewritten after each workload) and prints a table.

Exit status: 0 all checks passed; 1 a correctness check failed; 2 a GPU run
raised (its text is in the row's ``error``); 3 no CuPy or no CUDA device.
A missed speed target is printed (MISS) but does not change the status.

Usage::

    python -m benchmarks.bench_gpu --out DIR [--quick] [--skip-sklearn]
                                   [--workloads w1,w2]

(from the repository root).
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import sklearn
from sklearn.linear_model import ElasticNetCV
from sklearn.model_selection import KFold

import gpureg

from ._common import L1_RATIOS, cpu_device, make_w1, utc_now

TOL = 1e-4
N_ALPHAS = 100
#: Same alpha grid on both backends: it is computed from the same data.
ALPHA_RTOL = 1e-12
#: Both backends stop at tol=1e-4 (duality gap), so held-out errors agree to
#: about that stopping accuracy, not to rounding (the same bound as bench_w1).
MSE_RTOL = 5e-2
#: Timed GPU repeats are cut down so that they take about this long at most.
GPU_TIME_BUDGET_S = 60.0

WORKLOADS = {
    "w1": dict(
        name="W1",
        n_samples=10_000,
        n_features=1_000,
        cv=5,
        l1_ratios=list(L1_RATIOS),
        target_s=0.050,
        time_sklearn=True,
        cpu_repeat=3,
    ),
    "w2": dict(
        name="W2",
        n_samples=100_000,
        n_features=2_000,
        cv=10,
        l1_ratios=[float(r) for r in np.linspace(0.05, 1.0, 20)],
        target_s=2.0,
        time_sklearn=False,
        cpu_repeat=0,
    ),
}


def import_cupy():
    """CuPy and the number of CUDA devices, or exit with status 3.

    Returns
    -------
    module
        The ``cupy`` module, with at least one device visible.
    """
    try:
        import cupy
    except Exception as exc:
        print(
            f"bench_gpu: CuPy is not importable ({exc.__class__.__name__}: "
            f"{exc}); nothing to benchmark",
            file=sys.stderr,
        )
        raise SystemExit(3) from None
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        n_devices, why = 0, f"{exc.__class__.__name__}: {exc}"
    else:
        why = "getDeviceCount() == 0"
    if n_devices < 1:
        print(
            f"bench_gpu: CuPy found no CUDA device ({why}); nothing to benchmark",
            file=sys.stderr,
        )
        raise SystemExit(3)
    return cupy


def environment(cp):
    """Device, driver, library versions, host and date, recorded in every row.

    Parameters
    ----------
    cp : module
        The ``cupy`` module.

    Returns
    -------
    dict
    """
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    driver = cp.cuda.runtime.driverGetVersion()
    runtime = cp.cuda.runtime.runtimeGetVersion()
    try:
        smi = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=driver_version",
                "--format=csv,noheader",
                "--id=0",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        nvidia_driver = smi.stdout.strip() or None
    except Exception:
        nvidia_driver = None
    return dict(
        device=name,
        cuda_driver_api_version=driver,
        cuda_driver_api=f"{driver // 1000}.{driver % 1000 // 10}",
        nvidia_driver=nvidia_driver,
        cuda_runtime_version=runtime,
        cuda_runtime=f"{runtime // 1000}.{runtime % 1000 // 10}",
        cupy=cp.__version__,
        numpy=np.__version__,
        numba=numba.__version__,
        sklearn=sklearn.__version__,
        gpureg=gpureg.__version__,
        python=platform.python_version(),
        cpu=cpu_device(),
        hostname=socket.gethostname(),
        date=utc_now(),
    )


def event_seconds(cp, fn, repeats):
    """Seconds of each of ``repeats`` calls of ``fn``, timed with CUDA events.

    Parameters
    ----------
    cp : module
    fn : callable
        Enqueues device work on the current stream.
    repeats : int

    Returns
    -------
    list of float
    """
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    seconds = []
    for _ in range(repeats):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        seconds.append(cp.cuda.get_elapsed_time(start, stop) / 1e3)
    return seconds


def gemm_seconds(cp, n, repeats):
    """Seconds of ``cupy.matmul`` of two ``(n, n)`` float64 matrices.

    Parameters
    ----------
    cp : module
    n, repeats : int

    Returns
    -------
    list of float
        One per timed product, after one untimed warm-up product.
    """
    A = cp.random.standard_normal((n, n), dtype=cp.float64)
    B = cp.random.standard_normal((n, n), dtype=cp.float64)
    C = cp.empty((n, n), dtype=cp.float64)
    cp.matmul(A, B, out=C)  # warm-up (cuBLAS handle, heuristics)
    return event_seconds(cp, lambda: cp.matmul(A, B, out=C), repeats)


def copy_seconds(cp, n_elements, repeats):
    """Seconds of ``cupy.copyto(dst, src)`` of ``n_elements`` float64 values.

    Parameters
    ----------
    cp : module
    n_elements, repeats : int

    Returns
    -------
    list of float
        One per timed copy, after one untimed warm-up copy.
    """
    src = cp.ones(n_elements, dtype=cp.float64)
    dst = cp.empty_like(src)
    cp.copyto(dst, src)  # warm-up
    return event_seconds(cp, lambda: cp.copyto(dst, src), repeats)


def measure_ceilings(cp, gemm_n=8192, copy_gib=2.0, repeats=5):
    """The device's FP64 GEMM rate and copy bandwidth, measured now.

    Parameters
    ----------
    cp : module
    gemm_n : int, default=8192
        ``cupy.matmul`` of two ``(gemm_n, gemm_n)`` float64 matrices;
        ``2 * gemm_n**3`` flops per product.
    copy_gib : float, default=2.0
        ``cupy.copyto(dst, src)`` of a float64 buffer of that many GiB;
        ``2 * nbytes`` (read + write) per copy.
    repeats : int, default=5
        Timed calls after one warm-up call; best and median are kept.

    Returns
    -------
    dict
        ``fp64_gemm_tflops`` and ``copy_gb_per_s`` (best of the repeats,
        1 GB = 1e9 bytes), their medians, and how each was measured;
        ``fp64_gemm_error`` / ``copy_error`` instead if one failed.
    """
    out = {}
    pool = cp.get_default_memory_pool()
    try:
        secs = gemm_seconds(cp, gemm_n, repeats)
        flops = 2.0 * gemm_n**3
        out.update(
            fp64_gemm_tflops=flops / min(secs) / 1e12,
            fp64_gemm_tflops_median=flops / float(np.median(secs)) / 1e12,
            fp64_gemm_how=(
                f"cupy.matmul of two {gemm_n}x{gemm_n} float64 "
                f"matrices, 2*n^3 flops, best of {repeats} "
                "(CUDA events)"
            ),
        )
    except Exception as exc:
        out["fp64_gemm_error"] = f"FP64 GEMM ceiling failed: {error_text(exc)}"
    pool.free_all_blocks()
    try:
        n_elements = int(copy_gib * 2**30) // 8
        secs = copy_seconds(cp, n_elements, repeats)
        nbytes = 2.0 * 8 * n_elements
        out.update(
            copy_gb_per_s=nbytes / min(secs) / 1e9,
            copy_gb_per_s_median=nbytes / float(np.median(secs)) / 1e9,
            copy_how=(
                f"cupy.copyto of a {copy_gib:g} GiB float64 buffer, "
                f"read+write bytes, best of {repeats} (CUDA events)"
            ),
        )
    except Exception as exc:
        out["copy_error"] = f"copy ceiling failed: {error_text(exc)}"
    pool.free_all_blocks()
    return out


def gpu_phases(timings, n_samples, n_features, itemsize, n_fits, ceilings):
    """Per-phase seconds of a GPU fit, with the rates a simple model allows.

    Parameters
    ----------
    timings : dict
        ``GridResult.timings``: phase name -> seconds.
    n_samples, n_features, itemsize, n_fits : int
    ceilings : dict
        From :func:`measure_ceilings`.

    Returns
    -------
    dict
        phase -> ``{"seconds": ...}``, plus for ``gram``: ``tflops`` from
        ``2 * n_samples * n_features**2`` flops and its fraction of the GEMM
        ceiling, and a lower bound on bandwidth from reading X once
        (``n_samples * n_features * itemsize`` bytes) and its fraction of the
        copy ceiling; for ``solve``: ``fits_per_s = n_fits / seconds``; for
        ``transfer``: GB/s of X and y (``(n_samples * n_features +
        n_samples) * itemsize`` bytes; a host link, not set against the
        device-memory ceiling).  Other phases carry seconds only.
    """
    gemm = ceilings.get("fp64_gemm_tflops")
    copy = ceilings.get("copy_gb_per_s")
    phases = {}
    for name, seconds in timings.items():
        row = {"seconds": float(seconds)}
        if seconds > 0 and name == "gram":  # always built on the device
            flops = 2.0 * n_samples * n_features**2
            min_bytes = float(n_samples * n_features * itemsize)
            row.update(
                where="device",
                flops_model="2 * n_samples * n_features**2 (one pass of X^T X)",
                tflops=flops / seconds / 1e12,
                fraction_of_gemm_ceiling=(
                    flops / seconds / 1e12 / gemm if gemm else None
                ),
                bytes_model="n_samples * n_features * itemsize (X read once)",
                gb_per_s_lower_bound=min_bytes / seconds / 1e9,
                fraction_of_copy_ceiling_lower_bound=(
                    min_bytes / seconds / 1e9 / copy if copy else None
                ),
            )
        elif seconds > 0 and name == "solve":
            row["fits_per_s"] = n_fits / seconds
        elif seconds > 0 and name == "transfer":
            nbytes = float((n_samples * n_features + n_samples) * itemsize)
            row.update(
                bytes_model="(n_samples * n_features + n_samples) * "
                "itemsize (X and y to the device)",
                gb_per_s=nbytes / seconds / 1e9,
            )
        phases[name] = row
    return phases


def worst_gap_ratio(res):
    """Largest ``dual_gap / gap_tol`` over every fit of a GridResult.

    Parameters
    ----------
    res : GridResult

    Returns
    -------
    float
        ``<= 1`` when every fit is certified.
    """
    return float(np.max(res.dual_gap / res.gap_tol[:, None, None]))


def compare(gpu, cpu):
    """GPU result checked against the CPU result of the same grid.

    Parameters
    ----------
    gpu, cpu : GridResult

    Returns
    -------
    dict
        ``same_alpha_grid`` (rtol 1e-12), ``mse_path_max_rel_diff_vs_cpu``,
        ``same_best_as_cpu`` (``alpha_`` to rtol 1e-12 and equal
        ``l1_ratio_``), ``all_certified`` (every GPU fit), ``max_gap_ratio``
        (GPU), ``cpu_all_certified``, ``cpu_max_gap_ratio`` and ``correct``,
        the conjunction with ``mse_path`` within ``MSE_RTOL``.
    """
    same_grid = bool(
        gpu.alphas.shape == cpu.alphas.shape
        and np.allclose(gpu.alphas, cpu.alphas, rtol=ALPHA_RTOL, atol=0.0)
    )
    if gpu.mse_path.shape == cpu.mse_path.shape:
        mse_rel = float(
            np.max(np.abs(gpu.mse_path - cpu.mse_path) / np.abs(cpu.mse_path))
        )
    else:
        mse_rel = float("inf")
    same_best = bool(
        np.isclose(gpu.alpha_, cpu.alpha_, rtol=ALPHA_RTOL, atol=0.0)
        and gpu.l1_ratio_ == cpu.l1_ratio_
    )
    certified = bool(gpu.converged.all())
    check = dict(
        same_alpha_grid=same_grid,
        mse_path_max_rel_diff_vs_cpu=mse_rel,
        mse_path_rtol=MSE_RTOL,
        same_best_as_cpu=same_best,
        all_certified=certified,
        max_gap_ratio=worst_gap_ratio(gpu),
        cpu_all_certified=bool(cpu.converged.all()),
        cpu_max_gap_ratio=worst_gap_ratio(cpu),
    )
    check["correct"] = bool(
        same_grid and mse_rel <= MSE_RTOL and same_best and certified
    )
    return check


def timed_runs(fn, repeats, sync=None):
    """Wall-clock seconds of ``repeats`` calls of ``fn`` and the fastest result.

    Parameters
    ----------
    fn : callable
        Returns a GridResult with host (numpy) arrays.
    repeats : int
    sync : callable, optional
        Called before starting and before stopping the clock
        (``cupy.cuda.Device().synchronize``), so queued device work counts.

    Returns
    -------
    seconds : list of float
    best : GridResult
        The result of the fastest call (its ``timings`` are reported).
    """
    seconds, best = [], None
    for _ in range(repeats):
        if sync is not None:
            sync()
        t0 = time.perf_counter()
        res = fn()
        if sync is not None:
            sync()
        seconds.append(time.perf_counter() - t0)
        if seconds[-1] == min(seconds):
            best = res
    return seconds, best


def error_text(exc):
    """One string for an exception: its class and message."""
    return f"{exc.__class__.__name__}: {exc}"


def run_workload(key, args, cp, env, ceilings, write_rows):
    """Check, then time, one workload; return its rows and status.

    Parameters
    ----------
    key : {'w1', 'w2'}
    args : argparse.Namespace
    cp : module
    env : dict
        From :func:`environment`.
    ceilings : dict
        From :func:`measure_ceilings`.
    write_rows : callable
        Called with the rows so far when a GPU run fails.

    Returns
    -------
    rows : list of dict
    status : {'ok', 'incorrect', 'error'}
    """
    spec = WORKLOADS[key]
    n, p = spec["n_samples"], spec["n_features"]
    if args.quick:
        n, p = n // 10, p // 4
    cv, l1_ratios = spec["cv"], spec["l1_ratios"]
    n_fits = (cv + 1) * len(l1_ratios) * N_ALPHAS
    workload = spec["name"] + ("-quick" if args.quick else "")
    target = None if args.quick else spec["target_s"]
    t0 = time.perf_counter()
    X, y = make_w1(n, p, n_informative=min(50, p // 4))
    print(
        f"\n{workload}: X {n:,}×{p:,} float64, {cv} folds × {len(l1_ratios)} "
        f"l1_ratios × {N_ALPHAS} alphas + full path = {n_fits:,} fits, "
        f"tol={TOL:g} (data made in {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    common = dict(
        env,
        workload=workload,
        dtype=str(X.dtype),
        n_samples=n,
        n_features=p,
        n_folds=cv,
        n_l1_ratios=len(l1_ratios),
        n_alphas=N_ALPHAS,
        tol=TOL,
        ceilings=ceilings,
    )
    sync = cp.cuda.Device().synchronize

    def fit(backend):
        return gpureg.fit_grid(
            X, y, l1_ratio=l1_ratios, alphas=N_ALPHAS, cv=cv, tol=TOL, backend=backend
        )

    # 1. correctness: one GPU fit against one CPU fit (the CPU one is timed
    #    by the wall clock too; on W2 it is the CPU's only timed run)
    try:
        sync()
        t0 = time.perf_counter()
        gpu_res = fit("gpu")
        sync()
        gpu_check_s = time.perf_counter() - t0
    except Exception as exc:
        row = dict(common, backend="gpureg-gpu", stage="check", error=error_text(exc))
        print(f"  gpureg gpu raised: {row['error']}", flush=True)
        write_rows([row])
        return [row], "error"
    t0 = time.perf_counter()
    cpu_res = fit("cpu")
    cpu_check_s = time.perf_counter() - t0
    check = compare(gpu_res, cpu_res)
    print(
        f"  check gpu vs cpu: same alpha grid {check['same_alpha_grid']}; "
        f"mse_path max rel diff {check['mse_path_max_rel_diff_vs_cpu']:.2e} "
        f"(≤ {MSE_RTOL:g}); same alpha_/l1_ratio_ {check['same_best_as_cpu']}; "
        f"all {gpu_res.n_fits:,} gpu fits certified {check['all_certified']} "
        f"(worst gap/tol {check['max_gap_ratio']:.4g}); "
        f"-> {'OK' if check['correct'] else 'FAILED'}",
        flush=True,
    )

    # 2. GPU timing, host arrays in, host results out (fewer repeats if the
    #    checking run says they would take over GPU_TIME_BUDGET_S)
    repeats = max(1, min(args.repeat, int(GPU_TIME_BUDGET_S / max(gpu_check_s, 1e-9))))
    try:
        secs, best = timed_runs(lambda: fit("gpu"), repeats, sync)
    except Exception as exc:
        row = dict(
            common, backend="gpureg-gpu", stage="timing", error=error_text(exc), **check
        )
        print(f"  gpureg gpu raised while timed: {row['error']}", flush=True)
        write_rows([row])
        return [row], "error"
    wall = min(secs)
    gpu_row = dict(
        common,
        backend="gpureg-gpu",
        mode=gpu_res.mode,
        n_fits=gpu_res.n_fits,
        wall_s_best=wall,
        wall_s_median=float(np.median(secs)),
        all_runs_s=secs,
        n_runs=len(secs),
        fits_per_s=gpu_res.n_fits / wall,
        wall_clock="time.perf_counter around fit_grid(numpy X, y) -> host "
        "GridResult, cupy.cuda.Device().synchronize() before start "
        "and stop",
        target_wall_s=target,
        target_met=None if target is None else bool(wall <= target),
        timings=dict(best.timings),
        phases=gpu_phases(best.timings, n, p, X.itemsize, gpu_res.n_fits, ceilings),
        **check,
    )
    rows = [gpu_row]

    # 3. CPU timing (W1: best of 3; W2: the checking run) and scikit-learn (W1)
    if spec["cpu_repeat"] > 0:
        cpu_secs, cpu_best = timed_runs(lambda: fit("cpu"), spec["cpu_repeat"])
        cpu_how = f"best of {len(cpu_secs)} runs after the checking run"
    else:
        cpu_secs, cpu_best = [cpu_check_s], cpu_res
        cpu_how = "the single checking run (after the numba warm-up)"
    rows.append(
        dict(
            common,
            backend="gpureg-cpu",
            device=env["cpu"],
            gpu_device=env["device"],
            mode=cpu_res.mode,
            n_fits=cpu_res.n_fits,
            wall_s_best=min(cpu_secs),
            wall_s_median=float(np.median(cpu_secs)),
            all_runs_s=cpu_secs,
            n_runs=len(cpu_secs),
            fits_per_s=cpu_res.n_fits / min(cpu_secs),
            wall_clock=cpu_how,
            timings=dict(cpu_best.timings),
            max_gap_ratio=check["cpu_max_gap_ratio"],
            all_certified=check["cpu_all_certified"],
        )
    )
    if spec["time_sklearn"] and not args.skip_sklearn:
        t0 = time.perf_counter()
        sk = ElasticNetCV(
            l1_ratio=l1_ratios, alphas=N_ALPHAS, cv=KFold(cv), tol=TOL
        ).fit(X, y)
        sk_s = time.perf_counter() - t0
        sk_fits = cv * len(l1_ratios) * N_ALPHAS + 1
        same_grid = bool(np.allclose(sk.alphas_, gpu_res.alphas, rtol=1e-10))
        sk_rel = (
            float(np.max(np.abs(gpu_res.mse_path - sk.mse_path_) / sk.mse_path_))
            if same_grid
            else None
        )
        rows.append(
            dict(
                common,
                backend="sklearn-ElasticNetCV",
                device=env["cpu"],
                gpu_device=env["device"],
                n_fits=sk_fits,
                wall_s_best=sk_s,
                wall_s_median=sk_s,
                all_runs_s=[sk_s],
                n_runs=1,
                fits_per_s=sk_fits / sk_s,
                wall_clock="one run",
                gpu_mse_path_max_rel_diff_vs_sklearn=sk_rel,
                same_alpha_grid_as_gpu=same_grid,
                same_best_as_gpu=bool(
                    np.isclose(sk.alpha_, gpu_res.alpha_, rtol=1e-10)
                    and sk.l1_ratio_ == gpu_res.l1_ratio_
                ),
            )
        )
    print_table(rows)
    return rows, "ok" if check["correct"] else "incorrect"


def print_table(rows):
    """Print one workload's rows: times, fits/s, target, then the GPU phases.

    Parameters
    ----------
    rows : list of dict
        As built by :func:`run_workload`; the first is the GPU row.
    """
    print(
        f"  {'backend':26}{'best (s)':>10}{'median (s)':>12}{'runs':>6}"
        f"{'fits':>8}{'fits/s':>11}  target"
    )
    for row in rows:
        if row["backend"] == "gpureg-gpu" and row["target_wall_s"] is not None:
            verdict = "PASS" if row["target_met"] else "MISS"
            target = f"≤ {row['target_wall_s']:.3f} s {verdict}"
        elif row["backend"] == "gpureg-gpu":
            target = "n/a (quick)"
        else:
            target = ""
        label = {
            "gpureg-gpu": "gpureg gpu",
            "gpureg-cpu": "gpureg cpu (numba)",
            "sklearn-ElasticNetCV": "sklearn ElasticNetCV",
        }[row["backend"]]
        print(
            f"  {label:26}{row['wall_s_best']:>10.4f}{row['wall_s_median']:>12.4f}"
            f"{row['n_runs']:>6}{row['n_fits']:>8,}{row['fits_per_s']:>11,.0f}"
            f"  {target}"
        )
    gpu = rows[0]
    print("  gpu phases of the fastest run:")
    for name, phase in gpu["phases"].items():
        extra = ""
        if "tflops" in phase:
            frac = phase["fraction_of_gemm_ceiling"]
            extra = f"  {phase['tflops']:.2f} TFLOP/s from 2·n·p² flops" + (
                f" = {100 * frac:.1f}% of the measured GEMM ceiling"
                if frac is not None
                else ""
            )
        elif "fits_per_s" in phase:
            extra = f"  {phase['fits_per_s']:,.0f} fits/s"
        elif "gb_per_s" in phase:
            extra = f"  {phase['gb_per_s']:.1f} GB/s of X and y"
        print(f"    {name:10}{phase['seconds']:>10.4f} s{extra}")
    if "gram" not in gpu["phases"]:
        print("    (no 'gram' phase in GridResult.timings: no GEMM-ceiling fraction)")
    for row in rows[1:]:
        print(
            f"  {row['backend']} / gpu best: "
            f"{row['wall_s_best'] / gpu['wall_s_best']:.1f}x"
        )


def main(argv=None):
    """Parse arguments, measure ceilings, warm up, run workloads, write JSON.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        Exit status (see the module docstring).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for gpu_bench.json")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="n_samples / 10 and n_features / 4 (smoke run)",
    )
    parser.add_argument(
        "--skip-sklearn",
        action="store_true",
        help="do not time scikit-learn's ElasticNetCV on W1",
    )
    parser.add_argument(
        "--workloads",
        default="w1,w2",
        help="comma-separated subset of w1,w2 (default: both)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="timed GPU runs per workload (best and median "
        "reported; fewer if one run takes over "
        f"{GPU_TIME_BUDGET_S:g} s / repeat)",
    )
    parser.add_argument(
        "--gemm-n", type=int, default=8192, help="matrix size of the FP64 GEMM ceiling"
    )
    parser.add_argument(
        "--copy-gib",
        type=float,
        default=2.0,
        help="buffer size (GiB) of the copy-bandwidth ceiling",
    )
    args = parser.parse_args(argv)
    keys = [k.strip().lower() for k in args.workloads.split(",") if k.strip()]
    unknown = sorted(set(keys) - set(WORKLOADS))
    if unknown or not keys:
        parser.error(f"--workloads: unknown {unknown}; choose from w1,w2")

    cp = import_cupy()
    t_start = time.perf_counter()
    env = environment(cp)
    print(
        f"device: {env['device']}; CUDA driver API {env['cuda_driver_api']} "
        f"(nvidia driver {env['nvidia_driver']}), runtime {env['cuda_runtime']}; "
        f"CuPy {env['cupy']}, numpy {env['numpy']}, numba {env['numba']}, "
        f"scikit-learn {env['sklearn']}, gpureg {env['gpureg']}; "
        f"CPU {env['cpu']}; {env['hostname']} {env['date']}",
        flush=True,
    )

    ceilings = measure_ceilings(cp, args.gemm_n, args.copy_gib)
    notes = "".join(
        f"; {ceilings[k]}" for k in ("fp64_gemm_error", "copy_error") if k in ceilings
    )
    print(
        f"ceilings: FP64 GEMM {ceilings.get('fp64_gemm_tflops', np.nan):.2f} "
        f"TFLOP/s, device copy {ceilings.get('copy_gb_per_s', np.nan):.0f} GB/s "
        f"(read+write){notes}",
        flush=True,
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "gpu_bench.json"
    rows = []

    def write_rows(extra=()):
        path.write_text(json.dumps(rows + list(extra), indent=2, default=str))

    statuses = []
    # warm-up: kernel compilation and numba compilation, never timed
    Xs, ys = make_w1(200, 20, n_informative=5, seed=1)
    t0 = time.perf_counter()
    gpureg.fit_grid(Xs, ys, l1_ratio=L1_RATIOS, alphas=5, cv=5, backend="cpu")
    try:
        gpureg.fit_grid(Xs, ys, l1_ratio=L1_RATIOS, alphas=5, cv=5, backend="gpu")
        cp.cuda.Device().synchronize()
        print(f"warm-up (compilation) {time.perf_counter() - t0:.1f} s", flush=True)
    except Exception as exc:
        rows.append(
            dict(
                env,
                workload="warm-up",
                backend="gpureg-gpu",
                n_samples=200,
                n_features=20,
                ceilings=ceilings,
                error=error_text(exc),
            )
        )
        statuses.append("error")
        print(f"warm-up: gpureg gpu raised {error_text(exc)}", flush=True)
    write_rows()

    for key in keys:
        new, status = run_workload(key, args, cp, env, ceilings, write_rows)
        rows.extend(new)
        statuses.append(status)
        write_rows()
    print(f"\nwrote {path} ({len(rows)} rows) in {time.perf_counter() - t_start:.0f} s")
    if "error" in statuses:
        print("bench_gpu: a GPU run raised (see the rows' 'error')", file=sys.stderr)
        return 2
    if "incorrect" in statuses:
        print("bench_gpu: a correctness check failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
