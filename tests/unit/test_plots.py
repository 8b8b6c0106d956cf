import matplotlib
import numpy as np
import pytest

import convergence_lab as cl
from convergence_lab.plots import new_figure, use_book_style

matplotlib.use("agg")


def test_use_book_style_sets_the_rc_params():
    use_book_style()
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.grid"] is True


def test_new_figure_returns_flat_axes_detached_from_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, axes = new_figure(2, 3, width=6, height=4)
    assert len(axes) == 6
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)  # rows, cols
    assert plt.get_fignums() == before  # not auto-shown at the end of a cell
    assert tuple(fig.get_size_inches()) == (6, 4)


def test_plot_trace_with_a_target_line():
    fig, (ax,) = new_figure()
    cl.plot_trace(ax, np.arange(5.0), label="w", target=2.0, target_label="t")
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), np.arange(5.0))
    assert ax.get_xlabel() == "epoch"


def test_outcome_map_draws_codes_and_a_legend():
    fig, (ax,) = new_figure()
    outcome = np.array([[0, 1, 2], [2, 2, 0]])
    cl.outcome_map(ax, [1, 10, 100], [1e-3, 1e-2], outcome, ["a", "b", "c"], ["r", "y", "g"])
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="expected"):
        cl.outcome_map(ax, [1, 10], [1e-3, 1e-2], outcome, ["a", "b", "c"], ["r", "y", "g"])


def test_correctness_strip_lays_answers_out_in_rows():
    fig, (ax,) = new_figure()
    correct = np.arange(120) % 3 != 0
    cl.correctness_strip(ax, correct, width=60)
    image = ax.images[0].get_array()
    assert image.shape == (2, 60)
    assert ax.get_title() == f"{correct.mean():.1%} correct"


def test_correctness_key_names_the_strip_colours():
    fig, (ax,) = new_figure()
    cl.correctness_strip(ax, [True, False], width=2)
    legend = ax.legend(handles=cl.correctness_key())
    assert [t.get_text() for t in legend.get_texts()] == ["right", "wrong"]
    cmap = ax.images[0].get_cmap()
    key = [matplotlib.colors.to_hex(h.get_facecolor()) for h in cl.correctness_key()]
    assert key == [matplotlib.colors.to_hex(cmap(1.0)), matplotlib.colors.to_hex(cmap(0.0))]


def test_figure_sizes_and_palette_are_few_and_distinct_from_the_meaning_colours():
    assert set(cl.FIGSIZE) == {"one", "two", "wide"}
    assert not set(cl.PALETTE) & set(cl.COLORS.values())
