"""Counting multiply-accumulate operations (MACs) of Keras models, layer by layer.

The lecture notes' formula for a convolution, per image: MAC = kw * kh * kc * oc * ow * oh
(times the batch size b). Dense layers: n_in * n_out per position. Layers that only compare,
add or normalise (pooling, activations, batch norm, additions) are counted as 0 MACs, the
convention of published figures (e.g. VGG-16: about 15.5 G MACs at 224x224).
"""

from __future__ import annotations

import math


def _spatial(shape) -> int:
    """Product of the spatial dimensions of a channels-last shape (batch and channels excluded)."""
    return math.prod(int(d) for d in shape[1:-1])


def layer_macs(layer) -> int:
    """MACs of one layer for a batch of 1 (0 for layers without multiplications)."""
    import keras

    L = keras.layers
    if isinstance(layer, keras.Model):
        return count_macs(layer)
    if isinstance(layer, L.SeparableConv2D):
        kh, kw = layer.kernel_size
        cin = int(layer.input.shape[-1])
        out = _spatial(layer.output.shape)
        depthwise = kh * kw * cin * layer.depth_multiplier * out
        return depthwise + cin * layer.depth_multiplier * layer.filters * out
    if isinstance(layer, L.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        cin = int(layer.input.shape[-1])
        return kh * kw * cin * layer.depth_multiplier * _spatial(layer.output.shape)
    if isinstance(layer, L.Conv2DTranspose):
        kh, kw = layer.kernel_size
        cin = int(layer.input.shape[-1])
        # every input pixel scatters a kh x kw x filters block
        return kh * kw * cin * layer.filters * _spatial(layer.input.shape)
    if isinstance(layer, (L.Conv1D, L.Conv2D, L.Conv3D)):
        kernel = math.prod(layer.kernel_size)
        cin = int(layer.input.shape[-1]) // layer.groups
        return kernel * cin * layer.filters * _spatial(layer.output.shape)
    if isinstance(layer, L.Dense):
        n_in = int(layer.input.shape[-1])
        positions = math.prod(int(d) for d in layer.input.shape[1:-1])
        return n_in * layer.units * positions
    return 0


def count_macs(model, batch: int = 1) -> int:
    """Total MACs of a built Keras model for `batch` images (nested models included)."""
    return batch * sum(layer_macs(layer) for layer in model.layers)


def macs_table(model) -> list[tuple[str, str, tuple, int, int]]:
    """(name, class, output shape, parameters, MACs) for each layer, for a batch of 1."""
    return [
        (
            layer.name,
            type(layer).__name__,
            tuple(layer.output.shape[1:]),
            int(layer.count_params()),
            layer_macs(layer),
        )
        for layer in model.layers
    ]
