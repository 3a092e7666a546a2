"""Specification of ``l2l classical``: the paper's classical filters applied to a folder."""

import json

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter

from l2l_helpers.cli import main
from l2l_helpers.restoring.restorers import classical_restorer


def image(seed=0, size=48):
    rng = np.random.default_rng(seed)
    spots = gaussian_filter((rng.random((size, size)) > 0.97).astype(float), 1.0)
    return (100 + 500 * spots + np.linspace(0, 50, size)[None, :] + rng.standard_normal((size, size))).astype(
        np.float32
    )


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(2):
        tifffile.imwrite(folder / f"cell_{k}.tif", image(k))
    return folder


@pytest.mark.parametrize("kind", ["gaussian", "rolling_ball", "tophat", "clahe"])
def test_every_filter_writes_one_image_per_input_with_the_same_name(kind, inputs, tmp_path):
    assert (
        main(["classical", kind, str(inputs), "--out", str(tmp_path / "out"), "--structure", "pxn", "--no-progress"])
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tif")) == ["cell_0.tif", "cell_1.tif"]


def test_structure_applies_the_papers_parameters(inputs, tmp_path):
    main(
        ["classical", "tophat", str(inputs), "--out", str(tmp_path / "out"), "--structure", "caveolae", "--no-progress"]
    )
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "out" / "cell_1.tif"), classical_restorer("tophat", "caveolae").restore(image(1))
    )


def test_an_option_overrides_the_structures_parameter(inputs, tmp_path, capsys):
    main(
        [
            "classical",
            "gaussian",
            str(inputs),
            "--out",
            str(tmp_path / "out"),
            "--structure",
            "caveolae",
            "--sigma",
            "0.7",
            "--no-progress",
        ]
    )
    assert "sigma=0.7" in capsys.readouterr().out
    np.testing.assert_allclose(
        tifffile.imread(tmp_path / "out" / "cell_0.tif"), classical_restorer("gaussian", sigma=0.7).restore(image(0))
    )


def test_the_manifest_records_the_filter_and_its_parameters(inputs, tmp_path):
    main(["classical", "clahe", str(inputs), "--out", str(tmp_path / "out"), "--structure", "actin", "--no-progress"])
    manifest = json.loads((tmp_path / "out" / "l2l_manifest.json").read_text())
    assert manifest["info"]["restorer"]["kind"] == "clahe"
    assert manifest["info"]["restorer"]["params"]["grid"] == 11


def test_a_filled_output_folder_is_refused_without_overwrite(inputs, tmp_path, capsys):
    args = ["classical", "tophat", str(inputs), "--out", str(tmp_path / "out"), "--size", "3", "--no-progress"]
    assert main(args) == 0
    assert main(args) == 2
    assert "l2l classical: error:" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_contradictory_parameters_are_a_user_error(inputs, tmp_path, capsys):
    assert (
        main(["classical", "clahe", str(inputs), "--out", str(tmp_path / "out"), "--grid", "4", "--kernel-size", "8"])
        == 2
    )
    assert "either kernel_size" in capsys.readouterr().err


def test_a_missing_input_folder_is_a_user_error_naming_it(tmp_path, capsys):
    assert main(["classical", "gaussian", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_help_lists_the_papers_parameters(capsys):
    with pytest.raises(SystemExit):
        main(["classical", "tophat", "--help"])
    assert "tubulin: size=25" in capsys.readouterr().out


def test_an_unknown_structure_is_refused_by_the_parser(inputs, tmp_path):
    with pytest.raises(SystemExit):
        main(["classical", "gaussian", str(inputs), "--out", str(tmp_path / "out"), "--structure", "nucleus_membrane"])
