"""The CIFAR-10 loader (on an archive the test builds) and its offline stand-in."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile

import numpy as np
import pytest

from utils.data import registry
from utils.data.cifar10 import CIFAR10_CLASSES, load_cifar10, read_cifar10_archive
from utils.data.shapes import SHAPE_CLASSES, make_shapes


def _batch(n, seed):
    rng = np.random.default_rng(seed)
    return {
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"labels": rng.integers(0, 10, n).tolist(),
    }


def _archive(path):
    batches = {f"data_batch_{i}": _batch(4, i) for i in range(1, 6)}
    batches["test_batch"] = _batch(3, 9)
    with tarfile.open(path, "w:gz") as tar:
        for name, batch in batches.items():
            data = pickle.dumps(batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return batches


def test_archive_reader_gives_channels_last_images(tmp_path):
    batches = _archive(tmp_path / "c.tar.gz")
    (x, y), (xt, yt) = read_cifar10_archive(tmp_path / "c.tar.gz")
    assert x.shape == (20, 32, 32, 3) and xt.shape == (3, 32, 32, 3)
    first = batches["data_batch_1"][b"data"][0]
    assert np.array_equal(x[0, :, :, 0].ravel(), first[:1024]), "red plane first, row-major"
    assert yt.tolist() == batches["test_batch"][b"labels"]


def test_full_profile_uses_the_checked_download(tmp_path, monkeypatch):
    path = tmp_path / "cifar-10-python.tar.gz"
    _archive(path)
    entry = registry.REGISTRY["cifar10"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(
        registry.REGISTRY, "cifar10", registry.Dataset(**{**entry.__dict__, "sha256": digest})
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (x, _), _, names = load_cifar10("full")
    assert x.shape == (20, 32, 32, 3) and names == CIFAR10_CLASSES


def test_smoke_profile_is_offline_shapes():
    (x, y), (xt, yt), names = load_cifar10("smoke", smoke_train=200, smoke_test=50)
    assert x.shape == (200, 32, 32, 3) and xt.shape == (50, 32, 32, 3) and names == SHAPE_CLASSES
    with pytest.raises(ValueError):
        load_cifar10("tiny")


def test_shapes_are_balanced_deterministic_and_masked():
    x, y, m = make_shapes(100, seed=3)
    x2, y2, m2 = make_shapes(100, seed=3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(m, m2)
    assert np.bincount(y).tolist() == [10] * 10
    assert set(np.unique(m)) == {0, 1}
    fg = m.astype(bool)
    # the shape differs in colour from its background (otherwise the mask would be invisible)
    for i in range(10):
        diff = np.abs(x[i][fg[i]].mean(0) - x[i][~fg[i]].mean(0)).sum()
        assert diff > 60
