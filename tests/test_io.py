"""Specification of l2l_helpers.data.io: reading, checking, pairing and writing images."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from l2l_helpers.data import datasets, io

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def _image(seed=0, shape=(16, 16)):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _pair_folders(root, names=("a.tif", "b.tif"), shape=(16, 16)):
    inp, tgt = root / "input", root / "target"
    inp.mkdir(parents=True)
    tgt.mkdir(parents=True)
    for k, name in enumerate(names):
        tifffile.imwrite(inp / name, _image(2 * k, shape))
        tifffile.imwrite(tgt / name, _image(2 * k + 1, shape))
    return inp, tgt


def _snapshot(*folders):
    """Every path below the folders with its size and mtime."""
    return {
        (str(p), p.stat().st_size, p.stat().st_mtime_ns) for folder in folders for p in sorted(Path(folder).rglob("*"))
    }


# --------------------------------------------------------------------- good input


def test_list_images_lists_only_the_folder_itself_unless_recursive(tmp_path):
    for rel in ("a.tif", "sub/b.TIFF", ".hidden/c.tif", "sub/.d.tif", "notes.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(tmp_path / rel, _image())
    assert [p.name for p in io.list_images(tmp_path)] == ["a.tif"]
    assert [p.relative_to(tmp_path).as_posix() for p in io.list_images(tmp_path, recursive=True)] == [
        "a.tif",
        "sub/b.TIFF",
    ]


def test_list_images_recursive_names_an_image_free_tree(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(io.ImageError, match="no TIFF images .* in this folder or below it"):
        io.list_images(tmp_path, recursive=True)


def test_load_pairs_reads_images_paired_by_name_as_float32(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    names, (inputs, targets) = io.load_pairs(inp, tgt)
    assert names == ["a.tif", "b.tif"]
    assert all(img.dtype == np.float32 and img.shape == (16, 16) for img in inputs + targets)
    np.testing.assert_array_equal(inputs[1], _image(2))
    np.testing.assert_array_equal(targets[0], _image(1))


def test_load_pairs_accepts_uint16_images(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    tifffile.imwrite(inp / "c.tif", (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16))
    tifffile.imwrite(tgt / "c.tif", np.arange(64, dtype=np.uint16).reshape(8, 8))
    names, (inputs, _) = io.load_pairs(inp, tgt)
    assert names[-1] == "c.tif"
    assert inputs[-1].dtype == np.float32 and inputs[-1].max() == 63000


@pytest.mark.parametrize("shape", [(1, 12, 10), (12, 10, 1)])
def test_single_plane_with_singleton_axis_is_read_as_2d(tmp_path, shape):
    tifffile.imwrite(tmp_path / "one.tif", _image(0, shape), photometric="minisblack")
    assert io.read_image(tmp_path / "one.tif").shape == (12, 10)


def test_hidden_files_such_as_macos_resource_forks_are_ignored(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    (inp / "._a.tif").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    names, _ = io.load_pairs(inp, tgt)
    assert names == ["a.tif", "b.tif"]


def test_loading_pairs_writes_nothing_into_the_input_folders(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    before = _snapshot(inp, tgt)
    io.load_pairs(inp, tgt)
    assert _snapshot(inp, tgt) == before


def test_failed_load_writes_nothing_into_the_input_folders(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    tifffile.imwrite(inp / "c.tif", np.full((16, 16), np.nan, np.float32))
    tifffile.imwrite(tgt / "c.tif", _image(9))
    before = _snapshot(inp, tgt)
    with pytest.raises(io.ImageError):
        io.load_pairs(inp, tgt)
    assert _snapshot(inp, tgt) == before


# --------------------------------------------------------------------- bad input


def test_unpaired_file_is_named_in_the_error(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    tifffile.imwrite(inp / "lonely.tif", _image(5))
    with pytest.raises(io.ImageError, match=r"lonely\.tif") as err:
        io.load_pairs(inp, tgt)
    assert str(tgt) in str(err.value)


def test_different_shapes_within_a_pair_name_both_files_and_shapes(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    tifffile.imwrite(tgt / "b.tif", _image(3, (16, 20)))
    with pytest.raises(io.ImageError, match="differ in shape") as err:
        io.load_pairs(inp, tgt)
    assert str(inp / "b.tif") in str(err.value) and "(16, 20)" in str(err.value)


def test_three_dimensional_image_error_names_file_and_shape(tmp_path):
    inp, tgt = _pair_folders(tmp_path)
    tifffile.imwrite(inp / "a.tif", _image(0, (3, 16, 16)), photometric="minisblack")
    with pytest.raises(io.ImageError, match=r"expected a 2-D image, got shape \(3, 16, 16\)") as err:
        io.load_pairs(inp, tgt)
    assert str(inp / "a.tif") in str(err.value)


@pytest.mark.parametrize("bad, what", [(np.nan, "1 NaN"), (np.inf, "1 infinite")])
def test_nan_or_infinite_pixel_is_reported_with_the_file(tmp_path, bad, what):
    img = _image(0)
    img[3, 4] = bad
    tifffile.imwrite(tmp_path / "bad.tif", img)
    with pytest.raises(io.ImageError, match=what) as err:
        io.read_image(tmp_path / "bad.tif")
    assert str(tmp_path / "bad.tif") in str(err.value)


def test_constant_image_is_refused_with_the_file_named(tmp_path):
    tifffile.imwrite(tmp_path / "blank.tif", np.full((8, 8), 7, np.uint16))
    with pytest.raises(io.ImageError, match=r"blank\.tif: constant image"):
        io.read_image(tmp_path / "blank.tif")


def test_empty_file_named_tif_is_unreadable_with_the_file_named(tmp_path):
    (tmp_path / "zero.tif").write_bytes(b"")
    with pytest.raises(io.ImageError, match=r"zero\.tif: cannot be read as a TIFF image"):
        io.read_image(tmp_path / "zero.tif")


def test_folder_named_tif_is_not_a_file(tmp_path):
    (tmp_path / "odd.tif").mkdir()
    with pytest.raises(io.ImageError, match=r"odd\.tif: not a file"):
        io.read_image(tmp_path / "odd.tif")


def test_text_file_named_tif_is_unreadable_with_the_file_named(tmp_path):
    (tmp_path / "notes.tif").write_text("this is not an image\n")
    with pytest.raises(io.ImageError, match=r"notes\.tif: cannot be read as a TIFF image"):
        io.read_image(tmp_path / "notes.tif")


@pytest.mark.parametrize("dtype", [np.complex64, bool])
def test_complex_or_boolean_pixels_are_refused_with_the_dtype_named(tmp_path, dtype):
    img = (_image(0) > 0.5).astype(dtype)
    tifffile.imwrite(tmp_path / "odd.tif", img)
    with pytest.raises(io.ImageError, match=rf"odd\.tif: unsupported data type {np.dtype(dtype)}"):
        io.read_image(tmp_path / "odd.tif")


def test_empty_folder_is_reported(tmp_path):
    inp, _ = _pair_folders(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(io.ImageError, match=re.escape(f"{empty}: no TIFF images")):
        io.load_pairs(inp, empty)


def test_missing_folder_is_reported(tmp_path):
    inp, _ = _pair_folders(tmp_path)
    with pytest.raises(io.ImageError, match=r"nowhere: folder does not exist"):
        io.load_pairs(inp, tmp_path / "nowhere")


def test_file_given_as_folder_is_reported(tmp_path):
    inp, _ = _pair_folders(tmp_path)
    with pytest.raises(io.ImageError, match=r"a\.tif: not a folder"):
        io.load_pairs(inp, inp / "a.tif")


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(io.ImageError, match=r"gone\.tif: file does not exist"):
        io.read_image(tmp_path / "gone.tif")


def test_load_pairs_needs_two_folders(tmp_path):
    inp, _ = _pair_folders(tmp_path)
    with pytest.raises(ValueError, match="at least two folders"):
        io.load_pairs(inp)


# --------------------------------------------------------------------- writing


def test_prepare_output_dir_refuses_a_non_empty_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        io.prepare_output_dir(out)
    assert (out / "old.txt").read_text() == "keep me"


def test_prepare_output_dir_allows_a_non_empty_folder_with_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert io.prepare_output_dir(out, overwrite=True) == out


def test_prepare_output_dir_creates_a_new_folder(tmp_path):
    out = io.prepare_output_dir(tmp_path / "a" / "b")
    assert out.is_dir() and not any(out.iterdir())


@pytest.mark.parametrize("where", [".", "results", "results/deeper"])
def test_prepare_output_dir_refuses_the_input_folder_or_a_folder_inside_it(tmp_path, where):
    inp, _ = _pair_folders(tmp_path)
    with pytest.raises(ValueError, match="raw data are never overwritten"):
        io.prepare_output_dir(inp / where, overwrite=True, inputs=[inp])
    assert not (inp / "results").exists()


def test_prepare_output_dir_accepts_a_sibling_whose_name_starts_like_the_input(tmp_path):
    inp, _ = _pair_folders(tmp_path)
    out = io.prepare_output_dir(tmp_path / "input_restored", inputs=[inp])
    assert out.is_dir()


def test_write_image_refuses_to_overwrite(tmp_path):
    path = io.write_image(tmp_path / "x.tif", _image(0))
    with pytest.raises(FileExistsError, match=r"x\.tif: already exists"):
        io.write_image(path, _image(1))
    np.testing.assert_array_equal(tifffile.imread(path), _image(0))


def test_write_image_overwrites_only_when_asked(tmp_path):
    path = io.write_image(tmp_path / "x.tif", _image(0))
    io.write_image(path, _image(1), overwrite=True)
    np.testing.assert_array_equal(tifffile.imread(path), _image(1))


def test_written_image_reads_back_as_float32(tmp_path):
    img = np.arange(20, dtype=np.uint16).reshape(4, 5)
    path = io.write_image(tmp_path / "sub" / "x.tif", img)
    back = io.read_image(path)
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, img)


# --------------------------------------------------------------------- output folders (open_output)


def _run(out, files, command="demo", owned=("images",), overwrite=True, **info):
    """One run of a command that writes ``files`` (relative names) into ``out``."""
    with io.open_output(out, command, overwrite=overwrite, owned=owned) as folder:
        for rel in files:
            if rel.endswith(".tif"):
                folder.write_image(rel, _image(len(rel)))
            else:
                folder.write_json(rel, {"name": rel})
        folder.close(**info)
    return folder


def _manifest(out):
    return json.loads((out / io.MANIFEST).read_text())


def test_open_output_creates_a_new_folder(tmp_path):
    folder = io.open_output(tmp_path / "a" / "b", "demo")
    assert folder.path == tmp_path / "a" / "b" and folder.path.is_dir()


def test_close_writes_a_manifest_of_the_command_the_sorted_files_and_the_info(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/b.tif", "images/a.tif", "meta.json"], n=2)
    manifest = _manifest(out)
    assert manifest["command"] == "demo"
    assert manifest["files"] == ["images/a.tif", "images/b.tif", "meta.json"]
    assert manifest["info"] == {"n": 2}


def test_close_is_idempotent_and_returns_the_manifest_path(tmp_path):
    folder = io.open_output(tmp_path / "out", "demo")
    folder.write_json("a.json", [])
    first = folder.close(n=1)
    assert folder.close(n=2) == first == tmp_path / "out" / io.MANIFEST
    assert _manifest(tmp_path / "out")["info"] == {"n": 1}


def test_path_for_creates_parent_folders_and_records_the_file(tmp_path):
    folder = io.open_output(tmp_path / "out", "demo")
    target = folder.path_for("deep/er/x.csv")
    assert target == tmp_path / "out" / "deep" / "er" / "x.csv" and target.parent.is_dir()
    assert folder.files == ["deep/er/x.csv"]


@pytest.mark.parametrize("bad", ["/abs/x.tif", "../x.tif", "images/../../x.tif", io.MANIFEST])
def test_path_for_refuses_paths_outside_the_folder_and_the_manifest(tmp_path, bad):
    folder = io.open_output(tmp_path / "out", "demo")
    with pytest.raises(ValueError):
        folder.path_for(bad)


def test_path_for_refuses_to_replace_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    folder = io.open_output(out, "demo", overwrite=True)
    with pytest.raises(FileExistsError, match=r"notes\.txt"):
        folder.path_for("notes.txt")
    assert (out / "notes.txt").read_text() == "mine"


def test_a_file_written_twice_in_one_run_is_replaced(tmp_path):
    folder = io.open_output(tmp_path / "out", "demo")
    folder.write_image("x.tif", _image(0))
    path = folder.write_image("x.tif", _image(1))
    np.testing.assert_array_equal(tifffile.imread(path), _image(1))
    assert folder.files == ["x.tif"]


def test_the_context_manager_records_what_was_written_before_an_exception(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with io.open_output(out, "demo") as folder:
            folder.write_image("images/a.tif", _image(0))
            raise RuntimeError("boom")
    assert _manifest(out)["files"] == ["images/a.tif"]
    assert _manifest(out)["complete"] is False


def test_an_interrupted_run_is_recorded_while_it_writes(tmp_path):
    folder = io.open_output(tmp_path / "out", "demo")
    folder.write_image("images/a.tif", _image(0))
    # no close(): a killed process
    assert _manifest(tmp_path / "out")["files"] == ["images/a.tif"]


def test_open_output_refuses_a_non_empty_folder_without_overwrite(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif"])
    with pytest.raises(FileExistsError, match="overwrite"):
        io.open_output(out, "demo")
    assert (out / "images" / "a.tif").is_file()


def test_open_output_refuses_a_file_in_place_of_the_folder(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        io.open_output(tmp_path / "out", "demo", overwrite=True)


@pytest.mark.parametrize("where", [".", "results", "results/deeper"])
def test_open_output_refuses_the_input_folder_or_a_folder_inside_it(tmp_path, where):
    inp, _ = _pair_folders(tmp_path)
    with pytest.raises(ValueError, match="raw data are never overwritten"):
        io.open_output(inp / where, "demo", overwrite=True, inputs=[inp])
    assert not (inp / "results").exists()


def test_overwrite_removes_only_what_the_previous_run_wrote(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif", "images/b.tif", "images/c.tif", "meta.json"])
    _run(out, ["images/a.tif", "meta.json"])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "images/a.tif",
        io.MANIFEST,
        "meta.json",
    ]
    assert _manifest(out)["files"] == ["images/a.tif", "meta.json"]


def test_overwrite_keeps_a_foreign_file_outside_the_owned_sub_folders(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif", "images/b.tif"])
    (out / "notes.txt").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "x.tif").write_bytes(b"data")
    _run(out, ["images/a.tif"])
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "mine" / "x.tif").read_bytes() == b"data"


def test_a_foreign_file_in_an_owned_sub_folder_stops_the_run_before_anything_is_deleted(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif", "images/b.tif", "meta.json"])
    (out / "images" / "zz_mine.tif").write_bytes(b"data")
    before = _snapshot(out)
    with pytest.raises(FileExistsError, match=r"zz_mine\.tif"):
        io.open_output(out, "demo", overwrite=True, owned=["images"])
    assert _snapshot(out) == before


def test_owned_dot_makes_every_file_of_the_folder_owned(tmp_path):
    out = tmp_path / "model"
    _run(out, ["weights.h5", "config.json"], owned=["."])
    (out / "logs").mkdir()
    (out / "logs" / "events.txt").write_text("x")
    with pytest.raises(FileExistsError, match=r"events\.txt"):
        io.open_output(out, "demo", overwrite=True, owned=["."])


def test_an_owned_path_may_be_a_file(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "meta.json").write_text("{}")
    with pytest.raises(FileExistsError, match=r"meta\.json"):
        io.open_output(out, "demo", overwrite=True, owned=["meta.json"])


def test_hidden_files_in_an_owned_sub_folder_are_ignored_and_kept(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif"])
    (out / "images" / ".DS_Store").write_bytes(b"finder")
    _run(out, ["images/b.tif"])
    assert (out / "images" / ".DS_Store").read_bytes() == b"finder"
    assert not (out / "images" / "a.tif").exists()


def test_a_folder_without_manifest_stops_with_its_first_owned_file_and_how_to_proceed(tmp_path):
    out = tmp_path / "out"
    (out / "images").mkdir(parents=True)
    tifffile.imwrite(out / "images" / "cell_000.tif", _image(0))
    tifffile.imwrite(out / "images" / "cell_001.tif", _image(1))
    with pytest.raises(FileExistsError, match=r"cell_000\.tif.*no l2l_manifest\.json.*remove or move the folder"):
        io.open_output(out, "demo", overwrite=True, owned=["images"])
    assert (out / "images" / "cell_001.tif").is_file()


def test_a_folder_of_another_command_is_never_overwritten(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif"], command="simulate")
    with pytest.raises(FileExistsError, match="written by 'simulate', not by 'drift'"):
        io.open_output(out, "drift", overwrite=True, owned=["images"])
    assert (out / "images" / "a.tif").is_file()


def test_an_unreadable_manifest_stops_the_run_naming_it(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / io.MANIFEST).write_text("{not json")
    with pytest.raises(ValueError, match=re.escape(io.MANIFEST)):
        io.open_output(out, "demo", overwrite=True)


def test_paths_leaving_the_folder_in_a_manifest_are_never_followed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / io.MANIFEST).write_text(json.dumps({"command": "demo", "files": ["../victim.txt", str(victim)], "info": {}}))
    _run(out, ["images/a.tif"])
    assert victim.read_text() == "keep"


def test_sub_folders_emptied_by_the_removal_are_removed(tmp_path):
    out = tmp_path / "out"
    _run(out, ["old/deep/a.tif", "images/a.tif"])
    _run(out, ["images/a.tif"])
    assert not (out / "old").exists()


def test_files_of_the_previous_run_that_are_already_gone_are_skipped(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif", "images/b.tif"])
    (out / "images" / "b.tif").unlink()
    _run(out, ["images/c.tif"])
    assert sorted(p.name for p in (out / "images").iterdir()) == ["c.tif"]


def test_an_input_inside_an_owned_sub_folder_stops_the_run(tmp_path):
    out = tmp_path / "out"
    _run(out, ["images/a.tif"])
    with pytest.raises(ValueError, match="would be overwritten"):
        io.open_output(out, "demo", overwrite=True, inputs=[out / "images"], owned=["images"])
    assert (out / "images" / "a.tif").is_file()


def test_record_new_files_records_what_another_library_wrote_but_not_foreign_files(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    folder = io.open_output(out, "demo", overwrite=True)
    (out / "logs").mkdir()
    (out / "logs" / "events.1").write_bytes(b"tensorboard")
    (out / "weights.h5").write_bytes(b"w")
    assert folder.record_new_files() == ["logs/events.1", "weights.h5"]
    folder.close()
    assert _manifest(out)["files"] == ["logs/events.1", "weights.h5"]


def test_files_recorded_by_record_new_files_are_removed_by_the_next_overwrite_run(tmp_path):
    out = tmp_path / "model"
    with io.open_output(out, "demo", owned=["."]) as folder:
        (out / "weights_epoch_7.h5").write_bytes(b"w")
        folder.record_new_files()
    io.open_output(out, "demo", overwrite=True, owned=["."]).close()
    assert not (out / "weights_epoch_7.h5").exists()


# --------------------------------------------------------------------- real data

needs_realdata = pytest.mark.skipif(
    not (REALDATA / "hela-cells.tif").is_file(),
    reason=f"real images not found at {REALDATA} (see CONTRIBUTING.md: ../shared/realdata)",
)


@pytest.mark.realdata
@needs_realdata
def test_real_three_channel_image_read_as_2d_names_its_shape():
    with pytest.raises(io.ImageError, match=r"hela-cells\.tif: expected a 2-D image, got shape \(512, 672, 3\)"):
        io.read_image(REALDATA / "hela-cells.tif")


@pytest.mark.realdata
@needs_realdata
def test_real_channels_split_into_pair_folders_load_as_pairs(tmp_path):
    before = _snapshot(REALDATA)
    pairs = datasets.pairs_from_channels(
        REALDATA / "hela-cells.tif", tmp_path / "hela", input_channel=1, target_channel=0
    )
    names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)
    raw = tifffile.imread(REALDATA / "hela-cells.tif")
    assert names == ["hela-cells.tif"]
    assert inputs[0].shape == targets[0].shape == (512, 672)
    np.testing.assert_array_equal(inputs[0], raw[..., 1])
    np.testing.assert_array_equal(targets[0], raw[..., 0])
    assert _snapshot(REALDATA) == before
