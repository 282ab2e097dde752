"""Checked, cached, atomic downloads with a progress bar."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from utils.course import data_dir
from utils.data.registry import Dataset, get

CHUNK = 1 << 20


class DataUnavailableError(RuntimeError):
    """A data set could not be obtained; the message says how to fix it."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _how_to_fix(ds: Dataset, dest: Path) -> str:
    return (
        f"To fix: check your internet connection and run the cell again; or download\n"
        f"  {ds.url}\n"
        f"yourself and put it at {dest} (sha256 {ds.sha256});\n"
        f"or set PROFILE = 'smoke' in the parameters cell to use the small offline data."
    )


def fetch(name: str, *, directory: Path | None = None, progress: bool = True) -> Path:
    """Return the path of data set `name`'s file, downloading it first if needed.

    A cached file is used only if its sha256 matches the registry; a corrupted one is
    downloaded again. The download goes to `<file>.part` and is renamed into place only
    after its checksum matches, so an interrupted download never leaves a file that
    looks complete. Raises DataUnavailableError, with the fix, when it cannot succeed.
    """
    ds = get(name)
    directory = Path(directory) if directory is not None else data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / ds.filename
    if dest.exists():
        if sha256_of(dest) == ds.sha256:
            return dest
        print(f"{dest.name}: cached file is corrupted (checksum differs); downloading it again.")
        dest.unlink()
    part = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    try:
        _stream(ds, part, digest, progress)
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        part.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"Could not download {ds.name} from {ds.url}: {err}\n{_how_to_fix(ds, dest)}"
        ) from err
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != ds.sha256:
        part.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"Downloaded {ds.name} but its sha256 is {digest.hexdigest()}, expected {ds.sha256}:"
            f" the file is damaged or has changed at the source.\n{_how_to_fix(ds, dest)}"
        )
    os.replace(part, dest)
    return dest


def _stream(ds: Dataset, part: Path, digest, progress: bool) -> None:
    from tqdm.auto import tqdm

    with (
        urllib.request.urlopen(ds.url, timeout=60) as response,
        open(part, "wb") as out,
        tqdm(
            total=ds.size,
            unit="B",
            unit_scale=True,
            desc=f"Downloading {ds.filename}",
            disable=not progress,
        ) as bar,
    ):
        while chunk := response.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
