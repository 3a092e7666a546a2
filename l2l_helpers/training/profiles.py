"""Run profiles and where results go.

Every notebook and every long command has three profiles:

``quick``
    for tests and CI: seconds to about a minute per step on 2 CPU cores;
``workshop``
    the default in the notebooks: a few minutes per training on a laptop CPU
    or on Binder;
``paper``
    the paper's settings, meant for a GPU.

Notebooks read the profile from the environment variable ``L2L_PROFILE``
(the test command sets it to ``quick``), and write their results below
``L2L_RESULTS_DIR`` (default: ``results`` beside the notebook).

:data:`PROFILES` is the one source of the profile names (its keys, in the
order quick, workshop, paper) and of each profile's training settings;
:func:`profile_settings` returns them with some settings overridden. No
TensorFlow is imported here.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path

__all__ = ["PROFILES", "PATCH_SETTINGS", "DEFAULT_PROFILE", "current_profile", "profile_settings", "results_dir"]

#: Training settings of the three run profiles; the keys are the profile
#: names. Settings: ``patch_size`` and ``n_patches_per_image`` (data
#: preparation, see :func:`l2l_helpers.training.prepare.make_training_data`),
#: ``input_normalization`` (also data preparation: how input images are
#: scaled, ``"percentile"`` or ``"mean_std"``, see
#: :func:`l2l_helpers.training.prepare.normalize_input`),
#: ``unet_n_depth``, ``unet_n_first``, ``unet_kern_size``, ``unet_residual``
#: (the CARE U-Net; residual: it predicts a correction added to the input),
#: ``epochs``, ``steps_per_epoch``, ``batch_size``, ``learning_rate`` and
#: ``flip_rotate`` (every time a patch is drawn for a training step it is
#: flipped and turned by a random multiple of 90 degrees, the same for input
#: and target: see :func:`l2l_helpers.training.care.seeded_batches`).
#:
#: ``quick``
#:     tests and CI: a small residual U-Net (depth 2, 16 first filters, 3x3
#:     kernels, 83k parameters) on 48 px patches, 10 epochs x 20 steps of 16
#:     patches. Measured on 2 shared CPU cores (benchmarks/bench_train.py):
#:     0.036 s per step; a whole training on 8 simulated actin cells 26 s
#:     (graph building, validation and checkpoints included), validation L1
#:     loss 0.092 -> 0.028. No ``flip_rotate`` (the tests' assertions were
#:     calibrated without it).
#: ``workshop``
#:     default of the notebooks: depth 2, 16 first filters, 3x3 kernels, no
#:     residual (83k parameters) on 64 px patches, 20 epochs x 20 steps.
#:     Chosen by measurement (benchmarks/results.md, "Changes tried"): on
#:     held-out simulated cells it matches or beats the earlier workshop
#:     network (32 first filters, residual, 333k parameters) at the same
#:     400 steps - SSIM against the truth 0.797 against 0.779 on actin, 0.980
#:     against 0.963 on caveolae - in about 35 s instead of 95 s per
#:     training on 2 cores. Patches are flipped and rotated as they are
#:     drawn (``flip_rotate``, as CAREamics does): in the same minute of
#:     training it raised the SSIM against the truth on held-out actin from
#:     0.786 to 0.812 (benchmarks/results.md, "Changes tried"; 0.800-0.829
#:     over three training seeds, "Run-to-run spread"). Inputs are scaled
#:     to their percentiles, as in the paper. Standardising them instead
#:     (``input_normalization="mean_std"``) gave 0.837-0.842 over the same
#:     seeds on simulated actin, but on real structure it did worse: on
#:     notebook 09's real actin image PSNR 22.7 against 29.0 dB (the
#:     input: 22.4 dB) and more than twice the background left, means over
#:     three seeds ("Input normalisation on real structure"), and on
#:     notebook 06's real cell it did not separate the labels (its exercise
#:     4). So it stays a choice, not the default.
#: ``paper``
#:     the paper's settings: CSBDeep's default U-Net (depth 2, 32 first
#:     filters, 5x5 kernels, residual, 923k parameters), 128 px patches, 100
#:     epochs x 400 steps, batch 16, learning rate 0.0004. Measured: 1.8 s
#:     per step on this CPU, i.e. about 20 hours per training: use a GPU.
#:
#: Peak memory of a training process: about 0.75 GB (quick), 0.8 GB
#: (workshop), 1.25 GB (paper).
PROFILES = {
    "quick": dict(
        patch_size=48,
        n_patches_per_image=32,
        unet_n_depth=2,
        unet_n_first=16,
        unet_kern_size=3,
        unet_residual=True,
        epochs=10,
        steps_per_epoch=20,
        batch_size=16,
        learning_rate=0.001,
        flip_rotate=False,
        input_normalization="percentile",
    ),
    "workshop": dict(
        patch_size=64,
        n_patches_per_image=64,
        unet_n_depth=2,
        unet_n_first=16,
        unet_kern_size=3,
        unet_residual=False,
        epochs=20,
        steps_per_epoch=20,
        batch_size=16,
        learning_rate=0.0007,
        flip_rotate=True,
        input_normalization="percentile",
    ),
    "paper": dict(
        patch_size=128,
        n_patches_per_image=256,
        unet_n_depth=2,
        unet_n_first=32,
        unet_kern_size=5,
        unet_residual=True,
        epochs=100,
        steps_per_epoch=400,
        batch_size=16,
        learning_rate=0.0004,
        flip_rotate=False,
        input_normalization="percentile",
    ),
}
#: Settings of :data:`PROFILES` used when the patches are made
#: (:func:`l2l_helpers.training.prepare.make_training_data`); the others are
#: settings of the training (:func:`l2l_helpers.training.train.train_model`).
PATCH_SETTINGS = ("patch_size", "n_patches_per_image", "input_normalization")
#: How the input images of a network can be normalised (see
#: :func:`l2l_helpers.training.prepare.normalize_input`); the first is the default of
#: :func:`l2l_helpers.training.prepare.make_training_data`.
INPUT_NORMALIZATIONS = ("percentile", "mean_std")
#: Settings that take one of a few names, and their choices.
_CHOICES = {"input_normalization": INPUT_NORMALIZATIONS}
#: Profile of the notebooks when ``L2L_PROFILE`` is unset.
DEFAULT_PROFILE = "workshop"


def current_profile(default=DEFAULT_PROFILE):
    """Return the run profile chosen by the environment variable ``L2L_PROFILE``.

    Parameters
    ----------
    default : str
        Profile used when the variable is unset or empty.

    Returns
    -------
    str
        One of ``"quick"``, ``"workshop"``, ``"paper"``.

    Raises
    ------
    ValueError
        If the variable names an unknown profile.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"L2L_PROFILE": "quick"}):  # restores the environment after
    ...     current_profile()
    'quick'
    """
    value = os.environ.get("L2L_PROFILE", "").strip().lower() or default
    if value not in PROFILES:
        raise ValueError(f"L2L_PROFILE={value!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _setting_value(key, value, default):
    """``value`` as the type of ``default`` (bool, int, float or a name), refusing lossy conversions."""
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise ValueError(f"{key} must be one of {', '.join(_CHOICES[key])}, got {value!r}")
        return value
    if isinstance(default, bool):
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise ValueError(f"{key} must be True or False, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if isinstance(default, numbers.Integral):
        if isinstance(value, numbers.Integral):
            return int(value)
        if float(value).is_integer():
            return int(value)
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return float(value)


def profile_settings(profile=DEFAULT_PROFILE, **overrides):
    """Return the settings of a profile, with some of them overridden.

    Parameters
    ----------
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"`` (a key of :data:`PROFILES`).
    **overrides
        Settings to replace (keys of the profile); ``None`` values are
        ignored, so unset command-line options can be passed through. Whole
        numbers are required for integer settings (``epochs=2.0`` is 2,
        ``epochs=2.7`` is refused); float settings accept integers.

    Returns
    -------
    dict
        A new dict of settings.

    Raises
    ------
    ValueError
        Unknown profile, unknown setting, or a value that does not fit the
        setting (the message names both).

    Examples
    --------
    >>> profile_settings("quick", epochs=2)["epochs"]
    2
    >>> profile_settings("quick", learning_rate=1)["learning_rate"]
    1.0
    >>> profile_settings("quick", epochs=2.7)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be a whole number, got 2.7
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    settings = dict(PROFILES[profile])
    for key, value in overrides.items():
        if key not in settings:
            raise ValueError(f"unknown training setting {key!r}; known: {', '.join(settings)}")
        if value is not None:
            settings[key] = _setting_value(key, value, settings[key])
    return settings


def results_dir(name, root=None, profile=None):
    """Return (and create) the folder where a notebook or command saves results.

    Parameters
    ----------
    name : str
        Sub-folder, usually the notebook's name, e.g. ``"03_n2n_vs_l2l"``.
    root : str or Path, optional
        Base folder. Default: ``L2L_RESULTS_DIR`` if set, else ``results``
        in the current folder.
    profile : str, optional
        Profile whose results these are (default :func:`current_profile`).
        Each profile has its own sub-folder, so a quick run never reads or
        mixes with the files of a workshop run.

    Returns
    -------
    Path
        The folder, created if needed.

    Examples
    --------
    >>> results_dir("03_n2n_vs_l2l")  # doctest: +SKIP
    PosixPath('results/workshop/03_n2n_vs_l2l')
    """
    base = Path(root if root is not None else os.environ.get("L2L_RESULTS_DIR", "results"))
    profile = current_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = base / profile / name
    path.mkdir(parents=True, exist_ok=True)
    return path
