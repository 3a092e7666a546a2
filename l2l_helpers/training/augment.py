"""Augmentation of training pairs: zoom, rotation and Poisson noise (lesson 03).

:func:`l2l_helpers.training.prepare.make_training_data` draws half of its
patches from copies of each pair zoomed by one of :data:`ZOOM_FACTORS` and
rotated by a multiple of 90 degrees (:func:`augment_pair`; input and target
identically, so they stay aligned), and may add Poisson noise to the
targets (:func:`add_poisson_noise`).

No TensorFlow is imported here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ZOOM_FACTORS", "ZOOM_FACTORS_CAVEOLAE", "POISSON_PEAK", "augment_pair", "add_poisson_noise"]

#: Zoom factors of the paper's augmentation.
ZOOM_FACTORS = (0.5, 0.75, 1.25, 1.5)
#: Gentler zoom factors the paper used for caveolae (small round objects).
ZOOM_FACTORS_CAVEOLAE = (0.8, 0.9, 1.1, 1.2)
#: Photon count given to intensity 1.0 by ``poisson=True``.
POISSON_PEAK = 30.0


def _zoom(image, factor):
    from scipy.ndimage import zoom

    if factor == 1:
        return np.array(image, dtype=np.float32, copy=True)
    if image.ndim == 2:
        return zoom(image, factor, order=1, mode="reflect", grid_mode=True).astype(np.float32)
    return zoom(image, (factor, factor, 1), order=1, mode="reflect", grid_mode=True).astype(np.float32)


def augment_pair(x, y, zoom=1.0, rotation=0):
    """Zoom and rotate an input and its target identically.

    Parameters
    ----------
    x, y : ndarray
        Input and target, same height and width; 2-D ``(y, x)`` or 3-D with
        channels last ``(y, x, c)``.
    zoom : float
        Zoom factor (bilinear interpolation); 1 keeps the size.
    rotation : int
        Number of counter-clockwise quarter turns (0, 1, 2 or 3; other
        integers are taken modulo 4).

    Returns
    -------
    x_aug, y_aug : ndarray of float32
        The augmented pair, with equal height and width.

    Raises
    ------
    ValueError
        If the shapes of ``x`` and ``y`` differ in height and width, or the
        zoom factor is not positive.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> xa, ya = augment_pair(x, 2 * x, zoom=1.5, rotation=1)
    >>> xa.shape, bool(np.allclose(ya, 2 * xa))
    ((6, 6), True)
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if x.shape[:2] != y.shape[:2]:
        raise ValueError(f"input and target differ in shape: {x.shape} and {y.shape}")
    if not zoom > 0:
        raise ValueError(f"zoom factor must be positive, got {zoom}")
    xa, ya = _zoom(x, zoom), _zoom(y, zoom)
    k = int(rotation) % 4
    if k:
        xa = np.rot90(xa, k, axes=(0, 1))
        ya = np.rot90(ya, k, axes=(0, 1))
    return np.ascontiguousarray(xa), np.ascontiguousarray(ya)


def add_poisson_noise(image, peak=POISSON_PEAK, rng=None):
    """Add Poisson (shot) noise to a normalised image.

    Used on nearly binary targets (e.g. STED) to broaden their histogram:
    intensity 1 becomes ``peak`` expected photons, negative values count as 0.

    Parameters
    ----------
    image : ndarray
        Normalised image (about 0 to 1).
    peak : float
        Expected photon count at intensity 1; smaller is noisier.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    ndarray of float32
        The noisy image, on the same scale.

    Examples
    --------
    >>> noisy = add_poisson_noise(np.full((64, 64), 0.5), peak=100, rng=0)
    >>> bool(abs(noisy.mean() - 0.5) < 0.02 and noisy.std() > 0)
    True
    """
    if not peak > 0:
        raise ValueError(f"peak must be positive, got {peak}")
    rng = np.random.default_rng(rng)
    lam = np.clip(np.asarray(image, dtype=np.float64), 0, None) * peak
    return (rng.poisson(lam) / peak).astype(np.float32)
