"""Simple measures of an image, used by several units to check what their pictures show.

- `detail(img)`  mean absolute difference between horizontally adjacent pixels: a rough score
                 of fine detail that blurring and smoothing lower and sharpening raises.
"""

from __future__ import annotations

import numpy as np


def detail(img) -> float:
    """Mean absolute difference between horizontally adjacent pixels.

    img: (H, W) or (H, W, C), any numeric dtype; the mean is over all (H, W - 1 [, C]) differences.
    """
    return float(np.abs(np.diff(np.asarray(img, dtype=np.float64), axis=1)).mean())
