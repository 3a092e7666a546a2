"""``l2l course``: run the course notebooks headless."""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out
from l2l_helpers.training.profiles import PROFILES

ORDER = 90


def register(sub):
    """Add the ``course`` command to the ``l2l`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-command parsers of ``l2l``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="l2l")
    >>> register(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["course", "--only", "00"])
    >>> args.notebooks, args.out
    ('notebooks', 'course_output')
    """
    p = sub.add_parser(
        "course",
        help="execute the course notebooks headless (HTML + summary)",
        description=(
            "Execute every course notebook (NN_name.ipynb of NOTEBOOKS) in a fresh kernel with the chosen profile and "
            "write the executed notebooks, an HTML copy of each, the notebooks' results and a summary "
            "(summary.md, summary.json: what ran and how long it took) into OUT."
        ),
    )
    p.add_argument(
        "notebooks",
        nargs="?",
        default="notebooks",
        metavar="NOTEBOOKS",
        help="folder with the notebooks (default: notebooks)",
    )
    add_out(p, "output folder (default: course_output)", required=False, default="course_output")
    p.add_argument(
        "--profile",
        choices=PROFILES,
        default="workshop",
        help="quick (tests), workshop (minutes on a laptop; default) or paper (GPU)",
    )
    p.add_argument(
        "--only", nargs="+", metavar="PREFIX", help="run only notebooks starting with these prefixes, e.g. 00 03"
    )
    p.add_argument(
        "--inplace",
        action="store_true",
        help="also save executed notebooks over the sources (maintainers, before committing)",
    )
    p.add_argument("--timeout", type=int, default=3600, help="seconds one cell may run (default 3600)")
    p.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    p.add_argument(
        "--results",
        metavar="DIR",
        help="where the notebooks save their results (default: OUT/results; "
        "notebooks/results is where notebooks opened in JupyterLab look)",
    )
    add_no_progress(p, help="no progress bar over the notebooks (a line per notebook is printed either way)")
    p.set_defaults(func=run)


def run(args):
    """Execute the notebooks; print where the outputs went and which notebooks failed (``l2l course``).

    Returns
    -------
    int
        0 when every notebook ran, 1 otherwise.

    Examples
    --------
    >>> from l2l_helpers.cli import main
    >>> main(["course", "--profile", "quick", "--only", "00"])  # doctest: +SKIP
    0
    """
    from l2l_helpers.course.runner import run_course

    summary = run_course(
        args.notebooks,
        args.out,
        profile=args.profile,
        only=args.only,
        inplace=args.inplace,
        timeout=args.timeout,
        html=not args.no_html,
        results=getattr(args, "results", None),
        progress=not args.no_progress,
    )
    failed = [e["notebook"] for e in summary["notebooks"] if e["status"] != "ok"]
    print(f"\nWrote executed notebooks, HTML and summary.md to {args.out}/")
    if failed:
        print(f"Failed: {', '.join(failed)} (see {args.out}/summary.md)")
        return 1
    return 0
