"""Hide TensorFlow's start-up notices, and only those, from learners.

Importing TensorFlow and first listing its devices prints C++ log lines
(``I0000 ... oneDNN custom operations are on``, ``E0000 ... failed call to
cuInit``) straight to file descriptor 2, before ``TF_CPP_MIN_LOG_LEVEL`` is
read, so neither the environment variable nor Python's ``sys.stderr`` can
hide them. To a learner they read as failures. :func:`filtered_stderr`
redirects descriptor 2 into a temporary file and afterwards writes back every
line that is not one of the known notices (:data:`NOTICES`), so real errors
still show. :func:`install` arranges for the first ``import tensorflow``,
whichever module does it (``l2l_helpers``, csbdeep or keras), to run under
that filter. The subpackages whose modules import TensorFlow
(:mod:`l2l_helpers.training`, :mod:`~l2l_helpers.restoring`,
:mod:`~l2l_helpers.experiments`) call it when they are imported;
``import l2l_helpers`` alone does not. Set ``L2L_TF_LOGS=all`` to see every
line.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import os
import re
import sys
import tempfile

__all__ = ["NOTICES", "is_notice", "filtered_stderr", "tf_warnings_hidden", "install"]

_LOG = r"^[IWE]\d{4} [\d:.]+ +\d+ "  # absl prefix: severity+date, time, thread id

#: Patterns of the start-up lines that are dropped (each is harmless on a CPU machine).
NOTICES = tuple(
    re.compile(p)
    for p in (
        r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
        _LOG + r"port\.cc:\d+\] oneDNN custom operations are on\.",
        _LOG + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not be used\.$",
        _LOG + r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU instructions",
        r"^To enable the following instructions: .*, in other operations, rebuild TensorFlow with the "
        r"appropriate compiler flags\.$",
        _LOG + r"cuda_platform\.cc:\d+\] failed call to cuInit: ",
        # first training epoch (filtered by l2l_helpers.training.care during the first epoch only)
        _LOG + r"generator_dataset_op\.cc:\d+\] Memory patch applied: ",
        _LOG + r"util\.cc:\d+\] oneDNN supports DT_INT32 only on platforms with AVX-512\.",
        _LOG + r"node_def_util\.cc:\d+\] NodeDef mentions attribute use_unbounded_threadpool which is not in the op ",
        # first step of a CycleGAN (filtered by l2l_helpers.training.cyclegan during its first step only):
        # Grappler's remapper
        # cannot fuse the discriminator's first convolution with its LeakyReLU gradient and leaves the graph as it is
        _LOG + r"meta_optimizer\.cc:\d+\] remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout ",
    )
)


def is_notice(line):
    """Tell whether a line of stderr is one of TensorFlow's known start-up notices.

    Parameters
    ----------
    line : str
        One line, with or without its line ending.

    Returns
    -------
    bool
        True for the lines listed in :data:`NOTICES`.

    Examples
    --------
    >>> is_notice("I0000 00:00:1795558657.033835   30943 cudart_stub.cc:31] "
    ...           "Could not find cuda drivers on your machine, GPU will not be used.")
    True
    >>> is_notice("E0000 00:00:1795558657.1 30943 some_op.cc:12] real trouble")
    False
    """
    line = line.rstrip("\r\n")
    return any(p.search(line) for p in NOTICES)


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file; re-emit all but the notices.

    Everything written to stderr inside the block (by C++ code or Python)
    is held back and written out when the block ends, without the lines that
    :func:`is_notice` recognises. Use it around short start-up steps only:
    output is delayed until the block ends.

    Yields
    ------
    None

    Examples
    --------
    >>> with filtered_stderr():
    ...     _ = os.write(2, b"WARNING: All log messages before absl::InitializeLog() "
    ...                     b"is called are written to STDERR\\n")
    """
    try:
        sys.stderr.flush()
    except Exception:  # a closed or odd stderr: filter the descriptor anyway
        pass
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (some embedded interpreters): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except Exception:
                pass
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [ln for ln in tmp.read().decode("utf-8", "replace").splitlines(keepends=True) if not is_notice(ln)]
            if kept:
                text = "".join(kept)
                os.write(2, (text if text.endswith("\n") else text + "\n").encode("utf-8"))


class tf_warnings_hidden:
    """Raise the level of TensorFlow's Python logger to ERROR for a while (and restore it).

    Predicting with several networks, or one network at several image sizes,
    makes Keras log "triggered tf.function retracing" warnings, which are
    about speed, not results.

    Examples
    --------
    >>> import logging
    >>> with tf_warnings_hidden():
    ...     logging.getLogger("tensorflow").level == logging.ERROR
    True
    """

    def __enter__(self):
        import logging

        self._logger = logging.getLogger("tensorflow")
        self._level = self._logger.level
        self._logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)


class _QuietLoader(importlib.abc.Loader):
    """Wrap TensorFlow's own loader: execute it under :func:`filtered_stderr`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        with filtered_stderr():
            self.loader.exec_module(module)
            try:  # the first device listing prints the cuInit notice
                module.config.list_physical_devices()
            except Exception:  # TensorFlow's own errors surface on first real use
                pass


class _TensorFlowFinder(importlib.abc.MetaPathFinder):
    """One-shot finder: the first ``import tensorflow`` goes through :class:`_QuietLoader`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        _uninstall()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


def _uninstall():
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _TensorFlowFinder)]


def install():
    """Make the first ``import tensorflow`` of this process quiet (idempotent).

    Does nothing when TensorFlow is already imported, when
    ``L2L_TF_LOGS=all`` is set, or when already installed. The finder
    removes itself at the first ``import tensorflow``.

    Returns
    -------
    bool
        True if the import hook is in place after the call.

    Examples
    --------
    >>> install() in (True, False)
    True
    """
    if "tensorflow" in sys.modules or os.environ.get("L2L_TF_LOGS", "").lower() == "all":
        return False
    if not any(isinstance(f, _TensorFlowFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TensorFlowFinder())
    return True
