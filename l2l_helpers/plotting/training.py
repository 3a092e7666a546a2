"""Figures of the training lessons: loss curves, restorations side by side, metrics."""

from __future__ import annotations

import numpy as np

from l2l_helpers.plotting.images import display_range, state_display_range

__all__ = ["plot_history", "plot_histories", "plot_restorations"]


def _as_dict(history):
    if hasattr(history, "history") and isinstance(history.history, dict):  # TrainingResult / keras History
        return history.history
    return dict(history)


def plot_history(history, ax=None, title=None, log=True):
    """Plot training and validation loss per epoch.

    Parameters
    ----------
    history : dict of list or TrainingResult
        ``history`` of :func:`l2l_helpers.training.train.train_model` (or
        :func:`~l2l_helpers.training.train.read_history`): needs ``loss`` and
        optionally ``val_loss`` and ``epoch``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (default: a new figure).
    title : str, optional
        Title.
    log : bool
        Logarithmic loss axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_history({"loss": [0.3, 0.2, 0.15], "val_loss": [0.32, 0.25, 0.2]})  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    h = _as_dict(history)
    if "loss" not in h:
        raise ValueError("history has no 'loss' values")
    epochs = h.get("epoch") or list(range(1, len(h["loss"]) + 1))
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.2))
    else:
        fig = ax.figure
    ax.plot(epochs, h["loss"], "o-", ms=3, label="training loss")
    if h.get("val_loss"):
        ax.plot(epochs, h["val_loss"], "o-", ms=3, label="validation loss")
        best = int(np.nanargmin(h["val_loss"]))
        ax.plot([epochs[best]], [h["val_loss"][best]], "k*", ms=10, label="best (saved)")
    if log and min(min(h["loss"]), min(h.get("val_loss") or [1])) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_histories(histories, title=None):
    """Plot the loss curves of several trainings side by side.

    Parameters
    ----------
    histories : dict of str to history
        One history (see :func:`plot_history`) per training name.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_histories({"N2N": h1, "L2L": h2})  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    n = len(histories)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.2), squeeze=False)
    for ax, (name, h) in zip(axes[0], histories.items()):
        plot_history(h, ax=ax, title=name)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_restorations(panels, zoom=None, rms=None, size=2.6, cmap="magma", suptitle=None):
    """Images side by side with a zoomed region and RMS maps (paper's Fig. 1D).

    Parameters
    ----------
    panels : dict of str to 2-D ndarray
        Title -> image, e.g. input, N2N, L2L, target, ground truth. Each
        image is shown with its own percentile range (said under the figure).
    zoom : tuple of slice, optional
        ``(rows, cols)``: a second row shows this region enlarged (a box
        marks it in the first row).
    rms : dict of str to 2-D ndarray, optional
        Panel title -> RMS map (e.g. :func:`l2l_helpers.scoring.background.rms_map`
        between the input and that restoration), shown in a last row under
        the panel of that title, on a common colour scale.
    size : float
        Panel size in inches.
    cmap : str
        Colour map of the images.
    suptitle : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_restorations({"input": x, "L2L": y}, zoom=(slice(0, 64), slice(0, 64)))  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    names = list(panels)
    n = len(names)
    nrows = 1 + (zoom is not None) + (rms is not None)
    fig, axes = plt.subplots(nrows, n, figsize=(size * n, size * nrows), squeeze=False)
    for j, name in enumerate(names):
        img = np.asarray(panels[name])
        vmin, vmax = display_range(img)
        ax = axes[0][j]
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        if zoom is not None:
            rs, cs = zoom
            r0, r1 = rs.start or 0, rs.stop or img.shape[0]
            c0, c1 = cs.start or 0, cs.stop or img.shape[1]
            ax.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, ec="cyan", lw=1))
            axes[1][j].imshow(img[zoom], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            axes[1][j].set_title(f"{name} (zoom)", fontsize=9)
    if rms is not None:
        unknown = [k for k in rms if k not in panels]
        if unknown:
            raise ValueError(f"RMS maps for {unknown} have no panel of that title; titles: {names}")
        row = axes[-1]
        top = max(float(np.percentile(m, 99.5)) for m in rms.values()) if rms else 1.0
        im = None
        for j, name in enumerate(names):
            if name not in rms:
                row[j].set_axis_off()
                continue
            im = row[j].imshow(rms[name], cmap="viridis", vmin=0, vmax=top, interpolation="nearest")
            row[j].set_title(f"RMS input vs {name}", fontsize=9)
        if im is not None:
            cax = row[-1].inset_axes([0.05, 0.05, 0.08, 0.9])
            fig.colorbar(im, cax=cax, label="local RMS difference")
    for row in axes:
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    state_display_range(fig)
    return fig
