"""Specifications of the repeated cross-validation sweep (lesson 07) and ``l2l crossval``."""

import csv
import json
import sys

import numpy as np
import pytest

from l2l_helpers.cli import main
from l2l_helpers.data.io import ImageError, write_image
from l2l_helpers.experiments import crossval
from l2l_helpers.experiments.sweep import INLINE

SIM = {"simulate": {"structure": "actin", "n": 6, "size": 96}}
TINY = dict(profile="quick", overrides={"epochs": 1, "steps_per_epoch": 2})


def _pairs(tmp_path, n, extra_target=None):
    rng = np.random.default_rng(0)
    for folder in ("input", "target"):
        for i in range(n):
            write_image(tmp_path / folder / f"cell_{i:03d}.tif", rng.random((32, 32)))
    if extra_target:
        write_image(tmp_path / "target" / extra_target, rng.random((32, 32)))
    return {"input_dir": str(tmp_path / "input"), "target_dir": str(tmp_path / "target")}


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- the plan


def test_every_drawn_pair_is_tested_exactly_once_per_repetition():
    plan = crossval.plan_crossval(n_images=20, n_pairs=[5, 8], folds=4, repeats=2, seed=3)
    for n in (5, 8):
        for r in range(2):
            folds = [t for t in plan if t["n_pairs"] == n and t["repeat"] == r]
            tested = sorted(i for t in folds for i in t["test"])
            assert len(folds) == 4 and tested == folds[0]["pairs"] and len(tested) == n


def test_no_pair_is_trained_on_and_tested_in_the_same_fold():
    plan = crossval.plan_crossval(n_images=16, n_pairs=[4, 8, 16], folds=4, repeats=2)
    for t in plan:
        assert not set(t["train"]) & set(t["test"])
        assert sorted(t["train"] + t["test"]) == t["pairs"]


def test_the_same_seed_gives_the_same_plan_and_another_seed_other_draws():
    a = crossval.plan_crossval(n_images=30, n_pairs=[8], folds=4, seed=0)
    assert a == crossval.plan_crossval(n_images=30, n_pairs=[8], folds=4, seed=0)
    assert a[0]["pairs"] != crossval.plan_crossval(n_images=30, n_pairs=[8], folds=4, seed=1)[0]["pairs"]


def test_repetitions_draw_different_pairs():
    plan = crossval.plan_crossval(n_images=30, n_pairs=[8], folds=4, repeats=2)
    assert plan[0]["pairs"] != plan[4]["pairs"]


def test_more_repetitions_go_to_the_smaller_half_of_the_numbers_of_pairs():
    plan = crossval.plan_crossval(n_images=64, n_pairs=[8, 16, 32, 64], folds=8, repeats=2, repeats_small=5)
    counts = {n: len({t["repeat"] for t in plan if t["n_pairs"] == n}) for n in (8, 16, 32, 64)}
    assert counts == {8: 5, 16: 5, 32: 2, 64: 2}


def test_epochs_grow_linearly_with_the_number_of_pairs():
    plan = crossval.plan_crossval(n_images=16, n_pairs=[4, 8, 16], folds=4)
    tasks = crossval.crossval_tasks(
        plan, {"simulate": {"structure": "actin", "n": 16}}, profile="quick", overrides={"epochs": 20}
    )
    assert {t["n_pairs"]: t["experiment"]["overrides"]["epochs"] for t in tasks} == {4: 5, 8: 10, 16: 20}


def test_each_task_is_a_json_experiment_with_the_folds_images():
    from l2l_helpers.experiments.experiment import Experiment

    plan = crossval.plan_crossval(n_images=8, n_pairs=[8], folds=4)
    task = crossval.crossval_tasks(plan, {"simulate": {"structure": "actin", "n": 8}}, profile="quick")[1]
    exp = Experiment.from_json(json.dumps(task["experiment"]))
    assert list(exp.test_images) == plan[1]["test"] and list(exp.train_images) == plan[1]["train"]


# --------------------------------------------------------------------------- bad input, before training


def test_fewer_pairs_than_the_largest_n_is_refused_before_anything_is_written(tmp_path):
    data = _pairs(tmp_path, 6)
    with pytest.raises(ValueError, match="N = 8 pairs asked for, but there are only 6"):
        crossval.run_crossval(tmp_path / "out", data, n_pairs=[4, 8], folds=2, **TINY)
    assert not (tmp_path / "out").exists()


def test_more_folds_than_the_smallest_n_allows_is_refused(tmp_path):
    with pytest.raises(ValueError, match="K = 5 folds cannot be made from N = 4"):
        crossval.run_crossval(tmp_path / "out", _pairs(tmp_path, 8), n_pairs=[4, 8], folds=5, **TINY)


def test_folds_that_leave_fewer_than_two_training_pairs_are_refused():
    with pytest.raises(ValueError, match="at least 2 are needed"):
        crossval.plan_crossval(n_images=8, n_pairs=[2], folds=2)


def test_an_unpaired_file_is_named_in_the_error(tmp_path):
    data = _pairs(tmp_path, 6, extra_target="cell_099.tif")
    with pytest.raises(ImageError, match="cell_099.tif"):
        crossval.run_crossval(tmp_path / "out", data, n_pairs=[4], folds=2, **TINY)


def test_the_command_reports_bad_input_as_an_error(tmp_path, capsys):
    _pairs(tmp_path, 4)
    code = main(
        [
            "crossval",
            "run",
            "--input",
            str(tmp_path / "input"),
            "--target",
            str(tmp_path / "target"),
            "--pairs",
            "4",
            "8",
            "--folds",
            "2",
            "--profile",
            "quick",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "N = 8 pairs asked for" in capsys.readouterr().err


def test_resuming_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / crossval.SWEEP_JSON).write_text(json.dumps({"folds": 3}))
    (out / "l2l_manifest.json").write_text(
        json.dumps({"command": "crossval", "files": [crossval.SWEEP_JSON], "info": {}, "complete": False})
    )
    with pytest.raises(ValueError, match="holds a sweep with other settings"):
        crossval.run_crossval(out, SIM, n_pairs=[4], folds=2, **TINY)


def test_a_folder_written_by_another_command_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "l2l_manifest.json").write_text(
        json.dumps({"command": "simulate", "files": [], "info": {}, "complete": True})
    )
    with pytest.raises(FileExistsError, match="written by 'simulate'"):
        crossval.run_crossval(out, SIM, n_pairs=[4], folds=2, **TINY)


def _made_up_row(task):
    """A task without training: a made-up row."""
    return {
        "n_pairs": task["n_pairs"],
        "repeat": task["repeat"],
        "fold": task["fold"],
        "status": "ok",
        "nrmse_input": 0.5,
        "nrmse_restored": 0.3,
        "ms5_input": 0.8,
        "ms5_restored": 0.9,
    }


INLINE_RUN = dict(progress=False, scheduler=INLINE, task_function=_made_up_row)


@pytest.fixture
def finished_sweep(tmp_path):
    """A finished sweep folder (rows made up, no training) and the call that made it."""
    out = tmp_path / "out"

    def run():
        return crossval.run_crossval(out, SIM, n_pairs=[4], folds=2, **INLINE_RUN, **TINY)

    run()
    return out, run


def test_the_sweep_records_the_training_settings_the_profile_gives(finished_sweep):
    from l2l_helpers.training.profiles import profile_settings

    sweep = json.loads((finished_sweep[0] / crossval.SWEEP_JSON).read_text())
    assert sweep[crossval.PROFILE_SETTINGS_KEY] == {"care": profile_settings("quick", **TINY["overrides"])}


def test_the_sweep_records_its_schema_version_and_its_settings_as_sweep_settings_json(finished_sweep):
    from l2l_helpers.experiments.sweep import SCHEMA_KEY
    from l2l_helpers.settings import SCHEMA_VERSION

    sweep = json.loads((finished_sweep[0] / crossval.SWEEP_JSON).read_text())
    settings = {k: v for k, v in sweep.items() if k not in (SCHEMA_KEY, crossval.PROFILE_SETTINGS_KEY)}
    assert next(iter(sweep)) == SCHEMA_KEY and sweep[SCHEMA_KEY] == SCHEMA_VERSION
    assert settings == crossval.SweepSettings(data=SIM, n_pairs=(4,), folds=2, **TINY).to_dict()


def test_resuming_after_the_profile_changed_is_refused_and_the_setting_named(finished_sweep, monkeypatch):
    from l2l_helpers.training.profiles import PROFILES

    out, run = finished_sweep
    newer = PROFILES["quick"].replace(learning_rate=0.01)  # as a newer l2l might define it
    monkeypatch.setitem(PROFILES, "quick", newer)
    with pytest.raises(ValueError, match=r"profile_settings\.care\.learning_rate: 0\.001 -> 0\.01"):
        run()
    assert len(_rows(out / crossval.RESULTS_CSV)) == 2  # nothing lost


def test_a_sweep_made_before_profile_settings_were_recorded_resumes_with_a_warning(finished_sweep):
    out, run = finished_sweep
    path = out / crossval.SWEEP_JSON
    old = {k: v for k, v in json.loads(path.read_text()).items() if k != crossval.PROFILE_SETTINGS_KEY}
    path.write_text(json.dumps(old))
    with pytest.warns(UserWarning, match="records no profile settings"):
        summary = run()
    assert (summary["ran"], summary["skipped"]) == (0, 2)
    assert json.loads(path.read_text()) == old  # no claim about settings its rows may not have been made with


# --------------------------------------------------------------------------- workers


def test_workers_are_limited_by_cores_and_by_memory():
    assert crossval.default_workers("quick", memory_gb=64, cpus=2) == 2
    assert crossval.default_workers("paper", memory_gb=1 + 3 * crossval.MEMORY_PER_WORKER_GB["paper"], cpus=16) == 3
    assert crossval.default_workers("workshop", memory_gb=0.5, cpus=4) == 1


# --------------------------------------------------------------------------- analysis


def test_relative_change_is_averaged_over_the_folds_of_each_cross_validation():
    rows = [
        dict(n_pairs=4, repeat=r, fold=f, status="ok", nrmse_input=0.5, nrmse_restored=v)
        for r, values in enumerate(((0.25, 0.35), (0.4, 0.4)))
        for f, v in enumerate(values)
    ]
    np.testing.assert_allclose(crossval.relative_changes(rows)[4], [-0.4, -0.2])


def test_failed_rows_are_left_out_of_the_relative_changes():
    rows = [
        dict(n_pairs=4, repeat=0, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=0.25),
        dict(n_pairs=4, repeat=0, fold=1, status="failed", nrmse_input=np.nan, nrmse_restored=np.nan),
    ]
    np.testing.assert_allclose(crossval.relative_changes(rows)[4], [-0.5])
    assert crossval.summarize(rows)[0]["folds_failed"] == 1


def test_a_last_line_cut_off_by_a_killed_run_is_not_read(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("n_pairs,repeat,fold,nrmse_input,nrmse_restored,status\n4,0,0,0.5,0.3,ok\n4,0,1,0.5,0.")
    assert [r["fold"] for r in crossval.read_results(path)] == [0]


def test_the_figure_has_a_ground_truth_row_when_the_csv_has_ground_truth_scores():
    import matplotlib.pyplot as plt

    row = dict(
        n_pairs=4, repeat=0, fold=0, status="ok", nrmse_input=0.5, nrmse_restored=0.3, ms5_input=0.8, ms5_restored=0.9
    )
    assert len(crossval.plot_crossval([row]).axes) == 2
    gt = dict(row, nrmse_input_gt=0.5, nrmse_restored_gt=0.2, ms5_input_gt=0.8, ms5_restored_gt=0.95)
    assert len(crossval.plot_crossval([gt]).axes) == 4
    plt.close("all")


# --------------------------------------------------------------------------- Dask


def _fake_task(task):
    """A task without training: fails for fold 1 and counts its attempts in a file beside the data."""
    from pathlib import Path

    attempts = Path(task["experiment"]["data"]["input_dir"]).parent / f"attempts_{task['fold']}"
    with open(attempts, "a") as f:
        f.write("x")
    if task["fold"] == 1:
        raise RuntimeError("this fold always fails")
    return _made_up_row(task)


@pytest.mark.slow
def test_a_task_that_fails_twice_is_recorded_as_failed_and_the_others_finish(tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import the test module
    data = _pairs(tmp_path, 4)
    summary = crossval.run_crossval(
        tmp_path / "out", data, n_pairs=[4], folds=2, workers=2, progress=False, task_function=_fake_task, **TINY
    )
    rows = {int(r["fold"]): r for r in _rows(summary["csv"])}
    assert rows[0]["status"] == "ok"
    assert rows[1]["status"] == "failed" and "this fold always fails" in rows[1]["error"]
    assert (tmp_path / "attempts_1").read_text() == "xx"
    assert summary["failed"] == 1


class _Interrupt(BaseException):
    """Stands for the run being killed: not an Exception, so no retry and no failed row catch it."""


def _interrupted_after(n_rows):
    """A task function that makes up rows, and interrupts the run at task number ``n_rows + 1``."""
    ran = []

    def task(t):
        if len(ran) == n_rows:
            raise _Interrupt
        ran.append((t["n_pairs"], t["repeat"], t["fold"]))
        return dict(_made_up_row(t), seconds=len(ran))

    return task, ran


def test_an_interrupted_sweep_keeps_its_finished_rows_and_resumes_only_the_missing_ones(tmp_path):
    out = tmp_path / "sweep"
    sweep = dict(n_pairs=[4], folds=2, repeats=3, progress=False, scheduler=INLINE, **TINY)
    first, ran_first = _interrupted_after(2)
    with pytest.raises(_Interrupt):
        crossval.run_crossval(out, SIM, task_function=first, **sweep)
    before = _rows(out / crossval.RESULTS_CSV)
    assert [(int(r["n_pairs"]), int(r["repeat"]), int(r["fold"])) for r in before] == ran_first

    second, ran_second = _interrupted_after(100)
    summary = crossval.run_crossval(out, SIM, task_function=second, **sweep)
    assert (summary["skipped"], summary["ran"], summary["failed"]) == (2, 4, 0)
    assert not set(ran_first) & set(ran_second)  # finished rows are not computed again
    after = _rows(out / crossval.RESULTS_CSV)
    assert sorted((r["n_pairs"], r["repeat"], r["fold"]) for r in after) == [
        ("4", str(r), str(f)) for r in range(3) for f in range(2)
    ]
    assert after[:2] == before  # kept as they were (their seconds too)


def test_the_committed_workshop_sweep_resumes_with_every_row_done_and_unchanged(tmp_path):
    import shutil
    from pathlib import Path

    committed = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "07_crossval_workshop"
    out = tmp_path / "07_crossval_workshop"
    shutil.copytree(committed, out)
    recorded = json.loads((out / crossval.SWEEP_JSON).read_text())
    settings = {k: v for k, v in recorded.items() if k != crossval.PROFILE_SETTINGS_KEY}

    def never(task):
        raise AssertionError(f"a finished row was computed again: {task['n_pairs']} {task['repeat']} {task['fold']}")

    summary = crossval.run_crossval(out, progress=False, scheduler=INLINE, task_function=never, **settings)
    assert (summary["ran"], summary["skipped"], summary["failed"]) == (0, summary["tasks"], 0)
    for name in (crossval.RESULTS_CSV, crossval.SWEEP_JSON):
        assert (out / name).read_bytes() == (committed / name).read_bytes(), name


def test_sweep_settings_name_a_wrong_setting():
    with pytest.raises(ValueError, match="folds must be a whole number"):
        crossval.SweepSettings(data=SIM, n_pairs=(4,), folds=2.5)
    with pytest.raises(ValueError, match="unknown SweepSettings setting 'fold'"):
        crossval.run_crossval("unused", SIM, n_pairs=[4], fold=2)


def test_a_sweep_given_as_settings_records_the_same_as_one_given_by_keywords(tmp_path):
    by_keywords = crossval.run_crossval(tmp_path / "a", SIM, n_pairs=[4], folds=2, **INLINE_RUN, **TINY)
    settings = crossval.SweepSettings(data=SIM, n_pairs=(4,), folds=2, **TINY)
    by_settings = crossval.run_crossval(tmp_path / "b", settings=settings, **INLINE_RUN)
    assert (tmp_path / "a" / crossval.SWEEP_JSON).read_text() == (tmp_path / "b" / crossval.SWEEP_JSON).read_text()
    assert by_keywords["tasks"] == by_settings["tasks"] == 2


def test_a_cluster_whose_workers_offer_no_training_resource_is_refused(tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        with pytest.raises(ValueError, match="--resources training=1"):
            crossval.run_crossval(tmp_path / "out", SIM, n_pairs=[4], folds=2, scheduler=client, progress=False, **TINY)


def test_a_local_cluster_serves_the_dask_dashboard_on_localhost():
    import urllib.request

    from distributed import Client

    with crossval.local_cluster(1) as cluster, Client(cluster) as client:
        link = client.dashboard_link
        assert link.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(link, timeout=30) as page:  # bokeh installed: the real dashboard, not a notice
            assert page.status == 200
            assert b"Bokeh.embed" in page.read()  # the missing-bokeh notice page has no Bokeh application
