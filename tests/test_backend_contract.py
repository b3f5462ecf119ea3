"""The backend contract (``gpureg.backends._contract.Backend``) and the rule
that keeps device code inside ``gpureg/backends/``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import gpureg
from gpureg._batch import GramBatch, ResidualBatch, training_weights
from gpureg.backends import _gpu, _numba, _numpy, get_backend, stacked_eigh
from gpureg.backends._contract import Backend

PACKAGE = Path(gpureg.__file__).parent
MODULES = {"cpu": _numba, "numpy": _numpy, "gpu": _gpu}
CONTRACT = sorted(
    name
    for name, fn in vars(Backend).items()
    if callable(fn) and not name.startswith("_")
)


def test_the_contract_names_every_device_concern():
    assert CONTRACT == [
        "array_module",
        "build_batch",
        "caller_state",
        "device_name",
        "is_available",
        "memory_budget",
        "missing_reason",
        "solve_paths",
        "synchronize",
        "to_device",
        "to_host",
    ]


# ids without the word "gpu": a test id "gpu" would be skipped as gpu-marked,
# and this one needs no device
@pytest.mark.parametrize("name", sorted(MODULES), ids=lambda n: f"backend_{n[0]}")
def test_every_backend_implements_the_contract(name):
    module = MODULES[name]
    assert get_backend(name) is module
    assert isinstance(module, Backend)
    for fn_name in CONTRACT:
        want = list(inspect.signature(getattr(Backend, fn_name)).parameters.values())
        got = list(inspect.signature(getattr(module, fn_name)).parameters.values())
        assert [(p.name, p.kind, p.default) for p in got] == [
            (p.name, p.kind, p.default)
            for p in want[1:]  # no self
        ], f"{name}.{fn_name}"


#: Calls whose first argument names a module to load or look up.
_LOOKUPS = {"get", "import_module", "__import__", "find_spec"}


def _names_cupy(node) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split(".")[0] in ("cupy", "cupyx")
    )


def _cupy_uses(source: str) -> list[int]:
    """Lines that import cupy (or cupyx) or look it up as a module.

    Import statements, ``sys.modules["cupy"]``, ``sys.modules.get("cupy")``,
    ``importlib.import_module("cupy")`` and ``__import__("cupy")``; other
    strings (a family label, a docstring) are not a use.
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            hit = any(a.name.split(".")[0] in ("cupy", "cupyx") for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            hit = (node.module or "").split(".")[0] in ("cupy", "cupyx")
        elif isinstance(node, ast.Subscript):
            hit = _names_cupy(node.slice)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else ""
            name = name or getattr(func, "id", "")
            hit = name in _LOOKUPS and _names_cupy(node.args[0])
        else:
            hit = False
        if hit:
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_finds_every_way_to_reach_cupy():
    source = (
        "import numpy, cupy\n"
        "def f():\n"
        "    from cupy.cuda import Device\n"
        "    import cupyx.scipy\n"
        "import sys\n"
        "c = sys.modules['cupy']\n"
        "d = sys.modules.get('cupy')\n"
        "e = __import__('cupy.cuda')\n"
        '"""cupy in a docstring"""\n'
        "family = 'cupy' if mod == 'cupy' else 'numpy'\n"
    )
    assert _cupy_uses(source) == [1, 3, 4, 6, 7, 8]


def test_only_the_backends_import_cupy():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "backends":
            continue
        lines = _cupy_uses(path.read_text())
        if lines:
            offenders[str(rel)] = lines
    assert offenders == {}


def test_host_backends_keep_everything_on_the_host():
    a = np.arange(6.0).reshape(2, 3)
    for module in (_numba, _numpy):
        assert module.is_available() and module.missing_reason() is None
        assert module.array_module() is np
        assert module.to_device(a) is a and module.to_host(a) is a
        assert module.memory_budget() is None
        assert module.synchronize() is None
        assert "cores)" in module.device_name()
        with module.caller_state()():
            pass


@pytest.mark.parametrize(
    "mode, kind", [("gram", GramBatch), ("residual", ResidualBatch)]
)
def test_host_build_batch_gives_the_form_asked_for(mode, kind):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    W = training_weights(30, [], None)
    kw = dict(fit_intercept=True, standardize=False, dtype=np.float64)
    batch = _numba.build_batch(X, y, W, mode=mode, **kw)
    assert type(batch) is kind
    np.testing.assert_allclose(batch.stats.y_mean, [y.mean()])


def test_stacked_eigh_on_numpy_and_the_device_path():
    class Foreign:  # numpy under another name: takes the one-per-matrix path
        def __getattr__(self, name):
            return getattr(np, name)

    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 40, 40))
    M = A @ A.transpose(0, 2, 1)
    for xp in (np, Foreign()):
        e, V = stacked_eigh(xp, M)
        np.testing.assert_allclose(
            V @ (e[:, :, None] * V.transpose(0, 2, 1)), M, atol=1e-9
        )
