"""What a bioimage.io package of a CARE network holds: its facts, model card (README) and description (rdf.yaml).

:func:`l2l_helpers.restoring.export.export_bioimageio` gathers the
:class:`PackageFacts` of a network, writes :func:`model_card` and the
cover (:func:`write_cover`) and describes the package with
:func:`describe_package` (spec 0.5). bioimageio, Keras and TensorFlow are
imported inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "INPUT_ID",
    "OUTPUT_ID",
    "FILES",
    "DEFAULT_AUTHOR",
    "PackageFacts",
    "uses_mean_std",
    "model_card",
    "write_cover",
    "cite_entries",
    "describe_package",
]

#: Author named when none is given (replace it with yourself: ``authors=["Your Name"]``).
DEFAULT_AUTHOR = "label2label course participant"

#: Ids of the network's input and output tensors.
INPUT_ID, OUTPUT_ID = "input", "output"

#: File names in a package.
FILES = {
    "test_input": "test_input.npy",
    "test_output": "test_output.npy",
    "keras": "weights.keras",
    "onnx": "weights.onnx",
    "cover": "cover.png",
    "readme": "README.md",
}

_TAGS = [
    "label2label",
    "care",
    "csbdeep",
    "unet",
    "denoising",
    "restoration",
    "2d",
    "fluorescence-light-microscopy",
    "immunofluorescence",
]


@dataclass(frozen=True)
class PackageFacts:
    """What a package says about its network.

    Parameters
    ----------
    name, description : str
        The package's name and description.
    info : dict
        The training record (``l2l_training.json``).
    targets : list of str
        One channel name per output channel.
    step : int
        Input sizes are multiples of it (``2**unet_n_depth``).
    halo : int
        Tile overlap that a consumer needs (the receptive field).
    min_size : int
        Smallest input height and width.
    pmin, pmax : float
        Percentiles of the input normalisation.
    cites : list of dict
        Citations, ``{"text", "doi"}`` or ``{"text", "url"}``.
    simulated : bool
        Whether the test image is a simulated cell.

    Examples
    --------
    >>> facts = PackageFacts("n", "d", {}, ["actin"], 4, 22, 48, 2.0, 99.8, [], True)
    >>> facts.k
    1
    """

    name: str
    description: str
    info: dict
    targets: list
    step: int
    halo: int
    min_size: int
    pmin: float
    pmax: float
    cites: list
    simulated: bool

    @property
    def k(self):
        """Number of output channels."""
        return len(self.targets)


def uses_mean_std(info):
    """Whether a network's inputs were standardised (``input_normalization="mean_std"``) rather than scaled.

    Parameters
    ----------
    info : dict
        A training record; records without ``input_normalization`` used percentiles.

    Returns
    -------
    bool

    Examples
    --------
    >>> uses_mean_std({}), uses_mean_std({"input_normalization": "mean_std"})
    (False, True)
    """
    return info.get("input_normalization", "percentile") == "mean_std"


# --- the model card ----------------------------------------------------------------------------


def _history_lines(history):
    if not history or not history.get("epoch"):
        return ["(no history recorded)"]
    keys = [k for k in ("loss", "val_loss") if k in history]
    lines = ["| epoch | " + " | ".join(keys) + " |", "| --- |" + " --- |" * len(keys)]
    for i, epoch in enumerate(history["epoch"]):
        lines.append(f"| {epoch} | " + " | ".join(f"{history[k][i]:.4g}" for k in keys) + " |")
    return lines


def _what_it_does(facts):
    info, k = facts.info, facts.k
    targets = list(info.get("target_names") or [])
    return [
        "## What it does",
        "",
        "A CARE U-Net (CSBDeep) trained with **label2label** (L2L): the input is an image of the lower-contrast "
        f"label **`{info.get('input_name', 'input')}`**, the training target{'s were' if k > 1 else ' was'} "
        + ", ".join(f"**`{t}`**" for t in targets)
        + " (another label of the same structure, imaged at once). "
        "The network keeps the structure both labels share and drops noise and the input label's "
        "unspecific cytosolic background.",
        "",
    ]


def _input_and_output(facts):
    info, k = facts.info, facts.k
    targets = list(info.get("target_names") or [])
    pmin, pmax = info.get("percentiles", (2.0, 99.8))
    return [
        "## Input and output",
        "",
        f"- Input `{INPUT_ID}`: one 2-D single-channel image (axes batch, y, x, channel), float32, height and "
        f"width any multiple of {facts.step} pixels (at least {facts.min_size}).",
        (
            "- Preprocessing (done by every bioimage.io consumer): `zero_mean_unit_variance` over each image "
            "(zero mean, unit variance), as in training."
            if uses_mean_std(info)
            else "- Preprocessing (done by every bioimage.io consumer): percentile normalisation, `scale_range` "
            f"with the {pmin} and {pmax} percentiles of each image, as in training."
        ),
        f"- Output `{OUTPUT_ID}`: {k} channel{'s' if k > 1 else ''} ("
        + ", ".join(targets)
        + "), in the *normalised target scale*: 0 and 1 are the "
        f"{pmin} and {pmax} percentiles of a training target. No postprocessing.",
        f"- Large images: predict in tiles with a halo of {facts.halo} pixels (the network's receptive field).",
        "",
    ]


def _training(info, history):
    settings = info.get("settings", {})
    val = info.get("validation_images")
    train = info.get("train_images")
    return [
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
    ]


def _limitations(facts):
    return [
        "## Limitations",
        "",
        "- Apply it only to images of the same input label, microscope and pixel size as the training images; "
        "a network restores what it was trained on and can invent structure elsewhere (hallucination).",
        "- The output is a prediction of the target label, not a measurement: check it against raw data before "
        "quantifying, and compare with a ground truth where one exists.",
        "- Intensities are normalised per image ("
        + ("mean and standard deviation" if uses_mean_std(facts.info) else "percentiles")
        + "): absolute intensities are not comparable between restored images.",
        "- The test image of this package "
        + (
            "is a simulated cell (l2l_helpers.data.simulate), not an image of the training data."
            if facts.simulated
            else "was given at export."
        ),
        "",
    ]


def _cite(cites):
    return [
        "## Cite",
        "",
        *[f"- {c['text']} " + (f"https://doi.org/{c['doi']}" if c.get("doi") else c.get("url", "")) for c in cites],
        "",
    ]


def model_card(facts, history):
    """The package's README: what the network does, its input and output, training, limitations, citations.

    Parameters
    ----------
    facts : PackageFacts
        The package's facts.
    history : dict
        The training history (``epoch``, ``loss``, ``val_loss`` lists), or None.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> facts = PackageFacts("my net", "A network.", {"loss": "l1"}, ["actin"], 4, 22, 48, 2.0, 99.8, [], True)
    >>> card = model_card(facts, None)
    >>> card.splitlines()[0], "(no history recorded)" in card
    ('# my net', True)
    """
    lines = [
        f"# {facts.name}",
        "",
        facts.description,
        "",
        *_what_it_does(facts),
        *_input_and_output(facts),
        *_training(facts.info, history),
        *_limitations(facts),
        *_cite(facts.cites),
        "Exported with `l2l_helpers` (label2label course, `l2l export`).",
        "",
    ]
    return "\n".join(lines)


def write_cover(image, restored, path):
    """Write the cover image: the input and each restored channel side by side (magma, 1-99.8 percentiles).

    Parameters
    ----------
    image : ndarray
        The 2-D test input.
    restored : ndarray
        Its restoration, ``(y, x, k)``.
    path : str or Path
        The PNG file to write.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> rng = np.random.default_rng(0)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cover.png"
    >>> write_cover(rng.random((32, 32)), rng.random((32, 32, 2)), path)
    >>> path.is_file()
    True
    """
    from matplotlib.image import imsave  # no figure, so the backend does not matter

    def scaled(a):
        lo, hi = np.percentile(a, [1, 99.8])
        return np.clip((a - lo) / (hi - lo + 1e-12), 0, 1)

    panels = [scaled(image)] + [scaled(restored[..., c]) for c in range(restored.shape[-1])]
    gap = np.ones((image.shape[0], max(2, image.shape[1] // 32)))
    row = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], axis=1)
    imsave(path, row, cmap="magma", vmin=0, vmax=1)


# --- the description (rdf.yaml) ------------------------------------------------------------------


def cite_entries(cites):
    """The spec's citation entries of ``{"text", "doi"}`` or ``{"text", "url"}`` dicts.

    Parameters
    ----------
    cites : sequence of dict
        The citations.

    Returns
    -------
    list of bioimageio.spec.model.v0_5.CiteEntry

    Raises
    ------
    ValueError
        A citation without a DOI or URL, or with one that is not valid (the message names it).

    Examples
    --------
    >>> cite_entries([{"text": "Paper", "doi": "10.1242/jcs.258994"}])[0].text  # doctest: +SKIP
    'Paper'
    """
    from bioimageio.spec.model.v0_5 import CiteEntry, Doi, HttpUrl
    from pydantic import ValidationError

    entries = []
    for c in cites:
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


def _input_tensor(tmp, facts):
    from bioimageio.spec.model.v0_5 import (
        AxisId,
        BatchAxis,
        ChannelAxis,
        FileDescr,
        Identifier,
        InputTensorDescr,
        ParameterizedSize,
        ScaleRangeDescr,
        ScaleRangeKwargs,
        SpaceInputAxis,
        TensorId,
        ZeroMeanUnitVarianceDescr,
        ZeroMeanUnitVarianceKwargs,
    )

    size = ParameterizedSize(min=facts.min_size, step=facts.step)
    axes = [
        BatchAxis(),
        SpaceInputAxis(id=AxisId("y"), size=size),
        SpaceInputAxis(id=AxisId("x"), size=size),
        ChannelAxis(channel_names=[Identifier(str(facts.info.get("input_name") or "input"))]),
    ]
    yx = [AxisId("y"), AxisId("x")]
    if uses_mean_std(facts.info):
        preprocessing = [ZeroMeanUnitVarianceDescr(kwargs=ZeroMeanUnitVarianceKwargs(axes=yx))]
    else:
        kwargs = ScaleRangeKwargs(axes=yx, min_percentile=facts.pmin, max_percentile=facts.pmax)
        preprocessing = [ScaleRangeDescr(kwargs=kwargs)]
    return InputTensorDescr(
        id=TensorId(INPUT_ID),
        axes=axes,
        test_tensor=FileDescr(source=tmp / FILES["test_input"]),
        preprocessing=preprocessing,
        description="one image of the input label (any intensity scale)",
    )


def _output_tensor(tmp, facts):
    from bioimageio.spec.model.v0_5 import (
        AxisId,
        BatchAxis,
        ChannelAxis,
        FileDescr,
        Identifier,
        OutputTensorDescr,
        SizeReference,
        SpaceOutputAxisWithHalo,
        TensorId,
    )

    in_id = TensorId(INPUT_ID)

    def space(axis):
        size = SizeReference(tensor_id=in_id, axis_id=AxisId(axis))
        return SpaceOutputAxisWithHalo(id=AxisId(axis), size=size, halo=facts.halo)

    axes = [BatchAxis(), space("y"), space("x"), ChannelAxis(channel_names=[Identifier(t) for t in facts.targets])]
    return OutputTensorDescr(
        id=TensorId(OUTPUT_ID),
        axes=axes,
        test_tensor=FileDescr(source=tmp / FILES["test_output"]),
        description="restoration in the normalised target scale",
    )


def _weights(tmp, opset):
    import keras
    import tensorflow as tf
    from bioimageio.spec.model.v0_5 import KerasV3WeightsDescr, OnnxWeightsDescr, Version, WeightsDescr

    weights = {
        "keras_v3": KerasV3WeightsDescr(
            source=tmp / FILES["keras"],
            keras_version=Version(keras.__version__),
            backend=("tensorflow", Version(tf.__version__)),
            comment="the CARE network of l2l_helpers, saved without its compiled loss and metrics",
        )
    }
    if opset is not None:
        weights["onnx"] = OnnxWeightsDescr(
            source=tmp / FILES["onnx"],
            opset_version=opset,
            parent="keras_v3",
            comment="converted from the Keras weights (keras.Model.export, tf2onnx)",
        )
    return WeightsDescr(**weights)


def _training_config(facts):
    from bioimageio.spec.model.v0_5 import BioimageioConfig, Config, TrainingDetails

    info, pmin, pmax = facts.info, facts.pmin, facts.pmax
    settings = info.get("settings", {})
    training = TrainingDetails(
        training_preprocessing=(
            f"input: zero mean, unit variance per image; target: percentile normalisation ({pmin}, {pmax})"
            if uses_mean_std(info)
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
    return Config(
        bioimageio=BioimageioConfig(training=training, architecture_type="CARE U-Net", task="image restoration")
    )


def describe_package(tmp, facts, authors, cites, license, opset, attachments):
    """The package's description (spec 0.5) of the files written into a folder.

    Parameters
    ----------
    tmp : Path
        The folder holding the files of :data:`FILES` (``weights.onnx`` only with ``opset``).
    facts : PackageFacts
        The package's facts.
    authors : sequence of str or None
        Who trained the network (default: :data:`DEFAULT_AUTHOR`).
    cites : list of CiteEntry
        From :func:`cite_entries`.
    license : str
        SPDX licence identifier.
    opset : int or None
        ONNX opset of ``weights.onnx``; None without ONNX weights.
    attachments : list of Path
        Further files of the package.

    Returns
    -------
    bioimageio.spec.model.v0_5.ModelDescr

    Raises
    ------
    ValueError
        If the spec rejects the description (the message lists what is wrong).

    Examples
    --------
    >>> describe_package(tmp, facts, ["Ada"], cite_entries(cites), "CC-BY-4.0", 17, [])  # doctest: +SKIP
    """
    from bioimageio.spec.model.v0_5 import Author, FileDescr, LicenseId, ModelDescr
    from pydantic import ValidationError

    from l2l_helpers import __version__

    try:
        return ModelDescr(
            name=facts.name,
            description=facts.description,
            authors=[Author(name=a) for a in (authors or [DEFAULT_AUTHOR])],
            cite=cites,
            license=LicenseId(license),
            documentation=FileDescr(source=tmp / FILES["readme"]),
            covers=[FileDescr(source=tmp / FILES["cover"])],
            attachments=[FileDescr(source=p) for p in attachments],
            tags=list(_TAGS),
            inputs=[_input_tensor(tmp, facts)],
            outputs=[_output_tensor(tmp, facts)],
            weights=_weights(tmp, opset),
            packaged_by=[Author(name=f"l2l_helpers {__version__}")],
            config=_training_config(facts),
        )
    except ValidationError as exc:
        raise ValueError(f"the package description is not valid: {exc}") from exc
