"""Segmentation helpers for unit 13: the data of either profile, shape trimaps, overlay plots.

- `shapes_trimap(masks)`  binary shape masks -> pet/background/border class ids, like Pets
- `load_segmentation(profile, ...)`  Pets (full) or generated shapes (smoke), split and ready
- `colorize(masks)`, `show_overlays(...)`  masks drawn in colour over their images
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

# One colour per class id: pet/shape (orange), background (none), border (blue).
CLASS_COLOURS = np.array([[255, 140, 0], [0, 0, 0], [30, 110, 255]], dtype=np.float64)


def shapes_trimap(masks: np.ndarray, border: int = 1) -> np.ndarray:
    """uint8 (N, H, W) 0/1 masks -> uint8 (N, H, W) class ids 0=shape, 1=background, 2=border.

    The border is the ring within `border` pixels of the shape's outline, on both sides
    (dilation minus erosion), which mirrors the "not sure" ring of the Pets trimaps.
    """
    from scipy import ndimage

    masks = np.asarray(masks).astype(bool)
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = ndimage.generate_binary_structure(2, 1)  # no mixing across images
    inner = ndimage.binary_erosion(masks, structure, iterations=border)
    outer = ndimage.binary_dilation(masks, structure, iterations=border)
    out = np.ones(masks.shape, dtype=np.uint8)
    out[outer] = 2
    out[inner] = 0
    return out


def load_segmentation(
    profile: str, *, size: int, n_smoke: int = 900, n_test: int = 1000, seed: int = 0
):
    """`(x_train, m_train), (x_test, m_test), class_names` for unit 13.

    x: uint8 (N, size, size, 3); m: uint8 (N, size, size) class ids 0=pet/shape,
    1=background, 2=border.
    full:  Oxford-IIIT Pets (utils.data.pets; 7,390 images), `n_test` held out at random.
    smoke: `n_smoke` generated shapes (utils.data.shapes) with a 1-pixel border ring, a fifth
           held out. No network.
    """
    if profile == "full":
        from utils.data.pets import PETS_CLASSES, load_pets

        x, m, _ = load_pets(size=size)
        names = PETS_CLASSES
    elif profile == "smoke":
        from utils.data.shapes import make_shapes

        x, _, binary = make_shapes(n_smoke, size=size, seed=seed)
        m = shapes_trimap(binary)
        names = ("shape", "background", "border")
        n_test = n_smoke // 5
    else:
        raise ValueError(f"profile must be 'full' or 'smoke', not {profile!r}")
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:n_test], order[n_test:]
    return (x[train], m[train]), (x[test], m[test]), names


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
