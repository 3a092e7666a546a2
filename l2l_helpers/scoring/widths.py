"""Fibre widths measured on an image: the full width at half maximum of line profiles (lesson 08).

The label2label paper's microtubule width (its Fig. S4C): the FWHM of a
Gaussian fitted to a line profile across a single microtubule, the profile
averaged over 20 px along the tubule. :func:`find_profile_lines` picks the
lines automatically from the ground truth (isolated, straight stretches),
:func:`line_profiles` reads them (:func:`skimage.measure.profile_line`),
:func:`fit_gaussian` fits them (:func:`scipy.optimize.curve_fit`) and
:func:`measure_widths` does both for several images. All are importable from
:mod:`l2l_helpers.scoring.downstream` too.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["FWHM_PER_SIGMA", "find_profile_lines", "line_profiles", "fit_gaussian", "measure_widths"]

#: FWHM of a Gaussian in units of its standard deviation, ``2 sqrt(2 ln 2)``.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _image2d(image, name="image"):
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D image, got shape {img.shape}")
    if not np.isfinite(img).all():
        raise ValueError(f"{name}: holds NaN or infinite values")
    return img


# --- line profiles and widths ---------------------------------------------------------------------


def _directions(image, sigma):
    """Per pixel: unit normal (across a fibre) from the structure tensor."""
    from skimage.feature import structure_tensor

    arr, arc, acc = structure_tensor(image, sigma=sigma, order="rc")
    angle = 0.5 * np.arctan2(2 * arc, arr - acc)
    return np.cos(angle), np.sin(angle)


def _strip(image, center, normal, half_length, width):
    """Values on a grid around ``center``: rows along the fibre, columns across it."""
    from scipy.ndimage import map_coordinates

    nr, nc = normal
    tr, tc = -nc, nr
    u = np.arange(-half_length, half_length + 1, dtype=float)
    s = np.arange(width, dtype=float) - (width - 1) / 2
    rows = center[0] + s[:, None] * tr + u[None, :] * nr
    cols = center[1] + s[:, None] * tc + u[None, :] * nc
    return map_coordinates(image, [rows, cols], order=1, mode="nearest")


def find_profile_lines(
    ground_truth, n=10, length=21, width=20, threshold=0.05, isolation=0.1, min_gap=5, sigma=2.0, step=2
):
    """Lines across isolated, straight stretches of fibres, picked from the ground truth.

    Candidates are the pixels of the skeleton of the ground truth's
    structure (above ``threshold`` of its 99.9th percentile; low by default,
    because a few bright spots, such as the centrosome of simulated
    tubulin, set that percentile far above a single microtubule). At each, the
    fibre's direction comes from the structure tensor; the stretch of
    ``width`` px along the fibre must be straight (at every position along
    it the ground truth peaks within 1 px of the line's centre), without
    gaps or crossings (the peak varies by less than a factor 2), and
    isolated (along the whole line, the ground truth is below ``isolation``
    of the peak farther than ``min_gap`` px from the centre). The
    straightest candidates are kept, at least ``width`` px apart.

    Parameters
    ----------
    ground_truth : 2-D array_like
        The noise- and background-free structure.
    n : int
        At most this many lines.
    length : int
        Length of each line (across the fibre), in pixels; odd.
    width : int
        Length of the stretch along the fibre that each profile averages
        (the ``linewidth`` of :func:`line_profiles`).
    threshold : float
        Structure: ground truth above this fraction of its 99.9th
        percentile (also the lowest peak allowed along the stretch).
    isolation : float
        Largest ground truth allowed away from the fibre, as a fraction of
        the peak.
    min_gap : float
        Distance from the centre (pixels) beyond which the line must be
        empty.
    sigma : float
        Smoothing of the structure tensor (pixels).
    step : int
        Test every ``step``-th skeleton pixel (speed).

    Returns
    -------
    list of tuple
        ``(start, end)`` per line, each ``(row, col)`` floats, ordered by
        straightness (best first); pass them to :func:`line_profiles`.
        Empty if no stretch qualifies.

    Raises
    ------
    ValueError
        If the image is not 2-D, holds no structure, or ``length`` is even.

    Examples
    --------
    >>> gt = np.zeros((64, 64)); gt[:, 30] = 1  # one straight vertical fibre
    >>> lines = find_profile_lines(gt, n=1)
    >>> start, end = lines[0]
    >>> start[0] == end[0], round(end[1] - start[1])  # a horizontal line, 21 px long
    (True, 20)
    """
    from skimage.morphology import skeletonize

    gt = _image2d(ground_truth, "ground truth")
    length = int(length)
    if length % 2 == 0 or length < 5:
        raise ValueError(f"length must be odd and at least 5, got {length}")
    top = float(np.percentile(gt, 99.9))
    if not top > 0:
        raise ValueError("the ground truth has no structure")
    rel = gt / top
    skeleton = skeletonize(rel > threshold)
    normals_r, normals_c = _directions(rel, sigma)
    half = length // 2
    margin = half + width / 2 + 2
    h, w = rel.shape
    rr, cc = np.nonzero(skeleton)
    keep = (rr >= margin) & (rr < h - margin) & (cc >= margin) & (cc < w - margin)
    rr, cc = rr[keep][:: max(1, int(step))], cc[keep][:: max(1, int(step))]
    u = np.arange(-half, half + 1)
    far = np.abs(u) > min_gap
    candidates = []
    for r, c in zip(rr, cc):
        normal = (float(normals_r[r, c]), float(normals_c[r, c]))
        strip = _strip(rel, (r, c), normal, half, int(width))
        peaks = strip.max(axis=1)
        offsets = u[np.argmax(strip, axis=1)]
        if np.abs(offsets).max() > 1 or peaks.min() < threshold or peaks.max() > 2 * peaks.min():
            continue
        if (strip[:, far] > isolation * peaks[:, None]).any():
            continue
        # sub-pixel centre of every row (centroid of the top 3 px): straightness is their spread
        centres = [
            np.sum(row[i - 1 : i + 2] * u[i - 1 : i + 2]) / np.sum(row[i - 1 : i + 2])
            for row, i in zip(strip, np.argmax(strip, axis=1))
        ]
        candidates.append((float(np.std(centres) + abs(np.mean(centres))), r, c, normal))
    candidates.sort(key=lambda x: x[0])
    chosen = []
    for _, r, c, normal in candidates:
        if len(chosen) >= n:
            break
        if any(math.hypot(r - r0, c - c0) < width for _, r0, c0, _ in chosen):
            continue
        chosen.append((None, r, c, normal))
    lines = []
    for _, r, c, (nr, nc) in chosen:
        nr, nc = (0.0 if abs(nr) < 1e-9 else nr), (0.0 if abs(nc) < 1e-9 else nc)
        lines.append(((float(r - half * nr), float(c - half * nc)), (float(r + half * nr), float(c + half * nc))))
    return lines


def line_profiles(image, lines, width=20):
    """Intensity profiles along lines, each averaged over ``width`` px perpendicular to it.

    Parameters
    ----------
    image : 2-D array_like
        The image.
    lines : sequence of ((row, col), (row, col))
        Start and end of each line (:func:`find_profile_lines`).
    width : int
        Pixels averaged perpendicular to the line (along the fibre); the
        ``linewidth`` of :func:`skimage.measure.profile_line`.

    Returns
    -------
    list of ndarray
        One 1-D profile per line (``length`` values: both ends included).

    Examples
    --------
    >>> img = np.zeros((40, 40)); img[:, 20] = 1
    >>> line_profiles(img, [((20, 15), (20, 25))], width=10)[0].round(2)
    array([0., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0.])
    """
    from skimage.measure import profile_line

    img = _image2d(image)
    return [
        profile_line(img, start, end, linewidth=int(width), mode="reflect", reduce_func=np.mean, order=1)
        for start, end in lines
    ]


def _gaussian(x, amplitude, center, sigma, offset):
    return offset + amplitude * np.exp(-0.5 * ((x - center) / sigma) ** 2)


def fit_gaussian(profile, spacing=1.0, min_r2=0.5):
    """Fit a Gaussian plus a constant to a line profile; its full width at half maximum.

    Least squares (:func:`scipy.optimize.curve_fit`) of
    ``offset + amplitude * exp(-(x - center)**2 / (2 sigma**2))``, started
    at the profile's maximum; the FWHM is ``2 sqrt(2 ln 2) sigma``.

    Parameters
    ----------
    profile : 1-D array_like
        Intensities along a line across a fibre (one value per sample).
    spacing : float
        Distance between samples (e.g. nm per pixel); the results are in
        this unit.
    min_r2 : float
        Smallest coefficient of determination accepted: a fit explaining
        less of the profile's variance is not a peak (e.g. a dip).

    Returns
    -------
    dict of float
        ``fwhm``, ``sigma``, ``center``, ``amplitude``, ``offset`` and
        ``r2`` (the fit's coefficient of determination); all ``nan`` if the
        fit fails, the peak is not positive, its centre lies outside the
        profile, or ``r2`` is below ``min_r2``.

    Examples
    --------
    >>> x = np.arange(21.0)
    >>> fit = fit_gaussian(3 + 10 * np.exp(-(x - 10.3) ** 2 / (2 * 1.5 ** 2)))
    >>> round(fit["fwhm"], 3), round(fit["center"], 2)
    (3.532, 10.3)
    """
    from scipy.optimize import curve_fit

    p = np.asarray(profile, dtype=np.float64).ravel()
    failed = dict.fromkeys(("fwhm", "sigma", "center", "amplitude", "offset", "r2"), math.nan)
    if p.size < 5 or not np.isfinite(p).all() or p.max() == p.min():
        return failed
    x = np.arange(p.size, dtype=np.float64)
    lo, hi = float(p.min()), float(p.max())
    p0 = [hi - lo, float(np.argmax(p)), max(1.0, p.size / 10), lo]
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            (amplitude, center, sigma, offset), _ = curve_fit(_gaussian, x, p, p0=p0, maxfev=5000)
    except (RuntimeError, ValueError):
        return failed
    sigma = abs(float(sigma))
    residual = p - _gaussian(x, amplitude, center, sigma, offset)
    r2 = 1.0 - float(np.sum(residual**2) / np.sum((p - p.mean()) ** 2))
    if not (amplitude > 0 and 0 <= center <= p.size - 1 and 0 < sigma < p.size and r2 >= min_r2):
        return failed
    return {
        "fwhm": FWHM_PER_SIGMA * sigma * spacing,
        "sigma": sigma * spacing,
        "center": float(center) * spacing,
        "amplitude": float(amplitude),
        "offset": float(offset),
        "r2": r2,
    }


def measure_widths(images, lines, width=20, spacing=1.0):
    """FWHM of the fibre on every line, in several images.

    Parameters
    ----------
    images : dict of str to 2-D array_like
        Name -> image (input, restorations, target, ground truth), aligned.
    lines : sequence of ((row, col), (row, col))
        The lines (:func:`find_profile_lines`).
    width : int
        Pixels averaged along the fibre (see :func:`line_profiles`).
    spacing : float
        Pixel size; widths are in its unit.

    Returns
    -------
    dict
        ``{name: {"fwhm": ndarray (one per line, nan where the fit
        failed), "profiles": list of ndarray, "fits": list of dict}}``.

    Examples
    --------
    >>> img = np.zeros((40, 40)); img[:, 20] = 1
    >>> from scipy.ndimage import gaussian_filter
    >>> res = measure_widths({"sharp": gaussian_filter(img, 1.0), "blurred": gaussian_filter(img, 2.0)},
    ...                      [((20, 10), (20, 30))], width=10)
    >>> [round(float(res[k]["fwhm"][0]), 2) for k in ("sharp", "blurred")]
    [2.35, 4.71]
    """
    out = {}
    for name, image in images.items():
        profiles = line_profiles(image, lines, width=width)
        fits = [fit_gaussian(p, spacing=spacing) for p in profiles]
        out[str(name)] = {"fwhm": np.array([f["fwhm"] for f in fits]), "profiles": profiles, "fits": fits}
    return out


# --- binarisation and distance maps ---------------------------------------------------------------
