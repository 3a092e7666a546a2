"""Specification of l2l_helpers.scoring.downstream: fibre widths, binarisation, distance maps."""

import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from l2l_helpers.data.simulate import PAIRED_STRUCTURES, simulate_cell
from l2l_helpers.scoring import downstream
from l2l_helpers.scoring.downstream import (
    BINARISATION,
    FWHM_PER_SIGMA,
    binarisation_scores,
    binarize,
    compare_masks,
    dice,
    distance_map,
    find_profile_lines,
    fit_gaussian,
    line_profiles,
    measure_widths,
)


def fibre(size=64, col=30, sigma=1.0):
    img = np.zeros((size, size))
    img[:, col] = 1.0
    return gaussian_filter(img, sigma)


# --- line profiles and widths -----------------------------------------------------------------------


def test_gaussian_fit_recovers_the_width_of_a_gaussian_profile():
    x = np.arange(31.0)
    fit = fit_gaussian(2.0 + 5.0 * np.exp(-((x - 14.6) ** 2) / (2 * 2.2**2)))
    assert fit["fwhm"] == pytest.approx(FWHM_PER_SIGMA * 2.2, rel=1e-4)
    assert fit["center"] == pytest.approx(14.6, abs=1e-4) and fit["offset"] == pytest.approx(2.0, abs=1e-4)


def test_gaussian_fit_width_is_in_the_unit_of_the_spacing():
    x = np.arange(31.0)
    profile = np.exp(-((x - 15) ** 2) / (2 * 2.0**2))
    assert fit_gaussian(profile, spacing=30.0)["fwhm"] == pytest.approx(30 * fit_gaussian(profile)["fwhm"])


def test_gaussian_fit_of_a_flat_profile_is_nan():
    assert all(math.isnan(v) for v in fit_gaussian(np.ones(21)).values())


def test_gaussian_fit_of_a_dip_is_nan():
    x = np.arange(21.0)
    assert math.isnan(fit_gaussian(5 - np.exp(-((x - 10) ** 2) / 8))["fwhm"])


def test_line_profile_averages_along_the_fibre():
    img = fibre(sigma=0)
    img[10, 30] = 21.0  # one bright pixel on the fibre: averaged over 20 rows it adds 1
    prof = line_profiles(img, [((12, 25), (12, 35))], width=20)[0]
    assert prof[5] == pytest.approx(2.0) and prof.size == 11


def test_lines_cross_a_straight_fibre_perpendicularly():
    ((start, end),) = find_profile_lines(fibre(), n=1)
    assert start[0] == end[0] and abs(end[1] - start[1]) == 20
    assert (start[1] + end[1]) / 2 == pytest.approx(30)


def test_lines_are_at_least_the_averaged_stretch_apart():
    lines = find_profile_lines(fibre(size=128, col=60), n=5, width=20)
    centres = [np.add(s, e) / 2 for s, e in lines]
    assert len(lines) >= 2
    assert min(np.hypot(*(a - b)) for i, a in enumerate(centres) for b in centres[i + 1 :]) >= 20


def test_no_line_is_placed_where_two_fibres_are_closer_than_the_gap():
    img = np.zeros((64, 64))
    img[:, 28] = img[:, 32] = 1
    assert find_profile_lines(gaussian_filter(img, 1.0), min_gap=5) == []


def test_no_line_is_placed_on_a_curved_stretch():
    yy, xx = np.mgrid[:96, :96]
    ring = gaussian_filter((np.abs(np.hypot(yy - 48, xx - 48) - 12) < 0.5).astype(float), 1.0)
    assert find_profile_lines(ring, width=20) == []


def test_an_even_line_length_is_refused():
    with pytest.raises(ValueError, match="odd"):
        find_profile_lines(fibre(), length=20)


def test_an_empty_ground_truth_is_refused():
    with pytest.raises(ValueError, match="no structure"):
        find_profile_lines(np.zeros((32, 32)))


def test_lines_are_found_on_simulated_tubulin_and_the_truth_is_narrower_than_the_input():
    cell = simulate_cell("tubulin", 256, seed=1)
    lines = find_profile_lines(cell["ground_truth"], n=6)
    widths = measure_widths({"input": cell["input"], "truth": cell["ground_truth"]}, lines)
    assert len(lines) == 6
    assert np.nanmean(widths["truth"]["fwhm"]) < np.nanmean(widths["input"]["fwhm"])


def test_measured_width_grows_with_the_blur():
    lines = [((32, 20), (32, 40))]
    w = measure_widths({"a": fibre(sigma=1.0), "b": fibre(sigma=2.0)}, lines)
    assert w["a"]["fwhm"][0] == pytest.approx(FWHM_PER_SIGMA, rel=0.02)
    assert w["b"]["fwhm"][0] == pytest.approx(2 * FWHM_PER_SIGMA, rel=0.02)


# --- binarisation and distance maps -----------------------------------------------------------------


def test_binarisation_settings_cover_every_paired_structure():
    assert set(BINARISATION) == set(PAIRED_STRUCTURES)


def test_percentile_threshold_keeps_that_fraction_of_the_pixels():
    img = np.random.default_rng(0).random((100, 100))
    assert binarize(img, percentile=75, min_size=1, sigma=0).mean() == pytest.approx(0.25, abs=0.001)


def test_binarisation_does_not_depend_on_the_intensity_scale():
    img = simulate_cell("actin", 128, seed=0)["input"]
    np.testing.assert_array_equal(binarize(img, "actin"), binarize(3 * img + 100, "actin"))


def test_objects_below_the_minimum_size_are_removed():
    img = np.zeros((30, 30))
    img[2:7, 2:7] = 1  # 25 px
    img[20:23, 20:23] = 1  # 9 px
    fg = binarize(img, percentile=50, min_size=10, sigma=0)
    assert fg[4, 4] and not fg[21, 21]


def test_the_percentile_is_taken_inside_the_mask_and_nothing_outside_is_foreground():
    img = np.arange(100.0).reshape(10, 10)
    mask = np.zeros((10, 10), bool)
    mask[:5] = True
    fg = binarize(img, percentile=50, min_size=1, sigma=0, mask=mask)
    assert not fg[5:].any() and fg[:5].sum() == 25


def test_explicit_settings_override_the_structures():
    img = np.random.default_rng(1).random((50, 50))
    assert binarize(img, "caveolae", percentile=50, min_size=1, sigma=0).mean() == pytest.approx(0.5, abs=0.001)


def test_binarisation_without_settings_is_refused():
    with pytest.raises(ValueError, match="structure, or both percentile and min_size"):
        binarize(np.eye(8), percentile=50)


def test_binarisation_of_an_unknown_structure_is_refused_listing_the_known():
    with pytest.raises(ValueError, match="no binarisation settings for 'nucleus'.*tubulin"):
        binarize(np.eye(8), "nucleus")


def test_distance_map_is_the_euclidean_distance_to_the_nearest_foreground():
    m = np.zeros((5, 5), bool)
    m[0, 0] = True
    assert distance_map(m)[3, 4] == pytest.approx(5.0)


def test_distance_map_of_an_empty_mask_is_refused():
    with pytest.raises(ValueError, match="no foreground"):
        distance_map(np.zeros((4, 4), bool))


def test_dice_of_identical_masks_is_one_and_of_disjoint_masks_zero():
    a = np.eye(6, dtype=bool)
    assert dice(a, a) == 1.0 and dice(a, ~a) == 0.0


def test_dice_of_masks_of_different_shapes_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        dice(np.ones((2, 2), bool), np.ones((3, 3), bool))


def test_distance_error_grows_with_a_spurious_object_far_from_the_structure():
    ref = np.zeros((40, 40), bool)
    ref[20, :] = True
    near, far = ref.copy(), ref.copy()
    near[22, 5] = True
    far[2, 5] = True
    assert compare_masks(far, ref)["distance_error"] > compare_masks(near, ref)["distance_error"] > 0


def test_distance_error_is_averaged_over_the_region_only():
    ref = np.zeros((40, 40), bool)
    ref[20, :] = True
    extra = ref.copy()
    extra[2, 5] = True
    region = np.zeros((40, 40), bool)
    region[15:, :] = True
    assert compare_masks(extra, ref, region=region)["distance_error"] == 0.0


def test_binarisation_scores_give_the_truth_a_perfect_score_and_have_the_scoring_layout():
    cell = simulate_cell("pxn", 128, seed=2)
    s = binarisation_scores(
        {"input": [cell["input"]], "truth": [cell["ground_truth"]]},
        [cell["ground_truth"]],
        structure="pxn",
        cell_masks=[cell["cell_mask"]],
        names=["c"],
    )
    assert s["truth"]["mean"]["dice"] == 1.0 and s["truth"]["mean"]["distance_error"] == 0.0
    assert s["input"]["images"][0]["name"] == "c" and set(s["input"]["mean"]) == {
        "dice",
        "distance_error",
        "foreground",
    }


def test_binarisation_scores_name_a_method_with_the_wrong_number_of_images():
    cell = simulate_cell("pxn", 64, seed=2)
    with pytest.raises(ValueError, match="L2L: 2 images for 1 ground truths"):
        binarisation_scores({"L2L": [cell["input"]] * 2}, [cell["ground_truth"]], structure="pxn")


def test_the_module_imports_no_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, l2l_helpers.scoring.downstream, l2l_helpers.plotting.downstream; "
        "print('tensorflow' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_every_public_name_is_documented():
    assert all(getattr(downstream, name).__doc__ for name in downstream.__all__ if callable(getattr(downstream, name)))


def test_objects_smaller_than_min_size_are_removed_and_those_of_min_size_kept():
    from l2l_helpers.scoring.downstream import _remove_small_objects

    mask = np.zeros((10, 20), bool)
    mask[1, 1:5] = True  # 4 pixels
    mask[5, 1:6] = True  # 5 pixels
    kept = _remove_small_objects(mask, 5)
    assert not kept[1].any() and kept[5, 1:6].all()
