"""Unit 10 (ResNet): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import tensorflow as tf

from mistakes import Exercise
from utils.checks import resnet

L = keras.layers


def _preact_identity(
    post_activation=False, final_relu=False, bias=False, shortcut="x", zero="last", inner_relu=True
):
    """A pre-activation identity block, or one typical mistake in it."""

    def preact_identity_block(x, zero_init=False):
        c = x.shape[-1]
        if post_activation:  # the lecture's basic block: conv -> BN -> ReLU, ReLU after Add
            y = L.ReLU()(L.BatchNormalization()(L.Conv2D(c, 3, padding="same", use_bias=False)(x)))
            y = L.Conv2D(c, 3, padding="same", use_bias=False)(y)
            y = L.BatchNormalization(gamma_initializer="zeros" if zero_init else "ones")(y)
            return L.ReLU()(L.Add()([x, y]))
        pre = L.ReLU()(L.BatchNormalization()(x))
        y = L.Conv2D(
            c,
            3,
            padding="same",
            use_bias=bias,
            kernel_initializer="zeros" if zero_init and zero == "first" else "glorot_uniform",
        )(pre)
        gamma = "zeros" if zero_init and zero == "gamma" else "ones"
        y = L.BatchNormalization(gamma_initializer=gamma)(y)
        y = L.ReLU()(y) if inner_relu else y
        y = L.Conv2D(
            c,
            3,
            padding="same",
            use_bias=bias,
            kernel_initializer="zeros" if zero_init and zero == "last" else "glorot_uniform",
        )(y)
        out = L.Add()([{"x": x, "pre": pre, "none": y}[shortcut], y])
        return L.ReLU()(out) if final_relu else out

    return preact_identity_block


def preact_identity_activation_layers(x, zero_init=False):
    """Correct, written differently: Activation layers, a loop, keras.layers.add, x second."""
    y = x
    for i in range(2):
        y = L.Activation("relu")(L.BatchNormalization()(y))
        init = keras.initializers.Zeros() if zero_init and i == 1 else "glorot_uniform"
        y = L.Conv2D(x.shape[-1], (3, 3), padding="same", use_bias=False, kernel_initializer=init)(
            y
        )
    return L.add([y, x])


def preact_identity_plus(x, zero_init=False):
    """Correct, written differently: keras.ops.relu and the `+` operator."""
    c = x.shape[-1]
    y = L.Conv2D(c, 3, padding="same", use_bias=False)(keras.ops.relu(L.BatchNormalization()(x)))
    y = keras.ops.relu(L.BatchNormalization()(y))
    last = L.Conv2D(c, 3, padding="same", use_bias=False, kernel_initializer="zeros")
    return x + (last(y) if zero_init else L.Conv2D(c, 3, padding="same", use_bias=False)(y))


def _preact_projection(
    shortcut_from="pre",
    shortcut_bn=False,
    final_relu=False,
    stride_second=False,
    shortcut_stride=True,
    shared_pre=True,
    zero="last",
    pre_bn=True,
):
    """A pre-activation projection block, or one typical mistake in it."""

    def preact_projection_block(x, filters, stride=2, zero_init=False):
        pre = L.ReLU()(L.BatchNormalization()(x) if pre_bn else x)
        pre_short = pre if shared_pre else L.ReLU()(L.BatchNormalization()(x))
        s = L.Conv2D(  # oneDNN: these checks run forward only
            filters, 1, strides=stride if shortcut_stride else 1, use_bias=False
        )({"pre": pre_short, "x": x}[shortcut_from])
        s = L.BatchNormalization()(s) if shortcut_bn else s
        y = L.Conv2D(
            filters, 3, strides=1 if stride_second else stride, padding="same", use_bias=False
        )(pre)
        gamma = "zeros" if zero_init and zero == "gamma" else "ones"
        y = L.ReLU()(L.BatchNormalization(gamma_initializer=gamma)(y))
        y = L.Conv2D(
            filters,
            3,
            strides=stride if stride_second else 1,
            padding="same",
            use_bias=False,
            kernel_initializer="zeros" if zero_init and zero == "last" else "glorot_uniform",
        )(y)
        out = L.Add()([s, y])
        return L.ReLU()(out) if final_relu else out

    return preact_projection_block


def preact_projection_branch_first(x, filters, stride=2, zero_init=False):
    """Correct, written differently: the branch first, tuples, Activation layers, Add order."""
    pre = L.Activation("relu")(L.BatchNormalization()(x))
    y = L.Conv2D(filters, (3, 3), strides=(stride, stride), padding="same", use_bias=False)(pre)
    y = L.Activation("relu")(L.BatchNormalization()(y))
    init = keras.initializers.Zeros() if zero_init else keras.initializers.GlorotUniform()
    y = L.Conv2D(filters, (3, 3), padding="same", use_bias=False, kernel_initializer=init)(y)
    s = L.Conv2D(filters, (1, 1), strides=(stride, stride), use_bias=False)(pre)  # oneDNN
    return L.add([y, s])


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
    "check_preact_identity_block": Exercise(
        run=resnet.check_preact_identity_block,
        wrong={
            "post-activation": (_preact_identity(post_activation=True), r"ends with the addition"),
            "relu-after-add": (_preact_identity(final_relu=True), r"ends with the addition"),
            "conv-biases": (_preact_identity(bias=True), r"use_bias=False"),
            "preactivated-shortcut": (_preact_identity(shortcut="pre"), r"adds x itself"),
            "no-shortcut": (_preact_identity(shortcut="none"), r"inputs is missing"),
            "zero-gamma-not-kernel": (_preact_identity(zero="gamma"), r"never learn"),
            "zero-first-kernel": (_preact_identity(zero="first"), r"never learn"),
            "no-relu-between-convolutions": (
                _preact_identity(inner_relu=False),
                r"on the branch .*layer 5 after x: ReLU\n  got: +Conv2D 3x3",
            ),
        },
        right={
            "activation-layers-loop": preact_identity_activation_layers,
            "ops-and-plus": preact_identity_plus,
        },
    ),
    "check_preact_projection_block": Exercise(
        run=resnet.check_preact_projection_block,
        wrong={
            "shortcut-from-x": (_preact_projection(shortcut_from="x"), r"pre-activated input"),
            "shortcut-with-bn": (_preact_projection(shortcut_bn=True), r"batch norm of its own"),
            "relu-after-add": (_preact_projection(final_relu=True), r"ends with the addition"),
            "stride-on-second-conv": (
                _preact_projection(stride_second=True),
                r"first convolution takes the stride",
            ),
            "shortcut-without-stride": (
                _preact_projection(shortcut_stride=False),
                r"hint: the tensors reaching Add",
            ),
            "two-preactivations": (_preact_projection(shared_pre=False), r"shared by the branch"),
            "zero-gamma-not-kernel": (_preact_projection(zero="gamma"), r"never learn"),
            "relu-without-batch-norm": (
                _preact_projection(pre_bn=False),
                r"on the branch .*layer 1 after x: BatchNormalization\n  got: +ReLU",
            ),
        },
        right={"branch-first": preact_projection_branch_first},
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
