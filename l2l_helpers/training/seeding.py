"""Seeded, deterministic blocks of code that leave no global state behind.

Training a network with Keras draws random numbers from several global
generators: Python's :mod:`random`, NumPy's global generator, TensorFlow's
global seed (and the generator of operation seeds derived from it), Keras'
global seed and its global ``SeedGenerator``. ``keras.utils.set_random_seed``
seeds all of them, and TensorFlow's *op determinism* makes the kernels
deterministic, but both change the process for good. :func:`seeded` does the
same for the duration of a ``with`` block and then puts every one of these
states back as it was, so a training inside a notebook or a long-lived
worker does not change what the code after it draws.

:func:`global_random_state` returns a comparable snapshot of all of these
states (for tests and for checking one's own code).

TensorFlow and Keras are imported when :func:`seeded` is entered, not when
this module is imported.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np

__all__ = ["seeded", "global_random_state"]

# names of Keras' global attributes (keras/src/utils/rng_utils.py and
# keras/src/random/seed_generator.py)
_KERAS_SEED = "global_random_seed"
_KERAS_SEED_GENERATOR = "global_seed_generator"


def _tf_context():
    from tensorflow.python.eager import context

    return context.context()


def _keras_global_state():
    from keras.src.backend.common import global_state

    return global_state


def _numpy_state_key(state):
    name, keys, pos, has_gauss, cached = state
    return (name, keys.tobytes(), int(pos), int(has_gauss), float(cached))


def global_random_state():
    """Return a snapshot of every global random state that training touches.

    Parameters
    ----------
    None

    Returns
    -------
    dict
        Comparable values (two snapshots are equal with ``==`` when nothing
        changed in between): ``python`` (``random.getstate()``), ``numpy``
        (the global generator's state), ``tf_seed`` (TensorFlow's global
        seed, ``None`` when unset), ``tf_op_seeds`` (state of the generator
        of operation seeds, ``None`` when there is none), ``keras_seed``
        (seed of ``keras.utils.set_random_seed``, ``None`` when unset),
        ``keras_seed_generator`` (``id`` of Keras' global ``SeedGenerator``,
        ``None`` when there is none) and ``op_determinism`` (bool).

    Examples
    --------
    >>> before = global_random_state()
    >>> with seeded(0):
    ...     _ = np.random.random()
    >>> global_random_state() == before
    True
    """
    from tensorflow.python.framework import config as tf_config

    ctx = _tf_context()
    rng = getattr(ctx, "_rng", None)
    gs = _keras_global_state()
    gen = gs.get_global_attribute(_KERAS_SEED_GENERATOR)
    return {
        "python": random.getstate(),
        "numpy": _numpy_state_key(np.random.get_state()),
        "tf_seed": ctx._seed,  # noqa: SLF001 - what tf.random.set_seed sets (TF has no public getter)
        "tf_op_seeds": None if rng is None else rng.getstate(),
        "keras_seed": gs.get_global_attribute(_KERAS_SEED),
        "keras_seed_generator": None if gen is None else id(gen),
        "op_determinism": bool(tf_config.is_op_determinism_enabled()),
    }


@contextlib.contextmanager
def seeded(seed, deterministic=True, clear_session=False):
    """Seed every global random generator for a block, then restore them.

    Inside the block, ``keras.utils.set_random_seed(seed)`` has seeded
    Python's :mod:`random`, NumPy's global generator, TensorFlow's global
    seed and Keras' global seed (its global ``SeedGenerator`` is reset), and
    TensorFlow's op determinism is on (if ``deterministic``). On exit, also
    after an exception, each of these states is put back exactly as it was:
    the generators continue where they stood, an unset TensorFlow or Keras
    seed is unset again, and op determinism is switched off again if it
    was off.

    Parameters
    ----------
    seed : int
        The seed.
    deterministic : bool
        Enable TensorFlow's op determinism inside the block (default True):
        same seed, same data, identical results on the CPU.
    clear_session : bool
        Call ``keras.backend.clear_session()`` before seeding (default
        False), so that a long-lived process does not accumulate Keras'
        global state (layer names, graphs) over repeated trainings. Keras'
        global seed and seed generator are restored all the same; models
        built earlier keep working.

    Yields
    ------
    int
        The seed.

    Raises
    ------
    ValueError
        If ``seed`` is not an integer.

    Examples
    --------
    >>> import random
    >>> with seeded(3):
    ...     a = random.random()
    >>> with seeded(3):
    ...     b = random.random()
    >>> a == b
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    import keras
    from keras.src.random import seed_generator as keras_seed_module
    from tensorflow.python.framework import config as tf_config
    from tensorflow.python.framework import random_seed as tf_random_seed

    ctx = _tf_context()
    gs = _keras_global_state()
    py_state = random.getstate()
    np_state = np.random.get_state()
    tf_seed = ctx._seed  # noqa: SLF001
    had_rng = hasattr(ctx, "_rng")
    tf_rng = getattr(ctx, "_rng", None)
    tf_rng_state = None if tf_rng is None else tf_rng.getstate()
    keras_seed = gs.get_global_attribute(_KERAS_SEED)
    keras_gen = gs.get_global_attribute(_KERAS_SEED_GENERATOR)
    was_deterministic = tf_config.is_op_determinism_enabled()
    keras_random = None
    try:
        if clear_session:
            keras.backend.clear_session(free_memory=True)
        keras.utils.set_random_seed(int(seed))
        # Keras draws the seeds of unseeded initializers from Python's global `random`. Other threads of the
        # process may draw from it too (a Dask worker's event loop does, several times a second), which would make
        # the initial weights depend on timing. Keras gets a private generator, seeded as set_random_seed seeded
        # the global one: the same draws as in a plain process, unaffected by anyone else's. (Not a copy of the
        # global state: another thread may have drawn from it since random.seed.)
        keras_random = keras_seed_module.python_random
        keras_seed_module.python_random = random.Random(int(seed))
        if deterministic:
            tf_config.enable_op_determinism()
        yield int(seed)
    finally:
        if keras_random is not None:
            keras_seed_module.python_random = keras_random
        if deterministic and not was_deterministic:
            tf_config.disable_op_determinism()
        elif was_deterministic and not tf_config.is_op_determinism_enabled():
            tf_config.enable_op_determinism()
        # set_seed also clears TensorFlow's kernel cache, as when the seed was set
        tf_random_seed.set_seed(tf_seed)
        if had_rng:
            ctx._rng = tf_rng  # noqa: SLF001 - the generator of operation seeds, as it was
            if tf_rng is not None:
                tf_rng.setstate(tf_rng_state)
        elif hasattr(ctx, "_rng"):
            del ctx._rng  # noqa: SLF001
        # keras.backend.clear_session() inside the block replaces Keras' global
        # state object: the previous values are set on the current one
        gs.set_global_attribute(_KERAS_SEED, keras_seed)
        gs.set_global_attribute(_KERAS_SEED_GENERATOR, keras_gen)
        np.random.set_state(np_state)
        random.setstate(py_state)
