"""Figures comparing restorations by their metrics (notebooks 03 and 04).

``results_by_method`` is always a dict ``{method name: scores}``: a result
of :func:`l2l_helpers.scoring.metrics.score_restorations` as it is (each entry
``{"mean": {...}, "images": [...]}``; the per-image values are then drawn
too), or plain ``{metric: value}`` dicts. The maps of where restorations differ
(:func:`plot_difference_maps`, :func:`plot_hallucination`) live in
:mod:`l2l_helpers.plotting.differences` and are importable from here too.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "plot_metric_bars",
    "plot_metric_table",
    "plot_line_profiles",
    "line_across_structure",
    "plot_history_metric",
    "flip_viewer",
    "plot_difference_maps",
    "plot_hallucination",
]

from l2l_helpers.plotting.differences import plot_difference_maps, plot_hallucination
from l2l_helpers.scoring.metrics import HIGHER_IS_BETTER
from l2l_helpers.scoring.metrics import METRICS as _METRICS

_LABELS = {
    "psnr": "PSNR (dB)",
    "nrmse": "NRMSE",
    "ssim": "SSIM",
    "ms3": "3S-SSIM",
    "ms5": "5S-SSIM",
    "background": "background\n(cytosol / structure)",
    "hallucination": "hallucination\n(invented / structure)",
}
_HIGHER_IS_BETTER = HIGHER_IS_BETTER


def _means(scores):
    return scores["mean"] if "mean" in scores else scores


def _default_metrics(results_by_method):
    first = _means(next(iter(results_by_method.values())))
    extra = [k for k in ("background", "hallucination") if k in first]
    return tuple(m for m in _METRICS if m in first) + tuple(extra)


def _per_image(scores, metric):
    if "images" not in scores:
        return []
    return [r[metric] for r in scores["images"] if r[metric] is not None and math.isfinite(r[metric])]


def plot_metric_bars(results_by_method, metrics=None, title=None, size=2.6, colors=None):
    """Bar chart of the mean of each metric, one panel per metric, one bar per method.

    Parameters
    ----------
    results_by_method : dict
        ``{method: scores}`` (see the module notes); dict order is bar order.
    metrics : sequence of str, optional
        Metrics to show, one panel each (default: all the scores have).
    title : str, optional
        Figure title.
    size : float
        Panel width in inches.
    colors : sequence of colour, optional
        One colour per method (default: the matplotlib cycle).

    Returns
    -------
    matplotlib.figure.Figure
        Bars are means; dots are single images (when available). Each
        panel title says whether higher or lower is better.

    Examples
    --------
    >>> fig = plot_metric_bars({"L1": {"psnr": 25, "nrmse": 0.2, "ssim": 0.8, "ms3": 0.9, "ms5": 0.95},
    ...                         "MS-SSIM": {"psnr": 24, "nrmse": 0.3, "ssim": 0.85, "ms3": 0.93, "ms5": 0.97}})
    """
    import matplotlib.pyplot as plt

    methods = list(results_by_method)
    if not methods:
        raise ValueError("results_by_method is empty")
    metrics = _default_metrics(results_by_method) if metrics is None else tuple(metrics)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = list(colors) if colors is not None else [cycle[i % len(cycle)] for i in range(len(methods))]
    fig, axes = plt.subplots(1, len(metrics), figsize=(size * len(metrics), 3.0), squeeze=False)
    x = np.arange(len(methods))
    for ax, metric in zip(axes[0], metrics):
        means = [_means(results_by_method[m])[metric] for m in methods]
        shown = [v if v is not None and math.isfinite(v) else np.nan for v in means]
        ax.bar(x, shown, color=colors, alpha=0.8)
        for i, m in enumerate(methods):
            values = _per_image(results_by_method[m], metric)
            if len(values) > 1:
                jitter = np.linspace(-0.2, 0.2, len(values))
                ax.plot(i + jitter, values, "k.", ms=3, alpha=0.6)
        finite = [v for v in shown if np.isfinite(v)]
        for m in methods:
            finite += _per_image(results_by_method[m], metric)
        if finite:  # bars start at zero: a cut-off axis would exaggerate small differences
            lo, hi = min(finite), max(finite)
            pad = 0.1 * (hi - min(lo, 0.0)) + 1e-3
            ax.set_ylim(min(0.0, lo - pad), hi + pad)
        better = "higher" if _HIGHER_IS_BETTER.get(metric, True) else "lower"
        ax.set_title(f"{_LABELS.get(metric, metric)}\n({better} is better)", fontsize=10)
        ax.set_xticks(x)
        ax.set_xticklabels(methods, rotation=30, ha="right", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_metric_table(results_by_method, metrics=None, digits=3, title=None):
    """The metrics as a table figure (rows = methods), the best value per column in bold.

    This is the layout of Table 1 of the label2label paper (rows = losses,
    columns = metrics).

    Parameters
    ----------
    results_by_method : dict
        ``{method: scores}`` (see the module notes).
    metrics : sequence of str, optional
        Columns (default: all the scores have).
    digits : int
        Decimals shown.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_metric_table({"L1": {"psnr": 25, "nrmse": 0.2, "ssim": 0.8, "ms3": 0.9, "ms5": 0.95}})
    """
    import matplotlib.pyplot as plt

    methods = list(results_by_method)
    if not methods:
        raise ValueError("results_by_method is empty")
    metrics = _default_metrics(results_by_method) if metrics is None else tuple(metrics)
    values = np.array(
        [
            [
                _means(results_by_method[m])[k] if _means(results_by_method[m])[k] is not None else np.nan
                for k in metrics
            ]
            for m in methods
        ],
        dtype=float,
    )
    cells = [[f"{v:.{digits}f}" for v in row] for row in values]
    fig, ax = plt.subplots(figsize=(1.3 * (len(metrics) + 1) + 0.5, 0.32 * (len(methods) + 1) + 0.5))
    ax.set_axis_off()
    table = ax.table(
        cellText=cells,
        rowLabels=methods,
        colLabels=[_LABELS.get(k, k) for k in metrics],
        loc="center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1.0, 1.4)
    for j, k in enumerate(metrics):
        col = values[:, j]
        if len(methods) < 2 or not np.isfinite(col).any():
            continue
        best = np.nanargmax(col) if _HIGHER_IS_BETTER.get(k, True) else np.nanargmin(col)
        table[best + 1, j].set_text_props(fontweight="bold")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_line_profiles(
    images, titles, start, end, linewidth=1, reference=None, size=(7.0, 3.0), image=None, cmap="magma"
):
    """Intensity along a line (e.g. across a fibre) in several images.

    Every profile is min-max scaled to [0, 1] along the line, so images of
    different intensity scales compare by shape: a sharper restoration has
    a narrower, higher-contrast peak.

    Parameters
    ----------
    images : sequence of 2-D ndarray
        The images (same shape).
    titles : sequence of str
        One legend label per image.
    start, end : tuple of float
        ``(row, col)`` of the ends of the line.
    linewidth : int
        Width of the line in pixels (values across it are averaged).
    reference : int, optional
        Index of an image drawn as a dashed black line (e.g. the ground
        truth).
    size : tuple of float
        Figure size in inches (without the image panel).
    image : 2-D ndarray, optional
        Shown in a panel on the left with the line drawn on it (a crop
        around the line).
    cmap : str
        Colour map of that panel.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the numbers of images and titles differ.

    Examples
    --------
    >>> img = np.outer(np.hanning(32), np.hanning(32))
    >>> fig = plot_line_profiles([img, img ** 2], ["a", "b"], (16, 0), (16, 31))
    """
    import matplotlib.pyplot as plt
    from skimage.measure import profile_line

    images, titles = list(images), list(titles)
    if len(images) != len(titles):
        raise ValueError(f"{len(images)} images but {len(titles)} titles")
    if image is None:
        fig, ax = plt.subplots(figsize=size)
    else:
        from l2l_helpers.plotting.images import display_range

        fig, (ax_img, ax) = plt.subplots(
            1, 2, figsize=(size[0] + size[1], size[1]), gridspec_kw={"width_ratios": [size[1], size[0]]}
        )
        img = np.asarray(image)
        margin = max(abs(end[0] - start[0]), abs(end[1] - start[1]), 8)
        r0 = int(max(0, min(start[0], end[0]) - margin))
        c0 = int(max(0, min(start[1], end[1]) - margin))
        r1 = int(min(img.shape[0], max(start[0], end[0]) + margin + 1))
        c1 = int(min(img.shape[1], max(start[1], end[1]) + margin + 1))
        vmin, vmax = display_range(img)
        ax_img.imshow(img[r0:r1, c0:c1], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax_img.plot([start[1] - c0, end[1] - c0], [start[0] - r0, end[0] - r0], color="cyan", lw=1.5)
        ax_img.plot([start[1] - c0], [start[0] - r0], "o", color="cyan", ms=4)
        ax_img.set_axis_off()
        ax_img.set_title("the line (dot: position 0)", fontsize=9)
    for i, (img, label) in enumerate(zip(images, titles)):
        prof = profile_line(np.asarray(img, dtype=float), start, end, linewidth=linewidth, mode="reflect")
        span = prof.max() - prof.min()
        prof = (prof - prof.min()) / span if span > 0 else prof * 0
        style = dict(color="k", ls="--", lw=1.5) if i == reference else dict(lw=1.3)
        ax.plot(prof, label=label, **style)
    ax.set_xlabel("position along the line (px)")
    ax.set_ylabel("intensity (scaled to [0, 1])")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def line_across_structure(image, region=None, length=25, sigma=2.0):
    """A line across the brightest structure of an image (e.g. across a fibre).

    The centre is the brightest pixel of the (smoothed) image inside
    ``region``; the direction is the local intensity gradient direction
    from the structure tensor, which is perpendicular to a fibre.

    Parameters
    ----------
    image : 2-D ndarray
        Usually the ground truth or the target.
    region : tuple of slice, optional
        ``(rows, cols)`` to search (default: the whole image).
    length : float
        Length of the line in pixels.
    sigma : float
        Smoothing (pixels) for the centre and the structure tensor.

    Returns
    -------
    start, end : tuple of float
        ``(row, col)`` of the two ends, inside the image; pass them to
        :func:`plot_line_profiles`.

    Examples
    --------
    >>> img = np.zeros((32, 32)); img[:, 16] = 1  # a vertical fibre
    >>> start, end = line_across_structure(img, length=10)
    >>> start[0] == end[0]  # the line is horizontal
    True
    """
    from scipy.ndimage import gaussian_filter
    from skimage.feature import structure_tensor

    image = np.asarray(image, dtype=float)
    smooth = gaussian_filter(image, sigma)
    rows, cols = region if region is not None else (slice(None), slice(None))
    window = np.zeros_like(smooth, dtype=bool)
    window[rows, cols] = True
    r, c = np.unravel_index(np.argmax(np.where(window, smooth, -np.inf)), smooth.shape)
    arr, arc, acc = (a[r, c] for a in structure_tensor(image, sigma=sigma, order="rc"))
    # eigenvector of the larger eigenvalue: the direction of the strongest change
    angle = 0.5 * np.arctan2(2 * arc, arr - acc)
    dr, dc = np.cos(angle), np.sin(angle)
    dr, dc = (0.0 if abs(dr) < 1e-9 else dr), (0.0 if abs(dc) < 1e-9 else dc)
    half = length / 2
    h, w = image.shape
    start = (float(np.clip(r - half * dr, 0, h - 1)), float(np.clip(c - half * dc, 0, w - 1)))
    end = (float(np.clip(r + half * dr, 0, h - 1)), float(np.clip(c + half * dc, 0, w - 1)))
    return start, end


def plot_history_metric(histories, key="val_mae", title=None, log=True):
    """One training metric of several trainings in one plot.

    Each loss has its own scale, so validation losses of networks trained
    with different losses cannot be compared; a metric recorded for all of
    them (the validation mean absolute error ``val_mae``) can.

    Parameters
    ----------
    histories : dict
        ``{name: history}``; a history is a dict of lists (as
        ``l2l_helpers.training.train.read_history`` returns, or keras'
        ``History.history``) or an object with a ``history`` attribute.
    key : str
        The column to plot.
    title : str, optional
        Axes title (default: the key).
    log : bool
        Logarithmic y axis.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    KeyError
        If a history lacks the key (the message names it).

    Examples
    --------
    >>> fig = plot_history_metric({"L1": {"val_mae": [0.3, 0.2]}, "SSIM": {"val_mae": [0.4, 0.25]}})
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.2))
    for name, h in histories.items():
        h = getattr(h, "history", h)
        if key not in h:
            raise KeyError(f"history of {name!r} has no {key!r} (it has {', '.join(h)})")
        values = list(h[key])
        epochs = list(h.get("epoch", range(1, len(values) + 1)))
        ax.plot(epochs, values, marker=".", label=str(name))
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    if log:
        ax.set_yscale("log")
    ax.set_title(title or key)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def flip_viewer(images, zoom=None, size=5.0, cmap="magma"):
    """An interactive viewer that flips between images of the same field.

    Toggle buttons choose the image; every image keeps its own percentile
    display range, so flipping shows differences in structure, not in
    brightness. In a static rendering (GitHub, nbviewer) the widget cannot
    run: such pages show one line saying so instead of the widget's
    ``VBox(...)`` representation, so follow the viewer with a static
    figure. Without ipywidgets (``pip install l2l-helpers`` without the
    ``[course]`` extra) it prints how to install it and returns a static
    figure of the same images instead of failing.

    Parameters
    ----------
    images : dict
        ``{title: 2-D ndarray}``, all of the same shape.
    zoom : tuple of slice, optional
        ``(rows, cols)`` region to show instead of the whole image.
    size : float
        Figure size in inches.
    cmap : str
        Colour map.

    Returns
    -------
    ipywidgets.VBox or matplotlib.figure.Figure
        The viewer (display it, or let it be the last expression of a cell);
        without ipywidgets, a static figure of the images side by side.

    Raises
    ------
    ValueError
        If ``images`` is empty or the shapes differ.

    Examples
    --------
    >>> viewer = flip_viewer({"input": x, "L1": y})  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.plotting.images import display_range, show_images

    if not images:
        raise ValueError("no images to show")
    shapes = {np.shape(v) for v in images.values()}
    if len(shapes) != 1:
        raise ValueError(f"the images differ in shape: {sorted(shapes)}")
    names = list(images)
    try:
        import ipywidgets as widgets
    except ImportError:
        print(
            "The interactive viewer needs ipywidgets (pip install ipywidgets, or pip install 'l2l-helpers[course]'); "
            "showing the images side by side instead."
        )
        return show_images(
            [np.asarray(images[n])[zoom] if zoom is not None else np.asarray(images[n]) for n in names],
            names,
            ncols=min(len(names), 4),
            size=size / 2,
        )

    class FlipViewer(widgets.VBox):
        def __repr__(self):  # what static pages show in place of the widget
            return f"[interactive viewer of {', '.join(names)}: run the notebook to flip between them]"

    ranges = {n: display_range(np.asarray(images[n])) for n in names}
    buttons = widgets.ToggleButtons(options=names, value=names[0], description="show:")
    out = widgets.Output()

    def draw(name):
        img = np.asarray(images[name])
        img = img[zoom] if zoom is not None else img
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(size, size))
            ax.imshow(img, cmap=cmap, vmin=ranges[name][0], vmax=ranges[name][1], interpolation="nearest")
            ax.set_title(name)
            ax.set_axis_off()
            plt.show()

    buttons.observe(lambda change: draw(change["new"]), names="value")
    draw(names[0])
    return FlipViewer([buttons, out])
