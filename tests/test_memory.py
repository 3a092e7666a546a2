"""Peak memory of a process tree (l2l_helpers.memory)."""

import subprocess
import sys

from l2l_helpers.memory import PeakMemory, tree_rss

CHILD = "import numpy as np, time; block = np.ones(200 * 2**20, dtype=np.uint8); time.sleep(1.5)"


def test_tree_rss_of_a_process_without_children_is_zero():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    try:
        assert tree_rss(child.pid) == 0
        assert tree_rss(child.pid, include_self=True) > 0
    finally:
        child.kill()
        child.wait()


def test_peak_memory_counts_a_child_process_that_has_already_ended():
    with PeakMemory(interval=0.1) as memory:
        subprocess.run([sys.executable, "-c", CHILD], check=True)
    assert memory.peak_mb >= 200


def test_peak_memory_of_descendants_leaves_out_the_root_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"])
    try:
        with PeakMemory(child.pid, interval=0.05) as descendants:
            pass
        with PeakMemory(child.pid, include_self=True, interval=0.05) as everything:
            pass
    finally:
        child.kill()
        child.wait()
    assert descendants.peak_bytes == 0 and everything.peak_bytes > 0
