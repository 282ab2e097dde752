"""Pictures for unit 03 (convolution as matrix multiply): im2col windows and matrix rows.

Each function draws one new figure and returns None (like `utils.plots`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

COLOURS = ("tab:red", "tab:blue", "tab:green", "tab:orange")


def _grid(ax, values: np.ndarray, title: str) -> None:
    """An integer matrix (R, C) drawn as grey cells with its numbers written in."""
    ax.imshow(values, cmap="Greys", vmin=values.min() - 1, vmax=values.max() + 2)
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def show_im2col(
    image: np.ndarray,
    cols: np.ndarray,
    kh: int,
    kw: int,
    *,
    stride: int = 1,
    rows: Sequence[int] = (0, 4),
) -> None:
    """Left: a one-channel image (H, W) with the windows of some output positions outlined.
    Right: its im2col matrix cols (OH * OW, KH * KW), with the matching rows outlined in the
    same colours. `rows` are row indices of cols (row i * OW + j is output position (i, j))."""
    ow = (image.shape[1] - kw) // stride + 1
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(4 + 0.42 * cols.shape[1], 0.42 * max(image.shape[0], cols.shape[0]) + 1),
        gridspec_kw={"width_ratios": [image.shape[1], cols.shape[1]]},
    )
    _grid(axes[0], np.asarray(image), f"image {image.shape[0]}x{image.shape[1]}")
    _grid(axes[1], np.asarray(cols), f"im2col: {cols.shape[0]} rows x {cols.shape[1]} columns")
    for colour, r in zip(COLOURS, rows, strict=False):
        i, j = divmod(r, ow)
        top, left = i * stride, j * stride
        axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), kw, kh, fill=False, ec=colour, lw=2.5))
        axes[1].add_patch(
            Rectangle((-0.5, r - 0.5), cols.shape[1], 1, fill=False, ec=colour, lw=2.5)
        )
        axes[1].text(
            cols.shape[1] - 0.3,
            r,
            f" row {r} = position ({i}, {j})",
            color=colour,
            va="center",
            fontsize=8,
        )
    fig.tight_layout()
