"""The quality sections of the benchmark suite: what a CPU minute of training gets, against CSBDeep and CAREamics.

``child_quality`` and ``child_quality_real`` run in a fresh process (``suite.py --child``); each ``section_*``
function runs them from the parent and returns the section's part of ``results.json``.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from suite_common import BUDGETS_MIN, PEERS_PYTHON, QUALITY_TOOLS, _child, _peak_mb, _run_label, _target

# ----------------------------------------------------------------------------- children


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

    if variant == "batch_norm":  # CSBDeep's common_unet builds its network with nets.custom_unet
        nets.custom_unet = functools.partial(nets.custom_unet, batch_norm=True)
    if variant == "no_zoom":
        prepare.make_training_data = functools.partial(prepare.make_training_data, augment=False)
    return (256 if variant == "4x_patches" else 64), dict(QUALITY_VARIANTS[variant][1])


def _train_careamics(d, budget_s, seed):
    """CAREamics' CARE trained on the arrays ``d`` for ``budget_s`` seconds: (restorations, seconds, steps)."""
    import numpy as np
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
    return restored, seconds, steps


def csbdeep_default_settings():
    """The settings of CSBDeep's default ``Config`` (network, batch, learning rate, steps per epoch), no flips.

    Examples
    --------
    >>> csbdeep_default_settings()["unet_n_first"]
    32
    """
    from csbdeep.models import Config

    config = Config("YX", n_channel_in=1, n_channel_out=1)
    return {
        **{k: getattr(config, k) for k in ("unet_n_depth", "unet_n_first", "unet_kern_size", "unet_residual")},
        "batch_size": config.train_batch_size,
        "learning_rate": config.train_learning_rate,
        "steps_per_epoch": config.train_steps_per_epoch,
        "flip_rotate": False,
    }


def _train_l2l(tool, d, budget_s, seed, variant):
    """The workshop profile (``variant`` of it) or CSBDeep's defaults trained for ``budget_s`` seconds.

    Returns (restorations of the test cells, seconds trained, steps)."""
    import keras
    import numpy as np

    n_patches, overrides = _apply_variant(variant)
    input_normalization = overrides.pop("input_normalization", "percentile")
    from l2l_helpers.restoring.restorers import CARERestorer
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.train import train_model

    t_start = time.perf_counter()

    class Budget(keras.callbacks.Callback):
        steps = 0

        def on_train_batch_end(self, batch, logs=None):
            Budget.steps += 1
            if time.perf_counter() - t_start > budget_s:
                self.model.stop_training = True

    names = [str(n) for n in d["names"]]
    patches = make_training_data(
        np.concatenate([d["train_x"], d["val_x"]]),
        np.concatenate([d["train_y"], d["val_y"]]),
        patch_size=64,
        n_patches_per_image=n_patches,
        names=names,
        validation_images=names[-len(d["val_x"]) :],
        seed=seed,
        input_normalization=input_normalization,
    )
    overrides = {"epochs": 100000, **overrides, **(csbdeep_default_settings() if tool == "csbdeep_default" else {})}
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
    return restored, seconds, Budget.steps


def child_quality(tool, budget_s, data_path, out_path, seed=0, variant="workshop"):
    """Train one tool for a wall-clock budget; save its restorations of the test cells."""
    import numpy as np

    d = np.load(data_path)
    if tool == "careamics":
        restored, seconds, steps = _train_careamics(d, budget_s, seed)
        version = __import__("careamics").__version__
    else:
        restored, seconds, steps = _train_l2l(tool, d, budget_s, seed, variant)
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


# ----------------------------------------------------------------------------- sections (parent)


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


def quality_targets(rows, budgets):
    """The quality section's targets: the workshop profile's SSIM against CSBDeep's defaults and CAREamics.

    Parameters
    ----------
    rows : list of dict
        runs of the quality section (``tool``, ``budget_min``, ``status``, ``ssim_gt``).
    budgets : sequence of float
        the budgets in minutes, shortest first.

    Returns
    -------
    list of dict
        one target per comparison both of whose runs finished (see ``_target``).

    Examples
    --------
    >>> ssims = {"workshop": 0.8, "careamics": 0.7}
    >>> rows = [{"tool": t, "budget_min": 1, "status": "ok", "ssim_gt": v} for t, v in ssims.items()]
    >>> [(t["target"], t["value"]) for t in quality_targets(rows, [1])]
    [('workshop at least level with CAREamics at 1 min (SSIM difference)', 0.1)]
    """

    def ssim(tool, budget):
        ok = (r for r in rows if r.get("tool") == tool and r.get("budget_min") == budget and r.get("status") == "ok")
        return next((r["ssim_gt"] for r in ok), None)

    comparisons = [
        (
            "csbdeep_default",
            budgets[0],
            budgets[-1],
            f"in {budgets[0]} min reaches CSBDeep default's {budgets[-1]}-min SSIM (difference)",
        )
    ]
    comparisons += [("careamics", b, b, f"at least level with CAREamics at {b} min (SSIM difference)") for b in budgets]
    targets = []
    for peer, budget, peer_budget, what in comparisons:
        w, c = ssim("workshop", budget), ssim(peer, peer_budget)
        if w is not None and c is not None:
            targets.append(_target(f"workshop {what}", round(w - c, 4), 0.0, better="higher"))
    return targets


def section_quality(budgets=BUDGETS_MIN, tools=QUALITY_TOOLS, seed=0):
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="l2l-bench-") as tmp:
        data_path = quality_data(tmp)
        rows = _quality_runs(tools, [(budget, seed) for budget in budgets], data_path, tmp)
        d = np.load(data_path)
        inp = _mean_scores(d["test_x"], d["test_gt"])

    targets = quality_targets(rows, budgets)
    return {
        "description": "L2L on simulated actin (8 training, 2 validation, 4 held-out cells of 256 px), "
        "trained for a wall-clock budget on this CPU; mean SSIM and PSNR of the held-out "
        "restorations against the ground truth",
        "input_scores": inp,
        "runs": rows,
        "targets": targets,
    }
