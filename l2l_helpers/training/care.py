"""CSBDeep's CARE network with label2label's resumable, recorded training.

:class:`L2LCARE` extends :class:`csbdeep.models.CARE` the way CSBDeep's own
extensions do (n2v's ``N2V(CARE)``): it overrides ``prepare_for_training``
(compile with any Keras loss, build the callbacks) and ``train`` (seeded
batches, start at a given epoch), so :func:`l2l_helpers.training.train.train_model`
no longer compiles and fits ``model.keras_model`` from outside.

Callbacks of a training, in the order Keras calls them after every epoch:

1. ``ReduceLROnPlateau`` (CSBDeep's setting), resumable;
2. ``TerminateOnNaN`` (from CSBDeep's ``prepare_model``);
3. ``CSVLogger(append=True)`` writes ``history.csv`` (epochs counted from 1);
4. ``ModelCheckpoint(save_best_only=True)`` writes ``weights_best.h5``
   (``initial_value_threshold``: the best val_loss of the run so far);
5. ``ModelCheckpoint`` writes ``weights_last.h5``;
6. a small callback of this module writes the optimizer state and
   ``l2l_state.json`` (the commit point of an epoch: a resumed run starts
   after the last epoch recorded there).

Importing this module imports TensorFlow.
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np
from csbdeep.internals import train as csb_train
from csbdeep.internals.losses import loss_mae, loss_mse
from csbdeep.models import CARE

from l2l_helpers.course._quiet_tf import filtered_stderr
from l2l_helpers.training.record import BEST_WEIGHTS, LAST_WEIGHTS, TrainingRecord

__all__ = ["L2LCARE", "seeded_batches"]


def seeded_batches(X, Y, batch_size, seed, start_epoch, steps_per_epoch, flip_rotate=False):
    """Endless training batches; epoch ``e`` always gets the same ones.

    Parameters
    ----------
    X, Y : ndarray
        Training patches.
    batch_size, steps_per_epoch : int
        Patches per step and steps per epoch.
    seed : int
        Seed of the batch order.
    start_epoch : int
        First epoch (0-based) to yield batches for: a resumed run gets the
        batches an uninterrupted run would have got.
    flip_rotate : bool
        Flip and turn every patch of a batch by one of the eight symmetries
        of a square (a random multiple of 90 degrees, then a random mirror),
        drawn per patch and step; input and target the same way. ``X`` and
        ``Y`` are not changed. Default False.

    Yields
    ------
    tuple of ndarray
        ``(X[b], Y[b])``.

    Examples
    --------
    >>> X = np.arange(10.0)
    >>> a = next(seeded_batches(X, X, 4, seed=0, start_epoch=1, steps_per_epoch=2))[0]
    >>> b = list(zip(range(3), seeded_batches(X, X, 4, seed=0, start_epoch=0, steps_per_epoch=2)))[2][1][0]
    >>> bool(np.array_equal(a, b))
    True
    >>> P = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> x, y = next(seeded_batches(P, 2 * P, 1, seed=0, start_epoch=0, steps_per_epoch=1, flip_rotate=True))
    >>> bool(np.array_equal(y, 2 * x)), sorted(x.ravel()) == sorted(P.ravel())
    (True, True)
    """
    n = len(X)
    epoch = int(start_epoch)
    while True:
        rng = np.random.default_rng([int(seed), int(epoch)])
        need = steps_per_epoch * batch_size
        idx = np.concatenate([rng.permutation(n) for _ in range(-(-need // n))])[:need]
        turns = rng.integers(8, size=need) if flip_rotate else None  # after idx: the order is unchanged
        for s in range(steps_per_epoch):
            b = idx[s * batch_size : (s + 1) * batch_size]
            if turns is None:
                yield X[b], Y[b]
            else:
                t = turns[s * batch_size : (s + 1) * batch_size]
                yield _symmetries(X[b], t), _symmetries(Y[b], t)
        epoch += 1


def _symmetries(patches, turns):
    """Patch ``i`` of ``(n, y, x, c)`` turned by ``turns[i] % 4`` quarter turns, mirrored if ``turns[i] >= 4``."""
    out = np.empty_like(patches)
    for i, t in enumerate(turns):
        p = np.rot90(patches[i], int(t) % 4, axes=(0, 1))
        out[i] = p[:, ::-1] if t >= 4 else p
    return out


def _weights_checkpoint(path, **kwargs):
    # Keras 3 wants a ".weights.h5" name; CSBDeep's models save legacy HDF5
    # weights under any name, so the suffix is removed again as in
    # csbdeep.models.base_model.BaseModel._checkpoint_callbacks
    cb = keras.callbacks.ModelCheckpoint(str(path) + ".weights.h5", save_weights_only=True, **kwargs)
    cb.filepath = str(path)
    return cb


class _History(keras.callbacks.CSVLogger):
    """``CSVLogger(append=True)`` with 1-based epochs and the columns of the file.

    Two small changes keep ``history.csv`` one table across resumed runs and
    versions: epochs are counted from 1 (as Keras prints them and as earlier
    versions wrote them), the learning rate is the ``lr`` column, and rows
    appended to an existing file follow that file's header.
    """

    def __init__(self, filename):
        super().__init__(filename, append=True)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if not self.append_header:  # appending to a file with a header: keep its columns
            import csv

            with open(self.filename, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh))
            self.keys = header[1:]

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        lr = logs.pop("learning_rate", None)
        if lr is None and self.model is not None:
            lr = self.model.optimizer.learning_rate
        logs["lr"] = float(np.asarray(lr))
        super().on_epoch_end(epoch + 1, logs)


class _ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    # Keras resets wait, best and cooldown when training begins; a resumed
    # run must go on with the values saved after its last epoch.
    def __init__(self, state=None, **kwargs):
        super().__init__(**kwargs)
        self._restored = state is not None
        if state is not None:
            self.wait, self.best = int(state["wait"]), state["best"]
            self.cooldown_counter = int(state["cooldown_counter"])

    def on_train_begin(self, logs=None):
        if not self._restored:
            super().on_train_begin(logs)
        self._restored = False

    def get_state(self):
        return {
            "wait": int(self.wait),
            "best": None if self.best is None else float(self.best),
            "cooldown_counter": int(self.cooldown_counter),
        }


class _ResumeState(keras.callbacks.Callback):
    # Keras' BackupAndRestore would save the weights and the optimizer, but
    # not ReduceLROnPlateau's counters nor the best val_loss of the run, and
    # it deletes its backup when training ends; without them a resumed run
    # differs from an uninterrupted one. This callback saves the optimizer
    # state and writes l2l_state.json last, after the history and weights of
    # the epoch, so the state file never claims an epoch that is not saved.
    def __init__(self, record, state, best_checkpoint, reduce_lr=None):
        super().__init__()
        self.record, self.state = record, state
        self.best_checkpoint, self.reduce_lr = best_checkpoint, reduce_lr

    def on_epoch_end(self, epoch, logs=None):
        best = self.best_checkpoint.best
        best = None if best is None or not math.isfinite(float(best)) else float(best)
        if best is not None and best != self.state.get("best_val_loss"):
            self.state["best_epoch"] = epoch + 1
        self.record.save_optimizer(self.model.optimizer)
        self.state["epochs_done"] = epoch + 1
        self.state["best_val_loss"] = best
        if self.reduce_lr is not None:
            self.state["reduce_lr"] = self.reduce_lr.get_state()
        self.record.write_state(self.state)


class _QuietFirstStep(keras.callbacks.Callback):
    """Hide TensorFlow's first-step notices (see :mod:`l2l_helpers.course._quiet_tf`).

    The first training step and the first validation print C++ notices
    (``Memory patch applied``, ``oneDNN supports DT_INT32 only ...``,
    ``NodeDef mentions attribute use_unbounded_threadpool ...``) that read as
    failures to learners. Stderr is filtered from the start of training to
    the end of the first epoch only (seconds), so later messages are never
    delayed; anything else written meanwhile is shown when the epoch ends.
    """

    def __init__(self):
        super().__init__()
        self._filter = None

    def on_train_begin(self, logs=None):
        self._filter = filtered_stderr()
        self._filter.__enter__()

    def _release(self):
        if self._filter is not None:
            f, self._filter = self._filter, None
            f.__exit__(None, None, None)

    def on_epoch_end(self, epoch, logs=None):
        self._release()

    def on_train_end(self, logs=None):
        self._release()


class _EpochLine(keras.callbacks.Callback):
    """One line per epoch (for notebooks and log files: no progress bars)."""

    def __init__(self, n_epochs):
        super().__init__()
        self.n_epochs = n_epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"epoch {epoch + 1:>{len(str(self.n_epochs))}}/{self.n_epochs}"]
        for key in ("loss", "val_loss"):
            if key in logs:
                parts.append(f"{key} {float(logs[key]):.4f}")
        parts.append(f"{time.perf_counter() - self.t0:.1f} s")
        print("  ".join(parts), flush=True)


class L2LCARE(CARE):
    """CARE network whose training is recorded in its folder and can resume.

    Construct it like :class:`csbdeep.models.CARE` (a ``Config``, a name and
    a base folder); the model folder ``basedir/name`` gets the files listed
    in :mod:`l2l_helpers.training.record`. Call :meth:`prepare_for_training` (loss,
    resume) and then :meth:`train`.

    Parameters
    ----------
    config : csbdeep.models.Config or None
        Network configuration (``None`` loads ``config.json`` from the
        folder).
    name : str
        Name of the model folder.
    basedir : str or Path
        Folder containing the model folder.

    Attributes
    ----------
    record : l2l_helpers.training.record.TrainingRecord
        The training record of the model folder.
    initial_epoch : int
        Epochs already done (0 for a new training).

    Examples
    --------
    >>> from csbdeep.models import Config  # doctest: +SKIP
    >>> model = L2LCARE(Config("YX", train_epochs=2), "m", basedir="models")  # doctest: +SKIP
    >>> model.prepare_for_training()  # doctest: +SKIP
    >>> history = model.train(X, Y, (X_val, Y_val), seed=0)  # doctest: +SKIP
    """

    def __init__(self, config, name=None, basedir="."):
        super().__init__(config=config, name=name, basedir=basedir)
        self.record = TrainingRecord(self.logdir)
        self.initial_epoch = 0
        self._state = {"epochs_done": 0, "best_val_loss": None}

    def prepare_for_training(self, optimizer=None, loss=None, resume=False, **kwargs):
        """Compile the network and make the callbacks of a recorded training.

        Parameters
        ----------
        optimizer : keras.optimizers.Optimizer, optional
            Default: Adam with ``config.train_learning_rate``.
        loss : callable, optional
            A Keras loss; default: CSBDeep's loss named by
            ``config.train_loss``. Metrics are always CSBDeep's ``mse`` and
            ``mae``.
        resume : bool
            Continue the run recorded in the folder: its last weights,
            optimizer state, best val_loss and learning-rate schedule are
            restored and :attr:`initial_epoch` is set.
        **kwargs
            Passed to :func:`csbdeep.internals.train.prepare_model` (when
            ``loss`` is None).

        Raises
        ------
        FileNotFoundError, ModelError
            If ``resume`` is True but the folder holds no finished epoch.

        Examples
        --------
        >>> model.prepare_for_training(resume=True)  # doctest: +SKIP
        >>> model.initial_epoch  # doctest: +SKIP
        1
        """
        if optimizer is None:
            optimizer = keras.optimizers.Adam(learning_rate=self.config.train_learning_rate)
        if loss is None:
            self.callbacks = csb_train.prepare_model(self.keras_model, optimizer, self.config.train_loss, **kwargs)
        else:
            self.keras_model.compile(optimizer=optimizer, loss=loss, metrics=[loss_mse(), loss_mae()])
            self.callbacks = [keras.callbacks.TerminateOnNaN()]

        self.initial_epoch = 0
        self._state = {"epochs_done": 0, "best_val_loss": None}
        if resume:
            self.record.check_resumable()
            self._state = self.record.read_state()
            self.initial_epoch = int(self._state.get("epochs_done", 0))
            self.keras_model.load_weights(str(self.logdir / LAST_WEIGHTS))
            self.record.load_optimizer(optimizer, self.keras_model.trainable_variables)
            self.record.truncate_history(self.initial_epoch)

        self._reduce_lr = None
        if self.config.train_reduce_lr is not None:
            saved = self._state.get("reduce_lr") if resume else None
            params = {"verbose": 0, **self.config.train_reduce_lr}
            self._reduce_lr = _ResumableReduceLROnPlateau(state=saved, **params)
            self.callbacks.insert(0, self._reduce_lr)
        if self.basedir is not None:
            self.callbacks += self._checkpoint_callbacks()
        self._model_prepared = True

    def _checkpoint_callbacks(self):
        """History, best and last weights, resume state (see the module docstring)."""
        best = _weights_checkpoint(
            self.logdir / BEST_WEIGHTS,
            save_best_only=True,
            monitor="val_loss",
            initial_value_threshold=self._state.get("best_val_loss"),
        )
        last = _weights_checkpoint(self.logdir / LAST_WEIGHTS)
        return [
            _History(str(self.record.path("history"))),
            best,
            last,
            _ResumeState(self.record, self._state, best, self._reduce_lr),
        ]

    def train(
        self,
        X,
        Y,
        validation_data,
        epochs=None,
        steps_per_epoch=None,
        seed=0,
        callbacks=None,
        verbose=1,
        flip_rotate=False,
    ):
        """Train from :attr:`initial_epoch` to ``epochs``, then load the best weights.

        Parameters
        ----------
        X, Y : ndarray
            Training patches ``(n, y, x, c)``.
        validation_data : tuple of ndarray
            ``(X_val, Y_val)``.
        epochs, steps_per_epoch : int, optional
            Default: from the configuration.
        seed : int
            Seed of the batch order (:func:`seeded_batches`).
        flip_rotate : bool
            Flip and rotate the patches as they are drawn
            (:func:`seeded_batches`). Default False.
        callbacks : list of keras.callbacks.Callback, optional
            Extra callbacks; they run after the epoch has been saved.
        verbose : int
            1: Keras' progress bar; 2: one line per epoch; 0: silent.

        Returns
        -------
        keras.callbacks.History or None
            None if no epoch was left to train.

        Examples
        --------
        >>> model.train(X, Y, (X_val, Y_val), seed=0, verbose=2)  # doctest: +SKIP
        """
        if not self._model_prepared:
            self.prepare_for_training()
        epochs = int(self.config.train_epochs if epochs is None else epochs)
        steps = int(self.config.train_steps_per_epoch if steps_per_epoch is None else steps_per_epoch)
        batch_size = int(self.config.train_batch_size)
        extra = [_QuietFirstStep()] + ([_EpochLine(epochs)] if verbose == 2 else [])
        extra += list(callbacks or [])
        history = None
        if self.initial_epoch < epochs:
            batches = seeded_batches(X, Y, batch_size, seed, self.initial_epoch, steps, flip_rotate=flip_rotate)
            try:
                history = self.keras_model.fit(
                    batches,
                    validation_data=tuple(validation_data),
                    epochs=epochs,
                    steps_per_epoch=steps,
                    initial_epoch=self.initial_epoch,
                    shuffle=False,
                    validation_batch_size=batch_size,
                    callbacks=self.callbacks + extra,
                    verbose=1 if verbose == 1 else 0,
                )
            finally:
                extra[0]._release()  # also when the first step raised
        self._training_finished()
        return history

    def _training_finished(self):
        # CSBDeep's version saves the last weights again and loads the newest
        # weights file by name; here the callbacks saved them, and the best
        # weights are loaded if there are any
        best = self.logdir / BEST_WEIGHTS
        if best.is_file():
            self.keras_model.load_weights(str(best))
