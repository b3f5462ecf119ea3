"""How much work the GPU engine does on W1/W2, measured on the CPU.

The GPU backend runs batched FISTA (``gpureg/backends/_fista.py``).  Its
cost is dominated by one GEMM ``Y G_s`` per iteration over the unfinished
rows, plus one more every ``CHECK_EVERY`` iterations for the gap.  This
script runs the *same engine* on the CPU through the numba twins of the CUDA
kernels (identical iteration counts), counts the GEMM flops it issues, and
turns them into a device-time estimate at a given FP64 GEMM rate.  It is a
model, not a GPU timing: ``bench_gpu.py`` measures the real thing.

Usage::

    python -m benchmarks.fista_work [--workload w1|w1small] [--tflops 50]
        [--out benchmarks/results]

(from the repository root).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np

import gpureg
import gpureg._fit as fit_module
from gpureg.backends import _fista, get_backend
from gpureg.backends._twins import TwinOps

from ._common import L1_RATIOS, cpu_name, make_w1

SIZES = {"w1": (10_000, 1_000, 5), "w1small": (2_000, 200, 5)}


class _TwinEngine:
    """The GPU engine with the numba twins, recording every fit's iterations.

    A backend (``gpureg.backends._contract.Backend``): the CPU backend's
    functions (numpy arrays, the batch built in host memory, no device
    budget), except :meth:`solve_paths`, the GPU backend's batched FISTA on
    the twins of its CUDA kernels.
    """

    def __init__(self):
        self.host = get_backend("cpu")
        self.last = None

    def __getattr__(self, name):
        return getattr(self.host, name)

    def solve_paths(self, batch, alphas, l1_ratios, penalty_factor, **kw):
        """Solve as the GPU backend does and keep the solution."""
        sol = _fista.solve_paths_with(
            TwinOps, batch, alphas, l1_ratios, penalty_factor, **kw
        )
        self.last = sol
        return sol


def main(argv=None):
    """Run the engine on the workload and print/record the work model."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=sorted(SIZES), default="w1")
    ap.add_argument(
        "--tflops",
        type=float,
        default=50.0,
        help="FP64 GEMM rate assumed for the estimate (TFLOP/s)",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    n, p, k = SIZES[args.workload]
    X, y = make_w1(n, p)
    engine = _TwinEngine()
    fit_module.get_backend = lambda name: engine
    t0 = time.perf_counter()
    res = gpureg.fit_grid(
        X, y, l1_ratio=L1_RATIOS, alphas=100, cv=k, tol=1e-4, backend="cpu"
    )
    wall = time.perf_counter() - t0
    it = engine.last.n_iter  # (sets, l1, alphas)
    checks = np.ceil(it / _fista.CHECK_EVERY)
    gemm_flops = float(2.0 * p * p * (it.sum() + checks.sum()))
    gram_flops = 2.0 * n * p * p
    row = {
        "what": "GPU engine (batched FISTA) work on the CPU twins; device time is "
        "a model: GEMM flops / assumed rate",
        "workload": args.workload,
        "n_samples": n,
        "n_features": p,
        "n_folds": k,
        "n_fits": int(res.n_fits),
        "all_certified": bool(res.converged.all()),
        "worst_gap_ratio": float(np.max(res.dual_gap / res.gap_tol[:, None, None])),
        "fista_iterations": {
            "median": float(np.median(it)),
            "p90": float(np.percentile(it, 90)),
            "max": int(it.max()),
            "sum": int(it.sum()),
        },
        "solver_gemm_gflop": gemm_flops / 1e9,
        "gram_gemm_gflop": gram_flops / 1e9,
        "assumed_fp64_tflops": args.tflops,
        "modelled_device_ms_solver_gemms": gemm_flops / (args.tflops * 1e12) * 1e3,
        "modelled_device_ms_gram": gram_flops / (args.tflops * 1e12) * 1e3,
        "cpu_wall_s_with_twins": wall,
        "cpu": cpu_name(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    print(json.dumps(row, indent=2))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"fista_work_{args.workload}.json"
        path.write_text(json.dumps(row, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
