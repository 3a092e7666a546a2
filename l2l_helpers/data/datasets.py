"""Course data: downloading registered files with pooch, and the course's committed results.

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
read-only), then any registry passed explicitly. Reading and writing
registries lives in :mod:`l2l_helpers.data.registry`, whose names are
imported here.

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
from pathlib import Path

from l2l_helpers.data.pair_folders import PairFolders, pairs_by_token, pairs_from_channels
from l2l_helpers.data.registry import (
    UNKNOWN_HASH,
    DatasetError,
    RegistryEntry,
    _as_list,
    _package_registry,
    data_dir,
    file_sha256,
    read_registry,
    register,
    registry_entries,
    user_registry_path,
)

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

_ZIP_ENDINGS = (".zip",)
_TAR_ENDINGS = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


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
