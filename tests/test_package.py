"""The package: every submodule is an attribute, and importing it stays light."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import l2l_helpers

PACKAGE_DIR = Path(l2l_helpers.__file__).parent
ON_DISK = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)]) if not m.name.startswith("_"))


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_submodules_are_discovered_from_the_files_on_disk():
    assert sorted(l2l_helpers.SUBMODULES) == ON_DISK


@pytest.mark.parametrize("name", ON_DISK)
def test_every_submodule_is_an_attribute_of_the_package(name):
    assert getattr(l2l_helpers, name).__name__ == f"l2l_helpers.{name}"


def test_background_is_an_attribute_of_the_package():
    assert l2l_helpers.scoring.background.__name__ == "l2l_helpers.scoring.background"


def test_dir_lists_the_submodules():
    assert set(ON_DISK) <= set(dir(l2l_helpers))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_module"):
        _ = l2l_helpers.no_such_module


def test_importing_the_package_does_not_import_tensorflow():
    run = _python("import sys, l2l_helpers; print('tensorflow' in sys.modules)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
