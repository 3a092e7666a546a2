"""``l2l validate``: every method on the same held-out simulated cells, one table (trainings on Dask).

Examples::

    l2l validate run --out notebooks/data/09_validation_workshop --profile workshop   # the committed result
    l2l validate run --out results/validation --profile quick                        # a small version (CI)
    l2l validate run --out out --profile quick --structure actin --method input l2l_l1 n2n_l1
    l2l validate run --out out ... --scheduler tcp://login-node:8786                 # an existing Dask cluster
    l2l validate table notebooks/data/09_validation_workshop                         # the Markdown table again

Running the same command again on the same folder resumes: rows already in ``validation.csv`` are not
computed again. ``validation.json`` records the configuration (with the settings the profile gave the
trainings): resuming with another one, or after the profile's definition changed, is refused. How long
each profile takes: benchmarks/results.md.
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_dask_options, add_no_progress, add_out, add_profile

ORDER = 48

_DESCRIPTION = (
    "For each structure (--structure; default all four), simulate cells, train N2N (L1, 3S-SSIM), "
    "L2L (L1, SSIM, 3S-SSIM, 5S-SSIM) and the CycleGAN on the training cells, and score every "
    "method on the same held-out cells: the input, its 20-frame average, the four classical filters, "
    "the networks and the target label. Scores against the ground truth and the target label "
    "(PSNR, NRMSE, SSIM, 3S/5S-SSIM), background left, hallucination, Michelson contrast and, for "
    "tubulin, the microtubule width (FWHM). Every training is one task on Dask: a local cluster "
    "of one-thread process workers by default (--workers), or any running scheduler (--scheduler). "
    "Rows stream into OUT/validation.csv; running the same command again on the same folder "
    "resumes; a task that fails twice is written with status 'failed' and its error. At the end "
    "OUT/validation.md holds the same as Markdown tables ('l2l validate table OUT' prints "
    "them). Profiles: quick (CI, 128 px cells), workshop (256 px, workshop trainings), paper (the "
    "paper's trainings: a GPU cluster)."
)


def register(subparsers):
    """Add the ``validate`` command (``run``, ``table``) to the ``l2l`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command parsers of ``l2l``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="l2l")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["validate", "run", "--out", "v", "--structure", "actin", "pxn"]).structure
    ['actin', 'pxn']
    """
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES
    from l2l_helpers.experiments.validate import METHODS

    parser = subparsers.add_parser(
        "validate",
        help="score every method (input, its 20-frame average, filters, N2N, L2L, CycleGAN) on held-out cells",
        description=_DESCRIPTION,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser(
        "run", help="run (or resume) a validation; rows stream into OUT/validation.csv", description=_DESCRIPTION
    )
    add_out(p, "output folder (validation.csv, validation.md, validation.json)")
    add_profile(p, "cells and training settings")
    p.add_argument(
        "--structure", nargs="+", metavar="S", help=f"structures (default: all of {', '.join(PAIRED_STRUCTURES)})"
    )
    p.add_argument("--method", nargs="+", metavar="M", help=f"methods (default: all of {', '.join(METHODS)})")
    p.add_argument("--seed", type=int, default=0, help="seed of the cells and trainings (default 0)")
    add_dask_options(p.add_argument_group("where the trainings run"), "l2l validate run")
    add_no_progress(p)
    p.set_defaults(func=run)
    p = actions.add_parser(
        "table",
        help="print the Markdown tables of a validation from its validation.csv",
        description="Print the Markdown tables of DIR/validation.csv (what DIR/validation.md holds).",
    )
    p.add_argument("dir", metavar="DIR", help="folder of a validation (l2l validate run --out)")
    p.set_defaults(func=run_table)


def run(args):
    """Run (or resume) the validation and print its tables (``l2l validate run``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed options of ``l2l validate run``.

    Returns
    -------
    int
        0 when every task succeeded, 1 when some failed (their rows say why).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["validate", "run", "--out", "results/validation", "--profile", "quick"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.experiments import validate

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    summary = validate.run_validation(
        args.out,
        structures=args.structure,
        profile=args.profile,
        seed=args.seed,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=not args.no_progress,
        methods=args.method,
        overwrite=args.overwrite,
    )
    print(summary["table"].read_text(encoding="utf-8"), end="")
    print(
        f"{summary['tasks']} tasks: {summary['skipped']} found done, {summary['ran']} run "
        f"({summary['failed']} failed) in {summary['seconds']:.0f} s; {summary['rows']} rows in {summary['csv']}"
    )
    return 1 if summary["failed"] else 0


def run_table(args):
    """Print the Markdown tables of a validation folder (``l2l validate table``).

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["validate", "table", "notebooks/data/09_validation_workshop"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.experiments import validate

    print(validate.format_validation(validate.read_validation(args.dir)), end="")
    return 0


__all__ = ["ORDER", "register", "run", "run_table"]
