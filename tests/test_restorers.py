"""Specification of l2l_helpers.restoring.restorers: one interface for networks and classical filters."""

import json

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter

from l2l_helpers.cli import main
from l2l_helpers.data.io import ImageError, ModelError
from l2l_helpers.restoring.restorers import (
    RESTORER_JSON,
    RESTORERS,
    CLAHERestorer,
    GaussianRestorer,
    Restorer,
    RollingBallRestorer,
    TopHatRestorer,
    load_restorer,
    read_restorer_record,
)

CLASSICAL = [
    GaussianRestorer(sigma=1.5),
    RollingBallRestorer(radius=8),
    TopHatRestorer(size=4),
    CLAHERestorer(kernel_size=16),
]


def image(seed=0, size=48):
    rng = np.random.default_rng(seed)
    spots = gaussian_filter((rng.random((size, size)) > 0.97).astype(float), 1.0)
    return (100 + 500 * spots + np.linspace(0, 50, size)[None, :] + rng.standard_normal((size, size))).astype(
        np.float32
    )


@pytest.mark.parametrize("restorer", CLASSICAL, ids=lambda r: r.kind)
def test_classical_restorer_returns_a_float32_image_of_the_same_shape(restorer):
    out = restorer.restore(image())
    assert out.shape == (48, 48) and out.dtype == np.float32


@pytest.mark.parametrize("restorer", CLASSICAL, ids=lambda r: r.kind)
def test_saved_restorer_loads_back_with_its_kind_name_and_parameters(restorer, tmp_path):
    restorer.save(tmp_path / "r")
    loaded = load_restorer(tmp_path / "r")
    assert type(loaded) is type(restorer)
    assert (loaded.name, loaded.params) == (restorer.name, restorer.params)
    np.testing.assert_array_equal(loaded.restore(image()), restorer.restore(image()))


def test_every_classical_kind_is_registered():
    assert {"gaussian", "rolling_ball", "tophat", "clahe", "care"} <= set(RESTORERS)


def test_saved_record_names_kind_name_and_parameters(tmp_path):
    GaussianRestorer(sigma=2.0, name="blur").save(tmp_path)
    assert json.loads((tmp_path / RESTORER_JSON).read_text()) == {
        "kind": "gaussian",
        "name": "blur",
        "params": {"sigma": 2.0},
    }


def test_gaussian_restorer_is_scikit_image_gaussian():
    from skimage.filters import gaussian

    img = image()
    np.testing.assert_allclose(
        GaussianRestorer(sigma=2).restore(img), gaussian(img, sigma=2, preserve_range=True), rtol=1e-6
    )


def test_rolling_ball_removes_a_smooth_background():
    img = image()
    out = RollingBallRestorer(radius=8).restore(img)
    assert np.median(out) < 0.1 * np.median(img)


def test_tophat_removes_a_smooth_background():
    out = TopHatRestorer(size=4).restore(image())
    assert out.min() == 0.0 and np.median(out) < 5


def test_clahe_output_lies_in_zero_to_one():
    out = CLAHERestorer(kernel_size=16).restore(image() * 1000)
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_restore_many_gives_one_restoration_per_image():
    out = GaussianRestorer().restore_many([image(0), image(1), image(2)], progress=False)
    assert len(out) == 3 and all(o.shape == (48, 48) for o in out)


def test_a_three_dimensional_image_is_refused_with_its_name():
    with pytest.raises(ImageError, match="stack.*2-D"):
        GaussianRestorer().restore(np.zeros((3, 8, 8)), name="stack")


def test_a_new_kind_of_restorer_only_implements_restore():
    class Negate(Restorer):
        kind = "negate_test"

        def _restore(self, img):
            return -img

    out = Negate(name="neg").restore_many([np.eye(4)], progress=False)
    assert out[0][0, 0] == -1 and Negate().name == "negate_test"


def test_the_cyclegan_kind_is_found_through_the_registry_without_importing_it_by_name():
    from l2l_helpers.restoring.restorers import restorer_class
    from l2l_helpers.training.cyclegan import CycleGANRestorer

    assert restorer_class("cyclegan") is CycleGANRestorer


def test_a_record_of_a_deferred_kind_is_read_without_loading_a_network(tmp_path):
    (tmp_path / RESTORER_JSON).write_text(json.dumps({"kind": "cyclegan", "name": "cg", "params": {"seed": 1}}))
    assert read_restorer_record(tmp_path) == {"kind": "cyclegan", "name": "cg", "params": {"seed": 1}}


def test_a_bioimageio_package_folder_is_read_as_the_bioimageio_kind(tmp_path):
    (tmp_path / "rdf.yaml").write_text("type: model")
    assert read_restorer_record(tmp_path) == {"kind": "bioimageio", "name": None, "params": {"source": str(tmp_path)}}


def test_restorers_keeps_every_public_name_of_its_modules():
    from l2l_helpers.restoring import restorers
    from l2l_helpers.restoring.restorers import base, bioimageio, care, classical, loading

    for module in (base, bioimageio, care, classical, loading):
        assert set(module.__all__) <= set(restorers.__all__), module.__name__


def test_missing_folder_is_a_model_error_naming_it(tmp_path):
    with pytest.raises(ModelError, match="nope: model folder does not exist.*holds"):
        load_restorer(tmp_path / "nope")


def test_folder_without_a_restorer_record_is_a_model_error_saying_what_a_model_folder_holds(tmp_path):
    with pytest.raises(ModelError, match=f"not a model folder.*{RESTORER_JSON}.*l2l_training.json"):
        load_restorer(tmp_path)


def test_unknown_kind_is_a_model_error_listing_the_known_kinds(tmp_path):
    (tmp_path / RESTORER_JSON).write_text(json.dumps({"kind": "magic", "params": {}}))
    with pytest.raises(ModelError, match="unknown restorer kind 'magic'.*gaussian"):
        load_restorer(tmp_path)


def test_bad_parameters_are_a_model_error(tmp_path):
    (tmp_path / RESTORER_JSON).write_text(json.dumps({"kind": "gaussian", "params": {"radius": 3}}))
    with pytest.raises(ModelError, match="bad parameters"):
        load_restorer(tmp_path)


def _folder(path, images):
    path.mkdir()
    for name, img in images.items():
        tifffile.imwrite(path / name, img)
    return path


def test_restore_command_applies_a_classical_restorer_folder(tmp_path):
    inputs = _folder(tmp_path / "in", {"a.tif": image(0), "b.tif": image(1)})
    TopHatRestorer(size=4).save(tmp_path / "tophat")
    assert (
        main(
            [
                "restore",
                str(inputs),
                "--model",
                str(tmp_path / "tophat"),
                "--out",
                str(tmp_path / "out"),
                "--no-progress",
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out" / "a.tif"), TopHatRestorer(size=4).restore(image(0)))
    manifest = json.loads((tmp_path / "out" / "l2l_manifest.json").read_text())
    assert manifest["command"] == "restore" and manifest["files"] == ["a.tif", "b.tif"]


def test_restore_overwrite_replaces_exactly_the_previous_run(tmp_path):
    inputs = _folder(tmp_path / "in", {"a.tif": image(0), "b.tif": image(1)})
    GaussianRestorer().save(tmp_path / "g")
    args = ["restore", str(inputs), "--model", str(tmp_path / "g"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(args) == 0
    (inputs / "b.tif").unlink()
    assert main(args) == 2  # not empty, no --overwrite
    assert main(args + ["--overwrite"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.tif", "l2l_manifest.json"]


# --- the paper's classical baselines: presets per structure ----------------------------------------


def test_presets_cover_every_classical_filter_and_every_paired_structure():
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES
    from l2l_helpers.restoring.restorers import CLASSICAL_FILTERS, CLASSICAL_PRESETS

    assert set(CLASSICAL_PRESETS) == set(CLASSICAL_FILTERS)
    assert all(set(presets) == set(PAIRED_STRUCTURES) for presets in CLASSICAL_PRESETS.values())


@pytest.mark.parametrize(
    "kind, structure, params",
    [
        ("gaussian", "caveolae", {"sigma": 3.0}),
        ("rolling_ball", "actin", {"radius": 20}),
        ("tophat", "pxn", {"size": 17}),
        ("clahe", "actin", {"kernel_size": None, "clip_limit": 0.01, "grid": 11}),
    ],
)
def test_a_structure_preset_gives_the_papers_parameters(kind, structure, params):
    from l2l_helpers.restoring.restorers import classical_restorer

    assert classical_restorer(kind, structure).params == params


def test_a_parameter_overrides_the_structure_preset():
    from l2l_helpers.restoring.restorers import classical_restorer

    assert classical_restorer("rolling_ball", "tubulin", radius=3).params == {"radius": 3}


def test_a_parameter_left_as_none_keeps_the_preset():
    from l2l_helpers.restoring.restorers import classical_restorer

    assert classical_restorer("tophat", "actin", size=None).params == {"size": 11}


def test_a_kernel_size_replaces_the_presets_clahe_grid():
    from l2l_helpers.restoring.restorers import classical_restorer

    assert "grid" not in classical_restorer("clahe", "tubulin", kernel_size=16).params


def test_without_a_structure_the_filter_has_its_own_defaults():
    from l2l_helpers.restoring.restorers import classical_restorer

    assert classical_restorer("gaussian").params == GaussianRestorer().params


def test_an_unknown_filter_is_refused_listing_the_filters():
    from l2l_helpers.restoring.restorers import classical_restorer

    with pytest.raises(ValueError, match="unknown classical filter 'median'.*tophat"):
        classical_restorer("median")


def test_an_unknown_structure_is_refused_listing_the_presets():
    from l2l_helpers.restoring.restorers import classical_restorer

    with pytest.raises(ValueError, match="no gaussian preset for structure 'nucleus_membrane'.*actin"):
        classical_restorer("gaussian", "nucleus_membrane")


def test_a_parameter_the_filter_does_not_take_is_refused_naming_the_ones_it_takes():
    from l2l_helpers.restoring.restorers import classical_restorer

    with pytest.raises(ValueError, match="tophat takes no parameter sigma.*size"):
        classical_restorer("tophat", sigma=2)


def test_clahe_grid_sets_the_region_size_from_the_image():
    from skimage.exposure import equalize_adapthist

    img = image(size=64)
    scaled = (img - img.min()) / (img.max() - img.min())
    np.testing.assert_allclose(
        CLAHERestorer(grid=4).restore(img), equalize_adapthist(scaled, kernel_size=(16, 16)), atol=1e-6
    )


def test_clahe_refuses_both_grid_and_kernel_size():
    with pytest.raises(ValueError, match="either kernel_size.*or grid"):
        CLAHERestorer(kernel_size=8, grid=4)


def test_clahe_with_a_grid_loads_back_from_its_folder(tmp_path):
    CLAHERestorer(grid=7).save(tmp_path / "c")
    assert load_restorer(tmp_path / "c").params == {"kernel_size": None, "clip_limit": 0.01, "grid": 7}
