"""The machine a course runs on: its CPU, and how fast it trains the course's networks.

Training time on a CPU depends less on its clock than on its vector
extensions: TensorFlow's convolutions run several times faster with AVX-512
than with AVX2 alone. So every timing the course records or plans with should
name the CPU (:func:`cpu_info`) and come with a short, fixed speed probe
(:func:`training_step_seconds`, :func:`matmul_gflops`).

``python -m l2l_helpers.course.machine`` prints both (``.ci/run`` does, first).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from l2l_helpers.training.profiles import DEFAULT_PROFILE

__all__ = ["VECTOR_FLAGS", "cpu_info", "training_step_seconds", "step_times", "matmul_gflops", "probe"]

#: CPU flags that decide how fast TensorFlow trains on a CPU.
VECTOR_FLAGS = ("avx2", "avx512f", "amx_tile")


def cpu_info(cpuinfo=None):
    """Model, family, cores and vector extensions of this CPU.

    Parameters
    ----------
    cpuinfo : str, optional
        Text in the format of Linux's ``/proc/cpuinfo`` (default: read it;
        on other systems the fields are ``None``).

    Returns
    -------
    dict
        ``model``, ``family`` (int or None), ``cores`` (usable by this
        process) and ``flags``: the :data:`VECTOR_FLAGS` this CPU has.

    Examples
    --------
    >>> text = "model name\\t: AMD EPYC\\ncpu family\\t: 25\\nflags\\t\\t: fpu avx2 fma\\n"
    >>> info = cpu_info(text)
    >>> info["model"], info["family"], info["flags"]
    ('AMD EPYC', 25, ['avx2'])
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())  # the first processor's
    family = fields.get("cpu family")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "model": fields.get("model name"),
        "family": int(family) if family and family.isdigit() else None,
        "cores": cores,
        "flags": [f for f in VECTOR_FLAGS if f in fields.get("flags", "").split()],
    }


def training_step_seconds(profile=DEFAULT_PROFILE, steps=10, warmup=3, seed=0):
    """Median seconds of one training step of a profile's CARE network on random patches.

    The profile's network (CSBDeep's CARE with :func:`~l2l_helpers.training.profiles.care_config`)
    is trained with Adam and L1 on one batch of random patches of the
    profile's patch and batch size, ``warmup`` steps first (graph building),
    then ``steps`` timed steps. Data preparation and validation are left out.

    Parameters
    ----------
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"``.
    steps, warmup : int
        Timed steps, and untimed steps before them.
    seed : int
        Seed of the initial weights and the patches.

    Returns
    -------
    float

    Examples
    --------
    >>> seconds = training_step_seconds("workshop")  # doctest: +SKIP
    """
    import numpy as np

    from l2l_helpers.training.profiles import care_config, care_settings
    from l2l_helpers.training.seeding import seeded

    settings = care_settings(profile)
    with seeded(seed, clear_session=True):
        import keras
        from csbdeep.internals.losses import loss_mae
        from csbdeep.models import CARE

        model = CARE(care_config(settings), name=None, basedir=None).keras_model
        model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss=loss_mae())
        shape = (settings.batch_size, settings.patch_size, settings.patch_size, 1)
        rng = np.random.default_rng(seed)
        x, y = rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
        times = step_times(model, x, y, steps=steps, warmup=warmup)
    return float(np.median(times))


def step_times(model, x, y, steps=10, warmup=3):
    """Seconds of each of ``steps`` training steps of a compiled Keras model on one batch, after ``warmup`` steps.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y : numpy.ndarray
        One batch of inputs and targets.
    steps, warmup : int
        Timed steps, and untimed steps before them (graph building).

    Returns
    -------
    list of float

    Examples
    --------
    >>> import numpy as np
    >>> class Model:  # anything with train_on_batch
    ...     def train_on_batch(self, x, y):
    ...         return float(np.mean(x - y))
    >>> len(step_times(Model(), np.zeros(4), np.ones(4), steps=3, warmup=1))
    3
    """
    for _ in range(warmup):
        model.train_on_batch(x, y)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return times


def matmul_gflops(n=1024, repeats=5):
    """Rate of float32 matrix multiplication with NumPy (GFLOP/s, best of ``repeats``).

    Parameters
    ----------
    n : int
        Size of the square matrices.
    repeats : int
        Timed multiplications.

    Returns
    -------
    float

    Examples
    --------
    >>> matmul_gflops(n=64, repeats=2) > 0
    True
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def probe(profile=DEFAULT_PROFILE, steps=10):
    """The CPU and its speed: :func:`cpu_info` with the seconds per training step and the matmul rate.

    Parameters
    ----------
    profile : str
        Profile whose network is timed.
    steps : int
        Timed training steps.

    Returns
    -------
    dict

    Examples
    --------
    >>> sorted(probe())  # doctest: +SKIP
    ['cores', 'family', 'flags', 'matmul_gflops', 'model', 'profile', 'seconds_per_step']
    """
    return {
        **cpu_info(),
        "profile": profile,
        "seconds_per_step": round(training_step_seconds(profile, steps=steps), 4),
        "matmul_gflops": round(matmul_gflops(), 1),
    }


if __name__ == "__main__":
    print(json.dumps(probe()))
