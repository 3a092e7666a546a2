"""Every method on the same held-out simulated cells, in one table: ``l2l validate``.

The course's claims rest on comparisons spread over lessons 03 to 08. This
module runs them all at once, on held-out simulated cells whose ground
truth is known, for actin, tubulin, caveolae and paxillin (pxn):

* the **input** label as acquired, its **20-frame average**
  (``input_average``) and the **target** label (a reference row);
* the four **classical filters** with the paper's presets per structure
  (:func:`l2l_helpers.restoring.restorers.classical_restorer`);
* **noise2noise** (N2N: input -> registered second noise realisation) with
  the L1 and 3-scale MS-SSIM losses, and **label2label** (L2L: input ->
  target label) with the L1, SSIM, 3- and 5-scale MS-SSIM losses, each
  described by an :class:`~l2l_helpers.experiments.experiment.Experiment` and run by
  :func:`~l2l_helpers.experiments.experiment.run_experiment`;
* the **CycleGAN** (:func:`l2l_helpers.training.cyclegan.train_cyclegan`), trained
  on unpaired halves as in lesson 05: the inputs of the first half of the
  training cells, the targets of the second half.

Every restoration is scored by :func:`l2l_helpers.scoring.metrics.score_restorations`
against the ground truth (PSNR, NRMSE, SSIM, 3S- and 5S-SSIM, with the
cytosolic ``background`` left and the ``hallucination`` score) and against
the target label; its structural ``contrast`` is the Michelson contrast of
:mod:`l2l_helpers.pairs.contrast` (the measure that decides which label is the
target), and for tubulin ``fwhm_px`` is the mean microtubule width on lines
picked from the ground truth (:func:`l2l_helpers.scoring.downstream.find_profile_lines`,
:func:`~l2l_helpers.scoring.downstream.measure_widths`, as in lesson 08).

Each training is one task on Dask, through the machinery of lesson 07
(:mod:`l2l_helpers.experiments.crossval`: a local cluster of one-thread process workers
by default, or any scheduler; one retry; a task that fails twice becomes a
``failed`` row with its error); the untrained methods of a structure are one
more task. Every task simulates its own cells from (structure, seed, number
of cells), so tasks are independent and every method of a structure sees
the same held-out cells (cells, networks and scores are exactly
reproducible with a seed, on any worker). Rows stream into
``OUT_DIR/validation.csv`` as tasks finish;
running the same command again on the same folder **resumes** (finished
rows are kept, missing and failed ones run); ``OUT_DIR/validation.json``
records the configuration (with the trainings' settings as the profile
defines them), and a folder holding another configuration is refused. At
the end the CSV is sorted (structure, then :data:`METHODS`
order) and ``OUT_DIR/validation.md`` shows it as Markdown tables, one per
structure (:func:`format_validation`).

Profiles (:data:`VALIDATION_PROFILES`)
--------------------------------------
``quick``
    CI: 3 training and 2 held-out cells of 128 px per structure, the quick
    training profile cut to 1 epoch of 20 steps, a CycleGAN of 1 epoch of
    10 steps: 32 tasks, 28 of them trainings (5 to 8 s each on an idle
    core, graph building included). The networks learn little; the profile
    checks that everything runs.
    Measured, the whole four-structure validation with every method on 2
    workers (``l2l validate OUT --profile quick --workers 2``): 3 minutes
    (182 s wall, 286 s CPU) on 2 CPU cores shared with other jobs, the
    trainings taking 7.5 to 27 s each; on idle cores about 2.5 minutes.
``workshop``
    the committed result: 8 training and 3 held-out cells of 256 px per
    structure (the cells of lesson 08), the workshop training profile for
    every CARE network and the workshop CycleGAN: 28 trainings, 24 of them
    CARE networks of well under a minute each and 4 CycleGANs of about a
    minute. Measured with 2 one-thread workers on 2 CPU cores: 23 minutes
    (1376 s; 54 minutes with the earlier, four times larger workshop
    network and the longer CycleGAN). The committed result (beside lesson
    07's sweep, for notebook 09) is regenerated, or resumed, with::

        l2l validate notebooks/data/09_validation_workshop --profile workshop

``paper``
    30 training and 5 held-out cells, the paper's training settings: for a
    GPU cluster (``--scheduler``).

Note on reproducibility: a Dask worker's event loop draws from Python's
global :mod:`random` while a network is built, and Keras draws the seeds of
its initial weights from the same generator; :func:`l2l_helpers.training.seeding.seeded`
therefore gives Keras a private generator, so that a row computed again
after a resume equals the one it replaces.

Functions without Dask or TensorFlow (:func:`validation_settings`,
:func:`plan_validation`, :func:`read_validation`, :func:`pivot`,
:func:`format_validation`) plan the tasks and read a finished CSV
(notebook 09).

Examples
--------
>>> tasks = plan_validation(["actin"], profile="quick")
>>> [t["methods"] for t in tasks][:3]
[['input', 'input_average', 'gaussian', 'rolling_ball', 'tophat', 'clahe', 'target'], ['n2n_l1'], ['n2n_ms3']]
>>> len(tasks)
8
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

__all__ = [
    "VALIDATION_PROFILES",
    "METHODS",
    "UNTRAINED_METHODS",
    "TRAINED_METHODS",
    "COLUMNS",
    "NUMERIC_COLUMNS",
    "VALIDATION_CSV",
    "VALIDATION_MD",
    "VALIDATION_JSON",
    "validation_settings",
    "plan_validation",
    "run_validation_task",
    "run_validation",
    "read_validation",
    "pivot",
    "format_validation",
]

#: Cells and training settings of each profile (the keys are the names of
#: :data:`l2l_helpers.training.profiles.PROFILES`): ``n_train`` training cells and
#: ``n_test`` held-out cells of ``size`` px per structure; ``training``:
#: overrides of the CARE training profile of the same name
#: (:func:`l2l_helpers.training.profiles.profile_settings`); ``cyclegan``: overrides of
#: its CycleGAN profile (:func:`l2l_helpers.training.cyclegan.cyclegan_settings`).
#: See the module docstring for the measured times.
VALIDATION_PROFILES = {
    "quick": {
        "n_train": 3,
        "n_test": 2,
        "size": 128,
        "training": {"epochs": 1, "steps_per_epoch": 20},
        "cyclegan": {"n_epochs": 1, "n_epochs_decay": 0, "steps_per_epoch": 10},
    },
    "workshop": {"n_train": 8, "n_test": 3, "size": 256, "training": {}, "cyclegan": {}},
    "paper": {"n_train": 30, "n_test": 5, "size": 256, "training": {}, "cyclegan": {}},
}

#: The methods, in table order, with what each row shows.
METHODS = {
    "input": "the input label, as acquired",
    "input_average": "the average of 20 frames of the input label",
    "gaussian": "Gaussian filter (the paper's preset for the structure)",
    "rolling_ball": "rolling-ball background subtraction (the paper's preset)",
    "tophat": "white top-hat filter (the paper's preset)",
    "clahe": "CLAHE (the paper's preset)",
    "n2n_l1": "noise2noise, L1 loss",
    "n2n_ms3": "noise2noise, 3-scale MS-SSIM loss",
    "cyclegan": "CycleGAN trained on unpaired halves of the training cells",
    "l2l_l1": "label2label, L1 loss",
    "l2l_ssim": "label2label, SSIM loss",
    "l2l_ms3": "label2label, 3-scale MS-SSIM loss",
    "l2l_ms5": "label2label, 5-scale MS-SSIM loss",
    "target": "the target label (reference: not scored against itself)",
}
#: Methods computed without training: one task per structure.
UNTRAINED_METHODS = ("input", "input_average", "gaussian", "rolling_ball", "tophat", "clahe", "target")
#: Methods that train a network: one task each per structure.
TRAINED_METHODS = ("n2n_l1", "n2n_ms3", "l2l_l1", "l2l_ssim", "l2l_ms3", "l2l_ms5", "cyclegan")

_SCORES = ("psnr", "nrmse", "ssim", "ms3", "ms5")
#: Columns of ``validation.csv``, in order. ``kind``: ``data`` (input, its average, the target),
#: ``classical``, ``n2n``, ``l2l`` or ``cyclegan``; ``loss``: the training loss of N2N and L2L networks;
#: ``*_gt``: scores against the ground truth, ``*_target``: against the target label (empty for the target
#: itself); ``background`` and ``hallucination`` against the ground truth; ``contrast``: mean Michelson contrast
#: of the restored held-out cells; ``fwhm_px``: mean microtubule width (tubulin only, else empty),
#: ``fwhm_gt_px`` the ground truth's on the same lines, ``fwhm_lines`` the lines (picked from the ground truth
#: of the held-out cells, as in lesson 08; fits that fail are left out of a mean); image lists are file
#: names separated by spaces; ``seconds``: the task's wall time; ``status``: ``ok`` or ``failed`` (then
#: ``error`` says why and the numbers are empty). A score that is undefined is ``nan`` (the hallucination score
#: of a restoration that is not brighter on the structure than where nothing is, e.g. an untrained CycleGAN).
COLUMNS = (
    ("structure", "method", "kind", "loss")
    + tuple(f"{m}_gt" for m in _SCORES)
    + tuple(f"{m}_target" for m in _SCORES)
    + (
        "background",
        "hallucination",
        "contrast",
        "fwhm_px",
        "fwhm_gt_px",
        "fwhm_lines",
        "profile",
        "size",
        "n_train",
        "n_test",
        "seed",
        "train_images",
        "test_images",
        "seconds",
        "worker",
        "status",
        "error",
    )
)
#: Columns read as floats by :func:`read_validation` (NaN when empty).
NUMERIC_COLUMNS = (
    tuple(f"{m}_gt" for m in _SCORES)
    + tuple(f"{m}_target" for m in _SCORES)
    + ("background", "hallucination", "contrast", "fwhm_px", "fwhm_gt_px", "seconds")
)
_INT_COLUMNS = ("fwhm_lines", "size", "n_train", "n_test", "seed")
#: File names in the output folder.
VALIDATION_CSV = "validation.csv"
VALIDATION_MD = "validation.md"
VALIDATION_JSON = "validation.json"
_KEYS = ("n_train", "n_test", "size", "training", "cyclegan")
_FWHM_STRUCTURE = "tubulin"
_FWHM_LINES = 6  # lines per held-out cell, as in lesson 08


# --------------------------------------------------------------------------- settings and plan


def validation_settings(profile="workshop", overrides=None):
    """The cells and training settings of a validation profile, some of them overridden.

    Parameters
    ----------
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"`` (:data:`VALIDATION_PROFILES`).
    overrides : dict, optional
        ``n_train``, ``n_test``, ``size`` (replace the profile's),
        ``training`` (CARE settings, merged into the profile's, e.g.
        ``{"epochs": 1, "steps_per_epoch": 2}``) and ``cyclegan`` (CycleGAN
        settings, merged likewise).

    Returns
    -------
    dict
        ``profile``, ``n_train``, ``n_test``, ``size``, ``training`` and
        ``cyclegan`` (the overrides of the training profiles, checked).

    Raises
    ------
    ValueError
        An unknown profile, key or setting; too few cells (at least 2 for
        training: the CycleGAN needs two halves, a CARE network a
        validation cell; at least 1 held out); a size the simulator refuses.

    Examples
    --------
    >>> s = validation_settings("quick", {"training": {"epochs": 1}})
    >>> s["training"], s["n_train"], s["size"]
    ({'epochs': 1, 'steps_per_epoch': 20}, 3, 128)
    >>> validation_settings("quick", {"epochs": 1})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown validation setting 'epochs'; known: ... (CARE settings such as epochs go into 'training', ...)
    """
    from l2l_helpers.training.cyclegan import cyclegan_settings
    from l2l_helpers.training.profiles import PROFILES, _setting_value, profile_settings

    if profile not in VALIDATION_PROFILES or profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(VALIDATION_PROFILES)}")
    overrides = dict(overrides or {})
    for key in overrides:
        if key not in _KEYS:
            raise ValueError(
                f"unknown validation setting {key!r}; known: {', '.join(_KEYS)} (CARE settings such "
                "as epochs go into 'training', CycleGAN settings into 'cyclegan')"
            )
    base = VALIDATION_PROFILES[profile]
    settings = {"profile": profile}
    for key in ("n_train", "n_test", "size"):
        settings[key] = _setting_value(key, overrides.get(key, base[key]), base[key])  # whole numbers only
    if settings["n_train"] < 2:
        raise ValueError(
            f"n_train must be at least 2 (the CycleGAN trains on two halves, a CARE network keeps "
            f"one cell for validation), got {settings['n_train']}"
        )
    if settings["n_test"] < 1:
        raise ValueError(f"n_test must be at least 1, got {settings['n_test']}")
    if settings["size"] < 64:
        raise ValueError(f"size must be at least 64 px (patches, 5-scale MS-SSIM), got {settings['size']}")
    for key in ("training", "cyclegan"):
        extra = overrides.get(key) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"overrides[{key!r}] must be a dict of settings, got {extra!r}")
        settings[key] = {**base[key], **extra}
    profile_settings(profile, **settings["training"])  # unknown keys, wrong types
    cyclegan_settings(profile, **settings["cyclegan"])
    return json.loads(json.dumps(settings))


def _check_names(given, known, what):
    given = list(given)
    unknown = [g for g in given if g not in known]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    if not given:
        raise ValueError(f"no {what} given; choose from {', '.join(known)}")
    return [k for k in known if k in given]  # known order, each once


def _data_seed(structure, seed):
    """Seed of a structure's simulated cells: 0, 1, 2, 3 for actin, tubulin, caveolae, pxn with seed 0 (lesson 08)."""
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    return len(PAIRED_STRUCTURES) * int(seed) + PAIRED_STRUCTURES.index(structure)


def plan_validation(structures=None, methods=None, profile="workshop", seed=0, overrides=None):
    """Plan the tasks of a validation: one per trained method and structure, one for the untrained methods.

    Parameters
    ----------
    structures : sequence of str, optional
        Structures (default: all of :data:`l2l_helpers.data.simulate.PAIRED_STRUCTURES`).
    methods : sequence of str, optional
        Methods (default: all of :data:`METHODS`).
    profile : str
        Validation profile (:data:`VALIDATION_PROFILES`).
    seed : int
        Seed of the trainings; the cells of structure number ``i`` (in
        :data:`~l2l_helpers.data.simulate.PAIRED_STRUCTURES` order) are simulated
        with seed ``4 * seed + i`` (seed 0: the cells of lesson 08).
    overrides : dict, optional
        See :func:`validation_settings`.

    Returns
    -------
    list of dict
        Plain data, what :func:`run_validation_task` takes: ``structure``,
        ``methods`` (the untrained methods of the structure, or one trained
        method), ``data`` (``structure``, ``n``, ``size``, ``seed`` of
        :func:`l2l_helpers.data.simulate.simulate_dataset`; cells ``0`` to
        ``n_train - 1`` train, the next ``n_test`` are held out), ``n_train``,
        ``n_test``, ``profile``, ``training``, ``cyclegan``, ``seed``.
        Ordered by structure, untrained task first, then :data:`METHODS` order.

    Raises
    ------
    ValueError
        Unknown structures or methods (named), or bad settings.

    Examples
    --------
    >>> tasks = plan_validation(["tubulin", "actin"], ["l2l_l1", "input"], profile="quick")
    >>> [(t["structure"], t["methods"], t["data"]["seed"]) for t in tasks]
    [('actin', ['input'], 0), ('actin', ['l2l_l1'], 0), ('tubulin', ['input'], 1), ('tubulin', ['l2l_l1'], 1)]
    >>> plan_validation(["actin", "nucleus"])
    Traceback (most recent call last):
    ...
    ValueError: unknown structure 'nucleus'; choose from actin, tubulin, caveolae, pxn
    """
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    structures = _check_names(
        PAIRED_STRUCTURES if structures is None else ([structures] if isinstance(structures, str) else structures),
        PAIRED_STRUCTURES,
        "structure",
    )
    methods = _check_names(
        list(METHODS) if methods is None else ([methods] if isinstance(methods, str) else methods),
        list(METHODS),
        "method",
    )
    if int(seed) != seed:
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    settings = validation_settings(profile, overrides)
    untrained = [m for m in methods if m in UNTRAINED_METHODS]
    trained = [m for m in methods if m in TRAINED_METHODS]
    tasks = []
    for structure in structures:
        common = {
            "structure": structure,
            "data": {
                "structure": structure,
                "n": settings["n_train"] + settings["n_test"],
                "size": settings["size"],
                "seed": _data_seed(structure, seed),
            },
            "n_train": settings["n_train"],
            "n_test": settings["n_test"],
            "profile": profile,
            "training": settings["training"],
            "cyclegan": settings["cyclegan"],
            "seed": int(seed),
        }
        if untrained:
            tasks.append({**common, "methods": list(untrained)})
        for m in trained:
            tasks.append({**common, "methods": [m]})
    return json.loads(json.dumps(tasks))


# --------------------------------------------------------------------------- one task


def _kind_and_loss(method):
    if method in ("input", "input_average", "target"):
        return "data", ""
    if method in UNTRAINED_METHODS:
        return "classical", ""
    if method == "cyclegan":
        return "cyclegan", ""
    kind, loss = method.split("_", 1)
    return kind, loss


def _mean_fwhm(images, lines):
    """Mean FWHM over the lines of every image (fits that failed left out; NaN without any)."""
    from l2l_helpers.scoring.downstream import measure_widths

    widths = np.concatenate(
        [measure_widths({"x": im}, ls)["x"]["fwhm"] for im, ls in zip(images, lines) if ls] or [np.array([])]
    )
    finite = widths[np.isfinite(widths)]
    return float(finite.mean()) if finite.size else math.nan


def _rows_for(task, restored, cells, names, seconds, train_images=()):
    """CSV rows of restorations of the held-out cells (``restored``: method -> images)."""
    import socket

    from l2l_helpers.pairs.contrast import SAMPLE_FRACTION, michelson_contrast
    from l2l_helpers.scoring.metrics import score_restorations

    structure = task["structure"]
    test = list(range(task["n_train"], task["n_train"] + task["n_test"]))
    truths = [cells["ground_truth"][i] for i in test]
    inputs = [cells["input"][i] for i in test]
    targets = [cells["benchmark"][i] for i in test]
    test_names = [names[i] for i in test]
    vs_truth = score_restorations(
        restored, truths, cell_masks=[cells["cell_mask"][i] for i in test], inputs=inputs, names=test_names
    )
    scored = {m: v for m, v in restored.items() if m != "target"}  # the target is not scored against itself
    vs_target = score_restorations(scored, targets, names=test_names) if scored else {}
    lines = None
    if structure == _FWHM_STRUCTURE:
        from l2l_helpers.scoring.downstream import find_profile_lines

        lines = [find_profile_lines(t, n=_FWHM_LINES) for t in truths]
        fwhm_gt = _mean_fwhm(truths, lines)
    rows = []
    for method, images in restored.items():
        kind, loss = _kind_and_loss(method)
        row = {"structure": structure, "method": method, "kind": kind, "loss": loss}
        for m in _SCORES:
            row[f"{m}_gt"] = vs_truth[method]["mean"][m]
            row[f"{m}_target"] = vs_target[method]["mean"][m] if method in vs_target else ""
        row["background"] = vs_truth[method]["mean"]["background"]
        row["hallucination"] = vs_truth[method]["mean"]["hallucination"]
        row["contrast"] = float(np.mean([michelson_contrast(im, fraction=SAMPLE_FRACTION[structure]) for im in images]))
        row.update(fwhm_px="", fwhm_gt_px="", fwhm_lines="")
        if lines is not None:
            fwhm = _mean_fwhm(images, lines)
            row.update(
                fwhm_px=fwhm if math.isfinite(fwhm) else "",
                fwhm_gt_px=fwhm_gt if math.isfinite(fwhm_gt) else "",
                fwhm_lines=sum(map(len, lines)),
            )
        row.update(
            profile=task["profile"],
            size=task["data"]["size"],
            n_train=task["n_train"],
            n_test=task["n_test"],
            seed=task["seed"],
            train_images=" ".join(train_images) if kind not in ("data", "classical") else "",
            test_images=" ".join(test_names),
            seconds=round(float(seconds), 1),
            worker=f"{socket.gethostname()}:{os.getpid()}",
            status="ok",
            error="",
        )
        for k, v in row.items():
            if isinstance(v, (float, np.floating)):
                row[k] = float(v)
        rows.append(row)
    return rows


def _simulate(task):
    from l2l_helpers.data.simulate import simulate_dataset

    d = task["data"]
    return simulate_dataset(d["structure"], n=d["n"], size=d["size"], seed=d["seed"])


def _untrained(task, cells):
    from l2l_helpers.restoring.restorers import CLASSICAL_FILTERS, classical_restorer

    test = range(task["n_train"], task["n_train"] + task["n_test"])
    out = {}
    for method in task["methods"]:
        if method == "input":
            out[method] = [cells["input"][i] for i in test]
        elif method == "input_average":
            out[method] = [cells["input_average"][i] for i in test]
        elif method == "target":
            out[method] = [cells["benchmark"][i] for i in test]
        elif method in CLASSICAL_FILTERS:
            out[method] = classical_restorer(method, task["structure"]).restore_many(
                [cells["input"][i] for i in test], progress=False
            )
        else:
            raise ValueError(f"{method!r} is not an untrained method")
    return out


def _care(task, cells, tmp):
    """N2N or L2L: an Experiment, run by run_experiment; the saved network restores the held-out cells."""
    import warnings

    from l2l_helpers.experiments.experiment import Experiment, run_experiment
    from l2l_helpers.restoring.restorers import load_restorer

    method = task["methods"][0]
    kind, loss = _kind_and_loss(method)
    n_train, n_test = task["n_train"], task["n_test"]
    exp = Experiment(
        data={"simulate": dict(task["data"])},
        method=kind,
        loss=loss,
        profile=task["profile"],
        overrides=task["training"],
        seed=task["seed"],
        train_images=tuple(range(n_train)),
        test_images=tuple(range(n_train, n_train + n_test)),
        model_dir=str(Path(tmp) / "model"),
    )
    with warnings.catch_warnings():  # small patches: the SSIM losses' reduced filter, noted in lesson 04
        warnings.filterwarnings("ignore", message=r".*px patches are too small", category=UserWarning)
        run_experiment(exp)
    restorer = load_restorer(Path(tmp) / "model")
    return {method: restorer.restore_many([cells["input"][i] for i in exp.test_images], progress=False)}


def _cyclegan(task, cells, tmp):
    """The CycleGAN on unpaired halves: inputs of the first half of the training cells, targets of the second."""
    from l2l_helpers.training.cyclegan import train_cyclegan

    half = task["n_train"] // 2
    result = train_cyclegan(
        cells["input"][:half],
        cells["benchmark"][half : task["n_train"]],
        Path(tmp) / "model",
        profile=task["profile"],
        seed=task["seed"],
        progress=False,
        **task["cyclegan"],
    )
    test = range(task["n_train"], task["n_train"] + task["n_test"])
    return {"cyclegan": result.restorer.restore_many([cells["input"][i] for i in test], progress=False)}


def run_validation_task(task):
    """Run one validation task and return its CSV rows (plain data).

    The function each Dask worker runs: simulate the structure's cells,
    restore the held-out ones with the task's methods (training a network
    for a trained method, in a temporary folder), and score them
    (:func:`l2l_helpers.scoring.metrics.score_restorations`, contrast, tubulin
    widths). Errors propagate, so Dask can retry the task.

    Parameters
    ----------
    task : dict
        One entry of :func:`plan_validation`.

    Returns
    -------
    list of dict
        One row per method of the task, with the keys of :data:`COLUMNS`.

    Examples
    --------
    >>> task = plan_validation(["pxn"], ["input", "gaussian"], profile="quick")[0]
    >>> rows = run_validation_task(task)  # doctest: +SKIP
    >>> [r["method"] for r in rows], rows[1]["background"] < rows[0]["background"]  # doctest: +SKIP
    (['input', 'gaussian'], True)
    """
    import tempfile

    from l2l_helpers.experiments.crossval import _prepare_worker

    t0 = time.perf_counter()
    _prepare_worker()
    cells = _simulate(task)
    names = cells["names"]
    methods = list(task["methods"])
    train_names = []
    if len(methods) == 1 and methods[0] in TRAINED_METHODS:
        train_names = names[: task["n_train"]]
        with tempfile.TemporaryDirectory(prefix="l2l-validate-") as tmp:
            restored = (_cyclegan if methods[0] == "cyclegan" else _care)(task, cells, tmp)
    elif all(m in UNTRAINED_METHODS for m in methods):
        restored = _untrained(task, cells)
    else:
        raise ValueError(f"a task runs one trained method or untrained methods only, got {methods}")
    return _rows_for(task, restored, cells, names, time.perf_counter() - t0, train_names)


# --------------------------------------------------------------------------- the run


def _failed_row(task, method, error):
    row = {c: "" for c in COLUMNS}
    kind, loss = _kind_and_loss(method)
    row.update(
        structure=task["structure"],
        method=method,
        kind=kind,
        loss=loss,
        profile=task["profile"],
        size=task["data"]["size"],
        n_train=task["n_train"],
        n_test=task["n_test"],
        seed=task["seed"],
        status="failed",
        error=" ".join(str(error).split())[:500],
    )
    return row


def _order(row):
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    s, m = row["structure"], row["method"]
    return (
        PAIRED_STRUCTURES.index(s) if s in PAIRED_STRUCTURES else len(PAIRED_STRUCTURES),
        s,
        list(METHODS).index(m) if m in METHODS else len(METHODS),
        m,
    )


def _sort_csv(path):
    """Rewrite a finished CSV in (structure, method) order, atomically."""
    from l2l_helpers.experiments.crossval import _read_rows

    rows = sorted(_read_rows(path), key=_order)
    tmp = path.with_name(f".{path.name}.sorted")  # hidden: never taken for a foreign file
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def run_validation(
    out_dir,
    structures=None,
    profile="workshop",
    seed=0,
    scheduler=None,
    workers=None,
    progress=True,
    overrides=None,
    methods=None,
    overwrite=False,
    task_function=None,
):
    """Run (or resume) the validation of every method on held-out simulated cells, on Dask.

    Everything is checked before any training starts (structures, methods,
    settings, the output folder). Each task of :func:`plan_validation` runs
    on Dask (:func:`l2l_helpers.experiments.crossval.local_cluster` by default); its rows
    are appended to ``OUT_DIR/validation.csv`` (and flushed) as it finishes.
    Running the same call again on the same folder **resumes**: rows with
    status ``ok`` are kept, and only tasks with a missing or failed row run
    (rows already present are not written twice). A task that raises is
    retried once; one that fails twice gives a ``failed`` row per method,
    with its error, and the others go on. ``OUT_DIR/validation.json``
    records the configuration, with the training settings the profile gave
    (``profile_settings``); resuming with another one, or after the
    profile's definition changed, is refused. At the
    end the CSV is sorted and ``OUT_DIR/validation.md`` written
    (:func:`format_validation`).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (written through :func:`l2l_helpers.data.io.open_output`;
        command ``validate``).
    structures : sequence of str, optional
        Default: actin, tubulin, caveolae and pxn.
    profile : str
        Validation profile (:data:`VALIDATION_PROFILES`).
    seed : int
        Seed of the cells and trainings (see :func:`plan_validation`).
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (its workers must offer the
        resource ``training``), or a client.
    workers : int, optional
        Local workers (default :func:`l2l_helpers.experiments.crossval.default_workers`).
    progress : bool
        Show a progress bar over tasks and print the dashboard address.
    overrides : dict, optional
        Settings replacing the profile's (:func:`validation_settings`).
    methods : sequence of str, optional
        Default: all of :data:`METHODS`.
    overwrite : bool
        Start afresh: remove what the previous validation wrote (and only that).
    task_function : callable, optional
        What each task runs (default :func:`run_validation_task`); for tests.

    Returns
    -------
    dict
        ``csv`` and ``table`` (Paths), ``tasks`` (planned), ``skipped``
        (tasks whose rows were all found done), ``ran``, ``failed`` (tasks),
        ``rows`` (in the CSV), ``seconds``, ``dashboard`` (address or None).

    Raises
    ------
    ValueError
        Unknown structures, methods or settings, or a folder holding a
        validation with another configuration.
    FileExistsError
        A non-empty folder not written by ``validate``, or holding files it
        did not write (named).

    Examples
    --------
    >>> summary = run_validation("results/validation", profile="quick", workers=2)  # doctest: +SKIP
    >>> summary["failed"], summary["rows"]  # doctest: +SKIP
    (0, 56)
    """
    from l2l_helpers.experiments.crossval import PROFILE_SETTINGS_KEY, _open_resumable_csv, _run_dask_tasks
    from l2l_helpers.training.cyclegan import cyclegan_settings
    from l2l_helpers.training.profiles import profile_settings

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    tasks = plan_validation(structures, methods, profile, seed, overrides)
    config = json.loads(
        json.dumps(
            {
                "structures": sorted(
                    {t["structure"] for t in tasks}, key=lambda s: _order({"structure": s, "method": ""})
                ),
                "methods": [m for m in METHODS if any(m in t["methods"] for t in tasks)],
                "seed": int(seed),
                "settings": validation_settings(profile, overrides),
            }
        )
    )
    trained = {m for t in tasks for m in t["methods"] if m in TRAINED_METHODS}
    trainings = {}  # what the profile trains with, as it defines it today
    if trained - {"cyclegan"}:
        trainings["care"] = profile_settings(profile, **config["settings"]["training"])
    if "cyclegan" in trained:
        trainings["cyclegan"] = cyclegan_settings(profile, **config["settings"]["cyclegan"])
    config[PROFILE_SETTINGS_KEY] = json.loads(json.dumps(trainings))
    planned = {(t["structure"], m) for t in tasks for m in t["methods"]}
    out, f, writer, kept = _open_resumable_csv(
        out_dir,
        "validate",
        config,
        settings_json=VALIDATION_JSON,
        csv_name=VALIDATION_CSV,
        columns=COLUMNS,
        key=lambda r: (r["structure"], r["method"]),
        planned=planned,
        overwrite=overwrite,
        what="validation",
    )
    csv_path = out.path_for(VALIDATION_CSV)
    md_path = out.path_for(VALIDATION_MD)
    done = {(r["structure"], r["method"]) for r in kept}
    todo = [t for t in tasks if any((t["structure"], m) not in done for m in t["methods"])]
    summary = {
        "csv": csv_path,
        "table": md_path,
        "tasks": len(tasks),
        "skipped": len(tasks) - len(todo),
        "ran": 0,
        "failed": 0,
        "rows": len(kept),
        "dashboard": None,
    }
    if progress and not todo:
        print(f"{len(tasks)} tasks: every row already in {VALIDATION_CSV}; nothing to run")

    def write(row):
        writer.writerow(row)
        done.add((row["structure"], row["method"]))
        summary["rows"] += 1

    def handle(task, rows, error):
        summary["ran"] += 1
        if error is None:
            got = {r.get("method") for r in rows} if isinstance(rows, list) else set()
            missing = [m for m in task["methods"] if m not in got]
            if missing:
                error = f"ValueError: the task returned no row for {', '.join(missing)}"
        if error is not None:
            summary["failed"] += 1
            rows = [_failed_row(task, m, error) for m in task["methods"]]
        for row in rows:
            if (row["structure"], row["method"]) in planned and (row["structure"], row["method"]) not in done:
                write(row)
        f.flush()
        os.fsync(f.fileno())

    try:
        if todo:
            token = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]

            def key(t):
                return f"validate-{token}-{t['structure']}-{'untrained' if len(t['methods']) > 1 else t['methods'][0]}"

            summary["dashboard"] = _run_dask_tasks(
                todo,
                task_function or run_validation_task,
                key,
                handle,
                scheduler=scheduler,
                workers=workers,
                profile=profile,
                progress=progress,
                desc="validation tasks",
                announce=lambda n, where: (
                    f"{len(tasks)} tasks ({len(planned)} rows): {summary['skipped']} already "
                    f"done in {VALIDATION_CSV}, {len(todo)} to run on {n} workers ({where})"
                ),
            )
    finally:
        f.close()
    _sort_csv(csv_path)
    md_path.write_text(format_validation(read_validation(csv_path)), encoding="utf-8")
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    out.close(
        tasks=summary["tasks"],
        skipped=summary["skipped"],
        ran=summary["ran"],
        failed=summary["failed"],
        rows=summary["rows"],
    )
    return summary


# --------------------------------------------------------------------------- reading a result


def read_validation(path):
    """Read ``validation.csv`` (a file or its folder) into rows with numbers as numbers.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of dict
        One dict per row, in file order; :data:`NUMERIC_COLUMNS` as float
        (NaN when empty), ``fwhm_lines``, ``size``, ``n_train``, ``n_test``,
        ``seed`` as int (None when empty), the rest as strings.

    Raises
    ------
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "v.csv"
    >>> _ = p.write_text("structure,method,psnr_gt,fwhm_px,n_test,status\\nactin,input,21.5,,2,ok\\n")
    >>> row = read_validation(p)[0]
    >>> row["psnr_gt"], bool(np.isnan(row["fwhm_px"])), row["n_test"]
    (21.5, True, 2)
    """
    from l2l_helpers.experiments.crossval import _read_rows

    path = Path(path)
    if path.is_dir():
        path = path / VALIDATION_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such validation file")
    rows = []
    for r in _read_rows(path):
        row = {}
        for k, v in r.items():
            if k in NUMERIC_COLUMNS:
                row[k] = float(v) if v not in ("", None) else math.nan
            elif k in _INT_COLUMNS:
                row[k] = int(v) if v not in ("", None) else None
            else:
                row[k] = v
        rows.append(row)
    return rows


def pivot(rows, metric):
    """One metric as ``{structure: {method: value}}`` (finished rows only, table order).

    Parameters
    ----------
    rows : list of dict
        From :func:`read_validation`.
    metric : str
        A column, e.g. ``"psnr_gt"``, ``"background"``, ``"contrast"``, ``"fwhm_px"``.

    Returns
    -------
    dict of str to dict of str to float

    Raises
    ------
    ValueError
        A metric that is not a numeric column.

    Examples
    --------
    >>> rows = [{"structure": "actin", "method": m, "status": "ok", "contrast": c}
    ...         for m, c in (("target", 0.9), ("input", 0.4))]
    >>> pivot(rows, "contrast")
    {'actin': {'input': 0.4, 'target': 0.9}}
    """
    if metric not in NUMERIC_COLUMNS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(NUMERIC_COLUMNS)}")
    out = {}
    for r in sorted(rows, key=_order):
        if r.get("status") == "ok":
            out.setdefault(r["structure"], {})[r["method"]] = float(r.get(metric, math.nan))
    return out


#: Columns of the Markdown table: (column, heading, decimals).
_TABLE = (
    ("psnr_gt", "PSNR", 2),
    ("nrmse_gt", "NRMSE", 3),
    ("ssim_gt", "SSIM", 3),
    ("ms5_gt", "5S-SSIM", 3),
    ("psnr_target", "PSNR (target)", 2),
    ("ssim_target", "SSIM (target)", 3),
    ("background", "background", 3),
    ("hallucination", "hallucination", 3),
    ("contrast", "contrast", 3),
)


def _cell(value, digits):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def format_validation(rows):
    """The validation as Markdown: one table per structure, methods in :data:`METHODS` order.

    Scores against the ground truth (PSNR, NRMSE, SSIM, 5S-SSIM), against
    the target label, the background left, the hallucination score, the
    Michelson contrast and, for tubulin, the microtubule width (FWHM, with
    the ground truth's in the heading). Failed rows are listed with their
    errors under their table.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_validation`.

    Returns
    -------
    str

    Examples
    --------
    >>> row = {"structure": "actin", "method": "input", "status": "ok", "psnr_gt": 20.0, "contrast": 0.4,
    ...        "n_train": 8, "n_test": 3, "profile": "workshop", "size": 256, "seed": 0}
    >>> print(format_validation([row]).splitlines()[8])
    | input | 20.00 |  |  |  |  |  |  |  | 0.400 |
    """
    lines = ["# Validation on held-out simulated cells", ""]
    if rows:
        r0 = rows[0]
        lines += [
            f"Profile {r0.get('profile', '?')}, {r0.get('n_train', '?')} training and {r0.get('n_test', '?')} "
            f"held-out cells of {r0.get('size', '?')} px per structure, seed {r0.get('seed', '?')}. Scores "
            "against the ground truth unless marked (target); background: cytosol left relative to the "
            "structure; hallucination: signal where the truth has no structure, beyond the input's; "
            "contrast: Michelson contrast of the structure. `l2l validate --table` prints this again.",
            "",
        ]
    by_structure = {}
    for r in sorted(rows, key=_order):
        by_structure.setdefault(r["structure"], []).append(r)
    for structure, group in by_structure.items():
        fwhm = structure == _FWHM_STRUCTURE
        heading = f"## {structure}"
        if fwhm:
            gt = [r.get("fwhm_gt_px") for r in group if r.get("status") == "ok"]
            gt = next((g for g in gt if _cell(g, 2)), None)
            n = next((r.get("fwhm_lines") for r in group if r.get("status") == "ok"), None)
            heading += f" (FWHM of the ground truth: {_cell(gt, 2) or 'n/a'} px" + (
                f", {n} lines)" if n not in (None, "") else ")"
            )
        columns = list(_TABLE) + ([("fwhm_px", "FWHM (px)", 2)] if fwhm else [])
        lines += [
            heading,
            "",
            "| method | " + " | ".join(h for _, h, _ in columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        failed = []
        for r in group:
            if r.get("status") != "ok":
                failed.append(r)
                lines.append(
                    f"| {r['method']} | " + " | ".join("failed" if i == 0 else "" for i in range(len(columns))) + " |"
                )
                continue
            lines.append(f"| {r['method']} | " + " | ".join(_cell(r.get(c), d) for c, _, d in columns) + " |")
        lines.append("")
        for r in failed:
            lines += [f"- {r['method']} failed: {r.get('error', '')}"]
        if failed:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
