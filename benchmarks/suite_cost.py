"""The cost sections of the benchmark suite: training steps, losses, drift, prediction, simulation, sweeps, notebooks.

Each ``child_*`` function runs in a fresh process (``suite.py --child``); each ``section_*`` function runs its
children from the parent and returns the section's part of ``results.json``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from suite_common import ROOT, _child, _median, _peak_mb, _target

# ----------------------------------------------------------------------------- children


def child_train(profile):
    from bench_train import _measure_steps

    return _measure_steps(profile, steps=10, warmup=3)


def child_loss_step(loss, steps=20, warmup=3):
    """Median seconds per training step of the workshop network with one loss."""
    import warnings

    import keras
    import numpy as np
    from csbdeep.models import CARE

    from l2l_helpers.course.machine import step_times
    from l2l_helpers.training.losses import get_loss
    from l2l_helpers.training.profiles import profile_settings
    from l2l_helpers.training.train import care_config

    p = profile_settings("workshop")
    keras.utils.set_random_seed(0)
    config = care_config(p)
    km = CARE(config, name=None, basedir=None).keras_model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        km.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss=get_loss(loss, patch_size=p["patch_size"]))
    rng = np.random.default_rng(0)
    s, b = p["patch_size"], p["batch_size"]
    X = rng.random((b, s, s, 1), dtype=np.float32)
    Y = rng.random((b, s, s, 1), dtype=np.float32)
    times = step_times(km, X, Y, steps=steps, warmup=warmup)
    return {"loss": loss, "seconds_per_step": round(_median(times), 4), "peak_memory_mb": _peak_mb()}


def child_predict(model_dir, size=2048, repeats=3):
    import numpy as np

    from l2l_helpers.data.simulate import simulate_cell
    from l2l_helpers.restoring.restorers import CARERestorer, auto_tiles

    restorer = CARERestorer.load(model_dir)
    cell = simulate_cell("actin", size=256, seed=0)["input"].astype(np.float32)
    image = np.tile(cell, (size // 256, size // 256))
    restorer.restore(image[:512, :512])  # warm-up: graph building
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        restorer.restore(image)
        times.append(time.perf_counter() - t0)
    sec = _median(times)
    return {
        "size": size,
        "n_tiles": list(auto_tiles(image.shape)),
        "seconds": round(sec, 2),
        "mpix_per_s": round(size * size / 1e6 / sec, 2),
        "peak_memory_mb": _peak_mb(),
    }


def child_predict_model(model_dir):
    """A workshop-profile network trained for two steps (prediction cost does not depend on the weights)."""
    from l2l_helpers.data.simulate import simulate_dataset
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.train import train_model

    d = simulate_dataset("actin", n=3, size=256, seed=0)
    patches = make_training_data(
        d["input"], d["benchmark"], patch_size=64, n_patches_per_image=8, names=d["names"], seed=0
    )
    train_model(*patches, model_dir, profile="workshop", epochs=1, steps_per_epoch=2, verbose=0, overwrite=True)
    return {"model_dir": str(model_dir)}


def child_simulate(sizes=(256, 1024)):
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES, simulate_cell

    simulate_cell("actin", size=64, seed=0)
    out = {}
    for size in sizes:
        repeats = 5 if size <= 256 else 2
        per = {}
        for structure in PAIRED_STRUCTURES:
            times = []
            for k in range(repeats):
                t0 = time.perf_counter()
                simulate_cell(structure, size=size, seed=k)
                times.append(time.perf_counter() - t0)
            per[structure] = round(1 / _median(times), 2)
        out[str(size)] = {
            "pairs_per_second": per,
            "pairs_per_second_mean_over_structures": round(sum(per.values()) / len(per), 2),
        }
    return {"sizes": out, "peak_memory_mb": _peak_mb()}


def child_drift(n=8, size=256):
    import numpy as np
    from bench_drift import run, time_per_patch_search

    r = run(n=n, size=size, seed=0)
    out = {}
    for method in r["overall"]:
        errors = [p["error_px"] for s in r["structures"].values() for p in s[method]["per_pair"]]
        secs = [p["seconds"] for s in r["structures"].values() for p in s[method]["per_pair"]]
        out[method] = {
            "rms_error_px": round(float(np.sqrt(np.mean(np.square(errors)))), 4),
            "max_error_px": round(float(np.max(errors)), 4),
            "seconds_per_pair": round(_median(secs), 4),
            "pairs": len(errors),
        }
    return {"size": size, "methods": out, "ssim_per_patch": time_per_patch_search(size=size)}


def child_sweep(workers, folder):
    from l2l_helpers.experiments import crossval

    data = {"simulate": {"structure": "actin", "n": 8, "size": 128, "seed": 0}}
    t0 = time.perf_counter()
    summary = crossval.run_crossval(
        Path(folder) / f"sweep_{workers}",
        data,
        n_pairs=[4],
        folds=2,
        repeats=3,
        profile="quick",
        workers=workers,
        progress=False,
        overwrite=True,
    )
    seconds = time.perf_counter() - t0
    return {
        "workers": workers,
        "tasks": summary["tasks"],
        "failed": summary["failed"],
        "seconds": round(seconds, 1),
        "trainings_per_hour": round(summary["ran"] / seconds * 3600, 1),
    }


def child_notebooks(profile, folder):
    from l2l_helpers.course.runner import run_course

    return run_course(ROOT / "notebooks", Path(folder) / "course", profile=profile, html=False)


# ----------------------------------------------------------------------------- sections (parent)


def section_train():
    rows = [_child("train", [p]) for p in ("quick", "workshop", "paper")]
    paper = rows[-1]
    return {
        "description": "seconds per training step (batch 16) of each profile's CARE U-Net, random patches",
        "profiles": rows,
        "paper_training_hours_estimate": round(paper["estimated_training_minutes"] / 60, 1),
        "targets": [],
    }


def section_speedups():
    from bench_speedups import run as run_variants  # each variant in its own process

    return {
        "variants": run_variants("workshop", steps=20, warmup=4)["variants"],
        "description": "workshop network, seconds per step through keras fit (median step, and wall time of "
        "the timed fit / steps), each variant in a fresh process; batch_8 sees half the patches "
        "per step",
        "targets": [],
    }


def section_losses():
    rows = [_child("loss", [name]) for name in ("l1", "ssim", "ms3", "ms5")]
    l1 = rows[0]["seconds_per_step"]
    for r in rows:
        r["relative_to_l1"] = round(r["seconds_per_step"] / l1, 2)
    worst = max(r["relative_to_l1"] for r in rows)
    return {
        "description": "workshop network (64 px patches, batch 16), seconds per training step per loss",
        "losses": rows,
        "targets": [_target("MS-SSIM losses cost little beside the convolutions (slowest loss / l1)", worst, 1.5)],
    }


def section_drift():
    r = _child("drift", [])
    phase, ssim = r["methods"]["phase"], r["methods"]["ssim"]
    ratio = round(ssim["seconds_per_pair"] / phase["seconds_per_pair"], 1)
    paper = r["ssim_per_patch"]
    paper_ratio = round(paper["seconds_per_pair"] / phase["seconds_per_pair"])
    r.update(
        phase_speedup_over_ssim=ratio,
        phase_speedup_over_ssim_per_patch=paper_ratio,
        ssim_speedup_over_per_patch=round(paper["seconds_per_pair"] / ssim["seconds_per_pair"]),
        description="drift between input and input_repeat of simulated cells (known sub-pixel drift), all "
        "paired structures; ssim_per_patch: the paper's SSIM search computed patch by patch with "
        "skimage (100 patches x 121 shifts), timed on 2 actin pairs",
    )
    r["targets"] = [
        _target("phase faster than the paper's SSIM search, per patch (x)", paper_ratio, 50, better="higher"),
        _target("phase faster than ssim as l2l_helpers computes it (x)", ratio, 50, better="higher"),
        _target("phase RMS error (px)", phase["rms_error_px"], 0.1),
    ]
    return r


def section_predict():
    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        model = Path(tmp) / "model"
        _child("predict_model", [str(model)])
        r = _child("predict", [str(model)])
    r["description"] = (
        "restoring a 2048 x 2048 image with the workshop network, in tiles (auto_tiles), "
        "median of 3; peak memory of the whole process (TensorFlow included)"
    )
    r["targets"] = [
        _target("prediction speed (MPix/s)", r["mpix_per_s"], 1.0, better="higher"),
        _target("prediction peak memory (MB)", r["peak_memory_mb"], 2048),
    ]
    return r


def section_simulate():
    r = _child("simulate", [])
    r["description"] = "simulate_cell (one image pair with ground truth and extras), median per structure"
    r["targets"] = []
    return r


def section_sweep():
    rows = []
    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        for workers in (1, 2):
            rows.append(_child("sweep", [str(workers), tmp]))
    ratio = round(rows[1]["trainings_per_hour"] / rows[0]["trainings_per_hour"], 2)
    return {
        "description": "crossval sweep, quick profile, 6 trainings on simulated actin (128 px), local Dask "
        "cluster started inside the timing",
        "runs": rows,
        "speedup_2_workers": ratio,
        "targets": [],
    }


def section_notebooks(profile="quick", from_summary=None):
    if from_summary:  # one or more course runs (summary.json) of one profile, merged by notebook name
        runs = [json.loads(Path(f).read_text()) for f in from_summary]
        if len({r["profile"] for r in runs}) != 1:
            raise SystemExit(f"--from-summary: the runs are of different profiles: {[r['profile'] for r in runs]}")
        entries = {e["notebook"]: e for r in runs for e in r["notebooks"]}
        summary = {
            "profile": runs[0]["profile"],
            "started": min(r.get("started", "") for r in runs),
            "notebooks": [entries[k] for k in sorted(entries)],
        }
    else:
        with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
            summary = _child("notebooks", [profile, tmp])
    profile = summary["profile"]
    limit = {"quick": 120, "workshop": 300}.get(profile)
    rows = [
        {k: e.get(k) for k in ("notebook", "status", "seconds", "peak_memory_mb", "peak_rss_sum_mb")}
        for e in summary["notebooks"]
    ]
    targets = []
    if limit:
        slow = max(rows, key=lambda e: e["seconds"])
        targets.append(_target(f"slowest notebook, {profile} profile (s): {slow['notebook']}", slow["seconds"], limit))
    mem = [e for e in rows if e.get("peak_memory_mb") is not None]
    if mem:
        big = max(mem, key=lambda e: e["peak_memory_mb"])
        targets.append(
            _target(f"largest peak memory, {profile} profile (MB): {big['notebook']}", big["peak_memory_mb"], 2048)
        )
    return {
        "description": f"every notebook in the {profile} profile, as l2l course runs it; peak memory of the "
        "kernel and the processes it starts: their summed PSS (pages shared between them, such as "
        "TensorFlow's libraries, counted once, as a container's memory limit counts them) and, "
        "for comparison, their summed RSS (shared pages counted once per process)",
        "profile": profile,
        "started": summary.get("started"),
        "notebooks": rows,
        "targets": targets,
    }
