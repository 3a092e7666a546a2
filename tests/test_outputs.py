"""Specification of re-runs: a command's output never mixes two of its runs (issue 16).

Every command that writes an output folder records what it wrote in
``l2l_manifest.json``. With ``--overwrite`` (``overwrite=True``) it first
removes exactly what its previous run recorded and never deletes anything
else; a file it did not write inside a sub-folder it owns stops the run,
named, before anything is deleted or written.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from l2l_helpers.cli import main
from l2l_helpers.data import datasets, io
from l2l_helpers.data.simulate import IMAGE_KEYS, simulate_dataset, write_dataset
from l2l_helpers.pairs.drift import correct_folders

NOTEBOOK_02 = Path(__file__).resolve().parents[1] / "notebooks" / "02_drift_correction.ipynb"
SIZE = "48"


def _files(folder):
    """Relative posix names of every file below a folder."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _snapshot(folder):
    """Every file below a folder with its content."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _simulate(out, n, *extra):
    return main(["simulate", "--structure", "actin", "--out", str(out), "--n-images", str(n), "--size", SIZE, *extra])


def _names(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def _image(seed):
    return np.random.default_rng(seed).random((16, 16)).astype(np.float32)


# --------------------------------------------------------------------- l2l simulate / write_dataset


def test_simulate_4_then_2_with_overwrite_gives_exactly_2_pairs_and_matching_metadata(tmp_path):
    out = tmp_path / "actin"
    assert _simulate(out, 4) == 0
    assert _simulate(out, 2, "--overwrite") == 0
    for key in IMAGE_KEYS["actin"]:
        assert _names(out / key) == ["cell_000.tif", "cell_001.tif"], key
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["n"] == 2 and sorted(meta["drift"]) == ["cell_000.tif", "cell_001.tif"]


def test_simulate_records_every_file_it_wrote_in_the_manifest(tmp_path):
    out = tmp_path / "actin"
    assert _simulate(out, 2) == 0
    manifest = json.loads((out / io.MANIFEST).read_text())
    assert manifest["command"] == "simulate"
    assert manifest["files"] == [f for f in _files(out) if f != io.MANIFEST]


def test_a_foreign_file_in_the_output_folder_survives_an_overwrite_run_untouched(tmp_path):
    out = tmp_path / "actin"
    assert _simulate(out, 3) == 0
    (out / "notes.txt").write_text("my notes")
    (out / "analysis").mkdir()
    tifffile.imwrite(out / "analysis" / "cell_002.tif", _image(0))
    assert _simulate(out, 1, "--overwrite") == 0
    assert (out / "notes.txt").read_text() == "my notes"
    np.testing.assert_array_equal(tifffile.imread(out / "analysis" / "cell_002.tif"), _image(0))


def test_a_foreign_file_in_an_image_folder_stops_simulate_naming_it_before_writing(tmp_path, capsys):
    out = tmp_path / "actin"
    assert _simulate(out, 2) == 0
    tifffile.imwrite(out / "input" / "my_cell.tif", _image(0))
    before = _snapshot(out)
    assert _simulate(out, 1, "--overwrite") == 2
    assert "my_cell.tif" in capsys.readouterr().err
    assert _snapshot(out) == before


def test_simulate_over_a_folder_of_an_older_version_says_to_remove_or_move_it(tmp_path, capsys):
    out = tmp_path / "actin"
    assert _simulate(out, 2) == 0
    (out / io.MANIFEST).unlink()  # as written before manifests existed
    before = _snapshot(out)
    assert _simulate(out, 1, "--overwrite") == 2
    err = capsys.readouterr().err
    assert "cell_000.tif" in err and "remove or move the folder" in err
    assert _snapshot(out) == before


def test_write_dataset_with_overwrite_removes_the_cells_of_the_previous_dataset(tmp_path):
    out = tmp_path / "actin"
    write_dataset(simulate_dataset("actin", n=4, size=48, seed=0), out)
    write_dataset(simulate_dataset("actin", n=2, size=48, seed=1), out, overwrite=True)
    assert _names(out / "input") == ["cell_000.tif", "cell_001.tif"]
    assert json.loads((out / "metadata.json").read_text())["seed"] == 1


def test_write_dataset_stops_at_a_foreign_file_in_an_image_folder(tmp_path):
    out = tmp_path / "actin"
    write_dataset(simulate_dataset("actin", n=2, size=48, seed=0), out)
    tifffile.imwrite(out / "benchmark" / "mine.tif", _image(0))
    before = _snapshot(out)
    with pytest.raises(FileExistsError, match=r"mine\.tif"):
        write_dataset(simulate_dataset("actin", n=1, size=48, seed=0), out, overwrite=True)
    assert _snapshot(out) == before


def test_write_dataset_without_overwrite_refuses_its_previous_output(tmp_path):
    out = tmp_path / "actin"
    data = simulate_dataset("actin", n=1, size=48, seed=0)
    write_dataset(data, out)
    with pytest.raises(FileExistsError, match="overwrite"):
        write_dataset(data, out)


# --------------------------------------------------------------------- l2l drift / correct_folders


@pytest.fixture
def actin4(tmp_path):
    """A simulated dataset of four cells (input/ and input_repeat/ are the drift pairs)."""
    out = tmp_path / "data"
    assert _simulate(out, 4) == 0
    return out


def _drift(data, out, *extra):
    return main(["drift", str(data / "input"), str(data / "input_repeat"), "--out", str(out), "--no-progress", *extra])


def _shift_names(out):
    with open(out / "shifts.csv", newline="") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


def test_drift_rerun_on_fewer_pairs_with_overwrite_keeps_only_the_new_pairs(actin4, tmp_path):
    out = tmp_path / "aligned"
    assert _drift(actin4, out) == 0
    assert _simulate(actin4, 2, "--overwrite") == 0
    assert _drift(actin4, out, "--overwrite") == 0
    for sub in ("reference", "moving"):
        assert _names(out / sub) == ["cell_000.tif", "cell_001.tif"], sub
    assert _shift_names(out) == ["cell_000.tif", "cell_001.tif"]


def test_drift_keeps_a_foreign_file_beside_its_outputs(actin4, tmp_path):
    out = tmp_path / "aligned"
    assert _drift(actin4, out) == 0
    (out / "README.txt").write_text("what this is")
    assert _drift(actin4, out, "--overwrite") == 0
    assert (out / "README.txt").read_text() == "what this is"


def test_a_foreign_file_in_reference_stops_drift_naming_it(actin4, tmp_path, capsys):
    out = tmp_path / "aligned"
    assert _drift(actin4, out) == 0
    tifffile.imwrite(out / "reference" / "extra.tif", _image(0))
    before = _snapshot(out)
    assert _drift(actin4, out, "--overwrite") == 2
    assert "extra.tif" in capsys.readouterr().err
    assert _snapshot(out) == before


def test_drift_refuses_inputs_that_its_overwrite_would_remove(actin4, tmp_path):
    out = tmp_path / "aligned"
    correct_folders(actin4 / "input", actin4 / "input_repeat", out, progress=False)
    before = _snapshot(out)
    with pytest.raises(ValueError, match="would be overwritten"):
        correct_folders(out / "reference", out / "moving", out, overwrite=True, progress=False)
    assert _snapshot(out) == before


def test_drift_never_overwrites_a_folder_written_by_simulate(actin4, tmp_path):
    out = tmp_path / "aligned"
    assert _simulate(out, 1) == 0
    before = _snapshot(out)
    with pytest.raises(FileExistsError, match="written by 'simulate'"):
        correct_folders(actin4 / "input", actin4 / "input_repeat", out, overwrite=True, progress=False)
    assert _snapshot(out) == before


# --------------------------------------------------------------------- l2l data pairs


def _token_tree(root, n):
    for k in range(n):
        for label, seed in (("AC15", 2 * k), ("phalloidin", 2 * k + 1)):
            (root / label).mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(root / label / f"cell{k}.tif", _image(seed))
    return root


def test_pairs_rerun_on_fewer_files_with_overwrite_keeps_only_the_new_pairs(tmp_path):
    out = tmp_path / "pairs"
    assert (
        main(
            [
                "data",
                "pairs",
                str(_token_tree(tmp_path / "a", 4)),
                "--out",
                str(out),
                "--input-token",
                "AC15",
                "--target-token",
                "phalloidin",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "data",
                "pairs",
                str(_token_tree(tmp_path / "b", 2)),
                "--out",
                str(out),
                "--overwrite",
                "--input-token",
                "AC15",
                "--target-token",
                "phalloidin",
            ]
        )
        == 0
    )
    assert _names(out / "input") == _names(out / "target") == ["cell0.tif", "cell1.tif"]
    with open(out / "sources.csv", newline="") as fh:
        assert [row["name"] for row in csv.DictReader(fh)] == ["cell0.tif", "cell1.tif"]


def test_a_foreign_file_in_target_stops_pairs_from_channels_naming_it(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    tifffile.imwrite(raw / "s.tif", np.random.default_rng(0).random((2, 12, 10)).astype(np.float32))
    out = tmp_path / "pairs"
    datasets.pairs_from_channels(raw, out, 0, 1)
    tifffile.imwrite(out / "target" / "other.tif", _image(0))
    before = _snapshot(out)
    with pytest.raises(FileExistsError, match=r"other\.tif"):
        datasets.pairs_from_channels(raw, out, 0, 1, overwrite=True)
    assert _snapshot(out) == before


def test_pairs_by_token_keeps_a_foreign_file_beside_its_outputs(tmp_path):
    src, out = _token_tree(tmp_path / "src", 2), tmp_path / "pairs"
    datasets.pairs_by_token(src, out, "AC15", "phalloidin")
    (out / "notes.md").write_text("mine")
    datasets.pairs_by_token(src, out, "AC15", "phalloidin", overwrite=True)
    assert (out / "notes.md").read_text() == "mine"
    assert _names(out / "input") == ["cell0.tif", "cell1.tif"]


# --------------------------------------------------------------------- the notebooks


@pytest.mark.slow
def test_notebook_02_runs_in_the_workshop_then_the_quick_profile_into_one_results_root(tmp_path, monkeypatch):
    from l2l_helpers.course.runner import execute_notebook

    monkeypatch.setenv("MPLBACKEND", "Agg")
    for profile in ("workshop", "quick"):
        _, error = execute_notebook(NOTEBOOK_02, profile=profile, results_root=tmp_path / "results")
        assert error is None, f"{profile} run: {error}"
