"""Specifications of the sweep engine shared by ``l2l crossval`` and ``l2l validate`` (lessons 07, 09)."""

import json

import pytest

from l2l_helpers.experiments import sweep

FILES = dict(settings_json="settings.json", csv_name="rows.csv", columns=("n", "score", "status", "error"))
SETTINGS = {"seed": 0, sweep.PROFILE_SETTINGS_KEY: {"care": {"epochs": 30}}}


def _open(out, settings=SETTINGS, planned=(1, 2, 3)):
    return sweep.open_resumable_csv(out, "crossval", settings, key=lambda r: int(r["n"]), planned=set(planned), **FILES)


def _write(out, rows, settings=SETTINGS):
    rows_csv = _open(out, settings)
    rows_csv.append(rows)
    rows_csv.close()
    rows_csv.out.close()


# --------------------------------------------------------------------------- running tasks


def test_an_inline_task_that_raises_is_retried_once_then_handed_over_with_its_error():
    attempts, got = [], []

    def task(t):
        attempts.append(t)
        if t == 2:
            raise RuntimeError("always fails")
        return t * 10

    sweep.run_tasks([1, 2, 3], task, str, lambda t, r, e: got.append((t, r, e)), scheduler=sweep.INLINE, progress=False)
    assert attempts == [1, 2, 2, 3]
    assert got == [(1, 10, None), (2, None, "RuntimeError: always fails"), (3, 30, None)]


def test_an_interrupt_inside_an_inline_task_stops_the_run():
    got = []

    def task(t):
        if t == 2:
            raise KeyboardInterrupt
        return t

    with pytest.raises(KeyboardInterrupt):
        sweep.run_tasks([1, 2, 3], task, str, lambda t, r, e: got.append(t), scheduler=sweep.INLINE, progress=False)
    assert got == [1]


# --------------------------------------------------------------------------- rows


def test_a_failed_row_keeps_what_is_known_and_the_error_on_one_short_line():
    row = sweep.failed_row(FILES["columns"], "ValueError:\n" + "x " * 400, n=3)
    assert (row["n"], row["score"], row["status"]) == (3, "", "failed")
    assert "\n" not in row["error"] and len(row["error"]) == 500


def test_resuming_keeps_the_finished_planned_rows_once_each_and_drops_failed_ones(tmp_path):
    out = tmp_path / "out"
    ok = {"n": 1, "score": 0.5, "status": "ok"}
    _write(out, [ok, ok, {"n": 2, "status": "failed", "error": "E"}, {"n": 9, "score": 1, "status": "ok"}])
    rows_csv = _open(out)
    assert [(r["n"], r["status"]) for r in rows_csv.kept] == [("1", "ok")]
    rows_csv.close()
    assert (out / FILES["csv_name"]).read_text().splitlines() == ["n,score,status,error", "1,0.5,ok,"]


def test_a_resumed_folder_with_other_settings_is_refused_with_the_setting_named(tmp_path):
    out = tmp_path / "out"
    _write(out, [])
    changed = {**SETTINGS, sweep.PROFILE_SETTINGS_KEY: {"care": {"epochs": 40}}}
    with pytest.raises(
        ValueError, match=r"holds a sweep with other settings \(profile_settings\.care\.epochs: 30 -> 40\)"
    ):
        _open(out, changed)


def test_a_folder_made_before_profile_settings_were_recorded_resumes_with_a_warning_and_keeps_its_settings(tmp_path):
    out = tmp_path / "out"
    _write(out, [{"n": 1, "score": 0.5, "status": "ok"}], settings={"seed": 0})
    before = (out / FILES["settings_json"]).read_text()
    with pytest.warns(UserWarning, match="records no profile settings"):
        rows_csv = _open(out)
    rows_csv.close()
    assert len(rows_csv.kept) == 1
    assert (out / FILES["settings_json"]).read_text() == before


def test_a_new_folder_records_the_schema_version_before_the_settings(tmp_path):
    from l2l_helpers.settings import SCHEMA_VERSION

    _write(tmp_path / "out", [])
    recorded = json.loads((tmp_path / "out" / FILES["settings_json"]).read_text())
    assert list(recorded) == [sweep.SCHEMA_KEY, *SETTINGS] and recorded[sweep.SCHEMA_KEY] == SCHEMA_VERSION


def _as_written_by_0_1_0(out):
    """Rewrite a folder's settings JSON as l2l 0.1.0 wrote it: without the schema version."""
    path = out / FILES["settings_json"]
    old = {k: v for k, v in json.loads(path.read_text()).items() if k != sweep.SCHEMA_KEY}
    path.write_text(json.dumps(old, indent=2) + "\n")  # as the output folder writes JSON
    return path


def test_a_folder_of_l2l_0_1_0_resumes_and_keeps_its_settings_file_as_it_was(tmp_path):
    out = tmp_path / "out"
    _write(out, [{"n": 1, "score": 0.5, "status": "ok"}])
    before = _as_written_by_0_1_0(out).read_bytes()
    rows_csv = _open(out)
    rows_csv.close()
    rows_csv.out.close()
    assert len(rows_csv.kept) == 1
    assert (out / FILES["settings_json"]).read_bytes() == before


def test_a_folder_of_l2l_0_1_0_with_other_settings_is_refused_with_the_setting_named(tmp_path):
    out = tmp_path / "out"
    _write(out, [])
    _as_written_by_0_1_0(out)
    with pytest.raises(ValueError, match=r"other settings \(seed: 0 -> 1\)"):
        _open(out, {**SETTINGS, "seed": 1})


def test_a_settings_file_of_a_newer_schema_is_refused_with_its_version(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({sweep.SCHEMA_KEY: 99, "seed": 0}))
    with pytest.raises(ValueError, match="schema_version 99 is not one this l2l reads"):
        sweep.read_settings_record(path)


@pytest.mark.parametrize(
    "folder, name", [("07_crossval_workshop", "sweep.json"), ("09_validation_workshop", "validation.json")]
)
def test_the_committed_records_of_l2l_0_1_0_read_as_the_current_form(folder, name):
    from pathlib import Path

    from l2l_helpers.settings import SCHEMA_VERSION

    path = Path(__file__).resolve().parents[1] / "notebooks" / "data" / folder / name
    written = json.loads(path.read_text())
    assert sweep.SCHEMA_KEY not in written  # as l2l 0.1.0 wrote it
    assert sweep.read_settings_record(path) == {sweep.SCHEMA_KEY: SCHEMA_VERSION, **written}


def test_a_non_empty_folder_without_settings_is_refused(tmp_path):
    out = tmp_path / "out"
    _write(out, [])
    (out / FILES["settings_json"]).unlink()
    with pytest.raises(FileExistsError, match="holds no settings.json"):
        _open(out)


def test_settings_differences_name_nested_settings_by_their_path_and_new_ones_as_not_recorded():
    old = {"seed": 0, "care": {"epochs": 30, "loss": "mae"}}
    new = {"seed": 0, "care": {"epochs": 30, "loss": "mse"}, "prefilter": 1.5}
    assert sweep.settings_differences(old, new) == "care.loss: 'mae' -> 'mse', prefilter: not recorded -> 1.5"


def test_the_remaining_tasks_run_and_the_csv_is_closed_even_when_the_run_raises(tmp_path):
    rows_csv = _open(tmp_path / "out")

    def run(todo, options):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep.run_remaining(rows_csv, [1], run, nothing_to_run="", scheduler=sweep.INLINE)
    assert rows_csv._file.closed
    rows_csv.out.close()


def test_nothing_runs_when_no_task_remains_and_that_is_said(tmp_path, capsys):
    rows_csv = _open(tmp_path / "out")
    assert sweep.run_remaining(rows_csv, [], None, nothing_to_run="3 tasks: nothing to run") is None
    assert capsys.readouterr().out == "3 tasks: nothing to run\n"
    rows_csv.out.close()
