"""A small inspectable CNN with fixed layer names (unit 16).

- `small_cnn`: A Sequential CNN whose layers have stable names: conv1/bn1/relu1/pool1, conv2/.../pool2,
"""

from __future__ import annotations


def small_cnn(
    input_shape=(32, 32, 3), classes: int = 10, widths=(16, 32, 48), first_kernel: int = 5
):
    """A Sequential CNN whose layers have stable names: conv1/bn1/relu1/pool1, conv2/.../pool2,
    conv3/bn3/relu3, gap, logits. Output: logits (N, classes), no softmax.

    The first kernel is 5x5 so that its learned filters are big enough to look at; relu3 keeps
    a (H/4, W/4) grid, the layer Grad-CAM draws on. Batch norm uses momentum 0.9 so that its
    running statistics settle within the few hundred steps of a short run.
    """
    import keras

    L = keras.layers
    layers = [keras.Input(input_shape)]
    for i, width in enumerate(widths, start=1):
        k = first_kernel if i == 1 else 3
        layers += [
            L.Conv2D(width, k, padding="same", use_bias=False, name=f"conv{i}"),
            L.BatchNormalization(momentum=0.9, name=f"bn{i}"),
            L.ReLU(name=f"relu{i}"),
        ]
        if i < len(widths):
            layers.append(L.MaxPooling2D(2, name=f"pool{i}"))
    layers += [L.GlobalAveragePooling2D(name="gap"), L.Dense(classes, name="logits")]
    return keras.Sequential(layers, name="small_cnn")
