"""Loading any restorer: the registry of kinds, :func:`read_restorer_record` and :func:`load_restorer`.

Every kind of restorer is a :class:`~l2l_helpers.restoring.restorers.base.Restorer`
subclass registered in :data:`~l2l_helpers.restoring.restorers.base.RESTORERS`
by :func:`~l2l_helpers.restoring.restorers.base.register_restorer`: the
classical filters, CARE networks and bioimage.io packages of this subpackage,
and the CycleGAN generators of :mod:`l2l_helpers.training.cyclegan`, which
imports this subpackage and is therefore imported by :func:`restorer_class`
only when a folder names its kind (:data:`DEFERRED_KINDS`).
"""

from __future__ import annotations

import json
from pathlib import Path

from l2l_helpers.data.io import ModelError
from l2l_helpers.restoring.restorers.base import RESTORER_JSON, RESTORERS
from l2l_helpers.restoring.restorers.bioimageio import BioimageioRestorer, is_bioimageio_package
from l2l_helpers.restoring.restorers.care import CARERestorer

__all__ = ["DEFERRED_KINDS", "restorer_class", "read_restorer_record", "load_restorer"]

# as l2l_helpers.training.train.TRAINING_JSON (not imported: it would load TensorFlow)
_TRAINING_JSON = "l2l_training.json"

_WHAT_A_MODEL_FOLDER_HOLDS = (
    f"a model folder holds {RESTORER_JSON} (kind and parameters of a restorer, "
    f"from Restorer.save) or, for a CARE network from l2l train, {_TRAINING_JSON}, "
    "config.json and weights"
)


def _cyclegan_restorer():
    # importing l2l_helpers.training.cyclegan registers the kind; it imports TensorFlow only to build a network
    from l2l_helpers.training.cyclegan import CycleGANRestorer

    return CycleGANRestorer


#: Kinds defined by modules that import this subpackage -> a function that imports the class and returns it.
DEFERRED_KINDS = {"cyclegan": _cyclegan_restorer}


def restorer_class(kind):
    """The Restorer class of a kind (importing the module of a deferred kind).

    Parameters
    ----------
    kind : str
        A kind of :data:`~l2l_helpers.restoring.restorers.base.RESTORERS`
        or :data:`DEFERRED_KINDS`.

    Returns
    -------
    type

    Raises
    ------
    KeyError
        If no restorer has this kind.

    Examples
    --------
    >>> restorer_class("gaussian").__name__
    'GaussianRestorer'
    >>> restorer_class("cyclegan").__name__
    'CycleGANRestorer'
    """
    if kind not in RESTORERS and kind in DEFERRED_KINDS:
        return DEFERRED_KINDS[kind]()
    return RESTORERS[kind]


def _read_json_record(path):
    """The ``{"kind", "name", "params"}`` of an ``l2l_restorer.json``, its kind known."""
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
    try:
        restorer_class(record["kind"])
    except KeyError:
        raise ModelError(
            f"{path}: unknown restorer kind {record['kind']!r} (known: {', '.join(sorted(RESTORERS))})"
        ) from None
    return {"kind": record["kind"], "name": record.get("name"), "params": record.get("params", {})}


def read_restorer_record(folder):
    """Kind, name and parameters of a restorer folder or bioimage.io package, without loading anything heavy.

    Parameters
    ----------
    folder : str or Path
        A restorer or CARE model folder, or a bioimage.io package
        (:func:`~l2l_helpers.restoring.restorers.bioimageio.is_bioimageio_package`).

    Returns
    -------
    dict
        ``{"kind", "name", "params"}``: the folder's ``l2l_restorer.json``;
        ``{"kind": "care", "name": None, "params": {}}`` for a CARE model
        folder without one; ``{"kind": "bioimageio", "name": None,
        "params": {"source": ...}}`` for a package.

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
    >>> read_restorer_record("models/actin_l2l")["kind"]  # doctest: +SKIP
    'care'
    """
    if is_bioimageio_package(folder):
        return {"kind": BioimageioRestorer.kind, "name": None, "params": {"source": str(folder)}}
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder does not exist ({_WHAT_A_MODEL_FOLDER_HOLDS})")
    path = folder / RESTORER_JSON
    if path.is_file():
        return _read_json_record(path)
    if (folder / _TRAINING_JSON).is_file():  # CARE model folders trained before restorers existed
        return {"kind": "care", "name": None, "params": {}}
    raise ModelError(
        f"{folder}: not a model folder (no {RESTORER_JSON} or {_TRAINING_JSON}); {_WHAT_A_MODEL_FOLDER_HOLDS}"
    )


def load_restorer(folder):
    """Load the restorer of a folder (CARE or CycleGAN model, classical filter) or a bioimage.io package.

    Parameters
    ----------
    folder : str or Path
        A folder with ``l2l_restorer.json`` (from
        :meth:`~l2l_helpers.restoring.restorers.base.Restorer.save`), a CARE
        model folder (``l2l_training.json`` and weights, from ``l2l train``)
        with or without ``l2l_restorer.json``, or a bioimage.io model package
        (``.zip``, its ``rdf.yaml``, or an unzipped package folder; needs the
        ``export`` extra).

    Returns
    -------
    Restorer

    Raises
    ------
    ModelError
        If the path does not exist, is not a model folder or package, the
        package is not a valid bioimage.io model, or the record holds
        parameters its kind does not take (the message names the folder
        and says what a model folder holds).

    Examples
    --------
    >>> import tempfile
    >>> from l2l_helpers.restoring.restorers import TopHatRestorer
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = TopHatRestorer(size=4, name="top-hat").save(folder)
    >>> load_restorer(folder)
    TopHatRestorer(size=4, name='top-hat')
    >>> load_restorer(folder / "missing")
    Traceback (most recent call last):
    ...
    l2l_helpers.data.io.ModelError: ...missing: model folder does not exist (a model folder holds ...)
    >>> load_restorer("actin_l2l.zip").kind  # doctest: +SKIP
    'bioimageio'
    """
    if is_bioimageio_package(folder):
        return BioimageioRestorer.load(folder)
    folder = Path(folder)
    record = read_restorer_record(folder)
    if record["kind"] == CARERestorer.kind and not (folder / RESTORER_JSON).is_file():
        return CARERestorer.load(folder)
    try:
        return restorer_class(record["kind"]).from_folder(folder, record)
    except TypeError as exc:  # parameters that the class does not take
        raise ModelError(f"{folder / RESTORER_JSON}: bad parameters for {record['kind']!r}: {exc}") from exc
