"""Load a trained CARE network and read how it was trained.

A model folder written by :func:`l2l_helpers.training.train.train_model`
(or ``l2l train``; see :mod:`l2l_helpers.training.record` for its files)
gives back its network (:func:`load_model`), its record
(:func:`read_training_info`, records of l2l 0.1.0 included) and its
per-epoch history (:func:`read_history`). All three are also importable from
:mod:`l2l_helpers.training.train`. TensorFlow is imported when a network is
loaded, not when this module is imported.
"""

from __future__ import annotations

from pathlib import Path

from l2l_helpers.data.io import ModelError
from l2l_helpers.training.record import BEST_WEIGHTS, CONFIG_JSON, LAST_WEIGHTS, TrainingRecord

__all__ = [
    "load_model",
    "read_training_info",
    "read_history",
    "training_fingerprint",
    "reuse_wanted",
    "load_finished_training",
]


def read_history(model_dir):
    """Read a model's ``history.csv`` as a dict of lists.

    Parameters
    ----------
    model_dir : str or Path
        The model folder.

    Returns
    -------
    dict of list
        One list per column (``epoch`` counted from 1, ``loss``,
        ``val_loss``, ``mse``, ``mae``, ``val_mse``, ``val_mae``, ``lr``);
        missing values are NaN; empty if there is no history yet.

    Examples
    --------
    >>> h = read_history("models/actin_l2l")  # doctest: +SKIP
    >>> h["val_loss"][-1]  # doctest: +SKIP
    0.031
    """
    return TrainingRecord(model_dir).read_history()


def read_training_info(model_dir):
    """Read how a model was trained (``l2l_training.json``).

    Parameters
    ----------
    model_dir : str or Path
        The model folder.

    Returns
    -------
    dict
        ``schema_version``, loss, loss settings, profile, seed, patch size,
        percentiles, input and target names, the settings
        (:meth:`~l2l_helpers.training.profiles.CARESettings.to_dict`), and the
        split (``train_images``, ``validation_images``: file names for
        :func:`~l2l_helpers.training.folders.train_from_folders`, names or
        indices for arrays; ``None`` when unknown, e.g. in folders of l2l
        0.1.0). Records of l2l 0.1.0 are read in this form
        (:func:`l2l_helpers.training.record.upgrade_info`).

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    l2l_helpers.data.io.ModelError
        If the folder holds no (readable) ``l2l_training.json``.

    Examples
    --------
    >>> read_training_info("models/actin_l2l")["loss"]  # doctest: +SKIP
    'l1'
    """
    return TrainingRecord(model_dir).read_info()


def _version():
    from l2l_helpers import __version__

    return __version__


def load_model(model_dir, weights="best"):
    """Load a trained network and how it was trained.

    Parameters
    ----------
    model_dir : str or Path
        Folder written by :func:`train_model` (or ``l2l train``), also by
        earlier versions.
    weights : {"best", "last"}
        Which weights to load (the last ones if there are no best ones).

    Returns
    -------
    l2l_helpers.training.care.L2LCARE
        The network (a CSBDeep ``CARE``); ``model.l2l_info`` is the
        training record (``l2l_training.json``: loss, profile, seed,
        percentiles, target names, split, ...).

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    l2l_helpers.data.io.ModelError
        If the folder is not a usable model: no training record, no or a
        broken ``config.json``, no weights (training interrupted before its
        first epoch), or weights that do not fit the network.
    ValueError
        If ``weights`` is neither ``"best"`` nor ``"last"``.

    Examples
    --------
    >>> model = load_model("models/actin_l2l")  # doctest: +SKIP
    >>> model.l2l_info["loss"]  # doctest: +SKIP
    'l1'
    """
    import contextlib
    import io as _io
    import warnings

    if weights not in ("best", "last"):
        raise ValueError(f"weights must be 'best' or 'last', got {weights!r}")
    model_dir = Path(model_dir)
    record = TrainingRecord(model_dir)
    info = record.read_info()
    if not record.path("config").is_file():
        raise ModelError(f"{model_dir}: not a model folder (no {CONFIG_JSON})")
    wfile = model_dir / (BEST_WEIGHTS if weights == "best" else LAST_WEIGHTS)
    if not wfile.is_file():
        wfile = model_dir / LAST_WEIGHTS
    if not wfile.is_file():
        raise ModelError(
            f"{model_dir}: no weights ({BEST_WEIGHTS} / {LAST_WEIGHTS}); was the training "
            "interrupted before its first epoch?"
        )
    from l2l_helpers.training.care import L2LCARE

    with warnings.catch_warnings(), contextlib.redirect_stdout(_io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            model = L2LCARE(None, name=model_dir.name, basedir=str(model_dir.parent))
        except Exception as exc:  # noqa: BLE001 - corrupt config
            raise ModelError(
                f"{model_dir}: cannot load the network from {CONFIG_JSON} ({type(exc).__name__}: {exc})"
            ) from exc
    try:
        model.keras_model.load_weights(str(wfile))
    except Exception as exc:  # noqa: BLE001 - truncated file, other network
        raise ModelError(f"{wfile}: cannot load the weights ({type(exc).__name__}: {exc})") from exc
    model.l2l_info = info
    return model


def training_fingerprint(arrays, **request):
    """SHA-256 of the patches and of everything else that decides a training (its JSON, sorted).

    Parameters
    ----------
    arrays : sequence of ndarray
        The patches (``X, Y, X_val, Y_val``).
    **request
        Everything else that decides the training (JSON-serialisable; the
        l2l version is added).

    Returns
    -------
    str
        Hexadecimal digest (recorded as ``fingerprint``).

    Examples
    --------
    >>> import numpy as np
    >>> a = training_fingerprint([np.zeros(2)], loss="l1")
    >>> a == training_fingerprint([np.zeros(2)], loss="l1"), a == training_fingerprint([np.ones(2)], loss="l1")
    (True, False)
    """
    import hashlib
    import json

    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    h.update(json.dumps({"l2l_version": _version(), **request}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def reuse_wanted(reuse):
    """Whether a finished training of the same request is reused (given, else ``L2L_REUSE_MODELS``).

    Parameters
    ----------
    reuse : bool or None
        Given; None: the environment variable ``L2L_REUSE_MODELS`` (1, true or yes).

    Returns
    -------
    bool

    Examples
    --------
    >>> reuse_wanted(True)
    True
    """
    import os

    if reuse is None:
        return os.environ.get("L2L_REUSE_MODELS", "").strip().lower() in ("1", "true", "yes")
    return bool(reuse)


def load_finished_training(record, fingerprint, epochs):
    """The finished training in ``record``'s folder if it is the request of ``fingerprint``, else None.

    Parameters
    ----------
    record : TrainingRecord
        The model folder's record.
    fingerprint : str
        :func:`training_fingerprint` of the request.
    epochs : int
        Epochs the request trains (a run with fewer is not finished).

    Returns
    -------
    tuple of (L2LCARE, dict) or None
        The model and its history; None if the folder holds another or
        an unfinished or unreadable training.

    Examples
    --------
    >>> load_finished_training(TrainingRecord("no/such/folder"), "0" * 64, 1) is None
    True
    """
    try:
        info = record.read_info()
        history = record.read_history()
    except Exception:  # noqa: BLE001 - an unreadable record is simply not reused
        return None
    if info.get("fingerprint") != fingerprint or len(history.get("epoch", [])) < epochs:
        return None
    try:
        model = load_model(record.model_dir)
    except ModelError:
        return None
    print(
        f"{record.model_dir.name}: reusing the finished training in {record.model_dir} "
        "(L2L_REUSE_MODELS; the same request trains the same network)"
    )
    return model, history
