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


def factorised_blocks(x, f1, f3r, f3, f5r, f5, pool_proj):
    """Correct, written differently: each branch a list of layers, applied in a loop."""

    def chain(t, layers):
        for layer in layers:
            t = layer(t)
        return t

    branches = [
        [_conv(f1, 1)],
        [_conv(f3r, 1), _conv(f3, 3)],
        [_conv(f5r, 1), L.Conv2D(f5r, (3, 3), padding="same"), L.ReLU(), _conv(f5, 3)],
        [L.MaxPool2D(pool_size=3, strides=1, padding="same"), _conv(pool_proj, 1)],
    ]
    return L.concatenate([chain(x, b) for b in branches], axis=-1)


def _factorised(
    mid=None, mid_act="relu", dilation=1, keep_5x5=False, proj_first=False, order=(0, 1, 2, 3)
):
    def factorised_inception(x, f1, f3r, f3, f5r, f5, pool_proj):
        b1 = _conv(f1, 1)(x)
        b3 = _conv(f3, 3)(_conv(f3r, 1)(x))
        b5 = _conv(f5r, 1)(x)
        if keep_5x5:
            b5 = _conv(f5, 5)(b5)
        else:
            width = f5 if mid == "f5" else f5r
            b5 = _conv(width, 3, mid_act)(b5)
            b5 = L.Conv2D(f5, 3, padding="same", dilation_rate=dilation, activation="relu")(b5)
        if proj_first:
            bp = L.MaxPooling2D(3, 1, padding="same")(_conv(pool_proj, 1)(x))
        else:
            bp = _conv(pool_proj, 1)(L.MaxPooling2D(3, 1, padding="same")(x))
        b = [b1, b3, b5, bp]
        return L.Concatenate()([b[i] for i in order])

    return factorised_inception


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
    "check_factorised_inception": Exercise(
        run=googlenet.check_factorised_inception,
        wrong={
            "first-3x3-with-f5-kernels": (_factorised(mid="f5"), r"which of the two 3x3"),
            "5x5-kept": (_factorised(keep_5x5=True), r"5x5 convolution is gone"),
            "no-relu-between-the-3x3s": (_factorised(mid_act=None), r"nonlinearity"),
            "dilated-second-3x3": (_factorised(dilation=2), r"see a 5x5 patch.*they see 7x7"),
            "projection-before-pooling": (
                _factorised(proj_first=True),
                r"pooling branch.*before or after the 1x1 projection",
            ),
            "factorised-and-3x3-swapped": (_factorised(order=(0, 2, 1, 3)), r"order"),
        },
        right={"branches-as-layer-lists": factorised_blocks},
    ),
}
