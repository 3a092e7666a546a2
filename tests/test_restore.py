"""Specification of l2l_helpers.restoring.restore, l2l_helpers.scoring.background.

And the ``l2l train`` / ``l2l restore`` commands.
"""

import json

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter

from l2l_helpers.cli import main
from l2l_helpers.scoring.background import cytosolic_background, rms_map, structure_masks

TINY_CLI = [
    "--profile",
    "quick",
    "--epochs",
    "1",
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--patch-size",
    "32",
    "--patches-per-image",
    "8",
    "--depth",
    "1",
    "--n-first",
    "8",
]


def _write_folder(folder, images, names):
    folder.mkdir(parents=True)
    for name, img in zip(names, images):
        tifffile.imwrite(folder / name, img.astype(np.float32), photometric="minisblack")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """input/, actin/ and tubulin/ folders of three 64 x 64 images, paired by name."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    names = [f"cell_{i:03d}.tif" for i in range(3)]
    a = [gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.0) for _ in names]
    t = [gaussian_filter((rng.random((64, 64)) > 0.97).astype(np.float32), 1.5) for _ in names]
    x = [u + v + 0.05 * rng.standard_normal(u.shape) for u, v in zip(a, t)]
    _write_folder(root / "input", x, names)
    _write_folder(root / "actin", a, names)
    _write_folder(root / "tubulin", t, names)
    return root, names


@pytest.fixture(scope="module")
def single_model(dataset):
    root, _ = dataset
    model_dir = root / "models" / "single"
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(model_dir),
                *TINY_CLI,
            ]
        )
        == 0
    )
    return model_dir


@pytest.fixture(scope="module")
def double_model(dataset):
    root, _ = dataset
    model_dir = root / "models" / "double"
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--target",
                str(root / "tubulin"),
                "--out",
                str(model_dir),
                *TINY_CLI,
            ]
        )
        == 0
    )
    return model_dir


# --- restore (slow: needs a trained model) ------------------------------------------------------


@pytest.mark.slow
def test_restore_keeps_file_names(dataset, single_model, tmp_path):
    root, names = dataset
    assert (
        main(
            [
                "restore",
                str(root / "input"),
                "--model",
                str(single_model),
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names + ["l2l_manifest.json"])
    out = tifffile.imread(tmp_path / "out" / names[0])
    assert out.shape == (64, 64) and out.dtype == np.float32


@pytest.mark.slow
def test_multi_target_model_writes_one_subfolder_per_target(dataset, double_model, tmp_path):
    root, names = dataset
    assert (
        main(
            [
                "restore",
                str(root / "input"),
                "--model",
                str(double_model),
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["actin", "l2l_manifest.json", "tubulin"]
    for sub in ("actin", "tubulin"):
        assert sorted(p.name for p in (tmp_path / "out" / sub).iterdir()) == names


@pytest.mark.slow
def test_multi_target_restore_image_returns_channels_last(dataset, double_model):
    from l2l_helpers.restoring.restore import restore_image
    from l2l_helpers.training.train import load_model

    root, names = dataset
    img = tifffile.imread(root / "input" / names[0])
    out = restore_image(load_model(double_model), img)
    assert out.shape == (64, 64, 2) and out.dtype == np.float32


@pytest.mark.slow
def test_tiled_restoration_matches_the_whole_image(dataset, single_model):
    from l2l_helpers.restoring.restore import restore_image
    from l2l_helpers.training.train import load_model

    root, names = dataset
    model = load_model(single_model)
    img = tifffile.imread(root / "input" / names[1])
    np.testing.assert_allclose(restore_image(model, img, n_tiles=(2, 2)), restore_image(model, img), atol=1e-5)


@pytest.mark.slow
def test_model_folder_without_restorer_record_loads_as_a_care_restorer(dataset, single_model):
    from l2l_helpers.restoring.restore import restore_image
    from l2l_helpers.restoring.restorers import RESTORER_JSON, CARERestorer, load_restorer

    root, names = dataset
    assert not (single_model / RESTORER_JSON).exists()  # trained before restorers existed
    restorer = load_restorer(single_model)
    assert isinstance(restorer, CARERestorer) and restorer.params["loss"] == "l1"
    img = tifffile.imread(root / "input" / names[0])
    np.testing.assert_array_equal(restorer.restore(img), restore_image(restorer.model, img))


@pytest.mark.slow
def test_saved_care_restorer_loads_from_its_new_folder_and_restores_alike(dataset, single_model, tmp_path):
    from l2l_helpers.restoring.restorers import RESTORER_JSON, load_restorer

    root, names = dataset
    restorer = load_restorer(single_model)
    restorer.save(tmp_path / "copy")
    assert json.loads((tmp_path / "copy" / RESTORER_JSON).read_text())["kind"] == "care"
    img = tifffile.imread(root / "input" / names[0])
    np.testing.assert_allclose(load_restorer(tmp_path / "copy").restore(img), restorer.restore(img), atol=1e-6)


@pytest.mark.slow
def test_restore_refuses_a_non_empty_output_folder(dataset, single_model, tmp_path):
    root, _ = dataset
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert main(["restore", str(root / "input"), "--model", str(single_model), "--out", str(tmp_path / "out")]) == 2
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_wrong_dimensionality_is_named_in_the_restore_error(single_model, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    tifffile.imwrite(bad / "stack.tif", np.random.rand(3, 32, 32).astype(np.float32), photometric="minisblack")
    assert main(["restore", str(bad), "--model", str(single_model), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "stack.tif" in err and "2-D" in err


@pytest.mark.slow
def test_training_record_names_the_target_folders(double_model):
    from l2l_helpers.training.train import read_training_info

    info = read_training_info(double_model)
    assert info["target_names"] == ["actin", "tubulin"] and info["input_name"] == "input"
    assert info["metadata"]["data"]["patch_size"] == 32


# --- command-line errors (fast: raised before TensorFlow is imported) --------------------------


def test_restore_with_a_missing_model_folder_is_an_error(dataset, tmp_path, capsys):
    root, _ = dataset
    assert main(["restore", str(root / "input"), "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "nope: model folder does not exist" in capsys.readouterr().err


def test_restore_with_a_folder_that_is_not_a_model_is_an_error(dataset, tmp_path, capsys):
    root, _ = dataset
    assert main(["restore", str(root / "input"), "--model", str(root / "actin"), "--out", str(tmp_path / "o")]) == 2
    assert "not a model folder" in capsys.readouterr().err


def test_train_with_unpaired_folders_names_the_missing_file(dataset, tmp_path, capsys):
    root, names = dataset
    partial = tmp_path / "partial"
    _write_folder(partial, [np.random.rand(64, 64)], names[:1])
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(partial),
                "--out",
                str(tmp_path / "m"),
                *TINY_CLI,
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "unpaired" in err and names[1] in err


def test_train_with_three_dimensional_images_is_an_error(tmp_path, capsys):
    names = ["a.tif", "b.tif"]
    _write_folder(tmp_path / "in", [np.random.rand(3, 64, 64) for _ in names], names)
    _write_folder(tmp_path / "tg", [np.random.rand(3, 64, 64) for _ in names], names)
    assert (
        main(
            [
                "train",
                "--input",
                str(tmp_path / "in"),
                "--target",
                str(tmp_path / "tg"),
                "--out",
                str(tmp_path / "m"),
                *TINY_CLI,
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "a.tif" in err and "2-D" in err


def test_train_refuses_a_non_empty_model_folder(dataset, tmp_path, capsys):
    root, _ = dataset
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("x")
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(tmp_path / "m"),
                *TINY_CLI,
            ]
        )
        == 2
    )
    assert "not empty" in capsys.readouterr().err


@pytest.mark.slow
def test_train_overwrite_replaces_an_earlier_model(dataset, tmp_path):
    root, _ = dataset
    args = [
        "train",
        "--input",
        str(root / "input"),
        "--target",
        str(root / "actin"),
        "--out",
        str(tmp_path / "m"),
        *TINY_CLI,
    ]
    assert main(args) == 0
    first = (tmp_path / "m" / "history.csv").stat().st_mtime_ns
    assert main([*args, "--overwrite"]) == 0
    assert (tmp_path / "m" / "history.csv").stat().st_mtime_ns != first


def test_train_overwrite_still_refuses_a_folder_of_other_files(dataset, tmp_path, capsys):
    root, _ = dataset
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "notes.txt").write_text("x")
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(tmp_path / "m"),
                "--overwrite",
                *TINY_CLI,
            ]
        )
        == 2
    )
    assert "notes.txt" in capsys.readouterr().err
    assert (tmp_path / "m" / "notes.txt").read_text() == "x"


def test_train_resume_and_overwrite_together_are_refused(dataset, tmp_path, capsys):
    root, _ = dataset
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(tmp_path / "m"),
                "--resume",
                "--overwrite",
                *TINY_CLI,
            ]
        )
        == 2
    )
    assert "choose one" in capsys.readouterr().err


# --- background and RMS maps (fast) -------------------------------------------------------------


def _cell():
    gt = np.zeros((64, 64))
    gt[20, 10:54] = 1.0
    gt[40, 10:54] = 1.0
    cell = np.zeros((64, 64), bool)
    cell[6:58, 6:58] = True
    return gaussian_filter(gt, 1.0), cell


def test_background_ratio_is_zero_without_background():
    gt, cell = _cell()
    assert abs(cytosolic_background(gt, gt, cell)["ratio"]) < 1e-3


def test_background_ratio_grows_with_the_cytosolic_background():
    gt, cell = _cell()
    low = cytosolic_background(gt + 0.05 * cell, gt, cell)["ratio"]
    high = cytosolic_background(gt + 0.2 * cell, gt, cell)["ratio"]
    assert 0 < low < high


def test_background_ratio_ignores_offset_and_scale():
    gt, cell = _cell()
    img = gt + 0.1 * cell
    a = cytosolic_background(img, gt, cell)["ratio"]
    b = cytosolic_background(3 * img + 7, gt, cell)["ratio"]
    assert np.isclose(a, b)


def test_structure_free_cytosol_keeps_away_from_the_structure():
    gt, cell = _cell()
    m = structure_masks(gt, cell, margin=2)
    assert not (m["cytosol"] & m["structure"]).any()
    assert m["cytosol"].sum() > 100


def test_empty_cell_mask_is_an_error():
    gt, _ = _cell()
    with pytest.raises(ValueError, match="cell mask is empty"):
        cytosolic_background(gt, gt, np.zeros_like(gt, bool))


def test_rms_map_is_zero_for_identical_images_and_positive_where_they_differ():
    gt, cell = _cell()
    assert float(rms_map(gt, gt).max()) == 0.0
    diff = rms_map(gt + 0.3 * cell, gt)
    assert diff[30, 30] > diff[1, 1]


@pytest.mark.slow
def test_train_command_resumes_a_run_with_more_epochs(dataset, single_model, tmp_path):
    import shutil

    from l2l_helpers.training.train import read_history

    root, _ = dataset
    model_dir = tmp_path / "resumed"
    shutil.copytree(single_model, model_dir)
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(model_dir),
                "--resume",
                "--epochs",
                "2",
            ]
        )
        == 0
    )
    assert read_history(model_dir)["epoch"] == [1, 2]


def test_train_command_cannot_resume_a_missing_folder(dataset, tmp_path, capsys):
    root, _ = dataset
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(tmp_path / "none"),
                "--resume",
            ]
        )
        == 2
    )
    assert "nothing to resume" in capsys.readouterr().err


@pytest.mark.slow
def test_train_records_the_network_switches_given_on_the_command_line(dataset, tmp_path):
    root, _ = dataset
    assert (
        main(
            [
                "train",
                "--input",
                str(root / "input"),
                "--target",
                str(root / "actin"),
                "--out",
                str(tmp_path / "m"),
                *TINY_CLI,
                "--no-residual",
                "--flip-rotate",
            ]
        )
        == 0
    )
    settings = json.loads((tmp_path / "m" / "l2l_training.json").read_text())["settings"]
    assert settings["unet_residual"] is False and settings["flip_rotate"] is True
