"""The package: a front door of documented names, subpackages named for the lessons, a light import."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import l2l_helpers

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ["data", "pairs", "training", "restoring", "scoring", "experiments", "course"]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", l2l_helpers.__all__)
def test_every_front_door_name_is_the_function_of_its_subpackage(name):
    home = importlib.import_module(l2l_helpers.HOMES[name])
    assert getattr(l2l_helpers, name) is getattr(home, name)


@pytest.mark.parametrize("name", l2l_helpers.__all__)
def test_every_front_door_name_has_a_docstring_with_an_example(name):
    doc = getattr(l2l_helpers, name).__doc__ or ""
    assert re.search(r"^\s*Examples\n\s*-+\n", doc, re.M), f"{name}: no Examples section"
    assert ">>> " in doc, f"{name}: Examples without code"


def test_every_front_door_name_is_in_the_table_of_the_package_docstring():
    missing = [name for name in l2l_helpers.__all__ if f"``{name}``" not in l2l_helpers.__doc__]
    assert not missing


def test_the_front_door_lists_each_name_once_with_its_home():
    assert len(set(l2l_helpers.__all__)) == len(l2l_helpers.__all__)
    assert sorted(l2l_helpers.HOMES) == sorted(l2l_helpers.__all__)


def test_star_import_gives_the_front_door():
    namespace = {}
    exec("from l2l_helpers import *", namespace)
    assert set(l2l_helpers.__all__) <= set(namespace)


def test_dir_lists_the_front_door():
    assert set(l2l_helpers.__all__) <= set(dir(l2l_helpers))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = l2l_helpers.no_such_name


@pytest.mark.parametrize("heavy", ["tensorflow", "keras", "matplotlib", "dask"])
def test_importing_the_package_imports_no_heavy_library(heavy):
    run = _python(f"import sys, l2l_helpers; print({heavy!r} in sys.modules)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_importing_the_package_changes_nothing_in_the_process():
    code = (
        "import os, sys; hooks = list(sys.meta_path); fd = os.fstat(2).st_ino; import l2l_helpers; "
        "print(sys.meta_path == hooks, os.fstat(2).st_ino == fd)"
    )
    run = _python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_subpackage_docstring_names_its_lessons(name):
    doc = importlib.import_module(f"l2l_helpers.{name}").__doc__ or ""
    assert re.search(r"\bLessons? \d\d\b|\bevery lesson\b", doc), f"l2l_helpers.{name}: docstring names no lesson"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_subpackage_docstring_lists_its_modules(name):
    package = ROOT / "l2l_helpers" / name
    modules = sorted(p.stem for p in package.glob("*.py") if not p.stem.startswith("_"))
    modules += sorted(p.name for p in package.iterdir() if (p / "__init__.py").is_file())
    doc = importlib.import_module(f"l2l_helpers.{name}").__doc__
    assert [m for m in modules if f":mod:`.{m}`" not in doc] == []


def test_the_version_is_read_from_the_package_by_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in text
    assert re.search(r'^version = \{attr = "l2l_helpers.__version__"\}$', text, re.M)
    assert not re.search(r'^version = "', text, re.M)


def test_the_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", l2l_helpers.__version__)


def test_l2l_version_prints_the_packages_version():
    run = _python("from l2l_helpers.cli import main; main(['--version'])")
    assert run.stdout.strip() == f"l2l {l2l_helpers.__version__}"


def _import_cell(path):
    """The notebook's first code cell after the Binder/Colab set-up cell: its imports."""
    cells = nbformat.read(path, as_version=4).cells
    return next(c for c in cells if c.cell_type == "code" and "l2l-colab-setup" not in c.metadata.get("tags", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_the_front_door_names_from_the_package(path):
    source = _import_cell(path).source
    statements = re.findall(r"^from (l2l_helpers\.[\w.]+) import (\([^)]*\)|.*)$", source, re.M)
    behind = [
        f"{module}.{name}"
        for module, names in statements
        for name in re.findall(r"\w+", names)
        if l2l_helpers.HOMES.get(name) == module
    ]
    assert behind == [], f"{path.name}: import these from l2l_helpers"
    assert re.search(r"^from l2l_helpers import .*\bcurrent_profile\b", source, re.M)


def test_only_the_subpackages_that_quiet_tensorflow_import_it():
    # training, restoring and experiments install the filter of TensorFlow's start-up notices at their import
    # (l2l_helpers.course._quiet_tf); the modules of the other subpackages must not import TensorFlow first
    others = [
        f"l2l_helpers.{package}.{path.stem}"
        for package in ("data", "pairs", "scoring", "plotting", "course")
        for path in sorted((ROOT / "l2l_helpers" / package).glob("[a-z]*.py"))
    ]
    run = _python(f"import importlib, sys; [importlib.import_module(m) for m in {others!r}]; print(*sys.modules)")
    assert run.returncode == 0, run.stderr
    assert {"tensorflow", "keras"} & set(run.stdout.split()) == set()
