"""Figures of lesson 08: fibre widths from line profiles, binarisations and distance maps.

They take the results of :mod:`l2l_helpers.scoring.downstream` as they are.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_profile_lines", "plot_widths", "plot_binarisations", "plot_score_by_structure"]


def plot_profile_lines(image, lines, width=20, ax=None, title=None, cmap="magma"):
    """An image with the measured lines: each line and the strip its profile averages.

    Parameters
    ----------
    image : 2-D ndarray
        Usually the ground truth the lines were picked from.
    lines : sequence of ((row, col), (row, col))
        From :func:`l2l_helpers.scoring.downstream.find_profile_lines`.
    width : int
        Length of the averaged stretch along the fibre (drawn as a box).
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (default: a new figure).
    title : str, optional
        Panel title.
    cmap : str
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> img = np.zeros((64, 64)); img[:, 30] = 1
    >>> fig = plot_profile_lines(img, [((32, 20), (32, 40))])
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    from l2l_helpers.plotting.images import display_range

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    else:
        fig = ax.figure
    img = np.asarray(image)
    vmin, vmax = display_range(img)
    ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    for k, (start, end) in enumerate(lines):
        (r0, c0), (r1, c1) = start, end
        d = np.array([r1 - r0, c1 - c0], float)
        d /= np.hypot(*d) or 1.0
        t = np.array([-d[1], d[0]]) * width / 2
        corners = [(c0 + t[1], r0 + t[0]), (c1 + t[1], r1 + t[0]), (c1 - t[1], r1 - t[0]), (c0 - t[1], r0 - t[0])]
        ax.add_patch(Polygon(corners, closed=True, fill=False, ec="cyan", lw=0.8))
        ax.plot([c0, c1], [r0, r1], color="cyan", lw=1.2)
        ax.text(c1 + 2, r1, str(k + 1), color="cyan", fontsize=8, va="center")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_widths(widths, line=0, reference=None, spacing_unit="px", title=None, size=(10.0, 3.4)):
    """Fibre widths per method: one line's profiles with their Gaussian fits, and every line's FWHM.

    Parameters
    ----------
    widths : dict
        :func:`l2l_helpers.scoring.downstream.measure_widths` output
        (``{name: {"fwhm", "profiles", "fits"}}``); dict order is plot order.
    line : int
        The line whose profiles are drawn on the left.
    reference : str, optional
        A name drawn as a dashed black line on the left and a horizontal
        band (its mean FWHM) on the right, e.g. ``"ground truth"``.
    spacing_unit : str
        Unit of the widths (axis label).
    title : str, optional
        Figure title.
    size : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Left: profiles of one line, each scaled to [0, 1] by its own fit
        (offset -> 0, peak -> 1), dots the data, lines the fits. Right:
        the FWHM of every line (dots) and their mean (bar) per method.

    Examples
    --------
    >>> from l2l_helpers.scoring.downstream import measure_widths
    >>> from scipy.ndimage import gaussian_filter
    >>> img = np.zeros((40, 40)); img[:, 20] = 1
    >>> w = measure_widths({"a": gaussian_filter(img, 1), "b": gaussian_filter(img, 2)}, [((20, 10), (20, 30))])
    >>> fig = plot_widths(w)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    fig, (ax_p, ax_w) = plt.subplots(1, 2, figsize=size, gridspec_kw={"width_ratios": [1.0, 1.3]})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    names = list(widths)
    for i, name in enumerate(names):
        res = widths[name]
        color = "k" if name == reference else colors[i % len(colors)]
        prof = np.asarray(res["profiles"][line], float)
        fit = res["fits"][line]
        x = np.arange(prof.size)
        if np.isfinite(fit["fwhm"]):
            scaled = (prof - fit["offset"]) / fit["amplitude"]
            xf = np.linspace(0, prof.size - 1, 200)
            curve = np.exp(-0.5 * ((xf - fit["center"]) / fit["sigma"]) ** 2)
            ax_p.plot(
                xf,
                curve,
                color=color,
                lw=1.3,
                ls="--" if name == reference else "-",
                label=f"{name}: {fit['fwhm']:.2f} {spacing_unit}",
            )
            ax_p.plot(x, scaled, "o", color=color, ms=2.5)
        fw = np.asarray(res["fwhm"], float)
        ok = fw[np.isfinite(fw)]
        jitter = np.linspace(-0.15, 0.15, max(len(ok), 1))[: len(ok)]
        ax_w.plot(np.full(len(ok), i) + jitter, ok, "o", color=color, ms=3.5, alpha=0.8)
        if len(ok):
            ax_w.hlines(ok.mean(), i - 0.3, i + 0.3, color=color, lw=2.5)
    if reference is not None and reference in widths:
        ref = np.asarray(widths[reference]["fwhm"], float)
        ref = ref[np.isfinite(ref)]
        if len(ref):
            ax_w.axhspan(ref.mean() - ref.std(), ref.mean() + ref.std(), color="0.85", zorder=0)
    ax_p.set_xlabel(f"position across the fibre ({spacing_unit})")
    ax_p.set_ylabel("intensity (fit offset 0, peak 1)")
    ax_p.set_title(f"line {line + 1}: profiles (dots) and Gaussian fits", fontsize=10)
    ax_p.legend(fontsize=7, frameon=False)
    ax_w.set_xticks(range(len(names)))
    ax_w.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax_w.set_ylabel(f"FWHM ({spacing_unit})")
    ax_w.set_title("width of every line (dots) and mean (bar)", fontsize=10)
    for ax in (ax_p, ax_w):
        ax.spines[["top", "right"]].set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_binarisations(masks, reference, cell_mask=None, zoom=None, size=2.4, suptitle=None):
    """Binarisations against a reference, and the error of their distance maps.

    Parameters
    ----------
    masks : dict of str to 2-D ndarray of bool
        Method -> its binarisation (:func:`l2l_helpers.scoring.downstream.binarize`).
    reference : 2-D ndarray of bool
        The binarised ground truth.
    cell_mask : 2-D ndarray of bool, optional
        Pixels over which the mean distance error is taken (as in
        :func:`l2l_helpers.scoring.downstream.compare_masks`; default: all).
    zoom : tuple of slice, optional
        ``(rows, cols)``: show only this region.
    size : float
        Panel size in inches.
    suptitle : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Top row: white where both agree on foreground, magenta where only
        the method has foreground (false positive), green where only the
        reference has it (missed); the title gives the Dice coefficient.
        Bottom row: ``|distance map - reference distance map|`` (pixels,
        one colour scale for all), titled with its mean.

    Examples
    --------
    >>> ref = np.zeros((32, 32), bool); ref[16, 4:28] = True
    >>> fig = plot_binarisations({"shifted": np.roll(ref, 2, axis=0)}, ref)
    >>> len(fig.axes)  # two panels and the colour bar
    3
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.scoring.downstream import dice, distance_map

    ref = np.asarray(reference, bool)
    d_ref = distance_map(ref)
    names = list(masks)
    errors = {n: np.abs(distance_map(masks[n]) - d_ref) for n in names}
    region = zoom if zoom is not None else (slice(None), slice(None))
    vmax = max(float(np.percentile(e[region], 99)) for e in errors.values()) or 1.0
    fig, axes = plt.subplots(2, len(names), figsize=(size * len(names) + 0.8, 2 * size + 0.4), squeeze=False)
    for j, name in enumerate(names):
        m = np.asarray(masks[name], bool)
        rgb = np.zeros(m.shape + (3,))
        rgb[m & ref] = 1.0
        rgb[m & ~ref] = (1.0, 0.0, 1.0)
        rgb[~m & ref] = (0.0, 0.8, 0.0)
        axes[0][j].imshow(rgb[region], interpolation="nearest")
        axes[0][j].set_title(f"{name}\nDice {dice(m, ref):.2f}", fontsize=9)
        im = axes[1][j].imshow(errors[name][region], cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest")
        where = np.ones(ref.shape, bool) if cell_mask is None else np.asarray(cell_mask, bool)
        axes[1][j].set_title(f"distance error, mean {errors[name][where].mean():.2f} px", fontsize=8)
        for ax in (axes[0][j], axes[1][j]):
            ax.set_axis_off()
    fig.colorbar(im, ax=[axes[1][j] for j in range(len(names))], shrink=0.8, label="px")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_score_by_structure(scores, metric="background", methods=None, title=None, size=(9.0, 3.2)):
    """One score of several methods on several structures: grouped bars, one group per structure.

    Parameters
    ----------
    scores : dict
        ``{structure: result}``, each result from
        :func:`l2l_helpers.scoring.metrics.score_restorations` (or
        :func:`l2l_helpers.scoring.downstream.binarisation_scores`).
    metric : str
        The score to show (a key of each method's ``"mean"``).
    methods : sequence of str, optional
        Methods to show, in this order (default: those of the first
        structure); a method missing for a structure leaves a gap.
    title : str, optional
        Figure title.
    size : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Bars are the means over the images; the axis label says whether
        higher or lower is better (:data:`l2l_helpers.scoring.metrics.HIGHER_IS_BETTER`).

    Examples
    --------
    >>> scores = {"actin": {"input": {"mean": {"background": 0.4}}, "L2L": {"mean": {"background": 0.02}}},
    ...           "tubulin": {"input": {"mean": {"background": 0.1}}}}
    >>> fig = plot_score_by_structure(scores)
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.scoring.metrics import HIGHER_IS_BETTER

    structures = list(scores)
    methods = list(methods) if methods is not None else list(next(iter(scores.values())))
    fig, ax = plt.subplots(figsize=size)
    width = 0.8 / max(len(methods), 1)
    for j, method in enumerate(methods):
        xs = [i + (j - (len(methods) - 1) / 2) * width for i, s in enumerate(structures) if method in scores[s]]
        ys = [scores[s][method]["mean"][metric] for s in structures if method in scores[s]]
        ax.bar(xs, ys, width=width * 0.95, label=method)
    ax.set_xticks(range(len(structures)))
    ax.set_xticklabels(structures)
    better = {True: "higher is better", False: "lower is better"}.get(HIGHER_IS_BETTER.get(metric))
    ax.set_ylabel(f"{metric} ({better})" if better else metric)
    ax.legend(fontsize=8, frameon=False, ncol=min(len(methods), 4))
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
