"""What a restoration leaves or puts where the ground truth has no structure.

Label2label removes the label-specific cytosolic background that noise2noise
keeps. With the simulator's ground truth and cell mask this can be measured:
the mean intensity in cell areas *without structure*, relative to the mean
intensity *on the structure*, both above the level outside the cell (so an
offset or a scale factor of the restoration does not change the number):
:func:`cytosolic_background`.

A network can also *add* what is not there (bright puncta, a frame along
the image border): :func:`hallucination` measures the signal a restoration
puts where the ground truth has no structure, in excess of what the input
has there, and :func:`hallucination_map` shows where.

Both use the same masks (:func:`structure_masks`, :func:`empty_mask`): a
pixel has *no structure* if the ground truth is below 2 % of its 99.9th
percentile there and at every pixel within 2 px.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "structure_masks",
    "empty_mask",
    "cytosolic_background",
    "hallucination_map",
    "hallucination",
    "hallucination_parts",
    "rms_map",
    "structure_window",
]


def structure_masks(ground_truth, cell_mask, structure_threshold=0.25, empty_threshold=0.02, margin=2):
    """Masks of structure, structure-free cytosol and outside of a cell.

    Parameters
    ----------
    ground_truth : ndarray
        Noise-free image of the structure (simulator's ``ground_truth``).
    cell_mask : ndarray of bool
        Pixels inside the cell.
    structure_threshold : float
        Structure: ground truth above this fraction of its 99.9th percentile
        inside the cell.
    empty_threshold : float
        Cytosol without structure: ground truth below this fraction, further
        than ``margin`` pixels from any structure and from the cell border.
    margin : int
        Distance (pixels) kept from structure and cell border, so blur does
        not count as background.

    Returns
    -------
    dict of ndarray of bool
        ``structure``, ``cytosol`` and ``outside`` (more than ``margin``
        pixels outside the cell).

    Raises
    ------
    ValueError
        If shapes differ, the cell mask is empty, or the ground truth has no
        structure in the cell.

    Examples
    --------
    >>> gt = np.zeros((32, 32)); gt[16, 8:24] = 1
    >>> cell = np.zeros((32, 32), bool); cell[4:28, 4:28] = True
    >>> m = structure_masks(gt, cell)
    >>> int(m["structure"].sum()), bool(m["cytosol"].any())
    (16, True)
    """
    from scipy import ndimage as ndi

    gt = np.asarray(ground_truth, dtype=np.float64)
    cell = np.asarray(cell_mask, dtype=bool)
    if gt.shape != cell.shape:
        raise ValueError(f"ground truth {gt.shape} and cell mask {cell.shape} differ in shape")
    if not cell.any():
        raise ValueError("the cell mask is empty")
    top = np.percentile(gt[cell], 99.9)
    if not top > 0:
        raise ValueError("the ground truth has no structure inside the cell")
    rel = gt / top
    structure = cell & (rel > structure_threshold)
    near = ndi.binary_dilation(rel >= empty_threshold, iterations=margin) if margin else rel >= empty_threshold
    inner = ndi.binary_erosion(cell, iterations=margin) if margin else cell
    cytosol = inner & ~near
    outside = ~ndi.binary_dilation(cell, iterations=max(margin, 1))
    return {"structure": structure, "cytosol": cytosol, "outside": outside}


def cytosolic_background(image, ground_truth, cell_mask, **mask_options):
    """Cytosolic background of an image relative to its structure.

    Parameters
    ----------
    image : ndarray
        An input, restoration or target, aligned with the ground truth.
    ground_truth : ndarray
        Noise-free structure (defines where the structure is).
    cell_mask : ndarray of bool
        Pixels inside the cell.
    **mask_options
        Passed to :func:`structure_masks`.

    Returns
    -------
    dict of float
        ``structure`` and ``cytosol``: mean intensities above the median
        outside the cell (``zero``); ``ratio``: ``cytosol / structure`` (0
        means no background left; about the input's value means all of it
        kept).

    Raises
    ------
    ValueError
        See :func:`structure_masks`; also if the image's shape differs or no
        structure-free cytosol is left.

    Examples
    --------
    >>> gt = np.zeros((32, 32)); gt[16, 8:24] = 1
    >>> cell = np.zeros((32, 32), bool); cell[4:28, 4:28] = True
    >>> img = gt + 0.2 * cell + 5.0
    >>> round(cytosolic_background(img, gt, cell)["ratio"], 3)
    0.167
    """
    img = np.asarray(image, dtype=np.float64)
    if img.shape != np.shape(ground_truth):
        raise ValueError(f"image {img.shape} and ground truth {np.shape(ground_truth)} differ in shape")
    masks = structure_masks(ground_truth, cell_mask, **mask_options)
    if not masks["cytosol"].any():
        raise ValueError("no structure-free cytosol in this cell; lower margin or raise empty_threshold")
    zero = float(np.median(img[masks["outside"]])) if masks["outside"].any() else 0.0
    struct = float(img[masks["structure"]].mean()) - zero
    cyto = float(img[masks["cytosol"]].mean()) - zero
    return {"structure": struct, "cytosol": cyto, "ratio": cyto / struct if struct != 0 else float("nan"), "zero": zero}


def empty_mask(ground_truth, empty_threshold=0.02, margin=2, top=None):
    """Pixels where the ground truth has no structure, with a margin around every structure.

    Parameters
    ----------
    ground_truth : ndarray
        Noise-free image of the structure.
    empty_threshold : float
        Empty: ground truth below this fraction of ``top`` ...
    margin : int
        ... at the pixel and at every pixel within ``margin`` pixels (so
        the blur of a structure does not count as empty).
    top : float, optional
        Reference level; default the 99.9th percentile of the whole ground
        truth.

    Returns
    -------
    ndarray of bool
        True where there is no structure.

    Raises
    ------
    ValueError
        If the ground truth has no structure (``top`` is not above 0).

    Examples
    --------
    >>> gt = np.zeros((9, 9)); gt[4, 4] = 1
    >>> int((~empty_mask(gt, margin=1)).sum())  # the spot and its 8 neighbours
    9
    """
    from scipy import ndimage as ndi

    gt = np.asarray(ground_truth, dtype=np.float64)
    top = float(np.percentile(gt, 99.9)) if top is None else float(top)
    if not top > 0:
        raise ValueError("the ground truth has no structure")
    near = gt >= empty_threshold * top
    if margin:
        near = ndi.binary_dilation(near, structure=np.ones((3, 3), bool), iterations=int(margin))
    return ~near


def _smoothed(image, sigma):
    from scipy.ndimage import gaussian_filter

    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {img.shape}")
    return gaussian_filter(img, sigma) if sigma else img


def _levels(image, empty, structure):
    """An image in units of its own structure: 0 = median of the empty pixels, 1 = mean on the structure."""
    zero = float(np.median(image[empty]))
    scale = float(image[structure].mean()) - zero
    if not scale > 0:
        return None
    return (image - zero) / scale


def hallucination_map(
    restoration, input, ground_truth, sigma=1.0, tolerance=1.0, structure_threshold=0.25, empty_threshold=0.02, margin=2
):
    """Where a restoration puts signal that neither the ground truth nor the input has.

    Definition (every step is scale- and offset-free):

    1. *Structure* ``S``: ground truth above ``structure_threshold`` (25 %)
       of its 99.9th percentile; *no structure* ``N``: ground truth below
       ``empty_threshold`` (2 %) of it at the pixel and within ``margin``
       (2 px), anywhere in the image (:func:`empty_mask`; the same
       thresholds as the background masks of :func:`structure_masks`, but
       outside the cell too, so that a frame along the border counts).
    2. Restoration ``R`` and input ``I`` are smoothed with a Gaussian of
       ``sigma`` (1 px) and put in units of their own structure:
       ``R^ = (R - median_N R) / (mean_S R - median_N R)``, likewise
       ``I^``. So 0 is the image's typical level where nothing is, 1 its
       mean on the structure.
    3. Excess, at pixels of ``N`` (0 elsewhere):
       ``max(0, R^ - max(I^, 0) - tolerance * s)``, where ``s`` is the
       robust standard deviation (1.4826 x median absolute deviation) of
       ``I^`` over ``N``: what the restoration has above its empty level,
       above the input's own signal there, beyond the input's noise.

    The input's map is 0 everywhere; a restoration that only removes
    signal (noise, background) has a map of about 0; a spot, a haze or a
    frame that is not in the input shows up with its height above the
    input, in units of the mean structure intensity.

    Parameters
    ----------
    restoration, input, ground_truth : ndarray
        2-D images of the same shape (the raw input, not a restoration).
    sigma : float
        Smoothing in pixels (0: none).
    tolerance : float
        Input noise tolerated, in robust standard deviations (0: none).
    structure_threshold, empty_threshold : float
        Fractions of the ground truth's 99.9th percentile defining ``S``
        and ``N``.
    margin : int
        Distance in pixels from any structure for ``N``.

    Returns
    -------
    ndarray of float32
        The excess per pixel (0 outside ``N``); all ``nan`` if the
        restoration is not brighter on the structure than where nothing is.

    Raises
    ------
    ValueError
        If shapes differ, the ground truth has no structure, or no pixel is
        without structure.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> gt = np.zeros((64, 64)); gt[32, 10:54] = 1
    >>> x = gt + 0.1 * rng.standard_normal(gt.shape)
    >>> float(hallucination_map(x, x, gt).max())
    0.0
    >>> r = gt.copy(); r[10, 10] = 1  # a punctum where there is nothing
    >>> bool(hallucination_map(r, x, gt)[10, 10] > 0)
    True
    """
    gt = np.asarray(ground_truth, dtype=np.float64)
    shapes = {np.shape(restoration), np.shape(input), gt.shape}
    if len(shapes) != 1:
        raise ValueError(f"restoration, input and ground truth differ in shape: {sorted(shapes)}")
    top = float(np.percentile(gt, 99.9))
    if not top > 0:
        raise ValueError("the ground truth has no structure")
    structure = gt > structure_threshold * top
    empty = empty_mask(gt, empty_threshold=empty_threshold, margin=margin, top=top)
    if not structure.any():
        raise ValueError("the ground truth has no structure above the structure threshold")
    if not empty.any():
        raise ValueError("no pixel without structure; lower margin or raise empty_threshold")
    r_hat = _levels(_smoothed(restoration, sigma), empty, structure)
    i_hat = _levels(_smoothed(input, sigma), empty, structure)
    if r_hat is None:
        return np.full(gt.shape, np.nan, dtype=np.float32)
    if i_hat is None:
        raise ValueError("the input is not brighter on the structure than where nothing is")
    vals = i_hat[empty]
    noise = 1.4826 * float(np.median(np.abs(vals - np.median(vals))))
    excess = np.maximum(0.0, r_hat - np.maximum(i_hat, 0.0) - tolerance * noise)
    excess[~empty] = 0.0
    return excess.astype(np.float32)


def hallucination(restoration, input, ground_truth, **options):
    """Signal a restoration invents where there is no structure, relative to the real structure.

    The sum of :func:`hallucination_map` over the pixels without structure,
    divided by the number of structure pixels: the invented signal as a
    fraction of the signal on the structure (both in units of the mean
    structure intensity). 0 for the input itself and for restorations that
    only remove noise or background; 0.1 means the restoration put 10 %
    as much signal where nothing is as on the real structure.

    Parameters
    ----------
    restoration, input, ground_truth : ndarray
        2-D images of the same shape.
    **options
        Passed to :func:`hallucination_map` (``sigma``, ``tolerance``,
        ``structure_threshold``, ``empty_threshold``, ``margin``).

    Returns
    -------
    float
        The score (0 is best); ``nan`` for a restoration that is not
        brighter on the structure than where nothing is.

    Raises
    ------
    ValueError
        See :func:`hallucination_map`.

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> cell = simulate_cell("actin", 128, seed=0)
    >>> hallucination(cell["input"], cell["input"], cell["ground_truth"])
    0.0
    >>> bad = cell["ground_truth"].copy(); bad[:3] = bad.max()  # a bright top border
    >>> hallucination(bad, cell["input"], cell["ground_truth"]) > 0.05
    True
    """
    return hallucination_parts(restoration, input, ground_truth, **options)["total"]


def hallucination_parts(restoration, input, ground_truth, border=4, **options):
    """The hallucination score, split into an image-border frame and the inside.

    Networks can invent signal in two typical places: a bright **frame**
    along the image border (where a U-Net sees its zero padding instead of
    image) and **puncta** or blobs inside the image. This splits
    :func:`hallucination` into the part within ``border`` pixels of the image
    edge and the rest; the two add up to the total.

    Parameters
    ----------
    restoration, input, ground_truth : ndarray
        2-D images of the same shape.
    border : int
        Width of the border frame in pixels.
    **options
        Passed to :func:`hallucination_map`.

    Returns
    -------
    dict of float
        ``total`` (= :func:`hallucination`), ``border`` and ``inside``;
        all ``nan`` for a restoration that is not brighter on the structure
        than where nothing is.

    Raises
    ------
    ValueError
        See :func:`hallucination_map`; also for a negative ``border``.

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_cell
    >>> cell = simulate_cell("actin", 128, seed=0)
    >>> framed = cell["ground_truth"].copy(); framed[:2] = framed.max()  # a bright top border
    >>> parts = hallucination_parts(framed, cell["input"], cell["ground_truth"])
    >>> parts["border"] > 0.05, parts["inside"]
    (True, 0.0)
    """
    if int(border) != border or border < 0:
        raise ValueError(f"border must be a whole number of pixels >= 0, got {border!r}")
    border = int(border)
    excess = hallucination_map(restoration, input, ground_truth, **options)
    if np.isnan(excess).all():
        return {"total": float("nan"), "border": float("nan"), "inside": float("nan")}
    gt = np.asarray(ground_truth, dtype=np.float64)
    n_structure = int((gt > options.get("structure_threshold", 0.25) * np.percentile(gt, 99.9)).sum())
    frame = np.zeros(excess.shape, dtype=bool)
    if border:
        frame[:border] = frame[-border:] = True
        frame[:, :border] = frame[:, -border:] = True
    on_frame = float(excess[frame].sum(dtype=np.float64) / n_structure)
    inside = float(excess[~frame].sum(dtype=np.float64) / n_structure)
    return {"total": on_frame + inside, "border": on_frame, "inside": inside}


def rms_map(image, reference, sigma=2.0, percentiles=(2.0, 99.8)):
    """Local root-mean-square difference between two images (paper's Fig. 1D).

    Both images are normalised by percentiles first, so the map shows what
    a restoration removed from (or added to) the input, not a change of
    scale.

    Parameters
    ----------
    image, reference : ndarray
        Two images of the same shape (e.g. input and restoration).
    sigma : float
        Width (pixels) of the Gaussian window of the local mean.
    percentiles : tuple of float
        Normalisation percentiles.

    Returns
    -------
    ndarray of float32
        ``sqrt(gaussian(sigma) * (a - b)**2)``.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> a = np.random.default_rng(0).random((32, 32))
    >>> float(rms_map(a, a).max())
    0.0
    """
    from scipy.ndimage import gaussian_filter

    from l2l_helpers.training.prepare import normalize

    a = np.asarray(image, dtype=np.float32)
    b = np.asarray(reference, dtype=np.float32)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} and {b.shape}")
    d = normalize(a, *percentiles) - normalize(b, *percentiles)
    return np.sqrt(gaussian_filter(d.astype(np.float64) ** 2, sigma)).astype(np.float32)


def structure_window(image, size=64):
    """The square region with the most signal, e.g. for a zoomed view.

    Parameters
    ----------
    image : ndarray
        2-D image (typically the ground truth or a target).
    size : int
        Side of the window in pixels (at most the image's smaller side).

    Returns
    -------
    tuple of slice
        ``(rows, cols)`` of the window whose pixel sum is largest.

    Examples
    --------
    >>> img = np.zeros((100, 100)); img[70:80, 20:30] = 1
    >>> rows, cols = structure_window(img, size=20)
    >>> bool(img[rows, cols].sum() == 100)
    True
    """
    from scipy.ndimage import uniform_filter

    img = np.asarray(image, dtype=np.float64)
    size = int(min(size, *img.shape))
    means = uniform_filter(img, size, mode="constant")
    half = size // 2
    valid = means[half : img.shape[0] - size + half + 1, half : img.shape[1] - size + half + 1]
    r, c = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return slice(int(r), int(r) + size), slice(int(c), int(c) + size)
