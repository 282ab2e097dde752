"""Real photos bundled with scikit-image: available offline, in both profiles."""

from __future__ import annotations

import numpy as np

#: name -> what it shows. All ship inside scikit-image (no download).
PHOTOS = {
    "camera": "a cameraman, grayscale 512x512",
    "astronaut": "astronaut Eileen Collins, RGB 512x512",
    "chelsea": "Chelsea the cat, RGB 300x451",
    "coffee": "a cup of coffee, RGB 400x600",
    "rocket": "a rocket on its launch pad, RGB 427x640",
    "coins": "Greek coins, grayscale 303x384",
    "brick": "a brick wall texture, grayscale 512x512",
    "grass": "a grass texture, grayscale 512x512",
}


def load_photo(name: str, *, gray: bool = False) -> np.ndarray:
    """A bundled photo as uint8: (H, W) if grayscale (or `gray=True`), else (H, W, 3)."""
    if name not in PHOTOS:
        raise KeyError(f"No bundled photo {name!r}; choose one of {sorted(PHOTOS)}")
    from skimage import data

    image = getattr(data, name)()
    if gray and image.ndim == 3:
        # ITU-R BT.601 luma, the weights most image libraries use for RGB -> gray.
        image = np.round(image[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    return image
