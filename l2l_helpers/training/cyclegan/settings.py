"""Settings of a CycleGAN training: :class:`CycleGANSettings` and the three profiles.

No TensorFlow is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass

from l2l_helpers.settings import Settings, SettingsError
from l2l_helpers.training.profiles import DEFAULT_PROFILE

__all__ = [
    "MIN_SIZE",
    "CycleGANSettings",
    "CYCLEGAN_PROFILES",
    "profile_cyclegan_settings",
    "profile_name",
    "cyclegan_settings",
]

#: Smallest image size fed to a generator (reflection padding at 1/4 resolution).
MIN_SIZE = 16


@dataclass(frozen=True)
class CycleGANSettings(Settings):
    """How a CycleGAN is built and trained (the defaults are the ``workshop`` profile's).

    Parameters
    ----------
    crop_size : int
        Side of the random crops (pixels): a multiple of 4, at least 16.
    batch_size : int
        Crops of each domain per step.
    gen_n_blocks, gen_n_first : int
        Residual blocks and first filters of the ResNet generators.
    disc_n_first, disc_n_layers : int
        First filters and stride-2 layers of the PatchGAN discriminators.
    n_epochs : int
        Epochs at the initial learning rate.
    n_epochs_decay : int
        Epochs of linear decay after them (in all ``n_epochs +
        n_epochs_decay`` epochs, at least 1).
    steps_per_epoch : int
        Steps of an epoch; 0: one pass over the larger set of images,
        counted in crop-sized tiles (see
        :func:`~l2l_helpers.training.cyclegan.train_cyclegan`).
    learning_rate, beta_1 : float
        Adam's initial learning rate and ``beta_1`` (in [0, 1)).
    lambda_cycle : float
        Weight of the cycle loss.
    lambda_identity : float
        Weight of the identity loss, as a fraction of ``lambda_cycle``.
    pool_size : int
        Generated images kept for the discriminators (:class:`ImagePool`).
    init_gain : float
        Standard deviation of the initial weights.

    Raises
    ------
    l2l_helpers.settings.SettingsError
        A value of the wrong type, or settings that cannot work (no epochs,
        a crop size that is not a multiple of 4 or below 16, ...), named.

    Examples
    --------
    >>> CycleGANSettings().replace(n_epochs=1).n_epochs
    1
    >>> CycleGANSettings(crop_size=30)
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: crop_size must be a multiple of 4 and at least 16, got 30
    """

    crop_size: int = 48
    batch_size: int = 4
    gen_n_blocks: int = 4
    gen_n_first: int = 16
    disc_n_first: int = 16
    disc_n_layers: int = 3
    n_epochs: int = 3
    n_epochs_decay: int = 3
    steps_per_epoch: int = 50
    learning_rate: float = 0.0002
    beta_1: float = 0.5
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    init_gain: float = 0.0005

    def __post_init__(self):
        super().__post_init__()
        _check_ranges(self)

    @property
    def total_epochs(self):
        """``n_epochs + n_epochs_decay``."""
        return self.n_epochs + self.n_epochs_decay


def _check_ranges(s):
    """Raise :class:`SettingsError` for settings that have the right types but cannot work."""
    if s.crop_size % 4 or s.crop_size < MIN_SIZE:
        raise SettingsError(f"crop_size must be a multiple of 4 and at least {MIN_SIZE}, got {s.crop_size}")
    for key in ("batch_size", "gen_n_first", "disc_n_first", "disc_n_layers"):
        if getattr(s, key) < 1:
            raise SettingsError(f"{key} must be at least 1, got {getattr(s, key)}")
    for key in ("gen_n_blocks", "n_epochs", "n_epochs_decay", "steps_per_epoch", "pool_size"):
        if getattr(s, key) < 0:
            raise SettingsError(f"{key} must not be negative, got {getattr(s, key)}")
    if s.total_epochs < 1:
        raise SettingsError("n_epochs + n_epochs_decay must be at least 1")
    for key in ("learning_rate", "init_gain"):
        if not getattr(s, key) > 0:
            raise SettingsError(f"{key} must be positive, got {getattr(s, key)}")
    for key in ("lambda_cycle", "lambda_identity"):
        if getattr(s, key) < 0:
            raise SettingsError(f"{key} must not be negative, got {getattr(s, key)}")
    if not 0 <= s.beta_1 < 1:
        raise SettingsError(f"beta_1 must be in [0, 1), got {s.beta_1}")
    if s.crop_size >> s.disc_n_layers < 3:  # the PatchGAN's map (crop / 2**layers - 2) needs a pixel
        raise SettingsError(f"crop_size {s.crop_size} is too small for a discriminator of {s.disc_n_layers} layers")


#: The CycleGAN settings of the three run profiles (the keys of :data:`l2l_helpers.training.profiles.PROFILES`).
#:
#: ``quick``
#:     tests and CI: a tiny generator (2 residual blocks, 8 first filters, 49k parameters) and
#:     discriminator (8 first filters, 3 layers, 44k parameters) on 32 px crops, batch 4, 2 + 1 epochs
#:     of 8 steps.
#: ``workshop``
#:     the notebooks: 4 residual blocks, 16 first filters (generator 0.34M parameters; discriminator
#:     16 first filters, 3 layers, 0.17M) on 48 px crops, batch 4, 3 + 3 epochs of 50 steps. On lesson
#:     05's cells a longer training on larger crops gave the same picture (the plain paxillin CycleGAN
#:     fails, the pre-filtered one and the actin one remove most of the background).
#: ``paper``
#:     the paper's settings: the reference networks (9 residual blocks, 64 first filters, 11.4M
#:     parameters per generator; discriminator 64 first filters, 3 layers, 2.8M parameters) on 256 px
#:     crops, batch 4, 10 epochs of which the last 9 decay the learning rate (``n_epochs=1``,
#:     ``n_epochs_decay=9``; the paper's pxn model: 4 epochs, 3 of decay: ``n_epochs=1,
#:     n_epochs_decay=3``), one pass over the images per epoch (``steps_per_epoch=0``); it needs a GPU
#:     (times in ``benchmarks/results.md``).
CYCLEGAN_PROFILES = {
    "quick": CycleGANSettings(
        crop_size=32, gen_n_blocks=2, gen_n_first=8, disc_n_first=8, n_epochs=2, n_epochs_decay=1, steps_per_epoch=8
    ),
    "workshop": CycleGANSettings(),
    "paper": CycleGANSettings(
        crop_size=256, gen_n_blocks=9, gen_n_first=64, disc_n_first=64, n_epochs=1, n_epochs_decay=9, steps_per_epoch=0
    ),
}


def profile_cyclegan_settings(profile=DEFAULT_PROFILE, **overrides):
    """Return a profile's :class:`CycleGANSettings` (or given ones), with some settings overridden.

    Parameters
    ----------
    profile : str or CycleGANSettings
        ``"quick"``, ``"workshop"`` or ``"paper"`` (a key of
        :data:`CYCLEGAN_PROFILES`), or settings.
    **overrides
        Settings to replace (:meth:`~l2l_helpers.settings.Settings.replace`);
        ``None`` values are ignored.

    Returns
    -------
    CycleGANSettings

    Raises
    ------
    ValueError
        Unknown profile; :class:`~l2l_helpers.settings.SettingsError` for an
        unknown setting or a value that does not fit it.

    Examples
    --------
    >>> profile_cyclegan_settings("quick", n_epochs=1).total_epochs
    2
    """
    if isinstance(profile, CycleGANSettings):
        return profile.replace(**overrides)
    if profile not in CYCLEGAN_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(CYCLEGAN_PROFILES)}")
    return CYCLEGAN_PROFILES[profile].replace(**overrides)


def profile_name(settings):
    """The name of the profile whose settings these are, or None.

    Examples
    --------
    >>> profile_name(CYCLEGAN_PROFILES["paper"]), profile_name(CycleGANSettings(n_epochs=9))
    ('paper', None)
    """
    return next((name for name, s in CYCLEGAN_PROFILES.items() if s == settings), None)


def cyclegan_settings(profile=DEFAULT_PROFILE, **overrides):
    """Return the CycleGAN settings of a profile, with some of them overridden, as a dict.

    Parameters
    ----------
    profile, **overrides
        As for :func:`profile_cyclegan_settings`; whole numbers are required
        for integer settings.

    Returns
    -------
    dict
        A new dict of settings (:meth:`CycleGANSettings.to_dict`).

    Raises
    ------
    ValueError
        Unknown profile or setting, a value that does not fit the setting,
        or settings that cannot work (no epochs, a crop size that is not a
        multiple of 4 or below 16, ...).

    Examples
    --------
    >>> cyclegan_settings("paper")["gen_n_blocks"]
    9
    >>> s = cyclegan_settings("paper", n_epochs=1, n_epochs_decay=3)  # the paper's pxn model
    >>> s["n_epochs"] + s["n_epochs_decay"]
    4
    >>> cyclegan_settings("quick", crop_size=30)
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: crop_size must be a multiple of 4 and at least 16, got 30
    """
    return profile_cyclegan_settings(profile, **overrides).to_dict()
