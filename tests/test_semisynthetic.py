"""Specification of l2l_helpers.data.semisynthetic (real structure, synthetic background and noise)."""

import math
from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.data.semisynthetic import METHODS, degrade, held_out_side, validate_on_image

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
REAL_ACTIN = REALDATA / "BPAE_actin.tif"

KEYS = ("ground_truth", "cell_mask", "background", "input", "input_second", "target", "input_average")
TINY = {"epochs": 1, "steps_per_epoch": 2, "n_patches_per_image": 4}  # the networks learn nothing: runs only


def fibres(shape=(200, 300)):
    """A cell-like image: an elliptical cell of thin, slanted fibres on a dark field, slightly blurred."""
    from scipy import ndimage as ndi
    from skimage.draw import line

    h, w = shape
    img = np.zeros(shape)
    for k, r in enumerate(range(-60, h, 11)):
        rr, cc = line(max(r, 0), 0, min(r + 60, h - 1), w - 1)
        img[rr, cc] = 1.0 if k % 3 else 0.5
    yy, xx = np.mgrid[:h, :w]
    cell = ((yy - h / 2) / (0.45 * h)) ** 2 + ((xx - w / 2) / (0.45 * w)) ** 2 < 1
    return (ndi.gaussian_filter(img * cell, 0.8) * 1000 + 50).astype(np.float32)


@pytest.fixture(scope="module")
def pair():
    return degrade(fibres(), seed=0)


def _excess(image, pair, photons, offset=100.0):
    """Mean of (image - offset) / photons - ground truth inside the cells: the background a label carries."""
    m = pair["cell_mask"]
    return float(((image.astype(np.float64) - offset) / photons - pair["ground_truth"])[m].mean())


# --------------------------------------------------------------------------- degrade


def test_degrade_returns_2d_float32_images_and_a_boolean_cell_mask(pair):
    assert sorted(pair) == sorted(KEYS)
    for key in KEYS:
        assert pair[key].shape == (200, 300), key
        assert pair[key].dtype == (bool if key == "cell_mask" else np.float32), key
    assert pair["ground_truth"].min() == 0 and pair["ground_truth"].max() == 1
    assert 0 < pair["cell_mask"].mean() < 1


def test_degrade_same_seed_gives_the_same_pair():
    a, b = degrade(fibres(), seed=3), degrade(fibres(), seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in KEYS)


def test_degrade_other_seed_gives_other_noise_and_background_on_the_same_truth():
    a, b = degrade(fibres(), seed=3), degrade(fibres(), seed=4)
    assert np.array_equal(a["ground_truth"], b["ground_truth"]) and np.array_equal(a["cell_mask"], b["cell_mask"])
    for key in ("background", "input", "input_second", "target", "input_average"):
        assert not np.array_equal(a[key], b[key]), key


def test_degrade_does_not_use_the_global_random_generator():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    degrade(fibres(), seed=1)
    assert np.array_equal(np.random.get_state()[1], state)


def test_degrade_background_lies_in_the_cells_at_the_requested_level(pair):
    m, bg = pair["cell_mask"], pair["background"]
    assert bg[~m].max() == 0 and bg.min() >= 0
    assert bg[m].mean() == pytest.approx(0.5 * pair["ground_truth"][m].mean(), rel=1e-4)


def test_degrade_input_carries_more_background_than_target_inside_the_cells(pair):
    inp = _excess(pair["input"], pair, photons=30.0)
    tgt = _excess(pair["target"], pair, photons=120.0)
    assert inp == pytest.approx(float(pair["background"][pair["cell_mask"]].mean()), rel=0.1)
    assert inp > 3 * tgt > 0


def test_degrade_without_background_adds_none():
    p = degrade(fibres(), background=0.0, seed=0)
    assert p["background"].max() == 0
    assert abs(_excess(p["input"], p, photons=30.0)) < 0.01


def test_degrade_second_realisation_shares_the_clean_input_but_not_its_noise(pair):
    diff = pair["input"].astype(np.float64) - pair["input_second"]
    assert not np.array_equal(pair["input"], pair["input_second"])
    assert abs(diff.mean()) < 0.05 * diff.std()  # same expectation: the mean difference is ~0
    assert diff.std() > 1  # independent noise: read noise alone has s.d. 2 * sqrt(2)


def test_degrade_input_average_is_closer_to_the_clean_input_than_the_input(pair):
    clean = 100.0 + 30.0 * (pair["ground_truth"].astype(np.float64) + pair["background"])
    err_average = np.sqrt(np.mean((pair["input_average"] - clean) ** 2))
    err_input = np.sqrt(np.mean((pair["input"] - clean) ** 2))
    assert err_average < err_input / 3  # 20 realisations: about sqrt(20) times less noise


def test_degrade_does_not_modify_the_raw_image():
    raw = fibres()
    kept = raw.copy()
    degrade(raw, seed=0)
    assert np.array_equal(raw, kept)


def test_degrade_refuses_a_3d_image():
    with pytest.raises(ValueError, match="2-D"):
        degrade(np.random.default_rng(0).random((4, 32, 32)))


def test_degrade_refuses_a_constant_image():
    with pytest.raises(ValueError, match="constant"):
        degrade(np.full((32, 32), 7.0))


def test_degrade_refuses_an_image_constant_between_its_percentiles():
    img = np.zeros((64, 64))
    img[0, 0] = 1.0
    with pytest.raises(ValueError, match="constant between its percentiles"):
        degrade(img)


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"photons": 0}, "photons must be positive"),
        ({"background": -0.1}, "background must not be negative"),
        ({"puncta": 2.5}, "puncta must be a whole number"),
        ({"percentiles": (99, 1)}, "percentiles must satisfy"),
    ],
)
def test_degrade_refuses_bad_parameters_by_name(bad, match):
    with pytest.raises(ValueError, match=match):
        degrade(fibres(), **bad)


# --------------------------------------------------------------------------- validate_on_image


@pytest.fixture(scope="module")
def validated():
    """Every method on the fibres, with two networks trained (the tests using it are marked slow)."""
    return validate_on_image(fibres(), profile="quick", tile=64, training=TINY, seed=0, held_out="bottom")


@pytest.mark.slow  # trains two networks (through the module fixture)
def test_validate_on_image_gives_one_row_per_method_in_order(validated):
    assert [r["method"] for r in validated["rows"]] == list(METHODS)
    assert list(validated["images"]) == list(METHODS)
    kinds = {r["method"]: r["kind"] for r in validated["rows"]}
    assert kinds["input"] == "data" and kinds["gaussian"] == "classical"
    assert kinds["n2n_l1"] == "n2n" and kinds["l2l_l1"] == "l2l"


@pytest.mark.slow  # trains two networks (through the module fixture)
def test_validate_on_image_rows_hold_finite_scores_and_status_ok(validated):
    for r in validated["rows"]:
        assert r["structure"] == "actin (real)" and r["status"] == "ok"
        for key in ("psnr_gt", "nrmse_gt", "ssim_gt", "ms5_gt", "background", "contrast", "seconds"):
            assert math.isfinite(r[key]), (r["method"], key)
        assert isinstance(r["hallucination"], float)


@pytest.mark.slow  # trains two networks (through the module fixture)
def test_validate_on_image_times_only_the_trained_methods(validated):
    seconds = {r["method"]: r["seconds"] for r in validated["rows"]}
    assert seconds["n2n_l1"] > 0 and seconds["l2l_l1"] > 0
    assert all(seconds[m] == 0 for m in METHODS if m not in ("n2n_l1", "l2l_l1"))


@pytest.mark.slow  # trains two networks (through the module fixture)
def test_validate_on_image_holds_out_the_bottom_rows_whole(validated):
    truth = validated["ground_truth"]
    assert truth.shape == (60, 300)  # 30 % of 200 rows
    assert np.array_equal(truth, validated["pair"]["ground_truth"][140:])
    assert all(im.shape == truth.shape for im in validated["images"].values())
    assert validated["n_train_tiles"] == 8  # 140 x 300 px in 64 px tiles


@pytest.mark.parametrize(
    "side, rows, cols",
    [("top", slice(0, 60), slice(None)), ("left", slice(None), slice(0, 90)), ("right", slice(None), slice(210, None))],
)
def test_validate_on_image_holds_out_the_chosen_side_in_the_field_s_orientation(side, rows, cols):
    out = validate_on_image(fibres(), methods=["input", "gaussian"], profile="quick", tile=64, held_out=side)
    assert out["held_out"] == side
    assert np.array_equal(out["ground_truth"], out["pair"]["ground_truth"][rows, cols])
    assert np.array_equal(out["images"]["input"], out["pair"]["input"][rows, cols])


def test_held_out_side_is_the_strip_with_the_most_cell_area():
    mask = np.zeros((100, 200), bool)
    mask[:40, 20:180] = True  # cells along the top
    assert held_out_side(mask, 0.3) == "top"
    mask[:, 130:] = True  # and a wide band of cells on the right
    assert held_out_side(mask, 0.3) == "right"


def test_validate_on_image_auto_holds_out_the_side_with_most_cells():
    image = fibres()
    image[:, 200:] = image.min()  # no cell on the right third
    out = validate_on_image(image, methods=["input"], profile="quick", tile=64)
    assert out["held_out"] == held_out_side(out["pair"]["cell_mask"], 0.3) != "right"
    assert 0 < out["held_out_cell_fraction"] <= 1


@pytest.mark.slow  # trains two networks (through the module fixture)
def test_validate_on_image_rows_are_read_by_validate_pivot(validated):
    from l2l_helpers.experiments.validate import COLUMNS, pivot

    assert set(validated["rows"][0]) <= set(COLUMNS)
    table = pivot(validated["rows"], "psnr_gt")
    assert list(table) == ["actin (real)"] and set(table["actin (real)"]) == set(METHODS)


def test_validate_on_image_runs_a_subset_of_methods_in_table_order():
    out = validate_on_image(fibres(), methods=["target", "tophat", "input"], profile="quick", tile=64)
    assert [r["method"] for r in out["rows"]] == ["input", "tophat", "target"]
    # the background of the input label is there in the input, much weaker in the target
    rows = {r["method"]: r for r in out["rows"]}
    assert rows["input"]["background"] > rows["target"]["background"]


def test_validate_on_image_untrained_rows_are_deterministic_with_seed():
    a = validate_on_image(fibres(), methods=["input", "gaussian"], profile="quick", tile=64, seed=2)
    b = validate_on_image(fibres(), methods=["input", "gaussian"], profile="quick", tile=64, seed=2)
    assert a["rows"] == b["rows"]


@pytest.mark.slow  # trains a network
def test_validate_on_image_keeps_the_networks_in_model_dir_when_given(tmp_path):
    validate_on_image(fibres(), methods=["l2l_l1"], profile="quick", tile=64, training=TINY, model_dir=tmp_path)
    assert (tmp_path / "l2l_l1").is_dir() and not (tmp_path / "n2n_l1").exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"methods": ["l2l_mse"]}, "unknown method"),
        ({"structure": "nucleus"}, "unknown structure"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"tile": 32}, "smaller than the quick profile's patches"),
        ({"tile": 192}, "smaller than one tile"),
        ({"held_out": "middle"}, "held_out must be"),
        ({"training": {"epoch": 1}}, "unknown training setting"),
    ],
)
def test_validate_on_image_refuses_bad_settings_before_training(kwargs, match):
    with pytest.raises(ValueError, match=match):
        validate_on_image(fibres(), profile="quick", **{"tile": 64, **kwargs})


# --------------------------------------------------------------------------- the real image


@pytest.mark.realdata
@pytest.mark.skipif(
    not REAL_ACTIN.is_file(),
    reason=f"real image {REAL_ACTIN} not found (optional test data outside the repository; see CONTRIBUTING.md)",
)
def test_degrade_real_actin_gives_an_input_with_more_background_than_the_target():
    from l2l_helpers.data.io import read_image

    p = degrade(read_image(REAL_ACTIN), seed=0)
    assert p["ground_truth"].shape == (680, 1100)
    assert 0.1 < p["cell_mask"].mean() < 0.6  # one large cell on a dark field
    inp, tgt = _excess(p["input"], p, photons=30.0), _excess(p["target"], p, photons=120.0)
    assert inp > 3 * tgt > 0


def test_the_methods_are_named_kinded_and_ordered_as_in_the_validation():
    from l2l_helpers.experiments.methods import METHOD_TABLE, kind_and_loss

    assert [m for m in METHOD_TABLE if m in METHODS] == list(METHODS)
    assert [kind_and_loss(m) for m in ("n2n_l1", "l2l_l1", "tophat")] == [
        ("n2n", "l1"),
        ("l2l", "l1"),
        ("classical", ""),
    ]
