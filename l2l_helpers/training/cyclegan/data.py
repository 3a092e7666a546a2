"""The CycleGAN's data: images in the generators' range, random crops and the image pool.

Images are normalised by percentiles (as for CARE,
:func:`l2l_helpers.training.prepare.normalize`), mapped to [-1, 1] and cropped
at random positions (with random horizontal flips); the discriminators see
generated images through a pool of the last 50 (:class:`ImagePool`).

No TensorFlow is imported here.
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.data.io import check_image
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES

__all__ = ["ImagePool", "to_model_range", "from_model_range"]


class ImagePool:
    """A buffer of generated images for the discriminators' updates (the reference's ``ImagePool``).

    Until the pool holds ``pool_size`` images, every image is stored and
    returned as it is. Then, for each image, with probability 0.5 a stored
    image (chosen at random) is returned and the new one takes its place,
    otherwise the new image is returned.

    Parameters
    ----------
    pool_size : int
        Images kept (reference: 50); 0 returns every image as it is.
    seed : int or numpy.random.Generator, optional
        Randomness of the choices.

    Attributes
    ----------
    images : list of ndarray
        The stored images.

    Examples
    --------
    >>> pool = ImagePool(2, seed=0)
    >>> pool.query(np.zeros((2, 4, 4, 1))).shape, len(pool.images)
    ((2, 4, 4, 1), 2)
    """

    def __init__(self, pool_size=50, seed=None):
        if int(pool_size) < 0:
            raise ValueError(f"pool_size must not be negative, got {pool_size}")
        self.pool_size = int(pool_size)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.images = []

    def query(self, images):
        """Return images for the discriminator, storing the new ones.

        Parameters
        ----------
        images : array_like
            A batch of generated images ``(n, ...)``.

        Returns
        -------
        ndarray of float32
            A batch of the same shape: new and stored images.

        Examples
        --------
        >>> pool = ImagePool(1, seed=0)
        >>> float(pool.query(np.ones((1, 2)))[0, 0])
        1.0
        """
        images = np.asarray(images, dtype=np.float32)
        if self.pool_size == 0:
            return images.copy()
        out = []
        for image in images:
            if len(self.images) < self.pool_size:
                self.images.append(image.copy())
                out.append(image)
            elif self.rng.uniform(0.0, 1.0) > 0.5:
                k = int(self.rng.integers(0, self.pool_size))
                out.append(self.images[k])
                self.images[k] = image.copy()
            else:
                out.append(image)
        return np.stack(out).astype(np.float32, copy=False)

    def get_state(self):
        """The stored images and the random generator's state (for checkpoints).

        Returns
        -------
        images : ndarray of float32
            The stored images, stacked (``(0,)`` when empty).
        rng_state : dict
            ``rng.bit_generator.state`` (JSON-serialisable).

        Examples
        --------
        >>> images, state = ImagePool(3, seed=0).get_state()
        >>> images.shape, state["bit_generator"]
        ((0,), 'PCG64')
        """
        images = np.stack(self.images).astype(np.float32) if self.images else np.zeros((0,), np.float32)
        return images, self.rng.bit_generator.state

    def set_state(self, images, rng_state):
        """Restore a state from :meth:`get_state`.

        Parameters
        ----------
        images : ndarray
            The stored images.
        rng_state : dict
            The random generator's state.

        Examples
        --------
        >>> a = ImagePool(2, seed=1); _ = a.query(np.ones((3, 2)))
        >>> b = ImagePool(2); b.set_state(*a.get_state())
        >>> len(b.images), b.rng.random() == a.rng.random()
        (2, True)
        """
        self.images = [np.array(img, dtype=np.float32) for img in np.asarray(images)] if np.size(images) else []
        self.rng.bit_generator.state = rng_state


def to_model_range(image, percentiles=DEFAULT_PERCENTILES, prefilter_sigma=None):
    """Prepare an image for a generator: optional Gaussian filter, percentile normalisation, [-1, 1].

    Parameters
    ----------
    image : array_like
        A 2-D image.
    percentiles : tuple of float
        Percentiles mapped to -1 and 1 (:func:`l2l_helpers.training.prepare.normalize`
        maps them to 0 and 1); values outside are clipped.
    prefilter_sigma : float, optional
        Standard deviation (pixels) of a Gaussian filter applied first.

    Returns
    -------
    ndarray of float32
        The image in [-1, 1].

    Examples
    --------
    >>> out = to_model_range(np.arange(100.0).reshape(10, 10), percentiles=(0, 100))
    >>> float(out.min()), float(out.max())
    (-1.0, 1.0)
    """
    from l2l_helpers.training.prepare import normalize

    img = np.asarray(image, dtype=np.float32)
    if prefilter_sigma:
        from scipy.ndimage import gaussian_filter

        img = gaussian_filter(img, float(prefilter_sigma)).astype(np.float32)
    return np.clip(normalize(img, *percentiles) * 2.0 - 1.0, -1.0, 1.0).astype(np.float32)


def from_model_range(image):
    """Map a generator's output from [-1, 1] back to [0, 1] (float32).

    Parameters
    ----------
    image : array_like
        Values in [-1, 1].

    Returns
    -------
    ndarray of float32

    Examples
    --------
    >>> from_model_range(np.array([-1.0, 0.0, 1.0]))
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return ((np.asarray(image, dtype=np.float32) + 1.0) / 2.0).astype(np.float32)


class _CropSampler:
    """Random crops (with random horizontal flips) of a list of images, drawn with a NumPy generator."""

    def __init__(self, images, crop, rng):
        self.crop = int(crop)
        self.rng = rng
        self.images = []
        for img in images:
            h, w = img.shape
            if h < crop or w < crop:  # small images are reflected up to the crop size
                img = np.pad(img, ((0, max(0, crop - h)), (0, max(0, crop - w))), mode="symmetric")
            self.images.append(img)

    def sample(self, n):
        out = np.empty((n, self.crop, self.crop, 1), np.float32)
        for b in range(n):
            img = self.images[int(self.rng.integers(len(self.images)))]
            y = int(self.rng.integers(img.shape[0] - self.crop + 1))
            x = int(self.rng.integers(img.shape[1] - self.crop + 1))
            patch = img[y : y + self.crop, x : x + self.crop]
            if self.rng.random() < 0.5:
                patch = patch[:, ::-1]
            out[b, ..., 0] = patch
        return out

    def n_tiles(self):
        return sum(max(1, (h // self.crop) * (w // self.crop)) for h, w in (img.shape for img in self.images))


def _check_images(images, what):
    if isinstance(images, np.ndarray) and images.ndim == 2:
        raise ValueError(f"{what}: expected a list of 2-D images, got one 2-D array (wrap it in a list)")
    images = list(images)
    if not images:
        raise ValueError(f"{what}: no images")
    return [check_image(img, name=f"{what}[{i}]", ndim=2) for i, img in enumerate(images)]
