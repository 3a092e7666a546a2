"""Train CARE networks for label2label (L2L) and noise2noise (N2N).

The network is CSBDeep's CARE U-Net; this module adds what the course
needs around it:

* **settings** (:class:`~l2l_helpers.training.profiles.CARESettings`) and
  **profiles** (:data:`l2l_helpers.training.profiles.PROFILES`, also importable from
  here): ``quick`` (tests, CI), ``workshop`` (a few minutes on a laptop CPU)
  and ``paper`` (the paper's settings, for a GPU); every setting can be
  overridden (:func:`care_settings`, :func:`profile_settings` for a dict);
* **losses** ``l1``, ``mse`` (CSBDeep's own mae / mse) and ``ssim``, ``ms3``,
  ``ms5`` (from :mod:`l2l_helpers.training.losses`; names in
  :data:`l2l_helpers.training.losses.LOSSES`);
* a **record** of how the model was trained, ``l2l_training.json`` beside
  CSBDeep's ``config.json`` (schema version, loss and its settings,
  profile, the :class:`~l2l_helpers.training.profiles.CARESettings`, seed,
  patch size, normalisation percentiles and input normalisation, input and
  target folder names, and the **split**: ``train_images`` and
  ``validation_images``), so that
  :func:`load_model` and :mod:`l2l_helpers.restoring.restore` know it
  (:mod:`l2l_helpers.training.record` reads and writes the model folder);
* ``history.csv`` (one row per epoch, counted from 1), best and last weights
  (``weights_best.h5``, ``weights_last.h5``) and the optimizer state after
  every epoch, so an interrupted run can **resume** where it stopped;
* **reproducible** runs: with the same seed, two trainings on the CPU give
  identical weights.

The training itself is done by :class:`l2l_helpers.training.care.L2LCARE`, a
subclass of CSBDeep's ``CARE`` (``prepare_for_training`` / ``train``), with
Keras' own callbacks where they suffice.

Global state: every training runs inside
:func:`l2l_helpers.training.seeding.seeded` with ``clear_session=True``: Keras'
session is cleared first (a long-lived process does not grow with every
training; networks trained before keep working), and on return Python's,
NumPy's, TensorFlow's and Keras' global random states and TensorFlow's op
determinism are as they were before the call.

The split is by image (:func:`l2l_helpers.training.prepare.make_training_data`); pass
it to :func:`train_model` (``split=data.split``) to have it recorded. To
reproduce the split of a trained model, give its recorded
``validation_images`` to ``make_training_data`` (or ``train_from_folders``)
again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l2l_helpers.settings import SCHEMA_VERSION
from l2l_helpers.training.load import (
    _version,
    load_finished_training,
    load_model,
    read_history,
    read_training_info,
    reuse_wanted,
    training_fingerprint,
)
from l2l_helpers.training.losses import LOSSES as LOSS_NAMES
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES
from l2l_helpers.training.profiles import (
    DEFAULT_PROFILE,
    PATCH_SETTINGS,
    PROFILES,
    TRAIN_SETTINGS,
    CARESettings,
    care_config,
    care_settings,
    profile_settings,
)
from l2l_helpers.training.record import TRAINING_JSON, TrainingRecord

__all__ = [
    "PROFILES",
    "CARESettings",
    "care_settings",
    "LOSS_NAMES",
    "TRAINING_JSON",
    "TrainingResult",
    "profile_settings",
    "care_config",  # from .profiles
    "train_model",
    "train_from_folders",  # noqa: F822 - from .folders, by __getattr__ at the end
    "load_model",
    "read_training_info",
    "read_history",
]


@dataclass
class TrainingResult:
    """What :func:`train_model` returns.

    Attributes
    ----------
    model : l2l_helpers.training.care.L2LCARE
        The trained network (a CSBDeep ``CARE``) with the best weights
        loaded; ``model.l2l_info`` holds the training record (the content of
        ``l2l_training.json``).
    history : dict of list
        Per-epoch values (``epoch``, ``loss``, ``val_loss``, ``mse``, ``mae``,
        ``val_mse``, ``val_mae``, ``lr``), including epochs of earlier runs
        when resumed.
    model_dir : Path
        The model folder.
    paths : dict of Path
        ``history``, ``best_weights``, ``last_weights``, ``info``.
    seconds : float
        Wall time of this call's training.

    Examples
    --------
    >>> result = train_model(X, Y, Xv, Yv, "models/actin_l2l", profile="quick")  # doctest: +SKIP
    >>> result.paths["history"].name, len(result.history["epoch"])  # doctest: +SKIP
    ('history.csv', 10)
    """

    model: object
    history: dict
    model_dir: Path
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0


def _check_arrays(X, Y, X_val, Y_val):
    for name, a in (("X", X), ("Y", Y), ("X_val", X_val), ("Y_val", Y_val)):
        if not isinstance(a, np.ndarray) or a.ndim != 4:
            raise ValueError(
                f"{name}: expected an array shaped (n, y, x, channels), got {getattr(a, 'shape', type(a).__name__)}"
            )
        if len(a) == 0:
            raise ValueError(f"{name}: no patches")
    if X.shape != Y.shape or X_val.shape[1:] != X.shape[1:] or Y_val.shape != X_val.shape:
        raise ValueError(
            f"patch arrays differ in shape: X {X.shape}, Y {Y.shape}, X_val {X_val.shape}, Y_val {Y_val.shape}"
        )


def _input_normalization(given, split):
    """The input normalisation named by ``given`` and by a TrainingData ``split`` (None: neither names one)."""
    from l2l_helpers.training.normalization import _check_input_normalization

    carried = getattr(split, "input_normalization", None)
    if given is not None and carried is not None and given != carried:
        raise ValueError(f"input_normalization={given!r}, but the patches (split) were normalised with {carried!r}")
    value = given if given is not None else carried
    return None if value is None else _check_input_normalization(value)


def _check_split(split):
    """``{"train_images": list, "validation_images": list}`` or None."""
    if split is None:
        return {"train_images": None, "validation_images": None}
    split = getattr(split, "split", split)  # a TrainingData
    if not isinstance(split, dict) or set(split) != {"train_images", "validation_images"}:
        raise ValueError(
            "split must be a dict with the keys 'train_images' and 'validation_images' "
            "(TrainingData.split), or a TrainingData"
        )
    out = {}
    for key, images in split.items():
        images = [x.item() if isinstance(x, np.generic) else x for x in images]
        if not all(isinstance(x, (str, int)) for x in images):
            raise ValueError(f"split[{key!r}]: image names or indices expected, got {images!r}")
        out[key] = images
    return out


def _resolve_loss(loss, patch_size):
    """Return (keras loss or None for CSBDeep's own, CSBDeep train_loss name, settings dict)."""
    if loss not in LOSS_NAMES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSS_NAMES)}")
    from l2l_helpers.training import losses as _losses

    try:
        settings = dict(_losses.loss_settings(loss, patch_size))
    except Exception:  # noqa: BLE001 - the record of the settings is optional for l1 / mse
        if loss not in ("l1", "mse"):
            raise
        settings = {}
    if loss == "l1":
        return None, "mae", settings
    if loss == "mse":
        return None, "mse", settings
    return _losses.get_loss(loss, patch_size=patch_size), "mae", settings


def _unique_names(names):
    out, seen = [], {}
    for n in names:
        n = str(n)
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


def _resolve_settings(settings, profile, overrides):
    """(CARESettings, profile name or None) of a request: a profile name or settings, with overrides."""
    if settings is None or isinstance(settings, str):
        name = settings or profile or DEFAULT_PROFILE
        if profile is not None and settings is not None and profile != settings:
            raise ValueError(f"settings={settings!r} and profile={profile!r} name different profiles; give one")
        return care_settings(name, **overrides), name
    if not isinstance(settings, CARESettings):
        raise ValueError(f"settings must be a profile name or CARESettings, got {type(settings).__name__}")
    return care_settings(settings, **overrides), profile


def _new_settings(settings, profile, overrides, patch_size, input_normalization, split):
    """(CARESettings, profile name) of a new training; the patch settings are those of the patches."""
    settings, profile = _resolve_settings(settings, profile, overrides)
    patches = {"patch_size": patch_size, "input_normalization": input_normalization or "percentile"}
    return settings.replace(n_patches_per_image=getattr(split, "n_patches_per_image", None), **patches), profile


def _train_keys(settings):
    """The settings of the training itself (not of the patches) as a dict: what the fingerprint hashes."""
    data = settings.to_dict()
    return {key: data[key] for key in TRAIN_SETTINGS}


def _resumed_info(record, patch_size, k, input_normalization, split, overrides):
    """The stored record of a run to resume, its settings checked against this call's; epochs may change."""
    info = record.read_info()
    record.check_resumable()
    stored = CARESettings.from_dict(info["settings"])
    for key, value in overrides.items():
        if key != "epochs" and value is not None and CARESettings.parse(key, value) != getattr(stored, key):
            raise ValueError(
                f"cannot change {key!r} when resuming (stored: {getattr(stored, key)!r}, "
                f"given: {value!r}); only epochs may change"
            )
    settings = care_settings(stored, epochs=overrides.get("epochs"))
    if input_normalization is not None and input_normalization != stored.input_normalization:
        raise ValueError(
            f"cannot change input_normalization when resuming (stored: {stored.input_normalization!r}, "
            f"given: {input_normalization!r})"
        )
    if info["patch_size"] != patch_size or info["n_channels"] != k:
        raise ValueError(
            f"{record.model_dir}: patches ({patch_size} px, {k} channels) differ from the stored run "
            f"({info['patch_size']} px, {info['n_channels']} channels)"
        )
    given = {key: info.get(key) for key in split}
    if split["validation_images"] is not None and given["validation_images"] is not None and split != given:
        raise ValueError(
            f"cannot change the split when resuming (stored validation images: "
            f"{given['validation_images']}, given: {split['validation_images']})"
        )
    return {**info, "settings": settings.to_dict()}


def _refuse_patch_settings(overrides):
    for key in PATCH_SETTINGS:
        if overrides.get(key) is not None:
            raise ValueError(f"{key} is set when the patches are made (make_training_data), not by train_model")


def _request(loss, profile, seed, percentiles, names, split_names, metadata):
    """What a new training is asked to do, as recorded (``names``: the input name and the target names)."""
    return {
        "loss": loss,
        "profile": profile,
        "seed": int(seed),
        "percentiles": [float(p) for p in percentiles],
        "input_name": str(names[0]),
        "target_names": list(names[1]),
        "split": split_names,
        "metadata": metadata or {},
    }


def _check_new_folder(record, reuse, fingerprint, epochs, overwrite):
    """A reused TrainingResult, or None when the folder may take a new training (else an error)."""
    if reuse_wanted(reuse) and record.holds_model():
        finished = load_finished_training(record, fingerprint, epochs)
        if finished is not None:
            model, history = finished
            return TrainingResult(
                model=model, history=history, model_dir=record.model_dir, paths=record.paths, seconds=0.0
            )
    if record.holds_model() and not overwrite:
        raise FileExistsError(
            f"{record.model_dir}: already holds a model; choose another folder, continue it "
            "(resume=True, l2l train --resume) or replace it (overwrite=True)"
        )
    return None


def _refuse_foreign_files(record):
    foreign = record.foreign_files()
    if foreign:
        raise FileExistsError(
            f"{record.model_dir}: holds {', '.join(foreign)}, which no training writes; a model "
            "folder holds only its model's files: move it, or choose another folder"
        )


def _check_depth(patch_size, n_depth):
    div = 2**n_depth
    if patch_size % div:
        raise ValueError(f"patch size {patch_size} is not divisible by 2**unet_n_depth = {div}")


def _target_names(target_names, k):
    if target_names is None:
        target_names = ["target"] if k == 1 else [f"target_{i}" for i in range(k)]
    target_names = _unique_names(target_names)
    if len(target_names) != k:
        raise ValueError(f"{len(target_names)} target names for {k} target channels")
    return target_names


def _new_info(arrays, request, settings, loss_info):
    """The record of a new training: the request, its settings, its fingerprint."""
    X, Y, X_val, _ = arrays
    norm = settings.input_normalization
    fingerprint = training_fingerprint(
        arrays,
        loss=request["loss"],
        profile=request["profile"],
        seed=request["seed"],
        settings=_train_keys(settings),
        percentiles=request["percentiles"],
        input_name=request["input_name"],
        target_names=request["target_names"],
        split=request["split"],
        metadata=request["metadata"],
        # only when not the default: the fingerprints of earlier runs stay valid
        **({} if norm == "percentile" else {"input_normalization": norm}),
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "l2l_version": _version(),
        "loss": request["loss"],
        "loss_settings": loss_info,
        "profile": request["profile"],
        "seed": request["seed"],
        "patch_size": settings.patch_size,
        "n_channels": int(Y.shape[-1]),
        "percentiles": request["percentiles"],
        "input_normalization": settings.input_normalization,
        "input_name": request["input_name"],
        "target_names": request["target_names"],
        "settings": settings.to_dict(),
        "n_train": int(len(X)),
        "n_val": int(len(X_val)),
        "train_images": request["split"]["train_images"],
        "validation_images": request["split"]["validation_images"],
        "metadata": request["metadata"],
        "fingerprint": fingerprint,
    }


def _default_verbose(verbose):
    """Keras' progress bar in a terminal, one line per epoch in Jupyter and in files."""
    import sys

    if verbose is not None:
        return verbose
    interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    return 1 if interactive and "ipykernel" not in sys.modules else 2


def _fit(record, info, arrays, losses, resume, callbacks, verbose):
    """Train (or go on training) the network ``info`` describes; return it with the best weights loaded.

    ``losses``: the Keras loss (None for CSBDeep's own) and CSBDeep's ``train_loss`` name.
    """
    import warnings

    from l2l_helpers.training.care import L2LCARE
    from l2l_helpers.training.seeding import seeded

    X, Y, X_val, Y_val = arrays
    settings, seed = CARESettings.from_dict(info["settings"]), info["seed"]
    custom_loss, csb_loss = losses
    if not resume:
        record.clear()  # nothing of an earlier run is left stale (overwrite=True)
    with seeded(seed, deterministic=True, clear_session=True):
        config = care_config(
            settings,
            info["n_channels"],
            train_loss=csb_loss,
            train_epochs=settings.epochs,
            train_steps_per_epoch=settings.steps_per_epoch,
            train_batch_size=settings.batch_size,
            train_learning_rate=settings.learning_rate,
        )
        record.model_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="output path for model already exists")
            model = L2LCARE(config, name=record.model_dir.name, basedir=str(record.model_dir.parent))
        if not resume:
            record.write_info(info)
        model.prepare_for_training(loss=custom_loss, resume=resume)
        model.train(
            X,
            Y,
            (X_val, Y_val),
            epochs=settings.epochs,
            steps_per_epoch=settings.steps_per_epoch,
            seed=seed,
            callbacks=callbacks,
            verbose=_default_verbose(verbose),
            flip_rotate=settings.flip_rotate,
        )
    return model


def train_model(
    X,
    Y,
    X_val,
    Y_val,
    model_dir,
    loss="l1",
    settings=None,
    seed=0,
    resume=False,
    overwrite=False,
    percentiles=DEFAULT_PERCENTILES,
    input_name="input",
    target_names=None,
    metadata=None,
    verbose=None,
    callbacks=None,
    split=None,
    reuse=None,
    input_normalization=None,
    profile=None,
    **overrides,
):
    """Train (or resume training) a CARE network on prepared patches.

    Parameters
    ----------
    X, Y, X_val, Y_val : ndarray
        Training and validation patches from
        :func:`l2l_helpers.training.prepare.make_training_data`, shaped
        ``(n, y, x, k)``.
    model_dir : str or Path
        Folder of the model (created). A folder that already holds a model
        is refused unless ``resume`` or ``overwrite`` is True; a folder
        holding any file that is not a model file
        (:data:`l2l_helpers.training.record.MODEL_FILES`) is refused before anything
        is written.
    loss : str
        ``"l1"``, ``"mse"``, ``"ssim"``, ``"ms3"`` or ``"ms5"``.
    settings : CARESettings or str, optional
        The settings of the network and its training
        (:class:`~l2l_helpers.training.profiles.CARESettings`), or the name of
        a profile (``"quick"``, ``"workshop"`` or ``"paper"``, see
        :data:`PROFILES`). Default: ``profile``, else ``"workshop"``. The
        patch settings (``patch_size``, ``n_patches_per_image``,
        ``input_normalization``) are those of the patches given; the record
        holds the patches' own.
    seed : int
        Seed of the weights' initialisation and the batch order; the same
        seed on the same data gives identical weights on the CPU.
    resume : bool
        Continue an interrupted run in ``model_dir`` from its last finished
        epoch (last weights, optimizer state, history). The settings stored
        in the folder are used; ``epochs`` may be raised to train longer.
    overwrite : bool
        Replace a model already in ``model_dir``: every file of the earlier
        run is deleted first, so none is left stale. Ignored when resuming.
        Default False.
    percentiles : tuple of float
        Normalisation percentiles used to make the patches (recorded, and
        used again by :mod:`l2l_helpers.restoring.restore`).
    input_name : str
        Name of the input folder (recorded).
    target_names : sequence of str, optional
        One name per target channel, e.g. the target folder names; restored
        multi-channel images are written to sub-folders of these names.
        Default ``target`` or ``target_0``, ``target_1``, ...
    metadata : dict, optional
        Anything else to record (JSON-serialisable), e.g. data settings.
    verbose : int, optional
        1: Keras' progress bar per epoch; 2: one short line per epoch
        (epoch, loss, val_loss, seconds); 0: silent. Default: 1 in a
        terminal, 2 in Jupyter and when the output goes to a file.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks (e.g. a live loss plot); they run after the epoch
        has been saved, so one that stops the run leaves it resumable.
    split : dict or TrainingData, optional
        Which images the patches came from: ``data.split`` of the
        :class:`~l2l_helpers.training.prepare.TrainingData` (or the TrainingData
        itself); recorded as ``train_images`` and ``validation_images``
        in ``l2l_training.json`` (``None`` there when not given). A
        TrainingData also gives its ``input_normalization`` and
        ``n_patches_per_image``.
    reuse : bool, optional
        Load instead of train when ``model_dir`` already holds a *finished*
        training of exactly this request: the same patches, loss, profile,
        settings, seed, split and names, compared by a fingerprint that
        every training records in ``l2l_training.json``. Anything else
        trains as usual (``overwrite`` then applies). Default: the
        environment variable ``L2L_REUSE_MODELS`` (``1`` reuses), so that a
        workshop can start from the models ``python3 tasks.py precompute``
        trained; the same seed gives the same weights on the CPU, so a
        reused network equals the one the call would train.
    input_normalization : str, optional
        How the input patches were normalised (``"percentile"`` or
        ``"mean_std"``, see :func:`l2l_helpers.training.prepare.normalize_input`);
        recorded, and used again when the network restores an image.
        Default: the ``split`` TrainingData's, else ``"percentile"``.
    profile : str, optional
        The profile's name, when ``settings`` is not given as one (recorded).
    **overrides
        Settings replacing those of ``settings``: ``epochs``,
        ``steps_per_epoch``, ``batch_size``, ``learning_rate``,
        ``unet_n_depth``, ``unet_n_first``, ``unet_kern_size``,
        ``unet_residual``, ``flip_rotate``.

    Returns
    -------
    TrainingResult
        Model (best weights loaded), history, paths, wall time (0 for a
        reused model).

    Raises
    ------
    ValueError
        Bad arrays, loss, profile or setting; patch size not divisible by
        ``2**unet_n_depth``.
    FileExistsError
        If ``model_dir`` holds a model and neither ``resume`` nor
        ``overwrite`` is True, or holds a file that is not a model file
        (named in the message).
    FileNotFoundError
        If ``resume`` is True but ``model_dir`` does not exist or holds no
        finished epoch.
    l2l_helpers.data.io.ModelError
        If ``resume`` is True but ``model_dir`` is not a model folder.

    Examples
    --------
    >>> from l2l_helpers.training.prepare import make_training_data
    >>> data = make_training_data(inputs, targets, patch_size=48, names=names)  # doctest: +SKIP
    >>> result = train_model(*data, "models/actin_l2l", loss="l1", settings="quick",
    ...                      split=data.split)  # doctest: +SKIP
    >>> result.history["val_loss"][-1]  # doctest: +SKIP
    0.05
    >>> result.model.l2l_info["validation_images"]  # doctest: +SKIP
    ['cell_005']
    """
    arrays = (X, Y, X_val, Y_val)
    _check_arrays(*arrays)
    _refuse_patch_settings(overrides)
    record = TrainingRecord(model_dir)
    patch_size, k = int(X.shape[1]), int(Y.shape[-1])
    input_normalization = _input_normalization(input_normalization, split)
    split_names = _check_split(split)
    if resume:
        info = _resumed_info(record, patch_size, k, input_normalization, split_names, overrides)
    else:
        settings, profile = _new_settings(settings, profile, overrides, patch_size, input_normalization, split)
        _refuse_foreign_files(record)
    _check_depth(patch_size, info["settings"]["unet_n_depth"] if resume else settings.unet_n_depth)
    loss = info["loss"] if resume else loss
    custom_loss, csb_loss, loss_info = _resolve_loss(loss, patch_size)
    target_names = _target_names(target_names, k)
    if not resume:
        request = _request(loss, profile, seed, percentiles, (input_name, target_names), split_names, metadata)
        info = _new_info(arrays, request, settings, loss_info)
        reused = _check_new_folder(record, reuse, info["fingerprint"], settings.epochs, overwrite)
        if reused is not None:
            return reused
    t0 = time.perf_counter()
    model = _fit(record, info, arrays, (custom_loss, csb_loss), resume, callbacks, verbose)
    seconds = time.perf_counter() - t0
    if resume and record.read_info()["settings"] != info["settings"]:  # more epochs than recorded
        record.write_info(info)
    model.l2l_info = info
    return TrainingResult(
        model=model, history=record.read_history(), model_dir=record.model_dir, paths=record.paths, seconds=seconds
    )


def __getattr__(name):
    # train_from_folders lives in its own module, which uses train_model: imported when it is asked for
    if name == "train_from_folders":
        from l2l_helpers.training.folders import train_from_folders

        return train_from_folders
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
