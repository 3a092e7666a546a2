"""``l2l contrast``: compare the contrast of two labels and suggest the pairing."""

from __future__ import annotations

from l2l_helpers.cli._options import add_out

ORDER = 20

_DESCRIPTION = """\
Measure the Michelson and RMS contrast of two folders of images paired by
file name (two labels of the same structure), with the label2label paper's
protocol: Gaussian filter (sigma 2), normalisation to the 1st/99th
percentile clipped to [0, 1], the brightest FRACTION of pixels as sample and
the rest as background. The label with the higher contrast of the structure
is suggested as the target (the paper's finding), the other as the input:
the Michelson contrast decides. The RMS contrast is reported but does not
decide, because a cytosolic haze or an uneven background raises it without
showing the structure better; when it ranks the labels the other way, the
output says that the two measures disagree.
"""


def register(subparsers):
    """Add the ``contrast`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommand collection of the ``l2l`` parser.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["contrast", "data/actin/input", "data/actin/benchmark", "--out", "contrast.json"])  # doctest: +SKIP
    0
    """
    p = subparsers.add_parser(
        "contrast",
        help="measure the contrast of two labels and suggest input and target",
        description=_DESCRIPTION,
    )
    p.add_argument("dir_a", metavar="DIR_A", help="folder of label A (TIFF images)")
    p.add_argument("dir_b", metavar="DIR_B", help="folder of label B (same file names as DIR_A)")
    p.add_argument(
        "--fraction",
        type=float,
        default=0.1,
        help="fraction of brightest pixels taken as the sample (default 0.1; 0.01 for sparse "
        "structures such as caveolae)",
    )
    add_out(
        p,
        "also write the per-image values, means, s.d. and the suggestion (with the deciding "
        "measure and whether the measures agree) to this JSON file",
        metavar="FILE",
        required=False,
    )
    p.set_defaults(func=run)


def _format_table(result):
    lines = [f"{'folder':<40} {'n':>3} {'Michelson':>15} {'RMS':>15}"]
    for folder, st in result["folders"].items():
        name = folder if len(folder) <= 40 else "..." + folder[-37:]
        lines.append(
            f"{name:<40} {st['n']:>3} "
            f"{st['michelson_mean']:>8.3f} ± {st['michelson_sd']:<4.3f} "
            f"{st['rms_mean']:>8.3f} ± {st['rms_sd']:<4.3f}"
        )
    return "\n".join(lines)


def run(args):
    """Measure both folders, print the table and the suggestion, optionally write JSON.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments: ``dir_a``, ``dir_b``, ``fraction``, ``out`` (a JSON file or None).

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    l2l_helpers.data.io.ImageError
        Missing, unpaired or unreadable images (the message names the file).
    ValueError
        A fraction outside (0, 1), or a JSON path inside an input folder.

    Examples
    --------
    >>> import argparse
    >>> args = argparse.Namespace(dir_a="data/a", dir_b="data/b", fraction=0.1, out=None)
    >>> run(args)  # doctest: +SKIP
    0
    """
    import json
    from pathlib import Path

    from l2l_helpers.pairs.contrast import contrast_folders

    result = contrast_folders(args.dir_a, args.dir_b, fraction=args.fraction)
    print(_format_table(result))
    print(f"suggested input:  {result['suggested_input']}")
    print(f"suggested target: {result['suggested_target']}")
    decided = "Michelson" if result["decided_by"] == "michelson" else "RMS"
    print(f"decided by:       {decided} contrast")
    print(f"measures agree:   {'yes' if result['measures_agree'] else 'no (look at the images)'}")
    print(result["pairing"]["message"])
    if args.out:
        path = Path(args.out)
        for folder in result["folders"]:
            src = Path(folder).resolve()
            if src == path.resolve().parent or src in path.resolve().parents:
                raise ValueError(f"{path}: will not write into the input folder {folder}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {path}")
    return 0
