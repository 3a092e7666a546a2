"""Checks for every test and doctest of the checkout (tests/ and l2l_helpers/).

The test command (``python3 tasks.py test``) passes the notebooks their
profile and results folder through the environment (``L2L_PROFILE=quick``,
...); nbval's kernels inherit this process's environment. A test that changes
such a variable without restoring it silently changes every notebook run after
it (a doctest once deleted ``L2L_PROFILE``, and the notebooks ran in the
workshop profile). So each test must leave these variables as it found them.
Figures a test opens through pyplot are closed after it.
"""

import os
import sys

import pytest

pytest_plugins = ["pytester"]  # tests/test_environment_guard.py runs this file on a test that leaks

GUARDED_PREFIXES = ("L2L_",)
GUARDED = ("KERAS_BACKEND", "MPLBACKEND", "PATH", "TF_CPP_MIN_LOG_LEVEL")


def _guarded_environment():
    return {k: v for k, v in os.environ.items() if k.startswith(GUARDED_PREFIXES) or k in GUARDED}


def _compared(env):
    # l2l_helpers.restoring.export may pin KERAS_BACKEND to the backend Keras runs on here: not a leak
    return {k: v for k, v in env.items() if (k, v) != ("KERAS_BACKEND", "tensorflow")}


@pytest.fixture(autouse=True)
def _environment_left_as_found():
    before = _guarded_environment()
    yield
    after = _guarded_environment()
    if _compared(after) != _compared(before):
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        for key in changed:  # put it back, so one leak fails one test, not the notebooks after it
            if key in before:
                os.environ[key] = before[key]
            else:
                os.environ.pop(key, None)
        pytest.fail(
            f"the test changed environment variables without restoring them: {', '.join(changed)} "
            "(use monkeypatch.setenv or unittest.mock.patch.dict)"
        )


@pytest.fixture(autouse=True)
def _figures_closed():
    """Close the figures a test opened through pyplot, which keeps them (and their memory) until closed."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # never imported here for a test that did not
    if pyplot is not None:
        pyplot.close("all")
