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

from l2l_helpers.data.io import ModelError, check_image

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
    "CLASSICAL_FILTERS",
    "CLASSICAL_PRESETS",
    "classical_restorer",
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

_TRAINING_JSON = (
    "l2l_training.json"  # as l2l_helpers.training.train.TRAINING_JSON (not imported: it would load TensorFlow)
)

# Kinds registered by modules that are not imported here (kind -> module): read_restorer_record imports the
# module when it meets such a kind, so that load_restorer / l2l restore find it. The module must not import
# TensorFlow when imported (l2l_helpers.training.cyclegan imports it only when a network is built).
_LAZY_KINDS = {"cyclegan": "l2l_helpers.training.cyclegan"}


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
        from l2l_helpers.course.progress import progress as tqdm

        images = list(images)
        return [
            self.restore(img, name=f"image {i}")
            for i, img in enumerate(tqdm(images, desc=f"restoring ({self.name})", disable=not progress, leave=False))
        ]

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
    grid : int, optional
        Number of contextual regions along each axis (the "tile grid" of
        ImageJ / OpenCV, the paper's parameter): the regions are
        ``ceil(height / grid)`` by ``ceil(width / grid)`` pixels. Replaces
        ``kernel_size``; give one of the two.
    name : str, optional
        Display name.

    Raises
    ------
    ValueError
        If both ``kernel_size`` and ``grid`` are given, or ``grid`` is below 1.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((64, 64)) * 100
    >>> out = CLAHERestorer(kernel_size=16).restore(img)
    >>> bool(0 <= out.min() and out.max() <= 1)
    True
    >>> CLAHERestorer(grid=7).params
    {'kernel_size': None, 'clip_limit': 0.01, 'grid': 7}
    """

    kind = "clahe"

    def __init__(self, kernel_size=None, clip_limit=0.01, grid=None, name=None):
        params = {"kernel_size": kernel_size, "clip_limit": clip_limit}
        if grid is not None:
            if kernel_size is not None:
                raise ValueError("give either kernel_size (pixels) or grid (regions per axis), not both")
            if int(grid) < 1:
                raise ValueError(f"grid must be at least 1, got {grid}")
            params["grid"] = int(grid)
        super().__init__(name=name, **params)

    def _restore(self, image):
        from skimage.exposure import equalize_adapthist

        lo, hi = float(image.min()), float(image.max())
        scaled = (image - lo) / (hi - lo)
        kernel_size = self.params["kernel_size"]
        grid = self.params.get("grid")
        if grid is not None:
            kernel_size = tuple(int(np.ceil(n / grid)) for n in image.shape)
        return equalize_adapthist(scaled, kernel_size=kernel_size, clip_limit=self.params["clip_limit"])


#: Filter name (as in ``l2l classical``) -> classical restorer class.
CLASSICAL_FILTERS = {
    "gaussian": GaussianRestorer,
    "rolling_ball": RollingBallRestorer,
    "tophat": TopHatRestorer,
    "clahe": CLAHERestorer,
}

#: The parameters of the label2label paper's classical baselines (its Fig. S3 and Table S1), per filter and
#: structure: Gaussian sigma, rolling-ball radius, top-hat disk radius (pixels) and CLAHE tile grid
#: (regions per axis). Keys are the paired structures of :data:`l2l_helpers.data.simulate.PAIRED_STRUCTURES`.
CLASSICAL_PRESETS = {
    "gaussian": {"actin": {"sigma": 2.0}, "tubulin": {"sigma": 2.0}, "caveolae": {"sigma": 3.0}, "pxn": {"sigma": 2.0}},
    "rolling_ball": {
        "actin": {"radius": 20},
        "tubulin": {"radius": 10},
        "caveolae": {"radius": 5},
        "pxn": {"radius": 5},
    },
    "tophat": {"actin": {"size": 11}, "tubulin": {"size": 25}, "caveolae": {"size": 13}, "pxn": {"size": 17}},
    "clahe": {"actin": {"grid": 11}, "tubulin": {"grid": 7}, "caveolae": {"grid": 7}, "pxn": {"grid": 7}},
}


def classical_restorer(kind, structure=None, name=None, **params):
    """A classical filter with the paper's parameters for a structure, any of them overridden.

    Parameters
    ----------
    kind : {"gaussian", "rolling_ball", "tophat", "clahe"}
        The filter (:data:`CLASSICAL_FILTERS`).
    structure : str, optional
        A structure of :data:`CLASSICAL_PRESETS` (``"actin"``,
        ``"tubulin"``, ``"caveolae"``, ``"pxn"``): start from the paper's
        parameters for it. Without it, the class's defaults.
    name : str, optional
        Display name (default: the kind).
    **params
        Parameters of the filter's class; they override the preset
        (``None`` values are ignored, so options left unset keep the preset).

    Returns
    -------
    Restorer

    Raises
    ------
    ValueError
        An unknown filter or structure, or a parameter the filter does not
        take (the message lists the ones it takes).

    Examples
    --------
    >>> classical_restorer("tophat", "tubulin")
    TopHatRestorer(size=25, name='tophat')
    >>> classical_restorer("gaussian", "caveolae", sigma=1.5).params
    {'sigma': 1.5}
    >>> classical_restorer("clahe", "actin").params["grid"]
    11
    """
    import inspect

    if kind not in CLASSICAL_FILTERS:
        raise ValueError(f"unknown classical filter {kind!r}; choose one of {', '.join(CLASSICAL_FILTERS)}")
    cls = CLASSICAL_FILTERS[kind]
    chosen = {}
    if structure is not None:
        presets = CLASSICAL_PRESETS[kind]
        if structure not in presets:
            raise ValueError(f"no {kind} preset for structure {structure!r}; choose one of {', '.join(presets)}")
        chosen.update(presets[structure])
    given = {k: v for k, v in params.items() if v is not None}
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "name")]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{kind} takes no parameter {', '.join(unknown)} (it takes {', '.join(allowed)})")
    if kind == "clahe" and "kernel_size" in given:  # a region size in pixels replaces the preset's grid
        chosen.pop("grid", None)
    if kind == "clahe" and "grid" in given:
        chosen.pop("kernel_size", None)
    chosen.update(given)
    return cls(name=name, **chosen)


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


# --- loading ------------------------------------------------------------------------------------

_WHAT_A_MODEL_FOLDER_HOLDS = (
    f"a model folder holds {RESTORER_JSON} (kind and parameters of a restorer, "
    f"from Restorer.save) or, for a CARE network from l2l train, {_TRAINING_JSON}, "
    "config.json and weights"
)


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
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("kind"), str)
            or not isinstance(record.get("params", {}), dict)
        ):
            raise ModelError(f"{path}: not a restorer record (expected 'kind' and 'params')")
        if record["kind"] not in RESTORERS and record["kind"] in _LAZY_KINDS:
            import importlib

            importlib.import_module(_LAZY_KINDS[record["kind"]])  # registers the kind
        if record["kind"] not in RESTORERS:
            raise ModelError(
                f"{path}: unknown restorer kind {record['kind']!r} (known: {', '.join(sorted(RESTORERS))})"
            )
        return {"kind": record["kind"], "name": record.get("name"), "params": record.get("params", {})}
    if (folder / _TRAINING_JSON).is_file():  # CARE model folders trained before restorers existed
        return {"kind": "care", "name": None, "params": {}}
    raise ModelError(
        f"{folder}: not a model folder (no {RESTORER_JSON} or {_TRAINING_JSON}); {_WHAT_A_MODEL_FOLDER_HOLDS}"
    )


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
    l2l_helpers.data.io.ModelError: ...missing: model folder does not exist (a model folder holds ...)
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


# === bioimage.io model packages (issue 15; l2l_helpers.restoring.export writes them) ==========================
# A bioimage.io package (a .zip, its rdf.yaml / bioimageio.yaml, or an unzipped package folder) is one
# more kind of restorer. This block only adds: the BioimageioRestorer kind, and read_restorer_record /
# load_restorer that recognise a package first and hand everything else to the functions above.

#: Names of a bioimage.io package's description file.
BIOIMAGEIO_YAML_NAMES = ("rdf.yaml", "bioimageio.yaml")


def is_bioimageio_package(path):
    """Return True if a path is a bioimage.io model package (without loading it).

    Parameters
    ----------
    path : str or Path
        A ``.zip`` holding ``rdf.yaml`` (or ``*bioimageio.yaml``), such a
        YAML file, or a folder holding one.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_bioimageio_package("no/such/model.zip")
    False
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "rdf.yaml").write_text("type: model")
    >>> is_bioimageio_package(folder), is_bioimageio_package(folder / "rdf.yaml")
    (True, True)
    """
    import zipfile

    path = Path(path)
    if path.is_dir():
        return any((path / n).is_file() for n in BIOIMAGEIO_YAML_NAMES)
    if not path.is_file():
        return False
    if path.name.endswith(BIOIMAGEIO_YAML_NAMES):
        return True
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith(BIOIMAGEIO_YAML_NAMES) and "/" not in n for n in zf.namelist())
    return False


@register_restorer
class BioimageioRestorer(Restorer):
    """A bioimage.io model package (BioImage Model Zoo, spec 0.4 or 0.5) as a restorer.

    The package's own preprocessing (e.g. the percentile normalisation of
    a package from :func:`l2l_helpers.restoring.export.export_bioimageio`) and
    postprocessing are applied by ``bioimageio.core``. The model must have
    one input with axes y and x (and optionally batch and a one-channel
    channel axis). An image whose size does not fit the model's allowed
    sizes is padded (reflect) to the next one and the output cropped back.
    Needs the optional extra ``export`` (``pip install 'l2l-helpers[export]'``).

    Parameters
    ----------
    source : str or Path
        The package (``.zip``, its ``rdf.yaml``, or an unzipped folder).
    weight_format : str, optional
        Weights to use (``"keras_v3"``, ``"onnx"``, ...; default: chosen by
        bioimageio.core).
    name : str, optional
        Display name (default: the package's name).

    Attributes
    ----------
    description : bioimageio.spec.model.v0_5.ModelDescr
        The loaded description.

    Raises
    ------
    ModelError
        If the source is not a valid bioimage.io model, or has inputs this
        restorer cannot feed a 2-D image.

    Examples
    --------
    >>> r = BioimageioRestorer("actin_l2l.zip")  # doctest: +SKIP
    >>> r.restore(image).shape  # doctest: +SKIP
    (256, 256)
    """

    kind = "bioimageio"

    def __init__(self, source, weight_format=None, name=None):
        source = Path(source)
        descr = _load_bioimageio_description(source)
        self.description = descr
        self._pipeline = None
        self._input, self._output = descr.inputs[0], descr.outputs[0]
        self._input_axes = _axis_ids(self._input)
        channels = [len(getattr(a, "channel_names", None) or []) for a in self._input.axes]
        if (
            len(descr.inputs) != 1
            or not {"y", "x"} <= set(self._input_axes)
            or set(self._input_axes) - {"batch", "channel", "y", "x"}
            or max(channels, default=0) > 1
        ):
            raise ModelError(
                f"{source}: a 2-D restorer needs one input with axes y and x (and at most batch and "
                f"one channel); this model has {len(descr.inputs)} input(s), the first with axes "
                f"{self._input_axes}"
            )
        params = {"source": str(source)}
        if weight_format is not None:
            params["weight_format"] = str(weight_format)
        super().__init__(name=name if name is not None else str(descr.name), **params)

    @classmethod
    def load(cls, source, weight_format=None, name=None):
        """Load a package (see the class).

        Parameters
        ----------
        source : str or Path
            The package.
        weight_format : str, optional
            See the class.
        name : str, optional
            See the class.

        Returns
        -------
        BioimageioRestorer

        Examples
        --------
        >>> BioimageioRestorer.load("actin_l2l.zip").output_names  # doctest: +SKIP
        []
        """
        return cls(source, weight_format=weight_format, name=name)

    @classmethod
    def from_folder(cls, folder, record):  # noqa: D102 - see Restorer.from_folder
        params = dict(record.get("params") or {})
        source = Path(params.pop("source", folder))
        if not source.is_absolute() and not source.exists():
            source = Path(folder) / source
        return cls(source, name=record.get("name"), **params)

    def save(self, folder):
        """Copy the package into a folder and write ``l2l_restorer.json`` naming it.

        Parameters
        ----------
        folder : str or Path
            The folder (created if needed).

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> BioimageioRestorer("actin_l2l.zip").save("models/actin_l2l_zoo")  # doctest: +SKIP
        """
        import shutil

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        src = Path(self.params["source"])
        if src.is_file() and src.suffix.lower() == ".zip":
            dst = folder / src.name
            if not dst.exists() or dst.resolve() != src.resolve():
                shutil.copy(src, dst)
            self.params["source"] = dst.name
        try:
            return super().save(folder)
        finally:
            self.params["source"] = str(src)

    @property
    def output_names(self):
        """The output's channel names when it has several channels; empty for one."""
        for axis in self._output.axes:
            names = getattr(axis, "channel_names", None)
            if names is not None and len(names) > 1:
                return [str(n) for n in names]
        return []

    def _sizes(self):
        # (min, step) per spatial input axis; step 0 for a fixed size
        out = {}
        from bioimageio.spec.model import v0_4

        shape = self._input.shape if isinstance(self._input, v0_4.InputTensorDescr) else None  # 0.4: all axes
        for i, (aid, axis) in enumerate(zip(self._input_axes, self._input.axes)):
            if aid not in ("y", "x"):
                continue
            size = getattr(axis, "size", None) if shape is None else shape
            if shape is not None and hasattr(shape, "min"):
                out[aid] = (int(shape.min[i]), int(shape.step[i]))
            elif shape is not None:
                out[aid] = (int(shape[i]), 0)
            elif isinstance(size, int):
                out[aid] = (size, 0)
            elif hasattr(size, "min") and hasattr(size, "step"):
                out[aid] = (int(size.min), int(size.step))
            else:
                out[aid] = (1, 1)
        return out

    def _valid_size(self, image):
        sizes = self._sizes()
        target = []
        for aid, n in zip(("y", "x"), image.shape):
            lo, step = sizes[aid]
            if step == 0 and n > lo:
                raise ModelError(
                    f"{self.params['source']}: the model takes images of exactly {lo} pixels along "
                    f"{aid}, this one has {n}"
                )
            target.append(lo if n <= lo or step == 0 else lo + -(-(n - lo) // step) * step)
        return tuple(target)

    def _get_pipeline(self):
        if self._pipeline is None:
            from bioimageio.core import create_prediction_pipeline

            from l2l_helpers.restoring.export import _tensorflow_keras_for_bioimageio

            _tensorflow_keras_for_bioimageio()
            self._pipeline = create_prediction_pipeline(
                self.description, weights_format=self.params.get("weight_format")
            )
        return self._pipeline

    def _restore(self, image):
        import contextlib
        import io

        from bioimageio.core import Sample, Tensor
        from bioimageio.core.axis import AxisId
        from bioimageio.core.digest_spec import get_member_id

        h, w = image.shape
        th, tw = self._valid_size(image)
        if (th, tw) != (h, w):
            image = np.pad(image, ((0, th - h), (0, tw - w)), mode="reflect" if min(h, w) > 1 else "edge")
        extra = [a for a in self._input_axes if a not in ("y", "x")]
        arr = image.reshape((1,) * len(extra) + image.shape)
        tensor = Tensor.from_numpy(arr, dims=[AxisId(a) for a in extra + ["y", "x"]])
        tensor = tensor.transpose([AxisId(a) for a in self._input_axes])
        sample = Sample(members={get_member_id(self._input): tensor}, stat={}, id="image")
        from l2l_helpers.course._quiet_tf import tf_warnings_hidden as _tf_warnings_hidden

        with contextlib.redirect_stdout(io.StringIO()), _tf_warnings_hidden():  # Keras' progress bar, retracing
            out = self._get_pipeline().predict_sample_without_blocking(
                sample, skip_input_padding=True, skip_output_cropping=True
            )
        result = out.members[get_member_id(self._output)]
        has_channel = "channel" in [str(d) for d in result.dims]
        order = ["y", "x"] + (["channel"] if has_channel else [])
        data = np.asarray(result.transpose([AxisId(a) for a in order]).data)  # singleton batch is squeezed
        data = data[:h, :w]
        if data.ndim == 3 and data.shape[-1] == 1:
            data = data[..., 0]
        return data


def _axis_ids(tensor_descr):
    from bioimageio.core.digest_spec import get_axes_infos

    return [str(a.id) for a in get_axes_infos(tensor_descr)]


def _load_bioimageio_description(source):
    from l2l_helpers.restoring.export import EXPORT_EXTRA_HINT, _tensorflow_keras_for_bioimageio

    _tensorflow_keras_for_bioimageio()

    try:
        from bioimageio.spec import InvalidDescr, load_model_description
    except ImportError as exc:
        raise ModelError(f"{source}: a bioimage.io package; loading it needs {EXPORT_EXTRA_HINT}") from exc
    try:
        descr = load_model_description(str(source), perform_io_checks=False)
    except Exception as exc:  # noqa: BLE001 - invalid packages raise ValueError, zip and IO errors
        raise ModelError(f"{source}: not a valid bioimage.io model ({type(exc).__name__}: {exc})") from exc
    if isinstance(descr, InvalidDescr):
        raise ModelError(f"{source}: not a valid bioimage.io model")
    return descr


_read_restorer_record_of_folder = read_restorer_record
_load_restorer_of_folder = load_restorer


def read_restorer_record(folder):  # noqa: F811 - extends the function above with packages
    """Kind, name and parameters of a restorer folder or bioimage.io package, without loading anything heavy.

    Parameters
    ----------
    folder : str or Path
        A restorer or CARE model folder, or a bioimage.io package
        (:func:`is_bioimageio_package`).

    Returns
    -------
    dict
        ``{"kind", "name", "params"}``; ``{"kind": "bioimageio", "name":
        None, "params": {"source": ...}}`` for a package.

    Raises
    ------
    ModelError
        If the path does not exist, is neither a model folder nor a
        package, its JSON is unreadable or names an unknown kind.

    Examples
    --------
    >>> read_restorer_record("no/such/folder")
    Traceback (most recent call last):
    ...
    l2l_helpers.data.io.ModelError: no/such/folder: model folder does not exist (a model folder holds ...)
    """
    if is_bioimageio_package(folder):
        return {"kind": BioimageioRestorer.kind, "name": None, "params": {"source": str(folder)}}
    return _read_restorer_record_of_folder(folder)


def load_restorer(folder):  # noqa: F811 - extends the function above with packages
    """Load the restorer of a folder (CARE model, classical filter) or a bioimage.io package.

    Parameters
    ----------
    folder : str or Path
        A folder with ``l2l_restorer.json`` (from :meth:`Restorer.save`),
        a CARE model folder (from ``l2l train``), or a bioimage.io model
        package (``.zip``, its ``rdf.yaml``, or an unzipped package folder;
        needs the ``export`` extra).

    Returns
    -------
    Restorer

    Raises
    ------
    ModelError
        If the path does not exist, is not a model folder or package, or the
        package is not a valid bioimage.io model.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = GaussianRestorer(sigma=2.0).save(folder)
    >>> load_restorer(folder)
    GaussianRestorer(sigma=2.0, name='gaussian')
    >>> load_restorer("actin_l2l.zip").kind  # doctest: +SKIP
    'bioimageio'
    """
    if is_bioimageio_package(folder):
        return BioimageioRestorer.load(folder)
    return _load_restorer_of_folder(folder)


__all__ += ["BIOIMAGEIO_YAML_NAMES", "BioimageioRestorer", "is_bioimageio_package"]
# === end of bioimage.io model packages ============================================================
