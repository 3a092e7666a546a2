"""The CycleGAN's networks: the reference's ResNet generator and PatchGAN discriminator in Keras 3.

Where Keras' defaults differ from PyTorch's, PyTorch's behaviour is kept:
instance normalisation is ``GroupNormalization(groups=-1, epsilon=1e-5,
center=False, scale=False)`` (``InstanceNorm2d(affine=False)``), stride-2
convolutions pad 1 pixel of zeros and use ``"valid"`` padding, a transposed
convolution (PyTorch ``padding=1, output_padding=1``) is computed with
``"valid"`` padding and loses its first row and column.

Keras (and so TensorFlow) is imported only when a network or layer is built.
"""

from __future__ import annotations

import numpy as np

__all__ = ["reflection_padding", "instance_norm", "build_generator", "build_discriminator", "init_weights"]

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
