"""Specification of l2l_helpers.scoring.separation (lesson 06: two superposed labels, two channels)."""

from pathlib import Path

import numpy as np
import pytest

from l2l_helpers.data.simulate import simulate_dataset
from l2l_helpers.scoring import separation as sep

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture(scope="module")
def cells():
    return simulate_dataset("nucleus_membrane", n=2, size=96, seed=0)


def _acquired(d):
    return [np.stack([n, m], axis=-1) for n, m in zip(d["nucleus"], d["membrane"])]


def _truths(d):
    return {"nucleus": d["ground_truth_nucleus"], "membrane": d["ground_truth_membrane"]}


# --------------------------------------------------------------------------- superpose


def test_superpose_is_the_sum_of_the_labels_each_scaled_to_its_percentiles():
    a = np.zeros((20, 20))
    a[:10] = 4.0
    b = np.zeros((20, 20))
    b[:, :5] = 1000.0
    s = sep.superpose([a, b], photons=1e6, read_noise=0, offset=0, percentiles=(0, 100), seed=0)
    assert s[2, 2] == pytest.approx(2e6, rel=0.01) and s[15, 15] == 0 and s[2, 15] == pytest.approx(1e6, rel=0.01)


def test_superpose_same_seed_same_noise_other_seed_other_noise():
    a, b = np.random.default_rng(1).random((2, 16, 16))
    assert np.array_equal(sep.superpose([a, b], seed=3), sep.superpose([a, b], seed=3))
    assert not np.array_equal(sep.superpose([a, b], seed=3), sep.superpose([a, b], seed=4))


def test_superpose_refuses_labels_of_different_shapes():
    with pytest.raises(ValueError, match="differ in shape"):
        sep.superpose([np.random.rand(8, 8), np.random.rand(8, 9)])


def test_superpose_needs_two_labels():
    with pytest.raises(ValueError, match="at least two"):
        sep.superpose([np.random.rand(8, 8)])


# --------------------------------------------------------------------------- channels and scores


def test_channel_images_splits_the_last_axis_in_channel_order():
    out = sep.channel_images([np.dstack([np.zeros((4, 4)), np.ones((4, 4))])])
    assert out["nucleus"][0].max() == 0 and out["membrane"][0].min() == 1


def test_channel_images_refuses_a_wrong_number_of_channels():
    with pytest.raises(ValueError, match=r"image 0: shape \(4, 4, 3\)"):
        sep.channel_images([np.zeros((4, 4, 3))])


def test_score_channels_gives_one_table_per_channel_with_the_papers_metrics(cells):
    scores = sep.score_channels({"superposed": cells["superposed"], "acquired": _acquired(cells)}, _truths(cells))
    assert list(scores) == ["nucleus", "membrane"]
    assert list(scores["membrane"]["acquired"]["mean"]) == ["psnr", "nrmse", "ssim", "ms3", "ms5"]


def test_separate_acquisitions_beat_the_superposed_input_against_the_ground_truth(cells):
    scores = sep.score_channels({"superposed": cells["superposed"], "acquired": _acquired(cells)}, _truths(cells))
    for channel in sep.CHANNELS:
        assert scores[channel]["acquired"]["mean"]["nrmse"] < scores[channel]["superposed"]["mean"]["nrmse"]


def test_score_channels_names_a_channel_without_references(cells):
    with pytest.raises(ValueError, match="membrane"):
        sep.score_channels({"superposed": cells["superposed"]}, {"nucleus": cells["nucleus"]})


def test_channel_table_has_one_block_per_channel_named_first(cells):
    scores = sep.score_channels({"superposed": cells["superposed"]}, _truths(cells))
    text = sep.format_channel_table(scores, header="loss")
    blocks = text.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == ["nucleus", "membrane"]
    assert blocks[1].splitlines()[1].split()[:3] == ["loss", "PSNR", "NRMSE"]


# --------------------------------------------------------------------------- regions


def test_nuclear_area_lies_inside_the_nucleus_and_away_from_the_membrane(cells):
    area = sep.nuclear_area(cells["ground_truth_nucleus"][0])
    assert area.sum() > 50
    assert cells["ground_truth_membrane"][0][area].max() < 0.05


def test_background_area_lies_outside_every_cell(cells):
    empty = sep.background_area(
        [cells["ground_truth_nucleus"][0], cells["ground_truth_membrane"][0]], cells["cell_mask"][0]
    )
    assert empty.any() and not (empty & cells["cell_mask"][0]).any()


def test_nuclear_window_contains_the_nucleus_centre_and_stays_in_the_image(cells):
    truth = cells["ground_truth_nucleus"][0]
    rows, cols = sep.nuclear_window(truth, size=48)
    assert rows.stop - rows.start == 48 and 0 <= rows.start and rows.stop <= truth.shape[0]
    y, x = np.unravel_index(np.argmax(np.where(sep.nuclear_area(truth), truth, 0)), truth.shape)
    assert rows.start <= y < rows.stop and cols.start <= x < cols.stop


# --------------------------------------------------------------------------- leakage and recovery


def test_leakage_of_the_superposed_input_is_one():
    a, b = np.random.default_rng(0).random((2, 32, 32))
    assert sep.leakage(a + b, a, b, a + b) == pytest.approx(1.0)


def test_leakage_does_not_depend_on_the_channels_scale_and_offset():
    a, b = np.random.default_rng(0).random((2, 32, 32))
    assert sep.leakage(5 * (a + 0.2 * b) + 3, a, b, a + b) == pytest.approx(0.2)


def test_separate_acquisitions_leak_almost_nothing(cells):
    scores = sep.separation_scores(
        {"acquired": _acquired(cells)},
        cells["superposed"],
        {"nucleus": cells["nucleus"], "membrane": cells["membrane"]},
        _truths(cells),
        cells["cell_mask"],
    )["acquired"]["mean"]
    assert abs(scores["leakage_nucleus"]) < 0.05 and abs(scores["leakage_membrane"]) < 0.05


def test_leakage_is_undefined_when_the_input_holds_none_of_the_other_label():
    a, b = np.random.default_rng(0).random((2, 16, 16))
    with pytest.raises(ValueError, match="no measurable share"):
        sep.leakage(a, a, b, a)


def test_signal_recovered_is_one_for_the_reference_and_zero_for_a_flat_region(cells):
    membrane = cells["membrane"][0]
    area = sep.nuclear_area(cells["ground_truth_nucleus"][0])
    empty = sep.background_area(
        [cells["ground_truth_nucleus"][0], cells["ground_truth_membrane"][0]], cells["cell_mask"][0]
    )
    assert sep.signal_recovered(membrane, membrane, area, empty) == pytest.approx(1.0)
    flattened = membrane.copy()
    flattened[area] = membrane[empty].mean()
    assert abs(sep.signal_recovered(flattened, membrane, area, empty)) < 0.1


def test_superposed_input_shows_far_more_than_the_membrane_over_the_nucleus(cells):
    scores = sep.separation_scores(
        {"superposed": cells["superposed"]},
        cells["superposed"],
        {"nucleus": cells["nucleus"], "membrane": cells["membrane"]},
        _truths(cells),
        cells["cell_mask"],
    )
    assert scores["superposed"]["mean"]["membrane_over_nucleus"] > 2


def test_noise_correlation_sees_copied_noise_but_not_the_coarse_structure():
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 100, 64)[None, :] * np.ones((64, 1))
    noise, other = rng.normal(size=(2, 64, 64))
    region = np.zeros((64, 64), bool)
    region[8:-8, 8:-8] = True  # away from the image border, where smoothing bends the ramp
    assert sep.noise_correlation(ramp + noise, 3 * ramp + noise, region) > 0.95
    assert abs(sep.noise_correlation(ramp + other, ramp + noise, region)) < 0.1


# --------------------------------------------------------------------------- real cells


def test_tile_image_drops_the_remainder():
    tiles = sep.tile_image(np.arange(70 * 50).reshape(70, 50), 32)
    assert len(tiles) == 2 and tiles[1][0, 0] == 32 * 50  # the second tile starts on row 32


def test_split_real_cell_holds_out_the_right_part_whole():
    a, b = np.random.default_rng(0).random((2, 64, 160))
    cell = sep.split_real_cell([a, b], tile=32, test_fraction=0.25)
    assert np.array_equal(cell["test"]["labels"][1][0], b[:, 120:].astype(np.float32))
    assert len(cell["train"]["superposed"]) == 2 * 3 == len(cell["train"]["names"])


def test_split_real_cell_can_hold_out_the_bottom_rows():
    a, b = np.random.default_rng(0).random((2, 100, 64))
    cell = sep.split_real_cell([a, b], tile=32, test_fraction=0.3, axis=0)
    assert np.array_equal(cell["test"]["labels"][0][0], a[70:].astype(np.float32))
    assert len(cell["train"]["names"]) == 2 * 2


def test_fetch_bpae_refuses_an_unknown_label():
    with pytest.raises(ValueError, match="unknown BPAE label"):
        sep.fetch_bpae(("nuclei", "golgi"))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*no foreground for the patch filter")
def test_quick_separation_of_real_nuclei_and_actin_beats_the_superposed_input(tmp_path):
    if not (REALDATA / "BPAE_nuclei.tif").is_file():
        pytest.skip(f"real images not found: {REALDATA} (../shared/realdata beside the checkout) is absent")
    import tifffile

    from l2l_helpers.restoring.restore import restore_images
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.train import profile_settings, train_model

    labels = [tifffile.imread(REALDATA / f"BPAE_{name}.tif") for name in ("nuclei", "actin")]
    cell = sep.split_real_cell(labels, tile=128, test_fraction=0.3, axis=0)  # the bottom rows hold a nucleus
    settings = profile_settings("quick")
    data = make_training_data(
        cell["train"]["superposed"],
        cell["train"]["labels"],
        patch_size=settings["patch_size"],
        n_patches_per_image=8,
        names=cell["train"]["names"],
        seed=0,
    )
    result = train_model(
        *data,
        tmp_path / "bpae",
        loss="l1",
        profile="quick",
        seed=0,
        verbose=0,
        split=data.split,
        target_names=["nuclei", "actin"],
    )
    restored = restore_images(result.model, cell["test"]["superposed"], progress=False)
    scores = sep.score_channels(
        {"superposed": cell["test"]["superposed"], "L1": restored},
        {"nuclei": cell["test"]["labels"][0], "actin": cell["test"]["labels"][1]},
        channels=("nuclei", "actin"),
    )
    for channel in ("nuclei", "actin"):
        assert scores[channel]["L1"]["mean"]["nrmse"] < scores[channel]["superposed"]["mean"]["nrmse"], channel
