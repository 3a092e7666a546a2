"""Restore images with a trained network.

An image is normalised with the percentiles used in training (recorded in
the model's ``l2l_training.json``), repeated on every input channel of the
network, and predicted with CSBDeep's ``CARE.predict`` (tiled for large
images). The result is in the *normalised target scale*: 0 and 1 are the
``pmin`` and ``pmax`` percentiles of a training target.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .io import check_image, list_images, prepare_output_dir, read_image, write_image
from .prepare import DEFAULT_PERCENTILES, normalize

__all__ = ["auto_tiles", "restore_image", "restore_images", "restore_folder", "output_names",
           "score_restorations"]

#: Images with more pixels than this are predicted in tiles by default.
MAX_TILE_PIXELS = 1024 * 1024


def auto_tiles(shape, max_pixels=MAX_TILE_PIXELS):
    """Number of tiles per axis so that each tile has at most ``max_pixels``.

    Parameters
    ----------
    shape : tuple of int
        Image height and width.
    max_pixels : int
        Largest number of pixels per tile.

    Returns
    -------
    tuple of int
        Tiles along y and x (``(1, 1)`` for small images).

    Examples
    --------
    >>> auto_tiles((512, 512))
    (1, 1)
    >>> auto_tiles((4096, 2048))
    (4, 2)
    """
    ny, nx = 1, 1
    h, w = int(shape[0]), int(shape[1])
    while (h / ny) * (w / nx) > max_pixels:
        if h / ny >= w / nx:
            ny *= 2
        else:
            nx *= 2
    return ny, nx


def _model_of(model):
    if isinstance(model, (str, Path)):
        from .train import load_model

        return load_model(model)
    return model


def restore_image(model, image, n_tiles=None, name="image"):
    """Restore one image with a trained network.

    Parameters
    ----------
    model : csbdeep.models.CARE or str or Path
        A model from :func:`l2l_helpers.train.load_model` /
        :func:`~l2l_helpers.train.train_model`, or its folder.
    image : array_like
        A 2-D image (same kind as the training inputs).
    n_tiles : tuple of int, optional
        Tiles along y and x for CSBDeep's tiled prediction; default from
        :func:`auto_tiles` (one tile for images up to 1024 x 1024).
    name : str
        Name used in error messages.

    Returns
    -------
    ndarray of float32
        The restoration: shaped like ``image`` for a one-channel network,
        ``(y, x, k)`` for a network with ``k`` target channels.

    Raises
    ------
    ImageError
        If the image is not 2-D, constant or not finite.

    Examples
    --------
    >>> model = load_model("models/actin_l2l")  # doctest: +SKIP
    >>> restored = restore_image(model, image)  # doctest: +SKIP
    """
    from csbdeep.data import NoNormalizer, PadAndCropResizer

    model = _model_of(model)
    img = check_image(image, name=name, ndim=2)
    info = getattr(model, "l2l_info", {}) or {}
    pmin, pmax = info.get("percentiles", DEFAULT_PERCENTILES)
    k = int(model.config.n_channel_in)
    x = np.repeat(normalize(img, pmin, pmax)[..., np.newaxis], k, axis=-1)
    tiles = tuple(n_tiles) if n_tiles is not None else auto_tiles(img.shape)
    if len(tiles) != 2:
        raise ValueError(f"n_tiles must give tiles along y and x, got {n_tiles}")
    import contextlib
    import io as _io

    with contextlib.redirect_stderr(_io.StringIO()):  # CSBDeep's own tile bar
        out = model.predict(x, "YXC", normalizer=NoNormalizer(), resizer=PadAndCropResizer(),
                            n_tiles=tiles + (1,))
    out = np.asarray(out, dtype=np.float32)
    if out.ndim == 3 and out.shape[-1] == 1:
        out = out[..., 0]
    return out


def restore_images(model, images, n_tiles=None, progress=True):
    """Restore several images with one network.

    Parameters
    ----------
    model : csbdeep.models.CARE or str or Path
        Model or model folder.
    images : sequence of 2-D ndarray
        The images.
    n_tiles : tuple of int, optional
        See :func:`restore_image`.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of ndarray of float32
        One restoration per image (see :func:`restore_image`).

    Examples
    --------
    >>> restored = restore_images("models/actin_l2l", [img1, img2])  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    model = _model_of(model)
    images = list(images)
    return [restore_image(model, img, n_tiles=n_tiles, name=f"image {i}")
            for i, img in enumerate(tqdm(images, desc="restoring", disable=not progress, leave=False))]


def output_names(model):
    """Sub-folder names of a multi-channel model's outputs.

    Parameters
    ----------
    model : csbdeep.models.CARE
        A loaded model.

    Returns
    -------
    list of str
        One name per target channel (the target folders used in training);
        an empty list for a one-channel network (outputs go to the output
        folder itself).

    Examples
    --------
    >>> output_names(load_model("models/two_targets"))  # doctest: +SKIP
    ['tubulin_sted', 'actin_sted']
    """
    k = int(model.config.n_channel_out)
    if k == 1:
        return []
    names = list((getattr(model, "l2l_info", {}) or {}).get("target_names") or [])
    if len(names) != k:
        names = [f"target_{i}" for i in range(k)]
    return names


def restore_folder(model_dir, in_dir, out_dir, overwrite=False, n_tiles=None, progress=True):
    """Restore every TIFF image of a folder; same file names in the output.

    Parameters
    ----------
    model_dir : str or Path
        Model folder (``l2l train`` / :func:`l2l_helpers.train.train_model`).
    in_dir : str or Path
        Folder of input images (2-D TIFF). Never written to.
    out_dir : str or Path
        Output folder: one file per input, same names; a multi-channel
        network writes one sub-folder per target, named after the target
        folders used in training.
    overwrite : bool
        Allow writing into a non-empty output folder, replacing files.
    n_tiles : tuple of int, optional
        See :func:`restore_image`.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    FileNotFoundError
        Missing model folder or not a model.
    ImageError
        Missing or empty input folder, unreadable image or one that is not
        2-D (the message names the file).
    FileExistsError
        Non-empty output folder without ``overwrite``.
    ValueError
        If the output folder is (inside) the input folder.

    Examples
    --------
    >>> restore_folder("models/actin_l2l", "data/actin/input", "results/actin_l2l")  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from .train import load_model

    files = list_images(in_dir)
    for path in files:  # check every image before loading TensorFlow or writing anything
        read_image(path, ndim=2)
    model = load_model(model_dir)
    out = prepare_output_dir(out_dir, overwrite=overwrite, inputs=[in_dir])
    subs = output_names(model)
    written = []
    for path in tqdm(files, desc="restoring", unit="image", disable=not progress):
        img = read_image(path, ndim=2)
        res = restore_image(model, img, n_tiles=n_tiles, name=str(path))
        if subs:
            for c, sub in enumerate(subs):
                written.append(write_image(out / sub / path.name, res[..., c], overwrite=overwrite))
        else:
            written.append(write_image(out / path.name, res, overwrite=overwrite))
    return written


def score_restorations(restorations, ground_truths, cell_masks=None, per_image=False):
    """Score several methods against the ground truth, averaged over images.

    For every method: the paper's metrics against the ground truth
    (:func:`l2l_helpers.metrics.evaluate_pair`: ``psnr``, ``nrmse``,
    ``ssim``, ``ms3``, ``ms5``) and, with cell masks, the cytosolic
    background left relative to the structure
    (:func:`l2l_helpers.background.cytosolic_background`, key
    ``background``).

    Parameters
    ----------
    restorations : dict of str to sequence of 2-D ndarray
        Method name -> one image per cell (e.g. ``"input"``, ``"N2N"``,
        ``"L2L"``, ``"target"``).
    ground_truths : sequence of 2-D ndarray
        Ground truth per cell.
    cell_masks : sequence of 2-D ndarray of bool, optional
        Cell mask per cell (for ``background``).
    per_image : bool
        Also return the values of every image.

    Returns
    -------
    dict
        Method -> {metric: mean over images}; with ``per_image`` a second
        dict method -> {metric: list of values}.

    Raises
    ------
    ValueError
        If a method has not one image per ground truth.

    Examples
    --------
    >>> scores = score_restorations({"input": inputs, "L2L": restored}, truths, masks)  # doctest: +SKIP
    >>> scores["L2L"]["psnr"] > scores["input"]["psnr"]  # doctest: +SKIP
    True
    """
    from .background import cytosolic_background
    from .metrics import evaluate_pair

    truths = list(ground_truths)
    masks = list(cell_masks) if cell_masks is not None else None
    means, lists = {}, {}
    for name, images in restorations.items():
        images = list(images)
        if len(images) != len(truths):
            raise ValueError(f"{name}: {len(images)} images for {len(truths)} ground truths")
        rows = []
        for i, (img, gt) in enumerate(zip(images, truths)):
            row = dict(evaluate_pair(img, gt))
            if masks is not None:
                row["background"] = cytosolic_background(img, gt, masks[i])["ratio"]
            rows.append(row)
        lists[name] = {k: [r[k] for r in rows] for k in rows[0]}
        means[name] = {k: float(np.mean(v)) for k, v in lists[name].items()}
    return (means, lists) if per_image else means

