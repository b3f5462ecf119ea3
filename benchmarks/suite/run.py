"""Run the benchmark suite: check every library against gpureg-cpu, then time it.

For each workload (``workloads.py``) and library (``adapters.py``):

1. the reference: gpureg-cpu on the float64 data, untimed (it is also the
   numba warm-up), certified by :func:`adapters.certify_path`;
2. check FIRST: one untimed call of the library (also its warm-up: numba
   compilation in gpureg and skglm, CUDA module loading); its full-data
   coefficients go through the same :func:`adapters.certify_path` — worst
   duality gap over scikit-learn's threshold, worst KKT violation, objective
   excess over the reference at every grid point — and its CV errors are
   compared with the reference's;
3. time: best of ``--repeat`` calls (fewer when one call is long: the timed
   calls are kept under ``--budget`` seconds, at least one; a library whose
   checking call alone took over ``--budget`` is reported with that call's
   time, recorded in the row's ``timing``).

Rows (DESIGN.md §7: backend, device, dtype, sizes, n_fits, wall_s, fits/s,
the worst gap / KKT and the error versus the reference, versions and date)
go to ``<out>/<workload>.json`` and ``.csv``, rewritten after each library
(rows of libraries not in this run are kept from the earlier file); the
scaling series goes to ``<out>/scaling.json`` / ``.csv``.  ``plot.py``
draws them.

Usage::

    python benchmarks/suite/run.py --workloads w1,pn,float32,scaling \\
        [--libraries gpureg-cpu,sklearn,...] [--quick] [--repeat N] \\
        [--shape pn=500x5000] [--max-fits 100000] [--out benchmarks/results/suite]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
for _folder in (_HERE, _HERE.parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

import adapters  # noqa: E402
import sklearn  # noqa: E402
import workloads  # noqa: E402
from bench_w1 import cpu_name  # noqa: E402

import gpureg  # noqa: E402
from gpureg._bench import write_rows  # noqa: E402

#: A library is "correct" on a workload when no full-data grid point's
#: objective exceeds the reference's by more than this many certification
#: thresholds ``tol * ||ỹ||² / n`` (both at tol: the excess is at most 1).
OBJ_EXCESS_MAX = 1.0
#: Timed repeats are cut so that they take about this long at most.
BUDGET_S = 120.0
#: Libraries of the scaling series, by their gpureg._bench backend names.
SCALING_BACKENDS = {"gpureg-cpu": "cpu", "gpureg-gpu": "gpu", "sklearn": "sklearn"}


def environment():
    """Versions, CPU, host and date recorded in every row.

    Returns
    -------
    dict
    """
    return dict(
        cpu=f"{cpu_name()} ({os.cpu_count()} cores)",
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        gpureg=gpureg.__version__, numpy=np.__version__,
        sklearn=sklearn.__version__, python=platform.python_version(),
    )


def device_name(library, env):
    """The device a library runs on: the GPU's name for gpureg-gpu, else the CPU.

    Parameters
    ----------
    library : str
    env : dict

    Returns
    -------
    str
    """
    if library == "gpureg-gpu":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    return env["cpu"]


def call(library, problem, X, y):
    """One adapter call on a problem, warnings counted.

    Parameters
    ----------
    library : str
    problem : workloads.Problem
    X, y : ndarray
        The problem's data (or the float64 reference copy).

    Returns
    -------
    adapters.AdapterResult
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = adapters.get(library)(
            X, y, l1_ratios=problem.l1_ratios, alphas=problem.alphas,
            folds=problem.folds, tol=problem.tol, max_iter=problem.max_iter,
        )
    kinds = sorted({w.category.__name__ for w in caught})
    res.extra["warnings"] = f"{len(caught)} ({', '.join(kinds)})" if caught else None
    return res


def check(problem, res, reference, ref_cert, X64):
    """Correctness of one result versus the reference, from its coefficients.

    Parameters
    ----------
    problem : workloads.Problem
    res, reference : adapters.AdapterResult
    ref_cert : dict
        ``certify_path`` of the reference.
    X64 : ndarray
        The data in float64.

    Returns
    -------
    dict
        Row fields: ``max_gap_ratio``, ``max_kkt``, ``max_obj_rel_excess``,
        ``max_obj_excess_over_tol``, ``mse_path_max_rel_diff_vs_ref``,
        ``correct``.
    """
    cert = adapters.certify_path(
        X64, problem.y.astype(np.float64), res.coef_path, res.intercepts,
        l1_ratios=problem.l1_ratios, alphas=problem.alphas, tol=problem.tol)
    excess = cert["objective"] - ref_cert["objective"]
    over_tol = float(np.max(excess) / ref_cert["gap_tol"])
    mse_rel = None
    if res.mse_path is not None and reference.mse_path is not None:
        mse_rel = float(np.max(np.abs(res.mse_path - reference.mse_path)
                               / reference.mse_path))
    return dict(
        max_gap_ratio=float(np.max(cert["gap_ratio"])),
        frac_gap_ratio_over_1=float(np.mean(cert["gap_ratio"] > 1.0)),
        max_kkt=float(np.max(cert["kkt"])),
        max_obj_rel_excess=float(np.max(excess / ref_cert["objective"])),
        max_obj_excess_over_tol=over_tol,
        min_obj_excess_over_tol=float(np.min(excess) / ref_cert["gap_tol"]),
        mse_path_max_rel_diff_vs_ref=mse_rel,
        correct=bool(np.isfinite(over_tol) and over_tol <= OBJ_EXCESS_MAX),
    )


def timed(library, problem, repeat, check_s, budget):
    """Best of up to ``repeat`` timed calls, kept within ``budget`` seconds.

    Parameters
    ----------
    library : str
    problem : workloads.Problem
    repeat : int
    check_s : float
        Wall seconds of the checking call (to size the repeats).
    budget : float

    Returns
    -------
    secs : list of float
        The wall seconds each adapter reported.
    how : str
        How the time was taken.  When the checking call alone took over
        ``budget`` seconds its time is the one reported (as bench_gpu.py
        does for W2 on the CPU): it was checked before it was recorded.
    """
    if check_s > budget:
        return [check_s], f"the checking call (it took over --budget={budget:g} s)"
    n = max(1, min(repeat, int(budget / max(check_s, 1e-9))))
    secs = []
    for _ in range(n):
        secs.append(call(library, problem, problem.X, problem.y).wall_s)
    return secs, f"best of {n} calls after the checking call"


def run_workload(key, libraries, args, env):
    """Check, then time, every library on one workload; write its rows.

    Parameters
    ----------
    key : str
    libraries : list of str
    args : argparse.Namespace
    env : dict

    Returns
    -------
    rows : list of dict
    ok : bool
        False when a gpureg library failed its check or raised.
    """
    spec = workloads.WORKLOADS[key]
    t0 = time.perf_counter()
    problem = workloads.build(key, quick=args.quick, shape=args.shape.get(key))
    X64 = problem.X.astype(np.float64)
    n, p = problem.X.shape
    print(f"\n{problem.name}: X {n:,}×{p:,} {problem.X.dtype}, {len(problem.folds)} "
          f"folds × {len(problem.l1_ratios)} l1_ratios × {problem.alphas.shape[1]} "
          f"alphas (+ full path) = {problem.n_fits:,} fits, tol={problem.tol:g} "
          f"(data {time.perf_counter() - t0:.1f} s)", flush=True)
    common = dict(
        workload=problem.name, dtype=str(problem.X.dtype), n_samples=n,
        n_features=p, n_folds=len(problem.folds),
        n_l1_ratios=len(problem.l1_ratios), n_alphas=problem.alphas.shape[1],
        tol=problem.tol, max_iter=problem.max_iter,
    )
    out = Path(args.out) / problem.name.lower()
    kept = kept_rows(out, libraries)

    # 1. the reference: gpureg-cpu on the float64 data (untimed)
    t0 = time.perf_counter()
    reference = adapters.get("gpureg-cpu")(
        X64, problem.y.astype(np.float64), l1_ratios=problem.l1_ratios,
        alphas=problem.alphas, folds=problem.folds, tol=problem.tol,
        max_iter=problem.max_iter)
    ref_cert = adapters.certify_path(
        X64, problem.y.astype(np.float64), reference.coef_path,
        reference.intercepts, l1_ratios=problem.l1_ratios, alphas=problem.alphas,
        tol=problem.tol)
    print(f"  reference gpureg-cpu float64: {time.perf_counter() - t0:.2f} s, "
          f"all certified {reference.extra['all_certified']}, worst gap/tol "
          f"{np.max(ref_cert['gap_ratio']):.3g}", flush=True)

    rows, ok = [], True
    allowed = spec.libraries or tuple(adapters.ADAPTERS)
    for library in libraries:
        if library not in allowed:
            continue
        base = dict(common, backend=library, **env)
        base.pop("cpu")
        reason = adapters.unavailable(library)
        if reason is not None:
            print(f"  {library:12} skipped: {reason}", flush=True)
            rows.append(dict(base, device=env["cpu"], skipped=reason))
            write_rows(kept + rows, out)
            continue
        base["device"] = device_name(library, env)
        try:
            # 2. check first (untimed; also the warm-up)
            res = call(library, problem, problem.X, problem.y)
            checked = check(problem, res, reference, ref_cert, X64)
            print(f"  {library:12} check: {res.wall_s:8.2f} s; worst gap/tol "
                  f"{checked['max_gap_ratio']:9.3g}; KKT {checked['max_kkt']:8.2g}; "
                  f"objective excess {checked['max_obj_rel_excess']:9.2g} "
                  f"({checked['max_obj_excess_over_tol']:.3g} tol); mse rel diff "
                  f"{checked['mse_path_max_rel_diff_vs_ref'] or 0:.2g} -> "
                  f"{'OK' if checked['correct'] else 'NOT CORRECT'}", flush=True)
            # 3. time
            repeat = args.repeat or spec.repeat
            secs, how = timed(library, problem, repeat, res.wall_s, args.budget)
        except Exception as exc:
            traceback.print_exc()
            rows.append(dict(base, error=f"{type(exc).__name__}: {exc}"))
            write_rows(kept + rows, out)
            ok = ok and not library.startswith("gpureg")
            continue
        wall = min(secs)
        row = dict(
            base, n_fits=res.n_fits, wall_s=wall, fits_per_s=res.n_fits / wall,
            n_runs=len(secs), all_runs_s=secs, timing=how, check_wall_s=res.wall_s,
            **checked,
            library_version=res.extra.get("version"),
            extra={k: v for k, v in res.extra.items() if k != "version"},
        )
        rows.append(row)
        print(f"  {library:12} time:  {wall:8.3f} s ({how}); "
              f"{res.n_fits:,} fits; {res.n_fits / wall:,.0f} fits/s", flush=True)
        if library.startswith("gpureg") and not checked["correct"]:
            ok = False
        write_rows(kept + rows, out)
    return rows, ok


def kept_rows(out, libraries):
    """Rows of an earlier results file for libraries not run this time.

    So that one workload's libraries can be run in separate invocations
    (each row keeps its own date).

    Parameters
    ----------
    out : Path
        The results path without suffix.
    libraries : list of str

    Returns
    -------
    list of dict
    """
    path = out.with_suffix(".json")
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    return [r for r in rows if r.get("backend") not in libraries]


def run_scaling(libraries, args, env):
    """The scaling series (``gpureg._bench.throughput_rows``); write its rows.

    Parameters
    ----------
    libraries : list of str
    args : argparse.Namespace
    env : dict

    Returns
    -------
    list of dict
    """
    backends = [SCALING_BACKENDS[lib] for lib in libraries if lib in SCALING_BACKENDS]
    if not backends:
        return []
    print(f"\nscaling series: backends {backends}, max fits {args.max_fits}",
          flush=True)
    rows = workloads.scaling_rows(backends, quick=args.quick, max_fits=args.max_fits,
                                  progress=args.progress)
    name = {v: k for k, v in SCALING_BACKENDS.items()}
    for row in rows:
        row["library"] = name[row["backend"]]
        if "skipped" in row:
            print(f"  {row['library']:12} skipped: {row['skipped']}")
            continue
        print(f"  {row['library']:12} {row['n_fits']:>8,} fits {row['wall_s']:9.4f} s "
              f"{row['fits_per_s']:>12,.0f} fits/s"
              + ("" if row["all_certified"] is None else
                 f"; certified {row['all_certified']}")
              + ("" if row["mse_path_max_rel_diff_vs_cpu"] is None else
                 f"; mse vs gpureg-cpu {row['mse_path_max_rel_diff_vs_cpu']:.2g}"))
    suffix = "-quick" if args.quick else ""
    write_rows(rows, Path(args.out) / f"scaling{suffix}")
    return rows


def parse_shapes(items):
    """``["pn=500x5000", ...]`` -> ``{"pn": (500, 5000)}``.

    Parameters
    ----------
    items : list of str

    Returns
    -------
    dict
    """
    shapes = {}
    for item in items or []:
        key, _, value = item.partition("=")
        n, _, p = value.lower().partition("x")
        shapes[key.strip()] = (int(n), int(p))
    return shapes


def main(argv=None):
    """Command line entry point.

    Parameters
    ----------
    argv : list of str, optional

    Returns
    -------
    int
        0, or 1 when a gpureg library failed its correctness check.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="w1,pn,float32,scaling",
                        help=f"comma-separated, of {list(workloads.WORKLOADS)} "
                             f"and {list(workloads.SERIES)}")
    parser.add_argument("--libraries", default=",".join(adapters.ADAPTERS),
                        help="comma-separated, of " + ", ".join(adapters.ADAPTERS))
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed runs per library (best reported); default "
                             "3 for w1/float32, 1 for w2/pn")
    parser.add_argument("--budget", type=float, default=BUDGET_S,
                        help="seconds the timed runs of one library may take")
    parser.add_argument("--shape", action="append", default=[],
                        help="override a workload's size, e.g. pn=500x5000")
    parser.add_argument("--max-fits", type=int, default=None,
                        help="scaling series: largest grid (gpureg fits)")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", default=str(_HERE.parent / "results" / "suite"))
    args = parser.parse_args(argv)
    args.shape = parse_shapes(args.shape)
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    libraries = [k.strip() for k in args.libraries.split(",") if k.strip()]
    unknown = ([k for k in keys if k not in workloads.WORKLOADS
                and k not in workloads.SERIES]
               + [k for k in libraries if k not in adapters.ADAPTERS])
    if unknown:
        parser.error(f"unknown workloads/libraries: {unknown}")

    env = environment()
    print(f"gpureg suite on {env['cpu']}; {env['date']}", flush=True)
    ok = True
    for key in keys:
        if key == "scaling":
            run_scaling(libraries, args, env)
        else:
            _, good = run_workload(key, libraries, args, env)
            ok = ok and good
    if not ok:
        print("a gpureg library failed its correctness check", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
