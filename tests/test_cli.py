"""The ``gpureg`` command line, end to end in subprocesses (temporary folders)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gpureg


def _run(*args, cwd=None, timeout=300):
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
        cwd=cwd,
    )


def _csv(tmp_path, n=120, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 2 * X[:, 0] - X[:, 2] + 0.5 * rng.standard_normal(n)
    df = pd.DataFrame(X, columns=[f"f{j}" for j in range(p)])
    df["target"] = y
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path, df


def _assert_png_svg(folder, stem, svg=True):
    """``stem.png`` in ``folder``, and ``stem.svg`` if ``svg`` (else none)."""
    png, svg_file = folder / f"{stem}.png", folder / f"{stem}.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    if svg:
        assert svg_file.stat().st_size > 1000
        assert b"<svg" in svg_file.read_bytes()[:2000]
    else:
        assert not svg_file.exists()


def test_help_lists_commands():
    # Without a command the demo runs: tests/test_demo.py runs it (once).
    top = _run("--help")
    assert top.returncode == 0 and all(
        c in top.stdout for c in ("demo", "sweep", "bench")
    )
    for cmd in ("demo", "sweep", "bench"):
        h = _run(cmd, "--help")
        assert h.returncode == 0 and "usage: gpureg " + cmd in h.stdout


def test_sweep_on_a_csv(tmp_path):
    path, df = _csv(tmp_path)
    out = tmp_path / "out"
    proc = _run(
        "sweep",
        str(path),
        "--target",
        "target",
        "--l1-ratio",
        "0.5,1",
        "--alphas",
        "8",
        "--cv",
        "4",
        "--backend",
        "cpu",
        "--standardize",
        "--quiet",
        "--svg",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    best = json.loads((out / "best.json").read_text())
    assert list(best["coefficients"]) == [f"f{j}" for j in range(5)]
    X = df.drop(columns="target").to_numpy()
    res = gpureg.fit_grid(
        X,
        df["target"].to_numpy(),
        l1_ratio=[0.5, 1],
        alphas=8,
        cv=4,
        standardize=True,
        backend="cpu",
    )
    np.testing.assert_allclose(
        list(best["coefficients"].values()), res.coef_, rtol=1e-10, atol=1e-12
    )
    table = pd.read_csv(out / "results.csv")
    np.testing.assert_allclose(table["mse_mean"], res.mse_mean.ravel(), rtol=1e-10)
    assert {"mse_fold_0", "mse_fold_3", "mse_se"} <= set(table)
    for stem in ("path", "cv_curve", "cv_heatmap"):
        _assert_png_svg(out, stem)


@pytest.mark.parametrize(
    "setup, args, match",
    [
        (None, ["sweep", "missing.csv", "--target", "y"], "not found"),
        ("dir", ["sweep", "adir", "--target", "y"], "directory"),
        ("binary", ["sweep", "bad.csv", "--target", "y"], "cannot read"),
        ("ok", ["sweep", "data.csv", "--target", "nope"], "'nope' is not in"),
        (
            "text",
            ["sweep", "data.csv", "--target", "target"],
            "non-numeric columns.*city",
        ),
        ("nan", ["sweep", "data.csv", "--target", "target"], "NaN.*f1"),
        (
            "ok",
            ["sweep", "data.csv", "--target", "target", "--cv", "500"],
            "n_samples=120",
        ),
        (
            "ok",
            ["sweep", "data.csv", "--target", "target", "--memory-limit", "2kB"],
            "needs at least .* budget of 2.0 KiB.*--memory-limit",
        ),
        (
            "ok",
            ["sweep", "data.csv", "--target", "target", "--memory-limit", "lots"],
            "memory_limit='lots' is not a size",
        ),
        (
            "ok",
            ["sweep", "data.csv", "--target", "target", "--l1-ratio", "2"],
            "l1_ratio",
        ),
        (
            "ok",
            ["sweep", "data.csv", "--target", "target", "--l1-ratio", "a,b"],
            "--l1-ratio",
        ),
        (None, ["demo", "--alphas", "0"], "alphas"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path, setup, args, match):
    if setup == "dir":
        (tmp_path / "adir").mkdir()
    elif setup == "binary":
        (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)
    elif setup in ("ok", "text", "nan"):
        _, df = _csv(tmp_path)
        if setup == "text":
            df["city"] = "Paris"
        if setup == "nan":
            df.loc[3, "f1"] = np.nan
        df.to_csv(tmp_path / "data.csv", index=False)
    proc = _run(*args, "--quiet", cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("gpureg: error:"), err
    import re

    assert re.search(match, err), err


def test_bench_quick_writes_rows_and_the_plot(tmp_path):
    out = tmp_path / "bench"
    proc = _run(
        "bench",
        "--quick",
        "--backends",
        "cpu,gpu",
        "--quiet",
        "--svg",
        "--out",
        str(out),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((out / "throughput.json").read_text())
    timed = [r for r in rows if r.get("backend") == "cpu"]
    assert timed and all(r["fits_per_s"] > 0 and r["all_certified"] for r in timed)
    _assert_png_svg(out, "throughput")


@pytest.mark.parametrize("command", ["demo", "sweep", "bench"])
def test_output_place_is_checked_before_any_work(
    tmp_path, monkeypatch, capsys, command
):
    """A file as --out, a folder under a file, an unwritable place, or an
    earlier run: one line, exit 2, and nothing fitted (was a traceback after
    the whole fit)."""
    from gpureg import _bench, cli

    def no_fit(*a, **k):
        raise AssertionError("the grid was fitted before --out was checked")

    monkeypatch.setattr(gpureg, "fit_grid", no_fit)
    monkeypatch.setattr(_bench, "throughput_rows", no_fit)
    data, _ = _csv(tmp_path)
    pre = {
        "demo": ["demo"],
        "sweep": ["sweep", str(data), "--target", "target"],
        "bench": ["bench", "--quick"],
    }[command]
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / ("throughput.csv" if command == "bench" else "results.csv")).write_text(
        "old"
    )
    for out, match in (
        (a_file, "exists and is not a folder"),
        (a_file / "sub", "is a file, not a folder"),
        ("/proc/gpureg-out", "cannot write to --out"),
        (earlier, "already holds an earlier run"),
    ):
        code = cli.main([*pre, "--out", str(out), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert err[0].startswith("gpureg: error: ") and match in err[0]
    assert (
        earlier / ("throughput.csv" if command == "bench" else "results.csv")
    ).read_text() == "old"


def test_force_overwrites_an_earlier_run(tmp_path, capsys):
    from gpureg import cli

    out = tmp_path / "run"
    args = ["demo", "--cv", "3", "--out", str(out), "--quiet"]
    assert cli.main([*args, "--alphas", "5"]) == 0
    first = (out / "best.json").read_text()
    capsys.readouterr()
    assert cli.main([*args, "--alphas", "5"]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main([*args, "--alphas", "6", "--force"]) == 0
    assert (out / "best.json").read_text() != first


def test_sweep_names_the_problems_of_odd_files(tmp_path, capsys):
    """A header-only CSV said 'non-numeric columns'; a constant target printed
    a RuntimeWarning and 'worst gap/tol = nan'; a saved pandas index was
    silently a feature; Parquet without pyarrow was a 5-line ImportError."""
    from gpureg import cli

    path, df = _csv(tmp_path, n=40, p=3)
    header = tmp_path / "header.csv"
    df.iloc[:0].to_csv(header, index=False)
    assert (
        cli.main(
            [
                "sweep",
                str(header),
                "--target",
                "target",
                "--quiet",
                "--out",
                str(tmp_path / "o1"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.strip() == (
        "gpureg: error: header.csv has a header but no data rows."
    )
    const = tmp_path / "const.csv"
    df.assign(target=3.0).to_csv(const, index=False)
    assert (
        cli.main(
            [
                "sweep",
                str(const),
                "--target",
                "target",
                "--quiet",
                "--alphas",
                "5",
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "target 'target' is constant" in out.err
    assert "worst gap/tol = 0.0000" in out.out and "nan" not in out.out
    indexed = tmp_path / "indexed.csv"
    df.to_csv(indexed)  # with pandas' index as a first, unnamed column
    assert (
        cli.main(
            [
                "sweep",
                str(indexed),
                "--target",
                "target",
                "--quiet",
                "--alphas",
                "5",
                "--out",
                str(tmp_path / "o3"),
            ]
        )
        == 0
    )
    assert "column 'Unnamed: 0' of indexed.csv has no name" in capsys.readouterr().err
    pq = tmp_path / "data.parquet"
    pq.write_bytes(b"PAR1")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        assert (
            cli.main(
                [
                    "sweep",
                    str(pq),
                    "--target",
                    "target",
                    "--quiet",
                    "--out",
                    str(tmp_path / "o4"),
                ]
            )
            == 2
        )
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "pip install 'gpureg[parquet]'" in err[0]


def test_unknown_command_and_an_ascii_terminal(tmp_path):
    bad = _run("frobnicate")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "gpureg: error: unknown command 'frobnicate' (choose from demo, sweep, "
        "bench; without a command, 'demo' runs)."
    ]
    env_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpureg",
            "demo",
            "--alphas",
            "4",
            "--cv",
            "3",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "MPLBACKEND": "Agg"},
    )
    assert env_run.returncode == 0, env_run.stderr  # crashed on '×'
    assert "fits = (3 folds + full data) ? 7 l1_ratios" in env_run.stdout


def test_sweep_groups_column(tmp_path, capsys):
    from gpureg import cli

    path, df = _csv(tmp_path, n=60, p=3)
    df["site"] = np.repeat(["a", "b", "c", "d", "e", "f"], 10)
    df.to_csv(path, index=False)
    assert (
        cli.main(
            [
                "sweep",
                str(path),
                "--target",
                "target",
                "--groups",
                "site",
                "--cv",
                "3",
                "--alphas",
                "5",
                "--quiet",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 0
    )
    best = json.loads((tmp_path / "o" / "best.json").read_text())
    assert "site" not in json.dumps(best.get("coef", best))
    assert (
        cli.main(
            [
                "sweep",
                str(path),
                "--target",
                "target",
                "--groups",
                "site",
                "--cv",
                "7",
                "--quiet",
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 2
    )
    assert "6 groups, fewer than the 7 folds" in capsys.readouterr().err


def test_wide_data_prints_and_plots_a_capped_model(tmp_path, capsys):
    """5,000 columns printed 5,000 coefficients and drew 5,000 paths per panel
    (a 6 MB SVG): the printout shows the largest 30 and says where the rest
    are, the plot draws the 100 largest paths."""
    from gpureg import cli, plotting

    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 400))
    df = pd.DataFrame(X, columns=[f"g{j}" for j in range(400)])
    df["target"] = X[:, :60] @ rng.standard_normal(60) + rng.standard_normal(40)
    path = tmp_path / "wide.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "o"
    assert (
        cli.main(
            [
                "sweep",
                str(path),
                "--target",
                "target",
                "--alphas",
                "8",
                "--cv",
                "3",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    printed = [ln for ln in text.splitlines() if ln.startswith("  g")]
    assert len(printed) == cli.MAX_PRINTED
    assert f"all 400 are in {out / 'best.json'}" in text
    best = json.loads((out / "best.json").read_text())
    assert len(best["coefficients"]) == 400
    res = gpureg.fit_grid(X, df["target"].to_numpy(), alphas=8, cv=3)
    fig = plotting.plot_path(res)
    assert len(fig.axes[0].get_lines()) <= plotting.MAX_PATH_LINES + 4
    assert "100 largest of 400 paths" in fig.axes[0].get_title()


def test_sweep_several_targets(tmp_path, capsys):
    """``--target a,b``: one grid per target (shared Grams), each written to
    its own folder, and targets.json listing every choice."""
    from gpureg import cli

    path, df = _csv(tmp_path, n=150, p=5, seed=4)
    df["other y"] = (
        df["f1"] - df["f3"] + 0.3 * np.random.default_rng(0).standard_normal(150)
    )
    df.to_csv(path, index=False)
    out = tmp_path / "many"
    code = cli.main(
        [
            "sweep",
            str(path),
            "--target",
            "target,other y",
            "--cv",
            "3",
            "--alphas",
            "8",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "2 targets" in text and "=== target 'other y'" in text
    summary = json.loads((out / "targets.json").read_text())
    X = df.drop(columns=["target", "other y"]).to_numpy()
    for name, folder in (("target", "target"), ("other y", "other_y")):
        assert summary[name]["folder"] == folder
        best = json.loads((out / folder / "best.json").read_text())
        one = gpureg.fit_grid(
            X, df[name].to_numpy(), cv=3, alphas=8, l1_ratio=[0.1, 0.5, 1]
        )
        assert best["alpha"] == pytest.approx(one.alpha_, rel=1e-9)
        assert summary[name]["alpha"] == best["alpha"] and best["target"] == name
        _assert_png_svg(out / folder, "path", svg=False)
    # binomial takes one target; a missing one is named
    for target, match in (
        ("target,nope", "'nope' is not in"),
        ("target,target", "names a column twice"),
    ):
        assert (
            cli.main(
                [
                    "sweep",
                    str(path),
                    "--target",
                    target,
                    "--quiet",
                    "--out",
                    str(tmp_path / "x"),
                ]
            )
            == 2
        )
        assert match in capsys.readouterr().err
    df["label"] = (df["target"] > 0).astype(int)
    df.to_csv(path, index=False)
    assert (
        cli.main(
            [
                "sweep",
                str(path),
                "--target",
                "label,target",
                "--family",
                "binomial",
                "--out",
                str(tmp_path / "y"),
                "--quiet",
            ]
        )
        == 2
    )
    assert "takes one target column" in capsys.readouterr().err


def test_sweep_a_sparse_npz_with_a_targets_file_or_column(tmp_path, capsys):
    import scipy.sparse as sp

    from gpureg import cli

    rng = np.random.default_rng(0)
    X = sp.random(150, 300, density=0.05, random_state=0, format="csc")
    y = X[:, :4] @ np.array([3.0, -2.0, 1.0, 1.5]) + 0.05 * rng.standard_normal(150)
    sp.save_npz(tmp_path / "X.npz", X)
    np.save(tmp_path / "y.npy", y)
    base = ["sweep", str(tmp_path / "X.npz"), "--alphas", "6", "--cv", "3", "--quiet"]
    assert (
        cli.main(
            [*base, "--target", str(tmp_path / "y.npy"), "--out", str(tmp_path / "a")]
        )
        == 0
    )
    best = json.loads((tmp_path / "a" / "best.json").read_text())
    one = gpureg.fit_grid(X, y, cv=3, alphas=6, l1_ratio=[0.1, 0.5, 1])
    assert best["alpha"] == pytest.approx(one.alpha_, rel=1e-9)
    assert len(best["coefficients"]) == 300 and "x0" in best["coefficients"]
    # a column of X as the target: it leaves the features
    assert cli.main([*base, "--target", "2", "--out", str(tmp_path / "b")]) == 0
    best = json.loads((tmp_path / "b" / "best.json").read_text())
    assert best["target"] == "x2" and "x2" not in best["coefficients"]
    capsys.readouterr()
    np.save(tmp_path / "short.npy", y[:10])
    for target, match in (
        (str(tmp_path / "short.npy"), "has 10 rows, X has 150"),
        ("900", "a column index below 300"),
    ):
        assert cli.main([*base, "--target", target, "--out", str(tmp_path / "c")]) == 2
        assert match in capsys.readouterr().err
