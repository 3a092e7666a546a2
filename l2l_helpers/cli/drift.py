"""``l2l drift``: estimate and correct the drift between two folders of paired images.

Examples::

    l2l drift data/actin/input data/actin/input_repeat --out results/aligned
    l2l drift data/actin/input data/actin/input_repeat --out results/aligned_ssim --method ssim --seed 1
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out, add_overwrite

ORDER = 30


def register(subparsers):
    """Add the ``drift`` command to the ``l2l`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the ``l2l`` parser.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="l2l")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["drift", "ref", "mov", "--out", "out", "--method", "ssim"]).method
    'ssim'
    """
    parser = subparsers.add_parser(
        "drift",
        help="estimate and correct the drift between paired images (phase correlation or SSIM search)",
        description=(
            "For every pair of images with the same file name in REF_DIR and MOVING_DIR, estimate the "
            "shift that registers the moving image onto the reference, shift it, crop both images to "
            "their common area and write them to OUT/reference/ and OUT/moving/ (same file "
            "names), plus OUT/shifts.csv (name,dy,dx: the shift that registers the moving image "
            "onto the reference, scikit-image's convention, as in the simulator's metadata). "
            "--method phase: sub-pixel cross-correlation (fast, accurate); --method ssim: the "
            "label2label paper's integer search maximising the SSIM of random foreground patches "
            "within +-MAX_SHIFT px. The input folders are never written to."
        ),
    )
    parser.add_argument("ref_dir", metavar="REF_DIR", help="folder of reference images")
    parser.add_argument("moving_dir", metavar="MOVING_DIR", help="folder of moving images (same file names)")
    add_out(parser, "new (or empty) output folder")
    parser.add_argument(
        "--method", choices=("phase", "ssim"), default="phase", help="drift estimation method (default: phase)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the ssim patch sampling (default: 0)")
    parser.add_argument(
        "--max-shift",
        type=int,
        default=5,
        metavar="PX",
        help="ssim search range in pixels along each axis (default: 5)",
    )
    add_overwrite(parser, "l2l drift")
    add_no_progress(parser)
    parser.set_defaults(func=run_drift)


def run_drift(args):
    """Register the folders and print a summary.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of ``l2l drift``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ImageError, FileExistsError, ValueError
        Bad input folders, a non-empty output folder, an output inside an
        input folder (see :func:`l2l_helpers.pairs.drift.correct_folders`).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["drift", "data/input", "data/input_repeat", "--out", "results/aligned"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.pairs.drift import correct_folders

    rows = correct_folders(
        args.ref_dir,
        args.moving_dir,
        args.out,
        method=args.method,
        overwrite=args.overwrite,
        seed=args.seed,
        max_shift=args.max_shift,
        progress=not args.no_progress,
    )
    largest = max(rows, key=lambda r: abs(r["dy"]) + abs(r["dx"]))
    print(
        f"registered {len(rows)} pair{'s' if len(rows) != 1 else ''} ({args.method}); "
        f"largest shift {largest['name']}: dy={largest['dy']:.2f} dx={largest['dx']:.2f}"
    )
    print(f"wrote {args.out}/reference/, {args.out}/moving/ and {args.out}/shifts.csv")
    return 0


__all__ = ["ORDER", "register", "run_drift"]
