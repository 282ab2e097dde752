"""Unit 00 (images are numbers): typical wrong answers and correct variants."""

from __future__ import annotations

import numpy as np

from mistakes import Exercise
from utils.checks import images_are_numbers
from utils.data.photos import load_photo


def _float(name):
    image = load_photo(name)
    return np.atleast_3d(image).astype(np.float32) / np.float32(255)


def _shift_roll_masked(image, dy, dx):
    out = np.roll(image, (dy, dx), axis=(0, 1))
    h, w = image.shape[:2]
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    keep = (rows - dy >= 0) & (rows - dy < h) & (cols - dx >= 0) & (cols - dx < w)
    return np.where(keep.reshape(h, w, *([1] * (image.ndim - 2))), out, 0).astype(image.dtype)


def _shift_pad(image, dy, dx):
    h, w = image.shape[:2]
    pad = [(abs(dy), abs(dy)), (abs(dx), abs(dx))] + [(0, 0)] * (image.ndim - 2)
    big = np.pad(image, pad)
    return big[abs(dy) - dy : abs(dy) - dy + h, abs(dx) - dx : abs(dx) - dx + w]


BT709 = np.array([0.2125, 0.7154, 0.0721])

EXERCISES = {
    "check_load_as_float": Exercise(
        run=images_are_numbers.check_load_as_float,
        wrong={
            "no-scaling": (lambda n: np.atleast_3d(load_photo(n)).astype(np.float32), r"1|255"),
            "float64": (lambda n: np.atleast_3d(load_photo(n)) / 255.0, r"float32"),
            "gray-without-channel-axis": (
                lambda n: load_photo(n).astype(np.float32) / np.float32(255),
                r"shape|channel",
            ),
            "divides-by-256": (
                lambda n: np.atleast_3d(load_photo(n)).astype(np.float32) / np.float32(256),
                r"expected",
            ),
        },
        right={"atleast_3d": _float},
    ),
    "check_split_channels": Exercise(
        run=images_are_numbers.check_split_channels,
        wrong={
            "rows-not-channels": (lambda im: [im[i] for i in range(im.shape[0])], r"expected"),
            "keeps-channel-axis": (
                lambda im: np.split(im, im.shape[-1], axis=-1),
                r"shape|expected",
            ),
            "first-axis-split": (lambda im: list(im[..., 0]), r"expected"),
        },
        right={
            "moveaxis": lambda im: list(np.moveaxis(im, -1, 0)),
            "transpose": lambda im: [c.T for c in im.T],
        },
    ),
    "check_rgb_to_gray": Exercise(
        run=images_are_numbers.check_rgb_to_gray,
        wrong={
            "plain-mean": (lambda rgb: rgb.mean(axis=-1) / 255.0, r"expected"),
            "no-scaling": (lambda rgb: rgb @ BT709, r"expected|\[0, 1\]|range"),
            "bgr-order": (lambda rgb: (rgb / 255.0) @ BT709[::-1], r"expected"),
        },
        right={"einsum": lambda rgb: np.einsum("hwc,c->hw", rgb.astype(float), BT709) / 255},
    ),
    "check_param_counts": Exercise(
        run=lambda fns: images_are_numbers.check_param_counts(*fns),
        wrong={
            "mlp-no-bias": (
                (lambda h, w, c, n: h * w * c * n, lambda k, c, f: (k * k * c + 1) * f),
                r"bias|expected",
            ),
            "conv-no-bias": (
                (lambda h, w, c, n: (h * w * c + 1) * n, lambda k, c, f: k * k * c * f),
                r"bias|expected",
            ),
            "conv-forgets-channels": (
                (lambda h, w, c, n: (h * w * c + 1) * n, lambda k, c, f: (k * k + 1) * f),
                r"expected",
            ),
            "mlp-forgets-channels": (
                (lambda h, w, c, n: (h * w + 1) * n, lambda k, c, f: (k * k * c + 1) * f),
                r"expected",
            ),
        },
        right={
            "factored": (lambda h, w, c, n: n * (h * w * c) + n, lambda k, c, f: f * k**2 * c + f)
        },
    ),
    "check_shift": Exercise(
        run=images_are_numbers.check_shift,
        wrong={
            "np-roll-wraps": (lambda im, dy, dx: np.roll(im, (dy, dx), axis=(0, 1)), r"expected"),
            "axes-swapped": (lambda im, dy, dx: _shift_pad(im, dx, dy), r"expected"),
            "wrong-direction": (lambda im, dy, dx: _shift_pad(im, -dy, -dx), r"expected"),
        },
        right={"roll-and-mask": _shift_roll_masked, "pad-and-crop": _shift_pad},
    ),
    "check_cosine_similarity": Exercise(
        run=images_are_numbers.check_cosine_similarity,
        wrong={
            "dot-only": (lambda a, b: float(np.ravel(a) @ np.ravel(b)), r"expected"),
            "one-norm": (
                lambda a, b: float(np.ravel(a) @ np.ravel(b) / np.linalg.norm(a) ** 2),
                r"expected",
            ),
            "uint8-overflow": (
                lambda a, b: float(
                    np.sum(np.ravel(a) * np.ravel(b))
                    / np.sqrt(np.sum(np.ravel(a) ** 2) * np.sum(np.ravel(b) ** 2))
                ),
                r"expected|overflow|uint8",
            ),
        },
        right={
            "normalise-first": lambda a, b: float(
                (np.ravel(a) / np.linalg.norm(np.ravel(a).astype(float)))
                @ (np.ravel(b) / np.linalg.norm(np.ravel(b).astype(float)))
            )
        },
    ),
}
