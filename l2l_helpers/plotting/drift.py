"""Figures of the drift-correction lesson (notebook 02).

Shifts are ``(dy, dx)`` in scikit-image's convention (see
:mod:`l2l_helpers.pairs.drift`).
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.plotting.images import display_range

__all__ = [
    "overlay_rgb",
    "plot_overlays",
    "plot_drift_accuracy",
    "plot_ssim_landscape",
    "plot_misalignment",
]


def overlay_rgb(red, green, percentiles=(1.0, 99.8)):
    """Red/green overlay of two images: aligned structures look yellow.

    Parameters
    ----------
    red, green : 2-D ndarray
        Same shape; each is scaled to its own percentile range.
    percentiles : tuple of float
        Display range of each channel.

    Returns
    -------
    ndarray of float, shape (rows, cols, 3)
        RGB image in [0, 1] (blue is 0).

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> overlay_rgb(np.eye(4), np.eye(4)).shape
    (4, 4, 3)
    """
    red = np.asarray(red, dtype=np.float64)
    green = np.asarray(green, dtype=np.float64)
    if red.shape != green.shape:
        raise ValueError(f"overlay needs two images of the same shape, got {red.shape} and {green.shape}")
    rgb = np.zeros(red.shape + (3,))
    for k, img in enumerate((red, green)):
        lo, hi = display_range(img, *percentiles)
        rgb[..., k] = np.clip((img - lo) / (hi - lo), 0, 1)
    return rgb


def plot_overlays(pairs, titles=None, zoom=None, size=3.5, suptitle=None):
    """Show image pairs as red/green overlays side by side (e.g. before and after correction).

    Parameters
    ----------
    pairs : sequence of tuple of 2-D ndarray
        ``(red, green)`` pairs, e.g. ``(reference, moving)``; the pairs may
        differ in shape.
    titles : sequence of str, optional
        One title per pair.
    zoom : tuple of slice, optional
        ``(rows, cols)`` region shown enlarged in a second row (taken from
        every pair at the same coordinates).
    size : float
        Panel size in inches.
    suptitle : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> a = np.random.rand(32, 32)
    >>> fig = plot_overlays([(a, np.roll(a, 2)), (a, a)], ["raw", "registered"])
    """
    import matplotlib.pyplot as plt

    pairs = list(pairs)
    titles = list(titles) if titles is not None else [None] * len(pairs)
    nrows = 2 if zoom is not None else 1
    fig, axes = plt.subplots(nrows, len(pairs), figsize=(size * len(pairs), size * nrows), squeeze=False)
    for j, ((red, green), title) in enumerate(zip(pairs, titles)):
        rgb = overlay_rgb(red, green)
        axes[0][j].imshow(rgb, interpolation="nearest")
        if title:
            axes[0][j].set_title(title, fontsize=10)
        if zoom is not None:
            axes[1][j].imshow(rgb[zoom], interpolation="nearest")
            axes[1][j].set_title("zoom", fontsize=10)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.suptitle(suptitle or "red: reference, green: moving (yellow where they overlap)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_drift_accuracy(results, size=3.6):
    """Compare drift-estimation methods: error vs known drift, and time per image pair.

    Parameters
    ----------
    results : dict
        ``{method: {"true": (n, 2) array, "estimated": (n, 2) array,
        "seconds": (n,) array}}`` (true and estimated ``(dy, dx)`` per pair,
        run time per pair).
    size : float
        Panel size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Left: estimated vs true shift (both axes, all pairs). Middle: error
        per pair (Euclidean, px; dots) and its mean (bar). Right: mean time
        per pair (s).

    Examples
    --------
    >>> t = np.array([[1.2, -0.4], [2.5, 0.3]])
    >>> fig = plot_drift_accuracy({"phase": {"true": t, "estimated": t + 0.02, "seconds": [0.01, 0.01]},
    ...                            "ssim": {"true": t, "estimated": np.round(t), "seconds": [0.1, 0.1]}})
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    lim = 0.0
    for k, (method, res) in enumerate(results.items()):
        true = np.asarray(res["true"], dtype=float).reshape(-1, 2)
        est = np.asarray(res["estimated"], dtype=float).reshape(-1, 2)
        err = np.hypot(*(est - true).T)
        secs = np.asarray(res["seconds"], dtype=float)
        c = colors[k % len(colors)]
        axes[0].scatter(true.ravel(), est.ravel(), s=14, color=c, label=method, alpha=0.8)
        lim = max(lim, np.abs(true).max(), np.abs(est).max())
        jitter = np.random.default_rng(k).uniform(-0.15, 0.15, err.size)
        axes[1].bar(k, err.mean(), color=c, alpha=0.35, width=0.6)
        axes[1].scatter(k + jitter, err, s=12, color=c)
        axes[2].bar(k, secs.mean(), color=c, alpha=0.8, width=0.6)
        axes[2].text(k, secs.mean(), f"{secs.mean():.3f} s", ha="center", va="bottom", fontsize=9)
    lim = np.ceil(lim + 0.5)
    axes[0].plot([-lim, lim], [-lim, lim], color="0.5", lw=1, ls="--")
    axes[0].set(
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        xlabel="true shift (px, dy and dx)",
        ylabel="estimated shift (px)",
        title="estimated vs true",
    )
    axes[0].set_aspect("equal")
    axes[0].legend(fontsize=9)
    names = list(results)
    for ax, title, ylabel in (
        (axes[1], "error per image pair", "error (px)"),
        (axes[2], "time per image pair", "seconds"),
    ):
        ax.set_xticks(range(len(names)), names)
        ax.set(title=title, ylabel=ylabel)
    fig.tight_layout()
    return fig


def plot_ssim_landscape(scores, true_shift=None, size=3.6):
    """Mean SSIM for every integer shift of the SSIM search, with its maximum.

    Parameters
    ----------
    scores : 2-D ndarray
        Output of :func:`l2l_helpers.pairs.drift.ssim_scores`: square, odd side
        ``2 * max_shift + 1``, ``scores[dy + max_shift, dx + max_shift]``.
    true_shift : tuple of float, optional
        Known drift, marked with a cross.
    size : float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_ssim_landscape(np.random.rand(11, 11), true_shift=(1.2, -3.4))
    """
    import matplotlib.pyplot as plt

    scores = np.asarray(scores)
    m = scores.shape[0] // 2
    fig, ax = plt.subplots(figsize=(size * 1.2, size * 1.15))
    im = ax.imshow(scores, extent=(-m - 0.5, m + 0.5, m + 0.5, -m - 0.5), cmap="viridis")
    iy, ix = np.unravel_index(int(np.argmax(scores)), scores.shape)
    ax.plot(ix - m, iy - m, "o", mfc="none", mec="red", ms=12, mew=2, label=f"best ({iy - m}, {ix - m})")
    if true_shift is not None:
        ax.plot(
            true_shift[1],
            true_shift[0],
            "x",
            color="magenta",
            ms=11,
            mew=2.5,
            label=f"true ({true_shift[0]:.2f}, {true_shift[1]:.2f})",
        )
    ax.set(xlabel="dx (px)", ylabel="dy (px)", title="mean SSIM per shift")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def plot_misalignment(
    image, residuals, learnable, similarity, show=(0.0, 0.5, 1.0), zoom=None, size=3.0, ylabel="similarity to clean"
):
    """What a residual misalignment does to the target noise2noise can learn.

    Parameters
    ----------
    image : 2-D ndarray
        The clean image.
    residuals : sequence of float
        Residual shifts (px).
    learnable : sequence of 2-D ndarray
        :func:`l2l_helpers.pairs.drift.misalignment_blur` of the image, one per
        residual.
    similarity : sequence of float
        A similarity or error measure (e.g. SSIM, relative error) of each
        learnable image with respect to the clean one, one per residual.
    show : sequence of float
        Residuals whose images are shown (those present in ``residuals``).
    zoom : tuple of slice, optional
        Region shown in the image panels.
    size : float
        Panel size in inches.
    ylabel : str
        Label of the curve's y axis (what ``similarity`` measures).

    Returns
    -------
    matplotlib.figure.Figure
        Image panels (clean, and the learnable target for the residuals in
        ``show``) and the similarity-vs-residual curve.

    Raises
    ------
    ValueError
        If ``residuals``, ``learnable`` and ``similarity`` differ in length.

    Examples
    --------
    >>> img = np.random.rand(32, 32)
    >>> fig = plot_misalignment(img, [0, 0.5], [img, img], [1.0, 0.8])
    """
    import matplotlib.pyplot as plt

    residuals = [float(r) for r in residuals]
    learnable = list(learnable)
    similarity = list(similarity)
    if not len(residuals) == len(learnable) == len(similarity):
        raise ValueError(
            f"need one learnable image and one similarity per residual; got {len(residuals)} "
            f"residuals, {len(learnable)} images, {len(similarity)} similarities"
        )
    picked = [k for k, r in enumerate(residuals) if any(np.isclose(r, s) for s in show)]
    ncols = 2 + len(picked)
    fig, axes = plt.subplots(1, ncols, figsize=(size * ncols, size))
    zoom = zoom if zoom is not None else (slice(None), slice(None))
    vmin, vmax = display_range(image[zoom])
    axes[0].imshow(image[zoom], cmap="magma", vmin=vmin, vmax=vmax, interpolation="nearest")
    axes[0].set_title("clean", fontsize=10)
    for ax, k in zip(axes[1:], picked):
        ax.imshow(learnable[k][zoom], cmap="magma", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"learnable, residual {residuals[k]:g} px", fontsize=10)
    for ax in axes[:-1]:
        ax.set_axis_off()
    axes[-1].plot(residuals, similarity, "o-")
    axes[-1].set(xlabel="residual shift (px)", ylabel=ylabel, title="blur vs residual")
    fig.tight_layout()
    return fig
