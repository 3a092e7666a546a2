"""Figures of where restorations differ: difference maps and hallucinated structure (notebooks 04 and 05).

Also importable from :mod:`l2l_helpers.plotting.metrics`, where they were first.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_difference_maps", "plot_hallucination"]


def plot_difference_maps(maps, size=2.4, cmap="viridis", label="local RMS difference", suptitle=None, percentile=99.5):
    """Difference maps side by side on one common colour scale.

    Parameters
    ----------
    maps : dict
        ``{title: 2-D ndarray}``, e.g. ``rms_map(restoration, ground_truth)``
        for several restorations.
    size : float
        Panel size in inches.
    cmap : str
        Colour map.
    label : str
        Colour bar label.
    suptitle : str, optional
        Figure title.
    percentile : float
        The top of the common colour scale is this percentile of all maps
        (0 is the bottom), so that a few extreme pixels do not wash out the
        rest.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``maps`` is empty.

    Examples
    --------
    >>> fig = plot_difference_maps({"a": np.zeros((8, 8)), "b": np.ones((8, 8))})
    """
    import matplotlib.pyplot as plt

    if not maps:
        raise ValueError("no maps to show")
    arrays = [np.asarray(m, dtype=float) for m in maps.values()]
    top = float(np.percentile(np.concatenate([a.ravel() for a in arrays]), percentile))
    top = top if top > 0 else 1.0
    n = len(arrays)
    fig, axes = plt.subplots(1, n, figsize=(size * n + 0.8, size), squeeze=False)
    im = None
    for ax, title, arr in zip(axes[0], maps, arrays):
        im = ax.imshow(arr, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    import textwrap

    fig.colorbar(im, ax=list(axes[0]), shrink=0.85, label="\n".join(textwrap.wrap(label, 24)))  # stays on the figure
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_hallucination(ground_truth, input, restorations, zoom=None, size=2.4, cmap="magma", suptitle=None, **options):
    """Where each restoration puts signal that is neither in the ground truth nor in the input.

    The first row shows the ground truth, the input and the restorations;
    the second row the excess map of each restoration
    (:func:`l2l_helpers.scoring.background.hallucination_map`, in units of the mean
    structure intensity; grey: pixels near structure, not scored), with
    the hallucination score (:func:`l2l_helpers.scoring.background.hallucination`)
    in the title, on one common colour scale.

    Parameters
    ----------
    ground_truth, input : 2-D ndarray
        The noise-free structure and the raw input.
    restorations : dict
        ``{title: 2-D ndarray}``, e.g. one restoration per loss.
    zoom : tuple of slice, optional
        ``(rows, cols)`` region to show instead of the whole image (e.g.
        :func:`l2l_helpers.scoring.background.structure_window`); the scores are
        always of the whole image.
    size : float
        Panel size in inches.
    cmap : str
        Colour map of the images.
    suptitle : str, optional
        Figure title.
    **options
        Passed to :func:`~l2l_helpers.scoring.background.hallucination_map`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``restorations`` is empty or the shapes differ.

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> cell = simulate_cell("actin", 128, seed=0)
    >>> framed = cell["ground_truth"].copy(); framed[:, :3] = framed.max()
    >>> fig = plot_hallucination(cell["ground_truth"], cell["input"], {"framed": framed})
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.plotting.images import display_range, state_display_range
    from l2l_helpers.scoring.background import empty_mask, hallucination, hallucination_map

    if not restorations:
        raise ValueError("no restorations to show")
    gt = np.asarray(ground_truth, dtype=float)
    maps = {t: hallucination_map(r, input, gt, **options) for t, r in restorations.items()}
    scores = {t: hallucination(r, input, gt, **options) for t, r in restorations.items()}
    view = zoom if zoom is not None else (slice(None), slice(None))
    keys = ("empty_threshold", "margin")
    free = empty_mask(gt, **{k: options[k] for k in keys if k in options})[view]
    finite = np.concatenate([m[view][np.isfinite(m[view])].ravel() for m in maps.values()] + [np.zeros(1)])
    top = float(np.percentile(finite[finite > 0], 99.5)) if (finite > 0).any() else 1.0
    panels = {
        "ground truth": gt,
        "input": np.asarray(input, dtype=float),
        **{t: np.asarray(r, dtype=float) for t, r in restorations.items()},
    }
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(size * n + 0.8, 2 * size), squeeze=False)
    for j, (title, img) in enumerate(panels.items()):
        vmin, vmax = display_range(img)
        axes[0][j].imshow(img[view], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        axes[0][j].set_title(title, fontsize=9)
    axes[1][0].imshow(np.where(free, 1.0, 0.4), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[1][0].set_title("scored: no structure\n(white)", fontsize=9)
    axes[1][1].set_axis_off()
    im = None
    for j, title in enumerate(restorations, start=2):
        shown = np.ma.masked_where(~free, maps[title][view])
        cm = plt.get_cmap("viridis").with_extremes(bad="0.6")
        im = axes[1][j].imshow(shown, cmap=cm, vmin=0, vmax=top, interpolation="nearest")
        axes[1][j].set_title(f"excess of {title}\nhallucination {scores[title]:.3f}", fontsize=9)
    for row in axes:
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(im, ax=list(axes[1]), shrink=0.85, label="excess (x mean structure)")
    if suptitle:
        fig.suptitle(suptitle)
    state_display_range(fig)
    return fig
