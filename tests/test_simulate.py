"""Specification of the dual-label cell simulator (l2l_helpers.data.simulate)."""

import json

import numpy as np
import pytest
from scipy import ndimage as ndi

from l2l_helpers.data.simulate import (
    IMAGE_KEYS,
    PAIRED_STRUCTURES,
    STRUCTURES,
    simulate_cell,
    simulate_dataset,
    write_dataset,
)
from l2l_helpers.pairs.contrast import PAPER_CONTRAST, SAMPLE_FRACTION, measure_contrast, normalize_percentile

SIZE = 128  # small images keep the tests fast; calibration uses 256


@pytest.fixture(scope="module")
def calibration_sets():
    """8 cells of 256x256 per paired structure, simulated once for all calibration tests."""
    return {s: simulate_dataset(s, n=8, size=256, seed=2024) for s in PAIRED_STRUCTURES}


def test_structures_are_the_five_of_the_course():
    assert STRUCTURES == ("actin", "tubulin", "caveolae", "pxn", "nucleus_membrane")


@pytest.mark.parametrize("structure", STRUCTURES)
def test_same_seed_gives_same_data(structure):
    a = simulate_cell(structure, size=SIZE, seed=7)
    b = simulate_cell(structure, size=SIZE, seed=7)
    for key in IMAGE_KEYS[structure]:
        np.testing.assert_array_equal(a[key], b[key])
    assert a.get("drift") == b.get("drift")


@pytest.mark.parametrize("structure", STRUCTURES)
def test_different_seeds_give_different_cells(structure):
    a = simulate_cell(structure, size=SIZE, seed=1)
    b = simulate_cell(structure, size=SIZE, seed=2)
    assert not np.array_equal(a["cell_mask"], b["cell_mask"])
    first = IMAGE_KEYS[structure][0]
    assert not np.allclose(a[first], b[first])


def test_cell_k_does_not_depend_on_n():
    short = simulate_dataset("tubulin", n=2, size=SIZE, seed=3)
    long = simulate_dataset("tubulin", n=4, size=SIZE, seed=3)
    assert long["names"][:2] == short["names"]
    for key in IMAGE_KEYS["tubulin"]:
        for a, b in zip(short[key], long[key][:2]):
            np.testing.assert_array_equal(a, b)
    assert long["drift"][:2] == short["drift"]


@pytest.mark.parametrize("structure", PAIRED_STRUCTURES)
def test_paired_cell_has_keys_shapes_and_dtypes(structure):
    cell = simulate_cell(structure, size=SIZE, seed=0)
    assert set(cell) == set(IMAGE_KEYS[structure]) | {"drift"}
    for key in ("input", "input_repeat", "input_average", "benchmark", "ground_truth"):
        assert cell[key].shape == (SIZE, SIZE), key
        assert cell[key].dtype == np.float32, key
        assert np.isfinite(cell[key]).all(), key
    assert cell["cell_mask"].dtype == bool and cell["cell_mask"].shape == (SIZE, SIZE)
    assert 0.3 < cell["cell_mask"].mean() < 1.0
    assert len(cell["drift"]) == 2 and all(isinstance(v, float) for v in cell["drift"])


def test_nucleus_membrane_cell_has_its_own_keys_and_no_drift():
    cell = simulate_cell("nucleus_membrane", size=SIZE, seed=0)
    assert set(cell) == {
        "superposed",
        "nucleus",
        "membrane",
        "ground_truth_nucleus",
        "ground_truth_membrane",
        "cell_mask",
    }
    for key in ("superposed", "nucleus", "membrane", "ground_truth_nucleus", "ground_truth_membrane"):
        assert cell[key].shape == (SIZE, SIZE) and cell[key].dtype == np.float32
    assert cell["cell_mask"].dtype == bool


def test_superposed_is_the_sum_of_nucleus_and_membrane():
    cell = simulate_cell("nucleus_membrane", size=SIZE, seed=4)
    np.testing.assert_allclose(cell["superposed"], cell["nucleus"] + cell["membrane"], rtol=1e-6)


def test_nucleus_and_membrane_ground_truths_hardly_overlap():
    cell = simulate_cell("nucleus_membrane", size=256, seed=5)
    overlap = (cell["ground_truth_nucleus"] > 0.1) & (cell["ground_truth_membrane"] > 0.1)
    assert overlap.sum() < 0.01 * (cell["ground_truth_membrane"] > 0.1).sum()


def test_drift_is_a_few_pixels_and_differs_between_cells():
    data = simulate_dataset("actin", n=6, size=64, seed=0)
    drifts = np.array(data["drift"])
    assert np.abs(drifts).max() <= 4.0
    assert len({tuple(d) for d in drifts.round(3)}) == 6
    assert (np.abs(drifts - np.round(drifts)) > 1e-3).any(), "drift should be sub-pixel"


@pytest.mark.parametrize("structure", ["actin", "tubulin", "pxn"])
def test_recorded_drift_is_what_phase_correlation_recovers(structure):
    # the course's sub-pixel method (l2l_helpers.pairs.drift) must find the drift the simulator recorded
    from l2l_helpers.pairs.drift import estimate_drift

    data = simulate_dataset(structure, n=4, size=256, seed=11)
    errors = [
        np.abs(np.asarray(estimate_drift(inp, rep, method="phase")) - np.asarray(drift)).max()
        for inp, rep, drift in zip(data["input"], data["input_repeat"], data["drift"])
    ]
    assert np.mean(errors) <= 0.1, f"mean error {np.mean(errors):.3f} px, per cell {np.round(errors, 3)}"
    assert np.max(errors) <= 0.25, f"per-cell errors {np.round(errors, 3)} px"


def test_shifting_the_repeat_by_the_drift_lines_it_up_with_the_input():
    cell = simulate_cell("tubulin", size=256, seed=12)
    inner = (slice(16, -16), slice(16, -16))

    def corr(shift):
        moved = ndi.shift(cell["input_repeat"], shift, order=1, mode="nearest")
        a, b = (ndi.gaussian_filter(x, 2.0)[inner].ravel() for x in (moved, cell["input"]))
        return np.corrcoef(a, b)[0, 1]

    drift = np.asarray(cell["drift"])
    assert corr(drift) > corr(-drift) + 0.05
    assert corr(drift) > corr([0.0, 0.0]) + 0.05


def test_input_repeat_has_new_noise_not_a_copy():
    cell = simulate_cell("pxn", size=SIZE, seed=2)
    aligned = ndi.shift(cell["input_repeat"], cell["drift"], order=1)
    assert not np.allclose(aligned[8:-8, 8:-8], cell["input"][8:-8, 8:-8], atol=1.0)


@pytest.mark.parametrize("structure", PAIRED_STRUCTURES)
def test_input_average_is_less_noisy_than_input(structure):
    cell = simulate_cell(structure, size=256, seed=3)
    # noise: high-pass residual in smooth cytosol, away from cell borders and structure
    flat = ndi.binary_erosion(cell["cell_mask"], iterations=6) & ~ndi.binary_dilation(
        cell["ground_truth"] > 0.01, iterations=6
    )
    assert flat.sum() > 500

    def noise(im):
        im = im.astype(np.float64)
        return np.std((im - ndi.gaussian_filter(im, 1.0))[flat])

    # 20 frames: noise s.d. / sqrt(20) ~ 0.22; allow for the remaining structure
    assert noise(cell["input_average"]) < 0.4 * noise(cell["input"])


@pytest.mark.parametrize("structure", PAIRED_STRUCTURES)
def test_ground_truth_is_scaled_to_zero_one(structure):
    gt = simulate_cell(structure, size=SIZE, seed=5)["ground_truth"]
    assert gt.min() >= 0.0 and gt.max() == pytest.approx(1.0)


def test_ground_truth_lies_inside_cells():
    cell = simulate_cell("actin", size=256, seed=6)
    gt = cell["ground_truth"]
    outside = ndi.binary_erosion(~cell["cell_mask"], iterations=3)
    assert gt[outside].max() < 0.05


@pytest.mark.parametrize("structure", STRUCTURES)
def test_images_are_float32_and_nonnegative(structure):
    cell = simulate_cell(structure, size=SIZE, seed=8)
    for key, value in cell.items():
        if key in ("drift", "cell_mask"):
            continue
        assert value.dtype == np.float32 and value.min() >= 0, key


def test_unknown_structure_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="actin"):
        simulate_cell("mitochondria", size=SIZE, seed=0)


def test_dataset_has_names_drift_and_metadata():
    data = simulate_dataset("caveolae", n=3, size=64, seed=9)
    assert data["names"] == ["cell_000.tif", "cell_001.tif", "cell_002.tif"]
    meta = data["metadata"]
    assert (meta["structure"], meta["seed"], meta["size"], meta["n"]) == ("caveolae", 9, 64, 3)
    assert "psf_input" in meta["parameters"]
    assert meta["drift"]["cell_001.tif"] == list(data["drift"][1])
    json.dumps(meta)  # serialisable


def test_metadata_cell_seed_reproduces_the_cell():
    data = simulate_dataset("pxn", n=2, size=64, seed=1)
    seed = data["metadata"]["cells"][1]["seed"]
    np.testing.assert_array_equal(simulate_cell("pxn", size=64, seed=seed)["input"], data["input"][1])


def test_write_dataset_writes_paired_folders_and_metadata(tmp_path):
    from l2l_helpers.data.io import load_pairs

    data = simulate_dataset("actin", n=2, size=64, seed=0)
    out = write_dataset(data, tmp_path / "actin")
    folders = [out / k for k in IMAGE_KEYS["actin"]]
    names, stacks = load_pairs(*folders)
    assert names == data["names"]
    np.testing.assert_array_equal(stacks[0][1], data["input"][1])
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["drift"]["cell_000.tif"] == pytest.approx(list(data["drift"][0]))


def test_write_dataset_refuses_a_non_empty_folder(tmp_path):
    data = simulate_dataset("actin", n=1, size=64, seed=0)
    (tmp_path / "keep.txt").write_text("raw data")
    with pytest.raises(FileExistsError, match="not empty"):
        write_dataset(data, tmp_path)
    write_dataset(data, tmp_path, overwrite=True)
    assert (tmp_path / "keep.txt").read_text() == "raw data"
    assert (tmp_path / "benchmark" / "cell_000.tif").is_file()


# ---------------------------------------------------------------------------
# calibration against the paper's contrast table


def _calibration_cases():
    for s in PAIRED_STRUCTURES:
        for measure in ("michelson", "rms"):
            for label in ("input", "target"):
                marks = ()
                if (s, measure, label) == ("caveolae", "rms", "target"):
                    marks = pytest.mark.xfail(
                        strict=True,
                        reason=(
                            "infeasible under the clipped protocol: with Michelson 0.98 at a 1 % sample, "
                            "the normalised image has mean m <= ~0.02 and values in [0, 1], so its s.d. "
                            "<= sqrt(m (1 - m)) ~ 0.14 < 0.22 - 2 x 0.02"
                        ),
                    )
                yield pytest.param(s, measure, label, marks=marks, id=f"{s}-{measure}-{label}")


@pytest.mark.parametrize("structure, measure, label", list(_calibration_cases()))
def test_simulated_contrast_matches_the_paper(calibration_sets, structure, measure, label):
    data = calibration_sets[structure]
    images = data["input"] if label == "input" else data["benchmark"]
    stats = measure_contrast(images, fraction=SAMPLE_FRACTION[structure])
    mean, sd = PAPER_CONTRAST[structure][measure][label]
    value = stats[f"{measure}_mean"]
    assert mean - 2 * sd <= value <= mean + 2 * sd, (
        f"{structure} {label} {measure}: simulated {value:.3f}, paper {mean} ± {sd}"
    )


@pytest.mark.parametrize("structure", PAIRED_STRUCTURES)
def test_target_label_has_higher_contrast_than_input(calibration_sets, structure):
    data = calibration_sets[structure]
    f = SAMPLE_FRACTION[structure]
    inp, tgt = measure_contrast(data["input"], f), measure_contrast(data["benchmark"], f)
    assert tgt["michelson_mean"] > inp["michelson_mean"]


def test_single_scale_ssim_is_low_but_ms_ssim_several_times_higher(calibration_sets):
    # the paper's observation for its widefield/confocal pairs; caveolae (STED photon
    # counts, >99 % zero pixels) are left out: their unsmoothed 99th percentile is 0
    tf = pytest.importorskip("tensorflow")
    from skimage.metrics import structural_similarity

    for structure in ("actin", "tubulin", "pxn"):
        data = calibration_sets[structure]
        a = np.stack([normalize_percentile(x, sigma=0) for x in data["input"]]).astype(np.float32)
        b = np.stack([normalize_percentile(x, sigma=0) for x in data["benchmark"]]).astype(np.float32)
        ssim = np.mean([structural_similarity(x, y, data_range=1.0) for x, y in zip(a, b)])
        ms = float(tf.reduce_mean(tf.image.ssim_multiscale(a[..., None], b[..., None], max_val=1.0)))
        assert 0.03 <= ssim <= 0.2, f"{structure}: single-scale SSIM {ssim:.3f}"
        assert ms >= 3 * ssim, f"{structure}: MS-SSIM {ms:.3f} is not several times SSIM {ssim:.3f}"


# ---------------------------------------------------------------------------
# appearance of the structures


def _main_cell(structure, seed):
    """Structure map (before blurring) and geometry of the main cell of a simulated scene."""
    from l2l_helpers.data import simulate, structures

    rng = np.random.default_rng(seed)
    p = simulate.PARAMETERS[structure]
    cells = structures.tissue(rng, 256, p["cell_radius"], p["neighbours"], p["packing"])
    return structures.BUILDERS[structure](rng, 256, cells[0], p)[0], cells[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stress_fibres_of_a_cell_run_roughly_parallel(seed):
    structure, geo = _main_cell("actin", seed)
    fibres = structure * ndi.binary_erosion(geo["mask"], iterations=4)
    smooth = ndi.gaussian_filter(fibres, 1.0)
    gy, gx = ndi.sobel(smooth, 0), ndi.sobel(smooth, 1)
    jyy, jxx, jxy = (ndi.gaussian_filter(a, 2.0) for a in (gy * gy, gx * gx, gx * gy))
    on_fibre = fibres > 0.3 * fibres.max()
    # coherence of the local orientations (1: all parallel, ~0: random)
    coherence = np.abs(np.mean(np.exp(1j * np.arctan2(2 * jxy[on_fibre], jxx[on_fibre] - jyy[on_fibre]))))
    assert on_fibre.sum() > 100
    assert coherence > 0.8, f"orientation coherence {coherence:.2f}"


def test_actin_ground_truth_has_a_cortical_rim_along_the_cell_edge():
    cell = simulate_cell("actin", size=256, seed=1)
    gt, mask = cell["ground_truth"], cell["cell_mask"]
    rim = mask & ~ndi.binary_erosion(mask, iterations=2, border_value=1)
    interior = ndi.binary_erosion(mask, iterations=6) & ~ndi.binary_dilation(gt > 0.02, iterations=3)
    assert rim.sum() > 200 and interior.sum() > 1000
    assert gt[rim].mean() > 5 * gt[interior].mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_focal_adhesions_sit_at_the_cell_periphery(seed):
    structure, geo = _main_cell("pxn", seed)
    depth = ndi.distance_transform_edt(geo["mask"])  # distance to the cell's edge
    adhesion = structure > 0.3
    assert adhesion.sum() > 50
    assert depth[adhesion].mean() < 0.75 * depth[geo["mask"]].mean()
    assert depth[adhesion].max() <= 8.0 + 14.0 + 2.0  # edge distance + length + half width
