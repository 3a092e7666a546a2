"""Train a CARE network on folders of image pairs (what ``l2l train`` runs).

:func:`train_from_folders` pairs the images of an input folder and one or
more target folders by file name, makes patches of them
(:func:`l2l_helpers.training.prepare.make_training_data`) and trains on them
(:func:`l2l_helpers.training.train.train_model`). It records how the patches
were made (``metadata["data"]`` of ``l2l_training.json``), so that a resumed
run makes exactly the same patches again. Also importable from
:mod:`l2l_helpers.training.train`.
"""

from __future__ import annotations

from pathlib import Path

from l2l_helpers.training.load import read_training_info
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES
from l2l_helpers.training.profiles import PATCH_SETTINGS
from l2l_helpers.training.train import _resolve_settings, train_model

__all__ = ["train_from_folders"]


def _target_dirs(target_dirs):
    if isinstance(target_dirs, (str, Path)):
        target_dirs = [target_dirs]
    target_dirs = [Path(t) for t in target_dirs]
    if not target_dirs:
        raise ValueError("give at least one target folder")
    return target_dirs


def _stored_patches(model_dir, overrides, input_normalization, validation_images):
    """The arguments of make_training_data that made the patches of a run to resume (from its record)."""
    info = read_training_info(model_dir)
    data = dict(info.get("metadata", {}).get("data", {}))
    if not data:
        raise ValueError(f"{model_dir}: the stored run has no data settings; resume it with train_model")
    for key in ("patch_size", "n_patches_per_image"):
        if key in overrides and overrides[key] != data[key]:
            raise ValueError(f"cannot change {key} when resuming (stored: {data[key]}, given: {overrides[key]})")
    stored_norm = info["input_normalization"]
    if input_normalization is not None and input_normalization != stored_norm:
        raise ValueError(
            f"cannot change input_normalization when resuming (stored: {stored_norm!r}, given: {input_normalization!r})"
        )
    stored = info["validation_images"]  # None if not recorded: the seed gives the same split
    if validation_images is not None and stored is not None and list(validation_images) != list(stored):
        raise ValueError(
            f"cannot change the validation images when resuming (stored: {stored}, given: {list(validation_images)})"
        )
    keys = ("patch_size", "n_patches_per_image", "zoom_factors", "augment", "poisson", "validation_split")
    return {
        **{key: data[key] for key in keys},
        "percentiles": tuple(data["percentiles"]),
        "input_normalization": stored_norm,
        "seed": int(info["seed"]),
        "validation_images": stored,
    }


def _data_record(patch_args, input_dir, target_dirs, names):
    """``metadata["data"]`` of a training from folders: how to make its patches again."""
    poisson = patch_args["poisson"]
    data = {
        "patch_size": int(patch_args["patch_size"]),
        "n_patches_per_image": int(patch_args["n_patches_per_image"]),
        "zoom_factors": [float(z) for z in patch_args["zoom_factors"]],
        "augment": bool(patch_args["augment"]),
        "poisson": poisson if isinstance(poisson, bool) else float(poisson),
        "validation_split": float(patch_args["validation_split"]),
        "percentiles": [float(p) for p in patch_args["percentiles"]],
        "input_dir": str(input_dir),
        "target_dirs": [str(t) for t in target_dirs],
        "images": names,
    }
    if patch_args["input_normalization"] != "percentile":  # only then: the fingerprints of earlier runs stay valid
        data["input_normalization"] = patch_args["input_normalization"]
    return data


def train_from_folders(
    input_dir,
    target_dirs,
    model_dir,
    loss="l1",
    settings=None,
    seed=0,
    resume=False,
    zoom_factors=None,
    augment=True,
    poisson=False,
    validation_split=0.1,
    percentiles=DEFAULT_PERCENTILES,
    verbose=None,
    validation_images=None,
    overwrite=False,
    input_normalization=None,
    profile=None,
    **overrides,
):
    """Train a network on folders of image pairs (what ``l2l train`` runs).

    Images are paired by file name (:func:`l2l_helpers.data.io.load_pairs`),
    turned into patches by :func:`l2l_helpers.training.prepare.make_training_data`
    and trained on by :func:`train_model`. The data settings and the split
    (``train_images``, ``validation_images``: file names) are recorded, so
    ``resume=True`` rebuilds exactly the same patches; to reproduce the
    split of a model in a new run, pass its recorded ``validation_images``.

    Parameters
    ----------
    input_dir : str or Path
        Folder of input images.
    target_dirs : str or Path or sequence of them
        One target folder (one-channel network) or several (one output
        channel each).
    model_dir : str or Path
        Model folder.
    loss, settings, seed, resume, overwrite, verbose, profile
        See :func:`train_model`; here the patch settings of ``settings``
        (``patch_size``, ``n_patches_per_image``, ``input_normalization``)
        make the patches.
    zoom_factors : sequence of float, optional
        Zoom factors (default :data:`l2l_helpers.training.prepare.ZOOM_FACTORS`).
    augment, poisson, validation_split, percentiles, validation_images, input_normalization
        See :func:`l2l_helpers.training.prepare.make_training_data`
        (``validation_images``: file names; ``input_normalization``: by
        default the settings'). A resumed run uses the stored ones.
    **overrides
        Settings to replace, including ``patch_size`` and
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
    ...                             "models/actin_l2l", settings="quick")  # doctest: +SKIP
    """
    from l2l_helpers.data.io import load_pairs
    from l2l_helpers.training.prepare import ZOOM_FACTORS, make_training_data

    target_dirs = _target_dirs(target_dirs)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if resume:
        patch_args = _stored_patches(model_dir, overrides, input_normalization, validation_images)
        care = None
    else:
        care, profile = _resolve_settings(settings, profile, {**overrides, "input_normalization": input_normalization})
        patch_args = {
            **{key: getattr(care, key) for key in PATCH_SETTINGS},
            "zoom_factors": tuple(ZOOM_FACTORS if zoom_factors is None else zoom_factors),
            "augment": augment,
            "poisson": poisson,
            "validation_split": validation_split,
            "percentiles": percentiles,
            "seed": seed,
            "validation_images": validation_images,
        }
    names, stacks = load_pairs(input_dir, *target_dirs)
    inputs, targets = stacks[0], stacks[1:]
    patches = make_training_data(inputs, targets if len(targets) > 1 else targets[0], names=names, **patch_args)
    return train_model(
        *patches,
        model_dir,
        loss=loss,
        settings=care,
        profile=profile,
        seed=patch_args["seed"],
        resume=resume,
        overwrite=overwrite,
        percentiles=patch_args["percentiles"],
        input_name=Path(input_dir).name,
        target_names=[t.name for t in target_dirs],
        metadata={"data": _data_record(patch_args, input_dir, target_dirs, names)},
        verbose=verbose,
        split=patches,
        **({key: v for key, v in overrides.items() if key not in PATCH_SETTINGS} if resume else {}),
    )
