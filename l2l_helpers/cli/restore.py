"""``l2l restore``: restore a folder of images with any restorer (a trained network, a classical filter or a
bioimage.io model package).

Examples::

    l2l restore data/actin_test/input --model models/actin_l2l --out results/actin_l2l
    l2l restore data/actin_test/input --model models/gaussian_1.5 --out results/gaussian
    l2l restore data/actin_test/input --model actin_l2l.zip --out results/actin_zoo   # a bioimage.io package
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out

ORDER = 41


def register(subparsers):
    """Add the ``restore`` command to the ``l2l`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command parsers of ``l2l``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser(prog="l2l").add_subparsers()
    >>> register(sub)
    >>> sorted(sub.choices)
    ['restore']
    """
    parser = subparsers.add_parser(
        "restore",
        help="restore a folder of images with a trained network or a classical filter",
        description=(
            "Apply the restorer --model to every TIFF image of IN_DIR and write the restorations to the "
            "folder --out with the same file names (float32). --model is a CARE model folder from l2l train "
            "(restorations in the normalised target scale; large images are predicted in tiles; a "
            "multi-channel network writes one sub-folder per target, named after the target folders used in "
            "training) or any folder with l2l_restorer.json (a classical filter saved with Restorer.save: "
            "gaussian, rolling_ball, tophat, clahe) or a bioimage.io model package (a .zip from l2l export or "
            "the BioImage Model Zoo, its rdf.yaml, or an unzipped package folder; one 2-D input; the package's "
            "own pre- and postprocessing are applied; needs pip install 'l2l-helpers[export]'). The output folder gets "
            "l2l_manifest.json, the record of what was "
            "written; --overwrite replaces exactly the files of the previous restore run. IN_DIR is never "
            "written to."
        ),
    )
    parser.add_argument("in_dir", metavar="IN_DIR", help="folder of input images")
    parser.add_argument(
        "--model",
        required=True,
        metavar="PATH",
        help="model folder (from l2l train, or with l2l_restorer.json) or bioimage.io package (.zip)",
    )
    add_out(parser, "new (or empty) output folder")
    parser.add_argument("--overwrite", action="store_true", help="replace the files of a previous restore run in --out")
    parser.add_argument(
        "--tiles",
        type=int,
        nargs=2,
        metavar=("NY", "NX"),
        help="tiles along y and x for a network (default: automatic)",
    )
    add_no_progress(parser)
    parser.set_defaults(func=run_restore)


def run_restore(args):
    """Restore a folder and print a summary (``l2l restore``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l restore``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ModelError
        Missing model folder, or a folder that is neither a model folder nor a
        bioimage.io package, or an invalid package.
    ImageError
        Missing input folder, images that are not 2-D (named).
    FileExistsError
        A non-empty output folder without ``--overwrite``.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["restore", "data/test/input", "--model", "models/l2l", "--out", "results/l2l"])  # doctest: +SKIP
    0
    """
    # restore_folder checks the folders and images before TensorFlow is imported
    from l2l_helpers.restoring.restore import restore_folder

    written = restore_folder(
        args.model,
        args.in_dir,
        args.out,
        overwrite=args.overwrite,
        n_tiles=args.tiles,
        progress=not args.no_progress,
    )
    print(f"wrote {len(written)} image{'s' if len(written) != 1 else ''} to {args.out}")
    return 0


__all__ = ["ORDER", "register", "run_restore"]
