#!/usr/bin/env python3
"""What makes a CARE training step faster on a 2-core CPU: the things tried, side by side.

Each variant runs in a fresh process (TensorFlow's thread pools and XLA are
process-wide), builds the profile's CARE U-Net, trains a few untimed warm-up
steps (graph building, XLA compilation) and then ``--steps`` timed steps
through ``keras.Model.fit`` on random patches, as :mod:`l2l_helpers.training.care`
does. Variants:

``baseline``
    what ``train_model`` does: a Python generator of batches (one NumPy
    fancy-index per batch), Keras' default graph, TensorFlow's default
    thread pools;
``tf_data``
    the same batches from a ``tf.data`` pipeline with ``prefetch``;
``xla``
    ``jit_compile=True`` (XLA on the CPU);
``threads_2_1`` / ``threads_1_1``
    intra-op 2 / 1 threads, inter-op 1 thread;
``batch_8``
    half the batch (steps are cheaper, but see fewer patches).

Seconds per step are medians over the timed steps (a callback times each
step of ``fit``); the speed-up is the baseline's median step, measured in the
same run, over the variant's. The wall time of the timed ``fit`` divided by
the steps is reported too (it also holds a ``tf.data`` pipeline's start-up). Writes
``benchmarks/results/speedups.json``::

    python benchmarks/bench_speedups.py --profile workshop --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from suite_common import _peak_mb, write_json

HERE = Path(__file__).resolve().parent
VARIANTS = ("baseline", "tf_data", "xla", "threads_2_1", "threads_1_1", "batch_8")


def _measure(variant, profile, steps, warmup):

    import numpy as np

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if variant.startswith("threads_"):
        intra, inter = (int(v) for v in variant.split("_")[1:])
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    import keras
    from csbdeep.internals.losses import loss_mae
    from csbdeep.models import CARE

    from l2l_helpers.training.care import seeded_batches
    from l2l_helpers.training.profiles import profile_settings
    from l2l_helpers.training.train import care_config

    p = profile_settings(profile)
    if variant == "batch_8":
        p["batch_size"] = 8
    keras.utils.set_random_seed(0)
    config = care_config(p)
    km = CARE(config, name=None, basedir=None).keras_model
    km.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss=loss_mae(), jit_compile=variant == "xla")
    rng = np.random.default_rng(0)
    s, b = p["patch_size"], p["batch_size"]
    X = rng.random((512, s, s, 1), dtype=np.float32)
    Y = rng.random((512, s, s, 1), dtype=np.float32)
    if variant == "tf_data":
        data = tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(512, seed=0).repeat().batch(b).prefetch(2)
    else:
        data = seeded_batches(X, Y, b, seed=0, start_epoch=0, steps_per_epoch=steps)

    class Timer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            times.append(time.perf_counter() - self.t0)

    times = []
    km.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0)
    t0 = time.perf_counter()
    km.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[Timer()])
    wall = (time.perf_counter() - t0) / steps
    return {
        "variant": variant,
        "profile": profile,
        "batch_size": b,
        "timed_steps": steps,
        "seconds_per_step_median": round(float(np.median(times)), 4),
        "seconds_per_step_wall": round(wall, 4),
        "peak_memory_mb": _peak_mb(),
    }


def run(profile="workshop", steps=30, warmup=5, variants=VARIANTS):
    """Measure every variant in its own process; return a JSON-serialisable dict."""
    rows = []
    for variant in variants:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            variant,
            "--profile",
            profile,
            "--steps",
            str(steps),
            "--warmup",
            str(warmup),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
            rows.append({"variant": variant, "error": lines[-1] if lines else f"exit code {out.returncode}"})
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = next((r for r in rows if r["variant"] == "baseline" and "error" not in r), None)
    for r in rows:  # steady state: the median step (the wall time also holds a pipeline's start-up)
        if base and "error" not in r:
            r["speedup_vs_baseline"] = round(base["seconds_per_step_median"] / r["seconds_per_step_median"], 2)
    return {"profile": profile, "variants": rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="workshop")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results" / "speedups.json"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args.profile, args.steps, args.warmup)))
        return 0
    result = run(args.profile, args.steps, args.warmup, args.variants)
    for r in result["variants"]:
        print(r)
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
