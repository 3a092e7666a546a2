"""The ``l2l`` command.

Each module in this sub-package adds one or more subcommands: it defines
``ORDER`` (position in ``l2l --help``) and ``register(subparsers)``, which
adds its parsers and sets ``func`` to the function that runs the command.
Modules import heavy libraries (TensorFlow) only inside those functions, so
``l2l --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from l2l_helpers.data.io import ImageError

__all__ = ["build_parser", "main"]


def _command_modules():
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser():
    """Build the argument parser of the ``l2l`` command with all subcommands."""
    from l2l_helpers import __version__

    parser = argparse.ArgumentParser(
        prog="l2l",
        description=(
            "label2label (L2L) course tools: simulate dual-labelled cells, analyse contrast, "
            "correct drift, train and apply CARE networks, evaluate restorations, run the course."
        ),
        epilog="Run 'l2l COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def main(argv=None):
    """Run the ``l2l`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        result = args.func(args)
    except (ImageError, OSError, ValueError) as exc:  # user errors: bad input, files, folders
        print(f"l2l {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"l2l {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
