"""Training a CycleGAN on two folders of unpaired images (``l2l train --method cyclegan``).

:func:`train_cyclegan_from_folders` is what
:func:`l2l_helpers.training.folders.train_from_folders` runs for
``method="cyclegan"``. No TensorFlow is imported until the training starts.
"""

from __future__ import annotations

from pathlib import Path

from l2l_helpers.training.cyclegan.model_folder import CycleGANRecord
from l2l_helpers.training.cyclegan.training import train_cyclegan

__all__ = ["train_cyclegan_from_folders"]

#: Arguments of :func:`train_cyclegan` that are passed on as given (``None`` included); other ``None`` are dropped.
_RUN_ARGUMENTS = ("profile", "seed", "prefilter_sigma", "progress", "overwrite", "percentiles")


def train_cyclegan_from_folders(input_dir, target_dir, model_dir, resume=False, **kwargs):
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
    resume : bool
        See :func:`train_cyclegan`; the folders' file names must be those
        of the stored run.
    **kwargs
        ``profile``, ``seed``, ``prefilter_sigma``, ``progress``,
        ``overwrite``, ``percentiles`` and settings to replace: see
        :func:`train_cyclegan`; settings given as ``None`` are ignored.

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
    >>> result = train_cyclegan_from_folders("data/actin/input", "data/actin_other/benchmark",
    ...                                      "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    """
    from l2l_helpers.data.io import load_folder
    from l2l_helpers.training.folders import check_same_names

    input_dir, target_dir = Path(input_dir), Path(target_dir)
    input_names, inputs = load_folder(input_dir)
    target_names, targets = load_folder(target_dir)
    if resume:
        stored = CycleGANRecord(model_dir).read_method_info().get("metadata", {}).get("data", {})
        check_same_names(stored.get("input_images"), input_names, input_dir)
        check_same_names(stored.get("target_images"), target_names, target_dir)
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
        resume=resume,
        input_name=input_dir.name,
        target_name=target_dir.name,
        metadata={"data": data},
        **{k: v for k, v in kwargs.items() if v is not None or k in _RUN_ARGUMENTS},
    )
