"""Unit 11's checks accept right answers and reject typical wrong ones, with useful messages."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from utils.checks import CheckFailed, densenet_efficientnet
from utils.measure import published
from utils.measure.tables import without_weights

L = keras.layers


def _layer(h, k, bottleneck=4, bias=False):
    """One dense layer: [BN -> ReLU -> 1x1 conv to bottleneck * k] -> BN -> ReLU -> 3x3 conv."""
    if bottleneck is not None:
        h = L.Activation("relu")(L.BatchNormalization()(h))
        h = L.Conv2D(bottleneck * k, 1, use_bias=bias)(h)
    h = L.Activation("relu")(L.BatchNormalization()(h))
    return L.Conv2D(k, 3, padding="same", use_bias=bias)(h)


def dense_block_list(x, n_layers, growth_rate, bottleneck=4):
    """Independent form: keep the list of all feature maps, concatenate it for every layer."""
    features = [x]
    for _ in range(n_layers):
        seen = features[0] if len(features) == 1 else L.Concatenate()(features)
        features.append(_layer(seen, growth_rate, bottleneck))
    return features[0] if len(features) == 1 else L.Concatenate()(features)


def test_dense_block_check_accepts_a_correct_block(capsys):
    densenet_efficientnet.check_dense_block(dense_block_list)
    densenet_efficientnet.check_dense_block(dense_block_list, n_cases=6, seed=5)
    assert "PASSED" in capsys.readouterr().out


def test_dense_block_cases_cover_both_kinds_of_layer():
    kinds = {case[-1] for case in densenet_efficientnet.dense_block_cases(4, seed=0)}
    assert {densenet_efficientnet.DEFAULT, None} <= kinds and any(isinstance(b, int) for b in kinds)


def test_dense_layer_params_matches_keras():
    for bottleneck in (None, 1, 4):
        x = keras.Input((5, 5, 7))
        model = keras.Model(x, _layer(x, 3, bottleneck))
        assert model.count_params() == densenet_efficientnet.dense_layer_params(7, 3, bottleneck)


def _chain(x, n, k, bottleneck=4):  # a plain chain: each layer sees only the one before
    h = x
    for _ in range(n):
        h = _layer(h, k, bottleneck)
    return L.Concatenate()([x, h])


def _input_last(x, n, k, bottleneck=4):
    for _ in range(n):
        x = L.Concatenate()([_layer(x, k, bottleneck), x])
    return x


def _with_bias(x, n, k, bottleneck=4):
    for _ in range(n):
        x = L.Concatenate()([x, _layer(x, k, bottleneck, bias=True)])
    return x


def _only_input(x, n, k, bottleneck=4):  # every layer reads the block input only
    return L.Concatenate()([x] + [_layer(x, k, bottleneck) for _ in range(n)])


def _bottleneck_ignored(x, n, k, bottleneck=4):
    for _ in range(n):
        x = L.Concatenate()([x, _layer(x, k)])
    return x


def _never_bottleneck(x, n, k, bottleneck=4):
    for _ in range(n):
        x = L.Concatenate()([x, _layer(x, k, None)])
    return x


def _lecture_signature(x, n, k):
    return _bottleneck_ignored(x, n, k)


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (_chain, "output shape"),
        (_input_last, "elsewhere"),
        (_with_bias, "parameters"),
        (_only_input, "ALL earlier"),
        (_bottleneck_ignored, "no 1x1 convolution"),
        (_never_bottleneck, "1x1 bottleneck convolution"),
        (_lecture_signature, "accept `bottleneck`"),
        (lambda x, n, k, bottleneck=4: None, "return"),
        (lambda x, n, k, bottleneck=4: 3, "KerasTensor"),
    ],
    ids=[
        "chain",
        "input-last",
        "biases",
        "input-only",
        "bottleneck-ignored",
        "never-bottleneck",
        "no-bottleneck-argument",
        "none",
        "not-a-tensor",
    ],
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


def _transition(pool=L.AveragePooling2D, relu=True, bias=False, default=0.5, pool_first=True):
    def fn(x, compression=default):
        h = L.BatchNormalization()(x)
        if relu:
            h = L.Activation("relu")(h)
        conv = L.Conv2D(int(x.shape[-1] * compression), 1, use_bias=bias)
        return conv(pool(2)(h)) if pool_first else pool(2)(conv(h))

    return fn


@pytest.mark.parametrize(
    "wrong, expect",
    [
        (_transition(pool=L.MaxPooling2D), "expected"),
        (_transition(relu=False), "nonlinearity"),
        (_transition(bias=True), "parameters"),
        (_transition(default=1.0), "output shape"),
        (_transition(pool_first=False), "MACs"),
    ],
    ids=["max-pool", "no-relu", "bias", "no-compression-by-default", "conv-then-pool"],
)
def test_transition_check_rejects_wrong_layers(wrong, expect):
    with pytest.raises(CheckFailed, match=expect):
        densenet_efficientnet.check_transition_layer(wrong)


def test_numpy_transition_is_the_same_pooled_first():
    """The reference's order (conv, then pool) and the lab's (pool, then conv) agree."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 5))
    bn = (np.ones(5), np.zeros(5), np.zeros(5), np.ones(5), 0.0)
    kernel = rng.standard_normal((1, 1, 5, 3))
    pooled = np.maximum(x, 0)[:, :6].reshape(2, 3, 2, 3, 2, 5).mean(axis=(2, 4))
    got = densenet_efficientnet._numpy_transition(x, bn, kernel)
    np.testing.assert_allclose(got, pooled @ kernel[0, 0], rtol=1e-12, atol=1e-12)


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
