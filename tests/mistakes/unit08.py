"""Unit 08 (VGG): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import vgg

L = keras.layers


def vgg_block_sequential(x, filters, n_convs):
    """Correct, written differently: the layers made first, tuple arguments, then applied."""
    convs = [L.Conv2D(filters, (3, 3), padding="same", activation="relu") for _ in range(n_convs)]
    return _apply(convs, x)


def _apply(convs, x):
    for conv in convs:
        x = conv(x)
    return L.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))(x)


def _block(act="relu", pad="same", pool_each=False, kernel=3):
    def vgg_block(x, filters, n_convs):
        for _ in range(n_convs):
            x = L.Conv2D(filters, kernel, padding=pad, activation=act)(x)
            if pool_each:
                x = L.MaxPooling2D(2)(x)
        return x if pool_each else L.MaxPooling2D(2)(x)

    return vgg_block


def build_vgg_loop(
    config, input_shape=(224, 224, 3), num_classes=1000, final="softmax", hidden="relu", dense=2
):
    inputs = x = keras.Input(input_shape)
    for filters, n in config:
        x = _block()(x, filters, n)
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
    "check_vgg_block": Exercise(
        run=vgg.check_vgg_block,
        wrong={
            "no-relu": (_block(act=None), r"relu"),
            "valid-padding": (_block(pad="valid"), r"same|shape|padding"),
            "pool-after-each-conv": (_block(pool_each=True), r"MaxPooling2D|pool"),
            "5x5-kernels": (_block(kernel=5), r"3x3|param|kernel"),
        },
        right={"tuple-arguments": vgg_block_sequential},
    ),
    "check_build_vgg": Exercise(
        run=vgg.check_build_vgg,
        wrong={
            "no-softmax": (lambda c, **k: build_vgg_loop(c, **k, final=None), r"softmax"),
            "no-relu-in-dense": (lambda c, **k: build_vgg_loop(c, **k, hidden=None), r"relu"),
            "one-dense-layer": (lambda c, **k: build_vgg_loop(c, **k, dense=1), r"layer|expected"),
        },
        right={"loop-over-config": build_vgg_loop},
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
