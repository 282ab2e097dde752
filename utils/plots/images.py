"""Images on a grid: photos, kernels on photos, feature maps, filters, heatmaps, demos, predictions.

- `show_images`: A grid of images. images: (N, H, W) or (N, H, W, 1|3), or a list of such arrays.
- `show_kernel_on_photo`: Three panels: the photo (H, W), the kernel (kh, kw) with its values, the result (H', W').
- `show_feature_maps`: The channels of one feature-map tensor. maps: (H, W, C); each channel scaled on its own.
- `show_filters`: One row per kernel tensor (kh, kw, 3, channels): its first `n` filters as RGB tiles.
- `show_heatmaps`: First row: the images (N, H, W, 3) in [0, 1] or uint8. Then one row per entry of `rows`,
- `show_demos`: Input -> output pairs, two panels per demo, `ncols` pairs per row.
- `plot_prediction`: A photo (H, W, 3) beside a bar chart of its class probabilities {class: probability}.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

if TYPE_CHECKING:  # annotations only
    from utils.data.application_demos import Demo


def show_images(
    images: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    size: float = 1.6,
    cmap: str = "gray",
    suptitle: str | None = None,
):
    """A grid of images. images: (N, H, W) or (N, H, W, 1|3), or a list of such arrays."""
    images = list(images)
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i])
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()


def show_kernel_on_photo(photo: np.ndarray, kernel: np.ndarray, result: np.ndarray, name: str = ""):
    """Three panels: the photo (H, W), the kernel (kh, kw) with its values, the result (H', W')."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 1.3, 3]})
    axes[0].imshow(photo, cmap="gray")
    axes[0].set_title(f"input {photo.shape[0]}x{photo.shape[1]}")
    lim = float(np.abs(kernel).max()) or 1.0
    axes[1].imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if kernel.size <= 49:
        for (r, c), v in np.ndenumerate(kernel):
            axes[1].text(c, r, f"{v:.2g}", ha="center", va="center", fontsize=8)
    axes[1].set_title(f"kernel {name}".strip())
    axes[2].imshow(result, cmap="gray")
    axes[2].set_title(f"output {result.shape[0]}x{result.shape[1]}")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()


def show_feature_maps(maps: np.ndarray, *, ncols: int = 8, title: str = "", size: float = 1.3):
    """The channels of one feature-map tensor. maps: (H, W, C); each channel scaled on its own."""
    maps = np.asarray(maps)
    channels = [maps[..., c] for c in range(maps.shape[-1])]
    show_images(
        channels,
        [str(c) for c in range(len(channels))],
        ncols=ncols,
        size=size,
        cmap="viridis",
        suptitle=title or f"{maps.shape[-1]} feature maps of {maps.shape[0]}x{maps.shape[1]}",
    )


def show_filters(kernels, titles, *, n: int = 16, size: float = 0.9):
    """One row per kernel tensor (kh, kw, 3, channels): its first `n` filters as RGB tiles.

    Each filter is scaled on its own to [0, 1] around 0.5 (grey = 0), so the sign pattern
    shows: a bright/dark pair is an edge, a coloured blob a colour detector.
    """
    fig, axes = plt.subplots(
        len(kernels), n, figsize=(size * n, size * len(kernels) + 0.4), squeeze=False
    )
    for r, (kernel, title) in enumerate(zip(kernels, titles, strict=True)):
        kernel = np.asarray(kernel)
        for c in range(n):
            w = kernel[..., c]
            lim = float(np.abs(w).max()) or 1.0
            axes[r, c].imshow(np.clip(0.5 + 0.5 * w / lim, 0, 1), interpolation="nearest")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    fig.tight_layout()


def show_heatmaps(images, rows, *, titles=None, size: float = 1.7, alpha: float = 0.5):
    """First row: the images (N, H, W, 3) in [0, 1] or uint8. Then one row per entry of `rows`,
    a dict {row label: heatmaps (N, H, W) in [0, 1]}, drawn in the `jet` colour map over the
    image. titles: optional N column titles.
    """
    images = [
        np.asarray(i, dtype=np.float64) / (255.0 if np.asarray(i).max() > 1 else 1.0)
        for i in images
    ]
    n = len(images)
    fig, axes = plt.subplots(
        1 + len(rows), n, figsize=(size * n, size * (1 + len(rows)) + 0.3), squeeze=False
    )
    for c, img in enumerate(images):
        axes[0, c].imshow(img)
        if titles is not None:
            axes[0, c].set_title(str(titles[c]), fontsize=8)
    for r, (label, heat) in enumerate(rows.items(), start=1):
        for c, img in enumerate(images):
            axes[r, c].imshow(img)
            axes[r, c].imshow(np.asarray(heat[c]), cmap="jet", alpha=alpha, vmin=0, vmax=1)
        axes[r, 0].set_ylabel(label, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()


def show_demos(results: dict[str, Demo], *, ncols: int = 4, size: float = 2.0) -> None:
    """Input -> output pairs, two panels per demo, `ncols` pairs per row."""
    names = list(results)
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, 2 * ncols, figsize=(2 * size * ncols, size * nrows + 0.6), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for i, name in enumerate(names):
        d = results[name]
        r, c = divmod(i, ncols)
        for j, (img, label) in enumerate([(d.input, "in"), (d.output, "out")]):
            ax = axes[r, 2 * c + j]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_title(f"{name}: {label}", fontsize=8)
    fig.tight_layout()


def plot_prediction(image: np.ndarray, probabilities: dict[str, float], title: str = ""):
    """A photo (H, W, 3) beside a bar chart of its class probabilities {class: probability}."""
    import matplotlib.pyplot as plt

    names, values = list(probabilities), [float(v) for v in probabilities.values()]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [1, 1.4]}
    )
    left.imshow(np.asarray(image).astype("uint8"))
    left.axis("off")
    left.set_title(title, fontsize=9)
    colours = ["tab:orange" if v == max(values) else "tab:blue" for v in values]
    right.barh(names, values, color=colours)
    right.set_xlim(0, 1)
    right.invert_yaxis()
    right.set_xlabel("probability")
    for y, v in enumerate(values):
        right.text(min(v + 0.02, 0.85), y, f"{v:.2f}", va="center")
    fig.tight_layout()
