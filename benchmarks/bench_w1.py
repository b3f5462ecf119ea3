"""Workload W1: gpureg's CPU backend versus scikit-learn's ElasticNetCV, side by side.

X is 10,000 × 1,000 with Toeplitz(0.5)-correlated columns, 50 non-zero true
coefficients and noise σ = 3; 5-fold CV (KFold, no shuffle) × l1_ratios
[0.1, 0.5, 0.7, 0.9, 1.0] × 100 alphas, tol = 1e-4.

Order of work (correctness before time):

1. numba warm-up on a small grid (compilation is not timed);
2. gpureg on W1 — timed — and scikit-learn's ElasticNetCV on W1 — timed —
   with the same folds, grid and tol;
3. checks: same alpha grid, ``mse_path`` agreement, same ``alpha_`` /
   ``l1_ratio_``, every gpureg fit certified;
4. scikit-learn's own duality gaps: the ``enet_path`` calls ElasticNetCV
   makes internally, repeated to read their gaps (also timed, reported apart).

Writes one JSON file of rows (docs/design.md §7) and prints a table.

Usage::

    python -m benchmarks.bench_w1 [--quick] [--out benchmarks/results]

(from the repository root; the data are ``benchmarks._common.make_w1``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import ElasticNetCV, enet_path
from sklearn.model_selection import KFold

import gpureg

from ._common import L1_RATIOS, cpu_device, make_w1, utc_now


def sklearn_gaps(X, y, folds, alphas, tol):
    """Worst gap/threshold of the enet_path calls ElasticNetCV makes per fold."""
    worst = 0.0
    t0 = time.perf_counter()
    for train, _ in folds:
        Xt = X[train] - X[train].mean(axis=0)
        yt = y[train] - y[train].mean()
        thr = tol * (yt @ yt) / len(train)
        for il, rho in enumerate(L1_RATIOS):
            _, _, gaps = enet_path(
                Xt, yt, l1_ratio=rho, alphas=alphas[il], tol=tol, precompute=True
            )
            worst = max(worst, float(np.max(gaps / thr)))
    return worst, time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="2,000 × 200 instead of 10,000 × 1,000"
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--repeat", type=int, default=3, help="gpureg timed runs (best is reported)"
    )
    args = parser.parse_args(argv)

    n, p = (2_000, 200) if args.quick else (10_000, 1_000)
    X, y = make_w1(n, p, n_informative=min(50, p // 4))
    tol, n_alphas, cv = 1e-4, 100, KFold(5)
    folds = list(cv.split(X))
    print(
        f"W1: X {n}×{p}, 5 folds × {len(L1_RATIOS)} l1_ratios × {n_alphas} alphas, "
        f"tol={tol:g}; CPU: {cpu_device()}"
    )

    # 1. warm-up: numba compiles (cached on disk after the first run ever)
    Xs, ys = make_w1(200, 20, n_informative=5, seed=1)
    gpureg.fit_grid(Xs, ys, l1_ratio=L1_RATIOS, alphas=5, cv=5, backend="cpu")

    # 2. timed runs, side by side
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res = gpureg.fit_grid(
            X, y, l1_ratio=L1_RATIOS, alphas=n_alphas, cv=cv, tol=tol, backend="cpu"
        )
        times.append(time.perf_counter() - t0)
    t_gpureg = min(times)
    t0 = time.perf_counter()
    sk = ElasticNetCV(l1_ratio=L1_RATIOS, alphas=n_alphas, cv=cv, tol=tol).fit(X, y)
    t_sklearn = time.perf_counter() - t0

    # 3. correctness
    assert np.allclose(res.alphas, sk.alphas_, rtol=1e-10), "alpha grids differ"
    mse_rel = float(np.max(np.abs(res.mse_path - sk.mse_path_) / sk.mse_path_))
    # Both solvers stop at tol=1e-4, so held-out errors agree to ~1e-2, not 1e-12;
    # tight-tolerance parity is asserted in tests/.
    same_best = bool(
        np.isclose(res.alpha_, sk.alpha_, rtol=1e-10) and res.l1_ratio_ == sk.l1_ratio_
    )
    gpureg_worst = float(np.max(res.dual_gap / res.gap_tol[:, None, None]))
    certified = bool(res.converged.all())

    # 4. scikit-learn's gaps (same calls again, timed separately)
    sk_worst, t_sk_paths = sklearn_gaps(X, y, folds, sk.alphas_, tol)

    n_fits_gpureg = res.n_fits
    n_fits_sklearn = len(folds) * len(L1_RATIOS) * n_alphas + 1
    ratio = t_sklearn / t_gpureg
    print(f"{'':24}{'time (s)':>10}{'fits':>8}{'fits/s':>10}{'worst gap/tol':>15}")
    print(
        f"{'gpureg cpu (numba)':24}{t_gpureg:>10.3f}{n_fits_gpureg:>8}"
        f"{n_fits_gpureg / t_gpureg:>10.0f}{gpureg_worst:>15.3g}"
    )
    print(
        f"{'sklearn ElasticNetCV':24}{t_sklearn:>10.3f}{n_fits_sklearn:>8}"
        f"{n_fits_sklearn / t_sklearn:>10.0f}{sk_worst:>15.3g}"
    )
    print(
        f"speed-up (sklearn / gpureg): {ratio:.1f}x; gpureg runs: "
        f"{', '.join(f'{t:.3f}' for t in times)} s; phases {res.timings}"
    )
    print(
        f"mse_path max rel diff {mse_rel:.2e}; same alpha_/l1_ratio_: {same_best}; "
        f"all gpureg fits certified: {certified}"
    )

    common = dict(
        workload="W1-quick" if args.quick else "W1",
        n_samples=n,
        n_features=p,
        n_folds=len(folds),
        n_l1_ratios=len(L1_RATIOS),
        n_alphas=n_alphas,
        tol=tol,
        dtype="float64",
        device=cpu_device(),
        date=utc_now(),
        numpy=np.__version__,
        sklearn=sklearn.__version__,
        gpureg=gpureg.__version__,
    )
    rows = [
        dict(
            common,
            backend="gpureg-cpu",
            wall_s=t_gpureg,
            n_fits=n_fits_gpureg,
            fits_per_s=n_fits_gpureg / t_gpureg,
            worst_gap_over_tol=gpureg_worst,
            all_certified=certified,
            mse_path_max_rel_err_vs_sklearn=mse_rel,
            same_best_as_sklearn=bool(same_best),
            all_runs_s=times,
            phases_s=res.timings,
        ),
        dict(
            common,
            backend="sklearn-ElasticNetCV",
            wall_s=t_sklearn,
            n_fits=n_fits_sklearn,
            fits_per_s=n_fits_sklearn / t_sklearn,
            worst_gap_over_tol=sk_worst,
            sklearn_paths_rerun_s=t_sk_paths,
        ),
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"w1{'_quick' if args.quick else ''}_cpu.json"
    (out / name).write_text(json.dumps({"speedup": ratio, "rows": rows}, indent=2))
    print(f"wrote {out / name}")
    if not (certified and same_best and mse_rel < 5e-2):
        raise SystemExit("correctness check failed")


if __name__ == "__main__":
    main()
