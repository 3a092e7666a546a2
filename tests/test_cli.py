"""The l2l command: help, dispatch, error reporting, and the table of docs/cli.md that names every option."""

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.cli import build_parser, main


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("simulate", "data", "contrast", "drift", "train", "restore", "evaluate", "course"):
        assert command in out


def test_every_subcommand_has_its_own_help():
    for command, parser in _commands().items():
        assert parser.description, f"{command} has no description"
        parser.format_help()


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 1
    assert "usage: l2l" in capsys.readouterr().out


def test_user_error_is_printed_without_traceback(tmp_path, capsys):
    code = main(["course", str(tmp_path / "missing"), "--out", str(tmp_path / "out")])
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


# --------------------------------------------------------------------------- the table of docs/cli.md

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- cli-table: begin -->", "<!-- cli-table: end -->"


def _leaf_parsers(parser, prefix):
    """Every command that runs something, as ('l2l crossval run', parser)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield " ".join(prefix), parser
        return
    for name, sub in groups[0].choices.items():
        yield from _leaf_parsers(sub, [*prefix, name])


def _commands():
    top = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(leaf for name, sub in top.choices.items() for leaf in _leaf_parsers(sub, ["l2l", name]))


def _parser_names(parser):
    """Options and positionals (by metavar) of one command parser."""
    options = {s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")}
    positionals = {a.metavar or a.dest.upper() for a in parser._actions if not a.option_strings}
    return options, positionals


def _table_block(path):
    text = path.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"{path.name}: no {BEGIN} ... {END} block"
    return text[text.index(BEGIN) : text.index(END)]


def _table_rows(block):
    """{'l2l crossval run': {'output': '`--out DIR`', ...}} from the Markdown table."""
    lines = [line for line in block.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        command = re.fullmatch(r"`(l2l [a-z_ ]+)`", cells.pop("command")).group(1)
        rows[command] = cells
    return rows


def _table_names(cells):
    """Options (``--out``, ``--residual/--no-residual``) and positionals (``IN_DIR``) named in a row's code spans."""
    options, positionals = set(), set()
    for cell in cells.values():
        for span in re.findall(r"`([^`]+)`", cell):
            if span.startswith("--"):
                options.update(re.findall(r"--[a-z0-9][a-z0-9-]*", span))
            elif re.fullmatch(r"[A-Z][A-Z0-9_]*( …)?", span):
                positionals.add(span.split()[0])
    return options, positionals


TABLE = _table_rows(_table_block(ROOT / "docs" / "cli.md"))


def test_the_table_lists_every_command_and_no_other():
    assert sorted(TABLE) == sorted(_commands())


@pytest.mark.parametrize("command", sorted(_commands()))
def test_the_table_names_exactly_the_options_of_the_command(command):
    table_options, table_positionals = _table_names(TABLE[command])
    options, positionals = _parser_names(_commands()[command])
    assert table_options == options, (
        f"{command}: only in the table {table_options - options}, only in the parser {options - table_options}"
    )
    assert table_positionals == positionals


def test_readme_holds_the_same_table():
    assert _table_block(ROOT / "README.md") == _table_block(ROOT / "docs" / "cli.md")


@pytest.mark.parametrize("column", ["output", "model", "progress"])
def test_each_column_holds_its_one_option(column):
    allowed = {"output": {"--out", "--results", "--registry"}, "model": {"--model"}, "progress": {"--no-progress"}}
    for command, cells in TABLE.items():
        options, _ = _table_names({column: cells[column]})
        assert options <= allowed[column], f"{command}: {column} column names {options}"


def test_every_command_that_writes_a_file_or_folder_names_it_with_out():
    outputs = {c for c, cells in TABLE.items() if "--out" in cells["output"]}
    for command, parser in _commands().items():
        options, positionals = _parser_names(parser)
        assert ("--out" in options) == (command in outputs), command
        assert not {p for p in positionals if p.startswith("OUT")}, f"{command}: a positional output"


def test_no_command_keeps_an_old_spelling():
    old = {
        "--model-dir",
        "--n",
        "--json",
        "--simulate",
        "--structures",
        "--methods",
        "--plot",
        "--table",
        "--figure",
        "--inputs",
        "--notebooks",
    }
    for command, parser in _commands().items():
        assert not old & _parser_names(parser)[0], command


def test_every_command_that_trains_can_hide_its_progress():
    trains = ["l2l train", "l2l experiment", "l2l crossval run", "l2l validate run"]
    for command in trains:
        assert "--no-progress" in _parser_names(_commands()[command])[0], command


def test_a_command_of_two_actions_needs_one_of_them(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["crossval"])
    assert exc.value.code == 2
    assert "ACTION" in capsys.readouterr().err


def test_train_writes_its_model_to_out_and_restore_reads_it_from_model():
    args = build_parser().parse_args(["train", "--input", "i", "--target", "t", "--out", "m"])
    assert args.out == "m"
    args = build_parser().parse_args(["restore", "in", "--model", "m", "--out", "o"])
    assert (args.in_dir, args.model, args.out) == ("in", "m", "o")


# --------------------------------------------------------------------------- options reach the package functions


class _Called(Exception):
    """Raised by a stand-in for a package function, carrying the keyword arguments it got."""


def _stand_in(*args, **kwargs):
    raise _Called(kwargs)


def _pairs(tmp_path):
    from l2l_helpers.data.io import write_image

    for folder in ("input", "target"):
        write_image(tmp_path / folder / "cell_000.tif", np.eye(16, dtype=np.float32))
    return ["--input", str(tmp_path / "input"), "--target", str(tmp_path / "target"), "--out", str(tmp_path / "m")]


@pytest.mark.parametrize(("extra", "verbose"), [([], None), (["--no-progress"], 0)])
def test_train_no_progress_silences_the_care_epochs(tmp_path, monkeypatch, extra, verbose):
    import l2l_helpers.training.train

    monkeypatch.setattr(l2l_helpers.training.train, "train_from_folders", _stand_in)
    with pytest.raises(_Called) as called:
        main(["train", *_pairs(tmp_path), *extra])
    assert called.value.args[0]["verbose"] == verbose


def test_train_no_progress_silences_the_cyclegan_epochs(tmp_path, monkeypatch):
    import l2l_helpers.training.train

    monkeypatch.setattr(l2l_helpers.training.train, "train_from_folders", _stand_in)
    with pytest.raises(_Called) as called:
        main(["train", "--method", "cyclegan", *_pairs(tmp_path), "--prefilter", "1.5", "--no-progress"])
    assert called.value.args[0]["method"] == "cyclegan"
    assert called.value.args[0]["progress"] is False
    assert called.value.args[0]["prefilter_sigma"] == 1.5


def test_crossval_score_sigma_smooths_before_scoring(tmp_path, monkeypatch):
    import l2l_helpers.experiments.crossval

    monkeypatch.setattr(l2l_helpers.experiments.crossval, "run_crossval", _stand_in)
    args = ["crossval", "run", "--structure", "actin", "--n-images", "6", "--pairs", "4", "--folds", "2"]
    with pytest.raises(_Called) as called:
        main([*args, "--score-sigma", "1.5", "--no-progress", "--out", str(tmp_path / "sweep")])
    assert called.value.args[0]["prefilter"] == 1.5
    assert called.value.args[0]["progress"] is False


def test_crossval_structure_simulates_the_cells(monkeypatch):
    import l2l_helpers.experiments.crossval

    monkeypatch.setattr(l2l_helpers.experiments.crossval, "run_crossval", lambda out, data, *a, **k: _stand_in(**data))
    with pytest.raises(_Called) as called:
        main(["crossval", "run", "--structure", "pxn", "--n-images", "6", "--pairs", "4", "--folds", "2", "--out", "x"])
    assert called.value.args[0]["simulate"] == {"structure": "pxn", "n": 6, "size": 256, "seed": 0}


def test_crossval_structure_and_folders_together_are_refused(capsys):
    args = ["crossval", "run", "--structure", "pxn", "--n-images", "6", "--input", "a", "--target", "b"]
    assert main([*args, "--pairs", "4", "--folds", "2", "--out", "x"]) == 2
    assert "either --structure" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("function", "options"),
    [
        ("pairs_by_token", ["--input-token", "AC15", "--target-token", "phalloidin"]),
        ("pairs_from_channels", ["--input-channel", "1", "--target-channel", "0"]),
    ],
)
def test_data_pairs_no_progress_hides_the_bar(monkeypatch, function, options):
    import l2l_helpers.data.datasets

    monkeypatch.setattr(l2l_helpers.data.datasets, function, _stand_in)
    with pytest.raises(_Called) as called:
        main(["data", "pairs", "src", "--out", "out", *options, "--no-progress"])
    assert called.value.args[0]["progress"] is False


def test_course_no_progress_hides_the_bar(monkeypatch):
    import l2l_helpers.course.runner

    monkeypatch.setattr(l2l_helpers.course.runner, "run_course", _stand_in)
    with pytest.raises(_Called) as called:
        main(["course", "--only", "00", "--no-progress"])
    assert called.value.args[0]["progress"] is False
