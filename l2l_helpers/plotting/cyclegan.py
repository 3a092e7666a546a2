"""Figures of a CycleGAN training (lesson 05)."""

from __future__ import annotations

import numpy as np

__all__ = ["LOSS_PANELS", "plot_cyclegan_history"]

#: Panels of :func:`plot_cyclegan_history`: title -> (history column, legend label) pairs.
LOSS_PANELS = {
    "adversarial (generators)": (("G_AB", "input → target"), ("G_BA", "target → input")),
    "cycle consistency": (("cycle_A", "input → target → input"), ("cycle_B", "target → input → target")),
    "identity": (("idt_A", "target-to-input on inputs"), ("idt_B", "input-to-target on targets")),
    "discriminators": (("D_B", "D on targets"), ("D_A", "D on inputs")),
}


def plot_cyclegan_history(history, title=None, size=(11.0, 2.6)):
    """Plot the four kinds of CycleGAN losses per epoch, and the learning rate.

    Parameters
    ----------
    history : dict of list
        Per-epoch losses, as ``CycleGANResult.history`` or
        :func:`l2l_helpers.training.cyclegan.read_history` return them (columns of
        :data:`l2l_helpers.training.cyclegan.HISTORY_COLUMNS`; missing ones are
        skipped).
    title : str, optional
        Figure title.
    size : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per entry of :data:`LOSS_PANELS`; the learning rate is a
        dashed grey line on the right axis of the last panel. When neither
        side wins, a discriminator scores every image 0.5: its (halved)
        least-squares loss and each generator's adversarial loss are then
        0.25. Cycle and identity losses should fall.

    Examples
    --------
    >>> history = {"epoch": [1, 2, 3], "lr": [2e-4, 2e-4, 1e-4], "G_AB": [0.9, 0.5, 0.4], "G_BA": [0.8, 0.5, 0.4],
    ...            "cycle_A": [3.0, 1.2, 0.9], "cycle_B": [2.5, 1.0, 0.8], "idt_A": [1.4, 0.6, 0.4],
    ...            "idt_B": [1.2, 0.5, 0.4], "D_A": [0.3, 0.2, 0.2], "D_B": [0.3, 0.25, 0.2]}
    >>> fig = plot_cyclegan_history(history)
    >>> len(fig.axes)  # four panels and the learning-rate axis
    5
    """
    import matplotlib.pyplot as plt

    epochs = np.asarray(history.get("epoch") or range(1, 1 + len(next(iter(history.values())))))
    fig, axes = plt.subplots(1, len(LOSS_PANELS), figsize=size, layout="constrained")
    for ax, (panel, curves) in zip(axes, LOSS_PANELS.items()):
        for key, label in curves:
            if key in history:
                ax.plot(epochs, history[key], marker="o", ms=3, label=label)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7, loc="upper right")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("loss (mean over the epoch)")
    if "lr" in history:
        lr_ax = axes[-1].twinx()
        lr_ax.plot(epochs, history["lr"], ls="--", color="0.5")
        lr_ax.set_ylabel("learning rate (dashed)", fontsize=8, color="0.4")
        lr_ax.set_ylim(bottom=0)
        lr_ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    return fig
