"""Run profiles, the typed CARE training settings, and where results go.

Every notebook and every long command has three profiles:

``quick``
    for tests and CI: the smallest network and the shortest training that
    still show each behaviour;
``workshop``
    the default in the notebooks: a few minutes per training on a laptop CPU
    or on Binder;
``paper``
    the paper's settings, meant for a GPU.

Notebooks read the profile from the environment variable ``L2L_PROFILE``
(the test command sets it to ``quick``), and write their results below
``L2L_RESULTS_DIR`` (default: ``results`` beside the notebook).

The settings of a CARE training are a :class:`CARESettings` (a frozen,
checked :class:`l2l_helpers.settings.Settings`). :data:`PROFILES` is the one
source of the profile names (its keys, in the order quick, workshop, paper)
and of each profile's settings; :func:`care_settings` returns them with some
settings overridden, :func:`profile_settings` the same as a plain dict. How
long a training of each profile takes and how well it restores is measured
in ``benchmarks/results.md``. No TensorFlow is imported here.

Examples
--------
>>> care_settings("quick", epochs=2).epochs
2
>>> profile_settings("quick")["patch_size"]
48
"""

from __future__ import annotations

import numbers
import os
import typing
from dataclasses import dataclass
from pathlib import Path

from l2l_helpers.settings import Settings, SettingsError

__all__ = [
    "CARESettings",
    "PROFILES",
    "PATCH_SETTINGS",
    "TRAIN_SETTINGS",
    "INPUT_NORMALIZATIONS",
    "DEFAULT_PROFILE",
    "current_profile",
    "care_settings",
    "profile_settings",
    "care_config",
    "results_dir",
]

#: How the input images of a network can be normalised (see
#: :func:`l2l_helpers.training.prepare.normalize_input`); the first is the default of
#: :func:`l2l_helpers.training.prepare.make_training_data`.
InputNormalization = typing.Literal["percentile", "mean_std"]
INPUT_NORMALIZATIONS = typing.get_args(InputNormalization)
#: Profile of the notebooks when ``L2L_PROFILE`` is unset.
DEFAULT_PROFILE = "workshop"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _convert(name, value, kind):
    """``value`` as ``kind`` (bool, int, float or a tuple of choices), refusing lossy conversions.

    The one place where values from the command line or from JSON ("yes",
    "2", 2.0) become settings: text spellings of switches and numbers are
    read, whole floats are accepted for integers, integers for floats.
    """
    if isinstance(kind, tuple):
        if value not in kind:
            raise SettingsError(f"{name} must be one of {', '.join(kind)}, got {value!r}")
        return value
    if kind is bool:
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1)):
            return bool(value)
        raise SettingsError(f"{name} must be True or False, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SettingsError(f"{name} must be a number, got {value!r}")
    if kind is int:
        if isinstance(value, numbers.Integral) or float(value).is_integer():
            return int(value)
        raise SettingsError(f"{name} must be a whole number, got {value!r}")
    return float(value)


def _setting_value(key, value, default):
    """``value`` as the type of ``default`` (bool, int, float; a name for ``input_normalization``)."""
    if key == "input_normalization":
        kind = INPUT_NORMALIZATIONS
    else:
        kind = bool if isinstance(default, bool) else int if isinstance(default, numbers.Integral) else float
    return _convert(key, value, kind)


@dataclass(frozen=True)
class CARESettings(Settings):
    """Settings of a CARE training: patches, U-Net and optimisation.

    The defaults are the ``workshop`` profile's. Patches
    (:data:`PATCH_SETTINGS`, used by
    :func:`l2l_helpers.training.prepare.make_training_data`): ``patch_size``,
    ``n_patches_per_image`` and ``input_normalization`` (how input images
    are scaled, see :func:`l2l_helpers.training.prepare.normalize_input`).
    Network (CSBDeep's CARE U-Net): ``unet_n_depth``, ``unet_n_first``,
    ``unet_kern_size`` and ``unet_residual`` (it predicts a correction added
    to the input). Training (:func:`l2l_helpers.training.train.train_model`):
    ``epochs``, ``steps_per_epoch``, ``batch_size``, ``learning_rate`` and
    ``flip_rotate`` (every patch drawn for a training step is flipped and
    turned by a random multiple of 90 degrees, input and target alike, see
    :func:`l2l_helpers.training.care.seeded_batches`).

    Examples
    --------
    >>> CARESettings() == PROFILES["workshop"]
    True
    >>> CARESettings(epochs=2.5)
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: epochs must be a whole number, got 2.5
    >>> CARESettings.parse("unet_residual", "yes")
    True

    Text and whole floats ("yes", "2", 2.0) are read by :meth:`parse` and
    :func:`care_settings`; the constructor and ``replace`` take values of the
    settings' types.
    """

    patch_size: int = 64
    n_patches_per_image: int = 64
    unet_n_depth: int = 2
    unet_n_first: int = 16
    unet_kern_size: int = 3
    unet_residual: bool = False
    epochs: int = 20
    steps_per_epoch: int = 20
    batch_size: int = 16
    learning_rate: float = 0.0007
    flip_rotate: bool = True
    input_normalization: InputNormalization = "percentile"

    @classmethod
    def parse(cls, name, value):
        """A value of the setting ``name`` from text or a number ("yes", "2", 2.0), checked.

        Parameters
        ----------
        name : str
            A setting of :class:`CARESettings`.
        value : object
            Text (as given on the command line), a number or a bool.

        Returns
        -------
        object
            The value as the setting's type.

        Raises
        ------
        l2l_helpers.settings.SettingsError
            Unknown setting, or a value that does not fit it (the message
            names both). A ``ValueError``.

        Examples
        --------
        >>> CARESettings.parse("epochs", "3"), CARESettings.parse("learning_rate", 1)
        (3, 1.0)
        """
        if name not in cls.names():
            raise SettingsError(f"unknown training setting {name!r}; known: {', '.join(cls.names())}")
        kind = typing.get_type_hints(cls)[name]
        if typing.get_origin(kind) is typing.Literal:
            kind = typing.get_args(kind)
        return _convert(name, value, kind)


#: Settings of the three run profiles; the keys are the profile names.
#:
#: ``quick``
#:     tests and CI: a small residual U-Net (depth 2, 8 first filters, 3x3
#:     kernels, 21k parameters) on 48 px patches, 5 epochs x 40 steps of 16
#:     patches: the smallest network that still shows what the notebooks
#:     check, on slow CPUs too; few long epochs, because each epoch's
#:     validation and checkpoint cost as much as several steps. No
#:     ``flip_rotate`` (the tests' assertions were calibrated without it).
#: ``workshop``
#:     default of the notebooks: depth 2, 16 first filters, 3x3 kernels, no
#:     residual (83k parameters) on 64 px patches, 20 epochs x 20 steps;
#:     patches are flipped and rotated as they are drawn (``flip_rotate``, as
#:     CAREamics does). Inputs are scaled to their percentiles, as in the
#:     paper: standardising them (``input_normalization="mean_std"``) helped
#:     on simulated actin but did worse on real structure, so it is a choice,
#:     not the default. The measurements behind each choice are in
#:     benchmarks/results.md ("Changes tried to the workshop profile",
#:     "Run-to-run spread", "Input normalisation on real structure").
#: ``paper``
#:     the paper's settings: CSBDeep's default U-Net (depth 2, 32 first
#:     filters, 5x5 kernels, residual, 923k parameters), 128 px patches, 100
#:     epochs x 400 steps, batch 16, learning rate 0.0004: use a GPU
#:     (benchmarks/results.md, "Training step per profile").
PROFILES = {
    # each profile written as what it changes in the workshop profile (CARESettings' defaults)
    "quick": CARESettings(
        patch_size=48,
        n_patches_per_image=32,
        unet_n_first=8,
        unet_residual=True,
        epochs=5,
        steps_per_epoch=40,
        learning_rate=0.001,
        flip_rotate=False,
    ),
    "workshop": CARESettings(),
    "paper": CARESettings(
        patch_size=128,
        n_patches_per_image=256,
        unet_n_first=32,
        unet_kern_size=5,
        unet_residual=True,
        epochs=100,
        steps_per_epoch=400,
        learning_rate=0.0004,
        flip_rotate=False,
    ),
}
#: Settings of :class:`CARESettings` used when the patches are made
#: (:func:`l2l_helpers.training.prepare.make_training_data`).
PATCH_SETTINGS = ("patch_size", "n_patches_per_image", "input_normalization")
#: Settings of :class:`CARESettings` used by the training itself
#: (:func:`l2l_helpers.training.train.train_model`): the network and the optimisation.
TRAIN_SETTINGS = tuple(name for name in CARESettings.names() if name not in PATCH_SETTINGS)


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


def _check_profile(profile):
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return profile


def care_settings(profile=DEFAULT_PROFILE, **overrides):
    """Return the settings of a profile, with some of them overridden.

    Parameters
    ----------
    profile : str or CARESettings
        ``"quick"``, ``"workshop"`` or ``"paper"`` (a key of
        :data:`PROFILES`), or settings to start from.
    **overrides
        Settings to replace (names of :class:`CARESettings`); ``None``
        values are ignored, so unset command-line options can be passed
        through. Text is read as on the command line (``"yes"``, ``"2"``);
        whole numbers are required for integer settings (``epochs=2.0`` is
        2, ``epochs=2.7`` is refused); float settings accept integers.

    Returns
    -------
    CARESettings

    Raises
    ------
    ValueError
        Unknown profile, unknown setting, or a value that does not fit the
        setting (the message names both).

    Examples
    --------
    >>> care_settings("quick", epochs="2", unet_residual="no").epochs
    2
    >>> care_settings("quick", epochs=2.7)
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: epochs must be a whole number, got 2.7
    """
    base = profile if isinstance(profile, CARESettings) else PROFILES[_check_profile(profile)]
    changes = {}
    for name, value in overrides.items():
        if value is not None or name not in CARESettings.names():  # an unknown name is refused even if unset
            changes[name] = CARESettings.parse(name, value)
    return base.replace(**changes)


def profile_settings(profile=DEFAULT_PROFILE, **overrides):
    """Return the settings of a profile, with some of them overridden, as a plain dict.

    The dict view of :func:`care_settings` (``care_settings(...).to_dict()``):
    what notebooks print and what sweeps and validations record.

    Parameters
    ----------
    profile : str or CARESettings
        See :func:`care_settings`.
    **overrides
        See :func:`care_settings`.

    Returns
    -------
    dict
        A new dict of settings, in the order of :class:`CARESettings`.

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
    l2l_helpers.settings.SettingsError: epochs must be a whole number, got 2.7
    """
    return care_settings(profile, **overrides).to_dict()


def care_config(settings, n_channels=1, **config):
    """CSBDeep's ``Config`` of the CARE U-Net that a profile's settings describe.

    The one place where the settings ``unet_n_depth``, ``unet_n_first``,
    ``unet_kern_size`` and ``unet_residual`` become a network (training and
    the benchmarks use it). TensorBoard is off: it is not installed with
    TensorFlow.

    Parameters
    ----------
    settings : CARESettings or dict
        Settings of :func:`care_settings` (or their dict view,
        :func:`profile_settings`; other keys are ignored).
    n_channels : int
        Input and output channels.
    **config
        Further ``Config`` arguments, e.g. ``train_loss`` or ``train_epochs``.

    Returns
    -------
    csbdeep.models.Config

    Examples
    --------
    >>> care_config(PROFILES["workshop"]).unet_n_first  # doctest: +SKIP
    16
    """
    from csbdeep.models import Config

    if isinstance(settings, CARESettings):
        settings = settings.to_dict()

    return Config(
        "YX",
        n_channel_in=n_channels,
        n_channel_out=n_channels,
        probabilistic=False,
        unet_n_depth=settings["unet_n_depth"],
        unet_n_first=settings["unet_n_first"],
        unet_kern_size=settings["unet_kern_size"],
        unet_residual=settings["unet_residual"],
        train_tensorboard=False,
        **config,
    )


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
    path = base / _check_profile(current_profile() if profile is None else profile) / name
    path.mkdir(parents=True, exist_ok=True)
    return path
