"""utils.data.download: cached, checked, atomic downloads (on files the tests make)."""

from __future__ import annotations

import hashlib
import io
import urllib.error

import pytest

from utils.data import download, registry
from utils.data.download import DataUnavailableError, fetch

PAYLOAD = b"course test payload " * 5000


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    """A registry entry served from a local file:// URL."""
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    ds = registry.Dataset(
        name="fake",
        url=source.as_uri(),
        filename="fake.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
        license="test",
        homepage="-",
    )
    monkeypatch.setitem(registry.REGISTRY, "fake", ds)
    return ds


def test_downloads_once_and_then_uses_the_cache(fake_dataset, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    path = fetch("fake", directory=cache, progress=False)
    assert path.read_bytes() == PAYLOAD

    def no_network(*args, **kwargs):
        raise AssertionError("the cached file should have been used")

    monkeypatch.setattr(download.urllib.request, "urlopen", no_network)
    assert fetch("fake", directory=cache, progress=False) == path


def test_corrupted_cache_is_downloaded_again(fake_dataset, tmp_path, capsys):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "fake.bin").write_bytes(b"truncated")
    path = fetch("fake", directory=cache, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert "corrupted" in capsys.readouterr().out


def test_wrong_checksum_from_the_source_is_a_clear_error(fake_dataset, tmp_path, monkeypatch):
    bad = registry.Dataset(**{**fake_dataset.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(registry.REGISTRY, "fake", bad)
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="sha256") as err:
        fetch("fake", directory=cache, progress=False)
    assert "PROFILE = 'smoke'" in str(err.value)
    assert list(cache.iterdir()) == [], "nothing may be left behind"


class _BrokenStream(io.BytesIO):
    """A response that delivers some bytes and then loses the connection."""

    def read(self, n=-1):
        if self.tell() >= 30_000:
            raise ConnectionResetError("connection lost")
        return super().read(min(n, 10_000))


def test_interrupted_download_leaves_no_partial_file(fake_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(download.urllib.request, "urlopen", lambda *a, **k: _BrokenStream(PAYLOAD))
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="connection lost"):
        fetch("fake", directory=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_keyboard_interrupt_also_cleans_up(fake_dataset, tmp_path, monkeypatch):
    class Interrupted(_BrokenStream):
        def read(self, n=-1):
            if self.tell() >= 20_000:
                raise KeyboardInterrupt
            return super().read(n)

    monkeypatch.setattr(download.urllib.request, "urlopen", lambda *a, **k: Interrupted(PAYLOAD))
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        fetch("fake", directory=cache, progress=False)
    assert list(cache.iterdir()) == []


def test_offline_is_a_clear_error_that_names_the_fix(fake_dataset, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(download.urllib.request, "urlopen", offline)
    with pytest.raises(DataUnavailableError) as err:
        fetch("fake", directory=tmp_path, progress=False)
    message = str(err.value)
    assert "internet" in message and "sha256" in message and "smoke" in message


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="mnist"):
        fetch("no-such-data")


def test_registry_entries_are_complete():
    for ds in registry.REGISTRY.values():
        assert ds.url.startswith("https://")
        assert len(ds.sha256) == 64 and int(ds.sha256, 16) >= 0
        assert ds.size > 0 and ds.license and ds.filename
