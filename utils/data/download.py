"""Checked, cached, atomic downloads with a progress bar, by pooch."""

from __future__ import annotations

from pathlib import Path

import pooch

from utils.course import data_dir
from utils.data.registry import Dataset, get

RETRIES = 2  # further attempts after a failed or damaged download (pooch waits 1 s, 2 s, ...)


class DataUnavailableError(RuntimeError):
    """A data set could not be obtained; the message says how to fix it."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    return pooch.file_hash(str(path), alg="sha256")


def _how_to_fix(ds: Dataset, dest: Path) -> str:
    return (
        f"To fix: check your internet connection and run the cell again; or download\n"
        f"  {ds.url}\n"
        f"yourself and put it at {dest} (sha256 {ds.sha256});\n"
        f"or set PROFILE = 'smoke' in the parameters cell to use the small offline data."
    )


def fetch(name: str, *, directory: Path | None = None, progress: bool = True) -> Path:
    """Return the path of data set `name`'s file, downloading it first if needed.

    pooch uses a cached file only if its sha256 matches the registry, and downloads a
    corrupted one again. It downloads to a temporary file in the cache directory and
    moves it into place only after its checksum matches, so an interrupted download
    never leaves a file that looks complete; it tries RETRIES more times after a
    failure. Raises DataUnavailableError, with the fix, when it cannot succeed.
    """
    import requests  # pooch's HTTP client; imported late, as pooch does, to keep imports fast

    ds = get(name)
    directory = Path(directory) if directory is not None else data_dir()
    store = pooch.create(
        path=directory,
        base_url="",
        registry={ds.filename: f"sha256:{ds.sha256}"},
        urls={ds.filename: ds.url},
        retry_if_failed=RETRIES,
    )
    try:
        return Path(store.fetch(ds.filename, progressbar=progress))
    except (requests.RequestException, OSError, ValueError) as err:
        # ValueError: pooch's "hash of downloaded file does not match"
        raise DataUnavailableError(
            f"Could not download {ds.name} from {ds.url}: {err}\n"
            f"{_how_to_fix(ds, directory / ds.filename)}"
        ) from err
