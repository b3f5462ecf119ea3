"""The distributed path against the single process: W1 / W2 grids on 1 and 2 workers.

One run, side by side, on the CPU backend (``--backend gpu`` on a GPU machine,
one worker per GPU through ``dask_cuda.LocalCUDACluster`` when it is
installed):

1. numba warmed up;
2. for each worker count in ``--workers`` (default ``1,2``): a
   ``LocalCluster(processes=True)`` whose workers share the machine's cores
   (``threads_per_worker = cores // workers``), warmed up on a small grid
   and timed once on the grid (the first call); then ``--repeat`` pairs of
   runs, the single-process ``fit_grid`` and the same grid with
   ``client=``, one after the other with the cluster up (so both see the
   same machine), best of each;
3. checks: every fit certified; the distributed coefficient paths and CV
   errors equal the single-process ones (bit for bit on the CPU backend).

Reported per worker count: seconds, ratio to the single process, the
overhead ``(t_workers - t_single) / t_single`` and that overhead per shard.
The target of issue 18 is an overhead of at most 20% on one worker for W1.

Workloads (``--workload``): W1, 10,000 × 1,000, 5 folds × l1_ratios
[0.1, 0.5, 0.7, 0.9, 1] × 100 alphas (3,000 fits); W2, 100,000 × 2,000,
10 folds × 20 l1_ratios × 100 alphas (22,000 fits); ``--n-samples`` /
``--n-features`` shrink the design while keeping the grid.

Writes ``OUT/dask_<workload>_<backend>.json`` (rows as docs/design.md §7).

Usage::

    python -m benchmarks.bench_dask [--workload w1|w2] [--workers 1,2]
        [--repeat 3] [--backend cpu|gpu] [--n-samples N] [--n-features P]
        [--x-from-path] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import gpureg

from ._common import L1_RATIOS, environment, make_w1

TARGET_OVERHEAD = 0.20

WORKLOADS = {
    "w1": dict(n_samples=10_000, n_features=1_000, cv=5, l1_ratios=list(L1_RATIOS)),
    "w2": dict(
        n_samples=100_000,
        n_features=2_000,
        cv=10,
        l1_ratios=[float(r) for r in np.linspace(0.05, 1.0, 20)],
    ),
}


def _best(fn, repeat):
    """(best seconds, all seconds, last result) of ``repeat`` calls of ``fn``."""
    times, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, res


def _cluster(n_workers, backend):
    """A local cluster of ``n_workers`` processes sharing this machine's cores."""
    from distributed import LocalCluster

    if backend == "gpu":
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            pass
        else:
            return LocalCUDACluster(n_workers=n_workers)
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    return LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads,
        processes=True,
        dashboard_address=None,
    )


def _differences(a, b):
    """Largest |difference| of the coefficient paths and CV errors of two results."""
    return dict(
        coef=float(np.abs(a.coef_path - b.coef_path).max()),
        mse=float(np.abs(a.mse_path - b.mse_path).max()),
    )


def main(argv=None) -> int:
    """Run the benchmark; returns the exit status (3: the backend is missing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="w1")
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--n-features", type=int, default=None)
    parser.add_argument(
        "--x-from-path",
        action="store_true",
        help="save X to a .npy file that the workers read (not scattered)",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    try:
        from distributed import Client
    except ImportError:
        print("needs dask: pip install 'gpureg[dask]'", file=sys.stderr)
        return 3
    if args.backend == "gpu":
        from gpureg.backends import _gpu

        if not _gpu.is_available():
            print(f"no GPU: {_gpu.missing_reason()}", file=sys.stderr)
            return 3
    w = dict(WORKLOADS[args.workload])
    n = args.n_samples or w["n_samples"]
    p = args.n_features or w["n_features"]
    X, y = make_w1(n, p)[:2]
    kw = dict(
        l1_ratio=w["l1_ratios"], alphas=100, cv=w["cv"], tol=1e-4, backend=args.backend
    )
    small = dict(kw, alphas=5)
    gpureg.fit_grid(X[:300, :30], y[:300], **small)  # numba warm-up

    single = gpureg.fit_grid(X, y, **kw)
    X_arg = X
    if args.x_from_path:  # the workers read it; the client never sends it
        import tempfile

        folder = tempfile.mkdtemp(prefix="gpureg_bench_dask_")
        X_arg = str(Path(folder) / "X.npy")
        np.save(X_arg, X)
    full = (n, p) == (w["n_samples"], w["n_features"])
    name = args.workload.upper() + ("" if full else f"-{n}x{p}")
    base = dict(
        environment(),
        workload=name,
        n_samples=n,
        n_features=p,
        n_folds=w["cv"],
        n_l1_ratios=len(w["l1_ratios"]),
        n_alphas=100,
        n_fits=int(single.n_fits),
        tol=1e-4,
    )
    print(
        f"{name}: {n}×{p}, {w['cv']} folds × {len(w['l1_ratios'])} l1_ratios × 100 "
        f"alphas = {single.n_fits} fits; best of {args.repeat}, single process "
        "and distributed runs alternated with the cluster up"
    )
    rows = []
    for n_workers in (int(s) for s in args.workers.split(",")):
        with _cluster(n_workers, args.backend) as cluster, Client(cluster) as client:
            info = client.scheduler_info()["workers"].values()
            threads = sum(wk["nthreads"] for wk in info)
            gpureg.fit_grid(X[:300, :30], y[:300], client=client, **small)
            t0 = time.perf_counter()
            first = gpureg.fit_grid(X_arg, y, client=client, **kw)
            t_first = time.perf_counter() - t0
            all_single, all_many = [], []
            for _ in range(args.repeat):  # side by side: one of each, in turn
                t, _, single = _best(lambda: gpureg.fit_grid(X, y, **kw), 1)
                all_single.append(t)
                t, _, many = _best(
                    lambda: gpureg.fit_grid(X_arg, y, client=client, **kw), 1
                )
                all_many.append(t)
        t_single, t_many = min(all_single), min(all_many)
        diff = _differences(single, many)
        shards = int(many.timings["shards"])
        overhead = (t_many - t_single) / t_single
        row = dict(
            base,
            backend=f"gpureg-{args.backend}-dask",
            x_from="path" if args.x_from_path else "scatter",
            workers=n_workers,
            worker_threads=threads,
            single_process_s=t_single,
            single_process_runs_s=all_single,
            single_process_phases_s=dict(single.timings),
            wall_s=t_many,
            all_runs_s=all_many,
            first_call_s=t_first,
            ratio_to_single=t_many / t_single,
            overhead=overhead,
            median_run_ratio=float(np.median(np.divide(all_many, all_single))),
            shards=shards,
            overhead_per_shard_s=(t_many - t_single) / shards,
            all_certified=bool(many.converged.all() and first.converged.all()),
            max_abs_diff_vs_single=diff,
            bit_equal=diff["coef"] == 0.0 and diff["mse"] == 0.0,
            phases_s={k: float(v) for k, v in many.timings.items()},
        )
        if n_workers == 1 and args.workload == "w1":
            row["target_overhead"] = TARGET_OVERHEAD
            row["met"] = overhead <= TARGET_OVERHEAD
        rows.append(row)
        verdict = (
            f" (target <= {TARGET_OVERHEAD:.0%}: {'met' if row['met'] else 'MISSED'})"
            if "met" in row
            else ""
        )
        print(
            f"  {n_workers} worker(s), {threads} threads: {t_many:.3f} s against "
            f"{t_single:.3f} s single (first call {t_first:.3f} s) = "
            f"{t_many / t_single:.2f}× single (median of the pairs "
            f"{row['median_run_ratio']:.2f}×); overhead {overhead:+.1%}{verdict}, "
            f"{shards} shards, {row['overhead_per_shard_s'] * 1e3:+.1f} ms per "
            f"shard; max |Δcoef| {diff['coef']:.1e}, max |Δmse| {diff['mse']:.1e}; "
            f"certified {row['all_certified']}"
        )
    if args.x_from_path:
        import shutil

        shutil.rmtree(Path(X_arg).parent, ignore_errors=True)
    for row in rows:
        row["load_average"] = list(os.getloadavg()[:2])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = ("" if full else "_small") + ("_path" if args.x_from_path else "")
    path = out / f"dask_{args.workload}{suffix}_{args.backend}.json"
    path.write_text(json.dumps(rows, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
