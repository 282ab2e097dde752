"""Unit 08 (VGG): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import vgg

L = keras.layers


def vgg_bn_block_steps(x, filters, kernel_sizes):
    """Correct, written differently: tuple kernels, Activation("relu"), PyTorch's epsilon."""
    for k in kernel_sizes:
        steps = [
            L.Conv2D(filters, (k, k), strides=(1, 1), padding="same", use_bias=False),
            L.BatchNormalization(epsilon=1e-5),
            L.Activation("relu"),
        ]
        for step in steps:
            x = step(x)
    return L.MaxPooling2D(pool_size=(2, 2))(x)


def _bn_block(bias=False, relu_first=False, pool_each=False, all_3x3=False, conv_relu=False):
    def vgg_bn_block(x, filters, kernel_sizes):
        for k in kernel_sizes:
            act = "relu" if conv_relu else None
            x = L.Conv2D(
                filters, 3 if all_3x3 else k, padding="same", use_bias=bias, activation=act
            )(x)
            if relu_first:
                x = L.BatchNormalization()(L.ReLU()(x))
            else:
                x = L.BatchNormalization()(x)
                x = x if conv_relu else L.ReLU()(x)
            if pool_each:
                x = L.MaxPooling2D(2)(x)
        return x if pool_each else L.MaxPooling2D(2)(x)

    return vgg_bn_block


def _vgg_bn_block_added_twice(x, filters, kernel_sizes):
    """Wrong: the block's input added to its BatchNormalization (a residual by mistake)."""
    for k in kernel_sizes:
        y = L.BatchNormalization()(L.Conv2D(filters, k, padding="same", use_bias=False)(x))
        x = L.ReLU()(L.Multiply()([y, y]))
    return L.MaxPooling2D(2)(x)


def build_vgg_flat(cfg, input_shape=(224, 224, 3), num_classes=1000, head="gap", final="softmax"):
    """Correct (head="gap"), written differently: one step per entry, no block function."""
    inputs = x = keras.Input(input_shape)
    for v in cfg:
        if v == "M":
            x = L.MaxPooling2D()(x)
            continue
        x = L.Conv2D(v, 3, padding="same", use_bias=False)(x)
        x = L.Activation("relu")(L.BatchNormalization()(x))
    if head == "gap":
        x = L.GlobalAveragePooling2D()(x)
    elif head == "max":
        x = L.GlobalMaxPooling2D()(x)
    else:
        x = L.Flatten()(x)
        if head == "dense":
            x = L.Dense(4096, activation="relu")(L.Dense(4096, activation="relu")(x))
    return keras.Model(inputs, L.Dense(num_classes, activation=final)(x))


def _build_vgg_block_per_number(cfg, input_shape=(224, 224, 3), num_classes=1000):
    """Wrong: every number made a block of its own (a pooling after each convolution)."""
    return build_vgg_flat([v for v in cfg if v != "M" for v in (v, "M")], input_shape, num_classes)


def _build_vgg_fixed_input(cfg, input_shape=(224, 224, 3), num_classes=1000):
    return build_vgg_flat(cfg, (224, 224, 3), num_classes)


def _build_vgg_no_bn(cfg, input_shape=(224, 224, 3), num_classes=1000):
    inputs = x = keras.Input(input_shape)
    for v in cfg:
        x = (
            L.MaxPooling2D()(x)
            if v == "M"
            else L.Conv2D(v, 3, padding="same", activation="relu")(x)
        )
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, L.Dense(num_classes, activation="softmax")(x))


def build_vgg_loop(
    config, input_shape=(224, 224, 3), num_classes=1000, final="softmax", hidden="relu", dense=2
):
    """The original VGG (dense head), for vgg_params' mistakes."""
    inputs = x = keras.Input(input_shape)
    for filters, n in config:
        for _ in range(n):
            x = L.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = L.MaxPooling2D(2)(x)
    x = L.Flatten()(x)
    for _ in range(dense):
        x = L.Dense(4096, activation=hidden)(x)
    return keras.Model(inputs, L.Dense(num_classes, activation=final)(x))


def vgg_params_closed_form(config, image_size=224, num_classes=1000):
    """Correct, written differently: channel pairs zipped, biases counted apart."""
    channels = [3] + [f for f, n in config for _ in range(n)]
    weights = sum(9 * a * b for a, b in zip(channels[:-1], channels[1:], strict=True))
    biases = sum(channels[1:])
    flat = channels[-1] * (image_size // 2 ** len(config)) ** 2
    dense = [flat, 4096, 4096, num_classes]
    return weights + biases + sum((a + 1) * b for a, b in zip(dense[:-1], dense[1:], strict=True))


def _params_built(config, image_size=224, num_classes=1000):
    from utils.measure.tables import without_weights

    with without_weights():
        return build_vgg_loop(config, (image_size, image_size, 3), num_classes).count_params()


def _params_no_bias(config, image_size=224, num_classes=1000):
    channels = [3] + [f for f, n in config for _ in range(n)]
    weights = sum(9 * a * b for a, b in zip(channels[:-1], channels[1:], strict=True))
    flat = channels[-1] * (image_size // 32) ** 2
    return weights + flat * 4096 + 4096 * 4096 + 4096 * num_classes


def _params_flat_224(config, image_size=224, num_classes=1000):
    """Wrong: the first dense layer's input taken as 7 x 7 x 512 whatever the image size."""
    return vgg_params_closed_form(config, 224, num_classes)


def _params_one_dense(config, image_size=224, num_classes=1000):
    return vgg_params_closed_form(config, image_size, num_classes) - 4097 * 4096


EXERCISES = {
    "check_vgg_bn_block": Exercise(
        run=vgg.check_vgg_bn_block,
        wrong={
            "conv-bias-kept": (_bn_block(bias=True), r"bias"),
            "relu-before-bn": (_bn_block(relu_first=True), r"BatchNormalization, then a ReLU"),
            "relu-in-the-conv": (_bn_block(conv_relu=True), r"activation|ReLU"),
            "pool-after-each-conv": (_bn_block(pool_each=True), r"max pooling closes each block"),
            "kernel-sizes-ignored": (_bn_block(all_3x3=True), r"kernel_sizes"),
            "wrong-wiring": (_vgg_bn_block_added_twice, r"Multiply|ReLU|layer"),
        },
        right={"steps-activation-eps": vgg_bn_block_steps},
    ),
    "check_build_vgg": Exercise(
        run=vgg.check_build_vgg,
        wrong={
            "flatten-and-dense-head": (
                lambda c, **k: build_vgg_flat(c, **k, head="dense"),
                r"global average pooling replaces",
            ),
            "global-max-pooling": (
                lambda c, **k: build_vgg_flat(c, **k, head="max"),
                r"global average pooling",
            ),
            "no-softmax": (
                lambda c, **k: build_vgg_flat(c, **k, final=None),
                r"softmax|probabilities",
            ),
            "block-per-number": (_build_vgg_block_per_number, r"max pooling|\"M\""),
            "no-batch-norm": (_build_vgg_no_bn, r"bias|BatchNormalization"),
            "input-shape-ignored": (_build_vgg_fixed_input, r"inputs of shape"),
        },
        right={"flat-loop-no-block": build_vgg_flat},
    ),
    "check_vgg_params": Exercise(
        run=vgg.check_vgg_params,
        wrong={
            "builds-the-model": (_params_built, r"built"),
            "no-biases": (_params_no_bias, r"expected|keras.applications"),
            "flatten-size-fixed-at-224": (_params_flat_224, r"first dense|image size"),
            "one-hidden-dense": (_params_one_dense, r"keras.applications"),
        },
        right={"zipped-channels": vgg_params_closed_form},
    ),
}
