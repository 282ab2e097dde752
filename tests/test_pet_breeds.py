"""Tests of utils.data.pet_breeds on a small tarball built here (no download)."""

import io
import tarfile

import numpy as np
from PIL import Image

from utils.data.pet_breeds import breed_of, is_cat, read_pet_breeds


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _jpeg(h, w, value):
    buf = io.BytesIO()
    Image.fromarray(np.full((h, w, 3), value, np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_breed_from_file_name():
    assert breed_of("images/great_pyrenees_12.jpg") == "great_pyrenees"
    assert breed_of("images/Abyssinian_1.jpg") == "Abyssinian"
    assert breed_of("images/._Abyssinian_1.jpg") is None
    assert breed_of("images/Abyssinian_1.mat") is None
    assert is_cat("Abyssinian") and not is_cat("beagle")


def test_read_pet_breeds(tmp_path):
    path = tmp_path / "images.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "images/beagle_1.jpg", _jpeg(30, 50, 200))
        _add(tar, "images/Abyssinian_2.jpg", _jpeg(40, 20, 10))
        _add(tar, "images/beagle_3.jpg", _jpeg(20, 20, 100))
        _add(tar, "images/broken_4.jpg", b"not a jpeg")
        _add(tar, "images/._beagle_1.jpg", b"junk")
        _add(tar, "images/Abyssinian_5.mat", b"matlab")
    x, y, breeds = read_pet_breeds(path, size=16, progress=False)
    assert breeds == ["Abyssinian", "beagle"]
    assert x.shape == (3, 16, 16, 3) and x.dtype == np.uint8
    assert list(y) == [1, 0, 1]
    assert abs(int(x[0].mean()) - 200) <= 3 and abs(int(x[1].mean()) - 10) <= 3
