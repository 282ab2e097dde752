"""The checks of unit 10 (ResNet) accept right answers and reject typical wrong ones."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from utils.checks import CheckFailed, resnet

L = keras.layers


def branch(x, filters, stride, zero_init):
    y = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    return L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)


def identity_block(x, zero_init=False):
    return L.Activation("relu")(L.Add()([branch(x, x.shape[-1], 1, zero_init), x]))


def projection_block(x, filters, stride=2, zero_init=False):
    shortcut = L.BatchNormalization()(L.Conv2D(filters, 1, strides=stride, use_bias=False)(x))
    return L.Activation("relu")(L.Add()([branch(x, filters, stride, zero_init), shortcut]))


def gradient_norms(model, x, y):
    weights = [layer.kernel for layer in model.layers if isinstance(layer, (L.Conv2D, L.Dense))]
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y, tf.int32), logits)
        )
    return [float(tf.norm(g)) for g in tape.gradient(loss, weights)]


def deep_net(n_blocks, residual, size=16, channels=16, classes=10):
    inputs = keras.Input((size, size, 3))
    x = L.Conv2D(channels, 3, padding="same", activation="relu")(inputs)
    for _ in range(n_blocks):
        y = L.Conv2D(channels, 3, padding="same")(x)
        y = L.Conv2D(channels, 3, padding="same")(L.Activation("relu")(y))
        x = L.Activation("relu")(L.Add()([y, x]) if residual else y)
    return keras.Model(inputs, L.Dense(classes)(L.GlobalAveragePooling2D()(x)))


def test_correct_answers_pass(capsys):
    resnet.check_identity_block(identity_block)
    resnet.check_projection_block(projection_block, seed=5)
    resnet.check_gradient_norms(gradient_norms)
    resnet.check_deep_net(deep_net)
    assert capsys.readouterr().out.count("PASSED") == 4


def identity_no_shortcut(x, zero_init=False):
    return L.Activation("relu")(branch(x, x.shape[-1], 1, zero_init))


def identity_zero_first_bn(x, zero_init=False):
    y = L.Conv2D(x.shape[-1], 3, padding="same", use_bias=False)(x)
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    y = L.Conv2D(x.shape[-1], 3, padding="same", use_bias=False)(L.Activation("relu")(y))
    return L.Activation("relu")(L.Add()([L.BatchNormalization()(y), x]))


def identity_no_final_relu(x, zero_init=False):
    return L.Add()([branch(x, x.shape[-1], 1, zero_init), x])


def identity_with_bias(x, zero_init=False):
    y = L.Conv2D(x.shape[-1], 3, padding="same")(x)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.Conv2D(x.shape[-1], 3, padding="same")(y)
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    return L.Activation("relu")(L.Add()([y, x]))


@pytest.mark.parametrize(
    "fn", [identity_no_shortcut, identity_zero_first_bn, identity_no_final_relu, identity_with_bias]
)
def test_identity_check_rejects(fn):
    with pytest.raises(CheckFailed):
        resnet.check_identity_block(fn)


def projection_pool_shortcut(x, filters, stride=2, zero_init=False):
    shortcut = L.Conv2D(filters, 1, use_bias=False)(L.MaxPooling2D(stride, padding="same")(x))
    shortcut = L.BatchNormalization()(shortcut)
    return L.Activation("relu")(L.Add()([branch(x, filters, stride, zero_init), shortcut]))


def projection_zero_shortcut_bn(x, filters, stride=2, zero_init=False):
    shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
    shortcut = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(shortcut)
    return L.Activation("relu")(L.Add()([branch(x, filters, stride, False), shortcut]))


def projection_stride_on_second(x, filters, stride=2, zero_init=False):
    y = L.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(y)
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    shortcut = L.BatchNormalization()(L.Conv2D(filters, 1, strides=stride, use_bias=False)(x))
    return L.Activation("relu")(L.Add()([y, shortcut]))


@pytest.mark.parametrize(
    "fn", [projection_pool_shortcut, projection_zero_shortcut_bn, projection_stride_on_second]
)
def test_projection_check_rejects(fn):
    with pytest.raises(CheckFailed):
        resnet.check_projection_block(fn)


def norms_of_sum(model, x, y):
    weights = [layer.kernel for layer in model.layers if isinstance(layer, (L.Conv2D, L.Dense))]
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_sum(
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y, tf.int32), logits)
        )
    return [float(tf.norm(g)) for g in tape.gradient(loss, weights)]


def norms_reversed(model, x, y):
    return gradient_norms(model, x, y)[::-1]


def norms_with_biases(model, x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y, tf.int32), logits)
        )
    return [float(tf.norm(g)) for g in tape.gradient(loss, model.trainable_weights)]


@pytest.mark.parametrize("fn", [norms_of_sum, norms_reversed, norms_with_biases])
def test_gradient_check_rejects(fn):
    with pytest.raises(CheckFailed):
        resnet.check_gradient_norms(fn)


def deep_net_softmax(n_blocks, residual, size=16, channels=16, classes=10):
    model = deep_net(n_blocks, residual, size, channels, classes)
    return keras.Model(model.input, L.Softmax()(model.output))


def deep_net_always_residual(n_blocks, residual, size=16, channels=16, classes=10):
    return deep_net(n_blocks, True, size, channels, classes)


def deep_net_relu_before_add(n_blocks, residual, size=16, channels=16, classes=10):
    inputs = keras.Input((size, size, 3))
    x = L.Conv2D(channels, 3, padding="same", activation="relu")(inputs)
    for _ in range(n_blocks):
        y = L.Conv2D(channels, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(channels, 3, padding="same", activation="relu")(y)
        x = L.Add()([y, x]) if residual else y
    return keras.Model(inputs, L.Dense(classes)(L.GlobalAveragePooling2D()(x)))


@pytest.mark.parametrize(
    "fn", [deep_net_softmax, deep_net_always_residual, deep_net_relu_before_add]
)
def test_deep_net_check_rejects(fn):
    with pytest.raises(CheckFailed):
        resnet.check_deep_net(fn)


def test_stub_says_where_to_write():
    def identity_block(x, zero_init=False):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        resnet.check_identity_block(identity_block)
