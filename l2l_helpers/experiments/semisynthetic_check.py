"""Claims 1, 2 and 5 on real structure: every method on the held-out part of a degraded real image.

:func:`validate_on_image` takes a real image as the ground truth, degrades it into a semi-synthetic
label2label pair (:func:`l2l_helpers.data.semisynthetic.degrade`, which explains what is real and what is
synthetic), holds out the strip along the side of the field with the most cell area
(:func:`held_out_side`, a choice made from the cell mask alone), trains noise2noise and label2label CARE
networks with the L1 loss on tiles of the rest, and scores every method of :data:`METHODS` on the held-out
part with the columns of :mod:`l2l_helpers.experiments.validate`. Lesson 09; the names are also importable
from :mod:`l2l_helpers.data.semisynthetic`.

Examples
--------
>>> import numpy as np
>>> mask = np.zeros((10, 20), bool)
>>> mask[:, 15:] = True
>>> held_out_side(mask)
'right'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.experiments.methods import check_names, kind_and_loss
from l2l_helpers.experiments.validation_table import SCORES
from l2l_helpers.training.profiles import DEFAULT_PROFILE

__all__ = ["HELD_OUT_SIDES", "METHODS", "held_out_side", "validate_on_image"]

#: The methods of :func:`validate_on_image`, in row order (described in
#: :data:`l2l_helpers.experiments.methods.METHODS`). Here ``input_average`` is the mean of
#: :data:`N_AVERAGE` noise realisations of the input label (background kept); ``n2n_l1`` learns
#: input -> second noise realisation of the input; the ``target`` carries a weak background of its own.
METHODS = ("input", "input_average", "gaussian", "rolling_ball", "tophat", "clahe", "n2n_l1", "l2l_l1", "target")

#: What each kind of network learns to map the input to (a key of :func:`degrade`'s pair).
_TRAINING_TARGET = {"n2n": "input_second", "l2l": "target"}
_TURNED = ("ground_truth", "cell_mask", "input", "input_second", "input_average", "target")  # images of a pair


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
    profile=DEFAULT_PROFILE,
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
    from l2l_helpers.data.semisynthetic import degrade

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
