"""``l2l train``: train a CARE network on image pairs, or a CycleGAN on unpaired images.

Examples::

    l2l train --input data/actin/input --target data/actin/benchmark --out models/actin_l2l --profile quick
    l2l train --input data/actin/input --target data/actin/benchmark --out models/actin_l2l --resume
    l2l train --method cyclegan --input data/actin/input --target data/other/benchmark --out models/actin_cg

The choices of ``--loss`` and ``--profile`` are :data:`l2l_helpers.training.losses.LOSSES`
and the keys of :data:`l2l_helpers.training.profiles.PROFILES` (neither module imports
TensorFlow, nor does :mod:`l2l_helpers.training.cyclegan` on import).
"""

from __future__ import annotations

import argparse

from l2l_helpers.cli._options import add_no_progress, add_out
from l2l_helpers.training.losses import LOSSES
from l2l_helpers.training.prepare import INPUT_NORMALIZATIONS
from l2l_helpers.training.profiles import DEFAULT_PROFILE, PROFILES

ORDER = 40

_DESCRIPTION = (
    "Train a CARE U-Net (CSBDeep) to turn INPUT images into TARGET images. Images are paired by "
    "file name. label2label: --input is the low-contrast label, --target the high-contrast label "
    "of the same structure; noise2noise: --target is a drift-corrected second image of the same "
    "label. Several --target folders give a multi-channel network (one output per target). "
    "Patches are normalised by percentiles and augmented by zoom and 90-degree rotations, as in "
    "the paper. The model folder (--out) gets config.json, l2l_training.json (how it was trained), "
    "history.csv, weights_best.h5 and weights_last.h5; an interrupted run continues with --resume. "
    "Profiles: quick (seconds, for tests), workshop (minutes on a laptop CPU), paper (the paper's "
    "settings, for a GPU); any setting can be overridden. "
    "--method cyclegan trains a CycleGAN instead (l2l_helpers.training.cyclegan): INPUT and TARGET images need "
    "not be paired (other cells, other names, other numbers of images are fine); one --target folder; "
    "random crops normalised to [-1, 1]; the model folder gets both generators (G_AB: input -> target, "
    "used by l2l restore; G_BA), both discriminators, l2l_restorer.json, l2l_training.json and "
    "history.csv; --epochs sets the epochs at the initial learning rate, --epochs-decay those of its "
    "linear decay, --patch-size the crop size, --n-first the generators' first filters."
)


def register(subparsers):
    """Add the ``train`` command to the ``l2l`` parser.

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
    ['train']
    """
    parser = subparsers.add_parser(
        "train",
        help="train a CARE network on pairs of images (label2label or noise2noise), or a CycleGAN on unpaired images",
        description=_DESCRIPTION,
    )
    _add_data(parser)
    _add_training(parser)
    _add_overrides(parser.add_argument_group("overrides of the profile's settings"))
    _add_preparation(parser.add_argument_group("data preparation"))
    parser.set_defaults(func=run_train)


def _add_data(parser):
    parser.add_argument(
        "--method",
        choices=("care", "cyclegan"),
        default="care",
        help="care: a CARE U-Net on image pairs (default); cyclegan: a CycleGAN on unpaired images",
    )
    parser.add_argument("--input", required=True, metavar="DIR", help="folder of input images")
    parser.add_argument(
        "--target",
        required=True,
        action="append",
        metavar="DIR",
        help="folder of target images (same file names); repeat for several targets "
        "(--method cyclegan: one folder, any file names)",
    )
    add_out(parser, "model folder to create (or resume)")


def _add_training(parser):
    parser.add_argument("--loss", choices=LOSSES, default=LOSSES[0], help=f"training loss (default: {LOSSES[0]})")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"settings profile (default: {DEFAULT_PROFILE})",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the interrupted run in --out from its last finished epoch"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh: replace the model a previous training wrote into --out (a folder "
        "holding files that are not a model's is still refused)",
    )
    add_no_progress(parser, help="no line or bar per epoch")


def _add_overrides(group):
    group.add_argument("--epochs", type=int, metavar="N", help="number of epochs")
    group.add_argument("--steps", type=int, metavar="N", help="training steps per epoch")
    group.add_argument("--patch-size", type=int, metavar="N", help="patch height and width in pixels")
    group.add_argument("--batch-size", type=int, metavar="N", help="patches per training step")
    group.add_argument("--patches-per-image", type=int, metavar="N", help="patches drawn from each image pair")
    group.add_argument("--learning-rate", type=float, metavar="LR", help="Adam learning rate")
    group.add_argument("--depth", type=int, metavar="N", help="U-Net depth (unet_n_depth)")
    group.add_argument("--n-first", type=int, metavar="N", help="filters of the first U-Net layer (unet_n_first)")
    group.add_argument("--kernel-size", type=int, metavar="N", help="convolution kernel size (unet_kern_size)")
    group.add_argument(
        "--residual",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the U-Net predicts a correction added to the input (unet_residual; --no-residual: "
        "it predicts the target itself, the workshop profile's default)",
    )
    group.add_argument(
        "--flip-rotate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="flip and turn each patch by a random multiple of 90 degrees as it is drawn "
        "(flip_rotate; the workshop profile's default)",
    )
    group.add_argument(
        "--epochs-decay",
        type=int,
        metavar="N",
        help="cyclegan: epochs of linear learning-rate decay after --epochs (n_epochs_decay)",
    )
    group.add_argument(
        "--prefilter",
        type=float,
        metavar="SIGMA",
        help="cyclegan: smooth the training images (and later the images to restore) with a "
        "Gaussian of this standard deviation in pixels",
    )


def _add_preparation(data):
    data.add_argument(
        "--zoom-factors",
        type=float,
        nargs="+",
        metavar="Z",
        help="zoom factors of the augmentation (default: 0.5 0.75 1.25 1.5; caveolae: 0.8 0.9 1.1 1.2)",
    )
    data.add_argument("--no-augment", action="store_true", help="no zoom / rotation augmentation")
    data.add_argument(
        "--poisson",
        type=float,
        nargs="?",
        const=True,
        default=False,
        metavar="PEAK",
        help="add Poisson noise to the targets (broadens nearly binary STED histograms); "
        "optional photon count at intensity 1",
    )
    data.add_argument(
        "--validation-split",
        type=float,
        default=0.1,
        metavar="F",
        help="fraction of the images whose patches are kept for validation, at least one image "
        "(default: 0.1); the split is by image and recorded in l2l_training.json",
    )
    data.add_argument(
        "--input-normalization",
        choices=INPUT_NORMALIZATIONS,
        default=None,
        help="how input images are normalised: percentile (the 2nd and 99.8th percentiles of each "
        "image to 0 and 1, as CSBDeep and the paper) or mean_std (zero mean, unit variance per "
        "image, as CAREamics; it learned faster on simulated actin but did worse on the course's real "
        "images, so compare on your data); default: "
        "the profile's (percentile in every profile); targets always by percentiles; recorded, "
        "and used again when restoring",
    )
    data.add_argument(
        "--validation-images",
        nargs="+",
        metavar="NAME",
        help="file names of the validation images (replaces --validation-split; e.g. the "
        "validation_images recorded by an earlier run, to reproduce its split)",
    )


def run_train(args):
    """Train from folders and print a summary (``l2l train``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l train``.

    Returns
    -------
    int
        0 on success.

    Raises
    ------
    ImageError
        Missing or unpaired folders, bad images (named in the message).
    FileExistsError
        A non-empty ``--out`` without ``--resume`` or ``--overwrite``.
    FileNotFoundError
        ``--resume`` without a model folder.
    ValueError
        ``--resume`` together with ``--overwrite``.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["train", "--input", "data/input", "--target", "data/benchmark",
    ...       "--out", "models/l2l", "--profile", "quick"])  # doctest: +SKIP
    0
    """
    _check_model_folder(args.out, args.resume, args.overwrite)
    if args.method == "cyclegan":
        return _run_cyclegan(args)
    for option, dest in (("--prefilter", "prefilter"), ("--epochs-decay", "epochs_decay")):
        if getattr(args, dest) is not None:
            raise ValueError(f"{option} is an option of --method cyclegan")
    return _run_care(args)


def _check_model_folder(model_dir, resume, overwrite):
    """Refuse what cannot work before anything is read: a filled folder, nothing to resume, both choices."""
    from pathlib import Path

    if resume and overwrite:
        raise ValueError("--resume continues a training, --overwrite replaces it: choose one")
    if not (resume or overwrite) and Path(model_dir).exists() and any(Path(model_dir).iterdir()):
        raise FileExistsError(f"{model_dir}: folder is not empty; choose another --out, --resume it, or --overwrite it")
    if resume and not Path(model_dir).is_dir():
        raise FileNotFoundError(f"{model_dir}: model folder does not exist (nothing to resume)")


def _run_arguments(args):
    """The arguments and settings of ``train_from_folders`` that every method takes from the same options."""
    return {
        "profile": args.profile,
        "seed": args.seed,
        "resume": args.resume,
        "overwrite": args.overwrite,
        "steps_per_epoch": args.steps,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
    }


def _run_care(args):
    """``l2l train`` (``--method care``): train a CARE network on folders of image pairs."""
    from l2l_helpers.data.io import match_pairs

    match_pairs(args.input, *args.target)  # clear errors before TensorFlow is imported
    from l2l_helpers.training.train import train_from_folders

    result = train_from_folders(
        args.input,
        args.target,
        args.out,
        loss=args.loss,
        **_run_arguments(args),
        zoom_factors=args.zoom_factors,
        augment=not args.no_augment,
        poisson=args.poisson,
        validation_split=args.validation_split,
        validation_images=args.validation_images,
        input_normalization=args.input_normalization,
        verbose=0 if args.no_progress else None,
        epochs=args.epochs,
        patch_size=args.patch_size,
        n_patches_per_image=args.patches_per_image,
        unet_n_depth=args.depth,
        unet_n_first=args.n_first,
        unet_kern_size=args.kernel_size,
        unet_residual=args.residual,
        flip_rotate=args.flip_rotate,
    )
    h = result.history
    if h.get("val_loss"):
        best = min(range(len(h["val_loss"])), key=lambda i: h["val_loss"][i])
        print(
            f"trained {h['epoch'][-1]} epochs in {result.seconds:.0f} s; best val_loss "
            f"{h['val_loss'][best]:.4f} (epoch {h['epoch'][best]})"
        )
    info = result.model.l2l_info
    if info.get("validation_images"):
        print(f"validation images: {', '.join(map(str, info['validation_images']))}")
    print(f"model: {result.model_dir} (history.csv, weights_best.h5, weights_last.h5, l2l_training.json)")
    return 0


#: Options of the CARE training that a CycleGAN does not use: (option, attribute, its default).
_CARE_ONLY = (
    ("--loss", "loss", LOSSES[0]),
    ("--depth", "depth", None),
    ("--kernel-size", "kernel_size", None),
    ("--residual", "residual", None),
    ("--flip-rotate", "flip_rotate", None),
    ("--patches-per-image", "patches_per_image", None),
    ("--zoom-factors", "zoom_factors", None),
    ("--no-augment", "no_augment", False),
    ("--poisson", "poisson", False),
    ("--validation-split", "validation_split", 0.1),
    ("--validation-images", "validation_images", None),
    ("--input-normalization", "input_normalization", None),
)


def _run_cyclegan(args):
    """``l2l train --method cyclegan``: train a CycleGAN on two folders of unpaired images."""
    given = [option for option, dest, default in _CARE_ONLY if getattr(args, dest) != default]
    if given:
        raise ValueError(f"{', '.join(given)}: not used by --method cyclegan (options of the CARE training)")
    if len(args.target) != 1:
        raise ValueError(f"--method cyclegan takes one --target folder, got {len(args.target)}")
    from l2l_helpers.training.train import train_from_folders  # reads every image before TensorFlow is imported

    result = train_from_folders(
        args.input,
        args.target[0],
        args.out,
        method="cyclegan",
        **_run_arguments(args),
        prefilter_sigma=args.prefilter,
        progress=not args.no_progress,
        n_epochs=args.epochs,
        n_epochs_decay=args.epochs_decay,
        crop_size=args.patch_size,
        gen_n_first=args.n_first,
    )
    h = result.history
    if h.get("epoch"):
        print(
            f"trained {h['epoch'][-1]} epochs in {result.seconds:.0f} s; last epoch: G {h['G'][-1]:.4f}, "
            f"D_A {h['D_A'][-1]:.4f}, D_B {h['D_B'][-1]:.4f}, cycle {h['cycle_A'][-1] + h['cycle_B'][-1]:.4f}"
        )
    print(
        f"model: {result.model_dir} (G_AB: input -> target, used by l2l restore; G_BA, D_A, D_B weights, "
        "history.csv, l2l_training.json)"
    )
    return 0


__all__ = ["ORDER", "register", "run_train"]
