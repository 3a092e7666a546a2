"""``l2l crossval``: how many image pairs are enough? Repeated cross-validation on Dask.

Examples::

    l2l crossval --input data/actin/input --target data/actin/benchmark --pairs 8 16 32 64 --folds 8 \\
        --repeats 3 --repeats-small 6 --profile paper --seed 0 results/actin_crossval
    l2l crossval --simulate actin --n-images 20 --pairs 4 8 16 --folds 4 --repeats 2 --repeats-small 3 \\
        --profile workshop results/actin_crossval_sim
    l2l crossval ... --scheduler tcp://login-node:8786 results/actin_crossval   # an existing Dask cluster
    l2l crossval --plot results/actin_crossval                                  # the figure from the CSV

Running the same command again on the same folder resumes the sweep: rows already in ``results.csv`` are
not computed again. ``sweep.json`` records the settings (with those the profile gave the trainings): resuming
with other ones, or after the profile's definition changed, is refused.
"""

from __future__ import annotations

from l2l_helpers.training.losses import LOSSES
from l2l_helpers.training.profiles import DEFAULT_PROFILE, PROFILES

ORDER = 47


def register(subparsers):
    """Add the ``crossval`` command to the ``l2l`` parser.

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
    ['crossval']
    """
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES

    parser = subparsers.add_parser(
        "crossval",
        help="repeated cross-validation over the number of training pairs, run on Dask (paper, Fig. 5)",
        description=(
            "For each number of pairs N (--pairs), draw N image pairs at random, split them into K folds "
            "by pair (--folds), train on K-1 folds and score the held-out fold (NRMSE, 5S-SSIM and PSNR of "
            "the input and of the restoration against the target label, and against the ground truth when "
            "there is one); repeat with new draws (--repeats, --repeats-small for the smaller half of the "
            "N values). Epochs grow linearly with N (the largest N trains for the profile's epochs). Every "
            "training is one task on Dask: a local cluster of one-thread process workers by default "
            "(--workers, default as many as fit in memory), or any running scheduler (--scheduler, e.g. "
            "an HPC cluster started with dask-jobqueue). Rows stream into OUT_DIR/results.csv as tasks "
            "finish; running the same command again on the same folder resumes (finished rows are kept, "
            "failed and missing ones run). A task that fails twice is written with status 'failed' and its "
            "error. At the end OUT_DIR/crossval.png shows the relative changes against N; "
            "'l2l crossval --plot OUT_DIR' draws it again from the CSV."
        ),
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder (results.csv, sweep.json, crossval.png)")
    parser.add_argument(
        "--plot", action="store_true", help="only draw OUT_DIR/crossval.png (or --figure) from OUT_DIR/results.csv"
    )
    parser.add_argument("--figure", metavar="FILE", help="with --plot: where to save the figure")
    data = parser.add_argument_group("data (folders of paired TIFFs, or simulated cells)")
    data.add_argument("--input", metavar="DIR", help="folder of input images (the lower-contrast label)")
    data.add_argument("--target", metavar="DIR", help="folder of target images (same file names)")
    data.add_argument("--ground-truth", metavar="DIR", help="folder of ground-truth images: adds *_gt columns")
    data.add_argument(
        "--simulate",
        choices=PAIRED_STRUCTURES,
        metavar="STRUCTURE",
        help=f"simulate the cells instead ({', '.join(PAIRED_STRUCTURES)}); ground truth included",
    )
    data.add_argument("--n-images", type=int, metavar="M", help="with --simulate: number of simulated cells")
    data.add_argument("--size", type=int, default=256, metavar="S", help="with --simulate: image size (default 256)")
    data.add_argument("--data-seed", type=int, default=0, metavar="K", help="with --simulate: simulation seed")
    sweep = parser.add_argument_group("the sweep")
    sweep.add_argument("--pairs", type=int, nargs="+", metavar="N", help="numbers of training pairs N")
    sweep.add_argument("--folds", type=int, metavar="K", help="K of the K-fold cross-validation")
    sweep.add_argument("--repeats", type=int, default=1, metavar="R", help="repetitions per N (default 1)")
    sweep.add_argument(
        "--repeats-small",
        type=int,
        metavar="R2",
        help="repetitions for the smaller half of the N values (default: --repeats)",
    )
    sweep.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"training profile (default: {DEFAULT_PROFILE})",
    )
    sweep.add_argument("--seed", type=int, default=0, help="seed of the draws and trainings (default 0)")
    sweep.add_argument("--loss", choices=LOSSES, default=LOSSES[0], help=f"training loss (default: {LOSSES[0]})")
    sweep.add_argument(
        "--prefilter",
        type=float,
        metavar="SIGMA",
        help="Gaussian filter of this sigma on every image before scoring (paper: 1.5 for caveolae)",
    )
    sweep.add_argument("--epochs", type=int, metavar="E", help="epochs of the largest N (default: the profile's)")
    sweep.add_argument("--steps", type=int, metavar="S", help="training steps per epoch (default: the profile's)")
    sweep.add_argument("--patch-size", type=int, metavar="P", help="patch size (default: the profile's)")
    sweep.add_argument("--no-scale-epochs", action="store_true", help="train every N for the same epochs")
    where = parser.add_argument_group("where the trainings run")
    where.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="local one-thread workers (default: one per CPU core, as many as fit in memory)",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786) instead of a local cluster",
    )
    where.add_argument(
        "--overwrite", action="store_true", help="start afresh: remove what the previous sweep wrote into OUT_DIR"
    )
    parser.set_defaults(func=run)


def _data(args):
    if args.simulate:
        if args.input or args.target or args.ground_truth:
            raise ValueError("give either --simulate or --input/--target folders, not both")
        if not args.n_images:
            raise ValueError("--simulate needs --n-images M (the number of simulated cells)")
        return {"simulate": {"structure": args.simulate, "n": args.n_images, "size": args.size, "seed": args.data_seed}}
    if not (args.input and args.target):
        raise ValueError("give --input DIR and --target DIR (folders of paired TIFFs), or --simulate STRUCTURE")
    data = {"input_dir": args.input, "target_dir": args.target}
    if args.ground_truth:
        data["ground_truth_dir"] = args.ground_truth
    return data


def run(args):
    """Run (or resume) the sweep, or with ``--plot`` draw its figure."""
    from pathlib import Path

    from l2l_helpers.experiments import crossval

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = crossval.read_results(args.out_dir)
        figure = Path(args.figure) if args.figure else Path(args.out_dir) / crossval.FIGURE
        fig = crossval.plot_crossval(rows, title=Path(args.out_dir).name)
        fig.savefig(figure, dpi=120)
        plt.close(fig)
        print(crossval.format_summary(crossval.summarize(rows)))
        print(f"wrote {figure}")
        return 0
    if not args.pairs or not args.folds:
        raise ValueError("give --pairs N [N ...] and --folds K")
    overrides = {
        k: v
        for k, v in (("epochs", args.epochs), ("steps_per_epoch", args.steps), ("patch_size", args.patch_size))
        if v is not None
    }
    summary = crossval.run_crossval(
        args.out_dir,
        _data(args),
        args.pairs,
        args.folds,
        repeats=args.repeats,
        repeats_small=args.repeats_small,
        profile=args.profile,
        loss=args.loss,
        overrides=overrides,
        seed=args.seed,
        prefilter=args.prefilter,
        scale_epochs=not args.no_scale_epochs,
        workers=args.workers,
        scheduler=args.scheduler,
        overwrite=args.overwrite,
    )
    rows = crossval.read_results(summary["csv"])
    print(crossval.format_summary(crossval.summarize(rows)))
    print(
        f"{summary['tasks']} tasks: {summary['skipped']} found done, {summary['ran']} run "
        f"({summary['failed']} failed) in {summary['seconds']:.0f} s; rows in {summary['csv']}"
    )
    return 1 if summary["failed"] else 0


__all__ = ["ORDER", "register", "run"]
