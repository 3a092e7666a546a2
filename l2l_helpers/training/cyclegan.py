"""CycleGAN: learn to restore from two *unpaired* sets of images.

Label2label needs pairs: the same cell imaged in the input and the target
label. A CycleGAN (Zhu et al. 2017) only needs a folder of inputs and a
folder of targets, which may show different cells and hold different numbers
of images. Two generators translate between the two domains, ``G_AB``
(input A -> target B, the restorer) and ``G_BA`` (target -> input); two
discriminators tell real from generated images of one domain, ``D_B``
(targets vs ``G_AB``'s outputs) and ``D_A`` (inputs vs ``G_BA``'s outputs).
The generators learn to fool the discriminators while a translated image,
translated back, must give the original again (cycle consistency).

This module follows the reference implementation
(junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``,
``models/cycle_gan_model.py``, ``util/image_pool.py``) in Keras 3, with the
label2label paper's changes (batch size 4, weights drawn from
N(0, 0.0005)):

* generator: ResNet with reflection padding, instance normalisation and
  ReLU; a 7x7 convolution of ``gen_n_first`` filters, two stride-2 3x3
  convolutions, ``gen_n_blocks`` residual blocks, two stride-2 transposed
  3x3 convolutions, a 7x7 convolution and tanh (:func:`build_generator`);
* discriminator: the 70x70 PatchGAN (4x4 convolutions, LeakyReLU 0.2,
  instance normalisation except after the first layer; a 256x256 image
  gives a 30x30 map of real/fake scores; :func:`build_discriminator`);
* losses: least-squares GAN loss (mean squared error against 1 for real and
  0 for fake; the discriminators' loss halved), L1 cycle-consistency loss
  of weight ``lambda_cycle`` (10) and L1 identity loss of weight
  ``lambda_identity * lambda_cycle`` (0.5 * 10);
* Adam (learning rate 2e-4, beta_1 0.5) for the generators and another
  for the discriminators; the learning rate is constant for ``n_epochs``
  epochs and then decays linearly towards zero over ``n_epochs_decay``
  epochs (:func:`learning_rate_factor`);
* the discriminators see generated images through a pool of the last 50
  (:class:`ImagePool`);
* images are normalised by percentiles (as for CARE,
  :func:`l2l_helpers.training.prepare.normalize`), mapped to [-1, 1] and cropped at
  random positions (with random horizontal flips).

Where Keras' defaults differ from PyTorch's, PyTorch's behaviour is kept:
instance normalisation is ``GroupNormalization(groups=-1, epsilon=1e-5,
center=False, scale=False)`` (``InstanceNorm2d(affine=False)``), stride-2
convolutions pad 1 pixel of zeros and use ``"valid"`` padding, a transposed
convolution (PyTorch ``padding=1, output_padding=1``) is computed with
``"valid"`` padding and loses its first row and column, Adam's epsilon is
1e-8.

:func:`train_cyclegan` trains on lists of images, :func:`train_from_folders`
on two folders (``l2l train --method cyclegan``). The model folder holds::

    model_dir/
        l2l_restorer.json      kind "cyclegan": load_restorer / l2l restore use G_AB
        l2l_training.json      how it was trained (profile, settings, seed, versions, seconds, ...)
        l2l_state.json         resume state (epochs done, random generators' states)
        history.csv            one row per finished epoch: every loss term, learning rate, seconds
        G_AB.weights.h5        input -> target generator
        G_BA.weights.h5        target -> input generator
        D_A.weights.h5         discriminator of inputs
        D_B.weights.h5         discriminator of targets
        optimizer_last.npz     both optimizers' state
        pools.npz              both image pools

All of it is written after every epoch, so ``resume=True`` continues an
interrupted run from its last finished epoch, exactly as if it had not
stopped (on the CPU). :class:`CycleGANRestorer` restores images with
``G_AB`` (in tiles for large images).

TensorFlow is imported only when a network is built, trained or loaded;
``import l2l_helpers.training.cyclegan`` is light.
"""

from __future__ import annotations

import contextlib
import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError, check_image
from l2l_helpers.restoring.restorers import MAX_TILE_PIXELS, RESTORER_JSON, Restorer, auto_tiles, register_restorer
from l2l_helpers.training.prepare import DEFAULT_PERCENTILES
from l2l_helpers.training.profiles import _setting_value
from l2l_helpers.training.record import HISTORY_CSV, OPTIMIZER_NPZ, STATE_JSON, TRAINING_JSON, TrainingRecord

__all__ = [
    "CYCLEGAN_PROFILES",
    "NETWORKS",
    "WEIGHT_FILES",
    "POOLS_NPZ",
    "CYCLEGAN_FILES",
    "HISTORY_COLUMNS",
    "cyclegan_settings",
    "learning_rate_factor",
    "instance_norm",
    "reflection_padding",
    "build_generator",
    "build_discriminator",
    "init_weights",
    "ImagePool",
    "to_model_range",
    "from_model_range",
    "CycleGANRecord",
    "CycleGANResult",
    "train_cyclegan",
    "train_from_folders",
    "read_history",
    "CycleGANRestorer",
]

#: Settings of the three run profiles (the keys of :data:`l2l_helpers.training.profiles.PROFILES`) for a CycleGAN.
#: Settings: ``crop_size`` (random crops, pixels), ``batch_size``, ``gen_n_blocks`` and ``gen_n_first``
#: (residual blocks and first filters of the ResNet generators), ``disc_n_first`` and ``disc_n_layers``
#: (first filters and stride-2 layers of the PatchGAN discriminators), ``n_epochs`` (epochs at the
#: initial learning rate), ``n_epochs_decay`` (epochs of linear decay after them; in all
#: ``n_epochs + n_epochs_decay`` epochs), ``steps_per_epoch`` (0: one pass over the larger set of images,
#: counted in crop-sized tiles, see :func:`train_cyclegan`), ``learning_rate``, ``beta_1`` (Adam),
#: ``lambda_cycle`` (weight of the cycle loss), ``lambda_identity`` (identity loss weight, as a fraction
#: of ``lambda_cycle``), ``pool_size`` (generated images kept for the discriminators) and ``init_gain``
#: (standard deviation of the initial weights).
#:
#: ``quick``
#:     tests and CI: a tiny generator (2 residual blocks, 8 first filters, 49k parameters) and
#:     discriminator (8 first filters, 3 layers, 44k parameters) on 32 px crops, batch 4, 2 + 1 epochs
#:     of 8 steps. Measured on 2 shared CPU cores: 0.05 s per step, a whole training 14 s (7 s of it
#:     building the training graph, checkpoints included).
#: ``workshop``
#:     the notebooks: 4 residual blocks, 16 first filters (generator 0.34M parameters; discriminator
#:     16 first filters, 3 layers, 0.17M) on 48 px crops, batch 4, 3 + 3 epochs of 50 steps (300
#:     steps). Measured on 2 CPU cores: about 0.12 s per step, a whole training about 45 s (10 s of
#:     graph building). Until 2026-11-28 it trained 500 steps on 64 px crops (about 130 s): on lesson
#:     05's cells the shorter training gave the same picture (plain paxillin CycleGAN fails, the
#:     pre-filtered one and the actin one remove over 90 % of the background; SSIM against the truth
#:     0.16 / 0.75 / 0.73 against 0.30 / 0.95 / 0.58). 32 first filters would take 1 s per step.
#: ``paper``
#:     the paper's settings: the reference networks (9 residual blocks, 64 first filters, 11.4M
#:     parameters per generator; discriminator 64 first filters, 3 layers, 2.8M parameters) on 256 px
#:     crops, batch 4, 10 epochs of which the last 9 decay the learning rate (``n_epochs=1``,
#:     ``n_epochs_decay=9``; the paper's pxn model: 4 epochs, 3 of decay: ``n_epochs=1,
#:     n_epochs_decay=3``), one pass over the images per epoch (``steps_per_epoch=0``). Measured: about
#:     50 s per step on 2 CPU cores: use a GPU.
CYCLEGAN_PROFILES = {
    "quick": dict(
        crop_size=32,
        batch_size=4,
        gen_n_blocks=2,
        gen_n_first=8,
        disc_n_first=8,
        disc_n_layers=3,
        n_epochs=2,
        n_epochs_decay=1,
        steps_per_epoch=8,
        learning_rate=0.0002,
        beta_1=0.5,
        lambda_cycle=10.0,
        lambda_identity=0.5,
        pool_size=50,
        init_gain=0.0005,
    ),
    "workshop": dict(
        crop_size=48,
        batch_size=4,
        gen_n_blocks=4,
        gen_n_first=16,
        disc_n_first=16,
        disc_n_layers=3,
        n_epochs=3,
        n_epochs_decay=3,
        steps_per_epoch=50,
        learning_rate=0.0002,
        beta_1=0.5,
        lambda_cycle=10.0,
        lambda_identity=0.5,
        pool_size=50,
        init_gain=0.0005,
    ),
    "paper": dict(
        crop_size=256,
        batch_size=4,
        gen_n_blocks=9,
        gen_n_first=64,
        disc_n_first=64,
        disc_n_layers=3,
        n_epochs=1,
        n_epochs_decay=9,
        steps_per_epoch=0,
        learning_rate=0.0002,
        beta_1=0.5,
        lambda_cycle=10.0,
        lambda_identity=0.5,
        pool_size=50,
        init_gain=0.0005,
    ),
}

#: The four networks, in the order they are built and saved.
NETWORKS = ("G_AB", "G_BA", "D_A", "D_B")
#: Weight file of each network in a model folder.
WEIGHT_FILES = {net: f"{net}.weights.h5" for net in NETWORKS}
#: The image pools' contents and states.
POOLS_NPZ = "pools.npz"
#: Every file a CycleGAN training writes into its model folder (with the temporary files of atomic writes).
CYCLEGAN_FILES = (
    TRAINING_JSON,
    STATE_JSON,
    HISTORY_CSV,
    OPTIMIZER_NPZ,
    POOLS_NPZ,
    RESTORER_JSON,
    *WEIGHT_FILES.values(),
    *(f"{net}.tmp.weights.h5" for net in NETWORKS),
    TRAINING_JSON + ".tmp",
    STATE_JSON + ".tmp",
    HISTORY_CSV + ".tmp",
    OPTIMIZER_NPZ + ".tmp.npz",
    POOLS_NPZ + ".tmp.npz",
)

#: Columns of ``history.csv``: ``G_AB`` / ``G_BA`` are the generators' adversarial losses, ``cycle_A`` /
#: ``cycle_B`` the weighted cycle losses of inputs and targets, ``idt_A`` / ``idt_B`` the weighted identity
#: losses (``G_BA`` on inputs, ``G_AB`` on targets), ``G`` their sum, ``D_A`` / ``D_B`` the discriminators'
#: (halved) losses; means over the epoch's steps.
HISTORY_COLUMNS = ("epoch", "lr", "G_AB", "G_BA", "cycle_A", "cycle_B", "idt_A", "idt_B", "G", "D_A", "D_B", "seconds")

_ADAM_EPSILON = 1e-8  # PyTorch's default (Keras': 1e-7)
_MIN_SIZE = 16  # smallest image size fed to a generator (reflection padding at 1/4 resolution)


# --- settings -------------------------------------------------------------------------------------


def cyclegan_settings(profile="workshop", **overrides):
    """Return the CycleGAN settings of a profile, with some of them overridden.

    Parameters
    ----------
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"`` (a key of
        :data:`CYCLEGAN_PROFILES`).
    **overrides
        Settings to replace; ``None`` values are ignored. Whole numbers are
        required for integer settings, as in
        :func:`l2l_helpers.training.profiles.profile_settings`.

    Returns
    -------
    dict
        A new dict of settings.

    Raises
    ------
    ValueError
        Unknown profile or setting, a value that does not fit the setting,
        or settings that cannot work (no epochs, a crop size that is not a
        multiple of 4 or below 16, ...).

    Examples
    --------
    >>> cyclegan_settings("paper")["gen_n_blocks"]
    9
    >>> s = cyclegan_settings("paper", n_epochs=1, n_epochs_decay=3)  # the paper's pxn model
    >>> s["n_epochs"] + s["n_epochs_decay"]
    4
    >>> cyclegan_settings("quick", crop_size=30)
    Traceback (most recent call last):
    ...
    ValueError: crop_size must be a multiple of 4 and at least 16, got 30
    """
    if profile not in CYCLEGAN_PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(CYCLEGAN_PROFILES)}")
    settings = dict(CYCLEGAN_PROFILES[profile])
    for key, value in overrides.items():
        if key not in settings:
            raise ValueError(f"unknown CycleGAN setting {key!r}; known: {', '.join(settings)}")
        if value is not None:
            settings[key] = _setting_value(key, value, settings[key])
    _check_settings(settings)
    return settings


def _check_settings(s):
    if s["crop_size"] % 4 or s["crop_size"] < _MIN_SIZE:
        raise ValueError(f"crop_size must be a multiple of 4 and at least {_MIN_SIZE}, got {s['crop_size']}")
    for key in ("batch_size", "gen_n_first", "disc_n_first", "disc_n_layers"):
        if s[key] < 1:
            raise ValueError(f"{key} must be at least 1, got {s[key]}")
    for key in ("gen_n_blocks", "n_epochs", "n_epochs_decay", "steps_per_epoch", "pool_size"):
        if s[key] < 0:
            raise ValueError(f"{key} must not be negative, got {s[key]}")
    if s["n_epochs"] + s["n_epochs_decay"] < 1:
        raise ValueError("n_epochs + n_epochs_decay must be at least 1")
    for key in ("learning_rate", "init_gain"):
        if not s[key] > 0:
            raise ValueError(f"{key} must be positive, got {s[key]}")
    for key in ("lambda_cycle", "lambda_identity"):
        if s[key] < 0:
            raise ValueError(f"{key} must not be negative, got {s[key]}")
    if not 0 <= s["beta_1"] < 1:
        raise ValueError(f"beta_1 must be in [0, 1), got {s['beta_1']}")
    if s["crop_size"] >> s["disc_n_layers"] < 3:  # the PatchGAN's map (crop / 2**layers - 2) needs a pixel
        raise ValueError(f"crop_size {s['crop_size']} is too small for a discriminator of {s['disc_n_layers']} layers")


def learning_rate_factor(epoch, n_epochs, n_epochs_decay):
    """Factor of the initial learning rate in an epoch (the reference's ``lambda_rule``).

    ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``: constant 1
    for the first ``n_epochs`` epochs, then linearly down towards zero over
    ``n_epochs_decay`` epochs (the last epoch gets ``1 / (n_epochs_decay +
    1)``).

    Parameters
    ----------
    epoch : int
        Epoch, counted from 0.
    n_epochs : int
        Epochs at the initial learning rate.
    n_epochs_decay : int
        Epochs of decay after them.

    Returns
    -------
    float

    Examples
    --------
    >>> [round(learning_rate_factor(e, 2, 3), 2) for e in range(5)]
    [1.0, 1.0, 0.75, 0.5, 0.25]
    """
    return 1.0 - max(0, int(epoch) + 1 - int(n_epochs)) / float(int(n_epochs_decay) + 1)


# --- networks -------------------------------------------------------------------------------------

_LAZY = {}


def _reflection_padding_class():
    """The Keras layer class ``ReflectionPadding2D`` (defined on first use: Keras imports TensorFlow)."""
    if "ReflectionPadding2D" not in _LAZY:
        import keras

        class ReflectionPadding2D(keras.layers.Layer):
            """Reflect-pad height and width by ``padding`` pixels (PyTorch's ``ReflectionPad2d``)."""

            def __init__(self, padding=1, **kwargs):
                super().__init__(**kwargs)
                self.padding = int(padding)

            def call(self, inputs):
                p = self.padding
                return keras.ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

            def compute_output_shape(self, input_shape):
                b, h, w, c = input_shape
                return (b, None if h is None else h + 2 * self.padding, None if w is None else w + 2 * self.padding, c)

            def get_config(self):
                return {**super().get_config(), "padding": self.padding}

        ReflectionPadding2D.__module__ = __name__
        _LAZY["ReflectionPadding2D"] = ReflectionPadding2D
    return _LAZY["ReflectionPadding2D"]


def __getattr__(name):  # the Keras layer class, defined when first asked for
    if name == "ReflectionPadding2D":
        return _reflection_padding_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def reflection_padding(padding=1, name=None):
    """A Keras layer that reflect-pads height and width (PyTorch's ``ReflectionPad2d``).

    Parameters
    ----------
    padding : int
        Pixels added on each side.
    name : str, optional
        Layer name.

    Returns
    -------
    keras.layers.Layer
        A ``ReflectionPadding2D`` layer (``(batch, y, x, c)`` in,
        ``(batch, y + 2p, x + 2p, c)`` out).

    Examples
    --------
    >>> x = np.arange(3, dtype="float32").reshape(1, 1, 3, 1)
    >>> np.asarray(reflection_padding(1)(np.repeat(x, 2, axis=1)))[0, 0, :, 0]
    array([1., 0., 1., 2., 1.], dtype=float32)
    """
    return _reflection_padding_class()(padding, name=name)


def instance_norm(name=None):
    """Instance normalisation as PyTorch's ``InstanceNorm2d(affine=False)``.

    Every channel of every image is normalised to mean 0 and variance 1
    over its pixels (epsilon 1e-5, no learned scale or offset).

    Parameters
    ----------
    name : str, optional
        Layer name.

    Returns
    -------
    keras.layers.GroupNormalization
        ``GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False)``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(5, 3, (2, 8, 8, 3)).astype("float32")
    >>> y = np.asarray(instance_norm()(x))
    >>> bool(np.allclose(y.mean(axis=(1, 2)), 0, atol=1e-5) and np.allclose(y.var(axis=(1, 2)), 1, atol=1e-3))
    True
    """
    import keras

    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, center=False, scale=False, name=name)


def _conv(keras, filters, kernel, strides=1, name=None):
    # zeros: the weights are drawn by init_weights; an unseeded Keras initialiser would draw from Python's
    # global random generator
    return keras.layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="valid",
        use_bias=True,
        kernel_initializer="zeros",
        bias_initializer="zeros",
        name=name,
    )


def build_generator(n_blocks=9, n_first=64, init_gain=0.0005, seed=0, name="G", channels=1):
    """The reference's ResNet generator (``ResnetGenerator``), as a Keras model.

    Reflection padding 3, 7x7 convolution (``n_first`` filters), instance
    norm, ReLU; two stride-2 3x3 convolutions (zero padding 1) doubling the
    filters, each with instance norm and ReLU; ``n_blocks`` residual blocks
    (reflection padding 1, 3x3 convolution, instance norm, ReLU, reflection
    padding 1, 3x3 convolution, instance norm, plus the block's input); two
    stride-2 transposed 3x3 convolutions halving the filters (PyTorch's
    ``padding=1, output_padding=1``: computed "valid", first row and column
    dropped), each with instance norm and ReLU; reflection padding 3, 7x7
    convolution to ``channels``, tanh. Every convolution has a bias.
    Height and width must be multiples of 4 (the output then has the
    input's size) and at least 16.

    Parameters
    ----------
    n_blocks : int
        Residual blocks (reference: 9 for 256 px images).
    n_first : int
        Filters of the first convolution (reference: 64).
    init_gain : float or None
        Standard deviation of the initial kernels (:func:`init_weights`);
        None leaves every weight 0 (for weights loaded afterwards).
    seed : int or numpy.random.Generator
        Randomness of the initial weights.
    name : str
        Model name (prefix of its layers' names).
    channels : int
        Image channels in and out.

    Returns
    -------
    keras.Model
        Input and output ``(batch, y, x, channels)``, values in [-1, 1].

    Examples
    --------
    >>> g = build_generator(n_blocks=1, n_first=4)
    >>> g(np.zeros((1, 32, 36, 1), "float32")).shape
    TensorShape([1, 32, 36, 1])
    """
    import keras

    pad = reflection_padding
    inp = keras.Input(shape=(None, None, channels), name=f"{name}_input")
    x = pad(3, name=f"{name}_pad_in")(inp)
    x = _conv(keras, n_first, 7, name=f"{name}_conv_in")(x)
    x = keras.layers.ReLU(name=f"{name}_relu_in")(instance_norm(name=f"{name}_norm_in")(x))
    filters = n_first
    for i in range(2):
        filters *= 2
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_down{i}_pad")(x)
        x = _conv(keras, filters, 3, strides=2, name=f"{name}_down{i}_conv")(x)
        x = keras.layers.ReLU(name=f"{name}_down{i}_relu")(instance_norm(name=f"{name}_down{i}_norm")(x))
    for b in range(n_blocks):
        y = pad(1, name=f"{name}_res{b}_pad0")(x)
        y = _conv(keras, filters, 3, name=f"{name}_res{b}_conv0")(y)
        y = keras.layers.ReLU(name=f"{name}_res{b}_relu")(instance_norm(name=f"{name}_res{b}_norm0")(y))
        y = pad(1, name=f"{name}_res{b}_pad1")(y)
        y = _conv(keras, filters, 3, name=f"{name}_res{b}_conv1")(y)
        y = instance_norm(name=f"{name}_res{b}_norm1")(y)
        x = keras.layers.Add(name=f"{name}_res{b}_add")([x, y])
    for i in range(2):
        filters //= 2
        x = keras.layers.Conv2DTranspose(
            filters,
            3,
            strides=2,
            padding="valid",
            use_bias=True,
            kernel_initializer="zeros",
            bias_initializer="zeros",
            name=f"{name}_up{i}_convt",
        )(x)
        x = keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"{name}_up{i}_crop")(x)
        x = keras.layers.ReLU(name=f"{name}_up{i}_relu")(instance_norm(name=f"{name}_up{i}_norm")(x))
    x = pad(3, name=f"{name}_pad_out")(x)
    x = _conv(keras, channels, 7, name=f"{name}_conv_out")(x)
    out = keras.layers.Activation("tanh", name=f"{name}_tanh")(x)
    model = keras.Model(inp, out, name=name)
    if init_gain is not None:
        init_weights(model, init_gain, seed)
    return model


def build_discriminator(n_first=64, n_layers=3, init_gain=0.0005, seed=0, name="D", channels=1):
    """The reference's PatchGAN discriminator (``NLayerDiscriminator``), as a Keras model.

    4x4 convolutions with zero padding 1: one of stride 2 (``n_first``
    filters) with LeakyReLU 0.2; ``n_layers - 1`` of stride 2 doubling the
    filters (at most ``8 * n_first``), each with instance norm and
    LeakyReLU; one of stride 1 with instance norm and LeakyReLU; one of
    stride 1 to a single channel of scores (no activation). With
    ``n_layers=3`` every score sees 70x70 pixels and a 256x256 image gives a
    30x30 map.

    Parameters
    ----------
    n_first : int
        Filters of the first convolution (reference: 64).
    n_layers : int
        Stride-2 convolutions (reference: 3).
    init_gain : float or None
        Standard deviation of the initial kernels (:func:`init_weights`);
        None leaves every weight 0 (for weights loaded afterwards).
    seed : int or numpy.random.Generator
        Randomness of the initial weights.
    name : str
        Model name (prefix of its layers' names).
    channels : int
        Image channels.

    Returns
    -------
    keras.Model
        Input ``(batch, y, x, channels)``, output ``(batch, y', x', 1)``.

    Examples
    --------
    >>> d = build_discriminator(n_first=4)
    >>> d(np.zeros((1, 64, 64, 1), "float32")).shape
    TensorShape([1, 6, 6, 1])
    """
    import keras

    inp = keras.Input(shape=(None, None, channels), name=f"{name}_input")
    x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad0")(inp)
    x = _conv(keras, n_first, 4, strides=2, name=f"{name}_conv0")(x)
    x = keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu0")(x)
    mult = 1
    for n in range(1, n_layers + 1):
        mult = min(2**n, 8)
        strides = 2 if n < n_layers else 1
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad{n}")(x)
        x = _conv(keras, n_first * mult, 4, strides=strides, name=f"{name}_conv{n}")(x)
        x = instance_norm(name=f"{name}_norm{n}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu{n}")(x)
    x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad_out")(x)
    out = _conv(keras, 1, 4, name=f"{name}_conv_out")(x)
    model = keras.Model(inp, out, name=name)
    if init_gain is not None:
        init_weights(model, init_gain, seed)
    return model


def init_weights(model, gain=0.0005, seed=0):
    """Draw every convolution kernel from N(0, gain) and set the biases to 0 (the reference's ``init_weights``).

    Parameters
    ----------
    model : keras.Model
        A built model; its ``Conv2D`` and ``Conv2DTranspose`` layers are set,
        in the order of ``model.layers``.
    gain : float
        Standard deviation (reference: 0.02; the label2label paper: 0.0005).
    seed : int or numpy.random.Generator
        Randomness (NumPy; no global random state is used).

    Returns
    -------
    keras.Model
        The model.

    Examples
    --------
    >>> g = build_generator(n_blocks=1, n_first=8, init_gain=0.1, seed=1)
    >>> round(float(np.std(g.get_layer("G_res0_conv0").kernel)), 1)
    0.1
    """
    import keras

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            layer.kernel.assign(rng.normal(0.0, gain, tuple(layer.kernel.shape)).astype(np.float32))
            if layer.bias is not None:
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), np.float32))
    return model


# --- image pool -----------------------------------------------------------------------------------


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


# --- data -----------------------------------------------------------------------------------------


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


# --- model folder ---------------------------------------------------------------------------------


class CycleGANRecord(TrainingRecord):
    """The record of a CycleGAN model folder (:class:`l2l_helpers.training.record.TrainingRecord` for its files).

    Info, state and history are kept as for a CARE model; the weights are
    those of :data:`WEIGHT_FILES` (``last_weights`` is ``G_AB``'s file), and
    both optimizers' states are kept in one ``optimizer_last.npz``.

    Parameters
    ----------
    model_dir : str or Path
        The model folder (need not exist yet).

    Examples
    --------
    >>> CycleGANRecord("models/actin_cyclegan").path("last_weights").name
    'G_AB.weights.h5'
    >>> CycleGANRecord("no/such/folder").foreign_files()
    []
    """

    _NAMES = {**TrainingRecord._NAMES, "best_weights": WEIGHT_FILES["G_AB"], "last_weights": WEIGHT_FILES["G_AB"]}
    FILES = CYCLEGAN_FILES  # what foreign_files() and clear() go by

    @property
    def paths(self):
        """dict of Path: ``history``, ``info`` and the weights of every network."""
        return {
            "history": self.path("history"),
            "info": self.path("info"),
            **{net: self.model_dir / WEIGHT_FILES[net] for net in NETWORKS},
        }

    def holds_model(self):
        """Return True if the folder holds (part of) a started CycleGAN or another model.

        Returns
        -------
        bool

        Examples
        --------
        >>> CycleGANRecord("no/such/folder").holds_model()
        False
        """
        return any((self.model_dir / n).exists() for n in (TRAINING_JSON, RESTORER_JSON, WEIGHT_FILES["G_AB"]))

    def write_history(self, history):
        """Write ``history.csv`` (atomically) from a list of per-epoch dicts.

        Parameters
        ----------
        history : list of dict
            One dict per epoch with the keys of :data:`HISTORY_COLUMNS`.

        Examples
        --------
        >>> CycleGANRecord("m").write_history([{"epoch": 1, "G": 3.2}])  # doctest: +SKIP
        """
        path = self.path("history")
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(history)
        tmp.replace(path)

    def read_cyclegan_info(self):
        """Read ``l2l_training.json`` and check that it records a CycleGAN.

        Returns
        -------
        dict

        Raises
        ------
        FileNotFoundError
            If the folder does not exist.
        ModelError
            If the folder holds no training record, or one of another model.

        Examples
        --------
        >>> CycleGANRecord("models/actin_cyclegan").read_cyclegan_info()["method"]  # doctest: +SKIP
        'cyclegan'
        """
        info = self.read_info()
        if info.get("method") != "cyclegan":
            raise ModelError(
                f"{self.model_dir}: not a CycleGAN model folder ({TRAINING_JSON} records "
                f"{info.get('method', 'a CARE network')!r})"
            )
        return info


class _OptimizerPair:
    """Both optimizers as one for TrainingRecord.save_optimizer / load_optimizer (one ``optimizer_last.npz``)."""

    def __init__(self, opt_g, g_vars, opt_d, d_vars):
        self.parts = ((opt_g, g_vars), (opt_d, d_vars))

    @property
    def variables(self):
        return [v for opt, _ in self.parts for v in opt.variables]

    def build(self, _variables=None):
        for opt, var_list in self.parts:
            if not opt.built:
                opt.build(var_list)


def read_history(model_dir):
    """Read a CycleGAN's ``history.csv`` as a dict of lists.

    Parameters
    ----------
    model_dir : str or Path
        The model folder.

    Returns
    -------
    dict of list
        One list per column of :data:`HISTORY_COLUMNS` (``epoch`` counted
        from 1); empty if there is no history yet.

    Examples
    --------
    >>> read_history("no/such/folder")
    {}
    """
    return CycleGANRecord(model_dir).read_history()


@dataclass
class CycleGANResult:
    """What :func:`train_cyclegan` returns.

    Attributes
    ----------
    restorer : CycleGANRestorer
        ``G_AB`` (input -> target) as a restorer.
    networks : dict of keras.Model
        ``G_AB``, ``G_BA``, ``D_A``, ``D_B`` after the last epoch.
    history : dict of list
        Per-epoch losses (:data:`HISTORY_COLUMNS`), including epochs of
        earlier runs when resumed.
    model_dir : Path
        The model folder.
    paths : dict of Path
        ``history``, ``info`` and the weight file of every network.
    seconds : float
        Wall time of this call's training.

    Examples
    --------
    >>> result = train_cyclegan(inputs, targets, "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    >>> result.history["D_B"][-1]  # doctest: +SKIP
    0.21
    """

    restorer: object
    networks: dict
    history: dict
    model_dir: Path
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0


# --- training -------------------------------------------------------------------------------------


class _CycleGAN:
    """The four networks, both optimizers and the two training steps (``tf.function``)."""

    def __init__(self, settings, seed_sequence):
        import keras
        import tensorflow as tf

        s = settings
        g_seed, gb_seed, da_seed, db_seed = (np.random.default_rng(c) for c in seed_sequence.spawn(4))
        self.nets = {
            "G_AB": build_generator(s["gen_n_blocks"], s["gen_n_first"], s["init_gain"], g_seed, name="G_AB"),
            "G_BA": build_generator(s["gen_n_blocks"], s["gen_n_first"], s["init_gain"], gb_seed, name="G_BA"),
            "D_A": build_discriminator(s["disc_n_first"], s["disc_n_layers"], s["init_gain"], da_seed, name="D_A"),
            "D_B": build_discriminator(s["disc_n_first"], s["disc_n_layers"], s["init_gain"], db_seed, name="D_B"),
        }
        self.g_vars = self.nets["G_AB"].trainable_variables + self.nets["G_BA"].trainable_variables
        self.d_vars = self.nets["D_A"].trainable_variables + self.nets["D_B"].trainable_variables
        self.opt_g = keras.optimizers.Adam(
            s["learning_rate"], beta_1=s["beta_1"], beta_2=0.999, epsilon=_ADAM_EPSILON, name="adam_G"
        )
        self.opt_d = keras.optimizers.Adam(
            s["learning_rate"], beta_1=s["beta_1"], beta_2=0.999, epsilon=_ADAM_EPSILON, name="adam_D"
        )
        self.optimizers = _OptimizerPair(self.opt_g, self.g_vars, self.opt_d, self.d_vars)
        self.optimizers.build()
        lam = float(s["lambda_cycle"])
        lam_idt = float(s["lambda_identity"]) * lam
        G_AB, G_BA, D_A, D_B = (self.nets[n] for n in NETWORKS)

        def mse(pred, value):  # least-squares GAN loss against an all-`value` map
            return tf.reduce_mean(tf.square(pred - value))

        def l1(a, b):
            return tf.reduce_mean(tf.abs(a - b))

        @tf.function
        def g_step(real_A, real_B):
            with tf.GradientTape() as tape:
                fake_B = G_AB(real_A, training=True)
                rec_A = G_BA(fake_B, training=True)
                fake_A = G_BA(real_B, training=True)
                rec_B = G_AB(fake_A, training=True)
                if lam_idt > 0:
                    idt_B = l1(G_AB(real_B, training=True), real_B) * lam_idt
                    idt_A = l1(G_BA(real_A, training=True), real_A) * lam_idt
                else:
                    idt_A = idt_B = tf.constant(0.0)
                adv_AB = mse(D_B(fake_B, training=True), 1.0)
                adv_BA = mse(D_A(fake_A, training=True), 1.0)
                cyc_A = l1(rec_A, real_A) * lam
                cyc_B = l1(rec_B, real_B) * lam
                total = adv_AB + adv_BA + cyc_A + cyc_B + idt_A + idt_B
            grads = tape.gradient(total, self.g_vars)
            self.opt_g.apply_gradients(zip(grads, self.g_vars))
            losses = {
                "G_AB": adv_AB,
                "G_BA": adv_BA,
                "cycle_A": cyc_A,
                "cycle_B": cyc_B,
                "idt_A": idt_A,
                "idt_B": idt_B,
                "G": total,
            }
            return fake_A, fake_B, losses

        @tf.function
        def d_step(real_A, real_B, fake_A, fake_B):
            with tf.GradientTape() as tape:
                loss_A = 0.5 * (mse(D_A(real_A, training=True), 1.0) + mse(D_A(fake_A, training=True), 0.0))
                loss_B = 0.5 * (mse(D_B(real_B, training=True), 1.0) + mse(D_B(fake_B, training=True), 0.0))
                total = loss_A + loss_B
            grads = tape.gradient(total, self.d_vars)
            self.opt_d.apply_gradients(zip(grads, self.d_vars))
            return {"D_A": loss_A, "D_B": loss_B}

        self.g_step, self.d_step = g_step, d_step

    def set_learning_rate(self, lr):
        # separate optimizers under a custom step: the schedule is applied here, not by a Keras callback
        self.opt_g.learning_rate.assign(lr)
        self.opt_d.learning_rate.assign(lr)

    def save_weights(self, model_dir):
        tmps = {}
        for net, model in self.nets.items():
            tmps[net] = Path(model_dir) / f"{net}.tmp.weights.h5"
            model.save_weights(str(tmps[net]))
        for net, tmp in tmps.items():
            tmp.replace(Path(model_dir) / WEIGHT_FILES[net])

    def load_weights(self, model_dir):
        for net, model in self.nets.items():
            path = Path(model_dir) / WEIGHT_FILES[net]
            try:
                model.load_weights(str(path))
            except Exception as exc:  # noqa: BLE001 - missing, truncated, other network
                raise ModelError(f"{path}: cannot load the weights ({type(exc).__name__}: {exc})") from exc


def _versions():
    import keras
    import tensorflow as tf

    from l2l_helpers import __version__

    return {
        "l2l_helpers": __version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }


def _save_pools(model_dir, pools):
    values = {}
    for key, pool in pools.items():
        values[key], _ = pool.get_state()
    tmp = Path(model_dir) / (POOLS_NPZ + ".tmp.npz")
    np.savez(tmp, **values)
    tmp.replace(Path(model_dir) / POOLS_NPZ)


def _load_pools(model_dir, pools, rng_states):
    path = Path(model_dir) / POOLS_NPZ
    if not path.is_file():
        raise FileNotFoundError(f"{model_dir}: no {POOLS_NPZ} to resume from")
    with np.load(path) as saved:
        for key, pool in pools.items():
            pool.set_state(saved[key], rng_states[key])


def train_cyclegan(
    inputs,
    targets,
    model_dir,
    profile="workshop",
    seed=0,
    resume=False,
    prefilter_sigma=None,
    progress=True,
    overwrite=False,
    percentiles=DEFAULT_PERCENTILES,
    input_name="input",
    target_name="target",
    metadata=None,
    callbacks=None,
    **overrides,
):
    """Train (or resume training) a CycleGAN on two unpaired sets of images.

    Every image is normalised by percentiles and mapped to [-1, 1]
    (:func:`to_model_range`); each step draws ``batch_size`` random crops
    (random horizontal flips) of random inputs and as many of random
    targets, with a NumPy generator seeded by ``seed``. Each step updates the
    generators first (adversarial, cycle and identity losses), then the
    discriminators on the generators' outputs of that step passed through
    the image pools, as the reference does. After every epoch the four
    networks, both optimizers, the pools, the random generators' states,
    the history and the record are saved in ``model_dir``.

    Parameters
    ----------
    inputs : sequence of 2-D array_like
        Images of the input domain A (e.g. the low-contrast label).
    targets : sequence of 2-D array_like
        Images of the target domain B (e.g. the high-contrast label); need
        not show the same cells, nor be as many as the inputs.
    model_dir : str or Path
        Model folder (created). A folder that already holds a model is
        refused unless ``resume`` or ``overwrite``; one holding a file that
        no CycleGAN training writes (e.g. a CARE model) is refused before
        anything is written.
    profile : str
        ``"quick"``, ``"workshop"`` or ``"paper"`` (:data:`CYCLEGAN_PROFILES`).
    seed : int
        Seed of the initial weights, the crops and the pools: the same seed
        on the same images gives identical weights on the CPU.
    resume : bool
        Continue an interrupted run in ``model_dir`` from its last finished
        epoch, with its stored settings, seed and random states: the result
        is the same as that of an uninterrupted run. ``n_epochs`` and
        ``n_epochs_decay`` may be changed (e.g. raised to train longer); the
        images must be the same.
    prefilter_sigma : float, optional
        Smooth every training image (inputs and targets) with a Gaussian of
        this standard deviation (pixels) before normalising; recorded, and
        applied again by :class:`CycleGANRestorer`.
    progress : bool
        Show a progress bar over the steps.
    overwrite : bool
        Replace a CycleGAN already in ``model_dir`` (its files are deleted
        first). Ignored when resuming.
    percentiles : tuple of float
        Normalisation percentiles (recorded; used again when restoring).
    input_name, target_name : str
        Names of the two domains (e.g. folder names; recorded).
    metadata : dict, optional
        Anything else to record (JSON-serialisable).
    callbacks : sequence of callable, optional
        Called as ``callback(epoch, logs)`` (epoch counted from 1, logs the
        epoch's history row) after the epoch has been saved; one that
        raises stops the run and leaves it resumable.
    **overrides
        Settings replacing the profile's (:func:`cyclegan_settings`), e.g.
        ``n_epochs``, ``n_epochs_decay``, ``steps_per_epoch``, ``crop_size``,
        ``batch_size``, ``gen_n_blocks``, ``gen_n_first``. With
        ``steps_per_epoch=0`` an epoch is one pass over the larger set of
        images counted in crop-sized tiles: ``ceil(max(tiles_A, tiles_B) /
        batch_size)`` steps, where an image holds ``(y // crop) * (x //
        crop)`` tiles (at least 1).

    Returns
    -------
    CycleGANResult
        Restorer (``G_AB``), networks, history, paths, wall time.

    Raises
    ------
    ValueError
        No images, bad settings or profile; when resuming, settings other
        than the epochs changed, or other images.
    ImageError
        An image that is not 2-D, constant or not finite (named by its
        index).
    FileExistsError
        ``model_dir`` holds a model and neither ``resume`` nor
        ``overwrite`` is set, or holds files that are not a CycleGAN's.
    FileNotFoundError
        ``resume`` without a finished epoch in ``model_dir``.
    ModelError
        ``resume`` on a folder that is not a CycleGAN model folder.

    Examples
    --------
    >>> result = train_cyclegan(inputs, targets, "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    >>> result.restorer.restore(inputs[0]).shape  # doctest: +SKIP
    (256, 256)
    """
    inputs = _check_images(inputs, "inputs")
    targets = _check_images(targets, "targets")
    model_dir = Path(model_dir)
    record = CycleGANRecord(model_dir)
    data_info = {
        "n_inputs": len(inputs),
        "n_targets": len(targets),
        "input_shapes": [list(img.shape) for img in inputs],
        "target_shapes": [list(img.shape) for img in targets],
    }

    if resume:
        info = record.read_cyclegan_info()
        record.check_resumable()
        settings = dict(info["settings"])
        for key, value in overrides.items():
            if key not in settings:
                raise ValueError(f"unknown CycleGAN setting {key!r}; known: {', '.join(settings)}")
            if value is None or key in ("n_epochs", "n_epochs_decay"):
                continue
            if _setting_value(key, value, settings[key]) != settings[key]:
                raise ValueError(
                    f"cannot change {key!r} when resuming (stored: {settings[key]!r}, given: "
                    f"{value!r}); only n_epochs and n_epochs_decay may change"
                )
        for key in ("n_epochs", "n_epochs_decay"):
            if overrides.get(key) is not None:
                settings[key] = _setting_value(key, overrides[key], settings[key])
        _check_settings(settings)
        stored = info.get("data", {})
        for key in ("input_shapes", "target_shapes"):
            if stored.get(key) is not None and stored[key] != data_info[key]:
                raise ValueError(
                    f"{model_dir}: the {key.split('_')[0]} images differ from those of the stored "
                    f"run ({len(stored[key])} images of shapes {_shapes(stored[key])}, given "
                    f"{len(data_info[key])} of shapes {_shapes(data_info[key])}); resume with the "
                    "same images"
                )
        if prefilter_sigma is not None and float(prefilter_sigma) != (info.get("prefilter_sigma") or 0.0):
            raise ValueError(
                f"cannot change prefilter_sigma when resuming (stored: {info.get('prefilter_sigma')}, "
                f"given: {prefilter_sigma})"
            )
        seed, profile = int(info["seed"]), info["profile"]
        percentiles, prefilter_sigma = tuple(info["percentiles"]), info.get("prefilter_sigma")
        state = record.read_state()
    else:
        settings = cyclegan_settings(profile, **overrides)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if prefilter_sigma is not None and not float(prefilter_sigma) >= 0:
            raise ValueError(f"prefilter_sigma must not be negative, got {prefilter_sigma}")
        prefilter_sigma = float(prefilter_sigma) if prefilter_sigma else None
        if not (0 <= percentiles[0] < percentiles[1] <= 100):
            raise ValueError(f"percentiles must satisfy 0 <= pmin < pmax <= 100, got {percentiles}")
        if record.path("info").is_file():
            try:
                other = record.read_info().get("method")
            except ModelError:
                other = "unreadable"
            if other != "cyclegan":
                raise FileExistsError(
                    f"{model_dir}: holds another model ({TRAINING_JSON} of "
                    f"{other or 'a CARE network'}); choose another folder"
                )
        foreign = record.foreign_files()
        if foreign:
            raise FileExistsError(
                f"{model_dir}: holds {', '.join(foreign)}, which no CycleGAN training writes; "
                "a model folder holds only its model's files: move them, or choose another folder"
            )
        if record.holds_model() and not overwrite:
            raise FileExistsError(
                f"{model_dir}: already holds a model; choose another folder, continue it "
                "(resume=True, l2l train --resume) or replace it (overwrite=True)"
            )
        info = {
            "method": "cyclegan",
            "l2l_version": None,
            "versions": None,
            "profile": profile,
            "seed": int(seed),
            "settings": settings,
            "percentiles": [float(p) for p in percentiles],
            "prefilter_sigma": prefilter_sigma,
            "input_name": str(input_name),
            "target_name": str(target_name),
            "generators": {"G_AB": f"{input_name} -> {target_name}", "G_BA": f"{target_name} -> {input_name}"},
            "data": data_info,
            "metadata": metadata or {},
            "epochs_done": 0,
            "seconds": 0.0,
        }
        state = None

    from l2l_helpers.course._quiet_tf import filtered_stderr
    from l2l_helpers.course.progress import progress as tqdm
    from l2l_helpers.training.seeding import seeded

    A = [to_model_range(img, percentiles, prefilter_sigma) for img in inputs]
    B = [to_model_range(img, percentiles, prefilter_sigma) for img in targets]
    seq = np.random.SeedSequence(int(seed))
    net_seq, data_seq, pool_a_seq, pool_b_seq = seq.spawn(4)
    rng = np.random.default_rng(data_seq)
    sampler_A = _CropSampler(A, settings["crop_size"], rng)
    sampler_B = _CropSampler(B, settings["crop_size"], rng)
    pools = {
        "A": ImagePool(settings["pool_size"], np.random.default_rng(pool_a_seq)),
        "B": ImagePool(settings["pool_size"], np.random.default_rng(pool_b_seq)),
    }
    steps = int(settings["steps_per_epoch"]) or math.ceil(
        max(sampler_A.n_tiles(), sampler_B.n_tiles()) / settings["batch_size"]
    )
    total_epochs = settings["n_epochs"] + settings["n_epochs_decay"]
    batch = int(settings["batch_size"])

    if not resume:
        record.clear()  # overwrite: nothing of an earlier run is left stale
    t0 = time.perf_counter()
    with seeded(int(seed), deterministic=True, clear_session=True):
        gan = _CycleGAN(settings, net_seq)
        if resume:
            gan.load_weights(model_dir)
            if not record.load_optimizer(gan.optimizers, None):
                raise ModelError(f"{model_dir}: {OPTIMIZER_NPZ} is missing or does not fit the networks")
            _load_pools(model_dir, pools, state["pools_rng"])
            rng.bit_generator.state = state["data_rng"]
            start = int(state["epochs_done"])
            record.truncate_history(start)
            old = record.read_history()
            history = [{k: old[k][i] for k in old} for i in range(len(old.get("epoch", [])))]
        else:
            info["versions"] = _versions()
            info["l2l_version"] = info["versions"]["l2l_helpers"]
            record.write_info(info)
            start, history = 0, []
        seconds_before = float(info.get("seconds") or 0.0)
        bar = tqdm(
            total=max(0, total_epochs - start) * steps, desc="CycleGAN", unit="step", disable=not progress, leave=True
        )
        try:
            for epoch in range(start, total_epochs):
                t_epoch = time.perf_counter()
                lr = settings["learning_rate"] * learning_rate_factor(
                    epoch, settings["n_epochs"], settings["n_epochs_decay"]
                )
                gan.set_learning_rate(lr)
                sums = {}
                for step in range(steps):
                    real_A, real_B = sampler_A.sample(batch), sampler_B.sample(batch)
                    # the first step builds the graphs: hide TensorFlow's C++ notices of that (_quiet_tf)
                    with filtered_stderr() if epoch == start and step == 0 else contextlib.nullcontext():
                        fake_A, fake_B, g_losses = gan.g_step(real_A, real_B)
                        pooled_B = pools["B"].query(fake_B.numpy())
                        pooled_A = pools["A"].query(fake_A.numpy())
                        d_losses = gan.d_step(real_A, real_B, pooled_A, pooled_B)
                    for key, value in {**g_losses, **d_losses}.items():
                        sums[key] = sums.get(key, 0.0) + float(value)
                    bar.update(1)
                    bar.set_postfix_str(
                        f"epoch {epoch + 1}/{total_epochs} G {float(g_losses['G']):.3f} "
                        f"D_A {float(d_losses['D_A']):.3f} D_B {float(d_losses['D_B']):.3f}"
                    )
                row = {
                    "epoch": epoch + 1,
                    "lr": lr,
                    **{k: v / steps for k, v in sums.items()},
                    "seconds": time.perf_counter() - t_epoch,
                }
                history.append(row)
                # checkpoint: networks, optimizers, pools, history, then the state that says the epoch is done
                gan.save_weights(model_dir)
                record.save_optimizer(gan.optimizers)
                _save_pools(model_dir, pools)
                record.write_history(history)
                info["epochs_done"] = epoch + 1
                info["seconds"] = seconds_before + time.perf_counter() - t0
                record.write_info(info)
                CycleGANRestorer(gan.nets["G_AB"], info, name=model_dir.name).save(model_dir)
                record.write_state(
                    {
                        "epochs_done": epoch + 1,
                        "data_rng": rng.bit_generator.state,
                        "pools_rng": {k: p.rng.bit_generator.state for k, p in pools.items()},
                    }
                )
                for callback in callbacks or ():
                    callback(epoch + 1, dict(row))
        finally:
            bar.close()
        if resume and info["settings"] != settings:
            info["settings"] = settings
            record.write_info(info)
    seconds = time.perf_counter() - t0
    restorer = CycleGANRestorer(gan.nets["G_AB"], info, name=model_dir.name)
    return CycleGANResult(
        restorer=restorer,
        networks=dict(gan.nets),
        history=record.read_history(),
        model_dir=model_dir,
        paths=record.paths,
        seconds=seconds,
    )


def _shapes(shapes):
    unique = sorted({tuple(s) for s in shapes})
    return ", ".join("x".join(map(str, s)) for s in unique[:3]) + (" ..." if len(unique) > 3 else "")


def train_from_folders(
    input_dir,
    target_dir,
    model_dir,
    profile="workshop",
    seed=0,
    resume=False,
    prefilter_sigma=None,
    progress=True,
    overwrite=False,
    percentiles=DEFAULT_PERCENTILES,
    **overrides,
):
    """Train a CycleGAN on two folders of unpaired images (what ``l2l train --method cyclegan`` runs).

    Every TIFF of both folders is read (:func:`l2l_helpers.data.io.load_folder`)
    before anything else happens; the folders need not hold the same
    number of images nor the same names. The folders and file names are
    recorded (``metadata.data`` of ``l2l_training.json``).

    Parameters
    ----------
    input_dir : str or Path
        Folder of input images (domain A).
    target_dir : str or Path
        Folder of target images (domain B).
    model_dir : str or Path
        Model folder.
    profile, seed, resume, prefilter_sigma, progress, overwrite, percentiles, **overrides
        See :func:`train_cyclegan`; ``None`` values are ignored.

    Returns
    -------
    CycleGANResult

    Raises
    ------
    ImageError
        A missing or empty folder, an unreadable or bad image (named).
    ValueError, FileExistsError, FileNotFoundError, ModelError
        See :func:`train_cyclegan`; when resuming, also folders whose file
        names differ from the stored run's.

    Examples
    --------
    >>> result = train_from_folders("data/actin/input", "data/actin_other/benchmark",
    ...                             "models/actin_cyclegan", profile="quick")  # doctest: +SKIP
    """
    from l2l_helpers.data.io import load_folder

    input_dir, target_dir = Path(input_dir), Path(target_dir)
    input_names, inputs = load_folder(input_dir)
    target_names, targets = load_folder(target_dir)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if resume:
        stored = CycleGANRecord(model_dir).read_cyclegan_info().get("metadata", {}).get("data", {})
        for key, names, folder in (
            ("input_images", input_names, input_dir),
            ("target_images", target_names, target_dir),
        ):
            if stored.get(key) is not None and list(stored[key]) != list(names):
                raise ValueError(
                    f"{folder}: its images differ from those of the stored run ({len(stored[key])} "
                    f"images, first {stored[key][:3]}; now {len(names)}, first {names[:3]}); "
                    "resume with the same images"
                )
    data = {
        "input_dir": str(input_dir),
        "target_dir": str(target_dir),
        "input_images": input_names,
        "target_images": target_names,
    }
    return train_cyclegan(
        inputs,
        targets,
        model_dir,
        profile=profile,
        seed=seed,
        resume=resume,
        prefilter_sigma=prefilter_sigma,
        progress=progress,
        overwrite=overwrite,
        percentiles=percentiles,
        input_name=input_dir.name,
        target_name=target_dir.name,
        metadata={"data": data},
        **overrides,
    )


# --- restorer -------------------------------------------------------------------------------------


@register_restorer
class CycleGANRestorer(Restorer):
    """A trained CycleGAN generator as a restorer (kind ``"cyclegan"``).

    An image is prepared as in training (:func:`to_model_range`: the
    recorded Gaussian pre-filter, percentile normalisation, [-1, 1]),
    padded by reflection to a multiple of 4 (at least 16), translated by
    the generator and mapped back to [0, 1] (:func:`from_model_range`), the
    target domain's range: 0 and 1 are the normalisation percentiles of a
    target image. Images of more than
    :data:`~l2l_helpers.restoring.restorers.MAX_TILE_PIXELS` pixels are translated in
    overlapping tiles (:func:`~l2l_helpers.restoring.restorers.auto_tiles`) that are
    blended with linear ramps over the overlap.

    Parameters
    ----------
    network : keras.Model
        The generator (:func:`build_generator`).
    info : dict
        Its training record (``l2l_training.json``): percentiles,
        pre-filter, settings, ...
    generator : {"G_AB", "G_BA"}
        Which generator this is: ``"G_AB"`` (input -> target, the default)
        or ``"G_BA"`` (target -> input).
    n_tiles : tuple of int, optional
        Tiles along y and x (default: :func:`auto_tiles`).
    name : str, optional
        Display name (default: ``"cyclegan"``).

    Attributes
    ----------
    network : keras.Model
        The generator.
    params : dict
        The training record, plus ``generator`` (and ``n_tiles`` if given).

    Examples
    --------
    >>> restorer = CycleGANRestorer.load("models/actin_cyclegan")  # doctest: +SKIP
    >>> restorer.restore(image).shape  # doctest: +SKIP
    (100, 130)
    >>> g = build_generator(n_blocks=1, n_first=4)
    >>> CycleGANRestorer(g, {"percentiles": [2, 99.8]}).restore(np.random.default_rng(0).random((20, 30))).shape
    (20, 30)
    """

    kind = "cyclegan"

    def __init__(self, network, info, generator="G_AB", n_tiles=None, name=None):
        if generator not in ("G_AB", "G_BA"):
            raise ValueError(f"generator must be 'G_AB' or 'G_BA', got {generator!r}")
        if n_tiles is not None and len(tuple(n_tiles)) != 2:
            raise ValueError(f"n_tiles must give tiles along y and x, got {n_tiles}")
        self.network = network
        self.n_tiles = tuple(int(t) for t in n_tiles) if n_tiles is not None else None
        params = {**dict(info or {}), "generator": generator}
        if self.n_tiles is not None:
            params["n_tiles"] = list(self.n_tiles)
        super().__init__(name=name, **params)

    @classmethod
    def load(cls, folder, generator="G_AB", n_tiles=None, name=None):
        """Load a generator of a CycleGAN model folder.

        Parameters
        ----------
        folder : str or Path
            Model folder from :func:`train_cyclegan` (or ``l2l train
            --method cyclegan``).
        generator : {"G_AB", "G_BA"}
            Which generator (default: input -> target).
        n_tiles : tuple of int, optional
            See the class.
        name : str, optional
            Display name (default: the folder's name).

        Returns
        -------
        CycleGANRestorer

        Raises
        ------
        ModelError
            If the folder is not a CycleGAN model folder, or has no (usable)
            weights.

        Examples
        --------
        >>> CycleGANRestorer.load("models/actin_cyclegan", generator="G_BA")  # doctest: +SKIP
        """
        folder = Path(folder)
        record = CycleGANRecord(folder)
        try:
            info = record.read_cyclegan_info()
        except FileNotFoundError as exc:
            raise ModelError(str(exc)) from exc
        if generator not in ("G_AB", "G_BA"):
            raise ValueError(f"generator must be 'G_AB' or 'G_BA', got {generator!r}")
        path = folder / WEIGHT_FILES[generator]
        if not path.is_file():
            raise ModelError(
                f"{folder}: no {WEIGHT_FILES[generator]}; was the training interrupted before its first epoch?"
            )
        s = info.get("settings", {})
        try:
            network = build_generator(int(s["gen_n_blocks"]), int(s["gen_n_first"]), init_gain=None, name=generator)
            network.load_weights(str(path))
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{folder / TRAINING_JSON}: no generator settings ({exc})") from exc
        except Exception as exc:  # noqa: BLE001 - truncated file, other network
            raise ModelError(f"{path}: cannot load the weights ({type(exc).__name__}: {exc})") from exc
        return cls(network, info, generator=generator, n_tiles=n_tiles, name=name if name is not None else folder.name)

    @classmethod
    def from_folder(cls, folder, record):  # noqa: D102 - see Restorer.from_folder
        params = record.get("params") or {}
        return cls.load(
            folder, generator=params.get("generator", "G_AB"), n_tiles=params.get("n_tiles"), name=record.get("name")
        )

    def save(self, folder):
        """Write ``l2l_restorer.json``; into another folder than the model's, also the record and weights.

        Parameters
        ----------
        folder : str or Path
            The folder. A folder other than the one the generator was loaded
            from gets ``l2l_training.json`` and the generator's weights.

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> CycleGANRestorer.load("models/actin_cyclegan").save("models/copy")  # doctest: +SKIP
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        record = CycleGANRecord(folder)
        if not record.path("info").is_file():
            info = {k: v for k, v in self.params.items() if k not in ("generator", "n_tiles")}
            record.write_info(info)
        weights = folder / WEIGHT_FILES[self.params["generator"]]
        if not weights.is_file():
            self.network.save_weights(str(weights))
        return super().save(folder)

    def _predict(self, x):
        """Generator on one [-1, 1] image of any size: reflect-pad to a multiple of 4, translate, crop."""
        h, w = x.shape
        th, tw = (max(_MIN_SIZE, -(-n // 4) * 4) for n in (h, w))
        if (th, tw) != (h, w):
            x = np.pad(x, ((0, th - h), (0, tw - w)), mode="reflect" if min(h, w) > 1 else "edge")
        out = self.network(x[np.newaxis, ..., np.newaxis], training=False)
        return np.asarray(out)[0, :h, :w, 0]

    def _restore(self, image):
        percentiles = tuple(self.params.get("percentiles", DEFAULT_PERCENTILES))
        x = to_model_range(image, percentiles, self.params.get("prefilter_sigma"))
        ny, nx = self.n_tiles if self.n_tiles is not None else auto_tiles(x.shape, MAX_TILE_PIXELS)
        if (ny, nx) == (1, 1):
            return from_model_range(self._predict(x))
        return from_model_range(_tiled(self._predict, x, ny, nx))


def _tiled(predict, x, ny, nx):
    """Predict in ``ny`` x ``nx`` overlapping tiles, blended with linear ramps over the overlaps."""
    h, w = x.shape
    out = np.zeros((h, w), np.float64)
    weight = np.zeros((h, w), np.float64)
    ys = np.linspace(0, h, ny + 1).round().astype(int)
    xs = np.linspace(0, w, nx + 1).round().astype(int)
    my = min(64, max(8, (ys[1] - ys[0]) // 4))  # margin: overlap on each side of a tile
    mx = min(64, max(8, (xs[1] - xs[0]) // 4))
    for i in range(ny):
        for j in range(nx):
            y0, y1 = max(0, ys[i] - my), min(h, ys[i + 1] + my)
            x0, x1 = max(0, xs[j] - mx), min(w, xs[j + 1] + mx)
            pred = predict(x[y0:y1, x0:x1])
            # weight: distance to the tile's edges (plus 1), except at the image's own borders
            wy = np.minimum(
                np.arange(y1 - y0) + 1 if y0 > 0 else np.inf, (y1 - y0 - np.arange(y1 - y0)) if y1 < h else np.inf
            )
            wx = np.minimum(
                np.arange(x1 - x0) + 1 if x0 > 0 else np.inf, (x1 - x0 - np.arange(x1 - x0)) if x1 < w else np.inf
            )
            wy = np.minimum(np.broadcast_to(wy, (y1 - y0,)), my + 1)
            wx = np.minimum(np.broadcast_to(wx, (x1 - x0,)), mx + 1)
            wt = np.outer(wy, wx)
            out[y0:y1, x0:x1] += wt * pred
            weight[y0:y1, x0:x1] += wt
    return (out / weight).astype(np.float32)
