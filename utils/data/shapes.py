"""A procedurally drawn, CIFAR-10-sized image set: the offline stand-in for CIFAR-10.

Ten classes of coloured shapes on textured backgrounds, at random positions, sizes and colours,
so that a classifier must learn shape, not colour or position. Each image also has a pixel mask
of its shape (for segmentation). Generated from a seed: the same seed gives the same images.
"""

from __future__ import annotations

import numpy as np

SHAPE_CLASSES = (
    "disc",
    "square",
    "triangle",
    "ring",
    "plus",
    "h-stripes",
    "v-stripes",
    "diamond",
    "checker",
    "frame",
)


def _shape_mask(kind: int, yy: np.ndarray, xx: np.ndarray, r: float) -> np.ndarray:
    """Boolean mask of shape `kind` with half-size r, on coordinates centred at the shape."""
    ay, ax = np.abs(yy), np.abs(xx)
    inside_square = (ay <= r) & (ax <= r)
    name = SHAPE_CLASSES[kind]
    if name == "disc":
        return yy**2 + xx**2 <= r**2
    if name == "square":
        return inside_square
    if name == "triangle":
        return (yy <= r) & (yy >= -r) & (ax <= (yy + r) / 2)
    if name == "ring":
        d2 = yy**2 + xx**2
        return (d2 <= r**2) & (d2 >= (0.55 * r) ** 2)
    if name == "plus":
        w = 0.33 * r
        return ((ay <= w) & (ax <= r)) | ((ax <= w) & (ay <= r))
    if name == "h-stripes":
        return inside_square & (np.floor((yy + r) / (r / 2)) % 2 == 0)
    if name == "v-stripes":
        return inside_square & (np.floor((xx + r) / (r / 2)) % 2 == 0)
    if name == "diamond":
        return ay + ax <= r
    if name == "checker":
        cell = r / 2
        return inside_square & ((np.floor((yy + r) / cell) + np.floor((xx + r) / cell)) % 2 == 0)
    # frame: a square outline
    return inside_square & ~((ay <= 0.6 * r) & (ax <= 0.6 * r))


def make_shapes(
    n: int, *, size: int = 32, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw `n` images with balanced classes.

    Returns x: uint8 (n, size, size, 3), y: uint8 (n,) in 0..9 (SHAPE_CLASSES),
    masks: uint8 (n, size, size), 1 on the shape and 0 on the background.
    """
    rng = np.random.default_rng(seed)
    y = np.resize(np.arange(len(SHAPE_CLASSES), dtype=np.uint8), n)
    rng.shuffle(y)
    grid = np.arange(size, dtype=np.float64) + 0.5
    x = np.empty((n, size, size, 3), dtype=np.uint8)
    masks = np.empty((n, size, size), dtype=np.uint8)
    for i in range(n):
        r = rng.uniform(0.22, 0.36) * size
        cy, cx = rng.uniform(r + 1, size - r - 1, size=2)
        yy, xx = np.meshgrid(grid - cy, grid - cx, indexing="ij")
        mask = _shape_mask(int(y[i]), yy, xx, r)
        background = rng.uniform(0, 255, size=3)
        foreground = rng.uniform(0, 255, size=3)
        while np.abs(foreground - background).sum() < 150:  # keep the shape visible
            foreground = rng.uniform(0, 255, size=3)
        texture = rng.normal(0, 18, size=(size, size, 1))
        img = np.where(mask[..., None], foreground, background) + texture
        x[i] = np.clip(img, 0, 255).astype(np.uint8)
        masks[i] = mask
    return x, y, masks
