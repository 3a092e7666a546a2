"""Output folders that a command owns: no raw data overwritten, no two runs mixed.

Commands write their results through :func:`open_output`, which records
what each run wrote (``l2l_manifest.json``), so that a run with
``overwrite`` replaces exactly the previous run's files and never mixes two
runs or deletes anything else. An output folder may be neither an input
folder nor inside one.

Examples
--------
>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> with open_output(root / "out", "demo", owned=["tables"]) as out:
...     _ = out.write_json("tables/n.json", {"n": 1})
>>> sorted(p.name for p in (root / "out").iterdir())
['l2l_manifest.json', 'tables']
"""

from __future__ import annotations

from pathlib import Path, PurePath, PurePosixPath

__all__ = [
    "prepare_output_dir",
    "MANIFEST",
    "OutputFolder",
    "open_output",
    "check_output",
]


def prepare_output_dir(path, overwrite=False, inputs=()):
    """Create a folder for results, refusing to clobber data.

    Parameters
    ----------
    path : str or Path
        The output folder.
    overwrite : bool
        Allow a folder that already holds files (files written later may
        replace files of the same name). Default False.
    inputs : sequence of str or Path
        Input folders: the output may be neither one of them nor inside one,
        whatever ``overwrite`` says, so raw data are never overwritten.

    Returns
    -------
    Path
        The folder, created if needed.

    Raises
    ------
    FileExistsError
        If the folder holds files and ``overwrite`` is False.
    ValueError
        If the folder is, or lies inside, an input folder.

    Examples
    --------
    >>> out = prepare_output_dir("results/drift", inputs=["data/input"])  # doctest: +SKIP
    """
    path = Path(path)
    _check_not_inside_inputs(path, inputs)
    if path.exists():
        if not path.is_dir():
            raise FileExistsError(f"{path}: exists and is not a folder")
        if any(path.iterdir()) and not overwrite:
            raise FileExistsError(f"{path}: folder is not empty (use overwrite / --overwrite to write into it)")
    path.mkdir(parents=True, exist_ok=True)
    return path


#: Name of the file in which a command records what it wrote into its output folder.
MANIFEST = "l2l_manifest.json"


def _check_not_inside_inputs(path, inputs):
    resolved = Path(path).resolve()
    for folder in inputs:
        src = Path(folder).resolve()
        if resolved == src or src in resolved.parents:
            raise ValueError(
                f"{path}: output folder is (inside) the input folder {folder}; "
                "choose another folder so raw data are never overwritten"
            )


def _is_hidden(rel):
    return any(part.startswith(".") for part in PurePosixPath(rel).parts)


def _safe_relpath(relpath, what):
    """Normalise a relative path to posix; refuse absolute paths and ``..``."""
    text = relpath.as_posix() if isinstance(relpath, PurePath) else str(relpath)
    text = text.replace("\\", "/")
    rel = PurePosixPath(text)
    if rel.is_absolute() or text.startswith("/") or ".." in rel.parts or (rel.parts and ":" in rel.parts[0]):
        raise ValueError(
            f"{what}: {relpath!r} is not a path inside the output folder (absolute paths and '..' are not allowed)"
        )
    parts = [p for p in rel.parts if p != "."]
    if not parts:
        raise ValueError(f"{what}: {relpath!r} names the output folder itself, not a file in it")
    return "/".join(parts)


def _inside(child, parent):
    return child == parent or parent in child.parents


def _read_manifest(path):
    """Read a manifest; return None when there is none."""
    import json

    manifest = Path(path) / MANIFEST
    if not manifest.exists():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{manifest}: cannot be read as a manifest ({type(exc).__name__}: {exc}); "
            "remove or move the folder, or this file, to write here"
        ) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("command"), str)
        or not isinstance(data.get("files"), list)
        or not all(isinstance(f, str) for f in data["files"])
    ):
        raise ValueError(
            f"{manifest}: not a manifest of l2l (expected 'command' and a list of 'files'); "
            "remove or move the folder, or this file, to write here"
        )
    return data


def _files_below(root, top):
    """Relative posix names of the non-hidden files in ``root / top`` (recursive), sorted."""
    base = root / top
    if base.is_file() or base.is_symlink() and not base.is_dir():
        return [] if _is_hidden(top) else [PurePosixPath(top).as_posix()]
    if not base.is_dir():
        return []
    found = []
    for p in sorted(base.rglob("*")):
        if p.is_dir() and not p.is_symlink():
            continue
        rel = p.relative_to(root).as_posix()
        if rel == MANIFEST or _is_hidden(rel):
            continue
        found.append(rel)
    return found


class OutputFolder:
    """An output folder owned by one command, recording every file it writes.

    Made by :func:`open_output`; use it as a context manager. Every file is
    written through :meth:`path_for` (or :meth:`write_image`,
    :meth:`write_json`), which records it; :meth:`close` writes the record,
    the manifest ``l2l_manifest.json``: ``{"command": ..., "files": [...],
    "info": {...}, "complete": ...}``. The manifest is also kept up to date
    while the command runs, so that files of an interrupted run are known
    to the next ``overwrite`` run, which then removes them.

    Attributes
    ----------
    path : Path
        The folder.
    command : str
        The command that owns it (``"simulate"``, ``"drift"``, ...).
    files : list of str
        Relative posix names of the files recorded so far, in the order
        they were registered.
    closed : bool
        Whether :meth:`close` has run.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> with open_output(root / "out", "demo", owned=["images"]) as out:
    ...     _ = out.write_image("images/a.tif", np.eye(4))
    ...     _ = out.write_json("info.json", {"n": 1})
    >>> sorted(p.name for p in (root / "out").iterdir())
    ['images', 'info.json', 'l2l_manifest.json']
    """

    def __init__(self, path, command):
        self.path = Path(path)
        self.command = command
        self.files = []
        self._registered = set()
        self.closed = False
        self._info = {}
        # files present when the run starts (never ours): record_new_files skips them
        self._present = set(_files_below(self.path, ".")) if self.path.is_dir() else set()

    def __repr__(self):
        state = "closed" if self.closed else "open"
        return f"OutputFolder({str(self.path)!r}, command={self.command!r}, {len(self.files)} files, {state})"

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.closed:
            # after an exception too: what was written stays recorded (marked incomplete)
            self._write_manifest(complete=exc_type is None)
            self.closed = True
        return False

    @property
    def manifest_path(self):
        """Path of the manifest file."""
        return self.path / MANIFEST

    def _write_manifest(self, complete):
        import json
        import os

        data = {"command": self.command, "files": sorted(self.files), "info": self._info, "complete": complete}
        tmp = self.path / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.manifest_path)
        return self.manifest_path

    def path_for(self, relpath):
        """Record a file as written by this run and return where to write it.

        Parameters
        ----------
        relpath : str or PurePath
            Path of the file relative to the folder (``"input/cell_000.tif"``).

        Returns
        -------
        Path
            The absolute path to write to; its parent folders exist.

        Raises
        ------
        ValueError
            An absolute path, a path with ``..``, the manifest itself, or a
            folder that is closed.
        FileExistsError
            A file of that name exists that this command did not write (it
            is never replaced).

        Examples
        --------
        >>> import tempfile
        >>> out = open_output(Path(tempfile.mkdtemp()) / "out", "demo")
        >>> out.path_for("a/b.csv").relative_to(out.path).as_posix()
        'a/b.csv'
        >>> out.files
        ['a/b.csv']
        """
        if self.closed:
            raise ValueError(f"{self.path}: output folder is closed; nothing more can be written into it")
        rel = _safe_relpath(relpath, str(self.path))
        if rel == MANIFEST:
            raise ValueError(f"{self.path / rel}: is the manifest of the folder, not a file to write")
        target = self.path / rel
        if not _inside(target.parent.resolve(), self.path.resolve()):
            raise ValueError(f"{target}: lies outside the output folder {self.path} (through a link)")
        if rel not in self._registered:
            if target.exists() or target.is_symlink():
                raise FileExistsError(
                    f"{target}: already exists and was not written by the previous "
                    f"'{self.command}' run; it is never replaced: remove or move it"
                )
            self._registered.add(rel)
            self.files.append(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write_manifest(complete=False)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def record_new_files(self, under="."):
        """Record the files that another library wrote into the folder during this run.

        For writers that choose their own file names (CSBDeep writes
        ``config.json``, weights and TensorBoard logs into a model folder):
        every non-hidden file below ``under`` that was not there when the
        folder was opened is recorded as written by this run.

        Parameters
        ----------
        under : str
            Sub-folder to search (relative; default the whole folder).

        Returns
        -------
        list of str
            The newly recorded relative names, sorted.

        Examples
        --------
        >>> import tempfile
        >>> out = open_output(Path(tempfile.mkdtemp()) / "model", "demo")
        >>> _ = (out.path / "weights.h5").write_bytes(b"...")  # written by another library
        >>> out.record_new_files()
        ['weights.h5']
        """
        if self.closed:
            raise ValueError(f"{self.path}: output folder is closed; nothing more can be recorded")
        top = "." if not PurePosixPath(str(under).replace("\\", "/")).parts else _safe_relpath(under, str(self.path))
        new = [rel for rel in _files_below(self.path, top) if rel not in self._present and rel not in self._registered]
        for rel in new:
            self._registered.add(rel)
            self.files.append(rel)
        if new:
            self._write_manifest(complete=False)
        return sorted(new)

    def write_image(self, relpath, image):
        """Write an image (float32 TIFF, see :func:`l2l_helpers.data.io.write_image`) and record it.

        Parameters
        ----------
        relpath : str or PurePath
            Path of the file relative to the folder.
        image : array_like
            The image.

        Returns
        -------
        Path
            The path written.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> out = open_output(Path(tempfile.mkdtemp()) / "out", "demo")
        >>> out.write_image("x.tif", np.eye(4)).name
        'x.tif'
        """
        from l2l_helpers.data.io import write_image  # io imports this module: import at call time

        return write_image(self.path_for(relpath), image, overwrite=True)

    def write_json(self, relpath, data):
        """Write ``data`` as indented JSON and record the file.

        Parameters
        ----------
        relpath : str or PurePath
            Path of the file relative to the folder.
        data : object
            Anything :func:`json.dumps` accepts.

        Returns
        -------
        Path
            The path written.

        Examples
        --------
        >>> import tempfile
        >>> out = open_output(Path(tempfile.mkdtemp()) / "out", "demo")
        >>> out.write_json("meta.json", {"n": 2}).read_text()
        '{\\n  "n": 2\\n}\\n'
        """
        import json

        path = self.path_for(relpath)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path

    def close(self, **info):
        """Write the manifest; later calls do nothing.

        Parameters
        ----------
        **info
            JSON-serialisable facts about the run, stored under ``"info"``.

        Returns
        -------
        Path
            The manifest path.

        Examples
        --------
        >>> import json, tempfile
        >>> out = open_output(Path(tempfile.mkdtemp()) / "out", "demo")
        >>> _ = out.write_json("a.json", [])
        >>> manifest = out.close(n=1)
        >>> json.loads(manifest.read_text())["files"]
        ['a.json']
        """
        if not self.closed:
            self._info = dict(info)
            self._write_manifest(complete=True)
            self.closed = True
        return self.manifest_path


def open_output(path, command, overwrite=False, inputs=(), owned=()):
    """Open an output folder that a command owns, removing its previous run's files.

    A command records what it writes into its output folder (the manifest
    ``l2l_manifest.json``, see :class:`OutputFolder`). With ``overwrite``, a
    new run first removes exactly the files its previous run recorded, so
    that results of two runs never mix; it never deletes anything else.

    Parameters
    ----------
    path : str or Path
        The output folder; created if needed.
    command : str
        Name of the command (``"simulate"``, ``"drift"``, ``"restore"``, ...):
        a folder written by another command is never overwritten.
    overwrite : bool
        Allow a folder that already holds files. Default False.
    inputs : sequence of str or Path
        Input folders: the output may be neither one of them nor inside one,
        and no input may lie in a part of the output that this run removes.
    owned : sequence of str
        Sub-folders (or files), relative to ``path``, that belong to the
        command: every file in them must have been written by its previous
        run. ``"."`` owns the whole folder (model folders, restored images).
        Hidden files (names starting with ``.``) are ignored.

    Returns
    -------
    OutputFolder
        The open folder; write through it and close it (or use ``with``).

    Raises
    ------
    ValueError
        The folder is (inside) an input folder or holds one in a part this
        run removes; an owned path leaves the folder; an unreadable
        manifest.
    FileExistsError
        ``path`` is a file; the folder is not empty and ``overwrite`` is
        False; the folder was written by another command; or, with
        ``overwrite``, a file in an owned sub-folder was not written by the
        previous run (the message names it; nothing has been deleted).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> root = Path(tempfile.mkdtemp())
    >>> with open_output(root / "out", "demo", owned=["images"]) as out:
    ...     for k in range(4):
    ...         _ = out.write_image(f"images/{k}.tif", np.eye(4))
    >>> with open_output(root / "out", "demo", overwrite=True, owned=["images"]) as out:
    ...     _ = out.write_image("images/0.tif", np.eye(4))
    >>> sorted(p.name for p in (root / "out" / "images").iterdir())
    ['0.tif']
    """
    path = Path(path)
    _delete_previous_run(path, _check_output(path, command, overwrite, inputs, owned))
    path.mkdir(parents=True, exist_ok=True)
    return OutputFolder(path, command)


def check_output(path, command, overwrite=False, inputs=(), owned=()):
    """Check, without changing anything, that :func:`open_output` would accept a folder.

    Call it before long work (a simulation, a training) so that a folder
    that cannot be written stops the command at once.

    Parameters
    ----------
    path, command, overwrite, inputs, owned
        As for :func:`open_output`.

    Returns
    -------
    list of str
        The files of the previous run that :func:`open_output` would remove.

    Raises
    ------
    ValueError, FileExistsError
        As :func:`open_output`.

    Examples
    --------
    >>> import tempfile
    >>> check_output(Path(tempfile.mkdtemp()) / "new", "demo")
    []
    """
    return _check_output(Path(path), command, overwrite, inputs, owned)


def _check_output(path, command, overwrite, inputs, owned):
    _check_not_inside_inputs(path, inputs)
    owned = [
        PurePosixPath(".")
        if not PurePosixPath(str(o).replace("\\", "/")).parts
        else PurePosixPath(_safe_relpath(o, f"{path}: owned"))
        for o in owned
    ]
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{path}: folder is not empty (use overwrite / --overwrite to replace "
                f"what the previous '{command}' run wrote into it)"
            )
        return _previous_run(path, command, inputs, owned)
    return []


def _previous_run(path, command, inputs, owned):
    """Check a non-empty output folder; return the files its previous run recorded."""
    manifest = _read_manifest(path)
    if manifest is not None and manifest["command"] != command:
        raise FileExistsError(
            f"{path / MANIFEST}: this folder was written by '{manifest['command']}', "
            f"not by '{command}'; choose another output folder"
        )
    previous = _recorded_files(path, manifest)
    _check_inputs_outside_removed(path, command, inputs, owned, previous)
    _check_no_foreign_files(path, command, owned, manifest, set(previous))
    return previous


def _recorded_files(path, manifest):
    """The files a manifest lists that lie inside the folder (relative posix names)."""
    root = path.resolve()
    previous = []
    for name in (manifest or {}).get("files", []):
        try:
            rel = _safe_relpath(name, str(path / MANIFEST))
        except ValueError:
            continue  # never follow absolute paths or '..' found in a manifest
        target = path / rel
        if rel == MANIFEST or not _inside(target.parent.resolve(), root):
            continue
        previous.append(rel)
    return previous


def _check_inputs_outside_removed(path, command, inputs, owned, previous):
    """Inputs may not lie where this run removes files (owned parts, files of the previous run)."""
    root = path.resolve()
    input_roots = [Path(f).resolve() for f in inputs]
    removed_roots = [(root / o).resolve() if str(o) != "." else root for o in owned]
    for src, folder in zip(input_roots, inputs):
        for r in removed_roots:
            if _inside(src, r) or _inside(r, src):
                raise ValueError(
                    f"{folder}: input folder lies in {r}, which the output folder {path} owns; "
                    "it would be overwritten: choose another output folder"
                )
        for rel in previous:
            if _inside((root / rel).resolve(), src):
                raise ValueError(
                    f"{folder}: input folder holds {path / rel}, a file of the previous "
                    f"'{command}' run in {path}; choose another output folder"
                )


def _check_no_foreign_files(path, command, owned, manifest, listed):
    """Foreign files in owned sub-folders stop the run before anything is deleted."""
    for o in owned:
        for rel in _files_below(path, o.as_posix() if str(o) != "." else "."):
            rel = PurePosixPath(rel).as_posix()
            if rel.startswith("./"):
                rel = rel[2:]
            if rel not in listed:
                if manifest is None:
                    raise FileExistsError(
                        f"{path / rel}: this file was not written by '{command}' and {path} has no "
                        f"{MANIFEST} (written by another program or an older version of l2l); nothing "
                        "was deleted: remove or move the folder (or this file) and run again"
                    )
                raise FileExistsError(
                    f"{path / rel}: this file was not written by the previous '{command}' run "
                    f"(not listed in {path / MANIFEST}); nothing was deleted: move it out of "
                    f"{path / o if str(o) != '.' else path} and run again, so that it is neither "
                    "deleted nor mixed into the results"
                )


def _delete_previous_run(path, previous):
    """Delete exactly what the previous run wrote, then the folders this left empty."""
    parents = set()
    for rel in previous:
        target = path / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
            parents.update(p for p in (path / rel).parents if p != path and path in p.parents)
    for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
