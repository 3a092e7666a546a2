"""``l2l experiment``: run one experiment described in a JSON file.

Examples::

    l2l experiment my_experiment.json --out results/my_experiment_result.json

The JSON file holds what :class:`l2l_helpers.experiments.experiment.Experiment` takes, e.g.::

    {"data": {"simulate": {"structure": "actin", "n": 10}}, "method": "l2l", "loss": "l1",
     "profile": "quick", "seed": 0, "test_images": [8, 9]}
"""

from __future__ import annotations

import json
from pathlib import Path

from l2l_helpers.cli._options import add_no_progress, add_out

ORDER = 45


def register(subparsers):
    """Add the ``experiment`` command to the ``l2l`` parser."""
    parser = subparsers.add_parser(
        "experiment",
        help="train, restore and score one experiment described in a JSON file",
        description=(
            "Read an experiment description (JSON: data = simulated cells or input/target folders, "
            "method l2l or n2n, loss, profile, overrides, seed, train_images, test_images, model_dir), "
            "train the network, restore the held-out test images and score them against the target "
            "label and, where there is one, the ground truth. Prints the scores; --out writes the whole "
            "result (scores, image names of the split, seconds) as JSON. The same description runs "
            "unchanged in a notebook (l2l_helpers.experiments.experiment.run_experiment) or on a Dask worker."
        ),
    )
    parser.add_argument("file", metavar="EXPERIMENT_JSON", help="the experiment description")
    add_out(parser, "write the result to this JSON file", metavar="FILE", required=False)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_no_progress(parser, help="no line per training epoch")
    parser.set_defaults(func=run)


def run(args):
    """Run the experiment and print its scores."""
    from l2l_helpers.experiments.experiment import Experiment, run_experiment
    from l2l_helpers.scoring.metrics import format_table

    path = Path(args.file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such experiment file")
    try:
        text = path.read_text(encoding="utf-8")
        experiment = Experiment.from_json(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise FileExistsError(f"{out}: exists (use --overwrite to replace it)")
    result = run_experiment(experiment, progress=not args.no_progress)
    print(format_table(result["scores"], header="vs target"))
    if result["scores_ground_truth"]:
        print()
        print(format_table(result["scores_ground_truth"], header="vs truth"))
    print(
        f"\n{len(result['train_images'])} training images ({len(result['validation_images'])} of them "
        f"for validation), {len(result['test_images'])} test images; {result['seconds']['total']:.0f} s"
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, allow_nan=True) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


__all__ = ["ORDER", "register", "run"]
