"""Progress bars that also read well in a saved notebook.

``tqdm.auto`` draws a widget in Jupyter; a saved notebook keeps only the
widget's first text snapshot, which GitHub shows as a stalled ``0%| 0/12``.
With the environment variable ``L2L_PROGRESS=text`` (which
:func:`l2l_helpers.course.runner.execute_notebook` sets in the kernels it starts)
:func:`progress` draws a plain text bar instead, whose finished state is what
the executed notebook keeps.
"""

from __future__ import annotations

import os

__all__ = ["progress", "text_mode"]


def text_mode():
    """Tell whether progress bars are drawn as plain text (``L2L_PROGRESS=text``).

    Returns
    -------
    bool

    Examples
    --------
    >>> import os
    >>> text_mode() == (os.environ.get("L2L_PROGRESS", "").lower() == "text")
    True
    """
    return os.environ.get("L2L_PROGRESS", "").strip().lower() == "text"


def progress(iterable=None, **tqdm_kwargs):
    """Wrap an iterable in a progress bar (``tqdm.auto``, or text tqdm in text mode).

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over; leave out and call ``update`` for manual bars.
    **tqdm_kwargs
        Passed to tqdm (``desc``, ``total``, ``unit``, ``disable``, ...).

    Returns
    -------
    tqdm.tqdm
        The bar: iterate over it, or use ``update``, ``set_postfix_str``,
        ``write`` and ``close``.

    Examples
    --------
    >>> import io
    >>> sum(progress(range(4), desc="adding", file=io.StringIO()))
    6
    """
    if text_mode():
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(iterable, **tqdm_kwargs)
