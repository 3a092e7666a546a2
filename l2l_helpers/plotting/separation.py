"""Figures of lesson 06: two superposed labels separated into two channels."""

from __future__ import annotations

import numpy as np

from l2l_helpers.plotting.images import display_range, state_display_range

__all__ = ["plot_separation", "plot_separation_scores"]


def _box(ax, zoom, shape):
    from matplotlib.patches import Rectangle

    rs, cs = zoom
    r0, r1 = rs.start or 0, rs.stop or shape[0]
    c0, c1 = cs.start or 0, cs.stop or shape[1]
    ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, ec="cyan", lw=1))


def plot_separation(superposed, channels, zoom=None, size=2.2, cmap="magma", suptitle=None):
    """The superposed input and, per channel, every separation beside its references.

    One row per channel (and, with ``zoom``, a second row per channel with
    the zoomed region, e.g. :func:`l2l_helpers.scoring.separation.nuclear_window`);
    the first column is the superposed input, repeated on every row. Every
    image is shown with its own percentile range.

    Parameters
    ----------
    superposed : 2-D array_like
        The superposed input.
    channels : dict of str to dict of str to 2-D array_like
        Channel name -> {panel title -> image}, e.g. ``{"nucleus": {"L1": ...,
        "separate acquisition": ..., "ground truth": ...}, "membrane": {...}}``;
        every channel must have the same titles.
    zoom : tuple of slice, optional
        ``(rows, cols)`` region shown enlarged below each row (a box marks it).
    size : float
        Panel size in inches.
    cmap : str
        Colour map.
    suptitle : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the channels have different panel titles.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> fig = plot_separation(img, {"nucleus": {"L1": img, "truth": img}, "membrane": {"L1": img, "truth": img}},
    ...                       zoom=(slice(0, 16), slice(0, 16)))
    >>> len(fig.axes)
    12
    """
    import matplotlib.pyplot as plt

    names = list(channels)
    titles = list(channels[names[0]])
    for name in names[1:]:
        if list(channels[name]) != titles:
            raise ValueError(
                f"channel {name!r} has the panels {list(channels[name])}, channel {names[0]!r} "
                f"has {titles}; give every channel the same panels"
            )
    per_channel = 1 + (zoom is not None)
    ncols = 1 + len(titles)
    fig, axes = plt.subplots(
        per_channel * len(names), ncols, figsize=(size * ncols, size * per_channel * len(names)), squeeze=False
    )
    superposed = np.asarray(superposed)
    for i, name in enumerate(names):
        row = axes[per_channel * i]
        panels = [("superposed input", superposed)] + [(t, np.asarray(channels[name][t])) for t in titles]
        for j, (title, img) in enumerate(panels):
            vmin, vmax = display_range(img)
            row[j].imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            row[j].set_title(title if j == 0 else f"{name}: {title}", fontsize=9)
            if zoom is not None:
                _box(row[j], zoom, img.shape)
                zax = axes[per_channel * i + 1][j]
                zax.imshow(img[zoom], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
                zax.set_title("(zoom)", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    state_display_range(fig)
    return fig


def plot_separation_scores(scores, keys=None, labels=None, size=(3.0, 2.6), title=None):
    """Bars of the separation measures per method, one dot per cell.

    Parameters
    ----------
    scores : dict
        The result of :func:`l2l_helpers.scoring.separation.separation_scores`
        (``{method: {"mean": {...}, "images": [{...}, ...]}}``).
    keys : sequence of str, optional
        Measures to show (default: all, in the order of the first method).
    labels : dict of str to str, optional
        Axis titles per measure.
    size : tuple of float
        Size of one panel in inches.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> s = {"L1": {"mean": {"leakage_nucleus": 0.1}, "images": [{"leakage_nucleus": 0.1}]}}
    >>> len(plot_separation_scores(s).axes)
    1
    """
    import matplotlib.pyplot as plt

    methods = list(scores)
    keys = list(keys or scores[methods[0]]["mean"])
    labels = labels or {}
    fig, axes = plt.subplots(1, len(keys), figsize=(size[0] * len(keys), size[1]), squeeze=False)
    x = np.arange(len(methods))
    for ax, key in zip(axes[0], keys):
        means = [scores[m]["mean"][key] for m in methods]
        ax.bar(x, means, color="#88a", width=0.6)
        for k, m in enumerate(methods):
            values = [row[key] for row in scores[m]["images"]]
            ax.plot(np.full(len(values), x[k]), values, "o", color="k", ms=3)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=30, ha="right", fontsize=8)
        ax.set_title(labels.get(key, key), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
