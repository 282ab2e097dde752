"""Segmentation data of either profile (unit 13): Pets trimaps or generated shapes with trimaps.

- `shapes_trimap`: uint8 (N, H, W) 0/1 masks -> uint8 (N, H, W) class ids 0=shape, 1=background, 2=border.
- `load_segmentation`: `(x_train, m_train), (x_test, m_test), class_names` for unit 13.
"""

from __future__ import annotations

import numpy as np


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
