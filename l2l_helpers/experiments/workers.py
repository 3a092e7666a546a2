"""Where a sweep's tasks run: a local Dask cluster, a given scheduler, or inline in this process.

Part of the sweep engine (:mod:`l2l_helpers.experiments.sweep`, which re-exports every name here):
:func:`run_tasks` runs tasks and hands each result (or error) over as it finishes;
:func:`local_cluster` and :func:`default_workers` make the local cluster; :func:`prepare_worker` is what a
task function calls first in a worker.

Examples
--------
>>> run_tasks([1, 2], lambda t: 10 * t, str, lambda t, r, e: print(t, r, e), scheduler=INLINE, progress=False)
1 10 None
2 20 None
"""

from __future__ import annotations

import contextlib
import os

from l2l_helpers.training.profiles import DEFAULT_PROFILE

__all__ = [
    "INLINE",
    "MEMORY_PER_WORKER_GB",
    "RESOURCE",
    "default_workers",
    "local_cluster",
    "prepare_worker",
    "run_tasks",
]


#: Memory one worker needs for one training, in GB, per profile: the peak memory of a training process for
#: :data:`l2l_helpers.training.profiles.PROFILES` plus the Dask worker and the test images (see
#: benchmarks/results.md). :func:`default_workers` divides the free memory by it.
MEMORY_PER_WORKER_GB = {"quick": 1.05, "workshop": 1.15, "paper": 1.6}

#: The Dask worker resource a training task holds: a worker runs one training at a time (Keras' session is
#: global to the process), using all its threads. Workers of an external cluster must offer it
#: (``dask worker ... --resources training=1``; dask-jobqueue: ``worker_extra_args=["--resources", "training=1"]``).
RESOURCE = "training"
#: ``scheduler`` value of :func:`run_tasks` that runs the tasks one after the other in this process.
INLINE = "inline"


# --------------------------------------------------------------------------- a task's worker


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
    """Threads of the Dask worker running this task (None outside a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    n = getattr(worker, "nthreads", None) or getattr(getattr(worker, "state", None), "nthreads", None)
    return int(n) if n else None


def prepare_worker():
    """Inside a Dask worker (a process of ours): TensorFlow on the worker's threads, its notices off.

    Call it first in a task function, before TensorFlow does any work. Outside a worker it does nothing.

    Returns
    -------
    int or None
        The worker's number of threads (None outside a worker).

    Examples
    --------
    >>> prepare_worker() is None  # not in a Dask worker
    True
    """
    threads = _worker_threads()
    if threads:  # its thread pools, and no TensorFlow notices
        _limit_tf_threads(threads)  # (retracing warnings when one process builds one model per task)
        import logging

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return threads


# --------------------------------------------------------------------------- the cluster


def _free_memory_gb():
    """Available memory, or the container's limit if lower (Dask's), in GB."""
    import psutil

    free = psutil.virtual_memory().available
    try:
        from distributed.system import MEMORY_LIMIT

        free = min(free, MEMORY_LIMIT)
    except ImportError:  # pragma: no cover
        pass
    return free / 1e9


def default_workers(profile=DEFAULT_PROFILE, memory_gb=None, cpus=None):
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
        memory_gb = _free_memory_gb()
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


# --------------------------------------------------------------------------- running the tasks


def _error(exc):
    return f"{type(exc).__name__}: {exc}"


def _run_inline(todo, task_function, handle, bar):
    """Each task in this process, retried once; a task that raises twice is handed over with its error."""
    for task in todo:
        for _attempt in range(2):
            try:
                result, error = task_function(task), None
                break
            except Exception as exc:  # as on Dask: one retry, then a failed task
                result, error = None, _error(exc)
        handle(task, result, error)
        bar.update(1)


def _connect(scheduler, workers, profile, n_tasks):
    """``(client, cluster)``: a local cluster unless ``scheduler`` (an address or a client) is given."""
    from distributed import Client

    if scheduler is None:
        n = int(workers) if workers else default_workers(profile)
        cluster = local_cluster(min(n, n_tasks))
        return Client(cluster), cluster
    if isinstance(scheduler, Client):
        return scheduler, None
    return Client(scheduler), None


def _announce(client, scheduler, announce, progress):
    """Check the workers, print what runs where (with ``progress``); the dashboard address or None."""
    _check_workers_offer_resource(client)
    # a local scheduler serves the dashboard only with bokeh installed; a remote one: ask it
    dashboard = (client.dashboard_link or None) if (scheduler is not None or _dashboard_available()) else None
    if progress:
        if announce is not None:
            print(announce(len(_workers(client)), f"scheduler {client.scheduler.address}"))
        print(
            f"Dask dashboard: {dashboard}"
            if dashboard
            else "Dask dashboard: off (pip install bokeh to watch the tasks in a browser)"
        )
    return dashboard


def _gather(client, todo, task_function, key, handle, bar):
    """Submit every task, hand each result (or error) over as it finishes; cancel the rest on an error."""
    from distributed import as_completed

    futures = {}
    for t in todo:
        futures[client.submit(task_function, t, key=key(t), retries=1, pure=False, resources={RESOURCE: 1})] = t
    try:
        for future in as_completed(list(futures)):
            task = futures.pop(future)
            try:
                result, error = future.result(), None
            except Exception as exc:  # failed twice, or its worker died twice: hand it over, go on
                result, error = None, _error(exc)
            handle(task, result, error)
            bar.update(1)
            future.release()
    finally:
        for future in futures:
            future.cancel()


def _run_on_dask(todo, task_function, key, handle, new_bar, *, scheduler, workers, profile, progress, announce):
    """Connect (or start a local cluster), run the tasks, close what was opened here; the dashboard or None."""
    client = cluster = None
    try:
        client, cluster = _connect(scheduler, workers, profile, len(todo))
        dashboard = _announce(client, scheduler, announce, progress)
        with new_bar() as bar:
            _gather(client, todo, task_function, key, handle, bar)
    finally:
        if client is not None and scheduler is not client:
            client.close()
        if cluster is not None:
            cluster.close()
    return dashboard


def run_tasks(
    todo,
    task_function,
    key,
    handle,
    *,
    scheduler=None,
    workers=None,
    profile=DEFAULT_PROFILE,
    progress=True,
    desc="tasks",
    announce=None,
):
    """Run tasks on Dask (or inline), handing each result (or error) to ``handle(task, result, error)``.

    A local cluster (:func:`local_cluster`, ``workers`` or :func:`default_workers` of ``profile``, at most one per
    task) unless ``scheduler`` (an address or a ``distributed.Client``) is given; ``scheduler=INLINE`` runs the
    tasks one after the other in this process, without Dask. Each task holds one :data:`RESOURCE` and is retried
    once; a task that fails twice reaches ``handle`` with ``result=None`` and ``error`` (``"TypeName: message"``).
    Tasks not finished when something raises are cancelled; the cluster (and a client made here) is closed.

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
    scheduler : str or distributed.Client, optional
        Address of a running scheduler, a client, or :data:`INLINE`.
    workers : int, optional
        Local workers (default :func:`default_workers`).
    profile : str
        Training profile (for :func:`default_workers`).
    progress : bool
        Show a progress bar and print where the tasks run.
    desc : str
        The progress bar's label.
    announce : callable, optional
        ``announce(n_workers, where)``: a line printed (with ``progress``) before the tasks start.

    Returns
    -------
    str or None
        The dashboard address (None inline, or without bokeh on a local cluster).

    Examples
    --------
    >>> got = []
    >>> run_tasks([1, 2], lambda t: 10 * t, str, lambda t, r, e: got.append((t, r, e)), scheduler=INLINE,
    ...           progress=False)
    >>> got
    [(1, 10, None), (2, 20, None)]
    """
    from l2l_helpers.course.progress import progress as progress_bar

    def new_bar():
        return contextlib.closing(progress_bar(total=len(todo), desc=desc, unit="task", disable=not progress))

    if scheduler != INLINE:
        return _run_on_dask(
            todo,
            task_function,
            key,
            handle,
            new_bar,
            scheduler=scheduler,
            workers=workers,
            profile=profile,
            progress=progress,
            announce=announce,
        )
    if progress and announce is not None:
        print(announce(1, "inline, in this process"))
    with new_bar() as bar:
        _run_inline(todo, task_function, handle, bar)
    return None
