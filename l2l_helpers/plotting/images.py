"""Generic image figures: grids of images with titles, optional zoom boxes."""

from __future__ import annotations

import numpy as np

__all__ = ["show_images", "display_range", "state_display_range", "plot_line_profile"]


def display_range(image, low=1.0, high=99.8):
    """Percentile display range of an image.

    Parameters
    ----------
    image : ndarray
        The image.
    low, high : float
        Percentiles for black and white.

    Returns
    -------
    tuple of float
        ``(vmin, vmax)`` for ``imshow``.

    Examples
    --------
    >>> display_range(np.arange(100.0), 0, 100)
    (0.0, 99.0)
    """
    vmin, vmax = np.percentile(np.asarray(image, dtype=np.float64), [low, high])
    if vmax <= vmin:
        vmax = vmin + 1.0
    return float(vmin), float(vmax)


def state_display_range(fig, low=1.0, high=99.8):
    """Write under a figure how its images are scaled for display.

    Each panel scaled to its own percentiles makes a dim image look as bright
    as a bright one (and sparse single photons as white specks), so the
    figure says so in a small grey line under the panels.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    low, high : float
        The percentiles of :func:`display_range` used for black and white.

    Returns
    -------
    matplotlib.text.Text
        The line (``fig.texts[-1]``).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> state_display_range(plt.figure()).get_text()
    'display: each image scaled to its own 1st-99.8th percentile (intensities not comparable between panels)'
    """

    def nth(p):
        p = f"{p:g}"
        return p + ("st" if p.endswith("1") and not p.endswith("11") else "th")

    return fig.text(
        0.5,
        0.0,
        f"display: each image scaled to its own {nth(low)}-{nth(high)} percentile "
        "(intensities not comparable between panels)",
        ha="center",
        va="top",
        fontsize=8,
        color="0.35",
    )


def show_images(
    images, titles=None, ncols=None, size=3.0, cmap="magma", zoom=None, suptitle=None, percentiles=(1.0, 99.8)
):
    """Show images side by side, each scaled to its own percentile range (said under the figure).

    Parameters
    ----------
    images : sequence of 2-D ndarray, or 2-D sequence (rows of images)
        The images. A list of lists gives one row per inner list.
    titles : sequence of str, optional
        One title per image (same nesting as ``images``).
    ncols : int, optional
        Images per row for a flat list (default: all in one row, at most 5).
    size : float
        Size of one panel in inches.
    cmap : str
        Colour map.
    zoom : tuple of slice, optional
        ``(rows, cols)`` region: a second row shows it enlarged for every
        image, and a box marks it in the first row.
    suptitle : str, optional
        Figure title.
    percentiles : tuple of float
        Display range per image.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_images([np.eye(8), np.ones((8, 8))], ["eye", "ones"])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    nested = len(images) > 0 and isinstance(images[0], (list, tuple))
    if nested:
        rows = [list(r) for r in images]
        trows = [list(t) for t in titles] if titles is not None else [[None] * len(r) for r in rows]
    else:
        flat = list(images)
        tflat = list(titles) if titles is not None else [None] * len(flat)
        n = ncols or min(len(flat), 5)
        rows = [flat[i : i + n] for i in range(0, len(flat), n)]
        trows = [tflat[i : i + n] for i in range(0, len(tflat), n)]
    if zoom is not None:
        zrows = [[img[zoom] for img in r] for r in rows]
        zt = [[(f"{t} (zoom)" if t else "zoom") for t in tr] for tr in trows]
        rows = [x for pair in zip(rows, zrows) for x in pair]
        trows = [x for pair in zip(trows, zt) for x in pair]
    nr = len(rows)
    nc = max(len(r) for r in rows)
    fig, axes = plt.subplots(nr, nc, figsize=(size * nc, size * nr), squeeze=False)
    for i, (row, trow) in enumerate(zip(rows, trows)):
        for j in range(nc):
            ax = axes[i][j]
            ax.set_axis_off()
            if j >= len(row):
                continue
            img = np.asarray(row[j])
            vmin, vmax = display_range(img, *percentiles)
            ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if trow[j]:
                ax.set_title(trow[j], fontsize=10)
            if zoom is not None and i % 2 == 0:
                rs, cs = zoom
                r0, r1 = rs.start or 0, rs.stop or img.shape[0]
                c0, c1 = cs.start or 0, cs.stop or img.shape[1]
                ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, ec="cyan", lw=1))
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    state_display_range(fig, *percentiles)
    return fig


def plot_line_profile(images, labels, row, cols=None, normalize=True, ax=None):
    """Plot the intensity along one image row for several images.

    Parameters
    ----------
    images : sequence of 2-D ndarray
        Images of the same shape (e.g. input, target, ground truth).
    labels : sequence of str
        One legend label per image.
    row : int
        The row to plot.
    cols : slice, optional
        Columns to plot (default: all).
    normalize : bool
        Scale each profile to its 1st/99.8th percentile over the whole image,
        so labels of different brightness can be compared.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_line_profile([np.eye(8)], ["eye"], row=3)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    if len(images) != len(labels):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    cols = cols if cols is not None else slice(None)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3))
    else:
        fig = ax.figure
    for img, label in zip(images, labels):
        img = np.asarray(img, dtype=np.float64)
        line = img[row, cols]
        if normalize:
            lo, hi = display_range(img)
            line = (line - lo) / (hi - lo)
        start = cols.start or 0
        ax.plot(np.arange(start, start + line.size), line, label=label, lw=1.2)
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("normalised intensity" if normalize else "intensity")
    ax.set_title(f"intensity along row {row}")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig
