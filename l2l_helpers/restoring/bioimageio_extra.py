"""The optional extra ``export`` (bioimage.io): whether it is installed, and Keras on TensorFlow beside it.

Used by :mod:`l2l_helpers.restoring.export` (writing packages) and
:class:`~l2l_helpers.restoring.restorers.BioimageioRestorer` (reading them).
bioimageio is imported inside the functions only.
"""

from __future__ import annotations

import os
import sys

__all__ = ["EXPORT_EXTRA_HINT", "export_available", "require_export_extra", "keras_backend_for_bioimageio"]

#: What to install when the export's packages are missing.
EXPORT_EXTRA_HINT = (
    "the export to bioimage.io needs the optional extra 'export': "
    "pip install 'l2l-helpers[export]' (bioimageio.core, onnx, onnxruntime, tf2onnx)"
)

#: Modules of the optional ``export`` extra.
_EXTRA_MODULES = ("bioimageio.core", "bioimageio.spec", "onnx", "onnxruntime", "tf2onnx")


def keras_backend_for_bioimageio():
    """Tell bioimageio.core that Keras runs on TensorFlow here.

    When ``KERAS_BACKEND`` is unset, bioimageio.core sets it to ``"torch"`` in
    ``os.environ`` as it loads Keras weights: for this whole process and every
    process it starts afterwards (a Jupyter kernel, a Dask worker), where
    Keras then fails without PyTorch. This package runs Keras on TensorFlow
    (CSBDeep needs it), so the variable is set to that first, unless the user
    chose a backend. Called before and after bioimageio.core's own calls,
    since it may have been imported (and have read the variable) earlier.

    Examples
    --------
    >>> keras_backend_for_bioimageio()
    >>> "KERAS_BACKEND" in os.environ
    True
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


def require_export_extra():
    """Import bioimageio.core and bioimageio.spec (Keras' backend set first), or say what to install.

    Raises
    ------
    ImportError
        Without the ``export`` extra (the message is :data:`EXPORT_EXTRA_HINT`).

    Examples
    --------
    >>> require_export_extra()  # doctest: +SKIP
    """
    keras_backend_for_bioimageio()
    try:
        import bioimageio.core  # noqa: F401
        import bioimageio.spec  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"{EXPORT_EXTRA_HINT} ({exc})") from exc
