"""Unit 09 (GoogLeNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import googlenet

L = keras.layers


def _conv(f, k, act="relu"):
    return L.Conv2D(f, k, padding="same", activation=act)


def naive_tuple(x, f1, f3, f5):
    """Correct, written differently: branches from a list of kernel sizes, ReLU layers apart."""
    branches = [
        L.ReLU()(L.Conv2D(f, (k, k), padding="same")(x)) for f, k in ((f1, 1), (f3, 3), (f5, 5))
    ]
    return L.concatenate([*branches, L.MaxPool2D((3, 3), strides=(1, 1), padding="same")(x)])


def _naive(order=(0, 1, 2, 3), act="relu", pool_stride=1, pad="same"):
    def naive_inception(x, f1, f3, f5):
        b = [
            L.Conv2D(f1, 1, padding=pad, activation=act)(x),
            L.Conv2D(f3, 3, padding=pad, activation=act)(x),
            L.Conv2D(f5, 5, padding=pad, activation=act)(x),
            L.MaxPooling2D(3, strides=pool_stride, padding="same")(x),
        ]
        return L.Concatenate()([b[i] for i in order])

    return naive_inception


def inception_relu_layers(x, f1, f3r, f3, f5r, f5, pool_proj):
    """Correct, written differently: Activation layers after linear convolutions."""

    def conv_relu(t, f, k):
        return L.Activation("relu")(L.Conv2D(f, k, padding="same")(t))

    b1 = conv_relu(x, f1, 1)
    b3 = conv_relu(conv_relu(x, f3r, 1), f3, 3)
    b5 = conv_relu(conv_relu(x, f5r, 1), f5, 5)
    bp = conv_relu(L.MaxPooling2D(3, 1, padding="same")(x), pool_proj, 1)
    return L.Concatenate(axis=-1)([b1, b3, b5, bp])


def _module(inner_act="relu", no_pool_proj=False, swap=False):
    def inception_module(x, f1, f3r, f3, f5r, f5, pool_proj):
        b1 = _conv(f1, 1)(x)
        b3 = _conv(f3, 3)(_conv(f3r, 1, inner_act)(x))
        b5 = _conv(f5, 5)(_conv(f5r, 1, inner_act)(x))
        if no_pool_proj:
            bp = L.MaxPooling2D(3, 1, padding="same")(x)
        else:
            bp = _conv(pool_proj, 1)(L.MaxPooling2D(3, 1, padding="same")(x))
        return L.Concatenate()([b1, b5, b3, bp] if swap else [b1, b3, b5, bp])

    return inception_module


def aux_functional(x, classes):
    """Correct, written differently: layers listed first, ReLU and Softmax as layers."""
    head = [
        L.AveragePooling2D(pool_size=(5, 5), strides=(3, 3), padding="valid"),
        L.Conv2D(128, (1, 1)),
        L.ReLU(),
        L.Flatten(),
        L.Dense(1024),
        L.ReLU(),
        L.Dropout(0.7),
        L.Dense(classes),
        L.Softmax(),
    ]
    for layer in head:
        x = layer(x)
    return x


def _aux(conv_act="relu", dense_act="relu", rate=0.7, final="softmax", pool_pad="valid"):
    def auxiliary_classifier(x, classes):
        x = L.AveragePooling2D(5, strides=3, padding=pool_pad)(x)
        x = L.Conv2D(128, 1, activation=conv_act)(x)
        x = L.Dense(1024, activation=dense_act)(L.Flatten()(x))
        return L.Dense(classes, activation=final)(L.Dropout(rate)(x))

    return auxiliary_classifier


EXERCISES = {
    "check_naive_inception": Exercise(
        run=googlenet.check_naive_inception,
        wrong={
            "no-relu": (_naive(act=None), r"nonlinearity|ReLU"),
            "branches-out-of-order": (_naive(order=(1, 0, 2, 3)), r"order"),
            "pool-stride-2": (_naive(pool_stride=2), r"hint: the tensors reaching Concatenate"),
            "valid-padding": (_naive(pad="valid"), r"hint: the tensors reaching Concatenate"),
        },
        right={"relu-layers-and-loop": naive_tuple},
    ),
    "check_inception_module": Exercise(
        run=googlenet.check_inception_module,
        wrong={
            "no-relu-on-reductions": (_module(inner_act=None), r"nonlinearity"),
            "pool-branch-without-projection": (_module(no_pool_proj=True), r"pool_proj"),
            "3x3-and-5x5-swapped": (_module(swap=True), r"order"),
        },
        right={"activation-layers": inception_relu_layers},
    ),
    "check_auxiliary_classifier": Exercise(
        run=googlenet.check_auxiliary_classifier,
        wrong={
            "no-relu-on-conv": (_aux(conv_act=None), r"nonlinearity"),
            "no-relu-on-dense": (_aux(dense_act=None), r"nonlinearity"),
            "dropout-0.5": (_aux(rate=0.5), r"0.7"),
            "no-softmax": (_aux(final=None), r"softmax|probabilities"),
            "same-pooling": (_aux(pool_pad="same"), r"valid|parameters"),
        },
        right={"sequential-head": aux_functional},
    ),
}
