"""Receptive fields measured with gradients, as unit 01 introduces them (used by units 03, 08).

The receptive field of an output pixel is the set of input pixels its value depends on: where
the gradient of that output with respect to the input is non-zero. With all-ones kernels and no
activation, every path contributes positively, so nothing cancels.

- `ones_conv(kernel)`           a one-channel Conv2D, 'same' padding, all-ones kernel, no bias
- `gradient_map(layers, size)`  |d centre output / d input|, an array (size, size)
- `receptive_field(layers, size)`  (height, width) of the region where that map is non-zero
"""

from __future__ import annotations

import numpy as np


def ones_conv(kernel):
    """Conv2D(1, kernel, padding='same', all-ones kernel, no bias); kernel: int or (kh, kw)."""
    import keras

    return keras.layers.Conv2D(1, kernel, padding="same", kernel_initializer="ones", use_bias=False)


def gradient_map(layers, size: int = 15, seed: int = 0) -> np.ndarray:
    """|d y[0, size//2, size//2, 0] / d x| as a (size, size) array.

    `layers` (fresh Keras layers) are applied in order to one input x of shape (1, size, size, 1)
    with uniform random values in [0, 1); y is the last layer's output (1, size, size, channels).
    """
    import tensorflow as tf

    x = tf.Variable(np.random.default_rng(seed).random((1, size, size, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        y = x
        for layer in layers:
            y = layer(y)
        centre = y[0, size // 2, size // 2, 0]
    return np.abs(tape.gradient(centre, x).numpy()[0, :, :, 0])


def receptive_field(layers, size: int = 15, seed: int = 0) -> tuple[int, int]:
    """(height, width) of the input region that the centre output of `layers` depends on."""
    rows, cols = np.nonzero(gradient_map(layers, size, seed))
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
