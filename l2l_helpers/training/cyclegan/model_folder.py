"""The CycleGAN's model folder: which files it holds and how they are read and written.

A CycleGAN model folder holds::

    model_dir/
        l2l_restorer.json      kind "cyclegan": load_restorer / l2l restore use G_AB
        l2l_training.json      how it was trained (profile, settings, seed, versions, seconds, ...)
        l2l_state.json         resume state (epochs done, random generators' states)
        history.csv            one row per finished epoch: every loss term, learning rate, seconds
        G_AB.weights.h5        input -> target generator
        G_BA.weights.h5        target -> input generator
        D_A.weights.h5         discriminator of inputs
        D_B.weights.h5         discriminator of targets
        optimizer_last.npz     both optimizers' state
        pools.npz              both image pools

No TensorFlow is imported here.
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.restoring.restorers import RESTORER_JSON
from l2l_helpers.training.record import HISTORY_CSV, OPTIMIZER_NPZ, STATE_JSON, TRAINING_JSON, TrainingRecord
from l2l_helpers.training.train import read_history

__all__ = [
    "NETWORKS",
    "WEIGHT_FILES",
    "POOLS_NPZ",
    "CYCLEGAN_FILES",
    "HISTORY_COLUMNS",
    "CycleGANRecord",
    "read_history",
]

#: The four networks, in the order they are built and saved.
NETWORKS = ("G_AB", "G_BA", "D_A", "D_B")
#: Weight file of each network in a model folder.
WEIGHT_FILES = {net: f"{net}.weights.h5" for net in NETWORKS}
#: The image pools' contents and states.
POOLS_NPZ = "pools.npz"
#: Every file a CycleGAN training writes into its model folder (with the temporary files of atomic writes).
CYCLEGAN_FILES = (
    TRAINING_JSON,
    STATE_JSON,
    HISTORY_CSV,
    OPTIMIZER_NPZ,
    POOLS_NPZ,
    RESTORER_JSON,
    *WEIGHT_FILES.values(),
    *(f"{net}.tmp.weights.h5" for net in NETWORKS),
    TRAINING_JSON + ".tmp",
    STATE_JSON + ".tmp",
    HISTORY_CSV + ".tmp",
    OPTIMIZER_NPZ + ".tmp.npz",
    POOLS_NPZ + ".tmp.npz",
)

#: Columns of ``history.csv``: ``G_AB`` / ``G_BA`` are the generators' adversarial losses, ``cycle_A`` /
#: ``cycle_B`` the weighted cycle losses of inputs and targets, ``idt_A`` / ``idt_B`` the weighted identity
#: losses (``G_BA`` on inputs, ``G_AB`` on targets), ``G`` their sum, ``D_A`` / ``D_B`` the discriminators'
#: (halved) losses; means over the epoch's steps.
HISTORY_COLUMNS = ("epoch", "lr", "G_AB", "G_BA", "cycle_A", "cycle_B", "idt_A", "idt_B", "G", "D_A", "D_B", "seconds")


class CycleGANRecord(TrainingRecord):
    """The record of a CycleGAN model folder: :class:`l2l_helpers.training.record.TrainingRecord` with its tables.

    Info, state, history and optimizers (both in one ``optimizer_last.npz``)
    are kept as for a CARE model; the weights are those of
    :data:`WEIGHT_FILES` (``last_weights`` is ``G_AB``'s file); the image
    pools are kept in ``pools.npz``.

    Parameters
    ----------
    model_dir : str or Path
        The model folder (need not exist yet).

    Examples
    --------
    >>> CycleGANRecord("models/actin_cyclegan").path("last_weights").name
    'G_AB.weights.h5'
    >>> CycleGANRecord("no/such/folder").holds_model(), CycleGANRecord("no/such/folder").foreign_files()
    (False, [])
    """

    METHOD = "cyclegan"
    KIND = "CycleGAN"
    FILES = CYCLEGAN_FILES
    MARKERS = (TRAINING_JSON, RESTORER_JSON, WEIGHT_FILES["G_AB"])
    WEIGHTS = WEIGHT_FILES
    _NAMES = {**TrainingRecord._NAMES, "best_weights": WEIGHT_FILES["G_AB"], "last_weights": WEIGHT_FILES["G_AB"]}

    def save_pools(self, pools):
        """Write the image pools' contents (``pools.npz``, atomically).

        Parameters
        ----------
        pools : dict of ImagePool
            The pools by domain (``"A"``, ``"B"``).

        Examples
        --------
        >>> CycleGANRecord("m").save_pools({"A": ImagePool(), "B": ImagePool()})  # doctest: +SKIP
        """
        self.save_arrays(POOLS_NPZ, {key: pool.get_state()[0] for key, pool in pools.items()})

    def load_pools(self, pools, rng_states):
        """Restore the image pools saved by :meth:`save_pools`, with their random generators' states.

        Parameters
        ----------
        pools : dict of ImagePool
            The pools by domain, set in place.
        rng_states : dict of dict
            The random generators' states by domain (from ``l2l_state.json``).

        Raises
        ------
        FileNotFoundError
            If the folder has no ``pools.npz``.

        Examples
        --------
        >>> CycleGANRecord("m").load_pools(pools, state["pools_rng"])  # doctest: +SKIP
        """
        path = self.model_dir / POOLS_NPZ
        if not path.is_file():
            raise FileNotFoundError(f"{self.model_dir}: no {POOLS_NPZ} to resume from")
        with np.load(path) as saved:
            for key, pool in pools.items():
                pool.set_state(saved[key], rng_states[key])
