"""Figures of gpureg.plotting: files written, data drawn, errors raised."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import gpureg  # noqa: E402
from gpureg import plotting  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def diabetes():
    return gpureg.load_diabetes()


@pytest.fixture(scope="module")
def result(diabetes):
    X, y, _ = diabetes
    return gpureg.fit_grid(X, y, l1_ratio=[0.5, 1.0], alphas=10, cv=3, backend="cpu")


@pytest.fixture(scope="module")
def result_no_cv(diabetes):
    X, y, _ = diabetes
    return gpureg.fit_grid(X, y, l1_ratio=[0.5, 1.0], alphas=10, cv=None, backend="cpu")


THROUGHPUT_ROWS = [
    {"backend": "gpu", "n_fits": 1000, "fits_per_s": 2.0e4, "device": "H100"},
    {"backend": "cpu", "n_fits": 10, "fits_per_s": 900.0},
    {"backend": "gpu", "n_fits": 10, "fits_per_s": 150.0},
    {"backend": "cpu", "n_fits": 1000, "fits_per_s": 3000.0},
    {"backend": "cpu", "n_fits": 100, "fits_per_s": 2000.0},
    {"backend": "gpu", "n_fits": 100, "fits_per_s": 1800.0},
]


def assert_image_files(paths, suffixes=(".png", ".svg")):
    assert [p.suffix for p in paths] == list(suffixes)
    for p in paths:
        assert p.is_file()
        assert p.stat().st_size > 1000
        head = p.read_bytes()[:256]
        if p.suffix == ".png":
            assert head.startswith(PNG_MAGIC)
        else:
            assert b"<svg" in p.read_bytes()[:2000]


def data_axes(fig):
    """Axes that are not colorbars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def line_by_gid(ax, gid):
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    return line


# --------------------------------------------------------------------------- #
# save_figure
# --------------------------------------------------------------------------- #
def test_save_figure_suffixes(tmp_path):
    fig = plotting.plot_throughput(THROUGHPUT_ROWS)
    both = plotting.save_figure(fig, tmp_path / "a" / "b" / "geometry")
    assert both == [tmp_path / "a/b/geometry.png", tmp_path / "a/b/geometry.svg"]
    assert_image_files(both)

    only_png = plotting.save_figure(fig, str(tmp_path / "one.png"))
    assert only_png == [tmp_path / "one.png"]
    assert_image_files(only_png, (".png",))
    assert not (tmp_path / "one.svg").exists()

    only_svg = plotting.save_figure(fig, tmp_path / "one.svg")
    assert_image_files(only_svg, (".svg",))

    # A dot inside the name is not a format: both files, suffixes appended.
    dotted = plotting.save_figure(fig, tmp_path / "cv_l1=0.5")
    assert [p.name for p in dotted] == ["cv_l1=0.5.png", "cv_l1=0.5.svg"]
    assert_image_files(dotted)


def test_save_figure_formats(tmp_path):
    fig = plotting.plot_throughput(THROUGHPUT_ROWS)
    png = plotting.save_figure(fig, tmp_path / "t", formats=("png",))
    assert png == [tmp_path / "t.png"] and not (tmp_path / "t.svg").exists()
    assert_image_files(png, (".png",))
    svg_first = plotting.save_figure(fig, tmp_path / "u", formats=["SVG", ".png"])
    assert [p.name for p in svg_first] == ["u.svg", "u.png"]
    # A suffix that is a format wins over formats.
    assert plotting.save_figure(fig, tmp_path / "v.svg", formats=("png",)) == [
        tmp_path / "v.svg"
    ]
    with pytest.raises(ValueError, match="empty"):
        plotting.save_figure(fig, tmp_path / "w", formats=())
    with pytest.raises(ValueError, match="banana"):
        plotting.save_figure(fig, tmp_path / "w", formats=("png", "banana"))
    assert not list(tmp_path.glob("w*"))


def test_save_figure_lays_out_once_with_the_same_pixels(result, tmp_path):
    """save_figure runs the constrained layout once for all its files (savefig
    ran it again for each): the PNG is pixel for pixel what savefig draws, and
    the figure keeps its layout engine."""
    fig = plotting.plot_cv_curve(result)
    engine = fig.get_layout_engine()
    (ours,) = plotting.save_figure(fig, tmp_path / "ours", formats=("png",))
    assert fig.get_layout_engine() is engine
    fresh = plotting.plot_cv_curve(result)
    fresh.savefig(tmp_path / "plain.png", dpi=plotting.PNG_DPI)
    np.testing.assert_array_equal(plt.imread(ours), plt.imread(tmp_path / "plain.png"))


def test_figures_stay_out_of_pyplot(result):
    before = plt.get_fignums()
    fig = plotting.plot_path(result)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


# --------------------------------------------------------------------------- #
# plot_path
# --------------------------------------------------------------------------- #
def test_plot_path(result, diabetes, tmp_path):
    names = diabetes[2]
    fig = plotting.plot_path(result, feature_names=names, path=tmp_path / "path")
    assert_image_files([tmp_path / "path.png", tmp_path / "path.svg"])
    axes = data_axes(fig)
    assert len(axes) == 2
    for row, ax in enumerate(axes):
        log_alpha = np.log10(result.alphas[row])
        left, right = ax.get_xlim()
        assert left > right  # alpha decreases left to right
        coef_lines = ax.get_lines()[: result.n_features]
        for j, line in enumerate(coef_lines):
            np.testing.assert_allclose(line.get_xdata(), log_alpha)
            np.testing.assert_allclose(line.get_ydata(), result.coef_path[row, :, j])
        # The top axis counts the non-zero coefficients at its ticks.
        (top,) = ax.child_axes
        counts = np.count_nonzero(result.coef_path[row], axis=-1)
        ticks = top.get_xticks()
        labels = [t.get_text() for t in top.get_xticklabels()]
        idx = [int(np.argmin(np.abs(log_alpha - t))) for t in ticks]
        assert labels == [str(counts[i]) for i in idx]

    # Dashed lines at alpha_ and alpha_1se_ on the l1_ratio_ panel only.
    best = int(np.flatnonzero(result.l1_ratios == result.l1_ratio_)[0])
    ax = axes[best]
    assert line_by_gid(ax, "alpha_").get_xdata()[0] == pytest.approx(
        np.log10(result.alpha_)
    )
    assert line_by_gid(ax, "alpha_1se_").get_xdata()[0] == pytest.approx(
        np.log10(result.alpha_1se_)
    )
    assert not [ln for ln in axes[1 - best].get_lines() if ln.get_gid() == "alpha_"]

    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts[: len(names)] == list(names)


def test_plot_path_subset_and_errors(result, result_no_cv):
    fig = plotting.plot_path(result, l1_ratios=[1.0])
    (ax,) = data_axes(fig)
    assert ax.get_title() == "l1_ratio = 1 (Lasso)"
    with pytest.raises(ValueError, match="not in result.l1_ratios"):
        plotting.plot_path(result, l1_ratios=[0.3])
    with pytest.raises(ValueError, match="feature_names"):
        plotting.plot_path(result, feature_names=["a", "b"])
    # Without CV there is nothing to mark.
    fig = plotting.plot_path(result_no_cv)
    assert len(data_axes(fig)) == 2
    gids = [ln.get_gid() for ax in fig.axes for ln in ax.get_lines()]
    assert "alpha_" not in gids


def test_plot_path_at_most_six_panels(diabetes):
    X, y, _ = diabetes
    res = gpureg.fit_grid(
        X, y, l1_ratio=np.linspace(0.1, 1.0, 8), alphas=4, cv=None, backend="cpu"
    )
    axes = data_axes(plotting.plot_path(res))
    assert len(axes) == 6
    assert axes[0].get_title() == "l1_ratio = 0.1"
    assert axes[-1].get_title() == "l1_ratio = 1 (Lasso)"


# --------------------------------------------------------------------------- #
# cross-validation figures
# --------------------------------------------------------------------------- #
def test_plot_cv_curve(result, tmp_path):
    fig = plotting.plot_cv_curve(result, path=tmp_path / "cv")
    assert_image_files([tmp_path / "cv.png", tmp_path / "cv.svg"])
    (ax,) = data_axes(fig)
    row = result.best_index_[0]
    (container,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    data_line = container.lines[0]
    np.testing.assert_allclose(data_line.get_xdata(), np.log10(result.alphas[row]))
    np.testing.assert_allclose(data_line.get_ydata(), result.mse_mean[row])
    # The error bars span mean ± se.
    segments = container.lines[2][0].get_segments()
    np.testing.assert_allclose(
        [s[1, 1] - s[0, 1] for s in segments], 2 * result.mse_se[row]
    )
    alpha_line = line_by_gid(ax, "alpha_")
    assert 10 ** alpha_line.get_xdata()[0] == pytest.approx(result.alpha_)
    assert 10 ** line_by_gid(ax, "alpha_1se_").get_xdata()[0] == pytest.approx(
        result.alpha_1se_
    )
    assert alpha_line.get_label().startswith("alpha_ = ")
    assert alpha_line.get_label() in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_cv_curve_other_row(result):
    other = 1 - result.best_index_[0]
    fig = plotting.plot_cv_curve(result, l1_ratio=float(result.l1_ratios[other]))
    (ax,) = data_axes(fig)
    data_line = ax.containers[0].lines[0]
    np.testing.assert_allclose(data_line.get_ydata(), result.mse_mean[other])
    i_min = int(np.argmin(result.mse_mean[other]))
    assert line_by_gid(ax, "alpha_").get_xdata()[0] == pytest.approx(
        np.log10(result.alphas[other, i_min])
    )


def test_plot_cv_heatmap(result, tmp_path):
    fig = plotting.plot_cv_heatmap(result, path=tmp_path / "heat")
    assert_image_files([tmp_path / "heat.png", tmp_path / "heat.svg"])
    assert len(fig.axes) == 2  # heatmap + colorbar
    (ax,) = data_axes(fig)
    (image,) = ax.get_images()
    np.testing.assert_allclose(image.get_array(), result.mse_mean)
    assert "mean CV MSE" in image.colorbar.ax.get_ylabel()
    assert ax.get_xlabel().startswith("alpha index")
    (star,) = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
    l_best, a_best = result.best_index_
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (a_best, l_best)


@pytest.mark.parametrize("func", [plotting.plot_cv_curve, plotting.plot_cv_heatmap])
def test_cv_figures_need_cv(result_no_cv, func):
    with pytest.raises(ValueError, match="cross-validation"):
        func(result_no_cv)


# --------------------------------------------------------------------------- #
# throughput
# --------------------------------------------------------------------------- #
def check_throughput_figure(fig):
    (ax,) = data_axes(fig)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert sorted(lines) == ["cpu", "gpu"]
    np.testing.assert_array_equal(lines["cpu"].get_xdata(), [10, 100, 1000])
    np.testing.assert_array_equal(lines["cpu"].get_ydata(), [900.0, 2000.0, 3000.0])
    np.testing.assert_array_equal(lines["gpu"].get_ydata(), [150.0, 1800.0, 2.0e4])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["cpu", "gpu"]


def test_plot_throughput(tmp_path):
    fig = plotting.plot_throughput(
        iter(THROUGHPUT_ROWS), path=tmp_path / "tp", title="diabetes"
    )
    assert_image_files([tmp_path / "tp.png", tmp_path / "tp.svg"])
    check_throughput_figure(fig)
    assert fig.axes[0].get_title() == "diabetes"


def test_plot_throughput_dataframe():
    pd = pytest.importorskip("pandas")
    check_throughput_figure(plotting.plot_throughput(pd.DataFrame(THROUGHPUT_ROWS)))


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ([], "empty"),
        ([{"backend": "cpu", "n_fits": 10}], "fits_per_s"),
        ([{"n_fits": 10, "fits_per_s": 1.0}], "backend"),
        ([{"backend": "cpu", "n_fits": 0, "fits_per_s": 1.0}], "positive"),
        ({"backend": "cpu", "n_fits": 10, "fits_per_s": 1.0}, "iterable of dicts"),
    ],
)
def test_plot_throughput_errors(rows, match):
    with pytest.raises(ValueError, match=match):
        plotting.plot_throughput(rows)


# --------------------------------------------------------------------------- #
# penalty geometry
# --------------------------------------------------------------------------- #
def test_plot_penalty_geometry(tmp_path):
    fig = plotting.plot_penalty_geometry(path=tmp_path / "geometry")
    assert_image_files([tmp_path / "geometry.png", tmp_path / "geometry.svg"])
    ax, ax_prior = fig.axes
    points = {ln.get_label().split(" (")[0]: ln for ln in ax.get_lines()}
    w_lasso = np.array(
        [
            points["Lasso solution"].get_xdata()[0],
            points["Lasso solution"].get_ydata()[0],
        ]
    )
    w_ridge = np.array(
        [
            points["Ridge solution"].get_xdata()[0],
            points["Ridge solution"].get_ydata()[0],
        ]
    )
    np.testing.assert_allclose(w_lasso, [0.0, 1.0], atol=1e-12)  # a corner
    assert np.linalg.norm(w_ridge) == pytest.approx(1.0)
    assert np.all(np.abs(w_ridge) > 0.3)  # both coefficients non-zero
    # The drawn contour levels are the constrained minima of the loss.
    assert len(ax.collections) >= 3
    # Both priors are densities of unit variance: their peaks are 1/(2b) with
    # 2b² = 1 (Laplace) and 1/sqrt(2π) (Gaussian).
    laplace, gauss = ax_prior.get_lines()
    assert laplace.get_ydata().max() == pytest.approx(1 / np.sqrt(2))
    assert gauss.get_ydata().max() == pytest.approx(1 / np.sqrt(2 * np.pi))
    for line in (laplace, gauss):
        x, density = line.get_xdata(), line.get_ydata()
        assert (x[0], x[-1]) == (-4.0, 4.0)
        assert np.trapezoid(density, x) == pytest.approx(1.0, abs=0.01)


# --------------------------------------------------------------------------- #
# GridResult methods
# --------------------------------------------------------------------------- #
def test_grid_result_methods_forward(result, tmp_path):
    fig = result.plot_path(l1_ratios=[0.5], path=tmp_path / "p")
    assert len(data_axes(fig)) == 1
    assert_image_files([tmp_path / "p.png", tmp_path / "p.svg"])
    row = result.best_index_[0]
    curve = result.plot_cv_curve()
    np.testing.assert_allclose(
        curve.axes[0].containers[0].lines[0].get_ydata(), result.mse_mean[row]
    )
    heat = result.plot_cv_heatmap()
    np.testing.assert_allclose(
        heat.axes[0].get_images()[0].get_array(), result.mse_mean
    )
