"""Unit 05 (LeNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import lenet

L = keras.layers


def lenet_functional(conv_act="relu", dense_act="relu", final="softmax", pad="same", pool=2):
    """The modern LeNet, functional API; arguments make its typical mistakes."""
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(32, 5, padding=pad, activation=conv_act)(inputs)
    x = L.MaxPooling2D(pool)(x)
    x = L.Conv2D(64, 5, padding=pad, activation=conv_act)(x)
    x = L.MaxPooling2D(pool)(x)
    x = L.Dense(128, activation=dense_act)(L.Flatten()(x))
    return keras.Model(inputs, L.Dense(10, activation=final)(x))


def _trained(build, epochs=2):
    from utils.data import load_mnist

    keras.utils.set_random_seed(0)
    (x, y), _ = load_mnist("smoke")
    model = build()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit((x[:2000] / np.float32(255))[..., None], y[:2000], epochs=epochs, verbose=0)
    return model


EXERCISES = {
    "check_preprocess": Exercise(
        run=lenet.check_preprocess,
        wrong={
            "no-channel-axis": (lambda x: (x / 255).astype("float32"), r"channel"),
            "channel-first-nchw": (
                lambda x: (x / np.float32(255))[:, None].astype("float32"),
                r"channel axis, last",
            ),
            "float64": (lambda x: (x / 255)[..., None], r"float32"),
            "not-scaled": (lambda x: x[..., None].astype("float32"), r"\[0, 1\]"),
            "standardised": (
                lambda x: ((x - x.mean()) / x.std())[..., None].astype("float32"),
                r"\[0, 1\]",
            ),
        },
        right={
            "expand-dims": lambda x: np.expand_dims(x, -1).astype(np.float32) / 255,
            "reshape": lambda x: (x.reshape(*x.shape, 1) * (1 / 255)).astype("float32"),
        },
    ),
    "check_lenet": Exercise(
        run=lenet.check_lenet,
        wrong={
            "no-relu": (lambda: lenet_functional(conv_act=None, dense_act=None), r"relu"),
            "no-softmax": (lambda: lenet_functional(final=None), r"softmax"),
            "valid-padding": (lambda: lenet_functional(pad="valid"), r"layer 0"),
            "sigmoid-hidden": (lambda: lenet_functional(dense_act="sigmoid"), r"relu"),
        },
        right={"functional-api": lenet_functional},
    ),
    "check_trained_lenet": Exercise(
        run=lambda model: lenet.check_trained_lenet(model, band=0.9),
        wrong={
            "untrained": (lenet_functional(), r"below 0.9"),
            "linear-model-trained": (
                _trained(lambda: lenet_functional(conv_act=None, dense_act=None), 1),
                r"relu",
            ),
            "no-softmax-trained": (
                lenet_functional(final=None),
                r"softmax",
            ),
        },
        right={"functional-trained-two-epochs": _trained(lenet_functional)},
    ),
}
