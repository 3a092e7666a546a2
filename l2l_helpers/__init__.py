"""Companion package of the label2label (L2L) course.

Submodules are loaded on first use, so ``import l2l_helpers`` is fast and
does not import TensorFlow; only the training modules do. Every submodule
is reachable as an attribute (``l2l_helpers.scoring.background``, ...).

Importing the package also makes the first ``import tensorflow`` of the
process (by whichever module) hide TensorFlow's start-up notices, which
read as failures to learners; real errors still show (see ``_quiet_tf``).

Examples
--------
>>> import l2l_helpers as l2l
>>> "simulate" in l2l.SUBMODULES
True
>>> l2l.simulate.STRUCTURES[0]
'actin'
"""

import importlib
import pkgutil

from l2l_helpers.course import _quiet_tf

__version__ = "0.1.0"

#: Public submodules and sub-packages, found on disk (names starting with ``_`` are private).
SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))

_quiet_tf.install()


def __getattr__(name):
    if name in SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | SUBMODULES)
