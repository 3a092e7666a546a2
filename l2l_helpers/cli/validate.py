"""``l2l validate``: every method on the same held-out simulated cells, one table (trainings on Dask).

Examples::

    l2l validate notebooks/data/09_validation_workshop --profile workshop   # the committed result (~35-60 min)
    l2l validate results/validation --profile quick                        # a small version (CI, ~3 min)
    l2l validate out --profile quick --structures actin --methods input l2l_l1 n2n_l1
    l2l validate out ... --scheduler tcp://login-node:8786                 # an existing Dask cluster
    l2l validate --table notebooks/data/09_validation_workshop             # the Markdown table, from the CSV

Running the same command again on the same folder resumes: rows already in ``validation.csv`` are not
computed again. ``validation.json`` records the configuration (with the settings the profile gave the
trainings): resuming with another one, or after the profile's definition changed, is refused.
"""

from __future__ import annotations

from l2l_helpers.training.profiles import DEFAULT_PROFILE, PROFILES

ORDER = 48


def register(subparsers):
    """Add the ``validate`` command to the ``l2l`` parser.

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
    ['validate']
    """
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES
    from l2l_helpers.experiments.validate import METHODS

    parser = subparsers.add_parser(
        "validate",
        help="score every method (input, its 20-frame average, filters, N2N, L2L, CycleGAN) on held-out cells",
        description=(
            "For each structure (--structures; default all four), simulate cells, train N2N (L1, 3S-SSIM), "
            "L2L (L1, SSIM, 3S-SSIM, 5S-SSIM) and the CycleGAN on the training cells, and score every "
            "method on the same held-out cells: the input, its 20-frame average, the four classical filters, "
            "the networks and the target label. Scores against the ground truth and the target label "
            "(PSNR, NRMSE, SSIM, 3S/5S-SSIM), background left, hallucination, Michelson contrast and, for "
            "tubulin, the microtubule width (FWHM). Every training is one task on Dask: a local cluster "
            "of one-thread process workers by default (--workers), or any running scheduler (--scheduler). "
            "Rows stream into OUT_DIR/validation.csv; running the same command again on the same folder "
            "resumes; a task that fails twice is written with status 'failed' and its error. At the end "
            "OUT_DIR/validation.md holds the same as Markdown tables ('l2l validate --table OUT_DIR' prints "
            "them). Profiles: quick (CI, 128 px cells, a few minutes), workshop (256 px, workshop "
            "trainings, about 21 minutes on 2 cores), paper (the paper's trainings: a GPU cluster)."
        ),
    )
    parser.add_argument(
        "out_dir", metavar="OUT_DIR", help="output folder (validation.csv, validation.md, validation.json)"
    )
    parser.add_argument("--table", action="store_true", help="only print the Markdown table of OUT_DIR/validation.csv")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"cells and training settings (default: {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--structures", nargs="+", metavar="S", help=f"structures (default: all of {', '.join(PAIRED_STRUCTURES)})"
    )
    parser.add_argument("--methods", nargs="+", metavar="M", help=f"methods (default: all of {', '.join(METHODS)})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cells and trainings (default 0)")
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
        "--overwrite", action="store_true", help="start afresh: remove what the previous validation wrote into OUT_DIR"
    )
    where.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args):
    """Run (or resume) the validation, or with ``--table`` print its Markdown table."""
    from l2l_helpers.experiments import validate

    if args.table:
        print(validate.format_validation(validate.read_validation(args.out_dir)), end="")
        return 0
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    summary = validate.run_validation(
        args.out_dir,
        structures=args.structures,
        profile=args.profile,
        seed=args.seed,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=not args.no_progress,
        methods=args.methods,
        overwrite=args.overwrite,
    )
    print(summary["table"].read_text(encoding="utf-8"), end="")
    print(
        f"{summary['tasks']} tasks: {summary['skipped']} found done, {summary['ran']} run "
        f"({summary['failed']} failed) in {summary['seconds']:.0f} s; {summary['rows']} rows in {summary['csv']}"
    )
    return 1 if summary["failed"] else 0


__all__ = ["ORDER", "register", "run"]
