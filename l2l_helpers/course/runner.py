"""Run the course: execute every notebook headless and collect the results.

This is the main job of the repository (``python3 tasks.py course`` or
``l2l course``): each notebook is executed in a fresh kernel with the chosen
profile, and the executed notebook, an HTML copy and a summary of what ran and
how long it took are written into one output folder.

Figures are stored as JPEG (quality :data:`FIGURE_QUALITY`) instead of the
inline backend's PNG: most of the course's figures are noisy microscopy
images, which PNG compresses poorly and JPEG several times smaller at the
same resolution, so the executed and committed notebooks stay small. Notebooks run by hand (JupyterLab,
Binder, Colab) keep the default PNG.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from pathlib import Path

from l2l_helpers.training.profiles import DEFAULT_PROFILE, PROFILES

__all__ = [
    "FIGURE_FORMAT",
    "FIGURE_QUALITY",
    "find_notebooks",
    "kernel_results_dir",
    "execute_notebook",
    "run_course",
    "format_summary",
]

#: Format of the figures in executed notebooks (matplotlib-inline's ``InlineBackend.figure_formats``).
FIGURE_FORMAT = "jpeg"
#: JPEG quality of those figures (0-100).
FIGURE_QUALITY = 85

_NOTEBOOK_NAME = re.compile(r"^\d\d_.+\.ipynb$")


def find_notebooks(folder, only=None):
    """List the course notebooks (``NN_name.ipynb``) of a folder in order.

    Parameters
    ----------
    folder : str or Path
        The notebooks folder.
    only : sequence of str, optional
        Keep notebooks whose name starts with one of these prefixes
        (``["00", "03"]`` or ``["03_n2n"]``).

    Returns
    -------
    list of Path
        The notebooks, sorted by name.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist or no notebook matches.

    Examples
    --------
    >>> find_notebooks("notebooks", only=["00"])  # doctest: +SKIP
    [PosixPath('notebooks/00_the_data.ipynb')]
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: notebooks folder does not exist")
    notebooks = sorted(p for p in folder.iterdir() if _NOTEBOOK_NAME.match(p.name))
    if only:
        notebooks = [p for p in notebooks if any(p.name.startswith(o) for o in only)]
    if not notebooks:
        detail = f" matching {', '.join(only)}" if only else ""
        raise FileNotFoundError(f"{folder}: no course notebooks (NN_name.ipynb){detail}")
    return notebooks


#: The temporary file IPython runs a cell from, as warnings name it (``/tmp/ipykernel_123/456.py``).
_CELL_FILE = re.compile(r"(?:/[^\s:'\"]*)?/ipykernel_\d+/\d+\.py")


def portable_paths(text, package_root=None):
    """Text of an output with the machine-specific file names a warning prints made portable.

    A warning names the file it comes from: a module of this package by
    its absolute path, a notebook cell by IPython's temporary file. Saved
    notebooks should read the same on every machine, so the package's
    folder is dropped (``l2l_helpers/training/train.py``) and a cell's file becomes
    ``<cell>``.

    Examples
    --------
    >>> portable_paths("/tmp/ipykernel_42/1234.py:4: UserWarning: 7 of 24 images ...")
    '<cell>:4: UserWarning: 7 of 24 images ...'
    >>> portable_paths("/repo/l2l_helpers/training/train.py:156: UserWarning", package_root="/repo")
    'l2l_helpers/training/train.py:156: UserWarning'
    """
    root = str(Path(package_root if package_root is not None else Path(__file__).resolve().parents[2]))
    return _CELL_FILE.sub("<cell>", text.replace(root.rstrip(os.sep) + os.sep, ""))


def _clean_metadata(nb):
    """Drop saved widget state, which is large and goes stale; make warnings' file names portable."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and isinstance(out.get("text"), str):
                out["text"] = portable_paths(out["text"])
    return nb


def kernel_results_dir(results_root, notebook_dir):
    """Give the results folder as a notebook kernel should see it.

    Kernels run in the notebook's folder. When the results folder and that
    folder lie in one tree (the checkout: the results folder is inside the
    notebook folder's parent), the path is returned relative to the notebook
    folder, so printed paths in saved notebooks are short and hold no
    temporary or personal folder names; otherwise it is returned absolute.

    Parameters
    ----------
    results_root : str or Path
        The results folder.
    notebook_dir : str or Path
        The folder the notebook runs in.

    Returns
    -------
    str
        The path to pass as ``L2L_RESULTS_DIR``.

    Examples
    --------
    >>> kernel_results_dir("/repo/course_output/results", "/repo/notebooks")
    '../course_output/results'
    >>> kernel_results_dir("/tmp/run/results", "/repo/notebooks")
    '/tmp/run/results'
    """
    root = Path(os.path.abspath(results_root))
    folder = Path(os.path.abspath(notebook_dir))
    if root.is_relative_to(folder.parent) and folder.parent != Path(folder.anchor):
        return os.path.relpath(root, folder)
    return str(root)


def execute_notebook(path, profile=DEFAULT_PROFILE, results_root=None, timeout=3600, kernel_name="python3"):
    """Execute one notebook in a fresh kernel.

    Parameters
    ----------
    path : str or Path
        The notebook; it runs with its own folder as working directory.
    profile : {"quick", "workshop", "paper"}
        Passed to the kernel as ``L2L_PROFILE``.
    results_root : str or Path, optional
        Passed as ``L2L_RESULTS_DIR``: where the notebook writes results.
        Relative to the notebook's folder when both lie in one checkout
        (see :func:`kernel_results_dir`), so saved outputs show no
        absolute paths.
    timeout : int
        Seconds one cell may run.
    kernel_name : str
        Jupyter kernel to use.

    Returns
    -------
    nb : nbformat.NotebookNode
        The executed notebook (as far as it ran).
    error : str or None
        None on success, else a one-line description of the failure.

    Notes
    -----
    The kernel gets ``L2L_PROFILE``, ``L2L_RESULTS_DIR`` and
    ``L2L_PROGRESS=text`` (text progress bars, see
    :mod:`l2l_helpers.course.progress`); stream outputs are merged and carriage
    returns applied, so a saved notebook shows each bar's finished state.
    The kernel logs only errors to the terminal (its start-up warnings, such
    as unencrypted local TCP, mean nothing to a learner).

    Examples
    --------
    >>> nb, error = execute_notebook("notebooks/00_the_data.ipynb", profile="quick")  # doctest: +SKIP
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    env = dict(
        os.environ, L2L_PROFILE=profile, L2L_PROGRESS="text", MPLBACKEND="module://matplotlib_inline.backend_inline"
    )
    # `!l2l ...` in a notebook runs the l2l of this environment, also when it is not activated
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if results_root is not None:
        env["L2L_RESULTS_DIR"] = kernel_results_dir(results_root, path.parent)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        coalesce_streams=True,
        extra_arguments=[
            "--IPKernelApp.log_level=ERROR",  # no start-up warnings
            f"--InlineBackend.figure_formats={FIGURE_FORMAT}",
            "--InlineBackend.print_figure_kwargs="
            f"{{'bbox_inches': 'tight', 'pil_kwargs': {{'quality': {FIGURE_QUALITY}}}}}",
        ],
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    error = None
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
        error = lines[-1] if lines else "cell failed"
    except Exception as exc:  # kernel died, timeout, ...
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return _clean_metadata(nb), error


def run_course(
    notebooks_dir="notebooks",
    out_dir="course_output",
    profile=DEFAULT_PROFILE,
    only=None,
    inplace=False,
    timeout=3600,
    html=True,
    results=None,
    progress=True,
):
    """Execute the course notebooks and write notebooks, HTML and a summary.

    Parameters
    ----------
    notebooks_dir : str or Path
        Folder with the numbered notebooks.
    out_dir : str or Path
        Output folder: ``NN_name.ipynb`` and ``NN_name.html`` per notebook,
        ``results/`` (what the notebooks save), ``summary.json`` and
        ``summary.md``. Existing files of the same name are replaced; the
        source notebooks are not touched unless ``inplace``.
    profile : {"quick", "workshop", "paper"}
        Run profile for every notebook.
    only : sequence of str, optional
        Run only notebooks whose names start with these prefixes.
    inplace : bool
        Also write each successfully executed notebook back over its source
        (for maintainers: committed notebooks carry the outputs of a real run).
    timeout : int
        Seconds one cell may run.
    html : bool
        Write an HTML copy of each executed notebook.
    results : str or Path, optional
        Where the notebooks save their results (models, images, tables;
        ``L2L_RESULTS_DIR`` of the kernels). Default ``out_dir/results``.
        ``notebooks/results`` is where notebooks opened in JupyterLab look:
        ``python3 tasks.py precompute`` trains the course's networks there.
    progress : bool
        Show a progress bar over the notebooks (a line per finished notebook
        is printed either way).

    Returns
    -------
    dict
        The summary: profile, versions, and per notebook its name, status
        (``"ok"`` or ``"failed"``), seconds, peak memory of the kernel and
        the processes it started (MB, PSS: shared pages counted once, as a
        container's limit counts them; see :mod:`l2l_helpers.course.memory`), the
        peak of their summed RSS (MB, shared pages counted once per process)
        and error.

    Examples
    --------
    >>> summary = run_course(profile="quick", only=["00"])  # doctest: +SKIP
    >>> summary["notebooks"][0]["status"]  # doctest: +SKIP
    'ok'
    """
    from l2l_helpers.course.progress import progress as progress_bar

    notebooks = find_notebooks(notebooks_dir, only=only)
    out = Path(out_dir)
    src = Path(notebooks_dir).resolve()
    if out.resolve() == src:
        raise ValueError(f"{out}: output folder must differ from the notebooks folder")
    out.mkdir(parents=True, exist_ok=True)
    results_root = Path(results) if results is not None else out / "results"
    summary = _summary_header(profile)
    bar = progress_bar(notebooks, desc=f"course ({profile})", unit="notebook", disable=not progress)
    for path in bar:
        bar.set_postfix_str(path.name)
        entry, report = _run_notebook(path, out, profile, results_root, timeout, html, inplace)
        summary["notebooks"].append(entry)
        bar.write(report)
    summary["total_seconds"] = round(sum(e["seconds"] for e in summary["notebooks"]), 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(format_summary(summary))
    return summary


def _summary_header(profile):
    """The summary's fields before any notebook ran: profile, start, versions, machine."""
    from l2l_helpers import __version__

    return {
        "profile": profile,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python": platform.python_version(),
        "l2l_helpers": __version__,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores",
        "notebooks": [],
    }


def _run_notebook(path, out, profile, results_root, timeout, html, inplace):
    """Execute one notebook, write it (and its HTML) into ``out``: its summary entry and a line on how it went."""
    import nbformat

    from l2l_helpers.course.memory import PeakMemory

    t0 = time.perf_counter()
    with PeakMemory() as memory:  # the kernel and what it starts (Dask workers, !l2l)
        nb, error = execute_notebook(path, profile=profile, results_root=results_root, timeout=timeout)
    seconds = time.perf_counter() - t0
    target = out / path.name
    nbformat.write(nb, target)
    if html:
        _write_html(nb, target.with_suffix(".html"))
    if inplace and error is None:
        nbformat.write(nb, path)
    entry = {
        "notebook": path.name,
        "status": "ok" if error is None else "failed",
        "seconds": round(seconds, 1),
        "peak_memory_mb": round(memory.peak_mb),
        "peak_rss_sum_mb": round(memory.peak_rss_mb),
        "error": error,
    }
    report = f"{path.name}: {entry['status']} in {seconds:.0f} s, peak memory {memory.peak_mb:.0f} MB"
    return entry, report + (f" ({error})" if error else "")


def _write_html(nb, path):
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    Path(path).write_text(body, encoding="utf-8")


def format_summary(summary):
    """Format a course summary as a Markdown table.

    Parameters
    ----------
    summary : dict
        As returned by :func:`run_course`.

    Returns
    -------
    str
        Markdown text.

    Examples
    --------
    >>> print(format_summary({"profile": "quick", "notebooks": [
    ...     {"notebook": "00_the_data.ipynb", "status": "ok", "seconds": 3.2, "peak_memory_mb": 410,
    ...      "error": None}]}))
    # Course run (profile: quick)
    <BLANKLINE>
    | notebook | status | seconds | peak memory (MB) |
    | --- | --- | ---: | ---: |
    | 00_the_data.ipynb | ok | 3.2 | 410 |
    <BLANKLINE>
    1 of 1 notebooks ran without error in 3 s.
    <BLANKLINE>
    """
    rows = [
        f"# Course run (profile: {summary['profile']})",
        "",
        "| notebook | status | seconds | peak memory (MB) |",
        "| --- | --- | ---: | ---: |",
    ]
    for e in summary["notebooks"]:
        status = e["status"] if not e.get("error") else f"{e['status']}: {e['error']}"
        rows.append(f"| {e['notebook']} | {status} | {e['seconds']:.1f} | {e.get('peak_memory_mb', '')} |")
    n_ok = sum(e["status"] == "ok" for e in summary["notebooks"])
    total = sum(e["seconds"] for e in summary["notebooks"])
    extra = [f"{k}: {summary[k]}" for k in ("started", "python", "l2l_helpers", "machine") if k in summary]
    rows += ["", f"{n_ok} of {len(summary['notebooks'])} notebooks ran without error in {total:.0f} s."]
    if extra:
        rows += [""] + [f"- {x}" for x in extra]
    return "\n".join(rows) + "\n"
