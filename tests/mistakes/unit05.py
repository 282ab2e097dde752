"""Unit 05 (LeNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import lenet

L = keras.layers


def lenet_functional(
    conv_act="relu",
    dense_act="relu",
    final="softmax",
    pad="same",
    pool=2,
    pool_stride=None,
    k2=5,
    units=128,
    pooling=L.MaxPooling2D,
):
    """The modern LeNet, functional API; arguments make its typical mistakes."""
    inputs = keras.Input((28, 28, 1))
    x = L.Conv2D(32, 5, padding=pad, activation=conv_act)(inputs)
    x = pooling(pool, strides=pool_stride)(x)
    x = L.Conv2D(64, k2, padding=pad, activation=conv_act)(x)
    x = pooling(pool, strides=pool_stride)(x)
    x = L.Dense(units, activation=dense_act)(L.Flatten()(x))
    return keras.Model(inputs, L.Dense(10, activation=final)(x))


def lecture_stage_once():
    """The lecture's modern stage, once, then the classifier: one stage short."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(32, 5, padding="same", activation="relu"),
            L.MaxPool2D(2),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )


def with_rescaling():
    """The lecture's habit of scaling inside the model, on images `preprocess` scaled already."""
    return keras.Sequential(
        [keras.Input((28, 28, 1)), L.Rescaling(1 / 255)] + lenet_functional().layers[1:]
    )


def activation_layers():
    """ReLU as separate layers after each convolution: more layers than the summary."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(32, 5, padding="same"),
            L.ReLU(),
            L.MaxPooling2D(),
            L.Conv2D(64, 5, padding="same"),
            L.ReLU(),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )


def sequential_add():
    """A correct answer in the older `add` style, with tuples and explicit strides."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(28, 28, 1)))
    for filters in (32, 64):
        model.add(
            L.Conv2D(
                filters=filters,
                kernel_size=(5, 5),
                strides=(1, 1),
                padding="same",
                activation=keras.activations.relu,
            )
        )
        model.add(L.MaxPool2D(pool_size=(2, 2), strides=(2, 2), padding="valid"))
    model.add(L.Flatten())
    model.add(L.Dense(units=128, activation="relu"))
    model.add(L.Dense(units=10, activation="softmax"))
    return model


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
            "valid-padding": (
                lambda: lenet_functional(pad="valid"),
                r"layer 0.*\(N - F \+ 2P\) // S \+ 1.*padding",
            ),
            "sigmoid-hidden": (lambda: lenet_functional(dense_act="sigmoid"), r"relu"),
            # the second convolution's kernel worked out wrong from its 51,264 parameters
            "3x3-second-kernel": (
                lambda: lenet_functional(k2=3),
                r"layer 2.*\(kh \* kw \* c_in \+ 1\) \* filters.*kernel size",
            ),
            "pool-stride-1": (
                lambda: lenet_functional(pool_stride=1),
                r"layer 1.*\(N - p\) // s \+ 1",
            ),
            "average-pooling-as-1998": (
                lambda: lenet_functional(pooling=L.AveragePooling2D),
                r"layer 1.*maximum",
            ),
            "rescaling-as-in-lecture": (with_rescaling, r"layer 0.*preprocess.*scales"),
            "lecture-stage-once": (lecture_stage_once, r"layer 2.*Conv2D"),
            "relu-as-layers": (activation_layers, r"layer 1.*activations as arguments"),
            "lenet5-dense-120": (
                lambda: lenet_functional(units=120),
                r"layer 5.*number of units",
            ),
        },
        right={"functional-api": lenet_functional, "sequential-add": sequential_add},
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
