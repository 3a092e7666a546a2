"""Restorers: one interface for everything that turns an image into a restoration.

A :class:`Restorer` has a ``name``, its ``params`` (what it was trained or
configured with), :meth:`~Restorer.restore` (one 2-D image in, one image
out, float32) and :meth:`~Restorer.restore_many`. CARE networks
(:class:`CARERestorer`), classical filters (:class:`GaussianRestorer`,
:class:`RollingBallRestorer`, :class:`TopHatRestorer`,
:class:`CLAHERestorer`, all scikit-image's own implementations) and, in a
later lesson, CycleGAN generators implement it, so a notebook treats them
alike::

    restorers = {"Gaussian": GaussianRestorer(sigma=1.5), "L2L": load_restorer("models/actin_l2l")}
    restored = {name: r.restore_many(inputs) for name, r in restorers.items()}
    scores = score_restorations(restored, truths)

A restorer is saved as a folder holding ``l2l_restorer.json``
(``{"kind", "name", "params"}``; a CARE folder also holds the network) and
loaded back by :func:`load_restorer`, which also loads CARE model folders
trained before restorers existed (they hold ``l2l_training.json`` only).
New kinds register themselves with :func:`register_restorer`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .io import ModelError, check_image

__all__ = [
    "RESTORER_JSON",
    "MAX_TILE_PIXELS",
    "RESTORERS",
    "Restorer",
    "CARERestorer",
    "GaussianRestorer",
    "RollingBallRestorer",
    "TopHatRestorer",
    "CLAHERestorer",
    "register_restorer",
    "load_restorer",
    "auto_tiles",
]

#: File that names a restorer's kind and parameters in its folder.
RESTORER_JSON = "l2l_restorer.json"

#: Images with more pixels than this are predicted in tiles by default.
MAX_TILE_PIXELS = 1024 * 1024

#: Kind -> Restorer class (see :func:`register_restorer`).
RESTORERS = {}

_TRAINING_JSON = "l2l_training.json"  # as l2l_helpers.train.TRAINING_JSON (not imported: it would load TensorFlow)


def register_restorer(cls):
    """Class decorator: make a Restorer subclass loadable by its ``kind``.

    Parameters
    ----------
    cls : type
        A subclass of :class:`Restorer` with a unique ``kind`` string.

    Returns
    -------
    type
        The class, unchanged.

    Raises
    ------
    ValueError
        If the kind is missing or taken by another class.

    Examples
    --------
    >>> @register_restorer
    ... class Identity(Restorer):
    ...     kind = "identity_example"
    ...     def _restore(self, image):
    ...         return image
    >>> RESTORERS["identity_example"] is Identity
    True
    """
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{cls.__name__}: a restorer needs a 'kind' string")
    if kind in RESTORERS and RESTORERS[kind] is not cls:
        raise ValueError(f"restorer kind {kind!r} is taken by {RESTORERS[kind].__name__}")
    RESTORERS[kind] = cls
    return cls


class Restorer:
    """Base class: something that restores 2-D images.

    Subclasses set ``kind`` (a registry name) and implement
    ``_restore(image)`` (a checked float32 2-D image in, an array out).

    Parameters
    ----------
    name : str, optional
        Display name (default: the kind).
    **params
        What the restorer is configured with (JSON-serialisable); stored in
        ``params`` and in ``l2l_restorer.json`` by :meth:`save`.

    Attributes
    ----------
    kind : str
        Registry name of the class.
    name : str
        Display name.
    params : dict
        Parameters (or, for a network, its training record).

    Examples
    --------
    >>> r = GaussianRestorer(sigma=2.0)
    >>> r.name, r.params
    ('gaussian', {'sigma': 2.0})
    """

    kind = "restorer"

    def __init__(self, name=None, **params):
        self.name = str(name) if name is not None else self.kind
        self.params = dict(params)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args}{', ' if args else ''}name={self.name!r})"

    @property
    def output_names(self):
        """Names of the output channels of a multi-channel restorer; empty for one channel."""
        return []

    def _restore(self, image):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement _restore")

    def restore(self, image, name="image"):
        """Restore one image.

        Parameters
        ----------
        image : array_like
            A 2-D image.
        name : str
            Name used in error messages (e.g. the file).

        Returns
        -------
        ndarray of float32
            The restoration, shaped like the image (``(y, x, k)`` for a
            restorer with ``k`` output channels).

        Raises
        ------
        ImageError
            If the image is not 2-D, constant or not finite.

        Examples
        --------
        >>> img = np.random.default_rng(0).random((32, 32))
        >>> GaussianRestorer(sigma=1.0).restore(img).shape
        (32, 32)
        """
        img = check_image(image, name=name, ndim=2).astype(np.float32, copy=False)
        return np.asarray(self._restore(img), dtype=np.float32)

    def restore_many(self, images, progress=True):
        """Restore several images.

        Parameters
        ----------
        images : sequence of 2-D array_like
            The images.
        progress : bool
            Show a progress bar.

        Returns
        -------
        list of ndarray of float32
            One restoration per image.

        Examples
        --------
        >>> imgs = [np.random.default_rng(s).random((16, 16)) for s in range(2)]
        >>> len(GaussianRestorer().restore_many(imgs, progress=False))
        2
        """
        from .progress import progress as tqdm

        images = list(images)
        return [self.restore(img, name=f"image {i}")
                for i, img in enumerate(tqdm(images, desc=f"restoring ({self.name})", disable=not progress,
                                             leave=False))]

    def to_dict(self):
        """The content of ``l2l_restorer.json``: ``{"kind", "name", "params"}``.

        Returns
        -------
        dict

        Examples
        --------
        >>> GaussianRestorer(sigma=1.5).to_dict()
        {'kind': 'gaussian', 'name': 'gaussian', 'params': {'sigma': 1.5}}
        """
        return {"kind": self.kind, "name": self.name, "params": _jsonable(self.params)}

    def save(self, folder):
        """Write ``l2l_restorer.json`` (kind, name, parameters) into a folder.

        Parameters
        ----------
        folder : str or Path
            The folder (created if needed); :func:`load_restorer` reads it.

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "gauss"
        >>> _ = GaussianRestorer(sigma=1.5).save(folder)
        >>> load_restorer(folder)
        GaussianRestorer(sigma=1.5, name='gaussian')
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / RESTORER_JSON
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_folder(cls, folder, record):
        """Make the restorer of a folder from its ``l2l_restorer.json`` record (used by :func:`load_restorer`).

        Parameters
        ----------
        folder : Path
            The folder.
        record : dict
            Its ``l2l_restorer.json``.

        Returns
        -------
        Restorer

        Examples
        --------
        >>> GaussianRestorer.from_folder(Path("."), {"kind": "gaussian", "params": {"sigma": 2}})
        GaussianRestorer(sigma=2, name='gaussian')
        """
        return cls(name=record.get("name"), **record.get("params", {}))


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


# --- classical filters (scikit-image) ----------------------------------------------------------

@register_restorer
class GaussianRestorer(Restorer):
    """Gaussian smoothing (:func:`skimage.filters.gaussian`).

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels.
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.zeros((9, 9)); img[4, 4] = 1
    >>> out = GaussianRestorer(sigma=1.0).restore(img)
    >>> bool(out[4, 4] < 1 and out.sum() > 0.99)
    True
    """

    kind = "gaussian"

    def __init__(self, sigma=1.0, name=None):
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        super().__init__(name=name, sigma=sigma)

    def _restore(self, image):
        from skimage.filters import gaussian

        return gaussian(image, sigma=self.params["sigma"], preserve_range=True)


@register_restorer
class RollingBallRestorer(Restorer):
    """Background subtraction with a rolling ball (:func:`skimage.restoration.rolling_ball`).

    The image minus the background estimated by a ball of ``radius``.

    Parameters
    ----------
    radius : float
        Ball radius in pixels (larger than the structures to keep).
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.full((32, 32), 5.0); img[16, 16] = 10
    >>> out = RollingBallRestorer(radius=5).restore(img)
    >>> float(out[0, 0]), bool(out[16, 16] > 4)
    (0.0, True)
    """

    kind = "rolling_ball"

    def __init__(self, radius=25, name=None):
        if not radius > 0:
            raise ValueError(f"radius must be positive, got {radius}")
        super().__init__(name=name, radius=radius)

    def _restore(self, image):
        from skimage.restoration import rolling_ball

        return image - rolling_ball(image, radius=self.params["radius"])


@register_restorer
class TopHatRestorer(Restorer):
    """White top-hat with a disk (:func:`skimage.morphology.white_tophat`).

    Keeps bright structures narrower than the disk, removes what is wider.

    Parameters
    ----------
    size : int
        Radius of the disk footprint in pixels.
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.full((32, 32), 5.0); img[16, 16] = 10
    >>> out = TopHatRestorer(size=3).restore(img)
    >>> float(out[0, 0]), float(out[16, 16])
    (0.0, 5.0)
    """

    kind = "tophat"

    def __init__(self, size=5, name=None):
        if int(size) < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        super().__init__(name=name, size=int(size))

    def _restore(self, image):
        from skimage.morphology import disk, white_tophat

        return white_tophat(image, footprint=disk(self.params["size"]))


@register_restorer
class CLAHERestorer(Restorer):
    """Contrast-limited adaptive histogram equalisation (:func:`skimage.exposure.equalize_adapthist`).

    The image is first scaled to [0, 1] (minimum -> 0, maximum -> 1).

    Parameters
    ----------
    kernel_size : int, optional
        Size of the contextual regions in pixels (default: 1/8 of the
        image's height and width).
    clip_limit : float
        Clipping limit in [0, 1] (higher: more contrast).
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((64, 64)) * 100
    >>> out = CLAHERestorer(kernel_size=16).restore(img)
    >>> bool(0 <= out.min() and out.max() <= 1)
    True
    """

    kind = "clahe"

    def __init__(self, kernel_size=None, clip_limit=0.01, name=None):
        super().__init__(name=name, kernel_size=kernel_size, clip_limit=clip_limit)

    def _restore(self, image):
        from skimage.exposure import equalize_adapthist

        lo, hi = float(image.min()), float(image.max())
        scaled = (image - lo) / (hi - lo)
        return equalize_adapthist(scaled, kernel_size=self.params["kernel_size"],
                                  clip_limit=self.params["clip_limit"])


# --- CARE networks --------------------------------------------------------------------------------

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
        A loaded network (:func:`l2l_helpers.train.load_model`,
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
            Model folder (``l2l train`` / :func:`l2l_helpers.train.train_model`).
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
        from .train import load_model

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

        from .prepare import DEFAULT_PERCENTILES, normalize

        pmin, pmax = self.params.get("percentiles", DEFAULT_PERCENTILES)
        k = int(self.model.config.n_channel_in)
        x = np.repeat(normalize(image, pmin, pmax)[..., np.newaxis], k, axis=-1)
        tiles = self.n_tiles if self.n_tiles is not None else auto_tiles(image.shape)
        with contextlib.redirect_stderr(_io.StringIO()):  # CSBDeep's own tile bar
            out = self.model.predict(x, "YXC", normalizer=NoNormalizer(), resizer=PadAndCropResizer(),
                                     n_tiles=tuple(tiles) + (1,))
        out = np.asarray(out, dtype=np.float32)
        if out.ndim == 3 and out.shape[-1] == 1:
            out = out[..., 0]
        return out


# --- loading ------------------------------------------------------------------------------------

_WHAT_A_MODEL_FOLDER_HOLDS = (f"a model folder holds {RESTORER_JSON} (kind and parameters of a restorer, "
                              f"from Restorer.save) or, for a CARE network from l2l train, {_TRAINING_JSON}, "
                              "config.json and weights")


def read_restorer_record(folder):
    """Kind, name and parameters of a restorer folder, without loading anything heavy.

    Parameters
    ----------
    folder : str or Path
        A restorer or CARE model folder.

    Returns
    -------
    dict
        ``{"kind", "name", "params"}``: the folder's ``l2l_restorer.json``,
        or ``{"kind": "care", ...}`` for a CARE model folder without one.

    Raises
    ------
    ModelError
        If the folder does not exist, is not a model folder, its JSON is
        unreadable or names an unknown kind.

    Examples
    --------
    >>> read_restorer_record("models/actin_l2l")["kind"]  # doctest: +SKIP
    'care'
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder does not exist ({_WHAT_A_MODEL_FOLDER_HOLDS})")
    path = folder / RESTORER_JSON
    if path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("kind"), str) \
                or not isinstance(record.get("params", {}), dict):
            raise ModelError(f"{path}: not a restorer record (expected 'kind' and 'params')")
        if record["kind"] not in RESTORERS:
            raise ModelError(f"{path}: unknown restorer kind {record['kind']!r} "
                             f"(known: {', '.join(sorted(RESTORERS))})")
        return {"kind": record["kind"], "name": record.get("name"), "params": record.get("params", {})}
    if (folder / _TRAINING_JSON).is_file():  # CARE model folders trained before restorers existed
        return {"kind": "care", "name": None, "params": {}}
    raise ModelError(f"{folder}: not a model folder (no {RESTORER_JSON} or {_TRAINING_JSON}); "
                     f"{_WHAT_A_MODEL_FOLDER_HOLDS}")


def load_restorer(folder):
    """Load the restorer saved in a folder: a CARE model or a classical filter.

    Parameters
    ----------
    folder : str or Path
        A folder with ``l2l_restorer.json`` (from :meth:`Restorer.save`),
        or a CARE model folder (``l2l_training.json`` and weights, from
        ``l2l train``), with or without ``l2l_restorer.json``.

    Returns
    -------
    Restorer

    Raises
    ------
    ModelError
        If the folder does not exist or is not a model folder (the message
        names the folder and says what a model folder holds).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = TopHatRestorer(size=4, name="top-hat").save(folder)
    >>> load_restorer(folder).name
    'top-hat'
    >>> load_restorer(folder / "missing")
    Traceback (most recent call last):
    ...
    l2l_helpers.io.ModelError: ...missing: model folder does not exist (a model folder holds ...)
    """
    folder = Path(folder)
    record = read_restorer_record(folder)
    cls = RESTORERS[record["kind"]]
    if record["kind"] == "care" and not (folder / RESTORER_JSON).is_file():
        return CARERestorer.load(folder)
    try:
        return cls.from_folder(folder, record)
    except TypeError as exc:  # parameters that the class does not take
        raise ModelError(f"{folder / RESTORER_JSON}: bad parameters for {record['kind']!r}: {exc}") from exc


__all__ += ["read_restorer_record"]
