"""Time the simulator: seconds per cell (one 256x256 image pair with all extras) per structure.

Writes ``benchmarks/results/simulate.json``. Run with
``python benchmarks/bench_simulate.py [--size 256] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from suite_common import write_json

from l2l_helpers.data.simulate import STRUCTURES, simulate_cell


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "simulate.json"))
    args = parser.parse_args(argv)
    simulate_cell("actin", size=64, seed=0)  # warm-up (imports, caches)
    results = {}
    for structure in STRUCTURES:
        times = []
        for k in range(args.repeats):
            t0 = time.perf_counter()
            simulate_cell(structure, size=args.size, seed=k)
            times.append(time.perf_counter() - t0)
        results[structure] = {
            "mean_s": float(np.mean(times)),
            "max_s": float(np.max(times)),
            "min_s": float(np.min(times)),
        }
        print(f"{structure:18s} {np.mean(times) * 1000:7.1f} ms per cell (max {np.max(times) * 1000:.1f} ms)")
    out = {
        "size": args.size,
        "repeats": args.repeats,
        "seconds_per_cell": results,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
    print(f"wrote {write_json(args.out, out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
