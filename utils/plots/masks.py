"""Segmentation masks in colour, and over their images.

- `colorize`: Class ids (..., H, W) -> uint8 RGB (..., H, W, 3) in CLASS_COLOURS.
- `overlay`: uint8 (H, W, 3) image with the non-background classes of `mask` (H, W) blended in.
- `show_overlays`: Rows: image, true mask over it, and (if given) the predicted mask over it; n columns.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

# One colour per class id: pet/shape (orange), background (none), border (blue).
CLASS_COLOURS = np.array([[255, 140, 0], [0, 0, 0], [30, 110, 255]], dtype=np.float64)


def colorize(masks: np.ndarray) -> np.ndarray:
    """Class ids (..., H, W) -> uint8 RGB (..., H, W, 3) in CLASS_COLOURS."""
    return CLASS_COLOURS[np.asarray(masks)].astype(np.uint8)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 (H, W, 3) image with the non-background classes of `mask` (H, W) blended in."""
    image = np.asarray(image, dtype=np.float64)
    colour = CLASS_COLOURS[np.asarray(mask)]
    a = np.where(np.asarray(mask)[..., None] == 1, 0.0, alpha)
    return np.clip((1 - a) * image + a * colour, 0, 255).astype(np.uint8)


def show_overlays(
    images, true_masks, pred_masks=None, *, n: int = 6, size: float = 2.0, title: str = ""
):
    """Rows: image, true mask over it, and (if given) the predicted mask over it; n columns."""
    rows = [
        ("image", list(images[:n])),
        ("true mask", [overlay(i, m) for i, m in zip(images[:n], true_masks[:n], strict=True)]),
    ]
    if pred_masks is not None:
        rows.append(
            ("predicted", [overlay(i, m) for i, m in zip(images[:n], pred_masks[:n], strict=True)])
        )
    n = len(rows[0][1])
    fig, axes = plt.subplots(
        len(rows), n, figsize=(size * n, size * len(rows) + 0.3), squeeze=False
    )
    for r, (label, pictures) in enumerate(rows):
        for c, pic in enumerate(pictures):
            axes[r, c].imshow(pic)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
