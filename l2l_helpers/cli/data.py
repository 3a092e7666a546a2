"""``l2l data``: list, fetch and register course data; turn downloaded folders into pairs.

Examples::

    l2l data list
    l2l data fetch example.zip
    l2l data register ~/Downloads/l2l_data.zip --url https://example.org/l2l_data.zip
    l2l data pairs ~/Downloads/l2l_data --out data/actin --input-token AC15 --target-token phalloidin
    l2l data pairs hela-cells.tif --out data/hela --input-channel 1 --target-channel 0
"""

from __future__ import annotations

from l2l_helpers.cli._options import add_no_progress, add_out, add_overwrite

ORDER = 15

_EXTRA_REGISTRY = "extra registry file to read (may be repeated)"


def register(subparsers):
    """Add the ``data`` command group (list, fetch, register, pairs) to the ``l2l`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-command parsers of ``l2l``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="l2l")
    >>> register(parser.add_subparsers(dest="command"))
    >>> parser.parse_args(["data", "pairs", "downloads", "--out", "data/x", "--input-channel", "1"]).out
    'data/x'
    """
    parser = subparsers.add_parser(
        "data",
        help="list, fetch and register course data; make input/target pairs from downloaded data",
        description=(
            "Course data are downloaded with pooch, checked against the sha256 in the data registry "
            "and cached (L2L_DATA_DIR moves the cache, L2L_DATA_BASE_URL names a mirror). "
            "'register' records the hashes of files you downloaded yourself; 'pairs' turns folders "
            "or multi-channel stacks into input/ + target/ pair folders."
        ),
    )
    parser.set_defaults(func=lambda args: (parser.print_help(), 1)[1])
    sub = parser.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    _add_list(sub)
    _add_fetch(sub)
    _add_register(sub)
    _add_pairs(sub)


def _add_list(sub):
    p = sub.add_parser(
        "list",
        help="show the registered files, the cache folder and the registries read",
        description="Show every registry entry (name, whether its hash is known, whether it "
        "is in the cache, its URL), the cache folder and the registries read.",
    )
    p.add_argument("--registry", action="append", metavar="PATH", help=_EXTRA_REGISTRY)
    p.set_defaults(func=run_list)


def _add_fetch(sub):
    p = sub.add_parser(
        "fetch",
        help="download (or find in the cache), check and unpack registered files",
        description="Download a registered file (unless it is already in the cache), check "
        "its sha256 and unpack zip/tar archives; prints the resulting path.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="registry name(s), see 'l2l data list'")
    p.add_argument("--registry", action="append", metavar="PATH", help=_EXTRA_REGISTRY)
    add_no_progress(p)
    p.set_defaults(func=run_fetch)


def _add_register(sub):
    p = sub.add_parser(
        "register",
        help="record the sha256 (and URL) of downloaded files in a registry",
        description="Compute the sha256 of files (or of every file in folders) and write "
        "'NAME HASH [URL]' lines into a registry, replacing lines of the same "
        "name. Default registry: registry.txt in the cache folder.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="downloaded file(s) or folder(s)")
    p.add_argument(
        "--url", help="direct download URL of a single file, or base URL of a folder's files (each file at URL/NAME)"
    )
    p.add_argument(
        "--registry",
        metavar="PATH",
        help="registry file to write (e.g. l2l_helpers/data_registry.txt in a checkout); "
        "default: the user registry in the cache folder",
    )
    p.add_argument(
        "--copy-to-cache",
        action="store_true",
        help="also copy the files into the cache folder, so 'fetch' finds them offline",
    )
    p.set_defaults(func=run_register)


def _add_pairs(sub):
    p = sub.add_parser(
        "pairs",
        help="write input/ + target/ pair folders from a folder tree or channel stacks",
        description="Map downloaded data onto input/target pairs written as float32 TIFFs "
        "into OUT/input and OUT/target (the layout 'l2l simulate' writes), "
        "either by a label token in file or folder names (--input-token, "
        "--target-token) or by splitting multi-channel stacks (--input-channel, "
        "--target-channel). The source is never written to.",
    )
    p.add_argument("source", metavar="SOURCE", help="folder tree (tokens), or a stack / folder of stacks (channels)")
    add_out(p, "new output folder")
    p.add_argument("--input-token", help="label name marking input files, e.g. AC15")
    p.add_argument("--target-token", help="label name marking target files, e.g. phalloidin")
    p.add_argument("--input-channel", type=int, help="channel index of the input label")
    p.add_argument("--target-channel", type=int, help="channel index of the target label")
    p.add_argument("--channel-axis", type=int, help="axis holding the channels (default: guessed)")
    add_overwrite(p, "l2l data pairs")
    add_no_progress(p)
    p.set_defaults(func=run_pairs)


def run_list(args):
    """Print the registry entries and where data are cached."""
    from l2l_helpers.data import datasets

    cache = datasets.data_dir()
    entries = datasets.registry_entries(args.registry)
    print(f"cache folder: {cache}  (L2L_DATA_DIR)")
    user = datasets.user_registry_path()
    print(
        f"registries:   package registry, {user}{'' if user.is_file() else ' (not created yet)'}"
        + "".join(f", {r}" for r in args.registry or [])
    )
    print()
    width = max([len(n) for n in entries] + [4])
    print(f"{'name':<{width}}  {'hash':<7}  {'cached':<6}  url")
    for name, entry in entries.items():
        cached = "yes" if (cache / name).is_file() else "no"
        print(f"{name:<{width}}  {'known' if entry.known else 'unknown':<7}  {cached:<6}  {entry.url or '-'}")
    return 0


def run_fetch(args):
    """Fetch every named file and print its path."""
    from l2l_helpers.data import datasets

    for name in args.names:
        path = datasets.fetch(name, registry=args.registry, progressbar=not args.no_progress)
        print(path)
    return 0


def run_register(args):
    """Register files and print the lines written."""
    from l2l_helpers.data import datasets

    entries = datasets.register(args.paths, url=args.url, registry=args.registry, copy_to_cache=args.copy_to_cache)
    target = args.registry or datasets.user_registry_path()
    for entry in entries:
        print(f"{entry.name} {entry.hash}" + (f" {entry.url}" if entry.url else ""))
    print(f"wrote {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} to {target}")
    if args.copy_to_cache:
        print(f"copied into the cache folder {datasets.data_dir()}")
    return 0


def run_pairs(args):
    """Write pair folders by token or by channel."""
    from l2l_helpers.data import datasets

    tokens = (args.input_token, args.target_token)
    channels = (args.input_channel, args.target_channel)
    use_tokens = any(t is not None for t in tokens)
    use_channels = any(c is not None for c in channels)
    if use_tokens == use_channels:
        raise ValueError("give either --input-token and --target-token, or --input-channel and --target-channel")
    if use_tokens:
        if None in tokens:
            raise ValueError("give both --input-token and --target-token")
        result = datasets.pairs_by_token(
            args.source,
            args.out,
            args.input_token,
            args.target_token,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    else:
        if None in channels:
            raise ValueError("give both --input-channel and --target-channel")
        result = datasets.pairs_from_channels(
            args.source,
            args.out,
            args.input_channel,
            args.target_channel,
            channel_axis=args.channel_axis,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    print(
        f"wrote {len(result.names)} pair{'' if len(result.names) == 1 else 's'} "
        f"to {result.input_dir} and {result.target_dir} "
        f"(sources listed in {result.output / 'sources.csv'})"
    )
    return 0


__all__ = ["ORDER", "register", "run_list", "run_fetch", "run_register", "run_pairs"]
