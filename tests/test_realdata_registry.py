"""The BPAE images registered in data_registry.txt: real hashes, fetched through the course's own code.

A server on 127.0.0.1 (port chosen by the system, stopped after each test)
serves the shared copies in ``../shared/realdata/``; ``L2L_DATA_BASE_URL``
points pooch at it, so :func:`l2l_helpers.data.datasets.fetch` runs exactly as
on Binder, with the hashes of the package registry. Skipped with a clear
message when ``../shared/realdata`` is absent.
"""

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from l2l_helpers.data import datasets
from l2l_helpers.scoring import separation

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
PINNED = "https://github.com/haesleinhuepf/BioImageAnalysisNotebooks/raw/3766d2f6056aa0058241b80a66c234977e833762/data/"

needs_realdata = pytest.mark.skipif(
    not (REALDATA / "SHA256SUMS").is_file(),
    reason=f"real images not found: {REALDATA} (../shared/realdata beside the checkout) is absent",
)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """Serve a folder on 127.0.0.1 as the data mirror; a fresh cache per test."""
    servers = []

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.timeout = 5
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((httpd, thread))
        monkeypatch.setenv("L2L_DATA_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/")
        return httpd

    monkeypatch.setenv("L2L_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    yield start
    for httpd, thread in servers:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _sums():
    lines = (REALDATA / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines if line.strip())}


@needs_realdata
def test_registered_bpae_hashes_match_the_shared_SHA256SUMS():
    entries = datasets.registry_entries()
    sums = _sums()
    for name in separation.BPAE_FILES.values():
        assert entries[name].hash.removeprefix("sha256:") == sums[name], name


def test_bpae_urls_are_pinned_to_one_commit():
    entries = datasets.registry_entries()
    for name in separation.BPAE_FILES.values():
        assert entries[name].url == PINNED + name


def test_paper_dataset_entry_stays_beside_the_bpae_entries():
    entries = datasets.registry_entries()
    assert not entries[datasets.PAPER_DATASET].known
    assert all(entries[name].known for name in separation.BPAE_FILES.values())


@needs_realdata
def test_fetch_downloads_the_bpae_images_and_checks_their_real_hashes(serve, tmp_path):
    serve(REALDATA)
    for name in separation.BPAE_FILES.values():
        path = datasets.fetch(name, progressbar=False, timeout=10)
        assert path == tmp_path / "cache" / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == _sums()[name]


@needs_realdata
def test_fetch_bpae_reads_the_labels_as_images(serve):
    serve(REALDATA)
    images = separation.fetch_bpae(("nuclei", "actin"), timeout=10)
    assert list(images) == ["nuclei", "actin"]
    assert images["actin"].shape == images["nuclei"].shape == (680, 1100)


@needs_realdata
def test_a_served_file_that_differs_from_the_registry_is_refused_and_not_kept(serve, tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    shutil.copy(REALDATA / "BPAE_actin.tif", folder / "BPAE_nuclei.tif")  # the wrong image under the name
    serve(folder)
    with pytest.raises(ValueError, match="hash"):
        datasets.fetch("BPAE_nuclei.tif", progressbar=False, timeout=10)
    assert not (tmp_path / "cache" / "BPAE_nuclei.tif").exists()


def test_unreachable_server_fails_fast_with_a_dataset_error(serve, tmp_path, monkeypatch):
    httpd = serve(tmp_path)
    port = httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()  # nothing listens on the port any more
    monkeypatch.setenv("L2L_DATA_BASE_URL", f"http://127.0.0.1:{port}/")
    with pytest.raises(datasets.DatasetError, match="could not download 'BPAE_mito.tif'"):
        separation.fetch_bpae(("mito",), timeout=2)
