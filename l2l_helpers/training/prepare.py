"""Training data for CARE networks: normalisation, augmentation, patches.

Label2label (L2L) and noise2noise (N2N) train the same CARE U-Net; only the
pairs differ. For N2N a pair is an image and its drift-corrected second noise
realisation; for L2L it is the low-contrast label (input) and the
high-contrast label of the same structure (target). This module turns such
pairs into patches, as in the paper:

1. every image is normalised by percentiles (CSBDeep's ``normalize``); the
   inputs may instead be standardised to zero mean and unit variance
   (``input_normalization="mean_std"``, as CAREamics and bioimage.io's
   ``zero_mean_unit_variance`` do), which measurably speeds up learning on
   inputs whose bright specks squeeze the structure into a small part of the
   percentile range (benchmarks/results.md); targets are always normalised
   by percentiles, so outputs stay in the target's percentile scale;
2. half of the patches come from the raw images, half from augmented
   copies (:mod:`l2l_helpers.training.augment`): zoomed by one of ``zoom_factors`` and rotated by a random
   multiple of 90 degrees (input and target identically, so they stay
   aligned);
3. optionally, Poisson noise broadens the nearly binary histograms of STED
   targets;
4. patches are drawn by CSBDeep's ``create_patches`` with its patch filter on
   the target (patches with structure are preferred); an image whose target
   has no foreground for the filter is sampled without the filter, with one
   warning per call naming every such image;
5. the split into training and validation is **by image**: a seeded choice
   of about 10 % of the images (at least one) gives the validation patches,
   the other images the training patches, so no image has patches on both
   sides (val_loss and the choice of the best weights are not optimistic).

:func:`make_training_data` returns a :class:`TrainingData`, which unpacks as
``X, Y, X_val, Y_val`` and also says which images are on which side
(``train_images``, ``validation_images``) and where every patch came from.
To reproduce a split, e.g. one recorded in a model's ``l2l_training.json``,
pass its validation images again::

    info = read_training_info("models/actin_l2l")
    data = make_training_data(inputs, targets, names=names, seed=info["seed"],
                              validation_images=info["validation_images"])

Several targets give a multi-channel network: the input is repeated on every
channel (``X`` has ``k`` identical channels, ``Y`` the ``k`` targets).

No TensorFlow is imported here.
"""

from __future__ import annotations

import warnings

import numpy as np

from l2l_helpers.data.io import ImageError, check_image
from l2l_helpers.training.augment import (  # also importable from here
    POISSON_PEAK,
    ZOOM_FACTORS,
    ZOOM_FACTORS_CAVEOLAE,
    add_poisson_noise,
    augment_pair,
)
from l2l_helpers.training.normalization import (  # also importable from here
    DEFAULT_PERCENTILES,
    INPUT_NORMALIZATIONS,
    STD_EPS,
    _check_input_normalization,
    normalize,
    normalize_input,
    standardize,
)

__all__ = [
    "DEFAULT_PERCENTILES",
    "INPUT_NORMALIZATIONS",
    "STD_EPS",
    "ZOOM_FACTORS",
    "ZOOM_FACTORS_CAVEOLAE",
    "normalize",
    "standardize",
    "normalize_input",
    "augment_pair",
    "add_poisson_noise",
    "TrainingData",
    "make_training_data",
]


def _as_target_channels(targets, n_images):
    """Return one list of target images per channel."""
    targets = list(targets)
    if not targets:
        raise ValueError("no target images given")
    if isinstance(targets[0], (list, tuple)):
        channels = [list(t) for t in targets]
    else:
        channels = [targets]
    for c, ch in enumerate(channels):
        if len(ch) != n_images:
            raise ValueError(f"target channel {c} has {len(ch)} images but there are {n_images} input images")
    return channels


def _sample_patches(x, y, patch_size, n, patch_filter):
    """Patches of one pair (y, x, c) with CSBDeep, and whether the filter had to be dropped (empty target)."""
    from csbdeep.data import RawData, create_patches

    k = x.shape[-1]
    raw = RawData.from_arrays(x[np.newaxis], y[np.newaxis], axes="YXC")
    kwargs = dict(
        patch_size=(patch_size, patch_size, k),
        n_patches_per_image=n,
        save_file=None,
        normalization=None,
        shuffle=False,
        verbose=False,
    )
    unfiltered = False
    try:
        X, Y, _ = create_patches(raw, patch_filter=patch_filter, **kwargs)
    except ValueError as exc:
        if patch_filter is None or "patch_filter" not in str(exc):
            raise
        X, Y, _ = create_patches(raw, patch_filter=None, **kwargs)
        unfiltered = True
    # CSBDeep returns (n, c, y, x); we use channels last
    return np.moveaxis(X, 1, -1), np.moveaxis(Y, 1, -1), unfiltered


class TrainingData(tuple):
    """Training and validation patches, and the images they came from.

    A tuple ``(X, Y, X_val, Y_val)``, so ``X, Y, X_val, Y_val = data`` and
    ``train_model(*data, model_dir, split=data.split)`` work, with attributes
    that say where each patch came from.

    Attributes
    ----------
    train_images, validation_images : list
        The images of each side: their names when names were given to
        :func:`make_training_data`, else their indices.
    split : dict
        ``{"train_images": ..., "validation_images": ...}`` (JSON-ready; what
        :func:`l2l_helpers.training.train.train_model` records).
    image_index, val_image_index : ndarray of int
        Per patch of ``X`` / ``X_val``: index of its source image in the
        inputs given to :func:`make_training_data`.
    copy_index, val_copy_index : ndarray of int
        Per patch: 0 if it was drawn from the image itself, ``j >= 1`` if
        from its ``j``-th augmented (zoomed and rotated) copy.
    input_normalization : str
        How the inputs were normalised (see :func:`normalize_input`); give
        the whole ``TrainingData`` as ``split`` to ``train_model`` and it is
        recorded with the network.
    n_patches_per_image : int or None
        Patches drawn from every image (and its copies); recorded the same
        way. None when not known.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> imgs = [rng.random((64, 64)) for _ in range(3)]
    >>> data = make_training_data(imgs, imgs, patch_size=32, n_patches_per_image=4, names=["a", "b", "c"])
    >>> X, Y, X_val, Y_val = data
    >>> data.validation_images, sorted(set(data.val_image_index.tolist()))
    (['c'], [2])
    """

    def __new__(
        cls,
        X,
        Y,
        X_val,
        Y_val,
        train_images=(),
        validation_images=(),
        image_index=None,
        copy_index=None,
        val_image_index=None,
        val_copy_index=None,
        input_normalization="percentile",
        n_patches_per_image=None,
    ):
        self = super().__new__(cls, (X, Y, X_val, Y_val))
        self.input_normalization = str(input_normalization)
        self.n_patches_per_image = None if n_patches_per_image is None else int(n_patches_per_image)
        self.train_images = list(train_images)
        self.validation_images = list(validation_images)
        none = np.zeros(0, dtype=int)
        self.image_index = np.asarray(image_index if image_index is not None else none, dtype=int)
        self.copy_index = np.asarray(copy_index if copy_index is not None else none, dtype=int)
        self.val_image_index = np.asarray(val_image_index if val_image_index is not None else none, dtype=int)
        self.val_copy_index = np.asarray(val_copy_index if val_copy_index is not None else none, dtype=int)
        return self

    def __reduce__(self):
        return (
            TrainingData,
            (
                *self,
                self.train_images,
                self.validation_images,
                self.image_index,
                self.copy_index,
                self.val_image_index,
                self.val_copy_index,
                self.input_normalization,
                self.n_patches_per_image,
            ),
        )

    @property
    def split(self):
        """dict: ``train_images`` and ``validation_images`` (see the class docstring)."""
        return {"train_images": list(self.train_images), "validation_images": list(self.validation_images)}


def _choose_validation_images(names, given_names, validation_split, validation_images, seed):
    """Indices of the validation images (sorted)."""
    n = len(names)
    if validation_images is not None:
        if isinstance(validation_images, (str, int, np.integer)):
            validation_images = [validation_images]
        chosen = []
        for v in validation_images:
            if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                if not 0 <= int(v) < n:
                    raise ValueError(f"validation image index {v} is out of range for {n} images")
                chosen.append(int(v))
            elif isinstance(v, str) and names.count(v) == 1:
                chosen.append(names.index(v))
            elif isinstance(v, str) and v in names:
                raise ValueError(f"{v!r} is the name of several images; give the validation images by index")
            else:
                known = ", ".join(names) if given_names else f"indices 0 to {n - 1}"
                raise ValueError(f"unknown validation image {v!r}; the images are {known}")
        chosen = sorted(set(chosen))
        if len(chosen) >= n:
            raise ValueError(f"all {n} images are validation images; leave at least one for training")
        return chosen
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    if validation_split == 0:
        return []
    n_val = max(1, int(round(validation_split * n)))
    if n_val >= n:
        raise ValueError(
            f"{n} image{'s are' if n != 1 else ' is'} too few to hold {n_val} out for validation "
            f"(validation_split={validation_split} is a fraction of images); give more images, "
            "or validation_split=0 for no validation"
        )
    # its own generator: the same seed chooses the same images, and an explicit
    # validation_images= of these images gives the same patches
    order = np.random.default_rng([int(seed), 1]).permutation(n)
    return sorted(int(i) for i in order[:n_val])


def _patch_request(inputs, targets, names, patch_size, n_patches_per_image, validation_split, validation_images):
    """Checked arguments of :func:`make_training_data`: inputs, target channels, names, patch size and count."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("no input images given")
    channels = _as_target_channels(targets, len(inputs))
    names = [str(n) for n in names] if names is not None else [f"image {i}" for i in range(len(inputs))]
    if len(names) != len(inputs):
        raise ValueError(f"{len(names)} names given for {len(inputs)} images")
    patch_size = int(patch_size)
    if patch_size < 4:
        raise ValueError(f"patch_size must be at least 4, got {patch_size}")
    n_patches_per_image = int(n_patches_per_image)
    if n_patches_per_image < 1:
        raise ValueError(f"n_patches_per_image must be at least 1, got {n_patches_per_image}")
    if validation_images is None and not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    return inputs, channels, names, patch_size, n_patches_per_image


def _poisson_peak(poisson):
    """Photon count at intensity 1 of ``poisson`` (None: no noise)."""
    if poisson is True:
        return POISSON_PEAK
    if poisson not in (False, None, 0):
        return float(poisson)
    return None


def _normalized_pair(x, targets, name, patch_size, input_normalization, percentiles):
    """Input (repeated on every target channel) and targets of one image, checked and normalised, ``(y, x, k)``."""
    x = check_image(x, name=f"{name} (input)", ndim=2)
    ts = [check_image(t, name=f"{name} (target {c})", ndim=2) for c, t in enumerate(targets)]
    for c, t in enumerate(ts):
        if t.shape != x.shape:
            raise ImageError(f"{name}: target {c} has shape {t.shape} but the input has shape {x.shape}")
    if min(x.shape) < patch_size:
        raise ImageError(
            f"{name}: image of shape {x.shape} is smaller than a patch "
            f"({patch_size} x {patch_size}); use a smaller patch size"
        )
    xn = np.repeat(normalize_input(x, input_normalization, percentiles)[..., np.newaxis], len(ts), axis=-1)
    yn = np.stack([normalize(t, *percentiles) for t in ts], axis=-1)
    return xn, yn


def _normalized_pairs(inputs, channels, names, patch_size, input_normalization, percentiles):
    """Yield ``(name, input, targets)`` of every image, checked and normalised as it is needed."""
    for i, name in enumerate(names):
        targets = [ch[i] for ch in channels]
        yield (name, *_normalized_pair(inputs[i], targets, name, patch_size, input_normalization, percentiles))


def _versions(xn, yn, n_patches, zoom_factors, patch_size, rng):
    """``(x, y, number of patches)`` of an image and its augmented copies: half the patches from copies.

    The copies are zoomed by the ``zoom_factors`` that leave at least a patch
    (the patches spread evenly over them, in a random order) and rotated by a
    random multiple of 90 degrees; without such factors every patch comes
    from the image itself. Without ``zoom_factors``: no augmentation.
    """
    if not zoom_factors:
        return [(xn, yn, n_patches)]
    n_aug = n_patches // 2
    usable = [z for z in zoom_factors if int(round(min(xn.shape[:2]) * z)) >= patch_size]
    if not (n_aug and usable):
        return [(xn, yn, n_patches)]
    versions = [(xn, yn, n_patches - n_aug)]
    counts = np.zeros(len(usable), dtype=int)
    order = rng.permutation(len(usable))
    for j in range(n_aug):
        counts[order[j % len(usable)]] += 1
    for z, cnt in zip(usable, counts):
        if cnt:
            xa, ya = augment_pair(xn, yn, zoom=z, rotation=int(rng.integers(4)))
            versions.append((xa, ya, int(cnt)))
    return versions


def _draw_patches(pairs, patch_size, n_patches, zoom_factors, patch_filter, peak, rng):
    """Patches of every ``(name, normalised input, normalised target)`` pair, with their source image and copy.

    CSBDeep samples with NumPy's global generator: it is seeded from ``rng``
    for every copy, and restored afterwards. Returns ``X``, ``Y``, the image
    and copy index of every patch, and the names of images whose target has no
    foreground for the patch filter.
    """
    xs, ys, src_image, src_copy, no_foreground = [], [], [], [], []
    state = np.random.get_state()
    try:
        for i, (name, xn, yn) in enumerate(pairs):  # pairs may be made as they are drawn
            if peak is not None:
                yn = add_poisson_noise(yn, peak, rng)
            for j, (xv, yv, cnt) in enumerate(_versions(xn, yn, n_patches, zoom_factors, patch_size, rng)):
                np.random.seed(int(rng.integers(2**31)))
                px, py, unfiltered = _sample_patches(xv, yv, patch_size, cnt, patch_filter)
                if unfiltered and name not in no_foreground:
                    no_foreground.append(name)
                xs.append(px)
                ys.append(py)
                src_image.append(np.full(len(px), i, dtype=int))
                src_copy.append(np.full(len(px), j, dtype=int))
    finally:
        np.random.set_state(state)
    X = np.concatenate(xs).astype(np.float32, copy=False)
    Y = np.concatenate(ys).astype(np.float32, copy=False)
    return X, Y, np.concatenate(src_image), np.concatenate(src_copy), no_foreground


def _split_by_image(patches, val_idx, names, given_names, rng, **attributes):
    """TrainingData of ``patches`` (X, Y, image and copy index): validation images' patches apart, the rest shuffled."""
    X, Y, image, copy = patches
    is_val = np.isin(image, val_idx)
    train = np.flatnonzero(~is_val)
    train = train[rng.permutation(len(train))]  # training patches shuffled; validation ones in image order
    val = np.flatnonzero(is_val)
    label = (lambda i: names[i]) if given_names else (lambda i: i)
    return TrainingData(
        X[train],
        Y[train],
        X[val],
        Y[val],
        train_images=[label(i) for i in range(len(names)) if i not in val_idx],
        validation_images=[label(i) for i in val_idx],
        image_index=image[train],
        copy_index=copy[train],
        val_image_index=image[val],
        val_copy_index=copy[val],
        **attributes,
    )


def make_training_data(
    inputs,
    targets,
    patch_size=64,
    n_patches_per_image=64,
    zoom_factors=ZOOM_FACTORS,
    augment=True,
    poisson=False,
    validation_split=0.1,
    percentiles=DEFAULT_PERCENTILES,
    patch_filter=True,
    names=None,
    seed=0,
    validation_images=None,
    input_normalization="percentile",
):
    """Build normalised, augmented training and validation patches.

    Parameters
    ----------
    inputs : sequence of 2-D ndarray
        Input images (e.g. the low-contrast label, or the first noise
        realisation for N2N).
    targets : sequence of 2-D ndarray, or sequence of such sequences
        One target per input (one network output channel), or one list of
        targets per output channel (multi-channel network). Each target has
        the shape of its input.
    patch_size : int
        Patch height and width; a multiple of ``2**unet_n_depth`` of the
        network (64 and 128 are safe).
    n_patches_per_image : int
        Patches drawn from each pair; with ``augment`` half of them from the
        raw pair and half from zoomed and rotated copies.
    zoom_factors : sequence of float
        Zoom factors of the augmentation (:data:`ZOOM_FACTORS`, or
        :data:`ZOOM_FACTORS_CAVEOLAE` for small round structures). Factors
        that make the image smaller than a patch are skipped.
    augment : bool
        Augment by zoom and rotation (default True).
    poisson : bool or float
        Add Poisson noise to the targets (after normalisation): ``True``
        uses :data:`POISSON_PEAK` photons at intensity 1, a number sets that
        peak. Default False.
    validation_split : float
        Fraction of the *images* whose patches are kept for validation
        (default 0.1), rounded, and at least one image when > 0; the images
        are chosen by ``seed``. 0: no validation patches.
    percentiles : tuple of float
        ``(pmin, pmax)`` of :func:`normalize`, for the targets and (with
        ``input_normalization="percentile"``) the inputs.
    patch_filter : bool
        Prefer patches with structure in the target (CSBDeep's
        ``no_background_patches``). Images without foreground fall back to
        unfiltered patches with a warning.
    names : sequence of str, optional
        Image names used in warnings and errors (default ``image 0``, ...).
    seed : int
        Seed of every random choice (same seed, same patches).
    validation_images : sequence of str or int, optional
        The validation images, by name (of ``names``) or index; replaces
        ``validation_split``. Give the ``validation_images`` of an earlier
        result (or of a model's ``l2l_training.json``) to reproduce its
        split.
    input_normalization : str
        How the inputs are normalised (:func:`normalize_input`):
        ``"percentile"`` (default, as the targets) or ``"mean_std"`` (zero
        mean, unit variance per image). Recorded in the result, and by
        :func:`l2l_helpers.training.train.train_model` when it gets the result as
        ``split``, so that restoring normalises the same way.

    Returns
    -------
    TrainingData
        Unpacks as ``X, Y, X_val, Y_val`` (ndarray of float32): training
        and validation patches, shaped ``(n, patch_size, patch_size, k)``
        for ``k`` target channels; the ``k`` channels of ``X`` are identical
        copies of the input. Its attributes name the images of each side
        and the source image and copy of every patch.

    Raises
    ------
    ImageError
        If an image is not 2-D, constant, not finite, shaped unlike its
        partner, or smaller than a patch (the message names it).
    ValueError
        For bad settings (no images, patch size, split), too few images to
        hold one out for validation, or unknown validation images.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> imgs = [rng.random((96, 96)) for _ in range(2)]
    >>> X, Y, Xv, Yv = make_training_data(imgs, imgs, patch_size=32, n_patches_per_image=10)
    >>> X.shape, Xv.shape
    ((10, 32, 32, 1), (10, 32, 32, 1))
    >>> data = make_training_data(imgs, imgs, patch_size=32, n_patches_per_image=10, validation_images=[0])
    >>> data.train_images, data.validation_images
    ([1], [0])
    """
    from csbdeep.data import no_background_patches

    given_names = names is not None
    inputs, channels, names, patch_size, n_patches = _patch_request(
        inputs, targets, names, patch_size, n_patches_per_image, validation_split, validation_images
    )
    zoom_factors = tuple(float(z) for z in zoom_factors)
    if augment and not zoom_factors:
        raise ValueError("augment=True needs at least one zoom factor")
    peak = _poisson_peak(poisson)
    _check_input_normalization(input_normalization)  # before any image is read
    pmin, pmax = percentiles
    filt = no_background_patches() if patch_filter else None
    rng = np.random.default_rng(seed)
    pairs = (
        (
            name,
            *_normalized_pair(
                inputs[i], [ch[i] for ch in channels], name, patch_size, input_normalization, (pmin, pmax)
            ),
        )
        for i, name in enumerate(names)
    )
    X, Y, image, copy, no_foreground = _draw_patches(
        pairs, patch_size, n_patches, zoom_factors if augment else (), filt, peak, rng
    )
    if no_foreground:  # one warning for the whole call, naming every such image
        warnings.warn(
            f"{len(no_foreground)} of {len(names)} images have no foreground for the patch filter "
            f"({', '.join(map(str, no_foreground))}); their patches are drawn from anywhere in the image",
            UserWarning,
            stacklevel=2,
        )
    # after the images are checked, so that a bad image is named first
    val_idx = _choose_validation_images(names, given_names, validation_split, validation_images, seed)
    return _split_by_image(
        (X, Y, image, copy),
        val_idx,
        names,
        given_names,
        rng,
        input_normalization=input_normalization,
        n_patches_per_image=n_patches,
    )
