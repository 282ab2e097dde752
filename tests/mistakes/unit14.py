"""Unit 14 (transfer learning): typical wrong answers and correct variants."""

from __future__ import annotations

import keras
import numpy as np

from mistakes import Exercise
from utils.checks import transfer_learning

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def preprocess_table(x, family):
    """Correct, written differently: a table of (scale, offset, channel order)."""
    x = np.array(x, dtype=np.float32)  # a copy: the input stays as it was
    if family == "resnet50":
        return np.flip(x, axis=-1) - MEAN_BGR
    scale, offset = {"mobilenet_v2": (2 / 255, -1.0), "efficientnet": (1.0, 0.0)}[family]
    return x * scale + offset


def _pre(mobilenet="ok", resnet="ok", in_place=False):
    def preprocess(x, family):
        x = x if in_place else np.asarray(x, dtype=np.float32)
        if family == "mobilenet_v2":
            return x / 255.0 if mobilenet == "0-1" else x / 127.5 - 1.0
        if family == "resnet50":
            if resnet == "rgb":
                return x - MEAN_BGR[::-1]
            if resnet == "no-flip":
                return x - MEAN_BGR
            return x[..., ::-1] - MEAN_BGR
        if in_place:
            x[...] = x  # noqa: PLW0127 - the uint8 input returned as it is
            x -= 0
            x[0, 0, 0, 0] = 0
            return x.astype(np.float32)
        return x.copy()

    return preprocess


def build_functional(backbone, n_classes, hidden=64, dropout=0.2):
    """Correct, written differently: freeze layer by layer, the head a nested Sequential whose
    activations are layers of their own."""
    for layer in backbone.layers:
        layer.trainable = False
    backbone.trainable = False
    head = keras.Sequential(
        [
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(hidden),
            keras.layers.ReLU(),
            keras.layers.Dropout(rate=dropout),
            keras.layers.Dense(n_classes),
            keras.layers.Softmax(),
        ]
    )
    inputs = keras.Input(backbone.input_shape[1:])
    return keras.Model(inputs, head(backbone(inputs, training=False)))


def _build(
    freeze=True,
    pool=True,
    softmax=True,
    order=("drop", "hidden", "drop"),
    relu=True,
    rate=None,
    units=None,
):
    """The exercise's model with one thing changed; `order` lists what comes between the
    pooling and the output layer."""

    def build(backbone, n_classes, hidden=64, dropout=0.2):
        backbone.trainable = not freeze
        inputs = keras.Input(backbone.input_shape[1:])
        x = backbone(inputs, training=False)
        x = keras.layers.GlobalAveragePooling2D()(x) if pool else x
        for step in order:
            if step == "drop":
                x = keras.layers.Dropout(dropout if rate is None else rate)(x)
            else:
                act = "relu" if relu else None
                x = keras.layers.Dense(units or hidden, activation=act)(x)
        act = "softmax" if softmax else None
        return keras.Model(inputs, keras.layers.Dense(n_classes, activation=act)(x))

    return build


def prepare_by_runs(model, backbone, n_top, learning_rate):
    """Correct, written differently: runs of equal block names counted from the end, Adam by
    keyword, freezing by a set of layers."""
    backbone.trainable = True
    seen, unfrozen = [], []
    for layer in reversed(backbone.layers):
        block = layer.name.partition("_")[0]
        if block not in seen:
            seen.append(block)
        if len(seen) > n_top:
            break
        unfrozen.append(layer)
    for layer in backbone.layers:
        layer.trainable = False
    for layer in unfrozen:
        if not isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
    )


def _prepare(
    bn_trainable=False,
    all_layers=False,
    no_recompile=False,
    lr_factor=1.0,
    by_layers=False,
    extra_blocks=0,
    prefix_length=None,
):
    def prepare(model, backbone, n_top, learning_rate):
        backbone.trainable = True
        if by_layers:  # the lecture's cut: the last n_top layers
            top = {id(layer) for layer in backbone.layers[-n_top:]}
        else:
            cut = (lambda n: n[:prefix_length]) if prefix_length else (lambda n: n.split("_")[0])
            blocks = list(dict.fromkeys(cut(layer.name) for layer in backbone.layers))
            chosen = set(blocks if all_layers else blocks[-(n_top + extra_blocks) :])
            top = {id(layer) for layer in backbone.layers if cut(layer.name) in chosen}
        for layer in backbone.layers:
            is_bn = isinstance(layer, keras.layers.BatchNormalization)
            layer.trainable = id(layer) in top and (bn_trainable or not is_bn)
        if not no_recompile:
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate * lr_factor),
                loss="sparse_categorical_crossentropy",
            )

    return prepare


EXERCISES = {
    "check_preprocessing": Exercise(
        run=transfer_learning.check_preprocessing,
        wrong={
            "mobilenet-scaled-to-0-1": (_pre(mobilenet="0-1"), r"expected|mobilenet"),
            "resnet-without-bgr-flip": (_pre(resnet="no-flip"), r"BGR|channel|order|expected"),
            "changes-the-input": (_pre(in_place=True), r"input|changed|copy"),
        },
        right={"scale-offset-table": preprocess_table},
    ),
    "check_transfer_model": Exercise(
        run=transfer_learning.check_transfer_model,
        wrong={
            "backbone-not-frozen": (_build(freeze=False), r"trainable|frozen"),
            "no-softmax": (_build(softmax=False), r"probabilities|softmax"),
            "no-pooling-before-dense": (_build(pool=False), r"shape|n_classes"),
            "lecture-head-without-mlp": (_build(order=()), r"after the backbone"),
            "no-dropout-on-pooled-features": (
                _build(order=("hidden", "drop")),
                r"after the backbone.*in its order",
            ),
            "dropout-after-the-output-order": (
                _build(order=("hidden", "drop", "drop")),
                r"after the backbone",
            ),
            "hidden-layer-without-relu": (_build(relu=False), r"ReLU"),
            "dropout-rate-fixed": (_build(rate=0.5), r"Dropout rate"),
            "hidden-size-fixed": (_build(units=128), r"Dense units.*hidden"),
        },
        right={"nested-sequential-head": build_functional},
    ),
    "check_fine_tuning": Exercise(
        run=lambda prepare: transfer_learning.check_fine_tuning(prepare, _build()),
        wrong={
            "batch-norm-unfrozen": (_prepare(bn_trainable=True), r"BatchNormalization"),
            "whole-backbone-unfrozen": (_prepare(all_layers=True), r"last n_top blocks"),
            "not-recompiled": (_prepare(no_recompile=True), r"compile"),
            "learning-rate-not-used": (_prepare(lr_factor=10.0), r"learning.rate"),
            "last-n-top-layers-not-blocks": (_prepare(by_layers=True), r"blocks, not layers"),
            "one-block-too-many": (_prepare(extra_blocks=1), r"last n_top blocks"),
            "block-as-fixed-length-prefix": (_prepare(prefix_length=7), r"block"),
        },
        right={"runs-from-the-end": prepare_by_runs},
    ),
}
