"""Separating two superposed labels into two channels, and measuring how well it worked.

The label2label paper imaged cells stained for the nucleus (SYTOX) and the
plasma membrane (CD44) once with both labels superposed and once with each
label alone, and trained a CARE network with the superposed image as input
and the two single-label images as its two output channels (the input
repeated on both channels: CSBDeep wants as many input as output channels;
:func:`l2l_helpers.training.prepare.make_training_data` with one list of targets per
channel does it). This module holds what the lesson needs around that
network:

* :func:`superpose`: add two clean single-label images into one noisy
  acquisition (for real cells whose labels were imaged separately, such as
  the three BPAE images; :func:`fetch_bpae` downloads them);
* :func:`channel_images` and :func:`score_channels`: the paper's metrics
  per channel (its Table 1 layout, :func:`format_channel_table`), against
  the separate acquisitions or against the ground truth;
* :func:`leakage`: how much of the *other* label is left in a channel,
  relative to the superposed input (1: as much as in the input; 0: none);
* :func:`signal_recovered`: how much of a reference's signal a channel
  keeps in one region, e.g. the membrane signal over the nucleus, which the
  paper could only show by eye;
* :func:`nuclear_area`, :func:`background_area`, :func:`nuclear_window`
  (regions and zooms) and :func:`tile_image` (many training images from
  one large real image).

The regions and measures live in :mod:`l2l_helpers.scoring.separation_measures`
and are importable from here.

No TensorFlow is imported here.
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.data.io import check_image
from l2l_helpers.scoring.metrics import METRICS, format_table, score_restorations
from l2l_helpers.scoring.separation_measures import (
    background_area,
    leakage,
    noise_correlation,
    nuclear_area,
    nuclear_window,
    signal_recovered,
)

__all__ = [
    "CHANNELS",
    "BPAE_FILES",
    "superpose",
    "channel_images",
    "score_channels",
    "format_channel_table",
    "nuclear_area",
    "background_area",
    "nuclear_window",
    "leakage",
    "signal_recovered",
    "separation_scores",
    "noise_correlation",
    "tile_image",
    "split_real_cell",
    "fetch_bpae",
]

#: Channels of the simulated ``nucleus_membrane`` dataset, in the order of the network's outputs.
CHANNELS = ("nucleus", "membrane")

#: Registry names of the three labels of the real BPAE cell (``l2l_helpers/data_registry.txt``).
BPAE_FILES = {"nuclei": "BPAE_nuclei.tif", "actin": "BPAE_actin.tif", "mito": "BPAE_mito.tif"}


def _scaled(image, percentiles=(1.0, 99.8)):
    """Image scaled so that its two percentiles map to 0 and 1, negative values clipped."""
    image = np.asarray(image, dtype=np.float64)
    low, high = np.percentile(image, percentiles)
    if high <= low:
        raise ValueError(f"image is constant between its {percentiles} percentiles")
    return np.clip((image - low) / (high - low), 0.0, None)


def superpose(images, photons=50.0, read_noise=2.0, offset=100.0, percentiles=(1.0, 99.8), seed=None):
    """Superpose clean single-label images into one noisy acquisition.

    Each label is scaled so that its ``percentiles`` map to 0 and 1 (both
    labels equally bright, as both structures are in the simulator), the
    labels are added, and the sum is imaged as by a camera: ``photons``
    expected photons at intensity 1, Poisson (shot) noise, Gaussian read
    noise and an offset.

    Parameters
    ----------
    images : sequence of 2-D array_like
        The single-label images (same shape), e.g. nuclei and actin of one cell.
    photons : float
        Expected photons at intensity 1 of a label (fewer: noisier).
    read_noise : float
        Standard deviation of the camera's read noise, in counts.
    offset : float
        Camera baseline added to every pixel.
    percentiles : tuple of float
        Percentiles of each label mapped to 0 and 1 before adding.
    seed : int or numpy.random.Generator, optional
        Randomness of the noise; the same seed gives the same image.

    Returns
    -------
    ndarray of float32
        The noisy superposition.

    Raises
    ------
    ValueError
        Fewer than two images, images of different shapes, a constant
        image, or ``photons`` not positive.

    Examples
    --------
    >>> a = np.zeros((32, 32)); a[8:16, 8:16] = 1
    >>> b = np.zeros((32, 32)); b[20:24, :] = 1
    >>> s = superpose([a, b], photons=100, read_noise=0, offset=0, seed=0)
    >>> s.shape, s.dtype
    ((32, 32), dtype('float32'))
    >>> bool(s[10, 10] > 50 and s[22, 5] > 50 and s[2, 2] == 0)
    True
    """
    images = [check_image(np.asarray(im), name=f"label {k}", ndim=2) for k, im in enumerate(images)]
    if len(images) < 2:
        raise ValueError(f"give at least two labels to superpose, got {len(images)}")
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        raise ValueError(f"the labels differ in shape: {sorted(shapes)}")
    if not photons > 0:
        raise ValueError(f"photons must be positive, got {photons!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    expected = photons * np.sum([_scaled(im, percentiles) for im in images], axis=0)
    noisy = rng.poisson(expected).astype(np.float64)
    if read_noise > 0:
        noisy += rng.normal(0.0, read_noise, noisy.shape)
    return (noisy + offset).astype(np.float32)


def channel_images(images, channels=CHANNELS):
    """Split restorations of a multi-channel network into one list per channel.

    Parameters
    ----------
    images : sequence of array_like
        One image per cell: ``(y, x, k)`` arrays (a ``k``-channel network's
        output, channel last), or 2-D images (e.g. the superposed input),
        which then stand for every channel.
    channels : sequence of str
        Channel names, in the network's output order.

    Returns
    -------
    dict of str to list of ndarray
        Channel name -> one 2-D image per cell.

    Raises
    ------
    ValueError
        If an image is neither 2-D nor has one channel per name on its last axis.

    Examples
    --------
    >>> out = [np.zeros((4, 4, 2)), np.ones((4, 4, 2))]
    >>> split = channel_images(out)
    >>> list(split), len(split["membrane"]), split["membrane"][1].shape
    (['nucleus', 'membrane'], 2, (4, 4))
    >>> channel_images([np.zeros((4, 4))])["nucleus"][0].shape  # a 2-D image stands for every channel
    (4, 4)
    """
    channels = list(channels)
    out = {c: [] for c in channels}
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim == 2:
            for c in channels:
                out[c].append(image)
        elif image.ndim == 3 and image.shape[-1] == len(channels):
            for k, c in enumerate(channels):
                out[c].append(image[..., k])
        else:
            raise ValueError(
                f"image {i}: shape {image.shape} is neither 2-D nor (y, x, {len(channels)}) for the channels {channels}"
            )
    return out


def score_channels(
    separated, references, *, ground_truths=None, cell_masks=None, inputs=None, names=None, channels=CHANNELS
):
    """The paper's metrics per channel: :func:`~l2l_helpers.scoring.metrics.score_restorations` for each channel.

    Parameters
    ----------
    separated : dict of str to sequence of array_like
        Method name (e.g. ``"superposed"``, ``"L1"``) -> one image per cell,
        ``(y, x, k)`` or 2-D (see :func:`channel_images`).
    references : dict of str to sequence of 2-D array_like
        Channel name -> one reference per cell: the separate acquisitions
        (the paper's evaluation) or the ground truths.
    ground_truths, cell_masks, inputs : optional
        Passed on to :func:`~l2l_helpers.scoring.metrics.score_restorations`
        (``ground_truths`` as a dict channel -> images; ``cell_masks`` and
        ``inputs`` the same for every channel).
    names : sequence of str, optional
        One name per cell.
    channels : sequence of str
        Channel names, in the network's output order.

    Returns
    -------
    dict
        Channel name -> the result of ``score_restorations`` for that
        channel (``{method: {"mean": {...}, "images": [...]}}``).

    Raises
    ------
    ValueError
        If a channel has no references, or the images do not match (see
        :func:`channel_images` and ``score_restorations``).

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_dataset
    >>> d = simulate_dataset("nucleus_membrane", n=2, size=64, seed=0)
    >>> acquired = [np.stack([n, m], axis=-1) for n, m in zip(d["nucleus"], d["membrane"])]
    >>> scores = score_channels({"superposed": d["superposed"], "acquired": acquired},
    ...                         {"nucleus": d["ground_truth_nucleus"], "membrane": d["ground_truth_membrane"]})
    >>> all(scores[c]["acquired"]["mean"]["ssim"] > scores[c]["superposed"]["mean"]["ssim"] for c in CHANNELS)
    True
    """
    channels = list(channels)
    missing = [c for c in channels if c not in references]
    if missing:
        raise ValueError(f"no references for the channel(s) {missing}; references given for {list(references)}")
    split = {method: channel_images(images, channels) for method, images in separated.items()}
    out = {}
    for c in channels:
        truths = None if ground_truths is None else ground_truths[c]
        out[c] = score_restorations(
            {method: split[method][c] for method in split},
            references[c],
            ground_truths=truths,
            cell_masks=cell_masks,
            inputs=inputs,
            names=names,
        )
    return out


def format_channel_table(scores, metrics=METRICS, digits=3, header="method"):
    """The per-channel scores as text, one block per channel (the paper's Table 1 layout).

    Parameters
    ----------
    scores : dict
        The result of :func:`score_channels`.
    metrics : sequence of str
        Columns (default the paper's: PSNR, NRMSE, SSIM, 3S-SSIM, 5S-SSIM).
    digits : int
        Decimals.
    header : str
        Title of the first column.

    Returns
    -------
    str
        For each channel, a line with its name and a table (rows: methods).

    Examples
    --------
    >>> scores = {"nucleus": {"L1": {"mean": {"psnr": 30.0, "ssim": 0.9}, "images": []}}}
    >>> print(format_channel_table(scores, metrics=("psnr", "ssim"), digits=1, header="loss"))
    nucleus
    loss  PSNR  SSIM
    L1    30.0   0.9
    """
    blocks = []
    for channel, table in scores.items():
        blocks.append(f"{channel}\n" + format_table(table, metrics=list(metrics), digits=digits, header=header))
    return "\n\n".join(blocks)


def separation_scores(separated, superposed, acquisitions, ground_truths, cell_masks=None, channels=CHANNELS):
    """Leakage per channel and the membrane signal recovered over the nucleus, for several methods.

    Parameters
    ----------
    separated : dict of str to sequence of array_like
        Method -> one ``(y, x, 2)`` image per cell (or 2-D, see
        :func:`channel_images`), channels in the order of ``channels``
        (nucleus first, membrane second).
    superposed : sequence of 2-D array_like
        The superposed inputs.
    acquisitions : dict of str to sequence of 2-D array_like
        Channel -> the separate acquisitions (references of
        :func:`signal_recovered`).
    ground_truths : dict of str to sequence of 2-D array_like
        Channel -> ground truths (or clean single labels), for
        :func:`leakage`, :func:`nuclear_area` and :func:`background_area`.
    cell_masks : sequence of 2-D array_like of bool, optional
        Cell masks: the smoothed mask joins the leakage fit as the labels'
        diffuse cytosolic part, and the background lies outside the cells.
    channels : sequence of str
        The two channel names: the nucleus first, the other label second.

    Returns
    -------
    dict
        Method -> ``{"mean": {"leakage_<channel>": float, ...,
        "<second>_over_nucleus": float}, "images": [{...}, ...]}``, where
        ``leakage_nucleus`` is the share of the second label left in the
        nucleus channel (:func:`leakage`) and ``membrane_over_nucleus`` the
        fraction of the separate acquisition's signal over the nucleus that
        the second channel keeps (:func:`signal_recovered`).

    Examples
    --------
    >>> from l2l_helpers.data.simulate import simulate_dataset
    >>> d = simulate_dataset("nucleus_membrane", n=1, size=96, seed=0)
    >>> acq = {"nucleus": d["nucleus"], "membrane": d["membrane"]}
    >>> truth = {"nucleus": d["ground_truth_nucleus"], "membrane": d["ground_truth_membrane"]}
    >>> both = [np.stack([n, m], axis=-1) for n, m in zip(d["nucleus"], d["membrane"])]
    >>> s = separation_scores({"acquired": both}, d["superposed"], acq, truth, d["cell_mask"])["acquired"]["mean"]
    >>> abs(s["leakage_nucleus"]) < 0.1, abs(s["leakage_membrane"]) < 0.1, round(s["membrane_over_nucleus"], 3)
    (True, True, 1.0)
    """
    from scipy import ndimage as ndi

    first, second = list(channels)
    n = len(list(superposed))
    masks = [None] * n if cell_masks is None else list(cell_masks)
    out = {}
    for method, images in separated.items():
        split = channel_images(images, channels)
        rows = []
        for i in range(n):
            truths = {c: np.asarray(ground_truths[c][i], dtype=np.float64) for c in channels}
            extra = None if masks[i] is None else ndi.gaussian_filter(np.asarray(masks[i], dtype=np.float64), 1.5)
            nucleus = nuclear_area(truths[first])
            empty = background_area([truths[first], truths[second]], masks[i])
            row = {
                f"leakage_{first}": leakage(split[first][i], truths[first], truths[second], superposed[i], extra=extra),
                f"leakage_{second}": leakage(
                    split[second][i], truths[second], truths[first], superposed[i], extra=extra
                ),
                f"{second}_over_nucleus": signal_recovered(split[second][i], acquisitions[second][i], nucleus, empty),
            }
            rows.append(row)
        out[method] = {"mean": {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}, "images": rows}
    return out


# --------------------------------------------------------------------------- real cells


def tile_image(image, size):
    """Cut an image into non-overlapping square tiles (row by row; a remainder at the edges is dropped).

    Parameters
    ----------
    image : array_like
        2-D image (or ``(y, x, ...)``).
    size : int
        Tile side in pixels.

    Returns
    -------
    list of ndarray
        The tiles (views of the image).

    Raises
    ------
    ValueError
        If the image is smaller than one tile.

    Examples
    --------
    >>> tiles = tile_image(np.zeros((100, 250)), 64)
    >>> len(tiles), tiles[0].shape
    (3, (64, 64))
    """
    image = np.asarray(image)
    size = int(size)
    ny, nx = image.shape[0] // size, image.shape[1] // size
    if ny == 0 or nx == 0:
        raise ValueError(f"image of shape {image.shape} is smaller than one tile of {size} px")
    return [image[r * size : (r + 1) * size, c * size : (c + 1) * size] for r in range(ny) for c in range(nx)]


def split_real_cell(labels, tile=128, test_fraction=0.25, axis=1, photons=50.0, seed=0):
    """A real separation problem from two separately imaged labels of one large field.

    The two labels are superposed with noise (:func:`superpose`); the
    last ``test_fraction`` of the field along ``axis`` (the bottom rows or
    the right-most columns) is held out whole (the network never sees it),
    the rest is cut into ``tile`` x ``tile`` training images
    (:func:`tile_image`), so that the training/validation split by image
    has images to choose from.

    Parameters
    ----------
    labels : sequence of two 2-D array_like
        The single-label images (same shape): the exact answer.
    tile : int
        Side of the training tiles in pixels.
    test_fraction : float
        Fraction of the field held out for testing (between 0 and 1).
    axis : {0, 1}
        0: hold out the bottom rows; 1: the right-most columns.
    photons, seed
        See :func:`superpose`.

    Returns
    -------
    dict
        ``"train"``: ``{"superposed": [tiles], "labels": [[tiles of label 0], [tiles of label 1]],
        "names": [...]}``; ``"test"``: the same with one held-out image each;
        ``"superposed"``: the whole noisy superposition.

    Raises
    ------
    ValueError
        Not two labels, different shapes, a bad ``test_fraction`` or
        ``axis``, or a training part smaller than one tile.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.random((2, 100, 200))
    >>> cell = split_real_cell([a, b], tile=32, test_fraction=0.25)
    >>> len(cell["train"]["superposed"]), cell["test"]["superposed"][0].shape, len(cell["train"]["labels"])
    (12, (100, 50), 2)
    >>> split_real_cell([a, b], tile=32, test_fraction=0.25, axis=0)["test"]["superposed"][0].shape
    (25, 200)
    """
    labels = [np.asarray(x, dtype=np.float32) for x in labels]
    if len(labels) != 2:
        raise ValueError(f"give two labels, got {len(labels)}")
    if labels[0].shape != labels[1].shape:
        raise ValueError(f"the labels differ in shape: {labels[0].shape} and {labels[1].shape}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie between 0 and 1, got {test_fraction!r}")
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (rows) or 1 (columns), got {axis!r}")
    superposed = superpose(labels, photons=photons, seed=seed)
    length = labels[0].shape[axis]
    cut = length - max(1, int(round(length * test_fraction)))
    keep, held = slice(None, cut), slice(cut, None)

    def part(image, rows_or_cols):
        return image[rows_or_cols] if axis == 0 else image[:, rows_or_cols]

    train = [tile_image(part(im, keep), tile) for im in (superposed, *labels)]
    names = [f"tile_{k:03d}.tif" for k in range(len(train[0]))]
    return {
        "train": {"superposed": train[0], "labels": train[1:], "names": names},
        "test": {
            "superposed": [part(superposed, held)],
            "labels": [[part(im, held)] for im in labels],
            "names": ["held_out.tif"],
        },
        "superposed": superposed,
    }


def fetch_bpae(labels=("nuclei", "actin"), timeout=10.0, progressbar=False):
    """Download (or find in the cache) and read labels of the real BPAE cell.

    The three images (``nuclei``, ``actin``, ``mito``) are one bovine
    pulmonary artery endothelial cell imaged in three labels: the ImageJ
    sample "FluorescentCells", as redistributed (BSD-3 / CC-BY) by
    haesleinhuepf/BioImageAnalysisNotebooks. They are registered with their
    sha256 in ``l2l_helpers/data_registry.txt`` and fetched with
    :func:`l2l_helpers.data.datasets.fetch` (cache ``L2L_DATA_DIR``, mirror
    ``L2L_DATA_BASE_URL``).

    Parameters
    ----------
    labels : sequence of str
        Keys of :data:`BPAE_FILES`.
    timeout : float
        Seconds to wait for the server before giving up.
    progressbar : bool
        Show download progress.

    Returns
    -------
    dict of str to ndarray
        Label -> 2-D float32 image (680 x 1100).

    Raises
    ------
    ValueError
        An unknown label.
    l2l_helpers.data.datasets.DatasetError
        No network (and no cached copy), or a download that fails its hash.

    Examples
    --------
    >>> images = fetch_bpae(("nuclei", "actin"))  # doctest: +SKIP
    >>> images["actin"].shape  # doctest: +SKIP
    (680, 1100)
    """
    import logging

    import pooch

    from l2l_helpers.data import datasets, io

    unknown = [label for label in labels if label not in BPAE_FILES]
    if unknown:
        raise ValueError(f"unknown BPAE label(s) {unknown}; choose from {list(BPAE_FILES)}")
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no "Downloading file ... to <cache path>" notices
    try:
        return {
            label: io.read_image(datasets.fetch(BPAE_FILES[label], progressbar=progressbar, timeout=timeout), ndim=2)
            for label in labels
        }
    finally:
        logger.setLevel(level)
