"""``l2l export``: write a trained network as a bioimage.io model package (BioImage Model Zoo, spec 0.5).

Examples::

    l2l export --model models/actin_l2l --out actin_l2l.zip --author "Ada Lovelace"
    l2l export --model models/actin_l2l --out actin_l2l.zip --test-image data/actin/test/input/cell_007.tif \
        --name "actin L2L (phalloidin -> anti-actin)" --cite "My paper, 2027" https://doi.org/10.1234/x

The package opens in Fiji (deepImageJ), napari, ilastik and QuPath, and in ``l2l restore --model``.
Needs the optional extra: ``pip install 'l2l-helpers[export]'``.
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_out

ORDER = 43


def register(subparsers):
    """Add the ``export`` command to the ``l2l`` parser.

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
    ['export']
    """
    parser = subparsers.add_parser(
        "export",
        help="write a trained network as a bioimage.io model package (Fiji/deepImageJ, napari, ilastik)",
        description=(
            "Write the CARE network of --model (a model folder from l2l train, one or more targets) as a "
            "bioimage.io model package (BioImage Model Zoo, spec 0.5) --out FILE.zip: Keras 3 and ONNX weights, the "
            "percentile normalisation of training as the package's preprocessing (scale_range), a test input "
            "and its restoration, a cover (input | restoration), a README model card (labels, loss, training "
            "record, what to cite, limitations) and l2l_training.json and history.csv attached. The network "
            "takes a one-channel image of the input label; its output is in the normalised target scale, as "
            "l2l restore writes it. Fiji (deepImageJ), napari, ilastik, QuPath and l2l restore --model "
            "FILE.zip apply it. Needs the optional extra: pip install 'l2l-helpers[export]'."
        ),
    )
    parser.add_argument("--model", required=True, metavar="DIR", help="model folder from l2l train")
    add_out(parser, "the package to write", metavar="FILE.zip")
    parser.add_argument("--name", default=None, help="human-readable name (default: 'label2label FOLDER')")
    parser.add_argument("--description", default=None, help="one or two sentences (default: from the record)")
    parser.add_argument(
        "--author", action="append", default=None, metavar="NAME", help="who trained the network (repeat for several)"
    )
    parser.add_argument(
        "--cite",
        nargs=2,
        action="append",
        default=[],
        metavar=("TEXT", "DOI_OR_URL"),
        help="a further citation: text and DOI (10.xxx/...) or URL (repeat for several); "
        "the label2label paper and CARE are always cited",
    )
    parser.add_argument("--license", default="CC-BY-4.0", help="SPDX licence of the weights (default CC-BY-4.0)")
    parser.add_argument(
        "--test-image",
        default=None,
        metavar="TIFF",
        help="a 2-D image of the input label: test input and cover (default: a simulated cell)",
    )
    parser.add_argument("--weights", choices=("best", "last"), default="best", help="which weights (default best)")
    parser.add_argument("--no-onnx", action="store_true", help="Keras weights only (no ONNX)")
    parser.add_argument("--overwrite", action="store_true", help="replace the --out package if it exists")
    parser.add_argument(
        "--test",
        action="store_true",
        help="afterwards, run bioimageio.core's test of the package (every weight format)",
    )
    parser.set_defaults(func=run_export)


def _citation(text, ref):
    ref = ref.strip()
    if ref.startswith(("http://", "https://")):
        prefix = "https://doi.org/"
        return {"text": text, "doi": ref[len(prefix) :]} if ref.startswith(prefix) else {"text": text, "url": ref}
    return {"text": text, "doi": ref}


def run_export(args):
    """Export a model folder and print where the package went (``l2l export``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l export``.

    Returns
    -------
    int
        0 on success; 1 if ``--test`` was given and the package failed it.

    Raises
    ------
    ModelError
        If ``--model`` is not a trained model folder.
    FileExistsError
        If the ``--out`` package exists and ``--overwrite`` is not given.
    ImportError
        Without the ``export`` extra.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["export", "--model", "models/actin_l2l", "--out", "actin_l2l.zip"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.restoring.export import WEIGHT_FORMATS, export_bioimageio, package_summary, test_package

    formats = ("keras_v3",) if args.no_onnx else WEIGHT_FORMATS
    path = export_bioimageio(
        args.model,
        args.out,
        name=args.name,
        description=args.description,
        authors=args.author,
        cite=[_citation(t, r) for t, r in args.cite],
        license=args.license,
        test_image=args.test_image,
        weight_formats=formats,
        weights=args.weights,
        overwrite=args.overwrite,
    )
    print(f"wrote {path} (bioimage.io model, weights: {', '.join(formats)})")
    if args.test:
        summary = test_package(path)
        print(f"bioimageio.core test: {summary.status}")
        if summary.status != "passed":
            print(package_summary(summary))
            return 1
    return 0


__all__ = ["ORDER", "register", "run_export"]
