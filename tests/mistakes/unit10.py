"""Unit 10 (ResNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import tensorflow as tf

from mistakes import Exercise
from utils.checks import resnet

L = keras.layers


def _identity(inner_relu=True, final_relu=True, zero_last=True, bias=False, add_x=True):
    def identity_block(x, zero_init=False):
        c = x.shape[-1]
        y = L.BatchNormalization()(L.Conv2D(c, 3, padding="same", use_bias=bias)(x))
        y = L.ReLU()(y) if inner_relu else y
        y = L.Conv2D(c, 3, padding="same", use_bias=bias)(y)
        zero = zero_init and zero_last
        y = L.BatchNormalization(gamma_initializer="zeros" if zero else "ones")(y)
        out = L.Add()([x, y]) if add_x else L.Add()([y, y])
        return L.ReLU()(out) if final_relu else out

    return identity_block


def identity_activation_layers(x, zero_init=False):
    """Correct, written differently: Activation("relu") layers, keras.layers.add."""
    c = x.shape[-1]
    y = L.Conv2D(c, (3, 3), padding="same", use_bias=False)(x)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    y = L.Conv2D(c, (3, 3), padding="same", use_bias=False)(y)
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    return L.Activation("relu")(L.add([y, x]))


def _projection(inner_relu=True, shortcut_stride=True, shortcut_bn=True, stride_second=False):
    def projection_block(x, filters, stride=2, zero_init=False):
        s = L.Conv2D(filters, 1, strides=stride if shortcut_stride else 1, use_bias=False)(x)
        s = L.BatchNormalization()(s) if shortcut_bn else s
        y = L.Conv2D(
            filters, 3, strides=1 if stride_second else stride, padding="same", use_bias=False
        )(x)
        y = L.BatchNormalization()(y)
        y = L.ReLU()(y) if inner_relu else y
        y = L.Conv2D(
            filters, 3, strides=stride if stride_second else 1, padding="same", use_bias=False
        )(y)
        y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
        return L.ReLU()(L.Add()([s, y]))

    return projection_block


def projection_branch_first(x, filters, stride=2, zero_init=False):
    """Correct, written differently: the branch first, the shortcut second, Add order swapped."""
    y = L.Conv2D(filters, 3, strides=(stride, stride), padding="same", use_bias=False)(x)
    y = L.ReLU()(L.BatchNormalization()(y))
    y = L.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
    s = L.BatchNormalization()(L.Conv2D(filters, 1, strides=(stride, stride), use_bias=False)(x))
    return L.ReLU()(L.Add()([y, s]))


def norms_loop(model, x, y):
    """Correct, written differently: the loss function by name, trainable kernels by path."""
    kernels = [ly.kernel for ly in model.layers if getattr(ly, "kernel", None) is not None]
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        )
    return [float(tf.sqrt(tf.reduce_sum(g**2))) for g in tape.gradient(loss, kernels)]


def _norms(from_logits=True, reduce="mean", order=1, square=False):
    def gradient_norms(model, x, y):
        kernels = [ly.kernel for ly in model.layers if hasattr(ly, "kernel")]
        with tf.GradientTape() as tape:
            per = keras.losses.sparse_categorical_crossentropy(
                y, model(x, training=True), from_logits=from_logits
            )
            loss = tf.reduce_mean(per) if reduce == "mean" else tf.reduce_sum(per)
        norms = [float(tf.norm(g) ** (2 if square else 1)) for g in tape.gradient(loss, kernels)]
        return norms[::order]

    return gradient_norms


def deep_net_loop(n_blocks, residual, size=16, channels=16, classes=10):
    """Correct, written differently: blocks as a helper, ReLU layers apart."""
    inputs = keras.Input((size, size, 3))
    x = L.ReLU()(L.Conv2D(channels, 3, padding="same")(inputs))
    for _ in range(n_blocks):
        y = L.ReLU()(L.Conv2D(channels, 3, padding="same")(x))
        y = L.Conv2D(channels, 3, padding="same")(y)
        x = L.ReLU()(L.add([y, x]) if residual else y)
    return keras.Model(inputs, L.Dense(classes)(L.GlobalAveragePooling2D()(x)))


def _deep(inner_relu=True, softmax=False, shortcut_on_plain=False, flatten=False):
    def deep_net(n_blocks, residual, size=16, channels=16, classes=10):
        inputs = keras.Input((size, size, 3))
        x = L.Conv2D(channels, 3, padding="same", activation="relu")(inputs)
        for _ in range(n_blocks):
            y = L.Conv2D(channels, 3, padding="same", activation="relu" if inner_relu else None)(x)
            y = L.Conv2D(channels, 3, padding="same")(y)
            x = L.ReLU()(L.Add()([x, y]) if residual or shortcut_on_plain else y)
        x = L.Flatten()(x) if flatten else L.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, L.Dense(classes, activation="softmax" if softmax else None)(x))

    return deep_net


EXERCISES = {
    "check_identity_block": Exercise(
        run=resnet.check_identity_block,
        wrong={
            "no-inner-relu": (_identity(inner_relu=False), r"nonlinearity"),
            "no-final-relu": (_identity(final_relu=False), r"nonlinearity|relu"),
            "conv-biases": (_identity(bias=True), r"use_bias=False"),
            "no-shortcut": (_identity(add_x=False), r"identity shortcut|Add"),
        },
        right={"activation-layers": identity_activation_layers},
    ),
    "check_projection_block": Exercise(
        run=resnet.check_projection_block,
        wrong={
            "no-inner-relu": (_projection(inner_relu=False), r"nonlinearity"),
            "shortcut-without-stride": (
                _projection(shortcut_stride=False),
                r"hint: the tensors reaching Add",
            ),
            "shortcut-without-bn": (_projection(shortcut_bn=False), r"parameters"),
            "stride-on-second-conv": (_projection(stride_second=True), r"Conv2D|strides"),
        },
        right={"branch-first": projection_branch_first},
    ),
    "check_gradient_norms": Exercise(
        run=resnet.check_gradient_norms,
        wrong={
            "logits-as-probabilities": (_norms(from_logits=False), r"expected|norm"),
            "summed-loss": (_norms(reduce="sum"), r"expected|norm|times"),
            "output-side-first": (_norms(order=-1), r"expected|order|input side"),
            "squared-norms": (_norms(square=True), r"expected|norm"),
        },
        right={"by-name": norms_loop},
    ),
    "check_deep_net": Exercise(
        run=resnet.check_deep_net,
        wrong={
            "no-inner-relu": (_deep(inner_relu=False), r"expected|relu|nonlinear"),
            "softmax-output": (_deep(softmax=True), r"logits|softmax|expected"),
            "plain-with-shortcut": (_deep(shortcut_on_plain=True), r"Add"),
            "flatten-not-gap": (_deep(flatten=True), r"parameters|expected"),
        },
        right={"helper-and-relu-layers": deep_net_loop},
    ),
}
