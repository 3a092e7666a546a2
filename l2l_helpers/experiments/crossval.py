"""How many image pairs are enough? Repeated cross-validation, run on Dask.

The label2label paper (Fig. 5) asked how many training pairs a network needs:
for each number of pairs ``N`` it drew ``N`` pairs at random from the whole
dataset, split them into ``K`` folds **by image pair**, trained on ``K - 1``
folds and tested on the held-out one, and repeated this with new random
draws (more repetitions for small ``N``, whose results vary most). The
number of epochs grew linearly with ``N``.

A sweep is many independent trainings, so each (N, repetition, fold) is one
task, described by the engine's JSON :class:`~l2l_helpers.experiments.experiment.Experiment`
and run by :func:`run_task` (a thin wrapper of
:func:`~l2l_helpers.experiments.experiment.run_experiment` returning one plain CSV row)
on a `dask.distributed <https://distributed.dask.org>`_ cluster: a local
cluster of process workers by default, or any running scheduler
(``scheduler="tcp://..."``, e.g. an HPC cluster started with dask-jobqueue).
:func:`run_crossval` writes one row per task into ``results.csv`` as tasks
finish, and **resumes**: run it again on the same output folder and it skips
every row already written.

The settings of a sweep are one :class:`SweepSettings`. The cluster, the
resumable CSV and the settings check are the sweep engine's
(:mod:`l2l_helpers.experiments.sweep`). Functions without Dask or TensorFlow
(:func:`plan_crossval`, and in :mod:`~l2l_helpers.experiments.crossval_results`:
:func:`read_results`, :func:`relative_changes`, :func:`summarize`) plan the
folds and analyse a finished CSV; the figure is
:func:`l2l_helpers.plotting.sweep.plot_crossval`. Every public name of those
modules used by lesson 07 is importable from here.

Examples
--------
>>> plan = plan_crossval(n_images=16, n_pairs=(4, 8), folds=4, repeats=1, repeats_small=2)
>>> len(plan), plan[0]["n_pairs"], len(plan[0]["train"]), len(plan[0]["test"])
(12, 4, 3, 1)
>>> sorted(plan[0]["test"] + plan[0]["train"]) == sorted(plan[0]["pairs"])
True
"""

from __future__ import annotations

import json
import os
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l2l_helpers.experiments.crossval_plan import crossval_tasks, plan_crossval, repeats_per_n, scaled_epochs
from l2l_helpers.experiments.crossval_results import (
    COLUMNS,
    GROUND_TRUTH_COLUMNS,
    METRICS,
    RESULTS_CSV,
    columns,
    format_summary,
    read_results,
    relative_changes,
    summarize,
)
from l2l_helpers.experiments.sweep import (
    MEMORY_PER_WORKER_GB,
    PROFILE_SETTINGS_KEY,
    RESOURCE,
    default_workers,
    failed_row,
    local_cluster,
    open_resumable_csv,
    prepare_worker,
    run_remaining,
    run_tasks,
    task_token,
)
from l2l_helpers.plotting.sweep import plot_crossval, save_crossval_figure
from l2l_helpers.settings import Settings

__all__ = [
    "MEMORY_PER_WORKER_GB",
    "COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "RESULTS_CSV",
    "RESOURCE",
    "SWEEP_JSON",
    "PROFILE_SETTINGS_KEY",
    "FIGURE",
    "SweepSettings",
    "repeats_per_n",
    "scaled_epochs",
    "plan_crossval",
    "crossval_tasks",
    "run_task",
    "default_workers",
    "local_cluster",
    "run_crossval",
    "read_results",
    "relative_changes",
    "summarize",
    "format_summary",
    "plot_crossval",
]

#: File names in the output folder (the rows: :data:`RESULTS_CSV`).
SWEEP_JSON = "sweep.json"
FIGURE = "crossval.png"
_KEY = ("n_pairs", "repeat", "fold")


@dataclass(frozen=True)
class SweepSettings(Settings):
    """The settings of a cross-validation sweep (what ``sweep.json`` records, with the profile's settings).

    Attributes
    ----------
    data : dict
        Experiment data: ``{"simulate": {"structure": ..., "n": M, "size": S, "seed": 0}}`` or
        ``{"input_dir": ..., "target_dir": ...[, "ground_truth_dir": ...]}``.
    n_pairs : tuple of int
        Numbers of training pairs N.
    folds : int
        K of the K-fold cross-validation.
    repeats, repeats_small : int
        Repetitions per N; ``repeats_small`` for the smaller half of the N values (:func:`repeats_per_n`).
    profile, loss : str
        Training profile and loss.
    overrides : dict
        Profile settings to replace; ``epochs`` is that of the largest N.
    seed : int
        Seed of the draws and trainings.
    prefilter : float, optional
        Gaussian sigma applied to all images before scoring (1.5 for caveolae in the paper).
    scale_epochs : bool
        Scale epochs linearly with N (:func:`scaled_epochs`).

    Examples
    --------
    >>> s = SweepSettings(data={"simulate": {"structure": "actin", "n": 8}}, n_pairs=[8, 4], folds=4)
    >>> s.replace(profile="quick").record()["n_pairs"], s.prefilter
    ([4, 8], None)
    """

    data: dict[str, typing.Any]
    n_pairs: tuple[int, ...]
    folds: int
    repeats: int = 1
    repeats_small: int | None = None
    profile: str = "workshop"
    loss: str = "l1"
    overrides: dict[str, typing.Any] = field(default_factory=dict)
    seed: int = 0
    prefilter: float | None = None
    scale_epochs: bool = True

    def record(self):
        """The settings as ``sweep.json`` records them (numbers of pairs sorted, each once), without the
        profile's settings."""
        return {**self.to_dict(), "n_pairs": sorted(set(self.n_pairs))}


# --------------------------------------------------------------------------- one task


def _prefiltered_scores(experiment, model_dir, sigma):
    """Restore the test images again with the saved model and score them after a Gaussian filter."""
    from scipy.ndimage import gaussian_filter

    from l2l_helpers.experiments.experiment import load_experiment_data
    from l2l_helpers.restoring.restorers import load_restorer
    from l2l_helpers.scoring.metrics import score_restorations

    d = load_experiment_data(experiment)
    test = list(experiment.test_images)
    inputs = [d["input"][i] for i in test]
    restored = load_restorer(model_dir).restore_many(inputs, progress=False)

    def blur(images):
        return [gaussian_filter(np.asarray(im, dtype=np.float32), sigma) for im in images]

    methods = {"input": blur(inputs), "restored": blur(restored)}
    out = {"scores": score_restorations(methods, blur([d["reference"][i] for i in test]))}
    if "ground_truth" in d:
        out["scores_ground_truth"] = score_restorations(methods, blur([d["ground_truth"][i] for i in test]))
    return {k: {m: dict(v["mean"]) for m, v in s.items()} for k, s in out.items()}


def _task_row(task, experiment, result):
    """A task's row from its experiment's result: the task's key, its images and scores."""
    row = {
        "n_pairs": task["n_pairs"],
        "repeat": task["repeat"],
        "fold": task["fold"],
        "epochs": experiment.overrides.get("epochs"),
        "seed": experiment.seed,
        "train_images": " ".join(n for n in result["train_images"] if n not in result["validation_images"]),
        "validation_images": " ".join(result["validation_images"]),
        "test_images": " ".join(result["test_images"]),
    }
    for suffix, scores in (("", result["scores"]), ("_gt", result.get("scores_ground_truth"))):
        if not scores:
            continue
        for metric in METRICS:
            for method in ("input", "restored"):
                row[f"{metric}_{method}{suffix}"] = float(scores[method][metric])
    return row


def run_task(task):
    """Run one cross-validation task and return its CSV row (plain data).

    The function each Dask worker runs. It sets TensorFlow's thread pools to
    the worker's number of threads (before TensorFlow does any work), runs
    the task's experiment with :func:`~l2l_helpers.experiments.experiment.run_experiment`
    (which clears Keras' session and restores all global random state) and
    returns the scores. With a ``prefilter``, the test images are scored
    after a Gaussian filter of that sigma (input, restoration, target and
    ground truth alike). Errors propagate, so Dask can retry the task.

    Parameters
    ----------
    task : dict
        One entry of :func:`crossval_tasks`.

    Returns
    -------
    dict
        One row: the keys of :data:`COLUMNS` (plus :data:`GROUND_TRUTH_COLUMNS`
        when there is a ground truth), ``seconds``, ``worker``, ``status`` (``"ok"``)
        and ``error`` (empty).

    Examples
    --------
    >>> plan = plan_crossval(n_images=4, n_pairs=[4], folds=2)
    >>> task = crossval_tasks(plan, {"simulate": {"structure": "actin", "n": 4, "size": 96}}, profile="quick",
    ...                       overrides={"epochs": 1, "steps_per_epoch": 2})[0]
    >>> row = run_task(task)  # doctest: +SKIP
    >>> row["status"], row["nrmse_restored"] < row["nrmse_input"]  # doctest: +SKIP
    ('ok', True)
    """
    import socket
    import tempfile

    from l2l_helpers.experiments.experiment import Experiment, run_experiment

    t0 = time.perf_counter()
    prepare_worker()
    experiment = Experiment.from_dict(task["experiment"])
    sigma = task.get("prefilter")
    if sigma:
        with tempfile.TemporaryDirectory(prefix="l2l-crossval-") as tmp:
            exp = Experiment.from_dict({**experiment.to_dict(), "model_dir": str(Path(tmp) / "model")})
            result = run_experiment(exp)
            result.update(_prefiltered_scores(exp, Path(tmp) / "model", float(sigma)))
    else:
        result = run_experiment(experiment)
    row = _task_row(task, experiment, result)
    row.update(
        seconds=round(time.perf_counter() - t0, 1),
        worker=f"{socket.gethostname()}:{os.getpid()}",
        status="ok",
        error="",
    )
    return row


# --------------------------------------------------------------------------- the sweep


def _n_images_and_truth(data):
    """Number of image pairs and whether there is a ground truth; checks folders (errors name files)."""
    from l2l_helpers.data.io import match_pairs

    if "simulate" in data:
        return int(data["simulate"]["n"]), True
    folders = [data["input_dir"], data["target_dir"]] + [data[k] for k in ("ground_truth_dir",) if data.get(k)]
    names, _ = match_pairs(*folders)
    return len(names), bool(data.get("ground_truth_dir"))


def _sweep_settings(settings, data, n_pairs, folds, options):
    """The sweep's :class:`SweepSettings`: made of the keywords (None: the default), or ``settings`` with the
    keywords given (not None) replaced."""
    given = {"data": data, "n_pairs": n_pairs, "folds": folds, **options}
    if settings is not None:
        return settings.replace(**given)
    return SweepSettings.from_dict(
        {k: v for k, v in given.items() if v is not None or k in ("data", "n_pairs", "folds")}
    )


def _sweep_record(settings):
    """What ``sweep.json`` records (after the schema version the sweep engine adds): the settings and the
    training settings the profile gives, as the JSON of :class:`SweepSettings` and
    :class:`~l2l_helpers.training.profiles.CARESettings`."""
    from l2l_helpers.training.profiles import care_settings

    care = care_settings(settings.profile, **settings.overrides)
    return {**settings.record(), PROFILE_SETTINGS_KEY: {"care": care.to_dict()}}


def _failed_task_row(task, error, has_ground_truth):
    exp = task["experiment"]
    key = {k: task[k] for k in _KEY}
    return failed_row(columns(has_ground_truth), error, **key, epochs=exp["overrides"].get("epochs"), seed=exp["seed"])


def _row_handler(rows_csv, summary, has_truth):
    """``handle(task, row, error)`` for :func:`~l2l_helpers.experiments.sweep.run_tasks`: each row appended as
    it comes, a failed row for a task that failed twice."""

    def handle(task, row, error):
        if error is not None:
            row = _failed_task_row(task, error, has_truth)
            summary["failed"] += 1
        rows_csv.append([row])
        summary["ran"] += 1

    return handle


def _run_todo(todo, rows_csv, summary, has_truth, *, record, task_function, profile, run):
    """Run the tasks still to do; their rows go into the CSV as they finish. The dashboard or None."""
    token = task_token(record)
    n_tasks, n_kept = summary["tasks"], summary["skipped"]
    return run_tasks(
        todo,
        task_function or run_task,
        lambda t: f"crossval-{token}-n{t['n_pairs']}-r{t['repeat']}-f{t['fold']}",
        _row_handler(rows_csv, summary, has_truth),
        profile=profile,
        desc="cross-validation tasks",
        announce=lambda n, where: (
            f"{n_tasks} tasks: {n_kept} already in {RESULTS_CSV}, {len(todo)} to run on {n} workers ({where})"
        ),
        **run,
    )


def _input_folders(data):
    """The folders a sweep reads (the output folder may not be one of them)."""
    if "simulate" in data:
        return []
    return [data[k] for k in ("input_dir", "target_dir", "ground_truth_dir") if data.get(k)]


def _open_sweep_folder(out_dir, settings, record, tasks, has_truth, overwrite):
    """The resumable ``results.csv`` of the sweep (finished rows of an earlier run of the same sweep kept)."""
    return open_resumable_csv(
        out_dir,
        "crossval",
        record,
        settings_json=SWEEP_JSON,
        csv_name=RESULTS_CSV,
        columns=columns(has_truth),
        key=lambda r: tuple(int(r[k]) for k in _KEY),
        planned={tuple(int(t[k]) for k in _KEY) for t in tasks},
        inputs=_input_folders(settings.data),
        overwrite=overwrite,
        what="sweep",
    )


def run_crossval(
    out_dir,
    data=None,
    n_pairs=None,
    folds=None,
    *,
    settings=None,
    workers=None,
    scheduler=None,
    overwrite=False,
    progress=True,
    task_function=None,
    **options,
):
    """Run (or resume) a repeated cross-validation sweep on Dask; rows stream into ``results.csv``.

    Everything is checked before any training starts (settings, pairs, folds, the
    output folder). Each (N, repetition, fold) runs as one Dask task; rows
    are appended to ``OUT_DIR/results.csv`` (and flushed) as tasks finish
    (``as_completed``). Running the same call again on the same folder
    **resumes**: rows with status ``ok`` are kept and not recomputed, failed
    and missing ones run. A task whose worker dies is retried on another
    worker; a task that raises is retried once; a task that fails twice is
    written with status ``failed`` and its error, and the others go on.
    ``OUT_DIR/sweep.json`` records the schema version and the sweep's settings, with the training
    settings the profile gave (``profile_settings``); resuming with other
    settings, or after the profile's definition changed, is refused (use
    ``overwrite`` or another folder).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created; written through :func:`l2l_helpers.data.io.open_output`).
    data, n_pairs, folds
        Settings of the sweep (see :class:`SweepSettings`).
    settings : SweepSettings, optional
        All settings of the sweep at once; keywords given beside it replace its values.
    workers : int, optional
        Local workers (default :func:`~l2l_helpers.experiments.sweep.default_workers`); ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (``tcp://host:8786``), a client, or ``"inline"``
        (:data:`~l2l_helpers.experiments.sweep.INLINE`: in this process, without Dask).
    overwrite : bool
        Start afresh: remove the previous sweep's files (and only those).
    progress : bool
        Show a progress bar over tasks and print the dashboard address.
    task_function : callable, optional
        What each task runs (default :func:`run_task`); for tests and extensions.
    **options
        The other settings of :class:`SweepSettings` by name: ``repeats``, ``repeats_small``, ``profile``,
        ``loss``, ``overrides``, ``seed``, ``prefilter``, ``scale_epochs``.

    Returns
    -------
    dict
        ``csv`` (Path), ``tasks`` (planned), ``skipped`` (rows found done),
        ``ran``, ``failed``, ``seconds``, ``dashboard`` (address or None),
        ``figure`` (``crossval.png``, drawn by :func:`~l2l_helpers.plotting.sweep.plot_crossval`, or None without
        finished rows).

    Raises
    ------
    ImageError
        Unpaired or unreadable folders (the files are named).
    ValueError
        Bad numbers (see :func:`plan_crossval`), an unknown or wrong-typed setting
        (:class:`~l2l_helpers.settings.SettingsError`), or a folder holding a sweep with other settings.
    FileExistsError
        A non-empty folder not written by ``crossval``.

    Examples
    --------
    >>> summary = run_crossval("results/crossval", {"simulate": {"structure": "actin", "n": 16, "size": 128}},
    ...                        n_pairs=[4, 8], folds=4, profile="quick", workers=2)  # doctest: +SKIP
    >>> summary["ran"] + summary["skipped"] == summary["tasks"]  # doctest: +SKIP
    True
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    s = _sweep_settings(settings, data, n_pairs, folds, options)
    n_images, has_truth = _n_images_and_truth(s.data)
    plan = plan_crossval(n_images, s.n_pairs, s.folds, s.repeats, s.repeats_small, s.seed)
    tasks = crossval_tasks(plan, s.data, s.profile, s.loss, s.overrides, s.prefilter, s.scale_epochs)
    record = json.loads(json.dumps(_sweep_record(s)))
    rows_csv = _open_sweep_folder(out_dir, s, record, tasks, has_truth, overwrite)
    figure_path = rows_csv.out.path_for(FIGURE)  # drawn at the end; recorded now, so 'l2l crossval plot' may redraw it
    done = {tuple(int(r[k]) for k in _KEY) for r in rows_csv.kept}
    todo = [t for t in tasks if (t["n_pairs"], t["repeat"], t["fold"]) not in done]
    summary = {"csv": rows_csv.path, "tasks": len(tasks), "skipped": len(rows_csv.kept), "ran": 0, "failed": 0}
    summary["dashboard"] = None
    summary["dashboard"] = run_remaining(
        rows_csv,
        todo,
        lambda todo, run: _run_todo(
            todo, rows_csv, summary, has_truth, record=record, task_function=task_function, profile=s.profile, run=run
        ),
        nothing_to_run=f"{len(tasks)} tasks: all already in {RESULTS_CSV}; nothing to run",
        progress=progress,
        scheduler=scheduler,
        workers=workers,
    )
    rows = read_results(summary["csv"])
    if any(r["status"] == "ok" for r in rows):
        save_crossval_figure(rows, figure_path, title=out_dir.name)
    summary["figure"] = figure_path if figure_path.is_file() else None
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    rows_csv.out.close(tasks=len(tasks), skipped=summary["skipped"], ran=summary["ran"], failed=summary["failed"])
    return summary
