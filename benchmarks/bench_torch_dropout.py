"""gpureg.torch's fused dropout-add in a transformer MLP block, against torch.

The bias–dropout–residual step after a transformer block's MLP,
``y = residual + dropout(h + bias)`` with h and residual of shape
(tokens, d_model), forward and backward (gradients of h, residual and bias),
three ways, side by side in one run:

* ``gpureg``: ``gpureg.torch.DropoutAdd`` (one fused pass forward; backward
  regenerates the mask: no mask is stored);
* ``eager``: ``residual + torch.nn.functional.dropout(h + bias, p)``;
* ``compile``: the same eager function through ``torch.compile`` (inductor;
  skipped with ``--no-compile`` or when it fails, the reason recorded).

Reported per variant: the best of ``--repeat`` timed iterations (after
warm-up) of the forward pass and of forward + backward, the bytes each must
move per element (a model: each tensor read or written once per kernel;
bias ignored) and the bandwidth that achieves.  Per element, with ``s`` the
dtype's size:

* gpureg: forward reads h and residual, writes y: ``3 s``; backward reads
  grad_y and writes grad_h (the mask regenerated), and the bias gradient
  reads grad_h again: ``3 s``.
* eager: forward ``h + bias`` (2 s), dropout (2 s, plus a 1-byte mask
  saved), ``+ residual`` (3 s): ``7 s + 1``; backward masks grad_y (2 s + 1),
  bias gradient (1 s): ``3 s + 1``.
* compile: at best one fused pass, as gpureg's forward, plus the saved mask
  (``3 s + 1``); backward ``3 s + 1``.

Writes ``OUT/torch_dropout_<device>.json`` (rows as docs/design.md §7).

Usage::

    python -m benchmarks.bench_torch_dropout [--device cpu|cuda]
        [--tokens 4096] [--d-model 1024] [--dtype float32] [--p 0.1]
        [--repeat 10] [--no-compile] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ._common import environment

BYTES = {  # (forward, backward) per element: (times the dtype's size, extra bytes)
    "gpureg": ((3, 0), (3, 0)),
    "eager": ((7, 1), (3, 1)),
    "compile": ((3, 1), (3, 1)),
}


def _timer(torch, device):
    """A function timing ``fn`` (best of ``repeat``, seconds), synchronized."""

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def best(fn, repeat):
        for _ in range(3):
            fn()
        sync()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
        return min(times), times

    return best


def main(argv=None) -> int:
    """Run the benchmark; returns the exit status (3: torch or the device missing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--d-model", type=int, default=1024)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    try:
        import torch
        from torch.nn import functional

        from gpureg.torch import DropoutAdd
    except ImportError as exc:
        print(f"needs torch ({exc}): pip install 'gpureg[torch]'", file=sys.stderr)
        return 3
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device for torch", file=sys.stderr)
        return 3
    dev, dt = torch.device(args.device), getattr(torch, args.dtype)
    gen = torch.Generator(device=dev).manual_seed(0)
    shape = (args.tokens, args.d_model)
    h = torch.randn(shape, device=dev, dtype=dt, generator=gen, requires_grad=True)
    r = torch.randn(shape, device=dev, dtype=dt, generator=gen, requires_grad=True)
    b = torch.randn(shape[1], device=dev, dtype=dt, generator=gen, requires_grad=True)
    g = torch.randn(shape, device=dev, dtype=dt, generator=gen)
    layer = DropoutAdd(args.p, seed=0)

    def eager(h, r, b):
        return r + functional.dropout(h + b, args.p, training=True)

    variants = {"gpureg": lambda h, r, b: layer(h, r, b), "eager": eager}
    skipped = {}
    if not args.no_compile:
        try:
            compiled = torch.compile(eager)
            t0 = time.perf_counter()
            compiled(h, r, b).backward(g)  # compile forward and backward
            skipped["compile_seconds"] = time.perf_counter() - t0
            variants["compile"] = compiled
        except Exception as exc:  # no C++ compiler, no triton, ...
            skipped["compile"] = f"{type(exc).__name__}: {exc}"[:300]
    best = _timer(torch, args.device)
    n, size = h.numel(), h.element_size()
    rows = []
    for name, fn in variants.items():

        def forward(fn=fn):
            with torch.no_grad():
                fn(h, r, b)

        def both(fn=fn):
            h.grad = r.grad = b.grad = None
            fn(h, r, b).backward(g)

        t_fwd, fwd_runs = best(forward, args.repeat)
        t_both, both_runs = best(both, args.repeat)
        (fs, fx), (bs, bx) = BYTES[name]
        fwd_bytes, bwd_bytes = fs * size + fx, bs * size + bx
        rows.append(
            dict(
                environment(),
                workload="transformer-mlp-dropout-add",
                variant=name,
                device=(
                    torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
                ),
                torch=torch.__version__,
                tokens=args.tokens,
                d_model=args.d_model,
                dtype=args.dtype,
                p=args.p,
                forward_s=t_fwd,
                forward_runs_s=fwd_runs,
                forward_backward_s=t_both,
                forward_backward_runs_s=both_runs,
                forward_bytes_per_element=fwd_bytes,
                backward_bytes_per_element=bwd_bytes,
                forward_gb_per_s=n * fwd_bytes / t_fwd / 1e9,
                forward_backward_gb_per_s=n * (fwd_bytes + bwd_bytes) / t_both / 1e9,
                **{k: v for k, v in skipped.items() if k == "compile_seconds"},
            )
        )
    base = {row["variant"]: row for row in rows}["eager"]
    print(
        f"residual + dropout(h + bias), {args.tokens} × {args.d_model} {args.dtype}, "
        f"p={args.p}, {args.device}; best of {args.repeat}"
    )
    for row in rows:
        row["forward_speedup_vs_eager"] = base["forward_s"] / row["forward_s"]
        row["forward_backward_speedup_vs_eager"] = (
            base["forward_backward_s"] / row["forward_backward_s"]
        )
        print(
            f"  {row['variant']:8} forward {row['forward_s'] * 1e3:8.2f} ms "
            f"({row['forward_gb_per_s']:6.1f} GB/s at "
            f"{row['forward_bytes_per_element']} B/elt, "
            f"{row['forward_speedup_vs_eager']:.2f}× eager); forward+backward "
            f"{row['forward_backward_s'] * 1e3:8.2f} ms "
            f"({row['forward_backward_gb_per_s']:6.1f} GB/s, "
            f"{row['forward_backward_speedup_vs_eager']:.2f}× eager)"
        )
    if "compile" in skipped:
        print(f"  compile  skipped: {skipped['compile']}")
        rows.append(dict(variant="compile", skipped=skipped["compile"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"torch_dropout_{args.device}.json"
    path.write_text(json.dumps(rows, indent=2, default=str))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
