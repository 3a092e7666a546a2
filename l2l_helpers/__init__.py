"""Companion package of the label2label (L2L) course.

Submodules are loaded on first use, so ``import l2l_helpers`` is fast and
does not import TensorFlow; only the training modules do.

>>> import l2l_helpers as l2l
>>> data = l2l.simulate.simulate_cell("actin", seed=0)  # doctest: +SKIP
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "io", "profiles", "simulate", "contrast", "datasets", "drift", "prepare",
    "losses", "metrics", "train", "restore", "plotting", "course",
}


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
