"""Speed and memory of training each profile's CARE network on this CPU.

For every profile (quick, workshop, paper) a fresh process builds the
profile's network, trains it on random patches of the profile's size for a
few warm-up steps (graph building) and then for ``--steps`` timed steps, and
reports seconds per step, the estimated time of a whole training
(``epochs x steps_per_epoch x seconds per step``, without data preparation
and validation) and the peak memory of the process (``resource.getrusage``).
With ``--full quick`` (or another profile) it also times a complete
``train_model`` run of that profile on simulated actin cells, end to end.

Results go to ``benchmarks/results/train.json``.

Usage::

    python benchmarks/bench_train.py                 # all profiles, 5 timed steps each
    python benchmarks/bench_train.py --full quick    # plus a real quick training
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from suite_common import _peak_mb, write_json

HERE = Path(__file__).resolve().parent


def _measure_steps(profile, steps, warmup):

    import numpy as np

    from l2l_helpers.course.machine import step_times
    from l2l_helpers.training.train import care_config, profile_settings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from csbdeep.internals.losses import loss_mae
    from csbdeep.models import CARE

    p = profile_settings(profile)
    keras.utils.set_random_seed(0)
    config = care_config(p)
    model = CARE(config, name=None, basedir=None)
    km = model.keras_model
    km.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss=loss_mae())
    rng = np.random.default_rng(0)
    n, b, s = p["batch_size"], p["batch_size"], p["patch_size"]
    X = rng.random((n, s, s, 1), dtype=np.float32)
    Y = rng.random((n, s, s, 1), dtype=np.float32)
    sec = sum(step_times(km, X[:b], Y[:b], steps=steps, warmup=warmup)) / steps
    return {
        "profile": profile,
        "settings": p,
        "n_parameters": int(km.count_params()),
        "seconds_per_step": round(sec, 4),
        "timed_steps": steps,
        "estimated_training_minutes": round(sec * p["epochs"] * p["steps_per_epoch"] / 60, 2),
        "peak_memory_mb": _peak_mb(),
    }


def _measure_full(profile):
    import tempfile

    from l2l_helpers.data.simulate import simulate_dataset
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.train import profile_settings, train_model

    p = profile_settings(profile)
    t0 = time.perf_counter()
    data = simulate_dataset("actin", n=8, size=256, seed=0)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    patches = make_training_data(
        data["input"],
        data["benchmark"],
        patch_size=p["patch_size"],
        n_patches_per_image=p["n_patches_per_image"],
        input_normalization=p["input_normalization"],
        seed=0,
    )
    t_prep = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = train_model(*patches, Path(tmp) / "model", profile=profile, seed=0, verbose=0, split=patches)
        t_train = time.perf_counter() - t0
    h = result.history
    return {
        "profile": profile,
        "cells": 8,
        "n_train_patches": int(len(patches[0])),
        "simulate_seconds": round(t_sim, 1),
        "prepare_seconds": round(t_prep, 1),
        "train_seconds": round(t_train, 1),
        "val_loss_first_epoch": round(h["val_loss"][0], 4),
        "val_loss_best": round(min(h["val_loss"]), 4),
        "peak_memory_mb": _peak_mb(),
    }


#: What is printed of each measurement (after the profile's name): a step's, a full training's.
_LINES = {
    "steps": "{seconds_per_step:.3f} s/step, ~{estimated_training_minutes:.1f} min per training, "
    "peak {peak_memory_mb:.0f} MB, {n_parameters} parameters",
    "full": "full training: prepare {prepare_seconds} s, train {train_seconds} s, "
    "val_loss {val_loss_first_epoch} -> {val_loss_best}",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["quick", "workshop", "paper"])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per profile (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument(
        "--full",
        nargs="*",
        default=[],
        metavar="PROFILE",
        help="also time a complete training of these profiles on simulated actin",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-full", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(HERE / "results" / "train.json"))
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(_measure_steps(args.child, args.steps, args.warmup)))
        return 0
    if args.child_full:
        print(json.dumps(_measure_full(args.child_full)))
        return 0

    def run(flag, profile):
        cmd = [sys.executable, __file__, flag, profile, "--steps", str(args.steps), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    results = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "steps": [],
        "full": [],
    }
    for flag, profiles, key in (("--child", args.profiles, "steps"), ("--child-full", args.full, "full")):
        for profile in profiles:
            r = run(flag, profile)
            print(f"{profile:9s} {_LINES[key].format(**r)}")
            results[key].append(r)
    print(f"wrote {write_json(args.out, results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
