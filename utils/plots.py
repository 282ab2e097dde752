"""Plots the notebooks share: image grids, a kernel applied to a photo, feature maps, curves.

Each function draws one new figure and returns None, so that a call on a cell's last line
does not show the figure twice. (`matplotlib.pyplot.gcf()` is the figure just drawn.)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np


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


def plot_history(history, *, metrics: Sequence[str] = ("loss", "accuracy"), title: str = ""):
    """Training curves, train vs validation, one panel per metric.

    history: a `keras.callbacks.History` or its `.history` dict ({"loss": [...], "val_loss": [...]}).
    """
    logs = getattr(history, "history", history)
    metrics = [m for m in metrics if m in logs]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.4), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=True):
        epochs = np.arange(1, len(logs[m]) + 1)
        ax.plot(epochs, logs[m], "o-", label="train")
        if f"val_{m}" in logs:
            ax.plot(epochs, logs[f"val_{m}"], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(m)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
