"""``siamtrack weights download``: a real local HTTP server serves the files (good, tampered, stalled)."""

import hashlib
import http.server
import socket
import threading
import time
from pathlib import Path

import pytest

from siamtrack.cli import main
from siamtrack.errors import DownloadError
from siamtrack.io.downloads import MODELS, RemoteFile, RemoteModel, download


class Files(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def server(tmp_path):
    """Serves ``tmp_path / 'site'`` on a free loopback port; yields (base URL, site folder)."""
    site = tmp_path / "site"
    site.mkdir()
    handler = lambda *args, **kwargs: Files(*args, directory=str(site), **kwargs)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", site
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def small_model(monkeypatch):
    """A registered model of two small files, so the tests need no real NanoTrack graphs."""
    contents = {"a.onnx": b"first graph", "b.onnx": b"second graph" * 10}
    files = tuple(RemoteFile(name, name, len(data), hashlib.sha256(data).hexdigest())
                  for name, data in contents.items())
    monkeypatch.setitem(MODELS, "small", RemoteModel("small", "small_v1", "http://127.0.0.1:9/none", "test", files))
    return contents


def publish(site: Path, contents: dict[str, bytes]) -> None:
    for name, data in contents.items():
        (site / name).write_bytes(data)


def test_download_fetches_checks_and_keeps_the_files(server, small_model, tmp_path):
    base, site = server
    publish(site, small_model)
    folder = download("small", root=tmp_path / "cache", base_url=base)
    assert folder == tmp_path / "cache" / "small_v1"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == small_model
    (site / "a.onnx").unlink()  # already there with the right checksum: not fetched again
    assert download("small", root=tmp_path / "cache", base_url=base) == folder


def test_a_tampered_file_is_refused_and_nothing_is_kept(server, small_model, tmp_path):
    base, site = server
    publish(site, {**small_model, "b.onnx": b"X" * len(small_model["b.onnx"])})
    with pytest.raises(DownloadError, match="does not match the published checksum of b.onnx"):
        download("small", root=tmp_path / "cache", base_url=base)
    assert sorted(p.name for p in (tmp_path / "cache" / "small_v1").iterdir()) == ["a.onnx"]


def test_a_file_longer_than_published_is_cut_off(server, small_model, tmp_path):
    base, site = server
    publish(site, {**small_model, "a.onnx": small_model["a.onnx"] * 1000})
    with pytest.raises(DownloadError, match="sends more than"):
        download("small", root=tmp_path / "cache", base_url=base)


def test_a_server_that_never_answers_costs_the_timeout_not_a_hang(small_model, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections, never answers
    try:
        began = time.monotonic()
        with pytest.raises(DownloadError, match="cannot download"):
            download("small", root=tmp_path / "cache", base_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                     timeout=1.0)
        assert time.monotonic() - began < 10
    finally:
        listener.close()


def test_the_cli_prints_the_folder_and_exits_3_when_the_download_fails(server, small_model, tmp_path, capsys):
    base, site = server
    publish(site, small_model)
    assert main(["weights", "download", "small", "--cache", str(tmp_path / "c"), "--url", base, "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "c" / "small_v1")
    assert main(["weights", "download", "small", "--cache", str(tmp_path / "d"), "--url", base + "/missing"]) == 3
    error = capsys.readouterr().err.strip()
    assert error.startswith("siamtrack: error: cannot download") and "\n" not in error


def test_nanotrack_is_registered_with_the_published_checksums():
    shared = Path(__file__).resolve().parent.parent.parent / "shared" / "weights" / "nanotrack_v2"
    model = MODELS["nanotrack"]
    assert [f.name for f in model.files] == ["nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx"]
    for remote in model.files:
        if (shared / remote.name).is_file():
            assert hashlib.sha256((shared / remote.name).read_bytes()).hexdigest() == remote.sha256
