"""Time the same grids with two source trees of gpureg, side by side.

For a change that must not alter results (a refactor, a new threading
scheme), run each workload in a fresh subprocess per tree, alternating
trees, after a warm-up call that compiles (or loads) the numba solver;
report the median times, their ratio and the largest difference between
the two trees' coefficient paths and CV errors.

Usage::

    python -m benchmarks.compare_trees --old /path/to/old/checkout \\
        [--new .] [--repeats 3] [--out benchmarks/results/compare.json]

(from the repository root).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: name: (n_samples, n_features, n_l1_ratios, cv); 100 alphas, tol 1e-4
WORKLOADS = {
    "W1 10,000 × 1,000 (Gram)": (10_000, 1_000, 5, 5),
    "R 500 × 5,000 (residual)": (500, 5_000, 3, 5),
}

_CHILD = r"""
import sys, time, numpy as np
import gpureg
n, p, n_l1, cv, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
rng = np.random.default_rng(0)
rho = 0.5
Z = rng.standard_normal((n, p))
X = np.empty_like(Z)
X[:, 0] = Z[:, 0]
for j in range(1, p):  # AR(1) columns: Toeplitz(rho) correlation
    X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
w = np.zeros(p)
w[rng.choice(p, 50, replace=False)] = rng.standard_normal(50)
y = X @ w + 3 * rng.standard_normal(n)
l1 = np.linspace(0.1, 1.0, n_l1)
gpureg.fit_grid(X[:200, :50], y[:200], l1_ratio=l1, alphas=5, cv=3)  # compile
t0 = time.perf_counter()
res = gpureg.fit_grid(X, y, l1_ratio=l1, alphas=100, cv=cv, backend="cpu")
elapsed = time.perf_counter() - t0
np.savez(out, coef=res.coef_path, mse=res.mse_path, t=elapsed)
"""


def _run(tree: Path, shape, out: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, shape), str(out)],
        check=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    return float(np.load(out)["t"])


def main(argv=None) -> int:
    """Run the comparison; print a table and write a JSON record."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, type=Path, help="the older checkout")
    ap.add_argument("--new", default=Path("."), type=Path, help="the newer checkout")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="JSON record to write")
    args = ap.parse_args(argv)
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, shape in WORKLOADS.items():
            times = {"old": [], "new": []}
            for _ in range(args.repeats):
                for label, tree in trees.items():
                    times[label].append(_run(tree, shape, Path(tmp, f"{label}.npz")))
            old, new = np.load(Path(tmp, "old.npz")), np.load(Path(tmp, "new.npz"))
            row = {
                "workload": name,
                "old_s": times["old"],
                "new_s": times["new"],
                "old_median_s": float(np.median(times["old"])),
                "new_median_s": float(np.median(times["new"])),
                "max_abs_coef_diff": float(np.max(np.abs(old["coef"] - new["coef"]))),
                "max_rel_mse_diff": float(
                    np.max(np.abs(old["mse"] - new["mse"]) / np.abs(old["mse"]))
                ),
            }
            row["new_over_old"] = row["new_median_s"] / row["old_median_s"]
            rows.append(row)
            print(
                f"{name:28s} old {row['old_median_s']:7.2f} s  new "
                f"{row['new_median_s']:7.2f} s  new/old {row['new_over_old']:.2f}  "
                f"max |Δcoef| {row['max_abs_coef_diff']:.1e}  max rel Δmse "
                f"{row['max_rel_mse_diff']:.1e}",
                flush=True,
            )
    if args.out is not None:
        record = {
            "benchmark": "compare_trees",
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "trees": {k: str(v) for k, v in trees.items()},
            "rows": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
