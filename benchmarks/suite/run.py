"""Run the benchmark suite: check every library against gpureg-cpu, then time it.

For each workload (``workloads.py``) and library (``adapters.py``):

1. the reference: gpureg-cpu on the float64 data at the workload's ``tol``,
   untimed, certified by :func:`adapters.certify_path` (the ``correct``
   verdict is taken against it), and the *tight* reference
   (``reference.py``: gpureg-cpu at ``--ref-tol`` = 1e-10, polished by an exact
   active-set search; untimed, cached under ``<out>/cache/``), the best
   objective known at every grid point;
2. each library then runs in its own fresh process (``isolate.py``: it
   builds the same data itself; ``--timeout`` bounds it).  Check FIRST: one
   untimed call (also its warm-up: numba compilation in gpureg and skglm,
   CUDA module loading); its full-data coefficients go through the same
   :func:`adapters.certify_path` — worst duality gap over scikit-learn's
   threshold, KKT violation, objective excess over the reference and
   sub-optimality against the tight reference at every grid point (median,
   p90, max) — and its CV errors are compared with the reference's;
3. time: best of ``--repeat`` calls (fewer when one call is long: the timed
   calls are kept under ``--budget`` seconds, at least one; a library whose
   checking call alone took over ``--budget`` is reported with that call's
   time, recorded in the row's ``timing``), each call's peak resident memory
   measured in the child (``peak_rss_mb`` and its increment over the
   resident data, ``peak_rss_increment_mb``).

Rows (docs/design.md §7: backend, device, dtype, sizes, n_fits, wall_s, fits/s,
peak memory, the accuracy reached, versions and date) go to
``<out>/<workload>.json`` and ``.csv``, rewritten after each library (rows of
libraries not in this run are kept from the earlier file, so each library can
run in its own invocation); a side-by-side summary of all rows is printed at
the end of each workload.  The scaling series goes to ``<out>/scaling.json``
/ ``.csv``.  ``plot.py`` draws them.

Usage::

    python -m benchmarks.suite.run --workloads w1,pn,h1,h2,float32,scaling \\
        [--libraries gpureg-cpu,sklearn,...] [--quick] [--repeat N] \\
        [--shape pn=500x5000] [--timeout 3600] [--max-fits 100000] \\
        [--out benchmarks/results/suite]

(from the repository root).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from gpureg._bench import write_rows

from .._common import environment, gpu_device
from . import adapters, isolate, reference, workloads

_HERE = Path(__file__).resolve().parent

#: A library is "correct" on a workload when no full-data grid point's
#: objective exceeds the reference's by more than this many certification
#: thresholds ``tol * ||ỹ||² / n`` (both at tol: the excess is at most 1).
OBJ_EXCESS_MAX = 1.0
#: Timed repeats are cut so that they take about this long at most.
BUDGET_S = 120.0
#: Libraries of the scaling series, by their gpureg._bench backend names.
SCALING_BACKENDS = {"gpureg-cpu": "cpu", "gpureg-gpu": "gpu", "sklearn": "sklearn"}


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
        return gpu_device()
    return env["cpu"]


def check(problem, res, ref, ref_cert, tight, X64):
    """Correctness and accuracy of one result, from its coefficients.

    Parameters
    ----------
    problem : workloads.Problem
    res, ref : adapters.AdapterResult
        The library's result and the reference (gpureg-cpu at the same tol).
    ref_cert : dict
        ``certify_path`` of the reference.
    tight : dict
        :func:`reference.tight_reference` (its ``objective`` per grid point).
    X64 : ndarray
        The data in float64.

    Returns
    -------
    dict
        Row fields: ``max_gap_ratio``, ``frac_gap_ratio_over_1``,
        ``max_kkt``, ``kkt_median``, ``kkt_p90``, ``obj_subopt_median``,
        ``obj_subopt_p90``, ``obj_subopt_max`` (``(P_lib − P_best)/P_best``
        per grid point, ``P_best = min(P_tight, P_lib)``),
        ``max_obj_rel_excess``, ``max_obj_excess_over_tol``,
        ``min_obj_excess_over_tol``, ``mse_path_max_rel_diff_vs_ref``,
        ``correct``.
    """
    cert = adapters.certify_path(
        X64,
        problem.y.astype(np.float64),
        res.coef_path,
        res.intercepts,
        l1_ratios=problem.l1_ratios,
        alphas=problem.alphas,
        tol=problem.tol,
    )
    excess = cert["objective"] - ref_cert["objective"]
    over_tol = float(np.max(excess) / ref_cert["gap_tol"])
    best = np.minimum(tight["objective"], cert["objective"])
    subopt = (cert["objective"] - best) / np.abs(best)
    mse_rel = None
    if res.mse_path is not None and ref.mse_path is not None:
        mse_rel = float(np.max(np.abs(res.mse_path - ref.mse_path) / ref.mse_path))
    return dict(
        obj_subopt_median=float(np.median(subopt)),
        obj_subopt_p90=float(np.percentile(subopt, 90)),
        obj_subopt_max=float(np.max(subopt)),
        kkt_median=float(np.median(cert["kkt"])),
        kkt_p90=float(np.percentile(cert["kkt"], 90)),
        max_kkt=float(np.max(cert["kkt"])),
        max_gap_ratio=float(np.max(cert["gap_ratio"])),
        frac_gap_ratio_over_1=float(np.mean(cert["gap_ratio"] > 1.0)),
        max_obj_rel_excess=float(np.max(excess / ref_cert["objective"])),
        max_obj_excess_over_tol=over_tol,
        min_obj_excess_over_tol=float(np.min(excess) / ref_cert["gap_tol"]),
        mse_path_max_rel_diff_vs_ref=mse_rel,
        correct=bool(np.isfinite(over_tol) and over_tol <= OBJ_EXCESS_MAX),
    )


def n_timed(repeat, check_s, budget):
    """How many timed calls follow a checking call of ``check_s`` seconds.

    Parameters
    ----------
    repeat : int
    check_s : float
    budget : float

    Returns
    -------
    int
        0 when the checking call alone took over ``budget`` seconds: its time
        is the one reported (as bench_gpu.py does for W2 on the CPU), it was
        checked before it was recorded.  Else ``repeat``, cut so that the
        calls take about ``budget`` seconds, at least one.
    """
    if check_s > budget:
        return 0
    return max(1, min(repeat, int(budget / max(check_s, 1e-9))))


def memory_fields(info, check_mem, mems):
    """Row fields of peak resident memory (MiB).

    Parameters
    ----------
    info : dict
        The child's ``ready`` message (``rss_data_mb``, ``data_mb``,
        ``rss_method``).
    check_mem : dict
        The checking call's meter.
    mems : list of dict
        The meters of the calls whose time is reported.

    Returns
    -------
    dict
        ``peak_rss_mb``, ``peak_rss_increment_mb`` (over the resident set
        just before the call) and ``rss_before_mb`` (worst over ``mems``),
        ``check_peak_rss_mb``, ``check_peak_rss_increment_mb`` (the first
        call: includes JIT compilation and lazy imports), ``rss_data_mb``
        (the child after imports and data), ``data_mb`` (X and y),
        ``rss_method``, and ``gpu_pool_mb`` for gpureg-gpu.
    """

    def worst(key, ms):
        vals = [m.get(key) for m in ms if m.get(key) is not None]
        return max(vals) if vals else None

    out = dict(
        peak_rss_mb=worst("peak_mb", mems),
        peak_rss_increment_mb=worst("increment_mb", mems),
        rss_before_mb=worst("before_mb", mems),
        check_peak_rss_mb=check_mem.get("peak_mb"),
        check_peak_rss_increment_mb=check_mem.get("increment_mb"),
        rss_data_mb=info.get("rss_data_mb"),
        data_mb=info.get("data_mb"),
        rss_method=info.get("rss_method"),
    )
    if worst("gpu_pool_mb", mems) is not None:
        out["gpu_pool_mb"] = worst("gpu_pool_mb", mems)
    return out


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
    shape = args.shape.get(key)
    problem = workloads.build(key, quick=args.quick, shape=shape)
    X64 = problem.X.astype(np.float64, copy=False)
    y64 = problem.y.astype(np.float64, copy=False)
    n, p = problem.X.shape
    print(
        f"\n{problem.name}: X {n:,}×{p:,} {problem.X.dtype}, {len(problem.folds)} "
        f"folds × {len(problem.l1_ratios)} l1_ratios × {problem.alphas.shape[1]} "
        f"alphas (+ full path) = {problem.n_fits:,} fits, tol={problem.tol:g} "
        f"(data {time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    out = Path(args.out) / problem.name.lower()
    kept = kept_rows(out, libraries)

    # 1. the references (untimed): gpureg-cpu at the same tol (the verdict) ...
    t0 = time.perf_counter()
    cache = Path(args.out) / "cache"
    ref = reference.tol_reference(
        problem, cache_dir=cache, recompute=args.recompute_references
    )
    ref_cert = adapters.certify_path(
        X64,
        y64,
        ref.coef_path,
        ref.intercepts,
        l1_ratios=problem.l1_ratios,
        alphas=problem.alphas,
        tol=problem.tol,
    )
    print(
        f"  reference gpureg-cpu float64: {time.perf_counter() - t0:.2f} s, "
        f"all certified {ref.extra['all_certified']}, worst gap/tol "
        f"{np.max(ref_cert['gap_ratio']):.3g}",
        flush=True,
    )
    # ... and the tight one (the best objective known at each grid point)
    t0 = time.perf_counter()
    tight = reference.tight_reference(
        problem,
        tol=args.ref_tol,
        max_iter=args.ref_max_iter,
        cache_dir=cache,
        recompute=args.recompute_references,
    )
    print(
        f"  tight reference: {time.perf_counter() - t0:.1f} s; its worst relative "
        f"gap {np.max(tight['rel_gap']):.2g} (the floor of obj_subopt), worst KKT "
        f"{np.max(tight['kkt']):.2g}",
        flush=True,
    )
    common = dict(
        workload=problem.name,
        dtype=str(problem.X.dtype),
        n_samples=n,
        n_features=p,
        n_folds=len(problem.folds),
        n_l1_ratios=len(problem.l1_ratios),
        n_alphas=problem.alphas.shape[1],
        tol=problem.tol,
        max_iter=problem.max_iter,
        toeplitz_rho=spec.rho,
        ref_tight_tol=tight["tol"],
        ref_tight_max_iter=tight["max_iter"],
        ref_tight_max_rel_gap=float(np.max(tight["rel_gap"])),
        ref_tight_max_kkt=float(np.max(tight["kkt"])),
        ref_tight_frac_polished=tight["frac_polished"],
    )

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
            with isolate.Isolated(
                library, key, quick=args.quick, shape=shape, timeout=args.timeout
            ) as child:
                if child.info["digest"] != isolate.problem_digest(problem):
                    raise RuntimeError("the child process built different data")
                # 2. check first (untimed; also the warm-up)
                res, check_mem = child.check()
                checked = check(problem, res, ref, ref_cert, tight, X64)
                print(
                    f"  {library:12} check: {res.wall_s:8.2f} s; worst gap/tol "
                    f"{checked['max_gap_ratio']:9.3g}; objective excess "
                    f"{checked['max_obj_excess_over_tol']:.3g} tol; subopt median "
                    f"{checked['obj_subopt_median']:.2g} p90 "
                    f"{checked['obj_subopt_p90']:.2g}; KKT median "
                    f"{checked['kkt_median']:.2g} p90 {checked['kkt_p90']:.2g}; "
                    f"mse rel diff {checked['mse_path_max_rel_diff_vs_ref'] or 0:.2g}"
                    f" -> {'OK' if checked['correct'] else 'NOT CORRECT'}",
                    flush=True,
                )
                # 3. time
                count = n_timed(args.repeat or spec.repeat, res.wall_s, args.budget)
                secs, mems = [res.wall_s], [check_mem]
                how = f"the checking call (it took over --budget={args.budget:g} s)"
                if count:
                    try:
                        secs, mems = child.timed(count)
                        how = f"best of {count} calls after the checking call"
                    except isolate.LibraryTimeoutError:
                        how = (
                            f"the checking call (the timed calls hit "
                            f"--timeout={args.timeout:g} s)"
                        )
                info = child.info
        except Exception as exc:
            if not isinstance(exc, isolate.LibraryTimeoutError):
                traceback.print_exc()
            first = (str(exc).splitlines() or [""])[0]
            message = f"{type(exc).__name__}: {first}"
            print(f"  {library:12} ERROR {message}", flush=True)
            rows.append(dict(base, error=message))
            write_rows(kept + rows, out)
            ok = ok and not library.startswith("gpureg")
            continue
        wall = min(secs)
        memory = memory_fields(info, check_mem, mems)
        row = dict(
            base,
            n_fits=res.n_fits,
            wall_s=wall,
            fits_per_s=res.n_fits / wall,
            n_runs=len(secs),
            all_runs_s=secs,
            timing=how,
            check_wall_s=res.wall_s,
            **memory,
            **checked,
            library_version=res.extra.get("version"),
            extra={k: v for k, v in res.extra.items() if k != "version"},
        )
        rows.append(row)
        peak, inc = memory["peak_rss_mb"], memory["peak_rss_increment_mb"]
        print(
            f"  {library:12} time:  {wall:8.3f} s ({how}); "
            f"{res.n_fits:,} fits; {res.n_fits / wall:,.0f} fits/s; peak RSS "
            f"{_mb(peak)} MiB (+{_mb(inc)} over its start; "
            f"{_mb(memory['rss_data_mb'])} after imports and data)",
            flush=True,
        )
        if library.startswith("gpureg") and not checked["correct"]:
            ok = False
        write_rows(kept + rows, out)
    print_summary(problem.name, kept + rows)
    return rows, ok


def _mb(value):
    return "—" if value is None else f"{value:,.0f}"


def _g(value, fmt=".2g"):
    return "—" if value is None else format(value, fmt)


def summary_lines(rows):
    """The side-by-side table of a workload's rows (time, memory, accuracy).

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    list of str
    """
    order = {name: k for k, name in enumerate(adapters.ADAPTERS)}
    head = (
        f"{'library':12} {'fits':>7} {'wall s':>9} {'fits/s':>9} "
        f"{'peak MiB':>9} {'+MiB':>7} {'subopt med':>10} {'subopt p90':>10} "
        f"{'KKT med':>8} {'KKT p90':>8} {'exc/tol':>8} correct"
    )
    lines = [head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: order.get(r.get("backend"), len(order))):
        name = r.get("backend", "?")
        if r.get("skipped") or r.get("error"):
            why = r.get("skipped") or r.get("error")
            lines.append(
                f"{name:12} {'skipped' if r.get('skipped') else 'ERROR'}: {why[:90]}"
            )
            continue
        lines.append(
            f"{name:12} {r['n_fits']:>7,} {r['wall_s']:>9.3g} {r['fits_per_s']:>9,.0f} "
            f"{_mb(r.get('peak_rss_mb')):>9} {_mb(r.get('peak_rss_increment_mb')):>7} "
            f"{_g(r.get('obj_subopt_median')):>10} {_g(r.get('obj_subopt_p90')):>10} "
            f"{_g(r.get('kkt_median')):>8} {_g(r.get('kkt_p90')):>8} "
            f"{_g(r.get('max_obj_excess_over_tol'), '.2g'):>8} {r.get('correct')}"
        )
    return lines


def print_summary(name, rows):
    """Print :func:`summary_lines` under a title.

    Parameters
    ----------
    name : str
    rows : list of dict
    """
    print(
        f"\n  {name}, side by side (subopt: (P − P_best)/P_best per grid point, "
        f"P_best = min(tight reference, library); KKT over max|X̃ᵀỹ|/n; peak "
        f"MiB: resident set of the timed call, "
        f"+MiB: over its resident set at the call's start):"
    )
    for line in summary_lines(rows):
        print("  " + line)
    print(flush=True)


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
    print(
        f"\nscaling series: backends {backends}, max fits {args.max_fits}", flush=True
    )
    rows = workloads.scaling_rows(
        backends, quick=args.quick, max_fits=args.max_fits, progress=args.progress
    )
    name = {v: k for k, v in SCALING_BACKENDS.items()}
    for row in rows:
        row["library"] = name[row["backend"]]
        if "skipped" in row:
            print(f"  {row['library']:12} skipped: {row['skipped']}")
            continue
        print(
            f"  {row['library']:12} {row['n_fits']:>8,} fits {row['wall_s']:9.4f} s "
            f"{row['fits_per_s']:>12,.0f} fits/s"
            + (
                ""
                if row["all_certified"] is None
                else f"; certified {row['all_certified']}"
            )
            + (
                ""
                if row["mse_path_max_rel_diff_vs_cpu"] is None
                else f"; mse vs gpureg-cpu {row['mse_path_max_rel_diff_vs_cpu']:.2g}"
            )
        )
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
    parser.add_argument(
        "--workloads",
        default="w1,pn,float32,scaling",
        help=f"comma-separated, of {list(workloads.WORKLOADS)} "
        f"and {list(workloads.SERIES)}",
    )
    parser.add_argument(
        "--libraries",
        default=",".join(adapters.ADAPTERS),
        help="comma-separated, of " + ", ".join(adapters.ADAPTERS),
    )
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="timed runs per library (best reported); default "
        "3 for w1/float32, 1 for w2/pn",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET_S,
        help="seconds the timed runs of one library may take",
    )
    parser.add_argument(
        "--shape",
        action="append",
        default=[],
        help="override a workload's size, e.g. pn=500x5000",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds one library (its own process: data, check, "
        "timed calls) may take; killed and reported as an "
        "error row after that (default: none)",
    )
    parser.add_argument(
        "--ref-tol",
        type=float,
        default=reference.REF_TOL,
        help="tol of the tight reference (default 1e-10)",
    )
    parser.add_argument(
        "--ref-max-iter",
        type=int,
        default=reference.REF_MAX_ITER,
        help="epochs per grid point of the tight reference's "
        "coordinate descent, before its polish (default 1000)",
    )
    parser.add_argument(
        "--recompute-references",
        action="store_true",
        help="ignore the references cached in <out>/cache/",
    )
    parser.add_argument(
        "--max-fits",
        type=int,
        default=None,
        help="scaling series: largest grid (gpureg fits)",
    )
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", default=str(_HERE.parent / "results" / "suite"))
    args = parser.parse_args(argv)
    args.shape = parse_shapes(args.shape)
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    libraries = [k.strip() for k in args.libraries.split(",") if k.strip()]
    unknown = [
        k for k in keys if k not in workloads.WORKLOADS and k not in workloads.SERIES
    ] + [k for k in libraries if k not in adapters.ADAPTERS]
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
