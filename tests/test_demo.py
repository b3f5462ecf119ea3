"""``python -m gpureg`` and the embedded diabetes data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gpureg


def _run(*args, timeout=300):
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "MPLBACKEND": "Agg",
    }
    return subprocess.run(
        [sys.executable, "-m", "gpureg", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_demo_without_a_command_prints_and_writes_the_chosen_model(tmp_path):
    """The one full demo run of the suite (no command, so ``demo`` runs), with
    the progress bar and ``--out``: the printout, ``best.json``,
    ``results.csv`` and the plots, all against the library's own answer.

    One test, not a module-scoped fixture shared by several: pytest-xdist
    hands the first tests of a run to its workers one by one, so a fixture
    shared by two tests would run the demo once per worker.
    """
    out_dir = tmp_path / "demo"
    proc = _run(
        "--backend", "cpu", "--cv", "3", "--alphas", "10", "--out", str(out_dir)
    )
    assert proc.returncode == 0, proc.stderr
    # The printout.
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
    # The files under --out.
    best = json.loads((out_dir / "best.json").read_text())
    assert set(best) >= {
        "alpha",
        "l1_ratio",
        "alpha_1se",
        "intercept",
        "coefficients",
        "cv_mse",
        "all_certified",
        "n_fits",
    }
    assert list(best["coefficients"]) == list(names)
    assert best["alpha"] == pytest.approx(res.alpha_, rel=1e-12)
    assert best["l1_ratio"] == res.l1_ratio_ and best["all_certified"] is True
    table = pd.read_csv(out_dir / "results.csv")
    assert len(table) == 7 * 10 and {"alpha", "l1_ratio", "mse_mean"} <= set(table)
    # PNG only by default: the SVGs took a tenth of the demo's time (--svg).
    for stem in ("path", "cv_curve", "cv_heatmap"):
        png = (out_dir / f"{stem}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "best.json",
        "cv_curve.png",
        "cv_heatmap.png",
        "path.png",
        "results.csv",
    ]


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
    # To the last bit from scikit-learn 1.8; before, its file held 11 values of
    # s5 one ulp off (4.803999999999999 for 4.804).
    np.testing.assert_array_max_ulp(X, Xs, maxulp=1)
    np.testing.assert_array_equal(y, ys)
    assert y.min() == 25.0 and y.max() == 346.0
    assert set(np.unique(X[:, 1])) == {1.0, 2.0}
