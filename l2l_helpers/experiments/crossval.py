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

Functions without Dask or TensorFlow (:func:`plan_crossval`,
:func:`read_results`, :func:`relative_changes`, :func:`summarize`,
:func:`plot_crossval`) plan the folds and analyse a finished CSV.

Examples
--------
>>> plan = plan_crossval(n_images=16, n_pairs=(4, 8), folds=4, repeats=1, repeats_small=2)
>>> len(plan), plan[0]["n_pairs"], len(plan[0]["train"]), len(plan[0]["test"])
(12, 4, 3, 1)
>>> sorted(plan[0]["test"] + plan[0]["train"]) == sorted(plan[0]["pairs"])
True
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
    "MEMORY_PER_WORKER_GB",
    "COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "RESULTS_CSV",
    "RESOURCE",
    "SWEEP_JSON",
    "PROFILE_SETTINGS_KEY",
    "FIGURE",
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

#: Memory one worker needs for one training, in GB, per profile: the peak
#: memory of a training process measured for :data:`l2l_helpers.training.profiles.PROFILES`
#: (0.75, 0.85, 1.25 GB) plus about 0.3 GB for the Dask worker and the test
#: images. :func:`default_workers` divides the free memory by it.
MEMORY_PER_WORKER_GB = {"quick": 1.05, "workshop": 1.15, "paper": 1.6}

#: Columns of ``results.csv``, in order (the ground-truth columns follow the
#: metrics when the data have a ground truth). Image lists are file names
#: separated by spaces; ``seconds`` is the task's wall time; ``status`` is
#: ``ok`` or ``failed`` (then ``error`` says why and the metrics are empty).
COLUMNS = (
    "n_pairs",
    "repeat",
    "fold",
    "epochs",
    "seed",
    "train_images",
    "validation_images",
    "test_images",
    "nrmse_input",
    "nrmse_restored",
    "ms5_input",
    "ms5_restored",
    "psnr_input",
    "psnr_restored",
)
#: Columns added when the data have a ground truth: the same metrics against it.
GROUND_TRUTH_COLUMNS = (
    "nrmse_input_gt",
    "nrmse_restored_gt",
    "ms5_input_gt",
    "ms5_restored_gt",
    "psnr_input_gt",
    "psnr_restored_gt",
)
_TAIL = ("seconds", "worker", "status", "error")
#: The Dask worker resource a training task holds: a worker runs one training at a time (Keras' session is
#: global to the process), using all its threads. Workers of an external cluster must offer it
#: (``dask worker ... --resources training=1``; dask-jobqueue: ``worker_extra_args=["--resources", "training=1"]``).
RESOURCE = "training"
#: File names in the output folder.
RESULTS_CSV = "results.csv"
SWEEP_JSON = "sweep.json"
FIGURE = "crossval.png"
_KEY = ("n_pairs", "repeat", "fold")
_METRICS = ("nrmse", "ms5", "psnr")


# --------------------------------------------------------------------------- planning


def repeats_per_n(n_pairs, repeats, repeats_small=None):
    """Number of repetitions for each N: ``repeats_small`` for the smaller half of the N values.

    Small training sets vary most from draw to draw, so the paper repeated
    them more often. The "smaller half" is the ``len(n_pairs) // 2`` smallest
    values (8 and 16 of 8, 16, 32, 64; 10 of 10, 30, 50; the smaller of two).

    Parameters
    ----------
    n_pairs : sequence of int
        Numbers of image pairs.
    repeats : int
        Repetitions of each cross-validation.
    repeats_small : int, optional
        Repetitions for the smaller half (default ``repeats``).

    Returns
    -------
    dict of int to int

    Examples
    --------
    >>> repeats_per_n([8, 16, 32, 64], repeats=2, repeats_small=4)
    {8: 4, 16: 4, 32: 2, 64: 2}
    >>> repeats_per_n([10, 30, 50], repeats=3, repeats_small=5)
    {10: 5, 30: 3, 50: 3}
    """
    ns = sorted(int(n) for n in n_pairs)
    small = set(ns[: len(ns) // 2]) if repeats_small is not None else set()
    return {n: int(repeats_small) if n in small else int(repeats) for n in ns}


def scaled_epochs(n, n_max, epochs):
    """Epochs for N pairs, scaled linearly with N: the largest N gets ``epochs``.

    Parameters
    ----------
    n, n_max : int
        This number of pairs and the largest of the sweep.
    epochs : int
        Epochs of the largest N (the profile's, or an override).

    Returns
    -------
    int
        ``round(epochs * n / n_max)``, at least 1.

    Examples
    --------
    >>> [scaled_epochs(n, 64, 100) for n in (8, 16, 32, 64)]
    [12, 25, 50, 100]
    """
    return max(1, int(round(epochs * n / n_max)))


def plan_crossval(n_images, n_pairs, folds, repeats=1, repeats_small=None, seed=0):
    """Plan a repeated K-fold cross-validation over numbers of image pairs.

    For each N and repetition, N pairs are drawn at random (without
    replacement) from all ``n_images`` pairs and split into ``folds`` folds
    **by pair**; each fold is the test set of one training on the other
    folds. Every drawn pair is tested exactly once per repetition, and no
    pair is ever both trained on and tested in one fold.

    Parameters
    ----------
    n_images : int
        Image pairs available.
    n_pairs : sequence of int
        Numbers of pairs N to draw (each at most ``n_images``).
    folds : int
        K, at least 2 and at most the smallest N.
    repeats, repeats_small : int
        Repetitions per N (see :func:`repeats_per_n`).
    seed : int
        Seed of the draws and of the trainings (same seed, same plan).

    Returns
    -------
    list of dict
        One entry per task, sorted by (N, repetition, fold): ``n_pairs``,
        ``repeat``, ``fold``, ``pairs`` (the N drawn image indices),
        ``train`` and ``test`` (sorted indices), ``seed`` (training seed).

    Raises
    ------
    ValueError
        No N, N larger than the images available, K < 2, K larger than the
        smallest N allows (every fold needs a test pair), or too few pairs
        left for training (at least 2: one trains, one validates).

    Examples
    --------
    >>> plan = plan_crossval(n_images=10, n_pairs=[4], folds=2, seed=1)
    >>> [(t["fold"], t["train"], t["test"]) for t in plan]
    [(0, [8, 9], [3, 4]), (1, [3, 4], [8, 9])]
    >>> plan_crossval(n_images=6, n_pairs=[4, 8], folds=2)
    Traceback (most recent call last):
    ...
    ValueError: N = 8 pairs asked for, but there are only 6 image pairs
    """
    ns = sorted({int(n) for n in n_pairs})
    if not ns:
        raise ValueError("give at least one number of pairs N")
    if any(n < 1 for n in ns):
        raise ValueError(f"numbers of pairs must be positive, got {ns}")
    if ns[-1] > n_images:
        raise ValueError(f"N = {ns[-1]} pairs asked for, but there are only {n_images} image pairs")
    folds = int(folds)
    if folds < 2:
        raise ValueError(f"K = {folds} folds: cross-validation needs at least 2")
    if folds > ns[0]:
        raise ValueError(
            f"K = {folds} folds cannot be made from N = {ns[0]} pairs: every fold needs at least "
            f"one test pair (use K <= {ns[0]} or a larger smallest N)"
        )
    if ns[0] - math.ceil(ns[0] / folds) < 2:
        raise ValueError(
            f"N = {ns[0]} with K = {folds} folds leaves {ns[0] - math.ceil(ns[0] / folds)} training "
            "pair(s); at least 2 are needed (one trains, one validates)"
        )
    reps = repeats_per_n(ns, repeats, repeats_small)
    if any(r < 1 for r in reps.values()):
        raise ValueError(f"repetitions must be at least 1, got {reps}")
    plan = []
    for n in ns:
        for r in range(reps[n]):
            rng = np.random.default_rng([int(seed), n, r])
            drawn = [int(i) for i in rng.choice(n_images, size=n, replace=False)]
            parts = np.array_split(np.array(drawn), folds)
            for k, test in enumerate(parts):
                test = sorted(int(i) for i in test)
                train = sorted(i for i in drawn if i not in test)
                state = np.random.SeedSequence([int(seed), n, r, k]).generate_state(1)[0]
                plan.append(
                    {
                        "n_pairs": n,
                        "repeat": r,
                        "fold": k,
                        "pairs": sorted(drawn),
                        "train": train,
                        "test": test,
                        "seed": int(state % 2**31),
                    }
                )
    return plan


def crossval_tasks(plan, data, profile="workshop", loss="l1", overrides=None, prefilter=None, scale_epochs=True):
    """Turn a plan into tasks: one JSON experiment per (N, repetition, fold).

    Parameters
    ----------
    plan : list of dict
        From :func:`plan_crossval`.
    data : dict
        The experiments' data (see :class:`~l2l_helpers.experiments.experiment.Experiment`):
        ``{"simulate": {...}}`` or ``{"input_dir": ..., "target_dir": ...[, "ground_truth_dir": ...]}``.
    profile, loss : str
        Training profile and loss.
    overrides : dict, optional
        Profile settings to replace. ``epochs`` (or the profile's) is what
        the largest N trains for.
    prefilter : float, optional
        Sigma of a Gaussian filter applied to every image before scoring
        (the paper used 1.5 for caveolae).
    scale_epochs : bool
        Scale epochs linearly with N (:func:`scaled_epochs`), as the paper did.

    Returns
    -------
    list of dict
        ``{"n_pairs", "repeat", "fold", "experiment": Experiment.to_dict(), "prefilter"}``: plain data,
        what :func:`run_task` takes.

    Examples
    --------
    >>> plan = plan_crossval(n_images=8, n_pairs=[4, 8], folds=4)
    >>> tasks = crossval_tasks(plan, {"simulate": {"structure": "actin", "n": 8}}, profile="quick")
    >>> [t["experiment"]["overrides"]["epochs"] for t in tasks if t["fold"] == 0]
    [5, 10]
    """
    from l2l_helpers.experiments.experiment import Experiment
    from l2l_helpers.training.profiles import profile_settings

    overrides = dict(overrides or {})
    base_epochs = profile_settings(profile, **overrides)["epochs"]
    n_max = max(t["n_pairs"] for t in plan)
    tasks = []
    for t in plan:
        o = dict(overrides)
        o["epochs"] = scaled_epochs(t["n_pairs"], n_max, base_epochs) if scale_epochs else base_epochs
        exp = Experiment(
            data=data,
            method="l2l",
            loss=loss,
            profile=profile,
            overrides=o,
            seed=t["seed"],
            train_images=t["train"],
            test_images=t["test"],
        )
        tasks.append(
            {
                "n_pairs": t["n_pairs"],
                "repeat": t["repeat"],
                "fold": t["fold"],
                "experiment": exp.to_dict(),
                "prefilter": None if prefilter is None else float(prefilter),
            }
        )
    return tasks


# --------------------------------------------------------------------------- one task


def _limit_tf_threads(n):
    """Set TensorFlow's thread pools to ``n`` threads (before TensorFlow does work)."""
    import tensorflow as tf

    if tf.config.threading.get_intra_op_parallelism_threads() == n:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:  # TensorFlow already ran something in this process: keep its pools
        return False
    return True


def _worker_threads():
    """Threads of the Dask worker running this task (1 outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    n = getattr(worker, "nthreads", None) or getattr(getattr(worker, "state", None), "nthreads", None)
    return int(n) if n else None


def _prepare_worker():
    """Inside a Dask worker (a process of ours): TensorFlow on the worker's threads, its notices off.

    Call it first in a task function, before TensorFlow does any work. Outside a worker it does nothing.
    Returns the worker's number of threads (None outside a worker).
    """
    threads = _worker_threads()
    if threads:  # its thread pools, and no TensorFlow notices
        _limit_tf_threads(threads)  # (retracing warnings when one process builds one model per task)
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return threads


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
    _prepare_worker()
    experiment = Experiment.from_dict(task["experiment"])
    sigma = task.get("prefilter")
    if sigma:
        with tempfile.TemporaryDirectory(prefix="l2l-crossval-") as tmp:
            exp = Experiment.from_dict({**experiment.to_dict(), "model_dir": str(Path(tmp) / "model")})
            result = run_experiment(exp)
            result.update(_prefiltered_scores(exp, Path(tmp) / "model", float(sigma)))
    else:
        result = run_experiment(experiment)
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
        for metric in _METRICS:
            for method in ("input", "restored"):
                row[f"{metric}_{method}{suffix}"] = float(scores[method][metric])
    row.update(
        seconds=round(time.perf_counter() - t0, 1),
        worker=f"{socket.gethostname()}:{os.getpid()}",
        status="ok",
        error="",
    )
    return row


# --------------------------------------------------------------------------- the cluster


def default_workers(profile="workshop", memory_gb=None, cpus=None):
    """How many one-thread training workers fit on this machine.

    One worker per CPU core, but no more than fit in the free memory: the
    available memory (or the container's limit, if lower), minus 1 GB for
    this process and the notebook, divided by :data:`MEMORY_PER_WORKER_GB`
    of the profile; at least 1.

    Parameters
    ----------
    profile : str
        Training profile.
    memory_gb : float, optional
        Free memory in GB (default: measured with psutil and Dask's
        container-aware limit).
    cpus : int, optional
        CPU cores usable by this process (default: measured).

    Returns
    -------
    int

    Examples
    --------
    >>> default_workers("workshop", memory_gb=16, cpus=2)
    2
    >>> default_workers("workshop", memory_gb=3.4, cpus=8)
    2
    >>> default_workers("paper", memory_gb=1.5, cpus=4)
    1
    """
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if memory_gb is None:
        import psutil

        free = psutil.virtual_memory().available
        try:
            from distributed.system import MEMORY_LIMIT

            free = min(free, MEMORY_LIMIT)
        except ImportError:  # pragma: no cover
            pass
        memory_gb = free / 1e9
    fit = int((memory_gb - 1.0) // MEMORY_PER_WORKER_GB[profile])
    return max(1, min(int(cpus), fit))


def _dashboard_available():
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def local_cluster(n_workers, allowed_failures=1):
    """Start a local Dask cluster for trainings: spawned process workers, one thread each.

    Scheduler, workers and dashboard listen on 127.0.0.1 only. Each worker
    offers one :data:`RESOURCE`, so it runs one training at a time. Workers are
    started with the ``spawn`` method (a fresh interpreter: no TensorFlow
    state inherited) and are daemonic. A task whose worker dies is retried
    ``allowed_failures`` times on another worker, then reported as failed.
    The scheduler's web server listens on a free port of 127.0.0.1; it
    serves the Dask dashboard when ``bokeh`` is installed (``pip install
    bokeh``), else only a page saying that bokeh is missing.

    Parameters
    ----------
    n_workers : int
        Number of workers (see :func:`default_workers`).
    allowed_failures : int
        Worker deaths a task may cause before it fails.

    Returns
    -------
    distributed.LocalCluster
        Close it (or use ``with``) when done.

    Examples
    --------
    >>> with local_cluster(1) as cluster:  # doctest: +SKIP
    ...     print(cluster.scheduler_address)
    tcp://127.0.0.1:...
    """
    import logging

    import dask
    from distributed import LocalCluster

    settings = {
        "distributed.worker.multiprocessing-method": "spawn",
        "distributed.worker.daemon": True,
        "distributed.scheduler.allowed-failures": int(allowed_failures),
    }
    with dask.config.set(settings):
        return LocalCluster(
            n_workers=int(n_workers),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            resources={RESOURCE: 1},
            silence_logs=logging.ERROR,
        )


def _workers(client):
    """The scheduler's workers (all of them: newer distributed lists only a few unless asked)."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # distributed before the n_workers argument
        return client.scheduler_info()["workers"]


def _check_workers_offer_resource(client):
    """Refuse a cluster whose workers cannot run training tasks (they would wait forever)."""
    workers = _workers(client)
    if workers and not any(RESOURCE in (w.get("resources") or {}) for w in workers.values()):
        raise ValueError(
            f"none of the {len(workers)} Dask workers offers the resource '{RESOURCE}', so no training "
            f"task could start: start the workers with '--resources {RESOURCE}=1' (dask-jobqueue: "
            f"worker_extra_args=['--resources', '{RESOURCE}=1']); each then runs one training at a time"
        )


# --------------------------------------------------------------------------- rows streamed to a CSV, on Dask
# The key of a sweep's or validation's settings JSON that records the trainings' settings as the profile defined
# them (l2l_helpers.training.profiles.profile_settings, and the CycleGAN's): a profile can change between versions
# of l2l while
# keeping its name, and resuming must not mix rows of two definitions in one CSV.
PROFILE_SETTINGS_KEY = "profile_settings"

# Shared by run_crossval and l2l_helpers.experiments.validate.run_validation: an output folder whose CSV keeps
# the finished
# rows of an earlier run of the same settings (resume), and a loop that runs tasks on Dask and hands each result
# (or error) over as it finishes.


def _open_resumable_csv(
    out_dir,
    command,
    settings,
    *,
    settings_json,
    csv_name,
    columns,
    key,
    planned,
    inputs=(),
    overwrite=False,
    what="sweep",
):
    """Open an output folder for streamed CSV rows, keeping the finished rows of an earlier run of the same settings.

    A non-empty folder must have been written by ``command`` (nothing foreign in it) and hold ``settings_json``
    equal to ``settings``; its rows with status ``ok`` whose ``key(row)`` is in ``planned`` are kept (once each),
    also those of a backup left by a run killed while reopening. The folder is then reopened (its previous files
    removed through the manifest), ``settings_json`` and the CSV's header and kept rows are written and flushed.

    A folder made before l2l recorded the profile's settings (``settings_json`` without
    :data:`PROFILE_SETTINGS_KEY`, otherwise equal) is resumed with a warning that they cannot be checked, and its
    ``settings_json`` is written back unchanged: it does not claim settings its rows were not made with.

    Returns
    -------
    tuple
        ``(out, file, writer, kept)``: the :class:`~l2l_helpers.data.io.OutputFolder` (close it), the open CSV file
        (close it), its ``csv.DictWriter`` (``columns``; extra keys ignored) and the kept rows.

    Raises
    ------
    FileExistsError
        A non-empty folder without ``settings_json``, written by another command, or holding foreign files.
    ValueError
        A folder holding a run with other settings (the differences are named).
    """
    from l2l_helpers.data.io import check_output, open_output

    out_dir = Path(out_dir)
    backup = out_dir / f".{csv_name}.resume"
    kept = []
    resuming = False
    if not overwrite and out_dir.is_dir() and any(out_dir.iterdir()):
        check_output(out_dir, command, overwrite=True, inputs=inputs, owned=["."])  # our folder, nothing foreign
        old_path = out_dir / settings_json
        if not old_path.is_file():
            raise FileExistsError(f"{out_dir}: not empty and holds no {settings_json}; use overwrite or another folder")
        old = json.loads(old_path.read_text(encoding="utf-8"))
        unrecorded = PROFILE_SETTINGS_KEY not in old  # made before l2l recorded them: compare the rest
        compared = {k: v for k, v in settings.items() if k != PROFILE_SETTINGS_KEY} if unrecorded else settings
        if old != compared:
            raise ValueError(
                f"{out_dir} holds a {what} with other settings ({_describe_difference(old, compared)}); "
                "run it with its own settings to resume, or use overwrite / another folder"
            )
        if unrecorded:
            import warnings

            warnings.warn(
                f"{old_path} records no profile settings (made by an earlier version of l2l): resuming "
                "without checking that the profile still trains as it did then; use overwrite to compute "
                "every row again",
                UserWarning,
                stacklevel=3,
            )
            settings = old
        rows = _read_rows(backup) + _read_rows(out_dir / csv_name)  # a backup is left by a run killed on resuming
        seen = set()
        for r in rows:
            k = key(r)
            if r["status"] == "ok" and k in planned and k not in seen:
                seen.add(k)
                kept.append(r)
        resuming = True
        # keep the finished rows safe (hidden file, ignored by the manifest) while the folder is reopened
        tmp = out_dir / f"{backup.name}.tmp"
        with open(tmp, "w", newline="", encoding="utf-8") as b:
            w = csv.DictWriter(b, fieldnames=list(kept[0]) if kept else list(columns))
            w.writeheader()
            w.writerows(kept)
        os.replace(tmp, backup)
    out = open_output(out_dir, command, overwrite=overwrite or resuming, inputs=inputs, owned=["."])
    out.write_json(settings_json, settings)
    f = open(out.path_for(csv_name), "w", newline="", encoding="utf-8")
    writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for r in kept:
        writer.writerow(r)
    f.flush()
    os.fsync(f.fileno())
    if backup.is_file():
        backup.unlink()
    return out, f, writer, kept


def _run_dask_tasks(
    todo,
    task_function,
    key,
    handle,
    *,
    scheduler=None,
    workers=None,
    profile="workshop",
    progress=True,
    desc="tasks",
    announce=None,
):
    """Run tasks on Dask, handing each result (or error) to ``handle(task, result, error)`` as it finishes.

    A local cluster (:func:`local_cluster`, ``workers`` or :func:`default_workers` of ``profile``, at most one per
    task) unless ``scheduler`` (an address or a ``distributed.Client``) is given. Each task holds one
    :data:`RESOURCE` and is retried once; a task that fails twice reaches ``handle`` with ``result=None`` and
    ``error`` (``"TypeName: message"``). Tasks not finished when something raises are cancelled; the cluster
    (and a client made here) is closed.

    Parameters
    ----------
    todo : list
        The tasks (plain data; ``task_function`` takes one).
    task_function : callable
        What a worker runs.
    key : callable
        ``key(task)``: the Dask key of a task (unique).
    handle : callable
        ``handle(task, result, error)``, called in this process.
    announce : callable, optional
        ``announce(n_workers, where)``: a line printed (with ``progress``) before the tasks start.

    Returns
    -------
    str or None
        The dashboard address (None without bokeh on a local cluster).
    """
    from distributed import Client, as_completed

    from l2l_helpers.course.progress import progress as progress_bar

    cluster = client = None
    try:
        if scheduler is None:
            n = int(workers) if workers else default_workers(profile)
            cluster = local_cluster(min(n, len(todo)))
            client = Client(cluster)
        elif isinstance(scheduler, Client):
            client = scheduler
        else:
            client = Client(scheduler)
        # a local scheduler serves the dashboard only with bokeh installed; a remote one: ask it
        _check_workers_offer_resource(client)
        dashboard = (client.dashboard_link or None) if (scheduler is not None or _dashboard_available()) else None
        if progress:
            if announce is not None:
                print(announce(len(_workers(client)), f"scheduler {client.scheduler.address}"))
            print(
                f"Dask dashboard: {dashboard}"
                if dashboard
                else "Dask dashboard: off (pip install bokeh to watch the tasks in a browser)"
            )
        futures = {}
        for t in todo:
            futures[client.submit(task_function, t, key=key(t), retries=1, pure=False, resources={RESOURCE: 1})] = t
        bar = progress_bar(total=len(todo), desc=desc, unit="task", disable=not progress)
        try:
            for future in as_completed(list(futures)):
                task = futures.pop(future)
                try:
                    result, error = future.result(), None
                except Exception as exc:  # failed twice, or its worker died twice: hand it over, go on
                    result, error = None, f"{type(exc).__name__}: {exc}"
                handle(task, result, error)
                bar.update(1)
                future.release()
        finally:
            bar.close()
            for future in futures:
                future.cancel()
    finally:
        if client is not None and scheduler is not client:
            client.close()
        if cluster is not None:
            cluster.close()
    return dashboard


# --------------------------------------------------------------------------- the sweep


def _columns(has_ground_truth):
    return COLUMNS + (GROUND_TRUTH_COLUMNS if has_ground_truth else ()) + _TAIL


def _n_images_and_truth(data):
    """Number of image pairs and whether there is a ground truth; checks folders (errors name files)."""
    from l2l_helpers.data.io import match_pairs

    if "simulate" in data:
        return int(data["simulate"]["n"]), True
    folders = [data["input_dir"], data["target_dir"]] + [data[k] for k in ("ground_truth_dir",) if data.get(k)]
    names, _ = match_pairs(*folders)
    return len(names), bool(data.get("ground_truth_dir"))


def _failed_row(task, error, has_ground_truth):
    row = {c: "" for c in _columns(has_ground_truth)}
    exp = task["experiment"]
    row.update(
        n_pairs=task["n_pairs"],
        repeat=task["repeat"],
        fold=task["fold"],
        epochs=exp["overrides"].get("epochs"),
        seed=exp["seed"],
        status="failed",
        error=" ".join(str(error).split())[:500],
    )
    return row


def _read_rows(path):
    """Rows of a results CSV; a last line cut off by a killed run is dropped."""
    if not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = [r for r in reader if None not in r and len(r) == len(fields) and r.get("status") in ("ok", "failed")]
    return rows


def _sweep_token(sweep):
    return hashlib.sha256(json.dumps(sweep, sort_keys=True).encode()).hexdigest()[:10]


def _describe_difference(old, new, prefix=""):
    """Name the differing settings, nested ones by their path: ``profile_settings.care.epochs: 30 -> 40``."""
    parts = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            parts.append(_describe_difference(a, b, f"{prefix}{k}."))
        else:
            parts.append(f"{prefix}{k}: {'not recorded' if k not in old else repr(a)} -> {b!r}")
    return ", ".join(parts)


def run_crossval(
    out_dir,
    data,
    n_pairs,
    folds,
    repeats=1,
    repeats_small=None,
    profile="workshop",
    loss="l1",
    overrides=None,
    seed=0,
    prefilter=None,
    scale_epochs=True,
    workers=None,
    scheduler=None,
    overwrite=False,
    progress=True,
    task_function=None,
):
    """Run (or resume) a repeated cross-validation sweep on Dask; rows stream into ``results.csv``.

    Everything is checked before any training starts (pairs, folds, the
    output folder). Each (N, repetition, fold) runs as one Dask task; rows
    are appended to ``OUT_DIR/results.csv`` (and flushed) as tasks finish
    (``as_completed``). Running the same call again on the same folder
    **resumes**: rows with status ``ok`` are kept and not recomputed, failed
    and missing ones run. A task whose worker dies is retried on another
    worker; a task that raises is retried once; a task that fails twice is
    written with status ``failed`` and its error, and the others go on.
    ``OUT_DIR/sweep.json`` records the sweep's settings, with the training
    settings the profile gave (``profile_settings``); resuming with other
    settings, or after the profile's definition changed, is refused (use
    ``overwrite`` or another folder).

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created; written through :func:`l2l_helpers.data.io.open_output`).
    data : dict
        Experiment data: ``{"simulate": {"structure": ..., "n": M, "size": S, "seed": 0}}`` or
        ``{"input_dir": ..., "target_dir": ...[, "ground_truth_dir": ...]}``.
    n_pairs : sequence of int
        Numbers of training pairs N.
    folds : int
        K of the K-fold cross-validation.
    repeats, repeats_small : int
        Repetitions per N; ``repeats_small`` for the smaller half of the N values.
    profile, loss : str
        Training profile and loss.
    overrides : dict, optional
        Profile settings to replace; ``epochs`` is that of the largest N.
    seed : int
        Seed of the draws and trainings.
    prefilter : float, optional
        Gaussian sigma applied to all images before scoring (1.5 for caveolae in the paper).
    scale_epochs : bool
        Scale epochs linearly with N.
    workers : int, optional
        Local workers (default :func:`default_workers`); ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (``tcp://host:8786``), or a client.
    overwrite : bool
        Start afresh: remove the previous sweep's files (and only those).
    progress : bool
        Show a progress bar over tasks and print the dashboard address.
    task_function : callable, optional
        What each task runs (default :func:`run_task`); for tests and extensions.

    Returns
    -------
    dict
        ``csv`` (Path), ``tasks`` (planned), ``skipped`` (rows found done),
        ``ran``, ``failed``, ``seconds``, ``dashboard`` (address or None),
        ``figure`` (``crossval.png``, drawn by :func:`plot_crossval`, or None without finished rows).

    Raises
    ------
    ImageError
        Unpaired or unreadable folders (the files are named).
    ValueError
        Bad numbers (see :func:`plan_crossval`), or a folder holding a sweep with other settings.
    FileExistsError
        A non-empty folder not written by ``crossval``.

    Examples
    --------
    >>> summary = run_crossval("results/crossval", {"simulate": {"structure": "actin", "n": 16, "size": 128}},
    ...                        n_pairs=[4, 8], folds=4, profile="quick", workers=2)  # doctest: +SKIP
    >>> summary["ran"] + summary["skipped"] == summary["tasks"]  # doctest: +SKIP
    True
    """
    from l2l_helpers.training.profiles import profile_settings

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    n_images, has_truth = _n_images_and_truth(data)
    plan = plan_crossval(n_images, n_pairs, folds, repeats, repeats_small, seed)
    tasks = crossval_tasks(
        plan, data, profile=profile, loss=loss, overrides=overrides, prefilter=prefilter, scale_epochs=scale_epochs
    )
    sweep = {
        "data": data,
        "n_pairs": sorted({int(n) for n in n_pairs}),
        "folds": int(folds),
        "repeats": int(repeats),
        "repeats_small": None if repeats_small is None else int(repeats_small),
        "profile": profile,
        "loss": loss,
        "overrides": dict(overrides or {}),
        "seed": int(seed),
        "prefilter": None if prefilter is None else float(prefilter),
        "scale_epochs": bool(scale_epochs),
        PROFILE_SETTINGS_KEY: {"care": profile_settings(profile, **dict(overrides or {}))},
    }
    sweep = json.loads(json.dumps(sweep))
    inputs = (
        [] if "simulate" in data else [data[k] for k in ("input_dir", "target_dir", "ground_truth_dir") if data.get(k)]
    )

    # resume: keep the finished rows of an earlier run of the same sweep
    planned = {tuple(int(t[k]) for k in _KEY) for t in tasks}
    out, f, writer, kept = _open_resumable_csv(
        out_dir,
        "crossval",
        sweep,
        settings_json=SWEEP_JSON,
        csv_name=RESULTS_CSV,
        columns=_columns(has_truth),
        key=lambda r: tuple(int(r[k]) for k in _KEY),
        planned=planned,
        inputs=inputs,
        overwrite=overwrite,
        what="sweep",
    )
    figure_path = out.path_for(FIGURE)  # drawn at the end; recorded now, so 'l2l crossval --plot' may redraw it
    csv_path = out.path_for(RESULTS_CSV)
    done = {tuple(int(r[k]) for k in _KEY) for r in kept}
    todo = [t for t in tasks if (t["n_pairs"], t["repeat"], t["fold"]) not in done]

    summary = {"csv": csv_path, "tasks": len(tasks), "skipped": len(kept), "ran": 0, "failed": 0, "dashboard": None}
    if progress and not todo:
        print(f"{len(tasks)} tasks: all already in {csv_path.name}; nothing to run")

    def handle(task, row, error):
        if error is not None:
            row = _failed_row(task, error, has_truth)
            summary["failed"] += 1
        writer.writerow(row)
        f.flush()
        os.fsync(f.fileno())
        summary["ran"] += 1

    try:
        if todo:
            token = _sweep_token(sweep)
            summary["dashboard"] = _run_dask_tasks(
                todo,
                task_function or run_task,
                lambda t: f"crossval-{token}-n{t['n_pairs']}-r{t['repeat']}-f{t['fold']}",
                handle,
                scheduler=scheduler,
                workers=workers,
                profile=profile,
                progress=progress,
                desc="cross-validation tasks",
                announce=lambda n, where: (
                    f"{len(tasks)} tasks: {len(kept)} already in {RESULTS_CSV}, {len(todo)} "
                    f"to run on {n} workers ({where})"
                ),
            )
    finally:
        f.close()
    rows = read_results(csv_path)
    if any(r["status"] == "ok" for r in rows):
        import matplotlib.pyplot as plt

        fig = plot_crossval(rows, title=out_dir.name)
        fig.savefig(figure_path, dpi=120)
        plt.close(fig)
    summary["figure"] = figure_path if figure_path.is_file() else None
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    out.close(tasks=len(tasks), skipped=summary["skipped"], ran=summary["ran"], failed=summary["failed"])
    return summary


# --------------------------------------------------------------------------- analysis


def read_results(path):
    """Read a results CSV (a file or an output folder) into rows with numbers as numbers.

    Parameters
    ----------
    path : str or Path
        ``results.csv`` or the folder holding it.

    Returns
    -------
    list of dict
        One dict per row; ``n_pairs``, ``repeat``, ``fold``, ``epochs``,
        ``seed`` as int, metrics and ``seconds`` as float (NaN when empty).

    Raises
    ------
    FileNotFoundError
        No such CSV.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("n_pairs,repeat,fold,nrmse_input,nrmse_restored,status\\n4,0,1,0.5,,failed\\n")
    >>> row = read_results(p)[0]
    >>> row["fold"], bool(np.isnan(row["nrmse_restored"]))
    (1, True)
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_CSV
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such results file")
    rows = []
    for r in _read_rows(path):
        row = {}
        for k, v in r.items():
            if k in ("n_pairs", "repeat", "fold", "epochs", "seed"):
                row[k] = int(v) if v not in ("", None) else None
            elif k in COLUMNS[8:] + GROUND_TRUTH_COLUMNS + ("seconds",):
                row[k] = float(v) if v not in ("", None) else float("nan")
            else:
                row[k] = v
        rows.append(row)
    return rows


def relative_changes(rows, metric="nrmse", reference="target"):
    """Relative change of a metric from input to restoration, per cross-validation (mean over its folds).

    ``(restored - input) / input`` per test fold, as in the paper's Fig. 5,
    then averaged over the folds of each (N, repetition): one value per
    cross-validation. Negative is better for NRMSE, positive for (MS-)SSIM
    and PSNR. Failed rows are left out.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_results`.
    metric : {"nrmse", "ms5", "psnr"}
    reference : {"target", "ground_truth"}
        Scores against the target label or against the ground truth.

    Returns
    -------
    dict of int to ndarray
        N -> relative changes of its cross-validations (in repetition order).

    Examples
    --------
    >>> rows = [dict(n_pairs=4, repeat=0, fold=f, status="ok", nrmse_input=0.5, nrmse_restored=r)
    ...         for f, r in enumerate((0.25, 0.35))]
    >>> relative_changes(rows)
    {4: array([-0.4])}
    """
    if metric not in _METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(_METRICS)}")
    suffix = {"target": "", "ground_truth": "_gt"}[reference]
    per_cv = {}
    for r in rows:
        if r.get("status") != "ok":
            continue
        before, after = r.get(f"{metric}_input{suffix}"), r.get(f"{metric}_restored{suffix}")
        if before is None or after is None or not np.isfinite(before) or not np.isfinite(after):
            continue
        per_cv.setdefault((int(r["n_pairs"]), int(r["repeat"])), []).append((after - before) / before)
    out = {}
    for (n, _), values in sorted(per_cv.items()):
        out.setdefault(n, []).append(float(np.mean(values)))
    return {n: np.array(v) for n, v in out.items()}


def summarize(rows, reference="target"):
    """Mean and spread of the relative changes per N, for NRMSE and 5S-SSIM.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_results`.
    reference : {"target", "ground_truth"}

    Returns
    -------
    list of dict
        One per N: ``n_pairs``, ``cross_validations``, ``folds_ok``,
        ``folds_failed``, and for ``nrmse`` and ``ms5``: ``<metric>_mean``,
        ``<metric>_sd`` (between cross-validations), ``<metric>_min``,
        ``<metric>_max`` (relative changes).

    Examples
    --------
    >>> rows = [dict(n_pairs=4, repeat=r, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=v,
    ...              ms5_input=0.8, ms5_restored=0.9) for r, v in enumerate((0.25, 0.35))]
    >>> s = summarize(rows)[0]
    >>> s["n_pairs"], s["cross_validations"], round(s["nrmse_mean"], 2), round(s["nrmse_sd"], 2)
    (4, 2, -0.4, 0.1)
    """
    changes = {m: relative_changes(rows, m, reference) for m in ("nrmse", "ms5")}
    out = []
    for n in sorted({int(r["n_pairs"]) for r in rows}):
        entry = {
            "n_pairs": n,
            "cross_validations": len(changes["nrmse"].get(n, ())),
            "folds_ok": sum(1 for r in rows if int(r["n_pairs"]) == n and r.get("status") == "ok"),
            "folds_failed": sum(1 for r in rows if int(r["n_pairs"]) == n and r.get("status") != "ok"),
        }
        for m, values in changes.items():
            v = values.get(n, np.array([]))
            entry.update(
                {
                    f"{m}_mean": float(v.mean()) if v.size else float("nan"),
                    f"{m}_sd": float(v.std()) if v.size else float("nan"),
                    f"{m}_min": float(v.min()) if v.size else float("nan"),
                    f"{m}_max": float(v.max()) if v.size else float("nan"),
                }
            )
        out.append(entry)
    return out


def format_summary(summary):
    """Format :func:`summarize`'s output as a text table (relative changes in %).

    Parameters
    ----------
    summary : list of dict
        From :func:`summarize`.

    Returns
    -------
    str

    Examples
    --------
    >>> print(format_summary([{"n_pairs": 4, "cross_validations": 2, "folds_ok": 8, "folds_failed": 0,
    ...                        "nrmse_mean": -0.4, "nrmse_sd": 0.1, "ms5_mean": 0.05, "ms5_sd": 0.01}]))
        N  cross-val.  folds ok  failed  NRMSE change (%)  5S-SSIM change (%)
        4           2         8       0      -40.0 ± 10.0          +5.0 ± 1.0
    """
    lines = [
        f"{'N':>5}  {'cross-val.':>10}  {'folds ok':>8}  {'failed':>6}  {'NRMSE change (%)':>16}  "
        f"{'5S-SSIM change (%)':>18}"
    ]
    for e in summary:
        nrmse = f"{100 * e['nrmse_mean']:+.1f} ± {100 * e['nrmse_sd']:.1f}"
        ms5 = f"{100 * e['ms5_mean']:+.1f} ± {100 * e['ms5_sd']:.1f}"
        lines.append(
            f"{e['n_pairs']:>5}  {e['cross_validations']:>10}  {e['folds_ok']:>8}  {e['folds_failed']:>6}  "
            f"{nrmse:>16}  {ms5:>18}"
        )
    return "\n".join(lines)


def plot_crossval(rows, title=None, references=None):
    """The paper's Fig. 5: relative change of NRMSE and 5S-SSIM against the number of pairs.

    One point per cross-validation (mean over its test folds, slightly
    spread sideways so that equal values stay visible), the mean over
    cross-validations as a line with ± one standard deviation. One row of
    panels per reference: the target label (the paper) and, when the CSV
    has them, the ground truth.

    Parameters
    ----------
    rows : list of dict
        From :func:`read_results`.
    title : str, optional
        Figure title.
    references : sequence of str, optional
        ``"target"`` and/or ``"ground_truth"`` (default: those in the rows).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rows = [dict(n_pairs=n, repeat=r, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=0.3 - n / 100,
    ...              ms5_input=0.8, ms5_restored=0.85 + n / 1000) for n in (4, 8) for r in range(2)]
    >>> fig = plot_crossval(rows)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    if references is None:
        references = ["target"] + (
            ["ground_truth"]
            if any(np.isfinite(r.get("nrmse_input_gt", np.nan)) for r in rows if r.get("status") == "ok")
            else []
        )
    labels = {"nrmse": "NRMSE", "ms5": "5S-SSIM"}
    names = {"target": "vs target label", "ground_truth": "vs ground truth"}
    fig, axes = plt.subplots(len(references), 2, figsize=(8, 3.2 * len(references)), squeeze=False)
    ns = sorted({int(r["n_pairs"]) for r in rows})
    rng = np.random.default_rng(0)
    for i, ref in enumerate(references):
        for j, m in enumerate(("nrmse", "ms5")):
            ax = axes[i, j]
            changes = relative_changes(rows, m, ref)
            for n, v in changes.items():
                x = n * np.exp(rng.uniform(-0.06, 0.06, v.size))
                ax.scatter(x, 100 * v, s=18, color="0.45", alpha=0.8, zorder=2)
            means = [100 * changes[n].mean() for n in ns if n in changes]
            sds = [100 * changes[n].std() for n in ns if n in changes]
            xs = [n for n in ns if n in changes]
            ax.errorbar(xs, means, yerr=sds, color="C3", marker="o", capsize=4, zorder=3, label="mean ± SD")
            ax.axhline(0, color="k", lw=0.6)
            ax.set_xscale("log", base=2)
            ax.set_xticks(ns, [str(n) for n in ns])
            ax.minorticks_off()
            ax.set_xlabel("image pairs N")
            ax.set_ylabel(f"relative change of {labels[m]} (%)")
            ax.set_title(f"{labels[m]} {names[ref]}", fontsize=10)
            if i == 0 and j == 0:
                ax.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
