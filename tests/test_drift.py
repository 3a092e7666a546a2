"""Drift estimation and correction (l2l_helpers.pairs.drift, ``l2l drift``).

Shifts follow scikit-image's convention: ``(dy, dx)`` registers the moving
image onto the reference, i.e. ``scipy.ndimage.shift(moving, (dy, dx))``
lines up with the reference.
"""

import csv
import math
import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi

from l2l_helpers.cli import main
from l2l_helpers.data.io import ImageError, read_image, write_image
from l2l_helpers.pairs import drift
from l2l_helpers.training.prepare import normalize

PAD = 16


def _scene(size, seed):
    """A smooth random texture with bright blobs (foreground for the patch filter)."""
    rng = np.random.default_rng(seed)
    n = size + 2 * PAD
    texture = ndi.gaussian_filter(rng.random((n, n)), 3)
    blobs = ndi.gaussian_filter((rng.random((n, n)) > 0.995).astype(float), 3)
    return texture / texture.std() + 4 * blobs / blobs.max()


def make_pair(shift, size=128, seed=0, noise=0.2):
    """Reference and moving image such that ndi.shift(moving, shift) ~ reference.

    The moving image is the scene shifted by ``-shift`` (exact Fourier shift
    of a larger periodic scene, then cropped, so no border artefacts), each
    image with its own noise.
    """
    scene = _scene(size, seed)
    moved = np.fft.ifft2(ndi.fourier_shift(np.fft.fft2(scene), [-s for s in shift])).real
    crop = (slice(PAD, PAD + size),) * 2
    rng = np.random.default_rng(seed + 1000)
    reference = scene[crop] + noise * rng.standard_normal((size, size))
    moving = moved[crop] + noise * rng.standard_normal((size, size))
    return reference.astype(np.float32), moving.astype(np.float32)


def _corr(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


# --- estimate_drift ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["phase", "ssim"])
def test_both_methods_recover_a_known_integer_shift(method):
    reference, moving = make_pair((3, -2))
    assert drift.estimate_drift(reference, moving, method=method) == pytest.approx((3, -2), abs=0.1)


def test_phase_recovers_a_subpixel_shift_within_a_tenth_of_a_pixel():
    true = (1.37, -2.62)
    reference, moving = make_pair(true)
    dy, dx = drift.estimate_drift(reference, moving, method="phase")
    assert math.hypot(dy - true[0], dx - true[1]) < 0.1


def test_ssim_rounds_a_subpixel_shift_to_the_nearest_integer():
    reference, moving = make_pair((1.2, -2.8))
    assert drift.estimate_drift(reference, moving, method="ssim") == (1.0, -3.0)


@pytest.mark.parametrize("method", ["phase", "ssim"])
def test_shift_convention_matches_scipy_ndimage_shift(method):
    # the moving image is the reference displaced by (-2, +3): shifting it by
    # the estimate must bring it back, shifting it the other way must not
    rng = np.random.default_rng(3)
    reference = ndi.gaussian_filter(rng.random((128, 128)), 2) + ndi.gaussian_filter(
        (rng.random((128, 128)) > 0.995).astype(float), 3
    )
    moving = ndi.shift(reference, (-2, 3), order=1, mode="nearest")
    est = drift.estimate_drift(reference, moving, method=method)
    inner = (slice(10, -10),) * 2
    back = ndi.shift(moving, est, order=1, mode="nearest")[inner]
    wrong = ndi.shift(moving, (-est[0], -est[1]), order=1, mode="nearest")[inner]
    assert np.abs(back - reference[inner]).mean() < 0.1 * np.abs(wrong - reference[inner]).mean()


def test_phase_finds_a_shift_larger_than_the_ssim_search_range():
    reference, moving = make_pair((-9.4, 7.25))
    assert drift.estimate_drift(reference, moving, method="phase") == pytest.approx((-9.4, 7.25), abs=0.1)


def test_ssim_warns_when_the_best_shift_is_on_the_border_of_the_search_range():
    reference, moving = make_pair((6, 0))
    with pytest.warns(drift.DriftRangeWarning, match="border of the search range"):
        dy, dx = drift.estimate_drift(reference, moving, method="ssim", max_shift=3)
    assert dy == 3


def test_ssim_does_not_warn_for_a_shift_inside_the_search_range():
    reference, moving = make_pair((2, -1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", drift.DriftRangeWarning)
        drift.estimate_drift(reference, moving, method="ssim", max_shift=5)


def test_same_seed_gives_the_same_ssim_scores():
    reference, moving = make_pair((1.5, 0.5), noise=0.5)
    a = drift.ssim_scores(reference, moving, seed=7, n_patches=20)
    b = drift.ssim_scores(reference, moving, seed=7, n_patches=20)
    np.testing.assert_array_equal(a, b)


def test_different_seeds_sample_different_patches():
    reference, _ = make_pair((0, 0))
    a = drift.sample_patch_corners(reference, patch_size=40, n_patches=20, seed=1)
    b = drift.sample_patch_corners(reference, patch_size=40, n_patches=20, seed=2)
    assert not np.array_equal(a, b)


def test_ssim_score_equals_skimage_ssim_averaged_over_the_patches():
    from skimage.metrics import structural_similarity

    reference, moving = make_pair((2, -1), noise=0.3)
    m, size, n, seed = 3, 40, 6, 5
    scores = drift.ssim_scores(reference, moving, max_shift=m, n_patches=n, patch_size=size, seed=seed)
    # the same computation patch by patch, as the paper describes it
    ref = normalize(ndi.gaussian_filter(reference.astype(np.float64), 2), 1.0, 99.8)
    mov = normalize(ndi.gaussian_filter(moving.astype(np.float64), 2), 1.0, 99.8)
    corners = drift.sample_patch_corners(ref, patch_size=size, n_patches=n, margin=m, seed=seed)
    for dy, dx in [(2, -1), (0, 0), (-3, 3)]:
        per_patch = [
            structural_similarity(
                ref[r : r + size, c : c + size],
                mov[r - dy : r - dy + size, c - dx : c - dx + size],
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1,
            )
            for r, c in corners
        ]
        assert scores[dy + m, dx + m] == pytest.approx(np.mean(per_patch), abs=1e-9)


def test_patches_lie_on_foreground_and_inside_the_margin():
    image = np.zeros((120, 120), np.float32)
    image[70:110, 60:100] = 1.0
    corners = drift.sample_patch_corners(image, patch_size=20, n_patches=50, margin=5, seed=0)
    assert corners.min() >= 5 and corners.max() <= 120 - 5 - 20
    # each patch overlaps the bright square (no_background_patches keeps patches near signal)
    assert all(image[r : r + 20, c : c + 20].max() == 1.0 for r, c in corners)


def test_shape_mismatch_raises_a_clear_error():
    with pytest.raises(ImageError, match=r"\(64, 64\).*\(64, 70\).*differ in shape"):
        drift.estimate_drift(np.random.rand(64, 64), np.random.rand(64, 70))


def test_unknown_method_is_rejected():
    reference, moving = make_pair((0, 0), size=64)
    with pytest.raises(ValueError, match="unknown drift method 'fft'"):
        drift.estimate_drift(reference, moving, method="fft")


def test_image_too_small_for_the_ssim_search_raises():
    reference, moving = make_pair((0, 0), size=64)
    with pytest.raises(ValueError, match="too small"):
        drift.estimate_drift(reference, moving, method="ssim", patch_size=60, max_shift=5)


# --- apply_drift ------------------------------------------------------------------


def test_apply_drift_crops_both_images_to_the_common_area():
    reference, moving = make_pair((2.3, -1.6))
    a, b = drift.apply_drift(reference, moving, (2.3, -1.6))
    assert a.shape == b.shape == (128 - 3, 128 - 2)


def test_registered_pair_correlates_better_than_the_raw_pair():
    reference, moving = make_pair((2.4, -1.7))
    a, b = drift.apply_drift(reference, moving, drift.estimate_drift(reference, moving))
    area = drift.common_area(reference.shape, (2.4, -1.7))
    raw = _corr(reference[area], moving[area])
    assert _corr(a, b) > raw + 0.2
    assert _corr(a, b) > 0.95


def test_integer_shift_moves_pixels_without_interpolation():
    rng = np.random.default_rng(0)
    reference = rng.random((20, 30)).astype(np.float32)
    moving = np.roll(reference, (-2, 3), axis=(0, 1))
    a, b = drift.apply_drift(reference, moving, (2, -3))
    np.testing.assert_array_equal(a, b)


def test_register_pair_returns_the_aligned_pair_and_the_shift():
    reference, moving = make_pair((-1.5, 2.5))
    a, b, shift = drift.register_pair(reference, moving, method="phase")
    assert shift == pytest.approx((-1.5, 2.5), abs=0.1)
    assert a.shape == b.shape == (126, 125)


# --- correct_folders and the CLI ------------------------------------------------


@pytest.fixture
def pair_folders(tmp_path):
    shifts = {"cell_000.tif": (1.5, -2.0), "cell_001.tif": (-3.0, 0.75)}
    for k, (name, shift) in enumerate(shifts.items()):
        reference, moving = make_pair(shift, seed=k)
        write_image(tmp_path / "ref" / name, reference)
        write_image(tmp_path / "mov" / name, moving)
    return tmp_path / "ref", tmp_path / "mov", shifts


@pytest.mark.parametrize("method", ["phase", "ssim"])
def test_cli_writes_reference_moving_and_shifts_csv(pair_folders, tmp_path, method):
    ref_dir, mov_dir, shifts = pair_folders
    out = tmp_path / "out"
    assert main(["drift", str(ref_dir), str(mov_dir), "--out", str(out), "--method", method, "--no-progress"]) == 0
    with open(out / "shifts.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == sorted(shifts)
    tol = 0.1 if method == "phase" else 0.5 + 1e-6  # ssim: integer shifts
    for row in rows:
        assert (float(row["dy"]), float(row["dx"])) == pytest.approx(shifts[row["name"]], abs=tol)
        a, b = read_image(out / "reference" / row["name"]), read_image(out / "moving" / row["name"])
        expected = tuple(128 - math.ceil(abs(float(row[k])) - 1e-9) for k in ("dy", "dx"))
        assert a.shape == b.shape == expected


def test_cli_refuses_a_non_empty_output_folder(pair_folders, tmp_path, capsys):
    ref_dir, mov_dir, _ = pair_folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["drift", str(ref_dir), str(mov_dir), "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_overwrite_allows_a_non_empty_output_folder(pair_folders, tmp_path):
    ref_dir, mov_dir, _ = pair_folders
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["drift", str(ref_dir), str(mov_dir), "--out", str(out), "--overwrite", "--no-progress"]) == 0
    assert (out / "shifts.csv").is_file()


def test_output_inside_an_input_folder_is_refused_and_inputs_stay_untouched(pair_folders, capsys):
    ref_dir, mov_dir, _ = pair_folders
    before = sorted(p.name for p in ref_dir.iterdir())
    assert main(["drift", str(ref_dir), str(mov_dir), "--out", str(ref_dir / "aligned"), "--no-progress"]) == 2
    assert "input folder" in capsys.readouterr().err
    assert sorted(p.name for p in ref_dir.iterdir()) == before


def test_unpaired_file_is_named_in_the_error(pair_folders, tmp_path, capsys):
    ref_dir, mov_dir, _ = pair_folders
    write_image(ref_dir / "extra.tif", np.random.rand(128, 128))
    assert main(["drift", str(ref_dir), str(mov_dir), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "extra.tif" in capsys.readouterr().err


def test_correct_folders_names_the_file_whose_shift_hits_the_search_border(tmp_path):
    reference, moving = make_pair((6, 0))
    write_image(tmp_path / "ref" / "far.tif", reference)
    write_image(tmp_path / "mov" / "far.tif", moving)
    with pytest.warns(drift.DriftRangeWarning, match="far.tif"):
        drift.correct_folders(
            tmp_path / "ref", tmp_path / "mov", tmp_path / "out", method="ssim", max_shift=3, progress=False
        )


def test_read_shifts_returns_what_correct_folders_wrote(pair_folders, tmp_path):
    ref_dir, mov_dir, _ = pair_folders
    rows = drift.correct_folders(ref_dir, mov_dir, tmp_path / "out", progress=False)
    table = drift.read_shifts(tmp_path / "out")
    assert table == {r["name"]: pytest.approx((r["dy"], r["dx"]), abs=1e-4) for r in rows}


# --- simulated cells --------------------------------------------------------------


@pytest.mark.parametrize("structure", ["actin", "pxn"])
def test_both_methods_agree_with_the_simulated_drift(structure):
    from l2l_helpers.data.simulate import simulate_cell

    cell = simulate_cell(structure, size=256, seed=0)
    true = np.asarray(cell["drift"])
    phase = np.asarray(drift.estimate_drift(cell["input"], cell["input_repeat"], method="phase"))
    ssim = np.asarray(drift.estimate_drift(cell["input"], cell["input_repeat"], method="ssim"))
    assert np.hypot(*(phase - true)) < 0.25
    assert np.abs(ssim - true).max() <= 1.0  # integer search: within a pixel per axis


# --- helpers of the lesson ------------------------------------------------------


def test_a_larger_residual_misalignment_blurs_the_learnable_target_more():
    clean, _ = make_pair((0, 0), noise=0.0)
    sims = [_corr(clean, drift.misalignment_blur(clean, r, seed=0)) for r in (0.0, 0.5, 1.0, 2.0)]
    assert sims[0] == pytest.approx(1.0)
    assert sims[0] > sims[1] > sims[2] > sims[3]


def test_evaluate_methods_reports_error_and_time_per_pair():
    pairs = [make_pair(s, seed=k) for k, s in enumerate([(1.0, -2.0), (-0.5, 1.5)])]
    res = drift.evaluate_methods([p[0] for p in pairs], [p[1] for p in pairs], [(1.0, -2.0), (-0.5, 1.5)], n_patches=20)
    assert set(res) == {"phase", "ssim"}
    assert res["phase"]["error"].shape == (2,) and (res["phase"]["error"] < 0.1).all()
    assert (res["ssim"]["seconds"] > 0).all()
    assert "phase" in drift.accuracy_table(res)


def test_overlay_of_identical_images_has_equal_red_and_green():
    from l2l_helpers.plotting.drift import overlay_rgb

    image, _ = make_pair((0, 0), size=64)
    rgb = overlay_rgb(image, image)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 1])
    assert rgb.min() >= 0 and rgb.max() <= 1
