#!/usr/bin/env python3
"""Set up and run the label2label course with nothing but Python 3.10+.

    python3 tasks.py course   # main job: run every notebook headless -> course_output/
    python3 tasks.py test     # the tests: pytest + doctests (package) + nbval (notebooks, quick profile)
    python3 tasks.py lab      # open JupyterLab on the course

Each command first makes sure a virtual environment ``.venv`` inside the
checkout holds the pinned packages of ``requirements.txt`` and this package
(installed once; again only when requirements.txt or pyproject.toml change).
Set ``L2L_VENV`` to use another folder for the environment.
Only the standard library is used here, so it runs on a fresh machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("L2L_VENV", ROOT / ".venv"))
STAMP = VENV / ".l2l-installed"


def _venv_python():
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def _fingerprint():
    h = hashlib.sha256()
    for name in ("requirements.txt", "requirements-export.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def _run(cmd, **kwargs):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kwargs).returncode


def ensure_env():
    """Create .venv and install the pinned requirements and the package, once."""
    if sys.version_info < (3, 10):
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    python = _venv_python()
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        if _run([sys.executable, "-m", "venv", VENV]) != 0:
            sys.exit("Could not create the virtual environment (on Debian/Ubuntu: apt-get install python3-venv).")
    if STAMP.exists() and STAMP.read_text().strip() == _fingerprint():
        return python
    t0 = time.time()
    print("Installing the course's packages (tensorflow, csbdeep, jupyterlab, ...); "
          "the first time takes a few minutes.", flush=True)
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    steps = [
        pip + ["install", "--upgrade", "pip"],
        pip + ["install", "-r", ROOT / "requirements.txt"],
        # the optional extra "export" (bioimage.io packages), needed by its tests; constrained by
        # requirements.txt so that it only adds packages and never changes a pin of the course
        pip + ["install", "-r", ROOT / "requirements-export.txt", "-c", ROOT / "requirements.txt"],
        pip + ["install", "--no-deps", "-e", ROOT],
    ]
    for cmd in steps:
        if _run(cmd) != 0:
            sys.exit(f"Installation failed: {' '.join(str(c) for c in cmd)}")
    STAMP.write_text(_fingerprint() + "\n")
    print(f"Environment ready in {time.time() - t0:.0f} s.", flush=True)
    return python


def cmd_course(args):
    python = ensure_env()
    cmd = [python, "-m", "l2l_helpers.cli", "course", "--profile", args.profile, "--out", args.out,
           "--notebooks", ROOT / "notebooks"]
    if args.only:
        cmd += ["--only", *args.only]
    if args.inplace:
        cmd += ["--inplace"]
    return _run(cmd, cwd=ROOT)


def cmd_test(args):
    python = ensure_env()
    # Notebook kernels draw with the inline backend, as Jupyter and `l2l course` do, so figures are
    # outputs as in the committed notebooks; the pytest process itself uses Agg (tests/conftest.py).
    # Progress bars are plain text, as in the committed notebooks (l2l course sets the same).
    env = dict(os.environ, L2L_PROFILE="quick", L2L_PROGRESS="text",
               MPLBACKEND="module://matplotlib_inline.backend_inline", TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="l2l-test-results-") as tmp:
        env["L2L_RESULTS_DIR"] = tmp
        targets = args.paths or ["tests", "l2l_helpers", "notebooks"]
        cmd = [python, "-m", "pytest", "--doctest-modules", "--nbval-lax", "--nbval-current-env",
               "--nbval-sanitize-with", ROOT / "tests" / "nbval_sanitize.cfg", "-p", "no:cacheprovider",
               "--durations=15", *targets, *args.pytest_args]
        return _run(cmd, cwd=ROOT, env=env)


def cmd_lab(args):
    python = ensure_env()
    return _run([python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *args.lab_args], cwd=ROOT)


def cmd_setup(args):
    ensure_env()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("course", help="run every notebook headless; results in course_output/")
    p.add_argument("--profile", choices=("quick", "workshop", "paper"), default="workshop")
    p.add_argument("--out", default="course_output")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="notebook name prefixes, e.g. 00 03")
    p.add_argument("--inplace", action="store_true", help="save outputs into notebooks/ (maintainers)")
    p.set_defaults(func=cmd_course)
    p = sub.add_parser("test", help="run pytest on tests/, the doctests of l2l_helpers/ and nbval on notebooks/ "
                                    "(quick profile; checked cells compared with their committed outputs)")
    p.add_argument("paths", nargs="*", help="test paths (default: tests l2l_helpers notebooks)")
    p.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[], help="passed on to pytest")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("lab", help="open JupyterLab on notebooks/")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    p.set_defaults(func=cmd_lab)
    p = sub.add_parser("setup", help="only create/refresh the environment")
    p.set_defaults(func=cmd_setup)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
