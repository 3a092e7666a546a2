"""The restorer interface: :class:`Restorer` and the registry of kinds it is saved and loaded by.

A :class:`Restorer` has a ``kind`` (its name in :data:`RESTORERS`), a
``name``, its ``params`` (what it was trained or configured with),
:meth:`~Restorer.restore` (one 2-D image in, one image out, float32) and
:meth:`~Restorer.restore_many`. :meth:`Restorer.save` writes
``l2l_restorer.json`` (``{"kind", "name", "params"}``) into a folder;
:func:`l2l_helpers.restoring.restorers.load_restorer` reads it back.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import check_image

__all__ = ["RESTORER_JSON", "RESTORERS", "Restorer", "register_restorer"]

#: File that names a restorer's kind and parameters in its folder.
RESTORER_JSON = "l2l_restorer.json"

#: Kind -> Restorer class (see :func:`register_restorer`).
RESTORERS = {}


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
    >>> from l2l_helpers.restoring.restorers import GaussianRestorer
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
        >>> from l2l_helpers.restoring.restorers import GaussianRestorer
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
        >>> from l2l_helpers.restoring.restorers import GaussianRestorer
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
        >>> from l2l_helpers.restoring.restorers import GaussianRestorer
        >>> GaussianRestorer(sigma=1.5).to_dict()
        {'kind': 'gaussian', 'name': 'gaussian', 'params': {'sigma': 1.5}}
        """
        return {"kind": self.kind, "name": self.name, "params": _jsonable(self.params)}

    def save(self, folder):
        """Write ``l2l_restorer.json`` (kind, name, parameters) into a folder.

        Parameters
        ----------
        folder : str or Path
            The folder (created if needed); :func:`~l2l_helpers.restoring.restorers.load_restorer` reads it.

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> import tempfile
        >>> from l2l_helpers.restoring.restorers import GaussianRestorer, load_restorer
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
        """Make the restorer of a folder from its ``l2l_restorer.json`` record (used by ``load_restorer``).

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
        >>> from l2l_helpers.restoring.restorers import GaussianRestorer
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
