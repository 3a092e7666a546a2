"""Specification of l2l_helpers.restoring.export.

``l2l export``, and bioimage.io packages as restorers (``l2l restore``).
"""

import zipfile

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter

from l2l_helpers.cli import main
from l2l_helpers.data.io import ModelError

TARGETS = ["actin", "tubulin"]


def _train(model_dir, k, seed=0, input_normalization=None):
    """A tiny CARE model (quick profile: 16-filter U-Net of depth 2; 1 epoch of 2 steps) with k targets."""
    from l2l_helpers.training.train import train_model

    rng = np.random.default_rng(seed)

    def patches(n):
        Y = np.stack(
            [
                np.stack([gaussian_filter((rng.random((32, 32)) > 0.95).astype(np.float32), 1.0) for _ in range(k)], -1)
                for _ in range(n)
            ]
        )
        X = np.repeat(Y.sum(-1, keepdims=True), k, -1) + 0.1 * rng.standard_normal(Y.shape)
        return X.astype(np.float32), Y.astype(np.float32)

    X, Y = patches(8)
    X_val, Y_val = patches(4)
    train_model(
        X,
        Y,
        X_val,
        Y_val,
        model_dir,
        profile="quick",
        epochs=1,
        steps_per_epoch=2,
        batch_size=4,
        unet_n_first=16,
        verbose=0,
        input_name="phalloidin",
        target_names=TARGETS[:k] if k > 1 else ["actin"],
        split={"train_images": ["cell_000.tif"], "validation_images": ["cell_001.tif"]},
        input_normalization=input_normalization,
    )
    return model_dir


@pytest.fixture(scope="module")
def single_model(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("models") / "single", k=1)


@pytest.fixture(scope="module")
def single_package(single_model, tmp_path_factory):
    """The one-target model exported with ``l2l export`` (so the command is exercised once)."""
    pytest.importorskip("bioimageio.core", reason="needs the export extra: pip install 'l2l-helpers[export]'")
    out = tmp_path_factory.mktemp("packages") / "single.zip"
    assert (
        main(
            [
                "export",
                "--model",
                str(single_model),
                "--out",
                str(out),
                "--author",
                "Ada Lovelace",
                "--cite",
                "A further paper",
                "10.1234/example",
            ]
        )
        == 0
    )
    return out


@pytest.fixture(scope="module")
def double_package(tmp_path_factory):
    pytest.importorskip("bioimageio.core", reason="needs the export extra: pip install 'l2l-helpers[export]'")
    from l2l_helpers.restoring.export import export_bioimageio

    model_dir = _train(tmp_path_factory.mktemp("models") / "double", k=2, seed=1)
    return model_dir, export_bioimageio(model_dir, tmp_path_factory.mktemp("packages") / "double.zip")


@pytest.fixture(scope="module")
def unpacked(single_package, tmp_path_factory):
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(single_package) as zf:
        zf.extractall(folder)
    return folder


# --- errors (no network needed) ------------------------------------------------------------------


def test_folder_that_is_not_a_model_gives_a_clear_model_error(tmp_path):
    from l2l_helpers.restoring.export import export_bioimageio

    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelError, match=r"not a model folder \(no l2l_training.json"):
        export_bioimageio(tmp_path, tmp_path.parent / "out.zip")


def test_missing_model_folder_is_named_in_the_error(tmp_path):
    from l2l_helpers.restoring.export import export_bioimageio

    with pytest.raises(ModelError, match="missing: model folder does not exist"):
        export_bioimageio(tmp_path / "missing", tmp_path / "out.zip")


def test_existing_package_is_not_replaced_without_overwrite(tmp_path):
    from l2l_helpers.restoring.export import export_bioimageio

    (tmp_path / "out.zip").write_bytes(b"x")
    with pytest.raises(FileExistsError, match="out.zip: exists"):
        export_bioimageio(tmp_path, tmp_path / "out.zip")


def test_l2l_export_reports_a_non_model_folder_as_a_user_error(tmp_path, capsys):
    assert main(["export", "--model", str(tmp_path), "--out", str(tmp_path / "out.zip")]) == 2
    assert "l2l export: error:" in capsys.readouterr().err
    assert not (tmp_path / "out.zip").exists()


def test_a_zip_that_is_not_a_package_is_not_taken_for_one(tmp_path):
    from l2l_helpers.restoring.restorers import is_bioimageio_package

    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert not is_bioimageio_package(tmp_path / "other.zip")


# --- the package (slow: trains tiny networks) ------------------------------------------------------


@pytest.mark.slow
def test_l2l_export_writes_every_part_of_the_package(single_package):
    names = set(zipfile.ZipFile(single_package).namelist())
    assert {
        "rdf.yaml",
        "README.md",
        "cover.png",
        "weights.keras",
        "weights.onnx",
        "test_input.npy",
        "test_output.npy",
        "l2l_training.json",
        "history.csv",
    } <= names


@pytest.mark.slow
def test_package_passes_bioimageio_core_test_model_with_both_weight_formats(single_package):
    from l2l_helpers.restoring.export import package_summary, test_package

    summary = test_package(single_package)
    tested = {d.name for d in summary.details}
    assert summary.status == "passed", package_summary(summary)
    assert any("(keras_v3)" in name for name in tested) and any("(onnx)" in name for name in tested)


@pytest.mark.slow
def test_package_loads_back_with_the_training_percentiles_as_preprocessing(single_package):
    from bioimageio.spec import load_model_description

    descr = load_model_description(single_package)
    scale_range = [p for p in descr.inputs[0].preprocessing if p.id == "scale_range"]
    assert len(scale_range) == 1
    assert (scale_range[0].kwargs.min_percentile, scale_range[0].kwargs.max_percentile) == (2.0, 99.8)
    assert [a.channel_names for a in descr.inputs[0].axes if a.type == "channel"] == [["phalloidin"]]
    assert [a.channel_names for a in descr.outputs[0].axes if a.type == "channel"] == [["actin"]]
    assert [str(c.doi) for c in descr.cite][:2] == ["10.1242/jcs.258994", "10.1038/s41592-018-0216-7"]
    assert "10.1234/example" in [str(c.doi) for c in descr.cite]
    assert [a.name for a in descr.authors] == ["Ada Lovelace"]


@pytest.mark.slow
def test_a_mean_std_network_exports_zero_mean_unit_variance_preprocessing_and_passes_test_model(tmp_path):
    pytest.importorskip("bioimageio.core", reason="needs the export extra: pip install 'l2l-helpers[export]'")
    from bioimageio.spec import load_model_description

    from l2l_helpers.restoring.export import export_bioimageio, package_summary, test_package

    model_dir = _train(tmp_path / "m", k=1, seed=2, input_normalization="mean_std")
    package = export_bioimageio(model_dir, tmp_path / "p.zip", weight_formats=("keras_v3",))
    descr = load_model_description(package)
    steps = [p.id for p in descr.inputs[0].preprocessing]
    assert "zero_mean_unit_variance" in steps and "scale_range" not in steps
    with zipfile.ZipFile(package) as zf:
        readme = zf.read("README.md").decode("utf-8")
    assert "`zero_mean_unit_variance`" in readme and "`scale_range`" not in readme
    summary = test_package(package)
    assert summary.status == "passed", package_summary(summary)


@pytest.mark.slow
def test_keras_weights_reproduce_the_model_output_on_the_package_test_input(single_model, unpacked):
    import keras

    from l2l_helpers.training.train import load_model

    x = np.load(unpacked / "test_input.npy")
    lo, hi = np.percentile(x, [2.0, 99.8])
    normalised = ((x - lo) / (hi - lo + 1e-6)).astype(np.float32)
    exported = keras.models.load_model(unpacked / "weights.keras")
    original = load_model(single_model).keras_model.predict(normalised, verbose=0)
    out = exported.predict(normalised, verbose=0)
    np.testing.assert_allclose(out, original, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out, np.load(unpacked / "test_output.npy"), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_onnx_weights_agree_with_keras_on_a_fresh_image(unpacked):
    import keras
    import onnxruntime

    rng = np.random.default_rng(7)
    image = gaussian_filter(rng.random((1, 72, 88, 1)), (0, 2, 2, 0)).astype(np.float32)  # another size
    session = onnxruntime.InferenceSession(str(unpacked / "weights.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {session.get_inputs()[0].name: image})[0]
    keras_out = keras.models.load_model(unpacked / "weights.keras").predict(image, verbose=0)
    assert onnx_out.shape == keras_out.shape == (1, 72, 88, 1)
    np.testing.assert_allclose(onnx_out, keras_out, rtol=0, atol=1e-4)


@pytest.mark.slow
def test_readme_names_the_labels_the_loss_and_the_paper(unpacked):
    readme = (unpacked / "README.md").read_text(encoding="utf-8")
    for text in ("`phalloidin`", "`actin`", "Loss: `l1`", "10.1242/jcs.258994", "cell_001.tif", "## Limitations"):
        assert text in readme, text


@pytest.mark.slow
def test_two_channel_model_exports_a_package_that_passes_test_model(double_package):
    from bioimageio.spec import load_model_description

    from l2l_helpers.restoring.export import package_summary, test_package

    _, package = double_package
    summary = test_package(package)
    assert summary.status == "passed", package_summary(summary)
    descr = load_model_description(package)
    assert [a.channel_names for a in descr.inputs[0].axes if a.type == "channel"] == [["phalloidin"]]
    assert [a.channel_names for a in descr.outputs[0].axes if a.type == "channel"] == [TARGETS]


@pytest.mark.slow
def test_test_image_smaller_than_the_network_input_is_refused(single_model, tmp_path):
    pytest.importorskip("bioimageio.core", reason="needs the export extra: pip install 'l2l-helpers[export]'")
    from l2l_helpers.restoring.export import export_bioimageio

    with pytest.raises(ValueError, match=r"smaller than the network's smallest input, 48 x 48 pixels"):
        export_bioimageio(single_model, tmp_path / "out.zip", test_image=np.random.default_rng(0).random((40, 64)))
    assert list(tmp_path.iterdir()) == []


# --- a package as a restorer ----------------------------------------------------------------------


def _write_images(folder, n=2, size=64):
    from l2l_helpers.restoring.export import default_test_image

    folder.mkdir(parents=True)
    names = [f"cell_{i:03d}.tif" for i in range(n)]
    for i, name in enumerate(names):
        tifffile.imwrite(folder / name, default_test_image(size=size, seed=10 + i), photometric="minisblack")
    return names


@pytest.mark.slow
def test_l2l_restore_accepts_a_package_and_matches_the_model_folder(single_model, single_package, tmp_path):
    names = _write_images(tmp_path / "in")
    assert (
        main(
            [
                "restore",
                str(tmp_path / "in"),
                "--model",
                str(single_package),
                "--out",
                str(tmp_path / "zoo"),
                "--no-progress",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "restore",
                str(tmp_path / "in"),
                "--model",
                str(single_model),
                "--out",
                str(tmp_path / "care"),
                "--no-progress",
            ]
        )
        == 0
    )
    for name in names:
        zoo, care = tifffile.imread(tmp_path / "zoo" / name), tifffile.imread(tmp_path / "care" / name)
        assert zoo.shape == care.shape == (64, 64)
        np.testing.assert_allclose(zoo, care, rtol=0, atol=1e-4)


@pytest.mark.slow
def test_l2l_restore_writes_one_subfolder_per_target_of_a_two_channel_package(double_package, tmp_path):
    _, package = double_package
    names = _write_images(tmp_path / "in", n=1)
    assert (
        main(
            ["restore", str(tmp_path / "in"), "--model", str(package), "--out", str(tmp_path / "out"), "--no-progress"]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["actin", "l2l_manifest.json", "tubulin"]
    assert tifffile.imread(tmp_path / "out" / "tubulin" / names[0]).shape == (64, 64)


@pytest.mark.slow
def test_package_restorer_pads_an_image_of_any_size_and_crops_back(single_package):
    from l2l_helpers.restoring.export import default_test_image
    from l2l_helpers.restoring.restorers import load_restorer

    restorer = load_restorer(single_package)
    assert restorer.kind == "bioimageio" and restorer.name == "label2label single"
    assert restorer.restore(default_test_image(size=61)).shape == (61, 61)


@pytest.mark.slow
def test_package_restorer_saved_in_a_folder_loads_back(single_package, tmp_path):
    from l2l_helpers.restoring.restorers import BioimageioRestorer, load_restorer

    BioimageioRestorer(single_package, weight_format="onnx").save(tmp_path / "zoo")
    loaded = load_restorer(tmp_path / "zoo")
    assert isinstance(loaded, BioimageioRestorer)
    assert loaded.params["weight_format"] == "onnx" and (tmp_path / "zoo" / "single.zip").is_file()


@pytest.mark.slow
def test_testing_and_restoring_a_package_leaves_keras_on_tensorflow_for_later_processes(single_package):
    # bioimageio.core sets KERAS_BACKEND=torch in os.environ when it is unset; Jupyter kernels and
    # Dask workers started afterwards inherit it and cannot import Keras without PyTorch
    import os

    from l2l_helpers.restoring.export import test_package
    from l2l_helpers.restoring.restorers import load_restorer

    test_package(single_package)
    load_restorer(single_package).restore(np.random.default_rng(0).random((64, 64)).astype("float32"))
    assert os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"


def test_export_available_says_false_when_an_extra_package_is_missing(monkeypatch):
    import importlib.util

    from l2l_helpers.restoring.export import export_available

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a))
    assert export_available() is False
