"""Course data: downloading with pooch, registering files, and committed results.

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
:func:`pairs_from_channels` (two-channel stacks split by channel index), which
live in :mod:`l2l_helpers.data.pair_folders` and are imported here.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from l2l_helpers.data.pair_folders import PairFolders, pairs_by_token, pairs_from_channels

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
        _copy_to_cache(items, new)
    _write_registry(target, new)
    return new


def _copy_to_cache(items, entries):
    """Copy each registered file into the cache under its name (skipped when it is already there)."""
    cache = data_dir()
    for (path, name, _), entry in zip(items, entries):
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


def _write_registry(target, entries):
    """Replace the lines of the entries' names in place (others added at the end), atomically."""
    lines = (
        target.read_text(encoding="utf-8").splitlines()
        if target.is_file()
        else ["# l2l data registry (NAME HASH [URL] a line), written by 'l2l data register'"]
    )
    by_name = {e.name: e for e in entries}
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
    out += [_format_line(e) for e in entries if e.name not in written]
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
