"""Unit 06 (training CNNs well): typical wrong answers and correct variants (the optimiser
steps and the two regularisers written by hand; the gap exercise trains and is tested in
tests/test_training_tricks_generalisation.py)."""

from __future__ import annotations

import numpy as np

from mistakes import Exercise
from utils.checks import training_cnns_well


def momentum_positive_velocity(w, g, v, lr, mu):
    """Correct, the other sign convention: v accumulates gradients, w moves against it."""
    v = mu * v + g
    return w - lr * v, v


def adam_corrected_lr(w, g, m, v, t, lr, b1, b2, eps):
    """Correct up to eps placement, written as the paper's efficient form is not: plain form."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * np.square(g)
    return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


def _adam(bias_correction=True, square=True, t_shift=0):
    def step(w, g, m, v, t, lr, b1, b2, eps):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g**2 if square else np.abs(g))
        tt = t + t_shift
        mh, vh = (m / (1 - b1**tt), v / (1 - b2**tt)) if bias_correction else (m, v)
        return w - lr * mh / (np.sqrt(vh) + eps), m, v

    return step


def spatial_dropout_mask(x, rate, training, rng):
    """Correct, written differently: a 0/1 mask per (image, channel), multiplied in."""
    if not training:
        return x
    mask = (rng.uniform(size=(x.shape[0], x.shape[3])) >= rate) / (1 - rate)
    return x * mask[:, None, None, :]


def _dropout_per_pixel(x, rate, training, rng):
    if not training:
        return x
    return np.where(rng.random(x.shape) >= rate, x / (1 - rate), 0.0)


def _dropout_no_rescale(x, rate, training, rng):
    if not training:
        return x
    keep = rng.random((x.shape[0], 1, 1, x.shape[3])) >= rate
    return np.where(keep, x, 0.0)


def _dropout_always(x, rate, training, rng):
    return spatial_dropout_mask(x, rate, True, rng)


def _dropout_keeps_rate(x, rate, training, rng):
    return spatial_dropout_mask(x, 1 - rate, training, rng) if training else x


def cutout_mask(x, size, training, rng):
    """Correct, written differently: a boolean mask from distances to a random centre."""
    if not training:
        return x
    n, h, w = x.shape[:3]
    cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
    rows, cols = np.arange(h), np.arange(w)
    inside_r = (rows[None] >= (cy - size // 2)[:, None]) & (
        rows[None] < (cy - size // 2 + size)[:, None]
    )
    inside_c = (cols[None] >= (cx - size // 2)[:, None]) & (
        cols[None] < (cx - size // 2 + size)[:, None]
    )
    mask = inside_r[:, :, None] & inside_c[:, None, :]
    return np.where(mask[..., None], 0.0, x)


def _cutout_same_square(x, size, training, rng):
    if not training:
        return x
    out = x.copy()
    cy, cx = rng.integers(0, x.shape[1]), rng.integers(0, x.shape[2])
    out[
        :,
        max(cy - size // 2, 0) : cy - size // 2 + size,
        max(cx - size // 2, 0) : cx - size // 2 + size,
    ] = 0
    return out


def _cutout_in_place(x, size, training, rng):
    if not training:
        return x
    n, h, w = x.shape[:3]
    for i in range(n):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        x[
            i,
            max(cy - size // 2, 0) : cy - size // 2 + size,
            max(cx - size // 2, 0) : cx - size // 2 + size,
        ] = 0
    return x


def _cutout_inference_too(x, size, training, rng):
    return cutout_mask(x, size, True, rng)


def _cutout_wraps_negative_index(x, size, training, rng):
    if not training:
        return x
    out = x.copy()
    n, h, w = x.shape[:3]
    for i in range(n):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        out[i, cy - size // 2 : cy - size // 2 + size, cx - size // 2 : cx - size // 2 + size] = 0
    return out


EXERCISES = {
    "check_momentum_step": Exercise(
        run=training_cnns_well.check_momentum_step,
        wrong={
            "plain-sgd": (lambda w, g, v, lr, mu: (w - lr * g, v), r"expected|momentum|velocity"),
            "velocity-not-fed-back": (
                lambda w, g, v, lr, mu: (w - lr * g + mu * 0, -lr * g),
                r"expected|velocity",
            ),
            "momentum-on-gradient": (
                lambda w, g, v, lr, mu: (w + (mu * v - g), mu * v - g),
                r"expected|learning rate|lr",
            ),
        },
        right={"positive-velocity": momentum_positive_velocity},
    ),
    "check_adam_step": Exercise(
        run=training_cnns_well.check_adam_step,
        wrong={
            "no-bias-correction": (_adam(bias_correction=False), r"expected|bias"),
            "abs-not-square": (_adam(square=False), r"expected"),
            "t-zero-based": (_adam(t_shift=-1), r"expected|nan|inf|divide|t"),
        },
        right={"plain-form": adam_corrected_lr},
    ),
    "check_spatial_dropout": Exercise(
        run=training_cnns_well.check_spatial_dropout,
        wrong={
            "per-pixel-not-per-map": (_dropout_per_pixel, r"map|whole|channel"),
            "no-rescaling": (_dropout_no_rescale, r"1 - rate|scale|divid"),
            "drops-at-inference": (_dropout_always, r"training=False|inference"),
            "keeps-with-rate": (_dropout_keeps_rate, r"rate|fraction|expected"),
        },
        right={"multiplied-mask": spatial_dropout_mask},
    ),
    "check_cutout": Exercise(
        run=training_cnns_well.check_cutout,
        wrong={
            "one-square-for-the-batch": (_cutout_same_square, r"image|same|each"),
            "changes-the-input": (_cutout_in_place, r"input|copy|modif"),
            "cuts-at-inference": (_cutout_inference_too, r"training=False|inference"),
            "negative-index-wraps": (_cutout_wraps_negative_index, r"square|expected|border|edge"),
        },
        right={"boolean-mask": cutout_mask},
    ),
}
