"""Figures of lesson 01: contrast of the two labels and the pairing."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_sample_background", "plot_contrast_comparison"]


def plot_sample_background(image, fraction=0.1, sigma=2.0, title=None):
    """Show how the contrast protocol splits an image into sample and background.

    Three panels: the smoothed, percentile-normalised image; the sample (the
    brightest ``fraction`` of pixels) in colour over the grey image; and the
    histogram of the normalised values, sample and background separately,
    with their means ``Is`` and ``Ib`` and the resulting Michelson and RMS
    contrast in the title.

    Parameters
    ----------
    image : array_like
        2-D image (raw intensities).
    fraction : float
        Sample fraction (0.1; 0.01 for caveolae).
    sigma : float
        Gaussian smoothing of the protocol.
    title : str, optional
        Title of the figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> fig = plot_sample_background(simulate_cell("actin", 128, seed=0)["benchmark"])  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.pairs.contrast import normalize_percentile, sample_mask

    norm = normalize_percentile(image, sigma=sigma)
    sample = sample_mask(norm, fraction)
    i_s, i_b = float(norm[sample].mean()), float(norm[~sample].mean())
    michelson = (i_s - i_b) / (i_s + i_b) if i_s + i_b > 0 else 0.0
    rms = float(norm.std())

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), gridspec_kw={"width_ratios": [1, 1, 1.4]})
    axes[0].imshow(norm, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes[0].set_title("smoothed + normalised", fontsize=10)
    overlay = np.dstack([norm] * 3)
    overlay[sample] = [1.0, 0.3, 0.1]
    axes[1].imshow(overlay, interpolation="nearest")
    axes[1].set_title(f"sample: brightest {fraction:.0%} (orange)", fontsize=10)
    for ax in axes[:2]:
        ax.set_axis_off()
    bins = np.linspace(0, 1, 51)
    ax = axes[2]
    ax.hist(norm[~sample].ravel(), bins=bins, color="0.5", alpha=0.8, label="background")
    ax.hist(norm[sample].ravel(), bins=bins, color="tab:orange", alpha=0.8, label="sample")
    ax.axvline(i_b, color="0.2", ls="--", label=f"Ib = {i_b:.2f}")
    ax.axvline(i_s, color="tab:red", ls="--", label=f"Is = {i_s:.2f}")
    ax.set_yscale("log")
    ax.set_xlabel("normalised intensity")
    ax.set_ylabel("pixels")
    ax.legend(fontsize=8)
    ax.set_title(f"Michelson {michelson:.2f}, RMS {rms:.2f}", fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_contrast_comparison(measured, paper=None):
    """Plot measured contrast next to the paper's values, per structure and label.

    Parameters
    ----------
    measured : dict
        ``measured[structure]["input"]`` and ``measured[structure]["target"]``
        are outputs of :func:`l2l_helpers.pairs.contrast.measure_contrast`.
    paper : dict, optional
        Reference values in the layout of
        :data:`l2l_helpers.pairs.contrast.PAPER_CONTRAST` (the default).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (Michelson, RMS): mean ± s.d. of the paper (open markers)
        and of the measured images (filled markers), input and target side
        by side.

    Examples
    --------
    >>> from l2l_helpers.pairs.contrast import measure_contrast
    >>> from l2l_helpers.data.simulate import simulate_dataset
    >>> d = simulate_dataset("actin", n=2, size=128, seed=0)
    >>> m = {"actin": {"input": measure_contrast(d["input"]), "target": measure_contrast(d["benchmark"])}}
    >>> fig = plot_contrast_comparison(m)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.pairs.contrast import PAPER_CONTRAST

    paper = PAPER_CONTRAST if paper is None else paper
    structures = [s for s in measured]
    x = np.arange(len(structures))
    colours = {"input": "tab:blue", "target": "tab:red"}
    offsets = {"input": -0.15, "target": 0.15}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, measure, label in zip(axes, ("michelson", "rms"), ("Michelson contrast", "RMS contrast")):
        for lab in ("input", "target"):
            px = [i + offsets[lab] - 0.05 for i, s in enumerate(structures) if s in paper]
            pm = [paper[s][measure][lab][0] for s in structures if s in paper]
            ps = [paper[s][measure][lab][1] for s in structures if s in paper]
            ax.errorbar(px, pm, yerr=ps, fmt="o", mfc="white", color=colours[lab], capsize=3, label=f"paper {lab}")
            mm = [measured[s][lab][f"{measure}_mean"] for s in structures]
            ms = [measured[s][lab][f"{measure}_sd"] for s in structures]
            ax.errorbar(
                x + offsets[lab] + 0.05, mm, yerr=ms, fmt="s", color=colours[lab], capsize=3, label=f"measured {lab}"
            )
        ax.set_xticks(x, structures)
        ax.set_ylabel(label)
        ax.set_ylim(0, 1.05 if measure == "michelson" else max(0.3, ax.get_ylim()[1]))
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8, ncol=2, loc="lower right")
    fig.suptitle("contrast: paper (open, mean ± s.d.) vs measured (filled)")
    fig.tight_layout()
    return fig
