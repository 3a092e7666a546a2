"""Specifications of the validation of every method on held-out simulated cells (``l2l validate``, issue 12)."""

import csv
import functools
import json
import math
import shutil
import sys

import pytest

from l2l_helpers.cli import main
from l2l_helpers.data.simulate import PAIRED_STRUCTURES
from l2l_helpers.experiments import validate
from l2l_helpers.experiments.sweep import INLINE

TINY = {"training": {"epochs": 1, "steps_per_epoch": 2}}
REQUIRED = (
    "structure",
    "method",
    "loss",
    "psnr_gt",
    "nrmse_gt",
    "ssim_gt",
    "ms5_gt",
    "psnr_target",
    "ssim_target",
    "background",
    "hallucination",
    "fwhm_px",
    "contrast",
    "n_train",
    "n_test",
    "seconds",
    "status",
    "error",
)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=validate.COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({c: "" for c in validate.COLUMNS} | r)


def _foreign_validation_folder(path, config):
    path.mkdir()
    (path / validate.VALIDATION_JSON).write_text(json.dumps(config))
    (path / "l2l_manifest.json").write_text(
        json.dumps({"command": "validate", "files": [validate.VALIDATION_JSON], "info": {}, "complete": False})
    )
    return path


# --------------------------------------------------------------------------- the plan


def test_the_plan_has_one_task_per_trained_method_and_one_for_the_untrained_methods_of_each_structure():
    tasks = validate.plan_validation(profile="quick")
    assert len(tasks) == len(PAIRED_STRUCTURES) * (1 + len(validate.TRAINED_METHODS))
    for structure in PAIRED_STRUCTURES:
        mine = [t["methods"] for t in tasks if t["structure"] == structure]
        assert mine[0] == list(validate.UNTRAINED_METHODS)
        assert sorted(m for ms in mine[1:] for m in ms) == sorted(validate.TRAINED_METHODS)
        assert all(len(ms) == 1 for ms in mine[1:])


def test_every_method_of_the_paper_is_planned():
    assert set(validate.METHODS) == {
        "input",
        "input_average",
        "target",
        "gaussian",
        "rolling_ball",
        "tophat",
        "clahe",
        "n2n_l1",
        "n2n_ms3",
        "l2l_l1",
        "l2l_ssim",
        "l2l_ms3",
        "l2l_ms5",
        "cyclegan",
    }
    assert set(validate.UNTRAINED_METHODS) | set(validate.TRAINED_METHODS) == set(validate.METHODS)


def test_the_same_arguments_give_the_same_plan():
    a = validate.plan_validation(["actin", "pxn"], profile="quick", seed=3)
    assert a == validate.plan_validation(["pxn", "actin"], profile="quick", seed=3)


def test_every_method_of_a_structure_sees_the_same_cells_and_each_structure_its_own():
    tasks = validate.plan_validation(profile="workshop")
    data = {}
    for t in tasks:
        data.setdefault(t["structure"], set()).add(json.dumps([t["data"], t["n_train"], t["n_test"]]))
    assert all(len(d) == 1 for d in data.values())
    seeds = [json.loads(next(iter(d)))[0]["seed"] for d in data.values()]
    assert len(set(seeds)) == len(PAIRED_STRUCTURES)


def test_another_seed_simulates_other_cells():
    a = validate.plan_validation(["actin"], ["input"], profile="quick", seed=0)[0]["data"]["seed"]
    b = validate.plan_validation(["actin"], ["input"], profile="quick", seed=1)[0]["data"]["seed"]
    assert a != b


def test_the_workshop_profile_uses_the_workshop_trainings_on_256_px_cells():
    s = validate.validation_settings("workshop")
    assert (s["size"], s["n_train"], s["n_test"], s["training"], s["cyclegan"]) == (256, 8, 3, {}, {})


def test_overrides_are_merged_into_the_profile():
    s = validate.validation_settings("quick", {"n_test": 1, "training": {"epochs": 1}})
    assert s["n_test"] == 1 and s["training"]["epochs"] == 1
    assert s["training"]["steps_per_epoch"] == validate.VALIDATION_PROFILES["quick"].training["steps_per_epoch"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"epochs": 1}, "unknown validation setting 'epochs'"),
        ({"training": {"epoch": 1}}, "epoch"),
        ({"cyclegan": {"crop_size": 30}}, "crop_size"),
        ({"n_train": 1}, "n_train must be at least 2"),
        ({"n_test": 1.5}, "n_test must be a whole number"),
    ],
)
def test_bad_settings_are_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        validate.validation_settings("quick", overrides)


def test_an_unknown_structure_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown structure 'nucleus_membrane'"):
        validate.plan_validation(["actin", "nucleus_membrane"])


def test_an_unknown_method_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown method 'l2l_mse'"):
        validate.plan_validation(methods=["l2l_l1", "l2l_mse"])


# --------------------------------------------------------------------------- one task (no training)


def test_the_microtubule_width_is_measured_for_tubulin_only():
    rows = {}
    for structure in ("actin", "tubulin"):
        task = validate.plan_validation([structure], ["input", "target"], profile="quick")[0]
        rows[structure] = validate.run_validation_task(task)
    assert all(r["fwhm_px"] == "" and r["fwhm_lines"] == "" for r in rows["actin"])
    for r in rows["tubulin"]:
        assert r["fwhm_px"] > 0 and r["fwhm_gt_px"] > 0 and r["fwhm_lines"] >= 1
    tub = {r["method"]: r for r in rows["tubulin"]}
    assert tub["target"]["fwhm_px"] < tub["input"]["fwhm_px"]  # the high-contrast label shows thinner tubules


def test_the_target_is_not_scored_against_itself_and_the_input_invents_nothing():
    task = validate.plan_validation(["pxn"], ["input", "target"], profile="quick")[0]
    rows = {r["method"]: r for r in validate.run_validation_task(task)}
    assert rows["target"]["psnr_target"] == "" and rows["target"]["psnr_gt"] > rows["input"]["psnr_gt"]
    assert rows["input"]["hallucination"] == 0.0
    assert rows["target"]["contrast"] > rows["input"]["contrast"]  # the paper's choice of target


# --------------------------------------------------------------------------- reading a result


def test_numbers_are_read_as_numbers_and_empty_cells_as_nan(tmp_path):
    _write_csv(
        tmp_path / validate.VALIDATION_CSV,
        [{"structure": "actin", "method": "input", "psnr_gt": "21.5", "n_test": "3", "status": "ok"}],
    )
    row = validate.read_validation(tmp_path)[0]
    assert row["psnr_gt"] == 21.5 and row["n_test"] == 3 and math.isnan(row["fwhm_px"])


def test_pivot_gives_one_value_per_structure_and_method_leaving_failed_rows_out():
    rows = [
        {"structure": "tubulin", "method": "l2l_l1", "status": "ok", "contrast": 0.9},
        {"structure": "actin", "method": "l2l_l1", "status": "failed", "contrast": math.nan},
        {"structure": "actin", "method": "input", "status": "ok", "contrast": 0.4},
    ]
    assert validate.pivot(rows, "contrast") == {"actin": {"input": 0.4}, "tubulin": {"l2l_l1": 0.9}}


def test_the_markdown_table_has_a_width_column_for_tubulin_only_and_lists_failures():
    rows = [
        {
            "structure": s,
            "method": "input",
            "status": "ok",
            "psnr_gt": 20.0,
            "fwhm_px": 4.0,
            "fwhm_gt_px": 2.5,
            "fwhm_lines": 7,
        }
        for s in ("actin", "tubulin")
    ]
    rows.append({"structure": "actin", "method": "l2l_l1", "status": "failed", "error": "RuntimeError: boom"})
    text = validate.format_validation(rows)
    actin, tubulin = text.split("## actin")[1].split("## tubulin")
    assert "FWHM" not in actin and "FWHM (px)" in tubulin and "2.50 px, 7 lines" in tubulin
    assert "- l2l_l1 failed: RuntimeError: boom" in actin


def test_the_command_prints_the_table_of_a_finished_validation(tmp_path, capsys):
    _write_csv(
        tmp_path / validate.VALIDATION_CSV,
        [{"structure": "caveolae", "method": "gaussian", "psnr_gt": "23.456", "status": "ok"}],
    )
    assert main(["validate", "table", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## caveolae" in out and "| gaussian | 23.46 |" in out


# --------------------------------------------------------------------------- the output folder


def test_a_folder_holding_a_validation_with_another_configuration_is_refused(tmp_path):
    out = _foreign_validation_folder(tmp_path / "out", {"seed": 5})
    with pytest.raises(ValueError, match="holds a validation with other settings"):
        validate.run_validation(out, ["actin"], profile="quick", methods=["input"], progress=False)


def _made_up_rows(task):
    """A task without training: made-up rows for its methods."""
    return [{"structure": task["structure"], "method": m, "psnr_gt": 20.0, "status": "ok"} for m in task["methods"]]


def _made_up_validation(out, methods):
    validate.run_validation(
        out, ["actin"], profile="quick", methods=methods, progress=False, scheduler=INLINE, task_function=_made_up_rows
    )
    return json.loads((out / validate.VALIDATION_JSON).read_text())


def test_the_validation_records_its_schema_version_first(tmp_path):
    from l2l_helpers.experiments.sweep import SCHEMA_KEY
    from l2l_helpers.settings import SCHEMA_VERSION

    config = _made_up_validation(tmp_path / "out", ["input"])
    assert list(config)[:2] == [SCHEMA_KEY, "structures"] and config[SCHEMA_KEY] == SCHEMA_VERSION


def test_the_validation_records_the_settings_of_the_trainings_it_runs(tmp_path):
    from l2l_helpers.training.cyclegan import cyclegan_settings
    from l2l_helpers.training.profiles import profile_settings

    config = _made_up_validation(tmp_path / "out", ["input", "l2l_l1", "cyclegan"])
    cyclegan = cyclegan_settings("quick", **config["settings"]["cyclegan"])
    assert config["profile_settings"] == {
        "care": profile_settings("quick", **config["settings"]["training"]),
        "cyclegan": json.loads(json.dumps(cyclegan)),
    }


def test_a_validation_without_trainings_records_no_training_settings(tmp_path):
    assert _made_up_validation(tmp_path / "out", ["input", "gaussian"])["profile_settings"] == {}


def test_resuming_a_validation_after_the_cyclegan_profile_changed_is_refused(tmp_path, monkeypatch):
    from l2l_helpers.training.cyclegan import CYCLEGAN_PROFILES

    _made_up_validation(tmp_path / "out", ["input", "cyclegan"])
    quick = CYCLEGAN_PROFILES["quick"].replace(gen_n_first=16)
    monkeypatch.setitem(CYCLEGAN_PROFILES, "quick", quick)  # as a newer l2l might define it
    with pytest.raises(ValueError, match=r"profile_settings\.cyclegan\.gen_n_first: 8 -> 16"):
        validate.run_validation(
            tmp_path / "out", ["actin"], profile="quick", methods=["input", "cyclegan"], progress=False
        )


def test_a_folder_written_by_another_command_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "l2l_manifest.json").write_text(
        json.dumps({"command": "crossval", "files": [], "info": {}, "complete": True})
    )
    with pytest.raises(FileExistsError, match="written by 'crossval'"):
        validate.run_validation(out, ["actin"], profile="quick", methods=["input"], progress=False)


def test_the_command_names_a_foreign_file_in_the_output_folder(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["validate", "run", "--out", str(out), "--profile", "quick", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "l2l validate: error:" in err and "notes.txt" in err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_the_command_names_an_unknown_structure(tmp_path, capsys):
    assert main(["validate", "run", "--out", str(tmp_path / "out"), "--structure", "actin", "microtubules"]) == 2
    assert "unknown structure 'microtubules'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_names_an_unknown_method(tmp_path, capsys):
    assert main(["validate", "run", "--out", str(tmp_path / "out"), "--method", "l2l_l1", "care"]) == 2
    assert "unknown method 'care'" in capsys.readouterr().err


# --------------------------------------------------------------------------- runs on Dask

RUN = dict(
    structures=["tubulin"],
    methods=["input", "target", "l2l_l1"],
    profile="quick",
    overrides=TINY,
    workers=2,
    progress=False,
)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny real validation: tubulin, the input, the target and one L2L network."""
    out = tmp_path_factory.mktemp("validation") / "out"
    summary = validate.run_validation(out, **RUN)
    return out, summary


@pytest.mark.slow
def test_a_run_writes_one_row_per_structure_and_method_with_the_required_columns(finished):
    out, summary = finished
    rows = _rows(out / validate.VALIDATION_CSV)
    assert set(REQUIRED) <= set(rows[0])
    assert [(r["structure"], r["method"]) for r in rows] == [
        ("tubulin", "input"),
        ("tubulin", "l2l_l1"),
        ("tubulin", "target"),
    ]
    assert all(r["status"] == "ok" and r["error"] == "" for r in rows)
    assert summary["ran"] == 2 and summary["failed"] == 0 and summary["rows"] == 3


@pytest.mark.slow
def test_a_run_scores_the_network_and_records_its_cells(finished):
    out, _ = finished
    row = next(r for r in validate.read_validation(out) if r["method"] == "l2l_l1")
    assert row["kind"] == "l2l" and row["loss"] == "l1"
    assert all(math.isfinite(row[c]) for c in ("psnr_gt", "ssim_gt", "psnr_target", "background", "contrast"))
    assert row["train_images"] == "cell_000.tif cell_001.tif cell_002.tif"
    assert row["test_images"] == "cell_003.tif cell_004.tif"


@pytest.mark.slow
def test_a_run_ends_with_the_markdown_table(finished):
    out, _ = finished
    text = (out / validate.VALIDATION_MD).read_text()
    assert text == validate.format_validation(validate.read_validation(out))
    assert "## tubulin" in text and "| l2l_l1 |" in text


@pytest.mark.slow
def test_running_again_on_a_finished_folder_runs_nothing_and_keeps_every_row(finished, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(finished[0], out)
    before = (out / validate.VALIDATION_CSV).read_text()
    summary = validate.run_validation(out, **RUN)
    assert (summary["ran"], summary["skipped"]) == (0, 2)
    assert (out / validate.VALIDATION_CSV).read_text() == before  # seconds and workers too: nothing recomputed


@pytest.mark.slow
def test_a_deleted_row_is_computed_again_and_only_it(finished, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(finished[0], out)
    rows = _rows(out / validate.VALIDATION_CSV)
    deleted = next(r for r in rows if r["method"] == "l2l_l1")
    _write_csv(out / validate.VALIDATION_CSV, [r for r in rows if r is not deleted])
    summary = validate.run_validation(out, **RUN)
    assert (summary["ran"], summary["skipped"]) == (1, 1)
    after = {r["method"]: r for r in _rows(out / validate.VALIDATION_CSV)}
    assert len(after) == 3
    for r in rows:
        if r is not deleted:
            assert after[r["method"]] == r
    # computed again, to the same scores: same seed, same cells, same weights on whichever worker
    assert after["l2l_l1"]["status"] == "ok" and math.isfinite(float(after["l2l_l1"]["psnr_gt"]))
    assert after["l2l_l1"]["test_images"] == deleted["test_images"]
    for column in ("psnr_gt", "ssim_gt", "background", "psnr_target"):
        assert after["l2l_l1"][column] == deleted[column], column


def _fake_task(task, attempts_dir):
    """A task without training: ``l2l_ms3`` always fails; attempts are counted in files."""
    from pathlib import Path

    name = "untrained" if len(task["methods"]) > 1 else task["methods"][0]
    with open(Path(attempts_dir) / f"attempts_{name}", "a") as f:
        f.write("x")
    if task["methods"] == ["l2l_ms3"]:
        raise RuntimeError("this network never trains")
    return [{"structure": task["structure"], "method": m, "psnr_gt": 20.0, "status": "ok"} for m in task["methods"]]


@pytest.mark.slow
def test_a_task_that_fails_twice_is_recorded_as_failed_and_the_others_finish(tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import the test module
    summary = validate.run_validation(
        tmp_path / "out",
        ["caveolae"],
        methods=["input", "l2l_l1", "l2l_ms3"],
        profile="quick",
        workers=2,
        progress=False,
        task_function=functools.partial(_fake_task, attempts_dir=str(tmp_path)),
    )
    rows = {r["method"]: r for r in _rows(summary["csv"])}
    assert rows["input"]["status"] == "ok" and rows["l2l_l1"]["status"] == "ok"
    assert rows["l2l_ms3"]["status"] == "failed" and "this network never trains" in rows["l2l_ms3"]["error"]
    assert (tmp_path / "attempts_l2l_ms3").read_text() == "xx"
    assert summary["failed"] == 1
    assert "- l2l_ms3 failed: RuntimeError: this network never trains" in summary["table"].read_text()


def test_the_committed_workshop_validation_is_complete_and_matches_its_plan():
    # notebook 09 reads it; regenerated with
    # `l2l validate run --out notebooks/data/09_validation_workshop --profile workshop`
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "09_validation_workshop"
    rows = validate.read_validation(folder)
    config = json.loads((folder / validate.VALIDATION_JSON).read_text())
    planned = {(t["structure"], m) for t in validate.plan_validation(profile="workshop") for m in t["methods"]}
    assert config["settings"] == validate.validation_settings("workshop")
    assert {(r["structure"], r["method"]) for r in rows} == planned
    assert all(r["status"] == "ok" and r["profile"] == "workshop" for r in rows)


def _never_run(task):
    raise AssertionError(f"a finished row was computed again: {task['structure']} {task['methods']}")


def test_the_committed_workshop_validation_resumes_with_every_row_done_and_unchanged(tmp_path):
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "09_validation_workshop"
    out = tmp_path / "09_validation_workshop"
    shutil.copytree(committed, out)
    config = json.loads((out / validate.VALIDATION_JSON).read_text())
    summary = validate.run_validation(
        out,
        config["structures"],
        profile=config["settings"]["profile"],
        seed=config["seed"],
        methods=config["methods"],
        progress=False,
        scheduler=INLINE,
        task_function=_never_run,
    )
    assert (summary["ran"], summary["skipped"], summary["failed"]) == (0, summary["tasks"], 0)
    for name in (validate.VALIDATION_CSV, validate.VALIDATION_JSON, validate.VALIDATION_MD):
        assert (out / name).read_bytes() == (committed / name).read_bytes(), name


def test_a_failed_row_keeps_the_task_s_settings_and_the_error_on_one_line(tmp_path):
    def fail(task):
        raise RuntimeError("out of\nmemory")

    summary = validate.run_validation(
        tmp_path / "out",
        ["actin"],
        profile="quick",
        methods=["l2l_l1"],
        progress=False,
        scheduler=INLINE,
        task_function=fail,
    )
    (row,) = _rows(summary["csv"])
    assert (row["method"], row["kind"], row["loss"], row["status"]) == ("l2l_l1", "l2l", "l1", "failed")
    assert (row["n_train"], row["size"], row["error"]) == ("3", "128", "RuntimeError: out of memory")
