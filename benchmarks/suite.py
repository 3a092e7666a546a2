#!/usr/bin/env python3
"""The benchmark suite: what the course costs on this machine, and what it gets for it.

Run it with ``python3 tasks.py bench`` (all sections but the long ones) or
``python3 tasks.py bench --sections quality drift`` (some). Every section runs
in a fresh process (peak memory is that process's, via ``resource``), and
writes its part of ``benchmarks/results.json``; sections not run keep their
earlier results, each stamped with when and on what it was measured.
``benchmarks/results.md`` (the tables README includes between its
``l2l:benchmarks`` markers) is rewritten from the JSON every time.

Sections
--------
``train``
    seconds per training step of each profile's network, and what a whole
    training of each profile costs (the paper profile: an estimate).
``speedups``
    what was tried to make a step faster on 2 cores (tf.data, XLA, threads,
    batch size), each against the baseline measured in the same run.
``losses``
    seconds per training step with each loss (l1, ssim, ms3, ms5).
``quality``
    quality per CPU minute: L2L on simulated actin, same data and seed, the
    same wall-clock budgets, for the workshop profile, CSBDeep's default
    ``Config`` and CAREamics' CARE (PyTorch; run in ``.venv-peers`` if it
    exists, else reported as not installed); SSIM and PSNR against the
    ground truth on held-out cells.
``quality_variants``
    changes to the workshop profile tried against CAREamics' lead (the
    earlier workshop network, flips, zoom copies, learning rate, batch
    normalisation, more patches, batch size), each trained for one minute on
    the quality section's data.
``quality_seeds``
    the closest comparison, workshop against CAREamics at 1 minute, repeated
    with three training seeds: the spread between runs; with the same seeds,
    the workshop profile with inputs standardised per image
    (``mean_std_input``).
``quality_real``
    the input normalisation on real structure: the L2L L1 network of
    notebook 09's real-structure check (the BPAE F-actin image with a
    synthetic label background, ``l2l_helpers.data.semisynthetic``), trained with
    the workshop profile and inputs scaled to percentiles or standardised,
    three seeds each; SSIM, PSNR and background left against the real
    image. Needs the BPAE image (a network, or ``../shared/realdata``, which
    ``python3 tasks.py bench`` serves); without it the section says so.
``drift``
    time per pair and RMS error against the known drift, ``phase`` and
    ``ssim``, and the time of the paper's SSIM search computed patch by patch.
``predict``
    megapixels per second restoring a 2048 x 2048 image in tiles, and the
    peak memory of that process.
``simulate``
    image pairs per second at 256 x 256 and 1024 x 1024.
``sweep``
    trainings per hour of a quick-profile sweep on 1 and 2 local Dask workers.
``notebooks``
    seconds and peak memory of every notebook in a profile
    (``--notebook-profile``, default quick), run as ``l2l course`` runs them;
    ``--from-summary course_output/summary.json [...]`` takes them from one
    or more course runs instead (how the workshop times are recorded: the maintainers'
    ``python3 tasks.py course --profile workshop --inplace`` run that made
    the committed notebooks).

Benchmarks are not tests: a slow machine never fails anything; the tables
say which target a number meets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
README = ROOT / "README.md"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
MARK_START, MARK_END = "<!-- l2l:benchmarks:start -->", "<!-- l2l:benchmarks:end -->"
SECTIONS = (
    "train",
    "speedups",
    "losses",
    "quality",
    "quality_variants",
    "quality_seeds",
    "quality_real",
    "drift",
    "predict",
    "simulate",
    "sweep",
    "notebooks",
)
DEFAULT_SECTIONS = ("train", "losses", "drift", "predict", "simulate", "sweep")
BUDGETS_MIN = (1, 2, 4)
QUALITY_TOOLS = ("workshop", "csbdeep_default", "careamics")


# ----------------------------------------------------------------------------- helpers


def _peak_mb():
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _median(values):
    import numpy as np

    return float(np.median(values))


def machine_info():
    """CPU model, cores, memory and library versions of this machine (dict)."""
    from importlib import metadata

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        mem_gb = None
    versions = {}
    for dist in (
        "tensorflow",
        "keras",
        "csbdeep",
        "numpy",
        "scikit-image",
        "scipy",
        "dask",
        "distributed",
        "l2l-helpers",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu": None,
        "versions": versions,
    }


def _target(name, value, limit, better="lower", unit=""):
    """One target row: met when ``value`` is on the right side of ``limit``."""
    met = None if value is None else (value <= limit if better == "lower" else value >= limit)
    return {"target": name, "value": value, "limit": limit, "better": better, "unit": unit, "met": met}


def _child(section, args, python=None, timeout=None):
    """Run ``--child SECTION`` in a fresh process; return its JSON (last stdout line)."""
    cmd = [str(python or sys.executable), str(Path(__file__).resolve()), "--child", section, *args]
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode != 0:
        tail = [ln for ln in out.stderr.strip().splitlines() if ln.strip()][-3:]
        raise RuntimeError(f"{section} {' '.join(args)} failed: " + " | ".join(tail))
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    for _ in range(warmup):
        km.train_on_batch(X, Y)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        km.train_on_batch(X, Y)
        times.append(time.perf_counter() - t0)
    return {"loss": loss, "seconds_per_step": round(_median(times), 4), "peak_memory_mb": _peak_mb()}


def quality_data(folder, n_train=8, n_val=2, n_test=4, seed=0):
    """Simulated actin for the quality section, saved once so every tool gets the same arrays."""
    import numpy as np

    from l2l_helpers.data.simulate import simulate_dataset

    d = simulate_dataset("actin", n=n_train + n_val + n_test, size=256, seed=seed)
    tr, va, te = slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, None)
    path = Path(folder) / "actin.npz"
    np.savez(
        path,
        train_x=d["input"][tr],
        train_y=d["benchmark"][tr],
        val_x=d["input"][va],
        val_y=d["benchmark"][va],
        test_x=d["input"][te],
        test_gt=d["ground_truth"][te],
        names=np.array(d["names"][: n_train + n_val]),
    )
    return path


#: Changes to the workshop profile tried in the ``quality_variants`` section (one training of each, 1 minute):
#: variant -> (what it is, overrides of the profile's settings). Batch normalisation, the data without zoom copies
#: and the 4x patches are set up by patching CSBDeep / l2l_helpers inside the benchmark's own child process only.
QUALITY_VARIANTS = {
    "workshop": (
        "the workshop profile: 16 first filters, no residual connection (83k parameters), patches flipped "
        "and turned by multiples of 90 degrees as they are drawn",
        {},
    ),
    "no_flip_rotate": (
        "the workshop profile without the flips and quarter turns (until 2026-11-28 noon)",
        dict(flip_rotate=False),
    ),
    "earlier_workshop": (
        "the workshop profile until 2026-11-28 morning: 32 first filters, CSBDeep's residual U-Net "
        "(333k parameters), no flips",
        dict(unet_n_first=32, unet_residual=True, flip_rotate=False),
    ),
    "no_zoom": (
        "no zoom-and-rotation copies of the images (the paper's augmentation): flips and quarter turns only",
        {},
    ),
    "learning_rate_0.0015": ("learning rate 0.0015 instead of 0.0007", dict(learning_rate=0.0015)),
    "batch_norm": ("batch normalisation in every convolution block (as CAREamics' U-Net)", {}),
    "4x_patches": ("256 instead of 64 patches per image", {}),
    "batch_8": ("batch size 8 instead of 16: more, noisier steps in the same minute", dict(batch_size=8)),
    "mean_std_input": (
        "inputs standardised per image (zero mean, unit variance, as CAREamics does) instead of "
        "scaled to their 2nd-99.8th percentiles; targets as before (make_training_data's "
        "input_normalization)",
        dict(input_normalization="mean_std"),
    ),
}


def _apply_variant(variant):
    """Patch this (child) process for one of :data:`QUALITY_VARIANTS`; return (patches per image, overrides)."""
    import functools

    import csbdeep.internals.nets as nets

    import l2l_helpers.training.prepare as prepare

    if variant == "batch_norm":

        def common_unet(
            n_dim=2,
            n_depth=1,
            kern_size=3,
            n_first=16,
            n_channel_out=1,
            residual=True,
            prob_out=False,
            last_activation="linear",
        ):
            return lambda shape: nets.custom_unet(
                shape,
                last_activation,
                n_depth,
                n_first,
                (kern_size,) * n_dim,
                pool_size=(2,) * n_dim,
                n_channel_out=n_channel_out,
                residual=residual,
                prob_out=prob_out,
                batch_norm=True,
            )

        nets.common_unet = common_unet
    if variant == "no_zoom":
        prepare.make_training_data = functools.partial(prepare.make_training_data, augment=False)
    return (256 if variant == "4x_patches" else 64), dict(QUALITY_VARIANTS[variant][1])


def child_quality(tool, budget_s, data_path, out_path, seed=0, variant="workshop"):
    """Train one tool for a wall-clock budget; save its restorations of the test cells."""
    import numpy as np

    d = np.load(data_path)
    t_start = time.perf_counter()
    if tool == "careamics":
        import torch
        from careamics import CAREamist
        from careamics.config import create_advanced_care_config

        torch.manual_seed(seed)
        config = create_advanced_care_config(
            experiment_name="bench",
            data_type="array",
            axes="SYX",
            patch_size=[64, 64],
            batch_size=16,
            num_epochs=100000,
            seed=seed + 1,
            logger="none",  # CAREamics wants a seed > 0
            trainer_params={"max_time": {"seconds": int(budget_s)}, "enable_progress_bar": False},
        )
        with tempfile.TemporaryDirectory() as work:
            careamist = CAREamist(config, work_dir=work, enable_progress_bar=False)
            t_start = time.perf_counter()
            careamist.train(
                train_data=d["train_x"].astype(np.float32),
                train_data_target=d["train_y"].astype(np.float32),
                val_data=d["val_x"].astype(np.float32),
                val_data_target=d["val_y"].astype(np.float32),
            )
            seconds = time.perf_counter() - t_start
            steps = int(getattr(getattr(careamist, "trainer", None), "global_step", 0)) or None
            preds, _ = careamist.predict(d["test_x"].astype(np.float32), axes="SYX")
        restored = np.concatenate([np.reshape(p, (-1, *p.shape[-2:])) for p in preds])  # one (S, Y, X) stack
        version = __import__("careamics").__version__
    else:
        import keras

        n_patches, variant_overrides = _apply_variant(variant)
        input_normalization = variant_overrides.pop("input_normalization", "percentile")
        from l2l_helpers.restoring.restorers import CARERestorer
        from l2l_helpers.training.prepare import make_training_data
        from l2l_helpers.training.train import train_model

        class Budget(keras.callbacks.Callback):
            steps = 0

            def on_train_batch_end(self, batch, logs=None):
                Budget.steps += 1
                if time.perf_counter() - t_start > budget_s:
                    self.model.stop_training = True

        x = np.concatenate([d["train_x"], d["val_x"]])
        y = np.concatenate([d["train_y"], d["val_y"]])
        names = [str(n) for n in d["names"]]
        n_val = len(d["val_x"])
        patches = make_training_data(
            x,
            y,
            patch_size=64,
            n_patches_per_image=n_patches,
            names=names,
            validation_images=names[-n_val:],
            seed=seed,
            input_normalization=input_normalization,
        )
        overrides = {"epochs": 100000, **variant_overrides}
        if tool == "csbdeep_default":  # csbdeep.models.Config's defaults
            overrides.update(
                unet_n_depth=2,
                unet_n_first=32,
                unet_kern_size=5,
                unet_residual=True,
                batch_size=16,
                learning_rate=0.0004,
                steps_per_epoch=400,
                flip_rotate=False,
            )
        with tempfile.TemporaryDirectory() as work:
            t_start = time.perf_counter()
            result = train_model(
                *patches,
                Path(work) / "model",
                profile="workshop",
                seed=seed,
                verbose=0,
                callbacks=[Budget()],
                split=patches,
                **overrides,
            )
            seconds = time.perf_counter() - t_start
            restored = np.stack([CARERestorer(result.model).restore(img) for img in d["test_x"]])
        steps = Budget.steps
        version = None
    np.save(out_path, restored.astype(np.float32))
    return {
        "tool": tool,
        "variant": variant,
        "budget_s": budget_s,
        "train_seconds": round(seconds, 1),
        "steps": steps,
        "version": version,
        "peak_memory_mb": _peak_mb(),
    }


#: Input normalisations compared on real structure (section ``quality_real``).
REAL_NORMALIZATIONS = ("percentile", "mean_std")


def child_quality_real(normalization, seed):
    """Notebook 09's real-structure L2L (L1) network with one input normalisation: its scores against the real image."""
    from l2l_helpers.data import semisynthetic
    from l2l_helpers.data.datasets import DatasetError
    from l2l_helpers.scoring.separation import fetch_bpae

    try:
        image = fetch_bpae(("actin",), timeout=10)["actin"]
    except DatasetError as exc:
        return {"normalization": normalization, "seed": int(seed), "status": "no data", "error": str(exc)[-300:]}
    res = semisynthetic.validate_on_image(
        image,
        profile="workshop",
        seed=int(seed),
        methods=["input", "l2l_l1", "target"],
        training={"input_normalization": normalization},
    )
    scores = {
        r["method"]: {k: round(float(r[k]), 4) for k in ("ssim_gt", "psnr_gt", "background", "contrast")}
        for r in res["rows"]
    }
    seconds = next(r["seconds"] for r in res["rows"] if r["method"] == "l2l_l1")
    return {
        "normalization": normalization,
        "seed": int(seed),
        "status": "ok",
        "train_seconds": round(float(seconds), 1),
        **scores["l2l_l1"],
        "input": scores["input"],
        "target": scores["target"],
    }


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


def _mean_scores(restored, truths):
    import numpy as np

    from l2l_helpers.scoring.metrics import evaluate_pair

    scores = [evaluate_pair(p, gt) for p, gt in zip(restored, truths)]
    return {
        "ssim_gt": round(float(np.mean([s["ssim"] for s in scores])), 4),
        "psnr_gt": round(float(np.mean([s["psnr"] for s in scores])), 2),
    }


def section_quality_variants(budget_min=1):
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        data_path = quality_data(tmp)
        truths = np.load(data_path)["test_gt"]
        for variant, (what, _) in QUALITY_VARIANTS.items():
            out = Path(tmp) / f"{variant}.npy"
            r = _child(
                "quality",
                ["workshop", str(budget_min * 60), str(data_path), str(out), variant],
                timeout=budget_min * 60 + 900,
            )
            r.update(status="ok", budget_min=budget_min, what=what, **_mean_scores(np.load(out), truths))
            rows.append(r)
            print(f"variant {variant}: SSIM {r['ssim_gt']:.3f}, PSNR {r['psnr_gt']:.2f} dB", flush=True)
    return {
        "description": f"each trained {budget_min} min on the quality section's data (one run each: the same "
        "profile varies by about 0.02 SSIM between training seeds, see the run-to-run spread, so "
        "smaller differences are within noise)",
        "runs": rows,
        "targets": [],
    }


def _tool_python(tool):
    """The interpreter a quality tool runs in (None: this one), and a "not installed" row if it is missing."""
    python = PEERS_PYTHON if tool == "careamics" else None
    if python is not None and not Path(python).exists():
        return python, {
            "tool": tool,
            "status": "not installed",
            "note": "install it with python3 tasks.py bench --peers (into .venv-peers)",
        }
    return python, None


def _quality_runs(tools, settings, data_path, folder, variant="workshop"):
    """Train every tool at every (budget in minutes, training seed); rows with their scores against the truth.

    ``variant``: one of :data:`QUALITY_VARIANTS`, for the workshop tool."""
    import numpy as np

    truths = np.load(data_path)["test_gt"]
    rows = []
    for tool in tools:
        python, missing = _tool_python(tool)
        if missing:
            rows.append(missing)
            continue
        for budget, seed in settings:
            out = Path(folder) / f"{tool}_{variant}_{budget}_{seed}.npy"
            try:
                r = _child(
                    "quality",
                    [tool, str(budget * 60), str(data_path), str(out), variant, str(seed)],
                    python=python,
                    timeout=budget * 60 + 900,
                )
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                rows.append(
                    {"tool": tool, "budget_min": budget, "seed": seed, "status": "failed", "error": str(exc)[-400:]}
                )
                continue
            r.update(status="ok", budget_min=budget, seed=seed, **_mean_scores(np.load(out), truths))
            if r["train_seconds"] < 0.9 * budget * 60:
                r["note"] = "stopped by its own early stopping before the budget"
            rows.append(r)
            print(
                f"quality {_run_label(r)} {budget} min, seed {seed}: SSIM {r['ssim_gt']:.3f}, "
                f"PSNR {r['psnr_gt']:.2f} dB "
                f"({r['train_seconds']:.0f} s)",
                flush=True,
            )
    return rows


def _run_label(row):
    """A quality row's tool, with its variant when it is not the plain workshop profile."""
    variant = row.get("variant", "workshop")
    return row["tool"] if variant == "workshop" else f"{row['tool']} + {variant}"


def _seed_means(rows, label, keys):
    """Per label (``label(row)``, in order of appearance) of the rows that ran: the mean of ``keys``, the SSIM range."""
    import numpy as np

    means = {}
    for name in dict.fromkeys(label(r) for r in rows):
        ok = [r for r in rows if label(r) == name and r.get("status") == "ok"]
        if ok:
            means[name] = {k: round(float(np.mean([r[k] for r in ok])), 4) for k in keys}
            means[name].update(ssim_min=min(r["ssim_gt"] for r in ok), ssim_max=max(r["ssim_gt"] for r in ok))
    return means


def section_quality_seeds(seeds=(0, 1, 2), budget_min=1, tools=("workshop", "careamics"), variants=("mean_std_input",)):
    """The closest comparison (workshop against CAREamics at 1 minute), repeated with several training seeds.

    ``variants`` (of :data:`QUALITY_VARIANTS`) are run with the same seeds, as alternatives to the workshop profile
    (``quality_real`` checks the input normalisation on real structure).
    """
    settings = [(budget_min, seed) for seed in seeds]
    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        data_path = quality_data(tmp)
        rows = _quality_runs(tools, settings, data_path, tmp)
        for variant in variants:
            rows += _quality_runs(["workshop"], settings, data_path, tmp, variant=variant)
    means = _seed_means(rows, _run_label, ("ssim_gt", "psnr_gt"))
    targets = []
    if "workshop" in means and "careamics" in means:
        targets.append(
            _target(
                f"workshop at least level with CAREamics at {budget_min} min, mean of {len(seeds)} "
                "training seeds (SSIM difference)",
                round(means["workshop"]["ssim_gt"] - means["careamics"]["ssim_gt"], 4),
                0.0,
                better="higher",
            )
        )
    return {
        "description": f"the quality section's data; each tool trained {budget_min} min with training seeds "
        f"{', '.join(map(str, seeds))} (same data; the seed sets initial weights and batches): "
        "how far one run's SSIM is from another's; "
        + ", ".join(f"workshop + {v}: {QUALITY_VARIANTS[v][0]}" for v in variants),
        "runs": rows,
        "means": means,
        "targets": targets,
    }


def section_quality_real(normalizations=REAL_NORMALIZATIONS, seeds=(0, 1, 2)):
    """Input normalisations on real structure: notebook 09's semi-synthetic BPAE actin, L2L L1, several seeds."""
    rows = []
    for normalization in normalizations:
        for seed in seeds:
            try:
                r = _child("quality_real", [normalization, str(seed)], timeout=1800)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                r = {"normalization": normalization, "seed": seed, "status": "failed", "error": str(exc)[-400:]}
            rows.append(r)
            if r["status"] == "ok":
                print(
                    f"quality_real {normalization}, seed {seed}: SSIM {r['ssim_gt']:.3f}, PSNR {r['psnr_gt']:.2f} dB, "
                    f"background {r['background']:.3f}",
                    flush=True,
                )
            else:
                print(f"quality_real {normalization}, seed {seed}: {r['status']}", flush=True)
    means = _seed_means(rows, lambda r: r["normalization"], ("ssim_gt", "psnr_gt", "background", "contrast"))
    return {
        "description": "notebook 09's real-structure check: the BPAE F-actin image taken as the ground truth, "
        "degraded into an input label (synthetic label background, fewer photons) and a target "
        "label (l2l_helpers.data.semisynthetic, the seed sets the noise, the patches and the training); "
        "an L2L network with the L1 loss and the workshop profile's settings, trained on 24 tiles "
        "of 128 px and scored on the held-out strip; inputs scaled to their 2nd-99.8th "
        "percentiles or standardised per image (input_normalization); background: the cytosolic "
        "background left relative to the structure",
        "runs": rows,
        "means": means,
        "targets": [],
    }


def section_quality(budgets=BUDGETS_MIN, tools=QUALITY_TOOLS, seed=0):
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        data_path = quality_data(tmp)
        rows = _quality_runs(tools, [(budget, seed) for budget in budgets], data_path, tmp)
        d = np.load(data_path)
        inp = _mean_scores(d["test_x"], d["test_gt"])

    def score(tool, budget, key="ssim_gt"):
        return next(
            (
                r[key]
                for r in rows
                if r.get("tool") == tool and r.get("budget_min") == budget and r.get("status") == "ok"
            ),
            None,
        )

    targets = []
    w1, c4 = score("workshop", budgets[0]), score("csbdeep_default", budgets[-1])
    if w1 is not None and c4 is not None:
        targets.append(
            _target(
                f"workshop in {budgets[0]} min reaches CSBDeep default's {budgets[-1]}-min SSIM (difference)",
                round(w1 - c4, 4),
                0.0,
                better="higher",
            )
        )
    for b in budgets:
        w, c = score("workshop", b), score("careamics", b)
        if w is not None and c is not None:
            targets.append(
                _target(
                    f"workshop at least level with CAREamics at {b} min (SSIM difference)",
                    round(w - c, 4),
                    0.0,
                    better="higher",
                )
            )
    return {
        "description": "L2L on simulated actin (8 training, 2 validation, 4 held-out cells of 256 px), "
        "trained for a wall-clock budget on this CPU; mean SSIM and PSNR of the held-out "
        "restorations against the ground truth",
        "input_scores": inp,
        "runs": rows,
        "targets": targets,
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


# ----------------------------------------------------------------------------- report


def _fmt(value, unit=""):
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value}{unit}"


def _row(cells):
    """A Markdown table row; an empty cell is written ``| |``."""
    return "|" + "|".join(f" {c} " if c != "" else " " for c in cells) + "|"


def _score(key, fmt=".3f"):
    """A column of :func:`_seed_table`: a run's ``key``; in a mean row, with the SSIM range for ``ssim_gt``."""

    def cell(r):
        if key == "ssim_gt" and "ssim_min" in r:
            return f"{r[key]:{fmt}} ({r['ssim_min']:{fmt}}-{r['ssim_max']:{fmt}})"
        return f"{r[key]:{fmt}}" if key in r else ""

    return cell


def _seed_table(title, q, label_head, label, columns):
    """Runs with several training seeds (label, seed, seconds trained, ``columns``), then one mean row per label.

    ``columns``: (header, function of a run or of a mean row, "" where that has no value)."""
    out = [
        "",
        f"**{title}** (measured {q['measured']}): {q['description']}.",
        "",
        _row([label_head, "seed", "trained (s)", *(h for h, _ in columns)]),
        _row(["---"] + ["---:"] * (2 + len(columns))),
    ]
    for r in q["runs"]:
        if r.get("status") != "ok":
            out.append(_row([label(r), r.get("seed", ""), r["status"], *([""] * len(columns))]))
        else:
            out.append(_row([label(r), r["seed"], f"{r['train_seconds']:.0f}", *(f(r) for _, f in columns)]))
    out += [_row([f"{name}: mean (SSIM range)", "", "", *(f(m) for _, f in columns)]) for name, m in q["means"].items()]
    return out


def format_markdown(results):
    """The tables of ``results`` (as in results.json) as Markdown."""
    out = []
    m = results.get("machine", {})
    out += [
        f"Measured on {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gb')} GB, no GPU; "
        f"TensorFlow {m.get('versions', {}).get('tensorflow')}, Keras {m.get('versions', {}).get('keras')}, "
        f"CSBDeep {m.get('versions', {}).get('csbdeep')}. Regenerate with `python3 tasks.py bench`.",
        "",
    ]
    out += ["| section | target | measured | limit | met |", "| --- | --- | ---: | ---: | :---: |"]
    for name, sec in results.get("sections", {}).items():
        for t in sec.get("targets", []):
            sign = "≤" if t["better"] == "lower" else "≥"
            met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
            out.append(f"| {name} | {t['target']} | {_fmt(t['value'])} | {sign} {_fmt(t['limit'])} | {met} |")
    s = results.get("sections", {})
    for key in ("notebooks_quick", "notebooks_workshop"):
        if key in s:
            out += [
                "",
                f"**Notebooks, {s[key]['profile']} profile** (measured {s[key]['measured']}): "
                "seconds and peak memory of the kernel and its processes (Dask workers): their summed PSS, "
                "which counts pages they share (TensorFlow's libraries, about 360 MB) once, as Binder's "
                "memory limit does; their summed RSS counts them once per process (an upper bound).",
                "",
                "| notebook | status | seconds | peak memory, PSS (MB) | summed RSS (MB) |",
                "| --- | --- | ---: | ---: | ---: |",
            ]
            out += [
                f"| {e['notebook']} | {e['status']} | {_fmt(e['seconds'])} | {_fmt(e.get('peak_memory_mb'))} | "
                f"{_fmt(e.get('peak_rss_sum_mb'))} |"
                for e in s[key]["notebooks"]
            ]
            measured = {e["notebook"] for e in s[key]["notebooks"]}
            missing = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if p.name not in measured)
            if missing:
                out += ["", f"Not in this run: {', '.join(missing)}."]
    if "quality" in s:
        q = s["quality"]
        out += [
            "",
            f"**Quality per CPU minute** (measured {q['measured']}): {q['description']}. The input scores "
            f"SSIM {q['input_scores']['ssim_gt']:.3f}, PSNR {q['input_scores']['psnr_gt']:.2f} dB.",
            "",
            "| tool | budget (min) | trained (s) | steps | SSIM | PSNR (dB) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in q["runs"]:
            if r.get("status") != "ok":
                out.append(f"| {r['tool']} | {r.get('budget_min', '–')} | {r['status']} | | | |")
            else:
                note = " (stopped early)" if r["train_seconds"] < 0.9 * r["budget_min"] * 60 else ""
                out.append(
                    f"| {r['tool']} | {r['budget_min']} | {r['train_seconds']:.0f}{note} | {_fmt(r['steps'])} | "
                    f"{r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
                )
    if "quality_seeds" in s:
        out += _seed_table(
            "Run-to-run spread at 1 minute",
            s["quality_seeds"],
            "tool",
            _run_label,
            [
                ("steps", lambda r: _fmt(r["steps"]) if "steps" in r else ""),
                ("SSIM", _score("ssim_gt")),
                ("PSNR (dB)", _score("psnr_gt", ".2f")),
            ],
        )
    if "quality_real" in s:
        q = s["quality_real"]
        out += _seed_table(
            "Input normalisation on real structure",
            q,
            "inputs",
            lambda r: r["normalization"],
            [
                ("SSIM", _score("ssim_gt")),
                ("PSNR (dB)", _score("psnr_gt", ".2f")),
                ("background", _score("background")),
            ],
        )
        first = next((r for r in q["runs"] if r.get("status") == "ok"), None)
        if first:
            out += [
                "",
                f"For comparison, seed {first['seed']}: the input scores SSIM {first['input']['ssim_gt']:.3f}, "
                f"PSNR {first['input']['psnr_gt']:.2f} dB, background {first['input']['background']:.3f}; "
                f"the target label SSIM {first['target']['ssim_gt']:.3f}, PSNR "
                f"{first['target']['psnr_gt']:.2f} dB, background {first['target']['background']:.3f}.",
            ]
    if "quality_variants" in s:
        q = s["quality_variants"]
        out += [
            "",
            f"**Changes tried to the workshop profile** (measured {q['measured']}): {q['description']}.",
            "",
            "| variant | what | steps | SSIM | PSNR (dB) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r['variant']} | {r['what']} | {_fmt(r['steps'])} | {r['ssim_gt']:.3f} | {r['psnr_gt']:.2f} |"
            for r in q["runs"]
        ]
    if "train" in s:
        out += [
            "",
            f"**Training step per profile** (measured {s['train']['measured']}).",
            "",
            "| profile | parameters | s/step | one training (min, estimate) | peak memory (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        out += [
            f"| {r['profile']} | {r['n_parameters']} | {r['seconds_per_step']:.3f} | "
            f"{r['estimated_training_minutes']:.1f} | {r['peak_memory_mb']:.0f} |"
            for r in s["train"]["profiles"]
        ]
    if "speedups" in s:
        sp = s["speedups"]
        out += [
            "",
            f"**What was tried to speed up a step** (measured {sp['measured']}): {sp['description']}.",
            "",
            "| variant | median s/step | wall s/step | speed-up (median) | peak memory (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for r in sp["variants"]:
            if "error" in r:
                out.append(f"| {r['variant']} | failed | | | |")
            else:
                out.append(
                    f"| {r['variant']} | {r['seconds_per_step_median']:.3f} | {r['seconds_per_step_wall']:.3f} | "
                    f"{r['speedup_vs_baseline']:.2f}x | {r['peak_memory_mb']:.0f} |"
                )
    if "losses" in s:
        out += [
            "",
            f"**Loss cost** (measured {s['losses']['measured']}).",
            "",
            "| loss | s/step | / l1 |",
            "| --- | ---: | ---: |",
        ]
        out += [
            f"| {r['loss']} | {r['seconds_per_step']:.3f} | {r['relative_to_l1']:.2f} |" for r in s["losses"]["losses"]
        ]
    if "drift" in s:
        out += [
            "",
            f"**Drift** (measured {s['drift']['measured']}).",
            "",
            "| method | ms/pair | RMS error (px) | max error (px) |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {k} | {1000 * v['seconds_per_pair']:.1f} | {v['rms_error_px']:.3f} | {v['max_error_px']:.3f} |"
            for k, v in s["drift"]["methods"].items()
        ]
        paper = s["drift"].get("ssim_per_patch")
        if paper:
            out += [
                f"| ssim, computed per patch as the paper describes (skimage, {paper['pairs']} actin pairs) | "
                f"{1000 * paper['seconds_per_pair']:.0f} | same shift as ssim: "
                f"{'yes' if paper['same_shift_as_ssim'] else '**no**'} | |",
                "",
                "`ssim` computes the paper's search exactly (tests/test_drift.py) from one SSIM map per shift "
                f"instead of 12,100 patch SSIMs: {s['drift']['ssim_speedup_over_per_patch']}x faster than the "
                "per-patch computation. `phase` is "
                f"{s['drift']['phase_speedup_over_ssim_per_patch']}x faster than the per-patch computation and "
                f"{s['drift']['phase_speedup_over_ssim']}x faster than `ssim` as computed here.",
            ]
    if "predict" in s:
        p = s["predict"]
        out += [
            "",
            f"**Prediction** (measured {p['measured']}): {p['size']} x {p['size']} px in "
            f"{p['n_tiles'][0]} x {p['n_tiles'][1]} tiles, {p['seconds']:.1f} s = {p['mpix_per_s']:.2f} MPix/s, "
            f"peak memory {p['peak_memory_mb']:.0f} MB.",
        ]
    if "simulate" in s:
        sizes = s["simulate"]["sizes"]
        out += [
            "",
            f"**Simulator** (measured {s['simulate']['measured']}): image pairs per second, "
            + ", ".join(f"{k} px: {v['pairs_per_second_mean_over_structures']:.2f}" for k, v in sizes.items())
            + " (mean over structures).",
        ]
    if "sweep" in s:
        w = s["sweep"]
        out += [
            "",
            f"**Sweep scaling** (measured {w['measured']}): "
            + ", ".join(f"{r['workers']} worker(s) {r['trainings_per_hour']:.0f} trainings/hour" for r in w["runs"])
            + f" (x{w['speedup_2_workers']:.2f}).",
        ]
    return "\n".join(out) + "\n"


def update_readme(markdown, readme=README):
    """Put ``markdown`` between the benchmark markers of README (if it has them)."""
    text = readme.read_text()
    if MARK_START not in text or MARK_END not in text:
        return False
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    readme.write_text(f"{head}{MARK_START}\n{markdown}{MARK_END}{tail}")
    return True


def run(sections, notebook_profile="quick", from_summary=None, budgets=BUDGETS_MIN):
    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.is_file() else {"sections": {}}
    results["machine"] = machine_info()
    functions = {
        "train": section_train,
        "speedups": section_speedups,
        "losses": section_losses,
        "quality": lambda: section_quality(budgets),
        "quality_variants": section_quality_variants,
        "quality_seeds": section_quality_seeds,
        "quality_real": section_quality_real,
        "drift": section_drift,
        "predict": section_predict,
        "simulate": section_simulate,
        "sweep": section_sweep,
        "notebooks": lambda: section_notebooks(notebook_profile, from_summary),
    }
    for name in sections:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        sec = functions[name]()
        key = f"notebooks_{sec['profile']}" if name == "notebooks" else name
        sec["measured"] = time.strftime("%Y-%m-%d")
        sec["seconds"] = round(time.perf_counter() - t0, 1)
        sec["load_average_1min"] = round(os.getloadavg()[0], 2)
        results["sections"][key] = sec
        for t in sec.get("targets", []):
            print(f"   {t['target']}: {t['value']} (limit {t['limit']}) met={t['met']}", flush=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")  # after every section
    markdown = format_markdown(results)
    RESULTS_MD.write_text(markdown)
    update_readme(markdown)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=list(DEFAULT_SECTIONS),
        help=f"default: {' '.join(DEFAULT_SECTIONS)}",
    )
    parser.add_argument("--notebook-profile", default="quick", choices=("quick", "workshop", "paper"))
    parser.add_argument(
        "--from-summary",
        nargs="+",
        metavar="SUMMARY_JSON",
        help="take the notebooks section from course runs' summary.json files (merged)",
    )
    parser.add_argument(
        "--budgets",
        nargs="+",
        type=float,
        default=list(BUDGETS_MIN),
        help="quality section: wall-clock budgets in minutes",
    )
    parser.add_argument("--report-only", action="store_true", help="rewrite results.md and README from results.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))  # the single benchmarks (bench_*.py) this suite reuses
    if args.child:
        name, *rest = args.child
        fn = {
            "train": child_train,
            "loss": child_loss_step,
            "predict": child_predict,
            "predict_model": child_predict_model,
            "simulate": child_simulate,
            "drift": child_drift,
            "sweep": lambda w, f: child_sweep(int(w), f),
            "notebooks": child_notebooks,
            "quality_real": child_quality_real,
            "quality": lambda tool, b, d, o, v="workshop", seed="0": child_quality(
                tool, float(b), d, o, seed=int(seed), variant=v
            ),
        }[name]
        result = fn(*rest)
        print(json.dumps(result))
        return 0
    if args.report_only:
        markdown = format_markdown(json.loads(RESULTS_JSON.read_text()))
        RESULTS_MD.write_text(markdown)
        update_readme(markdown)
        return 0
    budgets = tuple(int(b) if float(b).is_integer() else b for b in args.budgets)
    run(args.sections, args.notebook_profile, args.from_summary, budgets)
    print(f"wrote {RESULTS_JSON} and {RESULTS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
