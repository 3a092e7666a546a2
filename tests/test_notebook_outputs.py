"""The committed notebook outputs are a specification that nbval checks.

Cells whose first line is ``# NBVAL_CHECK_OUTPUT`` are compared with their
committed outputs by ``pytest --nbval-lax`` (``python3 tasks.py test``).
These tests show that the markers are in place and that the guard works.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import l2l_helpers
from l2l_helpers.course.runner import execute_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
MARK = "# NBVAL_CHECK_OUTPUT"
INLINE = "module://matplotlib_inline.backend_inline"


def _checked(nb):
    """(code-cell number as nbval counts it, cell) of every checked cell."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [(k, c) for k, c in enumerate(code) if c.source.splitlines()[:1] == [MARK]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_checked_cell_has_committed_outputs_to_compare(path):
    # nbval silently skips the comparison for a cell that was never run
    nb = nbformat.read(path, as_version=4)
    unrun = [k for k, c in _checked(nb) if c.execution_count is None]
    assert not unrun, f"{path.name}: checked cells {unrun} have no committed outputs; run l2l course --inplace"


@pytest.mark.parametrize("name", ["00_the_data.ipynb", "01_contrast.ipynb", "02_drift_correction.ipynb"])
def test_lessons_on_simulated_data_check_their_outputs(name):
    assert _checked(nbformat.read(ROOT / "notebooks" / name, as_version=4))


def test_markers_are_the_first_line_of_a_cell():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            assert MARK not in cell.source.splitlines()[1:], f"{path.name}: marker not on the first line"


def test_sanitize_rules_each_come_with_a_reason():
    lines = SANITIZE.read_text().splitlines()
    rules = [k for k, ln in enumerate(lines) if ln.startswith("regex: ")]
    assert rules, "no rules"
    for k in rules:
        assert lines[k + 1].startswith("replace: "), lines[k]
        assert lines[k - 1].startswith("#"), f"rule without a comment: {lines[k]}"
        re.compile(lines[k][len("regex: ") :])


@pytest.fixture
def perturbed_copy(tmp_path, monkeypatch):
    """Notebook 00 (up to its first checked cytosol-ratio cell) with fresh outputs, and a package copy.

    The outputs are made with an unchanged copy of the package, then the copy's
    actin input cytosol level is raised (70 -> 90); nothing in the repository changes.
    """
    package = tmp_path / "pkg" / "l2l_helpers"
    shutil.copytree(Path(l2l_helpers.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.read(ROOT / "notebooks" / "00_the_data.ipynb", as_version=4)
    last = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "cytosolic_background(" in c.source)
    nb.cells = nb.cells[: last + 1]
    folder = tmp_path / "notebooks"
    folder.mkdir()
    path = folder / "00_the_data.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(package.parent), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("MPLBACKEND", INLINE)
    executed, error = execute_notebook(path, profile="quick", results_root=tmp_path / "results")
    assert error is None, error
    nbformat.write(executed, path)
    simulate = package / "data" / "simulate.py"
    source = simulate.read_text()
    old = '"input": {"structure": 225.0, "cytosol": 70.0,'
    assert source.count(old) == 1, "the actin input parameters moved: update this test"
    simulate.write_text(source.replace(old, '"input": {"structure": 225.0, "cytosol": 90.0,'))
    return path


def test_a_perturbed_simulator_fails_the_cell_that_shows_it(perturbed_copy, tmp_path):
    nb = nbformat.read(perturbed_copy, as_version=4)
    checked = _checked(nb)
    ratio_cell = next(k for k, c in checked if "cytosolic_background(" in c.source)
    env = dict(os.environ, L2L_PROFILE="quick", L2L_RESULTS_DIR=str(tmp_path / "results_ci"), MPLBACKEND=INLINE)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            perturbed_copy.name,
        ],
        cwd=perturbed_copy.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = run.stdout
    assert run.returncode == 1, out[-3000:]
    assert re.search(rf"::Cell {ratio_cell} FAILED", out), out[-3000:]
    assert "Cell outputs differ" in out and "actin     cytosol/structure  input" in out
    # the checked cells before it (structures, figures) show nothing of this parameter and still pass
    failed = re.findall(r"::Cell (\d+) FAILED", out)
    assert failed == [str(ratio_cell)], out[-3000:]


def _output_texts(path):
    for cell in nbformat.read(path, as_version=4).cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                yield out["output_type"], out["text"]
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") and isinstance(value, str):
                    yield mime, value


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_hold_no_absolute_temporary_or_home_paths(path):
    found = [
        m.group(0)
        for _, text in _output_texts(path)
        for m in re.finditer(r"(?<![\w.])/(?:tmp|home|root|Users|work|private/var)/\S*", text)
    ]
    assert not found, f"{path.name}: absolute paths in outputs, e.g. {found[:3]}; regenerate with l2l course"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_hold_no_tensorflow_start_up_notices(path):
    from l2l_helpers.course._quiet_tf import is_notice

    noise = [ln for _, text in _output_texts(path) for ln in text.splitlines() if is_notice(ln)]
    assert not noise, f"{path.name}: {noise[:2]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_progress_bars_are_finished_text(path):
    stalled = [
        text
        for _, text in _output_texts(path)
        for m in re.finditer(r"(\d+)/(\d+) \[", text)
        if m.group(1) != m.group(2)
    ]
    assert not stalled, f"{path.name}: unfinished progress bar {stalled[0][:80]!r}"


def _code_lines(path):
    """(cell number, line) of every code line outside the Colab set-up cell."""
    nb = nbformat.read(path, as_version=4)
    return [
        (k, line)
        for k, c in enumerate(nb.cells)
        if c.cell_type == "code" and "l2l-colab-setup" not in c.metadata.get("tags", [])
        for line in c.source.splitlines()
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_call_the_command_line_one_way(path):
    # `!l2l ...` as a learner types it in a terminal; never subprocess or the cli module from Python
    odd = [
        f"cell {k}: {line.strip()}"
        for k, line in _code_lines(path)
        if "subprocess" in line or "l2l_helpers.cli" in line
    ]
    assert not odd, f"{path.name} calls the CLI another way: {odd}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_command_line_call_is_checked_for_failure(path):
    # IPython does not stop at a failing `!command`; the next line must check its exit code
    lines = _code_lines(path)
    unchecked = [
        f"cell {k}: {line.strip()}"
        for i, (k, line) in enumerate(lines)
        if line.lstrip().startswith("!l2l")
        and not (i + 1 < len(lines) and lines[i + 1][0] == k and "_exit_code == 0" in lines[i + 1][1])
    ]
    assert not unchecked, f"{path.name}: no `assert _exit_code == 0` after {unchecked}"
