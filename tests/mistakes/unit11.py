"""Unit 11 (DenseNet and EfficientNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import densenet_efficientnet

L = keras.layers


def _bn_relu(x, relu=True):
    x = L.BatchNormalization(epsilon=1.001e-5)(x)
    return L.ReLU()(x) if relu else x


def dense_block_list(x, n_layers, growth_rate):
    """Correct, written differently: the features kept in a list, concatenated each time."""
    features = [x]
    for _ in range(n_layers):
        y = features[0] if len(features) == 1 else L.Concatenate()(features)
        y = L.Conv2D(4 * growth_rate, (1, 1), use_bias=False)(_bn_relu(y))
        y = L.Conv2D(growth_rate, (3, 3), padding="same", use_bias=False)(_bn_relu(y))
        features.append(y)
    return L.Concatenate()(features)


def _dense(bottleneck=True, relu=True, new_first=False, bias=False, growth=1):
    def dense_block(x, n_layers, growth_rate):
        for _ in range(n_layers):
            y = _bn_relu(x, relu)
            if bottleneck:
                y = _bn_relu(L.Conv2D(4 * growth_rate, 1, use_bias=bias)(y), relu)
            y = L.Conv2D(growth_rate * growth, 3, padding="same", use_bias=bias)(y)
            x = L.Concatenate()([y, x] if new_first else [x, y])
        return x

    return dense_block


def transition_activation(x, compression=0.5):
    """Correct, written differently: Activation layer, AveragePooling2D by tuple."""
    c = int(x.shape[-1] * compression)
    x = L.Activation("relu")(L.BatchNormalization(epsilon=1.001e-5)(x))
    return L.AveragePooling2D((2, 2), strides=(2, 2))(L.Conv2D(c, (1, 1), use_bias=False)(x))


def _transition(relu=True, pool="avg", rounding=int, bias=False):
    def transition_layer(x, compression=0.5):
        x = _bn_relu(x, relu)
        x = L.Conv2D(rounding(x.shape[-1] * compression), 1, use_bias=bias)(x)
        return (L.AveragePooling2D if pool == "avg" else L.MaxPooling2D)(2, strides=2)(x)

    return transition_layer


def scaling_exp(phi, alpha, beta, gamma, d, w, r):
    import math

    return (
        d * math.exp(phi * math.log(alpha)),
        w * math.exp(phi * math.log(beta)),
        round(r * math.exp(phi * math.log(gamma))),
    )


EXERCISES = {
    "check_dense_block": Exercise(
        run=densenet_efficientnet.check_dense_block,
        wrong={
            "no-bottleneck": (_dense(bottleneck=False), r"1x1|Conv2D|parameters|expected"),
            "no-relu": (_dense(relu=False), r"ReLU|relu|nonlinear|expected"),
            "new-features-first": (_dense(new_first=True), r"first|unchanged|order"),
            "conv-biases": (_dense(bias=True), r"bias|parameters"),
            "growth-doubled": (_dense(growth=2), r"channels|shape|expected"),
        },
        right={"feature-list": dense_block_list},
    ),
    "check_transition_layer": Exercise(
        run=densenet_efficientnet.check_transition_layer,
        wrong={
            "no-relu": (_transition(relu=False), r"ReLU|relu|nonlinear|expected"),
            "max-pooling": (_transition(pool="max"), r"average|Average|expected"),
            "rounds-up": (_transition(rounding=lambda v: -int(-v // 1)), r"channels|int|expected"),
            "conv-bias": (_transition(bias=True), r"bias|parameters"),
        },
        right={"activation-layer": transition_activation},
    ),
    "check_compound_scaling": Exercise(
        run=densenet_efficientnet.check_compound_scaling,
        wrong={
            "multiplies-by-phi": (
                lambda p, a, b, g, d, w, r: (d * a * p, w * b * p, int(round(r * g * p))),
                r"expected|depth",
            ),
            "resolution-not-int": (
                lambda p, a, b, g, d, w, r: (d * a**p, w * b**p, r * g**p),
                r"int",
            ),
            "width-and-depth-swapped": (
                lambda p, a, b, g, d, w, r: (d * b**p, w * a**p, int(round(r * g**p))),
                r"expected|depth|width",
            ),
            "base-raised-to-phi": (
                lambda p, a, b, g, d, w, r: (a * d**p, b * w**p, int(round(g * r**p))),
                r"expected|phi",
            ),
        },
        right={"via-exp-log": scaling_exp},
    ),
}
