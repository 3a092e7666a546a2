"""Specification of tasks.py's test and setup commands: what they run, and that testing installs nothing."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tasks(monkeypatch, tmp_path):
    """tasks.py with a ready environment and a recorder instead of processes: ``tasks.calls`` holds (cmd, env)."""
    spec = importlib.util.spec_from_file_location("_l2l_tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.calls = []
    module.codes = []  # return codes of the next commands (default 0)

    def run(cmd, **kwargs):
        module.calls.append(([str(c) for c in cmd], kwargs.get("env")))
        return module.codes.pop(0) if module.codes else 0

    monkeypatch.setattr(module, "_run", run)
    monkeypatch.setattr(module, "ensure_env", lambda: Path("venv/bin/python"))
    monkeypatch.setattr(module, "REALDATA", tmp_path / "no-realdata")
    return module


def _pytest_command(tasks):
    (cmd, env), *others = tasks.calls
    assert others == []
    return cmd, env


def _without_chromium(tasks, monkeypatch, uid):
    """A Debian machine without chromium, apt-get and sudo on the path, the user ``uid`` (0: root)."""
    monkeypatch.setattr(tasks, "_has_chromium", lambda: False)
    monkeypatch.setattr(tasks.os, "geteuid", lambda: uid, raising=False)
    monkeypatch.setattr(tasks.shutil, "which", lambda name: f"/usr/bin/{name}")


def test_fast_runs_the_tests_and_doctests_that_train_no_network(tasks):
    assert tasks.main(["test", "--fast"]) == 0
    cmd, _ = _pytest_command(tasks)
    assert cmd[cmd.index("not slow and not browser") - 1] == "-m"
    assert cmd[-2:] == ["tests", "l2l_helpers"]
    assert "--doctest-modules" in cmd


def test_without_fast_the_notebooks_run_too_and_nothing_is_deselected(tasks):
    assert tasks.main(["test"]) == 0
    cmd, _ = _pytest_command(tasks)
    assert cmd[-3:] == ["tests", "l2l_helpers", "notebooks"]
    assert cmd.count("-m") == 1  # python -m pytest, no marker selection


def test_the_test_command_installs_nothing_and_says_how_to_get_the_browser(tasks, monkeypatch, capsys):
    monkeypatch.setattr(tasks, "_has_chromium", lambda: False)
    monkeypatch.setattr(tasks.os, "geteuid", lambda: 0, raising=False)  # even as root
    assert tasks.main(["test"]) == 0
    cmd, env = _pytest_command(tasks)
    assert cmd[:3] == ["venv/bin/python", "-m", "pytest"]
    assert "python3 tasks.py setup --browser" in capsys.readouterr().out
    assert env.get("L2L_REQUIRE_BROWSER") == tasks.os.environ.get("L2L_REQUIRE_BROWSER")


def test_setup_alone_installs_no_browser(tasks, monkeypatch):
    monkeypatch.setattr(tasks, "_has_chromium", lambda: False)
    assert tasks.main(["setup"]) == 0
    assert tasks.calls == []


def test_setup_browser_as_root_installs_chromium_with_apt_get(tasks, monkeypatch):
    _without_chromium(tasks, monkeypatch, uid=0)
    assert tasks.main(["setup", "--browser"]) == 0
    assert [cmd for cmd, _ in tasks.calls] == [["apt-get", "install", "-y", "-q", "chromium"]]


def test_setup_browser_updates_the_package_lists_once_when_the_install_fails(tasks, monkeypatch):
    _without_chromium(tasks, monkeypatch, uid=0)
    tasks.codes = [100, 0, 0]
    assert tasks.main(["setup", "--browser"]) == 0
    assert [cmd[1] for cmd, _ in tasks.calls] == ["install", "update", "install"]


def test_setup_browser_as_a_user_goes_through_sudo(tasks, monkeypatch):
    _without_chromium(tasks, monkeypatch, uid=1000)
    assert tasks.main(["setup", "--browser"]) == 0
    assert [cmd for cmd, _ in tasks.calls] == [["sudo", "apt-get", "install", "-y", "-q", "chromium"]]


def test_setup_browser_fails_when_chromium_cannot_be_installed(tasks, monkeypatch):
    _without_chromium(tasks, monkeypatch, uid=0)
    tasks.codes = [100, 0, 100]
    assert tasks.main(["setup", "--browser"]) == 1


def test_setup_browser_with_chromium_present_runs_nothing(tasks, monkeypatch):
    monkeypatch.setattr(tasks, "_has_chromium", lambda: True)
    assert tasks.main(["setup", "--browser"]) == 0
    assert tasks.calls == []


def test_ci_lints_and_checks_the_format_before_the_tests():
    script = (ROOT / ".ci" / "run").read_text()
    order = [script.index(part) for part in ("setup --browser", "check .", "format --check .", "tasks.py test\n")]
    assert order == sorted(order)


def test_ci_requires_the_browser_test_it_installed_chromium_for():
    script = (ROOT / ".ci" / "run").read_text()
    order = [script.index(part) for part in ("setup --browser", "export L2L_REQUIRE_BROWSER=1", "tasks.py test\n")]
    assert order == sorted(order)


def test_ruff_is_pinned_for_ci():
    pins = (ROOT / "requirements.txt").read_text().splitlines()
    assert [p for p in pins if p.startswith("ruff==")]
