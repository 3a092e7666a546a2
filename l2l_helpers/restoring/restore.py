"""Restore images and folders with any restorer (a trained network or a classical filter).

The work is done by :mod:`l2l_helpers.restoring.restorers`; this module keeps the
functions of the first lessons (:func:`restore_image`,
:func:`restore_images`: a CARE model) and restores folders with any
restorer (:func:`restore_folder`, ``l2l restore``). A CARE restoration is
in the *normalised target scale*: 0 and 1 are the ``pmin`` and ``pmax``
percentiles of a training target.
"""

from __future__ import annotations

from pathlib import Path

from l2l_helpers.data.io import check_output, list_images, open_output, read_image
from l2l_helpers.restoring.restorers import (
    MAX_TILE_PIXELS,
    CARERestorer,
    Restorer,
    auto_tiles,
    load_restorer,
    read_restorer_record,
)

__all__ = [
    "auto_tiles",
    "restore_image",
    "restore_images",
    "restore_folder",
    "output_names",
    "MAX_TILE_PIXELS",
]


def _as_restorer(model, n_tiles=None):
    """A restorer from a restorer, a folder or a loaded CARE model; ``n_tiles`` for CARE networks."""
    if n_tiles is not None and len(tuple(n_tiles)) != 2:
        raise ValueError(f"n_tiles must give tiles along y and x, got {n_tiles}")
    if isinstance(model, (str, Path)):
        model = load_restorer(model)
    if not isinstance(model, Restorer):
        return CARERestorer(model, n_tiles=n_tiles)
    if n_tiles is not None and isinstance(model, CARERestorer):
        return CARERestorer(model.model, n_tiles=n_tiles, name=model.name)
    return model


def restore_image(model, image, n_tiles=None, name="image"):
    """Restore one image with a trained network.

    Parameters
    ----------
    model : csbdeep.models.CARE or str or Path or Restorer
        A model from :func:`l2l_helpers.training.train.load_model` /
        :func:`~l2l_helpers.training.train.train_model`, or its folder, or any
        :class:`~l2l_helpers.restoring.restorers.Restorer`.
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
    return _as_restorer(model, n_tiles).restore(image, name=name)


def restore_images(model, images, n_tiles=None, progress=True):
    """Restore several images with one network.

    Parameters
    ----------
    model : csbdeep.models.CARE or str or Path or Restorer
        Model, model folder or any restorer.
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
    return _as_restorer(model, n_tiles).restore_many(images, progress=progress)


def output_names(model):
    """Sub-folder names of a multi-channel model's outputs.

    Parameters
    ----------
    model : csbdeep.models.CARE or Restorer
        A loaded model, or any restorer.

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
    return list(_as_restorer(model).output_names)


def restore_folder(model_dir, in_dir, out_dir, overwrite=False, n_tiles=None, progress=True):
    """Restore every TIFF image of a folder with any restorer; same file names in the output.

    Parameters
    ----------
    model_dir : str or Path or Restorer
        A restorer folder (:func:`l2l_helpers.restoring.restorers.load_restorer`: a
        CARE model folder from ``l2l train``, or any folder written by
        :meth:`Restorer.save <l2l_helpers.restoring.restorers.Restorer.save>`), or a
        restorer.
    in_dir : str or Path
        Folder of input images (2-D TIFF). Never written to.
    out_dir : str or Path
        Output folder: one file per input, same names; a multi-channel
        network writes one sub-folder per target, named after the target
        folders used in training. The folder's ``l2l_manifest.json``
        records what this run wrote (:func:`l2l_helpers.data.io.open_output`).
    overwrite : bool
        Replace the files of a previous ``restore`` run in ``out_dir``
        (only those; a folder holding other files is refused).
    n_tiles : tuple of int, optional
        Tiles along y and x for a CARE network (default: automatic).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of Path
        The images written.

    Raises
    ------
    ModelError
        Missing folder, or a folder that is not a model folder.
    ImageError
        Missing or empty input folder, unreadable image or one that is not
        2-D (the message names the file).
    FileExistsError
        Non-empty output folder without ``overwrite``, or one holding files
        that a previous ``restore`` run did not write.
    ValueError
        If the output folder is (inside) the input folder.

    Examples
    --------
    >>> restore_folder("models/actin_l2l", "data/actin/input", "results/actin_l2l")  # doctest: +SKIP
    >>> GaussianRestorer(sigma=1.5).save("models/gauss")  # doctest: +SKIP
    >>> restore_folder("models/gauss", "data/actin/input", "results/gauss")  # doctest: +SKIP
    """
    from l2l_helpers.course.progress import progress as tqdm

    if not isinstance(model_dir, Restorer):
        read_restorer_record(model_dir)  # a clear error before TensorFlow is imported
    files = list_images(in_dir)
    for path in files:  # check every image before loading a network or writing anything
        read_image(path, ndim=2)
    check_output(out_dir, "restore", overwrite=overwrite, inputs=[in_dir], owned=(".",))
    restorer = _as_restorer(model_dir, n_tiles)
    subs = restorer.output_names
    written = []
    with open_output(out_dir, "restore", overwrite=overwrite, inputs=[in_dir], owned=(".",)) as out:
        for path in tqdm(files, desc="restoring", unit="image", disable=not progress):
            res = restorer.restore(read_image(path, ndim=2), name=str(path))
            if subs:
                for c, sub in enumerate(subs):
                    written.append(out.write_image(f"{sub}/{path.name}", res[..., c]))
            else:
                written.append(out.write_image(path.name, res))
        out.close(restorer=restorer.to_dict(), input=str(in_dir), n_images=len(files))
    return written
