"""Tests of utils.data.pets on small tarballs built here (no download)."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from utils.data.pets import read_pets, trimap_to_classes


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _png(array, fmt="PNG", mode=None):
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture
def tarballs(tmp_path):
    rng = np.random.default_rng(0)
    images, annotations = tmp_path / "images.tar.gz", tmp_path / "annotations.tar.gz"
    trimaps = {}
    with tarfile.open(annotations, "w:gz") as tar:
        for k, name in enumerate(["cat_1", "dog_2", "cat_3"]):
            t = np.full((40, 60), 2, np.uint8)
            t[10:30, 15:45] = 3
            t[12:28, 17:43] = 1
            t[0, 0] = 1 + k % 3
            trimaps[name] = t
            _add(tar, f"annotations/trimaps/{name}.png", _png(t))
            _add(tar, f"annotations/trimaps/._{name}.png", b"junk")  # macOS resource fork
        _add(tar, "annotations/list.txt", b"# list")
    with tarfile.open(images, "w:gz") as tar:
        for name in ["dog_2", "cat_1", "no_trimap_9"]:
            _add(
                tar,
                f"images/{name}.jpg",
                _png(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8), "JPEG"),
            )
        _add(
            tar, "images/cat_3.jpg", _png(rng.integers(0, 255, (40, 60), dtype=np.uint8), "JPEG")
        )  # greyscale
        _add(tar, "images/x.mat", b"not an image")
    return images, annotations, trimaps


def test_trimap_to_classes():
    assert trimap_to_classes(np.array([1, 2, 3])).tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        trimap_to_classes(np.array([0, 1]))


def test_read_pets_shapes_dtypes_and_order(tarballs):
    images, annotations, _ = tarballs
    x, masks, names = read_pets(images, annotations, size=16, progress=False)
    assert names == ["cat_1", "cat_3", "dog_2"]
    assert x.shape == (3, 16, 16, 3) and x.dtype == np.uint8
    assert masks.shape == (3, 16, 16) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1, 2}


def test_masks_are_resized_by_nearest_neighbour(tarballs):
    images, annotations, trimaps = tarballs
    _, masks, names = read_pets(images, annotations, size=20, progress=False)
    for name, mask in zip(names, masks, strict=True):
        want = (
            np.asarray(Image.fromarray(trimaps[name]).resize((20, 20), Image.Resampling.NEAREST))
            - 1
        )
        np.testing.assert_array_equal(mask, want)
        # the centre is pet, the corner far from it background: image and mask stay aligned
        assert mask[10, 10] == 0 and mask[19, 19] == 1


def test_limit(tarballs):
    images, annotations, _ = tarballs
    x, masks, names = read_pets(images, annotations, size=8, limit=1, progress=False)
    assert names == ["cat_1"] and len(x) == len(masks) == 1
