"""The ``gpureg`` command line: ``demo``, ``sweep`` and ``bench``.

``gpureg demo``   a CV grid on the embedded diabetes data: the README's main job;
``gpureg sweep``  the same on a CSV/Parquet file of yours;
``gpureg bench``  the throughput series on this machine and its plot.

Every error a user can cause (a missing or unreadable file, a missing target
column, non-numeric columns, NaNs, bad options) prints one line naming the
problem and exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

COMMANDS = ("demo", "sweep", "bench")


class UserError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


# ---------------------------------------------------------------- helpers


def _l1_ratios(text: str) -> list[float]:
    try:
        values = [float(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise UserError(
            f"--l1-ratio must be comma-separated numbers, got {text!r}."
        ) from exc
    if not values:
        raise UserError("--l1-ratio is empty.")
    return values


def _say(quiet: bool, *args):
    if not quiet:
        print(*args)


def _best_json(res, names, extra=None) -> dict:
    """What ``best.json`` holds: the chosen model with named coefficients."""
    il, ia = res.best_index_
    out = {
        "alpha": res.alpha_,
        "l1_ratio": res.l1_ratio_,
        "alpha_1se": res.alpha_1se_,
        f"cv_{res.measure}": float(res.cv_mean[il, ia]),
        f"cv_{res.measure}_se": float(res.cv_se[il, ia]),
        "intercept": float(res.intercept_),
        "coefficients": {
            str(n): float(w) for n, w in zip(names, res.coef_, strict=True)
        },
        "n_nonzero": int(np.count_nonzero(res.coef_)),
        "n_fits": res.n_fits,
        "n_folds": res.n_folds,
        "all_certified": bool(res.converged.all()),
        "backend": res.backend,
        "dtype": str(res.dtype),
        "seconds": float(res.timings.get("total", float("nan"))),
    }
    if res.family != "gaussian":
        out["family"] = res.family
        out["classes"] = [c.item() if hasattr(c, "item") else c for c in res.classes]
    if extra:
        out.update(extra)
    return out


#: Files whose presence marks a folder as holding an earlier gpureg run.
_RUN_FILES = (
    "results.csv",
    "best.json",
    "throughput.csv",
    "throughput.json",
    "targets.json",
)


def _prepare_out(out, force: bool) -> Path:
    """Check (and create) the output folder *before* any work is done.

    Raises
    ------
    UserError
        When ``out`` is a file or lies under one, cannot be created or
        written, or already holds an earlier run (unless ``force``).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder.")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise UserError(f"--out {out}: {parent} is a file, not a folder.")
    if out.is_dir() and not force:
        earlier = [name for name in _RUN_FILES if (out / name).exists()]
        if earlier:
            raise UserError(
                f"--out {out} already holds an earlier run "
                f"({', '.join(earlier)}); choose another folder or "
                "pass --force to overwrite it."
            )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".gpureg-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write to --out {out}: {exc.strerror or exc}."
        ) from None
    return out


def _formats(svg: bool) -> tuple[str, ...]:
    """File formats of the plots: PNG, and SVG when asked for (``--svg``)."""
    return ("png", "svg") if svg else ("png",)


def _write_outputs(
    res, names, out: Path, quiet: bool, extra=None, svg: bool = False
) -> list[Path]:
    """``results.csv``, ``best.json`` and the three plots under ``out``.

    The plots are PNG files, and SVG files too when ``svg`` (``--svg``).
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    frame = res.to_frame()
    frame.to_csv(out / "results.csv", index=False)
    written.append(out / "results.csv")
    (out / "best.json").write_text(
        json.dumps(_best_json(res, names, extra), indent=2) + "\n"
    )
    written.append(out / "best.json")
    # matplotlib is imported only here, when plots are drawn.  The figures are
    # built outside pyplot (nothing to close) on the Agg canvas.
    from . import plotting

    for name, fn, kw in (
        ("path", plotting.plot_path, {"feature_names": list(names)}),
        ("cv_curve", plotting.plot_cv_curve, {}),
        ("cv_heatmap", plotting.plot_cv_heatmap, {}),
    ):
        fig = fn(res, **kw)
        written += plotting.save_figure(fig, out / name, formats=_formats(svg))
    _say(quiet, "wrote " + ", ".join(str(p) for p in written))
    return written


#: Coefficients printed at most; the rest are in best.json.
MAX_PRINTED = 30


def _print_model(res, names, out=None):
    print(res.summary())
    print("\nchosen model (full data, original units):")
    print(f"  intercept  {res.intercept_:12.5g}")
    coef = np.asarray(res.coef_)
    shown = range(coef.size)
    if coef.size > MAX_PRINTED:  # the largest non-zero ones, by magnitude
        nz = np.flatnonzero(coef)
        shown = nz[np.argsort(-np.abs(coef[nz]), kind="stable")][:MAX_PRINTED]
    for j in shown:
        print(f"  {str(names[j]):<10} {coef[j]:12.5g}")
    if coef.size > MAX_PRINTED:
        rest = int(np.count_nonzero(coef)) - len(shown)
        where = (
            f"all {coef.size:,} are in {out / 'best.json'}"
            if out is not None
            else "pass --out for the full list (best.json)"
        )
        print(
            f"  ... {len(shown)} largest shown; {rest:,} more non-zero and "
            f"{coef.size - np.count_nonzero(coef):,} zero; {where}"
        )
    il, ia = res.index_1se_
    nnz = int(np.count_nonzero(res.coef_path[il, ia]))
    print(f"\n1-SE model: alpha={res.alpha_1se_:.5g} with {nnz} non-zero coefficients")


# --------------------------------------------------------------- commands


def cmd_demo(args) -> int:
    """Cross-validate the default grid on the embedded diabetes data."""
    from . import fit_grid, load_diabetes

    X, y, names = load_diabetes()
    out = None if args.out is None else _prepare_out(args.out, args.force)
    res = fit_grid(
        X,
        y,
        l1_ratio=_l1_ratios(args.l1_ratio),
        alphas=args.alphas,
        cv=args.cv,
        standardize=True,
        backend=args.backend,
        progress=not args.quiet,
    )
    print(
        f"Diabetes data (Efron et al. 2004): {X.shape[0]} samples, "
        f"{X.shape[1]} features, standardized, {args.cv}-fold CV\n"
    )
    _print_model(res, names, out)
    if out is not None:
        _write_outputs(
            res,
            names,
            out,
            args.quiet,
            {"data": "diabetes (Efron et al. 2004)"},
            svg=args.svg,
        )
    return 0


def _exact_floats(pd) -> dict:
    """``read_csv`` options that parse every float exactly (round trip).

    pandas 3 parses exactly by default and deprecates ``float_precision``;
    pandas 2's default parser can be off by one ulp.
    """
    return (
        {}
        if int(pd.__version__.split(".")[0]) >= 3
        else {"float_precision": "round_trip"}
    )


def _read_table(path: Path):
    import pandas as pd

    if not path.exists():
        raise UserError(f"data file not found: {path}")
    if path.is_dir():
        raise UserError(f"data path is a directory, not a file: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, **_exact_floats(pd))
    except ImportError:
        raise UserError(
            f"cannot read {path.name}: Parquet needs pyarrow; "
            "pip install 'gpureg[parquet]'."
        ) from None
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        OSError,
        ValueError,
    ) as exc:
        first = (
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        )
        raise UserError(f"cannot read {path}: {first}") from exc


def _sweep_table(args):
    """Read and check ``sweep``'s file: ``(X, y, groups, feature names, path)``.

    Raises
    ------
    UserError
        For every problem of the file a user can fix, naming it.
    """
    path = Path(args.data)
    if path.suffix.lower() == ".npz":
        return _sweep_sparse(args, path)
    df = _read_table(path)
    if len(df) == 0:
        raise UserError(f"{path.name} has a header but no data rows.")
    unnamed = [str(c) for c in df.columns if str(c).startswith("Unnamed: ")]
    if unnamed:
        print(
            f"gpureg: warning: column {unnamed[0]!r} of {path.name} has no name: "
            "probably an index saved with the data (pandas' to_csv); it is "
            "used as a feature — drop it (or save with index=False) if it is "
            "not one.",
            file=sys.stderr,
        )
    targets = _target_names(args, df, path)
    groups = None
    if args.groups is not None:
        if args.groups not in df.columns:
            raise UserError(f"groups column {args.groups!r} is not in {path.name}.")
        if args.groups in targets:
            raise UserError("--groups and --target name the same column.")
        groups = df[args.groups].to_numpy()
        df = df.drop(columns=[args.groups])
    features = df.drop(columns=targets)
    if features.shape[1] == 0:
        raise UserError(f"{path.name} has no feature columns besides the target.")
    binomial = args.family == "binomial"
    _check_columns(features if binomial else df, path)
    X = features.to_numpy(dtype=np.float64)
    if binomial:  # any two labels: numbers, strings, booleans
        if df[targets[0]].isna().any():
            raise UserError(f"missing values (NaN) in the target {targets[0]!r}.")
        return (
            X,
            df[targets[0]].to_numpy(),
            groups,
            [str(c) for c in features.columns],
            path,
        )
    y = df[targets].to_numpy(dtype=np.float64)
    for j, name in enumerate(targets):
        if np.ptp(y[:, j]) == 0:
            print(
                f"gpureg: warning: target {name!r} is constant: every "
                "coefficient is 0 and every alpha fits it exactly.",
                file=sys.stderr,
            )
    y = y[:, 0] if len(targets) == 1 else y
    return X, y, groups, [str(c) for c in features.columns], path


def _sweep_sparse(args, path):
    """``sweep``'s input from a ``scipy.sparse.save_npz`` file.

    ``--target`` is a file of targets (``.npy``, or ``.csv``/``.txt`` with one
    column per target, no header) with a row per row of X, or the index of
    one of X's columns (removed from the features).  The features are named
    ``x0``, ``x1``, ... by their column in the file.
    """
    import scipy.sparse as sp

    if not path.is_file():
        raise UserError(f"data file not found: {path}")
    try:
        X = sp.load_npz(path).tocsc()
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read {path} as a scipy.sparse .npz: {exc}") from None
    if args.groups is not None:
        raise UserError("--groups needs a CSV/Parquet file (a named column).")
    names = [f"x{j}" for j in range(X.shape[1])]
    target = Path(args.target)
    if target.is_file():
        try:
            y = (
                np.load(target)
                if target.suffix == ".npy"
                else np.loadtxt(
                    target, delimiter="," if target.suffix == ".csv" else None, ndmin=1
                )
            )
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read the targets in {target}: {exc}") from None
        if y.shape[0] != X.shape[0]:
            raise UserError(f"{target.name} has {y.shape[0]} rows, X has {X.shape[0]}.")
        args.target = ",".join(
            [target.stem] if y.ndim == 1 else [f"y{j}" for j in range(y.shape[1])]
        )
        return X, y, None, names, path
    if not args.target.isdigit() or int(args.target) >= X.shape[1]:
        raise UserError(
            f"--target {args.target!r}: for a .npz X, give a targets file "
            f"(.npy/.csv/.txt) or a column index below {X.shape[1]}."
        )
    j = int(args.target)
    y = X[:, j].toarray().ravel()
    keep = np.arange(X.shape[1]) != j
    args.target = names[j]
    return X[:, keep], y, None, [n for n, k in zip(names, keep, strict=True) if k], path


def _target_names(args, df, path) -> list[str]:
    """``--target``'s column names (``a,b,c`` for several), each checked."""
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    if not targets:
        raise UserError("--target names no column.")
    if args.target in df.columns:  # a single column whose name has a comma
        targets = [args.target]
    missing = [t for t in targets if t not in df.columns]
    if missing:
        cols = ", ".join(map(str, df.columns[:20]))
        raise UserError(
            f"target column {missing[0]!r} is not in {path.name} (columns: {cols})."
        )
    if len(set(targets)) != len(targets):
        raise UserError(f"--target names a column twice: {args.target!r}.")
    if len(targets) > 1 and args.family != "gaussian":
        raise UserError(
            f"--family {args.family} takes one target column, got {len(targets)}."
        )
    return targets


def _check_columns(df, path):
    """Every column numeric (not bool) and without missing values."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(c)
        for c in df.columns
        if not is_numeric_dtype(df[c]) or is_bool_dtype(df[c])
    ]
    if bad:
        raise UserError(
            f"non-numeric columns in {path.name}: {', '.join(bad)} "
            "(encode or drop them first)."
        )
    nan_cols = [str(c) for c in df.columns if df[c].isna().any()]
    if nan_cols:
        raise UserError(
            f"missing values (NaN) in {path.name}, columns: {', '.join(nan_cols)}."
        )


def _sweep_cv(args, groups):
    """``--cv`` folds, by ``GroupKFold`` when ``--groups`` names a column."""
    if groups is None:
        return args.cv
    from sklearn.model_selection import GroupKFold

    n_groups = len(np.unique(groups))
    if n_groups < args.cv:
        raise UserError(
            f"--groups {args.groups}: {n_groups} groups, fewer than "
            f"the {args.cv} folds."
        )
    return GroupKFold(n_splits=args.cv)


def cmd_sweep(args) -> int:
    """Cross-validate a grid on a CSV/Parquet file's columns."""
    from . import fit_grid

    X, y, groups, names, path = _sweep_table(args)
    out = _prepare_out(args.out, args.force)  # before the fit, not after it
    res = fit_grid(
        X,
        y,
        l1_ratio=_l1_ratios(args.l1_ratio),
        alphas=args.alphas,
        cv=_sweep_cv(args, groups),
        standardize=args.standardize,
        backend=args.backend,
        dtype=args.dtype,
        progress=not args.quiet,
        groups=groups,
        memory_limit=args.memory_limit,
        family=args.family,
        measure=args.measure,
        client=args.scheduler,
    )
    if y.ndim == 2:
        return _sweep_targets(args, res, names, path, out)
    what = (
        "" if args.family == "gaussian" else f" ({args.family}: '{res.classes[1]}' = 1)"
    )
    print(
        f"{path.name}: {X.shape[0]} samples, {X.shape[1]} features, target "
        f"{args.target!r}{what}, {args.cv}-fold CV\n"
    )
    _print_model(res, names, out)
    _write_outputs(
        res,
        names,
        out,
        args.quiet,
        {"data": str(path), "target": args.target},
        svg=args.svg,
    )
    return 0


def _sweep_targets(args, res, names, path, out) -> int:
    """Several targets: each one's model printed and written to its folder.

    ``out/<target>/`` holds that target's ``results.csv``, ``best.json`` and
    plots; ``out/targets.json`` lists every target's choice.
    """
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    print(
        f"{path.name}: {res.n_samples} samples, {res.n_features} features, "
        f"{len(targets)} targets, {args.cv}-fold CV\n"
    )
    summary = {}
    for name, r in zip(targets, res, strict=True):
        folder = out / re.sub(r"[^\w.-]", "_", name)
        print(f"=== target {name!r}")
        _print_model(r, names, folder)
        extra = {"data": str(path), "target": name}
        _write_outputs(r, names, folder, args.quiet, extra, svg=args.svg)
        best = _best_json(r, names, extra)
        summary[name] = {k: best[k] for k in ("alpha", "l1_ratio", "n_nonzero")}
        summary[name]["folder"] = folder.name
        print()
    (out / "targets.json").write_text(json.dumps(summary, indent=2) + "\n")
    _say(args.quiet, f"wrote {out / 'targets.json'}")
    return 0


def cmd_bench(args) -> int:
    """Time grids of growing size on each backend and plot fits per second."""
    from . import _bench

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    out = _prepare_out(args.out, args.force)
    rows = _bench.throughput_rows(
        backends=tuple(backends), quick=args.quick, progress=not args.quiet
    )
    written = _bench.write_rows(rows, out / "throughput")
    timed = [r for r in rows if "fits_per_s" in r]
    print(f"{'backend':>8} {'n_fits':>8} {'wall_s':>9} {'fits/s':>10}")
    for r in timed:
        print(
            f"{r['backend']:>8} {r['n_fits']:>8,} {r['wall_s']:>9.3f} "
            f"{r['fits_per_s']:>10,.0f}"
        )
    for r in rows:
        if "skipped" in r:
            print(f"{r['backend']:>8} skipped: {r['skipped']}")
    if timed:
        from . import plotting

        fig = plotting.plot_throughput(timed, title="gpureg throughput on this machine")
        written += plotting.save_figure(
            fig, out / "throughput", formats=_formats(args.svg)
        )
    _say(args.quiet, "wrote " + ", ".join(str(p) for p in written))
    return 0


# ----------------------------------------------------------------- parser


def _output_options(p):
    """``--quiet``, ``--force`` and ``--svg``, shared by every subcommand."""
    p.add_argument("--quiet", action="store_true", help="no progress bar or file list")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite an earlier run in the output folder",
    )
    p.add_argument(
        "--svg",
        action="store_true",
        help="write each plot as SVG too, not only PNG (slower)",
    )


def _subcommand(sub, name, func, *, help, description):
    """Add subcommand ``name``, run by ``func(args)``."""
    p = sub.add_parser(name, help=help, description=description)
    p.set_defaults(func=func)
    return p


def _grid_options(p, cv, l1):
    """The grid, backend and output options of ``demo`` and ``sweep``."""
    p.add_argument(
        "--backend",
        default="auto",
        choices=["auto", "cpu", "gpu", "numpy"],
        help="where to solve (default: auto = GPU if present)",
    )
    p.add_argument("--cv", type=int, default=cv, help=f"folds (default {cv})")
    p.add_argument(
        "--alphas", type=int, default=100, help="alphas per l1_ratio (default 100)"
    )
    p.add_argument(
        "--l1-ratio",
        default=l1,
        help=f"comma-separated l1_ratios in [0, 1] (default {l1})",
    )
    _output_options(p)


def _add_demo(sub):
    """The ``demo`` subcommand."""
    demo = _subcommand(
        sub,
        "demo",
        cmd_demo,
        help="CV grid on the embedded diabetes data",
        description="Cross-validated elastic-net grid on the "
        "embedded diabetes data (Efron et al. 2004, 442 x 10), "
        "standardized.",
    )
    _grid_options(demo, 10, "0,0.1,0.5,0.7,0.9,0.95,1")
    demo.add_argument(
        "--out",
        default=None,
        help="folder for results.csv, best.json and the plots "
        "(PNG; with --svg also SVG)",
    )


def _add_sweep(sub):
    """The ``sweep`` subcommand."""
    sweep = _subcommand(
        sub,
        "sweep",
        cmd_sweep,
        help="CV grid on your CSV/Parquet data",
        description="Cross-validated elastic-net grid on a CSV "
        "(or Parquet) file: every column but the target is a "
        "feature; or on a scipy.sparse matrix saved by save_npz (.npz).",
    )
    sweep.add_argument(
        "data",
        help="CSV or Parquet file with a header row, or a scipy.sparse .npz "
        "(then --target is a targets file or a column index)",
    )
    sweep.add_argument(
        "--target",
        required=True,
        help="name of the target column; several as a,b,c (Gaussian family: "
        "one grid per target, sharing the Gram matrices; each target's files "
        "go to OUT/<target>/)",
    )
    _grid_options(sweep, 5, "0.1,0.5,1")
    sweep.add_argument(
        "--groups",
        default=None,
        metavar="COL",
        help="column of group labels: folds by GroupKFold, the column is not a feature",
    )
    sweep.add_argument(
        "--standardize",
        action="store_true",
        help="scale features to unit variance inside each fit",
    )
    sweep.add_argument("--dtype", default=None, choices=["float32", "float64"])
    sweep.add_argument(
        "--family",
        default="gaussian",
        choices=["gaussian", "binomial"],
        help="gaussian (least squares, default) or binomial (logistic: a "
        "two-class target, any labels)",
    )
    sweep.add_argument(
        "--measure",
        default=None,
        choices=["mse", "deviance", "misclassification", "auc"],
        help="CV measure (default: mse for gaussian, deviance for binomial)",
    )
    sweep.add_argument(
        "--memory-limit",
        default=None,
        metavar="SIZE",
        help="memory the fit may use, e.g. 8GB or 512MiB (default: "
        "$GPUREG_MEMORY_LIMIT, else 70%% of the available memory); "
        "a grid that cannot fit is refused before any work",
    )
    sweep.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="solve on a Dask cluster: its scheduler's address, e.g. "
        "tcp://10.0.0.5:8786 (needs gpureg[dask]; each worker uses its own "
        "GPU or CPU; the progress bar counts shards)",
    )
    sweep.add_argument(
        "--out", default="gpureg_sweep", help="output folder (default gpureg_sweep)"
    )


def _add_bench(sub):
    """The ``bench`` subcommand."""
    bench = _subcommand(
        sub,
        "bench",
        cmd_bench,
        help="throughput on this machine, plotted",
        description="Time grids from ~10 to ~100,000 fits on "
        "each backend and plot fits per second.",
    )
    bench.add_argument("--quick", action="store_true", help="small grids only")
    bench.add_argument(
        "--backends",
        default="cpu,gpu",
        help="comma-separated: cpu, gpu, numpy, sklearn (default cpu,gpu)",
    )
    bench.add_argument("--out", default="gpureg_bench", help="output folder")
    _output_options(bench)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gpureg`` (subcommands demo, sweep, bench)."""
    parser = argparse.ArgumentParser(
        prog="gpureg",
        description="Thousands of elastic-net fits in one call: cross-validated "
        "alpha x l1_ratio grids on the CPU or one GPU. Without a command, runs "
        "'demo'.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{demo,sweep,bench}")

    _add_demo(sub)
    _add_sweep(sub)
    _add_bench(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``gpureg`` console script and ``python -m gpureg``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``); without a command, ``demo``.

    Returns
    -------
    int
        0 on success, 2 for a usage or input error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):  # '×' on an ASCII terminal
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        print(
            f"gpureg: error: unknown command {argv[0]!r} (choose from "
            f"{', '.join(COMMANDS)}; without a command, 'demo' runs).",
            file=sys.stderr,
        )
        return 2
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        argv = ["demo", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"gpureg: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, MemoryError, ImportError) as exc:
        print(f"gpureg: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --scheduler: no scheduler at that address
        print(f"gpureg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gpureg: interrupted", file=sys.stderr)
        return 130
