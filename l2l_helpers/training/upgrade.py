"""The one reader of training records written by l2l 0.1.0: :func:`upgrade_info`.

Records of l2l 0.1.0 (``l2l_training.json`` without ``schema_version``)
are given the current form when they are read
(:meth:`l2l_helpers.training.record.TrainingRecord.read_info`); examples
of such records are committed under ``tests/data/records_0.1.0``.

No TensorFlow is imported here.
"""

from __future__ import annotations

from l2l_helpers.data.io import ModelError
from l2l_helpers.settings import SCHEMA_VERSION, SettingsError
from l2l_helpers.training.profiles import PROFILES, CARESettings

__all__ = ["TRAINING_JSON", "upgrade_info"]

#: How the model was trained.
TRAINING_JSON = "l2l_training.json"


def upgrade_info(info, source=TRAINING_JSON):
    """A training record of any l2l version in the current form (schema :data:`~l2l_helpers.settings.SCHEMA_VERSION`).

    The one place that knows how records written by l2l 0.1.0 (no
    ``schema_version``) differ from today's: their ``settings`` hold only
    the network and training settings, without ``unet_residual`` and
    ``flip_rotate`` in runs recorded before these were settings (those ran a
    residual U-Net without flips); runs recorded before
    ``input_normalization`` was a choice scaled inputs to percentiles; runs
    recorded before the split was recorded have no ``train_images`` and
    ``validation_images`` (None: unknown). The settings become a whole
    :class:`~l2l_helpers.training.profiles.CARESettings`: ``patch_size`` and
    ``input_normalization`` of the patches, ``n_patches_per_image`` from the
    data settings of ``train_from_folders`` (else the profile's).

    A CycleGAN's record of l2l 0.1.0 (``"method": "cyclegan"``) already
    held whole settings: they are checked
    (:class:`~l2l_helpers.training.cyclegan.settings.CycleGANSettings`) and
    the schema version is added.

    Parameters
    ----------
    info : dict
        The record as read from ``l2l_training.json`` (no ``"method"``:
        a CARE network's).
    source : str
        Named in errors (the file).

    Returns
    -------
    dict
        The record with ``schema_version`` and whole ``settings`` (a new
        dict if anything was added).

    Raises
    ------
    ModelError
        A schema version this l2l does not know, or settings that do not
        fit :class:`~l2l_helpers.training.profiles.CARESettings` (or the
        CycleGAN's settings).

    Examples
    --------
    >>> old = {"profile": "quick", "patch_size": 32, "settings": {"epochs": 1, "unet_n_first": 8}}
    >>> new = upgrade_info(old)
    >>> new["schema_version"], new["settings"]["unet_residual"], new["input_normalization"]
    (1, True, 'percentile')
    >>> upgrade_info(new) is new
    True
    """
    version = info.get("schema_version")
    if version is not None:
        if version != SCHEMA_VERSION:
            raise ModelError(
                f"{source}: schema_version {version!r} is not one this l2l reads ({SCHEMA_VERSION}); "
                "a newer l2l wrote it: update l2l"
            )
        return info
    if info.get("method", "care") == "cyclegan":
        return _upgrade_cyclegan_info(info, source)
    info = dict(info)
    info.setdefault("input_normalization", "percentile")  # runs recorded before it was a choice
    info.setdefault("train_images", None)  # runs recorded before the split was
    info.setdefault("validation_images", None)
    data = (info.get("metadata") or {}).get("data") or {}
    recorded = {
        "unet_residual": True,  # runs recorded before unet_residual and flip_rotate were settings
        "flip_rotate": False,
        **(info.get("settings") or {}),
        "patch_size": info.get("patch_size"),
        "n_patches_per_image": data.get("n_patches_per_image"),
        "input_normalization": info["input_normalization"],
    }
    try:
        info["settings"] = PROFILES.get(info.get("profile"), CARESettings()).replace(**recorded).to_dict()
    except SettingsError as exc:
        raise ModelError(f"{source}: the recorded settings do not fit ({exc})") from exc
    info["schema_version"] = SCHEMA_VERSION
    return info


def _upgrade_cyclegan_info(info, source):
    """A CycleGAN's record of l2l 0.1.0 (whole settings, no schema version) in the current form."""
    from l2l_helpers.training.cyclegan.settings import CycleGANSettings

    try:
        settings = CycleGANSettings.from_dict(info.get("settings") or {}).to_dict()
    except SettingsError as exc:
        raise ModelError(f"{source}: the recorded settings do not fit ({exc})") from exc
    return {**info, "settings": settings, "schema_version": SCHEMA_VERSION}
