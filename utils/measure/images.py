"""Measures of images and maps: detail, PSNR, weight smoothness, heat inside a mask.

- `detail`: Mean absolute difference between horizontally adjacent pixels.
- `psnr`: Peak signal-to-noise ratio in dB of two images in [0, 1].
- `neighbour_correlation`: Pearson correlation between spatially adjacent weights of a (kh, kw, cin, cout) kernel.
- `upsample`: Heatmaps (N, h, w) -> (N, size, size), bilinear (to lay a coarse map over its image).
- `heat_inside`: Per image: sum(heat * mask) / sum(heat). heat (N, H, W) >= 0, masks (N, H, W) 0/1.
"""

from __future__ import annotations

import numpy as np


def detail(img) -> float:
    """Mean absolute difference between horizontally adjacent pixels.

    img: (H, W) or (H, W, C), any numeric dtype; the mean is over all (H, W - 1 [, C]) differences.
    """
    return float(np.abs(np.diff(np.asarray(img, dtype=np.float64), axis=1)).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1]."""
    return float(10 * np.log10(1.0 / max(np.mean((a - b) ** 2), 1e-12)))


def neighbour_correlation(kernel) -> float:
    """Pearson correlation between spatially adjacent weights of a (kh, kw, cin, cout) kernel.

    Pairs: every weight with its right neighbour and with its lower neighbour (same input and
    output channel). Independent random initial weights give about 0; smooth, edge- or
    blob-like filters give a clearly positive value.
    """
    w = np.asarray(kernel, dtype=np.float64)
    a = np.concatenate([w[:, :-1].ravel(), w[:-1, :].ravel()])
    b = np.concatenate([w[:, 1:].ravel(), w[1:, :].ravel()])
    return float(np.corrcoef(a, b)[0, 1])


def upsample(maps, size: int) -> np.ndarray:
    """Heatmaps (N, h, w) -> (N, size, size), bilinear (to lay a coarse map over its image)."""
    import tensorflow as tf

    maps = np.asarray(maps, dtype="float32")
    return tf.image.resize(maps[..., None], (size, size)).numpy()[..., 0]


def heat_inside(heat, masks) -> np.ndarray:
    """Per image: sum(heat * mask) / sum(heat). heat (N, H, W) >= 0, masks (N, H, W) 0/1.

    A heatmap spread evenly over the image scores the mask's area fraction; one that sits on
    the object scores more. An all-zero heatmap scores 0.
    """
    heat = np.asarray(heat, dtype=np.float64)
    masks = np.asarray(masks, dtype=np.float64)
    total = heat.sum(axis=(1, 2))
    return np.where(total > 0, (heat * masks).sum(axis=(1, 2)) / np.maximum(total, 1e-12), 0.0)
