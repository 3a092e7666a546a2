"""The sweep engine: many independent tasks, run on Dask or inline, their rows streamed into a resumable CSV.

Lessons 07 and 09 both run many trainings whose results are one or more CSV
rows each: :mod:`~l2l_helpers.experiments.crossval` (one task per N,
repetition and fold) and :mod:`~l2l_helpers.experiments.validate` (one task per
structure and trained method). This module is what they share:

* **settings of a folder**: :data:`PROFILE_SETTINGS_KEY`, :func:`settings_differences`
  and :func:`check_resumed_settings` (a folder is resumed only with the
  settings it was made with); the settings JSON records
  :data:`~l2l_helpers.settings.SCHEMA_VERSION` (:data:`SCHEMA_KEY`), and
  :func:`read_settings_record` is the one reader of every version (those of
  l2l 0.1.0 have none);
* **the resumable CSV**: :func:`read_rows`, :func:`open_resumable_csv` (keeps
  the finished rows of an earlier run) and :class:`ResumableCSV` (appends
  rows, flushed to disk), :func:`failed_row` (the row of a task that failed);
* **running tasks** (from :mod:`~l2l_helpers.experiments.workers`, re-exported
  here): :func:`run_tasks`, on a local Dask cluster (:func:`local_cluster`,
  :func:`default_workers`), on a given scheduler, or inline in this process
  (``scheduler=INLINE``: no Dask, for tests and small runs);
  :func:`prepare_worker` is what a task function calls first;
  :func:`run_remaining` runs what a resumed folder still lacks, then closes its CSV;
  :func:`task_token` names a run's Dask keys.

Examples
--------
>>> failed_row(("n", "value", "status", "error"), "ValueError:  bad\\n input", n=3)
{'n': 3, 'value': '', 'status': 'failed', 'error': 'ValueError: bad input'}
>>> settings_differences({"seed": 0, "care": {"epochs": 30}}, {"seed": 0, "care": {"epochs": 40}})
'care.epochs: 30 -> 40'
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import warnings
from pathlib import Path

from l2l_helpers.experiments.workers import (
    INLINE,
    MEMORY_PER_WORKER_GB,
    RESOURCE,
    default_workers,
    local_cluster,
    prepare_worker,
    run_tasks,
)
from l2l_helpers.settings import SCHEMA_VERSION

__all__ = [
    "INLINE",
    "MEMORY_PER_WORKER_GB",
    "PROFILE_SETTINGS_KEY",
    "RESOURCE",
    "ResumableCSV",
    "SCHEMA_KEY",
    "check_resumed_settings",
    "default_workers",
    "failed_row",
    "local_cluster",
    "open_resumable_csv",
    "prepare_worker",
    "read_rows",
    "read_settings_record",
    "run_remaining",
    "run_tasks",
    "settings_differences",
    "task_token",
]

#: The key of a sweep's or validation's settings JSON that records the trainings' settings as the profile
#: defined them: a profile can change between versions of l2l while keeping its name, and resuming must not mix
#: rows of two definitions in one CSV.
PROFILE_SETTINGS_KEY = "profile_settings"

#: The key of a sweep's or validation's settings JSON that records the version of its form
#: (:data:`l2l_helpers.settings.SCHEMA_VERSION`); the files of l2l 0.1.0 have none.
SCHEMA_KEY = "schema_version"

#: Longest error message kept in a failed row.
_ERROR_CHARS = 500


# --------------------------------------------------------------------------- the settings of a folder


def settings_differences(old, new, prefix=""):
    """Name the settings that differ between two JSON dicts, nested ones by their path.

    Parameters
    ----------
    old, new : dict
        Settings as recorded (JSON data).
    prefix : str
        Path of the dicts (for nested calls).

    Returns
    -------
    str
        ``"name: old -> new"`` parts joined by commas (``not recorded`` for a name missing in ``old``).

    Examples
    --------
    >>> settings_differences({"seed": 0}, {"seed": 1, "loss": "l1"})
    "loss: not recorded -> 'l1', seed: 0 -> 1"
    """
    parts = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            parts.append(settings_differences(a, b, f"{prefix}{k}."))
        else:
            parts.append(f"{prefix}{k}: {'not recorded' if k not in old else repr(a)} -> {b!r}")
    return ", ".join(parts)


def _versioned(settings):
    """``settings`` with :data:`SCHEMA_KEY` first (the form written by this l2l)."""
    return {SCHEMA_KEY: SCHEMA_VERSION, **{k: v for k, v in settings.items() if k != SCHEMA_KEY}}


def read_settings_record(path):
    """A sweep's or validation's settings JSON in the current form, whichever version of l2l wrote it.

    The one reader of these records. The current form is the settings as the typed models' JSON
    (:meth:`~l2l_helpers.settings.Settings.to_dict`) with :data:`SCHEMA_KEY` first. A file without a
    schema version was written by l2l 0.1.0, whose settings have the same keys: it is read with the version
    added (a file made before l2l recorded the profile's settings also lacks :data:`PROFILE_SETTINGS_KEY`).

    Parameters
    ----------
    path : str or Path
        The settings JSON (``sweep.json``, ``validation.json``).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        A schema version this l2l does not read (a newer l2l wrote the file).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "sweep.json"
    >>> _ = path.write_text('{"seed": 0}')  # as l2l 0.1.0 wrote it
    >>> read_settings_record(path)
    {'schema_version': 1, 'seed': 0}
    """
    return _upgraded(json.loads(Path(path).read_text(encoding="utf-8")), path)


def _upgraded(data, path):
    """The data of the settings JSON ``path`` in the current form (see :func:`read_settings_record`)."""
    version = data.get(SCHEMA_KEY, SCHEMA_VERSION)  # none: l2l 0.1.0, the same keys
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: {SCHEMA_KEY} {version!r} is not one this l2l reads ({SCHEMA_VERSION}); "
            "it was written by a newer l2l: update l2l, or use overwrite / another folder"
        )
    return _versioned(data)


def check_resumed_settings(path, settings, what="sweep"):
    """The settings to record when resuming a folder whose settings JSON is ``path``.

    The recorded settings (read by :func:`read_settings_record`) must equal ``settings``. A folder written by
    l2l 0.1.0 keeps its file as it is (no schema version added, so a finished folder stays byte-identical). A
    folder made before l2l recorded the profile's settings (no :data:`PROFILE_SETTINGS_KEY`, otherwise equal)
    is resumed with a warning that they cannot be checked, and keeps its settings unchanged: it does not claim
    settings its rows were not made with.

    Parameters
    ----------
    path : str or Path
        The settings JSON of the folder (``sweep.json``, ``validation.json``).
    settings : dict
        The settings of this run (JSON data; :data:`SCHEMA_KEY` is added).
    what : str
        What the folder holds (``"sweep"``, ``"validation"``), for the error.

    Returns
    -------
    dict
        ``settings`` with their schema version, or the file's data for a folder of l2l 0.1.0 or made before
        profile settings were recorded.

    Raises
    ------
    ValueError
        Other settings (the differences are named), or a schema version this l2l does not read.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "sweep.json"
    >>> _ = path.write_text('{"schema_version": 1, "seed": 0, "profile_settings": {}}')
    >>> check_resumed_settings(path, {"seed": 0, "profile_settings": {}})
    {'schema_version': 1, 'seed': 0, 'profile_settings': {}}
    >>> check_resumed_settings(path, {"seed": 1, "profile_settings": {}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ... holds a sweep with other settings (seed: 0 -> 1); run it with its own settings to resume, ...
    """
    path = Path(path)
    written = json.loads(path.read_text(encoding="utf-8"))
    old, settings = _upgraded(written, path), _versioned(settings)
    unrecorded = PROFILE_SETTINGS_KEY not in old  # made before l2l recorded them: compare the rest
    compared = {k: v for k, v in settings.items() if k != PROFILE_SETTINGS_KEY} if unrecorded else settings
    if old != compared:
        raise ValueError(
            f"{path.parent} holds a {what} with other settings ({settings_differences(old, compared)}); "
            "run it with its own settings to resume, or use overwrite / another folder"
        )
    if unrecorded:
        warnings.warn(
            f"{path} records no profile settings (made by an earlier version of l2l): resuming "
            "without checking that the profile still trains as it did then; use overwrite to compute "
            "every row again",
            UserWarning,
            stacklevel=5,
        )
    return settings if SCHEMA_KEY in written and not unrecorded else written  # a file of 0.1.0 kept as it is


def task_token(settings):
    """A short hash of a run's settings, for Dask keys that differ between runs.

    Examples
    --------
    >>> task_token({"seed": 0}) == task_token({"seed": 0}) != task_token({"seed": 1})
    True
    """
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


# --------------------------------------------------------------------------- the resumable CSV


def read_rows(path):
    """Rows of a results CSV as strings; a last line cut off by a killed run is dropped.

    Parameters
    ----------
    path : str or Path
        The CSV (a missing file has no rows).

    Returns
    -------
    list of dict
        Rows whose ``status`` is ``ok`` or ``failed``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("n,status\\n1,ok\\n2,fai")
    >>> read_rows(p)
    [{'n': '1', 'status': 'ok'}]
    """
    if not Path(path).is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        rows = [r for r in reader if None not in r and len(r) == len(fields) and r.get("status") in ("ok", "failed")]
    return rows


def failed_row(columns, error, **fields):
    """The CSV row of a task that failed: ``fields``, ``status`` ``failed`` and the error on one line.

    Parameters
    ----------
    columns : sequence of str
        The CSV's columns (the others are left empty).
    error : str
        What went wrong (whitespace collapsed, cut at 500 characters).
    **fields
        What is known of the task (its key, seed, ...).

    Returns
    -------
    dict

    Examples
    --------
    >>> failed_row(("fold", "score", "status", "error"), "RuntimeError: out of memory", fold=1)["error"]
    'RuntimeError: out of memory'
    """
    row = {c: "" for c in columns}
    row.update(fields, status="failed", error=" ".join(str(error).split())[:_ERROR_CHARS])
    return row


class ResumableCSV:
    """An open results CSV in an output folder: rows are appended and flushed to disk as they come.

    Made by :func:`open_resumable_csv`. Attributes: ``out`` (the
    :class:`~l2l_helpers.data.io.OutputFolder`; close it when done), ``path``, ``kept`` (the rows of an
    earlier run, already written).
    """

    def __init__(self, out, path, columns, kept):
        self.out, self.path, self.kept = out, Path(path), list(kept)
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=list(columns), extrasaction="ignore")
        self._writer.writeheader()
        self.append(self.kept)

    def append(self, rows):
        """Write rows (the CSV's columns; other keys ignored) and flush them to disk."""
        self._writer.writerows(rows)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self):
        """Close the CSV file (the output folder stays open)."""
        self._file.close()


def _kept_rows(out_dir, csv_name, backup, key, planned):
    """Finished rows of an earlier run (also of a backup left by a run killed on resuming), each key once."""
    rows = read_rows(backup) + read_rows(out_dir / csv_name)
    seen, kept = set(), []
    for r in rows:
        k = key(r)
        if r["status"] == "ok" and k in planned and k not in seen:
            seen.add(k)
            kept.append(r)
    return kept


def _write_backup(backup, kept, columns):
    """Keep the finished rows safe (hidden file, ignored by the manifest) while the folder is reopened."""
    tmp = backup.with_name(f"{backup.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as b:
        w = csv.DictWriter(b, fieldnames=list(kept[0]) if kept else list(columns))
        w.writeheader()
        w.writerows(kept)
    os.replace(tmp, backup)


def _resume(out_dir, command, settings, *, settings_json, csv_name, columns, key, planned, inputs, what):
    """Check a non-empty folder and keep its finished rows: ``(settings to record, kept rows)``."""
    from l2l_helpers.data.io import check_output

    check_output(out_dir, command, overwrite=True, inputs=inputs, owned=["."])  # our folder, nothing foreign
    old_path = out_dir / settings_json
    if not old_path.is_file():
        raise FileExistsError(f"{out_dir}: not empty and holds no {settings_json}; use overwrite or another folder")
    settings = check_resumed_settings(old_path, settings, what=what)
    backup = out_dir / f".{csv_name}.resume"
    kept = _kept_rows(out_dir, csv_name, backup, key, planned)
    _write_backup(backup, kept, columns)
    return settings, kept


def open_resumable_csv(
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
    equal to ``settings`` (:func:`check_resumed_settings`); its rows with status ``ok`` whose ``key(row)`` is in
    ``planned`` are kept (once each), also those of a backup left by a run killed while reopening. The folder is
    then reopened (its previous files removed through the manifest), ``settings_json`` and the CSV's header and
    kept rows are written and flushed.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (written through :func:`l2l_helpers.data.io.open_output`).
    command : str
        The command that owns the folder (``crossval``, ``validate``).
    settings : dict
        The run's settings (JSON data), written to ``settings_json`` after :data:`SCHEMA_KEY`.
    settings_json, csv_name : str
        File names of the settings and the rows.
    columns : sequence of str
        The CSV's columns.
    key : callable
        ``key(row)``: what identifies a row (read from the CSV, as strings).
    planned : set
        The keys of the rows this run makes.
    inputs : sequence of str, optional
        Input folders (the output folder may not be one of them).
    overwrite : bool
        Start afresh.
    what : str
        What the folder holds, for the errors.

    Returns
    -------
    ResumableCSV
        Close it, then its ``out``.

    Raises
    ------
    FileExistsError
        A non-empty folder without ``settings_json``, written by another command, or holding foreign files.
    ValueError
        A folder holding a run with other settings (the differences are named).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> settings = {"seed": 0, "profile_settings": {}}
    >>> files = dict(settings_json="s.json", csv_name="r.csv", columns=("n", "status"))
    >>> rows = open_resumable_csv(out, "crossval", settings, key=lambda r: int(r["n"]), planned={1, 2}, **files)
    >>> rows.append([{"n": 1, "status": "ok"}]); rows.close(); _ = rows.out.close()
    >>> again = open_resumable_csv(out, "crossval", settings, key=lambda r: int(r["n"]), planned={1, 2}, **files)
    >>> again.kept
    [{'n': '1', 'status': 'ok'}]
    >>> again.close(); _ = again.out.close()
    """
    from l2l_helpers.data.io import open_output

    out_dir = Path(out_dir)
    kept, resuming = [], False
    if not overwrite and out_dir.is_dir() and any(out_dir.iterdir()):
        settings, kept = _resume(
            out_dir,
            command,
            settings,
            settings_json=settings_json,
            csv_name=csv_name,
            columns=columns,
            key=key,
            planned=planned,
            inputs=inputs,
            what=what,
        )
        resuming = True
    out = open_output(out_dir, command, overwrite=overwrite or resuming, inputs=inputs, owned=["."])
    out.write_json(settings_json, settings if resuming else _versioned(settings))
    rows = ResumableCSV(out, out.path_for(csv_name), columns, kept)
    backup = out_dir / f".{csv_name}.resume"
    if backup.is_file():
        backup.unlink()
    return rows


def run_remaining(rows_csv, todo, run, *, nothing_to_run, progress=True, **where):
    """Run the tasks a resumable CSV still lacks, then close the CSV (also when a task's error propagates).

    Parameters
    ----------
    rows_csv : ResumableCSV
        The open CSV (closed on return; its output folder stays open).
    todo : list
        The tasks still to run.
    run : callable
        ``run(todo, options)``: runs them (through :func:`run_tasks`) and returns the dashboard address or None;
        ``options`` are ``progress`` and ``where``.
    nothing_to_run : str
        Printed (with ``progress``) when no task is left.
    progress : bool
        Show progress.
    **where
        Where the tasks run: ``scheduler`` and ``workers`` of :func:`run_tasks`.

    Returns
    -------
    str or None
        The dashboard address, or None (nothing ran, or inline).

    Examples
    --------
    >>> import tempfile
    >>> files = dict(settings_json="s.json", csv_name="r.csv", columns=("n", "status"))
    >>> rows = open_resumable_csv(Path(tempfile.mkdtemp()), "crossval", {}, key=len, planned=set(), **files)
    >>> run_remaining(rows, [], None, nothing_to_run="nothing to run", scheduler=INLINE)
    nothing to run
    >>> _ = rows.out.close()
    """
    if progress and not todo:
        print(nothing_to_run)
    try:
        return run(todo, dict(where, progress=progress)) if todo else None
    finally:
        rows_csv.close()
