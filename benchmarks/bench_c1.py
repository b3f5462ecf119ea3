"""Workload C1: gpureg's binomial grid versus LogisticRegressionCV (saga) and peers.

X is 10,000 × 1,000 with Toeplitz(0.5)-correlated columns (W1's design),
``y ~ Bernoulli(sigmoid(X β))`` with 20 non-zero coefficients
(``benchmarks._common.make_c1``); StratifiedKFold(5, shuffle=True,
random_state=0) folds × l1_ratios [0.1, 0.5, 0.7, 0.9, 1.0] × 100 alphas
(gpureg's grid, ``res.alphas``, used by every library), tol = 1e-4.

The objective of one fit is ``1/n Σ logloss_i + alpha (l1_ratio ‖w‖₁ +
(1 - l1_ratio)/2 ‖w‖²)``; scikit-learn's ``C = 1/(n_train alpha)``,
skglm's ``Logistic`` + ``L1_plus_L2`` and glum's binomial
``GeneralizedLinearRegressor`` (``1/(2n) deviance``) are the same problem.

Order of work:

1. numba warm-up on a small grid (compilation is not timed);
2. gpureg on the whole C1 grid, timed (tol = 1e-4, ``measure="deviance"``);
3. the peers on a documented SUBSET, because saga on the whole grid takes
   hours on 2 cores: fold 0's training set, K alphas spread along each
   l1_ratio's path (indices ``linspace(0, n_alphas - 1, K)``), all
   l1_ratios.  scikit-learn runs ``LogisticRegressionCV(Cs=1/(n_train
   alphas), l1_ratios=[rho], cv=[fold 0], solver="saga", tol=1e-4,
   refit=False)`` per l1_ratio (so its own warm starts along Cs);
   skglm (ProxNewton, warm started) and glum (its alpha path) likewise where
   installed.  Their per-fit time is EXTRAPOLATED to LogisticRegressionCV's
   whole C1 work (5 folds × 5 l1_ratios × 100 alphas + 1 refit);
   K spread alphas warm-start from farther than 100 consecutive ones, so the
   extrapolation leans high;
4. accuracy at the subset points: objective suboptimality against a tight
   reference (gpureg at tol = 1e-12 on the same training set and alphas),
   divided by the null model's mean log-loss (the scale of gpureg's ``tol``);
   gpureg's own fold fits are not returned by ``fit_grid``, so its column is
   its certified duality gap there, an upper bound on its suboptimality.

Writes one JSON file of rows (docs/design.md §7), prints a table, and keeps
the printout in a .log beside it.

Usage::

    python -m benchmarks.bench_c1 [--quick] [--sklearn-subset K] [--out DIR]

(from the repository root).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import StratifiedKFold

import gpureg

from ._common import L1_RATIOS, cpu_device, make_c1, utc_now


class _Tee:
    """Write to stdout and to a log file."""

    def __init__(self, path):
        self.file = open(path, "w")  # noqa: SIM115 (closed in main)
        self.stdout = sys.stdout

    def write(self, text):
        self.stdout.write(text)
        self.file.write(text)

    def flush(self):
        self.stdout.flush()
        self.file.flush()


def objective(X, y, w, b, alpha, rho):
    """Mean log-loss + elastic net (gpureg's binomial objective)."""
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    return loss + alpha * (rho * np.abs(w).sum() + (1 - rho) / 2 * (w @ w))


def null_loss(y):
    """Mean log-loss of the intercept-only model."""
    p = y.mean()
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


def rel_subopt(X, y, alphas, rho, coefs, intercepts, ref):
    """(P(w) - P(w_ref)) / null log-loss for each alpha (may be < 0 by rounding)."""
    scale = null_loss(y)
    return np.array(
        [
            (
                objective(X, y, coefs[k], intercepts[k], a, rho)
                - objective(X, y, ref[0][k], ref[1][k], a, rho)
            )
            / scale
            for k, a in enumerate(alphas)
        ]
    )


def run_sklearn(X, y, fold, alphas_sub, tol, max_iter):
    """LogisticRegressionCV (saga) per l1_ratio on one fold: time, coefs, n_iter."""
    n_train, p = len(fold[0]), X.shape[1]
    coefs, ints, iters, t = [], [], [], 0.0
    for il, rho in enumerate(L1_RATIOS):
        Cs = 1.0 / (n_train * alphas_sub[il])
        est = LogisticRegressionCV(
            Cs=Cs,
            l1_ratios=np.array([rho]),
            cv=[fold],
            solver="saga",
            tol=tol,
            max_iter=max_iter,
            refit=False,
            scoring="neg_log_loss",
            use_legacy_attributes=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est.fit(X, y)
            t += time.perf_counter() - t0
        # (n_folds, n_l1_ratios, n_cs, n_classes = 1, n_features + 1)
        path = np.asarray(est.coefs_paths_)[0, 0, :, 0, :]
        coefs.append(path[:, :p])
        ints.append(path[:, p])
        iters.append(np.asarray(est.n_iter_).ravel())
    return t, coefs, ints, iters


def run_skglm(X, y, alphas_sub, tol):
    """skglm ProxNewton, warm started along each subset path."""
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Logistic
    from skglm.penalties import L1_plus_L2
    from skglm.solvers import ProxNewton

    def path(Xa, ya, rho, alphas):
        est = GeneralizedLinearEstimator(
            datafit=Logistic(),
            penalty=L1_plus_L2(alpha=float(alphas[0]), l1_ratio=rho),
            solver=ProxNewton(tol=tol, fit_intercept=True, warm_start=True),
        )
        cs, bs = [], []
        for a in alphas:
            est.penalty.alpha = float(a)
            est.fit(Xa, ya)
            cs.append(np.ravel(est.coef_).copy())
            bs.append(float(np.ravel(est.intercept_)[0]))
        return np.array(cs), np.array(bs)

    # numba compilation, not timed
    path(X[:200, :20], y[:200], 0.5, alphas_sub[1][:2] * 10)
    coefs, ints, t = [], [], 0.0
    for il, rho in enumerate(L1_RATIOS):
        t0 = time.perf_counter()
        c, b = path(X, y, rho, alphas_sub[il])
        t += time.perf_counter() - t0
        coefs.append(c)
        ints.append(b)
    return t, coefs, ints


def run_glum(X, y, alphas_sub):
    """glum's binomial GeneralizedLinearRegressor along each subset path."""
    from glum import GeneralizedLinearRegressor

    coefs, ints, t = [], [], 0.0
    for il, rho in enumerate(L1_RATIOS):
        est = GeneralizedLinearRegressor(
            family="binomial",
            alpha=[float(a) for a in alphas_sub[il]],
            alpha_search=True,
            l1_ratio=rho,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est.fit(X, y)
            t += time.perf_counter() - t0
        path = np.asarray(est.coef_path_)  # the intercept first, when fitted
        coefs.append(path[:, -X.shape[1] :])
        ints.append(path[:, 0] if path.shape[1] > X.shape[1] else np.zeros(len(path)))
    return t, coefs, ints


def version(name):
    try:
        return importlib.import_module(name).__version__
    except ImportError:
        return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1,000 × 100 instead of 10,000 × 1,000"
    )
    parser.add_argument(
        "--sklearn-subset",
        type=int,
        default=None,
        metavar="K",
        help="alphas per l1_ratio timed for the peers (default 4)",
    )
    parser.add_argument(
        "--sklearn-max-iter", type=int, default=100, help="saga epochs (its default)"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip skglm / glum")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"c1{'_quick' if args.quick else ''}_cpu"
    tee = _Tee(out / f"{stem}.log")
    sys.stdout = tee
    try:
        return _main(args, out, stem)
    finally:
        sys.stdout = tee.stdout
        tee.file.close()


def _main(args, out, stem):
    n, p = (1_000, 100) if args.quick else (10_000, 1_000)
    K = args.sklearn_subset or 4
    X, y, _ = make_c1(n, p)
    tol, n_alphas = 1e-4, 100
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    load0 = os.getloadavg()
    print(
        f"C1: X {n}×{p}, y ~ Bernoulli(sigmoid(Xβ)) (20 non-zeros, "
        f"mean {y.mean():.3f}), "
        f"{len(folds)} stratified folds × {len(L1_RATIOS)} l1_ratios × {n_alphas} "
        f"alphas, tol={tol:g}; CPU: {cpu_device()}; load average {load0[0]:.2f}"
    )

    # 1. warm-up: numba compiles (cached on disk after the first run ever)
    Xs, ys, _ = make_c1(200, 20, n_informative=5, seed=1)
    gpureg.fit_grid(Xs, ys, family="binomial", l1_ratio=L1_RATIOS, alphas=5, cv=3)

    # 2. gpureg, the whole grid, timed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        res = gpureg.fit_grid(
            X,
            y,
            family="binomial",
            l1_ratio=L1_RATIOS,
            alphas=n_alphas,
            cv=folds,
            tol=tol,
            measure="deviance",
            backend="cpu",
        )
        t_gpureg = time.perf_counter() - t0
    gp_warnings = [str(w.message) for w in caught]
    certified = float(res.converged.mean())
    worst = float(np.max(res.dual_gap / res.gap_tol[:, None, None]))
    n_iter_total = int(res.n_iter.sum())
    print(
        f"gpureg: {t_gpureg:.1f} s for {res.n_fits} fits; certified "
        f"{certified:.4f}; worst gap/tol {worst:.3g}; CD passes {n_iter_total}; "
        f"alpha_={res.alpha_:.4g}, l1_ratio_={res.l1_ratio_}; phases "
        + ", ".join(f"{k} {v:.2f}" for k, v in res.timings.items())
    )
    for msg in gp_warnings:
        print(f"  gpureg warning: {msg}")

    # 3. the subset: fold 0's training set, K alphas per l1_ratio
    train = folds[0][0]
    Xt, yt = X[train], y[train]
    idx = np.unique(np.linspace(0, n_alphas - 1, K).round().astype(int))
    alphas_sub = res.alphas[:, idx]
    n_sub = alphas_sub.size
    n_sklearn_cv = len(folds) * len(L1_RATIOS) * n_alphas + 1
    print(
        f"subset: fold 0 training set ({len(train)} rows), alpha indices "
        f"{idx.tolist()} of each l1_ratio's path: {n_sub} fits per library"
    )

    # tight references (gpureg, tol=1e-12) on the same training set and alphas
    t0 = time.perf_counter()
    refs, ref_gap = [], 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for il, rho in enumerate(L1_RATIOS):
            r = gpureg.fit_grid(
                Xt,
                yt,
                family="binomial",
                l1_ratio=[rho],
                alphas=alphas_sub[il],
                cv=None,
                tol=1e-12,
                max_iter=100_000,
            )
            refs.append((r.coef_path[0], r.intercept_path[0]))
            ref_gap = max(ref_gap, float(np.max(r.dual_gap)) / null_loss(yt))
    t_ref = time.perf_counter() - t0
    print(
        f"references: gpureg tol=1e-12, {t_ref:.1f} s, worst gap / null log-loss "
        f"{ref_gap:.2e}"
    )

    def accuracy(coefs, ints):
        s = np.concatenate(
            [
                rel_subopt(Xt, yt, alphas_sub[il], rho, coefs[il], ints[il], refs[il])
                for il, rho in enumerate(L1_RATIOS)
            ]
        )
        return float(np.median(s)), float(np.max(s))

    gp_bound = res.dual_gap[0][:, idx] / null_loss(yt)
    gp_acc = (float(np.median(gp_bound)), float(np.max(gp_bound)))

    peers = []
    t_sk, c, b, iters = run_sklearn(
        X, y, folds[0], alphas_sub, tol, args.sklearn_max_iter
    )
    iters = np.concatenate(iters)
    peers.append(
        dict(
            backend="sklearn-LogisticRegressionCV-saga",
            subset_s=t_sk,
            accuracy=accuracy(c, b),
            extra=dict(
                saga_epochs=iters.tolist(),
                saga_max_iter=args.sklearn_max_iter,
                fits_at_max_iter=int(np.sum(iters >= args.sklearn_max_iter)),
            ),
        )
    )
    print(f"sklearn subset: {t_sk:.1f} s, saga epochs {iters.tolist()}")
    if not args.no_peers:
        if version("skglm"):
            t_pk, c, b = run_skglm(Xt, yt, alphas_sub, tol)
            peers.append(
                dict(backend="skglm-ProxNewton", subset_s=t_pk, accuracy=accuracy(c, b))
            )
            print(f"skglm subset: {t_pk:.1f} s")
        else:
            print("skglm: not installed, skipped")
        if version("glum"):
            t_gl, c, b = run_glum(Xt, yt, alphas_sub)
            peers.append(
                dict(backend="glum-irls-cd", subset_s=t_gl, accuracy=accuracy(c, b))
            )
            print(f"glum subset: {t_gl:.1f} s")
        else:
            print("glum: not installed, skipped")
    for peer in peers:
        peer["per_fit_s"] = peer["subset_s"] / n_sub
        peer["extrapolated_s"] = peer["per_fit_s"] * n_sklearn_cv
        peer["ratio"] = peer["extrapolated_s"] / t_gpureg

    # 4. table
    load1 = os.getloadavg()
    print()
    print(
        f"{'':34}{'time (s)':>11}{'fits':>7}{'s/fit':>9}"
        f"{'subopt/L0 med':>15}{'max':>10}{'vs gpureg':>11}"
    )
    print(
        f"{'gpureg cpu (whole grid, measured)':34}{t_gpureg:>11.1f}{res.n_fits:>7}"
        f"{t_gpureg / res.n_fits:>9.4f}{gp_acc[0]:>15.2e}{gp_acc[1]:>10.2e}"
        f"{'1.0x':>11}   (gap bound at the subset)"
    )
    for peer in peers:
        print(
            f"{peer['backend'] + ' (subset, measured)':34}{peer['subset_s']:>11.1f}"
            f"{n_sub:>7}{peer['per_fit_s']:>9.4f}{peer['accuracy'][0]:>15.2e}"
            f"{peer['accuracy'][1]:>10.2e}"
        )
        print(
            f"{'  -> EXTRAPOLATED to C1 CV':34}{peer['extrapolated_s']:>11.0f}"
            f"{n_sklearn_cv:>7}{'':>34}{peer['ratio']:>10.1f}x"
        )
    ratio = peers[0]["ratio"]
    print(
        f"speed-up (sklearn extrapolated / gpureg measured): {ratio:.1f}x "
        f"(extrapolation from {n_sub} fits on fold 0 to {n_sklearn_cv} fits); "
        f"subopt/L0 = (P - P_ref) / null mean log-loss; load average "
        f"{load0[0]:.2f} -> {load1[0]:.2f} (shared machine)"
    )

    common = dict(
        workload="C1-quick" if args.quick else "C1",
        family="binomial",
        measure="deviance",
        n_samples=n,
        n_features=p,
        n_informative=20,
        n_folds=len(folds),
        folds="StratifiedKFold(5, shuffle=True, random_state=0)",
        n_l1_ratios=len(L1_RATIOS),
        n_alphas=n_alphas,
        tol=tol,
        dtype="float64",
        device=cpu_device(),
        date=utc_now(),
        numpy=np.__version__,
        sklearn=sklearn.__version__,
        gpureg=gpureg.__version__,
        skglm=version("skglm"),
        glum=version("glum"),
        load_average=[load0[0], load1[0]],
    )
    subset = dict(
        training_set="fold 0",
        n_train=len(train),
        alpha_indices=idx.tolist(),
        n_fits=n_sub,
        reference="gpureg tol=1e-12, same training set and alphas",
        reference_worst_gap_over_null_loss=ref_gap,
        reference_s=t_ref,
    )
    rows = [
        dict(
            common,
            backend="gpureg-cpu",
            wall_s=t_gpureg,
            n_fits=res.n_fits,
            fits_per_s=res.n_fits / t_gpureg,
            worst_gap_over_tol=worst,
            fraction_certified=certified,
            n_uncertified=int((~res.converged).sum()),
            cd_passes=n_iter_total,
            path_stop=res.path_stop.tolist(),
            alpha_=res.alpha_,
            l1_ratio_=res.l1_ratio_,
            phases_s=res.timings,
            warnings=gp_warnings,
            subset_gap_over_null_loss_median=gp_acc[0],
            subset_gap_over_null_loss_max=gp_acc[1],
        )
    ]
    for peer in peers:
        rows.append(
            dict(
                common,
                backend=peer["backend"],
                subset=subset,
                subset_measured_s=peer["subset_s"],
                subset_per_fit_s=peer["per_fit_s"],
                time_extrapolated_s=peer["extrapolated_s"],
                extrapolated_to_n_fits=n_sklearn_cv,
                ratio_extrapolated_over_gpureg=peer["ratio"],
                subopt_over_null_loss_median=peer["accuracy"][0],
                subopt_over_null_loss_max=peer["accuracy"][1],
                **peer.get("extra", {}),
            )
        )
    rows[1]["sklearn_time_extrapolated_s"] = peers[0]["extrapolated_s"]
    path = out / f"{stem}.json"
    path.write_text(
        json.dumps(
            dict(
                speedup_extrapolated=ratio,
                sklearn_time_extrapolated_s=peers[0]["extrapolated_s"],
                sklearn_subset_s=peers[0]["subset_s"],
                sklearn_subset_n_fits=n_sub,
                gpureg_s=t_gpureg,
                rows=rows,
            ),
            indent=2,
        )
    )
    print(f"wrote {path} and {out / stem}.log")


if __name__ == "__main__":
    main()
