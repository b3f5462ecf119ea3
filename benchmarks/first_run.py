"""First run: how long the README's ``gpureg demo --out DIR`` takes on a fresh install.

Every measurement runs in a fresh Python subprocess, as a user would start it:

* **cold** — ``python -m gpureg demo --out DIR`` with ``NUMBA_CACHE_DIR``
  pointed at a new, empty folder: numba compiles every kernel the demo uses
  (a first run after ``pip install``), once;
* **warm** — the same command with the same (now filled) numba cache,
  ``--runs`` times (default 3), the median reported;
* **import** — ``import gpureg`` alone, timed inside the subprocess, the
  median of ``--runs``.

Each demo run writes into a new empty output folder (so it never meets an
earlier run and needs no ``--force``), must exit 0 and must leave
``results.csv``, ``best.json`` and the three PNG plots there; a run that
fails stops the script before any time is reported.  Python's own bytecode
caches are left as they are (pip compiles them at install time); only the
numba cache is made cold.

Targets (issue 13, "First run"), on a 2-core CPU machine:
cold <= 25 s, warm <= 3 s.

Prints a table and writes one JSON record (machine, versions, date, load
average before the runs, every run's seconds, the verdicts) to
``OUT/first_run-<hostname>-<YYYY-MM-DD>.json``.  Exit status 0 when both
targets are met, 1 when one is missed.

Usage::

    python -m benchmarks.first_run [--runs 3] [--python PYTHON]
        [--out benchmarks/results] [--demo-args="--backend cpu --svg"]

(from the repository root).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from ._common import cpu_device

#: Seconds: (cold, warm) targets of issue 13.
TARGET_COLD_S = 25.0
TARGET_WARM_S = 3.0
#: What ``gpureg demo --out DIR`` leaves in DIR (PNG plots; SVG with --svg).
EXPECTED_FILES = (
    "results.csv",
    "best.json",
    "path.png",
    "cv_curve.png",
    "cv_heatmap.png",
)
PACKAGES = (
    "gpureg",
    "numpy",
    "numba",
    "llvmlite",
    "scipy",
    "scikit-learn",
    "pandas",
    "matplotlib",
)


def versions() -> dict:
    """Installed versions of Python and the packages the demo imports."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def time_demo(python, cache_dir, work, demo_args, label):
    """Seconds of one ``python -m gpureg demo --out DIR`` in a new process."""
    out = Path(tempfile.mkdtemp(prefix=f"{label}-out-", dir=work))
    out.rmdir()  # the demo creates it, as on a first run
    cmd = [python, "-m", "gpureg", "demo", *demo_args, "--out", str(out)]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(
            f"{label}: {shlex.join(cmd)} exited {proc.returncode}:\n"
            f"{proc.stderr[-3000:]}"
        )
    missing = [name for name in EXPECTED_FILES if not (out / name).is_file()]
    if missing:
        raise SystemExit(f"{label}: the demo did not write {missing} in {out}.")
    return seconds


def time_import(python, cache_dir, work):
    """Seconds of ``import gpureg`` inside a new process (interpreter start not
    included)."""
    code = (
        "import time\nt0 = time.perf_counter()\nimport gpureg\n"
        "print(time.perf_counter() - t0)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    proc = subprocess.run(
        [python, "-c", code],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="warm demo runs and import runs (median reported)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter with gpureg installed (default: this one)",
    )
    parser.add_argument(
        "--demo-args",
        default="",
        help="extra options for 'gpureg demo', in one argument: "
        "--demo-args='--backend cpu --svg'",
    )
    parser.add_argument(
        "--out",
        default=str(Path(__file__).parent / "results"),
        help="folder of the JSON record",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    demo_args = shlex.split(args.demo_args)
    command = shlex.join(["python", "-m", "gpureg", "demo", *demo_args, "--out", "DIR"])

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(
        f"{command}\nCPU: {cpu_device()}, load average "
        f"{'n/a' if load is None else ' '.join(f'{v:.2f}' for v in load)}"
    )

    with tempfile.TemporaryDirectory(prefix="gpureg-first-run-") as tmp:
        work = Path(tmp)
        cache = work / "numba-cache"
        cache.mkdir()
        cold = time_demo(args.python, cache, work, demo_args, "cold")
        n_cached = sum(1 for _ in cache.rglob("*.nbi"))
        warm = [
            time_demo(args.python, cache, work, demo_args, f"warm{i}")
            for i in range(args.runs)
        ]
        imports = [time_import(args.python, cache, work) for _ in range(args.runs)]

    warm_median = statistics.median(warm)
    import_median = statistics.median(imports)
    ok_cold = cold <= TARGET_COLD_S
    ok_warm = warm_median <= TARGET_WARM_S

    print(f"\n{'':<22} {'seconds':>8} {'target':>8}")
    print(
        f"{'cold (empty cache)':<22} {cold:>8.2f} {'<= 25':>8}  "
        f"{'ok' if ok_cold else 'MISSED'}"
    )
    print(
        f"{'warm (median of ' + str(args.runs) + ')':<22} {warm_median:>8.2f} "
        f"{'<= 3':>8}  {'ok' if ok_warm else 'MISSED'}"
    )
    print(f"{'import gpureg':<22} {import_median:>8.3f}")
    print(
        f"warm runs: {', '.join(f'{t:.2f}' for t in warm)}; "
        f"numba cache entries after the cold run: {n_cached}"
    )

    now = dt.datetime.now(dt.timezone.utc)
    host = platform.node() or "unknown-host"
    record = dict(
        benchmark="first_run",
        command=command,
        date=now.isoformat(timespec="seconds"),
        host=host,
        cpu=cpu_device(),
        platform=platform.platform(),
        load_average_before=None if load is None else [round(v, 2) for v in load],
        versions=versions(),
        targets_s={"cold": TARGET_COLD_S, "warm": TARGET_WARM_S},
        cold_s=cold,
        warm_runs_s=warm,
        warm_median_s=warm_median,
        import_runs_s=imports,
        import_median_s=import_median,
        numba_cache_entries=n_cached,
        cold_ok=ok_cold,
        warm_ok=ok_warm,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"first_run-{host}-{now.date().isoformat()}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return 0 if ok_cold and ok_warm else 1


if __name__ == "__main__":
    sys.exit(main())
