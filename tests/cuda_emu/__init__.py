"""Run gpureg's CUDA kernels on the CPU, through gpureg's own launchers.

Two parts:

* **The emulated kernels** (:func:`build`, :class:`Emulator`): every
  ``kernels/*.cu`` file is compiled with g++ (C++20) against
  ``cuda_cpu_shim.h``, a small CUDA emulator in which every thread of a block
  is a fiber and ``__syncthreads`` / ``__shfl_*_sync`` are real barriers (see
  the header).  The harness is generated from the loader's own list of name
  expressions (``gpureg.backends._kernels.KERNELS``), so every instantiation
  the loader can request is built, and each kernel's C parameter list is read
  back from the compiled function type (no hand-written signatures).
* **A CuPy stand-in** (:func:`fake_cupy`): a module over numpy whose arrays
  (:class:`DevArray`) play device arrays — they know their device, carry
  guard bytes around every allocation the stand-in makes, and are counted by
  a live-bytes allocator (:data:`MEMORY`) — and whose ``RawModule`` /
  ``RawKernel`` marshal arguments by CuPy's rules (device array → pointer,
  numpy scalar → its bytes, Python int → int64, float → float64, bool → 1
  byte) and check them against the kernel's C signature, the device the
  arrays live on, the launch geometry, and, after the launch, the guards.

Nothing here is part of the library; ``tests/test_kernels_emulated.py`` and
the memory-planner tests use it.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import weakref
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHIM = HERE / "cuda_cpu_shim.h"

#: g++ flags.  -ffp-contract=off: no a*b+c -> FMA, as NVRTC's --fmad=false.
#: -fno-strict-aliasing: load_chunk/store_chunk read a uint4 through S*.
CXXFLAGS = (
    "-std=c++20",
    "-O2",
    "-ffp-contract=off",
    "-fno-fast-math",
    "-fno-strict-aliasing",
    "-fPIC",
    "-shared",
    "-Wall",
    "-Werror",
    "-Wno-unknown-pragmas",
)
#: The oldest g++ that builds the emulator (C++20, ``if constexpr``).
MIN_GXX = 12


# ------------------------------------------------------------------ build


def compiler_problem() -> str | None:
    """Why the emulator cannot be built here (None when it can)."""
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        return f"{cxx} is not installed (the CUDA emulator needs g++ >= {MIN_GXX})"
    try:
        version = subprocess.run(
            [cxx, "-dumpversion"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        major = int(version.split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        return f"could not read the version of {cxx}: {exc}"
    if major < MIN_GXX:
        return f"{cxx} {version} is older than g++ {MIN_GXX} (C++20 needed)"
    return None


def harness_source(kernels: dict[str, tuple[str, ...]]) -> str:
    """C++ source of the harness: every name expression behind one C ABI.

    Each ``.cu`` file is its own CUDA module on the device, so each is
    included in a namespace of its own here (helpers of the same name in two
    files do not collide).
    """
    lines = [
        '#include "cuda_cpu_shim.h"',
        "#include <iterator>",
        "#include <string>",
        "#include <type_traits>",
        "#include <utility>",
        "#include <vector>",
        "namespace emu {",
        "template <typename T> std::string code() {",
        '    if constexpr (std::is_pointer_v<T>) return "p";',
        '    else if constexpr (std::is_same_v<T, bool>) return "b1";',
        "    else if constexpr (std::is_floating_point_v<T>)",
        '        return "f" + std::to_string(sizeof(T));',
        "    else if constexpr (std::is_signed_v<T>)",
        '        return "i" + std::to_string(sizeof(T));',
        '    else return "u" + std::to_string(sizeof(T));',
        "}",
        "template <typename... P> std::string sig(void (*)(P...)) {",
        "    std::string s;",
        '    ((s += code<std::remove_cv_t<P>>() + " "), ...);',
        "    return s;",
        "}",
        "template <typename... P, std::size_t... I>",
        "void call(void (*fn)(P...), void** a, std::index_sequence<I...>) {",
        "    fn(*static_cast<std::remove_cv_t<P>*>(a[I])...);",
        "}",
        "template <typename... P> void call(void (*fn)(P...), void** a) {",
        "    call(fn, a, std::index_sequence_for<P...>{});",
        "}",
        "struct Entry { const char* name; std::string sig; void (*fn)(void**); };",
        "}  // namespace emu",
    ]
    for i, (filename, exprs) in enumerate(kernels.items()):
        lines += [
            f"namespace module{i} {{",
            f'#include "{filename}"',
            "const emu::Entry entries[] = {",
        ]
        for expr in exprs:
            lines.append(
                f'    {{"{expr}", emu::sig(&{expr}), '
                f"[](void** a) {{ emu::call(&{expr}, a); }}}},"
            )
        lines += ["};", f"}}  // namespace module{i}"]
    lines += [
        "static const std::vector<emu::Entry> kEntries = [] {",
        "    std::vector<emu::Entry> v;",
        *[
            f"    v.insert(v.end(), std::begin(module{i}::entries), "
            f"std::end(module{i}::entries));"
            for i in range(len(kernels))
        ],
        "    return v;",
        "}();",
        'extern "C" {',
        "int gpureg_emu_count() { return (int)kEntries.size(); }",
        "const char* gpureg_emu_name(int i) { return kEntries[i].name; }",
        "const char* gpureg_emu_signature(int i) { return kEntries[i].sig.c_str(); }",
        "// 0 on success, -1 unknown kernel, else the number of emulator errors",
        "int gpureg_emu_launch(const char* name, unsigned gx, unsigned gy,",
        "                      unsigned gz, unsigned bx, unsigned by, unsigned bz,",
        "                      void** args) {",
        "    for (const emu::Entry& e : kEntries) {",
        "        if (std::strcmp(e.name, name) != 0) continue;",
        "        const long long before = cudaemu::stats.errors;",
        "        cudaemu::launch(cudaemu::dim3{gx, gy, gz}, cudaemu::dim3{bx, by, bz},",
        "                        [&] { e.fn(args); });",
        "        return (int)(cudaemu::stats.errors - before);",
        "    }",
        "    return -1;",
        "}",
        "void gpureg_emu_set_schedule(int warp_ahead, unsigned long long seed) {",
        "    cudaemu::schedule_ = warp_ahead; cudaemu::seed_ = seed;",
        "}",
        "const char* gpureg_emu_last_error() {",
        "    return cudaemu::stats.first_error.c_str();",
        "}",
        "void gpureg_emu_counts(long long* out) {",
        "    out[0] = cudaemu::stats.blocks; out[1] = cudaemu::stats.fiber_switches;",
        "    out[2] = cudaemu::stats.syncthreads; out[3] = cudaemu::stats.warp_syncs;",
        "    out[4] = cudaemu::stats.errors; out[5] = cudaemu::stats.warnings;",
        "}",
        "void gpureg_emu_reset() { cudaemu::stats = cudaemu::Stats{}; }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def build(
    kernels_dir: Path,
    kernels: dict[str, tuple[str, ...]],
    cache_dir: Path | None = None,
) -> Path:
    """Compile the emulated kernels into a shared library (cached by content).

    Parameters
    ----------
    kernels_dir : Path
        Directory of the ``.cu`` sources.
    kernels : dict
        File name → name expressions (the loader's ``KERNELS``).
    cache_dir : Path, optional
        Where libraries are kept, one per content hash (default: a
        ``gpureg-cuda-emu`` folder in the system's temporary directory).

    Returns
    -------
    Path
        The ``.so``; parallel test workers wait for one another's build.
    """
    cxx = os.environ.get("CXX", "g++")
    src = harness_source(kernels)
    h = hashlib.sha256()
    for part in (
        src,
        SHIM.read_text(),
        " ".join(CXXFLAGS),
        cxx,
        *[(kernels_dir / n).read_text() for n in kernels],
        *[h.read_text() for h in sorted(kernels_dir.glob("*.cuh"))],
    ):
        h.update(part.encode())
    cache_dir = Path(cache_dir or Path(tempfile.gettempdir()) / "gpureg-cuda-emu")
    cache_dir.mkdir(parents=True, exist_ok=True)
    lib = cache_dir / f"libcudaemu-{h.hexdigest()[:16]}.so"
    with open(cache_dir / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not lib.exists():
            with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
                harness = Path(tmp) / "harness.cpp"
                harness.write_text(src)
                out = Path(tmp) / "lib.so"
                cmd = [
                    cxx,
                    *CXXFLAGS,
                    f"-I{HERE}",
                    f"-I{kernels_dir}",
                    str(harness),
                    "-o",
                    str(out),
                ]
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                if proc.returncode != 0:
                    raise RuntimeError(
                        "building the CUDA emulator failed:\n"
                        + " ".join(cmd)
                        + "\n"
                        + proc.stderr
                    )
                os.replace(out, lib)
    return lib


class Emulator:
    """The built library: kernel names, C signatures, launches, counters."""

    def __init__(self, path: Path):
        self.lib = lib = ctypes.CDLL(str(path))
        lib.gpureg_emu_name.restype = ctypes.c_char_p
        lib.gpureg_emu_signature.restype = ctypes.c_char_p
        lib.gpureg_emu_last_error.restype = ctypes.c_char_p
        lib.gpureg_emu_launch.argtypes = (
            [ctypes.c_char_p] + [ctypes.c_uint] * 6 + [ctypes.c_void_p]
        )
        lib.gpureg_emu_set_schedule.argtypes = [ctypes.c_int, ctypes.c_ulonglong]
        self.signatures = {
            lib.gpureg_emu_name(i).decode(): lib.gpureg_emu_signature(i)
            .decode()
            .split()
            for i in range(lib.gpureg_emu_count())
        }
        #: ``(name, grid, block)`` of every launch since the last :meth:`reset`.
        self.launches: list = []

    def set_schedule(self, warp_ahead: bool = True, seed: int = 0):
        """Warp order of the following launches (see cuda_cpu_shim.h)."""
        self.lib.gpureg_emu_set_schedule(int(warp_ahead), seed)

    def counts(self) -> dict:
        """Blocks, fiber switches, barriers, errors and warnings so far."""
        out = (ctypes.c_longlong * 6)()
        self.lib.gpureg_emu_counts(out)
        keys = (
            "blocks",
            "fiber_switches",
            "syncthreads",
            "warp_syncs",
            "errors",
            "warnings",
        )
        return dict(zip(keys, out, strict=True))

    def reset(self):
        """Zero the counters and forget the launches."""
        self.lib.gpureg_emu_reset()
        self.launches.clear()

    def launch(self, name, grid, block, argv):
        """Run one kernel; raises with the emulator's first error."""
        rc = self.lib.gpureg_emu_launch(name.encode(), *grid, *block, argv)
        self.launches.append((name, grid, block))
        if rc == -1:
            raise KeyError(f"{name} is not built into the emulator")
        if rc:
            raise RuntimeError(
                f"{name}: the emulator reported {rc} error(s); first: "
                f"{self.lib.gpureg_emu_last_error().decode()}"
            )


# ------------------------------------------------- device arrays, counted


#: Live and peak bytes of every device buffer (see :class:`DevArray`).
MEMORY = {"live": 0, "peak": 0}
_OWNERS: dict = {}
GUARD = 64  # bytes before and after every buffer the stand-in allocates
CANARY = 0xA5


def reset_peak():
    """Start a new peak measurement at the current live bytes."""
    MEMORY["peak"] = MEMORY["live"]


def _owner(a):
    o = a
    while isinstance(o.base, np.ndarray):
        o = o.base
    return o


def _count(o):
    key = id(o)
    if key in _OWNERS:
        return
    _OWNERS[key] = o.nbytes
    MEMORY["live"] += o.nbytes
    MEMORY["peak"] = max(MEMORY["peak"], MEMORY["live"])

    def release(key=key):
        MEMORY["live"] -= _OWNERS.pop(key)

    weakref.finalize(o, release)


class DevArray(np.ndarray):
    """A numpy array posing as a CuPy array.

    Every buffer a DevArray lives in is counted in :data:`MEMORY` while it is
    alive (including the results of numpy operations on DevArrays, as CuPy
    allocates them on the device); ``device`` is the device that was current
    when it was made; ``data.ptr`` is its address.  Its type claims to live
    in module ``cupy``, as CuPy's ndarray does (gpureg tells array families
    apart by module).
    """

    __module__ = "cupy"

    def __array_finalize__(self, obj):
        self.device_id = getattr(obj, "device_id", _STATE["device"])
        _count(_owner(self))

    @property
    def data(self):  # noqa: D102
        return types.SimpleNamespace(ptr=self.ctypes.data)

    @property
    def device(self):  # noqa: D102
        return types.SimpleNamespace(id=self.device_id)

    @property
    def __cuda_array_interface__(self):  # noqa: D105 - what CuPy arrays expose
        return {
            "shape": self.shape,
            "typestr": self.dtype.str,
            "data": (self.ctypes.data, False),
            "version": 3,
            "strides": None if self.flags.c_contiguous else self.strides,
        }

    def get(self, stream=None):
        """A host copy (records the stream it was ordered on)."""
        _STATE["gets"].append((_STATE["device"], _STATE["stream"], self.device_id))
        return np.array(self)


_STATE = {"device": 0, "stream": None, "gets": [], "sms": 132, "n_devices": 2}


def _guarded_empty(shape, dtype):
    """A new device buffer with :data:`GUARD` canary bytes on each side."""
    dtype = np.dtype(dtype)
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.full(nbytes + 2 * GUARD, CANARY, dtype=np.uint8)
    body = raw[GUARD : GUARD + nbytes].view(dtype).reshape(shape)
    arr = body.view(DevArray)
    arr.device_id = _STATE["device"]
    return arr


def guards_intact(a) -> bool:
    """False when bytes just outside a stand-in buffer were written."""
    raw = _owner(a)
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size < 2 * GUARD:
        return True  # not one of ours (e.g. a numpy result): nothing to check
    body = raw.size - 2 * GUARD
    return bool((raw[:GUARD] == CANARY).all() and (raw[GUARD + body :] == CANARY).all())


def to_dev(a, dtype=None):
    """A guarded device copy of ``a`` (any array-like)."""
    a = np.asarray(a, dtype=dtype)
    out = _guarded_empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def fake_cupy(emulator: Emulator | None = None):
    """A fresh ``cupy`` stand-in module (kernels run on ``emulator``)."""
    cupy = types.ModuleType("cupy")
    cupy.__version__ = "0-emulated"
    cupy.ndarray = DevArray

    def numpy_fallback(name):
        return getattr(np, name)

    cupy.__getattr__ = numpy_fallback  # anything else: numpy's

    def empty(shape, dtype=float, order="C"):
        return _guarded_empty(shape, dtype)

    def zeros(shape, dtype=float, order="C"):
        out = _guarded_empty(shape, dtype)
        out[...] = 0
        return out

    def ones(shape, dtype=float):
        out = _guarded_empty(shape, dtype)
        out[...] = 1
        return out

    def full(shape, value, dtype=None):
        out = _guarded_empty(shape, np.result_type(value) if dtype is None else dtype)
        out[...] = value
        return out

    def asarray(a, dtype=None, order=None):
        if isinstance(a, DevArray) and (dtype is None or a.dtype == dtype):
            return a
        return to_dev(a, dtype)

    def ascontiguousarray(a, dtype=None):
        a = asarray(a, dtype)
        return a if a.flags.c_contiguous else to_dev(a)

    def empty_like(a, dtype=None):
        return empty(a.shape, a.dtype if dtype is None else dtype)

    def zeros_like(a, dtype=None):
        return zeros(a.shape, a.dtype if dtype is None else dtype)

    def asnumpy(a):
        return a.get() if isinstance(a, DevArray) else np.asarray(a)

    for f in (
        empty,
        zeros,
        ones,
        full,
        asarray,
        ascontiguousarray,
        empty_like,
        zeros_like,
        asnumpy,
    ):
        setattr(cupy, f.__name__, f)

    class Device:
        def __init__(self, device=None):
            self.id = _STATE["device"] if device is None else int(device)
            if not 0 <= self.id < _STATE["n_devices"]:
                raise ValueError(f"no device {self.id}")
            self.attributes = {"MultiProcessorCount": _STATE["sms"]}
            self._prev = []

        def __enter__(self):
            self._prev.append(_STATE["device"])
            _STATE["device"] = self.id
            return self

        def __exit__(self, *exc):
            _STATE["device"] = self._prev.pop()

        def use(self):
            _STATE["device"] = self.id

        def synchronize(self):
            pass

        @property
        def mem_info(self):
            return (1 << 34, 1 << 34)

    class ExternalStream:
        def __init__(self, ptr, device_id=-1):
            self.ptr = ptr
            self._prev = []

        def __enter__(self):
            self._prev.append(_STATE["stream"])
            _STATE["stream"] = self.ptr
            return self

        def __exit__(self, *exc):
            _STATE["stream"] = self._prev.pop()

    class RawModule:
        def __init__(self, code=None, options=(), name_expressions=None, **kw):
            self.code, self.options = code, tuple(options)
            self.name_expressions = tuple(name_expressions or ())

        def get_function(self, name):
            if name not in self.name_expressions:
                raise KeyError(f"{name} was not among the name expressions")
            if emulator is None:
                raise RuntimeError("this stand-in has no emulated kernels")
            return RawKernel(name, emulator)

    class MemoryPool:
        def free_bytes(self):
            return 0

    cupy.cuda = types.SimpleNamespace(
        Device=Device,
        ExternalStream=ExternalStream,
        runtime=types.SimpleNamespace(getDeviceCount=lambda: _STATE["n_devices"]),
    )
    cupy.RawModule = RawModule
    cupy.get_default_memory_pool = MemoryPool
    return cupy


def configure(*, device=0, sms=132, n_devices=2):
    """Reset the stand-in's state: current device, SM count, the get log."""
    _STATE.update(device=device, stream=None, gets=[], sms=sms, n_devices=n_devices)


# ---------------------------------------------------------------- kernels


_CTYPES = {
    "i4": ctypes.c_int32,
    "i8": ctypes.c_int64,
    "u4": ctypes.c_uint32,
    "u8": ctypes.c_uint64,
    "f8": ctypes.c_double,
    "f4": ctypes.c_float,
    "b1": ctypes.c_bool,
}


def _marshal(x):
    """CuPy's rules for one RawKernel argument → (C kind, ctypes value)."""
    if x is None:
        return "p", ctypes.c_void_p(0)
    if isinstance(x, DevArray):
        return "p", ctypes.c_void_p(x.ctypes.data)
    if isinstance(x, np.ndarray):
        raise TypeError("a host (numpy) array was passed to a CUDA kernel")
    if isinstance(x, np.generic):
        dt = np.dtype(type(x))
        kind = {"i": "i", "u": "u", "f": "f", "b": "b"}[dt.kind] + str(dt.itemsize)
        return kind, _CTYPES[kind](x.item()) if kind in _CTYPES else None
    if isinstance(x, bool):
        return "b1", ctypes.c_bool(x)
    if isinstance(x, int):
        return "i8", ctypes.c_int64(x)
    if isinstance(x, float):
        return "f8", ctypes.c_double(x)
    raise TypeError(f"CuPy would reject a kernel argument of type {type(x)}")


class RawKernel:
    """A CuPy ``RawKernel`` whose launches run on the emulator."""

    def __init__(self, name, emulator):
        self.name = name
        self.emu = emulator

    def __call__(self, grid, block, args, shared_mem=0, stream=None):
        """Check the arguments as the driver would see them, then launch."""
        grid = (tuple(int(g) for g in grid) + (1, 1))[:3]
        block = (tuple(int(b) for b in block) + (1, 1))[:3]
        sig = self.emu.signatures[self.name]
        if len(args) != len(sig):
            raise TypeError(
                f"{self.name}: {len(args)} arguments, the kernel takes {len(sig)}"
            )
        keep = []
        for i, (a, want) in enumerate(zip(args, sig, strict=True)):
            kind, obj = _marshal(a)
            # np.uintp(0) is how the launchers pass NULL
            if not (kind == want or (want == "p" and kind == "u8" and int(a) == 0)):
                raise TypeError(
                    f"{self.name}: argument {i} is passed as {kind}, the "
                    f"kernel expects {want}"
                )
            if isinstance(a, DevArray) and a.device_id != _STATE["device"]:
                raise RuntimeError(
                    f"{self.name}: argument {i} lives on device "
                    f"{a.device_id}, the launch is on device "
                    f"{_STATE['device']}"
                )
            keep.append(ctypes.c_void_p(0) if kind == "u8" and want == "p" else obj)
        if min(grid + block) < 1 or block[0] * block[1] * block[2] > 1024:
            raise ValueError(f"{self.name}: bad launch geometry {grid} {block}")
        ptrs = [ctypes.cast(ctypes.pointer(o), ctypes.c_void_p) for o in keep]
        argv = (ctypes.c_void_p * len(ptrs))(*ptrs)
        self.emu.launch(self.name, grid, block, argv)
        for i, a in enumerate(args):
            if isinstance(a, DevArray) and not guards_intact(a):
                raise RuntimeError(
                    f"{self.name}: argument {i} was written out of bounds"
                )


def install(monkeypatch, emulator=None, **state):
    """Put a fresh stand-in in ``sys.modules['cupy']`` for one test.

    Returns
    -------
    module
        The stand-in; the loader's module cache is emptied so that it compiles
        (here: looks up) the kernels again.
    """
    from gpureg.backends import _kernels

    configure(**state)
    cupy = fake_cupy(emulator)
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setattr(_kernels, "_MODULES", {})
    return cupy


# ------------------------------------------------------- C signatures


def parse_signatures(source: str) -> dict[str, list[str]]:
    """``__global__`` kernels of a ``.cu`` source → parameter kinds.

    A cross-check of the compiled signatures for readers of the source: each
    parameter is ``p`` (pointer) or its scalar type's kind and size.
    """
    kinds = {
        "int": "i4",
        "long long": "i8",
        "unsigned int": "u4",
        "unsigned long long": "u8",
        "double": "f8",
        "float": "f4",
        "bool": "b1",
    }
    out = {}
    source = re.sub(r"//[^\n]*", "", source)
    for m in re.finditer(r"__global__\s+void\s+(\w+)\s*\(([^)]*)\)", source):
        params = []
        for raw in m.group(2).split(","):
            decl = raw.strip()
            if "*" in decl:
                params.append("p")
                continue
            words = [w for w in decl.split() if w not in ("const", "__restrict__")]
            params.append(kinds[" ".join(words[:-1])])
        out[m.group(1)] = params
    return out
