"""``l2l simulate``: write a simulated dual-label dataset as TIFF folders."""

from __future__ import annotations

import argparse

from l2l_helpers.cli._options import add_no_progress, add_out

ORDER = 10

_STRUCTURES = ("actin", "tubulin", "caveolae", "pxn", "nucleus_membrane")

_DESCRIPTION = """\
Simulate dual-labelled cells with a known ground truth and write them as
float32 TIFFs paired by file name (cell_000.tif, ...).

Paired structures (actin, tubulin, caveolae, pxn) give the folders
  input/          low-contrast label (noisy)
  input_repeat/   second noise realisation of the input label, with stage drift
  input_average/  mean of 20 noise realisations of the input label
  benchmark/      high-contrast (target) label
  ground_truth/   noise- and background-free structure, scaled to [0, 1]
  cell_mask/      1 inside cells, 0 outside
nucleus_membrane gives superposed/, nucleus/, membrane/,
ground_truth_nucleus/, ground_truth_membrane/ and cell_mask/.

metadata.json records the structure, seed, parameters and, per image, the
drift [dy, dx] that registers input_repeat onto input
(scipy.ndimage.shift(input_repeat, drift) lines up with input).
The same seed always gives the same data; cell k does not depend on --n-images.
l2l_manifest.json lists the files written, so that a run with --overwrite
first removes exactly those (and nothing else).
"""


def register(subparsers):
    """Add the ``simulate`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommand collection of the ``l2l`` parser.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["simulate", "--structure", "actin", "--out", "data/actin", "--n-images", "4"])  # doctest: +SKIP
    0
    """
    p = subparsers.add_parser(
        "simulate",
        help="simulate dual-labelled cells (the course's default dataset)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--structure",
        required=True,
        choices=_STRUCTURES,
        metavar="STRUCTURE",
        help="structure to simulate: " + ", ".join(_STRUCTURES),
    )
    add_out(p, "output folder (must be empty unless --overwrite)")
    p.add_argument("--n-images", type=int, default=8, metavar="N", help="number of cells (default: 8)")
    p.add_argument("--size", type=int, default=256, help="image width and height in pixels (default: 256)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty folder: first remove what the previous 'l2l simulate' "
        "wrote there (listed in l2l_manifest.json); other files are kept, and a file "
        "it did not write inside its image folders stops the command",
    )
    add_no_progress(p)
    p.set_defaults(func=run)


def run(args):
    """Simulate and write the dataset.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments: ``structure``, ``out``, ``n_images``, ``size``,
        ``seed``, ``overwrite`` and optionally ``no_progress``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    FileExistsError
        If ``out`` is not empty and ``--overwrite`` is not given, or an
        image folder holds a file that the previous run did not write
        (checked before simulating; see :func:`l2l_helpers.data.io.open_output`).
    ValueError
        If ``--n-images`` or ``--size`` is out of range.

    Examples
    --------
    >>> import argparse
    >>> args = argparse.Namespace(structure="pxn", out="data/pxn", n_images=2, size=128, seed=0, overwrite=False)
    >>> run(args)  # doctest: +SKIP
    0
    """
    from l2l_helpers.data.io import check_output
    from l2l_helpers.data.simulate import IMAGE_KEYS, simulate_dataset, write_dataset

    if args.n_images < 1:
        raise ValueError(f"--n-images must be at least 1, got {args.n_images}")
    if args.size < 32:
        raise ValueError(f"--size must be at least 32 pixels, got {args.size}")
    # check the folder before spending time on the simulation
    check_output(args.out, "simulate", overwrite=args.overwrite, owned=[*IMAGE_KEYS[args.structure], "metadata.json"])
    data = simulate_dataset(
        args.structure,
        n=args.n_images,
        size=args.size,
        seed=args.seed,
        progress=not getattr(args, "no_progress", False),
    )
    out = write_dataset(data, args.out, overwrite=args.overwrite)
    folders = ", ".join(f"{k}/" for k in data["metadata"]["keys"])
    print(
        f"wrote {args.n_images} {args.structure} cells ({args.size}x{args.size}, seed {args.seed}) to {out}: "
        f"{folders} metadata.json"
    )
    return 0
