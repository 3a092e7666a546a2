"""Specification of the one scoring function (metrics.score_restorations) and of the scores only
a ground truth allows: background left (background.cytosolic_background) and hallucination."""

import json

import numpy as np
import pytest
import tifffile
from scipy.ndimage import gaussian_filter

from l2l_helpers.cli import main
from l2l_helpers.scoring.background import empty_mask, hallucination, hallucination_map, structure_window
from l2l_helpers.scoring.metrics import METRICS, format_table, save_json, score_restorations


def cell(seed=0, size=96):
    """Ground truth (two fibres and a ring), cell mask, and a noisy input with cytosolic haze."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((size, size))
    gt[30, 15:80] = 1.0
    gt[60, 15:80] = 1.0
    gt[15:80, 45] = 1.0
    gt = gaussian_filter(gt, 1.0)
    mask = np.zeros((size, size), bool)
    mask[8:88, 8:88] = True
    x = 100 + 1000 * gt + 60 * mask + 8 * rng.standard_normal(gt.shape)
    return gt, mask, x.astype(np.float32)


def spot(shape, r, c, height, sigma=1.5):
    s = np.zeros(shape)
    s[r, c] = 1.0
    s = gaussian_filter(s, sigma)
    return height * s / s.max()


# --- hallucination -----------------------------------------------------------------------------


def test_input_has_no_hallucination():
    gt, _, x = cell()
    assert hallucination(x, x, gt) == 0.0


def test_ground_truth_as_restoration_has_no_hallucination():
    gt, _, x = cell()
    assert hallucination(gt, x, gt) == pytest.approx(0.0, abs=1e-3)


def test_a_restoration_that_only_removes_background_has_no_hallucination():
    gt, mask, x = cell()
    assert hallucination(x - 60 * mask, x, gt) == pytest.approx(0.0, abs=1e-3)


def test_a_bright_spot_in_empty_cytosol_raises_hallucination():
    gt, _, x = cell()
    with_spot = gt + spot(gt.shape, 45, 25, gt.max())
    assert hallucination(with_spot, x, gt) > hallucination(gt, x, gt) + 0.005


def test_more_spots_hallucinate_more():
    gt, _, x = cell()
    one = gt + spot(gt.shape, 45, 25, gt.max())
    three = one + spot(gt.shape, 45, 65, gt.max()) + spot(gt.shape, 75, 25, gt.max())
    assert hallucination(three, x, gt) > hallucination(one, x, gt)


def test_a_bright_border_frame_raises_hallucination():
    gt, _, x = cell()
    framed = gt.copy()
    framed[:3] = framed[-3:] = gt.max()
    framed[:, :3] = framed[:, -3:] = gt.max()
    assert hallucination(framed, x, gt) > 0.1


def test_hallucination_ignores_offset_and_scale_of_the_restoration():
    gt, _, x = cell()
    r = gt + spot(gt.shape, 45, 25, gt.max())
    assert hallucination(3 * r + 7, x, gt) == pytest.approx(hallucination(r, x, gt), rel=1e-6)


def test_hallucination_map_is_zero_near_structure_and_positive_at_the_spot():
    gt, _, x = cell()
    m = hallucination_map(gt + spot(gt.shape, 45, 25, gt.max()), x, gt)
    assert m[45, 25] > 0.5
    assert (m[~empty_mask(gt)] == 0).all()


def test_hallucination_needs_images_of_one_shape():
    gt, _, x = cell()
    with pytest.raises(ValueError, match="differ in shape"):
        hallucination(gt[:50], x, gt)


def test_empty_mask_keeps_a_margin_around_structure():
    gt = np.zeros((20, 20))
    gt[10, 10] = 1
    assert not empty_mask(gt, margin=2)[10, 12] and empty_mask(gt, margin=2)[10, 13]


def test_structure_window_finds_the_region_with_most_signal():
    img = np.zeros((100, 100))
    img[70:80, 20:30] = 1.0
    rows, cols = structure_window(img, size=20)
    assert rows.stop - rows.start == cols.stop - cols.start == 20
    assert img[rows, cols].sum() == 100


# --- score_restorations --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored():
    cells = [cell(seed=s) for s in (0, 1)]
    truths = [c[0] for c in cells]
    masks = [c[1] for c in cells]
    inputs = [c[2] for c in cells]
    restorations = {"input": inputs, "truth": truths, "spotty": [g + spot(g.shape, 45, 25, g.max()) for g in truths]}
    return score_restorations(restorations, truths, cell_masks=masks, inputs=inputs, names=["a", "b"])


def test_scores_have_mean_and_images_per_method_in_table_order(scored):
    assert list(scored) == ["input", "truth", "spotty"]
    assert list(scored["input"]["mean"]) == [*METRICS, "background", "hallucination"]
    assert [r["name"] for r in scored["input"]["images"]] == ["a", "b"]


def test_mean_is_the_mean_over_images(scored):
    for k, v in scored["spotty"]["mean"].items():
        assert v == pytest.approx(np.mean([r[k] for r in scored["spotty"]["images"]]))


def test_ground_truth_as_restoration_has_no_background_and_input_has_some(scored):
    assert abs(scored["truth"]["mean"]["background"]) < 1e-3
    assert scored["input"]["mean"]["background"] > 0.02


def test_scores_rank_truth_above_input(scored):
    assert scored["truth"]["mean"]["psnr"] > scored["input"]["mean"]["psnr"]
    assert scored["spotty"]["mean"]["hallucination"] > scored["truth"]["mean"]["hallucination"]


def test_without_masks_and_inputs_only_the_image_metrics_are_scored():
    gt, _, x = cell()
    res = score_restorations({"input": [x]}, [gt])
    assert list(res["input"]["mean"]) == list(METRICS)


def test_a_method_without_one_image_per_reference_is_named():
    gt, _, x = cell()
    with pytest.raises(ValueError, match="^L2L: 2 images for 1 references"):
        score_restorations({"L2L": [x, x]}, [gt])


def test_table_and_json_take_the_scores_as_they_are(scored, tmp_path):
    lines = format_table(scored, header="method").splitlines()
    assert lines[0].split()[-2:] == ["background", "hallucination"]
    assert [line.split()[0] for line in lines[1:]] == ["input", "truth", "spotty"]
    save_json(scored, tmp_path / "s.json")
    assert json.loads((tmp_path / "s.json").read_text())["truth"]["mean"]["ssim"] == scored["truth"]["mean"]["ssim"]


def test_metric_figures_take_the_scores_as_they_are(scored):
    from l2l_helpers.plotting.metrics import plot_metric_bars, plot_metric_table

    assert len(plot_metric_bars(scored).axes) == len(METRICS) + 2
    assert plot_metric_table(scored).axes


def test_hallucination_figure_shows_one_map_per_restoration_with_its_score():
    from l2l_helpers.plotting.metrics import plot_hallucination

    gt, _, x = cell()
    fig = plot_hallucination(gt, x, {"truth": gt, "spotty": gt + spot(gt.shape, 45, 25, gt.max())})
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("excess of spotty\nhallucination 0.") for t in titles)
    assert sum("excess of" in t for t in titles) == 2


def test_evaluate_command_adds_background_and_hallucination_when_asked(tmp_path, capsys):
    gt, mask, x = cell()
    for sub, img in {"pred": gt, "gt": gt, "mask": mask.astype(np.uint8), "input": x}.items():
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "c.tif", img)
    code = main(
        [
            "evaluate",
            str(tmp_path / "pred"),
            str(tmp_path / "gt"),
            "--cell-masks",
            str(tmp_path / "mask"),
            "--input",
            str(tmp_path / "input"),
            "--out",
            str(tmp_path / "e.json"),
            "--no-progress",
        ]
    )
    assert code == 0
    data = json.loads((tmp_path / "e.json").read_text())
    assert set(data) == {"images", "mean"}
    assert set(data["mean"]) == {*METRICS, "background", "hallucination"}
    assert "hallucination" in capsys.readouterr().out


def test_hallucination_parts_put_a_border_frame_on_the_border():
    from l2l_helpers.data.simulate import simulate_cell
    from l2l_helpers.scoring.background import hallucination_parts

    cell = simulate_cell("actin", 128, seed=0)
    framed = cell["ground_truth"].copy()
    framed[:, -2:] = framed.max()
    parts = hallucination_parts(framed, cell["input"], cell["ground_truth"])
    assert parts["border"] > 0.05 and parts["inside"] == 0.0


def test_hallucination_parts_put_a_bright_spot_inside():
    from l2l_helpers.data.simulate import simulate_cell
    from l2l_helpers.scoring.background import empty_mask, hallucination_parts

    cell = simulate_cell("actin", 128, seed=0)
    empty = empty_mask(cell["ground_truth"])
    empty[:10] = empty[-10:] = False
    empty[:, :10] = empty[:, -10:] = False
    r, c = np.argwhere(empty)[len(np.argwhere(empty)) // 2]
    spotted = cell["ground_truth"].copy()
    spotted[r - 1 : r + 2, c - 1 : c + 2] = spotted.max()
    parts = hallucination_parts(spotted, cell["input"], cell["ground_truth"])
    assert parts["inside"] > 0 and parts["border"] == 0.0


def test_hallucination_parts_add_up_to_the_score():
    from l2l_helpers.data.simulate import simulate_cell
    from l2l_helpers.scoring.background import hallucination, hallucination_parts

    cell = simulate_cell("tubulin", 128, seed=2)
    noisy = cell["ground_truth"] + 0.3 * np.random.default_rng(0).random(cell["ground_truth"].shape)
    parts = hallucination_parts(noisy, cell["input"], cell["ground_truth"])
    assert parts["total"] == pytest.approx(parts["border"] + parts["inside"])
    assert parts["total"] == pytest.approx(hallucination(noisy, cell["input"], cell["ground_truth"]))
