"""``python -m gpureg``: cross-validate an elastic-net grid on the embedded data."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None) -> int:
    """Run the demo grid on the diabetes data and print the result table.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    from . import fit_grid, load_diabetes

    parser = argparse.ArgumentParser(
        prog="gpureg",
        description="Cross-validated elastic-net grid (alpha x l1_ratio x folds) "
        "on the embedded diabetes data (Efron et al. 2004).",
    )
    parser.add_argument("--backend", default="auto",
                        choices=["auto", "cpu", "gpu", "numpy"])
    parser.add_argument("--cv", type=int, default=10, help="number of folds")
    parser.add_argument("--alphas", type=int, default=100, help="alphas per path")
    parser.add_argument("--l1-ratio", default="0,0.1,0.5,0.7,0.9,0.95,1",
                        help="comma-separated l1_ratios in [0, 1]")
    args = parser.parse_args(argv)
    try:
        l1 = [float(s) for s in args.l1_ratio.split(",")]
        X, y, names = load_diabetes()
        res = fit_grid(X, y, l1_ratio=l1, alphas=args.alphas, cv=args.cv,
                       standardize=True, backend=args.backend, progress=False)
    except (ValueError, RuntimeError, TypeError) as exc:
        print(f"gpureg: error: {exc}", file=sys.stderr)
        return 2
    print(f"Diabetes data (Efron et al. 2004): {X.shape[0]} samples, "
          f"{X.shape[1]} features, standardized, {args.cv}-fold CV\n")
    print(res.summary())
    print("\nchosen model (full data, original units):")
    print(f"  intercept  {res.intercept_:12.5g}")
    for name, w in zip(names, res.coef_, strict=True):
        print(f"  {name:<10} {w:12.5g}")
    il, ia = res.index_1se_
    nnz = int(np.count_nonzero(res.coef_path[il, ia]))
    print(f"\n1-SE model: alpha={res.alpha_1se_:.5g} with {nnz} non-zero coefficients")
    return 0


if __name__ == "__main__":
    sys.exit(main())
