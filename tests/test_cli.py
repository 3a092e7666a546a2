"""The l2l command: help, dispatch and error reporting."""

import subprocess
import sys

import pytest

from l2l_helpers.cli import build_parser, main


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("simulate", "data", "contrast", "drift", "train", "restore", "evaluate", "course"):
        assert command in out


def test_every_subcommand_has_its_own_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, f"l2l {name} has no description"
        p.format_help()


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 1
    assert "usage: l2l" in capsys.readouterr().out


def test_user_error_is_printed_without_traceback(tmp_path, capsys):
    code = main(["course", "--notebooks", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
    assert code == 2
    err = capsys.readouterr().err
    assert "l2l course: error:" in err and "missing" in err and "Traceback" not in err


def test_help_does_not_import_tensorflow():
    code = "import sys; from l2l_helpers.cli import build_parser; build_parser(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_console_script_runs_as_module():
    result = subprocess.run([sys.executable, "-m", "l2l_helpers.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "l2l" in result.stdout
