"""Oxford-IIIT Pets as a classification set (unit 14, `full` profile): 37 breeds from file names.

The images tarball names every photo `images/<Breed_Name>_<number>.jpg`; the breed is the
name without its number, and by the data set's convention cat breeds are capitalised
(`Abyssinian_1.jpg`) and dog breeds are not (`beagle_1.jpg`). No annotation file is needed.

`read_pet_breeds(images_tar, size)` reads the tarball; `load_pet_breeds(size)` fetches it
first (utils.data.fetch: checked against its sha256, cached, with a progress bar).
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath

import numpy as np


def breed_of(filename: str) -> str | None:
    """'images/great_pyrenees_12.jpg' -> 'great_pyrenees'; None if not a Pets photo name."""
    base = PurePosixPath(filename).name
    if base.startswith(".") or not base.lower().endswith(".jpg") or "_" not in base:
        return None
    breed, number = base[: -len(".jpg")].rsplit("_", 1)
    return breed if number.isdigit() and breed else None


def is_cat(breed: str) -> bool:
    """Cat breeds are capitalised in the Pets file names, dog breeds are not."""
    return breed[:1].isupper()


def _square(data: bytes, size: int) -> np.ndarray | None:
    """JPEG bytes -> uint8 (size, size, 3): centre crop to a square, bilinear resize.

    None when the bytes are not a readable image (the official tarball has a few).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
            img = ImageOps.fit(img, (size, size), method=Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.uint8)
    except (UnidentifiedImageError, OSError):
        return None


def read_pet_breeds(
    images_tar, *, size: int = 160, limit: int | None = None, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read the Pets images tarball into arrays.

    Returns x: uint8 (N, size, size, 3) (centre-cropped squares), y: int64 (N,) breed ids,
    breeds: the sorted breed names (y indexes this list). Unreadable images and files that are
    not `<breed>_<n>.jpg` are skipped. `limit` stops after that many images (quick tries).
    """
    from tqdm.auto import tqdm

    images, labels = [], []
    with (
        tarfile.open(images_tar, "r|*") as tar,
        tqdm(desc="Reading Pets", unit="img", disable=not progress) as bar,
    ):
        for member in tar:
            breed = breed_of(member.name) if member.isfile() else None
            if breed is None:
                continue
            image = _square(tar.extractfile(member).read(), size)
            if image is None:
                continue
            images.append(image)
            labels.append(breed)
            bar.update(1)
            if limit is not None and len(images) >= limit:
                break
    if not images:
        raise ValueError(f"no readable <breed>_<n>.jpg image in {images_tar}")
    breeds = sorted(set(labels))
    index = {b: i for i, b in enumerate(breeds)}
    return np.stack(images), np.array([index[b] for b in labels], dtype=np.int64), breeds


def load_pet_breeds(*, size: int = 160, limit: int | None = None, progress: bool = True):
    """Download (once, checked) and read Pets by breed: see `read_pet_breeds`."""
    from utils.data.download import fetch

    return read_pet_breeds(
        fetch("pets-images", progress=progress), size=size, limit=limit, progress=progress
    )
