"""Restorers: one interface for everything that turns an image into a restoration.

A :class:`Restorer` has a ``name``, its ``params`` (what it was trained or
configured with), :meth:`~Restorer.restore` (one 2-D image in, one image
out, float32) and :meth:`~Restorer.restore_many`. CARE networks
(:class:`CARERestorer`), classical filters (:class:`GaussianRestorer`,
:class:`RollingBallRestorer`, :class:`TopHatRestorer`,
:class:`CLAHERestorer`, all scikit-image's own implementations),
bioimage.io packages (:class:`BioimageioRestorer`) and, in a later lesson,
CycleGAN generators implement it, so a notebook treats them alike::

    restorers = {"Gaussian": GaussianRestorer(sigma=1.5), "L2L": load_restorer("models/actin_l2l")}
    restored = {name: r.restore_many(inputs) for name, r in restorers.items()}
    scores = score_restorations(restored, truths)

A restorer is saved as a folder holding ``l2l_restorer.json``
(``{"kind", "name", "params"}``; a CARE folder also holds the network) and
loaded back by :func:`load_restorer`, which also loads CARE model folders
trained before restorers existed (they hold ``l2l_training.json`` only) and
bioimage.io packages. New kinds register themselves with
:func:`register_restorer`.

Modules: :mod:`.base` (the interface and the registry of kinds),
:mod:`.classical` (scikit-image filters and the paper's parameters),
:mod:`.care` (CARE networks, tiles), :mod:`.bioimageio` (bioimage.io
packages), :mod:`.loading` (:func:`load_restorer`).
"""

from l2l_helpers.restoring.restorers.base import RESTORER_JSON, RESTORERS, Restorer, register_restorer
from l2l_helpers.restoring.restorers.bioimageio import BIOIMAGEIO_YAML_NAMES, BioimageioRestorer, is_bioimageio_package
from l2l_helpers.restoring.restorers.care import MAX_TILE_PIXELS, CARERestorer, auto_tiles
from l2l_helpers.restoring.restorers.classical import (
    CLASSICAL_FILTERS,
    CLASSICAL_PRESETS,
    CLAHERestorer,
    GaussianRestorer,
    RollingBallRestorer,
    TopHatRestorer,
    classical_restorer,
)
from l2l_helpers.restoring.restorers.loading import DEFERRED_KINDS, load_restorer, read_restorer_record, restorer_class

__all__ = [
    "RESTORER_JSON",
    "MAX_TILE_PIXELS",
    "RESTORERS",
    "DEFERRED_KINDS",
    "Restorer",
    "CARERestorer",
    "GaussianRestorer",
    "RollingBallRestorer",
    "TopHatRestorer",
    "CLAHERestorer",
    "BioimageioRestorer",
    "CLASSICAL_FILTERS",
    "CLASSICAL_PRESETS",
    "BIOIMAGEIO_YAML_NAMES",
    "classical_restorer",
    "register_restorer",
    "restorer_class",
    "read_restorer_record",
    "load_restorer",
    "is_bioimageio_package",
    "auto_tiles",
]
