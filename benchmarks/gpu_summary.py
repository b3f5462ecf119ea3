"""One screen of the GPU runbook: every check and figure against its target.

Reads what ``benchmarks/gpu_check.sh`` left in OUTDIR — ``pytest_gpu.xml``
(JUnit), ``gpu_bench.json`` (``bench_gpu.py``), ``dropout_bench.json``
(``bench_dropout.py``), ``c1_gpu.json`` (``bench_c1_gpu.py``) and
``sparse_quick_eps0.001_gpu.json`` (``bench_sparse.py --backend gpu``) — prints a
table of PASS / FAIL / MISS / n/a lines and writes it to
``OUTDIR/gpu_summary.txt``.  A missing file is reported as such.

Targets (README, issue tracker):

* GPU tests: every ``gpu``-marked test passes (none skipped on a GPU);
* W1 (10,000 x 1,000, 3,000 fits) <= 0.050 s and W2 (100,000 x 2,000,
  22,000 fits) <= 2 s, each checked against the CPU backend and certified
  (the accuracy contract);
* dropout forward >= 90% of the device's copy bandwidth (float32 and
  bfloat16, seeded mode), and >= 1.2x torch's bfloat16 forward (or, without
  torch, the note says so);
* C1 (the binomial grid): the GPU certifies every fit and equals the CPU
  solver to ``gap_tol`` on C1's design at 1,000 x 100; the whole C1 grid
  >= 20x LogisticRegressionCV (saga), against the committed CPU figure;
* sparse X (the quick sparse grid on the GPU): every fit certified, with
  its time against the committed 2-core CPU record (no target: reported).

Exit status: 0 when every check passed (a missed speed target is MISS, not a
failure), 1 otherwise.

Usage::

    python -m benchmarks.gpu_summary OUTDIR

(from the repository root).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tests_lines(out: Path):
    """Lines for the JUnit report of the gpu-marked tests."""
    path = out / "pytest_gpu.xml"
    if not path.exists():
        return [("gpu tests", "no pytest_gpu.xml", "all pass", "FAIL")]
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    total = sum(int(s.get("tests", 0)) for s in suites)
    failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    names = [
        f"{c.get('classname', '').split('.')[-1]}::{c.get('name')}".strip(":")
        for s in suites
        for c in s.iter("testcase")
        if c.find("failure") is not None or c.find("error") is not None
    ]
    verdict = "PASS" if total and not failed and not skipped else "FAIL"
    lines = [
        (
            "gpu tests",
            f"{total - failed - skipped} passed, {failed} failed, "
            f"{skipped} skipped of {total}",
            "all pass, none skipped",
            verdict,
        )
    ]
    lines += [("  failed", n, "", "") for n in names[:6]]
    if len(names) > 6:
        lines.append(("  failed", f"... and {len(names) - 6} more", "", ""))
    return lines


def bench_lines(out: Path):
    """Lines for W1 and W2 (bench_gpu.py)."""
    rows = _load(out / "gpu_bench.json")
    if rows is None:
        return [("W1 / W2", "no gpu_bench.json", "", "FAIL")]
    lines = []
    for row in rows:
        if row.get("backend") != "gpureg-gpu":
            continue
        name = row.get("workload", "?")
        if "error" in row:
            lines.append((name, f"raised: {row['error'][:60]}", "", "FAIL"))
            continue
        ok = bool(row.get("correct"))
        rel = row.get("mse_path_max_rel_diff_vs_cpu", float("nan"))
        gap = row.get("max_gap_ratio", float("nan"))
        lines.append(
            (
                f"{name} checks",
                f"mse vs cpu {rel:.1e}, gap/tol {gap:.2f}",
                "as cpu, certified",
                "PASS" if ok else "FAIL",
            )
        )
        target = row.get("target_wall_s")
        wall = row.get("wall_s_best", float("nan"))
        verdict = "n/a" if target is None else ("PASS" if wall <= target else "MISS")
        lines.append(
            (
                f"{name} wall",
                f"{wall:.4f} s ({row.get('fits_per_s', 0):,.0f} fits/s)",
                "n/a" if target is None else f"<= {target:g} s",
                verdict,
            )
        )
    cpu = {r.get("workload"): r for r in rows if r.get("backend") == "gpureg-cpu"}
    for name, r in cpu.items():
        lines.append(
            (
                f"{name} cpu",
                f"{r.get('wall_s_best', float('nan')):.3f} s",
                "reference",
                "",
            )
        )
    return lines or [("W1 / W2", "no gpureg-gpu row", "", "FAIL")]


def dropout_lines(out: Path):
    """Lines for the dropout bandwidth and the torch ratio."""
    rows = _load(out / "dropout_bench.json")
    if rows is None:
        return [("dropout", "no dropout_bench.json", "", "FAIL")]
    lines = []
    for r in rows:
        if (
            r.get("backend") == "gpureg"
            and r.get("direction") == "forward"
            and r.get("mode") == "seeded"
            and "fraction_of_copy" in r
        ):
            frac = r["fraction_of_copy"]
            lines.append(
                (
                    f"dropout {r['dtype']} fwd",
                    f"{r['gb_per_s']:.0f} GB/s = {100 * frac:.0f}% of copy",
                    ">= 90% of copy",
                    "PASS" if frac >= r.get("target_fraction", 0.9) else "MISS",
                )
            )
    if not lines:
        lines.append(("dropout fwd", "no GPU rows", ">= 90% of copy", "FAIL"))
    torch_bf = [
        r for r in rows if r.get("backend") == "torch" and r.get("dtype") == "bfloat16"
    ]
    ours_bf = [
        r
        for r in rows
        if r.get("backend") == "gpureg"
        and r.get("dtype") == "bfloat16"
        and r.get("direction") == "forward"
        and r.get("mode") == "seeded"
    ]
    if torch_bf and ours_bf:
        ratio = torch_bf[0]["seconds"] / ours_bf[0]["seconds"]
        lines.append(
            (
                "dropout bf16 vs torch",
                f"{ratio:.2f}x",
                ">= 1.2x",
                "PASS" if ratio >= 1.2 else "MISS",
            )
        )
    else:
        lines.append(("dropout bf16 vs torch", "torch not measured", ">= 1.2x", "n/a"))
    return lines


def c1_lines(out: Path):
    """Lines for the binomial grid (bench_c1_gpu.py)."""
    rows = _load(out / "c1_gpu.json")
    if rows is None:
        return [("C1 binomial", "no c1_gpu.json", "", "FAIL")]
    lines = []
    for row in rows:
        if row.get("stage") == "check":
            dp = row.get("max_objective_diff_over_gap_tol", 0)
            lines.append(
                (
                    "C1 small vs cpu",
                    f"|dP|/gap_tol {dp:.2f}, "
                    f"certified {row.get('fraction_certified', 0):.3f}, "
                    f"{row.get('gpu_over_cpu_speed', 0):.1f}x cpu",
                    "as cpu, certified",
                    "PASS" if row.get("correct") else "FAIL",
                )
            )
        else:
            ratio = row.get("speedup_vs_committed_sklearn", 0.0)
            lines.append(
                (
                    "C1 wall (gpu)",
                    f"{row.get('wall_s', float('nan')):.2f} s, {ratio:.0f}x saga "
                    "(committed cpu run)",
                    ">= 20x saga",
                    "PASS" if ratio >= 20 else "MISS",
                )
            )
    return lines


def sparse_lines(out: Path):
    """Lines for the quick sparse grid on the GPU (bench_sparse.py)."""
    rows = _load(out / "sparse_quick_eps0.001_gpu.json")
    if rows is None:
        return [("sparse quick (gpu)", "no sparse_quick_eps0.001_gpu.json", "", "FAIL")]
    row = rows[0]
    certified = row.get("fraction_certified", 0.0)
    return [
        (
            "sparse quick (gpu)",
            f"{row.get('wall_s', float('nan')):.1f} s, certified {certified:.3f}, "
            f"{row.get('speedup_vs_committed_cpu', float('nan')):.1f}x cpu (committed)",
            "certified",
            "PASS" if certified == 1.0 else "FAIL",
        )
    ]


def dask_lines(out: Path):
    """Lines for W1 over one Dask worker per GPU (bench_dask.py); SKIP when
    the machine has no dask (the runbook skips that step)."""
    rows = _load(out / "dask_w1_gpu.json")
    if rows is None:
        return [("dask W1 (gpu)", "not run (no dask_w1_gpu.json)", "", "SKIP")]
    lines = []
    for row in rows[1:]:
        equal = row.get("max_abs_diff_vs_single", {}).get("coef", float("nan"))
        ok = row.get("all_certified", False)
        lines.append(
            (
                f"dask W1 gpu {row['workers']} worker",
                f"{row['wall_s']:.3f} s = {row['ratio_to_single']:.2f}x single, "
                f"max |dcoef| {equal:.1e}",
                "certified",
                "PASS" if ok else "FAIL",
            )
        )
    return lines


def torch_lines(out: Path):
    """Lines for gpureg.torch's DropoutAdd against eager torch on the GPU."""
    rows = _load(out / "torch_dropout_cuda.json")
    if rows is None:
        return [("torch dropout-add (gpu)", "no torch_dropout_cuda.json", "", "FAIL")]
    row = next((r for r in rows if r.get("variant") == "gpureg"), None)
    if row is None:
        return [("torch dropout-add (gpu)", "no gpureg row", "", "FAIL")]
    return [
        (
            "torch dropout-add (gpu)",
            f"fwd {row['forward_gb_per_s']:.0f} GB/s, "
            f"{row['forward_speedup_vs_eager']:.2f}x eager; fwd+bwd "
            f"{row['forward_backward_speedup_vs_eager']:.2f}x eager",
            ">= 1x eager",
            "PASS" if row["forward_backward_speedup_vs_eager"] >= 1.0 else "MISS",
        )
    ]


def main(argv=None) -> int:
    """Print and write the summary; 1 when a check failed."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.gpu_summary OUTDIR", file=sys.stderr)
        return 64
    out = Path(argv[0])
    lines = tests_lines(out) + bench_lines(out) + dropout_lines(out)
    lines += c1_lines(out) + sparse_lines(out) + dask_lines(out) + torch_lines(out)
    text = [f"{'check':24} {'measured':44} {'target':24} verdict", "-" * 100]
    text += [f"{a:24} {b:44} {c:24} {d}" for a, b, c, d in lines]
    failed = any(d == "FAIL" for *_, d in lines)
    text.append(
        f"overall: {'FAIL' if failed else 'PASS'} (MISS = a speed target "
        "missed, reported, not a failure)"
    )
    print("\n".join(text))
    (out / "gpu_summary.txt").write_text("\n".join(text) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
