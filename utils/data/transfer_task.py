"""The task a backbone is transferred to (unit 14), in either profile.

- `TransferTask`: x: uint8 images (N, H, W, C); y: int class ids. `source` is None when it is ImageNet.
- `load_transfer_task`: The target task (and, in smoke, the source task). See the module docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TransferTask:
    """x: uint8 images (N, H, W, C); y: int class ids. `source` is None when it is ImageNet."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    source: tuple[np.ndarray, np.ndarray] | None = None


def _few_per_class(y: np.ndarray, per_class: int, rng) -> np.ndarray:
    """Indices of `per_class` random examples of each class in y, shuffled."""
    picked = [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    return rng.permutation(np.concatenate(picked))


def load_transfer_task(
    profile: str, *, per_class: int = 10, size: int = 160, n_smoke: int = 4000, seed: int = 0
) -> TransferTask:
    """The target task (and, in smoke, the source task). See the module docstring."""
    rng = np.random.default_rng(seed)
    if profile == "smoke":
        from utils.data.shapes import SHAPE_CLASSES, make_shapes

        x, y, _ = make_shapes(n_smoke, seed=seed)
        y = y.astype(np.int64)
        source, target = y < 5, y >= 5
        xt, yt = x[target], y[target] - 5
        few = _few_per_class(yt, per_class, rng)
        rest = np.setdiff1d(np.arange(len(yt)), few)
        return TransferTask(
            xt[few],
            yt[few],
            xt[rest],
            yt[rest],
            list(SHAPE_CLASSES[5:]),
            source=(x[source], y[source]),
        )
    if profile != "full":
        raise ValueError(f"profile must be 'full' or 'smoke', not {profile!r}")
    from utils.data.pet_breeds import load_pet_breeds

    x, y, breeds = load_pet_breeds(size=size)
    order = rng.permutation(len(x))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return TransferTask(x[train], y[train], x[test], y[test], breeds)
