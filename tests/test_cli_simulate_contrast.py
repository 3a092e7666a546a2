"""Specification of the ``l2l simulate`` and ``l2l contrast`` commands."""

import json

import numpy as np
import pytest

from l2l_helpers.cli import main
from l2l_helpers.data.io import read_image, write_image


def test_simulate_help_explains_the_folders(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("input_repeat/", "input_average/", "benchmark/", "ground_truth/", "metadata.json", "--overwrite"):
        assert word in out


def test_cli_simulate_writes_the_layout_and_metadata(tmp_path):
    out = tmp_path / "actin"
    assert (
        main(["simulate", "--structure", "actin", "--out", str(out), "--n-images", "2", "--size", "64", "--seed", "3"])
        == 0
    )
    for folder in ("input", "input_repeat", "input_average", "benchmark", "ground_truth", "cell_mask"):
        assert sorted(p.name for p in (out / folder).iterdir()) == ["cell_000.tif", "cell_001.tif"], folder
    meta = json.loads((out / "metadata.json").read_text())
    assert (meta["structure"], meta["seed"], meta["n"], meta["size"]) == ("actin", 3, 2, 64)
    assert "psf_input" in meta["parameters"]
    assert len(meta["drift"]["cell_001.tif"]) == 2
    assert read_image(out / "input" / "cell_000.tif").shape == (64, 64)


def test_cli_simulate_is_reproducible_with_the_seed(tmp_path):
    main(
        [
            "simulate",
            "--structure",
            "pxn",
            "--out",
            str(tmp_path / "a"),
            "--n-images",
            "1",
            "--size",
            "64",
            "--seed",
            "5",
        ]
    )
    main(
        [
            "simulate",
            "--structure",
            "pxn",
            "--out",
            str(tmp_path / "b"),
            "--n-images",
            "1",
            "--size",
            "64",
            "--seed",
            "5",
        ]
    )
    np.testing.assert_array_equal(
        read_image(tmp_path / "a" / "input" / "cell_000.tif"), read_image(tmp_path / "b" / "input" / "cell_000.tif")
    )


def test_cli_simulate_no_progress_draws_no_bar(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("L2L_PROGRESS", "text")  # a text bar would go to stderr
    assert (
        main(
            [
                "simulate",
                "--structure",
                "pxn",
                "--out",
                str(tmp_path / "out"),
                "--n-images",
                "2",
                "--size",
                "64",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "simulating" not in capsys.readouterr().err


def test_cli_simulate_nucleus_membrane_writes_its_folders(tmp_path):
    out = tmp_path / "nm"
    assert (
        main(["simulate", "--structure", "nucleus_membrane", "--out", str(out), "--n-images", "1", "--size", "64"]) == 0
    )
    for folder in ("superposed", "nucleus", "membrane", "ground_truth_nucleus", "ground_truth_membrane", "cell_mask"):
        assert (out / folder / "cell_000.tif").is_file(), folder


def test_cli_simulate_refuses_a_non_empty_folder_without_overwrite(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["simulate", "--structure", "actin", "--out", str(tmp_path), "--n-images", "1", "--size", "64"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert not (tmp_path / "input").exists()
    assert (
        main(
            [
                "simulate",
                "--structure",
                "actin",
                "--out",
                str(tmp_path),
                "--n-images",
                "1",
                "--size",
                "64",
                "--overwrite",
            ]
        )
        == 0
    )
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_cli_simulate_rejects_unknown_structure(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--structure", "mitochondria", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_cli_contrast_writes_json_with_suggested_input_and_target(tmp_path, capsys):
    data = tmp_path / "actin"
    main(["simulate", "--structure", "actin", "--out", str(data), "--n-images", "2", "--size", "128", "--seed", "0"])
    report = tmp_path / "report" / "contrast.json"
    assert main(["contrast", str(data / "input"), str(data / "benchmark"), "--out", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["suggested_target"] == str(data / "benchmark")
    assert result["suggested_input"] == str(data / "input")
    stats = result["folders"][str(data / "input")]
    assert len(stats["michelson"]) == 2 and len(stats["rms"]) == 2
    assert {"michelson_mean", "michelson_sd", "rms_mean", "rms_sd"} <= set(stats)
    out = capsys.readouterr().out
    assert "suggested target" in out and "Michelson" in out


@pytest.fixture(scope="module")
def caveolae_contrast(tmp_path_factory):
    """``l2l contrast`` (fraction 0.01) on 4 simulated caveolae cells: the JSON result and the printed output."""
    import contextlib
    import io

    data = tmp_path_factory.mktemp("caveolae")
    assert main(["simulate", "--structure", "caveolae", "--out", str(data), "--n-images", "4", "--seed", "0"]) == 0
    report = data.parent / (data.name + "_report") / "contrast.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["contrast", str(data / "input"), str(data / "benchmark"), "--fraction", "0.01", "--out", str(report)])
            == 0
        )
    return data, json.loads(report.read_text()), out.getvalue()


def test_cli_contrast_json_says_michelson_decided_and_the_measures_disagree(caveolae_contrast):
    data, result, _ = caveolae_contrast
    assert result["suggested_target"] == str(data / "benchmark")
    assert result["decided_by"] == "michelson"
    assert result["measures_agree"] is False
    assert result["pairing"]["ranked_higher"]["rms"] == str(data / "input")


def test_cli_contrast_prints_the_deciding_measure_and_the_disagreement(caveolae_contrast):
    _, _, out = caveolae_contrast
    assert "decided by:       Michelson contrast" in out
    assert "measures agree:   no" in out
    assert "disagree" in out


def test_cli_contrast_on_unpaired_folders_names_the_file(tmp_path, capsys):
    write_image(tmp_path / "a" / "cell_000.tif", np.eye(16))
    write_image(tmp_path / "a" / "cell_001.tif", np.eye(16))
    write_image(tmp_path / "b" / "cell_000.tif", np.eye(16))
    assert main(["contrast", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "cell_001.tif" in err and "unpaired" in err


def test_cli_contrast_refuses_a_bad_fraction(tmp_path, capsys):
    write_image(tmp_path / "a" / "c.tif", np.eye(16))
    write_image(tmp_path / "b" / "c.tif", np.eye(16))
    assert main(["contrast", str(tmp_path / "a"), str(tmp_path / "b"), "--fraction", "2"]) == 2
    assert "fraction" in capsys.readouterr().err
