"""The data registry: which files the course knows, with their sha256 and URLs.

A registry is a text file with one ``NAME HASH [URL]`` a line, as
`pooch <https://www.fatiando.org/pooch/>`_ reads it. Registries read, later
ones overriding earlier ones: the package registry
``l2l_helpers/data_registry.txt`` (shipped with the package, read with
:mod:`importlib.resources`, so it is found after a plain ``pip install``),
then the user registry ``registry.txt`` in the cache folder (written by
:func:`register` unless told otherwise, because the installed package may be
read-only), then any registry passed explicitly. The cache folder is
``L2L_DATA_DIR`` (default ``pooch.os_cache("l2l")``), read from the
environment at every call.

:mod:`l2l_helpers.data.datasets` fetches the registered files (and imports
this module's names).

Examples
--------
>>> entry = registry_entries()["label2label-paper"]
>>> entry.known
False
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "UNKNOWN_HASH",
    "DatasetError",
    "RegistryEntry",
    "data_dir",
    "user_registry_path",
    "read_registry",
    "registry_entries",
    "file_sha256",
    "register",
]

#: Hash value marking a registry entry whose file and hash are not known yet.
UNKNOWN_HASH = "unknown"


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
    """All registry entries that :func:`~l2l_helpers.data.datasets.fetch` knows, later ones overriding earlier ones.

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
    >>> "label2label-paper" in registry_entries()
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
        it is already there), so :func:`~l2l_helpers.data.datasets.fetch` finds it without a download.

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
