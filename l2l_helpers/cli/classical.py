"""``l2l classical``: apply a classical filter (the paper's baselines) to a folder of images.

Examples::

    l2l classical tophat data/tubulin/input --out results/tubulin_tophat --structure tubulin
    l2l classical gaussian data/actin/input --out results/actin_gauss --sigma 1.5
    l2l classical clahe data/pxn/input --out results/pxn_clahe --structure pxn --clip-limit 0.02
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out

ORDER = 42

#: Options of each filter: (option, parameter, type, help).
_OPTIONS = {
    "gaussian": [("--sigma", "sigma", float, "standard deviation in pixels")],
    "rolling_ball": [("--radius", "radius", float, "ball radius in pixels")],
    "tophat": [("--size", "size", int, "radius of the disk footprint in pixels")],
    "clahe": [
        ("--grid", "grid", int, "contextual regions per axis (the paper's parameter)"),
        ("--kernel-size", "kernel_size", int, "size of the contextual regions in pixels (instead of --grid)"),
        ("--clip-limit", "clip_limit", float, "clipping limit in [0, 1]"),
    ],
}

_WHAT = {
    "gaussian": "Gaussian smoothing (skimage.filters.gaussian)",
    "rolling_ball": "rolling-ball background subtraction (skimage.restoration.rolling_ball)",
    "tophat": "white top-hat with a disk (skimage.morphology.white_tophat)",
    "clahe": "contrast-limited adaptive histogram equalisation (skimage.exposure.equalize_adapthist)",
}


def register(subparsers):
    """Add the ``classical`` command (one sub-command per filter) to the ``l2l`` parser.

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
    ['classical']
    """
    from l2l_helpers.restoring.restorers import CLASSICAL_FILTERS, CLASSICAL_PRESETS

    structures = sorted({s for presets in CLASSICAL_PRESETS.values() for s in presets})
    parser = subparsers.add_parser(
        "classical",
        help="apply a classical filter (Gaussian, rolling ball, top-hat, CLAHE) to a folder of images",
        description=(
            "Apply one of the label2label paper's classical baselines to every TIFF image of IN_DIR and write "
            "the results to the folder --out with the same file names (float32). --structure takes the paper's "
            "parameters for a structure; an option such as --sigma overrides one of them (without "
            "--structure, the filter's defaults). The output folder gets l2l_manifest.json (what was written, with the "
            "filter and its parameters); --overwrite replaces exactly the files of the previous run. IN_DIR "
            "is never written to."
        ),
    )
    filters = parser.add_subparsers(dest="filter", metavar="FILTER", required=True)
    for kind in CLASSICAL_FILTERS:
        presets = ", ".join(
            f"{s}: {' '.join(f'{k}={v}' for k, v in p.items())}" for s, p in CLASSICAL_PRESETS[kind].items()
        )
        sub = filters.add_parser(
            kind, help=_WHAT[kind], description=f"{_WHAT[kind]}. The paper's parameters: {presets}."
        )
        sub.add_argument("in_dir", metavar="IN_DIR", help="folder of input images")
        add_out(sub, "new (or empty) output folder")
        sub.add_argument("--structure", choices=structures, help="start from the paper's parameters for it")
        for option, dest, typ, text in _OPTIONS[kind]:
            sub.add_argument(option, dest=dest, type=typ, default=None, help=text)
        sub.add_argument("--overwrite", action="store_true", help="replace the files of a previous run in --out")
        add_no_progress(sub)
        sub.set_defaults(func=run_classical)


def run_classical(args):
    """Filter a folder and print the filter, its parameters and what was written (``l2l classical``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l classical FILTER``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ImageError
        Missing input folder, images that are not 2-D (named).
    FileExistsError
        A non-empty output folder without ``--overwrite``.
    ValueError
        Bad parameters (e.g. both ``--grid`` and ``--kernel-size``).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> args = ["classical", "tophat", "data/tubulin/input", "--out", "results/tophat", "--structure", "tubulin"]
    >>> main(args)  # doctest: +SKIP
    tophat: size=25
    wrote 8 images to results/tophat
    0
    """
    from l2l_helpers.restoring.restore import restore_folder
    from l2l_helpers.restoring.restorers import classical_restorer

    params = {dest: getattr(args, dest) for _, dest, _, _ in _OPTIONS[args.filter]}
    restorer = classical_restorer(args.filter, args.structure, **params)
    print(f"{args.filter}: {' '.join(f'{k}={v}' for k, v in restorer.params.items() if v is not None)}")
    written = restore_folder(restorer, args.in_dir, args.out, overwrite=args.overwrite, progress=not args.no_progress)
    print(f"wrote {len(written)} image{'s' if len(written) != 1 else ''} to {args.out}")
    return 0


__all__ = ["ORDER", "register", "run_classical"]
