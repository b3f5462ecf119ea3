"""Kernel sources: the loader finds them, names exist, nvcc compiles them for sm_90."""

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
    cmd = ["nvcc", f"-arch={arch}", "-std=c++14", "-Werror", "all-warnings", "-c",
           str(wrapper), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
