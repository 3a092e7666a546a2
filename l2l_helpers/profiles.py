"""Run profiles and where results go.

Every notebook and every long command has three profiles:

``quick``
    for tests and CI: seconds to about a minute per step on 2 CPU cores;
``workshop``
    the default in the notebooks: a few minutes per training on a laptop CPU
    or on Binder;
``paper``
    the paper's settings, meant for a GPU.

Notebooks read the profile from the environment variable ``L2L_PROFILE``
(the test command sets it to ``quick``), and write their results below
``L2L_RESULTS_DIR`` (default: ``results`` beside the notebook).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PROFILES", "DEFAULT_PROFILE", "current_profile", "results_dir"]

PROFILES = ("quick", "workshop", "paper")
DEFAULT_PROFILE = "workshop"


def current_profile(default=DEFAULT_PROFILE):
    """Return the run profile chosen by the environment variable ``L2L_PROFILE``.

    Parameters
    ----------
    default : str
        Profile used when the variable is unset or empty.

    Returns
    -------
    str
        One of ``"quick"``, ``"workshop"``, ``"paper"``.

    Raises
    ------
    ValueError
        If the variable names an unknown profile.

    Examples
    --------
    >>> os.environ["L2L_PROFILE"] = "quick"
    >>> current_profile()
    'quick'
    >>> del os.environ["L2L_PROFILE"]
    """
    value = os.environ.get("L2L_PROFILE", "").strip().lower() or default
    if value not in PROFILES:
        raise ValueError(f"L2L_PROFILE={value!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return value


def results_dir(name, root=None, profile=None):
    """Return (and create) the folder where a notebook or command saves results.

    Parameters
    ----------
    name : str
        Sub-folder, usually the notebook's name, e.g. ``"03_n2n_vs_l2l"``.
    root : str or Path, optional
        Base folder. Default: ``L2L_RESULTS_DIR`` if set, else ``results``
        in the current folder.
    profile : str, optional
        Profile whose results these are (default :func:`current_profile`).
        Each profile has its own sub-folder, so a quick run never reads or
        mixes with the files of a workshop run.

    Returns
    -------
    Path
        The folder, created if needed.

    Examples
    --------
    >>> results_dir("03_n2n_vs_l2l")  # doctest: +SKIP
    PosixPath('results/workshop/03_n2n_vs_l2l')
    """
    base = Path(root if root is not None else os.environ.get("L2L_RESULTS_DIR", "results"))
    profile = current_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    path = base / profile / name
    path.mkdir(parents=True, exist_ok=True)
    return path
