"""What a first ``gpureg`` command imports (issue 13, first run).

``import gpureg`` and the command line's parser import neither scikit-learn,
numba, pandas nor matplotlib: the solver and the estimators are imported on
first use, matplotlib only when plots are drawn.  No timings here; the times
are measured by ``benchmarks/first_run.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gpureg

HEAVY = ("sklearn", "numba", "pandas", "scipy", "matplotlib")


def test_import_and_parser_import_no_heavy_module():
    code = (
        "import json, sys\n"
        "import gpureg, gpureg.cli\n"
        "gpureg.cli.build_parser().parse_args(['demo', '--svg'])\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_lazy_public_names_resolve():
    from gpureg import ElasticNetCV, fit_grid  # noqa: F401

    for name in gpureg.__all__:
        assert getattr(gpureg, name) is not None, name
        assert name in dir(gpureg)
    # The function, not the submodule of the same name.
    assert callable(gpureg.dropout) and gpureg.dropout.__name__ == "dropout"
    assert gpureg.fit_grid.__module__ == "gpureg._fit"
    assert gpureg._fit.fit_grid is gpureg.fit_grid  # submodules as attributes
    with pytest.raises(AttributeError, match="no_such_name"):
        gpureg.no_such_name  # noqa: B018
