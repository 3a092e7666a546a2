"""Binder and Colab links of the course, and the Colab set-up cell of its notebooks.

The repository's public address has one source: ``Repository`` in the
``[project.urls]`` table of ``pyproject.toml``. Everything else is derived
from it here: the Binder and Colab badges of each notebook and of the README,
and the first code cell of each notebook, which on Google Colab installs this
package from the repository. ``python3 tasks.py badges`` writes them into the
notebooks and README.md (``python -m tools.course_links``), so moving
the repository is one line in pyproject.toml and that command.

Only the standard library is imported at module level (``nbformat`` inside
the functions that edit notebooks), so ``tasks.py`` can load this file
before any environment exists.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = [
    "BRANCH",
    "COLAB_KEEP",
    "COLAB_TAG",
    "BADGES_MARK",
    "COMMITTED_RESULTS",
    "repository",
    "binder_url",
    "colab_url",
    "raw_url",
    "badges_markdown",
    "colab_setup_source",
    "readme_block",
    "registry_block",
    "update_notebook",
    "update_readme",
    "update_registry",
    "update_course",
]

ROOT = Path(__file__).resolve().parents[1]
#: The branch that badges and the Colab cell point at.
BRANCH = "main"
#: Packages that Colab ships and the Colab cell must never replace: its install pins them to the versions
#: Colab has, so pip adds only what is missing (csbdeep, ...) or fails instead of replacing them.
#: ``python3 tasks.py test-colab`` installs the package the same way.
COLAB_KEEP = ("tensorflow", "keras", "numpy")
#: Cell-metadata tag of the Colab set-up cell.
COLAB_TAG = "l2l-colab-setup"
#: First line of the notebooks' badge cell (an HTML comment: invisible when rendered).
BADGES_MARK = "<!-- l2l:badges -->"
#: Results committed with the course that notebooks read (``notebooks/data/FOLDER/FILE``). Where the folder is
#: missing (Colab opens one notebook, not the checkout), :func:`l2l_helpers.data.datasets.committed_result` downloads
#: the files, checked against the hashes that :func:`update_registry` writes into the data registry.
COMMITTED_RESULTS = {
    "07_crossval_workshop": ("results.csv", "sweep.json"),
    "09_validation_workshop": ("validation.csv", "validation.json"),
}
#: The data registry's block of committed results lies between these lines.
REGISTRY_START, REGISTRY_END = "# l2l:committed:start", "# l2l:committed:end"
#: The README's badge block lies between these lines.
README_START, README_END = "<!-- l2l:badges:start -->", "<!-- l2l:badges:end -->"
#: The course's notebooks: two-digit prefix, in ``notebooks/``.
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"

_BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
_COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _read_urls(pyproject):
    text = Path(pyproject).read_text(encoding="utf-8")
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # Python 3.10: only the [project.urls] table is needed
        table = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        pairs = re.findall(r'^\s*"?([\w .-]+?)"?\s*=\s*"([^"]*)"', table.group(1), re.M) if table else []
        return dict(pairs)
    return tomllib.loads(text).get("project", {}).get("urls", {})


def repository(pyproject=None):
    """The GitHub owner and name of the course's repository, from pyproject.toml.

    Parameters
    ----------
    pyproject : str or Path, optional
        The ``pyproject.toml`` to read; by default the checkout's.

    Returns
    -------
    tuple of str
        ``(owner, name)``.

    Raises
    ------
    FileNotFoundError
        If there is no pyproject.toml (the package is not used from a checkout).
    ValueError
        If ``[project.urls]`` has no ``Repository`` of the form
        ``https://github.com/OWNER/NAME``.

    Examples
    --------
    >>> owner, name = repository()
    >>> f"https://github.com/{owner}/{name}".startswith("https://github.com/")
    True
    """
    path = Path(pyproject) if pyproject is not None else ROOT / "pyproject.toml"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the course links are made in a checkout of the repository")
    url = _read_urls(path).get("Repository", "")
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url.strip())
    if not m:
        raise ValueError(f'{path}: [project.urls] needs Repository = "https://github.com/OWNER/NAME", got {url!r}')
    return m.group(1), m.group(2)


def binder_url(notebook, pyproject=None):
    """The Binder address that opens ``notebooks/NOTEBOOK`` in JupyterLab.

    Parameters
    ----------
    notebook : str or None
        File name in ``notebooks/`` (``"00_the_data.ipynb"``); None opens the folder.
    pyproject : str or Path, optional
        See :func:`repository`.

    Returns
    -------
    str

    Examples
    --------
    >>> binder_url("00_the_data.ipynb").endswith("/main?urlpath=lab/tree/notebooks/00_the_data.ipynb")
    True
    """
    owner, name = repository(pyproject)
    path = "notebooks" if notebook is None else f"notebooks/{notebook}"
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{BRANCH}?urlpath=lab/tree/{path}"


def colab_url(notebook, pyproject=None):
    """The Colab address that opens ``notebooks/NOTEBOOK`` from GitHub.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    pyproject : str or Path, optional
        See :func:`repository`.

    Returns
    -------
    str

    Examples
    --------
    >>> colab_url("00_the_data.ipynb").endswith("/blob/main/notebooks/00_the_data.ipynb")
    True
    """
    owner, name = repository(pyproject)
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{BRANCH}/notebooks/{notebook}"


def raw_url(path, pyproject=None):
    """Download address of a file of the repository (branch :data:`BRANCH`).

    Examples
    --------
    >>> raw_url("notebooks/data/x.csv").endswith("/main/notebooks/data/x.csv")
    True
    """
    owner, name = repository(pyproject)
    return f"https://raw.githubusercontent.com/{owner}/{name}/{BRANCH}/{path}"


def _sha256(path):
    # datasets.file_sha256 does the same, but this module is loaded by path before any environment exists
    # (tasks.py), so it imports nothing of the package
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def registry_block(root=None, pyproject=None):
    """The data registry's lines for :data:`COMMITTED_RESULTS`: name ``course/FOLDER/FILE``, sha256, raw URL.

    Examples
    --------
    >>> block = registry_block()
    >>> block.splitlines()[0] == REGISTRY_START and "course/09_validation_workshop/validation.csv" in block
    True
    """
    root = Path(root) if root is not None else ROOT
    pyproject = Path(pyproject) if pyproject is not None else root / "pyproject.toml"
    lines = [
        REGISTRY_START,
        "# Results committed with the course (notebooks/data/), for notebooks opened outside the checkout (Colab).",
        "# Written by `python3 tasks.py badges` from the committed files: never edit by hand.",
    ]
    for folder, files in COMMITTED_RESULTS.items():
        for name in files:
            rel = f"notebooks/data/{folder}/{name}"
            path = root / rel
            if not path.is_file():
                raise FileNotFoundError(f"{path}: a committed result listed in COMMITTED_RESULTS is missing")
            lines.append(f"course/{folder}/{name}  {_sha256(path)}  {raw_url(rel, pyproject)}")
    lines.append(REGISTRY_END)
    return "\n".join(lines)


def update_registry(path, root=None, pyproject=None, write=True):
    """Write :func:`registry_block` into a data registry file (replacing the old block, or at its end).

    Returns
    -------
    bool
        Whether the file changed (or would change).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    block = registry_block(root, pyproject)
    if REGISTRY_START in text and REGISTRY_END in text:
        head, rest = text.split(REGISTRY_START, 1)
        tail = rest.split(REGISTRY_END, 1)[1]
        new = head + block + tail
    else:
        new = text.rstrip("\n") + "\n" + block + "\n"
    if new == text:
        return False
    if write:
        path.write_text(new, encoding="utf-8")
    return True


def badges_markdown(notebook, pyproject=None):
    """Markdown of the Binder and Colab badges of one notebook.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    pyproject : str or Path, optional
        See :func:`repository`.

    Returns
    -------
    str

    Examples
    --------
    >>> badges_markdown("00_the_data.ipynb").startswith("[![Open in Binder]")
    True
    """
    return (
        f"[![Open in Binder]({_BINDER_BADGE})]({binder_url(notebook, pyproject)}) "
        f"[![Open in Colab]({_COLAB_BADGE})]({colab_url(notebook, pyproject)})"
    )


def colab_setup_source(pyproject=None, source=None):
    """Source of the notebooks' first code cell: on Colab, install the package.

    On Google Colab (``"google.colab" in sys.modules``) the cell installs the
    package from the repository with pip, pinning Colab's own
    :data:`COLAB_KEEP` packages to the versions Colab has (pip adds what is
    missing and never replaces them; pip's output shows only when it
    fails), enables Colab's widget manager
    (the notebooks' viewers are ipywidgets) and says how to choose the
    paper's profile when a GPU is present. Anywhere else it prints nothing
    and changes nothing. It is plain Python (no ``!pip``), so it runs in any
    interpreter.

    Parameters
    ----------
    pyproject : str or Path, optional
        See :func:`repository`.
    source : str, optional
        What pip installs as ``l2l-helpers @ SOURCE``; default
        ``git+https://github.com/OWNER/NAME@main``. ``tasks.py test-colab``
        passes the checkout (``file:///...``).

    Returns
    -------
    str

    Examples
    --------
    >>> "google.colab" in colab_setup_source()
    True
    """
    if source is None:
        owner, name = repository(pyproject)
        source = f"git+https://github.com/{owner}/{name}@{BRANCH}"
    keep = ", ".join(f'"{p}"' for p in COLAB_KEEP)
    return f"""\
# On Google Colab this cell installs the course's package, keeping Colab's own TensorFlow, Keras and NumPy.
# Anywhere else it does nothing.
import sys

if "google.colab" in sys.modules:
    import os, shutil, subprocess
    from importlib.metadata import version
    from google.colab import output

    print("Installing the course's package l2l_helpers (about a minute) ...")
    package = "l2l-helpers @ {source}"
    keep = [f"{{name}}=={{version(name)}}" for name in ({keep})]  # pip must not replace these
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", package, *keep], capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError(f"pip could not install {{package}}:\\n{{pip.stderr[-3000:]}}")
    output.enable_custom_widget_manager()  # the interactive viewers are ipywidgets
    if shutil.which("nvidia-smi"):
        print('GPU found: for the paper profile, run os.environ["L2L_PROFILE"] = "paper" before the next cell.')"""


def readme_block(notebooks, pyproject=None):
    """The README's badge block, markers included.

    Parameters
    ----------
    notebooks : list of str
        File names of the course's notebooks, in order.
    pyproject : str or Path, optional
        See :func:`repository`.

    Returns
    -------
    str

    Examples
    --------
    >>> readme_block(["00_the_data.ipynb"]).splitlines()[0] == README_START
    True
    """
    links = " · ".join(f"[{n.split('_')[0]}]({colab_url(n, pyproject)})" for n in notebooks)
    return "\n".join(
        [
            README_START,
            f"[![Open in Binder]({_BINDER_BADGE})]({binder_url(None, pyproject)}) "
            f"[![Open in Colab]({_COLAB_BADGE})]({colab_url(notebooks[0], pyproject)})",
            "",
            f"Binder opens the whole course in JupyterLab; Colab opens one notebook at a time: {links}.",
            README_END,
        ]
    )


def _is_badges(cell):
    return cell.cell_type == "markdown" and cell.source.startswith(BADGES_MARK)


def _is_setup(cell):
    return cell.cell_type == "code" and COLAB_TAG in cell.get("metadata", {}).get("tags", [])


def update_notebook(path, pyproject=None, write=True):
    """Insert or refresh the badge cell and the Colab set-up cell of one notebook.

    The badge cell (markdown, first line :data:`BADGES_MARK`) and the set-up
    cell (code, tagged :data:`COLAB_TAG`) go to the top, in that order; when
    they exist only their source changes. Every other cell, output and the
    notebook's metadata are left as they are, and the file is written the way
    nbformat writes notebooks, so an up-to-date notebook stays byte-identical.

    Parameters
    ----------
    path : str or Path
        The notebook.
    pyproject : str or Path, optional
        See :func:`repository`.
    write : bool
        False only reports whether the notebook would change.

    Returns
    -------
    bool
        True if the notebook changed (or would change).

    Examples
    --------
    >>> update_notebook(ROOT / "notebooks" / "00_the_data.ipynb", write=False) in (True, False)
    True
    """
    import nbformat

    path = Path(path)
    before = path.read_text(encoding="utf-8")
    nb = nbformat.reads(before, as_version=nbformat.NO_CONVERT)
    wanted = {
        "badges": f"{BADGES_MARK}\n{badges_markdown(path.name, pyproject)}",
        "setup": colab_setup_source(pyproject),
    }
    found = {
        "badges": next((c for c in nb.cells if _is_badges(c)), None),
        "setup": next((c for c in nb.cells if _is_setup(c)), None),
    }
    if found["setup"] is None:
        cell = nbformat.v4.new_code_cell(wanted["setup"], id="l2l-colab-setup")
        cell.metadata["tags"] = [COLAB_TAG]
        nb.cells.insert(0, cell)
    if found["badges"] is None:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(wanted["badges"], id="l2l-badges"))
    for key, cell in found.items():
        if cell is not None:
            cell.source = wanted[key]
    after = nbformat.writes(nb) + "\n"  # nbformat.write adds the final newline
    if after == before:
        return False
    if write:
        path.write_text(after, encoding="utf-8")
    return True


def update_readme(path, notebooks, pyproject=None, write=True):
    """Insert or refresh the README's badge block (below the title when new).

    Parameters
    ----------
    path : str or Path
        README.md.
    notebooks : list of str
        File names of the course's notebooks, in order.
    pyproject : str or Path, optional
        See :func:`repository`.
    write : bool
        False only reports whether the file would change.

    Returns
    -------
    bool
        True if the README changed (or would change).

    Raises
    ------
    ValueError
        If only one of the two markers is there.

    Examples
    --------
    >>> update_readme(ROOT / "README.md", ["00_the_data.ipynb"], write=False) in (True, False)
    True
    """
    path = Path(path)
    before = path.read_text(encoding="utf-8")
    block = readme_block(notebooks, pyproject)
    starts, ends = before.count(README_START), before.count(README_END)
    if (starts, ends) == (1, 1):
        head, rest = before.split(README_START)
        after = head + block + rest.split(README_END, 1)[1]
    elif (starts, ends) == (0, 0):
        lines = before.splitlines(keepends=True)
        k = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("# ")), 0)
        after = (
            "".join(lines[:k])
            + "\n"
            + block
            + "\n"
            + ("\n" if k < len(lines) and lines[k].strip() else "")
            + "".join(lines[k:])
        )
    else:
        raise ValueError(f"{path}: needs exactly one {README_START} and one {README_END} line, or neither")
    if after == before:
        return False
    if write:
        path.write_text(after, encoding="utf-8")
    return True


def update_course(root=None, pyproject=None, write=True):
    """Refresh the badges and Colab cells of every notebook, the README and the registry of committed results.

    Parameters
    ----------
    root : str or Path, optional
        The checkout (``notebooks/`` and ``README.md``); by default this one.
    pyproject : str or Path, optional
        Default ``ROOT/pyproject.toml``.
    write : bool
        False only reports what would change.

    Returns
    -------
    list of Path
        The files that changed (or would change).

    Examples
    --------
    >>> isinstance(update_course(write=False), list)
    True
    """
    root = Path(root) if root is not None else ROOT
    pyproject = Path(pyproject) if pyproject is not None else root / "pyproject.toml"
    notebooks = sorted((root / "notebooks").glob(NOTEBOOK_GLOB))
    changed = [p for p in notebooks if update_notebook(p, pyproject, write=write)]
    readme = root / "README.md"
    if readme.exists() and update_readme(readme, [p.name for p in notebooks], pyproject, write=write):
        changed.append(readme)
    if (root / "notebooks" / "data").is_dir():
        registry = root / "l2l_helpers" / "data_registry.txt"  # ROOT/data_registry.txt links to it
        if registry.exists() and update_registry(registry, root, pyproject, write=write):
            changed.append(registry)
    return changed


def main(argv=None):
    """``python -m tools.course_links [--check] [--root DIR]`` (``python3 tasks.py badges``)."""
    parser = argparse.ArgumentParser(prog="python -m tools.course_links", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if something is out of date")
    args = parser.parse_args(argv)
    owner, name = repository(args.root / "pyproject.toml")
    changed = update_course(args.root, write=not args.check)
    verb = "out of date" if args.check else "updated"
    for path in changed:
        print(f"{verb}: {path.relative_to(args.root)}")
    print(f"{len(changed)} file(s) {verb}; repository https://github.com/{owner}/{name} (branch {BRANCH})")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
