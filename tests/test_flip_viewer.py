"""Specification of plotting.metrics.flip_viewer: a widget where ipywidgets exists, a static figure where not."""

import sys

import matplotlib
import numpy as np
import pytest

from l2l_helpers.plotting.metrics import flip_viewer

IMAGES = {"input": np.random.default_rng(0).random((16, 16)), "L2L": np.eye(16)}


def test_viewer_offers_one_button_per_image():
    pytest.importorskip("ipywidgets")
    viewer = flip_viewer(IMAGES)
    assert list(viewer.children[0].options) == ["input", "L2L"]


def test_static_pages_show_a_sentence_instead_of_the_widget_repr():
    pytest.importorskip("ipywidgets")
    text = repr(flip_viewer(IMAGES))
    assert "VBox" not in text and "run the notebook" in text and "input, L2L" in text


def test_without_ipywidgets_a_static_figure_and_the_install_line(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets raises ImportError
    fig = flip_viewer(IMAGES, zoom=(slice(0, 8), slice(0, 8)))
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    assert "pip install ipywidgets" in capsys.readouterr().out


def test_images_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        flip_viewer({"a": np.zeros((4, 4)), "b": np.zeros((5, 5))})
