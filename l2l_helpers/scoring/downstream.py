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
  :func:`measure_widths` does both for several images (they live in
  :mod:`l2l_helpers.scoring.widths`).
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

import numpy as np

from l2l_helpers.scoring.widths import (
    FWHM_PER_SIGMA,
    _image2d,
    find_profile_lines,
    fit_gaussian,
    line_profiles,
    measure_widths,
)

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


#: Binarisation settings per structure (the paper's Fig. S8): the percentile of the image used as threshold
#: and the smallest object kept (pixels). The paper gives the object sizes as "20 / 50 px"; we read 20 px for
#: the small objects (actin fragments, caveolae) and 50 px for the larger ones (microtubules, adhesions).
BINARISATION = {
    "actin": {"percentile": 75.0, "min_size": 20},
    "tubulin": {"percentile": 60.0, "min_size": 50},
    "caveolae": {"percentile": 93.0, "min_size": 20},
    "pxn": {"percentile": 90.0, "min_size": 50},
}


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
