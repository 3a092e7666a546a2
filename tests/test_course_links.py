"""Binder and Colab links come from one address in pyproject.toml, and `tasks.py badges` writes them idempotently."""

import importlib.metadata
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from tools import course_links as cl

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob(cl.NOTEBOOK_GLOB))
ADDRESS = "https://github.com/someone/elsewhere"


def _pyproject(path, address=ADDRESS):
    text = (ROOT / "pyproject.toml").read_text()
    old = next(ln for ln in text.splitlines() if ln.startswith("Repository = "))
    path.write_text(text.replace(old, f'Repository = "{address}"'))
    return path


def _strip_links(path):
    """The notebook without the badge and set-up cells, as nbformat writes it."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nb.cells = [c for c in nb.cells if not (cl._is_badges(c) or cl._is_setup(c))]
    return nbformat.writes(nb) + "\n"


def _strip_readme_block(text):
    """The README without the badge block and its markers."""
    if cl.README_START not in text:
        return text
    head, rest = text.split(cl.README_START)
    return head.rstrip("\n") + "\n\n" + rest.split(cl.README_END)[1].lstrip("\n")


@pytest.fixture
def checkout(tmp_path):
    """Copies of two notebooks and the README without badges, and a pyproject.toml naming ADDRESS."""
    (tmp_path / "notebooks").mkdir()
    for name in ("00_the_data.ipynb", "04_loss_functions.ipynb"):
        (tmp_path / "notebooks" / name).write_text(_strip_links(ROOT / "notebooks" / name), encoding="utf-8")
    (tmp_path / "notebooks" / "scratch.ipynb").write_text("not a course notebook")
    (tmp_path / "README.md").write_text(_strip_readme_block((ROOT / "README.md").read_text()))
    _pyproject(tmp_path / "pyproject.toml")
    return tmp_path


def test_urls_are_built_from_the_repository_in_pyproject(tmp_path):
    pyproject = _pyproject(tmp_path / "pyproject.toml")
    assert cl.repository(pyproject) == ("someone", "elsewhere")
    assert (
        cl.binder_url("00_the_data.ipynb", pyproject)
        == "https://mybinder.org/v2/gh/someone/elsewhere/main?urlpath=lab/tree/notebooks/00_the_data.ipynb"
    )
    assert (
        cl.colab_url("00_the_data.ipynb", pyproject)
        == "https://colab.research.google.com/github/someone/elsewhere/blob/main/notebooks/00_the_data.ipynb"
    )
    assert '"l2l-helpers @ git+https://github.com/someone/elsewhere@main"' in cl.colab_setup_source(pyproject)


def test_badges_link_binder_and_colab_to_the_notebook(tmp_path):
    pyproject = _pyproject(tmp_path / "pyproject.toml")
    md = cl.badges_markdown("04_loss_functions.ipynb", pyproject)
    assert f"]({cl.binder_url('04_loss_functions.ipynb', pyproject)})" in md
    assert f"]({cl.colab_url('04_loss_functions.ipynb', pyproject)})" in md


def test_the_checkouts_pyproject_names_a_github_repository():
    owner, name = cl.repository()
    assert owner and name


@pytest.mark.parametrize("address", ["", "https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a"])
def test_a_repository_that_is_not_on_github_is_refused(tmp_path, address):
    with pytest.raises(ValueError, match="Repository"):
        cl.repository(_pyproject(tmp_path / "pyproject.toml", address))


def test_a_missing_pyproject_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="pyproject.toml"):
        cl.repository(tmp_path / "pyproject.toml")


def test_without_tomllib_the_urls_table_is_still_read(tmp_path, monkeypatch):
    pyproject = _pyproject(tmp_path / "pyproject.toml", "https://github.com/someone/elsewhere.git")
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10
    assert cl.repository(pyproject) == ("someone", "elsewhere")


def test_badges_command_puts_badges_and_the_colab_cell_at_the_top(checkout):
    changed = cl.update_course(checkout)
    assert sorted(p.name for p in changed) == ["00_the_data.ipynb", "04_loss_functions.ipynb", "README.md"]
    nb = nbformat.read(checkout / "notebooks" / "00_the_data.ipynb", as_version=4)
    badges, setup, title = nb.cells[:3]
    assert badges.cell_type == "markdown" and badges.source.startswith(cl.BADGES_MARK)
    assert "mybinder.org/v2/gh/someone/elsewhere/main?urlpath=lab/tree/notebooks/00_the_data.ipynb" in badges.source
    assert setup.cell_type == "code" and setup.metadata["tags"] == [cl.COLAB_TAG] and setup.outputs == []
    assert title.source.startswith("# 00 ")
    assert (checkout / "notebooks" / "scratch.ipynb").read_text() == "not a course notebook"


def test_running_the_badges_command_twice_changes_nothing(checkout):
    cl.update_course(checkout)
    files = sorted(checkout.rglob("*.ipynb")) + [checkout / "README.md"]
    first = {p: p.read_bytes() for p in files}
    assert cl.update_course(checkout) == []
    assert {p: p.read_bytes() for p in files} == first


@pytest.mark.parametrize("name", ["00_the_data.ipynb", "04_loss_functions.ipynb"])
def test_other_cells_outputs_and_metadata_stay_byte_identical(checkout, name):
    cl.update_course(checkout)
    assert _strip_links(checkout / "notebooks" / name) == _strip_links(ROOT / "notebooks" / name)


def test_moving_the_repository_is_one_line_and_the_command(checkout):
    cl.update_course(checkout)
    _pyproject(checkout / "pyproject.toml", "https://github.com/new-owner/new-name")
    changed = cl.update_course(checkout)
    assert len(changed) == 3
    for path in changed:
        text = path.read_text()
        assert "someone/elsewhere" not in text and "new-owner/new-name" in text
    nb = nbformat.read(checkout / "notebooks" / "04_loss_functions.ipynb", as_version=4)
    assert sum(cl._is_badges(c) for c in nb.cells) == 1 and sum(cl._is_setup(c) for c in nb.cells) == 1
    assert _strip_links(checkout / "notebooks" / "04_loss_functions.ipynb") == _strip_links(
        ROOT / "notebooks" / "04_loss_functions.ipynb"
    )


def test_readme_block_sits_between_markers_and_nothing_else_changes(checkout):
    original = (checkout / "README.md").read_text()
    cl.update_course(checkout)
    text = (checkout / "README.md").read_text()
    head, rest = text.split(cl.README_START)
    block, tail = rest.split(cl.README_END)
    assert "mybinder.org/v2/gh/someone/elsewhere/main?urlpath=lab/tree/notebooks)" in block
    assert "colab.research.google.com/github/someone/elsewhere/blob/main/notebooks/04_loss_functions.ipynb" in block
    assert (head + tail).replace("\n", "") == original.replace("\n", "")  # only blank lines around the block added


def test_readme_with_one_marker_is_refused(checkout):
    readme = checkout / "README.md"
    readme.write_text(readme.read_text() + f"\n{cl.README_START}\n")
    with pytest.raises(ValueError, match="exactly one"):
        cl.update_readme(readme, ["00_the_data.ipynb"], checkout / "pyproject.toml")


def test_check_mode_reports_and_writes_nothing(checkout, capsys):
    before = (checkout / "README.md").read_bytes()
    assert cl.main(["--root", str(checkout), "--check"]) == 1
    assert "out of date: README.md" in capsys.readouterr().out
    assert (checkout / "README.md").read_bytes() == before
    assert cl.main(["--root", str(checkout)]) == 0
    assert cl.main(["--root", str(checkout), "--check"]) == 0


def test_colab_cell_prints_nothing_off_colab():
    run = subprocess.run([sys.executable, "-c", cl.colab_setup_source()], capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")


@pytest.fixture
def fake_colab(monkeypatch):
    """A pretend Colab: records pip calls and the widget manager, fixed package versions."""
    calls = {"pip": [], "widgets": 0, "returncode": 0}
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.__setitem__("widgets", 1))
    colab = types.ModuleType("google.colab")
    colab.output = output
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(
        subprocess,
        "run",
        lambda cmd, **kw: (
            calls["pip"].append(cmd)
            or types.SimpleNamespace(returncode=calls["returncode"], stdout="", stderr="pip says no")
        ),
    )
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: {"tensorflow": "2.20.0", "keras": "3.13.1", "numpy": "2.1.3"}[name]
    )
    return calls


@pytest.mark.parametrize("gpu", [False, True])
def test_colab_cell_on_colab_installs_the_package_keeping_colabs_tensorflow(fake_colab, monkeypatch, capsys, gpu):
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/nvidia-smi" if gpu else None)
    exec(cl.colab_setup_source(), {})
    (pip,) = fake_colab["pip"]
    assert pip[:4] == [sys.executable, "-m", "pip", "install"]
    owner, name = cl.repository()
    assert f"l2l-helpers @ git+https://github.com/{owner}/{name}@main" in pip
    assert {"tensorflow==2.20.0", "keras==3.13.1", "numpy==2.1.3"} <= set(pip)
    assert fake_colab["widgets"] == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Installing the course's package")
    assert lines[1:] == (
        ['GPU found: for the paper profile, run os.environ["L2L_PROFILE"] = "paper" before the next cell.']
        if gpu
        else []
    )


def test_colab_cell_shows_pips_error_when_the_install_fails(fake_colab, monkeypatch):
    fake_colab["returncode"] = 1
    with pytest.raises(RuntimeError, match="pip could not install l2l-helpers @ git.*\n.*pip says no"):
        exec(cl.colab_setup_source(), {})
    assert fake_colab["widgets"] == 0


def test_the_checkout_has_the_course_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{k:02d}" for k in range(len(NOTEBOOKS))]
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_open_with_the_badges_then_the_colab_cell(path):
    nb = nbformat.read(path, as_version=4)
    assert cl._is_badges(nb.cells[0]) and cl._is_setup(nb.cells[1]), f"{path.name}: run python3 tasks.py badges"
    assert sum(cl._is_badges(c) or cl._is_setup(c) for c in nb.cells) == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_links_name_the_repository_in_pyproject(path):
    assert not cl.update_notebook(path, write=False), f"{path.name}: stale links; run python3 tasks.py badges"


def test_committed_readme_has_one_badge_block():
    text = (ROOT / "README.md").read_text()
    assert (text.count(cl.README_START), text.count(cl.README_END)) == (1, 1)


def test_committed_readme_links_name_the_repository_in_pyproject():
    assert not cl.update_readme(ROOT / "README.md", [p.name for p in NOTEBOOKS], write=False), (
        "README.md: stale links; run python3 tasks.py badges"
    )


def test_the_module_needs_only_the_standard_library_so_tasks_py_can_load_it():
    code = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('links', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(m.repository())"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, cl.__file__], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(cl.repository())
