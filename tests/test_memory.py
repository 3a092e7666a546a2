"""Peak memory of a process tree (l2l_helpers.course.memory)."""

import subprocess
import sys

import pytest

from l2l_helpers.course.memory import PeakMemory, _tree_sums, tree_memory

CHILD = "import numpy as np, time; block = np.ones(200 * 2**20, dtype=np.uint8); time.sleep(1.5)"
#: A child that maps numpy's shared libraries and says when it has.
SLEEPER = "import numpy, sys, time; print('ready', flush=True); time.sleep(30)"


def _sleepers(n):
    procs = [subprocess.Popen([sys.executable, "-c", SLEEPER], stdout=subprocess.PIPE) for _ in range(n)]
    for proc in procs:
        proc.stdout.readline()
    return procs


def _stop(procs):
    for proc in procs:
        proc.kill()
        proc.wait()


def test_tree_memory_of_a_process_without_children_is_zero():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    try:
        assert tree_memory(child.pid) == 0
        assert tree_memory(child.pid, include_self=True) > 0
    finally:
        _stop([child])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PSS is reported on Linux only")
def test_tree_memory_counts_pages_shared_between_processes_once():
    procs = _sleepers(2)
    try:
        pss, rss = 0, 0
        for proc in procs:
            one_pss, one_rss = _tree_sums(proc.pid, include_self=True)
            pss, rss = pss + one_pss, rss + one_rss
    finally:
        _stop(procs)
    # the interpreter and numpy's libraries are mapped by both children: RSS counts them twice, PSS once
    assert 0 < pss < rss - 10 * 2**20


def test_tree_memory_refuses_an_unknown_measure():
    with pytest.raises(ValueError, match="'pss' or 'rss'"):
        tree_memory(measure="vms")


def test_peak_memory_counts_a_child_process_that_has_already_ended():
    with PeakMemory(interval=0.1) as memory:
        subprocess.run([sys.executable, "-c", CHILD], check=True)
    assert memory.peak_mb >= 200
    assert memory.peak_rss_mb >= memory.peak_mb


def test_peak_memory_reads_the_costly_pss_at_most_every_pss_interval(monkeypatch):
    import time

    import l2l_helpers.course.memory as memory

    pss_reads = []

    def fake_sums(pid, include_self, pss=True):
        pss_reads.append(pss)
        return (100 if pss else None), 200

    monkeypatch.setattr(memory, "_tree_sums", fake_sums)
    with PeakMemory(interval=0.01, pss_interval=60) as peak:
        time.sleep(0.3)
    assert sum(pss_reads) == 2  # on entering and on leaving; in between only the RSS
    assert len(pss_reads) > 10
    assert peak.peak_bytes == 100 and peak.peak_rss_bytes == 200


def test_peak_memory_of_descendants_leaves_out_the_root_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    try:
        with PeakMemory(child.pid, interval=0.05) as descendants:
            pass
        with PeakMemory(child.pid, include_self=True, interval=0.05) as everything:
            pass
    finally:
        _stop([child])
    assert descendants.peak_bytes == 0 and everything.peak_bytes > 0
