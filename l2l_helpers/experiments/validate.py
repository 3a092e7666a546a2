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

Each training is one task on Dask, through the sweep engine of lesson 07
(:mod:`l2l_helpers.experiments.sweep`: a local cluster of one-thread process workers
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
    10 steps: 32 tasks, 28 of them trainings. The networks learn little; the
    profile checks that everything runs.
``workshop``
    the committed result: 8 training and 3 held-out cells of 256 px per
    structure (the cells of lesson 08), the workshop training profile for
    every CARE network and the workshop CycleGAN: 28 trainings, 24 of them
    CARE networks and 4 CycleGANs (times in benchmarks/results.md). The
    committed result (beside lesson 07's sweep, for notebook 09) is
    regenerated, or resumed, with::

        l2l validate run --out notebooks/data/09_validation_workshop --profile workshop

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
(notebook 09). The module is split in three: this one (settings, plan,
run), :mod:`~l2l_helpers.experiments.validation_task` (one task) and
:mod:`~l2l_helpers.experiments.validation_table` (the CSV and its
reading); the method table is :mod:`~l2l_helpers.experiments.methods`.
Every public name of the three is importable from here.

Examples
--------
>>> tasks = plan_validation(["actin"], profile="quick")
>>> [t["methods"] for t in tasks][:3]
[['input', 'input_average', 'gaussian', 'rolling_ball', 'tophat', 'clahe', 'target'], ['n2n_l1'], ['n2n_ms3']]
>>> len(tasks)
8
"""

from __future__ import annotations

import json
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

from l2l_helpers.experiments.methods import METHODS, TRAINED_METHODS, UNTRAINED_METHODS, check_names, kind_and_loss
from l2l_helpers.experiments.sweep import (
    PROFILE_SETTINGS_KEY,
    failed_row,
    open_resumable_csv,
    run_remaining,
    run_tasks,
    task_token,
)
from l2l_helpers.experiments.validation_table import (
    COLUMNS,
    NUMERIC_COLUMNS,
    VALIDATION_CSV,
    VALIDATION_JSON,
    VALIDATION_MD,
    format_validation,
    pivot,
    read_validation,
    sort_validation_csv,
    table_order,
)
from l2l_helpers.experiments.validation_task import run_validation_task
from l2l_helpers.settings import Settings, SettingsError
from l2l_helpers.training.profiles import DEFAULT_PROFILE

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
    "ValidationSettings",
    "validation_settings",
    "plan_validation",
    "run_validation_task",
    "run_validation",
    "read_validation",
    "pivot",
    "format_validation",
]


@dataclass(frozen=True)
class ValidationSettings(Settings):
    """The cells and trainings of a validation profile (:data:`VALIDATION_PROFILES`).

    Attributes
    ----------
    n_train, n_test : int
        Training cells (at least 2: the CycleGAN trains on two halves, a CARE network keeps one cell for
        validation) and held-out cells (at least 1) per structure.
    size : int
        Side of the simulated cells in px (at least 64: patches, 5-scale MS-SSIM).
    training : dict
        Overrides of the CARE training profile of the same name
        (:func:`l2l_helpers.training.profiles.profile_settings`).
    cyclegan : dict
        Overrides of its CycleGAN profile (:func:`l2l_helpers.training.cyclegan.cyclegan_settings`).

    Examples
    --------
    >>> ValidationSettings(n_train=3, n_test=2, size=128).replace(n_test=1).n_test
    1
    >>> ValidationSettings(n_train=1)
    Traceback (most recent call last):
    ...
    l2l_helpers.settings.SettingsError: n_train must be at least 2 (the CycleGAN trains on two halves, a CARE \
network keeps one cell for validation), got 1
    """

    n_train: int = 8
    n_test: int = 3
    size: int = 256
    training: dict[str, typing.Any] = field(default_factory=dict)
    cyclegan: dict[str, typing.Any] = field(default_factory=dict)

    def __post_init__(self):
        super().__post_init__()
        if self.n_train < 2:
            raise SettingsError(
                f"n_train must be at least 2 (the CycleGAN trains on two halves, a CARE network keeps "
                f"one cell for validation), got {self.n_train}"
            )
        if self.n_test < 1:
            raise SettingsError(f"n_test must be at least 1, got {self.n_test}")
        if self.size < 64:
            raise SettingsError(f"size must be at least 64 px (patches, 5-scale MS-SSIM), got {self.size}")


#: Cells and training settings of each profile (the keys are the names of
#: :data:`l2l_helpers.training.profiles.PROFILES`); see :class:`ValidationSettings`.
VALIDATION_PROFILES = {
    "quick": ValidationSettings(
        n_train=3,
        n_test=2,
        size=128,
        training={"epochs": 1, "steps_per_epoch": 20},
        cyclegan={"n_epochs": 1, "n_epochs_decay": 0, "steps_per_epoch": 10},
    ),
    "workshop": ValidationSettings(n_train=8, n_test=3, size=256),
    "paper": ValidationSettings(n_train=30, n_test=5, size=256),
}


# --------------------------------------------------------------------------- settings and plan


def validation_settings(profile=DEFAULT_PROFILE, overrides=None):
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
    from l2l_helpers.training.profiles import PROFILES, profile_settings

    if profile not in VALIDATION_PROFILES or profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(VALIDATION_PROFILES)}")
    overrides = dict(overrides or {})
    for key in overrides:
        if key not in ValidationSettings.names():
            raise ValueError(
                f"unknown validation setting {key!r}; known: {', '.join(ValidationSettings.names())} (CARE "
                "settings such as epochs go into 'training', CycleGAN settings into 'cyclegan')"
            )
    base = VALIDATION_PROFILES[profile]
    for key in ("training", "cyclegan"):  # merged into the profile's
        extra = overrides.get(key) or {}
        if not isinstance(extra, dict):
            raise ValueError(f"overrides[{key!r}] must be a dict of settings, got {extra!r}")
        overrides[key] = {**getattr(base, key), **extra}
    settings = base.replace(**overrides)
    profile_settings(profile, **settings.training)  # unknown keys, wrong types
    cyclegan_settings(profile, **settings.cyclegan)
    return json.loads(json.dumps({"profile": profile, **settings.to_dict()}))


def _data_seed(structure, seed):
    """Seed of a structure's simulated cells: 0, 1, 2, 3 for actin, tubulin, caveolae, pxn with seed 0 (lesson 08)."""
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    return len(PAIRED_STRUCTURES) * int(seed) + PAIRED_STRUCTURES.index(structure)


def plan_validation(structures=None, methods=None, profile=DEFAULT_PROFILE, seed=0, overrides=None):
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

    structures = check_names(
        PAIRED_STRUCTURES if structures is None else ([structures] if isinstance(structures, str) else structures),
        PAIRED_STRUCTURES,
        "structure",
    )
    methods = check_names(
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


# --------------------------------------------------------------------------- the run


def _profile_settings(tasks, profile, settings):
    """What the profile trains the planned networks with, as it defines it today (CARE, CycleGAN)."""
    from l2l_helpers.training.cyclegan import profile_cyclegan_settings
    from l2l_helpers.training.profiles import care_settings

    trained = {m for t in tasks for m in t["methods"] if m in TRAINED_METHODS}
    trainings = {}
    if trained - {"cyclegan"}:
        trainings["care"] = care_settings(profile, **settings["training"]).to_dict()
    if "cyclegan" in trained:
        trainings["cyclegan"] = profile_cyclegan_settings(profile, **settings["cyclegan"]).to_dict()
    return json.loads(json.dumps(trainings))


def _validation_config(tasks, profile, seed, overrides):
    """What ``validation.json`` records (after the schema version the sweep engine adds): structures, methods,
    seed, the settings (:class:`ValidationSettings` with the profile's name) and the profile's training settings
    (:class:`~l2l_helpers.training.profiles.CARESettings`, :class:`~l2l_helpers.training.cyclegan.CycleGANSettings`)."""
    structures = sorted({t["structure"] for t in tasks}, key=lambda s: table_order({"structure": s, "method": ""}))
    config = {
        "structures": structures,
        "methods": [m for m in METHODS if any(m in t["methods"] for t in tasks)],
        "seed": int(seed),
        "settings": validation_settings(profile, overrides),
    }
    config = json.loads(json.dumps(config))
    config[PROFILE_SETTINGS_KEY] = _profile_settings(tasks, profile, config["settings"])
    return config


def _failed_rows(task, error):
    """One failed row per method of a task."""
    rows = []
    for method in task["methods"]:
        kind, loss = kind_and_loss(method)
        rows.append(
            failed_row(
                COLUMNS,
                error,
                structure=task["structure"],
                method=method,
                kind=kind,
                loss=loss,
                profile=task["profile"],
                size=task["data"]["size"],
                n_train=task["n_train"],
                n_test=task["n_test"],
                seed=task["seed"],
            )
        )
    return rows


def _row_handler(rows_csv, planned, done, summary):
    """``handle(task, rows, error)`` for :func:`~l2l_helpers.experiments.sweep.run_tasks`: planned rows not yet
    written are appended; a task that failed, or returned no row for one of its methods, gives failed rows."""

    def handle(task, rows, error):
        summary["ran"] += 1
        if error is None:
            got = {r.get("method") for r in rows} if isinstance(rows, list) else set()
            missing = [m for m in task["methods"] if m not in got]
            if missing:
                error = f"ValueError: the task returned no row for {', '.join(missing)}"
        if error is not None:
            summary["failed"] += 1
            rows = _failed_rows(task, error)
        new = []
        for row in rows:
            key = (row["structure"], row["method"])
            if key in planned and key not in done:
                new.append(row)
                done.add(key)
        summary["rows"] += len(new)
        rows_csv.append(new)

    return handle


def _open_validation_folder(out_dir, config, planned, overwrite):
    """The resumable ``validation.csv`` (finished rows of an earlier run of the same configuration kept)."""
    return open_resumable_csv(
        Path(out_dir),
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


def _task_key(config):
    """The Dask key of a task: the run's token, the structure and the method (or ``untrained``)."""
    token = task_token(config)

    def key(t):
        return f"validate-{token}-{t['structure']}-{'untrained' if len(t['methods']) > 1 else t['methods'][0]}"

    return key


def _run_todo(todo, rows_csv, planned, done, summary, *, task_function, config, profile, run):
    """Run the tasks still to do; their rows go into the CSV as they finish. The dashboard or None."""
    n_tasks = summary["tasks"]
    return run_tasks(
        todo,
        task_function or run_validation_task,
        _task_key(config),
        _row_handler(rows_csv, planned, done, summary),
        profile=profile,
        desc="validation tasks",
        announce=lambda n, where: (
            f"{n_tasks} tasks ({len(planned)} rows): {summary['skipped']} already "
            f"done in {VALIDATION_CSV}, {len(todo)} to run on {n} workers ({where})"
        ),
        **run,
    )


def run_validation(
    out_dir,
    structures=None,
    profile=DEFAULT_PROFILE,
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
    on Dask (:func:`l2l_helpers.experiments.sweep.local_cluster` by default); its rows
    are appended to ``OUT_DIR/validation.csv`` (and flushed) as it finishes.
    Running the same call again on the same folder **resumes**: rows with
    status ``ok`` are kept, and only tasks with a missing or failed row run
    (rows already present are not written twice). A task that raises is
    retried once; one that fails twice gives a ``failed`` row per method,
    with its error, and the others go on. ``OUT_DIR/validation.json``
    records the schema version and the configuration, with the training settings the profile gave
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
        resource ``training``), a client, or ``"inline"``
        (:data:`l2l_helpers.experiments.sweep.INLINE`: in this process, without Dask).
    workers : int, optional
        Local workers (default :func:`l2l_helpers.experiments.sweep.default_workers`); ignored with ``scheduler``.
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
    t0 = time.perf_counter()
    tasks = plan_validation(structures, methods, profile, seed, overrides)
    config = _validation_config(tasks, profile, seed, overrides)
    planned = {(t["structure"], m) for t in tasks for m in t["methods"]}
    rows_csv = _open_validation_folder(out_dir, config, planned, overwrite)
    done = {(r["structure"], r["method"]) for r in rows_csv.kept}
    todo = [t for t in tasks if any((t["structure"], m) not in done for m in t["methods"])]
    summary = {"csv": rows_csv.path, "table": rows_csv.out.path_for(VALIDATION_MD), "tasks": len(tasks)}
    summary.update(skipped=len(tasks) - len(todo), ran=0, failed=0, rows=len(rows_csv.kept), dashboard=None)
    summary["dashboard"] = run_remaining(
        rows_csv,
        todo,
        lambda todo, run: _run_todo(
            todo, rows_csv, planned, done, summary, task_function=task_function, config=config, profile=profile, run=run
        ),
        nothing_to_run=f"{len(tasks)} tasks: every row already in {VALIDATION_CSV}; nothing to run",
        progress=progress,
        scheduler=scheduler,
        workers=workers,
    )
    sort_validation_csv(summary["csv"])
    summary["table"].write_text(format_validation(read_validation(summary["csv"])), encoding="utf-8")
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    rows_csv.out.close(**{k: summary[k] for k in ("tasks", "skipped", "ran", "failed", "rows")})
    return summary
