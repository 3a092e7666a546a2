"""Classical filters as restorers: scikit-image's own implementations, with the label2label paper's parameters.

:class:`GaussianRestorer`, :class:`RollingBallRestorer`,
:class:`TopHatRestorer` and :class:`CLAHERestorer` (lesson 08);
:func:`classical_restorer` makes one with the paper's parameters for a
structure (:data:`CLASSICAL_PRESETS`).
"""

from __future__ import annotations

import inspect

import numpy as np

from l2l_helpers.restoring.restorers.base import Restorer, register_restorer

__all__ = [
    "GaussianRestorer",
    "RollingBallRestorer",
    "TopHatRestorer",
    "CLAHERestorer",
    "CLASSICAL_FILTERS",
    "CLASSICAL_PRESETS",
    "classical_restorer",
]


@register_restorer
class GaussianRestorer(Restorer):
    """Gaussian smoothing (:func:`skimage.filters.gaussian`).

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels.
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.zeros((9, 9)); img[4, 4] = 1
    >>> out = GaussianRestorer(sigma=1.0).restore(img)
    >>> bool(out[4, 4] < 1 and out.sum() > 0.99)
    True
    """

    kind = "gaussian"

    def __init__(self, sigma=1.0, name=None):
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        super().__init__(name=name, sigma=sigma)

    def _restore(self, image):
        from skimage.filters import gaussian

        return gaussian(image, sigma=self.params["sigma"], preserve_range=True)


@register_restorer
class RollingBallRestorer(Restorer):
    """Background subtraction with a rolling ball (:func:`skimage.restoration.rolling_ball`).

    The image minus the background estimated by a ball of ``radius``.

    Parameters
    ----------
    radius : float
        Ball radius in pixels (larger than the structures to keep).
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.full((32, 32), 5.0); img[16, 16] = 10
    >>> out = RollingBallRestorer(radius=5).restore(img)
    >>> float(out[0, 0]), bool(out[16, 16] > 4)
    (0.0, True)
    """

    kind = "rolling_ball"

    def __init__(self, radius=25, name=None):
        if not radius > 0:
            raise ValueError(f"radius must be positive, got {radius}")
        super().__init__(name=name, radius=radius)

    def _restore(self, image):
        from skimage.restoration import rolling_ball

        return image - rolling_ball(image, radius=self.params["radius"])


@register_restorer
class TopHatRestorer(Restorer):
    """White top-hat with a disk (:func:`skimage.morphology.white_tophat`).

    Keeps bright structures narrower than the disk, removes what is wider.

    Parameters
    ----------
    size : int
        Radius of the disk footprint in pixels.
    name : str, optional
        Display name.

    Examples
    --------
    >>> img = np.full((32, 32), 5.0); img[16, 16] = 10
    >>> out = TopHatRestorer(size=3).restore(img)
    >>> float(out[0, 0]), float(out[16, 16])
    (0.0, 5.0)
    """

    kind = "tophat"

    def __init__(self, size=5, name=None):
        if int(size) < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        super().__init__(name=name, size=int(size))

    def _restore(self, image):
        from skimage.morphology import disk, white_tophat

        return white_tophat(image, footprint=disk(self.params["size"]))


@register_restorer
class CLAHERestorer(Restorer):
    """Contrast-limited adaptive histogram equalisation (:func:`skimage.exposure.equalize_adapthist`).

    The image is first scaled to [0, 1] (minimum -> 0, maximum -> 1).

    Parameters
    ----------
    kernel_size : int, optional
        Size of the contextual regions in pixels (default: 1/8 of the
        image's height and width).
    clip_limit : float
        Clipping limit in [0, 1] (higher: more contrast).
    grid : int, optional
        Number of contextual regions along each axis (the "tile grid" of
        ImageJ / OpenCV, the paper's parameter): the regions are
        ``ceil(height / grid)`` by ``ceil(width / grid)`` pixels. Replaces
        ``kernel_size``; give one of the two.
    name : str, optional
        Display name.

    Raises
    ------
    ValueError
        If both ``kernel_size`` and ``grid`` are given, or ``grid`` is below 1.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((64, 64)) * 100
    >>> out = CLAHERestorer(kernel_size=16).restore(img)
    >>> bool(0 <= out.min() and out.max() <= 1)
    True
    >>> CLAHERestorer(grid=7).params
    {'kernel_size': None, 'clip_limit': 0.01, 'grid': 7}
    """

    kind = "clahe"

    def __init__(self, kernel_size=None, clip_limit=0.01, grid=None, name=None):
        params = {"kernel_size": kernel_size, "clip_limit": clip_limit}
        if grid is not None:
            if kernel_size is not None:
                raise ValueError("give either kernel_size (pixels) or grid (regions per axis), not both")
            if int(grid) < 1:
                raise ValueError(f"grid must be at least 1, got {grid}")
            params["grid"] = int(grid)
        super().__init__(name=name, **params)

    def _restore(self, image):
        from skimage.exposure import equalize_adapthist

        lo, hi = float(image.min()), float(image.max())
        scaled = (image - lo) / (hi - lo)
        kernel_size = self.params["kernel_size"]
        grid = self.params.get("grid")
        if grid is not None:
            kernel_size = tuple(int(np.ceil(n / grid)) for n in image.shape)
        return equalize_adapthist(scaled, kernel_size=kernel_size, clip_limit=self.params["clip_limit"])


#: Filter name (as in ``l2l classical``) -> classical restorer class.
CLASSICAL_FILTERS = {
    "gaussian": GaussianRestorer,
    "rolling_ball": RollingBallRestorer,
    "tophat": TopHatRestorer,
    "clahe": CLAHERestorer,
}

#: The parameters of the label2label paper's classical baselines (its Fig. S3 and Table S1), per filter and
#: structure: Gaussian sigma, rolling-ball radius, top-hat disk radius (pixels) and CLAHE tile grid
#: (regions per axis). Keys are the paired structures of :data:`l2l_helpers.data.simulate.PAIRED_STRUCTURES`.
CLASSICAL_PRESETS = {
    "gaussian": {"actin": {"sigma": 2.0}, "tubulin": {"sigma": 2.0}, "caveolae": {"sigma": 3.0}, "pxn": {"sigma": 2.0}},
    "rolling_ball": {
        "actin": {"radius": 20},
        "tubulin": {"radius": 10},
        "caveolae": {"radius": 5},
        "pxn": {"radius": 5},
    },
    "tophat": {"actin": {"size": 11}, "tubulin": {"size": 25}, "caveolae": {"size": 13}, "pxn": {"size": 17}},
    "clahe": {"actin": {"grid": 11}, "tubulin": {"grid": 7}, "caveolae": {"grid": 7}, "pxn": {"grid": 7}},
}


def classical_restorer(kind, structure=None, name=None, **params):
    """A classical filter with the paper's parameters for a structure, any of them overridden.

    Parameters
    ----------
    kind : {"gaussian", "rolling_ball", "tophat", "clahe"}
        The filter (:data:`CLASSICAL_FILTERS`).
    structure : str, optional
        A structure of :data:`CLASSICAL_PRESETS` (``"actin"``,
        ``"tubulin"``, ``"caveolae"``, ``"pxn"``): start from the paper's
        parameters for it. Without it, the class's defaults.
    name : str, optional
        Display name (default: the kind).
    **params
        Parameters of the filter's class; they override the preset
        (``None`` values are ignored, so options left unset keep the preset).

    Returns
    -------
    Restorer

    Raises
    ------
    ValueError
        An unknown filter or structure, or a parameter the filter does not
        take (the message lists the ones it takes).

    Examples
    --------
    >>> classical_restorer("tophat", "tubulin")
    TopHatRestorer(size=25, name='tophat')
    >>> classical_restorer("gaussian", "caveolae", sigma=1.5).params
    {'sigma': 1.5}
    >>> classical_restorer("clahe", "actin").params["grid"]
    11
    """
    if kind not in CLASSICAL_FILTERS:
        raise ValueError(f"unknown classical filter {kind!r}; choose one of {', '.join(CLASSICAL_FILTERS)}")
    cls = CLASSICAL_FILTERS[kind]
    chosen = {}
    if structure is not None:
        presets = CLASSICAL_PRESETS[kind]
        if structure not in presets:
            raise ValueError(f"no {kind} preset for structure {structure!r}; choose one of {', '.join(presets)}")
        chosen.update(presets[structure])
    given = {k: v for k, v in params.items() if v is not None}
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "name")]
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{kind} takes no parameter {', '.join(unknown)} (it takes {', '.join(allowed)})")
    if kind == "clahe" and "kernel_size" in given:  # a region size in pixels replaces the preset's grid
        chosen.pop("grid", None)
    if kind == "clahe" and "grid" in given:
        chosen.pop("kernel_size", None)
    chosen.update(given)
    return cls(name=name, **chosen)
