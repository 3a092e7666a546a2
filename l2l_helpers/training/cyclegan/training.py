"""Training a CycleGAN on two lists of unpaired images (:func:`train_cyclegan`).

The training follows the reference (junyanz/pytorch-CycleGAN-and-pix2pix,
``models/cycle_gan_model.py``): each step updates the generators first,
then the discriminators on the generators' outputs passed through the image
pools; Adam's learning rate is constant for ``n_epochs`` epochs and then
decays linearly towards zero over ``n_epochs_decay`` epochs
(:func:`learning_rate_factor`). Everything is saved after every epoch, so
``resume=True`` continues an interrupted run from its last finished epoch,
exactly as if it had not stopped (on the CPU).

TensorFlow is imported when a training starts.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.settings import SCHEMA_VERSION
from l2l_helpers.training.cyclegan.data import ImagePool, _check_images, _CropSampler, to_model_range
from l2l_helpers.training.cyclegan.model_folder import HISTORY_COLUMNS, CycleGANRecord
from l2l_helpers.training.cyclegan.restorer import CycleGANRestorer
from l2l_helpers.training.cyclegan.settings import CycleGANSettings, profile_cyclegan_settings, profile_name
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES
from l2l_helpers.training.profiles import DEFAULT_PROFILE
from l2l_helpers.training.record import OPTIMIZER_NPZ, TRAINING_JSON

__all__ = ["learning_rate_factor", "CycleGANResult", "train_cyclegan"]

#: The settings a resumed run may change.
RESUMABLE_SETTINGS = ("n_epochs", "n_epochs_decay")


def learning_rate_factor(epoch, n_epochs, n_epochs_decay):
    """Factor of the initial learning rate in an epoch (the reference's ``lambda_rule``).

    ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``: constant 1
    for the first ``n_epochs`` epochs, then linearly down towards zero over
    ``n_epochs_decay`` epochs (the last epoch gets ``1 / (n_epochs_decay +
    1)``).

    Parameters
    ----------
    epoch : int
        Epoch, counted from 0.
    n_epochs : int
        Epochs at the initial learning rate.
    n_epochs_decay : int
        Epochs of decay after them.

    Returns
    -------
    float

    Examples
    --------
    >>> [round(learning_rate_factor(e, 2, 3), 2) for e in range(5)]
    [1.0, 1.0, 0.75, 0.5, 0.25]
    """
    return 1.0 - max(0, int(epoch) + 1 - int(n_epochs)) / float(int(n_epochs_decay) + 1)


@dataclass
class CycleGANResult:
    """What :func:`train_cyclegan` returns.

    Attributes
    ----------
    restorer : CycleGANRestorer
        ``G_AB`` (input -> target) as a restorer.
    networks : dict of keras.Model
        ``G_AB``, ``G_BA``, ``D_A``, ``D_B`` after the last epoch.
    history : dict of list
        Per-epoch losses (:data:`HISTORY_COLUMNS`), including epochs of
        earlier runs when resumed.
    model_dir : Path
        The model folder.
    paths : dict of Path
        ``history``, ``info`` and the weight file of every network.
    seconds : float
        Wall time of this call's training.

    Examples
    --------
    >>> result = train_cyclegan(inputs, targets, "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    >>> result.history["epoch"]  # doctest: +SKIP
    [1, 2, 3]
    """

    restorer: object
    networks: dict
    history: dict
    model_dir: Path
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _TrainingData:
    """What a training draws from: crops of both domains, the image pools and their random generators."""

    net_seq: np.random.SeedSequence
    rng: np.random.Generator
    sampler_A: _CropSampler
    sampler_B: _CropSampler
    pools: dict
    steps: int

    @classmethod
    def prepare(cls, inputs, targets, settings, info):
        """Images in [-1, 1], samplers and pools seeded from the recorded seed; steps per epoch."""
        percentiles, sigma = tuple(info["percentiles"]), info.get("prefilter_sigma")
        A = [to_model_range(img, percentiles, sigma) for img in inputs]
        B = [to_model_range(img, percentiles, sigma) for img in targets]
        net_seq, data_seq, pool_a_seq, pool_b_seq = np.random.SeedSequence(int(info["seed"])).spawn(4)
        rng = np.random.default_rng(data_seq)
        sampler_A = _CropSampler(A, settings.crop_size, rng)
        sampler_B = _CropSampler(B, settings.crop_size, rng)
        pools = {
            "A": ImagePool(settings.pool_size, np.random.default_rng(pool_a_seq)),
            "B": ImagePool(settings.pool_size, np.random.default_rng(pool_b_seq)),
        }
        steps = int(settings.steps_per_epoch) or math.ceil(
            max(sampler_A.n_tiles(), sampler_B.n_tiles()) / settings.batch_size
        )
        return cls(net_seq, rng, sampler_A, sampler_B, pools, steps)

    def state(self, epochs_done):
        """The resume state after ``epochs_done`` epochs (``l2l_state.json``)."""
        return {
            "epochs_done": epochs_done,
            "data_rng": self.rng.bit_generator.state,
            "pools_rng": {k: p.rng.bit_generator.state for k, p in self.pools.items()},
        }


def train_cyclegan(
    inputs,
    targets,
    model_dir,
    profile=DEFAULT_PROFILE,
    seed=0,
    resume=False,
    prefilter_sigma=None,
    progress=True,
    overwrite=False,
    percentiles=DEFAULT_PERCENTILES,
    input_name="input",
    target_name="target",
    metadata=None,
    callbacks=None,
    **overrides,
):
    """Train (or resume training) a CycleGAN on two unpaired sets of images.

    Every image is normalised by percentiles and mapped to [-1, 1]
    (:func:`to_model_range`); each step draws ``batch_size`` random crops
    (random horizontal flips) of random inputs and as many of random
    targets, with a NumPy generator seeded by ``seed``. Each step updates the
    generators first (adversarial, cycle and identity losses), then the
    discriminators on the generators' outputs of that step passed through
    the image pools, as the reference does. After every epoch the four
    networks, both optimizers, the pools, the random generators' states,
    the history and the record are saved in ``model_dir``.

    Parameters
    ----------
    inputs : sequence of 2-D array_like
        Images of the input domain A (e.g. the low-contrast label).
    targets : sequence of 2-D array_like
        Images of the target domain B (e.g. the high-contrast label); need
        not show the same cells, nor be as many as the inputs.
    model_dir : str or Path
        Model folder (created). A folder that already holds a model is
        refused unless ``resume`` or ``overwrite``; one holding a file that
        no CycleGAN training writes (e.g. a CARE model) is refused before
        anything is written.
    profile : str or CycleGANSettings
        ``"quick"``, ``"workshop"`` or ``"paper"`` (:data:`CYCLEGAN_PROFILES`),
        or settings (recorded with the name of the profile they equal, if
        any, else ``None``).
    seed : int
        Seed of the initial weights, the crops and the pools: the same seed
        on the same images gives identical weights on the CPU.
    resume : bool
        Continue an interrupted run in ``model_dir`` from its last finished
        epoch, with its stored settings, seed and random states: the result
        is the same as that of an uninterrupted run. ``n_epochs`` and
        ``n_epochs_decay`` may be changed (e.g. raised to train longer); the
        images must be the same.
    prefilter_sigma : float, optional
        Smooth every training image (inputs and targets) with a Gaussian of
        this standard deviation (pixels) before normalising; recorded, and
        applied again by :class:`CycleGANRestorer`.
    progress : bool
        Show a progress bar over the steps.
    overwrite : bool
        Replace a CycleGAN already in ``model_dir`` (its files are deleted
        first). Ignored when resuming.
    percentiles : tuple of float
        Normalisation percentiles (recorded; used again when restoring).
    input_name, target_name : str
        Names of the two domains (e.g. folder names; recorded).
    metadata : dict, optional
        Anything else to record (JSON-serialisable).
    callbacks : sequence of callable, optional
        Called as ``callback(epoch, logs)`` (epoch counted from 1, logs the
        epoch's history row) after the epoch has been saved; one that
        raises stops the run and leaves it resumable.
    **overrides
        Settings replacing the profile's (:func:`cyclegan_settings`), e.g.
        ``n_epochs``, ``n_epochs_decay``, ``steps_per_epoch``, ``crop_size``,
        ``batch_size``, ``gen_n_blocks``, ``gen_n_first``. With
        ``steps_per_epoch=0`` an epoch is one pass over the larger set of
        images counted in crop-sized tiles: ``ceil(max(tiles_A, tiles_B) /
        batch_size)`` steps, where an image holds ``(y // crop) * (x //
        crop)`` tiles (at least 1).

    Returns
    -------
    CycleGANResult
        Restorer (``G_AB``), networks, history, paths, wall time.

    Raises
    ------
    ValueError
        No images, bad settings or profile; when resuming, settings other
        than the epochs changed, or other images.
    ImageError
        An image that is not 2-D, constant or not finite (named by its
        index).
    FileExistsError
        ``model_dir`` holds a model and neither ``resume`` nor
        ``overwrite`` is set, or holds files that are not a CycleGAN's.
    FileNotFoundError
        ``resume`` without a finished epoch in ``model_dir``.
    ModelError
        ``resume`` on a folder that is not a CycleGAN model folder.

    Examples
    --------
    >>> result = train_cyclegan(inputs, targets, "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    >>> result.restorer.restore(inputs[0]).shape  # doctest: +SKIP
    (256, 256)
    """
    inputs = _check_images(inputs, "inputs")
    targets = _check_images(targets, "targets")
    record = CycleGANRecord(model_dir)
    data_info = _data_info(inputs, targets)
    if resume:
        settings, info = _resumed_run(record, data_info, prefilter_sigma, overrides)
    else:
        settings = profile_cyclegan_settings(profile, **overrides)
        prefilter_sigma = _checked_arguments(seed, prefilter_sigma, percentiles)
        _check_folder_is_free(record, overwrite)
        names = {"input_name": str(input_name), "target_name": str(target_name)}
        info = _new_info(settings, profile, seed, percentiles, prefilter_sigma, names, data_info, metadata)
    data = _TrainingData.prepare(inputs, targets, settings, info)
    if not resume:
        record.clear()  # overwrite: nothing of an earlier run is left stale
    gan, seconds = _train(record, settings, info, data, resume, progress, callbacks)
    return CycleGANResult(
        restorer=CycleGANRestorer(gan.nets["G_AB"], info, name=record.model_dir.name),
        networks=dict(gan.nets),
        history=record.read_history(),
        model_dir=record.model_dir,
        paths=record.paths,
        seconds=seconds,
    )


def _train(record, settings, info, data, resume, progress, callbacks):
    """Build (or load) the networks in a seeded block and train the remaining epochs; the model and the seconds."""
    from l2l_helpers.training.cyclegan.model import CycleGANModel
    from l2l_helpers.training.seeding import seeded

    t0 = time.perf_counter()
    with seeded(int(info["seed"]), deterministic=True, clear_session=True):
        gan = CycleGANModel(settings, data.net_seq)
        if resume:
            start, history = _load_checkpoint(record, gan, data)
        else:
            _write_first_info(record, info)
            start, history = 0, []
        clock = (t0, float(info.get("seconds") or 0.0))
        _train_epochs(record, gan, data, settings, info, history, start, clock, progress, callbacks)
        if resume and info["settings"] != settings.to_dict():
            info["settings"] = settings.to_dict()
            record.write_info(info)
    return gan, time.perf_counter() - t0


def _data_info(inputs, targets):
    """How many images of which shapes a run trains on (recorded, and compared when resuming)."""
    return {
        "n_inputs": len(inputs),
        "n_targets": len(targets),
        "input_shapes": [list(img.shape) for img in inputs],
        "target_shapes": [list(img.shape) for img in targets],
    }


def _resumed_run(record, data_info, prefilter_sigma, overrides):
    """The settings and record of the run in ``record``'s folder, after checking that it can be resumed so."""
    info = record.read_method_info()
    record.check_resumable()
    settings = _resumed_settings(CycleGANSettings.from_dict(info["settings"]), overrides)
    stored = info.get("data", {})
    for key in ("input_shapes", "target_shapes"):
        if stored.get(key) is not None and stored[key] != data_info[key]:
            raise ValueError(
                f"{record.model_dir}: the {key.split('_')[0]} images differ from those of the stored "
                f"run ({len(stored[key])} images of shapes {_shapes(stored[key])}, given "
                f"{len(data_info[key])} of shapes {_shapes(data_info[key])}); resume with the "
                "same images"
            )
    if prefilter_sigma is not None and float(prefilter_sigma) != (info.get("prefilter_sigma") or 0.0):
        raise ValueError(
            f"cannot change prefilter_sigma when resuming (stored: {info.get('prefilter_sigma')}, "
            f"given: {prefilter_sigma})"
        )
    return settings, info


def _resumed_settings(stored, overrides):
    """``stored`` with the overrides; only :data:`RESUMABLE_SETTINGS` may differ from the stored ones."""
    given = stored.replace(**overrides)  # unknown or wrong-typed settings are refused, named
    for key in stored.names():
        if key not in RESUMABLE_SETTINGS and getattr(given, key) != getattr(stored, key):
            raise ValueError(
                f"cannot change {key!r} when resuming (stored: {getattr(stored, key)!r}, given: "
                f"{overrides[key]!r}); only n_epochs and n_epochs_decay may change"
            )
    return given


def _shapes(shapes):
    unique = sorted({tuple(s) for s in shapes})
    return ", ".join("x".join(map(str, s)) for s in unique[:3]) + (" ..." if len(unique) > 3 else "")


def _checked_arguments(seed, prefilter_sigma, percentiles):
    """Refuse a seed, pre-filter or percentiles that cannot work; the pre-filter as a float or None."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if prefilter_sigma is not None and not float(prefilter_sigma) >= 0:
        raise ValueError(f"prefilter_sigma must not be negative, got {prefilter_sigma}")
    if not (0 <= percentiles[0] < percentiles[1] <= 100):
        raise ValueError(f"percentiles must satisfy 0 <= pmin < pmax <= 100, got {percentiles}")
    return float(prefilter_sigma) if prefilter_sigma else None


def _check_folder_is_free(record, overwrite):
    """Refuse a folder holding another model, files no CycleGAN writes, or (unless ``overwrite``) a CycleGAN."""
    model_dir = record.model_dir
    if record.path("info").is_file():
        try:
            other = record.read_info().get("method")
        except ModelError:
            other = "unreadable"
        if other != "cyclegan":
            raise FileExistsError(
                f"{model_dir}: holds another model ({TRAINING_JSON} of "
                f"{other or 'a CARE network'}); choose another folder"
            )
    foreign = record.foreign_files()
    if foreign:
        raise FileExistsError(
            f"{model_dir}: holds {', '.join(foreign)}, which no CycleGAN training writes; "
            "a model folder holds only its model's files: move them, or choose another folder"
        )
    if record.holds_model() and not overwrite:
        raise FileExistsError(
            f"{model_dir}: already holds a model; choose another folder, continue it "
            "(resume=True, l2l train --resume) or replace it (overwrite=True)"
        )


def _new_info(settings, profile, seed, percentiles, prefilter_sigma, names, data_info, metadata):
    """The record (``l2l_training.json``) of a new run, before its first epoch."""
    input_name, target_name = names["input_name"], names["target_name"]
    return {
        "schema_version": SCHEMA_VERSION,
        "method": "cyclegan",
        "l2l_version": None,
        "versions": None,
        "profile": profile if isinstance(profile, str) else profile_name(profile),
        "seed": int(seed),
        "settings": settings.to_dict(),
        "percentiles": [float(p) for p in percentiles],
        "prefilter_sigma": prefilter_sigma,
        **names,
        "generators": {"G_AB": f"{input_name} -> {target_name}", "G_BA": f"{target_name} -> {input_name}"},
        "data": data_info,
        "metadata": metadata or {},
        "epochs_done": 0,
        "seconds": 0.0,
    }


def _versions():
    import keras
    import tensorflow as tf

    from l2l_helpers import __version__

    return {
        "l2l_helpers": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _write_first_info(record, info):
    """Record the library versions and write the record of a new run."""
    info["versions"] = _versions()
    info["l2l_version"] = info["versions"]["l2l_helpers"]
    record.write_info(info)


def _load_checkpoint(record, gan, data):
    """Load the networks, optimizers, pools and random states of the last finished epoch.

    Returns the epochs done and the history rows so far.
    """
    model_dir = record.model_dir
    state = record.read_state()
    gan.load_weights(model_dir)
    if not record.load_optimizer(gan.optimizers, None):
        raise ModelError(f"{model_dir}: {OPTIMIZER_NPZ} is missing or does not fit the networks")
    record.load_pools(data.pools, state["pools_rng"])
    data.rng.bit_generator.state = state["data_rng"]
    start = int(state["epochs_done"])
    record.truncate_history(start)
    old = record.read_history()
    return start, [{k: old[k][i] for k in old} for i in range(len(old.get("epoch", [])))]


def _train_epochs(record, gan, data, settings, info, history, start, clock, progress, callbacks):
    """Train epochs ``start`` to the last, saving a checkpoint and calling the callbacks after each."""
    from l2l_helpers.course.progress import progress as tqdm

    total = settings.total_epochs
    bar = tqdm(total=max(0, total - start) * data.steps, desc="CycleGAN", unit="step", disable=not progress, leave=True)
    try:
        for epoch in range(start, total):
            row = _train_epoch(gan, data, settings, epoch, bar, quiet_first_step=epoch == start)
            history.append(row)
            _save_checkpoint(record, gan, data, info, history, epoch + 1, clock)
            for callback in callbacks or ():
                callback(epoch + 1, dict(row))
    finally:
        bar.close()


def _train_epoch(gan, data, settings, epoch, bar, quiet_first_step):
    """One epoch of ``data.steps`` steps at the schedule's learning rate; its history row."""
    from l2l_helpers.course._quiet_tf import filtered_stderr

    t_epoch = time.perf_counter()
    lr = settings.learning_rate * learning_rate_factor(epoch, settings.n_epochs, settings.n_epochs_decay)
    gan.set_learning_rate(lr)
    sums = {}
    for step in range(data.steps):
        # the first step builds the graphs: hide TensorFlow's C++ notices of that (_quiet_tf)
        quiet = filtered_stderr() if quiet_first_step and step == 0 else contextlib.nullcontext()
        losses = _train_step(gan, data, settings.batch_size, quiet)
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + float(value)
        bar.update(1)
        bar.set_postfix_str(
            f"epoch {epoch + 1}/{settings.total_epochs} G {float(losses['G']):.3f} "
            f"D_A {float(losses['D_A']):.3f} D_B {float(losses['D_B']):.3f}"
        )
    return {
        "epoch": epoch + 1,
        "lr": lr,
        **{k: v / data.steps for k, v in sums.items()},
        "seconds": time.perf_counter() - t_epoch,
    }


def _train_step(gan, data, batch, quiet):
    """Update the generators on one batch of crops, then the discriminators on the pooled fakes; the losses."""
    real_A, real_B = data.sampler_A.sample(batch), data.sampler_B.sample(batch)
    with quiet:
        fake_A, fake_B, g_losses = gan.g_step(real_A, real_B)
        pooled_B = data.pools["B"].query(fake_B.numpy())
        pooled_A = data.pools["A"].query(fake_A.numpy())
        d_losses = gan.d_step(real_A, real_B, pooled_A, pooled_B)
    return {**g_losses, **d_losses}


def _save_checkpoint(record, gan, data, info, history, epochs_done, clock):
    """Save networks, optimizers, pools, history and record, then the state that says the epoch is done."""
    t0, seconds_before = clock
    gan.save_weights(record.model_dir)
    record.save_optimizer(gan.optimizers)
    record.save_pools(data.pools)
    record.write_history(history, HISTORY_COLUMNS)
    info["epochs_done"] = epochs_done
    info["seconds"] = seconds_before + time.perf_counter() - t0
    record.write_info(info)
    CycleGANRestorer(gan.nets["G_AB"], info, name=record.model_dir.name).save(record.model_dir)
    record.write_state(data.state(epochs_done))
