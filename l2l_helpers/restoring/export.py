"""Export a trained CARE network to the BioImage Model Zoo format (bioimage.io model package, spec 0.5).

A bioimage.io package is one ``.zip`` file that Fiji (deepImageJ), napari,
ilastik, QuPath and the ``bioimageio`` command read and apply. It holds the
description ``rdf.yaml`` and everything it names::

    model.zip
        rdf.yaml                 the description (spec 0.5): inputs, outputs, preprocessing, weights, ...
        README.md                the model card: what it was trained on, the loss, the record, what to cite
        weights.keras            Keras 3 weights (the network without its compiled loss and metrics)
        weights.onnx             the same network as ONNX (for deepImageJ, ilastik, QuPath, onnxruntime)
        test_input.npy           an image and its restoration, (batch, y, x, channel) float32: every
        test_output.npy          consumer checks that it reproduces the output
        cover.png                input | restoration
        l2l_training.json        the training record, and history.csv, attached

The package's network takes **one** input channel (the input label) in
any size divisible by ``2**unet_n_depth``; a network trained on several
targets, whose CARE input repeats the input label on every channel, gets a
layer that does the repeating, so a consumer gives it a one-channel image.
Its preprocessing is the percentile normalisation of training
(``l2l_training.json``: ``percentiles``), expressed as the spec's
``scale_range`` operation (or, for a network trained with
``input_normalization="mean_std"``, as ``zero_mean_unit_variance``), so
every consumer normalises the image itself;
the output is in the *normalised target scale*, as :class:`CARERestorer
<l2l_helpers.restoring.restorers.CARERestorer>` gives it (0 and 1 are the ``pmin``
and ``pmax`` percentiles of a training target). The only difference to
``CARERestorer``: ``scale_range`` divides by ``p_high - p_low + 1e-6``,
CSBDeep by ``p_high - p_low + 1e-20``.

This module needs the optional extra ``export``
(``pip install l2l-helpers[export]``: ``bioimageio.core``, ``onnx``,
``onnxruntime``, ``tf2onnx``); without it :func:`export_bioimageio` raises
an ``ImportError`` that says so. TensorFlow and bioimageio are imported
inside the functions only.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from l2l_helpers.course._quiet_tf import tf_warnings_hidden as _tf_warnings_hidden
from l2l_helpers.data.io import ModelError

__all__ = [
    "EXPORT_EXTRA_HINT",
    "PAPER_CITATION",
    "CARE_CITATION",
    "DEFAULT_AUTHOR",
    "WEIGHT_FORMATS",
    "EXPORT_EXTRA_HINT",
    "export_available",
    "export_bioimageio",
    "test_package",
    "package_summary",
    "keras_model_for_export",
    "default_test_image",
]

#: What to install when the export's packages are missing.
EXPORT_EXTRA_HINT = (
    "the export to bioimage.io needs the optional extra 'export': "
    "pip install 'l2l-helpers[export]' (bioimageio.core, onnx, onnxruntime, tf2onnx)"
)

#: The label2label paper (cited by every package).
PAPER_CITATION = {
    "text": "Kölln L.S., Salem O., Valli J., Hansen C.G., McConnell G. (2022). Label2label: training "
    "a neural network to selectively restore cellular structures in fluorescence microscopy. "
    "Journal of Cell Science 135(3), jcs258994.",
    "doi": "10.1242/jcs.258994",
}
#: CARE and CSBDeep, whose U-Net the network is.
CARE_CITATION = {
    "text": "Weigert M. et al. (2018). Content-aware image restoration: pushing the limits of "
    "fluorescence microscopy. Nature Methods 15, 1090-1097.",
    "doi": "10.1038/s41592-018-0216-7",
}
#: Author named when none is given (replace it with yourself: ``authors=["Your Name"]``).
DEFAULT_AUTHOR = "label2label course participant"
#: Weight formats a package can hold, in the order written (the first has no parent).
WEIGHT_FORMATS = ("keras_v3", "onnx")

_INPUT_ID = "input"
_OUTPUT_ID = "output"
_TEST_INPUT = "test_input.npy"
_TEST_OUTPUT = "test_output.npy"
_KERAS_FILE = "weights.keras"
_ONNX_FILE = "weights.onnx"
_COVER = "cover.png"
_README = "README.md"


def _tensorflow_keras_for_bioimageio():
    """Tell bioimageio.core that Keras runs on TensorFlow here.

    When ``KERAS_BACKEND`` is unset, bioimageio.core sets it to ``"torch"`` in
    ``os.environ`` as it loads Keras weights: for this whole process and every
    process it starts afterwards (a Jupyter kernel, a Dask worker), where
    Keras then fails without PyTorch. This package runs Keras on TensorFlow
    (CSBDeep needs it), so the variable is set to that first, unless the user
    chose a backend. Called before and after bioimageio.core's own calls,
    since it may have been imported (and have read the variable) earlier.
    """
    keras = sys.modules.get("keras")
    if keras is not None:  # Keras is loaded: children must run it on the backend it runs on here
        os.environ["KERAS_BACKEND"] = keras.backend.backend()
    else:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    settings = sys.modules.get("bioimageio.core._settings")
    if settings is not None:  # imported earlier: it read the variable then
        try:
            settings.settings.keras_backend = os.environ["KERAS_BACKEND"]
        except Exception:  # noqa: BLE001 - a future, frozen settings object: the variable still counts
            pass


#: Modules of the optional ``export`` extra.
_EXTRA_MODULES = ("bioimageio.core", "bioimageio.spec", "onnx", "onnxruntime", "tf2onnx")


def export_available():
    """Whether the optional ``export`` extra is installed (checked without importing it).

    Returns
    -------
    bool
        True when bioimageio.core, bioimageio.spec, onnx, onnxruntime and
        tf2onnx can be imported; otherwise :data:`EXPORT_EXTRA_HINT` says
        what to install (a notebook prints it instead of failing).

    Examples
    --------
    >>> isinstance(export_available(), bool)
    True
    """
    import importlib.util

    try:
        return all(importlib.util.find_spec(name) is not None for name in _EXTRA_MODULES)
    except (ImportError, ValueError):  # a parent package missing or broken
        return False


def _require_extra():
    _tensorflow_keras_for_bioimageio()
    try:
        import bioimageio.core  # noqa: F401
        import bioimageio.spec  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{EXPORT_EXTRA_HINT} ({exc})") from exc


def default_test_image(size=128, seed=0):
    """A simulated actin cell (the input label), used as test image when none is given.

    Parameters
    ----------
    size : int
        Height and width in pixels.
    seed : int
        Seed of the simulation.

    Returns
    -------
    ndarray of float32
        A 2-D image.

    Examples
    --------
    >>> default_test_image(size=64).shape
    (64, 64)
    """
    from l2l_helpers.data.simulate import simulate_cell

    return np.asarray(simulate_cell("actin", size=size, seed=seed)["input"], dtype=np.float32)


def _scale_range(image, pmin, pmax, eps=1e-6):
    # the spec's scale_range preprocessing (bioimageio.core: linear quantiles over y and x of one sample)
    lo, hi = np.percentile(image, [pmin, pmax])
    return ((image - lo) / (hi - lo + eps)).astype(np.float32)


def _mean_std(info):
    # the network's inputs were standardised (records of earlier versions: percentiles)
    return info.get("input_normalization", "percentile") == "mean_std"


def _preprocessed(image, info):
    # what the exported model's preprocessing does to one image (the test input's expected network input)
    from l2l_helpers.training.prepare import standardize

    if _mean_std(info):
        return standardize(image)  # the spec's zero_mean_unit_variance over y and x, eps 1e-6
    pmin, pmax = (float(p) for p in info.get("percentiles", (2.0, 99.8)))
    return _scale_range(image, pmin, pmax)


def keras_model_for_export(model):
    """The network of a CARE model as an uncompiled Keras model with one input channel.

    CSBDeep's network of ``k`` targets takes the input label repeated on
    ``k`` channels; the exported network repeats it itself (a
    ``Concatenate`` layer), so a consumer gives it one channel. It is not
    compiled: a saved loss or metric (``l2l_helpers.training.losses``, CSBDeep's
    ``mse``) would be a custom object the zoo's Keras loader cannot
    resolve.

    Parameters
    ----------
    model : csbdeep.models.CARE
        A loaded network (:func:`l2l_helpers.training.train.load_model`).

    Returns
    -------
    keras.Model
        ``(batch, y, x, 1)`` in, ``(batch, y, x, k)`` out, same weights.

    Examples
    --------
    >>> from l2l_helpers.training.train import load_model  # doctest: +SKIP
    >>> keras_model_for_export(load_model("models/actin_l2l")).input_shape  # doctest: +SKIP
    (None, None, None, 1)
    """
    import keras

    net = model.keras_model
    k = int(model.config.n_channel_in)
    inp = keras.Input(shape=(None, None, 1), name=_INPUT_ID)
    x = keras.layers.Concatenate(axis=-1, name="repeat_input")([inp] * k) if k > 1 else inp
    return keras.Model(inp, net(x), name="l2l_care")


def _min_size(step, halo):
    """Smallest input size of the package: a multiple of ``step`` larger than twice the halo."""
    return step * max(1, -(-2 * halo // step) + 1)


def _crop_to_step(image, step, min_size):
    h, w = (int(n) // step * step for n in image.shape)
    if h < min_size or w < min_size:
        raise ValueError(
            f"test image of shape {image.shape} is smaller than the network's smallest input, "
            f"{min_size} x {min_size} pixels"
        )
    return image[:h, :w]


def _cover(image, restored, path):
    from matplotlib.image import imsave  # no figure, so the backend does not matter

    def scaled(a):
        lo, hi = np.percentile(a, [1, 99.8])
        return np.clip((a - lo) / (hi - lo + 1e-12), 0, 1)

    panels = [scaled(image)] + [scaled(restored[..., c]) for c in range(restored.shape[-1])]
    gap = np.ones((image.shape[0], max(2, image.shape[1] // 32)))
    row = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    imsave(path, row, cmap="magma", vmin=0, vmax=1)


def _history_lines(history):
    if not history or not history.get("epoch"):
        return ["(no history recorded)"]
    keys = [k for k in ("loss", "val_loss") if k in history]
    lines = ["| epoch | " + " | ".join(keys) + " |", "| --- |" + " --- |" * len(keys)]
    for i, epoch in enumerate(history["epoch"]):
        lines.append(f"| {epoch} | " + " | ".join(f"{history[k][i]:.4g}" for k in keys) + " |")
    return lines


def _readme(name, description, info, history, k, halo, step, min_size, cite, simulated):
    settings = info.get("settings", {})
    targets = list(info.get("target_names") or [])
    pmin, pmax = info.get("percentiles", (2.0, 99.8))
    val = info.get("validation_images")
    train = info.get("train_images")
    lines = [
        f"# {name}",
        "",
        description,
        "",
        "## What it does",
        "",
        "A CARE U-Net (CSBDeep) trained with **label2label** (L2L): the input is an image of the lower-contrast "
        f"label **`{info.get('input_name', 'input')}`**, the training target{'s were' if k > 1 else ' was'} "
        + ", ".join(f"**`{t}`**" for t in targets)
        + " (another label of the same structure, imaged at once). "
        "The network keeps the structure both labels share and drops noise and the input label's "
        "unspecific cytosolic background.",
        "",
        "## Input and output",
        "",
        f"- Input `{_INPUT_ID}`: one 2-D single-channel image (axes batch, y, x, channel), float32, height and "
        f"width any multiple of {step} pixels (at least {min_size}).",
        (
            "- Preprocessing (done by every bioimage.io consumer): `zero_mean_unit_variance` over each image "
            "(zero mean, unit variance), as in training."
            if _mean_std(info)
            else "- Preprocessing (done by every bioimage.io consumer): percentile normalisation, `scale_range` "
            f"with the "
            f"{pmin} and {pmax} percentiles of each image, as in training."
        ),
        f"- Output `{_OUTPUT_ID}`: {k} channel{'s' if k > 1 else ''} ("
        + ", ".join(targets)
        + "), in the *normalised target scale*: 0 and 1 are the "
        f"{pmin} and {pmax} percentiles of a training target. No postprocessing.",
        f"- Large images: predict in tiles with a halo of {halo} pixels (the network's receptive field).",
        "",
        "## Training",
        "",
        f"- Loss: `{info.get('loss')}`; profile `{info.get('profile')}`; seed {info.get('seed')}.",
        f"- Network: depth {settings.get('unet_n_depth')}, {settings.get('unet_n_first')} first filters, "
        f"kernel {settings.get('unet_kern_size')}; {settings.get('epochs')} epochs x "
        f"{settings.get('steps_per_epoch')} steps, batch {settings.get('batch_size')}, learning rate "
        f"{settings.get('learning_rate')} (Adam).",
        f"- Patches: {info.get('patch_size')} px; {info.get('n_train')} for training, {info.get('n_val')} for "
        "validation.",
        f"- Training images: {', '.join(train) if train else 'not recorded'}.",
        f"- Validation images (by image: no patch of them was trained on): "
        f"{', '.join(val) if val else 'not recorded'}.",
        "- The full record is attached: `l2l_training.json` (settings, split, versions) and `history.csv`.",
        "",
        "Loss per epoch:",
        "",
        *_history_lines(history),
        "",
        "## Limitations",
        "",
        "- Apply it only to images of the same input label, microscope and pixel size as the training images; "
        "a network restores what it was trained on and can invent structure elsewhere (hallucination).",
        "- The output is a prediction of the target label, not a measurement: check it against raw data before "
        "quantifying, and compare with a ground truth where one exists.",
        "- Intensities are normalised per image ("
        + ("mean and standard deviation" if _mean_std(info) else "percentiles")
        + "): absolute intensities are not comparable between restored images.",
        "- The test image of this package "
        + (
            "is a simulated cell (l2l_helpers.data.simulate), not an image of the training data."
            if simulated
            else "was given at export."
        ),
        "",
        "## Cite",
        "",
        *[f"- {c['text']} " + (f"https://doi.org/{c['doi']}" if c.get("doi") else c.get("url", "")) for c in cite],
        "",
        "Exported with `l2l_helpers` (label2label course, `l2l export`).",
        "",
    ]
    return "\n".join(lines)


def _cite_entries(cite):
    from bioimageio.spec.model.v0_5 import CiteEntry, Doi, HttpUrl
    from pydantic import ValidationError

    entries = []
    for c in cite:
        kwargs = {"text": c["text"]}
        try:
            if c.get("doi"):
                kwargs["doi"] = Doi(c["doi"])
            elif c.get("url"):
                kwargs["url"] = HttpUrl(c["url"])
            else:
                raise ValueError(f"citation {c['text']!r}: give a DOI (10.xxxx/...) or a URL")
            entries.append(CiteEntry(**kwargs))
        except ValidationError as exc:
            ref = c.get("doi") or c.get("url")
            raise ValueError(
                f"citation {c['text']!r}: {ref!r} is not a DOI (10.xxxx/...) or an http(s) URL "
                f"({exc.errors()[0]['msg']})"
            ) from exc
    return entries


def export_bioimageio(
    model_dir,
    out_path,
    name=None,
    description=None,
    authors=None,
    cite=(),
    license="CC-BY-4.0",
    test_image=None,
    weight_formats=WEIGHT_FORMATS,
    weights="best",
    overwrite=False,
):
    """Write a bioimage.io model package (spec 0.5) of a trained CARE model folder.

    Parameters
    ----------
    model_dir : str or Path
        A model folder from ``l2l train`` / :func:`l2l_helpers.training.train.train_model`
        (one or more output channels).
    out_path : str or Path
        The ``.zip`` file to write.
    name : str, optional
        Human-readable name (default: ``label2label <folder name>``).
    description : str, optional
        One or two sentences (default: made from the training record).
    authors : sequence of str, optional
        Who trained the network (default: :data:`DEFAULT_AUTHOR`).
    cite : sequence of dict, optional
        Further citations, ``{"text": ..., "doi": "10.xxxx/..."}`` or
        ``{"text": ..., "url": "https://..."}``; the label2label paper
        (:data:`PAPER_CITATION`) and CARE are always cited.
    license : str
        SPDX licence identifier of the weights.
    test_image : array_like or str or Path, optional
        A 2-D image of the input label (or a TIFF file): the package's test
        input and its cover (cropped to a multiple of ``2**unet_n_depth``).
        Default: a simulated actin cell (:func:`default_test_image`); give
        one of your own data for a meaningful cover.
    weight_formats : sequence of str
        Any of :data:`WEIGHT_FORMATS` (``keras_v3`` is always written).
    weights : {"best", "last"}
        Which weights of the folder.
    overwrite : bool
        Replace an existing ``out_path``.

    Returns
    -------
    Path
        The package written.

    Raises
    ------
    ModelError
        If ``model_dir`` is not a trained CARE model folder.
    FileExistsError
        If ``out_path`` exists and ``overwrite`` is False.
    ValueError
        Bad weight formats, a citation without a valid DOI or URL, a test
        image that is not 2-D or too small, or a description that the spec
        rejects (the message lists what is wrong).
    ImportError
        Without the ``export`` extra (:data:`EXPORT_EXTRA_HINT`).

    Examples
    --------
    >>> export_bioimageio("models/actin_l2l", "actin_l2l.zip", authors=["Ada Lovelace"])  # doctest: +SKIP
    PosixPath('actin_l2l.zip')
    """
    model_dir, out_path = Path(model_dir), Path(out_path)
    unknown = sorted(set(weight_formats) - set(WEIGHT_FORMATS))
    if unknown:
        raise ValueError(f"unknown weight formats {unknown}; choose from {', '.join(WEIGHT_FORMATS)}")
    if out_path.suffix.lower() != ".zip":
        raise ValueError(f"{out_path}: a bioimage.io package is a .zip file")
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path}: exists; choose another file or overwrite it (--overwrite)")
    from l2l_helpers.training.record import TrainingRecord

    record = TrainingRecord(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: model folder does not exist")
    info = record.read_info()  # ModelError if not a model folder
    _require_extra()
    cites = [PAPER_CITATION, CARE_CITATION, *[dict(c) for c in cite]]
    cite_entries = _cite_entries(cites)  # bad DOIs or URLs stop the export before anything is computed

    from l2l_helpers.data.io import check_image, read_image
    from l2l_helpers.training.train import load_model

    simulated = test_image is None
    if simulated:
        test_image = default_test_image()
    elif isinstance(test_image, (str, Path)):
        test_image = read_image(test_image, ndim=2)
    test_image = check_image(test_image, name="test image", ndim=2).astype(np.float32)

    try:
        care = load_model(model_dir, weights=weights)
    except FileNotFoundError as exc:
        raise ModelError(str(exc)) from exc
    info = dict(care.l2l_info or info)
    k = int(care.config.n_channel_out)
    depth = int(care.config.unet_n_depth)
    step = 2**depth
    halo = int(max(care._axes_tile_overlap("YX")))  # CSBDeep's receptive-field overlap, as for its tiles
    min_size = _min_size(step, halo)
    pmin, pmax = (float(p) for p in info.get("percentiles", (2.0, 99.8)))
    targets = list(info.get("target_names") or [])
    if len(targets) != k:
        targets = ["target"] if k == 1 else [f"target_{i}" for i in range(k)]
    name = name or f"label2label {model_dir.name}"
    description = description or (
        f"label2label (L2L) CARE network: restores images of the label '{info.get('input_name', 'input')}' "
        f"towards {', '.join(repr(t) for t in targets)} (loss {info.get('loss')}), removing noise and the "
        "label's unspecific background."
    )

    net = keras_model_for_export(care)
    image = _crop_to_step(test_image, step, min_size)
    x = _preprocessed(image, info)[np.newaxis, ..., np.newaxis]
    with _tf_warnings_hidden():  # a new network per export: Keras warns of retracing after a few
        y = np.asarray(net.predict(x, verbose=0), dtype=np.float32)

    with tempfile.TemporaryDirectory(prefix="l2l-export-") as tmp:
        tmp = Path(tmp)
        np.save(tmp / _TEST_INPUT, image[np.newaxis, ..., np.newaxis])
        np.save(tmp / _TEST_OUTPUT, y)
        _cover(image, y[0], tmp / _COVER)
        net.save(tmp / _KERAS_FILE)
        opset = None
        if "onnx" in weight_formats:
            opset = _export_onnx(net, tmp / _ONNX_FILE)
        shutil.copy(record.path("info"), tmp / "l2l_training.json")
        attachments = [tmp / "l2l_training.json"]
        if record.path("history").is_file():
            shutil.copy(record.path("history"), tmp / "history.csv")
            attachments.append(tmp / "history.csv")
        readme = _readme(name, description, info, record.read_history(), k, halo, step, min_size, cites, simulated)
        (tmp / _README).write_text(readme, encoding="utf-8")
        descr = _describe(
            tmp,
            name=name,
            description=description,
            authors=authors,
            cites=cite_entries,
            license=license,
            info=info,
            targets=targets,
            step=step,
            min_size=min_size,
            halo=halo,
            pmin=pmin,
            pmax=pmax,
            opset=opset,
            attachments=attachments,
        )
        out_path.parent.mkdir(parents=True, exist_ok=True)
        from bioimageio.spec import save_bioimageio_package

        part = out_path.with_name(out_path.name + ".part")  # out_path appears only when complete
        try:
            save_bioimageio_package(descr, output_path=part)
            part.replace(out_path)
        finally:
            part.unlink(missing_ok=True)
    return out_path


class _WithoutInfoLines:
    """Hide the C++ info lines (``I0000 ... devices.cc] Number of eligible GPUs``) that TensorFlow's graph
    optimiser writes to descriptor 2 during the ONNX conversion; every other line is written back."""

    def __enter__(self):
        import os

        sys.stderr.flush()
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(2)
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc):
        import os
        import re

        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        text = self._tmp.read().decode("utf-8", "replace")
        self._tmp.close()
        kept = [line for line in text.splitlines(keepends=True) if not re.match(r"^I\d{4} [\d:.]+ +\d+ ", line)]
        if kept:
            sys.stderr.write("".join(kept))
        return False


def _export_onnx(net, path):
    import contextlib
    import io as _io
    import warnings

    import onnx

    with (
        contextlib.redirect_stdout(_io.StringIO()),
        contextlib.redirect_stderr(_io.StringIO()),
        _WithoutInfoLines(),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", FutureWarning)  # Keras' tf2onnx patch probes np.object
        net.export(str(path), format="onnx", verbose=False)
    proto = onnx.load(str(path))
    return max(int(o.version) for o in proto.opset_import if o.domain in ("", "ai.onnx"))


def _describe(
    tmp, name, description, authors, cites, license, info, targets, step, min_size, halo, pmin, pmax, opset, attachments
):
    import keras
    import tensorflow as tf
    from bioimageio.spec.model.v0_5 import (
        Author,
        AxisId,
        BatchAxis,
        BioimageioConfig,
        ChannelAxis,
        Config,
        FileDescr,
        Identifier,
        InputTensorDescr,
        KerasV3WeightsDescr,
        LicenseId,
        ModelDescr,
        OnnxWeightsDescr,
        OutputTensorDescr,
        ParameterizedSize,
        ScaleRangeDescr,
        ScaleRangeKwargs,
        SizeReference,
        SpaceInputAxis,
        SpaceOutputAxisWithHalo,
        TensorId,
        TrainingDetails,
        Version,
        WeightsDescr,
        ZeroMeanUnitVarianceDescr,
        ZeroMeanUnitVarianceKwargs,
    )
    from pydantic import ValidationError

    from l2l_helpers import __version__

    settings = info.get("settings", {})
    in_id, out_id = TensorId(_INPUT_ID), TensorId(_OUTPUT_ID)
    input_axes = [
        BatchAxis(),
        SpaceInputAxis(id=AxisId("y"), size=ParameterizedSize(min=min_size, step=step)),
        SpaceInputAxis(id=AxisId("x"), size=ParameterizedSize(min=min_size, step=step)),
        ChannelAxis(channel_names=[Identifier(str(info.get("input_name") or "input"))]),
    ]
    output_axes = [
        BatchAxis(),
        SpaceOutputAxisWithHalo(id=AxisId("y"), size=SizeReference(tensor_id=in_id, axis_id=AxisId("y")), halo=halo),
        SpaceOutputAxisWithHalo(id=AxisId("x"), size=SizeReference(tensor_id=in_id, axis_id=AxisId("x")), halo=halo),
        ChannelAxis(channel_names=[Identifier(t) for t in targets]),
    ]
    mean_std = _mean_std(info)
    if mean_std:
        preprocessing = [ZeroMeanUnitVarianceDescr(kwargs=ZeroMeanUnitVarianceKwargs(axes=[AxisId("y"), AxisId("x")]))]
    else:
        preprocessing = [
            ScaleRangeDescr(
                kwargs=ScaleRangeKwargs(axes=[AxisId("y"), AxisId("x")], min_percentile=pmin, max_percentile=pmax)
            )
        ]
    weights = {
        "keras_v3": KerasV3WeightsDescr(
            source=tmp / _KERAS_FILE,
            keras_version=Version(keras.__version__),
            backend=("tensorflow", Version(tf.__version__)),
            comment="the CARE network of l2l_helpers, saved without its compiled loss and metrics",
        )
    }
    if opset is not None:
        weights["onnx"] = OnnxWeightsDescr(
            source=tmp / _ONNX_FILE,
            opset_version=opset,
            parent="keras_v3",
            comment="converted from the Keras weights (keras.Model.export, tf2onnx)",
        )
    training = TrainingDetails(
        training_preprocessing=(
            f"input: zero mean, unit variance per image; target: percentile normalisation ({pmin}, {pmax})"
            if mean_std
            else f"percentile normalisation ({pmin}, {pmax}) of input and target"
        )
        + f"; patches of {info.get('patch_size')} px",
        training_epochs=settings.get("epochs"),
        training_batch_size=settings.get("batch_size"),
        initial_learning_rate=settings.get("learning_rate"),
        loss_function=str(info.get("loss")),
        optimizer="Adam",
        learning_rate_schedule="ReduceLROnPlateau (CSBDeep)",
    )
    try:
        return ModelDescr(
            name=name,
            description=description,
            authors=[Author(name=a) for a in (authors or [DEFAULT_AUTHOR])],
            cite=cites,
            license=LicenseId(license),
            documentation=FileDescr(source=tmp / _README),
            covers=[FileDescr(source=tmp / _COVER)],
            attachments=[FileDescr(source=p) for p in attachments],
            tags=[
                "label2label",
                "care",
                "csbdeep",
                "unet",
                "denoising",
                "restoration",
                "2d",
                "fluorescence-light-microscopy",
                "immunofluorescence",
            ],
            inputs=[
                InputTensorDescr(
                    id=in_id,
                    axes=input_axes,
                    test_tensor=FileDescr(source=tmp / _TEST_INPUT),
                    preprocessing=preprocessing,
                    description="one image of the input label (any intensity scale)",
                )
            ],
            outputs=[
                OutputTensorDescr(
                    id=out_id,
                    axes=output_axes,
                    test_tensor=FileDescr(source=tmp / _TEST_OUTPUT),
                    description="restoration in the normalised target scale",
                )
            ],
            weights=WeightsDescr(**weights),
            packaged_by=[Author(name=f"l2l_helpers {__version__}")],
            config=Config(
                bioimageio=BioimageioConfig(training=training, architecture_type="CARE U-Net", task="image restoration")
            ),
        )
    except ValidationError as exc:
        raise ValueError(f"the package description is not valid: {exc}") from exc

        return False


def test_package(path, weight_format=None):
    """Run bioimageio.core's own test of a package: format, and every weight format reproducing the test output.

    Parameters
    ----------
    path : str or Path
        A bioimage.io package (``.zip``) or its ``rdf.yaml``.
    weight_format : str, optional
        Test only this weight format (default: all of the package).

    Returns
    -------
    bioimageio.spec.ValidationSummary
        ``.status`` is ``"passed"`` or ``"valid-format"`` or ``"failed"``;
        :func:`package_summary` gives its failures as text.

    Raises
    ------
    ImportError
        Without the ``export`` extra.

    Examples
    --------
    >>> test_package("actin_l2l.zip").status  # doctest: +SKIP
    'passed'
    """
    import contextlib
    import io as _io

    _require_extra()
    from bioimageio.core import test_model

    with contextlib.redirect_stdout(_io.StringIO()), _tf_warnings_hidden():  # Keras' progress bars, retracing
        return test_model(str(path), weight_format=weight_format)


test_package.__test__ = False  # not a pytest test


def package_summary(summary):
    """The failed checks of a validation summary, one per line ("" when all passed).

    Parameters
    ----------
    summary : bioimageio.spec.ValidationSummary
        From :func:`test_package`.

    Returns
    -------
    str

    Examples
    --------
    >>> package_summary(test_package("actin_l2l.zip"))  # doctest: +SKIP
    ''
    """
    lines = []
    for detail in summary.details:
        if detail.status == "failed":
            for err in detail.errors or []:
                lines.append(f"{detail.name}: {'.'.join(map(str, err.loc))}: {err.msg}")
            if not detail.errors:
                lines.append(detail.name)
    return "\n".join(lines)
