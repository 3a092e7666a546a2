"""Specification of l2l_helpers.io: reading, checking, pairing and writing images."""

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from l2l_helpers import datasets, io

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
        (str(p), p.stat().st_size, p.stat().st_mtime_ns)
        for folder in folders for p in sorted(Path(folder).rglob("*"))
    }


# --------------------------------------------------------------------- good input


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
    pairs = datasets.pairs_from_channels(REALDATA / "hela-cells.tif", tmp_path / "hela",
                                         input_channel=1, target_channel=0)
    names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)
    raw = tifffile.imread(REALDATA / "hela-cells.tif")
    assert names == ["hela-cells.tif"]
    assert inputs[0].shape == targets[0].shape == (512, 672)
    np.testing.assert_array_equal(inputs[0], raw[..., 1])
    np.testing.assert_array_equal(targets[0], raw[..., 0])
    assert _snapshot(REALDATA) == before
