#!/usr/bin/env python3
"""Benchmark the losses: time of one forward + backward pass per batch, and metric evaluation time.

For each loss of :mod:`l2l_helpers.training.losses` and each patch size, times
``loss(y_true, y_pred)`` with its gradient (inside a ``tf.function``, as
Keras runs it) on a batch of random patches, and times
:func:`l2l_helpers.scoring.metrics.evaluate_pair` on one image. Writes
``benchmarks/results/losses.json``::

    python benchmarks/bench_losses.py                       # batch 16, patches 48, 64, 128
    python benchmarks/bench_losses.py --batch 16 --sizes 64 128 --repeats 20

Times are wall-clock milliseconds on this machine (median of the repeats,
after one warm-up call that traces the graph). For comparison, the training
step of each profile's network: benchmarks/results.md, "Training step per profile".
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
from suite_common import write_json

RESULTS = Path(__file__).resolve().parent / "results" / "losses.json"


def time_loss(name, size, batch, repeats, seed=0):
    """Median milliseconds of one loss + gradient evaluation."""
    import tensorflow as tf

    from l2l_helpers.training.losses import get_loss

    rng = np.random.default_rng(seed)
    y_true = tf.constant(rng.random((batch, size, size, 1), dtype=np.float32))
    y_pred = tf.Variable(rng.random((batch, size, size, 1), dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loss = get_loss(name, patch_size=size)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = loss(y_true, y_pred)
        return value, tape.gradient(value, y_pred)

    value, grad = step()  # trace
    finite = bool(np.isfinite(float(value)) and np.isfinite(grad.numpy()).all())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        value, grad = step()
        _ = grad.numpy()
        times.append(1000 * (time.perf_counter() - t0))
    return {
        "ms_median": float(np.median(times)),
        "ms_min": float(np.min(times)),
        "finite": finite,
        "filter_size": loss.settings["filter_size"],
    }


def time_metrics(size, repeats, seed=0):
    """Median milliseconds of evaluate_pair on one size x size image."""
    from l2l_helpers.scoring.metrics import evaluate_pair

    rng = np.random.default_rng(seed)
    target = rng.random((size, size)).astype(np.float32)
    pred = (target + 0.1 * rng.standard_normal(target.shape)).astype(np.float32)
    evaluate_pair(pred, target)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        evaluate_pair(pred, target)
        times.append(1000 * (time.perf_counter() - t0))
    return {"ms_median": float(np.median(times)), "ms_min": float(np.min(times))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--sizes", type=int, nargs="+", default=[48, 64, 128])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--metric-size", type=int, default=256, help="image side for evaluate_pair")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    from l2l_helpers.training.losses import LOSSES

    out = {
        "description": "loss + gradient per batch (ms) and evaluate_pair per image (ms)",
        "batch": args.batch,
        "sizes": args.sizes,
        "repeats": args.repeats,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_1min_at_start": os.getloadavg()[0],
        },
        "losses": {},
    }
    for name in LOSSES:
        out["losses"][name] = {}
        for size in args.sizes:
            r = time_loss(name, size, args.batch, args.repeats)
            out["losses"][name][str(size)] = r
            print(
                f"{name:5s} {size:4d} px  {r['ms_median']:7.1f} ms  filter {r['filter_size']}  finite {r['finite']}",
                flush=True,
            )
    out["evaluate_pair"] = {str(args.metric_size): time_metrics(args.metric_size, args.repeats)}
    print(f"evaluate_pair {args.metric_size} px: {out['evaluate_pair'][str(args.metric_size)]['ms_median']:.1f} ms")
    print(f"wrote {write_json(args.out, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
