"""Where and how well two labels were separated: regions of a cell and measures of leakage and recovered signal.

Used by :func:`l2l_helpers.scoring.separation.separation_scores` (lesson 06)
and importable from :mod:`l2l_helpers.scoring.separation`:
:func:`nuclear_area`, :func:`background_area` and :func:`nuclear_window`
(regions and zooms); :func:`leakage`, :func:`signal_recovered` and
:func:`noise_correlation` (measures).
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.scoring.metrics import normalize_to_target

__all__ = [
    "nuclear_area",
    "background_area",
    "nuclear_window",
    "leakage",
    "signal_recovered",
    "noise_correlation",
]


# --------------------------------------------------------------------------- regions


def nuclear_area(ground_truth_nucleus, level=0.5):
    """The nuclear area: where the nucleus' ground truth reaches ``level`` of its maximum.

    Parameters
    ----------
    ground_truth_nucleus : 2-D array_like
        The noise-free nucleus (or, for real cells, the nucleus label).
    level : float
        Fraction of the maximum (the 99.9th percentile for real images);
        0.5 keeps the nuclear edge, blurred by the optics, out of the area.

    Returns
    -------
    ndarray of bool
        True inside the nuclear area.

    Examples
    --------
    >>> truth = np.zeros((8, 8)); truth[2:6, 2:6] = 1.0; truth[2, 2] = 0.3
    >>> int(nuclear_area(truth).sum())
    15
    """
    truth = np.asarray(ground_truth_nucleus, dtype=np.float64)
    top = float(np.percentile(truth, 99.9))
    return truth >= level * top if top > 0 else np.zeros(truth.shape, dtype=bool)


def background_area(ground_truths, cell_mask=None, empty=0.02, margin=3):
    """Pixels with no label: every ground truth below ``empty``, outside the cells.

    Parameters
    ----------
    ground_truths : sequence of 2-D array_like
        The labels' ground truths (each scaled by its 99.9th percentile here).
    cell_mask : 2-D array_like of bool, optional
        True inside cells; its pixels, grown by ``margin``, are left out
        (a label's diffuse cytosolic part is not background).
    empty : float
        Largest scaled ground-truth value of an empty pixel.
    margin : int
        Pixels kept away from every structure and cell.

    Returns
    -------
    ndarray of bool
        True where there is no label.

    Examples
    --------
    >>> truth = np.zeros((16, 16)); truth[6:10, 6:10] = 1.0
    >>> area = background_area([truth], margin=2)
    >>> bool(area[0, 0]), bool(area[5, 5]), bool(area[8, 8])
    (True, False, False)
    """
    from scipy import ndimage as ndi

    truths = [np.asarray(t, dtype=np.float64) for t in ground_truths]
    occupied = np.zeros(truths[0].shape, dtype=bool)
    for t in truths:
        top = float(np.percentile(t, 99.9))
        occupied |= t > empty * top if top > 0 else np.zeros(t.shape, dtype=bool)
    if cell_mask is not None:
        occupied |= np.asarray(cell_mask, dtype=bool)
    if margin > 0:
        occupied = ndi.binary_dilation(occupied, iterations=int(margin))
    return ~occupied


def nuclear_window(ground_truth_nucleus, size=96, level=0.5):
    """A square window on the largest nucleus, for zoomed figures.

    Parameters
    ----------
    ground_truth_nucleus : 2-D array_like
        The nucleus' ground truth (or its label in a real image).
    size : int
        Side of the window in pixels (at most the image's).
    level : float
        See :func:`nuclear_area`.

    Returns
    -------
    tuple of slice
        ``(rows, cols)``, inside the image, centred on the largest nucleus
        where possible (on the image centre if there is none).

    Examples
    --------
    >>> truth = np.zeros((100, 100)); truth[60:70, 20:30] = 1.0
    >>> nuclear_window(truth, size=40)
    (slice(44, 84, None), slice(4, 44, None))
    """
    from scipy import ndimage as ndi

    truth = np.asarray(ground_truth_nucleus)
    h, w = truth.shape
    labels, n = ndi.label(nuclear_area(truth, level))
    if n:
        sizes = ndi.sum(np.ones_like(labels), labels, index=np.arange(1, n + 1))
        cy, cx = ndi.center_of_mass(labels == 1 + int(np.argmax(sizes)))
    else:
        cy, cx = h / 2, w / 2
    sy, sx = min(int(size), h), min(int(size), w)
    y0 = int(np.clip(round(cy - sy / 2), 0, h - sy))
    x0 = int(np.clip(round(cx - sx / 2), 0, w - sx))
    return slice(y0, y0 + sy), slice(x0, x0 + sx)


# --------------------------------------------------------------------------- separation measures


def _label_weights(image, own, other, region, extra):
    """Least-squares weights of ``own`` and ``other`` in ``image`` (with a constant and ``extra``)."""
    cols = [np.ones(int(region.sum())), own[region], other[region]]
    if extra is not None:
        cols.append(extra[region])
    design = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(design, np.asarray(image, dtype=np.float64)[region], rcond=None)
    return float(coef[1]), float(coef[2])


def leakage(channel, own, other, superposed, region=None, extra=None):
    """How much of the other label is left in a separated channel, relative to the superposed input.

    Within ``region``, the channel is fitted by least squares as
    ``c + a * own + b * other (+ d * extra)``, and so is the superposed
    input. The leakage is ``(b / a)`` of the channel divided by ``(b / a)``
    of the input: the weight of the other label per unit of the channel's
    own label, as a fraction of what the superposition carries. The
    channel's intensity scale and offset do not matter.

    Parameters
    ----------
    channel : 2-D array_like
        One separated channel (or a separate acquisition, for comparison).
    own, other : 2-D array_like
        Ground truths (or clean single-label images) of the channel's own
        label and of the other label.
    superposed : 2-D array_like
        The superposed input the channel was separated from.
    region : 2-D array_like of bool, optional
        Pixels to fit (default: all).
    extra : 2-D array_like, optional
        A further component that is neither label but is in the images,
        e.g. the (smoothed) cell mask for a label's diffuse cytosolic part.

    Returns
    -------
    float
        1: as much of the other label as in the superposed input; 0: none
        (small negative values: none, within the fit's accuracy). Large
        values mean the channel holds mostly the other label.

    Raises
    ------
    ValueError
        If the images differ in shape, or the superposed input carries no
        measurable share of ``other`` (the leakage is then undefined).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((2, 32, 32))
    >>> abs(leakage(a, a, b, a + b)) < 1e-9  # the channel holds only its own label
    True
    >>> round(leakage(a + 0.5 * b, a, b, a + b), 6)  # half as much of the other label as the input
    0.5
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in (channel, own, other, superposed)]
    if len({x.shape for x in arrays}) != 1:
        raise ValueError(f"images differ in shape: {[x.shape for x in arrays]}")
    channel, own, other, superposed = arrays
    region = np.ones(channel.shape, dtype=bool) if region is None else np.asarray(region, dtype=bool)
    extra = None if extra is None else np.asarray(extra, dtype=np.float64)
    a_in, b_in = _label_weights(superposed, own, other, region, extra)
    if abs(a_in) < 1e-12 or abs(b_in) < 1e-12 * max(abs(a_in), 1.0):
        raise ValueError("the superposed input carries no measurable share of the other label here")
    a, b = _label_weights(channel, own, other, region, extra)
    if abs(a) < 1e-12:
        return float("inf")
    return float((b / a) / (b_in / a_in))


def signal_recovered(channel, reference, region, background):
    """How much of a reference's signal a channel keeps in one region, e.g. the membrane over the nucleus.

    The channel is first mapped onto the reference by least squares over
    the whole image (:func:`l2l_helpers.scoring.metrics.normalize_to_target`, as
    for every metric of the course). Then its signal in ``region`` (mean
    there minus mean in ``background``) is divided by the reference's.

    Parameters
    ----------
    channel : 2-D array_like
        A separated channel.
    reference : 2-D array_like
        What it should be: the separate acquisition of that label.
    region : 2-D array_like of bool
        Where to measure, e.g. :func:`nuclear_area`.
    background : 2-D array_like of bool
        Pixels without any label (:func:`background_area`).

    Returns
    -------
    float
        1: the reference's signal fully recovered; 0: none left (the region
        looks like empty background); above 1: more than the reference has
        (e.g. the other label leaking in).

    Raises
    ------
    ValueError
        If a region is empty, or the reference has no signal in ``region``.

    Examples
    --------
    >>> ref = np.zeros((32, 32)); ref[4:12, 4:12] = 1.0; ref[20:28, 20:28] = 0.2
    >>> region, empty = ref == 0.2, ref == 0
    >>> half = ref.copy(); half[region] = 0.1
    >>> round(signal_recovered(ref, ref, region, empty), 3), round(signal_recovered(half, ref, region, empty), 2)
    (1.0, 0.5)
    """
    region, background = np.asarray(region, dtype=bool), np.asarray(background, dtype=bool)
    if not region.any() or not background.any():
        raise ValueError("the region and the background must both hold pixels")
    fitted, target = normalize_to_target(channel, reference)
    wanted = float(target[region].mean() - target[background].mean())
    if abs(wanted) < 1e-6:
        raise ValueError("the reference has no signal in the region")
    return float((fitted[region].mean() - fitted[background].mean()) / wanted)


def noise_correlation(channel, reference, region, sigma=2.0):
    """Correlation of the pixel-to-pixel fluctuations of two images in a region.

    Each image minus its Gaussian-smoothed copy (``sigma``) keeps the
    fine-scale fluctuations, mostly noise where the structure is smooth
    (e.g. the cytoplasm of the membrane channel); their Pearson correlation
    within ``region`` says whether a restoration reproduces the noise of a
    reference (near 1) or not (near 0; independent noise).

    Parameters
    ----------
    channel, reference : 2-D array_like
        The two images (e.g. a separated channel and the separate acquisition).
    region : 2-D array_like of bool
        Where to compare (choose a region without fine structure).
    sigma : float
        Gaussian smoothing in pixels that separates fine from coarse.

    Returns
    -------
    float
        Pearson correlation, between -1 and 1.

    Raises
    ------
    ValueError
        If the region holds fewer than 3 pixels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise, other = rng.normal(size=(2, 64, 64))
    >>> region = np.ones((64, 64), bool)
    >>> round(noise_correlation(noise + 5, noise, region), 3), abs(noise_correlation(other, noise, region)) < 0.05
    (1.0, True)
    """
    from scipy import ndimage as ndi

    region = np.asarray(region, dtype=bool)
    if region.sum() < 3:
        raise ValueError("the region must hold at least 3 pixels")
    fine = [
        np.asarray(im, dtype=np.float64) - ndi.gaussian_filter(np.asarray(im, dtype=np.float64), sigma)
        for im in (channel, reference)
    ]
    return float(np.corrcoef(fine[0][region], fine[1][region])[0, 1])
