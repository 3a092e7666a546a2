#!/usr/bin/env python3
"""Set up and run the label2label course with nothing but Python 3.10+.

    python3 tasks.py course   # main job: run every notebook headless -> course_output/
    python3 tasks.py test     # the tests: pytest + doctests (package) + nbval (notebooks, quick profile)
    python3 tasks.py test --fast  # only the tests and doctests that train no network (minutes)
    python3 tasks.py setup --browser  # the environment, and Debian's chromium for the browser test
    python3 tasks.py lab      # open JupyterLab on the course
    python3 tasks.py precompute  # train the notebooks' networks ahead of a workshop (notebooks/results)
    python3 tasks.py badges   # Binder/Colab badges and the Colab set-up cell from pyproject's [project.urls]
    python3 tasks.py test-colab  # the notebooks under nbval with Google Colab's versions (.venv-colab)
    python3 tasks.py bench    # the benchmark suite -> benchmarks/results.json, results.md, README's table

Each command first makes sure a virtual environment ``.venv`` inside the
checkout holds the pinned packages of ``requirements.txt`` and this package
(installed once; again only when requirements.txt or pyproject.toml change).
Set ``L2L_VENV`` to use another folder for the environment.
Only the standard library is used here, so it runs on a fresh machine.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("L2L_VENV", ROOT / ".venv"))
STAMP = VENV / ".l2l-installed"
PEERS_VENV = ROOT / ".venv-peers"  # CAREamics (PyTorch) for the quality benchmark; benchmarks/suite.py looks here
COLAB_VENV = Path(os.environ.get("L2L_COLAB_VENV", ROOT / ".venv-colab"))
# pytest options for the notebooks, the same for `test` and `test-colab`
NBVAL_ARGS = ["--nbval-lax", "--nbval-current-env", "--nbval-sanitize-with", ROOT / "tests" / "nbval_sanitize.cfg"]


def _venv_python(venv=None):
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return (venv or VENV) / sub


def _fingerprint():
    h = hashlib.sha256()
    for name in ("requirements.txt", "requirements-export.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def _run(cmd, **kwargs):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], **kwargs).returncode


def _with_venv_path(python, **variables):
    """This environment, with ``variables`` set and the venv of ``python`` first on PATH (its ``l2l``, ``jupyter``)."""
    return dict(os.environ, **variables, PATH=os.pathsep.join([str(Path(python).parent), os.environ.get("PATH", "")]))


def _test_env(python, results):
    """The environment of pytest and the notebook kernels it starts: quick profile, results into ``results``.

    Kernels draw with the inline backend, as Jupyter and `l2l course` do, so figures are outputs as in the
    committed notebooks (the pytest process itself uses Agg: tests/conftest.py); progress bars are plain
    text, as in the committed notebooks (l2l course sets the same).
    """
    return _with_venv_path(
        python,
        L2L_PROFILE="quick",
        L2L_PROGRESS="text",
        L2L_RESULTS_DIR=str(results),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        TF_CPP_MIN_LOG_LEVEL="2",
    )


def _pytest_cmd(python, *args, doctests=False):
    """``python -m pytest`` as `test` and `test-colab` run it: nbval's options, no cache, the 15 slowest listed."""
    doctest = ["--doctest-modules"] if doctests else []
    return [python, "-m", "pytest", *doctest, *NBVAL_ARGS, "-p", "no:cacheprovider", "--durations=15", *args]


def ensure_env():
    """Create .venv and install the pinned requirements and the package, once."""
    if sys.version_info < (3, 10):  # noqa: UP036 (tasks.py runs on whatever python3 a machine has)
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    python = _venv_python()
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        if _run([sys.executable, "-m", "venv", VENV]) != 0:
            sys.exit("Could not create the virtual environment (on Debian/Ubuntu: apt-get install python3-venv).")
    if STAMP.exists() and STAMP.read_text().strip() == _fingerprint():
        return python
    t0 = time.time()
    print(
        "Installing the course's packages (tensorflow, csbdeep, jupyterlab, ...); the first time takes a few minutes.",
        flush=True,
    )
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


REALDATA = ROOT.parent / "shared" / "realdata"  # real images for tests beside the checkout (CONTRIBUTING.md)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def realdata_mirror(env):
    """Serve ``../shared/realdata`` on 127.0.0.1 as the course's data mirror while the block runs.

    Where that folder exists (CI, developers) and ``L2L_DATA_BASE_URL`` is not set, ``env`` gets
    ``L2L_DATA_BASE_URL`` (the mirror) and ``L2L_DATA_DIR`` (a fresh cache, removed afterwards), so the
    notebooks fetch the registered real images (notebooks 06 and 09) through pooch with their registered
    hashes, exactly as on Binder, without a network and without copying them into the repository.
    Elsewhere ``env`` is left alone: the notebooks download the files, or skip their real-image sections.
    """
    if env.get("L2L_DATA_BASE_URL") or not (REALDATA / "SHA256SUMS").is_file():
        yield env
        return
    handler = functools.partial(_QuietHandler, directory=str(REALDATA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="l2l-data-") as cache:
            env["L2L_DATA_BASE_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
            env["L2L_DATA_DIR"] = cache
            print(f"real images: {REALDATA} served at {env['L2L_DATA_BASE_URL']}", flush=True)
            yield env
    finally:
        server.shutdown()
        server.server_close()


def _l2l_course(python, profile, *options, only=None):
    """The ``l2l course`` command run with the venv's ``python``: ``profile``, ``options``, then ``--only``."""
    cmd = [python, "-m", "l2l_helpers.cli", "course", "--profile", profile, *options]
    return cmd + ["--only", *only] if only else cmd


def cmd_course(args):
    python = ensure_env()
    cmd = _l2l_course(python, args.profile, "--out", args.out, ROOT / "notebooks", only=args.only)
    if args.inplace:
        cmd += ["--inplace"]
    with realdata_mirror(dict(os.environ)) as env:
        return _run(cmd, cwd=ROOT, env=env)


def cmd_precompute(args):
    """Train every network the notebooks train, where notebooks opened in JupyterLab find and reuse them."""
    python = ensure_env()
    results = ROOT / "notebooks" / "results"
    out = ROOT / "course_output" / f"precompute_{args.profile}"
    cmd = _l2l_course(
        python, args.profile, ROOT / "notebooks", "--out", out, "--results", results, "--no-html", only=args.only
    )
    env = dict(os.environ, L2L_REUSE_MODELS="1")  # an interrupted precompute, run again, keeps what it finished
    with realdata_mirror(env):
        code = _run(cmd, cwd=ROOT, env=env)
    print(
        f"\nThe notebooks' networks ({args.profile} profile) are in {results}. Notebooks reuse a finished network "
        "instead of training it when L2L_REUSE_MODELS=1 is set (binder/start sets it); copy that folder with the "
        "course to the machines of a workshop (notebooks/INSTRUCTORS.md).",
        flush=True,
    )
    return code


def _course_links():
    """tools/course_links.py loaded by path (standard library only), before any environment exists."""
    spec = importlib.util.spec_from_file_location("_l2l_course_links", ROOT / "tools" / "course_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_chromium():
    return bool(shutil.which("chromium") or Path("/usr/bin/chromium").exists())


def install_browser():
    """Install Debian's chromium for tests/test_browser.py with apt-get (as root, or through sudo); 0 on success.

    Only ``python3 tasks.py setup --browser`` (and CI's ``.ci/run`` through it) call this: the test command
    installs nothing outside the checkout.
    """
    if _has_chromium():
        print("chromium is installed (tests/test_browser.py runs).", flush=True)
        return 0
    apt = ["apt-get"]
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        if not shutil.which("sudo"):
            print("Installing chromium needs root: run as root  apt-get install -y chromium", flush=True)
            return 1
        apt = ["sudo", "apt-get"]
    if not shutil.which("apt-get"):
        print("No apt-get here: install Chromium with your system's package manager as `chromium`.", flush=True)
        return 1
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = [*apt, "install", "-y", "-q", "chromium"]
    if _run(install, env=env) != 0:  # a fresh machine's package lists may be missing or stale: update once
        if _run([*apt, "update", "-q"], env=env) != 0 or _run(install, env=env) != 0:
            return 1
    return 0


def cmd_test(args):
    python = ensure_env()
    with tempfile.TemporaryDirectory(prefix="l2l-test-results-") as tmp:
        env = _test_env(python, tmp)  # the venv's `l2l` for `!l2l` in notebooks
        # --fast: the tests and doctests that train no network (no notebooks, no browser), in minutes
        targets = args.paths or (["tests", "l2l_helpers"] if args.fast else ["tests", "l2l_helpers", "notebooks"])
        selection = ["-m", "not slow and not browser"] if args.fast else []
        if not args.fast and "tests" in targets and not _has_chromium():
            print(
                "tests/test_browser.py needs Debian's chromium and skips without it (fails where CI or "
                "L2L_REQUIRE_BROWSER=1 is set); install it with:  python3 tasks.py setup --browser",
                flush=True,
            )
        cmd = _pytest_cmd(python, *selection, *targets, *args.pytest_args, doctests=True)
        with realdata_mirror(env):
            return _run(cmd, cwd=ROOT, env=env)


def cmd_lab(args):
    python = ensure_env()
    env = _with_venv_path(python)
    env.setdefault("L2L_REUSE_MODELS", "1")  # networks of `tasks.py precompute` (or an earlier run) load, not train
    return _run(
        [python, "-m", "jupyter", "lab", "--notebook-dir", ROOT / "notebooks", *args.lab_args], cwd=ROOT, env=env
    )


def cmd_setup(args):
    ensure_env()
    return install_browser() if args.browser else 0


def cmd_badges(args):
    python = ensure_env()
    return _run([python, "-m", "tools.course_links", "--root", ROOT, *(["--check"] if args.check else [])], cwd=ROOT)


def ensure_colab_env(base_python=None):
    """Create .venv-colab with Google Colab's versions (requirements-colab.txt), once (again when they change)."""
    base_python = base_python or sys.executable
    python = _venv_python(COLAB_VENV)
    stamp = COLAB_VENV / ".l2l-installed"
    version = subprocess.run([base_python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True)
    if version.returncode != 0:
        sys.exit(f"{base_python} does not run: {version.stderr.strip()}")
    h = hashlib.sha256((ROOT / "requirements-colab.txt").read_bytes())
    h.update(version.stdout.strip().encode())
    fingerprint = h.hexdigest()
    if not (stamp.exists() and stamp.read_text().strip() == fingerprint):
        print(
            f"Creating a virtual environment with Colab's versions in {COLAB_VENV} "
            f"(Python {version.stdout.split()[0]}) ...",
            flush=True,
        )
        if _run([base_python, "-m", "venv", "--clear", COLAB_VENV]) != 0:
            sys.exit("Could not create the virtual environment (on Debian/Ubuntu: apt-get install python3-venv).")
        pip = [python, "-m", "pip", "--disable-pip-version-check"]
        for cmd in (pip + ["install", "--upgrade", "pip"], pip + ["install", "-r", ROOT / "requirements-colab.txt"]):
            if _run(cmd) != 0:
                sys.exit(f"Installation failed: {' '.join(str(c) for c in cmd)}")
        stamp.write_text(fingerprint + "\n")
    return python


COLAB_REPORT = """import sys, l2l_helpers
from importlib.metadata import version
print("l2l_helpers", version("l2l-helpers"), "from", l2l_helpers.__file__)
print(f"Python {sys.version.split()[0]}", *(f"{p} {version(p)}" for p in
      ("tensorflow", "keras", "numpy", "scikit-image", "ipywidgets", "csbdeep")), sep=", ")
"""


def cmd_test_colab(args):
    """Install the package as the notebooks' Colab cell does, into Colab's versions, and run the notebooks."""
    python = ensure_colab_env(args.python)
    links = _course_links()
    with (
        tempfile.TemporaryDirectory(prefix="l2l-colab-") as tmp,
        tempfile.TemporaryDirectory(prefix="l2l-test-results-") as results,
    ):
        # the Colab cell itself, with a stand-in google.colab and this checkout instead of the GitHub address
        stub = Path(tmp) / "stub" / "google" / "colab"
        stub.mkdir(parents=True)
        (stub / "__init__.py").write_text("")
        (stub / "output.py").write_text("def enable_custom_widget_manager():\n    pass\n")
        # the package's source as pip gets it from GitHub (a copy: no build files left in the checkout)
        source = Path(tmp) / "source"
        shutil.copytree(ROOT / "l2l_helpers", source / "l2l_helpers", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        cell = links.colab_setup_source(ROOT / "pyproject.toml", source=source.as_uri())
        print(f"Installing l2l_helpers as the Colab cell does (keeping {', '.join(links.COLAB_KEEP)}):", flush=True)
        env = dict(os.environ, PYTHONPATH=str(stub.parent.parent))
        cell = "import google.colab  # imported by Colab's kernel at start\n" + cell
        if _run([python, "-c", cell], cwd=tmp, env=env) != 0:
            return 1
        _run([python, "-c", COLAB_REPORT], cwd=tmp)
        env = _test_env(python, results)
        notebooks = sorted((ROOT / "notebooks").glob(links.NOTEBOOK_GLOB))
        if args.only:
            notebooks = [p for p in notebooks if p.name.startswith(tuple(args.only))]
            if not notebooks:
                sys.exit(f"no notebook in {ROOT / 'notebooks'} starts with {' or '.join(args.only)}")
        # rootdir is the checkout (pyproject's pytest settings), but the kernels import the installed package
        cmd = _pytest_cmd(python, *[p.relative_to(ROOT) for p in notebooks], *args.pytest_args)
        with realdata_mirror(env):
            return _run(cmd, cwd=ROOT, env=env)


def cmd_bench(args):
    python = ensure_env()
    if args.peers:
        peers = _venv_python(PEERS_VENV)
        if not peers.exists():
            _run([sys.executable, "-m", "venv", PEERS_VENV], cwd=ROOT)
        if (
            _run([peers, "-m", "pip", "install", "-q", "-r", ROOT / "benchmarks" / "requirements-peers.txt"], cwd=ROOT)
            != 0
        ):
            return 1
    env = _with_venv_path(python, TF_CPP_MIN_LOG_LEVEL="2", L2L_PROGRESS="text")
    with realdata_mirror(env):  # the real image of section quality_real, where ../shared/realdata exists
        return _run([python, ROOT / "benchmarks" / "suite.py", *args.suite_args], cwd=ROOT, env=env)


def _add_course_commands(sub):
    """The commands that run or open the course: course, precompute, lab, setup."""
    p = sub.add_parser("course", help="run every notebook headless; results in course_output/")
    p.add_argument("--profile", choices=("quick", "workshop", "paper"), default="workshop")
    p.add_argument("--out", default="course_output")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="notebook name prefixes, e.g. 00 03")
    p.add_argument("--inplace", action="store_true", help="save outputs into notebooks/ (maintainers)")
    p.set_defaults(func=cmd_course)
    p = sub.add_parser(
        "precompute",
        help="train every network of the notebooks into notebooks/results, for a "
        "workshop to start from (L2L_REUSE_MODELS=1)",
    )
    p.add_argument("--profile", choices=("quick", "workshop", "paper"), default="workshop")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="notebook name prefixes, e.g. 03 04")
    p.set_defaults(func=cmd_precompute)
    p = sub.add_parser("lab", help="open JupyterLab on notebooks/")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed on to jupyter lab")
    p.set_defaults(func=cmd_lab)
    p = sub.add_parser("setup", help="only create/refresh the environment")
    p.add_argument(
        "--browser",
        action="store_true",
        help="also install Debian's chromium for tests/test_browser.py (apt-get, as root or through sudo)",
    )
    p.set_defaults(func=cmd_setup)


def _add_maintainer_commands(sub):
    """The commands that check or maintain the course: test, badges, test-colab, bench."""
    p = sub.add_parser(
        "test",
        help="run pytest on tests/, the doctests of l2l_helpers/ and nbval on notebooks/ "
        "(quick profile; checked cells compared with their committed outputs)",
    )
    p.add_argument("paths", nargs="*", help="test paths (default: tests l2l_helpers notebooks)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="only what trains no network: tests and doctests not marked slow or browser, no notebooks",
    )
    p.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[], help="passed on to pytest")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser(
        "badges",
        help="write the Binder/Colab badges and the Colab set-up cell into every notebook "
        "and README.md, from pyproject's [project.urls] Repository (idempotent)",
    )
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if something is out of date")
    p.set_defaults(func=cmd_badges)
    p = sub.add_parser(
        "test-colab",
        help="run the notebooks under nbval (quick profile) in .venv-colab: Google "
        "Colab's versions (requirements-colab.txt), the package installed as the "
        "Colab cell does",
    )
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="notebook name prefixes, e.g. 00 01")
    p.add_argument("--python", help="the Python to build .venv-colab on (default: this one; Colab has 3.13)")
    p.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[], help="passed on to pytest")
    p.set_defaults(func=cmd_test_colab)
    p = sub.add_parser(
        "bench",
        help="run the benchmark suite (benchmarks/suite.py): writes benchmarks/results.json, "
        "benchmarks/results.md and README's benchmark table",
    )
    p.add_argument(
        "--peers",
        action="store_true",
        help="first install CAREamics into .venv-peers for the quality section (PyTorch: a large download)",
    )
    p.set_defaults(func=cmd_bench, suite_args=[])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="task", required=True)
    _add_course_commands(sub)
    _add_maintainer_commands(sub)
    args, extra = parser.parse_known_args(argv)
    if extra:  # only bench passes its other options on (to benchmarks/suite.py, e.g. --sections quality drift)
        if args.task != "bench":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.suite_args = extra
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
