"""Checks for unit 07 (AlexNet): parameter and MAC formulas, the ImageNet-size network, and
counting a whole model.

References, all independent of the exercises' answers:
- parameter formulas: `count_params()` of Keras `Conv2D` (with `groups`) and `Dense` layers;
- MAC formulas: `utils.measure.macs.layer_macs` of the same layers, built on random input sizes,
  strides and paddings;
- the network: the layer table `ALEXNET_TABLE` (the exercise's specification, shown in the
  lab) plus its behaviour (functional API, activations, dropout rate, LRN constants);
- counting a model: `model.count_params()` and `utils.measure.macs.count_macs` on random CNNs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from utils.checks.core import CheckFailed, call, calls_to, fail, passed
from utils.checks.structure import model_of

#: The lab's target: AlexNet as in the paper (two GPU paths as grouped convolutions) at
#: 227x227, in the lecture notes' order CONV1, POOL1, NORM1, ..., FC8.
#: (layer class, output shape without the batch, parameters)
ALEXNET_TABLE = [
    ("InputLayer", (227, 227, 3), 0),
    ("Conv2D", (55, 55, 96), 34_944),
    ("MaxPooling2D", (27, 27, 96), 0),
    ("LocalResponseNormalization", (27, 27, 96), 0),
    ("Conv2D", (27, 27, 256), 307_456),
    ("MaxPooling2D", (13, 13, 256), 0),
    ("LocalResponseNormalization", (13, 13, 256), 0),
    ("Conv2D", (13, 13, 384), 885_120),
    ("Conv2D", (13, 13, 384), 663_936),
    ("Conv2D", (13, 13, 256), 442_624),
    ("MaxPooling2D", (6, 6, 256), 0),
    ("Flatten", (9216,), 0),
    ("Dense", (4096,), 37_752_832),
    ("Dropout", (4096,), 0),
    ("Dense", (4096,), 16_781_312),
    ("Dropout", (4096,), 0),
    ("Dense", (1000,), 4_097_000),
]


def _built_layer(layer, input_shape):
    """Build `layer` on a symbolic input of `input_shape` (no batch); weights are not drawn."""
    from utils.measure.tables import without_weights

    with without_weights():
        model_of(layer, input_shape)
    return layer


def _conv_cases(n: int, seed: int):
    """Random Conv2D settings: (h, w, c_in, c_out, kh, kw, stride, padding, groups)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        groups = int(rng.choice([1, 1, 2, 3, 4])) if i else 2
        c_in = groups * int(rng.integers(1, 24))
        c_out = groups * int(rng.integers(1, 32))
        kh, kw = (int(v) for v in rng.choice([1, 3, 5, 7, 11], size=2))
        stride = int(rng.integers(1, 5))
        padding = str(rng.choice(["valid", "same"]))
        h, w = (int(v) for v in rng.integers(max(kh, kw) + 1, 64, size=2))
        yield h, w, c_in, c_out, kh, kw, stride, padding, groups


def check_param_formulas(conv_params: Callable, dense_params: Callable, seed: int = 0) -> None:
    """`conv_params(kh, kw, c_in, c_out, groups=1)` and `dense_params(n_in, n_out)` against the
    `count_params()` of Keras layers."""
    import keras

    n = 12
    for h, w, c_in, c_out, kh, kw, _, _, groups in _conv_cases(n, seed):
        layer = _built_layer(keras.layers.Conv2D(c_out, (kh, kw), groups=groups), (h, w, c_in))
        case = f"kh={kh}, kw={kw}, c_in={c_in}, c_out={c_out}, groups={groups}"
        got = call(conv_params, kh, kw, c_in, c_out, groups=groups, case=case)
        want = layer.count_params()
        if got != want:
            hint = "a kernel of kh x kw x (c_in // groups) weights per filter, plus its bias."
            if got == want - c_out:
                hint = "count the biases too (one per filter)."
            elif groups > 1 and got == kh * kw * c_in * c_out + c_out:
                hint = "with groups, each filter sees only c_in // groups input channels."
            raise fail("conv_params", case, f"{want:,} (Keras Conv2D)", got, hint)
    rng = np.random.default_rng(seed + 1)
    for _ in range(n):
        n_in, n_out = (int(v) for v in rng.integers(1, 5000, size=2))
        layer = _built_layer(keras.layers.Dense(n_out), (n_in,))
        case = f"n_in={n_in}, n_out={n_out}"
        got = call(dense_params, n_in, n_out, case=case)
        if got != layer.count_params():
            raise fail("dense_params", case, f"{layer.count_params():,} (Keras Dense)", got)
    passed(f"`conv_params` and `dense_params` agree with Keras on {2 * n} layers (groups too).")


def check_mac_formulas(conv_macs: Callable, dense_macs: Callable, seed: int = 0) -> None:
    """`conv_macs(kh, kw, c_in, c_out, out_h, out_w, groups=1)` and `dense_macs(n_in, n_out)`
    against `utils.measure.macs.layer_macs` of Keras layers (batch of one image)."""
    import keras

    from utils.measure.macs import layer_macs

    n = 12
    for h, w, c_in, c_out, kh, kw, stride, padding, groups in _conv_cases(n, seed + 7):
        layer = keras.layers.Conv2D(c_out, (kh, kw), strides=stride, padding=padding, groups=groups)
        layer = _built_layer(layer, (h, w, c_in))
        out_h, out_w = (int(v) for v in layer.output.shape[1:3])
        case = (
            f"kh={kh}, kw={kw}, c_in={c_in}, c_out={c_out}, out_h={out_h}, out_w={out_w}, "
            f"groups={groups}"
        )
        got = call(conv_macs, kh, kw, c_in, c_out, out_h, out_w, groups=groups, case=case)
        want = layer_macs(layer)
        if got != want:
            hint = "MAC = kw * kh * kc * oc * ow * oh, with kc = c_in // groups; no bias term."
            if groups > 1 and got == want * groups:
                hint = "with groups, each output value sums over c_in // groups channels only."
            raise fail("conv_macs", case, f"{want:,} (utils.measure.macs)", got, hint)
    rng = np.random.default_rng(seed + 8)
    for _ in range(n):
        n_in, n_out = (int(v) for v in rng.integers(1, 5000, size=2))
        layer = _built_layer(keras.layers.Dense(n_out), (n_in,))
        case = f"n_in={n_in}, n_out={n_out}"
        got = call(dense_macs, n_in, n_out, case=case)
        if got != layer_macs(layer):
            raise fail("dense_macs", case, f"{layer_macs(layer):,} (utils.measure.macs)", got)
    passed(
        f"`conv_macs` and `dense_macs` agree with utils.measure.macs on {2 * n} layers (groups too)."
    )


def check_alexnet(build_alexnet: Callable):
    """Build the learner's AlexNet (weights not drawn), compare it with ALEXNET_TABLE and check
    its behaviour: functional API, ReLU / softmax, dropout 0.5, LRN with the paper's constants.
    Returns the model."""
    import keras

    from utils.checks.structure import check_model_table
    from utils.measure.tables import without_weights

    name = getattr(build_alexnet, "__name__", "build_alexnet")
    with without_weights():
        model = call(build_alexnet, case="no arguments")
    if model is None:
        raise CheckFailed(f"`{name}` returned None: did you forget to `return` the model?")
    if isinstance(model, keras.Sequential) or not isinstance(model, keras.Model):
        raise CheckFailed(
            f"`{name}` must return a functional model, `keras.Model(inputs, outputs)`, "
            f"not {type(model).__name__}."
        )
    check_model_table(model, ALEXNET_TABLE, name=name)
    for i, layer in enumerate(model.layers):
        kind = type(layer).__name__
        if kind in ("Conv2D", "Dense"):
            act = getattr(layer.activation, "__name__", str(layer.activation))
            want = "softmax" if i == len(model.layers) - 1 else "relu"
            if act != want:
                raise fail(name, f"layer {i} ({kind})", f"activation {want}", act)
        if kind == "Dropout" and abs(layer.rate - 0.5) > 1e-9:
            raise fail(name, f"layer {i} (Dropout)", "rate 0.5, the paper's", layer.rate)
        if kind == "LocalResponseNormalization":
            got = (layer.depth_radius, layer.bias, layer.alpha, layer.beta)
            if not np.allclose(got, (2, 2.0, 1e-4, 0.75)):
                raise fail(
                    name,
                    f"layer {i} (LRN)",
                    "depth_radius=2, bias=2, alpha=1e-4, beta=0.75 (the paper's n=5, k, alpha, beta)",
                    got,
                )
    passed(f"`{name}` is a functional model with AlexNet's ReLUs, dropout and LRN constants.")
    return model


def _random_cnn(rng, seed: int, grouped: bool = False):
    """A random small functional CNN of Conv2D (strides, paddings, groups), pooling, LRN,
    Dropout, Flatten and Dense layers; weights are not drawn."""
    import keras

    from utils.measure.tables import without_weights
    from utils.networks.lrn import LocalResponseNormalization

    L = keras.layers
    with without_weights():
        size = int(rng.integers(24, 64))
        inp = x = keras.Input((size, size, 4 if grouped else int(rng.choice([1, 3, 4]))))
        for k in range(int(rng.integers(1, 4))):
            groups = 2 if grouped and k == 0 else int(rng.choice([1, 2]))
            if x.shape[-1] % groups:
                groups = 1
            kernel = int(rng.choice([1, 3, 5]))
            padding = "valid" if x.shape[1] >= kernel + 2 and rng.random() < 0.5 else "same"
            x = L.Conv2D(
                groups * int(rng.integers(1, 12)),
                kernel,
                strides=int(rng.integers(1, 3)),
                padding=padding,
                groups=groups,
                activation="relu",
            )(x)
            if rng.random() < 0.5:
                x = L.MaxPooling2D(2, padding="same")(x)
            if rng.random() < 0.3:
                x = LocalResponseNormalization(name=f"lrn_{k}")(x)
        x = L.Flatten()(x)
        x = L.Dropout(0.5)(L.Dense(int(rng.integers(4, 40)), activation="relu")(x))
        x = L.Dense(int(rng.integers(2, 12)), activation="softmax")(x)
        return keras.Model(inp, x, name=f"random_cnn_{seed}")


def check_count_model(count_model: Callable, model=None, seed: int = 0) -> None:
    """`count_model(model) -> (parameters, MACs)` against `model.count_params()` and
    `utils.measure.macs.count_macs(model)`, on random CNNs and on `model` if given; counting by
    calling utils.measure.macs (the reference) is rejected."""
    from utils.measure.macs import count_macs, layer_macs

    rng = np.random.default_rng(seed)
    models = [_random_cnn(rng, seed * 100 + i, grouped=i == 0) for i in range(5)]
    if model is not None:
        models.append(model)
    for m in models:
        case = f"the model `{m.name}` ({len(m.layers)} layers)"
        got, delegated = calls_to(count_model, [count_macs, layer_macs], m, case=case)
        if delegated:
            raise fail(
                "count_model",
                case,
                "parameters and MACs added up from your conv / dense formulas",
                "a call to utils.measure.macs (count_macs or layer_macs)",
                "the exercise is to count with the formulas written above, layer by layer; "
                "utils.measure.macs is the reference this check compares with",
            )
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise fail("count_model", case, "a pair (parameters, MACs)", got)
        want = (int(m.count_params()), count_macs(m))
        if tuple(got)[0] != want[0]:
            raise fail(
                "count_model",
                case,
                f"{want[0]:,} parameters (model.count_params())",
                got[0],
                "which layers have parameters, and does each count its biases and groups?",
            )
        if tuple(got)[1] != want[1]:
            raise fail(
                "count_model",
                case,
                f"{want[1]:,} MACs (utils.measure.macs.count_macs)",
                got[1],
                "a layer's MACs depend on its input channels, its OUTPUT size (after strides "
                "and padding) and its groups: which of these does your count miss?",
            )
    passed(f"`count_model` gives the parameters and MACs of {len(models)} models exactly.")
