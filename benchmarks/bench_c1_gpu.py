"""Workload C1 on the GPU: gpureg's binomial grid, checked against the CPU solver.

Two parts, in one run on the device machine:

1. **check** (side by side, same machine): C1's design at 1,000 × 100, the
   full grid (5 stratified folds × l1_ratios [0.1, 0.5, 0.7, 0.9, 1.0] ×
   100 alphas, tol 1e-4) on ``backend="gpu"`` and ``backend="cpu"``: the
   GPU must certify every fit, pick the same ``alpha_``/``l1_ratio_``, and
   its full-data objectives must equal the CPU's to ``gap_tol``; both wall
   times are recorded, and their ratio;
2. **C1** (10,000 × 1,000, the same grid): the GPU's wall time (the first,
   untimed call compiles the kernels), certified fraction, FISTA iterations;
   its ratio to the committed CPU figures of ``results/c1_cpu.json``
   (gpureg's CPU solver and the extrapolated LogisticRegressionCV saga
   time, both measured on the 2-core CPU, *not* in this run) is printed and
   recorded as such.

Exits 3 without CuPy or a device (as ``bench_gpu``).  Writes
``OUT/c1_gpu.json`` (rows as docs/design.md §7) and prints a table.

Usage::

    python -m benchmarks.bench_c1_gpu [--skip-full] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

import gpureg

from ._common import L1_RATIOS, environment, gpu_device, make_c1
from .bench_gpu import import_cupy

TOL, N_ALPHAS = 1e-4, 100


def _objective(X, y, w, b, alpha, rho):
    """glmnet's objective (``fit_grid``'s default: no standardization)."""
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    return loss + alpha * (rho * np.abs(w).sum() + 0.5 * (1 - rho) * w @ w)


def _grid(X, y, backend, **kw):
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        res = gpureg.fit_grid(
            X, y, family="binomial", l1_ratio=L1_RATIOS, alphas=N_ALPHAS, cv=folds,
            tol=TOL, backend=backend, **kw,
        )  # fmt: skip
        wall = time.perf_counter() - t0
    return res, wall, [str(w.message)[:200] for w in caught]


def check(cupy):
    """Part 1: GPU and CPU side by side on the small C1 design."""
    X, y, _ = make_c1(1_000, 100)
    y01 = (y == np.unique(y)[1]).astype(float)
    _grid(X, y, "gpu", max_iter=50)  # compile the kernels, untimed
    gpu, t_gpu, warn_gpu = _grid(X, y, "gpu", max_iter=20_000)
    cupy.cuda.Device().synchronize()
    cpu, t_cpu, _ = _grid(X, y, "cpu")
    worst = 0.0
    for li, rho in enumerate(L1_RATIOS):
        for ai, alpha in enumerate(gpu.alphas[li]):
            vals = [
                _objective(
                    X, y01, r.coef_path[li, ai], r.intercept_path[li, ai], alpha, rho
                )  # fmt: skip
                for r in (gpu, cpu)
            ]
            worst = max(worst, abs(vals[0] - vals[1]) / gpu.gap_tol[-1])
    ok = bool(
        gpu.converged.all()
        and worst <= 1.0
        and gpu.alpha_ == cpu.alpha_
        and gpu.l1_ratio_ == cpu.l1_ratio_
    )
    row = dict(
        workload="C1-small",
        n_samples=1_000,
        n_features=100,
        backend="gpureg-gpu",
        stage="check",
        correct=ok,
        wall_s=t_gpu,
        cpu_wall_s=t_cpu,
        gpu_over_cpu_speed=t_cpu / t_gpu,
        fraction_certified=float(gpu.converged.mean()),
        max_objective_diff_over_gap_tol=worst,
        cv_path_max_abs_diff=float(np.abs(gpu.cv_path - cpu.cv_path).max()),
        alpha_=[float(gpu.alpha_), float(cpu.alpha_)],
        fista_iters_max=int(gpu.n_iter.max()),
        warnings=warn_gpu,
    )
    print(
        f"C1 1,000 × 100: gpu {t_gpu:.2f} s, cpu {t_cpu:.2f} s "
        f"({t_cpu / t_gpu:.1f}x); certified {gpu.converged.mean():.4f}; "
        f"|ΔP|/gap_tol {worst:.2f}; alpha_ gpu {gpu.alpha_:.4g} cpu "
        f"{cpu.alpha_:.4g}; check {'PASS' if ok else 'FAIL'}"
    )
    return row


def full(cupy, results_dir):
    """Part 2: the whole C1 grid on the GPU, against the committed CPU run."""
    X, y, _ = make_c1()
    res, wall, warns = _grid(X, y, "gpu", max_iter=20_000)
    cupy.cuda.Device().synchronize()
    cpu = json.loads((results_dir / "c1_cpu.json").read_text())
    row = dict(
        workload="C1",
        n_samples=10_000,
        n_features=1_000,
        backend="gpureg-gpu",
        stage="time",
        wall_s=wall,
        n_fits=int(res.n_fits),
        fits_per_s=res.n_fits / wall,
        fraction_certified=float(res.converged.mean()),
        worst_gap_over_tol=float(np.max(res.dual_gap / res.gap_tol[:, None, None])),
        fista_iters_max=int(res.n_iter.max()),
        fista_iters_total=int(res.n_iter.sum()),
        timings=dict(res.timings),
        alpha_=float(res.alpha_),
        l1_ratio_=float(res.l1_ratio_),
        committed_cpu_gpureg_s=cpu["gpureg_s"],
        committed_sklearn_saga_extrapolated_s=cpu["sklearn_time_extrapolated_s"],
        speedup_vs_committed_gpureg_cpu=cpu["gpureg_s"] / wall,
        speedup_vs_committed_sklearn=cpu["sklearn_time_extrapolated_s"] / wall,
        warnings=warns,
    )
    print(
        f"C1 10,000 × 1,000 on the GPU: {wall:.2f} s for {res.n_fits} fits, "
        f"certified {res.converged.mean():.4f}, FISTA iterations max "
        f"{res.n_iter.max()}; vs the committed 2-core CPU figures (not this run): "
        f"gpureg cpu {cpu['gpureg_s']:.0f} s "
        f"({row['speedup_vs_committed_gpureg_cpu']:.0f}x), "
        f"saga extrapolated {cpu['sklearn_time_extrapolated_s']:.0f} s "
        f"({row['speedup_vs_committed_sklearn']:.0f}x)"
    )
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-full", action="store_true", help="part 1 only")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    cupy = import_cupy()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    common = dict(environment(), device=gpu_device(), cupy=cupy.__version__)
    rows = [dict(common, **check(cupy))]
    if not args.skip_full:
        rows.append(dict(common, **full(cupy, Path(__file__).parent / "results")))
    (out / "c1_gpu.json").write_text(json.dumps(rows, indent=2, default=str))
    return 0 if rows[0]["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
