"""What a biologist measures on a restoration: fibre widths, binary masks, distance maps.

A restoration is only as good as the measurements it allows. The label2label
paper checked three (lesson 08):

* **Microtubule width** (its Fig. S4C): the full width at half maximum
  (FWHM) of a Gaussian fitted to a line profile across a single microtubule,
  the profile averaged over 20 px along the tubule.
  :func:`find_profile_lines` picks the lines automatically from the ground
  truth (isolated, straight stretches), so the measurement is reproducible;
  :func:`line_profiles` reads them (:func:`skimage.measure.profile_line`),
  :func:`fit_gaussian` fits them (:func:`scipy.optimize.curve_fit`) and
  :func:`measure_widths` does both for several images.
* **Binarisation and distance maps** (its Fig. S8): a percentile threshold
  per structure and the removal of small objects (:func:`binarize`, with the
  paper's settings in :data:`BINARISATION`), Euclidean distance maps
  (:func:`distance_map`, :func:`scipy.ndimage.distance_transform_edt`), and
  their agreement with the ground truth binarised the same way:
  :func:`dice` and the mean distance error (:func:`compare_masks`);
  :func:`binarisation_scores` scores several methods at once, in the layout
  of :func:`l2l_helpers.scoring.metrics.score_restorations` (so
  :func:`~l2l_helpers.scoring.metrics.format_table` prints it).
* **L2L on the target label** (its Fig. 3D) needs no new function:
  restore the target with the trained network and score both with
  :func:`l2l_helpers.scoring.metrics.score_restorations` (``background``).

Every function takes plain arrays and returns plain numbers or arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FWHM_PER_SIGMA",
    "BINARISATION",
    "find_profile_lines",
    "line_profiles",
    "fit_gaussian",
    "measure_widths",
    "binarize",
    "distance_map",
    "dice",
    "compare_masks",
    "binarisation_scores",
]

#: FWHM of a Gaussian in units of its standard deviation, ``2 sqrt(2 ln 2)``.
FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

#: Binarisation settings per structure (the paper's Fig. S8): the percentile of the image used as threshold
#: and the smallest object kept (pixels). The paper gives the object sizes as "20 / 50 px"; we read 20 px for
#: the small objects (actin fragments, caveolae) and 50 px for the larger ones (microtubules, adhesions).
BINARISATION = {
    "actin": {"percentile": 75.0, "min_size": 20},
    "tubulin": {"percentile": 60.0, "min_size": 50},
    "caveolae": {"percentile": 93.0, "min_size": 20},
    "pxn": {"percentile": 90.0, "min_size": 50},
}


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


def binarize(image, structure=None, percentile=None, min_size=None, sigma=1.0, mask=None):
    """Binarise an image as the paper does: smooth, percentile threshold, remove small objects.

    The image is smoothed with a Gaussian of ``sigma`` px
    (:func:`skimage.filters.gaussian`, to keep single noisy pixels from
    deciding), thresholded at its ``percentile``-th percentile (inside
    ``mask`` if given), and connected objects smaller than ``min_size``
    pixels are removed (:func:`skimage.morphology.remove_small_objects`).
    A percentile threshold keeps a fixed fraction of the pixels, whatever
    the image's intensity scale, so inputs and restorations of any scale
    binarise alike.

    Parameters
    ----------
    image : 2-D array_like
        The image.
    structure : str, optional
        Take ``percentile`` and ``min_size`` from :data:`BINARISATION`.
    percentile : float, optional
        Threshold percentile (overrides the structure's).
    min_size : int, optional
        Smallest object kept, in pixels (overrides the structure's).
    sigma : float
        Smoothing before the threshold (0: none).
    mask : 2-D array_like of bool, optional
        Pixels that count for the percentile (e.g. the cells); pixels
        outside are never foreground.

    Returns
    -------
    ndarray of bool
        The foreground.

    Raises
    ------
    ValueError
        Without a structure or both ``percentile`` and ``min_size``; an
        unknown structure; a percentile outside [0, 100]; an empty mask.

    Examples
    --------
    >>> img = np.zeros((20, 20)); img[5:10, 5:10] = 1; img[15, 15] = 1
    >>> fg = binarize(img, percentile=90, min_size=4, sigma=0)
    >>> int(fg.sum()), bool(fg[15, 15])  # the 5 x 5 square stays, the single pixel goes
    (25, False)
    """
    from skimage.filters import gaussian

    img = _image2d(image)
    settings = {}
    if structure is not None:
        if structure not in BINARISATION:
            raise ValueError(f"no binarisation settings for {structure!r}; choose one of {', '.join(BINARISATION)}")
        settings.update(BINARISATION[structure])
    if percentile is not None:
        settings["percentile"] = float(percentile)
    if min_size is not None:
        settings["min_size"] = int(min_size)
    if set(settings) != {"percentile", "min_size"}:
        raise ValueError("give a structure, or both percentile and min_size")
    if not 0 <= settings["percentile"] <= 100:
        raise ValueError(f"percentile must lie in [0, 100], got {settings['percentile']}")
    region = np.ones(img.shape, bool) if mask is None else np.asarray(mask, dtype=bool)
    if region.shape != img.shape:
        raise ValueError(f"mask {region.shape} and image {img.shape} differ in shape")
    if not region.any():
        raise ValueError("the mask is empty")
    smooth = gaussian(img, sigma=sigma, preserve_range=True) if sigma else img
    fg = (smooth > np.percentile(smooth[region], settings["percentile"])) & region
    if settings["min_size"] > 1:
        fg = _remove_small_objects(fg, settings["min_size"])
    return fg


def _remove_small_objects(mask, min_size):
    """Remove objects of fewer than ``min_size`` pixels, on scikit-image 0.25 (Colab) and 0.26.

    scikit-image 0.26 replaced ``min_size`` (objects smaller than it are removed) by ``max_size`` (objects
    of at most that size are removed); 0.25 knows only ``min_size``.
    """
    from skimage.morphology import remove_small_objects

    try:
        return remove_small_objects(mask, max_size=min_size - 1)
    except TypeError:  # scikit-image < 0.26
        return remove_small_objects(mask, min_size=min_size)


def distance_map(mask):
    """Euclidean distance of every pixel to the nearest foreground pixel (0 on the foreground).

    Parameters
    ----------
    mask : 2-D array_like of bool
        The foreground.

    Returns
    -------
    ndarray of float64
        Distances in pixels (:func:`scipy.ndimage.distance_transform_edt`).

    Raises
    ------
    ValueError
        If the mask is not 2-D or has no foreground.

    Examples
    --------
    >>> m = np.zeros((1, 5), bool); m[0, 0] = True
    >>> distance_map(m)
    array([[0., 1., 2., 3., 4.]])
    """
    from scipy.ndimage import distance_transform_edt

    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"expected a 2-D mask, got shape {m.shape}")
    if not m.any():
        raise ValueError("the mask has no foreground: no distance to measure")
    return distance_transform_edt(~m)


def dice(mask, reference):
    """Dice coefficient of two masks: ``2 |A and B| / (|A| + |B|)`` (1 is identical, 0 disjoint).

    Parameters
    ----------
    mask, reference : array_like of bool
        Masks of the same shape.

    Returns
    -------
    float
        The coefficient; 1.0 if both are empty.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> a = np.array([1, 1, 0, 0], bool); b = np.array([1, 0, 1, 0], bool)
    >>> dice(a, b)
    0.5
    """
    a, b = np.asarray(mask, dtype=bool), np.asarray(reference, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"masks differ in shape: {a.shape} and {b.shape}")
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else float(2 * np.logical_and(a, b).sum() / total)


def compare_masks(mask, reference, region=None):
    """Agreement of a binarisation with a reference: Dice and the mean distance-map error.

    Parameters
    ----------
    mask, reference : 2-D array_like of bool
        The binarisation and the reference (e.g. the binarised ground truth).
    region : 2-D array_like of bool, optional
        Pixels over which the distance error is averaged (e.g. the cells;
        default: all).

    Returns
    -------
    dict of float
        ``dice`` (:func:`dice`, 1 is best), ``distance_error``: the mean
        absolute difference between the two distance maps
        (:func:`distance_map`) in pixels (0 is best), and ``foreground``:
        the fraction of pixels the mask calls foreground.

    Raises
    ------
    ValueError
        Shapes differ, or a mask has no foreground.

    Examples
    --------
    >>> ref = np.zeros((16, 16), bool); ref[8, :] = True
    >>> shifted = np.roll(ref, 2, axis=0)
    >>> s = compare_masks(shifted, ref)
    >>> s["dice"], round(s["distance_error"], 2)
    (0.0, 1.88)
    """
    m, ref = np.asarray(mask, dtype=bool), np.asarray(reference, dtype=bool)
    if m.shape != ref.shape:
        raise ValueError(f"mask {m.shape} and reference {ref.shape} differ in shape")
    where = np.ones(m.shape, bool) if region is None else np.asarray(region, dtype=bool)
    error = np.abs(distance_map(m) - distance_map(ref))[where]
    return {"dice": dice(m, ref), "distance_error": float(error.mean()), "foreground": float(m.mean())}


def binarisation_scores(images, ground_truths, structure=None, cell_masks=None, names=None, **options):
    """Binarise every method's images and compare them with the binarised ground truths.

    Parameters
    ----------
    images : dict of str to sequence of 2-D array_like
        Method -> one image per ground truth (``"input"``, ``"target"``,
        filters, networks); dict order is row order.
    ground_truths : sequence of 2-D array_like
        Binarised the same way (:func:`binarize`, same settings): the
        reference each binarisation is compared with.
    structure : str, optional
        Binarisation settings from :data:`BINARISATION`.
    cell_masks : sequence of 2-D array_like of bool, optional
        Cells: the percentile is taken inside them and the distance error
        averaged over them.
    names : sequence of str, optional
        One name per image (default ``image_000``, ...).
    **options
        Passed to :func:`binarize` (``percentile``, ``min_size``, ``sigma``).

    Returns
    -------
    dict
        ``{method: {"mean": {"dice", "distance_error", "foreground"},
        "images": [{"name", ...}, ...]}}``, the layout of
        :func:`l2l_helpers.scoring.metrics.score_restorations`, so
        :func:`l2l_helpers.scoring.metrics.format_table` and the figures of
        :mod:`l2l_helpers.plotting.metrics` take it.

    Raises
    ------
    ValueError
        If a method does not have one image per ground truth (named).

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> cell = simulate_cell("pxn", 128, seed=0)
    >>> s = binarisation_scores({"input": [cell["input"]], "target": [cell["benchmark"]]}, [cell["ground_truth"]],
    ...                         structure="pxn", cell_masks=[cell["cell_mask"]])
    >>> s["target"]["mean"]["distance_error"] < s["input"]["mean"]["distance_error"]
    True
    """
    truths = list(ground_truths)
    n = len(truths)
    names = [f"image_{i:03d}" for i in range(n)] if names is None else [str(x) for x in names]
    cells = [None] * n if cell_masks is None else list(cell_masks)
    if len(names) != n or len(cells) != n:
        raise ValueError(f"{len(names)} names and {len(cells)} cell masks for {n} ground truths")
    refs = [binarize(t, structure=structure, mask=cell, **options) for t, cell in zip(truths, cells)]
    out = {}
    for method, imgs in images.items():
        imgs = list(imgs)
        if len(imgs) != n:
            raise ValueError(f"{method}: {len(imgs)} images for {n} ground truths")
        rows = []
        for name, img, ref, cell in zip(names, imgs, refs, cells):
            fg = binarize(img, structure=structure, mask=cell, **options)
            rows.append({"name": name, **compare_masks(fg, ref, region=cell)})
        keys = [k for k in rows[0] if k != "name"]
        out[str(method)] = {"mean": {k: float(np.mean([r[k] for r in rows])) for k in keys}, "images": rows}
    return out
