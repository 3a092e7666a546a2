"""Train CARE networks for label2label (L2L) and noise2noise (N2N).

The network is CSBDeep's CARE U-Net; this module adds what the course
needs around it:

* **profiles** (:data:`PROFILES`): ``quick`` (tests, CI), ``workshop``
  (a few minutes on a laptop CPU) and ``paper`` (the paper's settings, for
  a GPU); every setting can be overridden;
* **losses** ``l1``, ``mse`` (CSBDeep's own mae / mse) and ``ssim``, ``ms3``,
  ``ms5`` (from :mod:`l2l_helpers.losses`);
* a **record** of how the model was trained, ``l2l_training.json`` beside
  CSBDeep's ``config.json`` (loss and its settings, profile, seed, patch
  size, normalisation percentiles, input and target folder names), so that
  :func:`load_model` and :mod:`l2l_helpers.restore` know it;
* ``history.csv`` (one row per epoch), best and last weights
  (``weights_best.h5``, ``weights_last.h5``) and the optimizer state after
  every epoch, so an interrupted run can **resume** where it stopped;
* **reproducible** runs: with the same seed, two trainings on the CPU give
  identical weights.

Model folder layout::

    model_dir/
        config.json            CSBDeep's network configuration
        l2l_training.json      how it was trained (this module)
        history.csv            loss, val_loss, mse, mae, lr per epoch
        weights_best.h5        weights of the epoch with the lowest val_loss
        weights_last.h5        weights after the last finished epoch
        l2l_state.json         resume state (epochs done, best val_loss, ...)
        optimizer_last.npz     optimizer state after the last finished epoch

Reproducibility and global state: :func:`train_model` calls
``keras.utils.set_random_seed(seed)`` (seeds Python's ``random``, NumPy's
global generator and TensorFlow) and enables TensorFlow's op determinism
while it trains. On return, the previous states of Python's and NumPy's
generators and of op determinism are restored; TensorFlow's global seed
stays set (TensorFlow cannot report its previous value).
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .io import ImageError
from .prepare import DEFAULT_PERCENTILES

__all__ = [
    "PROFILES",
    "LOSS_NAMES",
    "TRAINING_JSON",
    "TrainingResult",
    "profile_settings",
    "train_model",
    "train_from_folders",
    "load_model",
    "read_training_info",
    "read_history",
]

#: Losses accepted by :func:`train_model`.
LOSS_NAMES = ("l1", "mse", "ssim", "ms3", "ms5")
#: Name of the file that records how a model was trained.
TRAINING_JSON = "l2l_training.json"
_STATE_JSON = "l2l_state.json"
_OPTIMIZER_NPZ = "optimizer_last.npz"
_HISTORY_CSV = "history.csv"
_BEST = "weights_best.h5"
_LAST = "weights_last.h5"
_MODEL_FILES = ("config.json", TRAINING_JSON, _STATE_JSON, _OPTIMIZER_NPZ, _HISTORY_CSV, _BEST, _LAST,
                "weights_now.h5")

#: Training settings of the three run profiles. Keys: ``patch_size`` and
#: ``n_patches_per_image`` (data preparation, see
#: :func:`l2l_helpers.prepare.make_training_data`), ``unet_n_depth``,
#: ``unet_n_first``, ``unet_kern_size`` (the CARE U-Net), ``epochs``,
#: ``steps_per_epoch``, ``batch_size``, ``learning_rate``.
#:
#: ``quick``
#:     tests and CI: a small U-Net (depth 2, 16 first filters, 3x3 kernels,
#:     83k parameters) on 48 px patches, 10 epochs x 20 steps of 16 patches.
#:     Measured on 2 shared CPU cores (benchmarks/bench_train.py): 0.036 s
#:     per step; a whole training on 8 simulated actin cells 26 s (graph
#:     building, validation and checkpoints included), validation L1 loss
#:     0.092 -> 0.028.
#: ``workshop``
#:     default of the notebooks: depth 2, 32 first filters, 3x3 kernels
#:     (333k parameters) on 64 px patches, 20 epochs x 20 steps. Measured:
#:     0.21 s per step, a whole training 147 s (about 2.5 minutes), validation
#:     L1 loss 0.079 -> 0.017.
#: ``paper``
#:     the paper's settings: CSBDeep's default U-Net (depth 2, 32 first
#:     filters, 5x5 kernels, 923k parameters), 128 px patches, 100 epochs x
#:     400 steps, batch 16, learning rate 0.0004. Measured: 1.8 s per step
#:     on this CPU, i.e. about 20 hours per training: use a GPU.
#:
#: Peak memory of a training process: about 0.75 GB (quick), 0.85 GB
#: (workshop), 1.25 GB (paper).
PROFILES = {
    "quick": dict(patch_size=48, n_patches_per_image=32, unet_n_depth=2, unet_n_first=16, unet_kern_size=3,
                  epochs=10, steps_per_epoch=20, batch_size=16, learning_rate=0.001),
    "workshop": dict(patch_size=64, n_patches_per_image=64, unet_n_depth=2, unet_n_first=32, unet_kern_size=3,
                     epochs=20, steps_per_epoch=20, batch_size=16, learning_rate=0.0007),
    "paper": dict(patch_size=128, n_patches_per_image=256, unet_n_depth=2, unet_n_first=32, unet_kern_size=5,
                  epochs=100, steps_per_epoch=400, batch_size=16, learning_rate=0.0004),
}

_TRAIN_KEYS = ("unet_n_depth", "unet_n_first", "unet_kern_size", "epochs", "steps_per_epoch", "batch_size",
               "learning_rate")


def profile_settings(profile="workshop", **overrides):
    """Return the settings of a profile, with some of them overridden.

    Parameters
    ----------
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"``.
    **overrides
        Settings to replace (keys of :data:`PROFILES`); ``None`` values are
        ignored, so unset command-line options can be passed through.

    Returns
    -------
    dict
        A new dict of settings.

    Raises
    ------
    ValueError
        Unknown profile or unknown setting.

    Examples
    --------
    >>> profile_settings("quick", epochs=2)["epochs"]
    2
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    settings = dict(PROFILES[profile])
    for key, value in overrides.items():
        if key not in settings:
            raise ValueError(f"unknown training setting {key!r}; known: {', '.join(settings)}")
        if value is not None:
            settings[key] = type(settings[key])(value)
    return settings


@dataclass
class TrainingResult:
    """What :func:`train_model` returns.

    Attributes
    ----------
    model : csbdeep.models.CARE
        The trained network with the best weights loaded; ``model.l2l_info``
        holds the training record (the content of ``l2l_training.json``).
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
            raise ValueError(f"{name}: expected an array shaped (n, y, x, channels), got "
                             f"{getattr(a, 'shape', type(a).__name__)}")
        if len(a) == 0:
            raise ValueError(f"{name}: no patches")
    if X.shape != Y.shape or X_val.shape[1:] != X.shape[1:] or Y_val.shape != X_val.shape:
        raise ValueError(f"patch arrays differ in shape: X {X.shape}, Y {Y.shape}, X_val {X_val.shape}, "
                         f"Y_val {Y_val.shape}")


def _resolve_loss(loss, patch_size):
    """Return (keras loss, csbdeep train_loss name, settings dict)."""
    if loss not in LOSS_NAMES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSS_NAMES)}")
    settings = {}
    try:
        from . import losses as _losses
    except ImportError:
        _losses = None
    if _losses is not None and hasattr(_losses, "loss_settings"):
        try:
            settings = dict(_losses.loss_settings(loss, patch_size))
        except Exception:  # noqa: BLE001 - the record is optional for l1 / mse
            if loss not in ("l1", "mse"):
                raise
            settings = {}
    if loss == "l1":
        return None, "mae", settings
    if loss == "mse":
        return None, "mse", settings
    if _losses is None or not hasattr(_losses, "get_loss"):
        raise ValueError(f"loss {loss!r} needs l2l_helpers.losses.get_loss, which is not available")
    return _losses.get_loss(loss, patch_size=patch_size), "mae", settings


def _read_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _write_json(path, data):
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
    tmp.replace(path)


def read_history(model_dir):
    """Read a model's ``history.csv`` as a dict of lists.

    Parameters
    ----------
    model_dir : str or Path
        The model folder.

    Returns
    -------
    dict of list of float
        One list per column (``epoch``, ``loss``, ``val_loss``, ...); empty
        if there is no history yet.

    Examples
    --------
    >>> h = read_history("models/actin_l2l")  # doctest: +SKIP
    >>> h["val_loss"][-1]  # doctest: +SKIP
    0.031
    """
    path = Path(model_dir) / _HISTORY_CSV
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return {}
    hist = {key: [] for key in rows[0]}
    for row in rows:
        for key in hist:
            val = row.get(key, "")
            hist[key].append(int(val) if key == "epoch" else (float(val) if val not in ("", None) else math.nan))
    return hist


def read_training_info(model_dir):
    """Read how a model was trained (``l2l_training.json``).

    Parameters
    ----------
    model_dir : str or Path
        The model folder.

    Returns
    -------
    dict
        Loss, loss settings, profile, seed, patch size, percentiles, input
        and target names, network and training settings.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist or holds no ``l2l_training.json``.

    Examples
    --------
    >>> read_training_info("models/actin_l2l")["loss"]  # doctest: +SKIP
    'l1'
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise FileNotFoundError(f"{model_dir}: model folder does not exist")
    path = model_dir / TRAINING_JSON
    if not path.is_file():
        raise FileNotFoundError(f"{model_dir}: not a label2label model folder (no {TRAINING_JSON}; "
                                "train one with l2l train or train_model)")
    return _read_json(path)


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


def _make_callbacks(keras, model, model_dir, state, n_epochs_total):
    """Checkpoint / history / resume-state callback."""
    history_path = model_dir / _HISTORY_CSV

    class _L2LCheckpoint(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            best = state.get("best_val_loss")
            self.best = math.inf if best is None else float(best)
            self.rlr = None  # ReduceLROnPlateau, to save its state

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            km = self.model
            lr = float(np.asarray(km.optimizer.learning_rate))
            row = {"epoch": epoch + 1}
            for key in ("loss", "val_loss", "mse", "mae", "val_mse", "val_mae"):
                if key in logs:
                    row[key] = float(logs[key])
            row["lr"] = lr
            new_file = not history_path.exists() or history_path.stat().st_size == 0
            if new_file:
                fields = list(row)
            else:
                with open(history_path, newline="", encoding="utf-8") as fh:
                    fields = next(csv.reader(fh))
            with open(history_path, "a", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
                if new_file:
                    writer.writeheader()
                writer.writerow(row)
            val = float(logs.get("val_loss", math.nan))
            if math.isfinite(val) and val < self.best:
                self.best = val
                km.save_weights(str(model_dir / _BEST))
                state["best_epoch"] = epoch + 1
            km.save_weights(str(model_dir / _LAST))
            opt_vars = {f"v{i:04d}": np.asarray(v) for i, v in enumerate(km.optimizer.variables)}
            tmp = model_dir / (_OPTIMIZER_NPZ + ".tmp.npz")
            np.savez(tmp, **opt_vars)
            tmp.replace(model_dir / _OPTIMIZER_NPZ)
            state["epochs_done"] = epoch + 1
            state["best_val_loss"] = self.best if math.isfinite(self.best) else None
            if self.rlr is not None:
                state["reduce_lr"] = {"wait": int(self.rlr.wait), "best": (None if self.rlr.best is None else float(self.rlr.best)),
                                      "cooldown_counter": int(self.rlr.cooldown_counter)}
            _write_json(model_dir / _STATE_JSON, state)

    return _L2LCheckpoint()


def _epoch_printer(keras, n_epochs):
    """One line per epoch (for notebooks: no progress-bar output)."""

    class _EpochLine(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            parts = [f"epoch {epoch + 1:>{len(str(n_epochs))}}/{n_epochs}"]
            for key in ("loss", "val_loss"):
                if key in logs:
                    parts.append(f"{key} {float(logs[key]):.4f}")
            parts.append(f"{time.perf_counter() - self.t0:.1f} s")
            print("  ".join(parts), flush=True)

    return _EpochLine()


def _batches(X, Y, batch_size, seed, start_epoch, steps_per_epoch):
    """Endless batches; epoch ``e`` always gets the same ones (resumable)."""
    n = len(X)
    epoch = start_epoch
    while True:
        rng = np.random.default_rng([int(seed), int(epoch)])
        need = steps_per_epoch * batch_size
        idx = np.concatenate([rng.permutation(n) for _ in range(-(-need // n))])[:need]
        for s in range(steps_per_epoch):
            b = idx[s * batch_size:(s + 1) * batch_size]
            yield X[b], Y[b]
        epoch += 1


def train_model(X, Y, X_val, Y_val, model_dir, loss="l1", profile="workshop", seed=0, resume=False,
                overwrite=False, percentiles=DEFAULT_PERCENTILES, input_name="input", target_names=None, metadata=None,
                verbose=None, callbacks=None, **overrides):
    """Train (or resume training) a CARE network on prepared patches.

    Parameters
    ----------
    X, Y, X_val, Y_val : ndarray
        Training and validation patches from
        :func:`l2l_helpers.prepare.make_training_data`, shaped
        ``(n, y, x, k)``.
    model_dir : str or Path
        Folder of the model (created). A folder that already holds a model
        is refused unless ``resume`` is True.
    loss : str
        ``"l1"``, ``"mse"``, ``"ssim"``, ``"ms3"`` or ``"ms5"``.
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"`` (see :data:`PROFILES`).
    seed : int
        Seed of the weights' initialisation and the batch order; the same
        seed on the same data gives identical weights on the CPU.
    resume : bool
        Continue an interrupted run in ``model_dir`` from its last finished
        epoch (last weights, optimizer state, history). The settings stored
        in the folder are used; ``epochs`` may be raised to train longer.
    overwrite : bool
        Replace a model already in ``model_dir`` (its files written by this
        module and CSBDeep are deleted first; other files are left alone).
        Ignored when resuming. Default False.
    percentiles : tuple of float
        Normalisation percentiles used to make the patches (recorded, and
        used again by :mod:`l2l_helpers.restore`).
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
    **overrides
        Settings replacing the profile's: ``epochs``, ``steps_per_epoch``,
        ``batch_size``, ``learning_rate``, ``unet_n_depth``,
        ``unet_n_first``, ``unet_kern_size``.

    Returns
    -------
    TrainingResult
        Model (best weights loaded), history, paths, wall time.

    Raises
    ------
    ValueError
        Bad arrays, loss, profile or setting; patch size not divisible by
        ``2**unet_n_depth``.
    FileExistsError
        If ``model_dir`` holds a model and neither ``resume`` nor
        ``overwrite`` is True.
    FileNotFoundError
        If ``resume`` is True but ``model_dir`` holds no resumable run.

    Examples
    --------
    >>> from l2l_helpers.prepare import make_training_data
    >>> X, Y, Xv, Yv = make_training_data(inputs, targets, patch_size=48)  # doctest: +SKIP
    >>> result = train_model(X, Y, Xv, Yv, "models/actin_l2l", loss="l1", profile="quick")  # doctest: +SKIP
    >>> result.history["val_loss"][-1]  # doctest: +SKIP
    0.05
    """
    import sys

    _check_arrays(X, Y, X_val, Y_val)
    for key in ("patch_size", "n_patches_per_image"):
        if overrides.get(key) is not None:
            raise ValueError(f"{key} is set when the patches are made (make_training_data), not by train_model")
    callbacks_extra = list(callbacks or [])
    model_dir = Path(model_dir)
    patch_size = int(X.shape[1])
    k = int(Y.shape[-1])
    if X.shape[-1] != k:
        raise ValueError(f"X has {X.shape[-1]} channels but Y has {k}; repeat the input on every target channel")

    if resume:
        info = read_training_info(model_dir)
        state_path = model_dir / _STATE_JSON
        if not state_path.is_file() or not (model_dir / _LAST).is_file():
            raise FileNotFoundError(f"{model_dir}: no finished epoch to resume from "
                                    f"({_STATE_JSON} or {_LAST} missing)")
        state = _read_json(state_path)
        settings = dict(info["settings"])
        for key, value in overrides.items():
            if key != "epochs" and value is not None and value != settings.get(key):
                raise ValueError(f"cannot change {key!r} when resuming (stored: {settings.get(key)!r}, "
                                 f"given: {value!r}); only epochs may change")
        if overrides.get("epochs") is not None:
            settings["epochs"] = int(overrides["epochs"])
        loss, seed, profile = info["loss"], int(info["seed"]), info["profile"]
        if info["patch_size"] != patch_size or info["n_channels"] != k:
            raise ValueError(f"{model_dir}: patches ({patch_size} px, {k} channels) differ from the stored run "
                             f"({info['patch_size']} px, {info['n_channels']} channels)")
    else:
        settings = {key: v for key, v in profile_settings(profile, **overrides).items() if key in _TRAIN_KEYS}
        if overwrite and model_dir.is_dir():
            for name in _MODEL_FILES:
                (model_dir / name).unlink(missing_ok=True)
        if model_dir.exists() and any((model_dir / f).exists() for f in ("config.json", TRAINING_JSON, _LAST)):
            raise FileExistsError(f"{model_dir}: already holds a model; choose another folder, continue it "
                                  "(resume=True, l2l train --resume) or replace it (overwrite=True)")
        state = {"epochs_done": 0, "best_val_loss": None}
    div = 2 ** settings["unet_n_depth"]
    if patch_size % div:
        raise ValueError(f"patch size {patch_size} is not divisible by 2**unet_n_depth = {div}")
    custom_loss, csb_loss, loss_info = _resolve_loss(loss, patch_size)

    if target_names is None:
        target_names = ["target"] if k == 1 else [f"target_{i}" for i in range(k)]
    target_names = _unique_names(target_names)
    if len(target_names) != k:
        raise ValueError(f"{len(target_names)} target names for {k} target channels")

    if not resume:
        info = {
            "l2l_version": _version(),
            "loss": loss,
            "loss_settings": loss_info,
            "profile": profile,
            "seed": int(seed),
            "patch_size": patch_size,
            "n_channels": k,
            "percentiles": [float(p) for p in percentiles],
            "input_name": str(input_name),
            "target_names": list(target_names),
            "settings": settings,
            "n_train": int(len(X)),
            "n_val": int(len(X_val)),
            "metadata": metadata or {},
        }

    if verbose is None:
        interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
        verbose = 1 if interactive and "ipykernel" not in sys.modules else 2

    import keras
    from csbdeep.internals.losses import loss_mae, loss_mse
    from csbdeep.models import CARE, Config
    from tensorflow.python.framework import config as tf_config

    # --- reproducibility (restored at the end) ---
    import random
    py_state, np_state = random.getstate(), np.random.get_state()
    was_deterministic = tf_config.is_op_determinism_enabled()
    keras.utils.set_random_seed(int(seed))
    tf_config.enable_op_determinism()
    t0 = time.perf_counter()
    try:
        config = Config("YX", n_channel_in=k, n_channel_out=k, probabilistic=False,
                        unet_n_depth=settings["unet_n_depth"], unet_n_first=settings["unet_n_first"],
                        unet_kern_size=settings["unet_kern_size"], train_loss=csb_loss,
                        train_epochs=settings["epochs"], train_steps_per_epoch=settings["steps_per_epoch"],
                        train_batch_size=settings["batch_size"], train_learning_rate=settings["learning_rate"],
                        train_tensorboard=False)
        model_dir.parent.mkdir(parents=True, exist_ok=True)
        import warnings
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="output path for model already exists")
            model = CARE(config, name=model_dir.name, basedir=str(model_dir.parent))
        if not resume:
            _write_json(model_dir / TRAINING_JSON, info)
            hist_path = model_dir / _HISTORY_CSV
            if hist_path.exists():
                hist_path.unlink()

        optimizer = keras.optimizers.Adam(learning_rate=settings["learning_rate"])
        base_loss = custom_loss if custom_loss is not None else (loss_mae() if csb_loss == "mae" else loss_mse())
        model.keras_model.compile(optimizer=optimizer, loss=base_loss, metrics=[loss_mse(), loss_mae()])

        initial_epoch = 0
        if resume:
            initial_epoch = int(state.get("epochs_done", 0))
            model.keras_model.load_weights(str(model_dir / _LAST))
            opt_path = model_dir / _OPTIMIZER_NPZ
            if opt_path.is_file():
                optimizer.build(model.keras_model.trainable_variables)
                with np.load(opt_path) as saved:
                    values = [saved[f"v{i:04d}"] for i in range(len(saved.files))]
                if len(values) == len(optimizer.variables):
                    for var, val in zip(optimizer.variables, values):
                        var.assign(val)

        checkpoint = _make_callbacks(keras, model, model_dir, state, settings["epochs"])
        callbacks = [keras.callbacks.TerminateOnNaN()]
        if config.train_reduce_lr is not None:
            rlr = keras.callbacks.ReduceLROnPlateau(verbose=0, **config.train_reduce_lr)
            if resume and "reduce_lr" in state:
                rs = state["reduce_lr"]
                rlr.wait, rlr.best, rlr.cooldown_counter = rs["wait"], rs["best"], rs["cooldown_counter"]
                rlr._reset = lambda: None  # keep the restored state at train begin
            checkpoint.rlr = rlr
            callbacks.insert(0, rlr)
        callbacks.append(checkpoint)
        if verbose == 2:
            callbacks.append(_epoch_printer(keras, settings["epochs"]))
        callbacks.extend(callbacks_extra)

        epochs = int(settings["epochs"])
        if initial_epoch < epochs:
            batches = _batches(X, Y, settings["batch_size"], seed, initial_epoch, settings["steps_per_epoch"])
            model.keras_model.fit(batches, validation_data=(X_val, Y_val), epochs=epochs,
                                  steps_per_epoch=settings["steps_per_epoch"], initial_epoch=initial_epoch, shuffle=False,
                                  validation_batch_size=settings["batch_size"], callbacks=callbacks,
                                  verbose=1 if verbose == 1 else 0)
        if resume:
            info["settings"]["epochs"] = epochs
            _write_json(model_dir / TRAINING_JSON, info)
        best = model_dir / _BEST
        if best.is_file():
            model.keras_model.load_weights(str(best))
    finally:
        seconds = time.perf_counter() - t0
        random.setstate(py_state)
        np.random.set_state(np_state)
        if not was_deterministic:
            tf_config.disable_op_determinism()

    model.l2l_info = info
    paths = {"history": model_dir / _HISTORY_CSV, "best_weights": model_dir / _BEST,
             "last_weights": model_dir / _LAST, "info": model_dir / TRAINING_JSON}
    return TrainingResult(model=model, history=read_history(model_dir), model_dir=model_dir, paths=paths,
                          seconds=seconds)


_DATA_KEYS = ("patch_size", "n_patches_per_image", "zoom_factors", "augment", "poisson", "validation_split",
              "percentiles")


def train_from_folders(input_dir, target_dirs, model_dir, loss="l1", profile="workshop", seed=0, resume=False,
                       zoom_factors=None, augment=True, poisson=False, validation_split=0.1,
                       percentiles=DEFAULT_PERCENTILES, verbose=None, **overrides):
    """Train a network on folders of image pairs (what ``l2l train`` runs).

    Images are paired by file name (:func:`l2l_helpers.io.load_pairs`),
    turned into patches by :func:`l2l_helpers.prepare.make_training_data`
    and trained on by :func:`train_model`. The data settings are recorded,
    so ``resume=True`` rebuilds exactly the same patches.

    Parameters
    ----------
    input_dir : str or Path
        Folder of input images.
    target_dirs : str or Path or sequence of them
        One target folder (one-channel network) or several (one output
        channel each).
    model_dir : str or Path
        Model folder.
    loss, profile, seed, resume, verbose
        See :func:`train_model`.
    zoom_factors : sequence of float, optional
        Zoom factors (default :data:`l2l_helpers.prepare.ZOOM_FACTORS`).
    augment, poisson, validation_split, percentiles
        See :func:`l2l_helpers.prepare.make_training_data`.
    **overrides
        Profile settings to replace, including ``patch_size`` and
        ``n_patches_per_image``; ``None`` values are ignored.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ImageError
        Missing folders, unpaired files, bad images (named in the message).
    FileExistsError, FileNotFoundError, ValueError
        See :func:`train_model`.

    Examples
    --------
    >>> result = train_from_folders("data/actin/input", "data/actin/benchmark",
    ...                             "models/actin_l2l", profile="quick")  # doctest: +SKIP
    """
    from .io import load_pairs
    from .prepare import ZOOM_FACTORS, make_training_data

    if isinstance(target_dirs, (str, Path)):
        target_dirs = [target_dirs]
    target_dirs = [Path(t) for t in target_dirs]
    if not target_dirs:
        raise ValueError("give at least one target folder")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if resume:
        info = read_training_info(model_dir)
        data = dict(info.get("metadata", {}).get("data", {}))
        if not data:
            raise ValueError(f"{model_dir}: the stored run has no data settings; resume it with train_model")
        for key in ("patch_size", "n_patches_per_image"):
            if key in overrides and overrides[key] != data[key]:
                raise ValueError(f"cannot change {key} when resuming (stored: {data[key]}, given: {overrides[key]})")
            overrides.pop(key, None)
        zoom_factors, augment, poisson = data["zoom_factors"], data["augment"], data["poisson"]
        validation_split, percentiles = data["validation_split"], tuple(data["percentiles"])
        patch_size, n_per_image = data["patch_size"], data["n_patches_per_image"]
        seed = int(info["seed"])
    else:
        settings = profile_settings(profile, **overrides)
        patch_size, n_per_image = settings["patch_size"], settings["n_patches_per_image"]
        overrides.pop("patch_size", None)
        overrides.pop("n_patches_per_image", None)
        zoom_factors = tuple(ZOOM_FACTORS if zoom_factors is None else zoom_factors)
    names, stacks = load_pairs(input_dir, *target_dirs)
    inputs, targets = stacks[0], stacks[1:]
    X, Y, X_val, Y_val = make_training_data(
        inputs, targets if len(targets) > 1 else targets[0], patch_size=patch_size,
        n_patches_per_image=n_per_image, zoom_factors=zoom_factors, augment=augment, poisson=poisson,
        validation_split=validation_split, percentiles=percentiles, names=names, seed=seed)
    data = {"patch_size": int(patch_size), "n_patches_per_image": int(n_per_image),
            "zoom_factors": [float(z) for z in zoom_factors], "augment": bool(augment),
            "poisson": poisson if isinstance(poisson, bool) else float(poisson),
            "validation_split": float(validation_split), "percentiles": [float(p) for p in percentiles],
            "input_dir": str(input_dir), "target_dirs": [str(t) for t in target_dirs], "images": names}
    return train_model(X, Y, X_val, Y_val, model_dir, loss=loss, profile=profile, seed=seed, resume=resume,
                       percentiles=percentiles, input_name=Path(input_dir).name,
                       target_names=[t.name for t in target_dirs], metadata={"data": data}, verbose=verbose,
                       **overrides)


def _version():
    from . import __version__

    return __version__


def load_model(model_dir, weights="best"):
    """Load a trained network and how it was trained.

    Parameters
    ----------
    model_dir : str or Path
        Folder written by :func:`train_model` (or ``l2l train``).
    weights : {"best", "last"}
        Which weights to load.

    Returns
    -------
    csbdeep.models.CARE
        The network; ``model.l2l_info`` is the training record
        (``l2l_training.json``: loss, profile, seed, percentiles, target
        names, ...).

    Raises
    ------
    FileNotFoundError
        If the folder does not exist, is not a label2label model folder, or
        has no weights.

    Examples
    --------
    >>> model = load_model("models/actin_l2l")  # doctest: +SKIP
    >>> model.l2l_info["loss"]  # doctest: +SKIP
    'l1'
    """
    import contextlib
    import io as _io
    import warnings

    model_dir = Path(model_dir)
    info = read_training_info(model_dir)
    if not (model_dir / "config.json").is_file():
        raise FileNotFoundError(f"{model_dir}: not a model folder (no config.json)")
    if weights not in ("best", "last"):
        raise ValueError(f"weights must be 'best' or 'last', got {weights!r}")
    wfile = model_dir / (_BEST if weights == "best" else _LAST)
    if not wfile.is_file():
        wfile = model_dir / _LAST
    if not wfile.is_file():
        raise FileNotFoundError(f"{model_dir}: no weights ({_BEST} / {_LAST}); was the training interrupted "
                                "before its first epoch?")
    from csbdeep.models import CARE

    with warnings.catch_warnings(), contextlib.redirect_stdout(_io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            model = CARE(None, name=model_dir.name, basedir=str(model_dir.parent))
        except Exception as exc:  # noqa: BLE001 - corrupt config
            raise ImageError(f"{model_dir}: cannot load the network ({type(exc).__name__}: {exc})") from exc
    model.keras_model.load_weights(str(wfile))
    model.l2l_info = info
    return model
