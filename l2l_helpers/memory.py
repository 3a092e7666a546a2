"""Peak memory of a process tree, as a Binder or Colab session counts it.

A notebook's memory is its kernel's and that of every process the kernel
starts (Dask workers, ``!l2l`` commands): a Binder container is killed when
their sum passes its limit (2 GB). :class:`PeakMemory` samples the summed
resident memory (RSS) of a process's descendants, optionally with the process
itself, in a background thread, and keeps the highest sum. Samples are taken
every ``interval`` seconds, so a peak shorter than that can be missed; pages
shared between processes are counted once per process (an overestimate).

Uses :mod:`psutil` (a dependency of Jupyter's kernel and of Dask).
"""

from __future__ import annotations

import os
import threading

__all__ = ["PeakMemory", "tree_rss"]


def tree_rss(pid=None, include_self=False):
    """Summed resident memory of a process's descendants, in bytes.

    Parameters
    ----------
    pid : int, optional
        The root process (default: this one).
    include_self : bool
        Count the root process too.

    Returns
    -------
    int
        Bytes; processes that end while being read are skipped.

    Examples
    --------
    >>> tree_rss(include_self=True) > 0
    True
    """
    import psutil

    try:
        root = psutil.Process(os.getpid() if pid is None else pid)
        procs = root.children(recursive=True) + ([root] if include_self else [])
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class PeakMemory:
    """Context manager: the peak summed RSS of a process tree while it is open.

    Parameters
    ----------
    pid : int, optional
        Root process (default: this one).
    include_self : bool
        Count the root process too (default: only its descendants, e.g. the
        kernel a notebook runner starts).
    interval : float
        Seconds between samples.

    Attributes
    ----------
    peak_bytes : int
        Highest sum seen (0 before the first sample).
    peak_mb : float
        The same in MB (``2**20`` bytes).

    Examples
    --------
    >>> import numpy as np
    >>> with PeakMemory(include_self=True, interval=0.05) as mem:
    ...     block = np.ones(50 * 2**20, dtype=np.uint8)  # 50 MB, touched
    >>> mem.peak_mb > 50
    True
    """

    def __init__(self, pid=None, include_self=False, interval=0.2):
        self.pid = os.getpid() if pid is None else int(pid)
        self.include_self = bool(include_self)
        self.interval = float(interval)
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = None

    def sample(self):
        """Take one sample now and return the current sum (bytes)."""
        value = tree_rss(self.pid, self.include_self)
        self.peak_bytes = max(self.peak_bytes, value)
        return value

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()
        self._thread = threading.Thread(target=self._run, name="l2l-peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sample()
        self._stop.set()
        self._thread.join()
        return False

    @property
    def peak_mb(self):
        return self.peak_bytes / 2**20
