"""Sparse X: a large scipy.sparse grid within a memory budget, peak RSS recorded.

The issue-17 workload: X is 200,000 × 100,000 CSC with 0.05% density (100
non-zeros per column at random rows, 10 M in all, standard normal values),
``y = X β + noise`` with 20 non-zero coefficients; 5 folds (KFold) ×
l1_ratios [0.5, 0.9, 1.0] × 100 alphas, tol 1e-4, CPU backend (``--backend
gpu``: the GPU's, with X on the device as CSR and cuSPARSE products),
``memory_limit`` = the 3 GiB target (the planner cuts the jobs to fit).

Prints and records the wall time, the certified fraction, the chosen
``alpha_``/``l1_ratio_``, the process's peak resident memory (``ru_maxrss``,
which includes building X) and the peak during ``fit_grid`` alone over what
was resident before it, against the target of 3 GiB.  A dense copy of X
would take 149 GiB: the run itself shows no path densifies it.

Usage::

    python -m benchmarks.bench_sparse [--quick] [--backend cpu|gpu] [--out DIR]

(``--quick``: 20,000 × 10,000, the same density.)  On the GPU the record
also holds the CuPy pool's bytes after the fit (its high-water mark: the
pool keeps what it allocated) and the ratio to the committed CPU figure of
the same workload (``sparse[_quick]_eps…_cpu.json``, another machine:
labelled as such).  Exit status 3 when ``--backend gpu`` cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import gpureg

from ._common import environment, gpu_device
from .bench_gpu import import_cupy

TARGET_BYTES = 3 * 2**30
L1_RATIOS = [0.5, 0.9, 1.0]


def make_sparse(n, p, per_column=100, n_informative=20, seed=0):
    """CSC X with ``per_column`` non-zeros per column, and y = X β + noise."""
    rng = np.random.default_rng(seed)
    indptr = np.arange(0, (p + 1) * per_column, per_column, dtype=np.int64)
    indices = np.empty(p * per_column, dtype=np.int32)
    for j in range(p):
        indices[j * per_column : (j + 1) * per_column] = np.sort(
            rng.choice(n, per_column, replace=False)
        )
    data = rng.standard_normal(p * per_column)
    X = sp.csc_matrix((data, indices, indptr), shape=(n, p))
    beta = np.zeros(p)
    beta[rng.choice(p, n_informative, replace=False)] = (
        rng.choice([-1, 1], n_informative) * 3
    )
    y = X @ beta + rng.standard_normal(n)
    return X, y


def _rss() -> int:
    """Peak resident memory of this process so far, in bytes (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 × 10,000")
    parser.add_argument(
        "--eps",
        type=float,
        default=1e-3,
        help="alpha_min / alpha_max of the grid (default 1e-3, scikit-learn's)",
    )
    parser.add_argument("--backend", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    device = {}
    if args.backend == "gpu":
        cupy = import_cupy()  # exits with status 3 without CuPy or a device
        device = dict(device=gpu_device(), cupy=cupy.__version__)
    n, p = (20_000, 10_000) if args.quick else (200_000, 100_000)
    # warm-up: numba compiles the sparse solver, NVRTC the kernels (not timed)
    Xw, yw = make_sparse(300, 200, per_column=5, seed=1)
    gpureg.fit_grid(Xw, yw, l1_ratio=L1_RATIOS, alphas=5, cv=3, backend=args.backend)
    t0 = time.perf_counter()
    X, y = make_sparse(n, p)
    t_make = time.perf_counter() - t0
    before = _current_rss()
    peak_before = _rss()
    t0 = time.perf_counter()
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=L1_RATIOS,
        alphas=100,
        eps=args.eps,
        cv=5,
        tol=1e-4,
        backend=args.backend,
        memory_limit=TARGET_BYTES,
        progress=True,
    )
    wall = time.perf_counter() - t0
    peak = _rss()
    row = dict(
        environment(),
        **device,
        workload=f"sparse{'-quick' if args.quick else ''}",
        n_samples=n,
        n_features=p,
        nnz=int(X.nnz),
        density=X.nnz / (n * p),
        n_folds=5,
        l1_ratios=L1_RATIOS,
        n_alphas=100,
        eps=args.eps,
        backend=f"gpureg-{args.backend}",
        mode=res.mode,
        wall_s=wall,
        make_s=t_make,
        n_fits=int(res.n_fits),
        fraction_certified=float(res.converged.mean()),
        alpha_=float(res.alpha_),
        l1_ratio_=float(res.l1_ratio_),
        nnz_chosen=int(np.count_nonzero(res.coef_)),
        rss_before_fit_bytes=before,
        peak_rss_before_fit_bytes=peak_before,
        peak_rss_bytes=peak,
        fit_peak_over_before_bytes=peak - before,
        target_bytes=TARGET_BYTES,
        load_average=list(os.getloadavg()[:2]),
        met=peak <= TARGET_BYTES,
        timings=dict(res.timings),
    )
    print(
        f"sparse {n:,}×{p:,}, {X.nnz:,} non-zeros: {wall:.1f} s, {res.mode} form, "
        f"{res.n_fits} fits, certified {res.converged.mean():.4f}, alpha_ "
        f"{res.alpha_:.4g}, l1_ratio_ {res.l1_ratio_}; peak RSS "
        f"{peak / 2**30:.2f} GiB (before the fit {before / 2**30:.2f} GiB; target "
        f"{TARGET_BYTES / 2**30:g} GiB: {'met' if row['met'] else 'MISSED'})"
    )
    stem = f"sparse{'_quick' if args.quick else ''}_eps{args.eps:g}"
    if args.backend == "gpu":
        row.update(_gpu_figures(stem, wall))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{stem}_{args.backend}.json"
    (out / name).write_text(json.dumps([row], indent=2, default=str))
    return 0


def _gpu_figures(stem, wall):
    """The CuPy pool's bytes and the ratio to the committed CPU record."""
    import cupy

    got = dict(
        device_pool_bytes=int(cupy.get_default_memory_pool().total_bytes()),
    )
    committed = Path(__file__).parent / "results" / f"{stem}_cpu.json"
    if committed.exists():
        cpu = json.loads(committed.read_text())[0]
        got["committed_cpu_wall_s"] = cpu["wall_s"]
        got["speedup_vs_committed_cpu"] = cpu["wall_s"] / wall
        print(
            f"GPU {wall:.1f} s vs the committed CPU record {cpu['wall_s']:.1f} s "
            f"({cpu.get('cpu', 'another machine')}): "
            f"{cpu['wall_s'] / wall:.1f}× (not side by side)"
        )
    print(f"CuPy pool after the fit: {got['device_pool_bytes'] / 2**30:.2f} GiB")
    return got


if __name__ == "__main__":
    sys.exit(main())
