"""CIFAR-10 (`full`) or its offline stand-in, the generated shapes (`smoke`)."""

from __future__ import annotations

import pickle
import tarfile

import numpy as np

from utils.data.download import fetch
from utils.data.shapes import SHAPE_CLASSES, make_shapes

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

Split = tuple[np.ndarray, np.ndarray]


def read_cifar10_archive(path) -> tuple[Split, Split]:
    """Read the official `cifar-10-python.tar.gz`: 5 training batches and the test batch."""
    train_x, train_y = [], []
    test: Split | None = None
    with tarfile.open(path, "r:gz") as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            base = member.name.rsplit("/", 1)[-1]
            if not (base.startswith("data_batch_") or base == "test_batch"):
                continue
            batch = pickle.load(tar.extractfile(member), encoding="bytes")
            images = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            labels = np.asarray(batch[b"labels"], dtype=np.uint8)
            if base == "test_batch":
                test = (images.astype(np.uint8), labels)
            else:
                train_x.append(images.astype(np.uint8))
                train_y.append(labels)
    if test is None or not train_x:
        raise ValueError(f"{path} does not look like cifar-10-python.tar.gz")
    return (np.concatenate(train_x), np.concatenate(train_y)), test


def load_cifar10(
    profile: str, *, smoke_train: int = 3000, smoke_test: int = 1000, seed: int = 0
) -> tuple[Split, Split, tuple[str, ...]]:
    """Load `((x_train, y_train), (x_test, y_test), class_names)`.

    x: uint8 (N, 32, 32, 3); y: uint8 (N,) in 0..9.
    full:  CIFAR-10, 50,000 train / 10,000 test photos (163 MB download, checked, cached).
    smoke: generated shapes (utils.data.shapes), `smoke_train` / `smoke_test` images, no
           network. Its class names are the shapes', so plots say what they show.
    """
    if profile == "full":
        train, test = read_cifar10_archive(fetch("cifar10"))
        return train, test, CIFAR10_CLASSES
    if profile != "smoke":
        raise ValueError(f"profile must be 'full' or 'smoke', not {profile!r}")
    x, y, _ = make_shapes(smoke_train + smoke_test, seed=seed)
    return (x[:smoke_train], y[:smoke_train]), (x[smoke_train:], y[smoke_train:]), SHAPE_CLASSES
