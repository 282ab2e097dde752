"""The checks of unit 10 (ResNet) accept right answers and reject typical wrong ones."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from utils.checks import CheckFailed, resnet

L = keras.layers


def preact_branch(pre, filters, stride, zero_init):
    """conv3x3 (stride) -> BN -> ReLU -> conv3x3 (kernel at 0 if zero_init), from `pre`."""
    y = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(pre)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    init = "zeros" if zero_init else "glorot_uniform"
    return L.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer=init)(y)


def preactivate(x):
    return L.Activation("relu")(L.BatchNormalization()(x))


def preact_identity_block(x, zero_init=False):
    return L.Add()([preact_branch(preactivate(x), x.shape[-1], 1, zero_init), x])


def preact_projection_block(x, filters, stride=2, zero_init=False):
    pre = preactivate(x)
    shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False)(pre)  # oneDNN: forward only
    return L.Add()([preact_branch(pre, filters, stride, zero_init), shortcut])


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
    resnet.check_preact_identity_block(preact_identity_block)
    resnet.check_preact_projection_block(preact_projection_block, seed=5)
    resnet.check_gradient_norms(gradient_norms)
    resnet.check_deep_net(deep_net)
    assert capsys.readouterr().out.count("PASSED") == 4


def lecture_basic_block(x, zero_init=False):
    """The lecture's post-activation block: right shapes and parameters, wrong order."""
    c = x.shape[-1]
    y = L.Conv2D(c, 3, padding="same", use_bias=False)(x)
    y = L.Conv2D(c, 3, padding="same", use_bias=False)(L.ReLU()(L.BatchNormalization()(y)))
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    return L.ReLU()(L.Add()([x, y]))


def identity_dilated(x, zero_init=False):
    """Right layers in the right order; a dilated convolution computes something else."""
    y = L.Conv2D(x.shape[-1], 3, padding="same", dilation_rate=2, use_bias=False)(preactivate(x))
    y = L.Activation("relu")(L.BatchNormalization()(y))
    init = "zeros" if zero_init else "glorot_uniform"
    y = L.Conv2D(x.shape[-1], 3, padding="same", use_bias=False, kernel_initializer=init)(y)
    return L.Add()([x, y])


def identity_zero_everywhere(x, zero_init=False):
    init = "zeros" if zero_init else "glorot_uniform"
    pre = preactivate(x)
    y = L.Conv2D(x.shape[-1], 3, padding="same", use_bias=False, kernel_initializer=init)(pre)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.Conv2D(x.shape[-1], 3, padding="same", use_bias=False, kernel_initializer=init)(y)
    return L.Add()([x, y])


def identity_never_zero(x, zero_init=False):
    return preact_identity_block(x, zero_init=False)


@pytest.mark.parametrize(
    "fn, message",
    [
        (lecture_basic_block, "ends with the addition"),
        (identity_dilated, "the same outputs"),
        (identity_zero_everywhere, "never learn"),
        (identity_never_zero, "starts the branch's last convolution's kernel at 0"),
    ],
)
def test_identity_check_rejects(fn, message):
    with pytest.raises(CheckFailed, match=message):
        resnet.check_preact_identity_block(fn)


def projection_pool_shortcut(x, filters, stride=2, zero_init=False):
    pre = preactivate(x)
    shortcut = L.Conv2D(filters, 1, use_bias=False)(L.MaxPooling2D(stride, padding="same")(pre))
    return L.Add()([preact_branch(pre, filters, stride, zero_init), shortcut])


def projection_leaky(x, filters, stride=2, zero_init=False):
    pre = L.LeakyReLU(0.1)(L.BatchNormalization()(x))
    shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False)(pre)  # oneDNN: forward only
    return L.Add()([preact_branch(pre, filters, stride, zero_init), shortcut])


def projection_not_equal_to_shortcut(x, filters, stride=2, zero_init=False):
    """Zero kernel and structure right, but the shortcut reads BN(x) before its ReLU."""
    bn = L.BatchNormalization()(x)
    pre = L.Activation("relu")(bn)
    shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False)(bn)  # oneDNN: forward only
    return L.Add()([preact_branch(pre, filters, stride, zero_init), shortcut])


@pytest.mark.parametrize(
    "fn, message",
    [
        (projection_pool_shortcut, "the layers on each path"),
        (projection_leaky, "the layers on each path"),
        (projection_not_equal_to_shortcut, "the layers on each path"),
    ],
)
def test_projection_check_rejects(fn, message):
    with pytest.raises(CheckFailed, match=message):
        resnet.check_preact_projection_block(fn)


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
    def preact_identity_block(x, zero_init=False):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="YOUR CODE HERE"):
        resnet.check_preact_identity_block(preact_identity_block)


def identity_relu_after_add(x, zero_init=False):
    return L.ReLU()(preact_identity_block(x, zero_init))


@pytest.mark.parametrize(
    "fn, expected, got",
    [
        (lecture_basic_block, "layer 1 after x: BatchNormalization", "Conv2D 3x3"),
        (
            identity_relu_after_add,
            "layer 8 after x: nothing (the path has reached the output)",
            "ReLU",
        ),
    ],
)
def test_layer_order_failure_names_the_first_difference_not_the_answer(fn, expected, got):
    with pytest.raises(CheckFailed) as err:
        resnet.check_preact_identity_block(fn)
    message = str(err.value)
    assert f"expected: on the branch (the path through the 3x3 convolutions), {expected}" in message
    assert f"got:      {got}\n" in message
    assert "->" not in message  # no path is written out, the check's own least of all
    assert message.count("BatchNormalization") <= 1
