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

:func:`validate_on_image` then holds out the bottom part of the field whole,
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
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from l2l_helpers.data.io import check_image
from l2l_helpers.data.simulate import N_AVERAGE
from l2l_helpers.experiments.methods import check_names, kind_and_loss
from l2l_helpers.experiments.validation_table import SCORES

__all__ = ["METHODS", "N_AVERAGE", "HELD_OUT_SIDES", "degrade", "held_out_side", "validate_on_image"]

#: The methods of :func:`validate_on_image`, in row order (described in
#: :data:`l2l_helpers.experiments.methods.METHODS`). Here ``input_average`` is the mean of
#: :data:`N_AVERAGE` noise realisations of the input label (background kept); ``n2n_l1`` learns
#: input -> second noise realisation of the input; the ``target`` carries a weak background of its own.
METHODS = ("input", "input_average", "gaussian", "rolling_ball", "tophat", "clahe", "n2n_l1", "l2l_l1", "target")

#: What each kind of network learns to map the input to (a key of :func:`degrade`'s pair).
_TRAINING_TARGET = {"n2n": "input_second", "l2l": "target"}
_TURNED = ("ground_truth", "cell_mask", "input", "input_second", "input_average", "target")  # images of a pair

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


# --------------------------------------------------------------------------- validation


def _check_methods(methods):
    if methods is None:
        return list(METHODS)
    return check_names([methods] if isinstance(methods, str) else methods, list(METHODS), "method")


def _trained(method):
    """Whether a method trains a network here."""
    return kind_and_loss(method)[0] in _TRAINING_TARGET


def _train_and_restore(method, pair, cut, tile, held_input, root, profile, seed, settings, training):
    """Train one CARE network on the tiles above ``cut``; restore the held-out input. (image, seconds)"""
    import warnings

    from l2l_helpers.restoring.restorers import CARERestorer
    from l2l_helpers.scoring.separation import tile_image
    from l2l_helpers.training.prepare import make_training_data
    from l2l_helpers.training.profiles import PATCH_SETTINGS
    from l2l_helpers.training.train import train_model

    kind, loss = kind_and_loss(method)
    target_key = _TRAINING_TARGET[kind]
    inputs = tile_image(pair["input"][:cut], tile)
    targets = tile_image(pair[target_key][:cut], tile)
    names = [f"tile_{k:03d}" for k in range(len(inputs))]
    with warnings.catch_warnings():  # tiles outside the cells: patches drawn from anywhere, as they should
        warnings.filterwarnings("ignore", message=r".*no foreground for the patch filter", category=UserWarning)
        patches = make_training_data(
            inputs, targets, **{key: settings[key] for key in PATCH_SETTINGS}, names=names, seed=seed
        )
    overrides = {k: v for k, v in training.items() if k not in PATCH_SETTINGS}
    result = train_model(
        *patches,
        Path(root) / method,
        loss=loss,
        profile=profile,
        seed=seed,
        overwrite=True,
        verbose=0,
        split=patches,
        input_name="input",
        target_names=[target_key],
        metadata={"semisynthetic": {"method": method, "tile": tile, "training_rows": cut}},
        **overrides,
    )
    restored = CARERestorer(result.model).restore(held_input, name="held-out part")
    return restored, float(result.seconds)


#: Sides of the field that :func:`validate_on_image` can hold out, as (number of 90-degree turns of
#: ``np.rot90``, flip rows) that bring that side to the bottom.
HELD_OUT_SIDES = {"bottom": (0, False), "top": (0, True), "left": (1, False), "right": (-1, False)}


def _to_bottom(image, side):
    turns, flip = HELD_OUT_SIDES[side]
    image = np.rot90(image, turns)
    return np.ascontiguousarray(image[::-1] if flip else image)


def _from_bottom(image, side):
    turns, flip = HELD_OUT_SIDES[side]
    image = image[::-1] if flip else image
    return np.ascontiguousarray(np.rot90(image, -turns))


def held_out_side(cell_mask, test_fraction=0.3):
    """The side of the field whose strip of ``test_fraction`` holds the most cell area.

    The fairest test of a restoration is the part of the field with the most
    cells in it; the choice depends on the cell mask only, never on a result.

    Parameters
    ----------
    cell_mask : 2-D array of bool
    test_fraction : float
        Depth of the strip, as a fraction of the rows (top, bottom) or columns (left, right).

    Returns
    -------
    str
        ``"bottom"``, ``"top"``, ``"left"`` or ``"right"`` (ties: in that order).

    Examples
    --------
    >>> mask = np.zeros((10, 20), bool)
    >>> mask[:, 15:] = True
    >>> held_out_side(mask)
    'right'
    """
    mask = np.asarray(cell_mask, bool)
    area = {}
    for side in HELD_OUT_SIDES:
        turned = _to_bottom(mask, side)
        depth = max(1, int(round(turned.shape[0] * test_fraction)))
        area[side] = int(turned[-depth:].sum())
    return max(HELD_OUT_SIDES, key=lambda side: area[side])


def validate_on_image(
    image,
    *,
    structure="actin",
    profile="workshop",
    test_fraction=0.3,
    held_out="auto",
    tile=128,
    seed=0,
    methods=None,
    model_dir=None,
    progress=False,
    training=None,
    **degrade_kw,
):
    """Claims 1, 2 and 5 on real structure: every method on the held-out part of a degraded real image.

    The image is degraded into a semi-synthetic pair (:func:`degrade`; it
    is the ground truth). A strip of ``test_fraction`` of the field along
    one side (``held_out``; by default the side whose strip holds the most
    cell area, :func:`held_out_side`) is held out whole; the rest is cut
    into ``tile`` x ``tile`` training tiles
    (:func:`l2l_helpers.scoring.separation.tile_image`, a remainder dropped).
    Noise2noise (``n2n_l1``: input tiles -> second noise realisation) and
    label2label (``l2l_l1``: input tiles -> target tiles) CARE networks are
    trained with the L1 loss on patches of the profile's size
    (:func:`l2l_helpers.training.prepare.make_training_data`, then
    :func:`l2l_helpers.training.train.train_model`); the classical filters use the
    paper's presets for ``structure``
    (:func:`l2l_helpers.restoring.restorers.classical_restorer`). Every held-out
    restoration is scored against the held-out ground truth by
    :func:`l2l_helpers.scoring.metrics.score_restorations` (with the cell mask for
    ``background`` and the input for ``hallucination``) and its Michelson
    contrast measured (:func:`l2l_helpers.pairs.contrast.michelson_contrast`,
    sample fraction of the structure), as in :mod:`l2l_helpers.experiments.validate`.

    Parameters
    ----------
    image : 2-D array_like
        The real image, taken as the ground truth.
    structure : str
        What the image shows, for the classical presets and the contrast
        sample: ``"actin"``, ``"tubulin"``, ``"caveolae"`` or ``"pxn"``.
    profile : str
        Training profile (:data:`l2l_helpers.training.profiles.PROFILES`).
    test_fraction : float
        Depth of the held-out strip, as a fraction of the field (between 0 and 1).
    held_out : str
        ``"auto"`` (the side with the most cell area in its strip), or one
        of :data:`HELD_OUT_SIDES`: ``"bottom"``, ``"top"``, ``"left"``, ``"right"``.
    tile : int
        Side of the training tiles (at least the profile's patch size).
    seed : int
        Seed of the pair, the patches and the trainings: the same seed gives
        the same rows (on the CPU).
    methods : sequence of str, optional
        A subset of :data:`METHODS` (rows keep the order of :data:`METHODS`);
        default all.
    model_dir : str or Path, optional
        Where the networks are kept (``model_dir/n2n_l1``,
        ``model_dir/l2l_l1``; a model there is replaced). Default: a
        temporary folder, removed at the end.
    progress : bool
        Show a progress bar over the methods.
    training : dict, optional
        Settings replacing the profile's (:func:`l2l_helpers.training.profiles.profile_settings`),
        e.g. ``{"epochs": 1, "steps_per_epoch": 2}``; ``patch_size`` and
        ``n_patches_per_image`` go to the patches, the rest to ``train_model``.
    **degrade_kw
        Passed to :func:`degrade` (``background``, ``photons``, ...).

    Returns
    -------
    dict
        ``rows``: one dict per method with the column names of
        :data:`l2l_helpers.experiments.validate.COLUMNS` (``structure`` is e.g.
        ``"actin (real)"``, ``method``, ``kind``: ``data``, ``classical``,
        ``n2n`` or ``l2l``, ``loss``, ``psnr_gt``, ``nrmse_gt``,
        ``ssim_gt``, ``ms3_gt``, ``ms5_gt``, ``background``,
        ``hallucination``, ``contrast``, ``seconds``: training time of a
        network, else 0, ``status``: ``"ok"``), so that
        :func:`l2l_helpers.experiments.validate.pivot` reads them; ``images``: method ->
        held-out image; ``ground_truth``: the held-out truth; ``pair``: the
        :func:`degrade` dict of the whole field; ``n_train_tiles``: int;
        ``held_out``: the side held out; ``held_out_cell_fraction``: the
        share of the field's cell area in the held-out strip.

    Raises
    ------
    ValueError
        An unknown structure, method or setting; a ``test_fraction`` outside
        (0, 1); a tile smaller than a patch; a training part smaller than
        one tile; a held-out part without cells; and see :func:`degrade`.

    Examples
    --------
    >>> truth = np.zeros((160, 200))
    >>> for r in range(30, 150, 12):  # horizontal fibres, 12 px apart
    ...     truth[r:r + 2, 25:175] = 1.0
    >>> out = validate_on_image(truth, methods=["input", "gaussian", "target"], tile=48, profile="quick",
    ...                         held_out="bottom")
    >>> [(r["method"], r["kind"]) for r in out["rows"]]
    [('input', 'data'), ('gaussian', 'classical'), ('target', 'data')]
    >>> out["ground_truth"].shape, out["n_train_tiles"]
    ((48, 200), 8)
    >>> from l2l_helpers.data.io import read_image
    >>> out = validate_on_image(read_image("BPAE_actin.tif"), profile="quick")  # doctest: +SKIP
    >>> from l2l_helpers.experiments.validate import pivot
    >>> pivot(out["rows"], "contrast")["actin (real)"]["l2l_l1"]  # doctest: +SKIP
    """
    methods, settings, tile = _check_settings(structure, methods, profile, training, test_fraction, tile, held_out)
    pair = degrade(image, seed=seed, **degrade_kw)
    side = held_out_side(pair["cell_mask"], test_fraction) if held_out == "auto" else held_out
    turned, cut, held = _split_field(pair, side, test_fraction, tile)
    training = dict(training or {})
    run = dict(profile=profile, seed=seed, settings=settings, training=training)
    images, seconds = _restore_held_out(methods, turned, cut, tile, held, structure, run, model_dir, progress)
    width = turned["ground_truth"].shape[1]
    return {
        "rows": _score_rows(methods, images, seconds, held, structure),
        "images": {m: _from_bottom(im, side) for m, im in images.items()},
        "ground_truth": _from_bottom(held["ground_truth"], side),
        "pair": pair,
        "n_train_tiles": int((cut // tile) * (width // tile)),
        "held_out": side,
        "held_out_cell_fraction": round(float(held["cell_mask"].sum() / max(1, pair["cell_mask"].sum())), 3),
    }


def _check_settings(structure, methods, profile, training, test_fraction, tile, held_out):
    """Everything :func:`validate_on_image` is given, checked before any work: ``(methods, settings, tile)``."""
    from l2l_helpers.pairs.contrast import SAMPLE_FRACTION
    from l2l_helpers.training.profiles import profile_settings

    if structure not in SAMPLE_FRACTION:
        raise ValueError(f"unknown structure {structure!r}; choose one of {', '.join(SAMPLE_FRACTION)}")
    methods = _check_methods(methods)
    settings = profile_settings(profile, **dict(training or {}))  # unknown profile or setting
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie between 0 and 1, got {test_fraction!r}")
    if isinstance(tile, bool) or int(tile) != tile or tile < 1:
        raise ValueError(f"tile must be a positive whole number, got {tile!r}")
    tile = int(tile)
    if any(_trained(m) for m in methods) and tile < settings["patch_size"]:
        raise ValueError(
            f"tiles of {tile} px are smaller than the {profile} profile's patches of "
            f"{settings['patch_size']} px; choose tile >= {settings['patch_size']}"
        )
    if held_out != "auto" and held_out not in HELD_OUT_SIDES:
        raise ValueError(f"held_out must be 'auto' or one of {', '.join(HELD_OUT_SIDES)}, got {held_out!r}")
    return methods, settings, tile


def _split_field(pair, side, test_fraction, tile):
    """The pair turned so that the held-out side is at the bottom, the first held-out row, the held-out images."""
    turned = {key: _to_bottom(pair[key], side) for key in _TURNED}  # the held-out side at the bottom
    height, width = turned["ground_truth"].shape
    cut = height - max(1, int(round(height * test_fraction)))
    if cut < tile or width < tile:
        raise ValueError(
            f"the training part ({cut} x {width} px, {1 - test_fraction:.0%} of the field) "
            f"is smaller than one tile of {tile} px; lower tile or test_fraction"
        )
    held = {key: turned[key][cut:] for key in ("ground_truth", "cell_mask", "input", "input_average", "target")}
    if not held["cell_mask"].any():
        raise ValueError(f"the held-out {side} part of the field holds no cell; raise test_fraction")
    return turned, cut, held


def _restore_held_out(methods, turned, cut, tile, held, structure, run, model_dir, progress):
    """Every method's restoration of the held-out input, and its training time (0 without training)."""
    import contextlib
    import tempfile

    from l2l_helpers.course.progress import progress as progress_bar
    from l2l_helpers.restoring.restorers import classical_restorer

    images, seconds = {}, {}
    with contextlib.ExitStack() as stack:
        root = None
        if any(_trained(m) for m in methods):
            root = (
                Path(model_dir)
                if model_dir is not None
                else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="l2l-semisynthetic-")))
            )
        for method in progress_bar(methods, desc="semi-synthetic validation", unit="method", disable=not progress):
            seconds[method] = 0.0
            kind = kind_and_loss(method)[0]
            if kind == "data":
                images[method] = held[method]
            elif _trained(method):
                images[method], seconds[method] = _train_and_restore(
                    method,
                    turned,
                    cut,
                    tile,
                    held["input"],
                    root,
                    run["profile"],
                    run["seed"],
                    run["settings"],
                    run["training"],
                )
            else:
                images[method] = classical_restorer(method, structure).restore(held["input"], name="held-out part")
    return images, seconds


def _score_rows(methods, images, seconds, held, structure):
    """One row per method: scores against the held-out ground truth and the Michelson contrast."""
    from l2l_helpers.pairs.contrast import SAMPLE_FRACTION, michelson_contrast
    from l2l_helpers.scoring.metrics import score_restorations

    scores = score_restorations(
        {m: [images[m]] for m in methods},
        [held["ground_truth"]],
        cell_masks=[held["cell_mask"]],
        inputs=[held["input"]],
        names=["held_out"],
    )
    rows = []
    for method in methods:
        kind, loss = kind_and_loss(method)
        mean = scores[method]["mean"]
        row = {"structure": f"{structure} (real)", "method": method, "kind": kind, "loss": loss}
        row.update({f"{s}_gt": float(mean[s]) for s in SCORES})
        row["background"] = float(mean["background"])
        row["hallucination"] = float(mean["hallucination"])
        row["contrast"] = float(michelson_contrast(images[method], fraction=SAMPLE_FRACTION[structure]))
        row.update(seconds=round(float(seconds[method]), 1), status="ok")
        rows.append(row)
    return rows
