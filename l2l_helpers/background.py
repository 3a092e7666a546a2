"""How much cytosolic background a restoration keeps, and where it changed the input.

Label2label removes the label-specific cytosolic background that noise2noise
keeps. With the simulator's ground truth and cell mask this can be measured:
the mean intensity in cell areas *without structure*, relative to the mean
intensity *on the structure*, both above the level outside the cell (so an
offset or a scale factor of the restoration does not change the number).
"""

from __future__ import annotations

import numpy as np

__all__ = ["structure_masks", "cytosolic_background", "rms_map", "structure_window"]


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
    return {"structure": struct, "cytosol": cyto, "ratio": cyto / struct if struct != 0 else float("nan"),
            "zero": zero}


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

    from .prepare import normalize

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
    valid = means[half:img.shape[0] - size + half + 1, half:img.shape[1] - size + half + 1]
    r, c = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return slice(int(r), int(r) + size), slice(int(c), int(c) + size)

