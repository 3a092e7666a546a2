"""What every part of the benchmark suite shares: paths, sections, machine information, targets, child processes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "results.md"
README = ROOT / "README.md"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
MARK_START, MARK_END = "<!-- l2l:benchmarks:start -->", "<!-- l2l:benchmarks:end -->"
SECTIONS = (
    "train",
    "speedups",
    "losses",
    "quality",
    "quality_variants",
    "quality_seeds",
    "quality_real",
    "drift",
    "predict",
    "simulate",
    "sweep",
    "notebooks",
)
DEFAULT_SECTIONS = ("train", "losses", "drift", "predict", "simulate", "sweep")
BUDGETS_MIN = (1, 2, 4)
QUALITY_TOOLS = ("workshop", "csbdeep_default", "careamics")


# ----------------------------------------------------------------------------- helpers


def _peak_mb():
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _median(values):
    import numpy as np

    return float(np.median(values))


def machine_info():
    """CPU model, cores, memory and library versions of this machine (dict)."""
    from importlib import metadata

    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        mem_gb = None
    versions = {}
    for dist in (
        "tensorflow",
        "keras",
        "csbdeep",
        "numpy",
        "scikit-image",
        "scipy",
        "dask",
        "distributed",
        "l2l-helpers",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    from l2l_helpers.course.machine import cpu_info

    info = cpu_info()
    return {
        "cpu": info["model"] or platform.processor() or platform.machine(),
        "cpu_family": info["family"],
        "cpu_flags": info["flags"],  # AVX2 / AVX-512 / AMX: they decide a training step's time
        "probe": speed_probe(),
        "cores": os.cpu_count(),
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu": None,
        "versions": versions,
    }


def speed_probe():
    """The fixed speed probe of l2l_helpers.course.machine, run in a fresh process (dict; None if it failed)."""
    run = subprocess.run([sys.executable, "-m", "l2l_helpers.course.machine"], capture_output=True, text=True)
    if run.returncode != 0:
        return None
    probe = json.loads(run.stdout.strip().splitlines()[-1])
    return {key: probe[key] for key in ("profile", "seconds_per_step", "matmul_gflops")}


def _target(name, value, limit, better="lower", unit=""):
    """One target row: met when ``value`` is on the right side of ``limit``."""
    met = None if value is None else (value <= limit if better == "lower" else value >= limit)
    return {"target": name, "value": value, "limit": limit, "better": better, "unit": unit, "met": met}


def write_json(path, data):
    """Write ``data`` to ``path`` as indented JSON with a final newline, making its folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def _child(section, args, python=None, timeout=None):
    """Run ``--child SECTION`` in a fresh process; return its JSON (last stdout line)."""
    cmd = [str(python or sys.executable), str(HERE / "suite.py"), "--child", section, *args]
    env = dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode != 0:
        tail = [ln for ln in out.stderr.strip().splitlines() if ln.strip()][-3:]
        raise RuntimeError(f"{section} {' '.join(args)} failed: " + " | ".join(tail))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run_label(row):
    """A quality row's tool, with its variant when it is not the plain workshop profile."""
    variant = row.get("variant", "workshop")
    return row["tool"] if variant == "workshop" else f"{row['tool']} + {variant}"
