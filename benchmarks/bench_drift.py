#!/usr/bin/env python3
"""Benchmark drift estimation: time per image pair and error vs the known drift.

Simulates cells of every paired structure (``input`` and ``input_repeat``,
which is displaced by a known sub-pixel drift), runs both methods of
:func:`l2l_helpers.pairs.drift.estimate_drift` and writes
``benchmarks/results/drift.json``::

    python benchmarks/bench_drift.py                 # 12 cells of 256x256 per structure
    python benchmarks/bench_drift.py --n 4 --size 128

Errors are Euclidean distances (px) between the estimated and the known
``(dy, dx)``; times are wall-clock seconds per pair on this machine (the
simulation is not timed).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
from suite_common import write_json

from l2l_helpers.data import simulate
from l2l_helpers.pairs import drift

RESULTS = Path(__file__).resolve().parent / "results" / "drift.json"


def ssim_search_per_patch(reference, moving, max_shift=5, n_patches=100, patch_size=60, smooth_sigma=2.0, seed=0):
    """The paper's SSIM search computed as it describes it: one skimage SSIM per patch and shift.

    The reference for the ``ssim`` method's speed: :func:`l2l_helpers.pairs.drift.ssim_scores`
    returns the same scores (``tests/test_drift.py``) from one SSIM map per
    shift. Returns the winning integer shift ``(dy, dx)``.
    """
    from scipy import ndimage as ndi
    from skimage.metrics import structural_similarity

    from l2l_helpers.training.prepare import normalize

    ref = normalize(ndi.gaussian_filter(np.asarray(reference, np.float64), smooth_sigma), 1.0, 99.8)
    mov = normalize(ndi.gaussian_filter(np.asarray(moving, np.float64), smooth_sigma), 1.0, 99.8)
    corners = drift.sample_patch_corners(ref, patch_size=patch_size, n_patches=n_patches, margin=max_shift, seed=seed)
    best, best_shift = -np.inf, None
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            score = np.mean(
                [
                    structural_similarity(
                        ref[r : r + patch_size, c : c + patch_size],
                        mov[r - dy : r - dy + patch_size, c - dx : c - dx + patch_size],
                        gaussian_weights=True,
                        sigma=1.5,
                        use_sample_covariance=False,
                        data_range=1,
                    )
                    for r, c in corners
                ]
            )
            if score > best:
                best, best_shift = score, (dy, dx)
    return best_shift


def time_per_patch_search(n_pairs=2, size=256, seed=0, structure="actin"):
    """Seconds per pair of :func:`ssim_search_per_patch`, and whether it picks the ``ssim`` method's shift."""
    data = simulate.simulate_dataset(structure, n=n_pairs, size=size, seed=seed)
    seconds, agree = [], []
    for ref, mov in zip(data["input"], data["input_repeat"]):
        t0 = time.perf_counter()
        shift = ssim_search_per_patch(ref, mov, seed=seed)
        seconds.append(time.perf_counter() - t0)
        fast = drift.estimate_drift(ref, mov, method="ssim", seed=seed)
        agree.append(bool(np.allclose(shift, fast)))
    return {"seconds_per_pair": float(np.median(seconds)), "pairs": n_pairs, "same_shift_as_ssim": all(agree)}


def run(n=12, size=256, seed=0, structures=simulate.PAIRED_STRUCTURES, methods=drift.METHODS):
    """Benchmark both methods; return a JSON-serialisable dict."""
    out = {
        "description": "drift estimation on simulated cells: input vs input_repeat, known drift",
        "n_per_structure": n,
        "size": size,
        "seed": seed,
        "methods": list(methods),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_1min_at_start": os.getloadavg()[0],
        },
        "structures": {},
    }
    all_err = {m: [] for m in methods}
    all_sec = {m: [] for m in methods}
    for structure in structures:
        data = simulate.simulate_dataset(structure, n=n, size=size, seed=seed)
        res = drift.evaluate_methods(data["input"], data["input_repeat"], data["drift"], methods=methods, seed=seed)
        entry = {}
        for method, r in res.items():
            all_err[method].extend(r["error"].tolist())
            all_sec[method].extend(r["seconds"].tolist())
            entry[method] = {
                "mean_error_px": float(r["error"].mean()),
                "median_error_px": float(np.median(r["error"])),
                "max_error_px": float(r["error"].max()),
                "mean_seconds_per_pair": float(r["seconds"].mean()),
                "per_pair": [
                    {
                        "name": name,
                        "true": [float(v) for v in t],
                        "estimated": [float(v) for v in e],
                        "error_px": float(err),
                        "seconds": float(s),
                    }
                    for name, t, e, err, s in zip(data["names"], r["true"], r["estimated"], r["error"], r["seconds"])
                ],
            }
        out["structures"][structure] = entry
        print(f"{structure}:\n{drift.accuracy_table(res)}\n", flush=True)
    out["overall"] = {
        m: {
            "mean_error_px": float(np.mean(all_err[m])),
            "median_error_px": float(np.median(all_err[m])),
            "max_error_px": float(np.max(all_err[m])),
            "mean_seconds_per_pair": float(np.mean(all_sec[m])),
        }
        for m in methods
    }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=12, help="cells per structure (default 12)")
    parser.add_argument("--size", type=int, default=256, help="image size (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    result = run(n=args.n, size=args.size, seed=args.seed)
    result["total_seconds"] = time.perf_counter() - t0
    write_json(args.out, result)
    for m, r in result["overall"].items():
        print(
            f"overall {m}: mean error {r['mean_error_px']:.3f} px, max {r['max_error_px']:.3f} px, "
            f"{1000 * r['mean_seconds_per_pair']:.1f} ms/pair"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
