"""Figures of lesson 09: the validation table (``l2l validate``) as bars, one claim at a time."""

from __future__ import annotations

import math

__all__ = ["METHOD_LABELS", "plot_validation"]

#: Short labels of the validation's methods for axes and legends.
METHOD_LABELS = {
    "input": "input",
    "input_average": "20-frame avg",
    "gaussian": "Gaussian",
    "rolling_ball": "rolling ball",
    "tophat": "top-hat",
    "clahe": "CLAHE",
    "n2n_l1": "N2N L1",
    "n2n_ms3": "N2N MS-SSIM-3",
    "cyclegan": "CycleGAN",
    "l2l_l1": "L2L L1",
    "l2l_ssim": "L2L SSIM",
    "l2l_ms3": "L2L MS-SSIM-3",
    "l2l_ms5": "L2L MS-SSIM-5",
    "target": "target label",
}

_METRIC_LABELS = {
    "psnr_gt": "PSNR vs truth (dB)",
    "nrmse_gt": "NRMSE vs truth",
    "ssim_gt": "SSIM vs truth",
    "ms5_gt": "5S-SSIM vs truth",
    "background": "background left",
    "hallucination": "hallucination",
    "contrast": "Michelson contrast",
    "fwhm_px": "microtubule FWHM (px)",
}
_HIGHER_IS_BETTER = {
    "psnr_gt": True,
    "ssim_gt": True,
    "ms5_gt": True,
    "nrmse_gt": False,
    "background": False,
    "hallucination": False,
    "contrast": True,
}


#: A bar more than this many times higher than every other bar of its panel is cut off at the top of the axis
#: (and labelled with its value), so that the other bars stay readable.
OFF_SCALE_FACTOR = 20


def _cut_off_scale_bar(ax, bars):
    """Cut the axis above the second-highest bar when the highest one is :data:`OFF_SCALE_FACTOR` times higher."""
    heights = sorted((y for _, y in bars), reverse=True)
    if len(heights) < 2 or heights[1] <= 0 or heights[0] < OFF_SCALE_FACTOR * heights[1]:
        return
    top = 1.5 * heights[1]
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), top)
    for x, y in bars:
        if y > top:
            ax.annotate(
                f"{y:.3g} (off scale)",
                (x, top),
                xytext=(3, -2),
                textcoords="offset points",
                fontsize=7,
                ha="left",
                va="top",
                rotation=90,
            )


def plot_validation(rows, metrics, methods, structures=None, truth=None, title=None, size=(3.4, 2.8)):
    """Scores of several methods on several structures: one panel per metric, bars grouped by structure.

    Parameters
    ----------
    rows : list of dict
        Rows of ``validation.csv`` (:func:`l2l_helpers.experiments.validate.read_validation`)
        or of :func:`l2l_helpers.data.semisynthetic.validate_on_image`.
    metrics : sequence of str
        Numeric columns, e.g. ``("contrast", "background")``; one panel each.
    methods : sequence of str
        Methods, in bar order (a method without a row for a structure leaves a gap).
    structures : sequence of str, optional
        Structures, in group order (default: those of the rows, in row order).
    truth : dict, optional
        ``{metric: value}``: a dashed line marking the ground truth's value
        (e.g. its FWHM).
    title : str, optional
        Figure title.
    size : tuple of float
        Size of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The y label of each panel says whether higher or lower is better. A
        bar more than :data:`OFF_SCALE_FACTOR` times higher than all others
        of its panel is cut off at the top and labelled with its value.

    Examples
    --------
    >>> rows = [{"structure": "actin", "method": m, "status": "ok", "contrast": c}
    ...         for m, c in (("input", 0.3), ("l2l_l1", 0.7))]
    >>> fig = plot_validation(rows, ["contrast"], ["input", "l2l_l1"])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['input', 'L2L L1']
    """
    import matplotlib.pyplot as plt

    from l2l_helpers.experiments.validate import pivot

    metrics, methods = list(metrics), list(methods)
    if structures is None:
        structures = []
        for r in rows:
            if r.get("status", "ok") == "ok" and r["structure"] not in structures:
                structures.append(r["structure"])
    structures = list(structures)
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(size[0] * len(metrics) + 0.4 * len(structures), size[1]), squeeze=False
    )
    cmap = plt.get_cmap("tab20" if len(methods) > 10 else "tab10")
    width = 0.8 / max(len(methods), 1)
    for ax, metric in zip(axes[0], metrics):
        table = pivot(rows, metric)
        bars = []
        for j, method in enumerate(methods):
            xs, ys = [], []
            for i, s in enumerate(structures):
                v = table.get(s, {}).get(method, math.nan)
                if math.isfinite(v):
                    xs.append(i + (j - (len(methods) - 1) / 2) * width)
                    ys.append(v)
            ax.bar(xs, ys, width=width * 0.95, color=cmap(j), label=METHOD_LABELS.get(method, method))
            bars += list(zip(xs, ys))
        _cut_off_scale_bar(ax, bars)
        if truth and metric in truth:
            ax.axhline(truth[metric], color="k", ls="--", lw=1)
            ax.text(len(structures) - 0.5, truth[metric], " truth", va="bottom", ha="right", fontsize=8)
        ax.set_xticks(range(len(structures)))
        ax.set_xticklabels(structures, fontsize=9)
        better = {True: "higher is better", False: "lower is better"}.get(_HIGHER_IS_BETTER.get(metric))
        label = _METRIC_LABELS.get(metric, metric)
        ax.set_ylabel(f"{label}\n({better})" if better else label, fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
