"""Unit 11 (DenseNet and EfficientNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import densenet_efficientnet

L = keras.layers


def _bn_relu(x, relu=True):
    x = L.BatchNormalization(epsilon=1.001e-5)(x)
    return L.ReLU()(x) if relu else x


def dense_block_list(x, n_layers, growth_rate, bottleneck=4):
    """Correct, written differently: the features kept in a list, concatenated each time."""
    features = [x]
    for _ in range(n_layers):
        y = features[0] if len(features) == 1 else L.Concatenate()(features)
        if bottleneck:
            y = L.Conv2D(bottleneck * growth_rate, (1, 1), use_bias=False)(_bn_relu(y))
        y = L.Conv2D(growth_rate, (3, 3), padding="same", use_bias=False)(_bn_relu(y))
        features.append(y)
    return L.Concatenate()(features)


def _dense(
    optional=True, width=None, relu=True, new_first=False, bias=False, growth=1, bn_3x3=True
):
    """A dense block with one mistake; width(b, k) gives the 1x1 filters (b * k when right)."""

    def dense_block(x, n_layers, growth_rate, bottleneck=4):
        b = bottleneck if optional else 4
        for _ in range(n_layers):
            y = x
            if b is not None:
                y = _bn_relu(y, relu)
                filters = width(b, growth_rate) if width else b * growth_rate
                y = L.Conv2D(filters, 1, use_bias=bias)(y)
            y = _bn_relu(y, relu) if bn_3x3 or b is not None else L.ReLU()(y)
            y = L.Conv2D(growth_rate * growth, 3, padding="same", use_bias=bias)(y)
            x = L.Concatenate()([y, x] if new_first else [x, y])
        return x

    return dense_block


def dense_block_lecture(x, n_layers, growth_rate):
    """The lecture's DenseNet-BC block: no `bottleneck` argument."""
    return _dense()(x, n_layers, growth_rate)


def transition_activation(x, compression=0.5):
    """Correct, written differently: Activation layer, AveragePooling2D by tuple, floor."""
    import math

    c = math.floor(compression * x.shape[-1])
    x = L.Activation("relu")(L.BatchNormalization(epsilon=1.001e-5)(x))
    return L.Conv2D(c, (1, 1), use_bias=False)(L.AveragePooling2D((2, 2), strides=(2, 2))(x))


def _transition(relu=True, pool="avg", rounding=int, bias=False, order="bn-relu-pool-conv"):
    """A transition layer with one mistake; `order` places the pooling among the steps."""

    def transition_layer(x, compression=0.5):
        filters = rounding(x.shape[-1] * compression)
        steps = {
            "bn": lambda t: L.BatchNormalization(epsilon=1.001e-5)(t),
            "relu": (lambda t: L.ReLU()(t)) if relu else (lambda t: t),
            "pool": lambda t: (L.AveragePooling2D if pool == "avg" else L.MaxPooling2D)(
                2, strides=2
            )(t),
            "conv": lambda t: L.Conv2D(filters, 1, use_bias=bias)(t),
        }
        for step in order.split("-"):
            x = steps[step](x)
        return x

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
            "lecture-block-no-argument": (dense_block_lecture, r"bottleneck.*default of 4"),
            "bottleneck-always": (_dense(optional=False), r"no 1x1 convolution.*optional"),
            "bottleneck-4k-whatever-b": (_dense(width=lambda b, k: 4 * k), r"bottleneck \* growth"),
            "bottleneck-b-filters": (_dense(width=lambda b, k: b), r"multiple of the growth"),
            "no-bn-without-bottleneck": (_dense(bn_3x3=False), r"parameters.*BatchNormalization"),
            "no-relu": (_dense(relu=False), r"nonlinearity"),
            "new-features-first": (_dense(new_first=True), r"elsewhere.*\[x, new_features\]"),
            "conv-biases": (_dense(bias=True), r"parameters.*use_bias"),
            "growth-doubled": (_dense(growth=2), r"output shape"),
        },
        right={"feature-list": dense_block_list},
    ),
    "check_transition_layer": Exercise(
        run=densenet_efficientnet.check_transition_layer,
        wrong={
            "lecture-order-conv-then-pool": (
                _transition(order="bn-relu-conv-pool"),
                r"pooled .* maps.*MACs.*pools before it convolves",
            ),
            "pool-before-relu": (_transition(order="bn-pool-relu-conv"), r"commutes.*ReLU"),
            "pool-first-of-all": (_transition(order="pool-bn-relu-conv"), r"commutes.*ReLU"),
            "no-relu": (_transition(relu=False), r"nonlinearity"),
            "max-pooling": (_transition(pool="max"), r"maximum is not an average"),
            "rounds-up": (_transition(rounding=lambda v: -int(-v // 1)), r"floor\(compression"),
            "conv-bias": (_transition(bias=True), r"parameters.*use_bias=False"),
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
