"""Course data: downloading with pooch, registering files, and turning folders into pairs.

Downloads go through `pooch <https://www.fatiando.org/pooch/>`_: every file is
listed with its sha256 in a registry (``name hash [url]`` a line), checked
after download, unpacked when it is an archive and kept in a cache folder, so
a second :func:`fetch` needs no network.

Where things are (read from the environment at every call, never cached):

``L2L_DATA_DIR``
    the cache folder (default ``pooch.os_cache("l2l")``);
``L2L_DATA_BASE_URL``
    a mirror that serves every registered file as ``BASE_URL/NAME``; it takes
    precedence over the URLs written in the registry.

Registries read, later ones overriding earlier ones: the package registry
``l2l_helpers/data_registry.txt`` (shipped with the package, read with
:mod:`importlib.resources`, so it is found after a plain ``pip install``),
then the user registry ``registry.txt`` in the cache folder (written by
:func:`register` unless told otherwise, because the installed package may be
read-only), then any registry passed explicitly.

The label2label paper's dataset (DOI 10.15129/ee2ff5ad-5bbd-459d-953b-7d45b057fc05)
is listed with the hash ``unknown``: its file names, URLs and hashes were not
available when the registry was written. :func:`fetch` of it raises an error
that explains how to download it by hand and record its hashes with
:func:`register` (``l2l data register``). Once present, its folders become
``input/`` + ``target/`` pair folders with :func:`pairs_by_token` (files told
apart by a label token in their file or folder names) or
:func:`pairs_from_channels` (two-channel stacks split by channel index).
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from l2l_helpers.data import io

__all__ = [
    "PAPER_DATASET",
    "PAPER_DOI",
    "PAPER_DOI_URL",
    "UNKNOWN_HASH",
    "DatasetError",
    "RegistryEntry",
    "PairFolders",
    "data_dir",
    "user_registry_path",
    "read_registry",
    "registry_entries",
    "make_pooch",
    "fetch",
    "committed_result",
    "file_sha256",
    "register",
    "pairs_by_token",
    "pairs_from_channels",
]

#: Registry name of the label2label paper's dataset.
PAPER_DATASET = "label2label-paper"
#: DOI of the paper's dataset (University of Strathclyde KnowledgeBase).
PAPER_DOI = "10.15129/ee2ff5ad-5bbd-459d-953b-7d45b057fc05"
#: Landing page of the paper's dataset.
PAPER_DOI_URL = f"https://doi.org/{PAPER_DOI}"
#: Hash value marking a registry entry whose file and hash are not known yet.
UNKNOWN_HASH = "unknown"

_ZIP_ENDINGS = (".zip",)
_TAR_ENDINGS = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


class DatasetError(ValueError):
    """A dataset that cannot be fetched or registered, with the reason and the way out."""


@dataclass(frozen=True)
class RegistryEntry:
    """One line of a registry.

    Attributes
    ----------
    name : str
        File name in the cache (may contain ``/`` for sub-folders).
    hash : str
        ``"sha256:HEX"``, plain ``HEX`` (sha256) or :data:`UNKNOWN_HASH`.
    url : str or None
        Direct download URL, if the registry gives one.
    source : str
        The registry the entry was read from.
    """

    name: str
    hash: str
    url: str | None
    source: str

    @property
    def known(self):
        """bool: whether the hash is known (the file can be fetched and checked)."""
        return self.hash.lower() != UNKNOWN_HASH


@dataclass
class PairFolders:
    """Pair folders written by :func:`pairs_by_token` or :func:`pairs_from_channels`.

    Attributes
    ----------
    output : Path
        The output folder (holds ``input/``, ``target/`` and ``sources.csv``).
    input_dir, target_dir : Path
        ``output / "input"`` and ``output / "target"``.
    names : list of str
        File names of the pairs (the same in both folders).
    sources : dict
        For each name, the source(s) it came from, as text.
    """

    output: Path
    input_dir: Path
    target_dir: Path
    names: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- locations


def data_dir():
    """Return the data cache folder chosen by the environment.

    Returns
    -------
    Path
        ``L2L_DATA_DIR`` if set (``~`` expanded), else ``pooch.os_cache("l2l")``.
        The folder is not created.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"L2L_DATA_DIR": "/tmp/l2l-data"}):  # restores the environment after
    ...     data_dir()
    PosixPath('/tmp/l2l-data')
    """
    value = os.environ.get("L2L_DATA_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("l2l"))


def user_registry_path():
    """Return the user registry, ``registry.txt`` in the data cache folder.

    Returns
    -------
    Path
        The file (it may not exist yet).

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"L2L_DATA_DIR": "/tmp/l2l-data"}):
    ...     user_registry_path()
    PosixPath('/tmp/l2l-data/registry.txt')
    """
    return data_dir() / "registry.txt"


def _package_registry():
    from importlib import resources

    return resources.files("l2l_helpers").joinpath("data_registry.txt")


def _as_list(registry):
    if registry is None:
        return []
    if isinstance(registry, (str, os.PathLike)):
        return [Path(registry)]
    return [Path(r) for r in registry]


# --------------------------------------------------------------------------- registry


def _parse_registry_lines(lines, source):
    entries = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            parts = shlex.split(text)
        except ValueError as exc:
            raise DatasetError(f"{source}, line {number}: cannot be parsed ({exc}): {text!r}") from exc
        if len(parts) not in (2, 3):
            raise DatasetError(
                f"{source}, line {number}: expected 'NAME HASH [URL]', got {len(parts)} fields: {text!r}"
            )
        entries.append(RegistryEntry(parts[0], parts[1].lower(), parts[2] if len(parts) == 3 else None, source))
    return entries


def read_registry(path):
    """Read the entries of one registry file.

    Parameters
    ----------
    path : str or Path
        The registry file (``name hash [url]`` a line, ``#`` comments).

    Returns
    -------
    list of RegistryEntry
        The entries, in file order.

    Raises
    ------
    DatasetError
        If the file does not exist or a line is malformed (file and line named).

    Examples
    --------
    >>> entries = read_registry("l2l_helpers/data_registry.txt")  # doctest: +SKIP
    >>> entries[0].name  # doctest: +SKIP
    'label2label-paper'
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: registry file does not exist")
    return _parse_registry_lines(path.read_text(encoding="utf-8").splitlines(), str(path))


def registry_entries(registry=None):
    """All registry entries that :func:`fetch` knows, later registries overriding earlier ones.

    Parameters
    ----------
    registry : str or Path or list of them, optional
        Extra registry files, read after the package and user registries.

    Returns
    -------
    dict of str to RegistryEntry
        Entries by name, in the order first seen.

    Examples
    --------
    >>> PAPER_DATASET in registry_entries()
    True
    """
    package = _package_registry()
    entries = _parse_registry_lines(package.read_text(encoding="utf-8").splitlines(), "package registry")
    user = user_registry_path()
    if user.is_file():
        entries += read_registry(user)
    for extra in _as_list(registry):
        entries += read_registry(extra)
    merged = {}
    for entry in entries:
        merged[entry.name] = entry
    return merged


def make_pooch(registry=None):
    """Build the :class:`pooch.Pooch` for the course data from the current environment.

    Called anew by every :func:`fetch`, so changing ``L2L_DATA_DIR`` or
    ``L2L_DATA_BASE_URL`` takes effect at once (no global state).

    Parameters
    ----------
    registry : str or Path or list of them, optional
        Extra registry files, loaded after the package registry and the user
        registry (:func:`user_registry_path`).

    Returns
    -------
    pooch.Pooch
        Cache at :func:`data_dir`; base URL ``L2L_DATA_BASE_URL`` if set (the
        registry's own URLs are then ignored: the mirror serves every file).

    Examples
    --------
    >>> pup = make_pooch()
    >>> PAPER_DATASET in pup.registry
    True
    """
    import pooch

    base_url = os.environ.get("L2L_DATA_BASE_URL", "").strip()
    pup = pooch.create(path=data_dir(), base_url=base_url, registry={})
    with _package_registry().open("r", encoding="utf-8") as fin:
        pup.load_registry(fin)
    user = user_registry_path()
    sources = ([user] if user.is_file() else []) + _as_list(registry)
    for path in sources:
        if not path.is_file():
            raise DatasetError(f"{path}: registry file does not exist")
        pup.load_registry(path)
    if base_url:
        pup.urls.clear()
    return pup


def _processor(name):
    import pooch

    lower = name.lower()
    if lower.endswith(_ZIP_ENDINGS):
        return pooch.Unzip(), ".unzip"
    if lower.endswith(_TAR_ENDINGS):
        return pooch.Untar(), ".untar"
    return None, ""


def _how_to_get(name, entry_url, pup):
    cache = Path(pup.abspath)
    url = entry_url or PAPER_DOI_URL
    return (
        f"'{name}' has no known hash yet (its files, download links and hashes were not available "
        "when the registry was written), so it cannot be downloaded and checked automatically.\n"
        "To use it:\n"
        f"  1. download the data by hand from {url}\n"
        f"  2. put the downloaded file(s) into the data cache folder {cache}\n"
        "     (set L2L_DATA_DIR to use another folder)\n"
        "  3. record their sha256 hashes (and, if you know it, the direct download link):\n"
        f"       l2l data register {cache / 'FILE'} --url DIRECT_DOWNLOAD_URL\n"
        f"     this writes the user registry {cache / 'registry.txt'}; add "
        "--registry l2l_helpers/data_registry.txt in a checkout to update the package registry\n"
        "  4. l2l data fetch FILE  checks the hash and unpacks archives; "
        "l2l data pairs  turns the folders into input/ + target/ pairs"
    )


def fetch(name, registry=None, progressbar=True, timeout=None):
    """Download (or find in the cache), check and unpack one registered file.

    Parameters
    ----------
    name : str
        Registry name of the file.
    registry : str or Path or list of them, optional
        Extra registry files (see :func:`make_pooch`).
    progressbar : bool
        Show a tqdm progress bar while downloading (default True).
    timeout : float, optional
        Seconds to wait for the server (connection and each read) before
        giving up with a :class:`DatasetError`; default pooch's (30 s).

    Returns
    -------
    Path
        The unpacked folder (``NAME.unzip`` / ``NAME.untar`` beside the file in
        the cache) for zip and tar archives, else the file itself.

    Raises
    ------
    DatasetError
        Unknown name; an entry whose hash is not known yet (the message says
        where to download it, where to put it and how to record its hash); no
        URL for the file (or a cached copy that fails the hash check); the
        download failed (the message names the URL); the cache folder cannot
        be written.
    ValueError
        From pooch, when the downloaded file's hash does not match the
        registry (nothing is left in the cache).

    Examples
    --------
    >>> folder = fetch("example.zip")  # doctest: +SKIP
    """
    pup = make_pooch(registry)
    if name not in pup.registry:
        known = ", ".join(sorted(pup.registry)) or "none"
        raise DatasetError(
            f"'{name}' is not in the data registry (known: {known}); "
            "see 'l2l data list', or add it with 'l2l data register'"
        )
    if pup.registry[name].lower() == UNKNOWN_HASH:
        raise DatasetError(_how_to_get(name, pup.urls.get(name), pup))
    url = pup.urls.get(name) or (pup.base_url + name if pup.base_url.strip("/") else None)
    target = Path(pup.abspath) / name
    if url is None and not target.is_file():
        raise DatasetError(
            f"'{name}' has no download URL in the registry and L2L_DATA_BASE_URL is not set; "
            f"put the file at {target} or set L2L_DATA_BASE_URL to a mirror"
        )
    import pooch
    import requests

    if url is None and not pooch.hashes.hash_matches(str(target), pup.registry[name]):
        raise DatasetError(
            f"{target}: does not match the registered hash of '{name}' ({pup.registry[name]}), "
            "and there is no download URL to fetch a good copy; replace the file, or record "
            f"its hash with 'l2l data register {target}' if it is the right one"
        )

    processor, suffix = _processor(name)
    try:
        downloader = None if timeout is None else pooch.HTTPDownloader(progressbar=progressbar, timeout=timeout)
        result = pup.fetch(name, processor=processor, progressbar=progressbar, downloader=downloader)
    except requests.exceptions.RequestException as exc:
        raise DatasetError(
            f"could not download '{name}' from {url}: {exc}\n"
            "Check the network connection, or set L2L_DATA_BASE_URL to a mirror "
            f"(or put the file at {target} by hand)"
        ) from exc
    except OSError as exc:
        raise DatasetError(
            f"cannot store '{name}' in the data cache folder {pup.abspath}: {exc}\n"
            "Set L2L_DATA_DIR to a writable folder"
        ) from exc
    if processor is not None:
        return Path(str(target) + suffix)
    return Path(result)


def committed_result(name, local=None, timeout=10.0):
    """The folder of a result committed with the course (``notebooks/data/NAME``), downloaded where it is missing.

    Notebooks 07 and 09 read finished runs that are committed with the
    course. In a checkout (JupyterLab, Binder, the tests) the folder is there;
    a notebook opened alone (Colab) downloads the files instead, checked
    against the hashes registered as ``course/NAME/FILE`` in the package
    registry (:func:`tools.course_links.registry_block`).

    Parameters
    ----------
    name : str
        The folder's name, e.g. ``"09_validation_workshop"``.
    local : str or Path, optional
        Where the folder lies in a checkout (default ``data/NAME`` from the
        current folder, i.e. from ``notebooks/``).
    timeout : float
        Seconds to wait for the server when downloading.

    Returns
    -------
    Path
        The local folder, or the cache folder holding the downloaded files.

    Raises
    ------
    DatasetError
        Nothing registered under that name, or a download failed (named).

    Examples
    --------
    >>> committed_result("09_validation_workshop", local="notebooks/data/09_validation_workshop").name
    '09_validation_workshop'
    """
    local = Path(local) if local is not None else Path("data") / name
    prefix = f"course/{name}/"
    entries = registry_entries()  # read once
    files = [n for n in entries if n.startswith(prefix)]
    if local.is_dir() and all((local / n[len(prefix) :]).is_file() for n in files):
        return local
    if not files:
        known = sorted({n.split("/")[1] for n in entries if n.startswith("course/")})
        raise DatasetError(
            f"{local}: no such folder, and no committed result '{name}' is registered "
            f"(registered: {', '.join(known) or 'none'})"
        )
    for n in files:
        fetch(n, progressbar=False, timeout=timeout)
    return data_dir() / "course" / name


# --------------------------------------------------------------------------- register


def file_sha256(path):
    """Return the sha256 of a file, as pooch writes it in a registry.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        ``"sha256:"`` followed by 64 hexadecimal digits.

    Raises
    ------
    DatasetError
        If the file does not exist.

    Examples
    --------
    >>> file_sha256("data.zip")  # doctest: +SKIP
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
    """
    import pooch

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file does not exist")
    return "sha256:" + pooch.file_hash(str(path), alg="sha256")


def _files_to_register(paths, url):
    """Yield (path, name, url) for files and folders."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    if not paths:
        raise DatasetError("nothing to register: give a file or a folder")
    single_file = len(paths) == 1 and paths[0].is_file()
    items = []
    for path in paths:
        if path.is_file():
            items.append((path, path.name))
        elif path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not files:
                raise DatasetError(f"{path}: folder holds no files to register")
            items += [(p, p.relative_to(path).as_posix()) for p in files]
        else:
            raise DatasetError(f"{path}: no such file or folder")
    result = []
    for path, name in items:
        if url is None:
            file_url = None
        elif single_file:
            file_url = url
        else:
            file_url = url.rstrip("/") + "/" + name
        result.append((path, name, file_url))
    names = [name for _, name, _ in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DatasetError(f"several files would be registered under the same name: {', '.join(duplicates)}")
    return result


def _format_line(entry):
    fields = [entry.name, entry.hash] + ([entry.url] if entry.url else [])
    return " ".join(shlex.quote(f) for f in fields)


def register(paths, url=None, registry=None, copy_to_cache=False):
    """Record the sha256 (and URL) of downloaded files in a registry.

    Existing lines of the same name are replaced in place; other lines and
    comments are kept. The registry is written atomically.

    Parameters
    ----------
    paths : str or Path or list of them
        Files, or folders whose files (recursively, hidden ones skipped) are
        registered under their path relative to the folder.
    url : str, optional
        For a single file: its direct download URL. For a folder or several
        files: a base URL, each file's URL being ``url/NAME``. Without a URL
        the file is fetched from ``L2L_DATA_BASE_URL`` or found in the cache.
    registry : str or Path, optional
        The registry file to write (created if needed). Default: the user
        registry :func:`user_registry_path` (the installed package may be
        read-only); pass ``l2l_helpers/data_registry.txt`` in a checkout to
        update the package registry.
    copy_to_cache : bool
        Also copy each file into the cache folder under its name (skipped when
        it is already there), so :func:`fetch` finds it without a download.

    Returns
    -------
    list of RegistryEntry
        The entries written.

    Raises
    ------
    DatasetError
        Missing files or folders, empty folders, names that collide.
    FileExistsError
        If ``copy_to_cache`` would replace a different file in the cache.

    Examples
    --------
    >>> register("~/Downloads/l2l_data.zip", url="https://example.org/l2l_data.zip")  # doctest: +SKIP
    [RegistryEntry(name='l2l_data.zip', hash='sha256:...', url='https://example.org/l2l_data.zip', ...)]
    """
    target = Path(registry) if registry is not None else user_registry_path()
    items = _files_to_register(paths, url)
    new = [RegistryEntry(name, file_sha256(path), file_url, str(target)) for path, name, file_url in items]
    if copy_to_cache:
        cache = data_dir()
        for (path, name, _), entry in zip(items, new):
            dest = cache / PurePosixPath(name)
            if dest.exists():
                if dest.resolve() == path.resolve() or file_sha256(dest) == entry.hash:
                    continue
                raise FileExistsError(
                    f"{dest}: a different file of this name is already in the cache; "
                    "remove it first or register under another name"
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    lines = (
        target.read_text(encoding="utf-8").splitlines()
        if target.is_file()
        else ["# l2l data registry (NAME HASH [URL] a line), written by 'l2l data register'"]
    )
    by_name = {e.name: e for e in new}
    written = set()
    out = []
    for line in lines:
        parsed = _parse_registry_lines([line], str(target))
        if parsed and parsed[0].name in by_name:
            name = parsed[0].name
            if name not in written:
                out.append(_format_line(by_name[name]))
                written.add(name)
            continue
        out.append(line)
    out += [_format_line(e) for e in new if e.name not in written]
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise DatasetError(
            f"{target}: cannot write the registry ({exc}); the installed package may be "
            "read-only: leave out --registry to write the user registry, or name another file"
        ) from exc
    return new


# --------------------------------------------------------------------------- pairs


def _find_tiffs(root):
    root = Path(root)
    if not root.exists():
        raise io.ImageError(f"{root}: folder does not exist")
    if not root.is_dir():
        raise io.ImageError(f"{root}: not a folder")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix.lower() in io.IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not files:
        raise io.ImageError(f"{root}: no TIFF images (*.tif, *.tiff) in this folder or below it")
    return files


def _pair_name(rel_parts):
    parts = [re.sub(r"[_\-. ]{2,}", "_", p).strip("_-. ") for p in rel_parts]
    parts = [p for p in parts if p]
    stem = "_".join(parts) or "image"
    return stem + ".tif"


#: What the pair writers own in their output folder (see :func:`l2l_helpers.data.io.open_output`).
_PAIRS_OWNED = ("input", "target", "sources.csv")


def _check_pairs_output(output, inputs, overwrite):
    """Fail before reading any image if the output folder cannot be written."""
    io.check_output(output, "pairs", overwrite=overwrite, inputs=inputs, owned=_PAIRS_OWNED)


def _write_pairs(output, pairs, inputs, overwrite):
    """pairs: list of (name, input_image, target_image, source_text)."""
    with io.open_output(output, "pairs", overwrite=overwrite, inputs=inputs, owned=_PAIRS_OWNED) as out:
        result = PairFolders(out.path, out.path / "input", out.path / "target")
        for name, img_in, img_target, _ in pairs:
            out.write_image(f"input/{name}", img_in)
            out.write_image(f"target/{name}", img_target)
        with open(out.path_for("sources.csv"), "w", newline="", encoding="utf-8") as fout:
            writer = csv.writer(fout)
            writer.writerow(["name", "input", "target"])
            for name, _, _, (src_in, src_target) in pairs:
                writer.writerow([name, src_in, src_target])
                result.names.append(name)
                result.sources[name] = (src_in, src_target)
        out.close(n=len(pairs), sources=[str(f) for f in inputs])
    return result


def pairs_by_token(source, output, input_token, target_token, overwrite=False):
    """Pair the TIFFs of a folder tree by a label token in their file or folder names.

    A file whose path below ``source`` contains ``input_token`` (matched
    without regard to case) is an input; its target is the file whose path
    is the same with ``target_token`` in that place. For example, with
    ``input_token="AC15"`` and ``target_token="phalloidin"``,
    ``exp1/AC15/cell01.tif`` pairs with ``exp1/phalloidin/cell01.tif`` and
    ``cell01_AC15.tif`` with ``cell01_phalloidin.tif``. Files holding neither
    token are ignored. Pairs are written as ``output/input/NAME.tif`` and
    ``output/target/NAME.tif`` (float32, the layout ``l2l simulate`` writes),
    ``NAME`` being the path without the token; ``output/sources.csv`` lists
    where each pair came from. Nothing is written into ``source``.

    Parameters
    ----------
    source : str or Path
        Root of the folder tree (searched recursively; hidden files skipped).
    output : str or Path
        New output folder (see :func:`l2l_helpers.data.io.prepare_output_dir`);
        it may not lie inside ``source``.
    input_token, target_token : str
        Label names as they appear in the paths, e.g. ``"AC15"``, ``"phalloidin"``.
    overwrite : bool
        Allow a non-empty output folder: the files of the previous run into
        it (listed in its ``l2l_manifest.json``) are removed first, so two
        runs never mix; nothing else is deleted.

    Returns
    -------
    PairFolders
        Output folders, pair names and their sources.

    Raises
    ------
    ImageError
        Missing or empty source, inputs without target or targets without
        input (listed), paths holding both tokens, names that collide, or an
        image that fails :func:`l2l_helpers.data.io.read_image` or differs in
        shape from its partner (file named).
    ValueError
        Empty or equal tokens, or an output folder inside ``source``.
    FileExistsError
        A non-empty output folder without ``overwrite``; or, with
        ``overwrite``, a file in ``input/``, ``target/`` or ``sources.csv``
        that the previous run did not write (named; nothing is deleted or
        written), or a folder written by another command.

    Examples
    --------
    >>> pairs = pairs_by_token("downloads/l2l", "data/actin_pairs",
    ...                        input_token="AC15", target_token="phalloidin")  # doctest: +SKIP
    >>> names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)  # doctest: +SKIP
    """
    if not input_token or not target_token:
        raise ValueError("input_token and target_token must both be non-empty")
    if input_token.lower() == target_token.lower():
        raise ValueError(f"input_token and target_token are the same ({input_token!r})")
    source = Path(source)
    in_re = re.compile(re.escape(input_token), re.IGNORECASE)
    target_re = re.compile(re.escape(target_token), re.IGNORECASE)
    marker = "\x00"
    inputs, targets, problems = {}, {}, []
    for path in _find_tiffs(source):
        rel = path.relative_to(source).as_posix()
        has_in, has_target = bool(in_re.search(rel)), bool(target_re.search(rel))
        if has_in and has_target:
            problems.append(
                f"{path}: holds both tokens {input_token!r} and {target_token!r}; cannot tell input from target"
            )
        elif has_in:
            inputs[in_re.sub(marker, rel)] = path
        elif has_target:
            targets[target_re.sub(marker, rel)] = path
    if not inputs and not targets and not problems:
        raise io.ImageError(f"{source}: no TIFF path contains {input_token!r} or {target_token!r}")
    for key in sorted(set(inputs) - set(targets)):
        problems.append(f"{inputs[key]}: input without target (expected {source / key.replace(marker, target_token)})")
    for key in sorted(set(targets) - set(inputs)):
        problems.append(f"{targets[key]}: target without input (expected {source / key.replace(marker, input_token)})")
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise io.ImageError("cannot pair files by label token:\n  " + "\n  ".join(shown))
    _check_pairs_output(output, [source], overwrite)
    from l2l_helpers.course.progress import progress as tqdm

    pairs, seen = [], {}
    for key in tqdm(sorted(inputs), desc="reading pairs", unit="pair", disable=None):
        stem = PurePosixPath(key).with_suffix("").as_posix().replace(marker, "")
        name = _pair_name(stem.split("/"))
        if name in seen:
            raise io.ImageError(f"{inputs[key]} and {seen[name]}: both would be written as {name}; rename one")
        seen[name] = inputs[key]
        img_in = io.read_image(inputs[key])
        img_target = io.read_image(targets[key])
        if img_in.shape != img_target.shape:
            raise io.ImageError(
                f"{inputs[key]} {img_in.shape} and {targets[key]} {img_target.shape}: "
                "images of one pair differ in shape"
            )
        pairs.append((name, img_in, img_target, (str(inputs[key]), str(targets[key]))))
    return _write_pairs(output, pairs, [source], overwrite)


def _channel_axis(shape, channel_axis, path):
    if channel_axis is not None:
        if not -len(shape) <= channel_axis < len(shape):
            raise io.ImageError(f"{path}: channel_axis {channel_axis} does not exist in shape {shape}")
        return channel_axis % len(shape)
    small = [ax for ax in (len(shape) - 1, 0) if shape[ax] <= 8]
    if not small:
        raise io.ImageError(
            f"{path}: cannot tell which axis of shape {shape} holds the channels "
            "(neither the first nor the last has at most 8 entries); give channel_axis"
        )
    return small[0]


def pairs_from_channels(source, output, input_channel, target_channel, channel_axis=None, overwrite=False):
    """Split multi-channel TIFF stacks into input and target pair folders.

    Parameters
    ----------
    source : str or Path
        One multi-channel TIFF, or a folder of them (not recursive).
    output : str or Path
        New output folder (see :func:`l2l_helpers.data.io.prepare_output_dir`);
        it may not lie inside the source folder.
    input_channel, target_channel : int
        Channel indices (negative counts from the end) of the input label and
        the target label.
    channel_axis : int, optional
        Axis holding the channels. Default: the last axis if it has at most 8
        entries (``Y, X, C`` as in ``hela-cells.tif``), else the first (``C, Y, X``
        as ImageJ writes).
    overwrite : bool
        Allow a non-empty output folder: the files of the previous run into
        it (listed in its ``l2l_manifest.json``) are removed first, so two
        runs never mix; nothing else is deleted.

    Returns
    -------
    PairFolders
        Output folders (``input/``, ``target/``: one float32 2-D TIFF per stack,
        named like the stack), pair names and their sources.

    Raises
    ------
    ImageError
        Missing source, a stack that is not 3-D, a channel index out of range,
        a channel that fails :func:`l2l_helpers.data.io.check_image` (constant, NaN)
        - always naming the file.
    ValueError
        The same channel for input and target, or an output inside the source.
    FileExistsError
        A non-empty output folder without ``overwrite``; or, with
        ``overwrite``, a file in ``input/``, ``target/`` or ``sources.csv``
        that the previous run did not write (named; nothing is deleted or
        written), or a folder written by another command.

    Examples
    --------
    >>> pairs = pairs_from_channels("hela-cells.tif", "data/hela_pairs",
    ...                             input_channel=1, target_channel=0)  # doctest: +SKIP
    >>> names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)  # doctest: +SKIP
    """
    source = Path(source)
    if not source.exists():
        raise io.ImageError(f"{source}: file or folder does not exist")
    files = io.list_images(source) if source.is_dir() else [source]
    folder = source if source.is_dir() else source.parent
    from l2l_helpers.course.progress import progress as tqdm

    pairs = []
    for path in tqdm(files, desc="splitting stacks", unit="stack", disable=None):
        stack = io.read_image(path, ndim=3)
        axis = _channel_axis(stack.shape, channel_axis, path)
        n = stack.shape[axis]
        picked = []
        for label, index in (("input_channel", input_channel), ("target_channel", target_channel)):
            if not -n <= int(index) < n:
                raise io.ImageError(
                    f"{path}: {label} {index} out of range; shape {stack.shape} has {n} channels on axis {axis}"
                )
            picked.append(int(index) % n)
        if picked[0] == picked[1]:
            raise ValueError(f"input_channel and target_channel are the same channel ({picked[0]})")
        images = [io.check_image(np.take(stack, k, axis=axis), name=f"{path} channel {k}") for k in picked]
        name = path.stem + ".tif"
        pairs.append((name, images[0], images[1], (f"{path} channel {picked[0]}", f"{path} channel {picked[1]}")))
    return _write_pairs(output, pairs, [folder], overwrite)
