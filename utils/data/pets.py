"""Oxford-IIIT Pets for segmentation (unit 13, `full` profile): photos and their trimaps.

`read_pets(images_tar, annotations_tar, size)` reads the two official tarballs;
`load_pets(size)` fetches them first (utils.data.fetch: checked, cached, with a progress bar).
Images are resized bilinearly, trimaps with nearest neighbour (a class id must never be blended
into another), both to the same (size, size), so that pixel (i, j) of a mask labels pixel (i, j)
of its image.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath

import numpy as np

# The trimap's values 1, 2, 3 become class ids 0, 1, 2.
PETS_CLASSES = ("pet", "background", "border")


def trimap_to_classes(trimap: np.ndarray) -> np.ndarray:
    """Trimap values 1=pet, 2=background, 3=border -> uint8 class ids 0, 1, 2 (same shape)."""
    trimap = np.asarray(trimap)
    if trimap.size and (trimap.min() < 1 or trimap.max() > 3):
        raise ValueError(f"trimap values must be 1, 2 or 3, found {np.unique(trimap)}")
    return (trimap - 1).astype(np.uint8)


def _stem(name: str) -> str | None:
    """'images/Abyssinian_1.jpg' -> 'Abyssinian_1'; None for macOS '._' files and folders."""
    base = PurePosixPath(name).name
    if not base or base.startswith("._") or base.startswith("."):
        return None
    return base.rsplit(".", 1)[0]


def _resize(data: bytes, size: int, *, mask: bool) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("L") if mask else img.convert("RGB")
        resample = Image.Resampling.NEAREST if mask else Image.Resampling.BILINEAR
        return np.asarray(img.resize((size, size), resample=resample), dtype=np.uint8)


def read_pets(
    images_tar, annotations_tar, *, size: int = 128, limit: int | None = None, progress: bool = True
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read the Pets tarballs into arrays.

    images_tar:      `images.tar.gz` (images/<name>.jpg)
    annotations_tar: `annotations.tar.gz` (annotations/trimaps/<name>.png, values 1, 2, 3)
    Returns x: uint8 (N, size, size, 3), masks: uint8 (N, size, size) in 0..2 (PETS_CLASSES),
    names: the N file stems, sorted. Only images that have a trimap are kept (7,390 in the
    official files); `limit` keeps the first `limit` names (for quick tries).
    """
    from tqdm.auto import tqdm

    trimaps: dict[str, bytes] = {}
    with tarfile.open(annotations_tar, "r:*") as tar:
        for member in tar:
            stem = _stem(member.name)
            if (
                member.isfile()
                and stem
                and "/trimaps/" in f"/{member.name}"
                and member.name.endswith(".png")
            ):
                trimaps[stem] = tar.extractfile(member).read()
    wanted = sorted(trimaps)[:limit] if limit is not None else sorted(trimaps)
    index = {name: i for i, name in enumerate(wanted)}
    x = np.zeros((len(wanted), size, size, 3), dtype=np.uint8)
    masks = np.zeros((len(wanted), size, size), dtype=np.uint8)
    found = np.zeros(len(wanted), dtype=bool)
    # Streaming mode ("r|*") reads the 790 MB archive once, front to back.
    with (
        tarfile.open(images_tar, "r|*") as tar,
        tqdm(total=len(wanted), desc="Reading Pets", unit="img", disable=not progress) as bar,
    ):
        for member in tar:
            stem = _stem(member.name)
            if not member.isfile() or stem not in index or not member.name.lower().endswith(".jpg"):
                continue
            i = index[stem]
            x[i] = _resize(tar.extractfile(member).read(), size, mask=False)
            masks[i] = trimap_to_classes(_resize(trimaps[stem], size, mask=True))
            found[i] = True
            bar.update(1)
    if not found.any():
        raise ValueError(f"no image of {images_tar} has a trimap in {annotations_tar}")
    names = [n for n, ok in zip(wanted, found, strict=True) if ok]
    return x[found], masks[found], names


def load_pets(*, size: int = 128, limit: int | None = None, progress: bool = True):
    """Download (once, checked) and read Oxford-IIIT Pets: see `read_pets` for what it returns."""
    from utils.data.download import fetch

    return read_pets(
        fetch("pets-images", progress=progress),
        fetch("pets-annotations", progress=progress),
        size=size,
        limit=limit,
        progress=progress,
    )
