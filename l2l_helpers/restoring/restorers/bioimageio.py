"""bioimage.io model packages (BioImage Model Zoo) as restorers: :class:`BioimageioRestorer`.

A package (a ``.zip``, its ``rdf.yaml`` / ``bioimageio.yaml``, or an
unzipped package folder; :func:`l2l_helpers.restoring.export.export_bioimageio`
writes them) is one more kind of restorer. :func:`is_bioimageio_package`
recognises one without loading it. Loading needs the optional extra
``export`` (:mod:`l2l_helpers.restoring.bioimageio_extra`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from l2l_helpers.data.io import ModelError
from l2l_helpers.restoring.bioimageio_extra import EXPORT_EXTRA_HINT, keras_backend_for_bioimageio
from l2l_helpers.restoring.restorers.base import Restorer, register_restorer

__all__ = ["BIOIMAGEIO_YAML_NAMES", "BioimageioRestorer", "is_bioimageio_package"]

#: Names of a bioimage.io package's description file.
BIOIMAGEIO_YAML_NAMES = ("rdf.yaml", "bioimageio.yaml")


def is_bioimageio_package(path):
    """Return True if a path is a bioimage.io model package (without loading it).

    Parameters
    ----------
    path : str or Path
        A ``.zip`` holding ``rdf.yaml`` (or ``*bioimageio.yaml``), such a
        YAML file, or a folder holding one.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_bioimageio_package("no/such/model.zip")
    False
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "rdf.yaml").write_text("type: model")
    >>> is_bioimageio_package(folder), is_bioimageio_package(folder / "rdf.yaml")
    (True, True)
    """
    import zipfile

    path = Path(path)
    if path.is_dir():
        return any((path / n).is_file() for n in BIOIMAGEIO_YAML_NAMES)
    if not path.is_file():
        return False
    if path.name.endswith(BIOIMAGEIO_YAML_NAMES):
        return True
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith(BIOIMAGEIO_YAML_NAMES) and "/" not in n for n in zf.namelist())
    return False


@register_restorer
class BioimageioRestorer(Restorer):
    """A bioimage.io model package (BioImage Model Zoo, spec 0.4 or 0.5) as a restorer.

    The package's own preprocessing (e.g. the percentile normalisation of
    a package from :func:`l2l_helpers.restoring.export.export_bioimageio`) and
    postprocessing are applied by ``bioimageio.core``. The model must have
    one input with axes y and x (and optionally batch and a one-channel
    channel axis). An image whose size does not fit the model's allowed
    sizes is padded (reflect) to the next one and the output cropped back.
    Needs the optional extra ``export`` (``pip install 'l2l-helpers[export]'``).

    Parameters
    ----------
    source : str or Path
        The package (``.zip``, its ``rdf.yaml``, or an unzipped folder).
    weight_format : str, optional
        Weights to use (``"keras_v3"``, ``"onnx"``, ...; default: chosen by
        bioimageio.core).
    name : str, optional
        Display name (default: the package's name).

    Attributes
    ----------
    description : bioimageio.spec.model.v0_5.ModelDescr
        The loaded description.

    Raises
    ------
    ModelError
        If the source is not a valid bioimage.io model, or has inputs this
        restorer cannot feed a 2-D image.

    Examples
    --------
    >>> r = BioimageioRestorer("actin_l2l.zip")  # doctest: +SKIP
    >>> r.restore(image).shape  # doctest: +SKIP
    (256, 256)
    """

    kind = "bioimageio"

    def __init__(self, source, weight_format=None, name=None):
        source = Path(source)
        descr = _load_bioimageio_description(source)
        self.description = descr
        self._pipeline = None
        self._input, self._output = descr.inputs[0], descr.outputs[0]
        self._input_axes = _axis_ids(self._input)
        channels = [len(getattr(a, "channel_names", None) or []) for a in self._input.axes]
        if (
            len(descr.inputs) != 1
            or not {"y", "x"} <= set(self._input_axes)
            or set(self._input_axes) - {"batch", "channel", "y", "x"}
            or max(channels, default=0) > 1
        ):
            raise ModelError(
                f"{source}: a 2-D restorer needs one input with axes y and x (and at most batch and "
                f"one channel); this model has {len(descr.inputs)} input(s), the first with axes "
                f"{self._input_axes}"
            )
        params = {"source": str(source)}
        if weight_format is not None:
            params["weight_format"] = str(weight_format)
        super().__init__(name=name if name is not None else str(descr.name), **params)

    @classmethod
    def load(cls, source, weight_format=None, name=None):
        """Load a package (see the class).

        Parameters
        ----------
        source : str or Path
            The package.
        weight_format : str, optional
            See the class.
        name : str, optional
            See the class.

        Returns
        -------
        BioimageioRestorer

        Examples
        --------
        >>> BioimageioRestorer.load("actin_l2l.zip").output_names  # doctest: +SKIP
        []
        """
        return cls(source, weight_format=weight_format, name=name)

    @classmethod
    def from_folder(cls, folder, record):  # noqa: D102 - see Restorer.from_folder
        params = dict(record.get("params") or {})
        source = Path(params.pop("source", folder))
        if not source.is_absolute() and not source.exists():
            source = Path(folder) / source
        return cls(source, name=record.get("name"), **params)

    def save(self, folder):
        """Copy the package into a folder and write ``l2l_restorer.json`` naming it.

        Parameters
        ----------
        folder : str or Path
            The folder (created if needed).

        Returns
        -------
        Path
            The JSON file written.

        Examples
        --------
        >>> BioimageioRestorer("actin_l2l.zip").save("models/actin_l2l_zoo")  # doctest: +SKIP
        """
        import shutil

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        src = Path(self.params["source"])
        if src.is_file() and src.suffix.lower() == ".zip":
            dst = folder / src.name
            if not dst.exists() or dst.resolve() != src.resolve():
                shutil.copy(src, dst)
            self.params["source"] = dst.name
        try:
            return super().save(folder)
        finally:
            self.params["source"] = str(src)

    @property
    def output_names(self):
        """The output's channel names when it has several channels; empty for one."""
        for axis in self._output.axes:
            names = getattr(axis, "channel_names", None)
            if names is not None and len(names) > 1:
                return [str(n) for n in names]
        return []

    def _sizes(self):
        # (min, step) per spatial input axis; step 0 for a fixed size
        out = {}
        from bioimageio.spec.model import v0_4

        shape = self._input.shape if isinstance(self._input, v0_4.InputTensorDescr) else None  # 0.4: all axes
        for i, (aid, axis) in enumerate(zip(self._input_axes, self._input.axes)):
            if aid not in ("y", "x"):
                continue
            size = getattr(axis, "size", None) if shape is None else shape
            if shape is not None and hasattr(shape, "min"):
                out[aid] = (int(shape.min[i]), int(shape.step[i]))
            elif shape is not None:
                out[aid] = (int(shape[i]), 0)
            elif isinstance(size, int):
                out[aid] = (size, 0)
            elif hasattr(size, "min") and hasattr(size, "step"):
                out[aid] = (int(size.min), int(size.step))
            else:
                out[aid] = (1, 1)
        return out

    def _valid_size(self, image):
        sizes = self._sizes()
        target = []
        for aid, n in zip(("y", "x"), image.shape):
            lo, step = sizes[aid]
            if step == 0 and n > lo:
                raise ModelError(
                    f"{self.params['source']}: the model takes images of exactly {lo} pixels along "
                    f"{aid}, this one has {n}"
                )
            target.append(lo if n <= lo or step == 0 else lo + -(-(n - lo) // step) * step)
        return tuple(target)

    def _get_pipeline(self):
        if self._pipeline is None:
            from bioimageio.core import create_prediction_pipeline

            keras_backend_for_bioimageio()
            self._pipeline = create_prediction_pipeline(
                self.description, weights_format=self.params.get("weight_format")
            )
        return self._pipeline

    def _restore(self, image):
        import contextlib
        import io

        from bioimageio.core import Sample, Tensor
        from bioimageio.core.axis import AxisId
        from bioimageio.core.digest_spec import get_member_id

        h, w = image.shape
        th, tw = self._valid_size(image)
        if (th, tw) != (h, w):
            image = np.pad(image, ((0, th - h), (0, tw - w)), mode="reflect" if min(h, w) > 1 else "edge")
        extra = [a for a in self._input_axes if a not in ("y", "x")]
        arr = image.reshape((1,) * len(extra) + image.shape)
        tensor = Tensor.from_numpy(arr, dims=[AxisId(a) for a in extra + ["y", "x"]])
        tensor = tensor.transpose([AxisId(a) for a in self._input_axes])
        sample = Sample(members={get_member_id(self._input): tensor}, stat={}, id="image")
        from l2l_helpers.course._quiet_tf import tf_warnings_hidden as _tf_warnings_hidden

        with contextlib.redirect_stdout(io.StringIO()), _tf_warnings_hidden():  # Keras' progress bar, retracing
            out = self._get_pipeline().predict_sample_without_blocking(
                sample, skip_input_padding=True, skip_output_cropping=True
            )
        result = out.members[get_member_id(self._output)]
        has_channel = "channel" in [str(d) for d in result.dims]
        order = ["y", "x"] + (["channel"] if has_channel else [])
        data = np.asarray(result.transpose([AxisId(a) for a in order]).data)  # singleton batch is squeezed
        data = data[:h, :w]
        if data.ndim == 3 and data.shape[-1] == 1:
            data = data[..., 0]
        return data


def _axis_ids(tensor_descr):
    from bioimageio.core.digest_spec import get_axes_infos

    return [str(a.id) for a in get_axes_infos(tensor_descr)]


def _load_bioimageio_description(source):
    keras_backend_for_bioimageio()

    try:
        from bioimageio.spec import InvalidDescr, load_model_description
    except ImportError as exc:
        raise ModelError(f"{source}: a bioimage.io package; loading it needs {EXPORT_EXTRA_HINT}") from exc
    try:
        descr = load_model_description(str(source), perform_io_checks=False)
    except Exception as exc:  # noqa: BLE001 - invalid packages raise ValueError, zip and IO errors
        raise ModelError(f"{source}: not a valid bioimage.io model ({type(exc).__name__}: {exc})") from exc
    if isinstance(descr, InvalidDescr):
        raise ModelError(f"{source}: not a valid bioimage.io model")
    return descr
