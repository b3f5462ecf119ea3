#!/usr/bin/env bash
# GPU runbook: environment, GPU tests, GPU benchmark; one log, one exit code.
#
# Usage (from the repository root, on a machine whose Python already has
# cupy, numpy, numba, scikit-learn and pytest; nothing is installed and no
# network is used):
#
#     bash benchmarks/gpu_check.sh OUTDIR
#
# e.g. through the device tool, whose $OUT folder comes back:
#
#     bash benchmarks/gpu_check.sh "$OUT"
#
# Steps (each appends to OUTDIR/gpu_check.log, also printed, with a header
# line and its elapsed time; a failed step does not stop the next one):
#
#   env      date -u, hostname, nvidia-smi, Python/CuPy/numpy/numba/sklearn
#            versions, CUDA device name, driver and runtime versions
#   pytest   python -m pytest -m gpu  (-n 4 where pytest-xdist is installed;
#            timeout 120 s; OUTDIR/pytest_gpu.xml)
#   bench    python -m benchmarks.bench_gpu --repeat 3 --out OUTDIR
#            (timeout 120 s; W1, W2 checked against the CPU backend, then
#            timed; OUTDIR/gpu_bench.json)
#   dropout  python -m benchmarks.bench_dropout --out OUTDIR  (timeout 40 s;
#            OUTDIR/dropout_bench.json)
#   c1       python -m benchmarks.bench_c1_gpu --out OUTDIR  (timeout 60 s;
#            the binomial grid: GPU vs CPU on C1's design at 1,000 × 100,
#            then C1 itself on the GPU; OUTDIR/c1_gpu.json)
#   sparse   python -m benchmarks.bench_sparse --quick --backend gpu --out
#            OUTDIR  (timeout 60 s; the quick sparse grid, 20,000 × 10,000
#            CSR with cuSPARSE products, against the committed CPU record;
#            OUTDIR/sparse_quick_eps0.001_gpu.json)
#   dask     python -m benchmarks.bench_dask --workload w1 --backend gpu
#            --workers <GPUs> --repeat 2 --out OUTDIR  (timeout 60 s; W1
#            sharded over one Dask worker per GPU, LocalCUDACluster where
#            dask-cuda is installed, against the single process;
#            OUTDIR/dask_w1_gpu.json); skipped where distributed is not
#            importable (the lent machine's Python lacks it)
#   torch    python -m benchmarks.bench_torch_dropout --device cuda --out
#            OUTDIR  (timeout 60 s; residual + dropout(h + bias) on 4096 x
#            1024 float32, forward and forward + backward: DropoutAdd
#            against eager torch and torch.compile, bytes per element and
#            GB/s; OUTDIR/torch_dropout_cuda.json)
#   summary  python -m benchmarks.gpu_summary OUTDIR: one screen of every
#            check and figure against its target (OUTDIR/gpu_summary.txt)
#
# The kernels' compilation (nvcc, CuPy's NVRTC path) and their execution on
# the CPU emulator are CI's job (tests/test_kernels*.py) and are not repeated
# here.  Nothing is installed: the device's Python has cupy, numpy, numba,
# scikit-learn, matplotlib, pandas, tqdm, pytest (and torch, ml_dtypes,
# pytest-xdist); gpureg runs from the checkout (PYTHONPATH=.) and the
# benchmarks as modules of the checkout's benchmarks package.  Up to nine
# files come back in OUTDIR.
#
# Budget: each step's timeout is cut to what is left of GPU_CHECK_BUDGET_S
# (default 345 s), so the whole run ends within 6 minutes; a step with under
# 15 s left is not run (status 124).  Exit status: the worst (largest) step
# status; 124 or 137 means a step hit its timeout.  Without a GPU the gpu
# tests skip and benchmarks.bench_gpu exits 3 ("no CuPy / no device").
#
# Environment: PYTHON (default python3).  NUMBA_CACHE_DIR and CUPY_CACHE_DIR
# go under /tmp so a read-only checkout works.

set -u

if [ "$#" -ne 1 ]; then
    echo "usage: bash benchmarks/gpu_check.sh OUTDIR" >&2
    exit 64
fi
OUTDIR=$1
mkdir -p "$OUTDIR" || exit 73
OUTDIR=$(cd "$OUTDIR" && pwd)
LOG="$OUTDIR/gpu_check.log"
PY=${PYTHON:-python3}

export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
CACHE_ROOT=$(mktemp -d /tmp/gpureg_gpu_check.XXXXXX)
export NUMBA_CACHE_DIR="$CACHE_ROOT/numba"
export CUPY_CACHE_DIR="${CUPY_CACHE_DIR:-$CACHE_ROOT/cupy}"
mkdir -p "$NUMBA_CACHE_DIR" "$CUPY_CACHE_DIR"

T_START=$SECONDS
# Hard deadline for the whole run (seconds); every step's timeout is cut to
# what is left of it, so the script ends within 6 minutes.
BUDGET_S=${GPU_CHECK_BUDGET_S:-345}
STEP_NAMES=()
STEP_CODES=()

log() {
    # Print a line and append it to the log.
    printf '%s\n' "$*" | tee -a "$LOG"
}

run_step() {
    # run_step NAME TIMEOUT_S COMMAND...: run COMMAND under `timeout`, cut to
    # the time left before the deadline, with output teed to the log; record
    # its exit status and elapsed seconds.
    local name=$1 limit=$2
    shift 2
    local left=$((BUDGET_S - (SECONDS - T_START)))
    log ""
    if [ "$left" -lt 15 ]; then
        log "===== [$name] not run: only ${left} s left of the ${BUDGET_S} s budget"
        STEP_NAMES+=("$name (no time left)")
        STEP_CODES+=(124)
        return
    fi
    if [ "$((left - 5))" -lt "$limit" ]; then
        limit=$((left - 5))
    fi
    local t0=$SECONDS
    log "===== [$name] $(date -u +%Y-%m-%dT%H:%M:%SZ) timeout ${limit}s \$ $*"
    timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$LOG"
    local code=${PIPESTATUS[0]}
    log "===== [$name] exit $code after $((SECONDS - t0)) s" \
        "(total $((SECONDS - T_START)) s)"
    STEP_NAMES+=("$name")
    STEP_CODES+=("$code")
}

skip_step() {
    # skip_step NAME WHY: record a skipped step (status 0).
    log ""
    log "===== [$1] skipped: $2"
    STEP_NAMES+=("$1 (skipped)")
    STEP_CODES+=(0)
}

env_report() {
    # Host, driver and library versions; never fails the run.
    echo "date -u: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "hostname: $(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
    echo "repo: $(pwd) @ $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
         "$(git status --porcelain 2>/dev/null | wc -l | tr -d ' ') changed files"
    echo "python: $PY -> $(command -v "$PY" || echo 'not found')"
    if command -v nvidia-smi >/dev/null 2>&1; then
        timeout 20 nvidia-smi || echo "nvidia-smi failed ($?)"
    else
        echo "nvidia-smi: not present"
    fi
    timeout 45 "$PY" -c '
import platform, sys
print("python", platform.python_version(), sys.executable)
for name in ("numpy", "numba", "sklearn", "scipy", "pytest", "cupy"):
    try:
        mod = __import__(name)
        print(name, getattr(mod, "__version__", "?"))
    except Exception as exc:
        print(f"{name}: not importable ({exc.__class__.__name__}: {exc})")
try:
    import cupy
    rt = cupy.cuda.runtime
    n = rt.getDeviceCount()
    for i in range(n):
        name = rt.getDeviceProperties(i)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        print(f"device {i}: {name}")
    print(f"CUDA driver API {rt.driverGetVersion()}, runtime {rt.runtimeGetVersion()}")
except Exception as exc:
    print(f"cupy device query failed: {exc.__class__.__name__}: {exc}")
try:
    import gpureg
    from gpureg.backends import get_backend
    print("gpureg", gpureg.__version__, "gpu backend:",
          get_backend("gpu").missing_reason() or "available")
except Exception as exc:
    print(f"gpureg: {exc.__class__.__name__}: {exc}")
' || echo "version query failed ($?)"
    return 0
}

log "gpu_check.sh: $(date -u +%Y-%m-%dT%H:%M:%SZ), out $OUTDIR, python $PY"

# (a) environment (its commands carry their own timeouts: 20 s + 45 s)
t0=$SECONDS
log ""
log "===== [env] $(date -u +%Y-%m-%dT%H:%M:%SZ)"
env_report 2>&1 | tee -a "$LOG"
log "===== [env] exit 0 after $((SECONDS - t0)) s (total $((SECONDS - T_START)) s)"
STEP_NAMES+=("env")
STEP_CODES+=(0)

# (b) the GPU-marked tests (in 4 processes where pytest-xdist is there)
XDIST=()
if "$PY" -c "import xdist" >/dev/null 2>&1; then
    XDIST=(-n 4)
fi
run_step pytest-gpu 120 "$PY" -m pytest -m gpu "${XDIST[@]}" -v -p no:cacheprovider \
    --junitxml="$OUTDIR/pytest_gpu.xml"

# (c) the GPU benchmark (W1, W2): checks, then timings, then JSON rows
run_step bench-gpu 120 "$PY" -m benchmarks.bench_gpu --repeat 3 --out "$OUTDIR"

# (d) the dropout benchmark
run_step bench-dropout 40 "$PY" -m benchmarks.bench_dropout --out "$OUTDIR"

# (e) the binomial grid (C1): GPU against CPU, then C1 on the GPU
run_step bench-c1-gpu 60 "$PY" -m benchmarks.bench_c1_gpu --out "$OUTDIR"

# (f) the quick sparse grid on the GPU (X as CSR, cuSPARSE products)
run_step bench-sparse-gpu 60 "$PY" -m benchmarks.bench_sparse --quick --backend gpu \
    --out "$OUTDIR"

# (g) W1 sharded over a Dask cluster of one worker per GPU (LocalCUDACluster
#     where dask-cuda is installed), against the single process
if "$PY" -c "import distributed" >/dev/null 2>&1; then
    NGPU=$("$PY" -c "import cupy; print(cupy.cuda.runtime.getDeviceCount())" \
        2>/dev/null || echo 1)
    run_step bench-dask-gpu 60 "$PY" -m benchmarks.bench_dask --workload w1 \
        --backend gpu --workers "$NGPU" --repeat 2 --out "$OUTDIR"
else
    skip_step bench-dask-gpu "dask.distributed is not installed on this machine \
(pip install 'gpureg[dask]' dask-cuda, or carry their wheels)"
fi

# (h) gpureg.torch's fused dropout-add in a transformer MLP block against
#     eager torch and torch.compile (torch with CUDA: the device's Python)
run_step bench-torch-dropout-gpu 60 "$PY" -m benchmarks.bench_torch_dropout \
    --device cuda --out "$OUTDIR"

# (i) one screen: every check and figure against its target
run_step summary 15 "$PY" -m benchmarks.gpu_summary "$OUTDIR"

rm -rf "$CACHE_ROOT"

worst=0
log ""
log "===== summary ($((SECONDS - T_START)) s in all; log $LOG)"
for i in "${!STEP_NAMES[@]}"; do
    log "$(printf '  %-26s exit %s' "${STEP_NAMES[$i]}" "${STEP_CODES[$i]}")"
    if [ "${STEP_CODES[$i]}" -gt "$worst" ]; then
        worst=${STEP_CODES[$i]}
    fi
done
log "worst exit status: $worst"
exit "$worst"
