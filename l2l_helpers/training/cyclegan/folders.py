"""Training a CycleGAN on two folders of unpaired images (``l2l train --method cyclegan``).

No TensorFlow is imported until the training starts.
"""

from __future__ import annotations

from pathlib import Path

from l2l_helpers.training.cyclegan.model_folder import CycleGANRecord
from l2l_helpers.training.cyclegan.training import train_cyclegan
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES

__all__ = ["train_from_folders"]


def train_from_folders(
    input_dir,
    target_dir,
    model_dir,
    profile="workshop",
    seed=0,
    resume=False,
    prefilter_sigma=None,
    progress=True,
    overwrite=False,
    percentiles=DEFAULT_PERCENTILES,
    **overrides,
):
    """Train a CycleGAN on two folders of unpaired images (what ``l2l train --method cyclegan`` runs).

    Every TIFF of both folders is read (:func:`l2l_helpers.data.io.load_folder`)
    before anything else happens; the folders need not hold the same
    number of images nor the same names. The folders and file names are
    recorded (``metadata.data`` of ``l2l_training.json``).

    Parameters
    ----------
    input_dir : str or Path
        Folder of input images (domain A).
    target_dir : str or Path
        Folder of target images (domain B).
    model_dir : str or Path
        Model folder.
    profile, seed, resume, prefilter_sigma, progress, overwrite, percentiles, **overrides
        See :func:`train_cyclegan`; ``None`` values are ignored.

    Returns
    -------
    CycleGANResult

    Raises
    ------
    ImageError
        A missing or empty folder, an unreadable or bad image (named).
    ValueError, FileExistsError, FileNotFoundError, ModelError
        See :func:`train_cyclegan`; when resuming, also folders whose file
        names differ from the stored run's.

    Examples
    --------
    >>> result = train_from_folders("data/actin/input", "data/actin_other/benchmark",
    ...                             "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    """
    from l2l_helpers.data.io import load_folder

    input_dir, target_dir = Path(input_dir), Path(target_dir)
    input_names, inputs = load_folder(input_dir)
    target_names, targets = load_folder(target_dir)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if resume:
        stored = CycleGANRecord(model_dir).read_cyclegan_info().get("metadata", {}).get("data", {})
        _check_same_names(stored.get("input_images"), input_names, input_dir)
        _check_same_names(stored.get("target_images"), target_names, target_dir)
    data = {
        "input_dir": str(input_dir),
        "target_dir": str(target_dir),
        "input_images": input_names,
        "target_images": target_names,
    }
    return train_cyclegan(
        inputs,
        targets,
        model_dir,
        profile=profile,
        seed=seed,
        resume=resume,
        prefilter_sigma=prefilter_sigma,
        progress=progress,
        overwrite=overwrite,
        percentiles=percentiles,
        input_name=input_dir.name,
        target_name=target_dir.name,
        metadata={"data": data},
        **overrides,
    )


def _check_same_names(stored, names, folder):
    """Refuse to resume on a folder whose image names differ from the stored run's (``stored``: None if unknown)."""
    if stored is not None and list(stored) != list(names):
        raise ValueError(
            f"{folder}: its images differ from those of the stored run ({len(stored)} "
            f"images, first {stored[:3]}; now {len(names)}, first {names[:3]}); "
            "resume with the same images"
        )
