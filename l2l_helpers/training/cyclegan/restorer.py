"""A trained CycleGAN generator as a restorer (kind ``"cyclegan"`` of ``load_restorer``).

TensorFlow is imported when a generator is loaded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.restoring.restorers import MAX_TILE_PIXELS, Restorer, auto_tiles, register_restorer
from l2l_helpers.restoring.tiling import predict_tiled
from l2l_helpers.training.cyclegan.data import from_model_range, to_model_range
from l2l_helpers.training.cyclegan.model_folder import WEIGHT_FILES, CycleGANRecord
from l2l_helpers.training.cyclegan.networks import build_generator
from l2l_helpers.training.cyclegan.settings import MIN_SIZE
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES
from l2l_helpers.training.record import TRAINING_JSON

__all__ = ["CycleGANRestorer"]


@register_restorer
class CycleGANRestorer(Restorer):
    """A trained CycleGAN generator as a restorer (kind ``"cyclegan"``).

    An image is prepared as in training (:func:`to_model_range`: the
    recorded Gaussian pre-filter, percentile normalisation, [-1, 1]),
    padded by reflection to a multiple of 4 (at least 16), translated by
    the generator and mapped back to [0, 1] (:func:`from_model_range`), the
    target domain's range: 0 and 1 are the normalisation percentiles of a
    target image. Images of more than
    :data:`~l2l_helpers.restoring.restorers.MAX_TILE_PIXELS` pixels are translated in
    overlapping tiles (:func:`~l2l_helpers.restoring.restorers.auto_tiles`) that are
    blended with linear ramps over the overlap
    (:func:`~l2l_helpers.restoring.tiling.predict_tiled`).

    Parameters
    ----------
    network : keras.Model
        The generator (:func:`build_generator`).
    info : dict
        Its training record (``l2l_training.json``): percentiles,
        pre-filter, settings, ...
    generator : {"G_AB", "G_BA"}
        Which generator this is: ``"G_AB"`` (input -> target, the default)
        or ``"G_BA"`` (target -> input).
    n_tiles : tuple of int, optional
        Tiles along y and x (default: :func:`auto_tiles`).
    name : str, optional
        Display name (default: ``"cyclegan"``).

    Attributes
    ----------
    network : keras.Model
        The generator.
    params : dict
        The training record, plus ``generator`` (and ``n_tiles`` if given).

    Examples
    --------
    >>> restorer = CycleGANRestorer.load("models/actin_cyclegan")  # doctest: +SKIP
    >>> restorer.restore(image).shape  # doctest: +SKIP
    (100, 130)
    >>> g = build_generator(n_blocks=1, n_first=4)
    >>> CycleGANRestorer(g, {"percentiles": [2, 99.8]}).restore(np.random.default_rng(0).random((20, 30))).shape
    (20, 30)
    """

    kind = "cyclegan"

    def __init__(self, network, info, generator="G_AB", n_tiles=None, name=None):
        if generator not in ("G_AB", "G_BA"):
            raise ValueError(f"generator must be 'G_AB' or 'G_BA', got {generator!r}")
        if n_tiles is not None and len(tuple(n_tiles)) != 2:
            raise ValueError(f"n_tiles must give tiles along y and x, got {n_tiles}")
        self.network = network
        self.n_tiles = tuple(int(t) for t in n_tiles) if n_tiles is not None else None
        params = {**dict(info or {}), "generator": generator}
        if self.n_tiles is not None:
            params["n_tiles"] = list(self.n_tiles)
        super().__init__(name=name, **params)

    @classmethod
    def load(cls, folder, generator="G_AB", n_tiles=None, name=None):
        """Load a generator of a CycleGAN model folder.

        Parameters
        ----------
        folder : str or Path
            Model folder from :func:`train_cyclegan` (or ``l2l train
            --method cyclegan``).
        generator : {"G_AB", "G_BA"}
            Which generator (default: input -> target).
        n_tiles : tuple of int, optional
            See the class.
        name : str, optional
            Display name (default: the folder's name).

        Returns
        -------
        CycleGANRestorer

        Raises
        ------
        ModelError
            If the folder is not a CycleGAN model folder, or has no (usable)
            weights.

        Examples
        --------
        >>> CycleGANRestorer.load("models/actin_cyclegan", generator="G_BA")  # doctest: +SKIP
        """
        folder = Path(folder)
        record = CycleGANRecord(folder)
        try:
            info = record.read_method_info()
        except FileNotFoundError as exc:
            raise ModelError(str(exc)) from exc
        if generator not in ("G_AB", "G_BA"):
            raise ValueError(f"generator must be 'G_AB' or 'G_BA', got {generator!r}")
        path = folder / WEIGHT_FILES[generator]
        if not path.is_file():
            raise ModelError(
                f"{folder}: no {WEIGHT_FILES[generator]}; was the training interrupted before its first epoch?"
            )
        s = info.get("settings", {})
        try:
            network = build_generator(int(s["gen_n_blocks"]), int(s["gen_n_first"]), init_gain=None, name=generator)
            network.load_weights(str(path))
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{folder / TRAINING_JSON}: no generator settings ({exc})") from exc
        except Exception as exc:  # noqa: BLE001 - truncated file, other network
            raise ModelError(f"{path}: cannot load the weights ({type(exc).__name__}: {exc})") from exc
        return cls(network, info, generator=generator, n_tiles=n_tiles, name=name if name is not None else folder.name)

    @classmethod
    def from_folder(cls, folder, record):  # noqa: D102 - see Restorer.from_folder
        params = record.get("params") or {}
        return cls.load(
            folder, generator=params.get("generator", "G_AB"), n_tiles=params.get("n_tiles"), name=record.get("name")
        )

    def save(self, folder):
        """Write ``l2l_restorer.json``; into another folder than the model's, also the record and weights.

        Parameters
        ----------
        folder : str or Path
            The folder. A folder other than the one the generator was loaded
            from gets ``l2l_training.json`` and the generator's weights.

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> CycleGANRestorer.load("models/actin_cyclegan").save("models/copy")  # doctest: +SKIP
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        record = CycleGANRecord(folder)
        if not record.path("info").is_file():
            info = {k: v for k, v in self.params.items() if k not in ("generator", "n_tiles")}
            record.write_info(info)
        weights = folder / WEIGHT_FILES[self.params["generator"]]
        if not weights.is_file():
            self.network.save_weights(str(weights))
        return super().save(folder)

    def _predict(self, x):
        """Generator on one [-1, 1] image of any size: reflect-pad to a multiple of 4, translate, crop."""
        h, w = x.shape
        th, tw = (max(MIN_SIZE, -(-n // 4) * 4) for n in (h, w))
        if (th, tw) != (h, w):
            x = np.pad(x, ((0, th - h), (0, tw - w)), mode="reflect" if min(h, w) > 1 else "edge")
        out = self.network(x[np.newaxis, ..., np.newaxis], training=False)
        return np.asarray(out)[0, :h, :w, 0]

    def _restore(self, image):
        percentiles = tuple(self.params.get("percentiles", DEFAULT_PERCENTILES))
        x = to_model_range(image, percentiles, self.params.get("prefilter_sigma"))
        ny, nx = self.n_tiles if self.n_tiles is not None else auto_tiles(x.shape, MAX_TILE_PIXELS)
        if (ny, nx) == (1, 1):
            return from_model_range(self._predict(x))
        return from_model_range(predict_tiled(self._predict, x, (ny, nx)))
