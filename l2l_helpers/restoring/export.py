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
inside the functions only. What the package says (model card, ``rdf.yaml``)
is written by :mod:`l2l_helpers.restoring.export_package`.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from l2l_helpers.course._quiet_tf import tf_warnings_hidden as _tf_warnings_hidden
from l2l_helpers.data.io import ModelError
from l2l_helpers.restoring.bioimageio_extra import EXPORT_EXTRA_HINT, export_available, require_export_extra
from l2l_helpers.restoring.export_package import (
    DEFAULT_AUTHOR,
    FILES,
    INPUT_ID,
    PackageFacts,
    cite_entries,
    describe_package,
    model_card,
    uses_mean_std,
    write_cover,
)

__all__ = [
    "EXPORT_EXTRA_HINT",
    "PAPER_CITATION",
    "CARE_CITATION",
    "DEFAULT_AUTHOR",
    "WEIGHT_FORMATS",
    "export_available",
    "export_bioimageio",
    "test_package",
    "package_summary",
    "keras_model_for_export",
    "default_test_image",
]

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
#: Weight formats a package can hold, in the order written (the first has no parent).
WEIGHT_FORMATS = ("keras_v3", "onnx")


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


def _preprocessed(image, info):
    # what the exported model's preprocessing does to one image (the test input's expected network input)
    from l2l_helpers.training.prepare import standardize

    if uses_mean_std(info):
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
    inp = keras.Input(shape=(None, None, 1), name=INPUT_ID)
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
    _check_destination(out_path, weight_formats, overwrite)
    record, info = _training_record(model_dir)
    require_export_extra()
    cites = [PAPER_CITATION, CARE_CITATION, *[dict(c) for c in cite]]
    entries = cite_entries(cites)  # bad DOIs or URLs stop the export before anything is computed
    simulated = test_image is None
    image = _test_image(test_image)
    care = _load_care(model_dir, weights)
    facts = _package_facts(care, dict(care.l2l_info or info), model_dir, name, description, cites, simulated)
    net = keras_model_for_export(care)
    image = _crop_to_step(image, facts.step, facts.min_size)
    with tempfile.TemporaryDirectory(prefix="l2l-export-") as tmp:
        tmp = Path(tmp)
        opset, attachments = _write_files(tmp, net, image, record, facts, weight_formats)
        descr = describe_package(tmp, facts, authors, entries, license, opset, attachments)
        _save_package(descr, out_path)
    return out_path


def _check_destination(out_path, weight_formats, overwrite):
    """Refuse unknown weight formats, an output that is not a .zip, or one that exists (without overwrite)."""
    unknown = sorted(set(weight_formats) - set(WEIGHT_FORMATS))
    if unknown:
        raise ValueError(f"unknown weight formats {unknown}; choose from {', '.join(WEIGHT_FORMATS)}")
    if out_path.suffix.lower() != ".zip":
        raise ValueError(f"{out_path}: a bioimage.io package is a .zip file")
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path}: exists; choose another file or overwrite it (--overwrite)")


def _training_record(model_dir):
    """The model folder's TrainingRecord and its ``l2l_training.json`` (ModelError if not a model folder)."""
    from l2l_helpers.training.record import TrainingRecord

    record = TrainingRecord(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"{model_dir}: model folder does not exist")
    return record, record.read_info()


def _test_image(test_image):
    """The test image as checked float32: given, read from a file, or a simulated cell when None."""
    from l2l_helpers.data.io import check_image, read_image

    if test_image is None:
        test_image = default_test_image()
    elif isinstance(test_image, (str, Path)):
        test_image = read_image(test_image, ndim=2)
    return check_image(test_image, name="test image", ndim=2).astype(np.float32)


def _load_care(model_dir, weights):
    from l2l_helpers.training.train import load_model

    try:
        return load_model(model_dir, weights=weights)
    except FileNotFoundError as exc:
        raise ModelError(str(exc)) from exc


def _package_facts(care, info, model_dir, name, description, cites, simulated):
    """Sizes, normalisation, channel names, name and description of the package of a CARE network."""
    k = int(care.config.n_channel_out)
    step = 2 ** int(care.config.unet_n_depth)
    halo = int(max(care._axes_tile_overlap("YX")))  # CSBDeep's receptive-field overlap, as for its tiles
    pmin, pmax = (float(p) for p in info.get("percentiles", (2.0, 99.8)))
    targets = list(info.get("target_names") or [])
    if len(targets) != k:
        targets = ["target"] if k == 1 else [f"target_{i}" for i in range(k)]
    description = description or (
        f"label2label (L2L) CARE network: restores images of the label '{info.get('input_name', 'input')}' "
        f"towards {', '.join(repr(t) for t in targets)} (loss {info.get('loss')}), removing noise and the "
        "label's unspecific background."
    )
    name = name or f"label2label {model_dir.name}"
    return PackageFacts(
        name, description, info, targets, step, halo, _min_size(step, halo), pmin, pmax, cites, simulated
    )


def _write_files(tmp, net, image, record, facts, weight_formats):
    """Write test tensors, cover, weights, attachments and README into ``tmp``; return ONNX opset, attachments."""
    x = _preprocessed(image, facts.info)[np.newaxis, ..., np.newaxis]
    with _tf_warnings_hidden():  # a new network per export: Keras warns of retracing after a few
        y = np.asarray(net.predict(x, verbose=0), dtype=np.float32)
    np.save(tmp / FILES["test_input"], image[np.newaxis, ..., np.newaxis])
    np.save(tmp / FILES["test_output"], y)
    write_cover(image, y[0], tmp / FILES["cover"])
    net.save(tmp / FILES["keras"])
    opset = _export_onnx(net, tmp / FILES["onnx"]) if "onnx" in weight_formats else None
    shutil.copy(record.path("info"), tmp / "l2l_training.json")
    attachments = [tmp / "l2l_training.json"]
    if record.path("history").is_file():
        shutil.copy(record.path("history"), tmp / "history.csv")
        attachments.append(tmp / "history.csv")
    (tmp / FILES["readme"]).write_text(model_card(facts, record.read_history()), encoding="utf-8")
    return opset, attachments


def _save_package(descr, out_path):
    """Save the package as ``out_path``, which appears only when complete."""
    from bioimageio.spec import save_bioimageio_package

    out_path.parent.mkdir(parents=True, exist_ok=True)
    part = out_path.with_name(out_path.name + ".part")
    try:
        save_bioimageio_package(descr, output_path=part)
        part.replace(out_path)
    finally:
        part.unlink(missing_ok=True)


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

    require_export_extra()
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
