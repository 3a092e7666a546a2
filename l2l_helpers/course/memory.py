"""Peak memory of a process tree, as a Binder or Colab session counts it.

A notebook's memory is its kernel's and that of every process the kernel
starts (Dask workers, ``!l2l`` commands): a Binder container is killed when
their sum passes its limit (2 GB). The container's limit (a memory cgroup)
counts every page once, however many processes map it; TensorFlow's libraries
are pages that the kernel and each Dask worker share (their size:
``benchmarks/results.md``, section notebooks). Summing each process's resident
memory (RSS) would count them once per process, so :func:`tree_memory` sums
the *proportional* set size (PSS: each shared page divided among the processes
that map it) where the system reports it (Linux), and RSS elsewhere (an
overestimate).

:class:`PeakMemory` samples that sum in a background thread and keeps the
highest: the cheap RSS every ``interval`` seconds, the PSS (slower to read:
the system walks each process's page tables) at most every ``pss_interval``
seconds and only while the summed RSS, its upper bound, is above the peak so
far. A peak shorter than that can be missed.

Uses :mod:`psutil` (a dependency of Jupyter's kernel and of Dask).
"""

from __future__ import annotations

import os
import threading
import time

__all__ = ["PeakMemory", "tree_memory"]


def _tree_sums(pid, include_self, pss=True):
    """(PSS sum, RSS sum) of a process tree in bytes.

    PSS falls back to RSS where it is not reported; with ``pss=False`` only
    the RSS is read (cheap: reading PSS walks the page tables of every
    process, which takes long for a large process such as TensorFlow's) and PSS is returned as None.
    """
    import psutil

    try:
        root = psutil.Process(os.getpid() if pid is None else pid)
        procs = root.children(recursive=True) + ([root] if include_self else [])
    except psutil.NoSuchProcess:
        return (0 if pss else None), 0
    pss_sum = rss_sum = 0
    for proc in procs:
        try:
            info = proc.memory_info()
            rss_sum += info.rss
            if pss:
                try:
                    pss_sum += getattr(proc.memory_full_info(), "pss", info.rss)  # no PSS outside Linux
                except psutil.AccessDenied:
                    pss_sum += info.rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return (pss_sum if pss else None), rss_sum


def tree_memory(pid=None, include_self=False, measure="pss"):
    """Summed memory of a process's descendants, in bytes.

    Parameters
    ----------
    pid : int, optional
        The root process (default: this one).
    include_self : bool
        Count the root process too.
    measure : {"pss", "rss"}
        ``"pss"`` (default): proportional set size, so pages shared between
        the processes (libraries) count once in the sum, as a container's
        memory limit counts them; RSS for a process whose PSS the system
        does not report. ``"rss"``: resident set size, shared pages counted
        once per process.

    Returns
    -------
    int
        Bytes; processes that end while being read are skipped.

    Examples
    --------
    >>> tree_memory(include_self=True) > 0
    True
    """
    _check_measure(measure)
    pss, rss = _tree_sums(pid, include_self, pss=measure == "pss")
    return pss if measure == "pss" else rss


def _check_measure(measure):
    if measure not in ("pss", "rss"):
        raise ValueError(f"measure must be 'pss' or 'rss', not {measure!r}")


class PeakMemory:
    """Context manager: the peak summed memory of a process tree while it is open.

    Parameters
    ----------
    pid : int, optional
        Root process (default: this one).
    include_self : bool
        Count the root process too (default: only its descendants, e.g. the
        kernel a notebook runner starts).
    interval : float
        Seconds between samples of the RSS.
    pss_interval : float
        Reading the PSS is slow for large processes, so between
        the first and the last sample it is read at most every
        ``pss_interval`` seconds, and only when the summed RSS (never below
        the PSS) is above the highest PSS so far. A PSS peak shorter than
        ``pss_interval`` can be missed.

    Attributes
    ----------
    peak_bytes : int
        Highest PSS sum seen (see :func:`tree_memory`; 0 before the first
        sample).
    peak_mb : float
        The same in MB (``2**20`` bytes).
    peak_rss_mb : float
        Highest RSS sum seen, in MB (shared pages counted once per process:
        an upper bound, for comparison with older measurements).

    Examples
    --------
    >>> import numpy as np
    >>> with PeakMemory(include_self=True, interval=0.05) as mem:
    ...     block = np.ones(50 * 2**20, dtype=np.uint8)  # 50 MB, touched
    >>> mem.peak_mb > 50
    True
    """

    def __init__(self, pid=None, include_self=False, interval=0.2, pss_interval=1.0):
        self.pid = os.getpid() if pid is None else int(pid)
        self.include_self = bool(include_self)
        self.interval = float(interval)
        self.pss_interval = float(pss_interval)
        self.peak_bytes = 0
        self.peak_rss_bytes = 0
        self._last_pss = -float("inf")
        self._stop = threading.Event()
        self._thread = None

    def _take(self, read_pss):
        pss, rss = _tree_sums(self.pid, self.include_self, pss=read_pss)
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
        if read_pss:
            self._last_pss = time.monotonic()
            self.peak_bytes = max(self.peak_bytes, pss)
        return pss, rss

    def sample(self):
        """Take one sample now (PSS included) and return the current PSS sum (bytes)."""
        return self._take(read_pss=True)[0]

    def _poll(self):
        due = time.monotonic() - self._last_pss >= self.pss_interval
        _, rss = self._take(read_pss=False)
        if due and rss > self.peak_bytes:  # the summed RSS bounds the PSS: below the peak, no new peak
            self._take(read_pss=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self._poll()

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

    @property
    def peak_rss_mb(self):
        return self.peak_rss_bytes / 2**20
