"""Trained CARE networks (CSBDeep) as restorers: :class:`CARERestorer`, predicted in tiles for large images.

:func:`auto_tiles` chooses the number of tiles CSBDeep's ``CARE.predict``
splits an image into (``n_tiles``); TensorFlow is imported only when a
network is loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.restoring.restorers.base import Restorer, register_restorer

__all__ = ["MAX_TILE_PIXELS", "auto_tiles", "CARERestorer"]

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


@register_restorer
class CARERestorer(Restorer):
    """A trained CARE network (CSBDeep) as a restorer.

    An image is normalised with the percentiles used in training (the
    model's ``l2l_training.json``), repeated on every input channel of the
    network and predicted with ``CARE.predict``, in tiles for large images.
    The result is in the *normalised target scale*: 0 and 1 are the
    ``pmin`` and ``pmax`` percentiles of a training target.

    Parameters
    ----------
    model : csbdeep.models.CARE
        A loaded network (:func:`l2l_helpers.training.train.load_model`,
        ``train_model(...).model``); :meth:`load` takes a folder.
    n_tiles : tuple of int, optional
        Tiles along y and x (default: :func:`auto_tiles`).
    name : str, optional
        Display name (default: the model folder's name).

    Attributes
    ----------
    model : csbdeep.models.CARE
        The network.
    params : dict
        Its training record (loss, profile, seed, percentiles, target
        names, ...), plus ``n_tiles`` if given.

    Examples
    --------
    >>> restorer = CARERestorer.load("models/actin_l2l")  # doctest: +SKIP
    >>> restored = restorer.restore(image)  # doctest: +SKIP
    """

    kind = "care"

    def __init__(self, model, n_tiles=None, name=None):
        if n_tiles is not None and len(tuple(n_tiles)) != 2:
            raise ValueError(f"n_tiles must give tiles along y and x, got {n_tiles}")
        self.model = model
        self.n_tiles = tuple(int(t) for t in n_tiles) if n_tiles is not None else None
        info = dict(getattr(model, "l2l_info", {}) or {})
        if name is None:
            name = getattr(model, "name", None) or self.kind
        super().__init__(name=name, **info)

    @property
    def model_dir(self):
        """The model's folder, or None."""
        logdir = getattr(self.model, "logdir", None)
        return Path(logdir) if logdir is not None else None

    @property
    def output_names(self):
        """One name per target channel (the target folders used in training); empty for one channel."""
        k = int(self.model.config.n_channel_out)
        if k == 1:
            return []
        names = list(self.params.get("target_names") or [])
        return names if len(names) == k else [f"target_{i}" for i in range(k)]

    @classmethod
    def load(cls, folder, weights="best", n_tiles=None, name=None):
        """Load the network of a model folder.

        Parameters
        ----------
        folder : str or Path
            Model folder (``l2l train`` / :func:`l2l_helpers.training.train.train_model`).
        weights : {"best", "last"}
            Which weights.
        n_tiles : tuple of int, optional
            See the class.
        name : str, optional
            Display name (default: the folder's name).

        Returns
        -------
        CARERestorer

        Raises
        ------
        ModelError
            If the folder is not a complete model folder.

        Examples
        --------
        >>> r = CARERestorer.load("models/actin_l2l")  # doctest: +SKIP
        """
        from l2l_helpers.training.train import load_model

        try:
            model = load_model(folder, weights=weights)
        except FileNotFoundError as exc:
            raise ModelError(str(exc)) from exc
        return cls(model, n_tiles=n_tiles, name=name)

    @classmethod
    def from_folder(cls, folder, record):  # noqa: D102 - see Restorer.from_folder
        tiles = (record.get("params") or {}).get("n_tiles")
        return cls.load(folder, n_tiles=tiles, name=record.get("name"))

    def to_dict(self):  # noqa: D102 - see Restorer.to_dict
        data = super().to_dict()
        if self.n_tiles is not None:
            data["params"]["n_tiles"] = list(self.n_tiles)
        return data

    def save(self, folder):
        """Write ``l2l_restorer.json``; into another folder than the model's, copy the network too.

        Parameters
        ----------
        folder : str or Path
            The folder.

        Returns
        -------
        Path
            The JSON file written.

        Raises
        ------
        ModelError
            If the network has no folder to copy from.

        Examples
        --------
        >>> CARERestorer.load("models/actin_l2l").save("models/actin_l2l")  # doctest: +SKIP
        """
        import shutil

        folder = Path(folder)
        src = self.model_dir
        if src is None or not src.is_dir():
            raise ModelError(f"{folder}: the network has no model folder to copy from")
        if folder.resolve() != src.resolve():
            shutil.copytree(src, folder, dirs_exist_ok=True)
        return super().save(folder)

    def _restore(self, image):
        import contextlib
        import io as _io

        from csbdeep.data import NoNormalizer, PadAndCropResizer

        from l2l_helpers.course._quiet_tf import tf_warnings_hidden
        from l2l_helpers.training.prepare import DEFAULT_PERCENTILES, normalize_input

        pmin, pmax = self.params.get("percentiles", DEFAULT_PERCENTILES)
        method = self.params.get("input_normalization", "percentile")  # not recorded by earlier versions
        k = int(self.model.config.n_channel_in)
        x = np.repeat(normalize_input(image, method, (pmin, pmax))[..., np.newaxis], k, axis=-1)
        tiles = self.n_tiles if self.n_tiles is not None else auto_tiles(image.shape)
        # CSBDeep's own tile bar; Keras' retracing warnings when several networks predict in turn
        with contextlib.redirect_stderr(_io.StringIO()), tf_warnings_hidden():
            out = self.model.predict(
                x, "YXC", normalizer=NoNormalizer(), resizer=PadAndCropResizer(), n_tiles=tuple(tiles) + (1,)
            )
        out = np.asarray(out, dtype=np.float32)
        if out.ndim == 3 and out.shape[-1] == 1:
            out = out[..., 0]
        return out
