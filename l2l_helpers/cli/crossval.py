"""``l2l crossval``: how many image pairs are enough? Repeated cross-validation on Dask.

Examples::

    l2l crossval run --input data/actin/input --target data/actin/benchmark --pairs 8 16 32 64 --folds 8 \\
        --repeats 3 --repeats-small 6 --profile paper --seed 0 --out results/actin_crossval
    l2l crossval run --structure actin --n-images 20 --pairs 4 8 16 --folds 4 --repeats 2 --repeats-small 3 \\
        --profile workshop --out results/actin_crossval_sim
    l2l crossval run ... --scheduler tcp://login-node:8786 --out results/actin_crossval   # an existing Dask cluster
    l2l crossval plot results/actin_crossval                                             # the figure from the CSV

Running the same command again on the same folder resumes the sweep: rows already in ``results.csv`` are
not computed again. ``sweep.json`` records the settings (with those the profile gave the trainings): resuming
with other ones, or after the profile's definition changed, is refused.
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_dask_options, add_no_progress, add_out, add_profile
from l2l_helpers.training.losses import LOSSES

ORDER = 47

_DESCRIPTION = (
    "For each number of pairs N (--pairs), draw N image pairs at random, split them into K folds "
    "by pair (--folds), train on K-1 folds and score the held-out fold (NRMSE, 5S-SSIM and PSNR of "
    "the input and of the restoration against the target label, and against the ground truth when "
    "there is one); repeat with new draws (--repeats, --repeats-small for the smaller half of the "
    "N values). Epochs grow linearly with N (the largest N trains for the profile's epochs). Every "
    "training is one task on Dask: a local cluster of one-thread process workers by default "
    "(--workers, default as many as fit in memory), or any running scheduler (--scheduler, e.g. "
    "an HPC cluster started with dask-jobqueue). Rows stream into OUT/results.csv as tasks "
    "finish; running the same command again on the same folder resumes (finished rows are kept, "
    "failed and missing ones run). A task that fails twice is written with status 'failed' and its "
    "error. At the end OUT/crossval.png shows the relative changes against N; "
    "'l2l crossval plot OUT' draws it again from the CSV."
)


def register(subparsers):
    """Add the ``crossval`` command (``run``, ``plot``) to the ``l2l`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command parsers of ``l2l``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="l2l")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["crossval", "plot", "results/sweep"]).dir
    'results/sweep'
    """
    parser = subparsers.add_parser(
        "crossval",
        help="repeated cross-validation over the number of training pairs, run on Dask (paper, Fig. 5)",
        description=_DESCRIPTION,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run_parser = actions.add_parser(
        "run", help="run (or resume) a sweep; rows stream into OUT/results.csv", description=_DESCRIPTION
    )
    add_out(run_parser, "output folder (results.csv, sweep.json, crossval.png)")
    _add_data_options(run_parser.add_argument_group("data (folders of paired TIFFs, or simulated cells)"))
    _add_sweep_options(run_parser.add_argument_group("the sweep"))
    add_dask_options(run_parser.add_argument_group("where the trainings run"), "l2l crossval run")
    add_no_progress(run_parser, help="no progress bar over the tasks, no dashboard address")
    run_parser.set_defaults(func=run)
    plot_parser = actions.add_parser(
        "plot",
        help="draw the figure of a sweep again from its results.csv",
        description="Draw DIR/crossval.png (or --out) from DIR/results.csv and print the summary table.",
    )
    plot_parser.add_argument("dir", metavar="DIR", help="folder of a sweep (l2l crossval run --out)")
    add_out(plot_parser, "where to save the figure (default: DIR/crossval.png)", metavar="FILE", required=False)
    plot_parser.set_defaults(func=run_plot)


def _add_data_options(data):
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    data.add_argument("--input", metavar="DIR", help="folder of input images (the lower-contrast label)")
    data.add_argument("--target", metavar="DIR", help="folder of target images (same file names)")
    data.add_argument("--ground-truth", metavar="DIR", help="folder of ground-truth images: adds *_gt columns")
    data.add_argument(
        "--structure",
        choices=PAIRED_STRUCTURES,
        metavar="STRUCTURE",
        help=f"simulate cells of this structure instead ({', '.join(PAIRED_STRUCTURES)}); ground truth included",
    )
    data.add_argument("--n-images", type=int, metavar="N", help="with --structure: number of simulated cells")
    data.add_argument("--size", type=int, default=256, metavar="S", help="with --structure: image size (default 256)")
    data.add_argument("--data-seed", type=int, default=0, metavar="K", help="with --structure: simulation seed")


def _add_sweep_options(sweep):
    sweep.add_argument("--pairs", type=int, nargs="+", required=True, metavar="N", help="numbers of training pairs N")
    sweep.add_argument("--folds", type=int, required=True, metavar="K", help="K of the K-fold cross-validation")
    sweep.add_argument("--repeats", type=int, default=1, metavar="R", help="repetitions per N (default 1)")
    sweep.add_argument(
        "--repeats-small",
        type=int,
        metavar="R2",
        help="repetitions for the smaller half of the N values (default: --repeats)",
    )
    add_profile(sweep, "training profile")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the draws and trainings (default 0)")
    sweep.add_argument("--loss", choices=LOSSES, default=LOSSES[0], help=f"training loss (default: {LOSSES[0]})")
    sweep.add_argument(
        "--score-sigma",
        type=float,
        metavar="SIGMA",
        help="Gaussian filter of this sigma on every image before scoring (paper: 1.5 for caveolae)",
    )
    sweep.add_argument("--epochs", type=int, metavar="E", help="epochs of the largest N (default: the profile's)")
    sweep.add_argument("--steps", type=int, metavar="S", help="training steps per epoch (default: the profile's)")
    sweep.add_argument("--patch-size", type=int, metavar="P", help="patch size (default: the profile's)")
    sweep.add_argument("--no-scale-epochs", action="store_true", help="train every N for the same epochs")


def _data(args):
    if args.structure:
        if args.input or args.target or args.ground_truth:
            raise ValueError("give either --structure (simulated cells) or --input/--target folders, not both")
        if not args.n_images:
            raise ValueError("--structure needs --n-images N (the number of simulated cells)")
        return {
            "simulate": {"structure": args.structure, "n": args.n_images, "size": args.size, "seed": args.data_seed}
        }
    if not (args.input and args.target):
        raise ValueError("give --input DIR and --target DIR (folders of paired TIFFs), or --structure STRUCTURE")
    data = {"input_dir": args.input, "target_dir": args.target}
    if args.ground_truth:
        data["ground_truth_dir"] = args.ground_truth
    return data


def run(args):
    """Run (or resume) the sweep and print its summary (``l2l crossval run``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l crossval run``.

    Returns
    -------
    int
        0 when every task succeeded, 1 when some failed (their rows say why).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["crossval", "run", "--structure", "actin", "--n-images", "6", "--pairs", "2", "4",
    ...       "--folds", "2", "--profile", "quick", "--out", "results/sweep"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.experiments import crossval

    overrides = {
        k: v
        for k, v in (("epochs", args.epochs), ("steps_per_epoch", args.steps), ("patch_size", args.patch_size))
        if v is not None
    }
    summary = crossval.run_crossval(
        args.out,
        _data(args),
        args.pairs,
        args.folds,
        repeats=args.repeats,
        repeats_small=args.repeats_small,
        profile=args.profile,
        loss=args.loss,
        overrides=overrides,
        seed=args.seed,
        prefilter=args.score_sigma,
        scale_epochs=not args.no_scale_epochs,
        workers=args.workers,
        scheduler=args.scheduler,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    rows = crossval.read_results(summary["csv"])
    print(crossval.format_summary(crossval.summarize(rows)))
    print(
        f"{summary['tasks']} tasks: {summary['skipped']} found done, {summary['ran']} run "
        f"({summary['failed']} failed) in {summary['seconds']:.0f} s; rows in {summary['csv']}"
    )
    return 1 if summary["failed"] else 0


def run_plot(args):
    """Draw the figure of a sweep from its CSV and print the summary (``l2l crossval plot``).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["crossval", "plot", "notebooks/data/07_sweep_workshop", "--out", "sweep.png"])  # doctest: +SKIP
    0
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from l2l_helpers.experiments import crossval

    rows = crossval.read_results(args.dir)
    figure = Path(args.out) if args.out else Path(args.dir) / crossval.FIGURE
    fig = crossval.plot_crossval(rows, title=Path(args.dir).name)
    fig.savefig(figure, dpi=120)
    plt.close(fig)
    print(crossval.format_summary(crossval.summarize(rows)))
    print(f"wrote {figure}")
    return 0


__all__ = ["ORDER", "register", "run", "run_plot"]
