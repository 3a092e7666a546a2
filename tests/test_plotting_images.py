"""Generic image figures."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from l2l_helpers.plotting.images import display_range, plot_line_profile, show_images


def test_display_range_of_a_constant_image_is_not_empty():
    vmin, vmax = display_range(np.ones((4, 4)))
    assert vmax > vmin


def test_show_images_makes_one_panel_per_image():
    fig = show_images([np.eye(8), np.ones((8, 8)) + np.eye(8), np.eye(8)], ["a", "b", "c"])
    assert sum(ax.has_data() for ax in fig.axes) == 3


def test_show_images_with_zoom_adds_a_row_of_crops():
    fig = show_images([np.eye(8), np.eye(8)], ["a", "b"], zoom=(slice(0, 4), slice(0, 4)))
    assert sum(ax.has_data() for ax in fig.axes) == 4
    assert fig.axes[2].get_images()[0].get_array().shape == (4, 4)


def test_show_images_accepts_rows_of_different_length():
    fig = show_images([[np.eye(8)] * 3, [np.eye(8)]], [["a", "b", "c"], ["d"]])
    assert sum(ax.has_data() for ax in fig.axes) == 4


def test_line_profile_draws_one_line_per_image():
    fig = plot_line_profile([np.eye(8), 2 * np.eye(8)], ["a", "b"], row=3)
    assert len(fig.axes[0].get_lines()) == 2


def test_line_profile_needs_one_label_per_image():
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        plot_line_profile([np.eye(8), np.eye(8)], ["a"], row=0)


def test_image_figures_say_under_the_panels_how_each_image_is_scaled():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.images import show_images
    from l2l_helpers.plotting.training import plot_restorations

    images = [np.random.default_rng(0).random((16, 16)), np.ones((16, 16))]
    for fig in (show_images(images, ["a", "b"], percentiles=(0.5, 99.5)), plot_restorations({"a": images[0]})):
        texts = [t.get_text() for t in fig.texts]
        assert any("each image scaled to its own" in t for t in texts), texts
    assert "0.5th-99.5th percentile" in show_images(images, percentiles=(0.5, 99.5)).texts[-1].get_text()
