"""Specification of l2l_helpers.training.train (CARE training with profiles, records, resume)."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from l2l_helpers.data.io import ModelError
from l2l_helpers.training.prepare import make_training_data
from l2l_helpers.training.profiles import TRAIN_SETTINGS
from l2l_helpers.training.train import (
    LOSS_NAMES,
    PROFILES,
    CARESettings,
    load_model,
    profile_settings,
    read_history,
    read_training_info,
    train_from_folders,
    train_model,
)

#: the smallest settings that still show each behaviour
TINY = dict(profile="quick", epochs=2, steps_per_epoch=2, batch_size=4, unet_n_depth=1, unet_n_first=8, verbose=0)


@pytest.fixture(scope="module")
def patches():
    rng = np.random.default_rng(0)
    truth = [gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.0) for _ in range(2)]
    inputs = [t + 0.3 * gaussian_filter(rng.random(t.shape), 6) + 0.05 * rng.standard_normal(t.shape) for t in truth]
    return make_training_data(inputs, truth, patch_size=32, n_patches_per_image=10, seed=0, names=["cell_a", "cell_b"])


@pytest.fixture(scope="module")
def trained(patches, tmp_path_factory):
    """One tiny training with a non-default loss, shared by several tests."""
    model_dir = tmp_path_factory.mktemp("models") / "tiny_mse"
    return train_model(*patches, model_dir, loss="mse", seed=1, split=patches.split, **TINY)


# --- profiles and settings (fast) -------------------------------------------------------------


def test_every_profile_is_care_settings():
    assert set(PROFILES) == {"quick", "workshop", "paper"}
    assert all(isinstance(p, CARESettings) for p in PROFILES.values())


def test_paper_profile_uses_the_papers_settings():
    p = PROFILES["paper"]
    assert (p.patch_size, p.epochs, p.steps_per_epoch, p.batch_size) == (128, 100, 400, 16)


def test_profile_settings_can_be_overridden():
    s = profile_settings("quick", epochs=3, batch_size=None)
    assert s["epochs"] == 3 and s["batch_size"] == PROFILES["quick"].batch_size


def test_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="unknown training setting 'epoch'"):
        profile_settings("quick", epoch=3)


def test_profiles_and_loss_names_have_one_source():
    from l2l_helpers.training import losses, profiles

    assert PROFILES is profiles.PROFILES and profile_settings is profiles.profile_settings
    assert LOSS_NAMES is losses.LOSSES


def test_a_fractional_epoch_count_is_refused_with_its_name_and_value(patches, tmp_path):
    with pytest.raises(ValueError, match="epochs.*2.7"):
        train_model(*patches, tmp_path / "m", **{**TINY, "epochs": 2.7})
    assert not (tmp_path / "m").exists()


def test_unknown_loss_is_refused(patches, tmp_path):
    with pytest.raises(ValueError, match="unknown loss 'l3'"):
        train_model(*patches, tmp_path / "m", loss="l3", **TINY)


def test_patch_size_must_suit_the_network_depth(patches, tmp_path):
    X, Y, Xv, Yv = patches
    with pytest.raises(ValueError, match="not divisible"):
        train_model(
            X[:, :30, :30],
            Y[:, :30, :30],
            Xv[:, :30, :30],
            Yv[:, :30, :30],
            tmp_path / "m",
            **{**TINY, "unet_n_depth": 2},
        )  # 30 px is not a multiple of 2**2


def test_a_foreign_file_in_the_model_folder_stops_the_run_before_anything_is_written(patches, tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    (model_dir / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        train_model(*patches, model_dir, overwrite=True, **TINY)
    assert sorted(p.name for p in model_dir.iterdir()) == ["config.json", "notes.txt"]
    assert (model_dir / "config.json").read_text() == "{}"


def test_a_split_that_is_not_a_split_is_refused(patches, tmp_path):
    with pytest.raises(ValueError, match="split"):
        train_model(*patches, tmp_path / "m", split=["cell_a"], **TINY)


def test_existing_model_folder_is_not_overwritten(patches, tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already holds a model"):
        train_model(*patches, tmp_path / "m", **TINY)


def test_resume_without_a_run_is_refused(patches, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train_model(*patches, tmp_path / "nothing", resume=True, **TINY)


def test_loading_a_folder_that_is_not_a_model_raises_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="not a model folder"):
        load_model(tmp_path)


def test_loading_a_folder_that_does_not_exist_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nothing")


def test_a_model_folder_with_a_broken_config_raises_a_model_error(tmp_path):
    (tmp_path / "l2l_training.json").write_text("{}")
    (tmp_path / "config.json").write_text("not json")
    (tmp_path / "weights_last.h5").write_bytes(b"")
    with pytest.raises(ModelError, match="config.json"):
        load_model(tmp_path)


# --- training (slow) ----------------------------------------------------------------------------


@pytest.mark.slow
def test_training_writes_history_weights_and_record(trained):
    d = trained.model_dir
    for name in ("config.json", "l2l_training.json", "history.csv", "weights_best.h5", "weights_last.h5"):
        assert (d / name).is_file(), name
    hist = read_history(d)
    assert hist["epoch"] == [1, 2]
    assert all(np.isfinite(hist["loss"])) and all(np.isfinite(hist["val_loss"]))


@pytest.mark.slow
def test_the_record_says_how_the_model_was_trained(trained):
    info = json.loads((trained.model_dir / "l2l_training.json").read_text())
    assert info["loss"] == "mse" and info["seed"] == 1 and info["profile"] == "quick"
    assert info["patch_size"] == 32 and info["n_channels"] == 1
    assert info["settings"]["unet_n_depth"] == 1 and info["settings"]["epochs"] == 2
    assert len(info["percentiles"]) == 2


@pytest.mark.slow
def test_csbdeep_config_gets_no_extra_fields(trained):
    config = json.loads((trained.model_dir / "config.json").read_text())
    assert "loss" not in config and "profile" not in config and config["train_tensorboard"] is False


@pytest.mark.slow
def test_reloaded_model_knows_its_loss_and_predicts_like_the_trained_one(trained, patches):
    model = load_model(trained.model_dir)
    assert model.l2l_info["loss"] == "mse"
    x = patches[2][:2]
    assert np.allclose(
        model.keras_model.predict(x, verbose=0), trained.model.keras_model.predict(x, verbose=0), atol=1e-6
    )


@pytest.mark.slow
def test_same_seed_gives_identical_weights(trained, patches, tmp_path):
    again = train_model(*patches, tmp_path / "again", loss="mse", seed=1, **TINY)
    for a, b in zip(trained.model.keras_model.get_weights(), again.model.keras_model.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_resume_continues_an_interrupted_run_where_it_stopped(trained, patches, tmp_path):
    import keras

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    model_dir = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train_model(*patches, model_dir, loss="mse", seed=1, callbacks=[StopAfterFirstEpoch()], **TINY)
    assert read_history(model_dir)["epoch"] == [1]
    resumed = train_model(*patches, model_dir, resume=True, verbose=0)
    assert resumed.history["epoch"] == [1, 2]
    assert read_training_info(model_dir)["loss"] == "mse"
    # same batches, same optimizer state: as if never interrupted
    np.testing.assert_allclose(resumed.history["val_loss"], trained.history["val_loss"], rtol=1e-6)
    for a, b in zip(trained.model.keras_model.get_weights(), resumed.model.keras_model.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_a_unet_without_residual_is_trained_recorded_and_loaded_as_such(patches, tmp_path):
    train_model(*patches, tmp_path / "plain", unet_residual=False, **TINY)
    assert read_training_info(tmp_path / "plain")["settings"]["unet_residual"] is False
    assert load_model(tmp_path / "plain").config.unet_residual is False


@pytest.mark.slow
def test_a_flip_rotate_training_resumes_with_the_weights_of_an_uninterrupted_one(patches, tmp_path):
    import keras

    class StopAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

    whole = train_model(*patches, tmp_path / "whole", flip_rotate=True, **TINY)
    assert read_training_info(tmp_path / "whole")["settings"]["flip_rotate"] is True
    with pytest.raises(KeyboardInterrupt):
        train_model(*patches, tmp_path / "cut", flip_rotate=True, callbacks=[StopAfterFirstEpoch()], **TINY)
    resumed = train_model(*patches, tmp_path / "cut", resume=True, verbose=0)
    for a, b in zip(whole.model.keras_model.get_weights(), resumed.model.keras_model.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_a_run_recorded_before_unet_residual_and_flip_rotate_were_settings_resumes_as_residual_without_flips(
    trained, tmp_path, patches, monkeypatch
):
    import json
    import shutil

    import l2l_helpers.training.care as care

    drawn = []
    original = care.seeded_batches
    monkeypatch.setattr(care, "seeded_batches", lambda *a, **k: drawn.append(k["flip_rotate"]) or original(*a, **k))

    model_dir = tmp_path / "old"
    shutil.copytree(trained.model_dir, model_dir)
    info_path = model_dir / "l2l_training.json"
    info = json.loads(info_path.read_text())  # as l2l 0.1.0 wrote it before these settings (no schema version)
    del info["schema_version"], info["input_normalization"]
    info["settings"] = {key: info["settings"][key] for key in TRAIN_SETTINGS}
    del info["settings"]["unet_residual"], info["settings"]["flip_rotate"]
    info_path.write_text(json.dumps(info))
    result = train_model(*patches, model_dir, resume=True, epochs=3, verbose=0)
    assert result.history["epoch"] == [1, 2, 3] and result.model.config.unet_residual is True
    assert drawn == [False]


@pytest.mark.slow
def test_resume_can_train_for_more_epochs(trained, tmp_path, patches):
    import shutil

    model_dir = tmp_path / "longer"
    shutil.copytree(trained.model_dir, model_dir)
    result = train_model(*patches, model_dir, resume=True, epochs=3, verbose=0)
    assert result.history["epoch"] == [1, 2, 3]
    assert read_training_info(model_dir)["settings"]["epochs"] == 3


@pytest.mark.slow
def test_training_learns_on_a_simple_problem(tmp_path):
    # sparse spots under a smooth background and noise: after a short training
    # the validation error must be clearly below that of the input itself
    rng = np.random.default_rng(2)
    truth = [gaussian_filter((rng.random((96, 96)) > 0.97).astype(np.float32), 1.0) for _ in range(4)]
    inputs = [t + 0.2 * gaussian_filter(rng.random(t.shape), 6) + 0.03 * rng.standard_normal(t.shape) for t in truth]
    data = make_training_data(inputs, truth, patch_size=32, n_patches_per_image=16, seed=0)
    X_val, Y_val = data[2], data[3]
    input_error = float(np.mean(np.abs(X_val - Y_val)))
    result = train_model(
        *data, tmp_path / "learn", profile="quick", epochs=4, steps_per_epoch=8, batch_size=8, unet_n_first=8, verbose=0
    )
    assert min(result.history["val_loss"]) < 0.7 * input_error, (result.history["val_loss"], input_error)


def test_all_losses_are_listed():
    assert LOSS_NAMES == ("l1", "mse", "ssim", "ms3", "ms5")


def test_loss_curve_figure_marks_the_best_epoch():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.training import plot_history

    fig = plot_history({"epoch": [1, 2, 3], "loss": [0.3, 0.2, 0.1], "val_loss": [0.3, 0.15, 0.2]})
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3 and list(lines[2].get_xdata()) == [2]


def test_restoration_figure_puts_rms_maps_under_their_panels():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.training import plot_restorations

    imgs = {name: np.random.rand(32, 32) for name in ("input", "N2N", "L2L")}
    fig = plot_restorations(imgs, zoom=(slice(0, 8), slice(0, 8)), rms={"L2L": np.random.rand(32, 32)})
    titles = [ax.get_title() for ax in fig.axes]
    assert "RMS input vs L2L" in titles and "L2L (zoom)" in titles
    with pytest.raises(ValueError, match="no panel"):
        plot_restorations(imgs, rms={"CARE": np.zeros((32, 32))})


@pytest.mark.slow
def test_ssim_loss_is_used_and_its_settings_recorded(patches, tmp_path):
    result = train_model(*patches, tmp_path / "ssim", loss="ssim", **{**TINY, "epochs": 1})
    info = read_training_info(tmp_path / "ssim")
    assert info["loss"] == "ssim" and info["loss_settings"]["loss"] == "ssim"
    assert np.isfinite(result.history["loss"][0]) and result.history["loss"][0] != result.history["mae"][0]


@pytest.mark.slow
def test_overwrite_replaces_an_existing_model(trained, patches, tmp_path):
    import shutil

    model_dir = tmp_path / "replaced"
    shutil.copytree(trained.model_dir, model_dir)
    result = train_model(*patches, model_dir, loss="l1", overwrite=True, **{**TINY, "epochs": 1})
    assert result.history["epoch"] == [1]
    assert read_training_info(model_dir)["loss"] == "l1"


@pytest.mark.slow
def test_overwrite_leaves_no_file_of_the_earlier_run(trained, patches, tmp_path):
    import shutil

    import keras

    class StopBeforeTheFirstEpoch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise KeyboardInterrupt

    model_dir = tmp_path / "replaced"
    shutil.copytree(trained.model_dir, model_dir)
    with pytest.raises(KeyboardInterrupt):
        train_model(*patches, model_dir, overwrite=True, callbacks=[StopBeforeTheFirstEpoch()], **TINY)
    left = {p.name for p in model_dir.iterdir()}
    assert not left & {"weights_best.h5", "weights_last.h5", "l2l_state.json", "optimizer_last.npz"}, left
    assert read_history(model_dir) == {}


# --- split by image, recorded (slow) -------------------------------------------------------------


@pytest.mark.slow
def test_the_record_names_the_training_and_validation_images(trained, patches):
    info = read_training_info(trained.model_dir)
    assert info["train_images"] == patches.train_images and info["validation_images"] == patches.validation_images
    assert sorted(info["train_images"] + info["validation_images"]) == ["cell_a", "cell_b"]


@pytest.mark.slow
def test_a_model_folder_of_an_earlier_version_still_loads(trained, patches, tmp_path):
    import shutil

    model_dir = tmp_path / "old"
    shutil.copytree(trained.model_dir, model_dir)
    info = json.loads((model_dir / "l2l_training.json").read_text())
    del info["train_images"], info["validation_images"]
    (model_dir / "l2l_training.json").write_text(json.dumps(info))
    model = load_model(model_dir)
    assert model.l2l_info["loss"] == "mse"
    assert model.keras_model.predict(patches[2][:1], verbose=0).shape == (1, 32, 32, 1)


@pytest.mark.slow
def test_training_from_folders_records_the_file_names_of_the_split(tmp_path):
    import tifffile

    rng = np.random.default_rng(0)
    names = [f"cell_{i}.tif" for i in range(3)]
    for folder in ("input", "target"):
        (tmp_path / folder).mkdir()
        for name in names:
            img = gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.0) + 0.01 * rng.random((64, 64))
            tifffile.imwrite(tmp_path / folder / name, img.astype(np.float32))
    settings = {k: v for k, v in TINY.items() if k != "profile"}
    train_from_folders(
        tmp_path / "input",
        tmp_path / "target",
        tmp_path / "m",
        profile="quick",
        patch_size=32,
        n_patches_per_image=4,
        validation_images=["cell_1.tif"],
        **{**settings, "epochs": 1},
    )
    info = read_training_info(tmp_path / "m")
    assert info["validation_images"] == ["cell_1.tif"]
    assert info["train_images"] == ["cell_0.tif", "cell_2.tif"]


# --- input normalisation (slow) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def mean_std_patches():
    rng = np.random.default_rng(3)
    truth = [gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.0) for _ in range(2)]
    inputs = [t + 0.05 * rng.standard_normal(t.shape) for t in truth]
    return make_training_data(
        inputs,
        truth,
        patch_size=32,
        n_patches_per_image=10,
        seed=0,
        names=["cell_a", "cell_b"],
        input_normalization="mean_std",
    )


@pytest.mark.slow
def test_a_percentile_run_records_percentile_input_normalization(trained):
    assert read_training_info(trained.model_dir)["input_normalization"] == "percentile"


@pytest.mark.slow
def test_patches_given_as_split_record_their_input_normalization_and_restoring_uses_it(mean_std_patches, tmp_path):
    from l2l_helpers.restoring.restorers import CARERestorer
    from l2l_helpers.training.prepare import standardize

    result = train_model(*mean_std_patches, tmp_path / "m", split=mean_std_patches, **TINY)
    info = read_training_info(tmp_path / "m")
    assert info["input_normalization"] == info["settings"]["input_normalization"] == "mean_std"
    assert info["settings"]["n_patches_per_image"] == 10  # a TrainingData says how many patches each image gave
    image = 5.0 + np.random.default_rng(4).random((48, 48)).astype(np.float32)
    expected = result.model.keras_model.predict(standardize(image)[np.newaxis, ..., np.newaxis], verbose=0)[0, ..., 0]
    restored = CARERestorer(load_model(tmp_path / "m")).restore(image)
    np.testing.assert_allclose(restored, expected, rtol=0, atol=1e-5)


def test_an_input_normalization_unlike_the_patches_is_refused(mean_std_patches, tmp_path):
    with pytest.raises(ValueError, match="normalised with 'mean_std'"):
        train_model(*mean_std_patches, tmp_path / "m", split=mean_std_patches, input_normalization="percentile", **TINY)
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_resuming_cannot_change_the_input_normalization(trained, patches, tmp_path):
    import shutil

    shutil.copytree(trained.model_dir, tmp_path / "m")
    with pytest.raises(ValueError, match="cannot change input_normalization when resuming"):
        train_model(*patches, tmp_path / "m", resume=True, input_normalization="mean_std", verbose=0)


def _pair_folders(root):
    import tifffile

    rng = np.random.default_rng(0)
    for folder in ("input", "target"):
        (root / folder).mkdir()
        for i in range(3):
            img = gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.0) + 0.01 * rng.random((64, 64))
            tifffile.imwrite(root / folder / f"cell_{i}.tif", img.astype(np.float32))


@pytest.mark.slow
def test_training_from_folders_records_mean_std_and_a_resume_rebuilds_the_same_patches(tmp_path):
    _pair_folders(tmp_path)
    settings = {k: v for k, v in TINY.items() if k != "profile"}
    first = train_from_folders(
        tmp_path / "input",
        tmp_path / "target",
        tmp_path / "m",
        profile="quick",
        patch_size=32,
        n_patches_per_image=4,
        input_normalization="mean_std",
        **{**settings, "epochs": 1},
    )
    info = read_training_info(tmp_path / "m")
    assert info["input_normalization"] == "mean_std"
    assert info["metadata"]["data"]["input_normalization"] == "mean_std"
    resumed = train_from_folders(
        tmp_path / "input", tmp_path / "target", tmp_path / "m", resume=True, epochs=2, verbose=0
    )
    assert resumed.history["epoch"] == [1, 2] and first.history["epoch"] == [1]
    assert read_training_info(tmp_path / "m")["input_normalization"] == "mean_std"


@pytest.mark.slow
def test_training_from_folders_normalises_inputs_as_the_profile_says(tmp_path, monkeypatch):
    from l2l_helpers.training.profiles import PROFILES

    monkeypatch.setitem(PROFILES, "quick", PROFILES["quick"].replace(input_normalization="mean_std"))
    _pair_folders(tmp_path)
    settings = {k: v for k, v in TINY.items() if k != "profile"}
    train_from_folders(
        tmp_path / "input",
        tmp_path / "target",
        tmp_path / "m",
        profile="quick",
        patch_size=32,
        n_patches_per_image=4,
        **{**settings, "epochs": 1},
    )
    assert read_training_info(tmp_path / "m")["input_normalization"] == "mean_std"


@pytest.mark.slow
def test_resuming_training_from_folders_cannot_change_the_input_normalization(tmp_path):
    _pair_folders(tmp_path)
    settings = {k: v for k, v in TINY.items() if k != "profile"}
    train_from_folders(
        tmp_path / "input",
        tmp_path / "target",
        tmp_path / "m",
        profile="quick",
        patch_size=32,
        n_patches_per_image=4,
        **{**settings, "epochs": 1},
    )
    with pytest.raises(ValueError, match="cannot change input_normalization when resuming"):
        train_from_folders(
            tmp_path / "input",
            tmp_path / "target",
            tmp_path / "m",
            resume=True,
            epochs=2,
            input_normalization="mean_std",
            verbose=0,
        )


# --- global state (slow) -------------------------------------------------------------------------


@pytest.mark.slow
def test_training_leaves_every_global_random_state_as_it_was(patches, tmp_path):
    import random

    from l2l_helpers.training.seeding import global_random_state

    random.seed(11)
    np.random.seed(11)
    before = global_random_state()
    train_model(*patches, tmp_path / "m", **{**TINY, "epochs": 1})
    after = global_random_state()
    assert after == before, {k for k in before if before[k] != after[k]}


@pytest.mark.slow
def test_repeated_trainings_do_not_grow_kerass_global_names(trained, patches, tmp_path):
    from keras.src.backend.common import global_state

    counts = []
    for i in range(2):
        train_model(*patches, tmp_path / f"m{i}", **{**TINY, "epochs": 1})
        counts.append(dict(global_state.get_global_attribute("object_name_uids", default={})))
    assert counts[0] == counts[1] and counts[0]


@pytest.mark.slow
def test_a_model_trained_earlier_still_predicts_after_a_later_training(patches, tmp_path):
    first = train_model(*patches, tmp_path / "first", **{**TINY, "epochs": 1})
    x = patches[2][:2]
    expected = first.model.keras_model.predict(x, verbose=0)
    train_model(*patches, tmp_path / "second", **{**TINY, "epochs": 1})
    np.testing.assert_array_equal(first.model.keras_model.predict(x, verbose=0), expected)


# --- reusing a finished training (L2L_REUSE_MODELS, python3 tasks.py precompute) ------------------


@pytest.fixture
def finished(patches, tmp_path):
    model_dir = tmp_path / "m"
    first = train_model(*patches, model_dir, seed=3, split=patches.split, **TINY)
    return model_dir, first


@pytest.mark.slow
def test_the_same_request_reuses_a_finished_training(finished, patches):
    model_dir, first = finished
    mtime = (model_dir / "weights_best.h5").stat().st_mtime_ns
    again = train_model(*patches, model_dir, seed=3, split=patches.split, reuse=True, **TINY)
    assert again.seconds == 0.0 and again.history == first.history
    assert (model_dir / "weights_best.h5").stat().st_mtime_ns == mtime
    x = patches[2][:2]
    assert np.array_equal(again.model.keras_model.predict(x, verbose=0), first.model.keras_model.predict(x, verbose=0))


@pytest.mark.slow
def test_reuse_is_switched_on_by_the_environment(finished, patches, monkeypatch):
    model_dir, _ = finished
    monkeypatch.setenv("L2L_REUSE_MODELS", "1")
    assert train_model(*patches, model_dir, seed=3, split=patches.split, **TINY).seconds == 0.0


@pytest.mark.slow
def test_another_request_is_not_reused_and_needs_overwrite(finished, patches):
    model_dir, _ = finished
    with pytest.raises(FileExistsError, match="already holds a model"):
        train_model(*patches, model_dir, seed=4, split=patches.split, reuse=True, **TINY)
    other = train_model(*patches, model_dir, seed=4, split=patches.split, reuse=True, overwrite=True, **TINY)
    assert other.seconds > 0 and read_training_info(model_dir)["seed"] == 4


@pytest.mark.slow
def test_other_patches_are_not_reused(finished, patches):
    model_dir, _ = finished
    X, Y, X_val, Y_val = patches
    result = train_model(
        X[::-1].copy(),
        Y[::-1].copy(),
        X_val,
        Y_val,
        model_dir,
        seed=3,
        split=patches.split,
        reuse=True,
        overwrite=True,
        **TINY,
    )
    assert result.seconds > 0


@pytest.mark.slow
def test_an_unfinished_training_is_not_reused(finished, patches):
    model_dir, _ = finished
    history = model_dir / "history.csv"
    history.write_text("".join(history.read_text().splitlines(keepends=True)[:-1]))  # the last epoch never ended
    result = train_model(*patches, model_dir, seed=3, split=patches.split, reuse=True, overwrite=True, **TINY)
    assert result.seconds > 0


@pytest.mark.slow
def test_without_reuse_a_finished_training_is_trained_again(finished, patches):
    model_dir, _ = finished
    assert train_model(*patches, model_dir, seed=3, split=patches.split, overwrite=True, **TINY).seconds > 0


def test_training_from_folders_names_an_unknown_method_or_several_cyclegan_targets(tmp_path):
    with pytest.raises(ValueError, match="method 'n2v': choose one of care, cyclegan"):
        train_from_folders(tmp_path / "input", tmp_path / "target", tmp_path / "m", method="n2v")
    with pytest.raises(ValueError, match="a CycleGAN takes one target folder, got 2"):
        train_from_folders(tmp_path / "input", ["a", "b"], tmp_path / "m", method="cyclegan")


def test_resuming_on_folders_whose_image_names_changed_is_refused_with_the_folder(tmp_path):
    from l2l_helpers.training.folders import check_same_names

    check_same_names(None, ["b.tif"], tmp_path)  # not recorded: nothing to compare
    with pytest.raises(ValueError, match="input: its images differ from those of the stored run"):
        check_same_names(["a.tif"], ["b.tif"], tmp_path / "input")


# --- the training record -------------------------------------------------------------------------


def test_a_record_without_a_method_is_a_care_networks(tmp_path):
    from l2l_helpers.training.cyclegan import CycleGANRecord
    from l2l_helpers.training.record import TrainingRecord

    TrainingRecord(tmp_path).write_info({"schema_version": 1, "settings": {}})
    assert TrainingRecord(tmp_path).read_method_info()["schema_version"] == 1
    with pytest.raises(ModelError, match="not a CycleGAN model folder .* records method 'care'"):
        CycleGANRecord(tmp_path).read_method_info()


def test_the_history_is_written_with_the_given_columns_and_read_back_as_numbers(tmp_path):
    from l2l_helpers.training.record import TrainingRecord

    record = TrainingRecord(tmp_path)
    record.write_history([{"epoch": 1, "loss": 0.5, "extra": 3}, {"epoch": 2, "loss": 0.25}], ("epoch", "loss"))
    assert record.read_history() == {"epoch": [1, 2], "loss": [0.5, 0.25]}
    assert not (tmp_path / "history.csv.tmp").exists()


# --- records of l2l 0.1.0 (tests/data/records_0.1.0, see its README) -----------------------------

RECORDS_0_1_0 = Path(__file__).parent / "data" / "records_0.1.0"
#: the settings of the committed trainings: the quick profile with TINY's network, 1 epoch
TINY_0_1_0 = dict(epochs=1, steps_per_epoch=2, batch_size=4, unet_n_depth=1, unet_n_first=8, patch_size=32)


@pytest.mark.parametrize(
    "name, settings",
    [
        ("folders", dict(n_patches_per_image=4)),  # from the data settings of train_from_folders
        ("arrays_mean_std", dict(input_normalization="mean_std")),  # n_patches_per_image unknown: the profile's
        ("arrays_before_residual", dict()),  # residual and no flips, as such runs were trained
    ],
)
def test_a_record_of_l2l_0_1_0_reads_as_the_current_schema_with_whole_settings(name, settings):
    from l2l_helpers.settings import SCHEMA_VERSION
    from l2l_helpers.training.record import TrainingRecord

    record = TrainingRecord(RECORDS_0_1_0 / name)
    assert record.read_info()["schema_version"] == SCHEMA_VERSION
    assert record.read_settings() == PROFILES["quick"].replace(**TINY_0_1_0, **settings)


def test_reading_a_record_of_l2l_0_1_0_keeps_every_value_it_recorded():
    from l2l_helpers.training.record import TrainingRecord

    raw = json.loads((RECORDS_0_1_0 / "folders" / "l2l_training.json").read_text())
    info = TrainingRecord(RECORDS_0_1_0 / "folders").read_info()
    assert {key: info[key] for key in raw if key != "settings"} == {
        key: v for key, v in raw.items() if key != "settings"
    }
    assert raw["settings"].items() <= info["settings"].items()


def test_a_record_of_l2l_0_1_0_without_split_and_input_normalization_reads_them_as_unknown_and_percentile(tmp_path):
    from l2l_helpers.training.record import TrainingRecord

    info = json.loads((RECORDS_0_1_0 / "arrays_before_residual" / "l2l_training.json").read_text())
    del info["train_images"], info["validation_images"]
    (tmp_path / "l2l_training.json").write_text(json.dumps(info))
    read = TrainingRecord(tmp_path).read_info()
    assert read["validation_images"] is None and read["train_images"] is None
    assert read["input_normalization"] == "percentile" and read["settings"]["input_normalization"] == "percentile"


def test_a_record_of_a_newer_schema_is_refused_with_its_version(tmp_path):
    from l2l_helpers.training.record import TrainingRecord

    (tmp_path / "l2l_training.json").write_text(json.dumps({"schema_version": 99, "loss": "l1"}))
    with pytest.raises(ModelError, match="schema_version 99"):
        TrainingRecord(tmp_path).read_info()


def test_a_record_whose_settings_do_not_fit_is_refused_with_the_setting_named(tmp_path):
    from l2l_helpers.training.record import TrainingRecord

    (tmp_path / "l2l_training.json").write_text(json.dumps({"profile": "quick", "settings": {"epochs": "many"}}))
    with pytest.raises(ModelError, match="epochs must be a whole number"):
        TrainingRecord(tmp_path).read_info()


@pytest.mark.slow
def test_a_new_record_holds_the_schema_version_and_whole_settings_with_the_patch_size_of_its_patches(trained):
    from l2l_helpers.settings import SCHEMA_VERSION

    info = json.loads((trained.model_dir / "l2l_training.json").read_text())
    assert info["schema_version"] == SCHEMA_VERSION
    assert CARESettings.from_dict(info["settings"]) == PROFILES["quick"].replace(
        patch_size=32, epochs=2, steps_per_epoch=2, batch_size=4, unet_n_depth=1, unet_n_first=8
    )


@pytest.mark.slow
def test_settings_given_as_an_object_train_like_the_profile_name_and_overrides(trained, patches, tmp_path):
    settings = PROFILES["quick"].replace(epochs=2, steps_per_epoch=2, batch_size=4, unet_n_depth=1, unet_n_first=8)
    again = train_model(*patches, tmp_path / "again", loss="mse", seed=1, settings=settings, verbose=0)
    for a, b in zip(trained.model.keras_model.get_weights(), again.model.keras_model.get_weights()):
        assert np.array_equal(a, b)


def test_settings_and_a_profile_naming_different_profiles_are_refused(patches, tmp_path):
    with pytest.raises(ValueError, match="name different profiles"):
        train_model(*patches, tmp_path / "m", settings="paper", **TINY)
    assert not (tmp_path / "m").exists()
