"""Specification of tasks.realdata_mirror: ../shared/realdata served to the notebooks while tests run."""

import importlib.util
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tasks():
    spec = importlib.util.spec_from_file_location("_l2l_tasks", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def realdata(tmp_path):
    folder = tmp_path / "realdata"
    folder.mkdir()
    (folder / "SHA256SUMS").write_text("")
    (folder / "image.tif").write_bytes(b"pixels")
    return folder


def test_the_mirror_serves_the_folder_and_gives_a_fresh_cache(tasks, realdata, monkeypatch):
    monkeypatch.setattr(tasks, "REALDATA", realdata)
    env = {}
    with tasks.realdata_mirror(env):
        with urllib.request.urlopen(env["L2L_DATA_BASE_URL"] + "image.tif", timeout=5) as response:
            assert response.read() == b"pixels"
        cache = Path(env["L2L_DATA_DIR"])
        assert cache.is_dir() and not any(cache.iterdir())
    assert not cache.exists()


def test_the_mirror_stops_when_the_block_ends(tasks, realdata, monkeypatch):
    monkeypatch.setattr(tasks, "REALDATA", realdata)
    env = {}
    with tasks.realdata_mirror(env):
        url = env["L2L_DATA_BASE_URL"]
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "image.tif", timeout=2)


def test_without_the_folder_the_environment_is_left_alone(tasks, tmp_path, monkeypatch):
    monkeypatch.setattr(tasks, "REALDATA", tmp_path / "absent")
    env = {"PATH": "x"}
    with tasks.realdata_mirror(env):
        assert env == {"PATH": "x"}


def test_a_mirror_the_user_chose_is_kept(tasks, realdata, monkeypatch):
    monkeypatch.setattr(tasks, "REALDATA", realdata)
    env = {"L2L_DATA_BASE_URL": "https://example.org/mirror/"}
    with tasks.realdata_mirror(env):
        assert env == {"L2L_DATA_BASE_URL": "https://example.org/mirror/"}
