"""One task of a validation: simulate a structure's cells, restore the held-out ones, score every restoration.

Part of :mod:`l2l_helpers.experiments.validate` (which re-exports :func:`run_validation_task`): the function
each Dask worker runs, with its steps.

Examples
--------
>>> from l2l_helpers.experiments.validate import plan_validation
>>> rows = run_validation_task(plan_validation(["actin"], ["input", "target"], profile="quick")[0])
>>> [(r["method"], r["kind"], r["status"]) for r in rows]
[('input', 'data', 'ok'), ('target', 'data', 'ok')]
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np

from l2l_helpers.experiments.methods import TRAINED_METHODS, UNTRAINED_METHODS, kind_and_loss
from l2l_helpers.experiments.sweep import prepare_worker
from l2l_helpers.experiments.validation_table import FWHM_STRUCTURE, SCORES

__all__ = ["run_validation_task"]

_FWHM_LINES = 6  # lines per held-out cell, as in lesson 08


def _mean_fwhm(images, lines):
    """Mean FWHM over the lines of every image (fits that failed left out; NaN without any)."""
    from l2l_helpers.scoring.downstream import measure_widths

    widths = np.concatenate(
        [measure_widths({"x": im}, ls)["x"]["fwhm"] for im, ls in zip(images, lines) if ls] or [np.array([])]
    )
    finite = widths[np.isfinite(widths)]
    return float(finite.mean()) if finite.size else math.nan


def _held_out(task):
    """Indices of the held-out cells."""
    return list(range(task["n_train"], task["n_train"] + task["n_test"]))


def _scores(task, restored, cells, test_names):
    """Scores of every restoration against the ground truth and (all but the target) against the target."""
    from l2l_helpers.scoring.metrics import score_restorations

    test = _held_out(task)
    truths = [cells["ground_truth"][i] for i in test]
    vs_truth = score_restorations(
        restored,
        truths,
        cell_masks=[cells["cell_mask"][i] for i in test],
        inputs=[cells["input"][i] for i in test],
        names=test_names,
    )
    scored = {m: v for m, v in restored.items() if m != "target"}  # the target is not scored against itself
    targets = [cells["benchmark"][i] for i in test]
    vs_target = score_restorations(scored, targets, names=test_names) if scored else {}
    return truths, vs_truth, vs_target


def _fwhm_columns(images, lines, fwhm_gt):
    """The width columns of a row (empty for structures whose widths are not measured)."""
    if lines is None:
        return {"fwhm_px": "", "fwhm_gt_px": "", "fwhm_lines": ""}
    fwhm = _mean_fwhm(images, lines)
    return {
        "fwhm_px": fwhm if math.isfinite(fwhm) else "",
        "fwhm_gt_px": fwhm_gt if math.isfinite(fwhm_gt) else "",
        "fwhm_lines": sum(map(len, lines)),
    }


def _score_columns(method, vs_truth, vs_target):
    row = {}
    for m in SCORES:
        row[f"{m}_gt"] = vs_truth[method]["mean"][m]
        row[f"{m}_target"] = vs_target[method]["mean"][m] if method in vs_target else ""
    row["background"] = vs_truth[method]["mean"]["background"]
    row["hallucination"] = vs_truth[method]["mean"]["hallucination"]
    return row


def _rows_for(task, restored, cells, names, seconds, train_images=()):
    """CSV rows of restorations of the held-out cells (``restored``: method -> images)."""
    import socket

    from l2l_helpers.pairs.contrast import SAMPLE_FRACTION, michelson_contrast

    structure = task["structure"]
    test_names = [names[i] for i in _held_out(task)]
    truths, vs_truth, vs_target = _scores(task, restored, cells, test_names)
    lines = fwhm_gt = None
    if structure == FWHM_STRUCTURE:
        from l2l_helpers.scoring.downstream import find_profile_lines

        lines = [find_profile_lines(t, n=_FWHM_LINES) for t in truths]
        fwhm_gt = _mean_fwhm(truths, lines)
    rows = []
    for method, images in restored.items():
        kind, loss = kind_and_loss(method)
        row = {"structure": structure, "method": method, "kind": kind, "loss": loss}
        row.update(_score_columns(method, vs_truth, vs_target))
        row["contrast"] = float(np.mean([michelson_contrast(im, fraction=SAMPLE_FRACTION[structure]) for im in images]))
        row.update(_fwhm_columns(images, lines, fwhm_gt))
        row.update(
            profile=task["profile"],
            size=task["data"]["size"],
            n_train=task["n_train"],
            n_test=task["n_test"],
            seed=task["seed"],
            train_images=" ".join(train_images) if kind not in ("data", "classical") else "",
            test_images=" ".join(test_names),
            seconds=round(float(seconds), 1),
            worker=f"{socket.gethostname()}:{os.getpid()}",
            status="ok",
            error="",
        )
        rows.append({k: float(v) if isinstance(v, (float, np.floating)) else v for k, v in row.items()})
    return rows


def _simulate(task):
    from l2l_helpers.data.simulate import simulate_dataset

    d = task["data"]
    return simulate_dataset(d["structure"], n=d["n"], size=d["size"], seed=d["seed"])


def _untrained(task, cells):
    from l2l_helpers.restoring.restorers import CLASSICAL_FILTERS, classical_restorer

    test = range(task["n_train"], task["n_train"] + task["n_test"])
    out = {}
    for method in task["methods"]:
        if method == "input":
            out[method] = [cells["input"][i] for i in test]
        elif method == "input_average":
            out[method] = [cells["input_average"][i] for i in test]
        elif method == "target":
            out[method] = [cells["benchmark"][i] for i in test]
        elif method in CLASSICAL_FILTERS:
            out[method] = classical_restorer(method, task["structure"]).restore_many(
                [cells["input"][i] for i in test], progress=False
            )
        else:
            raise ValueError(f"{method!r} is not an untrained method")
    return out


def _care(task, cells, tmp):
    """N2N or L2L: an Experiment, run by run_experiment; the saved network restores the held-out cells."""
    import warnings

    from l2l_helpers.experiments.experiment import Experiment, run_experiment
    from l2l_helpers.restoring.restorers import load_restorer

    method = task["methods"][0]
    kind, loss = kind_and_loss(method)
    n_train, n_test = task["n_train"], task["n_test"]
    exp = Experiment(
        data={"simulate": dict(task["data"])},
        method=kind,
        loss=loss,
        profile=task["profile"],
        overrides=task["training"],
        seed=task["seed"],
        train_images=tuple(range(n_train)),
        test_images=tuple(range(n_train, n_train + n_test)),
        model_dir=str(Path(tmp) / "model"),
    )
    with warnings.catch_warnings():  # small patches: the SSIM losses' reduced filter, noted in lesson 04
        warnings.filterwarnings("ignore", message=r".*px patches are too small", category=UserWarning)
        run_experiment(exp)
    restorer = load_restorer(Path(tmp) / "model")
    return {method: restorer.restore_many([cells["input"][i] for i in exp.test_images], progress=False)}


def _cyclegan(task, cells, tmp):
    """The CycleGAN on unpaired halves: inputs of the first half of the training cells, targets of the second."""
    from l2l_helpers.training.cyclegan import train_cyclegan

    half = task["n_train"] // 2
    result = train_cyclegan(
        cells["input"][:half],
        cells["benchmark"][half : task["n_train"]],
        Path(tmp) / "model",
        profile=task["profile"],
        seed=task["seed"],
        progress=False,
        **task["cyclegan"],
    )
    test = range(task["n_train"], task["n_train"] + task["n_test"])
    return {"cyclegan": result.restorer.restore_many([cells["input"][i] for i in test], progress=False)}


def run_validation_task(task):
    """Run one validation task and return its CSV rows (plain data).

    The function each Dask worker runs: simulate the structure's cells,
    restore the held-out ones with the task's methods (training a network
    for a trained method, in a temporary folder), and score them
    (:func:`l2l_helpers.scoring.metrics.score_restorations`, contrast, tubulin
    widths). Errors propagate, so Dask can retry the task.

    Parameters
    ----------
    task : dict
        One entry of :func:`plan_validation`.

    Returns
    -------
    list of dict
        One row per method of the task, with the keys of :data:`COLUMNS`.

    Examples
    --------
    >>> from l2l_helpers.experiments.validate import plan_validation
    >>> task = plan_validation(["pxn"], ["input", "gaussian"], profile="quick")[0]
    >>> rows = run_validation_task(task)  # doctest: +SKIP
    >>> [r["method"] for r in rows], rows[1]["background"] < rows[0]["background"]  # doctest: +SKIP
    (['input', 'gaussian'], True)
    """
    import tempfile

    t0 = time.perf_counter()
    prepare_worker()
    cells = _simulate(task)
    names = cells["names"]
    methods = list(task["methods"])
    train_names = []
    if len(methods) == 1 and methods[0] in TRAINED_METHODS:
        train_names = names[: task["n_train"]]
        with tempfile.TemporaryDirectory(prefix="l2l-validate-") as tmp:
            restored = (_cyclegan if methods[0] == "cyclegan" else _care)(task, cells, tmp)
    elif all(m in UNTRAINED_METHODS for m in methods):
        restored = _untrained(task, cells)
    else:
        raise ValueError(f"a task runs one trained method or untrained methods only, got {methods}")
    return _rows_for(task, restored, cells, names, time.perf_counter() - t0, train_names)
