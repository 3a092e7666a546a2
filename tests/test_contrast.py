"""Specification of the contrast analysis (l2l_helpers.pairs.contrast)."""

from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.data.io import ImageError, write_image
from l2l_helpers.pairs.contrast import (
    PAPER_CONTRAST,
    contrast_folders,
    measure_contrast,
    michelson_contrast,
    normalize_percentile,
    rms_contrast,
    sample_mask,
    suggest_pairing,
)

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
REAL_ACTIN = REALDATA / "BPAE_actin.tif"
needs_real_actin = pytest.mark.skipif(
    not REAL_ACTIN.is_file(),
    reason=f"real image {REAL_ACTIN} not found (optional test data outside the repository; see CONTRIBUTING.md)",
)


def two_level(low, high, bright_fraction=0.1, shape=(100, 100)):
    """Image with a fraction of bright rows at ``high`` and the rest at ``low``."""
    img = np.full(shape, float(low))
    img[: int(round(bright_fraction * shape[0]))] = high
    return img


def test_normalize_percentile_maps_percentiles_to_zero_and_one():
    img = np.arange(10000, dtype=float).reshape(100, 100)
    out = normalize_percentile(img, 1, 99, sigma=0)
    assert out.min() == 0.0 and out.max() == 1.0
    assert out[50, 0] == pytest.approx((5000 - 99.99) / (9899.01 - 99.99), abs=1e-6)


def test_normalize_percentile_clips_outliers():
    img = np.zeros((50, 50))
    img[0, 0] = 1e6
    img[10:20] = 1.0
    out = normalize_percentile(img, 1, 99, sigma=0)
    assert out.max() == 1.0 and out[0, 0] == 1.0


def test_normalize_percentile_of_constant_image_is_zero():
    assert not normalize_percentile(np.full((20, 20), 3.0)).any()


def test_normalize_percentile_rejects_3d_image():
    with pytest.raises(ValueError, match="2-D"):
        normalize_percentile(np.zeros((4, 4, 4)))


def test_sample_mask_marks_exactly_the_fraction_even_with_ties():
    img = np.zeros((100, 100))
    img[:30] = 1.0  # 30 % tied at the top
    assert sample_mask(img, 0.1).sum() == 1000


def test_michelson_of_two_level_image_is_computed_by_hand():
    # 20 % bright: top 10 % all at 1 (Is = 1); background: 1/9 of it at 1, rest 0 -> Ib = 1/9
    img = two_level(10.0, 50.0, bright_fraction=0.2)
    expected = (1 - 1 / 9) / (1 + 1 / 9)
    assert michelson_contrast(img, fraction=0.1, sigma=0) == pytest.approx(expected)


def test_michelson_is_one_when_sample_fraction_matches_bright_area():
    img = two_level(5.0, 9.0, bright_fraction=0.1)
    assert michelson_contrast(img, fraction=0.1, sigma=0) == pytest.approx(1.0)


def test_michelson_does_not_depend_on_offset_and_gain():
    rng = np.random.default_rng(0)
    img = rng.random((64, 64))
    assert michelson_contrast(img) == pytest.approx(michelson_contrast(100 + 7 * img))


def test_michelson_of_noise_is_lower_than_of_sparse_structure():
    rng = np.random.default_rng(1)
    noise = rng.normal(100, 5, (128, 128))
    spots = noise.copy()
    spots[::16, ::16] += 2000
    assert michelson_contrast(spots) > michelson_contrast(noise) + 0.2


def test_rms_of_half_bright_image_is_one_half():
    assert rms_contrast(two_level(0.0, 1.0, bright_fraction=0.5), sigma=0) == pytest.approx(0.5)


def test_rms_of_two_level_image_is_computed_by_hand():
    # 10 % at 1 after normalisation, rest 0: sd = sqrt(0.1 * 0.9)
    assert rms_contrast(two_level(2.0, 4.0, 0.1), sigma=0) == pytest.approx(np.sqrt(0.09))


def test_fraction_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="fraction"):
        michelson_contrast(np.eye(8), fraction=1.5)


def test_measure_contrast_gives_per_image_values_and_summary():
    imgs = [two_level(0, 1, 0.1), two_level(0, 1, 0.5)]
    stats = measure_contrast(imgs, fraction=0.1, names=["a.tif", "b.tif"])
    assert stats["names"] == ["a.tif", "b.tif"]
    assert stats["rms"] == pytest.approx([0.3, 0.5], abs=0.02)
    assert stats["rms_mean"] == pytest.approx(np.mean(stats["rms"]))
    assert stats["rms_sd"] == pytest.approx(np.std(stats["rms"], ddof=1))
    assert stats["michelson_mean"] == pytest.approx(np.mean(stats["michelson"]))
    assert stats["n"] == 2


def test_measure_contrast_names_the_bad_image():
    with pytest.raises(ValueError, match="b.tif"):
        measure_contrast([np.eye(8), np.zeros((2, 2, 2))], names=["a.tif", "b.tif"])


def _stats(michelson, rms, sd=0.02):
    return {"michelson_mean": michelson, "michelson_sd": sd, "rms_mean": rms, "rms_sd": sd}


def test_suggest_pairing_picks_the_higher_contrast_label_as_target():
    result = suggest_pairing(_stats(0.9, 0.2), _stats(0.4, 0.1), labels=("phalloidin", "AC-15"))
    assert result["target"] == "phalloidin" and result["input"] == "AC-15"
    assert result["target_index"] == 0
    assert result["agree"] is True


def test_suggest_pairing_says_which_measure_decided_and_when_measures_disagree():
    # Michelson clearly higher for B, RMS slightly higher for A
    result = suggest_pairing(_stats(0.4, 0.16), _stats(0.9, 0.15), labels=("A", "B"))
    assert result["target"] == "B"
    assert result["decided_by"] == "michelson"
    assert result["agree"] is False
    assert "disagree" in result["message"]


def test_suggest_pairing_lets_michelson_decide_even_when_rms_differs_more():
    # the old rule let RMS decide here: its difference (0.06) is 6 s.d., Michelson's (0.1) only 1 s.d.
    clean = {"michelson_mean": 0.86, "michelson_sd": 0.1, "rms_mean": 0.20, "rms_sd": 0.01}
    hazy = {"michelson_mean": 0.76, "michelson_sd": 0.1, "rms_mean": 0.26, "rms_sd": 0.01}
    result = suggest_pairing(hazy, clean, labels=("hazy", "clean"))
    assert result["target"] == "clean" and result["input"] == "hazy"
    assert result["decided_by"] == "michelson"


def test_suggest_pairing_names_the_label_that_rms_ranks_higher_when_measures_disagree():
    result = suggest_pairing(_stats(0.86, 0.20), _stats(0.76, 0.26), labels=("clean", "hazy"))
    assert result["agree"] is False
    assert result["ranked_higher"] == {"michelson": "clean", "rms": "hazy"}
    assert "RMS contrast is higher for the input (hazy)" in result["message"]


def test_suggest_pairing_message_names_the_deciding_measure():
    result = suggest_pairing(_stats(0.9, 0.2), _stats(0.4, 0.1), labels=("A", "B"))
    assert "decided by the Michelson contrast" in result["message"]
    assert "agrees" in result["message"]


def test_suggest_pairing_lets_rms_break_only_an_exact_michelson_tie():
    result = suggest_pairing(_stats(0.7, 0.2), _stats(0.7, 0.1), labels=("A", "B"))
    assert result["target"] == "A"
    assert result["decided_by"] == "rms" and result["agree"] is False
    assert "uncertain" in result["message"]


def test_suggest_pairing_counts_the_image_pairs_in_which_the_target_has_higher_contrast():
    a = {**_stats(0.60, 0.15), "michelson": [0.9, 0.5, 0.4], "rms": [0.1, 0.2, 0.15]}
    b = {**_stats(0.80, 0.16), "michelson": [0.8, 0.8, 0.8], "rms": [0.2, 0.1, 0.18]}
    result = suggest_pairing(a, b, labels=("A", "B"))
    assert result["n_pairs"] == 3
    assert result["paired_wins"] == {"michelson": 2, "rms": 2}
    assert "higher for the target in 2 of 3 image pairs" in result["message"]


def test_suggest_pairing_without_per_image_values_counts_no_pairs():
    result = suggest_pairing(_stats(0.4, 0.1), _stats(0.9, 0.2))
    assert result["n_pairs"] is None and result["paired_wins"] == {"michelson": None, "rms": None}


def test_suggest_pairing_refuses_two_labels_with_the_same_name():
    with pytest.raises(ValueError, match="same name"):
        suggest_pairing(_stats(0.4, 0.1), _stats(0.9, 0.2), labels=("A", "A"))


def test_paper_table_has_four_structures_with_both_measures():
    assert set(PAPER_CONTRAST) == {"actin", "tubulin", "caveolae", "pxn"}
    for values in PAPER_CONTRAST.values():
        for m in ("michelson", "rms"):
            assert values[m]["target"][0] > values[m]["input"][0]


def test_contrast_folders_suggests_the_sparse_label_as_target(tmp_path):
    rng = np.random.default_rng(0)
    for k in range(3):
        spots = rng.normal(100, 3, (64, 64))
        spots[::12, ::12] += 3000
        haze = rng.normal(100, 3, (64, 64)) + 50 * np.linspace(0, 1, 64)[None, :] + spots / 30
        write_image(tmp_path / "a" / f"cell_{k}.tif", haze)
        write_image(tmp_path / "b" / f"cell_{k}.tif", spots)
    result = contrast_folders(tmp_path / "a", tmp_path / "b")
    assert result["suggested_target"] == str(tmp_path / "b")
    assert result["suggested_input"] == str(tmp_path / "a")
    assert result["folders"][str(tmp_path / "a")]["n"] == 3


def test_contrast_folders_reports_the_deciding_measure_and_whether_measures_agree(tmp_path):
    for k in range(2):
        write_image(tmp_path / "a" / f"cell_{k}.tif", two_level(10, 20, 0.3 + 0.1 * k))
        write_image(tmp_path / "b" / f"cell_{k}.tif", two_level(10, 20, 0.1))
    result = contrast_folders(tmp_path / "a", tmp_path / "b")
    assert result["suggested_target"] == str(tmp_path / "b")
    assert result["decided_by"] == "michelson"
    assert result["measures_agree"] is False  # the half-bright image A has the larger spread
    assert result["pairing"]["agree"] is False


def test_contrast_on_unpaired_folders_names_the_missing_file(tmp_path):
    write_image(tmp_path / "a" / "cell_0.tif", np.eye(16))
    write_image(tmp_path / "a" / "cell_1.tif", np.eye(16))
    write_image(tmp_path / "b" / "cell_0.tif", np.eye(16))
    with pytest.raises(ImageError, match="cell_1.tif"):
        contrast_folders(tmp_path / "a", tmp_path / "b")


@needs_real_actin
def test_real_phalloidin_image_has_high_finite_contrast():
    from l2l_helpers.data.io import read_image

    actin = read_image(REALDATA / "BPAE_actin.tif")
    m, r = michelson_contrast(actin), rms_contrast(actin)
    assert np.isfinite(m) and np.isfinite(r)
    assert m > 0.6 and r > 0.1


# ---------------------------------------------------------------------------
# The suggestion on real structure: a real phalloidin image against a hazy copy


def hazy_label(image, seed=0):
    """A second, hazy label of a real image, as an antibody against the same structure gives.

    Relative to the image's own levels (background ``bg``: 10th percentile;
    ``top``: 99th percentile minus ``bg``):

    * cells: the image smoothed with a Gaussian (sigma 4 px) above
      ``bg + 0.02 * top``, holes filled, opened by 3 px;
    * cytosolic haze: that cell mask smoothed (sigma 6 px), with a smooth
      texture of +-20 % (Gaussian-filtered white noise, sigma 25 px),
      scaled to 1.5 times the median signal inside the cells: brighter than a
      typical filament, as with an antibody that also stains the cytosol;
    * 400 puncta at random positions inside the cells, Gaussian spots
      (sigma 1.5 px) with gamma-distributed brightness, peak ``top``;
    * Gaussian noise with s.d. ``0.02 * top``.

    Everything random comes from ``numpy.random.default_rng(seed)``.
    """
    from scipy import ndimage as ndi

    rng = np.random.default_rng(seed)
    img = np.asarray(image, dtype=np.float64)
    bg = np.percentile(img, 10)
    top = np.percentile(img, 99) - bg
    cells = ndi.gaussian_filter(img, 4) > bg + 0.02 * top
    cells = ndi.binary_opening(ndi.binary_fill_holes(cells), iterations=3)
    texture = ndi.gaussian_filter(rng.standard_normal(img.shape), 25)
    texture /= texture.std()
    haze = ndi.gaussian_filter(cells.astype(float), 6) * (1 + 0.2 * texture)
    haze *= 1.5 * np.median(img[cells] - bg)
    ys, xs = np.nonzero(cells)
    pick = rng.choice(ys.size, 400, replace=False)
    puncta = np.zeros(img.shape)
    puncta[ys[pick], xs[pick]] = rng.gamma(3.0, 1 / 3.0, pick.size)
    puncta = ndi.gaussian_filter(puncta, 1.5)
    puncta *= top / puncta.max()
    return img + haze + puncta + rng.normal(0.0, 0.02 * top, img.shape)


def quadrants(image):
    """The four quadrants of an image (680 x 1100 -> four 340 x 550 fields of view)."""
    h, w = image.shape
    return [image[i : i + h // 2, j : j + w // 2] for i in (0, h // 2) for j in (0, w // 2)]


@pytest.fixture(scope="module")
def real_pair():
    """Contrast of the real actin image (clean) and of its hazy copy, four fields each."""
    if not REAL_ACTIN.is_file():
        pytest.skip(f"real image {REAL_ACTIN} not found (optional test data outside the repository)")
    from l2l_helpers.data.io import read_image

    clean = read_image(REAL_ACTIN)
    hazy = hazy_label(clean, seed=0)
    return measure_contrast(quadrants(clean)), measure_contrast(quadrants(hazy))


@needs_real_actin
def test_real_actin_is_suggested_as_target_over_its_hazy_copy(real_pair):
    clean, hazy = real_pair
    result = suggest_pairing(hazy, clean, labels=("hazy", "clean"))
    assert result["target"] == "clean" and result["input"] == "hazy"
    assert result["decided_by"] == "michelson"


@needs_real_actin
def test_real_hazy_copy_has_the_higher_rms_and_the_disagreement_is_reported(real_pair):
    clean, hazy = real_pair
    assert hazy["rms_mean"] > clean["rms_mean"]  # the haze makes the cells bright against the dark outside
    result = suggest_pairing(hazy, clean, labels=("hazy", "clean"))
    # a hard case: RMS separates the labels by more s.d. than Michelson (the old rule let RMS decide)
    assert abs(result["standardised"]["rms"]) > abs(result["standardised"]["michelson"])
    assert result["agree"] is False
    assert result["ranked_higher"]["rms"] == "hazy"
    assert "disagree" in result["message"]


# ---------------------------------------------------------------------------
# The suggestion on the simulated structures


@pytest.fixture(scope="module")
def simulated_contrast():
    """Contrast of input and benchmark of 4 simulated cells (seed 0) per structure, as in notebook 01."""
    from l2l_helpers.data.simulate import PAIRED_STRUCTURES, simulate_dataset
    from l2l_helpers.pairs.contrast import SAMPLE_FRACTION

    out = {}
    for s in PAIRED_STRUCTURES:
        d = simulate_dataset(s, n=4, seed=0)
        out[s] = {
            k: measure_contrast(d[key], SAMPLE_FRACTION[s], names=d["names"])
            for k, key in (("input", "input"), ("target", "benchmark"))
        }
    return out


@pytest.mark.parametrize("structure", ["actin", "tubulin", "caveolae", "pxn"])
def test_simulated_benchmark_label_is_suggested_as_target(simulated_contrast, structure):
    m = simulated_contrast[structure]
    result = suggest_pairing(m["input"], m["target"], labels=("input", "benchmark"))
    assert result["target"] == "benchmark"


def test_simulated_caveolae_benchmark_is_target_although_its_rms_is_lower(simulated_contrast):
    m = simulated_contrast["caveolae"]
    assert m["target"]["rms_mean"] < m["input"]["rms_mean"]
    result = suggest_pairing(m["input"], m["target"], labels=("input", "benchmark"))
    assert result["target"] == "benchmark" and result["decided_by"] == "michelson"


def test_simulated_caveolae_disagreement_of_the_measures_is_reported(simulated_contrast):
    m = simulated_contrast["caveolae"]
    result = suggest_pairing(m["input"], m["target"], labels=("input", "benchmark"))
    assert result["agree"] is False
    assert result["ranked_higher"] == {"michelson": "benchmark", "rms": "input"}
    assert "disagree" in result["message"]
