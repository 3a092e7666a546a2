"""Train a network on folders of images (what ``l2l train`` runs): the one entry point of every method.

:func:`train_from_folders` trains a CARE network (``method="care"``) or
hands a CycleGAN run (``method="cyclegan"``) to
:func:`l2l_helpers.training.cyclegan.folders.train_cyclegan_from_folders`;
both refuse to resume on folders whose image names changed
(:func:`check_same_names`). For CARE it pairs the images of an input
folder and one or more target folders by file name, makes patches of them
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

__all__ = ["METHODS", "train_from_folders", "check_same_names"]

#: The training methods of :func:`train_from_folders`.
METHODS = ("care", "cyclegan")


def check_same_names(stored, names, folder):
    """Refuse to resume on a folder whose image names differ from those the stored run recorded.

    Parameters
    ----------
    stored : sequence of str or None
        The names the stored run recorded (None: not recorded, nothing to
        check).
    names : sequence of str
        The names in the folder now.
    folder : str or Path
        The folder (named in the error).

    Raises
    ------
    ValueError
        If the names differ.

    Examples
    --------
    >>> check_same_names(["a.tif"], ["a.tif"], "input")
    >>> check_same_names(["a.tif"], ["b.tif"], "input")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: input: its images differ from those of the stored run (1 images, first ['a.tif']; now 1, ...
    """
    if stored is not None and list(stored) != list(names):
        raise ValueError(
            f"{folder}: its images differ from those of the stored run ({len(stored)} "
            f"images, first {list(stored)[:3]}; now {len(names)}, first {list(names)[:3]}); "
            "resume with the same images"
        )


def _target_dirs(target_dirs):
    if isinstance(target_dirs, (str, Path)):
        target_dirs = [target_dirs]
    target_dirs = [Path(t) for t in target_dirs]
    if not target_dirs:
        raise ValueError("give at least one target folder")
    return target_dirs


def _stored_patches(model_dir, overrides, input_normalization, validation_images):
    """The arguments of make_training_data that made the patches of a run to resume, and its image names."""
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
    patch_args = {
        **{key: data[key] for key in keys},
        "percentiles": tuple(data["percentiles"]),
        "input_normalization": stored_norm,
        "seed": int(info["seed"]),
        "validation_images": stored,
    }
    return patch_args, data.get("images")


def _folder_patches(input_dir, target_dirs, patch_args, stored_names):
    """The image names of paired folders and the patches made of them (refused if not the ``stored_names``)."""
    from l2l_helpers.data.io import load_pairs
    from l2l_helpers.training.prepare import make_training_data

    names, stacks = load_pairs(input_dir, *target_dirs)
    check_same_names(stored_names, names, input_dir)
    inputs, targets = stacks[0], stacks[1:]
    return names, make_training_data(inputs, targets if len(targets) > 1 else targets[0], names=names, **patch_args)


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


def train_from_folders(input_dir, target_dirs, model_dir, method="care", **kwargs):
    """Train a network on folders of images (what ``l2l train`` runs).

    Parameters
    ----------
    input_dir : str or Path
        Folder of input images.
    target_dirs : str or Path or sequence of them
        Target folder(s): one or more for CARE (paired with the inputs by
        file name), one for a CycleGAN (unpaired).
    model_dir : str or Path
        Model folder.
    method : {"care", "cyclegan"}
        What to train.
    **kwargs
        For CARE those of :func:`train_care_from_folders`, for a CycleGAN
        those of
        :func:`~l2l_helpers.training.cyclegan.folders.train_cyclegan_from_folders`.

    Returns
    -------
    TrainingResult or CycleGANResult

    Raises
    ------
    ValueError
        An unknown method, a CycleGAN given several target folders, or
        see the function of the method (when resuming, also folders whose
        image names differ from the stored run's).

    Examples
    --------
    >>> train_from_folders("in", "target", "m", method="n2v")
    Traceback (most recent call last):
    ...
    ValueError: method 'n2v': choose one of care, cyclegan
    >>> result = train_from_folders("data/actin/input", "data/actin/benchmark",
    ...                             "models/actin_l2l", profile="quick")  # doctest: +SKIP
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    if method == "care":
        return train_care_from_folders(input_dir, target_dirs, model_dir, **kwargs)
    from l2l_helpers.training.cyclegan.folders import train_cyclegan_from_folders

    target_dirs = _target_dirs(target_dirs)
    if len(target_dirs) != 1:
        raise ValueError(f"a CycleGAN takes one target folder, got {len(target_dirs)}")
    return train_cyclegan_from_folders(input_dir, target_dirs[0], model_dir, **kwargs)


def train_care_from_folders(
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
    """Train a CARE network on folders of image pairs (:func:`train_from_folders` with ``method="care"``).

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
        See :func:`train_model`; when resuming, also an input folder whose
        image names differ from the stored run's.

    Examples
    --------
    >>> result = train_care_from_folders("data/actin/input", "data/actin/benchmark",
    ...                                  "models/actin_l2l", settings="quick")  # doctest: +SKIP
    """
    from l2l_helpers.training.prepare import ZOOM_FACTORS

    target_dirs = _target_dirs(target_dirs)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if resume:
        patch_args, stored_names = _stored_patches(model_dir, overrides, input_normalization, validation_images)
        care = None
    else:
        stored_names = None
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
    names, patches = _folder_patches(input_dir, target_dirs, patch_args, stored_names)
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
