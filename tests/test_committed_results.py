"""Results committed with the course (notebooks/data/): registered with their hashes, fetched where missing (Colab)."""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from l2l_helpers.data import datasets
from tools import course_links

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "notebooks" / "data"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """The committed files served on 127.0.0.1 under their registry names (course/FOLDER/FILE)."""
    served = tmp_path / "served"
    for folder, files in course_links.COMMITTED_RESULTS.items():
        (served / "course" / folder).mkdir(parents=True)
        for name in files:
            shutil.copy(DATA / folder / name, served / "course" / folder / name)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("L2L_DATA_BASE_URL", f"http://127.0.0.1:{httpd.server_address[1]}/")
    monkeypatch.setenv("L2L_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    yield served
    httpd.shutdown()
    httpd.server_close()


def test_the_registry_holds_the_hashes_of_the_committed_files():
    # fails after a committed result is regenerated: run `python3 tasks.py badges`
    text = (ROOT / "l2l_helpers" / "data_registry.txt").read_text()
    assert course_links.registry_block(ROOT) in text, "committed results changed: run python3 tasks.py badges"


def test_every_committed_result_is_registered_with_its_download_address():
    entries = datasets.registry_entries()
    for folder, files in course_links.COMMITTED_RESULTS.items():
        for name in files:
            entry = entries[f"course/{folder}/{name}"]
            assert entry.url == course_links.raw_url(f"notebooks/data/{folder}/{name}")


def test_a_local_folder_is_used_as_it_is(tmp_path):
    assert (
        datasets.committed_result("07_crossval_workshop", local=DATA / "07_crossval_workshop")
        == DATA / "07_crossval_workshop"
    )


def test_a_missing_folder_is_downloaded_and_checked(mirror, tmp_path):
    folder = datasets.committed_result("09_validation_workshop", local=tmp_path / "absent")
    assert folder == tmp_path / "cache" / "course" / "09_validation_workshop"
    for name in course_links.COMMITTED_RESULTS["09_validation_workshop"]:
        assert (folder / name).read_bytes() == (DATA / "09_validation_workshop" / name).read_bytes()


def test_a_downloaded_file_that_differs_from_its_hash_is_refused(mirror, tmp_path):
    (mirror / "course" / "07_crossval_workshop" / "results.csv").write_text("changed\n")
    with pytest.raises(ValueError):
        datasets.committed_result("07_crossval_workshop", local=tmp_path / "absent")


def test_an_unknown_result_names_what_is_registered(tmp_path):
    with pytest.raises(datasets.DatasetError, match="09_validation_workshop"):
        datasets.committed_result("99_nothing", local=tmp_path / "absent")
