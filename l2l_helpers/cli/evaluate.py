"""``l2l evaluate``: score restored images against reference images.

Examples::

    l2l evaluate results/restored data/actin/test/target
    l2l evaluate results/restored data/actin/test/ground_truth --out results/eval_gt.json
    l2l evaluate results/restored data/actin/test/ground_truth --cell-masks data/actin/test/cell_mask \
        --input data/actin/test/input
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out

ORDER = 60


def register(subparsers):
    """Add the ``evaluate`` command to the ``l2l`` parser."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score restorations against references (PSNR, NRMSE, SSIM, 3S- and 5S-SSIM)",
        description=(
            "For every pair of 2-D TIFF images with the same file name in PRED_DIR and TARGET_DIR, "
            "normalise the target (0.1th/99.9th percentiles -> 0/1), map the prediction onto it by "
            "least-squares scale and offset (CSBDeep's norm_minmse), and compute the label2label "
            "paper's metrics: PSNR and NRMSE (scikit-image), SSIM (Gaussian window, sigma 1.5, "
            "11 px), and MS-SSIM with 3 and 5 scales (tf.image.ssim_multiscale; filter 11 px for "
            "3 scales, 7 px for 5 scales, smaller on images under 97 px). Data range 1. With a ground "
            "truth (TARGET_DIR or --ground-truth), --cell-masks adds the cytosolic background left "
            "(background: cytosol / structure) and --input the hallucination score (signal put where the "
            "ground truth has no structure, in excess of the input, relative to the structure). Prints one "
            "row per image and the mean; --out also writes the JSON file "
            '{"images": [{"name", "psnr", "nrmse", "ssim", "ms3", "ms5"}], "mean": {...}} '
            "(plus background / hallucination when asked; an infinite value as null). The folders are only "
            "read. The scores are those of l2l_helpers.scoring.metrics.score_restorations."
        ),
    )
    parser.add_argument("pred_dir", metavar="PRED_DIR", help="folder of restored (predicted) images")
    parser.add_argument(
        "target_dir",
        metavar="TARGET_DIR",
        help="folder of reference images with the same file names (target label or ground truth)",
    )
    parser.add_argument(
        "--ground-truth",
        metavar="DIR",
        default=None,
        help="ground truths (same file names) that say where the structure is, for "
        "--cell-masks and --input (default: TARGET_DIR)",
    )
    parser.add_argument(
        "--cell-masks", metavar="DIR", default=None, help="cell masks (same file names): adds the background score"
    )
    parser.add_argument(
        "--input", metavar="DIR", default=None, help="raw inputs (same file names): adds the hallucination score"
    )
    add_out(parser, "also write the results to this JSON file", metavar="FILE", required=False)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_no_progress(parser)
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args):
    """Evaluate the folders and print the table."""
    from l2l_helpers.scoring.metrics import evaluate_folders, format_table

    results = evaluate_folders(
        args.pred_dir,
        args.target_dir,
        json_path=args.out,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        ground_truth_dir=args.ground_truth,
        mask_dir=args.cell_masks,
        input_dir=args.input,
    )
    table = format_table(results["images"] + [{"name": "mean", **results["mean"]}], header="image")
    lines = table.splitlines()
    print("\n".join(lines[:-1] + ["-" * len(lines[0]), lines[-1]]))
    if args.out:
        print(f"wrote {args.out}")
    return 0


__all__ = ["ORDER", "register", "run_evaluate"]
