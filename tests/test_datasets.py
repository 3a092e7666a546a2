"""Specification of l2l_helpers.data.datasets and ``l2l data``.

Downloads are tested for real against an HTTP server on 127.0.0.1 serving a
zip built in the test; the cache (``L2L_DATA_DIR``) is a temporary folder.
"""

import functools
import hashlib
import http.server
import re
import threading
import zipfile
from pathlib import Path

import numpy as np
import pooch
import pytest
import tifffile

from l2l_helpers.cli import main as l2l
from l2l_helpers.data import datasets, io

# --------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets its own cache; no mirror; local connections bypass proxies."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("L2L_DATA_DIR", str(folder))
    monkeypatch.delenv("L2L_DATA_BASE_URL", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server:
    def __init__(self, folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.running = False


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    srv = _Server(folder)
    srv.folder = folder
    yield srv
    srv.stop()


def _tiny(seed):
    return np.random.default_rng(seed).integers(0, 1000, (8, 8)).astype(np.uint16)


@pytest.fixture
def archive(server):
    """pairs.zip (input/ + target/ with two tiny TIFFs each) served by the server; returns (name, sha256)."""
    build = server.folder.parent / "build"
    for k, name in enumerate(["cell_000.tif", "cell_001.tif"]):
        for j, sub in enumerate(["input", "target"]):
            (build / sub).mkdir(parents=True, exist_ok=True)
            tifffile.imwrite(build / sub / name, _tiny(2 * k + j))
    path = server.folder / "pairs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(build.rglob("*.tif")):
            zf.write(f, f.relative_to(build).as_posix())
    return "pairs.zip", hashlib.sha256(path.read_bytes()).hexdigest()


def _registry(tmp_path, *lines):
    path = tmp_path / "extra_registry.txt"
    path.write_text("# test registry\n" + "\n".join(lines) + "\n")
    return path


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())


# --------------------------------------------------------------------- registry and environment


def test_package_registry_is_found_with_importlib_resources():
    from importlib import resources

    text = resources.files("l2l_helpers").joinpath("data_registry.txt").read_text()
    assert datasets.PAPER_DATASET in text


def test_package_registry_loads_in_plain_pooch():
    pup = pooch.create(path="unused", base_url="", registry={})
    pup.load_registry(Path(datasets.__file__).parents[1] / "data_registry.txt")
    assert datasets.PAPER_DATASET in pup.registry


def test_paper_dataset_is_listed_with_unknown_hash_and_its_doi_not_an_invented_file():
    entry = datasets.registry_entries()[datasets.PAPER_DATASET]
    assert not entry.known
    assert entry.url == datasets.PAPER_DOI_URL == "https://doi.org/10.15129/ee2ff5ad-5bbd-459d-953b-7d45b057fc05"


def test_cache_folder_follows_L2L_DATA_DIR_at_every_call(tmp_path, monkeypatch):
    assert Path(datasets.make_pooch().path) == tmp_path / "cache"
    monkeypatch.setenv("L2L_DATA_DIR", str(tmp_path / "elsewhere"))
    assert Path(datasets.make_pooch().path) == tmp_path / "elsewhere"


def test_cache_folder_defaults_to_the_pooch_os_cache(monkeypatch):
    monkeypatch.delenv("L2L_DATA_DIR")
    assert datasets.data_dir() == Path(pooch.os_cache("l2l"))


def test_mirror_base_url_replaces_registry_urls(tmp_path, monkeypatch):
    reg = _registry(tmp_path, "f.zip sha256:" + "0" * 64 + " https://example.org/f.zip")
    monkeypatch.setenv("L2L_DATA_BASE_URL", "http://mirror.test/data")
    assert datasets.make_pooch(reg).get_url("f.zip") == "http://mirror.test/data/f.zip"


def test_malformed_registry_line_names_file_and_line(tmp_path):
    reg = _registry(tmp_path, "only-a-name")
    with pytest.raises(datasets.DatasetError, match=r"extra_registry\.txt, line 2"):
        datasets.registry_entries(reg)


# --------------------------------------------------------------------- fetch (real HTTP on 127.0.0.1)


def test_fetch_downloads_checks_and_unpacks_an_archive_from_a_mirror(
    archive, server, cache, tmp_path, monkeypatch, capsys
):
    name, sha = archive
    monkeypatch.setenv("L2L_DATA_BASE_URL", server.url)
    folder = datasets.fetch(name, registry=_registry(tmp_path, f"{name} sha256:{sha}"), progressbar=True)
    assert folder == cache / "pairs.zip.unzip"
    assert _files(folder) == ["input/cell_000.tif", "input/cell_001.tif", "target/cell_000.tif", "target/cell_001.tif"]
    names, (inputs, targets) = io.load_pairs(folder / "input", folder / "target")
    np.testing.assert_array_equal(targets[1], _tiny(3))
    capsys.readouterr()  # the progress bar went to a captured (non-TTY) stderr without crashing


def test_fetch_uses_the_url_written_in_the_registry(archive, server, cache, tmp_path):
    name, sha = archive
    folder = datasets.fetch(name, registry=_registry(tmp_path, f"{name} {sha} {server.url}/{name}"))
    assert (folder / "input" / "cell_000.tif").is_file()
    assert (cache / name).is_file()


def test_second_fetch_uses_the_cache_without_network(archive, server, tmp_path):
    name, sha = archive
    reg = _registry(tmp_path, f"{name} {sha} {server.url}/{name}")
    first = datasets.fetch(name, registry=reg, progressbar=False)
    server.stop()
    again = datasets.fetch(name, registry=reg, progressbar=False)
    assert again == first and len(_files(again)) == 4


def test_hash_mismatch_gives_pooch_error_and_leaves_nothing_in_the_cache(archive, server, cache, tmp_path):
    name, _ = archive
    wrong = "1" * 64
    reg = _registry(tmp_path, f"{name} sha256:{wrong} {server.url}/{name}")
    with pytest.raises(ValueError, match=rf"SHA256 hash of downloaded file \({name}\) does not match") as err:
        datasets.fetch(name, registry=reg, progressbar=False)
    assert wrong in str(err.value)
    assert not cache.exists() or _files(cache) == []


def test_unreachable_server_error_names_the_url(archive, server, tmp_path, cache):
    name, sha = archive
    url = f"{server.url}/{name}"
    server.stop()
    with pytest.raises(datasets.DatasetError, match=re.escape(f"could not download '{name}' from {url}")):
        datasets.fetch(name, registry=_registry(tmp_path, f"{name} {sha} {url}"), progressbar=False)
    assert not (cache / name).exists()


def test_missing_file_on_the_server_error_names_the_url(archive, server, tmp_path):
    _, sha = archive
    url = f"{server.url}/absent.zip"
    with pytest.raises(datasets.DatasetError, match=re.escape(url)):
        datasets.fetch("absent.zip", registry=_registry(tmp_path, f"absent.zip {sha} {url}"), progressbar=False)


def test_plain_file_is_returned_as_is(server, tmp_path):
    (server.folder / "notes.txt").write_text("hello\n")
    sha = hashlib.sha256(b"hello\n").hexdigest()
    path = datasets.fetch("notes.txt", registry=_registry(tmp_path, f"notes.txt {sha} {server.url}/notes.txt"))
    assert path.name == "notes.txt" and path.read_text() == "hello\n"


def test_unknown_name_error_lists_the_known_names():
    with pytest.raises(datasets.DatasetError, match=r"'nope' is not in the data registry \(known: .*label2label-paper"):
        datasets.fetch("nope")


def test_entry_without_url_or_mirror_says_how_to_provide_one(tmp_path, cache):
    reg = _registry(tmp_path, "x.zip " + "0" * 64)
    with pytest.raises(datasets.DatasetError, match="no download URL") as err:
        datasets.fetch("x.zip", registry=reg)
    assert str(cache / "x.zip") in str(err.value) and "L2L_DATA_BASE_URL" in str(err.value)


def test_cached_file_failing_its_hash_without_url_is_named(tmp_path, cache):
    cache.mkdir()
    (cache / "x.zip").write_bytes(b"changed")
    reg = _registry(tmp_path, "x.zip " + hashlib.sha256(b"original").hexdigest())
    with pytest.raises(datasets.DatasetError, match=r"x\.zip: does not match the registered hash"):
        datasets.fetch("x.zip", registry=reg)
    assert (cache / "x.zip").read_bytes() == b"changed"


def test_paper_dataset_fetch_explains_doi_cache_path_and_register_command(cache):
    with pytest.raises(datasets.DatasetError) as err:
        datasets.fetch(datasets.PAPER_DATASET)
    message = str(err.value)
    assert "https://doi.org/10.15129/ee2ff5ad-5bbd-459d-953b-7d45b057fc05" in message
    assert f"into the data cache folder {cache}" in message
    assert f"l2l data register {cache / 'FILE'} --url" in message
    assert not cache.exists() or _files(cache) == []


# --------------------------------------------------------------------- register


def test_register_writes_name_sha256_and_url_into_the_user_registry(tmp_path, cache):
    f = tmp_path / "data.zip"
    f.write_bytes(b"abc")
    entries = datasets.register(f, url="https://example.org/data.zip")
    sha = hashlib.sha256(b"abc").hexdigest()
    assert [(e.name, e.hash, e.url) for e in entries] == [("data.zip", f"sha256:{sha}", "https://example.org/data.zip")]
    assert f"data.zip sha256:{sha} https://example.org/data.zip" in (cache / "registry.txt").read_text()
    assert datasets.registry_entries()["data.zip"].hash == f"sha256:{sha}"


def test_register_replaces_the_line_of_the_same_name_and_keeps_the_others(tmp_path):
    reg = _registry(tmp_path, "# keep this comment", "other.zip " + "2" * 64, "data.zip " + "0" * 64)
    f = tmp_path / "data.zip"
    f.write_bytes(b"new content")
    datasets.register(f, registry=reg)
    lines = reg.read_text().splitlines()
    assert lines[:3] == ["# test registry", "# keep this comment", "other.zip " + "2" * 64]
    assert lines[3] == "data.zip sha256:" + hashlib.sha256(b"new content").hexdigest()
    assert len(lines) == 4


def test_register_folder_names_files_by_relative_path_under_a_base_url(tmp_path):
    folder = tmp_path / "download"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.zip").write_bytes(b"a")
    (folder / "sub" / "b.tif").write_bytes(b"b")
    (folder / ".DS_Store").write_bytes(b"junk")
    entries = datasets.register(folder, url="https://example.org/files/", registry=tmp_path / "r.txt")
    assert [(e.name, e.url) for e in entries] == [
        ("a.zip", "https://example.org/files/a.zip"),
        ("sub/b.tif", "https://example.org/files/sub/b.tif"),
    ]


def test_register_missing_file_is_named(tmp_path):
    with pytest.raises(datasets.DatasetError, match=r"gone\.zip: no such file or folder"):
        datasets.register(tmp_path / "gone.zip")


def test_register_into_an_unwritable_place_names_the_registry(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    f = tmp_path / "data.zip"
    f.write_bytes(b"abc")
    with pytest.raises(datasets.DatasetError, match=r"a_file/r\.txt: cannot write the registry"):
        datasets.register(f, registry=tmp_path / "a_file" / "r.txt")


def test_unwritable_cache_folder_is_named_in_the_error(archive, server, tmp_path, monkeypatch):
    name, sha = archive
    (tmp_path / "a_file").write_text("not a folder")
    monkeypatch.setenv("L2L_DATA_DIR", str(tmp_path / "a_file" / "cache"))
    with pytest.raises(datasets.DatasetError, match=r"data cache folder .*a_file/cache"):
        datasets.fetch(name, registry=_registry(tmp_path, f"{name} {sha} {server.url}/{name}"), progressbar=False)


def test_registered_file_copied_to_the_cache_is_fetched_without_network(archive, server, tmp_path, cache):
    name, sha = archive
    server.stop()
    datasets.register(server.folder / name, copy_to_cache=True)
    folder = datasets.fetch(name, progressbar=False)
    assert len(_files(folder)) == 4
    assert (server.folder / name).is_file()  # the user's copy is untouched


# --------------------------------------------------------------------- pairs by token


def _token_tree(root, layout):
    for k, rel in enumerate(layout):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tifffile.imwrite(path, _tiny(k))
    return root


def test_pairs_by_token_in_folder_names_writes_input_and_target_folders(tmp_path):
    src = _token_tree(
        tmp_path / "raw",
        [
            "exp1/AC15/cell01.tif",
            "exp1/Phalloidin/cell01.tif",
            "exp2/AC15/cell02.tif",
            "exp2/Phalloidin/cell02.tif",
            "exp2/DAPI/cell02.tif",
        ],
    )
    pairs = datasets.pairs_by_token(src, tmp_path / "out", input_token="AC15", target_token="phalloidin")
    names, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)
    assert names == ["exp1_cell01.tif", "exp2_cell02.tif"]
    np.testing.assert_array_equal(inputs[1], _tiny(2))
    np.testing.assert_array_equal(targets[1], _tiny(3))
    assert "sources.csv" in _files(pairs.output)


def test_pairs_by_token_in_file_names(tmp_path):
    src = _token_tree(tmp_path / "raw", ["cell01_AC15.tif", "cell01_phalloidin.tif"])
    pairs = datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")
    assert pairs.names == ["cell01.tif"]
    assert pairs.sources["cell01.tif"] == (str(src / "cell01_AC15.tif"), str(src / "cell01_phalloidin.tif"))


def test_pairs_by_token_names_inputs_without_target(tmp_path):
    src = _token_tree(tmp_path / "raw", ["a_AC15.tif", "a_phalloidin.tif", "b_AC15.tif"])
    with pytest.raises(io.ImageError, match=r"b_AC15\.tif: input without target \(expected .*b_phalloidin\.tif\)"):
        datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")
    assert not (tmp_path / "out").exists()


def test_pairs_by_token_names_a_path_holding_both_tokens(tmp_path):
    src = _token_tree(tmp_path / "raw", ["AC15/x_phalloidin.tif"])
    with pytest.raises(io.ImageError, match="holds both tokens"):
        datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")


def test_pairs_by_token_reports_a_pair_of_different_shapes(tmp_path):
    src = _token_tree(tmp_path / "raw", ["a_AC15.tif"])
    tifffile.imwrite(src / "a_phalloidin.tif", np.arange(90, dtype=np.uint16).reshape(9, 10))
    with pytest.raises(io.ImageError, match=r"a_AC15\.tif \(8, 8\) and .*a_phalloidin\.tif \(9, 10\)"):
        datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")


def test_pairs_by_token_never_writes_into_the_source(tmp_path):
    src = _token_tree(tmp_path / "raw", ["a_AC15.tif", "a_phalloidin.tif"])
    before = {(str(p), p.stat().st_mtime_ns) for p in src.rglob("*")}
    with pytest.raises(ValueError, match="raw data are never overwritten"):
        datasets.pairs_by_token(src, src / "pairs", "AC15", "phalloidin")
    datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")
    assert {(str(p), p.stat().st_mtime_ns) for p in src.rglob("*")} == before


def test_pairs_by_token_refuses_a_non_empty_output(tmp_path):
    src = _token_tree(tmp_path / "raw", ["a_AC15.tif", "a_phalloidin.tif"])
    datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")
    with pytest.raises(FileExistsError, match="not empty"):
        datasets.pairs_by_token(src, tmp_path / "out", "AC15", "phalloidin")


# --------------------------------------------------------------------- pairs from channels


def _stack(shape):
    return np.random.default_rng(0).integers(0, 4000, shape).astype(np.uint16)


@pytest.mark.parametrize("shape, axis", [((12, 10, 3), 2), ((3, 12, 10), 0)])
def test_pairs_from_channels_finds_the_channel_axis(tmp_path, shape, axis):
    stack = _stack(shape)
    (tmp_path / "raw").mkdir()
    tifffile.imwrite(tmp_path / "raw" / "s.tif", stack, photometric="minisblack")
    pairs = datasets.pairs_from_channels(
        tmp_path / "raw" / "s.tif", tmp_path / "out", input_channel=2, target_channel=0
    )
    _, (inputs, targets) = io.load_pairs(pairs.input_dir, pairs.target_dir)
    np.testing.assert_array_equal(inputs[0], np.take(stack, 2, axis=axis))
    np.testing.assert_array_equal(targets[0], np.take(stack, 0, axis=axis))


def test_pairs_from_channels_refuses_an_output_beside_the_source_stack(tmp_path):
    (tmp_path / "input").mkdir()
    tifffile.imwrite(tmp_path / "input" / "s.tif", _stack((12, 10, 2)), photometric="minisblack")
    with pytest.raises(ValueError, match="raw data are never overwritten"):
        datasets.pairs_from_channels(tmp_path / "input" / "s.tif", tmp_path / "input", 0, 1, overwrite=True)
    assert _files(tmp_path) == ["input/s.tif"]


def test_pairs_from_channels_reads_a_folder_of_stacks(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in ["a.tif", "b.tif"]:
        tifffile.imwrite(raw / name, _stack((2, 6, 7)), photometric="minisblack")
    pairs = datasets.pairs_from_channels(raw, tmp_path / "out", 0, 1)
    assert pairs.names == ["a.tif", "b.tif"]


def test_pairs_from_channels_channel_out_of_range_names_file_and_shape(tmp_path):
    tifffile.imwrite(tmp_path / "s.tif", _stack((12, 10, 3)), photometric="minisblack")
    with pytest.raises(io.ImageError, match=r"s\.tif: target_channel 5 out of range; shape \(12, 10, 3\) has 3"):
        datasets.pairs_from_channels(tmp_path / "s.tif", tmp_path / "out", 0, 5)


def test_pairs_from_channels_refuses_a_2d_image(tmp_path):
    tifffile.imwrite(tmp_path / "flat.tif", _stack((12, 10)))
    with pytest.raises(io.ImageError, match=r"flat\.tif: expected a 3-D image"):
        datasets.pairs_from_channels(tmp_path / "flat.tif", tmp_path / "out", 0, 1)


def test_pairs_from_channels_names_a_constant_channel(tmp_path):
    stack = _stack((12, 10, 2))
    stack[..., 1] = 0
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    with pytest.raises(io.ImageError, match=r"s\.tif channel 1: constant image"):
        datasets.pairs_from_channels(tmp_path / "s.tif", tmp_path / "out", 0, 1)


# --------------------------------------------------------------------- command line


def test_cli_fetch_of_the_paper_dataset_exits_2_with_instructions(capsys):
    assert l2l(["data", "fetch", datasets.PAPER_DATASET]) == 2
    err = capsys.readouterr().err
    assert "l2l data: error:" in err and "doi.org/10.15129/ee2ff5ad" in err


def test_cli_register_then_list_shows_the_entry(tmp_path, capsys):
    f = tmp_path / "mine.zip"
    f.write_bytes(b"data")
    assert l2l(["data", "register", str(f), "--url", "https://example.org/mine.zip"]) == 0
    assert l2l(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"mine\.zip\s+known\s+no\s+https://example\.org/mine\.zip", out)


def test_cli_fetch_downloads_from_a_mirror(archive, server, tmp_path, monkeypatch, capsys):
    name, sha = archive
    monkeypatch.setenv("L2L_DATA_BASE_URL", server.url)
    reg = _registry(tmp_path, f"{name} {sha}")
    assert l2l(["data", "fetch", name, "--registry", str(reg), "--no-progress"]) == 0
    assert capsys.readouterr().out.strip().endswith("pairs.zip.unzip")


def test_cli_pairs_needs_tokens_or_channels(tmp_path, capsys):
    assert l2l(["data", "pairs", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "--input-token" in capsys.readouterr().err


def test_cli_pairs_by_channel_writes_pair_folders(tmp_path, capsys):
    (tmp_path / "raw").mkdir()
    tifffile.imwrite(tmp_path / "raw" / "s.tif", _stack((12, 10, 3)), photometric="minisblack")
    out = tmp_path / "pairs"
    assert (
        l2l(
            [
                "data",
                "pairs",
                str(tmp_path / "raw" / "s.tif"),
                "--out",
                str(out),
                "--input-channel",
                "1",
                "--target-channel",
                "0",
            ]
        )
        == 0
    )
    assert (out / "input" / "s.tif").is_file() and (out / "target" / "s.tif").is_file()
