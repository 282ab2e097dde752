"""Checks for unit 00 (images are numbers): loading, channels, grayscale, parameter counts,
shifting and comparing images.

References, all independent of the exercises' answers: scikit-image (`skimage.data`,
`skimage.util.img_as_float32`, `skimage.color.rgb2gray`), Pillow's `Image.split`, Keras's
`count_params()` of real layers, `scipy.ndimage.shift` and `scipy.spatial.distance.cosine`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import (
    CheckFailed,
    call,
    call_for_array,
    expect_array,
    fail,
    passed,
)
from utils.checks.references import reference

#: Bundled photos the loading check asks for: grayscale and colour ones.
GRAY_PHOTOS = ("camera", "coins", "brick")
COLOUR_PHOTOS = ("chelsea", "astronaut", "coffee", "rocket")


def _name(fn: Callable, default: str) -> str:
    return getattr(fn, "__name__", default)


def _random_rgb(rng: np.random.Generator, channels: int = 3) -> np.ndarray:
    """A random uint8 image (h, w, channels) with h, w in 1..12, using the whole 0..255 range."""
    h, w = (int(v) for v in rng.integers(1, 13, size=2))
    img = rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8)
    img.flat[0], img.flat[-1] = 0, 255  # always both extremes
    return img


def check_load_as_float(load_as_float: Callable, n_cases: int = 4, seed: int = 0) -> None:
    """Check `load_as_float(name) -> float32 (H, W, C)` in [0, 1], C = 1 for grayscale photos,
    against `skimage.util.img_as_float32(skimage.data.<name>())`."""
    from skimage import data, util

    name = _name(load_as_float, "load_as_float")
    rng = np.random.default_rng(seed)
    k = max(1, n_cases // 2)
    photos = [str(p) for p in rng.permutation(GRAY_PHOTOS)[:k]]
    photos += [str(p) for p in rng.permutation(COLOUR_PHOTOS)[:k]]
    for photo in photos:
        case = f"name={photo!r}"
        want = util.img_as_float32(getattr(data, photo)())
        if want.ndim == 2:
            want = want[..., None]
        got = call_for_array(
            load_as_float,
            photo,
            name=name,
            case=case,
            shape=want.shape,
            dtype=np.float32,
            shape_hint="always (H, W, C): give a grayscale (H, W) photo a channel axis of size 1.",
            dtype_hint="use .astype(np.float32).",
        )
        err = float(np.abs(got - want).max())
        if err > 1e-6:
            hint = "divide by 255, the largest value a uint8 can hold (not by the photo's max)."
            if got.max() > 1.5:
                hint = "values must be in [0, 1]: divide the 0..255 values by 255."
            raise fail(
                name,
                case,
                f"values {want.min():.3f}..{want.max():.3f}",
                f"values {got.min():.3f}..{got.max():.3f} (largest difference {err:.2g})",
                hint,
            )
    passed(
        f"`{name}` gives the same float32 arrays as skimage.util.img_as_float32 on "
        f"{len(photos)} photos ({', '.join(photos)})."
    )


def check_split_channels(split_channels: Callable, n_cases: int = 8, seed: int = 0) -> None:
    """Check `split_channels(image) -> list of C arrays (H, W)` for uint8 RGB and RGBA images
    (H, W, 3|4) against Pillow's `Image.split()`."""
    from PIL import Image

    name = _name(split_channels, "split_channels")
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        channels = 4 if i % 4 == 3 else 3
        img = _random_rgb(rng, channels)
        case = f"image of shape {img.shape} (uint8)"
        want = [
            np.asarray(p) for p in Image.fromarray(img, "RGBA" if channels == 4 else "RGB").split()
        ]
        got = call(split_channels, img.copy(), case=case)
        if got is None:
            raise CheckFailed(
                f"`{name}` returned None on the case {case}: did you forget `return`?"
            )
        got = list(got)
        if len(got) != len(want):
            raise fail(
                name,
                case,
                f"{len(want)} channels",
                f"{len(got)} arrays",
                "one array per channel; the channels are the LAST axis of (H, W, C).",
            )
        for c, (g, w) in enumerate(zip(got, want, strict=True)):
            g = expect_array(
                g,
                name=name,
                case=f"{case}, channel {c}",
                shape=w.shape,
                dtype=img.dtype,
                shape_hint="each channel is a 2-D (H, W) matrix, without a channel axis of size 1.",
                dtype_hint="keep the values as they are.",
            )
            if not np.array_equal(g, w):
                raise fail(
                    name,
                    f"{case}, channel {c} ({'RGBA'[c]})",
                    w,
                    g,
                    "channel 0 is red, 1 green, 2 blue (3 alpha), in that order.",
                )
    passed(f"`{name}` splits {n_cases} RGB/RGBA images exactly as Pillow's Image.split() does.")


def check_rgb_to_gray(rgb_to_gray: Callable, n_cases: int = 8, seed: int = 0) -> None:
    """Check `rgb_to_gray(rgb: uint8 (H, W, 3)) -> float (H, W)` in [0, 1] against
    `skimage.color.rgb2gray`, on random images, pure colours and a bundled photo."""
    from skimage import color, data

    name = _name(rgb_to_gray, "rgb_to_gray")
    rng = np.random.default_rng(seed)
    pure = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0]]], np.uint8)
    cases = [("pure red, green, blue, white, black (1, 5, 3)", pure)]
    cases += [
        (f"random image {img.shape}", img) for img in (_random_rgb(rng) for _ in range(n_cases - 2))
    ]
    cases.append(("the chelsea photo (300, 451, 3)", data.chelsea()))
    for case, img in cases:
        want = color.rgb2gray(img)
        got = call_for_array(
            rgb_to_gray,
            img.copy(),
            name=name,
            case=case,
            shape=want.shape,
            shape_hint="one value per pixel: (H, W).",
        )
        err = float(np.abs(got.astype(np.float64) - want).max())
        if err > 1e-5:
            hint = "a weighted sum 0.2125 R + 0.7154 G + 0.0721 B of values scaled to [0, 1]."
            if got.max() > 1.5:
                hint = "scale to [0, 1] first: divide by 255."
            elif np.allclose(got, img.astype(np.float64).mean(axis=-1) / 255, atol=1e-5):
                hint = "not the plain mean: the eye is most sensitive to green, so G weighs most."
            shown_want, shown_got = (want, got) if want.size <= 15 else (want[:2, :4], got[:2, :4])
            raise fail(name, case, np.round(shown_want, 4), np.round(shown_got, 4), hint)
    passed(f"`{name}` matches skimage.color.rgb2gray on {len(cases)} images (to 1e-5).")


@reference
def _keras_counts(h: int, w: int, c: int, hidden: int, k: int, filters: int) -> tuple[int, int]:
    """count_params() of Flatten + Dense(hidden) and of Conv2D(filters, k) on an (h, w, c) input."""
    import keras

    mlp = keras.Sequential(
        [keras.Input((h, w, c)), keras.layers.Flatten(), keras.layers.Dense(hidden)]
    )
    conv = keras.Sequential([keras.Input((h, w, c)), keras.layers.Conv2D(filters, k)])
    return mlp.count_params(), conv.count_params()


def check_param_counts(
    mlp_first_layer_params: Callable, conv_layer_params: Callable, n_cases: int = 6, seed: int = 0
) -> None:
    """Check `mlp_first_layer_params(height, width, channels, hidden)` (Flatten + Dense) and
    `conv_layer_params(kernel_size, channels, filters)` (Conv2D, square kernel), biases
    included, against Keras's count_params() of real layers on random small shapes."""
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        h, w = (int(v) for v in rng.integers(4, 48, size=2))
        c = int(rng.choice([1, 3]))
        hidden = int(rng.integers(1, 200))
        k = int(rng.integers(1, min(h, w, 7) + 1))
        filters = int(rng.integers(1, 130))
        want_mlp, want_conv = _keras_counts(h, w, c, hidden, k, filters)
        case = f"height={h}, width={w}, channels={c}, hidden={hidden}"
        got = call(mlp_first_layer_params, h, w, c, hidden, case=case)
        if got != want_mlp or not isinstance(got, (int, np.integer)):
            raise fail(
                "mlp_first_layer_params",
                case,
                want_mlp,
                got,
                "an int: the flattened image has height*width*channels inputs; every hidden "
                "unit has one weight per input and one bias.",
            )
        case = f"kernel_size={k}, channels={c}, filters={filters}"
        got = call(conv_layer_params, k, c, filters, case=case)
        if got != want_conv or not isinstance(got, (int, np.integer)):
            raise fail(
                "conv_layer_params",
                case,
                want_conv,
                got,
                "an int: each filter has kernel_size*kernel_size*channels weights and one bias; "
                "the image size does not matter.",
            )
    passed(
        f"`mlp_first_layer_params` and `conv_layer_params` agree with Keras count_params() "
        f"(Flatten + Dense, Conv2D) on {n_cases} random shapes."
    )


def check_shift(shift: Callable, n_cases: int = 10, seed: int = 0) -> None:
    """Check `shift(image, dy, dx)`: the content moves dy rows down and dx columns right
    (negative: up / left), vacated pixels are 0, the shape stays. Reference:
    `scipy.ndimage.shift(..., order=0, mode="constant", cval=0)`. image: (H, W) or (H, W, C)."""
    from scipy import ndimage

    name = _name(shift, "shift")
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        h, w = int(rng.integers(4, 12)), int(rng.integers(4, 12))
        img = rng.integers(1, 256, size=(h, w, 3), dtype=np.uint8)
        if i % 2 == 0:
            img = img[..., 0]
        dy, dx = int(rng.integers(-(h - 1), h)), int(rng.integers(-(w - 1), w))
        if i == 0:
            dy, dx = 2, 0
        elif i == 1:
            dy, dx = 0, -3
        case = f"image {img.shape}, dy={dy}, dx={dx}"
        offset = (dy, dx) + (0,) * (img.ndim - 2)
        want = ndimage.shift(img, offset, order=0, mode="constant", cval=0)
        got = call_for_array(
            shift,
            img.copy(),
            dy,
            dx,
            name=name,
            case=case,
            shape=want.shape,
            shape_hint="the shape must not change.",
        )
        if not np.array_equal(got, want):
            hint = "positive dy moves the content down, positive dx moves it right."
            if np.array_equal(got, np.roll(img, (dy, dx), axis=(0, 1))):
                hint = "pixels that leave one side must not come back on the other: fill with 0."
            shown = (want, got) if img.ndim == 2 else (want[..., 0], got[..., 0])
            raise fail(name, case + ("" if img.ndim == 2 else ", channel 0"), *shown, hint)
    passed(f"`{name}` matches scipy.ndimage.shift on {n_cases} images (2-D and RGB).")


def check_cosine_similarity(cosine_similarity: Callable, n_cases: int = 8, seed: int = 0) -> None:
    """Check `cosine_similarity(a, b) -> float`: the cosine of the angle between the flattened
    arrays a and b (same shape, any dtype, uint8 included), against
    `1 - scipy.spatial.distance.cosine`."""
    from scipy.spatial import distance

    name = _name(cosine_similarity, "cosine_similarity")
    rng = np.random.default_rng(seed)
    for i in range(n_cases):
        if i % 2 == 0:  # uint8 images: sums of products overflow 8 bits
            a = _random_rgb(rng)
            b = rng.integers(0, 256, size=a.shape, dtype=np.uint8)
        else:
            shape = tuple(int(v) for v in rng.integers(2, 9, size=int(rng.integers(1, 4))))
            a, b = rng.standard_normal(shape), rng.standard_normal(shape)
        if i == 1:
            b = 2.5 * a  # same direction: similarity 1
        case = f"a, b of shape {a.shape}, dtype {a.dtype}"
        want = 1.0 - distance.cosine(a.ravel().astype(np.float64), b.ravel().astype(np.float64))
        got = call(cosine_similarity, a.copy(), b.copy(), case=case)
        if got is None:
            raise CheckFailed(
                f"`{name}` returned None on the case {case}: did you forget `return`?"
            )
        if np.ndim(got) != 0:
            raise fail(
                name,
                case,
                "one number",
                f"an array of shape {np.shape(got)}",
                "flatten a and b first.",
            )
        if abs(float(got) - want) > 1e-6:
            hint = "a . b / (|a| |b|) over ALL values."
            if a.dtype == np.uint8:
                hint += " uint8 products and sums wrap around at 256: convert to float first."
            raise fail(name, case, round(want, 6), round(float(got), 6), hint)
    passed(f"`{name}` matches 1 - scipy.spatial.distance.cosine on {n_cases} pairs.")
