"""The data loaders: offline smoke sources and the full loaders on files the tests make."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from utils.data import load_mnist, load_photo, registry
from utils.data.photos import PHOTOS


def test_smoke_mnist_is_real_shuffled_and_split():
    (x, y), (xt, yt) = load_mnist("smoke")
    assert x.shape == (4000, 28, 28) and xt.shape == (1000, 28, 28)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert x.max() == 255 and x.min() == 0
    assert set(np.unique(yt)) == set(range(10)), "every class in the test split"
    assert len(set(y[:50].tolist())) > 5, "shuffled, not sorted by class"
    (x2, _), _ = load_mnist("smoke")
    assert np.array_equal(x, x2), "same seed, same split"


def test_full_mnist_reads_the_keras_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": np.arange(6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": np.arange(2, dtype=np.uint8),
    }
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    entry = registry.REGISTRY["mnist"]
    monkeypatch.setitem(
        registry.REGISTRY,
        "mnist",
        registry.Dataset(
            **{**entry.__dict__, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        ),
    )
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    (x, y), (xt, yt) = load_mnist("full")
    assert np.array_equal(x, arrays["x_train"]) and np.array_equal(yt, arrays["y_test"])


def test_unknown_profile_is_rejected():
    with pytest.raises(ValueError, match="smoke"):
        load_mnist("fast")


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_bundled_photos_load_offline(name):
    img = load_photo(name)
    assert img.dtype == np.uint8 and img.ndim in (2, 3) and min(img.shape[:2]) >= 200
    gray = load_photo(name, gray=True)
    assert gray.ndim == 2 and gray.shape == img.shape[:2]


def test_unknown_photo_names_the_choices():
    with pytest.raises(KeyError, match="camera"):
        load_photo("eagle")
