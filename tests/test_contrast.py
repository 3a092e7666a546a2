"""Specification of the contrast analysis (l2l_helpers.contrast)."""

from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.contrast import (
    PAPER_CONTRAST,
    contrast_folders,
    measure_contrast,
    michelson_contrast,
    normalize_percentile,
    rms_contrast,
    sample_mask,
    suggest_pairing,
)
from l2l_helpers.io import ImageError, write_image

REALDATA = Path(__file__).parents[2] / "shared" / "realdata"


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


def test_contrast_on_unpaired_folders_names_the_missing_file(tmp_path):
    write_image(tmp_path / "a" / "cell_0.tif", np.eye(16))
    write_image(tmp_path / "a" / "cell_1.tif", np.eye(16))
    write_image(tmp_path / "b" / "cell_0.tif", np.eye(16))
    with pytest.raises(ImageError, match="cell_1.tif"):
        contrast_folders(tmp_path / "a", tmp_path / "b")


@pytest.mark.skipif(not (REALDATA / "BPAE_actin.tif").is_file(),
                    reason=f"real images not found in {REALDATA} (optional; see CONTRIBUTING.md)")
def test_real_phalloidin_image_has_high_finite_contrast():
    from l2l_helpers.io import read_image

    actin = read_image(REALDATA / "BPAE_actin.tif")
    m, r = michelson_contrast(actin), rms_contrast(actin)
    assert np.isfinite(m) and np.isfinite(r)
    assert m > 0.6 and r > 0.1
