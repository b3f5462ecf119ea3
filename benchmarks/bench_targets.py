"""Many targets on one X: k targets on W1's design against one, side by side.

W1's design (10,000 × 1,000, Toeplitz(0.5); ``benchmarks._common.make_w1``),
5 folds (KFold) × l1_ratios [0.1, 0.5, 0.7, 0.9, 1.0] × 100 alphas, tol 1e-4,
on the CPU backend:

1. numba warm-up (not timed);
2. one target (W1's y), timed;
3. k targets (default 100: W1's y plus k - 1 others, each a different sparse
   combination of the columns plus noise), timed in one ``fit_grid`` call;
4. checks: every fit of every target certified; the first target's paths
   equal the one-target run's.

The target of issue 17 is k = 100 at most 5× the time of one target.
Writes ``OUT/targets_cpu.json`` (rows as docs/design.md §7) and prints the
ratio, with the time split (building the shared batch, solving, scoring).

Usage::

    python -m benchmarks.bench_targets [--k 100] [--quick] [--out DIR]
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

TARGET_RATIO = 5.0


def targets(X, y, k, seed=1):
    """W1's y and k - 1 more targets: sparse combinations of X plus noise."""
    rng = np.random.default_rng(seed)
    p = X.shape[1]
    B = rng.standard_normal((p, k - 1)) * (rng.random((p, k - 1)) < 50 / p)
    Y = X @ B + 3.0 * rng.standard_normal((X.shape[0], k - 1))
    return np.column_stack([y, Y])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=100, help="number of targets")
    parser.add_argument("--quick", action="store_true", help="2,000 × 200")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    n, p = (2_000, 200) if args.quick else (10_000, 1_000)
    X, y = make_w1(n, p)[:2]
    Y = targets(X, y, args.k)
    kw = dict(l1_ratio=L1_RATIOS, alphas=100, cv=5, tol=1e-4, backend="cpu")
    gpureg.fit_grid(X[:300, :30], Y[:300, :3], **{**kw, "alphas": 5})  # warm-up

    t0 = time.perf_counter()
    one = gpureg.fit_grid(X, y, **kw)
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = gpureg.fit_grid(X, Y, **kw)
    t_many = time.perf_counter() - t0

    certified = float(np.mean([r.converged.mean() for r in many]))
    same = float(np.abs(many.coef_path[0] - one.coef_path).max())
    solve = sum(r.timings["solve"] for r in many)
    score = sum(r.timings["score"] for r in many)
    ratio = t_many / t_one
    row = dict(
        environment(),
        workload=f"W1-targets{'-quick' if args.quick else ''}",
        n_samples=n,
        n_features=p,
        n_targets=args.k,
        n_fits=int(many.n_fits),
        backend="gpureg-cpu",
        one_target_s=t_one,
        one_target_timings=dict(one.timings),
        k_targets_s=t_many,
        k_targets_build_s=many.timings["build"],
        k_targets_solve_s=solve,
        k_targets_score_s=score,
        ratio=ratio,
        target_ratio=TARGET_RATIO,
        met=ratio <= TARGET_RATIO,
        fraction_certified=certified,
        first_target_max_abs_diff=same,
        load_average=list(os.getloadavg()[:2]),
    )
    print(
        f"W1 design {n}×{p}, {len(L1_RATIOS)} l1_ratios × 100 alphas × 5 folds: "
        f"1 target {t_one:.2f} s (gram {one.timings['gram']:.2f}, solve "
        f"{one.timings['solve']:.2f}); {args.k} targets {t_many:.2f} s (shared "
        f"build {many.timings['build']:.2f}, solve {solve:.2f}, score {score:.2f}) "
        f"= {ratio:.1f}x one target (target <= {TARGET_RATIO:g}x: "
        f"{'met' if row['met'] else 'MISSED'}); certified {certified:.4f}; "
        f"first target vs one-target run max |Δcoef| {same:.2e}"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"targets{'_quick' if args.quick else ''}_cpu.json"
    (out / name).write_text(json.dumps([row], indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
