"""Receptive fields: from the layers' configurations, and measured with input gradients.

One formula and one measurement; the other functions are thin wrappers on the measurement.

- `layer_receptive_field`: receptive field (pixels, one side) of one unit of `layer_name`, from
  layer configs (the formula).
- `unit_gradient`: |d sum(y[:, i, j, channels]) / d x| for a model, a layer or a list of layers:
  (N, H, W, C) -> (N, H, W, C) (the measurement).
- `gradient_extent`: (height, width) of the bounding box of the nonzero entries of a gradient.
- `unit_receptive_field`: (height, width) of the input region that can change output unit
  (i, j) of a channel group, over a batch of inputs.
- `ones_conv`: Conv2D(1, kernel, padding='same', all-ones kernel, no bias); kernel: int or (kh, kw).
- `gradient_map`: |d y[0, size//2, size//2, 0] / d x| as a (size, size) array.
- `receptive_field`: (height, width) of the input region that the centre output of `layers` depends on.
- `measured_receptive_field`: width (pixels) of the input region that can change the centre unit
  of `layer_name`.
"""

from __future__ import annotations

import numpy as np


def layer_receptive_field(model, layer_name: str) -> int:
    """Receptive field (pixels, one side) of one unit of `layer_name`, from layer configs.

    r_out = r_in + (k - 1) * j_in and j_out = j_in * stride, where j is the distance in input
    pixels between neighbouring units; layers without a kernel leave both unchanged. The
    layers of `model` are taken in order (a chain), with the first entry of each kernel size
    and stride.
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


def unit_gradient(net, x, channels=None, position=None) -> np.ndarray:
    """|d sum(y[:, i, j, channels]) / d x| for every input of the batch x: (N, H, W, C) -> same.

    `net` is a callable from (N, H, W, C) to y of shape (N, H', W', C') (a Keras model or
    layer), or a list of such callables applied in order. `position` = (i, j) is the output
    unit, by default the centre (H' // 2, W' // 2); `channels` (an int, a slice, or None for
    all) is the channel group whose outputs are summed. The inputs of a batch are independent,
    so row n holds the gradient of input n's own unit. Keras layers run with training=False.
    """
    import keras
    import tensorflow as tf

    layers = list(net) if isinstance(net, list | tuple) else [net]
    x = tf.convert_to_tensor(np.asarray(x, dtype="float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x
        for layer in layers:
            y = layer(y, training=False) if isinstance(layer, keras.layers.Layer) else layer(y)
        i, j = position if position is not None else (y.shape[1] // 2, y.shape[2] // 2)
        group = y[:, i, j, :] if channels is None else y[:, i, j, channels]
        target = tf.reduce_sum(group)
    return np.abs(tape.gradient(target, x).numpy())


def gradient_extent(grad) -> tuple[int, int]:
    """(height, width) of the bounding box of the nonzero entries of grad; (0, 0) if none.

    grad: (H, W), or (H, W, C) with the channels' magnitudes summed first.
    """
    grad = np.abs(np.asarray(grad))
    if grad.ndim == 3:
        grad = grad.sum(axis=-1)
    rows, cols = np.nonzero(grad > 0)
    if len(rows) == 0:
        return 0, 0
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def unit_receptive_field(net, x, channels=None, position=None) -> tuple[int, int]:
    """(height, width) of the input region that can change output unit `position` (default the
    centre) of the channel group `channels`, as in `unit_gradient`; x: (N, H, W, C).

    The region is the union over the N inputs: ReLU and max pooling block the gradient at some
    pixels for a given input.
    """
    return gradient_extent(unit_gradient(net, x, channels, position).sum(axis=0))


def ones_conv(kernel):
    """Conv2D(1, kernel, padding='same', all-ones kernel, no bias); kernel: int or (kh, kw)."""
    import keras

    return keras.layers.Conv2D(1, kernel, padding="same", kernel_initializer="ones", use_bias=False)


def gradient_map(layers, size: int = 15, seed: int = 0) -> np.ndarray:
    """|d y[0, size//2, size//2, 0] / d x| as a (size, size) array.

    `layers` (fresh Keras layers) are applied in order to one input x of shape (1, size, size, 1)
    with uniform random values in [0, 1); y is the last layer's output (1, size, size, channels).
    """
    x = np.random.default_rng(seed).random((1, size, size, 1)).astype("float32")
    return unit_gradient(list(layers), x, channels=0, position=(size // 2, size // 2))[0, :, :, 0]


def receptive_field(layers, size: int = 15, seed: int = 0) -> tuple[int, int]:
    """(height, width) of the input region that the centre output of `layers` depends on."""
    return gradient_extent(gradient_map(layers, size, seed))


def measured_receptive_field(model, layer_name: str, n: int = 8, seed: int = 0) -> int:
    """Width (pixels) of the input region that can change the centre unit of `layer_name`.

    The gradient of that unit (summed over channels) with respect to the input is non-zero only
    inside its receptive field. ReLU and max pooling block the gradient at some pixels for a
    given input, so the union over `n` random inputs is taken; the larger side is returned.
    """
    import keras

    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    shape = tuple(int(d) for d in model.input_shape[1:])
    x = np.random.default_rng(seed).random((n, *shape))
    return max(unit_receptive_field(probe, x))
