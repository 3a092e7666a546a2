"""Normalisation of training and restored images: percentiles or mean and standard deviation.

Every target, and by default every input, is normalised by percentiles
(CSBDeep's ``normalize``: two percentiles map to 0 and 1); inputs may instead
be standardised to zero mean and unit variance (``"mean_std"``, as CAREamics
and bioimage.io's ``zero_mean_unit_variance`` do). Training
(:mod:`l2l_helpers.training.prepare`) and restoring
(:mod:`l2l_helpers.restoring.restorers`) use the same functions, so a network
sees its inputs scaled the same way in both. Also importable from
:mod:`l2l_helpers.training.prepare`.

No TensorFlow is imported here.
"""

from __future__ import annotations

import numpy as np

from l2l_helpers.training.profiles import (
    INPUT_NORMALIZATIONS,  # how inputs can be normalised; the first is the default
    _setting_value,
)

__all__ = ["DEFAULT_PERCENTILES", "INPUT_NORMALIZATIONS", "STD_EPS", "normalize", "standardize", "normalize_input"]

#: Percentiles (low, high) mapped to 0 and 1 by :func:`normalize`; the same
#: values are used again when a trained network restores an image.
DEFAULT_PERCENTILES = (2.0, 99.8)
#: Added to the standard deviation by :func:`standardize` (as bioimage.io's
#: ``zero_mean_unit_variance``).
STD_EPS = 1e-6


def normalize(image, pmin=DEFAULT_PERCENTILES[0], pmax=DEFAULT_PERCENTILES[1]):
    """Normalise an image so that two percentiles map to 0 and 1.

    This is CSBDeep's percentile normalisation
    (``csbdeep.utils.normalize``, no clipping), used for the input and the
    target of every training pair and again before prediction.

    Parameters
    ----------
    image : array_like
        The image (any shape; percentiles over all pixels).
    pmin, pmax : float
        Low and high percentile, ``0 <= pmin < pmax <= 100``.

    Returns
    -------
    ndarray of float32
        ``(image - p_low) / (p_high - p_low)``.

    Raises
    ------
    ValueError
        If the percentiles are not ``0 <= pmin < pmax <= 100``.

    Examples
    --------
    >>> img = np.arange(101, dtype=np.float32)
    >>> out = normalize(img, 0, 100)
    >>> float(out.min()), float(out.max())
    (0.0, 1.0)
    """
    from csbdeep.utils import normalize as _csb_normalize

    if not (0 <= pmin < pmax <= 100):
        raise ValueError(f"percentiles must satisfy 0 <= pmin < pmax <= 100, got pmin={pmin}, pmax={pmax}")
    return _csb_normalize(np.asarray(image, dtype=np.float32), pmin, pmax, clip=False).astype(np.float32, copy=False)


def standardize(image, eps=STD_EPS):
    """Scale an image to zero mean and unit variance.

    ``(image - mean) / (std + eps)`` over all pixels, the per-image
    ``zero_mean_unit_variance`` preprocessing of bioimage.io models.

    Parameters
    ----------
    image : array_like
        The image (any shape).
    eps : float
        Added to the standard deviation.

    Returns
    -------
    ndarray of float32

    Examples
    --------
    >>> out = standardize(np.arange(10.0))
    >>> round(float(out.mean()), 6), round(float(out.std()), 4)
    (0.0, 1.0)
    """
    a = np.asarray(image, dtype=np.float64)
    return ((a - a.mean()) / (a.std() + eps)).astype(np.float32)


def normalize_input(image, method="percentile", percentiles=DEFAULT_PERCENTILES):
    """Normalise a network input the way ``method`` says (training and restoring use this).

    Parameters
    ----------
    image : array_like
        The image.
    method : str
        ``"percentile"``: :func:`normalize` with ``percentiles`` (CSBDeep's
        and the paper's normalisation); ``"mean_std"``: :func:`standardize`.
    percentiles : tuple of float
        ``(pmin, pmax)`` for ``"percentile"``.

    Returns
    -------
    ndarray of float32

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`INPUT_NORMALIZATIONS`.

    Examples
    --------
    >>> img = np.arange(101, dtype=np.float32)
    >>> float(normalize_input(img, "percentile", (0, 100)).max())
    1.0
    >>> round(float(normalize_input(img, "mean_std").std()), 4)
    1.0
    """
    if _check_input_normalization(method) == "mean_std":
        return standardize(image)
    return normalize(image, *percentiles)


def _check_input_normalization(method):
    """``method`` if it is one of :data:`INPUT_NORMALIZATIONS`, else a ValueError naming the choices."""
    return _setting_value("input_normalization", method, INPUT_NORMALIZATIONS[0])  # the profiles' own check
