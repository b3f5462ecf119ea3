"""Figures of a fitted grid, of benchmark rows and of the penalty geometry.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (so nothing is left open in pyplot's figure manager and nothing is
shown) on the non-interactive Agg canvas, and writes it with
:func:`save_figure` when given ``path``.

Functions
---------
save_figure
    Write a figure as PNG (150 dpi) and SVG, or the formats asked for.
plot_path
    Regularization paths, one panel per l1_ratio (glmnet's ``plot.glmnet``).
plot_cv_curve
    Mean CV error with standard-error bars along one path (``plot.cv.glmnet``).
plot_cv_heatmap
    Mean CV error over the whole l1_ratio × alpha grid.
plot_throughput
    Fits per second against the number of fits, one line per backend.
plot_penalty_geometry
    The L1 diamond and L2 disc with touching loss contours; Laplace and
    Gaussian priors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._measures import GREATER_IS_BETTER
from ._scoring import one_se_index

if TYPE_CHECKING:
    from ._result import GridResult

__all__ = [
    "plot_cv_curve",
    "plot_cv_heatmap",
    "plot_path",
    "plot_penalty_geometry",
    "plot_throughput",
    "save_figure",
]

#: Most panels drawn by :func:`plot_path`.
MAX_PATH_PANELS = 6
#: Most features named in a legend.
MAX_LEGEND_FEATURES = 12
#: Coefficient paths drawn at most (the largest ones); thousands of lines made
#: multi-megabyte SVGs that took seconds to write.
MAX_PATH_LINES = 100
#: Resolution of the PNG files written by :func:`save_figure`.
PNG_DPI = 150

_THROUGHPUT_KEYS = ("backend", "n_fits", "fits_per_s")


# --------------------------------------------------------------------------- #
# saving
# --------------------------------------------------------------------------- #
def save_figure(
    fig: Figure, path: str | Path, formats: Iterable[str] = ("png", "svg")
) -> list[Path]:
    """Write a figure as PNG and SVG (or other formats), creating parent folders.

    The figure is laid out once (its constrained layout, at the PNG
    resolution) and every file is drawn with that layout.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or pathlib.Path
        Without a suffix, one file per entry of ``formats``: by default
        ``path.png`` (150 dpi) and ``path.svg``.  With the suffix ``.png`` or
        ``.svg`` (or another format matplotlib writes, e.g. ``.pdf``) only
        that file is written and ``formats`` is ignored.  Any other suffix is
        part of the name: ``"cv_l1=0.5"`` writes ``cv_l1=0.5.png`` and
        ``cv_l1=0.5.svg``.
    formats : sequence of str, default ("png", "svg")
        File formats (suffixes without the dot) written when ``path`` has no
        suffix, in this order; ``("png",)`` skips the SVG, which costs about
        as much time as the PNG.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats`` (PNG first by default).

    Raises
    ------
    ValueError
        If ``formats`` is empty or names a format matplotlib cannot write.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    supported = fig.canvas.get_supported_filetypes()
    if suffix and suffix[1:] in supported:
        targets = [path]
    else:
        if isinstance(formats, str):
            formats = [formats]
        formats = [str(f).lower().lstrip(".") for f in formats]
        if not formats:
            raise ValueError("formats is empty: name at least one, e.g. ('png',).")
        unknown = [f for f in formats if f not in supported]
        if unknown:
            raise ValueError(
                f"cannot write format(s) {unknown}; matplotlib "
                f"writes {sorted(supported)}."
            )
        targets = [path.with_name(f"{path.name}.{f}") for f in formats]
    path.parent.mkdir(parents=True, exist_ok=True)
    # savefig runs the layout engine and a draw without output before the real
    # draw, for every file: lay out once here (at the PNG resolution) and save
    # every file with that layout; the PNG comes out the same, in half the time.
    engine = fig.get_layout_engine()
    if engine is not None:
        dpi = fig.dpi
        fig.set_dpi(PNG_DPI)
        try:
            engine.execute(fig)
        finally:
            fig.set_dpi(dpi)
        fig.set_layout_engine(None)
    try:
        for target in targets:
            # No creation date in the SVG, so regenerated figures diff cleanly.
            metadata = {"Date": None} if target.suffix.lower() == ".svg" else None
            fig.savefig(target, dpi=PNG_DPI, metadata=metadata)
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return targets


def _new_figure(figsize) -> Figure:
    """A constrained-layout figure on an Agg canvas, outside pyplot."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, path):
    if path is not None:
        save_figure(fig, path)
    return fig


# --------------------------------------------------------------------------- #
# helpers on a GridResult
# --------------------------------------------------------------------------- #
def _log10_alphas(alphas):
    alphas = np.asarray(alphas, dtype=np.float64)
    if not np.all(alphas > 0):
        raise ValueError("alphas must be positive to be drawn on a log scale.")
    return np.log10(alphas)


def _l1_index(result, l1_ratio) -> int:
    """Row of ``result.l1_ratios`` holding the value ``l1_ratio``."""
    hits = np.flatnonzero(
        np.isclose(result.l1_ratios, float(l1_ratio), rtol=0.0, atol=1e-9)
    )
    if hits.size == 0:
        raise ValueError(
            f"l1_ratio={l1_ratio!r} is not in result.l1_ratios "
            f"{[float(v) for v in result.l1_ratios]}."
        )
    return int(hits[0])


#: measure: (short name, axis label) of a CV measure
_MEASURE_TEXT = {
    "mse": ("CV MSE", "mean squared error (held out)"),
    "deviance": ("CV deviance", "binomial deviance (held out)"),
    "misclassification": ("CV misclassification", "misclassification error (held out)"),
    "auc": ("CV AUC", "AUC (held out)"),
}


def _require_cv(result, caller):
    if result.cv_path is None:
        raise ValueError(
            f"{caller} needs cross-validation scores, but result.cv_path is None: "
            "fit the grid with cv=<number of folds>."
        )
    return _MEASURE_TEXT[result.measure]


def _l1_title(l1_ratio) -> str:
    name = {1.0: " (Lasso)", 0.0: " (Ridge)"}.get(float(l1_ratio), "")
    return f"l1_ratio = {l1_ratio:.4g}{name}"


def _even_indices(n, k):
    """At most ``k`` indices spread evenly over ``range(n)``, ends included."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def _add_nonzero_axis(ax, log_alpha, n_nonzero, max_ticks=6):
    """Top axis labelled with the number of non-zero coefficients."""
    top = ax.secondary_xaxis("top")
    idx = _even_indices(log_alpha.size, max_ticks)
    top.set_ticks(log_alpha[idx], labels=[str(int(n_nonzero[i])) for i in idx])
    top.set_xlabel("non-zero coefficients")
    return top


def _set_reversed_xlim(ax, log_alpha, margin=0.03):
    """Set the x limits so that alpha decreases left to right, ends visible."""
    pad = margin * max(float(np.ptp(log_alpha)), 1e-3)
    ax.set_xlim(log_alpha.max() + pad, log_alpha.min() - pad)


def _mark_alphas(ax, alpha_best, alpha_1se, *, best_label="alpha_", short="CV MSE"):
    """Dashed vertical lines at the CV optimum and the one-SE alpha."""
    marks = (
        (alpha_best, "k", f"{best_label} = {alpha_best:.4g} (best {short})", "alpha_"),
        (alpha_1se, "0.45", f"alpha_1se_ = {alpha_1se:.4g} (1-SE rule)", "alpha_1se_"),
    )
    return [
        ax.axvline(np.log10(alpha), color=color, ls="--", lw=1.2, label=label, gid=gid)
        for alpha, color, label, gid in marks
    ]


# --------------------------------------------------------------------------- #
# regularization path
# --------------------------------------------------------------------------- #
def plot_path(
    result: GridResult,
    *,
    l1_ratios: Iterable[float] | None = None,
    feature_names: Iterable[str] | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Coefficient paths against log10(alpha), one panel per l1_ratio.

    glmnet's classic picture: each line is one coefficient of the full-data
    fit ``result.coef_path[l, :, j]`` against ``log10(result.alphas[l])``,
    with the x axis reversed so that alpha decreases (and the model grows)
    from left to right.  A top axis gives the number of non-zero
    coefficients at a few alphas.  On the panel of ``result.l1_ratio_``
    dashed lines mark ``alpha_`` and ``alpha_1se_`` (when the grid was
    cross-validated).  Features are named in a legend when there are at most
    12 of them.

    Parameters
    ----------
    result : GridResult
        Uses ``alphas (n_l1_ratios, n_alphas)``, ``l1_ratios (n_l1_ratios,)``
        and ``coef_path (n_l1_ratios, n_alphas, n_features)``.
    l1_ratios : sequence of float, optional
        Values of ``result.l1_ratios`` to draw, at most 6.  Default: all of
        them, or 6 picked evenly (first and last included) when there are more.
    feature_names : sequence of str of length n_features, optional
        Legend labels; default ``x0, x1, …``.
    path : str or pathlib.Path, optional
        Where to save the figure, see :func:`save_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per drawn l1_ratio (in grid order), each with a secondary top
        axis.

    Raises
    ------
    ValueError
        If a value of ``l1_ratios`` is not in the grid or there are more than
        6 of them, or ``feature_names`` has the wrong length.
    """
    n_features = result.coef_path.shape[-1]
    if l1_ratios is None:
        rows = _even_indices(len(result.l1_ratios), MAX_PATH_PANELS)
    else:
        rows = [_l1_index(result, v) for v in np.atleast_1d(l1_ratios)]
        rows = sorted(set(rows))
        if not rows:
            raise ValueError("l1_ratios is empty.")
        if len(rows) > MAX_PATH_PANELS:
            raise ValueError(
                f"plot_path draws at most {MAX_PATH_PANELS} panels; "
                f"got {len(rows)} l1_ratios."
            )
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(n_features)]
    elif len(feature_names) != n_features:
        raise ValueError(
            f"feature_names has {len(feature_names)} names for {n_features} features."
        )
    with_legend = n_features <= MAX_LEGEND_FEATURES
    colors = _feature_colors(n_features)
    drawn = np.arange(n_features)
    if n_features > MAX_PATH_LINES:  # the paths that reach the largest values
        peak = np.abs(result.coef_path[rows]).max(axis=(0, 1))
        drawn = np.sort(np.argsort(-peak, kind="stable")[:MAX_PATH_LINES])
        colors = [colors[j] for j in drawn]

    ncols = min(len(rows), 3)
    nrows = -(-len(rows) // ncols)
    fig = _new_figure((4.2 * ncols + (1.8 if with_legend else 0.0), 3.4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(rows) :]:
        ax.remove()

    feature_lines, marked = [], []
    for k, (ax, row) in enumerate(zip(axes, rows, strict=False)):
        log_alpha = _log10_alphas(result.alphas[row])
        coef = result.coef_path[row]
        ax.set_prop_cycle(color=colors)
        lines = ax.plot(log_alpha, coef[:, drawn], lw=1.3)
        if k == 0:
            feature_lines = lines
        ax.axhline(0.0, color="0.6", lw=0.8, zorder=0)
        _set_reversed_xlim(ax, log_alpha)
        ax.set_xlabel("log10(alpha)")
        ax.set_ylabel("coefficient")
        ax.set_title(
            _l1_title(result.l1_ratios[row])
            + (
                f" ({drawn.size} largest of {n_features:,} paths)"
                if drawn.size < n_features
                else ""
            ),
            fontsize="medium",
        )
        _add_nonzero_axis(ax, log_alpha, np.count_nonzero(coef, axis=-1))
        if result.best_index_ is not None and row == result.best_index_[0]:
            marked = _mark_alphas(ax, result.alpha_, result.alpha_1se_)

    if with_legend or marked:
        shown = (feature_lines if with_legend else []) + marked
        labels = (list(feature_names) if with_legend else []) + [
            h.get_label() for h in marked
        ]
        fig.legend(shown, labels, loc="outside right upper", fontsize="small")
    return _finish(fig, path)


def _feature_colors(n_features):
    """One color per feature: qualitative up to 20 features, then viridis."""
    if n_features <= 10:
        return [colormaps["tab10"](j) for j in range(n_features)]
    if n_features <= 20:
        return [colormaps["tab20"](j) for j in range(n_features)]
    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.95, n_features)]


# --------------------------------------------------------------------------- #
# cross-validation
# --------------------------------------------------------------------------- #
def plot_cv_curve(
    result: GridResult, *, l1_ratio: float | None = None, path: str | Path | None = None
) -> Figure:
    """Mean CV error with standard-error bars along one regularization path.

    glmnet's ``plot.cv.glmnet``: ``result.cv_mean[l]`` (the CV measure:
    MSE, or a binomial measure) against ``log10(result.alphas[l])`` with
    error bars ``± result.cv_se[l]``, the x
    axis reversed (alpha decreases left to right), a top axis with the
    number of non-zero full-data coefficients, dashed vertical lines at the
    best alpha and at the one-standard-error alpha, and a dotted
    horizontal line one standard error from the best.  For the row
    of ``result.l1_ratio_`` the vertical lines are ``result.alpha_`` and
    ``result.alpha_1se_``; for another row they are that row's own best
    and one-SE alphas, chosen by the same rule.

    Parameters
    ----------
    result : GridResult
        A cross-validated grid: ``cv_mean`` and ``cv_se`` of shape
        ``(n_l1_ratios, n_alphas)``, ``alphas`` of shape
        ``(n_l1_ratios, n_alphas)``.
    l1_ratio : float, optional
        A value of ``result.l1_ratios``; default ``result.l1_ratio_``.
    path : str or pathlib.Path, optional
        Where to save the figure, see :func:`save_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        One axes (with a secondary top axis); its first container is the
        :class:`~matplotlib.container.ErrorbarContainer` of the mean curve.

    Raises
    ------
    ValueError
        If the grid was fitted without cross-validation, or ``l1_ratio`` is
        not in the grid.
    """
    short, ylabel = _require_cv(result, "plot_cv_curve")
    row = _l1_index(result, result.l1_ratio_ if l1_ratio is None else l1_ratio)
    log_alpha = _log10_alphas(result.alphas[row])
    mean, se = result.cv_mean[row], result.cv_se[row]
    greater = GREATER_IS_BETTER.get(result.measure, False)
    if result.best_index_ is not None and row == result.best_index_[0]:
        i_best, i_1se = result.best_index_[1], result.index_1se_[1]
        best_label = "alpha_"
    else:
        i_best, i_1se = one_se_index(
            mean, se, result.alphas[row], greater_is_better=greater
        )
        best_label = "row best"

    fig = _new_figure((6.4, 4.4))
    ax = fig.subplots()
    ax.errorbar(
        log_alpha,
        mean,
        yerr=se,
        fmt="o-",
        color="tab:red",
        ms=4,
        lw=1.2,
        ecolor="0.55",
        elinewidth=1.0,
        capsize=2.5,
        label=f"mean {short} ± 1 SE ({result.cv_path.shape[-1]} folds)",
    )
    sign = -1.0 if greater else 1.0
    ax.axhline(
        mean[i_best] + sign * se[i_best],
        color="0.45",
        ls=":",
        lw=1.0,
        label="best - 1 SE" if greater else "min + 1 SE",
    )
    _mark_alphas(
        ax,
        float(result.alphas[row, i_best]),
        float(result.alphas[row, i_1se]),
        best_label=best_label,
        short=short,
    )
    _set_reversed_xlim(ax, log_alpha)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Cross-validation, {_l1_title(result.l1_ratios[row])}")
    _add_nonzero_axis(ax, log_alpha, np.count_nonzero(result.coef_path[row], axis=-1))
    ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_cv_heatmap(result: GridResult, *, path: str | Path | None = None) -> Figure:
    """Mean CV error over the whole grid: l1_ratio rows × alpha columns.

    Each row of the image is ``result.cv_mean[l]``.  Every l1_ratio has its
    own alpha grid (log-spaced from its ``alpha_max`` down to
    ``eps · alpha_max``), so the columns are alpha *indices*; the right axis
    gives each row's ``alpha_max``.  When all rows share the same alphas
    (an explicit ``alphas`` array was fitted) the columns are labelled with
    the alpha values instead.  A star marks the CV optimum
    ``(l1_ratio_, alpha_)``, a circle the one-SE point.

    Parameters
    ----------
    result : GridResult
        A cross-validated grid: ``cv_mean`` and ``alphas`` of shape
        ``(n_l1_ratios, n_alphas)``.
    path : str or pathlib.Path, optional
        Where to save the figure, see :func:`save_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        The heatmap axes and its colorbar axes.

    Raises
    ------
    ValueError
        If the grid was fitted without cross-validation.
    """
    short, _ = _require_cv(result, "plot_cv_heatmap")
    alphas = np.asarray(result.alphas, dtype=np.float64)
    n_l1, n_alphas = alphas.shape
    shared = bool(np.allclose(alphas, alphas[0]))

    fig = _new_figure(
        (
            min(11.0, max(6.0, 0.25 * n_alphas + 4.5)),
            min(9.0, max(3.4, 0.4 * n_l1 + 2.4)),
        )
    )
    ax = fig.subplots()
    image = ax.imshow(
        result.cv_mean, aspect="auto", cmap="viridis", interpolation="nearest"
    )
    n_folds = result.cv_path.shape[-1]
    fig.colorbar(image, ax=ax, label=f"mean {short} ({n_folds} folds)")

    cols = _even_indices(n_alphas, 10)
    if shared:
        ax.set_xticks(cols, labels=[f"{a:.3g}" for a in alphas[0, cols]])
        ax.set_xlabel("alpha")
    else:
        ratio = alphas[0, -1] / alphas[0, 0]
        ax.set_xticks(cols, labels=[str(c) for c in cols])
        ax.set_xlabel(f"alpha index (alpha_max → {ratio:.0e}·alpha_max)")
        right = ax.secondary_yaxis("right")
        right.set_ticks(
            np.arange(n_l1), labels=[f"α_max={a:.3g}" for a in alphas[:, 0]]
        )
        right.tick_params(labelsize="small")
    ax.set_yticks(np.arange(n_l1), labels=[f"{v:.4g}" for v in result.l1_ratios])
    ax.set_ylabel("l1_ratio")

    l_best, a_best = result.best_index_
    ax.plot(
        a_best,
        l_best,
        marker="*",
        ms=16,
        color="white",
        mec="black",
        ls="none",
        label=f"min: alpha_={result.alpha_:.4g}, l1_ratio_={result.l1_ratio_:g}",
    )
    ax.plot(
        result.index_1se_[1],
        result.index_1se_[0],
        marker="o",
        ms=9,
        mfc="none",
        mec="tab:red",
        mew=2,
        ls="none",
        label=f"1 SE: alpha_1se_={result.alpha_1se_:.4g}",
    )
    ax.set_title("Mean CV error over the grid")
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    return _finish(fig, path)


# --------------------------------------------------------------------------- #
# benchmarks
# --------------------------------------------------------------------------- #
def plot_throughput(
    rows: Iterable[Mapping] | str | Path,
    *,
    path: str | Path | None = None,
    title: str | None = None,
) -> Figure:
    """Fits per second against the number of fits, one line per backend.

    A log–log plot of ``fits_per_s`` against ``n_fits``; each backend is one
    line with markers through its points sorted by ``n_fits`` (the median
    where several rows share an ``n_fits``).

    Parameters
    ----------
    rows : iterable of dict or pandas.DataFrame
        Benchmark rows with at least the keys (columns) ``backend`` (str),
        ``n_fits`` (int > 0) and ``fits_per_s`` (float > 0); other keys are
        ignored.
    path : str or pathlib.Path, optional
        Where to save the figure, see :func:`save_figure`.
    title : str, optional
        Axes title; default "Throughput: fits per second".

    Returns
    -------
    matplotlib.figure.Figure
        One axes with one line per backend (backends in sorted order).

    Raises
    ------
    ValueError
        If ``rows`` is empty, a row lacks one of the keys, or a count or a
        rate is not a positive finite number.
    """
    records = _throughput_records(rows)
    by_backend: dict[str, dict[int, list[float]]] = {}
    for rec in records:
        runs = by_backend.setdefault(str(rec["backend"]), {})
        runs.setdefault(int(rec["n_fits"]), []).append(float(rec["fits_per_s"]))

    fig = _new_figure((6.4, 4.4))
    ax = fig.subplots()
    markers = "osD^vP*X"
    for k, backend in enumerate(sorted(by_backend)):
        runs = by_backend[backend]
        n_fits = np.array(sorted(runs), dtype=np.float64)
        rate = np.array([np.median(runs[int(n)]) for n in n_fits])
        ax.plot(n_fits, rate, marker=markers[k % len(markers)], lw=1.5, label=backend)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of fits")
    ax.set_ylabel("fits per second")
    ax.set_title("Throughput: fits per second" if title is None else title)
    ax.grid(True, which="both", color="0.9", lw=0.6)
    ax.legend(title="backend")
    return _finish(fig, path)


def _throughput_records(rows) -> list[Mapping]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a DataFrame
        rows = rows.to_dict("records")
    if isinstance(rows, Mapping) or not isinstance(rows, Iterable):
        raise ValueError("rows must be an iterable of dicts or a pandas DataFrame.")
    records = list(rows)
    if not records:
        raise ValueError("plot_throughput needs at least one row; rows is empty.")
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ValueError(f"row {i} is a {type(rec).__name__}, not a dict.")
        missing = [key for key in _THROUGHPUT_KEYS if key not in rec]
        if missing:
            raise ValueError(
                f"row {i} lacks the key(s) {missing}; every row needs "
                f"{list(_THROUGHPUT_KEYS)}."
            )
        for key in ("n_fits", "fits_per_s"):
            value = float(rec[key])
            if not (np.isfinite(value) and value > 0):
                raise ValueError(
                    f"row {i}: {key}={rec[key]!r} is not a positive "
                    "finite number (needed on a log scale)."
                )
    return records


# --------------------------------------------------------------------------- #
# the README picture
# --------------------------------------------------------------------------- #
#: The least-squares loss ``(w - OLS)ᵀ A (w - OLS)`` drawn by
#: :func:`plot_penalty_geometry`: its OLS point and curvature matrix ``A``
#: (eigenvalues 1 and 1/4, axes turned by 60°), chosen so that the Lasso
#: solution is the corner ``(0, t)`` and the Ridge one has both coordinates
#: non-zero.
_OLS = np.array([1.5, 2.0])
_TURN = np.deg2rad(60.0)
_ROT = np.array([[np.cos(_TURN), -np.sin(_TURN)], [np.sin(_TURN), np.cos(_TURN)]])
_CURVATURE = _ROT @ np.diag([1.0, 0.25]) @ _ROT.T


def _quadratic_loss(W):
    D = W - _OLS
    return np.einsum("...i,ij,...j->...", D, _CURVATURE, D)


def _boundary_minimum(points):
    """The point of least loss among ``points (n_points, 2)`` and that loss."""
    loss = _quadratic_loss(points)
    k = int(np.argmin(loss))
    return points[k], float(loss[k])


def plot_penalty_geometry(path: str | Path | None = None) -> Figure:
    """Why the Lasso is sparse and Ridge is not, drawn from the formulas.

    Left: the L1 ball ``|w1| + |w2| ≤ t`` (a diamond) and the L2 ball
    ``w1² + w2² ≤ t²`` (a disc), ``t = 1``, with elliptical contours of a
    least-squares loss ``(w - ŵ_OLS)ᵀ A (w - ŵ_OLS)``.  The constrained
    minimum of each problem lies on its ball's boundary (the OLS point is
    outside both); it is found on a fine grid of the boundary (20,000
    points, corners included) and the contour at exactly that loss level is
    drawn: it touches the diamond at a corner (a zero coefficient) and the
    disc at a point with both coefficients non-zero.  Right: the Laplace and
    Gaussian prior densities of unit variance on [-4, 4]; the Lasso and
    Ridge estimates are the posterior modes under these priors.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        Where to save the figure, see :func:`save_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the constraint geometry and the prior densities.
    """
    t = 1.0
    n_edge = 5000  # boundary points per diamond edge; the disc gets 4 × n_edge
    corners = t * np.array(
        [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0]]
    )
    f = np.linspace(0.0, 1.0, n_edge, endpoint=False)[:, None]
    diamond = np.concatenate(
        [a * (1 - f) + b * f for a, b in zip(corners[:-1], corners[1:], strict=True)]
    )
    phi = np.linspace(0.0, 2 * np.pi, 4 * n_edge, endpoint=False)
    disc = t * np.column_stack([np.cos(phi), np.sin(phi)])
    w_lasso, level_lasso = _boundary_minimum(diamond)
    w_ridge, level_ridge = _boundary_minimum(disc)

    fig = _new_figure((11.0, 4.8))
    ax, ax_prior = fig.subplots(1, 2, width_ratios=[1.15, 1.0])

    # Box around the larger touching ellipse: half-widths sqrt(level * A⁻¹_ii).
    half = np.sqrt(max(level_lasso, level_ridge) * np.diag(np.linalg.inv(_CURVATURE)))
    lo = np.minimum(_OLS - 1.05 * half, -1.4 * t)
    hi = np.maximum(_OLS + 1.05 * half, 1.4 * t)
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 400), np.linspace(lo[1], hi[1], 400))
    loss = _quadratic_loss(np.stack([g1, g2], axis=-1))

    lasso_color, ridge_color = "tab:blue", "tab:orange"
    # Draw the balls with few vertices; the fine boundaries only locate minima.
    circle = t * np.column_stack([np.cos(phi[::50]), np.sin(phi[::50])])
    ax.fill(*circle.T, facecolor=ridge_color, alpha=0.18, edgecolor="none")
    ax.fill(
        *circle.T,
        facecolor="none",
        edgecolor=ridge_color,
        lw=1.5,
        label=r"L2 ball $w_1^2 + w_2^2 \leq t^2$",
    )
    ax.fill(*corners[:-1].T, facecolor=lasso_color, alpha=0.35, edgecolor="none")
    ax.fill(
        *corners[:-1].T,
        facecolor="none",
        edgecolor=lasso_color,
        lw=1.5,
        label=r"L1 ball $|w_1| + |w_2| \leq t$",
    )
    ax.contour(
        g1,
        g2,
        loss,
        levels=np.array([0.15, 0.45]) * level_ridge,
        colors="0.6",
        linewidths=0.8,
    )
    ax.contour(g1, g2, loss, levels=[level_lasso], colors=lasso_color, linewidths=1.6)
    ax.contour(g1, g2, loss, levels=[level_ridge], colors=ridge_color, linewidths=1.6)
    ax.plot(*_OLS, "k+", ms=12, mew=2, label="least squares (OLS)")
    ax.plot(
        *w_lasso,
        "o",
        color=lasso_color,
        mec="k",
        ms=8,
        label=f"Lasso solution ({w_lasso[0]:.2f}, {w_lasso[1]:.2f})",
    )
    ax.plot(
        *w_ridge,
        "s",
        color=ridge_color,
        mec="k",
        ms=8,
        label=f"Ridge solution ({w_ridge[0]:.2f}, {w_ridge[1]:.2f})",
    )
    ax.axhline(0.0, color="0.3", lw=0.7, zorder=0)
    ax.axvline(0.0, color="0.3", lw=0.7, zorder=0)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel(r"$w_1$")
    ax.set_ylabel(r"$w_2$")
    ax.set_title("Constraint regions and least-squares contours")
    ax.legend(loc="lower right", fontsize="x-small")

    _draw_priors(ax_prior, lasso_color, ridge_color)
    return _finish(fig, path)


def _draw_priors(ax, lasso_color, ridge_color):
    """Laplace and Gaussian prior densities of unit variance on [-4, 4]."""
    x = np.linspace(-4.0, 4.0, 801)
    b = 1.0 / np.sqrt(2.0)  # Laplace scale of unit variance: 2 b² = 1
    ax.plot(
        x,
        np.exp(-np.abs(x) / b) / (2 * b),
        color=lasso_color,
        lw=2,
        label=r"Laplace, $b = 1/\sqrt{2}$ (Lasso, L1)",
    )
    ax.plot(
        x,
        np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi),
        color=ridge_color,
        lw=2,
        label=r"Gaussian, $\sigma = 1$ (Ridge, L2)",
    )
    ax.set_xlim(-4.0, 4.0)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel(r"coefficient $w_j$")
    ax.set_ylabel("prior density")
    ax.set_title("Priors of unit variance")
    ax.legend(fontsize="small")
