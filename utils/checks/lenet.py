"""Checks for unit 05 (LeNet): image preprocessing for a Keras CNN."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import as_array, call, fail, passed, rel_error


def check_preprocess(preprocess: Callable, seed: int = 3) -> None:
    """Check `preprocess(x) -> float32 (N, 28, 28, 1) in [0, 1]` for uint8 x: (N, 28, 28)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    case = "x uint8 (7, 28, 28)"
    got = as_array(call(preprocess, x.copy(), case=case), "preprocess", case)
    if got.shape != (7, 28, 28, 1):
        raise fail("preprocess", case, "shape (7, 28, 28, 1): add a channel axis", got.shape)
    if got.dtype != np.float32:
        raise fail("preprocess", case, "dtype float32", got.dtype)
    want = x.astype(np.float64)[..., None] / 255.0
    if rel_error(got, want) > 1e-6:
        raise fail(
            "preprocess",
            case,
            "pixel values divided by 255",
            f"values from {got.min():.3g} to {got.max():.3g}",
        )
    passed("`preprocess` gives float32 (N, 28, 28, 1) images scaled to [0, 1].")
