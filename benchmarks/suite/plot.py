"""Draw the suite's figures from its results files (never times anything).

* ``throughput.png/.svg``: fits per second against the number of fits
  (log–log), one line per backend, from ``scaling.json`` — with
  ``gpureg.plotting.plot_throughput`` when gpureg has it, else matplotlib;
* ``workloads.png/.svg``: wall seconds per library per workload (grouped
  bars, log scale) from every other ``*.json`` results file; bars of a
  library that failed the correctness check are hatched.

Usage::

    python -m benchmarks.suite.plot [--results benchmarks/results/suite] [--out DIR]

(from the repository root).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def read_rows(results):
    """All result rows of a folder, by file stem.

    Parameters
    ----------
    results : Path

    Returns
    -------
    dict
        ``{stem: list of dict}`` for every ``*.json`` file holding a list.
    """
    out = {}
    for path in sorted(Path(results).glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, list):
            out[path.stem] = data
    return out


def timed_rows(rows):
    """Rows that were timed (not skipped, no error).

    Parameters
    ----------
    rows : list of dict

    Returns
    -------
    list of dict
    """
    return [
        r
        for r in rows
        if r.get("wall_s") and not r.get("skipped") and not r.get("error")
    ]


def _label(row):
    return row.get("library") or row["backend"]


def plot_throughput(rows, path):
    """Fits/s against n_fits, one line per backend; PNG and SVG.

    Parameters
    ----------
    rows : list of dict
        The scaling series' rows.
    path : Path
        Without suffix.

    Returns
    -------
    list of Path
    """
    rows = [dict(r, backend=_label(r)) for r in timed_rows(rows)]
    n_samples = {r["n_samples"] for r in rows}
    n_features = {r["n_features"] for r in rows}
    device = sorted({r["device"] for r in rows})
    title = (
        f"fit_grid throughput, X {'/'.join(map(str, sorted(n_samples)))} × "
        f"{'/'.join(map(str, sorted(n_features)))}\n{'; '.join(device)}"
    )
    try:  # gpureg's own figure, when this version of gpureg has one
        from gpureg.plotting import plot_throughput as gpureg_plot
        from gpureg.plotting import save_figure

        return save_figure(gpureg_plot(rows, title=title), path)
    except Exception as exc:  # absent or incompatible: draw it here
        print(
            f"gpureg.plotting.plot_throughput not used ({type(exc).__name__}: "
            f"{exc}); drawing with matplotlib"
        )

    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    for k, backend in enumerate(sorted({r["backend"] for r in rows})):
        mine = sorted(
            (r for r in rows if r["backend"] == backend), key=lambda r: r["n_fits"]
        )
        ax.plot(
            [r["n_fits"] for r in mine],
            [r["fits_per_s"] for r in mine],
            marker="osD^vP*X"[k % 8],
            lw=1.5,
            label=backend,
        )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="number of fits",
        ylabel="fits per second",
        title=title,
    )
    ax.grid(True, which="both", color="0.9", lw=0.6)
    ax.legend(title="backend")
    return _save(fig, path)


def plot_workloads(rows, path):
    """Grouped bars of wall seconds per library per workload; PNG and SVG.

    Parameters
    ----------
    rows : list of dict
        Rows of the fixed workloads.
    path : Path
        Without suffix.

    Returns
    -------
    list of Path
    """
    rows = timed_rows(rows)
    names = sorted(dict.fromkeys(r["workload"] for r in rows), key=_workload_order)
    libraries = list(dict.fromkeys(_label(r) for r in rows))
    width = 0.8 / max(1, len(libraries))
    fig, ax = plt.subplots(
        figsize=(max(6.4, 1.6 * len(names) * len(libraries) / 3), 4.6),
        layout="constrained",
    )
    cmap = plt.get_cmap("tab10")
    for k, library in enumerate(libraries):
        for i, name in enumerate(names):
            match = [r for r in rows if r["workload"] == name and _label(r) == library]
            if not match:
                continue
            row = match[0]
            x = i - 0.4 + width * (k + 0.5)
            ax.bar(
                x,
                row["wall_s"],
                width,
                color=cmap(k % 10),
                hatch=None if row.get("correct", True) else "//",
                label=library if i == names.index(row["workload"]) else None,
            )
            ax.annotate(
                f"{row['fits_per_s']:,.0f}/s",
                (x, row["wall_s"]),
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
                xytext=(0, 2),
                textcoords="offset points",
            )
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles, strict=True))
    ax.legend(seen.values(), seen.keys(), title="library", fontsize=8)
    sizes = {
        r["workload"]: f"{r['n_samples']:,}×{r['n_features']:,} {r['dtype']}"
        for r in rows
    }
    ax.set_xticks(
        np.arange(len(names)), [f"{n}\n{sizes[n]}" for n in names], fontsize=8
    )
    ax.set(
        yscale="log",
        ylabel="wall seconds (best run; label: fits/s)",
        title="Whole grid (CV folds + full-data path) per library; "
        "hatched = failed the check",
    )
    ax.margins(y=0.15)
    ax.grid(True, axis="y", which="both", color="0.9", lw=0.6)
    return _save(fig, path)


def _workload_order(name):
    """W1, W1-float32, W2, pn, H1, H2, then the rest; a workload before its variants."""
    rank = {"W1": 0, "W1-float32": 1, "W2": 2, "pn": 3, "H1": 4, "H2": 5}
    family = "W1-float32" if name.startswith("W1-float32") else name.split("-")[0]
    return (rank.get(family, len(rank)), name != family, name)


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.with_suffix(".png"), path.with_suffix(".svg")]
    fig.savefig(out[0], dpi=150)
    fig.savefig(out[1], metadata={"Date": None})
    plt.close(fig)
    return out


def main(argv=None):
    """Command line entry point.

    Parameters
    ----------
    argv : list of str, optional
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(HERE.parent / "results" / "suite"))
    parser.add_argument("--out", default=None, help="default: the results folder")
    args = parser.parse_args(argv)
    out = Path(args.out or args.results)
    files = read_rows(args.results)
    scaling = [
        r for stem, rows in files.items() if stem.startswith("scaling") for r in rows
    ]
    fixed = [
        r
        for stem, rows in files.items()
        if not stem.startswith("scaling")
        for r in rows
    ]
    if timed_rows(scaling):
        print("wrote", *plot_throughput(scaling, out / "throughput"))
    if timed_rows(fixed):
        print("wrote", *plot_workloads(fixed, out / "workloads"))


if __name__ == "__main__":
    main()
