"""Companion package of the label2label (L2L) course.

The front door: the functions a researcher needs to restore their own pair of
labels, in the order of the course. Each is imported from its subpackage on
first use (:pep:`562`), so ``import l2l_helpers`` is fast and imports neither
TensorFlow, matplotlib nor Dask, and changes nothing in the process.

======================  ===========================================  ======
name                    what                                         lesson
======================  ===========================================  ======
``simulate_dataset``    simulated cells with a known ground truth    00
``load_pairs``          images of two folders, paired by file name   00
``contrast_folders``    which label is the input, which the target   01
``register_pair``       estimate and correct the drift of a pair     02
``correct_folders``     the same for two folders, written to a third 02
``make_training_data``  normalised patches, split by image           03
``train_model``         train a CARE network on those patches        03
``train_from_folders``  read, prepare and train in one call          03
``load_restorer``       a trained network (or filter) from a folder  03
``restore_images``      restore images with a network                03
``restore_folder``      restore a folder of images                   03
``score_restorations``  PSNR, NRMSE, SSIM, background, ...           03
``export_bioimageio``   a BioImage Model Zoo package                 03
``current_profile``     the profile (``L2L_PROFILE``)                all
``results_dir``         where a lesson or command writes results     all
======================  ===========================================  ======

Everything else lives in the subpackages, each named for what the course
teaches: :mod:`l2l_helpers.data`, :mod:`~l2l_helpers.pairs`,
:mod:`~l2l_helpers.training`, :mod:`~l2l_helpers.restoring`,
:mod:`~l2l_helpers.scoring`, :mod:`~l2l_helpers.experiments`,
:mod:`~l2l_helpers.plotting` and :mod:`~l2l_helpers.course`; import them as
usual (``from l2l_helpers.scoring import background``).

Examples
--------
>>> import l2l_helpers as l2l
>>> data = l2l.simulate_dataset("actin", n=2, size=64)
>>> scores = l2l.score_restorations({"input": data["input"]}, data["ground_truth"])
>>> sorted(scores["input"]["mean"])[:3]
['ms3', 'ms5', 'nrmse']

A researcher's own pair, from folders to a restored folder:

>>> roles = l2l.contrast_folders("raw/dm1a", "raw/yol")  # doctest: +SKIP
>>> l2l.correct_folders(roles["suggested_target"], roles["suggested_input"], "aligned")  # doctest: +SKIP
>>> l2l.train_from_folders("aligned/moving", "aligned/reference", "model")  # doctest: +SKIP
>>> l2l.restore_folder("model", "raw/dm1a", "restored")  # doctest: +SKIP
"""

import importlib

__version__ = "0.2.0"

__all__ = [
    "simulate_dataset",
    "load_pairs",
    "contrast_folders",
    "register_pair",
    "correct_folders",
    "make_training_data",
    "train_model",
    "train_from_folders",
    "load_restorer",
    "restore_images",
    "restore_folder",
    "score_restorations",
    "export_bioimageio",
    "current_profile",
    "results_dir",
]

#: The module that defines each name of :data:`__all__`.
HOMES = {
    "simulate_dataset": "l2l_helpers.data.simulate",
    "load_pairs": "l2l_helpers.data.io",
    "contrast_folders": "l2l_helpers.pairs.contrast",
    "register_pair": "l2l_helpers.pairs.drift",
    "correct_folders": "l2l_helpers.pairs.drift",
    "make_training_data": "l2l_helpers.training.prepare",
    "train_model": "l2l_helpers.training.train",
    "train_from_folders": "l2l_helpers.training.train",
    "load_restorer": "l2l_helpers.restoring.restorers",
    "restore_images": "l2l_helpers.restoring.restore",
    "restore_folder": "l2l_helpers.restoring.restore",
    "score_restorations": "l2l_helpers.scoring.metrics",
    "export_bioimageio": "l2l_helpers.restoring.export",
    "current_profile": "l2l_helpers.training.profiles",
    "results_dir": "l2l_helpers.training.profiles",
}


def __getattr__(name):
    if name in HOMES:
        value = getattr(importlib.import_module(HOMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
