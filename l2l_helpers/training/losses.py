"""Loss functions for training CARE networks: L1, MSE, SSIM and MS-SSIM.

The label2label paper compares training with the mean absolute error (L1)
against losses built on the structural similarity index (SSIM; Wang et al.
2004) and its multi-scale version (MS-SSIM; Wang, Simoncelli and Bovik 2003)
with three (``ms3``) or five (``ms5``) scales. Every loss here takes tensors
shaped ``(batch, y, x, channels)`` and returns a scalar, so it can be given to
``keras_model.compile(loss=...)`` of a CSBDeep CARE model.

Conventions
-----------
``max_val``
    The images a CARE network sees are percentile-normalised (CSBDeep:
    low percentile -> 0, high percentile -> 1), so their nominal data range
    is 1. SSIM uses ``max_val = 1.0`` (:data:`MAX_VAL`) for its stabilising
    constants ``c1 = (0.01 * max_val)**2`` and ``c2 = (0.03 * max_val)**2``.
    Values outside ``[0, 1]`` (normalised noise, bright spots) are used as
    they are: nothing is clipped, so the gradient is never cut off.
Filter size
    A Gaussian window of width ``sigma = 1.5`` is used at every scale; its
    size is 11 for ``ssim`` and ``ms3`` (Wang et al.) and 7 for ``ms5`` (the
    label2label paper, 128 x 128 patches). ``tf.image.ssim_multiscale``
    needs the image at its coarsest scale to be at least as wide as the
    filter; for smaller patches :func:`loss_settings` chooses the largest odd
    filter size that fits, and :func:`get_loss` warns about it. A filter
    narrower than 3 pixels has no spatial variance to compare, so patches
    too small for a 3-pixel filter raise a ``ValueError``.
Numerical safety
    ``tf.image.ssim_multiscale`` clips the contrast-structure terms at zero
    and raises them to small powers (``0**0.0448``), whose gradient is
    infinite, so anti-correlated patches give NaN gradients (and where a
    term is clipped to zero the whole product, and its gradient, vanish).
    Even just above zero the gradient ``w * c**(w - 1)`` explodes, so a few
    patches with near-zero terms can dominate a batch and make training
    diverge. :func:`ms_ssim` computes exactly the same value (same filter,
    same down-sampling, same weights; TensorFlow's own per-scale SSIM) but
    takes its gradient from a surrogate in which each ``term**w`` below 0.1
    is replaced by its tangent at 0.1: the gradient is finite and bounded,
    and still points towards a better (more correlated) prediction. Flat
    patches, negative values and batches of one image are safe as well.
Several channels
    The loss of an image with several channels (several targets) is the
    mean of the per-channel losses.

Examples
--------
>>> from l2l_helpers.training.losses import get_loss, loss_settings
>>> loss = get_loss("ms3", patch_size=64)  # doctest: +SKIP
>>> model.keras_model.compile(optimizer="adam", loss=loss)  # doctest: +SKIP
>>> loss_settings("ms5", 128)["filter_size"]
7
"""

from __future__ import annotations

import math
import warnings

__all__ = [
    "LOSSES",
    "MAX_VAL",
    "FILTER_SIGMA",
    "MIN_FILTER_SIZE",
    "MS_WEIGHTS",
    "DEFAULT_FILTER_SIZE",
    "loss_settings",
    "min_patch_size",
    "ms_ssim",
    "get_loss",
]

#: Names accepted by :func:`get_loss`.
LOSSES = ("l1", "mse", "ssim", "ms3", "ms5")

#: Data range of percentile-normalised images, used for the SSIM constants.
MAX_VAL = 1.0

#: Width (standard deviation, pixels) of the Gaussian SSIM window.
FILTER_SIGMA = 1.5

#: Smallest filter size used; below it SSIM has no local variance to compare.
MIN_FILTER_SIZE = 3

#: SSIM stabilising constants (Wang et al. 2004).
K1, K2 = 0.01, 0.03

#: Weight of each scale, finest first (``ssim`` is one scale of weight 1).
MS_WEIGHTS = {
    "ssim": (1.0,),
    "ms3": (0.2096, 0.4659, 0.3245),
    "ms5": (0.0448, 0.2856, 0.3001, 0.2363, 0.1333),
}

#: Filter size used when the patch is large enough.
DEFAULT_FILTER_SIZE = {"ssim": 11, "ms3": 11, "ms5": 7}

# Below this value a term's gradient is the slope of term**w at this value (at most w * 0.1**(w - 1) < 1.6), so
# near-zero terms, whose true gradient w * c**(w - 1) explodes, cannot dominate a batch (why 0.1: smaller floors
# let 3-scale MS-SSIM training on simulated actin diverge; no benchmark section measures this yet).
_SAFE_EPS = 0.1


def _check_name(name):
    if not isinstance(name, str) or name.lower() not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name.lower()


def _patch_side(patch_size):
    """Smallest side of a patch given as an int or a (y, x) tuple, or None."""
    if patch_size is None:
        return None
    sides = [patch_size] if isinstance(patch_size, (int,)) or not hasattr(patch_size, "__len__") else list(patch_size)
    try:
        sides = [int(s) for s in sides]
    except (TypeError, ValueError):
        raise ValueError(f"patch_size must be an int or a tuple of ints, got {patch_size!r}") from None
    if not sides or min(sides) < 1:
        raise ValueError(f"patch_size must be positive, got {patch_size!r}")
    return min(sides)


def _coarsest_side(side, scales):
    """Side length at the coarsest scale (TensorFlow pads odd sizes, then halves)."""
    for _ in range(scales - 1):
        side = math.ceil(side / 2)
    return side


def min_patch_size(name, filter_size=MIN_FILTER_SIZE):
    """Smallest patch side for which a loss works with a given filter size.

    Parameters
    ----------
    name : str
        One of :data:`LOSSES`.
    filter_size : int
        Gaussian filter size (default: the smallest allowed, 3).

    Returns
    -------
    int
        The smallest side in pixels (1 for ``l1`` and ``mse``).

    Raises
    ------
    ValueError
        If the name is unknown.

    Examples
    --------
    >>> min_patch_size("ms5")
    33
    >>> min_patch_size("ms5", filter_size=7)
    97
    """
    name = _check_name(name)
    if name not in MS_WEIGHTS:
        return 1
    scales = len(MS_WEIGHTS[name])
    return (filter_size - 1) * 2 ** (scales - 1) + 1


def loss_settings(name, patch_size=None):
    """The settings a loss uses for a given patch size.

    Store the returned dictionary beside a trained model (it is JSON
    serialisable) so that the loss can be rebuilt and reported exactly.

    Parameters
    ----------
    name : str
        One of :data:`LOSSES`: ``"l1"``, ``"mse"``, ``"ssim"``, ``"ms3"``,
        ``"ms5"``.
    patch_size : int or tuple of int, optional
        Side (or ``(y, x)`` shape) of the training patches. Default: assume
        the patches are large enough for the default filter size.

    Returns
    -------
    dict
        ``loss`` (name), ``patch_size``, ``scales`` (number of scales, None
        for l1/mse), ``weights`` (list of per-scale weights, finest first),
        ``filter_size`` (actual Gaussian filter size), ``default_filter_size``,
        ``filter_sigma``, ``max_val``, ``k1``, ``k2``, ``adapted`` (True if
        the filter size was reduced to fit the patch) and ``note`` (a
        sentence for the user).

    Raises
    ------
    ValueError
        If the name is unknown, or the patch is too small even for a
        3-pixel filter (the message names the minimum patch size).

    Examples
    --------
    >>> s = loss_settings("ms5", patch_size=64)
    >>> s["filter_size"], s["scales"], s["adapted"]
    (3, 5, True)
    >>> loss_settings("ms3", patch_size=64)["filter_size"]
    11
    """
    name = _check_name(name)
    side = _patch_side(patch_size)
    settings = {
        "loss": name,
        "patch_size": side if not isinstance(patch_size, (tuple, list)) else [int(s) for s in patch_size],
        "scales": None,
        "weights": None,
        "filter_size": None,
        "default_filter_size": None,
        "filter_sigma": None,
        "max_val": None,
        "k1": None,
        "k2": None,
        "adapted": False,
    }
    if name not in MS_WEIGHTS:
        settings["note"] = f"{name}: pixel-wise loss, works for any patch size"
        return settings
    weights = MS_WEIGHTS[name]
    scales = len(weights)
    default = DEFAULT_FILTER_SIZE[name]
    filter_size = default
    if side is not None:
        coarsest = _coarsest_side(side, scales)
        if coarsest < MIN_FILTER_SIZE:
            raise ValueError(
                f"loss {name!r}: patches of {side} px are too small; with {scales} scale(s) the coarsest "
                f"scale is {coarsest} px wide, less than the smallest filter ({MIN_FILTER_SIZE} px). "
                f"Use patches of at least {min_patch_size(name)} px "
                f"({min_patch_size(name, default)} px for the default filter size {default})."
            )
        if coarsest < default:
            filter_size = coarsest if coarsest % 2 == 1 else coarsest - 1
    adapted = filter_size != default
    settings.update(
        scales=scales,
        weights=list(weights),
        filter_size=filter_size,
        default_filter_size=default,
        filter_sigma=FILTER_SIGMA,
        max_val=MAX_VAL,
        k1=K1,
        k2=K2,
        adapted=adapted,
    )
    if adapted:
        settings["note"] = (
            f"{name}: {side} px patches are too small for the {default}-px filter at {scales} scales "
            f"(the coarsest scale is {_coarsest_side(side, scales)} px); using filter size {filter_size} "
            f"(patches of {min_patch_size(name, default)} px or more would use {default})"
        )
    else:
        settings["note"] = f"{name}: {scales} scale(s), Gaussian filter {filter_size} px, sigma {FILTER_SIGMA}"
    return settings


def _weighted_geometric_mean(terms, weights):
    """``prod(relu(term) ** weight)`` with a finite, informative gradient.

    The value is exactly that of ``tf.image.ssim_multiscale``. The gradient
    is that of a surrogate in which each term is ``max(term, eps) ** weight``
    (positive, so the product never vanishes) and, below ``eps`` (0.1),
    changes with the slope it has at ``eps``. So the gradient is finite and
    bounded everywhere and, where a term is zero or negative
    (anti-correlated scales), still points towards a larger (better) term
    instead of being NaN or zero.
    """
    import tensorflow as tf

    exact = None
    surrogate = None
    for term, weight in zip(terms, weights):
        clamped = tf.minimum(term, _SAFE_EPS)
        slope = weight * _SAFE_EPS ** (weight - 1.0)
        s = tf.pow(tf.maximum(term, _SAFE_EPS), weight) + slope * (clamped - tf.stop_gradient(clamped))
        e = tf.pow(tf.nn.relu(tf.stop_gradient(term)), weight)
        exact = e if exact is None else exact * e
        surrogate = s if surrogate is None else surrogate * s
    return surrogate + tf.stop_gradient(exact - surrogate)


def ms_ssim(
    img1, img2, weights=MS_WEIGHTS["ms5"], max_val=MAX_VAL, filter_size=11, filter_sigma=FILTER_SIGMA, k1=K1, k2=K2
):
    """Multi-scale SSIM with finite gradients, equal to ``tf.image.ssim_multiscale``.

    Follows ``tf.image.ssim_multiscale`` step by step (TensorFlow's per-scale
    SSIM, symmetric padding of odd sizes, 2 x 2 average pooling, weighted
    geometric mean of the contrast-structure terms of the finer scales and
    the SSIM of the coarsest scale, both clipped at zero), so the value is the
    same; only the gradient of the clipped powers is made finite (see the
    module notes).

    Parameters
    ----------
    img1, img2 : tensor or ndarray, shape (..., y, x, channels)
        Image batches of equal shape.
    weights : sequence of float
        Weight of each scale, finest first; its length is the number of
        scales.
    max_val : float
        Data range used for the SSIM constants.
    filter_size : int
        Gaussian filter size; the coarsest scale must be at least this wide.
    filter_sigma : float
        Gaussian filter width.
    k1, k2 : float
        SSIM constants.

    Returns
    -------
    tensor of float32, shape (...)
        MS-SSIM of each image, averaged over channels (1 for identical
        images, 0 for unrelated ones).

    Raises
    ------
    ValueError
        If the shapes differ or (when known) the image is too small for the
        filter at the coarsest scale.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).random((1, 64, 64, 1)).astype("float32")
    >>> round(float(ms_ssim(x, x, weights=MS_WEIGHTS["ms3"])[0]), 4)
    1.0
    """
    import tensorflow as tf
    from tensorflow.python.ops import image_ops_impl

    img1 = tf.convert_to_tensor(img1, dtype=tf.float32)
    img2 = tf.convert_to_tensor(img2, dtype=tf.float32)
    if img1.shape.rank is not None and img1.shape.rank < 3:
        raise ValueError(f"ms_ssim: expected images shaped (..., y, x, channels), got shape {img1.shape}")
    if img1.shape.is_fully_defined() and img2.shape.is_fully_defined() and img1.shape != img2.shape:
        raise ValueError(f"ms_ssim: the images differ in shape: {img1.shape} and {img2.shape}")
    weights = [float(w) for w in weights]
    scales = len(weights)
    spatial = [s for s in img1.shape[-3:-1] if s is not None]
    if spatial:
        coarsest = _coarsest_side(min(spatial), scales)
        if coarsest < filter_size:
            raise ValueError(
                f"ms_ssim: images of {min(spatial)} px are too small for filter size {filter_size} at "
                f"{scales} scales (coarsest scale {coarsest} px); use images of at least "
                f"{(filter_size - 1) * 2 ** (scales - 1) + 1} px or a smaller filter"
            )

    heads = tf.shape(img1)[:-3]
    imgs = [img1, img2]
    terms = []
    for k in range(scales):
        if k > 0:
            tail = tf.shape(imgs[0])[-3:]
            flat = [tf.reshape(x, tf.concat([[-1], tail], 0)) for x in imgs]
            remainder = tail % tf.constant([2, 2, 1])
            padding = tf.pad(tf.expand_dims(remainder, -1), [[1, 0], [1, 0]])
            flat = [tf.pad(x, padding, mode="SYMMETRIC") for x in flat]
            pooled = [tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID") for x in flat]
            imgs = [tf.reshape(x, tf.concat([heads, tf.shape(x)[1:]], 0)) for x in pooled]
        ssim, cs = image_ops_impl._ssim_per_channel(
            imgs[0], imgs[1], max_val=max_val, filter_size=filter_size, filter_sigma=filter_sigma, k1=k1, k2=k2
        )
        # contrast-structure of the finer scales, full SSIM of the coarsest one
        terms.append(cs if k < scales - 1 else ssim)
    return tf.reduce_mean(_weighted_geometric_mean(terms, weights), axis=-1)


def _float_pair(y_true, y_pred, name):
    """Cast both tensors to float32 and check their static shapes."""
    import tensorflow as tf

    y_true = tf.cast(y_true, tf.float32)
    y_pred = tf.cast(y_pred, tf.float32)
    _check_static_shapes(y_true, y_pred, name)
    return y_true, y_pred


def _check_static_shapes(y_true, y_pred, name):
    if y_true.shape.rank is not None and y_true.shape.rank != 4:
        raise ValueError(f"loss {name!r}: expected tensors shaped (batch, y, x, channels), got {y_true.shape}")
    t, p = y_true.shape, y_pred.shape
    if t.rank == 4 and p.rank == 4 and t[-1] is not None and p[-1] is not None and t[-1] != p[-1]:
        raise ValueError(f"loss {name!r}: target has {t[-1]} channel(s) but the prediction {p[-1]}")


#: Notes about reduced filter sizes that :func:`get_loss` has already given in this process.
_NOTED = set()


def get_loss(name, patch_size=None):
    """A Keras loss function ``loss(y_true, y_pred) -> scalar``.

    Parameters
    ----------
    name : str
        ``"l1"`` (mean absolute error), ``"mse"`` (mean squared error),
        ``"ssim"`` (``1 - SSIM``), ``"ms3"`` / ``"ms5"`` (``1 - MS-SSIM``
        with three or five scales). See :func:`loss_settings`.
    patch_size : int or tuple of int, optional
        Side of the training patches, used to choose the filter size of the
        SSIM losses (warns when it has to be reduced). Default: the default
        filter sizes, which need patches of at least
        ``min_patch_size(name, DEFAULT_FILTER_SIZE[name])`` pixels.

    Returns
    -------
    callable
        ``loss(y_true, y_pred)`` on float tensors shaped
        ``(batch, y, x, channels)``, returning the mean loss over the batch
        and channels as a float32 scalar tensor. Its ``settings`` attribute
        holds :func:`loss_settings`; its ``__name__`` is ``"l2l_<name>"``.

    Raises
    ------
    ValueError
        Unknown name, or patches too small (see :func:`loss_settings`).

    Warns
    -----
    UserWarning
        When the filter size is reduced to fit the patch size; each such
        note once per process (the settings are recorded with every
        trained model).

    Examples
    --------
    >>> import numpy as np
    >>> loss = get_loss("ms3", patch_size=64)
    >>> x = np.random.default_rng(0).random((2, 64, 64, 1)).astype("float32")
    >>> float(loss(x, x)) < 1e-6
    True
    >>> model.keras_model.compile(optimizer="adam", loss=loss)  # doctest: +SKIP
    """
    settings = loss_settings(name, patch_size)
    name = settings["loss"]
    if settings["adapted"] and settings["note"] not in _NOTED:  # once per process: every training would repeat it
        _NOTED.add(settings["note"])
        warnings.warn(settings["note"], UserWarning, stacklevel=2)
    loss = _loss_function(name, settings)
    loss.__name__ = f"l2l_{name}"
    loss.__qualname__ = loss.__name__
    loss.settings = settings
    return loss


def _filter_args(settings):
    """The arguments of the SSIM filter of :func:`loss_settings` (for ``tf.image.ssim`` and :func:`ms_ssim`)."""
    return {key: settings[key] for key in ("max_val", "filter_size", "filter_sigma", "k1", "k2")}


def _loss_function(name, settings):
    """The function ``loss(y_true, y_pred)`` of a loss and its :func:`loss_settings`."""
    if name == "l1":

        def loss(y_true, y_pred):
            import tensorflow as tf

            y_true, y_pred = _float_pair(y_true, y_pred, name)
            return tf.reduce_mean(tf.abs(y_pred - y_true))
    elif name == "mse":

        def loss(y_true, y_pred):
            import tensorflow as tf

            y_true, y_pred = _float_pair(y_true, y_pred, name)
            return tf.reduce_mean(tf.square(y_pred - y_true))
    elif name == "ssim":

        def loss(y_true, y_pred):
            import tensorflow as tf

            y_true, y_pred = _float_pair(y_true, y_pred, name)
            spatial = [s for s in y_true.shape[1:3] if s is not None]
            if spatial and min(spatial) < settings["filter_size"]:
                raise ValueError(
                    f"loss 'ssim': patches of {min(spatial)} px are smaller than the filter "
                    f"({settings['filter_size']} px); pass patch_size={min(spatial)} to get_loss"
                )
            # tf.image.ssim averages the per-channel SSIM: 1 - mean = mean of per-channel losses.
            value = tf.image.ssim(y_true, y_pred, **_filter_args(settings))
            return 1.0 - tf.reduce_mean(value)
    else:

        def loss(y_true, y_pred):
            import tensorflow as tf

            y_true, y_pred = _float_pair(y_true, y_pred, name)
            try:
                value = ms_ssim(y_true, y_pred, weights=settings["weights"], **_filter_args(settings))
            except ValueError as exc:
                raise ValueError(f"loss {name!r}: {exc}; pass the patch size to get_loss") from None
            return 1.0 - tf.reduce_mean(value)

    return loss
