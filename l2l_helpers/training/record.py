"""The training record of a model folder: how it was trained and where a run stands.

A model folder written by :func:`l2l_helpers.training.train.train_model` holds::

    model_dir/
        config.json            CSBDeep's network configuration
        l2l_training.json      how it was trained (loss, profile, seed, split, ...)
        history.csv            one row per finished epoch (epoch counted from 1)
        weights_best.h5        weights of the epoch with the lowest val_loss
        weights_last.h5        weights after the last finished epoch
        l2l_state.json         resume state (epochs done, best val_loss, ...)
        optimizer_last.npz     optimizer state after the last finished epoch

:class:`TrainingRecord` reads and writes all of these except the weights
and ``config.json`` (written by Keras and CSBDeep), and knows which files
belong to a model folder (:data:`MODEL_FILES`), so that a re-run can remove
every file of an earlier run and refuse to mix with anything else. Every
kind of training keeps its record with it: a kind is a subclass that sets
the per-kind tables (:attr:`TrainingRecord.METHOD`, :attr:`~TrainingRecord.FILES`,
:attr:`~TrainingRecord.MARKERS`, :attr:`~TrainingRecord.WEIGHTS`), as
:class:`l2l_helpers.training.cyclegan.model_folder.CycleGANRecord` does.

``l2l_training.json`` carries ``schema_version``
(:data:`l2l_helpers.settings.SCHEMA_VERSION`) and the CARE settings as
:meth:`l2l_helpers.training.profiles.CARESettings.to_dict` (key
``settings``), a CycleGAN's its
:meth:`l2l_helpers.training.cyclegan.settings.CycleGANSettings.to_dict`.
Records written by l2l 0.1.0 have no ``schema_version``; :func:`upgrade_info`
(of :mod:`l2l_helpers.training.upgrade`), the one reader of them, gives them the current form when they are read
(:meth:`TrainingRecord.read_info`); a record without ``"method"`` is a
CARE network's.

No TensorFlow is imported here.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.training.profiles import CARESettings
from l2l_helpers.training.upgrade import TRAINING_JSON, upgrade_info

__all__ = [
    "CONFIG_JSON",
    "TRAINING_JSON",
    "STATE_JSON",
    "HISTORY_CSV",
    "OPTIMIZER_NPZ",
    "BEST_WEIGHTS",
    "LAST_WEIGHTS",
    "MODEL_FILES",
    "TrainingRecord",
    "upgrade_info",
]

#: CSBDeep's network configuration.
CONFIG_JSON = "config.json"
#: Where an interrupted run stands (epochs done, best val_loss, ...).
STATE_JSON = "l2l_state.json"
#: Per-epoch losses and metrics.
HISTORY_CSV = "history.csv"
#: Optimizer state after the last finished epoch.
OPTIMIZER_NPZ = "optimizer_last.npz"
#: Weights of the epoch with the lowest validation loss.
BEST_WEIGHTS = "weights_best.h5"
#: Weights after the last finished epoch.
LAST_WEIGHTS = "weights_last.h5"
#: Every file a training may write into a model folder (including CSBDeep's
#: per-epoch ``weights_now.h5`` and the temporary files of atomic writes).
MODEL_FILES = (
    CONFIG_JSON,
    TRAINING_JSON,
    STATE_JSON,
    HISTORY_CSV,
    OPTIMIZER_NPZ,
    BEST_WEIGHTS,
    LAST_WEIGHTS,
    "weights_now.h5",
    TRAINING_JSON + ".tmp",
    STATE_JSON + ".tmp",
    HISTORY_CSV + ".tmp",
    OPTIMIZER_NPZ + ".tmp.npz",
)


def _write_json(path, data):
    _write_atomically(path, lambda fh: json.dump(data, fh, indent=2, sort_keys=True))


def _write_atomically(path, write, newline=None):
    """Write a file through a temporary file that replaces it when ``write(fh)`` is done."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline=newline) as fh:
        write(fh)
    tmp.replace(path)


def _number(key, value):
    if key == "epoch":
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):  # "" or Keras' "NA"
        return math.nan


class TrainingRecord:
    """Read and write the record of one model folder (of a CARE network; subclasses set other kinds).

    The per-kind tables are class attributes: :attr:`METHOD` (the
    ``"method"`` its record names), :attr:`FILES` (every file it writes),
    :attr:`MARKERS` (files that mean the folder holds a model) and
    :attr:`WEIGHTS` (its weight files by name).

    Parameters
    ----------
    model_dir : str or Path
        The model folder (need not exist yet).

    Attributes
    ----------
    model_dir : Path
        The model folder.

    Examples
    --------
    >>> record = TrainingRecord("models/actin_l2l")
    >>> record.path("history").name
    'history.csv'
    >>> record.read_info()["validation_images"]  # doctest: +SKIP
    ['cell_003.tif']
    """

    _NAMES = {
        "config": CONFIG_JSON,
        "info": TRAINING_JSON,
        "state": STATE_JSON,
        "history": HISTORY_CSV,
        "optimizer": OPTIMIZER_NPZ,
        "best_weights": BEST_WEIGHTS,
        "last_weights": LAST_WEIGHTS,
    }
    #: The training method its ``l2l_training.json`` records (a record without one is a CARE network's).
    METHOD = "care"
    #: Its name in messages.
    KIND = "CARE"
    #: Every file a training writes into its model folder (what foreign_files() and clear() go by).
    FILES = MODEL_FILES
    #: Files whose presence means the folder holds (part of) a model.
    MARKERS = (CONFIG_JSON, TRAINING_JSON, LAST_WEIGHTS)
    #: Weight files by name (keys of :attr:`paths`).
    WEIGHTS = {"best_weights": BEST_WEIGHTS, "last_weights": LAST_WEIGHTS}

    def __init__(self, model_dir):
        self.model_dir = Path(model_dir)

    def __repr__(self):
        return f"{type(self).__name__}({str(self.model_dir)!r})"

    def path(self, what):
        """Return the path of one file of the record.

        Parameters
        ----------
        what : str
            ``"config"``, ``"info"``, ``"state"``, ``"history"``,
            ``"optimizer"``, ``"best_weights"`` or ``"last_weights"``.

        Returns
        -------
        Path

        Examples
        --------
        >>> TrainingRecord("m").path("info").name
        'l2l_training.json'
        """
        return self.model_dir / self._NAMES[what]

    @property
    def paths(self):
        """dict of Path: ``history``, the weight files of :attr:`WEIGHTS`, ``info``."""
        weights = {key: self.model_dir / name for key, name in self.WEIGHTS.items()}
        return {"history": self.path("history"), **weights, "info": self.path("info")}

    # --- what is in the folder --------------------------------------------------------------------

    def holds_model(self):
        """Return True if the folder holds (part of) a trained or started model.

        Returns
        -------
        bool

        Examples
        --------
        >>> TrainingRecord("no/such/folder").holds_model()
        False
        """
        return any((self.model_dir / name).exists() for name in self.MARKERS)

    def foreign_files(self):
        """Return the names of entries of the folder that no training writes.

        Returns
        -------
        list of str
            Sorted names (files or folders) not in :attr:`FILES` (:data:`MODEL_FILES`);
            empty if the folder does not exist.

        Examples
        --------
        >>> TrainingRecord("no/such/folder").foreign_files()
        []
        """
        if not self.model_dir.is_dir():
            return []
        return sorted(p.name for p in self.model_dir.iterdir() if p.name not in self.FILES)

    def clear(self):
        """Delete every file an earlier training wrote (:attr:`FILES`, :data:`MODEL_FILES`).

        Returns
        -------
        list of str
            Names of the deleted files.

        Examples
        --------
        >>> TrainingRecord("models/old_run").clear()  # doctest: +SKIP
        ['config.json', 'l2l_training.json', 'history.csv', 'weights_best.h5', 'weights_last.h5']
        """
        removed = []
        for name in self.FILES:
            path = self.model_dir / name
            if path.is_file():
                path.unlink()
                removed.append(name)
        return removed

    # --- l2l_training.json ------------------------------------------------------------------------

    def read_info(self):
        """Read how the model was trained (``l2l_training.json``).

        Returns
        -------
        dict
            In the current form, also for records of l2l 0.1.0
            (:func:`upgrade_info`).

        Raises
        ------
        FileNotFoundError
            If the folder does not exist.
        ModelError
            If the folder holds no (readable) ``l2l_training.json``.

        Examples
        --------
        >>> TrainingRecord("models/actin_l2l").read_info()["loss"]  # doctest: +SKIP
        'l1'
        """
        if not self.model_dir.is_dir():
            raise FileNotFoundError(f"{self.model_dir}: model folder does not exist")
        path = self.path("info")
        if not path.is_file():
            raise ModelError(
                f"{self.model_dir}: not a model folder (no {TRAINING_JSON}; train one with l2l train or train_model)"
            )
        try:
            with open(path, encoding="utf-8") as fh:
                info = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot read the training record ({exc})") from exc
        if not isinstance(info, dict):
            raise ModelError(f"{path}: the training record is not a JSON object")
        return upgrade_info(info, source=path)

    def read_method_info(self):
        """Read ``l2l_training.json`` and check that it records this kind of training (:attr:`METHOD`).

        Returns
        -------
        dict
            As :meth:`read_info`.

        Raises
        ------
        FileNotFoundError
            If the folder does not exist.
        ModelError
            If the folder holds no training record, or one of another kind
            of training (a record without ``"method"`` is a CARE network's).

        Examples
        --------
        >>> TrainingRecord("models/actin_l2l").read_method_info()["seed"]  # doctest: +SKIP
        0
        """
        info = self.read_info()
        method = info.get("method", "care")
        if method != self.METHOD:
            raise ModelError(
                f"{self.model_dir}: not a {self.KIND} model folder ({TRAINING_JSON} records method {method!r})"
            )
        return info

    def read_settings(self):
        """Read the CARE settings the model was trained with.

        Returns
        -------
        l2l_helpers.training.profiles.CARESettings
            Of :meth:`read_info` (records of l2l 0.1.0 included).

        Raises
        ------
        FileNotFoundError, ModelError
            See :meth:`read_info`.

        Examples
        --------
        >>> TrainingRecord("models/actin_l2l").read_settings().epochs  # doctest: +SKIP
        20
        """
        return CARESettings.from_dict(self.read_info()["settings"])

    def write_info(self, info):
        """Write ``l2l_training.json`` (atomically).

        Parameters
        ----------
        info : dict
            JSON-serialisable record (with ``schema_version``, see
            :func:`upgrade_info`).

        Examples
        --------
        >>> TrainingRecord("models/actin_l2l").write_info({"loss": "l1"})  # doctest: +SKIP
        """
        self.model_dir.mkdir(parents=True, exist_ok=True)
        _write_json(self.path("info"), info)

    # --- resume state -----------------------------------------------------------------------------

    def read_state(self):
        """Read where the run stands (``l2l_state.json``).

        Returns
        -------
        dict
            ``epochs_done``, ``best_val_loss``, ``best_epoch`` and, if the
            learning rate is reduced on plateaus, ``reduce_lr``; a fresh
            state (no epochs done) if there is no file.

        Examples
        --------
        >>> TrainingRecord("no/such/folder").read_state()
        {'epochs_done': 0, 'best_val_loss': None}
        """
        path = self.path("state")
        if not path.is_file():
            return {"epochs_done": 0, "best_val_loss": None}
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)

    def write_state(self, state):
        """Write ``l2l_state.json`` (atomically).

        Parameters
        ----------
        state : dict
            See :meth:`read_state`.

        Examples
        --------
        >>> TrainingRecord("m").write_state({"epochs_done": 1, "best_val_loss": 0.1})  # doctest: +SKIP
        """
        _write_json(self.path("state"), state)

    def check_resumable(self):
        """Raise unless the folder holds a finished epoch to continue from.

        Raises
        ------
        FileNotFoundError
            If the folder does not exist, or has no resume state or last
            weights.
        ModelError
            If the folder is not a model folder.

        Examples
        --------
        >>> TrainingRecord("no/such/folder").check_resumable()
        Traceback (most recent call last):
        ...
        FileNotFoundError: no/such/folder: model folder does not exist
        """
        self.read_info()
        if not self.path("state").is_file() or not self.path("last_weights").is_file():
            raise FileNotFoundError(
                f"{self.model_dir}: no finished epoch to resume from ({STATE_JSON} or {LAST_WEIGHTS} missing)"
            )

    # --- arrays and optimizer --------------------------------------------------------------------------------

    def save_arrays(self, name, arrays):
        """Write named arrays into one ``.npz`` file of the folder (atomically).

        Parameters
        ----------
        name : str
            File name (ending in ``.npz``; its temporary file ``name + ".tmp.npz"``
            should be in :attr:`FILES`).
        arrays : dict of array_like
            The arrays by name.

        Examples
        --------
        >>> TrainingRecord("m").save_arrays("pools.npz", {"A": np.zeros(3)})  # doctest: +SKIP
        """
        tmp = self.model_dir / (name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(self.model_dir / name)

    def save_optimizer(self, optimizer):
        """Save the values of an optimizer's variables (``optimizer_last.npz``).

        Parameters
        ----------
        optimizer : keras.optimizers.Optimizer
            A built optimizer.

        Examples
        --------
        >>> record.save_optimizer(model.keras_model.optimizer)  # doctest: +SKIP
        """
        self.save_arrays(OPTIMIZER_NPZ, {f"v{i:04d}": np.asarray(v) for i, v in enumerate(optimizer.variables)})

    def load_optimizer(self, optimizer, variables):
        """Restore an optimizer's variables saved by :meth:`save_optimizer`.

        Parameters
        ----------
        optimizer : keras.optimizers.Optimizer
            The optimizer (built here for ``variables``).
        variables : list
            The trainable variables of the model.

        Returns
        -------
        bool
            True if a saved state of matching layout was restored.

        Examples
        --------
        >>> record.load_optimizer(km.optimizer, km.trainable_variables)  # doctest: +SKIP
        True
        """
        path = self.path("optimizer")
        if not path.is_file():
            return False
        optimizer.build(variables)
        with np.load(path) as saved:
            values = [saved[f"v{i:04d}"] for i in range(len(saved.files))]
        if len(values) != len(optimizer.variables):
            return False
        for var, val in zip(optimizer.variables, values):
            var.assign(val)
        return True

    # --- history ----------------------------------------------------------------------------------

    def read_history(self):
        """Read ``history.csv`` as a dict of lists.

        Returns
        -------
        dict of list
            One list per column; ``epoch`` counts from 1, missing values
            are NaN; empty if there is no history yet.

        Examples
        --------
        >>> TrainingRecord("no/such/folder").read_history()
        {}
        """
        path = self.path("history")
        if not path.is_file():
            return {}
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            return {}
        hist = {key: [] for key in rows[0]}
        for row in rows:
            for key in hist:
                hist[key].append(_number(key, row.get(key)))
        return hist

    def write_history(self, rows, columns):
        """Write ``history.csv`` (atomically) from a list of per-epoch dicts.

        Parameters
        ----------
        rows : list of dict
            One dict per epoch; keys not in ``columns`` are left out.
        columns : sequence of str
            The columns, in order (``epoch`` first).

        Examples
        --------
        >>> TrainingRecord("m").write_history([{"epoch": 1, "loss": 0.3}], ("epoch", "loss"))  # doctest: +SKIP
        """

        def write(fh):
            writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)

        _write_atomically(self.path("history"), write, newline="")

    def truncate_history(self, n_epochs):
        """Keep only the rows of the first ``n_epochs`` epochs of ``history.csv``.

        A run interrupted between writing its history and its resume state
        may have one row more than the state says; resuming drops it.

        Parameters
        ----------
        n_epochs : int
            Epochs to keep.

        Examples
        --------
        >>> TrainingRecord("models/actin_l2l").truncate_history(3)  # doctest: +SKIP
        """
        path = self.path("history")
        if not path.is_file():
            return
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        if not rows:
            return
        kept = [rows[0]] + [r for r in rows[1:] if r and int(float(r[0])) <= n_epochs]
        if len(kept) != len(rows):
            _write_atomically(path, lambda fh: csv.writer(fh).writerows(kept), newline="")
