"""Receptive fields: from the layers' configurations, and measured with input gradients.

- `ones_conv`: Conv2D(1, kernel, padding='same', all-ones kernel, no bias); kernel: int or (kh, kw).
- `gradient_map`: |d y[0, size//2, size//2, 0] / d x| as a (size, size) array.
- `receptive_field`: (height, width) of the input region that the centre output of `layers` depends on.
- `layer_receptive_field`: Receptive field (pixels, one side) of one unit of `layer_name`, from layer configs.
- `measured_receptive_field`: Width (pixels) of the input region that can change the centre unit of `layer_name`.
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


def layer_receptive_field(model, layer_name: str) -> int:
    """Receptive field (pixels, one side) of one unit of `layer_name`, from layer configs.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * stride, where j is the distance in input
    pixels between neighbouring units; layers without a kernel leave both unchanged.
    """
    r, j = 1, 1
    for layer in model.layers:
        cfg = layer.get_config()
        k = cfg.get("kernel_size", cfg.get("pool_size"))
        if k is not None:
            s = cfg.get("strides") or k
            k, s = int(np.ravel(k)[0]), int(np.ravel(s)[0])
            r, j = r + (k - 1) * j, j * s
        if layer.name == layer_name:
            return r
    raise KeyError(f"no layer named {layer_name!r}")


def measured_receptive_field(model, layer_name: str, n: int = 8, seed: int = 0) -> int:
    """Width (pixels) of the input region that can change the centre unit of `layer_name`.

    The gradient of that unit (summed over channels) with respect to the input is non-zero only
    inside its receptive field. ReLU and max pooling block the gradient at some pixels for a
    given input, so the union over `n` random inputs is taken.
    """
    import keras
    import tensorflow as tf

    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    shape = tuple(int(d) for d in model.input_shape[1:])
    x = tf.constant(np.random.default_rng(seed).random((n, *shape)), dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = probe(x, training=False)
        h, w = out.shape[1] // 2, out.shape[2] // 2
        centre = tf.reduce_sum(out[:, h, w, :])
    grad = np.abs(tape.gradient(centre, x).numpy()).sum(axis=(0, 3))
    rows, cols = np.nonzero(grad.sum(axis=1))[0], np.nonzero(grad.sum(axis=0))[0]
    return int(max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1))
