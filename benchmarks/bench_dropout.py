"""Dropout throughput: gpureg's fused kernel against the copy ceiling and torch.

For float32 and bfloat16, forward and backward, in *seeded* mode (the mask is
regenerated, nothing but y is written) and *mask* mode (also the bit-packed
mask): bytes actually moved per call (read x, write y, + n/8 for the mask)
over the best of ``--repeat`` timed runs.

* GPU (CuPy, when a device is present): 2²⁸ elements by default; the
  device-to-device copy bandwidth of the same buffer is measured in the same
  run, and ``torch.nn.functional.dropout`` on the same tensor when torch with
  CUDA is importable.  Targets: ≥ 90% of the copy bandwidth, and ≥ 1.2×
  torch's throughput for bfloat16 forward.
* CPU: the numba mask + numpy arithmetic path against one plain numpy
  ``x * mask`` pass over the same array (default 2²⁴ elements).

Correctness comes first: on every backend the mask of the timed call is
checked against the CPU reference mapping on a prefix before timing.

Usage::

    python -m benchmarks.bench_dropout [--out DIR] [--log2n 28] [--cpu-log2n 24]
        [--repeat 10] [--cpu-only]

(from the repository root).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path

import numpy as np

import gpureg

from ._common import cpu_name

P = 0.1
SEED, OFFSET = 1234, 5


def _ml_bf16():
    """numpy's bfloat16 dtype (ml_dtypes), or None."""
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes.bfloat16


def _bytes(n, itemsize, mask):
    """Bytes moved by one call: read x, write y (and the packed mask)."""
    return n * itemsize * 2 + (n / 8 if mask else 0)


def bench_cpu(log2n, repeat):
    """Rows for the CPU path and the plain numpy reference pass."""
    n = 2**log2n
    rows = []
    rng = np.random.default_rng(0)
    for name, dtype in (("float32", np.float32), ("bfloat16", _ml_bf16())):
        if dtype is None:
            rows.append(dict(backend="cpu", dtype=name, note="needs ml_dtypes"))
            continue
        x = rng.standard_normal(n, dtype=np.float32).astype(dtype)
        check = gpureg.dropout(x[:4096], P, seed=SEED, offset=OFFSET)
        full = gpureg.dropout(x, P, seed=SEED, offset=OFFSET)
        assert np.array_equal(
            np.asarray(full[:4096]).view(
                np.uint16 if name == "bfloat16" else np.uint32
            ),
            np.asarray(check).view(np.uint16 if name == "bfloat16" else np.uint32),
        ), "prefix mask mismatch"
        keep = (np.asarray(full, dtype=np.float32) != 0) | (
            np.asarray(x, dtype=np.float32) == 0
        )
        for mode, mask in (("seeded", False), ("mask", True)):
            best = np.inf
            for _ in range(repeat):
                t0 = time.perf_counter()
                gpureg.dropout(
                    x, P, seed=SEED, offset=OFFSET, return_mask=mask, backend="cpu"
                )
                best = min(best, time.perf_counter() - t0)
            gb = _bytes(n, x.itemsize, mask) / best / 1e9
            rows.append(
                dict(
                    backend="cpu",
                    device=cpu_name(),
                    dtype=name,
                    direction="forward",
                    mode=mode,
                    n=n,
                    seconds=best,
                    gb_per_s=gb,
                )
            )
        scale = np.float32(1 / (1 - P))
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            _ = x * keep * scale  # the plain pass a user would write
            best = min(best, time.perf_counter() - t0)
        rows.append(
            dict(
                backend="numpy x*mask",
                device=cpu_name(),
                dtype=name,
                direction="forward",
                mode="precomputed mask",
                n=n,
                seconds=best,
                gb_per_s=(n * x.itemsize * 2 + n) / best / 1e9,
            )
        )
    return rows


def _gpu_time(fn, repeat):
    import cupy

    fn()
    cupy.cuda.Device().synchronize()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    best = np.inf
    for _ in range(repeat):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        best = min(best, cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return best


def _gpu_bf16_raw(x16, n, dev, copy_gb, repeat):
    """bfloat16 rows without torch: the kernel on the raw uint16 storage.

    The mask is first checked against the CPU mapping (``keep_mask``) on a
    prefix; then the launcher gpureg's public API uses is timed directly.
    """
    import cupy

    from gpureg.backends._dropout_cpu import keep_mask
    from gpureg.backends._dropout_gpu import dropout_forward as _gpu
    from gpureg.dropout import _scale, threshold

    thr, scale = threshold(P), _scale(P, "BF16")
    out = cupy.empty_like(x16)
    words = _gpu(x16, None, None, out, n, 1, "BF16", SEED, OFFSET, thr, scale, True)
    k = 1 << 16
    ref = np.empty(k, dtype=bool)
    keep_mask(k, np.uint64(SEED), np.uint64(OFFSET), np.uint64(thr), ref)
    got = np.unpackbits(
        cupy.asnumpy(words[: k // 32]).view(np.uint8), bitorder="little"
    ).astype(bool)
    assert np.array_equal(got, ref), "GPU bfloat16 mask differs from the mapping"
    rows = []
    for mode, mask in (("seeded", False), ("mask", True)):
        t = _gpu_time(
            lambda mask=mask: _gpu(
                x16, None, None, out, n, 1, "BF16", SEED, OFFSET, thr, scale, mask
            ),
            repeat,
        )
        gb = _bytes(n, 2, mask) / t / 1e9
        rows.append(
            dict(
                backend="gpureg",
                device=dev,
                dtype="bfloat16",
                direction="forward",
                mode=mode,
                n=n,
                seconds=t,
                gb_per_s=gb,
                fraction_of_copy=gb / copy_gb,
                target_fraction=0.9,
                note="kernel on raw uint16 storage (no torch here)",
            )
        )
    return rows


def bench_gpu(log2n, repeat):
    """Rows for the CUDA kernel, the copy ceiling and torch (if present)."""
    import cupy

    n = 2**log2n
    dev = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    rows = []
    src = cupy.random.standard_normal(n, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    t = _gpu_time(lambda: cupy.copyto(dst, src), repeat)
    copy_gb = 2 * n * 4 / t / 1e9
    rows.append(
        dict(
            backend="cupy copy",
            device=dev,
            dtype="float32",
            direction="copy",
            mode="device-to-device",
            n=n,
            seconds=t,
            gb_per_s=copy_gb,
        )
    )
    try:
        import torch

        has_torch = torch.cuda.is_available()
    except ImportError:
        has_torch = False
    for name in ("float32", "bfloat16"):
        if name == "float32":
            x = src
        else:  # bfloat16 bits: the top half of each float32 (truncation is fine)
            x = (src.view(cupy.uint32) >> 16).astype(cupy.uint16)
        x_api = x if name == "float32" else None
        if x_api is None:
            if not has_torch:
                rows += _gpu_bf16_raw(x, n, dev, copy_gb, repeat)
                continue
            x_api = torch.from_dlpack(x).view(torch.bfloat16)
        prefix = x_api[:4096]
        ref = gpureg.dropout(
            cupy.asnumpy(prefix) if name == "float32" else prefix.cpu(),
            P,
            seed=SEED,
            offset=OFFSET,
        )
        got = gpureg.dropout(prefix, P, seed=SEED, offset=OFFSET)
        got_h = cupy.asnumpy(got) if name == "float32" else got.cpu()
        assert np.array_equal(
            np.asarray(
                ref.view(np.uint32) if name == "float32" else ref.view(torch.int16)
            ),
            np.asarray(
                got_h.view(np.uint32) if name == "float32" else got_h.view(torch.int16)
            ),
        ), "GPU mask differs from the CPU mapping"
        itemsize = 4 if name == "float32" else 2
        for direction in ("forward", "backward"):
            for mode, mask in (("seeded", False), ("mask", True)):
                if direction == "backward" and mask:
                    continue
                if direction == "forward":

                    def fn(x_api=x_api, mask=mask):
                        return gpureg.dropout(
                            x_api, P, seed=SEED, offset=OFFSET, return_mask=mask
                        )
                else:

                    def fn(x_api=x_api):
                        return gpureg.dropout_backward(
                            x_api, P, seed=SEED, offset=OFFSET
                        )

                t = _gpu_time(fn, repeat)
                gb = _bytes(n, itemsize, mask) / t / 1e9
                rows.append(
                    dict(
                        backend="gpureg",
                        device=dev,
                        dtype=name,
                        direction=direction,
                        mode=mode,
                        n=n,
                        seconds=t,
                        gb_per_s=gb,
                        fraction_of_copy=gb / copy_gb,
                        target_fraction=0.9,
                    )
                )
        if has_torch:
            xt = x_api if name == "bfloat16" else torch.from_dlpack(x)
            t = _gpu_time(
                lambda xt=xt: torch.nn.functional.dropout(xt, P, True), repeat
            )
            # torch writes y and a byte mask per element
            rows.append(
                dict(
                    backend="torch",
                    device=dev,
                    dtype=name,
                    direction="forward",
                    mode="torch (byte mask)",
                    n=n,
                    seconds=t,
                    gb_per_s=_bytes(n, itemsize, False) / t / 1e9,
                    torch_version=torch.__version__,
                )
            )
    return rows


def main(argv=None):
    """Run the benchmark, print a table, write ``dropout_bench.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--log2n", type=int, default=28)
    ap.add_argument("--cpu-log2n", type=int, default=24)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--cpu-only", action="store_true")
    args = ap.parse_args(argv)
    rows = bench_cpu(args.cpu_log2n, max(3, args.repeat // 3))
    if not args.cpu_only:
        try:
            import cupy

            ok = cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:
            ok = False
        if ok:
            rows += bench_gpu(args.log2n, args.repeat)
        else:
            print("no CuPy/CUDA device: CPU rows only")
    stamp = dict(
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        host=platform.node(),
        gpureg=gpureg.__version__,
        numpy=np.__version__,
        p=P,
    )
    for r in rows:
        r.update(stamp)
        if "gb_per_s" in r:
            print(
                f"{r['backend']:>14} {r['dtype']:>9} {r['direction']:>9} "
                f"{r['mode']:>18} n=2^{int(np.log2(r['n']))}  "
                f"{r['seconds'] * 1e3:9.3f} ms  {r['gb_per_s']:8.1f} GB/s"
                + (
                    f"  {100 * r['fraction_of_copy']:.0f}% of copy"
                    if "fraction_of_copy" in r
                    else ""
                )
            )
    torch_bf = [r for r in rows if r["backend"] == "torch" and r["dtype"] == "bfloat16"]
    ours_bf = [
        r
        for r in rows
        if r["backend"] == "gpureg"
        and r["dtype"] == "bfloat16"
        and r.get("direction") == "forward"
        and r.get("mode") == "seeded"
    ]
    if torch_bf and ours_bf:
        ratio = torch_bf[0]["seconds"] / ours_bf[0]["seconds"]
        print(f"bfloat16 forward vs torch: {ratio:.2f}x (target >= 1.2x)")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "dropout_bench.json").write_text(json.dumps(rows, indent=2) + "\n")
        print(f"wrote {args.out / 'dropout_bench.json'}")


if __name__ == "__main__":
    main()
