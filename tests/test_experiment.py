"""Specifications of the experiment description and of run_experiment."""

import json

import pytest

from l2l_helpers.experiments.experiment import Experiment, load_experiment_data, run_experiment

SIM = {"simulate": {"structure": "actin", "n": 5, "size": 128}}
TINY = dict(profile="quick", overrides={"epochs": 2, "steps_per_epoch": 3, "n_patches_per_image": 8})


def test_experiment_round_trips_through_json():
    exp = Experiment(data=SIM, method="n2n", loss="ms3", seed=3, test_images=[4], train_images=[0, 1, 2], **TINY)
    assert Experiment.from_json(exp.to_json()) == exp


def test_experiment_is_frozen():
    exp = Experiment(data=SIM, test_images=[4])
    with pytest.raises(AttributeError):
        exp.loss = "ssim"


def test_fractional_epochs_are_an_error_not_truncated():
    with pytest.raises(ValueError, match="epochs"):
        Experiment(data=SIM, test_images=[4], overrides={"epochs": 2.7})


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="l1"):
        Experiment(data=SIM, test_images=[4], loss="l3")


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unet_depth"):
        Experiment(data=SIM, test_images=[4], overrides={"unet_depth": 3})


def test_an_image_cannot_be_both_trained_on_and_tested():
    with pytest.raises(ValueError, match=r"\[2\]"):
        Experiment(data=SIM, test_images=[2, 4], train_images=[0, 1, 2])


def test_an_experiment_needs_a_test_image():
    with pytest.raises(ValueError, match="test_images"):
        Experiment(data=SIM)


def test_data_must_be_a_simulation_or_folders():
    with pytest.raises(ValueError, match="input_dir"):
        Experiment(data={"images": "somewhere"}, test_images=[0])


def test_unknown_experiment_key_is_named():
    d = Experiment(data=SIM, test_images=[4]).to_dict() | {"epochs": 3}
    with pytest.raises(ValueError, match="epochs"):
        Experiment.from_dict(d)


def test_image_index_beyond_the_data_is_named():
    with pytest.raises(ValueError, match="index 9"):
        load_experiment_data(Experiment(data=SIM, test_images=[9]))


def test_n2n_targets_are_registered_second_realisations():
    d = load_experiment_data(
        Experiment(data={"simulate": {"structure": "actin", "n": 2, "size": 96}}, method="n2n", test_images=[1])
    )
    from l2l_helpers.pairs.drift import estimate_drift

    assert all(x.shape == y.shape for x, y in zip(d["train_input"], d["target"]))
    assert max(abs(s) for s in estimate_drift(d["train_input"][0], d["target"][0])) < 0.2


def test_folders_are_loaded_by_file_name(tmp_path):
    from l2l_helpers.data.simulate import simulate_dataset, write_dataset

    out = write_dataset(simulate_dataset("tubulin", n=3, size=64, seed=1), tmp_path / "tub")
    exp = Experiment(
        data={
            "input_dir": str(out / "input"),
            "target_dir": str(out / "benchmark"),
            "ground_truth_dir": str(out / "ground_truth"),
        },
        test_images=[2],
    )
    d = load_experiment_data(exp)
    assert d["names"] == ["cell_000.tif", "cell_001.tif", "cell_002.tif"] and len(d["ground_truth"]) == 3


@pytest.mark.slow
def test_run_experiment_returns_plain_data_and_is_deterministic():
    exp = Experiment(data=SIM, test_images=[4], seed=1, **TINY)
    first = run_experiment(exp)
    second = run_experiment(exp.to_json())
    json.dumps(first)  # plain data, no live objects
    assert first["scores"] == second["scores"]
    assert first["test_images"] == ["cell_004.tif"]
    assert set(first["validation_images"]) <= set(first["train_images"])
    assert "cell_004.tif" not in first["train_images"]
    assert set(first["scores_ground_truth"]["restored"]) >= {"psnr", "ssim", "background", "hallucination"}


@pytest.mark.slow
def test_l2l_experiment_command_writes_the_result(tmp_path, capsys):
    from l2l_helpers.cli import main

    spec = tmp_path / "exp.json"
    spec.write_text(Experiment(data=SIM, test_images=[4], **TINY).to_json())
    assert main(["experiment", str(spec), "--out", str(tmp_path / "result.json")]) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["test_images"] == ["cell_004.tif"] and "psnr" in result["scores"]["restored"]


def test_l2l_experiment_names_a_broken_file(tmp_path, capsys):
    from l2l_helpers.cli import main

    spec = tmp_path / "broken.json"
    spec.write_text("{not json")
    assert main(["experiment", str(spec)]) == 2
    assert "broken.json" in capsys.readouterr().err


def test_an_unknown_override_names_the_settings_allowed():
    with pytest.raises(ValueError, match=r"unknown training setting 'unet_depth'; known: patch_size, .*unet_n_depth"):
        Experiment(data=SIM, test_images=[4], overrides={"unet_depth": 3})


def test_an_override_outside_its_choices_names_them():
    with pytest.raises(ValueError, match=r"input_normalization must be one of percentile, mean_std, got 'zscore'"):
        Experiment(data=SIM, test_images=[4], overrides={"input_normalization": "zscore"})


def test_the_settings_are_the_profile_s_with_the_overrides_replaced():
    from l2l_helpers.training.profiles import PROFILES

    exp = Experiment(data=SIM, test_images=[4], **TINY)
    assert exp.settings == PROFILES["quick"].replace(**TINY["overrides"])
