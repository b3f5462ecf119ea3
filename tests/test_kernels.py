"""Kernel sources: the loader finds them, names exist, and they compile —
with nvcc, and through CuPy's own NVRTC path and options (no device needed),
whose PTX must not flush subnormals.  They are *executed* on the CPU by
tests/test_kernels_emulated.py."""

import re
import shutil
import subprocess

import pytest

from gpureg.backends import _kernels


def test_loader_finds_every_source_without_importing_cupy():
    d = _kernels.kernels_dir()
    for name in _kernels.KERNELS:
        assert (d / name).is_file()
        opts = _kernels.compile_options(name)
        assert any(o.startswith("-DGPUREG_SOURCE_HASH=0x") for o in opts)


@pytest.mark.parametrize("filename", sorted(_kernels.KERNELS))
def test_every_requested_kernel_is_defined_as_a_template(filename):
    text = _kernels.source(filename)
    for expr in _kernels.KERNELS[filename]:
        base = expr.split("<")[0]
        assert re.search(r"__global__\s+void\s+" + base + r"\s*\(", text), expr


def test_every_source_file_is_shipped():
    on_disk = {p.name for p in _kernels.kernels_dir().glob("*.cu")}
    assert on_disk == set(_kernels.KERNELS)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
@pytest.mark.parametrize("arch", ["sm_90", "sm_75"])
@pytest.mark.parametrize("filename", sorted(_kernels.KERNELS))
def test_nvcc_compiles_every_kernel_for_sm90(filename, arch, tmp_path):
    """Instantiate every name expression the loader asks for and compile it
    (sm_90, the target; sm_75, the oldest architecture the sources support)."""
    src = _kernels.kernels_dir() / filename
    wrapper = tmp_path / "check.cu"
    lines = [f'#include "{src}"']
    for i, expr in enumerate(_kernels.KERNELS[filename]):
        lines.append(f"void* gpureg_check_{i} = (void*)&{expr};")
    wrapper.write_text("\n".join(lines) + "\n")
    out = tmp_path / "check.o"
    cmd = [
        "nvcc",
        f"-arch={arch}",
        "-std=c++14",
        "-Werror",
        "all-warnings",
        "-c",
        str(wrapper),
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


# ------------------------------------------------- CuPy's own NVRTC path


@pytest.fixture(scope="module")
def cupy_nvrtc():
    """CuPy's compiler module and its option assembly (no device needed).

    Needs CuPy and the NVRTC library (``pip install ".[nvrtc]"``: the
    ``cupy-cuda13x`` and ``nvidia-cuda-nvrtc`` wheels); skipped without them.
    """
    try:
        import cupy._core.core as core
        from cupy.cuda import compiler
    except Exception as exc:  # noqa: BLE001 - any import failure means "absent"
        pytest.skip(f"CuPy is not importable ({exc}); pip install '.[nvrtc]'")
    try:
        version = compiler._get_nvrtc_version()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"CuPy cannot load NVRTC ({exc}); pip install '.[nvrtc]'")
    return compiler, core, version


class _Module:
    """Stands for ``cupy.cuda.function.Module`` (loading a cubin needs a device)."""

    def load(self, image):
        self.image = image

    def _set_mapping(self, mapping):
        self.mapping = mapping


def _compile_as_cupy(cupy_nvrtc, monkeypatch, filename, arch, ptx):
    """Compile ``filename`` exactly as ``cupy.RawModule`` would on an sm_<arch>
    device: the loader's options through CuPy's option assembly
    (``compile_with_cache``: include paths) and ``_compile_module_with_cache``
    (which appends ``-ftz=true``, the architecture, and more); only loading
    the result is skipped.  Returns the module, and the NVRTC options seen."""
    compiler, core, _ = cupy_nvrtc
    seen = []
    program_compile = compiler._NVRTCProgram.compile

    def spy(self, options=(), log_stream=None):
        seen.append(tuple(options))
        return program_compile(self, options, log_stream)

    monkeypatch.setattr(compiler._NVRTCProgram, "compile", spy)
    monkeypatch.setattr(compiler.function, "Module", _Module)
    # memoized per device (it asks the driver for one): the plain function
    monkeypatch.setattr(
        compiler,
        "_get_arch_for_options_for_nvrtc",
        compiler._get_arch_for_options_for_nvrtc.__wrapped__,
    )
    monkeypatch.setattr(compiler, "_use_ptx", ptx)
    monkeypatch.setenv("CUPY_CACHE_IN_MEMORY", "1")  # compile, never a cached hit
    options = core.assemble_cupy_compiler_options(_kernels.compile_options(filename))
    module = compiler._compile_module_with_cache(
        _kernels.source(filename),
        options,
        arch=arch,
        backend="nvrtc",
        name_expressions=list(_kernels.KERNELS[filename]),
    )
    return module, seen[-1]


@pytest.mark.parametrize("arch", ["90", "75"])
@pytest.mark.parametrize("filename", sorted(_kernels.KERNELS))
def test_cupy_nvrtc_compiles_every_kernel(cupy_nvrtc, monkeypatch, filename, arch):
    """Through CuPy's own NVRTC path and options, for sm_90 (the target) and
    sm_75 (the oldest supported), every name expression resolves to a kernel
    of the cubin."""
    module, options = _compile_as_cupy(
        cupy_nvrtc, monkeypatch, filename, arch, ptx=False
    )
    assert f"-arch=sm_{arch}" in options
    assert "-ftz=true" in options and "--fmad=false" in options
    assert len(module.image) > 0
    assert set(module.mapping) == set(_kernels.KERNELS[filename])
    for expr, mangled in module.mapping.items():
        assert mangled.startswith("_Z") and expr.split("<")[0] in mangled


#: Modules calling double-precision exp / log / log1p (libdevice).
TRANSCENDENTAL = {"logistic.cu"}
#: The ``.ftz`` instructions inside libdevice's double exp / log1p / log.
LIBDEVICE_FTZ = {
    "abs.ftz.f32",
    "rcp.approx.ftz.f64",
    "setp.eq.ftz.f32",
    "setp.geu.ftz.f32",
    "setp.gt.ftz.f32",
    "setp.lt.ftz.f32",
}


@pytest.mark.parametrize("arch", ["90", "75"])
@pytest.mark.parametrize("filename", sorted(_kernels.KERNELS))
def test_no_instruction_flushes_subnormals_under_cupys_ftz(
    cupy_nvrtc, monkeypatch, filename, arch
):
    """CuPy compiles with -ftz=true: a plain float/double cast then becomes
    ``cvt.rn.ftz.f32.f64`` and flushes float32 subnormals, which the numba
    twins keep.  The kernels convert through PTX without ``.ftz``: the PTX
    CuPy's options produce has no ``.ftz`` instruction at all, except, in
    modules that call double-precision ``exp``/``log``, the ones libdevice's
    implementations of those use internally (:data:`LIBDEVICE_FTZ`: range
    tests on the high word of a double and a reciprocal seed refined by Newton
    steps; never a conversion, and never applied to stored float32 values)."""
    module, options = _compile_as_cupy(
        cupy_nvrtc, monkeypatch, filename, arch, ptx=True
    )
    assert f"-arch=compute_{arch}" in options and "-ftz=true" in options
    ptx = module.image.decode() if isinstance(module.image, bytes) else module.image
    for mangled in module.mapping.values():
        assert f".entry {mangled}(" in ptx
    flushing = sorted(
        {
            line.split()[0]
            for line in ptx.splitlines()
            if ".ftz" in line and not line.lstrip().startswith("//")
        }
    )
    allowed = LIBDEVICE_FTZ if filename in TRANSCENDENTAL else set()
    assert not any(op.startswith("cvt") for op in flushing), flushing
    assert set(flushing) <= allowed, (
        f"{filename} (sm_{arch}) flushes subnormals: {sorted(set(flushing) - allowed)}"
    )
