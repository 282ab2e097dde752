"""utils.data.download: cached, checked, atomic downloads (from a local HTTP server the tests run)."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest
import requests

from utils.data import download, registry
from utils.data.download import DataUnavailableError, fetch

PAYLOAD = b"course test payload " * 5000


class _Server(http.server.ThreadingHTTPServer):
    """Serves PAYLOAD at /fake.bin; `break_after` bytes then drops the connection."""

    break_after: int | None = None
    drop_first: int = 0  # how many requests to drop at once before serving
    requests_seen: int = 0


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.requests_seen += 1
        if server.requests_seen <= server.drop_first:
            self.close_connection = True
            return  # no response at all: the client sees the connection closed
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD[: server.break_after])
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def fake_dataset(server, monkeypatch):
    """A registry entry served by the local server; no retries unless a test asks."""
    ds = registry.Dataset(
        name="fake",
        url=f"http://127.0.0.1:{server.server_port}/fake.bin",
        filename="fake.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
        license="test",
        homepage="-",
    )
    monkeypatch.setitem(registry.REGISTRY, "fake", ds)
    monkeypatch.setattr(download, "RETRIES", 0)
    return ds


def test_downloads_once_and_then_uses_the_cache(fake_dataset, server, tmp_path):
    cache = tmp_path / "cache"
    path = fetch("fake", directory=cache, progress=False)
    assert path == cache / "fake.bin" and path.read_bytes() == PAYLOAD
    assert fetch("fake", directory=cache, progress=False) == path
    assert server.requests_seen == 1, "the cached file should have been used"


def test_corrupted_cache_is_downloaded_again(fake_dataset, server, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fake.bin").write_bytes(b"truncated")
    path = fetch("fake", directory=cache, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests_seen == 1


def test_wrong_checksum_from_the_source_is_a_clear_error(fake_dataset, tmp_path, monkeypatch):
    bad = registry.Dataset(**{**fake_dataset.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(registry.REGISTRY, "fake", bad)
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="does not match") as err:
        fetch("fake", directory=cache, progress=False)
    assert "PROFILE = 'smoke'" in str(err.value)
    assert list(cache.iterdir()) == [], "nothing may be left behind"


def test_interrupted_download_leaves_no_partial_file(fake_dataset, server, tmp_path):
    server.break_after = 30_000
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="Could not download fake"):
        fetch("fake", directory=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_a_dropped_connection_is_retried(fake_dataset, server, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "RETRIES", 1)
    server.drop_first = 1
    path = fetch("fake", directory=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests_seen == 2


def test_keyboard_interrupt_also_cleans_up(fake_dataset, tmp_path, monkeypatch):
    def interrupted(self, chunk_size=1, decode_unicode=False):
        yield PAYLOAD[:20_000]
        raise KeyboardInterrupt

    monkeypatch.setattr(requests.Response, "iter_content", interrupted)
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        fetch("fake", directory=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_offline_is_a_clear_error_that_names_the_fix(fake_dataset, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(requests, "get", offline)
    with pytest.raises(DataUnavailableError) as err:
        fetch("fake", directory=tmp_path, progress=False)
    message = str(err.value)
    assert "Name or service not known" in message
    assert "internet" in message and "sha256" in message and "smoke" in message
    assert str(tmp_path / "fake.bin") in message


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    assert download.sha256_of(path) == hashlib.sha256(PAYLOAD).hexdigest()


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="mnist"):
        fetch("no-such-data")


def test_registry_entries_are_complete():
    for ds in registry.REGISTRY.values():
        assert ds.url.startswith("https://")
        assert len(ds.sha256) == 64 and int(ds.sha256, 16) >= 0
        assert ds.size > 0 and ds.license and ds.filename
