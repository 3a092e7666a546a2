"""The options every ``l2l`` command spells the same way (``--out``, ``--no-progress``, ``--overwrite``, ``--profile``).

docs/cli.md tabulates which command takes which; ``tests/test_cli.py`` checks that table against the parsers.
"""

from __future__ import annotations

from l2l_helpers.training.profiles import DEFAULT_PROFILE, PROFILES

__all__ = ["add_dask_options", "add_no_progress", "add_out", "add_overwrite", "add_profile"]


def add_out(parser, help, metavar="DIR", required=True, default=None):
    """Add ``--out``, the one name of a command's output (folder or file).

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where to add the option.
    help : str
        What is written there.
    metavar : str
        ``DIR`` for a folder, ``FILE`` (or e.g. ``FILE.zip``) for a file.
    required : bool
        Whether the command needs it (no default).
    default : str, optional
        The output when ``--out`` is not given (only with ``required=False``).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_out(parser, "output folder")
    >>> parser.parse_args(["--out", "results/x"]).out
    'results/x'
    """
    parser.add_argument("--out", metavar=metavar, required=required, default=default, help=help)


def add_no_progress(parser, help="no progress bar"):
    """Add ``--no-progress`` (every command that shows progress or trains has it).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_no_progress(parser)
    >>> parser.parse_args(["--no-progress"]).no_progress
    True
    """
    parser.add_argument("--no-progress", action="store_true", help=help)


def add_overwrite(parser, command, where="--out"):
    """Add ``--overwrite``: replace exactly what the previous run of ``command`` wrote.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_overwrite(parser, "l2l drift")
    >>> parser.parse_args([]).overwrite
    False
    """
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"allow a non-empty {where}: first remove what the previous '{command}' wrote there "
        "(listed in l2l_manifest.json); other files are kept",
    )


def add_profile(parser, what):
    """Add ``--profile``: the settings profile of a command that trains (default :data:`DEFAULT_PROFILE`).

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where to add the option.
    what : str
        What the profile sets, the start of the help text (``"training profile"``).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_profile(parser, "training profile")
    >>> parser.parse_args(["--profile", "quick"]).profile
    'quick'
    """
    parser.add_argument(
        "--profile", choices=list(PROFILES), default=DEFAULT_PROFILE, help=f"{what} (default: {DEFAULT_PROFILE})"
    )


def add_dask_options(group, command):
    """Add the options of a sweep run on Dask (``crossval run``, ``validate run``): where, and afresh or resumed.

    ``--workers`` (local one-thread workers), ``--scheduler`` (a running scheduler instead) and
    ``--overwrite`` (start afresh instead of resuming).

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_dask_options(parser, "l2l crossval run")
    >>> parser.parse_args(["--workers", "2"]).workers
    2
    """
    group.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="local one-thread workers (default: one per CPU core, as many as fit in memory)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running Dask scheduler (tcp://host:8786) instead of a local cluster",
    )
    group.add_argument(
        "--overwrite", action="store_true", help=f"start afresh: remove what the previous '{command}' wrote into --out"
    )
