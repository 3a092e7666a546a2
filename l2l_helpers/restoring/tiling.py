"""Predict a large image in overlapping tiles, blended where they overlap.

A network that normalises over its input (a CycleGAN generator: instance
normalisation) gives slightly different values for a pixel in two
overlapping tiles. :func:`predict_tiled` therefore does not cut the tiles'
overlaps away, as CSBDeep's ``CARE.predict(n_tiles=...)`` does for networks
that see only a neighbourhood of each pixel, but blends them: each tile's
prediction is weighted by a linear ramp that falls towards the tile's
edges (not at the image's own borders), so neighbouring tiles fade into
each other without seams.

No TensorFlow is imported here.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["tile_overlap", "predict_tiled"]


def tile_overlap(tile):
    """The overlap :func:`predict_tiled` uses by default: a quarter of the tile, from 8 to 64 pixels.

    Parameters
    ----------
    tile : int
        Length of a tile along an axis, before the overlap is added.

    Returns
    -------
    int

    Examples
    --------
    >>> [tile_overlap(n) for n in (20, 100, 1000)]
    [8, 25, 64]
    """
    return min(64, max(8, int(tile) // 4))


def _ramp(start, stop, size, overlap):
    """Weights along one axis of a tile ``[start, stop)`` of an axis of ``size`` pixels.

    Distance to the tile's edges plus 1, except at the image's own borders,
    at most ``overlap + 1``.
    """
    n = stop - start
    rising = np.arange(n) + 1 if start > 0 else np.inf
    falling = (n - np.arange(n)) if stop < size else np.inf
    return np.minimum(np.broadcast_to(np.minimum(rising, falling), (n,)), overlap + 1)


def _bounds(size, n_tiles, overlap):
    """``(start, stop)`` of each of ``n_tiles`` tiles along an axis, and the overlap used."""
    edges = np.linspace(0, size, n_tiles + 1).round().astype(int)
    overlap = tile_overlap(edges[1] - edges[0]) if overlap is None else int(overlap)
    return [(max(0, edges[i] - overlap), min(size, edges[i + 1] + overlap)) for i in range(n_tiles)], overlap


def predict_tiled(predict, image, n_tiles, overlap=None):
    """Apply ``predict`` to overlapping tiles of ``image`` and blend the results.

    Each axis is cut into ``n_tiles`` equal parts (rounded to whole
    pixels); every tile is extended by ``overlap`` pixels on each side
    (within the image) and predicted on its own. The predictions are
    averaged with weights that rise linearly from the tile's edges over
    ``overlap + 1`` pixels (constant at the image's own borders).

    Parameters
    ----------
    predict : callable
        Called with one tile (an array of ``image``'s dimensions) and
        returning an array of the tile's shape.
    image : array_like
        The image, of any number of dimensions.
    n_tiles : sequence of int
        Tiles along each axis of ``image``.
    overlap : int or sequence of int, optional
        Pixels added on each side of a tile, per axis (default:
        :func:`tile_overlap` of the tile's length along that axis).

    Returns
    -------
    ndarray of float32
        The blended prediction, of ``image``'s shape.

    Raises
    ------
    ValueError
        ``n_tiles`` or ``overlap`` not one value per axis or below 1 (0 for
        ``overlap``), or a prediction of another shape than its tile.

    Examples
    --------
    A pixel-wise ``predict`` gives the same result in tiles as on the whole
    image:

    >>> image = np.random.default_rng(0).random((50, 70))
    >>> out = predict_tiled(np.sqrt, image, (2, 3))
    >>> out.shape, bool(np.allclose(out, np.sqrt(image)))
    ((50, 70), True)
    """
    image = np.asarray(image)
    n_tiles = tuple(int(n) for n in n_tiles)
    overlaps = (None,) * image.ndim if overlap is None else tuple(np.broadcast_to(overlap, (image.ndim,)))
    if len(n_tiles) != image.ndim or min(n_tiles) < 1:
        raise ValueError(f"n_tiles must give at least 1 tile along each of the {image.ndim} axes, got {n_tiles}")
    if overlap is not None and min(overlaps) < 0:
        raise ValueError(f"overlap must not be negative, got {overlap}")
    axes = [_bounds(size, n, o) for size, n, o in zip(image.shape, n_tiles, overlaps)]
    out = np.zeros(image.shape, np.float64)
    weight = np.zeros(image.shape, np.float64)
    for index in np.ndindex(*n_tiles):
        bounds = [axes[a][0][i] for a, i in enumerate(index)]
        tile = tuple(slice(start, stop) for start, stop in bounds)
        pred = np.asarray(predict(image[tile]))
        if pred.shape != image[tile].shape:
            raise ValueError(f"predict returned shape {pred.shape} for a tile of shape {image[tile].shape}")
        ramps = [
            _ramp(start, stop, size, axes[a][1]) for a, ((start, stop), size) in enumerate(zip(bounds, image.shape))
        ]
        wt = functools.reduce(np.multiply.outer, ramps)
        out[tile] += wt * pred
        weight[tile] += wt
    return (out / weight).astype(np.float32)
