"""``python -m gpureg`` and the embedded diabetes data."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import gpureg


def _run(*args, timeout=300):
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    return subprocess.run(
        [sys.executable, "-m", "gpureg", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_demo_runs_and_reports_the_chosen_model():
    proc = _run("--backend", "cpu", "--cv", "3", "--alphas", "10")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "best:" in out
    assert "alpha_1se" in out
    assert "442 samples, 10 features" in out
    assert "3-fold CV" in out
    # 7 default l1_ratios x 10 alphas x (3 folds + full data), all certified.
    assert "280 fits" in out
    assert "certified: 280 of 280" in out
    # The printed optimum is the library's own answer on the same grid.
    X, y, names = gpureg.load_diabetes()
    res = gpureg.fit_grid(
        X,
        y,
        l1_ratio=[0, 0.1, 0.5, 0.7, 0.9, 0.95, 1],
        alphas=10,
        cv=3,
        standardize=True,
        backend="cpu",
    )
    m = re.search(r"best: alpha_=([0-9.eE+-]+), l1_ratio_=([0-9.eE+-]+)", out)
    assert m is not None
    assert float(m.group(1)) == pytest.approx(res.alpha_, rel=1e-5)
    assert float(m.group(2)) == pytest.approx(res.l1_ratio_)
    m = re.search(r"alpha_1se_=([0-9.eE+-]+)", out)
    assert float(m.group(1)) == pytest.approx(res.alpha_1se_, rel=1e-5)
    for name in names:
        assert re.search(rf"^\s+{name}\s+-?[0-9.]", out, flags=re.MULTILINE)


def test_demo_bad_l1_ratio_is_a_one_line_error():
    proc = _run("--backend", "cpu", "--cv", "3", "--alphas", "5", "--l1-ratio", "2")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert "l1_ratio" in err[0]
    assert err[0].startswith("gpureg: error:")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_demo_unknown_backend_is_an_argparse_error():
    proc = _run("--backend", "tpu")
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr and "tpu" in proc.stderr


def test_load_diabetes_shapes_and_values():
    X, y, names = gpureg.load_diabetes()
    assert X.shape == (442, 10) and y.shape == (442,)
    assert X.dtype == y.dtype == np.float64
    assert len(names) == 10
    assert names == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert np.isfinite(X).all() and np.isfinite(y).all()
    # Original units (Efron et al. 2004), as scikit-learn's unscaled copy.
    from sklearn.datasets import load_diabetes

    Xs, ys = load_diabetes(return_X_y=True, scaled=False)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y, ys)
    assert y.min() == 25.0 and y.max() == 346.0
    assert set(np.unique(X[:, 1])) == {1.0, 2.0}
