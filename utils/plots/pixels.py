"""Images as numbers: annotated pixel grids, channel splits, task overlays, im2col's patches.

- `show_matrix`: One small 2-D matrix (h, w) shown as an image with its values written in the cells.
- `show_patch`: A grayscale photo (H, W) with a red square at (top, left), and that size x size patch
- `show_channels`: A colour image (H, W, 3) next to its three channels; each channel is a grayscale matrix,
- `show_row`: Images side by side, each (H, W) or (H, W, 3), with its own colormap.
- `show_annotated`: A grid of images with what a vision task would output drawn on them.
- `show_im2col`: Left: a one-channel image (H, W) with the windows of some output positions outlined.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Rectangle

#: One colormap per RGB channel: black (0) to the pure channel colour (255).
CHANNEL_CMAPS = {
    name: LinearSegmentedColormap.from_list(f"black-{name}", ["black", colour])
    for name, colour in (("R", "red"), ("G", "lime"), ("B", "blue"))
}


def _limits(values: np.ndarray) -> tuple[float, float]:
    """Display range: 0..255 for integers, 0..1 for floats in [0, 1], else the data range."""
    if np.issubdtype(values.dtype, np.integer):
        return 0.0, 255.0
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return lo, hi


def _annotate(ax, values: np.ndarray, cmap: str = "gray", fmt: str = "") -> None:
    """Draw a 2-D matrix (h, w) as gray squares with each value written on its square."""
    lo, hi = _limits(values)
    ax.imshow(values, cmap=cmap, vmin=lo, vmax=hi)
    fmt = fmt or ("{:d}" if np.issubdtype(values.dtype, np.integer) else "{:.2f}")
    mid = (lo + hi) / 2
    for (r, c), v in np.ndenumerate(values):
        text = fmt.format(v.item())
        ax.text(
            c, r, text, ha="center", va="center", fontsize=8, color="black" if v > mid else "white"
        )
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.tick_params(labelsize=7, length=0)


def show_matrix(values: np.ndarray, title: str = "", *, size: float = 0.45) -> None:
    """One small 2-D matrix (h, w) shown as an image with its values written in the cells."""
    values = np.asarray(values)
    fig, ax = plt.subplots(figsize=(size * values.shape[1] + 1, size * values.shape[0] + 0.6))
    _annotate(ax, values)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()


def show_patch(image: np.ndarray, top: int, left: int, size: int = 8, title: str = "") -> None:
    """A grayscale photo (H, W) with a red square at (top, left), and that size x size patch
    enlarged with its pixel values written in."""
    patch = image[top : top + size, left : left + size]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5), gridspec_kw={"width_ratios": [1, 1.05]})
    axes[0].imshow(image, cmap="gray", vmin=0, vmax=255)
    axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec="red", lw=2))
    axes[0].set_title(title or f"{image.shape[0]}x{image.shape[1]} photo, patch at ({top}, {left})")
    axes[0].axis("off")
    _annotate(axes[1], patch)
    axes[1].set_xticklabels(range(left, left + size))
    axes[1].set_yticklabels(range(top, top + size))
    axes[1].set_title(f"rows {top}..{top + size - 1}, columns {left}..{left + size - 1}")
    fig.tight_layout()


def show_channels(rgb: np.ndarray, title: str = "") -> None:
    """A colour image (H, W, 3) next to its three channels; each channel is a grayscale matrix,
    drawn from black (0) to its own colour (255), with a colour bar."""
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.9))
    axes[0].imshow(rgb)
    axes[0].set_title(f"colour image {rgb.shape}")
    for i, (name, cmap) in enumerate(CHANNEL_CMAPS.items()):
        im = axes[i + 1].imshow(rgb[..., i], cmap=cmap, vmin=0, vmax=_limits(rgb)[1])
        axes[i + 1].set_title(f"channel {i} = {name}, shape {rgb[..., i].shape}")
        fig.colorbar(im, ax=axes[i + 1], fraction=0.046, pad=0.03)
    for ax in axes:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()


def show_row(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    cmaps: Sequence[str] | None = None,
    signed: Sequence[bool] | None = None,
    suptitle: str = "",
    size: float = 3.0,
) -> None:
    """Images side by side, each (H, W) or (H, W, 3), with its own colormap.

    2-D images are drawn on a fixed scale, so that brightness can be compared across panels:
    0..255 for integers, 0..1 for floats within [0, 1], else their own range.
    signed[i] = True draws image i with a blue-white-red scale centred on 0 (for differences).
    """
    n = len(images)
    cmaps = list(cmaps) if cmaps is not None else ["gray"] * n
    signed = list(signed) if signed is not None else [False] * n
    fig, axes = plt.subplots(1, n, figsize=(size * n, size + 0.5), squeeze=False)
    for ax, img, title, cmap, sgn in zip(axes.flat, images, titles, cmaps, signed, strict=True):
        img = np.asarray(img)
        if sgn:
            lim = float(np.abs(img).max()) or 1.0
            im = ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        elif img.ndim == 3:
            ax.imshow(img)
        else:
            lo, hi = _limits(img)
            ax.imshow(img, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()


def show_annotated(panels: Sequence[dict], *, ncols: int = 4, size: float = 3.6) -> None:
    """A grid of images with what a vision task would output drawn on them.

    Each panel is a dict with
    - "image": (H, W) or (H, W, 3), required;
    - "title": str;
    - "boxes": list of (top, left, bottom, right, label) rectangles in pixel coordinates;
    - "mask": (H, W) bool (one colour) or int labels (0 = background, one colour per label),
      drawn half-transparent over the image;
    - "caption": str written under the image.
    """
    n = len(panels)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.4), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, panel in zip(axes.flat, panels, strict=False):
        image = np.asarray(panel["image"])
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        mask = panel.get("mask")
        if mask is not None:
            mask = np.asarray(mask)
            if mask.dtype == bool:
                overlay = np.ma.masked_where(~mask, np.ones(mask.shape))
                ax.imshow(overlay, cmap="autumn", alpha=0.5, vmin=0, vmax=1)
            else:
                # golden-ratio steps around the hue circle: neighbouring labels differ in colour
                hues = (mask * 0.618034) % 1.0
                overlay = np.ma.masked_where(mask == 0, hues)
                ax.imshow(overlay, cmap="hsv", alpha=0.5, vmin=0, vmax=1, interpolation="nearest")
        for top, left, bottom, right, label in panel.get("boxes", ()):
            ax.add_patch(
                Rectangle(
                    (left - 0.5, top - 0.5),
                    right - left,
                    bottom - top,
                    fill=False,
                    ec="yellow",
                    lw=1.6,
                )
            )
            if label:
                ax.text(
                    left,
                    top - 2,
                    label,
                    color="black",
                    fontsize=7,
                    va="bottom",
                    bbox={"facecolor": "yellow", "pad": 1, "lw": 0},
                )
        ax.set_title(panel.get("title", ""), fontsize=10)
        if panel.get("caption"):
            ax.text(
                0.5,
                -0.03,
                panel["caption"],
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=8,
                wrap=True,
            )
    fig.tight_layout()


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
