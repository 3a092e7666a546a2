"""Specification of l2l_helpers.training.cyclegan.

CycleGAN networks, training, resume, restorer, ``l2l train --method cyclegan``.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.data.io import ImageError, ModelError, write_image
from l2l_helpers.data.simulate import simulate_dataset
from l2l_helpers.training import cyclegan as cg
from l2l_helpers.training.profiles import PROFILES

#: the smallest training that still shows each behaviour (most of its time is graph building)
TINY = dict(profile="quick", n_epochs=1, n_epochs_decay=1, steps_per_epoch=3, progress=False)


@pytest.fixture(scope="module")
def cells():
    """Unpaired data: three simulated actin inputs and two targets of other cells."""
    data = simulate_dataset("actin", n=5, size=64, seed=0)
    return data["input"][:3], data["benchmark"][3:]


@pytest.fixture(scope="module")
def trained(cells, tmp_path_factory):
    """One tiny training, shared by several tests (each marked slow)."""
    model_dir = tmp_path_factory.mktemp("models") / "tiny_cyclegan"
    return cg.train_cyclegan(*cells, model_dir, seed=3, **TINY)


def _h5_values(path):
    import h5py

    values = {}
    with h5py.File(path, "r") as fh:
        fh.visititems(lambda name, obj: values.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return values


def _made_up_model(model_dir, cells):
    """A model folder as a tiny training of ``cells`` leaves it after one epoch (empty weights), without training."""
    inputs, targets = cells
    info = {
        "method": "cyclegan",
        "profile": "quick",
        "seed": 3,
        "settings": cg.CYCLEGAN_PROFILES["quick"].replace(n_epochs=1, n_epochs_decay=1, steps_per_epoch=3).to_dict(),
        "percentiles": [2.0, 99.8],
        "prefilter_sigma": None,
        "data": {"input_shapes": [list(i.shape) for i in inputs], "target_shapes": [list(t.shape) for t in targets]},
    }
    model_dir.mkdir()
    (model_dir / "l2l_training.json").write_text(json.dumps(info))
    (model_dir / "l2l_state.json").write_text(json.dumps({"epochs_done": 1}))
    (model_dir / "G_AB.weights.h5").write_bytes(b"")
    return model_dir


def _same_weights(dir_a, dir_b):
    for name in cg.WEIGHT_FILES.values():
        a, b = _h5_values(dir_a / name), _h5_values(dir_b / name)
        assert a.keys() == b.keys() and a, name
        for key in a:
            if not np.array_equal(a[key], b[key]):
                return False
    return True


# --- profiles and settings (fast, no TensorFlow) ----------------------------------------------------


def test_profiles_are_cyclegan_settings_named_as_the_profiles():
    assert list(cg.CYCLEGAN_PROFILES) == list(PROFILES)
    assert all(isinstance(p, cg.CycleGANSettings) for p in cg.CYCLEGAN_PROFILES.values())


def test_profiles_record_the_settings_of_earlier_versions_in_the_same_order():
    # what l2l_training.json and validation.json record: the dicts of l2l 0.1.0, key for key
    common = dict(batch_size=4, disc_n_layers=3, learning_rate=0.0002, beta_1=0.5, lambda_cycle=10.0)
    common.update(lambda_identity=0.5, pool_size=50, init_gain=0.0005)
    sizes = {
        "quick": dict(crop_size=32, gen_n_blocks=2, gen_n_first=8, disc_n_first=8, n_epochs=2, n_epochs_decay=1),
        "workshop": dict(crop_size=48, gen_n_blocks=4, gen_n_first=16, disc_n_first=16, n_epochs=3, n_epochs_decay=3),
        "paper": dict(crop_size=256, gen_n_blocks=9, gen_n_first=64, disc_n_first=64, n_epochs=1, n_epochs_decay=9),
    }
    steps = {"quick": 8, "workshop": 50, "paper": 0}
    order = ["crop_size", "batch_size", "gen_n_blocks", "gen_n_first", "disc_n_first", "disc_n_layers", "n_epochs"]
    order += ["n_epochs_decay", "steps_per_epoch", "learning_rate", "beta_1", "lambda_cycle", "lambda_identity"]
    order += ["pool_size", "init_gain"]
    for name, settings in cg.CYCLEGAN_PROFILES.items():
        recorded = {**sizes[name], **common, "steps_per_epoch": steps[name]}
        assert list(settings.to_dict()) == order
        assert json.dumps(settings.to_dict()) == json.dumps({key: recorded[key] for key in order}), name


def test_the_committed_validation_records_the_workshop_profile():
    from pathlib import Path

    path = Path(__file__).parents[1] / "notebooks" / "data" / "09_validation_workshop" / "validation.json"
    recorded = json.loads(path.read_text())["profile_settings"]["cyclegan"]
    assert cg.CycleGANSettings.from_dict(recorded) == cg.CYCLEGAN_PROFILES["workshop"]


def test_paper_profile_uses_the_reference_networks_and_the_papers_changes():
    p = cg.CYCLEGAN_PROFILES["paper"]
    assert (p.gen_n_blocks, p.gen_n_first, p.disc_n_first, p.disc_n_layers) == (9, 64, 64, 3)
    assert (p.crop_size, p.batch_size, p.init_gain, p.pool_size) == (256, 4, 0.0005, 50)
    assert (p.learning_rate, p.beta_1, p.lambda_cycle, p.lambda_identity) == (0.0002, 0.5, 10.0, 0.5)
    assert (p.n_epochs + p.n_epochs_decay, p.n_epochs_decay) == (10, 9)


def test_settings_can_be_overridden_like_profile_settings():
    s = cg.cyclegan_settings("paper", n_epochs=1, n_epochs_decay=3, batch_size=None)
    assert (s["n_epochs"], s["n_epochs_decay"], s["batch_size"]) == (1, 3, 4)
    # the message is the Settings base's (l2l 0.1.0: "unknown CycleGAN setting 'epochs'")
    with pytest.raises(ValueError, match="unknown CycleGANSettings setting 'epochs'; known: crop_size, batch_size"):
        cg.cyclegan_settings("quick", epochs=3)
    with pytest.raises(ValueError, match="n_epochs must be a whole number"):
        cg.cyclegan_settings("quick", n_epochs=2.5)
    with pytest.raises(ValueError, match="multiple of 4"):
        cg.cyclegan_settings("quick", crop_size=34)


def test_a_wrong_typed_setting_or_an_unknown_profile_is_named():
    with pytest.raises(ValueError, match="learning_rate must be a number, got 'fast'"):
        cg.cyclegan_settings("quick", learning_rate="fast")
    with pytest.raises(ValueError, match="unknown profile 'huge'; choose one of quick, workshop, paper"):
        cg.cyclegan_settings("huge")


def test_settings_objects_are_accepted_where_a_profile_name_is():
    mine = cg.CYCLEGAN_PROFILES["quick"].replace(gen_n_first=4)
    assert cg.cyclegan_settings(mine, n_epochs=5) == {**mine.to_dict(), "n_epochs": 5}
    assert cg.profile_cyclegan_settings("quick", gen_n_first=4) == mine


def test_importing_the_module_does_not_import_tensorflow():
    code = "import sys, l2l_helpers.training.cyclegan, l2l_helpers.cli.train; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- learning-rate schedule and image pool (fast) ----------------------------------------------------


def test_learning_rate_is_constant_then_decays_linearly_towards_zero():
    f = cg.learning_rate_factor
    assert [f(e, 100, 100) for e in (0, 50, 99)] == [1.0, 1.0, 1.0]
    assert f(100, 100, 100) == pytest.approx(1 - 1 / 101) and f(199, 100, 100) == pytest.approx(1 / 101)
    assert [round(f(e, 1, 9), 6) for e in range(10)] == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert f(3, 1, 3) == pytest.approx(0.25) and f(4, 1, 3) == 0.0


def test_pool_returns_and_stores_the_first_50_images_as_they_are():
    pool = cg.ImagePool(50, seed=0)
    images = np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1)
    out = np.concatenate([pool.query(images[k : k + 4]) for k in range(0, 48, 4)] + [pool.query(images[48:])])
    assert np.array_equal(out, images)
    assert len(pool.images) == 50 and [float(i[0, 0, 0]) for i in pool.images] == list(range(50))


def test_full_pool_swaps_about_half_of_the_images_deterministically():
    def run(seed):
        pool = cg.ImagePool(50, seed=seed)
        pool.query(np.arange(50, dtype=np.float32).reshape(50, 1))
        new = np.arange(100, 300, dtype=np.float32).reshape(200, 1)
        return pool, np.concatenate([pool.query(new[k : k + 4]) for k in range(0, 200, 4)])

    pool, out = run(7)
    again, out_again = run(7)
    assert np.array_equal(out, out_again) and np.array_equal(np.stack(pool.images), np.stack(again.images))
    new = np.arange(100, 300)
    swapped = out[:, 0] != new
    assert 0.4 < swapped.mean() < 0.6  # p = 0.5
    returned = set(out[swapped, 0].tolist())
    kept = set(float(i[0]) for i in pool.images)
    # a swapped-out image was in the pool before (an old one or an earlier new one) and left it
    assert returned <= set(range(50)) | set(new.tolist()) and not returned & kept
    assert kept - set(range(50)) <= set(new[swapped].tolist())  # only swapped-in images entered the pool
    assert not np.array_equal(out, run(8)[1])


# --- networks ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_size():
    """The paper's networks, built (not trained)."""
    s = cg.cyclegan_settings("paper")
    return (
        cg.build_generator(s["gen_n_blocks"], s["gen_n_first"], s["init_gain"], seed=0),
        cg.build_discriminator(s["disc_n_first"], s["disc_n_layers"], s["init_gain"], seed=1),
    )


def test_generator_keeps_the_size_of_a_256_pixel_image(full_size):
    g, _ = full_size
    out = np.asarray(g(np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 1)).astype("float32")))
    assert out.shape == (1, 256, 256, 1) and np.all(np.abs(out) <= 1)


def test_discriminator_maps_256_pixels_to_30_by_30_scores(full_size):
    _, d = full_size
    assert tuple(d(np.zeros((2, 256, 256, 1), "float32")).shape) == (2, 30, 30, 1)


def test_networks_have_the_parameter_counts_of_the_pytorch_reference(full_size):
    # torch: ResnetGenerator(1, 1, 64, n_blocks=9) and NLayerDiscriminator(1, 64, 3) with InstanceNorm2d
    g, d = full_size
    assert g.count_params() == 11_365_633
    assert d.count_params() == 2_762_689


def test_initial_weights_are_drawn_from_normal_0_0005_and_biases_are_zero(full_size):
    import keras

    g, _ = full_size
    convs = [layer for layer in g.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    kernels = np.concatenate([np.ravel(layer.kernel) for layer in convs])
    assert np.std(kernels) == pytest.approx(0.0005, rel=0.01) and abs(np.mean(kernels)) < 1e-5
    assert all(not np.any(np.asarray(layer.bias)) for layer in convs)


def test_building_is_seeded_and_leaves_no_global_random_state():
    from l2l_helpers.training.seeding import global_random_state

    before = global_random_state()
    a = cg.build_generator(n_blocks=1, n_first=4, seed=5)
    b = cg.build_generator(n_blocks=1, n_first=4, seed=5)
    c = cg.build_generator(n_blocks=1, n_first=4, seed=6)
    assert global_random_state() == before
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))
    assert not all(np.array_equal(x, y) for x, y in zip(a.get_weights(), c.get_weights()))


def test_instance_norm_gives_each_image_and_channel_mean_0_and_variance_1():
    rng = np.random.default_rng(0)
    x = (rng.normal(0, 1, (3, 16, 16, 4)) * [1, 5, 0.1, 20] + [0, 3, -7, 100]).astype("float32")
    x[1] *= 9  # another image, other statistics
    y = np.asarray(cg.instance_norm()(x))
    assert np.allclose(y.mean(axis=(1, 2)), 0, atol=1e-4)
    var = x.var(axis=(1, 2), dtype=np.float64)
    assert np.allclose(y.var(axis=(1, 2)), var / (var + 1e-5), rtol=1e-4)  # 1 but for the epsilon
    assert np.allclose(y.var(axis=(1, 2))[:, [0, 1, 3]], 1, atol=1e-4)


def test_instance_norm_is_pytorchs_instancenorm2d_without_affine_parameters():
    layer = cg.instance_norm()
    assert (layer.groups, layer.epsilon, layer.center, layer.scale) == (-1, 1e-5, False, False)
    x = np.zeros((1, 4, 4, 2), "float32")
    x[0, 0, 0] = 1.0  # variance 1/16 - 1/256: the epsilon of 1e-5 shows in the 5th digit
    expected = (x[0, ..., 0] - 1 / 16) / np.sqrt(1 / 16 - 1 / 256 + 1e-5)
    assert np.allclose(np.asarray(layer(x))[0, ..., 0], expected, atol=1e-6)


def test_transposed_convolution_places_a_delta_where_torch_does():
    # torch ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1) with an all-ones kernel:
    # the full output of an input pixel i covers rows 2i .. 2i + 2; padding=1 drops the first row (and
    # output_padding adds one at the end), so input row i lands on output rows 2i - 1 .. 2i + 1
    g = cg.build_generator(n_blocks=0, n_first=1)
    convt, crop = g.get_layer("G_up0_convt"), g.get_layer("G_up0_crop")
    convt.kernel.assign(np.ones(tuple(convt.kernel.shape), "float32"))
    n_in = int(convt.kernel.shape[-1])
    for i, j in ((2, 3), (0, 0), (5, 4)):
        x = np.zeros((1, 6, 6, n_in), "float32")
        x[0, i, j, 0] = 1
        y = np.asarray(crop(convt(x)))[0, ..., 0]
        assert y.shape == (12, 12)
        rows, cols = np.nonzero(y)
        assert (rows.min(), rows.max()) == (max(0, 2 * i - 1), 2 * i + 1)
        assert (cols.min(), cols.max()) == (max(0, 2 * j - 1), 2 * j + 1)


def test_reflection_padding_reflects_without_repeating_the_edge():
    x = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    y = np.asarray(cg.reflection_padding(2)(x))[0, ..., 0]
    assert np.array_equal(y, np.pad(x[0, ..., 0], 2, mode="reflect"))


# --- training -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_training_writes_every_file_of_the_model_folder(trained):
    names = {p.name for p in trained.model_dir.iterdir()}
    assert names == {
        "l2l_restorer.json",
        "l2l_training.json",
        "l2l_state.json",
        "history.csv",
        "optimizer_last.npz",
        "pools.npz",
        "G_AB.weights.h5",
        "G_BA.weights.h5",
        "D_A.weights.h5",
        "D_B.weights.h5",
    }
    assert json.loads((trained.model_dir / "l2l_restorer.json").read_text())["kind"] == "cyclegan"


@pytest.mark.slow
def test_history_has_every_loss_term_and_the_schedules_learning_rate(trained):
    h = cg.read_history(trained.model_dir)
    assert set(cg.HISTORY_COLUMNS) <= set(h) and h["epoch"] == [1, 2]
    for key in ("G_AB", "G_BA", "cycle_A", "cycle_B", "idt_A", "idt_B", "G", "D_A", "D_B"):
        assert all(np.isfinite(h[key])) and all(v > 0 for v in h[key]), key
    total = [sum(h[k][i] for k in ("G_AB", "G_BA", "cycle_A", "cycle_B", "idt_A", "idt_B")) for i in range(2)]
    assert np.allclose(total, h["G"], rtol=1e-5)
    assert h["lr"] == pytest.approx([0.0002, 0.0001])  # n_epochs=1, n_epochs_decay=1


@pytest.mark.slow
def test_the_record_says_how_the_model_was_trained(trained):
    from l2l_helpers.settings import SCHEMA_VERSION

    info = json.loads((trained.model_dir / "l2l_training.json").read_text())
    assert (info["method"], info["profile"], info["seed"], info["epochs_done"]) == ("cyclegan", "quick", 3, 2)
    assert info["schema_version"] == SCHEMA_VERSION
    assert cg.CycleGANSettings.from_dict(info["settings"]) == cg.CYCLEGAN_PROFILES["quick"].replace(
        n_epochs=1, n_epochs_decay=1, steps_per_epoch=3
    )
    assert {"tensorflow", "keras", "numpy", "l2l_helpers"} <= set(info["versions"]) and info["seconds"] > 0
    assert (info["data"]["n_inputs"], info["data"]["n_targets"]) == (3, 2)


@pytest.mark.slow
def test_trained_model_restores_an_odd_sized_image_through_load_restorer(trained):
    from l2l_helpers.restoring.restorers import load_restorer

    restorer = load_restorer(trained.model_dir)
    assert isinstance(restorer, cg.CycleGANRestorer) and restorer.name == "tiny_cyclegan"
    image = simulate_dataset("actin", n=1, size=130, seed=9)["input"][0][:100]
    out = restorer.restore(image)
    assert out.shape == (100, 130) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert np.array_equal(out, trained.restorer.restore(image))  # the saved generator is the trained one


def test_large_images_are_restored_in_tiles_of_the_same_result_size(monkeypatch):
    image = simulate_dataset("actin", n=1, size=130, seed=9)["input"][0][:100]
    restorer = cg.CycleGANRestorer(cg.build_generator(n_blocks=1, n_first=4, seed=2), {"percentiles": [2, 99.8]})
    tiles = []
    predict = restorer._predict
    monkeypatch.setattr(restorer, "_predict", lambda x: tiles.append(x.shape) or predict(x))
    monkeypatch.setattr(cg.restorer, "MAX_TILE_PIXELS", 100 * 130 // 3)  # as if the image were large
    out = restorer.restore(image)
    assert out.shape == (100, 130) and np.all(np.isfinite(out)) and 0 <= out.min() and out.max() <= 1
    assert len(tiles) == 4 and all(h < 100 and w < 130 for h, w in tiles)


def test_tiles_are_blended_by_the_shared_tiling_function(monkeypatch):
    from l2l_helpers.restoring.tiling import predict_tiled

    restorer = cg.CycleGANRestorer(cg.build_generator(n_blocks=1, n_first=4, seed=2), {"percentiles": [2, 99.8]})
    image = np.random.default_rng(0).random((40, 52))
    calls = []
    monkeypatch.setattr(cg.restorer, "predict_tiled", lambda *args: calls.append(args[2]) or predict_tiled(*args))
    tiled = cg.CycleGANRestorer(restorer.network, restorer.params, n_tiles=(2, 2)).restore(image)
    x = cg.to_model_range(image, (2, 99.8))
    assert calls == [(2, 2)]
    assert np.array_equal(tiled, cg.from_model_range(predict_tiled(restorer._predict, x, (2, 2))))


@pytest.mark.slow
def test_same_seed_gives_identical_weights_and_leaves_no_global_state(cells, trained, tmp_path):
    from l2l_helpers.training.seeding import global_random_state

    before = global_random_state()
    again = cg.train_cyclegan(*cells, tmp_path / "again", seed=3, **TINY)
    assert global_random_state() == before
    assert _same_weights(trained.model_dir, again.model_dir)
    assert again.history["G"] == trained.history["G"]


@pytest.mark.slow
def test_an_interrupted_run_resumes_to_the_same_weights(cells, trained, tmp_path):
    def stop(epoch, logs):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cg.train_cyclegan(*cells, tmp_path / "m", seed=3, callbacks=[stop], **TINY)
    assert json.loads((tmp_path / "m" / "l2l_state.json").read_text())["epochs_done"] == 1
    resumed = cg.train_cyclegan(*cells, tmp_path / "m", resume=True, progress=False)
    assert resumed.history["epoch"] == [1, 2]
    assert resumed.history["G"] == pytest.approx(trained.history["G"], rel=1e-6)
    assert _same_weights(trained.model_dir, tmp_path / "m")


def test_resume_refuses_other_images_or_settings(cells, tmp_path):
    inputs, targets = cells
    model_dir = _made_up_model(tmp_path / "m", cells)
    with pytest.raises(ValueError, match="input images differ"):
        cg.train_cyclegan(inputs[:2], targets, model_dir, resume=True)
    with pytest.raises(ValueError, match="cannot change 'crop_size'"):
        cg.train_cyclegan(inputs, targets, model_dir, resume=True, crop_size=48)
    with pytest.raises(ValueError, match="unknown CycleGANSettings setting 'epochs'"):
        cg.train_cyclegan(inputs, targets, model_dir, resume=True, epochs=4)


def test_existing_model_folder_is_not_overwritten(cells, tmp_path):
    with pytest.raises(FileExistsError, match="already holds a model"):
        cg.train_cyclegan(*cells, _made_up_model(tmp_path / "m", cells), **TINY)


def test_a_folder_with_other_files_or_a_care_model_is_refused_before_anything_is_written(cells, tmp_path):
    (tmp_path / "care").mkdir()
    (tmp_path / "care" / "l2l_training.json").write_text(json.dumps({"loss": "l1"}))
    with pytest.raises(FileExistsError, match="holds another model"):
        cg.train_cyclegan(*cells, tmp_path / "care", **TINY)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="notes.txt"):
        cg.train_cyclegan(*cells, tmp_path / "notes", **TINY)
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["notes.txt"]


def test_resume_without_a_finished_epoch_or_of_a_care_model_is_refused(cells, tmp_path):
    with pytest.raises(FileNotFoundError):
        cg.train_cyclegan(*cells, tmp_path / "missing", resume=True)
    (tmp_path / "care").mkdir()
    (tmp_path / "care" / "l2l_training.json").write_text(json.dumps({"loss": "l1"}))
    with pytest.raises(ModelError, match="not a CycleGAN model folder"):
        cg.train_cyclegan(*cells, tmp_path / "care", resume=True)


def test_bad_input_images_are_refused_with_their_name(cells, tmp_path):
    inputs, targets = cells
    with pytest.raises(ValueError, match="targets: no images"):
        cg.train_cyclegan(inputs, [], tmp_path / "m")
    with pytest.raises(ImageError, match=r"inputs\[1\]: constant image"):
        cg.train_cyclegan([inputs[0], np.ones((64, 64))], targets, tmp_path / "m")
    with pytest.raises(ImageError, match=r"targets\[0\]: expected a 2-D image"):
        cg.train_cyclegan(inputs, [np.zeros((2, 64, 64))], tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_loading_a_folder_without_a_cyclegan_raises_a_model_error(tmp_path):
    from l2l_helpers.restoring.restorers import load_restorer

    (tmp_path / "l2l_restorer.json").write_text(json.dumps({"kind": "cyclegan", "params": {}}))
    with pytest.raises(ModelError, match="not a model folder|no l2l_training.json"):
        load_restorer(tmp_path)


# --- the command --------------------------------------------------------------------------------------


# --- a record of l2l 0.1.0 (tests/data/records_0.1.0/cyclegan, see its README) ------------------

CYCLEGAN_0_1_0 = Path(__file__).parent / "data" / "records_0.1.0" / "cyclegan"


def test_a_cyclegan_record_of_l2l_0_1_0_reads_as_the_current_schema_with_its_settings():
    from l2l_helpers.settings import SCHEMA_VERSION

    raw = json.loads((CYCLEGAN_0_1_0 / "l2l_training.json").read_text())
    info = cg.CycleGANRecord(CYCLEGAN_0_1_0).read_method_info()
    assert "schema_version" not in raw and info["schema_version"] == SCHEMA_VERSION
    assert {key: info[key] for key in raw} == raw
    assert cg.CycleGANSettings.from_dict(info["settings"]) == cg.CYCLEGAN_PROFILES["quick"].replace(
        n_epochs=1, n_epochs_decay=0, steps_per_epoch=2
    )


def test_a_cyclegan_of_l2l_0_1_0_restores_as_it_did_then():
    from l2l_helpers.data.io import read_image
    from l2l_helpers.restoring.restorers import load_restorer

    restorer = load_restorer(CYCLEGAN_0_1_0)
    out = restorer.restore(read_image(CYCLEGAN_0_1_0 / "input_cell_0.tif"))
    assert isinstance(restorer, cg.CycleGANRestorer)
    # equal up to float32 rounding: CPUs with and without AVX-512 round some sums differently
    np.testing.assert_allclose(out, np.load(CYCLEGAN_0_1_0 / "expected_cell_0.npy"), rtol=1e-5, atol=1e-6)


def test_the_cyclegan_record_is_the_training_record_with_the_cyclegans_files(tmp_path):
    from l2l_helpers.training.record import TrainingRecord

    record = cg.CycleGANRecord(tmp_path)
    assert isinstance(record, TrainingRecord) and not record.holds_model()
    (tmp_path / "G_AB.weights.h5").write_bytes(b"")
    assert record.holds_model() and not TrainingRecord(tmp_path).holds_model()
    assert set(record.paths) == {"history", "info", *cg.NETWORKS}


def _write_folder(folder, images, prefix):
    for k, img in enumerate(images):
        write_image(folder / f"{prefix}_{k}.tif", img)


@pytest.fixture(scope="module")
def cli_model(cells, tmp_path_factory):
    """A CycleGAN trained by ``l2l train --method cyclegan`` on folders of 3 inputs and 2 other targets."""
    from l2l_helpers.cli import main

    root = tmp_path_factory.mktemp("cli")
    inputs, targets = cells
    _write_folder(root / "input", inputs, "confocal")
    _write_folder(root / "target", targets, "sted")  # other images, other names, fewer
    code = main(
        [
            "train",
            "--method",
            "cyclegan",
            "--input",
            str(root / "input"),
            "--target",
            str(root / "target"),
            "--out",
            str(root / "model"),
            "--profile",
            "quick",
            "--epochs",
            "1",
            "--epochs-decay",
            "0",
            "--steps",
            "2",
            "--prefilter",
            "1.0",
            "--seed",
            "4",
        ]
    )
    assert code == 0
    return root


@pytest.mark.slow
def test_cli_trains_on_unpaired_folders_of_different_counts(cli_model):
    info = json.loads((cli_model / "model" / "l2l_training.json").read_text())
    assert (info["method"], info["prefilter_sigma"], info["seed"], info["epochs_done"]) == ("cyclegan", 1.0, 4, 1)
    assert (info["input_name"], info["target_name"]) == ("input", "target")
    assert info["metadata"]["data"]["target_images"] == ["sted_0.tif", "sted_1.tif"]
    assert (info["data"]["n_inputs"], info["data"]["n_targets"]) == (3, 2)


@pytest.mark.slow
def test_cli_restore_uses_the_cyclegan_generator(cli_model, tmp_path):
    from l2l_helpers.cli import main

    out = tmp_path / "restored"
    assert (
        main(
            [
                "restore",
                str(cli_model / "input"),
                "--model",
                str(cli_model / "model"),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.glob("*.tif")) == [f"confocal_{k}.tif" for k in range(3)]
    manifest = json.loads((out / "l2l_manifest.json").read_text())
    assert manifest["info"]["restorer"]["kind"] == "cyclegan"


@pytest.mark.slow
def test_cli_resume_trains_the_further_epochs(cli_model, tmp_path, capsys):
    import shutil

    from l2l_helpers.cli import main

    shutil.copytree(cli_model / "model", tmp_path / "model")
    code = main(
        [
            "train",
            "--method",
            "cyclegan",
            "--input",
            str(cli_model / "input"),
            "--target",
            str(cli_model / "target"),
            "--out",
            str(tmp_path / "model"),
            "--resume",
            "--epochs",
            "2",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert cg.read_history(tmp_path / "model")["epoch"] == [1, 2]
    assert "trained 2 epochs" in capsys.readouterr().out


def test_cli_names_an_empty_folder_or_an_unreadable_image(cells, tmp_path, capsys):
    from l2l_helpers.cli import main

    _write_folder(tmp_path / "input", cells[0][:1], "a")
    (tmp_path / "empty").mkdir()
    args = ["train", "--method", "cyclegan", "--input", str(tmp_path / "input"), "--out", str(tmp_path / "m")]
    assert main(args + ["--target", str(tmp_path / "empty")]) == 2
    assert f"{tmp_path / 'empty'}: no TIFF images" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "b.tif").write_bytes(b"not a tiff")
    assert main(args + ["--target", str(tmp_path / "broken")]) == 2
    assert "b.tif: cannot be read as a TIFF image" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_cli_refuses_options_of_the_other_method(tmp_path, capsys):
    from l2l_helpers.cli import main

    base = [
        "train",
        "--input",
        str(tmp_path / "a"),
        "--target",
        str(tmp_path / "b"),
        "--out",
        str(tmp_path / "m"),
    ]
    assert main(base + ["--method", "cyclegan", "--loss", "ssim"]) == 2
    assert "--loss: not used by --method cyclegan" in capsys.readouterr().err
    assert main(base + ["--prefilter", "1.5"]) == 2
    assert "--prefilter is an option of --method cyclegan" in capsys.readouterr().err


def test_cli_refuses_the_patch_flips_of_the_care_training_for_a_cyclegan(tmp_path, capsys):
    from l2l_helpers.cli import main

    assert (
        main(
            [
                "train",
                "--input",
                str(tmp_path / "a"),
                "--target",
                str(tmp_path / "b"),
                "--out",
                str(tmp_path / "m"),
                "--method",
                "cyclegan",
                "--flip-rotate",
            ]
        )
        == 2
    )
    assert "--flip-rotate: not used by --method cyclegan" in capsys.readouterr().err
