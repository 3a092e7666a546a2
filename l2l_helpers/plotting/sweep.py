"""Figures of lesson 07: the relative change of NRMSE and 5S-SSIM against the number of training pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.experiments.crossval_results import relative_changes

__all__ = ["plot_crossval", "save_crossval_figure"]


def plot_crossval(rows, title=None, references=None):
    """The paper's Fig. 5: relative change of NRMSE and 5S-SSIM against the number of pairs.

    One point per cross-validation (mean over its test folds, slightly
    spread sideways so that equal values stay visible), the mean over
    cross-validations as a line with ± one standard deviation. One row of
    panels per reference: the target label (the paper) and, when the CSV
    has them, the ground truth.

    Parameters
    ----------
    rows : list of dict
        From :func:`l2l_helpers.experiments.crossval.read_results`.
    title : str, optional
        Figure title.
    references : sequence of str, optional
        ``"target"`` and/or ``"ground_truth"`` (default: those in the rows).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(n_pairs=n, repeat=r, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=0.3 - n / 100,
    ...              ms5_input=0.8, ms5_restored=0.85 + n / 1000) for n in (4, 8) for r in range(2)]
    >>> fig = plot_crossval(rows)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    if references is None:
        references = ["target"] + (
            ["ground_truth"]
            if any(np.isfinite(r.get("nrmse_input_gt", np.nan)) for r in rows if r.get("status") == "ok")
            else []
        )
    labels = {"nrmse": "NRMSE", "ms5": "5S-SSIM"}
    names = {"target": "vs target label", "ground_truth": "vs ground truth"}
    fig, axes = plt.subplots(len(references), 2, figsize=(8, 3.2 * len(references)), squeeze=False)
    ns = sorted({int(r["n_pairs"]) for r in rows})
    rng = np.random.default_rng(0)
    for i, ref in enumerate(references):
        for j, m in enumerate(("nrmse", "ms5")):
            ax = axes[i, j]
            changes = relative_changes(rows, m, ref)
            for n, v in changes.items():
                x = n * np.exp(rng.uniform(-0.06, 0.06, v.size))
                ax.scatter(x, 100 * v, s=18, color="0.45", alpha=0.8, zorder=2)
            means = [100 * changes[n].mean() for n in ns if n in changes]
            sds = [100 * changes[n].std() for n in ns if n in changes]
            xs = [n for n in ns if n in changes]
            ax.errorbar(xs, means, yerr=sds, color="C3", marker="o", capsize=4, zorder=3, label="mean ± SD")
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xscale("log", base=2)
            ax.set_xticks(ns, [str(n) for n in ns])
            ax.minorticks_off()
            ax.set_xlabel("image pairs N")
            ax.set_ylabel(f"relative change of {labels[m]} (%)")
            ax.set_title(f"{labels[m]} {names[ref]}", fontsize=10)
            if i == 0 and j == 0:
                ax.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_crossval_figure(rows, path, title=None, dpi=120):
    """Draw :func:`plot_crossval` of the rows into a file and close the figure.

    Parameters
    ----------
    rows : list of dict
        From :func:`l2l_helpers.experiments.crossval.read_results`.
    path : str or Path
        The image file (``crossval.png``).
    title : str, optional
        Figure title.
    dpi : int
        Resolution.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile
    >>> rows = [dict(n_pairs=n, repeat=0, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=0.3,
    ...              ms5_input=0.8, ms5_restored=0.9) for n in (4, 8)]
    >>> save_crossval_figure(rows, Path(tempfile.mkdtemp()) / "crossval.png").is_file()
    True
    """
    import matplotlib.pyplot as plt

    fig = plot_crossval(rows, title=title)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
