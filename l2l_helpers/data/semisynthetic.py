"""Semi-synthetic label2label pairs: real structure, synthetic background and noise.

The simulator (:mod:`l2l_helpers.data.simulate`) knows its ground truth because it
draws the structure itself: straight stress fibres, Gaussian point-spread
functions, a smooth cytosol. Whether the course's claims hold on the
*structure of real cells* (crossing fibre meshes, cortical actin, filopodia,
a diffuse actin pool) the simulator cannot tell. This module checks them on
a real fluorescence image instead, e.g. the F-actin label of the BPAE cell
(``BPAE_actin.tif``, :data:`l2l_helpers.scoring.separation.BPAE_FILES`):

**What is real.** The image itself, scaled to [0, 1] by two percentiles, is
taken as the **ground truth**: every fibre, its width, its blur, the cell's
outline and the real diffuse actin between the fibres.

**What is synthetic** (:func:`degrade`). Everything the two labels of a
label2label experiment add to the structure:

* the **input label** carries a label-specific cytosolic background (a
  smooth diffuse field with a +-20 % texture, plus small blurred unspecific
  puncta, only inside the cells), is imaged at few photons (Poisson noise),
  with camera read noise and offset; a second noise realisation of the same
  clean input is the noise2noise (N2N) target, and the mean of 20 is the
  ``input_average`` (noise gone, background kept);
* the **target label** shows the same structure with an independent, much
  weaker background of its own and at more photons.

**The same blur on both sides.** No blur is added to either label, so the
only differences between input and target are background and noise. (In the
simulator the input label is also more blurred than the target.) Any
sharpening of the real structure by a network therefore cannot come from
the target being sharper: what L2L gains over N2N here is the removal of
the input label's background.

:func:`validate_on_image` (in :mod:`l2l_helpers.experiments.semisynthetic_check`,
importable from here) then holds out a part of the field whole,
cuts the top part into tiles, trains noise2noise (input -> second
realisation) and label2label (input -> target) CARE networks with the L1
loss, restores the held-out part and scores every method, the classical
filters with the paper's presets among them, against the real ground
truth, with the columns of :mod:`l2l_helpers.experiments.validate` and the
method names, kinds and losses of :mod:`l2l_helpers.experiments.methods` (so that
:func:`l2l_helpers.experiments.validate.pivot` reads the rows). It checks three claims
of the label2label paper on real structure:

1. L2L raises the structural (Michelson) contrast above the input's, and
   even above the target's;
2. N2N removes the noise but keeps the input label's background; L2L
   removes both;
5. L2L beats the classical filters (Gaussian, rolling ball, top-hat, CLAHE).

Limits. The ground truth is a real acquisition: its own noise and its own
diffuse actin are part of the "truth". The ``background`` score
(:func:`l2l_helpers.scoring.background.cytosolic_background`) is measured where
the ground truth is below 2 % of its top, at least 2 px from any
structure; in real actin, which has a diffuse pool everywhere in the cell,
such pixels lie mostly in a thin rim along the cell outline (inside
``cell_mask``), so the score rests on fewer pixels than in the simulator.
To test on as much cell as possible, :func:`validate_on_image` holds out the strip along the side of
the field with the most cell area, a choice made from the cell mask alone.

No TensorFlow is imported unless a network is trained.

Examples
--------
>>> from l2l_helpers.data.simulate import simulate_cell
>>> pair = degrade(simulate_cell("actin", 96, seed=0)["ground_truth"], seed=0)
>>> sorted(pair)
['background', 'cell_mask', 'ground_truth', 'input', 'input_average', 'input_second', 'target']
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi

from l2l_helpers.data.io import check_image
from l2l_helpers.data.simulate import N_AVERAGE

# the check on a real image is an experiment of lesson 09 (l2l_helpers.experiments.semisynthetic_check);
# lesson 09 reaches it from here, beside the degradation it rests on
from l2l_helpers.experiments.semisynthetic_check import HELD_OUT_SIDES, METHODS, held_out_side, validate_on_image

__all__ = ["METHODS", "N_AVERAGE", "HELD_OUT_SIDES", "degrade", "held_out_side", "validate_on_image"]


# The cell mask: the ground truth smoothed (sigma, px) above a level, holes filled, objects smaller than
# _MIN_CELL px dropped, then dilated by _DILATION px.
_MASK_SIGMA = 4.0
_MASK_LEVEL = 0.02
_MIN_CELL = 64
_DILATION = 2
# The background field: the mask softened at its edge (sigma, px), a smooth texture of +-_TEXTURE (sigma
# _TEXTURE_SIGMA px), and puncta (Gaussian spots of sigma _PUNCTA_SIGMA px) whose peaks are gamma-distributed
# with mean _PUNCTA_PEAK times the mean diffuse level.
_EDGE_SIGMA = 2.0
_TEXTURE = 0.2
_TEXTURE_SIGMA = 25.0
_PUNCTA_SIGMA = 1.0
_PUNCTA_PEAK = 3.0


# --------------------------------------------------------------------------- the pair


def _check_number(name, value, positive=False):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    value = float(value)
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return value


def _cell_mask(truth):
    """Where the cells are: smoothed truth above a low level, holes filled, small specks dropped, dilated."""
    mask = ndi.binary_fill_holes(ndi.gaussian_filter(truth, _MASK_SIGMA) > _MASK_LEVEL)
    labels, n = ndi.label(mask)
    if n:
        sizes = ndi.sum(mask, labels, index=np.arange(1, n + 1))
        mask = np.isin(labels, 1 + np.flatnonzero(sizes >= _MIN_CELL))
    return ndi.binary_dilation(mask, iterations=_DILATION) if mask.any() else mask


def _background_field(rng, mask, n_puncta):
    """A label's background inside the cells, with mean 1 there: smooth diffuse field plus blurred puncta."""
    texture = ndi.gaussian_filter(rng.standard_normal(mask.shape), _TEXTURE_SIGMA)
    sd = texture.std()
    texture = texture / sd if sd > 0 else texture
    diffuse = ndi.gaussian_filter(mask.astype(np.float64), _EDGE_SIGMA) * np.clip(1.0 + _TEXTURE * texture, 0, None)
    diffuse /= diffuse[mask].mean()
    ys, xs = np.nonzero(mask)
    n = min(int(n_puncta), ys.size)
    puncta = np.zeros(mask.shape)
    if n:
        pick = rng.choice(ys.size, n, replace=False)
        np.add.at(puncta, (ys[pick], xs[pick]), rng.gamma(2.0, _PUNCTA_PEAK / 2.0, n))
        puncta = ndi.gaussian_filter(puncta, _PUNCTA_SIGMA) * (2 * np.pi * _PUNCTA_SIGMA**2)  # peak = amplitude
    field = (diffuse + puncta) * mask
    return field / field[mask].mean()


def _expose(clean, rng, read_noise, offset, n=1):
    """Mean of ``n`` camera exposures of an expected-photon image (Poisson, read noise, offset)."""
    lam = np.clip(clean, 0.0, None)
    image = rng.poisson(lam * n).astype(np.float64) / n
    if read_noise > 0:
        image += rng.normal(0.0, read_noise / math.sqrt(n), lam.shape)
    return (image + offset).astype(np.float32)


def degrade(
    image,
    *,
    background=0.5,
    puncta=300,
    photons=30.0,
    target_photons=120.0,
    target_background=0.1,
    read_noise=2.0,
    offset=100.0,
    percentiles=(1.0, 99.8),
    seed=0,
):
    """A semi-synthetic label2label pair from a real image taken as the ground truth.

    The image, scaled so that its two ``percentiles`` map to 0 and 1 and
    clipped to [0, 1], is the ground truth. Both labels show it unblurred
    (the same blur on both sides, unlike the simulator, whose input label is
    also more blurred than the target): they differ only in background and
    noise.

    * ``cell_mask``: the ground truth smoothed (Gaussian, 4 px) above 0.02,
      holes filled, specks below 64 px dropped, dilated by 2 px;
    * ``background`` of the input label: a smooth diffuse cytosolic field
      (the mask softened by 2 px at its edge, with a +-20 % texture of
      25 px) plus ``puncta`` small blurred puncta (Gaussian spots of 1 px,
      peaks on average 3 times the diffuse level) at random places in the
      cells, zero outside ``cell_mask``, scaled so that its mean inside the
      mask is ``background`` times the mean ground truth there;
    * ``input``: ``photons`` x (ground truth + background) expected
      photons, Poisson noise, Gaussian read noise and ``offset``;
      ``input_second`` another noise realisation of the same (the N2N
      target); ``input_average`` the mean of 20 realisations;
    * ``target``: the ground truth plus an independent background of the
      same kind with relative level ``target_background``, imaged at
      ``target_photons``.

    Parameters
    ----------
    image : 2-D array_like
        The real image (not modified).
    background : float
        Mean input-label background inside the cells, relative to the mean
        ground truth there (0: none).
    puncta : int
        Number of unspecific puncta of each label's background.
    photons : float
        Expected photons of the input label at ground-truth intensity 1.
    target_photons : float
        The same for the target label.
    target_background : float
        The target label's own background, relative like ``background``.
    read_noise : float
        Standard deviation of the camera's read noise (counts).
    offset : float
        Camera baseline added to every pixel.
    percentiles : tuple of float
        Percentiles of the image mapped to 0 and 1.
    seed : int, optional
        Seed of every random choice (one :class:`numpy.random.SeedSequence`;
        the global generator is not used): the same seed gives the same pair.

    Returns
    -------
    dict
        2-D float32 arrays ``ground_truth``, ``background`` (the input
        label's, in ground-truth units), ``input``, ``input_second``,
        ``target``, ``input_average``, and the boolean ``cell_mask``.

    Raises
    ------
    ValueError
        An image that is not 2-D, is constant (also between its
        percentiles) or holds no cell; a bad parameter (named).

    Examples
    --------
    >>> truth = np.zeros((64, 64)); truth[16:48, 16:48] = 0.1; truth[30:33, 10:54] = 1.0
    >>> pair = degrade(truth, seed=0)
    >>> pair["input"].shape, pair["input"].dtype, pair["cell_mask"].dtype
    ((64, 64), dtype('float32'), dtype('bool'))
    >>> m = pair["cell_mask"]
    >>> bool(abs(pair["background"][m].mean() - 0.5 * pair["ground_truth"][m].mean()) < 1e-3)
    True
    >>> float(pair["background"][~m].max())
    0.0
    """
    img = check_image(image, name="image", ndim=2)  # an ImageError (a ValueError) names the problem
    background = _check_number("background", background)
    target_background = _check_number("target_background", target_background)
    photons = _check_number("photons", photons, positive=True)
    target_photons = _check_number("target_photons", target_photons, positive=True)
    read_noise = _check_number("read_noise", read_noise)
    if (
        isinstance(offset, bool)
        or not isinstance(offset, (int, float, np.integer, np.floating))
        or not math.isfinite(float(offset))
    ):
        raise ValueError(f"offset must be a finite number, got {offset!r}")
    if isinstance(puncta, bool) or not isinstance(puncta, (int, np.integer)) or puncta < 0:
        raise ValueError(f"puncta must be a whole number of at least 0, got {puncta!r}")
    try:
        low_p, high_p = (float(p) for p in percentiles)
    except (TypeError, ValueError):
        raise ValueError(f"percentiles must be two numbers, got {percentiles!r}") from None
    if not 0 <= low_p < high_p <= 100:
        raise ValueError(f"percentiles must satisfy 0 <= low < high <= 100, got {percentiles!r}")

    low, high = np.percentile(img.astype(np.float64), (low_p, high_p))
    if not high > low:
        raise ValueError(f"the image is constant between its percentiles {percentiles} (both {low:g})")
    truth = np.clip((img.astype(np.float64) - low) / (high - low), 0.0, 1.0)
    mask = _cell_mask(truth)
    if not mask.any():
        raise ValueError(
            "no cell found: the smoothed ground truth never rises above "
            f"{_MASK_LEVEL} of its scale; is the image mostly empty?"
        )
    level = float(truth[mask].mean())
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    bg_input = background * level * _background_field(streams[0], mask, puncta)
    bg_target = target_background * level * _background_field(streams[1], mask, puncta)
    clean_input = photons * (truth + bg_input)
    clean_target = target_photons * (truth + bg_target)
    return {
        "ground_truth": truth.astype(np.float32),
        "cell_mask": mask,
        "background": bg_input.astype(np.float32),
        "input": _expose(clean_input, streams[2], read_noise, offset),
        "input_second": _expose(clean_input, streams[3], read_noise, offset),
        "target": _expose(clean_target, streams[4], read_noise, offset),
        "input_average": _expose(clean_input, streams[5], read_noise, offset, n=N_AVERAGE),
    }
