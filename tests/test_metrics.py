"""Specifications of l2l_helpers.scoring.metrics and the ``l2l evaluate`` command."""

import json
import math

import numpy as np
import pytest
import tifffile

from l2l_helpers.cli import main
from l2l_helpers.data.io import ImageError
from l2l_helpers.scoring.metrics import (
    METRICS,
    evaluate_folders,
    evaluate_pair,
    format_table,
    normalize_to_target,
    save_json,
    score_restorations,
)


def structure(size=96, seed=0):
    """Smooth random blobs and lines, positive, like a fluorescence image."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    img = gaussian_filter((rng.random((size, size)) > 0.97).astype(float), 2.0)
    img += gaussian_filter(rng.random((size, size)), 6.0)
    return (100 + 1000 * img).astype(np.float32)


def noisy(image, sigma, seed=1):
    rng = np.random.default_rng(seed)
    return (image + sigma * image.std() * rng.standard_normal(image.shape)).astype(np.float32)


def write_folder(folder, images):
    folder.mkdir(parents=True, exist_ok=True)
    for name, img in images.items():
        tifffile.imwrite(folder / name, img)
    return folder


def test_identical_images_score_perfectly():
    t = structure()
    s = evaluate_pair(t, t)
    assert (s["psnr"] == math.inf or s["psnr"] > 80) and s["nrmse"] < 1e-6
    for m in ("ssim", "ms3", "ms5"):
        assert s[m] == pytest.approx(1.0, abs=1e-5)


def test_noisier_prediction_scores_worse_on_every_metric():
    t = structure()
    good, bad = evaluate_pair(noisy(t, 0.1), t), evaluate_pair(noisy(t, 0.5), t)
    assert good["psnr"] > bad["psnr"]
    assert good["nrmse"] < bad["nrmse"]
    for m in ("ssim", "ms3", "ms5"):
        assert good[m] > bad[m]


def test_affine_intensity_change_does_not_change_the_scores():
    t = structure()
    p = noisy(t, 0.2)
    a, b = evaluate_pair(p, t), evaluate_pair(0.01 * p + 5.0, t)
    for m in METRICS:
        assert a[m] == pytest.approx(b[m], rel=1e-4)


def test_normalize_to_target_undoes_an_affine_intensity_change():
    t = structure()
    p, t_n = normalize_to_target(3.0 * t + 70.0, t)
    np.testing.assert_allclose(p, t_n, atol=1e-5)


def test_normalized_target_spans_zero_to_one_between_percentiles():
    t = structure()
    _, t_n = normalize_to_target(t, t, pmin=0.1, pmax=99.9)
    assert np.percentile(t_n, 0.1) == pytest.approx(0.0, abs=1e-5)
    assert np.percentile(t_n, 99.9) == pytest.approx(1.0, abs=1e-5)


def test_normalize_to_target_minimises_the_squared_error():
    t, p = structure(), noisy(structure(seed=0), 0.3)
    p_n, t_n = normalize_to_target(p, t)
    best = np.mean((p_n - t_n) ** 2)
    for da, db in [(1.01, 0), (0.99, 0), (1, 0.01), (1, -0.01)]:
        assert np.mean((da * p_n + db - t_n) ** 2) > best


def test_constant_prediction_is_scored_not_rejected():
    t = structure()
    s = evaluate_pair(np.full_like(t, 3.0), t)
    assert s["nrmse"] > 0.1 and s["ssim"] < 0.5


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="differ in shape"):
        evaluate_pair(structure(96), structure(64))


def test_image_too_small_for_five_scales_raises_naming_minimum_size():
    with pytest.raises(ValueError, match="at least 33 px"):
        evaluate_pair(structure(24), structure(24))


def test_three_dimensional_image_raises():
    with pytest.raises(ImageError, match="2-D"):
        evaluate_pair(np.zeros((3, 40, 40)) + structure(40), structure(40))


def test_score_restorations_lists_every_image_and_the_mean():
    t = [structure(seed=i) for i in range(2)]
    p = [noisy(x, 0.2) for x in t]
    res = score_restorations({"noisy": p}, t, names=["a", "b"])["noisy"]
    assert [r["name"] for r in res["images"]] == ["a", "b"]
    for m in METRICS:
        assert res["mean"][m] == pytest.approx(np.mean([r[m] for r in res["images"]]))


def test_score_restorations_error_names_the_method_and_the_image():
    t = [structure(seed=i) for i in range(2)]
    with pytest.raises(ValueError, match="^cut, b: "):
        score_restorations({"cut": [t[0], t[1][:50]]}, t, names=["a", "b"])


def test_evaluate_folders_writes_json_in_the_documented_layout(tmp_path):
    t = {f"cell_{i}.tif": structure(seed=i) for i in range(2)}
    pred = write_folder(tmp_path / "pred", {k: noisy(v, 0.2) for k, v in t.items()})
    target = write_folder(tmp_path / "target", t)
    res = evaluate_folders(pred, target, json_path=tmp_path / "out" / "eval.json", progress=False)
    data = json.loads((tmp_path / "out" / "eval.json").read_text())
    assert set(data) == {"images", "mean"}
    assert [r["name"] for r in data["images"]] == ["cell_0.tif", "cell_1.tif"]
    assert all(set(r) == {"name", *METRICS} for r in data["images"])
    assert set(data["mean"]) == set(METRICS)
    assert data["mean"]["ssim"] == pytest.approx(res["mean"]["ssim"])


def test_infinite_values_are_written_as_null(tmp_path):
    save_json({"input": {"mean": {"psnr": math.inf}}}, tmp_path / "e.json")
    assert json.loads((tmp_path / "e.json").read_text())["input"]["mean"]["psnr"] is None


def test_existing_json_is_not_overwritten(tmp_path):
    t = {"a.tif": structure()}
    pred, target = write_folder(tmp_path / "p", t), write_folder(tmp_path / "t", t)
    (tmp_path / "e.json").write_text("keep")
    with pytest.raises(FileExistsError):
        evaluate_folders(pred, target, json_path=tmp_path / "e.json", progress=False)
    assert (tmp_path / "e.json").read_text() == "keep"


def test_unpaired_file_is_named_in_the_error(tmp_path):
    pred = write_folder(tmp_path / "pred", {"a.tif": structure(), "extra.tif": structure(seed=1)})
    target = write_folder(tmp_path / "target", {"a.tif": structure()})
    with pytest.raises(ImageError, match="extra.tif"):
        evaluate_folders(pred, target, progress=False)


def test_cli_prints_a_row_per_image_and_the_mean_and_writes_json(tmp_path, capsys):
    t = {f"cell_{i}.tif": structure(seed=i) for i in range(2)}
    pred = write_folder(tmp_path / "pred", {k: noisy(v, 0.2) for k, v in t.items()})
    target = write_folder(tmp_path / "target", t)
    code = main(["evaluate", str(pred), str(target), "--out", str(tmp_path / "e.json"), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "cell_0.tif" in out and "cell_1.tif" in out and "mean" in out and "5S-SSIM" in out
    assert set(json.loads((tmp_path / "e.json").read_text())) == {"images", "mean"}


def test_cli_unpaired_folders_exit_2_naming_the_file(tmp_path, capsys):
    pred = write_folder(tmp_path / "pred", {"a.tif": structure(), "lonely.tif": structure(seed=1)})
    target = write_folder(tmp_path / "target", {"a.tif": structure()})
    assert main(["evaluate", str(pred), str(target), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "l2l evaluate: error" in err and "lonely.tif" in err


def test_cli_three_dimensional_image_exit_2_naming_the_file(tmp_path, capsys):
    stack = np.stack([structure(40), structure(40, seed=1)])
    pred = write_folder(tmp_path / "pred", {"a.tif": stack})
    target = write_folder(tmp_path / "target", {"a.tif": stack})
    assert main(["evaluate", str(pred), str(target), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "a.tif" in err and "2-D" in err


def test_format_table_has_one_row_per_method_in_table_1_order():
    res = {"L1": {m: 0.5 for m in METRICS}, "MS-SSIM": {"mean": {m: 0.7 for m in METRICS}}}
    lines = format_table(res, header="loss").splitlines()
    assert lines[0].split() == ["loss", "PSNR", "NRMSE", "SSIM", "3S-SSIM", "5S-SSIM"]
    assert [line.split()[0] for line in lines[1:]] == ["L1", "MS-SSIM"]


def test_metric_bar_chart_has_one_panel_per_metric():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.metrics import plot_metric_bars

    t = [structure(seed=i) for i in range(2)]
    res = score_restorations({"noisy": [noisy(x, 0.5) for x in t], "clean": t}, t)
    fig = plot_metric_bars(res)
    assert len(fig.axes) == len(METRICS)


def test_metric_bars_start_at_zero_so_differences_are_not_exaggerated():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.metrics import plot_metric_bars

    res = {m: {"mean": {"psnr": p, "ssim": s}} for m, p, s in (("a", 28.0, 0.90), ("b", 29.0, 0.92))}
    fig = plot_metric_bars(res, metrics=("psnr", "ssim"))
    assert all(ax.get_ylim()[0] == 0.0 for ax in fig.axes)


def test_difference_map_colour_bar_label_is_wrapped_to_stay_on_the_figure():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.metrics import plot_difference_maps

    fig = plot_difference_maps({"a": np.random.rand(8, 8)}, label="local RMS difference from the ground truth")
    label = fig.axes[-1].get_ylabel()
    assert "\n" in label and max(len(line) for line in label.splitlines()) <= 24


def test_metric_table_figure_marks_the_best_value_per_column_in_bold():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.metrics import plot_metric_table

    res = {
        "worse": {"psnr": 20, "nrmse": 0.4, "ssim": 0.5, "ms3": 0.6, "ms5": 0.7},
        "better": {"psnr": 25, "nrmse": 0.2, "ssim": 0.8, "ms3": 0.9, "ms5": 0.95},
    }
    table = plot_metric_table(res).axes[0].tables[0]
    bold = {(r, c) for (r, c), cell in table.get_celld().items() if cell.get_text().get_fontweight() == "bold"}
    assert bold == {(2, c) for c in range(len(METRICS))}


def test_line_across_structure_is_perpendicular_to_a_diagonal_fibre():
    from l2l_helpers.plotting.metrics import line_across_structure

    yy, xx = np.mgrid[:64, :64]
    fibre = np.exp(-((yy - xx) ** 2) / 8.0)  # along the diagonal
    (r0, c0), (r1, c1) = line_across_structure(fibre, length=20)
    direction = np.array([r1 - r0, c1 - c0]) / np.hypot(r1 - r0, c1 - c0)
    assert abs(direction @ np.array([1, 1]) / np.sqrt(2)) < 0.05  # perpendicular to the fibre
    assert abs((r0 + r1) / 2 - (c0 + c1) / 2) < 1.5  # centred on it


def test_peak_width_of_a_gaussian_is_its_fwhm():
    from l2l_helpers.scoring.metrics import peak_width

    x = np.arange(61.0)
    for sigma in (1.5, 4.0):
        assert peak_width(5 + np.exp(-((x - 30) ** 2) / (2 * sigma**2))) == pytest.approx(2.3548 * sigma, rel=0.02)


def test_peak_width_is_nan_for_a_flat_profile():
    from l2l_helpers.scoring.metrics import peak_width

    assert math.isnan(peak_width(np.ones(20)))


def test_difference_maps_share_one_colour_scale():
    import matplotlib

    matplotlib.use("Agg")
    from l2l_helpers.plotting.metrics import plot_difference_maps

    fig = plot_difference_maps({"small": np.full((8, 8), 0.1), "large": np.full((8, 8), 2.0)})
    limits = {ax.images[0].get_clim() for ax in fig.axes if ax.images}
    assert len(limits) == 1
