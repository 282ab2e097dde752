"""Unit 07 (AlexNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras

from mistakes import Exercise
from utils.checks import alexnet
from utils.networks.lrn import LocalResponseNormalization

L = keras.layers


def build_alexnet(groups=2, lrn=True, dropout=0.5, final="softmax", conv_act="relu", seq=False):
    """AlexNet with a loop over its convolutions; the arguments make typical mistakes."""
    spec = [(96, 11, 4, "valid", 1), (256, 5, 1, "same", groups)]
    spec += [(384, 3, 1, "same", 1), (384, 3, 1, "same", groups), (256, 3, 1, "same", groups)]
    layers = []
    for i, (f, k, s, pad, g) in enumerate(spec):
        layers.append(L.Conv2D(f, k, strides=s, padding=pad, groups=g, activation=conv_act))
        if i in (0, 1, 4):
            layers.append(L.MaxPooling2D(3, strides=2))
        if i in (0, 1) and lrn:
            layers.append(LocalResponseNormalization())
    layers.append(L.Flatten())
    for _ in range(2):
        layers += [L.Dense(4096, activation="relu"), L.Dropout(dropout)]
    layers.append(L.Dense(1000, activation=final))
    if seq:
        return keras.Sequential([keras.Input((227, 227, 3)), *layers])
    inputs = x = keras.Input((227, 227, 3))
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x)


def count_by_weights(model):
    """Correct, written differently: parameters from the weights' shapes, MACs from kernels."""
    import numpy as np

    params = macs = 0
    for layer in model.layers:
        if isinstance(layer, L.Conv2D | L.Dense):
            params += sum(int(np.prod(w.shape)) for w in layer.weights)
            kernel = int(np.prod(layer.kernel.shape))
            spatial = int(np.prod(layer.output.shape[1:-1])) if isinstance(layer, L.Conv2D) else 1
            macs += kernel * spatial
    return params, macs


def _count_macs_delegated(model):
    from utils.measure.macs import count_macs

    return model.count_params(), count_macs(model)


def _count_no_groups(model):
    params, macs = 0, 0
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            kh, kw = layer.kernel_size
            c, f = layer.input.shape[-1], layer.filters
            params += kh * kw * c * f + f
            macs += kh * kw * c * f * layer.output.shape[1] * layer.output.shape[2]
        elif isinstance(layer, L.Dense):
            params += (layer.input.shape[-1] + 1) * layer.units
            macs += layer.input.shape[-1] * layer.units
    return params, macs


def _count_input_size(model):
    params, macs = count_by_weights(model)
    macs = 0
    for layer in model.layers:
        if isinstance(layer, L.Conv2D):
            kh, kw = layer.kernel_size
            c = layer.input.shape[-1] // layer.groups
            macs += kh * kw * c * layer.filters * layer.input.shape[1] * layer.input.shape[2]
        elif isinstance(layer, L.Dense):
            macs += layer.input.shape[-1] * layer.units
    return params, macs


def _count_no_bias(model):
    params, macs = count_by_weights(model)
    biases = sum(
        layer.bias.shape[0] for layer in model.layers if getattr(layer, "bias", None) is not None
    )
    return params - biases, macs


EXERCISES = {
    "check_param_formulas": Exercise(
        run=lambda fns: alexnet.check_param_formulas(*fns),
        wrong={
            "ignores-groups": (
                (lambda kh, kw, ci, co, groups=1: kh * kw * ci * co + co, lambda i, o: (i + 1) * o),
                r"group|expected",
            ),
            "conv-no-bias": (
                (
                    lambda kh, kw, ci, co, groups=1: kh * kw * (ci // groups) * co,
                    lambda i, o: (i + 1) * o,
                ),
                r"bias|expected",
            ),
            "dense-no-bias": (
                (
                    lambda kh, kw, ci, co, groups=1: (kh * kw * ci // groups + 1) * co,
                    lambda i, o: i * o,
                ),
                r"dense_params|bias",
            ),
        },
        right={
            "per-group": (
                lambda kh, kw, ci, co, groups=1: (
                    groups * (kh * kw * (ci // groups) * (co // groups)) + co
                ),
                lambda i, o: i * o + o,
            )
        },
    ),
    "check_mac_formulas": Exercise(
        run=lambda fns: alexnet.check_mac_formulas(*fns),
        wrong={
            "ignores-groups": (
                (
                    lambda kh, kw, ci, co, oh, ow, groups=1: kh * kw * ci * co * oh * ow,
                    lambda i, o: i * o,
                ),
                r"group|expected",
            ),
            "counts-bias": (
                (
                    lambda kh, kw, ci, co, oh, ow, groups=1: (
                        (kh * kw * ci // groups + 1) * co * oh * ow
                    ),
                    lambda i, o: i * o,
                ),
                r"expected",
            ),
            "dense-counts-bias": (
                (
                    lambda kh, kw, ci, co, oh, ow, groups=1: (
                        kh * kw * (ci // groups) * co * oh * ow
                    ),
                    lambda i, o: (i + 1) * o,
                ),
                r"dense_macs|expected",
            ),
        },
        right={
            "per-output-value": (
                lambda kh, kw, ci, co, oh, ow, groups=1: (oh * ow * co) * (kh * kw * ci // groups),
                lambda i, o: o * i,
            )
        },
    ),
    "check_alexnet": Exercise(
        run=alexnet.check_alexnet,
        wrong={
            "no-groups": (lambda: build_alexnet(groups=1), r"layer 4|expected"),
            "no-lrn": (lambda: build_alexnet(lrn=False), r"layer 3"),
            "dropout-0.2": (lambda: build_alexnet(dropout=0.2), r"0.5"),
            "no-softmax": (lambda: build_alexnet(final=None), r"softmax"),
            "no-relu": (lambda: build_alexnet(conv_act=None), r"relu"),
            "sequential": (lambda: build_alexnet(seq=True), r"functional"),
        },
        right={"built-in-a-loop": build_alexnet},
    ),
    "check_count_model": Exercise(
        run=alexnet.check_count_model,
        wrong={
            "delegates-to-count_macs": (_count_macs_delegated, r"utils.measure.macs"),
            "ignores-groups": (_count_no_groups, r"groups"),
            "input-size-not-output": (_count_input_size, r"OUTPUT"),
            "no-biases": (_count_no_bias, r"biases"),
        },
        right={"from-weight-shapes": count_by_weights},
    ),
}
