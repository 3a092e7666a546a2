"""Specification of l2l_helpers.restoring.tiling: prediction in overlapping, blended tiles."""

import numpy as np
import pytest

from l2l_helpers.restoring.tiling import predict_tiled, tile_overlap


def _recording(predict, tiles):
    def wrapped(tile):
        tiles.append(tile.shape)
        return predict(tile)

    return wrapped


def test_a_pixelwise_prediction_is_the_same_in_tiles_as_on_the_whole_image():
    x = np.random.default_rng(0).random((101, 131)).astype(np.float32)
    assert np.allclose(predict_tiled(lambda t: 2 * t - 1, x, (2, 3)), 2 * x - 1, atol=1e-6)


def test_tiles_cover_the_image_and_overlap():
    x = np.zeros((101, 131))
    tiles = []
    predict_tiled(_recording(lambda t: t, tiles), x, (2, 3))
    assert len(tiles) == 6 and sum(h * w for h, w in tiles) > 1.3 * x.size


def test_each_tile_extends_by_the_overlap_within_the_image():
    tiles = []
    predict_tiled(_recording(lambda t: t, tiles), np.zeros((100, 60)), (2, 1), overlap=10)
    assert tiles == [(60, 60), (60, 60)]  # rows 0-60 and 40-100: 50 each plus 10 towards the other tile


def test_default_overlap_is_a_quarter_of_the_tile_from_8_to_64_pixels():
    assert [tile_overlap(n) for n in (10, 32, 40, 200, 256, 1000)] == [8, 8, 10, 50, 64, 64]
    tiles = []
    predict_tiled(_recording(lambda t: t, tiles), np.zeros((400, 30)), (2, 1))
    assert tiles == [(250, 30), (250, 30)]  # 200-pixel tiles, overlap 50


def test_overlaps_are_blended_smoothly_between_tiles():
    # each tile predicts a constant (its index): the blend rises monotonically from one to the other
    x = np.zeros((1, 200))
    count = iter(range(10))
    out = predict_tiled(lambda t: np.full(t.shape, float(next(count))), x, (1, 2))
    row = out[0]
    assert row[0] == 0 and row[-1] == 1
    assert np.all(np.diff(row) >= 0) and 0 < row[100] < 1
    assert np.count_nonzero((row > 0) & (row < 1)) > 40  # a ramp over the overlap, not a step


def test_one_tile_is_the_prediction_itself():
    x = np.random.default_rng(1).random((30, 40)).astype(np.float32)
    assert np.array_equal(predict_tiled(lambda t: t * t, x, (1, 1)), x * x)


def test_images_of_any_dimensions_are_tiled():
    x = np.random.default_rng(2).random((20, 30, 40))
    out = predict_tiled(np.sqrt, x, (2, 1, 3))
    assert out.shape == x.shape and out.dtype == np.float32 and np.allclose(out, np.sqrt(x), atol=1e-6)


def test_bad_tiles_or_predictions_are_refused():
    x = np.zeros((20, 20))
    with pytest.raises(ValueError, match="n_tiles must give at least 1 tile along each of the 2 axes"):
        predict_tiled(np.sqrt, x, (2,))
    with pytest.raises(ValueError, match="n_tiles"):
        predict_tiled(np.sqrt, x, (0, 1))
    with pytest.raises(ValueError, match="overlap must not be negative"):
        predict_tiled(np.sqrt, x, (2, 2), overlap=-1)
    with pytest.raises(ValueError, match=r"predict returned shape \(5,\) for a tile of shape"):
        predict_tiled(lambda t: np.zeros(5), x, (2, 2))
