"""The course works in a real browser: JupyterLab in headless Chromium, driven by Playwright.

A JupyterLab server (127.0.0.1, a free port, a token) serves a temporary copy of
``notebooks/`` in the quick profile, with a temporary results folder and its own
settings, workspaces and runtime folders; nothing is written into the
repository except screenshots in ``test-artifacts/browser/`` (git-ignored).
The tests run every cell from the Run menu, as a learner does, then check what
the page shows: figures that load, no error output, and a viewer that changes
its image when a button is clicked.

Needs the pip package ``playwright`` (requirements.txt) and Debian's
``chromium`` (``python3 tasks.py setup --browser`` installs it; CI's
``.ci/run`` does). Without them the tests skip, except where
``L2L_REQUIRE_BROWSER=1`` or ``CI`` is set, where they fail and say what is
missing.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("L2L_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
INLINE = "module://matplotlib_inline.backend_inline"
REQUIRED = os.environ.get("L2L_REQUIRE_BROWSER", "") == "1" or bool(os.environ.get("CI"))
# seconds allowed for Run All: several times what the quick profile needs (benchmarks/results.md, notebooks_quick)
RUN_TIMEOUT_S = {"00_the_data.ipynb": 600, "04_loss_functions.ipynb": 1500}

# JupyterLab user settings for the test server only: no news or update pop-ups over the notebook.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False}
}


# The notebook on show (JupyterLab keeps other notebooks of the workspace in hidden tabs).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# the input prompts of its code cells ("[3]:", "[*]:", "[ ]:") and the kernel status of its toolbar
STATE_JS = f"""() => {{
    const panel = document.querySelector('{PANEL}');
    if (!panel) return [[], []];
    return [[...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim()),
            [...panel.querySelectorAll('.jp-Notebook-ExecutionIndicator')].map(e => e.dataset.status)];
}}"""


def _missing(message):
    if REQUIRED:
        pytest.fail(f"browser test required (L2L_REQUIRE_BROWSER=1 or CI set) but {message}", pytrace=False)
    pytest.skip(message)


def _chromium():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the pip package playwright is missing: pip install -r requirements.txt (python3 tasks.py test does)")
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        _missing("Debian's chromium is missing: python3 tasks.py setup --browser installs it")
    return exe


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the notebooks; yields (base url, token, notebook folder)."""
    chromium = _chromium()
    tmp = tmp_path_factory.mktemp("lab")
    notebooks = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns("results", ".ipynb_checkpoints"))
    for path in notebooks.glob("[0-9][0-9]_*.ipynb"):  # no committed outputs: what the page shows comes from this run
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, path)
    settings = tmp / "settings"
    for name, value in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        L2L_PROFILE="quick",
        L2L_RESULTS_DIR=str(tmp / "results"),
        MPLBACKEND=INLINE,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # `!l2l` in notebooks
    env.pop("L2L_PROGRESS", None)  # progress bars as a learner sees them (widgets)
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # CI runs as root
    log = open(tmp / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebooks}",
            *as_root,
        ],
        cwd=notebooks,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"JupyterLab did not start: {(tmp / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield {"base": base, "token": token, "notebooks": notebooks, "chromium": chromium}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=lab["chromium"], args=["--no-sandbox"])
        yield b
        b.close()


def _shot(page_or_element, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page_or_element.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def _wait_for_kernel(page, lab, name, timeout=120):
    """Wait until the notebook's kernel is up and idle; accept the kernel dialog if JupyterLab asks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():  # "Select Kernel": the notebook's own kernel is preselected
            dialog.first.click()
        with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}", timeout=10) as r:
            sessions = json.load(r)
        if any(s["path"].endswith(name) and s["kernel"]["execution_state"] == "idle" for s in sessions):
            return
        page.wait_for_timeout(500)
    pytest.fail(f"{name}: no idle kernel after {timeout} s")


def _shut_down_kernel(lab, name):
    """End the notebook's kernel (the next notebook then has the memory to itself)."""
    base, token = lab["base"], lab["token"]
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as r:
        ids = [s["id"] for s in json.load(r) if s["path"].endswith(name)]
    for sid in ids:
        req = urllib.request.Request(f"{base}/api/sessions/{sid}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).read()


def _open_and_run_all(browser, lab, name):
    """Open a notebook, Run > Run All Cells, wait until every cell ran; return the page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}")  # reset: only this notebook open
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    _wait_for_kernel(page, lab, name)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    n_code = sum(c.cell_type == "code" for c in nbformat.read(lab["notebooks"] / name, as_version=4).cells)
    # finished: the kernel is idle and no cell is queued or running ("[*]:"), once the run has started
    deadline = time.monotonic() + RUN_TIMEOUT_S[name]
    while True:
        prompts, status = page.evaluate(STATE_JS)
        started = any(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
        if started and "[*]:" not in prompts and "idle" in status:
            break
        if time.monotonic() > deadline:
            _shot(page, f"{Path(name).stem}_timeout.png")
            pytest.fail(f"{name}: not finished after {RUN_TIMEOUT_S[name]} s; prompts {prompts}, kernel {status}")
        page.wait_for_timeout(1000)
    unrun = [k for k, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
    if len(prompts) != n_code or unrun:
        _shot(page, f"{Path(name).stem}_unrun.png")
        errors = _errors(_save_and_read(page, lab, name))
        pytest.fail(
            f"{name}: code cells {unrun} of {len(prompts)} on the page ({n_code} in the notebook) did not run; "
            f"errors: {errors}"
        )
    return page


def _save_and_read(page, lab, name):
    """Save the notebook from the browser (Ctrl+S) and read what it holds."""
    page.locator(f"{PANEL} .jp-Notebook").first.click(position={"x": 5, "y": 5})
    path = lab["notebooks"] / name
    before = path.stat().st_mtime_ns
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while path.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert path.stat().st_mtime_ns != before, f"{name} was not saved from the browser"
    time.sleep(1)
    return nbformat.read(path, as_version=4)


def _errors(nb):
    return [
        f"cell {k}: {o.get('ename')}: {o.get('evalue')}"
        for k, c in enumerate(nb.cells)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def _figures(page):
    """(number of PNG outputs shown, how many of them loaded an image) after decoding each."""
    return page.evaluate(
        f"""async () => {{
            const imgs = [...document.querySelectorAll(
                '{PANEL} .jp-OutputArea-output[data-mime-type="image/png"] img')];
            const widths = await Promise.all(imgs.map(i => i.decode().then(() => i.naturalWidth, () => 0)));
            return [imgs.length, widths.filter(w => w > 0).length];
        }}"""
    )


def test_notebook_00_runs_in_jupyterlab_and_shows_its_figures(browser, lab):
    name = "00_the_data.ipynb"
    page = _open_and_run_all(browser, lab, name)
    shown, loaded = _figures(page)
    first = page.locator(f'{PANEL} .jp-OutputArea-output[data-mime-type="image/png"] img').first
    first.scroll_into_view_if_needed()
    _shot(page, "00_the_data.png")
    nb = _save_and_read(page, lab, name)
    page.close()
    _shut_down_kernel(lab, name)
    assert not _errors(nb), f"error outputs in the browser run: {_errors(nb)}"
    pngs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert pngs > 0, "notebook 00 shows no figure"
    assert shown == pngs, f"{pngs} figures in the notebook, {shown} shown on the page"
    assert loaded == shown, f"only {loaded} of {shown} figures loaded an image"


@pytest.mark.slow
def test_notebook_04_viewer_flips_images_in_jupyterlab(browser, lab):
    name = "04_loss_functions.ipynb"
    page = _open_and_run_all(browser, lab, name)
    nb = _save_and_read(page, lab, name)
    assert not _errors(nb), f"error outputs in the browser run: {_errors(nb)}"
    shown, loaded = _figures(page)
    assert shown > 0 and loaded == shown, f"only {loaded} of {shown} figures loaded an image"

    viewer = page.locator(f"{PANEL} .widget-vbox", has=page.locator(".widget-toggle-buttons")).first
    viewer.scroll_into_view_if_needed()
    _shot(page, "04_loss_functions.png")
    buttons = viewer.locator(".widget-toggle-button")
    assert buttons.count() >= 2, "the flip viewer shows fewer than two buttons"
    image = viewer.locator(".widget-output img").first
    image.wait_for(state="visible")
    before_src = image.get_attribute("src")
    before = _shot(viewer, "04_viewer_before.png").read_bytes()
    labels = [buttons.nth(i).inner_text().strip() for i in range(buttons.count())]
    buttons.nth(1).click()
    page.wait_for_function(
        "([sel, old]) => { const i = document.querySelector(sel); return i && i.naturalWidth > 0 && i.src !== old; }",
        arg=[f"{PANEL} .widget-vbox .widget-output img", before_src],
        timeout=60_000,
    )
    time.sleep(0.5)
    after = _shot(viewer, "04_viewer_after.png").read_bytes()
    after_src = image.get_attribute("src")
    page.close()
    _shut_down_kernel(lab, name)
    assert after_src != before_src, f"clicking {labels[1]!r} did not change the image"
    assert after != before, f"the viewer looks the same after clicking {labels[1]!r}"
