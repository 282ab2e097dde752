"""Unit 11's checks accept right answers and reject typical wrong ones, with useful messages."""

from __future__ import annotations

import math

import keras
import pytest

from utils.checks import CheckFailed, densenet_efficientnet
from utils.measure import published
from utils.measure.tables import without_weights

L = keras.layers


def _bottleneck(h, k, bias=False):
    h = L.Activation("relu")(L.BatchNormalization()(h))
    h = L.Conv2D(4 * k, 1, use_bias=bias)(h)
    h = L.Activation("relu")(L.BatchNormalization()(h))
    return L.Conv2D(k, 3, padding="same", use_bias=bias)(h)


def dense_block_list(x, n_layers, growth_rate):
    """Independent form: keep the list of all feature maps, concatenate it for every layer."""
    features = [x]
    for _ in range(n_layers):
        seen = features[0] if len(features) == 1 else L.Concatenate()(features)
        features.append(_bottleneck(seen, growth_rate))
    return features[0] if len(features) == 1 else L.Concatenate()(features)


def test_dense_block_check_accepts_a_correct_block(capsys):
    densenet_efficientnet.check_dense_block(dense_block_list)
    densenet_efficientnet.check_dense_block(dense_block_list, n_cases=6, seed=5)
    assert "PASSED" in capsys.readouterr().out


def _chain(x, n, k):  # a plain chain: each layer sees only the one before
    h = x
    for _ in range(n):
        h = _bottleneck(h, k)
    return L.Concatenate()([x, h])


def _input_last(x, n, k):
    for _ in range(n):
        x = L.Concatenate()([_bottleneck(x, k), x])
    return x


def _with_bias(x, n, k):
    for _ in range(n):
        x = L.Concatenate()([x, _bottleneck(x, k, bias=True)])
    return x


def _only_input(x, n, k):  # every layer reads the block input only
    return L.Concatenate()([x] + [_bottleneck(x, k) for _ in range(n)])


def _no_bottleneck(x, n, k):
    for _ in range(n):
        h = L.Activation("relu")(L.BatchNormalization()(x))
        x = L.Concatenate()([x, L.Conv2D(k, 3, padding="same", use_bias=False)(h)])
    return x


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (_chain, "output shape"),
        (_input_last, "elsewhere"),
        (_with_bias, "parameters"),
        (_only_input, "ALL earlier"),
        (_no_bottleneck, "parameters"),
        (lambda x, n, k: None, "return"),
        (lambda x, n, k: 3, "KerasTensor"),
    ],
    ids=["chain", "input-last", "biases", "input-only", "no-bottleneck", "none", "not-a-tensor"],
)
def test_dense_block_check_rejects_wrong_blocks(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        densenet_efficientnet.check_dense_block(wrong)


def transition_ok(x, compression=0.5):
    c = math.floor(x.shape[-1] * compression)
    h = L.Activation("relu")(L.BatchNormalization(epsilon=1e-5)(x))
    h = L.AveragePooling2D(2)(h)  # pooling first: the same numbers, 4x fewer MACs
    return L.Conv2D(c, 1, use_bias=False)(h)


def test_transition_check_accepts_a_correct_layer(capsys):
    densenet_efficientnet.check_transition_layer(transition_ok)
    densenet_efficientnet.check_transition_layer(transition_ok, n_cases=8, seed=11)
    assert "PASSED" in capsys.readouterr().out


def _transition(pool=L.AveragePooling2D, relu=True, bias=False, default=0.5):
    def fn(x, compression=default):
        h = L.BatchNormalization()(x)
        if relu:
            h = L.Activation("relu")(h)
        h = L.Conv2D(int(x.shape[-1] * compression), 1, use_bias=bias)(h)
        return pool(2)(h)

    return fn


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (_transition(pool=L.MaxPooling2D), "expected"),
        (_transition(relu=False), "expected"),
        (_transition(bias=True), "parameters"),
        (_transition(default=1.0), "output shape"),
    ],
    ids=["max-pool", "no-relu", "bias", "no-compression-by-default"],
)
def test_transition_check_rejects_wrong_layers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        densenet_efficientnet.check_transition_layer(wrong)


def scaling_ok(phi, alpha, beta, gamma, base_depth, base_width, base_resolution):
    depth = base_depth * math.exp(phi * math.log(alpha))
    width = base_width * math.exp(phi * math.log(beta))
    return depth, width, int(base_resolution * gamma**phi + 0.5)


def test_compound_scaling_check_accepts_a_correct_calculator(capsys):
    densenet_efficientnet.check_compound_scaling(scaling_ok)
    densenet_efficientnet.check_compound_scaling(scaling_ok, n_cases=20, seed=7)
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (
            lambda p, a, b, g, d, w, r: (
                d * (1 + p * (a - 1)),
                w * (1 + p * (b - 1)),
                round(r * (1 + p * (g - 1))),
            ),
            "exponential",
        ),
        (lambda p, a, b, g, d, w, r: (d * a**p, w * g**p, round(r * b**p)), "scales depth"),
        (lambda p, a, b, g, d, w, r: (d * a**p, w * b**p, r * g**p), "int"),
        (lambda p, a, b, g, d, w, r: (d * a**p, w * a**p, round(r * a**p)), "scales depth"),
        (lambda p, a, b, g, d, w, r: None, "return"),
    ],
    ids=["linear", "swapped-beta-gamma", "float-resolution", "alpha-everywhere", "none"],
)
def test_compound_scaling_check_rejects_wrong_calculators(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        densenet_efficientnet.check_compound_scaling(wrong)


@pytest.mark.parametrize(
    "check",
    [
        densenet_efficientnet.check_dense_block,
        densenet_efficientnet.check_transition_layer,
        densenet_efficientnet.check_compound_scaling,
    ],
    ids=["dense_block", "transition_layer", "compound_scaling"],
)
def test_an_unwritten_exercise_says_where_to_write(check):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        check(stub)


def test_keras_efficientnet_table_matches_keras():
    """The coefficients the check quotes are the ones Keras builds (widths via the head conv)."""
    for name, (width, _, resolution) in published.KERAS_EFFICIENTNET.items():
        if name == "B2":  # building all four is slow; the lecture reads them all
            with without_weights():
                model = getattr(keras.applications, f"EfficientNet{name}")(weights=None)
            assert model.input_shape[1] == resolution
            assert model.get_layer("top_conv").filters == round(1280 * width)
